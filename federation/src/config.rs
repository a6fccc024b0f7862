//! The `federation.toml` configuration file of the `wso2-federate` CLI.
//!
//! Secrets are never written in the file: each is named by an environment variable
//! (`password_env`) or a file (`password_file`). Unknown keys are errors.
//!
//! ```toml
//! marker = "wso2-federation"
//!
//! [is]
//! url = "https://is.example.com:9444"
//! username = "admin"
//! password_env = "IS_ADMIN_PASSWORD"
//! ca_pem = "is-ca.pem"
//!
//! [apim]
//! url = "https://apim.example.com:9443"
//! username = "admin"
//! password_env = "APIM_ADMIN_PASSWORD"
//!
//! [[roles]]
//! name = "publisher_role"
//!
//! [[users]]
//! name = "api_publisher"
//! password_env = "API_PUBLISHER_PASSWORD"
//! roles = ["publisher_role"]
//!
//! [[role_mappings]]
//! remote = "publisher_role"
//! local = "Internal/publisher"
//! ```

use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::Deserialize;
use wso2_apim_client::portals::{Portal, SwitchOptions};

use crate::engine::Server;
use crate::spec::{ClientAuthMode, JitSpec, RoleClaim};
use crate::{FederationBuilder, Problem, SpecError};

/// A secret given by environment variable or file, never literally.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    /// Name of an environment variable holding the secret.
    #[serde(default)]
    pub env: Option<String>,
    /// Path of a file holding the secret (trailing newline removed).
    #[serde(default)]
    pub file: Option<PathBuf>,
}

/// Connection settings of one server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Base URL, e.g. `https://is.example.com:9444`.
    pub url: String,
    /// Admin user (tenant admins as `admin@example.com`).
    pub username: String,
    /// Environment variable holding the admin password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// File holding the admin password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Rejected with a clear message: secrets are not written in the file.
    #[serde(default)]
    pub password: Option<toml::Value>,
    /// PEM file of the CA (or the server's own certificate) to trust.
    #[serde(default)]
    pub ca_pem: Option<PathBuf>,
    /// Allow plain `http://` for this server's addresses (test servers only).
    #[serde(default)]
    pub allow_http: bool,
    /// Request timeout in seconds.
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    /// IS only: the address browsers use (authorize, logout).
    #[serde(default)]
    pub browser_url: Option<String>,
    /// IS only: the address APIM uses server to server (token, userinfo).
    #[serde(default)]
    pub backend_url: Option<String>,
    /// APIM only: the address browsers use (the callback is its `/commonauth`).
    #[serde(default)]
    pub public_url: Option<String>,
    /// The server's release, e.g. `"7.1"` (default: detected from what it answers; a pinned
    /// release saves the probes, and `doctor` reports one the server contradicts).
    #[serde(default)]
    pub version: Option<String>,
}

/// The service provider on IS.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceProviderConfig {
    /// Its name (default `apim-federation`).
    #[serde(default)]
    pub name: Option<String>,
    /// Grant types (default `authorization_code`, `refresh_token`).
    #[serde(default)]
    pub grant_types: Option<Vec<String>>,
    /// Extra claims to request.
    #[serde(default)]
    pub requested_claims: Vec<String>,
    /// `wso2_role` or `groups` (default: what the IS release needs: `wso2_role` up to 5.11,
    /// `groups` from 6.0).
    #[serde(default)]
    pub role_claim: Option<RoleClaim>,
    /// A fixed OAuth client id (default: generated).
    #[serde(default)]
    pub client_id: Option<String>,
    /// Environment variable holding a fixed client secret (default: generated).
    #[serde(default)]
    pub client_secret_env: Option<String>,
}

/// The identity provider on APIM.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityProviderConfig {
    /// Its name (default `wso2-is`).
    #[serde(default)]
    pub name: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// `basic_header` (default) or `request_body`.
    #[serde(default)]
    pub client_auth: Option<ClientAuthMode>,
    /// Just-in-time provisioning.
    #[serde(default)]
    pub jit: Option<JitSpec>,
}

/// A role to create on IS.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleConfig {
    /// Its name.
    pub name: String,
}

/// A user to create on IS.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// Its name.
    pub name: String,
    /// Environment variable holding its password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// File holding its password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Rejected: secrets are not written in the file.
    #[serde(default)]
    pub password: Option<toml::Value>,
    /// Its roles.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// A role mapping.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleMappingConfig {
    /// The role as IS emits it.
    pub remote: String,
    /// The APIM local role, exact case.
    pub local: String,
}

