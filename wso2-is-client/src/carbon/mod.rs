//! The Carbon admin-service core shared by the IS and APIM clients: transport (TLS, timeouts,
//! body limits), authentication (Basic or session), retries, and the SOAP and REST call paths.
//!
//! [`CarbonClient`] is cheap to clone (an `Arc` inside) and safe to share between tasks.

pub mod auth;
pub mod retry;
pub mod secret;
pub mod soap;
pub(crate) mod text;
mod tls;
pub mod xml;

use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;
use http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, HeaderMap, HeaderName};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use url::Url;

use self::auth::{AuthMode, Credentials, Login};
use self::retry::{Clock, RetryPolicy, TokioClock};
use self::soap::{AnswerError, Operation};
use self::tls::TlsSettings;
use crate::error::{Dispatch, Error, Result};

/// Default cap on the size of an answer body: 16 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 16 * 1024 * 1024;
/// Default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default timeout of a whole request, answer body included.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Settings of a client for one server, built with [`ClientBuilder`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
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
}

impl ClientBuilder {
    /// Settings for the server at `base_url` (e.g. `https://is.example.com:9443/`; any host,
    /// port and path prefix). Checked when [`build`](Self::build) is called.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
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
        }
    }

    /// Admin credentials (`admin`, or `admin@tenant.com` for a tenant admin).
    pub fn credentials(
        mut self,
        username: impl Into<String>,
        password: impl Into<SecretString>,
    ) -> Self {
        self.credentials = Some(Credentials::new(username, password));
        self
    }

    /// How to authenticate: HTTP Basic per request (default) or a session login.
    pub fn auth_mode(mut self, mode: AuthMode) -> Self {
        self.auth_mode = mode;
        self
    }

    /// Trusts the certificates in this PEM (a private CA, or the server's own certificate) and
    /// only them. May be called more than once. Without it, the system's trust store is used.
    pub fn ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.tls.ca_pems.push(pem.into());
        self
    }

    /// Presents a client certificate (mutual TLS): a PEM certificate chain and its private key.
    pub fn client_identity_pem(
        mut self,
        cert_chain_pem: impl Into<Vec<u8>>,
        key_pem: impl Into<SecretString>,
    ) -> Self {
        self.tls.identity = Some((cert_chain_pem.into(), key_pem.into()));
        self
    }

    /// Turns certificate verification off. Anyone on the path can then impersonate the server
    /// and read the admin password. Logged as a warning when the client is built.
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.tls.danger_accept_invalid_certs = accept;
        self
    }

    /// Allows a plain `http://` base URL (credentials then cross the network in clear).
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// Connect timeout (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Timeout of a whole request, answer included (default 60 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Largest answer body read (default 16 MiB); larger answers are cut off with
    /// [`Error::BodyTooLarge`].
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Retry policy for transient failures (see [`RetryPolicy`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The clock retries wait on (inject one in tests).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Tenant domain for tenant-qualified REST paths (`/t/{tenant}/scim2/...`). Defaults to the
    /// domain of a tenant-qualified user name.
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = Some(tenant.into());
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = agent.into();
        self
    }

    /// The base URL as given.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Checks the settings and builds the core client. Nothing is sent.
    pub fn build_carbon(self) -> Result<CarbonClient> {
        let base = parse_base_url(&self.base_url, self.allow_http)?;
        let credentials = self
            .credentials
            .ok_or_else(|| Error::config("admin credentials are required (call `credentials`)"))?;
        if credentials.username().trim().is_empty() {
            return Err(Error::invalid("credentials.username", "must not be empty"));
        }
        if credentials.password().expose_secret().is_empty() {
            return Err(Error::invalid("credentials.password", "must not be empty"));
        }
        if self.body_limit == 0 {
            return Err(Error::invalid("body_limit", "must be at least 1 byte"));
        }
        let tenant = match self.tenant {
            Some(t) if t.trim().is_empty() || t.contains('/') => {
                return Err(Error::invalid(
                    "tenant",
                    "must be a domain name such as example.com",
                ));
            }
            Some(t) => Some(t),
            None => credentials.tenant_domain().map(str::to_owned),
        };
        let tls = self.tls.client_config()?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(self.connect_timeout)
            .timeout(self.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(self.user_agent)
            .https_only(!self.allow_http)
            .build()
            .map_err(|e| Error::Config {
                message: "cannot build the HTTP client".into(),
                source: Some(Box::new(e)),
            })?;
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
                auth_mode: self.auth_mode,
                session: Mutex::new(None),
                retry: self.retry,
                clock: self.clock,
                body_limit: self.body_limit,
                request_timeout: self.request_timeout,
                tenant,
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

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    base: Url,
    endpoint: String,
    credentials: Credentials,
    auth_mode: AuthMode,
    /// The session cookie header value, with a generation number bumped at each login.
    session: Mutex<Option<(u64, SecretString)>>,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
    body_limit: usize,
    request_timeout: Duration,
    tenant: Option<String>,
}

/// Who a REST request authenticates as.
#[derive(Clone)]
#[non_exhaustive]
pub enum RestAuth {
    /// No `Authorization` header.
    None,
    /// The admin credentials of the client (HTTP Basic).
    Admin,
    /// HTTP Basic with other credentials (e.g. an OAuth client id and secret).
    Basic {
        /// User (client id).
        user: String,
        /// Password (client secret).
        password: SecretString,
    },
    /// `Authorization: Bearer {token}` (an OAuth access token, e.g. for SCIM2).
    Bearer {
        /// The token.
        token: SecretString,
    },
}

impl std::fmt::Debug for RestAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::Admin => f.write_str("Admin"),
            Self::Basic { user, .. } => f
                .debug_struct("Basic")
                .field("user", user)
                .finish_non_exhaustive(),
            Self::Bearer { .. } => f.write_str("Bearer([REDACTED])"),
        }
    }
}

