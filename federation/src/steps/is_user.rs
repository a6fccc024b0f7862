//! A user on IS (IS 5.9: `RemoteUserStoreManagerService.addUser`), created with its roles when
//! absent. A user of this federation's that lacks a role gets it; so does an adopted user of
//! someone else's (`adopt = true`), whose password is never changed. Undo deletes a created user,
//! or takes back only the roles this federation added and that are still there.
//!
//! A user has no description to carry an ownership tag, so it is this federation's only when
//! this journal records that its own `addUser` succeeded (or an unknown outcome was settled by
//! reading back exactly the roles written).

use std::collections::BTreeSet;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use wso2_is_client::users::AddUser;
use wso2_is_client::users::EVERYONE_ROLE;
use wso2_is_client::{IsClient, RoleName, UserName};

use super::{
    Conflict, Decision, FedRunner, Prepared, TakenByOthers, WriteOutcome, failed, from_json,
    intent, to_json,
};
use crate::engine::{Action, Effect, StepCtx, StepFailure, StepId};
use crate::plan::{FieldDiff, ObjectKind, PlanAction, SecretChange};

/// What the federation wants of a user (in memory only).
#[derive(Clone)]
pub(crate) struct DesiredUser {
    pub password: SecretString,
    pub roles: Vec<RoleName>,
}

/// A user as planning read it: its roles, or `None` when absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct LiveUser {
    pub roles: Option<Vec<String>>,
}

/// What the journal keeps of a user: its roles (sorted, without `Internal/everyone`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct UserImage {
    pub roles: Vec<String>,
}

impl UserImage {
    fn of<S: AsRef<str>>(roles: &[S]) -> Self {
        let set: BTreeSet<String> = roles
            .iter()
            .map(|r| r.as_ref().to_owned())
            .filter(|r| r != EVERYONE_ROLE)
            .collect();
        Self {
            roles: set.into_iter().collect(),
        }
    }
}

pub(crate) async fn read(
    is: &IsClient,
    name: &UserName,
) -> Result<LiveUser, wso2_is_client::Error> {
    let users = is.users();
    Ok(LiveUser {
        roles: if users.user_exists(name).await? {
            Some(users.roles_of_user(name).await?)
        } else {
            None
        },
    })
}

/// The roles `wanted` that `current` lacks.
fn missing(wanted: &[RoleName], current: &[String]) -> Vec<RoleName> {
    wanted
        .iter()
        .filter(|w| !current.iter().any(|c| c == w.as_str()))
        .cloned()
        .collect()
}

/// The plan's decision: create when absent; add the missing roles to ours (or to an adopted
/// one); a user of someone else's is a conflict unless `adopt`.
pub(crate) fn decide(
    name: &UserName,
    wanted: &[RoleName],
    live: &LiveUser,
    ours: bool,
    adopt: bool,
) -> Result<Decision, Conflict> {
    let shown = |roles: &[String]| super::fields::list(UserImage::of(roles).roles);
    let Some(current) = &live.roles else {
        return Ok(Decision::new(
            PlanAction::Create,
            vec![
                FieldDiff::value(
                    "roles",
                    None,
                    super::fields::list(wanted.iter().map(RoleName::as_str)),
                ),
                FieldDiff::secret("password", SecretChange::Set),
            ],
        ));
    };
    if !ours && !adopt {
        return Err(Conflict {
            kind: ObjectKind::IsUser,
            name: name.to_string(),
            reason: "exists on IS and was not made by this federation; set `adopt = true` to give it the roles it lacks (its password is never changed, and it is never deleted), or choose another user name".into(),
        });
    }
    let add = missing(wanted, current);
    if add.is_empty() {
        let action = if ours {
            PlanAction::NoChange
        } else {
            PlanAction::Adopt
        };
        return Ok(Decision::new(action, Vec::new()));
    }
    let mut after = current.clone();
    after.extend(add.iter().map(ToString::to_string));
    Ok(Decision::new(
        PlanAction::Update,
        vec![FieldDiff::value("roles", shown(current), shown(&after))],
    ))
}

pub(super) async fn apply(
    r: &FedRunner<'_>,
    ctx: &StepCtx<'_>,
    step: &StepId,
    name: &UserName,
    action: PlanAction,
) -> Result<Effect, StepFailure> {
    let desired = r
        .desired()?
        .users
        .get(name)
        .ok_or_else(|| StepFailure::clean(format!("no settings for user {name}")))?;
    let users = r.is.users();
    if action == PlanAction::Update {
        let live = r.live()?.users.get(name).and_then(|u| u.roles.clone());
        let current = match live {
            Some(roles) => roles,
            None => users
                .roles_of_user(name)
                .await
                .map_err(StepFailure::clean)?,
        };
        let add = missing(&desired.roles, &current);
        if add.is_empty() {
            return Ok(Effect::Unchanged);
        }
        let pre = to_json(&UserImage::of(&current))?;
        let mut after = current.clone();
        after.extend(add.iter().map(ToString::to_string));
        let post = to_json(&UserImage::of(&after))?;
        intent(ctx, Action::Update, Some(pre.clone()), Some(post.clone()))?;
        users
            .update_roles_of_user(name, &[], &add)
            .await
            .map_err(failed)?;
        return Ok(Effect::Updated {
            pre_image: pre,
            post_image: Some(post),
        });
    }
    let image = UserImage::of(
        &desired
            .roles
            .iter()
            .map(RoleName::as_str)
            .collect::<Vec<_>>(),
    );
    let post = to_json(&image)?;
    intent(ctx, Action::Create, None, Some(post.clone()))?;
    let created = || Effect::Created {
        post_image: Some(post.clone()),
    };
    match AddUser::new(name, desired.password.clone())
        .roles(desired.roles.iter())
        .send(r.is)
        .await
    {
        Ok(()) => {
            r.mark_created(step);
            Ok(created())
        }
        Err(e) if e.already_exists() && r.did_create(step) => Ok(created()),
        Err(e) if e.already_exists() => Err(StepFailure::refused(TakenByOthers {
            what: format!("user {name}"),
            source: Box::new(e),
        })),
        Err(e) if e.changed_nothing() => Err(StepFailure::clean(e)),
        // The outcome is unknown: exactly the roles written prove it is the user just added.
        Err(e) => match users.user_exists(name).await {
            Ok(false) => Err(StepFailure::clean(e)),
            Ok(true) => match users.roles_of_user(name).await {
                Ok(roles) if UserImage::of(&roles) == image => {
                    tracing::info!(error = %e, %name, "the create's answer was lost, the user is there as written");
                    r.mark_created(step);
                    Ok(created())
                }
                Ok(_) => Err(StepFailure::refused(TakenByOthers {
                    what: format!("user {name}"),
                    source: Box::new(e),
                })),
                Err(_) => Err(failed(e)),
            },
            Err(_) => Err(failed(e)),
        },
    }
}

