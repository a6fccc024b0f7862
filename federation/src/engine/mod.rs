//! The saga engine: runs steps as a DAG with bounded concurrency per server, journals every
//! step before and after its remote call, and on failure (or interruption) undoes every step
//! that took effect, in reverse dependency order, after reading what each undo needs in one
//! round. Rollback and recover fold a journal back into step states ([`journal::fold`]).
//!
//! The engine knows nothing of WSO2: a [`Runner`] performs and undoes steps; each step records
//! the [`Server`] it talks to, which bounds its concurrency.
//!
//! When the journal cannot be written, no further step starts (no further server write is
//! made), and the undo still runs from memory: every undo is idempotent, and the report says
//! exactly what was and was not undone.

pub mod journal;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::{Semaphore, watch};

use self::journal::UndoSet;
pub use self::journal::{Event, JournalError, JournalWriter, PlannedStep, RunOutcome};

/// Identifies a step, e.g. `is.role:publisher_role`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StepId(String);

impl StepId {
    /// A step id.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which server a step talks to (each has its own concurrency limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Server {
    /// WSO2 Identity Server.
    Is,
    /// WSO2 API Manager.
    Apim,
}

impl Server {
    /// Both servers.
    pub const ALL: [Server; 2] = [Server::Is, Server::Apim];

    fn slot(self) -> usize {
        match self {
            Self::Is => 0,
            Self::Apim => 1,
        }
    }
}

impl fmt::Display for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Is => "IS",
            Self::Apim => "APIM",
        })
    }
}

/// The change a step is about to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Create an object that did not exist.
    Create,
    /// Change an existing object (its pre-image is journaled first).
    Update,
    /// Delete an object.
    Delete,
}

/// What a finished step did: what undo must compensate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Effect {
    /// Nothing changed (the object already matched).
    Unchanged,
    /// An existing object of someone else's with the desired content was adopted; undo leaves
    /// it.
    Adopted,
    /// The object was created by this run's own create call; undo deletes it (if nobody changed
    /// it since).
    Created {
        /// What was written (no secrets), for the three-way check before deleting.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        post_image: Option<serde_json::Value>,
    },
    /// The object was changed; undo restores the pre-image where nobody changed it since.
    Updated {
        /// The object before the change (no secrets).
        pre_image: serde_json::Value,
        /// The object as written (no secrets).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        post_image: Option<serde_json::Value>,
    },
    /// The object was deleted; not undone.
    Deleted,
    /// The object was brought into being by the server's own first-use path (a portal's login
    /// endpoints make APIM create its service provider); not undone, as the server would not
    /// make it again and its first use would have made the same object.
    Registered,
    /// The step may or may not have taken effect; undo re-reads and compensates only what it can
    /// prove this run did (the post-image it tried to write).
    Unknown {
        /// What the step was doing.
        action: Action,
        /// The pre-image for updates.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pre_image: Option<serde_json::Value>,
        /// What it tried to write.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        post_image: Option<serde_json::Value>,
    },
}

impl Effect {
    /// Whether undo has something to do.
    pub fn needs_undo(&self) -> bool {
        matches!(
            self,
            Self::Created { .. } | Self::Updated { .. } | Self::Unknown { .. }
        )
    }

    /// What the step wrote (or tried to write), if recorded.
    pub fn post_image(&self) -> Option<&serde_json::Value> {
        match self {
            Self::Created { post_image }
            | Self::Updated { post_image, .. }
            | Self::Unknown { post_image, .. } => post_image.as_ref(),
            _ => None,
        }
    }

    /// Replaces the recorded post-image (a later run wrote the object again).
    pub fn set_post_image(&mut self, image: serde_json::Value) {
        match self {
            Self::Created { post_image }
            | Self::Updated { post_image, .. }
            | Self::Unknown { post_image, .. } => *post_image = Some(image),
            _ => {}
        }
    }

