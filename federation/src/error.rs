//! Errors of the federation.

use std::path::PathBuf;

use crate::engine::EngineError;
use crate::spec::SpecError;

/// Why a federation operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FederationError {
    /// The settings are invalid (nothing was sent).
    #[error(transparent)]
    Spec(#[from] SpecError),

    /// A request to IS failed.
    #[error("Identity Server: {0}")]
    Is(#[from] wso2_is_client::Error),

    /// A request to APIM failed (or APIM refused the settings, e.g. a mapped local role is
    /// missing).
    #[error("API Manager: {0}")]
    Apim(#[from] wso2_apim_client::Error),

    /// An object with the federation's name exists that the federation did not make and will
    /// not take over.
    #[error("{object}: {reason}")]
    Conflict {
        /// The object.
        object: String,
        /// Why it is a conflict, and what to do.
        reason: String,
    },

    /// The live servers changed since the plan was made; nothing was written.
    #[error("the plan is stale: {} changed since it was made; make a new plan (nothing was written)", .objects.join(", "))]
    StalePlan {
        /// The objects that changed.
        objects: Vec<String>,
    },

    /// A step failed and everything was rolled back to the state found before.
    #[error("step {step} failed: {error}; every change was undone (journal: {})", .journal.display())]
    RolledBack {
        /// The step.
        step: String,
        /// The step's error.
        error: String,
        /// The journal.
        journal: PathBuf,
    },

    /// A step failed and some undo failed too: run `rollback` again with this journal.
    #[error("step {step} failed: {error}; undo did not finish ({}); re-run `rollback` with the journal {}", .undo_failures.join("; "), .journal.display())]
    RollbackIncomplete {
        /// The step.
        step: String,
        /// The step's error.
        error: String,
        /// The undo failures.
        undo_failures: Vec<String>,
        /// The journal.
        journal: PathBuf,
    },

    /// The journal could not be written or read.
    #[error(transparent)]
    Journal(#[from] EngineError),

    /// Something that should not happen (no randomness, a serialisation failure).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<wso2_is_client::InvalidInput> for FederationError {
    fn from(value: wso2_is_client::InvalidInput) -> Self {
        Self::Is(value.into())
    }
}
