//! APIM's portal service providers: `apim_publisher`, `apim_devportal` and `apim_admin_portal`.
//!
//! They do not exist until each portal's login has been used once: APIM registers them (by
//! dynamic client registration) when the portal's login endpoint is first hit. [`Portals::ensure`]
//! does what a first browser visit does, then polls `getApplication` with a bounded backoff.
//!
//! The names of those service providers, the endpoints that bring them into being and the
//! consent switches differ per APIM release: give the handler the release's
//! [`ApimCapabilities`] ([`Portals::for_version`], or `ApimClient::with_capabilities`) and it
//! uses exactly that release's; without them it tries every name and trigger any release used.
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
use crate::version::ApimCapabilities;

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
        let owner = owner_part(admin_user);
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

    /// The endpoints whose first use makes some APIM release register the portal's service
    /// provider, for a server whose release is not known: the Publisher and Admin portal log in
    /// at `/services/auth/login`; the Developer Portal reads `/services/configs`, and
    /// `/services/auth/login` is called too in case a build maps it. Their answers (a redirect
    /// to the authorize endpoint) are ignored: the poll of `getApplication` decides. For a
    /// known release, [`ApimCapabilities::registration_paths`] gives exactly its endpoints.
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

/// The owner part of APIM 3.0's portal service-provider names (`{owner}_admin_publisher`): the
/// admin user without its tenant domain, `/` replaced by `_` and `@` by `-AT-`, as carbon-apimgt
/// writes it.
pub(crate) fn owner_part(admin_user: &str) -> String {
    admin_user
        .rsplit_once('@')
        .map_or(admin_user, |(u, _)| u)
        .replace('/', "_")
        .replace('@', "-AT-")
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
    /// Skip the consent page after a federated login (without it the login stops at
    /// `oauth2_consent.do`). What is written depends on the release (see [`federated_for`]):
    /// `skipConsent` on APIM 3.1 and later; nothing on APIM 3.0, which has no
    /// per-application consent switch (consent is a server setting there). Default `true`.
    pub skip_consent: bool,
    /// Skip the consent page at logout (`skipLogoutConsent`, APIM 3.1 and later; nothing is
    /// written on 3.0 or when the release is not known). Default `true`.
    pub skip_logout_consent: bool,
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
            skip_logout_consent: true,
            local_login_fallback: false,
            authenticator: OIDC_AUTHENTICATOR.to_owned(),
        }
    }
}

/// The OIDC federated authenticator's name.
pub const OIDC_AUTHENTICATOR: &str = "OpenIDConnectAuthenticator";
/// The service provider property under which the identity framework (5.17 and later: APIM 3.1+,
/// IS 5.10+) stores `LocalAndOutboundAuthenticationConfig.skipConsent`, and which
/// `getApplication` returns among `spProperties`.
pub const SKIP_CONSENT_PROPERTY: &str = "skipConsent";
/// The service provider property under which the identity framework stores
/// `LocalAndOutboundAuthenticationConfig.skipLogoutConsent` (APIM 3.1+).
pub const SKIP_LOGOUT_CONSENT_PROPERTY: &str = "skipLogoutConsent";

/// What a switch writes for the consent pages, by what is known of the release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Consent {
    /// Release not known: the `skipConsent` property only (the behaviour before releases were
    /// told apart; inert on 3.0, rebuilt from the field by 3.1+).
    Unknown,
    /// No per-application consent switch (APIM 3.0): nothing is written or checked.
    NoSwitch,
    /// `skipConsent` / `skipLogoutConsent` of `LocalAndOutboundAuthenticationConfig` (APIM 3.1+).
    Fields { logout: bool },
}

impl Consent {
    fn of(caps: Option<&ApimCapabilities>) -> Self {
        match caps {
            None => Self::Unknown,
            Some(c) if !c.skip_consent => Self::NoSwitch,
            Some(c) => Self::Fields {
                logout: c.skip_logout_consent,
            },
        }
    }

