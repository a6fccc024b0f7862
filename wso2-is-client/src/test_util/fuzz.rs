#![allow(clippy::field_reassign_with_default)] // Seeds are built field by field, visibly.
//! Fuzz targets for every answer decoder of this crate, and the structured input a fuzz engine
//! drives them with.
//!
//! The engine (bolero: random inputs in `cargo test` and in the `fuzz_decoders` example,
//! libFuzzer or AFL through `cargo bolero`) generates a [`FuzzCase`] with
//! [`arbitrary`](arbitrary::Arbitrary); [`Fuzz::input`] turns it into an answer body by editing
//! one realistic seed of one target, and [`Fuzz::run`] feeds it to the decoder.
//!
//! * Targets: every SOAP operation's answer decoder (`carbon::soap::decode_answer::<Op>`, the
//!   code `CarbonClient::call` runs), every model type's element decoder
//!   (`carbon::xml::from_element`), the SCIM2 answer decoders (`scim2::decode_answer`,
//!   `decode_list_answer`, `decode_bulk_answer`) and the OIDC decoders
//!   (`ProviderMetadata::from_json`, `oidc::classify_token_answer`).
//! * Seeds: valid answers made by encoding the fully populated [`fixtures`]
//!   and wrapping them as the servers do, plus faults, HTML login pages and error documents.
//! * Edits ([`Edit`]): bit flips, bytes, truncations, deletions, duplications of byte ranges and
//!   of runs of whole elements, tokens of an XML or JSON dictionary (markup, entities,
//!   DOCTYPEs, numbers at the limits, invalid UTF-8), deep nesting, splices with other seeds,
//!   renamed tags, hostile text; the status and content type vary too.
//! * Checks per input: no panic; errors and outputs are formatted (`Display`, `Debug`, the
//!   error predicates); a decoded model value re-encodes and decodes to itself (a
//!   read-modify-write sends back what it read) — [`Verdict::Broken`] otherwise.

use std::fmt::Debug;

use arbitrary::Arbitrary;
use http::HeaderMap;
use http::header::{CONTENT_TYPE, HeaderValue};

use super::fixtures;
use crate::application::{
    CreateApplication, DeleteApplication, GetAllApplicationBasicInfo, GetApplication,
    UpdateApplication,
};
use crate::carbon::HttpAnswer;
use crate::carbon::auth::{Login, Logout};
use crate::carbon::soap::{self, Operation};
use crate::carbon::xml::{Ns, XmlValue, from_element, ns, to_element};
use crate::idp::{AddIdP, DeleteIdP, GetAllIdPs, GetIdPByName, UpdateIdP};
use crate::model::*;
use crate::oauth::{
    GetOAuthApplicationData, GetOAuthApplicationDataByAppName,
    RegisterAndRetrieveOAuthApplicationData, RegisterOAuthApplicationData,
    RemoveOAuthApplicationData, UpdateConsumerApplication,
};
use crate::oidc::{ClientAuthMethod, ProviderMetadata, classify_token_answer};
use crate::scim2::{
    ScimGroup, ScimMember, ScimMeta, ScimUser, ServiceProviderConfig, decode_answer,
    decode_bulk_answer, decode_list_answer,
};
use crate::users::{
    AddRole, AddUser, ClaimValue, DeleteRole, DeleteUser, GetRoleListOfUser, GetRoleNames,
    IsExistingRole, IsExistingUser, PermissionDTO, UpdateRoleListOfUser,
};
use crate::{Error, UserName};

/// Largest input the edits produce; larger results are cut to this size.
pub const MAX_INPUT: usize = 1024 * 1024;

/// Most edits applied to one seed.
pub const MAX_EDITS: usize = 8;

/// Which dictionary of tokens a target's mutations draw from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// XML (SOAP answers, model elements).
    Xml,
    /// JSON (SCIM2 and OIDC answers).
    Json,
}

impl Syntax {
    /// `XML` or `JSON`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Xml => "XML",
            Self::Json => "JSON",
        }
    }
}

/// The decoder families, as the report groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    /// SOAP operation answers.
    Soap,
    /// Model elements.
    Model,
    /// SCIM2 JSON answers.
    Scim2,
    /// OIDC discovery and token answers.
    Oidc,
}

impl Family {
    /// What the family covers.
    pub fn label(self) -> &'static str {
        match self {
            Self::Soap => "SOAP operation answers (carbon::soap::decode)",
            Self::Model => "model elements (carbon::xml::from_element)",
            Self::Scim2 => "SCIM2 JSON answers",
            Self::Oidc => "OIDC discovery and token answers",
        }
    }
}

