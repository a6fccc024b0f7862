//! The objects of a federation, one file each holding everything about that kind of object:
//! the desired value from the settings, the diff the plan shows (`matches` is "the diff is
//! empty", so the plan's text and the decision cannot disagree), the action and its undo, side
//! by side. This module holds what they share and the [`Runner`] that dispatches to them.
//!
//! Every step is idempotent and so is its undo. A step journals its intent (with the pre-image
//! for updates and the post-image it is about to write) before its first write. A failure whose
//! outcome is unknown is settled by reading the object back by its natural key, never by a
//! blind retry or a blind undo.
//!
//! **Ownership is proven, never inferred.** An object counts as this federation's only if its
//! own create call succeeded in a run recorded in this journal, or an unknown outcome was
//! settled by a read showing this journal's ownership tag (service providers, identity
//! providers: `[managed-by:{marker}:{instance}]` in the description, unique to the journal) or
//! the exact value just written (roles: present and empty; users: present with exactly the roles
//! written). A create refused with "already exists" means someone else's object: the step fails
//! as a conflict and nothing of theirs is touched. See `ARCHITECTURE.md` (Decisions).

pub(crate) mod apim_idp;
pub(crate) mod application;
pub(crate) mod fields;
pub(crate) mod is_role;
pub(crate) mod is_user;
pub(crate) mod oidc_scope;
pub(crate) mod portal;
pub(crate) mod rest_application;
pub(crate) mod scim_group;
pub(crate) mod scim_user;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use wso2_apim_client::ApimClient;
use wso2_apim_client::portals::Portal;
use wso2_is_client::model::ServiceProvider;
use wso2_is_client::{IsClient, RoleName, UserName};

use crate::engine::{Action, Effect, Runner, StepCtx, StepDef, StepFailure, StepId};
use crate::plan::{FieldDiff, ObjectKind, PlanAction};

/// What a step does, as journaled (no secrets: the desired objects live in memory only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepSpec {
    /// The object.
    pub object: Object,
    /// What the plan decided.
    pub action: PlanAction,
}

/// The object a step is about, by natural key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Object {
    /// A role on IS.
    IsRole {
        /// Its name.
        name: RoleName,
    },
    /// A user on IS.
    IsUser {
        /// Its name.
        name: UserName,
    },
    /// A user on IS, through SCIM2 (IS 5.10 and later).
    ScimUser {
        /// Its name.
        name: UserName,
    },
    /// A role on IS as a SCIM2 group with its members (IS 5.10 and later).
    ScimGroup {
        /// Its name.
        name: RoleName,
    },
    /// The application on IS: the service provider and its OAuth/OIDC client.
    Application {
        /// Its name (service provider and OAuth application).
        name: String,
        /// Its OAuth client id.
        client_id: String,
    },
    /// The application on IS through the REST API (IS 5.10 and later), with its OIDC settings.
    RestApplication {
        /// Its name.
        name: String,
        /// Its OAuth client id.
        client_id: String,
    },
    /// An OIDC scope on IS made to release the role claim (IS 6.0's `openid`).
    OidcScope {
        /// Its name.
        name: String,
    },
    /// The identity provider on APIM.
    ApimIdp {
        /// Its name.
        name: String,
    },
    /// A portal's service provider on APIM, brought into being by its login endpoints.
    PortalRegistration {
        /// The portal.
        portal: Portal,
    },
    /// A portal's login on APIM, switched to the identity provider.
    Portal {
        /// The portal.
        portal: Portal,
        /// The identity provider it is switched to.
        idp: String,
    },
}

impl Object {
    /// The step id of this object.
    pub fn step_id(&self) -> StepId {
        StepId::new(match self {
            Self::IsRole { name } => format!("is.role:{name}"),
            Self::IsUser { name } => format!("is.user:{name}"),
            Self::ScimUser { name } => format!("is.scim-user:{name}"),
            Self::ScimGroup { name } => format!("is.scim-group:{name}"),
            Self::Application { name, .. } => format!("is.application:{name}"),
            Self::RestApplication { name, .. } => format!("is.rest-application:{name}"),
            Self::OidcScope { name } => format!("is.oidc-scope:{name}"),
            Self::ApimIdp { name } => format!("apim.identity-provider:{name}"),
            Self::PortalRegistration { portal } => {
                format!("apim.portal-registration:{}", portal.context())
            }
            Self::Portal { portal, .. } => format!("apim.portal:{}", portal.context()),
        })
    }

