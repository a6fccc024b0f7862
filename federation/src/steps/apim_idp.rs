//! The identity provider on APIM: the OIDC authenticator pointing at IS (client id and secret of
//! the application), just-in-time provisioning, the role claim and the role mappings. Added when
//! absent (its mapped local roles were checked by the plan; `addIdP` is confirmed by a read only
//! when its outcome is unknown), or updated in the managed fields when ours. Undo deletes an
//! identity provider this federation created (after the portals stopped using it: the undo order
//! guarantees that; only with this journal's tag, and only if nobody changed it since) or
//! restores the pre-image three-way.

use secrecy::SecretString;
use serde::Serialize;
use wso2_apim_client::idp::OidcIdp;
use wso2_is_client::IdpName;
use wso2_is_client::idp::{IdentityProviders, oidc_keys};
use wso2_is_client::model::IdentityProvider;

use super::fields::{self, Field};
use super::{
    Conflict, Decision, FedRunner, Knowledge, Ownership, PreImage, Prepared, StepFailure,
    TakenByOthers, WriteOutcome, failed, from_json, intent, to_json, update_or_keep,
};
use crate::engine::{Action, Effect, StepCtx, StepId};
use crate::plan::{ObjectKind, PlanAction};
use crate::{ClientAuthMode, Spec};

/// The identity provider this federation wants (secret included; in memory only).
#[derive(Clone)]
pub(crate) struct DesiredIdp {
    pub idp: IdentityProvider,
}

/// The identity provider as read.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct LiveIdp {
    pub idp: Option<IdentityProvider>,
}

/// The identity provider the federation wants on APIM.
pub(crate) fn desired(
    spec: &Spec,
    versions: &crate::versions::Versions,
    ownership: &Ownership,
    client_id: &str,
    secret: SecretString,
) -> Result<DesiredIdp, crate::FederationError> {
    let mut b = OidcIdp::new(spec.identity_provider.clone(), client_id, secret)
        .endpoints_of_is(&spec.is_browser_url, &spec.is_backend_url)
        .callback_url(spec.callback_url.as_str())
        .display_name(&spec.idp_display_name)
        .description(
            ownership.describe("WSO2 Identity Server as the OIDC login of this API Manager"),
        )
        .basic_auth(spec.client_auth == ClientAuthMode::BasicHeader)
        .jit(spec.jit.enabled.then(|| spec.jit.user_store.clone()))
        .role_claim(spec.role_claim_for(&versions.is).token_claim())
        .release(&versions.apim);
    // What the IS release needs for the role claim (`openid groups` from IS 6.1), written as
    // the APIM release reads it; `openid` alone is what APIM asks for anyway.
    let scopes = versions.is.role_scope.requested_scopes();
    if scopes != "openid" {
        b = b.request_scopes(scopes);
    }
    for m in &spec.role_mappings {
        b = b.map_role(m.remote.as_str(), m.local.clone());
    }
    Ok(DesiredIdp {
        idp: b.build().map_err(crate::FederationError::apim)?,
    })
}

fn prop(idp: &IdentityProvider, key: &str) -> Option<String> {
    idp.oidc_authenticator()
        .and_then(|a| a.property(key).map(str::to_owned))
}

fn set_prop(live: &mut IdentityProvider, desired: &IdentityProvider, key: &str) {
    let Some(wanted) = desired.oidc_authenticator() else {
        return;
    };
    let mut auth = live
        .oidc_authenticator()
        .map_or_else(|| wanted.clone().into_config(), |a| a.into_config());
    let src = wanted.config().properties.clone();
    fields::set_named(&mut auth.properties, &src, |p| p.name.as_deref(), key);
    if let Ok(a) = wso2_is_client::idp::OidcAuthenticator::from_config(auth) {
        live.set_oidc_authenticator(a, true);
    }
}

macro_rules! oidc_field {
    ($name:expr, $secret:expr) => {
        Field {
            name: $name,
            secret: $secret,
            get: |i| prop(i, $name),
            set: |i, d| set_prop(i, d, $name),
        }
    };
}

fn jit(idp: &IdentityProvider) -> Option<String> {
    let j = idp.just_in_time_provisioning_config.as_ref()?;
    let on = j.provisioning_enabled.unwrap_or(false);
    Some(if on {
        format!(
            "provision into {} (password provisioning {}, user name changes {}, consent prompt {})",
            j.provisioning_user_store
                .as_deref()
                .filter(|s| !s.is_empty())
                .unwrap_or("(no user store)"),
            j.password_provisioning_enabled.unwrap_or(false),
            j.modify_user_name_allowed.unwrap_or(false),
            j.prompt_consent.unwrap_or(false),
        )
    } else {
        "off".to_owned()
    })
}

