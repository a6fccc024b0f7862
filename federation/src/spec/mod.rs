//! What the federation should look like ([`Spec`]), and the builder that checks it.
//!
//! [`FederationBuilder::build`] validates everything and reports every problem at once, before
//! any request is sent: the validation is split by concern in `validate.rs` (names and the
//! servers' own rules, addresses, grant types and claims, roles/users/mappings, secrets and
//! identity).

mod builder;
mod validate;

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;
use wso2_apim_client::portals::{Portal, SwitchOptions};
use wso2_is_client::version::{IsCapabilities, ServerVersion};
use wso2_is_client::{ApplicationName, IdpName, RoleName, UserName};

pub use self::builder::FederationBuilder;

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
    /// Which claim carries roles (`None`: what the Identity Server release needs; see
    /// [`Spec::role_claim_for`]).
    pub role_claim: Option<RoleClaim>,
    /// The Identity Server's release, pinned (`None`: detected).
    pub is_version: Option<ServerVersion>,
    /// The API Manager's release, pinned (`None`: detected).
    pub apim_version: Option<ServerVersion>,
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
    /// Use existing roles, users and identity providers of someone else's that are as desired
    /// (adopted objects are never deleted); without it they are conflicts.
    pub adopt: bool,
    /// The journal: one per pair of servers and marker (see [`default_journal_path`]).
    pub journal: PathBuf,
    /// What the settings do that is worth a warning (plain http).
    pub warnings: Vec<String>,
}

impl Spec {
    /// A digest of every setting that shapes what is written (names, addresses, claims, roles,
    /// users and their roles, mappings, switch options; never a secret, nor the concurrency):
    /// journals record it, and a saved plan is refused for other settings.
    pub fn fingerprint(&self) -> String {
        let users: Vec<(&str, Vec<&str>)> = self
            .users
            .iter()
            .map(|u| {
                (
                    u.name.as_str(),
                    u.roles.iter().map(RoleName::as_str).collect(),
                )
            })
            .collect();
        let shape = serde_json::json!({
            "service_provider": self.service_provider,
            "identity_provider": self.identity_provider,
            "idp_display_name": self.idp_display_name,
            "callback_url": self.callback_url.as_str(),
            "is_browser_url": self.is_browser_url.as_str(),
            "is_backend_url": self.is_backend_url.as_str(),
            "grant_types": self.grant_types,
            "requested_claims": self.requested_claims,
            "role_claim": self.role_claim,
            "is_version": self.is_version.map(|v| v.to_string()),
            "apim_version": self.apim_version.map(|v| v.to_string()),
            "roles": self.roles,
            "users": users,
            "role_mappings": self.role_mappings,
            "jit": self.jit,
            "portals": self.portals,
            "switch": self.switch,
            "client_auth": self.client_auth,
            "tenant": self.tenant,
            "marker": self.marker,
            "client_id": self.client_id,
            "client_secret_given": self.client_secret.is_some(),
            "adopt": self.adopt,
        });
        crate::plan::digest(&shape.to_string())
    }

    /// The claim that carries roles on the Identity Server release `is`: the setting, else
    /// `…/claims/role` up to IS 5.11 and `…/claims/groups` from 6.0 (where `…/claims/role` is no
    /// longer supported by default).
    pub fn role_claim_for(&self, is: &IsCapabilities) -> RoleClaim {
        self.role_claim
            .clone()
            .unwrap_or(if is.role_claim == RoleClaim::Groups.is_claim() {
                RoleClaim::Groups
            } else {
                RoleClaim::Wso2Role
            })
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

    /// Every role a group step handles on IS 5.10+: the roles of the settings, then the other
    /// roles the users are given (existing groups), each once.
    pub fn group_roles(&self) -> Vec<RoleName> {
        let mut out: Vec<RoleName> = self.roles.iter().map(|r| r.name.clone()).collect();
        for u in &self.users {
            for r in &u.roles {
                if !out.contains(r) {
                    out.push(r.clone());
                }
            }
        }
        out
    }

    /// The local roles on APIM that mappings point to.
    pub fn mapped_local_roles(&self) -> Vec<RoleName> {
        let set: BTreeSet<RoleName> = self.role_mappings.iter().map(|m| m.local.clone()).collect();
        set.into_iter().collect()
    }
}

/// The default journal of a federation: `{state dir}/{IS}+{APIM}[+{tenant}]/{marker}.journal`,
/// so that each pair of servers (and tenant, and marker) has its own, and a journal of other
/// servers is never picked up by mistake. The state directory is `$WSO2_FEDERATION_STATE_DIR`,
/// else `$XDG_STATE_HOME/wso2-federation`, else `~/.local/state/wso2-federation`.
pub fn default_journal_path(is: &Url, apim: &Url, tenant: Option<&str>, marker: &str) -> PathBuf {
    let base = std::env::var_os("WSO2_FEDERATION_STATE_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_STATE_HOME")
                .filter(|v| !v.is_empty())
                .map(|d| PathBuf::from(d).join("wso2-federation"))
        })
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".local/state/wso2-federation"))
        })
        .unwrap_or_else(|| std::env::temp_dir().join("wso2-federation-state"));
    let host = |u: &Url| {
        let text = format!(
            "{}-{}",
            u.host_str().unwrap_or("host"),
            u.port_or_known_default().unwrap_or(0)
        );
        text.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect::<String>()
    };
    // The full addresses (paths, schemes) in a short digest, so that two servers behind one
    // host never share a journal.
    let digest = crate::plan::digest(&format!("{is} {apim} {}", tenant.unwrap_or("")));
    let mut dir = format!("{}+{}", host(is), host(apim));
    if let Some(t) = tenant {
        dir.push('+');
        dir.push_str(t);
    }
    dir.push('-');
    dir.push_str(&digest[..8]);
    base.join(dir).join(format!("{marker}.journal"))
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
