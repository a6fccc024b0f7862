//! A portal's login, switched to federated authentication through the identity provider. The
//! portal's service provider is brought into being first if the portal was never logged into.
//! Its full snapshot is the pre-image; undo restores it exactly. A portal service provider is
//! never deleted (APIM would not register it again).

use wso2_apim_client::portals::{Portal, PortalSnapshot, is_switched};
use wso2_is_client::IdpName;

use super::{FedRunner, PreImage, failed, from_json, intent, to_json};
use crate::engine::{Action, Effect, StepCtx, StepFailure, StepId};

pub(super) async fn apply(
    r: &FedRunner<'_>,
    ctx: &StepCtx<'_>,
    step: &StepId,
    portal: Portal,
    idp: &IdpName,
) -> Result<Effect, StepFailure> {
    let options = &r.desired()?.switch;
    let portals = r.apim.portals();
    let current = portals.ensure(portal).await.map_err(StepFailure::clean)?;
    if is_switched(&current, idp, options) {
        return Ok(Effect::Unchanged);
    }
    let snapshot = PortalSnapshot {
        portal,
        service_provider: current,
    };
    let pre = to_json(&snapshot)?;
    r.remember(step, PreImage::Portal(Box::new(snapshot.clone())));
    intent(ctx, Action::Update, Some(pre.clone()))?;
    // Switch what was just read (and journaled): no second read.
    portals
        .switch_read(&snapshot.service_provider, idp, options)
        .await
        .map_err(failed)?;
    Ok(Effect::Updated { pre_image: pre })
}

pub(super) async fn undo(
    r: &FedRunner<'_>,
    step: &StepId,
    portal: Portal,
    effect: &Effect,
) -> Result<(), StepFailure> {
    let pre_image = match effect {
        Effect::Updated { pre_image }
        | Effect::Unknown {
            action: Action::Update,
            pre_image: Some(pre_image),
        } => pre_image,
        _ => return Ok(()),
    };
    let snapshot = match r.remembered(step) {
        Some(PreImage::Portal(s)) => *s,
        _ => from_json::<PortalSnapshot>(pre_image)?,
    };
    if snapshot.portal != portal {
        return Err(StepFailure::clean(format!(
            "the journal's snapshot is of the {} portal, not {portal}",
            snapshot.portal
        )));
    }
    r.apim
        .portals()
        .restore(&snapshot)
        .await
        .map_err(StepFailure::clean)
}
