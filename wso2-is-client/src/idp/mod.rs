//! `IdentityProviderMgtService`: identity providers (carbon-identity-framework 5.14.97, the same
//! on IS 5.9 and APIM 3.0).
//!
//! What the server does, and what this module does about it:
//!
//! * [`add`](IdentityProviders::add) returns the server's answer unchanged. APIM has been seen
//!   answering 500 to an `addIdP` that succeeded; deciding what happened (read back with
//!   [`get`](IdentityProviders::get)) is the caller's business, since only the caller knows what
//!   it sent.
//! * [`get`](IdentityProviders::get) of a missing name is a nil answer, read as `None`.
//! * [`update`](IdentityProviders::update) renames when the new value's name differs from the old
//!   name. An omitted `enable` **disables** the identity provider, so it must be set. Federated
//!   authenticators and their properties are **merged** (upserted by name), never removed: to
//!   clear a property, send it with an empty value.
//! * [`delete`](IdentityProviders::delete) of a missing name succeeds silently; an identity
//!   provider used by a service provider cannot be deleted (`… cannot be deleted as it is
//!   referred by Service Providers.`).
//! * Role mappings whose local role does not exist are **dropped silently** on add and update,
//!   and `idpRoles` is rewritten from the mappings that survive. Check the local roles first
//!   ([`Users::role_exists`](crate::users::Users::role_exists)); mappings without a remote role
//!   or local role name are refused here.
//! * `ClientSecret` comes back in clear: it is read as a [`Secret`].
//!
//! [`OidcAuthenticator`] is a typed view of the `OpenIDConnectAuthenticator` configuration with
//! its exact property keys; [`LocalRole::from_role_name`] and [`LocalRole::role_name`] convert
//! `Internal/subscriber` to and from the server's split form.
//!
//! ```no_run
//! # async fn demo() -> Result<(), wso2_is_client::Error> {
//! use wso2_is_client::idp::{OidcAuthenticator, OIDC_GROUPS_CLAIM};
//! use wso2_is_client::model::{IdentityProvider, JustInTimeProvisioningConfig};
//! use wso2_is_client::{IdpName, IsClient, RoleName};
//!
//! let apim = IsClient::builder("https://apim.example.com:9443")
//!     .credentials("admin", "admin-password")
//!     .build()?;
//! let name = IdpName::new("wso2is")?;
//! let oidc = OidcAuthenticator::new()
//!     .with_client_id("apim-federation-client")
//!     .with_client_secret("a-long-random-secret")
//!     .with_authorize_url("https://is.example.com:9444/oauth2/authorize")
//!     .with_token_url("https://is-internal:9444/oauth2/token")
//!     .with_user_info_url("https://is-internal:9444/oauth2/userinfo")
//!     .with_logout_url("https://is.example.com:9444/oidc/logout")
//!     .with_callback_url("https://apim.example.com:9443/commonauth")
//!     .with_basic_auth(true);
//! let mut idp = IdentityProvider::named(&name).with_role_claim_uri(OIDC_GROUPS_CLAIM);
//! idp.set_oidc_authenticator(oidc, true);
//! idp.just_in_time_provisioning_config =
//!     Some(JustInTimeProvisioningConfig::provision_silently("PRIMARY"));
//! idp.set_role_mappings([
//!     ("user_role", RoleName::new("Internal/subscriber")?),
//!     ("publisher_role", RoleName::new("Internal/publisher")?),
//! ]);
//! let idps = apim.identity_providers();
//! if idps.get(&name).await?.is_none() {
//!     idps.add(&idp).await?;
//! }
//! # Ok(()) }
//! ```

use serde::{Deserialize, Serialize};

use crate::carbon::CarbonClient;
use crate::carbon::secret::{PropertyValue, Secret};
use crate::carbon::soap::soap_operation;
use crate::carbon::xml::ns;
use crate::error::{Error, Result};
use crate::model::{
    Claim, ClaimConfig, ClaimMapping, FederatedAuthenticatorConfig, IdentityProvider, LocalRole,
    PermissionsAndRoleConfig, Property, RoleMapping,
};
use crate::names::{IdpName, RoleName};

soap_operation! {
    /// `addIdP(identityProvider)`: registers an identity provider. Returns nothing.
    pub struct AddIdP {
        service: "IdentityProviderMgtService",
        operation: "addIdP",
        wrapper: ns::IDP_MGT,
        read_only: false,
        output: () => void,
    } {
        /// The identity provider.
        pub identity_provider: IdentityProvider = "identityProvider",
    }
}

soap_operation! {
    /// `getIdPByName(idPName)`: the identity provider, or `None` (a nil answer) when there is
    /// none.
    pub struct GetIdPByName {
        service: "IdentityProviderMgtService",
        operation: "getIdPByName",
        wrapper: ns::IDP_MGT,
        read_only: true,
        output: Option<IdentityProvider> => single,
    } {
        /// The name.
        pub idp_name: String = "idPName",
    }
}

