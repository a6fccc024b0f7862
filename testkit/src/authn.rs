//! The authentication framework's federated step, as APIM runs it for a portal service provider
//! switched to federated authentication: the OIDC outbound authenticator
//! (identity-outbound-auth-oidc `OpenIDConnectAuthenticator`) and just-in-time provisioning
//! (`DefaultProvisioningHandler`). Facts: WSO2-VERSIONS.md §3.5–§3.7, WSO2-PITFALLS.md #16,
//! #23–#27, `contracts/README.md` (IdP properties, role mappings, the token-endpoint error).
//!
//! * [`start`]: the browser goes to the IdP's `OAuth2AuthzEPUrl` with `ClientId`, `callbackUrl`
//!   (default: this server's `/commonauth`), the scope the release sends (`Scopes` from APIM 4.3,
//!   else `commonAuthQueryParams`' `scope=`, else `openid`; the other query parameters appended)
//!   and `state={sessionDataKey},OIDC`.
//! * [`finish`]: the code is exchanged at `OAuth2TokenEPUrl` server to server (`IsBasicAuthEnabled`
//!   → Basic header only, else `client_id`/`client_secret` in the body); the id_token's claims
//!   are read (on APIM 4.3/4.4 an array arrives as one string `"[a, b]"`, api-manager #3015),
//!   then `UserInfoUrl`'s, which overwrite same-named ones; the role claim (`roleClaimURI`, else
//!   the remote claim mapped to `http://wso2.org/claims/role`, else with no claim mappings at all
//!   `groups`, which APIM's OIDC dialect maps to the role claim: inferred, not confirmed) is
//!   mapped through the IdP's role mappings (unmapped remote roles kept when a local role of that
//!   name exists); then JIT provisions the user into `provisioningUserStore` and replaces its
//!   roles with the mapped ones that exist (api-manager #4005), or fails with "10005" without a
//!   store (WSO2-PITFALLS.md #26).

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use serde_json::Value;

use crate::oidc::{RETRY_MESSAGE, Who, enc, get};
use crate::server::{Inner, ServerKind, lock};
use crate::state::{UserRecord, now_rfc3339, sha256_hex};
use crate::version::ApimVersion;
use crate::xml::Element;

/// Why a federated login failed: what the browser is shown on the retry page, and what the
/// server logs.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub(crate) status: String,
    pub(crate) message: String,
    pub(crate) note: String,
}

impl Failure {
    fn new(note: impl Into<String>) -> Self {
        Self {
            status: "Authentication Error".into(),
            message: RETRY_MESSAGE.into(),
            note: note.into(),
        }
    }
}

/// The federated identity provider of a service provider whose authentication is federated
/// (`authenticationType` `federated`, or `flow` whose first step has exactly one federated IdP
/// and no local authenticator).
pub(crate) fn federated_idp(sp: &Element) -> Option<String> {
    let cfg = sp.child("localAndOutBoundAuthenticationConfig")?;
    let ty = cfg.text_of("authenticationType").unwrap_or("default");
    if ty != "federated" && ty != "flow" {
        return None;
    }
    let step = cfg.children_named("authenticationSteps").min_by_key(|s| {
        s.text_of("stepOrder")
            .and_then(|o| o.parse::<u32>().ok())
            .unwrap_or(1)
    })?;
    let idps: Vec<&Element> = step.children_named("federatedIdentityProviders").collect();
    if idps.len() != 1
        || step
            .children_named("localAuthenticatorConfigs")
            .next()
            .is_some()
    {
        return None;
    }
    idps[0].text_of("identityProviderName").map(str::to_owned)
}

