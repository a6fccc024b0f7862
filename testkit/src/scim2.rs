//! SCIM2 as IS 5.9 serves it (Charon 3.x): `/scim2/Users`, `/scim2/Groups` (roles are groups),
//! `/scim2/Bulk` (not atomic), `/scim2/ServiceProviderConfig`, `/scim2/ResourceTypes`,
//! `/scim2/Schemas`; tenant form `/t/{tenant}/scim2/...`. Users and groups are the same records
//! the SOAP user-store service works on.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::server::{
    AuthProblem, Family, Inner, Principal, Route, ServerKind, SimRequest, SimResponse, lock,
};
use crate::state::{RoleRecord, TenantState, UserRecord, now_rfc3339, sha256_hex};

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const SCIM_JSON: &str = "application/scim+json";

/// `(tenant from path, rest of the path after /scim2)`.
pub(crate) fn split(path: &str) -> Option<(Option<String>, String)> {
    if let Some(rest) = path.strip_prefix("/t/") {
        let (tenant, rest) = rest.split_once('/')?;
        let rest = rest.strip_prefix("scim2")?;
        return Some((Some(tenant.to_owned()), rest.to_owned()));
    }
    let rest = path.strip_prefix("/scim2")?;
    Some((None, rest.to_owned()))
}

/// Classifies SCIM2 requests (IS only).
pub(crate) fn route(kind: ServerKind, req: &SimRequest) -> Option<Route> {
    if kind != ServerKind::Is {
        return None;
    }
    let (_, rest) = split(&req.path)?;
    let segs: Vec<&str> = rest.trim_matches('/').split('/').collect();
    let m = req.method.as_str();
    let action = match (segs.as_slice(), m) {
        (["Users"], "GET") => "scim2.listUsers",
        (["Users"], "POST") => "scim2.createUser",
        (["Users", ".search"], "POST") => "scim2.searchUsers",
        (["Users", _], "GET") => "scim2.getUser",
        (["Users", _], "PUT") => "scim2.replaceUser",
        (["Users", _], "PATCH") => "scim2.patchUser",
        (["Users", _], "DELETE") => "scim2.deleteUser",
        (["Groups"], "GET") => "scim2.listGroups",
        (["Groups"], "POST") => "scim2.createGroup",
        (["Groups", ".search"], "POST") => "scim2.searchGroups",
        (["Groups", _], "GET") => "scim2.getGroup",
        (["Groups", _], "PUT") => "scim2.replaceGroup",
        (["Groups", _], "PATCH") => "scim2.patchGroup",
        (["Groups", _], "DELETE") => "scim2.deleteGroup",
        (["Bulk"], "POST") => "scim2.bulk",
        (["ServiceProviderConfig"], "GET") => "scim2.serviceProviderConfig",
        (["ResourceTypes"], "GET") | (["ResourceTypes", _], "GET") => "scim2.resourceTypes",
        (["Schemas"], "GET") | (["Schemas", _], "GET") => "scim2.schemas",
        (
            [
                "Users" | "Groups" | "Bulk" | "ServiceProviderConfig" | "ResourceTypes" | "Schemas",
                ..,
            ],
            _,
        ) => "scim2.unsupported",
        _ => "scim2.not_found",
    };
    let mutating = matches!(m, "POST" | "PUT" | "PATCH" | "DELETE")
        && !action.starts_with("scim2.search")
        && action != "scim2.unsupported"
        && action != "scim2.not_found";
    Some(Route {
        action: action.into(),
        mutating,
        family: Family::Json,
    })
}

pub(crate) fn error(status: u16, scim_type: Option<&str>, detail: &str) -> SimResponse {
    let mut v = json!({"schemas": [ERROR_SCHEMA], "detail": detail, "status": status.to_string()});
    if let Some(t) = scim_type {
        v["scimType"] = Value::String(t.to_owned());
    }
    SimResponse::new(status, SCIM_JSON, v.to_string())
}

pub(crate) fn ok(status: u16, v: &Value) -> SimResponse {
    SimResponse::new(status, SCIM_JSON, v.to_string())
}

/// Handles one SCIM2 request.
pub(crate) fn handle(inner: &Inner, req: &SimRequest, action: &str) -> SimResponse {
    let Some((path_tenant, rest)) = split(&req.path) else {
        return error(
            404,
            None,
            "Specified resource (e.g., User) or endpoint does not exist.",
        );
    };
    let principal = match inner.principal(req) {
        Ok(p) => p,
        Err(AuthProblem::Missing) | Err(AuthProblem::BadCredentials) => {
            return SimResponse::new(
                401,
                SCIM_JSON,
                json!({"schemas": [ERROR_SCHEMA], "detail": "Authentication failed for this resource.", "status": "401"}).to_string(),
            );
        }
    };
    if path_tenant.as_ref().is_some_and(|t| *t != principal.tenant) {
        return error(401, None, "Authentication failed for this resource.");
    }
    if !inner.is_admin(&principal) && !action.starts_with("scim2.serviceProviderConfig") {
        return error(
            403,
            None,
            "Operation is not permitted. You do not have permissions to make this request.",
        );
    }
    let base = format!(
        "{}{}/scim2",
        inner.base_url(),
        path_tenant.map(|t| format!("/t/{t}")).unwrap_or_default()
    );
    let id = rest
        .trim_matches('/')
        .split('/')
        .nth(1)
        .unwrap_or("")
        .to_owned();
    let body: Option<Value> = if req.body.is_empty() {
        None
    } else {
        match serde_json::from_slice(&req.body) {
            Ok(v) => Some(v),
            Err(_) => {
                return error(
                    400,
                    Some("invalidSyntax"),
                    "Request is unparsable, syntactically incorrect, or violates schema.",
                );
            }
        }
    };
    let ctx = Ctx {
        inner,
        principal: &principal,
        base: &base,
    };
    let q = req.query_params();
    match action {
        "scim2.serviceProviderConfig" => ok(200, &service_provider_config(&base)),
        "scim2.resourceTypes" => resource_types(&base, &id),
        "scim2.schemas" => schemas(&id),
        "scim2.listUsers" => ctx.list(Kind::User, &q, None),
        "scim2.searchUsers" => ctx.list(Kind::User, &q, body.as_ref()),
        "scim2.listGroups" => ctx.list(Kind::Group, &q, None),
        "scim2.searchGroups" => ctx.list(Kind::Group, &q, body.as_ref()),
        "scim2.createUser" => ctx.create_user(body.unwrap_or(Value::Null)),
        "scim2.getUser" => ctx.get(Kind::User, &id, &q),
        "scim2.replaceUser" => ctx.replace_user(&id, body.unwrap_or(Value::Null)),
        "scim2.patchUser" => ctx.patch_user(&id, body.unwrap_or(Value::Null)),
        "scim2.deleteUser" => ctx.delete(Kind::User, &id),
        "scim2.createGroup" => ctx.create_group(body.unwrap_or(Value::Null)),
        "scim2.getGroup" => ctx.get(Kind::Group, &id, &q),
        "scim2.replaceGroup" => ctx.replace_group(&id, body.unwrap_or(Value::Null)),
        "scim2.patchGroup" => ctx.patch_group(&id, body.unwrap_or(Value::Null)),
        "scim2.deleteGroup" => ctx.delete(Kind::Group, &id),
        "scim2.bulk" => ctx.bulk(body.unwrap_or(Value::Null)),
        "scim2.not_found" => error(
            404,
            None,
            "Specified resource (e.g., User) or endpoint does not exist.",
        ),
        _ => error(
            405,
            None,
            "The requested operation is not supported on this endpoint.",
        ),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    User,
    Group,
}

struct Ctx<'a> {
    inner: &'a Inner,
    principal: &'a Principal,
    base: &'a str,
}

fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "http://example.com/help/scim.html",
        "patch": {"supported": true},
        "bulk": {"supported": true, "maxOperations": 1000, "maxPayloadSize": 1048576},
        "filter": {"supported": true, "maxResults": 200},
        "changePassword": {"supported": true},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "name": "OAuth Bearer Token",
            "description": "Authentication scheme using the OAuth Bearer Token Standard",
            "specUri": "http://www.rfc-editor.org/info/rfc6750",
            "documentationUri": "http://example.com/help/oauth.html",
            "type": "oauthbearertoken",
            "primary": true
        }, {
            "name": "HTTP Basic",
            "description": "Authentication scheme using the HTTP Basic Standard",
            "specUri": "http://www.rfc-editor.org/info/rfc2617",
            "documentationUri": "http://example.com/help/httpBasic.html",
            "type": "httpbasic",
            "primary": false
        }],
        "meta": {"location": format!("{base}/ServiceProviderConfig"), "resourceType": "ServiceProviderConfig"}
    })
}

fn resource_type_list(base: &str) -> Vec<Value> {
    vec![
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User", "name": "User", "endpoint": "/Users",
            "description": "User Account", "schema": USER_SCHEMA,
            "schemaExtensions": [{"schema": ENTERPRISE, "required": false}],
            "meta": {"location": format!("{base}/ResourceTypes/User"), "resourceType": "ResourceType"}
        }),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "Group", "name": "Group", "endpoint": "/Groups",
            "description": "Group", "schema": GROUP_SCHEMA,
            "meta": {"location": format!("{base}/ResourceTypes/Group"), "resourceType": "ResourceType"}
        }),
    ]
}

fn resource_types(base: &str, id: &str) -> SimResponse {
    let all = resource_type_list(base);
    if !id.is_empty() {
        return match all.into_iter().find(|r| r["id"] == id) {
            Some(r) => ok(200, &r),
            None => error(
                404,
                None,
                "Specified resource (e.g., User) or endpoint does not exist.",
            ),
        };
    }
    ok(200, &list_response(all, 1))
}

fn attr(
    name: &str,
    ty: &str,
    multi: bool,
    required: bool,
    mutability: &str,
    uniqueness: &str,
) -> Value {
    json!({
        "name": name, "type": ty, "multiValued": multi, "description": name,
        "required": required, "caseExact": false, "mutability": mutability,
        "returned": if name == "password" { "never" } else { "default" },
        "uniqueness": uniqueness
    })
}

fn complex(name: &str, multi: bool, subs: &[&str]) -> Value {
    let mut a = attr(name, "complex", multi, false, "readWrite", "none");
    a["subAttributes"] = Value::Array(
        subs.iter()
            .map(|s| {
                attr(
                    s,
                    if *s == "primary" { "boolean" } else { "string" },
                    false,
                    false,
                    "readWrite",
                    "none",
                )
            })
            .collect(),
    );
    a
}

/// Marks the `$ref` sub-attribute of `a` as a reference to `types`.
fn with_ref(mut a: Value, types: &[&str]) -> Value {
    if let Some(subs) = a["subAttributes"].as_array_mut() {
        for s in subs {
            if s["name"] == "$ref" {
                s["type"] = Value::String("reference".into());
                s["referenceTypes"] = json!(types);
            }
        }
    }
    a
}

