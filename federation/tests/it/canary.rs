//! Secrets: canary values for the admin password, both users' passwords and the OAuth client
//! secret (and the Basic-authentication headers built from them) go through a full apply, a
//! verify with a test login, a failed apply with rollback, a failed undo and its re-run, and,
//! with the CLI as a separate process, a crash and its recovery. They must never appear in
//! stdout, stderr, TRACE logs, the journal, plans (text, JSON, file), reports, events or error
//! chains. Positive controls show each scan could see them: the simulator stores the client
//! secret in clear, and the logs are really captured.
//!
//! `cargo test -p wso2-federation --all-features --test it canary -- --nocapture`

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use secrecy::SecretString;
use wso2_federation::engine::Event;
use wso2_federation::verify::VerifyOptions;
use wso2_federation::{FederationError, RunOptions};
use wso2_testkit::{FaultKind, FaultRule, Sandbox};

use crate::support::*;

/// The canaries, and the forms in which a transport would carry them.
fn canaries() -> Vec<(String, String)> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let mut out: Vec<(String, String)> = [
        ("admin password", CANARY_ADMIN_PASSWORD),
        ("api_publisher password", PUBLISHER_PASSWORD),
        ("api_user password", USER_PASSWORD),
        ("client secret", CANARY_CLIENT_SECRET),
    ]
    .into_iter()
    .map(|(what, v)| (what.to_owned(), v.to_owned()))
    .collect();
    out.push((
        "admin Basic header".into(),
        b64(&format!("admin:{CANARY_ADMIN_PASSWORD}")),
    ));
    out.push((
        "client Basic header".into(),
        b64(&format!("{FIXED_CLIENT_ID}:{CANARY_CLIENT_SECRET}")),
    ));
    out
}

/// Scans texts for the canaries.
#[derive(Default)]
struct Scan {
    places: usize,
    bytes: usize,
    leaks: Vec<String>,
}

impl Scan {
    fn check(&mut self, place: impl Into<String>, text: &str) {
        let place = place.into();
        self.places += 1;
        self.bytes += text.len();
        for (what, needle) in canaries() {
            if let Some(at) = text.find(&needle) {
                let from = text[..at]
                    .char_indices()
                    .rev()
                    .nth(80)
                    .map_or(0, |(i, _)| i);
                let context: String = text[from..].chars().take(200).collect();
                self.leaks
                    .push(format!("{what} in {place}: ...{context}..."));
            }
        }
    }

    fn check_error(&mut self, place: &str, e: &(dyn std::error::Error + 'static)) {
        let mut chain = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            chain.push_str(" <- ");
            chain.push_str(&s.to_string());
            source = s.source();
        }
        self.check(format!("{place} (error chain)"), &chain);
        self.check(format!("{place} (error Debug)"), &format!("{e:?}"));
    }

    fn finish(self, title: &str) {
        println!(
            "secrets: {title}: {} places scanned ({} bytes) for {} canary forms, {} leaks",
            self.places,
            self.bytes,
            canaries().len(),
            self.leaks.len()
        );
        assert!(self.leaks.is_empty(), "leaks:\n{}", self.leaks.join("\n"));
    }
}

/// Everything written by `tracing` while the guard lives, at TRACE, from every crate.
#[derive(Clone, Default)]
struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// A TRACE subscriber writing into a buffer, as the default of this thread. As in
/// `wso2-is-client`'s tests, a second (silent) dispatcher is kept alive for the whole run so that
/// tracing does not cache "no interest" in a callsite first seen on another test's thread.
fn capture_logs() -> (LogCapture, tracing::subscriber::DefaultGuard) {
    static KEEP_TWO_DISPATCHERS: std::sync::OnceLock<tracing::Dispatch> =
        std::sync::OnceLock::new();
    KEEP_TWO_DISPATCHERS
        .get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
    let capture = LogCapture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .with_ansi(false)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    (capture, guard)
}

fn last_step_fault(sb: &Sandbox) {
    sb.apim().inject(FaultRule::nth(
        "updateApplication",
        2,
        FaultKind::SoapFault {
            message: "Injected fault at the last step".into(),
        },
    ));
}

