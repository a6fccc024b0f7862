//! The checks of [`FederationBuilder::build`](super::FederationBuilder::build), one method per
//! concern. Each records problems (and warnings) instead of stopping, so that every problem of a
//! set of settings comes out at once. Problems name the setting (`users[1].password`) the way
//! both the builder and the configuration file spell it.

use std::collections::BTreeSet;

use secrecy::{ExposeSecret, SecretString};
use url::Url;
use wso2_apim_client::portals::Portal;
use wso2_is_client::{ApplicationName, IdpName, RoleName, UserName};

use super::{DEFAULT_GRANT_TYPES, JitSpec, Problem, RoleMappingSpec, RoleSpec, UserSpec, join};

/// Grant types IS 5.9-7.3 know (`OAuthConsumerAppDTO.grantTypes`, `identity.xml`'s
/// `SupportedGrantTypes`).
pub(crate) const KNOWN_GRANT_TYPES: &[&str] = &[
    "authorization_code",
    "implicit",
    "password",
    "client_credentials",
    "refresh_token",
    "urn:ietf:params:oauth:grant-type:saml2-bearer",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:ietf:params:oauth:grant-type:token-exchange",
    "urn:ietf:params:oauth:grant-type:uma-ticket",
    "iwa:ntlm",
    "account_switch",
    "organization_switch",
];

/// Well-known APIM local roles, in their exact case, to catch `Internal/Subscriber`-style typos
/// before any request.
const KNOWN_INTERNAL_ROLES: &[&str] = &[
    "Internal/subscriber",
    "Internal/publisher",
    "Internal/creator",
    "Internal/admin",
    "Internal/everyone",
    "Internal/devops",
    "Internal/observer",
    "Internal/analytics",
];

/// The addresses the federation writes.
pub(super) struct Addresses {
    pub is_client: Url,
    pub apim_client: Url,
    pub is_browser: Url,
    pub is_backend: Url,
    pub callback: Url,
}

#[derive(Default)]
pub(super) struct Validator {
    problems: Vec<Problem>,
    warnings: Vec<String>,
}

/// IS 5.x's service-provider name rule (`ApplicationMgtUtil`, `^[a-zA-Z0-9 ._-]*$`).
fn sp_name_ok(name: &str) -> bool {
    name.chars()
        .all(|c| c.is_ascii_alphanumeric() || " ._-".contains(c))
}

/// The default user store's user and role name rule (embedded LDAP of IS 5.x:
/// `[a-zA-Z0-9._\-|/]{3,30}`; the JDBC store's `^[\S]{3,30}$` accepts all of these).
fn store_name_ok(name: &str) -> bool {
    (3..=30).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-|/".contains(c))
}