/// A REST (JSON or form) request below the server's base URL.
#[derive(Debug, Clone)]
pub struct RestRequest {
    /// The operation name used in errors and logs.
    pub operation: &'static str,
    /// HTTP method.
    pub method: http::Method,
    /// Path below the base URL (no leading slash), query included. May instead be an absolute
    /// `http(s)` URL, for an endpoint on another host (e.g. a token endpoint): it then goes through
    /// the same transport (TLS trust, timeouts, limits), but [`RestAuth::Admin`] is refused for
    /// it, so the admin credentials only ever go to the base URL's origin.
    pub path: String,
    /// Authentication.
    pub auth: RestAuth,
    /// `Content-Type` of the body.
    pub content_type: Option<&'static str>,
    /// `Accept` header.
    pub accept: Option<&'static str>,
    /// The body (may hold secrets: it is never logged).
    pub body: Option<SecretBody>,
    /// Whether the request only reads (retried after transient failures).
    pub read_only: bool,
}

/// A request body that never shows in `Debug` (it may carry passwords).
#[derive(Clone, Default)]
pub struct SecretBody(pub Vec<u8>);

impl std::fmt::Debug for SecretBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretBody({} bytes)", self.0.len())
    }
}

/// A complete HTTP answer, body read up to the client's limit.
#[derive(Debug, Clone)]
pub struct HttpAnswer {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: bytes::Bytes,
}

impl HttpAnswer {
    /// The `Content-Type` header, if present and readable.
    pub fn content_type(&self) -> Option<&str> {
        self.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok())
    }

    /// A header value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The admin-service client core: one server, one set of credentials.
#[derive(Debug, Clone)]
pub struct CarbonClient {
    inner: Arc<Inner>,
}

const SOAP_ACTION: HeaderName = HeaderName::from_static("soapaction");

