//! The one error type of this crate.
//!
//! Every failure says how far the request got ([`Dispatch`]): not sent (bad input, bad
//! configuration, no connection), maybe sent (timeout or dropped connection after the request
//! left), or answered (a fault, an HTTP error, or an answer that could not be decoded). Callers
//! that change servers need exactly this: an error that was not sent changed nothing; after any
//! other error of a write, re-read by natural key before deciding.
//!
//! `Display` states this layer's problem; causes are reachable through
//! [`std::error::Error::source`]. No transport or parser type appears in this API, and no error
//! carries a raw answer body or a secret. Text the server sent (fault strings, details, error
//! messages, excerpts) is held as a [`ServerText`]: bounded, and shown with its control
//! characters escaped.

use std::fmt;
use std::time::Duration;

pub use crate::carbon::text::ServerText;

/// A boxed error cause.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// How far a failed request got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dispatch {
    /// Nothing reached the server: nothing changed.
    NotSent,
    /// The request may have reached the server, but no answer came back: its outcome is unknown.
    MaybeSent,
    /// The server answered.
    Answered,
}

/// A SOAP fault, as sent by the server (in an HTTP 500, or sometimes inside a 200 body).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SoapFault {
    /// The fault code as written, e.g. `soapenv:Server` or `axis2ns2:50977`.
    pub code: ServerText,
    /// The fault string: for WSO2, the exception message.
    pub message: ServerText,
    /// The detail's exception element and its fields, when present.
    pub detail: Option<FaultDetail>,
}

impl SoapFault {
    /// The fault code without its prefix (`Server`, `Client`, `50977`).
    pub fn code_local(&self) -> &str {
        let code = self.code.raw();
        code.rsplit(':').next().unwrap_or(code)
    }

    /// Whether Carbon's authentication handler raised the fault: code `50977`, whatever its
    /// text (`Access Denied. Authentication failed - Invalid credentials provided.`, `Access
    /// Denied. Please login first.`, `Authentication failure`, ...). That handler runs before the
    /// operation is dispatched, so the operation did not run: a write that received this fault
    /// did not happen (see [`Error::not_applied`]).
    pub fn is_from_authentication_handler(&self) -> bool {
        self.code_local() == "50977"
    }

    /// Whether the fault reports refused credentials: code `50977` (`Access Denied.
    /// Authentication failed - Invalid credentials provided.`, `Access Denied. Please login
    /// first.`), except the bare `Authentication failure`, which Carbon sends when authentication
    /// itself crashed (a server-side, transient error: see [`is_transient`](Self::is_transient)).
    pub fn is_auth_failure(&self) -> bool {
        (self.code_local() == "50977" && !self.is_transient())
            || self.message.raw().contains("Please login first")
    }

    /// Whether the fault reports a server-side failure during authentication (`Authentication
    /// failure`, e.g. the fresh-server race of IS 5.9): retrying a read is reasonable.
    pub fn is_transient(&self) -> bool {
        self.message.raw().trim() == "Authentication failure"
    }

    /// Whether the fault reports a denied authorization: the user is authenticated but lacks the
    /// permission (`Access Denied.` without code 50977), or the application-level `User not
    /// authorized` (which IS 5.9 also answers for a service provider that does not exist).
    pub fn is_access_denied(&self) -> bool {
        let m = self.message.raw();
        (self.code_local() != "50977" && m.starts_with("Access Denied"))
            || m.contains("Failed authorization attempt")
            || m.trim() == "User not authorized"
    }

    /// The fault string and, when the detail carries its own text, that text too: what the
    /// predicates below read.
    fn texts(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.message.raw()).chain(
            self.detail
                .as_ref()
                .and_then(|d| d.message.as_ref())
                .map(ServerText::raw),
        )
    }

    /// Whether the fault says the object already exists (the wordings of IS 5.x-7.x).
    pub fn is_already_exists(&self) -> bool {
        self.texts().any(says_already_exists)
    }

    /// Whether the fault says the object does not exist.
    pub fn is_not_found(&self) -> bool {
        self.texts().any(says_not_found)
    }
}

