//! OAuthAdminService through wiremock: one fresh server per test.

use wso2_is_client::carbon::xml::{XmlValue, from_element, ns, to_element};
use wso2_is_client::oauth::*;
use wso2_is_client::{ConsumerKey, Dispatch, Error, OAuthAppName, Secret};

use crate::fixtures;
use crate::support::*;

const SVC: &str = "OAuthAdminService";

fn key(k: &str) -> ConsumerKey {
    ConsumerKey::new(k).unwrap()
}

fn app_name(n: &str) -> OAuthAppName {
    OAuthAppName::new(n).unwrap()
}

/// `<ns:return>` holding `app`, as the server writes it (the secret in clear).
fn app_return(app: &OAuthConsumerAppDTO) -> String {
    let xml = to_element(app, ns::OAUTH_DTO, "return").unwrap();
    xml.replacen("<dto:return", "<ns:return", 1)
        .replace("</dto:return>", "</ns:return>")
}

/// Decodes the parameter element `name` of a request body this crate sent (the namespaces
/// declared on the wrapper are declared again on the cut-out element).
pub fn sent_param<T: XmlValue>(body: &str, name: &str) -> T {
    let doc = roxmltree::Document::parse(body).unwrap();
    let wrapper = body_child(&doc).unwrap();
    let el = wrapper
        .children()
        .find(|n| n.is_element() && n.tag_name().name() == name)
        .unwrap_or_else(|| panic!("no <{name}> in {body}"));
    let fragment = &body[el.range()];
    let decls: String = wrapper
        .namespaces()
        .filter_map(|n| Some(format!(" xmlns:{}=\"{}\"", n.name()?, n.uri())))
        .collect();
    let end = fragment.find('>').unwrap();
    let xml = format!("{}{decls}{}", &fragment[..end], &fragment[end..]);
    from_element(xml.as_bytes()).unwrap()
}

/// The names of the parameter elements of a request body, in order, with their namespace.
pub fn param_names(body: &str) -> Vec<(String, String)> {
    let doc = roxmltree::Document::parse(body).unwrap();
    body_child(&doc)
        .unwrap()
        .children()
        .filter(|n| n.is_element())
        .map(|n| {
            (
                n.tag_name().namespace().unwrap_or("").to_owned(),
                n.tag_name().name().to_owned(),
            )
        })
        .collect()
}

fn new_app() -> OAuthConsumerAppDTO {
    OAuthConsumerAppDTO::new(&app_name("apim-federation"))
        .with_callback_url("https://apim.example.com:9443/commonauth")
        .with_grant_types([GrantType::AuthorizationCode, GrantType::RefreshToken])
        .with_consumer_key(&key("apim-client"))
        .with_consumer_secret("caller-chosen-secret")
}

#[tokio::test]
async fn register_sends_the_callers_key_and_secret() {
    let server = server().await;
    soap_with(
        SVC,
        "registerOAuthApplicationData",
        AXIS2,
        &[
            ("applicationName", "apim-federation"),
            ("oauthConsumerKey", "apim-client"),
            ("oauthConsumerSecret", "caller-chosen-secret"),
            ("grantTypes", "authorization_code refresh_token"),
            ("OAuthVersion", "OAuth-2.0"),
        ],
    )
    .respond_with(respond_void("registerOAuthApplicationData", AXIS2))
    .expect(1)
    .mount(&server)
    .await;
    let app = new_app();
    client(&server).oauth_apps().register(&app).await.unwrap();
    let sent = &bodies_for(&server, "registerOAuthApplicationData").await[0];
    assert_eq!(
        param_names(sent),
        vec![(AXIS2.to_owned(), "application".to_owned())]
    );
    let decoded: OAuthConsumerAppDTO = sent_param(sent, "application");
    assert_eq!(decoded, app);
}

