//! The steps of a federation, one file each with its action and its undo side by side, and the
//! [`Runner`] that dispatches to them.
//!
//! Every step is idempotent and so is its undo. A step journals its intent (with the pre-image
//! for updates) before its first write. A failure whose outcome is unknown is settled by reading
//! the object back by its natural key, never by a blind retry or a blind undo.

pub(crate) mod apim_idp;
mod is_role;
mod is_user;
mod oauth_app;
mod portal;
pub(crate) mod service_provider;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Mutex;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use wso2_apim_client::ApimClient;
use wso2_apim_client::portals::{Portal, PortalSnapshot, SwitchOptions};
use wso2_is_client::model::{IdentityProvider, ServiceProvider};
use wso2_is_client::oauth::OAuthConsumerAppDTO;
use wso2_is_client::{ApplicationName, IdpName, IsClient, OAuthAppName, RoleName, UserName};

use crate::engine::{Action, Effect, Runner, StepCtx, StepDef, StepFailure, StepId};
use crate::plan::PlanAction;

/// What a step does, as journaled (no secrets: the desired objects live in memory only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepSpec {
    /// The object.
    pub object: Object,
    /// What the plan decided.
    pub action: PlanAction,
}

/// The object a step is about, by natural key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
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
    /// The OAuth application on IS.
    OAuthApp {
        /// Its name.
        name: OAuthAppName,
        /// Its consumer key.
        client_id: String,
    },
    /// The service provider on IS.
    ServiceProvider {
        /// Its name.
        name: ApplicationName,
    },
    /// The identity provider on APIM.
    ApimIdp {
        /// Its name.
        name: IdpName,
    },
    /// A portal's service provider on APIM.
    Portal {
        /// The portal.
        portal: Portal,
        /// The identity provider it is switched to.
        idp: IdpName,
    },
}

impl Object {
    /// The step id of this object.
    pub fn step_id(&self) -> StepId {
        StepId::new(match self {
            Self::IsRole { name } => format!("is.role:{name}"),
            Self::IsUser { name } => format!("is.user:{name}"),
            Self::OAuthApp { name, .. } => format!("is.oauth-app:{name}"),
            Self::ServiceProvider { name } => format!("is.service-provider:{name}"),
            Self::ApimIdp { name } => format!("apim.identity-provider:{name}"),
            Self::Portal { portal, .. } => format!("apim.portal:{}", portal.context()),
        })
    }
}

/// What the federation wants, with its secrets: held in memory for the apply only.
#[derive(Clone)]
pub(crate) struct Desired {
    pub users: HashMap<UserName, (SecretString, Vec<RoleName>)>,
    pub oauth_app: OAuthConsumerAppDTO,
    pub service_provider: ServiceProvider,
    pub idp: IdentityProvider,
    pub switch: SwitchOptions,
}

impl fmt::Debug for Desired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Desired")
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .field("oauth_app", &self.oauth_app)
            .field("service_provider", &self.service_provider.application_name)
            .field("idp", &self.idp.identity_provider_name)
            .finish_non_exhaustive()
    }
}

/// Pre-images captured during this process, secrets included: an undo in the same process
/// restores exactly; an undo from the journal fills secrets from the live object.
#[derive(Debug, Clone)]
pub(crate) enum PreImage {
    ServiceProvider(Box<ServiceProvider>),
    Idp(Box<IdentityProvider>),
    OAuthApp(Box<OAuthConsumerAppDTO>),
    Portal(Box<PortalSnapshot>),
}

/// Performs and undoes the federation's steps.
#[derive(Debug)]
pub(crate) struct FedRunner<'a> {
    pub is: &'a IsClient,
    pub apim: &'a ApimClient,
    /// `[managed-by:{marker}]`, written into descriptions of what this federation creates.
    pub tag: String,
    /// What to apply; `None` for a rollback from a journal.
    pub desired: Option<&'a Desired>,
    pub pre_images: Mutex<HashMap<StepId, PreImage>>,
}

