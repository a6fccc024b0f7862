//! The application on IS through the REST management API (`/api/server/v1/applications`; IS
//! 5.10 and later, the only way from 7.2, where the SOAP admin services are off by default):
//! one application holding its OIDC inbound settings (client id and secret, grant types, APIM's
//! callback, PKCE not mandatory since APIM's authenticator sends no verifier, and on IS 7
//! `client_secret_basic` against the MutualTLS trap), the role claim requested as mandatory,
//! `sub` as the user name on IS 7 (else JIT users on APIM get UUID names), and consent skipped
//! (the login would stop at IS's consent page).
//!
//! Created in one request (`201` and the id in `Location`); an unknown outcome is settled by
//! reading back by name, ours only with this journal's tag in the description. Updated in the
//! managed fields when ours: `PATCH` for the description, claims and advanced settings and `PUT`
//! for the OIDC settings, at once. Undo deletes what this federation created (unchanged since) or
//! restores the pre-image three-way.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use wso2_is_client::ApplicationName;
use wso2_is_client::oauth::GrantType;
use wso2_is_client::rest::{
    AdvancedConfigurations, ApplicationId, ApplicationPatch, ClaimConfiguration, NewApplication,
    OidcConfiguration, RequestedClaim, TokenEndpointAuthMethod,
};

use super::fields::{self, Field};
use super::{
    Conflict, Decision, FedRunner, Knowledge, Ownership, PreImage, Prepared, StepFailure,
    TakenByOthers, WriteOutcome, failed, failed_pair, from_json, intent, to_json, update_or_keep,
};
use crate::Spec;
use crate::engine::{Action, Effect, StepCtx, StepId};
use crate::plan::{FieldDiff, ObjectKind, PlanAction, SecretChange};
use crate::versions::Versions;

/// The application as this federation compares and writes it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct RestApp {
    pub description: Option<String>,
    pub claims: Option<ClaimConfiguration>,
    pub advanced: Option<AdvancedConfigurations>,
    pub oidc: OidcConfiguration,
}

/// The application as planning read it: its id and state, or nothing.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub(crate) struct LiveRestApp {
    pub id: Option<ApplicationId>,
    pub app: Option<RestApp>,
}

impl LiveRestApp {
    /// The OAuth client id, when the application exists.
    pub(crate) fn client_id(&self) -> Option<&str> {
        self.app.as_ref()?.oidc.client_id.as_deref()
    }

    /// The client secret, when the application exists.
    pub(crate) fn secret(&self) -> Option<SecretString> {
        self.app.as_ref()?.oidc.client_secret().cloned()
    }
}

/// What the federation wants (secret included; in memory only).
#[derive(Clone)]
pub(crate) struct DesiredRestApp {
    pub app: RestApp,
    pub secret_generated: bool,
}

/// Reads the application by name: a find, then its settings and OIDC settings at once.
pub(crate) async fn read(
    is: &wso2_is_client::IsClient,
    name: &ApplicationName,
) -> Result<LiveRestApp, wso2_is_client::Error> {
    let apps = is.rest_applications();
    let Some(found) = apps.find_by_name(name).await? else {
        return Ok(LiveRestApp::default());
    };
    let (app, oidc) =
        futures_util::future::join(apps.get(&found.id), apps.get_oidc(&found.id)).await;
    let Some(app) = app? else {
        return Ok(LiveRestApp::default());
    };
    Ok(LiveRestApp {
        id: Some(found.id),
        app: Some(RestApp {
            description: app.description,
            claims: app.claim_configuration,
            advanced: app.advanced_configurations,
            oidc: oidc?.unwrap_or_default(),
        }),
    })
}