fn sensitive(value: &SecretString) -> Result<HeaderValue> {
    let mut v = HeaderValue::from_str(value.expose_secret()).map_err(|_| {
        Error::invalid(
            "credentials",
            "contain characters that cannot be sent in an HTTP header",
        )
    })?;
    v.set_sensitive(true);
    Ok(v)
}

impl CarbonClient {
    /// The server's base URL (always ending in `/`).
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// `host:port` of the server, as used in error messages.
    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// The admin user name.
    pub fn username(&self) -> &str {
        self.inner.credentials.username()
    }

    /// The clock retries and polls wait on.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The tenant domain used for tenant-qualified REST paths, if any.
    pub fn tenant(&self) -> Option<&str> {
        self.inner.tenant.as_deref()
    }

    /// A REST path qualified with the tenant when there is one: `t/{tenant}/{path}`.
    pub fn tenant_path(&self, path: &str) -> String {
        match &self.inner.tenant {
            Some(t) if t != "carbon.super" => format!("t/{t}/{path}"),
            _ => path.to_owned(),
        }
    }

    /// Absolute URL of `path` below the base URL.
    pub fn url(&self, path: &str) -> Result<Url> {
        self.inner
            .base
            .join(path)
            .map_err(|e| Error::invalid("path", format!("{path:?}: {e}")))
    }

