//! SCIM2 users and groups (IS 5.9: roles are groups), with Bulk, and the roles of IS 5.11 and
//! later ([`Scim2::roles`], [`Scim2::roles_v2`]).
//!
//! IS 5.9 serves SCIM2 at `{base}/scim2/` (`{base}/t/{tenant}/scim2/` for a tenant) and accepts
//! the admin's HTTP Basic credentials; bodies are `application/scim+json`. Other SCIM2 servers
//! (or an IS that should be called with an OAuth token) are reached with
//! [`Scim2::base_path`] and [`Scim2::bearer_token`].
//!
//! * Every attribute this crate does not model is kept in `extra`, so a read-modify-write
//!   ([`ScimUsers::replace`], [`ScimGroups::replace`]) sends back everything it read.
//! * A duplicate (HTTP 409 or `scimType` `uniqueness`) fails with an error whose
//!   [`is_already_exists`](crate::Error::is_already_exists) is true; a missing resource reads
//!   as `None`.
//! * Passwords are [`Secret`](crate::Secret)s: sent on create only, never shown in `Debug`,
//!   errors or logs (a server message that repeats one is scrubbed).
//! * [`Bulk`] (sent with `send(&scim)`) splits its operations to the server's limits and reports every operation:
//!   Bulk is not atomic, and it is never retried.
//!
//! ```no_run
//! # async fn demo() -> Result<(), wso2_is_client::Error> {
//! use wso2_is_client::scim2::{ScimGroup, ScimMember, ScimUser};
//! use wso2_is_client::{IsClient, RoleName, UserName};
//!
//! let is = IsClient::builder("https://is.example.com:9443")
//!     .credentials("admin", "admin-password")
//!     .build()?;
//! let scim = is.scim2();
//! let name = UserName::new("api_publisher")?;
//! let user = match scim.users().find_by_name(&name).await? {
//!     Some(user) => user,
//!     None => {
//!         let new = ScimUser::new(&name)
//!             .with_password("Publisher#2024")
//!             .with_email("publisher@example.com");
//!         scim.users().create(&new).await?
//!     }
//! };
//! let role = RoleName::new("publisher_role")?;
//! let group = match scim.groups().find_by_name(&role).await? {
//!     Some(group) => group,
//!     None => scim.groups().create(&ScimGroup::new(&role)).await?,
//! };
//! let member = ScimMember::user(&user).expect("read from the server, so it has an id");
//! scim.groups()
//!     .add_members(group.id.as_deref().unwrap_or_default(), &[member])
//!     .await?;
//! # Ok(()) }
//! ```

mod bulk;
mod model;
mod roles;
pub(crate) mod wire;

use http::Method;
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::carbon::{CarbonClient, HttpAnswer, RestAuth, RestRequest, SecretBody};
use crate::error::{Error, Result};
use crate::names::{RoleName, UserName};

pub use bulk::{
    Bulk, BulkMethod, BulkOperation, BulkOutcome, BulkReport, BulkResult,
    DEFAULT_BULK_MAX_OPERATIONS, DEFAULT_BULK_MAX_PAYLOAD, decode_bulk_answer,
};
pub use model::{
    BULK_REQUEST_SCHEMA, BULK_RESPONSE_SCHEMA, BulkSupport, ENTERPRISE_USER_SCHEMA, ERROR_SCHEMA,
    FilterSupport, GROUP_SCHEMA, LIST_RESPONSE_SCHEMA, PATCH_OP_SCHEMA, PatchOpKind,
    PatchOperation, ScimEmail, ScimGroup, ScimGroupRef, ScimMember, ScimMeta, ScimName, ScimPatch,
    ScimUser, ServiceProviderConfig, Supported, USER_SCHEMA,
};

pub use roles::{
    AudienceType, ROLE_SCHEMA, RoleAudience, RoleMemberKind, RolePermission, RolesApi, ScimRole,
    ScimRoles, add_members_patch, remove_members_patch, role_body,
};

use model::ListResponse;
use wire::{SCIM_ACCEPT, SCIM_JSON};

/// The name of IS's primary user store, which qualifies group names in SCIM answers.
pub const IS_PRIMARY_DOMAIN: &str = "PRIMARY";

/// The SCIM2 base path of IS 5.9, below the server's base URL (and its tenant prefix).
pub const IS_SCIM2_BASE_PATH: &str = "scim2/";

