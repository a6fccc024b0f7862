//! SCIM2 resources (RFC 7643) as IS 5.9 sends them, keeping every attribute this crate does not
//! model in an `extra` map, so that a read-modify-write sends back everything that was read.

use secrecy::SecretString;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::carbon::secret::Secret;
use crate::names::{RoleName, UserName};

/// Schema URN of the core User resource.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// Schema URN of the core Group resource.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// Schema URN of the enterprise User extension (shipped by IS 5.9).
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Schema URN of a PATCH request body (RFC 7644 section 3.5.2).
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Schema URN of a Bulk request body (RFC 7644 section 3.7).
pub const BULK_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
/// Schema URN of a Bulk response body.
pub const BULK_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
/// Schema URN of a list (query) response.
pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// Schema URN of an error response.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A SCIM2 user.
///
/// `password` is sent only when the user is created ([`ScimUsers::create`](super::ScimUsers::create)
/// or a Bulk create); it is never serialised into snapshots and never shown by `Debug`. `groups`
/// and `meta` are read-only: they are read, never sent.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScimUser {
    /// Schema URNs (`urn:ietf:params:scim:schemas:core:2.0:User`, extensions). Filled in on
    /// create when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<String>,
    /// The id the server assigned (absent before creation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `userName`: the unique login name. IS may qualify it with its user store
    /// (`PRIMARY/kim`) in answers.
    pub user_name: String,
    /// `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<ScimName>,
    /// `emails`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<ScimEmail>,
    /// The password, sent on create only. A server never returns it; if one did, it is held
    /// redacted.
    #[serde(default, skip_serializing)]
    pub password: Option<Secret>,
    /// Groups (roles) the user belongs to; read-only, never sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<ScimGroupRef>,
    /// Resource metadata; read-only, never sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<ScimMeta>,
    /// Every other attribute, as read (extension schemas, `active`, `phoneNumbers`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ScimUser {
    /// A user with only its user name set.
    pub fn new(user_name: &UserName) -> Self {
        Self {
            user_name: user_name.as_str().to_owned(),
            ..Self::default()
        }
    }

    /// Sets the password sent on create.
    pub fn with_password(mut self, password: impl Into<SecretString>) -> Self {
        self.password = Some(Secret::from(password.into()));
        self
    }

    /// Sets `name.givenName` and `name.familyName`.
    pub fn with_name(mut self, given: impl Into<String>, family: impl Into<String>) -> Self {
        let name = self.name.get_or_insert_with(ScimName::default);
        name.given_name = Some(given.into());
        name.family_name = Some(family.into());
        self
    }

    /// Adds an e-mail address; the first one added is marked primary.
    pub fn with_email(mut self, address: impl Into<String>) -> Self {
        let primary = self.emails.is_empty();
        self.emails.push(ScimEmail {
            value: address.into(),
            kind: None,
            primary: primary.then_some(true),
            extra: Map::new(),
        });
        self
    }
}

/// The `name` of a user.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScimName {
    /// `givenName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// `familyName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// Every other sub-attribute (`formatted`, `middleName`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One of a user's e-mail addresses.
///
/// Read leniently: a bare string (`"emails": ["kim@example.com"]`) is read as an address with
/// no type; it is written back as an object.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ScimEmail {
    /// The address.
    pub value: String,
    /// `type` (`work`, `home`, `other`).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Whether this is the primary address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary: Option<bool>,
    /// Every other sub-attribute (`display`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Deserialize)]
struct EmailObject {
    value: String,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    primary: Option<bool>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum EmailWire {
    Bare(String),
    Object(EmailObject),
}

impl<'de> Deserialize<'de> for ScimEmail {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match EmailWire::deserialize(deserializer)? {
            EmailWire::Bare(value) => Self {
                value,
                ..Self::default()
            },
            EmailWire::Object(o) => Self {
                value: o.value,
                kind: o.kind,
                primary: o.primary,
                extra: o.extra,
            },
        })
    }
}

/// A group a user belongs to (the read-only `groups` of a user).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ScimGroupRef {
    /// The group's id.
    pub value: String,
    /// The group's display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    /// Every other sub-attribute (`$ref`, `type`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Resource metadata (`meta`), set by the server.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScimMeta {
    /// `resourceType` (`User`, `Group`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// Creation time, as the server wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Last modification time, as the server wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// The resource's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The version (an ETag such as `W/"3"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Every other sub-attribute.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A SCIM2 group. In IS 5.9 a group is a role of a user store: its `displayName` is the role
