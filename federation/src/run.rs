//! Plan, apply, rollback, recover and destroy.

use std::path::{Path, PathBuf};

use serde::Serialize;
use wso2_apim_client::ApimClient;
use wso2_is_client::IsClient;

use crate::Federation;
use crate::engine::journal::{JournalWriter, RunOutcome};
use crate::engine::{Engine, EngineError, EventSink, RunReport, StepState};
use crate::error::FederationError;
use crate::plan::{Plan, PlanAction};
use crate::steps::FedRunner;

/// Where the journal goes and who hears about progress.
#[derive(Clone)]
pub struct RunOptions {
    /// The journal (append-only JSON lines, flushed to disk before each remote call; no secrets).
    /// Keep it: `rollback`, `recover` and `destroy` read it.
    pub journal: PathBuf,
    /// Receives a typed event for each step started, succeeded, failed or undone.
    pub events: Option<EventSink>,
}

impl RunOptions {
    /// Journal to `path`, no event sink.
    pub fn new(journal: impl Into<PathBuf>) -> Self {
        Self {
            journal: journal.into(),
            events: None,
        }
    }

    /// Sends progress events to `sink`.
    pub fn events(mut self, sink: EventSink) -> Self {
        self.events = Some(sink);
        self
    }
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("journal", &self.journal)
            .field("events", &self.events.is_some())
            .finish()
    }
}

/// What an apply did.
#[derive(Debug, Clone, Serialize)]
pub struct ApplyReport {
    /// The plan that was applied.
    pub plan: Plan,
    /// The steps and their outcome.
    pub run: RunReport,
    /// The journal.
    pub journal: PathBuf,
}

fn journal_writer(path: &Path) -> Result<JournalWriter, FederationError> {
    JournalWriter::open(path).map_err(|source| {
        FederationError::Journal(EngineError::Journal {
            path: path.display().to_string(),
            source,
        })
    })
}

fn failure_of(report: &RunReport, journal: &Path) -> FederationError {
    let (step, error) = report
        .failure
        .clone()
        .map(|(s, e)| (s.to_string(), e))
        .unwrap_or_default();
    let undo_failures: Vec<String> = report
        .steps
        .iter()
        .filter_map(|(id, s)| match s {
            StepState::UndoFailed { error, .. } => Some(format!("{id}: {error}")),
            _ => None,
        })
        .collect();
    if report.outcome == RunOutcome::RollbackIncomplete {
        FederationError::RollbackIncomplete {
            step,
            error,
            undo_failures,
            journal: journal.to_path_buf(),
        }
    } else {
        FederationError::RolledBack {
            step,
            error,
            journal: journal.to_path_buf(),
        }
    }
}

impl Federation {
    /// Reads both servers (reads only) and returns what an apply would do, object by object.
    pub async fn plan(&self) -> Result<Plan, FederationError> {
        Ok(self.make_plan().await?.plan)
    }

    /// Plans, then applies: everything on IS, then the identity provider on APIM, then the
    /// portals, independent steps concurrently. On any failure every change is undone in reverse
    /// order and the error says so ([`FederationError::RolledBack`]); a failed undo is reported
    /// with the journal to re-run [`rollback`](Self::rollback) with.
    pub async fn apply(&self, options: &RunOptions) -> Result<ApplyReport, FederationError> {
        let planned = self.make_plan().await?;
        self.execute(planned, options).await
    }

    /// Applies `plan` as made earlier by [`plan`](Self::plan), after checking (by reading again)
    /// that the servers still look as they did then. A stale plan is refused before any write.
    pub async fn apply_plan(
        &self,
        plan: &Plan,
        options: &RunOptions,
    ) -> Result<ApplyReport, FederationError> {
        let planned = self.make_plan().await?;
        let mut changed = Vec::new();
        for old in &plan.changes {
            match planned.plan.change(&old.step) {
                Some(new) if new.observed == old.observed && new.action == old.action => {}
                _ => changed.push(format!("{} {:?}", old.kind, old.name)),
            }
        }
        if planned.plan.changes.len() != plan.changes.len() && changed.is_empty() {
            changed.push("the set of objects".into());
        }
        if !changed.is_empty() {
            return Err(FederationError::StalePlan { objects: changed });
        }
        self.execute(planned, options).await
    }

