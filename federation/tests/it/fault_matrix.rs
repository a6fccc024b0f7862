//! Forward fault matrix: every request of the seed apply (the plan's reads, the steps' reads and
//! writes) meets every fault kind the testkit can inject, one case at a time. Each run must end
//! either fully applied (when the step settled the fault as a success: the next plan is empty and
//! the servers hold what a faultless apply leaves) or on a clean slate equal to the starting
//! snapshot (and a second rollback then changes nothing).
//!
//! Two scenarios: the seed apply on fresh servers (every object created), and an updating apply
//! over an older version of the federation (grant types, a requested claim, a role mapping, a
//! user's roles and the portals' login type changed: every object updated, pre-images taken).
//!
//! `cargo test -p wso2-federation --test it fault_matrix -- --nocapture`

use std::sync::{Arc, Mutex};
use std::time::Duration;

use wso2_apim_client::portals::SwitchOptions;
use wso2_federation::engine::Event;
use wso2_federation::{Federation, FederationBuilder, RunOptions};
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

/// Which apply the matrix faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// The seed setup on fresh servers: every object is created.
    Create,
    /// Version 2 of the setup over version 1: every object is updated.
    Update,
    /// The seed setup on fresh servers of the newest pair (IS 7.3 through REST and SCIM2, APIM
    /// 4.7): every object is created.
    Newest,
}

/// The newest pair of releases the matrices also run on.
pub const NEWEST: (&str, &str) = ("7.3", "4.7");

impl Scenario {
    /// How the end state is compared: exactly for creates (a clean slate is the starting
    /// snapshot); as the servers answer for updates (a restored pre-image is written back as it
    /// was read, with the defaults Axis2 answers for absent fields; see [`as_answered`]).
    pub fn equality(self) -> Equality {
        match self {
            Scenario::Create => Equality::Exact,
            // The models carry every field of the newest WSDLs: a portal read and written back
            // stores the `false` defaults APIM 4.7 answers for fields it had not stored.
            Scenario::Update | Scenario::Newest => Equality::AsAnswered,
        }
    }
}

/// The setup in version 1 (`v2 = false`: fewer grant types, no requested e-mail claim, one role
/// mapping, `api_user` in one role, portals with local login kept) or 2 (the seed setup's grant
/// types, the e-mail claim requested, both mappings, `api_user` in both roles, portals federated
/// only), with the matrices' client settings.
pub fn versioned_builder(
    is: wso2_is_client::IsClient,
    apim: wso2_apim_client::ApimClient,
    v2: bool,
) -> FederationBuilder {
    let b = Federation::builder()
        .is(is)
        .apim(apim)
        .role("publisher_role")
        .role("user_role")
        .user("api_publisher", PUBLISHER_PASSWORD, ["publisher_role"])
        .map_role("publisher_role", "Internal/publisher")
        .client_id(FIXED_CLIENT_ID)
        .client_secret(CANARY_CLIENT_SECRET)
        .concurrency(8);
    if v2 {
        b.user("api_user", USER_PASSWORD, ["user_role", "publisher_role"])
            .map_role("user_role", "Internal/subscriber")
            .grant_types(["authorization_code", "refresh_token", "password"])
            .request_claim("http://wso2.org/claims/emailaddress")
    } else {
        b.user("api_user", USER_PASSWORD, ["user_role"])
            .grant_types(["authorization_code", "refresh_token"])
            .switch_options(SwitchOptions {
                local_login_fallback: true,
                ..SwitchOptions::default()
            })
    }
}

/// A matrix sandbox ready for `scenario` (version 1 applied for an update), with empty request
/// logs, the federation to apply on it and its journal (version 1's, for an update).
pub async fn scenario_sandbox(scenario: Scenario) -> (Sandbox, Federation, TempJournal) {
    let sb = matrix_sandbox_of(HANG, (scenario == Scenario::Newest).then_some(NEWEST)).await;
    let journal = TempJournal::new();
    let fed = match scenario {
        Scenario::Create | Scenario::Newest => matrix_builder(&sb, TIMEOUT, 8)
            .journal(journal.path())
            .build()
            .unwrap(),
        Scenario::Update => {
            // One pair of clients for both versions: their connections are reused.
            let is: wso2_is_client::IsClient =
                client_builder(&sb, sb.is(), sb.is().admin(), TIMEOUT)
                    .build()
                    .unwrap();
            let apim: wso2_apim_client::ApimClient =
                client_builder(&sb, sb.apim(), sb.apim().admin(), TIMEOUT)
                    .build()
                    .unwrap();
            let v1 = versioned_builder(is.clone(), apim.clone(), false)
                .journal(journal.path())
                .build()
                .unwrap();
            v1.apply(&journal.options()).await.unwrap();
            sb.clear_requests();
            versioned_builder(is, apim, true)
                .journal(journal.path())
                .build()
                .unwrap()
        }
    };
    (sb, fed, journal)
}

/// Applies the scenario's federation on a fresh matrix sandbox and records its requests: those
/// logged before the first step started are the plan's reads.
pub async fn reference(scenario: Scenario) -> Reference {
    let (sb, fed, _journal) = scenario_sandbox(scenario).await;
    let before = sb.snapshot();
    if scenario == Scenario::Update {
        let plan = fed.plan().await.unwrap();
        let updates = plan
            .changes
            .iter()
            .filter(|c| c.action == wso2_federation::plan::PlanAction::Update)
            .count();
        println!("fault matrix (updating apply): the plan updates {updates} objects:\n{plan}");
        sb.clear_requests();
    }
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
    fed.apply(&RunOptions::new().events(sink)).await.unwrap();
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
        delta: delta(&sb, &before, &sb.snapshot(), scenario.equality()),
    }
}

