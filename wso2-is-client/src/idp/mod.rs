//! `IdentityProviderMgtService`: identity providers.

use crate::carbon::CarbonClient;

/// Handler for identity providers; get one with `IsClient::identity_providers()`.
#[derive(Debug, Clone, Copy)]
pub struct IdentityProviders<'c> {
    #[allow(dead_code)]
    client: &'c CarbonClient,
}

impl<'c> IdentityProviders<'c> {
    /// The handler over a client core.
    pub fn new(client: &'c CarbonClient) -> Self {
        Self { client }
    }
}
