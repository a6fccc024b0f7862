//! What a simulated server stores, per tenant, and the snapshots tests compare.
//!
//! Service providers, identity providers and OAuth apps are kept as the element trees the SOAP
//! services received (normalised to WSDL order); users and roles as small records. A
//! [`Snapshot`] is a plain copy of all of it: serialisable, comparable, with a readable diff.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::xml::Element;

/// The super tenant's domain.
pub const SUPER_TENANT: &str = "carbon.super";

/// A user of a tenant's user store. Equality ignores `modified`, so a change that was undone
/// compares equal to the original (clean-slate checks).
#[derive(Debug, Clone, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    /// SHA-256 of the password, hex (the password itself is never stored or shown).
    pub password_sha256: String,
    /// Claim URI -> value (`http://wso2.org/claims/emailaddress`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claims: BTreeMap<String, String>,
    /// SCIM2 id.
    pub scim_id: String,
    /// Extra SCIM2 attributes the user was created with (names, emails, ...), as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scim: Option<serde_json::Value>,
    /// Creation time (RFC 3339), as SCIM2 `meta.created`.
    pub created: String,
    /// Last change (RFC 3339), as SCIM2 `meta.lastModified`.
    pub modified: String,
}

/// A role (SCIM2 group in IS 5.9). Equality ignores `modified`.
#[derive(Debug, Clone, Eq, Serialize, Deserialize)]
pub struct RoleRecord {
    /// The audience of an IS 7 role (`/scim2/v2/Roles`): `("application", app id)` or
    /// `("organization", org id)`; `None` for roles made any other way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<(String, String)>,
    /// Groups (user-store roles) the role is assigned to (IS 5.11+ SCIM2 Roles).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub groups: BTreeSet<String>,
    /// Members (user names). `Internal/everyone` holds everybody implicitly and lists nobody.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub users: BTreeSet<String>,
    /// Permission resource ids (`/permission/admin/login`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<String>,
    /// SCIM2 id.
    pub scim_id: String,
    /// Creation time (RFC 3339).
    pub created: String,
    /// Last change (RFC 3339).
    pub modified: String,
}

impl PartialEq for UserRecord {
    fn eq(&self, o: &Self) -> bool {
        self.password_sha256 == o.password_sha256
            && self.claims == o.claims
            && self.scim_id == o.scim_id
            && self.scim == o.scim
            && self.created == o.created
    }
}

impl PartialEq for RoleRecord {
    fn eq(&self, o: &Self) -> bool {
        self.users == o.users
            && self.audience == o.audience
            && self.groups == o.groups
            && self.permissions == o.permissions
            && self.scim_id == o.scim_id
            && self.created == o.created
    }
}

/// Everything one tenant holds.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TenantState {
    /// Users by name.
    pub users: BTreeMap<String, UserRecord>,
    /// Roles by full name (`admin`, `Internal/subscriber`, `Application/x`).
    pub roles: BTreeMap<String, RoleRecord>,
    /// Service providers by name (the `ServiceProvider` tree).
    pub applications: BTreeMap<String, Element>,
    /// Identity providers by name (the `IdentityProvider` tree).
    pub identity_providers: BTreeMap<String, Element>,
    /// OAuth apps by consumer key (the `OAuthConsumerAppDTO` tree).
    pub oauth_apps: BTreeMap<String, Element>,
    /// APIM's `AM_SYSTEM_APPS`: portal client name -> consumer key, kept once a portal registered
    /// itself. A portal whose row exists never registers again, even if its SP was deleted.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub system_apps: BTreeMap<String, String>,
    /// IS's OIDC scopes by name (`openid`, `profile`, `groups`, ...): which OIDC claims each
    /// releases. Seeded per IS release; changed by `PUT /api/server/v1/oidc/scopes/{id}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub oidc_scopes: BTreeMap<String, OidcScope>,
}

/// One OIDC scope of IS.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OidcScope {
    /// Display name.
    #[serde(rename = "displayName")]
    pub display_name: String,
    /// Description, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The OIDC claim names the scope releases (`groups`, `email`, ...).
    #[serde(default)]
    pub claims: Vec<String>,
}

