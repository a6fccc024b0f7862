//! IS's management REST API (`/api/server/v1`, tenant form `/t/{tenant}/api/server/v1`) as
//! identity-api-server serves it from IS 5.10 on: applications (create, list with
//! `filter=name eq X`, get, patch, delete), the application's OIDC inbound protocol, and the OIDC
//! scopes. IS 5.9 has none of it (404).
//!
//! There is one store: an application is the same service-provider tree the SOAP service works
//! on, its OIDC inbound the same OAuth app the token endpoint uses. REST-only properties (template
//! id, image URL, authentication sequence, associated roles, ...) ride along in the tree's
//! `restExtras` element (JSON text), which SOAP answers never show. Request bodies are bound
//! against the release's own spec (`rest_schema`): a property the release lacks is a 400.

use serde_json::{Map, Value, json};

use crate::rest_schema::{self, BindError, Spec};
use crate::schema::{self, NS_MODEL, NS_OAUTH_DTO, model};
use crate::server::{AuthProblem, Family, Inner, Route, ServerKind, SimRequest, SimResponse, lock};
use crate::services::{fresh_sp, oauth_keys, random_key};
use crate::state::{OidcScope, TenantState};
use crate::version::{AppsSpec, IsVersion};
use crate::xml::Element;

/// The SP child holding REST-only properties (JSON object text).
pub(crate) const REST_EXTRAS: &str = "restExtras";
const OAUTH_DTO: (&str, &str) = (NS_OAUTH_DTO, "OAuthConsumerAppDTO");

/// `(tenant from the path, rest after /api/server/v1)`.
fn split(path: &str) -> Option<(Option<String>, String)> {
    if let Some(rest) = path.strip_prefix("/t/") {
        let (tenant, rest) = rest.split_once('/')?;
        let rest = rest.strip_prefix("api/server/v1")?;
        return Some((Some(tenant.to_owned()), rest.to_owned()));
    }
    Some((None, path.strip_prefix("/api/server/v1")?.to_owned()))
}

/// Classifies `/api/server/v1` requests (IS 5.10+ only: on 5.9 they stay unknown paths, 404).
pub(crate) fn route(inner: &Inner, req: &SimRequest) -> Option<Route> {
    if inner.kind != ServerKind::Is || !inner.profile.is.rest_api() {
        return None;
    }
    let (_, rest) = split(&req.path)?;
    let segs: Vec<&str> = rest.trim_matches('/').split('/').collect();
    let m = req.method.as_str();
    let action = match (segs.as_slice(), m) {
        (["applications"], "GET") => "rest.listApplications",
        (["applications"], "POST") => "rest.createApplication",
        (["applications", _], "GET") => "rest.getApplication",
        (["applications", _], "PATCH") => "rest.patchApplication",
        (["applications", _], "DELETE") => "rest.deleteApplication",
        (["applications", _, "inbound-protocols", "oidc"], "GET") => "rest.getOidc",
        (["applications", _, "inbound-protocols", "oidc"], "PUT") => "rest.putOidc",
        (["applications", _, "inbound-protocols", "oidc"], "DELETE") => "rest.deleteOidc",
        (["oidc", "scopes"], "GET") => "rest.listScopes",
        (["oidc", "scopes"], "POST") => "rest.createScope",
        (["oidc", "scopes", _], "GET") => "rest.getScope",
        (["oidc", "scopes", _], "PUT") => "rest.putScope",
        (["oidc", "scopes", _], "DELETE") => "rest.deleteScope",
        (["applications"] | ["applications", _], _)
        | (["applications", _, "inbound-protocols", "oidc"], _)
        | (["oidc", "scopes"] | ["oidc", "scopes", _], _) => "rest.methodNotAllowed",
        _ => "rest.notFound",
    };
    let mutating = matches!(m, "POST" | "PUT" | "PATCH" | "DELETE")
        && !matches!(action, "rest.methodNotAllowed" | "rest.notFound");
    Some(Route {
        action: action.into(),
        mutating,
        family: Family::Rest,
    })
}

/// A fresh trace id (what IS puts in `traceId`: the request's correlation id).
fn trace_id() -> String {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 16];
    let _ = ring::rand::SystemRandom::new().fill(&mut b);
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// IS's error body `{code, message, description, traceId}`.
pub(crate) fn error(status: u16, code: &str, message: &str, description: &str) -> SimResponse {
    SimResponse::json(
        status,
        &json!({"code": code, "message": message, "description": description, "traceId": trace_id()}),
    )
}

fn bind_error(e: BindError) -> SimResponse {
    match e {
        BindError::Format(_) => error(
            400,
            "UE-10000",
            "Invalid Request.",
            "Provided request body content is not in the expected format.",
        ),
        BindError::Constraint(d) => error(400, "UE-10000", "Invalid Request", &d),
    }
}

/// The spec table of a release's applications API.
pub(crate) fn apps_spec(s: AppsSpec) -> &'static Spec {
    use crate::rest_table::*;
    match s {
        AppsSpec::V1_0_82 => &APPS_1_0_82,
        AppsSpec::V1_0_190 => &APPS_1_0_190,
        AppsSpec::V1_2_3 => &APPS_1_2_3,
        AppsSpec::V1_2_23 => &APPS_1_2_23,
        AppsSpec::V1_2_176 => &APPS_1_2_176,
        AppsSpec::V1_3_83 => &APPS_1_3_83,
    }
}

fn scopes_spec(v: IsVersion) -> &'static Spec {
    if v.at_least(IsVersion::V6_0) {
        &crate::rest_table::SCOPES_1_2_176
    } else {
        &crate::rest_table::SCOPES_1_0_82
    }
}

