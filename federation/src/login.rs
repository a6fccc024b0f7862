//! The browser login proof: a portal's login through IS, walked the way a browser walks it, and
//! the rights the user ends up with.
//!
//! [`LoginProof`] drives the authorization-code login of an APIM portal federated to IS with its
//! own cookie-keeping HTTP client that follows redirects by hand: the portal's login entry ->
//! APIM's authorize endpoint -> IS's authorize endpoint and login page (the form the page serves
//! is parsed: its action, its hidden fields such as `sessionDataKey`; `username` and `password`
//! are filled in) -> IS's `commonauth` (a consent page is approved, as a user would, and
//! reported) -> APIM's `/commonauth` -> the portal's callback -> the portal's page; then the
//! portal's session ("who am I", `services/auth/introspect`), the publisher REST API, and, with
//! admin access, the just-in-time provisioned user's roles on APIM.
//!
//! The [`LoginReport`] lists every hop the browser made (an action name, the URL with every
//! query value that could be a secret taken out, the HTTP status) and ends either with the rights
//! proven or with the hop where the login broke and a [`Diagnosis`] naming the likely setting and
//! its fix, in this project's own setting names (the `federation.toml` keys and the
//! [`FederationBuilder`](crate::FederationBuilder) methods). What a browser cannot see (APIM's
//! authenticator failing server side) is explained with admin reads when the proof has admin
//! clients (built [`for_federation`](LoginProof::for_federation)): the identity provider, the IS
//! application, a client-authentication probe of IS's token endpoint, the role mappings.
//!
//! What a login changes on the servers is what any user's first login changes: APIM provisions
//! (or updates) the user just in time, registers the portal's service provider if the portal was
//! never logged into, and both servers open a session. A consent page is approved with
//! `approve`, never `approveAlways`, so no consent is remembered.
//!
//! Nothing secret leaves the proof: the password is a `SecretString`, cookie values are kept as
//! secrets, and neither codes, `state`, session data keys nor tokens reach the report, `Debug`,
//! errors or logs.
//!
//! ```no_run
//! # async fn demo(federation: wso2_federation::Federation) -> Result<(), wso2_federation::FederationError> {
//! use wso2_apim_client::portals::Portal;
//! use wso2_federation::login::LoginProof;
//!
//! let password = std::env::var("API_PUBLISHER_PASSWORD").unwrap_or_default();
//! let report = LoginProof::for_federation(&federation, Portal::Publisher, "api_publisher", password)
//!     .await?
//!     .run()
//!     .await;
//! println!("{report}");
//! for finding in report.findings() {
//!     println!("{}: {}", finding.check, finding.detail);
//! }
//! # Ok(()) }
//! ```

use std::fmt;
use std::time::Duration;

use http::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use url::Url;
use wso2_apim_client::ApimClient;
use wso2_apim_client::portals::Portal;
use wso2_apim_client::version::{ApimCapabilities, ServerVersion};
use wso2_is_client::carbon::{CarbonClient, ClientBuilder, HttpAnswer, PlainHttp};
use wso2_is_client::oidc::{ClientAuthMethod, ClientAuthProbe, ProbeOutcome};
use wso2_is_client::{IsClient, OAuthAppName, RoleName, TlsProblem, UserName};

use crate::verify::{Finding, Status};
use crate::{Federation, JitSpec, RoleClaim};

/// At most this many requests per login (redirects included), so that a redirect loop ends.
pub const MAX_REQUESTS: usize = 40;

/// Query parameters whose values are shown in the report (everything else is replaced by
/// [`REDACTED`]): none of them can carry a code, a key, a state or a token.
pub const SHOWN_PARAMS: &[&str] = &[
    "response_type",
    "scope",
    "redirect_uri",
    "client_id",
    "relyingParty",
    "error",
    "error_description",
    "oauthErrorCode",
    "oauthErrorMsg",
    "status",
    "statusMsg",
    "authFailure",
    "authFailureMsg",
    "code_challenge_method",
    "commonAuthCallerPath",
    "forceAuth",
    "passiveAuth",
    "tenantDomain",
    "type",
    "authenticators",
    "application",
    "loggedInUser",
    "prompt",
];

/// What stands in the report for a query value that is not shown.
pub const REDACTED: &str = "REDACTED";

/// What the proof does with a consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentChoice {
    /// Approve it, as a user would, and report a warning (the default: the federation does not
    /// yet set "skip consent" on the IS application).
    #[default]
    Approve,
    /// Treat it as a failure ([`Diagnosis::ConsentRequired`]).
    Refuse,
    /// Deny it, as a user who declines would.
    Deny,
}

/// Which server a hop went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// WSO2 Identity Server.
    Is,
    /// WSO2 API Manager.
    Apim,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Is => "IS",
            Self::Apim => "APIM",
        })
    }
}

/// One request of the login, as a browser made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hop {
    /// What the request is, named as the simulator's request log names it: `portal.login`,
    /// `apim.authorize`, `is.authorize`, `is.login_page`, `is.commonauth`, `is.consent`,
    /// `is.consent_approve`, `apim.commonauth`, `apim.retry_page`, `portal.callback`,
    /// `portal.page`, `portal.introspect`, `portal.api`, ...
    pub action: String,
    /// The server it went to.
    pub server: Side,
    /// HTTP method.
    pub method: String,
    /// The URL, every query value that could be a secret replaced by [`REDACTED`].
    pub url: String,
    /// The HTTP status, or `None` when no answer came.
    pub status: Option<u16>,
}

impl fmt::Display for Hop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {} -> ", self.action, self.method, self.url)?;
        match self.status {
            Some(s) => write!(f, "{s}"),
            None => f.write_str("no answer"),
        }
    }
}

/// Whether the identity provider could be read, and how it was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdpState {
    /// Not found on APIM.
    Missing,
    /// Found, disabled.
    Disabled,
    /// Found and enabled, but APIM would not send the browser to it (no authorize endpoint,
    /// authenticator disabled), or it was not read (no admin client).
    Unknown,
}

/// Why the login broke (or what is worth a warning), with the setting that most likely causes
/// it: [`setting`](Self::setting) names it and [`fix`](Self::fix) says what to change, in this
/// project's `federation.toml` keys and builder methods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Diagnosis {
    /// IS refused the callback APIM sent (`invalid_callback`): the IS application's callback is
    /// not APIM's `/commonauth`.
    CallbackMismatch {
        /// IS's message.
        message: String,
    },
    /// The IS application demands PKCE, which APIM's OIDC authenticator never sends.
    PkceRequired {
        /// IS's `error_description`, when the browser saw it.
        message: Option<String>,
    },
    /// IS refused APIM's token request as "more than one authentication method": APIM sends
    /// the client credentials in the body while presenting its TLS client certificate
    /// (IS's MutualTLS client authenticator).
    MutualTlsDoubleAuthentication {
        /// Whether IS's token endpoint answered so to the probe (otherwise inferred: the
        /// credentials are right and go in the body).
        confirmed: bool,
    },
    /// IS refused the client credentials APIM's identity provider holds.
    ClientAuthentication {
        /// What does not match.
        detail: String,
    },
    /// The login completed but the user has none of the expected local roles, though the role
    /// mapping and the local role are right: the role claim did not reach APIM.
    MissingRoleClaim {
        /// The local claim the IS application must request.
        claim: String,
        /// What was found on IS.
        detail: String,
    },
    /// The identity provider maps none of the user's IS roles to the expected local role (or
    /// maps them to another role).
    RoleMapping {
        /// The user's roles on IS.
        remote_roles: Vec<String>,
        /// The local role expected.
        expected: String,
        /// The local roles those remote roles are mapped to instead.
        mapped_to: Vec<String>,
    },
    /// The identity provider maps the user's role to a local role that does not exist on APIM
    /// (JIT skips it).
    RoleMappingToMissingRole {
        /// The remote role.
        remote: String,
        /// The missing local role.
        local: String,
    },
    /// The user holds the expected local roles on APIM, but the portal's token has not the
    /// portal's scopes: APIM's role-to-scope mapping.
    ScopesNotGranted {
        /// The user's roles on APIM.
        roles: Vec<String>,
        /// The scopes missing.
        missing: Vec<String>,
    },
    /// The login completed without the portal's scopes, and there was no admin access to tell
    /// the role claim from the role mapping.
    NoPortalScopes {
        /// The scopes missing.
        missing: Vec<String>,
    },
    /// The portal's REST API refused the session although its token carries the scopes.
    ApiRefused {
        /// HTTP status of the API.
        status: u16,
    },
    /// JIT provisioning has no user store: "10005 - The provided user identifier is invalid".
    NoJitUserStore {
        /// The error page's message.
        message: String,
    },
    /// A consent page stopped the login ([`ConsentChoice::Refuse`]).
    ConsentRequired {
        /// The server that showed it.
        server: Side,
    },
    /// The consent was denied.
    ConsentDenied,
    /// A consent page was shown and approved (a warning).
    ConsentShown {
        /// The server that showed it.
        server: Side,
    },
    /// APIM did not send the browser to IS: the identity provider is missing, disabled or
    /// incomplete.
    IdentityProviderUnavailable {
        /// What was found.
        state: IdpState,
    },
    /// The portal showed APIM's own login page: it is not switched to the identity provider.
    PortalNotFederated,
    /// APIM's authorize endpoint does not know the portal's client (its service provider was
    /// deleted; APIM does not register it again).
    PortalClientUnknown {
        /// APIM's message.
        message: String,
    },
    /// IS's login page came back with a login failure: the user's password (or name) is wrong.
    WrongUserPassword,
    /// A server could not be reached.
    Unreachable {
        /// Which.
        server: Side,
        /// Host and port.
        endpoint: String,
        /// What happened.
        detail: String,
    },
    /// The connection dropped, or no answer came in time, after the request was sent.
    ConnectionLost {
        /// Which.
        server: Side,
        /// Host and port.
        endpoint: String,
        /// What happened.
        detail: String,
    },
    /// The TLS handshake with a server failed.
    Tls {
        /// Which.
        server: Side,
        /// Host and port.
        endpoint: String,
        /// What is wrong.
        problem: String,
    },
    /// A redirect went to a host that is neither server as configured.
    UnexpectedHost {
        /// The host (and port).
        host: String,
    },
    /// IS answered APIM's callback with an OAuth error.
    IsRefused {
        /// `error`.
        error: String,
        /// `error_description`.
        description: Option<String>,
    },
    /// APIM's OIDC authenticator failed after IS's login, and nothing in the settings explains
    /// it (IS's token endpoint failing, an id_token APIM refuses, a provisioning error).
    AuthenticatorFailed {
        /// The error page's message.
        message: String,
    },
    /// The portal's own code exchange failed (its error page).
    PortalSessionFailed,
    /// A server answered with a server error.
    ServerError {
        /// Which.
        server: Side,
        /// HTTP status.
        status: u16,
    },
    /// A page the proof does not know how to go on from.
    UnexpectedPage {
        /// Which server.
        server: Side,
        /// HTTP status.
        status: u16,
        /// What it is.
        detail: String,
    },
    /// More than [`MAX_REQUESTS`] requests: a redirect loop.
    TooManyRequests,
}

