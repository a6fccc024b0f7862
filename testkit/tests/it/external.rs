//! External checkers against the simulated servers: zeep driven by the real WSDLs, scim2-tester,
//! and the generated WSDL table checked against the WSDLs. Python comes from `WSO2_TEST_PYTHON`
//! (default `python3`), the WSDLs from `WSO2_CONTRACTS_DIR` (default `../shared/contracts` from the
//! repository root). Missing tools skip with a printed reason, except under CI (env `CI`), where
//! they fail.

use std::path::PathBuf;
use std::process::Command;

use wso2_testkit::Sandbox;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn contracts_dir() -> PathBuf {
    let d = std::env::var("WSO2_CONTRACTS_DIR").unwrap_or_else(|_| "../shared/contracts".into());
    let p = PathBuf::from(d);
    if p.is_absolute() {
        p
    } else {
        repo_root().join(p)
    }
}

fn python() -> String {
    std::env::var("WSO2_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Returns false (after printing why) when the tool is missing outside CI; panics in CI.
fn require(ok: bool, what: &str) -> bool {
    if ok {
        return true;
    }
    assert!(!in_ci(), "{what} (required when CI is set)");
    // libtest names each test's thread after the test.
    skip(std::thread::current().name().unwrap_or("external"), what);
    false
}

/// Reports a skipped test where a plain `cargo test` shows it and where `.ci/skips` counts it:
/// `SKIP: test: reason` straight on the process's stderr (libtest captures `eprintln!` of a
/// passing test, which would hide the skip behind `ok`), and the same line appended to
/// `{target}/{profile}/test-skips/{crate}-{test target}.log` (started afresh by the first skip
/// of each run of the binary).
fn skip(test: &str, reason: &str) {
    use std::io::Write;
    static STARTED: std::sync::Once = std::sync::Once::new();
    let line = format!("SKIP: {test}: {reason}");
    let _ = writeln!(std::io::stderr().lock(), "{line}");
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    // target/{profile}/deps/{binary}
    let (Some(profile), Some(name)) = (
        exe.parent().and_then(std::path::Path::parent),
        exe.file_stem(),
    ) else {
        return;
    };
    // One file per crate and test target, whatever the build's hash (`it-0123abcd` -> `it`).
    let name = name.to_string_lossy();
    let target = name.rsplit_once('-').map_or(&*name, |(t, _)| t);
    let dir = profile.join("test-skips");
    let file = dir.join(format!("{}-{target}.log", env!("CARGO_PKG_NAME")));
    let _ = std::fs::create_dir_all(&dir);
    STARTED.call_once(|| {
        let _ = std::fs::write(&file, "");
    });
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&file)
    {
        let _ = writeln!(f, "{}: {line}", env!("CARGO_PKG_NAME"));
    }
}

fn python_has(modules: &str) -> bool {
    Command::new(python())
        .args(["-c", &format!("import {modules}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn tool(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tools")
        .join(name)
}

async fn run(args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        Command::new(python())
            .args(&args)
            .env_remove("REQUESTS_CA_BUNDLE")
            .env_remove("CURL_CA_BUNDLE")
            .output()
            .expect("run python")
    })
    .await
    .expect("join")
}

fn ca_file(sb: &Sandbox, name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("wso2-testkit-{name}-{}.pem", std::process::id()));
    std::fs::write(&p, sb.ca_pem()).expect("write CA");
    p
}

#[tokio::test]
async fn zeep_calls_every_simulated_operation_through_the_real_wsdls() {
    let soap = contracts_dir().join("soap");
    if !require(
        soap.join("OAuthAdminService.wsdl").is_file(),
        &format!("WSDLs not found in {}", soap.display()),
    ) || !require(
        python_has("zeep, lxml, requests"),
        &format!("{} cannot import zeep", python()),
    ) {
        return;
    }
    let sb = Sandbox::start().await.expect("sandbox");
    let ca = ca_file(&sb, "zeep");
    let out = run(vec![
        tool("zeep_driver.py").display().to_string(),
        contracts_dir().display().to_string(),
        sb.is().base_url(),
        sb.apim().base_url(),
        ca.display().to_string(),
        "admin".into(),
        "admin".into(),
    ])
    .await;
    let _ = std::fs::remove_file(&ca);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stdout.lines().last().unwrap_or_default();
    let report: serde_json::Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("zeep driver output ({e}): {stdout}\n{stderr}"));
    let called = report["ops_called"].as_u64().unwrap_or(0) as usize;
    println!(
        "zeep called {called} of {} simulated SOAP operations and parsed each answer; {} expected faults checked",
        wso2_testkit::served_operations().len(),
        report["faults_checked"]
    );
    assert!(
        out.status.success(),
        "zeep driver failures: {}\n{stderr}",
        report["failures"]
    );
    assert_eq!(called, wso2_testkit::served_operations().len(), "{report}");
}