    async fn execute(
        &self,
        planned: crate::planner::Planned,
        options: &RunOptions,
    ) -> Result<ApplyReport, FederationError> {
        let journal = journal_writer(&options.journal)?;
        let runner = FedRunner::new(
            &self.is,
            &self.apim,
            self.spec.ownership_tag(),
            Some(&planned.desired),
        );
        let engine = Engine::new(&runner, &journal, self.spec.concurrency)
            .with_events(options.events.clone());
        let run = engine
            .apply("apply", &self.spec.marker, &planned.steps)
            .await?;
        if run.outcome != RunOutcome::Applied {
            return Err(failure_of(&run, &options.journal));
        }
        Ok(ApplyReport {
            plan: planned.plan,
            run,
            journal: options.journal.clone(),
        })
    }

    /// Undoes every change recorded in the journal that is not undone yet: after a failed undo,
    /// after a crash, or to take a federation back. Idempotent.
    pub async fn rollback(&self, options: &RunOptions) -> Result<RunReport, FederationError> {
        rollback_journal(
            &self.is,
            &self.apim,
            &self.spec.ownership_tag(),
            self.spec.concurrency,
            options,
        )
        .await
    }

    /// Removes what this federation made and restores the portals exactly, from the journal of
    /// its applies: created objects are deleted (only those carrying this federation's tag),
    /// updated ones restored. A hand-made object, even one sharing a name prefix, is never
    /// touched. Idempotent.
    pub async fn destroy(&self, options: &RunOptions) -> Result<RunReport, FederationError> {
        self.rollback(options).await
    }

    /// After a crash: with `finish = false`, rolls back what the interrupted run did (like
    /// [`rollback`](Self::rollback)); with `finish = true`, completes the apply instead (plans
    /// again from the live state, so steps that took effect are found done, and applies the
    /// rest; a step whose outcome was unknown is read back first).
    pub async fn recover(
        &self,
        options: &RunOptions,
        finish: bool,
    ) -> Result<RecoverReport, FederationError> {
        if finish {
            Ok(RecoverReport::Finished(Box::new(
                self.apply(options).await?,
            )))
        } else {
            Ok(RecoverReport::RolledBack(self.rollback(options).await?))
        }
    }

    /// Whether a plan would change nothing (a quick check that the federation is in place).
    pub async fn is_applied(&self) -> Result<bool, FederationError> {
        let plan = self.plan().await?;
        Ok(plan
            .changes
            .iter()
            .all(|c| matches!(c.action, PlanAction::NoChange | PlanAction::Adopt)))
    }
}

/// What `recover` did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecoverReport {
    /// The interrupted apply was rolled back.
    RolledBack(RunReport),
    /// The interrupted apply was finished.
    Finished(Box<ApplyReport>),
}

/// Undoes, from a journal, every change not undone yet, with only the two clients (no
/// settings): what an operator runs after a crash. `tag` is the ownership tag
/// (`[managed-by:{marker}]`; see [`journal_marker`]).
pub async fn rollback_journal(
    is: &IsClient,
    apim: &ApimClient,
    tag: &str,
    concurrency: usize,
    options: &RunOptions,
) -> Result<RunReport, FederationError> {
    if !options.journal.is_file() {
        return Err(FederationError::Journal(EngineError::BadJournal {
            path: options.journal.display().to_string(),
            reason: "no such journal file: nothing was recorded there (an apply that failed while planning changed nothing); check the path".into(),
        }));
    }
    let journal = journal_writer(&options.journal)?;
    let runner = FedRunner::new(is, apim, tag.to_owned(), None);
    let engine = Engine::new(&runner, &journal, concurrency).with_events(options.events.clone());
    let report = engine.rollback(&options.journal).await?;
    if report.outcome == RunOutcome::RollbackIncomplete {
        return Err(failure_of(&report, &options.journal));
    }
    Ok(report)
}

/// The marker recorded in a journal (for a rollback without settings).
pub fn journal_marker(journal: &Path) -> Result<String, FederationError> {
    Ok(crate::engine::fold_journal::<crate::steps::StepSpec>(journal)?.marker)
}
