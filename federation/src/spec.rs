//! What the federation should look like, and the builder that checks it.
//!
//! [`FederationBuilder::build`] validates everything and reports every problem at once, before
//! any request is sent.

use std::collections::BTreeSet;
use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;
use wso2_apim_client::ApimClient;
use wso2_apim_client::portals::{Portal, SwitchOptions};
use wso2_is_client::{ApplicationName, IdpName, IsClient, RoleName, UserName};

use crate::Federation;

/// The OAuth grant types the service provider on IS allows.
pub const DEFAULT_GRANT_TYPES: &[&str] = &["authorization_code", "refresh_token"];

/// Which claim carries roles from IS to APIM.
///
/// In both cases the id_token carries the roles in a `groups` claim, and APIM's identity provider
/// reads them from there: its role claim URI is `groups`, mapped to the local
/// `http://wso2.org/claims/role`. (APIM's OIDC authenticator keys id_token claims by their raw
/// names and never translates them, so a role claim URI of `http://wso2.org/claims/role` would
/// find no roles.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RoleClaim {
    /// IS 5.x: the service provider requests the local claim `http://wso2.org/claims/role`
    /// (mandatory), which IS 5.9's OIDC dialect emits as `groups` in the `openid` scope.
    #[default]
    Wso2Role,
    /// IS 6/7: the service provider requests `http://wso2.org/claims/groups`, and APIM asks for
    /// the `groups` scope (`scope=openid groups` in `commonAuthQueryParams`).
    Groups,
}

impl RoleClaim {
    /// The local claim the IS service provider requests.
    pub fn is_claim(&self) -> &'static str {
        match self {
            Self::Wso2Role => "http://wso2.org/claims/role",
            Self::Groups => "http://wso2.org/claims/groups",
        }
    }

    /// The claim that carries roles in the id_token, and the role claim URI of APIM's identity
    /// provider.
    pub fn token_claim(&self) -> &'static str {
        "groups"
    }

    /// The scopes APIM requests from IS.
    pub fn scopes(&self) -> &'static str {
        match self {
            Self::Wso2Role => "openid",
            Self::Groups => "openid groups",
        }
    }

    /// Extra query parameters of APIM's authorize request (`commonAuthQueryParams`): the
    /// authenticator of APIM 3.0 has no scopes setting and asks for `openid` only.
    pub fn query_params(&self) -> Option<String> {
        match self {
            Self::Wso2Role => None,
            Self::Groups => Some(format!("scope={}", self.scopes())),
        }
    }
}

/// How APIM authenticates to IS's token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuthMode {
    /// Credentials in the `Authorization: Basic` header only (`IsBasicAuthEnabled=true`). Avoids
    /// IS >= 5.8's "The client MUST NOT use more than one authentication method" error without
    /// touching IS. The default.
    #[default]
    BasicHeader,
    /// Credentials in the request body (`IsBasicAuthEnabled=false`).
    RequestBody,
}

/// Just-in-time provisioning of federated users on APIM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct JitSpec {
    /// Whether federated users are provisioned.
    pub enabled: bool,
    /// The user store that receives them (required: without it the login fails after
    /// authentication with "10005 - The provided user identifier is invalid").
    pub user_store: String,
}

impl Default for JitSpec {
    /// Provision silently into `PRIMARY`.
    fn default() -> Self {
        Self {
            enabled: true,
            user_store: "PRIMARY".to_owned(),
        }
    }
}

/// A role to create on IS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleSpec {
    /// The role name, e.g. `publisher_role`.
    pub name: RoleName,
}

/// A user to create on IS.
#[derive(Clone)]
pub struct UserSpec {
    /// The user name, e.g. `api_publisher`.
    pub name: UserName,
    /// The password.
    pub password: SecretString,
    /// Roles to give the user (created by this federation or existing on IS).
    pub roles: Vec<RoleName>,
}

impl fmt::Debug for UserSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserSpec")
            .field("name", &self.name)
            .field("password", &"[REDACTED]")
            .field("roles", &self.roles)
            .finish()
    }
}

