//! The saga engine: runs steps as a DAG with bounded concurrency per server, journals every
//! step before and after its remote call, and on failure undoes every step that took effect,
//! in reverse dependency order. Also folds a journal back into step states for `rollback` and
//! `recover` after a crash.
//!
//! The engine knows nothing of WSO2: a [`Runner`] performs and undoes steps.

pub mod journal;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use self::journal::{JournalWriter, PlannedStep, Record, RunOutcome};

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
    /// Delete an object (destroy).
    Delete,
}

/// What a finished step did: what undo must compensate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Effect {
    /// Nothing changed (the object already matched).
    Unchanged,
    /// An existing object with the desired content was adopted; undo leaves it.
    Adopted,
    /// The object was created; undo deletes it.
    Created,
    /// The object was changed; undo restores the pre-image.
    Updated {
        /// The object before the change (no secrets).
        pre_image: serde_json::Value,
    },
    /// The object was deleted (destroy); not undone.
    Deleted,
    /// The step may or may not have taken effect; undo re-reads and compensates.
    Unknown {
        /// What the step was doing.
        action: Action,
        /// The pre-image for updates.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pre_image: Option<serde_json::Value>,
    },
}

impl Effect {
    /// Whether undo has something to do.
    pub fn needs_undo(&self) -> bool {
        matches!(
            self,
            Self::Created | Self::Updated { .. } | Self::Unknown { .. }
        )
    }
}

/// A step of a saga: id, server, dependencies and a runner-specific definition.
#[derive(Debug, Clone, PartialEq)]
pub struct StepDef<K> {
    /// The id.
    pub id: StepId,
    /// The server it talks to.
    pub server: Server,
    /// Steps that must finish first.
    pub deps: Vec<StepId>,
    /// What to do.
    pub kind: K,
}

/// A step's failure as seen by the engine.
#[derive(Debug)]
pub struct StepFailure {
    /// The error (its `Display` goes to the journal and events: no secrets).
    pub error: Box<dyn std::error::Error + Send + Sync>,
    /// Whether the step may have changed something (the re-read could not settle it).
    pub outcome_unknown: bool,
}

impl StepFailure {
    /// A failure that changed nothing.
    pub fn clean(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self {
            error: error.into(),
            outcome_unknown: false,
        }
    }

    /// A failure whose effect is unknown.
    pub fn unknown(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self {
            error: error.into(),
            outcome_unknown: true,
        }
    }
}

/// Context handed to a step while it runs.
#[derive(Debug)]
pub struct StepCtx<'a> {
    id: &'a StepId,
    journal: &'a JournalWriter,
    intent: std::sync::Mutex<Option<(Action, Option<serde_json::Value>)>>,
}

impl StepCtx<'_> {
    /// Journals the change the step is about to make, with the pre-image for updates; call it
    /// right before the first mutating request. Returns only once the record is on disk.
    pub fn intent(
        &self,
        action: Action,
        pre_image: Option<serde_json::Value>,
    ) -> std::io::Result<()> {
        self.journal.append(&Record::Intent {
            step: self.id.clone(),
            action,
            pre_image: pre_image.clone(),
        })?;
        *self.intent.lock().unwrap_or_else(|e| e.into_inner()) = Some((action, pre_image));
        Ok(())
    }

    fn last_intent(&self) -> Option<(Action, Option<serde_json::Value>)> {
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

    /// Performs a step. Must call [`StepCtx::intent`] before its first change, resolve unknown
    /// outcomes by re-reading, and never retry a write blindly.
    fn apply(
        &self,
        step: &StepDef<Self::Kind>,
        ctx: &StepCtx<'_>,
    ) -> impl Future<Output = Result<Effect, StepFailure>> + Send;

    /// Undoes an effect (idempotent: undoing twice is harmless).
    fn undo(
        &self,
        step: &StepDef<Self::Kind>,
        effect: &Effect,
    ) -> impl Future<Output = Result<(), StepFailure>> + Send;
}

