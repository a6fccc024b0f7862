//! Admin credentials and the `AuthenticationAdmin` service (session logins).

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

use super::soap::{Answer, Operation};
use super::xml::{DecodeError, Ns, XmlWriter, ns};

/// How the client authenticates to the admin services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AuthMode {
    /// HTTP Basic on every request (WSO2's `BasicAccessAuthenticator`). The default.
    #[default]
    Basic,
    /// `AuthenticationAdmin.login` once, then the `JSESSIONID` session cookie; a new login when
    /// the session expires.
    Session,
}

/// An admin user name and password. Tenant users are written `admin@example.com`.
#[derive(Clone)]
pub struct Credentials {
    username: String,
    password: SecretString,
}

impl Credentials {
    /// Credentials of `username` (e.g. `admin`, or `admin@example.com` for a tenant admin).
    pub fn new(username: impl Into<String>, password: impl Into<SecretString>) -> Self {
        Self {
            username: username.into(),
            password: password.into(),
        }
    }

    /// The user name.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The password.
    pub fn password(&self) -> &SecretString {
        &self.password
    }

    /// The tenant domain of a tenant-qualified user name (`admin@example.com` gives
    /// `example.com`), if any.
    pub fn tenant_domain(&self) -> Option<&str> {
        self.username
            .rsplit_once('@')
            .map(|(_, t)| t)
            .filter(|t| t.contains('.'))
    }

    /// The value of an `Authorization: Basic` header.
    pub(crate) fn basic_header(&self) -> SecretString {
        basic_header(&self.username, self.password.expose_secret())
    }
}

/// `Basic base64(user:password)`.
pub(crate) fn basic_header(user: &str, password: &str) -> SecretString {
    use base64::Engine as _;
    let raw = format!("{user}:{password}");
    SecretString::from(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    ))
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"[REDACTED]")
            .finish()
    }
}

/// `AuthenticationAdmin.login(username, password, remoteAddress)`: `true` when the login is
/// accepted; the session cookie comes in `Set-Cookie`.
#[derive(Debug, Clone)]
pub struct Login {
    /// The user name.
    pub username: String,
    /// The password.
    pub password: crate::Secret,
    /// The address reported to the server's audit log.
    pub remote_address: String,
}

impl Operation for Login {
    type Output = bool;
    const SERVICE: &'static str = "AuthenticationAdmin";
    const NAME: &'static str = "login";
    const WRAPPER: Ns = ns::AUTH_ADMIN;
    const READ_ONLY: bool = false;

    fn write_params(&self, w: &mut XmlWriter) {
        use super::xml::XmlValue as _;
        w.leaf(ns::AUTH_ADMIN, "username", &self.username);
        self.password.write_element(w, ns::AUTH_ADMIN, "password");
        w.leaf(ns::AUTH_ADMIN, "remoteAddress", &self.remote_address);
    }

    fn read_output(answer: Answer<'_, '_>) -> Result<bool, DecodeError> {
        answer.boolean()
    }
}

/// `AuthenticationAdmin.logout()`: ends the session (in-only).
#[derive(Debug, Clone, Copy, Default)]
pub struct Logout;

impl Operation for Logout {
    type Output = ();
    const SERVICE: &'static str = "AuthenticationAdmin";
    const NAME: &'static str = "logout";
    const WRAPPER: Ns = ns::AUTH_ADMIN;
    const READ_ONLY: bool = false;

    fn write_params(&self, _w: &mut XmlWriter) {}

    fn read_output(answer: Answer<'_, '_>) -> Result<(), DecodeError> {
        answer.void()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_show_the_password() {
        let c = Credentials::new("admin@example.com", "canary-pass");
        assert!(!format!("{c:?}").contains("canary"));
        assert_eq!(c.tenant_domain(), Some("example.com"));
        assert_eq!(Credentials::new("admin", "x").tenant_domain(), None);
        assert_eq!(
            c.basic_header().expose_secret(),
            "Basic YWRtaW5AZXhhbXBsZS5jb206Y2FuYXJ5LXBhc3M="
        );
    }
}
