//! IS 5.9's OAuth2/OIDC endpoints: discovery, authorize (with a scriptable login), token,
//! userinfo, JWKS. id_tokens are JWTs signed with ES256 by a key made per server.

use std::collections::HashMap;

use base64::Engine as _;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};

use crate::server::{Family, Inner, Route, ServerKind, SimRequest, SimResponse, lock, parse_basic};
use crate::state::TenantState;
use crate::version::IsVersion;
use crate::xml::Element;

/// Volatile OIDC state: signing key, pending logins, codes and tokens.
pub(crate) struct OidcState {
    key: Option<EcdsaKeyPair>,
    kid: String,
    pending: HashMap<String, Pending>,
    codes: HashMap<String, Grant>,
    tokens: HashMap<String, Grant>,
    refresh: HashMap<String, Grant>,
}

#[derive(Clone)]
struct Pending {
    client_id: String,
    redirect_uri: String,
    scope: String,
    state: Option<String>,
    nonce: Option<String>,
    /// `(code_challenge, method)` sent to the authorize endpoint.
    pkce: Option<(String, String)>,
}

#[derive(Clone)]
struct Grant {
    client_id: String,
    tenant: String,
    user: String,
    scope: String,
    redirect_uri: String,
    nonce: Option<String>,
    pkce: Option<(String, String)>,
}

impl OidcState {
    pub(crate) fn new() -> Self {
        let rng = ring::rand::SystemRandom::new();
        let key = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .ok()
            .and_then(|pkcs8| {
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
                    .ok()
            });
        let kid = key
            .as_ref()
            .map(|k| {
                let d = ring::digest::digest(&ring::digest::SHA256, k.public_key().as_ref());
                b64(&d.as_ref()[..12])
            })
            .unwrap_or_default();
        Self {
            key,
            kid,
            pending: HashMap::new(),
            codes: HashMap::new(),
            tokens: HashMap::new(),
            refresh: HashMap::new(),
        }
    }

    fn jwks(&self) -> Value {
        let Some(k) = &self.key else {
            return json!({"keys": []});
        };
        let pk = k.public_key().as_ref();
        json!({"keys": [{
            "kty": "EC",
            "crv": "P-256",
            "x": b64(&pk[1..33]),
            "y": b64(&pk[33..65]),
            "kid": self.kid,
            "use": "sig",
            "alg": "ES256",
        }]})
    }

