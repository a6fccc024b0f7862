//! The CLI's main job, the example configuration, and stale plans.

use std::process::Command;

use wso2_federation::FederationError;
use wso2_federation::config::{Config, SecretSource};
use wso2_testkit::Sandbox;

use crate::support::*;

#[test]
fn the_sandbox_main_job_prints_the_plan_each_step_and_a_passing_verify() {
    let journal = TempJournal::new();
    let out = Command::new(env!("CARGO_BIN_EXE_wso2-federate"))
        .args(["apply", "--sandbox", "--yes", "--journal"])
        .arg(&journal.0)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {:?}\n{stdout}\n{stderr}",
        out.status,
    );
    for expected in [
        "Plan: 8 to create, 2 to update",
        "client authentication: IS accepts the client as APIM sends it",
        // Every hop of the browser logins, and the rights they prove.
        "login as api_publisher on the publisher portal:",
        "is.login_page GET",
        "portal.api GET",
        "browser login as api_publisher (publisher portal)",
        "rights of api_user (devportal portal)",
        "6 checks, 0 failed",
        "A second plan: nothing to change",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    // Progress goes to stderr (stdout stays the plan and the outcome).
    for expected in [
        "ok    is.application:apim-federation: created",
        "ok    apim.identity-provider:wso2-is: created",
        "ok    apim.portal:publisher: updated",
        "ok    apim.portal:devportal: updated",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
}

/// The main job on every supported pair of releases (issue 12): exit 0, every verify check
/// passing, the browser logins of both users proved.
#[test]
fn the_sandbox_main_job_passes_on_every_supported_pair() {
    const PAIRS: &[(&str, &str)] = &[
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
    for (is, apim) in PAIRS {
        let out = Command::new(env!("CARGO_BIN_EXE_wso2-federate"))
            .args([
                "apply",
                "--sandbox",
                "--is-version",
                is,
                "--apim-version",
                apim,
                "--yes",
            ])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "IS {is} + APIM {apim}: exit {:?}\n{stdout}\n{stderr}",
            out.status
        );
        for expected in [
            "Applied",
            "browser login as api_publisher (publisher portal)",
            "browser login as api_user (devportal portal)",
            "6 checks, 0 failed",
            "A second plan: nothing to change",
        ] {
            assert!(
                stdout.contains(expected),
                "IS {is} + APIM {apim}: missing {expected:?} in:\n{stdout}"
            );
        }
        assert!(
            !stdout.contains("[FAIL]") && !stdout.contains("[skip]"),
            "{stdout}"
        );
    }
    println!(
        "sandbox pairs: `apply --sandbox` on {} pairs (IS 5.9-7.3, APIM 3.0-4.7): exit 0, 6 of 6 checks passed, both browser logins proved",
        PAIRS.len()
    );
}

struct Env(Vec<(&'static str, &'static str)>);

impl SecretSource for Env {
    fn var(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

#[test]
fn the_example_configuration_is_the_seed_setup() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("federation.toml");
    let config = Config::load(&path).unwrap();
    let env = Env(vec![
        ("IS_ADMIN_PASSWORD", "admin-pw"),
        ("APIM_ADMIN_PASSWORD", "admin-pw"),
        ("API_PUBLISHER_PASSWORD", "publisher-pw"),
        ("API_USER_PASSWORD", "user-pw"),
    ]);
    let dir = path.parent().unwrap();
    assert!(config.to_builder(&env, dir).is_ok());
    assert_eq!(
        config
            .users
            .iter()
            .map(|u| u.name.as_str())
            .collect::<Vec<_>>(),
        ["api_publisher", "api_user"]
    );
    assert_eq!(
        config
            .roles
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        ["publisher_role", "user_role"]
    );
    let maps: Vec<_> = config
        .role_mappings
        .iter()
        .map(|m| (m.remote.as_str(), m.local.as_str()))
        .collect();
    assert_eq!(
        maps,
        [
            ("publisher_role", "Internal/publisher"),
            ("user_role", "Internal/subscriber")
        ]
    );
    // The CA file named there is the operator's; without it the client settings say so.
    let err = config
        .client_builder::<wso2_is_client::IsClient>("is", &env, dir)
        .unwrap_err();
    assert!(err.iter().any(|p| p.field == "is.ca_pem"), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_made_before_the_servers_changed_is_refused_without_writing() {
    let sb = Sandbox::start().await.unwrap();
    let journal = TempJournal::new();
    let fed = seed(&sb, &journal);
    let plan = fed.plan().await.unwrap();
    // Someone creates one of the roles between plan and apply.
    sb.is()
        .add_role(wso2_testkit::SUPER_TENANT, "publisher_role");
    let before = sb.snapshot();
    let err = fed.apply_plan(&plan, &journal.options()).await.unwrap_err();
    assert!(matches!(err, FederationError::StalePlan { .. }), "{err}");
    assert!(err.to_string().contains("publisher_role"), "{err}");
    // Nothing was changed (the run lease was taken and given back around the re-read).
    before.assert_same(&sb.snapshot());
    let writes: Vec<_> = sb
        .is()
        .mutating_requests()
        .into_iter()
        .chain(sb.apim().mutating_requests())
        .filter(|r| !r.body.contains(wso2_federation::lease::LEASE_NAME))
        .map(|r| r.action)
        .collect();
    assert!(
        writes.is_empty(),
        "nothing but the lease was written: {writes:?}"
    );
    // A fresh plan finds that role someone else's: a conflict, unless adopting is allowed.
    let err = fed.plan().await.unwrap_err();
    assert!(matches!(err, FederationError::Conflict { .. }), "{err}");
    assert!(err.to_string().contains("publisher_role"), "{err}");
    let adopting = seed_builder(&sb)
        .journal(journal.path())
        .adopt(true)
        .build()
        .unwrap();
    let plan = adopting.plan().await.unwrap();
    adopting
        .apply_plan(&plan, &journal.options())
        .await
        .unwrap();
    let again = adopting.plan().await.unwrap();
    assert!(again.is_empty(), "{again}");
}
