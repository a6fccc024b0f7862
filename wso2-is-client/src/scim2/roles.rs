//! SCIM2 roles of IS: `/scim2/Roles` (v1, IS 5.11 and later: internal roles, permissions as
//! paths) and `/scim2/v2/Roles` (IS 7.0 and later: roles with an audience, permissions as
//! API-resource scopes). IS 5.9 and 5.10 have neither (roles are groups there: use
//! [`ScimGroups`](super::ScimGroups)).
//!
//! Same conventions as users and groups: unknown attributes kept in `extra`, a duplicate is
//! [`is_already_exists`](crate::Error::is_already_exists) (HTTP 409: `Role with name: ... already
//! exists in the system.`), a missing role reads as `None`, and every request is also available
//! as a pure [`RestRequest`] (`*_request` methods).
//!
//! The v2 spec (scim2 3.4.67) lists the audience type of a `POST` as `applciation` (a typo; its
//! answers say `application`): this crate sends `application` (not confirmed against a server).

use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::model::{ListResponse, PATCH_OP_SCHEMA, ScimMeta};
use super::{Scim2, ScimMember, wire};
use crate::carbon::RestRequest;
use crate::error::{Error, Result};
use crate::names::RoleName;

/// Schema URN of a SCIM2 role (v1 and v2).
pub const ROLE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:2.0:Role";

/// Which roles endpoint a handler calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RolesApi {
    /// `/scim2/Roles` (IS 5.11 and later).
    V1,
    /// `/scim2/v2/Roles`, with an audience (IS 7.0 and later).
    V2,
}

impl RolesApi {
    /// The path below the SCIM2 base.
    pub fn path(self) -> &'static str {
        match self {
            Self::V1 => "Roles",
            Self::V2 => "v2/Roles",
        }
    }
}

/// The kind of a role's audience (`audience.type`, v2).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
#[non_exhaustive]
pub enum AudienceType {
    /// `application`: the role belongs to one application.
    Application,
    /// `organization`: the role belongs to the organization (tenant).
    Organization,
    /// A value this crate does not know, as written.
    Other(String),
}

impl AudienceType {
    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Application => "application",
            Self::Organization => "organization",
            Self::Other(s) => s,
        }
    }
}

impl From<String> for AudienceType {
    fn from(value: String) -> Self {
        match value.as_str() {
            "application" => Self::Application,
            "organization" => Self::Organization,
            _ => Self::Other(value),
        }
    }
}

impl From<AudienceType> for String {
    fn from(value: AudienceType) -> Self {
        match value {
            AudienceType::Other(s) => s,
            known => known.as_str().to_owned(),
        }
    }
}

/// A role's audience (v2): the application (by its id) or organization it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleAudience {
    /// `type`.
    #[serde(rename = "type")]
    pub kind: AudienceType,
    /// `value`: the application's or organization's id.
    pub value: String,
    /// `display`: its name (answers only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

impl RoleAudience {
    /// The application with this id (e.g. an [`ApplicationId`](crate::rest::ApplicationId)).
    pub fn application(id: impl Into<String>) -> Self {
        Self {
            kind: AudienceType::Application,
            value: id.into(),
            display: None,
        }
    }

    /// The organization with this id.
    pub fn organization(id: impl Into<String>) -> Self {
        Self {
            kind: AudienceType::Organization,
            value: id.into(),
            display: None,
        }
    }
}

/// A permission of a role: a permission path (v1, e.g. `/permission/admin/login`) or an
/// API-resource scope (v2, `{value, display}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RolePermission {
    /// A permission path (v1).
    Path(String),
    /// A scope (v2).
    Scope {
        /// The scope, e.g. `internal_login`.
        value: String,
        /// Its display name (answers).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        display: Option<String>,
    },
}

