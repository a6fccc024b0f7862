//! How SOAP faults are classified: Carbon's authentication fault (`50977`) means "answered, not
//! applied" whatever its text, and declared-exception details are read whatever the case of
//! their `message` element. Bodies are shaped as Carbon sends them (contracts/README.md "Faults").

use wiremock::ResponseTemplate;
use wso2_is_client::model::{IdentityProvider, ServiceProvider};
use wso2_is_client::{ApplicationName, Dispatch, IdpName, ServerText};

use crate::support::*;

const SVC: &str = "IdentityApplicationManagementService";
const IDP_SVC: &str = "IdentityProviderMgtService";

/// Carbon's authentication handler fault: code `50977` (prefix declared on `faultcode`), the
/// handler's text, an empty detail.
fn auth_handler_fault(status: u16, faultstring: &str) -> ResponseTemplate {
    let body = envelope(&format!(
        r#"<soapenv:Fault><faultcode xmlns:axis2ns2="http://wso2.org/carbon/errors">axis2ns2:50977</faultcode><faultstring>{}</faultstring><detail/></soapenv:Fault>"#,
        xml_escape(faultstring)
    ));
    ResponseTemplate::new(status)
        .insert_header("content-type", "text/xml; charset=UTF-8")
        .set_body_string(body)
}

/// The texts Carbon's authentication handler is known to send with `50977`, and one it might.
const HANDLER_TEXTS: [&str; 4] = [
    "Authentication failure",
    "Access Denied. Please login first.",
    "Access Denied. Authentication failed - Invalid credentials provided.",
    "Error while authenticating the user",
];

#[tokio::test]
async fn a_write_answered_with_the_authentication_fault_was_not_applied() {
    for text in HANDLER_TEXTS {
        for status in [500, 200] {
            let server = server().await;
            soap(SVC, "createApplication", AXIS2)
                .respond_with(auth_handler_fault(status, text))
                .expect(1)
                .mount(&server)
                .await;
            let err = client(&server)
                .applications()
                .create(&ServiceProvider::named(&ApplicationName::new("x").unwrap()))
                .await
                .unwrap_err();
            let fault = err.fault().expect("a fault");
            assert!(fault.is_from_authentication_handler(), "{text}: {err}");
            assert_eq!(err.dispatch(), Dispatch::Answered, "{text}");
            assert!(err.not_applied(), "{text} (HTTP {status}): {err}");
            assert!(
                !err.outcome_unknown(),
                "{text} (HTTP {status}) must not leave the outcome unknown: {err}"
            );
        }
    }
}

#[tokio::test]
async fn add_idp_answered_with_the_authentication_fault_is_not_a_maybe() {
    // addIdP is the operation seen answering 500 after succeeding; an authentication fault is
    // not that case: the operation never ran.
    let server = server().await;
    soap(IDP_SVC, "addIdP", IDP_MGT)
        .respond_with(auth_handler_fault(500, "Authentication failure"))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .identity_providers()
        .add(&IdentityProvider::named(&IdpName::new("wso2is").unwrap()))
        .await
        .unwrap_err();
    assert!(err.not_applied(), "{err}");
    assert!(!err.outcome_unknown(), "{err}");
    // Still transient (the server's authentication crashed): a read may be retried.
    assert!(err.is_retryable());
    assert!(!err.is_auth_failure());
}

#[tokio::test]
async fn a_500_fault_from_the_operation_still_leaves_a_write_unknown() {
    let server = server().await;
    soap(SVC, "createApplication", AXIS2)
        .respond_with(respond_fault("Error while creating the application"))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .applications()
        .create(&ServiceProvider::named(&ApplicationName::new("x").unwrap()))
        .await
        .unwrap_err();
    assert!(!err.not_applied(), "{err}");
    assert!(err.outcome_unknown(), "{err}");
}

/// A declared exception's fault as Axis2 writes it: the detail wraps
/// `{Service}{Exception}` (wrapper namespace) around the exception element, whose fields are in
/// the exception type's namespace, with the text in `message_element`.
fn declared_fault(faultstring: &str, message_element: &str, message: &str) -> String {
    envelope(&format!(
        r#"<soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>{faultstring}</faultstring><detail><ns:IdentityApplicationManagementServiceIdentityApplicationManagementException xmlns:ns="http://org.apache.axis2/xsd"><ns:IdentityApplicationManagementException xmlns:ax2163="http://common.application.identity.carbon.wso2.org/xsd" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="ax2163:IdentityApplicationManagementException"><ax2163:errorCode xsi:nil="true"/><ns:{message_element}>{message}</ns:{message_element}></ns:IdentityApplicationManagementException></ns:IdentityApplicationManagementServiceIdentityApplicationManagementException></detail></soapenv:Fault>"#
    ))
}

