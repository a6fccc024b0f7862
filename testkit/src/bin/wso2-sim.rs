//! `wso2-sim`: the simulated WSO2 Identity Server (5.9-7.3) and API Manager (3.0-4.7) as a
//! standalone program,
//! for operators trying the federation by hand and for tests that drive the CLI in another process.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use wso2_testkit::{
    FaultKind, FaultRule, LeafKind, PortalNaming, Sandbox, SandboxSnapshot, SeedCounts, SimServer,
    Target, When,
};

/// Simulated WSO2 Identity Server (5.9-7.3) and API Manager (3.0-4.7): SOAP admin services, IS's
/// management REST API (5.10+), SCIM2, OIDC, APIM's DCR and portals, and the browser login of a
/// portal through IS (APIM federating to IS, JIT provisioning, the portal session and its
/// publisher API); two ports, over HTTPS with a freshly made private CA. Each server behaves as
/// the release chosen with --is-version and --apim-version.
///
/// On startup it prints the base URLs and the CA path, then one machine-readable line:
/// `WSO2_SIM_READY {"is_url":…,"apim_url":…,"ca_path":…,"pid":…,"is_version":"7.3",
/// "apim_version":"4.7","is_soap_admin_services":"off",…}`.
///
/// Both servers also serve a control API under `/__sim/` (no auth): `GET|PUT /__sim/state`,
/// `GET|DELETE /__sim/requests` (`?all=true`: with the servers' own calls to each other, such as
/// APIM's token request to IS during a login), `GET /__sim/stats`, `POST|DELETE /__sim/faults`,
/// `PUT /__sim/latency`, `GET|PUT /__sim/quirks`, `POST /__sim/seed?tenant=D`,
/// `POST /__sim/seed-xml?tenant=D`, `POST /__sim/tenants`, `POST /__sim/portals`.
#[derive(Debug, Parser)]
#[command(name = "wso2-sim", version)]
struct Args {
    /// Address to bind both servers to (base URLs say `localhost` for 127.0.0.1).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Identity Server release to behave as: 5.9, 5.10, 5.11, 6.0, 6.1, 7.0, 7.1, 7.2 or 7.3.
    #[arg(long, default_value = "5.9")]
    is_version: String,
    /// API Manager release to behave as: 3.0, 3.1, 3.2, 4.0 ... 4.7. Without it: 3.0, but with
    /// the 3.2+ portal service-provider names (see --portal-naming); with it, that release's own.
    #[arg(long)]
    apim_version: Option<String>,
    /// Switch IS's SOAP admin services on where the release has them off (IS 7.2+,
    /// `[server] enable_admin_services = true`).
    #[arg(long)]
    is_soap_admin_services: bool,
    /// Port of the simulated Identity Server (0 = any free port).
    #[arg(long, default_value_t = 9444)]
    is_port: u16,
    /// Port of the simulated API Manager (0 = any free port).
    #[arg(long, default_value_t = 9443)]
    apim_port: u16,
    /// Serve plain HTTP instead of HTTPS.
    #[arg(long)]
    http: bool,
    /// Demand client certificates signed by the sandbox CA (mutual TLS).
    #[arg(long)]
    require_client_cert: bool,
    /// Ask for (but do not require) client certificates, as WSO2's connector does; IS's token
    /// endpoint then refuses a body client_id from a caller that presented one.
    #[arg(long, conflicts_with = "require_client_cert")]
    request_client_cert: bool,
    /// Present an expired (`expired`) or wrong-host (`wrong-host`) server certificate.
    #[arg(long, value_parser = ["good", "expired", "wrong-host"], default_value = "good")]
    leaf: String,
    /// Password of `admin` in every tenant.
    #[arg(long, default_value = "admin")]
    admin_password: String,
    /// A tenant besides carbon.super (repeatable; default: example.com). Its admin is
    /// `admin@{domain}`.
    #[arg(long = "tenant")]
    tenants: Vec<String>,
    /// Where to write the CA certificate (PEM), kept after exit. Default: `ca.pem` in the state
    /// dir (kept), else a temporary file that is removed when wso2-sim ends (SIGINT, SIGTERM,
    /// SIGHUP).
    #[arg(long)]
    ca_out: Option<PathBuf>,
    /// Load raw XML seeds (what a real getApplication / getIdPByName / getOAuthApplicationData
    /// returns): `DIR/is/*.xml`, `DIR/apim/*.xml`, and `DIR/{is,apim}/t/{tenant}/*.xml`.
    #[arg(long)]
    seed_dir: Option<PathBuf>,
    /// Add N generated unrelated objects (users, roles, SPs, IdPs, OAuth apps) to each server.
    #[arg(long, default_value_t = 0)]
    seed: usize,
    /// Keep state across runs: load `DIR/state.json` at start if present, save it on SIGUSR1,
    /// SIGINT and SIGTERM.
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// On SIGUSR1, write both servers' snapshots (JSON) to FILE.
    #[arg(long)]
    dump_state: Option<PathBuf>,
    /// Delay every answer by this many milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Inject a fault: `SERVER:ACTION:WHEN:KIND`, SERVER `is`|`apim`, ACTION an operation or route
    /// name (`addIdP`, `scim2.createUser`, `oidc.token`) or `*` (any) or `+` (any mutating), WHEN
    /// `N` (the nth call), `N+` (from the nth on) or `every`, KIND one of soap_fault,
    /// plain_text500, connection_reset, timeout_before_commit, timeout_after_commit,
    /// malformed_body, truncated_body, unauthorized, auth_failure_fault, server_error_after_commit,
    /// soap_fault_in200, html_login_page.
    /// Repeatable.
    #[arg(long = "fault")]
    faults: Vec<String>,
    /// How long the timeout faults hang, in seconds.
    #[arg(long, default_value_t = 30)]
    hang_secs: u64,
    /// APIM's addIdP answers HTTP 500 after it stored the identity provider (a real quirk).
    #[arg(long)]
    add_idp_500_after_commit: bool,
    /// Turn on IS's MutualTLS client authenticator conflict as if every caller presented a client
    /// certificate: a token request with `client_id` in the body gets `invalid_request`, "The
    /// client MUST NOT use more than one authentication method in each".
    #[arg(long)]
    mutual_tls_conflict: bool,
    /// Skip the OAuth consent page for every application on both servers (the deployment's
    /// `SkipUserConsent`); without it, a login to an application that does not skip consent
    /// stops at `oauth2_consent.do`.
    #[arg(long)]
    skip_user_consent: bool,
    /// Accept SOAP bodies out of WSDL order (as the real Axis2 RPC receiver does).
    #[arg(long)]
    lenient_elements: bool,
    /// Create APIM's portal service providers at start (as if each portal had been logged into).
    #[arg(long)]
    portals: bool,
    /// Portal SP names, overriding the release's: `apim31` (apim_publisher, apim_devportal,
    /// apim_admin_portal: APIM 3.2+), `apim310` (3.1: no admin-portal SP) or `apim300` (3.0, the
    /// default release: admin_admin_publisher, admin_admin_store).
    #[arg(long, value_parser = ["apim31", "apim310", "apim300"])]
    portal_naming: Option<String>,
}

