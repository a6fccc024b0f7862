//! A user on IS through SCIM2 (`/scim2/Users`; IS 5.10 and later, where SCIM2 is how users are
//! managed and, from 7.2, the only way). Created with its password only; its groups are given
//! by the group steps that follow (`scim_group.rs`). Undo deletes it.
//!
//! A SCIM2 user has no description to carry an ownership tag, so it is this federation's only
//! when this journal records that its own create succeeded, or an unknown outcome was settled
//! by reading back the exact value written (the user present, in no group but
//! `Internal/everyone`). An existing user of someone else's is a conflict, unless the settings
//! say `adopt` (then it is given the groups it lacks, and never deleted).

use serde::Serialize;
use wso2_is_client::scim2::ScimUser;
use wso2_is_client::{IsClient, UserName};

use super::{
    Conflict, Decision, FedRunner, Prepared, TakenByOthers, WriteOutcome, failed, from_json,
    intent, to_json,
};
use crate::engine::{Action, Effect, StepCtx, StepFailure, StepId};
use crate::plan::{FieldDiff, ObjectKind, PlanAction, SecretChange};

/// A user as planning read it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct LiveScimUser {
    pub user: Option<ScimUser>,
}

/// What this federation writes when it creates a user (its post-image; never the password),
/// with the groups the settings give it (the group steps after it add it to them).
#[derive(Debug, Serialize, serde::Deserialize)]
struct UserImage {
    name: String,
    #[serde(default)]
    groups: Vec<String>,
}

pub(crate) async fn read(
    is: &IsClient,
    name: &UserName,
) -> Result<LiveScimUser, wso2_is_client::Error> {
    Ok(LiveScimUser {
        user: is.scim2().users().find_by_name(name).await?,
    })
}

/// The groups a user is in, without the store prefix and without `everyone`.
pub(crate) fn groups_of(user: &ScimUser) -> Vec<String> {
    let mut g: Vec<String> = user
        .groups
        .iter()
        .filter_map(|g| g.display.as_deref())
        .map(plain)
        .filter(|g| !g.eq_ignore_ascii_case(wso2_is_client::users::EVERYONE_ROLE))
        .map(str::to_owned)
        .collect();
    g.sort();
    g.dedup();
    g
}

/// A name without the primary store's prefix (`PRIMARY/kim` is `kim`).
pub(crate) fn plain(name: &str) -> &str {
    name.strip_prefix("PRIMARY/").unwrap_or(name)
}

/// The plan's decision: create when absent; unchanged when ours; adopted, or a conflict, when
/// someone else's.
pub(crate) fn decide(
    name: &UserName,
    live: &LiveScimUser,
    ours: bool,
    adopt: bool,
) -> Result<Decision, Conflict> {
    Ok(match (&live.user, ours, adopt) {
        (None, _, _) => Decision::new(
            PlanAction::Create,
            vec![FieldDiff::secret("password", SecretChange::Set)],
        ),
        (Some(_), true, _) => Decision::new(PlanAction::NoChange, Vec::new()),
        (Some(_), false, true) => Decision::new(PlanAction::Adopt, Vec::new()),
        (Some(_), false, false) => {
            return Err(Conflict {
                kind: ObjectKind::IsUser,
                name: name.to_string(),
                reason: "exists on IS and was not made by this federation; set `adopt = true` to give it the groups it lacks (its password is never changed, and it is never deleted), or choose another user name".into(),
            });
        }
    })
}

