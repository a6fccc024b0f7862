//! The plan: a read-only diff of the desired state against the live servers, per object:
//! create, update (with its field diff), adopt, or no change. Secrets appear only as
//! set / changed / unchanged.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::engine::{Server, StepId};

/// What the apply will do to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanAction {
    /// The object does not exist: it will be created (and deleted by undo).
    Create,
    /// The object exists and differs: it will be changed (undo restores it).
    Update,
    /// The object exists with the desired content but was not made by this federation: it is
    /// used as it is and never deleted.
    Adopt,
    /// The object exists as desired: nothing to do.
    NoChange,
}

impl PlanAction {
    /// The one-character sign used in the text form.
    pub fn sign(self) -> char {
        match self {
            Self::Create => '+',
            Self::Update => '~',
            Self::Adopt => '&',
            Self::NoChange => '=',
        }
    }

    /// Whether the apply will send a write for it.
    pub fn is_mutating(self) -> bool {
        matches!(self, Self::Create | Self::Update)
    }
}

/// The kind of a federated object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    /// A role on IS.
    IsRole,
    /// A user on IS.
    IsUser,
    /// The application on IS: its service provider and OAuth/OIDC client.
    Application,
    /// An OIDC scope on IS (which claims it releases).
    OidcScope,
    /// The identity provider on APIM.
    IdentityProvider,
    /// A portal's service provider on APIM, brought into being by its login endpoints.
    PortalRegistration,
    /// A portal's login on APIM.
    Portal,
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::IsRole => "role",
            Self::IsUser => "user",
            Self::Application => "application",
            Self::OidcScope => "OIDC scope",
            Self::IdentityProvider => "identity provider",
            Self::PortalRegistration => "portal registration",
            Self::Portal => "portal login",
        })
    }
}

/// How a secret changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretChange {
    /// A new secret is set (given in the settings).
    Set,
    /// A new secret is generated at apply (never shown, never stored in the plan).
    Generated,
    /// The secret changes.
    Changed,
    /// The secret stays as it is.
    Unchanged,
}

/// One field that changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldDiff {
    /// The field, e.g. `localAndOutBoundAuthenticationConfig.authenticationType`.
    pub field: String,
    /// The value now (`None` when absent). Never a secret.
    pub before: Option<String>,
    /// The value after the apply (`None` when removed). Never a secret.
    pub after: Option<String>,
    /// For secrets: how it changes (and `before`/`after` are `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretChange>,
}

impl FieldDiff {
    /// A plain field change.
    pub fn value(field: impl Into<String>, before: Option<String>, after: Option<String>) -> Self {
        Self {
            field: field.into(),
            before,
            after,
            secret: None,
        }
    }

    /// A secret field change.
    pub fn secret(field: impl Into<String>, change: SecretChange) -> Self {
        Self {
            field: field.into(),
            before: None,
            after: None,
            secret: Some(change),
        }
    }
}

/// What the apply will do to one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedChange {
    /// The step that makes the change.
    pub step: StepId,
    /// The server.
    pub server: Server,
    /// What kind of object.
    pub kind: ObjectKind,
    /// Its name.
    pub name: String,
    /// The action.
    pub action: PlanAction,
    /// Field by field, for updates (and the notable fields of creates).
    pub diff: Vec<FieldDiff>,
    /// Steps that must finish first.
    pub depends_on: Vec<StepId>,
    /// A digest of the object as read while planning (no secrets), to refuse a stale plan.
    pub observed: Option<String>,
}

/// The plan of a federation: every object, what will happen to it, and in which order; and
/// every value the apply will send that is not in the settings (the client id, the journal's
/// ownership instance). A saved plan applies exactly these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The ownership marker.
    pub marker: String,
    /// The journal's ownership instance: objects created carry
    /// `[managed-by:{marker}:{instance}]`.
    pub instance: String,
    /// IS's base URL.
    pub is_url: String,
    /// APIM's base URL.
    pub apim_url: String,
    /// The OAuth client id the apply registers (or the existing one).
    pub client_id: String,
    /// A digest of the settings the plan was made from.
    pub fingerprint: String,
    /// The servers' releases the plan was made for, and how they became known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub releases: Option<String>,
    /// Things worth knowing before applying (plain http, an unfinished run in the journal).
    #[serde(default)]
    pub warnings: Vec<String>,
    /// The changes, in dependency order.
    pub changes: Vec<PlannedChange>,
}

impl Plan {
    /// Whether the apply would change nothing.
    pub fn is_empty(&self) -> bool {
        !self.changes.iter().any(|c| c.action.is_mutating())
    }

    /// How many objects get each action.
    pub fn counts(&self) -> PlanCounts {
        let mut c = PlanCounts::default();
        for change in &self.changes {
            match change.action {
                PlanAction::Create => c.create += 1,
                PlanAction::Update => c.update += 1,
                PlanAction::Adopt => c.adopt += 1,
                PlanAction::NoChange => c.unchanged += 1,
            }
        }
        c
    }

    /// The change made by `step`.
    pub fn change(&self, step: &StepId) -> Option<&PlannedChange> {
        self.changes.iter().find(|c| &c.step == step)
    }

