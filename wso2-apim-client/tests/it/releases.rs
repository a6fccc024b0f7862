//! Per APIM release family (3.0, 3.1, 3.2, 4.0-4.2, 4.3+), against wiremock: the portal
//! service-provider names read, the registration endpoints called, the identity provider built
//! and the consent switches written.

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use wso2_apim_client::idp::{OidcIdp, commonauth_url, difference};
use wso2_apim_client::portals::{
    Portal, SwitchOptions, federated_for, is_switched, is_switched_for,
};
use wso2_apim_client::version::{ApimCapabilities, ServerVersion};
use wso2_apim_client::{ApimClient, Error};
use wso2_is_client::idp::oidc_keys;
use wso2_is_client::model::{IdentityProvider, ServiceProvider, ServiceProviderProperty};
use wso2_is_client::{ApplicationName, IdpName, RoleName};

use crate::fixtures;
use crate::support::*;
use crate::util::*;

const APP: &str = "IdentityApplicationManagementService";
const IDP: &str = "IdentityProviderMgtService";
const UMS: &str = "RemoteUserStoreManagerService";

fn caps(major: u16, minor: u16) -> ApimCapabilities {
    ApimCapabilities::of(ServerVersion::apim(major, minor))
}

/// One release of each family, with its portal service-provider names for the admin `admin`.
fn families() -> Vec<(ApimCapabilities, [Option<&'static str>; 3])> {
    let new = |admin: bool| {
        [
            Some("apim_publisher"),
            Some("apim_devportal"),
            admin.then_some("apim_admin_portal"),
        ]
    };
    vec![
        (
            caps(3, 0),
            [
                Some("admin_admin_publisher"),
                Some("admin_admin_store"),
                None,
            ],
        ),
        (caps(3, 1), new(false)),
        (caps(3, 2), new(true)),
        (caps(4, 0), new(true)),
        (caps(4, 2), new(true)),
        (caps(4, 3), new(true)),
        (caps(4, 7), new(true)),
    ]
}

fn versioned(server: &MockServer, caps: ApimCapabilities) -> ApimClient {
    apim(server).with_capabilities(caps)
}

fn portal_sp(name: &str) -> ServiceProvider {
    let mut sp = ServiceProvider::default();
    sp.application_id = Some(7);
    sp.application_name = Some(name.to_owned());
    sp
}

fn absent() -> ResponseTemplate {
    respond_fault("User not authorized")
}

#[tokio::test]
async fn each_release_reads_its_own_portal_names_only() {
    for (caps, names) in families() {
        let server = server().await;
        for name in names.iter().flatten() {
            soap_with(APP, "getApplication", AXIS2, &[("applicationName", name)])
                .respond_with(respond(
                    "getApplication",
                    AXIS2,
                    &sp_return(&portal_sp(name)),
                ))
                .expect(1)
                .mount(&server)
                .await;
        }
        let apim = versioned(&server, caps);
        let portals = apim.portals();
        for (portal, name) in Portal::ALL.into_iter().zip(names) {
            match name {
                Some(name) => {
                    assert_eq!(
                        portals.lookup_names(portal).unwrap(),
                        [ApplicationName::new(name).unwrap()],
                        "{}",
                        caps.version
                    );
                    let sp = portals.get(portal).await.unwrap().unwrap();
                    assert_eq!(sp.application_name.as_deref(), Some(name));
                }
                None => {
                    let err = portals.get(portal).await.unwrap_err();
                    assert!(
                        matches!(err, Error::PortalNotInRelease { portal: p, .. } if p == portal),
                        "{}: {err}",
                        caps.version
                    );
                    assert_eq!(err.dispatch(), wso2_apim_client::Dispatch::NotSent);
                    assert!(err.to_string().contains(&caps.version.to_string()), "{err}");
                }
            }
        }
        assert_eq!(
            portals.portals().len(),
            names.iter().flatten().count(),
            "{}",
            caps.version
        );
        // The catch-all of `server()` fails the test at drop if any other name was read.
    }
}

#[tokio::test]
async fn without_a_release_every_candidate_is_read_in_one_round() {
    let server = server().await;
    for name in ["apim_publisher", "admin_apim_publisher"] {
        soap_with(APP, "getApplication", AXIS2, &[("applicationName", name)])
            .respond_with(absent())
            .expect(1)
            .mount(&server)
            .await;
    }
    soap_with(
        APP,
        "getApplication",
        AXIS2,
        &[("applicationName", "admin_admin_publisher")],
    )
    .respond_with(respond(
        "getApplication",
        AXIS2,
        &sp_return(&portal_sp("admin_admin_publisher")),
    ))
    .expect(2)
    .mount(&server)
    .await;
    let apim = apim(&server);
    let portals = apim.portals();
    let names: Vec<String> = portals
        .lookup_names(Portal::Publisher)
        .unwrap()
        .into_iter()
        .map(|n| n.as_str().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "apim_publisher",
            "admin_admin_publisher",
            "admin_apim_publisher"
        ]
    );
    // Every candidate is read, the last one too although an earlier one exists.
    let sp = portals
        .get_in_one_round(Portal::Publisher)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        sp.application_name.as_deref(),
        Some("admin_admin_publisher")
    );
    // Found once, the name is the only one read from then on.
    assert_eq!(
        portals.lookup_names(Portal::Publisher).unwrap(),
        [ApplicationName::new("admin_admin_publisher").unwrap()]
    );
    assert!(portals.get(Portal::Publisher).await.unwrap().is_some());
}