/// Handler for SCIM2; get one with `IsClient::scim2()`.
///
/// By default it calls IS's `scim2/` below the client's base URL (tenant-qualified when the
/// client has a tenant) with the client's admin credentials (HTTP Basic).
#[derive(Debug, Clone)]
pub struct Scim2<'c> {
    client: &'c CarbonClient,
    base: Option<String>,
    auth: RestAuth,
}

impl<'c> Scim2<'c> {
    /// The handler over a client core.
    pub fn new(client: &'c CarbonClient) -> Self {
        Self {
            client,
            base: None,
            auth: RestAuth::Admin,
        }
    }

    /// Calls SCIM2 at `path` below the client's base URL instead of IS's `scim2/`, without a
    /// tenant prefix. `""` means the base URL itself: a client built for
    /// `http://127.0.0.1:8088/v2` then calls `http://127.0.0.1:8088/v2/Users`.
    pub fn base_path(mut self, path: impl Into<String>) -> Self {
        let mut path: String = path.into();
        let trimmed = path.trim_start_matches('/').to_owned();
        path = trimmed;
        if !path.is_empty() && !path.ends_with('/') {
            path.push('/');
        }
        self.base = Some(path);
        self
    }

    /// Authenticates with an OAuth bearer token instead of the admin's Basic credentials (IS
    /// accepts both for SCIM2; many other SCIM servers accept only tokens).
    pub fn bearer_token(mut self, token: impl Into<SecretString>) -> Self {
        self.auth = RestAuth::Bearer {
            token: token.into(),
        };
        self
    }

    /// Users.
    pub fn users(&self) -> ScimUsers<'c> {
        ScimUsers { scim: self.clone() }
    }

    /// Groups (roles, in IS 5.9).
    pub fn groups(&self) -> ScimGroups<'c> {
        ScimGroups { scim: self.clone() }
    }

    /// Roles at `/scim2/Roles` (IS 5.11 and later; see [`ScimRoles`]).
    pub fn roles(&self) -> ScimRoles<'c> {
        ScimRoles::new(self.clone(), RolesApi::V1)
    }

    /// Roles with an audience at `/scim2/v2/Roles` (IS 7.0 and later).
    pub fn roles_v2(&self) -> ScimRoles<'c> {
        ScimRoles::new(self.clone(), RolesApi::V2)
    }

    /// What the server supports (`GET /ServiceProviderConfig`).
    pub async fn service_provider_config(&self) -> Result<ServiceProviderConfig> {
        let req = self.request(
            "get ServiceProviderConfig",
            Method::GET,
            "ServiceProviderConfig",
            None,
        );
        let answer = self.client.rest(&req).await?;
        self.expect_json(req.operation, &answer, &[])
    }

    /// The path of `rel` (e.g. `Users/{id}`) below the client's base URL.
    fn path(&self, rel: &str) -> String {
        match &self.base {
            Some(base) => format!("{base}{rel}"),
            None => self
                .client
                .tenant_path(&format!("{IS_SCIM2_BASE_PATH}{rel}")),
        }
    }

    /// A request of this handler; writes carry a SCIM JSON body, reads none.
    fn request(
        &self,
        operation: &'static str,
        method: Method,
        rel: &str,
        body: Option<&Value>,
    ) -> RestRequest {
        let read_only = method == Method::GET;
        RestRequest {
            operation,
            method,
            path: self.path(rel),
            auth: self.auth.clone(),
            content_type: body.map(|_| SCIM_JSON),
            accept: Some(SCIM_ACCEPT),
            body: body.map(|b| SecretBody(b.to_string().into_bytes())),
            read_only,
        }
    }

    /// Decodes a 2xx JSON answer, or turns an error status into an error.
    fn expect_json<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        answer: &HttpAnswer,
        secrets: &[&str],
    ) -> Result<T> {
        if wire::is_success(answer) {
            wire::decode_json(operation, answer)
        } else {
            Err(wire::scim_error(operation, answer, secrets))
        }
    }

    /// `GET {kind}/{id}`: `None` when the server says there is no such resource.
    async fn get_by_id<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        kind: &str,
        id: &str,
    ) -> Result<Option<T>> {
        wire::check_id("id", id)?;
        let rel = format!("{kind}/{}", wire::percent_encode(id));
        let answer = self
            .client
            .rest(&self.request(operation, Method::GET, &rel, None))
            .await?;
        if wire::is_resource_not_found(&answer) {
            return Ok(None);
        }
        self.expect_json(operation, &answer, &[]).map(Some)
    }

    /// `GET {kind}?filter={attribute} eq "{value}"`: every resource listed.
    async fn find<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        kind: &str,
        attribute: &str,
        value: &str,
    ) -> Result<Vec<T>> {
        let filter = wire::eq_filter(attribute, value);
        let rel = format!("{kind}?filter={}", wire::percent_encode(&filter));
        let answer = self
            .client
            .rest(&self.request(operation, Method::GET, &rel, None))
            .await?;
        let list: ListResponse<T> = self.expect_json(operation, &answer, &[])?;
        Ok(list.resources)
    }

    /// `DELETE {kind}/{id}`.
    async fn delete_by_id(&self, operation: &'static str, kind: &str, id: &str) -> Result<()> {
        wire::check_id("id", id)?;
        let rel = format!("{kind}/{}", wire::percent_encode(id));
        let answer = self
            .client
            .rest(&self.request(operation, Method::DELETE, &rel, None))
            .await?;
        if wire::is_success(&answer) {
            Ok(())
        } else {
            Err(wire::scim_error(operation, &answer, &[]))
        }
    }
}