/// Progress events.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// A step started.
    StepStarted {
        /// The step.
        step: StepId,
    },
    /// A step succeeded.
    StepSucceeded {
        /// The step.
        step: StepId,
        /// What it did.
        effect: Effect,
    },
    /// A step failed.
    StepFailed {
        /// The step.
        step: StepId,
        /// The error.
        error: String,
    },
    /// Undo of a step started.
    UndoStarted {
        /// The step.
        step: StepId,
    },
    /// A step was undone.
    Undone {
        /// The step.
        step: StepId,
    },
    /// Undo of a step failed.
    UndoFailed {
        /// The step.
        step: StepId,
        /// The error.
        error: String,
    },
}

/// Receives progress events.
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
    /// Undo failed; `effect` is still to compensate.
    UndoFailed {
        /// The error.
        error: String,
        /// What to compensate.
        effect: Effect,
    },
}

impl StepState {
    /// The effect still to undo, if any.
    fn pending_undo(&self) -> Option<&Effect> {
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

/// The result of running steps or undoing them.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// How the run ended.
    pub outcome: RunOutcome,
    /// The final state of each step, in plan order.
    pub steps: Vec<(StepId, StepState)>,
    /// The first failure, if any.
    pub failure: Option<(StepId, String)>,
}

/// Runs steps with a [`Runner`].
pub struct Engine<'r, R: Runner> {
    runner: &'r R,
    journal: &'r JournalWriter,
    limit_per_server: usize,
    events: Option<EventSink>,
}

impl<R: Runner> fmt::Debug for Engine<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("limit_per_server", &self.limit_per_server)
            .finish_non_exhaustive()
    }
}

