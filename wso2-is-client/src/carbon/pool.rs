//! [`ServerPool`]: one server's connections and its bound on requests in flight, shared by the
//! clients of many tenants or federations.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use secrecy::ExposeSecret;
use tokio::sync::{Semaphore, SemaphorePermit};
use url::{Origin, Url};

use super::tls::TlsSettings;
use crate::error::{Error, Result};

/// The connections to one server (IS or APIM) and a bound on the requests in flight to it,
/// shared by every client built with it ([`ClientBuilder::pool`](super::ClientBuilder::pool)):
/// typically the clients of many tenants or federations, each with its own credentials.
///
/// * **One pool per server.** The first client built with the pool fixes its server (scheme,
///   host and port) and its transport settings (TLS trust, client certificate,
///   `danger_accept_invalid_certs`, `allow_http`, connect and request timeouts, user agent);
///   building a client for another server, or with other transport settings, is refused with
///   [`Error::Config`], so connections are never shared between clients that would not trust
///   the same servers or present the same certificate. Give such a client its own pool.
/// * **Shared: connections and the limit.** Every request of those clients (SOAP, REST, SCIM2,
///   session login and logout, [`PlainHttp`](super::PlainHttp)) holds one of
///   [`max_in_flight`](Self::max_in_flight) permits from before it is sent until its answer body
///   is read (or it fails); a retry waits for a permit again, and no permit is held while waiting
///   out a backoff. A request to another host through such a client (an absolute URL, e.g. a
///   token endpoint, or a browser hop of a `PlainHttp`) holds a permit of this pool too. The
///   wait for a permit is not part of the request timeout, which starts when the request is sent.
/// * **Not shared: credentials.** Each client keeps its own admin credentials, session, retry
///   policy and body limit; nothing of one client's authentication reaches another's requests.
///
/// Cheap to clone (an `Arc` inside); clones are the same pool. Without a pool, each client has
/// its own connections and no bound of its own on requests in flight.
///
/// ```
/// use wso2_is_client::{IsClient, ServerPool};
///
/// let is_pool = ServerPool::new(8)?;
/// let tenants = ["a.example", "b.example"].map(|t| {
///     IsClient::builder("https://is.example.com:9443")
///         .credentials(format!("admin@{t}"), "tenant-admin-password")
///         .pool(&is_pool)
///         .build()
/// });
/// // Both tenants' requests share the connections and at most 8 are in flight at once.
/// # for c in tenants { c?; }
/// assert_eq!(is_pool.max_in_flight(), 8);
/// # Ok::<(), wso2_is_client::Error>(())
/// ```
#[derive(Clone)]
pub struct ServerPool {
    inner: Arc<PoolInner>,
}

struct PoolInner {
    limit: usize,
    permits: Semaphore,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
    /// Set by the first client built with the pool.
    transport: Mutex<Option<Shared>>,
}

/// The connections of a pool and what they were set up for.
struct Shared {
    origin: Origin,
    settings: TransportSettings,
    http: reqwest::Client,
}

/// The settings a `reqwest::Client` is built from: what clients sharing one must agree on.
#[derive(Debug, Clone)]
pub(super) struct TransportSettings {
    pub(super) tls: TlsSettings,
    pub(super) https_only: bool,
    pub(super) connect_timeout: Duration,
    pub(super) request_timeout: Duration,
    pub(super) user_agent: String,
}

impl TransportSettings {
    /// Builds the HTTP client (its connection pool). Nothing is sent.
    pub(super) fn build(&self) -> Result<reqwest::Client> {
        let tls = self.tls.client_config()?;
        reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(self.connect_timeout)
            .timeout(self.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(self.user_agent.clone())
            .https_only(self.https_only)
            .build()
            .map_err(|e| Error::Config {
                message: "cannot build the HTTP client".into(),
                source: Some(Box::new(e)),
            })
    }

    /// The first setting in which `self` and `other` differ, named for an error message.
    fn difference(&self, other: &Self) -> Option<&'static str> {
        let (a, b) = (&self.tls, &other.tls);
        if a.ca_pems != b.ca_pems {
            Some("trusted certificates (`ca_pem`)")
        } else if !same_identity(a, b) {
            Some("client certificate (`client_identity_pem`)")
        } else if a.danger_accept_invalid_certs != b.danger_accept_invalid_certs {
            Some("certificate verification (`danger_accept_invalid_certs`)")
        } else if self.https_only != other.https_only {
            Some("`allow_http`")
        } else if self.connect_timeout != other.connect_timeout {
            Some("connect timeout")
        } else if self.request_timeout != other.request_timeout {
            Some("request timeout")
        } else if self.user_agent != other.user_agent {
            Some("user agent")
        } else {
            None
        }
    }
}