/// How one case ended.
#[derive(Debug)]
pub enum Verdict {
    /// Fully applied: the fault was settled as a success.
    Applied,
    /// Failed and back on the starting state.
    CleanSlate,
    /// Failed, an undo failed too and was reported (`RollbackIncomplete` naming the journal),
    /// and a re-run of `rollback` from the journal reached the starting state.
    RerunClean,
    /// Anything else, with why.
    Inconsistent(String),
}

struct Case {
    scenario: Scenario,
    call: Call,
    phase: &'static str,
    kind: FaultKind,
}

async fn run_case(case: &Case, applied: &[String]) -> Verdict {
    for _ in 0..ATTEMPTS {
        let (sb, fed, journal) = scenario_sandbox(case.scenario).await;
        let before = sb.snapshot();
        let target = server(&sb, case.call.server);
        target.inject(FaultRule::nth(
            case.call.action.clone(),
            case.call.nth,
            case.kind.clone(),
        ));
        let result = fed.apply(&journal.options()).await;
        let fired = target.stats().faults_fired;
        sb.clear_faults();
        let eq = case.scenario.equality();
        let verdict = settle(&sb, &fed, &journal, &before, result, applied, eq).await;
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
    eq: Equality,
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
            let delta = delta(sb, before, &sb.snapshot(), eq);
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
            if let Some(d) = difference(sb, before, &sb.snapshot(), eq) {
                return Verdict::Inconsistent(format!(
                    "failed ({e}) and left changes behind:\n{d}"
                ));
            }
            // Undoing twice is harmless. A run that failed while planning (before any step: no
            // run report) recorded nothing to roll back; a rollback then would undo the previous
            // apply, which is not this case.
            if !journal.0.exists() || e.report().is_none() {
                return Verdict::CleanSlate;
            }
            // The journal may hold an earlier version's runs (the updating scenario): its
            // settings differ by design, so the binding check is overridden here.
            let mut again = journal.options();
            again.ignore_journal_binding = true;
            if let Err(e2) = fed.rollback(&again).await {
                return Verdict::Inconsistent(format!(
                    "failed ({e}), clean, but a second rollback failed: {e2}"
                ));
            }
            if let Some(d) = difference(sb, before, &sb.snapshot(), eq) {
                return Verdict::Inconsistent(format!(
                    "failed ({e}), clean, but a second rollback changed:\n{d}"
                ));
            }
            Verdict::CleanSlate
        }
    }
}

/// Prints the table of a matrix and returns (cases, consistent) and the failures.
pub fn report(title: &str, rows: &[(String, String, Verdict)]) -> (usize, usize) {
    let mut by_kind: std::collections::BTreeMap<&str, [usize; 4]> = Default::default();
    for (_, kind, v) in rows {
        let e = by_kind.entry(kind.as_str()).or_default();
        e[match v {
            Verdict::Applied => 0,
            Verdict::CleanSlate => 1,
            Verdict::RerunClean => 2,
            Verdict::Inconsistent(_) => 3,
        }] += 1;
    }
    println!(
        "{title}: by fault kind (applied / clean slate / undo failure reported, clean after a \
         re-run of rollback / INCONSISTENT)"
    );
    for (kind, [a, c, r, i]) in &by_kind {
        println!("  {kind:<24} {a:>4} {c:>4} {r:>4} {i:>4}");
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

/// Runs the forward matrix of `scenario`; returns (cases, consistent).
async fn forward_matrix(scenario: Scenario, title: &str) -> (usize, usize) {
    let reference = reference(scenario).await;
    let kinds = FaultKind::all();
    let mut cases = Vec::new();
    for (call, phase) in &reference.calls {
        for kind in &kinds {
            if !selected(&format!("{call} ({phase}) {}", kind_name(kind))) {
                continue;
            }
            cases.push(Case {
                scenario,
                call: call.clone(),
                phase,
                kind: kind.clone(),
            });
        }
    }
    let writes = reference.calls.iter().filter(|(c, _)| c.mutating).count();
    println!(
        "{title}: the apply sends {} requests ({writes} writes); {} fault kinds",
        reference.calls.len(),
        kinds.len()
    );
    let applied = std::sync::Arc::new(reference.delta);
    let rows = run_pool(cases, PARALLEL, |case| {
        let applied = applied.clone();
        async move {
            let verdict = run_case(&case, &applied).await;
            (
                format!("{} ({})", case.call, case.phase),
                kind_name(&case.kind),
                verdict,
            )
        }
    })
    .await;
    report(title, &rows)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_at_every_request_of_the_apply_ends_applied_or_clean() {
    let (run, consistent) = forward_matrix(Scenario::Create, "fault matrix").await;
    println!("fault matrix: {run} cases run, {consistent} consistent");
    assert_eq!(consistent, run, "inconsistent cases above");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_at_every_request_of_the_apply_on_the_newest_pair_ends_applied_or_clean() {
    let title = "fault matrix (IS 7.3 + APIM 4.7)";
    let (run, consistent) = forward_matrix(Scenario::Newest, title).await;
    println!("{title}: {run} cases run, {consistent} consistent");
    assert_eq!(consistent, run, "inconsistent cases above");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_at_every_request_of_an_updating_apply_ends_applied_or_restored() {
    let title = "fault matrix (updating apply)";
    let (run, consistent) = forward_matrix(Scenario::Update, title).await;
    println!("{title}: {run} cases run, {consistent} consistent");
    assert_eq!(consistent, run, "inconsistent cases above");
}
