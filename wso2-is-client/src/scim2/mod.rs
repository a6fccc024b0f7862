//! SCIM2 users and groups (IS 5.9: roles are groups), with Bulk.

use crate::carbon::CarbonClient;

/// Handler for SCIM2; get one with `IsClient::scim2()`.
#[derive(Debug, Clone, Copy)]
pub struct Scim2<'c> {
    #[allow(dead_code)]
    client: &'c CarbonClient,
}

impl<'c> Scim2<'c> {
    /// The handler over a client core.
    pub fn new(client: &'c CarbonClient) -> Self {
        Self { client }
    }
}