    fn sign(&self, claims: &Value) -> String {
        let header = json!({"alg": "ES256", "typ": "JWT", "kid": self.kid});
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let sig = self
            .key
            .as_ref()
            .and_then(|k| {
                k.sign(&ring::rand::SystemRandom::new(), input.as_bytes())
                    .ok()
            })
            .map(|s| b64(s.as_ref()))
            .unwrap_or_default();
        format!("{input}.{sig}")
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The path without a `/t/{tenant}` prefix.
fn strip_tenant(path: &str) -> &str {
    if let Some(rest) = path.strip_prefix("/t/")
        && let Some(i) = rest.find('/')
    {
        return &rest[i..];
    }
    path
}

/// Classifies OIDC requests (IS only).
pub(crate) fn route(kind: ServerKind, req: &SimRequest) -> Option<Route> {
    if kind != ServerKind::Is {
        return None;
    }
    let p = strip_tenant(&req.path).trim_end_matches('/');
    let action = match p {
        "/oauth2/token/.well-known/openid-configuration"
        | "/oauth2/oidcdiscovery/.well-known/openid-configuration" => "oidc.discovery",
        p if p.starts_with("/oauth2/") && p.ends_with("/.well-known/openid-configuration") => {
            "oidc.discovery_invalid"
        }
        "/oauth2/authorize" => "oidc.authorize",
        "/commonauth" => "oidc.commonauth",
        "/authenticationendpoint/login.do" => "oidc.login_page",
        "/authenticationendpoint/oauth2_error.do" => "oidc.error_page",
        "/oauth2/token" => "oidc.token",
        "/oauth2/userinfo" => "oidc.userinfo",
        "/oauth2/jwks" => "oidc.jwks",
        "/oidc/logout" => "oidc.logout",
        _ => return None,
    };
    Some(Route {
        action: action.into(),
        mutating: false,
        family: Family::Json,
    })
}

/// Handles an OIDC request.
pub(crate) fn handle(inner: &Inner, req: &SimRequest, action: &str) -> SimResponse {
    match action {
        "oidc.discovery" => discovery(inner),
        "oidc.discovery_invalid" => {
            let seg = strip_tenant(&req.path)
                .trim_start_matches("/oauth2/")
                .split('/')
                .next()
                .unwrap_or("")
                .to_owned();
            SimResponse::text(
                500,
                &format!(
                    "Invalid path to the discovery document. Received path : {seg} is not resolvable"
                ),
            )
        }
        "oidc.jwks" => SimResponse::json(200, &lock(&inner.core).oidc.jwks()),
        "oidc.authorize" => authorize(inner, req),
        "oidc.commonauth" => commonauth(inner, req),
        "oidc.login_page" => login_page(req),
        "oidc.error_page" => SimResponse::new(
            200,
            "text/html",
            format!(
                "<html><body><h1>Error</h1><p>{}</p></body></html>",
                crate::xml::escape(&req.query)
            ),
        ),
        "oidc.token" => token(inner, req),
        "oidc.userinfo" => userinfo(inner, req),
        "oidc.logout" => {
            let q = req.query_params();
            match get(&q, "post_logout_redirect_uri") {
                Some(u) => SimResponse::redirect(u),
                None => SimResponse::new(200, "text/html", "<html><body>Logged out</body></html>"),
            }
        }
        _ => SimResponse::text(404, "Not Found"),
    }
}

fn get<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn discovery(inner: &Inner) -> SimResponse {
    let b = inner.base_url();
    SimResponse::json(
        200,
        &json!({
            "issuer": format!("{b}/oauth2/token"),
            "authorization_endpoint": format!("{b}/oauth2/authorize"),
            "token_endpoint": format!("{b}/oauth2/token"),
            "userinfo_endpoint": format!("{b}/oauth2/userinfo"),
            "jwks_uri": format!("{b}/oauth2/jwks"),
            "end_session_endpoint": format!("{b}/oidc/logout"),
            "revocation_endpoint": format!("{b}/oauth2/revoke"),
            "introspection_endpoint": format!("{b}/oauth2/introspect"),
            "registration_endpoint": format!("{b}/api/identity/oauth2/dcr/v1.1/register"),
            "check_session_iframe": format!("{b}/oidc/checksession"),
            "scopes_supported": ["address", "phone", "email", "profile", "openid"],
            "response_types_supported": ["code", "id_token", "token", "code id_token", "id_token token", "code token", "code id_token token"],
            "grant_types_supported": ["refresh_token", "password", "client_credentials", "authorization_code", "implicit", "urn:ietf:params:oauth:grant-type:jwt-bearer", "urn:ietf:params:oauth:grant-type:saml2-bearer"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "claims_supported": ["sub", "groups", "email", "given_name", "family_name", "preferred_username", "iss", "acr"],
            "request_parameter_supported": true,
            "claims_parameter_supported": true,
            "backchannel_logout_supported": "true",
            "backchannel_logout_session_supported": "true",
            "frontchannel_logout_supported": true,
            "frontchannel_logout_session_supported": true,
        }),
    )
}

/// Finds an OAuth app by consumer key in any tenant: (tenant, app).
fn find_client<'a>(
    tenants: &'a std::collections::BTreeMap<String, TenantState>,
    client_id: &str,
) -> Option<(&'a String, &'a Element)> {
    tenants
        .iter()
        .find_map(|(name, t)| t.oauth_apps.get(client_id).map(|a| (name, a)))
}

/// Whether `redirect` is accepted by the registered callback (exact, or `regexp=` full match).
pub fn callback_matches(registered: &str, redirect: &str) -> bool {
    match registered.strip_prefix("regexp=") {
        Some(re) => regex::Regex::new(&format!("^(?:{re})$"))
            .map(|r| r.is_match(redirect))
            .unwrap_or(false),
        None => registered == redirect,
    }
}

fn error_page(inner: &Inner, code: &str, msg: &str) -> SimResponse {
    SimResponse::redirect(&format!(
        "{}/authenticationendpoint/oauth2_error.do?oauthErrorCode={}&oauthErrorMsg={}",
        inner.base_url(),
        enc(code),
        enc(msg)
    ))
}

fn authorize(inner: &Inner, req: &SimRequest) -> SimResponse {
    let mut q = req.query_params();
    if req.method == http::Method::POST {
        q.extend(req.form_params());
    }
    let client_id = get(&q, "client_id").unwrap_or("").to_owned();
    let mut core = lock(&inner.core);
    let Some((tenant, app)) = find_client(&core.tenants, &client_id) else {
        return error_page(
            inner,
            "invalid_client",
            &format!(
                "Cannot find an application associated with the given consumer key : {client_id}"
            ),
        );
    };
    let tenant = tenant.clone();
    let registered = app.text_of("callbackUrl").unwrap_or("").to_owned();
    let grants = app.text_of("grantTypes").unwrap_or("").to_owned();
    let redirect = get(&q, "redirect_uri")
        .map(str::to_owned)
        .unwrap_or_else(|| registered.clone());
    if !callback_matches(&registered, &redirect) {
        return error_page(
            inner,
            "invalid_callback",
            "Registered callback does not match with the provided url.",
        );
    }
    let response_type = get(&q, "response_type").unwrap_or("");
    if response_type != "code" || !grants.split_whitespace().any(|g| g == "authorization_code") {
        let sep = if redirect.contains('?') { '&' } else { '?' };
        return SimResponse::redirect(&format!(
            "{redirect}{sep}error=unsupported_response_type&error_description={}",
            enc("Unsupported Response Type")
        ));
    }
    let pkce_mandatory = app.text_of("pkceMandatory") == Some("true");
    if pkce_mandatory && get(&q, "code_challenge").is_none_or(str::is_empty) {
        let sep = if redirect.contains('?') { '&' } else { '?' };
        return SimResponse::redirect(&format!(
            "{redirect}{sep}error=invalid_request&error_description={}",
            enc(
                "PKCE is mandatory for this application. PKCE Challenge is not provided or is not upto RFC 7636 specification."
            )
        ));
    }
    let key = core.uuid();
    let pending = Pending {
        client_id: client_id.clone(),
        redirect_uri: redirect.clone(),
        scope: get(&q, "scope").unwrap_or("").to_owned(),
        state: get(&q, "state").map(str::to_owned),
        nonce: get(&q, "nonce").map(str::to_owned),
        pkce: get(&q, "code_challenge").map(|c| {
            (
                c.to_owned(),
                get(&q, "code_challenge_method")
                    .unwrap_or("plain")
                    .to_owned(),
            )
        }),
    };
    core.oidc.pending.insert(key.clone(), pending);
    SimResponse::redirect(&format!(
        "{}/authenticationendpoint/login.do?client_id={}&commonAuthCallerPath=%2Foauth2%2Fauthorize&forceAuth=false&passiveAuth=false&redirect_uri={}&response_type=code&scope={}&tenantDomain={}&sessionDataKey={}&relyingParty={}&type=oidc&authenticators=BasicAuthenticator%3ALOCAL",
        inner.base_url(),
        enc(&client_id),
        enc(&redirect),
        enc(get(&q, "scope").unwrap_or("")),
        enc(&tenant),
        enc(&key),
        enc(&client_id)
    ))
}

fn login_page(req: &SimRequest) -> SimResponse {
    let q = req.query_params();
    let key = get(&q, "sessionDataKey").unwrap_or("");
    SimResponse::new(
        200,
        "text/html",
        format!(
            "<html><body><form method=\"post\" action=\"/commonauth\"><input name=\"username\"/><input name=\"password\" type=\"password\"/><input type=\"hidden\" name=\"sessionDataKey\" value=\"{}\"/></form></body></html>",
            crate::xml::escape(key)
        ),
    )
}

/// The login form's target: checks the user and sends the browser back with a code.
fn commonauth(inner: &Inner, req: &SimRequest) -> SimResponse {
    let f = req.form_params();
    let key = get(&f, "sessionDataKey").unwrap_or("").to_owned();
    let username = get(&f, "username").unwrap_or("").to_owned();
    let password = get(&f, "password").unwrap_or("").to_owned();
    let pending = lock(&inner.core).oidc.pending.get(&key).cloned();
    let Some(p) = pending else {
        return SimResponse::redirect(&format!(
            "{}/authenticationendpoint/retry.do?status=Authentication+Error&statusMsg=Authentication+context+is+null",
            inner.base_url()
        ));
    };
    let app_tenant = {
        let core = lock(&inner.core);
        find_client(&core.tenants, &p.client_id).map(|(t, _)| t.clone())
    };
    let principal = inner.check_password(&username, &password);
    let principal =
        principal.filter(|pr| Some(&pr.tenant) == app_tenant.as_ref() || saas(inner, &p.client_id));
    let Some(principal) = principal else {
        return SimResponse::redirect(&format!(
            "{}/authenticationendpoint/login.do?sessionDataKey={}&authFailure=true&authFailureMsg=login.fail.message",
            inner.base_url(),
            enc(&key)
        ));
    };
    let mut core = lock(&inner.core);
    core.oidc.pending.remove(&key);
    let code = core.uuid();
    core.oidc.codes.insert(
        code.clone(),
        Grant {
            client_id: p.client_id,
            tenant: principal.tenant,
            user: principal.user,
            scope: p.scope,
            redirect_uri: p.redirect_uri.clone(),
            nonce: p.nonce,
            pkce: p.pkce,
        },
    );
    let sep = if p.redirect_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    let mut loc = format!("{}{sep}code={}", p.redirect_uri, enc(&code));
    if let Some(s) = p.state {
        loc.push_str(&format!("&state={}", enc(&s)));
    }
    loc.push_str("&session_state=");
    loc.push_str(&core.random_hex(16));
    SimResponse::redirect(&loc)
}

fn saas(inner: &Inner, client_id: &str) -> bool {
    let core = lock(&inner.core);
    core.tenants.values().any(|t| {
        t.applications.values().any(|sp| {
            crate::services::oauth_keys(sp)
                .iter()
                .any(|k| k == client_id)
                && sp.text_of("saasApp") == Some("true")
        })
    })
}

fn oauth_error(status: u16, error: &str, description: &str) -> SimResponse {
    // IS writes error_description first.
    SimResponse::new(
        status,
        "application/json",
        format!(
            "{{\"error_description\":{},\"error\":{}}}",
            Value::String(description.to_owned()),
            Value::String(error.to_owned())
        ),
    )
    .header("Cache-Control", "no-store")
    .header("Pragma", "no-cache")
}

/// 401 `invalid_client` with IS's fixed description and its unquoted realm.
fn client_auth_failed() -> SimResponse {
    oauth_error(401, "invalid_client", "Client Authentication failed.")
        .header("WWW-Authenticate", "Basic realm=localhost")
}

fn token(inner: &Inner, req: &SimRequest) -> SimResponse {
    if req.method != http::Method::POST {
        return SimResponse::text(405, "Method Not Allowed");
    }
    let f = req.form_params();
    let basic = req.header("authorization").and_then(parse_basic);
    let body_id = get(&f, "client_id").map(str::to_owned);
    let body_secret = get(&f, "client_secret").map(str::to_owned);
    // IS's MutualTLS client authenticator (on by default in IS 5.9) engages for a body client_id
    // when the caller presented a client certificate (as APIM's JVM does); with the Basic
    // authenticator also engaged, the multi-authenticator check refuses the request before
    // anything else. The quirk makes it engage as if every caller presented one.
    if body_id.is_some() && (req.client_cert || inner.quirks().mutual_tls_conflict) {
        return oauth_error(
            400,
            "invalid_request",
            "The client MUST NOT use more than one authentication method in each",
        );
    }
    if basic.is_some() && body_id.is_some() && body_secret.is_some() {
        return oauth_error(
            400,
            "invalid_request",
            "Request body and headers contain authorization information",
        );
    }
    let (client_id, secret) = match (&basic, &body_id, &body_secret) {
        (Some((id, s)), _, _) => (id.clone(), s.clone()),
        (None, Some(id), Some(s)) => (id.clone(), s.clone()),
        (None, Some(id), None) => (id.clone(), String::new()),
        _ => {
            return client_auth_failed();
        }
    };
    if let (Some((bid, _)), Some(id)) = (&basic, &body_id)
        && bid != id
    {
        return client_auth_failed();
    }
    let mut core = lock(&inner.core);
    let Some((tenant, app)) = find_client(&core.tenants, &client_id) else {
        return oauth_error(
            401,
            "invalid_client",
            &format!("A valid OAuth client could not be found for client_id: {client_id}"),
        );
    };
    let tenant = tenant.clone();
    if app.text_of("oauthConsumerSecret") != Some(secret.as_str()) || secret.is_empty() {
        return client_auth_failed();
    }
    // IS 7: the application's tokenEndpointAuthMethod limits the client authenticators
    // (OAuthClientAuthnService.getConfiguredClientAuthMethods).
    if inner.profile.is.token_endpoint_auth_method()
        && let Some(method) = app
            .text_of("tokenEndpointAuthMethod")
            .filter(|m| !m.is_empty())
    {
        let allowed = match method {
            "client_secret_basic" => basic.is_some(),
            "client_secret_post" => basic.is_none(),
            _ => false,
        };
        if !allowed {
            return client_auth_failed();
        }
    }
    let pkce_mandatory = app.text_of("pkceMandatory") == Some("true");
    let grants: Vec<String> = app
        .text_of("grantTypes")
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let grant_type = get(&f, "grant_type").unwrap_or("").to_owned();
    if grant_type.is_empty() {
        return oauth_error(400, "invalid_request", "Missing grant_type parameter value");
    }
    if !grants.contains(&grant_type) {
        return oauth_error(
            400,
            "unauthorized_client",
            "The authenticated client is not authorized to use this authorization grant type",
        );
    }
    let grant = match grant_type.as_str() {
        "authorization_code" => {
            let code = get(&f, "code").unwrap_or("");
            let Some(g) = core.oidc.codes.remove(code) else {
                return oauth_error(
                    400,
                    "invalid_grant",
                    "Invalid authorization code received from token request",
                );
            };
            if g.client_id != client_id {
                return oauth_error(
                    400,
                    "invalid_grant",
                    "Invalid authorization code received from token request",
                );
            }
            if get(&f, "redirect_uri").is_some_and(|r| r != g.redirect_uri) {
                return oauth_error(400, "invalid_grant", "Callback url mismatch");
            }
            if (g.pkce.is_some() || pkce_mandatory)
                && !pkce_ok(g.pkce.as_ref(), get(&f, "code_verifier"))
            {
                return oauth_error(400, "invalid_grant", "PKCE validation failed");
            }
            g
        }
        "password" => {
            let username = get(&f, "username").unwrap_or("");
            let password = get(&f, "password").unwrap_or("");
            let (user, user_tenant) = crate::server::split_tenant(username);
            let ok = core
                .tenant(&user_tenant)
                .and_then(|t| t.users.get(&user))
                .is_some_and(|u| u.password_sha256 == crate::state::sha256_hex(password));
            if !ok || (user_tenant != tenant) {
                return oauth_error(
                    400,
                    "invalid_grant",
                    &format!("Authentication failed for {username}"),
                );
            }
            Grant {
                client_id: client_id.clone(),
                tenant: user_tenant,
                user,
                scope: get(&f, "scope").unwrap_or("").to_owned(),
                redirect_uri: String::new(),
                nonce: None,
                pkce: None,
            }
        }
        "client_credentials" => Grant {
            client_id: client_id.clone(),
            tenant: tenant.clone(),
            user: app.text_of("username").unwrap_or("admin").to_owned(),
            scope: get(&f, "scope").unwrap_or("").to_owned(),
            redirect_uri: String::new(),
            nonce: None,
            pkce: None,
        },
        "refresh_token" => {
            let rt = get(&f, "refresh_token").unwrap_or("");
            match core.oidc.refresh.remove(rt) {
                Some(g) if g.client_id == client_id => g,
                _ => {
                    return oauth_error(
                        400,
                        "invalid_grant",
                        "Persisted access token data not found",
                    );
                }
            }
        }
        other => {
            return oauth_error(
                400,
                "unsupported_grant_type",
                &format!("Unsupported grant_type value: {other}"),
            );
        }
    };
    let access = core.uuid();
    let refresh = core.uuid();
    let mut body = json!({
        "access_token": access,
        "refresh_token": refresh,
        "scope": if grant.scope.is_empty() { "default".to_owned() } else { grant.scope.clone() },
        "token_type": "Bearer",
        "expires_in": 3600,
    });
    if grant.scope.split_whitespace().any(|s| s == "openid") {
        let claims = id_token_claims(inner, &core, &grant);
        body["id_token"] = Value::String(core.oidc.sign(&claims));
    }
    core.oidc.tokens.insert(access, grant.clone());
    if grant_type != "client_credentials" {
        core.oidc.refresh.insert(refresh, grant);
    } else if let Some(o) = body.as_object_mut() {
        o.remove("refresh_token");
    }
    SimResponse::json(200, &body)
        .header("Cache-Control", "no-store")
        .header("Pragma", "no-cache")
}

/// Whether a code verifier answers the authorize request's challenge (RFC 7636).
fn pkce_ok(challenge: Option<&(String, String)>, verifier: Option<&str>) -> bool {
    let (Some((challenge, method)), Some(verifier)) = (challenge, verifier) else {
        return false;
    };
    match method.as_str() {
        "S256" => {
            let d = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
            b64(d.as_ref()) == *challenge
        }
        _ => verifier == challenge,
    }
}

/// The client's service provider.
fn sp_of<'a>(t: &'a TenantState, client_id: &str) -> Option<&'a Element> {
    t.applications.values().find(|sp| {
        crate::services::oauth_keys(sp)
            .iter()
            .any(|k| k == client_id)
    })
}

