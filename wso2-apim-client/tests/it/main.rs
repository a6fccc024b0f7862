//! Integration tests of `wso2-apim-client`: one binary, a fresh wiremock server (or simulated
//! sandbox) per test.
#![allow(clippy::unwrap_used, missing_docs, unreachable_pub, dead_code)]

// Shared with the identity client's tests: fixtures with every WSDL field set, wiremock helpers.
#[path = "../../../wso2-is-client/tests/it/fixtures.rs"]
mod fixtures;
#[path = "../../../wso2-is-client/tests/it/support.rs"]
mod support;

mod contract;
mod idp;
mod portals;
mod releases;
mod sim;
mod util;
