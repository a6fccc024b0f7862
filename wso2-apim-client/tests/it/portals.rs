//! Portal service providers: presence, bringing into being, snapshot, switch, exact restore.

use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};
use wso2_apim_client::Error;
use wso2_apim_client::portals::{
    Portal, PortalSnapshot, SwitchOptions, federated, is_federated_through, is_switched, restorable,
};
use wso2_is_client::IdpName;
use wso2_is_client::application::AuthenticationType;
use wso2_is_client::model::ServiceProvider;

use crate::fixtures;
use crate::support::*;
use crate::util::*;

const APP: &str = "IdentityApplicationManagementService";

fn idp() -> IdpName {
    IdpName::new("wso2is").unwrap()
}

#[test]
fn switch_builds_exactly_one_step_with_one_federated_idp() {
    let rich = fixtures::service_provider("apim_publisher");
    let switched = federated(&rich, &idp(), &SwitchOptions::default());
    let auth = switched
        .local_and_out_bound_authentication_config
        .as_ref()
        .unwrap();
    assert_eq!(auth.authentication_type.as_deref(), Some("federated"));
    assert_eq!(auth.authentication_steps.len(), 1);
    let step = &auth.authentication_steps[0];
    assert_eq!(step.federated_identity_providers.len(), 1);
    assert!(step.local_authenticator_configs.is_empty());
    assert_eq!(
        step.federated_identity_providers[0]
            .identity_provider_name
            .as_deref(),
        Some("wso2is")
    );
    assert_eq!(
        switched
            .claim_config
            .as_ref()
            .unwrap()
            .always_send_mapped_local_subject_id,
        Some(true)
    );
    assert!(is_federated_through(&switched, &idp()));
    assert!(!is_federated_through(&rich, &idp()));
    assert!(is_switched(&switched, &idp(), &SwitchOptions::default()));
    assert!(!is_switched(&rich, &idp(), &SwitchOptions::default()));
    // Everything else is kept.
    assert_eq!(
        switched.inbound_authentication_config,
        rich.inbound_authentication_config
    );
    assert_eq!(switched.owner, rich.owner);
    assert_eq!(
        switched.outbound_provisioning_config,
        rich.outbound_provisioning_config
    );
    assert_eq!(switched.application_id, rich.application_id);

    let fallback = federated(
        &rich,
        &idp(),
        &SwitchOptions {
            local_login_fallback: true,
            ..SwitchOptions::default()
        },
    );
    assert_eq!(
        fallback.authentication_type(),
        Some(AuthenticationType::Flow)
    );
    let step = &fallback
        .local_and_out_bound_authentication_config
        .as_ref()
        .unwrap()
        .authentication_steps[0];
    assert_eq!(
        step.local_authenticator_configs[0].name.as_deref(),
        Some("BasicAuthenticator")
    );
}

/// A rich service provider whose only secrets are in its inbound configuration, as on APIM's
/// portal service providers (their steps reference identity providers by name only).
fn portal_like(name: &str) -> ServiceProvider {
    let mut sp = fixtures::service_provider(name);
    wso2_is_client::model::visit_sp_properties(&mut sp, &mut |path, p| {
        if !path.starts_with("inbound/") {
            if p.is_secret() {
                p.value = Some(wso2_is_client::PropertyValue::Plain("not a secret".into()));
                p.confidential = Some(false);
                p.name = Some("plain".into());
            }
            // Sub-properties (5.17.5+) of the fixture's secret properties are secrets too.
            for sub in p.sub_properties.iter_mut().filter(|s| s.is_secret()) {
                sub.value = Some(wso2_is_client::PropertyValue::Plain("not a secret".into()));
                sub.confidential = Some(false);
                sub.name = Some("plain".into());
            }
        }
    });
    sp
}

#[test]
fn a_serialised_snapshot_restores_with_live_secrets() {
    let rich = portal_like("apim_devportal");
    let snapshot = PortalSnapshot {
        portal: Portal::DevPortal,
        service_provider: rich.clone(),
    };
    let json = serde_json::to_string(&snapshot).unwrap();
    assert!(
        !json.contains("fixture-consumer-secret"),
        "no secret in a serialised snapshot"
    );
    let from_disk: PortalSnapshot = serde_json::from_str(&json).unwrap();
    assert_ne!(
        from_disk.service_provider, rich,
        "secrets came back redacted"
    );
    let live = federated(&rich, &idp(), &SwitchOptions::default());
    assert!(
        restorable(&from_disk, &live).unwrap() == rich,
        "restored value differs from the original"
    );
}

#[test]
fn a_redacted_secret_without_a_live_value_cannot_be_restored() {
    let rich = fixtures::service_provider("apim_devportal");
    let from_disk: PortalSnapshot = serde_json::from_str(
        &serde_json::to_string(&PortalSnapshot {
            portal: Portal::DevPortal,
            service_provider: rich,
        })
        .unwrap(),
    )
    .unwrap();
    // The switch replaced the steps whose identity providers held a secret: nothing to take it from.
    let live = federated(
        &fixtures::service_provider("apim_devportal"),
        &idp(),
        &SwitchOptions::default(),
    );
    let err = restorable(&from_disk, &live).unwrap_err();
    assert!(matches!(err, Error::RestoreImpossible { .. }), "{err}");
    assert!(err.to_string().contains("step/1/idp/wso2is/"), "{err}");
}

