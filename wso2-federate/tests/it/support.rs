//! Test support of the CLI: `wso2-sim` as a separate process steered through its control API,
//! and the CLI run against it; the shared utilities of `wso2-federation` (feature `test-util`).

use std::sync::atomic::{AtomicUsize, Ordering};

pub use wso2_federation::test_util::*;

/// The `wso2-sim` binary: `$WSO2_SIM_BIN`, else next to this test executable's directory
/// (`target/debug/wso2-sim`, which `cargo test --workspace` builds).
pub fn sim_binary() -> std::path::PathBuf {
    if let Some(path) = std::env::var_os("WSO2_SIM_BIN") {
        return path.into();
    }
    let exe = std::env::current_exe().unwrap();
    let debug = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = debug.join(format!("wso2-sim{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "wso2-sim is not built at {}: run `cargo build -p wso2-testkit --bin wso2-sim` (or \
         `cargo test --workspace --all-features`, which builds it), or point WSO2_SIM_BIN at it",
        path.display()
    );
    path
}

/// A `wso2-sim` process started by a test (killed when dropped).
pub struct SimProcess {
    child: std::process::Child,
    dir: std::path::PathBuf,
    pub is_url: String,
    pub apim_url: String,
    pub ca_path: std::path::PathBuf,
    pub ca_pem: String,
    http: reqwest::Client,
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl SimProcess {
    /// Starts `wso2-sim` on free ports with `args`, and waits for its ready line.
    pub fn start(args: &[&str]) -> Self {
        use std::io::BufRead;
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "federation-sim-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut child = std::process::Command::new(sim_binary())
            .args(["--is-port", "0", "--apim-port", "0", "--ca-out"])
            .arg(dir.join("ca.pem"))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", sim_binary().display()));
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let ready: serde_json::Value = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(json) = line.strip_prefix("WSO2_SIM_READY ") {
                        break serde_json::from_str(json).unwrap();
                    }
                }
                _ => panic!("wso2-sim ended without its WSO2_SIM_READY line"),
            }
        };
        // Keep the pipe drained.
        std::thread::spawn(move || for _ in lines {});
        let ca_path: std::path::PathBuf = ready["ca_path"].as_str().unwrap().into();
        let ca_pem = std::fs::read_to_string(&ca_path).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        for c in rustls::pki_types::pem::PemObject::pem_slice_iter(ca_pem.as_bytes()) {
            roots.add(c.unwrap()).unwrap();
        }
        let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap();
        Self {
            child,
            dir,
            is_url: ready["is_url"]
                .as_str()
                .unwrap()
                .trim_end_matches('/')
                .into(),
            apim_url: ready["apim_url"]
                .as_str()
                .unwrap()
                .trim_end_matches('/')
                .into(),
            ca_path,
            ca_pem,
            http,
        }
    }

    fn url(&self, server: &str, path: &str) -> String {
        let base = if server == "is" {
            &self.is_url
        } else {
            &self.apim_url
        };
        format!("{base}/__sim/{path}")
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, server: &str, path: &str) -> T {
        let r = self.http.get(self.url(server, path)).send().await.unwrap();
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        serde_json::from_slice(&r.bytes().await.unwrap()).unwrap()
    }

    async fn send(&self, method: reqwest::Method, server: &str, path: &str, body: Option<String>) {
        let mut req = self.http.request(method, self.url(server, path));
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let r = req.send().await.unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
    }

    /// Both servers' stored objects.
    pub async fn state(&self) -> wso2_testkit::SandboxSnapshot {
        wso2_testkit::SandboxSnapshot {
            is: self.get_json("is", "state").await,
            apim: self.get_json("apim", "state").await,
        }
    }

    /// Both servers' state as JSON text (for secret scans).
    pub async fn state_text(&self) -> String {
        let mut out = String::new();
        for server in ["is", "apim"] {
            let r = self
                .http
                .get(self.url(server, "state"))
                .send()
                .await
                .unwrap();
            out.push_str(&r.text().await.unwrap());
        }
        out
    }

    /// Replaces both servers' stored objects, and clears request logs and fault rules.
    pub async fn reset(&self, state: &wso2_testkit::SandboxSnapshot) {
        for (server, snap) in [("is", &state.is), ("apim", &state.apim)] {
            let body = serde_json::to_string(snap).unwrap();
            self.send(reqwest::Method::PUT, server, "state", Some(body))
                .await;
            self.send(reqwest::Method::DELETE, server, "requests", None)
                .await;
            self.send(reqwest::Method::DELETE, server, "faults", None)
                .await;
        }
    }

    /// A server's request log.
    pub async fn requests(&self, server: &str) -> Vec<wso2_testkit::RequestRecord> {
        self.get_json(server, "requests").await
    }

    /// Per-request delay on both servers.
    pub async fn set_latency(&self, ms: u64) {
        for server in ["is", "apim"] {
            self.send(
                reqwest::Method::PUT,
                server,
                "latency",
                Some(format!("{{\"ms\": {ms}}}")),
            )
            .await;
        }
    }

    /// Adds a fault rule on a server.
    pub async fn inject(&self, server: &str, rule: &wso2_testkit::FaultRule) {
        let body = serde_json::to_string(rule).unwrap();
        self.send(reqwest::Method::POST, server, "faults", Some(body))
            .await;
    }
}

