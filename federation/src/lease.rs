//! The run lease: one writer at a time per API Manager (and tenant), whatever machine or journal
//! it runs from.
//!
//! The lease is a service provider named [`LEASE_NAME`] on APIM, created before the first write
//! of an apply, rollback, recover or destroy (before the reads a first apply plans from) and
//! deleted at its end; whether it is still this run's is read with an apply's last steps. Creating it is the atomic
//! create-if-absent the servers offer: a second `createApplication` of that name is refused
//! ("already exists"), so of two runs started together exactly one holds the lease, and the other
//! is refused before any write, naming the holder (host, process, start time) written in the
//! lease's description. It lives on the servers because a local lock file would not exclude a
//! run from another machine, or with another journal.
//!
//! A lease outlives a crashed run. It is taken over by `rollback`, `recover` or `destroy` with
//! the crashed run's own journal (same journal instance) once the holder process is known dead
//! (same host) or the lease expired ([`LEASE_TTL`]); `unlock` breaks an expired lease, and
//! `unlock --force` any lease.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use wso2_apim_client::ApimClient;
use wso2_is_client::ApplicationName;
use wso2_is_client::application::CreateApplication;
use wso2_is_client::model::ServiceProvider;

use crate::error::FederationError;
use crate::steps::WriteOutcome;

/// The lease's service provider name on APIM.
pub const LEASE_NAME: &str = "wso2-federation.lease";

/// How long a lease is good for: a run takes seconds; a lease older than this belongs to a run
/// that died (it can be broken with `unlock`).
pub const LEASE_TTL: Duration = Duration::from_secs(30 * 60);

const PREFIX: &str = "wso2-federation run lease ";

/// Who holds the lease (written in its description).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseHolder {
    /// The run's id.
    pub run: String,
    /// The journal instance of the run.
    pub instance: String,
    /// The operation.
    pub operation: String,
    /// The machine.
    pub host: String,
    /// The process.
    pub pid: u32,
    /// When it started (seconds since the Unix epoch).
    pub started: u64,
    /// When the lease expires (seconds since the Unix epoch).
    pub expires: u64,
}

impl fmt::Display for LeaseHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} on {} pid {}, started {} ({}s ago), run {}",
            self.operation,
            crate::text::clean(&self.host, 100),
            self.pid,
            crate::text::utc(self.started),
            now().saturating_sub(self.started),
            crate::text::clean(&self.run, 40)
        )
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl LeaseHolder {
    /// A holder for this process.
    pub fn here(run: &str, instance: &str, operation: &str) -> Self {
        let started = now();
        Self {
            run: run.to_owned(),
            instance: instance.to_owned(),
            operation: operation.to_owned(),
            host: crate::engine::host_name(),
            pid: std::process::id(),
            started,
            expires: started + LEASE_TTL.as_secs(),
        }
    }

    /// Whether the lease expired.
    pub fn expired(&self) -> bool {
        now() > self.expires
    }

    /// Whether the holder is a process of this machine that no longer runs.
    pub fn dead_here(&self) -> bool {
        self.host == crate::engine::host_name()
            && self.pid != std::process::id()
            && !std::path::Path::new(&format!("/proc/{}", self.pid)).exists()
    }

    fn describe(&self) -> String {
        format!(
            "{PREFIX}{}",
            serde_json::to_string(self).unwrap_or_default()
        )
    }

    fn parse(description: Option<&str>) -> Option<Self> {
        serde_json::from_str(description?.strip_prefix(PREFIX)?).ok()
    }
}

/// What the lease object on APIM says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseState {
    /// Nobody holds it.
    Free,
    /// A run holds it.
    Held(LeaseHolder),
    /// A service provider of that name exists that is not a lease of this tool.
    Foreign,
}

fn name() -> ApplicationName {
    ApplicationName::new(LEASE_NAME).unwrap_or_else(|_| unreachable!("a valid name"))
}

/// Reads the lease (reads only).
pub async fn read(apim: &ApimClient) -> Result<LeaseState, FederationError> {
    Ok(state(apim.applications().get(&name()).await?))
}

fn state(sp: Option<ServiceProvider>) -> LeaseState {
    match sp {
        None => LeaseState::Free,
        Some(sp) => match LeaseHolder::parse(sp.description.as_deref()) {
            Some(h) => LeaseState::Held(h),
            None => LeaseState::Foreign,
        },
    }
}

/// A held lease; release it with [`Lease::release`].
#[derive(Debug)]
#[must_use = "a lease is held until released"]
pub struct Lease {
    holder: LeaseHolder,
}

impl Lease {
    /// Who holds it (this run).
    pub fn holder(&self) -> &LeaseHolder {
        &self.holder
    }

    /// Deletes the lease, if it is still this run's (someone may have broken it with
    /// `unlock --force`). A failed delete is settled by reading the lease back, and tried once
    /// more while it is still this run's (deleting one's own lease twice is harmless).
    pub async fn release(self, apim: &ApimClient) -> Result<(), FederationError> {
        self.release_checked(apim, None).await
    }

