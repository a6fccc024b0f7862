//! `RemoteUserStoreManagerService`: users and roles (identity-user-ws 5.3.3 over the carbon-kernel
//! 4.5.1 user core, the same on IS 5.9 and APIM 3.0).
//!
//! What the server does, and what this module does about it:
//!
//! * The writes (`addUser`, `addRole`, `deleteUser`, `deleteRole`, `updateRoleListOfUser`) are
//!   in-only operations: success is HTTP 202 with an empty body; failures are SOAP faults whose
//!   text starts with a kernel error code, e.g. `30004 - UserAlreadyExisting…`
//!   ([`Error::is_already_exists`]), `30007 - UserNotFound: …` ([`Error::is_not_found`]).
//! * A role name without a domain (`publisher_role`) is a role of the primary user store; an
//!   `Internal/…` name is an internal (hybrid) role. Both are case-sensitive.
//! * Deleting a missing `Internal/…` role succeeds silently; deleting a missing user-store role
//!   faults with `31806 - Cannot delete non-existing role` ([`Error::is_not_found`]).
//! * [`role_names`](Users::role_names) may be truncated on a busy server (each store caps its
//!   list): check single roles with [`role_exists`](Users::role_exists).
//! * The password of [`AddUser`] is a secret: it never appears in `Debug`, errors or logs.
//!
//! Adding a user or a role takes optional parameters: build the request value ([`AddUser`],
//! [`AddRole`]) with its setters and send it with `send(&client)`. It is an owned value, so a
//! plan can store it and send it later. The other operations are methods of [`Users`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), wso2_is_client::Error> {
//! use wso2_is_client::users::{AddRole, AddUser};
//! use wso2_is_client::{IsClient, RoleName, UserName};
//!
//! let is = IsClient::builder("https://is.example.com:9443")
//!     .credentials("admin", "admin-password")
//!     .build()?;
//! let role = RoleName::new("publisher_role")?;
//! let user = UserName::new("api_publisher")?;
//! if !is.users().role_exists(&role).await? {
//!     AddRole::new(&role)
//!         .permission("/permission/admin/login", "ui.execute")
//!         .send(&is)
//!         .await?;
//! }
//! if !is.users().user_exists(&user).await? {
//!     AddUser::new(&user, "a-strong-password")
//!         .role(&role)
//!         .claim("http://wso2.org/claims/emailaddress", "publisher@example.com")
//!         .send(&is)
//!         .await?;
//! }
//! # Ok(()) }
//! ```

use secrecy::SecretString;

use crate::carbon::CarbonClient;
use crate::carbon::secret::Secret;
use crate::carbon::soap::soap_operation;
use crate::carbon::xml::{ns, xml_model};
use crate::error::{Error, Result};
use crate::names::{RoleName, UserName};

xml_model! {
    /// A claim value of a user (`ClaimValue`).
    pub struct ClaimValue in ns::UM_COMMON {
        /// The local claim URI, e.g. `http://wso2.org/claims/emailaddress`.
        pub claim_uri: Option<String> = "claimURI",
        /// The value.
        pub value: Option<String> = "value",
    }
}

impl ClaimValue {
    /// The value `value` of claim `uri`.
    pub fn new(uri: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            claim_uri: Some(uri.into()),
            value: Some(value.into()),
        }
    }
}

xml_model! {
    /// A permission granted to a role (`PermissionDTO`).
    pub struct PermissionDTO in ns::UM_DAO {
        /// The action, e.g. `ui.execute`.
        pub action: Option<String> = "action",
        /// The permission path, e.g. `/permission/admin/login`.
        pub resource_id: Option<String> = "resourceId",
    }
}

impl PermissionDTO {
    /// Permission `action` on `resource_id`.
    pub fn new(resource_id: impl Into<String>, action: impl Into<String>) -> Self {
        Self {
            action: Some(action.into()),
            resource_id: Some(resource_id.into()),
        }
    }
}

/// The action of console (UI) permissions.
pub const UI_EXECUTE: &str = "ui.execute";