    /// The longest chain of dependent mutating steps, in steps (the critical path when each step
    /// is one round trip per request).
    pub fn critical_path(&self) -> Vec<StepId> {
        let mut best: std::collections::HashMap<&StepId, Vec<StepId>> =
            std::collections::HashMap::new();
        for c in &self.changes {
            let mut longest: Vec<StepId> = Vec::new();
            for d in &c.depends_on {
                if let Some(p) = best.get(d)
                    && p.len() > longest.len()
                {
                    longest = p.clone();
                }
            }
            if c.action.is_mutating() {
                longest.push(c.step.clone());
            }
            best.insert(&c.step, longest);
        }
        best.into_values().max_by_key(Vec::len).unwrap_or_default()
    }
}

/// Counts of planned actions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PlanCounts {
    /// Objects to create.
    pub create: usize,
    /// Objects to update.
    pub update: usize,
    /// Objects to adopt.
    pub adopt: usize,
    /// Objects unchanged.
    pub unchanged: usize,
}

fn show(v: &Option<String>) -> String {
    match v {
        Some(s) => format!("{s:?}"),
        None => "(none)".to_owned(),
    }
}

impl fmt::Display for Plan {
    /// Like a Terraform plan: one line per object with its sign, then its field changes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Plan for federation {:?} (instance {})",
            self.marker, self.instance
        )?;
        writeln!(f, "  IS:   {}", self.is_url)?;
        writeln!(f, "  APIM: {}", self.apim_url)?;
        if let Some(r) = &self.releases {
            writeln!(f, "  releases: {r}")?;
        }
        for w in &self.warnings {
            writeln!(f, "  WARNING: {w}")?;
        }
        writeln!(f)?;
        for c in &self.changes {
            let verb = match c.action {
                PlanAction::Create if c.kind == ObjectKind::PortalRegistration => {
                    "bring into being (call the portal's login endpoints, as a first visit does)"
                }
                PlanAction::Create => "create",
                PlanAction::Update => "update",
                PlanAction::Adopt => "adopt (someone else's, as desired: used, never deleted)",
                PlanAction::NoChange if c.kind == ObjectKind::Portal => "no change (switched)",
                PlanAction::NoChange => "no change (this federation's)",
            };
            writeln!(
                f,
                "  {} {} {} {:?}: {verb}",
                c.action.sign(),
                c.server,
                c.kind,
                c.name
            )?;
            for d in &c.diff {
                match d.secret {
                    Some(change) => {
                        let what = match change {
                            SecretChange::Set => "(set)",
                            SecretChange::Generated => "(generated at apply)",
                            SecretChange::Changed => "(changed)",
                            SecretChange::Unchanged => "(unchanged)",
                        };
                        writeln!(f, "      {}: {what}", d.field)?;
                    }
                    None if c.action == PlanAction::Create => {
                        writeln!(f, "      {}: {}", d.field, show(&d.after))?
                    }
                    None => writeln!(
                        f,
                        "      {}: {} -> {}",
                        d.field,
                        show(&d.before),
                        show(&d.after)
                    )?,
                }
            }
        }
        let n = self.counts();
        writeln!(f)?;
        write!(
            f,
            "Plan: {} to create, {} to update, {} to adopt, {} unchanged.",
            n.create, n.update, n.adopt, n.unchanged
        )
    }
}

/// FNV-1a 64 of a string, as hex: a stable digest of what was observed while planning.
pub fn digest(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(step: &str, deps: &[&str], action: PlanAction) -> PlannedChange {
        PlannedChange {
            step: StepId::new(step),
            server: Server::Is,
            kind: ObjectKind::IsRole,
            name: step.into(),
            action,
            diff: vec![
                FieldDiff::value("a", Some("1".into()), Some("2".into())),
                FieldDiff::secret("s", SecretChange::Set),
            ],
            depends_on: deps.iter().map(|d| StepId::new(*d)).collect(),
            observed: None,
        }
    }

    #[test]
    fn display_and_counts() {
        let plan = Plan {
            marker: "m".into(),
            instance: "i".into(),
            is_url: "https://is/".into(),
            apim_url: "https://apim/".into(),
            client_id: "c".into(),
            fingerprint: "f".into(),
            releases: Some("IS 7.3, APIM 4.7".into()),
            warnings: Vec::new(),
            changes: vec![
                change("a", &[], PlanAction::Create),
                change("b", &["a"], PlanAction::Update),
                change("c", &["b"], PlanAction::NoChange),
            ],
        };
        let text = plan.to_string();
        assert!(text.contains("+ IS role \"a\": create"), "{text}");
        assert!(text.contains("a: \"1\" -> \"2\""), "{text}");
        assert!(text.contains("s: (set)"), "{text}");
        assert!(
            text.ends_with("Plan: 1 to create, 1 to update, 0 to adopt, 1 unchanged."),
            "{text}"
        );
        assert!(!plan.is_empty());
        assert_eq!(
            plan.critical_path(),
            vec![StepId::new("a"), StepId::new("b")]
        );
    }

    #[test]
    fn digest_is_stable() {
        assert_eq!(digest(""), "cbf29ce484222325");
        assert_ne!(digest("a"), digest("b"));
    }
}
