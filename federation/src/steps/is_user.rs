//! A user on IS: created with its roles when absent; an existing user only gets the roles it
//! lacks (its password is never changed). Undo deletes a created user, or takes back the roles
//! that were added.

use serde::{Deserialize, Serialize};
use wso2_is_client::users::AddUser;
use wso2_is_client::{RoleName, UserName};

use super::{FedRunner, create_settled, delete_settled, failed, from_json, intent, to_json};
use crate::engine::{Action, Effect, StepCtx, StepFailure};

/// What the journal keeps of a user before its roles change.
#[derive(Debug, Serialize, Deserialize)]
struct UserRoles {
    roles: Vec<String>,
}

pub(super) async fn apply(
    r: &FedRunner<'_>,
    ctx: &StepCtx<'_>,
    name: &UserName,
    update: bool,
) -> Result<Effect, StepFailure> {
    let desired = r.desired()?;
    let (password, roles) = desired
        .users
        .get(name)
        .ok_or_else(|| StepFailure::clean(format!("no settings for user {name}")))?;
    let users = r.is.users();
    if update {
        let current = users
            .roles_of_user(name)
            .await
            .map_err(StepFailure::clean)?;
        let missing: Vec<RoleName> = roles
            .iter()
            .filter(|role| !current.iter().any(|c| c == role.as_str()))
            .cloned()
            .collect();
        if missing.is_empty() {
            return Ok(Effect::Unchanged);
        }
        let pre = to_json(&UserRoles { roles: current })?;
        intent(ctx, Action::Update, Some(pre.clone()))?;
        users
            .update_roles_of_user(name, &[], &missing)
            .await
            .map_err(failed)?;
        return Ok(Effect::Updated { pre_image: pre });
    }
    intent(ctx, Action::Create, None)?;
    create_settled(
        || async {
            AddUser::new(name, password.clone())
                .roles(roles.iter())
                .send(r.is)
                .await
        },
        || users.user_exists(name),
    )
    .await
}

pub(super) async fn undo(
    r: &FedRunner<'_>,
    name: &UserName,
    effect: &Effect,
) -> Result<(), StepFailure> {
    let users = r.is.users();
    match effect {
        Effect::Created
        | Effect::Unknown {
            action: Action::Create,
            ..
        } => delete_settled(|| users.delete_user(name), || users.user_exists(name)).await,
        Effect::Updated { pre_image }
        | Effect::Unknown {
            action: Action::Update,
            pre_image: Some(pre_image),
        } => {
            let before: UserRoles = from_json(pre_image)?;
            let now = users
                .roles_of_user(name)
                .await
                .map_err(StepFailure::clean)?;
            let added: Vec<RoleName> = now
                .iter()
                .filter(|role| !before.roles.contains(role))
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