/// The application the settings describe on the IS release of `versions`.
pub(crate) fn desired(
    spec: &Spec,
    versions: &Versions,
    ownership: &Ownership,
    client_id: &str,
    secret: SecretString,
    secret_generated: bool,
) -> DesiredRestApp {
    let is = &versions.is;
    let mut oidc = OidcConfiguration::new(
        spec.grant_types
            .iter()
            .map(|g| GrantType::parse(g))
            .collect(),
    )
    .with_callback_urls([spec.callback_url.as_str()])
    .with_public_client(false)
    // APIM's OIDC authenticator sends no code_verifier (WSO2-VERSIONS.md §3.5).
    .with_pkce(false, false)
    .with_client_credentials(client_id, secret);
    if is.token_endpoint_auth_method {
        // IS 7: only the Basic header authenticates the client (no MutualTLS double method).
        oidc = oidc.with_token_endpoint_auth_method(TokenEndpointAuthMethod::ClientSecretBasic);
    }
    let role_claim = spec.role_claim_for(is).is_claim();
    let mut claims = ClaimConfiguration::local_with_mandatory(role_claim);
    if let Some(requested) = claims.requested_claims.as_mut() {
        requested.extend(
            spec.requested_claims
                .iter()
                .filter(|c| *c != role_claim)
                .map(|c| RequestedClaim::new(c.as_str(), false)),
        );
    }
    // `sub` as the user name: IS 7 would send the user's UUID (and JIT users on APIM would
    // get UUID names); earlier releases default to it, set explicitly so every release agrees.
    claims = claims.with_subject_claim("http://wso2.org/claims/username");
    let advanced = AdvancedConfigurations::default().with_consent_skipped(is.consent, true);
    DesiredRestApp {
        app: RestApp {
            description: Some(
                ownership.describe("Login of WSO2 API Manager through this Identity Server"),
            ),
            claims: Some(claims),
            advanced: (advanced != AdvancedConfigurations::default()).then_some(advanced),
            oidc,
        },
        secret_generated,
    }
}

fn requested(a: &RestApp) -> Option<String> {
    let mut v: Vec<String> = a
        .claims
        .as_ref()?
        .requested_claims
        .as_ref()?
        .iter()
        .map(|c| {
            format!(
                "{}{}",
                c.claim.uri,
                if c.mandatory == Some(true) {
                    " (mandatory)"
                } else {
                    ""
                }
            )
        })
        .collect();
    v.sort();
    fields::list(v)
}

fn set_requested(a: &mut RestApp, d: &RestApp) {
    let wanted = d.claims.as_ref().and_then(|c| c.requested_claims.clone());
    a.claims
        .get_or_insert_with(Default::default)
        .requested_claims = wanted;
}

fn subject(a: &RestApp) -> Option<String> {
    a.claims
        .as_ref()?
        .subject
        .as_ref()?
        .claim
        .as_ref()
        .map(|c| c.uri.clone())
}

fn consent(a: &RestApp) -> Option<String> {
    let ad = a.advanced.as_ref()?;
    let parts: Vec<String> = [
        ("skipConsent", ad.skip_consent),
        ("skipLoginConsent", ad.skip_login_consent),
        ("skipLogoutConsent", ad.skip_logout_consent),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| format!("{k} {v}")))
    .collect();
    fields::list(parts)
}

