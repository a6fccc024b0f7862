//! The Carbon admin-service core shared by the IS and APIM clients: transport (TLS, timeouts,
//! body limits), authentication (Basic or session), retries, and the SOAP and REST call paths.
//!
//! [`CarbonClient`] is cheap to clone (an `Arc` inside) and safe to share between tasks. Its parts,
//! one file per concern:
//!
//! * `builder`: the settings ([`ClientBuilder`]) and their checks;
//! * `transport`: sending one request, reading its answer up to the body limit, classifying
//!   transport failures by how far the request got;
//! * `pool`: [`ServerPool`], one server's connections and bound on requests in flight, shared
//!   by the clients of many tenants;
//! * `session`: Basic or session authentication of SOAP calls;
//! * `soap_call` and `rest_call`: the two call paths, with their retries;
//! * `plain`: [`PlainHttp`], requests over the same transport without the credentials (a
//!   browser's requests);
//! * [`soap`]: the pure SOAP codec, and [`AnswerError::into_error`](soap::AnswerError::into_error),
//!   the one conversion of a SOAP answer into an [`Error`].

pub mod auth;
mod builder;
mod plain;
mod pool;
mod rest_call;
pub mod retry;
pub mod secret;
mod session;
pub mod soap;
mod soap_call;
pub(crate) mod text;
mod tls;
mod transport;
pub mod xml;

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use tokio::sync::Mutex;
use url::Url;

use self::auth::{AuthMode, Credentials};
use self::retry::{Clock, RetryPolicy};
use crate::error::{Error, Result};

pub use self::builder::{
    ClientBuilder, DEFAULT_BODY_LIMIT, DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, FromCarbon,
};
pub use self::plain::PlainHttp;
pub use self::pool::ServerPool;
pub use self::rest_call::{RestAuth, RestRequest, SecretBody};
pub use self::transport::HttpAnswer;

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
    /// The shared connections and bound on requests in flight, if any.
    pool: Option<ServerPool>,
}

/// The admin-service client core: one server, one set of credentials.
#[derive(Debug, Clone)]
pub struct CarbonClient {
    inner: Arc<Inner>,
}

impl AsRef<CarbonClient> for CarbonClient {
    fn as_ref(&self) -> &CarbonClient {
        self
    }
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
}
