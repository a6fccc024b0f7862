//! Which release a server runs: the Carbon `ServerAdmin` service, and presence probes of the
//! REST and SCIM2 APIs that appeared release by release. Reads only.
//!
//! [`detect_is_version`] and [`detect_apim_version`] run the probes and return a
//! [`Detection`]: the exact release when `ServerAdmin` answered, otherwise the family the REST
//! probes prove (e.g. "IS 7.2 or later"), with every probe as evidence.
//!
//! | probe ([`ProbeKind`]) | request | proves | answers per release |
//! |---|---|---|---|
//! | [`ServerAdmin`](ProbeKind::ServerAdmin) | SOAP `POST /services/ServerAdmin`, `SOAPAction: urn:getServerVersion`, empty `getServerVersion` wrapper (`http://org.apache.axis2/xsd`) | the exact release: Carbon's `ServerAdmin.getServerVersion()` returns carbon.xml's `Version`, the product release (`5.9.0` on IS 5.9.0, `3.0.0` on APIM 3.0.0) | `<ns:getServerVersionResponse><ns:return>7.1.0</ns:return>` on every APIM and on IS up to 7.1; IS 7.2+ turns admin services off by default: HTTP 500 |
//! | [`RestApplications`](ProbeKind::RestApplications) | `GET /api/server/v1/applications?limit=1` | the REST management API exists: IS 5.10 or later | 200 JSON list on IS 5.10+; 404 on IS 5.9 |
//! | [`ScimRolesV1`](ProbeKind::ScimRolesV1) | `GET /scim2/Roles?count=1` | SCIM2 roles: IS 5.11 or later | 200 `ListResponse` on IS 5.11+; 404 on IS 5.9, 5.10 |
//! | [`ScimRolesV2`](ProbeKind::ScimRolesV2) | `GET /scim2/v2/Roles?count=1` | roles with an audience: IS 7.0 or later | 200 on IS 7.0+; 404 before |
//! | [`ScimRolesV3`](ProbeKind::ScimRolesV3) | `GET /scim2/v3/Roles?count=1` | IS 7.2 or later | 200 on IS 7.2+; 404 before |
//!
//! Paths are tenant-qualified (`/t/{tenant}/...`) when the client has a tenant. Each probe ends
//! in a [`ProbeOutcome`]: present, absent (with the status that says so), denied (401/403 or an
//! authentication fault: presence unknown), inconclusive (an answer that proves neither), or
//! unreachable (no answer).

use std::fmt;

use http::Method;
use serde::{Deserialize, Serialize};

use crate::IsClient;
use crate::carbon::soap::soap_operation;
use crate::carbon::xml::ns;
use crate::carbon::{CarbonClient, HttpAnswer, RestAuth, RestRequest};
use crate::error::{Dispatch, Error, Result};
use crate::scim2::wire::detail_text;
use crate::version::{Product, ServerVersion};

soap_operation! {
    /// `ServerAdmin.getServerVersion()`: carbon.xml's `Version`, the product release (e.g.
    /// `5.9.0`); `None` when the answer has no text.
    pub struct GetServerVersion {
        service: "ServerAdmin",
        operation: "getServerVersion",
        wrapper: ns::AXIS2,
        read_only: true,
        output: Option<String> => single,
    } {}
}

impl GetServerVersion {
    /// The operation.
    pub fn new() -> Self {
        Self {}
    }
}

impl Default for GetServerVersion {
    fn default() -> Self {
        Self::new()
    }
}

/// A version probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProbeKind {
    /// SOAP `ServerAdmin.getServerVersion`: the exact release (every APIM; IS up to 7.1, and 7.2+
    /// with admin services enabled).
    ServerAdmin,
    /// `GET /api/server/v1/applications?limit=1`: present on IS 5.10 and later.
    RestApplications,
    /// `GET /scim2/Roles?count=1`: present on IS 5.11 and later.
    ScimRolesV1,
    /// `GET /scim2/v2/Roles?count=1`: present on IS 7.0 and later.
    ScimRolesV2,
    /// `GET /scim2/v3/Roles?count=1`: present on IS 7.2 and later.
    ScimRolesV3,
}

