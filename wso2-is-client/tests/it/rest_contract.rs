//! Contract checks of the REST clients against WSO2's real OpenAPI/Swagger specs (from
//! `$WSO2_CONTRACTS_DIR/rest` and `/scim2`), run by `tests/tools/rest_contract.py` with
//! openapi-core (PyPI) through `$WSO2_TEST_PYTHON`:
//!
//! * every request the REST clients can send (method, path, query, body), built by the crate's
//!   pure `*_request` methods, validates against the spec of the release it targets, and sends
//!   no field that release's spec does not list;
//! * realistic answers (written here from the specs, with fields the crate does not model)
//!   validate against the specs, decode, and keep what is not modelled; an OIDC read sent back
//!   unchanged is byte-for-byte what was read;
//! * every answer type decodes from the answer the spec's own examples make up.
//!
//! Fails in CI when the specs or the validator are missing; skips with the reason elsewhere.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use wso2_is_client::carbon::{HttpAnswer, RestRequest};
use wso2_is_client::oauth::GrantType;
use wso2_is_client::rest::{
    AdvancedConfigurations, Application, ApplicationId, ApplicationList, ApplicationPatch,
    AssociatedRoles, AuthenticationSequence, AuthenticationStep, AuthenticatorOption,
    ClaimConfiguration, NewApplication, OidcConfiguration, OidcScope, RestErrorBody,
    RoleAudienceKind, SequenceType, TokenEndpointAuthMethod, decode_oidc,
};
use wso2_is_client::scim2::{
    RoleAudience, RoleMemberKind, RolePermission, ScimMember, ScimRole, decode_answer,
    decode_list_answer,
};
use wso2_is_client::server::ProbeKind;
use wso2_is_client::version::{IsCapabilities, ServerVersion};
use wso2_is_client::{ApplicationName, IsClient, RoleName};

use crate::support::{contracts_dir, python, require};

/// The specs of each IS release with REST (file names below the contracts directory).
struct Specs {
    version: ServerVersion,
    applications: &'static str,
    scopes: &'static str,
    /// The SCIM2 spec, when it has `/Roles`.
    scim2_roles: Option<&'static str>,
}

const SPECS: &[Specs] = &[
    Specs {
        version: ServerVersion::is(5, 10),
        applications: "rest/applications.yaml",
        scopes: "rest/oidc-scope-management.v1.0.82-is5.10.yaml",
        scim2_roles: None,
    },
    Specs {
        version: ServerVersion::is(5, 11),
        applications: "rest/applications.v1.0.190-is5.11.yaml",
        scopes: "rest/oidc-scope-management.v1.0.82-is5.10.yaml",
        scim2_roles: Some("scim2/scim2.v1.5.46-is5.11.yaml"),
    },
    Specs {
        version: ServerVersion::is(6, 0),
        applications: "rest/applications.v1.2.3-is6.0.yaml",
        scopes: "rest/oidc-scope-management.v1.2.176-is6.0-7.1.yaml",
        scim2_roles: Some("scim2/scim2.v1.5.46-is5.11.yaml"),
    },
    Specs {
        version: ServerVersion::is(6, 1),
        applications: "rest/applications.v1.2.23-is6.1.yaml",
        scopes: "rest/oidc-scope-management.v1.2.176-is6.0-7.1.yaml",
        scim2_roles: Some("scim2/scim2.v1.5.46-is5.11.yaml"),
    },
    Specs {
        version: ServerVersion::is(7, 0),
        applications: "rest/applications.v1.2.176-is7.yaml",
        scopes: "rest/oidc-scope-management.v1.2.176-is6.0-7.1.yaml",
        scim2_roles: Some("scim2/scim2.v3.4.67-is7.yaml"),
    },
    Specs {
        version: ServerVersion::is(7, 1),
        applications: "rest/applications.v1.3.83-is7.1.yaml",
        scopes: "rest/oidc-scope-management.v1.2.176-is6.0-7.1.yaml",
        scim2_roles: Some("scim2/scim2.v3.4.67-is7.yaml"),
    },
];

fn client() -> IsClient {
    IsClient::builder("https://is.example.com:9443")
        .credentials("admin", "admin")
        .build()
        .unwrap()
}

fn app_id() -> ApplicationId {
    ApplicationId::new("29048810-1447-4ea0-a348-30d15ab65fa3").unwrap()
}