impl Diagnosis {
    /// The setting (or place) most likely at fault, short: `callback`, `pkce`, `client_auth`,
    /// `client_secret`, `role_claim`, `role_mappings`, `jit.user_store`, `consent`,
    /// `identity_provider`, `portals.switch`, `user password`, `server address`, `tls`,
    /// `apim role scopes`, `server`.
    pub fn setting(&self) -> &'static str {
        match self {
            Self::CallbackMismatch { .. } => "callback",
            Self::PkceRequired { .. } => "pkce",
            Self::MutualTlsDoubleAuthentication { .. } => "client_auth",
            Self::ClientAuthentication { .. } => "client_secret",
            Self::MissingRoleClaim { .. } | Self::NoPortalScopes { .. } => "role_claim",
            Self::RoleMapping { .. } | Self::RoleMappingToMissingRole { .. } => "role_mappings",
            Self::ScopesNotGranted { .. } | Self::ApiRefused { .. } => "apim role scopes",
            Self::NoJitUserStore { .. } => "jit.user_store",
            Self::ConsentRequired { .. } | Self::ConsentDenied | Self::ConsentShown { .. } => {
                "consent"
            }
            Self::IdentityProviderUnavailable { .. } => "identity_provider",
            Self::PortalNotFederated | Self::PortalClientUnknown { .. } => "portals.switch",
            Self::WrongUserPassword => "user password",
            Self::Unreachable { .. } | Self::UnexpectedHost { .. } => "server address",
            Self::Tls { .. } => "tls",
            Self::IsRefused { .. }
            | Self::ConnectionLost { .. }
            | Self::AuthenticatorFailed { .. }
            | Self::PortalSessionFailed
            | Self::ServerError { .. }
            | Self::UnexpectedPage { .. }
            | Self::TooManyRequests => "server",
        }
    }

    /// What to change, naming the `federation.toml` key and the builder method.
    pub fn fix(&self) -> String {
        match self {
            Self::CallbackMismatch { .. } => "the IS application's callback must be APIM's /commonauth as browsers reach it: `[apim] public_url` (`FederationBuilder::apim_public_url`) sets it; run `apply` to write it again".into(),
            Self::PkceRequired { .. } => "turn \"PKCE mandatory\" off on the IS application (APIM's OIDC authenticator sends no code challenge); `apply` writes pkceMandatory=false: run it again".into(),
            Self::MutualTlsDoubleAuthentication { .. } => "send the client credentials in the Basic header only: `[identity_provider] client_auth = \"basic_header\"` (`FederationBuilder::client_auth(ClientAuthMode::BasicHeader)`, or `verify --fix-client-auth`), or turn IS's MutualTLS client authenticator off in deployment.toml: [event.default_listener.mutual_tls_authenticator] enable = false".into(),
            Self::ClientAuthentication { .. } => "the identity provider's ClientId and ClientSecret must be the IS application's: `[service_provider] client_id` / `client_secret_env` (`FederationBuilder::client_id` / `client_secret`); run `apply` to write both again".into(),
            Self::MissingRoleClaim { .. } | Self::NoPortalScopes { .. } => "the IS application must request the role claim and APIM must ask for the scope that releases it: `[service_provider] role_claim` (`FederationBuilder::role_claim`): `wso2_role` on IS 5.x, `groups` on IS 6/7; give the user a mapped role on IS (`[[users]] roles`); run `apply`".into(),
            Self::RoleMapping { expected, .. } => format!("map the user's IS role to {expected}: `[[role_mappings]] remote = \"…\"`, `local = \"{expected}\"` (`FederationBuilder::map_role`); run `apply`"),
            Self::RoleMappingToMissingRole { local, .. } => format!("create the local role {local} on APIM (names are case-sensitive) or map to one that exists (`[[role_mappings]] local`, `FederationBuilder::map_role`); run `apply` (the identity provider service drops mappings to missing roles)"),
            Self::ScopesNotGranted { .. } | Self::ApiRefused { .. } => "APIM's role-to-scope mapping must give the role the portal's scopes (tenant-conf.json RESTAPIScopes; APIM 4.x: Admin portal \"Scope Assignments\"); no federation setting writes it".into(),
            Self::NoJitUserStore { .. } => "provision into a user store: `[identity_provider] jit = { enabled = true, user_store = \"PRIMARY\" }` (`FederationBuilder::jit(JitSpec { .. })`); run `apply`".into(),
            Self::ConsentRequired { server: Side::Apim } | Self::ConsentShown { server: Side::Apim } => "skip consent on the portals' service providers: `[portals] skip_consent = true` (`SwitchOptions::skip_consent`, APIM 3.1+); run `apply`".into(),
            Self::ConsentRequired { .. } | Self::ConsentShown { .. } => "set \"skip consent\" on the IS application (SP property skipConsent on IS 5.9, skipConsent on 5.10, advancedConfigurations.skipLoginConsent on 5.11+; not written by this federation yet), or approve once with \"Approve Always\"".into(),
            Self::ConsentDenied => "approve the consent (or skip it on the IS application)".into(),
            Self::IdentityProviderUnavailable { .. } => "`[identity_provider] name` (`FederationBuilder::identity_provider`) must name an enabled identity provider with IS's authorize endpoint: run `apply`".into(),
            Self::PortalNotFederated => "switch the portal to the identity provider: `[portals] switch = [\"publisher\", \"devportal\"]` (`FederationBuilder::portals`); run `apply`".into(),
            Self::PortalClientUnknown { .. } => "the portal's service provider or OAuth client was deleted and APIM does not register it again (AM_SYSTEM_APPS): restore it (never delete a portal's service provider)".into(),
            Self::WrongUserPassword => "the password must be the user's on IS: `[[users]] password_env` / `password_file` (`FederationBuilder::user`), then run `apply`".into(),
            Self::Unreachable { server: Side::Is, .. } => "IS must be reachable at the address browsers use: `[is] url` / `browser_url` (`FederationBuilder::is_browser_url`); check that IS is up".into(),
            Self::Unreachable { .. } => "APIM must be reachable at the address browsers use: `[apim] url` / `public_url` (`FederationBuilder::apim_public_url`); check that APIM is up".into(),
            Self::Tls { .. } => "trust the server's CA: `[is] ca_pem` / `[apim] ca_pem` (`ClientBuilder::ca_pem`, `LoginProofBuilder::ca_pem`), or fix the certificate".into(),
            Self::UnexpectedHost { .. } => "the servers redirect browsers to an address that is not configured here: `[apim] public_url` and `[is] browser_url` (`FederationBuilder::apim_public_url`, `is_browser_url`) must be the addresses browsers use".into(),
            Self::IsRefused { .. } | Self::AuthenticatorFailed { .. } => "see APIM's wso2carbon.log for the OpenIDConnectAuthenticator's error (IS's token endpoint, the id_token, or provisioning); `verify` probes the client authentication".into(),
            Self::PortalSessionFailed => "the portal's own token exchange failed (its OAuth client; PKCE on APIM 4.7): see APIM's logs".into(),
            Self::ConnectionLost { .. } | Self::ServerError { .. } | Self::UnexpectedPage { .. } | Self::TooManyRequests => "see the server's logs (and any proxy between here and the server)".into(),
        }
    }

    /// Whether this only warns (the login went on).
    pub fn is_warning(&self) -> bool {
        matches!(self, Self::ConsentShown { .. })
    }
}

impl fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CallbackMismatch { message } => write!(f, "callback mismatch: IS refuses APIM's callback ({message})"),
            Self::PkceRequired { message } => {
                f.write_str("PKCE required: the IS application demands a code challenge APIM never sends")?;
                match message {
                    Some(m) => write!(f, " ({m})"),
                    None => Ok(()),
                }
            }
            Self::MutualTlsDoubleAuthentication { confirmed: true } => f.write_str("MutualTLS double authentication: IS refuses the client credentials in the body together with a client certificate (\"The client MUST NOT use more than one authentication method\")"),
            Self::MutualTlsDoubleAuthentication { confirmed: false } => f.write_str("likely MutualTLS double authentication: the client credentials are right and APIM sends them in the body (IsBasicAuthEnabled=false), which IS refuses when APIM also presents its TLS client certificate"),
            Self::ClientAuthentication { detail } => write!(f, "client authentication failed: {detail}"),
            Self::MissingRoleClaim { claim, detail } => write!(f, "missing role claim: the login works but no role reaches APIM ({claim}; {detail})"),
            Self::RoleMapping { remote_roles, expected, mapped_to } => write!(f, "role mapping: the user's IS roles {remote_roles:?} are not mapped to {expected} (mapped to {mapped_to:?})"),
            Self::RoleMappingToMissingRole { remote, local } => write!(f, "role mapping to a missing role: {remote} -> {local}, which does not exist on APIM"),
            Self::ScopesNotGranted { roles, missing } => write!(f, "the user holds {roles:?} on APIM but the portal's token lacks {missing:?}"),
            Self::NoPortalScopes { missing } => write!(f, "no portal scopes: the login works but the token lacks {missing:?} (role claim or role mapping)"),
            Self::ApiRefused { status } => write!(f, "the portal's REST API refused the session (HTTP {status}) although its token carries the scopes"),
            Self::NoJitUserStore { message } => write!(f, "no JIT user store: {message}"),
            Self::ConsentRequired { server } => write!(f, "consent required: {server} shows a consent page"),
            Self::ConsentDenied => f.write_str("consent denied"),
            Self::ConsentShown { server } => write!(f, "{server} showed a consent page (approved)"),
            Self::IdentityProviderUnavailable { state } => write!(f, "identity provider unavailable ({}): APIM shows its retry page instead of sending the browser to IS", match state {
                IdpState::Missing => "missing",
                IdpState::Disabled => "disabled",
                IdpState::Unknown => "missing, disabled or incomplete",
            }),
            Self::PortalNotFederated => f.write_str("the portal is not federated: APIM shows its own login page"),
            Self::PortalClientUnknown { message } => write!(f, "APIM does not know the portal's client: {message}"),
            Self::WrongUserPassword => f.write_str("wrong user password: IS's login page reports a login failure"),
            Self::Unreachable { server, endpoint, detail } => write!(f, "{server} unreachable at {endpoint}: {detail}"),
            Self::ConnectionLost { server, endpoint, detail } => write!(f, "{server} at {endpoint}: {detail}"),
            Self::Tls { server, endpoint, problem } => write!(f, "TLS with {server} at {endpoint} failed: {problem}"),
            Self::UnexpectedHost { host } => write!(f, "the login was redirected to {host}, which is neither server as configured"),
            Self::IsRefused { error, description } => write!(f, "IS answered APIM with {error}: {}", description.as_deref().unwrap_or("")),
            Self::AuthenticatorFailed { message } => write!(f, "APIM's authenticator failed after IS's login ({message}); the settings read look right"),
            Self::PortalSessionFailed => f.write_str("the portal's code exchange failed (its error page)"),
            Self::ServerError { server, status } => write!(f, "{server} answered HTTP {status}"),
            Self::UnexpectedPage { server, status, detail } => write!(f, "unexpected page from {server} (HTTP {status}): {detail}"),
            Self::TooManyRequests => write!(f, "more than {MAX_REQUESTS} requests: a redirect loop"),
        }
    }
}