impl ProbeKind {
    /// The REST probes of Identity Server, oldest API first.
    pub const IS_REST: [Self; 4] = [
        Self::RestApplications,
        Self::ScimRolesV1,
        Self::ScimRolesV2,
        Self::ScimRolesV3,
    ];

    /// The path probed, below the base URL and tenant prefix.
    pub fn path(self) -> &'static str {
        match self {
            Self::ServerAdmin => "services/ServerAdmin",
            Self::RestApplications => "api/server/v1/applications?limit=1",
            Self::ScimRolesV1 => "scim2/Roles?count=1",
            Self::ScimRolesV2 => "scim2/v2/Roles?count=1",
            Self::ScimRolesV3 => "scim2/v3/Roles?count=1",
        }
    }

    /// The first IS release where the probed API is present.
    pub fn present_since(self) -> Option<ServerVersion> {
        match self {
            Self::ServerAdmin => None,
            Self::RestApplications => Some(ServerVersion::is(5, 10)),
            Self::ScimRolesV1 => Some(ServerVersion::is(5, 11)),
            Self::ScimRolesV2 => Some(ServerVersion::is(7, 0)),
            Self::ScimRolesV3 => Some(ServerVersion::is(7, 2)),
        }
    }

    /// The request of a REST probe (pure; `None` for the SOAP probe). Sent with the admin's
    /// credentials.
    pub fn request(self, client: &CarbonClient) -> Option<RestRequest> {
        if self == Self::ServerAdmin {
            return None;
        }
        let accept = if self == Self::RestApplications {
            "application/json"
        } else {
            "application/scim+json, application/json"
        };
        Some(RestRequest {
            operation: self.operation(),
            method: Method::GET,
            path: client.tenant_path(self.path()),
            auth: RestAuth::Admin,
            content_type: None,
            accept: Some(accept),
            body: None,
            read_only: true,
        })
    }

    fn operation(self) -> &'static str {
        match self {
            Self::ServerAdmin => "getServerVersion",
            Self::RestApplications => "probe REST applications",
            Self::ScimRolesV1 => "probe SCIM2 Roles",
            Self::ScimRolesV2 => "probe SCIM2 v2 Roles",
            Self::ScimRolesV3 => "probe SCIM2 v3 Roles",
        }
    }
}

impl fmt::Display for ProbeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ServerAdmin => f.write_str("ServerAdmin.getServerVersion"),
            other => write!(f, "GET /{}", other.path()),
        }
    }
}

/// What a probe found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
#[non_exhaustive]
pub enum ProbeOutcome {
    /// The API answered as it does (a 2xx JSON answer; for `ServerAdmin`, a version).
    Present,
    /// The server answered that there is no such API: 404 or 501 (REST), or, for `ServerAdmin`,
    /// 404 or a 500 (a disabled admin service answers HTTP 500, as on IS 7.2+).
    Absent {
        /// The HTTP status that says so.
        status: u16,
    },
    /// The credentials were refused (401, 403, or the authentication fault): whether the API
    /// exists is unknown.
    Denied {
        /// The HTTP status.
        status: u16,
    },
    /// An answer that proves neither (another status, an HTML page with 200, an answer that
    /// could not be read).
    Inconclusive {
        /// The HTTP status, if one came.
        status: Option<u16>,
    },
    /// No answer: no connection, TLS refused, or a timeout.
    Unreachable,
}

