//! APIM's portal service providers: `apim_publisher`, `apim_devportal` and `apim_admin_portal`.
//!
//! They do not exist until each portal's login has been used once: APIM registers them (by
//! dynamic client registration) when the portal's login endpoint is first hit. [`Portals::ensure`]
//! does what a first browser visit does, then polls `getApplication` with a bounded backoff.
//!
//! Switching a portal to federated login is the dangerous half of the federation: a portal
//! switched to a broken identity provider locks every user out. So the switch is always paired
//! with a [`PortalSnapshot`] taken just before, and [`Portals::restore`] puts the service
//! provider back exactly, field for field.
//!
//! ```no_run
//! # async fn demo() -> Result<(), wso2_apim_client::Error> {
//! use wso2_apim_client::portals::{Portal, SwitchOptions};
//! use wso2_apim_client::ApimClient;
//! use wso2_is_client::IdpName;
//!
//! let apim: ApimClient = ApimClient::builder("https://apim.example.com:9443")
//!     .credentials("admin", "admin")
//!     .build()?;
//! let portals = apim.portals();
//! portals.ensure(Portal::Publisher).await?;
//! let snapshot = portals.snapshot(Portal::Publisher).await?;
//! let idp = IdpName::new("wso2is")?;
//! portals.switch_to_federated(Portal::Publisher, &idp, &SwitchOptions::default()).await?;
//! // ... and back, exactly as it was:
//! portals.restore(&snapshot).await?;
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use wso2_is_client::application::{Applications, AuthenticationType};
use wso2_is_client::carbon::{CarbonClient, RestAuth, RestRequest};
use wso2_is_client::model::fill_redacted_sp_secrets;
use wso2_is_client::model::{
    AuthenticationStep, FederatedAuthenticatorConfig, IdentityProvider, LocalAuthenticatorConfig,
    ServiceProvider, ServiceProviderProperty,
};
use wso2_is_client::{ApplicationName, IdpName};

use crate::error::{Error, Result};

/// One of APIM's portals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Portal {
    /// The Publisher (`/publisher`, service provider `apim_publisher`).
    Publisher,
    /// The Developer Portal (`/devportal`, service provider `apim_devportal`).
    DevPortal,
    /// The Admin portal (`/admin`, service provider `apim_admin_portal`, not `apim_admin`).
    AdminPortal,
}

impl Portal {
    /// Every portal.
    pub const ALL: [Portal; 3] = [Portal::Publisher, Portal::DevPortal, Portal::AdminPortal];

    /// The service provider name APIM 3.1 and later create for the portal (`apim_publisher`,
    /// `apim_devportal`, `apim_admin_portal`).
    pub fn service_provider_name(self) -> &'static str {
        match self {
            Self::Publisher => "apim_publisher",
            Self::DevPortal => "apim_devportal",
            Self::AdminPortal => "apim_admin_portal",
        }
    }

    /// Every name the portal's service provider has had across APIM versions, newest first, for
    /// an APIM admin named `admin_user`:
    ///
    /// * APIM 3.1 and later: `apim_publisher`, `apim_devportal`, `apim_admin_portal` (the Admin
    ///   portal has a service provider only from APIM 4.0 on);
    /// * APIM 3.0.0 (carbon-apimgt 6.5.349): `{admin}_admin_publisher` and `{admin}_admin_store`,
    ///   named `{owner}_{clientName}` by its client registration;
    /// * builds between those: `{admin}_apim_publisher`, `{admin}_apim_devportal`.
    ///
    /// The owner part is the admin user without its tenant domain, `/` replaced by `_` and `@`
    /// by `-AT-`, as carbon-apimgt writes it.
    pub fn candidate_names(self, admin_user: &str) -> Vec<String> {
        let owner = admin_user
            .rsplit_once('@')
            .map_or(admin_user, |(u, _)| u)
            .replace('/', "_")
            .replace('@', "-AT-");
        match self {
            Self::Publisher => vec![
                "apim_publisher".to_owned(),
                format!("{owner}_admin_publisher"),
                format!("{owner}_apim_publisher"),
            ],
            Self::DevPortal => vec![
                "apim_devportal".to_owned(),
                format!("{owner}_admin_store"),
                format!("{owner}_apim_devportal"),
            ],
            Self::AdminPortal => vec!["apim_admin_portal".to_owned()],
        }
    }

    /// The web context of the portal.
    pub fn context(self) -> &'static str {
        match self {
            Self::Publisher => "publisher",
            Self::DevPortal => "devportal",
            Self::AdminPortal => "admin",
        }
    }

    /// The endpoints whose first use makes APIM register the portal's service provider: the
    /// Publisher and Admin portal log in at `/services/auth/login`; the Developer Portal reads
    /// `/services/configs` (the only one APIM 3.0 maps for it; later versions also log in at
    /// `/services/auth/login`, which is called too). Their answers (a redirect to the authorize
    /// endpoint) are ignored: the poll of `getApplication` decides.
    pub fn registration_paths(self) -> Vec<String> {
        let c = self.context();
        match self {
            Self::DevPortal => vec![
                format!("{c}/services/configs"),
                format!("{c}/services/auth/login"),
            ],
            Self::Publisher | Self::AdminPortal => vec![format!("{c}/services/auth/login")],
        }
    }
}