    /// The server the object lives on.
    pub fn server(&self) -> crate::engine::Server {
        match self {
            Self::IsRole { .. }
            | Self::IsUser { .. }
            | Self::ScimUser { .. }
            | Self::ScimGroup { .. }
            | Self::Application { .. }
            | Self::RestApplication { .. }
            | Self::OidcScope { .. } => crate::engine::Server::Is,
            Self::ApimIdp { .. } | Self::PortalRegistration { .. } | Self::Portal { .. } => {
                crate::engine::Server::Apim
            }
        }
    }

    /// The kind, as the plan shows it.
    pub fn kind(&self) -> ObjectKind {
        match self {
            Self::IsRole { .. } | Self::ScimGroup { .. } => ObjectKind::IsRole,
            Self::IsUser { .. } | Self::ScimUser { .. } => ObjectKind::IsUser,
            Self::Application { .. } | Self::RestApplication { .. } => ObjectKind::Application,
            Self::OidcScope { .. } => ObjectKind::OidcScope,
            Self::ApimIdp { .. } => ObjectKind::IdentityProvider,
            Self::PortalRegistration { .. } => ObjectKind::PortalRegistration,
            Self::Portal { .. } => ObjectKind::Portal,
        }
    }
}

/// The federation's ownership mark: `[managed-by:{marker}:{instance}]`, where the instance is
/// drawn once per journal. Written into the description of what this federation creates (where
/// the object has one), it proves ownership to this journal only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ownership {
    /// The federation's marker (settings).
    pub marker: String,
    /// The journal's instance id.
    pub instance: String,
}

impl Ownership {
    /// The tag written into descriptions.
    pub fn tag(&self) -> String {
        format!("[managed-by:{}:{}]", self.marker, self.instance)
    }

    /// Whether a description carries this tag.
    pub fn marks(&self, description: Option<&str>) -> bool {
        description.is_some_and(|d| d.contains(&self.tag()))
    }

    /// A description with the tag.
    pub fn describe(&self, what: &str) -> String {
        format!("{what}, managed by wso2-federation {}", self.tag())
    }
}

/// What the journal says this federation owns and last wrote.
#[derive(Debug, Clone, Default)]
pub(crate) struct Knowledge {
    /// Steps whose object this federation created (and did not undo).
    pub created: HashSet<StepId>,
    /// The last image each step wrote.
    pub post_images: HashMap<StepId, serde_json::Value>,
    /// Steps whose create's outcome was never known, with what they tried to write.
    pub unknown_creates: HashMap<StepId, Option<serde_json::Value>>,
}

/// A conflict found while planning: an object that is someone else's, or that someone changed
/// since this federation wrote it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} {name:?}: {reason}")]
pub struct Conflict {
    /// The kind of object.
    pub kind: ObjectKind,
    /// Its name.
    pub name: String,
    /// Why, and what to do.
    pub reason: String,
}

/// What the plan decided for one object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decision {
    pub action: PlanAction,
    pub diff: Vec<FieldDiff>,
}

impl Decision {
    pub(crate) fn new(action: PlanAction, diff: Vec<FieldDiff>) -> Self {
        Self { action, diff }
    }
}

/// The plan's decision for an object that exists: unchanged when the diff is empty, an update
/// otherwise.
pub(crate) fn update_or_keep(diff: Vec<FieldDiff>) -> Decision {
    if diff.is_empty() {
        Decision::new(PlanAction::NoChange, diff)
    } else {
        Decision::new(PlanAction::Update, diff)
    }
}

/// What the federation wants, with its secrets: held in memory for the apply only.
#[derive(Clone)]
pub(crate) struct Desired {
    pub users: HashMap<UserName, is_user::DesiredUser>,
    pub application: application::DesiredApplication,
    /// The application for the REST API (IS 5.10 and later).
    pub rest_application: Option<rest_application::DesiredRestApp>,
    pub idp: apim_idp::DesiredIdp,
    pub portal: portal::DesiredSwitch,
}

impl Desired {
    /// The users of the settings that carry `role`, by name.
    pub(crate) fn members_of(&self, role: &RoleName) -> Vec<UserName> {
        let mut m: Vec<UserName> = self
            .users
            .iter()
            .filter(|(_, u)| u.roles.contains(role))
            .map(|(n, _)| n.clone())
            .collect();
        m.sort();
        m
    }
}