#[test]
fn found_takes_the_first_answer_that_exists_in_lookup_order() {
    let server_less = ApimClient::builder("https://apim.invalid:9443")
        .credentials("admin", "x")
        .build()
        .unwrap();
    let portals = server_less.portals();
    let names = portals.lookup_names(Portal::DevPortal).unwrap();
    let reads = vec![
        (names[0].clone(), None),
        (names[1].clone(), Some(portal_sp("admin_admin_store"))),
        (names[2].clone(), Some(portal_sp("admin_apim_devportal"))),
    ];
    let sp = portals.found(Portal::DevPortal, reads).unwrap();
    assert_eq!(sp.application_name.as_deref(), Some("admin_admin_store"));
    assert_eq!(
        server_less
            .portal_names()
            .known(Portal::DevPortal)
            .as_deref(),
        Some("admin_admin_store")
    );
    assert!(
        portals
            .found(Portal::Publisher, vec![(names[0].clone(), None)])
            .is_none()
    );
}

#[tokio::test]
async fn each_release_calls_its_own_registration_endpoints() {
    for (caps, names) in families() {
        let server = server().await;
        let apim = versioned(&server, caps);
        for (portal, name) in Portal::ALL.into_iter().zip(names) {
            let Some(name) = name else {
                let err = apim.portals().ensure(portal).await.unwrap_err();
                assert!(
                    matches!(err, Error::PortalNotInRelease { .. }),
                    "{}: {err}",
                    caps.version
                );
                continue;
            };
            let trigger = match portal {
                Portal::Publisher => "/publisher/services/auth/login",
                Portal::DevPortal => "/devportal/services/configs",
                Portal::AdminPortal => "/admin/services/auth/login",
            };
            Mock::given(method("GET"))
                .and(path(trigger))
                .respond_with(ResponseTemplate::new(302))
                .expect(1)
                .mount(&server)
                .await;
            // Absent at the first read, present at the first poll.
            soap_with(APP, "getApplication", AXIS2, &[("applicationName", name)])
                .respond_with(absent())
                .up_to_n_times(1)
                .expect(1)
                .with_priority(1)
                .mount(&server)
                .await;
            soap_with(APP, "getApplication", AXIS2, &[("applicationName", name)])
                .respond_with(respond(
                    "getApplication",
                    AXIS2,
                    &sp_return(&portal_sp(name)),
                ))
                .expect(1)
                .with_priority(2)
                .mount(&server)
                .await;
            let sp = apim.portals().ensure(portal).await.unwrap();
            assert_eq!(sp.application_name.as_deref(), Some(name));
        }
        // Any other endpoint (e.g. `/devportal/services/auth/login`) would hit the catch-all.
    }
}

#[tokio::test]
async fn without_a_release_every_registration_endpoint_is_called() {
    let server = server().await;
    for p in [
        "/devportal/services/configs",
        "/devportal/services/auth/login",
    ] {
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(ResponseTemplate::new(302))
            .expect(1)
            .mount(&server)
            .await;
    }
    soap(APP, "getApplication", AXIS2)
        .respond_with(absent())
        .up_to_n_times(3)
        .expect(3)
        .with_priority(1)
        .mount(&server)
        .await;
    // Then the newest name exists: the first read of the poll finds it.
    soap(APP, "getApplication", AXIS2)
        .respond_with(respond(
            "getApplication",
            AXIS2,
            &sp_return(&portal_sp("apim_devportal")),
        ))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    let sp = apim(&server)
        .portals()
        .ensure(Portal::DevPortal)
        .await
        .unwrap();
    assert_eq!(sp.application_name.as_deref(), Some("apim_devportal"));
}