fn mappings(idp: &IdentityProvider) -> Option<String> {
    let mut m: Vec<String> = idp
        .role_mappings()
        .into_iter()
        .map(|(r, l)| format!("{r} -> {l}"))
        .collect();
    m.sort();
    fields::list(m)
}

fn claims(idp: &IdentityProvider) -> Option<String> {
    let c = idp.claim_config.as_ref()?;
    let mut maps: Vec<String> = c
        .claim_mappings
        .iter()
        .map(|m| {
            format!(
                "{} -> {}",
                m.remote_claim
                    .as_ref()
                    .and_then(|c| c.claim_uri.clone())
                    .unwrap_or_default(),
                m.local_claim
                    .as_ref()
                    .and_then(|c| c.claim_uri.clone())
                    .unwrap_or_default()
            )
        })
        .collect();
    maps.sort();
    Some(format!(
        "role claim {}; {}",
        c.role_claim_uri.as_deref().unwrap_or("(none)"),
        maps.join(", ")
    ))
}

/// The fields this federation manages, and how the plan shows them.
pub(crate) const FIELDS: &[Field<IdentityProvider>] = &[
    Field {
        name: "enable",
        secret: false,
        get: |i| fields::flag(i.enable),
        set: |i, d| i.enable = d.enable,
    },
    Field {
        name: "displayName",
        secret: false,
        get: |i| i.display_name.clone(),
        set: |i, d| i.display_name = d.display_name.clone(),
    },
    Field {
        name: "description",
        secret: false,
        get: |i| i.identity_provider_description.clone(),
        set: |i, d| i.identity_provider_description = d.identity_provider_description.clone(),
    },
    oidc_field!(oidc_keys::CLIENT_ID, false),
    oidc_field!(oidc_keys::CLIENT_SECRET, true),
    oidc_field!(oidc_keys::AUTHZ_URL, false),
    oidc_field!(oidc_keys::TOKEN_URL, false),
    oidc_field!(oidc_keys::USER_INFO_URL, false),
    oidc_field!(oidc_keys::LOGOUT_URL, false),
    oidc_field!(oidc_keys::CALLBACK_URL, false),
    oidc_field!(oidc_keys::IS_BASIC_AUTH_ENABLED, false),
    oidc_field!(oidc_keys::IS_USER_ID_IN_CLAIMS, false),
    oidc_field!(oidc_keys::COMMON_AUTH_QUERY_PARAMS, false),
    oidc_field!(oidc_keys::SCOPES, false),
    Field {
        name: "default authenticator",
        secret: false,
        get: |i| {
            i.default_authenticator_config
                .as_ref()
                .and_then(|c| c.name.clone())
        },
        set: |i, d| {
            if let Some(a) = d.oidc_authenticator() {
                let mine = i.oidc_authenticator().unwrap_or(a);
                i.set_oidc_authenticator(mine, true);
            }
        },
    },
    Field {
        name: "claims",
        secret: false,
        get: claims,
        set: |i, d| i.claim_config = d.claim_config.clone(),
    },
    Field {
        name: "just-in-time provisioning",
        secret: false,
        get: jit,
        set: |i, d| i.just_in_time_provisioning_config = d.just_in_time_provisioning_config.clone(),
    },
    Field {
        name: "role mappings",
        secret: false,
        get: mappings,
        set: |i, d| i.permission_and_role_config = d.permission_and_role_config.clone(),
    },
];

pub(crate) async fn read(
    apim: &wso2_apim_client::ApimClient,
    name: &IdpName,
) -> Result<LiveIdp, wso2_apim_client::Error> {
    Ok(LiveIdp {
        idp: apim.identity_providers().get(name).await?,
    })
}