impl fmt::Debug for Desired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Desired")
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// What planning read, with secrets (in memory only): the steps start from it instead of
/// reading again.
#[derive(Clone, Default)]
pub(crate) struct Live {
    pub roles: HashMap<RoleName, is_role::LiveRole>,
    pub users: HashMap<UserName, is_user::LiveUser>,
    pub scim_users: HashMap<UserName, scim_user::LiveScimUser>,
    pub scim_groups: HashMap<RoleName, scim_group::LiveScimGroup>,
    pub application: application::LiveApplication,
    pub rest_application: rest_application::LiveRestApp,
    pub oidc_scope: oidc_scope::LiveScope,
    pub idp: apim_idp::LiveIdp,
    pub portals: HashMap<Portal, Option<ServiceProvider>>,
}

impl Live {
    /// The client secret of the existing application (REST or SOAP), if there is one.
    pub(crate) fn client_secret(&self, rest: bool) -> Option<secrecy::SecretString> {
        if rest {
            self.rest_application.secret()
        } else {
            self.application.secret()
        }
    }
}

impl fmt::Debug for Live {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Live").finish_non_exhaustive()
    }
}

/// What an undo read before any undo wrote.
#[derive(Debug)]
pub(crate) enum Prepared {
    /// Nothing needed.
    Nothing,
    /// A user's current roles.
    UserRoles(Vec<String>),
    /// A SCIM2 user as it is now.
    ScimUser(Option<Box<wso2_is_client::scim2::ScimUser>>),
    /// A SCIM2 group as it is now.
    ScimGroup(Option<Box<wso2_is_client::scim2::ScimGroup>>),
    /// The application as it is now.
    Application(Box<application::LiveApplication>),
    /// The REST application as it is now.
    RestApp(Box<rest_application::LiveRestApp>),
    /// An OIDC scope as it is now.
    Scope(Option<Box<wso2_is_client::rest::OidcScope>>),
    /// The identity provider as it is now.
    Idp(Box<apim_idp::LiveIdp>),
    /// The portal's service provider as it is now.
    Portal(Option<Box<ServiceProvider>>),
}

/// Performs and undoes the federation's steps.
pub(crate) struct FedRunner<'a> {
    pub is: &'a IsClient,
    pub apim: &'a ApimClient,
    pub ownership: Ownership,
    /// What to apply; `None` for a rollback from a journal.
    pub desired: Option<&'a Desired>,
    /// What planning read; `None` for a rollback.
    pub live: Option<&'a Live>,
    /// Undo and update even where someone changed the object since this federation wrote it.
    pub force: bool,
    /// Requests a step may have in flight on one server at once (the settings' concurrency).
    pub limit: usize,
    /// Objects this process created (its own create calls succeeded).
    created: Mutex<HashSet<StepId>>,
    /// Portal service providers brought into being in this run.
    registered: Mutex<HashMap<Portal, ServiceProvider>>,
    /// SCIM2 ids of the users created in this run.
    scim_ids: Mutex<HashMap<UserName, String>>,
    /// Pre-images captured in this process, secrets included.
    pre_images: Mutex<HashMap<StepId, PreImage>>,
}

impl fmt::Debug for FedRunner<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FedRunner")
            .field("ownership", &self.ownership)
            .field("force", &self.force)
            .finish_non_exhaustive()
    }
}

/// Pre-images captured during this process, secrets included: an undo in the same process
/// restores exactly; an undo from the journal fills secrets from the live object.
#[derive(Debug, Clone)]
pub(crate) enum PreImage {
    Application(Box<application::LiveApplication>),
    RestApp(Box<rest_application::RestApp>),
    Idp(Box<wso2_is_client::model::IdentityProvider>),
    Portal(Box<ServiceProvider>),
}

impl<'a> FedRunner<'a> {
    pub(crate) fn new(
        is: &'a IsClient,
        apim: &'a ApimClient,
        ownership: Ownership,
        desired: Option<&'a Desired>,
        live: Option<&'a Live>,
        force: bool,
        limit: usize,
    ) -> Self {
        Self {
            is,
            apim,
            ownership,
            desired,
            live,
            force,
            limit,
            created: Mutex::new(HashSet::new()),
            registered: Mutex::new(HashMap::new()),
            scim_ids: Mutex::new(HashMap::new()),
            pre_images: Mutex::new(HashMap::new()),
        }
    }

