//! SCIM2 roles of IS: `/scim2/Roles` (IS 5.11+, the internal roles), `/scim2/v2/Roles` (IS 7.0+,
//! roles with an audience: the organization or one application) and `/scim2/v3/Roles` (IS 7.2+,
//! served like v2). Roles are the same records the user store and the token endpoint use:
//! `displayName` `x` is the role `Internal/x`.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::scim2::{error, matches_filter, ok, split};
use crate::server::{AuthProblem, Family, Inner, Route, ServerKind, SimRequest, SimResponse, lock};
use crate::state::{RoleRecord, TenantState, now_rfc3339};

const ROLE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:2.0:Role";
const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// Which Roles endpoint: 1, 2 or 3.
fn api_of(segs: &[&str]) -> Option<(u8, usize)> {
    match segs {
        ["Roles", ..] => Some((1, 1)),
        ["v2", "Roles", ..] => Some((2, 2)),
        ["v3", "Roles", ..] => Some((3, 2)),
        _ => None,
    }
}

/// Classifies SCIM2 role requests the release serves (others fall through to SCIM2's 404).
pub(crate) fn route(inner: &Inner, req: &SimRequest) -> Option<Route> {
    if inner.kind != ServerKind::Is {
        return None;
    }
    let (_, rest) = split(&req.path)?;
    let segs: Vec<&str> = rest.trim_matches('/').split('/').collect();
    let (api, at) = api_of(&segs)?;
    let v = inner.profile.is;
    let served = match api {
        1 => v.scim_roles_v1(),
        2 => v.scim_roles_v2(),
        _ => v.scim_roles_v3(),
    };
    if !served {
        return None;
    }
    let m = req.method.as_str();
    let with_id = segs.len() > at;
    let action = match (with_id, m) {
        (false, "GET") => "scim2.roles.list",
        (false, "POST") => "scim2.roles.create",
        (true, "GET") => "scim2.roles.get",
        (true, "PUT") => "scim2.roles.replace",
        (true, "PATCH") => "scim2.roles.patch",
        (true, "DELETE") => "scim2.roles.delete",
        _ => "scim2.roles.unsupported",
    };
    Some(Route {
        action: format!("{action}.v{api}"),
        mutating: matches!(m, "POST" | "PUT" | "PATCH" | "DELETE")
            && !action.ends_with("unsupported"),
        family: Family::Json,
    })
}

/// Handles one SCIM2 role request.
pub(crate) fn handle(inner: &Inner, req: &SimRequest, action: &str) -> SimResponse {
    let Some((path_tenant, rest)) = split(&req.path) else {
        return error(404, None, "Specified resource or endpoint does not exist.");
    };
    let principal = match inner.principal(req) {
        Ok(p) => p,
        Err(AuthProblem::Missing | AuthProblem::BadCredentials) => {
            return error(401, None, "Authentication failed for this resource.");
        }
    };
    if path_tenant.as_ref().is_some_and(|t| *t != principal.tenant) {
        return error(401, None, "Authentication failed for this resource.");
    }
    if !inner.is_admin(&principal) {
        return error(
            403,
            None,
            "Operation is not permitted. You do not have permissions to make this request.",
        );
    }
    let segs: Vec<&str> = rest.trim_matches('/').split('/').collect();
    let Some((api, at)) = api_of(&segs) else {
        return error(404, None, "Specified resource or endpoint does not exist.");
    };
    let id = segs.get(at).copied().unwrap_or("");
    let base = format!(
        "{}{}/scim2{}/Roles",
        inner.base_url(),
        path_tenant.map(|t| format!("/t/{t}")).unwrap_or_default(),
        if api == 1 {
            String::new()
        } else {
            format!("/v{api}")
        }
    );
    let body: Value = if req.body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(_) => {
                return error(
                    400,
                    Some("invalidSyntax"),
                    "Request is unparsable, syntactically incorrect, or violates schema.",
                );
            }
        }
    };
    let mut core = lock(&inner.core);
    let role_id = core.uuid();
    let t = core.tenant_mut(&principal.tenant);
    let ctx = Ctx {
        api,
        base: &base,
        org: &principal.tenant,
    };
    let kind = action.rsplit_once('.').map(|(a, _)| a).unwrap_or(action);
    match kind {
        "scim2.roles.list" => ctx.list(t, &req.query_params()),
        "scim2.roles.create" => ctx.create(t, &body, role_id),
        "scim2.roles.get" => match find(t, id) {
            Some(name) => ok(200, &ctx.json(t, &name)),
            None => missing(id),
        },
        "scim2.roles.replace" => ctx.replace(t, id, &body),
        "scim2.roles.patch" => ctx.patch(t, id, &body),
        "scim2.roles.delete" => match find(t, id) {
            Some(name) if name == "Internal/everyone" || name == "Internal/admin" => {
                error(400, None, &format!("Cannot delete the role: {name}"))
            }
            Some(name) => {
                t.roles.remove(&name);
                SimResponse::empty(204)
            }
            None => missing(id),
        },
        _ => error(
            405,
            None,
            "The requested operation is not supported on this endpoint.",
        ),
    }
}

