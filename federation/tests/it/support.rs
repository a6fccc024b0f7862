//! The shared test utilities of `wso2-federation` (feature `test-util`).

pub use wso2_federation::test_util::*;
