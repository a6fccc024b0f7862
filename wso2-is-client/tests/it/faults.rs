//! How SOAP faults are classified: Carbon's authentication fault (`50977`) means "answered, not
//! applied" whatever its text, and declared-exception details are read whatever the case of
//! their `message` element. Bodies are shaped as Carbon sends them (contracts/README.md "Faults").

use wiremock::ResponseTemplate;
use wso2_is_client::model::{IdentityProvider, ServiceProvider};
use wso2_is_client::{ApplicationName, Dispatch, IdpName};

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
        assert_eq!(detail.message.as_deref(), Some(text), "<{element}>");
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
    assert_eq!(detail.error_code.as_deref(), Some("APP-60001"));
    assert_eq!(
        detail.message.as_deref(),
        Some("first problem; second problem")
    );
}