/// Which portals to switch, and how.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalsConfig {
    /// Portals to switch: `publisher`, `devportal`, `admin` (default the first two).
    #[serde(default)]
    pub switch: Option<Vec<String>>,
    /// Keep local login as a second option (see the risk in the docs).
    #[serde(default)]
    pub local_login_fallback: Option<bool>,
    /// "Assert identity using mapped local subject identifier" (default true).
    #[serde(default)]
    pub assert_identity_using_mapped_local_subject: Option<bool>,
    /// Ask to skip consent (default true).
    #[serde(default)]
    pub skip_consent: Option<bool>,
}

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The ownership marker (default `wso2-federation`).
    #[serde(default)]
    pub marker: Option<String>,
    /// Use existing roles, users and identity providers of someone else's that are as desired
    /// (adopted: never deleted). Default `false`: they are conflicts.
    #[serde(default)]
    pub adopt: Option<bool>,
    /// The journal (default: one per pair of servers and marker in the state directory).
    #[serde(default)]
    pub journal: Option<PathBuf>,
    /// Tenant domain.
    #[serde(default)]
    pub tenant: Option<String>,
    /// Requests in flight per server (default 8).
    #[serde(default)]
    pub concurrency: Option<usize>,
    /// Identity Server.
    pub is: ServerConfig,
    /// API Manager.
    pub apim: ServerConfig,
    /// The service provider on IS.
    #[serde(default)]
    pub service_provider: ServiceProviderConfig,
    /// The identity provider on APIM.
    #[serde(default)]
    pub identity_provider: IdentityProviderConfig,
    /// Roles to create on IS.
    #[serde(default)]
    pub roles: Vec<RoleConfig>,
    /// Users to create on IS.
    #[serde(default)]
    pub users: Vec<UserConfig>,
    /// Role mappings.
    #[serde(default)]
    pub role_mappings: Vec<RoleMappingConfig>,
    /// Portals.
    #[serde(default)]
    pub portals: PortalsConfig,
}

/// Where secrets come from (the process environment by default; replaceable in tests).
pub trait SecretSource {
    /// The value of an environment variable.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl SecretSource for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Config {
    /// Parses a configuration file's text.
    pub fn parse(text: &str) -> Result<Self, SpecError> {
        toml::from_str(text).map_err(|e| SpecError {
            problems: vec![Problem {
                field: "config".into(),
                message: e.to_string().trim().to_owned(),
            }],
        })
    }

    /// Reads and parses a configuration file.
    pub fn load(path: &Path) -> Result<Self, SpecError> {
        let bytes = read_file(path, MAX_CONFIG_BYTES).map_err(|message| SpecError {
            problems: vec![Problem {
                field: "config".into(),
                message,
            }],
        })?;
        let text = String::from_utf8(bytes).map_err(|_| SpecError {
            problems: vec![Problem {
                field: "config".into(),
                message: format!("{} is not UTF-8 text", path.display()),
            }],
        })?;
        Self::parse(&text)
    }

    /// Resolves secrets and turns the file into builder settings (the clients are built with
    /// [`Config::client_builder`]). Every problem is reported at once.
    pub fn to_builder(
        &self,
        env: &dyn SecretSource,
        base_dir: &Path,
    ) -> Result<FederationBuilder, SpecError> {
        let (builder, problems) = self.to_builder_all(env, base_dir);
        if problems.is_empty() {
            Ok(builder)
        } else {
            Err(SpecError { problems })
        }
    }