impl fmt::Display for Portal {
    /// The portal's context: `publisher`, `devportal` or `admin`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.context())
    }
}

impl std::str::FromStr for Portal {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "publisher" | "apim_publisher" => Ok(Self::Publisher),
            "devportal" | "apim_devportal" | "store" => Ok(Self::DevPortal),
            "admin" | "admin_portal" | "apim_admin_portal" => Ok(Self::AdminPortal),
            other => Err(Error::invalid(
                "portal",
                format!("unknown portal {other:?}; expected publisher, devportal or admin"),
            )),
        }
    }
}

/// How long to wait for a portal's service provider to appear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollPolicy {
    /// Reads of `getApplication` in all.
    pub attempts: u32,
    /// Wait after the first unsuccessful read; doubles up to `max_wait`.
    pub initial_wait: Duration,
    /// Longest wait between reads.
    pub max_wait: Duration,
}

impl Default for PollPolicy {
    /// Eight reads, waiting 250 ms doubling up to 4 s (about 17 s in all).
    fn default() -> Self {
        Self {
            attempts: 8,
            initial_wait: Duration::from_millis(250),
            max_wait: Duration::from_secs(4),
        }
    }
}

impl PollPolicy {
    fn wait(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.initial_wait.saturating_mul(factor).min(self.max_wait)
    }

    /// The total time the policy may wait.
    pub fn total_wait(&self) -> Duration {
        (1..self.attempts).map(|a| self.wait(a)).sum()
    }
}

/// A portal's service provider exactly as read, kept as a serialisable value.
///
/// Secrets in it (the portal's `oauthConsumerSecret`) serialise as a redaction marker; on
/// restore they are taken from the live service provider, which the switch never changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortalSnapshot {
    /// The portal.
    pub portal: Portal,
    /// The service provider as read.
    pub service_provider: ServiceProvider,
}

/// Options of the federated switch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SwitchOptions {
    /// "Assert identity using mapped local subject identifier" (`alwaysSendMappedLocalSubjectId`):
    /// required for scopes and role mapping of provisioned federated users. Default `true`.
    pub assert_identity_using_mapped_local_subject: bool,
    /// Ask the server to skip the consent page after a federated login. Written as the service
    /// provider property `skipConsent` (how IS 5.10+ stores it); IS 5.9 / APIM 3.0 have no
    /// per-application consent switch (consent is a server setting there), so on them this is
    /// stored but inert. Default `true`.
    pub skip_consent: bool,
    /// Keep the local username/password login as a second option in the same step (a
    /// multi-option step, `authenticationType = flow`) as a break-glass path.
    ///
    /// Risk: every local account keeps working (the federation is then not enforced), and on
    /// some APIM versions the multi-option login URL carries the double-encoded scope list and is
    /// rejected by Tomcat's header size limit (api-manager #17744). Default `false`.
    pub local_login_fallback: bool,
    /// The federated authenticator to use (default `OpenIDConnectAuthenticator`).
    pub authenticator: String,
}

impl Default for SwitchOptions {
    fn default() -> Self {
        Self {
            assert_identity_using_mapped_local_subject: true,
            skip_consent: true,
            local_login_fallback: false,
            authenticator: OIDC_AUTHENTICATOR.to_owned(),
        }
    }
}