/// The application the federation creates on `caps.version`, version differences decided from
/// the capabilities (and, for console metadata, from the release).
fn federation_app(caps: &IsCapabilities) -> NewApplication {
    let v = caps.version;
    let mut oidc =
        OidcConfiguration::new(vec![GrantType::AuthorizationCode, GrantType::RefreshToken])
            .with_callback_urls(["https://apim.example.com:9443/commonauth"])
            .with_allowed_origins(["https://apim.example.com:9443"])
            .with_public_client(false)
            .with_pkce(false, false)
            .with_client_credentials("apim-sso-client", "apim-sso-secret");
    if caps.token_endpoint_auth_method {
        oidc = oidc.with_token_endpoint_auth_method(TokenEndpointAuthMethod::ClientSecretBasic);
    }
    let mut claims = ClaimConfiguration::local_with_mandatory(caps.role_claim);
    if !v.at_least(6, 0) {
        claims = claims.with_role_claim(caps.role_claim);
    }
    if caps.subject_is_uuid {
        claims = claims.with_subject_claim("http://wso2.org/claims/username");
        if let Some(subject) = claims.subject.as_mut() {
            subject.mapped_local_subject_mandatory = Some(false);
        }
    }
    let mut app = NewApplication::new(&ApplicationName::new("apim-sso").unwrap())
        .with_description("APIM login through IS (wso2-federation)")
        .with_oidc(oidc)
        .with_claim_configuration(claims)
        .with_advanced_configurations(
            AdvancedConfigurations::default().with_consent_skipped(caps.consent, true),
        );
    if v.at_least(5, 11) {
        app = app.with_template_id("b9c5e11e-fc78-484b-9bec-015d247561b8");
    }
    if v.at_least(7, 0) {
        app = app.with_associated_roles(AssociatedRoles::new(RoleAudienceKind::Application));
    }
    app
}

fn federated_sequence() -> AuthenticationSequence {
    AuthenticationSequence {
        kind: Some(SequenceType::UserDefined),
        steps: Some(vec![AuthenticationStep {
            id: 1,
            options: vec![AuthenticatorOption {
                idp: "LOCAL".into(),
                authenticator: "BasicAuthenticator".into(),
                extra: Default::default(),
            }],
            extra: Default::default(),
        }]),
        subject_step_id: Some(1),
        attribute_step_id: Some(1),
        extra: Default::default(),
    }
}

#[derive(Debug)]
struct Case {
    spec: &'static str,
    label: String,
    req: RestRequest,
}

impl Case {
    fn new(spec: &'static str, label: impl Into<String>, req: RestRequest) -> Self {
        Self {
            spec,
            label: label.into(),
            req,
        }
    }

    fn json(&self, id: usize) -> Value {
        let body = self
            .req
            .body
            .as_ref()
            .map(|b| serde_json::from_slice::<Value>(&b.0).unwrap());
        json!({
            "id": id.to_string(),
            "spec": self.spec,
            "method": self.req.method.as_str(),
            "path": self.req.path,
            "content_type": self.req.content_type,
            "body": body,
        })
    }
}