/// The plan's decision for the identity provider.
#[allow(clippy::too_many_arguments)]
pub(crate) fn decide(
    name: &IdpName,
    live: &LiveIdp,
    desired: &DesiredIdp,
    ownership: &Ownership,
    knowledge: &Knowledge,
    step: &StepId,
    adopt: bool,
    force: bool,
) -> Result<Decision, Conflict> {
    let conflict = |reason: String| Conflict {
        kind: ObjectKind::IdentityProvider,
        name: name.to_string(),
        reason,
    };
    let Some(idp) = &live.idp else {
        return Ok(Decision::new(
            PlanAction::Create,
            fields::create(FIELDS, &desired.idp),
        ));
    };
    let diff = fields::diff(FIELDS, idp, &desired.idp);
    if ownership.marks(idp.identity_provider_description.as_deref()) {
        if !diff.is_empty()
            && !force
            && let Some(Ok(post)) = knowledge
                .post_images
                .get(step)
                .map(from_json::<IdentityProvider>)
        {
            let changed = fields::changed_since(FIELDS, &post, idp, &desired.idp);
            if !changed.is_empty() {
                return Err(conflict(format!(
                    "changed by someone else since this federation wrote it ({}); rerun with --force to overwrite",
                    changed.join("; ")
                )));
            }
        }
        return Ok(update_or_keep(diff));
    }
    // Someone else's: a namesake that is exactly as desired can be adopted (used, never deleted).
    let secretless: Vec<_> = diff.iter().filter(|d| d.secret.is_none()).collect();
    if adopt && secretless.is_empty() {
        return Ok(Decision::new(PlanAction::Adopt, Vec::new()));
    }
    Err(conflict(format!(
        "exists and does not carry this federation's tag {}; choose another identity provider name, or remove it{}",
        ownership.tag(),
        if adopt {
            " (it differs, so it cannot be adopted)"
        } else {
            ""
        }
    )))
}

pub(super) async fn apply(
    r: &FedRunner<'_>,
    ctx: &StepCtx<'_>,
    step: &StepId,
    action: PlanAction,
) -> Result<Effect, StepFailure> {
    let desired = &r.desired()?.idp.idp;
    let name = IdpName::new(desired.identity_provider_name.clone().unwrap_or_default())
        .map_err(StepFailure::clean)?;
    let idps = IdentityProviders::new(r.apim.core());
    if action == PlanAction::Update {
        let live = match r.live()?.idp.idp.clone() {
            Some(idp) => idp,
            None => idps
                .get(&name)
                .await
                .map_err(StepFailure::clean)?
                .ok_or_else(|| {
                    StepFailure::clean(format!(
                        "identity provider {name} disappeared since the plan"
                    ))
                })?,
        };
        let merged = fields::merge(FIELDS, &live, desired);
        if merged == live {
            return Ok(Effect::Unchanged);
        }
        let pre = to_json(&live)?;
        let post = to_json(&merged)?;
        r.remember(step, PreImage::Idp(Box::new(live)));
        intent(ctx, Action::Update, Some(pre.clone()), Some(post.clone()))?;
        idps.update(&name, &merged).await.map_err(failed)?;
        return Ok(Effect::Updated {
            pre_image: pre,
            post_image: Some(post),
        });
    }
    let post = to_json(desired)?;
    intent(ctx, Action::Create, None, Some(post.clone()))?;
    let created = Effect::Created {
        post_image: Some(post),
    };
    match idps.add(desired).await {
        Ok(()) => {
            r.mark_created(step);
            Ok(created)
        }
        Err(e) if e.already_exists() => match idps.get(&name).await {
            // Our own earlier call (an action run twice, an answer lost): our tag proves it.
            Ok(Some(idp))
                if r.ownership
                    .marks(idp.identity_provider_description.as_deref()) =>
            {
                r.mark_created(step);
                Ok(created)
            }
            _ => Err(StepFailure::refused(TakenByOthers {
                what: format!("identity provider {name}"),
                source: Box::new(e),
            })),
        },
        Err(e) if e.changed_nothing() => Err(StepFailure::clean(e)),
        // `addIdP` has been seen answering 500 after storing: read back; our tag proves it.
        Err(e) => match idps.get(&name).await {
            Ok(Some(idp))
                if r.ownership
                    .marks(idp.identity_provider_description.as_deref()) =>
            {
                tracing::info!(error = %e, %name, "addIdP failed, but the identity provider is there with our tag");
                r.mark_created(step);
                Ok(created)
            }
            Ok(None) => Err(StepFailure::clean(e)),
            Ok(Some(_)) => Err(StepFailure::refused(TakenByOthers {
                what: format!("identity provider {name}"),
                source: Box::new(e),
            })),
            Err(_) => Err(failed(e)),
        },
    }
}

pub(super) async fn prepare_undo(r: &FedRunner<'_>, name: &str) -> Result<Prepared, StepFailure> {
    let name = IdpName::new(name).map_err(StepFailure::clean)?;
    Ok(Prepared::Idp(Box::new(
        read(r.apim, &name).await.map_err(StepFailure::clean)?,
    )))
}

