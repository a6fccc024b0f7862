//! What the benches share: the seed setup on a sandbox, exactly as the integration tests build
//! it (`tests/it/support.rs`, `seed_builder`: users `api_publisher` and `api_user`, roles
//! `publisher_role` and `user_role` mapped to `Internal/publisher` and `Internal/subscriber`),
//! and a temporary journal. Kept here rather than included from the test support, which holds
//! test-only helpers a bench target cannot build.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use wso2_apim_client::ApimClient;
use wso2_federation::{Federation, FederationBuilder, RunOptions};
use wso2_is_client::{IsClient, RetryPolicy};
use wso2_testkit::Sandbox;

pub const PUBLISHER_PASSWORD: &str = "canary-publisher-pw-1";
pub const USER_PASSWORD: &str = "canary-user-pw-2";

/// An IS client for the sandbox (admin, the sandbox CA, no retries).
pub fn is_client(sb: &Sandbox) -> IsClient {
    let admin = sb.is().admin();
    IsClient::builder(sb.is().base_url())
        .credentials(admin.username, admin.password)
        .ca_pem(sb.ca_pem().as_bytes().to_vec())
        .retry(RetryPolicy::none())
        .request_timeout(std::time::Duration::from_secs(3))
        .build()
        .unwrap()
}

/// An APIM client for the sandbox.
pub fn apim_client(sb: &Sandbox) -> ApimClient {
    let admin = sb.apim().admin();
    ApimClient::builder(sb.apim().base_url())
        .credentials(admin.username, admin.password)
        .ca_pem(sb.ca_pem().as_bytes().to_vec())
        .retry(RetryPolicy::none())
        .request_timeout(std::time::Duration::from_secs(3))
        .build()
        .unwrap()
}

/// The seed setup.
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

/// A fresh journal path, removed when dropped.
pub struct TempJournal(pub PathBuf);

impl TempJournal {
    pub fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "federation-bench-{}-{}.jsonl",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_file(&path);
        Self(path)
    }

    pub fn options(&self) -> RunOptions {
        RunOptions::new(&self.0)
    }
}

impl Drop for TempJournal {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Prints the machine the figures come from: cores, CPU model, memory and the load average
/// (other work on the machine disturbs wall times; instruction counts are not affected).
pub fn print_machine(when: &str) {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kb: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    println!(
        "machine {when}: {cores} cores, {model}, {:.1} GiB memory, load average {}",
        mem_kb as f64 / 1024.0 / 1024.0,
        load.join(" ")
    );
}
