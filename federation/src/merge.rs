//! Three-way merges of objects as JSON, so that an undo or an update changes only what this
//! federation changed and nobody changed since.
//!
//! `base` is what this federation wrote (its post-image), `theirs` the object as it is now,
//! `ours` what this federation wants it to be (the pre-image for a restore, the desired object
//! for an update). Objects merge member by member, recursively; arrays and scalars are atomic.
//! A member both sides changed differently is a [`FieldConflict`].

use std::fmt;

use serde::Serialize;
use serde_json::Value;

/// A member that someone changed since this federation wrote it, and that this federation wants
/// to change too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldConflict {
    /// The member's path, e.g. `localAndOutBoundAuthenticationConfig.authenticationType`.
    pub field: String,
    /// What this federation wrote.
    pub written: Option<String>,
    /// What it is now.
    pub now: Option<String>,
    /// What this federation would set.
    pub wanted: Option<String>,
}

impl fmt::Display for FieldConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(absent)".into());
        write!(
            f,
            "{}: written {}, now {}, would set {}",
            self.field,
            show(&self.written),
            show(&self.now),
            show(&self.wanted)
        )
    }
}

fn show(v: Option<&Value>) -> Option<String> {
    v.filter(|v| !v.is_null()).map(|v| {
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        crate::text::clean(&text, 200)
    })
}

fn get<'a>(v: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    v.and_then(|v| v.get(key)).filter(|v| !v.is_null())
}

fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    fn norm(v: Option<&Value>) -> Option<&Value> {
        v.filter(|v| !v.is_null())
    }
    norm(a) == norm(b)
}

/// Merges `ours` into `theirs` relative to `base`; see the module docs.
pub fn merge3(base: &Value, theirs: &Value, ours: &Value) -> Result<Value, Vec<FieldConflict>> {
    let mut conflicts = Vec::new();
    let merged = merge_at("", Some(base), Some(theirs), Some(ours), &mut conflicts);
    if conflicts.is_empty() {
        Ok(merged.unwrap_or(Value::Null))
    } else {
        Err(conflicts)
    }
}

fn merge_at(
    path: &str,
    base: Option<&Value>,
    theirs: Option<&Value>,
    ours: Option<&Value>,
    conflicts: &mut Vec<FieldConflict>,
) -> Option<Value> {
    if same(ours, base) {
        return theirs.cloned();
    }
    if same(theirs, base) || same(ours, theirs) {
        return ours.cloned();
    }
    let objects = [base, theirs, ours]
        .iter()
        .all(|v| v.is_none_or(|v| v.is_object() || v.is_null()));
    if objects {
        let mut keys: Vec<&String> = Vec::new();
        for v in [base, theirs, ours].into_iter().flatten() {
            if let Value::Object(m) = v {
                for k in m.keys() {
                    if !keys.contains(&k) {
                        keys.push(k);
                    }
                }
            }
        }
        let mut out = serde_json::Map::new();
        for k in keys {
            let sub = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if let Some(v) = merge_at(&sub, get(base, k), get(theirs, k), get(ours, k), conflicts) {
                out.insert(k.clone(), v);
            }
        }
        return Some(Value::Object(out));
    }
    conflicts.push(FieldConflict {
        field: if path.is_empty() {
            "(whole object)".into()
        } else {
            path.to_owned()
        },
        written: show(base),
        now: show(theirs),
        wanted: show(ours),
    });
    theirs.cloned()
}

/// The members where `a` and `b` differ, as `(path, a, b)`, at most `max` of them.
pub fn differences(
    a: &Value,
    b: &Value,
    max: usize,
) -> Vec<(String, Option<String>, Option<String>)> {
    let mut out = Vec::new();
    diff_at("", Some(a), Some(b), &mut out, max);
    out
}

fn diff_at(
    path: &str,
    a: Option<&Value>,
    b: Option<&Value>,
    out: &mut Vec<(String, Option<String>, Option<String>)>,
    max: usize,
) {
    if out.len() >= max || same(a, b) {
        return;
    }
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let mut keys: Vec<&String> = x.keys().collect();
            for k in y.keys() {
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
            for k in keys {
                let sub = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                diff_at(&sub, get(a, k), get(b, k), out, max);
            }
        }
        _ => out.push((
            if path.is_empty() {
                "(whole object)".into()
            } else {
                path.to_owned()
            },
            show(a),
            show(b),
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn untouched_fields_are_restored_and_others_kept() {
        let pre = json!({"type": "default", "steps": [1], "name": "p", "note": "a"});
        let post = json!({"type": "federated", "steps": [2], "name": "p", "note": "a"});
        // Someone changed a field this federation did not change.
        let live = json!({"type": "federated", "steps": [2], "name": "p", "note": "b"});
        let merged = merge3(&post, &live, &pre).unwrap();
        assert_eq!(
            merged,
            json!({"type": "default", "steps": [1], "name": "p", "note": "b"})
        );
    }

    #[test]
    fn a_field_changed_by_both_is_a_conflict() {
        let pre = json!({"type": "default", "x": {"y": 1}});
        let post = json!({"type": "federated", "x": {"y": 2}});
        let live = json!({"type": "flow", "x": {"y": 3}});
        let conflicts = merge3(&post, &live, &pre).unwrap_err();
        assert_eq!(
            conflicts
                .iter()
                .map(|c| c.field.as_str())
                .collect::<Vec<_>>(),
            ["type", "x.y"]
        );
        assert_eq!(conflicts[0].now.as_deref(), Some("flow"));
    }

    #[test]
    fn absent_and_null_are_the_same() {
        let base = json!({"a": 1, "b": null});
        let theirs = json!({"a": 1});
        let ours = json!({"a": 2, "b": null});
        assert_eq!(merge3(&base, &theirs, &ours).unwrap(), json!({"a": 2}));
        assert!(differences(&base, &theirs, 10).is_empty());
    }
}
