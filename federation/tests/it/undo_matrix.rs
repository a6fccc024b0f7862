//! Undo fault matrix: the seed apply fails at its last write (the second portal switch), and
//! every request of the rollback that follows meets every fault kind, one case at a time. The
//! rollback either absorbs the fault (it settles it by reading back) and ends on the clean slate,
//! or reports the failed undo as `RollbackIncomplete` naming the journal; re-running `rollback`
//! from that journal (alternately with the same federation and with a new one, as a new process
//! would build it, with fresh clients) then reaches the clean slate, and a third run changes
//! nothing.
//!
//! `cargo test -p wso2-federation --test it undo_matrix -- --nocapture`

use std::sync::{Arc, Mutex};

use wso2_federation::engine::Event;
use wso2_federation::{FederationError, RunOptions};
use wso2_testkit::{FaultKind, FaultRule, Sandbox};

use crate::fault_matrix::{ATTEMPTS, HANG, TIMEOUT, Verdict, report};
use crate::support::*;

const PARALLEL: usize = 8;

/// The fault that makes the apply fail at its last write: the second portal switch.
fn last_step_fault(sb: &Sandbox) {
    sb.apim().inject(FaultRule::nth(
        "updateApplication",
        2,
        FaultKind::SoapFault {
            message: "Injected fault at the last step".into(),
        },
    ));
}

/// The requests of the rollback after the apply failed at its last step, numbered per action
/// over the whole run (as fault rules count them).
async fn undo_calls(pair: Option<(&str, &str)>) -> Vec<Call> {
    let sb = matrix_sandbox_of(HANG, pair).await;
    let before = sb.snapshot();
    last_step_fault(&sb);
    let journal = TempJournal::new();
    let fed = matrix_builder(&sb, TIMEOUT, 8)
        .journal(journal.path())
        .build()
        .unwrap();
    let marks: Arc<Mutex<Option<(usize, usize)>>> = Arc::default();
    let (is, apim, m) = (sb.is().clone(), sb.apim().clone(), marks.clone());
    let sink: wso2_federation::engine::EventSink = Arc::new(move |e: &Event| {
        if matches!(e, Event::UndoStarted { .. }) {
            let mut m = m.lock().unwrap();
            if m.is_none() {
                *m = Some((is.requests().len(), apim.requests().len()));
            }
        }
    });
    let result = fed.apply(&RunOptions::new().events(sink)).await;
    assert!(
        matches!(result, Err(FederationError::RolledBack { .. })),
        "the apply must fail at its last step and roll back: {result:?}"
    );
    assert_eq!(
        difference(&sb, &before, &sb.snapshot(), equality(pair)),
        None,
        "the rollback left the start"
    );
    let (is_mark, apim_mark) = marks.lock().unwrap().unwrap();
    let mut out = Vec::new();
    for (name, log, mark) in [
        ("is", sb.is().requests(), is_mark),
        ("apim", sb.apim().requests(), apim_mark),
    ] {
        out.extend(calls(name, &log).into_iter().skip(mark));
    }
    out
}

struct Case {
    call: Call,
    kind: FaultKind,
    /// Re-run the rollback with a new federation and fresh clients (else the same one).
    from_journal_only: bool,
    /// The pair of releases (`None`: the seed pair).
    pair: Option<(&'static str, &'static str)>,
}

async fn run_case(case: &Case) -> Verdict {
    for _ in 0..ATTEMPTS {
        match run_once(case).await {
            // Another failure ended the run before the undo fault: not this case.
            None => continue,
            Some(v) => return v,
        }
    }
    Verdict::Inconsistent(format!(
        "the undo fault was never reached in {ATTEMPTS} attempts"
    ))
}

/// One attempt; `None` when the undo fault was not reached and the run was consistent.
async fn run_once(case: &Case) -> Option<Verdict> {
    let sb = matrix_sandbox_of(HANG, case.pair).await;
    let before = sb.snapshot();
    last_step_fault(&sb);
    let target = server(&sb, case.call.server);
    target.inject(FaultRule::nth(
        case.call.action.clone(),
        case.call.nth,
        case.kind.clone(),
    ));
    let journal = TempJournal::new();
    let fed = matrix_builder(&sb, TIMEOUT, 8)
        .journal(journal.path())
        .build()
        .unwrap();
    let result = fed.apply(&journal.options()).await;
    // The fault rule of the last step fired too: count only the undo fault.
    let fired = target
        .stats()
        .faults_fired
        .saturating_sub(u64::from(case.call.server == "apim"));
    sb.clear_faults();
    let verdict = judge(case, &sb, &fed, &journal, &before, result).await;
    match verdict {
        Verdict::CleanSlate | Verdict::RerunClean if fired == 0 => None,
        Verdict::Inconsistent(why) if fired == 0 => Some(Verdict::Inconsistent(format!(
            "(the undo fault was not reached; an unrelated failure was) {why}"
        ))),
        v => Some(v),
    }
}