/// A SCIM2 role of IS.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScimRole {
    /// Schema URNs. Filled in on create when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<String>,
    /// The id the server assigned (absent before creation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `displayName`: the role name. v1 roles are internal roles: answers may name them
    /// `Internal/x`.
    pub display_name: String,
    /// `audience` (v2 only; the server assumes the organization when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<RoleAudience>,
    /// Users assigned the role (`value` = user id).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<ScimMember>,
    /// Groups assigned the role (`value` = group id).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<ScimMember>,
    /// Permissions: paths (v1) or scopes (v2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<RolePermission>,
    /// Resource metadata; read-only, never sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<ScimMeta>,
    /// Every other attribute (`associatedApplications`, ...), as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ScimRole {
    /// A role with only its name.
    pub fn new(name: &RoleName) -> Self {
        Self {
            display_name: name.as_str().to_owned(),
            ..Self::default()
        }
    }

    /// Sets the audience (v2).
    pub fn with_audience(mut self, audience: RoleAudience) -> Self {
        self.audience = Some(audience);
        self
    }

    /// Assigns the role to a user (by id).
    pub fn with_user(mut self, user: ScimMember) -> Self {
        self.users.push(user);
        self
    }

    /// Assigns the role to a group (by id).
    pub fn with_group(mut self, group: ScimMember) -> Self {
        self.groups.push(group);
        self
    }

    /// Adds a permission.
    pub fn with_permission(mut self, permission: RolePermission) -> Self {
        self.permissions.push(permission);
        self
    }
}

/// Who a role's PATCH adds or removes: users or groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RoleMemberKind {
    /// `users`.
    Users,
    /// `groups`.
    Groups,
}

impl RoleMemberKind {
    fn path(self) -> &'static str {
        match self {
            Self::Users => "users",
            Self::Groups => "groups",
        }
    }
}

/// The body of a role being created (`id` and `meta` left out; schemas filled in). Checks that
/// the API can carry what is set: v1 has no audience, and permissions are paths in v1 and scopes
/// in v2. Pure.
pub fn role_body(role: &ScimRole, api: RolesApi) -> Result<Value> {
    RoleName::new(role.display_name.as_str())?;
    if api == RolesApi::V1 && role.audience.is_some() {
        return Err(Error::invalid(
            "role.audience",
            "exists only in /scim2/v2/Roles (IS 7.0 and later)",
        ));
    }
    for p in &role.permissions {
        match (api, p) {
            (RolesApi::V1, RolePermission::Scope { .. }) => {
                return Err(Error::invalid(
                    "role.permissions",
                    "/scim2/Roles takes permission paths, not scopes",
                ));
            }
            (RolesApi::V2, RolePermission::Path(_)) => {
                return Err(Error::invalid(
                    "role.permissions",
                    "/scim2/v2/Roles takes scopes ({value}), not permission paths",
                ));
            }
            _ => {}
        }
    }
    for m in role.users.iter().chain(&role.groups) {
        wire::check_id("role member", &m.value)?;
    }
    let Ok(Value::Object(mut body)) = serde_json::to_value(role) else {
        return Err(Error::invalid("role", "cannot be written as JSON"));
    };
    body.remove("id");
    body.remove("meta");
    if role.schemas.is_empty() {
        body.insert("schemas".into(), Value::from(vec![ROLE_SCHEMA]));
    }
    Ok(Value::Object(body))
}

/// The PATCH body that adds `members` by id (`{"op":"add","path":"users","value":[{"value":
/// id}]}`), the form IS documents for roles (their `display` is not sent). Pure.
pub fn add_members_patch(kind: RoleMemberKind, members: &[ScimMember]) -> Result<Value> {
    if members.is_empty() {
        return Err(Error::invalid("members", "must not be empty"));
    }
    let mut values = Vec::with_capacity(members.len());
    for m in members {
        wire::check_id("members.value", &m.value)?;
        // Only `value`: the v2 spec lists no other field of a PATCH value.
        values.push(serde_json::json!({ "value": m.value }));
    }
    Ok(patch_body(vec![serde_json::json!({
        "op": "add",
        "path": kind.path(),
        "value": values,
    })]))
}

/// The PATCH body that removes the members with these ids (`{"op":"remove","path":"users[value
/// eq \"id\"]"}` each). Pure.
pub fn remove_members_patch(kind: RoleMemberKind, ids: &[&str]) -> Result<Value> {
    if ids.is_empty() {
        return Err(Error::invalid("member ids", "must not be empty"));
    }
    let mut ops = Vec::with_capacity(ids.len());
    for id in ids {
        wire::check_id("member ids", id)?;
        ops.push(serde_json::json!({
            "op": "remove",
            "path": format!("{}[value eq {}]", kind.path(), wire::filter_literal(id)),
        }));
    }
    Ok(patch_body(ops))
}