/// Every request the REST clients can send, per release, against that release's spec.
fn request_cases(is: &IsClient) -> Vec<Case> {
    let apps = is.rest_applications();
    let scopes = is.oidc_scopes();
    let id = app_id();
    let name = ApplicationName::new("apim-sso").unwrap();
    let spaced = ApplicationName::new("APIM single sign-on").unwrap();
    let mut cases = Vec::new();
    for s in SPECS {
        let caps = IsCapabilities::of(s.version);
        let v = s.version.to_string();
        let spec = s.applications;
        let app = federation_app(&caps);
        cases.push(Case::new(
            spec,
            format!("{v} create (federation)"),
            apps.create_request(&app).unwrap(),
        ));
        let minimal = NewApplication::new(&name)
            .with_oidc(OidcConfiguration::new(vec![GrantType::AuthorizationCode]));
        cases.push(Case::new(
            spec,
            format!("{v} create (minimal)"),
            apps.create_request(&minimal).unwrap(),
        ));
        let full = federation_app(&caps).with_authentication_sequence(federated_sequence());
        cases.push(Case::new(
            spec,
            format!("{v} create (with sequence)"),
            apps.create_request(&full).unwrap(),
        ));
        cases.push(Case::new(
            spec,
            format!("{v} find"),
            apps.find_request(&name, 0, 100),
        ));
        cases.push(Case::new(
            spec,
            format!("{v} find (spaced name)"),
            apps.find_request(&spaced, 100, 100),
        ));
        cases.push(Case::new(
            spec,
            format!("{v} list"),
            apps.list_request(0, 20),
        ));
        cases.push(Case::new(spec, format!("{v} get"), apps.get_request(&id)));
        cases.push(Case::new(
            spec,
            format!("{v} delete"),
            apps.delete_request(&id),
        ));
        cases.push(Case::new(
            spec,
            format!("{v} get oidc"),
            apps.get_oidc_request(&id),
        ));
        let oidc = app
            .inbound_protocol_configuration
            .clone()
            .unwrap()
            .oidc
            .unwrap();
        cases.push(Case::new(
            spec,
            format!("{v} put oidc"),
            apps.put_oidc_request(&id, &oidc).unwrap(),
        ));
        let consent = ApplicationPatch::new().advanced_configurations(
            AdvancedConfigurations::default().with_consent_skipped(caps.consent, true),
        );
        if !consent.is_empty() {
            cases.push(Case::new(
                spec,
                format!("{v} patch consent"),
                apps.patch_request(&id, &consent).unwrap(),
            ));
        }
        let claims = ApplicationPatch::new()
            .description("changed")
            .claim_configuration(app.claim_configuration.clone().unwrap())
            .authentication_sequence(federated_sequence());
        cases.push(Case::new(
            spec,
            format!("{v} patch claims"),
            apps.patch_request(&id, &claims).unwrap(),
        ));
        cases.push(Case::new(
            spec,
            format!("{v} probe"),
            ProbeKind::RestApplications.request(is.core()).unwrap(),
        ));

        let scope_spec = s.scopes;
        cases.push(Case::new(
            scope_spec,
            format!("{v} list scopes"),
            scopes.list_request(),
        ));
        cases.push(Case::new(
            scope_spec,
            format!("{v} get scope"),
            scopes.get_request("openid").unwrap(),
        ));
        let read = OidcScope {
            name: "openid".into(),
            display_name: "openid".into(),
            description: Some("default scope".into()),
            claims: vec!["sub".into()],
            extra: Default::default(),
        };
        cases.push(Case::new(
            scope_spec,
            format!("{v} update scope"),
            scopes
                .update_request("openid", &read.with_claim_added("groups"))
                .unwrap(),
        ));

        let Some(scim_spec) = s.scim2_roles else {
            continue;
        };
        let role_name = RoleName::new("publisher_role").unwrap();
        let member = ScimMember::new("008bba85-451d-414b-87de-c03b5a1f4217").with_display("kim");
        let mut apis = vec![(is.scim2().roles(), ProbeKind::ScimRolesV1)];
        if s.version.at_least(7, 0) {
            apis.push((is.scim2().roles_v2(), ProbeKind::ScimRolesV2));
        }
        for (roles, probe) in apis {
            let api = format!("{v} {:?}", roles.api());
            let role = if roles.api() == wso2_is_client::scim2::RolesApi::V1 {
                ScimRole::new(&role_name)
                    .with_user(member.clone())
                    .with_permission(RolePermission::Path("/permission/admin/login".into()))
            } else {
                ScimRole::new(&role_name)
                    .with_audience(RoleAudience::application(id.as_str()))
                    .with_user(member.clone())
                    .with_permission(RolePermission::Scope {
                        value: "internal_login".into(),
                        display: None,
                    })
            };
            cases.push(Case::new(
                scim_spec,
                format!("{api} create role"),
                roles.create_request(&role).unwrap(),
            ));
            cases.push(Case::new(
                scim_spec,
                format!("{api} create role (name only)"),
                roles.create_request(&ScimRole::new(&role_name)).unwrap(),
            ));
            cases.push(Case::new(
                scim_spec,
                format!("{api} find role"),
                roles.find_request(&role_name),
            ));
            cases.push(Case::new(
                scim_spec,
                format!("{api} get role"),
                roles.get_request("4645709c").unwrap(),
            ));
            let add = wso2_is_client::scim2::add_members_patch(
                RoleMemberKind::Users,
                std::slice::from_ref(&member),
            )
            .unwrap();
            cases.push(Case::new(
                scim_spec,
                format!("{api} add users"),
                roles.patch_request("4645709c", &add).unwrap(),
            ));
            let add_groups = wso2_is_client::scim2::add_members_patch(
                RoleMemberKind::Groups,
                &[ScimMember::new("7bac6a86")],
            )
            .unwrap();
            cases.push(Case::new(
                scim_spec,
                format!("{api} add groups"),
                roles.patch_request("4645709c", &add_groups).unwrap(),
            ));
            let remove =
                wso2_is_client::scim2::remove_members_patch(RoleMemberKind::Users, &["008bba85"])
                    .unwrap();
            cases.push(Case::new(
                scim_spec,
                format!("{api} remove users"),
                roles.patch_request("4645709c", &remove).unwrap(),
            ));
            cases.push(Case::new(
                scim_spec,
                format!("{api} delete role"),
                roles.delete_request("4645709c").unwrap(),
            ));
            cases.push(Case::new(
                scim_spec,
                format!("{api} probe"),
                probe.request(is.core()).unwrap(),
            ));
        }
    }
    cases
}

