//! How close the apply and its rollback come to the floor the data dependencies allow.
//!
//! Run: `cargo bench -p wso2-federation --bench apply` (prints figures; no thresholds).
//! `BENCH_RUNS=N` repeats each timed configuration (default 3); `BENCH_QUICK=1` runs only
//! L = 100 ms, once per configuration.
//!
//! The command measured is [`Federation::apply`] of the seed setup (the crate's test utility
//! `seed_builder`: two roles, two users, the OAuth application / service provider, the identity
//! provider on APIM with two role mappings, the publisher and devportal portals switched), on
//! the seed pair (IS 5.9 + APIM 3.0, SOAP throughout) and on the newest pair (IS 7.3 through
//! REST and SCIM2, APIM 4.7), on fresh servers (the portals' service providers do not exist yet)
//! and with the portals registered (as after their first login). The releases are pinned in the
//! builder (as `is.version` / `apim.version` do in the CLI's settings); detection costs one more
//! round, measured separately.
//!
//! **Critical path, from the requests actually sent.** With a latency of L = 100 ms injected per
//! request, a request can only be caused by answers that arrived at least L after their requests
//! did, so the requests of a run fall into *rounds*: arrivals closer than L/2 to the first of a
//! round were sent together. The number of rounds of a run is its critical path in requests, as
//! the code ran it (whatever waits it adds beyond the data's); wall / (rounds × L) is then close
//! to 1 by construction, so the ratio that matters is wall / (floor × L).
//!
//! **The floor** is computed from the data dependencies of each pair ([`floor_model`]): each
//! request the federation needs, with the answers it needs first; its longest path. The run
//! lease (issue 10: one writer per APIM) adds rounds no data dependency asks for, counted beside:
//! a first apply takes it before reading the servers, and gives it back after the last write
//! (the check that it is still ours rides with the last steps): "data 6 + lease 2"; a later
//! apply reads the servers first (so that an apply with nothing to do writes nothing, not even
//! the lease), then again under the lease: "data 6 + lease 3" (scenario "again").
//!
//! Rollback: the apply's last write (the second portal switch) fails; the engine undoes every
//! step. Its rounds are those after the failed request's round up to the lease's release check.

#![allow(
    clippy::unwrap_used,
    missing_docs,
    unreachable_pub,
    dead_code,
    clippy::print_stdout
)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::seed::{TempJournal, seed_builder};
use wso2_federation::lease::LEASE_NAME;
use wso2_testkit::{FaultKind, FaultRule, RequestRecord, Sandbox};

/// A pair of releases.
#[derive(Clone, Copy)]
struct Pair {
    label: &'static str,
    is: &'static str,
    apim: &'static str,
}

const PAIRS: [Pair; 2] = [
    Pair {
        label: "seed pair IS 5.9 + APIM 3.0 (SOAP)",
        is: "5.9",
        apim: "3.0",
    },
    Pair {
        label: "newest pair IS 7.3 + APIM 4.7 (IS through REST and SCIM2)",
        is: "7.3",
        apim: "4.7",
    },
];

/// One request as the servers saw it.
#[derive(Debug, Clone)]
struct Req {
    server: &'static str,
    action: String,
    at_ms: u64,
    lease: bool,
    mutating: bool,
    failed: bool,
}

struct Run {
    wall: Duration,
    requests: Vec<Req>,
    ok: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Start {
    /// A first apply on servers whose portals were never logged into.
    Fresh,
    /// A first apply on servers whose portals were logged into.
    Registered,
    /// An apply whose journal records an earlier run (applied, then destroyed): the servers
    /// are read before the lease, then again under it.
    Again,
}

impl Start {
    fn label(self) -> &'static str {
        match self {
            Self::Fresh => "fresh",
            Self::Registered => "registered",
            Self::Again => "again (the journal records an earlier apply and destroy)",
        }
    }

    /// The lease's rounds: take it, (a later apply: read the servers again under it), give it
    /// back (its ownership check is read with the last steps).
    fn lease_rounds(self) -> usize {
        match self {
            Self::Fresh | Self::Registered => 2,
            Self::Again => 3,
        }
    }
}