soap_operation! {
    /// `updateIdP(oldIdPName, identityProvider)`: replaces (and possibly renames) the identity
    /// provider named `oldIdPName`. Authenticators and their properties are merged.
    pub struct UpdateIdP {
        service: "IdentityProviderMgtService",
        operation: "updateIdP",
        wrapper: ns::IDP_MGT,
        read_only: false,
        output: () => void,
    } {
        /// The current name.
        pub old_idp_name: String = "oldIdPName",
        /// The new value.
        pub identity_provider: IdentityProvider = "identityProvider",
    }
}

soap_operation! {
    /// `deleteIdP(idPName)`: deletes the identity provider (silently succeeds when there is
    /// none).
    pub struct DeleteIdP {
        service: "IdentityProviderMgtService",
        operation: "deleteIdP",
        wrapper: ns::IDP_MGT,
        read_only: false,
        output: () => void,
    } {
        /// The name.
        pub idp_name: String = "idPName",
    }
}

soap_operation! {
    /// `getAllIdPs()`: every identity provider of the tenant.
    pub struct GetAllIdPs {
        service: "IdentityProviderMgtService",
        operation: "getAllIdPs",
        wrapper: ns::IDP_MGT,
        read_only: true,
        output: Vec<IdentityProvider> => many,
    } {}
}

impl AddIdP {
    /// The operation for `idp`.
    pub fn new(idp: IdentityProvider) -> Self {
        Self {
            identity_provider: idp,
        }
    }
}

impl GetIdPByName {
    /// The operation for `name`.
    pub fn new(name: &IdpName) -> Self {
        Self {
            idp_name: name.as_str().to_owned(),
        }
    }
}

impl UpdateIdP {
    /// The operation replacing the identity provider named `old_name` with `idp`.
    pub fn new(old_name: &IdpName, idp: IdentityProvider) -> Self {
        Self {
            old_idp_name: old_name.as_str().to_owned(),
            identity_provider: idp,
        }
    }
}

impl DeleteIdP {
    /// The operation for `name`.
    pub fn new(name: &IdpName) -> Self {
        Self {
            idp_name: name.as_str().to_owned(),
        }
    }
}

impl GetAllIdPs {
    /// The operation.
    pub fn new() -> Self {
        Self {}
    }
}

impl Default for GetAllIdPs {
    fn default() -> Self {
        Self::new()
    }
}

/// The local claim that carries roles.
pub const LOCAL_ROLE_CLAIM: &str = "http://wso2.org/claims/role";
/// The claim in which IS 5.9 sends roles in its id tokens and userinfo answers (the OIDC dialect
/// maps `groups` to [`LOCAL_ROLE_CLAIM`], and `groups` is in the `openid` scope). Use it as the
/// role claim URI of an APIM identity provider that federates to IS.
pub const OIDC_GROUPS_CLAIM: &str = "groups";

/// The name of the OIDC federated authenticator.
pub const OIDC_AUTHENTICATOR_NAME: &str = "OpenIDConnectAuthenticator";
/// The display name of the OIDC federated authenticator.
pub const OIDC_AUTHENTICATOR_DISPLAY_NAME: &str = "openidconnect";

/// The exact property keys of the `OpenIDConnectAuthenticator` (identity-outbound-auth-oidc
/// 5.3.x and the 5.14.97 console). The server accepts any key silently, so a misspelt key just
/// leaves the authenticator without that setting.
pub mod oidc_keys {
    /// Client id at the external provider.
    pub const CLIENT_ID: &str = "ClientId";
    /// Client secret (confidential).
    pub const CLIENT_SECRET: &str = "ClientSecret";
    /// Authorization endpoint (called by browsers).
    pub const AUTHZ_URL: &str = "OAuth2AuthzEPUrl";
    /// Token endpoint (called server to server).
    pub const TOKEN_URL: &str = "OAuth2TokenEPUrl";
    /// The redirect URI sent to the provider (this server's `/commonauth` when absent).
    pub const CALLBACK_URL: &str = "callbackUrl";
    /// Userinfo endpoint (called server to server; skipped when absent).
    pub const USER_INFO_URL: &str = "UserInfoUrl";
    /// RP-initiated logout endpoint. Read only by authenticator 5.3.5 and later: IS 5.9 (5.3.3)
    /// and APIM 3.0 (5.3.2) store it and ignore it.
    pub const LOGOUT_URL: &str = "OIDCLogoutEPUrl";
    /// `true`: the subject comes from the identity provider's user-id claim, not `sub`.
    pub const IS_USER_ID_IN_CLAIMS: &str = "IsUserIdInClaims";
    /// `true`: client credentials go only in an `Authorization: Basic` header at the token
    /// endpoint (avoids IS's "more than one authentication method" refusal).
    pub const IS_BASIC_AUTH_ENABLED: &str = "IsBasicAuthEnabled";
    /// Extra query parameters of the authorize request, `k=v&k2=v2`. With 5.3.x this is the
    /// only way to ask for more scopes: `scope=openid groups`.
    pub const COMMON_AUTH_QUERY_PARAMS: &str = "commonAuthQueryParams";
    /// Requested scopes. Read only by later authenticator versions (IS 7 / APIM 4); 5.3.x
    /// ignores it (use [`COMMON_AUTH_QUERY_PARAMS`] there).
    pub const SCOPES: &str = "Scopes";

