//! The common application model of WSO2's identity framework
//! (`http://model.common.application.identity.carbon.wso2.org/xsd`), shared by the service
//! provider and identity provider services of IS and APIM.
//!
//! Every type carries every field of its WSDL complex type in every vendored version of the
//! framework's WSDLs (carbon-identity-framework 5.14.97 of IS 5.9 / APIM 3.0, 5.17.5 of IS 5.10 /
//! APIM 3.1-3.2, 5.18.187 of IS 5.11 / APIM 4.0-4.1, 5.24.8 of IS 6.0 / APIM 4.2, 5.25.92 of IS
//! 6.1, 5.25.682 of APIM 4.3-4.5 and framework 7.0.0), in WSDL order (the order of the union: each
//! version's sequence is alphabetical), so that a value read from any of those servers and sent
//! back loses nothing. Fields the server may omit are `Option`s and are not written when `None`
//! (an older server may refuse an element its WSDL lacks: a field newer than the server's
//! version is only sent when set); repeated elements are `Vec`s (an absent list reads as empty).
//! Where a field appeared after 5.14.97, its documentation says in which version.
//!
//! Not modelled: `InboundAuthenticationRequestConfig.inboundConfigurationProtocol` (5.25.682), an
//! abstract type with no concrete subtype in the WSDL: no value of it can be written that
//! validates, and `getApplication` does not fill it (it carries a protocol configuration into
//! API-based application creation).

use serde::{Deserialize, Serialize};

use crate::carbon::secret::PropertyValue;
use crate::carbon::xml::{
    Child, DecodeError, Ns, XmlField, XmlModel, XmlReader, XmlValue, XmlWriter, ns, read_model,
    xml_model,
};

xml_model! {
    /// A claim reference (`Claim`).
    pub struct Claim in ns::MODEL {
        /// Numeric id of the claim (server-assigned).
        pub claim_id: Option<i32> = "claimId",
        /// The claim URI, e.g. `http://wso2.org/claims/role`.
        pub claim_uri: Option<String> = "claimUri",
    }
}

impl Claim {
    /// A claim reference by URI.
    pub fn uri(uri: impl Into<String>) -> Self {
        Self {
            claim_id: None,
            claim_uri: Some(uri.into()),
        }
    }
}

xml_model! {
    /// A mapping between a local and a remote claim (`ClaimMapping`).
    pub struct ClaimMapping in ns::MODEL {
        /// Value used when the claim has none.
        pub default_value: Option<String> = "defaultValue",
        /// The local (server-side) claim.
        pub local_claim: Option<Claim> = "localClaim",
        /// Whether the claim is mandatory.
        pub mandatory: Option<bool> = "mandatory",
        /// The claim as named towards the other party.
        pub remote_claim: Option<Claim> = "remoteClaim",
        /// Whether the claim is requested.
        pub requested: Option<bool> = "requested",
    }
}

xml_model! {
    /// Claim configuration of a service or identity provider (`ClaimConfig`).
    pub struct ClaimConfig in ns::MODEL {
        /// Send the mapped local subject identifier.
        pub always_send_mapped_local_subject_id: Option<bool> = "alwaysSendMappedLocalSubjectId",
        /// Claim mappings.
        pub claim_mappings: Vec<ClaimMapping> = "claimMappings",
        /// Claims known on the identity provider side.
        pub idp_claims: Vec<Claim> = "idpClaims",
        /// Whether the local claim dialect is used.
        pub local_claim_dialect: Option<bool> = "localClaimDialect",
        /// Whether a mapped local subject is mandatory (framework 5.25.682).
        pub mapped_local_subject_mandatory: Option<bool> = "mappedLocalSubjectMandatory",
        /// The claim that carries roles.
        pub role_claim_uri: Option<String> = "roleClaimURI",
        /// Service provider claim dialects.
        pub sp_claim_dialects: Vec<String> = "spClaimDialects",
        /// The claim that carries the user id.
        pub user_claim_uri: Option<String> = "userClaimURI",
    }
}

/// A configuration property (`Property`) of an authenticator, connector or inbound
/// configuration.
///
/// Its value is held as a secret when the property is confidential or its name says it holds a
/// secret (see [`PropertyValue::is_secret_property`]), both when read from the server and when
/// deserialised.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Property {
    /// Shown under "advanced" in the console.
    #[serde(rename = "advanced", skip_serializing_if = "Option::is_none")]
    pub advanced: Option<bool>,
    /// Whether the value is confidential (the console masks it).
    #[serde(rename = "confidential", skip_serializing_if = "Option::is_none")]
    pub confidential: Option<bool>,
    /// Default value.
    #[serde(rename = "defaultValue", skip_serializing_if = "Option::is_none")]
    pub default_value: Option<String>,
    /// Description.
    #[serde(rename = "description", skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Display name.
    #[serde(rename = "displayName", skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Display order.
    #[serde(rename = "displayOrder", skip_serializing_if = "Option::is_none")]
    pub display_order: Option<i32>,
    /// Group of the property in the console (framework 5.24.8).
    #[serde(rename = "groupId", skip_serializing_if = "Option::is_none")]
    pub group_id: Option<i32>,
    /// The property key, e.g. `ClientId`.
    #[serde(rename = "name", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Allowed values (framework 5.17.5).
    #[serde(rename = "options", skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// A pattern the value must match (framework 5.17.5).
    #[serde(rename = "regex", skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// Whether a value is required.
    #[serde(rename = "required", skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// Dependent properties (framework 5.17.5).
    #[serde(rename = "subProperties", skip_serializing_if = "Vec::is_empty")]
    pub sub_properties: Vec<SubProperty>,
    /// Value type.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    /// The value; a secret for confidential properties.
    #[serde(rename = "value", skip_serializing_if = "Option::is_none")]
    pub value: Option<PropertyValue>,
}