fn records(server: &'static str, rs: Vec<RequestRecord>) -> impl Iterator<Item = Req> {
    rs.into_iter().map(move |r| Req {
        server,
        lease: r.body.contains(LEASE_NAME) || r.query.contains(LEASE_NAME),
        action: r.action,
        at_ms: r.at_unix_ms,
        mutating: r.mutating,
        failed: r.fault.is_some(),
    })
}

async fn run_apply(pair: Pair, start: Start, l: Duration, fail_last: bool, pin: bool) -> Run {
    let sb = Sandbox::builder()
        .is_version(pair.is)
        .apim_version(pair.apim)
        .start()
        .await
        .unwrap();
    if start == Start::Registered {
        sb.apim().ensure_portal_apps();
    }
    let journal = TempJournal::new();
    let mut builder = seed_builder(&sb).journal(journal.path());
    if pin {
        builder = builder.is_version(pair.is).apim_version(pair.apim);
    }
    let fed = builder.build().unwrap();
    if start == Start::Again {
        fed.apply(&journal.options()).await.unwrap();
        fed.destroy(&journal.options()).await.unwrap();
    }
    sb.set_latency(l);
    if fail_last {
        sb.apim().inject(last_write_fails());
    }
    sb.clear_requests();
    let t0 = Instant::now();
    let result = fed.apply(&journal.options()).await;
    let wall = t0.elapsed();
    let mut requests: Vec<Req> = records("IS", sb.is().requests())
        .chain(records("APIM", sb.apim().requests()))
        .collect();
    requests.sort_by_key(|r| r.at_ms);
    Run {
        wall,
        requests,
        ok: result.is_ok(),
    }
}

/// The second portal switch (the apply's last write) fails.
fn last_write_fails() -> FaultRule {
    FaultRule::nth(
        "updateApplication",
        2,
        FaultKind::SoapFault {
            message: "injected at the last write".into(),
        },
    )
}

/// The requests grouped into rounds: arrivals within L/2 of a round's first were sent together.
fn rounds(requests: &[Req], l: Duration) -> Vec<Vec<Req>> {
    let gap = (l.as_millis() as u64 / 2).max(1);
    let mut out: Vec<Vec<Req>> = Vec::new();
    let mut start = None;
    for r in requests {
        if start.is_none_or(|s| r.at_ms >= s + gap) {
            out.push(Vec::new());
            start = Some(r.at_ms);
        }
        if let Some(last) = out.last_mut() {
            last.push(r.clone());
        }
    }
    out
}

/// Where the rounds of a run went.
#[derive(Debug, Default, Clone, Copy)]
struct Phases {
    /// Before the lease: version probes (when not pinned) and, for a later apply, the first
    /// plan's reads.
    before_lease: usize,
    /// Taking the lease.
    lease: usize,
    /// Under the lease, before the first write: the plan's reads (again, for a later apply).
    reread: usize,
    /// From the first write to the last before the release (the steps; in a failed run, the
    /// steps up to the failure).
    steps: usize,
    /// After the failed request, before the release (the undo).
    undo: usize,
    /// Giving the lease back.
    release: usize,
    total: usize,
}

fn phases(rs: &[Vec<Req>]) -> Phases {
    let lease_take = rs.iter().position(|r| {
        r.iter()
            .any(|q| q.lease && q.mutating && q.action != "deleteApplication")
    });
    let lease_give = rs
        .iter()
        .rposition(|r| r.iter().any(|q| q.lease && q.action == "deleteApplication"));
    let first_write = rs
        .iter()
        .position(|r| r.iter().any(|q| q.mutating && !q.lease));
    let failed = rs.iter().position(|r| r.iter().any(|q| q.failed));
    let total = rs.len();
    let (Some(take), Some(give), Some(write)) = (lease_take, lease_give, first_write) else {
        return Phases {
            total,
            ..Phases::default()
        };
    };
    // A failed run's release reads the lease (still ours?) in the round before its delete; a
    // run that succeeded read it with its last step.
    let give = if give > 0 && rs[give - 1].iter().all(|q| q.lease) {
        give - 1
    } else {
        give
    };
    // Taking the lease ends at the first round after its create that reads anything else.
    let reread = (take + 1..write)
        .find(|&i| rs[i].iter().any(|q| !q.lease))
        .unwrap_or(write);
    let steps_end = failed.map_or(give, |f| f + 1);
    Phases {
        before_lease: take,
        lease: reread - take,
        reread: write - reread,
        steps: steps_end.saturating_sub(write),
        undo: failed.map_or(0, |f| give.saturating_sub(f + 1)),
        release: total - give,
        total,
    }
}

