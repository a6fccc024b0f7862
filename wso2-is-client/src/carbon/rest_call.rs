//! The REST call path (SCIM2, OIDC, REST management APIs): one request, authenticated as asked,
//! the complete answer returned whatever its status; reads retried per the policy.

use http::header::{AUTHORIZATION, CONTENT_TYPE};
use secrecy::{ExposeSecret, SecretString};

use super::CarbonClient;
use super::auth;
use super::transport::{HttpAnswer, name_endpoint, sensitive, should_retry};
use crate::error::{Error, Result};

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

impl CarbonClient {
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
}