/// The REST id of an application: a UUID derived from its tenant and numeric id, so SOAP-made
/// applications have one too and nothing extra is stored.
pub(crate) fn rest_id(tenant: &str, sp: &Element) -> String {
    let id = sp.text_of("applicationID").unwrap_or("0");
    let d = ring::digest::digest(&ring::digest::SHA256, format!("{tenant}/{id}").as_bytes());
    let h: String = d.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// The REST-only properties kept with an SP.
pub(crate) fn extras(sp: &Element) -> Map<String, Value> {
    sp.text_of(REST_EXTRAS)
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        .and_then(|v| match v {
            Value::Object(m) => Some(m),
            _ => None,
        })
        .unwrap_or_default()
}

fn set_extras(sp: &mut Element, m: &Map<String, Value>) {
    sp.remove_all(REST_EXTRAS);
    if !m.is_empty() {
        sp.children.push(Element::leaf(
            NS_MODEL,
            REST_EXTRAS,
            Value::Object(m.clone()).to_string(),
        ));
    }
}

/// Handles one `/api/server/v1` request.
pub(crate) fn handle(inner: &Inner, req: &SimRequest, action: &str) -> SimResponse {
    let v = inner.profile.is;
    let Some(spec) = v.apps_spec().map(apps_spec) else {
        // IS 5.9: the server REST APIs are not deployed (identity-rest-dispatcher 1.0.12).
        return SimResponse::new(
            404,
            "text/html",
            "<html><body><h1>HTTP Status 404 - Not Found</h1></body></html>",
        );
    };
    let Some((path_tenant, rest)) = split(&req.path) else {
        return SimResponse::empty(404);
    };
    let principal = match inner.principal(req) {
        Ok(p) => p,
        Err(AuthProblem::Missing | AuthProblem::BadCredentials) => {
            return SimResponse::empty(401).header("WWW-Authenticate", "Basic realm=\"WSO2\"");
        }
    };
    let tenant = path_tenant.unwrap_or_else(|| crate::state::SUPER_TENANT.to_owned());
    if principal.tenant != tenant {
        return SimResponse::empty(401);
    }
    if !inner.is_admin(&principal) {
        return SimResponse::empty(403);
    }
    let segs: Vec<String> = rest
        .trim_matches('/')
        .split('/')
        .map(|s| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        })
        .collect();
    let id = segs.get(1).cloned().unwrap_or_default();
    let body: Option<Value> = if req.body.is_empty() {
        None
    } else {
        match serde_json::from_slice(&req.body) {
            Ok(v) => Some(v),
            // A body Jackson cannot parse: the dispatcher's JsonProcessingExceptionMapper answers
            // 400 with UE-10000 as JSON (identity-rest-dispatcher 1.0.72 / 1.0.140 `beans.xml`
            // registers it for /server/v1; its JsonMappingExceptionMapper, a bare 400, is not).
            Err(_) => return bind_error(BindError::Format(String::new())),
        }
    };
    let ctx = Ctx {
        inner,
        v,
        spec,
        tenant: &tenant,
        user: &principal.user,
        base: format!(
            "{}{}/api/server/v1",
            inner.base_url(),
            if tenant == crate::state::SUPER_TENANT {
                String::new()
            } else {
                format!("/t/{tenant}")
            }
        ),
    };
    let needs_body = matches!(
        action,
        "rest.createApplication"
            | "rest.patchApplication"
            | "rest.putOidc"
            | "rest.createScope"
            | "rest.putScope"
    );
    if needs_body && body.is_none() {
        return error(
            400,
            "UE-10000",
            "Invalid Request",
            "Request body must not be empty.",
        );
    }
    let body = body.unwrap_or(Value::Null);
    match action {
        "rest.listApplications" => ctx.list(&req.query_params()),
        "rest.createApplication" => ctx.create(&body),
        "rest.getApplication" => ctx.get(&id),
        "rest.patchApplication" => ctx.patch(&id, &body),
        "rest.deleteApplication" => ctx.delete(&id),
        "rest.getOidc" => ctx.get_oidc(&id),
        "rest.putOidc" => ctx.put_oidc(&id, &body),
        "rest.deleteOidc" => ctx.delete_oidc(&id),
        "rest.listScopes" => ctx.list_scopes(),
        "rest.getScope" => ctx.get_scope(&id_at(&segs, 2)),
        "rest.createScope" => ctx.create_scope(&body),
        "rest.putScope" => ctx.put_scope(&id_at(&segs, 2), &body),
        "rest.deleteScope" => ctx.delete_scope(&id_at(&segs, 2)),
        // CXF: the path exists, the method does not.
        "rest.methodNotAllowed" => SimResponse::empty(405),
        _ => SimResponse::empty(404),
    }
}

fn id_at(segs: &[String], i: usize) -> String {
    segs.get(i).cloned().unwrap_or_default()
}

struct Ctx<'a> {
    inner: &'a Inner,
    v: IsVersion,
    spec: &'static Spec,
    tenant: &'a str,
    user: &'a str,
    base: String,
}

fn not_found(id: &str, tenant: &str) -> SimResponse {
    error(
        404,
        "APP-60006",
        "Application not found.",
        &format!(
            "Application cannot be found for the provided id: {id} in the tenantDomain: {tenant}."
        ),
    )
}

fn flag(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => Some(s == "true"),
        _ => None,
    }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Sets `lAOAC/name` (creating the config element).
fn set_auth(sp: &mut Element, name: &str, value: &str) {
    if sp.child("localAndOutBoundAuthenticationConfig").is_none() {
        sp.children.push(Element::new(
            NS_MODEL,
            "localAndOutBoundAuthenticationConfig",
        ));
    }
    if let Some(c) = sp.child_mut("localAndOutBoundAuthenticationConfig") {
        c.set_text(name, value);
    }
}

fn set_claim_cfg(sp: &mut Element, name: &str, value: &str) {
    if sp.child("claimConfig").is_none() {
        sp.children.push(Element::new(NS_MODEL, "claimConfig"));
    }
    if let Some(c) = sp.child_mut("claimConfig") {
        c.set_text(name, value);
    }
}

fn uri_of(v: Option<&Value>) -> Option<String> {
    v?.get("uri").map(text_of)
}

