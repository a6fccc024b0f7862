use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::*;

/// A fake world: objects created by steps; failures and unknown outcomes injected by step id.
#[derive(Default)]
struct Fake {
    objects: Mutex<BTreeSet<String>>,
    fail_at: Option<String>,
    /// The step creates its object, then reports an unknown outcome.
    unknown_at: Option<String>,
    undo_fail_at: Mutex<Option<String>>,
    undo_order: Mutex<Vec<String>>,
    in_flight: [AtomicUsize; 2],
    max_in_flight: [AtomicUsize; 2],
    applied: AtomicUsize,
    prepared: AtomicUsize,
}

impl Fake {
    fn slot(server: Server) -> usize {
        match server {
            Server::Is => 0,
            Server::Apim => 1,
        }
    }
}

impl Runner for Fake {
    type Kind = String;
    type Prepared = ();

    async fn apply(
        &self,
        step: &StepDef<String>,
        ctx: &StepCtx<'_>,
    ) -> Result<Effect, StepFailure> {
        let s = Self::slot(step.server);
        let now = self.in_flight[s].fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight[s].fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(5)).await;
        self.in_flight[s].fetch_sub(1, Ordering::SeqCst);
        self.applied.fetch_add(1, Ordering::SeqCst);
        if self.fail_at.as_deref() == Some(step.kind.as_str()) {
            return Err(StepFailure::clean("injected failure"));
        }
        if ctx.intent(Action::Create, None, None).is_err() {
            return Err(StepFailure::clean("the journal cannot be written"));
        }
        self.objects.lock().unwrap().insert(step.kind.clone());
        if self.unknown_at.as_deref() == Some(step.kind.as_str()) {
            return Err(StepFailure::unknown("timeout after sending"));
        }
        Ok(Effect::Created { post_image: None })
    }

    async fn prepare_undo(
        &self,
        _step: &StepDef<String>,
        _effect: &Effect,
    ) -> Result<(), StepFailure> {
        self.prepared.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    async fn undo(
        &self,
        step: &StepDef<String>,
        effect: &Effect,
        (): (),
    ) -> Result<(), StepFailure> {
        assert!(effect.needs_undo());
        let mut fail = self.undo_fail_at.lock().unwrap();
        if fail.as_deref() == Some(step.kind.as_str()) {
            *fail = None; // fails once
            return Err(StepFailure::clean("undo refused"));
        }
        drop(fail);
        self.undo_order.lock().unwrap().push(step.kind.clone());
        self.objects.lock().unwrap().remove(&step.kind);
        Ok(())
    }
}

fn step(id: &str, deps: &[&str]) -> StepDef<String> {
    let id = StepId::new(id);
    StepDef {
        server: if id.as_str().starts_with("apim.") {
            Server::Apim
        } else {
            Server::Is
        },
        kind: id.as_str().to_owned(),
        id,
        deps: deps.iter().map(|d| StepId::new(*d)).collect(),
        after: Vec::new(),
    }
}

/// The seed shape: IS roles and users, OAuth app, SP; then APIM IdP; then two portals.
fn seed() -> Vec<StepDef<String>> {
    vec![
        step("is.role:a", &[]),
        step("is.role:b", &[]),
        step("is.user:x", &["is.role:a"]),
        step("is.user:y", &["is.role:b"]),
        step("is.oauth", &[]),
        step("is.sp", &["is.oauth"]),
        step("apim.idp", &["is.sp"]),
        step("apim.portal:pub", &["apim.idp", "is.user:x", "is.user:y"]),
        step("apim.portal:dev", &["apim.idp", "is.user:x", "is.user:y"]),
    ]
}

/// A journal in a fresh file, removed when the guard drops.
struct TempJournal(std::path::PathBuf);