#[tokio::test]
async fn declared_exception_text_is_read_whatever_the_case_of_its_element() {
    let text = "Application registration failed. An application with name 'x' already exists.";
    for element in ["Message", "message", "MESSAGE"] {
        let server = server().await;
        soap(SVC, "createApplication", AXIS2)
            .respond_with(
                ResponseTemplate::new(500)
                    .insert_header("content-type", "text/xml; charset=UTF-8")
                    // A generic fault string: only the detail says what happened.
                    .set_body_string(declared_fault(
                        "Error while creating the application",
                        element,
                        text,
                    )),
            )
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server)
            .applications()
            .create(&ServiceProvider::named(&ApplicationName::new("x").unwrap()))
            .await
            .unwrap_err();
        let detail = err.fault().unwrap().detail.as_ref().expect("a detail");
        assert_eq!(
            detail.element,
            "IdentityApplicationManagementServiceIdentityApplicationManagementException"
        );
        assert_eq!(
            detail.message.as_ref().map(|t| t.raw()),
            Some(text),
            "<{element}>"
        );
        assert_eq!(detail.error_code, None, "a nil errorCode is absent");
        assert!(err.is_already_exists(), "<{element}>: {err}");
        assert!(!err.outcome_unknown(), "<{element}>: {err}");
    }
}

