//! Reads the live servers (reads only) and decides, per object, what the apply must do.
//!
//! Every read is by natural key (one request per object), so the number of requests does not
//! grow with the number of objects on the servers.

use std::collections::HashMap;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use wso2_apim_client::idp::OidcIdp;
use wso2_apim_client::portals::{Portal, is_switched};
use wso2_is_client::application::OAUTH2_INBOUND_TYPE;
use wso2_is_client::model::{
    Claim, ClaimConfig, ClaimMapping, IdentityProvider, InboundAuthenticationConfig,
    InboundAuthenticationRequestConfig, Property, ServiceProvider,
};
use wso2_is_client::oauth::{GrantType, OAuthConsumerAppDTO};
use wso2_is_client::{ConsumerKey, OAuthAppName, RoleName, UserName};

use crate::engine::{Server, StepDef, StepId};
use crate::error::FederationError;
use crate::plan::{FieldDiff, ObjectKind, Plan, PlanAction, PlannedChange, SecretChange, digest};
use crate::steps::{Desired, Object, StepSpec, apim_idp, service_provider};
use crate::{Federation, Spec};

/// What planning produced: the plan to show, the steps to run, the objects to write.
pub(crate) struct Planned {
    pub plan: Plan,
    pub steps: Vec<StepDef<StepSpec>>,
    pub desired: Desired,
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `len` characters from the operating system's CSPRNG, letters and digits only (no bias:
/// rejection sampling).
pub(crate) fn random_token(len: usize) -> Result<String, FederationError> {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        getrandom::fill(&mut buf).map_err(|e| {
            FederationError::Internal(format!("no randomness from the operating system: {e}"))
        })?;
        for &b in &buf {
            // 248 = 4 * 62: values above would bias the first characters.
            if b < 248 && out.len() < len {
                out.push(ALNUM[usize::from(b % 62)] as char);
            }
        }
    }
    Ok(out)
}

fn observed<T: Serialize>(value: &Option<T>) -> Option<String> {
    value
        .as_ref()
        .map(|v| digest(&serde_json::to_string(v).unwrap_or_default()))
}

fn desc(spec: &Spec, what: &str) -> String {
    format!(
        "{what}, managed by wso2-federation {}",
        spec.ownership_tag()
    )
}

