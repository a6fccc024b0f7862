//! Errors of the federation: typed causes all the way down (a step's error keeps its client
//! error as `source()`), and `Display` states this layer's problem only.

use std::path::PathBuf;

use crate::engine::{JournalError, RunReport, StepId};
use crate::lease::LeaseHolder;
use crate::spec::SpecError;
use crate::steps::Conflict;

/// A journal whose binding (servers, settings) differs from the target's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingMismatch {
    /// The field that differs: `is_url`, `apim_url`, `tenant`, `marker`, `settings`.
    pub field: &'static str,
    /// The journal's value.
    pub journal: String,
    /// The target's value.
    pub target: String,
}

/// Which request a server answered that made an operation fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerRole {
    /// WSO2 Identity Server.
    Is,
    /// WSO2 API Manager.
    Apim,
}

impl std::fmt::Display for ServerRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Is => "Identity Server",
            Self::Apim => "API Manager",
        })
    }
}

/// Why a federation operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FederationError {
    /// The settings are invalid (nothing was sent).
    #[error(transparent)]
    Spec(#[from] SpecError),

    /// A request to IS failed (while reading or before any write).
    #[error("a request to the Identity Server failed")]
    Is(#[source] wso2_is_client::Error),

    /// A request to APIM failed (while reading or before any write), or APIM refused the
    /// settings (e.g. a mapped local role is missing).
    #[error("a request to the API Manager failed")]
    Apim(#[source] wso2_apim_client::Error),

    /// Objects with the federation's names exist that this federation did not make, or that
    /// someone changed since it wrote them; nothing was changed (a run lease taken to read under
    /// it was given back).
    #[error("{} object(s) in the way; nothing was changed: {}", .conflicts.len(), .conflicts.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Conflict {
        /// Each object and why.
        conflicts: Vec<Conflict>,
    },

    /// The live servers changed since the plan was made; nothing was changed (the run lease taken
    /// to read again under it was given back).
    #[error("the plan is stale: {} changed since it was made; make a new plan (nothing was changed)", .objects.join(", "))]
    StalePlan {
        /// The objects (or values) that changed.
        objects: Vec<String>,
    },

    /// Another run holds the lease on these servers; nothing was written.
    #[error("another run holds the lease on these servers ({holder}); nothing was written{}", .hint.as_deref().map(|h| format!("; {h}")).unwrap_or_default())]
    Locked {
        /// Who holds it.
        holder: Box<LeaseHolder>,
        /// What to do.
        hint: Option<String>,
    },

    /// The journal belongs to other servers or settings; nothing was done.
    #[error("the journal {} belongs to other {}: its {} is {:?}, the target's {:?}; nothing was done (check the journal and the settings; --ignore-journal-binding overrides)", .journal.display(), if .mismatch.field == "settings" { "settings" } else { "servers" }, .mismatch.field, .mismatch.journal, .mismatch.target)]
    JournalMismatch {
        /// The journal.
        journal: PathBuf,
        /// What differs.
        mismatch: Box<BindingMismatch>,
    },

    /// The journal records a run that never finished; nothing was done.
    #[error("the journal {} records an unfinished {} run (started {} by {} pid {}); run `recover` (rolls it back) or `recover --finish` first", .journal.display(), .run.operation, crate::text::utc(.run.at), crate::text::clean(&.run.host, 100), .run.pid)]
    Unfinished {
        /// The journal.
        journal: PathBuf,
        /// The run that never finished.
        run: Box<crate::engine::journal::RunInfo>,
    },

    /// There is no journal (nothing was ever recorded there).
    #[error("no journal at {}: nothing was recorded there (an apply that failed while planning changed nothing); check the path or the settings (the default journal is per pair of servers and marker)", .journal.display())]
    NoJournal {
        /// The path.
        journal: PathBuf,
    },

    /// A step failed and every change was undone: the servers are as before.
    #[error("step {step} failed; every change was undone (journal: {})", .journal.display())]
    RolledBack {
        /// The step.
        step: StepId,
        /// Why it failed.
        #[source]
        source: crate::engine::StepError,
        /// The journal.
        journal: PathBuf,
        /// The run.
        report: Box<RunReport>,
    },

    /// The run was interrupted (a signal); every change was undone, or it stopped without
    /// undoing (`--no-rollback`).
    #[error("interrupted; {}", interrupted_text(*.rolled_back, .journal))]
    Interrupted {
        /// Whether everything was undone.
        rolled_back: bool,
        /// The journal.
        journal: PathBuf,
        /// The run.
        report: Box<RunReport>,
    },

    /// A step failed (or a rollback ran) and some undo failed or refused: changes remain (see
    /// [`RunReport::remaining`] and `report.undo_failures`).
    #[error("{}; {} change(s) remain ({}); re-run `rollback` with the journal {}", .report.failure.as_ref().map(|f| format!("step {} failed", f.step)).unwrap_or_else(|| "the rollback did not finish".into()), .report.remaining().count(), .report.remaining().map(ToString::to_string).collect::<Vec<_>>().join(", "), .journal.display())]
    RollbackIncomplete {
        /// The journal.
        journal: PathBuf,
        /// The run: its failure, its undo failures, what remains.
        report: Box<RunReport>,
        /// The first undo failure (or the step's failure, when the run stopped without
        /// undoing), as the cause.
        #[source]
        source: Option<crate::engine::StepError>,
    },

    /// The journal could not be written or read.
    #[error(transparent)]
    Journal(#[from] JournalError),

    /// A server's release is not supported, could not be told, or contradicts the one the
    /// settings pin; nothing was written.
    #[error("{server}: {message}")]
    Version {
        /// Which server.
        server: ServerRole,
        /// What is wrong and what to set.
        message: String,
    },

    /// Something that should not happen (no randomness from the operating system).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<wso2_is_client::InvalidInput> for FederationError {
    fn from(value: wso2_is_client::InvalidInput) -> Self {
        Self::Is(value.into())
    }
}

impl From<wso2_is_client::Error> for FederationError {
    fn from(value: wso2_is_client::Error) -> Self {
        Self::Is(value)
    }
}

impl From<wso2_apim_client::Error> for FederationError {
    fn from(value: wso2_apim_client::Error) -> Self {
        Self::Apim(value)
    }
}

/// What kind of failure an error is, for exit codes and advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Bad settings: nothing was sent.
    BadSettings,
    /// Failed, and the servers are as before (nothing written, or everything undone).
    FailedBackAtStart,
    /// Changes remain on the servers (an undo failed or refused).
    ChangesRemain,
    /// Refused: a conflict, a stale plan, a lease held, a journal of elsewhere; nothing written.
    Refused,
    /// A server could not be reached or refused the credentials; nothing was written.
    Unreachable,
    /// The run stopped without undoing (`--no-rollback`): changes remain by choice.
    Stopped,
}

impl FederationError {
    /// Wraps an APIM client error.
    pub(crate) fn apim(e: wso2_apim_client::Error) -> Self {
        Self::Apim(e)
    }

    /// What kind of failure this is (the servers' state it leaves).
    pub fn outcome(&self) -> Outcome {
        match self {
            Self::Spec(_) => Outcome::BadSettings,
            Self::Is(e) if e.is_auth_failure() || is_unreachable_is(e) => Outcome::Unreachable,
            Self::Apim(wso2_apim_client::Error::Client(e))
                if e.is_auth_failure() || is_unreachable_is(e) =>
            {
                Outcome::Unreachable
            }
            Self::Is(e) if e.dispatch() == wso2_is_client::Dispatch::NotSent => {
                Outcome::BadSettings
            }
            Self::Is(_) | Self::Apim(_) => Outcome::FailedBackAtStart,
            Self::Conflict { .. }
            | Self::StalePlan { .. }
            | Self::Locked { .. }
            | Self::JournalMismatch { .. }
            | Self::Unfinished { .. }
            | Self::Version { .. } => Outcome::Refused,
            Self::NoJournal { .. } => Outcome::BadSettings,
            Self::RolledBack { .. } => Outcome::FailedBackAtStart,
            Self::Interrupted {
                rolled_back: true, ..
            } => Outcome::FailedBackAtStart,
            Self::Interrupted { .. } => Outcome::Stopped,
            Self::RollbackIncomplete { report, .. } => {
                let undo_failures = &report.undo_failures;
                if !undo_failures.is_empty() && undo_failures.iter().all(|f| f.refused) {
                    Outcome::Refused
                } else {
                    Outcome::ChangesRemain
                }
            }
            // A journal that cannot be trusted is refused before anything is done.
            Self::Journal(
                JournalError::Damaged { .. }
                | JournalError::Invalid { .. }
                | JournalError::TooLarge { .. },
            ) => Outcome::Refused,
            Self::Journal(_) | Self::Internal(_) => Outcome::FailedBackAtStart,
        }
    }

    /// Whether a server refused the credentials (here, or in the step that failed).
    pub fn is_auth_failure(&self) -> bool {
        match self {
            Self::Apim(e) => e.is_auth_failure(),
            _ => self.client_error().is_some_and(|e| e.is_auth_failure()),
        }
    }

    /// Whether the request that failed reached a server, as the client classified it; `None`
    /// when the failure did not come from a request (bad settings, a conflict, the journal).
    /// For a failed step this is its request's dispatch: the run's undo decides the servers'
    /// state, which [`outcome`](Self::outcome) gives.
    pub fn dispatch(&self) -> Option<wso2_is_client::Dispatch> {
        match self {
            Self::Apim(e) => Some(e.dispatch()),
            _ => self.client_error().map(wso2_is_client::Error::dispatch),
        }
    }

    /// Whether a retry may succeed (a transport failure or a busy server), as the client
    /// classified the request that failed.
    pub fn is_retryable(&self) -> bool {
        self.client_error()
            .is_some_and(wso2_is_client::Error::is_retryable)
    }

    /// The client error behind this one, if a request failed: directly, through an APIM
    /// error, or as the cause of a failed step.
    pub fn client_error(&self) -> Option<&wso2_is_client::Error> {
        let first: &(dyn std::error::Error + 'static) = match self {
            Self::Is(e) => return Some(e),
            Self::Apim(wso2_apim_client::Error::Client(e)) => return Some(e),
            Self::RolledBack { source, .. } => source.inner(),
            Self::RollbackIncomplete {
                source: Some(source),
                ..
            } => source.inner(),
            _ => return None,
        };
        let mut next = Some(first);
        while let Some(e) = next {
            if let Some(c) = e.downcast_ref::<wso2_is_client::Error>() {
                return Some(c);
            }
            if let Some(wso2_apim_client::Error::Client(c)) =
                e.downcast_ref::<wso2_apim_client::Error>()
            {
                return Some(c);
            }
            next = e.source();
        }
        None
    }

    /// Which server the failure came from, when it came from one.
    pub fn server(&self) -> Option<ServerRole> {
        match self {
            Self::Is(_) => Some(ServerRole::Is),
            Self::Apim(_) => Some(ServerRole::Apim),
            Self::Version { server, .. } => Some(*server),
            _ => None,
        }
    }

    /// The run report, when the error comes from a run.
    pub fn report(&self) -> Option<&RunReport> {
        match self {
            Self::RolledBack { report, .. }
            | Self::Interrupted { report, .. }
            | Self::RollbackIncomplete { report, .. } => Some(report),
            _ => None,
        }
    }
}

fn interrupted_text(rolled_back: bool, journal: &std::path::Path) -> String {
    if rolled_back {
        format!("every change was undone (journal: {})", journal.display())
    } else {
        format!(
            "stopped without undoing: run `rollback` (or `recover --finish`) with the journal {}",
            journal.display()
        )
    }
}

fn is_unreachable_is(e: &wso2_is_client::Error) -> bool {
    matches!(e.dispatch(), wso2_is_client::Dispatch::NotSent)
        && matches!(
            e,
            wso2_is_client::Error::Connect { .. } | wso2_is_client::Error::Tls { .. }
        )
}
