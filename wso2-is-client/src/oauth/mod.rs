//! `OAuthAdminService`: OAuth/OIDC consumer applications.

use crate::carbon::CarbonClient;

/// Handler for OAuth applications; get one with `IsClient::oauth_apps()`.
#[derive(Debug, Clone, Copy)]
pub struct OAuthApps<'c> {
    #[allow(dead_code)]
    client: &'c CarbonClient,
}

impl<'c> OAuthApps<'c> {
    /// The handler over a client core.
    pub fn new(client: &'c CarbonClient) -> Self {
        Self { client }
    }
}
