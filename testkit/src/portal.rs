//! APIM's portals: their service providers come into being when a portal's login endpoint is
//! first used (the portal registers itself through DCR), and look like what APIM creates then
//! (carbon-apimgt 6.5.349 `RegistrationServiceImpl`, per the research notes).

use crate::control::PortalNaming;
use crate::schema::{self, NS_AXIS2, NS_MODEL, NS_OAUTH_DTO, model};
use crate::server::{Family, Inner, Route, ServerKind, SimRequest, SimResponse, lock};
use crate::services::fresh_sp;
use crate::state::{RoleRecord, now_rfc3339};
use crate::xml::Element;

/// One portal: route name, path prefix, DCR client name and SP name under both namings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Portal {
    pub(crate) route: &'static str,
    pub(crate) prefix: &'static str,
    /// `(client name, SP name)` for APIM 3.1+.
    new: (&'static str, &'static str),
    /// `(client name, SP name)` for APIM 3.0.0, if the portal registers one there.
    old: Option<(&'static str, &'static str)>,
}

impl Portal {
    /// `(client name, SP name)` under `naming`, or `None` when this portal has no SP.
    pub(crate) fn names(&self, naming: PortalNaming) -> Option<(&'static str, &'static str)> {
        match naming {
            PortalNaming::Apim31 => Some(self.new),
            PortalNaming::Apim310 => (self.route != "portal.admin").then_some(self.new),
            PortalNaming::Apim300 => self.old,
        }
    }
}

/// The portal naming of an APIM release (WSO2-VERSIONS.md §3.3).
pub(crate) fn naming_of(v: crate::version::ApimVersion) -> PortalNaming {
    use crate::version::ApimVersion;
    match v {
        ApimVersion::V3_0 => PortalNaming::Apim300,
        ApimVersion::V3_1 => PortalNaming::Apim310,
        _ => PortalNaming::Apim31,
    }
}

/// The three portals of APIM.
pub(crate) const PORTALS: &[Portal] = &[
    Portal {
        route: "portal.publisher",
        prefix: "/publisher",
        new: ("apim_publisher", "apim_publisher"),
        old: Some(("admin_publisher", "admin_admin_publisher")),
    },
    Portal {
        route: "portal.devportal",
        prefix: "/devportal",
        new: ("apim_devportal", "apim_devportal"),
        old: Some(("admin_store", "admin_admin_store")),
    },
    Portal {
        route: "portal.admin",
        prefix: "/admin",
        new: ("apim_admin_portal", "apim_admin_portal"),
        old: None,
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

/// Handles a portal login: registers the portal's SP on first use, then answers as the portal
/// does (302 to the authorize endpoint with a `CLIENT_ID` cookie).
pub(crate) fn handle(inner: &Inner, _req: &SimRequest, action: &str) -> SimResponse {
    let Some(portal) = PORTALS.iter().find(|p| p.route == action) else {
        return SimResponse::text(404, "Not Found");
    };
    let naming = inner.quirks().portal_naming;
    let Some((_, sp_name)) = portal.names(naming) else {
        // APIM 3.0.0's admin app is the Jaggery one: a login page, no DCR, no SP.
        let mut r = SimResponse::new(
            200,
            "text/html",
            "<html><head><title>WSO2 API Manager - Admin</title></head><body><form action=\"login.jag\" method=\"post\"></form></body></html>",
        );
        r.mutated = Some(false);
        return r;
    };
    let created = ensure(inner, crate::state::SUPER_TENANT, portal);
    let base = inner.base_url();
    let client_name = portal.names(naming).map(|(c, _)| c).unwrap_or_default();
    let key = lock(&inner.core)
        .tenant(crate::state::SUPER_TENANT)
        .and_then(|t| {
            t.system_apps
                .get(client_name)
                .cloned()
                .or_else(|| t.oauth_app_by_name(sp_name).map(|(k, _)| k.clone()))
        })
        .unwrap_or_default();
    let redirect = format!("{base}{}/services/auth/callback/login", portal.prefix);
    let location = format!(
        "{base}/oauth2/authorize?response_type=code&client_id={}&scope={}&state={}&redirect_uri={}",
        enc(&key),
        enc("apim:api_view apim:subscribe openid"),
        enc(portal.prefix),
        enc(&redirect)
    );
    let mut resp = SimResponse::redirect(&location).header(
        "Set-Cookie",
        format!("CLIENT_ID={key}; Path={}/; Secure", portal.prefix),
    );
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
    let Some((client_name, sp_name)) = portal.names(inner.quirks().portal_naming) else {
        return false;
    };
    let mut core = lock(&inner.core);
    // The portal looks in AM_SYSTEM_APPS first: once registered, it never registers again.
    if core.tenant(tenant).is_some_and(|t| {
        t.system_apps.contains_key(client_name) || t.applications.contains_key(sp_name)
    }) {
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
        Element::leaf(d, "applicationName", sp_name),
        Element::leaf(d, "bypassClientCredentials", "false"),
        Element::leaf(d, "callbackUrl", callback),
        Element::leaf(d, "grantTypes", "authorization_code refresh_token"),
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
        sp_name,
        Some(&format!("Service Provider for application {client_name}")),
        "admin",
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
    sp.set_text("saasApp", "true");
    let prop = |display: Option<&str>, name: &str, value: &str| {
        let mut p = Element::new(m, "spProperties");
        if let Some(d) = display {
            p.children.push(Element::leaf(m, "displayName", d));
        }
        p.children.push(Element::leaf(m, "name", name));
        p.children.push(Element::leaf(m, "value", value));
        p
    };
    sp.children.push(prop(None, "DisplayName", sp_name));
    sp.children.push(prop(None, "TokenType", "DEFAULT"));
    sp.children
        .push(prop(Some("Skip Consent"), "skipConsent", "true"));
    schema::normalize(&mut sp, model("ServiceProvider"));
    let now = now_rfc3339();
    let t = core.tenant_mut(tenant);
    t.system_apps.insert(client_name.to_owned(), key.clone());
    t.oauth_apps.insert(key, app);
    t.applications.insert(sp_name.to_owned(), sp);
    t.roles
        .entry(format!("Application/{sp_name}"))
        .or_insert_with(|| RoleRecord {
            audience: None,
            groups: Default::default(),
            users: ["admin".to_owned()].into_iter().collect(),
            permissions: Vec::new(),
            scim_id: role_id,
            created: now.clone(),
            modified: now,
        });
    true
}
