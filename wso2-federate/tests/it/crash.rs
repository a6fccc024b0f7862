//! Crash matrix: `wso2-federate` runs as a separate process against `wso2-sim` (also a separate
//! process) and dies
//!
//! * right after each journal record of an apply in turn (the failpoint
//!   `WSO2_FEDERATE_CRASH_AFTER_RECORD=n` aborts the process as abruptly as SIGKILL would);
//! * from SIGKILL while each write of the apply is in flight (the simulator delays answers);
//! * right after each journal record of a rollback in turn.
//!
//! After each death, `rollback`, `recover`, or `recover --finish` followed by `destroy` (taken in
//! turn) must bring both servers back to their state before the apply, as the simulator's control
//! API reports it, and a fresh `apply` must then succeed.
//!
//! `cargo test -p wso2-federate --test it crash -- --nocapture` (the `wso2-sim`
//! binary must be built: `cargo build -p wso2-testkit --bin wso2-sim`)

use std::time::Duration;

use wso2_federation::plan::Plan;
use wso2_testkit::SandboxSnapshot;

use crate::support::*;

/// Simulators run side by side, each taking its share of the kill points in turn.
const SIMS: usize = 4;

#[derive(Debug, Clone, Copy)]
enum KillPoint {
    /// The apply aborts right after journal record n.
    ApplyRecord(usize),
    /// SIGKILL while the apply's nth write (counted over both servers) is in flight.
    InFlightWrite(usize),
    /// A rollback of a complete apply aborts right after its journal record n.
    RollbackRecord(usize),
}

impl std::fmt::Display for KillPoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ApplyRecord(n) => write!(f, "apply killed after journal record {n}"),
            Self::InFlightWrite(n) => write!(f, "apply killed (SIGKILL) during write {n}"),
            Self::RollbackRecord(n) => write!(f, "rollback killed after journal record {n}"),
        }
    }
}

/// How the operator recovers, taken in turn.
#[derive(Debug, Clone, Copy)]
enum Recovery {
    Rollback,
    Recover,
    FinishThenDestroy,
}

impl std::fmt::Display for Recovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Rollback => "rollback",
            Self::Recover => "recover",
            Self::FinishThenDestroy => "recover --finish, then destroy",
        })
    }
}

/// How a kill point ended: `Ok(note)` when consistent.
type Outcome = Result<String, String>;

async fn recover(cli: &CliRun, how: Recovery, undoing: bool) -> Result<(), String> {
    // A run that died before its first journal record left only its lease: `recover` is what
    // releases it (rollback and destroy have no journal to work from).
    let how = if cli.journal_records() == 0 {
        Recovery::Recover
    } else {
        how
    };
    match how {
        Recovery::Rollback => {
            let out = cli.run(&["rollback", "--yes"], None).await;
            if !out.ok() {
                return Err(format!("rollback failed:\n{out}"));
            }
        }
        Recovery::Recover => {
            let out = cli.run(&["recover"], None).await;
            if !out.ok() {
                return Err(format!("recover failed:\n{out}"));
            }
        }
        Recovery::FinishThenDestroy => {
            let out = cli.run(&["recover", "--finish"], None).await;
            if !out.ok() {
                return Err(format!("recover --finish failed:\n{out}"));
            }
            if undoing {
                // Finishing an interrupted rollback finishes its undo: nothing is left applied.
                let out = cli.run(&["destroy", "--yes"], None).await;
                return if out.ok() {
                    Ok(())
                } else {
                    Err(format!("destroy failed:\n{out}"))
                };
            }
            let plan = cli.run(&["plan", "--output", "json"], None).await;
            // `--output json` prints one object: {"ok", "exit_code", "command", "result", "error"}.
            let parsed: Result<Plan, String> =
                serde_json::from_str::<serde_json::Value>(&plan.stdout)
                    .map_err(|e| e.to_string())
                    .and_then(|v| {
                        serde_json::from_value(v["result"].clone()).map_err(|e| e.to_string())
                    });
            match parsed {
                Ok(p) if p.is_empty() => {}
                Ok(p) => {
                    return Err(format!(
                        "after recover --finish the plan is not empty:\n{p}"
                    ));
                }
                Err(e) => return Err(format!("plan --output json is not a plan ({e}):\n{plan}")),
            }
            let out = cli.run(&["destroy", "--yes"], None).await;
            if !out.ok() {
                return Err(format!("destroy failed:\n{out}"));
            }
        }
    }
    Ok(())
}

