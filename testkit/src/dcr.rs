//! APIM's dynamic client registration endpoint (`POST /client-registration/{v}/register`), which
//! the portals' login initiators call to bring their OAuth client and service provider into
//! being (WSO2-VERSIONS.md §3.3; carbon-apimgt `RegistrationServiceImpl`, `dcr.yaml`).
//!
//! * Path version per release: `v0.15` (3.0), `v0.16` (3.1, 3.2), `v0.17` (4.x, `dcr.yaml`).
//! * Basic authentication of a user of the tenant; anything else is 401 with APIM's error body.
//! * The service provider is named `{owner}_{clientName}` on 3.0 (DCR v0.15; the `Apim300`
//!   portal naming) and `clientName` from 3.1 on; a name already registered answers the existing client (200), as
//!   `RegistrationServiceImpl` does.
//! * The answer names the callback `callBackURL` on 3.x (a captured 2.x/3.x answer) and
//!   `callbackUrl` on 4.x (`dcr.yaml`; not confirmed against a capture).

use std::sync::Arc;

use serde_json::{Value, json};

use crate::control::PortalNaming;
use crate::schema::{self, NS_AXIS2, NS_MODEL, NS_OAUTH_DTO, model};
use crate::server::{Family, Inner, Route, ServerKind, SimRequest, SimResponse, lock};
use crate::services::fresh_sp;
use crate::state::{RoleRecord, now_rfc3339};
use crate::version::ApimVersion;
use crate::xml::Element;

/// The DCR path version of an APIM release.
pub(crate) fn path_version(v: ApimVersion) -> &'static str {
    match v {
        ApimVersion::V3_0 => "v0.15",
        ApimVersion::V3_1 | ApimVersion::V3_2 => "v0.16",
        _ => "v0.17",
    }
}

/// The registration path of the release (`/client-registration/v0.17/register`).
pub(crate) fn register_path(v: ApimVersion) -> String {
    format!("/client-registration/{}/register", path_version(v))
}

/// Classifies DCR requests (APIM only).
pub(crate) fn route(inner: &Inner, req: &SimRequest) -> Option<Route> {
    if inner.kind != ServerKind::Apim
        || req.path.trim_end_matches('/') != register_path(inner.profile.apim)
    {
        return None;
    }
    Some(Route {
        action: "apim.dcr".into(),
        mutating: false,
        family: Family::ApimRest,
    })
}

/// APIM's REST error body (`{code, message, description, moreInfo, error}`).
pub(crate) fn apim_error(status: u16, message: &str, description: &str) -> SimResponse {
    SimResponse::json(
        status,
        &json!({"code": status, "message": message, "description": description, "moreInfo": "", "error": []}),
    )
}

/// What a registration asks for.
pub(crate) struct Registration {
    pub(crate) client_name: String,
    pub(crate) owner: String,
    pub(crate) callback: String,
    pub(crate) grant_types: String,
    pub(crate) saas: bool,
    /// `(pkceMandatory, pkceSupportPlain)` when the caller sets them (APIM 4.7 portals).
    pub(crate) pkce: Option<(bool, bool)>,
}

/// A registered client.
pub(crate) struct Registered {
    pub(crate) key: String,
    pub(crate) secret: String,
    pub(crate) sp_name: String,
    pub(crate) created: bool,
}

/// The service provider name a registration gets: `{owner}_{clientName}` where APIM 3.0's DCR
/// names them (the `Apim300` portal naming, which an explicitly chosen 3.0 has), else
/// `clientName`.
pub(crate) fn sp_name(naming: PortalNaming, client_name: &str, owner: &str) -> String {
    if naming == PortalNaming::Apim300 {
        format!("{owner}_{client_name}")
    } else {
        client_name.to_owned()
    }
}