#[tokio::test]
async fn scim2_tester_runs_against_the_simulated_scim2_endpoint() {
    if !require(
        python_has("scim2_tester, scim2_client, httpx2"),
        &format!(
            "{} cannot import scim2_tester / scim2_client / httpx2",
            python()
        ),
    ) {
        return;
    }
    let sb = Sandbox::start().await.expect("sandbox");
    let ca = ca_file(&sb, "scim");
    let out = run(vec![
        tool("scim2_tester_run.py").display().to_string(),
        format!("{}/scim2", sb.is().base_url()),
        "admin".into(),
        "admin".into(),
        ca.display().to_string(),
    ])
    .await;
    let _ = std::fs::remove_file(&ca);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| {
            panic!(
                "scim2-tester output ({e}): {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    assert!(out.status.success(), "scim2-tester could not run: {report}");
    let total = report["total"].as_u64().unwrap_or(0);
    let passed = report["statuses"]["SUCCESS"].as_u64().unwrap_or(0);
    println!("scim2-tester: {passed} of {total} checks passed");
    for n in report["not_passed"].as_array().into_iter().flatten() {
        println!("  {} | {} | {}", n[0], n[1], n[2]);
    }
    assert!(total > 0 && passed > 0, "{report}");
    // The known differences are IS 5.9 behaviours (see testkit/README.md); a large drop means a
    // regression (a ratio, not a count, so a newer scim2-tester with more checks still passes).
    assert!(
        passed * 100 >= total * 80,
        "scim2-tester passes dropped to {passed} of {total}: {report}"
    );
}

#[test]
fn generated_wsdl_table_matches_the_real_wsdls() {
    let soap = contracts_dir().join("soap");
    if !require(
        soap.is_dir(),
        &format!("WSDLs not found in {}", soap.display()),
    ) || !require(
        python_has("lxml"),
        &format!("{} cannot import lxml", python()),
    ) {
        return;
    }
    let out = Command::new(python())
        .arg(tool("gen_wsdl_table.py"))
        .arg("--check")
        .arg(contracts_dir())
        .output()
        .expect("run generator");
    println!("{}", String::from_utf8_lossy(&out.stdout));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn generated_rest_table_matches_the_real_specs() {
    let rest = contracts_dir().join("rest");
    if !require(
        rest.join("applications.yaml").is_file(),
        &format!("OpenAPI specs not found in {}", rest.display()),
    ) || !require(
        python_has("yaml"),
        &format!("{} cannot import yaml", python()),
    ) {
        return;
    }
    let out = Command::new(python())
        .arg(tool("gen_rest_table.py"))
        .arg("--check")
        .arg(contracts_dir())
        .output()
        .expect("run generator");
    println!("{}", String::from_utf8_lossy(&out.stdout));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The simulated REST answers validate against each release's own spec (openapi-core), and
/// schemathesis finds nothing beyond the real-server behaviours `tools/rest_check.py` classifies
/// (each with its source); an unclassified finding fails the test.
#[tokio::test]
async fn rest_answers_validate_against_each_releases_spec_and_schemathesis() {
    let rest = contracts_dir().join("rest");
    if !require(
        rest.join("applications.yaml").is_file(),
        &format!("OpenAPI specs not found in {}", rest.display()),
    ) || !require(
        python_has("openapi_core, yaml, requests, schemathesis"),
        &format!("{} cannot import openapi_core / schemathesis", python()),
    ) {
        return;
    }
    for v in ["5.10", "5.11", "6.0", "6.1", "7.0", "7.1", "7.3"] {
        let sb = Sandbox::builder()
            .is_version(v)
            .start()
            .await
            .expect("sandbox");
        let version = sb.is_version();
        let ca = ca_file(&sb, &format!("rest-{v}"));
        let mut args = vec![
            tool("rest_check.py").display().to_string(),
            contracts_dir().display().to_string(),
            sb.is().base_url(),
            ca.display().to_string(),
            version.applications_spec().expect("spec").to_owned(),
            version.scopes_spec().expect("spec").to_owned(),
            "--is-version".into(),
            v.to_owned(),
        ];
        // schemathesis for the 5.10, 5.11, 6.1 and 7.x spec versions.
        if ["5.10", "5.11", "6.1", "7.1"].contains(&v) {
            args.extend(["--schemathesis".into(), "5".into()]);
        }
        let out = run(args).await;
        let _ = std::fs::remove_file(&ca);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let report: serde_json::Value =
            serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap_or_else(|e| {
                panic!(
                    "rest_check output ({e}): {stdout}\n{}",
                    String::from_utf8_lossy(&out.stderr)
                )
            });
        println!(
            "IS {v}: {} answers validated against {} / {}; failures: {}",
            report["validated"],
            version.applications_spec().unwrap_or_default(),
            version.scopes_spec().unwrap_or_default(),
            report["failures"]
        );
        if let Some(st) = report.get("schemathesis") {
            for r in st["results"].as_array().into_iter().flatten() {
                println!(
                    "  schemathesis {}: {} findings {}",
                    r["spec"], r["totals"], r["findings"]
                );
            }
            for c in st["classified"].as_array().into_iter().flatten() {
                println!("  classified {} {}: {}", c[0], c[1], c[2]);
            }
            println!("  schemathesis unexpected: {}", st["unexpected"]);
            assert_eq!(
                st["unexpected"].as_array().map(Vec::len),
                Some(0),
                "IS {v}: schemathesis findings not classified as real-server behaviour: {}",
                st["unexpected"]
            );
        }
        assert!(out.status.success(), "IS {v}: {report}");
        assert_eq!(report["validated"], 15, "IS {v}: {report}");
    }
}