/// A role mapping: the role as IS emits it, to an APIM local role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleMappingSpec {
    /// The role as emitted by IS (e.g. `publisher_role`).
    pub remote: RoleName,
    /// The local role on APIM, exactly (e.g. `Internal/publisher`).
    pub local: RoleName,
}

/// The validated description of a federation.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Name of the service provider (and OAuth application) on IS.
    pub service_provider: ApplicationName,
    /// Name of the identity provider on APIM.
    pub identity_provider: IdpName,
    /// Display name of the identity provider.
    pub idp_display_name: String,
    /// The OAuth callback: APIM's `/commonauth` (tenant form `/t/{tenant}/commonauth`).
    pub callback_url: Url,
    /// IS as the browser reaches it (authorize and logout endpoints).
    pub is_browser_url: Url,
    /// IS as APIM reaches it server to server (token and userinfo endpoints).
    pub is_backend_url: Url,
    /// Grant types of the OAuth application.
    pub grant_types: Vec<String>,
    /// Extra local claims the service provider requests (besides the role claim).
    pub requested_claims: Vec<String>,
    /// Which claim carries roles.
    pub role_claim: RoleClaim,
    /// Roles to create on IS.
    pub roles: Vec<RoleSpec>,
    /// Users to create on IS.
    pub users: Vec<UserSpec>,
    /// Role mappings on the APIM identity provider.
    pub role_mappings: Vec<RoleMappingSpec>,
    /// Just-in-time provisioning.
    pub jit: JitSpec,
    /// Portals to switch.
    pub portals: Vec<Portal>,
    /// Options of the portal switch.
    pub switch: SwitchOptions,
    /// How APIM authenticates to IS's token endpoint.
    pub client_auth: ClientAuthMode,
    /// Tenant domain (`None` for the super tenant).
    pub tenant: Option<String>,
    /// The ownership marker written on objects this federation creates.
    pub marker: String,
    /// The OAuth client id; generated when not given.
    pub client_id: Option<String>,
    /// The OAuth client secret; generated (CSPRNG) when not given.
    pub client_secret: Option<SecretString>,
    /// At most this many requests in flight per server.
    pub concurrency: usize,
}

impl Spec {
    /// The ownership tag written into descriptions: `[managed-by:{marker}]`.
    pub fn ownership_tag(&self) -> String {
        format!("[managed-by:{}]", self.marker)
    }

    /// IS's authorize endpoint (browser-facing).
    pub fn authorize_url(&self) -> Url {
        join(&self.is_browser_url, "oauth2/authorize")
    }

    /// IS's logout endpoint (browser-facing).
    pub fn logout_url(&self) -> Url {
        join(&self.is_browser_url, "oidc/logout")
    }

    /// IS's token endpoint (server to server).
    pub fn token_url(&self) -> Url {
        join(&self.is_backend_url, "oauth2/token")
    }

    /// IS's userinfo endpoint (server to server).
    pub fn userinfo_url(&self) -> Url {
        join(&self.is_backend_url, "oauth2/userinfo")
    }

    /// IS's discovery document (server to server).
    pub fn discovery_url(&self) -> Url {
        join(
            &self.is_backend_url,
            "oauth2/token/.well-known/openid-configuration",
        )
    }

    /// The local roles on APIM that mappings point to.
    pub fn mapped_local_roles(&self) -> Vec<RoleName> {
        let set: BTreeSet<RoleName> = self.role_mappings.iter().map(|m| m.local.clone()).collect();
        set.into_iter().collect()
    }
}

/// `base` joined with a path, tenant-qualified by the caller's choice of base.
fn join(base: &Url, path: &str) -> Url {
    let mut u = base.clone();
    let p = format!("{}/{}", base.path().trim_end_matches('/'), path);
    u.set_path(&p);
    u
}

/// One problem found in a spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The setting, e.g. `users[1].password`.
    pub field: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every problem found in a spec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SpecError {
    /// The problems, in the order of the settings.
    pub problems: Vec<Problem>,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the federation settings have {} problem(s):",
            self.problems.len()
        )?;
        for p in &self.problems {
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}

