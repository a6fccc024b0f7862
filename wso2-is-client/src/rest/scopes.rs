//! `/api/server/v1/oidc/scopes`: which claims each OIDC scope releases.

use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{API_BASE_PATH, wire};
use crate::carbon::{CarbonClient, RestRequest};
use crate::error::{Error, Result};
use crate::scim2::wire::percent_encode;

/// An OIDC scope and the claims it releases (`Scope`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OidcScope {
    /// `name` (also its id in paths), e.g. `openid`, `groups`.
    pub name: String,
    /// `displayName`.
    #[serde(default)]
    pub display_name: String,
    /// `description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `claims`: the OIDC claim names released (`sub`, `groups`, ...).
    #[serde(default)]
    pub claims: Vec<String>,
    /// Every other field, as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl OidcScope {
    /// The update that sends this scope back with `claim` added (unchanged when it is already
    /// there): the read-modify-write of `PUT /oidc/scopes/{name}`, which replaces the list.
    pub fn with_claim_added(&self, claim: &str) -> ScopeUpdate {
        let mut update = ScopeUpdate::from(self);
        if !update.claims.iter().any(|c| c == claim) {
            update.claims.push(claim.to_owned());
        }
        update
    }
}

/// The body of `PUT /oidc/scopes/{name}` (`ScopeUpdateRequest`): it replaces the display
/// name, description and the whole claim list.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScopeUpdate {
    /// `displayName` (required).
    pub display_name: String,
    /// `description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `claims` (required): the complete list.
    pub claims: Vec<String>,
}

impl From<&OidcScope> for ScopeUpdate {
    fn from(scope: &OidcScope) -> Self {
        Self {
            display_name: scope.display_name.clone(),
            description: scope.description.clone(),
            claims: scope.claims.clone(),
        }
    }
}

/// Handler for OIDC scopes (IS 5.10 and later); get one with
/// [`IsClient::oidc_scopes`](crate::IsClient::oidc_scopes).
#[derive(Debug, Clone)]
pub struct OidcScopes<'c> {
    client: &'c CarbonClient,
}

impl<'c> OidcScopes<'c> {
    /// The handler over a client core.
    pub fn new(client: &'c CarbonClient) -> Self {
        Self { client }
    }

    fn path(&self, rel: &str) -> String {
        self.client
            .tenant_path(&format!("{API_BASE_PATH}oidc/scopes{rel}"))
    }

    fn name_path(&self, name: &str) -> Result<String> {
        if name.trim().is_empty() || name.chars().any(char::is_control) {
            return Err(Error::invalid("scope name", "must be a non-empty name"));
        }
        Ok(self.path(&format!("/{}", percent_encode(name))))
    }

    /// `GET /oidc/scopes` (pure).
    pub fn list_request(&self) -> RestRequest {
        wire::request("list OIDC scopes", Method::GET, self.path(""), None)
    }

    /// `GET /oidc/scopes/{name}` (pure).
    pub fn get_request(&self, name: &str) -> Result<RestRequest> {
        Ok(wire::request(
            "get OIDC scope",
            Method::GET,
            self.name_path(name)?,
            None,
        ))
    }

    /// `PUT /oidc/scopes/{name}` with `update` (pure).
    pub fn update_request(&self, name: &str, update: &ScopeUpdate) -> Result<RestRequest> {
        if update.display_name.trim().is_empty() {
            return Err(Error::invalid(
                "scope.displayName",
                "is required by the server; send back the one read",
            ));
        }
        let body = serde_json::to_vec(update)
            .map_err(|_| Error::invalid("scope", "cannot be written as JSON"))?;
        Ok(wire::request(
            "update OIDC scope",
            Method::PUT,
            self.name_path(name)?,
            Some(body),
        ))
    }

    /// Every scope.
    pub async fn list(&self) -> Result<Vec<OidcScope>> {
        let req = self.list_request();
        let answer = self.client.rest(&req).await?;
        wire::expect_json(req.operation, &answer, &[])
    }

    /// The scope named `name`, or `None`.
    pub async fn get(&self, name: &str) -> Result<Option<OidcScope>> {
        let req = self.get_request(name)?;
        let answer = self.client.rest(&req).await?;
        if wire::is_resource_not_found(&answer) {
            return Ok(None);
        }
        wire::expect_json(req.operation, &answer, &[]).map(Some)
    }

    /// Replaces the scope's display name, description and claims with `update`. Build it from
    /// the scope as read ([`OidcScope::with_claim_added`]) so that no claim is lost.
    pub async fn update(&self, name: &str, update: &ScopeUpdate) -> Result<()> {
        let req = self.update_request(name, update)?;
        let answer = self.client.rest(&req).await?;
        wire::expect_success(req.operation, &answer, &[])
    }
}
