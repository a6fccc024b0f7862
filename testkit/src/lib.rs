//! Simulated WSO2 Identity Server (5.9–7.3) and API Manager (3.0–4.7) for tests: the Carbon SOAP
//! admin services, IS's management REST API and SCIM2, the OAuth2/OIDC endpoints of both servers,
//! APIM's DCR and portals, and the browser login of a portal through IS, faithful to the real
//! contracts on the wire, with fault injection at every hop, latency, a request log, in-flight
//! counting, snapshots and seeding. Each server behaves as the release chosen on the
//! [`SandboxBuilder`] (default: IS 5.9 and APIM 3.0).
//!
//! * Independent of the client crates: requests are parsed into element trees ([`Element`]) and
//!   JSON values, checked against a table of the WSDL types' element order (Axis2-ADB-like
//!   "Unexpected subelement" faults), and stored as trees.
//! * HTTPS by default with a CA made fresh for each sandbox ([`Sandbox::ca_pem`]); nothing turns
//!   verification off.
//! * Every server-side rule the federation depends on: ids assigned on create, whole-record OAuth
//!   updates, silent dropping of role mappings to missing roles, referenced IdPs not deletable,
//!   the federated-step rule, portal service providers that appear on first login, WSO2's fault
//!   wordings (see the crate's `services` source for the list).
//!
//! ```no_run
//! # async fn demo() -> Result<(), wso2_testkit::SandboxError> {
//! use wso2_testkit::{FaultKind, FaultRule, Sandbox};
//!
//! let sandbox = Sandbox::start().await?;
//! let is_url = sandbox.is().base_url(); // https://localhost:PORT
//! let ca = sandbox.ca_pem(); // trust this
//! let before = sandbox.snapshot();
//! sandbox
//!     .apim()
//!     .inject(FaultRule::nth("addIdP", 1, FaultKind::TimeoutAfterCommit));
//! // ... run the code under test against is_url / sandbox.apim().base_url() ...
//! before.assert_same(&sandbox.snapshot()); // clean slate?
//! # let _ = (is_url, ca); Ok(()) }
//! ```
//!
//! Obtaining an authorization code without a browser: `GET /oauth2/authorize?...` answers 302 to
//! `/authenticationendpoint/login.do?...&sessionDataKey=K`; `POST /commonauth` with the form
//! `sessionDataKey=K&username=U&password=P` answers 302 to `redirect_uri?code=C&state=S`, or to
//! the consent page (`oauth2_consent.do?...&sessionDataKeyConsent=C2`) when the application does
//! not skip consent, answered by `POST /oauth2/authorize` with
//! `sessionDataKeyConsent=C2&consent=approve`.
//!
//! The browser login of a portal through IS (`GET {apim}/publisher/services/auth/login`, through
//! APIM's federated step, IS's login and consent pages, APIM's token request to IS and JIT
//! provisioning, to the portal session and its publisher API) is described hop by hop in the
//! crate's README; [`Sandbox::hops`] lists the hops a login went through, both servers in order.

mod api;
mod authn;
mod control;
mod dcr;
mod names;
mod oidc;
mod portal;
mod rest;
mod rest_schema;
#[rustfmt::skip]
mod rest_table;
mod schema;
mod scim2;
mod scim2_roles;
mod seed;
mod server;
mod services;
mod soap;
mod state;
mod tls;
mod version;
#[rustfmt::skip]
mod wsdl_table;
mod xml;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

pub use control::{
    FaultKind, FaultRule, PortalNaming, Quirks, RequestRecord, Target, TrafficStats, When,
};
pub use oidc::callback_matches;
pub use schema::served_operations;
pub use seed::SEED_PASSWORD;
pub use server::{Credentials, SeedCounts, SeedError, SeedKind, ServerKind, SimServer};
pub use state::{
    RoleRecord, SUPER_TENANT, SandboxSnapshot, Snapshot, SnapshotDiff, TenantState, UserRecord,
};
pub use tls::{CertifiedKey, ClientAuth, LeafKind, TestCa, TlsError};
pub use version::{ApimVersion, IsVersion, SoapAvailability, VersionError};
pub use xml::Element;

/// Why a sandbox could not start.
#[derive(Debug)]
pub enum SandboxError {
    /// Certificates could not be made.
    Tls(TlsError),
    /// A port could not be bound.
    Bind(std::io::Error),
    /// The IS or APIM version given to the builder is not one the simulator knows.
    Version(VersionError),
}

impl std::fmt::Display for SandboxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SandboxError::Tls(_) => f.write_str("could not make the sandbox certificates"),
            SandboxError::Bind(_) => f.write_str("could not bind a sandbox port"),
            SandboxError::Version(_) => f.write_str("unknown server version"),
        }
    }
}

impl std::error::Error for SandboxError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SandboxError::Tls(e) => Some(e),
            SandboxError::Bind(e) => Some(e),
            SandboxError::Version(e) => Some(e),
        }
    }
}

