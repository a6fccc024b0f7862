//! The seed setup (WSO2's "IS as external IdP using OIDC" guide) on a sandbox, and a temporary
//! journal: shared by the integration tests (`support.rs`) and the benches
//! (`benches/common/mod.rs`), which include this file by path.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use wso2_apim_client::ApimClient;
use wso2_federation::{Federation, FederationBuilder, RunOptions};
use wso2_is_client::{IsClient, RetryPolicy};
use wso2_testkit::Sandbox;

pub const PUBLISHER_PASSWORD: &str = "canary-publisher-pw-1";
pub const USER_PASSWORD: &str = "canary-user-pw-2";

/// A client builder for `server` with `credentials`, trusting the sandbox CA, no retries, and a
/// request timeout of `timeout`.
pub fn client_builder(
    sb: &Sandbox,
    server: &wso2_testkit::SimServer,
    credentials: wso2_testkit::Credentials,
    timeout: Duration,
) -> wso2_is_client::ClientBuilder {
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
        .unwrap()
}

/// An APIM client for the sandbox (admin, the sandbox CA, no retries, 3 s timeout).
pub fn apim_client(sb: &Sandbox) -> ApimClient {
    client_builder(sb, sb.apim(), sb.apim().admin(), Duration::from_secs(3))
        .build()
        .unwrap()
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

pub fn seed(sb: &Sandbox) -> Federation {
    seed_builder(sb).build().unwrap()
}

/// A fresh journal path, removed when dropped.
pub struct TempJournal(pub PathBuf);

impl TempJournal {
    pub fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "wso2-federation-{}-{}.jsonl",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_file(&path);
        Self(path)
    }

    pub fn options(&self) -> RunOptions {
        RunOptions::new(&self.0)
    }

    pub fn text(&self) -> String {
        std::fs::read_to_string(&self.0).unwrap_or_default()
    }
}

impl Drop for TempJournal {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