/// IS 5.9 computes membership changes from the members' `display` names and refuses members
/// without one: check before sending (in IS mode only; other servers do not need it).
fn check_member_names(scim: &Scim2<'_>, members: &[ScimMember]) -> Result<()> {
    if scim.base.is_some() {
        return Ok(());
    }
    match members
        .iter()
        .find(|m| m.display.as_deref().is_none_or(str::is_empty))
    {
        Some(m) => Err(Error::invalid(
            "members.display",
            format!(
                "member {:?} has no display name; IS 5.9 needs each member's user name (use ScimMember::user or with_display)",
                m.value
            ),
        )),
        None => Ok(()),
    }
}

/// Schema URNs for a resource being sent: the core schema plus every extension present in
/// `extra` (keys that are URNs), unless the caller set them.
fn fill_schemas(body: &mut serde_json::Map<String, Value>, core: &str) {
    let missing = match body.get("schemas") {
        Some(Value::Array(a)) => a.is_empty(),
        _ => true,
    };
    if missing {
        let mut schemas = vec![Value::from(core)];
        schemas.extend(
            body.keys()
                .filter(|k| k.starts_with("urn:"))
                .map(|k| Value::from(k.as_str())),
        );
        body.insert("schemas".into(), Value::Array(schemas));
    }
}

/// The body of a user being created (`with_password`) or replaced: read-only attributes
/// (`groups`, `meta`) left out; the password only on create.
pub(crate) fn user_body(user: &ScimUser, with_password: bool) -> Result<Value> {
    UserName::new(user.user_name.as_str())?;
    let Ok(Value::Object(mut body)) = serde_json::to_value(user) else {
        return Err(Error::invalid("user", "cannot be written as JSON"));
    };
    body.remove("groups");
    body.remove("meta");
    body.remove("password");
    if with_password {
        body.remove("id");
        if let Some(password) = &user.password {
            let value = password.expose().ok_or_else(|| {
                Error::invalid(
                    "user.password",
                    "is redacted (read from a snapshot); set the password to send",
                )
            })?;
            body.insert("password".into(), Value::from(value));
        }
    }
    fill_schemas(&mut body, USER_SCHEMA);
    Ok(Value::Object(body))
}

/// The body of a group being created or replaced (`meta` left out; `id` only on replace).
pub(crate) fn group_body(group: &ScimGroup, create: bool) -> Result<Value> {
    RoleName::new(group.display_name.as_str())?;
    let Ok(Value::Object(mut body)) = serde_json::to_value(group) else {
        return Err(Error::invalid("group", "cannot be written as JSON"));
    };
    body.remove("meta");
    if create {
        body.remove("id");
    }
    fill_schemas(&mut body, GROUP_SCHEMA);
    Ok(Value::Object(body))
}

/// Decodes a SCIM2 answer as the handlers here do, without I/O: a 2xx answer's JSON body as `T`
/// ([`ScimUser`], [`ScimGroup`], [`ServiceProviderConfig`], ...), any other status as the error
/// the handlers return. Pure; for tests and fuzzing of the decoders.
pub fn decode_answer<T: DeserializeOwned>(
    operation: &'static str,
    answer: &HttpAnswer,
) -> Result<T> {
    if wire::is_success(answer) {
        wire::decode_json(operation, answer)
    } else {
        Err(wire::scim_error(operation, answer, &[]))
    }
}

