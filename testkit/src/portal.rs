//! APIM's portals (publisher, devportal, admin): the login initiator that registers the portal
//! through DCR on first use and remembers it in `AM_SYSTEM_APPS`, the login callback that
//! exchanges the code at APIM's own token endpoint and sets the session cookies, the session's
//! "who am I" (`services/auth/introspect`), and the publisher REST API's `GET /apis`.
//!
//! Sources: carbon-apimgt `publisher/services/login/idp.jag`, `login_callback.jag`,
//! `introspect.jag`, `constants.jag` (3.x) and their 4.x JSP successors; `OAuthAuthenticationInterceptor`
//! and `GlobalThrowableMapper` for the REST API's refusal (HTTP 401, "Unauthenticated request",
//! product-apim #2840); role → scope defaults from `tenant-conf.json` `RESTAPIScopes` (APIM 3.0
//! docs "Managing User Roles", product-apim #6605, #7628; 4.x: docs-apim
//! `managing-permissions.md`).

use std::sync::Arc;

use serde_json::{Value, json};

use crate::control::PortalNaming;
use crate::dcr::{Registration, apim_error, register_path};
use crate::server::{Family, Inner, Route, ServerKind, SimRequest, SimResponse, lock};
use crate::state::SUPER_TENANT;
use crate::version::ApimVersion;

/// One portal: its web context, DCR client name and SP name under both namings, and the scopes
/// its login asks for (its settings API's `scopes`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Portal {
    /// `publisher`, `devportal` or `admin`.
    pub(crate) name: &'static str,
    pub(crate) prefix: &'static str,
    /// `(client name, SP name)` for APIM 3.1+.
    new: (&'static str, &'static str),
    /// `(client name, SP name)` for APIM 3.0.0, if the portal registers one there.
    old: Option<(&'static str, &'static str)>,
    scopes: &'static [&'static str],
    /// Scopes asked for from 4.0 on as well.
    scopes_4x: &'static [&'static str],
}

impl Portal {
    /// `(client name, SP name)` under `naming`, or `None` when this portal has no SP.
    pub(crate) fn names(&self, naming: PortalNaming) -> Option<(&'static str, &'static str)> {
        match naming {
            PortalNaming::Apim31 => Some(self.new),
            PortalNaming::Apim310 => (self.name != "admin").then_some(self.new),
            PortalNaming::Apim300 => self.old,
        }
    }

    /// The scopes the login asks APIM's authorize endpoint for.
    fn requested_scopes(&self, v: ApimVersion) -> String {
        let mut s: Vec<&str> = self.scopes.to_vec();
        if v.at_least(ApimVersion::V4_0) {
            s.extend(self.scopes_4x);
        }
        s.push("openid");
        s.join(" ")
    }
}

/// The portal naming of an APIM release (WSO2-VERSIONS.md §3.3).
pub(crate) fn naming_of(v: ApimVersion) -> PortalNaming {
    match v {
        ApimVersion::V3_0 => PortalNaming::Apim300,
        ApimVersion::V3_1 => PortalNaming::Apim310,
        _ => PortalNaming::Apim31,
    }
}

/// The three portals of APIM.
pub(crate) const PORTALS: &[Portal] = &[
    Portal {
        name: "publisher",
        prefix: "/publisher",
        new: ("apim_publisher", "apim_publisher"),
        old: Some(("admin_publisher", "admin_admin_publisher")),
        scopes: &[
            "apim:api_view",
            "apim:api_create",
            "apim:api_publish",
            "apim:api_delete",
            "apim:subscription_view",
            "apim:subscription_block",
            "apim:tier_view",
        ],
        scopes_4x: &["apim:publisher_settings"],
    },
    Portal {
        name: "devportal",
        prefix: "/devportal",
        new: ("apim_devportal", "apim_devportal"),
        old: Some(("admin_store", "admin_admin_store")),
        scopes: &["apim:subscribe", "apim:app_manage", "apim:sub_manage"],
        scopes_4x: &["apim:store_settings"],
    },
    Portal {
        name: "admin",
        prefix: "/admin",
        new: ("apim_admin_portal", "apim_admin_portal"),
        old: None,
        scopes: &["apim:admin", "apim:tier_view", "apim:tier_manage"],
        scopes_4x: &[],
    },
];

