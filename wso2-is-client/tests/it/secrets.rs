//! Secret canaries: a known password and client secret never appear in Debug output, error
//! messages or TRACE-level logs.

use wso2_is_client::model::{Property, ServiceProvider};
use wso2_is_client::{ApplicationName, AuthMode, IsClient, RetryPolicy, Secret};

use crate::support::*;

const PASSWORD: &str = "canary-admin-pw-7f3a";
const CLIENT_SECRET: &str = "canary-client-secret-91be";

#[tokio::test]
async fn canaries_stay_out_of_debug_errors_and_trace_logs() {
    let (logs, _guard) = capture_logs();
    let server = server().await;
    // Session login (the password goes in the body), then a fault on the call.
    soap_with(
        "AuthenticationAdmin",
        "login",
        "http://authentication.services.core.carbon.wso2.org",
        &[("username", "admin")],
    )
    .respond_with(
        respond(
            "login",
            "http://authentication.services.core.carbon.wso2.org",
            "<ns:return>true</ns:return>",
        )
        .insert_header(
            "set-cookie",
            "JSESSIONID=canary-session-cookie; Path=/; Secure; HttpOnly",
        ),
    )
    .expect(1)
    .mount(&server)
    .await;
    // The catch-all would answer any other call; this mock answers updateApplication with a fault.
    wiremock::Mock::given(wiremock::matchers::header(
        "soapaction",
        "urn:updateApplication",
    ))
    .and(wiremock::matchers::header(
        "cookie",
        "JSESSIONID=canary-session-cookie",
    ))
    .respond_with(respond_fault("Error while updating the application"))
    .expect(1)
    .mount(&server)
    .await;

    let client = IsClient::builder(server.uri())
        .credentials("admin", PASSWORD)
        .auth_mode(AuthMode::Session)
        .allow_http(true)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let mut sp = ServiceProvider::named(&ApplicationName::new("canary-app").unwrap());
    sp.application_id = Some(1);
    let mut inbound = wso2_is_client::model::InboundAuthenticationRequestConfig::default();
    inbound.inbound_auth_type = Some("oauth2".into());
    inbound.properties = vec![Property::secret(
        "oauthConsumerSecret",
        Secret::from(CLIENT_SECRET),
    )];
    let mut cfg = wso2_is_client::model::InboundAuthenticationConfig::default();
    cfg.inbound_authentication_request_configs = vec![inbound];
    sp.inbound_authentication_config = Some(cfg);

    let err = client.applications().update(&sp).await.unwrap_err();
    assert_eq!(
        err.fault().map(|f| f.message.raw()),
        Some("Error while updating the application"),
        "{err}"
    );
    let places = [
        ("error chain", error_chain(&err)),
        ("client Debug", format!("{client:?}")),
        ("model Debug", format!("{sp:?}")),
        ("model JSON", serde_json::to_string(&sp).unwrap()),
        ("TRACE logs", logs.contents()),
    ];
    assert_no_leaks(&places, &[PASSWORD, CLIENT_SECRET, "canary-session-cookie"]);
    assert!(!logs.contents().is_empty(), "TRACE logging was captured");
    println!(
        "secret canaries: {} places scanned, none leaked",
        places.len()
    );
}
