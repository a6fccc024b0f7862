//! doctor before, verify after.

use secrecy::SecretString;
use wso2_federation::ClientAuthMode;
use wso2_federation::verify::{Status, VerifyOptions};
use wso2_testkit::Sandbox;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_passes_on_a_fresh_sandbox_and_names_a_wrong_role_case() {
    let sb = Sandbox::start().await.unwrap();
    let journal = TempJournal::new();
    let report = seed(&sb, &journal).doctor().await;
    assert!(report.is_ok(), "{report}");
    assert!(
        sb.is().mutating_requests().is_empty() && sb.apim().mutating_requests().is_empty(),
        "doctor only reads"
    );

    let bad = seed_builder(&sb)
        .map_role("user_role", "Internal/Subscriber")
        .build();
    // The builder catches the well-known role's case before any request.
    let err = bad.unwrap_err();
    assert!(
        err.to_string()
            .contains("\"Internal/Subscriber\" is not \"Internal/subscriber\""),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_passes_after_apply_with_a_test_login_carrying_the_role() {
    let sb = Sandbox::start().await.unwrap();
    let journal = TempJournal::new();
    let fed = seed(&sb, &journal);
    fed.apply(&journal.options()).await.unwrap();
    let options = VerifyOptions {
        test_login: Some((
            "api_publisher".into(),
            SecretString::from(PUBLISHER_PASSWORD),
        )),
        fix_client_auth: false,
        browser_logins: Vec::new(),
    };
    let report = fed.verify(&options).await.unwrap();
    assert!(report.is_ok(), "{report}");
    assert!(
        report.findings.iter().all(|f| f.status == Status::Pass),
        "{report}"
    );
    assert!(
        report
            .to_string()
            .contains("publisher_role -> Internal/publisher"),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_reports_the_mutual_tls_conflict_and_can_fix_it() {
    let sb = Sandbox::start().await.unwrap();
    sb.is().update_quirks(|q| q.mutual_tls_conflict = true);
    let fed = seed_builder(&sb)
        .client_auth(ClientAuthMode::RequestBody)
        .build()
        .unwrap();
    let journal = TempJournal::new();
    fed.apply(&journal.options()).await.unwrap();

    let report = fed.verify(&VerifyOptions::default()).await.unwrap();
    assert!(!report.is_ok(), "{report}");
    let text = report.to_string();
    assert!(
        text.contains("IsBasicAuthEnabled=true") && text.contains("mutual_tls_authenticator"),
        "{text}"
    );

    let fixed = fed
        .verify(&VerifyOptions {
            fix_client_auth: true,
            browser_logins: Vec::new(),
            ..VerifyOptions::default()
        })
        .await
        .unwrap();
    assert!(fixed.is_ok(), "{fixed}");
    let idp = apim_client(&sb)
        .identity_providers()
        .get(&"wso2-is".parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(idp.oidc_authenticator().unwrap().basic_auth(), Some(true));
}
