//! Integration tests of `wso2-federation` against the testkit's simulated IS and APIM.
#![allow(clippy::unwrap_used, missing_docs, unreachable_pub, dead_code)]

// Model values with every WSDL field set (the identity client's `test-util` feature).
use wso2_is_client::test_util::fixtures;

mod bad_input;
mod canary;
mod fault_matrix;
mod load;
mod login;
mod outcomes;
mod request_count;
mod saga;
mod server_text;
mod sharing;
mod support;
mod tls;
mod undo_matrix;
mod verify;
mod versions;