/// Which role-carrying OIDC claim a requested local claim becomes, per release (WSO2-VERSIONS.md
/// §4.4): up to 5.11 `groups` comes from `…/claims/role` (all the user's roles); from 6.0 from
/// `…/claims/groups` (user-store groups only), `…/claims/roles` gives `roles`, and `…/claims/role`
/// gives nothing. A custom dialect names the claim with the SP's remote claim URI.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RoleSource {
    AllRoles,
    Groups,
    Roles,
}

fn role_claims(v: IsVersion, sp: &Element) -> Vec<(String, RoleSource)> {
    let Some(cfg) = sp.child("claimConfig") else {
        return Vec::new();
    };
    let local = cfg.text_of("localClaimDialect") != Some("false");
    let modern = v.at_least(IsVersion::V6_0);
    let mut out: Vec<(String, RoleSource)> = Vec::new();
    for m in cfg.children_named("claimMappings") {
        let requested =
            m.text_of("requested") == Some("true") || m.text_of("mandatory") == Some("true");
        if !requested {
            continue;
        }
        let local_uri = m.text_at("localClaim/claimUri").unwrap_or("");
        let remote = m.text_at("remoteClaim/claimUri").unwrap_or(local_uri);
        let (oidc_name, source) = match (local_uri, modern) {
            ("http://wso2.org/claims/role", false) => ("groups", RoleSource::AllRoles),
            ("http://wso2.org/claims/groups", false) => ("groups", RoleSource::AllRoles),
            ("http://wso2.org/claims/groups", true) => ("groups", RoleSource::Groups),
            ("http://wso2.org/claims/roles", true) => ("roles", RoleSource::Roles),
            _ => continue,
        };
        let name = if local {
            oidc_name.to_owned()
        } else {
            remote.to_owned()
        };
        if !out.iter().any(|(n, _)| *n == name) {
            out.push((name, source));
        }
    }
    out
}