fn property<'a>(sp: &'a ServiceProvider, name: &str) -> Option<&'a str> {
    sp.sp_properties
        .iter()
        .find(|p| p.name.as_deref() == Some(name))
        .and_then(|p| p.value.as_deref())
}

/// The names of the `spProperties` in a sent `updateApplication` body, with their values.
fn sent_properties(body: &str) -> Vec<(String, String)> {
    let doc = roxmltree::Document::parse(body).unwrap();
    doc.descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "spProperties")
        .map(|p| {
            let text = |local: &str| {
                p.children()
                    .find(|c| c.tag_name().name() == local)
                    .and_then(|c| c.text())
                    .unwrap_or("")
                    .to_owned()
            };
            (text("name"), text("value"))
        })
        .collect()
}

#[tokio::test]
async fn each_release_writes_its_own_consent_switches() {
    let idp = IdpName::new("wso2is").unwrap();
    for (caps, _) in families() {
        let server = server().await;
        let original = portal_sp("portal");
        soap(APP, "getApplication", AXIS2)
            .respond_with(respond("getApplication", AXIS2, &sp_return(&original)))
            .expect(1)
            .mount(&server)
            .await;
        soap(APP, "updateApplication", AXIS2)
            .respond_with(respond_void("updateApplication", AXIS2))
            .expect(1)
            .mount(&server)
            .await;
        let apim = versioned(&server, caps);
        let written = apim
            .portals()
            .switch_to_federated(Portal::Publisher, &idp, &SwitchOptions::default())
            .await
            .unwrap();
        let body = &bodies_for(&server, "updateApplication").await[0];
        let consent: Vec<(String, String)> = sent_properties(body)
            .into_iter()
            .filter(|(n, _)| n.starts_with("skip"))
            .collect();
        let want: Vec<(String, String)> = if caps.skip_consent {
            vec![
                ("skipConsent".into(), "true".into()),
                ("skipLogoutConsent".into(), "true".into()),
            ]
        } else {
            // APIM 3.0 has no per-application consent switch: nothing is written for it.
            Vec::new()
        };
        assert_eq!(consent, want, "{}", caps.version);
        assert!(
            apim.portals()
                .is_switched(&written, &idp, &SwitchOptions::default())
        );
        assert!(is_switched_for(
            &caps,
            &written,
            &idp,
            &SwitchOptions::default()
        ));
    }
}

#[test]
fn consent_switches_are_judged_by_what_the_server_reports() {
    let idp = IdpName::new("wso2is").unwrap();
    let options = SwitchOptions::default();
    let sp = fixtures::service_provider("apim_publisher");
    let on_3_2 = federated_for(&caps(3, 2), &sp, &idp, &options);
    assert_eq!(property(&on_3_2, "skipConsent"), Some("true"));
    assert_eq!(property(&on_3_2, "skipLogoutConsent"), Some("true"));
    // What a 3.1+ server reports when the fields were not set: the properties read "false"
    // (the framework rebuilds them from the fields at every update). Not switched.
    let mut reported = on_3_2.clone();
    for p in &mut reported.sp_properties {
        if p.name.as_deref() == Some("skipLogoutConsent") {
            p.value = Some("false".into());
        }
    }
    assert!(!is_switched_for(&caps(3, 2), &reported, &idp, &options));
    // 3.0 checks no consent property; the release-agnostic check only `skipConsent`.
    let on_3_0 = federated_for(&caps(3, 0), &sp, &idp, &options);
    assert_eq!(
        property(&on_3_0, "skipConsent"),
        property(&sp, "skipConsent"),
        "3.0: the consent property is left as it was"
    );
    assert!(is_switched_for(&caps(3, 0), &on_3_0, &idp, &options));
    assert!(is_switched(&reported, &idp, &options));
    // Asking for no consent switch writes none, on any release.
    let quiet = SwitchOptions {
        skip_consent: false,
        skip_logout_consent: false,
        ..SwitchOptions::default()
    };
    let mut bare = sp.clone();
    bare.sp_properties
        .retain(|p: &ServiceProviderProperty| !p.name.as_deref().unwrap_or("").starts_with("skip"));
    let switched = federated_for(&caps(4, 7), &bare, &idp, &quiet);
    assert_eq!(property(&switched, "skipConsent"), None);
    assert_eq!(property(&switched, "skipLogoutConsent"), None);
}

