//! Field tables: the fields of an object this federation manages, each with how to show it and
//! how to take it from the desired object. The plan's diff, the "already as desired" decision and
//! the merge of desired into live are all derived from one table, so they cannot disagree.

use super::{ChangedSince, StepFailure};
use crate::plan::{FieldDiff, SecretChange};

/// One managed field of `T`.
pub(crate) struct Field<T> {
    /// Its name, as the plan shows it.
    pub name: &'static str,
    /// Whether it holds a secret (compared, never shown).
    pub secret: bool,
    /// Its value, as compared and shown (`None` when absent).
    pub get: fn(&T) -> Option<String>,
    /// Sets it in the first object from the second.
    pub set: fn(&mut T, &T),
}

/// The managed fields where `live` differs from `desired`.
pub(crate) fn diff<T>(fields: &[Field<T>], live: &T, desired: &T) -> Vec<FieldDiff> {
    fields
        .iter()
        .filter_map(|f| {
            let (before, after) = ((f.get)(live), (f.get)(desired));
            (before != after).then(|| {
                if f.secret {
                    FieldDiff::secret(f.name, SecretChange::Changed)
                } else {
                    FieldDiff::value(f.name, before, after)
                }
            })
        })
        .collect()
}

/// The managed fields of a new object.
pub(crate) fn create<T>(fields: &[Field<T>], desired: &T) -> Vec<FieldDiff> {
    fields
        .iter()
        .filter_map(|f| {
            let after = (f.get)(desired)?;
            Some(if f.secret {
                FieldDiff::secret(f.name, SecretChange::Set)
            } else {
                FieldDiff::value(f.name, None, Some(after))
            })
        })
        .collect()
}

/// `live` with every managed field taken from `desired` (every other field kept as read).
pub(crate) fn merge<T: Clone>(fields: &[Field<T>], live: &T, desired: &T) -> T {
    let mut out = live.clone();
    for f in fields {
        (f.set)(&mut out, desired);
    }
    out
}

/// Whether `live` already has every managed field as desired (the diff is empty).
pub(crate) fn matches<T>(fields: &[Field<T>], live: &T, desired: &T) -> bool {
    diff(fields, live, desired).is_empty()
}

/// Sets the entry named `key` of a name-keyed list (properties) from `src`: replaced where it
/// is (the servers keep the order they were given, so a restore writes back the order read),
/// appended when new, removed when `src` has none; later duplicates of `key` are dropped.
pub(crate) fn set_named<P: Clone>(
    list: &mut Vec<P>,
    src: &[P],
    name: fn(&P) -> Option<&str>,
    key: &str,
) {
    let mut wanted = src.iter().find(|p| name(p) == Some(key)).cloned();
    let mut seen = false;
    list.retain_mut(|p| {
        if name(p) != Some(key) {
            return true;
        }
        let first = !seen;
        seen = true;
        match wanted.take().filter(|_| first) {
            Some(w) => {
                *p = w;
                true
            }
            None => false,
        }
    });
    if let Some(w) = wanted.filter(|_| !seen) {
        list.push(w);
    }
}

/// A list shown as one value: `a, b, c`.
pub(crate) fn list<I, S>(items: I) -> Option<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let v: Vec<String> = items.into_iter().map(|s| s.as_ref().to_owned()).collect();
    (!v.is_empty()).then(|| v.join(", "))
}

/// A flag shown as `true` / `false`, absent read as `false` (as the servers do).
pub(crate) fn flag(v: Option<bool>) -> Option<String> {
    Some(v.unwrap_or(false).to_string())
}

fn show(v: Option<String>) -> String {
    v.map_or_else(|| "(absent)".to_owned(), |v| crate::text::clean(&v, 200))
}