/// Writes a REST `claimConfiguration` onto the SP tree (replacing the claim mappings).
fn apply_claims(sp: &mut Element, cc: &Value, extras: &mut Map<String, Value>) {
    let custom = cc.get("dialect").and_then(Value::as_str) == Some("CUSTOM");
    set_claim_cfg(
        sp,
        "localClaimDialect",
        if custom { "false" } else { "true" },
    );
    let requested: Vec<(String, bool)> = cc
        .get("requestedClaims")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| {
                    uri_of(r.get("claim")).map(|u| (u, flag(r.get("mandatory")).unwrap_or(false)))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut mappings: Vec<(String, String)> = Vec::new();
    if custom {
        for m in cc
            .get("claimMappings")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let (Some(app), Some(local)) =
                (m.get("applicationClaim"), uri_of(m.get("localClaim")))
            {
                mappings.push((local, text_of(app)));
            }
        }
    } else {
        mappings = requested
            .iter()
            .map(|(u, _)| (u.clone(), u.clone()))
            .collect();
    }
    if let Some(c) = sp.child_mut("claimConfig") {
        c.remove_all("claimMappings");
        for (local, remote) in &mappings {
            let req = requested.iter().find(|(u, _)| u == local);
            c.children.push(
                Element::new(NS_MODEL, "claimMappings")
                    .with(Element::new(NS_MODEL, "localClaim").with_leaf("claimUri", local.clone()))
                    .with_leaf("mandatory", req.is_some_and(|r| r.1).to_string())
                    .with(
                        Element::new(NS_MODEL, "remoteClaim").with_leaf("claimUri", remote.clone()),
                    )
                    .with_leaf("requested", req.is_some().to_string()),
            );
        }
    }
    if let Some(subject) = cc.get("subject") {
        if let Some(u) = uri_of(subject.get("claim")) {
            set_auth(sp, "subjectClaimUri", &u);
        }
        if let Some(b) = flag(subject.get("includeUserDomain")) {
            set_auth(
                sp,
                "useUserstoreDomainInLocalSubjectIdentifier",
                &b.to_string(),
            );
        }
        if let Some(b) = flag(subject.get("includeTenantDomain")) {
            set_auth(
                sp,
                "useTenantDomainInLocalSubjectIdentifier",
                &b.to_string(),
            );
        }
        if let Some(b) = flag(subject.get("useMappedLocalSubject")) {
            set_claim_cfg(sp, "alwaysSendMappedLocalSubjectId", &b.to_string());
        }
        if let Some(b) = flag(subject.get("mappedLocalSubjectMandatory")) {
            extras.insert("mappedLocalSubjectMandatory".into(), Value::Bool(b));
        }
    }
    if let Some(role) = cc.get("role") {
        match uri_of(role.get("claim")) {
            Some(u) => set_claim_cfg(sp, "roleClaimURI", &u),
            None => {
                if let Some(c) = sp.child_mut("claimConfig") {
                    c.remove_all("roleClaimURI");
                }
            }
        }
        if let Some(b) = flag(role.get("includeUserDomain")) {
            set_auth(sp, "useUserstoreDomainInRoles", &b.to_string());
        }
        match role.get("mappings") {
            Some(m) => extras.insert("roleMappings".into(), m.clone()),
            None => extras.remove("roleMappings"),
        };
    }
}

/// Writes REST `advancedConfigurations` onto the SP tree (only the properties given).
fn apply_advanced(sp: &mut Element, ac: &Value, extras: &mut Map<String, Value>) {
    let Some(m) = ac.as_object() else { return };
    let mut rest = extras
        .get("advancedConfigurations")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (k, val) in m {
        let b = flag(Some(val)).unwrap_or(false).to_string();
        match k.as_str() {
            "saas" => sp.set_text("saasApp", b),
            "skipConsent" | "skipLoginConsent" => set_auth(sp, "skipConsent", &b),
            "skipLogoutConsent" => set_auth(sp, "skipLogoutConsent", &b),
            "returnAuthenticatedIdpList" => {
                set_auth(sp, "alwaysSendBackAuthenticatedListOfIdPs", &b)
            }
            "enableAuthorization" => set_auth(sp, "enableAuthorization", &b),
            _ => {
                rest.insert(k.clone(), val.clone());
            }
        }
    }
    if rest.is_empty() {
        extras.remove("advancedConfigurations");
    } else {
        extras.insert("advancedConfigurations".into(), Value::Object(rest));
    }
}

/// Applies a model (create or patch) to the SP tree; `name` is handled by the caller.
fn apply_model(sp: &mut Element, body: &Map<String, Value>) {
    let mut ex = extras(sp);
    for (k, val) in body {
        match k.as_str() {
            "name" | "id" | "inboundProtocolConfiguration" => {}
            "description" => match val {
                Value::Null => sp.remove_all("description"),
                v => sp.set_text("description", text_of(v)),
            },
            "claimConfiguration" => apply_claims(sp, val, &mut ex),
            "advancedConfigurations" => apply_advanced(sp, val, &mut ex),
            _ => {
                ex.insert(k.clone(), val.clone());
            }
        }
    }
    set_extras(sp, &ex);
    schema::normalize(sp, model("ServiceProvider"));
}

fn auth_text<'a>(sp: &'a Element, name: &str) -> Option<&'a str> {
    sp.child("localAndOutBoundAuthenticationConfig")
        .and_then(|c| c.text_of(name))
}

/// The REST `claimConfiguration` of an SP.
fn claims_json(spec: &Spec, sp: &Element, ex: &Map<String, Value>) -> Value {
    let cfg = sp.child("claimConfig");
    let local = cfg.and_then(|c| c.text_of("localClaimDialect")) != Some("false");
    let mut requested = Vec::new();
    let mut mappings = Vec::new();
    for m in cfg
        .into_iter()
        .flat_map(|c| c.children_named("claimMappings"))
    {
        let lu = m.text_at("localClaim/claimUri").unwrap_or("").to_owned();
        let ru = m.text_at("remoteClaim/claimUri").unwrap_or("").to_owned();
        if m.text_of("requested") == Some("true") || m.text_of("mandatory") == Some("true") {
            requested.push(json!({"claim": {"uri": if local { lu.clone() } else { ru.clone() }}, "mandatory": m.text_of("mandatory") == Some("true")}));
        }
        if !local {
            mappings.push(json!({"applicationClaim": ru, "localClaim": {"uri": lu}}));
        }
    }
    let mut subject = json!({
        "claim": {"uri": auth_text(sp, "subjectClaimUri").unwrap_or("http://wso2.org/claims/username")},
        "includeUserDomain": auth_text(sp, "useUserstoreDomainInLocalSubjectIdentifier") == Some("true"),
        "includeTenantDomain": auth_text(sp, "useTenantDomainInLocalSubjectIdentifier") == Some("true"),
        "useMappedLocalSubject": cfg.and_then(|c| c.text_of("alwaysSendMappedLocalSubjectId")) == Some("true"),
    });
    if spec.has("SubjectConfig", "mappedLocalSubjectMandatory") {
        subject["mappedLocalSubjectMandatory"] = ex
            .get("mappedLocalSubjectMandatory")
            .cloned()
            .unwrap_or(Value::Bool(false));
    }
    let mut role = json!({
        "includeUserDomain": auth_text(sp, "useUserstoreDomainInRoles") != Some("false"),
    });
    if let Some(u) = cfg.and_then(|c| c.text_of("roleClaimURI")) {
        role["claim"] = json!({"uri": u});
    }
    if let Some(m) = ex.get("roleMappings") {
        role["mappings"] = m.clone();
    }
    let mut out = json!({
        "dialect": if local { "LOCAL" } else { "CUSTOM" },
        "requestedClaims": requested,
        "subject": subject,
        "role": role,
    });
    if !local {
        out["claimMappings"] = Value::Array(mappings);
    }
    out
}