fn missing(id: &str) -> SimResponse {
    error(
        404,
        None,
        &format!("A role with the id: {id} does not exist."),
    )
}

fn find(t: &TenantState, id: &str) -> Option<String> {
    t.roles
        .iter()
        .find(|(n, r)| r.scim_id == id && is_role(n))
        .map(|(n, _)| n.clone())
}

/// Internal roles are SCIM2 roles (not `Internal/system`).
fn is_role(name: &str) -> bool {
    name.starts_with("Internal/") && name != "Internal/system"
}

struct Ctx<'a> {
    api: u8,
    base: &'a str,
    org: &'a str,
}

fn values(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| match x {
                    Value::String(s) => Some(s.clone()),
                    other => other
                        .get("value")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Ctx<'_> {
    fn json(&self, t: &TenantState, name: &str) -> Value {
        let Some(r) = t.roles.get(name) else {
            return Value::Null;
        };
        let users: Vec<Value> = r
            .users
            .iter()
            .filter_map(|u| {
                t.users
                    .get(u)
                    .map(|rec| json!({"value": rec.scim_id, "display": u}))
            })
            .collect();
        let groups: Vec<Value> = r
            .groups
            .iter()
            .filter_map(|g| {
                t.roles
                    .get(g)
                    .map(|rec| json!({"value": rec.scim_id, "display": g}))
            })
            .collect();
        let mut v = json!({
            "schemas": [ROLE_SCHEMA],
            "id": r.scim_id,
            "displayName": name.trim_start_matches("Internal/"),
            "meta": {"location": format!("{}/{}", self.base, r.scim_id), "resourceType": "Role", "created": r.created, "lastModified": r.modified},
        });
        if !users.is_empty() {
            v["users"] = Value::Array(users);
        }
        if !groups.is_empty() {
            v["groups"] = Value::Array(groups);
        }
        if self.api >= 2 {
            let (ty, value) = r
                .audience
                .clone()
                .unwrap_or_else(|| ("organization".into(), self.org.to_owned()));
            v["audience"] = json!({"type": ty, "value": value, "display": if ty == "organization" { self.org.to_owned() } else { value.clone() }});
            v["permissions"] = Value::Array(
                r.permissions
                    .iter()
                    .map(|p| json!({"value": p, "display": p}))
                    .collect(),
            );
        } else if !r.permissions.is_empty() {
            v["permissions"] = json!(r.permissions);
        }
        v
    }

    fn list(&self, t: &TenantState, q: &[(String, String)]) -> SimResponse {
        let filter = q
            .iter()
            .find(|(k, _)| k == "filter")
            .map(|(_, v)| v.clone());
        let mut hits = Vec::new();
        for (n, _) in t.roles.iter().filter(|(n, _)| is_role(n)) {
            let v = self.json(t, n);
            match &filter {
                Some(f) => match matches_filter(&v, f) {
                    Ok(true) => hits.push(v),
                    Ok(false) => {}
                    Err(e) => return error(400, Some("invalidFilter"), &e),
                },
                None => hits.push(v),
            }
        }
        ok(
            200,
            &json!({"schemas": [LIST_SCHEMA], "totalResults": hits.len(), "startIndex": 1, "itemsPerPage": hits.len(), "Resources": hits}),
        )
    }

    /// Members: user ids -> user names, group ids -> group (user-store role) names.
    fn members(
        t: &TenantState,
        body: &Value,
    ) -> Result<(BTreeSet<String>, BTreeSet<String>), SimResponse> {
        let mut users = BTreeSet::new();
        for id in values(body.get("users")) {
            match t.users.iter().find(|(_, u)| u.scim_id == id) {
                Some((n, _)) => {
                    users.insert(n.clone());
                }
                None => {
                    return Err(error(
                        400,
                        Some("invalidValue"),
                        &format!("User id: {id} does not exist."),
                    ));
                }
            }
        }
        let mut groups = BTreeSet::new();
        for id in values(body.get("groups")) {
            match t
                .roles
                .iter()
                .find(|(n, r)| r.scim_id == id && !n.contains('/'))
            {
                Some((n, _)) => {
                    groups.insert(n.clone());
                }
                None => {
                    return Err(error(
                        400,
                        Some("invalidValue"),
                        &format!("Group id: {id} does not exist."),
                    ));
                }
            }
        }
        Ok((users, groups))
    }

    fn create(&self, t: &mut TenantState, body: &Value, id: String) -> SimResponse {
        let Some(display) = body.get("displayName").and_then(Value::as_str) else {
            return error(
                400,
                Some("invalidValue"),
                "Required attribute displayName is missing in the SCIM Object.",
            );
        };
        let name = format!("Internal/{}", display.trim_start_matches("Internal/"));
        if t.roles.contains_key(&name) {
            return error(
                409,
                Some("uniqueness"),
                &format!("Role with name: {display} already exists in the system."),
            );
        }
        let audience = if self.api >= 2 {
            match body.get("audience") {
                Some(a) => {
                    let ty = a
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("organization");
                    let ty = ty.to_ascii_lowercase();
                    if ty != "application" && ty != "organization" {
                        return error(
                            400,
                            Some("invalidValue"),
                            &format!("Invalid audience type: {ty}"),
                        );
                    }
                    let value = a.get("value").and_then(Value::as_str).unwrap_or(self.org);
                    (ty == "application").then(|| (ty, value.to_owned()))
                }
                None => None,
            }
        } else {
            None
        };
        let (users, groups) = match Self::members(t, body) {
            Ok(m) => m,
            Err(r) => return r,
        };
        let now = now_rfc3339();
        t.roles.insert(
            name.clone(),
            RoleRecord {
                audience,
                groups,
                users,
                permissions: values(body.get("permissions")),
                scim_id: id,
                created: now.clone(),
                modified: now,
            },
        );
        let v = self.json(t, &name);
        ok(201, &v).header("Location", v["meta"]["location"].as_str().unwrap_or(""))
    }

    fn replace(&self, t: &mut TenantState, id: &str, body: &Value) -> SimResponse {
        let Some(name) = find(t, id) else {
            return missing(id);
        };
        let (users, groups) = match Self::members(t, body) {
            Ok(m) => m,
            Err(r) => return r,
        };
        if let Some(r) = t.roles.get_mut(&name) {
            r.users = users;
            r.groups = groups;
            r.permissions = values(body.get("permissions"));
            r.modified = now_rfc3339();
        }
        ok(200, &self.json(t, &name))
    }

    fn patch(&self, t: &mut TenantState, id: &str, body: &Value) -> SimResponse {
        let Some(name) = find(t, id) else {
            return missing(id);
        };
        let Some(ops) = body.get("Operations").and_then(Value::as_array) else {
            return error(
                400,
                Some("invalidSyntax"),
                "Request is unparsable, syntactically incorrect, or violates schema.",
            );
        };
        for o in ops {
            let op = o
                .get("op")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_ascii_lowercase();
            let path = o.get("path").and_then(Value::as_str).unwrap_or("");
            let value = o.get("value").cloned().unwrap_or(Value::Null);
            // `{"op":"add","value":{"users":[...]}}` or `{"op":"add","path":"users","value":[...]}`.
            let target = if path.is_empty() {
                value.clone()
            } else {
                json!({ path.split('[').next().unwrap_or(path): value })
            };
            let (users, groups) = match Self::members(t, &target) {
                Ok(m) => m,
                Err(r) => return r,
            };
            let perms = values(target.get("permissions"));
            let Some(r) = t.roles.get_mut(&name) else {
                return missing(id);
            };
            match op.as_str() {
                "add" => {
                    r.users.extend(users);
                    r.groups.extend(groups);
                    r.permissions.extend(perms);
                }
                "remove" => {
                    r.users.retain(|u| !users.contains(u));
                    r.groups.retain(|g| !groups.contains(g));
                    r.permissions.retain(|p| !perms.contains(p));
                }
                "replace" => {
                    if target.get("users").is_some() {
                        r.users = users;
                    }
                    if target.get("groups").is_some() {
                        r.groups = groups;
                    }
                    if target.get("permissions").is_some() {
                        r.permissions = perms;
                    }
                }
                _ => {
                    return error(
                        400,
                        Some("invalidSyntax"),
                        &format!("Unknown patch operation: {op}"),
                    );
                }
            }
            r.modified = now_rfc3339();
        }
        ok(200, &self.json(t, &name))
    }
}
