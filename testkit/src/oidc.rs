//! The OAuth2/OIDC endpoints and the authentication framework's browser flow, served by both
//! servers (APIM embeds IS's identity components): discovery, authorize, the login page,
//! `/commonauth` (local login and the federated IdP's callback), consent, token, userinfo,
//! introspection and JWKS. Actions are `is.*` on IS and `apim.*` on APIM. id_tokens are JWTs
//! signed with ES256 by a key made per server.
//!
//! The browser login of a portal through IS (see `testkit/README.md`, "Browser login"):
//! `portal.login` → `apim.authorize` (the portal SP is federated: [`crate::authn::start`]) →
//! `is.authorize` → `is.login_page` → `is.commonauth` → (`is.consent`) → `apim.commonauth`
//! ([`crate::authn::finish`]: `is.token`, `is.userinfo`, `apim.jit`) → `portal.callback` →
//! `portal.token` → `portal.api`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use base64::Engine as _;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};

use crate::server::{Family, Inner, Route, ServerKind, SimRequest, SimResponse, lock, parse_basic};
use crate::state::TenantState;
use crate::version::IsVersion;
use crate::xml::Element;

/// Volatile OIDC state: signing key, pending logins and consents, SSO sessions, codes and tokens.
pub(crate) struct OidcState {
    key: Option<EcdsaKeyPair>,
    kid: String,
    pending: HashMap<String, Pending>,
    consents: HashMap<String, Pending>,
    /// `(tenant, user, client id)` that chose "Approve Always".
    approved: HashSet<(String, String, String)>,
    /// `commonAuthId` cookie -> who logged in.
    sso: HashMap<String, Who>,
    codes: HashMap<String, Grant>,
    tokens: HashMap<String, Grant>,
    refresh: HashMap<String, Grant>,
    /// APIM 4.7 portals: session cookie -> PKCE code verifier of the pending login.
    pub(crate) portal_sessions: HashMap<String, String>,
}

/// Who a login authenticated: a user of `tenant`; `roles` carries the locally mapped roles of a
/// federated user who was not provisioned (JIT off).
#[derive(Clone, Debug)]
pub(crate) struct Who {
    pub(crate) tenant: String,
    pub(crate) user: String,
    pub(crate) roles: Option<Vec<String>>,
}

#[derive(Clone)]
struct Pending {
    client_id: String,
    /// The tenant of the client's application.
    app_tenant: String,
    redirect_uri: String,
    scope: String,
    state: Option<String>,
    nonce: Option<String>,
    /// `(code_challenge, method)` sent to the authorize endpoint.
    pkce: Option<(String, String)>,
    /// Set once authenticated (pending consent).
    who: Option<Who>,
    /// The federated identity provider the login went to.
    idp: Option<String>,
}

