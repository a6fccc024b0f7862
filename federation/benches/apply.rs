//! How close the seed apply and its rollback come to the network's limit.
//!
//! Run: `cargo bench -p wso2-federation --bench apply` (prints figures; no thresholds).
//! The seed setup is that of the integration tests (see `common/mod.rs`).
//! `BENCH_RUNS=N` sets the repetitions per configuration (default 3).
//!
//! The command measured is [`Federation::apply`]: plan (reads only) then the steps. Its wall time
//! is compared with its critical path: the longest chain of requests that must happen one after
//! another, computed from measurements, not typed in:
//!
//! * the plan's depth: in a run with no concurrency limit in force (`concurrency(64)`) at
//!   L = 100 ms, a plan read waits only for the read before it in its own chain, so the number
//!   of latency rounds among the requests before the first step starts is the plan's depth;
//! * each step's chain: in a sequential run (`concurrency(1)`, one step at a time per server)
//!   at L = 100 ms, every request is attributed to the step whose start and finish events
//!   bracket its arrival on that step's server; the requests of a step that arrive within L/2
//!   of each other were sent together, so the step's chain is the number of such rounds;
//! * the step DAG (dependencies from the journal's plan): the longest dependency path with the
//!   steps' chains as weights.
//!
//! Rollback: the last write of the apply (the second portal switch) fails; the engine undoes
//! every step in reverse dependency order. Its wall time (first undo started to last undo
//! finished) is compared with the longest path of the reverse DAG weighted by the undo chains
//! measured the same way.

#![allow(
    clippy::unwrap_used,
    missing_docs,
    unreachable_pub,
    dead_code,
    clippy::print_stdout
)]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::seed::{TempJournal, seed_builder};
use wso2_federation::engine::journal::fold_journal;
use wso2_federation::engine::{Event, Server, StepId};
use wso2_federation::steps::StepSpec;
use wso2_testkit::{FaultKind, FaultRule, RequestRecord, Sandbox};

fn unix_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// One run: what the servers saw, what the engine said, and how long it took.
struct Run {
    wall: Duration,
    /// (arrival, server, record)
    requests: Vec<(Server, RequestRecord)>,
    /// (unix µs, event)
    events: Vec<(u64, Event)>,
    /// Steps with their server and dependencies, from the journal.
    dag: Vec<(StepId, Server, Vec<StepId>)>,
    max_in_flight: (usize, usize),
    ok: bool,
}

impl Run {
    fn count(&self, server: Server) -> usize {
        self.requests.iter().filter(|(s, _)| *s == server).count()
    }

    fn mutating(&self, server: Server) -> usize {
        self.requests
            .iter()
            .filter(|(s, r)| *s == server && r.mutating)
            .count()
    }

    fn first_event_us(&self, pick: impl Fn(&Event) -> bool) -> Option<u64> {
        self.events.iter().find(|(_, e)| pick(e)).map(|(t, _)| *t)
    }

    fn last_event_us(&self, pick: impl Fn(&Event) -> bool) -> Option<u64> {
        self.events
            .iter()
            .rev()
            .find(|(_, e)| pick(e))
            .map(|(t, _)| *t)
    }

    /// The undo phase: first undo started to last undo finished.
    fn undo_wall(&self) -> Option<Duration> {
        let start = self.first_event_us(|e| matches!(e, Event::UndoStarted { .. }))?;
        let end =
            self.last_event_us(|e| matches!(e, Event::Undone { .. } | Event::UndoFailed { .. }))?;
        Some(Duration::from_micros(end.saturating_sub(start)))
    }
}