/// A file removed when dropped (the temporary CA file, at the end of `run`).
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("wso2-sim: {msg}");
    std::process::exit(2)
}

fn parse_kind(s: &str) -> Result<FaultKind, String> {
    Ok(match s {
        "soap_fault" => FaultKind::SoapFault {
            message: "Injected fault".into(),
        },
        "plain_text500" | "plain_text_500" => FaultKind::PlainText500,
        "connection_reset" => FaultKind::ConnectionReset,
        "timeout_before_commit" => FaultKind::TimeoutBeforeCommit,
        "timeout_after_commit" => FaultKind::TimeoutAfterCommit,
        "malformed_body" => FaultKind::MalformedBody,
        "truncated_body" => FaultKind::TruncatedBody,
        "unauthorized" => FaultKind::Unauthorized,
        "auth_failure_fault" => FaultKind::AuthFailureFault,
        "server_error_after_commit" => FaultKind::ServerErrorAfterCommit,
        "soap_fault_in200" | "soap_fault_in_200" => FaultKind::SoapFaultIn200 {
            message: "Injected fault".into(),
        },
        "html_login_page" => FaultKind::HtmlLoginPage,
        other => return Err(format!("unknown fault kind {other:?}")),
    })
}

fn parse_fault(spec: &str) -> Result<(String, FaultRule), String> {
    let parts: Vec<&str> = spec.splitn(4, ':').collect();
    let [server, action, when, kind] = parts.as_slice() else {
        return Err(format!(
            "--fault {spec:?}: expected SERVER:ACTION:WHEN:KIND"
        ));
    };
    if *server != "is" && *server != "apim" {
        return Err(format!("--fault {spec:?}: server must be is or apim"));
    }
    let target = match *action {
        "*" => Target::Any,
        "+" => Target::AnyMutating,
        a => Target::Action(a.to_owned()),
    };
    let when = if *when == "every" {
        When::Every
    } else if let Some(n) = when.strip_suffix('+') {
        When::FromNth(
            n.parse()
                .map_err(|_| format!("--fault {spec:?}: bad WHEN"))?,
        )
    } else {
        When::Nth(
            when.parse()
                .map_err(|_| format!("--fault {spec:?}: bad WHEN"))?,
        )
    };
    Ok((
        (*server).to_owned(),
        FaultRule {
            target,
            when,
            kind: parse_kind(kind)?,
        },
    ))
}