    /// [`release`](Self::release), with the ownership check already read: `checked` is the
    /// lease as read while the run's last step was in flight (a read that failed is made
    /// again). Between that read and the delete lies what remained of the last step (one round,
    /// unless it was retried) instead of the read's own round.
    pub async fn release_checked(
        self,
        apim: &ApimClient,
        checked: Option<Result<LeaseState, FederationError>>,
    ) -> Result<(), FederationError> {
        let apps = apim.applications();
        let mut last = None;
        let mut checked = checked.and_then(Result::ok);
        for _ in 0..3 {
            let state = match checked.take() {
                Some(s) => s,
                None => match read(apim).await {
                    Ok(s) => s,
                    Err(e) => {
                        last = Some(e);
                        continue;
                    }
                },
            };
            match state {
                LeaseState::Held(h) if h.run == self.holder.run => {
                    // A delete that answered is done: no read to confirm it.
                    match apps.delete(&name()).await {
                        Ok(()) => return Ok(()),
                        Err(e) => last = Some(e.into()),
                    }
                }
                LeaseState::Free => return Ok(()),
                other => {
                    tracing::warn!(?other, "the lease was no longer this run's at its end");
                    return Ok(());
                }
            }
        }
        Err(last
            .unwrap_or_else(|| FederationError::Internal("the lease could not be released".into())))
    }
}

/// Takes the lease for `holder`. `take_over` names a holder whose lease may be replaced: a
/// crashed run of the same journal (dead here or expired).
pub async fn acquire(
    apim: &ApimClient,
    holder: LeaseHolder,
    take_over: impl Fn(&LeaseHolder) -> bool,
) -> Result<Lease, FederationError> {
    let apps = apim.applications();
    let sp = ServiceProvider::named(&name()).with_description(holder.describe());
    for attempt in 0..2 {
        // `createApplication` alone: its success is the lease (no read-back needed; only a
        // refused or unknown create is settled by reading the holder).
        match apim.core().call(&CreateApplication::new(sp.clone())).await {
            Ok(()) => return Ok(Lease { holder }),
            Err(e) => {
                // Refused (taken) or unknown: the lease's description says whose it is.
                let now = match read(apim).await {
                    Ok(s) => s,
                    Err(_) if !e.changed_nothing() => return Err(e.into()),
                    Err(r) => return Err(r),
                };
                match now {
                    LeaseState::Held(h) if h.run == holder.run => return Ok(Lease { holder }),
                    LeaseState::Held(h) if attempt == 0 && take_over(&h) => {
                        tracing::warn!(holder = %h, "taking over the lease of a run that died");
                        apps.delete(&name()).await?;
                    }
                    LeaseState::Held(h) => {
                        let hint = if h.dead_here() {
                            Some("its process no longer runs: run `recover` with its journal, or `unlock` once the lease expires".to_owned())
                        } else if h.expired() {
                            Some("the lease expired: `unlock` breaks it".to_owned())
                        } else {
                            Some(format!(
                                "wait for it to finish; if it died, run `recover` with its journal, or `unlock` after {} (`unlock --force` breaks it now)",
                                crate::text::utc(h.expires)
                            ))
                        };
                        return Err(FederationError::Locked {
                            holder: Box::new(h),
                            hint,
                        });
                    }
                    LeaseState::Foreign => {
                        return Err(FederationError::Conflict {
                            conflicts: vec![crate::steps::Conflict {
                                kind: crate::plan::ObjectKind::Application,
                                name: LEASE_NAME.into(),
                                reason: "a service provider of the lease's name exists on APIM that is not a lease of this tool; remove or rename it".into(),
                            }],
                        });
                    }
                    LeaseState::Free if e.changed_nothing() && !e.already_exists() => {
                        return Err(e.into());
                    }
                    // Gone meanwhile (released or broken): try once more.
                    LeaseState::Free => {}
                }
            }
        }
    }
    Err(FederationError::Internal(
        "the lease could not be taken after two attempts".into(),
    ))
}

/// Breaks the lease: an expired one, or (with `force`) any. Returns who held it.
pub async fn unlock(
    apim: &ApimClient,
    force: bool,
) -> Result<Option<LeaseHolder>, FederationError> {
    match read(apim).await? {
        LeaseState::Free => Ok(None),
        LeaseState::Foreign => Err(FederationError::Conflict {
            conflicts: vec![crate::steps::Conflict {
                kind: crate::plan::ObjectKind::Application,
                name: LEASE_NAME.into(),
                reason: "not a lease of this tool; left as it is".into(),
            }],
        }),
        LeaseState::Held(h) if h.expired() || h.dead_here() || force => {
            apim.applications().delete(&name()).await?;
            Ok(Some(h))
        }
        LeaseState::Held(h) => Err(FederationError::Locked {
            hint: Some(format!(
                "it expires at {}; `unlock --force` breaks it now (only if that run is dead)",
                crate::text::utc(h.expires)
            )),
            holder: Box::new(h),
        }),
    }
}
