//! Which releases the two servers run, and what follows from them ([`Versions`]).
//!
//! A release is pinned by the settings (`is.version`, `apim.version`; the builder's
//! [`is_version`](crate::FederationBuilder::is_version) and
//! [`apim_version`](crate::FederationBuilder::apim_version)) or detected from what the servers
//! answer, once per [`Federation`]:
//!
//! * IS: `ServerAdmin.getServerVersion` (the exact release, up to IS 7.1 and on 7.2+ with admin
//!   services on), and the presence of the REST applications API (5.10+), `/scim2/Roles`
//!   (5.11+), `/scim2/v2/Roles` (7.0+) and `/scim2/v3/Roles` (7.2+);
//! * APIM: `ServerAdmin.getServerVersion` (every release answers it).
//!
//! The probes are reads, sent under the same limit of requests in flight as every other read.
//! A pinned release is trusted by `plan` and `apply` (no probe is sent); `doctor` probes anyway
//! and reports a pin the servers contradict. A release outside the supported set, or a family
//! of releases that behave differently (e.g. "IS 5.11 to 6.1" when `ServerAdmin` is off), is
//! refused with what to pin.

use std::fmt;

use serde::Serialize;
use wso2_apim_client::version::ApimCapabilities;
use wso2_is_client::server::{Detection, ProbeKind, ProbeOutcome, ServerProbes};
use wso2_is_client::version::{IsCapabilities, Product, ServerVersion};

use crate::Federation;
use crate::error::{FederationError, ServerRole};

/// How a server's release became known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum VersionSource {
    /// Pinned by the settings (not probed).
    Pinned,
    /// Detected from the server's answers.
    Detected {
        /// What the probes said, e.g. `IS 7.1.0 (read from ServerAdmin)`.
        evidence: String,
    },
}

/// The releases of both servers and their capabilities: every behaviour that differs between
/// releases is read from here.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Versions {
    /// What the Identity Server release can do.
    pub is: IsCapabilities,
    /// What the API Manager release can do.
    pub apim: ApimCapabilities,
    /// How IS's release became known.
    pub is_source: VersionSource,
    /// How APIM's release became known.
    pub apim_source: VersionSource,
}

impl fmt::Display for Versions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = |s: &VersionSource| match s {
            VersionSource::Pinned => "pinned by the settings".to_owned(),
            VersionSource::Detected { evidence } => format!("detected: {evidence}"),
        };
        write!(
            f,
            "{} ({}), {} ({})",
            self.is.version,
            source(&self.is_source),
            self.apim.version,
            source(&self.apim_source)
        )
    }
}

/// Checks a release (pinned or detected) is one this tool supports.
pub(crate) fn supported(
    server: ServerRole,
    version: ServerVersion,
    pinned: bool,
) -> Result<ServerVersion, FederationError> {
    if version.is_supported() {
        return Ok(version);
    }
    let list = match version.product() {
        Product::IdentityServer => "IS 5.9, 5.10, 5.11, 6.0, 6.1, 7.0, 7.1, 7.2, 7.3",
        Product::ApiManager => "APIM 3.0 to 3.2, 4.0 to 4.7",
    };
    Err(FederationError::Version {
        server,
        message: format!(
            "{version}{} is not supported (supported: {list})",
            if pinned {
                " (pinned by the settings)"
            } else {
                ""
            }
        ),
    })
}

/// Whether no probe got an answer that says anything (no connection, TLS refused, credentials
/// refused).
fn unanswered(d: &Detection) -> bool {
    d.evidence.iter().all(|p| {
        matches!(
            p.outcome,
            ProbeOutcome::Unreachable | ProbeOutcome::Denied { .. }
        )
    })
}

