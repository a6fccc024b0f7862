//! OIDC: the discovery document and the token-endpoint client-authentication probe.
//!
//! * [`Oidc::discovery`] reads an OpenID Provider configuration document (from IS at
//!   [`IS_DISCOVERY_PATH`], or from any URL) into a typed [`ProviderMetadata`], checking that
//!   every endpoint is an absolute URL.
//! * A [`ClientAuthProbe`], sent with `send(&client)`, asks a token endpoint whether it accepts a client's
//!   credentials, without obtaining a token: it sends an authorization-code request with a
//!   made-up code, so a server that accepts the client answers `invalid_grant`. It recognises
//!   the double-authentication refusal of IS >= 5.8 (`invalid_request, The client MUST NOT use
//!   more than one authentication method in each`): IS 5.9 gives it when `client_id` is in the
//!   body and the TLS handshake carried a client certificate while its MutualTLS client
//!   authenticator is on. A client built with
//!   [`client_identity_pem`](crate::ClientBuilder::client_identity_pem) probing with
//!   [`ClientAuthMethod::Post`] reproduces what APIM's authenticator does with
//!   `IsBasicAuthEnabled=false`; [`ClientAuthMethod::Basic`] is what it does with `true`.
//!
//! The token endpoint may be on another host than the client's base URL: absolute URLs go
//! through the same transport (TLS trust, timeouts, body limits), and the admin credentials are
//! never sent to them. The client secret is a [`SecretString`]: it never appears in `Debug`,
//! errors or logs.
//!
//! ```no_run
//! # async fn demo() -> Result<(), wso2_is_client::Error> {
//! use wso2_is_client::IsClient;
//! use wso2_is_client::oidc::{ClientAuthMethod, ClientAuthProbe, ProbeOutcome};
//!
//! let is = IsClient::builder("https://is.example.com:9443")
//!     .credentials("admin", "admin-password")
//!     .build()?;
//! let op = is.oidc().server_discovery().await?;
//! let token_endpoint = op.token_endpoint.expect("IS has a token endpoint");
//! let outcome = ClientAuthProbe::new(
//!     token_endpoint.as_str(),
//!     "apim-client-id",
//!     "apim-client-secret",
//!     ClientAuthMethod::Basic,
//! )
//! .redirect_uri("https://apim.example.com:9443/commonauth")
//! .send(&is)
//! .await?;
//! match outcome {
//!     ProbeOutcome::CredentialsAccepted { .. } => println!("the client may log in"),
//!     ProbeOutcome::MultipleAuthMethods { .. } => {
//!         println!("set IsBasicAuthEnabled=true on the APIM identity provider")
//!     }
//!     other => println!("not usable: {other:?}"),
//! }
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::fmt;

use http::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::carbon::{CarbonClient, HttpAnswer, RestAuth, RestRequest, SecretBody};
use crate::error::{Error, Result, ServerText};
use crate::scim2::wire;

/// Where IS 5.9 serves its discovery document, below the base URL (and tenant prefix): its
/// issuer is `{base}/oauth2/token`.
pub const IS_DISCOVERY_PATH: &str = "oauth2/token/.well-known/openid-configuration";
/// The suffix of a discovery URL after the issuer (OpenID Connect Discovery 1.0, section 4).
pub const WELL_KNOWN_SUFFIX: &str = "/.well-known/openid-configuration";
/// The `redirect_uri` a probe sends unless told otherwise. The made-up code fails before any
/// server compares it, but IS requires the parameter; give the client's registered callback
/// with [`ClientAuthProbe::redirect_uri`] to be exact.
pub const DEFAULT_PROBE_REDIRECT_URI: &str = "https://localhost/commonauth";

