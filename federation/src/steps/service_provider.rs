//! The service provider on IS: its description (with the ownership tag), its OAuth2/OIDC inbound
//! configuration (the client id of the OAuth application) and its claim configuration (the role
//! claim, requested and mandatory). IS 5.x stores only the name and description on create, so a
//! create is create, read (for the id), update with everything, read. Every other field of an
//! existing service provider is kept as read. Undo deletes a created service provider (which
//! also deletes its OAuth application on IS 5.x) or restores the pre-image.

use wso2_is_client::ApplicationName;
use wso2_is_client::application::OAUTH2_INBOUND_TYPE;
use wso2_is_client::model::{
    ClaimConfig, InboundAuthenticationConfig, ServiceProvider, fill_redacted_sp_secrets,
};

use super::{FedRunner, PreImage, delete_settled, from_json, intent, still_there, update_read};
use crate::engine::{Action, Effect, StepCtx, StepFailure, StepId};

/// `live` with the fields this federation manages taken from `desired`.
pub(crate) fn merge(live: &ServiceProvider, desired: &ServiceProvider) -> ServiceProvider {
    let mut out = live.clone();
    out.description = desired.description.clone();
    out.claim_config = desired.claim_config.clone();
    let wanted = desired.oauth_inbound().cloned();
    let inbound = out
        .inbound_authentication_config
        .get_or_insert_with(InboundAuthenticationConfig::default);
    inbound
        .inbound_authentication_request_configs
        .retain(|c| c.inbound_auth_type.as_deref() != Some(OAUTH2_INBOUND_TYPE));
    inbound
        .inbound_authentication_request_configs
        .extend(wanted);
    out
}

/// A claim mapping as compared: local URI, remote URI, mandatory, requested.
type MappingView = (Option<String>, Option<String>, Option<bool>, Option<bool>);

fn claims_view(c: Option<&ClaimConfig>) -> (Option<bool>, Vec<MappingView>) {
    let Some(c) = c else {
        return (None, Vec::new());
    };
    let mut maps: Vec<_> = c
        .claim_mappings
        .iter()
        .map(|m| {
            (
                m.local_claim.as_ref().and_then(|l| l.claim_uri.clone()),
                m.remote_claim.as_ref().and_then(|l| l.claim_uri.clone()),
                m.mandatory,
                m.requested,
            )
        })
        .collect();
    maps.sort();
    (c.local_claim_dialect, maps)
}

/// Whether `live` already has what `desired` wants (compared the way the server echoes it: the
/// inbound configuration by protocol and client id, claims by URI and flags).
pub(crate) fn matches(live: &ServiceProvider, desired: &ServiceProvider) -> bool {
    live.description == desired.description
        && claims_view(live.claim_config.as_ref()) == claims_view(desired.claim_config.as_ref())
        && live
            .oauth_inbound()
            .and_then(|c| c.inbound_auth_key.as_deref())
            == desired
                .oauth_inbound()
                .and_then(|c| c.inbound_auth_key.as_deref())
}

pub(super) async fn apply(
    r: &FedRunner<'_>,
    ctx: &StepCtx<'_>,
    step: &StepId,
    name: &ApplicationName,
    update: bool,
) -> Result<Effect, StepFailure> {
    let desired = &r.desired()?.service_provider;
    let apps = r.is.applications();
    if update {
        let current = still_there(apps.get(name).await, format!("service provider {name}"));
        return update_read(
            r,
            ctx,
            step,
            current,
            |c| matches(c, desired),
            |c| PreImage::ServiceProvider(Box::new(c)),
            |c| async move { apps.update(&merge(&c, desired)).await },
        )
        .await;
    }
    intent(ctx, Action::Create, None)?;
    // IS 5.x stores only the name and description on create: create (which reads the id
    // back), then write the configuration.
    let read = match apps.create(desired).await {
        Ok(read) => read,
        Err(e) => return settle_create(r, name, desired, e).await,
    };
    // Every field read back is sent back (as when the create's answer was lost, below), so
    // both ways to a created service provider leave the same one.
    match apps.update(&merge(&read, desired)).await {
        Ok(()) => Ok(Effect::Created),
        // It exists now: the failure leaves an effect to undo (undo deletes it: it is ours).
        Err(e) => Err(StepFailure::unknown(e)),
    }
}

/// A create whose answer failed: read back. Absent, the create failed; present with our tag,
/// the create was stored before its answer was lost, with only its name and description (all
/// IS 5.x stores on create), so the configuration is written now.
async fn settle_create(
    r: &FedRunner<'_>,
    name: &ApplicationName,
    desired: &ServiceProvider,
    e: wso2_is_client::Error,
) -> Result<Effect, StepFailure> {
    let apps = r.is.applications();
    match apps.get(name).await {
        Ok(None) => Err(StepFailure::clean(e)),
        Ok(Some(live)) if r.owns(live.description.as_deref()) && matches(&live, desired) => {
            Ok(Effect::Created)
        }
        Ok(Some(live)) if r.owns(live.description.as_deref()) => {
            tracing::info!(error = %e, "the service provider was stored before its answer was lost: configuring it");
            match apps.update(&merge(&live, desired)).await {
                Ok(()) => Ok(Effect::Created),
                Err(e2) => Err(StepFailure::unknown(e2)),
            }
        }
        Ok(Some(_)) => Err(StepFailure::clean(e)),
        Err(_) => Err(StepFailure::unknown(e)),
    }
}

pub(super) async fn undo(
    r: &FedRunner<'_>,
    step: &StepId,
    name: &ApplicationName,
    effect: &Effect,
) -> Result<(), StepFailure> {
    let apps = r.is.applications();
    match effect {
        Effect::Created
        | Effect::Unknown {
            action: Action::Create,
            ..
        } => {
            match apps.get(name).await.map_err(StepFailure::clean)? {
                Some(live) if r.owns(live.description.as_deref()) => {
                    delete_settled(
                        || apps.delete(name),
                        || async { apps.get(name).await.map(|s| s.is_some()) },
                    )
                    .await
                }
                // Absent, or not ours (never delete a service provider we did not make).
                _ => Ok(()),
            }
        }
        Effect::Updated { pre_image }
        | Effect::Unknown {
            action: Action::Update,
            pre_image: Some(pre_image),
        } => {
            let live = apps
                .get(name)
                .await
                .map_err(StepFailure::clean)?
                .ok_or_else(|| {
                    StepFailure::clean(format!(
                        "service provider {name} is gone; nothing to restore"
                    ))
                })?;
            let mut before = match r.remembered(step) {
                Some(PreImage::ServiceProvider(sp)) => *sp,
                _ => {
                    let mut sp: ServiceProvider = from_json(pre_image)?;
                    let missing = fill_redacted_sp_secrets(&mut sp, &live);
                    if !missing.is_empty() {
                        return Err(StepFailure::clean(format!(
                            "service provider {name}: secrets withheld from the journal cannot be restored: {}",
                            missing.join(", ")
                        )));
                    }
                    sp
                }
            };
            before.application_id = live.application_id;
            if before == live {
                return Ok(());
            }
            apps.update(&before).await.map_err(StepFailure::clean)
        }
        _ => Ok(()),
    }
}
