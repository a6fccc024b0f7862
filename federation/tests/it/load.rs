//! Concurrency and load: the apply's requests do not grow with unrelated objects on the servers;
//! no server ever sees more requests in flight than the configured concurrency (in doctor, plan,
//! apply, verify, destroy, or a failed apply and its rollback); twenty federations for twenty tenants applied at once all succeed
//! and each tenant ends up with its own objects only.
//!
//! `cargo test -p wso2-federation --test it load -- --nocapture`

use std::collections::BTreeMap;
use std::time::Duration;

use wso2_federation::{Federation, FederationError};
use wso2_testkit::{Element, SUPER_TENANT, Sandbox, SeedCounts};

use crate::support::*;

/// Requests per action and server (`"is addUser"` -> 2).
fn census(sb: &Sandbox) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (name, server) in [("is", sb.is()), ("apim", sb.apim())] {
        for r in server.requests() {
            *out.entry(format!("{name} {}", r.action)).or_insert(0) += 1;
        }
    }
    out
}

fn total(c: &BTreeMap<String, usize>) -> usize {
    c.values().sum()
}

async fn seeded_sandbox(objects: usize) -> Sandbox {
    let sb = Sandbox::start().await.unwrap();
    sb.apim().ensure_portal_apps();
    if objects > 0 {
        sb.is().seed(SUPER_TENANT, SeedCounts::spread(objects));
        sb.apim().seed(SUPER_TENANT, SeedCounts::spread(objects));
    }
    sb.clear_requests();
    sb
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_unrelated_objects_do_not_add_a_single_request() {
    let mut censuses = Vec::new();
    for objects in [0, 10_000] {
        let sb = seeded_sandbox(objects).await;
        let stored = sb.snapshot().is.object_count() + sb.snapshot().apim.object_count();
        let fed = matrix_builder(&sb, Duration::from_secs(10), 8)
            .build()
            .unwrap();
        let journal = TempJournal::new();
        fed.apply(&journal.options()).await.unwrap();
        let c = census(&sb);
        println!(
            "load: {stored} objects stored before the apply: {} requests ({} on IS, {} on APIM)",
            total(&c),
            sb.is().requests().len(),
            sb.apim().requests().len()
        );
        censuses.push(c);
    }
    assert_eq!(
        censuses[0], censuses[1],
        "the apply's requests per action differ between an empty and a seeded server"
    );
    println!(
        "load: the apply sends the same {} requests, action for action, with 0 and with 10,000 unrelated objects per server",
        total(&censuses[0])
    );
}

/// The most requests in flight on each server during each phase of a federation's life, with
/// `limit` as its concurrency, on a server holding 10,000 unrelated objects and answering after
/// `latency` (so that concurrent requests overlap).
async fn in_flight_by_phase(limit: usize, latency: Duration) -> Vec<(String, usize, usize)> {
    let sb = seeded_sandbox(10_000).await;
    sb.set_latency(latency);
    let fed = matrix_builder(&sb, Duration::from_secs(10), limit)
        .build()
        .unwrap();
    let journal = TempJournal::new();
    let mut out = Vec::new();
    let mut phase = |name: &str, sb: &Sandbox| {
        out.push((
            name.to_owned(),
            sb.is().max_in_flight(),
            sb.apim().max_in_flight(),
        ));
        sb.clear_requests();
    };
    let doctor = fed.doctor().await;
    assert!(doctor.is_ok(), "{doctor}");
    phase("doctor", &sb);
    fed.plan().await.unwrap();
    phase("plan", &sb);
    fed.apply(&journal.options()).await.unwrap();
    phase("apply", &sb);
    let verified = fed
        .verify(&wso2_federation::verify::VerifyOptions {
            test_login: Some(("api_publisher".into(), PUBLISHER_PASSWORD.into())),
            fix_client_auth: false,
            browser_logins: Vec::new(),
        })
        .await
        .unwrap();
    assert!(verified.is_ok(), "{verified}");
    phase("verify", &sb);
    fed.destroy(&journal.options()).await.unwrap();
    phase("destroy", &sb);
    // A failure at the last write: apply, then the engine's rollback.
    sb.apim().inject(wso2_testkit::FaultRule::nth(
        "updateApplication",
        2,
        wso2_testkit::FaultKind::SoapFault {
            message: "injected".into(),
        },
    ));
    let failed = fed.apply(&TempJournal::new().options()).await;
    assert!(
        matches!(failed, Err(FederationError::RolledBack { .. })),
        "{failed:?}"
    );
    phase("failed apply + rollback", &sb);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_server_ever_sees_more_requests_in_flight_than_the_limit() {
    let mut over = Vec::new();
    let mut checks = 0;
    for limit in [1, 2, 8] {
        for (phase, is, apim) in in_flight_by_phase(limit, Duration::from_millis(25)).await {
            for (server, seen) in [("IS", is), ("APIM", apim)] {
                checks += 1;
                let mark = if seen > limit {
                    over.push(format!(
                        "limit {limit}, {phase}: {server} saw {seen} requests in flight"
                    ));
                    "  OVER THE LIMIT"
                } else {
                    ""
                };
                println!("in flight: limit {limit}, {phase:<24} {server:<4} max {seen}{mark}");
            }
        }
    }
    println!(
        "in flight: {checks} checks (limits 1, 2, 8 x 6 phases x 2 servers), {} over the limit",
        over.len()
    );
    assert!(over.is_empty(), "over the limit:\n{}", over.join("\n"));
}

/// Gives each tenant copies of the super tenant's portal service providers (and their OAuth
/// apps), as if each tenant's portals had been logged into once.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_tenants_federated_at_once_all_succeed_and_stay_apart() {
    let tenants: Vec<String> = (1..=20).map(|i| format!("tenant{i:02}.example")).collect();
    let sb = Sandbox::builder()
        .tenants(tenants.clone())
        .start()
        .await
        .unwrap();
    sb.apim().ensure_portal_apps();
    tenant_portals(&sb, &tenants);
    let before = sb.snapshot();

    let timeout = Duration::from_secs(30);
    let feds: Vec<Federation> = tenants
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let is = client_builder(&sb, sb.is(), sb.is().tenant_admin(t), timeout)
                .build()
                .unwrap();
            let apim = client_builder(&sb, sb.apim(), sb.apim().tenant_admin(t), timeout)
                .build()
                .unwrap();
            seed_builder(&sb)
                .is(is)
                .apim(apim)
                .tenant(t)
                .client_id(format!("tenantClient{i:02}xxxxxxxxxxxxxx"))
                .client_secret(CANARY_CLIENT_SECRET)
                .build()
                .unwrap()
        })
        .collect();
    let journals: Vec<TempJournal> = tenants.iter().map(|_| TempJournal::new()).collect();
    let results = futures_util::future::join_all(
        feds.iter()
            .zip(&journals)
            .map(|(f, j)| async move { f.apply(&j.options()).await }),
    )
    .await;
    let mut failed = Vec::new();
    for (t, r) in tenants.iter().zip(&results) {
        if let Err(e) = r {
            failed.push(format!("{t}: {e}"));
        }
    }
    assert!(failed.is_empty(), "applies failed:\n{}", failed.join("\n"));
    for (t, f) in tenants.iter().zip(&feds) {
        let plan = f.plan().await.unwrap();
        assert!(plan.is_empty(), "{t}: a second plan is not empty:\n{plan}");
    }

    // Isolation: the super tenant is untouched; each tenant changed in exactly the same way once
    // its own name and client id are written generically, and no tenant's objects mention another
    // tenant or another tenant's client id.
    let after = sb.snapshot();
    for s in [(&before.is, &after.is), (&before.apim, &after.apim)] {
        assert_eq!(
            s.0.tenants[SUPER_TENANT], s.1.tenants[SUPER_TENANT],
            "{}: the super tenant changed",
            s.0.server
        );
    }
    let lines_of = |snap: &wso2_testkit::SandboxSnapshot, t: &str| -> Vec<String> {
        let mut only = snap.clone();
        for s in [&mut only.is, &mut only.apim] {
            s.tenants.retain(|name, _| name == t);
        }
        state_lines(&sb, &only)
    };
    let mut shapes: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
    for (i, t) in tenants.iter().enumerate() {
        let client_id = format!("tenantClient{i:02}xxxxxxxxxxxxxx");
        let now = lines_of(&after, t);
        for (j, other) in tenants.iter().enumerate() {
            if i == j {
                continue;
            }
            let other_id = format!("tenantClient{j:02}xxxxxxxxxxxxxx");
            let leak = now
                .iter()
                .find(|l| l.contains(&format!("/t/{other}/")) || l.contains(&other_id));
            assert!(leak.is_none(), "{t} holds an object of {other}: {leak:?}");
        }
        let delta = line_diff(&lines_of(&before, t), &now, usize::MAX);
        let generic: Vec<String> = delta
            .iter()
            .map(|l| {
                l.replace(t.as_str(), "{TENANT}")
                    .replace(&client_id, "{CLIENT}")
            })
            .collect();
        assert!(
            generic.iter().any(|l| l.contains("{CLIENT}")),
            "{t}: its own client id is not among its changes"
        );
        shapes.entry(generic).or_default().push(t.clone());
    }
    let kinds: Vec<&Vec<String>> = shapes.keys().collect();
    assert_eq!(
        shapes.len(),
        1,
        "tenants changed differently: {:?}; first difference:\n{}",
        shapes.values().collect::<Vec<_>>(),
        line_diff(kinds[0], kinds[kinds.len() - 1], 20).join("\n")
    );
    let changes = shapes.keys().next().map_or(0, Vec::len);
    println!(
        "tenants: {} federations applied at once, all succeeded; each tenant gained the same {changes} changed lines, its own only",
        tenants.len()
    );
}
