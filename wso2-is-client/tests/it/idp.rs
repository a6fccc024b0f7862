//! IdentityProviderMgtService through wiremock: one fresh server per test.

use wso2_is_client::carbon::xml::{from_element, ns, to_element};
use wso2_is_client::idp::*;
use wso2_is_client::model::{IdentityProvider, LocalRole, Property, RoleMapping};
use wso2_is_client::{Dispatch, Error, IdpName, RoleName};

use crate::fixtures;
use crate::oauth::{check_cases, param_names, sent_param};
use crate::support::*;
use crate::support::{assert_no_leaks, error_chain};

const SVC: &str = "IdentityProviderMgtService";

fn name(n: &str) -> IdpName {
    IdpName::new(n).unwrap()
}

fn role(n: &str) -> RoleName {
    RoleName::new(n).unwrap()
}

/// `<ns:return>` holding `idp`, as the server writes it (the client secret in clear).
fn idp_return(idp: &IdentityProvider) -> String {
    let xml = to_element(idp, ns::MODEL, "return").unwrap();
    xml.replacen("<model:return", "<ns:return", 1)
        .replace("</model:return>", "</ns:return>")
}

#[tokio::test]
async fn add_sends_every_field() {
    let server = server().await;
    soap_with(
        SVC,
        "addIdP",
        IDP_MGT,
        &[("identityProviderName", "wso2is"), ("enable", "true")],
    )
    .respond_with(respond_void("addIdP", IDP_MGT))
    .expect(1)
    .mount(&server)
    .await;
    let full = fixtures::identity_provider("wso2is");
    client(&server)
        .identity_providers()
        .add(&full)
        .await
        .unwrap();
    let sent = &bodies_for(&server, "addIdP").await[0];
    assert_eq!(
        param_names(sent),
        vec![(IDP_MGT.to_owned(), "identityProvider".to_owned())]
    );
    let decoded: IdentityProvider = sent_param(sent, "identityProvider");
    assert_eq!(decoded, full);
}