/// Registers (or finds) the OAuth client and its service provider in `tenant`.
pub(crate) fn register(inner: &Inner, tenant: &str, r: &Registration) -> Registered {
    let name = sp_name(inner.quirks().portal_naming, &r.client_name, &r.owner);
    let mut core = lock(&inner.core);
    if let Some((key, app)) = core
        .tenant(tenant)
        .and_then(|t| t.oauth_app_by_name(&name))
        .map(|(k, a)| (k.clone(), a.clone()))
    {
        return Registered {
            key,
            secret: app.text_of("oauthConsumerSecret").unwrap_or("").to_owned(),
            sp_name: name,
            created: false,
        };
    }
    let key = crate::services::random_key(&mut core);
    let secret = crate::services::random_key(&mut core);
    let id = core.next_app_id;
    core.next_app_id += 1;
    let role_id = core.uuid();
    let (pkce, plain) = r.pkce.unwrap_or((false, false));
    let mut app = Element::new(NS_AXIS2, "application");
    let d = NS_OAUTH_DTO;
    app.children.extend([
        Element::leaf(d, "OAuthVersion", "OAuth-2.0"),
        Element::leaf(d, "applicationAccessTokenExpiryTime", "3600"),
        Element::leaf(d, "applicationName", name.clone()),
        Element::leaf(d, "bypassClientCredentials", "false"),
        Element::leaf(d, "callbackUrl", r.callback.clone()),
        Element::leaf(d, "grantTypes", r.grant_types.clone()),
        Element::leaf(d, "idTokenExpiryTime", "3600"),
        Element::leaf(d, "oauthConsumerKey", key.clone()),
        Element::leaf(d, "oauthConsumerSecret", secret.clone()),
        Element::leaf(d, "pkceMandatory", pkce.to_string()),
        Element::leaf(d, "pkceSupportPlain", plain.to_string()),
        Element::leaf(d, "refreshTokenExpiryTime", "86400"),
        Element::leaf(d, "state", "ACTIVE"),
        Element::leaf(d, "userAccessTokenExpiryTime", "3600"),
        Element::leaf(d, "username", r.owner.clone()),
    ]);
    schema::normalize(&mut app, (NS_OAUTH_DTO, "OAuthConsumerAppDTO"));
    let mut sp = fresh_sp(
        id,
        &name,
        Some(&format!(
            "Service Provider for application {}",
            r.client_name
        )),
        &r.owner,
        tenant,
    );
    let m = NS_MODEL;
    if let Some(inbound) = sp.child_mut("inboundAuthenticationConfig") {
        inbound.children.push(
            Element::new(m, "inboundAuthenticationRequestConfigs")
                .with_leaf("inboundAuthKey", key.clone())
                .with_leaf("inboundAuthType", "oauth2"),
        );
    }
    sp.set_text("saasApp", r.saas.to_string());
    let prop = |display: Option<&str>, pname: &str, value: &str| {
        let mut p = Element::new(m, "spProperties");
        if let Some(d) = display {
            p.children.push(Element::leaf(m, "displayName", d));
        }
        p.children.push(Element::leaf(m, "name", pname));
        p.children.push(Element::leaf(m, "value", value));
        p
    };
    sp.children.push(prop(None, "DisplayName", &name));
    sp.children.push(prop(None, "TokenType", "DEFAULT"));
    let table = schema::table_for(inner.kind, &inner.profile);
    let consent_fields = table
        .type_def(model("LocalAndOutboundAuthenticationConfig"))
        .is_some_and(|d| d.fields.iter().any(|f| f.name == "skipConsent"));
    if consent_fields {
        // Framework 5.17+: the field, kept as properties.
        if sp.child("localAndOutBoundAuthenticationConfig").is_none() {
            sp.children
                .push(Element::new(m, "localAndOutBoundAuthenticationConfig"));
        }
        if let Some(auth) = sp.child_mut("localAndOutBoundAuthenticationConfig") {
            auth.set_text("skipConsent", "true");
        }
        crate::services::consent_as_properties(inner, &mut sp);
    } else {
        sp.children
            .push(prop(Some("Skip Consent"), "skipConsent", "true"));
    }
    schema::normalize(&mut sp, model("ServiceProvider"));
    let now = now_rfc3339();
    let t = core.tenant_mut(tenant);
    t.oauth_apps.insert(key.clone(), app);
    t.applications.insert(name.clone(), sp);
    t.roles
        .entry(format!("Application/{name}"))
        .or_insert_with(|| RoleRecord {
            audience: None,
            groups: Default::default(),
            users: [r.owner.clone()].into_iter().collect(),
            permissions: Vec::new(),
            scim_id: role_id,
            created: now.clone(),
            modified: now,
        });
    Registered {
        key,
        secret,
        sp_name: name,
        created: true,
    }
}

/// Handles `POST /client-registration/{v}/register`.
pub(crate) fn handle(inner: &Arc<Inner>, req: &SimRequest) -> SimResponse {
    if req.method != http::Method::POST {
        return apim_error(405, "Method Not Allowed", "Only POST is supported");
    }
    let principal = req
        .header("authorization")
        .and_then(crate::server::parse_basic)
        .and_then(|(u, p)| inner.check_password(&u, &p));
    let Some(principal) = principal else {
        return apim_error(401, "Unauthorized", "The user is not authorized");
    };
    let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
        return apim_error(400, "Bad Request", "Malformed request body.");
    };
    let text = |k: &str| match body.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    };
    let client_name = text("clientName");
    if client_name.trim().is_empty() {
        return apim_error(400, "Bad Request", "Client name cannot be empty");
    }
    let owner = match text("owner") {
        o if o.is_empty() => principal.user.clone(),
        o => o,
    };
    let flag = |k: &str| match body.get(k) {
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) => Some(s == "true"),
        _ => None,
    };
    let reg = Registration {
        client_name: client_name.clone(),
        owner: owner.clone(),
        callback: text("callbackUrl"),
        grant_types: match text("grantType") {
            g if g.is_empty() => "client_credentials".into(),
            g => g,
        },
        saas: flag("saasApp").unwrap_or(false),
        pkce: flag("pkceMandatory").map(|m| (m, flag("pkceSupportPlain").unwrap_or(false))),
    };
    let done = register(inner, &principal.tenant, &reg);
    let v = inner.profile.apim;
    let callback_key = if v.at_least(ApimVersion::V4_0) {
        "callbackUrl"
    } else {
        "callBackURL"
    };
    let json_string = json!({
        "grant_types": reg.grant_types,
        "redirect_uris": reg.callback,
        "client_name": done.sp_name,
    })
    .to_string();
    let mut out = json!({
        "clientId": done.key,
        "clientName": done.sp_name,
        callback_key: reg.callback,
        "clientSecret": done.secret,
        "isSaasApplication": reg.saas,
        "appOwner": owner,
        "jsonString": json_string,
    });
    if v.at_least(ApimVersion::V4_0) {
        out["tokenType"] = Value::String("DEFAULT".into());
    }
    let mut r = SimResponse::json(200, &out);
    r.mutated = Some(done.created);
    r
}