    /// Like [`to_builder`](Self::to_builder), but always returns the builder: a secret that
    /// cannot be resolved is reported and stood in for by a placeholder, so that the builder's
    /// own checks can still run and every problem of a file comes out in one go. Never build
    /// and apply a federation when the problem list is not empty.
    pub fn to_builder_all(
        &self,
        env: &dyn SecretSource,
        base_dir: &Path,
    ) -> (FederationBuilder, Vec<Problem>) {
        let mut problems = Vec::new();
        let mut b = FederationBuilder::default();
        if let Some(m) = &self.marker {
            b = b.marker(m);
        }
        if let Some(t) = &self.tenant {
            b = b.tenant(t);
        }
        if let Some(c) = self.concurrency {
            b = b.concurrency(c);
        }
        if let Some(u) = &self.is.browser_url {
            b = b.is_browser_url(u);
        }
        if let Some(u) = &self.is.backend_url {
            b = b.is_backend_url(u);
        }
        if let Some(u) = &self.apim.public_url {
            b = b.apim_public_url(u);
        }
        if let Some(v) = &self.is.version {
            b = b.is_version(v);
        }
        if let Some(v) = &self.apim.version {
            b = b.apim_version(v);
        }
        b = b
            .allow_http(Server::Is, self.is.allow_http)
            .allow_http(Server::Apim, self.apim.allow_http);
        if let Some(a) = self.adopt {
            b = b.adopt(a);
        }
        if let Some(j) = &self.journal {
            b = b.journal(if j.is_absolute() {
                j.clone()
            } else {
                base_dir.join(j)
            });
        }
        for (field, server) in [("is", &self.is), ("apim", &self.apim)] {
            if server.public_url.is_some() && field == "is" {
                problems.push(Problem {
                    field: "is.public_url".into(),
                    message: "is an APIM setting; use is.browser_url".into(),
                });
            }
            if (server.browser_url.is_some() || server.backend_url.is_some()) && field == "apim" {
                problems.push(Problem {
                    field: "apim.browser_url".into(),
                    message: "browser_url/backend_url are IS settings; use apim.public_url".into(),
                });
            }
        }
        let sp = &self.service_provider;
        if let Some(n) = &sp.name {
            b = b.service_provider(n);
        }
        if let Some(g) = &sp.grant_types {
            b = b.grant_types(g.clone());
        }
        for c in &sp.requested_claims {
            b = b.request_claim(c);
        }
        if let Some(rc) = &sp.role_claim {
            b = b.role_claim(rc.clone());
        }
        if let Some(id) = &sp.client_id {
            b = b.client_id(id);
        }
        if let Some(var) = &sp.client_secret_env {
            match env.var(var) {
                Some(v) => b = b.client_secret(v),
                None => problems.push(Problem {
                    field: "service_provider.client_secret_env".into(),
                    message: format!("the environment variable {var} is not set"),
                }),
            }
        }
        let idp = &self.identity_provider;
        if let Some(n) = &idp.name {
            b = b.identity_provider(n);
        }
        if let Some(n) = &idp.display_name {
            b = b.idp_display_name(n);
        }
        if let Some(m) = idp.client_auth {
            b = b.client_auth(m);
        }
        if let Some(j) = &idp.jit {
            b = b.jit(j.clone());
        }
        for r in &self.roles {
            b = b.role(&r.name);
        }
        for (i, u) in self.users.iter().enumerate() {
            let field = format!("users[{i}]");
            match resolve_secret(
                &field,
                u.password.as_ref(),
                u.password_env.as_deref(),
                u.password_file.as_deref(),
                env,
                base_dir,
            ) {
                Ok(p) => b = b.user(&u.name, p, u.roles.clone()),
                Err(p) => {
                    problems.push(p);
                    // Valid for the builder's password rule; reported above, never used.
                    b = b.user(
                        &u.name,
                        SecretString::from("unresolved-secret"),
                        u.roles.clone(),
                    );
                }
            }
        }
        for m in &self.role_mappings {
            b = b.map_role(&m.remote, &m.local);
        }
        let p = &self.portals;
        if let Some(list) = &p.switch {
            let mut portals = Vec::new();
            for (i, name) in list.iter().enumerate() {
                match name.parse::<Portal>() {
                    Ok(portal) => portals.push(portal),
                    Err(e) => problems.push(Problem {
                        field: format!("portals.switch[{i}]"),
                        message: e.to_string(),
                    }),
                }
            }
            b = b.portals(portals);
        }
        let mut switch = SwitchOptions::default();
        if let Some(v) = p.local_login_fallback {
            switch.local_login_fallback = v;
        }
        if let Some(v) = p.assert_identity_using_mapped_local_subject {
            switch.assert_identity_using_mapped_local_subject = v;
        }
        if let Some(v) = p.skip_consent {
            switch.skip_consent = v;
        }
        b = b.switch_options(switch);
        (b, problems)
    }