fn is_url() -> url::Url {
    url::Url::parse("https://is.example.com:9444/").unwrap()
}

pub fn idp_for(caps: &ApimCapabilities) -> OidcIdp {
    OidcIdp::new(
        IdpName::new("wso2-is").unwrap(),
        "client-id-1",
        "canary-idp-secret",
    )
    .release(caps)
    .request_scopes("openid groups")
    .endpoints_of_is(&is_url(), &is_url())
    .callback_url(commonauth_url(
        &url::Url::parse("https://apim.example.com:9443/").unwrap(),
        None,
    ))
    .map_role("user_group", RoleName::new("Internal/subscriber").unwrap())
}

fn oidc_property(idp: &IdentityProvider, key: &str) -> Option<String> {
    idp.oidc_authenticator()
        .and_then(|o| o.property(key).map(str::to_owned))
}

#[test]
fn each_release_gets_its_own_scope_property() {
    for (caps, want_key, want_value) in [
        (
            caps(3, 0),
            oidc_keys::COMMON_AUTH_QUERY_PARAMS,
            "scope=openid%20groups",
        ),
        (
            caps(3, 1),
            oidc_keys::COMMON_AUTH_QUERY_PARAMS,
            "scope=openid%20groups",
        ),
        (
            caps(3, 2),
            oidc_keys::COMMON_AUTH_QUERY_PARAMS,
            "scope=openid%20groups",
        ),
        (
            caps(4, 0),
            oidc_keys::COMMON_AUTH_QUERY_PARAMS,
            "scope=openid groups",
        ),
        (
            caps(4, 2),
            oidc_keys::COMMON_AUTH_QUERY_PARAMS,
            "scope=openid groups",
        ),
        (caps(4, 3), oidc_keys::SCOPES, "openid groups"),
        (caps(4, 7), oidc_keys::SCOPES, "openid groups"),
    ] {
        let idp = idp_for(&caps).build().unwrap();
        let v = caps.version;
        assert_eq!(
            oidc_property(&idp, want_key).as_deref(),
            Some(want_value),
            "{v}"
        );
        let other = if want_key == oidc_keys::SCOPES {
            oidc_keys::COMMON_AUTH_QUERY_PARAMS
        } else {
            oidc_keys::SCOPES
        };
        assert_eq!(oidc_property(&idp, other), None, "{v}");
        // What every release needs from the identity provider.
        assert_eq!(
            oidc_property(&idp, oidc_keys::IS_BASIC_AUTH_ENABLED).as_deref(),
            Some("true"),
            "{v}"
        );
        assert_eq!(
            oidc_property(&idp, oidc_keys::USER_INFO_URL).as_deref(),
            Some("https://is.example.com:9444/oauth2/userinfo"),
            "{v}"
        );
        assert_eq!(idp.role_claim_uri(), Some("groups"), "{v}");
        let mappings = &idp.claim_config.as_ref().unwrap().claim_mappings;
        assert!(
            mappings.iter().any(|m| {
                m.remote_claim.as_ref().and_then(|c| c.claim_uri.as_deref()) == Some("groups")
                    && m.local_claim.as_ref().and_then(|c| c.claim_uri.as_deref())
                        == Some("http://wso2.org/claims/role")
            }),
            "{v}"
        );
        let jit = idp.just_in_time_provisioning_config.as_ref().unwrap();
        assert_eq!(jit.provisioning_enabled, Some(true), "{v}");
        assert_eq!(
            jit.provisioning_user_store.as_deref(),
            Some("PRIMARY"),
            "{v}"
        );
        assert!(difference(&idp, &idp).is_none(), "{v}");
    }
}