/// Bodies the validator must refuse: proof that it is alive and strict.
fn refused_cases(is: &IsClient) -> Vec<Case> {
    let apps = is.rest_applications();
    let id = app_id();
    let v511 = federation_app(&IsCapabilities::of(ServerVersion::is(5, 11)));
    let v70 = federation_app(&IsCapabilities::of(ServerVersion::is(7, 0)));
    let mut no_grants = v511.clone();
    no_grants.inbound_protocol_configuration = None;
    no_grants.extra.insert(
        "inboundProtocolConfiguration".into(),
        json!({"oidc": {"callbackURLs": ["https://x/commonauth"]}}),
    );
    let mut wrong_type = NewApplication::new(&ApplicationName::new("x").unwrap());
    wrong_type
        .extra
        .insert("advancedConfigurations".into(), json!({"saas": "yes"}));
    vec![
        // skipLoginConsent and templateId are IS 5.11 fields.
        Case::new(
            "rest/applications.yaml",
            "5.11 body sent to 5.10",
            apps.create_request(&v511).unwrap(),
        ),
        // clientAuthentication, associatedRoles and mappedLocalSubjectMandatory are IS 7.0 fields.
        Case::new(
            "rest/applications.v1.2.23-is6.1.yaml",
            "7.0 body sent to 6.1",
            apps.create_request(&v70).unwrap(),
        ),
        Case::new(
            "rest/applications.v1.2.176-is7.yaml",
            "OIDC without grantTypes",
            apps.create_request(&no_grants).unwrap(),
        ),
        Case::new(
            "rest/applications.v1.2.176-is7.yaml",
            "saas as a string",
            apps.create_request(&wrong_type).unwrap(),
        ),
        Case::new("rest/applications.v1.2.176-is7.yaml", "unknown path", {
            let mut r = apps.get_request(&id);
            r.path = r.path.replace("applications", "applicationz");
            r
        }),
    ]
}

/// A realistic answer: what a release sends, with fields the crate does not model.
struct Answer {
    spec: &'static str,
    label: &'static str,
    method: &'static str,
    path: String,
    status: u16,
    body: Value,
}