impl TenantState {
    /// Number of stored objects of every kind.
    pub fn object_count(&self) -> usize {
        self.users.len()
            + self.roles.len()
            + self.applications.len()
            + self.identity_providers.len()
            + self.oauth_apps.len()
    }

    /// Roles of `user`, `Internal/everyone` included, sorted (held directly or through a group
    /// the role is assigned to).
    pub fn roles_of(&self, user: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .roles
            .keys()
            .filter(|name| self.holds(user, name))
            .cloned()
            .collect();
        out.sort();
        out
    }

    /// Whether `user` holds `role`: as a member, through one of the role's groups, or because it
    /// is `Internal/everyone`.
    pub fn holds(&self, user: &str, role: &str) -> bool {
        role == "Internal/everyone"
            || self.roles.get(role).is_some_and(|r| {
                r.users.contains(user)
                    || r.groups
                        .iter()
                        .any(|g| self.roles.get(g).is_some_and(|gr| gr.users.contains(user)))
            })
    }

    /// The OAuth app whose `applicationName` is `name`.
    pub fn oauth_app_by_name(&self, name: &str) -> Option<(&String, &Element)> {
        self.oauth_apps
            .iter()
            .find(|(_, a)| a.text_of("applicationName") == Some(name))
    }
}

/// A copy of one server's stored objects, for clean-slate checks.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Snapshot {
    /// `"is"` or `"apim"`.
    pub server: String,
    /// Tenant domain -> what it holds.
    pub tenants: BTreeMap<String, TenantState>,
}

impl Snapshot {
    /// Total number of objects.
    pub fn object_count(&self) -> usize {
        self.tenants.values().map(TenantState::object_count).sum()
    }

    /// Readable differences from `self` (before) to `after`; empty when equal.
    pub fn diff(&self, after: &Snapshot) -> SnapshotDiff {
        self.diff_with(after, false)
    }

    /// As [`diff`](Self::diff), but as the servers answer rather than as the simulator stores:
    /// a field of an application, identity provider or OAuth app holding `false` or `0` counts as
    /// absent, since Axis2 answers an absent primitive bean property with that default (an object
    /// read and written back as read then stores `discoverable=false` where it stored nothing,
    /// and no answer differs).
    pub fn diff_as_answered(&self, after: &Snapshot) -> SnapshotDiff {
        self.diff_with(after, true)
    }

    fn diff_with(&self, after: &Snapshot, answered: bool) -> SnapshotDiff {
        let mut lines = Vec::new();
        if self == after {
            return SnapshotDiff { lines };
        }
        let flatten = |e: &Element| {
            let mut l = e.flatten();
            if answered {
                l.retain(|l| !(l.ends_with(" = \"false\"") || l.ends_with(" = \"0\"")));
            }
            l
        };
        let tenants: BTreeSet<&String> = self.tenants.keys().chain(after.tenants.keys()).collect();
        let empty = TenantState::default();
        for t in tenants {
            let a = self.tenants.get(t).unwrap_or(&empty);
            let b = after.tenants.get(t).unwrap_or(&empty);
            if a == b {
                continue;
            }
            let at = format!("{}:{}", self.server, t);
            diff_map(&mut lines, &at, "user", &a.users, &b.users, |u| {
                serde_json::to_string(u)
                    .unwrap_or_default()
                    .split(",\"")
                    .map(str::to_owned)
                    .collect()
            });
            diff_map(&mut lines, &at, "role", &a.roles, &b.roles, |r| {
                serde_json::to_string(r)
                    .unwrap_or_default()
                    .split(",\"")
                    .map(str::to_owned)
                    .collect()
            });
            diff_map(
                &mut lines,
                &at,
                "application",
                &a.applications,
                &b.applications,
                flatten,
            );
            diff_map(
                &mut lines,
                &at,
                "identity provider",
                &a.identity_providers,
                &b.identity_providers,
                flatten,
            );
            diff_map(
                &mut lines,
                &at,
                "oauth app",
                &a.oauth_apps,
                &b.oauth_apps,
                flatten,
            );
        }
        SnapshotDiff { lines }
    }
}