/// Whether a claim is released for the requested scopes: IS keeps only the claims of the
/// requested scopes (OpenIDConnectClaimFilterImpl). Up to 5.11 a custom-dialect claim name that no
/// scope lists is still released, as before.
fn released_by_scopes(v: IsVersion, t: &TenantState, scope: &str, claim: &str) -> bool {
    let listed = |c: &str| {
        t.oidc_scopes
            .values()
            .any(|s| s.claims.iter().any(|x| x == c))
    };
    if !v.at_least(IsVersion::V6_0) && !listed(claim) {
        return true;
    }
    scope.split_whitespace().any(|s| {
        t.oidc_scopes
            .get(s)
            .is_some_and(|sc| sc.claims.iter().any(|c| c == claim))
    })
}

/// The values of a role claim for `user`.
fn role_values(
    source: RoleSource,
    ut: &TenantState,
    user: &str,
    app_audience: Option<&str>,
) -> Vec<Value> {
    let names: Vec<String> = match source {
        RoleSource::AllRoles => ut.roles_of(user),
        RoleSource::Groups => ut
            .roles_of(user)
            .into_iter()
            .filter(|r| !r.contains('/'))
            .collect(),
        RoleSource::Roles => ut
            .roles
            .iter()
            .filter(|(n, r)| {
                n.starts_with("Internal/")
                    && n.as_str() != "Internal/everyone"
                    && ut.holds(user, n)
                    && match (&r.audience, app_audience) {
                        (Some((ty, val)), Some(app)) if ty == "application" => val == app,
                        (Some((ty, _)), _) if ty == "application" => false,
                        _ => true,
                    }
            })
            .map(|(n, _)| n.trim_start_matches("Internal/").to_owned())
            .collect(),
    };
    names.into_iter().map(Value::String).collect()
}