    /// The service provider properties (name, display name) that hold the switches asked for.
    fn properties(self, options: &SwitchOptions) -> Vec<(&'static str, &'static str)> {
        let mut out = Vec::new();
        match self {
            Self::NoSwitch => {}
            Self::Unknown => {
                if options.skip_consent {
                    out.push((SKIP_CONSENT_PROPERTY, "Skip Consent"));
                }
            }
            Self::Fields { logout } => {
                if options.skip_consent {
                    out.push((SKIP_CONSENT_PROPERTY, "Skip Consent"));
                }
                if logout && options.skip_logout_consent {
                    out.push((SKIP_LOGOUT_CONSENT_PROPERTY, "Skip Logout Consent"));
                }
            }
        }
        out
    }
}

/// `sp` switched to federated authentication through `idp`, for a server whose release is not
/// known (pure; nothing is sent). Prefer [`federated_for`].
///
/// Without a fallback: `authenticationType = federated` with exactly one step holding exactly one
/// federated identity provider and no local authenticator, as the server demands. With the
/// fallback: `authenticationType = flow` with one step offering the identity provider and the
/// local basic authenticator. Every other field is kept as it was. Consent: the `skipConsent`
/// service provider property, as before releases were told apart.
pub fn federated(sp: &ServiceProvider, idp: &IdpName, options: &SwitchOptions) -> ServiceProvider {
    switched(sp, idp, options, Consent::of(None))
}

/// `sp` switched to federated authentication through `idp` on the release `caps` describes
/// (pure; nothing is sent): as [`federated`], with the consent switches of that release.
///
/// * APIM 3.0 (framework 5.14.97) has no per-application consent switch: nothing is written
///   for consent (a `skipConsent` property would be stored and never read).
/// * APIM 3.1 and later have `skipConsent` and `skipLogoutConsent` in
///   `LocalAndOutboundAuthenticationConfig`. The framework stores them as the service provider
///   properties of the same names, rebuilt from the fields at every `updateApplication`
///   (`ApplicationDAOImpl.updateConfigurationsAsServiceProperties`), and `getApplication`
///   returns them among `spProperties`. So the fields decide; the properties are how a read
///   shows them. The identity client's `LocalAndOutboundAuthenticationConfig` does not carry
///   the two fields yet: until it does, the switch writes the properties (what the simulator
///   stores, and what the real server reports), and a real 3.1+ server keeps the consent
///   pages; [`is_switched_for`] then says so on the read-back.
pub fn federated_for(
    caps: &ApimCapabilities,
    sp: &ServiceProvider,
    idp: &IdpName,
    options: &SwitchOptions,
) -> ServiceProvider {
    switched(sp, idp, options, Consent::of(Some(caps)))
}

fn switched(
    sp: &ServiceProvider,
    idp: &IdpName,
    options: &SwitchOptions,
    consent: Consent,
) -> ServiceProvider {
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
    for (name, display) in consent.properties(options) {
        set_property(&mut out, name, display, "true");
    }
    // From framework 5.17 the properties are rebuilt from these fields at every update: the
    // fields decide.
    if let Consent::Fields { logout } = consent {
        let auth = out.auth_config_mut();
        if options.skip_consent {
            auth.skip_consent = Some(true);
        }
        if logout && options.skip_logout_consent {
            auth.skip_logout_consent = Some(true);
        }
    }
    out
}

