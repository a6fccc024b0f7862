//! A fleet of federations: N independent federations (one per tenant) applied at once against one
//! simulated IS + APIM pair, every client of a server sharing one `ServerPool` with a limit of K
//! requests in flight.
//!
//! Run: `cargo bench -p wso2-federation --bench fleet` (prints figures; asserts behaviour, never
//! times). `BENCH_LATENCY_MS` sets the latency L of every answer (default 20),
//! `BENCH_IN_FLIGHT` the pools' limit K (default 8), `BENCH_QUICK=1` runs N = 1 and 10 only.
//!
//! Each N gets a fresh sandbox with 100 tenants, each tenant holding copies of the portals'
//! service providers (as after a first portal login). Federation i applies to tenant i with that
//! tenant's admin, its own client id and its own journal; each keeps the engine's default
//! concurrency (8 per server per run), so with N > 1 the pools' limit is what bounds the fleet.
//!
//! Printed per N: the wall time, the requests each server saw, the most requests in flight each
//! server saw (the sandbox's measure) and the pools' own measure, and
//! `ratio = wall / (N x single wall / K)`, single wall being the N = 1 wall (so the ratio is K at
//! N = 1 by construction; at large N, 1.0 would be N applies finishing K times faster than one
//! after another). Also printed: the slot bound, `max(requests per server) x L / K`, the least
//! wall time K slots per server allow whatever the scheduling (queueing and the applies' own
//! chains of dependent requests come on top).
//! Asserted: every apply succeeded, and no server saw more than K requests in flight.

#![allow(clippy::unwrap_used, missing_docs, unreachable_pub, dead_code)]

mod common;

use std::time::{Duration, Instant};

use common::seed::{CANARY_CLIENT_SECRET, TempJournal, client_builder, seed_builder};
use wso2_apim_client::ApimClient;
use wso2_federation::Federation;
use wso2_is_client::{IsClient, ServerPool};
use wso2_testkit::{Element, SUPER_TENANT, Sandbox};

/// Tenants of every sandbox (the largest N).
const TENANTS: usize = 100;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn tenant(i: usize) -> String {
    format!("tenant{i:03}.example")
}

/// Gives each tenant copies of the super tenant's portal service providers (and their OAuth
/// apps), as if each tenant's portals had been logged into once (as in the `load` tests).
fn tenant_portals(sb: &Sandbox, tenants: &[String]) {
    fn retenant(el: &mut Element, tenant: &str) {
        if el.name == "tenantDomain" {
            el.text = tenant.to_owned();
        }
        for c in &mut el.children {
            retenant(c, tenant);
        }
    }
    let sup = sb.apim().snapshot().tenants[SUPER_TENANT].clone();
    for t in tenants {
        sb.apim().with_tenant_mut(t, |state| {
            for (name, app) in &sup.applications {
                let mut app = app.clone();
                retenant(&mut app, t);
                state.applications.insert(name.clone(), app);
            }
            for (key, app) in &sup.oauth_apps {
                let mut app = app.clone();
                retenant(&mut app, t);
                state.oauth_apps.insert(key.clone(), app);
            }
            state.system_apps = sup.system_apps.clone();
            // The role IS 5.x checks before letting its owner read an application.
            for (name, role) in &sup.roles {
                if name.starts_with("Application/") {
                    state.roles.insert(name.clone(), role.clone());
                }
            }
        });
    }
}

/// What one N measured.
struct Fleet {
    n: usize,
    wall: Duration,
    /// Requests (IS, APIM) from the federations.
    requests: (usize, usize),
    /// Most requests in flight (IS, APIM), as the sandbox saw them.
    peak: (usize, usize),
    /// Most requests in flight (IS, APIM), as the pools counted them.
    pool_peak: (usize, usize),
}