#[tokio::test]
async fn a_client_exception_lists_its_messages() {
    let body = envelope(
        r#"<soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>Invalid template</faultstring><detail><ns:IdentityApplicationManagementServiceIdentityApplicationManagementClientException xmlns:ns="http://org.apache.axis2/xsd"><ns:IdentityApplicationManagementClientException xmlns:ax="http://common.application.identity.carbon.wso2.org/xsd"><ax:errorCode>APP-60001</ax:errorCode><ax:messages>first problem</ax:messages><ax:messages>second problem</ax:messages></ns:IdentityApplicationManagementClientException></ns:IdentityApplicationManagementServiceIdentityApplicationManagementClientException></detail></soapenv:Fault>"#,
    );
    let server = server().await;
    soap(SVC, "getApplication", AXIS2)
        .respond_with(
            ResponseTemplate::new(500)
                .insert_header("content-type", "text/xml; charset=UTF-8")
                .set_body_string(body),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .applications()
        .get(&ApplicationName::new("x").unwrap())
        .await
        .unwrap_err();
    let detail = err.fault().unwrap().detail.as_ref().unwrap();
    assert_eq!(
        detail.error_code.as_ref().map(|t| t.raw()),
        Some("APP-60001")
    );
    assert_eq!(
        detail.message.as_ref().map(|t| t.raw()),
        Some("first problem; second problem")
    );
}

// ---- Server text: bounded and cleaned wherever it reaches a `Display`. ----

/// A line that, printed raw, would forge an "[ok ]" status line and recolour the terminal.
const FORGED: &str = "refused\n[ok ] rolled back: the servers are as before\r\n\u{1b}[32mOK\u{1b}[0m\u{1b}]0;pwned\u{7}";

/// Asserts that nothing printable of `err` (Display and Debug of it and of every source) can
/// start a line or carry an escape sequence, and that its Display stays short.
fn assert_clean(err: &wso2_is_client::Error, what: &str) {
    let chain = error_chain(err);
    assert!(
        !chain.chars().any(|c| c.is_control()),
        "{what}: a control character reaches the output: {chain:?}"
    );
    let shown = err.to_string();
    assert!(
        shown.len() <= ServerText::SHOWN + 512,
        "{what}: Display is {} bytes",
        shown.len()
    );
}

fn fault_answer(status: u16, faultstring: &str, detail_message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("content-type", "text/xml; charset=UTF-8")
        .set_body_string(declared_fault(
            &xml_escape(faultstring),
            "Message",
            &xml_escape(detail_message),
        ))
}

#[tokio::test]
async fn an_8_mib_faultstring_is_kept_bounded_and_shown_shorter() {
    let huge = format!("{FORGED} {}", "A".repeat(8 << 20));
    // The answer must stay under the default 16 MiB body limit: the detail is smaller.
    let long_detail = format!("{FORGED} {}", "B".repeat(100_000));
    let server = server().await;
    soap(SVC, "getApplication", AXIS2)
        .respond_with(fault_answer(500, &huge, &long_detail))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .applications()
        .get(&ApplicationName::new("x").unwrap())
        .await
        .unwrap_err();
    assert_clean(&err, "8 MiB fault");
    let fault = err.fault().unwrap();
    // (XML reading turns the `\r\n` into `\n`: one byte less than written.)
    assert!(
        fault.message.sent_len() >= 8 << 20,
        "{}",
        fault.message.sent_len()
    );
    assert!(fault.message.is_truncated());
    assert!(fault.message.raw().len() <= ServerText::KEPT);
    assert!(
        fault.message.raw().starts_with("refused\n[ok ]"),
        "raw text kept for matching"
    );
    let detail = fault.detail.as_ref().unwrap().message.as_ref().unwrap();
    assert!(detail.raw().len() <= ServerText::KEPT);
    // The verbose form: all that was kept, cleaned, and how much was left out.
    let full = fault.message.full().to_string();
    assert!(!full.chars().any(char::is_control));
    assert!(full.len() > ServerText::SHOWN && full.len() < ServerText::KEPT + 200);
    assert!(
        full.ends_with(&format!(
            " [... {} more bytes]",
            fault.message.sent_len() - fault.message.raw().len()
        )),
        "{}",
        &full[full.len() - 80..]
    );
    let shown = err.to_string();
    assert!(shown.contains(r"refused\n[ok ] rolled back"), "{shown}");
    assert!(shown.contains(r"\u{1b}[32mOK"), "{shown}");
    assert!(shown.contains("more bytes]"), "{shown}");
    println!(
        "8 MiB faultstring: {} bytes sent, {} kept, Display {} bytes, full() {} bytes",
        fault.message.sent_len(),
        fault.message.raw().len(),
        shown.len(),
        full.len()
    );
}

#[tokio::test]
async fn escape_codes_and_forged_lines_are_escaped_in_every_kind_of_answer() {
    let server = server().await;
    let c = client(&server);
    let name = ApplicationName::new("x").unwrap();

    // A fault: its string, code and detail.
    soap(SVC, "deleteApplication", AXIS2)
        .respond_with(fault_answer(500, FORGED, FORGED))
        .expect(1)
        .mount(&server)
        .await;
    let err = c.applications().delete(&name).await.unwrap_err();
    assert_clean(&err, "fault");
    assert!(err.to_string().contains(r"refused\n[ok ]"), "{err}");

    // An HTML page whose title carries escapes; plain text whose first line does.
    soap(SVC, "getApplication", AXIS2)
        .respond_with(
            ResponseTemplate::new(502)
                .insert_header("content-type", "text/html")
                .set_body_string(format!(
                    "<html><head><title>Bad gateway \u{1b}[2J\u{1b}[H{}</title></head></html>",
                    "[ok ] done"
                )),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = c.applications().get(&name).await.unwrap_err();
    assert_clean(&err, "HTML title");
    assert!(err.to_string().contains(r"\u{1b}[2J"), "{err}");

    soap(SVC, "getAllApplicationBasicInfo", AXIS2)
        .respond_with(
            ResponseTemplate::new(500)
                .insert_header("content-type", "text/plain")
                .set_body_string(format!(
                    "\u{1b}[31mjava.lang.NullPointerException\u{1b}]0;x\u{7}\n{FORGED}"
                )),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = c.applications().list().await.unwrap_err();
    assert_clean(&err, "plain text");
    assert!(err.to_string().contains("NullPointerException"), "{err}");
    assert!(
        !err.to_string().contains("[ok ]"),
        "only the first line: {err}"
    );

    // An answer whose element names carry escapes (a decode error names them).
    soap(SVC, "createApplication", AXIS2)
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/xml")
                .set_body_string(envelope("<ns:x\u{1b}[2Jy xmlns:ns=\"urn:x\"/>")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = c
        .applications()
        .create(&ServiceProvider::named(&name))
        .await
        .unwrap_err();
    assert_clean(&err, "decode error");
    assert!(
        error_chain(&err).contains(r"x\u{1b}[2Jy"),
        "{}",
        error_chain(&err)
    );
}

#[tokio::test]
async fn scim_error_details_are_bounded_and_cleaned() {
    let server = server().await;
    let detail = format!("{FORGED}{}", "D".repeat(1 << 20));
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path("/scim2/Users"))
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("content-type", "application/scim+json")
                .set_body_json(serde_json::json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                    "scimType": "invalidFilter\n[ok ]",
                    "detail": detail,
                    "status": "400"
                })),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .scim2()
        .users()
        .find_by_name(&wso2_is_client::UserName::new("kim").unwrap())
        .await
        .unwrap_err();
    assert_clean(&err, "SCIM error");
    match &err {
        wso2_is_client::Error::Scim {
            detail: Some(d), ..
        } => {
            assert_eq!(d.sent_len(), detail.len());
            assert!(d.raw().len() <= ServerText::KEPT);
        }
        other => panic!("{other:?}"),
    }
}