fn show_rounds(rs: &[Vec<Req>]) {
    for (i, r) in rs.iter().enumerate() {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for q in r {
            let name = format!(
                "{}:{}{}{}",
                q.server,
                q.action,
                if q.lease { "(lease)" } else { "" },
                if q.failed { "(FAILED)" } else { "" }
            );
            *counts.entry(name).or_default() += 1;
        }
        let list: Vec<String> = counts
            .into_iter()
            .map(|(n, c)| if c > 1 { format!("{n} x{c}") } else { n })
            .collect();
        println!("    round {:>2}: {}", i + 1, list.join(", "));
    }
}

/// A request the federation needs and the requests whose answers it needs first.
struct Need {
    name: &'static str,
    after: &'static [&'static str],
}

/// The data dependencies of the seed setup on `pair` from `start`, with the safety rule that
/// nothing is written on APIM before the IS side succeeded. Returns (apply, rollback) needs.
fn floor_model(pair: Pair, start: Start) -> (Vec<Need>, Vec<Need>) {
    let soap = pair.is == "5.9";
    let mut apply = vec![Need {
        name: "plan: every read at once",
        after: &[],
    }];
    let is_done: &'static [&'static str] = if soap {
        apply.extend([
            Need {
                name: "IS registerOAuthApplicationData",
                after: &["plan: every read at once"],
            },
            Need {
                name: "IS createApplication",
                after: &["plan: every read at once"],
            },
            // IS 5.x stores only the name and description on create: the id comes from a read.
            Need {
                name: "IS getApplication",
                after: &["IS createApplication"],
            },
            Need {
                name: "IS updateApplication",
                after: &["IS getApplication", "IS registerOAuthApplicationData"],
            },
            Need {
                name: "IS addRole",
                after: &["plan: every read at once"],
            },
            Need {
                name: "IS addUser",
                after: &["IS addRole"],
            },
        ]);
        &["IS updateApplication", "IS addUser"]
    } else {
        apply.extend([
            // The application, its OIDC inbound and claims in one create (201 + Location).
            Need {
                name: "IS POST applications",
                after: &["plan: every read at once"],
            },
            Need {
                name: "IS POST scim2/Users",
                after: &["plan: every read at once"],
            },
            // The groups name their members by SCIM id.
            Need {
                name: "IS POST scim2/Groups",
                after: &["IS POST scim2/Users"],
            },
        ]);
        &["IS POST applications", "IS POST scim2/Groups"]
    };
    apply.push(Need {
        name: "APIM addIdP",
        after: is_done,
    });
    if start == Start::Fresh {
        // Registration asks for no IS object: the portal's login endpoint makes APIM create
        // its service provider, which is then read for the switch.
        apply.extend([
            Need {
                name: "APIM portal login endpoint",
                after: &["plan: every read at once"],
            },
            Need {
                name: "APIM getApplication (portal)",
                after: &["APIM portal login endpoint"],
            },
            Need {
                name: "APIM portal updateApplication",
                after: &["APIM addIdP", "APIM getApplication (portal)"],
            },
        ]);
    } else {
        apply.push(Need {
            name: "APIM portal updateApplication",
            after: &["APIM addIdP"],
        });
    }
    let app_delete = if soap {
        "IS deleteApplication"
    } else {
        "IS DELETE applications"
    };
    let rollback = vec![
        Need {
            name: "undo reads at once",
            after: &[],
        },
        Need {
            name: "APIM portal restore",
            after: &["undo reads at once"],
        },
        Need {
            name: "APIM deleteIdP",
            after: &["APIM portal restore"],
        },
        Need {
            name: app_delete,
            after: &["APIM deleteIdP"],
        },
    ];
    (apply, rollback)
}