    /// A short word for messages: `created`, `updated`, ...
    pub fn verb(&self) -> &'static str {
        match self {
            Self::Unchanged => "unchanged",
            Self::Adopted => "adopted",
            Self::Created { .. } => "created",
            Self::Updated { .. } => "updated",
            Self::Deleted => "deleted",
            Self::Registered => "registered",
            Self::Unknown { .. } => "outcome unknown",
        }
    }
}

/// A step of a saga: id, server, dependencies and a runner-specific definition.
#[derive(Debug, Clone, PartialEq)]
pub struct StepDef<K> {
    /// The id.
    pub id: StepId,
    /// The server it talks to.
    pub server: Server,
    /// Steps whose result this one uses: they finish first, and in an undo this step is undone
    /// before them.
    pub deps: Vec<StepId>,
    /// Steps that must finish first for ordering only (nothing of theirs is used, e.g. every IS
    /// step before the first write on APIM): an undo does not wait for this step before
    /// undoing them.
    pub after: Vec<StepId>,
    /// What to do.
    pub kind: K,
}

/// A step's error, shared: its `Display` is this step's problem, its `source()` chain the
/// causes (typed), as the runner produced them.
#[derive(Clone)]
pub struct StepError(Arc<dyn std::error::Error + Send + Sync>);

impl StepError {
    /// Wraps an error.
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(Arc::from(error.into()))
    }

    /// The error.
    pub fn inner(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.0
    }

    /// The whole chain as one bounded, cleaned line (for journals and reports).
    pub fn chain(&self) -> String {
        crate::text::chain(&*self.0)
    }
}

impl fmt::Debug for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl std::error::Error for StepError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl PartialEq for StepError {
    fn eq(&self, other: &Self) -> bool {
        self.chain() == other.chain()
    }
}

impl Serialize for StepError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.chain())
    }
}

/// An error known only by its recorded text (from a journal).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Recorded(pub String);

/// A step's failure as seen by the engine.
#[derive(Debug)]
pub struct StepFailure {
    /// The error (its chain goes to the journal and events, bounded: no secrets).
    pub error: StepError,
    /// Whether the step may have changed something (the re-read could not settle it).
    pub outcome_unknown: bool,
    /// Whether the step or undo refused to act on an object someone else made or changed
    /// (rather than failed).
    pub refused: bool,
}

impl StepFailure {
    /// A failure that changed nothing.
    pub fn clean(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self {
            error: StepError::new(error),
            outcome_unknown: false,
            refused: false,
        }
    }

    /// A failure whose effect is unknown.
    pub fn unknown(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self {
            error: StepError::new(error),
            outcome_unknown: true,
            refused: false,
        }
    }

    /// A refusal that changed nothing: the object is someone else's, or someone changed it
    /// since this federation wrote it.
    pub fn refused(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self {
            error: StepError::new(error),
            outcome_unknown: false,
            refused: true,
        }
    }
}

type Intent = (Action, Option<serde_json::Value>, Option<serde_json::Value>);

/// Context handed to a step while it runs.
#[derive(Debug)]
pub struct StepCtx<'a> {
    id: &'a StepId,
    engine: &'a dyn Journal,
    intent: std::sync::Mutex<Option<Intent>>,
}

/// Where a step's intent goes (the engine's journal and event sink).
trait Journal: fmt::Debug + Sync {
    fn record(&self, event: Event) -> Result<(), JournalError>;
}