soap_operation! {
    /// `addUser(userName, credential, roleList[], claims[], profileName, requirePasswordChange)`
    /// (in-only). Build it with [`AddUser::new`] and its setters; send it with
    /// [`send`](AddUser::send).
    pub struct AddUser {
        service: "RemoteUserStoreManagerService",
        operation: "addUser",
        wrapper: ns::UM_SERVICE,
        read_only: false,
        output: () => void,
        check: check,
    } {
        /// The user name.
        pub user_name: String = "userName",
        /// The password.
        pub credential: Secret = "credential",
        /// Roles to assign (`Internal/…` or user-store roles); they must exist.
        pub role_list: Vec<String> = "roleList",
        /// Claim values.
        pub claims: Vec<ClaimValue> = "claims",
        /// Profile name (the server uses `default` when absent).
        pub profile_name: Option<String> = "profileName",
        /// Whether the user must change the password at first login.
        pub require_password_change: bool = "requirePasswordChange",
    }
}

impl AddUser {
    /// A user `name` with password `credential`, no roles, no claims.
    pub fn new(name: &UserName, credential: impl Into<SecretString>) -> Self {
        Self {
            user_name: name.as_str().to_owned(),
            credential: Secret::new(credential),
            role_list: Vec::new(),
            claims: Vec::new(),
            profile_name: None,
            require_password_change: false,
        }
    }

    /// Adds a role.
    pub fn role(mut self, role: &RoleName) -> Self {
        self.role_list.push(role.as_str().to_owned());
        self
    }

    /// Adds roles.
    pub fn roles<'r>(mut self, roles: impl IntoIterator<Item = &'r RoleName>) -> Self {
        self.role_list
            .extend(roles.into_iter().map(|r| r.as_str().to_owned()));
        self
    }

    /// Adds a claim value.
    pub fn claim(mut self, uri: impl Into<String>, value: impl Into<String>) -> Self {
        self.claims.push(ClaimValue::new(uri, value));
        self
    }

    /// Sets the profile name.
    pub fn profile_name(mut self, profile: impl Into<String>) -> Self {
        self.profile_name = Some(profile.into());
        self
    }

    /// Sets whether the user must change the password at first login (default `false`).
    pub fn require_password_change(mut self, require: bool) -> Self {
        self.require_password_change = require;
        self
    }

    /// Checks and sends the request through `client` (an `IsClient`, an `ApimClient` or their
    /// core). Nothing is sent when a name is invalid or the password is empty or redacted. The
    /// roles must exist (`31303 - Internal role does not exist : …` otherwise); a duplicate user
    /// faults with [`Error::is_already_exists`].
    pub async fn send(&self, client: &impl AsRef<CarbonClient>) -> Result<()> {
        client.as_ref().call(self).await
    }

    fn check(&self) -> Result<()> {
        UserName::new(self.user_name.as_str())?;
        match self.credential.expose() {
            None => {
                return Err(Error::invalid(
                    "credential",
                    "is redacted (restored from a serialised value); give the password",
                ));
            }
            Some("") => return Err(Error::invalid("credential", "must not be empty")),
            Some(_) => {}
        }
        for (i, r) in self.role_list.iter().enumerate() {
            RoleName::new(r.as_str())
                .map_err(|e| Error::invalid(format!("roleList[{i}]"), e.reason))?;
        }
        for (i, c) in self.claims.iter().enumerate() {
            if c.claim_uri.as_deref().is_none_or(|u| u.trim().is_empty()) {
                return Err(Error::invalid(
                    format!("claims[{i}].claimURI"),
                    "must not be empty",
                ));
            }
        }
        if self
            .profile_name
            .as_deref()
            .is_some_and(|p| p.trim().is_empty())
        {
            return Err(Error::invalid(
                "profileName",
                "must not be empty (leave it out for the default profile)",
            ));
        }
        Ok(())
    }
}

soap_operation! {
    /// `addRole(roleName, userList[], permissions[])` (in-only). Build it with [`AddRole::new`]
    /// and its setters; send it with [`send`](AddRole::send).
    pub struct AddRole {
        service: "RemoteUserStoreManagerService",
        operation: "addRole",
        wrapper: ns::UM_SERVICE,
        read_only: false,
        output: () => void,
        check: check,
    } {
        /// The role name (`Internal/x` for an internal role).
        pub role_name: String = "roleName",
        /// Users to assign.
        pub user_list: Vec<String> = "userList",
        /// Permissions to grant.
        pub permissions: Vec<PermissionDTO> = "permissions",
    }
}