fn realistic_answers() -> Vec<Answer> {
    let id = app_id();
    let app_path = format!("api/server/v1/applications/{id}");
    let oidc_path = format!("{app_path}/inbound-protocols/oidc");
    let app_510 = json!({
        "id": id.as_str(), "name": "apim-sso", "description": "APIM login",
        "imageUrl": "https://is/img.png", "accessUrl": "https://apim/devportal",
        "claimConfiguration": {
            "dialect": "LOCAL",
            "claimMappings": [{"applicationClaim": "role", "localClaim": {"uri": "http://wso2.org/claims/role"}}],
            "requestedClaims": [{"claim": {"uri": "http://wso2.org/claims/role", "displayName": "Role"}, "mandatory": true}],
            "subject": {"claim": {"uri": "http://wso2.org/claims/username"}, "includeUserDomain": false, "includeTenantDomain": false, "useMappedLocalSubject": false},
            "role": {"mappings": [], "includeUserDomain": true, "claim": {"uri": "http://wso2.org/claims/role"}}
        },
        "inboundProtocols": [{"type": "oauth2", "name": "OAuth2/OIDC", "self": format!("/t/carbon.super/{oidc_path}")}],
        "authenticationSequence": {"type": "DEFAULT", "steps": [{"id": 1, "options": [{"idp": "LOCAL", "authenticator": "BasicAuthenticator"}]}], "requestPathAuthenticators": [], "subjectStepId": 1, "attributeStepId": 1},
        "advancedConfigurations": {"saas": false, "discoverableByEndUsers": false, "skipConsent": true, "returnAuthenticatedIdpList": false, "enableAuthorization": false, "certificate": {"type": "PEM", "value": "MIIB"}},
        "provisioningConfigurations": {"outboundProvisioningIdps": [], "inboundProvisioning": {"proxyMode": false}}
    });
    let app_71 = json!({
        "id": id.as_str(), "name": "apim-sso", "description": "APIM login", "applicationVersion": "v2.0.0",
        "clientId": "apim-sso-client", "issuer": "", "realm": "", "templateId": "b9c5e11e-fc78-484b-9bec-015d247561b8",
        "templateVersion": "1.0.0", "isManagementApp": false, "isB2BSelfServiceApp": false, "applicationEnabled": true,
        "logoutReturnUrl": "https://apim/logout",
        "associatedRoles": {"allowedAudience": "APPLICATION", "roles": [{"id": "bf5abd05", "name": "publisher"}]},
        "claimConfiguration": {
            "dialect": "LOCAL",
            "requestedClaims": [{"claim": {"id": "aHR0c", "uri": "http://wso2.org/claims/groups", "displayName": "Groups"}, "mandatory": true}],
            "subject": {"claim": {"uri": "http://wso2.org/claims/username"}, "includeUserDomain": false, "includeTenantDomain": false, "useMappedLocalSubject": false, "mappedLocalSubjectMandatory": false}
        },
        "inboundProtocols": [{"type": "oauth2", "name": "OAuth2/OIDC", "self": format!("/t/carbon.super/{oidc_path}")}],
        "advancedConfigurations": {"saas": false, "skipLoginConsent": true, "skipLogoutConsent": true, "useExternalConsentPage": false, "enableAPIBasedAuthentication": false, "fragment": false, "attestationMetaData": {"enableClientAttestation": false}, "additionalSpProperties": [{"name": "displayName", "value": "APIM"}]},
        "access": "WRITE"
    });
    let oidc_510 = json!({
        "clientId": "apim-sso-client", "clientSecret": "apim-sso-secret", "state": "ACTIVE",
        "grantTypes": ["authorization_code", "refresh_token"],
        "callbackURLs": ["https://apim.example.com:9443/commonauth"], "allowedOrigins": [],
        "publicClient": false, "pkce": {"mandatory": false, "supportPlainTransformAlgorithm": true},
        "accessToken": {"type": "Default", "userAccessTokenExpiryInSeconds": 3600, "applicationAccessTokenExpiryInSeconds": 3600},
        "refreshToken": {"expiryInSeconds": 86400, "renewRefreshToken": true},
        "idToken": {"expiryInSeconds": 3600, "audience": [], "encryption": {"enabled": false}},
        "logout": {"backChannelLogoutUrl": "", "frontChannelLogoutUrl": ""},
        "validateRequestObjectSignature": false, "scopeValidators": [], "accessTokenBindingType": "None"
    });
    let oidc_71 = json!({
        "clientId": "apim-sso-client", "clientSecret": "apim-sso-secret", "state": "ACTIVE",
        "grantTypes": ["authorization_code"], "callbackURLs": ["https://apim.example.com:9443/commonauth"],
        "allowedOrigins": ["https://apim.example.com:9443"], "publicClient": false,
        "pkce": {"mandatory": false, "supportPlainTransformAlgorithm": false},
        "accessToken": {"type": "JWT", "userAccessTokenExpiryInSeconds": 3600, "applicationAccessTokenExpiryInSeconds": 3600, "bindingType": "None", "revokeTokensWhenIDPSessionTerminated": false, "validateTokenBinding": false, "accessTokenAttributes": []},
        "hybridFlow": {"enable": false, "responseType": ""},
        "refreshToken": {"expiryInSeconds": 86400, "renewRefreshToken": true},
        "subjectToken": {"enable": false, "applicationSubjectTokenExpiryInSeconds": 180},
        "idToken": {"expiryInSeconds": 3600, "audience": [], "idTokenSignedResponseAlg": "RS256", "encryption": {"enabled": false}},
        "logout": {"backChannelLogoutUrl": "", "frontChannelLogoutUrl": ""},
        "validateRequestObjectSignature": false, "scopeValidators": [],
        "clientAuthentication": {"tokenEndpointAuthMethod": "client_secret_basic", "tokenEndpointAllowReusePvtKeyJwt": false},
        "requestObject": {"requestObjectSigningAlg": "", "encryption": {"algorithm": "", "method": ""}},
        "pushAuthorizationRequest": {"requirePushAuthorizationRequest": false},
        "subject": {"subjectType": "public"}, "isFAPIApplication": false
    });
    let list_61 = json!({
        "totalResults": 2, "startIndex": 1, "count": 2,
        "applications": [
            {"id": id.as_str(), "name": "apim-sso", "description": "", "image": "", "accessUrl": "", "clientId": "apim-sso-client", "issuer": "", "access": "WRITE", "self": format!("/t/carbon.super/{app_path}"), "advancedConfigurations": {"discoverableByEndUsers": false}, "templateId": ""},
            {"id": "11111111-2222", "name": "apim-sso-2", "access": "READ", "self": "/t/carbon.super/api/server/v1/applications/11111111-2222"}
        ],
        "links": [{"href": "applications?offset=2&limit=2", "rel": "next"}]
    });
    let error = json!({"code": "APP-65001", "message": "Error while creating the application.", "description": "Application with name apim-sso already exists.", "traceId": "3a5e5c4b-5b3c"});
    let scope = json!({"name": "openid", "displayName": "openid", "description": "", "claims": ["sub", "email", "groups"]});
    let role_v1 = json!({
        "schemas": ["urn:ietf:params:scim:schemas:extension:2.0:Role"], "id": "4645709c", "displayName": "publisher_role",
        "meta": {"location": "https://is/scim2/Roles/4645709c", "resourceType": "Role", "created": "2024-01-01T00:00:00Z", "lastModified": "2024-01-01T00:00:00Z"},
        "users": [{"$ref": "https://is/scim2/Users/008bba85", "display": "kim", "value": "008bba85"}],
        "groups": [], "permissions": ["/permission/admin/login"]
    });
    let role_v2 = json!({
        "schemas": ["urn:ietf:params:scim:schemas:extension:2.0:Role"], "id": "4645709c", "displayName": "publisher",
        "meta": {"location": "https://is/scim2/v2/Roles/4645709c", "resourceType": "Role"},
        "audience": {"value": id.as_str(), "display": "apim-sso", "type": "application"},
        "users": [{"$ref": "https://is/scim2/Users/008bba85", "display": "kim", "value": "008bba85"}],
        "permissions": [{"value": "internal_login", "display": "Login"}],
        "associatedApplications": [{"value": id.as_str(), "display": "apim-sso"}]
    });
    let a = |spec, label, method, path: &str, status, body| Answer {
        spec,
        label,
        method,
        path: path.to_owned(),
        status,
        body,
    };
    vec![
        a(
            "rest/applications.yaml",
            "5.10 application",
            "GET",
            &app_path,
            200,
            app_510,
        ),
        a(
            "rest/applications.v1.3.83-is7.1.yaml",
            "7.1 application",
            "GET",
            &app_path,
            200,
            app_71,
        ),
        a(
            "rest/applications.yaml",
            "5.10 OIDC",
            "GET",
            &oidc_path,
            200,
            oidc_510,
        ),
        a(
            "rest/applications.v1.3.83-is7.1.yaml",
            "7.1 OIDC",
            "GET",
            &oidc_path,
            200,
            oidc_71,
        ),
        a(
            "rest/applications.v1.2.23-is6.1.yaml",
            "6.1 list",
            "GET",
            "api/server/v1/applications",
            200,
            list_61,
        ),
        a(
            "rest/applications.v1.0.190-is5.11.yaml",
            "5.11 duplicate (500)",
            "POST",
            "api/server/v1/applications",
            500,
            error,
        ),
        a(
            "rest/oidc-scope-management.v1.2.176-is6.0-7.1.yaml",
            "scope",
            "GET",
            "api/server/v1/oidc/scopes/openid",
            200,
            scope,
        ),
        a(
            "scim2/scim2.v1.5.46-is5.11.yaml",
            "v1 role",
            "GET",
            "scim2/Roles/4645709c",
            200,
            role_v1,
        ),
        a(
            "scim2/scim2.v3.4.67-is7.yaml",
            "v2 role",
            "GET",
            "scim2/v2/Roles/4645709c",
            200,
            role_v2,
        ),
    ]
}