/// A problem with the journal itself (not with a step).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The journal could not be written or read.
    #[error("journal {path}: {source}")]
    Journal {
        /// The journal path.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The journal does not describe a run this engine can resume.
    #[error("journal {path}: {reason}")]
    BadJournal {
        /// The journal path.
        path: String,
        /// Why.
        reason: String,
    },
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A fresh run id (time and process based; unique enough for journals).
pub fn new_run_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{:x}-{:x}", nanos, std::process::id())
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
        }
    }

    /// Sends progress events to `sink`.
    pub fn with_events(mut self, sink: Option<EventSink>) -> Self {
        self.events = sink;
        self
    }

    fn emit(&self, event: Event) {
        if let Some(sink) = &self.events {
            sink(&event);
        }
    }

    fn record(&self, record: &Record) -> Result<(), EngineError> {
        self.journal
            .append(record)
            .map_err(|source| EngineError::Journal {
                path: self.journal.path().display().to_string(),
                source,
            })
    }

    /// Runs every step (dependencies first, independent steps concurrently). On the first
    /// failure no new step starts; running ones finish; then every effect is undone in reverse
    /// dependency order.
    pub async fn apply(
        &self,
        operation: &str,
        marker: &str,
        steps: &[StepDef<R::Kind>],
    ) -> Result<RunReport, EngineError> {
        check_dag(steps).map_err(|reason| EngineError::BadJournal {
            path: "(plan)".into(),
            reason,
        })?;
        self.record(&Record::RunStarted {
            run_id: new_run_id(),
            operation: operation.to_owned(),
            marker: marker.to_owned(),
            at: now_secs(),
            steps: steps
                .iter()
                .map(|s| PlannedStep {
                    id: s.id.clone(),
                    deps: s.deps.clone(),
                    definition: serde_json::to_value(&s.kind).unwrap_or(serde_json::Value::Null),
                })
                .collect(),
        })?;

        let index: HashMap<&StepId, usize> =
            steps.iter().enumerate().map(|(i, s)| (&s.id, i)).collect();
        let mut waiting: Vec<usize> = steps.iter().map(|s| s.deps.len()).collect();
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); steps.len()];
        for (i, s) in steps.iter().enumerate() {
            for d in &s.deps {
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
        let mut failure: Option<(StepId, String)> = None;
        let mut journal_error = None;

        loop {
            if failure.is_none() && journal_error.is_none() {
                while let Some(i) = ready.pop() {
                    running.push(self.run_step(&steps[i], i, &sems));
                }
            }
            let Some((i, result)) = running.next().await else {
                break;
            };
            let step = &steps[i];
            match result {
                Ok(effect) => {
                    if let Err(e) = self.record(&Record::StepDone {
                        step: step.id.clone(),
                        effect: effect.clone(),
                    }) {
                        journal_error.get_or_insert(e);
                    }
                    self.emit(Event::StepSucceeded {
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
                Err((failure_, intent)) => {
                    let error = failure_.error.to_string();
                    let effect = failure_
                        .outcome_unknown
                        .then(|| {
                            intent.map(|(action, pre_image)| Effect::Unknown { action, pre_image })
                        })
                        .flatten();
                    if let Err(e) = self.record(&Record::StepFailed {
                        step: step.id.clone(),
                        error: error.clone(),
                        outcome_unknown: effect.is_some(),
                    }) {
                        journal_error.get_or_insert(e);
                    }
                    self.emit(Event::StepFailed {
                        step: step.id.clone(),
                        error: error.clone(),
                    });
                    failure.get_or_insert((step.id.clone(), error.clone()));
                    states[i] = StepState::Failed { error, effect };
                }
            }
        }
        if let Some(e) = journal_error {
            // Without a trustworthy journal, undo now while the effects are still in memory.
            let _ = self.undo_all(steps, &mut states).await;
            return Err(e);
        }

        let outcome = if failure.is_none() {
            RunOutcome::Applied
        } else if self.undo_all(steps, &mut states).await? {
            RunOutcome::RolledBack
        } else {
            RunOutcome::RollbackIncomplete
        };
        self.record(&Record::RunFinished { outcome })?;
        Ok(RunReport {
            outcome,
            steps: steps.iter().map(|s| s.id.clone()).zip(states).collect(),
            failure,
        })
    }

    async fn run_step(
        &self,
        step: &StepDef<R::Kind>,
        i: usize,
        sems: &Semaphores,
    ) -> (
        usize,
        Result<Effect, (StepFailure, Option<(Action, Option<serde_json::Value>)>)>,
    ) {
        let _permit = sems.acquire(step.server).await;
        let span = tracing::info_span!("step", step = %step.id, server = %step.server);
        self.emit(Event::StepStarted {
            step: step.id.clone(),
        });
        let ctx = StepCtx {
            id: &step.id,
            journal: self.journal,
            intent: std::sync::Mutex::new(None),
        };
        let result = tracing::Instrument::instrument(self.runner.apply(step, &ctx), span).await;
        (i, result.map_err(|f| (f, ctx.last_intent())))
    }

    /// Undoes every pending effect in reverse dependency order: a step is undone only after
    /// every step depending on it was. A failed undo blocks the undo of what it depends on (so
    /// that, e.g., an identity provider still referenced by a portal is not deleted). Returns
    /// whether everything was undone.
    async fn undo_all(
        &self,
        steps: &[StepDef<R::Kind>],
        states: &mut [StepState],
    ) -> Result<bool, EngineError> {
        let index: HashMap<&StepId, usize> =
            steps.iter().enumerate().map(|(i, s)| (&s.id, i)).collect();
        let needs: Vec<bool> = states.iter().map(|s| s.pending_undo().is_some()).collect();
        // Count, for each step, the dependents that still need undoing.
        let mut blocking = vec![0usize; steps.len()];
        for (i, s) in steps.iter().enumerate() {
            if needs[i] {
                for d in &s.deps {
                    blocking[index[d]] += 1;
                }
            }
        }
        let mut ready: Vec<usize> = (0..steps.len())
            .filter(|&i| needs[i] && blocking[i] == 0)
            .collect();
        let sems = Semaphores::new(self.limit_per_server);
        let mut running = FuturesUnordered::new();
        let mut all_ok = true;
        loop {
            while let Some(i) = ready.pop() {
                let effect = states[i]
                    .pending_undo()
                    .cloned()
                    .unwrap_or(Effect::Unchanged);
                self.record(&Record::UndoStarted {
                    step: steps[i].id.clone(),
                })?;
                self.emit(Event::UndoStarted {
                    step: steps[i].id.clone(),
                });
                let step = &steps[i];
                let sems = &sems;
                running.push(async move {
                    let _permit = sems.acquire(step.server).await;
                    let span = tracing::info_span!("undo", step = %step.id, server = %step.server);
                    let result =
                        tracing::Instrument::instrument(self.runner.undo(step, &effect), span)
                            .await;
                    (i, effect, result)
                });
            }
            let Some((i, effect, result)) = running.next().await else {
                break;
            };
            let id = steps[i].id.clone();
            match result {
                Ok(()) => {
                    self.record(&Record::UndoDone { step: id.clone() })?;
                    self.emit(Event::Undone { step: id });
                    states[i] = StepState::Undone;
                    for d in &steps[i].deps {
                        let j = index[d];
                        blocking[j] -= 1;
                        if blocking[j] == 0 && needs[j] {
                            ready.push(j);
                        }
                    }
                }
                Err(f) => {
                    all_ok = false;
                    let error = f.error.to_string();
                    self.record(&Record::UndoFailed {
                        step: id.clone(),
                        error: error.clone(),
                    })?;
                    self.emit(Event::UndoFailed {
                        step: id,
                        error: error.clone(),
                    });
                    states[i] = StepState::UndoFailed { error, effect };
                }
            }
        }
        Ok(all_ok && states.iter().all(|s| s.pending_undo().is_none()))
    }

    /// Undoes, from a journal, every effect of its last apply run that is not undone yet
    /// (idempotent: run it again after a failed undo or a crash).
    pub async fn rollback(&self, journal_path: &std::path::Path) -> Result<RunReport, EngineError> {
        let FoldedJournal {
            steps,
            mut states,
            marker,
        } = fold_journal::<R::Kind>(journal_path)?;
        self.record(&Record::RunStarted {
            run_id: new_run_id(),
            operation: "rollback".into(),
            marker,
            at: now_secs(),
            steps: Vec::new(),
        })?;
        let ok = self.undo_all(&steps, &mut states).await?;
        let outcome = if ok {
            RunOutcome::RolledBack
        } else {
            RunOutcome::RollbackIncomplete
        };
        self.record(&Record::RunFinished { outcome })?;
        Ok(RunReport {
            outcome,
            steps: steps.iter().map(|s| s.id.clone()).zip(states).collect(),
            failure: None,
        })
    }
}

/// A journal folded back into the steps of its last apply run.
#[derive(Debug, Clone)]
pub struct FoldedJournal<K> {
    /// The steps, in plan order.
    pub steps: Vec<StepDef<K>>,
    /// Their states, in the same order.
    pub states: Vec<StepState>,
    /// The ownership marker of the run.
    pub marker: String,
}

/// Folds a journal into steps and states. Runs accumulate: an effect still to undo from an
/// earlier apply run (a creation, the first pre-image) stays the one to undo even when a later
/// run found the object unchanged or changed it again; undo records of rollback runs clear it.
/// A step started without a finish record has an unknown effect. Step definitions are those of
/// the latest run that planned the step.
pub fn fold_journal<K: DeserializeOwned>(
    path: &std::path::Path,
) -> Result<FoldedJournal<K>, EngineError> {
    let shown = path.display().to_string();
    let records = journal::read_journal(path).map_err(|source| EngineError::Journal {
        path: shown.clone(),
        source,
    })?;
    let bad = |reason: String| EngineError::BadJournal {
        path: shown.clone(),
        reason,
    };

    let mut steps: Vec<StepDef<K>> = Vec::new();
    let mut index: BTreeMap<StepId, usize> = BTreeMap::new();
    let mut states: Vec<StepState> = Vec::new();
    // The run in which each step's pending effect was set.
    let mut origin: Vec<usize> = Vec::new();
    let mut intents: Vec<Option<(Action, Option<serde_json::Value>)>> = Vec::new();
    let mut marker = None;
    let mut run = 0usize;
    for r in &records {
        match r {
            Record::RunStarted {
                steps: planned,
                marker: m,
                ..
            } => {
                run += 1;
                if !planned.is_empty() {
                    marker = Some(m.clone());
                }
                for p in planned {
                    let kind = serde_json::from_value(p.definition.clone()).map_err(|e| {
                        bad(format!(
                            "step {} has a definition this version cannot read: {e}",
                            p.id
                        ))
                    })?;
                    let def = StepDef {
                        id: p.id.clone(),
                        server: server_of(&p.id),
                        deps: p.deps.clone(),
                        kind,
                    };
                    match index.get(&p.id) {
                        Some(&i) => steps[i] = def,
                        None => {
                            index.insert(p.id.clone(), steps.len());
                            steps.push(def);
                            states.push(StepState::Pending);
                            origin.push(0);
                            intents.push(None);
                        }
                    }
                }
                for i in intents.iter_mut() {
                    *i = None;
                }
            }
            Record::Intent {
                step,
                action,
                pre_image,
            } => {
                if let Some(&i) = index.get(step) {
                    intents[i] = Some((*action, pre_image.clone()));
                    if states[i].pending_undo().is_none() || origin[i] == run {
                        states[i] = StepState::Failed {
                            error: "interrupted (no outcome recorded)".into(),
                            effect: Some(Effect::Unknown {
                                action: *action,
                                pre_image: pre_image.clone(),
                            }),
                        };
                        origin[i] = run;
                    }
                }
            }
            Record::StepDone { step, effect } => {
                if let Some(&i) = index.get(step)
                    && (states[i].pending_undo().is_none() || origin[i] == run)
                {
                    states[i] = StepState::Done {
                        effect: effect.clone(),
                    };
                    origin[i] = run;
                }
            }
            Record::StepFailed {
                step,
                error,
                outcome_unknown,
            } => {
                if let Some(&i) = index.get(step)
                    && (states[i].pending_undo().is_none() || origin[i] == run)
                {
                    let effect = outcome_unknown
                        .then(|| {
                            intents[i]
                                .clone()
                                .map(|(action, pre_image)| Effect::Unknown { action, pre_image })
                        })
                        .flatten();
                    states[i] = StepState::Failed {
                        error: error.clone(),
                        effect,
                    };
                    origin[i] = run;
                }
            }
            Record::UndoDone { step } => {
                if let Some(&i) = index.get(step) {
                    states[i] = StepState::Undone;
                }
            }
            Record::UndoFailed { step, error } => {
                if let Some(&i) = index.get(step)
                    && let Some(effect) = states[i].pending_undo().cloned()
                {
                    states[i] = StepState::UndoFailed {
                        error: error.clone(),
                        effect,
                    };
                }
            }
            Record::UndoStarted { .. } | Record::RunFinished { .. } => {}
        }
    }
    let marker = marker.ok_or_else(|| bad("no apply run recorded".into()))?;
    Ok(FoldedJournal {
        steps,
        states,
        marker,
    })
}

/// The server of a step, from its id prefix (`is.` or `apim.`).
pub fn server_of(id: &StepId) -> Server {
    if id.as_str().starts_with("apim.") {
        Server::Apim
    } else {
        Server::Is
    }
}

/// Checks that dependencies exist and form no cycle.
fn check_dag<K>(steps: &[StepDef<K>]) -> Result<(), String> {
    let index: HashMap<&StepId, usize> =
        steps.iter().enumerate().map(|(i, s)| (&s.id, i)).collect();
    if index.len() != steps.len() {
        return Err("duplicate step ids".into());
    }
    for s in steps {
        for d in &s.deps {
            if !index.contains_key(d) {
                return Err(format!("step {} depends on unknown step {d}", s.id));
            }
        }
    }
    // Kahn's algorithm: every step must be reachable in topological order.
    let mut waiting: Vec<usize> = steps.iter().map(|s| s.deps.len()).collect();
    let mut queue: Vec<usize> = (0..steps.len()).filter(|&i| waiting[i] == 0).collect();
    let mut seen = 0;
    while let Some(i) = queue.pop() {
        seen += 1;
        for (j, s) in steps.iter().enumerate() {
            if s.deps.contains(&steps[i].id) {
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

struct Semaphores {
    is: Semaphore,
    apim: Semaphore,
}

impl Semaphores {
    fn new(limit: usize) -> Self {
        Self {
            is: Semaphore::new(limit),
            apim: Semaphore::new(limit),
        }
    }

    async fn acquire(&self, server: Server) -> tokio::sync::SemaphorePermit<'_> {
        let sem = match server {
            Server::Is => &self.is,
            Server::Apim => &self.apim,
        };
        // The semaphores are never closed.
        sem.acquire()
            .await
            .unwrap_or_else(|_| unreachable!("semaphore closed"))
    }
}

#[cfg(test)]
mod tests;
