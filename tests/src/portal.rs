//! APIM 3.0's portals: their service providers come into being when a portal's login endpoint is
//! first used (the portal registers itself through DCR), and look like what APIM creates then.

use crate::schema::{self, NS_AXIS2, NS_MODEL, NS_OAUTH_DTO, model};
use crate::server::{Family, Inner, Route, ServerKind, SimRequest, SimResponse, lock};
use crate::services::fresh_sp;
use crate::state::{RoleRecord, now_rfc3339};
use crate::xml::Element;

/// One portal: route name, SP name, path prefix.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Portal {
    pub(crate) route: &'static str,
    pub(crate) sp: &'static str,
    pub(crate) prefix: &'static str,
}

/// The three portals of APIM 3.0.
pub(crate) const PORTALS: &[Portal] = &[
    Portal {
        route: "portal.publisher",
        sp: "apim_publisher",
        prefix: "/publisher",
    },
    Portal {
        route: "portal.devportal",
        sp: "apim_devportal",
        prefix: "/devportal",
    },
    Portal {
        route: "portal.admin",
        sp: "apim_admin_portal",
        prefix: "/admin",
    },
];

fn portal_of(path: &str) -> Option<&'static Portal> {
    let p = path.trim_end_matches('/');
    PORTALS.iter().find(|portal| {
        p == format!("{}/services/auth/login", portal.prefix)
            || (portal.prefix == "/devportal" && p == "/devportal/services/configs")
    })
}

/// Classifies portal login requests (APIM only). Whether it mutates depends on whether the SP
/// already exists, decided when it runs.
pub(crate) fn route(kind: ServerKind, req: &SimRequest) -> Option<Route> {
    if kind != ServerKind::Apim {
        return None;
    }
    let portal = portal_of(&req.path)?;
    Some(Route {
        action: portal.route.into(),
        mutating: false,
        family: Family::Html,
    })
}

/// Handles a portal login: registers the portal's SP on first use, then answers as the portal does.
pub(crate) fn handle(inner: &Inner, req: &SimRequest, action: &str) -> SimResponse {
    let Some(portal) = PORTALS.iter().find(|p| p.route == action) else {
        return SimResponse::text(404, "Not Found");
    };
    let created = ensure(inner, crate::state::SUPER_TENANT, portal);
    let base = inner.base_url();
    let key = lock(&inner.core)
        .tenant(crate::state::SUPER_TENANT)
        .and_then(|t| t.oauth_app_by_name(portal.sp).map(|(k, _)| k.clone()))
        .unwrap_or_default();
    let mut resp = if req.path.ends_with("/configs") {
        SimResponse::json(
            200,
            &serde_json::json!({
                "app": {
                    "context": portal.prefix,
                    "customUrl": {"enabled": false},
                },
                "clientId": key,
            }),
        )
    } else {
        let redirect = format!("{base}{}/services/auth/callback/login", portal.prefix);
        let location = format!(
            "{base}/oauth2/authorize?response_type=code&client_id={}&scope={}&redirect_uri={}",
            enc(&key),
            enc("apim:api_view apim:subscribe openid"),
            enc(&redirect)
        );
        SimResponse::redirect(&location)
    };
    resp.mutated = Some(created);
    resp
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Creates the portal's OAuth app and service provider in `tenant` unless present. Returns
/// whether anything was created.
pub(crate) fn ensure(inner: &Inner, tenant: &str, portal: &Portal) -> bool {
    let base = inner.base_url();
    let mut core = lock(&inner.core);
    if core
        .tenant(tenant)
        .is_some_and(|t| t.applications.contains_key(portal.sp))
    {
        return false;
    }
    let key = crate::services::random_key(&mut core);
    let secret = crate::services::random_key(&mut core);
    let id = core.next_app_id;
    core.next_app_id += 1;
    let role_id = core.uuid();
    let callback = format!(
        "regexp=({base}{p}/services/auth/callback/login|{base}{p}/services/auth/callback/logout)",
        p = portal.prefix
    );
    let mut app = Element::new(NS_AXIS2, "application");
    let d = NS_OAUTH_DTO;
    app.children.extend([
        Element::leaf(d, "OAuthVersion", "OAuth-2.0"),
        Element::leaf(d, "applicationAccessTokenExpiryTime", "3600"),
        Element::leaf(d, "applicationName", portal.sp),
        Element::leaf(d, "bypassClientCredentials", "false"),
        Element::leaf(d, "callbackUrl", callback),
        Element::leaf(
            d,
            "grantTypes",
            "refresh_token urn:ietf:params:oauth:grant-type:saml2-bearer password client_credentials iwa:ntlm authorization_code urn:ietf:params:oauth:grant-type:jwt-bearer",
        ),
        Element::leaf(d, "idTokenExpiryTime", "3600"),
        Element::leaf(d, "oauthConsumerKey", key.clone()),
        Element::leaf(d, "oauthConsumerSecret", secret),
        Element::leaf(d, "pkceMandatory", "false"),
        Element::leaf(d, "pkceSupportPlain", "false"),
        Element::leaf(d, "refreshTokenExpiryTime", "86400"),
        Element::leaf(d, "state", "ACTIVE"),
        Element::leaf(d, "userAccessTokenExpiryTime", "3600"),
        Element::leaf(d, "username", "admin"),
    ]);
    schema::normalize(&mut app, (NS_OAUTH_DTO, "OAuthConsumerAppDTO"));
    let mut sp = fresh_sp(
        id,
        portal.sp,
        Some(&format!("Service Provider for application {}", portal.sp)),
        "admin",
        tenant,
    );
    if let Some(inbound) = sp.child_mut("inboundAuthenticationConfig") {
        let m = NS_MODEL;
        inbound.children.push(
            Element::new(m, "inboundAuthenticationRequestConfigs")
                .with_leaf("inboundAuthKey", key.clone())
                .with_leaf("inboundAuthType", "oauth2"),
        );
    }
    sp.set_text("saasApp", "true");
    if let Some(claims) = sp.child_mut("claimConfig") {
        claims.set_text("localClaimDialect", "true");
    }
    schema::normalize(&mut sp, model("ServiceProvider"));
    let now = now_rfc3339();
    let t = core.tenant_mut(tenant);
    t.oauth_apps.insert(key, app);
    t.applications.insert(portal.sp.to_owned(), sp);
    t.roles
        .entry(format!("Application/{}", portal.sp))
        .or_insert_with(|| RoleRecord {
            users: ["admin".to_owned()].into_iter().collect(),
            permissions: Vec::new(),
            scim_id: role_id,
            created: now.clone(),
            modified: now,
        });
    true
}
