//! Plain HTTP with a client's transport settings, for talking to a server as a browser does
//! (e.g. a login check that walks a portal's login through IS).

use url::Url;

use super::CarbonClient;
use super::transport::{HttpAnswer, name_endpoint};
use crate::error::{BoxError, Error, Result};

/// Requests sent with the transport settings of a [`CarbonClient`] (its trusted CAs, client
/// certificate and `danger_accept_invalid_certs` flag, timeouts, body limit and user agent) and
/// nothing else: never the admin credentials, no redirects followed, no cookies kept, no retries.
/// The caller sets every header itself. Cheap to clone.
///
/// Get one with [`CarbonClient::plain_http`], or without admin credentials with
/// [`ClientBuilder::build_plain_http`](super::ClientBuilder::build_plain_http).
#[derive(Debug, Clone)]
pub struct PlainHttp {
    core: CarbonClient,
}

impl CarbonClient {
    /// Plain HTTP over this client's transport (same connection pool and TLS settings), without
    /// its credentials.
    pub fn plain_http(&self) -> PlainHttp {
        PlainHttp { core: self.clone() }
    }
}

impl PlainHttp {
    pub(super) fn new(core: CarbonClient) -> Self {
        Self { core }
    }

    /// The base URL of the client these settings came from.
    pub fn base_url(&self) -> &Url {
        self.core.base_url()
    }

    /// Sends `request` (an absolute `http(s)` URL, any host) as it is and reads the complete
    /// answer, whatever its status. Errors say how far the request got, name the host contacted,
    /// and never carry the URL (its query may hold codes or keys). Mark secret headers
    /// sensitive ([`http::HeaderValue::set_sensitive`]) so that they never show in `Debug`.
    #[tracing::instrument(name = "plain_http", skip_all, fields(operation = operation, method = %request.method(), server = %request.uri().authority().map(|a| a.as_str()).unwrap_or("")))]
    pub async fn send(
        &self,
        operation: &'static str,
        request: http::Request<Vec<u8>>,
    ) -> Result<HttpAnswer> {
        let (parts, body) = request.into_parts();
        let url = Url::parse(&parts.uri.to_string())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| {
                Error::invalid(
                    "url",
                    format!("{operation}: an absolute http(s) URL is needed"),
                )
            })?;
        let builder = self
            .core
            .inner
            .http
            .request(parts.method, url.clone())
            .headers(parts.headers)
            .body(body);
        self.core
            .send(operation, builder)
            .await
            .map_err(|e| without_url(name_endpoint(e, &url)))
    }
}

/// The error with the URL taken out of its transport cause (reqwest's text names the URL).
fn without_url(e: Error) -> Error {
    fn strip(source: BoxError) -> BoxError {
        match source.downcast::<reqwest::Error>() {
            Ok(r) => Box::new(r.without_url()),
            Err(other) => other,
        }
    }
    match e {
        Error::Connect {
            operation,
            endpoint,
            source,
        } => Error::Connect {
            operation,
            endpoint,
            source: strip(source),
        },
        Error::Tls {
            operation,
            endpoint,
            problem,
            source,
        } => Error::Tls {
            operation,
            endpoint,
            problem,
            source: strip(source),
        },
        Error::Transport { operation, source } => Error::Transport {
            operation,
            source: strip(source),
        },
        Error::Config { message, source } => Error::Config {
            message,
            source: source.map(strip),
        },
        other => other,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::Dispatch;
    use crate::carbon::ClientBuilder;

    #[tokio::test]
    async fn errors_name_the_host_and_never_the_url() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        // No credentials needed, and the base URL need not be the host contacted.
        let http = ClientBuilder::<CarbonClient>::new("https://localhost:9443/")
            .build_plain_http()
            .unwrap();
        let req = http::Request::get(format!(
            "https://127.0.0.1:{port}/commonauth?code=SECRETCODE&state=SECRETSTATE"
        ))
        .body(Vec::new())
        .unwrap();
        let e = http.send("browser", req).await.unwrap_err();
        let mut chain = format!("{e} {e:?}");
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            chain.push_str(&format!(" <- {s} {s:?}"));
            source = s.source();
        }
        assert!(!chain.contains("SECRET"), "{chain}");
        assert!(chain.contains(&format!("127.0.0.1:{port}")), "{chain}");
        assert!(matches!(e, Error::Connect { .. }), "{e:?}");
        assert_eq!(e.dispatch(), Dispatch::NotSent);

        // Plain http is refused by an https-only client, without the URL either.
        let req = http::Request::get(format!("http://127.0.0.1:{port}/x?code=SECRETCODE"))
            .body(Vec::new())
            .unwrap();
        let e = http.send("browser", req).await.unwrap_err();
        assert!(!format!("{e:?}").contains("SECRET"), "{e:?}");

        let relative = http::Request::get("/commonauth").body(Vec::new()).unwrap();
        let e = http.send("browser", relative).await.unwrap_err();
        assert!(e.to_string().contains("absolute"), "{e}");
    }
}