/// The roles each REST API scope is issued to by default (`RESTAPIScopes`), per release family.
fn scope_roles(v: ApimVersion, scope: &str) -> &'static [&'static str] {
    let four = v.at_least(ApimVersion::V4_0);
    match scope {
        "apim:api_view" if four => &[
            "admin",
            "Internal/publisher",
            "Internal/creator",
            "Internal/analytics",
        ],
        "apim:api_view" => &["admin", "Internal/publisher", "Internal/creator"],
        "apim:api_create" if four => &["admin", "Internal/creator", "Internal/devops"],
        "apim:api_create" | "apim:api_delete" => &["admin", "Internal/creator"],
        "apim:api_publish" if four => &["admin", "Internal/publisher", "Internal/devops"],
        "apim:api_publish" | "apim:subscription_block" => &["admin", "Internal/publisher"],
        "apim:subscription_view" | "apim:tier_view" => {
            &["admin", "Internal/publisher", "Internal/creator"]
        }
        "apim:publisher_settings" if four => &["admin", "Internal/publisher", "Internal/creator"],
        "apim:subscribe" if four => &["admin", "Internal/subscriber", "Internal/devops"],
        "apim:subscribe" | "apim:app_manage" | "apim:sub_manage" => {
            &["admin", "Internal/subscriber"]
        }
        "apim:store_settings" if four => &["admin", "Internal/subscriber"],
        "apim:admin" | "apim:tier_manage" => &["admin"],
        _ => &[],
    }
}

/// Whether `scope` is one of APIM's REST API scopes (issued by role); other scopes (`openid`)
/// pass through APIM's key manager unchanged.
pub(crate) fn is_rest_scope(scope: &str) -> bool {
    scope.starts_with("apim:")
}

/// The scopes of `requested` a user holding `roles` is issued by APIM's key manager.
pub(crate) fn granted_scopes(v: ApimVersion, requested: &str, roles: &[String]) -> String {
    let granted: Vec<&str> = requested
        .split_whitespace()
        .filter(|s| {
            !is_rest_scope(s)
                || scope_roles(v, s)
                    .iter()
                    .any(|r| roles.iter().any(|h| h == r))
        })
        .collect();
    if granted.is_empty() {
        "default".into()
    } else {
        granted.join(" ")
    }
}

/// The publisher REST API version path segment of a release.
pub(crate) fn publisher_api_version(v: ApimVersion) -> &'static str {
    match v {
        ApimVersion::V3_0 => "v1.0",
        ApimVersion::V3_1 | ApimVersion::V3_2 => "v1",
        ApimVersion::V4_0 => "v2",
        ApimVersion::V4_1 => "v3",
        _ => "v4",
    }
}

/// The scopes any one of which `GET /apis` of the publisher API accepts.
fn apis_scopes(v: ApimVersion) -> &'static [&'static str] {
    if v.at_least(ApimVersion::V4_0) {
        &[
            "apim:api_view",
            "apim:api_import_export",
            "apim:api_manage",
            "apim:api_list_view",
        ]
    } else {
        &["apim:api_view"]
    }
}

fn portal_at(path: &str) -> Option<&'static Portal> {
    PORTALS
        .iter()
        .find(|p| path.starts_with(&format!("{}/", p.prefix)))
}

