//! The admin services' server-side rules, on element trees.
//!
//! Messages and rules follow IS 5.9.0 / APIM 3.0.0 (carbon-identity-framework 5.14.97,
//! identity-inbound-auth-oauth 6.2.28, identity-user-ws 5.3.3, carbon-kernel 4.5.1) as traced in the
//! project's research notes.

use std::collections::BTreeSet;

use crate::schema::{self, NS_AXIS2, NS_MODEL, NS_OAUTH_DTO, OpDef, model};
use crate::server::{Inner, Principal, SimResponse, lock};
use crate::soap::{self, Answer, ServiceFault};
use crate::state::{RoleRecord, TenantState, UserRecord, now_rfc3339, sha256_hex};
use crate::xml::Element;

/// Dispatches one validated operation.
pub(crate) fn call(inner: &Inner, who: Option<&Principal>, op: &OpDef, w: &Element) -> Answer {
    let tenant = who
        .map(|p| p.tenant.clone())
        .unwrap_or_else(|| crate::state::SUPER_TENANT.into());
    match (op.service, op.name) {
        ("AuthenticationAdmin", "login") => login(inner, w),
        ("AuthenticationAdmin", "logout") => Answer::Accepted,
        ("IdentityApplicationManagementService", name) => app_op(inner, who, &tenant, name, w),
        ("OAuthAdminService", name) => oauth_op(inner, who, &tenant, name, w),
        ("IdentityProviderMgtService", name) => idp_op(inner, &tenant, name, w),
        ("RemoteUserStoreManagerService", name) => user_op(inner, &tenant, name, w),
        _ => ServiceFault::plain(format!(
            "Exception occurred while trying to invoke service method {}",
            op.name
        )),
    }
}

/// `AuthenticationAdmin.login`: `false` (no fault) for a wrong password, an unknown user or a user
/// without the `/permission/admin/login` permission; a session cookie otherwise.
fn login(inner: &Inner, w: &Element) -> Answer {
    let user = soap::param(w, "username").unwrap_or("");
    let pass = soap::param(w, "password").unwrap_or("");
    if let Some(addr) = soap::param(w, "remoteAddress").filter(|a| !a.is_empty()) {
        let ok = addr
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".:-[]%".contains(c));
        if !ok {
            return ServiceFault::bean(format!(
                "Authentication Failed : Invalid remote address passed - {addr}"
            ));
        }
    }
    if user.is_empty() || pass.is_empty() {
        return Answer::Simple("false".into());
    }
    let Some(p) = inner.check_password(user, pass) else {
        return Answer::Simple("false".into());
    };
    let may_login = {
        let core = lock(&inner.core);
        core.tenant(&p.tenant).is_some_and(|t| {
            t.roles.values().any(|r| {
                r.users.contains(&p.user)
                    && r.permissions.iter().any(|perm| {
                        "/permission/admin/login".starts_with(perm.as_str())
                            && (perm.len() == "/permission/admin/login".len()
                                || "/permission/admin/login".as_bytes().get(perm.len())
                                    == Some(&b'/'))
                    })
            })
        })
    };
    if !may_login {
        return Answer::Simple("false".into());
    }
    let sid = soap::new_session(inner, p);
    let body = "<?xml version='1.0' encoding='UTF-8'?><soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body><ns:loginResponse xmlns:ns=\"http://authentication.services.core.carbon.wso2.org\"><ns:return>true</ns:return></ns:loginResponse></soapenv:Body></soapenv:Envelope>";
    Answer::Raw(
        SimResponse::new(200, "text/xml; charset=UTF-8", body).header(
            "Set-Cookie",
            format!("JSESSIONID={sid}; Path=/; Secure; HttpOnly"),
        ),
    )
}

// ---------------------------------------------------------------- service providers

const APP_NAME_REGEX: &str = "^[a-zA-Z0-9 ._-]*$";

fn app_role(name: &str) -> String {
    format!("Application/{name}")
}

fn has_role(t: &TenantState, user: &str, role: &str) -> bool {
    t.roles.get(role).is_some_and(|r| r.users.contains(user))
}

fn new_role(users: impl IntoIterator<Item = String>, scim_id: String) -> RoleRecord {
    let now = now_rfc3339();
    RoleRecord {
        audience: None,
        groups: Default::default(),
        users: users.into_iter().collect(),
        permissions: Vec::new(),
        scim_id,
        created: now.clone(),
        modified: now,
    }
}

/// A service provider as IS 5.9 stores it right after `createApplication`: name, description,
/// owner and defaults; everything else in the request is ignored.
pub(crate) fn fresh_sp(
    id: u64,
    name: &str,
    description: Option<&str>,
    owner: &str,
    tenant: &str,
) -> Element {
    let m = NS_MODEL;
    let mut sp = Element::new(NS_AXIS2, "serviceProvider")
        .with(Element::leaf(m, "applicationID", id.to_string()))
        .with(Element::leaf(m, "applicationName", name))
        .with(
            Element::new(m, "claimConfig")
                .with_leaf("alwaysSendMappedLocalSubjectId", "false")
                .with_leaf("localClaimDialect", "true"),
        );
    if let Some(d) = description {
        sp.children.push(Element::leaf(m, "description", d));
    }
    sp.children
        .push(Element::new(m, "inboundAuthenticationConfig"));
    sp.children.push(
        Element::new(m, "inboundProvisioningConfig")
            .with_leaf("dumbMode", "false")
            .with_leaf("provisioningEnabled", "false")
            .with_leaf("provisioningUserStore", "PRIMARY"),
    );
    sp.children.push(
        Element::new(m, "localAndOutBoundAuthenticationConfig")
            .with_leaf("alwaysSendBackAuthenticatedListOfIdPs", "false")
            .with_leaf("authenticationType", "default")
            .with_leaf("enableAuthorization", "false")
            .with_leaf("useTenantDomainInLocalSubjectIdentifier", "false")
            .with_leaf("useUserstoreDomainInLocalSubjectIdentifier", "false")
            .with_leaf("useUserstoreDomainInRoles", "true"),
    );
    sp.children
        .push(Element::new(m, "outboundProvisioningConfig"));
    sp.children.push(
        Element::new(m, "owner")
            .with_leaf("tenantDomain", tenant)
            .with_leaf("userName", owner)
            .with_leaf("userStoreDomain", "PRIMARY"),
    );
    sp.children.push(Element::new(m, "permissionAndRoleConfig"));
    sp.children.push(Element::leaf(m, "saasApp", "false"));
    sp
}