/// The OIDC authenticator of an IdP: whether it is enabled, and its properties.
pub(crate) fn oidc_authenticator(idp: &Element) -> Option<(bool, BTreeMap<String, String>)> {
    let auth = idp
        .children_named("federatedAuthenticatorConfigs")
        .find(|a| a.text_of("name") == Some("OpenIDConnectAuthenticator"))?;
    Some((
        auth.text_of("enabled") != Some("false"),
        auth.children_named("properties")
            .filter_map(|p| {
                Some((
                    p.text_of("name")?.to_owned(),
                    p.text_of("value").unwrap_or("").to_owned(),
                ))
            })
            .collect(),
    ))
}

/// The scope the authenticator asks the IdP for (WSO2-VERSIONS.md §3.5): `Scopes` where the
/// release reads it, else the `scope=` of `commonAuthQueryParams`, else `openid`.
pub(crate) fn requested_scope(scopes_property: bool, props: &BTreeMap<String, String>) -> String {
    if scopes_property && let Some(s) = props.get("Scopes").filter(|s| !s.trim().is_empty()) {
        return s.trim().to_owned();
    }
    props
        .get("commonAuthQueryParams")
        .and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "scope")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_else(|| "openid".to_owned())
}

/// Whether this server's OIDC authenticator reads the `Scopes` property.
fn reads_scopes(inner: &Inner) -> bool {
    match inner.kind {
        ServerKind::Apim => inner.profile.apim.idp_scopes_property(),
        ServerKind::Is => true,
    }
}

fn idp_of(inner: &Inner, tenant: &str, name: &str) -> Result<Element, Failure> {
    let idp = lock(&inner.core)
        .tenant(tenant)
        .and_then(|t| t.identity_providers.get(name).cloned())
        .ok_or_else(|| Failure::new(format!("Identity provider {name} not found")))?;
    if idp.text_of("enable") == Some("false") {
        return Err(Failure::new(format!(
            "Identity provider {name} is disabled"
        )));
    }
    Ok(idp)
}

fn properties(idp: &Element, name: &str) -> Result<BTreeMap<String, String>, Failure> {
    match oidc_authenticator(idp) {
        Some((true, props)) => Ok(props),
        Some((false, _)) => Err(Failure::new(format!(
            "The OpenIDConnectAuthenticator of identity provider {name} is disabled"
        ))),
        None => Err(Failure::new(format!(
            "Identity provider {name} has no OpenIDConnectAuthenticator"
        ))),
    }
}

/// Where the browser goes for a login through `idp`: its authorize endpoint with the
/// authenticator's parameters, `state` carrying the session data key.
pub(crate) fn start(
    inner: &Inner,
    tenant: &str,
    idp_name: &str,
    key: &str,
) -> Result<String, Failure> {
    let idp = idp_of(inner, tenant, idp_name)?;
    let props = properties(&idp, idp_name)?;
    let authz = props
        .get("OAuth2AuthzEPUrl")
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| {
            Failure::new(format!(
                "OpenIDConnectAuthenticator of {idp_name}: no authorization endpoint (OAuth2AuthzEPUrl)"
            ))
        })?;
    let callback = props
        .get("callbackUrl")
        .filter(|u| !u.is_empty())
        .cloned()
        .unwrap_or_else(|| format!("{}/commonauth", inner.base_url()));
    let scope = requested_scope(reads_scopes(inner), &props);
    let mut url = format!(
        "{authz}{}response_type=code&client_id={}&redirect_uri={}&scope={}&state={}",
        if authz.contains('?') { '&' } else { '?' },
        enc(props.get("ClientId").map(String::as_str).unwrap_or("")),
        enc(&callback),
        enc(&scope),
        enc(&format!("{key},OIDC"))
    );
    if let Some(q) = props.get("commonAuthQueryParams").filter(|q| !q.is_empty()) {
        let rest: Vec<(String, String)> = url::form_urlencoded::parse(q.as_bytes())
            .filter(|(k, _)| k != "scope")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if !rest.is_empty() {
            url.push('&');
            url.push_str(
                &url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(rest)
                    .finish(),
            );
        }
    }
    Ok(url)
}

