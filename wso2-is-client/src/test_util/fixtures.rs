//! Fully populated model values: every field of every WSDL type set, with text that needs
//! escaping and non-ASCII characters, for round-trip, contract and fidelity tests.

#![allow(clippy::field_reassign_with_default)] // Every field set, one by one, visibly.

use crate::model::*;
use crate::{PropertyValue, Secret};

/// Text that needs escaping in XML, with quotes and non-ASCII letters.
pub const TRICKY: &str = "a & b <c> \"d\" 'e' ünï";

/// A property with every field set; a secret value when `confidential` or when the name says
/// it holds a secret.
pub fn property(name: &str, value: &str, confidential: bool) -> Property {
    let mut p = Property::default();
    p.advanced = Some(false);
    p.confidential = Some(confidential);
    p.default_value = Some(format!("default-{name}"));
    p.description = Some(format!("{name} {TRICKY}"));
    p.display_name = Some(format!("Display {name}"));
    p.display_order = Some(3);
    p.name = Some(name.to_owned());
    p.required = Some(true);
    p.r#type = Some("string".to_owned());
    p.value = Some(
        if confidential || PropertyValue::is_secret_property(Some(name), None) {
            PropertyValue::Secret(Secret::from(value))
        } else {
            PropertyValue::Plain(value.to_owned())
        },
    );
    p
}

/// A claim reference with its id.
pub fn claim(uri: &str, id: i32) -> Claim {
    let mut c = Claim::uri(uri);
    c.claim_id = Some(id);
    c
}

/// A claim configuration with every field set and two mappings.
pub fn claim_config() -> ClaimConfig {
    let mut m = ClaimMapping::default();
    m.default_value = Some("none".into());
    m.local_claim = Some(claim("http://wso2.org/claims/role", 1));
    m.mandatory = Some(true);
    m.remote_claim = Some(claim("roles", 2));
    m.requested = Some(true);
    let mut c = ClaimConfig::default();
    c.always_send_mapped_local_subject_id = Some(true);
    c.claim_mappings = vec![m.clone(), m];
    c.idp_claims = vec![claim("groups", 3), claim(TRICKY, 4)];
    c.local_claim_dialect = Some(false);
    c.role_claim_uri = Some("http://wso2.org/claims/role".into());
    c.sp_claim_dialects = vec!["http://wso2.org/oidc/claim".into(), "urn:x".into()];
    c.user_claim_uri = Some("http://wso2.org/claims/username".into());
    c
}

/// A federated authenticator named `name` with every field set and three properties (one secret).
pub fn federated_authenticator(name: &str) -> FederatedAuthenticatorConfig {
    let mut f = FederatedAuthenticatorConfig::default();
    f.display_name = Some("openidconnect".into());
    f.enabled = Some(true);
    f.name = Some(name.into());
    f.properties = vec![
        property("ClientId", "client-id-1", false),
        property("ClientSecret", "fixture-client-secret", true),
        property(
            "OAuth2AuthzEPUrl",
            "https://is.example.com:9444/oauth2/authorize",
            false,
        ),
    ];
    f.valid = Some(true);
    f
}

/// An outbound provisioning connector with every field set.
pub fn provisioning_connector() -> ProvisioningConnectorConfig {
    let mut p = ProvisioningConnectorConfig::default();
    p.blocking = Some(false);
    p.enabled = Some(true);
    p.name = Some("scim".into());
    p.provisioning_properties = vec![property("scim-user-ep", "https://x/scim2/Users", false)];
    p.rules_enabled = Some(false);
    p.valid = Some(true);
    p
}

