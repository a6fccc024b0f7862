//! The application on IS: the OAuth/OIDC client APIM logs in with (IS 5.9:
//! `OAuthAdminService`, with a client id and secret chosen here) and its service provider
//! (`IdentityApplicationManagementService`: the description with the ownership tag, the OAuth2
//! inbound configuration, the role claim requested and mandatory). One object: IS 5.x deletes
//! the OAuth client with its service provider, and IS 5.10+ manages both as one application.
//!
//! Create: register the client and create the service provider at once (IS 5.x stores only the
//! name and description on create), read the service provider's id, then write its
//! configuration. Update: only the managed fields change; every other field is written back as
//! read. Undo deletes both (only with this journal's tag and client id, and only if nobody
//! changed them since) or restores the pre-images three-way.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use wso2_is_client::application::{OAUTH_CONSUMER_SECRET_PROPERTY, OAUTH2_INBOUND_TYPE};
use wso2_is_client::model::{
    Claim, ClaimConfig, ClaimMapping, InboundAuthenticationConfig,
    InboundAuthenticationRequestConfig, Property, ServiceProvider, ServiceProviderProperty,
};
use wso2_is_client::oauth::{GrantType, OAuthConsumerAppDTO};
use wso2_is_client::{ApplicationName, ConsumerKey, IsClient, OAuthAppName};

use super::fields::{self, Field};
use super::{
    Conflict, Decision, FedRunner, Knowledge, Ownership, PreImage, Prepared, StepFailure,
    TakenByOthers, WriteOutcome, failed, failed_pair, from_json, intent, to_json, update_or_keep,
};
use crate::Spec;
use crate::engine::{Action, Effect, StepCtx, StepId};
use crate::plan::{FieldDiff, ObjectKind, PlanAction, SecretChange};

/// The application this federation wants (secrets included; in memory only).
#[derive(Clone)]
pub(crate) struct DesiredApplication {
    pub app: App,
    /// Whether the client secret is generated at apply (not chosen in the settings).
    pub secret_generated: bool,
}

/// Both halves of the application.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct App {
    pub oauth: OAuthConsumerAppDTO,
    pub sp: ServiceProvider,
}

/// The application as read: each half may be absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct LiveApplication {
    pub oauth: Option<OAuthConsumerAppDTO>,
    pub sp: Option<ServiceProvider>,
}

impl LiveApplication {
    fn both(&self) -> Option<App> {
        Some(App {
            oauth: self.oauth.clone()?,
            sp: self.sp.clone()?,
        })
    }

    /// The client secret of an existing OAuth client (IS returns it to admins).
    pub(crate) fn secret(&self) -> Option<SecretString> {
        self.oauth
            .as_ref()?
            .oauth_consumer_secret
            .as_ref()?
            .expose()
            .map(|s| SecretString::from(s.to_owned()))
    }

    /// The client id of an existing OAuth client.
    pub(crate) fn client_id(&self) -> Option<&str> {
        self.oauth.as_ref()?.oauth_consumer_key.as_deref()
    }
}

fn oauth_name(name: &str) -> Result<OAuthAppName, StepFailure> {
    OAuthAppName::new(name).map_err(StepFailure::clean)
}

fn sp_name(name: &str) -> Result<ApplicationName, StepFailure> {
    ApplicationName::new(name).map_err(StepFailure::clean)
}

