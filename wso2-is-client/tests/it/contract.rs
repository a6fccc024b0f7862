//! Contract checks against WSO2's real WSDLs (from `$WSO2_CONTRACTS_DIR/soap`): every SOAP body
//! this crate can send validates with `xmllint --schema` against the XSDs extracted from the
//! WSDL, and equals, after canonicalisation, the body zeep builds from the same WSDL for the same
//! values. Needs xmllint (Debian `libxml2-utils`) and a Python with zeep and lxml
//! (`$WSO2_TEST_PYTHON`); fails in CI when they are missing.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::*;

/// Every contract case of every service module.
pub fn all_cases() -> Vec<ContractCase> {
    let mut cases = Vec::new();
    cases.extend(crate::application::contract_cases());
    cases.extend(crate::oauth::contract_cases());
    cases.extend(crate::idp::contract_cases());
    cases.extend(crate::users::contract_cases());
    cases.extend(auth_cases());
    cases
}

fn auth_cases() -> Vec<ContractCase> {
    use wso2_is_client::carbon::auth::{Login, Logout};
    vec![
        case(
            "session login",
            &Login {
                username: "admin@example.com".into(),
                password: "p&ss<w>rd".into(),
                remote_address: "127.0.0.1".into(),
            },
        ),
        case("session logout", &Logout),
    ]
}

fn which(tool: &str) -> Option<String> {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[test]
fn soap_bodies_match_the_real_wsdls() {
    let contracts = contracts_dir().join("soap");
    let xmllint = which("xmllint");
    let python = python();
    let zeep_ok = Command::new(&python)
        .args(["-c", "import zeep, lxml"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let missing = if !contracts
        .join("IdentityApplicationManagementService.wsdl")
        .is_file()
    {
        Some(format!(
            "WSO2 contracts not found at {} (set WSO2_CONTRACTS_DIR)",
            contracts.display()
        ))
    } else if xmllint.is_none() {
        Some("xmllint not found (apt install libxml2-utils)".to_owned())
    } else if !zeep_ok {
        Some(format!(
            "{python} cannot import zeep and lxml (set WSO2_TEST_PYTHON)"
        ))
    } else {
        None
    };
    if !require("soap_bodies_match_the_real_wsdls", missing) {
        return;
    }

    let cases = all_cases();
    let job = serde_json::json!({
        "contracts": contracts,
        "xmllint": xmllint.unwrap(),
        "cases": cases.iter().enumerate().map(|(i, c)| serde_json::json!({
            "id": i.to_string(),
            "wsdl": c.wsdl,
            "operation": c.operation,
            "body": c.request.body_element(),
        })).collect::<Vec<_>>(),
    });
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/soap_contract.py");
    let mut child = Command::new(&python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(job.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "contract tool failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), cases.len(), "one result per case");

    let mut failures = Vec::new();
    let (mut schema_ok, mut zeep_ok) = (0, 0);
    for (case, result) in cases.iter().zip(results) {
        let label = format!("{} {} ({})", case.wsdl, case.operation, case.label);
        match result["xmllint"].as_str() {
            Some("ok") => schema_ok += 1,
            other => failures.push(format!("{label}: xmllint: {}", other.unwrap_or("?"))),
        }
        match result["zeep"].as_str() {
            Some("ok") => zeep_ok += 1,
            other => failures.push(format!("{label}: zeep: {}", other.unwrap_or("?"))),
        }
    }
    let operations: std::collections::BTreeSet<_> =
        cases.iter().map(|c| (c.wsdl, c.operation)).collect();
    println!(
        "contract: {} bodies of {} operations; xmllint --schema valid: {schema_ok}; equal to zeep's body: {zeep_ok}",
        cases.len(),
        operations.len()
    );
    assert!(
        failures.is_empty(),
        "contract failures:\n{}",
        failures.join("\n")
    );
}
