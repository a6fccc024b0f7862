//! Integration tests of `wso2-apim-client`: one binary, a fresh wiremock server (or simulated
//! sandbox) per test.
#![allow(clippy::unwrap_used, missing_docs, unreachable_pub, dead_code)]

// Shared with the identity client's tests (its `test-util` feature): fixtures with every WSDL
// field set, wiremock helpers.
use wso2_is_client::test_util::{fixtures, support};

mod contract;
mod idp;
mod portals;
mod releases;
mod sim;
mod util;