/// The fields this federation manages, and how the plan shows them.
pub(crate) const FIELDS: &[Field<RestApp>] = &[
    Field {
        name: "description",
        secret: false,
        get: |a| a.description.clone(),
        set: |a, d| a.description = d.description.clone(),
    },
    Field {
        name: "grantTypes",
        secret: false,
        get: |a| {
            let mut g: Vec<&str> = a.oidc.grant_types.iter().map(GrantType::as_str).collect();
            g.sort_unstable();
            fields::list(g)
        },
        set: |a, d| a.oidc.grant_types = d.oidc.grant_types.clone(),
    },
    Field {
        name: "callbackURLs",
        secret: false,
        get: |a| {
            a.oidc
                .callback_urls
                .as_ref()
                .and_then(|c| fields::list(c.iter()))
        },
        set: |a, d| a.oidc.callback_urls = d.oidc.callback_urls.clone(),
    },
    Field {
        name: "pkce.mandatory",
        secret: false,
        get: |a| fields::flag(a.oidc.pkce.as_ref().and_then(|p| p.mandatory)),
        set: |a, d| {
            let m = d.oidc.pkce.as_ref().and_then(|p| p.mandatory);
            a.oidc.pkce.get_or_insert_with(Default::default).mandatory = m;
        },
    },
    Field {
        name: "clientAuthentication.tokenEndpointAuthMethod",
        secret: false,
        get: |a| {
            a.oidc
                .client_authentication
                .as_ref()
                .and_then(|c| c.token_endpoint_auth_method.as_ref())
                .map(|m| m.as_str().to_owned())
        },
        set: |a, d| {
            let m = d
                .oidc
                .client_authentication
                .as_ref()
                .and_then(|c| c.token_endpoint_auth_method.clone());
            if m.is_some() || a.oidc.client_authentication.is_some() {
                a.oidc
                    .client_authentication
                    .get_or_insert_with(Default::default)
                    .token_endpoint_auth_method = m;
            }
        },
    },
    Field {
        name: "clientSecret",
        secret: true,
        get: |a| {
            a.oidc.client_secret().map(|s| {
                use secrecy::ExposeSecret;
                s.expose_secret().to_owned()
            })
        },
        set: |a, d| a.oidc.client_secret = d.oidc.client_secret.clone(),
    },
    Field {
        name: "claimConfiguration.requestedClaims",
        secret: false,
        get: requested,
        set: set_requested,
    },
    Field {
        name: "claimConfiguration.subject",
        secret: false,
        get: subject,
        set: |a, d| {
            let s = d.claims.as_ref().and_then(|c| c.subject.clone());
            if s.is_some() || a.claims.as_ref().is_some_and(|c| c.subject.is_some()) {
                a.claims.get_or_insert_with(Default::default).subject = s;
            }
        },
    },
    Field {
        name: "advancedConfigurations (consent)",
        secret: false,
        get: consent,
        set: |a, d| {
            let src = d.advanced.clone().unwrap_or_default();
            if d.advanced.is_some() || a.advanced.is_some() {
                let ad = a.advanced.get_or_insert_with(Default::default);
                ad.skip_consent = src.skip_consent;
                ad.skip_login_consent = src.skip_login_consent;
                ad.skip_logout_consent = src.skip_logout_consent;
            }
        },
    },
];

/// The plan's decision: create when absent; update the managed fields of ours; anything else
/// with the name is a conflict.
pub(crate) fn decide(
    name: &str,
    live: &LiveRestApp,
    desired: &DesiredRestApp,
    ownership: &Ownership,
    knowledge: &Knowledge,
    step: &StepId,
    force: bool,
) -> Result<Decision, Conflict> {
    let conflict = |reason: String| Conflict {
        kind: ObjectKind::Application,
        name: name.to_owned(),
        reason,
    };
    let Some(app) = &live.app else {
        let mut diff: Vec<FieldDiff> = fields::create(FIELDS, &desired.app)
            .into_iter()
            .filter(|d| d.field != "clientSecret")
            .collect();
        diff.push(FieldDiff::value(
            "clientId",
            None,
            desired.app.oidc.client_id.clone(),
        ));
        diff.push(FieldDiff::secret(
            "clientSecret",
            if desired.secret_generated {
                SecretChange::Generated
            } else {
                SecretChange::Set
            },
        ));
        return Ok(Decision::new(PlanAction::Create, diff));
    };
    if !ownership.marks(app.description.as_deref()) {
        return Err(conflict(
            "an application of that name exists on IS that this federation did not make; choose another `service_provider.name`, or remove it".into(),
        ));
    }
    if app.oidc.client_id != desired.app.oidc.client_id {
        return Err(conflict(format!(
            "it carries this federation's tag, but its OAuth client id is {:?}, not {:?}: it was changed by hand; remove it or restore the client id",
            app.oidc.client_id.as_deref().unwrap_or(""),
            desired.app.oidc.client_id.as_deref().unwrap_or("")
        )));
    }
    if let Some(post) = knowledge.post_images.get(step)
        && !force
        && let Ok(written) = serde_json::from_value::<RestApp>(post.clone())
    {
        let changed = fields::changed_since(FIELDS, &written, app, &desired.app);
        if !changed.is_empty() {
            return Err(conflict(format!(
                "changed by someone else since this federation wrote it ({}); rerun with --force to overwrite",
                changed.join("; ")
            )));
        }
    }
    Ok(update_or_keep(fields::diff(FIELDS, app, &desired.app)))
}

fn app_name(name: &str) -> Result<ApplicationName, StepFailure> {
    ApplicationName::new(name).map_err(StepFailure::clean)
}

