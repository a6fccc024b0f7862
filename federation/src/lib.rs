//! Make WSO2 Identity Server the external OpenID Connect identity provider of WSO2 API Manager,
//! as one transaction: plan, apply with undo and a crash-safe journal, verify, destroy.

pub mod config;
pub mod engine;
mod error;
pub mod plan;
mod planner;
mod run;
pub mod spec;
pub mod steps;
pub mod verify;

pub use error::FederationError;
pub use run::{ApplyReport, RecoverReport, RunOptions, journal_marker, rollback_journal};
pub use spec::{ClientAuthMode, FederationBuilder, JitSpec, Problem, RoleClaim, Spec, SpecError};

use wso2_apim_client::ApimClient;
use wso2_is_client::IsClient;

/// A federation of one IS with one APIM: build it with [`Federation::builder`].
#[derive(Debug, Clone)]
pub struct Federation {
    spec: Spec,
    is: IsClient,
    apim: ApimClient,
}

impl Federation {
    /// Starts describing a federation.
    pub fn builder() -> FederationBuilder {
        FederationBuilder::default()
    }

    pub(crate) fn from_parts(spec: Spec, is: IsClient, apim: ApimClient) -> Self {
        Self { spec, is, apim }
    }

    /// The validated settings.
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// The IS client.
    pub fn is_client(&self) -> &IsClient {
        &self.is
    }

    /// The APIM client.
    pub fn apim_client(&self) -> &ApimClient {
        &self.apim
    }
}