/// The seed setup as a `federation.toml` for a `wso2-sim`, secrets through the environment
/// variables of [`CliRun::env`].
pub fn sim_config(sim: &SimProcess) -> String {
    format!(
        r#"marker = "wso2-federation"
concurrency = 8

[is]
url = "{is}"
username = "admin"
password_env = "FED_TEST_IS_PASSWORD"
ca_pem = "{ca}"
timeout_secs = 5

[apim]
url = "{apim}"
username = "admin"
password_env = "FED_TEST_APIM_PASSWORD"
ca_pem = "{ca}"
timeout_secs = 5

[service_provider]
name = "apim-federation"
grant_types = ["authorization_code", "refresh_token", "password"]
client_id = "{client_id}"
client_secret_env = "FED_TEST_CLIENT_SECRET"

[identity_provider]
name = "wso2-is"

[[roles]]
name = "publisher_role"

[[roles]]
name = "user_role"

[[users]]
name = "api_publisher"
password_env = "FED_TEST_PUBLISHER_PASSWORD"
roles = ["publisher_role"]

[[users]]
name = "api_user"
password_env = "FED_TEST_USER_PASSWORD"
roles = ["user_role"]

[[role_mappings]]
remote = "publisher_role"
local = "Internal/publisher"

[[role_mappings]]
remote = "user_role"
local = "Internal/subscriber"

[portals]
switch = ["publisher", "devportal"]
"#,
        is = sim.is_url,
        apim = sim.apim_url,
        ca = sim.ca_path.display(),
        client_id = FIXED_CLIENT_ID,
    )
}

/// How to run `wso2-federate` against a `wso2-sim`: a configuration file, a journal, secrets in
/// the environment.
pub struct CliRun {
    pub dir: std::path::PathBuf,
    pub config: std::path::PathBuf,
    pub journal: std::path::PathBuf,
    pub admin_password: String,
}

/// What a finished CLI run printed.
#[derive(Debug)]
pub struct CliOutput {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl CliOutput {
    pub fn ok(&self) -> bool {
        self.status.success()
    }
}

impl std::fmt::Display for CliOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

impl CliRun {
    /// A fresh directory with the configuration for `sim`.
    pub fn new(sim: &SimProcess, name: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "federation-cli-{}-{name}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("federation.toml");
        std::fs::write(&config, sim_config(sim)).unwrap();
        Self {
            journal: dir.join("wso2-federation.journal"),
            dir,
            config,
            admin_password: "admin".into(),
        }
    }