/// An OpenID Provider's configuration (OpenID Connect Discovery 1.0, section 3).
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderMetadata {
    /// `issuer`: the provider's identifier (an absolute URL); the `iss` of its ID tokens.
    pub issuer: String,
    /// `authorization_endpoint` (called by browsers).
    pub authorization_endpoint: Url,
    /// `token_endpoint` (called server to server); absent only for implicit-only providers.
    pub token_endpoint: Option<Url>,
    /// `userinfo_endpoint`.
    pub userinfo_endpoint: Option<Url>,
    /// `jwks_uri`: the provider's signing keys.
    pub jwks_uri: Url,
    /// `end_session_endpoint` (RP-initiated logout).
    pub end_session_endpoint: Option<Url>,
    /// `token_endpoint_auth_methods_supported` (default `client_secret_basic` when absent, see
    /// [`supports_client_auth`](Self::supports_client_auth)).
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// `grant_types_supported`.
    pub grant_types_supported: Vec<String>,
    /// `scopes_supported`.
    pub scopes_supported: Vec<String>,
    /// `claims_supported`.
    pub claims_supported: Vec<String>,
    /// Every other member of the document, as read (`response_types_supported`,
    /// `introspection_endpoint`, ...).
    pub extra: BTreeMap<String, Value>,
}

impl ProviderMetadata {
    /// Reads and checks a discovery document: required members present, every endpoint (the
    /// typed ones and any other `*_endpoint` or `jwks_uri`) an absolute `http(s)` URL.
    pub fn from_json(document: &[u8]) -> Result<Self, MetadataProblem> {
        let value: Value = serde_json::from_slice(document)
            .map_err(|e| MetadataProblem(wire::json_problem(&e).to_string()))?;
        let Value::Object(mut map) = value else {
            return Err(MetadataProblem("the document is not a JSON object".into()));
        };
        let issuer = take_string(&mut map, "issuer")?
            .ok_or_else(|| MetadataProblem("issuer is missing".into()))?;
        absolute_url("issuer", &issuer)?;
        let required = |m: &mut serde_json::Map<String, Value>, k: &str| -> Result<Url, _> {
            take_url(m, k)?.ok_or_else(|| MetadataProblem(format!("{k} is missing")))
        };
        let authorization_endpoint = required(&mut map, "authorization_endpoint")?;
        let jwks_uri = required(&mut map, "jwks_uri")?;
        let token_endpoint = take_url(&mut map, "token_endpoint")?;
        let userinfo_endpoint = take_url(&mut map, "userinfo_endpoint")?;
        let end_session_endpoint = take_url(&mut map, "end_session_endpoint")?;
        let token_endpoint_auth_methods_supported =
            take_strings(&mut map, "token_endpoint_auth_methods_supported")?;
        let grant_types_supported = take_strings(&mut map, "grant_types_supported")?;
        let scopes_supported = take_strings(&mut map, "scopes_supported")?;
        let claims_supported = take_strings(&mut map, "claims_supported")?;
        for (key, value) in &map {
            if key.ends_with("_endpoint") {
                match value {
                    Value::String(s) if s.trim().is_empty() => {}
                    Value::String(s) => {
                        absolute_url(key, s)?;
                    }
                    Value::Null => {}
                    _ => return Err(MetadataProblem(format!("{key} is not a string"))),
                }
            }
        }
        Ok(Self {
            issuer,
            authorization_endpoint,
            token_endpoint,
            userinfo_endpoint,
            jwks_uri,
            end_session_endpoint,
            token_endpoint_auth_methods_supported,
            grant_types_supported,
            scopes_supported,
            claims_supported,
            extra: map.into_iter().collect(),
        })
    }

    /// Whether the provider says it accepts this client authentication method at its token
    /// endpoint (`client_secret_basic` when the document lists none, as the specification
    /// says). [`ClientAuthMethod::Both`] is never a supported method.
    pub fn supports_client_auth(&self, method: ClientAuthMethod) -> bool {
        let name = match method {
            ClientAuthMethod::Basic => "client_secret_basic",
            ClientAuthMethod::Post => "client_secret_post",
            ClientAuthMethod::Both => return false,
        };
        if self.token_endpoint_auth_methods_supported.is_empty() {
            return name == "client_secret_basic";
        }
        self.token_endpoint_auth_methods_supported
            .iter()
            .any(|m| m == name)
    }

    /// Whether the issuer is the one the document's URL names: the URL without
    /// `/.well-known/openid-configuration` (a mismatch usually means the server's configured
    /// host name differs from the one used to reach it).
    pub fn issuer_matches(&self, discovery_url: &Url) -> bool {
        let url = discovery_url.as_str();
        let Some(expected) = url.strip_suffix(WELL_KNOWN_SUFFIX) else {
            return false;
        };
        self.issuer.trim_end_matches('/') == expected.trim_end_matches('/')
    }
}

