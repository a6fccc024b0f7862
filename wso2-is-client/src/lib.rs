//! Typed async clients for the identity admin APIs of WSO2 Identity Server (and of WSO2 API
//! Manager, which embeds the same identity components): the Carbon SOAP admin services, SCIM2
//! and the OIDC endpoints.
//!
//! * Exact wire format: SOAP 1.1 bodies in WSDL order, checked against the real WSDLs; every
//!   field of every model type, so a read-modify-write loses nothing.
//! * Precise errors: [`Error::dispatch`] says whether a failed request was sent, maybe sent, or
//!   answered; predicates such as [`Error::is_already_exists`] classify server answers.
//! * Safe by default: TLS verified (private CAs by PEM), plain HTTP refused unless allowed,
//!   bodies capped, creates never retried blindly, secrets held in
//!   [`secrecy::SecretString`] and never shown in `Debug`, errors, logs or serialised values.
//!
//! ```no_run
//! # async fn demo() -> Result<(), wso2_is_client::Error> {
//! use wso2_is_client::IsClient;
//!
//! let is = IsClient::builder("https://localhost:9444")
//!     .credentials("admin", "admin")
//!     .ca_pem(std::fs::read("wso2carbon.pem").unwrap())
//!     .build()?;
//! for app in is.applications().list().await? {
//!     println!("{:?}", app.application_name);
//! }
//! # Ok(()) }
//! ```

pub mod application;
pub mod carbon;
mod error;
pub mod idp;
pub mod model;
mod names;
pub mod oauth;
pub mod oidc;
pub mod rest;
pub mod scim2;
pub mod server;
#[cfg(feature = "test-util")]
pub mod test_util;
pub mod users;
pub mod version;

pub use carbon::auth::{AuthMode, Credentials};
pub use carbon::retry::{Clock, RetryPolicy, TokioClock};
pub use carbon::secret::{PropertyValue, Secret};
pub use carbon::{CarbonClient, ClientBuilder, FromCarbon, ServerPool};
pub use error::{
    BoxError, Dispatch, Error, FaultDetail, InvalidInput, Result, ServerText, SoapFault,
    TlsProblem, UnexpectedAnswer,
};
pub use names::{ApplicationName, ConsumerKey, IdpName, OAuthAppName, RoleName, UserName};

/// A client for the identity admin APIs of one WSO2 Identity Server.
///
/// Cheap to clone; share one per server. Built with [`IsClient::builder`].
#[derive(Debug, Clone)]
pub struct IsClient {
    core: CarbonClient,
}

impl IsClient {
    /// Starts the settings of a client for the server at `base_url`
    /// (e.g. `https://is.example.com:9443`).
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder<IsClient> {
        ClientBuilder::new(base_url)
    }

    /// The transport and authentication core, for operations without a handler here.
    pub fn core(&self) -> &CarbonClient {
        &self.core
    }

    /// Service providers (`IdentityApplicationManagementService`).
    pub fn applications(&self) -> application::Applications<'_> {
        application::Applications::new(&self.core)
    }

    /// OAuth/OIDC consumer applications (`OAuthAdminService`).
    pub fn oauth_apps(&self) -> oauth::OAuthApps<'_> {
        oauth::OAuthApps::new(&self.core)
    }

    /// Identity providers (`IdentityProviderMgtService`).
    pub fn identity_providers(&self) -> idp::IdentityProviders<'_> {
        idp::IdentityProviders::new(&self.core)
    }

    /// Users and roles (`RemoteUserStoreManagerService`).
    pub fn users(&self) -> users::Users<'_> {
        users::Users::new(&self.core)
    }

    /// SCIM2 users, groups and Bulk.
    pub fn scim2(&self) -> scim2::Scim2<'_> {
        scim2::Scim2::new(&self.core)
    }

    /// Applications and their OIDC settings over the REST API (IS 5.10 and later).
    pub fn rest_applications(&self) -> rest::RestApplications<'_> {
        rest::RestApplications::new(&self.core)
    }

    /// OIDC scopes over the REST API (IS 5.10 and later).
    pub fn oidc_scopes(&self) -> rest::OidcScopes<'_> {
        rest::OidcScopes::new(&self.core)
    }

    /// Version probes of this server (see [`server`]).
    pub fn server(&self) -> server::ServerProbes<'_> {
        server::ServerProbes::new(&self.core)
    }

    /// The OIDC discovery document and token-endpoint probe.
    pub fn oidc(&self) -> oidc::Oidc<'_> {
        oidc::Oidc::new(&self.core)
    }
}

impl FromCarbon for IsClient {
    fn from_carbon(core: CarbonClient) -> Self {
        Self { core }
    }
}

/// The core a request value is sent through: `AddUser::new(..).send(&is)`.
impl AsRef<CarbonClient> for IsClient {
    fn as_ref(&self) -> &CarbonClient {
        &self.core
    }
}