impl Drop for TempJournal {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl std::ops::Deref for TempJournal {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

fn journal() -> (JournalWriter, TempJournal) {
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "engine-test-{}-{}.jsonl",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_file(&path);
    (JournalWriter::open(&path).unwrap(), TempJournal(path))
}

fn binding() -> serde_json::Value {
    serde_json::json!({"marker": "m"})
}

fn folded(path: &std::path::Path) -> journal::Folded<String> {
    journal::fold_journal::<String>(path).unwrap()
}

#[tokio::test]
async fn applies_everything_within_the_concurrency_limit() {
    let fake = Fake::default();
    let (j, _path) = journal();
    let report = Engine::new(&fake, &j, 2)
        .apply("apply", &binding(), &seed())
        .await
        .unwrap();
    assert_eq!(report.outcome, RunOutcome::Applied);
    assert_eq!(fake.objects.lock().unwrap().len(), 9);
    assert!(fake.max_in_flight[0].load(Ordering::SeqCst) <= 2);
    assert!(
        fake.max_in_flight[0].load(Ordering::SeqCst) >= 2,
        "independent IS steps ran concurrently"
    );
    assert!(fake.max_in_flight[1].load(Ordering::SeqCst) <= 2);
}

#[tokio::test]
async fn a_limit_of_one_runs_steps_one_at_a_time() {
    let fake = Fake::default();
    let (j, _path) = journal();
    Engine::new(&fake, &j, 1)
        .apply("apply", &binding(), &seed())
        .await
        .unwrap();
    assert_eq!(fake.max_in_flight[0].load(Ordering::SeqCst), 1);
}

/// The tail runs once every step started, alongside the last ones (the two portals), within
/// APIM's concurrency limit, and the run waits for it.
#[tokio::test]
async fn a_tail_runs_with_the_last_steps_within_the_limit() {
    for limit in [1, 2, 8] {
        let fake = Fake::default();
        let (j, _path) = journal();
        let seen = std::sync::Arc::new(Mutex::new(None));
        let tail: Tail<'_> = Box::pin({
            let (fake, seen) = (&fake, seen.clone());
            async move {
                let s = Fake::slot(Server::Apim);
                let now = fake.in_flight[s].fetch_add(1, Ordering::SeqCst) + 1;
                fake.max_in_flight[s].fetch_max(now, Ordering::SeqCst);
                // What was applied when the tail began, and the objects when it ended.
                let applied = fake.applied.load(Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
                fake.in_flight[s].fetch_sub(1, Ordering::SeqCst);
                *seen.lock().unwrap() = Some(applied);
            }
        });
        let report = Engine::new(&fake, &j, limit)
            .with_tail(Server::Apim, Some(tail))
            .apply("apply", &binding(), &seed())
            .await
            .unwrap();
        assert_eq!(report.outcome, RunOutcome::Applied);
        let applied = seen
            .lock()
            .unwrap()
            .expect("the tail ran before the run returned");
        // Begun after the identity provider (7 steps done); with room for it, alongside the
        // portals (not after both).
        assert!(
            applied >= 7,
            "limit {limit}: the tail began after {applied} steps"
        );
        if limit > 2 {
            assert_eq!(
                applied, 7,
                "limit {limit}: the tail waited for the last steps"
            );
        }
        assert!(
            fake.max_in_flight[1].load(Ordering::SeqCst) <= limit,
            "limit {limit}: APIM saw {} in flight",
            fake.max_in_flight[1].load(Ordering::SeqCst)
        );
    }
}

/// A run that fails never runs the tail (or drops it), before undoing.
#[tokio::test]
async fn a_failed_run_drops_its_tail() {
    for failing in ["is.sp", "apim.portal:dev"] {
        let fake = Fake {
            fail_at: Some(failing.to_owned()),
            ..Fake::default()
        };
        let (j, _path) = journal();
        let ended = std::sync::Arc::new(AtomicUsize::new(0));
        let tail: Tail<'_> = Box::pin({
            let ended = ended.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                ended.fetch_add(1, Ordering::SeqCst);
            }
        });
        let report = Engine::new(&fake, &j, 8)
            .with_tail(Server::Apim, Some(tail))
            .apply("apply", &binding(), &seed())
            .await
            .unwrap();
        assert_eq!(report.outcome, RunOutcome::RolledBack, "{failing}");
        assert_eq!(
            ended.load(Ordering::SeqCst),
            0,
            "{failing}: the tail ran to its end"
        );
    }
}

