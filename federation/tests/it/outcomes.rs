//! Unknown outcomes (a timeout or a 500 after the server committed, a timeout before), rich
//! portal service providers restored exactly, and hand-made namesakes left alone.

use std::time::Duration;

use wso2_federation::FederationError;
use wso2_is_client::carbon::xml::{ns, to_element};
use wso2_is_client::model::ServiceProvider;
use wso2_testkit::{FaultKind, FaultRule, SUPER_TENANT, Sandbox};

use crate::support::*;

/// A sandbox whose hanging faults outlast the clients' 3-second timeout, but not by much.
/// A sandbox whose portals are registered (as after their first login: a registration is never
/// undone, so a clean slate includes them).
async fn sandbox() -> Sandbox {
    let sb = Sandbox::start().await.unwrap();
    sb.apim().ensure_portal_apps();
    for server in [sb.is(), sb.apim()] {
        server.update_quirks(|q| q.hang = Duration::from_millis(3500));
    }
    sb
}

/// A create whose answer is lost after the server stored the object is adopted by reading
/// back: the apply completes, and a second apply changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_committed_before_its_answer_was_lost_is_read_back_and_kept() {
    for (server, action, kind) in [
        ("is", "addRole", FaultKind::TimeoutAfterCommit),
        ("is", "createApplication", FaultKind::ServerErrorAfterCommit),
        (
            "is",
            "registerOAuthApplicationData",
            FaultKind::TimeoutAfterCommit,
        ),
        ("apim", "addIdP", FaultKind::ServerErrorAfterCommit),
        ("apim", "addIdP", FaultKind::TimeoutAfterCommit),
    ] {
        let sb = sandbox().await;
        let target = if server == "is" { sb.is() } else { sb.apim() };
        target.inject(FaultRule::nth(action, 1, kind.clone()));
        let journal = TempJournal::new();
        let fed = seed(&sb, &journal);
        let result = fed.apply(&journal.options()).await;
        assert!(result.is_ok(), "{action} {kind:?}: {result:?}");
        assert!(
            fed.plan().await.unwrap().is_empty(),
            "{action} {kind:?}: the federation is complete"
        );
        // What the lost answer created is ours: destroy removes it.
        fed.destroy(&journal.options()).await.unwrap();
    }
}

/// A create that never reached the store (a timeout before the commit) is found absent by
/// reading back: the step fails and everything before it is undone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_lost_before_its_commit_is_undone_correctly() {
    for (server, action) in [
        ("is", "addUser"),
        ("is", "createApplication"),
        ("apim", "addIdP"),
    ] {
        let sb = sandbox().await;
        let clean = sb.snapshot();
        let target = if server == "is" { sb.is() } else { sb.apim() };
        target.inject(FaultRule::nth(action, 1, FaultKind::TimeoutBeforeCommit));
        let journal = TempJournal::new();
        let fed = seed(&sb, &journal);
        match fed.apply(&journal.options()).await {
            Err(FederationError::RolledBack { .. }) => {}
            other => panic!("{action}: expected a rollback, got {other:?}"),
        }
        clean.assert_same(&sb.snapshot());
        assert!(
            journal.text().contains("\"event\":\"undone\""),
            "{action}: the undo was journaled"
        );
    }
}

/// Portal service providers with every field of the WSDL type set come back exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rich_portal_service_providers_are_restored_exactly() {
    let sb = Sandbox::start().await.unwrap();
    for (id, name) in [(41, "admin_admin_publisher"), (42, "admin_admin_store")] {
        // The fields of the simulated APIM 3.0's WSDL (framework 5.14.97).
        let mut sp: ServiceProvider =
            crate::fixtures::service_provider_for(name, crate::fixtures::FrameworkWsdl::V5_14_97);
        sp.application_id = Some(id);
        // The identity providers its steps name must exist for the server to accept it; keep
        // one local step instead.
        let auth = sp
            .local_and_out_bound_authentication_config
            .as_mut()
            .unwrap();
        for step in auth.authentication_steps.iter_mut() {
            step.federated_identity_providers.clear();
        }
        auth.authentication_step_for_subject = None;
        auth.authentication_step_for_attributes = None;
        if let Some(out) = sp.outbound_provisioning_config.as_mut() {
            out.provisioning_identity_providers.clear();
        }
        let xml = to_element(&sp, ns::MODEL, "return").unwrap();
        sb.apim().seed_xml(SUPER_TENANT, &xml).unwrap();
    }
    let clean = sb.snapshot();
    let journal = TempJournal::new();
    let fed = seed(&sb, &journal);
    fed.apply(&journal.options()).await.unwrap();
    assert_ne!(clean, sb.snapshot());
    fed.destroy(&journal.options()).await.unwrap();
    clean.assert_same(&sb.snapshot());
}

/// A hand-made identity provider and service provider whose names share the federation's
/// prefix are never touched by destroy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_leaves_hand_made_namesakes_alone() {
    let sb = Sandbox::start().await.unwrap();
    let is = is_client(&sb);
    let apim = apim_client(&sb);
    let handmade_sp = ServiceProvider::named(&"apim-federation-handmade".parse().unwrap())
        .with_description("by hand");
    is.applications().create(&handmade_sp).await.unwrap();
    let mut idp =
        wso2_is_client::model::IdentityProvider::named(&"wso2-is-handmade".parse().unwrap());
    idp.identity_provider_description = Some("by hand".into());
    wso2_is_client::idp::IdentityProviders::new(apim.core())
        .add(&idp)
        .await
        .unwrap();
    // The portals were logged into before (their service providers are never deleted).
    sb.apim().ensure_portal_apps();
    let clean = sb.snapshot();

    let journal = TempJournal::new();

    let fed = seed(&sb, &journal);
    fed.apply(&journal.options()).await.unwrap();
    fed.destroy(&journal.options()).await.unwrap();
    clean.assert_same(&sb.snapshot());
    assert!(
        is.applications()
            .get(&"apim-federation-handmade".parse().unwrap())
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        apim.identity_providers()
            .get(&"wso2-is-handmade".parse().unwrap())
            .await
            .unwrap()
            .is_some()
    );
}

/// A service provider with the federation's name that it did not make is a conflict, found
/// while planning: nothing is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namesake_without_the_ownership_tag_is_a_conflict() {
    let sb = Sandbox::start().await.unwrap();
    let is = is_client(&sb);
    is.applications()
        .create(
            &ServiceProvider::named(&"apim-federation".parse().unwrap())
                .with_description("someone else's"),
        )
        .await
        .unwrap();
    sb.is().clear_requests();
    let journal = TempJournal::new();
    let fed = seed(&sb, &journal);
    let err = fed.apply(&journal.options()).await.unwrap_err();
    assert!(matches!(err, FederationError::Conflict { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("does not carry this federation's tag"),
        "{err}"
    );
    // A first apply reads under the run lease: the lease was taken and given back, and nothing
    // else was written.
    let writes: Vec<_> = sb
        .is()
        .requests()
        .into_iter()
        .chain(sb.apim().requests())
        .filter(|r| r.mutating)
        .collect();
    assert!(
        writes
            .iter()
            .all(|r| r.body.contains(wso2_federation::lease::LEASE_NAME)),
        "nothing but the lease was written: {:?}",
        writes.iter().map(|r| &r.action).collect::<Vec<_>>()
    );
    assert_eq!(
        wso2_federation::lease::read(&apim_client(&sb))
            .await
            .unwrap(),
        wso2_federation::lease::LeaseState::Free,
        "the lease was given back"
    );
}