fn same_identity(a: &TlsSettings, b: &TlsSettings) -> bool {
    match (&a.identity, &b.identity) {
        (None, None) => true,
        (Some((ca, ka)), Some((cb, kb))) => ca == cb && ka.expose_secret() == kb.expose_secret(),
        _ => false,
    }
}

/// A permit to have one request in flight, counted while held.
pub(super) struct InFlight<'a> {
    pool: &'a PoolInner,
    _permit: SemaphorePermit<'a>,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.pool.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl ServerPool {
    /// A pool allowing at most `max_in_flight` requests in flight at once to its server, across
    /// every client built with it. Its connections are set up when the first client is built.
    ///
    /// Fails with [`Error::Config`] when `max_in_flight` is 0 (no request could ever be sent) or
    /// larger than Tokio's semaphore allows (`usize::MAX >> 3`).
    pub fn new(max_in_flight: usize) -> Result<Self> {
        if max_in_flight == 0 {
            return Err(Error::config(
                "a server pool's max_in_flight must be at least 1 (with 0, no request could be sent)",
            ));
        }
        if max_in_flight > Semaphore::MAX_PERMITS {
            return Err(Error::config(format!(
                "a server pool's max_in_flight must be at most {}",
                Semaphore::MAX_PERMITS
            )));
        }
        Ok(Self {
            inner: Arc::new(PoolInner {
                limit: max_in_flight,
                permits: Semaphore::new(max_in_flight),
                in_flight: AtomicUsize::new(0),
                peak: AtomicUsize::new(0),
                transport: Mutex::new(None),
            }),
        })
    }

    /// The most requests allowed in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.inner.limit
    }

    /// The requests in flight now (holding a permit).
    pub fn in_flight(&self) -> usize {
        self.inner.in_flight.load(Ordering::SeqCst)
    }

    /// The most requests that were in flight at once so far, as measured by the pool (never more
    /// than [`max_in_flight`](Self::max_in_flight)).
    pub fn peak_in_flight(&self) -> usize {
        self.inner.peak.load(Ordering::SeqCst)
    }

    /// The pool's HTTP client for a client of `base` with `settings`: built by the first client,
    /// shared by the others when they are for the same server with the same settings.
    pub(super) fn http_for(
        &self,
        base: &Url,
        settings: TransportSettings,
    ) -> Result<reqwest::Client> {
        let mut transport = self
            .inner
            .transport
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let origin = base.origin();
        match transport.as_ref() {
            Some(shared) if shared.origin != origin => Err(Error::config(format!(
                "this server pool serves {}, not {}: use one pool per server",
                shared.origin.ascii_serialization(),
                origin.ascii_serialization()
            ))),
            Some(shared) => match shared.settings.difference(&settings) {
                Some(what) => Err(Error::config(format!(
                    "this server pool's connections were set up with another {what}; clients \
                     sharing a pool need the same TLS settings, timeouts and user agent (give \
                     this client a pool of its own)"
                ))),
                None => Ok(shared.http.clone()),
            },
            None => {
                let http = settings.build()?;
                *transport = Some(Shared {
                    origin,
                    settings,
                    http: http.clone(),
                });
                Ok(http)
            }
        }
    }

    /// Waits for a permit to send one request.
    pub(super) async fn enter(&self) -> Result<InFlight<'_>> {
        let permit =
            self.inner.permits.acquire().await.map_err(|_| {
                Error::config("the server pool's permits are closed (cannot happen)")
            })?;
        let now = self.inner.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.inner.peak.fetch_max(now, Ordering::SeqCst);
        Ok(InFlight {
            pool: &self.inner,
            _permit: permit,
        })
    }
}

