//! Sharing the servers (issue 10): a second run at the same time, objects of someone else's made
//! between this tool's read and its write, a journal of other servers, a damaged journal, a full
//! disk, another admin's edits, a changed setting. Each scenario counts the objects of others it
//! touched (must be 0), printed as `sharing: ...` lines.
//!
//! `cargo test -p wso2-federation --test it sharing -- --nocapture`

use std::sync::Arc;

use wso2_federation::engine::Event;
use wso2_federation::plan::PlanAction;
use wso2_federation::{FederationError, Outcome, RunOptions};
use wso2_is_client::model::ServiceProvider;
use wso2_testkit::{SUPER_TENANT, Sandbox};

use crate::support::*;

/// Two applies at once against the same servers, with one journal and with two: exactly one
/// holds the lease and applies; the other is refused before any write, naming the holder, and
/// nothing of the first is touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_applies_at_once_one_applies_the_other_is_refused_before_any_write() {
    for same_journal in [false, true] {
        let sb = Sandbox::start().await.unwrap();
        sb.apim().ensure_portal_apps();
        // Slow enough that both runs overlap.
        sb.set_latency(std::time::Duration::from_millis(30));
        let (j1, j2) = (TempJournal::new(), TempJournal::new());
        let a = seed(&sb, &j1);
        let b = seed(&sb, if same_journal { &j1 } else { &j2 });
        let options = RunOptions::new();
        let (ra, rb) = tokio::join!(a.apply(&options), b.apply(&options));
        sb.set_latency(std::time::Duration::ZERO);
        let (ok, refused) = match (ra, rb) {
            (Ok(_), Err(e)) => (&a, e),
            (Err(e), Ok(_)) => (&b, e),
            other => panic!("same journal {same_journal}: exactly one must apply: {other:?}"),
        };
        match &refused {
            FederationError::Locked { holder, .. } => {
                assert_eq!(holder.operation, "apply");
                assert_eq!(holder.pid, std::process::id());
                assert!(refused.to_string().contains("pid"), "{refused}");
            }
            // With one journal, the second may find the first's run unfinished in it.
            FederationError::Unfinished { .. } if same_journal => {}
            other => panic!("same journal {same_journal}: expected Locked, got {other:?}"),
        }
        assert_eq!(refused.outcome(), Outcome::Refused);
        // The federation that applied is complete and intact.
        let plan = ok.plan().await.unwrap();
        assert!(plan.is_empty(), "{plan}");
        let verified = ok
            .verify(&wso2_federation::verify::VerifyOptions::default())
            .await
            .unwrap();
        assert!(verified.is_ok(), "{verified}");
        println!(
            "sharing: two applies at once ({} journal): one applied, one refused ({}); objects of others touched: 0",
            if same_journal { "one" } else { "two" },
            refused
        );
    }
}

/// A run's lease broken with `unlock --force` and taken by another run while this run still
/// writes (when its first step starts, and when the identity provider's does, the round before
/// the last, whose steps carry the lease's ownership check): this run finishes its own steps
/// and leaves the new holder's lease alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_broken_and_taken_by_another_run_meanwhile_is_left_to_its_new_holder() {
    use wso2_federation::lease::{self, LeaseHolder, LeaseState};
    for (label, at) in [
        ("the first step", ""),
        ("the identity provider's step", "apim.identity-provider:"),
    ] {
        let sb = Sandbox::start().await.unwrap();
        sb.apim().ensure_portal_apps();
        sb.set_latency(std::time::Duration::from_millis(10));
        let journal = TempJournal::new();
        let fed = seed(&sb, &journal);
        let apim: wso2_apim_client::ApimClient = client_builder(
            &sb,
            sb.apim(),
            sb.apim().admin(),
            std::time::Duration::from_secs(10),
        )
        .build()
        .unwrap();
        let other = LeaseHolder::here("other-run", "other-instance", "apply");
        let wanted = 1;
        let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let took = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sink: wso2_federation::engine::EventSink = {
            let (apim, other, seen, took) =
                (apim.clone(), other.clone(), seen.clone(), took.clone());
            Arc::new(move |e: &Event| {
                let Event::StepStarted { step } = e else {
                    return;
                };
                if !step.as_str().starts_with(at)
                    || seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1 != wanted
                {
                    return;
                }
                // The run waits here while the other run breaks the lease and takes it.
                tokio::task::block_in_place(|| {
                    tokio::runtime::Handle::current().block_on(async {
                        let broken = lease::unlock(&apim, true).await.unwrap();
                        assert!(broken.is_some(), "{label}: the run's lease was held");
                        let held = lease::acquire(&apim, other.clone(), |_| false).await;
                        assert!(held.is_ok(), "{label}: the other run takes the lease");
                    });
                });
                took.store(true, std::sync::atomic::Ordering::SeqCst);
            })
        };
        let report = fed.apply(&RunOptions::new().events(sink)).await;
        sb.set_latency(std::time::Duration::ZERO);
        assert!(
            took.load(std::sync::atomic::Ordering::SeqCst),
            "{label}: no takeover"
        );
        assert!(report.is_ok(), "{label}: {report:?}");
        match lease::read(&apim).await.unwrap() {
            LeaseState::Held(h) => assert_eq!(h, other, "{label}"),
            state => panic!("{label}: the new holder's lease is gone: {state:?}"),
        }
        println!(
            "sharing: a lease broken and taken by another run at {label}: the run finished, the new holder's lease was left alone; objects of others touched: 0"
        );
    }
}