fn advanced_json(spec: &Spec, v: IsVersion, sp: &Element, ex: &Map<String, Value>) -> Value {
    let b = |x: Option<&str>| x == Some("true");
    let mut out = json!({
        "saas": b(sp.text_of("saasApp")),
        "discoverableByEndUsers": false,
        "returnAuthenticatedIdpList": b(auth_text(sp, "alwaysSendBackAuthenticatedListOfIdPs")),
        "enableAuthorization": b(auth_text(sp, "enableAuthorization")),
    });
    if v.at_least(IsVersion::V5_11) {
        out["skipLoginConsent"] = Value::Bool(b(auth_text(sp, "skipConsent")));
        out["skipLogoutConsent"] = Value::Bool(b(auth_text(sp, "skipLogoutConsent")));
    } else {
        out["skipConsent"] = Value::Bool(b(auth_text(sp, "skipConsent")));
    }
    if let Some(Value::Object(m)) = ex.get("advancedConfigurations") {
        for (k, val) in m {
            if spec.has("AdvancedApplicationConfiguration", k) {
                out[k] = val.clone();
            }
        }
    }
    out
}

fn default_sequence() -> Value {
    json!({
        "type": "DEFAULT",
        "steps": [{"id": 1, "options": [{"idp": "LOCAL", "authenticator": "BasicAuthenticator"}]}],
        "requestPathAuthenticators": [],
        "subjectStepId": 1,
        "attributeStepId": 1,
    })
}

/// The callback URL list of an OAuth app (`regexp=(a|b)` stays one entry, as IS shows it).
fn callbacks(app: &Element) -> Vec<Value> {
    app.text_of("callbackUrl")
        .filter(|c| !c.is_empty())
        .map(|c| vec![Value::String(c.to_owned())])
        .unwrap_or_default()
}