/// The application the federation wants on IS.
pub(crate) fn desired(
    spec: &Spec,
    versions: &crate::versions::Versions,
    ownership: &Ownership,
    client_id: &str,
    secret: SecretString,
    secret_generated: bool,
) -> Result<DesiredApplication, crate::FederationError> {
    let name = OAuthAppName::new(spec.service_provider.as_str())?;
    let key = ConsumerKey::new(client_id)?;
    let mut oauth = OAuthConsumerAppDTO::new(&name)
        .with_callback_url(spec.callback_url.as_str())
        .with_grant_types(spec.grant_types.iter().map(|g| GrantType::parse(g)))
        .with_consumer_key(&key)
        .with_consumer_secret(secret.clone());
    // APIM's OIDC authenticator sends no code_verifier (WSO2-VERSIONS.md §3.5).
    oauth.pkce_mandatory = Some(false);

    let mut sp = ServiceProvider::named(&spec.service_provider);
    sp.description =
        Some(ownership.describe("Login of WSO2 API Manager through this Identity Server"));
    let mut inbound = InboundAuthenticationRequestConfig::default();
    inbound.inbound_auth_key = Some(client_id.to_owned());
    inbound.inbound_auth_type = Some(OAUTH2_INBOUND_TYPE.to_owned());
    inbound.properties = vec![Property::secret(
        OAUTH_CONSUMER_SECRET_PROPERTY,
        wso2_is_client::Secret::from(secret),
    )];
    let mut config = InboundAuthenticationConfig::default();
    config.inbound_authentication_request_configs = vec![inbound];
    sp.inbound_authentication_config = Some(config);
    let mapping = |uri: &str, mandatory: bool| {
        let mut m = ClaimMapping::default();
        m.local_claim = Some(Claim::uri(uri));
        m.remote_claim = Some(Claim::uri(uri));
        m.mandatory = Some(mandatory);
        m.requested = Some(true);
        m
    };
    let role_claim = spec.role_claim_for(&versions.is).is_claim();
    let mut claims = ClaimConfig::default();
    claims.local_claim_dialect = Some(true);
    claims.claim_mappings = std::iter::once(mapping(role_claim, true))
        .chain(
            spec.requested_claims
                .iter()
                .filter(|c| *c != role_claim)
                .map(|c| mapping(c, false)),
        )
        .collect();
    sp.claim_config = Some(claims);
    // IS 5.9 keeps the application's consent switch as a property: without it every first
    // login stops at IS's consent page.
    let mut skip = ServiceProviderProperty::default();
    skip.name = Some(SKIP_CONSENT.to_owned());
    skip.display_name = Some("Skip Consent".to_owned());
    skip.value = Some("true".to_owned());
    sp.sp_properties.push(skip);
    Ok(DesiredApplication {
        app: App { oauth, sp },
        secret_generated,
    })
}

fn claims_view(c: Option<&ClaimConfig>) -> Option<String> {
    let c = c?;
    let mut maps: Vec<String> = c
        .claim_mappings
        .iter()
        .map(|m| {
            let uri = |c: &Option<Claim>| {
                c.as_ref()
                    .and_then(|c| c.claim_uri.clone())
                    .unwrap_or_default()
            };
            let local = uri(&m.local_claim);
            let remote = uri(&m.remote_claim);
            let mut s = if local == remote {
                local
            } else {
                format!("{local} as {remote}")
            };
            if m.requested == Some(true) {
                s.push_str(" (requested)");
            }
            if m.mandatory == Some(true) {
                s.push_str(" (mandatory)");
            }
            s
        })
        .collect();
    maps.sort();
    let dialect = if c.local_claim_dialect == Some(true) {
        "local dialect"
    } else {
        "custom dialect"
    };
    Some(format!("{dialect}: {}", maps.join(", ")))
}

fn oauth_inbound(sp: &ServiceProvider) -> Option<&InboundAuthenticationRequestConfig> {
    sp.oauth_inbound()
}

/// The fields this federation manages, and how the plan shows them.
pub(crate) const FIELDS: &[Field<App>] = &[
    Field {
        name: "callbackUrl",
        secret: false,
        get: |a| a.oauth.callback_url.clone(),
        set: |a, d| a.oauth.callback_url = d.oauth.callback_url.clone(),
    },
    Field {
        name: "grantTypes",
        secret: false,
        get: |a| {
            let mut g: Vec<String> = a
                .oauth
                .grant_type_list()
                .iter()
                .map(|g| g.as_str().to_owned())
                .collect();
            g.sort();
            fields::list(g)
        },
        set: |a, d| a.oauth.grant_types = d.oauth.grant_types.clone(),
    },
    Field {
        name: "oauthVersion",
        secret: false,
        get: |a| a.oauth.oauth_version.clone(),
        set: |a, d| a.oauth.oauth_version = d.oauth.oauth_version.clone(),
    },
    Field {
        name: "pkceMandatory",
        secret: false,
        get: |a| fields::flag(a.oauth.pkce_mandatory),
        set: |a, d| a.oauth.pkce_mandatory = d.oauth.pkce_mandatory,
    },
    Field {
        name: "description",
        secret: false,
        get: |a| a.sp.description.clone(),
        set: |a, d| a.sp.description = d.sp.description.clone(),
    },
    Field {
        name: "inbound oauth2 client id",
        secret: false,
        get: |a| oauth_inbound(&a.sp).and_then(|c| c.inbound_auth_key.clone()),
        set: |a, d| {
            let wanted = oauth_inbound(&d.sp).cloned();
            let inbound =
                a.sp.inbound_authentication_config
                    .get_or_insert_with(InboundAuthenticationConfig::default);
            inbound
                .inbound_authentication_request_configs
                .retain(|c| c.inbound_auth_type.as_deref() != Some(OAUTH2_INBOUND_TYPE));
            inbound
                .inbound_authentication_request_configs
                .extend(wanted);
        },
    },
    Field {
        name: "claims",
        secret: false,
        get: |a| claims_view(a.sp.claim_config.as_ref()),
        set: |a, d| a.sp.claim_config = d.sp.claim_config.clone(),
    },
    Field {
        name: "skipConsent",
        secret: false,
        get: |a| {
            a.sp.sp_properties
                .iter()
                .find(|p| p.name.as_deref() == Some(SKIP_CONSENT))
                .and_then(|p| p.value.clone())
        },
        set: |a, d| {
            fields::set_named(
                &mut a.sp.sp_properties,
                &d.sp.sp_properties,
                |p| p.name.as_deref(),
                SKIP_CONSENT,
            )
        },
    },
];

