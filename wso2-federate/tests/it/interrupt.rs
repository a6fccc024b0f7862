//! Interruption through the CLI as a separate process against `wso2-sim` (issue 13, item 3):
//! SIGINT or SIGTERM during an apply stops new steps, lets the requests in flight settle, then
//! undoes everything (exit 130) or, with `--no-rollback`, stops (exit 3), printing what to run
//! next; a second signal stops at once (exit 130, `recover` finishes the job). A run that died
//! without finishing (the journal failpoint, as abrupt as SIGKILL) is named by `plan` and
//! `doctor`, `apply` refuses until `recover`, and `recover` with nothing left says so.
//!
//! `cargo test -p wso2-federate --test it interrupt -- --nocapture`

#![cfg(unix)]

use crate::support::*;

/// Starts an apply slowed by latency, and sends `signals` once the servers have seen `writes`
/// mutating requests.
async fn interrupted_apply(
    sim: &SimProcess,
    cli: &CliRun,
    extra: &[&str],
    signals: &[&str],
) -> CliOutput {
    sim.set_latency(120).await;
    let mut args = vec!["apply", "--yes"];
    args.extend_from_slice(extra);
    let child = cli.spawn(&args);
    sim.wait_for_writes(3).await;
    for s in signals {
        send_signal(child.id(), s);
    }
    let out = tokio::task::spawn_blocking(move || finish(child))
        .await
        .unwrap();
    sim.set_latency(0).await;
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_during_apply_settles_undoes_everything_and_exits_130() {
    let sim = SimProcess::start(&["--portals"]);
    let clean = sim.state().await;
    let cli = CliRun::new(&sim, "sigint");
    let out = interrupted_apply(&sim, &cli, &[], &["INT"]).await;
    assert_eq!(out.status.code(), Some(130), "{out}");
    for expected in [
        "interrupted: no new step starts; finishing the requests in flight, then undoing every change",
        "error: interrupted; every change was undone",
    ] {
        assert!(out.stderr.contains(expected), "no {expected:?}:\n{out}");
    }
    assert!(
        out.stderr.contains("ok    undo "),
        "the undo is shown:\n{out}"
    );
    assert_eq!(clean, sim.state().await, "the servers are as before");
    // The journal records a finished run with nothing left to undo: recover says so.
    let rec = cli.run(&["recover"], None).await;
    assert!(rec.ok(), "{rec}");
    assert!(
        rec.stdout.contains("Nothing to recover: the journal")
            && rec
                .stdout
                .contains("records no unfinished run and nothing left to undo"),
        "{rec}"
    );
    // A fresh apply goes ahead.
    let again = cli.run(&["apply", "--yes"], None).await;
    assert!(again.ok(), "{again}");
    println!("interrupt (CLI): SIGINT mid-apply: exit 130, back at the clean slate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_no_rollback_stops_exits_3_and_names_what_to_run() {
    let sim = SimProcess::start(&["--portals"]);
    let clean = sim.state().await;
    let cli = CliRun::new(&sim, "sigterm");
    let out = interrupted_apply(&sim, &cli, &["--no-rollback"], &["TERM"]).await;
    assert_eq!(out.status.code(), Some(3), "{out}");
    for expected in [
        "then stopping without undoing (--no-rollback)",
        "stopped without undoing: run `rollback` (or `recover --finish`) with the journal",
    ] {
        assert!(out.stderr.contains(expected), "no {expected:?}:\n{out}");
    }
    assert_ne!(clean, sim.state().await, "the changes made stay");
    // What remains is listed, and rollback takes it back.
    let listed = cli.run(&["journal"], None).await;
    assert!(listed.stdout.contains("to undo: "), "{listed}");
    let back = cli.run(&["rollback", "--yes"], None).await;
    assert!(back.ok(), "{back}");
    assert_eq!(clean, sim.state().await, "rollback brings the servers back");
    println!("interrupt (CLI): SIGTERM --no-rollback: exit 3, `rollback` restores the clean slate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_stops_at_once_and_recover_finishes_the_undo() {
    let sim = SimProcess::start(&["--portals"]);
    let clean = sim.state().await;
    let cli = CliRun::new(&sim, "twice");
    // Slow enough that the second signal lands while the first is still being handled.
    sim.set_latency(400).await;
    let child = cli.spawn(&["apply", "--yes"]);
    sim.wait_for_writes(3).await;
    send_signal(child.id(), "INT");
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    send_signal(child.id(), "INT");
    let out = tokio::task::spawn_blocking(move || finish(child))
        .await
        .unwrap();
    sim.set_latency(0).await;
    assert_eq!(out.status.code(), Some(130), "{out}");
    assert!(
        out.stderr
            .contains("stopped at once: the journal records what may have changed; run `wso2-federate recover`"),
        "{out}"
    );
    // Let the server finish what the dead process sent, then recover.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let rec = cli.run(&["recover"], None).await;
    assert!(rec.ok(), "{rec}");
    assert!(rec.stdout.contains("Recovered: "), "{rec}");
    assert_eq!(clean, sim.state().await, "recover brings the servers back");
    println!("interrupt (CLI): two SIGINTs: exit 130 at once, `recover` restores the clean slate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfinished_run_is_named_by_plan_and_doctor_and_apply_refuses_until_recover() {
    let sim = SimProcess::start(&["--portals"]);
    let clean = sim.state().await;
    let cli = CliRun::new(&sim, "unfinished");
    let died = cli.run(&["apply", "--yes"], Some(8)).await;
    assert!(!died.ok(), "{died}");
    let plan = cli.run(&["plan"], None).await;
    assert!(plan.ok(), "{plan}");
    assert!(
        plan.stdout.contains("records an unfinished apply run")
            && plan.stdout.contains("run `recover` before applying"),
        "plan names the unfinished run:\n{plan}"
    );
    let doctor = cli.run(&["doctor"], None).await;
    assert_eq!(doctor.status.code(), Some(4), "{doctor}");
    assert!(
        doctor.stdout.contains("[FAIL] journal: the journal")
            && doctor.stdout.contains("fix: run `wso2-federate recover`"),
        "doctor names the unfinished run and the fix:\n{doctor}"
    );
    let before = sim.writes().await;
    let apply = cli.run(&["apply", "--yes"], None).await;
    assert_eq!(apply.status.code(), Some(5), "{apply}");
    assert!(
        apply.stderr.contains("records an unfinished apply run")
            && apply.stderr.contains("run `recover`"),
        "{apply}"
    );
    assert_eq!(
        before,
        sim.writes().await,
        "the refused apply wrote nothing"
    );
    let rec = cli.run(&["recover"], None).await;
    assert!(rec.ok(), "{rec}");
    assert_eq!(clean, sim.state().await);
    let again = cli.run(&["recover"], None).await;
    assert!(
        again.ok() && again.stdout.contains("Nothing to recover"),
        "{again}"
    );
    println!(
        "interrupt (CLI): a run that died: named by plan and doctor, apply refused (exit 5), recover cleans up"
    );
}
