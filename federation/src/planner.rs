//! Reads the live servers (reads only, all at once) and the journal, and decides per object what
//! the apply must do: a loop over the object kinds, each deciding in its own file.
//!
//! Every read is by natural key (one request per object; a portal's candidate names read
//! together), so the number of requests does not grow with the number of objects on the servers.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use wso2_apim_client::portals::Portal;
use wso2_is_client::{RoleName, UserName};

use crate::engine::journal::{Folded, fold_journal};
use crate::engine::{Action, Effect, Server, StepDef, StepId};
use crate::error::{BindingMismatch, FederationError};
use crate::lease::{self, LeaseState};
use crate::plan::{Plan, PlanAction, PlannedChange, digest};
use crate::steps::{
    Conflict, Decision, Desired, Knowledge, Live, Object, Ownership, StepSpec, apim_idp,
    application, is_role, is_user, oidc_scope, portal, rest_application, scim_group, scim_user,
};
use crate::versions::Versions;
use crate::{Federation, random_token};
use wso2_is_client::version::{ManagementApi, RoleScope};

/// What a journal belongs to; recorded with every run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// The journal's ownership instance.
    pub instance: String,
    /// IS's base URL (as the client reaches it).
    pub is_url: String,
    /// APIM's base URL.
    pub apim_url: String,
    /// The tenant (`None`: the super tenant).
    pub tenant: Option<String>,
    /// The federation's marker.
    pub marker: String,
    /// The settings' fingerprint.
    pub fingerprint: String,
}

impl Binding {
    /// The first field in which `self` (a journal's) differs from `target`, comparing the
    /// servers, tenant and marker, and the settings too when `settings` is set.
    pub fn mismatch(&self, target: &Binding, settings: bool) -> Option<BindingMismatch> {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(super tenant)".into());
        let fields: [(&'static str, String, String); 4] = [
            ("is_url", self.is_url.clone(), target.is_url.clone()),
            ("apim_url", self.apim_url.clone(), target.apim_url.clone()),
            ("tenant", show(&self.tenant), show(&target.tenant)),
            ("marker", self.marker.clone(), target.marker.clone()),
        ];
        for (field, journal, target) in fields {
            if journal != target {
                return Some(BindingMismatch {
                    field,
                    journal,
                    target,
                });
            }
        }
        (settings && self.fingerprint != target.fingerprint).then(|| BindingMismatch {
            field: "settings",
            journal: format!("fingerprint {}", self.fingerprint),
            target: format!("fingerprint {}", target.fingerprint),
        })
    }
}

/// The journal as planning sees it.
pub(crate) struct JournalView {
    pub folded: Option<Folded<StepSpec>>,
    pub binding: Option<Binding>,
}

impl JournalView {
    pub(crate) fn knowledge(&self) -> Knowledge {
        let mut k = Knowledge::default();
        if let Some(f) = &self.folded {
            for (step, effect) in f.pending_undo() {
                if matches!(effect, Effect::Created { .. }) {
                    k.created.insert(step.id.clone());
                }
            }
            k.post_images = f.post_images();
        }
        k.unknown_creates = self.unknown_creates();
        k
    }