/// The service provider property of IS 5.9's consent switch.
const SKIP_CONSENT: &str = "skipConsent";

pub(crate) async fn read(
    r: &FedRunner<'_>,
    name: &str,
) -> Result<LiveApplication, wso2_is_client::Error> {
    let is: &IsClient = r.is;
    let oauth = OAuthAppName::new(name)?;
    let sp = ApplicationName::new(name)?;
    let (oauth, sp) = r
        .both(
            is.oauth_apps().get_by_name(&oauth),
            is.applications().get(&sp),
        )
        .await;
    Ok(LiveApplication {
        oauth: oauth?,
        sp: sp?,
    })
}

/// The plan's decision for the application.
pub(crate) fn decide(
    name: &str,
    live: &LiveApplication,
    desired: &DesiredApplication,
    ownership: &Ownership,
    knowledge: &Knowledge,
    step: &StepId,
    force: bool,
) -> Result<Decision, Conflict> {
    let unknown_create = knowledge.unknown_creates.get(step).and_then(Option::as_ref);
    let conflict = |reason: String| Conflict {
        kind: ObjectKind::Application,
        name: name.to_owned(),
        reason,
    };
    let ours = live
        .sp
        .as_ref()
        .is_some_and(|sp| ownership.marks(sp.description.as_deref()));
    // A create of this federation whose outcome was never known (a crash between its two
    // halves) may have left one half: the OAuth client with the client id it recorded, or the
    // service provider with our tag. Creating again completes it (the create keeps a half that
    // is provably ours).
    let half_ours = match (&live.oauth, &live.sp) {
        (Some(oauth), None) => unknown_create
            .and_then(|post| from_json::<App>(post).ok())
            .is_some_and(|img| {
                oauth.oauth_consumer_key.is_some()
                    && img.oauth.oauth_consumer_key == oauth.oauth_consumer_key
            }),
        (None, Some(_)) => ours,
        _ => false,
    };
    let create = || {
        let mut diff = fields::create(FIELDS, &desired.app);
        diff.push(FieldDiff::value(
            "clientId",
            None,
            desired.app.oauth.oauth_consumer_key.clone(),
        ));
        diff.push(FieldDiff::secret(
            "clientSecret",
            if desired.secret_generated {
                SecretChange::Generated
            } else {
                SecretChange::Set
            },
        ));
        Ok(Decision::new(PlanAction::Create, diff))
    };
    match (&live.oauth, &live.sp) {
        (None, None) => create(),
        _ if half_ours => create(),
        (Some(oauth), Some(_)) if ours => {
            if oauth.oauth_consumer_key != desired.app.oauth.oauth_consumer_key {
                return Err(conflict(format!(
                    "its service provider carries this federation's tag, but its OAuth client id is {:?}, not {:?}: it was changed by hand; remove it or restore the client id",
                    oauth.oauth_consumer_key.as_deref().unwrap_or(""),
                    desired.app.oauth.oauth_consumer_key.as_deref().unwrap_or("")
                )));
            }
            let Some(app) = live.both() else {
                unreachable!("both halves are present")
            };
            let diff = fields::diff(FIELDS, &app, &desired.app);
            if !diff.is_empty()
                && !force
                && let Some(Ok(post)) = knowledge.post_images.get(step).map(from_json::<App>)
            {
                let changed = fields::changed_since(FIELDS, &post, &app, &desired.app);
                if !changed.is_empty() {
                    return Err(conflict(format!(
                        "changed by someone else since this federation wrote it ({}); rerun with --force to overwrite",
                        changed.join("; ")
                    )));
                }
            }
            Ok(update_or_keep(diff))
        }
        (Some(_), None) => Err(conflict(
            "an OAuth application of this name exists without a service provider, not made by this federation; choose another service provider name, or remove it".into(),
        )),
        (_, Some(_)) => Err(conflict(format!(
            "exists and does not carry this federation's tag {}; choose another service provider name, or remove it",
            ownership.tag()
        ))),
    }
}

