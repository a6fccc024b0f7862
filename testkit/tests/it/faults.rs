//! Fault injection, latency, the request log and in-flight counting.

use std::time::{Duration, Instant};

use wso2_testkit::{FaultKind, FaultRule, SUPER_TENANT, Sandbox, Target, When};

use crate::support::*;

fn app_count(sb: &Sandbox) -> usize {
    sb.is().with_tenant(SUPER_TENANT, |t| {
        t.map(|t| t.applications.len()).unwrap_or(0)
    })
}

async fn create_raw(
    c: &reqwest::Client,
    sb: &Sandbox,
    name: &str,
) -> Result<Answer, reqwest::Error> {
    let resp = c
        .post(format!("{}/services/{APP}", sb.is().base_url()))
        .basic_auth("admin", Some("admin"))
        .header("SOAPAction", "urn:createApplication")
        .body(envelope(&format!(
            "<xsd:createApplication><xsd:serviceProvider><m:applicationName>{name}</m:applicationName></xsd:serviceProvider></xsd:createApplication>"
        )))
        .send()
        .await?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.text().await?;
    Ok(Answer {
        status,
        headers,
        body,
    })
}

#[tokio::test]
async fn each_fault_kind_answers_as_documented_and_commits_only_when_it_says() {
    let sb = Sandbox::start().await.expect("sandbox");
    sb.is()
        .update_quirks(|q| q.hang = Duration::from_millis(300));
    let c = client_with(tls_config(sb.ca_pem(), None));
    let short = reqwest::Client::builder()
        .tls_backend_preconfigured(tls_config(sb.ca_pem(), None))
        .timeout(Duration::from_millis(150))
        .build()
        .expect("client");
    for (i, kind) in FaultKind::all().into_iter().enumerate() {
        let name = format!("app{i}");
        let before = app_count(&sb);
        sb.is().clear_faults();
        sb.is()
            .inject(FaultRule::nth("createApplication", 1, kind.clone()));
        let client = if matches!(
            kind,
            FaultKind::TimeoutBeforeCommit | FaultKind::TimeoutAfterCommit
        ) {
            &short
        } else {
            &c
        };
        let outcome = create_raw(client, &sb, &name).await;
        match (&kind, &outcome) {
            (FaultKind::SoapFault { message }, Ok(a)) => {
                assert_eq!(a.status, 500);
                assert_eq!(a.fault().as_deref(), Some(message.as_str()));
            }
            (FaultKind::PlainText500, Ok(a)) => {
                assert_eq!(a.status, 500);
                assert!(
                    a.header("content-type")
                        .is_some_and(|c| c.starts_with("text/plain"))
                );
            }
            (FaultKind::Unauthorized, Ok(a)) => assert_eq!(a.status, 401),
            (FaultKind::AuthFailureFault, Ok(a)) => {
                assert_eq!(a.fault().as_deref(), Some("Authentication failure"));
            }
            (FaultKind::ServerErrorAfterCommit, Ok(a)) => assert_eq!(a.status, 500),
            (FaultKind::SoapFaultIn200 { message }, Ok(a)) => {
                assert_eq!(a.status, 200);
                assert_eq!(a.fault().as_deref(), Some(message.as_str()));
            }
            (FaultKind::HtmlLoginPage, Ok(a)) => {
                assert_eq!(a.status, 200);
                assert!(a.body.contains("<html"), "{}", a.body);
            }
            (FaultKind::MalformedBody, Ok(a)) => {
                assert!(
                    wso2_testkit::Element::parse(&a.body).is_err(),
                    "malformed: {}",
                    a.body
                );
            }
            (
                FaultKind::ConnectionReset
                | FaultKind::TimeoutBeforeCommit
                | FaultKind::TimeoutAfterCommit
                | FaultKind::TruncatedBody,
                Err(_),
            ) => {}
            (k, o) => panic!("{k:?}: unexpected outcome {o:?}"),
        }
        // Let a hanging request finish on the server before counting.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let after = app_count(&sb);
        assert_eq!(
            after - before,
            usize::from(kind.commits()),
            "{kind:?} commit"
        );
        let rec = sb
            .is()
            .requests()
            .into_iter()
            .rev()
            .find(|r| r.action == "createApplication")
            .expect("logged");
        assert_eq!(rec.fault.as_ref(), Some(&kind));
    }
    assert_eq!(sb.is().stats().faults_fired, FaultKind::all().len() as u64);
}