impl AddRole {
    /// A role `name` with no users and no permissions.
    pub fn new(name: &RoleName) -> Self {
        Self {
            role_name: name.as_str().to_owned(),
            user_list: Vec::new(),
            permissions: Vec::new(),
        }
    }

    /// Adds a user.
    pub fn user(mut self, user: &UserName) -> Self {
        self.user_list.push(user.as_str().to_owned());
        self
    }

    /// Adds users.
    pub fn users<'u>(mut self, users: impl IntoIterator<Item = &'u UserName>) -> Self {
        self.user_list
            .extend(users.into_iter().map(|u| u.as_str().to_owned()));
        self
    }

    /// Grants permission `action` (e.g. [`UI_EXECUTE`]) on `resource_id` (e.g.
    /// `/permission/admin/login`).
    pub fn permission(mut self, resource_id: impl Into<String>, action: impl Into<String>) -> Self {
        self.permissions
            .push(PermissionDTO::new(resource_id, action));
        self
    }

    /// Checks and sends the request through `client` (an `IsClient`, an `ApimClient` or their
    /// core). A plain name is a role of the primary user store, `Internal/x` an internal role. A
    /// duplicate role faults with [`Error::is_already_exists`].
    pub async fn send(&self, client: &impl AsRef<CarbonClient>) -> Result<()> {
        client.as_ref().call(self).await
    }

    fn check(&self) -> Result<()> {
        RoleName::new(self.role_name.as_str())?;
        for (i, u) in self.user_list.iter().enumerate() {
            UserName::new(u.as_str())
                .map_err(|e| Error::invalid(format!("userList[{i}]"), e.reason))?;
        }
        for (i, p) in self.permissions.iter().enumerate() {
            if p.resource_id.as_deref().is_none_or(|r| r.trim().is_empty()) {
                return Err(Error::invalid(
                    format!("permissions[{i}].resourceId"),
                    "must not be empty",
                ));
            }
            if p.action.as_deref().is_none_or(|a| a.trim().is_empty()) {
                return Err(Error::invalid(
                    format!("permissions[{i}].action"),
                    "must not be empty (console permissions use ui.execute)",
                ));
            }
        }
        Ok(())
    }
}

soap_operation! {
    /// `deleteUser(userName)` (in-only).
    pub struct DeleteUser {
        service: "RemoteUserStoreManagerService",
        operation: "deleteUser",
        wrapper: ns::UM_SERVICE,
        read_only: false,
        output: () => void,
    } {
        /// The user name.
        pub user_name: String = "userName",
    }
}

soap_operation! {
    /// `deleteRole(roleName)` (in-only).
    pub struct DeleteRole {
        service: "RemoteUserStoreManagerService",
        operation: "deleteRole",
        wrapper: ns::UM_SERVICE,
        read_only: false,
        output: () => void,
    } {
        /// The role name.
        pub role_name: String = "roleName",
    }
}

soap_operation! {
    /// `isExistingUser(userName)`.
    pub struct IsExistingUser {
        service: "RemoteUserStoreManagerService",
        operation: "isExistingUser",
        wrapper: ns::UM_SERVICE,
        read_only: true,
        output: bool => boolean,
    } {
        /// The user name.
        pub user_name: String = "userName",
    }
}

soap_operation! {
    /// `isExistingRole(roleName)`.
    pub struct IsExistingRole {
        service: "RemoteUserStoreManagerService",
        operation: "isExistingRole",
        wrapper: ns::UM_SERVICE,
        read_only: true,
        output: bool => boolean,
    } {
        /// The role name.
        pub role_name: String = "roleName",
    }
}

soap_operation! {
    /// `getRoleNames()`: primary user-store roles without a domain, other stores' roles as
    /// `DOMAIN/name`, then `Internal/…` and `Application/…` roles (each store's list capped).
    pub struct GetRoleNames {
        service: "RemoteUserStoreManagerService",
        operation: "getRoleNames",
        wrapper: ns::UM_SERVICE,
        read_only: true,
        output: Vec<String> => many,
    } {}
}