/// In-process: on one thread (a current-thread runtime) so that the subscriber sees every task
/// of the clients.
#[tokio::test]
async fn canaries_never_appear_in_logs_journals_plans_reports_or_errors() {
    // The scan itself finds a canary where there is one.
    let mut probe = Scan::default();
    probe.check("probe", &format!("x{CANARY_CLIENT_SECRET}y"));
    assert_eq!(probe.leaks.len(), 1);

    let (logs, _guard) = capture_logs();
    let sb = Sandbox::builder()
        .admin_password(CANARY_ADMIN_PASSWORD)
        .start()
        .await
        .unwrap();
    sb.apim().ensure_portal_apps();
    let fed = matrix_builder(&sb, Duration::from_secs(10), 8)
        .build()
        .unwrap();
    let events: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = events.clone();
    let sink: wso2_federation::engine::EventSink = Arc::new(move |e: &Event| {
        seen.lock()
            .unwrap()
            .push(format!("{e:?}\n{}", serde_json::to_string(e).unwrap()));
    });
    let mut scan = Scan::default();
    scan.check("Federation Debug", &format!("{fed:?}"));

    // A full apply, with doctor and plan before and verify (a test login) after.
    let doctor = fed.doctor().await;
    assert!(doctor.is_ok(), "{doctor}");
    scan.check("doctor report", &doctor.to_string());
    scan.check(
        "doctor report JSON",
        &serde_json::to_string(&doctor).unwrap(),
    );
    let plan = fed.plan().await.unwrap();
    scan.check("plan text", &plan.to_string());
    scan.check("plan JSON", &serde_json::to_string_pretty(&plan).unwrap());
    scan.check("plan Debug", &format!("{plan:?}"));
    let journal = TempJournal::new();
    let options = RunOptions::new(&journal.0).events(sink.clone());
    scan.check("RunOptions Debug", &format!("{options:?}"));
    let report = fed.apply(&options).await.unwrap();
    scan.check("apply report Debug", &format!("{report:?}"));
    scan.check(
        "apply report JSON",
        &serde_json::to_string(&report).unwrap(),
    );
    let verify_options = VerifyOptions {
        test_login: Some((
            "api_publisher".into(),
            SecretString::from(PUBLISHER_PASSWORD),
        )),
        fix_client_auth: false,
    };
    scan.check("VerifyOptions Debug", &format!("{verify_options:?}"));
    let verified = fed.verify(&verify_options).await.unwrap();
    assert!(verified.is_ok(), "{verified}");
    scan.check("verify report", &verified.to_string());
    scan.check(
        "verify report JSON",
        &serde_json::to_string(&verified).unwrap(),
    );
    // Positive control: the secret really went to the servers, and in clear.
    let stored = serde_json::to_string(&sb.snapshot()).unwrap();
    assert!(
        stored.contains(CANARY_CLIENT_SECRET),
        "the simulator should hold the client secret"
    );
    let again = fed.plan().await.unwrap();
    scan.check("second plan text", &again.to_string());
    scan.check("second plan JSON", &serde_json::to_string(&again).unwrap());
    let destroyed = fed.destroy(&options).await.unwrap();
    scan.check("destroy report Debug", &format!("{destroyed:?}"));
    scan.check("journal of apply and destroy", &journal.text());

    // A failed apply with rollback.
    last_step_fault(&sb);
    let failed = TempJournal::new();
    let err = fed
        .apply(&RunOptions::new(&failed.0).events(sink.clone()))
        .await
        .unwrap_err();
    assert!(matches!(err, FederationError::RolledBack { .. }), "{err:?}");
    scan.check_error("failed apply", &err);
    scan.check("journal of the failed apply", &failed.text());
    sb.clear_faults();

    // A failed apply whose undo fails too, and the re-run of rollback.
    last_step_fault(&sb);
    sb.apim()
        .inject(FaultRule::nth("deleteIdP", 1, FaultKind::PlainText500));
    let incomplete = TempJournal::new();
    let err = fed
        .apply(&RunOptions::new(&incomplete.0).events(sink.clone()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, FederationError::RollbackIncomplete { .. }),
        "{err:?}"
    );
    scan.check_error("failed undo", &err);
    sb.clear_faults();
    let rerun = fed.rollback(&incomplete.options()).await.unwrap();
    scan.check("rollback report Debug", &format!("{rerun:?}"));
    scan.check(
        "rollback report JSON",
        &serde_json::to_string(&rerun).unwrap(),
    );
    scan.check(
        "journal of the failed undo and its re-run",
        &incomplete.text(),
    );

    // Failures while planning and while reading back.
    sb.is().inject(FaultRule::nth(
        "getApplication",
        1,
        FaultKind::HtmlLoginPage,
    ));
    let err = fed.plan().await.unwrap_err();
    scan.check_error("failed plan", &err);
    sb.clear_faults();
    sb.apim()
        .inject(FaultRule::nth("addIdP", 1, FaultKind::MalformedBody));
    let settled = TempJournal::new();
    let _ = fed.apply(&settled.options()).await;
    scan.check("journal of an apply with a damaged answer", &settled.text());
    let _ = fed.destroy(&settled.options()).await;
    sb.clear_faults();

    scan.check("events", &events.lock().unwrap().join("\n"));
    let text = logs.text();
    assert!(
        text.contains("sending SOAP request") && text.contains("TRACE"),
        "the TRACE logs were not captured"
    );
    scan.check("TRACE logs", &text);
    scan.finish("in process");
}

