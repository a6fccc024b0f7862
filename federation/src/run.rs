//! Apply, rollback, recover, destroy and unlock: each takes the run lease on the servers
//! before its first write and releases it at its end, journals every change before making it,
//! and reports the servers' real state.

use std::path::PathBuf;

use secrecy::SecretString;
use serde::Serialize;
use tokio::sync::watch;

use crate::engine::journal::{Folded, RunOutcome};
use crate::engine::{Engine, EventSink, JournalWriter, RunReport, StepState};
use crate::error::FederationError;
use crate::lease::{self, Lease, LeaseHolder};
use crate::plan::{Plan, PlanAction};
use crate::planner::{Binding, Planned};
use crate::steps::{FedRunner, Ownership, StepSpec};
use crate::{Federation, random_token};

/// How a run goes: progress events, interruption, and the overrides an operator may choose.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// Receives every event of the run (step started, intent, succeeded, failed, undo, ...).
    pub events: Option<EventSink>,
    /// Turns true to interrupt the run: no new step starts, steps in flight settle and are
    /// journaled, then the run is undone (or stops, with `no_rollback`).
    pub cancel: Option<watch::Receiver<bool>>,
    /// On failure or interruption, stop without undoing (the journal keeps what to undo).
    pub no_rollback: bool,
    /// Overwrite changes someone made since this federation wrote an object (update, restore,
    /// delete), instead of refusing with the fields that differ.
    pub force: bool,
    /// Use a journal whose binding (servers, tenant, marker, settings) differs from the target.
    pub ignore_journal_binding: bool,
    /// Makes the journal fail after this many records of a run (tests).
    #[cfg(feature = "test-util")]
    journal_fail_after: Option<u64>,
    /// Runs every action and undo twice (tests).
    #[cfg(feature = "test-util")]
    repeat: crate::engine::Repeat,
}

impl RunOptions {
    /// Default options (no events, refuse on others' changes, undo on failure).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends every event to `sink`.
    pub fn events(mut self, sink: EventSink) -> Self {
        self.events = Some(sink);
        self
    }

    /// Interrupts the run when `cancel` turns true.
    pub fn cancel(mut self, cancel: watch::Receiver<bool>) -> Self {
        self.cancel = Some(cancel);
        self
    }

    /// Overwrite others' changes (see [`force`](Self::force)).
    pub fn force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }

    /// Makes every journal write after the `n`th record of a run fail as a full disk would
    /// (tests of what a run does when its journal cannot be written).
    #[cfg(feature = "test-util")]
    pub fn journal_fail_after(mut self, n: u64) -> Self {
        self.journal_fail_after = Some(n);
        self
    }

    /// Runs every step's action and every undo twice, the second result counting (steno's
    /// repeat injection: proves them idempotent against the servers).
    #[cfg(feature = "test-util")]
    pub fn repeat(mut self, repeat: crate::engine::Repeat) -> Self {
        self.repeat = repeat;
        self
    }

    fn engine<'r, R: crate::engine::Runner>(
        &self,
        runner: &'r R,
        journal: &'r JournalWriter,
        limit: usize,
        run: &str,
    ) -> Engine<'r, R> {
        let engine = Engine::new(runner, journal, limit)
            .with_events(self.events.clone())
            .with_cancel(self.cancel.clone())
            .no_rollback(self.no_rollback)
            .with_run_id(run);
        #[cfg(feature = "test-util")]
        let engine = engine.repeat(self.repeat);
        engine
    }

    fn open_journal(&self, path: &std::path::Path) -> Result<JournalWriter, FederationError> {
        let journal = JournalWriter::open(path)?;
        #[cfg(feature = "test-util")]
        let journal = match self.journal_fail_after {
            Some(n) => journal.fail_after(n),
            None => journal,
        };
        Ok(journal)
    }
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("events", &self.events.is_some())
            .field("cancel", &self.cancel.is_some())
            .field("no_rollback", &self.no_rollback)
            .field("force", &self.force)
            .field("ignore_journal_binding", &self.ignore_journal_binding)
            .finish_non_exhaustive()
    }
}

/// How long after its answer the lease's ownership check, read with a run's last steps, still
/// stands for the release (or one round trip of it, when longer).
const LEASE_CHECK_FRESH: std::time::Duration = std::time::Duration::from_secs(2);

/// The run a guarded body runs as: its id (the lease's), and the lease's ownership check to run
/// alongside its last steps.
struct RunHandle<'a> {
    id: String,
    tail: crate::engine::Tail<'a>,
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