/// The rights the login gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rights {
    /// Who the portal's session says is logged in (`username` of its introspection).
    pub username: Option<String>,
    /// The scopes of the portal's token (from its introspection).
    pub scopes: Vec<String>,
    /// The scopes the expected roles give on this portal.
    pub expected_scopes: Vec<String>,
    /// The HTTP status of the portal's REST API (`GET {publisher API}/apis`), when called
    /// (the Publisher only).
    pub api_status: Option<u16>,
    /// The user's roles on APIM (`getRoleListOfUser`), when read.
    pub apim_roles: Option<Vec<String>>,
    /// The local roles expected.
    pub expected_roles: Vec<String>,
}

impl Rights {
    /// The expected scopes the token lacks (with none expected: every `apim:` scope, when the
    /// token has none).
    pub fn missing_scopes(&self) -> Vec<String> {
        if self.expected_scopes.is_empty() {
            return if self.scopes.iter().any(|s| s.starts_with("apim:")) {
                Vec::new()
            } else {
                vec!["apim:*".into()]
            };
        }
        self.expected_scopes
            .iter()
            .filter(|s| !self.scopes.contains(s))
            .cloned()
            .collect()
    }

    /// The expected roles the user lacks on APIM (empty when the roles were not read).
    pub fn missing_roles(&self) -> Vec<String> {
        match &self.apim_roles {
            None => Vec::new(),
            Some(held) => self
                .expected_roles
                .iter()
                .filter(|r| !held.contains(r))
                .cloned()
                .collect(),
        }
    }
}

/// How the login came out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum LoginOutcome {
    /// The user logged in and holds the expected rights.
    Proved {
        /// The rights.
        rights: Rights,
    },
    /// The login broke, or did not give the expected rights.
    Broken {
        /// The index in [`LoginReport::hops`] of the hop where it broke (`None`: before any).
        hop: Option<usize>,
        /// Why.
        diagnosis: Diagnosis,
        /// The rights found, when the login itself completed.
        rights: Option<Rights>,
    },
}

/// What [`LoginProof::run`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoginReport {
    /// The portal.
    pub portal: Portal,
    /// The user.
    pub user: String,
    /// Every request the browser made, in order.
    pub hops: Vec<Hop>,
    /// How it came out.
    pub outcome: LoginOutcome,
    /// What went on but is worth knowing (a consent page approved, an unknown APIM release).
    pub warnings: Vec<Diagnosis>,
    /// Notes on what was not checked, and why.
    pub notes: Vec<String>,
}

impl LoginReport {
    /// Whether the rights were proven.
    pub fn is_proved(&self) -> bool {
        matches!(self.outcome, LoginOutcome::Proved { .. })
    }

    /// The diagnosis, when the login broke.
    pub fn diagnosis(&self) -> Option<&Diagnosis> {
        match &self.outcome {
            LoginOutcome::Broken { diagnosis, .. } => Some(diagnosis),
            LoginOutcome::Proved { .. } => None,
        }
    }

    /// The hop where the login broke.
    pub fn broken_hop(&self) -> Option<&Hop> {
        match &self.outcome {
            LoginOutcome::Broken { hop: Some(i), .. } => self.hops.get(*i),
            _ => None,
        }
    }

    /// The rights, when the login completed.
    pub fn rights(&self) -> Option<&Rights> {
        match &self.outcome {
            LoginOutcome::Proved { rights } => Some(rights),
            LoginOutcome::Broken { rights, .. } => rights.as_ref(),
        }
    }

    /// The report as `verify` findings: the login (pass, or fail at its hop with the diagnosis
    /// and its fix), the rights, and a warning per warning.
    pub fn findings(&self) -> Vec<Finding> {
        let who = format!("{} ({} portal)", self.user, self.portal);
        let mut out = Vec::new();
        let login_done = self.rights().is_some();
        match (&self.outcome, login_done) {
            (LoginOutcome::Broken { diagnosis, .. }, false) => {
                let at = self
                    .broken_hop()
                    .map(|h| format!(" at {}", h.action))
                    .unwrap_or_default();
                out.push(Finding {
                    check: format!("browser login as {who}"),
                    status: Status::Fail,
                    detail: format!("broke{at} after {} hops: {diagnosis}", self.hops.len()),
                    fix: Some(diagnosis.fix()),
                });
            }
            _ => out.push(Finding {
                check: format!("browser login as {who}"),
                status: Status::Pass,
                detail: format!(
                    "{} hops through IS to the portal ({})",
                    self.hops.len(),
                    self.hops
                        .iter()
                        .map(|h| h.action.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                fix: None,
            }),
        }
        if let Some(rights) = self.rights() {
            let mut detail = format!("token scopes: {}", rights.scopes.join(" "));
            if let Some(s) = rights.api_status {
                detail.push_str(&format!("; publisher API: HTTP {s}"));
            }
            if let Some(roles) = &rights.apim_roles {
                detail.push_str(&format!("; roles on APIM: {}", roles.join(", ")));
            }
            match &self.outcome {
                LoginOutcome::Proved { .. } => out.push(Finding {
                    check: format!("rights of {who}"),
                    status: Status::Pass,
                    detail,
                    fix: None,
                }),
                LoginOutcome::Broken { diagnosis, .. } => out.push(Finding {
                    check: format!("rights of {who}"),
                    status: Status::Fail,
                    detail: format!("{diagnosis}; {detail}"),
                    fix: Some(diagnosis.fix()),
                }),
            }
        }
        for w in &self.warnings {
            out.push(Finding {
                check: format!("browser login as {who}"),
                status: Status::Warn,
                detail: w.to_string(),
                fix: Some(w.fix()),
            });
        }
        out
    }
}

impl fmt::Display for LoginReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "login as {} on the {} portal:", self.user, self.portal)?;
        for (i, h) in self.hops.iter().enumerate() {
            writeln!(f, "  {:>2}. {h}", i + 1)?;
        }
        for w in &self.warnings {
            writeln!(f, "  warning: {w}")?;
            writeln!(f, "           fix: {}", w.fix())?;
        }
        for n in &self.notes {
            writeln!(f, "  note: {n}")?;
        }
        match &self.outcome {
            LoginOutcome::Proved { rights } => write!(
                f,
                "  proved: scopes {}{}{}",
                rights.scopes.join(" "),
                rights
                    .api_status
                    .map(|s| format!("; API HTTP {s}"))
                    .unwrap_or_default(),
                rights
                    .apim_roles
                    .as_ref()
                    .map(|r| format!("; APIM roles {}", r.join(", ")))
                    .unwrap_or_default()
            ),
            LoginOutcome::Broken { hop, diagnosis, .. } => {
                let at = hop
                    .and_then(|i| self.hops.get(i))
                    .map(|h| format!(" at hop {} ({})", hop.map_or(0, |i| i + 1), h.action))
                    .unwrap_or_default();
                write!(
                    f,
                    "  BROKEN{at}: {diagnosis}\n  setting: {}\n  fix: {}",
                    diagnosis.setting(),
                    diagnosis.fix()
                )
            }
        }
    }
}

/// A problem building a [`LoginProof`] from URLs (nothing is sent).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginProofError {
    /// A URL or a TLS setting is not usable.
    #[error("the login proof cannot be set up for {server}")]
    Setup {
        /// The server whose settings are at fault.
        server: Side,
        /// The cause.
        #[source]
        source: wso2_is_client::Error,
    },
    /// No user was given.
    #[error("the login proof needs a user and a password (`LoginProofBuilder::user`)")]
    NoUser,
}

/// What the proof may read with admin rights to explain a failure.
#[derive(Clone)]
struct Admin {
    is: IsClient,
    apim: ApimClient,
    /// The identity provider on APIM.
    idp: String,
    /// The OAuth application on IS.
    oauth_app: String,
    role_claim: RoleClaim,
    /// The scopes APIM asks IS for (what releases the role claim on the IS release).
    scopes: &'static str,
    /// Whether IS is managed through REST and SCIM2 (5.10 and later).
    rest: bool,
    jit: JitSpec,
    /// IS's token endpoint as APIM calls it.
    token_url: String,
    /// APIM's callback.
    callback: String,
}

/// The browser login of a portal through IS, as a user's browser would make it; see the
/// [module docs](self).
#[derive(Clone)]
pub struct LoginProof {
    apim: PlainHttp,
    is: PlainHttp,
    /// APIM as browsers reach it (the portal's address).
    apim_url: Url,
    /// Origins served by APIM, then by IS.
    apim_origins: Vec<url::Origin>,
    is_origins: Vec<url::Origin>,
    portal: Portal,
    user: String,
    password: SecretString,
    capabilities: Option<ApimCapabilities>,
    consent: ConsentChoice,
    expected_roles: Option<Vec<String>>,
    admin: Option<Admin>,
}

impl fmt::Debug for LoginProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginProof")
            .field("apim_url", &self.apim_url.as_str())
            .field("portal", &self.portal)
            .field("user", &self.user)
            .field("password", &"[REDACTED]")
            .field(
                "apim_version",
                &self.capabilities.map(|c| c.version.to_string()),
            )
            .field("consent", &self.consent)
            .field("expected_roles", &self.expected_roles)
            .field("admin_reads", &self.admin.is_some())
            .finish()
    }
}

/// Builds a [`LoginProof`] from URLs and TLS settings, for tools that have no [`Federation`]
/// (no admin reads then: failures APIM hides from browsers are diagnosed less precisely).
#[derive(Clone)]
pub struct LoginProofBuilder {
    apim: ClientBuilder<CarbonClient>,
    is: ClientBuilder<CarbonClient>,
    portal: Portal,
    user: Option<(String, SecretString)>,
    capabilities: Option<ApimCapabilities>,
}

impl fmt::Debug for LoginProofBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginProofBuilder")
            .field("apim", &self.apim.base_url())
            .field("is", &self.is.base_url())
            .field("portal", &self.portal)
            .field("user", &self.user.as_ref().map(|u| &u.0))
            .finish_non_exhaustive()
    }
}