/// One answer as a decoder sees it.
#[derive(Debug, Clone)]
pub struct Input {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`, if any.
    pub content_type: Option<&'static str>,
    /// The body.
    pub body: Vec<u8>,
}

impl Input {
    fn new(status: u16, content_type: Option<&'static str>, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            content_type,
            body: body.into(),
        }
    }

    fn xml(body: impl Into<Vec<u8>>) -> Self {
        Self::new(200, Some(XML_CT), body)
    }

    fn json(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self::new(status, Some("application/scim+json"), body)
    }

    /// The answer as the REST decoders take it.
    pub fn http_answer(&self) -> HttpAnswer {
        let mut headers = HeaderMap::new();
        if let Some(ct) = self.content_type {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
        }
        HttpAnswer {
            status: self.status,
            headers,
            body: bytes::Bytes::copy_from_slice(&self.body),
        }
    }
}

/// What one execution found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Decoded into a value.
    Decoded,
    /// Refused with an error.
    Refused,
    /// Decoded, but a property failed (e.g. the value does not survive re-encoding).
    Broken(String),
}

/// A decoder under test. `prepare` turns the input into what the decoder takes (done before
/// memory is measured, as a transport would have done it); `decode` runs the decoder.
pub struct Target {
    /// Name, e.g. `soap getApplication` or `model ServiceProvider`.
    pub name: String,
    /// Family.
    pub family: Family,
    /// Syntax of its inputs.
    pub syntax: Syntax,
    /// Realistic answers the edits start from.
    pub seeds: Vec<Input>,
    /// Runs the decoder.
    pub decode: fn(&Prepared) -> Verdict,
}

/// An input ready for a decoder.
pub struct Prepared {
    /// The input.
    pub input: Input,
    /// The answer as the REST decoders take it (JSON targets only).
    pub answer: HttpAnswer,
}

impl Prepared {
    /// Prepares `input` for a decoder of `syntax`.
    pub fn new(input: Input, syntax: Syntax) -> Self {
        let answer = match syntax {
            Syntax::Json => input.http_answer(),
            Syntax::Xml => HttpAnswer {
                status: input.status,
                headers: HeaderMap::new(),
                body: bytes::Bytes::new(),
            },
        };
        Self { input, answer }
    }
}

const XML_CT: &str = "text/xml; charset=UTF-8";
const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

// ---------------------------------------------------------------------------------------------
// Decoders under test

/// Exercises what callers do with an error: its message, cause chain and predicates.
fn touch_error(e: &Error) {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&s.to_string());
        source = s.source();
    }
    let flags = (
        e.is_not_found(),
        e.is_already_exists(),
        e.is_auth_failure(),
        e.is_retryable(),
        e.outcome_unknown(),
        e.status(),
        e.fault()
            .map(|f| (f.to_string(), f.is_transient(), f.is_access_denied())),
        e.dispatch(),
    );
    std::hint::black_box((text, format!("{e:?}"), flags));
}

fn soap_target<O>(p: &Prepared) -> Verdict
where
    O: Operation,
    O::Output: Debug,
{
    let i = &p.input;
    // The same decoding and answer-to-error conversion as `CarbonClient::call`.
    match soap::decode_answer::<O>(i.status, i.content_type, &i.body) {
        Ok(out) => {
            std::hint::black_box(format!("{out:?}"));
            Verdict::Decoded
        }
        Err(e) => {
            touch_error(&e);
            Verdict::Refused
        }
    }
}

fn model_target<T: XmlValue + PartialEq + Debug>(p: &Prepared) -> Verdict {
    match from_element::<T>(&p.input.body) {
        Ok(value) => {
            std::hint::black_box(format!("{value:?}"));
            // What was read must be sent back unchanged by a read-modify-write. Values with
            // characters XML 1.0 cannot carry are refused by the encoder (not sent): fine.
            let Ok(again) = to_element(&value, ns::MODEL, "return") else {
                return Verdict::Decoded;
            };
            match from_element::<T>(again.as_bytes()) {
                Ok(back) if back == value => Verdict::Decoded,
                Ok(_) => Verdict::Broken("the decoded value changes when re-encoded".into()),
                Err(e) => Verdict::Broken(format!("the re-encoded value does not decode: {e}")),
            }
        }
        Err(e) => {
            std::hint::black_box((e.to_string(), e.path(), e.reason().len()));
            Verdict::Refused
        }
    }
}

fn json_verdict<T: Debug>(result: crate::Result<T>) -> Verdict {
    match result {
        Ok(v) => {
            std::hint::black_box(format!("{v:?}"));
            Verdict::Decoded
        }
        Err(e) => {
            touch_error(&e);
            Verdict::Refused
        }
    }
}

fn scim_user(p: &Prepared) -> Verdict {
    json_verdict(decode_answer::<ScimUser>("get user", &p.answer))
}

fn scim_group(p: &Prepared) -> Verdict {
    json_verdict(decode_answer::<ScimGroup>("get group", &p.answer))
}

fn scim_user_list(p: &Prepared) -> Verdict {
    json_verdict(decode_list_answer::<ScimUser>("find user", &p.answer))
}

fn scim_group_list(p: &Prepared) -> Verdict {
    json_verdict(decode_list_answer::<ScimGroup>("find group", &p.answer))
}

fn scim_config(p: &Prepared) -> Verdict {
    json_verdict(decode_answer::<ServiceProviderConfig>(
        "get ServiceProviderConfig",
        &p.answer,
    ))
}

fn scim_bulk(p: &Prepared) -> Verdict {
    json_verdict(decode_bulk_answer(&p.answer))
}

fn oidc_discovery(p: &Prepared) -> Verdict {
    match ProviderMetadata::from_json(&p.input.body) {
        Ok(m) => {
            let here = url::Url::parse(
                "https://localhost:9444/oauth2/token/.well-known/openid-configuration",
            )
            .expect("a URL");
            std::hint::black_box((
                format!("{m:?}"),
                m.supports_client_auth(ClientAuthMethod::Basic),
                m.supports_client_auth(ClientAuthMethod::Post),
                m.issuer_matches(&here),
            ));
            Verdict::Decoded
        }
        Err(e) => {
            std::hint::black_box(e.to_string());
            Verdict::Refused
        }
    }
}

fn oidc_token(p: &Prepared) -> Verdict {
    let outcome = classify_token_answer(&p.answer, "fixture-client-secret");
    let text = format!("{outcome:?}");
    if text.contains("fixture-client-secret") {
        return Verdict::Broken("the client secret is repeated in the outcome".into());
    }
    if outcome.is_accepted() {
        Verdict::Decoded
    } else {
        Verdict::Refused
    }
}

// ---------------------------------------------------------------------------------------------
// Seeds

/// `<{prefix}:return>` holding `value` (namespaces declared on it), as Axis2 writes it.
fn return_element<T: XmlValue>(value: &T, namespace: Ns) -> String {
    to_element(value, namespace, "return").expect("fixtures encode")
}

fn envelope(inner: &str) -> String {
    format!(
        r#"<?xml version='1.0' encoding='UTF-8'?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Header/><soapenv:Body>{inner}</soapenv:Body></soapenv:Envelope>"#
    )
}

fn response(op: &str, wrapper: &str, inner: &str) -> String {
    envelope(&format!(
        r#"<ns:{op}Response xmlns:ns="{wrapper}" xmlns:xsi="{XSI}">{inner}</ns:{op}Response>"#
    ))
}

/// Faults, pages and bodies every operation may meet.
fn common_answers() -> Vec<Input> {
    let fault = envelope(
        r#"<soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>Error while creating the application: apim-federation already exists &amp; more</faultstring><detail><ns:IdentityApplicationManagementServiceIdentityApplicationManagementException xmlns:ns="http://mgt.application.identity.carbon.wso2.org"><ns:IdentityApplicationManagementException xmlns:ax="http://exception.application.identity.carbon.wso2.org/xsd" xsi:type="ax:IdentityApplicationManagementException" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><ax:errorCode>65008</ax:errorCode><ax:message>Application with the same name already exists</ax:message></ns:IdentityApplicationManagementException></ns:IdentityApplicationManagementServiceIdentityApplicationManagementException></detail></soapenv:Fault>"#,
    );
    let auth = envelope(
        r#"<soapenv:Fault><faultcode xmlns:axis2ns2="http://wso2.org/carbon/errors">axis2ns2:50977</faultcode><faultstring>Access Denied. Authentication failed - Invalid credentials provided.</faultstring><detail/></soapenv:Fault>"#,
    );
    let soap12 = r#"<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><env:Fault><env:Code><env:Value>env:Receiver</env:Value></env:Code><env:Reason><env:Text xml:lang="en">Role publisher_role does not exist</env:Text></env:Reason><env:Detail><e><message>UserStoreException</message><errorCode>30012</errorCode></e></env:Detail></env:Fault></env:Body></env:Envelope>"#;
    let html = "<!DOCTYPE html>\n<html><head><title>WSO2 Management Console - Login</title></head><body><form action=\"/commonauth\"><input name=\"username\"/></form></body></html>";
    vec![
        Input::new(500, Some(XML_CT), fault.clone()),
        Input::new(200, Some(XML_CT), fault),
        Input::new(500, Some(XML_CT), auth),
        Input::new(500, Some("application/soap+xml"), soap12),
        Input::new(200, Some("text/html;charset=UTF-8"), html),
        Input::new(500, Some("text/plain"), "Internal Server Error"),
        Input::new(401, None, ""),
    ]
}

fn void_answers(op: &str, wrapper: &str) -> Vec<Input> {
    vec![
        Input::xml(response(op, wrapper, r#"<ns:return xsi:nil="true"/>"#)),
        Input::new(202, None, ""),
    ]
}

fn single_answers<T: XmlValue>(op: &str, wrapper: &str, values: &[T], namespace: Ns) -> Vec<Input> {
    let mut out: Vec<Input> = values
        .iter()
        .map(|v| Input::xml(response(op, wrapper, &return_element(v, namespace))))
        .collect();
    out.push(Input::xml(response(
        op,
        wrapper,
        r#"<ns:return xsi:nil="true"/>"#,
    )));
    out
}

fn many_answers<T: XmlValue>(op: &str, wrapper: &str, values: &[T], namespace: Ns) -> Vec<Input> {
    let all: String = values
        .iter()
        .map(|v| return_element(v, namespace))
        .collect();
    vec![
        Input::xml(response(op, wrapper, &all)),
        Input::xml(response(
            op,
            wrapper,
            &format!(r#"{all}<ns:return xsi:nil="true"/>"#),
        )),
        Input::xml(response(op, wrapper, "")),
    ]
}

fn text_answers(op: &str, wrapper: &str, texts: &[&str]) -> Vec<Input> {
    let all: String = texts
        .iter()
        .map(|t| format!("<ns:return>{t}</ns:return>"))
        .collect();
    vec![
        Input::xml(response(op, wrapper, &all)),
        Input::xml(response(op, wrapper, "")),
    ]
}

fn soap<O>(seeds: Vec<Input>) -> Target
where
    O: Operation,
    O::Output: Debug,
{
    let mut seeds = seeds;
    seeds.extend(common_answers());
    Target {
        name: format!("soap {}", O::NAME),
        family: Family::Soap,
        syntax: Syntax::Xml,
        seeds,
        decode: soap_target::<O>,
    }
}

fn model<T: XmlValue + PartialEq + Debug>(name: &str, values: Vec<T>) -> Target {
    let seeds = values
        .iter()
        .flat_map(|v| {
            [ns::MODEL, ns::AXIS2].map(|n| Input::xml(to_element(v, n, "return").expect("encodes")))
        })
        .collect();
    Target {
        name: format!("model {name}"),
        family: Family::Model,
        syntax: Syntax::Xml,
        seeds,
        decode: model_target::<T>,
    }
}

fn basic_infos() -> Vec<ApplicationBasicInfo> {
    (0..3)
        .map(|i| {
            let mut b = ApplicationBasicInfo::default();
            b.application_id = Some(i + 1);
            b.application_name = Some(format!("app-{i} {}", fixtures::TRICKY));
            b.description = Some("[managed-by:wso2-federation]".into());
            b
        })
        .collect()
}

/// Every SOAP operation, with answers of the shapes the real services send.
fn soap_targets() -> Vec<Target> {
    let axis2 = ns::AXIS2.uri;
    let idp_ns = ns::IDP_MGT.uri;
    let um = ns::UM_SERVICE.uri;
    let auth = ns::AUTH_ADMIN.uri;
    let sp = fixtures::service_provider("apim-federation");
    let mut small_sp = ServiceProvider::default();
    small_sp.application_id = Some(7);
    small_sp.application_name = Some("apim_publisher".into());
    let app = fixtures::oauth_app("apim-federation");
    let idps = [
        fixtures::identity_provider("wso2is"),
        fixtures::oidc_identity_provider("wso2-is", "fixture-client-secret"),
    ];
    let roles = [
        "Internal/everyone",
        "PRIMARY/publisher_role",
        "admin",
        "a &amp; b",
    ];
    vec![
        soap::<CreateApplication>(void_answers("createApplication", axis2)),
        soap::<GetApplication>(single_answers(
            "getApplication",
            axis2,
            &[sp, small_sp],
            ns::AXIS2,
        )),
        soap::<UpdateApplication>(void_answers("updateApplication", axis2)),
        soap::<DeleteApplication>(void_answers("deleteApplication", axis2)),
        soap::<GetAllApplicationBasicInfo>(many_answers(
            "getAllApplicationBasicInfo",
            axis2,
            &basic_infos(),
            ns::AXIS2,
        )),
        soap::<RegisterOAuthApplicationData>(void_answers("registerOAuthApplicationData", axis2)),
        soap::<RegisterAndRetrieveOAuthApplicationData>(single_answers(
            "registerAndRetrieveOAuthApplicationData",
            axis2,
            std::slice::from_ref(&app),
            ns::AXIS2,
        )),
        soap::<GetOAuthApplicationDataByAppName>(single_answers(
            "getOAuthApplicationDataByAppName",
            axis2,
            std::slice::from_ref(&app),
            ns::AXIS2,
        )),
        soap::<GetOAuthApplicationData>(single_answers(
            "getOAuthApplicationData",
            axis2,
            std::slice::from_ref(&app),
            ns::AXIS2,
        )),
        soap::<UpdateConsumerApplication>(void_answers("updateConsumerApplication", axis2)),
        soap::<RemoveOAuthApplicationData>(void_answers("removeOAuthApplicationData", axis2)),
        soap::<AddIdP>(void_answers("addIdP", idp_ns)),
        soap::<GetIdPByName>(single_answers("getIdPByName", idp_ns, &idps, ns::IDP_MGT)),
        soap::<UpdateIdP>(void_answers("updateIdP", idp_ns)),
        soap::<DeleteIdP>(void_answers("deleteIdP", idp_ns)),
        soap::<GetAllIdPs>(many_answers("getAllIdPs", idp_ns, &idps, ns::IDP_MGT)),
        soap::<AddUser>(void_answers("addUser", um)),
        soap::<AddRole>(void_answers("addRole", um)),
        soap::<DeleteUser>(void_answers("deleteUser", um)),
        soap::<DeleteRole>(void_answers("deleteRole", um)),
        soap::<IsExistingUser>(text_answers("isExistingUser", um, &["true"])),
        soap::<IsExistingRole>(text_answers("isExistingRole", um, &["false"])),
        soap::<GetRoleNames>(text_answers("getRoleNames", um, &roles)),
        soap::<GetRoleListOfUser>(text_answers("getRoleListOfUser", um, &roles[..2])),
        soap::<UpdateRoleListOfUser>(void_answers("updateRoleListOfUser", um)),
        soap::<Login>(text_answers("login", auth, &["true"])),
        soap::<Logout>(void_answers("logout", auth)),
    ]
}

/// Every model type, from the fully populated fixtures.
fn model_targets() -> Vec<Target> {
    let sp = fixtures::service_provider("apim-federation");
    let idp = fixtures::identity_provider("wso2is");
    let oidc = fixtures::oidc_identity_provider("wso2-is", "fixture-client-secret");
    let auth = sp
        .local_and_out_bound_authentication_config
        .clone()
        .expect("fixture");
    let inbound = sp.inbound_authentication_config.clone().expect("fixture");
    let roles = idp.permission_and_role_config.clone().expect("fixture");
    let claims = fixtures::claim_config();
    vec![
        model(
            "ServiceProvider",
            vec![sp.clone(), ServiceProvider::default()],
        ),
        model("IdentityProvider", vec![idp.clone(), oidc]),
        model("OAuthConsumerAppDTO", vec![fixtures::oauth_app("apim")]),
        model("ApplicationBasicInfo", basic_infos()),
        model(
            "Claim",
            vec![fixtures::claim("http://wso2.org/claims/role", 1)],
        ),
        model("ClaimMapping", claims.claim_mappings.clone()),
        model("ClaimConfig", vec![claims]),
        model(
            "Property",
            vec![
                fixtures::property("ClientSecret", "s3cret", true),
                fixtures::property("callbackUrl", "https://x/commonauth", false),
            ],
        ),
        model("CertificateInfo", idp.certificate_info_array.clone()),
        model(
            "FederatedAuthenticatorConfig",
            vec![fixtures::federated_authenticator(
                "OpenIDConnectAuthenticator",
            )],
        ),
        model(
            "ProvisioningConnectorConfig",
            vec![fixtures::provisioning_connector()],
        ),
        model("IdentityProviderProperty", idp.idp_properties.clone()),
        model(
            "InboundProvisioningConfig",
            vec![sp.inbound_provisioning_config.clone().expect("fixture")],
        ),
        model(
            "JustInTimeProvisioningConfig",
            vec![
                idp.just_in_time_provisioning_config
                    .clone()
                    .expect("fixture"),
            ],
        ),
        model("ApplicationPermission", roles.permissions.clone()),
        model(
            "LocalRole",
            roles
                .role_mappings
                .iter()
                .filter_map(|m| m.local_role.clone())
                .collect(),
        ),
        model("RoleMapping", roles.role_mappings.clone()),
        model("PermissionsAndRoleConfig", vec![roles]),
        model(
            "LocalAuthenticatorConfig",
            vec![fixtures::local_authenticator("BasicAuthenticator")],
        ),
        model("AuthenticationStep", vec![fixtures::step(1)]),
        model(
            "AuthenticationScriptConfig",
            vec![auth.authentication_script_config.clone().expect("fixture")],
        ),
        model("LocalAndOutboundAuthenticationConfig", vec![auth]),
        model(
            "InboundAuthenticationRequestConfig",
            inbound.inbound_authentication_request_configs.clone(),
        ),
        model("InboundAuthenticationConfig", vec![inbound]),
        model(
            "OutboundProvisioningConfig",
            vec![sp.outbound_provisioning_config.clone().expect("fixture")],
        ),
        model("User", vec![sp.owner.clone().expect("fixture")]),
        model("ServiceProviderProperty", sp.sp_properties.clone()),
        model(
            "ClaimValue",
            vec![ClaimValue::new(
                "http://wso2.org/claims/emailaddress",
                "kim@example.com",
            )],
        ),
        model(
            "PermissionDTO",
            vec![PermissionDTO::new("/permission/admin/login", "ui.execute")],
        ),
    ]
}

fn scim_user_value() -> ScimUser {
    let mut user = ScimUser::new(&UserName::new("api_publisher").expect("a name"))
        .with_name("API", fixtures::TRICKY)
        .with_email("api_publisher@example.com")
        .with_email("work@example.com");
    user.schemas = vec![
        "urn:ietf:params:scim:schemas:core:2.0:User".into(),
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".into(),
    ];
    user.id = Some("0a1b2c3d-4e5f-6789-abcd-ef0123456789".into());
    user.groups = vec![crate::scim2::ScimGroupRef {
        value: "7f3e".into(),
        display: Some("PRIMARY/publisher_role".into()),
        extra: serde_json::Map::new(),
    }];
    user.meta = Some(scim_meta("User", "Users/0a1b"));
    user.extra.insert(
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".into(),
        serde_json::json!({"employeeNumber": "42", "manager": {"value": "x"}}),
    );
    user
}

fn scim_meta(kind: &str, path: &str) -> ScimMeta {
    ScimMeta {
        resource_type: Some(kind.into()),
        created: Some("2024-01-01T10:00:00.000Z".into()),
        last_modified: Some("2024-01-02T10:00:00.000Z".into()),
        location: Some(format!("https://localhost:9444/scim2/{path}")),
        version: Some("W/\"1\"".into()),
        extra: serde_json::Map::new(),
    }
}

fn scim_group_value() -> ScimGroup {
    ScimGroup {
        schemas: vec!["urn:ietf:params:scim:schemas:core:2.0:Group".into()],
        id: Some("7f3e".into()),
        display_name: "PRIMARY/publisher_role".into(),
        members: vec![
            ScimMember::new("0a1b").with_display("api_publisher"),
            ScimMember::new("0a1c").with_display(fixtures::TRICKY),
        ],
        meta: Some(scim_meta("Group", "Groups/7f3e")),
        extra: serde_json::Map::new(),
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("serialises")
}

fn scim_errors() -> Vec<Input> {
    vec![
        Input::json(
            404,
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"Specified resource (e.g., User) or end-point, does not exist.","status":"404"}"#,
        ),
        Input::json(
            409,
            r#"{"schemas":"urn:ietf:params:scim:api:messages:2.0:Error","scimType":"uniqueness","detail":"User with the name: api_publisher already exists in the system.","status":"409"}"#,
        ),
        Input::new(
            401,
            Some("text/html"),
            "<html><head><title>401 - Unauthorized</title></head><body/></html>",
        ),
        Input::new(500, Some("text/plain"), "Internal Server Error"),
    ]
}

fn scim(name: &str, decode: fn(&Prepared) -> Verdict, mut seeds: Vec<Input>) -> Target {
    seeds.extend(scim_errors());
    Target {
        name: format!("scim2 {name}"),
        family: Family::Scim2,
        syntax: Syntax::Json,
        seeds,
        decode,
    }
}

fn list_of(resources: &[String]) -> String {
    format!(
        r#"{{"totalResults":{},"startIndex":1,"itemsPerPage":{},"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"Resources":[{}]}}"#,
        resources.len(),
        resources.len(),
        resources.join(",")
    )
}

fn scim_targets() -> Vec<Target> {
    let user = to_json(&scim_user_value());
    let group = to_json(&scim_group_value());
    let is_user = r#"{"emails":[{"type":"home","value":"kim@example.com","primary":true},"kim.work@example.com"],"meta":{"created":"2024-01-01T10:00:00Z","location":"https://localhost:9444/scim2/Users/0a1b","lastModified":"2024-01-01T10:00:00Z","resourceType":"User"},"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"roles":[{"type":"default","value":"Internal/everyone"}],"name":{"givenName":"Kim","familyName":"Berry"},"groups":[{"display":"PRIMARY/user_role","value":"5c1d","$ref":"https://localhost:9444/scim2/Groups/5c1d"}],"id":"0a1b","userName":"kim"}"#;
    let config = r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],"patch":{"supported":true},"filter":{"maxResults":200,"supported":true},"documentationUri":"http://example.com/help/scim.html","authenticationSchemes":[{"name":"OAuth Bearer Token","description":"Authentication scheme using the OAuth Bearer Token Standard","specUri":"http://www.rfc-editor.org/info/rfc6750","type":"oauthbearertoken","primary":true}],"bulk":{"maxOperations":1000,"maxPayloadSize":1048576,"supported":true},"etag":{"supported":false},"sort":{"supported":false},"changePassword":{"supported":true}}"#;
    let lenient_config = r#"{"bulk":{"maxOperations":"100","maxPayloadSize":"1048576","supported":"true"},"filter":{"maxResults":"200","supported":"true"}}"#;
    let bulk = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkResponse"],"Operations":[{"bulkId":"u1","method":"POST","location":"https://localhost:9444/scim2/Users/0a1b","status":{"code":201}},{"bulkId":"g1","method":"POST","location":"https://localhost:9444/scim2/Groups/7f3e","status":"201"},{"method":"PATCH","location":"https://localhost:9444/scim2/Groups/5c1d","status":200},{"method":"DELETE","status":404,"response":{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"User not found","status":"404"}},{"bulkId":"u2","method":"POST","status":409,"response":{"schemas":"urn:ietf:params:scim:api:messages:2.0:Error","scimType":"uniqueness","detail":"User already exists: canary-password","status":"409"}}]}"#;
    vec![
        scim(
            "user",
            scim_user,
            vec![Input::json(200, user.clone()), Input::json(201, is_user)],
        ),
        scim("group", scim_group, vec![Input::json(200, group.clone())]),
        scim(
            "user list",
            scim_user_list,
            vec![
                Input::json(200, list_of(&[user, is_user.to_owned()])),
                Input::json(
                    200,
                    r#"{"totalResults":0,"startIndex":1,"itemsPerPage":0,"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"]}"#,
                ),
            ],
        ),
        scim(
            "group list",
            scim_group_list,
            vec![Input::json(200, list_of(&[group]))],
        ),
        scim(
            "ServiceProviderConfig",
            scim_config,
            vec![Input::json(200, config), Input::json(200, lenient_config)],
        ),
        scim(
            "bulk",
            scim_bulk,
            vec![
                Input::json(200, bulk),
                Input::json(
                    200,
                    r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkResponse"]}"#,
                ),
            ],
        ),
    ]
}

fn oidc_targets() -> Vec<Target> {
    let discovery = r#"{"request_parameter_supported":true,"claims_parameter_supported":true,"introspection_endpoint":"https://localhost:9444/oauth2/introspect","Response_modes_supported":["query","fragment","form_post"],"scopes_supported":["address","phone","openid","profile","groups","email"],"check_session_iframe":"https://localhost:9444/oidc/checksession","backchannel_logout_supported":true,"issuer":"https://localhost:9444/oauth2/token","authorization_endpoint":"https://localhost:9444/oauth2/authorize","introspection_endpoint_auth_methods_supported":["client_secret_basic","client_secret_post"],"claims_supported":["formatted","name","phone_number","given_name","groups","email","sub","iss"],"userinfo_signing_alg_values_supported":["RS256"],"token_endpoint_auth_methods_supported":["private_key_jwt","client_secret_basic","client_secret_post","tls_client_auth","mutual_tls"],"response_types_supported":["id_token token","code","id_token","token"],"revocation_endpoint_auth_methods_supported":["client_secret_basic","client_secret_post"],"grant_types_supported":["refresh_token","urn:ietf:params:oauth:grant-type:saml2-bearer","password","client_credentials","iwa:ntlm","authorization_code","urn:ietf:params:oauth:grant-type:uma-ticket","urn:ietf:params:oauth:grant-type:jwt-bearer"],"end_session_endpoint":"https://localhost:9444/oidc/logout","revocation_endpoint":"https://localhost:9444/oauth2/revoke","userinfo_endpoint":"https://localhost:9444/oauth2/userinfo","token_endpoint_auth_signing_alg_values_supported":["RS256"],"jwks_uri":"https://localhost:9444/oauth2/jwks","subject_types_supported":["pairwise"],"id_token_signing_alg_values_supported":["RS256"],"registration_endpoint":"https://localhost:9444/api/identity/oauth2/dcr/v1.1/register","token_endpoint":"https://localhost:9444/oauth2/token","request_object_signing_alg_values_supported":["RS256","RS384","RS512","PS256","none"]}"#;
    let minimal = r#"{"issuer":"http://127.0.0.1:3000","authorization_endpoint":"http://127.0.0.1:3000/auth","jwks_uri":"http://127.0.0.1:3000/jwks","token_endpoint":"","userinfo_endpoint":null}"#;
    let json = Some("application/json");
    vec![
        Target {
            name: "oidc discovery".into(),
            family: Family::Oidc,
            syntax: Syntax::Json,
            seeds: vec![
                Input::new(200, json, discovery),
                Input::new(200, json, minimal),
            ],
            decode: oidc_discovery,
        },
        Target {
            name: "oidc token answer".into(),
            family: Family::Oidc,
            syntax: Syntax::Json,
            seeds: vec![
                Input::new(
                    400,
                    json,
                    r#"{"error_description":"Invalid authorization code received from token request","error":"invalid_grant"}"#,
                ),
                Input::new(
                    401,
                    json,
                    r#"{"error_description":"A valid OAuth client could not be found for client_id: fixture-client-secret","error":"invalid_client"}"#,
                ),
                Input::new(
                    400,
                    json,
                    r#"{"error_description":"The client MUST NOT use more than one authentication method in each","error":"invalid_request"}"#,
                ),
                Input::new(
                    400,
                    json,
                    r#"{"error":"invalid_client","error_description":"client authentication must only be provided using one mechanism"}"#,
                ),
                Input::new(
                    200,
                    json,
                    r#"{"access_token":"a","refresh_token":"r","scope":"openid","id_token":"e.y.j","token_type":"Bearer","expires_in":3600}"#,
                ),
                Input::new(401, None, ""),
                Input::new(
                    500,
                    Some("text/html"),
                    "<html><head><title>Error 500</title></head></html>",
                ),
            ],
            decode: oidc_token,
        },
    ]
}

/// Every target of the campaign.
pub fn targets() -> Vec<Target> {
    let mut all = soap_targets();
    all.extend(model_targets());
    all.extend(scim_targets());
    all.extend(oidc_targets());
    all
}

const XML_TOKENS: &[&[u8]] = &[
    b"<",
    b">",
    b"/>",
    b"</",
    b"<a>",
    b"</a>",
    b"<ns:return>",
    b"</ns:return>",
    b"<ns:return xsi:nil=\"true\"/>",
    b" xsi:nil=\"true\"",
    b" xsi:nil=\"1\"",
    b" xsi:nil=\"&a;\"",
    b" xmlns:x=\"urn:x\"",
    b" xmlns=\"\"",
    b" a='1' a='2'",
    b"<![CDATA[",
    b"]]>",
    b"<![CDATA[x]]>",
    b"<!--",
    b"-->",
    b"<!-- c -->",
    b"<?pi x?>",
    b"<?xml version=\"1.0\" encoding=\"UTF-16\"?>",
    b"<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>",
    b"<!DOCTYPE r SYSTEM \"file:///etc/passwd\">",
    b"<!ENTITY x SYSTEM \"file:///etc/passwd\">",
    b"&amp;",
    b"&lt;",
    b"&gt;",
    b"&quot;",
    b"&apos;",
    b"&#0;",
    b"&#x0;",
    b"&#1;",
    b"&#65;",
    b"&#x10FFFF;",
    b"&#x110000;",
    b"&#xD800;",
    b"&#xFFFE;",
    b"&#99999999999;",
    b"&a;",
    b"&b;",
    b"&",
    b"&#",
    b"&#x;",
    b"\"",
    b"'",
    b"=",
    b":",
    b"ns:",
    b"soapenv:",
    b"<soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>x</faultstring></soapenv:Fault>",
    b"<soapenv:Fault><detail><a><b><c><d><e><f><message>m</message></f></e></d></c></b></a></detail></soapenv:Fault>",
    b"<soapenv:Body>",
    b"</soapenv:Body>",
    b"<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\">",
    b"</soapenv:Envelope>",
    b"<detail><e><message>m</message><errorCode>1</errorCode></e></detail>",
    b"<message xsi:nil=\"true\"/>",
    b"true",
    b"false",
    b"1",
    b"-1",
    b"2147483648",
    b"-9223372036854775809",
    b"NaN",
    b"\xEF\xBB\xBF",
    b"\r\n",
    b"\r",
    b"\t",
    b"\0",
    b"\xFF\xFE",
    b"\xC3",
    b"\xED\xA0\x80",
    "ünï".as_bytes(),
    b"<html><head><title>Login</title></head>",
    b"<title>",
    b"</title>",
    b"<body>",
];

const JSON_TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"null",
    b"true",
    b"false",
    b"0",
    b"-0",
    b"1e309",
    b"-1e309",
    b"18446744073709551616",
    b"-9223372036854775809",
    b"65536",
    b"1.5",
    b"\"\\u0000\"",
    b"\"\\ud800\"",
    b"\"\\udc00\\ud800\"",
    b"\"\\uD83D\\uDE00\"",
    b"\\",
    b"\"\\x\"",
    b"\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:Error\"],",
    b"\"schemas\":\"urn:ietf:params:scim:api:messages:2.0:Error\",",
    b"\"Resources\":",
    b"\"Resources\":null,",
    b"\"Resources\":[{}],",
    b"\"Operations\":",
    b"\"Operations\":{},",
    b"\"Operations\":[1,null,{}],",
    b"\"status\":\"abc\",",
    b"\"status\":{\"code\":99999},",
    b"\"status\":{\"code\":{\"code\":201}},",
    b"\"status\":-1,",
    b"\"emails\":[\"a@b\"],",
    b"\"emails\":[{}],",
    b"\"emails\":[{\"value\":1}],",
    b"\"members\":[1],",
    b"\"userName\":null,",
    b"\"displayName\":7,",
    b"\"issuer\":\"\",",
    b"\"jwks_uri\":\"ftp://x\",",
    b"\"x_endpoint\":\"not a url\",",
    b"\"y_endpoint\":[],",
    b"\"error\":\"invalid_client\",",
    b"\"error\":\"invalid_grant\",",
    b"\"error_description\":\"The client MUST NOT use more than one authentication method in each\",",
    b"\"error_description\":{},",
    b"\"detail\":",
    b"\"scimType\":\"uniqueness\",",
    b"\"maxOperations\":\"-1\",",
    b"\"supported\":\"yes\",",
    b"\xEF\xBB\xBF",
    b"\xFF",
    b"\xC3",
    b"<html>",
    b"<title>x</title>",
    b"/*",
    b"//",
    b"NaN",
    b"Infinity",
    b" ",
    b"\n",
];

/// `unit` repeated to about `bytes` bytes.
fn repeated(unit: &str, bytes: usize) -> String {
    unit.repeat(bytes / unit.len().max(1))
}

/// Answers of about `bytes` bytes built to make a decoder allocate as much as it can per input
/// byte: (target name, what it is, the input).
pub fn worst_cases(bytes: usize) -> Vec<(&'static str, &'static str, Input)> {
    let axis2 = ns::AXIS2.uri;
    let idp = ns::IDP_MGT.uri;
    let um = ns::UM_SERVICE.uri;
    let json = |body: String| Input::json(200, body);
    vec![
        (
            "soap getAllIdPs",
            "empty <return/> identity providers",
            Input::xml(response("getAllIdPs", idp, &repeated("<return/>", bytes))),
        ),
        (
            "soap getAllIdPs",
            "nil <ns:return xsi:nil=\"true\"/> entries",
            Input::xml(response(
                "getAllIdPs",
                idp,
                &repeated(r#"<ns:return xsi:nil="true"/>"#, bytes),
            )),
        ),
        (
            "soap getAllApplicationBasicInfo",
            "empty <return/> rows",
            Input::xml(response(
                "getAllApplicationBasicInfo",
                axis2,
                &repeated("<return/>", bytes),
            )),
        ),
        (
            "soap getRoleNames",
            "one-letter role names",
            Input::xml(response(
                "getRoleNames",
                um,
                &repeated("<return>a</return>", bytes),
            )),
        ),
        (
            "model ServiceProvider",
            "empty federated identity providers in one step",
            Input::xml(format!(
                "<return><localAndOutBoundAuthenticationConfig><authenticationSteps>{}</authenticationSteps></localAndOutBoundAuthenticationConfig></return>",
                repeated("<federatedIdentityProviders/>", bytes)
            )),
        ),
        (
            "model IdentityProvider",
            "empty properties in one authenticator",
            Input::xml(format!(
                "<return><federatedAuthenticatorConfigs>{}</federatedAuthenticatorConfigs></return>",
                repeated("<properties/>", bytes)
            )),
        ),
        (
            "model IdentityProvider",
            "empty claim mappings",
            Input::xml(format!(
                "<return><claimConfig>{}</claimConfig></return>",
                repeated("<claimMappings/>", bytes)
            )),
        ),
        (
            "scim2 user list",
            "a list of zeros as Resources",
            json(format!(r#"{{"Resources":[{}0]}}"#, repeated("0,", bytes))),
        ),
        (
            "scim2 group",
            "members with one-letter ids",
            json(format!(
                r#"{{"displayName":"g","members":[{}{{"value":"a"}}]}}"#,
                repeated(r#"{"value":"a"},"#, bytes)
            )),
        ),
        (
            "scim2 bulk",
            "empty operations",
            json(format!(
                r#"{{"Operations":[{}{{}}]}}"#,
                repeated("{},", bytes)
            )),
        ),
        (
            "oidc discovery",
            "empty scopes",
            Input::new(
                200,
                Some("application/json"),
                format!(
                    r#"{{"issuer":"https://h/","authorization_endpoint":"https://h/a","jwks_uri":"https://h/j","scopes_supported":[{}""]}}"#,
                    repeated(r#""","#, bytes)
                ),
            ),
        ),
        (
            "oidc token answer",
            "an error with a list of zeros",
            Input::new(
                400,
                Some("application/json"),
                format!(
                    r#"{{"error":"invalid_grant","x":[{}0]}}"#,
                    repeated("0,", bytes)
                ),
            ),
        ),
    ]
}

/// Checks that every seed is what it should be: the success answers decode, so mutations start
/// from valid documents. Returns the problems.
pub fn check_seeds(targets: &[Target]) -> Vec<String> {
    let mut problems = Vec::new();
    for t in targets {
        let decoded = t
            .seeds
            .iter()
            .filter(|s| (t.decode)(&Prepared::new((*s).clone(), t.syntax)) == Verdict::Decoded)
            .count();
        if decoded == 0 {
            problems.push(format!("{}: no seed decodes", t.name));
        }
    }
    problems
}

// ---------------------------------------------------------------------------------------------
// The structured input and its edits

/// Statuses an edit of the status picks from.
const STATUSES: &[u16] = &[
    200, 201, 202, 204, 302, 400, 401, 403, 404, 409, 500, 502, 503,
];

/// Content types an edit of the content type picks from.
const CONTENT_TYPES: &[Option<&str>] = &[
    Some(XML_CT),
    Some("application/soap+xml; charset=UTF-8"),
    Some("text/html"),
    Some("text/plain"),
    Some("application/json"),
    Some("application/scim+json"),
    Some("application/octet-stream"),
    None,
];

/// Nesting depths of [`Edit::Nest`] (the XML reader stops at 64 levels and serde_json at 128).
const DEPTHS: &[usize] = &[8, 63, 64, 65, 127, 128, 129, 1_000];
/// Depths of the nesting bombs, tried once in 16 nests (they cost time, not coverage).
const BOMB_DEPTHS: &[usize] = &[20_000, 100_000];

/// Whether a one-byte choice picks the rare, large variant (once in 16).
fn rare(choice: u8) -> bool {
    choice >= 240
}

/// Replacements of [`Edit::ReplaceText`].
#[derive(Debug, Clone, Arbitrary)]
pub enum Replacement {
    /// `2^(n % 10)` times `A`; once in 16, 128 Ki times.
    Long(u8),
    /// Up to 8 dictionary tokens.
    Tokens(Vec<u8>),
    /// Nothing.
    Empty,
}

/// One edit of a seed. Positions and indexes are taken modulo what they index, so every value
/// the engine generates is a valid edit.
#[derive(Debug, Clone, Arbitrary)]
pub enum Edit {
    /// Flips bit `bit % 8` of the byte at `at`.
    FlipBit {
        /// Position.
        at: u32,
        /// Bit.
        bit: u8,
    },
    /// Sets the byte at `at` to `byte`.
    SetByte {
        /// Position.
        at: u32,
        /// The new byte.
        byte: u8,
    },
    /// Cuts the body at `at`.
    Truncate {
        /// Position.
        at: u32,
    },
    /// Deletes `len` bytes at `at`.
    Delete {
        /// Position.
        at: u32,
        /// How many.
        len: u16,
    },
    /// Copies `len` bytes at `from` to `to`.
    Duplicate {
        /// Source position.
        from: u32,
        /// How many (at most 256).
        len: u16,
        /// Target position.
        to: u32,
    },
    /// Inserts dictionary token `token`, at the next markup boundary after `at` when
    /// `boundary`.
    Token {
        /// Position.
        at: u32,
        /// Index into the dictionary of the target's syntax.
        token: u16,
        /// Whether to move to a markup boundary first.
        boundary: bool,
    },
    /// Inserts a nest of elements (or arrays, objects) of kind `kind % 3` at the next markup
    /// boundary after `at`: 8 to 1,000 levels deep, once in 16 a bomb of 20,000 or 100,000.
    Nest {
        /// Position.
        at: u32,
        /// Chooses the depth.
        depth: u8,
        /// Which kind of nest.
        kind: u8,
    },
    /// Cuts the body at `cut` and appends seed `donor` from `from` on (any seed of the same
    /// syntax).
    Splice {
        /// Position of the cut.
        cut: u32,
        /// Index of the donor seed.
        donor: u16,
        /// Where the donor is read from.
        from: u32,
    },
    /// Repeats the run of elements (or JSON values) from opener `first` to the next `span`
    /// openers: 1 to 3 more times, once in 16 up to 2,000 more.
    RepeatRun {
        /// Index of the first opener.
        first: u16,
        /// Openers spanned (1 to 16).
        span: u8,
        /// Chooses the copies.
        times: u8,
    },
    /// Replaces the text after the `at`-th `>` (or `:` in JSON) up to the next `<` (or `,`).
    ReplaceText {
        /// Index of the text.
        at: u16,
        /// What replaces it.
        with: Replacement,
    },
    /// Changes a letter just after the `at`-th `<` (or `"`): renames a tag or key.
    Rename {
        /// Index of the tag.
        at: u16,
        /// Which of the next two letters.
        second: bool,
        /// The new letter (`/`, `:` or a letter).
        letter: u8,
    },
    /// Swaps `len` bytes at `a` (first half) with `len` bytes at `b` (second half).
    Swap {
        /// Position in the first half.
        a: u32,
        /// Position in the second half.
        b: u32,
        /// How many (at most 64).
        len: u8,
    },
    /// Inserts `bytes` (at most 16) at `at`.
    Bytes {
        /// Position.
        at: u32,
        /// The bytes.
        bytes: Vec<u8>,
    },
}

