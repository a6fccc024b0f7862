//! Test controls: fault rules, the request log and what tests observe about traffic.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Which requests a fault rule applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// One action: a SOAP operation name (`createApplication`) or a route name
    /// (`scim2.createUser`, `is.token`, `portal.login`, `apim.jit`; see [`RequestRecord::action`]),
    /// whoever sends the request (the servers' own calls included).
    Action(String),
    /// Every request from outside the sandbox that changes state (creates, updates, deletes).
    AnyMutating,
    /// Every request from outside the sandbox.
    Any,
}

impl Target {
    /// A target for one action.
    pub fn action(name: impl Into<String>) -> Self {
        Target::Action(name.into())
    }

    /// Whether a request matches: an action rule matches the action or its former name (see
    /// [`RequestRecord::action`]); the catch-all targets only requests from outside the
    /// sandbox, never the servers' own calls to each other ([`RequestRecord::via`]).
    pub(crate) fn matches(
        &self,
        action: &str,
        legacy: Option<&str>,
        mutating: bool,
        internal: bool,
    ) -> bool {
        match self {
            Target::Action(a) => a == action || legacy == Some(a.as_str()),
            Target::AnyMutating => mutating && !internal,
            Target::Any => !internal,
        }
    }
}

/// Which matching calls a fault rule hits (counted from when the rule was added, from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum When {
    /// Only the nth matching call.
    Nth(u32),
    /// The nth matching call and every one after it.
    FromNth(u32),
    /// Every matching call.
    Every,
}

/// What the server does instead of (or after) its normal answer.
///
/// Kinds whose name says "after commit", plus [`FaultKind::MalformedBody`] and
/// [`FaultKind::TruncatedBody`] (the answer is damaged on its way back), first carry out the
/// request; all others leave state untouched. See [`FaultKind::commits`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum FaultKind {
    /// A SOAP fault (HTTP 500, `soapenv:Server`) with this message; JSON error for REST routes.
    SoapFault {
        /// The fault string.
        message: String,
    },
    /// HTTP 500 with a plain-text body (as a proxy or servlet container would answer).
    PlainText500,
    /// The connection is closed without any answer.
    ConnectionReset,
    /// No answer until the hang time has passed (then the connection closes); nothing committed.
    TimeoutBeforeCommit,
    /// The request is carried out, then no answer until the hang time has passed.
    TimeoutAfterCommit,
    /// The request is carried out; the answer is cut in the middle of the XML or JSON.
    MalformedBody,
    /// The request is carried out; the answer announces a longer `Content-Length` than it sends,
    /// then the connection closes.
    TruncatedBody,
    /// HTTP 401 with `WWW-Authenticate: Basic`.
    Unauthorized,
    /// The SOAP authentication fault (HTTP 500, code `50977`, "Authentication failure").
    AuthFailureFault,
    /// The request is carried out, then HTTP 500 with a SOAP fault (JSON for REST routes).
    ServerErrorAfterCommit,
    /// A SOAP fault with this message in an HTTP 200 answer (WSO2 sometimes does this).
    SoapFaultIn200 {
        /// The fault string.
        message: String,
    },
    /// HTTP 200 with the management console's HTML login page (a proxy or session redirect).
    HtmlLoginPage,
}

impl FaultKind {
    /// Whether the server carries out the request before misbehaving.
    pub fn commits(&self) -> bool {
        matches!(
            self,
            FaultKind::TimeoutAfterCommit
                | FaultKind::MalformedBody
                | FaultKind::TruncatedBody
                | FaultKind::ServerErrorAfterCommit
        )
    }

    /// Every kind, with a sample message for [`FaultKind::SoapFault`] (for fault matrices).
    pub fn all() -> Vec<FaultKind> {
        vec![
            FaultKind::SoapFault {
                message: "Injected fault".into(),
            },
            FaultKind::PlainText500,
            FaultKind::ConnectionReset,
            FaultKind::TimeoutBeforeCommit,
            FaultKind::TimeoutAfterCommit,
            FaultKind::MalformedBody,
            FaultKind::TruncatedBody,
            FaultKind::Unauthorized,
            FaultKind::AuthFailureFault,
            FaultKind::ServerErrorAfterCommit,
            FaultKind::SoapFaultIn200 {
                message: "Injected fault in a 200 answer".into(),
            },
            FaultKind::HtmlLoginPage,
        ]
    }
}

/// One fault rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRule {
    /// Which requests.
    pub target: Target,
    /// Which occurrences.
    pub when: When,
    /// What happens.
    pub kind: FaultKind,
}

impl FaultRule {
    /// A rule hitting the nth call (from 1) of `action`.
    pub fn nth(action: impl Into<String>, n: u32, kind: FaultKind) -> Self {
        Self {
            target: Target::Action(action.into()),
            when: When::Nth(n),
            kind,
        }
    }

    /// A rule hitting every call of `action`.
    pub fn every(action: impl Into<String>, kind: FaultKind) -> Self {
        Self {
            target: Target::Action(action.into()),
            when: When::Every,
            kind,
        }
    }

    /// A rule hitting the nth state-changing call (from 1), whatever its action.
    pub fn nth_mutating(n: u32, kind: FaultKind) -> Self {
        Self {
            target: Target::AnyMutating,
            when: When::Nth(n),
            kind,
        }
    }
}

#[derive(Debug)]
pub(crate) struct ActiveRule {
    pub(crate) rule: FaultRule,
    pub(crate) seen: u32,
    pub(crate) fired: u32,
}