    fn desired(&self) -> Result<&'a Desired, StepFailure> {
        self.desired.ok_or_else(|| {
            StepFailure::clean("this run has no federation settings (rollback only)")
        })
    }

    fn live(&self) -> Result<&'a Live, StepFailure> {
        self.live
            .ok_or_else(|| StepFailure::clean("this run has no plan (rollback only)"))
    }

    /// Records that this process's own create call for `step` succeeded.
    fn mark_created(&self, step: &StepId) {
        self.created
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(step.clone());
    }

    /// Whether this process's own create call for `step` succeeded.
    fn did_create(&self, step: &StepId) -> bool {
        self.created
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(step)
    }

    /// Runs `a` and `b` at once when the limit allows two requests in flight, else one after
    /// the other.
    pub(crate) async fn both<A, B>(
        &self,
        a: impl Future<Output = A>,
        b: impl Future<Output = B>,
    ) -> (A, B) {
        if self.limit > 1 {
            futures_util::future::join(a, b).await
        } else {
            let a = a.await;
            (a, b.await)
        }
    }

    fn remember_scim_id(&self, user: &UserName, id: String) {
        self.scim_ids
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(user.clone(), id);
    }

    fn scim_id(&self, user: &UserName) -> Option<String> {
        self.scim_ids
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(user)
            .cloned()
    }

    fn remember(&self, step: &StepId, image: PreImage) {
        self.pre_images
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(step.clone(), image);
    }

    fn remembered(&self, step: &StepId) -> Option<PreImage> {
        self.pre_images
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(step)
            .cloned()
    }
}

/// Journals an intent; a journal that cannot be written stops the step before any write.
pub(crate) fn intent(
    ctx: &StepCtx<'_>,
    action: Action,
    pre_image: Option<serde_json::Value>,
    post_image: Option<serde_json::Value>,
) -> Result<(), StepFailure> {
    ctx.intent(action, pre_image, post_image)
        .map_err(StepFailure::clean)
}

/// Serialises an image for the journal (secrets come out redacted).
pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<serde_json::Value, StepFailure> {
    serde_json::to_value(value)
        .map_err(|e| StepFailure::clean(format!("cannot serialise an image: {e}")))
}

/// Reads an image back from the journal.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    value: &serde_json::Value,
) -> Result<T, StepFailure> {
    serde_json::from_value(value.clone())
        .map_err(|e| StepFailure::clean(format!("the journal's image cannot be read: {e}")))
}

/// Whether a failed write provably changed nothing.
pub(crate) trait WriteOutcome {
    /// The request was not sent, or the server refused it in a way that means nothing changed.
    fn changed_nothing(&self) -> bool;
    /// The server refused a create because the name is taken.
    fn already_exists(&self) -> bool;
}

impl WriteOutcome for wso2_is_client::Error {
    fn changed_nothing(&self) -> bool {
        self.dispatch() == wso2_is_client::Dispatch::NotSent || !self.outcome_unknown()
    }
    fn already_exists(&self) -> bool {
        self.is_already_exists()
    }
}

impl WriteOutcome for wso2_apim_client::Error {
    fn changed_nothing(&self) -> bool {
        self.dispatch() == wso2_is_client::Dispatch::NotSent || !self.outcome_unknown()
    }
    fn already_exists(&self) -> bool {
        self.is_already_exists()
    }
}

/// A failed write: clean when it provably changed nothing, unknown otherwise.
pub(crate) fn failed<E>(e: E) -> StepFailure
where
    E: std::error::Error + Send + Sync + 'static + WriteOutcome,
{
    if e.changed_nothing() {
        StepFailure::clean(e)
    } else {
        StepFailure::unknown(e)
    }
}

/// Classifies two writes sent at once (each with whether it was sent): clean only when
/// every failure changed nothing and no other write went through; otherwise unknown, so that
/// the undo reads back and restores whichever half landed.
pub(crate) fn failed_pair<E>(
    first: (Result<(), E>, bool),
    second: (Result<(), E>, bool),
) -> Result<(), StepFailure>
where
    E: std::error::Error + Send + Sync + 'static + WriteOutcome,
{
    let landed = |(r, sent): &(Result<(), E>, bool)| *sent && r.is_ok();
    let partial = landed(&first) || landed(&second);
    match (first.0, second.0) {
        (Ok(()), Ok(())) => Ok(()),
        (Err(e), Ok(())) | (Ok(()), Err(e)) => match failed(e) {
            f if partial => Err(StepFailure {
                outcome_unknown: true,
                ..f
            }),
            f => Err(f),
        },
        (Err(a), Err(b)) => {
            let b_unknown = !b.changed_nothing();
            match failed(a) {
                f if b_unknown => Err(StepFailure {
                    outcome_unknown: true,
                    ..f
                }),
                f => Err(f),
            }
        }
    }
}