fn id_token_claims(inner: &Inner, core: &crate::server::Core, g: &Grant) -> Value {
    let v = inner.profile.is;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let app_tenant = find_client(&core.tenants, &g.client_id).map(|(t, _)| t.clone());
    let at = app_tenant.as_ref().and_then(|t| core.tenant(t));
    let sp = at.and_then(|t| sp_of(t, &g.client_id));
    let ut = core.tenant(&g.tenant);
    let username_subject = sp
        .and_then(|sp| sp.child("localAndOutBoundAuthenticationConfig"))
        .and_then(|c| c.text_of("subjectClaimUri"))
        == Some("http://wso2.org/claims/username");
    let sub = match ut.and_then(|t| t.users.get(&g.user)) {
        // IS 7: the subject is the user's id unless the application's subject claim is the
        // username.
        Some(u) if v.uuid_subject() && !username_subject => u.scim_id.clone(),
        _ if g.tenant == crate::state::SUPER_TENANT => g.user.clone(),
        _ => format!("{}@{}", g.user, g.tenant),
    };
    let mut claims = json!({
        "iss": format!("{}/oauth2/token", inner.base_url()),
        "sub": sub,
        "aud": g.client_id,
        "azp": g.client_id,
        "iat": now,
        "exp": now + 3600,
        "auth_time": now,
        "amr": ["BasicAuthenticator"],
    });
    if let Some(n) = &g.nonce {
        claims["nonce"] = Value::String(n.clone());
    }
    if let (Some(at), Some(ut), Some(sp)) = (at, ut, sp) {
        let ex = crate::rest::extras(sp);
        let app_audience = (ex
            .get("associatedRoles")
            .and_then(|a| a.get("allowedAudience"))
            .and_then(Value::as_str)
            == Some("APPLICATION"))
        .then(|| crate::rest::rest_id(app_tenant.as_deref().unwrap_or_default(), sp));
        for (name, source) in role_claims(v, sp) {
            if released_by_scopes(v, at, &g.scope, &name) {
                claims[name] =
                    Value::Array(role_values(source, ut, &g.user, app_audience.as_deref()));
            }
        }
    }
    claims
}