async fn fleet(n: usize, k: usize, latency: Duration) -> Fleet {
    let tenants: Vec<String> = (1..=TENANTS).map(tenant).collect();
    let sb = Sandbox::builder()
        .tenants(tenants.clone())
        .start()
        .await
        .unwrap();
    sb.apim().ensure_portal_apps();
    tenant_portals(&sb, &tenants);
    sb.set_latency(latency);

    let is_pool = ServerPool::new(k).unwrap();
    let apim_pool = ServerPool::new(k).unwrap();
    // Waiting for a permit is not part of a request's timeout: this one bounds a request once
    // sent.
    let timeout = Duration::from_secs(30);
    let feds: Vec<Federation> = tenants[..n]
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let is: IsClient = client_builder(&sb, sb.is(), sb.is().tenant_admin(t), timeout)
                .pool(&is_pool)
                .build()
                .unwrap();
            let apim: ApimClient =
                client_builder(&sb, sb.apim(), sb.apim().tenant_admin(t), timeout)
                    .pool(&apim_pool)
                    .build()
                    .unwrap();
            seed_builder(&sb)
                .is(is)
                .apim(apim)
                .tenant(t)
                .client_id(format!("tenantClient{i:03}xxxxxxxxxxxxx"))
                .client_secret(CANARY_CLIENT_SECRET)
                .build()
                .unwrap()
        })
        .collect();
    let journals: Vec<TempJournal> = feds.iter().map(|_| TempJournal::new()).collect();
    sb.clear_requests();

    let start = Instant::now();
    let results = futures_util::future::join_all(
        feds.iter()
            .zip(&journals)
            .map(|(f, j)| async move { f.apply(&j.options()).await }),
    )
    .await;
    let wall = start.elapsed();

    let failed: Vec<String> = tenants
        .iter()
        .zip(&results)
        .filter_map(|(t, r)| r.as_ref().err().map(|e| format!("{t}: {e}")))
        .collect();
    assert!(
        failed.is_empty(),
        "N = {n}: {} of {n} applies failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
    let out = Fleet {
        n,
        wall,
        requests: (sb.is().requests().len(), sb.apim().requests().len()),
        peak: (sb.is().max_in_flight(), sb.apim().max_in_flight()),
        pool_peak: (is_pool.peak_in_flight(), apim_pool.peak_in_flight()),
    };
    assert!(
        out.peak.0 <= k && out.peak.1 <= k,
        "N = {n}: a server saw more than K = {k} requests in flight: IS {}, APIM {}",
        out.peak.0,
        out.peak.1
    );
    out
}

fn main() {
    let k = env_or("BENCH_IN_FLIGHT", 8).max(1);
    let latency_ms = env_or("BENCH_LATENCY_MS", 20);
    let latency = Duration::from_millis(latency_ms as u64);
    let quick = std::env::var("BENCH_QUICK").is_ok_and(|v| v == "1");
    let ns: &[usize] = if quick { &[1, 10] } else { &[1, 10, 100] };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    common::print_machine("at start");
    let fleets: Vec<Fleet> = rt.block_on(async {
        println!(
            "fleet: N federations (one per tenant of {TENANTS}) applied at once, one ServerPool \
             per server with K = {k} requests in flight, L = {latency_ms} ms per request, a new \
             sandbox per N"
        );
        println!(
            "{:>4} | {:>10} | {:>13} | {:>16} | {:>17} | {:>17} | {:>6}",
            "N",
            "wall ms",
            "slot bound ms",
            "requests IS/APIM",
            "in flight IS/APIM",
            "pool peak IS/APIM",
            "ratio"
        );
        let mut fleets = Vec::new();
        for &n in ns {
            let f = fleet(n, k, latency).await;
            let single = fleets.first().map_or(f.wall, |s: &Fleet| s.wall);
            println!(
                "{:>4} | {:>10.1} | {:>13.1} | {:>16} | {:>17} | {:>17} | {:>6.2}",
                f.n,
                f.wall.as_secs_f64() * 1000.0,
                f.requests.0.max(f.requests.1) as f64 * latency_ms as f64 / k as f64,
                format!("{}/{}", f.requests.0, f.requests.1),
                format!("{}/{}", f.peak.0, f.peak.1),
                format!("{}/{}", f.pool_peak.0, f.pool_peak.1),
                ratio(&f, single, k)
            );
            fleets.push(f);
        }
        fleets
    });
    common::print_machine("at end");
    let single = fleets[0].wall;
    let join = |f: &dyn Fn(&Fleet) -> String| fleets.iter().map(f).collect::<Vec<_>>().join("/");
    println!(
        "fleet: K {k}, L {latency_ms} ms, N {} wall ms {}, ratio {}, peak in flight IS {} APIM {}",
        join(&|f| f.n.to_string()),
        join(&|f| format!("{:.0}", f.wall.as_secs_f64() * 1000.0)),
        join(&|f| format!("{:.2}", ratio(f, single, k))),
        join(&|f| f.peak.0.to_string()),
        join(&|f| f.peak.1.to_string()),
    );
}

/// `wall / (N x single wall / K)`.
fn ratio(f: &Fleet, single: Duration, k: usize) -> f64 {
    f.wall.as_secs_f64() / (f.n as f64 * single.as_secs_f64() / k as f64)
}
