//! Integration tests of the simulated servers: server-side rules through raw HTTP and through the
//! real `wso2-is-client`, fault injection, OIDC, SCIM2, TLS, snapshots, the `wso2-sim` binary, and
//! the external checkers (zeep with the real WSDLs, scim2-tester).

mod apim_versions;
mod client;
mod external;
mod faults;
mod login;
mod oidc;
mod scim2;
mod sim_bin;
mod snapshot;
mod soap_rules;
mod support;
mod tls;
mod tokens;
mod versions;