impl LoginProofBuilder {
    /// Trusts the certificates in this PEM on both servers (a private CA, or a server's own
    /// certificate); may be called more than once. Without it, the system's trust store.
    pub fn ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        let pem = pem.into();
        self.apim = self.apim.ca_pem(pem.clone());
        self.is = self.is.ca_pem(pem);
        self
    }

    /// Presents a TLS client certificate to both servers.
    pub fn client_identity_pem(
        mut self,
        cert_chain_pem: impl Into<Vec<u8>>,
        key_pem: impl Into<SecretString>,
    ) -> Self {
        let (chain, key) = (cert_chain_pem.into(), key_pem.into());
        self.apim = self.apim.client_identity_pem(chain.clone(), key.clone());
        self.is = self.is.client_identity_pem(chain, key);
        self
    }

    /// Turns certificate verification off (logged as a warning): anyone on the path could
    /// read the user's password.
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.apim = self.apim.danger_accept_invalid_certs(accept);
        self.is = self.is.danger_accept_invalid_certs(accept);
        self
    }

    /// Allows plain `http://` addresses (test servers only).
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.apim = self.apim.allow_http(allow);
        self.is = self.is.allow_http(allow);
        self
    }

    /// Timeout of each request (default 60 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.apim = self.apim.request_timeout(timeout);
        self.is = self.is.request_timeout(timeout);
        self
    }

    /// The portal to log into (default the Publisher).
    pub fn portal(mut self, portal: Portal) -> Self {
        self.portal = portal;
        self
    }

    /// The user (as IS knows it) and its password.
    pub fn user(mut self, name: impl Into<String>, password: impl Into<SecretString>) -> Self {
        self.user = Some((name.into(), password.into()));
        self
    }

    /// The APIM release (decides the publisher API's path). Without it the API is not called.
    pub fn apim_version(mut self, version: ServerVersion) -> Self {
        self.capabilities = Some(ApimCapabilities::of(version));
        self
    }

    /// Checks the settings and builds the proof. Nothing is sent.
    pub fn build(self) -> Result<LoginProof, LoginProofError> {
        let (user, password) = self.user.ok_or(LoginProofError::NoUser)?;
        let apim = self
            .apim
            .build_plain_http()
            .map_err(|source| LoginProofError::Setup {
                server: Side::Apim,
                source,
            })?;
        let is = self
            .is
            .build_plain_http()
            .map_err(|source| LoginProofError::Setup {
                server: Side::Is,
                source,
            })?;
        let apim_url = apim.base_url().clone();
        let is_url = is.base_url().clone();
        Ok(LoginProof {
            apim,
            is,
            apim_origins: vec![apim_url.origin()],
            is_origins: vec![is_url.origin()],
            apim_url,
            portal: self.portal,
            user,
            password,
            capabilities: self.capabilities,
            consent: ConsentChoice::default(),
            expected_roles: None,
            admin: None,
        })
    }
}

impl LoginProof {
    /// The proof for `user` (as IS knows it) on `portal` of a federation: the servers' addresses
    /// and TLS settings come from its clients (APIM's public address and IS's browser address
    /// from its settings), the expected local roles from its users and role mappings, and the
    /// admin clients explain what a browser cannot see.
    pub async fn for_federation(
        federation: &Federation,
        portal: Portal,
        user: impl Into<String>,
        password: impl Into<SecretString>,
    ) -> Result<Self, crate::FederationError> {
        let spec = federation.spec();
        let versions = federation.versions().await?;
        let apim_client = federation.apim_for(&versions);
        let user = user.into();
        let apim_core = apim_client.core();
        let is_core = federation.is_client().core();
        let mut apim_url = spec.callback_url.clone();
        apim_url.set_path("/");
        apim_url.set_query(None);
        let expected = spec
            .users
            .iter()
            .find(|u| u.name.as_str() == user)
            .map(|u| {
                let mut roles: Vec<String> = spec
                    .role_mappings
                    .iter()
                    .filter(|m| u.roles.contains(&m.remote))
                    .map(|m| m.local.as_str().to_owned())
                    .collect();
                roles.sort();
                roles.dedup();
                roles
            });
        let mut apim_origins = vec![apim_url.origin(), apim_core.base_url().origin()];
        apim_origins.dedup();
        let mut is_origins = vec![
            spec.is_browser_url.origin(),
            is_core.base_url().origin(),
            spec.is_backend_url.origin(),
        ];
        is_origins.dedup();
        Ok(Self {
            apim: apim_core.plain_http(),
            is: is_core.plain_http(),
            apim_url,
            apim_origins,
            is_origins,
            portal,
            user,
            password: password.into(),
            capabilities: Some(versions.apim),
            consent: ConsentChoice::default(),
            expected_roles: expected,
            admin: Some(Admin {
                is: federation.is_client().clone(),
                apim: apim_client.clone(),
                idp: spec.identity_provider.as_str().to_owned(),
                oauth_app: spec.service_provider.as_str().to_owned(),
                role_claim: spec.role_claim_for(&versions.is),
                scopes: versions.is.role_scope.requested_scopes(),
                rest: versions.is.management == wso2_is_client::version::ManagementApi::Rest,
                jit: spec.jit.clone(),
                token_url: spec.token_url().to_string(),
                callback: spec.callback_url.to_string(),
            }),
        })
    }

    /// A proof from URLs (APIM and IS as browsers reach them) and TLS settings; see
    /// [`LoginProofBuilder`].
    pub fn builder(apim_url: impl Into<String>, is_url: impl Into<String>) -> LoginProofBuilder {
        LoginProofBuilder {
            apim: ClientBuilder::new(apim_url),
            is: ClientBuilder::new(is_url),
            portal: Portal::Publisher,
            user: None,
            capabilities: None,
        }
    }

    /// What to do with a consent page (default: approve it and warn).
    pub fn consent(mut self, choice: ConsentChoice) -> Self {
        self.consent = choice;
        self
    }

    /// The APIM release (decides the publisher API's path; detected with admin access when not
    /// given).
    pub fn apim_capabilities(mut self, caps: ApimCapabilities) -> Self {
        self.capabilities = Some(caps);
        self
    }

    /// The local roles the user must end up with on APIM (default: the federation's mappings of
    /// the user's roles; else the portal's usual role: `Internal/publisher`,
    /// `Internal/subscriber`, `admin`).
    pub fn expect_roles<I, S>(mut self, roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.expected_roles = Some(roles.into_iter().map(Into::into).collect());
        self
    }

    /// The portal.
    pub fn portal(&self) -> Portal {
        self.portal
    }

    /// Walks the login and proves the rights. Never fails: every failure is a diagnosis in the
    /// report.
    pub async fn run(&self) -> LoginReport {
        let mut walk = Walk {
            proof: self,
            jar: Jar::default(),
            hops: Vec::new(),
            warnings: Vec::new(),
            notes: Vec::new(),
            commonauth_error: None,
            blame: None,
            requests: 0,
        };
        let outcome = match walk.login().await {
            Err(diagnosis) => LoginOutcome::Broken {
                hop: walk.blame.or(walk.hops.len().checked_sub(1)),
                diagnosis,
                rights: None,
            },
            Ok(()) => walk.prove_rights().await,
        };
        LoginReport {
            portal: self.portal,
            user: self.user.clone(),
            hops: walk.hops,
            outcome,
            warnings: walk.warnings,
            notes: walk.notes,
        }
    }

    fn expected_roles(&self) -> Vec<String> {
        self.expected_roles.clone().unwrap_or_else(|| {
            vec![
                match self.portal {
                    Portal::Publisher => "Internal/publisher",
                    Portal::DevPortal => "Internal/subscriber",
                    Portal::AdminPortal => "admin",
                }
                .to_owned(),
            ]
        })
    }

    fn side_of(&self, url: &Url) -> Option<Side> {
        let origin = url.origin();
        if self.apim_origins.contains(&origin) {
            Some(Side::Apim)
        } else if self.is_origins.contains(&origin) {
            Some(Side::Is)
        } else {
            None
        }
    }
}

/// The scopes a local role gets on a portal by APIM's default role-to-scope mapping (the ones
/// that prove the role; `RESTAPIScopes` of 3.x and 4.x agree on them: see the testkit README's
/// portal-scope table and its sources).
pub fn portal_scopes(portal: Portal, role: &str) -> &'static [&'static str] {
    match (portal, role) {
        (Portal::Publisher, "Internal/publisher") => &["apim:api_view", "apim:api_publish"],
        (Portal::Publisher, "Internal/creator") => &["apim:api_view", "apim:api_create"],
        (Portal::Publisher, "admin") => &["apim:api_view", "apim:api_create", "apim:api_publish"],
        (Portal::DevPortal, "Internal/subscriber" | "admin") => &["apim:subscribe"],
        (Portal::AdminPortal, "admin") => &["apim:admin"],
        _ => &[],
    }
}

/// The path of the publisher REST API of an APIM release: `v1.0` on 3.0, `v1` on 3.1 and 3.2,
/// `v2` on 4.0, `v3` on 4.1, `v4` from 4.2 (carbon-apimgt's publisher API versions).
pub fn publisher_api_path(version: ServerVersion) -> &'static str {
    if version.at_least(4, 2) {
        "/api/am/publisher/v4"
    } else if version.at_least(4, 1) {
        "/api/am/publisher/v3"
    } else if version.at_least(4, 0) {
        "/api/am/publisher/v2"
    } else if version.at_least(3, 1) {
        "/api/am/publisher/v1"
    } else {
        "/api/am/publisher/v1.0"
    }
}

/// The portal's login entry: the endpoint a browser opens to log in (the Publisher's and the
/// Admin portal's `services/auth/login`, the Developer Portal's `services/configs`), relative to
/// APIM's root.
pub fn login_entry(portal: Portal) -> String {
    match portal {
        Portal::DevPortal => format!("{}/services/configs", portal.context()),
        _ => format!("{}/services/auth/login", portal.context()),
    }
}

