//! Secrets: canary values for the admin password, both users' passwords and the OAuth client
//! secret (and the Basic-authentication headers built from them) go through a full apply, a
//! verify with a test login, a failed apply with rollback, a failed undo and its re-run, and,
//! with the CLI as a separate process, a crash and its recovery. They must never appear in
//! stdout, stderr, TRACE logs, the journal, plans (text, JSON, file), reports, events or error
//! chains. Positive controls show each scan could see them: the simulator stores the client
//! secret in clear, and the logs are really captured.
//!
//! `cargo test -p wso2-federation --test it canary -- --nocapture`

use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::SecretString;
use wso2_federation::engine::Event;
use wso2_federation::verify::VerifyOptions;
use wso2_federation::{FederationError, RunOptions};
use wso2_testkit::{FaultKind, FaultRule, Sandbox};

use crate::support::*;

/// The canaries, and the forms in which a transport would carry them.
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
    let journal = TempJournal::new();
    let fed = matrix_builder(&sb, Duration::from_secs(10), 8)
        .journal(journal.path())
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
    let options = RunOptions::new().events(sink.clone());
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
        // Both users through the browser login too: their passwords, the codes and tokens of
        // every hop stay out of the report.
        browser_logins: fed.browser_logins(),
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
    let err = fed
        .apply(&RunOptions::new().events(sink.clone()))
        .await
        .unwrap_err();
    assert!(matches!(err, FederationError::RolledBack { .. }), "{err:?}");
    scan.check_error("failed apply", &err);
    scan.check("journal of the failed apply", &journal.text());
    sb.clear_faults();

    // A failed apply whose undo fails too, and the re-run of rollback.
    last_step_fault(&sb);
    sb.apim()
        .inject(FaultRule::nth("deleteIdP", 1, FaultKind::PlainText500));
    let err = fed
        .apply(&RunOptions::new().events(sink.clone()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, FederationError::RollbackIncomplete { .. }),
        "{err:?}"
    );
    scan.check_error("failed undo", &err);
    sb.clear_faults();
    let rerun = fed.rollback(&journal.options()).await.unwrap();
    scan.check("rollback report Debug", &format!("{rerun:?}"));
    scan.check(
        "rollback report JSON",
        &serde_json::to_string(&rerun).unwrap(),
    );
    scan.check("journal of the failed undo and its re-run", &journal.text());

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