fn load_seeds(dir: &Path, server: &SimServer, name: &str) -> Result<usize, String> {
    let mut n = 0;
    let root = dir.join(name);
    let mut dirs = vec![(root.clone(), wso2_testkit::SUPER_TENANT.to_owned())];
    if let Ok(rd) = std::fs::read_dir(root.join("t")) {
        for e in rd.flatten() {
            if e.path().is_dir() {
                let t = e.file_name().to_string_lossy().into_owned();
                server.add_tenant(&t);
                dirs.push((e.path(), t));
            }
        }
    }
    for (d, tenant) in dirs {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut files: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "xml"))
            .collect();
        files.sort();
        for f in files {
            let xml = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
            server
                .seed_xml(&tenant, &xml)
                .map_err(|e| format!("{}: {e}", f.display()))?;
            n += 1;
        }
    }
    Ok(n)
}

fn write_state(path: &Path, snap: &SandboxSnapshot) {
    match serde_json::to_vec_pretty(snap) {
        Ok(bytes) => {
            let tmp = path.with_extension("tmp");
            if std::fs::write(&tmp, bytes)
                .and_then(|_| std::fs::rename(&tmp, path))
                .is_err()
            {
                eprintln!("wso2-sim: could not write {}", path.display());
            } else {
                eprintln!("wso2-sim: state written to {}", path.display());
            }
        }
        Err(e) => eprintln!("wso2-sim: could not serialise state: {e}"),
    }
}

fn main() {
    let args = Args::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => fail(format!("cannot start the runtime: {e}")),
    };
    rt.block_on(run(args));
}

