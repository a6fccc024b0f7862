//! Integration tests of `wso2-federation` against the testkit's simulated IS and APIM.
#![allow(clippy::unwrap_used, missing_docs, unreachable_pub, dead_code)]

mod bad_input;
mod canary;
mod fault_matrix;
#[path = "../../../wso2-is-client/tests/it/fixtures.rs"]
mod fixtures;
mod load;
mod outcomes;
mod request_count;
mod saga;
mod sharing;
mod support;
mod tls;
mod undo_matrix;
mod verify;