#[derive(Clone)]
struct Grant {
    client_id: String,
    tenant: String,
    user: String,
    roles: Option<Vec<String>>,
    scope: String,
    redirect_uri: String,
    nonce: Option<String>,
    pkce: Option<(String, String)>,
    iat: u64,
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
            consents: HashMap::new(),
            approved: HashSet::new(),
            sso: HashMap::new(),
            codes: HashMap::new(),
            tokens: HashMap::new(),
            refresh: HashMap::new(),
            portal_sessions: HashMap::new(),
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

/// Base64url without padding.
pub(crate) fn b64(bytes: &[u8]) -> String {
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

/// `is` or `apim`: the prefix of this server's action names.
fn prefix(kind: ServerKind) -> &'static str {
    kind.as_str()
}

/// Classifies OAuth2/OIDC and authentication-framework requests (both servers).
pub(crate) fn route(kind: ServerKind, req: &SimRequest) -> Option<Route> {
    let p = strip_tenant(&req.path).trim_end_matches('/');
    let (name, family) = match p {
        "/oauth2/token/.well-known/openid-configuration"
        | "/oauth2/oidcdiscovery/.well-known/openid-configuration" => ("discovery", Family::Json),
        p if p.starts_with("/oauth2/") && p.ends_with("/.well-known/openid-configuration") => {
            ("discovery_invalid", Family::Json)
        }
        "/oauth2/authorize"
            if req.method == http::Method::POST
                && req
                    .form_params()
                    .iter()
                    .any(|(k, _)| k == "sessionDataKeyConsent") =>
        {
            ("consent_approve", Family::Html)
        }
        "/oauth2/authorize" => ("authorize", Family::Html),
        "/commonauth" => ("commonauth", Family::Html),
        "/authenticationendpoint/login.do" => ("login_page", Family::Html),
        "/authenticationendpoint/oauth2_consent.do" => ("consent", Family::Html),
        "/authenticationendpoint/oauth2_error.do" => ("error_page", Family::Html),
        "/authenticationendpoint/retry.do" => ("retry_page", Family::Html),
        "/oauth2/token" => ("token", Family::Json),
        "/oauth2/userinfo" => ("userinfo", Family::Json),
        "/oauth2/introspect" => ("introspect", Family::Json),
        "/oauth2/jwks" => ("jwks", Family::Json),
        "/oidc/logout" => ("logout", Family::Html),
        _ => return None,
    };
    Some(Route {
        action: format!("{}.{name}", prefix(kind)),
        mutating: false,
        family,
    })
}

/// Handles an OAuth2/OIDC request; `action` is the routed action (`is.token`, `apim.commonauth`).
pub(crate) async fn handle(
    inner: &Arc<Inner>,
    req: &SimRequest,
    action: &str,
    seq: u64,
) -> SimResponse {
    let name = action.split_once('.').map(|(_, n)| n).unwrap_or(action);
    match name {
        "discovery" => discovery(inner),
        "discovery_invalid" => {
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
        "jwks" => SimResponse::json(200, &lock(&inner.core).oidc.jwks()),
        "authorize" => authorize(inner, req, seq),
        "commonauth" => commonauth(inner, req, seq).await,
        "login_page" => login_page(inner, req),
        "consent" => consent_page(req),
        "consent_approve" => consent_approve(inner, req),
        "error_page" => SimResponse::new(
            200,
            "text/html",
            format!(
                "<html><body><h1>Error</h1><p>{}</p></body></html>",
                crate::xml::escape(&req.query)
            ),
        ),
        "retry_page" => {
            let q = req.query_params();
            SimResponse::new(
                200,
                "text/html",
                format!(
                    "<html><head><title>WSO2</title></head><body><h2>{}</h2><p>{}</p></body></html>",
                    crate::xml::escape(get(&q, "status").unwrap_or("Authentication Error!")),
                    crate::xml::escape(get(&q, "statusMsg").unwrap_or(RETRY_MESSAGE))
                ),
            )
        }
        "token" => token(inner, req),
        "userinfo" => userinfo(inner, req),
        "introspect" => {
            let f = req.form_params();
            SimResponse::json(200, &introspection(inner, get(&f, "token").unwrap_or("")))
        }
        "logout" => {
            let q = req.query_params();
            match get(&q, "post_logout_redirect_uri") {
                Some(u) => SimResponse::redirect(u),
                None => SimResponse::new(200, "text/html", "<html><body>Logged out</body></html>"),
            }
        }
        _ => SimResponse::text(404, "Not Found"),
    }
}

pub(crate) fn get<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub(crate) fn enc(s: &str) -> String {
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

/// The retry page's default message (`retry.jsp`; the wording is not confirmed).
pub(crate) const RETRY_MESSAGE: &str =
    "Something went wrong during the authentication process. Please try signing in again.";

/// The authentication framework's retry page, where a failed login ends.
pub(crate) fn retry_page(inner: &Inner, status: &str, message: &str) -> SimResponse {
    SimResponse::redirect(&format!(
        "{}/authenticationendpoint/retry.do?status={}&statusMsg={}",
        inner.base_url(),
        enc(status),
        enc(message)
    ))
}

fn with_sep(uri: &str) -> char {
    if uri.contains('?') { '&' } else { '?' }
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

fn authorize(inner: &Arc<Inner>, req: &SimRequest, seq: u64) -> SimResponse {
    let mut q = req.query_params();
    if req.method == http::Method::POST {
        q.extend(req.form_params());
    }
    let client_id = get(&q, "client_id").unwrap_or("").to_owned();
    let mut core = lock(&inner.core);
    let Some((tenant, app)) = find_client(&core.tenants, &client_id) else {
        drop(core);
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
    let pkce_mandatory = app.text_of("pkceMandatory") == Some("true");
    let redirect = get(&q, "redirect_uri")
        .map(str::to_owned)
        .unwrap_or_else(|| registered.clone());
    if !callback_matches(&registered, &redirect) {
        drop(core);
        return error_page(
            inner,
            "invalid_callback",
            "Registered callback does not match with the provided url.",
        );
    }
    let response_type = get(&q, "response_type").unwrap_or("");
    if response_type != "code" || !grants.split_whitespace().any(|g| g == "authorization_code") {
        return SimResponse::redirect(&format!(
            "{redirect}{}error=unsupported_response_type&error_description={}",
            with_sep(&redirect),
            enc("Unsupported Response Type")
        ));
    }
    if pkce_mandatory && get(&q, "code_challenge").is_none_or(str::is_empty) {
        return SimResponse::redirect(&format!(
            "{redirect}{}error=invalid_request&error_description={}{}",
            with_sep(&redirect),
            enc(
                "PKCE is mandatory for this application. PKCE Challenge is not provided or is not upto RFC 7636 specification."
            ),
            get(&q, "state")
                .map(|s| format!("&state={}", enc(s)))
                .unwrap_or_default()
        ));
    }
    let idp = core
        .tenant(&tenant)
        .and_then(|t| sp_of(t, &client_id))
        .and_then(crate::authn::federated_idp);
    let key = core.uuid();
    let mut pending = Pending {
        client_id: client_id.clone(),
        app_tenant: tenant.clone(),
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
        who: None,
        idp: None,
    };
    // Single sign-on: a browser that already logged in here (`commonAuthId`) is not asked again.
    let sso = cookie(req, "commonAuthId")
        .and_then(|sid| core.oidc.sso.get(&sid).cloned())
        .filter(|w| w.tenant == tenant);
    drop(core);
    if let Some(who) = sso {
        return complete(inner, pending, who, false);
    }
    if let Some(idp) = idp {
        return match crate::authn::start(inner, &tenant, &idp, &key) {
            Ok(location) => {
                pending.idp = Some(idp);
                lock(&inner.core).oidc.pending.insert(key, pending);
                SimResponse::redirect(&location)
            }
            Err(f) => {
                inner.note(seq, f.note.clone());
                retry_page(inner, &f.status, &f.message)
            }
        };
    }
    lock(&inner.core).oidc.pending.insert(key.clone(), pending);
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

/// The login page as IS serves it (`basicauth.jsp`): a form posting `username`, `password` and
/// `sessionDataKey` to `../commonauth`.
fn login_page(inner: &Inner, req: &SimRequest) -> SimResponse {
    let q = req.query_params();
    let key = get(&q, "sessionDataKey").unwrap_or("");
    let failed = get(&q, "authFailure") == Some("true");
    let product = match inner.kind {
        ServerKind::Is => "WSO2 Identity Server",
        ServerKind::Apim => "WSO2 API Manager",
    };
    SimResponse::new(
        200,
        "text/html",
        format!(
            "<!DOCTYPE html><html><head><title>{product}</title></head><body>{}<form action=\"../commonauth\" method=\"post\" id=\"loginForm\"><input id=\"username\" name=\"username\" type=\"text\"/><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"off\"/><input type=\"hidden\" name=\"sessionDataKey\" value=\"{}\"/><input type=\"submit\" value=\"Sign In\"/></form></body></html>",
            if failed {
                "<div id=\"error-msg\">Login failed! Please recheck the username and password and try again.</div>"
            } else {
                ""
            },
            crate::xml::escape(key)
        ),
    )
}

/// `/commonauth`: the login form's target (local login), or the federated IdP's callback
/// (`code`/`error` with `state={sessionDataKey},OIDC`).
async fn commonauth(inner: &Arc<Inner>, req: &SimRequest, seq: u64) -> SimResponse {
    let mut f = req.query_params();
    if req.method == http::Method::POST {
        f.extend(req.form_params());
    }
    let federated = get(&f, "username").is_none()
        && (get(&f, "code").is_some() || get(&f, "error").is_some())
        && get(&f, "state").is_some_and(|s| s.contains(','));
    if federated {
        let key = get(&f, "state")
            .and_then(|s| s.split(',').next())
            .unwrap_or("")
            .to_owned();
        let pending = lock(&inner.core).oidc.pending.remove(&key);
        let Some((p, idp)) = pending.and_then(|p| p.idp.clone().map(|i| (p, i))) else {
            inner.note(seq, "Authentication context is null");
            return retry_page(
                inner,
                "Authentication Error",
                "Authentication context is null",
            );
        };
        return match crate::authn::finish(inner, &p.app_tenant, &idp, &f, seq).await {
            Ok(who) => complete(inner, p, who, true),
            Err(fail) => {
                inner.note(seq, fail.note.clone());
                retry_page(inner, &fail.status, &fail.message)
            }
        };
    }
    let key = get(&f, "sessionDataKey").unwrap_or("").to_owned();
    let username = get(&f, "username").unwrap_or("").to_owned();
    let password = get(&f, "password").unwrap_or("").to_owned();
    let pending = lock(&inner.core).oidc.pending.get(&key).cloned();
    let Some(p) = pending.filter(|p| p.idp.is_none()) else {
        return retry_page(
            inner,
            "Authentication Error",
            "Authentication context is null",
        );
    };
    let principal = inner.check_password(&username, &password);
    let principal = principal.filter(|pr| pr.tenant == p.app_tenant || saas(inner, &p.client_id));
    let Some(principal) = principal else {
        return SimResponse::redirect(&format!(
            "{}/authenticationendpoint/login.do?sessionDataKey={}&authFailure=true&authFailureMsg=login.fail.message",
            inner.base_url(),
            enc(&key)
        ));
    };
    lock(&inner.core).oidc.pending.remove(&key);
    let who = Who {
        tenant: principal.tenant,
        user: principal.user,
        roles: None,
    };
    complete(inner, p, who, true)
}

/// Whether the client's application skips the consent page: the release's skip-consent setting
/// (SOAP/REST `skipConsent` on `localAndOutBoundAuthenticationConfig`, REST `skipLoginConsent`
/// 5.11+; the `skipConsent` SP property where the field does not exist), or the deployment's
/// global switch ([`crate::Quirks::skip_user_consent`]).
fn skips_consent(inner: &Inner, t: &TenantState, client_id: &str) -> bool {
    if inner.quirks().skip_user_consent {
        return true;
    }
    let Some(sp) = sp_of(t, client_id) else {
        return false;
    };
    if let Some(v) = sp
        .child("localAndOutBoundAuthenticationConfig")
        .and_then(|c| c.text_of("skipConsent"))
    {
        return v == "true";
    }
    sp.children_named("spProperties")
        .any(|p| p.text_of("name") == Some("skipConsent") && p.text_of("value") == Some("true"))
}

/// After authentication: the consent page unless skipped, else the code to the client. Sets the
/// SSO cookie when the login is new.
fn complete(inner: &Arc<Inner>, mut p: Pending, who: Who, new_session: bool) -> SimResponse {
    let mut core = lock(&inner.core);
    let skip = core
        .tenant(&p.app_tenant)
        .is_some_and(|t| skips_consent(inner, t, &p.client_id))
        || core.oidc.approved.contains(&(
            who.tenant.clone(),
            who.user.clone(),
            p.client_id.clone(),
        ));
    let sid = new_session.then(|| {
        let sid = core.uuid();
        core.oidc.sso.insert(sid.clone(), who.clone());
        sid
    });
    let resp = if skip {
        drop(core);
        issue_code(inner, p, who)
    } else {
        let c = core.uuid();
        let app_name = core
            .tenant(&p.app_tenant)
            .and_then(|t| sp_of(t, &p.client_id))
            .and_then(|sp| sp.text_of("applicationName"))
            .unwrap_or("")
            .to_owned();
        let scope = p.scope.clone();
        p.who = Some(who.clone());
        core.oidc.consents.insert(c.clone(), p);
        drop(core);
        SimResponse::redirect(&format!(
            "{}/authenticationendpoint/oauth2_consent.do?loggedInUser={}&application={}&scope={}&sessionDataKeyConsent={}&spQueryParams=",
            inner.base_url(),
            enc(&who.user),
            enc(&app_name),
            enc(&scope),
            enc(&c)
        ))
    };
    match sid {
        Some(sid) => resp.header(
            "Set-Cookie",
            format!("commonAuthId={sid}; Path=/; Secure; HttpOnly"),
        ),
        None => resp,
    }
}

/// The authorization code, back to the client's redirect URI.
fn issue_code(inner: &Inner, p: Pending, who: Who) -> SimResponse {
    let mut core = lock(&inner.core);
    let code = core.uuid();
    let sid = core.random_hex(16);
    core.oidc.codes.insert(
        code.clone(),
        Grant {
            client_id: p.client_id,
            tenant: who.tenant,
            user: who.user,
            roles: who.roles,
            scope: p.scope,
            redirect_uri: p.redirect_uri.clone(),
            nonce: p.nonce,
            pkce: p.pkce,
            iat: 0,
        },
    );
    let mut loc = format!(
        "{}{}code={}",
        p.redirect_uri,
        with_sep(&p.redirect_uri),
        enc(&code)
    );
    if let Some(s) = p.state {
        loc.push_str(&format!("&state={}", enc(&s)));
    }
    loc.push_str("&session_state=");
    loc.push_str(&sid);
    SimResponse::redirect(&loc)
}

/// The consent page (`oauth2_consent.do`): a form posting `sessionDataKeyConsent` and `consent`
/// (`approve`, `approveAlways` or `deny`, which the page's buttons set) to `../oauth2/authorize`.
fn consent_page(req: &SimRequest) -> SimResponse {
    let q = req.query_params();
    let c = get(&q, "sessionDataKeyConsent").unwrap_or("");
    SimResponse::new(
        200,
        "text/html",
        format!(
            "<!DOCTYPE html><html><head><title>WSO2 Identity Server</title></head><body><p>{} requests access to your profile information ({})</p><form action=\"../oauth2/authorize\" method=\"post\" id=\"profile\" name=\"oauth2_authz\"><input type=\"hidden\" name=\"sessionDataKeyConsent\" value=\"{}\"/><input type=\"hidden\" name=\"consent\" id=\"consent\" value=\"\"/><button type=\"submit\" name=\"consent\" value=\"approve\">Approve</button><button type=\"submit\" name=\"consent\" value=\"approveAlways\">Approve Always</button><button type=\"submit\" name=\"consent\" value=\"deny\">Deny</button></form></body></html>",
            crate::xml::escape(get(&q, "application").unwrap_or("")),
            crate::xml::escape(get(&q, "scope").unwrap_or("")),
            crate::xml::escape(c)
        ),
    )
}

/// The consent form's answer (`POST /oauth2/authorize` with `sessionDataKeyConsent`).
fn consent_approve(inner: &Arc<Inner>, req: &SimRequest) -> SimResponse {
    let f = req.form_params();
    let c = get(&f, "sessionDataKeyConsent").unwrap_or("").to_owned();
    // A repeated `consent` (the hidden input and a button): the last non-empty one counts.
    let consent = f
        .iter()
        .filter(|(k, v)| k == "consent" && !v.is_empty())
        .map(|(_, v)| v.as_str())
        .next_back()
        .unwrap_or("deny")
        .to_owned();
    let Some(p) = lock(&inner.core).oidc.consents.remove(&c) else {
        return error_page(
            inner,
            "invalid_request",
            "Cannot find the consent session data. Session may have expired.",
        );
    };
    let Some(who) = p.who.clone() else {
        return error_page(inner, "invalid_request", "Authentication required");
    };
    if consent != "approve" && consent != "approveAlways" {
        let mut loc = format!(
            "{}{}error=access_denied&error_description={}",
            p.redirect_uri,
            with_sep(&p.redirect_uri),
            enc("User denied the consent")
        );
        if let Some(s) = &p.state {
            loc.push_str(&format!("&state={}", enc(s)));
        }
        return SimResponse::redirect(&loc);
    }
    if consent == "approveAlways" {
        lock(&inner.core).oidc.approved.insert((
            who.tenant.clone(),
            who.user.clone(),
            p.client_id.clone(),
        ));
    }
    issue_code(inner, p, who)
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

/// The scopes an access token issued by this server carries, if it is one of its tokens.
pub(crate) fn token_scopes(inner: &Inner, token: &str) -> Option<String> {
    lock(&inner.core)
        .oidc
        .tokens
        .get(token)
        .map(|g| g.scope.clone())
}

/// Token introspection (`/oauth2/introspect`): `{"active": false}` for an unknown token.
pub(crate) fn introspection(inner: &Inner, token: &str) -> Value {
    let core = lock(&inner.core);
    match core.oidc.tokens.get(token) {
        Some(g) => json!({
            "active": true,
            "scope": g.scope,
            "client_id": g.client_id,
            "username": format!("{}@{}", g.user, g.tenant),
            "token_type": "Bearer",
            "iat": g.iat,
            "nbf": g.iat,
            "exp": g.iat + 3600,
        }),
        None => json!({"active": false}),
    }
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
                roles: None,
                scope: get(&f, "scope").unwrap_or("").to_owned(),
                redirect_uri: String::new(),
                nonce: None,
                pkce: None,
                iat: 0,
            }
        }
        "client_credentials" => Grant {
            client_id: client_id.clone(),
            tenant: tenant.clone(),
            user: app.text_of("username").unwrap_or("admin").to_owned(),
            roles: None,
            scope: get(&f, "scope").unwrap_or("").to_owned(),
            redirect_uri: String::new(),
            nonce: None,
            pkce: None,
            iat: 0,
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
    let mut grant = grant;
    grant.iat = now_secs();
    // APIM is its portals' key manager: REST API scopes (`apim:*`) are issued only to the roles
    // `RESTAPIScopes` maps them to; a token left without scopes gets `default`.
    if inner.kind == ServerKind::Apim && grant_type != "refresh_token" {
        let roles = core
            .tenant(&grant.tenant)
            .filter(|t| t.users.contains_key(&grant.user))
            .map(|t| t.roles_of(&grant.user))
            .or_else(|| grant.roles.clone())
            .unwrap_or_default();
        grant.scope = crate::portal::granted_scopes(inner.profile.apim, &grant.scope, &roles);
    }
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

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
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
pub(crate) fn sp_of<'a>(t: &'a TenantState, client_id: &str) -> Option<&'a Element> {
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