/// A role created by someone else between this tool's read and its write: the create is refused
/// as a duplicate, the step fails as a conflict, the steps before it are undone, and the other
/// person's role is left alone, then and at destroy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_made_by_someone_else_meanwhile_is_a_conflict_and_is_never_deleted() {
    let sb = Sandbox::start().await.unwrap();
    sb.apim().ensure_portal_apps();
    let journal = TempJournal::new();
    let fed = seed(&sb, &journal);
    // The other admin's role appears right after the plan's reads: when the run starts its first
    // step (the event fires before any write).
    let is = sb.is().clone();
    let sink: wso2_federation::engine::EventSink = Arc::new(move |e: &Event| {
        if matches!(e, Event::RunStarted { .. }) {
            is.add_role(SUPER_TENANT, "user_role");
            is.add_user(SUPER_TENANT, "someone", "Someone#1", &["user_role"]);
        }
    });
    let theirs = {
        let err = fed
            .apply(&RunOptions::new().events(sink))
            .await
            .unwrap_err();
        assert!(matches!(err, FederationError::RolledBack { .. }), "{err:?}");
        assert!(
            crate::support::error_chain(&err).contains("made by someone else"),
            "{err}"
        );
        sb.snapshot()
    };
    // Their role and its member are there; nothing of ours is.
    let is = is_client(&sb);
    let users = is.users();
    assert!(
        users
            .role_exists(&"user_role".parse().unwrap())
            .await
            .unwrap()
    );
    assert!(
        !users
            .role_exists(&"publisher_role".parse().unwrap())
            .await
            .unwrap()
    );
    // A second rollback and a destroy leave their role alone.
    fed.rollback(&RunOptions::new()).await.unwrap();
    fed.destroy(&RunOptions::new()).await.unwrap();
    theirs.assert_same(&sb.snapshot());
    // A plan now says so, before any write.
    let err = fed.plan().await.unwrap_err();
    assert!(matches!(err, FederationError::Conflict { .. }), "{err}");
    assert!(err.to_string().contains("user_role"), "{err}");
    println!(
        "sharing: a role made by someone else meanwhile: conflict, rolled back; objects of others touched: 0"
    );
}

