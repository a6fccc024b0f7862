//! The `openid` scope on IS 6.0 (`/api/server/v1/oidc/scopes/openid`): that release releases
//! no claim under `openid` and has no `groups` scope, so the id_token would carry no role
//! claim (the 403 at portal login of api-manager #1404). The step adds the `groups` claim to
//! `openid`, as WSO2's APIM 4.2 guide does; the `PUT` replaces the whole list, so it sends back
//! what it read with `groups` added. The scope is IS's own: it is never created or deleted, and
//! the undo takes back only the claim this federation added, if it is still there, keeping
//! whatever else someone changed since.

use serde::{Deserialize, Serialize};
use wso2_is_client::IsClient;
use wso2_is_client::rest::OidcScope;

use super::{Conflict, Decision, FedRunner, Prepared, failed, from_json, intent, to_json};
use crate::engine::{Action, Effect, StepCtx, StepFailure};
use crate::plan::{FieldDiff, ObjectKind, PlanAction};

/// The claim the scope must release.
pub(crate) const ROLE_CLAIM: &str = "groups";

/// The scope as planning read it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct LiveScope {
    pub scope: Option<OidcScope>,
}

/// A scope's claims, as journaled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ScopeImage {
    claims: Vec<String>,
}

pub(crate) async fn read(is: &IsClient, name: &str) -> Result<LiveScope, wso2_is_client::Error> {
    Ok(LiveScope {
        scope: is.oidc_scopes().get(name).await?,
    })
}

/// The plan's decision: unchanged when the scope releases the role claim already, else an
/// update adding it.
pub(crate) fn decide(name: &str, live: &LiveScope) -> Result<Decision, Conflict> {
    let Some(scope) = &live.scope else {
        return Err(Conflict {
            kind: ObjectKind::OidcScope,
            name: name.to_owned(),
            reason: "the OIDC scope does not exist on IS (every release has it): check the IS release and its OIDC scope settings".into(),
        });
    };
    if scope.claims.iter().any(|c| c == ROLE_CLAIM) {
        return Ok(Decision::new(PlanAction::NoChange, Vec::new()));
    }
    let after = scope.with_claim_added(ROLE_CLAIM).claims;
    Ok(Decision::new(
        PlanAction::Update,
        vec![FieldDiff::value(
            "claims",
            super::fields::list(scope.claims.iter()),
            super::fields::list(after.iter()),
        )],
    ))
}

pub(super) async fn apply(
    r: &FedRunner<'_>,
    ctx: &StepCtx<'_>,
    name: &str,
) -> Result<Effect, StepFailure> {
    let scope = match r.live()?.oidc_scope.scope.clone() {
        Some(s) => s,
        None => read(r.is, name)
            .await
            .map_err(StepFailure::clean)?
            .scope
            .ok_or_else(|| StepFailure::clean(format!("the OIDC scope {name} does not exist")))?,
    };
    if scope.claims.iter().any(|c| c == ROLE_CLAIM) {
        return Ok(Effect::Unchanged);
    }
    let update = scope.with_claim_added(ROLE_CLAIM);
    let pre = to_json(&ScopeImage {
        claims: scope.claims.clone(),
    })?;
    let post = to_json(&ScopeImage {
        claims: update.claims.clone(),
    })?;
    intent(ctx, Action::Update, Some(pre.clone()), Some(post.clone()))?;
    r.is.oidc_scopes()
        .update(name, &update)
        .await
        .map_err(failed)?;
    Ok(Effect::Updated {
        pre_image: pre,
        post_image: Some(post),
    })
}

pub(super) async fn prepare_undo(r: &FedRunner<'_>, name: &str) -> Result<Prepared, StepFailure> {
    Ok(Prepared::Scope(
        read(r.is, name)
            .await
            .map_err(StepFailure::clean)?
            .scope
            .map(Box::new),
    ))
}

pub(super) async fn undo(
    r: &FedRunner<'_>,
    name: &str,
    effect: &Effect,
    prepared: Prepared,
) -> Result<(), StepFailure> {
    let pre_image = match effect {
        Effect::Updated { pre_image, .. }
        | Effect::Unknown {
            action: Action::Update,
            pre_image: Some(pre_image),
            ..
        } => pre_image,
        _ => return Ok(()),
    };
    let Prepared::Scope(Some(now)) = prepared else {
        return Ok(());
    };
    let before: ScopeImage = from_json(pre_image)?;
    if before.claims.iter().any(|c| c == ROLE_CLAIM) || !now.claims.iter().any(|c| c == ROLE_CLAIM)
    {
        return Ok(());
    }
    let mut update = wso2_is_client::rest::ScopeUpdate::from(now.as_ref());
    update.claims.retain(|c| c != ROLE_CLAIM);
    r.is.oidc_scopes()
        .update(name, &update)
        .await
        .map_err(StepFailure::clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_role_claim_is_added_once() {
        let mut scope = OidcScope {
            name: "openid".into(),
            ..OidcScope::default()
        };
        scope.claims = vec!["sub".into()];
        let d = decide(
            "openid",
            &LiveScope {
                scope: Some(scope.clone()),
            },
        )
        .unwrap();
        assert_eq!(d.action, PlanAction::Update);
        assert_eq!(d.diff[0].after.as_deref(), Some("sub, groups"));
        scope.claims.push("groups".into());
        assert_eq!(
            decide("openid", &LiveScope { scope: Some(scope) })
                .unwrap()
                .action,
            PlanAction::NoChange
        );
        assert!(decide("openid", &LiveScope::default()).is_err());
    }
}
