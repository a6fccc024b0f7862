//! The federation per version pair (issue 12): on each supported pair of simulated releases the
//! seed setup applies (IS 5.9 through SOAP; 5.10 and later through REST and SCIM2; the APIM
//! release's portals, consent switches and identity provider), a second plan is empty, the
//! verification passes with a test login whose id_token carries the mapped role claim, and
//! destroy leaves the servers answering as before.
//!
//! `cargo test -p wso2-federation --test it versions -- --nocapture`

use wso2_apim_client::portals::Portal;
use wso2_federation::login::LoginProof;
use wso2_federation::verify::{Status, VerifyOptions};
use wso2_federation::versions::VersionSource;
use wso2_testkit::{SUPER_TENANT, Sandbox};

use crate::support::*;

/// The pairs of issue 12 (each IS release with an APIM release of its time).
pub const PAIRS: &[(&str, &str)] = &[
    ("5.9", "3.0"),
    ("5.10", "3.1"),
    ("5.11", "3.2"),
    ("6.0", "4.0"),
    ("6.1", "4.2"),
    ("7.0", "4.3"),
    ("7.1", "4.5"),
    ("7.2", "4.6"),
    ("7.3", "4.7"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_supported_pair_applies_verifies_and_destroys_back_to_the_start() {
    let mut lines = Vec::new();
    for &(is, apim) in PAIRS {
        let sb = Sandbox::builder()
            .is_version(is)
            .apim_version(apim)
            .start()
            .await
            .unwrap();
        // The portals' service providers are brought into being by the apply and never
        // removed (APIM would not register them again): the start is after a first login.
        sb.apim().ensure_portal_apps();
        let before = sb.snapshot();
        let journal = TempJournal::new();
        let fed = seed(&sb, &journal);
        let versions = fed.versions().await.unwrap();
        // IS 7.2 and later turn the SOAP admin services (ServerAdmin) off: the REST probes tell
        // "7.2 or later", which behaves the same here.
        let is_told = if matches!(is, "7.2" | "7.3") {
            "7.2"
        } else {
            is
        };
        assert_eq!(
            (
                format!(
                    "{}.{}",
                    versions.is.version.major(),
                    versions.is.version.minor()
                ),
                format!(
                    "{}.{}",
                    versions.apim.version.major(),
                    versions.apim.version.minor()
                )
            ),
            (is_told.to_owned(), apim.to_owned()),
            "detected {versions}"
        );
        assert!(matches!(versions.is_source, VersionSource::Detected { .. }));
        let report = fed
            .apply(&journal.options())
            .await
            .unwrap_or_else(|e| panic!("{is}+{apim}: {}", error_chain(&e)));
        let plan = fed.plan().await.unwrap();
        assert!(
            plan.is_empty(),
            "{is}+{apim}: a second plan is not empty:\n{plan}"
        );
        let verify = fed
            .verify(&VerifyOptions {
                test_login: Some(("api_publisher".into(), PUBLISHER_PASSWORD.into())),
                fix_client_auth: false,
                browser_logins: Vec::new(),
            })
            .await
            .unwrap();
        let failed: Vec<_> = verify
            .findings
            .iter()
            .filter(|f| f.status != Status::Pass)
            .collect();
        assert!(failed.is_empty(), "{is}+{apim}: {verify}\n{failed:#?}");
        // The browser login through every hop, with the rights it must give.
        let mut hops = Vec::new();
        for (portal, user, password) in [
            (Portal::Publisher, "api_publisher", PUBLISHER_PASSWORD),
            (Portal::DevPortal, "api_user", USER_PASSWORD),
        ] {
            let report = LoginProof::for_federation(&fed, portal, user, password.to_owned())
                .await
                .unwrap()
                .run()
                .await;
            assert!(report.is_proved(), "{is}+{apim} {user}: {report}");
            assert!(report.warnings.is_empty(), "{is}+{apim} {user}: {report}");
            hops.push(report.hops.len());
        }
        fed.destroy(&journal.options())
            .await
            .unwrap_or_else(|e| panic!("{is}+{apim}: destroy: {}", error_chain(&e)));
        let mut after = sb.snapshot();
        // The logins provisioned their users on APIM just in time, as any first login does:
        // those users (and their roles) are APIM's, not this federation's, and stay.
        let (b, a) = (
            &before.apim.tenants[SUPER_TENANT],
            after.apim.tenants.get_mut(SUPER_TENANT).unwrap(),
        );
        a.users = b.users.clone();
        a.roles = b.roles.clone();
        let d = before.diff_as_answered(&after);
        assert!(d.is_empty(), "{is}+{apim}: destroy left:\n{d}");
        let steps = report.run.steps.len();
        lines.push(format!(
            "  IS {is} + APIM {apim}: {steps} steps applied, plan empty after, {} checks passed, browser logins proved ({} and {} hops), destroyed back to the start",
            verify.findings.len(),
            hops[0],
            hops[1]
        ));
    }
    println!(
        "versions: {} pairs applied, verified (test login with the mapped role) and destroyed:\n{}",
        PAIRS.len(),
        lines.join("\n")
    );
}