fn schema_list() -> Vec<Value> {
    let mut group_members = with_ref(
        complex("members", true, &["value", "display", "$ref", "type"]),
        &["User", "Group"],
    );
    if let Some(subs) = group_members["subAttributes"].as_array_mut() {
        for s in subs {
            s["mutability"] = Value::String("immutable".into());
        }
    }
    let mut user_groups = with_ref(
        complex("groups", true, &["value", "display", "$ref", "type"]),
        &["Group"],
    );
    if let Some(subs) = user_groups["subAttributes"].as_array_mut() {
        for s in subs {
            s["mutability"] = Value::String("readOnly".into());
        }
    }
    user_groups["mutability"] = Value::String("readOnly".into());
    vec![
        json!({
            "id": USER_SCHEMA, "name": "User", "description": "User Account",
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "attributes": [
                attr("userName", "string", false, true, "readWrite", "server"),
                complex("name", false, &["formatted", "familyName", "givenName", "middleName", "honorificPrefix", "honorificSuffix"]),
                attr("displayName", "string", false, false, "readWrite", "none"),
                attr("nickName", "string", false, false, "readWrite", "none"),
                attr("profileUrl", "reference", false, false, "readWrite", "none"),
                attr("title", "string", false, false, "readWrite", "none"),
                attr("userType", "string", false, false, "readWrite", "none"),
                attr("preferredLanguage", "string", false, false, "readWrite", "none"),
                attr("locale", "string", false, false, "readWrite", "none"),
                attr("timezone", "string", false, false, "readWrite", "none"),
                attr("active", "boolean", false, false, "readWrite", "none"),
                attr("password", "string", false, false, "writeOnly", "none"),
                complex("emails", true, &["value", "display", "type", "primary"]),
                complex("phoneNumbers", true, &["value", "display", "type", "primary"]),
                complex("ims", true, &["value", "display", "type", "primary"]),
                complex("photos", true, &["value", "display", "type", "primary"]),
                complex("addresses", true, &["formatted", "streetAddress", "locality", "region", "postalCode", "country", "type", "primary"]),
                user_groups,
                complex("entitlements", true, &["value", "display", "type", "primary"]),
                complex("roles", true, &["value", "display", "type", "primary"]),
                complex("x509Certificates", true, &["value", "display", "type", "primary"]),
            ],
            "meta": {"resourceType": "Schema", "location": format!("/Schemas/{USER_SCHEMA}")}
        }),
        json!({
            "id": ENTERPRISE, "name": "EnterpriseUser", "description": "Enterprise User",
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "attributes": [
                attr("employeeNumber", "string", false, false, "readWrite", "none"),
                attr("costCenter", "string", false, false, "readWrite", "none"),
                attr("organization", "string", false, false, "readWrite", "none"),
                attr("division", "string", false, false, "readWrite", "none"),
                attr("department", "string", false, false, "readWrite", "none"),
                with_ref(complex("manager", false, &["value", "$ref", "displayName"]), &["User"]),
            ],
            "meta": {"resourceType": "Schema", "location": format!("/Schemas/{ENTERPRISE}")}
        }),
        json!({
            "id": GROUP_SCHEMA, "name": "Group", "description": "Group",
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "attributes": [
                attr("displayName", "string", false, true, "readWrite", "none"),
                group_members,
            ],
            "meta": {"resourceType": "Schema", "location": format!("/Schemas/{GROUP_SCHEMA}")}
        }),
    ]
}

fn schemas(id: &str) -> SimResponse {
    let all = schema_list();
    if !id.is_empty() {
        return match all.into_iter().find(|s| s["id"] == id) {
            Some(s) => ok(200, &s),
            None => error(
                404,
                None,
                "Specified resource (e.g., User) or endpoint does not exist.",
            ),
        };
    }
    ok(200, &list_response(all, 1))
}

fn list_response(items: Vec<Value>, start: usize) -> Value {
    json!({
        "totalResults": items.len(),
        "startIndex": start,
        "itemsPerPage": items.len(),
        "schemas": [LIST_SCHEMA],
        "Resources": items,
    })
}

/// Display name of a role as a SCIM group (user-store roles carry their `PRIMARY/` domain).
fn group_display(role: &str) -> String {
    if role.contains('/') {
        role.to_owned()
    } else {
        format!("PRIMARY/{role}")
    }
}

/// The role a group display name means (`PRIMARY/x` and `x` are the same).
fn role_of_display(display: &str) -> String {
    match display.split_once('/') {
        Some((d, rest)) if d.eq_ignore_ascii_case("PRIMARY") => rest.to_owned(),
        Some((d, rest)) if d.eq_ignore_ascii_case("Internal") => format!("Internal/{rest}"),
        _ => display.to_owned(),
    }
}

fn user_json(base: &str, t: &TenantState, name: &str, u: &UserRecord) -> Value {
    let mut v = match &u.scim {
        Some(Value::Object(m)) => Value::Object(m.clone()),
        _ => json!({}),
    };
    v["id"] = Value::String(u.scim_id.clone());
    v["userName"] = Value::String(name.to_owned());
    let mut schemas = vec![Value::String(USER_SCHEMA.into())];
    if v.get(ENTERPRISE).is_some() {
        schemas.push(Value::String(ENTERPRISE.into()));
    }
    v["schemas"] = Value::Array(schemas);
    if v.get("emails").is_none()
        && let Some(mail) = u.claims.get("http://wso2.org/claims/emailaddress")
    {
        v["emails"] = json!([{"value": mail, "primary": true}]);
    }
    let groups: Vec<Value> = t
        .roles
        .iter()
        .filter(|(n, r)| r.users.contains(name) && !n.starts_with("Application/") && !n.starts_with("Internal/"))
        .map(|(n, r)| json!({"display": group_display(n), "value": r.scim_id, "$ref": format!("{base}/Groups/{}", r.scim_id)}))
        .collect();
    if !groups.is_empty() {
        v["groups"] = Value::Array(groups);
    }
    v["meta"] = json!({
        "created": u.created,
        "lastModified": u.modified,
        "location": format!("{base}/Users/{}", u.scim_id),
        "resourceType": "User",
    });
    v
}

fn group_json(base: &str, t: &TenantState, name: &str, r: &RoleRecord) -> Value {
    let members: Vec<Value> = r
        .users
        .iter()
        .filter_map(|u| t.users.get(u).map(|rec| (u, rec)))
        .map(|(u, rec)| json!({"display": u, "value": rec.scim_id, "$ref": format!("{base}/Users/{}", rec.scim_id), "type": "User"}))
        .collect();
    let mut v = json!({
        "id": r.scim_id,
        "displayName": group_display(name),
        "schemas": [GROUP_SCHEMA],
        "meta": {
            "created": r.created,
            "lastModified": r.modified,
            "location": format!("{base}/Groups/{}", r.scim_id),
            "resourceType": "Group",
        }
    });
    if !members.is_empty() {
        v["members"] = Value::Array(members);
    }
    v
}