#[tokio::test]
async fn register_and_retrieve_returns_generated_credentials() {
    let server = server().await;
    let mut stored = OAuthConsumerAppDTO::new(&app_name("generated"))
        .with_grant_types([GrantType::ClientCredentials]);
    stored.oauth_consumer_key = Some("gen-key".into());
    stored.oauth_consumer_secret = Some(Secret::from("gen-secret"));
    stored.state = Some(STATE_ACTIVE.into());
    soap_with(
        SVC,
        "registerAndRetrieveOAuthApplicationData",
        AXIS2,
        &[("applicationName", "generated")],
    )
    .respond_with(respond(
        "registerAndRetrieveOAuthApplicationData",
        AXIS2,
        &app_return(&stored),
    ))
    .expect(1)
    .mount(&server)
    .await;
    let request = OAuthConsumerAppDTO::new(&app_name("generated"))
        .with_grant_types([GrantType::ClientCredentials]);
    let got = client(&server)
        .oauth_apps()
        .register_and_retrieve(&request)
        .await
        .unwrap();
    assert_eq!(got.oauth_consumer_key.as_deref(), Some("gen-key"));
    assert_eq!(
        got.oauth_consumer_secret.as_ref().unwrap().expose(),
        Some("gen-secret")
    );
    assert_eq!(got.grant_type_list(), vec![GrantType::ClientCredentials]);
    // No key was given: none was sent.
    let sent = &bodies_for(&server, "registerAndRetrieveOAuthApplicationData").await[0];
    assert!(!sent.contains("oauthConsumerKey"), "{sent}");
}