/// What is wrong with a discovery document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataProblem(String);

impl fmt::Display for MetadataProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MetadataProblem {}

fn take_string(
    map: &mut serde_json::Map<String, Value>,
    key: &str,
) -> Result<Option<String>, MetadataProblem> {
    match map.remove(key) {
        None | Some(Value::Null) => Ok(None),
        // An unset endpoint in a server's configuration may come out as "": absent.
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(MetadataProblem(format!("{key} is not a string"))),
    }
}

fn take_url(
    map: &mut serde_json::Map<String, Value>,
    key: &str,
) -> Result<Option<Url>, MetadataProblem> {
    take_string(map, key)?
        .map(|s| absolute_url(key, &s))
        .transpose()
}

fn take_strings(
    map: &mut serde_json::Map<String, Value>,
    key: &str,
) -> Result<Vec<String>, MetadataProblem> {
    match map.remove(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => Err(MetadataProblem(format!(
                    "{key} has a member that is not a string"
                ))),
            })
            .collect(),
        Some(_) => Err(MetadataProblem(format!("{key} is not a list"))),
    }
}

/// An absolute `http(s)` URL with a host.
fn absolute_url(key: &str, value: &str) -> Result<Url, MetadataProblem> {
    let shown = || ServerText::new(value);
    let url = Url::parse(value)
        .map_err(|_| MetadataProblem(format!("{key} (\"{}\") is not an absolute URL", shown())))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none_or(str::is_empty) {
        return Err(MetadataProblem(format!(
            "{key} (\"{}\") is not an absolute http(s) URL",
            shown()
        )));
    }
    Ok(url)
}

/// How a probe presents the client's credentials to the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClientAuthMethod {
    /// `client_secret_basic`: an `Authorization: Basic` header (what the IS OIDC authenticator
    /// of APIM sends with `IsBasicAuthEnabled=true`).
    Basic,
    /// `client_secret_post`: `client_id` and `client_secret` in the form body (what it sends
    /// otherwise).
    Post,
    /// The header and the body at once, which RFC 6749 section 2.3.1 forbids: servers that
    /// check (oidc-provider) refuse it as a second mechanism. IS 5.9 counts authenticators, not
    /// places: it refuses a body `client_id` when a TLS client certificate also authenticates
    /// the caller (see the module docs).
    Both,
}

/// What a token endpoint said about a client's credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
#[non_exhaustive]
pub enum ProbeOutcome {
    /// The credentials were accepted: the server went on to refuse the made-up code
    /// (`invalid_grant`), or answered 2xx.
    CredentialsAccepted {
        /// HTTP status.
        status: u16,
    },
    /// The client is unknown or its secret is wrong (`invalid_client`, or HTTP 401).
    InvalidClient {
        /// HTTP status.
        status: u16,
        /// `error_description`, if any.
        description: Option<ServerText>,
    },
    /// The server refuses credentials given in more than one way at once (IS: `invalid_request,
    /// The client MUST NOT use more than one authentication method in each`, when body
    /// credentials meet a TLS client certificate; oidc-provider: `client authentication must
    /// only be provided using one mechanism`, when header and body both carry them).
    MultipleAuthMethods {
        /// HTTP status.
        status: u16,
        /// `error_description`.
        description: Option<ServerText>,
    },
    /// Any other answer.
    Other {
        /// HTTP status.
        status: u16,
        /// `error`, if the answer had one.
        error: Option<ServerText>,
        /// `error_description`, if any.
        description: Option<ServerText>,
    },
}

impl ProbeOutcome {
    /// Whether the credentials were accepted.
    pub fn is_accepted(&self) -> bool {
        matches!(self, Self::CredentialsAccepted { .. })
    }
}

/// Whether an `error_description` is a refusal of credentials given in more than one way.
fn says_multiple_methods(description: &str) -> bool {
    let d = description.to_ascii_lowercase();
    d.contains("more than one authentication method")
        || d.contains("multiple client authentication")
        || d.contains("multiple authentication methods")
        // IS 5.9 when a Basic header and body credentials come together.
        || d.contains("request body and headers contain authorization information")
        || (d.contains("authentication")
            && d.contains("only")
            && (d.contains("one mechanism") || d.contains("one method")))
}

