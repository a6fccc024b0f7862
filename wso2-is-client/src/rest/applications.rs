//! `/api/server/v1/applications`: the applications handler.

use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::model::{
    Application, ApplicationId, ApplicationPatch, ApplicationSummary, NewApplication,
    OidcConfiguration,
};
use super::{API_BASE_PATH, wire};
use crate::carbon::{CarbonClient, HttpAnswer, RestRequest};
use crate::error::{Error, Result};
use crate::names::ApplicationName;
use crate::scim2::wire::{json_problem, percent_encode, unexpected};

/// A page of `GET /applications` (`ApplicationListResponse`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationList {
    /// `totalResults`: how many applications match, over all pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_results: Option<u64>,
    /// `startIndex` (from 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_index: Option<u64>,
    /// `count`: how many are in this page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// `applications`.
    #[serde(default)]
    pub applications: Vec<ApplicationSummary>,
    /// Every other field (`links`), as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Most applications asked for in one page by [`RestApplications::find_by_name`].
const FIND_PAGE: u32 = 100;
/// Most pages [`RestApplications::find_by_name`] reads before giving up.
const FIND_MAX_PAGES: u32 = 50;

/// Handler for the applications REST API (IS 5.10 and later); get one with
/// [`IsClient::rest_applications`](crate::IsClient::rest_applications).
///
/// There is no `PUT /applications/{id}` in any release's spec (1.0.82 to 1.3.83): an
/// application is changed with [`patch`](Self::patch), its OIDC settings with
/// [`put_oidc`](Self::put_oidc).
#[derive(Debug, Clone)]
pub struct RestApplications<'c> {
    client: &'c CarbonClient,
}

impl<'c> RestApplications<'c> {
    /// The handler over a client core.
    pub fn new(client: &'c CarbonClient) -> Self {
        Self { client }
    }

    /// The path of `rel` below the base URL: `[t/{tenant}/]api/server/v1/applications{rel}`.
    fn path(&self, rel: &str) -> String {
        self.client
            .tenant_path(&format!("{API_BASE_PATH}applications{rel}"))
    }

    fn id_path(&self, id: &ApplicationId, rel: &str) -> String {
        self.path(&format!("/{}{rel}", percent_encode(id.as_str())))
    }

    // --- requests (pure) ---

    /// `POST /applications` with `app` (pure; nothing is sent).
    pub fn create_request(&self, app: &NewApplication) -> Result<RestRequest> {
        let body = app.to_wire()?;
        Ok(wire::request(
            "create application",
            Method::POST,
            self.path(""),
            Some(body.to_string().into_bytes()),
        ))
    }

    /// `GET /applications?filter=...&limit=..&offset=..` for `name` (pure).
    ///
    /// The filter is `name eq {name}`, the form IS documents (values are not quoted). A name
    /// with white space cannot be written that way (IS 5.10 splits the filter on spaces), so
    /// it is looked up with `name sw {first word}` and matched exactly here.
    pub fn find_request(&self, name: &ApplicationName, offset: u32, limit: u32) -> RestRequest {
        let raw = name.as_str();
        let filter = match raw.split_whitespace().next() {
            Some(first) if first.len() != raw.len() => format!("name sw {first}"),
            _ => format!("name eq {raw}"),
        };
        let rel = format!(
            "?filter={}&limit={limit}&offset={offset}",
            percent_encode(&filter)
        );
        wire::request("find application", Method::GET, self.path(&rel), None)
    }

    /// `GET /applications?limit=..&offset=..` (pure).
    pub fn list_request(&self, offset: u32, limit: u32) -> RestRequest {
        let rel = format!("?limit={limit}&offset={offset}");
        wire::request("list applications", Method::GET, self.path(&rel), None)
    }

    /// `GET /applications/{id}` (pure).
    pub fn get_request(&self, id: &ApplicationId) -> RestRequest {
        wire::request("get application", Method::GET, self.id_path(id, ""), None)
    }

    /// `PATCH /applications/{id}` with `patch` (pure).
    pub fn patch_request(
        &self,
        id: &ApplicationId,
        patch: &ApplicationPatch,
    ) -> Result<RestRequest> {
        if patch.is_empty() {
            return Err(Error::invalid("patch", "sets nothing"));
        }
        let body = serde_json::to_vec(patch)
            .map_err(|_| Error::invalid("patch", "cannot be written as JSON"))?;
        Ok(wire::request(
            "patch application",
            Method::PATCH,
            self.id_path(id, ""),
            Some(body),
        ))
    }

    /// `DELETE /applications/{id}` (pure).
    pub fn delete_request(&self, id: &ApplicationId) -> RestRequest {
        wire::request(
            "delete application",
            Method::DELETE,
            self.id_path(id, ""),
            None,
        )
    }

    /// `GET /applications/{id}/inbound-protocols/oidc` (pure).
    pub fn get_oidc_request(&self, id: &ApplicationId) -> RestRequest {
        wire::request(
            "get OIDC settings",
            Method::GET,
            self.id_path(id, "/inbound-protocols/oidc"),
            None,
        )
    }

    /// `PUT /applications/{id}/inbound-protocols/oidc` with `oidc` (pure).
    pub fn put_oidc_request(
        &self,
        id: &ApplicationId,
        oidc: &OidcConfiguration,
    ) -> Result<RestRequest> {
        let body = oidc.to_wire("oidc")?;
        Ok(wire::request(
            "put OIDC settings",
            Method::PUT,
            self.id_path(id, "/inbound-protocols/oidc"),
            Some(body.to_string().into_bytes()),
        ))
    }

    // --- calls ---