/// One fuzz input: which target, which of its seeds, the answer's status and content type (the
/// seed's unless set), and the edits.
#[derive(Debug, Clone, Arbitrary)]
pub struct FuzzCase {
    /// Index of the target.
    pub target: u16,
    /// Index of the seed.
    pub seed: u16,
    /// Index into the statuses tried, if the seed's status is replaced.
    pub status: Option<u8>,
    /// Index into the content types tried, if the seed's is replaced.
    pub content_type: Option<u8>,
    /// The edits, in order (the first [`MAX_EDITS`]).
    pub edits: Vec<Edit>,
}

fn pick<T>(items: &[T], i: usize) -> &T {
    &items[i % items.len()]
}

fn insert(body: &mut Vec<u8>, at: usize, bytes: &[u8]) {
    let at = at.min(body.len());
    body.splice(at..at, bytes.iter().copied());
}

/// The first markup boundary at or after `start` (just before a `<` or after a `>`, or a JSON
/// bracket or separator), or `start`.
fn boundary(body: &[u8], start: usize, syntax: Syntax) -> usize {
    if body.is_empty() {
        return 0;
    }
    let start = start % body.len();
    let marks: &[u8] = match syntax {
        Syntax::Xml => b"<>",
        Syntax::Json => b"{}[],:",
    };
    match body[start..].iter().position(|b| marks.contains(b)) {
        Some(off) if body[start + off] == b'>' => start + off + 1,
        Some(off) => start + off,
        None => start,
    }
}