/// The release to work with from a detection: exact, or a family whose releases all behave
/// the same for this federation.
fn decide_is(d: &Detection) -> Result<ServerVersion, FederationError> {
    let key = match (d.version, d.up_to) {
        (None, _) => "`is.version` (e.g. \"7.1\")",
        (Some(v), _) if d.exact => return supported(ServerRole::Is, v, false),
        (Some(v), None) => return supported(ServerRole::Is, v, false),
        (Some(v), Some(up)) => {
            let (mut a, b) = (IsCapabilities::of(v), IsCapabilities::of(up));
            a.version = b.version;
            if a == b {
                return supported(ServerRole::Is, v, false);
            }
            "`is.version`"
        }
    };
    Err(FederationError::Version {
        server: ServerRole::Is,
        message: format!(
            "its release could not be told ({d}); releases in that range need different steps: pin it with {key}"
        ),
    })
}

impl Federation {
    /// The releases of both servers (pinned, else detected once and kept), and their
    /// capabilities.
    pub async fn versions(&self) -> Result<Versions, FederationError> {
        self.versions
            .get_or_try_init(|| async {
                let (is, apim) = tokio::join!(self.is_version(), self.apim_version());
                let ((is, is_source), (apim, apim_source)) = (is?, apim?);
                Ok::<_, FederationError>(Versions {
                    is: IsCapabilities::of(is),
                    apim: ApimCapabilities::of(apim),
                    is_source,
                    apim_source,
                })
            })
            .await
            .cloned()
    }

    /// What the servers say they run, whatever the settings pin (for `doctor`): IS's and
    /// APIM's detections.
    pub async fn detect_versions(&self) -> (Detection, Detection) {
        tokio::join!(self.detect_is(), self.detect_apim())
    }

    async fn is_version(&self) -> Result<(ServerVersion, VersionSource), FederationError> {
        if let Some(v) = self.spec.is_version {
            return Ok((supported(ServerRole::Is, v, true)?, VersionSource::Pinned));
        }
        let d = self.detect_is().await;
        if d.version.is_none() && unanswered(&d) {
            // No probe got through: the transport's or the credentials' own error says why.
            ServerProbes::new(self.is.core()).server_version().await?;
        }
        let v = decide_is(&d)?;
        Ok((
            v,
            VersionSource::Detected {
                evidence: d.to_string(),
            },
        ))
    }

    async fn apim_version(&self) -> Result<(ServerVersion, VersionSource), FederationError> {
        if let Some(v) = self.spec.apim_version {
            return Ok((supported(ServerRole::Apim, v, true)?, VersionSource::Pinned));
        }
        let d = self.detect_apim().await;
        if d.version.is_none() && unanswered(&d) {
            ServerProbes::new(self.apim.core())
                .server_version()
                .await
                .map_err(|e| FederationError::Apim(e.into()))?;
        }
        let Some(v) = d.version else {
            return Err(FederationError::Version {
                server: ServerRole::Apim,
                message: format!(
                    "its release could not be read ({d}): pin it with `apim.version` (e.g. \"4.2\")"
                ),
            });
        };
        Ok((
            supported(ServerRole::Apim, v, false)?,
            VersionSource::Detected {
                evidence: d.to_string(),
            },
        ))
    }

    /// IS's probes, under the limit of requests in flight.
    async fn detect_is(&self) -> Detection {
        let limit = tokio::sync::Semaphore::new(self.spec.concurrency);
        let probes = ServerProbes::new(self.is.core());
        let probe = |kind| {
            let (limit, probes) = (&limit, &probes);
            async move {
                let _permit = limit.acquire().await.ok();
                probes.probe(kind).await
            }
        };
        let (admin, apps, v1, v2, v3) = tokio::join!(
            probe(ProbeKind::ServerAdmin),
            probe(ProbeKind::RestApplications),
            probe(ProbeKind::ScimRolesV1),
            probe(ProbeKind::ScimRolesV2),
            probe(ProbeKind::ScimRolesV3),
        );
        Detection::of_is(vec![admin, apps, v1, v2, v3])
    }

    async fn detect_apim(&self) -> Detection {
        Detection::of_apim(vec![
            ServerProbes::new(self.apim.core())
                .probe(ProbeKind::ServerAdmin)
                .await,
        ])
    }
}