    /// Creates `app` and returns its id, read from the `Location` of the `201` answer (whose
    /// body is empty). An application of that name that exists fails with
    /// [`is_already_exists`](Error::is_already_exists) (HTTP 409, or IS 5.11's HTTP 500
    /// `APP-65001`). A `201` without `Location` fails with [`Error::Decode`], whose
    /// [`outcome_unknown`](Error::outcome_unknown) is true: look the application up by name.
    /// Never retried once it may have reached the server.
    pub async fn create(&self, app: &NewApplication) -> Result<ApplicationId> {
        let req = self.create_request(app)?;
        let answer = self.client.rest(&req).await?;
        decode_created(req.operation, &answer, app.client_secret().as_slice())
    }

    /// The applications whose name is exactly `name` (normally one), read page by page.
    pub async fn find_all_by_name(
        &self,
        name: &ApplicationName,
    ) -> Result<Vec<ApplicationSummary>> {
        let mut found = Vec::new();
        for page in 0..FIND_MAX_PAGES {
            let req = self.find_request(name, page * FIND_PAGE, FIND_PAGE);
            let answer = self.client.rest(&req).await?;
            let list: ApplicationList = wire::expect_json(req.operation, &answer, &[])?;
            let n = list.applications.len();
            found.extend(
                list.applications
                    .into_iter()
                    .filter(|a| a.name == name.as_str()),
            );
            let total = list.total_results.unwrap_or(0);
            if n < FIND_PAGE as usize || u64::from((page + 1) * FIND_PAGE) >= total {
                return Ok(found);
            }
        }
        Ok(found)
    }

    /// The application named exactly `name`, or `None` (`GET ?filter=name eq {name}`).
    pub async fn find_by_name(&self, name: &ApplicationName) -> Result<Option<ApplicationSummary>> {
        Ok(self.find_all_by_name(name).await?.into_iter().next())
    }

    /// The whole application named `name`, or `None` (a find, then a get by id).
    pub async fn get_by_name(&self, name: &ApplicationName) -> Result<Option<Application>> {
        match self.find_by_name(name).await? {
            Some(summary) => self.get(&summary.id).await,
            None => Ok(None),
        }
    }

    /// One page of applications (`offset` from 0).
    pub async fn list(&self, offset: u32, limit: u32) -> Result<ApplicationList> {
        let req = self.list_request(offset, limit);
        let answer = self.client.rest(&req).await?;
        wire::expect_json(req.operation, &answer, &[])
    }

    /// The application with this id, or `None` when the server says there is none.
    pub async fn get(&self, id: &ApplicationId) -> Result<Option<Application>> {
        let req = self.get_request(id);
        let answer = self.client.rest(&req).await?;
        if wire::is_resource_not_found(&answer) {
            return Ok(None);
        }
        wire::expect_json(req.operation, &answer, &[]).map(Some)
    }

    /// Changes the fields set in `patch`.
    pub async fn patch(&self, id: &ApplicationId, patch: &ApplicationPatch) -> Result<()> {
        let req = self.patch_request(id, patch)?;
        let answer = self.client.rest(&req).await?;
        wire::expect_success(req.operation, &answer, &[])
    }

    /// Deletes the application. One that does not exist fails with
    /// [`is_not_found`](Error::is_not_found).
    pub async fn delete(&self, id: &ApplicationId) -> Result<()> {
        let req = self.delete_request(id);
        let answer = self.client.rest(&req).await?;
        wire::expect_success(req.operation, &answer, &[])
    }

    /// The application's OIDC settings (with its client secret), or `None` when the server
    /// says there are none (or no such application).
    pub async fn get_oidc(&self, id: &ApplicationId) -> Result<Option<OidcConfiguration>> {
        let req = self.get_oidc_request(id);
        let answer = self.client.rest(&req).await?;
        if wire::is_resource_not_found(&answer) {
            return Ok(None);
        }
        decode_oidc(req.operation, &answer).map(Some)
    }

    /// Replaces the application's OIDC settings with `oidc`: read them with
    /// [`get_oidc`](Self::get_oidc) first and change what you need, so that nothing is lost.
    pub async fn put_oidc(&self, id: &ApplicationId, oidc: &OidcConfiguration) -> Result<()> {
        let req = self.put_oidc_request(id, oidc)?;
        let answer = self.client.rest(&req).await?;
        let secret = oidc.client_secret.as_ref().and_then(|s| s.expose());
        wire::expect_success(req.operation, &answer, secret.as_slice())
    }
}

/// Decodes the answer to `POST /applications` as [`RestApplications::create`] does: the id
/// from `Location`, or the error. Pure.
pub fn decode_created(
    operation: &'static str,
    answer: &HttpAnswer,
    secrets: &[&str],
) -> Result<ApplicationId> {
    let id = wire::created_id(operation, answer, "applications", secrets)?;
    ApplicationId::new(id).map_err(|e| Error::Decode {
        operation,
        status: answer.status,
        source: format!("the Location header names no usable id: {}", e.reason).into(),
    })
}

/// Decodes an answer carrying OIDC settings (`GET .../inbound-protocols/oidc`), keeping the
/// client secret's value. Pure.
pub fn decode_oidc(operation: &'static str, answer: &HttpAnswer) -> Result<OidcConfiguration> {
    if !wire::is_success(answer) {
        return Err(wire::rest_error(operation, answer, &[]));
    }
    let value: Value =
        serde_json::from_slice(&answer.body).map_err(|_| Error::UnexpectedAnswer {
            operation,
            status: answer.status,
            answer: unexpected(answer),
        })?;
    OidcConfiguration::from_wire(value).map_err(|e| Error::Decode {
        operation,
        status: answer.status,
        source: json_problem(&e),
    })
}