/// What `recover` did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case", tag = "recovered", content = "report")]
pub enum RecoverReport {
    /// The journal records no unfinished run and nothing left to undo: nothing was done, but a
    /// lease left by a run that died (before writing anything) is released.
    NothingToRecover {
        /// The dead run's lease, if one was released.
        released_lease: Option<LeaseHolder>,
    },
    /// The interrupted run was rolled back.
    RolledBack(RunReport),
    /// The interrupted apply was finished.
    Finished(Box<ApplyReport>),
}

/// A conflict found when re-reading for a saved plan (made without one): the servers changed
/// since the plan.
fn conflict_is_stale(e: FederationError) -> FederationError {
    match e {
        FederationError::Conflict { conflicts } => FederationError::StalePlan {
            objects: conflicts.iter().map(ToString::to_string).collect(),
        },
        other => other,
    }
}

/// Refuses a saved plan that no longer describes the servers.
fn stale(saved: &Plan, now: &Plan) -> Result<(), FederationError> {
    let mut changed = Vec::new();
    if now.instance != saved.instance {
        changed.push("the journal (another run started it since)".to_owned());
    }
    if now.client_id != saved.client_id {
        changed.push(format!("the OAuth client id (now {})", now.client_id));
    }
    for old in &saved.changes {
        match now.change(&old.step) {
            Some(new) if new.observed == old.observed && new.action == old.action => {}
            _ => changed.push(format!("{} {:?}", old.kind, old.name)),
        }
    }
    if now.changes.len() != saved.changes.len() && changed.is_empty() {
        changed.push("the set of objects".into());
    }
    if changed.is_empty() {
        Ok(())
    } else {
        Err(FederationError::StalePlan { objects: changed })
    }
}

fn failure_of(report: RunReport, journal: PathBuf) -> FederationError {
    match report.outcome {
        RunOutcome::RollbackIncomplete => FederationError::RollbackIncomplete {
            source: report.undo_failures.first().map(|f| f.error.clone()),
            journal,
            report: Box::new(report),
        },
        RunOutcome::Stopped | RunOutcome::RolledBack if report.interrupted => {
            FederationError::Interrupted {
                rolled_back: report.outcome == RunOutcome::RolledBack,
                journal,
                report: Box::new(report),
            }
        }
        RunOutcome::Stopped => FederationError::RollbackIncomplete {
            source: report.failure.as_ref().map(|f| f.error.clone()),
            journal,
            report: Box::new(report),
        },
        _ => match report.failure.clone() {
            Some(f) => FederationError::RolledBack {
                step: f.step,
                source: f.error,
                journal,
                report: Box::new(report),
            },
            // The journal failed before any step did: undone from memory.
            None => FederationError::RolledBack {
                step: crate::engine::StepId::new("(journal)"),
                source: report
                    .journal_error
                    .clone()
                    .unwrap_or_else(|| crate::engine::StepError::new("the run stopped")),
                journal,
                report: Box::new(report),
            },
        },
    }
}

impl Federation {
    /// Reads both servers and the journal (reads only) and returns what an apply would do,
    /// object by object, with every value the apply will send that the settings do not hold.
    pub async fn plan(&self) -> Result<Plan, FederationError> {
        Ok(self.make_plan(None, None, false).await?.plan)
    }

    /// Plans and applies: everything on IS, then the identity provider on APIM, then the
    /// portals, independent steps concurrently (a portal never logged into is registered while
    /// IS is written: that asks nothing of IS and is never undone, as a first login would have
    /// made it).
    ///
    /// The run lease is held from before the plan's last read to after the last write. A first
    /// apply (the journal records no run) takes it first and reads the servers once, under it
    /// (a plan that turns out empty then gives it back: one create and one delete of the lease
    /// on APIM). Otherwise the servers are read first: when the plan changes nothing, nothing is
    /// written (not even the lease); else the lease is taken and the servers are read again
    /// under it before the first write. The lease's ownership check before its release is read
    /// with the last steps. On any failure every change is undone in reverse
    /// order and the error says so ([`FederationError::RolledBack`]); a failed undo is reported
    /// with the journal to re-run [`rollback`](Self::rollback) with.
    pub async fn apply(&self, options: &RunOptions) -> Result<ApplyReport, FederationError> {
        self.apply_showing(options, |_| {}).await
    }

