//! Transport: sending one request, reading its answer up to the body limit, and classifying
//! transport failures by how far the request got. Shared by the SOAP and REST call paths.

use http::HeaderValue;
use http::header::{CONTENT_TYPE, HeaderMap, HeaderName};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::{CarbonClient, tls};
use crate::error::{Dispatch, Error, Result};

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

pub(super) const SOAP_ACTION: HeaderName = HeaderName::from_static("soapaction");

pub(super) fn sensitive(value: &SecretString) -> Result<HeaderValue> {
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
    /// Sends one request and reads the answer body up to the limit; with a [`ServerPool`], holds
    /// one of its permits from before sending until the body is read or the request failed.
    ///
    /// [`ServerPool`]: super::ServerPool
    pub(super) async fn send(
        &self,
        operation: &'static str,
        builder: reqwest::RequestBuilder,
    ) -> Result<HttpAnswer> {
        let _in_flight = match &self.inner.pool {
            Some(pool) => Some(pool.enter().await?),
            None => None,
        };
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
pub(super) fn name_endpoint(e: Error, url: &Url) -> Error {
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
pub(super) fn should_retry(e: &Error, read_only: bool) -> bool {
    if !e.is_retryable() {
        return false;
    }
    read_only || e.dispatch() == Dispatch::NotSent
}