pub(super) async fn apply(
    r: &FedRunner<'_>,
    ctx: &StepCtx<'_>,
    step: &StepId,
    action: PlanAction,
) -> Result<Effect, StepFailure> {
    let desired = &r.desired()?.application.app;
    let name = desired
        .sp
        .application_name
        .clone()
        .ok_or_else(|| StepFailure::clean("the desired service provider has no name"))?;
    if action == PlanAction::Update {
        return update(r, ctx, step, &name, desired).await;
    }
    let post = to_json(desired)?;
    intent(ctx, Action::Create, None, Some(post.clone()))?;
    let apps = r.is.applications();
    let oauth_apps = r.is.oauth_apps();
    let oauth_key = desired.oauth.oauth_consumer_key.clone();
    let bare = ServiceProvider::named(&sp_name(&name)?)
        .with_description(desired.sp.description.clone().unwrap_or_default());
    // The OAuth client and the bare service provider at once.
    let (registered, created) = r
        .both(oauth_apps.register(&desired.oauth), apps.create(&bare))
        .await;
    let mut problems: Vec<StepFailure> = Vec::new();
    match registered {
        Ok(()) => {}
        // Refused as a duplicate, or its answer lost: ours only if it has our (random, unique)
        // client id (an earlier call of this run, or this call stored before its answer was lost).
        Err(e) if e.already_exists() || !e.changed_nothing() => {
            match oauth_apps.get_by_name(&oauth_name(&name)?).await {
                Ok(Some(app)) if app.oauth_consumer_key == oauth_key => {}
                Ok(None) if !e.already_exists() => problems.push(StepFailure::clean(e)),
                Ok(_) => problems.push(StepFailure::refused(TakenByOthers {
                    what: format!("OAuth application {name}"),
                    source: Box::new(e),
                })),
                Err(_) => problems.push(failed(e)),
            }
        }
        Err(e) => problems.push(StepFailure::clean(e)),
    }
    let read = match created {
        Ok(sp) => Some(sp),
        Err(e) if e.already_exists() => match apps.get(&sp_name(&name)?).await {
            Ok(Some(sp)) if r.ownership.marks(sp.description.as_deref()) => Some(sp),
            _ => {
                problems.push(StepFailure::refused(TakenByOthers {
                    what: format!("service provider {name}"),
                    source: Box::new(e),
                }));
                None
            }
        },
        // The create's answer was lost: read back by name; our tag proves it is ours.
        Err(e) if !e.changed_nothing() => match apps.get(&sp_name(&name)?).await {
            Ok(Some(sp)) if r.ownership.marks(sp.description.as_deref()) => Some(sp),
            Ok(None) => {
                problems.push(StepFailure::clean(e));
                None
            }
            _ => {
                problems.push(failed(e));
                None
            }
        },
        Err(e) => {
            problems.push(StepFailure::clean(e));
            None
        }
    };
    if let Some(first) = problems
        .into_iter()
        .reduce(|a, b| if a.refused { a } else { b })
    {
        // One half may have been made: undo reads back and removes what carries our tag or
        // our client id.
        return Err(StepFailure {
            outcome_unknown: true,
            ..first
        });
    }
    let Some(read) = read else {
        return Err(StepFailure::unknown(
            "the service provider was not read back",
        ));
    };
    let configured = fields::merge(
        FIELDS,
        &App {
            oauth: desired.oauth.clone(),
            sp: read,
        },
        desired,
    );
    apps.update(&configured.sp)
        .await
        .map_err(StepFailure::unknown)?;
    r.mark_created(step);
    Ok(Effect::Created {
        post_image: Some(post),
    })
}