    /// Settings of the client for `which` server (`"is"` or `"apim"`): URL, credentials, trusted
    /// CA, timeouts.
    pub fn client_builder<C: wso2_is_client::FromCarbon>(
        &self,
        which: &str,
        env: &dyn SecretSource,
        base_dir: &Path,
    ) -> Result<wso2_is_client::ClientBuilder<C>, Vec<Problem>> {
        let s = if which == "is" { &self.is } else { &self.apim };
        let mut problems = Vec::new();
        let mut b = wso2_is_client::ClientBuilder::new(&s.url).allow_http(s.allow_http);
        match self.server_password(which, env, base_dir) {
            Ok(p) => b = b.credentials(&s.username, p),
            Err(p) => problems.push(p),
        }
        if let Some(ca) = &s.ca_pem {
            let path = if ca.is_absolute() {
                ca.clone()
            } else {
                base_dir.join(ca)
            };
            match read_file(&path, MAX_PEM_BYTES) {
                Ok(pem) => b = b.ca_pem(pem),
                Err(message) => problems.push(Problem {
                    field: format!("{which}.ca_pem"),
                    message,
                }),
            }
        }
        if let Some(t) = s.timeout_secs {
            if t == 0 {
                problems.push(Problem {
                    field: format!("{which}.timeout_secs"),
                    message: "must be at least 1".into(),
                });
            } else {
                b = b.request_timeout(std::time::Duration::from_secs(t));
            }
        }
        if problems.is_empty() {
            Ok(b)
        } else {
            Err(problems)
        }
    }

    /// The admin password of a server, resolved from its environment variable or file.
    pub fn server_password(
        &self,
        which: &str,
        env: &dyn SecretSource,
        base_dir: &Path,
    ) -> Result<SecretString, Problem> {
        let s = if which == "is" { &self.is } else { &self.apim };
        resolve_secret(
            which,
            s.password.as_ref(),
            s.password_env.as_deref(),
            s.password_file.as_deref(),
            env,
            base_dir,
        )
    }
}

/// The largest configuration file read.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;
/// The largest secret file read.
pub const MAX_SECRET_BYTES: u64 = 64 * 1024;
/// The largest CA file read.
pub const MAX_PEM_BYTES: u64 = 1024 * 1024;

/// Reads a regular file of at most `max` bytes. Anything else (a directory, a device such as
/// `/dev/zero`, a FIFO: opened without blocking, then refused) is refused with a message, never
/// read until memory runs out or waited on forever.
pub fn read_file(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options
        .open(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!(
            "{} is not a regular file (a directory, device or pipe); give a file",
            path.display()
        ));
    }
    if meta.len() > max {
        return Err(format!(
            "{} is {} bytes; at most {max} are read",
            path.display(),
            meta.len()
        ));
    }
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.len() as u64 > max {
        return Err(format!(
            "{} grew past {max} bytes while being read",
            path.display()
        ));
    }
    Ok(bytes)
}

fn resolve_secret(
    field: &str,
    literal: Option<&toml::Value>,
    var: Option<&str>,
    file: Option<&Path>,
    env: &dyn SecretSource,
    base_dir: &Path,
) -> Result<SecretString, Problem> {
    let problem = |message: String| Problem {
        field: format!("{field}.password"),
        message,
    };
    if literal.is_some() {
        return Err(problem(
            "secrets are not accepted in the file; name an environment variable (password_env) or a file (password_file)".into(),
        ));
    }
    match (var, file) {
        (Some(_), Some(_)) => Err(problem(
            "give password_env or password_file, not both".into(),
        )),
        (Some(var), None) => match env.var(var) {
            Some(v) if !v.is_empty() => Ok(SecretString::from(v)),
            Some(_) => Err(problem(format!(
                "the environment variable {var} (`{field}.password_env`) is empty"
            ))),
            None => Err(problem(format!(
                "the environment variable {var} (`{field}.password_env`) is not set; export it, or name a file with `{field}.password_file`"
            ))),
        },
        (None, Some(path)) => {
            let path = if path.is_absolute() {
                path.to_path_buf()
            } else {
                base_dir.join(path)
            };
            match read_file(&path, MAX_SECRET_BYTES).map(String::from_utf8) {
                Ok(Ok(v)) => {
                    let v = v.trim_end_matches(['\n', '\r']).to_owned();
                    if v.is_empty() {
                        Err(problem(format!("the file {} is empty", path.display())))
                    } else {
                        Ok(SecretString::from(v))
                    }
                }
                Ok(Err(_)) => Err(problem(format!(
                    "the file {} is not UTF-8 text",
                    path.display()
                ))),
                Err(message) => Err(problem(message)),
            }
        }
        (None, None) => Err(problem(
            "missing: name an environment variable (password_env) or a file (password_file)".into(),
        )),
    }
}