/// The three-way restore of an update's undo, field by field over the managed fields: a field
/// this federation did not change (`post` = `pre`) keeps its live value; one it changed and
/// nobody changed since (`live` = `post`) gets its `pre` value back; one someone changed since
/// refuses the restore with the fields (unless `force`, which takes `pre`). Secrets are never
/// changed by an update and not compared. Returns the object to write, `None` when nothing
/// needs writing. Without a `post` (an old record), the managed fields are restored plainly.
pub(crate) fn restore3<T: Clone>(
    fields: &[Field<T>],
    what: &str,
    pre: &T,
    post: Option<&T>,
    live: &T,
    force: bool,
) -> Result<Option<T>, StepFailure> {
    let mut out = live.clone();
    let mut changed = false;
    let mut conflicts = Vec::new();
    for f in fields.iter().filter(|f| !f.secret) {
        let (p, l) = ((f.get)(pre), (f.get)(live));
        if l == p {
            continue;
        }
        match post.map(|post| (f.get)(post)) {
            Some(q) if q == p => {}
            Some(q) if q == l || force => {
                (f.set)(&mut out, pre);
                changed = true;
            }
            Some(q) => conflicts.push(format!(
                "{}: written {}, now {}, would restore {}",
                f.name,
                show(q),
                show(l),
                show(p)
            )),
            None => {
                (f.set)(&mut out, pre);
                changed = true;
            }
        }
    }
    if !conflicts.is_empty() {
        return Err(StepFailure::refused(ChangedSince {
            what: what.to_owned(),
            fields: conflicts,
        }));
    }
    Ok(changed.then_some(out))
}

/// Refuses to delete (or overwrite) an object this federation wrote as `post` when someone
/// changed a managed field since (unless `force`).
pub(crate) fn unchanged_since<T>(
    fields: &[Field<T>],
    what: &str,
    post: Option<&T>,
    live: &T,
    force: bool,
) -> Result<(), StepFailure> {
    let Some(post) = post.filter(|_| !force) else {
        return Ok(());
    };
    let changed: Vec<String> = fields
        .iter()
        .filter(|f| !f.secret)
        .filter_map(|f| {
            let (q, l) = ((f.get)(post), (f.get)(live));
            (q != l).then(|| format!("{}: written {}, now {}", f.name, show(q), show(l)))
        })
        .collect();
    if changed.is_empty() {
        Ok(())
    } else {
        Err(StepFailure::refused(ChangedSince {
            what: what.to_owned(),
            fields: changed,
        }))
    }
}

/// The fields someone changed since `post` that `desired` would change too: a conflict for an
/// update of an object of this federation's (unless forced).
pub(crate) fn changed_since<T: Clone>(
    fields: &[Field<T>],
    post: &T,
    live: &T,
    desired: &T,
) -> Vec<String> {
    fields
        .iter()
        .filter(|f| !f.secret)
        .filter_map(|f| {
            let (q, l, d) = ((f.get)(post), (f.get)(live), (f.get)(desired));
            (q != l && d != l).then(|| {
                format!(
                    "{}: written {}, now {}, would set {}",
                    f.name,
                    show(q),
                    show(l),
                    show(d)
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    struct P(&'static str, &'static str);

    fn name(p: &P) -> Option<&str> {
        Some(p.0)
    }

    #[test]
    fn set_named_keeps_the_order_read() {
        let mut l = vec![P("a", "1"), P("b", "2"), P("c", "3")];
        set_named(&mut l, &[P("b", "9")], name, "b");
        assert_eq!(l, [P("a", "1"), P("b", "9"), P("c", "3")]);
        set_named(&mut l, &[], name, "b");
        assert_eq!(l, [P("a", "1"), P("c", "3")]);
        set_named(&mut l, &[P("d", "4")], name, "d");
        assert_eq!(l, [P("a", "1"), P("c", "3"), P("d", "4")]);
        let mut dup = vec![P("a", "1"), P("a", "2")];
        set_named(&mut dup, &[P("a", "3")], name, "a");
        assert_eq!(dup, [P("a", "3")]);
    }
}