#[test]
fn scopes_join_other_query_params_and_conflicts_are_refused() {
    let idp = idp_for(&caps(4, 1))
        .query_params("prompt=login")
        .build()
        .unwrap();
    assert_eq!(
        oidc_property(&idp, oidc_keys::COMMON_AUTH_QUERY_PARAMS).as_deref(),
        Some("prompt=login&scope=openid groups")
    );
    let err = idp_for(&caps(4, 1))
        .query_params("scope=openid")
        .build()
        .unwrap_err();
    assert!(
        err.to_string().contains("query_params also has a scope"),
        "{err}"
    );
    let err = idp_for(&caps(4, 5)).scopes("openid").build().unwrap_err();
    assert!(
        err.to_string().contains("Scopes property is also given"),
        "{err}"
    );
    let err = OidcIdp::new(IdpName::new("x").unwrap(), "id", "secret")
        .request_scopes("openid groups")
        .endpoints_of_is(&is_url(), &is_url())
        .callback_url("https://apim/commonauth")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("needs the APIM release"), "{err}");
    for bad in ["", "openid&x=1", "open%20id"] {
        assert!(
            idp_for(&caps(4, 7)).request_scopes(bad).build().is_err(),
            "{bad:?}"
        );
    }
}

#[test]
fn releases_that_render_roles_as_one_string_need_userinfo() {
    for (caps, defect) in [
        (caps(4, 2), false),
        (caps(4, 3), true),
        (caps(4, 4), true),
        (caps(4, 5), false),
    ] {
        let without = OidcIdp::new(IdpName::new("wso2-is").unwrap(), "id", "secret")
            .release(&caps)
            .authorize_url("https://is/oauth2/authorize")
            .token_url("https://is/oauth2/token")
            .callback_url("https://apim/commonauth")
            .build();
        match (defect, without) {
            (true, Err(e)) => {
                let text = e.to_string();
                assert!(text.contains("userinfo_url"), "{text}");
                assert!(text.contains("api-manager #3015"), "{text}");
                assert_eq!(e.dispatch(), wso2_apim_client::Dispatch::NotSent);
            }
            (false, Ok(idp)) => assert_eq!(oidc_property(&idp, oidc_keys::USER_INFO_URL), None),
            (d, other) => panic!("{}: defect {d}, got {other:?}", caps.version),
        }
    }
}

#[test]
fn difference_follows_what_is_sent() {
    let sent = idp_for(&caps(4, 7)).build().unwrap();
    let mut read = sent.clone();
    read.claim_config.as_mut().unwrap().claim_mappings.clear();
    assert!(
        difference(&sent, &read)
            .unwrap()
            .contains("groups -> http://wso2.org/claims/role")
    );
    let mut read = sent.clone();
    read.just_in_time_provisioning_config
        .as_mut()
        .unwrap()
        .provisioning_user_store = Some("SECONDARY".into());
    assert!(difference(&sent, &read).unwrap().contains("user store"));
    let mut read = sent.clone();
    let mut oidc = read.oidc_authenticator().unwrap();
    oidc.set_property(oidc_keys::SCOPES, "openid");
    read.set_oidc_authenticator(oidc, true);
    assert!(difference(&sent, &read).unwrap().contains("Scopes"));
}

#[tokio::test]
async fn the_idp_sent_carries_the_release_scope_property() {
    for (caps, key, value) in [
        (caps(3, 2), "commonAuthQueryParams", "scope=openid%20groups"),
        (caps(4, 2), "commonAuthQueryParams", "scope=openid groups"),
        (caps(4, 7), "Scopes", "openid groups"),
    ] {
        let server = server().await;
        soap(UMS, "isExistingRole", UM)
            .respond_with(respond("isExistingRole", UM, "<ns:return>true</ns:return>"))
            .expect(1)
            .mount(&server)
            .await;
        let idp = idp_for(&caps).build().unwrap();
        soap(IDP, "addIdP", IDP_MGT)
            .respond_with(respond_void("addIdP", IDP_MGT))
            .expect(1)
            .mount(&server)
            .await;
        soap_with(IDP, "getIdPByName", IDP_MGT, &[("idPName", "wso2-is")])
            .respond_with(respond(
                "getIdPByName",
                IDP_MGT,
                &crate::idp::idp_return(&idp),
            ))
            .expect(1)
            .mount(&server)
            .await;
        versioned(&server, caps)
            .identity_providers()
            .add_confirmed(&idp)
            .await
            .unwrap();
        let body = &bodies_for(&server, "addIdP").await[0];
        let doc = roxmltree::Document::parse(body).unwrap();
        let found = doc.descendants().any(|n| {
            n.tag_name().name() == "properties"
                && n.children()
                    .any(|c| c.tag_name().name() == "name" && c.text() == Some(key))
                && n.children()
                    .any(|c| c.tag_name().name() == "value" && c.text() == Some(value))
        });
        assert!(
            found,
            "{}: {key} = {value:?} not in the addIdP body",
            caps.version
        );
    }
}