fn http_answer(status: u16, body: &Value) -> HttpAnswer {
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        "application/json".parse().unwrap(),
    );
    HttpAnswer {
        status,
        headers,
        body: bytes::Bytes::from(body.to_string()),
    }
}

/// Decodes `body` as the answer type of (spec, method, path, status); returns what was decoded.
fn decode(
    spec: &str,
    method: &str,
    path: &str,
    status: u16,
    body: &Value,
) -> Result<String, String> {
    let is_scim = spec.starts_with("scim2/");
    let err = |e: &dyn std::fmt::Display| e.to_string();
    if status >= 400 && !is_scim {
        return serde_json::from_value::<RestErrorBody>(body.clone())
            .map(|b| format!("{b:?}"))
            .map_err(|e| err(&e));
    }
    let answer = http_answer(status, body);
    if is_scim {
        if path.contains("/Roles/") || method == "POST" {
            return decode_answer::<ScimRole>("role", &answer)
                .map(|r| r.display_name)
                .map_err(|e| err(&e));
        }
        return decode_list_answer::<ScimRole>("roles", &answer)
            .map(|r| format!("{} roles", r.len()))
            .map_err(|e| err(&e));
    }
    if path.ends_with("/inbound-protocols/oidc") {
        return decode_oidc("oidc", &answer)
            .map(|o| format!("{:?}", o.grant_types))
            .map_err(|e| err(&e));
    }
    if path.contains("/oidc/scopes/") {
        return serde_json::from_value::<OidcScope>(body.clone())
            .map(|s| s.name)
            .map_err(|e| err(&e));
    }
    if path.ends_with("/oidc/scopes") {
        return serde_json::from_value::<Vec<OidcScope>>(body.clone())
            .map(|s| format!("{} scopes", s.len()))
            .map_err(|e| err(&e));
    }
    if path.ends_with("/applications") {
        return serde_json::from_value::<ApplicationList>(body.clone())
            .map(|l| format!("{} apps", l.applications.len()))
            .map_err(|e| err(&e));
    }
    serde_json::from_value::<Application>(body.clone())
        .map(|a| a.name)
        .map_err(|e| err(&e))
}