impl Property {
    /// A property with a plain value.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            value: Some(PropertyValue::Plain(value.into())),
            ..Self::default()
        }
    }

    /// A confidential property holding a secret.
    pub fn secret(name: impl Into<String>, value: impl Into<crate::Secret>) -> Self {
        Self {
            name: Some(name.into()),
            confidential: Some(true),
            value: Some(PropertyValue::Secret(value.into())),
            ..Self::default()
        }
    }

    /// The value as text; a secret's value is exposed (explicitly, by calling this).
    pub fn value_str(&self) -> Option<&str> {
        self.value.as_ref().and_then(PropertyValue::expose)
    }

    /// Whether this property holds a secret.
    pub fn is_secret(&self) -> bool {
        PropertyValue::is_secret_property(self.name.as_deref(), self.confidential)
    }

    fn classify(&mut self) {
        if self.is_secret() {
            self.value = self.value.take().map(PropertyValue::into_secret);
        }
    }
}

impl XmlModel for Property {
    fn write_fields(&self, w: &mut XmlWriter) {
        let n = ns::MODEL;
        self.advanced.write_field(w, n, "advanced");
        self.confidential.write_field(w, n, "confidential");
        self.default_value.write_field(w, n, "defaultValue");
        self.description.write_field(w, n, "description");
        self.display_name.write_field(w, n, "displayName");
        self.display_order.write_field(w, n, "displayOrder");
        self.group_id.write_field(w, n, "groupId");
        self.name.write_field(w, n, "name");
        self.options.write_field(w, n, "options");
        self.regex.write_field(w, n, "regex");
        self.required.write_field(w, n, "required");
        self.sub_properties.write_field(w, n, "subProperties");
        self.r#type.write_field(w, n, "type");
        self.value.write_field(w, n, "value");
    }