#[tokio::test]
async fn get_by_name_decodes_every_field() {
    let server = server().await;
    let full = fixtures::oauth_app("apim & <sso>");
    soap_with(
        SVC,
        "getOAuthApplicationDataByAppName",
        AXIS2,
        &[("appName", "apim & <sso>")],
    )
    .respond_with(respond(
        "getOAuthApplicationDataByAppName",
        AXIS2,
        &app_return(&full),
    ))
    .expect(1)
    .mount(&server)
    .await;
    let got = client(&server)
        .oauth_apps()
        .get_by_name(&app_name("apim & <sso>"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, full);
    assert_eq!(got.audiences.len(), 2);
    assert_eq!(got.scope_validators.len(), 2);
}

#[tokio::test]
async fn missing_apps_read_as_none() {
    let server = server().await;
    soap_with(
        SVC,
        "getOAuthApplicationDataByAppName",
        AXIS2,
        &[("appName", "nope")],
    )
    .respond_with(respond_fault(
        "Error while retrieving the app information by app name: nope",
    ))
    .expect(1)
    .mount(&server)
    .await;
    soap_with(
        SVC,
        "getOAuthApplicationData",
        AXIS2,
        &[("consumerKey", "nokey")],
    )
    .respond_with(respond_fault(
        "Error while retrieving the app information using consumerKey: nokey",
    ))
    .expect(1)
    .mount(&server)
    .await;
    let c = client(&server);
    assert_eq!(
        c.oauth_apps().get_by_name(&app_name("nope")).await.unwrap(),
        None
    );
    assert_eq!(c.oauth_apps().get(&key("nokey")).await.unwrap(), None);
}

#[tokio::test]
async fn a_nil_answer_reads_as_none() {
    let server = server().await;
    soap(SVC, "getOAuthApplicationData", AXIS2)
        .respond_with(respond_void("getOAuthApplicationData", AXIS2))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        client(&server).oauth_apps().get(&key("k")).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn other_read_faults_are_errors() {
    let server = server().await;
    soap(SVC, "getOAuthApplicationData", AXIS2)
        .respond_with(respond_auth_failure())
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .oauth_apps()
        .get(&key("k"))
        .await
        .unwrap_err();
    assert!(err.is_auth_failure(), "{err}");
    assert_eq!(err.dispatch(), Dispatch::Answered);
}

#[tokio::test]
async fn update_sends_the_whole_record_as_consumer_app_dto() {
    let server = server().await;
    soap_with(
        SVC,
        "updateConsumerApplication",
        AXIS2,
        &[("oauthConsumerKey", "fixture-consumer-key")],
    )
    .respond_with(respond_void("updateConsumerApplication", AXIS2))
    .expect(1)
    .mount(&server)
    .await;
    let full = fixtures::oauth_app("apim");
    client(&server).oauth_apps().update(&full).await.unwrap();
    let sent = &bodies_for(&server, "updateConsumerApplication").await[0];
    assert_eq!(
        param_names(sent),
        vec![(AXIS2.to_owned(), "consumerAppDTO".to_owned())]
    );
    let decoded: OAuthConsumerAppDTO = sent_param(sent, "consumerAppDTO");
    assert_eq!(decoded, full);
}

#[tokio::test]
async fn modify_sends_back_everything_read() {
    let server = server().await;
    let stored = fixtures::oauth_app("apim");
    soap_with(
        SVC,
        "getOAuthApplicationData",
        AXIS2,
        &[("consumerKey", "fixture-consumer-key")],
    )
    .respond_with(respond(
        "getOAuthApplicationData",
        AXIS2,
        &app_return(&stored),
    ))
    .expect(1)
    .mount(&server)
    .await;
    soap(SVC, "updateConsumerApplication", AXIS2)
        .respond_with(respond_void("updateConsumerApplication", AXIS2))
        .expect(1)
        .mount(&server)
        .await;
    let written = client(&server)
        .oauth_apps()
        .modify(&key("fixture-consumer-key"), |app| {
            app.set_grant_types([GrantType::AuthorizationCode]);
            app.pkce_mandatory = Some(true);
        })
        .await
        .unwrap();
    let mut expected = stored.clone();
    expected.grant_types = Some("authorization_code".into());
    expected.pkce_mandatory = Some(true);
    assert_eq!(written, expected);
    let sent = &bodies_for(&server, "updateConsumerApplication").await[0];
    let decoded: OAuthConsumerAppDTO = sent_param(sent, "consumerAppDTO");
    assert_eq!(decoded, expected, "every field read is sent back");
    assert_eq!(
        decoded.oauth_consumer_secret.unwrap().expose(),
        Some("fixture-oauth-secret")
    );
}

#[tokio::test]
async fn modify_refuses_a_secret_or_key_change_before_writing() {
    let server = server().await;
    let stored = fixtures::oauth_app("apim");
    soap(SVC, "getOAuthApplicationData", AXIS2)
        .respond_with(respond(
            "getOAuthApplicationData",
            AXIS2,
            &app_return(&stored),
        ))
        .expect(2)
        .mount(&server)
        .await;
    let c = client(&server);
    let err = c
        .oauth_apps()
        .modify(&key("fixture-consumer-key"), |app| {
            app.oauth_consumer_secret = Some(Secret::from("new"));
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err}");
    let err = c
        .oauth_apps()
        .modify(&key("fixture-consumer-key"), |app| {
            app.oauth_consumer_key = Some("other".into());
        })
        .await
        .unwrap_err();
    assert_eq!(err.dispatch(), Dispatch::NotSent);
    assert!(
        bodies_for(&server, "updateConsumerApplication")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn modify_of_a_missing_app_is_not_found() {
    let server = server().await;
    soap(SVC, "getOAuthApplicationData", AXIS2)
        .respond_with(respond_fault(
            "Error while retrieving the app information using consumerKey: gone",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .oauth_apps()
        .modify(&key("gone"), |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    assert!(err.is_not_found());
}

#[tokio::test]
async fn update_with_a_wrong_secret_is_the_servers_fault() {
    let server = server().await;
    soap(SVC, "updateConsumerApplication", AXIS2)
        .respond_with(respond_fault("Error while updating the app information."))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .oauth_apps()
        .update(&fixtures::oauth_app("apim"))
        .await
        .unwrap_err();
    assert_eq!(
        err.fault().unwrap().message,
        "Error while updating the app information."
    );
    assert_eq!(err.status(), Some(500));
}

#[tokio::test]
async fn remove_sends_the_key() {
    let server = server().await;
    soap_with(
        SVC,
        "removeOAuthApplicationData",
        AXIS2,
        &[("consumerKey", "k & <1>")],
    )
    .respond_with(respond_void("removeOAuthApplicationData", AXIS2))
    .expect(1)
    .mount(&server)
    .await;
    client(&server)
        .oauth_apps()
        .remove(&key("k & <1>"))
        .await
        .unwrap();
}

#[tokio::test]
async fn duplicate_name_is_already_exists() {
    let server = server().await;
    soap(SVC, "registerOAuthApplicationData", AXIS2)
        .respond_with(respond_fault(
            "Error when adding the application. An application with the same name already exists.",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .oauth_apps()
        .register(&new_app())
        .await
        .unwrap_err();
    assert!(err.is_already_exists(), "{err}");
    assert!(!err.outcome_unknown());
}

#[tokio::test]
async fn auth_failure_on_register_is_typed() {
    let server = server().await;
    soap(SVC, "registerOAuthApplicationData", AXIS2)
        .respond_with(respond_auth_failure())
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .oauth_apps()
        .register(&new_app())
        .await
        .unwrap_err();
    assert!(err.is_auth_failure(), "{err}");
    assert!(!err.outcome_unknown());
}

#[tokio::test]
async fn bad_input_is_refused_before_sending() {
    let server = server().await;
    let c = client(&server);
    let apps = c.oauth_apps();

    let mut no_name = new_app();
    no_name.application_name = None;
    let mut bad_name = new_app();
    bad_name.application_name = Some(" padded".into());
    let mut secret_without_key = new_app();
    secret_without_key.oauth_consumer_key = None;
    let mut code_without_callback = new_app();
    code_without_callback.callback_url = None;
    let implicit_blank_callback = new_app()
        .with_grant_types([GrantType::Implicit])
        .with_callback_url(" ");
    let mut control_char = new_app();
    control_char.callback_url = Some("https://x/\u{1}".into());
    for app in [
        no_name,
        bad_name,
        secret_without_key,
        code_without_callback,
        implicit_blank_callback,
        control_char,
    ] {
        let err = apps.register(&app).await.unwrap_err();
        assert_eq!(err.dispatch(), Dispatch::NotSent, "{err}");
        let err = apps.register_and_retrieve(&app).await.unwrap_err();
        assert_eq!(err.dispatch(), Dispatch::NotSent, "{err}");
    }

    let full = fixtures::oauth_app("apim");
    let mut no_secret = full.clone();
    no_secret.oauth_consumer_secret = None;
    let mut no_key = full.clone();
    no_key.oauth_consumer_key = None;
    let mut no_version = full.clone();
    no_version.oauth_version = None;
    // A snapshot restored from JSON has its secret redacted: it cannot be sent.
    let from_snapshot: OAuthConsumerAppDTO =
        serde_json::from_str(&serde_json::to_string(&full).unwrap()).unwrap();
    assert!(
        from_snapshot
            .oauth_consumer_secret
            .as_ref()
            .unwrap()
            .is_redacted()
    );
    for (app, field) in [
        (no_secret, "oauthConsumerSecret"),
        (no_key, "oauthConsumerKey"),
        (no_version, "OAuthVersion"),
        (from_snapshot, "oauthConsumerSecret"),
    ] {
        let err = apps.update(&app).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{err}");
        assert!(err.to_string().contains(field), "{err}");
    }
    assert!(ConsumerKey::new("").is_err());
    assert!(OAuthAppName::new("x".repeat(256)).is_err());
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[test]
fn full_oauth_app_round_trips() {
    let full = fixtures::oauth_app("round & trip");
    let xml = to_element(&full, ns::OAUTH_DTO, "application").unwrap();
    let back: OAuthConsumerAppDTO = from_element(xml.as_bytes()).unwrap();
    assert_eq!(back, full);
    // Through JSON (snapshots): equal except the secret, which comes back redacted.
    let json = serde_json::to_string(&full).unwrap();
    assert!(!json.contains("fixture-oauth-secret"), "{json}");
    let mut from_json: OAuthConsumerAppDTO = serde_json::from_str(&json).unwrap();
    assert!(
        from_json
            .oauth_consumer_secret
            .as_ref()
            .unwrap()
            .is_redacted()
    );
    from_json.oauth_consumer_secret = full.oauth_consumer_secret.clone();
    assert_eq!(from_json, full);
}

#[tokio::test]
async fn client_secret_canary_stays_out_of_debug_errors_json_and_logs() {
    const CANARY: &str = "canary-oauth-secret-5d1c";
    let (logs, _guard) = capture_logs();
    let server = server().await;
    let mut stored = fixtures::oauth_app("canary");
    stored.oauth_consumer_secret = Some(Secret::from(CANARY));
    soap(SVC, "getOAuthApplicationData", AXIS2)
        .respond_with(respond(
            "getOAuthApplicationData",
            AXIS2,
            &app_return(&stored),
        ))
        .expect(1)
        .mount(&server)
        .await;
    soap(SVC, "updateConsumerApplication", AXIS2)
        .respond_with(respond_fault("Error while updating the app information."))
        .expect(1)
        .mount(&server)
        .await;
    soap(SVC, "registerOAuthApplicationData", AXIS2)
        .respond_with(respond_fault(
            "Error when adding the application. An application with the same name already exists.",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let read = c
        .oauth_apps()
        .get(&key("fixture-consumer-key"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        read.oauth_consumer_secret.as_ref().unwrap().expose(),
        Some(CANARY)
    );
    let update_err = c.oauth_apps().update(&read).await.unwrap_err();
    let app = new_app().with_consumer_secret(CANARY);
    let register_err = c.oauth_apps().register(&app).await.unwrap_err();
    let places = [
        ("update error", error_chain(&update_err)),
        ("register error", error_chain(&register_err)),
        ("DTO Debug", format!("{read:?} {app:?}")),
        (
            "DTO JSON",
            serde_json::to_string(&read).unwrap() + &serde_json::to_string(&app).unwrap(),
        ),
        ("TRACE logs", logs.contents()),
    ];
    assert_no_leaks(&places, &[CANARY]);
    assert!(!logs.contents().is_empty(), "TRACE logging was captured");
}

/// Every operation of this service, fully populated, for the contract checks.
pub fn contract_cases() -> Vec<ContractCase> {
    let full = fixtures::oauth_app_for("apim & <sso>", fixtures::OAuthWsdl::V6_2_28);
    vec![
        case(
            "fully populated",
            &RegisterOAuthApplicationData::new(full.clone()),
        ),
        case("minimal", &RegisterOAuthApplicationData::new(new_app())),
        case(
            "fully populated",
            &RegisterAndRetrieveOAuthApplicationData::new(full.clone()),
        ),
        case(
            "by name",
            &GetOAuthApplicationDataByAppName::new(&app_name("apim & <sso>")),
        ),
        case("by key", &GetOAuthApplicationData::new(&key("k & <1>"))),
        case("fully populated", &UpdateConsumerApplication::new(full)),
        case("by key", &RemoveOAuthApplicationData::new(&key("k"))),
    ]
}

#[test]
fn contract_cases_cover_every_operation() {
    check_cases(
        contract_cases(),
        "OAuthAdminService.wsdl",
        AXIS2,
        &[
            "registerOAuthApplicationData",
            "registerAndRetrieveOAuthApplicationData",
            "getOAuthApplicationDataByAppName",
            "getOAuthApplicationData",
            "updateConsumerApplication",
            "removeOAuthApplicationData",
        ],
    );
}

/// Every case names the right WSDL, its body's wrapper is `{wrapper_ns}{operation}`, and every
/// operation in `operations` has a case.
pub fn check_cases(cases: Vec<ContractCase>, wsdl: &str, wrapper_ns: &str, operations: &[&str]) {
    for c in &cases {
        assert_eq!(c.wsdl, wsdl);
        let doc = roxmltree::Document::parse(c.request.body_element()).unwrap();
        let root = doc.root_element();
        assert_eq!(root.tag_name().namespace(), Some(wrapper_ns));
        assert_eq!(root.tag_name().name(), c.operation);
        assert_eq!(c.request.action, format!("urn:{}", c.operation));
    }
    for op in operations {
        assert!(
            cases.iter().any(|c| c.operation == *op),
            "no contract case for {op}"
        );
    }
}