impl ActiveRule {
    /// Counts a matching call; true if the rule hits it.
    pub(crate) fn hit(
        &mut self,
        action: &str,
        legacy: Option<&str>,
        mutating: bool,
        internal: bool,
    ) -> bool {
        if !self.rule.target.matches(action, legacy, mutating, internal) {
            return false;
        }
        self.seen += 1;
        let hit = match self.rule.when {
            When::Nth(n) => self.seen == n,
            When::FromNth(n) => self.seen >= n,
            When::Every => true,
        };
        if hit {
            self.fired += 1;
        }
        hit
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    /// Order of arrival on this server, from 1.
    pub seq: u64,
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path without query.
    pub path: String,
    /// Query string (may be empty).
    pub query: String,
    /// The `SOAPAction` header as sent, if any.
    pub soap_action: Option<String>,
    /// What the request does: a SOAP operation name (`createApplication`), or a route name
    /// (`scim2.createUser`, `scim2.bulk`, `rest.createApplication`, `is.token`, `is.authorize`,
    /// `apim.commonauth`, `apim.dcr`, `portal.login`, `portal.api`, ...; the login hops are listed
    /// in `testkit/README.md`). Fault rules naming a former action (`oidc.token`,
    /// `portal.publisher`, ...) still match.
    pub action: String,
    /// Whether it changes state (create, update, delete; a portal login that creates its SP).
    pub mutating: bool,
    /// The request body (UTF-8, lossy).
    pub body: String,
    /// Milliseconds since the Unix epoch at arrival.
    pub at_unix_ms: u64,
    /// Milliseconds since the server started, at arrival.
    pub at_ms: u64,
    /// HTTP status answered (`None` while in flight or when no answer was sent).
    pub status: Option<u16>,
    /// The injected fault that hit this request, if any.
    pub fault: Option<FaultKind>,
    /// Which simulated server made this request (`"apim"` for APIM's calls to IS's token and
    /// userinfo endpoints, to its own DCR and token endpoints, and for its internal JIT step);
    /// `None` for requests from outside the sandbox. [`SimServer::requests`](crate::SimServer::requests)
    /// lists only the latter, [`SimServer::all_requests`](crate::SimServer::all_requests) both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// What the server logged about the request when it failed it (e.g. APIM's OIDC
    /// authenticator: `invalid_request, The client MUST NOT use more than one authentication
    /// method in each`), as a real server writes to its carbon log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Arrival order across both servers of a sandbox, from 1 (orders a login's hops).
    #[serde(default)]
    pub hop: u64,
}

/// Which names APIM gives its portal service providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortalNaming {
    /// `apim_publisher`, `apim_devportal`, `apim_admin_portal`: what APIM 3.2 and later register
    /// (carbon-apimgt `constants.jag`). A sandbox sets its release's naming at start.
    #[default]
    Apim31,
    /// What APIM 3.1.0 registers: `apim_publisher`, `apim_devportal`; its admin app is still the
    /// Jaggery one, with no service provider.
    Apim310,
    /// What APIM 3.0.0 (carbon-apimgt 6.5.349) really registers: `admin_admin_publisher` and
    /// `admin_admin_store` (`{owner}_{clientName}`); its Jaggery admin app has no service provider.
    Apim300,
}

/// Runtime switches for behaviours real servers show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Quirks {
    /// `addIdP` answers HTTP 500 (a SOAP fault) after it has stored the identity provider.
    pub add_idp_500_after_commit: bool,
    /// IS's MutualTLS client authenticator is on: a token request carrying credentials both in
    /// the Basic header and in the body is refused with `invalid_request`, "The client MUST NOT use
    /// more than one authentication method in each".
    pub mutual_tls_conflict: bool,
    /// How long the timeout faults hang before the connection closes.
    pub hang: Duration,
    /// Bind SOAP bodies as the real servers' Axis2 RPC receiver does: bean properties by name,
    /// case-insensitively, in any order, unknown ones ignored; top-level parameters in order, an
    /// unknown one faulting `Index N out of bounds for length N`. Off by default: the simulator
    /// then refuses out-of-order or unknown elements with ADB's "Unexpected subelement" fault, so
    /// clients prove they send WSDL order (which zeep and the generated stubs require).
    pub lenient_elements: bool,
    /// The portal service providers' names (APIM).
    pub portal_naming: PortalNaming,
    /// `MaxRoleNameListLength` of the user stores: `getRoleNames` lists at most this many roles
    /// of the primary store and as many hybrid (`Internal/`, `Application/`) roles, as the real
    /// user core does (100 in the shipped `user-mgt.xml`), so it cannot be used to check that a
    /// role exists on a busy server. 0 means no limit.
    pub max_role_name_list_length: usize,
    /// The deployment skips the OAuth consent page for every application (identity.xml
    /// `SkipUserConsent`); off by default, so an application that does not skip consent itself
    /// stops a browser login at `oauth2_consent.do`.
    pub skip_user_consent: bool,
}

impl Default for Quirks {
    fn default() -> Self {
        Self {
            add_idp_500_after_commit: false,
            mutual_tls_conflict: false,
            hang: Duration::from_secs(30),
            lenient_elements: false,
            portal_naming: PortalNaming::Apim31,
            max_role_name_list_length: 100,
            skip_user_consent: false,
        }
    }
}

/// What a server observed about traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TrafficStats {
    /// Requests seen (control requests excluded).
    pub requests: u64,
    /// Of which state-changing.
    pub mutating: u64,
    /// Most requests in flight at the same time.
    pub max_in_flight: usize,
    /// Requests in flight now.
    pub in_flight: usize,
    /// Faults injected so far.
    pub faults_fired: u64,
}
