//! OIDC: the discovery document and the token-endpoint client-authentication probe.

use crate::carbon::CarbonClient;

/// Handler for the OIDC endpoints; get one with `IsClient::oidc()`.
#[derive(Debug, Clone, Copy)]
pub struct Oidc<'c> {
    #[allow(dead_code)]
    client: &'c CarbonClient,
}

impl<'c> Oidc<'c> {
    /// The handler over a client core.
    pub fn new(client: &'c CarbonClient) -> Self {
        Self { client }
    }
}