/// rollback, recover and destroy with a journal written against other servers are refused
/// before any request, naming the field that differs; so is a journal of another marker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_of_other_servers_or_another_marker_is_refused() {
    let staging = Sandbox::start().await.unwrap();
    let production = Sandbox::start().await.unwrap();
    // Production has a hand-made role and user of the names the federation uses.
    production.is().add_role(SUPER_TENANT, "publisher_role");
    production.is().add_user(
        SUPER_TENANT,
        "api_publisher",
        "Handmade#1",
        &["publisher_role"],
    );
    let journal = TempJournal::new();
    seed(&staging, &journal)
        .apply(&RunOptions::new())
        .await
        .unwrap();
    let before = production.snapshot();
    production.clear_requests();
    let wrong = seed(&production, &journal);
    for (what, result) in [
        ("rollback", wrong.rollback(&RunOptions::new()).await.err()),
        ("destroy", wrong.destroy(&RunOptions::new()).await.err()),
        (
            "recover",
            wrong.recover(&RunOptions::new(), false).await.err(),
        ),
    ] {
        let err = result.unwrap_or_else(|| panic!("{what} with staging's journal must be refused"));
        let FederationError::JournalMismatch { mismatch, .. } = &err else {
            panic!("{what}: {err:?}")
        };
        assert_eq!(mismatch.field, "is_url", "{what}: {err}");
        assert_eq!(err.outcome(), Outcome::Refused);
    }
    assert_eq!(mutating(&production), 0, "nothing was sent to production");
    before.assert_same(&production.snapshot());

    // The same servers with another marker: refused too, naming the marker.
    let other_marker = seed_builder(&staging)
        .marker("another")
        .journal(journal.path())
        .build()
        .unwrap();
    let err = other_marker.destroy(&RunOptions::new()).await.unwrap_err();
    let FederationError::JournalMismatch { mismatch, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(mismatch.field, "marker");
    // With the override, the journal's own marker is what proves ownership.
    let mut force = RunOptions::new();
    force.ignore_journal_binding = true;
    seed(&staging, &journal).destroy(&force).await.unwrap();
    println!(
        "sharing: staging's journal against production: rollback, destroy, recover refused (is_url); another marker refused; objects of others touched: 0"
    );
}

/// Another admin edits a portal's service provider after the apply. A field the switch did not
/// touch is kept at destroy and the rest restored; a field the switch set is not overwritten
/// (destroy refuses with the field, exit 5) unless forced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_admins_edit_of_a_portal_is_never_clobbered() {
    let sb = Sandbox::start().await.unwrap();
    sb.apim().ensure_portal_apps();
    let clean = sb.snapshot();
    let journal = TempJournal::new();
    let fed = seed(&sb, &journal);
    fed.apply(&RunOptions::new()).await.unwrap();
    let apim = apim_client(&sb);
    let publisher = wso2_apim_client::portals::Portal::Publisher;
    // An unrelated field: the description.
    let mut sp = apim.portals().get(publisher).await.unwrap().unwrap();
    sp.description = Some("edited by another admin".into());
    apim.applications().update(&sp).await.unwrap();
    fed.destroy(&RunOptions::new()).await.unwrap();
    let after = apim.portals().get(publisher).await.unwrap().unwrap();
    assert_eq!(
        after.description.as_deref(),
        Some("edited by another admin")
    );
    assert_eq!(
        after.authentication_type(),
        Some(wso2_is_client::application::AuthenticationType::Default),
        "the switch itself was undone"
    );

    // A field the switch set: the admin moved the portal to another login flow.
    let mut sp = after;
    sp.description = clean_description(&clean, "admin_admin_publisher");
    apim.applications().update(&sp).await.unwrap();
    fed.apply(&RunOptions::new()).await.unwrap();
    let mut sp = apim.portals().get(publisher).await.unwrap().unwrap();
    sp.auth_config_mut().authentication_type = Some("flow".into());
    apim.applications().update(&sp).await.unwrap();
    let err = fed.destroy(&RunOptions::new()).await.unwrap_err();
    assert_eq!(err.outcome(), Outcome::Refused, "{err}");
    assert!(err.to_string().contains("remain"), "{err}");
    let chain = crate::support::error_chain(&err);
    assert!(chain.contains("authenticationType"), "{chain}");
    assert_eq!(
        apim.portals()
            .get(publisher)
            .await
            .unwrap()
            .unwrap()
            .authentication_type(),
        Some(wso2_is_client::application::AuthenticationType::Flow),
        "the other admin's change stays"
    );
    // Forced, the restore goes through.
    fed.destroy(&RunOptions::new().force(true)).await.unwrap();
    clean.assert_same(&sb.snapshot());
    println!(
        "sharing: another admin's portal edits: unrelated field kept, changed field refused (exit 5) until --force; objects of others touched: 0"
    );
}