#[tokio::test]
async fn a_failure_at_each_step_unwinds_to_a_clean_slate_in_reverse_order() {
    for failing in seed() {
        let fake = Fake {
            fail_at: Some(failing.kind.clone()),
            ..Fake::default()
        };
        let (j, path) = journal();
        let report = Engine::new(&fake, &j, 4)
            .apply("apply", &binding(), &seed())
            .await
            .unwrap();
        assert_eq!(
            report.outcome,
            RunOutcome::RolledBack,
            "failing at {}",
            failing.id
        );
        assert!(
            fake.objects.lock().unwrap().is_empty(),
            "clean slate after failing at {}",
            failing.id
        );
        // Reverse dependency order: a step is undone after everything depending on it.
        let order = fake.undo_order.lock().unwrap().clone();
        for s in seed() {
            for d in &s.deps {
                let (pos_s, pos_d) = (
                    order.iter().position(|o| *o == s.kind),
                    order.iter().position(|o| o == d.as_str()),
                );
                if let (Some(a), Some(b)) = (pos_s, pos_d) {
                    assert!(a < b, "{} undone before its dependent {}", d, s.id);
                }
            }
        }
        // Undoing twice is harmless: a rollback from the journal finds nothing left to do.
        let before = fake.undo_order.lock().unwrap().len();
        let again = Engine::new(&fake, &j, 4)
            .rollback("rollback", &binding(), folded(&path).undo_all())
            .await
            .unwrap();
        assert_eq!(again.outcome, RunOutcome::RolledBack);
        assert_eq!(fake.undo_order.lock().unwrap().len(), before);
    }
}

#[tokio::test]
async fn an_unknown_outcome_is_compensated() {
    let fake = Fake {
        unknown_at: Some("is.sp".into()),
        ..Fake::default()
    };
    let (j, _path) = journal();
    let report = Engine::new(&fake, &j, 4)
        .apply("apply", &binding(), &seed())
        .await
        .unwrap();
    assert_eq!(report.outcome, RunOutcome::RolledBack);
    assert!(fake.objects.lock().unwrap().is_empty());
    assert!(
        fake.undo_order
            .lock()
            .unwrap()
            .contains(&"is.sp".to_owned())
    );
}