/// Builds a [`Federation`]; see [`Federation::builder`].
#[derive(Clone, Default)]
pub struct FederationBuilder {
    is: Option<IsClient>,
    apim: Option<ApimClient>,
    service_provider: Option<String>,
    identity_provider: Option<String>,
    idp_display_name: Option<String>,
    apim_public_url: Option<String>,
    is_browser_url: Option<String>,
    is_backend_url: Option<String>,
    allow_http: bool,
    grant_types: Option<Vec<String>>,
    requested_claims: Vec<String>,
    role_claim: RoleClaim,
    roles: Vec<String>,
    users: Vec<(String, SecretString, Vec<String>)>,
    mappings: Vec<(String, String)>,
    jit: JitSpec,
    portals: Option<Vec<Portal>>,
    switch: SwitchOptions,
    client_auth: ClientAuthMode,
    tenant: Option<String>,
    marker: Option<String>,
    client_id: Option<String>,
    client_secret: Option<SecretString>,
    concurrency: Option<usize>,
}

impl fmt::Debug for FederationBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FederationBuilder")
            .field("service_provider", &self.service_provider)
            .field("identity_provider", &self.identity_provider)
            .field(
                "users",
                &self.users.iter().map(|u| &u.0).collect::<Vec<_>>(),
            )
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[REDACTED]"),
            )
            .finish_non_exhaustive()
    }
}

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

impl FederationBuilder {
    /// The IS client (admin credentials for IS).
    pub fn is(mut self, client: IsClient) -> Self {
        self.is = Some(client);
        self
    }

    /// The APIM client (admin credentials for APIM).
    pub fn apim(mut self, client: ApimClient) -> Self {
        self.apim = Some(client);
        self
    }

    /// Name of the service provider and OAuth application on IS (default `apim-federation`).
    pub fn service_provider(mut self, name: impl Into<String>) -> Self {
        self.service_provider = Some(name.into());
        self
    }

    /// Name of the identity provider on APIM (default `wso2-is`).
    pub fn identity_provider(mut self, name: impl Into<String>) -> Self {
        self.identity_provider = Some(name.into());
        self
    }

    /// Display name of the identity provider (default: its name).
    pub fn idp_display_name(mut self, name: impl Into<String>) -> Self {
        self.idp_display_name = Some(name.into());
        self
    }

    /// APIM's address as browsers reach it; the callback is its `/commonauth`. Default: the APIM
    /// client's base URL.
    pub fn apim_public_url(mut self, url: impl Into<String>) -> Self {
        self.apim_public_url = Some(url.into());
        self
    }

    /// IS's address as browsers reach it (authorize, logout). Default: the IS client's base URL.
    pub fn is_browser_url(mut self, url: impl Into<String>) -> Self {
        self.is_browser_url = Some(url.into());
        self
    }

    /// IS's address as APIM reaches it (token, userinfo; the id_token issuer). Default: the IS
    /// client's base URL.
    pub fn is_backend_url(mut self, url: impl Into<String>) -> Self {
        self.is_backend_url = Some(url.into());
        self
    }

    /// Allows `http://` addresses (only for test servers).
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// Grant types of the OAuth application (default `authorization_code refresh_token`).
    pub fn grant_types<I, S>(mut self, grants: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.grant_types = Some(grants.into_iter().map(Into::into).collect());
        self
    }

    /// Another local claim for the service provider to request.
    pub fn request_claim(mut self, claim_uri: impl Into<String>) -> Self {
        self.requested_claims.push(claim_uri.into());
        self
    }

    /// Which claim carries roles (default [`RoleClaim::Wso2Role`]).
    pub fn role_claim(mut self, claim: RoleClaim) -> Self {
        self.role_claim = claim;
        self
    }

    /// A role to create on IS.
    pub fn role(mut self, name: impl Into<String>) -> Self {
        self.roles.push(name.into());
        self
    }