    /// Every key above.
    pub const ALL: [&str; 11] = [
        CLIENT_ID,
        CLIENT_SECRET,
        AUTHZ_URL,
        TOKEN_URL,
        CALLBACK_URL,
        USER_INFO_URL,
        LOGOUT_URL,
        IS_USER_ID_IN_CLAIMS,
        IS_BASIC_AUTH_ENABLED,
        COMMON_AUTH_QUERY_PARAMS,
        SCOPES,
    ];

    /// Keys seen in documentation that the OIDC authenticator does not read, with the key it
    /// does read (the first two are the resident identity provider's names).
    pub const WRONG: [(&str, &str); 4] = [
        ("OAuth2AuthzUrl", AUTHZ_URL),
        ("OAUTH2TokenUrl", TOKEN_URL),
        ("OAuth2TokenUrl", TOKEN_URL),
        ("OAuth2UserInfoEPUrl", USER_INFO_URL),
    ];
}

/// A typed view of an identity provider's `OpenIDConnectAuthenticator` configuration.
///
/// It wraps the whole [`FederatedAuthenticatorConfig`]: properties it has no accessor for,
/// and the other attributes of each property, are kept, so a configuration read from the server,
/// changed through this view and written back loses nothing. Setters replace the value of an
/// existing property in place, or append a new one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OidcAuthenticator {
    config: FederatedAuthenticatorConfig,
}

impl Default for OidcAuthenticator {
    fn default() -> Self {
        Self::new()
    }
}

impl OidcAuthenticator {
    /// An enabled `OpenIDConnectAuthenticator` (display name `openidconnect`) with no
    /// properties.
    pub fn new() -> Self {
        Self {
            config: FederatedAuthenticatorConfig {
                display_name: Some(OIDC_AUTHENTICATOR_DISPLAY_NAME.to_owned()),
                enabled: Some(true),
                name: Some(OIDC_AUTHENTICATOR_NAME.to_owned()),
                properties: Vec::new(),
                tags: Vec::new(),
                valid: None,
            },
        }
    }

    /// The view of `config`, if it is the `OpenIDConnectAuthenticator`; otherwise `config` is
    /// given back.
    pub fn from_config(
        config: FederatedAuthenticatorConfig,
    ) -> std::result::Result<Self, FederatedAuthenticatorConfig> {
        if config.name.as_deref() == Some(OIDC_AUTHENTICATOR_NAME) {
            Ok(Self { config })
        } else {
            Err(config)
        }
    }

    /// The underlying configuration.
    pub fn config(&self) -> &FederatedAuthenticatorConfig {
        &self.config
    }

    /// The underlying configuration, to send.
    pub fn into_config(self) -> FederatedAuthenticatorConfig {
        self.config
    }

    fn find(&self, key: &str) -> Option<&Property> {
        self.config
            .properties
            .iter()
            .find(|p| p.name.as_deref() == Some(key))
    }

    /// The text of property `key` (a secret's value is exposed: calling this is explicit).
    pub fn property(&self, key: &str) -> Option<&str> {
        self.find(key).and_then(Property::value_str)
    }

    /// Sets property `key` to a plain value (replacing the value of an existing property in
    /// place).
    pub fn set_property(&mut self, key: &str, value: impl Into<String>) {
        self.put(key, PropertyValue::Plain(value.into()), false);
    }

    fn put(&mut self, key: &str, value: PropertyValue, confidential: bool) {
        let existing = self
            .config
            .properties
            .iter_mut()
            .find(|p| p.name.as_deref() == Some(key));
        match existing {
            Some(p) => {
                p.value = Some(value);
                if confidential {
                    p.confidential = Some(true);
                }
            }
            None => self.config.properties.push(Property {
                name: Some(key.to_owned()),
                confidential: confidential.then_some(true),
                value: Some(value),
                ..Property::default()
            }),
        }
    }

    /// Whether the authenticator is enabled.
    pub fn enabled(&self) -> bool {
        self.config.enabled == Some(true)
    }