impl StepCtx<'_> {
    /// The step's id.
    pub fn step(&self) -> &StepId {
        self.id
    }

    /// Journals the change the step is about to make, with the pre-image for updates and the
    /// post-image it is about to write; call it right before the first mutating request, and
    /// make no write when it fails. Returns only once the record is on disk.
    pub fn intent(
        &self,
        action: Action,
        pre_image: Option<serde_json::Value>,
        post_image: Option<serde_json::Value>,
    ) -> Result<(), JournalError> {
        *self.intent.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((action, pre_image.clone(), post_image.clone()));
        self.engine.record(Event::Intent {
            step: self.id.clone(),
            action,
            pre_image,
            post_image,
        })
    }

    fn last_intent(&self) -> Option<Intent> {
        self.intent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Performs and undoes steps of kind `Kind`.
pub trait Runner: Sync {
    /// Step definitions (serialised into the journal: no secrets).
    type Kind: Serialize + DeserializeOwned + Clone + Send + Sync + fmt::Debug;
    /// What an undo reads before any undo writes (all undos read in one round).
    type Prepared: Send;

    /// Performs a step. Must call [`StepCtx::intent`] before its first change, resolve unknown
    /// outcomes by re-reading, never retry a write blindly, and be idempotent (running it again
    /// after it succeeded changes nothing and reports the same effect).
    fn apply(
        &self,
        step: &StepDef<Self::Kind>,
        ctx: &StepCtx<'_>,
    ) -> impl Future<Output = Result<Effect, StepFailure>> + Send;

    /// Reads what undoing `effect` needs (reads only).
    fn prepare_undo(
        &self,
        step: &StepDef<Self::Kind>,
        effect: &Effect,
    ) -> impl Future<Output = Result<Self::Prepared, StepFailure>> + Send;

    /// How many requests the step (its action, its undo's read, its undo) may have in flight
    /// at once on its server; the engine holds that many of the server's permits (at most the
    /// limit) while it runs. One by default.
    fn width(&self, _step: &StepDef<Self::Kind>) -> u32 {
        1
    }

    /// Undoes an effect, from what [`prepare_undo`](Self::prepare_undo) read (idempotent:
    /// undoing twice is harmless).
    fn undo(
        &self,
        step: &StepDef<Self::Kind>,
        effect: &Effect,
        prepared: Self::Prepared,
    ) -> impl Future<Output = Result<(), StepFailure>> + Send;
}

/// Receives every event of a run (the journal's vocabulary).
pub type EventSink = Arc<dyn Fn(&Event) + Send + Sync>;

/// The state of a step, from a run or folded from a journal.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum StepState {
    /// Not started.
    Pending,
    /// Finished with an effect.
    Done {
        /// The effect.
        effect: Effect,
    },
    /// Failed; `effect` is what undo must compensate (unknown outcome), if anything.
    Failed {
        /// The error.
        error: String,
        /// What to compensate.
        effect: Option<Effect>,
    },
    /// Undone.
    Undone,
    /// Undo failed or refused; `effect` is still to compensate.
    UndoFailed {
        /// The error.
        error: String,
        /// What to compensate.
        effect: Effect,
        /// Whether the undo refused (someone changed the object since) rather than failed.
        refused: bool,
    },
}

impl StepState {
    /// The effect still to undo, if any.
    pub fn pending_undo(&self) -> Option<&Effect> {
        match self {
            Self::Done { effect } if effect.needs_undo() => Some(effect),
            Self::Failed {
                effect: Some(effect),
                ..
            } if effect.needs_undo() => Some(effect),
            Self::UndoFailed { effect, .. } => Some(effect),
            _ => None,
        }
    }
}

/// A step and its error.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepErrorAt {
    /// The step.
    pub step: StepId,
    /// Its error.
    pub error: StepError,
    /// Whether it was a refusal (someone else's object, or changed since).
    pub refused: bool,
}

/// An undo that failed or refused: its step and why.
pub type UndoFailure = StepErrorAt;

/// The result of running steps or undoing them.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The run's id.
    pub run: String,
    /// How the run ended.
    pub outcome: RunOutcome,
    /// The final state of each step, in plan order.
    pub steps: Vec<(StepId, StepState)>,
    /// The first failure, if any.
    pub failure: Option<StepErrorAt>,
    /// Every undo that failed or refused.
    pub undo_failures: Vec<UndoFailure>,
    /// Whether the run was interrupted (a signal) before it finished.
    pub interrupted: bool,
    /// The journal write that failed, if one did: from then on nothing more was written to the
    /// journal or the servers (the undo ran from memory).
    pub journal_error: Option<StepError>,
}

impl RunReport {
    /// The steps still to undo (their effect is in place).
    pub fn remaining(&self) -> impl Iterator<Item = &StepId> {
        self.steps
            .iter()
            .filter(|(_, s)| s.pending_undo().is_some())
            .map(|(id, _)| id)
    }
}