    /// A user to create on IS, with its roles.
    pub fn user<I, S>(
        mut self,
        name: impl Into<String>,
        password: impl Into<SecretString>,
        roles: I,
    ) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.users.push((
            name.into(),
            password.into(),
            roles.into_iter().map(Into::into).collect(),
        ));
        self
    }

    /// Maps the role IS emits (`remote`) to an APIM local role (`local`, exact case).
    pub fn map_role(mut self, remote: impl Into<String>, local: impl Into<String>) -> Self {
        self.mappings.push((remote.into(), local.into()));
        self
    }

    /// Just-in-time provisioning (default: provision silently into `PRIMARY`).
    pub fn jit(mut self, jit: JitSpec) -> Self {
        self.jit = jit;
        self
    }

    /// The portals to switch (default: Publisher and Developer Portal).
    pub fn portals<I: IntoIterator<Item = Portal>>(mut self, portals: I) -> Self {
        self.portals = Some(portals.into_iter().collect());
        self
    }

    /// Options of the portal switch.
    pub fn switch_options(mut self, options: SwitchOptions) -> Self {
        self.switch = options;
        self
    }

    /// How APIM authenticates to IS's token endpoint (default Basic header only).
    pub fn client_auth(mut self, mode: ClientAuthMode) -> Self {
        self.client_auth = mode;
        self
    }

    /// Tenant domain (callback `/t/{tenant}/commonauth`).
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = Some(tenant.into());
        self
    }

    /// The ownership marker (default `wso2-federation`): objects created carry
    /// `[managed-by:{marker}]` in their description, and only those are ever deleted.
    pub fn marker(mut self, marker: impl Into<String>) -> Self {
        self.marker = Some(marker.into());
        self
    }

    /// A fixed OAuth client id (default: generated).
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// A fixed OAuth client secret (default: generated with a CSPRNG).
    pub fn client_secret(mut self, secret: impl Into<SecretString>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }

    /// At most `n` requests in flight per server (default 8; 1 runs everything in sequence).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = Some(n);
        self
    }

    /// Checks every setting and builds the federation. Reports every problem at once; sends
    /// nothing.
    pub fn build(self) -> Result<Federation, SpecError> {
        let mut v = Validator::default();

        if self.is.is_none() {
            v.problem("is", "an IS client is required (`.is(IsClient)`)");
        }
        if self.apim.is_none() {
            v.problem("apim", "an APIM client is required (`.apim(ApimClient)`)");
        }
        let sp = v.name(
            "service_provider",
            self.service_provider
                .as_deref()
                .unwrap_or("apim-federation"),
            ApplicationName::new,
        );
        let idp = v.name(
            "identity_provider",
            self.identity_provider.as_deref().unwrap_or("wso2-is"),
            IdpName::new,
        );
        let idp_display = self
            .idp_display_name
            .clone()
            .or_else(|| self.identity_provider.clone())
            .unwrap_or_else(|| "wso2-is".into());

        let tenant = match self.tenant.as_deref() {
            None | Some("carbon.super") => None,
            Some(t) if valid_domain(t) => Some(t.to_owned()),
            Some(t) => {
                v.problem(
                    "tenant",
                    format!("{t:?} is not a domain name such as example.com"),
                );
                None
            }
        };

        let apim_default = self.apim.as_ref().map(|c| c.core().base_url().to_string());
        let is_default = self.is.as_ref().map(|c| c.core().base_url().to_string());
        let apim_public = v.url(
            "apim_public_url",
            self.apim_public_url.as_deref().or(apim_default.as_deref()),
            self.allow_http,
        );
        let is_browser = v.url(
            "is_browser_url",
            self.is_browser_url.as_deref().or(is_default.as_deref()),
            self.allow_http,
        );
        let is_backend = v.url(
            "is_backend_url",
            self.is_backend_url.as_deref().or(is_default.as_deref()),
            self.allow_http,
        );
        let callback = apim_public.as_ref().map(|base| match &tenant {
            Some(t) => join(base, &format!("t/{t}/commonauth")),
            None => join(base, "commonauth"),
        });

        let grant_types = self.grant_types.clone().unwrap_or_else(|| {
            DEFAULT_GRANT_TYPES
                .iter()
                .map(|s| (*s).to_owned())
                .collect()
        });
        if grant_types.is_empty() {
            v.problem(
                "grant_types",
                "at least `authorization_code` is needed for browser login",
            );
        } else if !grant_types.iter().any(|g| g == "authorization_code") {
            v.problem(
                "grant_types",
                "must include `authorization_code`: APIM's OIDC authenticator uses the code flow",
            );
        }
        for (i, g) in grant_types.iter().enumerate() {
            if g.is_empty() || g.contains(char::is_whitespace) {
                v.problem(
                    format!("grant_types[{i}]"),
                    format!("{g:?} is not a grant type"),
                );
            }
        }
        for (i, c) in self.requested_claims.iter().enumerate() {
            if Url::parse(c).is_err() {
                v.problem(
                    format!("requested_claims[{i}]"),
                    format!("{c:?} is not a claim URI such as http://wso2.org/claims/emailaddress"),
                );
            }
        }

        let mut roles = Vec::new();
        let mut role_names = BTreeSet::new();
        for (i, r) in self.roles.iter().enumerate() {
            if let Some(name) = v.name(&format!("roles[{i}]"), r, RoleName::new) {
                if !role_names.insert(name.clone()) {
                    v.problem(format!("roles[{i}]"), format!("role {r:?} is listed twice"));
                }
                roles.push(RoleSpec { name });
            }
        }

        let mut users = Vec::new();
        let mut user_names = BTreeSet::new();
        for (i, (name, password, user_roles)) in self.users.iter().enumerate() {
            let field = format!("users[{i}]");
            let checked = v.name(&format!("{field}.name"), name, UserName::new);
            if let Some(n) = &checked
                && !user_names.insert(n.clone())
            {
                v.problem(
                    format!("{field}.name"),
                    format!("user {name:?} is listed twice"),
                );
            }
            if password.expose_secret().is_empty() {
                v.problem(format!("{field}.password"), "must not be empty");
            } else {
                let pw = password.expose_secret();
                let n = pw.chars().count();
                if !(5..=30).contains(&n) || pw.chars().any(char::is_whitespace) {
                    v.problem(
                        format!("{field}.password"),
                        format!(
                            "breaks IS's default password rule of 5 to 30 characters without white space (^[\\S]{{5,30}}$): it has {n} characters"
                        ),
                    );
                }
            }
            let mut rs = Vec::new();
            for (j, r) in user_roles.iter().enumerate() {
                if let Some(role) = v.name(&format!("{field}.roles[{j}]"), r, RoleName::new) {
                    if !role_names.contains(&role) {
                        v.problem(
                            format!("{field}.roles[{j}]"),
                            format!("role {r:?} is not among the roles this federation creates; add it with `.role({r:?})`"),
                        );
                    }
                    rs.push(role);
                }
            }
            if let Some(n) = checked {
                users.push(UserSpec {
                    name: n,
                    password: password.clone(),
                    roles: rs,
                });
            }
        }

        let mut role_mappings = Vec::new();
        let mut remotes = BTreeSet::new();
        for (i, (remote, local)) in self.mappings.iter().enumerate() {
            let field = format!("role_mappings[{i}]");
            let r = v.name(&format!("{field}.remote"), remote, RoleName::new);
            let l = v.name(&format!("{field}.local"), local, RoleName::new);
            if let Some(r) = &r {
                if !role_names.contains(r) {
                    v.problem(
                        format!("{field}.remote"),
                        format!("{remote:?} is not a role this federation creates on IS, so no user would carry it; add it with `.role({remote:?})`"),
                    );
                }
                if !remotes.insert(r.clone()) {
                    v.problem(
                        format!("{field}.remote"),
                        format!("{remote:?} is mapped twice"),
                    );
                }
            }
            if let Some(l) = &l {
                if !l.as_str().contains('/') && l.as_str() != "admin" {
                    v.problem(
                        format!("{field}.local"),
                        format!("{local:?} has no domain; APIM's roles are written like Internal/subscriber"),
                    );
                }
                if let Some(known) = KNOWN_INTERNAL_ROLES
                    .iter()
                    .find(|k| k.eq_ignore_ascii_case(local) && **k != local)
                {
                    v.problem(
                        format!("{field}.local"),
                        format!("{local:?} is not {known:?}: role names are case-sensitive"),
                    );
                }
            }
            if let (Some(remote), Some(local)) = (r, l) {
                role_mappings.push(RoleMappingSpec { remote, local });
            }
        }

        if self.jit.enabled && self.jit.user_store.trim().is_empty() {
            v.problem(
                "jit.user_store",
                "just-in-time provisioning needs a user store (e.g. PRIMARY), or logins fail after authentication",
            );
        }

        let portals = self
            .portals
            .clone()
            .unwrap_or_else(|| vec![Portal::Publisher, Portal::DevPortal]);
        if portals.is_empty() {
            v.problem(
                "portals",
                "no portal to switch; name at least one (publisher, devportal, admin)",
            );
        }
        let unique: BTreeSet<_> = portals.iter().collect();
        if unique.len() != portals.len() {
            v.problem("portals", "a portal is listed twice");
        }

        let marker = self
            .marker
            .clone()
            .unwrap_or_else(|| "wso2-federation".to_owned());
        if marker.is_empty()
            || marker.len() > 64
            || !marker
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            v.problem(
                "marker",
                format!("{marker:?} must be 1-64 characters of letters, digits, '-', '_' or '.'"),
            );
        }

        if let Some(id) = &self.client_id
            && (id.len() < 8
                || id.len() > 255
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)))
        {
            v.problem(
                "client_id",
                "must be 8-255 characters of letters, digits, '-', '_' or '.'",
            );
        }
        if let Some(secret) = &self.client_secret {
            let s = secret.expose_secret();
            if s.is_empty() {
                v.problem(
                    "client_secret",
                    "must not be empty (leave it unset to generate one)",
                );
            } else if s.len() < 16 {
                v.problem(
                    "client_secret",
                    "is shorter than 16 characters; leave it unset to generate a strong one",
                );
            } else if s.chars().any(char::is_control) {
                v.problem("client_secret", "contains control characters");
            }
        }
        let concurrency = self.concurrency.unwrap_or(8);
        if concurrency == 0 {
            v.problem("concurrency", "must be at least 1");
        }

        if !v.problems.is_empty() {
            return Err(SpecError {
                problems: v.problems,
            });
        }
        let (
            Some(is),
            Some(apim),
            Some(sp),
            Some(idp),
            Some(callback),
            Some(is_browser),
            Some(is_backend),
        ) = (
            self.is, self.apim, sp, idp, callback, is_browser, is_backend,
        )
        else {
            unreachable!("every missing value was reported as a problem")
        };
        let spec = Spec {
            service_provider: sp,
            identity_provider: idp,
            idp_display_name: idp_display,
            callback_url: callback,
            is_browser_url: is_browser,
            is_backend_url: is_backend,
            grant_types,
            requested_claims: self.requested_claims,
            role_claim: self.role_claim,
            roles,
            users,
            role_mappings,
            jit: self.jit,
            portals,
            switch: self.switch,
            client_auth: self.client_auth,
            tenant,
            marker,
            client_id: self.client_id,
            client_secret: self.client_secret,
            concurrency,
        };
        Ok(Federation::from_parts(spec, is, apim))
    }
}

