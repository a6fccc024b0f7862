//! A role on IS: created when absent; undo deletes it.

use wso2_is_client::RoleName;
use wso2_is_client::users::AddRole;

use super::{FedRunner, create_settled, delete_settled, intent};
use crate::engine::{Action, Effect, StepCtx, StepFailure};

pub(super) async fn apply(
    r: &FedRunner<'_>,
    ctx: &StepCtx<'_>,
    name: &RoleName,
) -> Result<Effect, StepFailure> {
    let users = r.is.users();
    intent(ctx, Action::Create, None)?;
    create_settled(
        || async { AddRole::new(name).send(r.is).await },
        || users.role_exists(name),
    )
    .await
}

pub(super) async fn undo(
    r: &FedRunner<'_>,
    name: &RoleName,
    effect: &Effect,
) -> Result<(), StepFailure> {
    match effect {
        Effect::Created
        | Effect::Unknown {
            action: Action::Create,
            ..
        } => {
            let users = r.is.users();
            delete_settled(|| users.delete_role(name), || users.role_exists(name)).await
        }
        _ => Ok(()),
    }
}