    fn read_child(&mut self, r: &mut XmlReader<'_>, child: &Child) -> Result<bool, DecodeError> {
        match child.local.as_str() {
            "advanced" => self.advanced.read_field(r, child)?,
            "confidential" => self.confidential.read_field(r, child)?,
            "defaultValue" => self.default_value.read_field(r, child)?,
            "description" => self.description.read_field(r, child)?,
            "displayName" => self.display_name.read_field(r, child)?,
            "displayOrder" => self.display_order.read_field(r, child)?,
            "groupId" => self.group_id.read_field(r, child)?,
            "name" => self.name.read_field(r, child)?,
            "options" => self.options.read_field(r, child)?,
            "regex" => self.regex.read_field(r, child)?,
            "required" => self.required.read_field(r, child)?,
            "subProperties" => self.sub_properties.read_field(r, child)?,
            "type" => self.r#type.read_field(r, child)?,
            // Read as a secret right away when the name or flag came first (WSDL order);
            // `classify` covers answers in any other order.
            "value" => {
                let secret = self.is_secret();
                PropertyValue::read_field_as(&mut self.value, r, child, secret)?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl XmlValue for Property {
    fn write_element(&self, w: &mut XmlWriter, ns: Ns, name: &'static str) {
        w.start(ns, name);
        self.write_fields(w);
        w.end(ns, name);
    }
    fn read_element(r: &mut XmlReader<'_>) -> Result<Self, DecodeError> {
        let mut p: Self = read_model(r)?;
        p.classify();
        Ok(p)
    }
    fn is_vacant(&self) -> bool {
        *self == Self::default()
    }
}

/// A dependent property of a [`Property`] (`SubProperty`, framework 5.17.5). Its value is held
/// as a secret on the same terms as a property's.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct SubProperty {
    /// Shown under "advanced" in the console.
    #[serde(rename = "advanced", skip_serializing_if = "Option::is_none")]
    pub advanced: Option<bool>,
    /// Whether the value is confidential.
    #[serde(rename = "confidential", skip_serializing_if = "Option::is_none")]
    pub confidential: Option<bool>,
    /// Default value.
    #[serde(rename = "defaultValue", skip_serializing_if = "Option::is_none")]
    pub default_value: Option<String>,
    /// Description.
    #[serde(rename = "description", skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Display name.
    #[serde(rename = "displayName", skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Display order.
    #[serde(rename = "displayOrder", skip_serializing_if = "Option::is_none")]
    pub display_order: Option<i32>,
    /// The key.
    #[serde(rename = "name", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Allowed values.
    #[serde(rename = "options", skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// A pattern the value must match.
    #[serde(rename = "regex", skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// Whether a value is required.
    #[serde(rename = "required", skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// Value type.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    /// The value; a secret for confidential sub-properties.
    #[serde(rename = "value", skip_serializing_if = "Option::is_none")]
    pub value: Option<PropertyValue>,
}

impl SubProperty {
    /// Whether this sub-property holds a secret.
    pub fn is_secret(&self) -> bool {
        PropertyValue::is_secret_property(self.name.as_deref(), self.confidential)
    }

    fn classify(&mut self) {
        if self.is_secret() {
            self.value = self.value.take().map(PropertyValue::into_secret);
        }
    }
}

impl XmlModel for SubProperty {
    fn write_fields(&self, w: &mut XmlWriter) {
        let n = ns::MODEL;
        self.advanced.write_field(w, n, "advanced");
        self.confidential.write_field(w, n, "confidential");
        self.default_value.write_field(w, n, "defaultValue");
        self.description.write_field(w, n, "description");
        self.display_name.write_field(w, n, "displayName");
        self.display_order.write_field(w, n, "displayOrder");
        self.name.write_field(w, n, "name");
        self.options.write_field(w, n, "options");
        self.regex.write_field(w, n, "regex");
        self.required.write_field(w, n, "required");
        self.r#type.write_field(w, n, "type");
        self.value.write_field(w, n, "value");
    }

    fn read_child(&mut self, r: &mut XmlReader<'_>, child: &Child) -> Result<bool, DecodeError> {
        match child.local.as_str() {
            "advanced" => self.advanced.read_field(r, child)?,
            "confidential" => self.confidential.read_field(r, child)?,
            "defaultValue" => self.default_value.read_field(r, child)?,
            "description" => self.description.read_field(r, child)?,
            "displayName" => self.display_name.read_field(r, child)?,
            "displayOrder" => self.display_order.read_field(r, child)?,
            "name" => self.name.read_field(r, child)?,
            "options" => self.options.read_field(r, child)?,
            "regex" => self.regex.read_field(r, child)?,
            "required" => self.required.read_field(r, child)?,
            "type" => self.r#type.read_field(r, child)?,
            "value" => {
                let secret = self.is_secret();
                PropertyValue::read_field_as(&mut self.value, r, child, secret)?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl XmlValue for SubProperty {
    fn write_element(&self, w: &mut XmlWriter, ns: Ns, name: &'static str) {
        w.start(ns, name);
        self.write_fields(w);
        w.end(ns, name);
    }
    fn read_element(r: &mut XmlReader<'_>) -> Result<Self, DecodeError> {
        let mut p: Self = read_model(r)?;
        p.classify();
        Ok(p)
    }
    fn is_vacant(&self) -> bool {
        *self == Self::default()
    }
}

/// Finds a property by name.
pub fn find_property<'a>(props: &'a [Property], name: &str) -> Option<&'a Property> {
    props.iter().find(|p| p.name.as_deref() == Some(name))
}

xml_model! {
    /// Certificate information of an identity provider (`CertificateInfo`).
    pub struct CertificateInfo in ns::MODEL {
        /// The certificate (PEM or base64).
        pub cert_value: Option<String> = "certValue",
        /// Its thumbprint.
        pub thumb_print: Option<String> = "thumbPrint",
    }
}

xml_model! {
    /// A federated authenticator of an identity provider (`FederatedAuthenticatorConfig`).
    pub struct FederatedAuthenticatorConfig in ns::MODEL {
        /// Display name, e.g. `openidconnect`.
        pub display_name: Option<String> = "displayName",
        /// Whether it is enabled.
        pub enabled: Option<bool> = "enabled",
        /// Authenticator name, e.g. `OpenIDConnectAuthenticator`.
        pub name: Option<String> = "name",
        /// Its properties (for OIDC: `ClientId`, `ClientSecret`, endpoint URLs, ...).
        pub properties: Vec<Property> = "properties",
        /// Tags, e.g. `Social-Login` (framework 5.24.8).
        pub tags: Vec<String> = "tags",
        /// Whether the configuration is valid.
        pub valid: Option<bool> = "valid",
    }
}

xml_model! {
    /// An outbound provisioning connector (`ProvisioningConnectorConfig`).
    pub struct ProvisioningConnectorConfig in ns::MODEL {
        /// Whether provisioning blocks the login.
        pub blocking: Option<bool> = "blocking",
        /// Whether it is enabled.
        pub enabled: Option<bool> = "enabled",
        /// Connector name, e.g. `scim`.
        pub name: Option<String> = "name",
        /// Connector properties.
        pub provisioning_properties: Vec<Property> = "provisioningProperties",
        /// Whether provisioning rules are enabled.
        pub rules_enabled: Option<bool> = "rulesEnabled",
        /// Whether the configuration is valid.
        pub valid: Option<bool> = "valid",
    }
}

xml_model! {
    /// A free-form identity provider property (`IdentityProviderProperty`).
    pub struct IdentityProviderProperty in ns::MODEL {
        /// Display name.
        pub display_name: Option<String> = "displayName",
        /// Key.
        pub name: Option<String> = "name",
        /// Value.
        pub value: Option<String> = "value",
    }
}

xml_model! {
    /// Inbound provisioning settings (`InboundProvisioningConfig`).
    pub struct InboundProvisioningConfig in ns::MODEL {
        /// Dumb mode (no user store writes).
        pub dumb_mode: Option<bool> = "dumbMode",
        /// Whether provisioning is enabled.
        pub provisioning_enabled: Option<bool> = "provisioningEnabled",
        /// User store that receives provisioned users, e.g. `PRIMARY`.
        pub provisioning_user_store: Option<String> = "provisioningUserStore",
    }
}

xml_model! {
    /// Just-in-time provisioning of federated users (`JustInTimeProvisioningConfig`, which
    /// extends `InboundProvisioningConfig`: the base fields come first).
    pub struct JustInTimeProvisioningConfig in ns::MODEL {
        /// Dumb mode (inherited).
        pub dumb_mode: Option<bool> = "dumbMode",
        /// Whether JIT provisioning is enabled (inherited).
        pub provisioning_enabled: Option<bool> = "provisioningEnabled",
        /// User store that receives provisioned users, e.g. `PRIMARY` (inherited).
        pub provisioning_user_store: Option<String> = "provisioningUserStore",
        /// Associate the federated user with an existing local user (framework 5.25.92).
        pub associate_local_user_enabled: Option<bool> = "associateLocalUserEnabled",
        /// How attributes of provisioned users are synchronised, e.g. `OVERRIDE_ALL` (framework
        /// 5.25.682).
        pub attribute_sync_method: Option<String> = "attributeSyncMethod",
        /// Let the user change the username at first login.
        pub modify_user_name_allowed: Option<bool> = "modifyUserNameAllowed",
        /// Ask the user for a password at first login.
        pub password_provisioning_enabled: Option<bool> = "passwordProvisioningEnabled",
        /// Ask the user for consent.
        pub prompt_consent: Option<bool> = "promptConsent",
        /// Claim that names the user store.
        pub user_store_claim_uri: Option<String> = "userStoreClaimUri",
    }
}

impl JustInTimeProvisioningConfig {
    /// "Provision silently" into `user_store` (e.g. `PRIMARY`): enabled, with no prompts.
    pub fn provision_silently(user_store: impl Into<String>) -> Self {
        Self {
            provisioning_enabled: Some(true),
            provisioning_user_store: Some(user_store.into()),
            modify_user_name_allowed: Some(false),
            password_provisioning_enabled: Some(false),
            prompt_consent: Some(false),
            ..Self::default()
        }
    }
}

xml_model! {
    /// A permission (`ApplicationPermission`).
    pub struct ApplicationPermission in ns::MODEL {
        /// The permission path.
        pub value: Option<String> = "value",
    }
}

xml_model! {
    /// A local role as split by the server (`LocalRole`): `Internal/subscriber` is
    /// `userStoreId = Internal`, `localRoleName = subscriber`.
    pub struct LocalRole in ns::MODEL {
        /// Role name without its domain.
        pub local_role_name: Option<String> = "localRoleName",
        /// Domain (user store id), e.g. `Internal` or `PRIMARY`.
        pub user_store_id: Option<String> = "userStoreId",
    }
}

xml_model! {
    /// A remote-to-local role mapping (`RoleMapping`).
    pub struct RoleMapping in ns::MODEL {
        /// The local role.
        pub local_role: Option<LocalRole> = "localRole",
        /// The role as named by the identity provider.
        pub remote_role: Option<String> = "remoteRole",
    }
}

xml_model! {
    /// Roles and permissions (`PermissionsAndRoleConfig`).
    pub struct PermissionsAndRoleConfig in ns::MODEL {
        /// Roles known on the identity provider (rewritten by the server from the mappings).
        pub idp_roles: Vec<String> = "idpRoles",
        /// Permissions.
        pub permissions: Vec<ApplicationPermission> = "permissions",
        /// Role mappings.
        pub role_mappings: Vec<RoleMapping> = "roleMappings",
    }
}

xml_model! {
    /// An identity provider (`IdentityProvider`), as handled by IdentityProviderMgtService and
    /// referenced from service provider authentication steps.
    pub struct IdentityProvider in ns::MODEL {
        /// Alias (e.g. the token endpoint alias).
        pub alias: Option<String> = "alias",
        /// Certificate.
        pub certificate: Option<String> = "certificate",
        /// Certificates.
        pub certificate_info_array: Vec<CertificateInfo> = "certificateInfoArray",
        /// Claim configuration (role claim URI, claim mappings).
        pub claim_config: Option<ClaimConfig> = "claimConfig",
        /// The default federated authenticator.
        pub default_authenticator_config: Option<FederatedAuthenticatorConfig> = "defaultAuthenticatorConfig",
        /// The default provisioning connector.
        pub default_provisioning_connector_config: Option<ProvisioningConnectorConfig> = "defaultProvisioningConnectorConfig",
        /// Display name.
        pub display_name: Option<String> = "displayName",
        /// Whether the identity provider is enabled.
        pub enable: Option<bool> = "enable",
        /// Association of federated users with local accounts by attributes (framework 5.25.682).
        pub federated_association_config: Option<FederatedAssociationConfig> = "federatedAssociationConfig",
        /// Federated authenticators.
        pub federated_authenticator_configs: Vec<FederatedAuthenticatorConfig> = "federatedAuthenticatorConfigs",
        /// Federation hub.
        pub federation_hub: Option<bool> = "federationHub",
        /// Home realm identifier.
        pub home_realm_id: Option<String> = "homeRealmId",
        /// Server-assigned id.
        pub id: Option<String> = "id",
        /// Groups of the identity provider (framework 5.25.682).
        pub idp_group_config: Vec<IdPGroup> = "idPGroupConfig",
        /// Description.
        pub identity_provider_description: Option<String> = "identityProviderDescription",
        /// Unique name.
        pub identity_provider_name: Option<String> = "identityProviderName",
        /// Free-form properties.
        pub idp_properties: Vec<IdentityProviderProperty> = "idpProperties",
        /// Logo URL (framework 5.17.5).
        pub image_url: Option<String> = "imageUrl",
        /// Just-in-time provisioning.
        pub just_in_time_provisioning_config: Option<JustInTimeProvisioningConfig> = "justInTimeProvisioningConfig",
        /// Roles, permissions and role mappings.
        pub permission_and_role_config: Option<PermissionsAndRoleConfig> = "permissionAndRoleConfig",
        /// Whether this is the primary identity provider.
        pub primary: Option<bool> = "primary",
        /// Outbound provisioning connectors.
        pub provisioning_connector_configs: Vec<ProvisioningConnectorConfig> = "provisioningConnectorConfigs",
        /// Provisioning role.
        pub provisioning_role: Option<String> = "provisioningRole",
        /// Server-assigned resource id (UUID) (framework 5.17.5).
        pub resource_id: Option<String> = "resourceId",
        /// Template the identity provider was made from (framework 5.24.8).
        pub template_id: Option<String> = "templateId",
        /// Whether its tokens are trusted for token exchange (framework 5.25.682).
        pub trusted_token_issuer: Option<bool> = "trustedTokenIssuer",
    }
}

xml_model! {
    /// Association of federated users with existing local accounts (`FederatedAssociationConfig`,
    /// framework 5.25.682).
    pub struct FederatedAssociationConfig in ns::MODEL {
        /// Whether it is enabled.
        pub enabled: Option<bool> = "enabled",
        /// Attributes looked up to find the local account.
        pub lookup_attributes: Vec<String> = "lookupAttributes",
    }
}

xml_model! {
    /// A group of an identity provider (`IdPGroup`, framework 5.25.682; `idpId` only in the
    /// identity provider service's WSDL).
    pub struct IdPGroup in ns::MODEL {
        /// Group id.
        pub idp_group_id: Option<String> = "idpGroupId",
        /// Group name.
        pub idp_group_name: Option<String> = "idpGroupName",
        /// Id of the identity provider.
        pub idp_id: Option<String> = "idpId",
    }
}

xml_model! {
    /// A local authenticator in an authentication step (`LocalAuthenticatorConfig`).
    pub struct LocalAuthenticatorConfig in ns::MODEL {
        /// Display name, e.g. `basic`.
        pub display_name: Option<String> = "displayName",
        /// Whether it is enabled.
        pub enabled: Option<bool> = "enabled",
        /// Name, e.g. `BasicAuthenticator`.
        pub name: Option<String> = "name",
        /// Properties.
        pub properties: Vec<Property> = "properties",
        /// Tags (framework 5.24.8).
        pub tags: Vec<String> = "tags",
        /// Whether the configuration is valid.
        pub valid: Option<bool> = "valid",
    }
}

/// A request-path authenticator (`RequestPathAuthenticatorConfig`, same fields as a local
/// authenticator).
pub type RequestPathAuthenticatorConfig = LocalAuthenticatorConfig;

xml_model! {
    /// One step of a service provider's authentication sequence (`AuthenticationStep`).
    pub struct AuthenticationStep in ns::MODEL {
        /// Whether attributes are taken from this step.
        pub attribute_step: Option<bool> = "attributeStep",
        /// Federated identity providers offered in this step.
        pub federated_identity_providers: Vec<IdentityProvider> = "federatedIdentityProviders",
        /// Local authenticators offered in this step.
        pub local_authenticator_configs: Vec<LocalAuthenticatorConfig> = "localAuthenticatorConfigs",
        /// Position, from 1.
        pub step_order: Option<i32> = "stepOrder",
        /// Whether the subject is taken from this step.
        pub subject_step: Option<bool> = "subjectStep",
    }
}

xml_model! {
    /// Adaptive authentication script (`AuthenticationScriptConfig`, in its own namespace).
    pub struct AuthenticationScriptConfig in ns::SCRIPT {
        /// Script source.
        pub content: Option<String> = "content",
        /// Whether the script is enabled.
        pub enabled: Option<bool> = "enabled",
        /// Script language.
        pub language: Option<String> = "language",
    }
}

xml_model! {
    /// How users of a service provider authenticate (`LocalAndOutboundAuthenticationConfig`).
    pub struct LocalAndOutboundAuthenticationConfig in ns::MODEL {
        /// Send back the list of identity providers the user authenticated with.
        pub always_send_back_authenticated_list_of_idps: Option<bool> = "alwaysSendBackAuthenticatedListOfIdPs",
        /// Adaptive authentication script.
        pub authentication_script_config: Option<AuthenticationScriptConfig> = "authenticationScriptConfig",
        /// Step whose attributes are used.
        pub authentication_step_for_attributes: Option<AuthenticationStep> = "authenticationStepForAttributes",
        /// Step whose subject is used.
        pub authentication_step_for_subject: Option<AuthenticationStep> = "authenticationStepForSubject",
        /// The authentication steps.
        pub authentication_steps: Vec<AuthenticationStep> = "authenticationSteps",
        /// `default`, `local`, `federated` or `flow` (see [`AuthenticationType`](crate::application::AuthenticationType)).
        pub authentication_type: Option<String> = "authenticationType",
        /// Whether authorization is enforced.
        pub enable_authorization: Option<bool> = "enableAuthorization",
        /// Skip the user consent page at login (framework 5.17.5: IS 5.10, APIM 3.1).
        pub skip_consent: Option<bool> = "skipConsent",
        /// Skip the user consent page at logout (framework 5.17.5 WSDL; read by the server from
        /// 5.18: IS 5.11, APIM 4.0).
        pub skip_logout_consent: Option<bool> = "skipLogoutConsent",
        /// Claim used as the subject.
        pub subject_claim_uri: Option<String> = "subjectClaimUri",
        /// Show an external consent page (framework 5.25.682).
        pub use_external_consent_page: Option<bool> = "useExternalConsentPage",
        /// Append the tenant domain to the local subject identifier.
        pub use_tenant_domain_in_local_subject_identifier: Option<bool> = "useTenantDomainInLocalSubjectIdentifier",
        /// Append the user store domain to the local subject identifier.
        pub use_userstore_domain_in_local_subject_identifier: Option<bool> = "useUserstoreDomainInLocalSubjectIdentifier",
        /// Prefix role values with their user store domain.
        pub use_userstore_domain_in_roles: Option<bool> = "useUserstoreDomainInRoles",
    }
}

xml_model! {
    /// One inbound protocol configuration of a service provider
    /// (`InboundAuthenticationRequestConfig`); for OAuth2/OIDC the key is the consumer key and the
    /// property `oauthConsumerSecret` holds the secret.
    pub struct InboundAuthenticationRequestConfig in ns::MODEL {
        /// Friendly name.
        pub friendly_name: Option<String> = "friendlyName",
        /// The inbound key (OAuth consumer key, SAML issuer, ...).
        pub inbound_auth_key: Option<String> = "inboundAuthKey",
        /// Protocol, e.g. `oauth2`, `samlsso`, `passivests`.
        pub inbound_auth_type: Option<String> = "inboundAuthType",
        /// Configuration type.
        pub inbound_config_type: Option<String> = "inboundConfigType",
        /// Serialised configuration.
        pub inbound_configuration: Option<String> = "inboundConfiguration",
        /// Properties (e.g. `oauthConsumerSecret`).
        pub properties: Vec<Property> = "properties",
    }
}

xml_model! {
    /// Inbound protocol configurations of a service provider (`InboundAuthenticationConfig`).
    pub struct InboundAuthenticationConfig in ns::MODEL {
        /// The configurations, one per protocol.
        pub inbound_authentication_request_configs: Vec<InboundAuthenticationRequestConfig> = "inboundAuthenticationRequestConfigs",
    }
}

xml_model! {
    /// Outbound provisioning of a service provider (`OutboundProvisioningConfig`).
    pub struct OutboundProvisioningConfig in ns::MODEL {
        /// Provision users of these roles.
        pub provision_by_role_list: Vec<String> = "provisionByRoleList",
        /// Identity providers provisioned to.
        pub provisioning_identity_providers: Vec<IdentityProvider> = "provisioningIdentityProviders",
    }
}

xml_model! {
    /// Owner of a service provider (`User`).
    pub struct User in ns::MODEL {
        /// The user id masked for logs (framework 5.25.682; derived by the server).
        pub loggable_masked_user_id: Option<String> = "loggableMaskedUserId",
        /// The user id for logs (framework 5.24.8; derived by the server).
        pub loggable_user_id: Option<String> = "loggableUserId",
        /// Tenant domain.
        pub tenant_domain: Option<String> = "tenantDomain",
        /// User name.
        pub user_name: Option<String> = "userName",
        /// User store domain.
        pub user_store_domain: Option<String> = "userStoreDomain",
    }
}

xml_model! {
    /// A service provider property (`ServiceProviderProperty`).
    pub struct ServiceProviderProperty in ns::MODEL {
        /// Display name.
        pub display_name: Option<String> = "displayName",
        /// Key.
        pub name: Option<String> = "name",
        /// Value.
        pub value: Option<String> = "value",
    }
}

xml_model! {
    /// A service provider (application), every field of `ServiceProvider` in WSDL order.
    pub struct ServiceProvider in ns::MODEL {
        /// Whether API-based (app-native) authentication is enabled (framework 5.25.682).
        pub api_based_authentication_enabled: Option<bool> = "APIBasedAuthenticationEnabled",
        /// Access URL shown in the My Account portal (framework 5.17.5).
        pub access_url: Option<String> = "accessUrl",
        /// Server-assigned numeric id (read it with `getApplication`; `createApplication` does
        /// not return it).
        pub application_id: Option<i32> = "applicationID",
        /// Unique name.
        pub application_name: Option<String> = "applicationName",
        /// Server-assigned resource id (UUID) (framework 5.17.5).
        pub application_resource_id: Option<String> = "applicationResourceId",
        /// Roles associated with the application (framework 5.25.682).
        pub associated_roles_config: Option<AssociatedRolesConfig> = "associatedRolesConfig",
        /// Whether this is a B2B self-service application (framework 5.25.682).
        pub b2b_self_service_app: Option<bool> = "b2BSelfServiceApp",
        /// Certificate content.
        pub certificate_content: Option<String> = "certificateContent",
        /// Claim configuration (requested claims, role claim).
        pub claim_config: Option<ClaimConfig> = "claimConfig",
        /// Client attestation settings (framework 5.25.682).
        pub client_attestation_meta_data: Option<ClientAttestationMetaData> = "clientAttestationMetaData",
        /// Description.
        pub description: Option<String> = "description",
        /// Whether the application is listed in the My Account portal (framework 5.17.5).
        pub discoverable: Option<bool> = "discoverable",
        /// Logo URL (framework 5.17.5).
        pub image_url: Option<String> = "imageUrl",
        /// Inbound protocols (OAuth2/OIDC, SAML, ...).
        pub inbound_authentication_config: Option<InboundAuthenticationConfig> = "inboundAuthenticationConfig",
        /// Inbound provisioning.
        pub inbound_provisioning_config: Option<InboundProvisioningConfig> = "inboundProvisioningConfig",
        /// JWKS URI of the application (framework 5.17.5).
        pub jwks_uri: Option<String> = "jwksUri",
        /// Authentication steps and options.
        pub local_and_out_bound_authentication_config: Option<LocalAndOutboundAuthenticationConfig> = "localAndOutBoundAuthenticationConfig",
        /// Whether this is a management application (framework 5.24.8).
        pub management_app: Option<bool> = "managementApp",
        /// Outbound provisioning.
        pub outbound_provisioning_config: Option<OutboundProvisioningConfig> = "outboundProvisioningConfig",
        /// Owner.
        pub owner: Option<User> = "owner",
        /// Roles and permissions.
        pub permission_and_role_config: Option<PermissionsAndRoleConfig> = "permissionAndRoleConfig",
        /// Request-path authenticators.
        pub request_path_authenticator_configs: Vec<RequestPathAuthenticatorConfig> = "requestPathAuthenticatorConfigs",
        /// Whether the application is shared with all tenants.
        pub saas_app: Option<bool> = "saasApp",
        /// Free-form properties.
        pub sp_properties: Vec<ServiceProviderProperty> = "spProperties",
        /// Template the application was made from (framework 5.18.187).
        pub template_id: Option<String> = "templateId",
        /// Tenant domain (framework 5.24.8).
        pub tenant_domain: Option<String> = "tenantDomain",
    }
}

xml_model! {
    /// Roles associated with an application (`AssociatedRolesConfig`, framework 5.25.682).
    pub struct AssociatedRolesConfig in ns::MODEL {
        /// `application` or `organization`.
        pub allowed_audience: Option<String> = "allowedAudience",
        /// The roles.
        pub roles: Vec<RoleV2> = "roles",
    }
}

xml_model! {
    /// A role by id and name (`RoleV2`, framework 5.25.682).
    pub struct RoleV2 in ns::MODEL {
        /// Role id.
        pub id: Option<String> = "id",
        /// Role name.
        pub name: Option<String> = "name",
    }
}

xml_model! {
    /// Client attestation of an application (`ClientAttestationMetaData`, framework 5.25.682).
    /// The Android attestation service credentials (a service-account key) are a secret.
    pub struct ClientAttestationMetaData in ns::MODEL {
        /// Credentials of the Android attestation service (a secret).
        pub android_attestation_service_credentials: Option<crate::Secret> = "androidAttestationServiceCredentials",
        /// Android package name.
        pub android_package_name: Option<String> = "androidPackageName",
        /// Apple app id.
        pub apple_app_id: Option<String> = "appleAppId",
        /// Whether attestation is enabled.
        pub attestation_enabled: Option<bool> = "attestationEnabled",
    }
}

xml_model! {
    /// A row of `getAllApplicationBasicInfo` (`ApplicationBasicInfo`).
    pub struct ApplicationBasicInfo in ns::MODEL {
        /// Access URL (framework 5.17.5).
        pub access_url: Option<String> = "accessUrl",
        /// Owner (framework 5.17.5).
        pub app_owner: Option<User> = "appOwner",
        /// Numeric id.
        pub application_id: Option<i32> = "applicationId",
        /// Name.
        pub application_name: Option<String> = "applicationName",
        /// Resource id (UUID) (framework 5.17.5).
        pub application_resource_id: Option<String> = "applicationResourceId",
        /// OAuth client id (framework 5.25.92).
        pub client_id: Option<String> = "clientId",
        /// Description.
        pub description: Option<String> = "description",
        /// Logo URL (framework 5.17.5).
        pub image_url: Option<String> = "imageUrl",
        /// Inbound key (framework 5.24.8 only).
        pub inbound_key: Option<String> = "inboundKey",
        /// SAML issuer (framework 5.25.92).
        pub issuer: Option<String> = "issuer",
        /// Tenant domain (framework 5.24.8).
        pub tenant_domain: Option<String> = "tenantDomain",
    }
}

/// Calls `f` with every [`Property`] inside an identity provider, each with a path that names it
/// by the names of what contains it (not by position), e.g.
/// `authenticator/OpenIDConnectAuthenticator/ClientSecret`.
pub fn visit_idp_properties(
    idp: &mut IdentityProvider,
    prefix: &str,
    f: &mut dyn FnMut(String, &mut Property),
) {
    fn props(list: &mut [Property], prefix: &str, f: &mut dyn FnMut(String, &mut Property)) {
        for p in list {
            let path = format!("{prefix}/{}", p.name.as_deref().unwrap_or("?"));
            f(path, p);
        }
    }
    let name = |n: &Option<String>| n.clone().unwrap_or_else(|| "?".into());
    if let Some(a) = idp.default_authenticator_config.as_mut() {
        let p = format!("{prefix}default-authenticator/{}", name(&a.name));
        props(&mut a.properties, &p, f);
    }
    for a in &mut idp.federated_authenticator_configs {
        let p = format!("{prefix}authenticator/{}", name(&a.name));
        props(&mut a.properties, &p, f);
    }
    if let Some(c) = idp.default_provisioning_connector_config.as_mut() {
        let p = format!("{prefix}default-connector/{}", name(&c.name));
        props(&mut c.provisioning_properties, &p, f);
    }
    for c in &mut idp.provisioning_connector_configs {
        let p = format!("{prefix}connector/{}", name(&c.name));
        props(&mut c.provisioning_properties, &p, f);
    }
}

/// Calls `f` with every [`Property`] inside a service provider (inbound configurations,
/// authenticators of every step, request-path authenticators, outbound provisioning identity
/// providers), each with a path that names it by what contains it.
pub fn visit_sp_properties(sp: &mut ServiceProvider, f: &mut dyn FnMut(String, &mut Property)) {
    let name = |n: &Option<String>| n.clone().unwrap_or_else(|| "?".into());
    if let Some(inbound) = sp.inbound_authentication_config.as_mut() {
        for c in &mut inbound.inbound_authentication_request_configs {
            let prefix = format!(
                "inbound/{}:{}",
                name(&c.inbound_auth_type),
                name(&c.inbound_auth_key)
            );
            for p in &mut c.properties {
                f(format!("{prefix}/{}", name(&p.name)), p);
            }
        }
    }
    fn step(s: &mut AuthenticationStep, prefix: &str, f: &mut dyn FnMut(String, &mut Property)) {
        let name = |n: &Option<String>| n.clone().unwrap_or_else(|| "?".into());
        for idp in &mut s.federated_identity_providers {
            let p = format!("{prefix}/idp/{}/", name(&idp.identity_provider_name));
            visit_idp_properties(idp, &p, f);
        }
        for l in &mut s.local_authenticator_configs {
            for p in &mut l.properties {
                f(
                    format!("{prefix}/local/{}/{}", name(&l.name), name(&p.name)),
                    p,
                );
            }
        }
    }
    if let Some(auth) = sp.local_and_out_bound_authentication_config.as_mut() {
        for s in &mut auth.authentication_steps {
            let prefix = format!("step/{}", s.step_order.unwrap_or(0));
            step(s, &prefix, f);
        }
        if let Some(s) = auth.authentication_step_for_subject.as_mut() {
            step(s, "subject-step", f);
        }
        if let Some(s) = auth.authentication_step_for_attributes.as_mut() {
            step(s, "attribute-step", f);
        }
    }
    for r in &mut sp.request_path_authenticator_configs {
        for p in &mut r.properties {
            f(
                format!("request-path/{}/{}", name(&r.name), name(&p.name)),
                p,
            );
        }
    }
    if let Some(out) = sp.outbound_provisioning_config.as_mut() {
        for idp in &mut out.provisioning_identity_providers {
            let p = format!("outbound/{}/", name(&idp.identity_provider_name));
            visit_idp_properties(idp, &p, f);
        }
    }
}

/// Fills the secrets that `target` holds redacted (it came from a serialised snapshot) with the
/// values at the same place in `live`. Returns the paths of redacted secrets `live` has no value
/// for (empty when everything could be filled).
pub fn fill_redacted_sp_secrets(
    target: &mut ServiceProvider,
    live: &ServiceProvider,
) -> Vec<String> {
    let mut live = live.clone();
    let known = live_secrets(&mut |f| visit_sp_properties(&mut live, f));
    let mut missing = fill_from(&known, &mut |f| visit_sp_properties(target, f));
    // The one secret outside properties: the client attestation credentials (5.25.682).
    let credentials = |sp: &ServiceProvider| {
        sp.client_attestation_meta_data
            .as_ref()
            .and_then(|c| c.android_attestation_service_credentials.clone())
    };
    if let Some(attestation) = target.client_attestation_meta_data.as_mut()
        && attestation
            .android_attestation_service_credentials
            .as_ref()
            .is_some_and(crate::Secret::is_redacted)
    {
        match credentials(&live).filter(|c| !c.is_redacted()) {
            Some(c) => attestation.android_attestation_service_credentials = Some(c),
            None => missing
                .push("clientAttestationMetaData/androidAttestationServiceCredentials".into()),
        }
    }
    missing
}

/// A walk over the properties of a value: calls the visitor it is given with each property and
/// its path.
type PropertyWalk<'a> = dyn FnMut(&mut dyn FnMut(String, &mut Property)) + 'a;

/// The secret values of properties and sub-properties a visitor reaches, by path (a
/// sub-property's path is its property's path, `/`, its name).
fn live_secrets(visit: &mut PropertyWalk<'_>) -> std::collections::HashMap<String, PropertyValue> {
    let mut known = std::collections::HashMap::new();
    visit(&mut |path, p| {
        for sub in &mut p.sub_properties {
            if let Some(v) = sub
                .value
                .take()
                .filter(|v| v.is_secret() && !v.is_redacted())
            {
                known.insert(format!("{path}/{}", sub.name.as_deref().unwrap_or("?")), v);
            }
        }
        if let Some(v) = p.value.take().filter(|v| v.is_secret() && !v.is_redacted()) {
            known.insert(path, v);
        }
    });
    known
}

/// Fills redacted property and sub-property values a visitor reaches from `known`; returns the
/// paths it has no value for.
fn fill_from(
    known: &std::collections::HashMap<String, PropertyValue>,
    visit: &mut PropertyWalk<'_>,
) -> Vec<String> {
    let mut missing = Vec::new();
    let mut fill = |path: String, value: &mut Option<PropertyValue>| {
        if value.as_ref().is_some_and(PropertyValue::is_redacted) {
            match known.get(&path) {
                Some(v) => *value = Some(v.clone()),
                None => missing.push(path),
            }
        }
    };
    visit(&mut |path, p| {
        for sub in &mut p.sub_properties {
            let sub_path = format!("{path}/{}", sub.name.as_deref().unwrap_or("?"));
            fill(sub_path, &mut sub.value);
        }
        fill(path, &mut p.value);
    });
    missing
}

/// Like [`fill_redacted_sp_secrets`], for an identity provider.
pub fn fill_redacted_idp_secrets(
    target: &mut IdentityProvider,
    live: &IdentityProvider,
) -> Vec<String> {
    let mut live = live.clone();
    let known = live_secrets(&mut |f| visit_idp_properties(&mut live, "", f));
    fill_from(&known, &mut |f| visit_idp_properties(target, "", f))
}
