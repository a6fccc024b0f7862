//! Make WSO2 Identity Server the external OpenID Connect identity provider of WSO2 API Manager,
//! as one transaction: `doctor`, `plan`, `apply` with undo and a crash-safe journal, `verify`,
//! `rollback`, `recover`, `destroy`.
//!
//! What it does is WSO2's "Configure Identity Server as External IDP using OIDC" procedure: on
//! IS, roles, users, an OAuth application and a service provider whose callback is APIM's
//! `/commonauth` and which requests the role claim; on APIM, an OIDC identity provider pointing at
//! IS with just-in-time provisioning and role mappings; then the Publisher and Developer Portal
//! switched to log in through it. Everything on IS first, the identity provider next, the portals
//! last; on any failure every change is undone in reverse order, back to the state found.
//!
//! ```no_run
//! use wso2_apim_client::ApimClient;
//! use wso2_federation::verify::VerifyOptions;
//! use wso2_federation::{Federation, RunOptions};
//! use wso2_is_client::IsClient;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let is = IsClient::builder("https://is.example.com:9444")
//!     .credentials("admin", std::env::var("IS_ADMIN_PASSWORD")?)
//!     .ca_pem(std::fs::read("is-ca.pem")?)
//!     .build()?;
//! let apim = ApimClient::builder("https://apim.example.com:9443")
//!     .credentials("admin", std::env::var("APIM_ADMIN_PASSWORD")?)
//!     .ca_pem(std::fs::read("apim-ca.pem")?)
//!     .build()?;
//!
//! // The seed setup of WSO2's guide. Every setting is checked here, all problems at once,
//! // before any request.
//! let federation = Federation::builder()
//!     .is(is)
//!     .apim(apim)
//!     .role("publisher_role")
//!     .role("user_role")
//!     .user("api_publisher", std::env::var("PUBLISHER_PASSWORD")?, ["publisher_role"])
//!     .user("api_user", std::env::var("USER_PASSWORD")?, ["user_role"])
//!     .map_role("publisher_role", "Internal/publisher")
//!     .map_role("user_role", "Internal/subscriber")
//!     .build()?;
//!
//! let report = federation.doctor().await; // reads only
//! assert!(report.is_ok(), "{report}");
//! let plan = federation.plan().await?; // reads only
//! println!("{plan}");
//!
//! // Journaled before every change (the journal is per pair of servers; see
//! // `FederationBuilder::journal`); on failure, everything is undone (or the error names the
//! // journal to re-run `rollback` with). A run lease on APIM keeps a second run out.
//! let options = RunOptions::new();
//! federation.apply_plan(&plan, &options).await?;
//! println!("{}", federation.verify(&VerifyOptions::default()).await?);
//!
//! // Later: back to exactly how things were.
//! federation.destroy(&options).await?;
//! # Ok(()) }
//! ```

pub mod config;
pub mod engine;
mod error;
pub mod lease;
pub mod login;
pub mod merge;
pub mod plan;
mod planner;
mod run;
pub mod spec;
pub mod steps;
#[cfg(feature = "test-util")]
pub mod test_util;
pub mod text;
pub mod verify;
pub mod versions;

pub use error::{BindingMismatch, FederationError, Outcome, ServerRole};
pub use planner::Binding;
pub use run::{ApplyReport, RecoverReport, RunOptions};
pub use spec::{
    ClientAuthMode, FederationBuilder, JitSpec, Problem, RoleClaim, Spec, SpecError,
    default_journal_path,
};

use wso2_apim_client::ApimClient;
use wso2_is_client::IsClient;

/// A federation of one IS with one APIM: build it with [`Federation::builder`].
#[derive(Debug, Clone)]
pub struct Federation {
    spec: Spec,
    is: IsClient,
    apim: ApimClient,
    /// The servers' releases, once known (shared by clones).
    versions: std::sync::Arc<tokio::sync::OnceCell<versions::Versions>>,
}

impl Federation {
    /// Starts describing a federation.
    pub fn builder() -> FederationBuilder {
        FederationBuilder::default()
    }

    pub(crate) fn from_parts(spec: Spec, is: IsClient, apim: ApimClient) -> Self {
        Self {
            spec,
            is,
            apim,
            versions: Default::default(),
        }
    }

    /// The APIM client working for the release `versions` names (its portal names,
    /// registration endpoints and consent switches).
    pub(crate) fn apim_for(&self, versions: &versions::Versions) -> ApimClient {
        self.apim.clone().with_capabilities(versions.apim)
    }

    /// The validated settings.
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// The journal of this federation.
    pub fn journal(&self) -> &std::path::Path {
        &self.spec.journal
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

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `len` characters from the operating system's CSPRNG, letters and digits only (no bias:
/// rejection sampling).
pub(crate) fn random_token(len: usize) -> Result<String, FederationError> {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        getrandom::fill(&mut buf).map_err(|e| {
            FederationError::Internal(format!("no randomness from the operating system: {e}"))
        })?;
        for &b in &buf {
            // 248 = 4 * 62: values above would bias the first characters.
            if b < 248 && out.len() < len {
                out.push(ALNUM[usize::from(b % 62)] as char);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_random_alphanumeric() {
        let a = super::random_token(40).unwrap();
        let b = super::random_token(40).unwrap();
        assert_eq!(a.len(), 40);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