/// Someone else's object where this federation wanted to create one.
#[derive(Debug, thiserror::Error)]
#[error(
    "{what} was made by someone else (the create was refused: the name is taken); nothing of theirs was touched"
)]
pub(crate) struct TakenByOthers {
    pub what: String,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

/// Someone changed an object since this federation wrote it.
#[derive(Debug, thiserror::Error)]
#[error("{what} was changed by someone else since this federation wrote it ({}); left as it is (rerun with --force to overwrite)", .fields.join("; "))]
pub(crate) struct ChangedSince {
    pub what: String,
    pub fields: Vec<String>,
}

impl Runner for FedRunner<'_> {
    type Kind = StepSpec;
    type Prepared = Prepared;

    async fn apply(
        &self,
        step: &StepDef<StepSpec>,
        ctx: &StepCtx<'_>,
    ) -> Result<Effect, StepFailure> {
        let action = step.kind.action;
        match (&step.kind.object, action) {
            (Object::PortalRegistration { portal }, _) => portal::register(self, *portal).await,
            (_, PlanAction::NoChange) => Ok(Effect::Unchanged),
            (_, PlanAction::Adopt) => Ok(Effect::Adopted),
            (Object::IsRole { name }, _) => is_role::apply(self, ctx, &step.id, name).await,
            (Object::IsUser { name }, _) => is_user::apply(self, ctx, &step.id, name, action).await,
            (Object::ScimUser { name }, _) => scim_user::apply(self, ctx, &step.id, name).await,
            (Object::ScimGroup { name }, _) => {
                scim_group::apply(self, ctx, &step.id, name, action).await
            }
            (Object::Application { .. }, _) => {
                application::apply(self, ctx, &step.id, action).await
            }
            (Object::RestApplication { name, .. }, _) => {
                rest_application::apply(self, ctx, &step.id, name, action).await
            }
            (Object::OidcScope { name }, _) => oidc_scope::apply(self, ctx, name).await,
            (Object::ApimIdp { .. }, _) => apim_idp::apply(self, ctx, &step.id, action).await,
            (Object::Portal { portal, .. }, _) => portal::apply(self, ctx, &step.id, *portal).await,
        }
    }

    fn width(&self, step: &StepDef<StepSpec>) -> u32 {
        match step.kind.object {
            // The OAuth client and the service provider are written (and read) at once.
            Object::Application { .. } | Object::RestApplication { .. } => 2,
            _ => 1,
        }
    }

    async fn prepare_undo(
        &self,
        step: &StepDef<StepSpec>,
        effect: &Effect,
    ) -> Result<Prepared, StepFailure> {
        match &step.kind.object {
            Object::IsRole { .. } | Object::PortalRegistration { .. } => Ok(Prepared::Nothing),
            Object::IsUser { name } => is_user::prepare_undo(self, name, effect).await,
            Object::ScimUser { name } => scim_user::prepare_undo(self, name, effect).await,
            Object::ScimGroup { name } => scim_group::prepare_undo(self, name, effect).await,
            Object::Application { name, .. } => application::prepare_undo(self, name).await,
            Object::RestApplication { name, .. } => {
                rest_application::prepare_undo(self, name).await
            }
            Object::OidcScope { name } => oidc_scope::prepare_undo(self, name).await,
            Object::ApimIdp { name } => apim_idp::prepare_undo(self, name).await,
            Object::Portal { portal, .. } => portal::prepare_undo(self, *portal, effect).await,
        }
    }

    async fn undo(
        &self,
        step: &StepDef<StepSpec>,
        effect: &Effect,
        prepared: Prepared,
    ) -> Result<(), StepFailure> {
        match &step.kind.object {
            Object::IsRole { name } => is_role::undo(self, name, effect).await,
            Object::IsUser { name } => is_user::undo(self, name, effect, prepared).await,
            Object::ScimUser { name } => scim_user::undo(self, name, effect, prepared).await,
            Object::ScimGroup { name } => scim_group::undo(self, name, effect, prepared).await,
            Object::Application { name, client_id } => {
                application::undo(self, &step.id, name, client_id, effect, prepared).await
            }
            Object::RestApplication { name, .. } => {
                rest_application::undo(self, &step.id, name, effect, prepared).await
            }
            Object::OidcScope { name } => oidc_scope::undo(self, name, effect, prepared).await,
            Object::ApimIdp { name } => {
                apim_idp::undo(self, &step.id, name, effect, prepared).await
            }
            Object::PortalRegistration { .. } => Ok(()),
            Object::Portal { portal, .. } => {
                portal::undo(self, &step.id, *portal, effect, prepared).await
            }
        }
    }
}