async fn update(
    r: &FedRunner<'_>,
    ctx: &StepCtx<'_>,
    step: &StepId,
    name: &str,
    desired: &App,
) -> Result<Effect, StepFailure> {
    let live = r.live()?.application.both();
    let live = match live {
        Some(app) => app,
        None => read(r, name)
            .await
            .map_err(StepFailure::clean)?
            .both()
            .ok_or_else(|| {
                StepFailure::clean(format!("application {name} disappeared since the plan"))
            })?,
    };
    let merged = fields::merge(FIELDS, &live, desired);
    if merged == live {
        return Ok(Effect::Unchanged);
    }
    let pre = to_json(&live)?;
    let post = to_json(&merged)?;
    r.remember(
        step,
        PreImage::Application(Box::new(LiveApplication {
            oauth: Some(live.oauth.clone()),
            sp: Some(live.sp.clone()),
        })),
    );
    intent(ctx, Action::Update, Some(pre.clone()), Some(post.clone()))?;
    let apps = r.is.applications();
    let oauth_apps = r.is.oauth_apps();
    let (oauth_writes, sp_writes) = (merged.oauth != live.oauth, merged.sp != live.sp);
    let (a, b) = r
        .both(
            async {
                if oauth_writes {
                    oauth_apps.update(&merged.oauth).await
                } else {
                    Ok(())
                }
            },
            async {
                if sp_writes {
                    apps.update(&merged.sp).await
                } else {
                    Ok(())
                }
            },
        )
        .await;
    failed_pair((a, oauth_writes), (b, sp_writes))?;
    Ok(Effect::Updated {
        pre_image: pre,
        post_image: Some(post),
    })
}

pub(super) async fn prepare_undo(r: &FedRunner<'_>, name: &str) -> Result<Prepared, StepFailure> {
    Ok(Prepared::Application(Box::new(
        read(r, name).await.map_err(StepFailure::clean)?,
    )))
}

