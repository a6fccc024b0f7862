//! `RemoteUserStoreManagerService`: users and roles.

use crate::carbon::CarbonClient;

/// Handler for users and roles; get one with `IsClient::users()`.
#[derive(Debug, Clone, Copy)]
pub struct Users<'c> {
    #[allow(dead_code)]
    client: &'c CarbonClient,
}

impl<'c> Users<'c> {
    /// The handler over a client core.
    pub fn new(client: &'c CarbonClient) -> Self {
        Self { client }
    }
}
