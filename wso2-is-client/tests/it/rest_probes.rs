//! Version probes against a mock server answering as each release does (see the `server`
//! module docs): every probe outcome, and the detection each set of answers gives.

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use wso2_is_client::server::{
    Detection, ProbeKind, ProbeOutcome, detect_apim_version, detect_is_version,
};
use wso2_is_client::version::ServerVersion;
use wso2_is_client::{IsClient, RetryPolicy};

use crate::rest_applications::{ExactQuery, rest};
use crate::support::{AXIS2, client, envelope, respond, respond_auth_failure, server, soap};

/// How the mock answers one REST probe.
#[derive(Clone, Copy)]
enum Rest {
    Present,
    Missing,
    Html200,
    Status(u16),
}

/// How the mock answers `ServerAdmin.getServerVersion`.
#[derive(Clone, Copy)]
enum Admin {
    Version(&'static str),
    /// IS 7.2+: admin services off, HTTP 500.
    Disabled,
    AuthFault,
}

async fn mount_admin(s: &MockServer, admin: Admin) {
    let answer = match admin {
        Admin::Version(v) => respond(
            "getServerVersion",
            "http://org.apache.axis2/xsd",
            &format!("<ns:return>{v}</ns:return>"),
        ),
        Admin::Disabled => ResponseTemplate::new(500)
            .insert_header("content-type", "text/xml")
            .set_body_string(envelope(
                "<soapenv:Fault><faultcode>soapenv:Client</faultcode><faultstring>The service cannot be found for the endpoint reference (EPR) /services/ServerAdmin</faultstring><detail/></soapenv:Fault>",
            )),
        Admin::AuthFault => respond_auth_failure(),
    };
    soap("ServerAdmin", "getServerVersion", AXIS2)
        .respond_with(answer)
        .expect(1)
        .mount(s)
        .await;
}

async fn mount_rest(s: &MockServer, p: &str, query: (&str, &str), answer: Rest) {
    let template = match answer {
        Rest::Present => ResponseTemplate::new(200)
            .insert_header("content-type", "application/json")
            .set_body_string(r#"{"totalResults":0,"Resources":[],"applications":[]}"#),
        Rest::Missing => ResponseTemplate::new(404)
            .insert_header("content-type", "text/html")
            .set_body_string(
                "<html><head><title>HTTP Status 404 – Not Found</title></head></html>",
            ),
        Rest::Html200 => ResponseTemplate::new(200)
            .insert_header("content-type", "text/html")
            .set_body_string("<html><head><title>Login</title></head></html>"),
        Rest::Status(code) => ResponseTemplate::new(code),
    };
    rest("GET", p)
        .and(ExactQuery::new(&[query]))
        .respond_with(template)
        .expect(1)
        .mount(s)
        .await;
}

/// A mock IS answering the five probes as told.
async fn mock_is(admin: Admin, apps: Rest, v1: Rest, v2: Rest, v3: Rest) -> MockServer {
    let s = server().await;
    mount_admin(&s, admin).await;
    mount_rest(&s, "/api/server/v1/applications", ("limit", "1"), apps).await;
    mount_rest(&s, "/scim2/Roles", ("count", "1"), v1).await;
    mount_rest(&s, "/scim2/v2/Roles", ("count", "1"), v2).await;
    mount_rest(&s, "/scim2/v3/Roles", ("count", "1"), v3).await;
    s
}

fn outcome(d: &Detection, kind: ProbeKind) -> ProbeOutcome {
    d.probe(kind).unwrap().outcome
}

#[tokio::test]
async fn is_5_9_is_read_exactly_from_server_admin() {
    use Rest::*;
    let s = mock_is(Admin::Version("5.9.0"), Missing, Missing, Missing, Missing).await;
    let d = detect_is_version(&client(&s)).await;
    assert!(d.exact);
    assert_eq!(d.version, Some(ServerVersion::is(5, 9).with_patch(0)));
    assert_eq!(d.evidence.len(), 5);
    assert_eq!(outcome(&d, ProbeKind::ServerAdmin), ProbeOutcome::Present);
    assert_eq!(
        d.probe(ProbeKind::ServerAdmin).unwrap().detail.as_deref(),
        Some("5.9.0")
    );
    assert_eq!(
        outcome(&d, ProbeKind::RestApplications),
        ProbeOutcome::Absent { status: 404 }
    );
    assert_eq!(d.to_string(), "IS 5.9.0 (read from ServerAdmin)");
}

#[tokio::test]
async fn is_7_1_is_exact_and_its_rest_apis_are_present() {
    use Rest::*;
    let s = mock_is(Admin::Version("7.1.0"), Present, Present, Present, Missing).await;
    let d = detect_is_version(&client(&s)).await;
    assert!(d.exact);
    assert_eq!(d.version, Some(ServerVersion::is(7, 1).with_patch(0)));
    for kind in [
        ProbeKind::RestApplications,
        ProbeKind::ScimRolesV1,
        ProbeKind::ScimRolesV2,
    ] {
        assert_eq!(outcome(&d, kind), ProbeOutcome::Present, "{kind}");
    }
    assert_eq!(
        outcome(&d, ProbeKind::ScimRolesV3),
        ProbeOutcome::Absent { status: 404 }
    );
}

#[tokio::test]
async fn is_7_2_without_admin_services_is_the_7_2_family() {
    use Rest::*;
    let s = mock_is(Admin::Disabled, Present, Present, Present, Present).await;
    let d = detect_is_version(&client(&s)).await;
    assert!(!d.exact);
    assert_eq!(
        outcome(&d, ProbeKind::ServerAdmin),
        ProbeOutcome::Absent { status: 500 }
    );
    assert_eq!(d.version, Some(ServerVersion::is(7, 2)));
    assert_eq!(d.up_to, None);
    assert_eq!(d.to_string(), "IS 7.2 or later (from the REST probes)");
}

#[tokio::test]
async fn families_without_server_admin() {
    use Rest::*;
    let is = ServerVersion::is;
    let cases = [
        (
            [Present, Missing, Missing, Missing],
            (is(5, 10), Some(is(5, 10))),
        ),
        (
            [Present, Present, Missing, Missing],
            (is(5, 11), Some(is(6, 1))),
        ),
        (
            [Present, Present, Present, Missing],
            (is(7, 0), Some(is(7, 1))),
        ),
    ];
    for ([apps, v1, v2, v3], (low, high)) in cases {
        let s = mock_is(Admin::AuthFault, apps, v1, v2, v3).await;
        let d = detect_is_version(&client(&s)).await;
        assert!(!d.exact);
        assert!(matches!(
            outcome(&d, ProbeKind::ServerAdmin),
            ProbeOutcome::Denied { .. }
        ));
        assert_eq!((d.version, d.up_to), (Some(low), high), "{d}");
    }
}

#[tokio::test]
async fn refused_credentials_and_odd_answers_prove_nothing() {
    use Rest::*;
    let s = mock_is(
        Admin::AuthFault,
        Status(401),
        Status(403),
        Html200,
        Status(500),
    )
    .await;
    let d = detect_is_version(&client(&s)).await;
    assert_eq!(d.version, None);
    assert_eq!(d.to_string(), "unknown");
    assert_eq!(
        outcome(&d, ProbeKind::RestApplications),
        ProbeOutcome::Denied { status: 401 }
    );
    assert_eq!(
        outcome(&d, ProbeKind::ScimRolesV1),
        ProbeOutcome::Denied { status: 403 }
    );
    assert_eq!(
        outcome(&d, ProbeKind::ScimRolesV2),
        ProbeOutcome::Inconclusive { status: Some(200) }
    );
    assert_eq!(
        outcome(&d, ProbeKind::ScimRolesV3),
        ProbeOutcome::Inconclusive { status: Some(500) }
    );
}

#[tokio::test]
async fn an_unreachable_server_is_unreachable() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c: IsClient = IsClient::builder(format!("http://127.0.0.1:{port}"))
        .credentials("admin", "admin")
        .allow_http(true)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let d = detect_is_version(&c).await;
    assert_eq!(d.version, None);
    assert!(
        d.evidence
            .iter()
            .all(|p| p.outcome == ProbeOutcome::Unreachable),
        "{:?}",
        d.evidence
    );
}

#[tokio::test]
async fn apim_is_read_from_server_admin_only() {
    let s = server().await;
    mount_admin(&s, Admin::Version("3.0.0")).await;
    let c = client(&s);
    let d = detect_apim_version(c.core()).await;
    assert!(d.exact);
    assert_eq!(d.version, Some(ServerVersion::apim(3, 0).with_patch(0)));
    assert_eq!(d.evidence.len(), 1);

    let s = server().await;
    Mock::given(method("POST"))
        .and(path("/services/ServerAdmin"))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&s)
        .await;
    let d = detect_apim_version(client(&s).core()).await;
    assert_eq!(d.version, None);
    assert_eq!(
        outcome(&d, ProbeKind::ServerAdmin),
        ProbeOutcome::Absent { status: 404 }
    );
}
