//! A portal's login, switched to federated authentication through the identity provider.
//!
//! A portal's service provider exists only after the portal's first login; when the plan
//! found it absent, a registration step (no dependencies: it runs during the IS phase) calls the
//! portal's login endpoints as a first browser visit does and waits for it. The portal's service
//! provider is never this federation's: it is never deleted (APIM would not register it again),
//! only switched, with its snapshot as the pre-image and the switched value as the post-image.
//! Undo restores three-way: only what the switch changed and nobody changed since; a field
//! someone changed since refuses the restore (unless `--force`) rather than overwrite it.

use serde::Serialize;
use wso2_apim_client::portals::{
    Portal, PortalSnapshot, SKIP_CONSENT_PROPERTY, SwitchOptions, federated, federated_for,
};
use wso2_is_client::IdpName;
use wso2_is_client::model::ServiceProvider;

use super::fields::{self, Field};
use super::{
    Decision, FedRunner, PreImage, Prepared, StepFailure, failed, from_json, intent, to_json,
    update_or_keep,
};
use crate::engine::{Action, Effect, StepCtx, StepId};
use crate::plan::{FieldDiff, PlanAction};

/// How the portals are to be switched.
#[derive(Debug, Clone)]
pub(crate) struct DesiredSwitch {
    pub idp: IdpName,
    pub options: SwitchOptions,
    /// The APIM release (its consent switches); `None`: the release-independent switch.
    pub release: Option<wso2_apim_client::version::ApimCapabilities>,
}

impl DesiredSwitch {
    /// `sp` switched as desired, for the release when it is known.
    pub(crate) fn apply_to(&self, sp: &ServiceProvider) -> ServiceProvider {
        match &self.release {
            Some(caps) => federated_for(caps, sp, &self.idp, &self.options),
            None => federated(sp, &self.idp, &self.options),
        }
    }
}

fn step_view(sp: &ServiceProvider) -> Option<String> {
    let auth = sp.local_and_out_bound_authentication_config.as_ref()?;
    let steps: Vec<String> = auth
        .authentication_steps
        .iter()
        .map(|s| {
            let mut options: Vec<String> = s
                .federated_identity_providers
                .iter()
                .filter_map(|p| p.identity_provider_name.clone())
                .map(|n| format!("identity provider {n}"))
                .collect();
            options.extend(
                s.local_authenticator_configs
                    .iter()
                    .filter_map(|l| l.name.clone()),
            );
            format!("[{}]", options.join(" | "))
        })
        .collect();
    fields::list(steps)
}

/// The parts of a portal's service provider the switch sets, and how the plan shows them.
pub(crate) const FIELDS: &[Field<ServiceProvider>] = &[
    Field {
        name: "authenticationType",
        secret: false,
        get: |sp| {
            sp.local_and_out_bound_authentication_config
                .as_ref()
                .and_then(|a| a.authentication_type.clone())
        },
        set: |sp, d| {
            let t = d
                .local_and_out_bound_authentication_config
                .as_ref()
                .and_then(|a| a.authentication_type.clone());
            sp.auth_config_mut().authentication_type = t;
        },
    },
    Field {
        name: "authentication steps",
        secret: false,
        get: step_view,
        set: |sp, d| {
            let src = d
                .local_and_out_bound_authentication_config
                .clone()
                .unwrap_or_default();
            let a = sp.auth_config_mut();
            a.authentication_steps = src.authentication_steps;
            a.authentication_step_for_subject = src.authentication_step_for_subject;
            a.authentication_step_for_attributes = src.authentication_step_for_attributes;
        },
    },
    Field {
        name: "alwaysSendMappedLocalSubjectId",
        secret: false,
        get: |sp| {
            fields::flag(
                sp.claim_config
                    .as_ref()
                    .and_then(|c| c.always_send_mapped_local_subject_id),
            )
        },
        set: |sp, d| {
            let v = d
                .claim_config
                .as_ref()
                .and_then(|c| c.always_send_mapped_local_subject_id);
            if v.is_some() || sp.claim_config.is_some() {
                sp.claim_config
                    .get_or_insert_with(Default::default)
                    .always_send_mapped_local_subject_id = v;
            }
        },
    },
    Field {
        name: "localAndOutBoundAuthenticationConfig.skipConsent",
        secret: false,
        get: |sp| {
            sp.local_and_out_bound_authentication_config
                .as_ref()
                .and_then(|a| a.skip_consent)
                .map(|v| v.to_string())
        },
        set: |sp, d| {
            let v = d
                .local_and_out_bound_authentication_config
                .as_ref()
                .and_then(|a| a.skip_consent);
            if v.is_some() || sp.local_and_out_bound_authentication_config.is_some() {
                sp.auth_config_mut().skip_consent = v;
            }
        },
    },
    Field {
        name: "localAndOutBoundAuthenticationConfig.skipLogoutConsent",
        secret: false,
        get: |sp| {
            sp.local_and_out_bound_authentication_config
                .as_ref()
                .and_then(|a| a.skip_logout_consent)
                .map(|v| v.to_string())
        },
        set: |sp, d| {
            let v = d
                .local_and_out_bound_authentication_config
                .as_ref()
                .and_then(|a| a.skip_logout_consent);
            if v.is_some() || sp.local_and_out_bound_authentication_config.is_some() {
                sp.auth_config_mut().skip_logout_consent = v;
            }
        },
    },
    Field {
        name: "skipConsent",
        secret: false,
        get: |sp| {
            sp.sp_properties
                .iter()
                .find(|p| p.name.as_deref() == Some(SKIP_CONSENT_PROPERTY))
                .and_then(|p| p.value.clone())
        },
        set: |sp, d| {
            fields::set_named(
                &mut sp.sp_properties,
                &d.sp_properties,
                |p| p.name.as_deref(),
                SKIP_CONSENT_PROPERTY,
            );
        },
    },
];

