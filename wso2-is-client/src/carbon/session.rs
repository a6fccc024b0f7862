//! Authentication of SOAP calls: HTTP Basic on every request, or an `AuthenticationAdmin`
//! session (login once, the `JSESSIONID` cookie afterwards, a new login when it expires).

use http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, HeaderMap};
use secrecy::SecretString;

use super::CarbonClient;
use super::auth::{self, AuthMode, Login};
use super::soap::{self, Operation};
use super::transport::{SOAP_ACTION, sensitive};
use crate::error::{Error, Result};

impl CarbonClient {
    /// Adds the credentials for a SOAP call; returns the session generation used (0 for Basic).
    pub(super) async fn authorize_soap(&self, headers: &mut HeaderMap) -> Result<u64> {
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

    pub(super) async fn invalidate_session(&self, generation: u64) {
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
        let accepted =
            soap::decode_answer::<Login>(answer.status, answer.content_type(), &answer.body)?;
        if !accepted {
            return Err(Error::LoginRefused {
                user: creds.username().to_owned(),
                endpoint: self.inner.endpoint.clone(),
            });
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
        soap::decode_answer::<auth::Logout>(answer.status, answer.content_type(), &answer.body)
    }
}