impl<'a> FedRunner<'a> {
    pub(crate) fn new(
        is: &'a IsClient,
        apim: &'a ApimClient,
        tag: String,
        desired: Option<&'a Desired>,
    ) -> Self {
        Self {
            is,
            apim,
            tag,
            desired,
            pre_images: Mutex::new(HashMap::new()),
        }
    }

    fn desired(&self) -> Result<&'a Desired, StepFailure> {
        self.desired.ok_or_else(|| {
            StepFailure::clean("this run has no federation settings (rollback only)")
        })
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

    /// Whether a description carries this federation's ownership tag.
    pub(crate) fn owns(&self, description: Option<&str>) -> bool {
        description.is_some_and(|d| d.contains(&self.tag))
    }
}

/// Journals an intent; a journal that cannot be written stops the step before any write.
pub(crate) fn intent(
    ctx: &StepCtx<'_>,
    action: Action,
    pre_image: Option<serde_json::Value>,
) -> Result<(), StepFailure> {
    ctx.intent(action, pre_image)
        .map_err(|e| StepFailure::clean(format!("cannot write the journal: {e}")))
}

/// Serialises a pre-image for the journal (secrets come out redacted).
pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<serde_json::Value, StepFailure> {
    serde_json::to_value(value)
        .map_err(|e| StepFailure::clean(format!("cannot serialise a pre-image: {e}")))
}

