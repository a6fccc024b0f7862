//! Integration tests of `wso2-is-client`: one binary, one module per service, plus the contract
//! checks against the real WSDLs and the tests against real peers.
#![allow(clippy::unwrap_used, missing_docs, unreachable_pub)]

mod application;
mod contract;
mod faults;
mod fixtures;
mod fuzz;
mod hostile;
mod idp;
mod oauth;
mod oidc;
mod peers;
mod scim2;
mod secrets;
mod support;
mod users;