/// The service provider the federation wants on IS.
pub(crate) fn desired_service_provider(
    spec: &Spec,
    client_id: &str,
    secret: &SecretString,
) -> ServiceProvider {
    let mut sp = ServiceProvider::named(&spec.service_provider);
    sp.description = Some(desc(
        spec,
        "Login of WSO2 API Manager through this Identity Server",
    ));
    let mut inbound = InboundAuthenticationRequestConfig::default();
    inbound.inbound_auth_key = Some(client_id.to_owned());
    inbound.inbound_auth_type = Some(OAUTH2_INBOUND_TYPE.to_owned());
    inbound.properties = vec![Property::secret(
        wso2_is_client::application::OAUTH_CONSUMER_SECRET_PROPERTY,
        wso2_is_client::Secret::from(secret.clone()),
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
    let mut claims = ClaimConfig::default();
    claims.local_claim_dialect = Some(true);
    claims.claim_mappings = std::iter::once(mapping(spec.role_claim.is_claim(), true))
        .chain(
            spec.requested_claims
                .iter()
                .filter(|c| *c != spec.role_claim.is_claim())
                .map(|c| mapping(c, false)),
        )
        .collect();
    sp.claim_config = Some(claims);
    sp
}

/// The OAuth application the federation wants on IS.
pub(crate) fn desired_oauth_app(
    spec: &Spec,
    client_id: &str,
    secret: &SecretString,
) -> Result<OAuthConsumerAppDTO, FederationError> {
    let name = OAuthAppName::new(spec.service_provider.as_str())?;
    let key = ConsumerKey::new(client_id)?;
    Ok(OAuthConsumerAppDTO::new(&name)
        .with_callback_url(spec.callback_url.as_str())
        .with_grant_types(spec.grant_types.iter().map(|g| GrantType::parse(g)))
        .with_consumer_key(&key)
        .with_consumer_secret(secret.clone()))
}

/// The identity provider the federation wants on APIM.
pub(crate) fn desired_idp(
    spec: &Spec,
    client_id: &str,
    secret: &SecretString,
) -> Result<IdentityProvider, FederationError> {
    let mut b = OidcIdp::new(spec.identity_provider.clone(), client_id, secret.clone())
        .endpoints_of_is(&spec.is_browser_url, &spec.is_backend_url)
        .callback_url(spec.callback_url.as_str())
        .display_name(&spec.idp_display_name)
        .description(desc(
            spec,
            "WSO2 Identity Server as the OIDC login of this API Manager",
        ))
        .basic_auth(spec.client_auth == crate::ClientAuthMode::BasicHeader)
        .jit(spec.jit.enabled.then(|| spec.jit.user_store.clone()))
        .role_claim(spec.role_claim.token_claim())
        .scopes(spec.role_claim.scopes());
    if let Some(q) = spec.role_claim.query_params() {
        b = b.query_params(q);
    }
    for m in &spec.role_mappings {
        b = b.map_role(m.remote.as_str(), m.local.clone());
    }
    Ok(b.build()?)
}

/// What planning reads from the servers.
#[derive(Default)]
struct Live {
    roles: HashMap<RoleName, bool>,
    users: HashMap<UserName, Option<Vec<String>>>,
    oauth_app: Option<OAuthConsumerAppDTO>,
    service_provider: Option<ServiceProvider>,
    idp: Option<IdentityProvider>,
    portals: HashMap<Portal, Option<ServiceProvider>>,
}

enum Read {
    Role(RoleName, bool),
    User(UserName, Option<Vec<String>>),
    OAuth(Option<OAuthConsumerAppDTO>),
    Sp(Option<ServiceProvider>),
    Idp(Option<IdentityProvider>),
    Portal(Portal, Option<ServiceProvider>),
    LocalRole(RoleName, bool),
}

impl Federation {
    async fn read_live(&self) -> Result<Live, FederationError> {
        let spec = &self.spec;
        let is = &self.is;
        let apim = &self.apim;
        type ReadFuture<'f> = std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<Read, FederationError>> + Send + 'f>,
        >;
        let mut reads: Vec<(Server, ReadFuture<'_>)> = Vec::new();
        // The mapped local roles, one read each, so that they count against the limit.
        for role in spec.mapped_local_roles() {
            reads.push((
                Server::Apim,
                Box::pin(async move {
                    let exists = apim.roles().exists(&role).await?;
                    Ok(Read::LocalRole(role, exists))
                }),
            ));
        }
        for role in &spec.roles {
            let name = role.name.clone();
            reads.push((
                Server::Is,
                Box::pin(async move {
                    let exists = is.users().role_exists(&name).await?;
                    Ok(Read::Role(name, exists))
                }),
            ));
        }
        for user in &spec.users {
            let name = user.name.clone();
            reads.push((
                Server::Is,
                Box::pin(async move {
                    let roles = if is.users().user_exists(&name).await? {
                        Some(is.users().roles_of_user(&name).await?)
                    } else {
                        None
                    };
                    Ok(Read::User(name, roles))
                }),
            ));
        }
        let app_name = OAuthAppName::new(spec.service_provider.as_str())?;
        reads.push((
            Server::Is,
            Box::pin(async move { Ok(Read::OAuth(is.oauth_apps().get_by_name(&app_name).await?)) }),
        ));
        reads.push((
            Server::Is,
            Box::pin(async move {
                Ok(Read::Sp(
                    is.applications().get(&spec.service_provider).await?,
                ))
            }),
        ));
        reads.push((
            Server::Apim,
            Box::pin(async move {
                Ok(Read::Idp(
                    apim.identity_providers()
                        .get(&spec.identity_provider)
                        .await?,
                ))
            }),
        ));
        for &portal in &spec.portals {
            reads.push((
                Server::Apim,
                Box::pin(
                    async move { Ok(Read::Portal(portal, apim.portals().get(portal).await?)) },
                ),
            ));
        }
        // At most `concurrency` reads in flight per server, as the engine allows for steps: a
        // limit over both servers together held reads of one server back behind those of the
        // other (the seed setup's ten reads took two round trips instead of one).
        let is_reads = tokio::sync::Semaphore::new(spec.concurrency);
        let apim_reads = tokio::sync::Semaphore::new(spec.concurrency);
        let mut live = Live::default();
        let mut missing_local = Vec::new();
        let mut results: FuturesUnordered<_> = reads
            .into_iter()
            .map(|(server, read)| {
                let limit = match server {
                    Server::Is => &is_reads,
                    Server::Apim => &apim_reads,
                };
                async move {
                    let _permit = limit.acquire().await.map_err(|_| {
                        FederationError::Internal("the read limiter was closed".into())
                    })?;
                    read.await
                }
            })
            .collect();
        while let Some(read) = results.next().await {
            match read? {
                Read::Role(n, e) => {
                    live.roles.insert(n, e);
                }
                Read::User(n, r) => {
                    live.users.insert(n, r);
                }
                Read::OAuth(a) => live.oauth_app = a,
                Read::Sp(s) => live.service_provider = s,
                Read::Idp(i) => live.idp = i,
                Read::Portal(p, s) => {
                    live.portals.insert(p, s);
                }
                Read::LocalRole(role, false) => missing_local.push(role),
                Read::LocalRole(_, true) => {}
            }
        }
        if !missing_local.is_empty() {
            // Names the missing roles with the existing ones that look alike.
            apim.roles().require(&missing_local).await?;
        }
        Ok(live)
    }

    /// Reads both servers and decides what the apply must do (reads only).
    pub(crate) async fn make_plan(&self) -> Result<Planned, FederationError> {
        let spec = &self.spec;
        let live = self.read_live().await?;
        let tag = spec.ownership_tag();
        let owns = |d: Option<&str>| d.is_some_and(|d| d.contains(&tag));
        let sp_is_ours = live
            .service_provider
            .as_ref()
            .is_some_and(|sp| owns(sp.description.as_deref()));

        // The OAuth client: reuse an existing application's key and secret.
        let (client_id, secret, secret_change) = match &live.oauth_app {
            Some(app) => {
                let key = app.oauth_consumer_key.clone().unwrap_or_default();
                if let Some(fixed) = &spec.client_id
                    && *fixed != key
                {
                    return Err(FederationError::Conflict {
                        object: format!("OAuth application {}", spec.service_provider),
                        reason: format!(
                            "it exists with client id {key:?}, not the configured {fixed:?}"
                        ),
                    });
                }
                let secret = app
                    .oauth_consumer_secret
                    .as_ref()
                    .and_then(|s| s.expose())
                    .map(|s| SecretString::from(s.to_owned()))
                    .ok_or_else(|| FederationError::Conflict {
                        object: format!("OAuth application {}", spec.service_provider),
                        reason: "IS did not return its client secret".into(),
                    })?;
                let change = match &spec.client_secret {
                    Some(s) if s.expose_secret() != secret.expose_secret() => {
                        return Err(FederationError::Conflict {
                            object: format!("OAuth application {}", spec.service_provider),
                            reason: "it exists with another client secret (IS cannot change a secret in place)".into(),
                        });
                    }
                    _ => SecretChange::Unchanged,
                };
                (key, secret, change)
            }
            None => {
                let id = match &spec.client_id {
                    Some(id) => id.clone(),
                    None => random_token(28)?,
                };
                let secret = match &spec.client_secret {
                    Some(s) => s.clone(),
                    None => SecretString::from(random_token(40)?),
                };
                (id, secret, SecretChange::Set)
            }
        };

        let desired = Desired {
            users: spec
                .users
                .iter()
                .map(|u| (u.name.clone(), (u.password.clone(), u.roles.clone())))
                .collect(),
            oauth_app: desired_oauth_app(spec, &client_id, &secret)?,
            service_provider: desired_service_provider(spec, &client_id, &secret),
            idp: desired_idp(spec, &client_id, &secret)?,
            switch: spec.switch.clone(),
        };

        let mut changes = Vec::new();
        let mut steps = Vec::new();
        let mut add = |object: Object,
                       kind: ObjectKind,
                       name: String,
                       action: PlanAction,
                       diff: Vec<FieldDiff>,
                       deps: Vec<StepId>,
                       seen: Option<String>| {
            let id = object.step_id();
            let server = crate::engine::server_of(&id);
            changes.push(PlannedChange {
                step: id.clone(),
                server,
                kind,
                name,
                action,
                diff,
                depends_on: deps.clone(),
                observed: seen,
            });
            steps.push(StepDef {
                id,
                server,
                deps,
                kind: StepSpec { object, action },
            });
        };

        for role in &spec.roles {
            let exists = live.roles.get(&role.name).copied().unwrap_or(false);
            let action = if exists {
                PlanAction::Adopt
            } else {
                PlanAction::Create
            };
            add(
                Object::IsRole {
                    name: role.name.clone(),
                },
                ObjectKind::IsRole,
                role.name.to_string(),
                action,
                Vec::new(),
                Vec::new(),
                Some(exists.to_string()),
            );
        }
        for user in &spec.users {
            let current = live.users.get(&user.name).cloned().flatten();
            let deps: Vec<StepId> = user
                .roles
                .iter()
                .map(|r| Object::IsRole { name: r.clone() }.step_id())
                .collect();
            let wanted: Vec<String> = user.roles.iter().map(ToString::to_string).collect();
            let (action, diff) = match &current {
                None => (
                    PlanAction::Create,
                    vec![
                        FieldDiff::value("roles", None, Some(wanted.join(", "))),
                        FieldDiff::secret("password", SecretChange::Set),
                    ],
                ),
                Some(roles) => {
                    let missing: Vec<&String> =
                        wanted.iter().filter(|w| !roles.contains(w)).collect();
                    if missing.is_empty() {
                        (PlanAction::Adopt, Vec::new())
                    } else {
                        let mut after = roles.clone();
                        after.extend(missing.into_iter().cloned());
                        (
                            PlanAction::Update,
                            vec![FieldDiff::value(
                                "roles",
                                Some(roles.join(", ")),
                                Some(after.join(", ")),
                            )],
                        )
                    }
                }
            };
            add(
                Object::IsUser {
                    name: user.name.clone(),
                },
                ObjectKind::IsUser,
                user.name.to_string(),
                action,
                diff,
                deps,
                observed(&current),
            );
        }

        // OAuth application.
        let oauth_name = OAuthAppName::new(spec.service_provider.as_str())?;
        let oauth_obj = Object::OAuthApp {
            name: oauth_name.clone(),
            client_id: client_id.clone(),
        };
        let (action, diff) = match &live.oauth_app {
            None => (
                PlanAction::Create,
                vec![
                    FieldDiff::value("callbackUrl", None, desired.oauth_app.callback_url.clone()),
                    FieldDiff::value("grantTypes", None, desired.oauth_app.grant_types.clone()),
                    FieldDiff::value("oauthConsumerKey", None, Some(client_id.clone())),
                    FieldDiff::secret("oauthConsumerSecret", secret_change),
                ],
            ),
            Some(app) => {
                let mut diff = Vec::new();
                if app.callback_url != desired.oauth_app.callback_url {
                    diff.push(FieldDiff::value(
                        "callbackUrl",
                        app.callback_url.clone(),
                        desired.oauth_app.callback_url.clone(),
                    ));
                }
                if app.grant_type_list() != desired.oauth_app.grant_type_list() {
                    diff.push(FieldDiff::value(
                        "grantTypes",
                        app.grant_types.clone(),
                        desired.oauth_app.grant_types.clone(),
                    ));
                }
                match (diff.is_empty(), sp_is_ours) {
                    (true, true) => (PlanAction::NoChange, diff),
                    (true, false) => (PlanAction::Adopt, diff),
                    (false, true) => (PlanAction::Update, diff),
                    (false, false) => {
                        return Err(FederationError::Conflict {
                            object: format!("OAuth application {oauth_name}"),
                            reason: "it exists, differs, and was not made by this federation; choose another service provider name".into(),
                        });
                    }
                }
            }
        };
        let oauth_id = oauth_obj.step_id();
        add(
            oauth_obj,
            ObjectKind::OAuthApp,
            oauth_name.to_string(),
            action,
            diff,
            Vec::new(),
            observed(&live.oauth_app),
        );

        // Service provider.
        let sp_obj = Object::ServiceProvider {
            name: spec.service_provider.clone(),
        };
        let (action, diff) = match &live.service_provider {
            None => (
                PlanAction::Create,
                vec![
                    FieldDiff::value(
                        "description",
                        None,
                        desired.service_provider.description.clone(),
                    ),
                    FieldDiff::value("inbound oauth2 client id", None, Some(client_id.clone())),
                    FieldDiff::value(
                        "requested claims",
                        None,
                        Some(claim_list(&desired.service_provider)),
                    ),
                ],
            ),
            Some(sp) if owns(sp.description.as_deref()) => {
                if service_provider::matches(sp, &desired.service_provider) {
                    (PlanAction::NoChange, Vec::new())
                } else {
                    (PlanAction::Update, sp_diff(sp, &desired.service_provider))
                }
            }
            Some(_) => {
                return Err(FederationError::Conflict {
                    object: format!("service provider {}", spec.service_provider),
                    reason: format!(
                        "it exists and does not carry this federation's tag {tag}; choose another name, or remove it"
                    ),
                });
            }
        };
        let sp_id = sp_obj.step_id();
        add(
            sp_obj,
            ObjectKind::ServiceProvider,
            spec.service_provider.to_string(),
            action,
            diff,
            vec![oauth_id],
            observed(&live.service_provider),
        );

        // Identity provider on APIM: after everything on IS (blast radius).
        let idp_obj = Object::ApimIdp {
            name: spec.identity_provider.clone(),
        };
        let mut idp_deps = vec![sp_id];
        idp_deps.extend(spec.users.iter().map(|u| {
            Object::IsUser {
                name: u.name.clone(),
            }
            .step_id()
        }));
        let (action, diff) = match &live.idp {
            None => (
                PlanAction::Create,
                vec![
                    FieldDiff::value(
                        "OAuth2AuthzEPUrl",
                        None,
                        Some(spec.authorize_url().to_string()),
                    ),
                    FieldDiff::value("OAuth2TokenEPUrl", None, Some(spec.token_url().to_string())),
                    FieldDiff::value("callbackUrl", None, Some(spec.callback_url.to_string())),
                    FieldDiff::value("ClientId", None, Some(client_id.clone())),
                    FieldDiff::secret("ClientSecret", SecretChange::Set),
                    FieldDiff::value("role mappings", None, Some(mapping_list(&desired.idp))),
                ],
            ),
            Some(idp) if owns(idp.identity_provider_description.as_deref()) => {
                if apim_idp::matches(idp, &desired.idp) {
                    (PlanAction::NoChange, Vec::new())
                } else {
                    (PlanAction::Update, idp_diff(idp, &desired.idp))
                }
            }
            Some(idp) if apim_idp::matches(idp, &desired.idp) => (PlanAction::Adopt, Vec::new()),
            Some(_) => {
                return Err(FederationError::Conflict {
                    object: format!("identity provider {}", spec.identity_provider),
                    reason: format!(
                        "it exists, differs, and does not carry this federation's tag {tag}; choose another name"
                    ),
                });
            }
        };
        let idp_id = idp_obj.step_id();
        add(
            idp_obj,
            ObjectKind::IdentityProvider,
            spec.identity_provider.to_string(),
            action,
            diff,
            idp_deps,
            observed(&live.idp),
        );

        // Portals last.
        for &portal in &spec.portals {
            let current = live.portals.get(&portal).cloned().flatten();
            let (action, diff) = match &current {
                Some(sp) if is_switched(sp, &spec.identity_provider, &spec.switch) => {
                    (PlanAction::NoChange, Vec::new())
                }
                Some(sp) => (
                    PlanAction::Update,
                    vec![FieldDiff::value(
                        "authenticationType",
                        sp.authentication_type().map(|t| t.to_string()),
                        Some(if spec.switch.local_login_fallback { "flow" } else { "federated" }.to_owned()),
                    )],
                ),
                None => (
                    PlanAction::Update,
                    vec![FieldDiff::value(
                        "service provider",
                        None,
                        Some("brought into being by calling the portal's login endpoint, then switched".into()),
                    )],
                ),
            };
            let name = current
                .as_ref()
                .and_then(|sp| sp.application_name.clone())
                .unwrap_or_else(|| portal.service_provider_name().to_owned());
            add(
                Object::Portal {
                    portal,
                    idp: spec.identity_provider.clone(),
                },
                ObjectKind::Portal,
                name,
                action,
                diff,
                vec![idp_id.clone()],
                observed(&current),
            );
        }

        let plan = Plan {
            marker: spec.marker.clone(),
            is_url: self.is.core().base_url().to_string(),
            apim_url: self.apim.core().base_url().to_string(),
            changes,
        };
        Ok(Planned {
            plan,
            steps,
            desired,
        })
    }
}

fn claim_list(sp: &ServiceProvider) -> String {
    sp.claim_config
        .as_ref()
        .map(|c| {
            c.claim_mappings
                .iter()
                .filter_map(|m| {
                    let uri = m.local_claim.as_ref()?.claim_uri.clone()?;
                    Some(if m.mandatory == Some(true) {
                        format!("{uri} (mandatory)")
                    } else {
                        uri
                    })
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn mapping_list(idp: &IdentityProvider) -> String {
    idp.role_mappings()
        .into_iter()
        .map(|(r, l)| format!("{r} -> {l}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn sp_diff(live: &ServiceProvider, desired: &ServiceProvider) -> Vec<FieldDiff> {
    let mut d = Vec::new();
    if live.description != desired.description {
        d.push(FieldDiff::value(
            "description",
            live.description.clone(),
            desired.description.clone(),
        ));
    }
    let key = |sp: &ServiceProvider| sp.oauth_inbound().and_then(|c| c.inbound_auth_key.clone());
    if key(live) != key(desired) {
        d.push(FieldDiff::value(
            "inbound oauth2 client id",
            key(live),
            key(desired),
        ));
    }
    if claim_list(live) != claim_list(desired) {
        d.push(FieldDiff::value(
            "requested claims",
            Some(claim_list(live)),
            Some(claim_list(desired)),
        ));
    }
    d
}

fn idp_diff(live: &IdentityProvider, desired: &IdentityProvider) -> Vec<FieldDiff> {
    let mut d = Vec::new();
    if let (Some(l), Some(w)) = (live.oidc_authenticator(), desired.oidc_authenticator()) {
        for p in &w.config().properties {
            let key = p.name.as_deref().unwrap_or("");
            if p.is_secret() {
                let change = if l.property(key) == p.value_str() {
                    continue;
                } else {
                    SecretChange::Changed
                };
                d.push(FieldDiff::secret(key, change));
            } else if l.property(key) != p.value_str() {
                d.push(FieldDiff::value(
                    key,
                    l.property(key).map(str::to_owned),
                    p.value_str().map(str::to_owned),
                ));
            }
        }
    }
    if mapping_list(live) != mapping_list(desired) {
        d.push(FieldDiff::value(
            "role mappings",
            Some(mapping_list(live)),
            Some(mapping_list(desired)),
        ));
    }
    if live.identity_provider_description != desired.identity_provider_description {
        d.push(FieldDiff::value(
            "description",
            live.identity_provider_description.clone(),
            desired.identity_provider_description.clone(),
        ));
    }
    if live.just_in_time_provisioning_config != desired.just_in_time_provisioning_config {
        d.push(FieldDiff::value(
            "just-in-time provisioning",
            Some("differs".into()),
            Some("provision silently".into()),
        ));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_alphanumeric() {
        let a = random_token(40).unwrap();
        let b = random_token(40).unwrap();
        assert_eq!(a.len(), 40);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