/// Decodes a SCIM2 list answer (`ListResponse`) as the `find_by_name` handlers do: its
/// `Resources`. Pure, like [`decode_answer`].
pub fn decode_list_answer<T: DeserializeOwned>(
    operation: &'static str,
    answer: &HttpAnswer,
) -> Result<Vec<T>> {
    decode_answer::<ListResponse<T>>(operation, answer).map(|list| list.resources)
}

/// SCIM2 users; get one with [`Scim2::users`].
#[derive(Debug, Clone)]
pub struct ScimUsers<'c> {
    scim: Scim2<'c>,
}

impl ScimUsers<'_> {
    /// Creates `user` (with its password, if set) and returns it as the server stored it. A
    /// user of that name that already exists fails with
    /// [`is_already_exists`](crate::Error::is_already_exists). Never retried after it may have
    /// reached the server.
    pub async fn create(&self, user: &ScimUser) -> Result<ScimUser> {
        let body = user_body(user, true)?;
        let req = self
            .scim
            .request("create user", Method::POST, "Users", Some(&body));
        let answer = self.scim.client.rest(&req).await?;
        let password = user.password.as_ref().and_then(|p| p.expose());
        self.scim
            .expect_json(req.operation, &answer, password.as_slice())
    }

    /// The user with this id, or `None`.
    pub async fn get(&self, id: &str) -> Result<Option<ScimUser>> {
        self.scim.get_by_id("get user", "Users", id).await
    }

    /// The user named `name` (filter `userName eq "name"`), or `None`. A name the server
    /// qualifies with its primary store (`PRIMARY/name`) matches too.
    pub async fn find_by_name(&self, name: &UserName) -> Result<Option<ScimUser>> {
        let found: Vec<ScimUser> = self
            .scim
            .find("find user", "Users", "userName", name.as_str())
            .await?;
        Ok(pick(found, name.as_str(), |u| &u.user_name))
    }

    /// Replaces the user (`PUT Users/{id}`) with `user`, which must carry its id: read it first
    /// and change what you need, so that every attribute read is sent back. The password and the
    /// read-only `groups` and `meta` are not sent. Returns the user as stored.
    pub async fn replace(&self, user: &ScimUser) -> Result<ScimUser> {
        let id = user.id.as_deref().ok_or_else(|| {
            Error::invalid("user.id", "is required to replace a user; read it first")
        })?;
        wire::check_id("user.id", id)?;
        let body = user_body(user, false)?;
        let rel = format!("Users/{}", wire::percent_encode(id));
        let req = self
            .scim
            .request("replace user", Method::PUT, &rel, Some(&body));
        let answer = self.scim.client.rest(&req).await?;
        self.scim.expect_json(req.operation, &answer, &[])
    }

    /// Deletes the user with this id. A user that does not exist fails with
    /// [`is_not_found`](crate::Error::is_not_found).
    pub async fn delete(&self, id: &str) -> Result<()> {
        self.scim.delete_by_id("delete user", "Users", id).await
    }
}

/// SCIM2 groups; get one with [`Scim2::groups`].
#[derive(Debug, Clone)]
pub struct ScimGroups<'c> {
    scim: Scim2<'c>,
}

