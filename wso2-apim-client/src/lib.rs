//! Typed async client for WSO2 API Manager's identity side, built on the same Carbon core as
//! [`wso2_is_client`] (APIM embeds the same identity components): federated identity providers,
//! the portal service providers (`apim_publisher`, `apim_devportal`, `apim_admin_portal`) and
//! the local roles that role mappings point to.
//!
//! This is the dangerous half of a federation: switching the portals' login to a broken identity
//! provider locks every user out of the Publisher and the Developer Portal. So the portals are
//! switched only with a snapshot in hand and restored exactly ([`portals`]), mapped roles are
//! checked before anything is written ([`roles`]), and identity providers are confirmed by
//! reading them back ([`idp`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), wso2_apim_client::Error> {
//! use wso2_apim_client::ApimClient;
//! use wso2_apim_client::portals::Portal;
//!
//! let apim = ApimClient::builder("https://apim.example.com:9443")
//!     .credentials("admin", "admin")
//!     .ca_pem(std::fs::read("apim-ca.pem").unwrap())
//!     .build()?;
//! for (portal, exists) in apim.portals().find().await? {
//!     println!("{portal}: {}", if exists { "present" } else { "not yet created" });
//! }
//! # Ok(()) }
//! ```
//!
//! Behaviour that differs between APIM releases (portal service-provider names, the endpoints
//! that create them, consent switches, how the identity provider asks for scopes) comes from
//! [`version::ApimCapabilities`]; give it once with
//! [`ApimClient::with_capabilities`]:
//!
//! ```no_run
//! # async fn demo() -> Result<(), wso2_apim_client::Error> {
//! use wso2_apim_client::ApimClient;
//! use wso2_apim_client::version::{ApimCapabilities, ServerVersion};
//!
//! let apim = ApimClient::builder("https://apim.example.com:9443")
//!     .credentials("admin", "admin")
//!     .build()?
//!     .with_capabilities(ApimCapabilities::of(ServerVersion::apim(3, 0)));
//! // Reads `admin_admin_publisher` only, and calls only APIM 3.0's registration endpoint.
//! let publisher = apim.portals().ensure(wso2_apim_client::portals::Portal::Publisher).await?;
//! # let _ = publisher; Ok(()) }
//! ```

mod error;
pub mod idp;
pub mod portals;
pub mod roles;
pub mod version;

pub use error::{Dispatch, Error, MissingRole, Result};
pub use wso2_is_client::{ClientBuilder, FromCarbon, ServerPool};

use wso2_is_client::carbon::CarbonClient;

/// A client for the identity side of one WSO2 API Manager.
///
/// Built like `IsClient` (same options: base URL, credentials, TLS, timeouts, retries).
#[derive(Debug, Clone)]
pub struct ApimClient {
    core: CarbonClient,
    portal_names: portals::PortalNames,
    capabilities: Option<version::ApimCapabilities>,
}

impl ApimClient {
    /// Starts the settings of a client for the server at `base_url`
    /// (e.g. `https://apim.example.com:9443`). What it builds is an `ApimClient`:
    ///
    /// ```
    /// let apim = wso2_apim_client::ApimClient::builder("https://apim.example.com:9443")
    ///     .credentials("admin", "admin")
    ///     .build()?;
    /// # let _: &wso2_apim_client::ApimClient = &apim;
    /// # Ok::<(), wso2_is_client::Error>(())
    /// ```
    ///
    /// and only an `ApimClient`: the settings of an IS client cannot build one.
    ///
    /// ```compile_fail
    /// let apim: wso2_apim_client::ApimClient =
    ///     wso2_is_client::IsClient::builder("https://apim.example.com:9443")
    ///         .credentials("admin", "admin")
    ///         .build()?;
    /// # Ok::<(), wso2_is_client::Error>(())
    /// ```
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder<ApimClient> {
        ClientBuilder::new(base_url)
    }

    /// The transport and authentication core.
    pub fn core(&self) -> &CarbonClient {
        &self.core
    }

    /// Service providers on APIM (the same service as on IS).
    pub fn applications(&self) -> wso2_is_client::application::Applications<'_> {
        wso2_is_client::application::Applications::new(&self.core)
    }

    /// Identity providers on APIM, added and updated with their roles checked and confirmed by
    /// reading back.
    pub fn identity_providers(&self) -> idp::ApimIdentityProviders<'_> {
        idp::ApimIdentityProviders::new(&self.core)
    }

    /// APIM's local roles.
    pub fn roles(&self) -> roles::LocalRoles<'_> {
        roles::LocalRoles::new(&self.core)
    }

    /// Users and roles on APIM (the same service as on IS).
    pub fn users(&self) -> wso2_is_client::users::Users<'_> {
        wso2_is_client::users::Users::new(&self.core)
    }

    /// The same client, working as the release `caps` describes: its handlers use that
    /// release's portal names, registration endpoints and consent switches
    /// ([`Portals::for_version`](portals::Portals::for_version)).
    pub fn with_capabilities(mut self, caps: version::ApimCapabilities) -> Self {
        self.capabilities = Some(caps);
        self
    }

    /// The release this client works for, if it was given.
    pub fn capabilities(&self) -> Option<&version::ApimCapabilities> {
        self.capabilities.as_ref()
    }

    /// The portal service providers (for this client's release, when it was given).
    pub fn portals(&self) -> portals::Portals<'_> {
        let portals = portals::Portals::with_names(&self.core, self.portal_names.clone());
        match self.capabilities {
            Some(caps) => portals.for_version(caps),
            None => portals,
        }
    }

    /// The names under which the portal service providers were found (or were fixed in advance
    /// with [`PortalNames::fix`](portals::PortalNames::fix)).
    pub fn portal_names(&self) -> &portals::PortalNames {
        &self.portal_names
    }
}

impl FromCarbon for ApimClient {
    fn from_carbon(core: CarbonClient) -> Self {
        Self {
            core,
            portal_names: portals::PortalNames::default(),
            capabilities: None,
        }
    }
}

/// The core that request values of `wso2_is_client` are sent through (`AddRole::new(..).send(&apim)`).
impl AsRef<CarbonClient> for ApimClient {
    fn as_ref(&self) -> &CarbonClient {
        &self.core
    }
}
