//! Against the simulated APIM of each release (`wso2-testkit`, which checks every SOAP body
//! against that release's WSDL element order and names the portals' service providers as the
//! release does): portals brought into being, snapshot, switch, exact restore; the identity
//! provider added, read back and compared.

use std::time::Duration;

use wso2_apim_client::idp::{OidcIdp, commonauth_url, difference};
use wso2_apim_client::portals::{Portal, SwitchOptions};
use wso2_apim_client::version::{ApimCapabilities, ServerVersion};
use wso2_apim_client::{ApimClient, Error};
use wso2_is_client::{IdpName, RoleName};
use wso2_testkit::{SUPER_TENANT, Sandbox};

const RELEASES: [(u16, u16); 5] = [(3, 0), (3, 2), (4, 2), (4, 3), (4, 7)];

async fn sandbox(apim: &str) -> Sandbox {
    Sandbox::builder()
        .is_version("7.1")
        .apim_version(apim)
        .start()
        .await
        .expect("sandbox")
}

fn client(sb: &Sandbox) -> ApimClient {
    ApimClient::builder(sb.apim().base_url())
        .credentials("admin", "admin")
        .ca_pem(sb.ca_pem().as_bytes().to_vec())
        .build()
        .expect("client")
}

fn idp_name() -> IdpName {
    IdpName::new("wso2-is").expect("name")
}

/// The identity provider the federation adds, for `caps`'s release.
fn oidc_idp(sb: &Sandbox, caps: &ApimCapabilities) -> OidcIdp {
    let is = url::Url::parse(&sb.is().base_url()).expect("IS url");
    let apim = url::Url::parse(&sb.apim().base_url()).expect("APIM url");
    OidcIdp::new(idp_name(), "client-id-1", "canary-idp-secret")
        .release(caps)
        .request_scopes("openid groups")
        .endpoints_of_is(&is, &is)
        .callback_url(commonauth_url(&apim, None))
        .map_role(
            "publisher_group",
            RoleName::new("Internal/publisher").expect("role"),
        )
        .map_role(
            "user_group",
            RoleName::new("Internal/subscriber").expect("role"),
        )
}

#[tokio::test]
async fn the_identity_provider_of_each_release_reads_back_as_sent() {
    for (major, minor) in RELEASES {
        let v = format!("{major}.{minor}");
        let caps = ApimCapabilities::of(ServerVersion::apim(major, minor));
        let sb = sandbox(&v).await;
        let apim = client(&sb).with_capabilities(caps);
        let sent = oidc_idp(&sb, &caps).build().expect("build");
        let confirmed = apim
            .identity_providers()
            .add_confirmed(&sent)
            .await
            .unwrap_or_else(|e| panic!("APIM {v}: {e}"));
        let read = apim
            .identity_providers()
            .get(&idp_name())
            .await
            .expect("read")
            .expect("present");
        assert_eq!(difference(&sent, &read), None, "APIM {v}");
        assert_eq!(difference(&sent, &confirmed), None, "APIM {v}");
        // The simulated release derives the scope its authenticator would request.
        assert_eq!(
            sb.apim()
                .idp_requested_scope(SUPER_TENANT, "wso2-is")
                .as_deref(),
            Some("openid groups"),
            "APIM {v}"
        );
    }
}

#[tokio::test]
async fn portals_of_each_release_switch_and_restore_exactly() {
    for (major, minor) in RELEASES {
        let v = format!("{major}.{minor}");
        let caps = ApimCapabilities::of(ServerVersion::apim(major, minor));
        let sb = sandbox(&v).await;
        let apim = client(&sb).with_capabilities(caps);
        // The step names the identity provider, which must exist (with its authenticator).
        apim.identity_providers()
            .add_confirmed(&oidc_idp(&sb, &caps).build().expect("build"))
            .await
            .unwrap_or_else(|e| panic!("APIM {v}: {e}"));
        let portals = apim.portals();
        for portal in Portal::ALL {
            let Some(name) = caps.portal_names.name(portal, "admin") else {
                sb.clear_requests();
                let err = portals.ensure(portal).await.unwrap_err();
                assert!(
                    matches!(err, Error::PortalNotInRelease { .. }),
                    "APIM {v}: {err}"
                );
                assert!(sb.apim().requests().is_empty(), "APIM {v}: nothing sent");
                continue;
            };
            sb.clear_requests();
            let sp = portals
                .ensure(portal)
                .await
                .unwrap_or_else(|e| panic!("APIM {v} {portal}: {e}"));
            assert_eq!(sp.application_name.as_deref(), Some(name.as_str()));
            let registrations: Vec<String> = sb
                .apim()
                .requests()
                .into_iter()
                .filter(|r| r.method == "GET")
                .map(|r| r.path)
                .collect();
            assert_eq!(
                registrations,
                [format!("/{}", caps.registration_paths(portal)[0])],
                "APIM {v}: the release's registration endpoint only"
            );

            let before = sb.snapshot();
            let snapshot = portals.snapshot(portal).await.expect("snapshot");
            let options = SwitchOptions::default();
            portals
                .switch_to_federated(portal, &idp_name(), &options)
                .await
                .unwrap_or_else(|e| panic!("APIM {v} {portal}: {e}"));
            let switched = portals.get(portal).await.expect("read").expect("present");
            assert!(
                portals.is_switched(&switched, &idp_name(), &options),
                "APIM {v} {portal}: the read-back is switched"
            );
            assert!(!before.diff(&sb.snapshot()).is_empty(), "APIM {v}");
            // A second switch sends nothing.
            sb.clear_requests();
            portals
                .switch_to_federated(portal, &idp_name(), &options)
                .await
                .expect("switch again");
            assert!(
                sb.apim().mutating_requests().is_empty(),
                "APIM {v} {portal}: the second switch wrote"
            );
            portals.restore(&snapshot).await.expect("restore");
            // As the server answers: the restore writes back what was read, including the
            // `false` defaults the release answers for fields the simulator had not stored.
            before.assert_same_as_answered(&sb.snapshot());
        }
    }
}

#[tokio::test]
async fn without_a_release_the_candidate_names_are_read_together() {
    let sb = sandbox("3.0").await;
    let apim = client(&sb);
    sb.apim().ensure_portal_apps();
    // Each answer waits, so reads sent one after the other would never overlap.
    sb.set_latency(Duration::from_millis(150));
    sb.clear_requests();
    let sp = apim
        .portals()
        .get_in_one_round(Portal::Publisher)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(
        sp.application_name.as_deref(),
        Some("admin_admin_publisher")
    );
    let reads = sb.apim().requests();
    assert_eq!(reads.len(), 3, "one read per candidate name");
    assert_eq!(sb.apim().max_in_flight(), 3, "all three in flight at once");
}