    /// Enables or disables the authenticator.
    pub fn set_enabled(&mut self, enabled: bool) {
        self.config.enabled = Some(enabled);
    }

    /// `ClientId`.
    pub fn client_id(&self) -> Option<&str> {
        self.property(oidc_keys::CLIENT_ID)
    }

    /// `ClientSecret`, held as a secret.
    pub fn client_secret(&self) -> Option<&Secret> {
        match self.find(oidc_keys::CLIENT_SECRET)?.value.as_ref()? {
            PropertyValue::Secret(s) => Some(s),
            PropertyValue::Plain(_) => None,
        }
    }

    /// `OAuth2AuthzEPUrl`.
    pub fn authorize_url(&self) -> Option<&str> {
        self.property(oidc_keys::AUTHZ_URL)
    }

    /// `OAuth2TokenEPUrl`.
    pub fn token_url(&self) -> Option<&str> {
        self.property(oidc_keys::TOKEN_URL)
    }

    /// `callbackUrl`.
    pub fn callback_url(&self) -> Option<&str> {
        self.property(oidc_keys::CALLBACK_URL)
    }

    /// `UserInfoUrl`.
    pub fn user_info_url(&self) -> Option<&str> {
        self.property(oidc_keys::USER_INFO_URL)
    }

    /// `OIDCLogoutEPUrl`.
    pub fn logout_url(&self) -> Option<&str> {
        self.property(oidc_keys::LOGOUT_URL)
    }

    /// `IsUserIdInClaims`, as the authenticator reads it (only a case-insensitive `true` is
    /// true); `None` when absent.
    pub fn user_id_in_claims(&self) -> Option<bool> {
        self.property(oidc_keys::IS_USER_ID_IN_CLAIMS)
            .map(java_boolean)
    }

    /// `IsBasicAuthEnabled`, as the authenticator reads it; `None` when absent (which means
    /// `false`: credentials in the form body).
    pub fn basic_auth(&self) -> Option<bool> {
        self.property(oidc_keys::IS_BASIC_AUTH_ENABLED)
            .map(java_boolean)
    }

    /// `commonAuthQueryParams`.
    pub fn common_auth_query_params(&self) -> Option<&str> {
        self.property(oidc_keys::COMMON_AUTH_QUERY_PARAMS)
    }

    /// `Scopes` (ignored by authenticator 5.3.x; see [`oidc_keys::SCOPES`]).
    pub fn scopes(&self) -> Option<&str> {
        self.property(oidc_keys::SCOPES)
    }

    /// Properties whose key is none of [`oidc_keys::ALL`] (kept as read, written back as is).
    pub fn other_properties(&self) -> impl Iterator<Item = &Property> {
        self.config.properties.iter().filter(|p| {
            !p.name
                .as_deref()
                .is_some_and(|n| oidc_keys::ALL.contains(&n))
        })
    }

    /// Sets `ClientId`.
    pub fn with_client_id(mut self, id: impl Into<String>) -> Self {
        self.set_property(oidc_keys::CLIENT_ID, id);
        self
    }

    /// Sets `ClientSecret` (a confidential property holding a secret).
    pub fn with_client_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.set_client_secret(secret);
        self
    }

    /// Sets `ClientSecret` (a confidential property holding a secret).
    pub fn set_client_secret(&mut self, secret: impl Into<Secret>) {
        self.put(
            oidc_keys::CLIENT_SECRET,
            PropertyValue::Secret(secret.into()),
            true,
        );
    }

    /// Sets `OAuth2AuthzEPUrl` (the browser-facing authorize URL of the provider).
    pub fn with_authorize_url(mut self, url: impl Into<String>) -> Self {
        self.set_property(oidc_keys::AUTHZ_URL, url);
        self
    }

    /// Sets `OAuth2TokenEPUrl` (reached from this server).
    pub fn with_token_url(mut self, url: impl Into<String>) -> Self {
        self.set_property(oidc_keys::TOKEN_URL, url);
        self
    }

    /// Sets `callbackUrl` (this server's `/commonauth`, as registered at the provider).
    pub fn with_callback_url(mut self, url: impl Into<String>) -> Self {
        self.set_property(oidc_keys::CALLBACK_URL, url);
        self
    }

    /// Sets `UserInfoUrl` (reached from this server).
    pub fn with_user_info_url(mut self, url: impl Into<String>) -> Self {
        self.set_property(oidc_keys::USER_INFO_URL, url);
        self
    }

    /// Sets `OIDCLogoutEPUrl` (the browser-facing logout URL of the provider).
    pub fn with_logout_url(mut self, url: impl Into<String>) -> Self {
        self.set_property(oidc_keys::LOGOUT_URL, url);
        self
    }

    /// Sets `IsUserIdInClaims`.
    pub fn with_user_id_in_claims(mut self, on: bool) -> Self {
        self.set_property(oidc_keys::IS_USER_ID_IN_CLAIMS, bool_text(on));
        self
    }

    /// Sets `IsBasicAuthEnabled`.
    pub fn with_basic_auth(mut self, on: bool) -> Self {
        self.set_property(oidc_keys::IS_BASIC_AUTH_ENABLED, bool_text(on));
        self
    }

    /// Sets `commonAuthQueryParams`, e.g. `scope=openid groups`.
    pub fn with_common_auth_query_params(mut self, params: impl Into<String>) -> Self {
        self.set_property(oidc_keys::COMMON_AUTH_QUERY_PARAMS, params);
        self
    }

    /// Sets `Scopes` (ignored by authenticator 5.3.x; see [`oidc_keys::SCOPES`]).
    pub fn with_scopes(mut self, scopes: impl Into<String>) -> Self {
        self.set_property(oidc_keys::SCOPES, scopes);
        self
    }

    /// Keys that the authenticator would not read: a documented wrong key, or a known key in
    /// the wrong case. Each problem names the key to use.
    pub fn key_problems(&self) -> Vec<String> {
        key_problems(&self.config)
    }
}

