//! Forward fault matrix: every request of the seed apply (the plan's reads, the steps' reads and
//! writes) meets every fault kind the testkit can inject, one case at a time. Each run must end
//! either fully applied (when the step settled the fault as a success: the next plan is empty and
//! the servers hold what a faultless apply leaves) or on a clean slate equal to the starting
//! snapshot (and a second rollback then changes nothing).
//!
//! `cargo test -p wso2-federation --all-features --test it fault_matrix -- --nocapture`

use std::sync::{Arc, Mutex};
use std::time::Duration;

use wso2_federation::RunOptions;
use wso2_federation::engine::Event;
use wso2_testkit::{FaultKind, FaultRule, Sandbox};

use crate::support::*;

/// Client request timeout in the matrices; the hanging faults last a little longer.
pub const TIMEOUT: Duration = Duration::from_millis(2000);
pub const HANG: Duration = Duration::from_millis(2300);
/// Attempts of a case whose fault was not reached (an unrelated request of a busy test machine
/// timed out first, and the run ended before it).
pub const ATTEMPTS: usize = 3;
/// Cases run at the same time (each on its own sandbox).
const PARALLEL: usize = 8;

/// What a faultless apply of the seed setup sends and leaves.
pub struct Reference {
    /// Every request, in order per server, with the phase it belongs to.
    pub calls: Vec<(Call, &'static str)>,
    /// What it changed on the servers, as comparable lines.
    pub delta: Vec<String>,
}

/// Applies the seed setup on a fresh matrix sandbox and records its requests: those logged
/// before the first step started are the plan's reads.
pub async fn reference() -> Reference {
    let sb = matrix_sandbox(HANG).await;
    let before = sb.snapshot();
    let fed = matrix_builder(&sb, TIMEOUT, 8).build().unwrap();
    let journal = TempJournal::new();
    let plan_reads: Arc<Mutex<Option<(usize, usize)>>> = Arc::default();
    let (is, apim, marks) = (sb.is().clone(), sb.apim().clone(), plan_reads.clone());
    let sink: wso2_federation::engine::EventSink = Arc::new(move |e: &Event| {
        if matches!(e, Event::StepStarted { .. }) {
            let mut m = marks.lock().unwrap();
            if m.is_none() {
                *m = Some((is.requests().len(), apim.requests().len()));
            }
        }
    });
    fed.apply(&RunOptions::new(&journal.0).events(sink))
        .await
        .unwrap();
    let (is_plan, apim_plan) = plan_reads.lock().unwrap().unwrap();
    let mut out = Vec::new();
    for (name, log, plan) in [
        ("is", sb.is().requests(), is_plan),
        ("apim", sb.apim().requests(), apim_plan),
    ] {
        for (i, call) in calls(name, &log).into_iter().enumerate() {
            let phase = if i < plan {
                "plan read"
            } else if call.mutating {
                "write"
            } else {
                "step read"
            };
            out.push((call, phase));
        }
    }
    Reference {
        calls: out,
        delta: state_delta(&sb, &before, &sb.snapshot()),
    }
}

/// How one case ended.
#[derive(Debug)]
pub enum Verdict {
    /// Fully applied: the fault was settled as a success.
    Applied,
    /// Failed and back on the starting state.
    CleanSlate,
    /// Anything else, with why.
    Inconsistent(String),
}

struct Case {
    call: Call,
    phase: &'static str,
    kind: FaultKind,
}

async fn run_case(case: &Case, applied: &[String]) -> Verdict {
    for _ in 0..ATTEMPTS {
        let sb = matrix_sandbox(HANG).await;
        let before = sb.snapshot();
        let target = server(&sb, case.call.server);
        target.inject(FaultRule::nth(
            case.call.action.clone(),
            case.call.nth,
            case.kind.clone(),
        ));
        let fed = matrix_builder(&sb, TIMEOUT, 8).build().unwrap();
        let journal = TempJournal::new();
        let result = fed.apply(&journal.options()).await;
        let fired = target.stats().faults_fired;
        sb.clear_faults();
        let verdict = settle(&sb, &fed, &journal, &before, result, applied).await;
        match verdict {
            // Another failure ended the run before the fault: consistent, but not this case.
            Verdict::Applied | Verdict::CleanSlate if fired == 0 => continue,
            Verdict::Inconsistent(why) if fired == 0 => {
                return Verdict::Inconsistent(format!(
                    "(the injected fault was not reached; an unrelated failure was) {why}"
                ));
            }
            v => return v,
        }
    }
    Verdict::Inconsistent(format!(
        "the fault was never reached in {ATTEMPTS} attempts"
    ))
}

/// Judges the end of a faulted apply: applied as a faultless apply would leave it, or a clean
/// slate that a second rollback leaves alone.
pub async fn settle(
    sb: &Sandbox,
    fed: &wso2_federation::Federation,
    journal: &TempJournal,
    before: &wso2_testkit::SandboxSnapshot,
    result: Result<wso2_federation::ApplyReport, wso2_federation::FederationError>,
    applied: &[String],
) -> Verdict {
    match result {
        Ok(_) => {
            let plan = match fed.plan().await {
                Ok(p) => p,
                Err(e) => return Verdict::Inconsistent(format!("applied, then plan failed: {e}")),
            };
            if !plan.is_empty() {
                return Verdict::Inconsistent(format!(
                    "applied, but the next plan is not empty:\n{plan}"
                ));
            }
            let delta = state_delta(sb, before, &sb.snapshot());
            let diff = line_diff(applied, &delta, 12);
            if diff.is_empty() {
                Verdict::Applied
            } else {
                Verdict::Inconsistent(format!(
                    "applied, but the servers differ from a faultless apply:\n{}",
                    diff.join("\n")
                ))
            }
        }
        Err(e) => {
            let after = sb.snapshot();
            if *before != after {
                return Verdict::Inconsistent(format!(
                    "failed ({e}) and left changes behind:\n{}",
                    before.diff(&after)
                ));
            }
            // Undoing twice is harmless (a run that failed while planning wrote no journal).
            if !journal.0.exists() {
                return Verdict::CleanSlate;
            }
            if let Err(e2) = fed.rollback(&journal.options()).await {
                return Verdict::Inconsistent(format!(
                    "failed ({e}), clean, but a second rollback failed: {e2}"
                ));
            }
            let again = sb.snapshot();
            if *before != again {
                return Verdict::Inconsistent(format!(
                    "failed ({e}), clean, but a second rollback changed:\n{}",
                    before.diff(&again)
                ));
            }
            Verdict::CleanSlate
        }
    }
}

/// Prints the table of a matrix and returns (cases, consistent) and the failures.
pub fn report(title: &str, rows: &[(String, String, Verdict)]) -> (usize, usize) {
    let mut by_kind: std::collections::BTreeMap<&str, (usize, usize, usize)> = Default::default();
    for (_, kind, v) in rows {
        let e = by_kind.entry(kind.as_str()).or_default();
        match v {
            Verdict::Applied => e.0 += 1,
            Verdict::CleanSlate => e.1 += 1,
            Verdict::Inconsistent(_) => e.2 += 1,
        }
    }
    println!("{title}: by fault kind (applied / clean slate / INCONSISTENT)");
    for (kind, (a, c, i)) in &by_kind {
        println!("  {kind:<24} {a:>4} {c:>4} {i:>4}");
    }
    let mut consistent = 0;
    for (case, kind, v) in rows {
        match v {
            Verdict::Inconsistent(why) => println!("  INCONSISTENT {case} {kind}: {why}"),
            other => {
                if filtered() {
                    println!("  {other:?}: {case} {kind}");
                }
                consistent += 1
            }
        }
    }
    if filtered() {
        println!("{title}: FILTERED by MATRIX_ONLY (not the full matrix)");
    }
    (rows.len(), consistent)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_at_every_request_of_the_apply_ends_applied_or_clean() {
    let reference = reference().await;
    let kinds = FaultKind::all();
    let mut cases = Vec::new();
    for (call, phase) in &reference.calls {
        for kind in &kinds {
            if !selected(&format!("{call} ({phase}) {}", kind_name(kind))) {
                continue;
            }
            cases.push(Case {
                call: call.clone(),
                phase,
                kind: kind.clone(),
            });
        }
    }
    let writes = reference.calls.iter().filter(|(c, _)| c.mutating).count();
    println!(
        "fault matrix: the seed apply sends {} requests ({writes} writes); {} fault kinds",
        reference.calls.len(),
        kinds.len()
    );
    let applied = &reference.delta;
    let rows = run_pool(cases, PARALLEL, |case| async move {
        let verdict = run_case(&case, applied).await;
        (
            format!("{} ({})", case.call, case.phase),
            kind_name(&case.kind),
            verdict,
        )
    })
    .await;
    let (run, consistent) = report("fault matrix", &rows);
    println!("fault matrix: {run} cases run, {consistent} consistent");
    assert_eq!(consistent, run, "inconsistent cases above");
}