/// The OIDC federated authenticator's name.
pub const OIDC_AUTHENTICATOR: &str = "OpenIDConnectAuthenticator";
/// The service provider property that asks IS 5.10+ to skip consent.
pub const SKIP_CONSENT_PROPERTY: &str = "skipConsent";

/// `sp` switched to federated authentication through `idp` (pure; nothing is sent).
///
/// Without a fallback: `authenticationType = federated` with exactly one step holding exactly one
/// federated identity provider and no local authenticator, as the server demands. With the
/// fallback: `authenticationType = flow` with one step offering the identity provider and the
/// local basic authenticator. Every other field is kept as it was.
pub fn federated(sp: &ServiceProvider, idp: &IdpName, options: &SwitchOptions) -> ServiceProvider {
    let mut out = sp.clone();
    let mut authenticator = FederatedAuthenticatorConfig::default();
    authenticator.name = Some(options.authenticator.clone());
    authenticator.enabled = Some(true);
    let mut federated_idp = IdentityProvider::default();
    federated_idp.identity_provider_name = Some(idp.as_str().to_owned());
    federated_idp.default_authenticator_config = Some(authenticator.clone());
    federated_idp.federated_authenticator_configs = vec![authenticator];

    let mut step = AuthenticationStep::default();
    step.step_order = Some(1);
    step.subject_step = Some(true);
    step.attribute_step = Some(true);
    step.federated_identity_providers = vec![federated_idp];
    if options.local_login_fallback {
        let mut basic = LocalAuthenticatorConfig::default();
        basic.name = Some("BasicAuthenticator".to_owned());
        basic.display_name = Some("basic".to_owned());
        basic.enabled = Some(true);
        step.local_authenticator_configs = vec![basic];
    }

    let auth = out.auth_config_mut();
    auth.authentication_type = Some(
        if options.local_login_fallback {
            AuthenticationType::Flow
        } else {
            AuthenticationType::Federated
        }
        .as_str()
        .to_owned(),
    );
    auth.authentication_steps = vec![step];
    // Explicit subject/attribute steps would point at the old sequence.
    auth.authentication_step_for_subject = None;
    auth.authentication_step_for_attributes = None;

    if options.assert_identity_using_mapped_local_subject {
        out.claim_config
            .get_or_insert_with(Default::default)
            .always_send_mapped_local_subject_id = Some(true);
    }
    if options.skip_consent {
        match out
            .sp_properties
            .iter_mut()
            .find(|p| p.name.as_deref() == Some(SKIP_CONSENT_PROPERTY))
        {
            Some(p) => p.value = Some("true".to_owned()),
            None => {
                let mut p = ServiceProviderProperty::default();
                p.name = Some(SKIP_CONSENT_PROPERTY.to_owned());
                p.display_name = Some("Skip Consent".to_owned());
                p.value = Some("true".to_owned());
                out.sp_properties.push(p);
            }
        }
    }
    out
}

/// Whether `sp` authenticates through `idp` the way [`federated`] sets it up.
pub fn is_federated_through(sp: &ServiceProvider, idp: &IdpName) -> bool {
    let Some(auth) = sp.local_and_out_bound_authentication_config.as_ref() else {
        return false;
    };
    let kind = auth
        .authentication_type
        .as_deref()
        .map(AuthenticationType::parse);
    if !matches!(
        kind,
        Some(AuthenticationType::Federated | AuthenticationType::Flow)
    ) {
        return false;
    }
    auth.authentication_steps.len() == 1
        && auth.authentication_steps[0]
            .federated_identity_providers
            .iter()
            .any(|p| p.identity_provider_name.as_deref() == Some(idp.as_str()))
}