fn patch_body(operations: Vec<Value>) -> Value {
    serde_json::json!({ "schemas": [PATCH_OP_SCHEMA], "Operations": operations })
}

/// Whether a role name in an answer is the name asked for: equal, or the same name qualified
/// with the `Internal` domain (v1 roles are internal roles).
fn role_name_matches(found: &str, wanted: &str) -> bool {
    found == wanted
        || (!wanted.contains('/')
            && found
                .split_once('/')
                .is_some_and(|(d, n)| n == wanted && d.eq_ignore_ascii_case("Internal")))
}

/// SCIM2 roles; get one with [`Scim2::roles`] (v1) or [`Scim2::roles_v2`].
#[derive(Debug, Clone)]
pub struct ScimRoles<'c> {
    scim: Scim2<'c>,
    api: RolesApi,
}

impl<'c> ScimRoles<'c> {
    pub(crate) fn new(scim: Scim2<'c>, api: RolesApi) -> Self {
        Self { scim, api }
    }

    /// The endpoint this handler calls.
    pub fn api(&self) -> RolesApi {
        self.api
    }

    fn id_rel(&self, id: &str) -> Result<String> {
        wire::check_id("role id", id)?;
        Ok(format!("{}/{}", self.api.path(), wire::percent_encode(id)))
    }

    /// `POST Roles` with `role` (pure).
    pub fn create_request(&self, role: &ScimRole) -> Result<RestRequest> {
        let body = role_body(role, self.api)?;
        Ok(self
            .scim
            .request("create role", Method::POST, self.api.path(), Some(&body)))
    }

    /// `GET Roles/{id}` (pure).
    pub fn get_request(&self, id: &str) -> Result<RestRequest> {
        Ok(self
            .scim
            .request("get role", Method::GET, &self.id_rel(id)?, None))
    }

    /// `GET Roles?filter=displayName eq "name"` (pure).
    pub fn find_request(&self, name: &RoleName) -> RestRequest {
        let filter = wire::eq_filter("displayName", name.as_str());
        let rel = format!(
            "{}?filter={}",
            self.api.path(),
            wire::percent_encode(&filter)
        );
        self.scim.request("find role", Method::GET, &rel, None)
    }

    /// `PATCH Roles/{id}` with a body from [`add_members_patch`] or [`remove_members_patch`]
    /// (pure).
    pub fn patch_request(&self, id: &str, body: &Value) -> Result<RestRequest> {
        Ok(self
            .scim
            .request("patch role", Method::PATCH, &self.id_rel(id)?, Some(body)))
    }

    /// `DELETE Roles/{id}` (pure).
    pub fn delete_request(&self, id: &str) -> Result<RestRequest> {
        Ok(self
            .scim
            .request("delete role", Method::DELETE, &self.id_rel(id)?, None))
    }

    /// Creates `role` and returns it as the server answered (with its id). A role of that name
    /// (in that audience) that exists fails with
    /// [`is_already_exists`](crate::Error::is_already_exists). Never retried once it may have
    /// reached the server.
    pub async fn create(&self, role: &ScimRole) -> Result<ScimRole> {
        let req = self.create_request(role)?;
        let answer = self.scim.client.rest(&req).await?;
        self.scim.expect_json(req.operation, &answer, &[])
    }

    /// The role with this id, or `None`.
    pub async fn get(&self, id: &str) -> Result<Option<ScimRole>> {
        let req = self.get_request(id)?;
        let answer = self.scim.client.rest(&req).await?;
        if wire::is_resource_not_found(&answer) {
            return Ok(None);
        }
        self.scim.expect_json(req.operation, &answer, &[]).map(Some)
    }

    /// Every role named `name` (v1: at most one; v2: one per audience). A v1 answer naming it
    /// `Internal/{name}` matches too.
    pub async fn find_by_name(&self, name: &RoleName) -> Result<Vec<ScimRole>> {
        let req = self.find_request(name);
        let answer = self.scim.client.rest(&req).await?;
        let list: ListResponse<ScimRole> = self.scim.expect_json(req.operation, &answer, &[])?;
        Ok(list
            .resources
            .into_iter()
            .filter(|r| role_name_matches(&r.display_name, name.as_str()))
            .collect())
    }