/// Whether the simulator is back at `clean`.
async fn at_clean_slate(sim: &SimProcess, clean: &SandboxSnapshot) -> Result<(), String> {
    let now = sim.state().await;
    // As the servers answer: on releases whose models carry more fields than the simulator
    // stored, a portal read and written back stores the `false` defaults they answer.
    let d = clean.diff_as_answered(&now);
    if d.is_empty() {
        Ok(())
    } else {
        Err(format!("not the clean slate:\n{d}"))
    }
}

/// Kills the apply while its nth write is in flight. Returns whether the kill landed while the
/// write was in flight (rather than just after its answer).
async fn kill_during_write(sim: &SimProcess, cli: &CliRun, n: usize) -> Result<bool, String> {
    sim.set_latency(150).await;
    let mut child = cli
        .command(&["apply", "--yes"], None)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let in_flight = loop {
        let mut writes: Vec<wso2_testkit::RequestRecord> = Vec::new();
        for server in ["is", "apim"] {
            writes.extend(
                sim.requests(server)
                    .await
                    .into_iter()
                    .filter(|r| r.mutating),
            );
        }
        writes.sort_by_key(|r| r.at_unix_ms);
        if let Some(w) = writes.get(n - 1) {
            let _ = child.kill();
            break w.status.is_none();
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("the apply ended ({status}) before its write {n}"));
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            return Err(format!("write {n} never came"));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    if status.success() {
        return Err("the apply was not killed".into());
    }
    // Let the server finish what the dead process sent.
    tokio::time::sleep(Duration::from_millis(400)).await;
    sim.set_latency(0).await;
    Ok(in_flight)
}

async fn run_kill_point(
    sim: &SimProcess,
    clean: &SandboxSnapshot,
    point: KillPoint,
    how: Recovery,
) -> Outcome {
    let cli = CliRun::new(sim, "crash");
    let mut note = String::new();
    match point {
        KillPoint::ApplyRecord(n) => {
            let out = cli.run(&["apply", "--yes"], Some(n)).await;
            if out.ok() {
                return Err(format!("the apply did not die at record {n}:\n{out}"));
            }
            let written = cli.journal_records();
            if written != n {
                return Err(format!(
                    "the apply died with {written} journal records, not {n}:\n{out}"
                ));
            }
        }
        KillPoint::InFlightWrite(n) => {
            if !kill_during_write(sim, &cli, n).await? {
                note = " (the write had just been answered)".into();
            }
        }
        KillPoint::RollbackRecord(n) => {
            let out = cli.run(&["apply", "--yes"], None).await;
            if !out.ok() {
                return Err(format!("the apply failed:\n{out}"));
            }
            let before = cli.journal_records();
            let out = cli.run(&["rollback", "--yes"], Some(n)).await;
            if out.ok() {
                return Err(format!("the rollback did not die at record {n}:\n{out}"));
            }
            let written = cli.journal_records() - before;
            if written != n {
                return Err(format!(
                    "the rollback died with {written} journal records, not {n}:\n{out}"
                ));
            }
        }
    }
    recover(&cli, how, matches!(point, KillPoint::RollbackRecord(_))).await?;
    at_clean_slate(sim, clean).await?;
    // A fresh apply after that succeeds.
    let out = cli.run(&["apply", "--yes"], None).await;
    if !out.ok() {
        return Err(format!("the fresh apply after recovery failed:\n{out}"));
    }
    Ok(note)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_killed_at_every_journal_write_and_mid_request_recovers_to_a_clean_slate() {
    crash_matrix(&["--portals"], "crash matrix").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_newest_pair_the_killed_cli_recovers_to_a_clean_slate() {
    crash_matrix(
        &["--portals", "--is-version", "7.3", "--apim-version", "4.7"],
        "crash matrix (IS 7.3 + APIM 4.7)",
    )
    .await;
}

async fn crash_matrix(sim_args: &[&str], title: &str) {
    let sims: Vec<SimProcess> = (0..SIMS).map(|_| SimProcess::start(sim_args)).collect();
    let mut cleans = Vec::new();
    for sim in &sims {
        cleans.push(sim.state().await);
    }
    let clean = &cleans[0];

    // What an uninterrupted apply and rollback journal, and how many writes the apply sends.
    let (apply_records, rollback_records, writes) = {
        let sim = &sims[0];
        let cli = CliRun::new(sim, "reference");
        let out = cli.run(&["apply", "--yes"], None).await;
        assert!(out.ok(), "{out}");
        let apply_records = cli.journal_records();
        let mut writes = 0;
        for server in ["is", "apim"] {
            writes += sim
                .requests(server)
                .await
                .iter()
                .filter(|r| r.mutating)
                .count();
        }
        let out = cli.run(&["rollback", "--yes"], None).await;
        assert!(out.ok(), "{out}");
        let rollback_records = cli.journal_records() - apply_records;
        at_clean_slate(sim, clean).await.unwrap();
        sim.reset(clean).await;
        (apply_records, rollback_records, writes)
    };
    println!(
        "{title}: an apply writes {apply_records} journal records and sends {writes} writes; \
         its rollback writes {rollback_records} records"
    );

    let recoveries = [
        Recovery::Rollback,
        Recovery::Recover,
        Recovery::FinishThenDestroy,
    ];
    let mut points = Vec::new();
    points.extend((1..=apply_records).map(KillPoint::ApplyRecord));
    points.extend((1..=writes).map(KillPoint::InFlightWrite));
    points.extend((1..=rollback_records).map(KillPoint::RollbackRecord));
    let cases: Vec<(KillPoint, Recovery)> = points
        .into_iter()
        .enumerate()
        .map(|(i, p)| (p, recoveries[i % recoveries.len()]))
        .filter(|(p, how)| selected(&format!("{p}, then {how}")))
        .collect();

    // Each simulator takes every SIMS-th case, in order; the cases of one simulator run one after
    // the other (each ends by resetting it to the clean state).
    let mut lanes: Vec<Vec<(KillPoint, Recovery)>> = vec![Vec::new(); SIMS];
    for (i, c) in cases.into_iter().enumerate() {
        lanes[i % SIMS].push(c);
    }
    let results = futures_util::future::join_all(sims.iter().zip(&cleans).zip(lanes).map(
        |((sim, clean), lane)| async move {
            let mut out = Vec::new();
            for (point, how) in lane {
                let outcome = run_kill_point(sim, clean, point, how).await;
                sim.reset(clean).await;
                out.push((point, how, outcome));
            }
            out
        },
    ))
    .await;

    let mut covered = 0;
    let mut total = 0;
    let mut in_flight_hits = 0;
    for (point, how, outcome) in results.into_iter().flatten() {
        total += 1;
        match outcome {
            Ok(note) => {
                covered += 1;
                if matches!(point, KillPoint::InFlightWrite(_)) && note.is_empty() {
                    in_flight_hits += 1;
                }
                println!("  ok {point}, then {how}{note}");
            }
            Err(why) => println!("  INCONSISTENT {point}, then {how}: {why}"),
        }
    }
    if filtered() {
        println!("{title}: FILTERED by MATRIX_ONLY (not the full matrix)");
    }
    println!(
        "{title}: {covered} kill points covered of {total} ({apply_records} apply journal \
         records, {writes} writes in flight ({in_flight_hits} caught mid-request), \
         {rollback_records} rollback journal records)"
    );
    assert_eq!(
        covered, total,
        "kill points that did not recover are listed above"
    );
}
