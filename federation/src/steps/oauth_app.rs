//! The OAuth application on IS: registered with a client id and secret chosen here, or updated
//! (callback and grant types) when it exists. Undo removes a registered application, or puts
//! back the fields an update changed. (Deleting the service provider also deletes it on IS 5.x;
//! removing an absent application succeeds.)

use wso2_is_client::oauth::OAuthConsumerAppDTO;
use wso2_is_client::{ConsumerKey, OAuthAppName};

use super::{FedRunner, PreImage, create_settled, from_json, intent, still_there, update_read};
use crate::engine::{Action, Effect, StepCtx, StepFailure, StepId};

fn key(client_id: &str) -> Result<ConsumerKey, StepFailure> {
    ConsumerKey::new(client_id).map_err(StepFailure::clean)
}

pub(super) async fn apply(
    r: &FedRunner<'_>,
    ctx: &StepCtx<'_>,
    step: &StepId,
    name: &OAuthAppName,
    update: bool,
) -> Result<Effect, StepFailure> {
    let desired = &r.desired()?.oauth_app;
    let apps = r.is.oauth_apps();
    if update {
        let current = still_there(
            apps.get_by_name(name).await,
            format!("OAuth application {name}"),
        );
        let changed = |app: &OAuthConsumerAppDTO| {
            let mut c = app.clone();
            c.callback_url = desired.callback_url.clone();
            c.grant_types = desired.grant_types.clone();
            c.oauth_version = desired.oauth_version.clone();
            c
        };
        return update_read(
            r,
            ctx,
            step,
            current,
            |c| changed(c) == *c,
            |c| PreImage::OAuthApp(Box::new(c)),
            |c| async move { apps.update(&changed(&c)).await },
        )
        .await;
    }
    intent(ctx, Action::Create, None)?;
    create_settled(
        || apps.register(desired),
        || async { apps.get_by_name(name).await.map(|a| a.is_some()) },
    )
    .await
}

pub(super) async fn undo(
    r: &FedRunner<'_>,
    step: &StepId,
    name: &OAuthAppName,
    client_id: &str,
    effect: &Effect,
) -> Result<(), StepFailure> {
    let apps = r.is.oauth_apps();
    match effect {
        Effect::Created
        | Effect::Unknown {
            action: Action::Create,
            ..
        } => {
            // Only the application with our client id, never a namesake.
            match apps.get_by_name(name).await.map_err(StepFailure::clean)? {
                Some(app) if app.oauth_consumer_key.as_deref() == Some(client_id) => apps
                    .remove(&key(client_id)?)
                    .await
                    .map_err(StepFailure::clean),
                _ => Ok(()),
            }
        }
        Effect::Updated { pre_image }
        | Effect::Unknown {
            action: Action::Update,
            pre_image: Some(pre_image),
        } => {
            let before = match r.remembered(step) {
                Some(PreImage::OAuthApp(app)) => *app,
                _ => from_json::<OAuthConsumerAppDTO>(pre_image)?,
            };
            let Some(live) = apps.get_by_name(name).await.map_err(StepFailure::clean)? else {
                return Err(StepFailure::clean(format!(
                    "OAuth application {name} is gone; nothing to restore"
                )));
            };
            let mut restored = live.clone();
            restored.callback_url = before.callback_url;
            restored.grant_types = before.grant_types;
            restored.oauth_version = before.oauth_version;
            if restored == live {
                return Ok(());
            }
            apps.update(&restored).await.map_err(StepFailure::clean)
        }
        _ => Ok(()),
    }
}