/// Classifies portal requests (APIM only).
pub(crate) fn route(inner: &Inner, req: &SimRequest) -> Option<Route> {
    if inner.kind != ServerKind::Apim {
        return None;
    }
    let p = req.path.trim_end_matches('/');
    let api = format!(
        "/api/am/publisher/{}/apis",
        publisher_api_version(inner.profile.apim)
    );
    let (action, family) = if p == api {
        ("portal.api", Family::ApimRest)
    } else if PORTALS.iter().any(|portal| p == portal.prefix) {
        ("portal.page", Family::Html)
    } else {
        let portal = portal_at(p)?;
        let rest = &p[portal.prefix.len()..];
        let action = match rest {
            "/services/auth/login" => "portal.login",
            "/services/configs" if portal.name == "devportal" => "portal.configs",
            "/services/auth/callback/login" => "portal.callback",
            "/services/auth/introspect" => "portal.introspect",
            r if r.starts_with("/services/") => return None,
            // The single-page app answers every other path of the portal (its router decides).
            _ if req.method == http::Method::GET => "portal.page",
            _ => return None,
        };
        (action, Family::Html)
    };
    Some(Route {
        action: action.into(),
        mutating: false,
        family,
    })
}

/// Handles a portal request.
pub(crate) async fn handle(
    inner: &Arc<Inner>,
    req: &SimRequest,
    action: &str,
    seq: u64,
) -> SimResponse {
    match action {
        "portal.api" => apis(inner, req),
        "portal.page" => SimResponse::new(
            200,
            "text/html",
            format!(
                "<!DOCTYPE html><html><head><title>WSO2 API Manager</title></head><body><div id=\"react-root\" data-portal=\"{}\"></div></body></html>",
                crate::xml::escape(req.path.trim_matches('/'))
            ),
        ),
        _ => {
            let Some(portal) = portal_at(&req.path) else {
                return SimResponse::text(404, "Not Found");
            };
            match action {
                "portal.login" | "portal.configs" => login(inner, req, portal, seq).await,
                "portal.callback" => callback(inner, req, portal, seq).await,
                "portal.introspect" => introspect(inner, req),
                _ => SimResponse::text(404, "Not Found"),
            }
        }
    }
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn cookie(req: &SimRequest, name: &str) -> Option<String> {
    req.headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|c| c.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// The client id remembered for a portal (`AM_SYSTEM_APPS`), if any.
fn remembered(inner: &Inner, client_name: &str) -> Option<String> {
    lock(&inner.core)
        .tenant(SUPER_TENANT)
        .and_then(|t| t.system_apps.get(client_name).cloned())
}

/// `…/services/auth/login` (and the devportal's `services/configs`): looks the portal up in
/// `AM_SYSTEM_APPS`; if absent, registers it through APIM's DCR endpoint (a loopback request,
/// logged as `apim.dcr`) and remembers it; then redirects to APIM's authorize endpoint for the
/// portal's client (with PKCE on 4.7), setting the `CLIENT_ID` cookie.
async fn login(inner: &Arc<Inner>, req: &SimRequest, portal: &Portal, seq: u64) -> SimResponse {
    let v = inner.profile.apim;
    let naming = inner.quirks().portal_naming;
    let Some((client_name, _)) = portal.names(naming) else {
        // APIM 3.0/3.1's admin app is the Jaggery one: a login page, no DCR, no SP.
        let mut r = SimResponse::new(
            200,
            "text/html",
            "<html><head><title>WSO2 API Manager - Admin</title></head><body><form action=\"login.jag\" method=\"post\"></form></body></html>",
        );
        r.mutated = Some(false);
        return r;
    };
    let base = inner.base_url();
    let login_cb = format!("{base}{}/services/auth/callback/login", portal.prefix);
    let logout_cb = format!("{base}{}/services/auth/callback/logout", portal.prefix);
    let pkce = v.at_least(ApimVersion::V4_7);
    let mut created = false;
    let key = match remembered(inner, client_name) {
        Some(k) => k,
        None => {
            let mut body = json!({
                "callbackUrl": format!("regexp=({login_cb}|{logout_cb})"),
                "clientName": client_name,
                "owner": "admin",
                "grantType": "authorization_code refresh_token",
                "saasApp": true,
            });
            if pkce {
                body["pkceMandatory"] = Value::Bool(true);
                body["pkceSupportPlain"] = Value::Bool(false);
            }
            let basic = {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD
                    .encode(format!("admin:{}", inner.admin_password))
            };
            let answer = inner
                .outbound(
                    http::Method::POST,
                    &format!("{base}{}", register_path(v)),
                    &[
                        ("Authorization", format!("Basic {basic}")),
                        ("Content-Type", "application/json".into()),
                    ],
                    body.to_string().into_bytes(),
                    None,
                )
                .await;
            let parsed = answer.as_ref().ok().and_then(|r| {
                serde_json::from_slice::<Value>(&r.body)
                    .ok()
                    .and_then(|j| j.get("clientId").and_then(Value::as_str).map(str::to_owned))
                    .filter(|_| r.status == 200)
            });
            let Some(k) = parsed else {
                inner.note(
                    seq,
                    format!(
                        "Error while registering the {} portal through DCR: {}",
                        portal.name,
                        match &answer {
                            Ok(r) =>
                                format!("HTTP {} {}", r.status, String::from_utf8_lossy(&r.body)),
                            Err(e) => e.0.clone(),
                        }
                    ),
                );
                return SimResponse::new(
                    500,
                    "text/html",
                    "<html><body><h1>HTTP Status 500 - Internal Server Error</h1></body></html>",
                );
            };
            created = matches!(&answer, Ok(r) if r.mutated == Some(true));
            lock(&inner.core)
                .tenant_mut(SUPER_TENANT)
                .system_apps
                .insert(client_name.to_owned(), k.clone());
            k
        }
    };
    // The state is the page the browser came from (the Referer's path within the portal).
    let state = req
        .header("referer")
        .and_then(|r| {
            let at = r.find(portal.prefix)?;
            Some(r[at + portal.prefix.len()..].to_owned())
        })
        .unwrap_or_default();
    let mut location = format!(
        "{base}/oauth2/authorize?response_type=code&client_id={}&scope={}&state={}&redirect_uri={}",
        enc(&key),
        enc(&portal.requested_scopes(v)),
        enc(&state),
        enc(&login_cb)
    );
    let mut resp = SimResponse::empty(302);
    if pkce {
        let (session, challenge) = {
            let mut core = lock(&inner.core);
            let verifier = core.random_hex(32);
            let session = core.random_hex(16);
            let d = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
            let challenge = crate::oidc::b64(d.as_ref());
            core.oidc.portal_sessions.insert(session.clone(), verifier);
            (session, challenge)
        };
        location.push_str(&format!(
            "&code_challenge={challenge}&code_challenge_method=S256"
        ));
        resp = resp.header(
            "Set-Cookie",
            format!(
                "JSESSIONID={session}; Path={}; Secure; HttpOnly",
                portal.prefix
            ),
        );
    }
    let mut resp = resp.header("Location", location).header(
        "Set-Cookie",
        format!("CLIENT_ID={key}; Path={}/; Secure", portal.prefix),
    );
    resp.mutated = Some(created);
    resp
}

/// `…/services/auth/callback/login`: exchanges the code at APIM's token endpoint (a loopback
/// request with the portal's client credentials, logged as `portal.token`), then sets the
/// split-token cookies and sends the browser into the portal.
async fn callback(inner: &Arc<Inner>, req: &SimRequest, portal: &Portal, seq: u64) -> SimResponse {
    let q = req.query_params();
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let base = inner.base_url();
    let ctx = portal.prefix;
    let error_page = format!("{base}{ctx}/error-pages?code=500");
    if get("error").as_deref() == Some("login_required") {
        return SimResponse::redirect(&format!("{base}{ctx}/services/logout"));
    }
    let Some(code) = get("code") else {
        // Neither branch of the callback page runs: an empty answer.
        if let Some(e) = get("error") {
            inner.note(
                seq,
                format!("{e}: {}", get("error_description").unwrap_or_default()),
            );
        }
        return SimResponse::new(200, "application/json", "");
    };
    let naming = inner.quirks().portal_naming;
    let client = portal
        .names(naming)
        .and_then(|(c, _)| remembered(inner, c))
        .and_then(|key| {
            let core = lock(&inner.core);
            let secret = core
                .tenant(SUPER_TENANT)?
                .oauth_apps
                .get(&key)?
                .text_of("oauthConsumerSecret")?
                .to_owned();
            Some((key, secret))
        });
    let Some((key, secret)) = client else {
        inner.note(
            seq,
            "the portal's client is not in AM_SYSTEM_APPS or its OAuth app is gone",
        );
        return SimResponse::redirect(&error_page);
    };
    let login_cb = format!("{base}{ctx}/services/auth/callback/login");
    let mut pairs = vec![
        ("code", code.clone()),
        ("grant_type", "authorization_code".to_owned()),
        ("redirect_uri", login_cb),
    ];
    if let Some(session) = cookie(req, "JSESSIONID")
        && let Some(verifier) = lock(&inner.core)
            .oidc
            .portal_sessions
            .get(&session)
            .cloned()
    {
        pairs.push(("code_verifier", verifier));
    }
    let form = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let basic = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(format!("{key}:{secret}"))
    };
    let answer = inner
        .outbound(
            http::Method::POST,
            &format!("{base}/oauth2/token"),
            &[
                ("Authorization", format!("Basic {basic}")),
                ("Content-Type", "application/x-www-form-urlencoded".into()),
            ],
            form.into_bytes(),
            Some("portal.token"),
        )
        .await;
    let token: Option<Value> = match &answer {
        Ok(r) => serde_json::from_slice::<Value>(&r.body).ok(),
        Err(_) => None,
    };
    let Some(token) = token.filter(|t| t.get("error").is_none() && t.get("access_token").is_some())
    else {
        inner.note(
            seq,
            match &answer {
                Ok(r) => format!(
                    "token request failed: HTTP {} {}",
                    r.status,
                    String::from_utf8_lossy(&r.body)
                ),
                Err(e) => format!("token request failed: {}", e.0),
            },
        );
        return SimResponse::redirect(&error_page);
    };
    let s = |k: &str| {
        token
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let (access, refresh, id_token) = (s("access_token"), s("refresh_token"), s("id_token"));
    let expires = token
        .get("expires_in")
        .and_then(Value::as_u64)
        .unwrap_or(3600);
    let half = |t: &str| {
        let cut = t.len() / 2;
        (t[..cut].to_owned(), t[cut..].to_owned())
    };
    let (a1, a2) = half(&access);
    let (r1, r2) = half(&refresh);
    let (i1, i2) = half(&id_token);
    let api = match portal.name {
        "devportal" if inner.profile.apim.at_least(ApimVersion::V4_0) => {
            "/api/am/devportal/".to_owned()
        }
        "devportal" => "/api/am/store/".to_owned(),
        other => format!("/api/am/{other}/"),
    };
    let state = get("state").unwrap_or_default();
    let target = if state.is_empty() || state == "/" {
        format!("{ctx}/")
    } else {
        format!("{ctx}{state}")
    };
    let mut r = SimResponse::redirect(&target);
    for c in [
        format!("AM_ACC_TOKEN_DEFAULT_P2={a2}; Path={ctx}/; Max-Age={expires}; Secure; HttpOnly"),
        format!("AM_ACC_TOKEN_DEFAULT_P2={a2}; Path={api}; Max-Age={expires}; Secure; HttpOnly"),
        format!("AM_REF_TOKEN_DEFAULT_P2={r2}; Path={ctx}/; Max-Age=86400; Secure; HttpOnly"),
        format!("WSO2_AM_TOKEN_1_Default={a1}; Path={ctx}/; Max-Age={expires}; Secure"),
        format!("WSO2_AM_REFRESH_TOKEN_1_Default={r1}; Path={ctx}/; Max-Age=86400; Secure"),
        format!(
            "AM_ID_TOKEN_DEFAULT_P2={i2}; Path={ctx}/services/logout; Max-Age={expires}; Secure"
        ),
        format!(
            "AM_ID_TOKEN_DEFAULT_P1={i1}; Path={ctx}/services/logout; Max-Age={expires}; Secure"
        ),
        format!(
            "{}_session_state={}; Path={ctx}/; Secure",
            portal.name,
            get("session_state").unwrap_or_default()
        ),
    ] {
        r = r.header("Set-Cookie", c);
    }
    r
}

/// The access token of a portal session: `Authorization: Bearer` (the first half, or the whole
/// token) joined with the `AM_ACC_TOKEN_DEFAULT_P2` cookie, as APIM's REST API reads it.
fn session_token(req: &SimRequest) -> Option<String> {
    let bearer = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let p2 = cookie(req, "AM_ACC_TOKEN_DEFAULT_P2");
    match (bearer, p2) {
        (Some(b), Some(p2)) => Some(format!("{b}{p2}")),
        (Some(b), None) => Some(b.to_owned()),
        (None, _) => None,
    }
}

/// `GET /api/am/publisher/{v}/apis`: 200 with an empty list for a token carrying a scope the
/// operation accepts; otherwise 401 "Unauthenticated request" (the REST API's interceptor throws
/// `AuthenticationException` for a failed scope check as for a bad token).
fn apis(inner: &Arc<Inner>, req: &SimRequest) -> SimResponse {
    let unauthenticated = || apim_error(401, "", "Unauthenticated request");
    if req.method != http::Method::GET {
        return apim_error(405, "Method Not Allowed", "Method not allowed");
    }
    let Some(token) = session_token(req) else {
        return unauthenticated();
    };
    let Some(scopes) = crate::oidc::token_scopes(inner, &token) else {
        return unauthenticated();
    };
    let ok = apis_scopes(inner.profile.apim)
        .iter()
        .any(|s| scopes.split_whitespace().any(|h| h == *s));
    if !ok {
        return unauthenticated();
    }
    SimResponse::json(
        200,
        &json!({"count": 0, "list": [], "pagination": {"offset": 0, "limit": 25, "total": 0, "next": "", "previous": ""}}),
    )
}

/// `…/services/auth/introspect`: the session's token (both cookie halves) introspected, as the
/// portal shows who is logged in and with which scopes.
fn introspect(inner: &Arc<Inner>, req: &SimRequest) -> SimResponse {
    let p1 = cookie(req, "WSO2_AM_TOKEN_1_Default");
    let p2 = cookie(req, "AM_ACC_TOKEN_DEFAULT_P2");
    let token = format!("{}{}", p1.unwrap_or_default(), p2.unwrap_or_default());
    SimResponse::json(200, &crate::oidc::introspection(inner, &token))
}

/// Registers every portal of the release and remembers it, as their first logins would (no
/// request logged).
pub(crate) fn ensure_all(inner: &Inner) {
    let base = inner.base_url();
    let naming = inner.quirks().portal_naming;
    let pkce = inner.profile.apim.at_least(ApimVersion::V4_7);
    for p in PORTALS {
        let Some((client_name, _)) = p.names(naming) else {
            continue;
        };
        if remembered(inner, client_name).is_some() {
            continue;
        }
        let done = crate::dcr::register(
            inner,
            SUPER_TENANT,
            &Registration {
                client_name: client_name.to_owned(),
                owner: "admin".into(),
                callback: format!(
                    "regexp=({base}{p}/services/auth/callback/login|{base}{p}/services/auth/callback/logout)",
                    p = p.prefix
                ),
                grant_types: "authorization_code refresh_token".into(),
                saas: true,
                pkce: pkce.then_some((true, false)),
            },
        );
        lock(&inner.core)
            .tenant_mut(SUPER_TENANT)
            .system_apps
            .insert(client_name.to_owned(), done.key);
    }
}
