//! The identity provider on APIM: added after its mapped local roles were checked and
//! confirmed by reading it back, or updated in the fields this federation manages. Undo deletes
//! an identity provider this federation created (after the portals stopped using it: the undo
//! order guarantees that) or restores the pre-image.

use wso2_apim_client::Error as ApimError;
use wso2_is_client::IdpName;
use wso2_is_client::idp::IdentityProviders;
use wso2_is_client::model::{
    IdentityProvider, JustInTimeProvisioningConfig, fill_redacted_idp_secrets,
};

use super::{
    FedRunner, PreImage, WriteOutcome, delete_settled, from_json, intent, still_there, update_read,
};
use crate::engine::{Action, Effect, StepCtx, StepFailure, StepId};

/// A failure of `add_confirmed` or `update_confirmed` once the write may have been sent. Their
/// error can be the confirming read's, after a write that succeeded: a definite answer to the
/// read (a 401, an HTML page) says nothing of the write, so only "not sent" is clean.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
struct Unconfirmed(ApimError);

impl WriteOutcome for Unconfirmed {
    fn changed_nothing(&self) -> bool {
        self.0.dispatch() == wso2_is_client::Dispatch::NotSent
    }
    fn outcome_unknown_hint(&self) -> bool {
        false
    }
}

/// `live` with the fields this federation manages taken from `desired`.
pub(crate) fn merge(live: &IdentityProvider, desired: &IdentityProvider) -> IdentityProvider {
    let mut out = live.clone();
    out.enable = desired.enable;
    out.display_name = desired.display_name.clone();
    out.identity_provider_description = desired.identity_provider_description.clone();
    out.claim_config = desired.claim_config.clone();
    out.just_in_time_provisioning_config = desired.just_in_time_provisioning_config.clone();
    out.permission_and_role_config = desired.permission_and_role_config.clone();
    if let Some(oidc) = desired.oidc_authenticator() {
        out.set_oidc_authenticator(oidc, true);
    }
    out
}

/// The just-in-time settings that matter, absent flags read as `false` (as the server does).
fn jit_view(idp: &IdentityProvider) -> (bool, Option<&str>, bool, bool, bool) {
    let j = idp.just_in_time_provisioning_config.as_ref();
    let flag =
        |f: fn(&JustInTimeProvisioningConfig) -> Option<bool>| j.and_then(f).unwrap_or(false);
    (
        flag(|j| j.provisioning_enabled),
        j.and_then(|j| j.provisioning_user_store.as_deref())
            .filter(|s| !s.is_empty()),
        flag(|j| j.password_provisioning_enabled),
        flag(|j| j.modify_user_name_allowed),
        flag(|j| j.prompt_consent),
    )
}

/// Whether `live` already has what `desired` wants.
pub(crate) fn matches(live: &IdentityProvider, desired: &IdentityProvider) -> bool {
    wso2_apim_client::idp::difference(desired, live).is_none()
        && live.identity_provider_description == desired.identity_provider_description
        && jit_view(live) == jit_view(desired)
}

pub(super) async fn apply(
    r: &FedRunner<'_>,
    ctx: &StepCtx<'_>,
    step: &StepId,
    name: &IdpName,
    update: bool,
) -> Result<Effect, StepFailure> {
    let desired = &r.desired()?.idp;
    // The planner has just checked the mapped local roles, one read each within the limit.
    let idps = r.apim.identity_providers().roles_already_checked();
    if update {
        let current = still_there(idps.get(name).await, format!("identity provider {name}"));
        return update_read(
            r,
            ctx,
            step,
            current,
            |c| matches(c, desired),
            |c| PreImage::Idp(Box::new(c)),
            |c| async move {
                idps.update_confirmed(name, &merge(&c, desired))
                    .await
                    .map(|_| ())
                    .map_err(Unconfirmed)
            },
        )
        .await;
    }
    intent(ctx, Action::Create, None)?;
    match idps.add_confirmed(desired).await {
        Ok(_) => Ok(Effect::Created),
        Err(e @ (ApimError::IdpNotCreated { .. } | ApimError::MissingLocalRoles { .. })) => {
            Err(StepFailure::clean(e))
        }
        // Refused as a duplicate: not ours to undo.
        Err(e) if e.is_already_exists() => Err(StepFailure::clean(e)),
        // Stored but not as sent, or maybe stored (the write's or the confirming read's
        // failure): undo reads it back and deletes it if it carries our tag.
        Err(e) => Err(super::failed(Unconfirmed(e))),
    }
}

pub(super) async fn undo(
    r: &FedRunner<'_>,
    step: &StepId,
    name: &IdpName,
    effect: &Effect,
) -> Result<(), StepFailure> {
    let idps = r.apim.identity_providers();
    match effect {
        Effect::Created
        | Effect::Unknown {
            action: Action::Create,
            ..
        } => match idps.get(name).await.map_err(StepFailure::clean)? {
            Some(live) if r.owns(live.identity_provider_description.as_deref()) => {
                delete_settled(
                    || idps.delete(name),
                    || async { idps.get(name).await.map(|i| i.is_some()) },
                )
                .await
            }
            _ => Ok(()),
        },
        Effect::Updated { pre_image }
        | Effect::Unknown {
            action: Action::Update,
            pre_image: Some(pre_image),
        } => {
            let live = idps
                .get(name)
                .await
                .map_err(StepFailure::clean)?
                .ok_or_else(|| {
                    StepFailure::clean(format!(
                        "identity provider {name} is gone; nothing to restore"
                    ))
                })?;
            let before = match r.remembered(step) {
                Some(PreImage::Idp(idp)) => *idp,
                _ => {
                    let mut idp: IdentityProvider = from_json(pre_image)?;
                    let missing = fill_redacted_idp_secrets(&mut idp, &live);
                    if !missing.is_empty() {
                        return Err(StepFailure::clean(format!(
                            "identity provider {name}: secrets withheld from the journal cannot be restored: {}",
                            missing.join(", ")
                        )));
                    }
                    idp
                }
            };
            if before == live {
                return Ok(());
            }
            IdentityProviders::new(r.apim.core())
                .update(name, &before)
                .await
                .map_err(StepFailure::clean)
        }
        _ => Ok(()),
    }
}