    /// [`apply`](Self::apply), handing `show` the plan it applies once that plan is read (under
    /// the run lease when it changes anything) and before the first write: for a caller that
    /// shows the plan without asking (`wso2-federate apply --yes`). `show` runs while the lease
    /// is held, so it must not wait for a person: to confirm a plan first, use
    /// [`plan`](Self::plan) then [`apply_plan`](Self::apply_plan).
    pub async fn apply_showing(
        &self,
        options: &RunOptions,
        show: impl FnOnce(&Plan),
    ) -> Result<ApplyReport, FederationError> {
        self.refuse_unfinished()?;
        if self.journal_view(false)?.binding.is_none() {
            // A first apply (the journal records no run): there is something to do but on
            // servers where everything already exists, so the lease is taken first and the
            // servers are read once, under it.
            return self
                .guarded("apply", None, |instance, run| async move {
                    let planned = self
                        .make_plan_as(
                            Some(run.id.as_str()),
                            None,
                            Some(instance.as_str()),
                            options.force,
                        )
                        .await?;
                    show(&planned.plan);
                    if planned.plan.is_empty() {
                        return Ok(self.unchanged(planned));
                    }
                    self.execute(planned, options, &run.id, Some(run.tail))
                        .await
                })
                .await;
        }
        let first = self.make_plan(None, None, options.force).await?;
        if first.plan.is_empty() {
            show(&first.plan);
            return Ok(self.unchanged(first));
        }
        let client_id = first.plan.client_id.clone();
        self.guarded(
            "apply",
            Some(first.plan.instance.as_str()),
            |instance, run| async move {
                let planned = self
                    .make_plan_as(
                        Some(run.id.as_str()),
                        Some(client_id.as_str()),
                        Some(instance.as_str()),
                        options.force,
                    )
                    .await?;
                show(&planned.plan);
                self.execute(planned, options, &run.id, Some(run.tail))
                    .await
            },
        )
        .await
    }

    /// Applies `plan` as made earlier by [`plan`](Self::plan): exactly its values (client id,
    /// journal instance), after checking, by reading again under the run lease, that the servers
    /// still look as they did then. A stale plan is refused before any write.
    pub async fn apply_plan(
        &self,
        plan: &Plan,
        options: &RunOptions,
    ) -> Result<ApplyReport, FederationError> {
        if plan.fingerprint != self.spec.fingerprint() {
            return Err(FederationError::StalePlan {
                objects: vec!["the settings".into()],
            });
        }
        self.refuse_unfinished()?;
        if plan.is_empty() {
            let planned = self
                .make_plan(
                    Some(plan.client_id.as_str()),
                    Some(plan.instance.as_str()),
                    options.force,
                )
                .await
                .map_err(conflict_is_stale)?;
            stale(plan, &planned.plan)?;
            return Ok(self.unchanged(planned));
        }
        self.guarded(
            "apply",
            Some(plan.instance.as_str()),
            |instance, run| async move {
                let planned = self
                    .make_plan_as(
                        Some(run.id.as_str()),
                        Some(plan.client_id.as_str()),
                        Some(instance.as_str()),
                        options.force,
                    )
                    .await
                    .map_err(conflict_is_stale)?;
                stale(plan, &planned.plan)?;
                self.execute(planned, options, &run.id, Some(run.tail))
                    .await
            },
        )
        .await
    }

    /// The report of an apply that had nothing to do (nothing was written).
    fn unchanged(&self, planned: Planned) -> ApplyReport {
        let steps = planned
            .steps
            .iter()
            .map(|s| {
                (
                    s.id.clone(),
                    StepState::Done {
                        effect: match s.kind.action {
                            PlanAction::Adopt => crate::engine::Effect::Adopted,
                            _ => crate::engine::Effect::Unchanged,
                        },
                    },
                )
            })
            .collect();
        ApplyReport {
            plan: planned.plan,
            run: RunReport {
                run: String::new(),
                outcome: RunOutcome::Applied,
                steps,
                failure: None,
                undo_failures: Vec::new(),
                interrupted: false,
                journal_error: None,
            },
            journal: self.spec.journal.clone(),
        }
    }

    /// Refuses to start when the journal records a run that never finished.
    pub(crate) fn refuse_unfinished(&self) -> Result<(), FederationError> {
        let view = self.journal_view(false)?;
        match view.folded.as_ref().and_then(|f| f.unfinished()) {
            Some(run) => Err(FederationError::Unfinished {
                journal: self.spec.journal.clone(),
                run: Box::new(run.clone()),
            }),
            None => Ok(()),
        }
    }