fn app_op(inner: &Inner, who: Option<&Principal>, tenant: &str, op: &str, w: &Element) -> Answer {
    let user = soap::owner_name(who);
    let mut core = lock(&inner.core);
    match op {
        "createApplication" => {
            let Some(sp) = w.child("serviceProvider").filter(|s| !s.nil) else {
                return ServiceFault::bean("Application Name is required");
            };
            let name = sp.text_of("applicationName").unwrap_or("").to_owned();
            if name.trim().is_empty() {
                return ServiceFault::bean("Application Name is required");
            }
            if core
                .tenant(tenant)
                .is_some_and(|t| t.applications.contains_key(&name))
            {
                return ServiceFault::plain(format!(
                    "Application registration failed. An application with name '{name}' already exists."
                ));
            }
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || " ._-".contains(c))
            {
                return ServiceFault::bean(format!(
                    "The Application name {name} is not valid! It is not adhering to the regex {APP_NAME_REGEX}"
                ));
            }
            let id = core.next_app_id;
            core.next_app_id += 1;
            let desc = sp.text_of("description").map(str::to_owned);
            let stored = fresh_sp(id, &name, desc.as_deref(), &user, tenant);
            let scim_id = core.uuid();
            let t = core.tenant_mut(tenant);
            t.applications.insert(name.clone(), stored);
            t.roles
                .entry(app_role(&name))
                .or_insert_with(|| new_role([user.clone()], scim_id));
            Answer::Nil
        }
        "getApplication" => {
            let name = soap::param(w, "applicationName").unwrap_or("").to_owned();
            let Some(t) = core.tenant(tenant) else {
                return ServiceFault::bean("User not authorized");
            };
            if !has_role(t, &user, &app_role(&name)) {
                return ServiceFault::bean("User not authorized");
            }
            match t.applications.get(&name) {
                Some(sp) => {
                    let mut sp = with_client_secrets(t, sp);
                    consent_from_properties(inner, &mut sp);
                    Answer::Values(vec![sp])
                }
                None => Answer::Nil,
            }
        }
        "getAllApplicationBasicInfo" => {
            let Some(t) = core.tenant(tenant) else {
                return Answer::Values(Vec::new());
            };
            let mut apps: Vec<&Element> = t
                .applications
                .iter()
                .filter(|(n, _)| has_role(t, &user, &app_role(n)))
                .map(|(_, sp)| sp)
                .collect();
            apps.sort_by_key(|sp| {
                sp.text_of("applicationID")
                    .and_then(|i| i.parse::<u64>().ok())
                    .unwrap_or(0)
            });
            Answer::Values(
                apps.into_iter()
                    .map(|sp| {
                        let mut b = Element::new(NS_AXIS2, "return").with(Element::leaf(
                            NS_MODEL,
                            "applicationId",
                            sp.text_of("applicationID").unwrap_or("0"),
                        ));
                        b.children.push(Element::leaf(
                            NS_MODEL,
                            "applicationName",
                            sp.text_of("applicationName").unwrap_or(""),
                        ));
                        if let Some(d) = sp.text_of("description") {
                            b.children.push(Element::leaf(NS_MODEL, "description", d));
                        }
                        b
                    })
                    .collect(),
            )
        }
        "deleteApplication" => {
            let name = soap::param(w, "applicationName").unwrap_or("").to_owned();
            let t = core.tenant_mut(tenant);
            if !has_role(t, &user, &app_role(&name)) {
                return ServiceFault::bean("User not authorized");
            }
            if let Some(sp) = t.applications.remove(&name) {
                for key in oauth_keys(&sp) {
                    t.oauth_apps.remove(&key);
                }
            }
            t.roles.remove(&app_role(&name));
            Answer::Nil
        }
        "updateApplication" => {
            let Some(sp) = w.child("serviceProvider").filter(|s| !s.nil) else {
                return ServiceFault::plain(
                    "Exception occurred while trying to invoke service method updateApplication",
                );
            };
            let mut sp = sp.clone();
            let name = sp.text_of("applicationName").unwrap_or("").to_owned();
            let id = sp.text_of("applicationID").unwrap_or("0").trim().to_owned();
            let t = core.tenant_mut(tenant);
            let stored_name = t
                .applications
                .iter()
                .find(|(_, a)| a.text_of("applicationID") == Some(id.as_str()))
                .map(|(n, _)| n.clone());
            let authorized = has_role(t, &user, &app_role(&name))
                || stored_name
                    .as_ref()
                    .is_some_and(|n| has_role(t, &user, &app_role(n)));
            if !authorized {
                return ServiceFault::bean("User not authorized");
            }
            let Some(stored_name) = stored_name else {
                return ServiceFault::plain(
                    "Exception occurred while trying to invoke service method updateApplication",
                );
            };
            if let Err(a) = validate_sp(t, &sp) {
                return a;
            }
            if let Err(msg) = federated_rule(&sp) {
                return ServiceFault::bean(format!(
                    "Error occurred while updating the application: {name}. {msg}"
                ));
            }
            if name != stored_name && t.applications.contains_key(&name) {
                return ServiceFault::bean(format!(
                    "Error occurred while updating the application: {name}. Application registration failed. An application with name '{name}' already exists."
                ));
            }
            remove_client_secrets(&mut sp);
            let Some(old) = t.applications.remove(&stored_name) else {
                return Answer::Nil;
            };
            // The owner is kept from the stored row.
            sp.remove_all("owner");
            if let Some(o) = old.child("owner") {
                sp.children.push(o.clone());
            }
            sp.ns = NS_AXIS2.into();
            sp.name = "serviceProvider".into();
            consent_as_properties(inner, &mut sp);
            schema::normalize(&mut sp, model("ServiceProvider"));
            if name != stored_name
                && let Some(r) = t.roles.remove(&app_role(&stored_name))
            {
                t.roles.insert(app_role(&name), r);
            }
            // Post-update listener: the OAuth app takes the SP's name.
            for key in oauth_keys(&sp) {
                if let Some(app) = t.oauth_apps.get_mut(&key) {
                    app.set_text("applicationName", name.clone());
                    schema::normalize(app, (NS_OAUTH_DTO, "OAuthConsumerAppDTO"));
                }
            }
            t.applications.insert(name, sp);
            Answer::Nil
        }
        _ => ServiceFault::plain(format!(
            "Exception occurred while trying to invoke service method {op}"
        )),
    }
}