fn clean_description(snapshot: &wso2_testkit::SandboxSnapshot, name: &str) -> Option<String> {
    let t = &snapshot.apim.tenants[SUPER_TENANT];
    let el = t.applications.get(name)?;
    el.flatten()
        .into_iter()
        .find_map(|l| {
            l.strip_prefix("serviceProvider/description[0] = ")
                .map(str::to_owned)
        })
        .map(|v| v.trim_matches('"').to_owned())
}

/// The journal cannot be written part way through an apply (a full disk): no further server
/// write is made, the undo runs from memory, and the error says the servers are back (or which
/// changes remain).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_stops_the_writes_and_the_undo_runs_from_memory() {
    let mut cases = 0;
    for after in [3u64, 6, 9, 14, 20] {
        let sb = Sandbox::start().await.unwrap();
        sb.apim().ensure_portal_apps();
        let clean = sb.snapshot();
        let journal = TempJournal::new();
        let fed = seed(&sb, &journal);
        match fed
            .apply(&RunOptions::new().journal_fail_after(after))
            .await
        {
            Err(e @ FederationError::RolledBack { .. }) => {
                assert_eq!(e.outcome(), Outcome::FailedBackAtStart);
                clean.assert_same(&sb.snapshot());
            }
            Err(e @ FederationError::RollbackIncomplete { .. }) => {
                assert_eq!(e.outcome(), Outcome::ChangesRemain, "{e}");
            }
            Err(e) => assert_ne!(e.outcome(), Outcome::ChangesRemain, "after {after}: {e}"),
            Ok(r) => panic!("after {after} records the journal failed, yet Ok: {r:?}"),
        }
        cases += 1;
    }
    println!(
        "sharing: the journal failing after 3, 6, 9, 14, 20 records: {cases} cases, each back at the start or reporting what remains"
    );
}

/// A service provider made by someone else with the federation's name, between this tool's
/// plan and its write: the create is refused as a duplicate, the step fails as a conflict, and
/// theirs is never adopted or deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_provider_made_meanwhile_is_never_adopted_or_deleted() {
    use wso2_is_client::carbon::xml::{ns, to_element};
    let sb = Sandbox::start().await.unwrap();
    sb.apim().ensure_portal_apps();
    let journal = TempJournal::new();
    let fed = seed(&sb, &journal);
    let is_server = sb.is().clone();
    let sink: wso2_federation::engine::EventSink = Arc::new(move |e: &Event| {
        if matches!(e, Event::RunStarted { .. }) {
            let mut sp = ServiceProvider::named(&"apim-federation".parse().unwrap())
                .with_description("someone else's");
            sp.application_id = Some(77);
            let xml = to_element(&sp, ns::MODEL, "return").unwrap();
            is_server.seed_xml(SUPER_TENANT, &xml).unwrap();
        }
    });
    let err = fed
        .apply(&RunOptions::new().events(sink))
        .await
        .unwrap_err();
    assert!(matches!(err, FederationError::RolledBack { .. }), "{err:?}");
    assert!(
        crate::support::error_chain(&err).contains("made by someone else"),
        "{err}"
    );
    let is = is_client(&sb);
    let name = "apim-federation".parse().unwrap();
    let theirs = || async { is.applications().get(&name).await.unwrap().unwrap() };
    assert_eq!(
        theirs().await.description.as_deref(),
        Some("someone else's")
    );
    fed.rollback(&RunOptions::new()).await.unwrap();
    fed.destroy(&RunOptions::new()).await.unwrap();
    assert_eq!(
        theirs().await.description.as_deref(),
        Some("someone else's")
    );
    println!(
        "sharing: a namesake service provider made meanwhile: conflict, rolled back; objects of others touched: 0"
    );
}