    /// Takes the lease, runs `body` with the journal's instance (the journal's, else
    /// `instance`, else a new one), releases the lease. The release's ownership check (is the
    /// lease still this run's?) is read while the run's last step is in flight, so a run that
    /// succeeded gives the lease back one round after its last answer; any other outcome reads
    /// it afresh.
    async fn guarded<'a, F, Fut, T>(
        &'a self,
        operation: &str,
        instance: Option<&str>,
        body: F,
    ) -> Result<T, FederationError>
    where
        F: FnOnce(String, RunHandle<'a>) -> Fut,
        Fut: std::future::Future<Output = Result<T, FederationError>>,
    {
        let view = self.journal_view(false)?;
        let instance = match (&view.binding, instance) {
            (Some(b), _) => b.instance.clone(),
            (None, Some(i)) => i.to_owned(),
            (None, None) => random_token(12)?,
        };
        // A dead run of this very journal that recorded nothing may still hold the lease.
        let lease = self
            .take_lease(operation, &instance, |h| {
                h.instance == instance && (h.dead_here() || h.expired())
            })
            .await?;
        // The ownership check of the release, read alongside the last steps.
        let check = std::sync::Arc::new(std::sync::Mutex::new(None));
        let tail: crate::engine::Tail<'_> = Box::pin({
            let check = check.clone();
            async move {
                let sent = std::time::Instant::now();
                let state = lease::read(&self.apim).await;
                *check.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some((state, sent, std::time::Instant::now()));
            }
        });
        let handle = RunHandle {
            id: lease.holder().run.clone(),
            tail,
        };
        let result = body(instance, handle).await;
        let checked = check.lock().unwrap_or_else(|e| e.into_inner()).take();
        // It counts only for a run that succeeded and ended soon after its answer: within one
        // of the check's own round trips, or LEASE_CHECK_FRESH (the journal's last writes on a
        // fast link); a last step that was retried makes it stale, and the lease is read again.
        let checked = checked
            .filter(|_| result.is_ok())
            .and_then(|(state, sent, answered)| {
                let fresh = answered.duration_since(sent).max(LEASE_CHECK_FRESH);
                (answered.elapsed() <= fresh).then_some(state)
            });
        self.give_back(lease, checked, result).await
    }

    async fn take_lease(
        &self,
        operation: &str,
        instance: &str,
        take_over: impl Fn(&LeaseHolder) -> bool,
    ) -> Result<Lease, FederationError> {
        let holder = LeaseHolder::here(&random_token(16)?, instance, operation);
        lease::acquire(&self.apim, holder, take_over).await
    }

    async fn give_back<T>(
        &self,
        lease: Lease,
        checked: Option<Result<lease::LeaseState, FederationError>>,
        result: Result<T, FederationError>,
    ) -> Result<T, FederationError> {
        match (lease.release_checked(&self.apim, checked).await, result) {
            (Ok(()), r) => r,
            (Err(e), Ok(v)) => {
                tracing::warn!(error = %crate::text::chain(&e), "the run lease could not be released: break it with `unlock` once it expires");
                Ok(v)
            }
            (Err(e), Err(r)) => {
                tracing::warn!(error = %crate::text::chain(&e), "the run lease could not be released");
                Err(r)
            }
        }
    }

    async fn execute(
        &self,
        planned: Planned,
        options: &RunOptions,
        run: &str,
        tail: Option<crate::engine::Tail<'_>>,
    ) -> Result<ApplyReport, FederationError> {
        let Planned {
            plan,
            steps,
            live,
            ownership,
            binding,
        } = planned;
        let journal = options.open_journal(&self.spec.journal)?;
        let versions = self.versions().await?;
        let rest = versions.is.management == wso2_is_client::version::ManagementApi::Rest;
        // The client secret: the existing application's, the settings', or drawn now.
        let secret = match (live.client_secret(rest), &self.spec.client_secret) {
            (Some(s), _) => s,
            (None, Some(s)) => s.clone(),
            (None, None) => SecretString::from(random_token(40)?),
        };
        let apim = self.apim_for(&versions);
        let desired = self.desired(&versions, &ownership, &plan.client_id, secret, false)?;
        let runner = FedRunner::new(
            &self.is,
            &apim,
            ownership,
            Some(&desired),
            Some(&live),
            options.force,
            self.spec.concurrency,
        );
        let engine = options
            .engine(&runner, &journal, self.spec.concurrency, run)
            .with_tail(crate::engine::Server::Apim, tail);
        let binding_json = serde_json::to_value(&binding)
            .map_err(|e| FederationError::Internal(format!("the binding: {e}")))?;
        let run = engine.apply("apply", &binding_json, &steps).await?;
        if run.outcome != RunOutcome::Applied || run.journal_error.is_some() {
            if run.outcome == RunOutcome::Applied {
                // Every step took effect, but the journal could not record it all.
                tracing::error!("every step took effect, but the journal could not record it all");
            } else {
                return Err(failure_of(run, self.spec.journal.clone()));
            }
        }
        Ok(ApplyReport {
            plan,
            run,
            journal: self.spec.journal.clone(),
        })
    }

    /// Folds the journal for an undo, refusing one that belongs elsewhere (unless overridden).
    fn journal_for_undo(
        &self,
        options: &RunOptions,
    ) -> Result<(Folded<StepSpec>, Binding), FederationError> {
        let path = &self.spec.journal;
        if !path.is_file() {
            return Err(FederationError::NoJournal {
                journal: path.clone(),
            });
        }
        let view = if options.ignore_journal_binding {
            let folded = crate::engine::journal::fold_journal(path)?;
            let binding = folded
                .binding()
                .and_then(|b| serde_json::from_value::<Binding>(b.clone()).ok());
            crate::planner::JournalView {
                folded: Some(folded),
                binding,
            }
        } else {
            self.journal_view(true)?
        };
        let folded = view.folded.ok_or_else(|| FederationError::NoJournal {
            journal: path.clone(),
        })?;
        let binding = view
            .binding
            .ok_or_else(|| crate::engine::JournalError::Invalid {
                path: path.clone(),
                reason: "it records no run".into(),
            })?;
        Ok((folded, binding))
    }

    /// Undoes every change recorded in the journal that is not undone yet: after a failed
    /// undo, after a crash, or to take a federation back. Idempotent.
    pub async fn rollback(&self, options: &RunOptions) -> Result<RunReport, FederationError> {
        self.undo_journal("rollback", Scope::LastRun, options).await
    }

    /// Removes what this federation made and restores the portals, from the journal of its
    /// applies: created objects are deleted (only those proven this federation's), updated ones
    /// restored where nobody changed them since. Idempotent.
    pub async fn destroy(&self, options: &RunOptions) -> Result<RunReport, FederationError> {
        self.undo_journal("destroy", Scope::Everything, options)
            .await
    }

    async fn undo_journal(
        &self,
        operation: &str,
        scope: Scope,
        options: &RunOptions,
    ) -> Result<RunReport, FederationError> {
        let (folded, binding) = self.journal_for_undo(options)?;
        let instance = binding.instance.clone();
        // A crashed run of this very journal may still hold the lease: it is taken over once
        // its process is known dead (this host) or the lease expired.
        let lease = self
            .take_lease(operation, &instance, |h| {
                h.instance == instance && (h.dead_here() || h.expired())
            })
            .await?;
        let run = lease.holder().run.clone();
        let result = async {
            let journal = options.open_journal(&self.spec.journal)?;
            let ownership = Ownership {
                marker: binding.marker.clone(),
                instance: binding.instance.clone(),
            };
            let runner = FedRunner::new(
                &self.is,
                &self.apim,
                ownership,
                None,
                None,
                options.force,
                self.spec.concurrency,
            );
            let engine = options.engine(&runner, &journal, self.spec.concurrency, &run);
            let binding_json = serde_json::to_value(&binding)
                .map_err(|e| FederationError::Internal(format!("the binding: {e}")))?;
            let set = match scope {
                Scope::LastRun => folded.undo_last_run(),
                Scope::Everything => folded.undo_all(),
            };
            let report = engine.rollback(operation, &binding_json, set).await?;
            if report.outcome == RunOutcome::RollbackIncomplete {
                return Err(failure_of(report, self.spec.journal.clone()));
            }
            Ok(report)
        }
        .await;
        self.give_back(lease, None, result).await
    }

    /// After a crash or an interruption: with `finish = false`, rolls back what the
    /// interrupted run did (like [`rollback`](Self::rollback)); with `finish = true`, completes
    /// the interrupted run instead: an apply is planned again from the live state and the
    /// journal (steps that took effect are found done; a create whose outcome was unknown is
    /// settled by reading it back), an interrupted rollback or destroy finishes its undo. With
    /// nothing to recover, says so and does nothing but release a lease left by a run that died.
    pub async fn recover(
        &self,
        options: &RunOptions,
        finish: bool,
    ) -> Result<RecoverReport, FederationError> {
        let (folded, binding) = match self.journal_for_undo(options) {
            Ok(j) => j,
            // A run that died before its first journal record wrote nothing but its lease.
            Err(FederationError::NoJournal { .. }) => {
                return Ok(RecoverReport::NothingToRecover {
                    released_lease: self.release_dead_lease(None).await?,
                });
            }
            Err(e) => return Err(e),
        };
        let pending = !folded.undo_last_run().is_empty();
        let crashed = folded.unfinished().cloned();
        if crashed.is_none() && (finish || !pending) {
            return Ok(RecoverReport::NothingToRecover {
                released_lease: self.release_dead_lease(Some(&binding.instance)).await?,
            });
        }
        // Finishing an interrupted rollback or destroy is finishing its undo.
        let undoing = crashed
            .as_ref()
            .map(|r| r.operation.as_str())
            .filter(|op| *op != "apply");
        if !finish || undoing.is_some() {
            let scope = match undoing {
                Some("destroy") => Scope::Everything,
                _ => Scope::LastRun,
            };
            return Ok(RecoverReport::RolledBack(
                self.undo_journal("recover", scope, options).await?,
            ));
        }
        // Finish: close the unfinished run, then apply.
        let instance = binding.instance.clone();
        let lease = self
            .take_lease("recover", &instance, |h| {
                h.instance == instance && (h.dead_here() || h.expired())
            })
            .await?;
        let run = lease.holder().run.clone();
        let result = async {
            {
                let journal = JournalWriter::open(&self.spec.journal)?;
                journal.append(&crate::engine::Event::RunFinished {
                    outcome: RunOutcome::Stopped,
                })?;
            }
            let planned = self
                .make_plan_as(
                    Some(run.as_str()),
                    None,
                    Some(instance.as_str()),
                    options.force,
                )
                .await?;
            self.execute(planned, options, &run, None).await
        }
        .await;
        Ok(RecoverReport::Finished(Box::new(
            self.give_back(lease, None, result).await?,
        )))
    }

    /// Releases a lease left by a run that died (its process gone from this machine, or the
    /// lease expired): of this journal's instance, or of any instance when there is no journal.
    async fn release_dead_lease(
        &self,
        instance: Option<&str>,
    ) -> Result<Option<LeaseHolder>, FederationError> {
        match lease::read(&self.apim).await? {
            lease::LeaseState::Held(h)
                if instance.is_none_or(|i| h.instance == i) && (h.dead_here() || h.expired()) =>
            {
                tracing::warn!(holder = %h, "releasing the lease of a run that died");
                lease::unlock(&self.apim, false).await
            }
            _ => Ok(None),
        }
    }

    /// Breaks the run lease on these servers: an expired one (or one whose holder process is
    /// known dead on this machine), or with `force` any. Returns who held it.
    pub async fn unlock(&self, force: bool) -> Result<Option<LeaseHolder>, FederationError> {
        lease::unlock(&self.apim, force).await
    }

    /// Whether a plan would change nothing (a quick check that the federation is in place).
    pub async fn is_applied(&self) -> Result<bool, FederationError> {
        let plan = self.plan().await?;
        Ok(plan
            .changes
            .iter()
            .all(|c| matches!(c.action, PlanAction::NoChange | PlanAction::Adopt)))
    }

    /// What the journal records as still to undo, step by step (reads the journal only): the
    /// last run's effects (what `rollback` undoes) with `everything = false`, every run's (what
    /// `destroy` undoes) with `everything = true`.
    pub fn pending(
        &self,
        everything: bool,
    ) -> Result<Vec<(crate::engine::StepId, StepState)>, FederationError> {
        let view = self.journal_view(false)?;
        Ok(view
            .folded
            .map(|f| {
                let set = if everything {
                    f.undo_all()
                } else {
                    f.undo_last_run()
                };
                set.steps
                    .iter()
                    .map(|s| s.id.clone())
                    .zip(set.states)
                    .filter(|(_, s)| s.pending_undo().is_some())
                    .collect()
            })
            .unwrap_or_default())
    }
}

/// Which effects an undo covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// The last run that changed something (rollback, recover).
    LastRun,
    /// Every run (destroy).
    Everything,
}