pub(super) async fn apply(
    r: &FedRunner<'_>,
    ctx: &StepCtx<'_>,
    step: &StepId,
    name: &str,
    action: PlanAction,
) -> Result<Effect, StepFailure> {
    let desired = &r
        .desired()?
        .rest_application
        .as_ref()
        .ok_or_else(|| StepFailure::clean("no REST application in the settings"))?
        .app;
    let apps = r.is.rest_applications();
    let name = app_name(name)?;
    if action == PlanAction::Update {
        let live = match r.live()?.rest_application.clone() {
            LiveRestApp {
                id: Some(id),
                app: Some(app),
            } => (id, app),
            _ => match read(r.is, &name).await.map_err(StepFailure::clean)? {
                LiveRestApp {
                    id: Some(id),
                    app: Some(app),
                } => (id, app),
                _ => {
                    return Err(StepFailure::clean(format!(
                        "application {name} disappeared since the plan"
                    )));
                }
            },
        };
        let (id, live) = live;
        let merged = fields::merge(FIELDS, &live, desired);
        if merged == live {
            return Ok(Effect::Unchanged);
        }
        let (pre, post) = (to_json(&live)?, to_json(&merged)?);
        r.remember(step, PreImage::RestApp(Box::new(live.clone())));
        intent(ctx, Action::Update, Some(pre.clone()), Some(post.clone()))?;
        write(r, &id, &live, &merged).await?;
        return Ok(Effect::Updated {
            pre_image: pre,
            post_image: Some(post),
        });
    }
    let post = to_json(desired)?;
    intent(ctx, Action::Create, None, Some(post.clone()))?;
    let mut new = NewApplication::new(&name).with_oidc(desired.oidc.clone());
    if let Some(d) = &desired.description {
        new = new.with_description(d.clone());
    }
    if let Some(c) = &desired.claims {
        new = new.with_claim_configuration(c.clone());
    }
    if let Some(a) = &desired.advanced {
        new = new.with_advanced_configurations(a.clone());
    }
    let created = || {
        r.mark_created(step);
        Effect::Created {
            post_image: Some(post.clone()),
        }
    };
    match apps.create(&new).await {
        Ok(_) => Ok(created()),
        Err(e) if e.already_exists() && r.did_create(step) => Ok(created()),
        Err(e) if e.already_exists() => Err(StepFailure::refused(TakenByOthers {
            what: format!("application {name}"),
            source: Box::new(e),
        })),
        Err(e) if e.changed_nothing() => Err(StepFailure::clean(e)),
        // The answer was lost: ours only with this journal's tag.
        Err(e) => match read(r.is, &name).await {
            Ok(LiveRestApp { app: None, .. }) => Err(StepFailure::clean(e)),
            Ok(LiveRestApp { app: Some(a), .. }) if r.ownership.marks(a.description.as_deref()) => {
                tracing::info!(error = %e, %name, "the create's answer was lost, the application is there with our tag");
                Ok(created())
            }
            Ok(_) => Err(StepFailure::refused(TakenByOthers {
                what: format!("application {name}"),
                source: Box::new(e),
            })),
            Err(_) => Err(failed(e)),
        },
    }
}

/// Writes `target` over `live`: the application's settings and its OIDC settings, at once.
async fn write(
    r: &FedRunner<'_>,
    id: &ApplicationId,
    live: &RestApp,
    target: &RestApp,
) -> Result<(), StepFailure> {
    let apps = r.is.rest_applications();
    let mut patch = ApplicationPatch::new();
    if target.description != live.description
        && let Some(d) = &target.description
    {
        patch = patch.description(d.clone());
    }
    if target.claims != live.claims
        && let Some(c) = &target.claims
    {
        patch = patch.claim_configuration(c.clone());
    }
    if target.advanced != live.advanced
        && let Some(a) = &target.advanced
    {
        patch = patch.advanced_configurations(a.clone());
    }
    let (patch_sent, oidc_sent) = (!patch.is_empty(), target.oidc != live.oidc);
    let (a, b) = r
        .both(
            async {
                if patch_sent {
                    apps.patch(id, &patch).await
                } else {
                    Ok(())
                }
            },
            async {
                if oidc_sent {
                    apps.put_oidc(id, &target.oidc).await
                } else {
                    Ok(())
                }
            },
        )
        .await;
    failed_pair((a, patch_sent), (b, oidc_sent))
}

pub(super) async fn prepare_undo(r: &FedRunner<'_>, name: &str) -> Result<Prepared, StepFailure> {
    Ok(Prepared::RestApp(Box::new(
        read(r.is, &app_name(name)?)
            .await
            .map_err(StepFailure::clean)?,
    )))
}