soap_operation! {
    /// `getRoleListOfUser(userName)`: the roles of a user.
    pub struct GetRoleListOfUser {
        service: "RemoteUserStoreManagerService",
        operation: "getRoleListOfUser",
        wrapper: ns::UM_SERVICE,
        read_only: true,
        output: Vec<String> => many,
    } {
        /// The user name.
        pub user_name: String = "userName",
    }
}

soap_operation! {
    /// `getUserListOfRole(roleName)`: the users holding a role.
    pub struct GetUserListOfRole {
        service: "RemoteUserStoreManagerService",
        operation: "getUserListOfRole",
        wrapper: ns::UM_SERVICE,
        read_only: true,
        output: Vec<String> => many,
    } {
        /// The role name.
        pub role_name: String = "roleName",
    }
}

soap_operation! {
    /// `updateRoleListOfUser(userName, deletedRoles[], newRoles[])` (in-only).
    pub struct UpdateRoleListOfUser {
        service: "RemoteUserStoreManagerService",
        operation: "updateRoleListOfUser",
        wrapper: ns::UM_SERVICE,
        read_only: false,
        output: () => void,
        check: check,
    } {
        /// The user name.
        pub user_name: String = "userName",
        /// Roles to take away.
        pub deleted_roles: Vec<String> = "deletedRoles",
        /// Roles to give.
        pub new_roles: Vec<String> = "newRoles",
    }
}

impl DeleteUser {
    /// The operation for `name`.
    pub fn new(name: &UserName) -> Self {
        Self {
            user_name: name.as_str().to_owned(),
        }
    }
}

impl DeleteRole {
    /// The operation for `name`.
    pub fn new(name: &RoleName) -> Self {
        Self {
            role_name: name.as_str().to_owned(),
        }
    }
}

impl IsExistingUser {
    /// The operation for `name`.
    pub fn new(name: &UserName) -> Self {
        Self {
            user_name: name.as_str().to_owned(),
        }
    }
}

impl IsExistingRole {
    /// The operation for `name`.
    pub fn new(name: &RoleName) -> Self {
        Self {
            role_name: name.as_str().to_owned(),
        }
    }
}

impl GetRoleNames {
    /// The operation.
    pub fn new() -> Self {
        Self {}
    }
}

impl Default for GetRoleNames {
    fn default() -> Self {
        Self::new()
    }
}

impl GetUserListOfRole {
    /// The operation for `name`.
    pub fn new(name: &RoleName) -> Self {
        Self {
            role_name: name.as_str().to_owned(),
        }
    }
}

impl GetRoleListOfUser {
    /// The operation for `name`.
    pub fn new(name: &UserName) -> Self {
        Self {
            user_name: name.as_str().to_owned(),
        }
    }
}

/// The role every user has; the server refuses to change it.
pub const EVERYONE_ROLE: &str = "Internal/everyone";

impl UpdateRoleListOfUser {
    /// The operation taking `deleted` away from user `name` and giving `added`.
    pub fn new(name: &UserName, deleted: &[RoleName], added: &[RoleName]) -> Self {
        let names = |roles: &[RoleName]| roles.iter().map(|r| r.as_str().to_owned()).collect();
        Self {
            user_name: name.as_str().to_owned(),
            deleted_roles: names(deleted),
            new_roles: names(added),
        }
    }

    fn check(&self) -> Result<()> {
        UserName::new(self.user_name.as_str())?;
        for (field, list) in [
            ("deletedRoles", &self.deleted_roles),
            ("newRoles", &self.new_roles),
        ] {
            for (i, r) in list.iter().enumerate() {
                RoleName::new(r.as_str())
                    .map_err(|e| Error::invalid(format!("{field}[{i}]"), e.reason))?;
                if r == EVERYONE_ROLE {
                    return Err(Error::invalid(
                        format!("{field}[{i}]"),
                        "Internal/everyone belongs to every user and cannot be changed",
                    ));
                }
            }
        }
        if let Some(both) = self
            .new_roles
            .iter()
            .find(|r| self.deleted_roles.contains(r))
        {
            return Err(Error::invalid(
                "newRoles",
                format!("{both:?} is both removed and added"),
            ));
        }
        Ok(())
    }
}