    /// The secrets, as the configuration names them.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("FED_TEST_IS_PASSWORD", self.admin_password.clone()),
            ("FED_TEST_APIM_PASSWORD", self.admin_password.clone()),
            ("FED_TEST_CLIENT_SECRET", CANARY_CLIENT_SECRET.into()),
            ("FED_TEST_PUBLISHER_PASSWORD", PUBLISHER_PASSWORD.into()),
            ("FED_TEST_USER_PASSWORD", USER_PASSWORD.into()),
        ]
    }

    /// The command, with `args` after the global options; `crash_after` sets the journal
    /// failpoint.
    pub fn command(&self, args: &[&str], crash_after: Option<usize>) -> std::process::Command {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_wso2-federate"));
        c.arg("--config")
            .arg(&self.config)
            .arg("--journal")
            .arg(&self.journal)
            .args(args)
            .current_dir(&self.dir)
            .env_remove("WSO2_FEDERATE_CRASH_AFTER_RECORD")
            .envs(self.env())
            .stdin(std::process::Stdio::null());
        if let Some(n) = crash_after {
            c.env("WSO2_FEDERATE_CRASH_AFTER_RECORD", n.to_string());
        }
        c
    }

    /// Runs the CLI to its end (on a blocking thread).
    pub async fn run(&self, args: &[&str], crash_after: Option<usize>) -> CliOutput {
        let mut c = self.command(args, crash_after);
        let out = tokio::task::spawn_blocking(move || c.output().unwrap())
            .await
            .unwrap();
        CliOutput {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Journal records written so far.
    pub fn journal_records(&self) -> usize {
        std::fs::read_to_string(&self.journal)
            .map(|t| t.lines().filter(|l| !l.trim().is_empty()).count())
            .unwrap_or(0)
    }
}

impl Drop for CliRun {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether `CI` is set to something other than empty, `false` or `0`.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Whether a test that needs an outside tool may run: with `missing` naming what is missing,
/// it fails under CI and is skipped elsewhere, visibly (see [`skip`]).
pub fn require(test: &str, missing: Option<String>) -> bool {
    match missing {
        None => true,
        Some(what) if in_ci() => panic!("{test}: {what} (required when CI is set)"),
        Some(what) => {
            skip(test, &what);
            false
        }
    }
}

/// Reports a skipped test where a plain `cargo test` shows it and where `.ci/skips` counts it:
/// `SKIP: test: reason` straight on the process's stderr (libtest captures `eprintln!` of a
/// passing test, which would hide the skip behind `ok`), and the same line appended to
/// `{target}/{profile}/test-skips/{crate}-{test target}.log` (started afresh by the first skip
/// of each run of the binary).
pub fn skip(test: &str, reason: &str) {
    use std::io::Write;
    static STARTED: std::sync::Once = std::sync::Once::new();
    let line = format!("SKIP: {test}: {reason}");
    let _ = writeln!(std::io::stderr().lock(), "{line}");
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    // target/{profile}/deps/{binary}
    let (Some(profile), Some(name)) = (
        exe.parent().and_then(std::path::Path::parent),
        exe.file_stem(),
    ) else {
        return;
    };
    // One file per crate and test target, whatever the build's hash (`it-0123abcd` -> `it`).
    let name = name.to_string_lossy();
    let target = name.rsplit_once('-').map_or(&*name, |(t, _)| t);
    let dir = profile.join("test-skips");
    let file = dir.join(format!("{}-{target}.log", env!("CARGO_PKG_NAME")));
    let _ = std::fs::create_dir_all(&dir);
    STARTED.call_once(|| {
        let _ = std::fs::write(&file, "");
    });
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&file)
    {
        let crate_name = env!("CARGO_PKG_NAME");
        let _ = writeln!(f, "{crate_name}: {line}");
    }
}

/// Sends `signal` (`INT`, `TERM`, ...) to the process `pid` (with `kill`).
pub fn send_signal(pid: u32, signal: &str) {
    let status = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} {pid}");
}

/// A finished child's output.
pub fn finish(child: std::process::Child) -> CliOutput {
    let out = child.wait_with_output().unwrap();
    CliOutput {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

impl SimProcess {
    /// The mutating requests both servers have answered or are answering.
    pub async fn writes(&self) -> usize {
        let mut n = 0;
        for server in ["is", "apim"] {
            n += self
                .requests(server)
                .await
                .iter()
                .filter(|r| r.mutating)
                .count();
        }
        n
    }

    /// Waits until both servers have seen at least `n` mutating requests (at most 60 s).
    pub async fn wait_for_writes(&self, n: usize) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while self.writes().await < n {
            assert!(
                std::time::Instant::now() < deadline,
                "the servers never saw {n} writes"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}

impl CliRun {
    /// Starts the CLI without waiting (stdout and stderr piped).
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        self.command(args, None)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }
}
