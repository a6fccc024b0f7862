//! The settings of a client ([`ClientBuilder`]) and their checks; building sends nothing.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use url::Url;

use super::auth::{AuthMode, Credentials};
use super::pool::{ServerPool, TransportSettings};
use super::retry::{Clock, RetryPolicy, TokioClock};
use super::tls::TlsSettings;
use super::{CarbonClient, Inner};
use crate::error::{Error, Result};

/// Default cap on the size of an answer body: 16 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 16 * 1024 * 1024;
/// Default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default timeout of a whole request, answer body included.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The settings of a client, whatever client they build.
#[derive(Debug, Clone)]
struct Settings {
    base_url: String,
    credentials: Option<Credentials>,
    auth_mode: AuthMode,
    tls: TlsSettings,
    allow_http: bool,
    connect_timeout: Duration,
    request_timeout: Duration,
    body_limit: usize,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
    tenant: Option<String>,
    user_agent: String,
    pool: Option<ServerPool>,
}

impl Settings {
    fn new(base_url: String) -> Self {
        Self {
            base_url,
            credentials: None,
            auth_mode: AuthMode::Basic,
            tls: TlsSettings::default(),
            allow_http: false,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            body_limit: DEFAULT_BODY_LIMIT,
            retry: RetryPolicy::default(),
            clock: Arc::new(TokioClock),
            tenant: None,
            user_agent: concat!("wso2-federation/", env!("CARGO_PKG_VERSION")).to_owned(),
            pool: None,
        }
    }
}

/// The settings of a client of type `C` for one server: `IsClient::builder(url)` gives a
/// `ClientBuilder<IsClient>`, `ApimClient::builder(url)` a `ClientBuilder<ApimClient>`, and
/// [`build`](Self::build) returns exactly that client (no annotation needed, and no other client
/// can come out of it). The same options apply to every client.
///
/// ```
/// use wso2_is_client::{CarbonClient, ClientBuilder, IsClient};
///
/// let is = IsClient::builder("https://is.example.com:9443")
///     .credentials("admin", "admin-password")
///     .build()?;
/// // Settings made without knowing the server kind, then built for it.
/// fn settings<C: wso2_is_client::FromCarbon>(url: &str) -> ClientBuilder<C> {
///     ClientBuilder::new(url).credentials("admin", "admin-password")
/// }
/// let core: CarbonClient = settings("https://is.example.com:9443").build()?;
/// # let _ = (is, core);
/// # Ok::<(), wso2_is_client::Error>(())
/// ```
///
/// A builder for one client cannot build another:
///
/// ```compile_fail
/// use wso2_is_client::{CarbonClient, IsClient};
///
/// let core: CarbonClient = IsClient::builder("https://is.example.com:9443")
///     .credentials("admin", "admin-password")
///     .build()?;
/// # Ok::<(), wso2_is_client::Error>(())
/// ```
pub struct ClientBuilder<C> {
    settings: Settings,
    client: PhantomData<fn() -> C>,
}

impl<C> Clone for ClientBuilder<C> {
    fn clone(&self) -> Self {
        Self {
            settings: self.settings.clone(),
            client: PhantomData,
        }
    }
}

impl<C> fmt::Debug for ClientBuilder<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("client", &std::any::type_name::<C>())
            .field("settings", &self.settings)
            .finish()
    }
}