/// One probe and what it found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    /// The probe.
    pub kind: ProbeKind,
    /// What it found.
    pub outcome: ProbeOutcome,
    /// The version text `ServerAdmin` answered, or why the outcome is not `Present` (bounded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.kind)?;
        match self.outcome {
            ProbeOutcome::Present => f.write_str("present")?,
            ProbeOutcome::Absent { status } => write!(f, "absent (HTTP {status})")?,
            ProbeOutcome::Denied { status } => write!(f, "credentials refused (HTTP {status})")?,
            ProbeOutcome::Inconclusive { status: Some(s) } => write!(f, "inconclusive (HTTP {s})")?,
            ProbeOutcome::Inconclusive { status: None } => f.write_str("inconclusive")?,
            ProbeOutcome::Unreachable => f.write_str("unreachable")?,
        }
        if let Some(d) = &self.detail {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

/// Longest detail kept in a probe, in bytes (cleaned).
const DETAIL_CHARS: usize = 200;

fn bounded(text: &str) -> String {
    crate::carbon::text::clean(detail_text(text, &[]).raw(), DETAIL_CHARS)
}

/// Classifies the answer (or failure) of a REST probe. Pure.
pub fn classify_rest(kind: ProbeKind, result: &Result<HttpAnswer>) -> Probe {
    let (outcome, detail) = match result {
        Ok(a) if (200..300).contains(&a.status) => {
            if serde_json::from_slice::<serde_json::Value>(&a.body)
                .is_ok_and(|v| v.is_object() || v.is_array())
            {
                (ProbeOutcome::Present, None)
            } else {
                (
                    ProbeOutcome::Inconclusive {
                        status: Some(a.status),
                    },
                    Some(format!(
                        "answered with {} instead of JSON",
                        crate::scim2::wire::unexpected(a)
                    )),
                )
            }
        }
        Ok(a) if matches!(a.status, 404 | 501) => (ProbeOutcome::Absent { status: a.status }, None),
        Ok(a) if matches!(a.status, 401 | 403) => (ProbeOutcome::Denied { status: a.status }, None),
        Ok(a) => (
            ProbeOutcome::Inconclusive {
                status: Some(a.status),
            },
            None,
        ),
        Err(e) => failure(e),
    };
    Probe {
        kind,
        outcome,
        detail,
    }
}

/// The outcome of a request that failed without an answer to classify.
fn failure(e: &Error) -> (ProbeOutcome, Option<String>) {
    let detail = Some(bounded(&e.to_string()));
    match e.dispatch() {
        Dispatch::NotSent | Dispatch::MaybeSent => (ProbeOutcome::Unreachable, detail),
        Dispatch::Answered => (ProbeOutcome::Inconclusive { status: e.status() }, detail),
    }
}

/// Classifies the result of `ServerAdmin.getServerVersion`. Pure.
pub fn classify_server_admin(result: &Result<Option<String>>) -> Probe {
    let kind = ProbeKind::ServerAdmin;
    let (outcome, detail) = match result {
        Ok(Some(text)) if !text.trim().is_empty() => {
            (ProbeOutcome::Present, Some(bounded(text.trim())))
        }
        Ok(_) => (
            ProbeOutcome::Inconclusive { status: Some(200) },
            Some("the answer carries no version".to_owned()),
        ),
        Err(e) if e.is_auth_failure() || e.fault().is_some_and(|f| f.is_access_denied()) => (
            ProbeOutcome::Denied {
                status: e.status().unwrap_or(401),
            },
            Some(bounded(&e.to_string())),
        ),
        Err(e @ (Error::Fault { status, .. } | Error::UnexpectedAnswer { status, .. }))
            if *status == 404 || *status >= 500 =>
        {
            (
                ProbeOutcome::Absent { status: *status },
                Some(bounded(&e.to_string())),
            )
        }
        Err(e @ Error::Http { status, .. }) if *status == 404 || *status >= 500 => (
            ProbeOutcome::Absent { status: *status },
            Some(bounded(&e.to_string())),
        ),
        Err(e) => failure(e),
    };
    Probe {
        kind,
        outcome,
        detail,
    }
}

/// What the probes say about a server's release.
///
/// * `exact`: `ServerAdmin` answered and its text was read: `version` is the release, with its
///   patch level.
/// * otherwise `version` is the *oldest* release the REST probes allow and `up_to` the newest
///   (`None`: no upper bound, "or later"); both `None` when nothing could be told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Detection {
    /// The release (exact), or the oldest one consistent with the probes.
    pub version: Option<ServerVersion>,
    /// Whether `version` was read from the server (`ServerAdmin`).
    pub exact: bool,
    /// When not exact: the newest release consistent with the probes (`None`: or later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_to: Option<ServerVersion>,
    /// Every probe run, in order.
    pub evidence: Vec<Probe>,
}