async fn run(args: Args) {
    let mut faults = Vec::new();
    for f in &args.faults {
        match parse_fault(f) {
            Ok(x) => faults.push(x),
            Err(e) => fail(e),
        }
    }
    let mut b = Sandbox::builder()
        .is_version(args.is_version.as_str())
        .is_soap(args.is_soap_admin_services)
        .host(args.host.clone())
        .is_port(args.is_port)
        .apim_port(args.apim_port)
        .admin_password(args.admin_password.clone())
        .latency(Duration::from_millis(args.latency_ms))
        .leaf(match args.leaf.as_str() {
            "expired" => LeafKind::Expired,
            "wrong-host" => LeafKind::WrongHost,
            _ => LeafKind::Good,
        });
    if let Some(v) = &args.apim_version {
        b = b.apim_version(v.as_str());
    }
    if !args.tenants.is_empty() {
        b = b.tenants(args.tenants.clone());
    }
    if args.http {
        b = b.http();
    }
    if args.require_client_cert {
        b = b.require_client_cert();
    }
    if args.request_client_cert {
        b = b.request_client_cert();
    }
    let sandbox = match b.start().await {
        Ok(s) => s,
        Err(e) => fail(format!(
            "{e}: {}",
            std::error::Error::source(&e)
                .map(ToString::to_string)
                .unwrap_or_default()
        )),
    };
    for s in [sandbox.is(), sandbox.apim()] {
        s.update_quirks(|q| {
            q.hang = Duration::from_secs(args.hang_secs);
            q.mutual_tls_conflict = args.mutual_tls_conflict;
            q.add_idp_500_after_commit = args.add_idp_500_after_commit;
            q.lenient_elements = args.lenient_elements;
            q.skip_user_consent = args.skip_user_consent;
            match args.portal_naming.as_deref() {
                Some("apim300") => q.portal_naming = PortalNaming::Apim300,
                Some("apim310") => q.portal_naming = PortalNaming::Apim310,
                Some(_) => q.portal_naming = PortalNaming::Apim31,
                None => {}
            }
        });
    }
    let state_file = args.state_dir.as_ref().map(|d| d.join("state.json"));
    if let Some(d) = &args.state_dir
        && let Err(e) = std::fs::create_dir_all(d)
    {
        fail(format!("cannot create {}: {e}", d.display()));
    }
    if let Some(f) = state_file.as_ref().filter(|f| f.exists()) {
        match std::fs::read(f)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<SandboxSnapshot>(&b).map_err(|e| e.to_string()))
        {
            Ok(snap) => {
                sandbox.is().restore(&snap.is);
                sandbox.apim().restore(&snap.apim);
            }
            Err(e) => fail(format!("cannot load {}: {e}", f.display())),
        }
    }
    if let Some(dir) = &args.seed_dir {
        for (s, name) in [(sandbox.is(), "is"), (sandbox.apim(), "apim")] {
            match load_seeds(dir, s, name) {
                Ok(n) if n > 0 => eprintln!("wso2-sim: {n} seed objects loaded into {name}"),
                Ok(_) => {}
                Err(e) => fail(e),
            }
        }
    }
    if args.seed > 0 {
        sandbox
            .is()
            .seed(wso2_testkit::SUPER_TENANT, SeedCounts::spread(args.seed));
        sandbox
            .apim()
            .seed(wso2_testkit::SUPER_TENANT, SeedCounts::spread(args.seed));
    }
    if args.portals {
        sandbox.apim().ensure_portal_apps();
    }
    for (server, rule) in faults {
        let s = if server == "is" {
            sandbox.is()
        } else {
            sandbox.apim()
        };
        s.inject(rule);
    }
    let signals = install_signals().unwrap_or_else(|e| fail(e));
    // Asked for (--ca-out, --state-dir): kept. Otherwise a temporary file, removed at exit.
    let (ca_path, ca_temporary) = match (&args.ca_out, &args.state_dir) {
        (Some(p), _) => (p.clone(), false),
        (None, Some(d)) => (d.join("ca.pem"), false),
        (None, None) => (
            std::env::temp_dir().join(format!("wso2-sim-ca-{}.pem", std::process::id())),
            true,
        ),
    };
    if let Err(e) = std::fs::write(&ca_path, sandbox.ca_pem()) {
        fail(format!("cannot write the CA to {}: {e}", ca_path.display()));
    }
    let _ca_file = ca_temporary.then(|| TempFile(ca_path.clone()));
    let ready = serde_json::json!({
        "is_url": sandbox.is().base_url(),
        "apim_url": sandbox.apim().base_url(),
        "ca_path": ca_path,
        "pid": std::process::id(),
        "is_version": sandbox.is_version(),
        "apim_version": sandbox.apim_version(),
        "is_soap_admin_services": sandbox.is().soap_admin_services(),
        "admin": "admin",
        "tenants": if args.tenants.is_empty() { vec!["example.com".to_owned()] } else { args.tenants.clone() },
    });
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "wso2-sim: IS   {}", sandbox.is().base_url());
        let _ = writeln!(out, "wso2-sim: APIM {}", sandbox.apim().base_url());
        let _ = writeln!(out, "wso2-sim: CA   {}", ca_path.display());
        let _ = writeln!(out, "WSO2_SIM_READY {ready}");
        let _ = out.flush();
    }
    wait_for_signals(signals, &sandbox, &args, state_file.as_deref()).await;
}

/// The signals that end wso2-sim (and SIGUSR1, which dumps its state), registered before the
/// ready line so that none sent after it is missed.
#[cfg(unix)]
struct Signals {
    usr1: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

#[cfg(unix)]
fn install_signals() -> Result<Signals, &'static str> {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::user_defined1()),
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
    ) {
        (Ok(usr1), Ok(term), Ok(int), Ok(hup)) => Ok(Signals {
            usr1,
            term,
            int,
            hup,
        }),
        _ => Err("cannot install signal handlers"),
    }
}

#[cfg(unix)]
async fn wait_for_signals(
    mut signals: Signals,
    sandbox: &Sandbox,
    args: &Args,
    state_file: Option<&Path>,
) {
    loop {
        tokio::select! {
            _ = signals.usr1.recv() => {
                let snap = sandbox.snapshot();
                if let Some(f) = &args.dump_state { write_state(f, &snap); }
                if let Some(f) = state_file { write_state(f, &snap); }
            }
            _ = signals.term.recv() => break,
            _ = signals.int.recv() => break,
            _ = signals.hup.recv() => break,
        }
    }
    if let Some(f) = state_file {
        write_state(f, &sandbox.snapshot());
    }
    sandbox.shutdown();
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
fn install_signals() -> Result<Signals, &'static str> {
    Ok(Signals)
}

#[cfg(not(unix))]
async fn wait_for_signals(
    _signals: Signals,
    sandbox: &Sandbox,
    _args: &Args,
    state_file: Option<&Path>,
) {
    let _ = tokio::signal::ctrl_c().await;
    if let Some(f) = state_file {
        write_state(f, &sandbox.snapshot());
    }
    sandbox.shutdown();
}