/// APIM 3.0.0 names the Developer Portal's service provider `admin_admin_store` and answers
/// `User not authorized` for names that do not exist.
#[tokio::test]
async fn ensure_calls_the_login_endpoints_then_polls_until_the_sp_appears() {
    let server = server().await;
    for p in [
        "/devportal/services/auth/login",
        "/devportal/services/configs",
    ] {
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(ResponseTemplate::new(302))
            .expect(1)
            .mount(&server)
            .await;
    }
    // The release is not known: names are tried newest first; the older ones only while the
    // newer are absent.
    for (absent, reads) in [("apim_devportal", 4), ("admin_apim_devportal", 3)] {
        soap_with(APP, "getApplication", AXIS2, &[("applicationName", absent)])
            .respond_with(respond_fault("User not authorized"))
            .expect(reads)
            .mount(&server)
            .await;
    }
    // Absent for the first read, the read after the login calls and one poll; then present.
    soap_with(
        APP,
        "getApplication",
        AXIS2,
        &[("applicationName", "admin_admin_store")],
    )
    .respond_with(respond_fault("User not authorized"))
    .up_to_n_times(3)
    .expect(3)
    .with_priority(1)
    .mount(&server)
    .await;
    let mut sp = ServiceProvider::default();
    sp.application_id = Some(3);
    sp.application_name = Some("admin_admin_store".into());
    soap_with(
        APP,
        "getApplication",
        AXIS2,
        &[("applicationName", "admin_admin_store")],
    )
    .respond_with(respond("getApplication", AXIS2, &sp_return(&sp)))
    .expect(2)
    .with_priority(2)
    .mount(&server)
    .await;
    let clock = RecordingClock::default();
    let apim = apim_with_clock(&server, clock.clone());
    let got = apim.portals().ensure(Portal::DevPortal).await.unwrap();
    assert_eq!(got.application_id, Some(3));
    assert_eq!(
        clock.0.lock().unwrap().len(),
        2,
        "waited between polls, on the injected clock"
    );
    // The name found is remembered: the next read goes straight to it.
    assert_eq!(
        apim.portal_names().known(Portal::DevPortal).as_deref(),
        Some("admin_admin_store")
    );
    assert!(
        apim.portals()
            .get(Portal::DevPortal)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn ensure_gives_up_with_a_clear_error() {
    let server = server().await;
    for p in ["/publisher/services/auth/login"] {
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(ResponseTemplate::new(404))
            .expect(1)
            .mount(&server)
            .await;
    }
    // Nine reads (one before the login calls, eight polls) of the three names APIM versions use.
    soap(APP, "getApplication", AXIS2)
        .respond_with(respond_fault("User not authorized"))
        .expect(27)
        .mount(&server)
        .await;
    let err = apim(&server)
        .portals()
        .ensure(Portal::Publisher)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::PortalUnavailable {
                portal: Portal::Publisher,
                attempts: 8,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("log in to the portal once"),
        "{err}"
    );
}

#[tokio::test]
async fn snapshot_switch_restore_gives_back_the_original_body() {
    let server = server().await;
    let original = fixtures::service_provider("apim_publisher");
    let switched = federated(&original, &idp(), &SwitchOptions::default());
    // Reads: snapshot, switch (read before write), restore (live), restore check.
    soap(APP, "getApplication", AXIS2)
        .respond_with(respond("getApplication", AXIS2, &sp_return(&original)))
        .up_to_n_times(2)
        .expect(2)
        .with_priority(1)
        .mount(&server)
        .await;
    soap(APP, "getApplication", AXIS2)
        .respond_with(respond("getApplication", AXIS2, &sp_return(&switched)))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    soap(APP, "getApplication", AXIS2)
        .respond_with(respond("getApplication", AXIS2, &sp_return(&original)))
        .expect(1)
        .with_priority(3)
        .mount(&server)
        .await;
    soap(APP, "updateApplication", AXIS2)
        .respond_with(respond_void("updateApplication", AXIS2))
        .expect(2)
        .mount(&server)
        .await;

    let apim = apim(&server);
    // One read per lookup: the name is fixed in advance.
    apim.portal_names().fix(Portal::Publisher, "apim_publisher");
    let portals = apim.portals();
    let snapshot = portals.snapshot(Portal::Publisher).await.unwrap();
    portals
        .switch_to_federated(Portal::Publisher, &idp(), &SwitchOptions::default())
        .await
        .unwrap();
    portals.restore(&snapshot).await.unwrap();

    let updates = bodies_for(&server, "updateApplication").await;
    assert_eq!(updates.len(), 2);
    // The restored body equals the original, as the identity client would send it, canonicalised.
    let expected = wso2_is_client::carbon::soap::encode(
        &wso2_is_client::application::UpdateApplication::new(original),
    )
    .unwrap();
    assert!(
        canonical(&updates[1]) == canonical(&expected.body),
        "the restored body differs from the original"
    );
    assert!(
        canonical(&updates[0]) != canonical(&expected.body),
        "the switch changed nothing"
    );
}