/// Whether `sp` is already switched as [`federated`] would switch it, compared by meaning (the
/// server echoes the step's identity provider with more fields than were sent): the
/// authentication type, one step offering exactly `idp` (and the basic authenticator only with
/// the fallback), and the subject and consent options.
pub fn is_switched(sp: &ServiceProvider, idp: &IdpName, options: &SwitchOptions) -> bool {
    let Some(auth) = sp.local_and_out_bound_authentication_config.as_ref() else {
        return false;
    };
    let want_type = if options.local_login_fallback {
        AuthenticationType::Flow
    } else {
        AuthenticationType::Federated
    };
    if auth
        .authentication_type
        .as_deref()
        .map(AuthenticationType::parse)
        != Some(want_type)
    {
        return false;
    }
    let [step] = auth.authentication_steps.as_slice() else {
        return false;
    };
    let idps: Vec<Option<&str>> = step
        .federated_identity_providers
        .iter()
        .map(|p| p.identity_provider_name.as_deref())
        .collect();
    if idps != [Some(idp.as_str())] {
        return false;
    }
    let locals: Vec<Option<&str>> = step
        .local_authenticator_configs
        .iter()
        .map(|l| l.name.as_deref())
        .collect();
    let want_locals: &[Option<&str>] = if options.local_login_fallback {
        &[Some("BasicAuthenticator")]
    } else {
        &[]
    };
    if locals != want_locals {
        return false;
    }
    if options.assert_identity_using_mapped_local_subject
        && sp
            .claim_config
            .as_ref()
            .and_then(|c| c.always_send_mapped_local_subject_id)
            != Some(true)
    {
        return false;
    }
    if options.skip_consent
        && !sp.sp_properties.iter().any(|p| {
            p.name.as_deref() == Some(SKIP_CONSENT_PROPERTY) && p.value.as_deref() == Some("true")
        })
    {
        return false;
    }
    true
}

/// `snapshot`'s service provider, ready to send: the id is the live one, and secrets withheld
/// from a serialised snapshot are taken from the same place in `live` (the switch never changes
/// them). Fails if a redacted secret has no live counterpart: it could not be restored.
pub fn restorable(snapshot: &PortalSnapshot, live: &ServiceProvider) -> Result<ServiceProvider> {
    let mut sp = snapshot.service_provider.clone();
    sp.application_id = live.application_id.or(sp.application_id);
    let missing = fill_redacted_sp_secrets(&mut sp, live);
    if !missing.is_empty() {
        return Err(Error::RestoreImpossible {
            portal: snapshot.portal,
            reason: format!(
                "the snapshot was read back from disk with its secrets withheld, and the live service provider has no value for {}",
                missing.join(", ")
            ),
        });
    }
    Ok(sp)
}

/// The names under which the portals' service providers were found on one server (they differ
/// across APIM versions; see [`Portal::candidate_names`]). Shared by the handlers of one
/// `ApimClient`, so each name is looked up once. A name can also be fixed in advance.
#[derive(Debug, Clone, Default)]
pub struct PortalNames(Arc<Mutex<BTreeMap<Portal, String>>>);

impl PortalNames {
    /// Uses `name` for `portal` without looking it up.
    pub fn fix(&self, portal: Portal, name: impl Into<String>) {
        self.lock().insert(portal, name.into());
    }

    /// The name known for `portal`, if any.
    pub fn known(&self, portal: Portal) -> Option<String> {
        self.lock().get(&portal).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<Portal, String>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Handler for the portal service providers; get one with `ApimClient::portals()`.
#[derive(Debug, Clone)]
pub struct Portals<'c> {
    client: &'c CarbonClient,
    poll: PollPolicy,
    names: PortalNames,
}

impl<'c> Portals<'c> {
    /// The handler over a client core, with its own name cache.
    pub fn new(client: &'c CarbonClient) -> Self {
        Self::with_names(client, PortalNames::default())
    }

    /// The handler over a client core, sharing a name cache.
    pub fn with_names(client: &'c CarbonClient, names: PortalNames) -> Self {
        Self {
            client,
            poll: PollPolicy::default(),
            names,
        }
    }

    /// Uses another polling policy for [`ensure`](Self::ensure).
    pub fn with_poll_policy(mut self, poll: PollPolicy) -> Self {
        self.poll = poll;
        self
    }

    fn apps(&self) -> Applications<'c> {
        Applications::new(self.client)
    }

    /// The portal's service provider, if it exists. Its name is the one found before, or the
    /// first of [`Portal::candidate_names`] that exists (one read per name tried).
    pub async fn get(&self, portal: Portal) -> Result<Option<ServiceProvider>> {
        if let Some(name) = self.names.known(portal) {
            return Ok(self.apps().get(&ApplicationName::new(name)?).await?);
        }
        for name in portal.candidate_names(self.client.username()) {
            let Ok(checked) = ApplicationName::new(name.as_str()) else {
                continue;
            };
            if let Some(sp) = self.apps().get(&checked).await? {
                self.names.fix(portal, name);
                return Ok(Some(sp));
            }
        }
        Ok(None)
    }