fn says_already_exists(text: &str) -> bool {
    let m = text.to_ascii_lowercase();
    m.contains("already exist")
            || m.contains("already registered")
            // addIdP: `An Identity Provider has already been registered with the name X ...`
            || m.contains("already been registered")
            || m.contains("useralreadyexisting")
            // addRole: `30012 - RoleExistingRole name: X exists in the system. ...`
            || m.contains("roleexisting")
            || m.contains("duplicate")
}

fn says_not_found(text: &str) -> bool {
    let m = text.to_ascii_lowercase();
    m.contains("not found")
            || m.contains("does not exist")
            || m.contains("doesn't exist")
            || m.contains("cannot find")
            || m.contains("could not find")
            || m.contains("not existing")
            // deleteRole of a user-store role: `31806 - Cannot delete non-existing role`
            || m.contains("non-existing")
            || m.contains("invalid consumer key")
            || m.contains("no such")
}

impl fmt::Display for SoapFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

/// The detail element of a fault.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FaultDetail {
    /// Local name of the detail's first element, e.g.
    /// `IdentityApplicationManagementServiceIdentityApplicationManagementException`.
    pub element: ServerText,
    /// The exception's `message` (or `Message`), when present.
    pub message: Option<ServerText>,
    /// The exception's `errorCode`, when present.
    pub error_code: Option<ServerText>,
}

/// What the server sent instead of the expected document.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnexpectedAnswer {
    /// No body.
    Empty,
    /// An HTML page (a login page, a proxy's error page); its title when it has one.
    Html {
        /// The page title.
        title: Option<ServerText>,
    },
    /// Plain text; its first line.
    Text {
        /// The first line.
        excerpt: ServerText,
    },
    /// XML that is not a SOAP envelope; its root element.
    Xml {
        /// Local name of the root element.
        root: ServerText,
    },
    /// Something else, by content type.
    Other {
        /// The `Content-Type` header, if any.
        content_type: Option<ServerText>,
    },
}

impl fmt::Display for UnexpectedAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("an empty body"),
            Self::Html { title: Some(t) } => write!(f, "an HTML page titled \"{t}\""),
            Self::Html { title: None } => f.write_str("an HTML page"),
            Self::Text { excerpt } => write!(f, "plain text \"{excerpt}\""),
            Self::Xml { root } => write!(f, "an XML document with root <{root}>"),
            Self::Other {
                content_type: Some(c),
            } => write!(f, "a body of type {c}"),
            Self::Other { content_type: None } => f.write_str("a body of unknown type"),
        }
    }
}

/// What is wrong with the server's TLS certificate, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsProblem {
    /// The certificate is not signed by a trusted CA.
    UnknownIssuer,
    /// The certificate has expired or is not yet valid.
    Expired,
    /// The certificate is not valid for the host name used.
    HostnameMismatch,
    /// The server asked for a client certificate that was not given or not accepted.
    ClientCertificate,
    /// The server closed the TLS connection right after the handshake, before the request could
    /// be sent. With TLS 1.3 this is how a server that requires a client certificate (and did
    /// not get an acceptable one) usually refuses: its alert arrives after the client finished
    /// the handshake.
    ClosedBeforeRequest,
    /// Another handshake failure.
    Other(String),
}

impl fmt::Display for TlsProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownIssuer => f.write_str(
                "the server's certificate is not signed by a trusted CA; give the CA certificate \
                 (or the server's own certificate, e.g. exported from wso2carbon.jks) as PEM with `ca_pem`",
            ),
            Self::Expired => f.write_str(
                "the server's certificate has expired or is not yet valid; renew it on the server \
                 (or check this machine's clock)",
            ),
            Self::HostnameMismatch => f.write_str(
                "the server's certificate is not valid for this host name; use a host name in its \
                 subjectAltName, or reissue the certificate with this name in its SAN",
            ),
            Self::ClientCertificate => f.write_str(
                "the server requires a client certificate and refused this client's (none was \
                 given, or the server does not trust it); give one signed by a CA the server \
                 trusts with `client_identity_pem`",
            ),
            Self::ClosedBeforeRequest => f.write_str(
                "the server closed the connection right after the TLS handshake, before the request \
                 was sent; a server that requires a client certificate does this: give one signed by \
                 a CA it trusts with `client_identity_pem` (or see the server's TLS log)",
            ),
            Self::Other(m) => write!(f, "TLS handshake failed: {m}"),
        }
    }
}