/// Classifies a token endpoint's answer as [`ClientAuthProbe::send`] does, without I/O;
/// `client_secret` is scrubbed from the server's text. Pure; for tests and fuzzing of the
/// decoder.
pub fn classify_token_answer(answer: &HttpAnswer, client_secret: &str) -> ProbeOutcome {
    classify(answer, client_secret)
}

/// Classifies a token endpoint's answer to a probe. `secret` is scrubbed from the server's
/// text. The body of a 2xx answer (tokens) is not read.
pub(crate) fn classify(answer: &HttpAnswer, secret: &str) -> ProbeOutcome {
    let status = answer.status;
    if (200..300).contains(&status) {
        return ProbeOutcome::CredentialsAccepted { status };
    }
    let doc = match serde_json::from_slice::<Value>(&answer.body) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    };
    let text = |key: &str| {
        doc.as_ref()
            .and_then(|d| d.get(key))
            .and_then(Value::as_str)
            .map(|s| wire::detail_text(s, &[secret]))
            .filter(|s| !s.is_empty())
    };
    let error = text("error");
    let description = text("error_description");
    let multiple = description
        .as_ref()
        .is_some_and(|d| says_multiple_methods(d.raw()));
    match error.as_ref().map(ServerText::raw) {
        Some("invalid_request" | "invalid_client") if multiple => {
            ProbeOutcome::MultipleAuthMethods {
                status,
                description,
            }
        }
        Some("invalid_client") => ProbeOutcome::InvalidClient {
            status,
            description,
        },
        _ if status == 401 => ProbeOutcome::InvalidClient {
            status,
            description,
        },
        Some("invalid_grant") => ProbeOutcome::CredentialsAccepted { status },
        _ => ProbeOutcome::Other {
            status,
            error,
            description,
        },
    }
}

/// A code that looks like one IS issues (a random UUID), which no server has issued.
fn bogus_code() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let word = |salt: u64| {
        let mut h = RandomState::new().build_hasher();
        h.write_u128(nanos);
        h.write_u64(salt);
        h.finish()
    };
    let (a, b) = (word(1), word(2));
    let hex = format!("{a:016x}{b:016x}");
    // Version 4, variant 10xx, as a UUID generator would write it.
    let variant = ["8", "9", "a", "b"][usize::from(hex.as_bytes()[16] % 4)];
    format!(
        "{}-{}-4{}-{}{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        variant,
        &hex[17..20],
        &hex[20..32]
    )
}

/// Handler for the OIDC endpoints; get one with `IsClient::oidc()`.
#[derive(Debug, Clone, Copy)]
pub struct Oidc<'c> {
    client: &'c CarbonClient,
}

impl<'c> Oidc<'c> {
    /// The handler over a client core.
    pub fn new(client: &'c CarbonClient) -> Self {
        Self { client }
    }

    /// Reads the discovery document at `url`: an absolute URL (any host), or a path below the
    /// client's base URL. Fails with [`Error::Decode`] when a required member is missing or an
    /// endpoint is not an absolute URL. An issuer that does not match the URL is logged as a
    /// warning (see [`ProviderMetadata::issuer_matches`]).
    pub async fn discovery(&self, url: &str) -> Result<ProviderMetadata> {
        let operation = "openid discovery";
        let target = self.client.url(url)?;
        let req = RestRequest {
            operation,
            method: Method::GET,
            path: url.to_owned(),
            auth: RestAuth::None,
            content_type: None,
            accept: Some("application/json"),
            body: None,
            read_only: true,
        };
        let answer = self.client.rest(&req).await?;
        if !wire::is_success(&answer) {
            return Err(match wire::unexpected(&answer) {
                crate::UnexpectedAnswer::Empty => Error::Http {
                    operation,
                    status: answer.status,
                    detail: None,
                },
                kind => Error::UnexpectedAnswer {
                    operation,
                    status: answer.status,
                    answer: kind,
                },
            });
        }
        if serde_json::from_slice::<Value>(&answer.body).is_err() {
            return Err(Error::UnexpectedAnswer {
                operation,
                status: answer.status,
                answer: wire::unexpected(&answer),
            });
        }
        let metadata =
            ProviderMetadata::from_json(&answer.body).map_err(|problem| Error::Decode {
                operation,
                status: answer.status,
                source: Box::new(problem),
            })?;
        if !metadata.issuer_matches(&target) {
            tracing::warn!(issuer = %ServerText::new(metadata.issuer.as_str()), url = %target,
                "the discovery document's issuer does not match its URL");
        }
        Ok(metadata)
    }