/// `attr op "value"` filters joined with `and`; ops eq, ne, co, sw, ew, pr.
pub(crate) fn matches_filter(v: &Value, filter: &str) -> Result<bool, String> {
    let lower = filter.to_ascii_lowercase();
    if let Some(i) = lower.find(" or ") {
        return Ok(matches_filter(v, &filter[..i])? || matches_filter(v, &filter[i + 4..])?);
    }
    if let Some(i) = lower.find(" and ") {
        return Ok(matches_filter(v, &filter[..i])? && matches_filter(v, &filter[i + 5..])?);
    }
    let f = filter.trim();
    let mut parts = f.splitn(3, ' ');
    let path = parts.next().unwrap_or("");
    let op = parts.next().unwrap_or("").to_ascii_lowercase();
    let value = parts.next().unwrap_or("").trim().trim_matches('"');
    let actual = lookup(v, path);
    let Some(op) = Some(op.as_str())
        .filter(|o| ["eq", "ne", "co", "sw", "ew", "pr", "gt", "ge", "lt", "le"].contains(o))
    else {
        return Err(format!("Invalid filter: {filter}"));
    };
    if op == "pr" {
        return Ok(!actual.is_empty());
    }
    let ci = !path.eq_ignore_ascii_case("id");
    let norm = |s: &str| if ci { s.to_lowercase() } else { s.to_owned() };
    let want = norm(value);
    let any = actual.iter().any(|a| {
        let a = norm(a);
        match op {
            "eq" => a == want,
            "ne" => a != want,
            "co" => a.contains(&want),
            "sw" => a.starts_with(&want),
            "ew" => a.ends_with(&want),
            "gt" => a > want,
            "ge" => a >= want,
            "lt" => a < want,
            _ => a <= want,
        }
    });
    Ok(if op == "ne" {
        actual.is_empty() || any
    } else {
        any
    })
}

/// String values at a dotted attribute path (case-insensitive names, arrays flattened).
fn lookup(v: &Value, path: &str) -> Vec<String> {
    let path = path
        .strip_prefix(USER_SCHEMA)
        .or_else(|| path.strip_prefix(GROUP_SCHEMA))
        .map(|p| p.trim_start_matches(':'))
        .unwrap_or(path);
    let mut cur = vec![v.clone()];
    for seg in path.split('.') {
        let mut next = Vec::new();
        for c in cur {
            let items = match c {
                Value::Array(a) => a,
                other => vec![other],
            };
            for item in items {
                if let Value::Object(m) = item
                    && let Some((_, x)) = m.iter().find(|(k, _)| k.eq_ignore_ascii_case(seg))
                {
                    next.push(x.clone());
                }
            }
        }
        cur = next;
    }
    let mut out = Vec::new();
    for c in cur {
        match c {
            Value::String(s) => out.push(s),
            Value::Array(a) => {
                for x in a {
                    match x {
                        Value::String(s) => out.push(s),
                        Value::Object(m) => {
                            if let Some(Value::String(s)) = m.get("value") {
                                out.push(s.clone());
                            }
                        }
                        other => out.push(other.to_string()),
                    }
                }
            }
            Value::Null => {}
            other => out.push(other.to_string()),
        }
    }
    out
}

fn project(mut v: Value, attributes: Option<&str>, excluded: Option<&str>) -> Value {
    let always = ["id", "schemas", "meta"];
    if let (Some(attrs), Value::Object(m)) = (attributes, &mut v) {
        let wanted: Vec<String> = attrs
            .split(',')
            .map(|a| {
                a.trim()
                    .split('.')
                    .next()
                    .unwrap_or("")
                    .to_ascii_lowercase()
            })
            .collect();
        m.retain(|k, _| always.contains(&k.as_str()) || wanted.contains(&k.to_ascii_lowercase()));
    }
    if let (Some(ex), Value::Object(m)) = (excluded, &mut v) {
        let gone: Vec<String> = ex
            .split(',')
            .map(|a| a.trim().to_ascii_lowercase())
            .collect();
        m.retain(|k, _| always.contains(&k.as_str()) || !gone.contains(&k.to_ascii_lowercase()));
    }
    v
}

fn qget<'a>(q: &'a [(String, String)], name: &str) -> Option<&'a str> {
    q.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

