//! Test utilities (feature `test-util`), for this workspace's tests and benches and for users'
//! own tests: the seed setup of WSO2's guide on a [`wso2_testkit::Sandbox`], the fixed settings
//! of the reliability matrices, a temporary journal, comparisons of sandbox states, and secret
//! canaries. Everything here panics on failure: it is test code.

pub mod canary;
pub mod seed;
pub mod state;

pub use canary::*;
pub use seed::*;
pub use state::*;
