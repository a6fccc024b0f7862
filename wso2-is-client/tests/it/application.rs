//! IdentityApplicationManagementService through wiremock: one fresh server per test.

use wiremock::ResponseTemplate;
use wso2_is_client::carbon::xml::{from_element, ns, to_element};
use wso2_is_client::model::ServiceProvider;
use wso2_is_client::{ApplicationName, Dispatch, Error, UnexpectedAnswer};

use crate::fixtures;
use crate::support::*;

const SVC: &str = "IdentityApplicationManagementService";

fn name(n: &str) -> ApplicationName {
    ApplicationName::new(n).unwrap()
}

/// `<ns:return>` holding `sp`, as the server writes it.
fn sp_return(sp: &ServiceProvider) -> String {
    let xml = to_element(sp, ns::MODEL, "return").unwrap();
    // Re-prefix the root so it reads like Axis2's `ns:return` (children stay in the model ns).
    xml.replacen("<model:return", "<ns:return", 1)
        .replace("</model:return>", "</ns:return>")
}

#[tokio::test]
async fn create_then_reads_back_the_assigned_id() {
    let server = server().await;
    soap_with(
        SVC,
        "createApplication",
        AXIS2,
        &[("applicationName", "apim & <sso>")],
    )
    .respond_with(respond_void("createApplication", AXIS2))
    .expect(1)
    .mount(&server)
    .await;
    let mut stored = ServiceProvider::named(&name("apim & <sso>"));
    stored.application_id = Some(7);
    soap_with(
        SVC,
        "getApplication",
        AXIS2,
        &[("applicationName", "apim & <sso>")],
    )
    .respond_with(respond("getApplication", AXIS2, &sp_return(&stored)))
    .expect(1)
    .mount(&server)
    .await;

    let created = client(&server)
        .applications()
        .create(&ServiceProvider::named(&name("apim & <sso>")).with_description("d"))
        .await
        .unwrap();
    assert_eq!(created.application_id, Some(7));
    assert_eq!(created.application_name.as_deref(), Some("apim & <sso>"));
}