#[tokio::test]
async fn add_answered_500_is_returned_unchanged_and_get_confirms() {
    let server = server().await;
    soap(SVC, "addIdP", IDP_MGT)
        .respond_with(respond_fault(
            "Exception occurred while trying to invoke service method addIdP",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let stored = fixtures::oidc_identity_provider("wso2is", "s");
    soap_with(SVC, "getIdPByName", IDP_MGT, &[("idPName", "wso2is")])
        .respond_with(respond("getIdPByName", IDP_MGT, &idp_return(&stored)))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let err = c.identity_providers().add(&stored).await.unwrap_err();
    match &err {
        Error::Fault { status, fault, .. } => {
            assert_eq!(*status, 500);
            assert_eq!(
                fault.message,
                "Exception occurred while trying to invoke service method addIdP"
            );
        }
        other => panic!("the fault must come back unchanged, got {other:?}"),
    }
    assert!(
        err.outcome_unknown(),
        "a 500 after an add is an unknown outcome"
    );
    let found = c.identity_providers().get(&name("wso2is")).await.unwrap();
    assert_eq!(found, Some(stored));
}

#[tokio::test]
async fn duplicate_name_is_already_exists() {
    let server = server().await;
    soap(SVC, "addIdP", IDP_MGT)
        .respond_with(respond_fault(
            "An Identity Provider has already been registered with the name wso2is for tenant carbon.super",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .identity_providers()
        .add(&IdentityProvider::named(&name("wso2is")))
        .await
        .unwrap_err();
    assert!(err.is_already_exists(), "{err}");
    assert!(!err.outcome_unknown());
}

#[tokio::test]
async fn get_decodes_every_field_and_holds_the_secret() {
    let server = server().await;
    let full = fixtures::identity_provider("wso2is");
    soap_with(SVC, "getIdPByName", IDP_MGT, &[("idPName", "wso2is")])
        .respond_with(respond("getIdPByName", IDP_MGT, &idp_return(&full)))
        .expect(1)
        .mount(&server)
        .await;
    let got = client(&server)
        .identity_providers()
        .get(&name("wso2is"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, full);
    let oidc = got.oidc_authenticator().unwrap();
    assert_eq!(oidc.client_id(), Some("client-id-1"));
    assert_eq!(
        oidc.client_secret().unwrap().expose(),
        Some("fixture-client-secret")
    );
    assert_eq!(
        oidc.authorize_url(),
        Some("https://is.example.com:9444/oauth2/authorize")
    );
    assert_eq!(got.mapped_local_roles(), vec![role("Internal/subscriber")]);
    assert_eq!(got.role_claim_uri(), Some("http://wso2.org/claims/role"));
}

#[tokio::test]
async fn a_secret_without_the_confidential_flag_is_still_a_secret() {
    let server = server().await;
    // As some servers write it: name and value only, in any order.
    let answer = format!(
        r#"<ns:return xmlns:ax="{MODEL}"><ax:enable>true</ax:enable><ax:federatedAuthenticatorConfigs><ax:name>OpenIDConnectAuthenticator</ax:name><ax:properties><ax:value>plain-secret</ax:value><ax:name>ClientSecret</ax:name></ax:properties></ax:federatedAuthenticatorConfigs><ax:identityProviderName>x</ax:identityProviderName></ns:return>"#
    );
    soap(SVC, "getIdPByName", IDP_MGT)
        .respond_with(respond("getIdPByName", IDP_MGT, &answer))
        .expect(1)
        .mount(&server)
        .await;
    let got = client(&server)
        .identity_providers()
        .get(&name("x"))
        .await
        .unwrap()
        .unwrap();
    let secret = got.oidc_authenticator().unwrap();
    assert_eq!(
        secret.client_secret().unwrap().expose(),
        Some("plain-secret")
    );
    assert!(!format!("{got:?}").contains("plain-secret"));
}

#[tokio::test]
async fn get_missing_reads_nil_as_none() {
    let server = server().await;
    soap(SVC, "getIdPByName", IDP_MGT)
        .respond_with(respond_void("getIdPByName", IDP_MGT))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        client(&server)
            .identity_providers()
            .get(&name("nope"))
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn update_sends_old_name_then_the_provider() {
    let server = server().await;
    soap_with(
        SVC,
        "updateIdP",
        IDP_MGT,
        &[
            ("oldIdPName", "old & <name>"),
            ("identityProviderName", "new"),
        ],
    )
    .respond_with(respond_void("updateIdP", IDP_MGT))
    .expect(1)
    .mount(&server)
    .await;
    let renamed = fixtures::oidc_identity_provider("new", "s");
    client(&server)
        .identity_providers()
        .update(&name("old & <name>"), &renamed)
        .await
        .unwrap();
    let sent = &bodies_for(&server, "updateIdP").await[0];
    assert_eq!(
        param_names(sent),
        vec![
            (IDP_MGT.to_owned(), "oldIdPName".to_owned()),
            (IDP_MGT.to_owned(), "identityProvider".to_owned()),
        ]
    );
    let decoded: IdentityProvider = sent_param(sent, "identityProvider");
    assert_eq!(decoded, renamed);
}

#[tokio::test]
async fn update_of_a_missing_provider_is_not_found() {
    let server = server().await;
    soap(SVC, "updateIdP", IDP_MGT)
        .respond_with(respond_fault(
            "Identity Provider with name gone does not exist",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .identity_providers()
        .update(&name("gone"), &IdentityProvider::named(&name("gone")))
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

#[tokio::test]
async fn modify_through_the_oidc_view_keeps_everything_else() {
    let server = server().await;
    let mut stored = fixtures::oidc_identity_provider("wso2is", "stored-secret");
    // Something this crate has no accessor for, on the authenticator and on the provider.
    let mut oidc = stored.oidc_authenticator().unwrap().into_config();
    let mut custom = Property::new("customKey", "kept");
    custom.display_name = Some("Custom".into());
    oidc.properties.push(custom.clone());
    stored.federated_authenticator_configs = vec![oidc.clone()];
    stored.default_authenticator_config = Some(oidc);
    stored.alias = Some("https://is.example.com:9444/oauth2/token".into());
    soap(SVC, "getIdPByName", IDP_MGT)
        .respond_with(respond("getIdPByName", IDP_MGT, &idp_return(&stored)))
        .expect(1)
        .mount(&server)
        .await;
    soap_with(SVC, "updateIdP", IDP_MGT, &[("oldIdPName", "wso2is")])
        .respond_with(respond_void("updateIdP", IDP_MGT))
        .expect(1)
        .mount(&server)
        .await;
    let written = client(&server)
        .identity_providers()
        .modify(&name("wso2is"), |idp| {
            let oidc = idp
                .oidc_authenticator()
                .unwrap()
                .with_basic_auth(false)
                .with_token_url("https://is-other:9444/oauth2/token");
            idp.set_oidc_authenticator(oidc, false);
        })
        .await
        .unwrap();
    let sent = &bodies_for(&server, "updateIdP").await[0];
    let decoded: IdentityProvider = sent_param(sent, "identityProvider");
    assert_eq!(decoded, written);
    let oidc = decoded.oidc_authenticator().unwrap();
    assert_eq!(oidc.basic_auth(), Some(false));
    assert_eq!(oidc.token_url(), Some("https://is-other:9444/oauth2/token"));
    assert_eq!(
        oidc.client_secret().unwrap().expose(),
        Some("stored-secret")
    );
    assert_eq!(
        oidc.other_properties().cloned().collect::<Vec<_>>(),
        vec![custom]
    );
    // The default authenticator was the OIDC one: it was updated too.
    assert_eq!(
        decoded.default_authenticator_config.as_ref(),
        Some(oidc.config())
    );
    // Everything else is as read.
    let mut expected = stored.clone();
    expected.federated_authenticator_configs = decoded.federated_authenticator_configs.clone();
    expected.default_authenticator_config = decoded.default_authenticator_config.clone();
    assert_eq!(decoded, expected);
}

#[tokio::test]
async fn delete_sends_the_name_and_reports_references() {
    let server = server().await;
    soap_with(SVC, "deleteIdP", IDP_MGT, &[("idPName", "old")])
        .respond_with(respond_void("deleteIdP", IDP_MGT))
        .expect(1)
        .mount(&server)
        .await;
    soap_with(SVC, "deleteIdP", IDP_MGT, &[("idPName", "used")])
        .respond_with(respond_fault(
            "Identity Provider 'used' cannot be deleted as it is referred by Service Providers.",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    c.identity_providers().delete(&name("old")).await.unwrap();
    let err = c
        .identity_providers()
        .delete(&name("used"))
        .await
        .unwrap_err();
    assert!(
        err.fault()
            .unwrap()
            .message
            .raw()
            .contains("referred by Service Providers")
    );
    assert!(!err.is_not_found());
}

#[tokio::test]
async fn list_reads_every_provider() {
    let server = server().await;
    let a = fixtures::identity_provider("a");
    let b = fixtures::oidc_identity_provider("b", "s");
    soap(SVC, "getAllIdPs", IDP_MGT)
        .respond_with(respond(
            "getAllIdPs",
            IDP_MGT,
            &(idp_return(&a) + &idp_return(&b)),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let all = client(&server).identity_providers().list().await.unwrap();
    assert_eq!(all, vec![a, b]);
}

#[tokio::test]
async fn an_empty_list_has_no_return() {
    let server = server().await;
    soap(SVC, "getAllIdPs", IDP_MGT)
        .respond_with(respond("getAllIdPs", IDP_MGT, ""))
        .expect(1)
        .mount(&server)
        .await;
    assert!(
        client(&server)
            .identity_providers()
            .list()
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn auth_failure_is_typed() {
    let server = server().await;
    soap(SVC, "getAllIdPs", IDP_MGT)
        .respond_with(respond_auth_failure())
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .identity_providers()
        .list()
        .await
        .unwrap_err();
    assert!(err.is_auth_failure(), "{err}");
}

#[tokio::test]
async fn bad_input_is_refused_before_sending() {
    let server = server().await;
    let c = client(&server);
    let idps = c.identity_providers();
    let good = fixtures::oidc_identity_provider("wso2is", "s");

    let mut no_name = good.clone();
    no_name.identity_provider_name = None;
    let mut shared = good.clone();
    shared.identity_provider_name = Some("SHARED_x".into());
    let mut no_enable = good.clone();
    no_enable.enable = None;
    let mut no_local_role = good.clone();
    no_local_role
        .permission_and_role_config
        .as_mut()
        .unwrap()
        .role_mappings
        .push({
            let mut m = RoleMapping::default();
            m.remote_role = Some("orphan".into());
            m
        });
    let mut blank_remote = good.clone();
    blank_remote
        .permission_and_role_config
        .as_mut()
        .unwrap()
        .role_mappings
        .push(RoleMapping::new(" ", &role("Internal/creator")));
    let mut wrong_key = good.clone();
    let oidc = {
        let mut o = wrong_key.oidc_authenticator().unwrap();
        o.set_property("OAUTH2TokenUrl", "https://x/token");
        o
    };
    wrong_key.set_oidc_authenticator(oidc, true);
    let from_snapshot: IdentityProvider =
        serde_json::from_str(&serde_json::to_string(&good).unwrap()).unwrap();
    assert!(
        from_snapshot
            .oidc_authenticator()
            .unwrap()
            .client_secret()
            .unwrap()
            .is_redacted()
    );
    let mut unrepresentable = good.clone();
    unrepresentable.display_name = Some("bell \u{7}".into());

    for (idp, field) in [
        (no_name, "identityProviderName"),
        (shared, "SHARED_"),
        (no_enable, "enable"),
        (no_local_role, "localRoleName"),
        (blank_remote, "remoteRole"),
        (wrong_key, "OAuth2TokenEPUrl"),
        (from_snapshot, "redacted"),
        (unrepresentable, "U+0007"),
    ] {
        let err = idps.add(&idp).await.unwrap_err();
        assert_eq!(err.dispatch(), Dispatch::NotSent, "{err}");
        assert!(err.to_string().contains(field), "{field}: {err}");
        let err = idps.update(&name("wso2is"), &idp).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{err}");
    }
    assert!(IdpName::new("").is_err());
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[test]
fn full_identity_providers_round_trip() {
    for full in [
        fixtures::identity_provider("round & trip"),
        fixtures::oidc_identity_provider("oidc <x>", "a&b<c>"),
    ] {
        let xml = to_element(&full, ns::MODEL, "identityProvider").unwrap();
        let back: IdentityProvider = from_element(xml.as_bytes()).unwrap();
        assert_eq!(back, full);
    }
}

#[test]
fn the_oidc_view_uses_the_exact_keys() {
    let idp = fixtures::oidc_identity_provider("x", "s");
    let oidc = idp.oidc_authenticator().unwrap();
    let config = oidc.config();
    assert_eq!(config.name.as_deref(), Some("OpenIDConnectAuthenticator"));
    assert_eq!(config.display_name.as_deref(), Some("openidconnect"));
    assert_eq!(config.enabled, Some(true));
    let keys: Vec<&str> = config
        .properties
        .iter()
        .filter_map(|p| p.name.as_deref())
        .collect();
    assert_eq!(
        keys,
        vec![
            "ClientId",
            "ClientSecret",
            "OAuth2AuthzEPUrl",
            "OAuth2TokenEPUrl",
            "callbackUrl",
            "UserInfoUrl",
            "OIDCLogoutEPUrl",
            "IsUserIdInClaims",
            "IsBasicAuthEnabled",
            "commonAuthQueryParams",
            "Scopes",
        ]
    );
    let secret = config
        .properties
        .iter()
        .find(|p| p.name.as_deref() == Some("ClientSecret"))
        .unwrap();
    assert_eq!(secret.confidential, Some(true));
    assert!(secret.value.as_ref().unwrap().is_secret());
    assert_eq!(oidc.basic_auth(), Some(true));
    assert_eq!(oidc.user_id_in_claims(), Some(false));
    assert_eq!(
        oidc.common_auth_query_params(),
        Some("scope=openid groups&prompt=login")
    );
    assert_eq!(oidc.scopes(), Some("openid groups"));
    assert_eq!(
        oidc.logout_url(),
        Some("https://is.example.com:9444/oidc/logout")
    );
    assert_eq!(
        oidc.callback_url(),
        Some("https://apim.example.com:9443/commonauth")
    );
    assert_eq!(
        oidc.user_info_url(),
        Some("https://is-internal:9444/oauth2/userinfo")
    );
    assert!(oidc.key_problems().is_empty());
    // It is the default authenticator too.
    assert_eq!(idp.default_authenticator_config.as_ref(), Some(config));
    assert_eq!(idp.role_claim_uri(), Some(OIDC_GROUPS_CLAIM));
    let jit = idp.just_in_time_provisioning_config.as_ref().unwrap();
    assert_eq!(jit.provisioning_user_store.as_deref(), Some("PRIMARY"));
    assert_eq!(jit.provisioning_enabled, Some(true));
    // Not the OIDC authenticator: handed back.
    let mut other = config.clone();
    other.name = Some("SAMLSSOAuthenticator".into());
    assert!(OidcAuthenticator::from_config(other).is_err());
}

#[test]
fn role_mappings_in_the_servers_form() {
    let idp = fixtures::oidc_identity_provider("x", "s");
    let config = idp.permission_and_role_config.as_ref().unwrap();
    let stored: Vec<(Option<&str>, Option<&str>, Option<&str>)> = config
        .role_mappings
        .iter()
        .map(|m| {
            let l = m.local_role.as_ref().unwrap();
            (
                m.remote_role.as_deref(),
                l.user_store_id.as_deref(),
                l.local_role_name.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        stored,
        vec![
            (Some("user_role"), Some("Internal"), Some("subscriber")),
            (Some("publisher_role"), Some("Internal"), Some("publisher")),
        ]
    );
    assert_eq!(config.idp_roles, vec!["user_role", "publisher_role"]);
    // A name without a domain has no userStoreId (what the console sends); PRIMARY reads back
    // as the bare name, like the server's check.
    let plain = LocalRole::from_role_name(&role("publisher_role"));
    assert_eq!(plain.user_store_id, None);
    let mut primary = LocalRole::default();
    primary.user_store_id = Some("PRIMARY".into());
    primary.local_role_name = Some("publisher_role".into());
    assert_eq!(primary.role_name(), Some(role("publisher_role")));
    let mut mapped = IdentityProvider::named(&name("m"));
    mapped.map_claim("groups", LOCAL_ROLE_CLAIM);
    mapped.map_claim("groups", LOCAL_ROLE_CLAIM);
    assert_eq!(
        mapped.claim_config.as_ref().unwrap().claim_mappings.len(),
        1
    );
}

#[tokio::test]
async fn client_secret_canary_stays_out_of_debug_errors_json_and_logs() {
    const CANARY: &str = "canary-idp-client-secret-33ab";
    let (logs, _guard) = capture_logs();
    let server = server().await;
    let stored = fixtures::oidc_identity_provider("wso2is", CANARY);
    soap(SVC, "getIdPByName", IDP_MGT)
        .respond_with(respond("getIdPByName", IDP_MGT, &idp_return(&stored)))
        .expect(1)
        .mount(&server)
        .await;
    soap(SVC, "updateIdP", IDP_MGT)
        .respond_with(respond_fault(
            "Error in disabling identity provider as it is referred by service providers.",
        ))
        .expect(1)
        .mount(&server)
        .await;
    soap(SVC, "addIdP", IDP_MGT)
        .respond_with(respond_fault(
            "An Identity Provider has already been registered with the name wso2is for tenant carbon.super",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let modify_err = c
        .identity_providers()
        .modify(&name("wso2is"), |idp| idp.enable = Some(false))
        .await
        .unwrap_err();
    let add_err = c.identity_providers().add(&stored).await.unwrap_err();
    let view = stored.oidc_authenticator().unwrap();
    assert_eq!(view.client_secret().unwrap().expose(), Some(CANARY));
    let places = [
        ("modify error", error_chain(&modify_err)),
        ("add error", error_chain(&add_err)),
        ("model Debug", format!("{stored:?} {view:?}")),
        (
            "model JSON",
            serde_json::to_string(&stored).unwrap() + &serde_json::to_string(&view).unwrap(),
        ),
        ("TRACE logs", logs.contents()),
    ];
    assert_no_leaks(&places, &[CANARY]);
    assert!(!logs.contents().is_empty(), "TRACE logging was captured");
}

/// Every operation of this service, fully populated, for the contract checks.
pub fn contract_cases() -> Vec<ContractCase> {
    let full = fixtures::identity_provider_for("wso2is & <x>", fixtures::FrameworkWsdl::V5_14_97);
    let oidc = fixtures::oidc_identity_provider("wso2is", "secret & <x>");
    vec![
        case("fully populated", &AddIdP::new(full.clone())),
        case("OIDC federation", &AddIdP::new(oidc.clone())),
        case("by name", &GetIdPByName::new(&name("wso2is & <x>"))),
        case(
            "fully populated, renamed",
            &UpdateIdP::new(&name("old"), full),
        ),
        case("OIDC federation", &UpdateIdP::new(&name("wso2is"), oidc)),
        case("by name", &DeleteIdP::new(&name("wso2is"))),
        case("no parameters", &GetAllIdPs::new()),
    ]
}

#[test]
fn contract_cases_cover_every_operation() {
    check_cases(
        contract_cases(),
        "IdentityProviderMgtService.wsdl",
        IDP_MGT,
        &[
            "addIdP",
            "getIdPByName",
            "updateIdP",
            "deleteIdP",
            "getAllIdPs",
        ],
    );
}