#[tokio::test]
async fn a_failed_undo_blocks_its_dependencies_and_a_rerun_finishes() {
    let fake = Fake {
        fail_at: Some("apim.portal:dev".into()),
        ..Fake::default()
    };
    *fake.undo_fail_at.lock().unwrap() = Some("apim.portal:pub".into());
    let (j, path) = journal();
    let report = Engine::new(&fake, &j, 4)
        .apply("apply", &binding(), &seed())
        .await
        .unwrap();
    assert_eq!(report.outcome, RunOutcome::RollbackIncomplete);
    {
        let objects = fake.objects.lock().unwrap();
        assert!(objects.contains("apim.portal:pub"));
        assert!(
            objects.contains("apim.idp"),
            "the IdP a portal still uses must stay"
        );
    }
    let report = Engine::new(&fake, &j, 4)
        .rollback("rollback", &binding(), folded(&path).undo_all())
        .await
        .unwrap();
    assert_eq!(report.outcome, RunOutcome::RolledBack);
    assert!(fake.objects.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_crash_leaves_a_journal_from_which_rollback_reaches_a_clean_slate() {
    // Simulate a crash: apply the first steps, then an intent with no outcome.
    let fake = Fake::default();
    let (j, path) = journal();
    let steps = seed();
    j.append(&Event::RunStarted {
        run: "r".into(),
        operation: "apply".into(),
        at: 0,
        host: "h".into(),
        pid: 1,
        binding: binding(),
        steps: steps
            .iter()
            .map(|s| PlannedStep {
                id: s.id.clone(),
                server: s.server,
                deps: s.deps.clone(),
                after: s.after.clone(),
                definition: serde_json::to_value(&s.kind).unwrap(),
            })
            .collect(),
    })
    .unwrap();
    for s in &steps[..3] {
        fake.objects.lock().unwrap().insert(s.kind.clone());
        j.append(&Event::Intent {
            step: s.id.clone(),
            action: Action::Create,
            pre_image: None,
            post_image: None,
        })
        .unwrap();
        j.append(&Event::StepSucceeded {
            step: s.id.clone(),
            effect: Effect::Created { post_image: None },
        })
        .unwrap();
    }
    fake.objects.lock().unwrap().insert(steps[3].kind.clone());
    j.append(&Event::Intent {
        step: steps[3].id.clone(),
        action: Action::Create,
        pre_image: None,
        post_image: None,
    })
    .unwrap();
    drop(j);

    let f = folded(&path);
    assert_eq!(f.binding(), Some(&binding()));
    assert!(f.unfinished().is_some());
    assert!(matches!(
        f.history[3][..],
        [(
            0,
            StepState::Failed {
                effect: Some(Effect::Unknown { .. }),
                ..
            }
        )]
    ));
    let j = JournalWriter::open(&*path).unwrap();
    let report = Engine::new(&fake, &j, 4)
        .rollback("rollback", &binding(), f.undo_last_run())
        .await
        .unwrap();
    assert_eq!(report.outcome, RunOutcome::RolledBack);
    assert!(fake.objects.lock().unwrap().is_empty());
    assert!(folded(&path).unfinished().is_none());
}

#[tokio::test]
async fn undos_read_first_all_of_them_then_undo() {
    let fake = Fake {
        fail_at: Some("apim.portal:dev".into()),
        ..Fake::default()
    };
    let (j, _path) = journal();
    let report = Engine::new(&fake, &j, 8)
        .apply("apply", &binding(), &seed())
        .await
        .unwrap();
    assert_eq!(report.outcome, RunOutcome::RolledBack);
    let undone = fake.undo_order.lock().unwrap().len();
    assert_eq!(fake.prepared.load(Ordering::SeqCst), undone);
}

#[tokio::test]
async fn every_action_and_undo_run_twice_changes_nothing_more() {
    // Actions that are idempotent on the fake world (inserting into a set) and undos too.
    let fake = Fake {
        fail_at: Some("apim.portal:dev".into()),
        ..Fake::default()
    };
    let (j, _path) = journal();
    let report = Engine::new(&fake, &j, 4)
        .repeat(Repeat {
            actions: true,
            undos: true,
        })
        .apply("apply", &binding(), &seed())
        .await
        .unwrap();
    assert_eq!(report.outcome, RunOutcome::RolledBack);
    assert!(fake.objects.lock().unwrap().is_empty());
}

#[tokio::test]
async fn when_the_journal_fails_no_step_starts_and_the_undo_runs_from_memory() {
    for after in 1..12 {
        let fake = Fake::default();
        let (j, path) = journal();
        let j = j.fail_after(after);
        let report = Engine::new(&fake, &j, 1)
            .apply("apply", &binding(), &seed())
            .await;
        let Ok(report) = report else {
            // The run could not even be journaled as started: nothing ran.
            assert_eq!(after, 0);
            continue;
        };
        assert!(report.journal_error.is_some(), "after {after} records");
        assert_eq!(report.outcome, RunOutcome::RolledBack, "after {after}");
        assert!(
            fake.objects.lock().unwrap().is_empty(),
            "clean slate when the journal fails after {after} records"
        );
        // The journal holds only whole records.
        assert!(!journal::read_journal(&path).unwrap().torn_tail);
    }
}

#[tokio::test]
async fn an_interruption_stops_new_steps_and_undoes() {
    let fake = Fake::default();
    let (j, _path) = journal();
    let (tx, rx) = watch::channel(false);
    let steps = seed();
    let b = binding();
    let engine = Engine::new(&fake, &j, 1).with_cancel(Some(rx));
    let run = engine.apply("apply", &b, &steps);
    let cancel = async {
        tokio::time::sleep(Duration::from_millis(12)).await;
        tx.send(true).unwrap();
    };
    let (report, ()) = tokio::join!(run, cancel);
    let report = report.unwrap();
    assert!(report.interrupted);
    assert_eq!(report.outcome, RunOutcome::RolledBack);
    assert!(fake.applied.load(Ordering::SeqCst) < steps.len());
    assert!(fake.objects.lock().unwrap().is_empty());
}

#[test]
fn cycles_and_unknown_dependencies_are_refused() {
    assert!(check_dag(&[step("a", &["b"]), step("b", &["a"])]).is_err());
    assert!(check_dag(&[step("a", &["z"])]).is_err());
    assert!(check_dag(&seed()).is_ok());
}
