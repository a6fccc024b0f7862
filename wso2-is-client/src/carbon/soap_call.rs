//! The SOAP call path: encode, authenticate, send, decode, retry per the policy, and log in
//! again once when a session expired.

use http::HeaderValue;
use http::header::{CONTENT_TYPE, HeaderMap};

use super::CarbonClient;
use super::auth::AuthMode;
use super::soap::{self, AnswerError, Operation};
use super::transport::{SOAP_ACTION, should_retry};
use crate::error::{Error, Result};

impl CarbonClient {
    /// Checks a SOAP operation ([`Operation::check`]), sends it and decodes its answer, retrying
    /// per the client's policy. This is the transport of every SOAP handler and request value of
    /// this crate; call it directly only for an operation this crate has no handler for.
    #[tracing::instrument(name = "soap", skip_all, fields(service = O::SERVICE, operation = O::NAME, server = %self.inner.endpoint))]
    pub async fn call<O: Operation>(&self, op: &O) -> Result<O::Output> {
        op.check()?;
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
            Err(AnswerError::Fault(fault))
                if may_relogin
                    && fault.is_auth_failure()
                    && self.inner.auth_mode == AuthMode::Session =>
            {
                // The session expired: the request was refused, so sending it again is safe.
                self.invalidate_session(generation).await;
                Box::pin(self.call_once::<O>(request, false)).await
            }
            Err(AnswerError::Unexpected(_)) if answer.status == 401 => {
                if may_relogin && self.inner.auth_mode == AuthMode::Session {
                    // Carbon answers an expired or unknown session with a bare 401: the
                    // request was refused, so logging in again and resending is safe.
                    self.invalidate_session(generation).await;
                    return Box::pin(self.call_once::<O>(request, false)).await;
                }
                Err(Error::Http {
                    operation: O::NAME,
                    status: 401,
                    detail: Some("authentication required".into()),
                })
            }
            other => other.map_err(|e| e.into_error(O::NAME, answer.status)),
        }
    }
}