    /// Reads this server's discovery document at IS 5.9's [`IS_DISCOVERY_PATH`] (tenant
    /// qualified when the client has a tenant).
    pub async fn server_discovery(&self) -> Result<ProviderMetadata> {
        self.discovery(&self.client.tenant_path(IS_DISCOVERY_PATH))
            .await
    }
}

/// A client-authentication probe: an owned request value, sent with [`send`](Self::send).
///
/// It sends `grant_type=authorization_code` with a made-up code: nothing is issued, nothing
/// changes on the server. It is sent once (never retried after it may have reached the server).
#[derive(Clone)]
pub struct ClientAuthProbe {
    token_endpoint: String,
    client_id: String,
    client_secret: SecretString,
    method: ClientAuthMethod,
    redirect_uri: String,
}

impl fmt::Debug for ClientAuthProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientAuthProbe")
            .field("token_endpoint", &self.token_endpoint)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("method", &self.method)
            .field("redirect_uri", &self.redirect_uri)
            .finish()
    }
}

impl ClientAuthProbe {
    /// A probe of `client_id`/`client_secret` at `token_endpoint` (an absolute URL on any host,
    /// or a path below the base URL of the client it is sent through), presented as `method`.
    /// Set the `redirect_uri` if needed, then [`send`](Self::send) it.
    pub fn new(
        token_endpoint: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<SecretString>,
        method: ClientAuthMethod,
    ) -> Self {
        Self {
            token_endpoint: token_endpoint.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            method,
            redirect_uri: DEFAULT_PROBE_REDIRECT_URI.to_owned(),
        }
    }