/// How states compare on a pair: exactly on the seed pair; as the servers answer on the
/// newest, whose models carry every field of its WSDLs (a portal read and written back stores
/// the `false` defaults APIM 4.7 answers).
fn equality(pair: Option<(&str, &str)>) -> Equality {
    if pair.is_some() {
        Equality::AsAnswered
    } else {
        Equality::Exact
    }
}

async fn judge(
    case: &Case,
    sb: &Sandbox,
    fed: &wso2_federation::Federation,
    journal: &TempJournal,
    before: &wso2_testkit::SandboxSnapshot,
    result: Result<wso2_federation::ApplyReport, FederationError>,
) -> Verdict {
    let eq = equality(case.pair);
    match result {
        Err(FederationError::RolledBack { .. }) => {
            if let Some(d) = difference(sb, before, &sb.snapshot(), eq) {
                return Verdict::Inconsistent(format!(
                    "reported as rolled back, but changes are left:\n{d}"
                ));
            }
            Verdict::CleanSlate
        }
        Err(FederationError::RollbackIncomplete {
            journal: named,
            report,
            ..
        }) => {
            let undo_failures = report.undo_failures;
            if named != journal.0 {
                return Verdict::Inconsistent(format!(
                    "RollbackIncomplete names the journal {}, not {}",
                    named.display(),
                    journal.0.display()
                ));
            }
            if undo_failures.is_empty() {
                return Verdict::Inconsistent("RollbackIncomplete lists no failed undo".into());
            }
            let rerun = if case.from_journal_only {
                let fresh = matrix_builder(sb, TIMEOUT, 8)
                    .journal(journal.path())
                    .build()
                    .unwrap();
                fresh.rollback(&journal.options()).await.map(|_| ())
            } else {
                fed.rollback(&journal.options()).await.map(|_| ())
            };
            if let Err(e) = rerun {
                return Verdict::Inconsistent(format!(
                    "the re-run of rollback failed: {e} (undo failures: {undo_failures:?})"
                ));
            }
            if let Some(d) = difference(sb, before, &sb.snapshot(), eq) {
                return Verdict::Inconsistent(format!(
                    "the re-run of rollback left changes (undo failures: {undo_failures:?}):\n{d}"
                ));
            }
            if let Err(e) = fed.rollback(&journal.options()).await {
                return Verdict::Inconsistent(format!("a third rollback failed: {e}"));
            }
            if difference(sb, before, &sb.snapshot(), eq).is_some() {
                return Verdict::Inconsistent("a third rollback changed something".into());
            }
            Verdict::RerunClean
        }
        other => Verdict::Inconsistent(format!(
            "expected RolledBack or RollbackIncomplete, got {other:?}"
        )),
    }
}

async fn undo_matrix(pair: Option<(&'static str, &'static str)>, title: &str) {
    let undo = undo_calls(pair).await;
    let kinds = FaultKind::all();
    let mut cases = Vec::new();
    for call in &undo {
        for kind in &kinds {
            if !selected(&format!("{call} {}", kind_name(kind))) {
                continue;
            }
            cases.push(Case {
                call: call.clone(),
                kind: kind.clone(),
                from_journal_only: cases.len() % 2 == 1,
                pair,
            });
        }
    }
    println!(
        "{title}: the rollback after a failure at the last step sends {} requests: {}",
        undo.len(),
        undo.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let rows = run_pool(cases, PARALLEL, |case| async move {
        let verdict = run_case(&case).await;
        (
            format!("{} (undo)", case.call),
            kind_name(&case.kind),
            verdict,
        )
    })
    .await;
    let (run, consistent) = report(title, &rows);
    println!("{title}: {run} cases run, {consistent} consistent");
    assert_eq!(consistent, run, "inconsistent cases above");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_in_each_undo_call_is_reported_and_a_rerun_of_rollback_cleans_up() {
    undo_matrix(None, "undo matrix").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_newest_pair_a_fault_in_each_undo_call_is_reported_and_a_rerun_cleans_up() {
    undo_matrix(
        Some(crate::fault_matrix::NEWEST),
        "undo matrix (IS 7.3 + APIM 4.7)",
    )
    .await;
}