/// How often each action and undo runs (steno's repeat injection, for tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Repeat {
    /// Run every action twice (the second result counts).
    pub actions: bool,
    /// Run every undo twice (the second result counts).
    pub undos: bool,
}

/// Runs steps with a [`Runner`].
pub struct Engine<'r, R: Runner> {
    runner: &'r R,
    journal: &'r JournalWriter,
    limit_per_server: usize,
    events: Option<EventSink>,
    cancel: Option<watch::Receiver<bool>>,
    no_rollback: bool,
    repeat: Repeat,
    run_id: Option<String>,
    tail: std::sync::Mutex<Option<(Server, Tail<'r>)>>,
    journal_error: std::sync::Mutex<Option<StepError>>,
}

/// A request a caller runs alongside an apply's last steps (see [`Engine::with_tail`]).
pub type Tail<'r> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'r>>;

impl<R: Runner> fmt::Debug for Engine<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("limit_per_server", &self.limit_per_server)
            .field("no_rollback", &self.no_rollback)
            .finish_non_exhaustive()
    }
}

impl<R: Runner> Journal for Engine<'_, R> {
    fn record(&self, event: Event) -> Result<(), JournalError> {
        if let Some(sink) = &self.events {
            sink(&event);
        }
        self.journal.append(&event).inspect_err(|e| {
            let mut slot = self.journal_error.lock().unwrap_or_else(|e| e.into_inner());
            if slot.is_none() {
                tracing::error!(error = %e, "the journal cannot be written: no further change is made");
                *slot = Some(StepError::new(e.to_string()));
            }
        })
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A fresh run id: 16 random letters and digits (the time, if the system has no randomness).
pub fn new_run_id() -> String {
    crate::random_token(16).unwrap_or_else(|_| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        format!("{:x}-{:x}", nanos, std::process::id())
    })
}

/// This machine's name (for leases and journals).
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

impl<'r, R: Runner> Engine<'r, R> {
    /// An engine over `runner`, journaling to `journal`, with at most `limit_per_server` steps
    /// (each issuing one request at a time) in flight per server.
    pub fn new(runner: &'r R, journal: &'r JournalWriter, limit_per_server: usize) -> Self {
        Self {
            runner,
            journal,
            limit_per_server: limit_per_server.max(1),
            events: None,
            cancel: None,
            no_rollback: false,
            repeat: Repeat::default(),
            run_id: None,
            tail: std::sync::Mutex::new(None),
            journal_error: std::sync::Mutex::new(None),
        }
    }

    /// Records the run under `id` (e.g. the id its run lease names) instead of a fresh one.
    pub fn with_run_id(mut self, id: impl Into<String>) -> Self {
        self.run_id = Some(id.into());
        self
    }

    /// Runs `tail` (a request to `server`) alongside the last steps of the next apply: once
    /// every step has started and none failed, under a permit of `server`'s concurrency limit
    /// like a step. A run that succeeds waits for it before returning; a run that fails or is
    /// interrupted drops it before undoing. E.g. the run lease's ownership check, read with the
    /// last write instead of after it.
    pub fn with_tail(mut self, server: Server, tail: Option<Tail<'r>>) -> Self {
        self.tail = std::sync::Mutex::new(tail.map(|t| (server, t)));
        self
    }

    /// Sends every event to `sink` too.
    pub fn with_events(mut self, sink: Option<EventSink>) -> Self {
        self.events = sink;
        self
    }

    /// Stops starting steps once `cancel` turns true; steps in flight settle and are journaled,
    /// then the run is undone (or stopped, see [`no_rollback`](Self::no_rollback)).
    pub fn with_cancel(mut self, cancel: Option<watch::Receiver<bool>>) -> Self {
        self.cancel = cancel;
        self
    }

    /// On failure or interruption, stop without undoing (the journal keeps what to undo).
    pub fn no_rollback(mut self, stop: bool) -> Self {
        self.no_rollback = stop;
        self
    }