    /// The `redirect_uri` sent (default [`DEFAULT_PROBE_REDIRECT_URI`]); the client's
    /// registered callback, e.g. `https://apim.example.com:9443/commonauth`.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = uri.into();
        self
    }

    /// The token request: form body, credentials as `method` says.
    fn request(&self, client: &CarbonClient) -> Result<RestRequest> {
        if self.client_id.is_empty() {
            return Err(Error::invalid("client_id", "must not be empty"));
        }
        if self.client_secret.expose_secret().is_empty() {
            return Err(Error::invalid("client_secret", "must not be empty"));
        }
        let url = client.url(&self.token_endpoint)?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(Error::invalid(
                "token_endpoint",
                format!("{:?} is not an http(s) URL", self.token_endpoint),
            ));
        }
        let code = bogus_code();
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "authorization_code")
            .append_pair("code", &code)
            .append_pair("redirect_uri", &self.redirect_uri);
        let in_body = matches!(self.method, ClientAuthMethod::Post | ClientAuthMethod::Both);
        if in_body {
            form.append_pair("client_id", &self.client_id)
                .append_pair("client_secret", self.client_secret.expose_secret());
        }
        let auth = match self.method {
            ClientAuthMethod::Basic | ClientAuthMethod::Both => RestAuth::Basic {
                user: self.client_id.clone(),
                password: self.client_secret.clone(),
            },
            ClientAuthMethod::Post => RestAuth::None,
        };
        Ok(RestRequest {
            operation: "token endpoint probe",
            method: Method::POST,
            path: url.to_string(),
            auth,
            content_type: Some("application/x-www-form-urlencoded"),
            accept: Some("application/json"),
            body: Some(SecretBody(form.finish().into_bytes())),
            read_only: false,
        })
    }

    /// Sends the probe through `client` (its transport: TLS trust, timeouts, limits; never its
    /// admin credentials) and classifies the answer. Fails only when no answer came
    /// (connection, TLS, timeout) or the input is bad; every answer is an outcome.
    pub async fn send(&self, client: &impl AsRef<CarbonClient>) -> Result<ProbeOutcome> {
        let client = client.as_ref();
        let req = self.request(client)?;
        let answer = client.rest(&req).await?;
        let outcome = classify(&answer, self.client_secret.expose_secret());
        tracing::debug!(?outcome, method = ?self.method, "token endpoint probe");
        Ok(outcome)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> HttpAnswer {
        HttpAnswer {
            status,
            headers: http::HeaderMap::new(),
            body: bytes::Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn token_answers_are_classified() {
        let c = |s, b| classify(&answer(s, b), "canary-secret");
        assert_eq!(
            c(
                400,
                r#"{"error":"invalid_grant","error_description":"Invalid authorization code"}"#
            ),
            ProbeOutcome::CredentialsAccepted { status: 400 }
        );
        assert_eq!(
            c(200, r#"{"access_token":"x"}"#),
            ProbeOutcome::CredentialsAccepted { status: 200 }
        );
        assert!(matches!(
            c(
                401,
                r#"{"error":"invalid_client","error_description":"Client Authentication failed."}"#
            ),
            ProbeOutcome::InvalidClient { status: 401, .. }
        ));
        assert!(matches!(
            c(401, "<html>nope</html>"),
            ProbeOutcome::InvalidClient {
                status: 401,
                description: None
            }
        ));
        assert!(matches!(
            c(
                400,
                r#"{"error_description":"The client MUST NOT use more than one authentication method in each","error":"invalid_request"}"#
            ),
            ProbeOutcome::MultipleAuthMethods { status: 400, .. }
        ));
        assert!(matches!(
            c(
                400,
                r#"{"error":"invalid_request","error_description":"client authentication must only be provided using one mechanism"}"#
            ),
            ProbeOutcome::MultipleAuthMethods { .. }
        ));
        assert_eq!(
            c(
                400,
                r#"{"error":"invalid_request","error_description":"client_id mismatch canary-secret"}"#
            ),
            ProbeOutcome::Other {
                status: 400,
                error: Some("invalid_request".into()),
                description: Some("client_id mismatch [REDACTED]".into()),
            }
        );
        assert!(matches!(
            c(502, "bad gateway"),
            ProbeOutcome::Other {
                status: 502,
                error: None,
                ..
            }
        ));
    }

    #[test]
    fn bogus_codes_look_like_uuids_and_differ() {
        let a = bogus_code();
        let b = bogus_code();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        let parts: Vec<_> = a.split('-').map(str::len).collect();
        assert_eq!(parts, vec![8, 4, 4, 4, 12]);
        assert_eq!(&a[14..15], "4");
    }

    #[test]
    fn metadata_is_checked() {
        let ok = br#"{"issuer":"https://is:9443/oauth2/token","authorization_endpoint":"https://is:9443/oauth2/authorize","token_endpoint":"https://is:9443/oauth2/token","jwks_uri":"https://is:9443/oauth2/jwks","response_types_supported":["code"],"introspection_endpoint":"https://is:9443/oauth2/introspect"}"#;
        let m = ProviderMetadata::from_json(ok).unwrap();
        assert!(m.supports_client_auth(ClientAuthMethod::Basic));
        assert!(!m.supports_client_auth(ClientAuthMethod::Post));
        assert!(m.extra.contains_key("response_types_supported"));
        assert!(m.issuer_matches(
            &Url::parse("https://is:9443/oauth2/token/.well-known/openid-configuration").unwrap()
        ));
        let relative = br#"{"issuer":"https://is","authorization_endpoint":"/authorize","jwks_uri":"https://is/jwks"}"#;
        let e = ProviderMetadata::from_json(relative).unwrap_err();
        assert!(e.to_string().contains("authorization_endpoint"), "{e}");
        let other = br#"{"issuer":"https://is","authorization_endpoint":"https://is/a","jwks_uri":"https://is/jwks","revocation_endpoint":"revoke"}"#;
        let e = ProviderMetadata::from_json(other).unwrap_err();
        assert!(e.to_string().contains("revocation_endpoint"), "{e}");
        let blank = br#"{"issuer":"https://is","authorization_endpoint":"https://is/a","jwks_uri":"https://is/jwks","end_session_endpoint":"","registration_endpoint":" "}"#;
        assert_eq!(
            ProviderMetadata::from_json(blank)
                .unwrap()
                .end_session_endpoint,
            None
        );
        let missing = br#"{"issuer":"https://is","authorization_endpoint":"https://is/a"}"#;
        assert!(
            ProviderMetadata::from_json(missing)
                .unwrap_err()
                .to_string()
                .contains("jwks_uri")
        );
    }
}