pub(super) async fn undo(
    r: &FedRunner<'_>,
    step: &StepId,
    name: &str,
    client_id: &str,
    effect: &Effect,
    prepared: Prepared,
) -> Result<(), StepFailure> {
    let Prepared::Application(live) = prepared else {
        return Err(StepFailure::clean(
            "the application was not read before its undo",
        ));
    };
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
            let sp_ours = live
                .sp
                .as_ref()
                .filter(|sp| r.ownership.marks(sp.description.as_deref()));
            let oauth_ours = live
                .oauth
                .as_ref()
                .filter(|a| a.oauth_consumer_key.as_deref() == Some(client_id));
            if let (Some(sp), Some(oauth)) = (sp_ours, oauth_ours) {
                let now = App {
                    oauth: oauth.clone(),
                    sp: sp.clone(),
                };
                let written = post_image.map(from_json::<App>).transpose()?;
                fields::unchanged_since(
                    FIELDS,
                    &format!("application {name}"),
                    written.as_ref(),
                    &now,
                    r.force,
                )?;
            }
            let apps = r.is.applications();
            let oauth_apps = r.is.oauth_apps();
            let key = ConsumerKey::new(client_id).map_err(StepFailure::clean)?;
            let sp = sp_name(name)?;
            // Both at once: IS 5.x removes the client with its service provider, and removing
            // an absent client succeeds.
            let (a, b) = r
                .both(
                    async {
                        match sp_ours {
                            Some(_) => match apps.delete(&sp).await {
                                Ok(()) => Ok(()),
                                Err(e) => match apps.get(&sp).await {
                                    Ok(None) => Ok(()),
                                    _ => Err(e),
                                },
                            },
                            None => Ok(()),
                        }
                    },
                    async {
                        match oauth_ours {
                            Some(_) => oauth_apps.remove(&key).await,
                            None => Ok(()),
                        }
                    },
                )
                .await;
            a.and(b).map_err(StepFailure::clean)
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
            let Some(now) = live.both() else {
                return Err(StepFailure::clean(format!(
                    "application {name} is gone; nothing to restore"
                )));
            };
            let before = match r.remembered(step) {
                Some(PreImage::Application(app)) => app.both(),
                _ => None,
            }
            .map_or_else(|| from_json::<App>(pre_image), Ok)?;
            let written = post_image.as_ref().map(from_json::<App>).transpose()?;
            let Some(target) = fields::restore3(
                FIELDS,
                &format!("application {name}"),
                &before,
                written.as_ref(),
                &now,
                r.force,
            )?
            else {
                return Ok(());
            };
            let apps = r.is.applications();
            let oauth_apps = r.is.oauth_apps();
            let (a, b) = r
                .both(
                    async {
                        if target.oauth == now.oauth {
                            Ok(())
                        } else {
                            oauth_apps.update(&target.oauth).await
                        }
                    },
                    async {
                        if target.sp == now.sp {
                            Ok(())
                        } else {
                            apps.update(&target.sp).await
                        }
                    },
                )
                .await;
            a.and(b).map_err(StepFailure::clean)
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> App {
        let name = OAuthAppName::new("apim-federation").unwrap();
        let key = ConsumerKey::new("clientId0123456789").unwrap();
        let oauth = OAuthConsumerAppDTO::new(&name)
            .with_callback_url("https://apim/commonauth")
            .with_grant_types([GrantType::parse("authorization_code")])
            .with_consumer_key(&key)
            .with_consumer_secret(SecretString::from("s".repeat(20)));
        let sp = ServiceProvider::named(&ApplicationName::new("apim-federation").unwrap())
            .with_description("d");
        App { oauth, sp }
    }

    /// A crash between the two halves of a create leaves one of them: the plan completes it when
    /// the journal proves the half ours (the client id its create recorded, or our tag), and
    /// refuses it otherwise.
    #[test]
    fn a_half_made_application_is_completed_only_when_provably_ours() {
        let ownership = Ownership {
            marker: "m".into(),
            instance: "i".into(),
        };
        let desired = DesiredApplication {
            app: app(),
            secret_generated: false,
        };
        let step = StepId::new("is.application:apim-federation");
        let recorded = serde_json::to_value(app()).unwrap();
        let mut other = app();
        other.oauth.oauth_consumer_key = Some("someoneElse0123456789".into());
        let other_post = serde_json::to_value(other).unwrap();
        let oauth_only = LiveApplication {
            oauth: Some(app().oauth),
            sp: None,
        };
        let decide_with = |live: &LiveApplication, unknown: Option<&serde_json::Value>| {
            let mut knowledge = Knowledge::default();
            if let Some(post) = unknown {
                knowledge
                    .unknown_creates
                    .insert(step.clone(), Some(post.clone()));
            }
            decide(
                "apim-federation",
                live,
                &desired,
                &ownership,
                &knowledge,
                &step,
                false,
            )
            .map(|d| d.action)
        };
        // The OAuth half, with the client id the unknown create recorded: completed.
        assert_eq!(
            decide_with(&oauth_only, Some(&recorded)),
            Ok(PlanAction::Create)
        );
        // Without the journal's record, or with another client id: someone else's.
        assert!(decide_with(&oauth_only, None).is_err());
        assert!(decide_with(&oauth_only, Some(&other_post)).is_err());
        // The service provider half with our tag: completed; without it: someone else's.
        let mut tagged = app().sp;
        tagged.description = Some(ownership.describe("x"));
        let sp_only = |sp: ServiceProvider| LiveApplication {
            oauth: None,
            sp: Some(sp),
        };
        assert_eq!(decide_with(&sp_only(tagged), None), Ok(PlanAction::Create));
        assert!(decide_with(&sp_only(app().sp), None).is_err());
    }

    #[test]
    fn every_managed_field_shows_in_the_diff_and_merging_empties_it() {
        for (i, f) in FIELDS.iter().enumerate() {
            let live = app();
            let mut desired = app();
            match i {
                0 => desired.oauth.callback_url = Some("https://other/commonauth".into()),
                1 => desired.oauth.grant_types = Some("authorization_code password".into()),
                2 => desired.oauth.oauth_version = Some("OAuth-1.0a".into()),
                3 => desired.oauth.pkce_mandatory = Some(true),
                4 => desired.sp.description = Some("other".into()),
                5 => {
                    let mut c = InboundAuthenticationRequestConfig::default();
                    c.inbound_auth_key = Some("k2".into());
                    c.inbound_auth_type = Some(OAUTH2_INBOUND_TYPE.into());
                    let mut ic = InboundAuthenticationConfig::default();
                    ic.inbound_authentication_request_configs = vec![c];
                    desired.sp.inbound_authentication_config = Some(ic);
                }
                6 => {
                    let mut c = ClaimConfig::default();
                    c.local_claim_dialect = Some(true);
                    desired.sp.claim_config = Some(c);
                }
                7 => {
                    let mut p = ServiceProviderProperty::default();
                    p.name = Some(SKIP_CONSENT.into());
                    p.value = Some("true".into());
                    desired.sp.sp_properties.push(p);
                }
                _ => panic!("a field without a case: {}", f.name),
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