    /// Runs every action and/or undo twice, to prove they are idempotent (tests).
    #[cfg(any(test, feature = "test-util"))]
    pub fn repeat(mut self, repeat: Repeat) -> Self {
        self.repeat = repeat;
        self
    }

    fn journal_error(&self) -> Option<StepError> {
        self.journal_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn cancelled(&self) -> bool {
        self.cancel.as_ref().is_some_and(|c| *c.borrow())
    }

    async fn wait_cancel(cancel: &mut Option<watch::Receiver<bool>>) {
        match cancel {
            Some(c) => {
                if c.wait_for(|v| *v).await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
            None => std::future::pending().await,
        }
    }

    fn start(
        &self,
        operation: &str,
        binding: &serde_json::Value,
        steps: &[StepDef<R::Kind>],
    ) -> Result<String, JournalError> {
        let run = self.run_id.clone().unwrap_or_else(new_run_id);
        let planned = steps
            .iter()
            .map(|s| {
                Ok(PlannedStep {
                    id: s.id.clone(),
                    server: s.server,
                    deps: s.deps.clone(),
                    after: s.after.clone(),
                    definition: serde_json::to_value(&s.kind).map_err(|e| JournalError::Write {
                        path: self.journal.path().to_path_buf(),
                        source: std::io::Error::other(e),
                    })?,
                })
            })
            .collect::<Result<Vec<_>, JournalError>>()?;
        self.record(Event::RunStarted {
            run: run.clone(),
            operation: operation.to_owned(),
            at: now_secs(),
            host: host_name(),
            pid: std::process::id(),
            binding: binding.clone(),
            steps: planned,
        })?;
        Ok(run)
    }

    /// Runs every step (dependencies first, independent steps concurrently). On the first
    /// failure, an interruption, or a journal that cannot be written, no new step starts;
    /// running ones settle; then every effect is undone in reverse dependency order. Fails only
    /// when the run could not even be journaled as started (then nothing was done).
    pub async fn apply(
        &self,
        operation: &str,
        binding: &serde_json::Value,
        steps: &[StepDef<R::Kind>],
    ) -> Result<RunReport, JournalError> {
        check_dag(steps).map_err(|reason| JournalError::Invalid {
            path: self.journal.path().to_path_buf(),
            reason: format!("the plan's steps: {reason}"),
        })?;
        let run = self.start(operation, binding, steps)?;

        let index: HashMap<&StepId, usize> =
            steps.iter().enumerate().map(|(i, s)| (&s.id, i)).collect();
        let mut waiting: Vec<usize> = steps.iter().map(|s| s.deps.len() + s.after.len()).collect();
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); steps.len()];
        for (i, s) in steps.iter().enumerate() {
            for d in s.deps.iter().chain(&s.after) {
                dependents[index[d]].push(i);
            }
        }
        let mut states: Vec<StepState> = vec![StepState::Pending; steps.len()];
        let mut ready: Vec<usize> = (0..steps.len())
            .filter(|&i| waiting[i] == 0)
            .rev()
            .collect();
        let sems = Semaphores::new(self.limit_per_server);
        let mut running = FuturesUnordered::new();
        let mut failure: Option<StepErrorAt> = None;
        let mut interrupted = false;
        let mut cancel = self.cancel.clone();
        let mut tail = self.tail.lock().unwrap_or_else(|e| e.into_inner()).take();
        let mut tails = FuturesUnordered::new();
        let mut started = 0;

        loop {
            if !interrupted && self.cancelled() {
                interrupted = true;
            }
            let stop = failure.is_some() || interrupted || self.journal_error().is_some();
            if !stop {
                while let Some(i) = ready.pop() {
                    running.push(self.run_step(&steps[i], i, &sems));
                    started += 1;
                }
                if started == steps.len()
                    && let Some((server, t)) = tail.take()
                {
                    let sems = &sems;
                    tails.push(async move {
                        let _permit = sems.acquire(server, 1).await;
                        t.await;
                    });
                }
            }
            let next = tokio::select! {
                next = running.next() => next,
                Some(()) = tails.next(), if !tails.is_empty() => continue,
                () = Self::wait_cancel(&mut cancel), if !interrupted => {
                    interrupted = true;
                    cancel = None;
                    continue;
                }
            };
            let Some((i, result)) = next else {
                break;
            };
            let step = &steps[i];
            match result {
                Ok(effect) => {
                    let _ = self.record(Event::StepSucceeded {
                        step: step.id.clone(),
                        effect: effect.clone(),
                    });
                    states[i] = StepState::Done { effect };
                    for &d in &dependents[i] {
                        waiting[d] -= 1;
                        if waiting[d] == 0 {
                            ready.push(d);
                        }
                    }
                }
                Err((failed, intent)) => {
                    let error = failed.error.chain();
                    let effect = failed
                        .outcome_unknown
                        .then(|| {
                            intent.map(|(action, pre_image, post_image)| Effect::Unknown {
                                action,
                                pre_image,
                                post_image,
                            })
                        })
                        .flatten();
                    let _ = self.record(Event::StepFailed {
                        step: step.id.clone(),
                        error: error.clone(),
                        outcome_unknown: effect.is_some(),
                    });
                    failure.get_or_insert(StepErrorAt {
                        step: step.id.clone(),
                        error: failed.error,
                        refused: failed.refused,
                    });
                    states[i] = StepState::Failed { error, effect };
                }
            }
        }

        let journal_error = self.journal_error();
        let must_undo = failure.is_some() || interrupted || journal_error.is_some();
        if must_undo {
            drop(tails);
        } else {
            while tails.next().await.is_some() {}
        }
        let (outcome, undo_failures) = if !must_undo {
            (RunOutcome::Applied, Vec::new())
        } else if self.no_rollback {
            (RunOutcome::Stopped, Vec::new())
        } else {
            let runs = vec![vec![run.clone()]; steps.len()];
            let undo_failures = self.undo_all(steps, &mut states, &runs).await;
            let outcome =
                if undo_failures.is_empty() && states.iter().all(|s| s.pending_undo().is_none()) {
                    RunOutcome::RolledBack
                } else {
                    RunOutcome::RollbackIncomplete
                };
            (outcome, undo_failures)
        };
        let _ = self.record(Event::RunFinished { outcome });
        Ok(RunReport {
            run,
            outcome,
            steps: steps.iter().map(|s| s.id.clone()).zip(states).collect(),
            failure,
            undo_failures,
            interrupted,
            journal_error: self.journal_error(),
        })
    }