fn diff_map<V: PartialEq>(
    out: &mut Vec<String>,
    at: &str,
    kind: &str,
    a: &BTreeMap<String, V>,
    b: &BTreeMap<String, V>,
    flat: impl Fn(&V) -> Vec<String>,
) {
    for (k, v) in a {
        match b.get(k) {
            None => out.push(format!("- {at} {kind} {k:?} removed")),
            Some(w) if w != v => {
                let fa = flat(v);
                let fb = flat(w);
                if fa == fb {
                    continue;
                }
                out.push(format!("~ {at} {kind} {k:?} changed:"));
                let sa: BTreeSet<&String> = fa.iter().collect();
                let sb: BTreeSet<&String> = fb.iter().collect();
                let mut shown = 0;
                for l in fa.iter().filter(|l| !sb.contains(l)) {
                    if shown < 40 {
                        out.push(format!("    - {l}"));
                    }
                    shown += 1;
                }
                for l in fb.iter().filter(|l| !sa.contains(l)) {
                    if shown < 40 {
                        out.push(format!("    + {l}"));
                    }
                    shown += 1;
                }
                if shown > 40 {
                    out.push(format!("    ... {} more lines", shown - 40));
                }
            }
            _ => {}
        }
    }
    for k in b.keys().filter(|k| !a.contains_key(*k)) {
        out.push(format!("+ {at} {kind} {k:?} added"));
    }
}

/// The differences between two snapshots, one line per change (`-` removed, `+` added, `~`
/// changed with the differing fields below it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SnapshotDiff {
    /// The lines.
    pub lines: Vec<String>,
}

impl SnapshotDiff {
    /// True when the snapshots were equal.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

impl fmt::Display for SnapshotDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.lines.is_empty() {
            return f.write_str("(no differences)");
        }
        for l in &self.lines {
            writeln!(f, "{l}")?;
        }
        Ok(())
    }
}

/// Both servers' snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SandboxSnapshot {
    /// The simulated Identity Server.
    pub is: Snapshot,
    /// The simulated API Manager.
    pub apim: Snapshot,
}

impl SandboxSnapshot {
    /// Readable differences from `self` (before) to `after`.
    pub fn diff(&self, after: &SandboxSnapshot) -> SnapshotDiff {
        let mut d = self.is.diff(&after.is);
        d.lines.extend(self.apim.diff(&after.apim).lines);
        d
    }

    /// Panics with the readable diff unless `after` equals `self`.
    #[track_caller]
    pub fn assert_same(&self, after: &SandboxSnapshot) {
        let d = self.diff(after);
        assert!(d.is_empty(), "simulated servers changed:\n{d}");
    }

    /// Readable differences as the servers answer (see [`Snapshot::diff_as_answered`]).
    pub fn diff_as_answered(&self, after: &SandboxSnapshot) -> SnapshotDiff {
        let mut d = self.is.diff_as_answered(&after.is);
        d.lines
            .extend(self.apim.diff_as_answered(&after.apim).lines);
        d
    }

    /// Panics with the readable diff unless `after` answers as `self` does (see
    /// [`Snapshot::diff_as_answered`]).
    #[track_caller]
    pub fn assert_same_as_answered(&self, after: &SandboxSnapshot) {
        let d = self.diff_as_answered(after);
        assert!(d.is_empty(), "simulated servers answer differently:\n{d}");
    }

    /// Total number of objects on both servers.
    pub fn object_count(&self) -> usize {
        self.is.object_count() + self.apim.object_count()
    }
}

/// SHA-256 of `s`, lower-case hex.
pub(crate) fn sha256_hex(s: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, s.as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Now as RFC 3339 (UTC, seconds).
pub(crate) fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc3339(secs)
}

/// Seconds since the epoch as RFC 3339 (UTC).
pub(crate) fn rfc3339(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_of_known_instant() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn diff_names_the_changed_field() {
        let mut a = Snapshot {
            server: "is".into(),
            ..Snapshot::default()
        };
        let t = a.tenants.entry(SUPER_TENANT.into()).or_default();
        t.applications.insert(
            "x".into(),
            Element::new("", "serviceProvider").with_leaf("description", "one"),
        );
        let mut b = a.clone();
        if let Some(t) = b.tenants.get_mut(SUPER_TENANT) {
            t.applications.insert(
                "x".into(),
                Element::new("", "serviceProvider").with_leaf("description", "two"),
            );
        }
        let d = a.diff(&b).to_string();
        assert!(d.contains("description[0] = \"two\""), "{d}");
    }
}