/// Positions of every byte in `marks`.
fn positions(body: &[u8], marks: &[u8]) -> Vec<usize> {
    body.iter()
        .enumerate()
        .filter(|(_, b)| marks.contains(b))
        .map(|(i, _)| i)
        .collect()
}

impl Edit {
    /// Applies the edit to `body`; `tokens` is the dictionary and `donors` the seeds of the
    /// target's syntax.
    fn apply(&self, body: &mut Vec<u8>, syntax: Syntax, tokens: &[&[u8]], donors: &[&[u8]]) {
        let len = body.len();
        let at = |p: u32| (p as usize) % (len + 1);
        match self {
            Self::FlipBit { at: p, bit } if len > 0 => {
                body[(*p as usize) % len] ^= 1 << (bit % 8);
            }
            Self::SetByte { at: p, byte } if len > 0 => {
                body[(*p as usize) % len] = *byte;
            }
            Self::Truncate { at: p } => body.truncate(at(*p)),
            Self::Delete { at: p, len: n } if len > 0 => {
                let start = (*p as usize) % len;
                let n = 1 + (*n as usize) % (len - start);
                body.drain(start..start + n);
            }
            Self::Duplicate { from, len: n, to } if len > 0 => {
                let start = (*from as usize) % len;
                let n = 1 + (*n as usize) % (len - start).min(256);
                let chunk = body[start..start + n].to_vec();
                insert(body, at(*to), &chunk);
            }
            Self::Token {
                at: p,
                token,
                boundary: b,
            } => {
                let pos = if *b {
                    boundary(body, *p as usize, syntax)
                } else {
                    at(*p)
                };
                insert(body, pos, tokens[*token as usize % tokens.len()]);
            }
            Self::Nest { at: p, depth, kind } => {
                let depth = if rare(*depth) {
                    *pick(BOMB_DEPTHS, *depth as usize)
                } else {
                    *pick(DEPTHS, *depth as usize)
                };
                let (open, close): (&[u8], &[u8]) = match (syntax, kind % 3) {
                    (Syntax::Xml, 0) => (b"<a>", b"</a>"),
                    (Syntax::Xml, 1) => (b"<ns:return>", b"</ns:return>"),
                    (Syntax::Xml, _) => (b"<x:e xmlns:x=\"urn:x\">", b""),
                    (Syntax::Json, 0) => (b"[", b"]"),
                    (Syntax::Json, 1) => (b"{\"a\":", b"}"),
                    (Syntax::Json, _) => (b"[{\"Resources\":", b""),
                };
                let depth = depth.min(MAX_INPUT / (open.len() + close.len()));
                let mut nest = open.repeat(depth);
                nest.extend(close.repeat(depth));
                insert(body, boundary(body, *p as usize, syntax), &nest);
            }
            Self::Splice { cut, donor, from } if !donors.is_empty() => {
                let donor = *pick(donors, *donor as usize);
                body.truncate(at(*cut));
                body.extend_from_slice(&donor[(*from as usize) % (donor.len() + 1)..]);
            }
            Self::RepeatRun { first, span, times } => {
                let marks = positions(
                    body,
                    match syntax {
                        Syntax::Xml => b"<",
                        Syntax::Json => b"{[",
                    },
                );
                if marks.len() >= 2 {
                    let i = (*first as usize) % (marks.len() - 1);
                    let j = i + 1 + (*span as usize) % (marks.len() - i - 1).min(16);
                    let run = body[marks[i]..marks[j]].to_vec();
                    let times = if rare(*times) {
                        1 + (*times as usize - 239) * 125
                    } else {
                        1 + (*times as usize) % 3
                    };
                    let times = times.min(MAX_INPUT / run.len().max(1)).max(1);
                    insert(body, marks[j], &run.repeat(times));
                }
            }
            Self::ReplaceText { at: p, with } => {
                let (open, close) = match syntax {
                    Syntax::Xml => (b'>', b'<'),
                    Syntax::Json => (b':', b','),
                };
                let starts = positions(body, &[open]);
                if !starts.is_empty() {
                    let start = pick(&starts, *p as usize) + 1;
                    let end = body[start..]
                        .iter()
                        .position(|b| *b == close)
                        .map_or(body.len(), |n| start + n);
                    let replacement: Vec<u8> = match with {
                        Replacement::Long(n) if rare(*n) => vec![b'A'; 1 << 17],
                        Replacement::Long(n) => vec![b'A'; 1 << (n % 10)],
                        Replacement::Tokens(t) => t
                            .iter()
                            .take(8)
                            .flat_map(|i| pick(tokens, *i as usize).iter().copied())
                            .collect(),
                        Replacement::Empty => Vec::new(),
                    };
                    body.splice(start..end, replacement);
                }
            }
            Self::Rename {
                at: p,
                second,
                letter,
            } => {
                let mark = match syntax {
                    Syntax::Xml => b'<',
                    Syntax::Json => b'"',
                };
                let marks: Vec<usize> = positions(body, &[mark])
                    .into_iter()
                    .filter(|i| i + 2 < len)
                    .collect();
                if !marks.is_empty() {
                    let pos = pick(&marks, *p as usize) + 1 + usize::from(*second);
                    body[pos] = match letter % 28 {
                        26 => b'/',
                        27 => b':',
                        l => b'a' + l,
                    };
                }
            }
            Self::Swap { a, b, len: n } if len > 8 => {
                let half = len / 2;
                let a = (*a as usize) % half;
                let b = half + (*b as usize) % (len - half);
                let n = (1 + (*n as usize) % 64).min(half - a).min(len - b);
                for k in 0..n {
                    body.swap(a + k, b + k);
                }
            }
            Self::Bytes { at: p, bytes } => {
                let bytes = &bytes[..bytes.len().min(16)];
                insert(body, at(*p), bytes);
            }
            // An edit that needs a non-empty body (or donors) on an empty one: nothing.
            _ => {}
        }
        body.truncate(MAX_INPUT);
    }
}

