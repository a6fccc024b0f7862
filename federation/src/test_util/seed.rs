//! The seed setup (WSO2's "IS as external IdP using OIDC" guide) on a sandbox, the fixed
//! settings of the reliability matrices, and a temporary journal.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::{Federation, FederationBuilder, RunOptions};
use wso2_apim_client::ApimClient;
use wso2_is_client::{IsClient, RetryPolicy};
use wso2_testkit::Sandbox;

/// The password of `api_publisher` in the seed setup (a canary for secret scans).
pub const PUBLISHER_PASSWORD: &str = "canary-publisher-pw-1";
/// The password of `api_user` in the seed setup (a canary for secret scans).
pub const USER_PASSWORD: &str = "canary-user-pw-2";

/// A client builder for `server` with `credentials`, trusting the sandbox CA, no retries, and a
/// request timeout of `timeout`.
pub fn client_builder<C: wso2_is_client::FromCarbon>(
    sb: &Sandbox,
    server: &wso2_testkit::SimServer,
    credentials: wso2_testkit::Credentials,
    timeout: Duration,
) -> wso2_is_client::ClientBuilder<C> {
    wso2_is_client::ClientBuilder::new(server.base_url())
        .credentials(credentials.username, credentials.password)
        .ca_pem(sb.ca_pem().as_bytes().to_vec())
        .retry(RetryPolicy::none())
        .request_timeout(timeout)
}

/// An IS client for the sandbox (admin, the sandbox CA, no retries, 3 s timeout).
pub fn is_client(sb: &Sandbox) -> IsClient {
    client_builder(sb, sb.is(), sb.is().admin(), Duration::from_secs(3))
        .build()
        .expect("test utility")
}

/// An APIM client for the sandbox (admin, the sandbox CA, no retries, 3 s timeout).
pub fn apim_client(sb: &Sandbox) -> ApimClient {
    client_builder(sb, sb.apim(), sb.apim().admin(), Duration::from_secs(3))
        .build()
        .expect("test utility")
}

/// The seed setup: users api_publisher and api_user, roles publisher_role and user_role, mapped
/// to Internal/publisher and Internal/subscriber.
pub fn seed_builder(sb: &Sandbox) -> FederationBuilder {
    Federation::builder()
        .is(is_client(sb))
        .apim(apim_client(sb))
        .role("publisher_role")
        .role("user_role")
        .user("api_publisher", PUBLISHER_PASSWORD, ["publisher_role"])
        .user("api_user", USER_PASSWORD, ["user_role"])
        .map_role("publisher_role", "Internal/publisher")
        .map_role("user_role", "Internal/subscriber")
        .grant_types(["authorization_code", "refresh_token", "password"])
}

/// The seed setup, built, journaling to `journal`.
pub fn seed(sb: &Sandbox, journal: &TempJournal) -> Federation {
    seed_builder(sb)
        .journal(journal.path())
        .build()
        .expect("test utility")
}

/// A fresh journal path in a directory of its own, removed (with the directory) when dropped.
pub struct TempJournal(pub PathBuf);

impl Default for TempJournal {
    fn default() -> Self {
        Self::new()
    }
}

impl TempJournal {
    /// A fresh path in the temporary directory (nothing is created).
    pub fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "wso2-federation-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        Self(dir.join("federation.journal"))
    }

    /// The journal's path.
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }

    /// Default run options (the journal is the federation's, see [`seed`]).
    pub fn options(&self) -> RunOptions {
        RunOptions::new()
    }

    /// The journal's text (empty when absent).
    pub fn text(&self) -> String {
        std::fs::read_to_string(&self.0).unwrap_or_default()
    }
}

impl Drop for TempJournal {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Mutating requests seen by both servers.
pub fn mutating(sb: &Sandbox) -> usize {
    sb.is().mutating_requests().len() + sb.apim().mutating_requests().len()
}

/// The client secret the matrices fix, so that two applies store the same objects (and a canary
/// for the secret scans).
pub const CANARY_CLIENT_SECRET: &str = "canary-client-secret-7f3a9c";
/// The client id the matrices fix.
pub const FIXED_CLIENT_ID: &str = "fixedClientId0123456789abcd";
/// The admin password of the canary sandboxes.
pub const CANARY_ADMIN_PASSWORD: &str = "canary-admin-pw-4b2e";

/// The seed setup with clients whose requests time out after `timeout`, a fixed client id and
/// secret, and `concurrency` requests per server.
pub fn matrix_builder(
    sb: &Sandbox,
    timeout: std::time::Duration,
    concurrency: usize,
) -> FederationBuilder {
    let is: IsClient = client_builder(sb, sb.is(), sb.is().admin(), timeout)
        .build()
        .expect("test utility");
    let apim: ApimClient = client_builder(sb, sb.apim(), sb.apim().admin(), timeout)
        .build()
        .expect("test utility");
    seed_builder(sb)
        .is(is)
        .apim(apim)
        .client_id(FIXED_CLIENT_ID)
        .client_secret(CANARY_CLIENT_SECRET)
        .concurrency(concurrency)
}

/// Makes the hanging faults of both servers last `hang` (just above the clients' timeout, so
/// that a timeout case costs about one timeout).
pub fn set_hang(sb: &Sandbox, hang: std::time::Duration) {
    for server in [sb.is(), sb.apim()] {
        server.update_quirks(|q| q.hang = hang);
    }
}

/// A sandbox as the matrices start from: the portals' service providers exist (as after their
/// first login; APIM never registers a deleted one again, so a clean slate must include them),
/// and hangs last `hang`.
pub async fn matrix_sandbox(hang: std::time::Duration) -> Sandbox {
    matrix_sandbox_of(hang, None).await
}

/// [`matrix_sandbox`] of a pair of releases (`Some(("7.3", "4.7"))`; `None`: the seed pair).
pub async fn matrix_sandbox_of(hang: std::time::Duration, pair: Option<(&str, &str)>) -> Sandbox {
    let b = Sandbox::builder();
    let b = match pair {
        Some((is, apim)) => b.is_version(is).apim_version(apim),
        None => b,
    };
    let sb = b.start().await.expect("test utility");
    sb.apim().ensure_portal_apps();
    set_hang(&sb, hang);
    sb
}