impl<C: FromCarbon> ClientBuilder<C> {
    /// Settings for the server at `base_url` (e.g. `https://is.example.com:9443/`; any host,
    /// port and path prefix). Checked when [`build`](Self::build) is called.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            settings: Settings::new(base_url.into()),
            client: PhantomData,
        }
    }

    /// Admin credentials (`admin`, or `admin@tenant.com` for a tenant admin).
    pub fn credentials(
        mut self,
        username: impl Into<String>,
        password: impl Into<SecretString>,
    ) -> Self {
        self.settings.credentials = Some(Credentials::new(username, password));
        self
    }

    /// How to authenticate: HTTP Basic per request (default) or a session login.
    pub fn auth_mode(mut self, mode: AuthMode) -> Self {
        self.settings.auth_mode = mode;
        self
    }

    /// Trusts the certificates in this PEM (a private CA, or the server's own certificate) and
    /// only them. May be called more than once. Without it, the system's trust store is used.
    pub fn ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.settings.tls.ca_pems.push(pem.into());
        self
    }

    /// Presents a client certificate (mutual TLS): a PEM certificate chain and its private key.
    pub fn client_identity_pem(
        mut self,
        cert_chain_pem: impl Into<Vec<u8>>,
        key_pem: impl Into<SecretString>,
    ) -> Self {
        self.settings.tls.identity = Some((cert_chain_pem.into(), key_pem.into()));
        self
    }

    /// Turns certificate verification off. Anyone on the path can then impersonate the server
    /// and read the admin password. Logged as a warning when the client is built.
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.settings.tls.danger_accept_invalid_certs = accept;
        self
    }

    /// Allows a plain `http://` base URL (credentials then cross the network in clear).
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.settings.allow_http = allow;
        self
    }

    /// Connect timeout (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.settings.connect_timeout = timeout;
        self
    }

    /// Timeout of a whole request, answer included (default 60 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.settings.request_timeout = timeout;
        self
    }

    /// Largest answer body read (default 16 MiB); larger answers are cut off with
    /// [`Error::BodyTooLarge`].
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.settings.body_limit = bytes;
        self
    }

    /// Retry policy for transient failures (see [`RetryPolicy`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.settings.retry = policy;
        self
    }

    /// The clock retries wait on (inject one in tests).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.settings.clock = clock;
        self
    }

    /// Tenant domain for tenant-qualified REST paths (`/t/{tenant}/scim2/...`). Defaults to the
    /// domain of a tenant-qualified user name.
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.settings.tenant = Some(tenant.into());
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.settings.user_agent = agent.into();
        self
    }

    /// Sends through `pool`: the connections of its server and its bound on requests in flight,
    /// shared with the other clients built with it (see [`ServerPool`]; the credentials stay
    /// this client's own). [`build`](Self::build) refuses, with [`Error::Config`], a pool already
    /// serving another server or set up with other TLS settings, timeouts or user agent.
    pub fn pool(mut self, pool: &ServerPool) -> Self {
        self.settings.pool = Some(pool.clone());
        self
    }

    /// The base URL as given.
    pub fn base_url(&self) -> &str {
        &self.settings.base_url
    }

    /// Checks the settings and builds the client. Nothing is sent.
    pub fn build(self) -> Result<C> {
        self.build_core().map(C::from_carbon)
    }

    /// Checks the settings and builds [`PlainHttp`](super::PlainHttp) over them: the same TLS
    /// settings, timeouts, body limit and user agent, for requests that carry no admin
    /// credentials (those, if given, are neither needed nor ever sent). Nothing is sent.
    pub fn build_plain_http(mut self) -> Result<super::PlainHttp> {
        if self.settings.credentials.is_none() {
            // Never sent: `PlainHttp` has no way to send the client's credentials.
            self.settings.credentials = Some(Credentials::new("unused", "unused"));
        }
        self.build_core().map(super::PlainHttp::new)
    }

    /// Checks the settings and builds the core client. Nothing is sent.
    fn build_core(self) -> Result<CarbonClient> {
        let base = parse_base_url(&self.settings.base_url, self.settings.allow_http)?;
        let credentials = self
            .settings
            .credentials
            .ok_or_else(|| Error::config("admin credentials are required (call `credentials`)"))?;
        if credentials.username().trim().is_empty() {
            return Err(Error::invalid("credentials.username", "must not be empty"));
        }
        if credentials.password().expose_secret().is_empty() {
            return Err(Error::invalid("credentials.password", "must not be empty"));
        }
        if self.settings.body_limit == 0 {
            return Err(Error::invalid("body_limit", "must be at least 1 byte"));
        }
        let tenant = match self.settings.tenant {
            Some(t) if t.trim().is_empty() || t.contains('/') => {
                return Err(Error::invalid(
                    "tenant",
                    "must be a domain name such as example.com",
                ));
            }
            Some(t) => Some(t),
            None => credentials.tenant_domain().map(str::to_owned),
        };
        let transport = TransportSettings {
            tls: self.settings.tls,
            https_only: !self.settings.allow_http,
            connect_timeout: self.settings.connect_timeout,
            request_timeout: self.settings.request_timeout,
            user_agent: self.settings.user_agent,
        };
        let http = match &self.settings.pool {
            Some(pool) => pool.http_for(&base, transport)?,
            None => transport.build()?,
        };
        let endpoint = match (base.host_str(), base.port_or_known_default()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            _ => base.to_string(),
        };
        Ok(CarbonClient {
            inner: Arc::new(Inner {
                http,
                base,
                endpoint,
                credentials,
                auth_mode: self.settings.auth_mode,
                session: Mutex::new(None),
                retry: self.settings.retry,
                clock: self.settings.clock,
                body_limit: self.settings.body_limit,
                request_timeout: self.settings.request_timeout,
                tenant,
                pool: self.settings.pool,
            }),
        })
    }
}

