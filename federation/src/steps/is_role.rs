//! A role on IS (IS 5.9: `RemoteUserStoreManagerService.addRole`). Created empty when absent
//! (the users created next carry it); undo deletes it.
//!
//! A role has no description to carry an ownership tag, so it is this federation's only when
//! this journal records that its own `addRole` succeeded (or an unknown outcome was settled by
//! reading back the exact value written: the role present, and empty). An existing role of
//! someone else's is a conflict, unless the settings say `adopt` (then it is used as it is and
//! never deleted).

use serde::Serialize;
use wso2_is_client::users::AddRole;
use wso2_is_client::{IsClient, RoleName};

use super::{Conflict, Decision, FedRunner, TakenByOthers, WriteOutcome, failed, intent, to_json};
use crate::engine::{Action, Effect, StepCtx, StepFailure, StepId};
use crate::plan::{FieldDiff, ObjectKind, PlanAction};

/// A role as planning read it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct LiveRole {
    pub exists: bool,
}

/// What this federation writes when it creates a role (its post-image).
#[derive(Debug, Serialize)]
struct RoleImage<'a> {
    name: &'a str,
    users: [&'a str; 0],
}

pub(crate) async fn read(
    is: &IsClient,
    name: &RoleName,
) -> Result<LiveRole, wso2_is_client::Error> {
    Ok(LiveRole {
        exists: is.users().role_exists(name).await?,
    })
}

/// The plan's decision: create when absent; unchanged when ours; adopted, or a conflict, when
/// someone else's.
pub(crate) fn decide(
    name: &RoleName,
    live: &LiveRole,
    ours: bool,
    adopt: bool,
) -> Result<Decision, Conflict> {
    Ok(match (live.exists, ours, adopt) {
        (false, _, _) => Decision::new(
            PlanAction::Create,
            vec![FieldDiff::value("users", None, Some("(none yet)".into()))],
        ),
        (true, true, _) => Decision::new(PlanAction::NoChange, Vec::new()),
        (true, false, true) => Decision::new(PlanAction::Adopt, Vec::new()),
        (true, false, false) => {
            return Err(Conflict {
                kind: ObjectKind::IsRole,
                name: name.to_string(),
                reason: "exists on IS and was not made by this federation; set `adopt = true` to use it as it is (it is then never deleted), or choose another role name".into(),
            });
        }
    })
}

pub(super) async fn apply(
    r: &FedRunner<'_>,
    ctx: &StepCtx<'_>,
    step: &StepId,
    name: &RoleName,
) -> Result<Effect, StepFailure> {
    let users = r.is.users();
    let post = to_json(&RoleImage {
        name: name.as_str(),
        users: [],
    })?;
    intent(ctx, Action::Create, None, Some(post.clone()))?;
    let created = || Effect::Created {
        post_image: Some(post.clone()),
    };
    match AddRole::new(name).send(r.is).await {
        Ok(()) => {
            r.mark_created(step);
            Ok(created())
        }
        // Our own earlier call in this process (an action run twice) made it.
        Err(e) if e.already_exists() && r.did_create(step) => Ok(created()),
        Err(e) if e.already_exists() => Err(StepFailure::refused(TakenByOthers {
            what: format!("role {name}"),
            source: Box::new(e),
        })),
        Err(e) if e.changed_nothing() => Err(StepFailure::clean(e)),
        // The outcome is unknown: present and empty is exactly what was written.
        Err(e) => match users.role_exists(name).await {
            Ok(false) => Err(StepFailure::clean(e)),
            Ok(true) => match users.users_of_role(name).await {
                Ok(members) if members.is_empty() => {
                    tracing::info!(error = %e, %name, "the create's answer was lost, the role is there as written");
                    r.mark_created(step);
                    Ok(created())
                }
                Ok(_) => Err(StepFailure::refused(TakenByOthers {
                    what: format!("role {name}"),
                    source: Box::new(e),
                })),
                Err(_) => Err(failed(e)),
            },
            Err(_) => Err(failed(e)),
        },
    }
}

pub(super) async fn undo(
    r: &FedRunner<'_>,
    name: &RoleName,
    effect: &Effect,
) -> Result<(), StepFailure> {
    let users = r.is.users();
    match effect {
        Effect::Created { .. } => {}
        // Not proven ours: only the exact value written (present, nobody in it) is deleted.
        Effect::Unknown {
            action: Action::Create,
            ..
        } => {
            if !users.role_exists(name).await.map_err(StepFailure::clean)? {
                return Ok(());
            }
            let members = users
                .users_of_role(name)
                .await
                .map_err(StepFailure::clean)?;
            if !members.is_empty() && !r.force {
                return Err(StepFailure::refused(format!(
                    "role {name} may not be this federation's (its create's outcome was never known) and has users ({}); left as it is (rerun with --force to delete it)",
                    crate::text::clean(&members.join(", "), 200)
                )));
            }
        }
        _ => return Ok(()),
    }
    // Deleting an absent role succeeds; a failure is settled by reading.
    match users.delete_role(name).await {
        Ok(()) => Ok(()),
        Err(e) => match users.role_exists(name).await {
            Ok(false) => Ok(()),
            _ => Err(StepFailure::clean(e)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_decision_shows_what_changes() {
        let name = RoleName::new("publisher_role").unwrap();
        let absent = LiveRole { exists: false };
        let present = LiveRole { exists: true };
        let d = decide(&name, &absent, false, false).unwrap();
        assert_eq!(d.action, PlanAction::Create);
        assert_eq!(d.diff.len(), 1);
        assert_eq!(
            decide(&name, &present, true, false).unwrap().action,
            PlanAction::NoChange
        );
        assert_eq!(
            decide(&name, &present, false, true).unwrap().action,
            PlanAction::Adopt
        );
        let c = decide(&name, &present, false, false).unwrap_err();
        assert_eq!(c.kind, ObjectKind::IsRole);
        assert!(c.reason.contains("adopt = true"), "{}", c.reason);
    }
}