/// Runs the seed apply on a fresh sandbox (with the portals' service providers already
/// registered when `portals`) with latency `l` and concurrency `c`.
async fn run_apply(portals: bool, l: Duration, c: usize, fault: Option<FaultRule>) -> Run {
    let sb = Sandbox::start().await.unwrap();
    if portals {
        sb.apim().ensure_portal_apps();
    }
    sb.set_latency(l);
    if let Some(rule) = fault {
        sb.apim().inject(rule);
    }
    let journal = TempJournal::new();
    let fed = seed_builder(&sb)
        .concurrency(c)
        .journal(journal.path())
        .build()
        .unwrap();
    let events: Arc<Mutex<Vec<(u64, Event)>>> = Arc::default();
    let sink = events.clone();
    let options = journal.options().events(Arc::new(move |e: &Event| {
        sink.lock().unwrap().push((unix_us(), e.clone()))
    }));
    sb.clear_requests();
    let t0 = Instant::now();
    let result = fed.apply(&options).await;
    let wall = t0.elapsed();
    let mut requests: Vec<(Server, RequestRecord)> = sb
        .is()
        .requests()
        .into_iter()
        .map(|r| (Server::Is, r))
        .chain(sb.apim().requests().into_iter().map(|r| (Server::Apim, r)))
        .collect();
    requests.sort_by_key(|(_, r)| r.at_unix_ms);
    let folded = fold_journal::<StepSpec>(&journal.0).unwrap();
    let dag = folded
        .steps
        .iter()
        .map(|s| (s.id.clone(), s.server, s.deps.clone()))
        .collect();
    let events = std::mem::take(&mut *events.lock().unwrap());
    Run {
        wall,
        requests,
        events,
        dag,
        max_in_flight: (sb.is().max_in_flight(), sb.apim().max_in_flight()),
        ok: result.is_ok(),
    }
}

/// Requests arriving within `gap` of the first of a round were sent together: the number of
/// rounds is the chain length of a set of requests.
fn rounds(arrivals_ms: &mut [u64], gap_ms: u64) -> usize {
    arrivals_ms.sort_unstable();
    let mut n = 0;
    let mut start: Option<u64> = None;
    for &a in arrivals_ms.iter() {
        if start.is_none_or(|s| a >= s + gap_ms) {
            n += 1;
            start = Some(a);
        }
    }
    n
}

/// What one step (or undo) sent, as measured.
#[derive(Debug, Clone, Default)]
struct StepCost {
    actions: Vec<String>,
    chain: usize,
}

/// Attributes each request of a sequential run to the step whose window brackets it, on the
/// step's server. `undo` picks the undo windows instead of the apply windows.
fn attribute(run: &Run, l: Duration, undo: bool) -> (BTreeMap<StepId, StepCost>, usize) {
    let mut open: HashMap<StepId, u64> = HashMap::new();
    let mut windows: Vec<(StepId, u64, u64)> = Vec::new();
    for (t, e) in &run.events {
        match (e, undo) {
            (Event::StepStarted { step }, false) | (Event::UndoStarted { step, .. }, true) => {
                open.insert(step.clone(), *t);
            }
            (Event::StepSucceeded { step, .. } | Event::StepFailed { step, .. }, false)
            | (Event::Undone { step, .. } | Event::UndoFailed { step, .. }, true) => {
                if let Some(s) = open.remove(step) {
                    windows.push((step.clone(), s, *t));
                }
            }
            _ => {}
        }
    }
    let server_of: HashMap<&StepId, Server> = run.dag.iter().map(|(i, s, _)| (i, *s)).collect();
    // The engine reports an undo as started before it waits for its server's permit: with one
    // permit per server, a step whose window overlaps an earlier-finishing one on the same
    // server really began when that one ended.
    windows.sort_by_key(|(_, _, e)| *e);
    let mut last_end: HashMap<Server, u64> = HashMap::new();
    for (id, s, e) in windows.iter_mut() {
        if let Some(server) = server_of.get(id) {
            let prev = last_end.entry(*server).or_insert(0);
            if *prev > *s && *prev < *e {
                *s = *prev;
            }
            *prev = *e;
        }
    }
    // Attribution needs one step at a time per server.
    for (i, (a, sa, ea)) in windows.iter().enumerate() {
        for (b, sb, eb) in &windows[i + 1..] {
            let overlap = ea.min(eb).saturating_sub(*sa.max(sb));
            assert!(
                server_of.get(a) != server_of.get(b) || overlap < 2_000,
                "steps {a} and {b} ran at the same time on one server: the run is not sequential"
            );
        }
    }
    let mut per_step: BTreeMap<StepId, (Vec<String>, Vec<u64>)> = BTreeMap::new();
    let mut unattributed = 0;
    for (server, r) in &run.requests {
        let hits: Vec<&(StepId, u64, u64)> = windows
            .iter()
            .filter(|(id, s, e)| {
                server_of.get(id) == Some(server)
                    && r.at_unix_ms >= s / 1000
                    && r.at_unix_ms <= e.div_ceil(1000)
            })
            .collect();
        // Arrival times are whole milliseconds: a request can touch the window of the step
        // that finished in the millisecond it arrived. It belongs to the one that started last
        // (a request is answered at least L after it arrives, so never in its step's last
        // millisecond).
        match hits.iter().max_by_key(|(_, s, _)| *s) {
            Some((id, _, _)) => {
                let entry = per_step.entry(id.clone()).or_default();
                entry.0.push(r.action.clone());
                entry.1.push(r.at_unix_ms);
            }
            None => unattributed += 1,
        }
    }
    let gap = (l.as_millis() as u64 / 2).max(1);
    let costs = per_step
        .into_iter()
        .map(|(id, (actions, mut at))| {
            let chain = rounds(&mut at, gap);
            (id, StepCost { actions, chain })
        })
        .collect();
    (costs, unattributed)
}