pub(super) async fn apply(
    r: &FedRunner<'_>,
    ctx: &StepCtx<'_>,
    step: &StepId,
    name: &UserName,
) -> Result<Effect, StepFailure> {
    let desired = r
        .desired()?
        .users
        .get(name)
        .ok_or_else(|| StepFailure::clean(format!("no settings for user {name}")))?;
    let users = r.is.scim2().users();
    let mut groups: Vec<String> = desired.roles.iter().map(ToString::to_string).collect();
    groups.sort();
    let post = to_json(&UserImage {
        name: name.to_string(),
        groups,
    })?;
    intent(ctx, Action::Create, None, Some(post.clone()))?;
    let created = |id: Option<String>| {
        if let Some(id) = id {
            r.remember_scim_id(name, id);
        }
        r.mark_created(step);
        Effect::Created {
            post_image: Some(post.clone()),
        }
    };
    let new = ScimUser::new(name).with_password(desired.password.clone());
    match users.create(&new).await {
        Ok(u) => Ok(created(u.id)),
        Err(e) if e.already_exists() && r.did_create(step) => {
            let id = users
                .find_by_name(name)
                .await
                .map_err(StepFailure::clean)?
                .and_then(|u| u.id);
            Ok(created(id))
        }
        Err(e) if e.already_exists() => Err(StepFailure::refused(TakenByOthers {
            what: format!("user {name}"),
            source: Box::new(e),
        })),
        Err(e) if e.changed_nothing() => Err(StepFailure::clean(e)),
        // The outcome is unknown: present and in no group is exactly what was written.
        Err(e) => match users.find_by_name(name).await {
            Ok(None) => Err(StepFailure::clean(e)),
            Ok(Some(u)) if groups_of(&u).is_empty() => {
                tracing::info!(error = %e, %name, "the create's answer was lost, the user is there as written");
                Ok(created(u.id))
            }
            Ok(Some(_)) => Err(StepFailure::refused(TakenByOthers {
                what: format!("user {name}"),
                source: Box::new(e),
            })),
            Err(_) => Err(failed(e)),
        },
    }
}

pub(super) async fn prepare_undo(
    r: &FedRunner<'_>,
    name: &UserName,
    effect: &Effect,
) -> Result<Prepared, StepFailure> {
    match effect {
        Effect::Created { .. }
        | Effect::Unknown {
            action: Action::Create,
            ..
        } => Ok(Prepared::ScimUser(
            read(r.is, name)
                .await
                .map_err(StepFailure::clean)?
                .user
                .map(Box::new),
        )),
        _ => Ok(Prepared::Nothing),
    }
}

pub(super) async fn undo(
    r: &FedRunner<'_>,
    name: &UserName,
    effect: &Effect,
    prepared: Prepared,
) -> Result<(), StepFailure> {
    let Prepared::ScimUser(user) = prepared else {
        return Ok(());
    };
    let Some(user) = user else {
        return Ok(());
    };
    match effect {
        Effect::Created { .. } => {}
        // Not proven ours: only a user in no group but those the settings gave it is deleted
        // (read before any undo: the group steps are undone first, but after this read).
        Effect::Unknown {
            action: Action::Create,
            post_image,
            ..
        } => {
            let written: Option<UserImage> = post_image.as_ref().map(from_json).transpose()?;
            let groups: Vec<String> = groups_of(&user)
                .into_iter()
                .filter(|g| written.as_ref().is_none_or(|w| !w.groups.contains(g)))
                .collect();
            if !groups.is_empty() && !r.force {
                return Err(StepFailure::refused(format!(
                    "user {name} may not be this federation's (its create's outcome was never known) and is in other groups ({}); left as it is (rerun with --force to delete it)",
                    crate::text::clean(&groups.join(", "), 200)
                )));
            }
        }
        _ => return Ok(()),
    }
    let id = user
        .id
        .ok_or_else(|| StepFailure::clean(format!("user {name} was read without its id")))?;
    let users = r.is.scim2().users();
    match users.delete(&id).await {
        Ok(()) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => match users.find_by_name(name).await {
            Ok(None) => Ok(()),
            _ => Err(StepFailure::clean(e)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_decision_shows_what_changes() {
        let name = UserName::new("api_user").unwrap();
        let absent = LiveScimUser { user: None };
        let present = LiveScimUser {
            user: Some(ScimUser::new(&name)),
        };
        let d = decide(&name, &absent, false, false).unwrap();
        assert_eq!(d.action, PlanAction::Create);
        assert_eq!(d.diff[0].field, "password");
        assert_eq!(
            decide(&name, &present, true, false).unwrap().action,
            PlanAction::NoChange
        );
        assert_eq!(
            decide(&name, &present, false, true).unwrap().action,
            PlanAction::Adopt
        );
        let c = decide(&name, &present, false, false).unwrap_err();
        assert!(c.reason.contains("adopt = true"), "{}", c.reason);
    }
}