fn set_property(sp: &mut ServiceProvider, name: &str, display: &str, value: &str) {
    match sp
        .sp_properties
        .iter_mut()
        .find(|p| p.name.as_deref() == Some(name))
    {
        Some(p) => p.value = Some(value.to_owned()),
        None => {
            let mut p = ServiceProviderProperty::default();
            p.name = Some(name.to_owned());
            p.display_name = Some(display.to_owned());
            p.value = Some(value.to_owned());
            sp.sp_properties.push(p);
        }
    }
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

/// Whether `sp` is already switched as [`federated`] would switch it (release not known),
/// compared by meaning (the server echoes the step's identity provider with more fields than
/// were sent): the authentication type, one step offering exactly `idp` (and the basic
/// authenticator only with the fallback), and the subject and consent options.
pub fn is_switched(sp: &ServiceProvider, idp: &IdpName, options: &SwitchOptions) -> bool {
    switched_already(sp, idp, options, Consent::of(None))
}

/// Whether `sp` is already switched as [`federated_for`] would switch it on the release `caps`
/// describes. The consent switches are read from the service provider properties the framework
/// keeps them in (on 3.0, where there are none, they are not checked).
pub fn is_switched_for(
    caps: &ApimCapabilities,
    sp: &ServiceProvider,
    idp: &IdpName,
    options: &SwitchOptions,
) -> bool {
    switched_already(sp, idp, options, Consent::of(Some(caps)))
}

fn switched_already(
    sp: &ServiceProvider,
    idp: &IdpName,
    options: &SwitchOptions,
    consent: Consent,
) -> bool {
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
    if let Consent::Fields { logout } = consent
        && ((options.skip_consent && auth.skip_consent != Some(true))
            || (logout && options.skip_logout_consent && auth.skip_logout_consent != Some(true)))
    {
        return false;
    }
    consent.properties(options).into_iter().all(|(name, _)| {
        sp.sp_properties
            .iter()
            .any(|p| p.name.as_deref() == Some(name) && p.value.as_deref() == Some("true"))
    })
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
    caps: Option<ApimCapabilities>,
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
            caps: None,
        }
    }

    /// Uses another polling policy for [`ensure`](Self::ensure).
    pub fn with_poll_policy(mut self, poll: PollPolicy) -> Self {
        self.poll = poll;
        self
    }

    /// Works as the release `caps` describes: the release's service-provider names only (a
    /// portal without one there, such as the Admin portal before 3.2, is
    /// [`Error::PortalNotInRelease`] before any request), the release's registration endpoints,
    /// and the release's consent switches ([`federated_for`]). A name fixed in the shared cache
    /// ([`PortalNames::fix`]) still comes first.
    pub fn for_version(mut self, caps: ApimCapabilities) -> Self {
        self.caps = Some(caps);
        self
    }

    /// The release this handler works for, if it was given.
    pub fn capabilities(&self) -> Option<&ApimCapabilities> {
        self.caps.as_ref()
    }

    fn apps(&self) -> Applications<'c> {
        Applications::new(self.client)
    }

    fn not_in_release(&self, portal: Portal) -> Error {
        match &self.caps {
            Some(c) => Error::PortalNotInRelease {
                portal,
                version: c.version,
            },
            None => Error::PortalMissing { portal },
        }
    }

    /// The portals this handler deals with: those with a service provider on the release, or
    /// all three when the release is not known.
    pub fn portals(&self) -> Vec<Portal> {
        self.caps
            .as_ref()
            .map_or_else(|| Portal::ALL.to_vec(), ApimCapabilities::portals)
    }

    /// The names under which the portal's service provider is looked for, in order of
    /// preference: the name found (or fixed) before; else the release's name; else, the release
    /// not being known, every [`Portal::candidate_names`] (newest first). Each is one
    /// `getApplication` read; a caller that plans in one round sends them together and hands
    /// the answers to [`found`](Self::found). Nothing is sent here.
    pub fn lookup_names(&self, portal: Portal) -> Result<Vec<ApplicationName>> {
        if let Some(name) = self.names.known(portal) {
            return Ok(vec![ApplicationName::new(name)?]);
        }
        if let Some(caps) = &self.caps {
            let name = caps
                .portal_names
                .name(portal, self.client.username())
                .ok_or_else(|| self.not_in_release(portal))?;
            return Ok(vec![ApplicationName::new(name)?]);
        }
        Ok(portal
            .candidate_names(self.client.username())
            .into_iter()
            .filter_map(|n| ApplicationName::new(n).ok())
            .collect())
    }

    /// The portal's service provider among the answers to the reads of
    /// [`lookup_names`](Self::lookup_names), given in that order: the first that exists. Its
    /// name is remembered, so later reads go straight to it.
    pub fn found(
        &self,
        portal: Portal,
        reads: impl IntoIterator<Item = (ApplicationName, Option<ServiceProvider>)>,
    ) -> Option<ServiceProvider> {
        let (name, sp) = reads
            .into_iter()
            .find_map(|(name, sp)| sp.map(|sp| (name, sp)))?;
        self.names.fix(portal, name.as_str());
        Some(sp)
    }

    /// The portal's service provider, if it exists: one read when its name is known (found
    /// before, or given by the release), else the [`Portal::candidate_names`] read one after
    /// the other, newest first, until one exists (one request in flight at a time, so a caller
    /// holding one slot of a concurrency limit stays within it). To read every candidate in
    /// one round, use [`get_in_one_round`](Self::get_in_one_round), or send
    /// [`lookup_names`](Self::lookup_names)' reads yourself.
    pub async fn get(&self, portal: Portal) -> Result<Option<ServiceProvider>> {
        for name in self.lookup_names(portal)? {
            if let Some(sp) = self.apps().get(&name).await? {
                self.names.fix(portal, name.as_str());
                return Ok(Some(sp));
            }
        }
        Ok(None)
    }

    /// As [`get`](Self::get), with every name of [`lookup_names`](Self::lookup_names) read at
    /// once (one round; up to three requests in flight when the release is not known).
    pub async fn get_in_one_round(&self, portal: Portal) -> Result<Option<ServiceProvider>> {
        let names = self.lookup_names(portal)?;
        let apps = self.apps();
        let answers = futures_util::future::join_all(names.iter().map(|name| apps.get(name))).await;
        let mut reads = Vec::with_capacity(names.len());
        for (name, answer) in names.into_iter().zip(answers) {
            reads.push((name, answer?));
        }
        Ok(self.found(portal, reads))
    }

    /// Which portals' service providers exist now (reads only, with [`get`](Self::get)): every
    /// portal of the release, or all three when the release is not known.
    pub async fn find(&self) -> Result<Vec<(Portal, bool)>> {
        let mut out = Vec::with_capacity(3);
        for portal in self.portals() {
            out.push((portal, self.get(portal).await?.is_some()));
        }
        Ok(out)
    }

    /// The endpoints whose first use brings the portal's service provider into being: the
    /// release's ([`ApimCapabilities::registration_paths`]), or every one any release used
    /// ([`Portal::registration_paths`]) when the release is not known.
    pub fn registration_paths(&self, portal: Portal) -> Result<Vec<String>> {
        match &self.caps {
            Some(caps) => {
                let paths = caps.registration_paths(portal);
                if paths.is_empty() {
                    return Err(self.not_in_release(portal));
                }
                Ok(paths)
            }
            None => Ok(portal.registration_paths()),
        }
    }

    /// The portal's service provider, bringing it into being first if it does not exist: reads
    /// it, and when it is absent, [`register`](Self::register)s it. Fails with
    /// [`Error::PortalUnavailable`] if it never appears, and with [`Error::PortalNotInRelease`]
    /// (nothing sent) for a portal the release has no service provider for.
    pub async fn ensure(&self, portal: Portal) -> Result<ServiceProvider> {
        self.registration_paths(portal)?;
        if let Some(sp) = self.get(portal).await? {
            return Ok(sp);
        }
        self.register(portal).await
    }

    /// Brings the portal's service provider into being, for a caller that just read it absent:
    /// calls the portal's registration endpoints (all at once) as a first browser visit does,
    /// then polls `getApplication` per the poll policy. Calling them when the service provider
    /// exists is harmless (APIM registers a portal once), so no read comes first. Fails with
    /// [`Error::PortalUnavailable`] if it never appears, and with [`Error::PortalNotInRelease`]
    /// (nothing sent) for a portal the release has no service provider for.
    pub async fn register(&self, portal: Portal) -> Result<ServiceProvider> {
        let paths = self.registration_paths(portal)?;
        tracing::info!(%portal, "triggering the portal service provider's registration");
        let calls = paths.into_iter().map(|path| async move {
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
        });
        futures_util::future::join_all(calls).await;
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
            tried: self
                .lookup_names(portal)?
                .into_iter()
                .map(|n| n.as_str().to_owned())
                .collect(),
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

    /// `sp` switched through `idp`, as this handler's release switches it ([`federated_for`];
    /// [`federated`] when the release is not known). Pure; nothing is sent.
    pub fn federated(
        &self,
        sp: &ServiceProvider,
        idp: &IdpName,
        options: &SwitchOptions,
    ) -> ServiceProvider {
        switched(sp, idp, options, Consent::of(self.caps.as_ref()))
    }

    /// Whether `sp` is already switched as [`federated`](Self::federated) would switch it
    /// ([`is_switched_for`] on this handler's release, [`is_switched`] when it is not known).
    pub fn is_switched(
        &self,
        sp: &ServiceProvider,
        idp: &IdpName,
        options: &SwitchOptions,
    ) -> bool {
        switched_already(sp, idp, options, Consent::of(self.caps.as_ref()))
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
        if self.is_switched(current, idp, options) {
            return Ok(current.clone());
        }
        let switched = self.federated(current, idp, options);
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