fn valid_domain(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 253
        && t.contains('.')
        && t.split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

impl Validator {
    pub(super) fn problem(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            field: field.into(),
            message: message.into(),
        });
    }

    fn warn(&mut self, message: impl Into<String>) {
        self.warnings.push(message.into());
    }

    pub(super) fn finish(self) -> (Vec<Problem>, Vec<String>) {
        (self.problems, self.warnings)
    }

    fn name<T>(
        &mut self,
        field: &str,
        value: &str,
        parse: impl Fn(String) -> Result<T, wso2_is_client::InvalidInput>,
    ) -> Option<T> {
        match parse(value.to_owned()) {
            Ok(v) => Some(v),
            Err(e) => {
                self.problem(field, format!("{value:?} {}", e.reason));
                None
            }
        }
    }

    /// The service provider's and identity provider's names, and the display name.
    pub(super) fn object_names(
        &mut self,
        sp: Option<&str>,
        idp: Option<&str>,
        display: Option<&str>,
    ) -> Option<(ApplicationName, IdpName, String)> {
        let sp_text = sp.unwrap_or("apim-federation");
        let sp = self.name("service_provider", sp_text, ApplicationName::new);
        if sp.is_some() && !sp_name_ok(sp_text) {
            self.problem(
                "service_provider",
                format!("{sp_text:?} breaks IS's service provider name rule: letters, digits, spaces, '.', '_' and '-' only"),
            );
        }
        let idp_text = idp.unwrap_or("wso2-is");
        let idp = self.name("identity_provider", idp_text, IdpName::new);
        if idp_text.starts_with("SHARED_") {
            self.problem(
                "identity_provider",
                "must not start with SHARED_ (reserved by the server)",
            );
        }
        let display = display.unwrap_or(idp_text).to_owned();
        if display.trim().is_empty() || display.chars().any(char::is_control) {
            self.problem(
                "identity_provider.display_name",
                "must be a non-empty line of text",
            );
        }
        Some((sp?, idp?, display))
    }

    pub(super) fn tenant(&mut self, tenant: Option<&str>) -> Option<String> {
        match tenant {
            None | Some("carbon.super") => None,
            Some(t) if valid_domain(t) => Some(t.to_owned()),
            Some(t) => {
                self.problem(
                    "tenant",
                    format!("{t:?} is not a domain name such as example.com"),
                );
                None
            }
        }
    }

    /// Every address: absolute, https unless plain http is allowed for its server, no
    /// credentials, no query or fragment. Plain http is warned about.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn addresses(
        &mut self,
        is_client: Option<String>,
        apim_client: Option<String>,
        is_browser: Option<&str>,
        is_backend: Option<&str>,
        apim_public: Option<&str>,
        (http_is, http_apim): (bool, bool),
        tenant: Option<&str>,
    ) -> Option<Addresses> {
        let is_client = self.url("is", is_client.as_deref(), true, "IS");
        let apim_client = self.url("apim", apim_client.as_deref(), true, "APIM");
        let is_browser = self.url(
            "is.browser_url",
            is_browser.or(is_client.as_ref().map(Url::as_str)),
            http_is,
            "IS",
        );
        let is_backend = self.url(
            "is.backend_url",
            is_backend.or(is_client.as_ref().map(Url::as_str)),
            http_is,
            "IS",
        );
        let apim_public = self.url(
            "apim.public_url",
            apim_public.or(apim_client.as_ref().map(Url::as_str)),
            http_apim,
            "APIM",
        );
        if let Some(u) = is_backend.as_ref().filter(|u| u.scheme() == "http") {
            self.warn(format!(
                "IS's backend address {u} is plain http: APIM sends the client secret to IS's token endpoint, and IS the tokens back, in clear"
            ));
        }
        if let Some(u) = is_browser.as_ref().filter(|u| u.scheme() == "http") {
            self.warn(format!(
                "IS's browser address {u} is plain http: users' passwords cross the network in clear"
            ));
        }
        if let Some(u) = apim_public.as_ref().filter(|u| u.scheme() == "http") {
            self.warn(format!(
                "APIM's public address {u} is plain http: authorization codes cross the network in clear"
            ));
        }
        let callback = apim_public.as_ref().map(|base| match tenant {
            Some(t) => join(base, &format!("t/{t}/commonauth")),
            None => join(base, "commonauth"),
        });
        Some(Addresses {
            is_client: is_client?,
            apim_client: apim_client?,
            is_browser: is_browser?,
            is_backend: is_backend?,
            callback: callback?,
        })
    }

    fn url(
        &mut self,
        field: &str,
        value: Option<&str>,
        allow_http: bool,
        server: &str,
    ) -> Option<Url> {
        // A missing value is reported through the missing client.
        let raw = value?;
        let url = match Url::parse(raw) {
            Ok(u) => u,
            Err(e) => {
                self.problem(field, format!("{raw:?} is not an absolute URL: {e}"));
                return None;
            }
        };
        if !url.username().is_empty() || url.password().is_some() {
            self.problem(
                field,
                "holds credentials (user:password@); give credentials as settings of their own, never in an address",
            );
            return None;
        }
        match url.scheme() {
            "https" => {}
            "http" if allow_http => {}
            "http" => {
                self.problem(
                    field,
                    format!("{} uses plain http; use https, or allow plain http for {server} explicitly, test servers only (`{}.allow_http = true`; `FederationBuilder::allow_http`)", url.as_str(), if server == "IS" { "is" } else { "apim" }),
                );
                return None;
            }
            other => {
                self.problem(field, format!("has scheme {other:?}; use https"));
                return None;
            }
        }
        if url.host_str().is_none_or(str::is_empty) {
            self.problem(field, format!("{} has no host", url.as_str()));
            return None;
        }
        if url.query().is_some() || url.fragment().is_some() {
            self.problem(
                field,
                format!("{} must not have a query or fragment", url.as_str()),
            );
            return None;
        }
        Some(url)
    }

    pub(super) fn grant_types(&mut self, given: Option<Vec<String>>) -> Vec<String> {
        let grant_types = given.unwrap_or_else(|| {
            DEFAULT_GRANT_TYPES
                .iter()
                .map(|s| (*s).to_owned())
                .collect()
        });
        if grant_types.is_empty() {
            self.problem(
                "service_provider.grant_types",
                "at least `authorization_code` is needed for browser login",
            );
        } else if !grant_types.iter().any(|g| g == "authorization_code") {
            self.problem(
                "service_provider.grant_types",
                "must include `authorization_code`: APIM's OIDC authenticator uses the code flow",
            );
        }
        let mut seen = BTreeSet::new();
        for (i, g) in grant_types.iter().enumerate() {
            if !KNOWN_GRANT_TYPES.contains(&g.as_str()) {
                self.problem(
                    format!("service_provider.grant_types[{i}]"),
                    format!(
                        "{:?} is not a grant type IS knows ({})",
                        crate::text::clean(g, 100),
                        KNOWN_GRANT_TYPES.join(", ")
                    ),
                );
            } else if !seen.insert(g) {
                self.problem(
                    format!("service_provider.grant_types[{i}]"),
                    format!("{g:?} is listed twice"),
                );
            }
        }
        grant_types
    }

    pub(super) fn requested_claims(&mut self, claims: &[String]) {
        for (i, c) in claims.iter().enumerate() {
            let ok = c.strip_prefix("http://wso2.org/claims/").is_some_and(|n| {
                !n.is_empty()
                    && n.chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || "._-/".contains(ch))
            });
            if !ok {
                self.problem(
                    format!("service_provider.requested_claims[{i}]"),
                    format!(
                        "{:?} is not a local claim URI such as http://wso2.org/claims/emailaddress",
                        crate::text::clean(c, 100)
                    ),
                );
            }
        }
    }

    /// Roles, users (names by the default user store's rules, passwords by its password rule,
    /// their roles among the roles created) and role mappings.
    pub(super) fn identities(
        &mut self,
        roles: &[String],
        users: &[(String, SecretString, Vec<String>)],
        mappings: &[(String, String)],
    ) -> (Vec<RoleSpec>, Vec<UserSpec>, Vec<RoleMappingSpec>) {
        let mut out_roles = Vec::new();
        let mut role_names = BTreeSet::new();
        for (i, r) in roles.iter().enumerate() {
            let field = format!("roles[{i}]");
            if let Some(name) = self.name(&field, r, RoleName::new) {
                if !store_name_ok(r) {
                    self.problem(
                        &field,
                        format!("{r:?} breaks the default user store's role name rule: 3 to 30 letters, digits, '.', '_', '-', '|' or '/'"),
                    );
                }
                if !role_names.insert(name.clone()) {
                    self.problem(&field, format!("role {r:?} is listed twice"));
                }
                out_roles.push(RoleSpec { name });
            }
        }

        let mut out_users = Vec::new();
        let mut user_names = BTreeSet::new();
        for (i, (name, password, user_roles)) in users.iter().enumerate() {
            let field = format!("users[{i}]");
            let checked = self.name(&format!("{field}.name"), name, UserName::new);
            if checked.is_some() && !store_name_ok(name) {
                self.problem(
                    format!("{field}.name"),
                    format!("{name:?} breaks the default user store's user name rule: 3 to 30 letters, digits, '.', '_', '-', '|' or '/'"),
                );
            }
            if let Some(n) = &checked
                && !user_names.insert(n.clone())
            {
                self.problem(
                    format!("{field}.name"),
                    format!("user {name:?} is listed twice"),
                );
            }
            let pw = password.expose_secret();
            if pw.is_empty() {
                self.problem(format!("{field}.password"), "must not be empty");
            } else {
                let n = pw.chars().count();
                if !(5..=30).contains(&n) || pw.chars().any(char::is_whitespace) {
                    self.problem(
                        format!("{field}.password"),
                        format!(
                            "breaks IS's default password rule of 5 to 30 characters without white space (^[\\S]{{5,30}}$): it has {n} characters"
                        ),
                    );
                }
            }
            let mut rs = Vec::new();
            for (j, r) in user_roles.iter().enumerate() {
                if let Some(role) = self.name(&format!("{field}.roles[{j}]"), r, RoleName::new) {
                    if !role_names.contains(&role) {
                        self.problem(
                            format!("{field}.roles[{j}]"),
                            format!("role {r:?} is not among the roles this federation creates (`roles`)"),
                        );
                    }
                    rs.push(role);
                }
            }
            if let Some(n) = checked {
                out_users.push(UserSpec {
                    name: n,
                    password: password.clone(),
                    roles: rs,
                });
            }
        }

        let mut out_mappings = Vec::new();
        let mut remotes = BTreeSet::new();
        for (i, (remote, local)) in mappings.iter().enumerate() {
            let field = format!("role_mappings[{i}]");
            let r = self.name(&format!("{field}.remote"), remote, RoleName::new);
            let l = self.name(&format!("{field}.local"), local, RoleName::new);
            if let Some(r) = &r {
                if !role_names.contains(r) {
                    self.problem(
                        format!("{field}.remote"),
                        format!("{remote:?} is not a role this federation creates on IS (`roles`), so no user would carry it"),
                    );
                }
                if !remotes.insert(r.clone()) {
                    self.problem(
                        format!("{field}.remote"),
                        format!("{remote:?} is mapped twice"),
                    );
                }
            }
            if let Some(l) = &l {
                if !l.as_str().contains('/') && l.as_str() != "admin" {
                    self.problem(
                        format!("{field}.local"),
                        format!("{local:?} has no domain; APIM's roles are written like Internal/subscriber"),
                    );
                }
                if let Some(known) = KNOWN_INTERNAL_ROLES
                    .iter()
                    .find(|k| k.eq_ignore_ascii_case(local) && **k != local)
                {
                    self.problem(
                        format!("{field}.local"),
                        format!("{local:?} is not {known:?}: role names are case-sensitive"),
                    );
                }
            }
            if let (Some(remote), Some(local)) = (r, l) {
                out_mappings.push(RoleMappingSpec { remote, local });
            }
        }
        (out_roles, out_users, out_mappings)
    }

    pub(super) fn jit(&mut self, jit: &JitSpec) {
        if jit.enabled && jit.user_store.trim().is_empty() {
            self.problem(
                "identity_provider.jit.user_store",
                "just-in-time provisioning needs a user store (e.g. PRIMARY), or logins fail after authentication",
            );
        }
    }

    pub(super) fn portals(&mut self, portals: Option<Vec<Portal>>) -> Vec<Portal> {
        let portals = portals.unwrap_or_else(|| vec![Portal::Publisher, Portal::DevPortal]);
        if portals.is_empty() {
            self.problem(
                "portals.switch",
                "no portal to switch; name at least one (publisher, devportal, admin)",
            );
        }
        let unique: BTreeSet<_> = portals.iter().collect();
        if unique.len() != portals.len() {
            self.problem("portals.switch", "a portal is listed twice");
        }
        portals
    }

    pub(super) fn marker(&mut self, marker: Option<String>) -> String {
        let marker = marker.unwrap_or_else(|| "wso2-federation".to_owned());
        if marker.is_empty()
            || marker.len() > 64
            || !marker
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            self.problem(
                "marker",
                format!(
                    "{:?} must be 1-64 characters of letters, digits, '-', '_' or '.'",
                    crate::text::clean(&marker, 80)
                ),
            );
        }
        marker
    }

    pub(super) fn client(&mut self, id: Option<&str>, secret: Option<&SecretString>) {
        if let Some(id) = id
            && (id.len() < 8
                || id.len() > 255
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)))
        {
            self.problem(
                "service_provider.client_id",
                "must be 8-255 characters of letters, digits, '-', '_' or '.'",
            );
        }
        if let Some(secret) = secret {
            let s = secret.expose_secret();
            if s.is_empty() {
                self.problem(
                    "service_provider.client_secret",
                    "must not be empty (leave it unset to generate one)",
                );
            } else if s.len() < 16 {
                self.problem(
                    "service_provider.client_secret",
                    "is shorter than 16 characters; leave it unset to generate a strong one",
                );
            } else if s.chars().any(char::is_control) {
                self.problem(
                    "service_provider.client_secret",
                    "contains control characters",
                );
            }
        }
    }

    pub(super) fn concurrency(&mut self, n: Option<usize>) -> usize {
        let n = n.unwrap_or(8);
        if n == 0 {
            self.problem("concurrency", "must be at least 1");
        }
        n
    }

    /// A pinned release: a version this tool supports, of the right product.
    pub(super) fn version(
        &mut self,
        field: &str,
        product: wso2_is_client::version::Product,
        text: Option<&str>,
    ) -> Option<wso2_is_client::version::ServerVersion> {
        let text = text?;
        match wso2_is_client::version::ServerVersion::parse(product, text) {
            Ok(v) if v.is_supported() => Some(v),
            Ok(v) => {
                self.problem(
                    field,
                    format!(
                        "{v} is not supported (supported: {})",
                        product
                            .supported()
                            .iter()
                            .map(|s| format!("{}.{}", s.major(), s.minor()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                None
            }
            Err(e) => {
                self.problem(field, format!("{e} (e.g. \"7.1\")"));
                None
            }
        }
    }
}