/// name, which answers may qualify with the store (`PRIMARY/publisher_role`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScimGroup {
    /// Schema URNs. Filled in on create when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<String>,
    /// The id the server assigned (absent before creation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `displayName`: the group (role) name.
    pub display_name: String,
    /// Members (users, or groups where the server allows nesting).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<ScimMember>,
    /// Resource metadata; read-only, never sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<ScimMeta>,
    /// Every other attribute, as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ScimGroup {
    /// A group with only its name set.
    pub fn new(display_name: &RoleName) -> Self {
        Self {
            display_name: display_name.as_str().to_owned(),
            ..Self::default()
        }
    }

    /// Adds a member.
    pub fn with_member(mut self, member: ScimMember) -> Self {
        self.members.push(member);
        self
    }
}

/// A member of a group: the member's id, and its name.
///
/// IS 5.9 computes membership changes from the members' `display` names: every member sent
/// there needs both `value` (the user's SCIM id) and `display` (its user name), or the server
/// refuses the request. [`ScimMember::user`] gives both.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ScimMember {
    /// The member's id.
    pub value: String,
    /// The member's name (`userName` of a user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    /// Every other sub-attribute (`$ref`, `type`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ScimMember {
    /// A member by id.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            value: id.into(),
            display: None,
            extra: Map::new(),
        }
    }

    /// Sets the member's name.
    pub fn with_display(mut self, display: impl Into<String>) -> Self {
        self.display = Some(display.into());
        self
    }

    /// The member for a user read from the server (its id and user name).
    pub fn user(user: &ScimUser) -> Option<Self> {
        let id = user.id.as_ref()?;
        Some(Self::new(id.clone()).with_display(user.user_name.clone()))
    }
}

/// The kind of a PATCH operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PatchOpKind {
    /// `add`.
    Add,
    /// `remove`.
    Remove,
    /// `replace`.
    Replace,
}

/// One operation of a PATCH request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatchOperation {
    /// The kind.
    pub op: PatchOpKind,
    /// The attribute path, e.g. `members[value eq "id"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

/// A PATCH request body (`urn:ietf:params:scim:api:messages:2.0:PatchOp`), as an owned value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScimPatch {
    /// The operations, applied in order.
    pub operations: Vec<PatchOperation>,
}

impl ScimPatch {
    /// An empty patch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an operation.
    pub fn operation(mut self, op: PatchOperation) -> Self {
        self.operations.push(op);
        self
    }

    /// Adds members to a group: `{"op":"add","path":"members","value":[...]}`, the form IS 5.9
    /// documents (every member with its `value` and its `display` name there).
    pub fn add_members(self, members: &[ScimMember]) -> Self {
        let members: Vec<Value> = members.iter().map(member_value).collect();
        self.operation(PatchOperation {
            op: PatchOpKind::Add,
            path: Some("members".into()),
            value: Some(Value::Array(members)),
        })
    }

    /// Removes the member with this id: `{"op":"remove","path":"members[value eq \"id\"]"}`.
    pub fn remove_member(self, id: &str) -> Self {
        self.operation(PatchOperation {
            op: PatchOpKind::Remove,
            path: Some(format!(
                "members[value eq {}]",
                super::wire::filter_literal(id)
            )),
            value: None,
        })
    }

    /// The request body.
    pub fn to_json(&self) -> Value {
        let mut body = Map::new();
        body.insert("schemas".into(), Value::from(vec![PATCH_OP_SCHEMA]));
        body.insert(
            "Operations".into(),
            Value::Array(
                self.operations
                    .iter()
                    .map(|op| serde_json::to_value(op).unwrap_or(Value::Null))
                    .collect(),
            ),
        );
        Value::Object(body)
    }
}

fn member_value(m: &ScimMember) -> Value {
    serde_json::to_value(m).unwrap_or(Value::Null)
}

/// What a server supports, from `/ServiceProviderConfig` (RFC 7643 section 5).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceProviderConfig {
    /// Bulk support and limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulk: Option<BulkSupport>,
    /// PATCH support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<Supported>,
    /// Filter support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<FilterSupport>,
    /// ETag support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<Supported>,
    /// Every other attribute (`authenticationSchemes`, `sort`, `changePassword`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A `{"supported": bool}` feature.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Supported {
    /// Whether the feature is supported.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub supported: Option<bool>,
    /// Every other attribute.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `bulk` feature and its limits.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkSupport {
    /// Whether Bulk is supported.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub supported: Option<bool>,
    /// Most operations in one Bulk request.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub max_operations: Option<u64>,
    /// Largest Bulk request body, in bytes.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub max_payload_size: Option<u64>,
    /// Every other attribute.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `filter` feature.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterSupport {
    /// Whether filtering is supported.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub supported: Option<bool>,
    /// Most results in one answer.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub max_results: Option<u64>,
    /// Every other attribute.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A number written as a JSON number or as a string (some servers quote numbers).
fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// A boolean written as a JSON boolean or as the string `"true"`/`"false"`.
fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Bool(b)) => Some(b),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// A list (query) response.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListResponse<T> {
    /// `Resources` (IS omits it when nothing matched).
    #[serde(rename = "Resources", default = "Vec::new")]
    pub(crate) resources: Vec<T>,
}