impl fmt::Debug for ServerPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let origin = self
            .inner
            .transport
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|s| s.origin.ascii_serialization());
        f.debug_struct("ServerPool")
            .field("max_in_flight", &self.inner.limit)
            .field("in_flight", &self.in_flight())
            .field("peak_in_flight", &self.peak_in_flight())
            .field("server", &origin)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carbon::{CarbonClient, ClientBuilder};

    fn builder(url: &str, pool: &ServerPool) -> ClientBuilder<CarbonClient> {
        ClientBuilder::new(url)
            .credentials("admin@a.example", "secret-a")
            .pool(pool)
    }

    #[test]
    fn zero_is_refused() {
        let e = ServerPool::new(0).unwrap_err();
        assert!(matches!(e, Error::Config { .. }), "{e:?}");
        assert!(e.to_string().contains("at least 1"), "{e}");
        assert!(ServerPool::new(Semaphore::MAX_PERMITS + 1).is_err());
        assert_eq!(ServerPool::new(3).unwrap().max_in_flight(), 3);
    }

    #[test]
    fn one_server_and_one_set_of_transport_settings_per_pool() {
        let pool = ServerPool::new(2).unwrap();
        let a = builder("https://is.example:9443/", &pool).build().unwrap();
        // Another tenant (other credentials, body limit, retries) of the same server: shared.
        let b = builder("https://is.example:9443/prefix", &pool)
            .credentials("admin@b.example", "secret-b")
            .body_limit(1024)
            .retry(crate::RetryPolicy::none())
            .build()
            .unwrap();
        let _ = (a, b);

        let refused = |b: ClientBuilder<CarbonClient>, needle: &str| {
            let e = b.build().unwrap_err();
            assert!(matches!(e, Error::Config { .. }), "{e:?}");
            let text = e.to_string();
            assert!(text.contains(needle), "{needle:?} not in {text}");
            assert!(!text.contains("secret"), "{text}");
        };
        refused(
            builder("https://apim.example:9443/", &pool),
            "one pool per server",
        );
        refused(
            builder("https://is.example:9444/", &pool),
            "one pool per server",
        );
        refused(
            builder("https://is.example:9443/", &pool).danger_accept_invalid_certs(true),
            "danger_accept_invalid_certs",
        );
        refused(
            builder("https://is.example:9443/", &pool).request_timeout(Duration::from_secs(1)),
            "request timeout",
        );
        refused(
            builder("https://is.example:9443/", &pool).user_agent("other"),
            "user agent",
        );
        // The refusals left the pool as it was.
        assert!(builder("https://is.example:9443/", &pool).build().is_ok());
        // Plain HTTP over the same settings shares the pool too.
        assert!(
            ClientBuilder::<CarbonClient>::new("https://is.example:9443/")
                .pool(&pool)
                .build_plain_http()
                .is_ok()
        );
    }

    #[test]
    fn debug_shows_the_limit_and_server_and_no_secret() {
        let pool = ServerPool::new(4).unwrap();
        let c = builder("https://is.example:9443/", &pool).build().unwrap();
        let text = format!("{pool:?} {c:?}");
        assert!(text.contains("max_in_flight: 4"), "{text}");
        assert!(text.contains("https://is.example:9443"), "{text}");
        assert!(!text.contains("secret-a"), "{text}");
    }

    #[tokio::test]
    async fn permits_are_counted_and_bounded() {
        let pool = ServerPool::new(2).unwrap();
        let a = pool.enter().await.unwrap();
        let b = pool.enter().await.unwrap();
        assert_eq!(pool.in_flight(), 2);
        tokio::select! {
            biased;
            _ = pool.enter() => panic!("a third permit was granted"),
            () = std::future::ready(()) => {}
        }
        drop(a);
        let c = pool.enter().await.unwrap();
        drop((b, c));
        assert_eq!(pool.in_flight(), 0);
        assert_eq!(pool.peak_in_flight(), 2);
    }
}
