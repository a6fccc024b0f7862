//! Integration tests of the `wso2-federate` CLI, run as a separate process against `wso2-sim`.
#![allow(clippy::unwrap_used, missing_docs, unreachable_pub, dead_code)]

mod bad_input;
mod canary;
mod cli;
mod crash;
mod interrupt;
mod output;
mod plan_contract;
mod sharing;
mod support;