/// A field of the input that was refused before anything was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidInput {
    /// The field or argument.
    pub field: String,
    /// Why it was refused.
    pub reason: String,
}

impl InvalidInput {
    pub(crate) fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for InvalidInput {
    /// The field and reason may name values read from a server (a property key in a
    /// read-modify-write): shown bounded and cleaned, like any [`ServerText`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let limit = ServerText::SHOWN;
        write!(
            f,
            "{}: {}",
            crate::carbon::text::clean(&self.field, limit),
            crate::carbon::text::clean(&self.reason, limit)
        )
    }
}

impl std::error::Error for InvalidInput {}

/// Errors of the WSO2 identity clients.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bad input, refused before sending.
    #[error("invalid input: {0}")]
    InvalidInput(InvalidInput),

    /// Bad client configuration, refused before sending.
    #[error("invalid client configuration: {message}")]
    Config {
        /// What is wrong.
        message: String,
        /// The underlying problem, if any.
        #[source]
        source: Option<BoxError>,
    },

    /// No connection could be made; nothing was sent.
    #[error("{operation}: could not connect to {endpoint}")]
    Connect {
        /// The operation.
        operation: &'static str,
        /// Host and port.
        endpoint: String,
        /// The cause.
        #[source]
        source: BoxError,
    },

    /// The TLS handshake failed; nothing was sent.
    #[error("{operation}: TLS with {endpoint} failed: {problem}")]
    Tls {
        /// The operation.
        operation: &'static str,
        /// Host and port.
        endpoint: String,
        /// What is wrong, and what to do.
        problem: TlsProblem,
        /// The cause.
        #[source]
        source: BoxError,
    },

    /// No answer in time after the request was sent: its outcome is unknown.
    #[error("{operation}: no answer within {timeout:?}; the request may have been processed")]
    Timeout {
        /// The operation.
        operation: &'static str,
        /// The limit that was reached.
        timeout: Duration,
    },

    /// The connection failed after the request left: its outcome is unknown.
    #[error(
        "{operation}: the connection failed after the request was sent; it may have been processed"
    )]
    Transport {
        /// The operation.
        operation: &'static str,
        /// The cause.
        #[source]
        source: BoxError,
    },

    /// The server refused the request with a SOAP fault.
    #[error("{operation}: the server answered with a fault: {fault}")]
    Fault {
        /// The operation.
        operation: &'static str,
        /// HTTP status of the answer (usually 500, sometimes 200).
        status: u16,
        /// The fault (boxed: it is the largest variant).
        fault: Box<SoapFault>,
    },

    /// The server answered with an HTTP error status and no usable error document.
    #[error("{operation}: the server answered HTTP {status}{}", detail.as_ref().map(|d| format!(": {d}")).unwrap_or_default())]
    Http {
        /// The operation.
        operation: &'static str,
        /// HTTP status.
        status: u16,
        /// A short description from the answer, if any (never the raw body).
        detail: Option<ServerText>,
    },

    /// The server answered with something that is not the expected kind of document.
    #[error(
        "{operation}: the server answered HTTP {status} with {answer} instead of the expected document"
    )]
    UnexpectedAnswer {
        /// The operation.
        operation: &'static str,
        /// HTTP status.
        status: u16,
        /// What came instead.
        answer: UnexpectedAnswer,
    },

    /// The answer could not be decoded.
    #[error("{operation}: the answer (HTTP {status}) could not be decoded")]
    Decode {
        /// The operation.
        operation: &'static str,
        /// HTTP status.
        status: u16,
        /// The decoding problem (element path and reason; never the body).
        #[source]
        source: BoxError,
    },

    /// The answer exceeded the configured size limit and was cut off.
    #[error("{operation}: the answer exceeded the {limit}-byte limit and was not read further")]
    BodyTooLarge {
        /// The operation.
        operation: &'static str,
        /// HTTP status.
        status: u16,
        /// The limit in bytes.
        limit: usize,
    },

    /// An error answer of IS's REST management API (`/api/server/v1`, IS 5.10 and later): its
    /// `{code, message, description, traceId}` document, or a bare 401/403.
    #[error("{operation}: the server answered HTTP {status}{}", error.summary())]
    Rest {
        /// The operation.
        operation: &'static str,
        /// HTTP status.
        status: u16,
        /// The error document (boxed: it is large); server text in it is bounded and scrubbed.
        error: Box<crate::rest::RestErrorBody>,
    },

    /// A SCIM2 error answer.
    #[error("{operation}: SCIM error {status}{}{}", scim_type.as_ref().map(|t| format!(" ({t})")).unwrap_or_default(), detail.as_ref().map(|d| format!(": {d}")).unwrap_or_default())]
    Scim {
        /// The operation.
        operation: &'static str,
        /// HTTP status.
        status: u16,
        /// `scimType`, e.g. `uniqueness`.
        scim_type: Option<ServerText>,
        /// `detail`.
        detail: Option<ServerText>,
    },

    /// An OAuth 2.0 error answer (RFC 6749 section 5.2).
    #[error("{operation}: OAuth error {error} (HTTP {status}){}", description.as_ref().map(|d| format!(": {d}")).unwrap_or_default())]
    OAuth {
        /// The operation.
        operation: &'static str,
        /// HTTP status.
        status: u16,
        /// `error`, e.g. `invalid_client`.
        error: ServerText,
        /// `error_description`.
        description: Option<ServerText>,
    },

    /// The server rejected the session login (`AuthenticationAdmin.login` answered `false`).
    #[error("login as {user:?} was refused by {endpoint}")]
    LoginRefused {
        /// The user name.
        user: String,
        /// The server.
        endpoint: String,
    },

    /// A value the caller needs was not in the server's answer (e.g. the object disappeared).
    #[error("{operation}: {what} not found")]
    NotFound {
        /// The operation.
        operation: &'static str,
        /// What was looked for.
        what: String,
    },
}