impl ScimGroups<'_> {
    /// Creates `group` (with its members, if any) and returns it as the server stored it. A
    /// group of that name that already exists fails with
    /// [`is_already_exists`](crate::Error::is_already_exists). IS 5.9 answers with the name
    /// qualified by its store (`PRIMARY/publisher_role`).
    pub async fn create(&self, group: &ScimGroup) -> Result<ScimGroup> {
        check_member_names(&self.scim, &group.members)?;
        let body = group_body(group, true)?;
        let req = self
            .scim
            .request("create group", Method::POST, "Groups", Some(&body));
        let answer = self.scim.client.rest(&req).await?;
        self.scim.expect_json(req.operation, &answer, &[])
    }

    /// The group with this id, or `None`.
    pub async fn get(&self, id: &str) -> Result<Option<ScimGroup>> {
        self.scim.get_by_id("get group", "Groups", id).await
    }

    /// The group named `name` (filter `displayName eq "name"`), or `None`. A name the server
    /// qualifies with its primary store (`PRIMARY/name`) matches too.
    ///
    /// IS 5.9 stores a group created as `name` under `PRIMARY/name`; when the plain name finds
    /// nothing there (IS mode, a name without a domain), the qualified name is asked too, in
    /// the same round (two requests at once).
    pub async fn find_by_name(&self, name: &RoleName) -> Result<Option<ScimGroup>> {
        let plain =
            self.scim
                .find::<ScimGroup>("find group", "Groups", "displayName", name.as_str());
        if self.scim.base.is_some() || name.as_str().contains('/') {
            return Ok(pick(plain.await?, name.as_str(), |g| &g.display_name));
        }
        // Both spellings at once (one round): the plain name wins.
        let qualified = format!("{IS_PRIMARY_DOMAIN}/{}", name.as_str());
        let (found, found_qualified) = tokio::join!(
            plain,
            self.scim
                .find::<ScimGroup>("find group", "Groups", "displayName", &qualified),
        );
        if let Some(group) = pick(found?, name.as_str(), |g| &g.display_name) {
            return Ok(Some(group));
        }
        Ok(pick(found_qualified?, name.as_str(), |g| &g.display_name))
    }

    /// Replaces the group (`PUT Groups/{id}`) with `group`, which must carry its id. Returns the
    /// group as stored.
    pub async fn replace(&self, group: &ScimGroup) -> Result<ScimGroup> {
        let id = group.id.as_deref().ok_or_else(|| {
            Error::invalid("group.id", "is required to replace a group; read it first")
        })?;
        wire::check_id("group.id", id)?;
        let body = group_body(group, false)?;
        let rel = format!("Groups/{}", wire::percent_encode(id));
        let req = self
            .scim
            .request("replace group", Method::PUT, &rel, Some(&body));
        let answer = self.scim.client.rest(&req).await?;
        self.scim.expect_json(req.operation, &answer, &[])
    }

    /// Applies `patch` to the group (`PATCH Groups/{id}`). Returns the group when the server
    /// sends it back (IS 5.9 does, with 200), `None` when it answers 204 No Content.
    pub async fn patch(&self, id: &str, patch: &ScimPatch) -> Result<Option<ScimGroup>> {
        wire::check_id("id", id)?;
        if patch.operations.is_empty() {
            return Err(Error::invalid("patch", "has no operations"));
        }
        let rel = format!("Groups/{}", wire::percent_encode(id));
        let body = patch.to_json();
        let req = self
            .scim
            .request("patch group", Method::PATCH, &rel, Some(&body));
        let answer = self.scim.client.rest(&req).await?;
        if answer.status == 204 || (wire::is_success(&answer) && answer.body.is_empty()) {
            return Ok(None);
        }
        self.scim.expect_json(req.operation, &answer, &[]).map(Some)
    }

    /// Adds members to the group (one PATCH `add` operation). For IS, every member needs its
    /// `display` name (see [`ScimMember`]); it is checked before sending.
    pub async fn add_members(&self, id: &str, members: &[ScimMember]) -> Result<Option<ScimGroup>> {
        if members.is_empty() {
            return Err(Error::invalid("members", "must not be empty"));
        }
        for m in members {
            wire::check_id("members.value", &m.value)?;
        }
        check_member_names(&self.scim, members)?;
        self.patch(id, &ScimPatch::new().add_members(members)).await
    }

    /// Removes the members with these ids from the group (one PATCH `remove` operation each, in
    /// one request).
    pub async fn remove_members(&self, id: &str, member_ids: &[&str]) -> Result<Option<ScimGroup>> {
        if member_ids.is_empty() {
            return Err(Error::invalid("member_ids", "must not be empty"));
        }
        let mut patch = ScimPatch::new();
        for member in member_ids {
            wire::check_id("member_ids", member)?;
            patch = patch.remove_member(member);
        }
        self.patch(id, &patch).await
    }

    /// Deletes the group with this id. A group that does not exist fails with
    /// [`is_not_found`](crate::Error::is_not_found).
    pub async fn delete(&self, id: &str) -> Result<()> {
        self.scim.delete_by_id("delete group", "Groups", id).await
    }
}