/// The payload of a JWT (signature not checked: the authenticator of these releases does not).
fn jwt_claims(token: &str) -> Option<serde_json::Map<String, Value>> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A claim's values as the framework sees them.
fn values(v: &Value, bracketed: bool) -> Vec<String> {
    match v {
        Value::Array(a) if bracketed => vec![format!(
            "[{}]",
            a.iter().map(plain).collect::<Vec<_>>().join(", ")
        )],
        Value::Array(a) => a.iter().map(plain).collect(),
        other => plain(other).split(",,,").map(str::to_owned).collect(),
    }
}

/// Claims that describe the token, not the user.
const NON_USER: &[&str] = &[
    "iss",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "nonce",
    "azp",
    "at_hash",
    "c_hash",
    "auth_time",
    "amr",
    "acr",
    "sid",
    "isk",
];

/// The claim that carries roles.
fn role_claim(idp: &Element) -> Option<String> {
    let cfg = idp.child("claimConfig");
    if let Some(r) = cfg
        .and_then(|c| c.text_of("roleClaimURI"))
        .filter(|r| !r.trim().is_empty())
    {
        return Some(r.trim().to_owned());
    }
    let mappings: Vec<&Element> = cfg
        .map(|c| c.children_named("claimMappings").collect())
        .unwrap_or_default();
    if mappings.is_empty() {
        return Some("groups".into());
    }
    mappings
        .iter()
        .find(|m| m.text_at("localClaim/claimUri") == Some("http://wso2.org/claims/role"))
        .and_then(|m| m.text_at("remoteClaim/claimUri"))
        .map(str::to_owned)
}