    /// The role named `name` whose audience is `audience` (v2), or `None`.
    pub async fn find_in_audience(
        &self,
        name: &RoleName,
        audience: &RoleAudience,
    ) -> Result<Option<ScimRole>> {
        Ok(self.find_by_name(name).await?.into_iter().find(|r| {
            r.audience
                .as_ref()
                .is_some_and(|a| a.kind == audience.kind && a.value == audience.value)
        }))
    }

    async fn send_patch(&self, id: &str, body: Value) -> Result<Option<ScimRole>> {
        let req = self.patch_request(id, &body)?;
        let answer = self.scim.client.rest(&req).await?;
        if answer.status == 204 || (wire::is_success(&answer) && answer.body.is_empty()) {
            return Ok(None);
        }
        self.scim.expect_json(req.operation, &answer, &[]).map(Some)
    }

    /// Assigns the role to these users or groups (one PATCH `add`). Returns the role when the
    /// server sends it back, `None` on 204.
    pub async fn add_members(
        &self,
        id: &str,
        kind: RoleMemberKind,
        members: &[ScimMember],
    ) -> Result<Option<ScimRole>> {
        self.send_patch(id, add_members_patch(kind, members)?).await
    }

    /// Unassigns the role from the users or groups with these ids (one PATCH).
    pub async fn remove_members(
        &self,
        id: &str,
        kind: RoleMemberKind,
        ids: &[&str],
    ) -> Result<Option<ScimRole>> {
        self.send_patch(id, remove_members_patch(kind, ids)?).await
    }

    /// Deletes the role. One that does not exist fails with
    /// [`is_not_found`](crate::Error::is_not_found).
    pub async fn delete(&self, id: &str) -> Result<()> {
        let req = self.delete_request(id)?;
        let answer = self.scim.client.rest(&req).await?;
        if wire::is_success(&answer) {
            Ok(())
        } else {
            Err(wire::scim_error(req.operation, &answer, &[]))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bodies_follow_the_api() {
        let name = RoleName::new("publisher").unwrap();
        let v2 = ScimRole::new(&name)
            .with_audience(RoleAudience::application("app-1"))
            .with_user(ScimMember::new("u1"))
            .with_permission(RolePermission::Scope {
                value: "internal_login".into(),
                display: None,
            });
        let body = role_body(&v2, RolesApi::V2).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "schemas": [ROLE_SCHEMA],
                "displayName": "publisher",
                "audience": {"type": "application", "value": "app-1"},
                "users": [{"value": "u1"}],
                "permissions": [{"value": "internal_login"}]
            })
        );
        assert!(role_body(&v2, RolesApi::V1).is_err(), "v1 has no audience");
        let v1 = ScimRole::new(&name)
            .with_permission(RolePermission::Path("/permission/admin/login".into()));
        assert!(role_body(&v1, RolesApi::V1).is_ok());
        assert!(role_body(&v1, RolesApi::V2).is_err());
    }

    #[test]
    fn patches_have_the_documented_shape() {
        let add = add_members_patch(RoleMemberKind::Users, &[ScimMember::new("u1")]).unwrap();
        assert_eq!(
            add,
            serde_json::json!({
                "schemas": [PATCH_OP_SCHEMA],
                "Operations": [{"op": "add", "path": "users", "value": [{"value": "u1"}]}]
            })
        );
        let rm = remove_members_patch(RoleMemberKind::Groups, &["g\"1"]).unwrap();
        assert_eq!(rm["Operations"][0]["path"], "groups[value eq \"g\\\"1\"]");
        assert!(add_members_patch(RoleMemberKind::Users, &[]).is_err());
    }

    #[test]
    fn internal_names_match() {
        assert!(role_name_matches("Internal/publisher", "publisher"));
        assert!(role_name_matches("publisher", "publisher"));
        assert!(!role_name_matches("PRIMARY/publisher", "publisher"));
        assert!(!role_name_matches("Publisher", "publisher"));
    }
}