/// The `inboundAuthKey`s of the SP's `oauth2` inbound configs.
/// Framework 5.17 and later (IS 5.10+, APIM 3.1+) keep the consent switches of
/// `localAndOutBoundAuthenticationConfig` as service provider properties of the same names,
/// rebuilt from the fields at every update (`ApplicationDAOImpl
/// .updateConfigurationsAsServiceProperties`): a property sent without its field is replaced by
/// the field's value (absent: `false`).
pub(crate) fn consent_as_properties(inner: &Inner, sp: &mut Element) {
    let table = schema::table_for(inner.kind, &inner.profile);
    let Some(def) = table.type_def(model("LocalAndOutboundAuthenticationConfig")) else {
        return;
    };
    for field in ["skipConsent", "skipLogoutConsent"] {
        if !def.fields.iter().any(|f| f.name == field) {
            continue;
        }
        let value = sp
            .child("localAndOutBoundAuthenticationConfig")
            .and_then(|a| a.text_of(field))
            .map_or(
                "false",
                |v| if v.trim() == "true" { "true" } else { "false" },
            )
            .to_owned();
        sp.children
            .retain(|c| !(c.name == "spProperties" && c.text_of("name") == Some(field)));
        let display = if field == "skipConsent" {
            "Skip Consent"
        } else {
            "Skip Logout Consent"
        };
        let mut prop = Element::new(NS_MODEL, "spProperties");
        for (k, v) in [
            ("displayName", display),
            ("name", field),
            ("value", value.as_str()),
        ] {
            prop.children.push(Element::leaf(NS_MODEL, k, v));
        }
        sp.children.push(prop);
    }
}

/// The read side of [`consent_as_properties`]: framework 5.17+ loads the consent fields of
/// `localAndOutBoundAuthenticationConfig` from the service provider's properties of the same
/// names (so a service provider read and written back keeps its consent settings).
fn consent_from_properties(inner: &Inner, sp: &mut Element) {
    let table = schema::table_for(inner.kind, &inner.profile);
    let Some(def) = table.type_def(model("LocalAndOutboundAuthenticationConfig")) else {
        return;
    };
    for field in ["skipConsent", "skipLogoutConsent"] {
        if !def.fields.iter().any(|f| f.name == field) {
            continue;
        }
        let value = sp
            .children
            .iter()
            .find(|c| c.name == "spProperties" && c.text_of("name") == Some(field))
            .and_then(|p| p.text_of("value"))
            .map_or(
                "false",
                |v| if v.trim() == "true" { "true" } else { "false" },
            )
            .to_owned();
        if sp.child("localAndOutBoundAuthenticationConfig").is_none() {
            sp.children.push(Element::new(
                NS_MODEL,
                "localAndOutBoundAuthenticationConfig",
            ));
        }
        if let Some(auth) = sp.child_mut("localAndOutBoundAuthenticationConfig") {
            auth.set_text(field, value);
        }
    }
    schema::normalize(sp, model("ServiceProvider"));
}