    async fn run_step(
        &self,
        step: &StepDef<R::Kind>,
        i: usize,
        sems: &Semaphores,
    ) -> (usize, Result<Effect, (StepFailure, Option<Intent>)>) {
        let _permit = sems.acquire(step.server, self.runner.width(step)).await;
        let span = tracing::info_span!("step", step = %step.id, server = %step.server);
        if let Err(e) = self.record(Event::StepStarted {
            step: step.id.clone(),
        }) {
            return (i, Err((StepFailure::clean(e), None)));
        }
        let ctx = StepCtx {
            id: &step.id,
            engine: self,
            intent: std::sync::Mutex::new(None),
        };
        let mut result =
            tracing::Instrument::instrument(self.runner.apply(step, &ctx), span.clone()).await;
        if self.repeat.actions && result.is_ok() {
            result = tracing::Instrument::instrument(self.runner.apply(step, &ctx), span).await;
        }
        (i, result.map_err(|f| (f, ctx.last_intent())))
    }

    /// Undoes every pending effect. Every undo reads what it needs at once, at the start (one
    /// round, or two for an object found by name then read by id); each undo runs as soon as its
    /// own read is in and every step depending on it was undone (reverse dependency order;
    /// ordering-only `after` edges are not waited for). A failed undo blocks the undo of what it
    /// depends on (so that, e.g., an identity provider still referenced by a portal is not
    /// deleted). Journal failures do not stop it (it runs from memory). Returns the undo
    /// failures.
    async fn undo_all(
        &self,
        steps: &[StepDef<R::Kind>],
        states: &mut [StepState],
        runs: &[Vec<String>],
    ) -> Vec<StepErrorAt> {
        let index: HashMap<&StepId, usize> =
            steps.iter().enumerate().map(|(i, s)| (&s.id, i)).collect();
        let effects: Vec<Option<Effect>> =
            states.iter().map(|s| s.pending_undo().cloned()).collect();
        let sems = Semaphores::new(self.limit_per_server);

        // Every undo reads what it needs, concurrently, from the start.
        let mut prepared: Vec<Option<Result<R::Prepared, StepFailure>>> =
            (0..steps.len()).map(|_| None).collect();
        let mut reads = FuturesUnordered::new();
        for (i, effect) in effects.iter().enumerate() {
            let Some(effect) = effect else { continue };
            let step = &steps[i];
            let sems = &sems;
            reads.push(async move {
                let _permit = sems.acquire(step.server, self.runner.width(step)).await;
                let span = tracing::info_span!("undo-read", step = %step.id);
                let mut r = tracing::Instrument::instrument(
                    self.runner.prepare_undo(step, effect),
                    span.clone(),
                )
                .await;
                if self.repeat.undos && r.is_ok() {
                    r = tracing::Instrument::instrument(
                        self.runner.prepare_undo(step, effect),
                        span,
                    )
                    .await;
                }
                (i, r)
            });
        }

        // The undos, dependents first, each once its read is in.
        let needs: Vec<bool> = effects.iter().map(Option::is_some).collect();
        let mut blocking = vec![0usize; steps.len()];
        for (i, s) in steps.iter().enumerate() {
            if needs[i] {
                for d in &s.deps {
                    blocking[index[d]] += 1;
                }
            }
        }
        let mut unblocked: Vec<bool> = (0..steps.len())
            .map(|i| needs[i] && blocking[i] == 0)
            .collect();
        let mut read_in = vec![false; steps.len()];
        let mut ready: Vec<usize> = Vec::new();
        let mut running = FuturesUnordered::new();
        let mut failures = Vec::new();
        loop {
            while let Some(i) = ready.pop() {
                let step = &steps[i];
                let Some(effect) = effects[i].clone() else {
                    continue;
                };
                let _ = self.record(Event::UndoStarted {
                    step: step.id.clone(),
                    runs: runs[i].clone(),
                });
                let prepared = prepared[i].take();
                let sems = &sems;
                running.push(async move {
                    let result = match prepared {
                        None => Err(StepFailure::clean("nothing was read for this undo")),
                        Some(Err(f)) => Err(f),
                        Some(Ok(p)) => {
                            let _permit = sems.acquire(step.server, self.runner.width(step)).await;
                            let span =
                                tracing::info_span!("undo", step = %step.id, server = %step.server);
                            let r = tracing::Instrument::instrument(
                                self.runner.undo(step, &effect, p),
                                span.clone(),
                            )
                            .await;
                            if self.repeat.undos && r.is_ok() {
                                match self.runner.prepare_undo(step, &effect).await {
                                    Ok(p2) => {
                                        tracing::Instrument::instrument(
                                            self.runner.undo(step, &effect, p2),
                                            span,
                                        )
                                        .await
                                    }
                                    Err(f) => Err(f),
                                }
                            } else {
                                r
                            }
                        }
                    };
                    (i, effect, result)
                });
            }
            let (i, effect, result) = tokio::select! {
                Some((i, r)) = reads.next(), if !reads.is_empty() => {
                    prepared[i] = Some(r);
                    read_in[i] = true;
                    if unblocked[i] {
                        ready.push(i);
                    }
                    continue;
                }
                Some(done) = running.next(), if !running.is_empty() => done,
                else => break,
            };
            let id = steps[i].id.clone();
            match result {
                Ok(()) => {
                    let _ = self.record(Event::Undone {
                        step: id,
                        runs: runs[i].clone(),
                    });
                    states[i] = StepState::Undone;
                    for d in &steps[i].deps {
                        let j = index[d];
                        blocking[j] -= 1;
                        if blocking[j] == 0 && needs[j] {
                            unblocked[j] = true;
                            if read_in[j] {
                                ready.push(j);
                            }
                        }
                    }
                }
                Err(f) => {
                    let error = f.error.chain();
                    let _ = self.record(Event::UndoFailed {
                        step: id.clone(),
                        runs: runs[i].clone(),
                        error: error.clone(),
                        refused: f.refused,
                    });
                    states[i] = StepState::UndoFailed {
                        error,
                        effect,
                        refused: f.refused,
                    };
                    failures.push(StepErrorAt {
                        step: id,
                        error: f.error,
                        refused: f.refused,
                    });
                }
            }
        }
        failures
    }