/// Settings of a [`Sandbox`].
#[derive(Debug, Clone)]
pub struct SandboxBuilder {
    http: bool,
    client_auth: ClientAuth,
    leaf: LeafKind,
    host: String,
    is_port: u16,
    apim_port: u16,
    admin_password: String,
    tenants: Vec<String>,
    latency: Duration,
    is_version: Result<IsVersion, VersionError>,
    apim_version: Option<Result<ApimVersion, VersionError>>,
    is_soap: bool,
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        Self {
            http: false,
            client_auth: ClientAuth::None,
            leaf: LeafKind::Good,
            host: "127.0.0.1".into(),
            is_port: 0,
            apim_port: 0,
            admin_password: "admin".into(),
            tenants: vec!["example.com".into()],
            latency: Duration::ZERO,
            is_version: Ok(IsVersion::default()),
            apim_version: None,
            is_soap: false,
        }
    }
}

impl SandboxBuilder {
    /// Plain HTTP instead of HTTPS.
    pub fn http(mut self) -> Self {
        self.http = true;
        self
    }

    /// Demand a client certificate signed by the sandbox CA (mutual TLS); mint one with
    /// [`Sandbox::client_identity`].
    pub fn require_client_cert(mut self) -> Self {
        self.client_auth = ClientAuth::Required;
        self
    }

    /// Ask for a client certificate without requiring one (what WSO2's HTTPS connector does):
    /// IS's token endpoint then refuses a body `client_id` from a caller that presented one with
    /// "The client MUST NOT use more than one authentication method in each".
    pub fn request_client_cert(mut self) -> Self {
        self.client_auth = ClientAuth::Optional;
        self
    }

    /// Which server certificate to present (expired or wrong-host ones for TLS refusal tests).
    pub fn leaf(mut self, kind: LeafKind) -> Self {
        self.leaf = kind;
        self
    }

    /// Address to bind (default `127.0.0.1`; base URLs then say `localhost`).
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }

    /// Port of the simulated IS (default 0: any free port).
    pub fn is_port(mut self, port: u16) -> Self {
        self.is_port = port;
        self
    }

    /// Port of the simulated APIM (default 0: any free port).
    pub fn apim_port(mut self, port: u16) -> Self {
        self.apim_port = port;
        self
    }

    /// Password of `admin` in every tenant (default `admin`).
    pub fn admin_password(mut self, password: impl Into<String>) -> Self {
        self.admin_password = password.into();
        self
    }

    /// Tenants besides `carbon.super` (default: `example.com`), each with `admin@{domain}`.
    pub fn tenants<I, S>(mut self, domains: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tenants = domains.into_iter().map(Into::into).collect();
        self
    }

    /// Delay before every answer on both servers.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// The Identity Server release to behave as: `"5.9"` (the default) ... `"7.3"`, or an
    /// [`IsVersion`]. A text the simulator does not know makes [`start`](Self::start) fail with
    /// [`SandboxError::Version`].
    pub fn is_version<V>(mut self, version: V) -> Self
    where
        V: TryInto<IsVersion>,
        V::Error: Into<VersionError>,
    {
        self.is_version = version.try_into().map_err(Into::into);
        self
    }

    /// The API Manager release to behave as: `"3.0"` (the default) ... `"4.7"`, or an
    /// [`ApimVersion`]. Each release has its own portal service-provider names (3.0:
    /// `admin_admin_publisher`, `admin_admin_store`; 3.1: `apim_publisher`, `apim_devportal`;
    /// 3.2+: also `apim_admin_portal`); `Quirks::portal_naming` overrides them.
    pub fn apim_version<V>(mut self, version: V) -> Self
    where
        V: TryInto<ApimVersion>,
        V::Error: Into<VersionError>,
    {
        self.apim_version = Some(version.try_into().map_err(Into::into));
        self
    }

    /// Switches IS's SOAP admin services on where the release has them off by default (IS 7.2+,
    /// `[server] enable_admin_services = true`); no effect on earlier releases, which serve them.
    pub fn is_soap(mut self, enabled: bool) -> Self {
        self.is_soap = enabled;
        self
    }

    /// Starts both servers on the current Tokio runtime.
    pub async fn start(self) -> Result<Sandbox, SandboxError> {
        let is_version = self.is_version.clone().map_err(SandboxError::Version)?;
        let apim_version = match self.apim_version.clone() {
            None => None,
            Some(v) => Some(v.map_err(SandboxError::Version)?),
        };
        let is_soap = match is_version.soap_default() {
            SoapAvailability::Off if self.is_soap => SoapAvailability::Enabled,
            other => other,
        };
        let profile = server::Profile {
            is: is_version,
            apim: apim_version.unwrap_or_default(),
            is_soap,
        };
        let ca = TestCa::new().map_err(SandboxError::Tls)?;
        let tls = if self.http {
            None
        } else {
            let leaf = ca.server_leaf(self.leaf).map_err(SandboxError::Tls)?;
            Some(
                ca.server_config(&leaf, self.client_auth)
                    .map_err(SandboxError::Tls)?,
            )
        };
        let (tx, rx) = watch::channel(false);
        let clock = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let is = server::Inner::new(
            ServerKind::Is,
            &self.admin_password,
            &self.tenants,
            profile,
            clock.clone(),
        );
        let apim = server::Inner::new(
            ServerKind::Apim,
            &self.admin_password,
            &self.tenants,
            profile,
            clock,
        );
        if !self.http {
            for s in [&is, &apim] {
                *server::lock(&s.client_auth) = self.client_auth;
            }
        }
        *server::lock(&is.peer) = Arc::downgrade(&apim);
        *server::lock(&apim.peer) = Arc::downgrade(&is);
        // The release's own portal names (3.0: `admin_admin_publisher`, `admin_admin_store`).
        let naming = portal::naming_of(apim_version.unwrap_or_default());
        for s in [&is, &apim] {
            server::lock(&s.control).quirks.portal_naming = naming;
        }
        for (inner, port) in [(&is, self.is_port), (&apim, self.apim_port)] {
            server::listen(
                inner.clone(),
                server::ListenOptions {
                    host: self.host.clone(),
                    port,
                    tls: tls.clone(),
                },
                rx.clone(),
            )
            .await
            .map_err(SandboxError::Bind)?;
        }
        *server::lock(&is.peer_base_url) = apim.base_url();
        *server::lock(&apim.peer_base_url) = is.base_url();
        let sandbox = Sandbox {
            ca: Arc::new(ca),
            is: SimServer { inner: is },
            apim: SimServer { inner: apim },
            shutdown: tx,
        };
        sandbox.set_latency(self.latency);
        Ok(sandbox)
    }
}