#[tokio::test]
async fn get_missing_reads_nil_as_none() {
    let server = server().await;
    soap(SVC, "getApplication", AXIS2)
        .respond_with(respond_void("getApplication", AXIS2))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        client(&server)
            .applications()
            .get(&name("nope"))
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn get_decodes_every_field() {
    let server = server().await;
    let full = fixtures::service_provider("apim_publisher");
    soap(SVC, "getApplication", AXIS2)
        .respond_with(respond("getApplication", AXIS2, &sp_return(&full)))
        .expect(1)
        .mount(&server)
        .await;
    let got = client(&server)
        .applications()
        .get(&name("apim_publisher"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, full);
    let secret = got.oauth_inbound().unwrap().properties[0]
        .value
        .as_ref()
        .unwrap();
    assert!(
        secret.is_secret(),
        "oauthConsumerSecret must be held as a secret"
    );
}

#[tokio::test]
async fn update_sends_every_field_read() {
    let server = server().await;
    soap(SVC, "updateApplication", AXIS2)
        .respond_with(respond_void("updateApplication", AXIS2))
        .expect(1)
        .mount(&server)
        .await;
    let full = fixtures::service_provider("apim_devportal");
    client(&server).applications().update(&full).await.unwrap();
    let sent = &bodies_for(&server, "updateApplication").await[0];
    let doc = roxmltree::Document::parse(sent).unwrap();
    let sp_el = body_child(&doc).unwrap().first_element_child().unwrap();
    let sp_xml = &sent[sp_el.range()];
    // Decoding what was sent gives back the value: no field was dropped.
    let decoded: ServiceProvider = from_element(with_ns(sp_xml).as_bytes()).unwrap();
    assert_eq!(decoded, full);
}

/// Re-declares the namespaces a fragment cut out of a document relies on.
fn with_ns(fragment: &str) -> String {
    let end = fragment.find('>').unwrap();
    format!(
        "{} xmlns:axis2=\"{AXIS2}\" xmlns:model=\"{MODEL}\" xmlns:script=\"http://script.model.common.application.identity.carbon.wso2.org/xsd\"{}",
        &fragment[..end],
        &fragment[end..]
    )
}

#[tokio::test]
async fn update_without_id_is_refused_before_sending() {
    let server = server().await;
    let err = client(&server)
        .applications()
        .update(&ServiceProvider::named(&name("x")))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err}");
    assert_eq!(err.dispatch(), Dispatch::NotSent);
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn delete_and_list() {
    let server = server().await;
    soap_with(
        SVC,
        "deleteApplication",
        AXIS2,
        &[("applicationName", "old")],
    )
    .respond_with(respond_void("deleteApplication", AXIS2))
    .expect(1)
    .mount(&server)
    .await;
    soap(SVC, "getAllApplicationBasicInfo", AXIS2)
        .respond_with(respond(
            "getAllApplicationBasicInfo",
            AXIS2,
            &format!(
                r#"<ns:return xmlns:ax="{MODEL}"><ax:applicationId>1</ax:applicationId><ax:applicationName>a</ax:applicationName><ax:description xsi:nil="true"/></ns:return><ns:return xmlns:ax="{MODEL}"><ax:applicationId>2</ax:applicationId><ax:applicationName>b</ax:applicationName></ns:return>"#
            ),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    c.applications().delete(&name("old")).await.unwrap();
    let all = c.applications().list().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].application_id, Some(2));
    assert_eq!(all[0].description, None);
}

#[tokio::test]
async fn duplicate_name_is_already_exists() {
    let server = server().await;
    soap(SVC, "createApplication", AXIS2)
        .respond_with(respond_fault(
            "Application registration failed. An application with name 'x' already exists.",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .applications()
        .create(&ServiceProvider::named(&name("x")))
        .await
        .unwrap_err();
    assert!(err.is_already_exists(), "{err}");
    assert_eq!(err.status(), Some(500));
    assert_eq!(err.dispatch(), Dispatch::Answered);
    assert!(!err.outcome_unknown());
}

#[tokio::test]
async fn auth_failure_is_typed() {
    let server = server().await;
    soap(SVC, "getApplication", AXIS2)
        .respond_with(respond_auth_failure())
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .applications()
        .get(&name("x"))
        .await
        .unwrap_err();
    assert!(err.is_auth_failure(), "{err}");
    assert_eq!(err.fault().unwrap().code_local(), "50977");
}

#[tokio::test]
async fn html_login_page_is_a_distinct_error() {
    let server = server().await;
    soap(SVC, "getApplication", AXIS2)
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/html")
                .set_body_string("<html><head><title>WSO2 Management Console</title></head><body>login</body></html>"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .applications()
        .get(&name("x"))
        .await
        .unwrap_err();
    match &err {
        Error::UnexpectedAnswer {
            answer: UnexpectedAnswer::Html { title },
            ..
        } => {
            assert_eq!(
                title.as_ref().map(|t| t.raw()),
                Some("WSO2 Management Console")
            );
        }
        other => panic!("expected an HTML answer error, got {other:?}"),
    }
    assert!(err.to_string().contains("HTML page"), "{err}");
}

#[tokio::test]
async fn fault_inside_a_200_body_is_a_fault() {
    let server = server().await;
    let body = envelope(
        "<soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>boom</faultstring></soapenv:Fault>",
    );
    soap(SVC, "deleteApplication", AXIS2)
        .respond_with(ResponseTemplate::new(200).set_body_string(body))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .applications()
        .delete(&name("x"))
        .await
        .unwrap_err();
    assert_eq!(err.fault().unwrap().message, "boom");
    assert_eq!(err.status(), Some(200));
}

#[tokio::test]
async fn bad_names_are_refused_before_sending() {
    assert!(ApplicationName::new("").is_err());
    assert!(ApplicationName::new(" x").is_err());
    assert!(ApplicationName::new("x".repeat(256)).is_err());
    let server = server().await;
    let mut sp = ServiceProvider::default();
    sp.application_name = Some("trailing ".into());
    let err = client(&server)
        .applications()
        .create(&sp)
        .await
        .unwrap_err();
    assert_eq!(err.dispatch(), Dispatch::NotSent);
    assert!(err.to_string().contains("white space"), "{err}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[test]
fn full_service_provider_round_trips() {
    let full = fixtures::service_provider("round & trip");
    let xml = to_element(&full, ns::MODEL, "serviceProvider").unwrap();
    let back: ServiceProvider = from_element(xml.as_bytes()).unwrap();
    assert_eq!(back, full);
    // And through JSON (snapshots): equal except for secrets, which come back redacted.
    let json = serde_json::to_string(&full).unwrap();
    assert!(!json.contains("fixture-consumer-secret") && !json.contains("fixture-client-secret"));
    let from_json: ServiceProvider = serde_json::from_str(&json).unwrap();
    let inbound = from_json.oauth_inbound().unwrap();
    assert!(inbound.properties[0].value.as_ref().unwrap().is_redacted());
}

#[test]
fn newer_secrets_stay_out_of_snapshots_and_are_filled_back_from_the_server() {
    use wso2_is_client::model::fill_redacted_sp_secrets;
    // The union fixture carries the secrets the newer WSDLs add: a sub-property of a secret
    // property (5.17.5) and the client attestation credentials (5.25.682).
    let live = fixtures::service_provider("snapshot");
    let shown = format!("{live:?}");
    let json = serde_json::to_string(&live).unwrap();
    for canary in [
        "fixture-attestation-credentials",
        "fixture-consumer-secret",
        "fixture-client-secret",
    ] {
        assert!(
            !shown.contains(canary) && !json.contains(canary),
            "{canary}"
        );
    }
    let mut restored: ServiceProvider = serde_json::from_str(&json).unwrap();
    assert_ne!(restored, live, "secrets come back redacted");
    let attestation = restored.client_attestation_meta_data.as_ref().unwrap();
    assert!(
        attestation
            .android_attestation_service_credentials
            .as_ref()
            .unwrap()
            .is_redacted()
    );
    let sub = &restored.oauth_inbound().unwrap().properties[0].sub_properties[0];
    assert!(sub.value.as_ref().unwrap().is_redacted(), "{sub:?}");
    let missing = fill_redacted_sp_secrets(&mut restored, &live);
    assert!(missing.is_empty(), "{missing:?}");
    assert_eq!(restored, live);
    // Without the server's values, each redacted secret is named.
    let mut orphan: ServiceProvider = serde_json::from_str(&json).unwrap();
    let missing = fill_redacted_sp_secrets(&mut orphan, &ServiceProvider::default());
    assert!(
        missing
            .iter()
            .any(|m| m == "clientAttestationMetaData/androidAttestationServiceCredentials"),
        "{missing:?}"
    );
    assert!(
        missing
            .iter()
            .any(|m| m.ends_with("/oauthConsumerSecret/oauthConsumerSecret.sub")),
        "{missing:?}"
    );
}

/// Every operation of this service, fully populated, for the contract checks.
pub fn contract_cases() -> Vec<ContractCase> {
    use wso2_is_client::application::*;
    let full = fixtures::service_provider_for("apim & <sso>", fixtures::FrameworkWsdl::V5_14_97);
    vec![
        case("fully populated", &CreateApplication::new(full.clone())),
        case(
            "minimal",
            &CreateApplication::new(ServiceProvider::named(&name("minimal"))),
        ),
        case("by name", &GetApplication::new(&name("apim & <sso>"))),
        case("fully populated", &UpdateApplication::new(full)),
        case("by name", &DeleteApplication::new(&name("x"))),
        case("no parameters", &GetAllApplicationBasicInfo::new()),
    ]
}