/// The plan's decision for a portal: unchanged when already switched as desired; otherwise an
/// update (with a registration first when its service provider does not exist yet).
pub(crate) fn decide(current: Option<&ServiceProvider>, desired: &DesiredSwitch) -> Decision {
    match current {
        Some(sp) => {
            let switched = desired.apply_to(sp);
            update_or_keep(fields::diff(FIELDS, sp, &switched))
        }
        None => Decision::new(
            PlanAction::Update,
            vec![FieldDiff::value(
                "service provider",
                None,
                Some(
                    "brought into being by calling the portal's login endpoint, then switched"
                        .into(),
                ),
            )],
        ),
    }
}

/// Serialisable pair (what the journal keeps as images).
#[derive(Serialize)]
struct Image<'a> {
    portal: Portal,
    service_provider: &'a ServiceProvider,
}

/// Brings the portal's service provider into being (its login endpoints, then a poll), as the
/// plan found it absent: no read first (calling the endpoints when it exists is harmless). It
/// asks nothing of IS, so it runs while the IS side is written. Nothing to undo: APIM would
/// never register a deleted one again, so it is never deleted (a first login would have made
/// the same object).
pub(super) async fn register(r: &FedRunner<'_>, portal: Portal) -> Result<Effect, StepFailure> {
    let sp = r
        .apim
        .portals()
        .register(portal)
        .await
        .map_err(StepFailure::clean)?;
    r.registered
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(portal, sp);
    Ok(Effect::Registered)
}

pub(super) async fn apply(
    r: &FedRunner<'_>,
    ctx: &StepCtx<'_>,
    step: &StepId,
    portal: Portal,
) -> Result<Effect, StepFailure> {
    let desired = &r.desired()?.portal;
    let registered = r
        .registered
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&portal)
        .cloned();
    let current = match registered.or_else(|| {
        r.live
            .and_then(|l| l.portals.get(&portal).cloned().flatten())
    }) {
        Some(sp) => sp,
        None => r
            .apim
            .portals()
            .get_in_one_round(portal)
            .await
            .map_err(StepFailure::clean)?
            .ok_or_else(|| {
                StepFailure::clean(format!(
                    "the {portal} portal's service provider does not exist"
                ))
            })?,
    };
    let switched = desired.apply_to(&current);
    if fields::matches(FIELDS, &current, &switched) {
        return Ok(Effect::Unchanged);
    }
    let pre = to_json(&Image {
        portal,
        service_provider: &current,
    })?;
    let post = to_json(&Image {
        portal,
        service_provider: &switched,
    })?;
    r.remember(step, PreImage::Portal(Box::new(current.clone())));
    intent(ctx, Action::Update, Some(pre.clone()), Some(post.clone()))?;
    // Switch what was just read (and journaled): no second read.
    r.apim
        .applications()
        .update(&switched)
        .await
        .map_err(failed)?;
    Ok(Effect::Updated {
        pre_image: pre,
        post_image: Some(post),
    })
}

pub(super) async fn prepare_undo(
    r: &FedRunner<'_>,
    portal: Portal,
    effect: &Effect,
) -> Result<Prepared, StepFailure> {
    if !matches!(
        effect,
        Effect::Updated { .. }
            | Effect::Unknown {
                action: Action::Update,
                ..
            }
    ) {
        return Ok(Prepared::Nothing);
    }
    Ok(Prepared::Portal(
        r.apim
            .portals()
            .get_in_one_round(portal)
            .await
            .map_err(StepFailure::clean)?
            .map(Box::new),
    ))
}