impl Error {
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidInput(InvalidInput::new(field, reason))
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::Config {
            message: message.into(),
            source: None,
        }
    }

    /// How far the failed request got.
    pub fn dispatch(&self) -> Dispatch {
        match self {
            Self::InvalidInput(_)
            | Self::Config { .. }
            | Self::Connect { .. }
            | Self::Tls { .. } => Dispatch::NotSent,
            Self::LoginRefused { .. } => Dispatch::NotSent,
            Self::Timeout { .. } | Self::Transport { .. } => Dispatch::MaybeSent,
            Self::Fault { .. }
            | Self::Http { .. }
            | Self::UnexpectedAnswer { .. }
            | Self::Decode { .. }
            | Self::BodyTooLarge { .. }
            | Self::Scim { .. }
            | Self::Rest { .. }
            | Self::OAuth { .. }
            | Self::NotFound { .. } => Dispatch::Answered,
        }
    }

    /// Whether a write that failed this way may nevertheless have taken effect: it was maybe
    /// sent, or answered with an error status whose meaning cannot be trusted (an undecodable
    /// answer, a non-SOAP 5xx, a 5xx fault or SCIM error). Re-read by natural key before deciding.
    /// Never true for an answer that says the request was not carried out
    /// ([`not_applied`](Self::not_applied)), such as Carbon's authentication fault `50977`.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            Self::Timeout { .. } | Self::Transport { .. } => true,
            Self::Decode { .. } | Self::BodyTooLarge { .. } => true,
            // A success status whose body cannot be read (cut, malformed, another document): the
            // server may well have done it.
            Self::UnexpectedAnswer { status, .. } => *status >= 500 || (200..300).contains(status),
            Self::Http { status, .. } | Self::Scim { status, .. } => *status >= 500,
            Self::Rest { status, error, .. } => *status >= 500 && !error.is_duplicate_application(),
            Self::Fault { fault, status, .. } => {
                *status >= 500
                    && !fault.is_from_authentication_handler()
                    && !fault.is_auth_failure()
                    && !fault.is_already_exists()
            }
            _ => false,
        }
    }

    /// Whether the server answered that it did not carry out the request: a fault raised by
    /// Carbon's authentication handler (code `50977`, whatever its text, also in an HTTP 500),
    /// which runs before the operation is dispatched, a refused session login, or an HTTP 401.
    /// A write that failed this way did not happen: its outcome is known, and sending it again
    /// cannot duplicate it.
    pub fn not_applied(&self) -> bool {
        match self {
            Self::Fault { fault, .. } => fault.is_from_authentication_handler(),
            Self::LoginRefused { .. } => true,
            Self::Http { status, .. } | Self::Scim { status, .. } => *status == 401,
            _ => false,
        }
    }

    /// Whether the server says the object does not exist.
    pub fn is_not_found(&self) -> bool {
        match self {
            Self::Fault { fault, .. } => fault.is_not_found(),
            Self::Scim { status, .. } | Self::Http { status, .. } | Self::Rest { status, .. } => {
                *status == 404
            }
            Self::NotFound { .. } => true,
            _ => false,
        }
    }

    /// Whether the server says the object already exists.
    pub fn is_already_exists(&self) -> bool {
        match self {
            Self::Fault { fault, .. } => fault.is_already_exists(),
            Self::Scim {
                status, scim_type, ..
            } => *status == 409 || scim_type.as_ref().is_some_and(|t| t == "uniqueness"),
            Self::Http { status, .. } => *status == 409,
            // IS 5.11 answers a duplicate application name with HTTP 500 and code APP-65001.
            Self::Rest { status, error, .. } => *status == 409 || error.is_duplicate_application(),
            _ => false,
        }
    }

    /// Whether the credentials were refused (for IS REST APIs also HTTP 403: the user lacks the
    /// permission or scope).
    pub fn is_auth_failure(&self) -> bool {
        match self {
            Self::Fault { fault, .. } => fault.is_auth_failure(),
            Self::Http { status, .. } | Self::Scim { status, .. } => *status == 401,
            Self::Rest { status, .. } => matches!(status, 401 | 403),
            Self::LoginRefused { .. } => true,
            _ => false,
        }
    }

    /// Whether the failure is transient (connection refused, timeout, dropped connection, a
    /// gateway error). Safe to retry for reads; for writes, only when
    /// [`dispatch`](Self::dispatch) is [`Dispatch::NotSent`], otherwise re-read first.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Connect { .. } | Self::Timeout { .. } | Self::Transport { .. } => true,
            Self::Http { status, .. }
            | Self::UnexpectedAnswer { status, .. }
            | Self::Rest { status, .. } => {
                matches!(status, 502..=504)
            }
            Self::Fault { fault, .. } => fault.is_transient(),
            _ => false,
        }
    }

    /// The HTTP status of the answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Fault { status, .. }
            | Self::Http { status, .. }
            | Self::UnexpectedAnswer { status, .. }
            | Self::Decode { status, .. }
            | Self::BodyTooLarge { status, .. }
            | Self::Scim { status, .. }
            | Self::Rest { status, .. }
            | Self::OAuth { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The SOAP fault, when the server sent one.
    pub fn fault(&self) -> Option<&SoapFault> {
        match self {
            Self::Fault { fault, .. } => Some(fault),
            _ => None,
        }
    }

    /// The error document of an IS REST management API answer, when the server sent one.
    pub fn rest_error(&self) -> Option<&crate::rest::RestErrorBody> {
        match self {
            Self::Rest { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl From<InvalidInput> for Error {
    fn from(value: InvalidInput) -> Self {
        Self::InvalidInput(value)
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
