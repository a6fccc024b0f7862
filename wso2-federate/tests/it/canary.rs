//! Secrets through the CLI: canary values for the admin password, both users' passwords and the
//! OAuth client secret (and the Basic-authentication headers built from them) go through the CLI
//! as a separate process at `-vvv` against `wso2-sim`: a crash and its recovery, a failed apply,
//! a failed undo and its re-run. They must never appear in stdout, stderr, the journal or plan
//! files.
//!
//! `cargo test -p wso2-federate --test it canary -- --nocapture`

use wso2_testkit::{FaultKind, FaultRule};

use crate::support::*;

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
        (vec!["-vvv", "rollback", "--yes"], None, true),
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
    let out = cli.run(&["-vvv", "rollback", "--yes"], None).await;
    assert!(out.ok(), "{out}");
    scan.check("re-run `rollback` stdout", &out.stdout);
    scan.check("re-run `rollback` stderr", &out.stderr);
    scan.check(
        "journal",
        &std::fs::read_to_string(&cli.journal).unwrap_or_default(),
    );
    scan.finish("CLI");
}