fn key_problems(config: &FederatedAuthenticatorConfig) -> Vec<String> {
    let mut problems = Vec::new();
    for name in config.properties.iter().filter_map(|p| p.name.as_deref()) {
        if oidc_keys::ALL.contains(&name) {
            continue;
        }
        if let Some((_, right)) = oidc_keys::WRONG.iter().find(|(wrong, _)| *wrong == name) {
            problems.push(format!(
                "property {name:?} is not read by the OIDC authenticator; use {right:?}"
            ));
        } else if let Some(right) = oidc_keys::ALL.iter().find(|k| k.eq_ignore_ascii_case(name)) {
            problems.push(format!(
                "property {name:?} is not read by the OIDC authenticator (keys are case-sensitive); use {right:?}"
            ));
        }
    }
    problems
}

/// `Boolean.parseBoolean`: only a case-insensitive `true` is true.
fn java_boolean(text: &str) -> bool {
    text.eq_ignore_ascii_case("true")
}

fn bool_text(on: bool) -> &'static str {
    if on { "true" } else { "false" }
}

impl LocalRole {
    /// The server's split form of a local role name, as the management console builds it:
    /// `Internal/subscriber` is `userStoreId = Internal`, `localRoleName = subscriber`; a name
    /// without a domain (`admin`) has no `userStoreId` (the server then checks the name as is,
    /// which is the primary user store's role, the same as `userStoreId = PRIMARY`); a name with
    /// more than one `/` is kept whole as `localRoleName`.
    pub fn from_role_name(role: &RoleName) -> Self {
        let parts: Vec<&str> = role.as_str().split('/').collect();
        let mut local = Self::default();
        if let [domain, name] = parts.as_slice() {
            local.user_store_id = Some((*domain).to_owned());
            local.local_role_name = Some((*name).to_owned());
        } else {
            local.local_role_name = Some(role.as_str().to_owned());
        }
        local
    }

    /// The role name the server checks for this local role (`IdentityUtil.addDomainToName`):
    /// no domain, or a name that already has one, as is; `PRIMARY` (any case) gives the bare
    /// name; `Internal`, `Application` and `Workflow` (any case) are written with a capital
    /// first letter; any other domain in upper case. `None` when the name is blank or invalid.
    pub fn role_name(&self) -> Option<RoleName> {
        let name = self
            .local_role_name
            .as_deref()
            .filter(|n| !n.trim().is_empty())?;
        let domain = self
            .user_store_id
            .as_deref()
            .filter(|d| !d.trim().is_empty());
        let full = match domain {
            None => name.to_owned(),
            Some(_) if name.contains('/') => name.to_owned(),
            Some(d) if d.eq_ignore_ascii_case("PRIMARY") => name.to_owned(),
            Some(d)
                if ["Internal", "Application", "Workflow"]
                    .iter()
                    .any(|h| h.eq_ignore_ascii_case(d)) =>
            {
                let mut chars = d.chars();
                let first = chars.next().map(|c| c.to_ascii_uppercase());
                let rest: String = chars.as_str().to_ascii_lowercase();
                format!("{}{rest}/{name}", first.unwrap_or_default())
            }
            Some(d) => format!("{}/{name}", d.to_ascii_uppercase()),
        };
        RoleName::new(full).ok()
    }
}

impl RoleMapping {
    /// The mapping of the identity provider's role `remote` to the local role `local`.
    pub fn new(remote: impl Into<String>, local: &RoleName) -> Self {
        Self {
            local_role: Some(LocalRole::from_role_name(local)),
            remote_role: Some(remote.into()),
        }
    }
}