pub(crate) fn oauth_keys(sp: &Element) -> Vec<String> {
    sp.at("inboundAuthenticationConfig")
        .map(|c| {
            c.children_named("inboundAuthenticationRequestConfigs")
                .filter(|r| r.text_of("inboundAuthType") == Some("oauth2"))
                .filter_map(|r| r.text_of("inboundAuthKey").map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn remove_client_secrets(sp: &mut Element) {
    if let Some(c) = sp.child_mut("inboundAuthenticationConfig") {
        for r in c.children.iter_mut() {
            r.children.retain(|p| {
                !(p.name == "properties" && p.text_of("name") == Some("oauthConsumerSecret"))
            });
        }
    }
}

/// getApplication's post-listener: appends `oauthConsumerSecret` to every oauth2 inbound config.
fn with_client_secrets(t: &TenantState, sp: &Element) -> Element {
    let mut sp = sp.clone();
    if let Some(c) = sp.child_mut("inboundAuthenticationConfig") {
        for r in c.children.iter_mut() {
            if r.text_of("inboundAuthType") != Some("oauth2") {
                continue;
            }
            let Some(key) = r.text_of("inboundAuthKey") else {
                continue;
            };
            let Some(secret) = t
                .oauth_apps
                .get(key)
                .and_then(|a| a.text_of("oauthConsumerSecret"))
            else {
                continue;
            };
            let prop = Element::new(NS_MODEL, "properties")
                .with_leaf("name", "oauthConsumerSecret")
                .with_leaf("value", secret);
            r.children.push(prop);
            schema::normalize(r, model("InboundAuthenticationRequestConfig"));
        }
    }
    sp
}

const LOCAL_AUTHENTICATORS: &[&str] = &[
    "BasicAuthenticator",
    "IdentifierExecutor",
    "FIDOAuthenticator",
    "totp",
    "EmailOTP",
    "SMSOTP",
    "IWAKerberosAuthenticator",
    "x509CertificateAuthenticator",
    "SessionExecutor",
    "BasicAuthRequestPathAuthenticator",
    "OAuthRequestPathAuthenticator",
];

/// ApplicationMgtValidator: every problem is reported only as "Validation Error".
fn validate_sp(t: &TenantState, sp: &Element) -> Result<(), Answer> {
    let bad = || ServiceFault::plain("Validation Error");
    if let Some(cfg) = sp.child("localAndOutBoundAuthenticationConfig") {
        for step in cfg.children_named("authenticationSteps") {
            for idp in step.children_named("federatedIdentityProviders") {
                let name = idp.text_of("identityProviderName").unwrap_or("");
                if name == "wso2carbon-local-idp" {
                    continue;
                }
                let Some(stored) = t.identity_providers.get(name) else {
                    return Err(bad());
                };
                let known: BTreeSet<&str> = stored
                    .children_named("federatedAuthenticatorConfigs")
                    .filter_map(|a| a.text_of("name"))
                    .collect();
                for a in idp.children_named("federatedAuthenticatorConfigs") {
                    if let Some(n) = a.text_of("name")
                        && !known.contains(n)
                    {
                        return Err(bad());
                    }
                }
            }
            for local in step.children_named("localAuthenticatorConfigs") {
                let n = local.text_of("name").unwrap_or("");
                if !LOCAL_AUTHENTICATORS.contains(&n) {
                    return Err(bad());
                }
            }
        }
    }
    if let Some(claims) = sp.child("claimConfig") {
        for m in claims.children_named("claimMappings") {
            if let Some(uri) = m.text_at("localClaim/claimUri")
                && !uri.starts_with("http://wso2.org/claims/")
            {
                return Err(bad());
            }
        }
    }
    if let Some(perm) = sp.child("permissionAndRoleConfig") {
        for m in perm.children_named("roleMappings") {
            let Some(local) = m.child("localRole") else {
                continue;
            };
            let role = role_with_domain(
                local.text_of("localRoleName").unwrap_or(""),
                local.text_of("userStoreId"),
            );
            if !t.roles.contains_key(&role) {
                return Err(bad());
            }
        }
    }
    Ok(())
}

/// The step rules of `ApplicationDAOImpl` (unwrapped message).
fn federated_rule(sp: &Element) -> Result<(), String> {
    let Some(cfg) = sp.child("localAndOutBoundAuthenticationConfig") else {
        return Ok(());
    };
    let steps: Vec<&Element> = cfg.children_named("authenticationSteps").collect();
    let kind = cfg.text_of("authenticationType").unwrap_or("default");
    for step in &steps {
        for idp in step.children_named("federatedIdentityProviders") {
            if idp.text_of("identityProviderName") == Some("wso2carbon-local-idp") {
                return Err(
                    "The federated IdP name cannot be equal to wso2carbon-local-idp".into(),
                );
            }
        }
    }
    match kind {
        "federated" => {
            let ok = steps.len() == 1
                && steps[0]
                    .children_named("federatedIdentityProviders")
                    .count()
                    == 1
                && steps[0].children_named("localAuthenticatorConfigs").count() == 0;
            if !ok {
                return Err("Invalid federated authentication configuration. For federated authentication there can only be only one authentication step and only one federated authenticator".into());
            }
        }
        "local" => {
            let ok = steps.len() == 1
                && steps[0].children_named("localAuthenticatorConfigs").count() == 1
                && steps[0]
                    .children_named("federatedIdentityProviders")
                    .count()
                    == 0;
            if !ok {
                return Err("Invalid local authentication configuration. For local authentication there can only be only one authentication step and only one local authenticator".into());
            }
        }
        _ => {
            for step in &steps {
                if step.children_named("federatedIdentityProviders").count() == 0
                    && step.children_named("localAuthenticatorConfigs").count() == 0
                {
                    return Err("Invalid authentication configuration.An authentication step should have at least one federated identity provider or a local authenticator".into());
                }
            }
        }
    }
    Ok(())
}

/// `IdentityUtil.addDomainToName`: the role name a `(localRoleName, userStoreId)` pair means.
pub(crate) fn role_with_domain(name: &str, domain: Option<&str>) -> String {
    let domain = domain.map(str::trim).unwrap_or("");
    if domain.is_empty() || name.contains('/') {
        return name.to_owned();
    }
    let upper = domain.to_ascii_uppercase();
    match upper.as_str() {
        "PRIMARY" => name.to_owned(),
        "INTERNAL" | "APPLICATION" | "WORKFLOW" => {
            let mut d = domain.to_ascii_lowercase();
            if let Some(first) = d.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            format!("{d}/{name}")
        }
        _ => format!("{upper}/{name}"),
    }
}

// ---------------------------------------------------------------- OAuth apps

const ALLOWED_GRANTS: &[&str] = &[
    "authorization_code",
    "implicit",
    "password",
    "client_credentials",
    "refresh_token",
    "urn:ietf:params:oauth:grant-type:saml2-bearer",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "iwa:ntlm",
    "urn:ietf:params:oauth:grant-type:uma-ticket",
    "account_switch",
    "urn:ietf:params:oauth:grant-type:device_code",
    "kerberos",
];

const EXPIRY_DEFAULTS: &[(&str, &str)] = &[
    ("applicationAccessTokenExpiryTime", "3600"),
    ("idTokenExpiryTime", "3600"),
    ("refreshTokenExpiryTime", "86400"),
    ("userAccessTokenExpiryTime", "3600"),
];

const OAUTH_DTO: (&str, &str) = (NS_OAUTH_DTO, "OAuthConsumerAppDTO");

pub(crate) fn random_key(core: &mut crate::server::Core) -> String {
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let hex = core.random_hex(28);
    hex.as_bytes()
        .chunks(2)
        .map(|c| {
            let v = u8::from_str_radix(std::str::from_utf8(c).unwrap_or("0"), 16).unwrap_or(0);
            ALPHA[v as usize % ALPHA.len()] as char
        })
        .collect()
}

pub(crate) fn fill_expiry_defaults(app: &mut Element) {
    for (field, default) in EXPIRY_DEFAULTS {
        let zero = app
            .text_of(field)
            .map(|v| v.trim().parse::<i64>().unwrap_or(0) == 0)
            .unwrap_or(true);
        if zero {
            app.set_text(field, *default);
        }
    }
}

fn check_grants(grants: &str, suffix: &str) -> Result<(), Answer> {
    for g in grants.split_whitespace() {
        if !ALLOWED_GRANTS.contains(&g) {
            return Err(ServiceFault::bean(format!("{g} not allowed{suffix}")));
        }
    }
    Ok(())
}

fn oauth_op(inner: &Inner, who: Option<&Principal>, tenant: &str, op: &str, w: &Element) -> Answer {
    let caller = soap::owner_name(who);
    let mut core = lock(&inner.core);
    match op {
        "registerOAuthApplicationData" | "registerAndRetrieveOAuthApplicationData" => {
            let Some(dto) = w.child("application").filter(|d| !d.nil) else {
                return ServiceFault::bean(
                    "No application details in the request. Failed to register OAuth App",
                );
            };
            let mut app = dto.clone();
            let name = app.text_of("applicationName").unwrap_or("").to_owned();
            let owner = app
                .text_of("username")
                .filter(|u| {
                    core.tenant(tenant)
                        .is_some_and(|t| t.users.contains_key(*u))
                })
                .map(str::to_owned)
                .unwrap_or_else(|| caller.clone());
            let version = app
                .text_of("OAuthVersion")
                .unwrap_or("OAuth-2.0")
                .to_owned();
            let grants = app.text_of("grantTypes").unwrap_or("").to_owned();
            let callback = app.text_of("callbackUrl").unwrap_or("").to_owned();
            let t = core.tenant(tenant);
            let dup_name = t.is_some_and(|t| {
                t.oauth_apps.values().any(|a| {
                    a.text_of("applicationName") == Some(name.as_str())
                        && a.text_of("username") == Some(owner.as_str())
                })
            });
            if dup_name {
                return ServiceFault::bean(
                    "Error when adding the application. An application with the same name already exists.",
                );
            }
            let has = |g: &str| grants.split_whitespace().any(|x| x == g);
            if (has("authorization_code") || has("implicit")) && callback.trim().is_empty() {
                return ServiceFault::bean(
                    "Callback Url is required for Code or Implicit grant types",
                );
            }
            if version == "OAuth-2.0"
                && let Err(a) = check_grants(&grants, "")
            {
                return a;
            }
            let key = app
                .text_of("oauthConsumerKey")
                .filter(|k| !k.is_empty())
                .map(str::to_owned);
            let (key, secret) = match key {
                Some(k) => {
                    let s = app
                        .text_of("oauthConsumerSecret")
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .unwrap_or_else(|| random_key(&mut core));
                    (k, s)
                }
                None => (random_key(&mut core), random_key(&mut core)),
            };
            if key_taken(&core, &key) {
                return ServiceFault::bean(format!(
                    "Error when executing SQL to create OAuth app {name}@{tenant} "
                ));
            }
            app.set_text("oauthConsumerKey", key.clone());
            app.set_text("oauthConsumerSecret", secret);
            app.set_text("OAuthVersion", version);
            app.set_text("grantTypes", grants);
            app.set_text("username", owner);
            app.set_text("state", "ACTIVE");
            fill_expiry_defaults(&mut app);
            app.ns = NS_AXIS2.into();
            app.name = "application".into();
            schema::normalize(&mut app, OAUTH_DTO);
            core.tenant_mut(tenant).oauth_apps.insert(key, app.clone());
            if op == "registerAndRetrieveOAuthApplicationData" {
                Answer::Values(vec![app])
            } else {
                Answer::Nil
            }
        }
        "getOAuthApplicationDataByAppName" => {
            let name = soap::param(w, "appName").unwrap_or("").to_owned();
            match core.tenant(tenant).and_then(|t| t.oauth_app_by_name(&name)) {
                Some((_, a)) => Answer::Values(vec![a.clone()]),
                None => ServiceFault::bean(format!(
                    "Error while retrieving the app information by app name: {name}"
                )),
            }
        }
        "getOAuthApplicationData" => {
            let key = soap::param(w, "consumerKey").unwrap_or("").to_owned();
            match core.tenant(tenant).and_then(|t| t.oauth_apps.get(&key)) {
                Some(a) => Answer::Values(vec![a.clone()]),
                None => ServiceFault::bean(format!(
                    "Error while retrieving the app information using consumerKey: {key}"
                )),
            }
        }
        "getAllOAuthApplicationData" => Answer::Values(
            core.tenant(tenant)
                .map(|t| t.oauth_apps.values().cloned().collect())
                .unwrap_or_default(),
        ),
        "removeOAuthApplicationData" => {
            let key = soap::param(w, "consumerKey").unwrap_or("").to_owned();
            core.tenant_mut(tenant).oauth_apps.remove(&key);
            Answer::Nil
        }
        "updateConsumerApplication" => {
            let Some(dto) = w.child("consumerAppDTO").filter(|d| !d.nil) else {
                return ServiceFault::plain(
                    "Exception occurred while trying to invoke service method updateConsumerApplication",
                );
            };
            let key = dto.text_of("oauthConsumerKey").unwrap_or("").to_owned();
            let secret = dto.text_of("oauthConsumerSecret").unwrap_or("").to_owned();
            if key.is_empty() || secret.is_empty() {
                return ServiceFault::bean(
                    "OauthConsumerKey or OauthConsumerSecret is not provided for updating the OAuth application.",
                );
            }
            let users: BTreeSet<String> = core
                .tenant(tenant)
                .map(|t| t.users.keys().cloned().collect())
                .unwrap_or_default();
            let t = core.tenant_mut(tenant);
            let Some(stored) = t.oauth_apps.get(&key) else {
                return ServiceFault::bean("Error while updating the app information.");
            };
            if stored.text_of("oauthConsumerSecret") != Some(secret.as_str()) {
                return ServiceFault::bean("Error while updating the app information.");
            }
            let mut app = stored.clone();
            // Always overwritten from the request (omitted = null / false / default).
            for f in ["callbackUrl", "applicationName", "tokenType"] {
                replace_field(&mut app, dto, f, None);
            }
            for f in [
                "pkceMandatory",
                "pkceSupportPlain",
                "bypassClientCredentials",
            ] {
                replace_field(&mut app, dto, f, Some("false"));
            }
            for (f, _) in EXPIRY_DEFAULTS {
                replace_field(&mut app, dto, f, Some("0"));
            }
            fill_expiry_defaults(&mut app);
            let owner = dto
                .text_of("username")
                .filter(|u| users.contains(*u))
                .map(str::to_owned)
                .unwrap_or_else(|| caller.clone());
            app.set_text("username", owner);
            if dto.text_of("OAuthVersion") == Some("OAuth-2.0") {
                let grants = dto.text_of("grantTypes").unwrap_or("");
                if let Err(a) =
                    check_grants(grants, &format!(" for OAuth App with consumerKey: {key}"))
                {
                    return a;
                }
                app.set_text("grantTypes", grants);
                for f in [
                    "audiences",
                    "scopeValidators",
                    "idTokenEncryptionAlgorithm",
                    "idTokenEncryptionMethod",
                    "backChannelLogoutUrl",
                    "frontchannelLogoutUrl",
                ] {
                    replace_field(&mut app, dto, f, None);
                }
                for f in [
                    "requestObjectSignatureValidationEnabled",
                    "idTokenEncryptionEnabled",
                    "renewRefreshTokenEnabled",
                ] {
                    replace_field(&mut app, dto, f, Some("false"));
                }
            }
            schema::normalize(&mut app, OAUTH_DTO);
            t.oauth_apps.insert(key, app);
            Answer::Nil
        }
        _ => ServiceFault::plain(format!(
            "Exception occurred while trying to invoke service method {op}"
        )),
    }
}

fn key_taken(core: &crate::server::Core, key: &str) -> bool {
    core.tenants
        .values()
        .any(|t| t.oauth_apps.contains_key(key))
}

/// Replaces every `field` of `app` with those of `from`; when absent, sets `default` (or removes).
fn replace_field(app: &mut Element, from: &Element, field: &str, default: Option<&str>) {
    app.remove_all(field);
    let given: Vec<Element> = from
        .children_named(field)
        .filter(|c| !c.nil)
        .cloned()
        .collect();
    if given.is_empty() {
        if let Some(d) = default {
            app.children.push(Element::leaf(NS_OAUTH_DTO, field, d));
        }
    } else {
        app.children.extend(given);
    }
}

// ---------------------------------------------------------------- identity providers

/// Whether an SP step (or outbound provisioning) of the tenant refers to the IdP.
pub(crate) fn idp_referenced(t: &TenantState, idp: &str) -> bool {
    t.applications.values().any(|sp| {
        let in_steps = sp
            .child("localAndOutBoundAuthenticationConfig")
            .is_some_and(|c| {
                c.children_named("authenticationSteps").any(|s| {
                    s.children_named("federatedIdentityProviders")
                        .any(|i| i.text_of("identityProviderName") == Some(idp))
                })
            });
        let in_outbound = sp.child("outboundProvisioningConfig").is_some_and(|c| {
            c.children_named("provisioningIdentityProviders")
                .any(|i| i.text_of("identityProviderName") == Some(idp))
        });
        in_steps || in_outbound
    })
}

/// `verifyAndUpdateRoleConfiguration`: drops mappings to missing local roles, rewrites idpRoles.
fn filter_role_mappings(t: &TenantState, idp: &mut Element) {
    let Some(cfg) = idp.child_mut("permissionAndRoleConfig").filter(|c| !c.nil) else {
        return;
    };
    let mut kept_remote = Vec::new();
    let ns = NS_MODEL;
    cfg.children.retain(|c| {
        if c.name != "roleMappings" {
            return true;
        }
        let remote = c.text_of("remoteRole");
        let local = c.child("localRole").filter(|l| !l.nil);
        let (Some(remote), Some(local)) = (remote, local) else {
            return false;
        };
        let name = local.text_of("localRoleName").unwrap_or("");
        if name.trim().is_empty() {
            return false;
        }
        let role = role_with_domain(name, local.text_of("userStoreId"));
        if t.roles.contains_key(&role) {
            kept_remote.push(remote.to_owned());
            true
        } else {
            false
        }
    });
    cfg.remove_all("idpRoles");
    for r in kept_remote {
        cfg.children.push(Element::leaf(ns, "idpRoles", r));
    }
    schema::normalize(cfg, model("PermissionsAndRoleConfig"));
}

/// Upserts federated authenticators and their properties (never deletes), as the DAO does.
fn merge_authenticators(old: &Element, new: &mut Element) {
    let mut merged: Vec<Element> = Vec::new();
    for o in old.children_named("federatedAuthenticatorConfigs") {
        let name = o.text_of("name");
        match new
            .children_named("federatedAuthenticatorConfigs")
            .find(|n| n.text_of("name") == name)
        {
            Some(n) => {
                let mut m = n.clone();
                for p in o.children_named("properties") {
                    let pn = p.text_of("name");
                    if !m
                        .children_named("properties")
                        .any(|q| q.text_of("name") == pn)
                    {
                        m.children.push(p.clone());
                    }
                }
                schema::normalize(&mut m, model("FederatedAuthenticatorConfig"));
                merged.push(m);
            }
            None => merged.push(o.clone()),
        }
    }
    for n in new.children_named("federatedAuthenticatorConfigs") {
        let name = n.text_of("name");
        if !old
            .children_named("federatedAuthenticatorConfigs")
            .any(|o| o.text_of("name") == name)
        {
            merged.push(n.clone());
        }
    }
    new.remove_all("federatedAuthenticatorConfigs");
    new.children.extend(merged);
}

fn idp_op(inner: &Inner, tenant: &str, op: &str, w: &Element) -> Answer {
    let quirks = inner.quirks();
    let mut core = lock(&inner.core);
    match op {
        "addIdP" => {
            let Some(idp) = w.child("identityProvider").filter(|i| !i.nil) else {
                return ServiceFault::bean("Identity provider cannot be null when adding an IdP");
            };
            let mut idp = idp.clone();
            let name = idp.text_of("identityProviderName").unwrap_or("").to_owned();
            if name.trim().is_empty() {
                return ServiceFault::plain(
                    "Invalid argument: Identity Provider Name value is empty",
                );
            }
            if name.starts_with("SHARED_") {
                return ServiceFault::bean("Identity provider name cannot have SHARED_ as prefix.");
            }
            let Some(t) = core.tenant(tenant) else {
                return ServiceFault::plain("Tenant not found");
            };
            filter_role_mappings(t, &mut idp);
            if t.identity_providers.contains_key(&name) {
                return ServiceFault::bean(format!(
                    "An Identity Provider has already been registered with the name {name} for tenant {tenant}"
                ));
            }
            let id = core.next_idp_id;
            core.next_idp_id += 1;
            idp.set_text("id", id.to_string());
            if idp.text_of("enable").is_none() {
                idp.set_text("enable", "false");
            }
            idp.ns = crate::schema::NS_IDP.into();
            idp.name = "identityProvider".into();
            schema::normalize(&mut idp, model("IdentityProvider"));
            core.tenant_mut(tenant)
                .identity_providers
                .insert(name.clone(), idp);
            if quirks.add_idp_500_after_commit {
                return ServiceFault::plain(
                    "Exception occurred while trying to invoke service method addIdP",
                );
            }
            Answer::Nil
        }
        "getIdPByName" => {
            let name = soap::param(w, "idPName").unwrap_or("");
            if name.trim().is_empty() {
                return ServiceFault::plain("Provided IdP name is empty");
            }
            match core
                .tenant(tenant)
                .and_then(|t| t.identity_providers.get(name))
            {
                Some(i) => Answer::Values(vec![i.clone()]),
                None => Answer::Nil,
            }
        }
        "getAllIdPs" => Answer::Values(
            core.tenant(tenant)
                .map(|t| t.identity_providers.values().cloned().collect())
                .unwrap_or_default(),
        ),
        "deleteIdP" => {
            let name = soap::param(w, "idPName").unwrap_or("").to_owned();
            if name.trim().is_empty() {
                return ServiceFault::plain(
                    "Invalid argument: Identity Provider Name value is empty",
                );
            }
            let t = core.tenant_mut(tenant);
            if idp_referenced(t, &name) {
                return ServiceFault::bean(format!(
                    "Identity Provider '{name}' cannot be deleted as it is referred by Service Providers."
                ));
            }
            t.identity_providers.remove(&name);
            Answer::Nil
        }
        "updateIdP" => {
            let old = soap::param(w, "oldIdPName").unwrap_or("").to_owned();
            if old.trim().is_empty() {
                return ServiceFault::plain("The IdP name which need to be updated is empty");
            }
            let Some(idp) = w.child("identityProvider").filter(|i| !i.nil) else {
                return ServiceFault::plain("Invalid argument: 'newIdentityProvider' is NULL'");
            };
            let mut idp = idp.clone();
            let name = idp.text_of("identityProviderName").unwrap_or("").to_owned();
            if name.trim().is_empty() {
                return ServiceFault::plain(
                    "Invalid argument: The new value of the identity provider name is empty.",
                );
            }
            let t = core.tenant_mut(tenant);
            let Some(stored) = t.identity_providers.get(&old).cloned() else {
                return ServiceFault::bean(format!(
                    "Identity Provider with name {old} does not exist"
                ));
            };
            if name.starts_with("SHARED_") {
                return ServiceFault::bean(format!(
                    "Cannot update Idp name to have 'SHARED_' as a prefix (previous name:{old}, New name: {name})"
                ));
            }
            if name != old && t.identity_providers.contains_key(&name) {
                return ServiceFault::plain(format!(
                    "Error while updating Identity Provider {old}: an Identity Provider named {name} exists"
                ));
            }
            let enabled = matches!(idp.text_of("enable"), Some("true") | Some("1"));
            if !enabled && idp_referenced(t, &old) {
                return ServiceFault::bean(
                    "Error in disabling identity provider as it is referred by service providers.",
                );
            }
            if idp.text_of("enable").is_none() {
                idp.set_text("enable", "false");
            }
            if idp.child("permissionAndRoleConfig").is_some_and(|c| !c.nil) {
                filter_role_mappings(t, &mut idp);
            } else {
                idp.remove_all("permissionAndRoleConfig");
                if let Some(c) = stored.child("permissionAndRoleConfig") {
                    idp.children.push(c.clone());
                }
            }
            merge_authenticators(&stored, &mut idp);
            idp.remove_all("id");
            if let Some(id) = stored.child("id") {
                idp.children.push(id.clone());
            }
            idp.ns = crate::schema::NS_IDP.into();
            idp.name = "identityProvider".into();
            schema::normalize(&mut idp, model("IdentityProvider"));
            t.identity_providers.remove(&old);
            if name != old {
                rename_idp_references(t, &old, &name);
            }
            t.identity_providers.insert(name, idp);
            Answer::Nil
        }
        _ => ServiceFault::plain(format!(
            "Exception occurred while trying to invoke service method {op}"
        )),
    }
}

/// SP steps point at the IdP's row, so a renamed IdP shows its new name in them.
fn rename_idp_references(t: &mut TenantState, old: &str, new: &str) {
    fn walk(el: &mut Element, old: &str, new: &str) {
        if el.name == "identityProviderName" && el.text == old {
            el.text = new.to_owned();
        }
        for c in el.children.iter_mut() {
            walk(c, old, new);
        }
    }
    for sp in t.applications.values_mut() {
        if let Some(c) = sp.child_mut("localAndOutBoundAuthenticationConfig") {
            walk(c, old, new);
        }
        if let Some(c) = sp.child_mut("outboundProvisioningConfig") {
            walk(c, old, new);
        }
    }
}

// ---------------------------------------------------------------- users and roles

const USER_REGEX: &str = "^[\\S]{3,30}$";
const PASSWORD_REGEX: &str = "^[\\S]{5,30}$";

fn valid_name(s: &str, min: usize) -> bool {
    let n = s.chars().count();
    n >= min && n <= 30 && !s.chars().any(char::is_whitespace)
}

/// A role name as the user core resolves it: `PRIMARY/x` is `x`, the `Internal/` domain part is
/// matched case-insensitively.
pub(crate) fn canonical_role(t: &TenantState, role: &str) -> String {
    if let Some((domain, rest)) = role.split_once('/') {
        if domain.eq_ignore_ascii_case("PRIMARY") {
            return rest.to_owned();
        }
        for d in ["Internal", "Application", "Workflow"] {
            if domain.eq_ignore_ascii_case(d) {
                let name = format!("{d}/{rest}");
                if t.roles.contains_key(&name) {
                    return name;
                }
                return name;
            }
        }
    }
    role.to_owned()
}

fn is_hybrid(role: &str) -> bool {
    role.starts_with("Internal/")
        || role.starts_with("Application/")
        || role.starts_with("Workflow/")
}

// In-only operations: failures are `AxisFault.makeFault(cause)`, so the detail is empty.
fn user_op(inner: &Inner, tenant: &str, op: &str, w: &Element) -> Answer {
    let mut core = lock(&inner.core);
    let scim_id = core.uuid();
    let t = core.tenant_mut(tenant);
    fn fail(m: impl Into<String>) -> Answer {
        ServiceFault::plain(m)
    }
    match op {
        "addUser" => {
            let user = soap::param(w, "userName").unwrap_or("").to_owned();
            let cred = soap::param(w, "credential").unwrap_or("").to_owned();
            if !valid_name(&user, 3) {
                return fail(format!(
                    "30001 - Username {user} is not valid. User name must be a non null string with following format, {USER_REGEX}"
                ));
            }
            if !valid_name(&cred, 5) {
                return fail(format!(
                    "30003 - Credential is not valid. Credential must be a non null string with following format, {PASSWORD_REGEX}"
                ));
            }
            if t.users.contains_key(&user) {
                return fail(format!(
                    "30004 - UserAlreadyExistingUsername {user} already exists in the system. Please pick another username."
                ));
            }
            let roles: Vec<String> = soap::params(w, "roleList")
                .iter()
                .map(|r| canonical_role(t, r))
                .collect();
            for r in &roles {
                if r == "Internal/everyone" || t.roles.contains_key(r) {
                    continue;
                }
                let bare = r.rsplit('/').next().unwrap_or(r);
                return fail(if is_hybrid(r) {
                    format!("31303 - Internal role does not exist : {bare}")
                } else {
                    format!("31304 - External role does not exist : {bare}")
                });
            }
            let mut claims = std::collections::BTreeMap::new();
            for c in w.children_named("claims") {
                if let (Some(u), Some(v)) = (c.text_of("claimURI"), c.text_of("value")) {
                    claims.insert(u.to_owned(), v.to_owned());
                }
            }
            let now = now_rfc3339();
            t.users.insert(
                user.clone(),
                UserRecord {
                    password_sha256: sha256_hex(&cred),
                    claims,
                    scim_id,
                    scim: None,
                    created: now.clone(),
                    modified: now,
                },
            );
            for r in roles {
                if r == "Internal/everyone" {
                    continue;
                }
                if let Some(role) = t.roles.get_mut(&r) {
                    role.users.insert(user.clone());
                }
            }
            Answer::Accepted
        }
        "addRole" => {
            let given = soap::param(w, "roleName").unwrap_or("").to_owned();
            if given.trim().is_empty() {
                return fail("31704 - Cannot add role with empty role name");
            }
            let role = canonical_role(t, &given);
            if t.roles.contains_key(&role) {
                return fail(format!(
                    "30012 - RoleExistingRole name: {role} exists in the system. Please pick another role name."
                ));
            }
            let users = soap::params(w, "userList");
            for u in &users {
                if !t.users.contains_key(u) {
                    return fail(format!(
                        "30007 - UserNotFound: User {u} does not exist in: PRIMARY"
                    ));
                }
            }
            let mut rec = new_role(users, scim_id);
            rec.permissions = w
                .children_named("permissions")
                .filter_map(|p| p.text_of("resourceId").map(str::to_owned))
                .collect();
            t.roles.insert(role, rec);
            Answer::Accepted
        }
        "deleteUser" => {
            let user = soap::param(w, "userName").unwrap_or("").to_owned();
            if user == "admin" {
                return fail("37002 - AdminUserCannot delete admin user");
            }
            if t.users.remove(&user).is_none() {
                return fail(format!(
                    "30007 - UserNotFound: User {user} does not exist in: PRIMARY"
                ));
            }
            for r in t.roles.values_mut() {
                r.users.remove(&user);
            }
            Answer::Accepted
        }
        "deleteRole" => {
            let role = canonical_role(t, soap::param(w, "roleName").unwrap_or(""));
            if role == "admin" {
                return fail("31804 - Cannot delete admin role");
            }
            if role == "Internal/everyone" {
                return fail("31805 - Cannot delete everyone role");
            }
            if t.roles.remove(&role).is_none() && !is_hybrid(&role) {
                return fail("31806 - Cannot delete non-existing role");
            }
            Answer::Accepted
        }
        "isExistingUser" => {
            let user = soap::param(w, "userName").unwrap_or("");
            Answer::Simple(t.users.contains_key(user).to_string())
        }
        "isExistingRole" => {
            let role = canonical_role(t, soap::param(w, "roleName").unwrap_or(""));
            Answer::Simple(t.roles.contains_key(&role).to_string())
        }
        "getRoleNames" => {
            // User-store roles first (no prefix), then the hybrid roles; system roles excluded;
            // each list capped at MaxRoleNameListLength.
            let cap = match inner.quirks().max_role_name_list_length {
                0 => usize::MAX,
                n => n,
            };
            let mut store: Vec<String> = t
                .roles
                .keys()
                .filter(|r| !is_hybrid(r))
                .take(cap)
                .cloned()
                .collect();
            let hybrid = t
                .roles
                .keys()
                .filter(|r| is_hybrid(r) && r.as_str() != "Internal/system")
                .take(cap)
                .cloned();
            store.extend(hybrid);
            Answer::SimpleList(store)
        }
        "getRoleListOfUser" => {
            let user = soap::param(w, "userName").unwrap_or("").to_owned();
            if !t.users.contains_key(&user) {
                return fail(format!(
                    "30007 - UserNotFound: User {user} does not exist in: PRIMARY"
                ));
            }
            Answer::SimpleList(t.roles_of(&user))
        }
        "updateRoleListOfUser" => {
            let user = soap::param(w, "userName").unwrap_or("").to_owned();
            let deleted: Vec<String> = soap::params(w, "deletedRoles")
                .iter()
                .map(|r| canonical_role(t, r))
                .collect();
            let added: Vec<String> = soap::params(w, "newRoles")
                .iter()
                .map(|r| canonical_role(t, r))
                .collect();
            if deleted
                .iter()
                .chain(added.iter())
                .any(|r| r == "Internal/everyone")
            {
                return fail("30009 - Cannot update everyone role");
            }
            // The hybrid (Internal) part runs first, in its own transaction.
            if added
                .iter()
                .any(|r| is_hybrid(r) && !t.roles.contains_key(r))
            {
                return fail(format!(
                    "Error occurred while updating hybrid role list of user : {user}"
                ));
            }
            for r in deleted.iter().filter(|r| is_hybrid(r)) {
                if let Some(role) = t.roles.get_mut(r) {
                    role.users.remove(&user);
                }
            }
            for r in added.iter().filter(|r| is_hybrid(r)) {
                if let Some(role) = t.roles.get_mut(r) {
                    role.users.insert(user.clone());
                }
            }
            if !t.users.contains_key(&user) {
                return fail(format!(
                    "30007 - UserNotFound: User {user} does not exist in: PRIMARY"
                ));
            }
            if let Some(r) = added
                .iter()
                .find(|r| !is_hybrid(r) && !t.roles.contains_key(*r))
            {
                return fail(format!("The role: {r} does not exist."));
            }
            for r in deleted.iter().filter(|r| !is_hybrid(r)) {
                if let Some(role) = t.roles.get_mut(r) {
                    role.users.remove(&user);
                }
            }
            for r in added.iter().filter(|r| !is_hybrid(r)) {
                if let Some(role) = t.roles.get_mut(r) {
                    role.users.insert(user.clone());
                }
            }
            Answer::Accepted
        }
        "getUserListOfRole" => {
            // AbstractUserStoreManager.getUserListOfRole (kernel 4.5.1): a role that does not
            // exist gives an empty list, not a fault; `Internal/everyone` lists every user
            // (HybridRoleManager); other roles their direct members, primary-store users
            // without a domain prefix.
            let role = canonical_role(t, soap::param(w, "roleName").unwrap_or(""));
            let users: Vec<String> = if role == "Internal/everyone" {
                t.users.keys().cloned().collect()
            } else {
                t.roles
                    .get(&role)
                    .map(|r| r.users.iter().cloned().collect())
                    .unwrap_or_default()
            };
            Answer::SimpleList(users)
        }
        "authenticate" => {
            // AbstractUserStoreManager.authenticate: `false` (no fault) for an unknown user, a
            // wrong or empty credential; `PRIMARY/` in the name is the primary store.
            let given = soap::param(w, "userName").unwrap_or("");
            let user = match given.split_once('/') {
                Some((d, rest)) if d.eq_ignore_ascii_case("PRIMARY") => rest,
                _ => given,
            };
            let cred = soap::param(w, "credential").unwrap_or("");
            let ok = !cred.is_empty()
                && t.users
                    .get(user)
                    .is_some_and(|u| u.password_sha256 == sha256_hex(cred));
            Answer::Simple(ok.to_string())
        }
        _ => ServiceFault::plain(format!(
            "Exception occurred while trying to invoke service method {op}"
        )),
    }
}
