//! The four standard saga tests, each ending with a check of the simulated servers.

use wso2_federation::plan::PlanAction;
use wso2_federation::{FederationError, engine::StepId};
use wso2_testkit::{FaultKind, FaultRule, Sandbox};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_succeeds_and_the_state_matches_the_spec() {
    let sb = Sandbox::start().await.unwrap();
    let journal = TempJournal::new();
    let fed = seed(&sb, &journal);
    let report = fed.apply(&journal.options()).await.unwrap();
    assert!(
        report
            .plan
            .changes
            .iter()
            .any(|c| c.action == PlanAction::Create)
    );
    // The portals were never logged into: their service providers were brought into being, and
    // the report says so (not "unchanged").
    for portal in ["publisher", "devportal"] {
        let id = StepId::new(format!("apim.portal-registration:{portal}"));
        let state = report
            .run
            .steps
            .iter()
            .find(|(s, _)| *s == id)
            .map(|(_, st)| st);
        assert!(
            matches!(
                state,
                Some(wso2_federation::engine::StepState::Done {
                    effect: wso2_federation::engine::Effect::Registered
                })
            ),
            "{portal}: {state:?}"
        );
    }
    // The plan applied was read under the run's own lease, which is no other run's.
    assert!(
        report.plan.warnings.is_empty(),
        "{:?}",
        report.plan.warnings
    );

    // IS: roles, users with their roles, the OAuth app and the service provider.
    let is = is_client(&sb);
    for role in ["publisher_role", "user_role"] {
        assert!(
            is.users()
                .role_exists(&role.parse().unwrap())
                .await
                .unwrap(),
            "{role}"
        );
    }
    let roles = is
        .users()
        .roles_of_user(&"api_publisher".parse().unwrap())
        .await
        .unwrap();
    assert!(roles.iter().any(|r| r == "publisher_role"), "{roles:?}");
    let sp = is
        .applications()
        .get(&"apim-federation".parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    let client_id = sp
        .oauth_inbound()
        .unwrap()
        .inbound_auth_key
        .clone()
        .unwrap();
    let app = is
        .oauth_apps()
        .get(&client_id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        app.callback_url.as_deref(),
        Some(format!("{}/commonauth", sb.apim().base_url()).as_str())
    );

    // APIM: the identity provider with its mappings, and both portals switched.
    let apim = apim_client(&sb);
    let idp = apim
        .identity_providers()
        .get(&"wso2-is".parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(idp.role_mappings().len(), 2);
    assert_eq!(
        idp.oidc_authenticator().unwrap().client_id(),
        Some(client_id.as_str())
    );
    for portal in [
        wso2_apim_client::portals::Portal::Publisher,
        wso2_apim_client::portals::Portal::DevPortal,
    ] {
        let sp = apim.portals().get(portal).await.unwrap().unwrap();
        assert!(
            wso2_apim_client::portals::is_federated_through(&sp, &"wso2-is".parse().unwrap()),
            "{portal}"
        );
    }
    // IS 5.9 has no REST API: the version probes (reads) are its only unknown requests.
    let probes = [
        "unknown GET /api/server/v1/applications",
        "unknown GET /scim2/Roles",
        "unknown GET /scim2/v2/Roles",
        "unknown GET /scim2/v3/Roles",
    ];
    let unknown: Vec<_> = sb
        .is()
        .unknown_requests()
        .into_iter()
        .chain(sb.apim().unknown_requests())
        .map(|r| r.action)
        .filter(|a| !probes.contains(&a.as_str()))
        .collect();
    assert!(unknown.is_empty(), "{unknown:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_apply_sends_no_writes_and_its_plan_is_empty() {
    let sb = Sandbox::start().await.unwrap();
    let journal = TempJournal::new();
    let fed = seed(&sb, &journal);
    fed.apply(&journal.options()).await.unwrap();
    let before = mutating(&sb);
    let plan = fed.plan().await.unwrap();
    assert!(plan.is_empty(), "{plan}");
    fed.apply(&journal.options()).await.unwrap();
    assert_eq!(mutating(&sb), before, "the second apply sent writes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_at_each_step_leaves_a_clean_slate() {
    let sb = Sandbox::start().await.unwrap();
    // The portals' service providers exist before (as after a first login), so that the clean
    // slate includes them.
    sb.apim().ensure_portal_apps();
    let clean = sb.snapshot();
    // Learn how many writes a successful apply sends to each server, then take it back.
    let (is_writes, apim_writes) = {
        let journal = TempJournal::new();
        let fed = seed(&sb, &journal);
        fed.apply(&journal.options()).await.unwrap();
        let counts = (
            sb.is().mutating_requests().len(),
            sb.apim().mutating_requests().len(),
        );
        fed.destroy(&journal.options()).await.unwrap();
        clean.assert_same(&sb.snapshot());
        counts
    };
    assert!(is_writes > 0 && apim_writes > 0);
    let mut cases = 0;
    for (server, n) in [("is", is_writes), ("apim", apim_writes)] {
        for k in 1..=n {
            sb.is().clear_requests();
            sb.apim().clear_requests();
            let target = if server == "is" { sb.is() } else { sb.apim() };
            target.inject(FaultRule::nth_mutating(
                k as u32,
                FaultKind::SoapFault {
                    message: "injected".into(),
                },
            ));
            let journal = TempJournal::new();
            let fed = seed(&sb, &journal);
            let result = fed.apply(&journal.options()).await;
            sb.clear_faults();
            // A fault at the run lease's own writes is settled by reading the lease back: the
            // run then goes on (or is refused before any write).
            let on_lease = target
                .requests()
                .iter()
                .any(|r| r.fault.is_some() && r.body.contains(wso2_federation::lease::LEASE_NAME));
            match result {
                Err(FederationError::RolledBack { .. }) => {}
                Ok(_) if on_lease => {
                    fed.destroy(&journal.options()).await.unwrap();
                }
                Err(e) if on_lease => {
                    assert_ne!(
                        e.outcome(),
                        wso2_federation::Outcome::ChangesRemain,
                        "fault at {server} write {k} (the lease): {e}"
                    );
                }
                other => panic!("fault at {server} write {k}: expected a rollback, got {other:?}"),
            }
            clean.assert_same(&sb.snapshot());
            // Undoing twice is harmless.
            fed.rollback(&journal.options()).await.unwrap();
            clean.assert_same(&sb.snapshot());
            cases += 1;
        }
    }
    println!("saga: a fault at each of {cases} writes left a clean slate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_restores_the_portals_and_removes_only_what_the_federation_made() {
    let sb = Sandbox::start().await.unwrap();
    sb.apim().ensure_portal_apps();
    let clean = sb.snapshot();
    let journal = TempJournal::new();
    let fed = seed(&sb, &journal);
    fed.apply(&journal.options()).await.unwrap();
    fed.destroy(&journal.options()).await.unwrap();
    clean.assert_same(&sb.snapshot());
    // Idempotent.
    fed.destroy(&journal.options()).await.unwrap();
    clean.assert_same(&sb.snapshot());
    let _ = StepId::new("x");
}

/// The portals' registration runs while IS is written (it asks nothing of IS) and is never
/// undone: on a fresh APIM, a failure on IS leaves exactly what a first login of each portal
/// would have made, and nothing else, on either server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_on_is_leaves_only_the_portal_registrations_a_first_login_makes() {
    // What a first login of each portal makes on a fresh APIM.
    let reference = Sandbox::start().await.unwrap();
    let before = reference.snapshot();
    reference.apim().ensure_portal_apps();
    let masked = |d: wso2_testkit::SnapshotDiff| {
        let mut lines: Vec<String> = d
            .lines
            .iter()
            .map(|l| match l.split_once("oauth app \"") {
                Some((head, _)) => format!("{head}oauth app (any client id)"),
                None => l.clone(),
            })
            .collect();
        lines.sort();
        lines
    };
    let first_login = masked(before.diff(&reference.snapshot()));
    assert!(!first_login.is_empty());

    let sb = Sandbox::start().await.unwrap();
    let clean = sb.snapshot();
    sb.is().inject(FaultRule::nth(
        "addUser",
        1,
        FaultKind::SoapFault {
            message: "injected".into(),
        },
    ));
    let journal = TempJournal::new();
    let fed = seed(&sb, &journal);
    match fed.apply(&journal.options()).await {
        Err(FederationError::RolledBack { .. }) => {}
        other => panic!("expected a rollback, got {other:?}"),
    }
    let after = sb.snapshot();
    assert_eq!(clean.is, after.is, "IS is as it was");
    assert_eq!(masked(clean.diff(&after)), first_login);
    // The next plan finds them and registers nothing.
    let plan = fed.plan().await.unwrap();
    assert!(
        plan.changes
            .iter()
            .all(|c| c.kind != wso2_federation::plan::ObjectKind::PortalRegistration),
        "{plan:?}"
    );
}

/// Steno's repeat injection against the simulated servers: every action and every undo runs
/// twice (the second result counts). The apply still lands whole and its second plan is empty;
/// a failure at the last step still unwinds to the clean slate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_action_and_every_undo_run_twice_change_nothing_more() {
    let twice = wso2_federation::engine::Repeat {
        actions: true,
        undos: true,
    };
    let sb = Sandbox::start().await.unwrap();
    sb.apim().ensure_portal_apps();
    let clean = sb.snapshot();
    let journal = TempJournal::new();
    let fed = seed(&sb, &journal);
    fed.apply(&journal.options().repeat(twice)).await.unwrap();
    let plan = fed.plan().await.unwrap();
    assert!(plan.is_empty(), "{plan}");
    fed.destroy(&journal.options().repeat(twice)).await.unwrap();
    clean.assert_same(&sb.snapshot());

    // A failure at the last write: every undo runs twice too.
    sb.apim().inject(FaultRule::nth(
        "updateApplication",
        2,
        FaultKind::SoapFault {
            message: "injected at the last step".into(),
        },
    ));
    let err = fed
        .apply(&journal.options().repeat(twice))
        .await
        .unwrap_err();
    assert!(matches!(err, FederationError::RolledBack { .. }), "{err:?}");
    sb.clear_faults();
    clean.assert_same(&sb.snapshot());
    println!(
        "saga: every action and undo run twice: applied whole, destroyed, unwound: clean slate each time"
    );
}

/// `apply_showing` hands over the plan it applies once, before the first write of the
/// federation (the lease aside): on a first apply, read under the lease; on a re-apply with
/// nothing to change, the empty plan, with nothing written at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_showing_shows_the_plan_it_applies_before_writing() {
    let sb = Sandbox::start().await.unwrap();
    let journal = TempJournal::new();
    let fed = seed(&sb, &journal);
    for round in ["first apply", "re-apply"] {
        sb.clear_requests();
        let mut shown = Vec::new();
        let report = fed
            .apply_showing(&journal.options(), |plan| {
                let writes: Vec<String> = sb
                    .is()
                    .mutating_requests()
                    .into_iter()
                    .chain(sb.apim().mutating_requests())
                    .filter(|r| !r.body.contains(wso2_federation::lease::LEASE_NAME))
                    .map(|r| r.action)
                    .collect();
                shown.push((plan.clone(), writes));
            })
            .await
            .unwrap();
        assert_eq!(shown.len(), 1, "{round}: shown once");
        let (plan, writes) = &shown[0];
        assert!(
            writes.is_empty(),
            "{round}: written before it was shown: {writes:?}"
        );
        assert_eq!(
            plan, &report.plan,
            "{round}: the plan shown is the plan applied"
        );
        if round == "re-apply" {
            assert!(plan.is_empty(), "{round}: {plan}");
            assert_eq!(
                mutating(&sb),
                0,
                "{round}: nothing written, not even the lease"
            );
        } else {
            assert!(!plan.is_empty(), "{round}");
        }
    }
}
