//! Provisioning users through SCIM2: one Bulk call vs one create at a time vs eight creates in
//! flight, against the sandbox's SCIM2 endpoint with an injected per-request latency.
//!
//! Run: `cargo bench -p wso2-federation --bench scim2_bulk` (prints figures; no thresholds).
//! `BENCH_RUNS=N` sets the repetitions (default 3), `BENCH_USERS` the users (default 200),
//! `BENCH_LATENCY_MS` the latency (default 20).

#![allow(clippy::unwrap_used, missing_docs, unreachable_pub, dead_code)]

mod common;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use wso2_is_client::UserName;
use wso2_is_client::scim2::{Bulk, BulkOperation, ScimUser};
use wso2_testkit::Sandbox;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn users(n: usize) -> Vec<ScimUser> {
    (0..n)
        .map(|i| {
            let name: UserName = format!("bench-user-{i:04}").parse().unwrap();
            ScimUser::new(&name)
                .with_password(format!("Bench-pw-{i:04}"))
                .with_name(format!("Given{i}"), format!("Family{i}"))
                .with_email(format!("bench-user-{i:04}@example.invalid"))
        })
        .collect()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Bulk,
    OneByOne,
    Concurrent(usize),
}

impl Mode {
    fn label(self) -> String {
        match self {
            Mode::Bulk => "SCIM2 Bulk".into(),
            Mode::OneByOne => "one by one".into(),
            Mode::Concurrent(n) => format!("one by one, {n} in flight"),
        }
    }
}

/// Provisions `n` users on a new sandbox; returns the wall time, the requests the server saw
/// (with their actions), and the most requests in flight.
async fn provision(mode: Mode, n: usize, latency: Duration) -> (Duration, Vec<String>, usize) {
    let sb = Sandbox::start().await.unwrap();
    sb.set_latency(latency);
    let is = common::seed::is_client(&sb);
    let scim = is.scim2();
    let list = users(n);
    sb.clear_requests();
    let t0 = Instant::now();
    match mode {
        Mode::Bulk => {
            let ops = list
                .iter()
                .enumerate()
                .map(|(i, u)| BulkOperation::create_user(format!("u{i}"), u).unwrap())
                .collect();
            let report = Bulk::new(ops).send(&scim).await.unwrap();
            assert!(report.all_succeeded(), "a Bulk operation failed");
        }
        Mode::OneByOne => {
            for u in &list {
                scim.users().create(u).await.unwrap();
            }
        }
        Mode::Concurrent(k) => {
            let users = scim.users();
            let results: Vec<_> = futures_util::stream::iter(list.iter())
                .map(|u| users.create(u))
                .buffer_unordered(k)
                .collect()
                .await;
            for r in results {
                r.unwrap();
            }
        }
    }
    let wall = t0.elapsed();
    let created = sb.is().with_tenant(wso2_testkit::SUPER_TENANT, |t| {
        t.map_or(0, |t| {
            t.users
                .keys()
                .filter(|k| k.starts_with("bench-user-"))
                .count()
        })
    });
    assert_eq!(created, n, "not every user was created");
    let actions = sb.is().requests().into_iter().map(|r| r.action).collect();
    (wall, actions, sb.is().max_in_flight())
}

fn main() {
    let runs = env_or("BENCH_RUNS", 3).max(1);
    let n = env_or("BENCH_USERS", 200);
    let latency = Duration::from_millis(env_or("BENCH_LATENCY_MS", 20) as u64);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    common::print_machine("at start");
    rt.block_on(async {
        println!(
            "SCIM2 user provisioning: {n} users, L = {} ms per request, {runs} runs each (a new sandbox per run)",
            latency.as_millis()
        );
        println!(
            "{:<28} | {:>30} | {:>8} | {:>9} | {:>12}",
            "mode", "wall ms median [min-max]", "requests", "in flight", "vs Bulk"
        );
        let mut bulk_median = None;
        for mode in [Mode::Bulk, Mode::OneByOne, Mode::Concurrent(8)] {
            let mut walls = Vec::new();
            let mut seen = None;
            let mut in_flight = 0;
            for _ in 0..runs {
                let (wall, actions, max) = provision(mode, n, latency).await;
                walls.push(wall.as_secs_f64() * 1000.0);
                in_flight = in_flight.max(max);
                seen = Some(actions);
            }
            walls.sort_by(|a, b| a.total_cmp(b));
            let median = walls[walls.len() / 2];
            let actions = seen.unwrap();
            let mut kinds: Vec<(String, usize)> = Vec::new();
            for a in &actions {
                match kinds.iter_mut().find(|(k, _)| k == a) {
                    Some((_, c)) => *c += 1,
                    None => kinds.push((a.clone(), 1)),
                }
            }
            let base = *bulk_median.get_or_insert(median);
            println!(
                "{:<28} | {:>10.1} [{:>8.1}-{:>8.1}] | {:>8} | {:>9} | {:>10.1}x  ({})",
                mode.label(),
                median,
                walls[0],
                walls[walls.len() - 1],
                actions.len(),
                in_flight,
                median / base,
                kinds
                    .iter()
                    .map(|(k, c)| format!("{c} {k}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    });
    common::print_machine("at end");
}