pub(super) async fn undo(
    r: &FedRunner<'_>,
    step: &StepId,
    name: &str,
    effect: &Effect,
    prepared: Prepared,
) -> Result<(), StepFailure> {
    let Prepared::RestApp(live) = prepared else {
        return Err(StepFailure::clean(
            "the application was not read before its undo",
        ));
    };
    let LiveRestApp {
        id: Some(id),
        app: Some(now),
    } = *live
    else {
        return Ok(());
    };
    let apps = r.is.rest_applications();
    match effect {
        Effect::Created { .. }
        | Effect::Unknown {
            action: Action::Create,
            ..
        } => {
            // Only ours (our tag), and only as we wrote it.
            if !r.ownership.marks(now.description.as_deref()) {
                return Ok(());
            }
            let written = match effect {
                Effect::Created { post_image } => {
                    post_image.as_ref().map(from_json::<RestApp>).transpose()?
                }
                _ => None,
            };
            fields::unchanged_since(
                FIELDS,
                &format!("application {name}"),
                written.as_ref(),
                &now,
                r.force,
            )?;
            match apps.delete(&id).await {
                Ok(()) => Ok(()),
                Err(e) if e.is_not_found() => Ok(()),
                Err(e) => match read(r.is, &app_name(name)?).await {
                    Ok(LiveRestApp { app: None, .. }) => Ok(()),
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
            let before = match r.remembered(step) {
                Some(PreImage::RestApp(app)) => *app,
                _ => from_json::<RestApp>(pre_image)?,
            };
            let written = post_image.as_ref().map(from_json::<RestApp>).transpose()?;
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
            write(r, &id, &now, &target).await.map_err(|f| StepFailure {
                outcome_unknown: false,
                ..f
            })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wso2_is_client::version::{IsCapabilities, ServerVersion};

    fn app() -> RestApp {
        let caps = IsCapabilities::of(ServerVersion::is(7, 0));
        RestApp {
            description: Some("d".into()),
            claims: Some(
                ClaimConfiguration::local_with_mandatory("http://wso2.org/claims/groups")
                    .with_subject_claim("http://wso2.org/claims/username"),
            ),
            advanced: Some(
                AdvancedConfigurations::default().with_consent_skipped(caps.consent, true),
            ),
            oidc: OidcConfiguration::new(vec![GrantType::parse("authorization_code")])
                .with_callback_urls(["https://apim/commonauth"])
                .with_pkce(false, false)
                .with_token_endpoint_auth_method(TokenEndpointAuthMethod::ClientSecretBasic)
                .with_client_credentials("client", SecretString::from("s".repeat(20))),
        }
    }

    #[test]
    fn every_managed_field_shows_in_the_diff_and_merging_empties_it() {
        for f in FIELDS {
            let live = app();
            let mut desired = app();
            match f.name {
                "description" => desired.description = Some("other".into()),
                "grantTypes" => desired.oidc.grant_types.push(GrantType::parse("password")),
                "callbackURLs" => {
                    desired.oidc.callback_urls = Some(vec!["https://x/commonauth".into()])
                }
                "pkce.mandatory" => desired.oidc = desired.oidc.clone().with_pkce(true, false),
                "clientAuthentication.tokenEndpointAuthMethod" => {
                    desired.oidc = desired
                        .oidc
                        .clone()
                        .with_token_endpoint_auth_method(TokenEndpointAuthMethod::PrivateKeyJwt)
                }
                "clientSecret" => {
                    desired.oidc = desired
                        .oidc
                        .clone()
                        .with_client_credentials("client", SecretString::from("t".repeat(20)))
                }
                "claimConfiguration.requestedClaims" => {
                    desired.claims = desired.claims.clone().map(|mut c| {
                        c.requested_claims = Some(vec![RequestedClaim::new("x", false)]);
                        c
                    })
                }
                "claimConfiguration.subject" => {
                    desired.claims = desired
                        .claims
                        .clone()
                        .map(|c| c.with_subject_claim("http://wso2.org/claims/emailaddress"))
                }
                "advancedConfigurations (consent)" => {
                    desired.advanced = desired.advanced.clone().map(|mut a| {
                        a.skip_login_consent = Some(false);
                        a
                    })
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
        }
    }
}