    /// Sends a SOAP operation and decodes its answer, retrying per the client's policy.
    #[tracing::instrument(name = "soap", skip_all, fields(service = O::SERVICE, operation = O::NAME, server = %self.inner.endpoint))]
    pub async fn call<O: Operation>(&self, op: &O) -> Result<O::Output> {
        let request = soap::encode(op).map_err(|p| Error::invalid(O::NAME, p.to_string()))?;
        let policy = &self.inner.retry;
        let mut attempt = 1;
        loop {
            let result = self.call_once::<O>(&request, true).await;
            match result {
                Err(e) if attempt < policy.max_attempts() && should_retry(&e, O::READ_ONLY) => {
                    let wait = policy.backoff(attempt);
                    tracing::debug!(attempt, ?wait, error = %e, "transient failure; retrying");
                    self.inner.clock.sleep(wait).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn call_once<O: Operation>(
        &self,
        request: &soap::SoapRequest,
        may_relogin: bool,
    ) -> Result<O::Output> {
        let url = self.url(&request.path)?;
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/xml; charset=UTF-8"),
        );
        headers.insert(
            SOAP_ACTION,
            HeaderValue::from_str(&request.action)
                .map_err(|_| Error::invalid("SOAPAction", "not a header value"))?,
        );
        let generation = self.authorize_soap(&mut headers).await?;
        tracing::trace!(bytes = request.body.len(), "sending SOAP request");
        let answer = self
            .send(
                O::NAME,
                self.inner
                    .http
                    .post(url)
                    .headers(headers)
                    .body(request.body.clone()),
            )
            .await?;
        tracing::debug!(status = answer.status, bytes = answer.body.len(), "answer");
        match soap::decode::<O>(answer.status, answer.content_type(), &answer.body) {
            Ok(out) => Ok(out),
            Err(AnswerError::Fault(fault)) => {
                if may_relogin
                    && fault.is_auth_failure()
                    && self.inner.auth_mode == AuthMode::Session
                {
                    // The session expired: the request was refused, so sending it again is safe.
                    self.invalidate_session(generation).await;
                    return Box::pin(self.call_once::<O>(request, false)).await;
                }
                Err(Error::Fault {
                    operation: O::NAME,
                    status: answer.status,
                    fault,
                })
            }
            Err(AnswerError::Unexpected(kind)) => {
                if answer.status == 401 {
                    if may_relogin && self.inner.auth_mode == AuthMode::Session {
                        // Carbon answers an expired or unknown session with a bare 401: the
                        // request was refused, so logging in again and resending is safe.
                        self.invalidate_session(generation).await;
                        return Box::pin(self.call_once::<O>(request, false)).await;
                    }
                    return Err(Error::Http {
                        operation: O::NAME,
                        status: 401,
                        detail: Some("authentication required".into()),
                    });
                }
                Err(Error::UnexpectedAnswer {
                    operation: O::NAME,
                    status: answer.status,
                    answer: kind,
                })
            }
            Err(AnswerError::Decode(e)) => Err(Error::Decode {
                operation: O::NAME,
                status: answer.status,
                source: Box::new(e),
            }),
        }
    }

    /// Adds the credentials for a SOAP call; returns the session generation used (0 for Basic).
    async fn authorize_soap(&self, headers: &mut HeaderMap) -> Result<u64> {
        match self.inner.auth_mode {
            AuthMode::Basic => {
                headers.insert(
                    AUTHORIZATION,
                    sensitive(&self.inner.credentials.basic_header())?,
                );
                Ok(0)
            }
            AuthMode::Session => {
                let (generation, cookie) = self.session().await?;
                headers.insert(COOKIE, sensitive(&cookie)?);
                Ok(generation)
            }
        }
    }

    /// The current session cookie, logging in first if there is none.
    async fn session(&self) -> Result<(u64, SecretString)> {
        let mut guard = self.inner.session.lock().await;
        if let Some((g, c)) = guard.as_ref() {
            return Ok((*g, c.clone()));
        }
        let cookie = self.login().await?;
        let generation = guard.as_ref().map_or(1, |(g, _)| g + 1);
        *guard = Some((generation, cookie.clone()));
        Ok((generation, cookie))
    }

    async fn invalidate_session(&self, generation: u64) {
        let mut guard = self.inner.session.lock().await;
        if guard.as_ref().is_some_and(|(g, _)| *g == generation) {
            *guard = None;
        }
    }

    /// `AuthenticationAdmin.login`; returns the `Cookie` header value to send afterwards.
    async fn login(&self) -> Result<SecretString> {
        let creds = &self.inner.credentials;
        let op = Login {
            username: creds.username().to_owned(),
            password: crate::Secret::from(creds.password().clone()),
            remote_address: "127.0.0.1".to_owned(),
        };
        let request = soap::encode(&op).map_err(|p| Error::invalid("login", p.to_string()))?;
        let url = self.url(&request.path)?;
        let answer = self
            .send(
                Login::NAME,
                self.inner
                    .http
                    .post(url)
                    .header(CONTENT_TYPE, "text/xml; charset=UTF-8")
                    .header(SOAP_ACTION, request.action.as_str())
                    .body(request.body),
            )
            .await?;
        match soap::decode::<Login>(answer.status, answer.content_type(), &answer.body) {
            Ok(true) => {}
            Ok(false) => {
                return Err(Error::LoginRefused {
                    user: creds.username().to_owned(),
                    endpoint: self.inner.endpoint.clone(),
                });
            }
            Err(AnswerError::Fault(fault)) => {
                return Err(Error::Fault {
                    operation: Login::NAME,
                    status: answer.status,
                    fault,
                });
            }
            Err(AnswerError::Unexpected(kind)) => {
                return Err(Error::UnexpectedAnswer {
                    operation: Login::NAME,
                    status: answer.status,
                    answer: kind,
                });
            }
            Err(AnswerError::Decode(e)) => {
                return Err(Error::Decode {
                    operation: Login::NAME,
                    status: answer.status,
                    source: Box::new(e),
                });
            }
        }
        let cookies: Vec<String> = answer
            .headers
            .get_all(http::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .map(|kv| kv.trim().to_owned())
            .filter(|kv| kv.contains('='))
            .collect();
        if !cookies.iter().any(|c| c.starts_with("JSESSIONID=")) {
            return Err(Error::Decode {
                operation: Login::NAME,
                status: answer.status,
                source: "the login was accepted but no JSESSIONID cookie came back".into(),
            });
        }
        Ok(SecretString::from(cookies.join("; ")))
    }

    /// Ends the session, if one is open (session mode only; a no-op otherwise).
    pub async fn logout(&self) -> Result<()> {
        let cookie = self.inner.session.lock().await.take();
        let Some((_, cookie)) = cookie else {
            return Ok(());
        };
        let request =
            soap::encode(&auth::Logout).map_err(|p| Error::invalid("logout", p.to_string()))?;
        let url = self.url(&request.path)?;
        let answer = self
            .send(
                auth::Logout::NAME,
                self.inner
                    .http
                    .post(url)
                    .header(CONTENT_TYPE, "text/xml; charset=UTF-8")
                    .header(SOAP_ACTION, request.action.as_str())
                    .header(COOKIE, sensitive(&cookie)?)
                    .body(request.body),
            )
            .await?;
        match soap::decode::<auth::Logout>(answer.status, answer.content_type(), &answer.body) {
            Ok(()) => Ok(()),
            Err(AnswerError::Fault(fault)) => Err(Error::Fault {
                operation: "logout",
                status: answer.status,
                fault,
            }),
            Err(AnswerError::Unexpected(kind)) => Err(Error::UnexpectedAnswer {
                operation: "logout",
                status: answer.status,
                answer: kind,
            }),
            Err(AnswerError::Decode(e)) => Err(Error::Decode {
                operation: "logout",
                status: answer.status,
                source: Box::new(e),
            }),
        }
    }

    /// Sends a REST request and returns the complete answer, whatever its status; retried per
    /// the client's policy when `read_only` (or when nothing was sent).
    #[tracing::instrument(name = "rest", skip_all, fields(operation = req.operation, method = %req.method, server = %self.inner.endpoint))]
    pub async fn rest(&self, req: &RestRequest) -> Result<HttpAnswer> {
        let url = self.url(&req.path)?;
        let foreign = url.origin() != self.inner.base.origin();
        if foreign && matches!(req.auth, RestAuth::Admin) {
            return Err(Error::invalid(
                "path",
                format!(
                    "{}: the admin credentials are only sent to {}, not to {}",
                    req.operation,
                    self.inner.endpoint,
                    url.origin().ascii_serialization()
                ),
            ));
        }
        let policy = &self.inner.retry;
        let mut attempt = 1;
        loop {
            let mut builder = self.inner.http.request(req.method.clone(), url.clone());
            match &req.auth {
                RestAuth::None => {}
                RestAuth::Admin => {
                    builder = builder.header(
                        AUTHORIZATION,
                        sensitive(&self.inner.credentials.basic_header())?,
                    )
                }
                RestAuth::Basic { user, password } => {
                    builder = builder.header(
                        AUTHORIZATION,
                        sensitive(&auth::basic_header(user, password.expose_secret()))?,
                    );
                }
                RestAuth::Bearer { token } => {
                    let value = SecretString::from(format!("Bearer {}", token.expose_secret()));
                    builder = builder.header(AUTHORIZATION, sensitive(&value)?);
                }
            }
            if let Some(ct) = req.content_type {
                builder = builder.header(CONTENT_TYPE, ct);
            }
            if let Some(accept) = req.accept {
                builder = builder.header(http::header::ACCEPT, accept);
            }
            if let Some(body) = &req.body {
                builder = builder.body(body.0.clone());
            }
            let mut result = self.send(req.operation, builder).await;
            if foreign {
                result = result.map_err(|e| name_endpoint(e, &url));
            }
            let retry = match &result {
                Ok(a) => req.read_only && matches!(a.status, 502..=504),
                Err(e) => should_retry(e, req.read_only),
            };
            if retry && attempt < policy.max_attempts() {
                self.inner.clock.sleep(policy.backoff(attempt)).await;
                attempt += 1;
                continue;
            }
            return result;
        }
    }

    /// Sends one request and reads the answer body up to the limit.
    async fn send(
        &self,
        operation: &'static str,
        builder: reqwest::RequestBuilder,
    ) -> Result<HttpAnswer> {
        let mut response = builder
            .send()
            .await
            .map_err(|e| self.classify(operation, e))?;
        let status = response.status().as_u16();
        let limit = self.inner.body_limit;
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(Error::BodyTooLarge {
                operation,
                status,
                limit,
            });
        }
        let headers = std::mem::take(response.headers_mut());
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > limit {
                        return Err(Error::BodyTooLarge {
                            operation,
                            status,
                            limit,
                        });
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Err(self.classify(operation, e)),
            }
        }
        Ok(HttpAnswer {
            status,
            headers,
            body: body.into(),
        })
    }

    fn classify(&self, operation: &'static str, e: reqwest::Error) -> Error {
        let endpoint = self.inner.endpoint.clone();
        if let Some(problem) = tls::tls_problem(&e) {
            return Error::Tls {
                operation,
                endpoint,
                problem,
                source: Box::new(e),
            };
        }
        if e.is_connect() {
            return Error::Connect {
                operation,
                endpoint,
                source: Box::new(e),
            };
        }
        if self.inner.base.scheme() == "https" && canceled_before_sending(&e) {
            return Error::Tls {
                operation,
                endpoint,
                problem: crate::TlsProblem::ClosedBeforeRequest,
                source: Box::new(e),
            };
        }
        if e.is_timeout() {
            return Error::Timeout {
                operation,
                timeout: self.inner.request_timeout,
            };
        }
        if e.is_builder() {
            return Error::Config {
                message: "the request could not be built".into(),
                source: Some(Box::new(e)),
            };
        }
        Error::Transport {
            operation,
            source: Box::new(e),
        }
    }
}

/// Names the host actually contacted in connection and TLS errors of a request to an absolute URL
/// on another host than the base URL.
fn name_endpoint(e: Error, url: &Url) -> Error {
    let endpoint = match (url.host_str(), url.port_or_known_default()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        _ => url.origin().ascii_serialization(),
    };
    match e {
        Error::Connect {
            operation, source, ..
        } => Error::Connect {
            operation,
            endpoint,
            source,
        },
        Error::Tls {
            operation,
            problem,
            source,
            ..
        } => Error::Tls {
            operation,
            endpoint,
            problem,
            source,
        },
        other => other,
    }
}

/// Whether the request was dropped before it was written because its connection closed
/// (hyper's "connection was not ready"): nothing was sent.
fn canceled_before_sending(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(e);
    while let Some(err) = current {
        if err
            .downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_canceled)
        {
            return true;
        }
        current = err.source();
    }
    false
}

/// Whether a failed attempt may be repeated: transient failures of reads, and failures of any
/// operation that provably sent nothing.
fn should_retry(e: &Error, read_only: bool) -> bool {
    if !e.is_retryable() {
        return false;
    }
    read_only || e.dispatch() == Dispatch::NotSent
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

impl ClientBuilder {
    /// Checks the settings and builds a client of type `C` (`IsClient`, `ApimClient`, or the
    /// bare `CarbonClient`). Nothing is sent.
    pub fn build<C: FromCarbon>(self) -> Result<C> {
        self.build_carbon().map(C::from_carbon)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let e = ClientBuilder::new("https://localhost:9443")
            .build_carbon()
            .unwrap_err();
        assert_eq!(e.dispatch(), Dispatch::NotSent);
        let e = ClientBuilder::new("https://localhost:9443")
            .credentials("admin", "")
            .build_carbon()
            .unwrap_err();
        assert!(e.to_string().contains("password"));
    }

    #[test]
    fn tenant_paths() {
        let c = ClientBuilder::new("https://h/")
            .credentials("admin@example.com", "x")
            .build_carbon()
            .unwrap();
        assert_eq!(c.tenant_path("scim2/Users"), "t/example.com/scim2/Users");
        let c = ClientBuilder::new("https://h/")
            .credentials("admin", "x")
            .build_carbon()
            .unwrap();
        assert_eq!(c.tenant_path("scim2/Users"), "scim2/Users");
    }
}
