//! Contract checks against WSO2's real WSDLs (from `$WSO2_CONTRACTS_DIR/soap`): every SOAP body
//! this crate can send validates with `xmllint --schema` against the XSDs extracted from the
//! WSDL, and equals, after canonicalisation, the body zeep builds from the same WSDL for the same
//! values. Needs xmllint (Debian `libxml2-utils`) and a Python with zeep and lxml
//! (`$WSO2_TEST_PYTHON`); fails in CI when they are missing.

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

#[test]
fn soap_bodies_match_the_real_wsdls() {
    if let Some(report) = check_contract("soap_bodies_match_the_real_wsdls", &all_cases()) {
        println!("contract: {report}");
    }
}