impl Ctx<'_> {
    fn find<'t>(&self, t: &'t TenantState, id: &str) -> Option<(&'t String, &'t Element)> {
        t.applications
            .iter()
            .find(|(_, sp)| rest_id(self.tenant, sp) == id)
    }

    fn list(&self, q: &[(String, String)]) -> SimResponse {
        let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        if get("sortBy").is_some() || get("sortOrder").is_some() {
            return error(
                501,
                "APP-65002",
                "Sorting not supported.",
                "Sorting capability is not supported in this version of the API.",
            );
        }
        let limit = match get("limit").map(str::parse::<i64>) {
            None => 15,
            Some(Ok(n)) if n >= 0 => n as usize,
            Some(_) => {
                return error(
                    400,
                    "UE-10000",
                    "Invalid Request",
                    "limit must be a positive number",
                );
            }
        };
        let offset = match get("offset").map(str::parse::<i64>) {
            None => 0,
            Some(Ok(n)) if n >= 0 => n as usize,
            Some(_) => {
                return error(
                    400,
                    "UE-10000",
                    "Invalid Request",
                    "offset must be a positive number",
                );
            }
        };
        let filter = match get("filter").filter(|f| !f.trim().is_empty()) {
            None => None,
            Some(f) => match parse_filter(f) {
                Ok((attr, _, _))
                    if attr != "name"
                        && !(attr == "clientId" && self.v.at_least(IsVersion::V6_1)) =>
                {
                    return error(
                        400,
                        "APP-60004",
                        "Filtering using the attempted attribute is not supported.",
                        &format!(
                            "Filtering cannot be done with the '{attr}' attribute. Filtering is only supported with 'name', 'clientId', and 'issuer' attributes."
                        ),
                    );
                }
                Ok(f) => Some(f),
                Err(r) => return r,
            },
        };
        let core = lock(&self.inner.core);
        let Some(t) = core.tenant(self.tenant) else {
            return SimResponse::empty(404);
        };
        let mut all: Vec<&Element> = t
            .applications
            .values()
            .filter(|sp| match &filter {
                None => true,
                Some((attr, op, val)) => {
                    let subject: Vec<String> = if attr == "name" {
                        vec![sp.text_of("applicationName").unwrap_or("").to_owned()]
                    } else {
                        oauth_keys(sp)
                    };
                    subject.iter().any(|s| match op.as_str() {
                        "eq" => s == val,
                        "sw" => s.starts_with(val.as_str()),
                        "ew" => s.ends_with(val.as_str()),
                        _ => s.contains(val.as_str()),
                    })
                }
            })
            .collect();
        all.sort_by_key(|sp| {
            std::cmp::Reverse(
                sp.text_of("applicationID")
                    .and_then(|i| i.parse::<u64>().ok())
                    .unwrap_or(0),
            )
        });
        let total = all.len();
        let page: Vec<Value> = all
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|sp| self.list_item(t, sp))
            .collect();
        let mut links = Vec::new();
        let filter_q = get("filter")
            .map(|f| format!("&filter={}", enc(f)))
            .unwrap_or_default();
        if offset + page.len() < total {
            links.push(json!({"href": format!("/api/server/v1/applications?offset={}&limit={limit}{filter_q}", offset + limit), "rel": "next"}));
        }
        if offset > 0 {
            links.push(json!({"href": format!("/api/server/v1/applications?offset={}&limit={limit}{filter_q}", offset.saturating_sub(limit)), "rel": "previous"}));
        }
        let mut out = json!({
            "totalResults": total,
            "startIndex": offset + 1,
            "count": page.len(),
            "applications": page,
        });
        if !links.is_empty() {
            out["links"] = Value::Array(links);
        }
        SimResponse::json(200, &out)
    }

    fn list_item(&self, t: &TenantState, sp: &Element) -> Value {
        let id = rest_id(self.tenant, sp);
        let ex = extras(sp);
        let mut item = json!({
            "id": id,
            "name": sp.text_of("applicationName").unwrap_or(""),
            "self": format!("{}/applications/{id}", self.path_base()),
        });
        if let Some(d) = sp.text_of("description") {
            item["description"] = Value::String(d.to_owned());
        }
        if let Some(u) = ex.get("imageUrl") {
            item["image"] = u.clone();
        }
        if let Some(u) = ex.get("accessUrl") {
            item["accessUrl"] = u.clone();
        }
        if self.spec.has("ApplicationListItem", "access") {
            item["access"] = Value::String("WRITE".into());
        }
        if self.spec.has("ApplicationListItem", "clientId")
            && let Some(k) = oauth_keys(sp).first()
            && t.oauth_apps.contains_key(k)
        {
            item["clientId"] = Value::String(k.clone());
        }
        if self
            .spec
            .has("ApplicationListItem", "advancedConfigurations")
        {
            item["advancedConfigurations"] = advanced_json(self.spec, self.v, sp, &ex);
        }
        if self.spec.has("ApplicationListItem", "templateId")
            && let Some(x) = ex.get("templateId")
        {
            item["templateId"] = x.clone();
        }
        if self.spec.has("ApplicationListItem", "applicationEnabled") {
            item["applicationEnabled"] = ex
                .get("applicationEnabled")
                .cloned()
                .unwrap_or(Value::Bool(true));
        }
        item
    }

    /// The path part of links (`/t/{tenant}/api/server/v1` or `/api/server/v1`).
    fn path_base(&self) -> String {
        if self.tenant == crate::state::SUPER_TENANT {
            "/api/server/v1".into()
        } else {
            format!("/t/{}/api/server/v1", self.tenant)
        }
    }

    fn duplicate(&self, name: &str) -> SimResponse {
        let desc = format!(
            "Application registration failed. An application with name '{name}' already exists."
        );
        if self.v == IsVersion::V5_11 {
            // IS 5.11 (identity-api-server 1.0.190) wraps the framework's client error in a
            // server error.
            error(500, "APP-65001", "Error while creating application.", &desc)
        } else {
            error(409, "APP-60007", "Application already exists.", &desc)
        }
    }

    fn create(&self, body: &Value) -> SimResponse {
        if let Err(e) = rest_schema::bind(self.spec, "ApplicationModel", body) {
            return bind_error(e);
        }
        let Some(m) = body.as_object() else {
            return bind_error(BindError::Format(String::new()));
        };
        let name = m.get("name").map(text_of).unwrap_or_default();
        if name.trim().is_empty() {
            return error(400, "UE-10000", "Invalid Request", "name must not be blank");
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " ._-".contains(c))
        {
            return error(
                400,
                "APP-60001",
                "Invalid application name.",
                &format!(
                    "The Application name {name} is not valid! It is not adhering to the regex ^[a-zA-Z0-9 ._-]*$"
                ),
            );
        }
        let oidc = m
            .get("inboundProtocolConfiguration")
            .and_then(|i| i.get("oidc"))
            .cloned();
        let mut core = lock(&self.inner.core);
        if core
            .tenant(self.tenant)
            .is_some_and(|t| t.applications.contains_key(&name))
        {
            return self.duplicate(&name);
        }
        let app_id = core.next_app_id;
        core.next_app_id += 1;
        let mut sp = fresh_sp(app_id, &name, None, self.user, self.tenant);
        apply_model(&mut sp, m);
        let role_id = core.uuid();
        let id = rest_id(self.tenant, &sp);
        if let Some(o) = oidc
            && let Err(r) = self.write_oidc(&mut core, &mut sp, &o)
        {
            return r;
        }
        let now = crate::state::now_rfc3339();
        let t = core.tenant_mut(self.tenant);
        t.roles
            .entry(format!("Application/{name}"))
            .or_insert_with(|| crate::state::RoleRecord {
                audience: None,
                groups: Default::default(),
                users: [self.user.to_owned()].into_iter().collect(),
                permissions: Vec::new(),
                scim_id: role_id,
                created: now.clone(),
                modified: now,
            });
        t.applications.insert(name, sp);
        SimResponse::empty(201).header("Location", format!("{}/applications/{id}", self.base))
    }

    fn get(&self, id: &str) -> SimResponse {
        let core = lock(&self.inner.core);
        let Some((t, (_, sp))) = core
            .tenant(self.tenant)
            .and_then(|t| self.find(t, id).map(|f| (t, f)))
        else {
            return not_found(id, self.tenant);
        };
        let ex = extras(sp);
        let mut out = json!({"id": id, "name": sp.text_of("applicationName").unwrap_or("")});
        if let Some(d) = sp.text_of("description") {
            out["description"] = Value::String(d.to_owned());
        }
        for (k, val) in &ex {
            if self.spec.has("ApplicationResponseModel", k)
                && !matches!(
                    k.as_str(),
                    "claimConfiguration" | "advancedConfigurations" | "inboundProtocols"
                )
            {
                out[k] = val.clone();
            }
        }
        out["claimConfiguration"] = claims_json(self.spec, sp, &ex);
        let keys: Vec<String> = oauth_keys(sp)
            .into_iter()
            .filter(|k| t.oauth_apps.contains_key(k))
            .collect();
        let protocols: Vec<Value> = keys
            .iter()
            .map(|_| json!({"type": "oauth2", "name": "oidc", "self": format!("{}/applications/{id}/inbound-protocols/oidc", self.path_base())}))
            .take(1)
            .collect();
        out["inboundProtocols"] = Value::Array(protocols);
        if self.spec.has("ApplicationResponseModel", "clientId")
            && let Some(k) = keys.first()
        {
            out["clientId"] = Value::String(k.clone());
        }
        if !out
            .get("authenticationSequence")
            .is_some_and(Value::is_object)
        {
            out["authenticationSequence"] = default_sequence();
        }
        out["advancedConfigurations"] = advanced_json(self.spec, self.v, sp, &ex);
        if self.spec.has("ApplicationResponseModel", "access") {
            out["access"] = Value::String("WRITE".into());
        }
        if self
            .spec
            .has("ApplicationResponseModel", "applicationEnabled")
            && out.get("applicationEnabled").is_none()
        {
            out["applicationEnabled"] = Value::Bool(true);
        }
        SimResponse::json(200, &out)
    }

    fn patch(&self, id: &str, body: &Value) -> SimResponse {
        if let Err(e) = rest_schema::bind(self.spec, "ApplicationPatchModel", body) {
            return bind_error(e);
        }
        let Some(m) = body.as_object() else {
            return bind_error(BindError::Format(String::new()));
        };
        let mut core = lock(&self.inner.core);
        let t = core.tenant_mut(self.tenant);
        let Some(old_name) = self.find(t, id).map(|(n, _)| n.clone()) else {
            return not_found(id, self.tenant);
        };
        let new_name = m
            .get("name")
            .map(text_of)
            .unwrap_or_else(|| old_name.clone());
        if new_name != old_name && t.applications.contains_key(&new_name) {
            return self.duplicate(&new_name);
        }
        let Some(mut sp) = t.applications.remove(&old_name) else {
            return not_found(id, self.tenant);
        };
        apply_model(&mut sp, m);
        if new_name != old_name {
            sp.set_text("applicationName", new_name.clone());
            if let Some(r) = t.roles.remove(&format!("Application/{old_name}")) {
                t.roles.insert(format!("Application/{new_name}"), r);
            }
            for key in oauth_keys(&sp) {
                if let Some(app) = t.oauth_apps.get_mut(&key) {
                    app.set_text("applicationName", new_name.clone());
                }
            }
        }
        t.applications.insert(new_name, sp);
        SimResponse::empty(200)
    }

    fn delete(&self, id: &str) -> SimResponse {
        let mut core = lock(&self.inner.core);
        let t = core.tenant_mut(self.tenant);
        let Some(name) = self.find(t, id).map(|(n, _)| n.clone()) else {
            // identity-api-server answers a delete of an unknown id with 204.
            return SimResponse::empty(204);
        };
        if let Some(sp) = t.applications.remove(&name) {
            for key in oauth_keys(&sp) {
                t.oauth_apps.remove(&key);
            }
        }
        t.roles.remove(&format!("Application/{name}"));
        SimResponse::empty(204)
    }

    fn oidc_json(&self, app: &Element) -> Value {
        let s = self.spec;
        let has = |k: &str| s.has("OpenIDConnectConfiguration", k);
        let num = |k: &str, d: i64| -> Value {
            json!(
                app.text_of(k)
                    .and_then(|x| x.trim().parse::<i64>().ok())
                    .unwrap_or(d)
            )
        };
        let b = |k: &str| app.text_of(k) == Some("true");
        let grants: Vec<Value> = app
            .text_of("grantTypes")
            .unwrap_or("")
            .split_whitespace()
            .map(|g| Value::String(g.to_owned()))
            .collect();
        let ex = dto_extras(app);
        let mut out = json!({
            "clientId": app.text_of("oauthConsumerKey").unwrap_or(""),
            "clientSecret": app.text_of("oauthConsumerSecret").unwrap_or(""),
            "state": app.text_of("state").unwrap_or("ACTIVE"),
            "grantTypes": grants,
            "callbackURLs": callbacks(app),
            "allowedOrigins": ex.get("allowedOrigins").cloned().unwrap_or(json!([])),
            "publicClient": b("bypassClientCredentials"),
            "pkce": {"mandatory": b("pkceMandatory"), "supportPlainTransformAlgorithm": b("pkceSupportPlain")},
            "accessToken": {
                "type": app.text_of("tokenType").unwrap_or("Default"),
                "userAccessTokenExpiryInSeconds": num("userAccessTokenExpiryTime", 3600),
                "applicationAccessTokenExpiryInSeconds": num("applicationAccessTokenExpiryTime", 3600),
            },
            "refreshToken": {
                "expiryInSeconds": num("refreshTokenExpiryTime", 86400),
                "renewRefreshToken": app.text_of("renewRefreshTokenEnabled") != Some("false"),
            },
            "idToken": {
                "expiryInSeconds": num("idTokenExpiryTime", 3600),
                "audience": app.children_named("audiences").map(|a| Value::String(a.text.clone())).collect::<Vec<_>>(),
            },
            "validateRequestObjectSignature": b("requestObjectSignatureValidationEnabled"),
            "scopeValidators": app.children_named("scopeValidators").map(|a| Value::String(a.text.clone())).collect::<Vec<_>>(),
        });
        let logout = json!({
            "backChannelLogoutUrl": app.text_of("backChannelLogoutUrl"),
            "frontChannelLogoutUrl": app.text_of("frontchannelLogoutUrl"),
        });
        if logout
            .as_object()
            .is_some_and(|m| m.values().any(|v| !v.is_null()))
            && let Some(o) = logout.as_object()
        {
            out["logout"] = Value::Object(
                o.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            );
        }
        if has("clientAuthentication") {
            let mut ca = ex
                .get("clientAuthentication")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            if let Some(mth) = app.text_of("tokenEndpointAuthMethod") {
                ca.insert("tokenEndpointAuthMethod".into(), Value::String(mth.into()));
            }
            out["clientAuthentication"] = Value::Object(ca);
        }
        for (k, val) in &ex {
            if has(k) && out.get(k).is_none() {
                out[k] = val.clone();
            }
        }
        if let Some(o) = out.as_object_mut() {
            o.retain(|k, _| has(k));
        }
        out
    }

    fn get_oidc(&self, id: &str) -> SimResponse {
        let core = lock(&self.inner.core);
        let Some((t, (_, sp))) = core
            .tenant(self.tenant)
            .and_then(|t| self.find(t, id).map(|f| (t, f)))
        else {
            return not_found(id, self.tenant);
        };
        match oauth_keys(sp).iter().find_map(|k| t.oauth_apps.get(k)) {
            Some(app) => SimResponse::json(200, &self.oidc_json(app)),
            None => error(
                404,
                "APP-60502",
                "Inbound protocol not configured.",
                &format!("Inbound protocol: oidc not configured for application id: {id}."),
            ),
        }
    }

    fn put_oidc(&self, id: &str, body: &Value) -> SimResponse {
        if let Err(e) = rest_schema::bind(self.spec, "OpenIDConnectConfiguration", body) {
            return bind_error(e);
        }
        let mut core = lock(&self.inner.core);
        let Some(name) = core
            .tenant(self.tenant)
            .and_then(|t| self.find(t, id).map(|(n, _)| n.clone()))
        else {
            return not_found(id, self.tenant);
        };
        let Some(mut sp) = core.tenant_mut(self.tenant).applications.remove(&name) else {
            return not_found(id, self.tenant);
        };
        let r = self.write_oidc(&mut core, &mut sp, body);
        core.tenant_mut(self.tenant).applications.insert(name, sp);
        match r {
            Ok(()) => SimResponse::empty(200),
            Err(r) => r,
        }
    }

    /// Creates or replaces the SP's OAuth app from a REST `OpenIDConnectConfiguration`:
    /// generates the client id and secret when absent, keeps the secret on update.
    fn write_oidc(
        &self,
        core: &mut crate::server::Core,
        sp: &mut Element,
        o: &Value,
    ) -> Result<(), SimResponse> {
        let name = sp.text_of("applicationName").unwrap_or("").to_owned();
        let existing = oauth_keys(sp).into_iter().find(|k| {
            core.tenant(self.tenant)
                .is_some_and(|t| t.oauth_apps.contains_key(k))
        });
        let given_id = o.get("clientId").map(text_of).filter(|s| !s.is_empty());
        if let (Some(e), Some(g)) = (&existing, &given_id)
            && e != g
        {
            return Err(error(
                400,
                "APP-60001",
                "Invalid client id.",
                "The client id of an application cannot be changed.",
            ));
        }
        let key = match (existing.clone(), given_id) {
            (Some(k), _) => k,
            (None, Some(g)) => {
                if core.tenants.values().any(|t| t.oauth_apps.contains_key(&g)) {
                    return Err(error(
                        409,
                        "APP-60008",
                        "Client id already exists.",
                        &format!("An OAuth application with the client id {g} already exists."),
                    ));
                }
                g
            }
            (None, None) => random_key(core),
        };
        let old = existing
            .as_ref()
            .and_then(|k| core.tenant(self.tenant).and_then(|t| t.oauth_apps.get(k)))
            .cloned();
        let secret = match o.get("clientSecret").map(text_of).filter(|s| !s.is_empty()) {
            Some(s) => s,
            None => match old.as_ref().and_then(|a| a.text_of("oauthConsumerSecret")) {
                Some(s) => s.to_owned(),
                None => random_key(core),
            },
        };
        let grants: Vec<String> = o
            .get("grantTypes")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(text_of).collect())
            .unwrap_or_default();
        let cbs: Vec<String> = o
            .get("callbackURLs")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(text_of).collect())
            .unwrap_or_default();
        let callback = match cbs.as_slice() {
            [] => None,
            [one] => Some(one.clone()),
            many => Some(format!(
                "regexp=({})",
                many.iter()
                    .map(|c| c.strip_prefix("regexp=").unwrap_or(c).to_owned())
                    .collect::<Vec<_>>()
                    .join("|")
            )),
        };
        if grants.iter().any(|g| g == "authorization_code") && callback.is_none() {
            return Err(error(
                400,
                "OAUTH-60001",
                "Invalid request.",
                "Callback URL is mandatory for authorization code and implicit grant types.",
            ));
        }
        let d = NS_OAUTH_DTO;
        let get = |path: &[&str]| -> Option<String> {
            let mut cur = o;
            for p in path {
                cur = cur.get(*p)?;
            }
            (!cur.is_null()).then(|| text_of(cur))
        };
        let mut app = Element::new(crate::schema::NS_AXIS2, "application");
        app.children.extend([
            Element::leaf(d, "OAuthVersion", "OAuth-2.0"),
            Element::leaf(d, "applicationName", name.clone()),
            Element::leaf(d, "grantTypes", grants.join(" ")),
            Element::leaf(d, "oauthConsumerKey", key.clone()),
            Element::leaf(d, "oauthConsumerSecret", secret),
            Element::leaf(
                d,
                "pkceMandatory",
                get(&["pkce", "mandatory"]).unwrap_or_else(|| "false".into()),
            ),
            Element::leaf(
                d,
                "pkceSupportPlain",
                get(&["pkce", "supportPlainTransformAlgorithm"]).unwrap_or_else(|| "false".into()),
            ),
            Element::leaf(
                d,
                "bypassClientCredentials",
                get(&["publicClient"]).unwrap_or_else(|| "false".into()),
            ),
            Element::leaf(d, "state", "ACTIVE"),
            Element::leaf(d, "username", self.user),
        ]);
        if let Some(c) = callback {
            app.children.push(Element::leaf(d, "callbackUrl", c));
        }
        for (field, path) in [
            ("tokenType", &["accessToken", "type"][..]),
            (
                "userAccessTokenExpiryTime",
                &["accessToken", "userAccessTokenExpiryInSeconds"],
            ),
            (
                "applicationAccessTokenExpiryTime",
                &["accessToken", "applicationAccessTokenExpiryInSeconds"],
            ),
            (
                "refreshTokenExpiryTime",
                &["refreshToken", "expiryInSeconds"],
            ),
            (
                "renewRefreshTokenEnabled",
                &["refreshToken", "renewRefreshToken"],
            ),
            ("idTokenExpiryTime", &["idToken", "expiryInSeconds"]),
            ("backChannelLogoutUrl", &["logout", "backChannelLogoutUrl"]),
            (
                "frontchannelLogoutUrl",
                &["logout", "frontChannelLogoutUrl"],
            ),
            (
                "requestObjectSignatureValidationEnabled",
                &["validateRequestObjectSignature"],
            ),
        ] {
            if let Some(v) = get(path) {
                app.children.push(Element::leaf(d, field, v));
            }
        }
        for a in o
            .get("idToken")
            .and_then(|i| i.get("audience"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            app.children.push(Element::leaf(d, "audiences", text_of(a)));
        }
        for a in o
            .get("scopeValidators")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            app.children
                .push(Element::leaf(d, "scopeValidators", text_of(a)));
        }
        if let Some(m) = get(&["clientAuthentication", "tokenEndpointAuthMethod"]) {
            app.children
                .push(Element::leaf(d, "tokenEndpointAuthMethod", m));
        }
        let mut ex = Map::new();
        for k in [
            "allowedOrigins",
            "clientAuthentication",
            "requestObject",
            "pushAuthorizationRequest",
            "subject",
            "isFAPIApplication",
            "hybridFlow",
            "subjectToken",
            "accessTokenBindingType",
        ] {
            if let Some(v) = o.get(k).filter(|v| !v.is_null()) {
                ex.insert(k.to_owned(), v.clone());
            }
        }
        if let Some(m) = ex
            .get_mut("clientAuthentication")
            .and_then(Value::as_object_mut)
        {
            m.remove("tokenEndpointAuthMethod");
        }
        if !ex.is_empty() {
            app.children.push(Element::leaf(
                NS_MODEL,
                REST_EXTRAS,
                Value::Object(ex).to_string(),
            ));
        }
        crate::services::fill_expiry_defaults(&mut app);
        schema::normalize(&mut app, OAUTH_DTO);
        // The SP's inbound config points at the OAuth app.
        if sp.child("inboundAuthenticationConfig").is_none() {
            sp.children
                .push(Element::new(NS_MODEL, "inboundAuthenticationConfig"));
        }
        if existing.is_none()
            && let Some(inb) = sp.child_mut("inboundAuthenticationConfig")
        {
            inb.children.push(
                Element::new(NS_MODEL, "inboundAuthenticationRequestConfigs")
                    .with_leaf("inboundAuthKey", key.clone())
                    .with_leaf("inboundAuthType", "oauth2"),
            );
        }
        schema::normalize(sp, model("ServiceProvider"));
        core.tenant_mut(self.tenant).oauth_apps.insert(key, app);
        Ok(())
    }

    fn delete_oidc(&self, id: &str) -> SimResponse {
        let mut core = lock(&self.inner.core);
        let t = core.tenant_mut(self.tenant);
        let Some(name) = self.find(t, id).map(|(n, _)| n.clone()) else {
            return not_found(id, self.tenant);
        };
        if let Some(sp) = t.applications.get_mut(&name) {
            let keys = oauth_keys(sp);
            if let Some(inb) = sp.child_mut("inboundAuthenticationConfig") {
                inb.children
                    .retain(|r| r.text_of("inboundAuthType") != Some("oauth2"));
            }
            for k in keys {
                t.oauth_apps.remove(&k);
            }
        }
        SimResponse::empty(204)
    }

    // ------------------------------------------------------------ OIDC scopes

    fn scope_json(name: &str, s: &OidcScope) -> Value {
        let mut v = json!({"name": name, "displayName": s.display_name, "claims": s.claims});
        if let Some(d) = &s.description {
            v["description"] = Value::String(d.clone());
        }
        v
    }

    fn scope_missing(id: &str) -> SimResponse {
        error(
            404,
            "OSM-60006",
            "Scope not found.",
            &format!("Scope: {id} is not found."),
        )
    }

    fn list_scopes(&self) -> SimResponse {
        let core = lock(&self.inner.core);
        let list: Vec<Value> = core
            .tenant(self.tenant)
            .map(|t| {
                t.oidc_scopes
                    .iter()
                    .map(|(n, s)| Self::scope_json(n, s))
                    .collect()
            })
            .unwrap_or_default();
        SimResponse::json(200, &Value::Array(list))
    }

    fn get_scope(&self, id: &str) -> SimResponse {
        let core = lock(&self.inner.core);
        match core.tenant(self.tenant).and_then(|t| t.oidc_scopes.get(id)) {
            Some(s) => SimResponse::json(200, &Self::scope_json(id, s)),
            None => Self::scope_missing(id),
        }
    }

    fn scope_of(body: &Value) -> OidcScope {
        OidcScope {
            display_name: body.get("displayName").map(text_of).unwrap_or_default(),
            description: body
                .get("description")
                .filter(|d| !d.is_null())
                .map(text_of),
            claims: body
                .get("claims")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(text_of).collect())
                .unwrap_or_default(),
        }
    }

    fn create_scope(&self, body: &Value) -> SimResponse {
        if let Err(e) = rest_schema::bind(scopes_spec(self.v), "Scope", body) {
            return bind_error(e);
        }
        let name = body.get("name").map(text_of).unwrap_or_default();
        let mut core = lock(&self.inner.core);
        let t = core.tenant_mut(self.tenant);
        if t.oidc_scopes.contains_key(&name) {
            return error(
                409,
                "OSM-60007",
                "Scope already exists.",
                &format!("Scope with name: {name} already exists in the system."),
            );
        }
        t.oidc_scopes.insert(name.clone(), Self::scope_of(body));
        SimResponse::empty(201).header("Location", format!("{}/oidc/scopes/{name}", self.base))
    }

    fn put_scope(&self, id: &str, body: &Value) -> SimResponse {
        if let Err(e) = rest_schema::bind(scopes_spec(self.v), "ScopeUpdateRequest", body) {
            return bind_error(e);
        }
        let mut core = lock(&self.inner.core);
        let t = core.tenant_mut(self.tenant);
        let Some(s) = t.oidc_scopes.get_mut(id) else {
            return Self::scope_missing(id);
        };
        *s = Self::scope_of(body);
        SimResponse::empty(200)
    }

    fn delete_scope(&self, id: &str) -> SimResponse {
        let mut core = lock(&self.inner.core);
        if core
            .tenant_mut(self.tenant)
            .oidc_scopes
            .remove(id)
            .is_none()
        {
            return Self::scope_missing(id);
        }
        SimResponse::empty(204)
    }
}

/// REST-only properties of an OAuth app.
pub(crate) fn dto_extras(app: &Element) -> Map<String, Value> {
    extras(app)
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `attr op value` (value optionally quoted) -> (attr, op, value).
fn parse_filter(f: &str) -> Result<(String, String, String), SimResponse> {
    let mut parts = f.trim().splitn(3, char::is_whitespace);
    let (Some(attr), Some(op), Some(val)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(error(
            400,
            "APP-60004",
            "Invalid filter query format.",
            "Filter needs to be in the format <attribute>+<operation>+<value>. Eg: name+eq+john",
        ));
    };
    let op = op.to_ascii_lowercase();
    if !["eq", "sw", "ew", "co"].contains(&op.as_str()) {
        return Err(error(
            400,
            "APP-60004",
            "Attempted filtering operation is invalid.",
            &format!(
                "Attempted filtering operation '{op}' is invalid. Please use one of the supported filtering operations such as 'eq', 'co', 'sw', 'ew', 'and', 'or'."
            ),
        ));
    }
    Ok((attr.to_owned(), op, val.trim().trim_matches('"').to_owned()))
}