fn snapshot_of(image: &serde_json::Value) -> Result<PortalSnapshot, StepFailure> {
    from_json(image)
}

pub(super) async fn undo(
    r: &FedRunner<'_>,
    step: &StepId,
    portal: Portal,
    effect: &Effect,
    prepared: Prepared,
) -> Result<(), StepFailure> {
    let (pre_image, post_image) = match effect {
        Effect::Updated {
            pre_image,
            post_image,
        }
        | Effect::Unknown {
            action: Action::Update,
            pre_image: Some(pre_image),
            post_image,
        } => (pre_image, post_image),
        _ => return Ok(()),
    };
    let Prepared::Portal(live) = prepared else {
        return Err(StepFailure::clean(
            "the portal was not read before its undo",
        ));
    };
    let live = *live.ok_or_else(|| {
        StepFailure::clean(format!(
            "the {portal} portal's service provider is gone; nothing to restore"
        ))
    })?;
    let snapshot = match r.remembered(step) {
        Some(PreImage::Portal(sp)) => PortalSnapshot {
            portal,
            service_provider: *sp,
        },
        _ => snapshot_of(pre_image)?,
    };
    if snapshot.portal != portal {
        return Err(StepFailure::clean(format!(
            "the journal's snapshot is of the {} portal, not {portal}",
            snapshot.portal
        )));
    }
    let written = post_image
        .as_ref()
        .map(|p| snapshot_of(p).map(|s| s.service_provider))
        .transpose()?;
    let Some(target) = fields::restore3(
        FIELDS,
        &format!("the {portal} portal's service provider"),
        &snapshot.service_provider,
        written.as_ref(),
        &live,
        r.force,
    )?
    else {
        return Ok(());
    };
    r.apim
        .applications()
        .update(&target)
        .await
        .map_err(StepFailure::clean)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wso2_is_client::model::ServiceProviderProperty;

    fn portal_sp() -> ServiceProvider {
        ServiceProvider::named(&wso2_is_client::ApplicationName::new("apim_publisher").unwrap())
    }

    fn switched(sp: &ServiceProvider) -> ServiceProvider {
        federated(
            sp,
            &IdpName::new("wso2-is").unwrap(),
            &SwitchOptions::default(),
        )
    }

    #[test]
    fn every_managed_field_shows_in_the_diff_and_merging_empties_it() {
        let live = switched(&portal_sp());
        assert!(fields::matches(FIELDS, &live, &switched(&live)));
        for f in FIELDS {
            let mut desired = live.clone();
            match f.name {
                "authenticationType" => {
                    desired.auth_config_mut().authentication_type = Some("default".into())
                }
                "authentication steps" => desired.auth_config_mut().authentication_steps.clear(),
                "alwaysSendMappedLocalSubjectId" => {
                    let c = desired.claim_config.get_or_insert_with(Default::default);
                    c.always_send_mapped_local_subject_id =
                        Some(!c.always_send_mapped_local_subject_id.unwrap_or(false));
                }
                "localAndOutBoundAuthenticationConfig.skipConsent" => {
                    desired.auth_config_mut().skip_consent = Some(true)
                }
                "localAndOutBoundAuthenticationConfig.skipLogoutConsent" => {
                    desired.auth_config_mut().skip_logout_consent = Some(true)
                }
                "skipConsent" => {
                    let mut p = ServiceProviderProperty::default();
                    p.name = Some(SKIP_CONSENT_PROPERTY.into());
                    p.value = Some("changed".into());
                    fields::set_named(
                        &mut desired.sp_properties,
                        &[p],
                        |p| p.name.as_deref(),
                        SKIP_CONSENT_PROPERTY,
                    );
                }
                other => panic!("a managed field without a test case: {other}"),
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
            assert_eq!(
                decide(
                    Some(&live),
                    &DesiredSwitch {
                        idp: IdpName::new("wso2-is").unwrap(),
                        options: SwitchOptions::default(),
                        release: None,
                    }
                )
                .action,
                PlanAction::NoChange
            );
        }
    }

    #[test]
    fn a_restore_writes_back_the_properties_in_the_order_read() {
        let mut before = portal_sp();
        for (n, v) in [("a", "1"), (SKIP_CONSENT_PROPERTY, "false"), ("z", "2")] {
            let mut p = ServiceProviderProperty::default();
            p.name = Some(n.into());
            p.value = Some(v.into());
            before.sp_properties.push(p);
        }
        let after = switched(&before);
        let restored = fields::restore3(FIELDS, "portal", &before, Some(&after), &after, false)
            .unwrap()
            .expect("something to restore");
        assert_eq!(restored.sp_properties, before.sp_properties);
        assert!(fields::matches(FIELDS, &restored, &before));
    }
}