/// The CLI as a separate process at `-vvv` (TRACE) against `wso2-sim`, through a crash and its
/// recovery, a failed apply, a failed undo and its re-run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canaries_never_appear_in_the_clis_output_journal_or_plan_files() {
    let sim = SimProcess::start(&["--portals", "--admin-password", CANARY_ADMIN_PASSWORD]);
    let mut cli = CliRun::new(&sim, "canary");
    cli.admin_password = CANARY_ADMIN_PASSWORD.into();
    let mut scan = Scan::default();
    let plan_file = cli.dir.join("plan.json");
    let plan_file_arg = plan_file.display().to_string();
    let steps: Vec<(Vec<&str>, Option<usize>, bool)> = vec![
        (vec!["-vvv", "doctor"], None, true),
        (vec!["-vvv", "plan", "--out", &plan_file_arg], None, true),
        (vec!["-vvv", "--output", "json", "plan"], None, true),
        // Dies after the 9th journal record (the service provider's intent or so).
        (vec!["-vvv", "apply", "--yes"], Some(9), false),
        (vec!["-vvv", "recover"], None, true),
        (vec!["-vvv", "apply", "--yes"], Some(14), false),
        (vec!["-vvv", "recover", "--finish"], None, true),
        (
            vec![
                "-vvv",
                "verify",
                "--test-user",
                "api_publisher",
                "--test-password-env",
                "FED_TEST_PUBLISHER_PASSWORD",
            ],
            None,
            true,
        ),
        (
            vec!["-vvv", "--output", "json", "destroy", "--yes"],
            None,
            true,
        ),
        (
            vec!["-vvv", "--output", "json", "apply", "--yes"],
            None,
            true,
        ),
        (vec!["-vvv", "rollback"], None, true),
    ];
    for (args, crash, ok) in &steps {
        let out = cli.run(args, *crash).await;
        assert_eq!(out.ok(), *ok, "{args:?}:\n{out}");
        let what = args.join(" ");
        scan.check(format!("`{what}` stdout"), &out.stdout);
        scan.check(format!("`{what}` stderr"), &out.stderr);
        if args.contains(&"apply") && *ok {
            // Positive control: the secret really went to the servers, and in clear.
            assert!(sim.state_text().await.contains(CANARY_CLIENT_SECRET));
        }
    }
    assert!(
        scan.places > 0
            && cli
                .run(&["-vvv", "doctor"], None)
                .await
                .stderr
                .contains("TRACE"),
        "-vvv must log at TRACE"
    );
    scan.check("plan file", &std::fs::read_to_string(&plan_file).unwrap());

    // A failed apply (exit 1), then a failed undo (exit 3) and its re-run.
    let fault = |n: u32| {
        FaultRule::nth(
            "updateApplication",
            n,
            FaultKind::SoapFault {
                message: "Injected fault at the last step".into(),
            },
        )
    };
    sim.inject("apim", &fault(2)).await;
    let out = cli.run(&["-vvv", "apply", "--yes"], None).await;
    assert_eq!(out.status.code(), Some(1), "{out}");
    scan.check("failed `apply` stdout", &out.stdout);
    scan.check("failed `apply` stderr", &out.stderr);
    sim.reset(&sim.state().await).await;
    sim.inject("apim", &fault(2)).await;
    sim.inject(
        "apim",
        &FaultRule::nth("deleteIdP", 1, FaultKind::PlainText500),
    )
    .await;
    let out = cli.run(&["-vvv", "apply", "--yes"], None).await;
    assert_eq!(out.status.code(), Some(3), "{out}");
    scan.check("`apply` with a failed undo stdout", &out.stdout);
    scan.check("`apply` with a failed undo stderr", &out.stderr);
    let out = cli.run(&["-vvv", "rollback"], None).await;
    assert!(out.ok(), "{out}");
    scan.check("re-run `rollback` stdout", &out.stdout);
    scan.check("re-run `rollback` stderr", &out.stderr);
    scan.check(
        "journal",
        &std::fs::read_to_string(&cli.journal).unwrap_or_default(),
    );
    scan.finish("CLI");
}