impl Detection {
    /// The detection of an Identity Server from its probes' outcomes (pure): the release
    /// `ServerAdmin` answered, else the family the REST probes prove. For callers that run the
    /// probes themselves (e.g. under a limit of requests in flight; [`ServerProbes::probe`]).
    pub fn of_is(evidence: Vec<Probe>) -> Self {
        if let Some(v) = exact(&evidence, Product::IdentityServer) {
            return Self {
                version: Some(v),
                exact: true,
                up_to: None,
                evidence,
            };
        }
        let family = is_family(&evidence);
        Self {
            version: family.map(|(v, _)| v),
            exact: false,
            up_to: family.and_then(|(_, up)| up),
            evidence,
        }
    }

    /// The detection of an API Manager from its `ServerAdmin` probe (pure).
    pub fn of_apim(evidence: Vec<Probe>) -> Self {
        let version = exact(&evidence, Product::ApiManager);
        Self {
            version,
            exact: version.is_some(),
            up_to: None,
            evidence,
        }
    }

    /// The release to decide capabilities by: the exact one, or the oldest of the family.
    pub fn best_guess(&self) -> Option<ServerVersion> {
        self.version
    }

    /// The probe of this kind, if it ran.
    pub fn probe(&self, kind: ProbeKind) -> Option<&Probe> {
        self.evidence.iter().find(|p| p.kind == kind)
    }
}

impl fmt::Display for Detection {
    /// `IS 7.1.0 (read from ServerAdmin)`, `IS 7.0 to 7.1 (from the REST probes)`,
    /// `IS 7.2 or later (from the REST probes)`, or `unknown`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.version, self.exact, self.up_to) {
            (None, ..) => f.write_str("unknown"),
            (Some(v), true, _) => write!(f, "{v} (read from ServerAdmin)"),
            (Some(v), false, Some(up)) if up.same_release(v) => {
                write!(f, "{v} (from the REST probes)")
            }
            (Some(v), false, Some(up)) => write!(
                f,
                "{v} to {}.{} (from the REST probes)",
                up.major(),
                up.minor()
            ),
            (Some(v), false, None) => write!(f, "{v} or later (from the REST probes)"),
        }
    }
}

/// The family of IS releases the REST probes allow: `(oldest, newest)` (newest `None`: or
/// later). Pure; see the module docs for what each probe proves.
///
/// * `/scim2/v3/Roles` present: 7.2 or later;
/// * `/scim2/v2/Roles` present: 7.0 to 7.1;
/// * `/scim2/Roles` present: 5.11 to 6.1;
/// * REST applications present, `/scim2/Roles` absent: 5.10;
/// * REST applications absent: 5.9 (the only supported release without it).
pub fn is_family(evidence: &[Probe]) -> Option<(ServerVersion, Option<ServerVersion>)> {
    let outcome = |kind| evidence.iter().find(|p| p.kind == kind).map(|p| p.outcome);
    let present = |kind| outcome(kind) == Some(ProbeOutcome::Present);
    let absent = |kind| matches!(outcome(kind), Some(ProbeOutcome::Absent { .. }));
    let is = ServerVersion::is;
    if present(ProbeKind::ScimRolesV3) {
        Some((is(7, 2), None))
    } else if present(ProbeKind::ScimRolesV2) {
        Some((is(7, 0), Some(is(7, 1))))
    } else if present(ProbeKind::ScimRolesV1) {
        Some((is(5, 11), Some(is(6, 1))))
    } else if present(ProbeKind::RestApplications) && absent(ProbeKind::ScimRolesV1) {
        Some((is(5, 10), Some(is(5, 10))))
    } else if absent(ProbeKind::RestApplications) {
        Some((is(5, 9), Some(is(5, 9))))
    } else {
        None
    }
}

/// Version probes of one server; get one with [`IsClient::server`] (or [`ServerProbes::new`]
/// over any Carbon client, e.g. API Manager's core).
#[derive(Debug, Clone)]
pub struct ServerProbes<'c> {
    client: &'c CarbonClient,
}

impl<'c> ServerProbes<'c> {
    /// The probes over a client core.
    pub fn new(client: &'c CarbonClient) -> Self {
        Self { client }
    }

    /// `ServerAdmin.getServerVersion()`: the version text, e.g. `5.9.0` (`None` when the answer
    /// has none). Errors as for any SOAP call.
    pub async fn server_version(&self) -> Result<Option<String>> {
        self.client.call(&GetServerVersion::new()).await
    }