/// The local roles the remote roles map to.
fn mapped_roles(idp: &Element, remote: &[String], t: &crate::state::TenantState) -> Vec<String> {
    let mappings: Vec<(String, String)> = idp
        .child("permissionAndRoleConfig")
        .map(|c| {
            c.children_named("roleMappings")
                .filter_map(|m| {
                    let lr = m.child("localRole")?;
                    let name = lr.text_of("localRoleName")?;
                    let store = lr.text_of("userStoreId").unwrap_or("");
                    let local = if name.contains('/')
                        || store.is_empty()
                        || store.eq_ignore_ascii_case("PRIMARY")
                    {
                        name.to_owned()
                    } else {
                        format!("{store}/{name}")
                    };
                    Some((
                        m.text_of("remoteRole")?.to_owned(),
                        crate::services::canonical_role(t, &local),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut out: Vec<String> = Vec::new();
    for r in remote {
        let mapped: Vec<&String> = mappings
            .iter()
            .filter(|(remote, _)| remote == r)
            .map(|(_, l)| l)
            .collect();
        if mapped.is_empty() {
            if t.roles.contains_key(r) {
                out.push(r.clone());
            }
        } else {
            out.extend(mapped.into_iter().cloned());
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The IdP's callback reached `/commonauth`: exchange the code, read the claims, map the roles,
/// provision. `seq` is the `/commonauth` request (its log gets the authenticator's error).
pub(crate) async fn finish(
    inner: &Arc<Inner>,
    tenant: &str,
    idp_name: &str,
    params: &[(String, String)],
    _seq: u64,
) -> Result<Who, Failure> {
    if let Some(e) = get(params, "error") {
        return Err(Failure::new(format!(
            "OpenIDConnectAuthenticator: {e}, {}",
            get(params, "error_description").unwrap_or("")
        )));
    }
    let code = get(params, "code").unwrap_or("").to_owned();
    let idp = idp_of(inner, tenant, idp_name)?;
    let props = properties(&idp, idp_name)?;
    let prop = |k: &str| props.get(k).map(String::as_str).unwrap_or("");
    let token_url = prop("OAuth2TokenEPUrl");
    if token_url.trim().is_empty() {
        return Err(Failure::new(format!(
            "OpenIDConnectAuthenticator of {idp_name}: no token endpoint (OAuth2TokenEPUrl)"
        )));
    }
    let callback = match prop("callbackUrl") {
        "" => format!("{}/commonauth", inner.base_url()),
        c => c.to_owned(),
    };
    let (client_id, secret) = (prop("ClientId"), prop("ClientSecret"));
    let basic = prop("IsBasicAuthEnabled") == "true";
    let mut pairs = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", callback.as_str()),
    ];
    let mut headers = vec![(
        "Content-Type",
        "application/x-www-form-urlencoded".to_owned(),
    )];
    if basic {
        headers.push((
            "Authorization",
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{secret}"))
            ),
        ));
    } else {
        pairs.push(("client_id", client_id));
        pairs.push(("client_secret", secret));
    }
    let form = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let answer = inner
        .outbound(
            http::Method::POST,
            token_url,
            &headers,
            form.into_bytes(),
            None,
        )
        .await
        .map_err(|e| {
            Failure::new(format!(
                "OpenIDConnectAuthenticator: token request to {token_url} failed: {}",
                e.0
            ))
        })?;
    let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    if answer.status != 200 || body.get("error").is_some() {
        let e = body.get("error").map(plain).unwrap_or_default();
        let d = body.get("error_description").map(plain).unwrap_or_default();
        return Err(Failure::new(if e.is_empty() {
            format!(
                "OpenIDConnectAuthenticator: HTTP {} from the token endpoint {token_url}",
                answer.status
            )
        } else {
            format!("OpenIDConnectAuthenticator: {e}, {d}")
        }));
    }
    let access = body.get("access_token").map(plain).unwrap_or_default();
    let Some(id_claims) = body
        .get("id_token")
        .and_then(Value::as_str)
        .and_then(jwt_claims)
    else {
        return Err(Failure::new(format!(
            "OpenIDConnectAuthenticator: Id token is required and is missing in OIDC response from token endpoint: {token_url} for clientId: {client_id}"
        )));
    };
    let bracketed = inner.kind == ServerKind::Apim
        && matches!(inner.profile.apim, ApimVersion::V4_3 | ApimVersion::V4_4);
    let mut claims: BTreeMap<String, Vec<String>> = id_claims
        .iter()
        .filter(|(k, _)| !NON_USER.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), values(v, bracketed)))
        .collect();
    let userinfo_url = prop("UserInfoUrl");
    if !userinfo_url.trim().is_empty() {
        let ui = inner
            .outbound(
                http::Method::GET,
                userinfo_url,
                &[("Authorization", format!("Bearer {access}"))],
                Vec::new(),
                None,
            )
            .await;
        if let Ok(r) = ui
            && r.status == 200
            && let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(&r.body)
        {
            for (k, v) in m {
                if !NON_USER.contains(&k.as_str()) {
                    claims.insert(k, values(&v, false));
                }
            }
        }
    }
    let subject = if prop("IsUserIdInClaims") == "true" {
        idp.child("claimConfig")
            .and_then(|c| c.text_of("userClaimURI"))
            .and_then(|u| claims.get(u))
            .and_then(|v| v.first().cloned())
    } else {
        None
    }
    .or_else(|| id_claims.get("sub").map(plain))
    .unwrap_or_default();
    let remote_roles: Vec<String> = role_claim(&idp)
        .and_then(|c| claims.get(&c).cloned())
        .unwrap_or_default()
        .into_iter()
        .filter(|r| !r.is_empty())
        .collect();
    let mapped = {
        let core = lock(&inner.core);
        core.tenant(tenant)
            .map(|t| mapped_roles(&idp, &remote_roles, t))
            .unwrap_or_default()
    };
    let jit = idp.child("justInTimeProvisioningConfig");
    if jit.and_then(|j| j.text_of("provisioningEnabled")) != Some("true") {
        return Ok(Who {
            tenant: tenant.to_owned(),
            user: subject,
            roles: Some(mapped),
        });
    }
    let store = jit
        .and_then(|j| j.text_of("provisioningUserStore"))
        .unwrap_or("")
        .trim()
        .to_owned();
    provision(inner, tenant, &subject, &store, &mapped, &remote_roles)
}

/// JIT provisioning (the internal step `apim.jit`).
fn provision(
    inner: &Inner,
    tenant: &str,
    user: &str,
    store: &str,
    roles: &[String],
    remote: &[String],
) -> Result<Who, Failure> {
    let (step, fault) = inner.step("apim.jit", "/commonauth", inner.kind.as_str());
    if let Some(f) = fault {
        let note = format!("JIT provisioning of {user} failed: {f:?} (injected)");
        inner.step_done(step, false, false, Some(note.clone()));
        return Err(Failure::new(note));
    }
    if !store.is_empty() && !store.eq_ignore_ascii_case("PRIMARY") {
        let note = format!(
            "Error while provisioning user {user}: user store domain {store} does not exist"
        );
        inner.step_done(step, false, false, Some(note.clone()));
        return Err(Failure::new(note));
    }
    let mut core = lock(&inner.core);
    let id = core.uuid();
    let password = core.random_hex(16);
    let now = now_rfc3339();
    let t = core.tenant_mut(tenant);
    let mut changed = false;
    if !t.users.contains_key(user) {
        t.users.insert(
            user.to_owned(),
            UserRecord {
                password_sha256: sha256_hex(&password),
                claims: BTreeMap::new(),
                scim_id: id,
                scim: None,
                created: now.clone(),
                modified: now.clone(),
            },
        );
        changed = true;
    }
    if store.is_empty() {
        drop(core);
        let message = "10005 - The provided user identifier is invalid";
        inner.step_done(
            step,
            false,
            changed,
            Some(format!(
                "PostAuthenticationFailedException: {message} (no provisioning user store; user {user} created, not associated)"
            )),
        );
        return Err(Failure {
            status: "Authentication Error".into(),
            message: message.into(),
            note: format!("JIT provisioning of {user}: {message}"),
        });
    }
    // The roles are replaced by the mapped ones that exist (Internal/everyone stays implicit).
    for (name, role) in t.roles.iter_mut() {
        if name == "Internal/everyone" {
            continue;
        }
        let want = roles.contains(name);
        let has = role.users.contains(user);
        if want && !has {
            role.users.insert(user.to_owned());
            role.modified = now.clone();
            changed = true;
        } else if !want && has {
            role.users.remove(user);
            role.modified = now.clone();
            changed = true;
        }
    }
    let held: Vec<String> = roles
        .iter()
        .filter(|r| t.roles.contains_key(*r))
        .cloned()
        .collect();
    drop(core);
    inner.step_done(
        step,
        true,
        changed,
        Some(format!(
            "provisioned {user} into PRIMARY with roles {held:?} (remote roles {remote:?})"
        )),
    );
    Ok(Who {
        tenant: tenant.to_owned(),
        user: user.to_owned(),
        roles: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_claims_on_4_3_arrive_as_one_string() {
        let v = serde_json::json!(["publisher_group", "user_group"]);
        assert_eq!(values(&v, true), ["[publisher_group, user_group]"]);
        assert_eq!(values(&v, false), ["publisher_group", "user_group"]);
        assert_eq!(values(&serde_json::json!("a,,,b"), false), ["a", "b"]);
    }

    #[test]
    fn scope_per_release() {
        let mut p = BTreeMap::new();
        p.insert("Scopes".to_owned(), "openid groups".to_owned());
        assert_eq!(requested_scope(true, &p), "openid groups");
        assert_eq!(requested_scope(false, &p), "openid");
        p.insert(
            "commonAuthQueryParams".to_owned(),
            "scope=openid%20roles&prompt=login".to_owned(),
        );
        assert_eq!(requested_scope(false, &p), "openid roles");
    }
}