/// The answers whose types the crate decodes, per spec, to be made up from the spec's examples.
fn example_cases() -> Vec<(&'static str, &'static str, String, u16)> {
    let id = app_id();
    let mut out = Vec::new();
    let mut apps_seen = Vec::new();
    for s in SPECS {
        if !apps_seen.contains(&s.applications) {
            apps_seen.push(s.applications);
            out.push((
                s.applications,
                "GET",
                format!("api/server/v1/applications/{id}"),
                200,
            ));
            out.push((
                s.applications,
                "GET",
                "api/server/v1/applications".to_owned(),
                200,
            ));
            out.push((
                s.applications,
                "GET",
                format!("api/server/v1/applications/{id}/inbound-protocols/oidc"),
                200,
            ));
            out.push((
                s.applications,
                "GET",
                format!("api/server/v1/applications/{id}"),
                404,
            ));
            out.push((
                s.applications,
                "POST",
                "api/server/v1/applications".to_owned(),
                409,
            ));
        }
    }
    for scopes in [
        "rest/oidc-scope-management.v1.0.82-is5.10.yaml",
        "rest/oidc-scope-management.v1.2.176-is6.0-7.1.yaml",
    ] {
        out.push((scopes, "GET", "api/server/v1/oidc/scopes".to_owned(), 200));
        out.push((
            scopes,
            "GET",
            "api/server/v1/oidc/scopes/openid".to_owned(),
            200,
        ));
    }
    for (spec, prefix) in [
        ("scim2/scim2.v1.5.46-is5.11.yaml", "scim2/Roles"),
        ("scim2/scim2.v3.4.67-is7.yaml", "scim2/Roles"),
        ("scim2/scim2.v3.4.67-is7.yaml", "scim2/v2/Roles"),
    ] {
        out.push((spec, "GET", format!("{prefix}/4645709c"), 200));
        out.push((spec, "POST", prefix.to_owned(), 201));
        out.push((spec, "GET", prefix.to_owned(), 200));
    }
    out
}