pub(super) async fn prepare_undo(
    r: &FedRunner<'_>,
    name: &UserName,
    effect: &Effect,
) -> Result<Prepared, StepFailure> {
    let users = r.is.users();
    let read = |_: ()| async {
        if users.user_exists(name).await.map_err(StepFailure::clean)? {
            Ok(Prepared::UserRoles(
                users
                    .roles_of_user(name)
                    .await
                    .map_err(StepFailure::clean)?,
            ))
        } else {
            Ok(Prepared::Nothing)
        }
    };
    match effect {
        Effect::Updated { .. }
        | Effect::Unknown {
            action: Action::Update | Action::Create,
            ..
        } => read(()).await,
        _ => Ok(Prepared::Nothing),
    }
}

pub(super) async fn undo(
    r: &FedRunner<'_>,
    name: &UserName,
    effect: &Effect,
    prepared: Prepared,
) -> Result<(), StepFailure> {
    let users = r.is.users();
    let delete = || async {
        match users.delete_user(name).await {
            Ok(()) => Ok(()),
            Err(e) => match users.user_exists(name).await {
                Ok(false) => Ok(()),
                _ => Err(StepFailure::clean(e)),
            },
        }
    };
    match (effect, prepared) {
        (Effect::Created { .. }, _) => delete().await,
        // Not proven ours: only a user with exactly the roles written is deleted.
        (
            Effect::Unknown {
                action: Action::Create,
                post_image,
                ..
            },
            Prepared::UserRoles(roles),
        ) => {
            let written: Option<UserImage> = post_image.as_ref().map(from_json).transpose()?;
            if written.as_ref() == Some(&UserImage::of(&roles)) || r.force {
                delete().await
            } else {
                Err(StepFailure::refused(format!(
                    "user {name} may not be this federation's (its create's outcome was never known) and has other roles than written; left as it is (rerun with --force to delete it)"
                )))
            }
        }
        // Take back only what this federation added and is still there.
        (
            Effect::Updated {
                pre_image,
                post_image,
            }
            | Effect::Unknown {
                action: Action::Update,
                pre_image: Some(pre_image),
                post_image,
            },
            Prepared::UserRoles(now),
        ) => {
            let before: UserImage = from_json(pre_image)?;
            let after: UserImage = match post_image {
                Some(p) => from_json(p)?,
                None => UserImage::of(&now),
            };
            let added: Vec<RoleName> = after
                .roles
                .iter()
                .filter(|role| !before.roles.contains(role) && now.contains(role))
                .filter_map(|role| RoleName::new(role.as_str()).ok())
                .collect();
            users
                .update_roles_of_user(name, &added, &[])
                .await
                .map_err(StepFailure::clean)
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(names: &[&str]) -> Vec<RoleName> {
        names.iter().map(|n| RoleName::new(*n).unwrap()).collect()
    }

    #[test]
    fn each_decision_shows_what_changes() {
        let name = UserName::new("api_user").unwrap();
        let wanted = roles(&["a", "b"]);
        let absent = LiveUser { roles: None };
        let d = decide(&name, &wanted, &absent, false, false).unwrap();
        assert_eq!(d.action, PlanAction::Create);
        let fields: Vec<_> = d.diff.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["roles", "password"]);

        let lacking = LiveUser {
            roles: Some(vec!["a".into(), "Internal/everyone".into()]),
        };
        let d = decide(&name, &wanted, &lacking, true, false).unwrap();
        assert_eq!(d.action, PlanAction::Update);
        assert_eq!(d.diff.len(), 1);
        assert_eq!(d.diff[0].field, "roles");
        assert_eq!(d.diff[0].before.as_deref(), Some("a"));
        assert_eq!(d.diff[0].after.as_deref(), Some("a, b"));

        let complete = LiveUser {
            roles: Some(vec!["b".into(), "a".into()]),
        };
        assert_eq!(
            decide(&name, &wanted, &complete, true, false)
                .unwrap()
                .action,
            PlanAction::NoChange
        );
        assert_eq!(
            decide(&name, &wanted, &complete, false, true)
                .unwrap()
                .action,
            PlanAction::Adopt
        );
        let conflict = decide(&name, &wanted, &complete, false, false).unwrap_err();
        assert!(
            conflict.reason.contains("adopt = true"),
            "{}",
            conflict.reason
        );
    }
}