/// The URL as the report shows it: every query value not in [`SHOWN_PARAMS`] replaced by
/// [`REDACTED`], no fragment, no user info.
pub fn redact_url(url: &Url) -> String {
    let mut out = format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.port().map(|p| format!(":{p}")).unwrap_or_default()
    );
    out.push_str(url.path());
    if url.query().is_some() {
        let pairs: Vec<String> = url
            .query_pairs()
            .map(|(k, v)| {
                let shown = SHOWN_PARAMS.contains(&k.as_ref());
                let v = if shown {
                    v.into_owned()
                } else {
                    REDACTED.into()
                };
                let enc = |s: &str| {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                };
                format!("{}={}", enc(&k), if shown { enc(&v) } else { v })
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The action name of a request, from its server, method and path.
fn action_of(portal_ctx: &str, side: Side, method: &http::Method, url: &Url) -> String {
    let path = url.path();
    let s = match side {
        Side::Is => "is",
        Side::Apim => "apim",
    };
    let named = |a: &str| format!("{s}.{a}");
    let under = |p: &str| path == p || path.starts_with(&format!("{p}/"));
    match path {
        "/oauth2/authorize" if method == http::Method::POST => named("consent_approve"),
        "/oauth2/authorize" => named("authorize"),
        "/commonauth" => named("commonauth"),
        "/authenticationendpoint/login.do" => named("login_page"),
        "/authenticationendpoint/oauth2_consent.do" => named("consent"),
        "/authenticationendpoint/oauth2_error.do" => named("error_page"),
        "/authenticationendpoint/retry.do" => named("retry_page"),
        "/oauth2/token" => named("token"),
        _ if side == Side::Apim && path.starts_with("/api/am/") => "portal.api".into(),
        _ if side == Side::Apim && under(&format!("/{portal_ctx}")) => {
            let rest = &path[portal_ctx.len() + 1..];
            match rest {
                "/services/auth/login" => "portal.login".into(),
                "/services/configs" => "portal.configs".into(),
                "/services/auth/callback/login" => "portal.callback".into(),
                "/services/auth/introspect" => "portal.introspect".into(),
                r if r.starts_with("/error-pages") => "portal.error_page".into(),
                _ => "portal.page".into(),
            }
        }
        _ => named("page"),
    }
}

// ------------------------------------------------------------------------------ cookie jar

/// One cookie, its value kept as a secret (session ids, token halves).
struct Cookie {
    name: String,
    value: SecretString,
    /// The host it was set by, or its `Domain` attribute.
    domain: String,
    /// Whether it came with a `Domain` attribute (then subdomains match too).
    any_subdomain: bool,
    path: String,
    secure: bool,
}

/// The browser's cookies (RFC 6265, enough of it): host-only or domain cookies, paths,
/// `Secure`, removal by `Max-Age<=0` or a past `Expires`. Ports do not separate cookies, as in
/// browsers.
#[derive(Default)]
struct Jar(Vec<Cookie>);

impl Jar {
    fn store(&mut self, url: &Url, set_cookie: &str) {
        let mut parts = set_cookie.split(';');
        let Some((name, value)) = parts.next().and_then(|kv| kv.split_once('=')) else {
            return;
        };
        let (name, value) = (name.trim().to_owned(), value.trim().to_owned());
        if name.is_empty() {
            return;
        }
        let host = url.host_str().unwrap_or("").to_ascii_lowercase();
        let default_path = match url.path().rfind('/') {
            Some(0) | None => "/".to_owned(),
            Some(i) => url.path()[..i].to_owned(),
        };
        let mut cookie = Cookie {
            name,
            value: SecretString::from(value),
            domain: host.clone(),
            any_subdomain: false,
            path: default_path,
            secure: false,
        };
        let mut remove = false;
        for attr in parts {
            let (k, v) = match attr.split_once('=') {
                Some((k, v)) => (k.trim(), v.trim()),
                None => (attr.trim(), ""),
            };
            match k.to_ascii_lowercase().as_str() {
                "path" if v.starts_with('/') => cookie.path = v.to_owned(),
                "domain" if !v.is_empty() => {
                    let d = v.trim_start_matches('.').to_ascii_lowercase();
                    if !domain_match(&host, &d) {
                        return;
                    }
                    cookie.domain = d;
                    cookie.any_subdomain = true;
                }
                "max-age" => remove = v.parse::<i64>().is_ok_and(|n| n <= 0),
                "expires" => remove |= v.contains("1970"),
                "secure" => cookie.secure = true,
                _ => {}
            }
        }
        self.0.retain(|c| {
            !(c.name == cookie.name && c.domain == cookie.domain && c.path == cookie.path)
        });
        if !remove {
            self.0.push(cookie);
        }
    }

    fn matching<'a>(&'a self, url: &'a Url) -> impl Iterator<Item = &'a Cookie> + 'a {
        let host = url.host_str().unwrap_or("").to_ascii_lowercase();
        self.0.iter().filter(move |c| {
            let host_ok = if c.any_subdomain {
                domain_match(&host, &c.domain)
            } else {
                host == c.domain
            };
            host_ok && path_match(url.path(), &c.path) && (!c.secure || url.scheme() == "https")
        })
    }

    /// The `Cookie` header for `url`, longest paths first.
    fn header(&self, url: &Url) -> Option<SecretString> {
        let mut cookies: Vec<&Cookie> = self.matching(url).collect();
        if cookies.is_empty() {
            return None;
        }
        cookies.sort_by_key(|c| std::cmp::Reverse(c.path.len()));
        let text = cookies
            .iter()
            .map(|c| format!("{}={}", c.name, c.value.expose_secret()))
            .collect::<Vec<_>>()
            .join("; ");
        Some(SecretString::from(text))
    }

    /// The value of the cookie `name` sent to `url`.
    fn value<'a>(&'a self, url: &'a Url, name: &str) -> Option<&'a SecretString> {
        self.matching(url)
            .filter(|c| c.name == name)
            .max_by_key(|c| c.path.len())
            .map(|c| &c.value)
    }
}

fn domain_match(host: &str, domain: &str) -> bool {
    host == domain || (host.ends_with(domain) && host[..host.len() - domain.len()].ends_with('.'))
}

fn path_match(path: &str, cookie_path: &str) -> bool {
    path == cookie_path
        || (path.starts_with(cookie_path)
            && (cookie_path.ends_with('/') || path[cookie_path.len()..].starts_with('/')))
}

// ------------------------------------------------------------------------------ HTML forms

/// A form of a page: where it posts, how, and the fields a browser would send.
struct Form {
    action: String,
    method: http::Method,
    fields: Vec<(String, String)>,
}

impl Form {
    fn has(&self, name: &str) -> bool {
        self.fields.iter().any(|(n, _)| n == name)
    }

    fn set(&mut self, name: &str, value: &str) {
        self.fields.retain(|(n, _)| n != name);
        self.fields.push((name.to_owned(), value.to_owned()));
    }
}

/// The tag's attributes (names lower-cased, values with character references decoded).
fn attributes(tag: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let bytes = tag.as_bytes();
    // Skip `<name`.
    let mut i = tag.find(|c: char| c.is_whitespace()).unwrap_or(tag.len());
    while i < bytes.len() {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !b"=>/".contains(&bytes[i]) {
            i += 1;
        }
        if start == i {
            i += 1;
            continue;
        }
        let name = tag[start..i].to_ascii_lowercase();
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < bytes.len() && bytes[i] == b'=' {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < bytes.len() && (bytes[i] == b'"' || bytes[i] == b'\'') {
                let quote = bytes[i];
                let from = i + 1;
                let to = tag[from..]
                    .bytes()
                    .position(|b| b == quote)
                    .map_or(tag.len(), |p| from + p);
                value = decode_entities(&tag[from..to]);
                i = (to + 1).min(tag.len());
            } else {
                let from = i;
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                    i += 1;
                }
                value = decode_entities(&tag[from..i]);
            }
        }
        out.push((name, value));
    }
    out
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest.find(';').filter(|&e| e <= 10);
        let decoded = end.and_then(|e| {
            let name = &rest[1..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                n if n.starts_with("#x") || n.starts_with("#X") => u32::from_str_radix(&n[2..], 16)
                    .ok()
                    .and_then(char::from_u32),
                n if n.starts_with('#') => n[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            }?;
            Some((c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Every `<form>` of a page with the fields a browser submits without a click: text, password,
/// hidden and email inputs, checked checkboxes and radios (submit buttons only when clicked,
/// which the caller does by setting the field).
fn forms(html: &str) -> Vec<Form> {
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(p) = lower[at..].find("<form") {
        let start = at + p;
        let Some(tag_end) = lower[start..].find('>').map(|e| start + e) else {
            break;
        };
        let attrs = attributes(&html[start..tag_end]);
        let get = |n: &str| attrs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let end = lower[tag_end..]
            .find("</form")
            .map_or(html.len(), |e| tag_end + e);
        let body = &html[tag_end..end];
        let body_lower = &lower[tag_end..end];
        let mut fields = Vec::new();
        let mut i = 0;
        while let Some(q) = body_lower[i..].find("<input") {
            let s = i + q;
            let e = body_lower[s..].find('>').map_or(body.len(), |e| s + e);
            let a = attributes(&body[s..e]);
            let g = |n: &str| a.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
            let kind = g("type")
                .unwrap_or_else(|| "text".into())
                .to_ascii_lowercase();
            let checked = a.iter().any(|(k, _)| k == "checked");
            let sent = match kind.as_str() {
                "checkbox" | "radio" => checked,
                "submit" | "button" | "image" | "reset" | "file" => false,
                _ => true,
            };
            if let (true, Some(name)) = (sent, g("name")) {
                let default = if kind == "checkbox" || kind == "radio" {
                    "on"
                } else {
                    ""
                };
                fields.push((name, g("value").unwrap_or_else(|| default.into())));
            }
            i = e;
        }
        let method = match get("method").map(|m| m.to_ascii_uppercase()).as_deref() {
            Some("POST") => http::Method::POST,
            _ => http::Method::GET,
        };
        out.push(Form {
            action: get("action").unwrap_or_default(),
            method,
            fields,
        });
        at = end.max(tag_end + 1);
    }
    out
}

// ------------------------------------------------------------------------------ the walk

/// A page the browser stopped at (not a redirect).
struct Page {
    url: Url,
    side: Side,
    status: u16,
    body: String,
}

enum Body<'a> {
    None,
    Form(&'a [(String, String)], Option<&'a SecretString>),
}

struct Walk<'p> {
    proof: &'p LoginProof,
    jar: Jar,
    hops: Vec<Hop>,
    warnings: Vec<Diagnosis>,
    notes: Vec<String>,
    /// `error` and `error_description` IS sent to APIM's `/commonauth`.
    commonauth_error: Option<(String, Option<String>)>,
    /// The hop to blame when the login broke at a page another hop redirected to (an error or
    /// retry page, the login page again): the one that redirected there.
    blame: Option<usize>,
    requests: usize,
}

impl Walk<'_> {
    /// One request: cookies sent and kept, the hop recorded.
    async fn send(
        &mut self,
        method: http::Method,
        url: &Url,
        body: Body<'_>,
        bearer: Option<SecretString>,
    ) -> Result<(Side, HttpAnswer), Diagnosis> {
        let side = self
            .proof
            .side_of(url)
            .ok_or_else(|| Diagnosis::UnexpectedHost {
                host: match url.port() {
                    Some(p) => format!("{}:{p}", url.host_str().unwrap_or("")),
                    None => url.host_str().unwrap_or("").to_owned(),
                },
            })?;
        self.requests += 1;
        if self.requests > MAX_REQUESTS {
            return Err(Diagnosis::TooManyRequests);
        }
        let action = action_of(self.proof.portal.context(), side, &method, url);
        if action == "apim.commonauth"
            && let Some(e) = query(url, "error")
        {
            self.commonauth_error = Some((e, query(url, "error_description")));
        }
        let mut req = http::Request::builder()
            .method(method.clone())
            .uri(url.as_str())
            .header(
                http::header::ACCEPT,
                "text/html,application/json;q=0.9,*/*;q=0.8",
            );
        if let Some(cookies) = self.jar.header(url) {
            req = req.header(http::header::COOKIE, sensitive(&cookies)?);
        }
        if let Some(token) = bearer {
            let value = SecretString::from(format!("Bearer {}", token.expose_secret()));
            req = req.header(http::header::AUTHORIZATION, sensitive(&value)?);
        }
        let bytes = match body {
            Body::None => Vec::new(),
            Body::Form(fields, password) => {
                req = req.header(
                    http::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                );
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                for (k, v) in fields {
                    form.append_pair(k, v);
                }
                if let Some(p) = password {
                    form.append_pair("password", p.expose_secret());
                }
                form.finish().into_bytes()
            }
        };
        let request = req.body(bytes).map_err(|_| Diagnosis::UnexpectedPage {
            server: side,
            status: 0,
            detail: "the request could not be built".into(),
        })?;
        let http = match side {
            Side::Is => &self.proof.is,
            Side::Apim => &self.proof.apim,
        };
        let answer = http.send("browser login", request).await;
        let status = answer.as_ref().ok().map(|a| a.status);
        let hop = Hop {
            action,
            server: side,
            method: method.to_string(),
            url: redact_url(url),
            status,
        };
        tracing::debug!(action = %hop.action, url = %hop.url, status = ?status, "login hop");
        self.hops.push(hop);
        let answer = answer.map_err(|e| transport_diagnosis(side, url, &e))?;
        for sc in answer.headers.get_all(http::header::SET_COOKIE) {
            if let Ok(text) = sc.to_str() {
                self.jar.store(url, text);
            }
        }
        Ok((side, answer))
    }

    /// A request and every redirect after it, to the page where it ends.
    async fn go(
        &mut self,
        method: http::Method,
        url: Url,
        body: Body<'_>,
    ) -> Result<Page, Diagnosis> {
        let (mut side, mut answer) = self.send(method, &url, body, None).await?;
        let mut url = url;
        while (300..400).contains(&answer.status) {
            let Some(location) = answer.header("location") else {
                break;
            };
            url = url.join(location).map_err(|_| Diagnosis::UnexpectedPage {
                server: side,
                status: answer.status,
                detail: "a redirect without a usable Location".into(),
            })?;
            (side, answer) = self.send(http::Method::GET, &url, Body::None, None).await?;
        }
        Ok(Page {
            url,
            side,
            status: answer.status,
            body: String::from_utf8_lossy(&answer.body).into_owned(),
        })
    }

    async fn submit(
        &mut self,
        page: &Page,
        form: &Form,
        password: Option<&SecretString>,
    ) -> Result<Page, Diagnosis> {
        let target = page
            .url
            .join(&form.action)
            .map_err(|_| Diagnosis::UnexpectedPage {
                server: page.side,
                status: page.status,
                detail: "a form without a usable action".into(),
            })?;
        if form.method == http::Method::GET {
            let mut target = target;
            target
                .query_pairs_mut()
                .clear()
                .extend_pairs(form.fields.iter());
            return self.go(http::Method::GET, target, Body::None).await;
        }
        self.go(
            http::Method::POST,
            target,
            Body::Form(&form.fields, password),
        )
        .await
    }

    /// From the portal's login entry to the portal's page.
    async fn login(&mut self) -> Result<(), Diagnosis> {
        let proof = self.proof;
        let entry = proof
            .apim_url
            .join(&login_entry(proof.portal))
            .map_err(|_| Diagnosis::UnexpectedHost {
                host: proof.apim_url.to_string(),
            })?;
        let mut page = self.go(http::Method::GET, entry, Body::None).await?;
        let mut signed_in = false;
        let mut consents = 0;
        let ctx = format!("/{}", proof.portal.context());
        loop {
            let path = page.url.path().to_owned();
            match (page.side, path.as_str()) {
                (Side::Apim, p)
                    if page.status == 200
                        && (p == ctx || p.starts_with(&format!("{ctx}/")))
                        && !p.contains("/error-pages")
                        && !p.contains("/services/") =>
                {
                    return Ok(());
                }
                (Side::Apim, p) if p.starts_with(&format!("{ctx}/error-pages")) => {
                    return Err(Diagnosis::PortalSessionFailed);
                }
                (_, "/authenticationendpoint/login.do") if page.status == 200 => {
                    if page.side == Side::Apim {
                        return Err(Diagnosis::PortalNotFederated);
                    }
                    if signed_in || query(&page.url, "authFailure").as_deref() == Some("true") {
                        self.blame_redirect();
                        return Err(Diagnosis::WrongUserPassword);
                    }
                    let Some(mut form) = forms(&page.body)
                        .into_iter()
                        .find(|f| f.has("password") || f.has("username"))
                    else {
                        return Err(Diagnosis::UnexpectedPage {
                            server: page.side,
                            status: page.status,
                            detail: "IS's login page has no login form".into(),
                        });
                    };
                    form.set("username", &proof.user);
                    form.fields.retain(|(n, _)| n != "password");
                    signed_in = true;
                    page = self.submit(&page, &form, Some(&proof.password)).await?;
                }
                (_, "/authenticationendpoint/oauth2_consent.do") if page.status == 200 => {
                    consents += 1;
                    if consents > 2 {
                        return Err(Diagnosis::TooManyRequests);
                    }
                    let choice = match proof.consent {
                        ConsentChoice::Refuse => {
                            return Err(Diagnosis::ConsentRequired { server: page.side });
                        }
                        ConsentChoice::Approve => {
                            self.warnings
                                .push(Diagnosis::ConsentShown { server: page.side });
                            "approve"
                        }
                        ConsentChoice::Deny => "deny",
                    };
                    let Some(mut form) = forms(&page.body)
                        .into_iter()
                        .find(|f| f.has("sessionDataKeyConsent") || f.has("consent"))
                    else {
                        return Err(Diagnosis::UnexpectedPage {
                            server: page.side,
                            status: page.status,
                            detail: "the consent page has no consent form".into(),
                        });
                    };
                    form.set("consent", choice);
                    page = self.submit(&page, &form, None).await?;
                }
                (side, "/authenticationendpoint/oauth2_error.do") => {
                    self.blame_redirect();
                    let code = query(&page.url, "oauthErrorCode").unwrap_or_default();
                    let message = query(&page.url, "oauthErrorMsg").unwrap_or_default();
                    return Err(match (side, code.as_str()) {
                        (Side::Is, "invalid_callback") => Diagnosis::CallbackMismatch { message },
                        (Side::Apim, "invalid_client") => {
                            Diagnosis::PortalClientUnknown { message }
                        }
                        _ => Diagnosis::UnexpectedPage {
                            server: side,
                            status: page.status,
                            detail: format!("OAuth error page: {code} {message}"),
                        },
                    });
                }
                (Side::Apim, "/authenticationendpoint/retry.do") => {
                    self.blame_redirect();
                    return Err(self.explain_retry(&page).await);
                }
                (side, _) if page.status >= 500 => {
                    return Err(Diagnosis::ServerError {
                        server: side,
                        status: page.status,
                    });
                }
                (side, p) => {
                    return Err(Diagnosis::UnexpectedPage {
                        server: side,
                        status: page.status,
                        detail: format!("{p} (after {})", self.previous_action()),
                    });
                }
            }
        }
    }

    /// Blames the hop that redirected to the last one.
    fn blame_redirect(&mut self) {
        self.blame = self.hops.len().checked_sub(2);
    }

    fn previous_action(&self) -> String {
        self.hops
            .iter()
            .rev()
            .nth(1)
            .map(|h| h.action.clone())
            .unwrap_or_default()
    }

    /// APIM's retry page: what went wrong where the browser cannot see.
    async fn explain_retry(&mut self, page: &Page) -> Diagnosis {
        let message = query(&page.url, "statusMsg").unwrap_or_default();
        let went_to_is = self.hops.iter().any(|h| h.server == Side::Is);
        if !went_to_is {
            // APIM never sent the browser to IS: the identity provider.
            let state = match &self.proof.admin {
                Some(admin) => idp_state(admin).await,
                None => IdpState::Unknown,
            };
            return Diagnosis::IdentityProviderUnavailable { state };
        }
        if message.contains("10005") {
            return Diagnosis::NoJitUserStore { message };
        }
        if let Some((error, description)) = self.commonauth_error.clone() {
            let pkce = description.as_deref().is_some_and(|d| d.contains("PKCE"));
            return match error.as_str() {
                "invalid_request" if pkce => Diagnosis::PkceRequired {
                    message: description,
                },
                "access_denied" => Diagnosis::ConsentDenied,
                _ => Diagnosis::IsRefused { error, description },
            };
        }
        match self.proof.admin.clone() {
            Some(admin) => self.explain_authenticator(&admin, message).await,
            None => {
                self.notes.push("no admin access: the authenticator's failure is not explained (build the proof with `for_federation`)".into());
                Diagnosis::AuthenticatorFailed { message }
            }
        }
    }

    /// APIM's authenticator failed after IS's login: reads the identity provider and the IS
    /// application, and probes IS's token endpoint with the identity provider's credentials.
    async fn explain_authenticator(&mut self, admin: &Admin, message: String) -> Diagnosis {
        let Ok(idp_name) = wso2_is_client::IdpName::new(admin.idp.as_str()) else {
            return Diagnosis::AuthenticatorFailed { message };
        };
        let idp = match admin.apim.identity_providers().get(&idp_name).await {
            Ok(Some(idp)) => idp,
            Ok(None) => {
                return Diagnosis::IdentityProviderUnavailable {
                    state: IdpState::Missing,
                };
            }
            Err(e) => {
                self.notes
                    .push(format!("the identity provider could not be read: {e}"));
                return Diagnosis::AuthenticatorFailed { message };
            }
        };
        let jit = idp.just_in_time_provisioning_config.as_ref();
        if jit.is_some_and(|j| {
            j.provisioning_enabled == Some(true)
                && j.provisioning_user_store
                    .as_deref()
                    .is_none_or(|s| s.trim().is_empty())
        }) {
            return Diagnosis::NoJitUserStore { message };
        }
        let Some(oidc) = idp.oidc_authenticator() else {
            return Diagnosis::IdentityProviderUnavailable {
                state: IdpState::Unknown,
            };
        };
        let client_id = oidc.client_id().unwrap_or_default().to_owned();
        let secret = oidc
            .client_secret()
            .and_then(|s| s.expose())
            .unwrap_or_default()
            .to_owned();
        match is_client_of(admin).await {
            Ok(Some(app)) => {
                if app.pkce_mandatory {
                    return Diagnosis::PkceRequired { message: None };
                }
                if app.client_id.as_deref() != Some(client_id.as_str()) {
                    return Diagnosis::ClientAuthentication {
                        detail:
                            "the identity provider's ClientId is not the IS application's client id"
                                .into(),
                    };
                }
                if !app.secret.is_empty() && app.secret != secret {
                    return Diagnosis::ClientAuthentication {
                        detail: "the identity provider's ClientSecret is not the IS application's secret".into(),
                    };
                }
            }
            Ok(None) => {
                return Diagnosis::ClientAuthentication {
                    detail: format!("IS has no OAuth application {}", admin.oauth_app),
                };
            }
            Err(e) => self
                .notes
                .push(format!("the IS application could not be read: {e}")),
        }
        let basic = oidc.basic_auth().unwrap_or(false);
        let method = if basic {
            ClientAuthMethod::Basic
        } else {
            ClientAuthMethod::Post
        };
        let token_url = oidc
            .token_url()
            .map_or_else(|| admin.token_url.clone(), str::to_owned);
        let callback = oidc
            .callback_url()
            .map_or_else(|| admin.callback.clone(), str::to_owned);
        if client_id.is_empty() || secret.is_empty() {
            return Diagnosis::ClientAuthentication {
                detail: "the identity provider has no ClientId or ClientSecret".into(),
            };
        }
        let probe = ClientAuthProbe::new(token_url, client_id, SecretString::from(secret), method)
            .redirect_uri(callback)
            .send(&admin.is)
            .await;
        match probe {
            Ok(ProbeOutcome::MultipleAuthMethods { .. }) => {
                Diagnosis::MutualTlsDoubleAuthentication { confirmed: true }
            }
            Ok(ProbeOutcome::InvalidClient { description, .. }) => {
                Diagnosis::ClientAuthentication {
                    detail: format!(
                        "IS's token endpoint refuses the identity provider's client ({})",
                        description.map(|d| d.to_string()).unwrap_or_default()
                    ),
                }
            }
            Ok(ProbeOutcome::CredentialsAccepted { .. }) if !basic => {
                Diagnosis::MutualTlsDoubleAuthentication { confirmed: false }
            }
            Ok(_) => Diagnosis::AuthenticatorFailed { message },
            Err(e) => {
                self.notes
                    .push(format!("IS's token endpoint could not be probed: {e}"));
                Diagnosis::AuthenticatorFailed { message }
            }
        }
    }

    /// After the portal's page: its session, its API, the user's roles on APIM.
    async fn prove_rights(&mut self) -> LoginOutcome {
        let proof = self.proof;
        let ctx = proof.portal.context();
        let mut rights = Rights {
            username: None,
            scopes: Vec::new(),
            expected_scopes: Vec::new(),
            api_status: None,
            apim_roles: None,
            expected_roles: proof.expected_roles(),
        };
        let mut scopes: Vec<String> = rights
            .expected_roles
            .iter()
            .flat_map(|r| {
                portal_scopes(proof.portal, r)
                    .iter()
                    .map(|s| (*s).to_owned())
            })
            .collect();
        scopes.sort();
        scopes.dedup();
        rights.expected_scopes = scopes;
        let broken = |walk: &Self, diagnosis, rights| LoginOutcome::Broken {
            hop: walk.hops.len().checked_sub(1),
            diagnosis,
            rights,
        };

        // The session: who is logged in, with which scopes.
        let Ok(introspect) = proof
            .apim_url
            .join(&format!("{ctx}/services/auth/introspect"))
        else {
            return broken(self, Diagnosis::TooManyRequests, None);
        };
        let me = match self
            .send(http::Method::GET, &introspect, Body::None, None)
            .await
        {
            Ok((_, a)) if a.status == 200 => {
                serde_json::from_slice::<serde_json::Value>(&a.body).unwrap_or_default()
            }
            Ok((side, a)) => {
                return broken(
                    self,
                    Diagnosis::UnexpectedPage {
                        server: side,
                        status: a.status,
                        detail: "the portal's session introspection".into(),
                    },
                    None,
                );
            }
            Err(d) => return broken(self, d, None),
        };
        rights.username = me["username"].as_str().map(str::to_owned);
        rights.scopes = me["scope"]
            .as_str()
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        if me["active"] != serde_json::Value::Bool(true) {
            return broken(
                self,
                Diagnosis::UnexpectedPage {
                    server: Side::Apim,
                    status: 200,
                    detail: "the portal's session is not active after the login".into(),
                },
                Some(rights),
            );
        }

        // The release, for the publisher API's path.
        let mut caps = proof.capabilities;
        if caps.is_none()
            && let Some(admin) = &proof.admin
        {
            let detected = wso2_is_client::server::detect_apim_version(admin.apim.core()).await;
            caps = detected.best_guess().map(ApimCapabilities::of);
        }
        if proof.portal == Portal::Publisher {
            match caps {
                Some(caps) => {
                    let path = format!("{}/apis", publisher_api_path(caps.version));
                    let token = proof
                        .apim_url
                        .join(&format!("{ctx}/"))
                        .ok()
                        .and_then(|u| self.jar.value(&u, "WSO2_AM_TOKEN_1_Default").cloned());
                    if let Ok(api) = proof.apim_url.join(path.trim_start_matches('/')) {
                        match self.send(http::Method::GET, &api, Body::None, token).await {
                            Ok((_, a)) => rights.api_status = Some(a.status),
                            Err(d) => return broken(self, d, Some(rights)),
                        }
                    }
                }
                None => self.notes.push(
                    "the APIM release is not known: the publisher API was not called (give it with `LoginProof::apim_capabilities`)".into(),
                ),
            }
        } else {
            self.notes.push(format!(
                "the {} portal's REST API is not called: its scopes come from the session's introspection",
                proof.portal
            ));
        }

        // The JIT user and its roles on APIM.
        if let Some(admin) = &proof.admin {
            if admin.jit.enabled {
                let store = admin.jit.user_store.trim();
                let name = if store.is_empty() || store.eq_ignore_ascii_case("PRIMARY") {
                    proof.user.clone()
                } else {
                    format!("{}/{}", store.to_ascii_uppercase(), proof.user)
                };
                match UserName::new(name) {
                    Ok(name) => match admin.apim.users().roles_of_user(&name).await {
                        Ok(roles) => rights.apim_roles = Some(roles),
                        Err(e) => self
                            .notes
                            .push(format!("the user's roles on APIM could not be read: {e}")),
                    },
                    Err(e) => self.notes.push(format!("the user name is not valid: {e}")),
                }
            } else {
                self.notes.push(
                    "JIT provisioning is off: the user's roles on APIM are not checked".into(),
                );
            }
        }

        let missing = rights.missing_scopes();
        let missing_roles = rights.missing_roles();
        if missing.is_empty() && missing_roles.is_empty() {
            if let Some(status) = rights.api_status.filter(|s| *s != 200) {
                return broken(self, Diagnosis::ApiRefused { status }, Some(rights));
            }
            return LoginOutcome::Proved { rights };
        }
        let diagnosis = match proof.admin.clone() {
            None => Diagnosis::NoPortalScopes { missing },
            Some(admin) => self.explain_no_rights(&admin, &rights, missing).await,
        };
        broken(self, diagnosis, Some(rights))
    }

    /// The login gave no (or not the expected) rights: the role mapping, the local role, or
    /// the role claim.
    async fn explain_no_rights(
        &mut self,
        admin: &Admin,
        rights: &Rights,
        missing: Vec<String>,
    ) -> Diagnosis {
        let missing_roles = rights.missing_roles();
        if missing_roles.is_empty() && rights.apim_roles.is_some() {
            return Diagnosis::ScopesNotGranted {
                roles: rights.apim_roles.clone().unwrap_or_default(),
                missing,
            };
        }
        let user = UserName::new(self.proof.user.as_str()).ok();
        let remote_roles: Vec<String> = match &user {
            Some(u) if admin.rest => match admin.is.scim2().users().find_by_name(u).await {
                Ok(found) => found
                    .map(|u| crate::steps::scim_user::groups_of(&u))
                    .unwrap_or_default(),
                Err(e) => {
                    self.notes
                        .push(format!("the user's groups on IS could not be read: {e}"));
                    Vec::new()
                }
            },
            Some(u) => match admin.is.users().roles_of_user(u).await {
                Ok(r) => r,
                Err(e) => {
                    self.notes
                        .push(format!("the user's roles on IS could not be read: {e}"));
                    Vec::new()
                }
            },
            None => Vec::new(),
        };
        let mappings = match wso2_is_client::IdpName::new(admin.idp.as_str()) {
            Ok(n) => match admin.apim.identity_providers().get(&n).await {
                Ok(Some(idp)) => idp.role_mappings(),
                Ok(None) => {
                    return Diagnosis::IdentityProviderUnavailable {
                        state: IdpState::Missing,
                    };
                }
                Err(e) => {
                    self.notes
                        .push(format!("the identity provider could not be read: {e}"));
                    return Diagnosis::NoPortalScopes { missing };
                }
            },
            Err(_) => return Diagnosis::NoPortalScopes { missing },
        };
        let candidates: Vec<&(String, RoleName)> = mappings
            .iter()
            .filter(|(remote, _)| remote_roles.contains(remote))
            .collect();
        let roles = if missing_roles.is_empty() {
            rights.expected_roles.clone()
        } else {
            missing_roles
        };
        for expected in &roles {
            let to_expected = candidates.iter().find(|(_, l)| l.as_str() == expected);
            match to_expected {
                None => {
                    for (remote, local) in &candidates {
                        if !self.role_exists(admin, local).await {
                            return Diagnosis::RoleMappingToMissingRole {
                                remote: remote.clone(),
                                local: local.as_str().to_owned(),
                            };
                        }
                    }
                    return Diagnosis::RoleMapping {
                        remote_roles: remote_roles
                            .iter()
                            .filter(|r| {
                                !r.starts_with("Internal/") && !r.starts_with("Application/")
                            })
                            .cloned()
                            .collect(),
                        expected: expected.clone(),
                        mapped_to: candidates
                            .iter()
                            .map(|(_, l)| l.as_str().to_owned())
                            .collect(),
                    };
                }
                Some((remote, local)) => {
                    if !self.role_exists(admin, local).await {
                        return Diagnosis::RoleMappingToMissingRole {
                            remote: remote.clone(),
                            local: local.as_str().to_owned(),
                        };
                    }
                }
            }
        }
        // Mapped to a role that exists, and still not held: the role never arrived.
        let claim = admin.role_claim.is_claim().to_owned();
        let detail = match self.requested_claims(admin).await {
            Some(claims) if !claims.contains(&claim) => {
                format!("the IS application does not request {claim}")
            }
            Some(_) => format!(
                "the IS application requests {claim}; APIM must ask for scopes \"{}\" and the user must hold a mapped role on IS",
                admin.scopes
            ),
            None => "the IS application's claims were not read".into(),
        };
        Diagnosis::MissingRoleClaim { claim, detail }
    }

    async fn role_exists(&mut self, admin: &Admin, role: &RoleName) -> bool {
        match admin.apim.users().role_exists(role).await {
            Ok(b) => b,
            Err(e) => {
                self.notes.push(format!(
                    "whether {role} exists on APIM could not be read: {e}"
                ));
                true
            }
        }
    }

    /// The local claims the IS application requests.
    async fn requested_claims(&mut self, admin: &Admin) -> Option<Vec<String>> {
        let name = wso2_is_client::ApplicationName::new(admin.oauth_app.as_str()).ok()?;
        if admin.rest {
            let app = crate::steps::rest_application::read(&admin.is, &name)
                .await
                .ok()?
                .app?;
            return Some(
                app.claims
                    .and_then(|c| c.requested_claims)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|c| c.claim.uri)
                    .collect(),
            );
        }
        let sp = admin.is.applications().get(&name).await.ok()??;
        Some(
            sp.claim_config
                .map(|c| {
                    c.claim_mappings
                        .into_iter()
                        .filter(|m| m.requested != Some(false))
                        .filter_map(|m| m.local_claim.and_then(|l| l.claim_uri))
                        .collect()
                })
                .unwrap_or_default(),
        )
    }
}

/// The IS application's OAuth client, as the release manages it.
struct IsClientView {
    client_id: Option<String>,
    secret: String,
    pkce_mandatory: bool,
}

async fn is_client_of(admin: &Admin) -> Result<Option<IsClientView>, wso2_is_client::Error> {
    if admin.rest {
        let name = wso2_is_client::ApplicationName::new(admin.oauth_app.as_str())?;
        let live = crate::steps::rest_application::read(&admin.is, &name).await?;
        return Ok(live.app.map(|app| IsClientView {
            pkce_mandatory: app
                .oidc
                .pkce
                .as_ref()
                .and_then(|p| p.mandatory)
                .unwrap_or(false),
            secret: app
                .oidc
                .client_secret()
                .map(|s| secrecy::ExposeSecret::expose_secret(s).to_owned())
                .unwrap_or_default(),
            client_id: app.oidc.client_id,
        }));
    }
    let name = OAuthAppName::new(admin.oauth_app.as_str())?;
    Ok(admin
        .is
        .oauth_apps()
        .get_by_name(&name)
        .await?
        .map(|app| IsClientView {
            pkce_mandatory: app.pkce_mandatory == Some(true),
            secret: app
                .oauth_consumer_secret
                .as_ref()
                .and_then(|s| s.expose())
                .unwrap_or_default()
                .to_owned(),
            client_id: app.oauth_consumer_key,
        }))
}

async fn idp_state(admin: &Admin) -> IdpState {
    let Ok(name) = wso2_is_client::IdpName::new(admin.idp.as_str()) else {
        return IdpState::Unknown;
    };
    match admin.apim.identity_providers().get(&name).await {
        Ok(None) => IdpState::Missing,
        Ok(Some(idp)) if idp.enable == Some(false) => IdpState::Disabled,
        _ => IdpState::Unknown,
    }
}

fn sensitive(value: &SecretString) -> Result<HeaderValue, Diagnosis> {
    let mut v =
        HeaderValue::from_str(value.expose_secret()).map_err(|_| Diagnosis::UnexpectedPage {
            server: Side::Apim,
            status: 0,
            detail: "a cookie or token that cannot be sent back in a header".into(),
        })?;
    v.set_sensitive(true);
    Ok(v)
}

fn transport_diagnosis(side: Side, url: &Url, e: &wso2_is_client::Error) -> Diagnosis {
    use wso2_is_client::Error as E;
    let endpoint = match (url.host_str(), url.port_or_known_default()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        _ => url.origin().ascii_serialization(),
    };
    match e {
        E::Tls { problem, .. } => Diagnosis::Tls {
            server: side,
            endpoint,
            problem: tls_text(problem),
        },
        E::Connect { .. } => Diagnosis::Unreachable {
            server: side,
            endpoint,
            detail: "could not connect".into(),
        },
        E::Timeout { timeout, .. } => Diagnosis::ConnectionLost {
            server: side,
            endpoint,
            detail: format!("no answer within {timeout:?}"),
        },
        E::Transport { .. } => Diagnosis::ConnectionLost {
            server: side,
            endpoint,
            detail: "the connection dropped after the request was sent".into(),
        },
        other => Diagnosis::UnexpectedPage {
            server: side,
            status: 0,
            detail: other.to_string(),
        },
    }
}

fn tls_text(problem: &TlsProblem) -> String {
    problem.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_only_harmless_query_values() {
        let u = Url::parse("https://h:9443/commonauth?code=abc&state=k1%2COIDC&session_state=s&error=x&sessionDataKey=K&client_id=c&scope=openid+groups").unwrap();
        let shown = redact_url(&u);
        assert_eq!(
            shown,
            "https://h:9443/commonauth?code=REDACTED&state=REDACTED&session_state=REDACTED&error=x&sessionDataKey=REDACTED&client_id=c&scope=openid+groups"
        );
        assert!(!shown.contains("abc") && !shown.contains("k1"));
    }

    #[test]
    fn forms_are_read_as_a_browser_reads_them() {
        let html = r#"<html><form id="x" action="../commonauth" method="post"><input id="username" name="username" type="text"/><input name=password type="password"><input type="hidden" name="sessionDataKey" value="a&amp;b"/><input type="checkbox" name="remember"><input type="checkbox" name="keep" checked><input type="submit" name="go" value="Sign In"/></form><FORM action='/other'><input name='q' value='1'></FORM>"#;
        let f = forms(html);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].action, "../commonauth");
        assert_eq!(f[0].method, http::Method::POST);
        assert_eq!(
            f[0].fields,
            vec![
                ("username".to_owned(), String::new()),
                ("password".to_owned(), String::new()),
                ("sessionDataKey".to_owned(), "a&b".to_owned()),
                ("keep".to_owned(), "on".to_owned()),
            ]
        );
        assert_eq!(f[1].method, http::Method::GET);
        assert_eq!(f[1].fields, vec![("q".to_owned(), "1".to_owned())]);
        assert_eq!(decode_entities("&#x41;&#66;&lt;&unknown;"), "AB<&unknown;");
    }

    #[test]
    fn cookies_follow_paths_domains_and_removal() {
        let mut jar = Jar::default();
        let base =
            Url::parse("https://localhost:9443/publisher/services/auth/callback/login").unwrap();
        jar.store(
            &base,
            "WSO2_AM_TOKEN_1_Default=p1; Path=/publisher/; Secure",
        );
        jar.store(
            &base,
            "AM_ACC_TOKEN_DEFAULT_P2=p2; Path=/api/am/publisher/; Secure; HttpOnly",
        );
        jar.store(&base, "commonAuthId=c; Path=/");
        jar.store(&base, "evil=1; Domain=example.com");
        let api = Url::parse("https://localhost:9443/api/am/publisher/v4/apis").unwrap();
        let header = jar.header(&api).unwrap();
        assert_eq!(
            header.expose_secret(),
            "AM_ACC_TOKEN_DEFAULT_P2=p2; commonAuthId=c"
        );
        let page = Url::parse("https://localhost:9444/publisher/").unwrap();
        assert_eq!(
            jar.value(&page, "WSO2_AM_TOKEN_1_Default")
                .map(|s| s.expose_secret().to_owned()),
            Some("p1".into())
        );
        assert!(
            jar.header(&Url::parse("http://localhost/publisher/").unwrap())
                .is_some_and(|h| !h.expose_secret().contains("p1"))
        );
        jar.store(&base, "commonAuthId=; Path=/; Max-Age=0");
        assert_eq!(
            jar.header(&api).unwrap().expose_secret(),
            "AM_ACC_TOKEN_DEFAULT_P2=p2"
        );
        assert!(jar.header(&Url::parse("https://other/").unwrap()).is_none());
    }

    #[test]
    fn actions_are_named_as_the_simulator_names_them() {
        let a = |side, m: http::Method, u: &str| {
            action_of("publisher", side, &m, &Url::parse(u).unwrap())
        };
        assert_eq!(
            a(
                Side::Apim,
                http::Method::GET,
                "https://h/publisher/services/auth/login"
            ),
            "portal.login"
        );
        assert_eq!(
            a(
                Side::Apim,
                http::Method::GET,
                "https://h/oauth2/authorize?x=1"
            ),
            "apim.authorize"
        );
        assert_eq!(
            a(Side::Is, http::Method::POST, "https://h/oauth2/authorize"),
            "is.consent_approve"
        );
        assert_eq!(
            a(Side::Is, http::Method::POST, "https://h/commonauth"),
            "is.commonauth"
        );
        assert_eq!(
            a(Side::Apim, http::Method::GET, "https://h/publisher/"),
            "portal.page"
        );
        assert_eq!(
            a(
                Side::Apim,
                http::Method::GET,
                "https://h/api/am/publisher/v4/apis"
            ),
            "portal.api"
        );
        assert_eq!(
            a(
                Side::Apim,
                http::Method::GET,
                "https://h/authenticationendpoint/retry.do"
            ),
            "apim.retry_page"
        );
    }

    #[test]
    fn publisher_api_paths_per_release() {
        let p = |a, b| publisher_api_path(ServerVersion::apim(a, b));
        assert_eq!(p(3, 0), "/api/am/publisher/v1.0");
        assert_eq!(p(3, 2), "/api/am/publisher/v1");
        assert_eq!(p(4, 0), "/api/am/publisher/v2");
        assert_eq!(p(4, 1), "/api/am/publisher/v3");
        assert_eq!(p(4, 7), "/api/am/publisher/v4");
    }

    #[test]
    fn every_diagnosis_names_a_setting_and_a_fix() {
        let all = [
            Diagnosis::CallbackMismatch {
                message: "m".into(),
            },
            Diagnosis::PkceRequired { message: None },
            Diagnosis::MutualTlsDoubleAuthentication { confirmed: true },
            Diagnosis::ClientAuthentication { detail: "d".into() },
            Diagnosis::MissingRoleClaim {
                claim: "c".into(),
                detail: "d".into(),
            },
            Diagnosis::RoleMapping {
                remote_roles: vec![],
                expected: "Internal/publisher".into(),
                mapped_to: vec![],
            },
            Diagnosis::NoJitUserStore {
                message: "10005".into(),
            },
            Diagnosis::ConsentRequired { server: Side::Is },
            Diagnosis::WrongUserPassword,
        ];
        let keys = [
            "apim_public_url",
            "pkceMandatory",
            "client_auth",
            "client_secret",
            "role_claim",
            "map_role",
            "user_store",
            "skip",
            "password_env",
        ];
        for (d, key) in all.iter().zip(keys) {
            assert!(d.fix().contains(key), "{d:?}: {}", d.fix());
            assert!(!d.setting().is_empty());
        }
    }
}