/// An identity provider named `name` with every field set.
pub fn identity_provider(name: &str) -> IdentityProvider {
    let mut cert = CertificateInfo::default();
    cert.cert_value = Some("MIIB...".into());
    cert.thumb_print = Some("ab:cd".into());
    let mut prop = IdentityProviderProperty::default();
    prop.display_name = Some("Display".into());
    prop.name = Some("custom".into());
    prop.value = Some(TRICKY.into());
    let mut jit = JustInTimeProvisioningConfig::provision_silently("PRIMARY");
    jit.dumb_mode = Some(false);
    jit.user_store_claim_uri = Some("http://wso2.org/claims/userstore".into());
    let mut local = LocalRole::default();
    local.local_role_name = Some("subscriber".into());
    local.user_store_id = Some("Internal".into());
    let mut mapping = RoleMapping::default();
    mapping.local_role = Some(local);
    mapping.remote_role = Some("user_role".into());
    let mut perm = ApplicationPermission::default();
    perm.value = Some("/permission/admin/login".into());
    let mut roles = PermissionsAndRoleConfig::default();
    roles.idp_roles = vec!["user_role".into()];
    roles.permissions = vec![perm];
    roles.role_mappings = vec![mapping];

    let mut idp = IdentityProvider::default();
    idp.alias = Some("https://is.example.com:9444/oauth2/token".into());
    idp.certificate = Some("-----BEGIN CERTIFICATE-----".into());
    idp.certificate_info_array = vec![cert];
    idp.claim_config = Some(claim_config());
    idp.default_authenticator_config = Some(federated_authenticator("OpenIDConnectAuthenticator"));
    idp.default_provisioning_connector_config = Some(provisioning_connector());
    idp.display_name = Some(format!("{name} display"));
    idp.enable = Some(true);
    idp.federated_authenticator_configs =
        vec![federated_authenticator("OpenIDConnectAuthenticator")];
    idp.federation_hub = Some(false);
    idp.home_realm_id = Some("is".into());
    idp.id = Some("7".into());
    idp.identity_provider_description = Some(TRICKY.into());
    idp.identity_provider_name = Some(name.into());
    idp.idp_properties = vec![prop];
    idp.just_in_time_provisioning_config = Some(jit);
    idp.permission_and_role_config = Some(roles);
    idp.primary = Some(false);
    idp.provisioning_connector_configs = vec![provisioning_connector()];
    idp.provisioning_role = Some("Internal/everyone".into());
    idp
}

/// A local authenticator named `name` with every field set.
pub fn local_authenticator(name: &str) -> LocalAuthenticatorConfig {
    let mut l = LocalAuthenticatorConfig::default();
    l.display_name = Some("basic".into());
    l.enabled = Some(true);
    l.name = Some(name.into());
    l.properties = vec![property("k", "v", false)];
    l.valid = Some(true);
    l
}

/// An authentication step at position `order` with every field set.
pub fn step(order: i32) -> AuthenticationStep {
    let mut s = AuthenticationStep::default();
    s.attribute_step = Some(true);
    s.federated_identity_providers = vec![identity_provider("wso2is")];
    s.local_authenticator_configs = vec![local_authenticator("BasicAuthenticator")];
    s.step_order = Some(order);
    s.subject_step = Some(true);
    s
}

/// A service provider with every field of the WSDL type set.
pub fn service_provider(name: &str) -> ServiceProvider {
    let mut script = AuthenticationScriptConfig::default();
    script.content = Some("var onLoginRequest = function(context) { executeStep(1); };".into());
    script.enabled = Some(false);
    script.language = Some("application/javascript".into());
    let mut auth = LocalAndOutboundAuthenticationConfig::default();
    auth.always_send_back_authenticated_list_of_idps = Some(false);
    auth.authentication_script_config = Some(script);
    auth.authentication_step_for_attributes = Some(step(1));
    auth.authentication_step_for_subject = Some(step(1));
    auth.authentication_steps = vec![step(1), step(2)];
    auth.authentication_type = Some("flow".into());
    auth.enable_authorization = Some(false);
    auth.subject_claim_uri = Some("http://wso2.org/claims/username".into());
    auth.use_tenant_domain_in_local_subject_identifier = Some(false);
    auth.use_userstore_domain_in_local_subject_identifier = Some(true);
    auth.use_userstore_domain_in_roles = Some(true);

    let mut inbound = InboundAuthenticationRequestConfig::default();
    inbound.friendly_name = Some("OAuth".into());
    inbound.inbound_auth_key = Some("consumer-key-1".into());
    inbound.inbound_auth_type = Some("oauth2".into());
    inbound.inbound_config_type = Some("standardAPP".into());
    inbound.inbound_configuration = Some("<xml/>".into());
    inbound.properties = vec![property(
        "oauthConsumerSecret",
        "fixture-consumer-secret",
        false,
    )];
    let mut inbound_cfg = InboundAuthenticationConfig::default();
    inbound_cfg.inbound_authentication_request_configs = vec![inbound];

    let mut inprov = InboundProvisioningConfig::default();
    inprov.dumb_mode = Some(false);
    inprov.provisioning_enabled = Some(false);
    inprov.provisioning_user_store = Some("PRIMARY".into());

    let mut outprov = OutboundProvisioningConfig::default();
    outprov.provision_by_role_list = vec!["admin".into()];
    outprov.provisioning_identity_providers = vec![identity_provider("outbound-idp")];

    let mut owner = User::default();
    owner.tenant_domain = Some("carbon.super".into());
    owner.user_name = Some("admin".into());
    owner.user_store_domain = Some("PRIMARY".into());

    let mut roles = PermissionsAndRoleConfig::default();
    roles.idp_roles = vec!["r".into()];
    let mut perm = ApplicationPermission::default();
    perm.value = Some("/permission/applications/x".into());
    roles.permissions = vec![perm];

    let mut spp = ServiceProviderProperty::default();
    spp.display_name = Some("Display".into());
    spp.name = Some("managedBy".into());
    spp.value = Some(TRICKY.into());

    let mut sp = ServiceProvider::default();
    sp.application_id = Some(42);
    sp.application_name = Some(name.into());
    sp.certificate_content = Some("-----BEGIN CERTIFICATE-----".into());
    sp.claim_config = Some(claim_config());
    sp.description = Some(TRICKY.into());
    sp.inbound_authentication_config = Some(inbound_cfg);
    sp.inbound_provisioning_config = Some(inprov);
    sp.local_and_out_bound_authentication_config = Some(auth);
    sp.outbound_provisioning_config = Some(outprov);
    sp.owner = Some(owner);
    sp.permission_and_role_config = Some(roles);
    sp.request_path_authenticator_configs =
        vec![local_authenticator("BasicAuthRequestPathAuthenticator")];
    sp.saas_app = Some(true);
    sp.sp_properties = vec![spp];
    sp
}