/// A simulated IS and a simulated APIM, serving until dropped.
pub struct Sandbox {
    ca: Arc<TestCa>,
    is: SimServer,
    apim: SimServer,
    shutdown: watch::Sender<bool>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("is", &self.is)
            .field("apim", &self.apim)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Both servers over HTTPS on free loopback ports, with the default settings.
    pub async fn start() -> Result<Sandbox, SandboxError> {
        SandboxBuilder::default().start().await
    }

    /// Settings for a sandbox.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// The simulated Identity Server.
    pub fn is(&self) -> &SimServer {
        &self.is
    }

    /// The simulated API Manager.
    pub fn apim(&self) -> &SimServer {
        &self.apim
    }

    /// The Identity Server release simulated.
    pub fn is_version(&self) -> IsVersion {
        self.is.inner.profile.is
    }

    /// The API Manager release simulated.
    pub fn apim_version(&self) -> ApimVersion {
        self.apim.inner.profile.apim
    }

    /// The sandbox CA certificate (PEM) that clients must trust.
    pub fn ca_pem(&self) -> &str {
        self.ca.pem()
    }

    /// The sandbox CA, e.g. to mint more certificates.
    pub fn ca(&self) -> &TestCa {
        &self.ca
    }

    /// A client certificate and key signed by the sandbox CA, for mutual TLS.
    pub fn client_identity(&self, common_name: &str) -> Result<CertifiedKey, TlsError> {
        self.ca.client_cert(common_name)
    }

    /// Snapshots of both servers.
    pub fn snapshot(&self) -> SandboxSnapshot {
        SandboxSnapshot {
            is: self.is.snapshot(),
            apim: self.apim.snapshot(),
        }
    }

    /// Sets the per-request delay on both servers.
    pub fn set_latency(&self, latency: Duration) {
        self.is.set_latency(latency);
        self.apim.set_latency(latency);
    }

    /// Every request both servers saw, the servers' own calls to each other included, in arrival
    /// order across the two (by [`RequestRecord::hop`]): a browser login's hops in sequence.
    pub fn hops(&self) -> Vec<(ServerKind, RequestRecord)> {
        let mut all: Vec<(ServerKind, RequestRecord)> = self
            .is
            .all_requests()
            .into_iter()
            .map(|r| (ServerKind::Is, r))
            .chain(
                self.apim
                    .all_requests()
                    .into_iter()
                    .map(|r| (ServerKind::Apim, r)),
            )
            .collect();
        all.sort_by_key(|(_, r)| r.hop);
        all
    }

    /// Clears both request logs and counters.
    pub fn clear_requests(&self) {
        self.is.clear_requests();
        self.apim.clear_requests();
    }

    /// Removes every fault rule on both servers.
    pub fn clear_faults(&self) {
        self.is.clear_faults();
        self.apim.clear_faults();
    }

    /// Stops both servers (also done on drop).
    pub fn shutdown(&self) {
        let _ = self.shutdown.send(true);
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}