fn valid_domain(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 253
        && t.contains('.')
        && t.split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

#[derive(Default)]
struct Validator {
    problems: Vec<Problem>,
}

impl Validator {
    fn problem(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            field: field.into(),
            message: message.into(),
        });
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

    fn url(&mut self, field: &str, value: Option<&str>, allow_http: bool) -> Option<Url> {
        let Some(raw) = value else {
            // Reported through the missing client.
            return None;
        };
        let url = match Url::parse(raw) {
            Ok(u) => u,
            Err(e) => {
                self.problem(field, format!("{raw:?} is not an absolute URL: {e}"));
                return None;
            }
        };
        match url.scheme() {
            "https" => {}
            "http" if allow_http => {}
            "http" => {
                self.problem(field, format!("{raw:?} uses plain http; use https, or allow http explicitly for test servers"));
                return None;
            }
            other => {
                self.problem(field, format!("{raw:?} has scheme {other:?}; use https"));
                return None;
            }
        }
        if url.host_str().is_none_or(str::is_empty) {
            self.problem(field, format!("{raw:?} has no host"));
            return None;
        }
        if url.query().is_some() || url.fragment().is_some() {
            self.problem(field, format!("{raw:?} must not have a query or fragment"));
            return None;
        }
        Some(url)
    }
}