pub(super) async fn undo(
    r: &FedRunner<'_>,
    step: &StepId,
    name: &str,
    effect: &Effect,
    prepared: Prepared,
) -> Result<(), StepFailure> {
    let Prepared::Idp(read) = prepared else {
        return Err(StepFailure::clean(
            "the identity provider was not read before its undo",
        ));
    };
    let LiveIdp { idp: live } = *read;
    let name = IdpName::new(name).map_err(StepFailure::clean)?;
    let idps = IdentityProviders::new(r.apim.core());
    match effect {
        Effect::Created { .. }
        | Effect::Unknown {
            action: Action::Create,
            ..
        } => {
            // Only a confirmed creation has a known written state to compare with: an unknown
            // outcome may have left a partial object, ours by its tag.
            let post_image = match effect {
                Effect::Created { post_image } => post_image.as_ref(),
                _ => None,
            };
            // Only ours (our tag), and only as we wrote it.
            let Some(live) = live.filter(|l| {
                r.ownership
                    .marks(l.identity_provider_description.as_deref())
            }) else {
                return Ok(());
            };
            let written = post_image.map(from_json::<IdentityProvider>).transpose()?;
            fields::unchanged_since(
                FIELDS,
                &format!("identity provider {name}"),
                written.as_ref(),
                &live,
                r.force,
            )?;
            match idps.delete(&name).await {
                Ok(()) => Ok(()),
                Err(e) => match idps.get(&name).await {
                    Ok(None) => Ok(()),
                    _ => Err(StepFailure::clean(e)),
                },
            }
        }
        Effect::Updated {
            pre_image,
            post_image,
        }
        | Effect::Unknown {
            action: Action::Update,
            pre_image: Some(pre_image),
            post_image,
        } => {
            let live = live.ok_or_else(|| {
                StepFailure::clean(format!(
                    "identity provider {name} is gone; nothing to restore"
                ))
            })?;
            let before = match r.remembered(step) {
                Some(PreImage::Idp(idp)) => *idp,
                _ => from_json::<IdentityProvider>(pre_image)?,
            };
            let written = post_image
                .as_ref()
                .map(from_json::<IdentityProvider>)
                .transpose()?;
            let Some(target) = fields::restore3(
                FIELDS,
                &format!("identity provider {name}"),
                &before,
                written.as_ref(),
                &live,
                r.force,
            )?
            else {
                return Ok(());
            };
            idps.update(&name, &target)
                .await
                .map_err(StepFailure::clean)
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idp() -> IdentityProvider {
        OidcIdp::new(
            IdpName::new("wso2-is").unwrap(),
            "client-1",
            SecretString::from("secret-secret-1"),
        )
        .authorize_url("https://is/oauth2/authorize")
        .token_url("https://is/oauth2/token")
        .callback_url("https://apim/commonauth")
        .map_role(
            "r",
            wso2_is_client::RoleName::new("Internal/publisher").unwrap(),
        )
        .build()
        .unwrap()
    }

    #[test]
    fn every_managed_field_shows_in_the_diff_and_merging_empties_it() {
        for f in FIELDS {
            let live = idp();
            let mut desired = idp();
            match f.name {
                "enable" => desired.enable = Some(false),
                "displayName" => desired.display_name = Some("Other".into()),
                "description" => desired.identity_provider_description = Some("d2".into()),
                "default authenticator" => continue, // follows the OIDC authenticator
                "claims" => desired.set_role_claim_uri("roles"),
                "just-in-time provisioning" => desired.just_in_time_provisioning_config = None,
                "role mappings" => desired.set_role_mappings([(
                    "r2".to_owned(),
                    wso2_is_client::RoleName::new("Internal/subscriber").unwrap(),
                )]),
                key => {
                    let mut a = desired.oidc_authenticator().unwrap();
                    if f.secret {
                        a.set_client_secret(wso2_is_client::Secret::from("another-secret-2"));
                    } else {
                        a.set_property(key, "changed");
                    }
                    desired.set_oidc_authenticator(a, true);
                }
            }
            let diff = fields::diff(FIELDS, &live, &desired);
            assert_eq!(
                diff.iter().map(|d| d.field.as_str()).collect::<Vec<_>>(),
                [f.name],
                "changing {} shows exactly it",
                f.name
            );
            let merged = fields::merge(FIELDS, &live, &desired);
            assert!(fields::matches(FIELDS, &merged, &desired), "{}", f.name);
        }
    }
}