#[tokio::test]
async fn occurrence_selection_nth_every_and_mutating() {
    let sb = Sandbox::start().await.expect("sandbox");
    let c = http(&sb);
    sb.is().inject(FaultRule::nth(
        "createApplication",
        2,
        FaultKind::PlainText500,
    ));
    let codes: Vec<u16> = {
        let mut v = Vec::new();
        for i in 0..3 {
            v.push(create_app(&c, sb.is(), &format!("n{i}")).await.status);
        }
        v
    };
    assert_eq!(codes, [200, 500, 200]);
    sb.is().clear_faults();
    sb.is().inject(FaultRule {
        target: Target::AnyMutating,
        when: When::FromNth(2),
        kind: FaultKind::SoapFault {
            message: "boom".into(),
        },
    });
    assert_eq!(create_app(&c, sb.is(), "m1").await.status, 200);
    // Reads are not counted by AnyMutating.
    assert_eq!(get_app(&c, sb.is(), "m1").await.status, 200);
    assert_eq!(
        create_app(&c, sb.is(), "m2").await.fault().as_deref(),
        Some("boom")
    );
    assert_eq!(
        create_app(&c, sb.is(), "m3").await.fault().as_deref(),
        Some("boom")
    );
    sb.is().clear_faults();
    sb.is()
        .inject(FaultRule::every("getApplication", FaultKind::Unauthorized));
    assert_eq!(get_app(&c, sb.is(), "m1").await.status, 401);
    assert_eq!(get_app(&c, sb.is(), "m1").await.status, 401);
}

#[tokio::test]
async fn request_log_records_action_body_and_mutation() {
    let sb = Sandbox::start().await.expect("sandbox");
    let c = http(&sb);
    create_app(&c, sb.is(), "logged").await;
    get_app(&c, sb.is(), "logged").await;
    let log = sb.is().requests();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].action, "createApplication");
    assert_eq!(log[0].soap_action.as_deref(), Some("urn:createApplication"));
    assert!(log[0].mutating);
    assert!(
        log[0]
            .body
            .contains("<m:applicationName>logged</m:applicationName>")
    );
    assert_eq!(log[0].status, Some(200));
    assert_eq!(log[1].action, "getApplication");
    assert!(!log[1].mutating);
    assert_eq!(sb.is().mutating_requests().len(), 1);
    assert!(log[0].seq < log[1].seq);
    sb.is().clear_requests();
    assert!(sb.is().requests().is_empty());
    // Unserved paths are logged under an "unknown" action so tests can fail loudly on them.
    let r = c
        .get(format!("{}/api/server/v1/applications", sb.is().base_url()))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 404);
    let unknown = sb.is().unknown_requests();
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0].action, "unknown GET /api/server/v1/applications");
    sb.is().clear_requests();
    // Control requests are never logged.
    c.get(format!("{}/__sim/stats", sb.is().base_url()))
        .send()
        .await
        .expect("send");
    assert!(sb.is().requests().is_empty());
}

#[tokio::test]
async fn latency_delays_answers_and_in_flight_maximum_is_tracked() {
    let sb = Sandbox::start().await.expect("sandbox");
    let c = http(&sb);
    // A wide window, so all five overlap even on a loaded machine.
    sb.is().set_latency(Duration::from_millis(500));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..5 {
        let c = c.clone();
        let s = sb.is().clone();
        tasks.push(tokio::spawn(async move {
            create_app(&c, &s, &format!("c{i}")).await.status
        }));
    }
    for t in tasks {
        assert_eq!(t.await.expect("join"), 200);
    }
    assert!(start.elapsed() >= Duration::from_millis(500));
    assert_eq!(
        sb.is().max_in_flight(),
        5,
        "all five overlapped inside the latency window"
    );
    assert_eq!(sb.is().stats().in_flight, 0);
    assert_eq!(sb.apim().max_in_flight(), 0);
    sb.is().clear_requests();
    sb.is().set_latency(Duration::ZERO);
    create_app(&c, sb.is(), "solo").await;
    assert_eq!(sb.is().max_in_flight(), 1);
}