impl Ctx<'_> {
    fn tenant(&self) -> String {
        self.principal.tenant.clone()
    }

    fn list(&self, kind: Kind, q: &[(String, String)], search: Option<&Value>) -> SimResponse {
        let s = |k: &str| {
            search
                .and_then(|b| b.get(k))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let n = |k: &str| search.and_then(|b| b.get(k)).and_then(Value::as_u64);
        let filter = s("filter").or_else(|| qget(q, "filter").map(str::to_owned));
        let attributes = search
            .and_then(|b| b.get("attributes"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .or_else(|| qget(q, "attributes").map(str::to_owned));
        let excluded = qget(q, "excludedAttributes").map(str::to_owned);
        let start = n("startIndex")
            .or_else(|| qget(q, "startIndex").and_then(|v| v.parse().ok()))
            .unwrap_or(1)
            .max(1) as usize;
        let count = n("count").or_else(|| qget(q, "count").and_then(|v| v.parse().ok()));
        if qget(q, "sortBy").is_some() || search.is_some_and(|b| b.get("sortBy").is_some()) {
            return error(501, None, "Sorting is not supported");
        }
        if kind == Kind::Group
            && filter.as_ref().is_some_and(|f| {
                let l = f.to_ascii_lowercase();
                l.contains(" and ") || l.contains(" or ")
            })
        {
            return error(501, None, "Complex filters are not supported yet");
        }
        let core = lock(&self.inner.core);
        let Some(t) = core.tenant(&self.tenant()) else {
            return ok(200, &list_response(Vec::new(), 1));
        };
        let all: Vec<Value> = match kind {
            Kind::User => t
                .users
                .iter()
                .map(|(n, u)| user_json(self.base, t, n, u))
                .collect(),
            Kind::Group => t
                .roles
                .iter()
                .filter(|(n, _)| !n.starts_with("Application/") && !n.starts_with("Internal/"))
                .map(|(n, r)| group_json(self.base, t, n, r))
                .collect(),
        };
        let mut hits = Vec::new();
        for v in all {
            // `displayName eq x` finds the PRIMARY group `PRIMARY/x` too.
            let bare = match (kind, v["displayName"].as_str()) {
                (Kind::Group, Some(d)) => d.strip_prefix("PRIMARY/").map(|b| {
                    let mut w = v.clone();
                    w["displayName"] = Value::String(b.to_owned());
                    w
                }),
                _ => None,
            };
            match &filter {
                Some(f) => match matches_filter(&v, f).map(|m| {
                    m || bare
                        .as_ref()
                        .is_some_and(|b| matches_filter(b, f).unwrap_or(false))
                }) {
                    Ok(true) => hits.push(v),
                    Ok(false) => {}
                    Err(e) => return error(400, Some("invalidFilter"), &e),
                },
                None => hits.push(v),
            }
        }
        let total = hits.len();
        let page: Vec<Value> = hits
            .into_iter()
            .skip(start - 1)
            .take(count.map(|c| c as usize).unwrap_or(usize::MAX))
            .map(|v| project(v, attributes.as_deref(), excluded.as_deref()))
            .collect();
        ok(
            200,
            &json!({
                "totalResults": total,
                "startIndex": start,
                "itemsPerPage": page.len(),
                "schemas": [LIST_SCHEMA],
                "Resources": page,
            }),
        )
    }

    fn get(&self, kind: Kind, id: &str, q: &[(String, String)]) -> SimResponse {
        let core = lock(&self.inner.core);
        let Some(t) = core.tenant(&self.tenant()) else {
            return not_found(kind, id);
        };
        let v = match kind {
            Kind::User => t
                .users
                .iter()
                .find(|(_, u)| u.scim_id == id)
                .map(|(n, u)| user_json(self.base, t, n, u)),
            Kind::Group => t
                .roles
                .iter()
                .find(|(_, r)| r.scim_id == id)
                .map(|(n, r)| group_json(self.base, t, n, r)),
        };
        match v {
            Some(v) => ok(
                200,
                &project(v, qget(q, "attributes"), qget(q, "excludedAttributes")),
            ),
            None => not_found(kind, id),
        }
    }

    fn create_user(&self, body: Value) -> SimResponse {
        let Some(obj) = body.as_object() else {
            return error(
                400,
                Some("invalidSyntax"),
                "Request is unparsable, syntactically incorrect, or violates schema.",
            );
        };
        let Some(name) = obj
            .get("userName")
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            return error(
                400,
                Some("invalidValue"),
                "Required attribute userName is missing in the SCIM Object.",
            );
        };
        let password = obj
            .get("password")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut core = lock(&self.inner.core);
        let id = core.uuid();
        let generated = core.random_hex(12);
        let tenant = self.tenant();
        let t = core.tenant_mut(&tenant);
        if t.users.contains_key(&name) {
            return error(
                409,
                None,
                &format!("User with the name: {name} already exists in the system."),
            );
        }
        let now = now_rfc3339();
        let rec = UserRecord {
            password_sha256: sha256_hex(&password.unwrap_or(generated)),
            claims: Default::default(),
            scim_id: id,
            scim: Some(Value::Object(extra_attributes(obj))),
            created: now.clone(),
            modified: now,
        };
        let v = user_json(self.base, t, &name, &rec);
        t.users.insert(name, rec);
        ok(201, &v).header("Location", v["meta"]["location"].as_str().unwrap_or(""))
    }

    fn replace_user(&self, id: &str, body: Value) -> SimResponse {
        let Some(obj) = body.as_object() else {
            return error(
                400,
                Some("invalidSyntax"),
                "Request is unparsable, syntactically incorrect, or violates schema.",
            );
        };
        let mut core = lock(&self.inner.core);
        let tenant = self.tenant();
        let t = core.tenant_mut(&tenant);
        let Some(name) = t
            .users
            .iter()
            .find(|(_, u)| u.scim_id == id)
            .map(|(n, _)| n.clone())
        else {
            return not_found(Kind::User, id);
        };
        if let Some(new_name) = obj.get("userName").and_then(Value::as_str)
            && new_name != name
        {
            return error(
                400,
                Some("mutability"),
                "userName is an immutable attribute and cannot be changed.",
            );
        }
        let Some(rec) = t.users.get_mut(&name) else {
            return not_found(Kind::User, id);
        };
        rec.scim = Some(Value::Object(extra_attributes(obj)));
        if let Some(p) = obj.get("password").and_then(Value::as_str) {
            rec.password_sha256 = sha256_hex(p);
        }
        rec.modified = now_rfc3339();
        let rec = rec.clone();
        ok(200, &user_json(self.base, t, &name, &rec))
    }

    fn patch_user(&self, id: &str, body: Value) -> SimResponse {
        let ops = match patch_ops(&body) {
            Ok(o) => o,
            Err(r) => return r,
        };
        let mut core = lock(&self.inner.core);
        let tenant = self.tenant();
        let t = core.tenant_mut(&tenant);
        let Some(name) = t
            .users
            .iter()
            .find(|(_, u)| u.scim_id == id)
            .map(|(n, _)| n.clone())
        else {
            return not_found(Kind::User, id);
        };
        let Some(rec) = t.users.get_mut(&name) else {
            return not_found(Kind::User, id);
        };
        let mut doc = match rec.scim.take() {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        };
        for (_, path, value) in &ops {
            let renames = match path.as_deref() {
                Some(p) => {
                    p.eq_ignore_ascii_case("userName")
                        && value.as_ref().and_then(Value::as_str) != Some(name.as_str())
                }
                None => value
                    .as_ref()
                    .and_then(|v| v.get("userName"))
                    .and_then(Value::as_str)
                    .is_some_and(|n| n != name),
            };
            if renames {
                return error(
                    400,
                    Some("mutability"),
                    "userName is an immutable attribute and cannot be changed.",
                );
            }
        }
        for (op, path, value) in ops {
            if let Some(p) = value
                .as_ref()
                .and_then(|v| v.get("password"))
                .and_then(Value::as_str)
            {
                rec.password_sha256 = sha256_hex(p);
            }
            if let Err(r) = apply_patch(&mut doc, &op, path.as_deref(), value) {
                rec.scim = Some(Value::Object(doc));
                return r;
            }
        }
        doc.remove("userName");
        doc.remove("password");
        rec.scim = Some(Value::Object(doc));
        rec.modified = now_rfc3339();
        let rec = rec.clone();
        ok(200, &user_json(self.base, t, &name, &rec))
    }

    fn delete(&self, kind: Kind, id: &str) -> SimResponse {
        let mut core = lock(&self.inner.core);
        let tenant = self.tenant();
        let t = core.tenant_mut(&tenant);
        match kind {
            Kind::User => {
                let Some(name) = t
                    .users
                    .iter()
                    .find(|(_, u)| u.scim_id == id)
                    .map(|(n, _)| n.clone())
                else {
                    return not_found(kind, id);
                };
                if name == "admin" {
                    return error(400, None, "37002 - AdminUserCannot delete admin user");
                }
                t.users.remove(&name);
                for r in t.roles.values_mut() {
                    r.users.remove(&name);
                }
            }
            Kind::Group => {
                let Some(name) = t
                    .roles
                    .iter()
                    .find(|(_, r)| r.scim_id == id)
                    .map(|(n, _)| n.clone())
                else {
                    return not_found(kind, id);
                };
                if name == "admin" || name == "Internal/everyone" {
                    return error(400, None, "31804 - Cannot delete admin role");
                }
                t.roles.remove(&name);
            }
        }
        SimResponse::empty(204)
    }

    fn members(t: &TenantState, value: Option<&Value>) -> Result<BTreeSet<String>, SimResponse> {
        let mut out = BTreeSet::new();
        let items = match value {
            Some(Value::Array(a)) => a.clone(),
            Some(Value::Object(_)) => vec![value.cloned().unwrap_or(Value::Null)],
            _ => Vec::new(),
        };
        for m in items {
            let id = m.get("value").and_then(Value::as_str).unwrap_or("");
            // IS 5.9 works out membership from the members' display names.
            let display = m.get("display").and_then(Value::as_str);
            match t.users.iter().find(|(_, u)| u.scim_id == id) {
                Some((n, _)) if display.is_some_and(|d| d != n) => {
                    return Err(error(
                        400,
                        Some("invalidValue"),
                        "Given SCIM user Id and name does not match..",
                    ));
                }
                Some((_, _)) if display.is_none() => {
                    return Err(error(
                        400,
                        Some("invalidValue"),
                        &format!("Display name of the member {id} is required"),
                    ));
                }
                Some((n, _)) => {
                    out.insert(n.clone());
                }
                None => {
                    return Err(error(
                        400,
                        Some("invalidValue"),
                        &format!("No user exists with the id : {id}"),
                    ));
                }
            }
        }
        Ok(out)
    }

    fn create_group(&self, body: Value) -> SimResponse {
        let Some(display) = body
            .get("displayName")
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            return error(
                400,
                Some("invalidValue"),
                "Required attribute displayName is missing in the SCIM Object.",
            );
        };
        let role = role_of_display(&display);
        let mut core = lock(&self.inner.core);
        let id = core.uuid();
        let tenant = self.tenant();
        let t = core.tenant_mut(&tenant);
        if t.roles.contains_key(&role) {
            return error(
                409,
                None,
                &format!(
                    "Group with name: {} already exists in the system.",
                    group_display(&role)
                ),
            );
        }
        let users = match Self::members(t, body.get("members")) {
            Ok(u) => u,
            Err(r) => return r,
        };
        let now = now_rfc3339();
        let rec = RoleRecord {
            audience: None,
            groups: Default::default(),
            users,
            permissions: Vec::new(),
            scim_id: id,
            created: now.clone(),
            modified: now,
        };
        let v = group_json(self.base, t, &role, &rec);
        t.roles.insert(role, rec);
        ok(201, &v).header("Location", v["meta"]["location"].as_str().unwrap_or(""))
    }

    fn replace_group(&self, id: &str, body: Value) -> SimResponse {
        let mut core = lock(&self.inner.core);
        let tenant = self.tenant();
        let t = core.tenant_mut(&tenant);
        let Some(name) = t
            .roles
            .iter()
            .find(|(_, r)| r.scim_id == id)
            .map(|(n, _)| n.clone())
        else {
            return not_found(Kind::Group, id);
        };
        let users = match Self::members(t, body.get("members")) {
            Ok(u) => u,
            Err(r) => return r,
        };
        let new_name = body
            .get("displayName")
            .and_then(Value::as_str)
            .map(role_of_display)
            .unwrap_or_else(|| name.clone());
        if new_name != name && t.roles.contains_key(&new_name) {
            return error(
                409,
                None,
                &format!(
                    "Group with name: {} already exists in the system.",
                    group_display(&new_name)
                ),
            );
        }
        let Some(mut rec) = t.roles.remove(&name) else {
            return not_found(Kind::Group, id);
        };
        rec.users = users;
        rec.modified = now_rfc3339();
        let v = group_json(self.base, t, &new_name, &rec);
        t.roles.insert(new_name, rec);
        ok(200, &v)
    }

    fn patch_group(&self, id: &str, body: Value) -> SimResponse {
        let ops = match patch_ops(&body) {
            Ok(o) => o,
            Err(r) => return r,
        };
        let mut core = lock(&self.inner.core);
        let tenant = self.tenant();
        let t = core.tenant_mut(&tenant);
        let Some(mut name) = t
            .roles
            .iter()
            .find(|(_, r)| r.scim_id == id)
            .map(|(n, _)| n.clone())
        else {
            return not_found(Kind::Group, id);
        };
        for (op, path, value) in ops {
            let path_l = path.as_deref().unwrap_or("").to_ascii_lowercase();
            if path_l.starts_with("members")
                || (path.is_none() && value.as_ref().is_some_and(|v| v.get("members").is_some()))
            {
                let list = if path.is_none() {
                    value.as_ref().and_then(|v| v.get("members")).cloned()
                } else {
                    value.clone()
                };
                match op.as_str() {
                    "add" | "replace" => {
                        let users = match Self::members(t, list.as_ref()) {
                            Ok(u) => u,
                            Err(r) => return r,
                        };
                        if let Some(r) = t.roles.get_mut(&name) {
                            if op == "replace" {
                                r.users = users;
                            } else {
                                r.users.extend(users);
                            }
                        }
                    }
                    "remove" => {
                        // members[value eq "id"] or a value list, or all members.
                        let mut gone: BTreeSet<String> = BTreeSet::new();
                        if let Some(f) = path
                            .as_deref()
                            .and_then(|p| p.split_once('['))
                            .map(|(_, f)| f.trim_end_matches(']'))
                        {
                            for (n, u) in &t.users {
                                let v = json!({"value": u.scim_id, "display": n});
                                if matches_filter(&v, f).unwrap_or(false) {
                                    gone.insert(n.clone());
                                }
                            }
                        } else if list.is_some() {
                            gone = match Self::members(t, list.as_ref()) {
                                Ok(u) => u,
                                Err(r) => return r,
                            };
                        } else if let Some(r) = t.roles.get(&name) {
                            gone = r.users.clone();
                        }
                        if let Some(r) = t.roles.get_mut(&name) {
                            r.users.retain(|u| !gone.contains(u));
                        }
                    }
                    _ => return error(400, Some("invalidSyntax"), "Invalid patch operation"),
                }
            } else if path_l == "displayname"
                || (path.is_none()
                    && value
                        .as_ref()
                        .is_some_and(|v| v.get("displayName").is_some()))
            {
                let d = if path.is_none() {
                    value
                        .as_ref()
                        .and_then(|v| v.get("displayName"))
                        .and_then(Value::as_str)
                } else {
                    value.as_ref().and_then(Value::as_str)
                };
                if let Some(d) = d {
                    let new_name = role_of_display(d);
                    if new_name != name {
                        if t.roles.contains_key(&new_name) {
                            return error(
                                409,
                                None,
                                &format!(
                                    "Group with name: {} already exists in the system.",
                                    group_display(&new_name)
                                ),
                            );
                        }
                        if let Some(r) = t.roles.remove(&name) {
                            t.roles.insert(new_name.clone(), r);
                        }
                        name = new_name;
                    }
                }
            } else {
                return error(
                    400,
                    Some("invalidPath"),
                    &format!("Invalid path: {}", path.unwrap_or_default()),
                );
            }
        }
        let Some(r) = t.roles.get_mut(&name) else {
            return not_found(Kind::Group, id);
        };
        r.modified = now_rfc3339();
        let r = r.clone();
        ok(200, &group_json(self.base, t, &name, &r))
    }

    /// Bulk: operations run one by one; each commits on its own; `failOnErrors` stops the run.
    fn bulk(&self, body: Value) -> SimResponse {
        let Some(ops) = body.get("Operations").and_then(Value::as_array) else {
            return error(
                400,
                Some("invalidSyntax"),
                "Request is unparsable, syntactically incorrect, or violates schema.",
            );
        };
        if ops.len() > 1000 {
            return error(
                413,
                Some("tooMany"),
                "The number of operations exceeds the maxOperations value 1000",
            );
        }
        let fail_on = body
            .get("failOnErrors")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let mut errors = 0u64;
        let mut out = Vec::new();
        let mut bulk_ids: std::collections::HashMap<String, String> = Default::default();
        for op in ops {
            if fail_on > 0 && errors >= fail_on {
                break;
            }
            let method = op
                .get("method")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_ascii_uppercase();
            let mut path = op
                .get("path")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            for (bid, real) in &bulk_ids {
                path = path.replace(&format!("bulkId:{bid}"), real);
            }
            let bulk_id = op.get("bulkId").and_then(Value::as_str).map(str::to_owned);
            let mut data = op.get("data").cloned().unwrap_or(Value::Null);
            if let Value::Object(m) = &mut data
                && let Some(Value::Array(members)) = m.get_mut("members")
            {
                for mem in members {
                    if let Some(Value::String(v)) = mem.get_mut("value")
                        && let Some(bid) = v.strip_prefix("bulkId:")
                        && let Some(real) = bulk_ids.get(bid)
                    {
                        *v = real.clone();
                    }
                }
            }
            let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
            let r = match (method.as_str(), segs.as_slice()) {
                ("POST", ["Users"]) => self.create_user(data),
                ("POST", ["Groups"]) => self.create_group(data),
                ("PUT", ["Users", id]) => self.replace_user(id, data),
                ("PUT", ["Groups", id]) => self.replace_group(id, data),
                ("PATCH", ["Users", id]) => self.patch_user(id, data),
                ("PATCH", ["Groups", id]) => self.patch_group(id, data),
                ("DELETE", ["Users", id]) => self.delete(Kind::User, id),
                ("DELETE", ["Groups", id]) => self.delete(Kind::Group, id),
                _ => error(
                    400,
                    Some("invalidPath"),
                    &format!("Invalid bulk operation path {path}"),
                ),
            };
            let mut res = json!({"method": method, "status": {"code": r.status}});
            if let Some(b) = &bulk_id {
                res["bulkId"] = Value::String(b.clone());
            }
            let parsed: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
            if r.status < 300 {
                if let Some(loc) = parsed
                    .get("meta")
                    .and_then(|m| m.get("location"))
                    .and_then(Value::as_str)
                {
                    res["location"] = Value::String(loc.to_owned());
                }
                if let (Some(b), Some(id)) = (&bulk_id, parsed.get("id").and_then(Value::as_str)) {
                    bulk_ids.insert(b.clone(), id.to_owned());
                }
            } else {
                errors += 1;
                res["response"] = parsed;
            }
            out.push(res);
        }
        ok(
            200,
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkResponse"], "Operations": out}),
        )
    }
}