/// The targets, with what the edits need, ready to run [`FuzzCase`]s.
pub struct Fuzz {
    targets: Vec<Target>,
    xml_donors: Vec<Vec<u8>>,
    json_donors: Vec<Vec<u8>>,
}

impl Default for Fuzz {
    fn default() -> Self {
        Self::new()
    }
}

impl Fuzz {
    /// Every target of [`targets`].
    pub fn new() -> Self {
        let targets = targets();
        let donors = |syntax| {
            targets
                .iter()
                .filter(|t| t.syntax == syntax)
                .flat_map(|t| t.seeds.iter().map(|s| s.body.clone()))
                .collect()
        };
        Self {
            xml_donors: donors(Syntax::Xml),
            json_donors: donors(Syntax::Json),
            targets,
        }
    }

    /// The targets.
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// The target `case` runs, and the input it gives it.
    pub fn input(&self, case: &FuzzCase) -> (&Target, Input) {
        let target = pick(&self.targets, case.target as usize);
        let mut input = pick(&target.seeds, case.seed as usize).clone();
        if let Some(s) = case.status {
            input.status = *pick(STATUSES, s as usize);
        }
        if let Some(c) = case.content_type {
            input.content_type = *pick(CONTENT_TYPES, c as usize);
        }
        let (tokens, donors) = match target.syntax {
            Syntax::Xml => (XML_TOKENS, &self.xml_donors),
            Syntax::Json => (JSON_TOKENS, &self.json_donors),
        };
        let donors: Vec<&[u8]> = donors.iter().map(Vec::as_slice).collect();
        for edit in case.edits.iter().take(MAX_EDITS) {
            edit.apply(&mut input.body, target.syntax, tokens, &donors);
        }
        (target, input)
    }

    /// Runs `case`: the target, and its verdict on the input. A panic of the decoder unwinds
    /// out of here (the engine catches and reports it).
    pub fn run(&self, case: &FuzzCase) -> (&Target, Verdict) {
        let (target, input) = self.input(case);
        let prepared = Prepared::new(input, target.syntax);
        (target, (target.decode)(&prepared))
    }
}