fn userinfo(inner: &Inner, req: &SimRequest) -> SimResponse {
    let token = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::to_owned)
        .or_else(|| {
            req.form_params()
                .into_iter()
                .find(|(k, _)| k == "access_token")
                .map(|(_, v)| v)
        });
    let core = lock(&inner.core);
    let Some(g) = token.and_then(|t| core.oidc.tokens.get(&t).cloned()) else {
        return oauth_error(401, "invalid_token", "Access token validation failed")
            .header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
    };
    let mut claims = id_token_claims(inner, &core, &g);
    let mut out = json!({"sub": claims["sub"].clone()});
    if let Some(o) = claims.as_object_mut() {
        for (k, v) in o.iter() {
            if ![
                "iss",
                "aud",
                "azp",
                "iat",
                "exp",
                "auth_time",
                "amr",
                "nonce",
                "sub",
            ]
            .contains(&k.as_str())
            {
                out[k] = v.clone();
            }
        }
    }
    SimResponse::json(200, &out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_forms() {
        assert!(callback_matches("https://a/cb", "https://a/cb"));
        assert!(!callback_matches("https://a/cb", "https://a/cb2"));
        let re = "regexp=(https://a/login|https://a/logout)";
        assert!(callback_matches(re, "https://a/logout"));
        assert!(!callback_matches(re, "https://a/logout/x"));
    }
}