fn parse_base_url(raw: &str, allow_http: bool) -> Result<Url> {
    let field = "base_url";
    let mut url = Url::parse(raw.trim())
        .map_err(|e| Error::invalid(field, format!("{raw:?} is not a URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        "http" => {
            return Err(Error::invalid(
                field,
                format!(
                    "{raw:?} uses plain http; admin credentials would cross the network in clear (allow it explicitly with `allow_http(true)`)"
                ),
            ));
        }
        other => {
            return Err(Error::invalid(
                field,
                format!("unsupported scheme {other:?}; use https"),
            ));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid(field, format!("{raw:?} has no host")));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid(
            field,
            format!("{raw:?} must not have a query or fragment"),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(
            field,
            "must not embed credentials; use `credentials`",
        ));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// Turns the core into a service client (implemented by `IsClient` and `ApimClient`).
pub trait FromCarbon: Sized {
    /// Wraps the core.
    fn from_carbon(core: CarbonClient) -> Self;
}

impl FromCarbon for CarbonClient {
    fn from_carbon(core: CarbonClient) -> Self {
        core
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dispatch;

    #[test]
    fn base_urls_are_checked() {
        assert!(
            parse_base_url("https://is.example.com:9444", false)
                .unwrap()
                .as_str()
                .ends_with(":9444/")
        );
        assert_eq!(
            parse_base_url("https://h/prefix", false).unwrap().path(),
            "/prefix/"
        );
        let http = parse_base_url("http://h:9763/", false).unwrap_err();
        assert!(http.to_string().contains("allow_http"), "{http}");
        assert!(parse_base_url("http://h:9763/", true).is_ok());
        assert!(parse_base_url("ftp://h/", true).is_err());
        assert!(parse_base_url("https://u:p@h/", false).is_err());
        assert!(parse_base_url("https://h/?a=b", false).is_err());
        assert!(parse_base_url("not a url", false).is_err());
    }

    #[test]
    fn build_requires_credentials_and_never_sends() {
        let e = ClientBuilder::<CarbonClient>::new("https://localhost:9443")
            .build()
            .unwrap_err();
        assert_eq!(e.dispatch(), Dispatch::NotSent);
        let e = ClientBuilder::<CarbonClient>::new("https://localhost:9443")
            .credentials("admin", "")
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("password"));
    }

    #[test]
    fn tenant_paths() {
        let c = ClientBuilder::<CarbonClient>::new("https://h/")
            .credentials("admin@example.com", "x")
            .build()
            .unwrap();
        assert_eq!(c.tenant_path("scim2/Users"), "t/example.com/scim2/Users");
        let c = ClientBuilder::<CarbonClient>::new("https://h/")
            .credentials("admin", "x")
            .build()
            .unwrap();
        assert_eq!(c.tenant_path("scim2/Users"), "scim2/Users");
    }
}