fn not_found(kind: Kind, id: &str) -> SimResponse {
    let what = match kind {
        Kind::User => "User",
        Kind::Group => "Group",
    };
    error(
        404,
        None,
        &format!("Specified resource (e.g., {what}) or endpoint does not exist. {id}"),
    )
}

/// The attributes a user keeps besides id, userName, password, groups and meta.
fn extra_attributes(obj: &Map<String, Value>) -> Map<String, Value> {
    obj.iter()
        .filter(|(k, _)| {
            !["id", "userName", "password", "groups", "meta", "schemas"].contains(&k.as_str())
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

type PatchOp = (String, Option<String>, Option<Value>);

fn patch_ops(body: &Value) -> Result<Vec<PatchOp>, SimResponse> {
    let Some(ops) = body.get("Operations").and_then(Value::as_array) else {
        return Err(error(
            400,
            Some("invalidSyntax"),
            "Request is unparsable, syntactically incorrect, or violates schema.",
        ));
    };
    let mut out = Vec::new();
    for o in ops {
        let op = o
            .get("op")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_lowercase();
        if !["add", "remove", "replace"].contains(&op.as_str()) {
            return Err(error(
                400,
                Some("invalidSyntax"),
                &format!("Unknown patch operation: {op}"),
            ));
        }
        let path = o.get("path").and_then(Value::as_str).map(str::to_owned);
        if op == "remove" && path.is_none() {
            return Err(error(
                400,
                Some("noTarget"),
                "No path value specified for remove operation",
            ));
        }
        out.push((op, path, o.get("value").cloned()));
    }
    Ok(out)
}

/// Applies one PATCH operation to a user's extra attributes (simple and dotted paths).
fn apply_patch(
    doc: &mut Map<String, Value>,
    op: &str,
    path: Option<&str>,
    value: Option<Value>,
) -> Result<(), SimResponse> {
    let Some(path) = path else {
        if let Some(Value::Object(m)) = value {
            for (k, v) in m {
                if k == "userName" || k == "password" {
                    continue;
                }
                match (op, doc.get_mut(&k), v) {
                    ("add", Some(Value::Array(a)), Value::Array(b)) => a.extend(b),
                    (_, _, v) => {
                        doc.insert(k, v);
                    }
                }
            }
        }
        return Ok(());
    };
    if path.contains('[') {
        // Filtered multi-valued paths: remove matching items, or replace them.
        let (attr, rest) = path.split_once('[').unwrap_or((path, ""));
        let (filter, sub) = rest.split_once(']').unwrap_or((rest, ""));
        let sub = sub.trim_start_matches('.');
        let key = doc.keys().find(|k| k.eq_ignore_ascii_case(attr)).cloned();
        let Some(key) = key else {
            return if op == "remove" {
                Ok(())
            } else {
                Err(error(400, Some("noTarget"), "No matching target"))
            };
        };
        if let Some(Value::Array(items)) = doc.get_mut(&key) {
            if op == "remove" && sub.is_empty() {
                items.retain(|i| !matches_filter(i, filter).unwrap_or(false));
            } else {
                for i in items.iter_mut() {
                    if matches_filter(i, filter).unwrap_or(false) {
                        match (sub.is_empty(), i.as_object_mut()) {
                            (false, Some(m)) => {
                                if op == "remove" {
                                    m.remove(sub);
                                } else if let Some(v) = value.clone() {
                                    m.insert(sub.to_owned(), v);
                                }
                            }
                            _ => {
                                if let Some(v) = value.clone() {
                                    *i = v;
                                }
                            }
                        }
                    }
                }
            }
        }
        return Ok(());
    }
    if let Some(rest) = path.strip_prefix(ENTERPRISE) {
        let rest = rest.trim_start_matches(':');
        if rest.is_empty() && op == "remove" {
            doc.remove(ENTERPRISE);
            return Ok(());
        }
        let ext = doc
            .entry(ENTERPRISE.to_owned())
            .or_insert_with(|| json!({}));
        if let Value::Object(m) = ext {
            apply_patch(m, op, (!rest.is_empty()).then_some(rest), value)?;
        }
        if doc
            .get(ENTERPRISE)
            .is_some_and(|e| e.as_object().is_some_and(Map::is_empty))
        {
            doc.remove(ENTERPRISE);
        }
        return Ok(());
    }
    let path = path
        .strip_prefix(USER_SCHEMA)
        .map(|p| p.trim_start_matches(':'))
        .unwrap_or(path);
    let (head, tail) = match path.split_once('.') {
        Some((h, t)) if !h.starts_with("urn:") => (h, Some(t)),
        _ => (path, None),
    };
    let key = doc
        .keys()
        .find(|k| k.eq_ignore_ascii_case(head))
        .cloned()
        .unwrap_or_else(|| head.to_owned());
    match (op, tail) {
        ("remove", None) => {
            doc.remove(&key);
        }
        ("remove", Some(t)) => {
            if let Some(Value::Object(m)) = doc.get_mut(&key) {
                m.remove(t);
            }
        }
        (_, Some(t)) => {
            let entry = doc.entry(key).or_insert_with(|| json!({}));
            if let (Value::Object(m), Some(v)) = (entry, value) {
                m.insert(t.to_owned(), v);
            }
        }
        ("add", None) => match (doc.get_mut(&key), value) {
            (Some(Value::Array(a)), Some(Value::Array(b))) => a.extend(b),
            (Some(Value::Object(a)), Some(Value::Object(b))) => a.extend(b),
            (_, Some(v)) => {
                doc.insert(key, v);
            }
            (_, None) => {}
        },
        (_, None) => {
            if let Some(v) = value {
                doc.insert(key, v);
            }
        }
    }
    Ok(())
}