    /// Steps whose create's outcome was never known (a crash mid-request).
    fn unknown_creates(&self) -> HashMap<StepId, Option<serde_json::Value>> {
        self.folded
            .as_ref()
            .map(|f| {
                f.pending_undo()
                    .filter_map(|(s, e)| match e {
                        Effect::Unknown {
                            action: Action::Create,
                            post_image,
                            ..
                        } => Some((s.id.clone(), post_image.clone())),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// What planning produced: the plan to show, the steps to run, what was read.
pub(crate) struct Planned {
    pub plan: Plan,
    pub steps: Vec<StepDef<StepSpec>>,
    pub live: Live,
    pub ownership: Ownership,
    pub binding: Binding,
}

enum Read {
    Role(RoleName, is_role::LiveRole),
    User(UserName, is_user::LiveUser),
    ScimUser(UserName, scim_user::LiveScimUser),
    ScimGroup(RoleName, scim_group::LiveScimGroup),
    RestApp(rest_application::LiveRestApp),
    Scope(oidc_scope::LiveScope),
    OAuthApp(Option<wso2_is_client::oauth::OAuthConsumerAppDTO>),
    ServiceProvider(Option<wso2_is_client::model::ServiceProvider>),
    Idp(apim_idp::LiveIdp),
    /// One name a portal's service provider may have: (portal, its rank, the name, what it
    /// found).
    Portal(
        Portal,
        usize,
        wso2_is_client::ApplicationName,
        Option<wso2_is_client::model::ServiceProvider>,
    ),
    LocalRole(RoleName, bool),
    Lease(LeaseState),
}

type ReadFuture<'f> = Pin<Box<dyn Future<Output = Result<Read, FederationError>> + Send + 'f>>;

impl Federation {
    /// The journal of this federation, folded, with its binding checked against the target
    /// (servers, tenant, marker; with `settings`, the settings too). `None` when there is none.
    pub(crate) fn journal_view(&self, settings: bool) -> Result<JournalView, FederationError> {
        let path = &self.spec.journal;
        if !path.exists() {
            return Ok(JournalView {
                folded: None,
                binding: None,
            });
        }
        let folded: Folded<StepSpec> = fold_journal(path)?;
        let binding = match folded.binding() {
            Some(b) => Some(serde_json::from_value::<Binding>(b.clone()).map_err(|e| {
                crate::engine::JournalError::Invalid {
                    path: path.clone(),
                    reason: format!("its binding cannot be read: {e}"),
                }
            })?),
            None => None,
        };
        if let Some(b) = &binding {
            let target = self.binding(&b.instance);
            if let Some(mismatch) = b.mismatch(&target, settings) {
                return Err(FederationError::JournalMismatch {
                    journal: path.clone(),
                    mismatch: Box::new(mismatch),
                });
            }
        }
        Ok(JournalView {
            folded: Some(folded),
            binding,
        })
    }

    /// This federation's binding, for journal `instance`.
    pub(crate) fn binding(&self, instance: &str) -> Binding {
        Binding {
            instance: instance.to_owned(),
            is_url: self.is.core().base_url().to_string(),
            apim_url: self.apim.core().base_url().to_string(),
            tenant: self.spec.tenant.clone(),
            marker: self.spec.marker.clone(),
            fingerprint: self.spec.fingerprint(),
        }
    }

    async fn read_live(
        &self,
        versions: &Versions,
        apim: &wso2_apim_client::ApimClient,
        unknown_roles: &HashSet<RoleName>,
    ) -> Result<(Live, LeaseState, HashMap<RoleName, Vec<String>>), FederationError> {
        let spec = &self.spec;
        let is = &self.is;
        let mut reads: Vec<(Server, ReadFuture<'_>)> = Vec::new();
        // The mapped local roles, one read each, so that they count against the limit.
        for role in spec.mapped_local_roles() {
            reads.push((
                Server::Apim,
                Box::pin(async move {
                    Ok(Read::LocalRole(
                        role.clone(),
                        apim.roles().exists(&role).await?,
                    ))
                }),
            ));
        }
        if versions.is.management == ManagementApi::Rest {
            for user in &spec.users {
                let name = user.name.clone();
                reads.push((
                    Server::Is,
                    Box::pin(async move {
                        Ok(Read::ScimUser(
                            name.clone(),
                            scim_user::read(is, &name).await?,
                        ))
                    }),
                ));
            }
            for name in spec.group_roles() {
                reads.push((
                    Server::Is,
                    Box::pin(async move {
                        Ok(Read::ScimGroup(
                            name.clone(),
                            scim_group::read(is, &name).await?,
                        ))
                    }),
                ));
            }
            reads.push((
                Server::Is,
                Box::pin(async move {
                    Ok(Read::RestApp(
                        rest_application::read(is, &spec.service_provider).await?,
                    ))
                }),
            ));
            if versions.is.role_scope == RoleScope::WidenOpenid {
                reads.push((
                    Server::Is,
                    Box::pin(async move { Ok(Read::Scope(oidc_scope::read(is, "openid").await?)) }),
                ));
            }
        } else {
            for role in &spec.roles {
                let name = role.name.clone();
                reads.push((
                    Server::Is,
                    Box::pin(async move {
                        Ok(Read::Role(name.clone(), is_role::read(is, &name).await?))
                    }),
                ));
            }
            for user in &spec.users {
                let name = user.name.clone();
                reads.push((
                    Server::Is,
                    Box::pin(async move {
                        Ok(Read::User(name.clone(), is_user::read(is, &name).await?))
                    }),
                ));
            }
            let oauth_name = wso2_is_client::OAuthAppName::new(spec.service_provider.as_str())?;
            reads.push((
                Server::Is,
                Box::pin(async move {
                    Ok(Read::OAuthApp(
                        is.oauth_apps().get_by_name(&oauth_name).await?,
                    ))
                }),
            ));
            reads.push((
                Server::Is,
                Box::pin(async move {
                    Ok(Read::ServiceProvider(
                        is.applications().get(&spec.service_provider).await?,
                    ))
                }),
            ));
        }
        reads.push((
            Server::Apim,
            Box::pin(async move {
                Ok(Read::Idp(
                    apim_idp::read(apim, &spec.identity_provider).await?,
                ))
            }),
        ));
        // Every name a portal's service provider may have (its release's, when known), each one
        // read.
        for &p in &spec.portals {
            for (rank, name) in apim.portals().lookup_names(p)?.into_iter().enumerate() {
                reads.push((
                    Server::Apim,
                    Box::pin(async move {
                        let found = apim.applications().get(&name).await?;
                        Ok(Read::Portal(p, rank, name, found))
                    }),
                ));
            }
        }
        reads.push((
            Server::Apim,
            Box::pin(async move { Ok(Read::Lease(lease::read(apim).await?)) }),
        ));
        // At most `concurrency` reads in flight per server, as the engine allows for steps.
        let limits = [
            tokio::sync::Semaphore::new(spec.concurrency),
            tokio::sync::Semaphore::new(spec.concurrency),
        ];
        let mut live = Live::default();
        let mut lease = LeaseState::Free;
        type PortalRead = (
            usize,
            wso2_is_client::ApplicationName,
            Option<wso2_is_client::model::ServiceProvider>,
        );
        let mut portal_reads: HashMap<Portal, Vec<PortalRead>> = HashMap::new();
        let mut missing_local = Vec::new();
        let mut results: FuturesUnordered<_> = reads
            .into_iter()
            .map(|(server, read)| {
                let limit = &limits[usize::from(server == Server::Apim)];
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
                Read::Role(n, r) => {
                    live.roles.insert(n, r);
                }
                Read::User(n, u) => {
                    live.users.insert(n, u);
                }
                Read::ScimUser(n, u) => {
                    live.scim_users.insert(n, u);
                }
                Read::ScimGroup(n, g) => {
                    live.scim_groups.insert(n, g);
                }
                Read::RestApp(a) => live.rest_application = a,
                Read::Scope(sc) => live.oidc_scope = sc,
                Read::OAuthApp(a) => live.application.oauth = a,
                Read::ServiceProvider(s) => live.application.sp = s,
                Read::Idp(i) => live.idp = i,
                Read::Portal(p, rank, name, s) => {
                    portal_reads.entry(p).or_default().push((rank, name, s));
                }
                Read::LocalRole(role, false) => missing_local.push(role),
                Read::LocalRole(_, true) => {}
                Read::Lease(l) => lease = l,
            }
        }
        for (p, mut reads) in portal_reads {
            reads.sort_by_key(|(rank, _, _)| *rank);
            // The first that exists; its name is remembered for the steps.
            let first = apim
                .portals()
                .found(p, reads.into_iter().map(|(_, name, s)| (name, s)));
            live.portals.insert(p, first);
        }
        if !missing_local.is_empty() {
            // Names the missing roles with the existing ones that look alike.
            apim.roles().require(&missing_local).await?;
        }
        // Roles whose create's outcome was never known: their members decide (rare).
        let mut members = HashMap::new();
        for role in unknown_roles {
            if live.roles.get(role).is_some_and(|r| r.exists) {
                members.insert(role.clone(), is.users().users_of_role(role).await?);
            }
        }
        Ok((live, lease, members))
    }

    /// Reads the servers and the journal and decides what the apply must do (reads only).
    /// `client_id` is a saved plan's client id to keep; `instance` the journal instance to use
    /// when the journal does not exist yet.
    pub(crate) async fn make_plan(
        &self,
        client_id: Option<&str>,
        instance: Option<&str>,
        force: bool,
    ) -> Result<Planned, FederationError> {
        self.make_plan_as(None, client_id, instance, force).await
    }

    /// [`make_plan`](Self::make_plan) by the run `run`, which holds the lease (its own lease is
    /// not another run's: no warning).
    pub(crate) async fn make_plan_as(
        &self,
        run: Option<&str>,
        client_id: Option<&str>,
        instance: Option<&str>,
        force: bool,
    ) -> Result<Planned, FederationError> {
        let spec = &self.spec;
        let journal = self.journal_view(false)?;
        let knowledge = journal.knowledge();
        let unknown = journal.unknown_creates();
        let instance = match (&journal.binding, instance) {
            (Some(b), _) => b.instance.clone(),
            (None, Some(i)) => i.to_owned(),
            (None, None) => random_token(12)?,
        };
        let ownership = Ownership {
            marker: spec.marker.clone(),
            instance: instance.clone(),
        };
        let unknown_roles: HashSet<RoleName> = spec
            .roles
            .iter()
            .filter(|r| {
                unknown.contains_key(
                    &Object::IsRole {
                        name: r.name.clone(),
                    }
                    .step_id(),
                )
            })
            .map(|r| r.name.clone())
            .collect();
        let versions = self.versions().await?;
        let apim = self.apim_for(&versions);
        let (live, lease, members) = self.read_live(&versions, &apim, &unknown_roles).await?;
        let rest = versions.is.management == ManagementApi::Rest;

        // The client: an existing application's, else the settings', the saved plan's, or new.
        let existing_id = if rest {
            live.rest_application.client_id().map(str::to_owned)
        } else {
            live.application.client_id().map(str::to_owned)
        };
        let client_id = match (&existing_id, &spec.client_id, client_id) {
            (Some(id), _, _) => id.clone(),
            (None, Some(id), _) => id.clone(),
            (None, None, Some(id)) => id.to_owned(),
            (None, None, None) => random_token(28)?,
        };
        let (secret, generated) = match (live.client_secret(rest), &spec.client_secret) {
            (Some(s), _) => (s, false),
            (None, Some(s)) => (s.clone(), false),
            // Drawn at apply; a stand-in shapes the plan's diff (secrets are never shown).
            (None, None) => (SecretString::from("generated-at-apply"), true),
        };
        let desired = self.desired(&versions, &ownership, &client_id, secret, generated)?;

        let mut conflicts: Vec<Conflict> = Vec::new();
        let mut changes = Vec::new();
        let mut steps = Vec::new();
        let mut add = |object: Object,
                       name: String,
                       decision: Result<Decision, Conflict>,
                       deps: Vec<StepId>,
                       seen: String| {
            let decision = match decision {
                Ok(d) => d,
                Err(c) => {
                    conflicts.push(c);
                    return;
                }
            };
            let id = object.step_id();
            changes.push(PlannedChange {
                step: id.clone(),
                server: object.server(),
                kind: object.kind(),
                name,
                action: decision.action,
                diff: decision.diff,
                depends_on: deps.clone(),
                observed: Some(digest(&seen)),
            });
            steps.push(StepDef {
                id,
                server: object.server(),
                deps,
                after: Vec::new(),
                kind: StepSpec {
                    object,
                    action: decision.action,
                },
            });
        };
        let seen = |v: &dyn erased::Show| v.show();

        let spec_users: HashSet<&str> = spec.users.iter().map(|u| u.name.as_str()).collect();
        let mut is_steps: Vec<StepId> = Vec::new();
        if rest {
            // IS 5.10+: the users (SCIM2), then the groups that hold them (one write each, members
            // included); the application (REST) beside them.
            for user in &spec.users {
                let object = Object::ScimUser {
                    name: user.name.clone(),
                };
                let id = object.step_id();
                let read = live.scim_users.get(&user.name).cloned().unwrap_or_default();
                // A create whose outcome was never known is ours if the user is in no group but
                // those the settings give it (the group steps after it may have run, e.g. in a
                // `recover --finish`).
                let settled = unknown.contains_key(&id)
                    && read.user.as_ref().is_some_and(|u| {
                        scim_user::groups_of(u)
                            .iter()
                            .all(|g| user.roles.iter().any(|r| r.as_str() == g))
                    });
                let ours = knowledge.created.contains(&id) || settled;
                is_steps.push(id);
                add(
                    object,
                    user.name.to_string(),
                    scim_user::decide(&user.name, &read, ours, spec.adopt),
                    Vec::new(),
                    seen(&read),
                );
            }
            let managed: HashSet<&RoleName> = spec.roles.iter().map(|r| &r.name).collect();
            for role in spec.group_roles() {
                let object = Object::ScimGroup { name: role.clone() };
                let id = object.step_id();
                let read = live.scim_groups.get(&role).cloned().unwrap_or_default();
                let wanted: Vec<UserName> = spec
                    .users
                    .iter()
                    .filter(|u| u.roles.contains(&role))
                    .map(|u| u.name.clone())
                    .collect();
                let settled = unknown.contains_key(&id)
                    && read.group.as_ref().is_some_and(|g| {
                        scim_group::members_of(g)
                            .iter()
                            .all(|m| spec_users.contains(m.as_str()))
                    });
                let ours = knowledge.created.contains(&id) || settled;
                let deps = wanted
                    .iter()
                    .map(|u| Object::ScimUser { name: u.clone() }.step_id())
                    .collect();
                is_steps.push(id);
                add(
                    object,
                    role.to_string(),
                    scim_group::decide(
                        &role,
                        &wanted,
                        &read,
                        managed.contains(&role),
                        ours,
                        spec.adopt,
                    ),
                    deps,
                    seen(&read),
                );
            }
            let app_object = Object::RestApplication {
                name: spec.service_provider.to_string(),
                client_id: client_id.clone(),
            };
            let app_id = app_object.step_id();
            is_steps.push(app_id.clone());
            let desired_app = desired
                .rest_application
                .as_ref()
                .ok_or_else(|| FederationError::Internal("no REST application desired".into()))?;
            add(
                app_object,
                spec.service_provider.to_string(),
                rest_application::decide(
                    spec.service_provider.as_str(),
                    &live.rest_application,
                    desired_app,
                    &ownership,
                    &knowledge,
                    &app_id,
                    force,
                ),
                Vec::new(),
                seen(&live.rest_application),
            );
            if versions.is.role_scope == RoleScope::WidenOpenid {
                let object = Object::OidcScope {
                    name: "openid".into(),
                };
                is_steps.push(object.step_id());
                add(
                    object,
                    "openid".into(),
                    oidc_scope::decide("openid", &live.oidc_scope),
                    Vec::new(),
                    seen(&live.oidc_scope),
                );
            }
        } else {
            // IS: roles, then the users that carry them; the application beside them.
            for role in &spec.roles {
                let object = Object::IsRole {
                    name: role.name.clone(),
                };
                let id = object.step_id();
                let read = live.roles.get(&role.name).copied().unwrap_or_default();
                // A create whose outcome was never known is ours if it holds nobody but our users.
                let settled = unknown.contains_key(&id)
                    && members
                        .get(&role.name)
                        .is_some_and(|m| m.iter().all(|u| spec_users.contains(u.as_str())));
                let ours = knowledge.created.contains(&id) || settled;
                add(
                    object,
                    role.name.to_string(),
                    is_role::decide(&role.name, &read, ours, spec.adopt),
                    Vec::new(),
                    seen(&read),
                );
            }
            for user in &spec.users {
                let object = Object::IsUser {
                    name: user.name.clone(),
                };
                let id = object.step_id();
                let read = live.users.get(&user.name).cloned().unwrap_or_default();
                let settled = match (unknown.get(&id), &read.roles) {
                    (Some(Some(post)), Some(roles)) => {
                        serde_json::from_value::<is_user::UserImage>(post.clone())
                            .ok()
                            .is_some_and(|img| {
                                let mut now: Vec<String> = roles
                                    .iter()
                                    .filter(|r| *r != wso2_is_client::users::EVERYONE_ROLE)
                                    .cloned()
                                    .collect();
                                now.sort();
                                now.dedup();
                                img.roles == now
                            })
                    }
                    _ => false,
                };
                let ours = knowledge.created.contains(&id) || settled;
                let deps = user
                    .roles
                    .iter()
                    .map(|r| Object::IsRole { name: r.clone() }.step_id())
                    .collect();
                add(
                    object,
                    user.name.to_string(),
                    is_user::decide(&user.name, &user.roles, &read, ours, spec.adopt),
                    deps,
                    seen(&read),
                );
            }
            let app_object = Object::Application {
                name: spec.service_provider.to_string(),
                client_id: client_id.clone(),
            };
            let app_id = app_object.step_id();
            add(
                app_object,
                spec.service_provider.to_string(),
                application::decide(
                    spec.service_provider.as_str(),
                    &live.application,
                    &desired.application,
                    &ownership,
                    &knowledge,
                    &app_id,
                    force,
                ),
                Vec::new(),
                seen(&live.application),
            );
            is_steps.push(app_id);
            is_steps.extend(spec.users.iter().map(|u| {
                Object::IsUser {
                    name: u.name.clone(),
                }
                .step_id()
            }));
            is_steps.extend(
                spec.roles
                    .iter()
                    .filter(|r| !spec.users.iter().any(|u| u.roles.contains(&r.name)))
                    .map(|r| {
                        Object::IsRole {
                            name: r.name.clone(),
                        }
                        .step_id()
                    }),
            );
        }

        // APIM: the identity provider once everything on IS is in place (blast radius).
        let idp_object = Object::ApimIdp {
            name: spec.identity_provider.to_string(),
        };
        let idp_id = idp_object.step_id();
        let idp_deps = is_steps;
        add(
            idp_object,
            spec.identity_provider.to_string(),
            apim_idp::decide(
                &spec.identity_provider,
                &live.idp,
                &desired.idp,
                &ownership,
                &knowledge,
                &idp_id,
                spec.adopt,
                force,
            ),
            idp_deps,
            seen(&live.idp),
        );

        // The portals last. A portal never logged into is registered at the start, while IS is
        // written: its registration (the portal's login endpoints, as a first visit) asks
        // nothing of IS and is never undone (APIM would not register it again; a first login
        // makes the same object), so it waits for nothing. The switch waits for it and for the
        // identity provider.
        for &p in &spec.portals {
            let current = live.portals.get(&p).cloned().flatten();
            let mut deps = vec![idp_id.clone()];
            if current.is_none() {
                let reg = Object::PortalRegistration { portal: p };
                deps.push(reg.step_id());
                add(
                    reg,
                    p.service_provider_name().to_owned(),
                    Ok(Decision::new(PlanAction::Create, Vec::new())),
                    Vec::new(),
                    String::new(),
                );
            }
            let name = current
                .as_ref()
                .and_then(|sp| sp.application_name.clone())
                .unwrap_or_else(|| p.service_provider_name().to_owned());
            add(
                Object::Portal {
                    portal: p,
                    idp: spec.identity_provider.to_string(),
                },
                name,
                Ok(portal::decide(current.as_ref(), &desired.portal)),
                deps,
                seen(&current),
            );
        }
        if !conflicts.is_empty() {
            return Err(FederationError::Conflict { conflicts });
        }
        // The identity provider uses the application's client (id and secret); it waits for the
        // rest of IS for ordering only (APIM is written once IS is complete), so an undo deletes
        // the users and roles without waiting for it.
        let applications: HashSet<StepId> = steps
            .iter()
            .filter(|s| {
                matches!(
                    s.kind.object,
                    Object::Application { .. } | Object::RestApplication { .. }
                )
            })
            .map(|s| s.id.clone())
            .collect();
        if let Some(idp) = steps.iter_mut().find(|s| s.id == idp_id) {
            let (data, order): (Vec<StepId>, Vec<StepId>) = std::mem::take(&mut idp.deps)
                .into_iter()
                .partition(|d| applications.contains(d));
            idp.deps = data;
            idp.after = order;
        }

        let mut warnings = spec.warnings.clone();
        if let Some(run) = journal.folded.as_ref().and_then(|f| f.unfinished()) {
            warnings.push(format!(
                "the journal {} records an unfinished {} run (started {} by {} pid {}): run `recover` before applying",
                spec.journal.display(),
                run.operation,
                crate::text::utc(run.at),
                crate::text::clean(&run.host, 100),
                run.pid
            ));
        }
        // Objects this federation made that the settings no longer name (renamed, removed).
        let named: HashSet<&StepId> = steps.iter().map(|s| &s.id).collect();
        let mut orphans: Vec<String> = knowledge
            .created
            .iter()
            .filter(|id| !named.contains(id))
            .map(ToString::to_string)
            .collect();
        orphans.sort();
        if !orphans.is_empty() {
            warnings.push(format!(
                "the journal records objects this federation made that the settings no longer name ({}): they stay until `destroy` (which removes everything the journal records)",
                orphans.join(", ")
            ));
        }
        match &lease {
            LeaseState::Held(h) if run == Some(h.run.as_str()) => {}
            LeaseState::Held(h) => warnings.push(format!("another run holds the lease on these servers: {h}")),
            LeaseState::Foreign => warnings.push(format!(
                "a service provider named {} exists on APIM that is not a lease of this tool: applies will be refused until it is removed",
                lease::LEASE_NAME
            )),
            LeaseState::Free => {}
        }
        let binding = self.binding(&instance);
        let plan = Plan {
            marker: spec.marker.clone(),
            instance,
            is_url: binding.is_url.clone(),
            apim_url: binding.apim_url.clone(),
            client_id,
            fingerprint: binding.fingerprint.clone(),
            releases: Some(versions.to_string()),
            warnings,
            changes,
        };
        Ok(Planned {
            plan,
            steps,
            live,
            ownership,
            binding,
        })
    }

    /// What the federation wants, for client `client_id` with `secret`.
    pub(crate) fn desired(
        &self,
        versions: &crate::versions::Versions,
        ownership: &Ownership,
        client_id: &str,
        secret: SecretString,
        generated: bool,
    ) -> Result<Desired, FederationError> {
        let spec = &self.spec;
        Ok(Desired {
            users: spec
                .users
                .iter()
                .map(|u| {
                    (
                        u.name.clone(),
                        is_user::DesiredUser {
                            password: u.password.clone(),
                            roles: u.roles.clone(),
                        },
                    )
                })
                .collect(),
            application: application::desired(
                spec,
                versions,
                ownership,
                client_id,
                secret.clone(),
                generated,
            )?,
            rest_application: (versions.is.management == ManagementApi::Rest).then(|| {
                rest_application::desired(
                    spec,
                    versions,
                    ownership,
                    client_id,
                    secret.clone(),
                    generated,
                )
            }),
            idp: apim_idp::desired(spec, versions, ownership, client_id, secret)?,
            portal: portal::DesiredSwitch {
                idp: spec.identity_provider.clone(),
                options: spec.switch.clone(),
                release: Some(versions.apim),
            },
        })
    }
}

/// Serialising what was read for the plan's staleness digests (secrets come out redacted).
mod erased {
    pub(super) trait Show {
        fn show(&self) -> String;
    }

    impl<T: serde::Serialize> Show for T {
        fn show(&self) -> String {
            serde_json::to_string(self).unwrap_or_default()
        }
    }
}