    /// Undoes `set` (from a folded journal: the last run's effects, or every run's), recording
    /// which runs each undo covers (idempotent: run it again after a failed undo or a crash).
    /// `operation` names the run in the journal (`rollback`, `destroy`, `recover`).
    pub async fn rollback(
        &self,
        operation: &str,
        binding: &serde_json::Value,
        set: UndoSet<R::Kind>,
    ) -> Result<RunReport, JournalError> {
        let UndoSet {
            steps,
            mut states,
            runs,
        } = set;
        let run = self.start(operation, binding, &[])?;
        let undo_failures = self.undo_all(&steps, &mut states, &runs).await;
        let outcome =
            if undo_failures.is_empty() && states.iter().all(|s| s.pending_undo().is_none()) {
                RunOutcome::RolledBack
            } else {
                RunOutcome::RollbackIncomplete
            };
        let _ = self.record(Event::RunFinished { outcome });
        Ok(RunReport {
            run,
            outcome,
            steps: steps.iter().map(|s| s.id.clone()).zip(states).collect(),
            failure: None,
            undo_failures,
            interrupted: false,
            journal_error: self.journal_error(),
        })
    }
}

/// Checks that step ids are unique, dependencies exist and form no cycle.
pub(crate) fn check_dag<K>(steps: &[StepDef<K>]) -> Result<(), String> {
    let index: HashMap<&StepId, usize> =
        steps.iter().enumerate().map(|(i, s)| (&s.id, i)).collect();
    if index.len() != steps.len() {
        return Err("duplicate step ids".into());
    }
    for s in steps {
        for d in s.deps.iter().chain(&s.after) {
            if !index.contains_key(d) {
                return Err(format!("step {} depends on unknown step {d}", s.id));
            }
            if s.deps.contains(d) && s.after.contains(d) {
                return Err(format!(
                    "step {} names {d} both as a dependency and as ordering",
                    s.id
                ));
            }
        }
    }
    // Kahn's algorithm: every step must be reachable in topological order.
    let mut waiting: Vec<usize> = steps.iter().map(|s| s.deps.len() + s.after.len()).collect();
    let mut queue: Vec<usize> = (0..steps.len()).filter(|&i| waiting[i] == 0).collect();
    let mut seen = 0;
    while let Some(i) = queue.pop() {
        seen += 1;
        for (j, s) in steps.iter().enumerate() {
            if s.deps.contains(&steps[i].id) || s.after.contains(&steps[i].id) {
                waiting[j] -= 1;
                if waiting[j] == 0 {
                    queue.push(j);
                }
            }
        }
    }
    if seen == steps.len() {
        Ok(())
    } else {
        Err("the step dependencies form a cycle".into())
    }
}

struct Semaphores([Semaphore; 2], u32);

impl Semaphores {
    fn new(limit: usize) -> Self {
        Self(
            [Semaphore::new(limit), Semaphore::new(limit)],
            u32::try_from(limit).unwrap_or(u32::MAX),
        )
    }

    /// `width` of `server`'s permits (at most the limit).
    async fn acquire(&self, server: Server, width: u32) -> tokio::sync::SemaphorePermit<'_> {
        // The semaphores are never closed.
        self.0[server.slot()]
            .acquire_many(width.clamp(1, self.1))
            .await
            .unwrap_or_else(|_| unreachable!("semaphore closed"))
    }
}

#[cfg(test)]
mod tests;
