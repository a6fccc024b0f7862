//! Test utilities (feature `test-util`), for this workspace's tests, fuzzing and benches and for
//! users' own tests:
//!
//! * [`fixtures`]: model values with every field of every WSDL type set;
//! * [`support`]: a wiremock server per test with a catch-all that fails loudly, exact SOAP
//!   matchers and canned WSO2 answers, canonical XML, TRACE log capture, the SOAP contract
//!   check against the real WSDLs, the CI rule for tests that need outside tools, and secret
//!   leak assertions;
//! * [`fuzz`]: the fuzz targets of every answer decoder and the structured input that drives
//!   them.
//!
//! Everything here panics on failure: it is test code.

pub mod fixtures;
pub mod fuzz;
pub mod support;