/// The listed resource whose name is `wanted`: an exact match first, else one qualified with the
/// primary store. Resources that do not match (a server that ignored the filter) are dropped.
fn pick<T>(found: Vec<T>, wanted: &str, name: impl Fn(&T) -> &String) -> Option<T> {
    let exact = found.iter().position(|r| name(r) == wanted);
    let index = exact.or_else(|| {
        found
            .iter()
            .position(|r| wire::name_matches(name(r), wanted))
    })?;
    found.into_iter().nth(index)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::ClientBuilder;
    use secrecy::ExposeSecret;

    fn bearer_of(auth: &RestAuth) -> Option<&str> {
        match auth {
            RestAuth::Bearer { token } => Some(token.expose_secret()),
            _ => None,
        }
    }

    fn core(user: &str) -> CarbonClient {
        ClientBuilder::new("https://is.example.com:9443/")
            .credentials(user, "x")
            .build()
            .unwrap()
    }

    #[test]
    fn paths_follow_the_tenant_and_the_base() {
        let c = core("admin@example.com");
        let scim = Scim2::new(&c);
        assert_eq!(scim.path("Users"), "t/example.com/scim2/Users");
        let peer = scim.clone().base_path("/v2").bearer_token("tok");
        assert_eq!(peer.path("Users"), "v2/Users");
        assert_eq!(bearer_of(&peer.auth), Some("tok"));
        assert_eq!(Scim2::new(&c).base_path("").path("Bulk"), "Bulk");
        let plain = core("admin");
        assert_eq!(Scim2::new(&plain).path("Groups"), "scim2/Groups");
    }

    #[test]
    fn user_bodies_carry_the_password_on_create_only() {
        let mut user = ScimUser::new(&UserName::new("kim").unwrap())
            .with_password("canary-pw")
            .with_name("Kim", "Berry");
        user.id = Some("id-1".into());
        user.groups.push(ScimGroupRef {
            value: "g".into(),
            ..Default::default()
        });
        user.extra.insert(
            ENTERPRISE_USER_SCHEMA.into(),
            serde_json::json!({"employeeNumber": "1"}),
        );
        let create = user_body(&user, true).unwrap();
        assert_eq!(create["password"], "canary-pw");
        assert!(create.get("id").is_none() && create.get("groups").is_none());
        assert_eq!(
            create["schemas"],
            serde_json::json!([USER_SCHEMA, ENTERPRISE_USER_SCHEMA])
        );
        let replace = user_body(&user, false).unwrap();
        assert!(replace.get("password").is_none());
        assert_eq!(replace["id"], "id-1");
        assert!(!format!("{user:?}").contains("canary"));
        assert!(!serde_json::to_string(&user).unwrap().contains("canary"));
    }

    #[test]
    fn unknown_attributes_survive_a_round_trip() {
        let json = serde_json::json!({
            "schemas": [USER_SCHEMA],
            "id": "1",
            "userName": "kim",
            "active": true,
            "name": {"givenName": "Kim", "middleName": "M"},
            "emails": ["kim@example.com", {"value": "k@w.test", "type": "work", "display": "w"}],
            "groups": [{"value": "g1", "display": "admin", "$ref": "https://h/scim2/Groups/g1"}],
            "meta": {"resourceType": "User", "version": "W/\"1\"", "x": 1},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "7"}
        });
        let user: ScimUser = serde_json::from_value(json).unwrap();
        assert_eq!(user.emails[0].value, "kim@example.com");
        assert_eq!(user.emails[1].kind.as_deref(), Some("work"));
        let back = user_body(&user, false).unwrap();
        assert_eq!(back["active"], true);
        assert_eq!(back["name"]["middleName"], "M");
        assert_eq!(back["emails"][1]["display"], "w");
        assert_eq!(
            back["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["employeeNumber"],
            "7"
        );
    }

    #[test]
    fn picking_prefers_exact_names() {
        let names = vec![
            "PRIMARY/kim".to_owned(),
            "kim".to_owned(),
            "other".to_owned(),
        ];
        assert_eq!(pick(names.clone(), "kim", |s| s).as_deref(), Some("kim"));
        assert_eq!(
            pick(vec!["PRIMARY/kim".to_owned()], "kim", |s| s).as_deref(),
            Some("PRIMARY/kim")
        );
        assert_eq!(pick(vec!["other".to_owned()], "kim", |s| s), None);
    }

    #[test]
    fn patches_have_the_patch_op_shape() {
        let p = ScimPatch::new()
            .add_members(&[ScimMember::new("u1").with_display("kim")])
            .remove_member("u\"2");
        assert_eq!(
            p.to_json(),
            serde_json::json!({
                "schemas": [PATCH_OP_SCHEMA],
                "Operations": [
                    {"op": "add", "path": "members", "value": [{"value": "u1", "display": "kim"}]},
                    {"op": "remove", "path": "members[value eq \"u\\\"2\"]"}
                ]
            })
        );
    }
}