    /// Which portals' service providers exist now (reads only).
    pub async fn find(&self) -> Result<Vec<(Portal, bool)>> {
        let mut out = Vec::with_capacity(3);
        for portal in Portal::ALL {
            out.push((portal, self.get(portal).await?.is_some()));
        }
        Ok(out)
    }

    /// The portal's service provider, bringing it into being first if it does not exist: calls
    /// the portal's login endpoints as a first browser visit does, then polls `getApplication`
    /// per the poll policy. Fails with [`Error::PortalUnavailable`] if it never appears.
    pub async fn ensure(&self, portal: Portal) -> Result<ServiceProvider> {
        if let Some(sp) = self.get(portal).await? {
            return Ok(sp);
        }
        tracing::info!(%portal, "portal service provider absent; triggering its registration");
        for path in portal.registration_paths() {
            let request = RestRequest {
                operation: "portal registration",
                method: http::Method::GET,
                path,
                auth: RestAuth::None,
                content_type: None,
                accept: None,
                body: None,
                read_only: true,
            };
            // Best effort: the answer (a redirect, a JSON config) does not matter; the read does.
            if let Err(e) = self.client.rest(&request).await {
                tracing::debug!(%portal, error = %e, "portal registration endpoint failed");
            }
        }
        for attempt in 1..=self.poll.attempts {
            if let Some(sp) = self.get(portal).await? {
                return Ok(sp);
            }
            if attempt < self.poll.attempts {
                self.client.clock().sleep(self.poll.wait(attempt)).await;
            }
        }
        Err(Error::PortalUnavailable {
            portal,
            tried: portal.candidate_names(self.client.username()),
            attempts: self.poll.attempts,
            waited: self.poll.total_wait(),
        })
    }

    /// The portal's service provider as it is now, as a serialisable snapshot.
    pub async fn snapshot(&self, portal: Portal) -> Result<PortalSnapshot> {
        let sp = self
            .get(portal)
            .await?
            .ok_or(Error::PortalMissing { portal })?;
        Ok(PortalSnapshot {
            portal,
            service_provider: sp,
        })
    }

    /// Switches the portal to federated authentication through `idp` (read, modify, write back
    /// every field read). Returns the service provider as written (or as read, when it was
    /// already switched: nothing is sent then).
    pub async fn switch_to_federated(
        &self,
        portal: Portal,
        idp: &IdpName,
        options: &SwitchOptions,
    ) -> Result<ServiceProvider> {
        let current = self
            .get(portal)
            .await?
            .ok_or(Error::PortalMissing { portal })?;
        self.switch_read(&current, idp, options).await
    }

    /// Switches a portal's service provider that was just read (`current`, e.g. the value of a
    /// snapshot), saving the second read of [`switch_to_federated`](Self::switch_to_federated).
    pub async fn switch_read(
        &self,
        current: &ServiceProvider,
        idp: &IdpName,
        options: &SwitchOptions,
    ) -> Result<ServiceProvider> {
        if is_switched(current, idp, options) {
            return Ok(current.clone());
        }
        let switched = federated(current, idp, options);
        self.apps().update(&switched).await?;
        Ok(switched)
    }

    /// Puts the portal's service provider back as the snapshot holds it, then reads it and checks
    /// that it matches the snapshot field for field.
    pub async fn restore(&self, snapshot: &PortalSnapshot) -> Result<()> {
        let portal = snapshot.portal;
        let live = self
            .get(portal)
            .await?
            .ok_or(Error::PortalMissing { portal })?;
        let target = restorable(snapshot, &live)?;
        if live == target {
            return Ok(());
        }
        self.apps().update(&target).await?;
        let after = self
            .get(portal)
            .await?
            .ok_or(Error::PortalMissing { portal })?;
        if after != target {
            return Err(Error::RestoreImpossible {
                portal,
                reason:
                    "the service provider read back after the restore differs from the snapshot"
                        .into(),
            });
        }
        Ok(())
    }
}