/// Longest path through the DAG, each step weighted by its chain; `reverse` walks from
/// dependents to dependencies (the undo order). Returns the length and the path.
fn longest_path(
    dag: &[(StepId, Server, Vec<StepId>)],
    weight: &BTreeMap<StepId, StepCost>,
    reverse: bool,
) -> (usize, Vec<StepId>) {
    let w = |id: &StepId| weight.get(id).map_or(0, |c| c.chain);
    // Predecessors in the walking order.
    let mut preds: HashMap<&StepId, Vec<&StepId>> = HashMap::new();
    for (id, _, deps) in dag {
        preds.entry(id).or_default();
        for d in deps {
            if reverse {
                preds.entry(d).or_default().push(id);
            } else {
                preds.entry(id).or_default().push(d);
            }
        }
    }
    let mut memo: HashMap<&StepId, (usize, Vec<StepId>)> = HashMap::new();
    fn best<'a>(
        id: &'a StepId,
        preds: &HashMap<&'a StepId, Vec<&'a StepId>>,
        w: &dyn Fn(&StepId) -> usize,
        memo: &mut HashMap<&'a StepId, (usize, Vec<StepId>)>,
    ) -> (usize, Vec<StepId>) {
        if let Some(v) = memo.get(id) {
            return v.clone();
        }
        let mut top = (0, Vec::new());
        for p in preds.get(id).into_iter().flatten() {
            let cand = best(p, preds, w, memo);
            if cand.0 > top.0 {
                top = cand;
            }
        }
        let mut path = top.1;
        path.push(id.clone());
        let v = (top.0 + w(id), path);
        memo.insert(id, v.clone());
        v
    }
    let mut out = (0, Vec::new());
    for (id, _, _) in dag {
        let cand = best(id, &preds, &w, &mut memo);
        if cand.0 > out.0 {
            out = cand;
        }
    }
    out
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Median, min and max.
fn stats(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn last_write_fails() -> FaultRule {
    // The apply's last two writes are the two portal switches (updateApplication on APIM);
    // the second one to arrive fails.
    FaultRule::nth(
        "updateApplication",
        2,
        FaultKind::SoapFault {
            message: "injected at the last step".into(),
        },
    )
}

fn print_costs(title: &str, costs: &BTreeMap<StepId, StepCost>, run: &Run) {
    println!("  {title}");
    for (id, server, deps) in &run.dag {
        let c = costs.get(id).cloned().unwrap_or_default();
        let deps: Vec<&str> = deps.iter().map(StepId::as_str).collect();
        println!(
            "    {:<38} {:<4} chain {:>2}  requests {:>2}  {:<60}  after [{}]",
            id.as_str(),
            server.to_string(),
            c.chain,
            c.actions.len(),
            c.actions.join(", "),
            deps.join(", ")
        );
    }
}

async fn scenario(portals: bool, runs: usize) {
    {
        let cal_l = Duration::from_millis(100);

        // --- Critical path of the apply, from measurements -----------------------------
        let seq = run_apply(portals, cal_l, 1, None).await;
        assert!(seq.ok, "the sequential calibration apply failed");
        let (costs, unattributed) = attribute(&seq, cal_l, false);
        let free = run_apply(portals, cal_l, 64, None).await;
        assert!(free.ok, "the unconstrained calibration apply failed");
        let first_step = free
            .first_event_us(|e| matches!(e, Event::StepStarted { .. }))
            .unwrap()
            / 1000;
        let mut plan_at: Vec<u64> = free
            .requests
            .iter()
            .filter(|(_, r)| r.at_unix_ms < first_step)
            .map(|(_, r)| r.at_unix_ms)
            .collect();
        let plan_reads = plan_at.len();
        let plan_depth = rounds(&mut plan_at, cal_l.as_millis() as u64 / 2);
        let mut seq_plan_actions: Vec<String> = Vec::new();
        let seq_first = seq
            .first_event_us(|e| matches!(e, Event::StepStarted { .. }))
            .unwrap()
            / 1000;
        for (s, r) in &seq.requests {
            if r.at_unix_ms < seq_first {
                seq_plan_actions.push(format!("{s}:{}", r.action));
            }
        }
        let (steps_cp, path) = longest_path(&seq.dag, &costs, false);
        let cp = plan_depth + steps_cp;

        println!(
            "=== scenario: {} ===",
            if portals {
                "portal service providers already registered (as after a first login of each portal)"
            } else {
                "fresh sandbox (portals never logged into: the portal steps bring their service providers into being)"
            }
        );
        println!("critical path (measured at L = {} ms):", cal_l.as_millis());
        println!(
            "  plan: {plan_reads} reads in {plan_depth} round(s) when nothing limits concurrency; reads: {}",
            seq_plan_actions.join(", ")
        );
        print_costs(
            "steps (sequential run, requests attributed by step events):",
            &costs,
            &seq,
        );
        if unattributed > plan_reads {
            println!(
                "  note: {} requests outside plan and step windows",
                unattributed - plan_reads
            );
        }
        let names: Vec<&str> = path.iter().map(StepId::as_str).collect();
        println!(
            "  longest step path: {} = {steps_cp} requests",
            names.join(" -> ")
        );
        println!("  critical path of apply = plan {plan_depth} + steps {steps_cp} = {cp} requests");
        println!();

        // --- Apply at L = 0, 20, 100 ms: concurrent vs sequential ------------------------
        println!(
            "{:>6} | {:>26} | {:>26} | {:>9} | {:>14} | {:>7}",
            "L ms",
            "concurrent (8) wall ms",
            "sequential (1) wall ms",
            "requests",
            "ratio conc/seq",
            "seq/con"
        );
        println!(
            "{:>6} | {:>26} | {:>26} | {:>9} | {:>14} | {:>7}",
            "", "median [min-max]", "median [min-max]", "IS+APIM", "wall/(cp x L)", ""
        );
        for l_ms in [0u64, 20, 100] {
            let l = Duration::from_millis(l_ms);
            let mut conc = Vec::new();
            let mut sequ = Vec::new();
            let mut counts = None;
            let mut in_flight = (0, 0);
            for _ in 0..runs {
                let a = run_apply(portals, l, 8, None).await;
                assert!(a.ok);
                let b = run_apply(portals, l, 1, None).await;
                assert!(b.ok);
                let c = (a.count(Server::Is), a.count(Server::Apim));
                let d = (b.count(Server::Is), b.count(Server::Apim));
                assert_eq!(c, d, "the sequential run sent other requests");
                if let Some(prev) = counts {
                    assert_eq!(prev, c, "request counts differ between runs");
                }
                counts = Some(c);
                in_flight = (
                    in_flight.0.max(a.max_in_flight.0),
                    in_flight.1.max(a.max_in_flight.1),
                );
                conc.push(ms(a.wall));
                sequ.push(ms(b.wall));
            }
            let (cm, cmin, cmax) = stats(conc);
            let (sm, smin, smax) = stats(sequ);
            let (is, apim) = counts.unwrap();
            let ratio = |w: f64| {
                if l_ms == 0 {
                    "n/a".to_owned()
                } else {
                    format!("{:.3}", w / (cp as f64 * l_ms as f64))
                }
            };
            println!(
                "{:>6} | {:>8.1} [{:>7.1}-{:>7.1}] | {:>8.1} [{:>7.1}-{:>7.1}] | {:>4}+{:<4} | {:>6} / {:>5} | {:>6.2}x",
                l_ms,
                cm,
                cmin,
                cmax,
                sm,
                smin,
                smax,
                is,
                apim,
                ratio(cm),
                ratio(sm),
                sm / cm
            );
            println!(
                "{:>6} | max in flight (concurrent run): IS {}, APIM {}",
                "", in_flight.0, in_flight.1
            );
        }
        println!();

        // --- Rollback: the last write fails ---------------------------------------------
        let rseq = run_apply(portals, cal_l, 1, Some(last_write_fails())).await;
        assert!(!rseq.ok, "the injected failure did not fail the apply");
        let (ucosts, _) = attribute(&rseq, cal_l, true);
        let undone: Vec<(StepId, Server, Vec<StepId>)> = rseq
            .dag
            .iter()
            .filter(|(id, _, _)| ucosts.contains_key(id))
            .cloned()
            .collect();
        // Dependencies between steps that were undone (others have nothing to wait for).
        let undone_dag: Vec<(StepId, Server, Vec<StepId>)> = undone
            .iter()
            .map(|(id, s, deps)| {
                (
                    id.clone(),
                    *s,
                    deps.iter()
                        .filter(|d| ucosts.contains_key(*d))
                        .cloned()
                        .collect(),
                )
            })
            .collect();
        let (rcp, rpath) = longest_path(&rseq.dag, &ucosts, true);
        println!(
            "rollback bench: the apply's last write (2nd portal updateApplication on APIM) fails; undo of every step"
        );
        println!(
            "critical path of the undo (measured at L = {} ms):",
            cal_l.as_millis()
        );
        print_costs("undo of each step (sequential run):", &ucosts, &rseq);
        let _ = undone_dag;
        let names: Vec<&str> = rpath.iter().map(StepId::as_str).collect();
        println!(
            "  longest undo path: {} = {rcp} requests",
            names.join(" -> ")
        );
        println!(
            "{:>6} | {:>26} | {:>26} | {:>14} | {:>7}",
            "L ms",
            "undo wall ms, concurrent",
            "undo wall ms, sequential",
            "wall/(cp x L)",
            "seq/con"
        );
        for l_ms in [0u64, 20, 100] {
            let l = Duration::from_millis(l_ms);
            let mut conc = Vec::new();
            let mut sequ = Vec::new();
            for _ in 0..runs {
                let a = run_apply(portals, l, 8, Some(last_write_fails())).await;
                assert!(!a.ok);
                let b = run_apply(portals, l, 1, Some(last_write_fails())).await;
                assert!(!b.ok);
                conc.push(ms(a.undo_wall().unwrap()));
                sequ.push(ms(b.undo_wall().unwrap()));
            }
            let (cm, cmin, cmax) = stats(conc);
            let (sm, smin, smax) = stats(sequ);
            let ratio = |w: f64| {
                if l_ms == 0 {
                    "n/a".to_owned()
                } else {
                    format!("{:.3}", w / (rcp as f64 * l_ms as f64))
                }
            };
            println!(
                "{:>6} | {:>8.1} [{:>7.1}-{:>7.1}] | {:>8.1} [{:>7.1}-{:>7.1}] | {:>6} / {:>5} | {:>6.2}x",
                l_ms,
                cm,
                cmin,
                cmax,
                sm,
                smin,
                smax,
                ratio(cm),
                ratio(sm),
                sm / cm
            );
        }
    }
}

fn main() {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "federation apply bench: the seed setup (as tests/it/support.rs `seed`), a new sandbox per run"
    );
    println!(
        "command measured: Federation::apply = plan (reads) + steps; {runs} runs per configuration"
    );
    println!();
    common::print_machine("at start");
    rt.block_on(async {
        scenario(false, runs).await;
        println!();
        scenario(true, runs).await;
    });
    common::print_machine("at end");
}