    /// Runs one probe. Never fails: failures are outcomes.
    pub async fn probe(&self, kind: ProbeKind) -> Probe {
        match kind.request(self.client) {
            None => classify_server_admin(&self.server_version().await),
            Some(req) => classify_rest(kind, &self.client.rest(&req).await),
        }
    }

    /// Detects an Identity Server's release: `ServerAdmin` and the four REST probes (five
    /// reads, run concurrently).
    pub async fn detect_is(&self) -> Detection {
        let (admin, apps, v1, v2, v3) = tokio::join!(
            self.probe(ProbeKind::ServerAdmin),
            self.probe(ProbeKind::RestApplications),
            self.probe(ProbeKind::ScimRolesV1),
            self.probe(ProbeKind::ScimRolesV2),
            self.probe(ProbeKind::ScimRolesV3),
        );
        Detection::of_is(vec![admin, apps, v1, v2, v3])
    }

    /// Detects an API Manager's release: `ServerAdmin` only (APIM has no identity REST API).
    pub async fn detect_apim(&self) -> Detection {
        Detection::of_apim(vec![self.probe(ProbeKind::ServerAdmin).await])
    }
}

/// The release `ServerAdmin` answered, when it answered one that reads as a version.
fn exact(evidence: &[Probe], product: Product) -> Option<ServerVersion> {
    let probe = evidence.iter().find(|p| p.kind == ProbeKind::ServerAdmin)?;
    if probe.outcome != ProbeOutcome::Present {
        return None;
    }
    ServerVersion::parse(product, probe.detail.as_deref()?).ok()
}

/// Detects an Identity Server's release (see [`ServerProbes::detect_is`]).
pub async fn detect_is_version(is: &IsClient) -> Detection {
    ServerProbes::new(is.core()).detect_is().await
}

/// Detects an API Manager's release from its Carbon core (`ApimClient::core()`), by
/// `ServerAdmin` (see [`ServerProbes::detect_apim`]).
pub async fn detect_apim_version(core: &CarbonClient) -> Detection {
    ServerProbes::new(core).detect_apim().await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn probe(kind: ProbeKind, outcome: ProbeOutcome) -> Probe {
        Probe {
            kind,
            outcome,
            detail: None,
        }
    }

    #[test]
    fn families_follow_the_probes() {
        use ProbeKind::*;
        use ProbeOutcome::*;
        let fam = |o: [ProbeOutcome; 4]| {
            let ev: Vec<_> = ProbeKind::IS_REST
                .iter()
                .zip(o)
                .map(|(k, o)| probe(*k, o))
                .collect();
            is_family(&ev)
        };
        let a = Absent { status: 404 };
        let is = ServerVersion::is;
        assert_eq!(fam([a, a, a, a]), Some((is(5, 9), Some(is(5, 9)))));
        assert_eq!(fam([Present, a, a, a]), Some((is(5, 10), Some(is(5, 10)))));
        assert_eq!(
            fam([Present, Present, a, a]),
            Some((is(5, 11), Some(is(6, 1))))
        );
        assert_eq!(
            fam([Present, Present, Present, a]),
            Some((is(7, 0), Some(is(7, 1))))
        );
        assert_eq!(
            fam([Present, Present, Present, Present]),
            Some((is(7, 2), None))
        );
        let d = Denied { status: 401 };
        assert_eq!(fam([d, d, d, d]), None);
        assert_eq!(fam([Present, Unreachable, a, a]), None);
        let _ = (ServerAdmin, RestApplications);
    }

    #[test]
    fn detections_read_as_text() {
        let d = Detection {
            version: Some(ServerVersion::is(7, 2)),
            exact: false,
            up_to: None,
            evidence: vec![],
        };
        assert_eq!(d.to_string(), "IS 7.2 or later (from the REST probes)");
        let d = Detection {
            version: Some(ServerVersion::is(7, 0)),
            exact: false,
            up_to: Some(ServerVersion::is(7, 1)),
            evidence: vec![],
        };
        assert_eq!(d.to_string(), "IS 7.0 to 7.1 (from the REST probes)");
    }
}