impl IdentityProvider {
    /// An enabled identity provider named `name`, with nothing else set.
    pub fn named(name: &IdpName) -> Self {
        Self {
            identity_provider_name: Some(name.as_str().to_owned()),
            enable: Some(true),
            ..Self::default()
        }
    }

    /// The `OpenIDConnectAuthenticator` among the federated authenticators, if any.
    pub fn oidc_authenticator(&self) -> Option<OidcAuthenticator> {
        self.federated_authenticator_configs
            .iter()
            .find(|c| c.name.as_deref() == Some(OIDC_AUTHENTICATOR_NAME))
            .cloned()
            .and_then(|c| OidcAuthenticator::from_config(c).ok())
    }

    /// Puts `oidc` among the federated authenticators (replacing the OIDC authenticator there),
    /// and makes it the default authenticator when `as_default` is set (as the console's
    /// "Default" tick does; a service provider step that names only the identity provider uses
    /// its default authenticator). A default authenticator that is already the OIDC one is
    /// updated too.
    pub fn set_oidc_authenticator(&mut self, oidc: OidcAuthenticator, as_default: bool) {
        let config = oidc.into_config();
        let is_oidc =
            |c: &FederatedAuthenticatorConfig| c.name.as_deref() == Some(OIDC_AUTHENTICATOR_NAME);
        match self
            .federated_authenticator_configs
            .iter_mut()
            .find(|c| is_oidc(c))
        {
            Some(existing) => *existing = config.clone(),
            None => self.federated_authenticator_configs.push(config.clone()),
        }
        if as_default
            || self
                .default_authenticator_config
                .as_ref()
                .is_some_and(is_oidc)
        {
            self.default_authenticator_config = Some(config);
        }
    }

    /// The claim that carries roles (`claimConfig.roleClaimURI`).
    pub fn role_claim_uri(&self) -> Option<&str> {
        self.claim_config.as_ref()?.role_claim_uri.as_deref()
    }

    /// Sets the claim that carries roles, e.g. [`OIDC_GROUPS_CLAIM`] for IS 5.9 as provider.
    pub fn set_role_claim_uri(&mut self, uri: impl Into<String>) {
        self.claim_config
            .get_or_insert_with(ClaimConfig::default)
            .role_claim_uri = Some(uri.into());
    }

    /// Sets the claim that carries roles.
    pub fn with_role_claim_uri(mut self, uri: impl Into<String>) -> Self {
        self.set_role_claim_uri(uri);
        self
    }

    /// Maps the provider's claim `remote` to the local claim `local` (e.g. `groups` to
    /// [`LOCAL_ROLE_CLAIM`]), replacing an existing mapping of `remote`.
    pub fn map_claim(&mut self, remote: impl Into<String>, local: impl Into<String>) {
        let remote = remote.into();
        let config = self.claim_config.get_or_insert_with(ClaimConfig::default);
        config.claim_mappings.retain(|m| {
            m.remote_claim.as_ref().and_then(|c| c.claim_uri.as_deref()) != Some(remote.as_str())
        });
        config.claim_mappings.push(ClaimMapping {
            local_claim: Some(Claim::uri(local)),
            remote_claim: Some(Claim::uri(remote)),
            ..ClaimMapping::default()
        });
    }

    /// The role mappings, as (remote role, local role name); mappings the server would drop
    /// (no remote role, no local role name) are left out.
    pub fn role_mappings(&self) -> Vec<(String, RoleName)> {
        let Some(config) = &self.permission_and_role_config else {
            return Vec::new();
        };
        config
            .role_mappings
            .iter()
            .filter_map(|m| {
                let remote = m.remote_role.clone()?;
                let local = m.local_role.as_ref()?.role_name()?;
                Some((remote, local))
            })
            .collect()
    }

    /// Replaces the role mappings, and sets `idpRoles` to their remote roles (what the server
    /// stores anyway). Permissions are kept.
    pub fn set_role_mappings<R: Into<String>>(
        &mut self,
        mappings: impl IntoIterator<Item = (R, RoleName)>,
    ) {
        let config = self
            .permission_and_role_config
            .get_or_insert_with(PermissionsAndRoleConfig::default);
        config.role_mappings = mappings
            .into_iter()
            .map(|(remote, local)| RoleMapping::new(remote, &local))
            .collect();
        config.idp_roles = config
            .role_mappings
            .iter()
            .filter_map(|m| m.remote_role.clone())
            .collect();
    }

    /// The local roles the mappings point to (check that they exist before writing: the
    /// server drops mappings to missing roles silently).
    pub fn mapped_local_roles(&self) -> Vec<RoleName> {
        self.role_mappings().into_iter().map(|(_, l)| l).collect()
    }