/// The longest chain of `needs`, in requests.
fn longest(needs: &[Need]) -> usize {
    fn depth(name: &str, needs: &[Need]) -> usize {
        let need = needs.iter().find(|n| n.name == name).unwrap();
        1 + need
            .after
            .iter()
            .map(|a| depth(a, needs))
            .max()
            .unwrap_or(0)
    }
    needs
        .iter()
        .map(|n| depth(n.name, needs))
        .max()
        .unwrap_or(0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Median, min and max.
fn stats(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

/// What one scenario measured, for the summary line.
struct Figures {
    apply: Phases,
    rollback: Phases,
    floor: (usize, usize),
    ratio_100: (f64, f64),
}

async fn scenario(pair: Pair, start: Start, latencies: &[u64], runs: usize) -> Figures {
    println!();
    println!("=== {}, {} ===", pair.label, start.label());
    let (apply_needs, undo_needs) = floor_model(pair, start);
    let floor = (longest(&apply_needs), longest(&undo_needs));
    let lease_rounds = start.lease_rounds();
    println!(
        "floor from the data dependencies: apply {} + lease {lease_rounds} = {}, rollback {} (+ release 2)",
        floor.0,
        floor.0 + lease_rounds,
        floor.1
    );
    let l100 = Duration::from_millis(100);

    // The rounds, at L = 100 ms.
    let run = run_apply(pair, start, l100, false, true).await;
    assert!(run.ok, "the apply failed");
    let rs = rounds(&run.requests, l100);
    let apply = phases(&rs);
    let (is_n, apim_n) = (
        run.requests.iter().filter(|r| r.server == "IS").count(),
        run.requests.iter().filter(|r| r.server == "APIM").count(),
    );
    println!(
        "apply: {} rounds = before the lease {} + lease {} + read under it {} + steps {} + release {}; requests IS {is_n}, APIM {apim_n}",
        apply.total, apply.before_lease, apply.lease, apply.reread, apply.steps, apply.release
    );
    show_rounds(&rs);
    let detected = run_apply(pair, start, l100, false, false).await;
    assert!(detected.ok, "the apply (releases detected) failed");
    let drs = rounds(&detected.requests, l100);
    println!(
        "  with the releases detected instead of pinned: {} rounds (+{}: the probes before the plan)",
        drs.len(),
        drs.len().saturating_sub(rs.len())
    );

    let run = run_apply(pair, start, l100, true, true).await;
    assert!(!run.ok, "the injected fault did not fail the apply");
    let rs = rounds(&run.requests, l100);
    let rollback = phases(&rs);
    println!(
        "rollback after the last write failed: {} rounds of undo (+ release {}); the whole run: {} rounds",
        rollback.undo, rollback.release, rollback.total
    );
    show_rounds(&rs);

    println!(
        "  L ms | apply wall ms median [min-max] | wall/(floor x L) | wall/(rounds x L) | rollback wall ms (undo rounds) | wall/(floor x L)"
    );
    let mut ratio_100 = (0.0, 0.0);
    for &l_ms in latencies {
        let l = Duration::from_millis(l_ms);
        let mut walls = Vec::new();
        let mut undo_walls = Vec::new();
        for _ in 0..runs {
            let run = run_apply(pair, start, l, false, true).await;
            assert!(run.ok);
            walls.push(ms(run.wall));
            // The rollback's wall: from the failed request's answer to the release's first request.
            let run = run_apply(pair, start, l, true, true).await;
            assert!(!run.ok);
            let failed = run.requests.iter().find(|r| r.failed).unwrap().at_ms;
            // The release's check: the last lease read before its delete.
            let give = run
                .requests
                .iter()
                .rposition(|r| r.lease && r.action == "deleteApplication")
                .unwrap();
            let release = run.requests[..give]
                .iter()
                .rev()
                .find(|r| r.lease)
                .unwrap()
                .at_ms;
            undo_walls.push(release.saturating_sub(failed + l_ms) as f64);
        }
        let (med, lo, hi) = stats(walls);
        let (umed, ulo, uhi) = stats(undo_walls);
        let floor_l = ((floor.0 + lease_rounds) as f64) * l_ms as f64;
        let rounds_l = apply.total as f64 * l_ms as f64;
        let undo_floor_l = floor.1 as f64 * l_ms as f64;
        let r_apply = med / floor_l;
        let r_undo = umed / undo_floor_l;
        if l_ms == 100 {
            ratio_100 = (r_apply, r_undo);
        }
        println!(
            "  {l_ms:>4} | {med:>8.1} [{lo:>7.1}-{hi:>7.1}]      | {r_apply:>16.3} | {:>17.3} | {umed:>7.1} [{ulo:>6.1}-{uhi:>6.1}] ({:>2})  | {r_undo:>16.3}",
            med / rounds_l,
            rollback.undo
        );
    }
    Figures {
        apply,
        rollback,
        floor,
        ratio_100,
    }
}

fn main() {
    let quick = std::env::var("BENCH_QUICK").is_ok_and(|v| v == "1");
    let runs: usize = if quick {
        1
    } else {
        std::env::var("BENCH_RUNS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3)
            .max(1)
    };
    let latencies: &[u64] = if quick { &[100] } else { &[100, 20] };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "federation apply bench: the seed setup, a new sandbox per run; {runs} run(s) per configuration"
    );
    common::print_machine("at start");
    let mut summary = Vec::new();
    rt.block_on(async {
        for pair in PAIRS {
            for start in [Start::Fresh, Start::Registered, Start::Again] {
                let f = scenario(pair, start, latencies, runs).await;
                summary.push((pair, start, f));
            }
        }
    });
    common::print_machine("at end");
    for (pair, start, f) in &summary {
        println!(
            "IS {} + APIM {} {}: apply {} rounds (before the lease {} + lease {} + read under it {} + steps {} + release {}), rollback {}; floor {} + lease {} / {}; ratio at 100 ms {:.2}/{:.2}",
            pair.is,
            pair.apim,
            start.label(),
            f.apply.total,
            f.apply.before_lease,
            f.apply.lease,
            f.apply.reread,
            f.apply.steps,
            f.apply.release,
            f.rollback.undo,
            f.floor.0,
            start.lease_rounds(),
            f.floor.1,
            f.ratio_100.0,
            f.ratio_100.1
        );
    }
    // One machine-readable line: per pair, apply fresh / registered and rollback (fresh).
    let part = |pair: &str| {
        let of = |start: Start| {
            summary
                .iter()
                .find(|(p, s, _)| p.is == pair && *s == start)
                .map(|(_, _, f)| f)
                .unwrap()
        };
        let (fresh, reg, again) = (of(Start::Fresh), of(Start::Registered), of(Start::Again));
        let lease = Start::Fresh.lease_rounds();
        format!(
            "IS {pair}: apply fresh {}, apply registered {}, rollback {}; floor {}/{}/{} (data {}/{}/{} + lease {lease}); ratio at 100 ms {:.2}/{:.2}/{:.2}; apply again {} (floor {} + lease {}), ratio {:.2}",
            fresh.apply.total,
            reg.apply.total,
            fresh.rollback.undo,
            fresh.floor.0 + lease,
            reg.floor.0 + lease,
            fresh.floor.1,
            fresh.floor.0,
            reg.floor.0,
            fresh.floor.1,
            fresh.ratio_100.0,
            reg.ratio_100.0,
            fresh.ratio_100.1,
            again.apply.total,
            again.floor.0,
            Start::Again.lease_rounds(),
            again.ratio_100.0
        )
    };
    println!("critical path: {} | {}", part("5.9"), part("7.3"));
}