/// Every setting that shapes what is written takes part in the diff: changed after an apply, the
/// plan shows exactly that change, and a second apply converges (an empty plan). Not in the
/// table, with why: `marker` and `tenant` name the federation (another journal, another
/// federation); `client_id` and `client_secret` cannot change in place on IS (the plan names the
/// conflict); a user's password is only the initial one (IS keeps it one-way, never read back);
/// `concurrency` is not written anywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_setting_changed_after_an_apply_shows_in_the_plan_and_converges() {
    use wso2_apim_client::portals::SwitchOptions;
    type Change = fn(wso2_federation::FederationBuilder) -> wso2_federation::FederationBuilder;
    let changes: Vec<(&str, Change, &[&str])> = vec![
        (
            "identity_provider.display_name",
            |b| b.idp_display_name("WSO2 IS (changed)"),
            &["displayName"],
        ),
        (
            "service_provider.grant_types",
            |b| b.grant_types(["authorization_code"]),
            &["grantTypes"],
        ),
        (
            "service_provider.requested_claims",
            |b| b.request_claim("http://wso2.org/claims/emailaddress"),
            &["claims"],
        ),
        (
            "service_provider.role_claim",
            |b| b.role_claim(wso2_federation::RoleClaim::Groups),
            &["claims"],
        ),
        (
            "is.browser_url",
            |b| b.is_browser_url("https://is.example.com:9444"),
            &["OAuth2AuthzEPUrl", "OIDCLogoutEPUrl"],
        ),
        (
            "is.backend_url",
            |b| b.is_backend_url("https://is.internal:9444"),
            &["OAuth2TokenEPUrl", "UserInfoUrl"],
        ),
        (
            "apim.public_url",
            |b| b.apim_public_url("https://apim.example.com"),
            &["callbackUrl"],
        ),
        (
            "identity_provider.client_auth",
            |b| b.client_auth(wso2_federation::ClientAuthMode::RequestBody),
            &["IsBasicAuthEnabled"],
        ),
        (
            "identity_provider.jit",
            |b| {
                b.jit(wso2_federation::JitSpec {
                    enabled: true,
                    user_store: "SECONDARY".into(),
                })
            },
            &["just-in-time provisioning"],
        ),
        (
            "role_mappings",
            |b| {
                b.map_role("extra_role", "Internal/creator")
                    .role("extra_role")
            },
            &["role mappings"],
        ),
        (
            "users[].roles",
            |b| b.user("api_extra", "Extra#Pass1", ["publisher_role"]),
            &["api_extra"],
        ),
        (
            "portals.switch options",
            |b| {
                b.switch_options(SwitchOptions {
                    local_login_fallback: true,
                    ..SwitchOptions::default()
                })
            },
            &["authenticationType", "authentication steps"],
        ),
        // A new name is a new object; the old one, this federation's, stays until destroy.
        (
            "service_provider.name",
            |b| b.service_provider("apim-federation-2"),
            &["apim-federation-2\": create", "ClientId", "no longer name"],
        ),
        (
            "identity_provider.name",
            |b| b.identity_provider("wso2-is-2"),
            &[
                "wso2-is-2\": create",
                "authentication steps",
                "no longer name",
            ],
        ),
        (
            "roles[].name",
            |b| {
                b.role("third_role")
                    .user("api_third", "Third#Pass1", ["third_role"])
            },
            &["third_role\": create", "api_third"],
        ),
    ];
    let mut shown = 0;
    for (setting, change, expect) in changes {
        let sb = Sandbox::start().await.unwrap();
        sb.apim().ensure_portal_apps();
        let journal = TempJournal::new();
        seed(&sb, &journal).apply(&RunOptions::new()).await.unwrap();
        let changed = change(seed_builder(&sb).journal(journal.path()))
            .build()
            .unwrap();
        let plan = changed.plan().await.unwrap();
        let text = plan.to_string();
        for field in expect {
            assert!(
                text.contains(field),
                "{setting}: the plan does not show {field}:\n{text}"
            );
        }
        assert!(!plan.is_empty(), "{setting}: {text}");
        let untouched: Vec<_> = plan
            .changes
            .iter()
            .filter(|c| c.action.is_mutating())
            .map(|c| c.step.to_string())
            .collect();
        assert!(!untouched.is_empty());
        changed.apply(&RunOptions::new()).await.unwrap();
        let again = changed.plan().await.unwrap();
        assert!(
            again.is_empty(),
            "{setting}: a second apply does not converge:\n{again}"
        );
        assert!(
            again.changes.iter().all(|c| c.action != PlanAction::Adopt),
            "{setting}: our objects are ours"
        );
        shown += 1;
    }
    println!(
        "sharing: {shown} settings changed after an apply: each shown in the plan, each converged"
    );
}