/// An OAuth application with every field of `OAuthConsumerAppDTO` (6.2.28) set, lists with two
/// entries, and text that needs escaping.
pub fn oauth_app(name: &str) -> crate::oauth::OAuthConsumerAppDTO {
    let mut app = crate::oauth::OAuthConsumerAppDTO::default();
    app.oauth_version = Some("OAuth-2.0".into());
    app.application_access_token_expiry_time = Some(3600);
    app.application_name = Some(name.into());
    app.audiences = vec!["https://apim.example.com".into(), TRICKY.into()];
    app.back_channel_logout_url = Some("https://apim.example.com/bc-logout".into());
    app.bypass_client_credentials = Some(false);
    app.callback_url = Some(
        "regexp=(https://apim.example.com:9443/commonauth|https://apim.example.com:9443/t/x/commonauth)"
            .into(),
    );
    app.frontchannel_logout_url = Some("https://apim.example.com/fc-logout?a=1&b=2".into());
    app.grant_types = Some("authorization_code refresh_token".into());
    app.id_token_encryption_algorithm = Some("RSA-OAEP".into());
    app.id_token_encryption_enabled = Some(false);
    app.id_token_encryption_method = Some("A128GCM".into());
    app.id_token_expiry_time = Some(3600);
    app.oauth_consumer_key = Some("fixture-consumer-key".into());
    app.oauth_consumer_secret = Some(Secret::from("fixture-oauth-secret"));
    app.pkce_mandatory = Some(false);
    app.pkce_support_plain = Some(true);
    app.refresh_token_expiry_time = Some(86400);
    app.renew_refresh_token_enabled = Some("true".into());
    app.request_object_signature_validation_enabled = Some(false);
    app.scope_validators = vec![
        "Role based scope validator".into(),
        "XACML Scope Validator".into(),
    ];
    app.state = Some("ACTIVE".into());
    app.token_type = Some("Default".into());
    app.user_access_token_expiry_time = Some(3600);
    app.username = Some("admin".into());
    app
}

/// An identity provider whose OIDC authenticator carries every known property key (and one
/// unknown), with the client secret `secret`, role mappings and JIT, as the federation sets it up.
pub fn oidc_identity_provider(name: &str, secret: &str) -> IdentityProvider {
    use crate::idp::OidcAuthenticator;
    use crate::{IdpName, RoleName};
    let oidc = OidcAuthenticator::new()
        .with_client_id("apim-client")
        .with_client_secret(secret)
        .with_authorize_url("https://is.example.com:9444/oauth2/authorize")
        .with_token_url("https://is-internal:9444/oauth2/token")
        .with_callback_url("https://apim.example.com:9443/commonauth")
        .with_user_info_url("https://is-internal:9444/oauth2/userinfo")
        .with_logout_url("https://is.example.com:9444/oidc/logout")
        .with_user_id_in_claims(false)
        .with_basic_auth(true)
        .with_common_auth_query_params("scope=openid groups&prompt=login")
        .with_scopes("openid groups");
    let mut idp = IdentityProvider::named(&IdpName::new(name).expect("a valid fixture name"))
        .with_role_claim_uri("groups");
    idp.set_oidc_authenticator(oidc, true);
    idp.just_in_time_provisioning_config =
        Some(JustInTimeProvisioningConfig::provision_silently("PRIMARY"));
    idp.set_role_mappings([
        (
            "user_role",
            RoleName::new("Internal/subscriber").expect("a valid fixture name"),
        ),
        (
            "publisher_role",
            RoleName::new("Internal/publisher").expect("a valid fixture name"),
        ),
    ]);
    idp
}