    /// Checks what an add or update needs; nothing is sent when this fails.
    fn check(&self, field: &str) -> Result<IdpName> {
        let name = self.identity_provider_name.as_deref().ok_or_else(|| {
            Error::invalid(format!("{field}.identityProviderName"), "is required")
        })?;
        let name = IdpName::new(name)?;
        if name.as_str().starts_with("SHARED_") {
            return Err(Error::invalid(
                format!("{field}.identityProviderName"),
                "must not start with SHARED_ (reserved by the server)",
            ));
        }
        if self.enable.is_none() {
            return Err(Error::invalid(
                format!("{field}.enable"),
                "must be set: the server reads an absent value as false and disables the identity provider",
            ));
        }
        if let Some(config) = &self.permission_and_role_config {
            for (i, m) in config.role_mappings.iter().enumerate() {
                let at = format!("{field}.permissionAndRoleConfig.roleMappings[{i}]");
                if m.remote_role.as_deref().is_none_or(|r| r.trim().is_empty()) {
                    return Err(Error::invalid(
                        format!("{at}.remoteRole"),
                        "is required (the server would drop the mapping silently)",
                    ));
                }
                let local_ok = m
                    .local_role
                    .as_ref()
                    .and_then(|l| l.local_role_name.as_deref())
                    .is_some_and(|n| !n.trim().is_empty());
                if !local_ok {
                    return Err(Error::invalid(
                        format!("{at}.localRole.localRoleName"),
                        "is required (the server would drop the mapping silently)",
                    ));
                }
            }
        }
        let oidc = self
            .default_authenticator_config
            .iter()
            .chain(&self.federated_authenticator_configs)
            .filter(|c| c.name.as_deref() == Some(OIDC_AUTHENTICATOR_NAME));
        for config in oidc {
            if let Some(problem) = key_problems(config).into_iter().next() {
                return Err(Error::invalid(
                    format!("{field}.federatedAuthenticatorConfigs[{OIDC_AUTHENTICATOR_NAME}]"),
                    problem,
                ));
            }
        }
        Ok(name)
    }
}

/// Handler for identity providers; get one with `IsClient::identity_providers()`.
#[derive(Debug, Clone, Copy)]
pub struct IdentityProviders<'c> {
    client: &'c CarbonClient,
}

impl<'c> IdentityProviders<'c> {
    /// The handler over a client core.
    pub fn new(client: &'c CarbonClient) -> Self {
        Self { client }
    }

    /// Registers `idp` (`addIdP`). The answer is returned unchanged: a 500 from APIM may
    /// follow a successful add, so after an error whose
    /// [`outcome_unknown`](Error::outcome_unknown) is true, read back with
    /// [`get`](Self::get) before deciding. A duplicate name faults with
    /// [`Error::is_already_exists`].
    ///
    /// Refused before sending: no or an invalid name, a `SHARED_` name, no `enable`, role
    /// mappings without a remote role or local role name, OIDC property keys the
    /// authenticator would not read, and redacted secrets.
    pub async fn add(&self, idp: &IdentityProvider) -> Result<()> {
        idp.check("identityProvider")?;
        self.client.call(&AddIdP::new(idp.clone())).await
    }