/// Handler for users and roles; get one with `IsClient::users()`. Users and roles are added
/// with the request values [`AddUser`] and [`AddRole`].
#[derive(Debug, Clone, Copy)]
pub struct Users<'c> {
    client: &'c CarbonClient,
}

impl<'c> Users<'c> {
    /// The handler over a client core.
    pub fn new(client: &'c CarbonClient) -> Self {
        Self { client }
    }

    /// Deletes user `name`. A missing user faults with [`Error::is_not_found`].
    pub async fn delete_user(&self, name: &UserName) -> Result<()> {
        self.client.call(&DeleteUser::new(name)).await
    }

    /// Deletes role `name`. A missing `Internal/…` role succeeds silently; a missing user-store
    /// role faults with `31806 - Cannot delete non-existing role` ([`Error::is_not_found`]).
    pub async fn delete_role(&self, name: &RoleName) -> Result<()> {
        self.client.call(&DeleteRole::new(name)).await
    }

    /// Whether user `name` exists.
    pub async fn user_exists(&self, name: &UserName) -> Result<bool> {
        self.client.call(&IsExistingUser::new(name)).await
    }

    /// Whether role `name` exists. The role part is compared by the database (exactly on the
    /// default H2, ignoring case on a default MySQL); the domain ignoring case.
    pub async fn role_exists(&self, name: &RoleName) -> Result<bool> {
        self.client.call(&IsExistingRole::new(name)).await
    }

    /// Every role name (possibly truncated on a busy server; see the module docs).
    pub async fn role_names(&self) -> Result<Vec<String>> {
        self.client.call(&GetRoleNames::new()).await
    }

    /// The roles of user `name`.
    pub async fn roles_of_user(&self, name: &UserName) -> Result<Vec<String>> {
        self.client.call(&GetRoleListOfUser::new(name)).await
    }

    /// The users holding role `name`.
    pub async fn users_of_role(&self, name: &RoleName) -> Result<Vec<String>> {
        self.client.call(&GetUserListOfRole::new(name)).await
    }

    /// Takes roles `deleted` away from user `name` and gives it roles `added`. Nothing is sent
    /// when both are empty. Refused before sending: a role in both lists, or `Internal/everyone`.
    ///
    /// The server applies the `Internal/…` part before the user-store part, separately: when
    /// the second part fails, the first stays applied. Re-read with
    /// [`roles_of_user`](Self::roles_of_user) after a failure.
    pub async fn update_roles_of_user(
        &self,
        name: &UserName,
        deleted: &[RoleName],
        added: &[RoleName],
    ) -> Result<()> {
        let op = UpdateRoleListOfUser::new(name, deleted, added);
        if op.deleted_roles.is_empty() && op.new_roles.is_empty() {
            return Ok(());
        }
        self.client.call(&op).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::carbon::soap::encode;

    #[test]
    fn add_user_body_is_in_wsdl_order_with_typed_children() {
        let op = AddUser::new(&UserName::new("u").unwrap(), "pw")
            .role(&RoleName::new("Internal/subscriber").unwrap())
            .claim("http://wso2.org/claims/emailaddress", "u@example.com")
            .profile_name("default");
        let req = encode(&op).unwrap();
        let body = req.body_element();
        let order = [
            "<um:userName>",
            "<um:credential>",
            "<um:roleList>",
            "<um:claims><umc:claimURI>",
            "<um:profileName>",
            "<um:requirePasswordChange>false",
        ];
        let mut at = 0;
        for part in order {
            let i = body[at..]
                .find(part)
                .unwrap_or_else(|| panic!("{part} in order in {body}"));
            at += i + part.len();
        }
        assert!(!format!("{op:?}").contains("pw\""));
    }

    #[test]
    fn update_roles_checks() {
        let u = UserName::new("u").unwrap();
        let r = RoleName::new("x").unwrap();
        assert!(
            UpdateRoleListOfUser::new(&u, std::slice::from_ref(&r), std::slice::from_ref(&r))
                .check()
                .is_err()
        );
        let everyone = RoleName::new(EVERYONE_ROLE).unwrap();
        assert!(
            UpdateRoleListOfUser::new(&u, &[], &[everyone])
                .check()
                .is_err()
        );
        assert!(UpdateRoleListOfUser::new(&u, &[], &[r]).check().is_ok());
    }
}