fn run_tool(job: &Value) -> Value {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/rest_contract.py");
    let mut child = Command::new(python())
        .args(["-W", "ignore"])
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child
        .stdin
        .take()
        .unwrap()
        .write_all(job.to_string().as_bytes());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "contract tool failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Whether the specs and the validator are here (see the module docs).
fn ready(test: &str) -> bool {
    let dir = contracts_dir();
    let missing = if !dir.join("rest/applications.yaml").is_file()
        || !dir.join("scim2/scim2.v3.4.67-is7.yaml").is_file()
    {
        Some(format!(
            "WSO2 REST specs not found at {} (set WSO2_CONTRACTS_DIR)",
            dir.display()
        ))
    } else if !Command::new(python())
        .args(["-c", "import openapi_core, openapi_schema_validator, yaml"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
    {
        Some(format!(
            "{} cannot import openapi_core (pip install openapi-core pyyaml; set WSO2_TEST_PYTHON)",
            python()
        ))
    } else {
        None
    };
    require(test, missing)
}

#[test]
fn rest_requests_and_answers_match_the_real_specs() {
    if !ready("rest_requests_and_answers_match_the_real_specs") {
        return;
    }
    let is = client();
    let cases = request_cases(&is);
    let refused = refused_cases(&is);
    let answers = realistic_answers();
    let examples = example_cases();
    let job = json!({
        "contracts": contracts_dir(),
        "requests": cases.iter().chain(&refused).enumerate().map(|(i, c)| c.json(i)).collect::<Vec<_>>(),
        "responses": answers.iter().enumerate().map(|(i, a)| json!({
            "id": i.to_string(), "spec": a.spec, "method": a.method, "path": a.path, "status": a.status, "body": a.body,
        })).collect::<Vec<_>>(),
        "examples": examples.iter().enumerate().map(|(i, (spec, method, path, status))| json!({
            "id": i.to_string(), "spec": spec, "method": method, "path": path, "status": status,
        })).collect::<Vec<_>>(),
    });
    let report = run_tool(&job);
    let results = report["requests"].as_array().unwrap();
    assert_eq!(results.len(), cases.len() + refused.len());

    // Every request the clients send is valid for its release.
    let mut failures = Vec::new();
    let mut per_spec: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    let mut typo = 0;
    for (case, result) in cases.iter().zip(results) {
        let r = result["result"].as_str().unwrap();
        let entry = per_spec.entry(case.spec).or_default();
        entry.0 += 1;
        if case.req.body.is_some() {
            entry.1 += 1;
        }
        match r {
            "ok" => {}
            "ok-known-typo" => typo += 1,
            other => failures.push(format!(
                "{} [{}] {} {}: {other}",
                case.label, case.spec, case.req.method, case.req.path
            )),
        }
        entry.2 += usize::from(r.starts_with("ok"));
    }
    assert!(
        failures.is_empty(),
        "requests the specs refuse:\n{}",
        failures.join("\n")
    );
    // The only known-typo passes are v2 role creates with an application audience (7.0, 7.1).
    assert_eq!(typo, 2, "known-typo passes");

    // The validator refuses what it must.
    for (case, result) in refused.iter().zip(&results[cases.len()..]) {
        let r = result["result"].as_str().unwrap();
        assert!(
            !r.starts_with("ok"),
            "{} should be refused, got {r}",
            case.label
        );
        println!("refused as expected: {} -> {r}", case.label);
    }

    // Realistic answers are valid, decode, and keep what is not modelled.
    for (a, result) in answers.iter().zip(report["responses"].as_array().unwrap()) {
        assert_eq!(
            result["result"], "ok",
            "{} [{}]: not valid for its spec",
            a.label, a.spec
        );
        let decoded = decode(a.spec, a.method, &a.path, a.status, &a.body)
            .unwrap_or_else(|e| panic!("{}: {e}", a.label));
        println!("realistic {} [{}] -> {decoded}", a.label, a.spec);
    }
    check_unmodelled_fields_survive(&is, &answers);

    // Every answer type decodes from the spec's own examples.
    let mut decoded_examples = 0;
    for ((spec, method, path, status), ex) in
        examples.iter().zip(report["examples"].as_array().unwrap())
    {
        let body = &ex["body"];
        assert!(
            !body.is_null(),
            "{spec} {method} {path} {status}: the spec has no answer schema"
        );
        decode(spec, method, path, *status, body).unwrap_or_else(|e| {
            panic!("{spec} {method} {path} {status}: example does not decode: {e}\n{body}")
        });
        decoded_examples += 1;
    }

    for (spec, (requests, bodies, valid)) in &per_spec {
        println!("contract {spec}: {requests} requests valid ({valid}), {bodies} with a body");
    }
    let bodies: usize = per_spec.values().map(|v| v.1).sum();
    println!(
        "rest contract: {} requests ({bodies} bodies) valid for {} specs ({typo} past the spec's `applciation` typo); {} bodies refused as expected; {} realistic answers valid and decoded; {decoded_examples} spec examples decoded",
        cases.len(),
        per_spec.len(),
        refused.len(),
        answers.len()
    );
}

/// Decoded realistic answers keep the fields the crate does not model, and an OIDC read sent
/// back unchanged is exactly what was read (a lossless read-modify-write).
fn check_unmodelled_fields_survive(is: &IsClient, answers: &[Answer]) {
    for a in answers
        .iter()
        .filter(|a| a.path.ends_with("/inbound-protocols/oidc"))
    {
        let oidc = decode_oidc("oidc", &http_answer(200, &a.body)).unwrap();
        let put = is
            .rest_applications()
            .put_oidc_request(&app_id(), &oidc)
            .unwrap();
        let sent: Value = serde_json::from_slice(&put.body.unwrap().0).unwrap();
        assert_eq!(
            sent, a.body,
            "{}: the PUT of what was read differs from it",
            a.label
        );
        assert!(oidc.extra.contains_key("refreshToken"), "{}", a.label);
    }
    let app: Application = serde_json::from_value(answers[1].body.clone()).unwrap();
    for key in [
        "applicationVersion",
        "realm",
        "templateVersion",
        "applicationEnabled",
        "logoutReturnUrl",
        "isB2BSelfServiceApp",
    ] {
        assert!(app.extra.contains_key(key), "7.1 application lost {key}");
    }
    let advanced = app.advanced_configurations.unwrap();
    assert!(advanced.extra.contains_key("useExternalConsentPage"));
    assert_eq!(advanced.skip_login_consent, Some(true));
    assert_eq!(
        app.associated_roles.unwrap().allowed_audience,
        RoleAudienceKind::Application
    );
}