    /// The identity provider named `name`, or `None` when there is none.
    pub async fn get(&self, name: &IdpName) -> Result<Option<IdentityProvider>> {
        match self.client.call(&GetIdPByName::new(name)).await {
            Ok(Some(idp)) if idp.identity_provider_name.is_some() => Ok(Some(idp)),
            Ok(_) => Ok(None),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Replaces the identity provider named `old_name` with `idp` (`updateIdP`), renaming it
    /// when `idp`'s name differs. Authenticators and their properties are merged by the server,
    /// never removed. Checked like [`add`](Self::add). A missing `old_name` faults with
    /// [`Error::is_not_found`].
    pub async fn update(&self, old_name: &IdpName, idp: &IdentityProvider) -> Result<()> {
        idp.check("identityProvider")?;
        self.client
            .call(&UpdateIdP::new(old_name, idp.clone()))
            .await
    }

    /// Reads the identity provider, applies `change`, and writes back every field that was
    /// read. Returns the value written. Fails with [`Error::NotFound`] when it does not exist;
    /// renaming is refused here (use [`update`](Self::update)).
    pub async fn modify(
        &self,
        name: &IdpName,
        change: impl FnOnce(&mut IdentityProvider),
    ) -> Result<IdentityProvider> {
        let mut idp = self.get(name).await?.ok_or_else(|| Error::NotFound {
            operation: "getIdPByName",
            what: format!("identity provider {name:?}"),
        })?;
        change(&mut idp);
        if idp.identity_provider_name.as_deref() != Some(name.as_str()) {
            return Err(Error::invalid(
                "identityProvider.identityProviderName",
                "must not be changed by `modify`",
            ));
        }
        self.update(name, &idp).await?;
        Ok(idp)
    }

    /// Deletes the identity provider named `name`. Succeeds silently when there is none; faults
    /// while a service provider uses it.
    pub async fn delete(&self, name: &IdpName) -> Result<()> {
        self.client.call(&DeleteIdP::new(name)).await
    }

    /// Every identity provider of the tenant.
    pub async fn list(&self) -> Result<Vec<IdentityProvider>> {
        self.client.call(&GetAllIdPs::new()).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn role(n: &str) -> RoleName {
        RoleName::new(n).unwrap()
    }

    #[test]
    fn local_roles_split_like_the_console() {
        let l = LocalRole::from_role_name(&role("Internal/subscriber"));
        assert_eq!(l.user_store_id.as_deref(), Some("Internal"));
        assert_eq!(l.local_role_name.as_deref(), Some("subscriber"));
        let l = LocalRole::from_role_name(&role("publisher_role"));
        assert_eq!(l.user_store_id, None);
        assert_eq!(l.local_role_name.as_deref(), Some("publisher_role"));
        let l = LocalRole::from_role_name(&role("a/b/c"));
        assert_eq!(l.user_store_id, None);
        assert_eq!(l.local_role_name.as_deref(), Some("a/b/c"));
    }

    #[test]
    fn local_roles_join_like_the_server() {
        let join = |d: Option<&str>, n: &str| {
            let l = LocalRole {
                user_store_id: d.map(str::to_owned),
                local_role_name: Some(n.to_owned()),
            };
            l.role_name().map(String::from)
        };
        assert_eq!(
            join(Some("Internal"), "subscriber").unwrap(),
            "Internal/subscriber"
        );
        assert_eq!(
            join(Some("internal"), "subscriber").unwrap(),
            "Internal/subscriber"
        );
        assert_eq!(join(Some("APPLICATION"), "x").unwrap(), "Application/x");
        assert_eq!(join(Some("primary"), "admin").unwrap(), "admin");
        assert_eq!(join(None, "admin").unwrap(), "admin");
        assert_eq!(join(Some(""), "admin").unwrap(), "admin");
        assert_eq!(join(Some("ldap"), "devs").unwrap(), "LDAP/devs");
        assert_eq!(join(Some("X"), "Internal/y").unwrap(), "Internal/y");
        assert_eq!(join(Some("Internal"), " "), None);
        // Case of the role name itself is kept (role names are case-sensitive).
        assert_eq!(
            join(Some("Internal"), "Subscriber").unwrap(),
            "Internal/Subscriber"
        );
    }

    #[test]
    fn oidc_view_keeps_unknown_properties_and_attributes() {
        let mut config = OidcAuthenticator::new().into_config();
        let mut custom = Property::new("customKey", "v");
        custom.display_name = Some("Custom".into());
        let mut id = Property::new(oidc_keys::CLIENT_ID, "old");
        id.display_name = Some("Client Id".into());
        config.properties = vec![custom.clone(), id];
        let view = OidcAuthenticator::from_config(config)
            .unwrap()
            .with_client_id("new")
            .with_client_secret("s3cr3t")
            .with_basic_auth(true);
        assert_eq!(view.client_id(), Some("new"));
        assert_eq!(view.basic_auth(), Some(true));
        assert_eq!(view.client_secret().unwrap().expose(), Some("s3cr3t"));
        let props = &view.config().properties;
        assert_eq!(props[0], custom);
        assert_eq!(props[1].display_name.as_deref(), Some("Client Id"));
        assert_eq!(props[2].confidential, Some(true));
        assert_eq!(view.other_properties().count(), 1);
        assert!(!format!("{view:?}").contains("s3cr3t"));
    }

    #[test]
    fn wrong_keys_are_named() {
        let mut v = OidcAuthenticator::new();
        v.set_property("OAuth2AuthzUrl", "x");
        v.set_property("clientid", "x");
        v.set_property("somethingElse", "x");
        let p = v.key_problems();
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].contains("OAuth2AuthzEPUrl"));
        assert!(p[1].contains("ClientId"));
    }

    #[test]
    fn role_mappings_set_idp_roles() {
        let mut idp = IdentityProvider::named(&IdpName::new("x").unwrap());
        idp.set_role_mappings([
            ("user_role", role("Internal/subscriber")),
            ("publisher_role", role("Internal/publisher")),
        ]);
        let c = idp.permission_and_role_config.as_ref().unwrap();
        assert_eq!(c.idp_roles, vec!["user_role", "publisher_role"]);
        assert_eq!(
            idp.role_mappings(),
            vec![
                ("user_role".to_owned(), role("Internal/subscriber")),
                ("publisher_role".to_owned(), role("Internal/publisher")),
            ]
        );
    }
}
