//! Integration tests of `wso2-is-client`: one binary, one module per service, plus the contract
//! checks against the real WSDLs and the tests against real peers.
#![allow(clippy::unwrap_used, missing_docs, unreachable_pub)]

// Shared with the other crates' tests through the `test-util` feature.
use wso2_is_client::test_util::{fixtures, support};

mod application;
mod contract;
mod faults;
mod fuzz;
mod hostile;
mod idp;
mod oauth;
mod oidc;
mod peers;
mod pool;
mod rest_applications;
mod rest_contract;
mod rest_probes;
mod rest_roles;
mod scim2;
mod secrets;
mod users;