/// Reads a pre-image back from the journal.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    value: &serde_json::Value,
) -> Result<T, StepFailure> {
    serde_json::from_value(value.clone())
        .map_err(|e| StepFailure::clean(format!("the journal's pre-image cannot be read: {e}")))
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

/// Whether a failed write provably changed nothing.
pub(crate) trait WriteOutcome {
    /// The request was not sent, or the server refused it in a way that means nothing changed.
    fn changed_nothing(&self) -> bool;

    /// Whether, although refused, the write may have been stored anyway (a duplicate-name
    /// refusal of a create the plan saw absent: another writer, or an earlier attempt): worth
    /// a read.
    fn outcome_unknown_hint(&self) -> bool;
}

impl WriteOutcome for wso2_is_client::Error {
    fn changed_nothing(&self) -> bool {
        self.dispatch() == wso2_is_client::Dispatch::NotSent || !self.outcome_unknown()
    }
    fn outcome_unknown_hint(&self) -> bool {
        self.is_already_exists()
    }
}

impl WriteOutcome for wso2_apim_client::Error {
    fn changed_nothing(&self) -> bool {
        self.dispatch() == wso2_is_client::Dispatch::NotSent || !self.outcome_unknown()
    }
    fn outcome_unknown_hint(&self) -> bool {
        self.is_already_exists()
    }
}

/// Creates an object and settles a failure by reading it back (never by sending the create
/// again): present means it was created (the plan saw it absent); absent means the create
/// failed, and the step fails cleanly (the rollback then undoes the steps before it).
pub(crate) async fn create_settled<E, C, CF, X, XF>(
    create: C,
    exists: X,
) -> Result<Effect, StepFailure>
where
    E: std::error::Error + Send + Sync + 'static + WriteOutcome,
    C: FnOnce() -> CF,
    CF: Future<Output = Result<(), E>>,
    X: FnOnce() -> XF,
    XF: Future<Output = Result<bool, E>>,
{
    let Err(e) = create().await else {
        return Ok(Effect::Created);
    };
    if e.changed_nothing() && !e.outcome_unknown_hint() {
        return Err(StepFailure::clean(e));
    }
    match exists().await {
        Ok(true) => {
            tracing::info!(error = %e, "the create failed but the object is there: it was created");
            Ok(Effect::Created)
        }
        Ok(false) => Err(StepFailure::clean(e)),
        Err(read) => {
            tracing::warn!(error = %read, "could not read back after a failed create");
            Err(failed(e))
        }
    }
}

/// An object read for an update, or the failure of finding it gone since the plan.
pub(crate) fn still_there<T, E>(
    read: Result<Option<T>, E>,
    what: impl fmt::Display,
) -> Result<T, StepFailure>
where
    E: std::error::Error + Send + Sync + 'static,
{
    read.map_err(StepFailure::clean)?
        .ok_or_else(|| StepFailure::clean(format!("{what} disappeared since the plan")))
}

/// The update branch every object step shares: `current` is the object just read; when it
/// already matches, nothing is sent; otherwise its pre-image is remembered (in memory, secrets
/// included) and journaled (secrets withheld) before `write` changes it.
pub(crate) async fn update_read<T, E, W, WF>(
    r: &FedRunner<'_>,
    ctx: &StepCtx<'_>,
    step: &StepId,
    current: Result<T, StepFailure>,
    already: impl FnOnce(&T) -> bool,
    image: impl FnOnce(T) -> PreImage,
    write: W,
) -> Result<Effect, StepFailure>
where
    T: Serialize + Clone,
    E: std::error::Error + Send + Sync + 'static + WriteOutcome,
    W: FnOnce(T) -> WF,
    WF: Future<Output = Result<(), E>>,
{
    let current = current?;
    if already(&current) {
        return Ok(Effect::Unchanged);
    }
    let pre = to_json(&current)?;
    r.remember(step, image(current.clone()));
    intent(ctx, Action::Update, Some(pre.clone()))?;
    write(current).await.map_err(failed)?;
    Ok(Effect::Updated { pre_image: pre })
}

/// Deletes an object and settles a failure by reading it back: absent means done.
pub(crate) async fn delete_settled<E, D, DF, X, XF>(delete: D, exists: X) -> Result<(), StepFailure>
where
    E: std::error::Error + Send + Sync + 'static + WriteOutcome,
    D: Fn() -> DF,
    DF: Future<Output = Result<(), E>>,
    X: Fn() -> XF,
    XF: Future<Output = Result<bool, E>>,
{
    match delete().await {
        Ok(()) => Ok(()),
        Err(e) => match exists().await {
            Ok(false) => Ok(()),
            _ => Err(StepFailure::clean(e)),
        },
    }
}

impl Runner for FedRunner<'_> {
    type Kind = StepSpec;

    async fn apply(
        &self,
        step: &StepDef<StepSpec>,
        ctx: &StepCtx<'_>,
    ) -> Result<Effect, StepFailure> {
        match step.kind.action {
            PlanAction::NoChange => return Ok(Effect::Unchanged),
            PlanAction::Adopt => return Ok(Effect::Adopted),
            PlanAction::Create | PlanAction::Update => {}
        }
        let update = step.kind.action == PlanAction::Update;
        match &step.kind.object {
            Object::IsRole { name } => is_role::apply(self, ctx, name).await,
            Object::IsUser { name } => is_user::apply(self, ctx, name, update).await,
            Object::OAuthApp { name, .. } => {
                oauth_app::apply(self, ctx, &step.id, name, update).await
            }
            Object::ServiceProvider { name } => {
                service_provider::apply(self, ctx, &step.id, name, update).await
            }
            Object::ApimIdp { name } => apim_idp::apply(self, ctx, &step.id, name, update).await,
            Object::Portal { portal, idp } => {
                portal::apply(self, ctx, &step.id, *portal, idp).await
            }
        }
    }

    async fn undo(&self, step: &StepDef<StepSpec>, effect: &Effect) -> Result<(), StepFailure> {
        match &step.kind.object {
            Object::IsRole { name } => is_role::undo(self, name, effect).await,
            Object::IsUser { name } => is_user::undo(self, name, effect).await,
            Object::OAuthApp { name, client_id } => {
                oauth_app::undo(self, &step.id, name, client_id, effect).await
            }
            Object::ServiceProvider { name } => {
                service_provider::undo(self, &step.id, name, effect).await
            }
            Object::ApimIdp { name } => apim_idp::undo(self, &step.id, name, effect).await,
            Object::Portal { portal, .. } => portal::undo(self, &step.id, *portal, effect).await,
        }
    }
}
