//! The crash-safe journal: append-only JSON lines, each record flushed to disk (`fsync`) before
//! the remote call it announces, so that after a crash the journal says what may have changed.
//!
//! Records never hold secrets: pre-images are serialised models, whose secret fields serialise
//! as a redaction marker.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::{Action, Effect, StepId};

/// One journal record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Record {
    /// A run began.
    RunStarted {
        /// Unique id of the run.
        run_id: String,
        /// The operation: `apply`, `rollback`, `destroy`, `recover`.
        operation: String,
        /// The ownership marker of the federation.
        marker: String,
        /// Seconds since the Unix epoch.
        at: u64,
        /// The planned steps, with their definitions (no secrets), in plan order.
        steps: Vec<PlannedStep>,
    },
    /// A step is about to make its first change; written and flushed before the request.
    Intent {
        /// The step.
        step: StepId,
        /// What it is about to do.
        action: Action,
        /// The object as it was just before, for updates (no secrets).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pre_image: Option<serde_json::Value>,
    },
    /// A step finished; its effect is what undo must compensate.
    StepDone {
        /// The step.
        step: StepId,
        /// What it did.
        effect: Effect,
    },
    /// A step failed.
    StepFailed {
        /// The step.
        step: StepId,
        /// The error, as displayed (no secrets).
        error: String,
        /// Whether the step may have changed something.
        outcome_unknown: bool,
    },
    /// Undo of a step began.
    UndoStarted {
        /// The step.
        step: StepId,
    },
    /// Undo of a step finished.
    UndoDone {
        /// The step.
        step: StepId,
    },
    /// Undo of a step failed; it can be re-run from the journal.
    UndoFailed {
        /// The step.
        step: StepId,
        /// The error, as displayed.
        error: String,
    },
    /// The run ended.
    RunFinished {
        /// How it ended.
        outcome: RunOutcome,
    },
}

/// A step as recorded at the start of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedStep {
    /// Its id.
    pub id: StepId,
    /// The steps it depends on.
    pub deps: Vec<StepId>,
    /// Its definition (runner-specific, no secrets).
    pub definition: serde_json::Value,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// Every step took effect.
    Applied,
    /// A step failed and every effect was undone.
    RolledBack,
    /// Undo failed for some steps; re-run the rollback from the journal.
    RollbackIncomplete,
}

/// Writes journal records, each flushed to disk before `append` returns.
#[derive(Debug)]
pub struct JournalWriter {
    path: PathBuf,
    file: Mutex<File>,
    written: Mutex<u64>,
    crash_after: Option<u64>,
}

/// Environment variable that makes the process abort right after writing the Nth record (1-based):
/// a failpoint for crash tests. Never set it in production.
pub const CRASH_AFTER_RECORD_ENV: &str = "WSO2_FEDERATE_CRASH_AFTER_RECORD";

impl JournalWriter {
    /// Opens (creating if needed) the journal at `path` for appending.
    pub fn open(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let crash_after = std::env::var(CRASH_AFTER_RECORD_ENV)
            .ok()
            .and_then(|v| v.parse().ok());
        Ok(Self {
            path,
            file: Mutex::new(file),
            written: Mutex::new(0),
            crash_after,
        })
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends a record and flushes it to disk.
    pub fn append(&self, record: &Record) -> std::io::Result<()> {
        let mut line = serde_json::to_string(record).map_err(std::io::Error::other)?;
        line.push('\n');
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        file.write_all(line.as_bytes())?;
        file.sync_data()?;
        drop(file);
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        *written += 1;
        if self.crash_after == Some(*written) {
            // Failpoint for crash tests: die as abruptly as SIGKILL would, right after the write.
            std::process::abort();
        }
        Ok(())
    }
}

/// Reads every record of a journal. A torn last line (the process died mid-write) is ignored;
/// a damaged line elsewhere is an error.
pub fn read_journal(path: impl AsRef<Path>) -> std::io::Result<Vec<Record>> {
    let file = File::open(path.as_ref())?;
    let lines: Vec<String> = BufReader::new(file).lines().collect::<Result<_, _>>()?;
    let mut records = Vec::with_capacity(lines.len());
    let last = lines.len().saturating_sub(1);
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(r) => records.push(r),
            Err(_) if i == last => break,
            Err(e) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("journal line {} is damaged: {e}", i + 1),
                ));
            }
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_torn_tail_is_ignored() {
        let dir = std::env::temp_dir().join(format!("journal-test-{}", std::process::id()));
        let path = dir.join("j.jsonl");
        let _ = std::fs::remove_file(&path);
        let w = JournalWriter::open(&path).unwrap();
        let r1 = Record::Intent {
            step: StepId::new("is.role:r"),
            action: Action::Create,
            pre_image: None,
        };
        let r2 = Record::StepDone {
            step: StepId::new("is.role:r"),
            effect: Effect::Created,
        };
        w.append(&r1).unwrap();
        w.append(&r2).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"event\":\"undo_st")
            .unwrap();
        assert_eq!(read_journal(&path).unwrap(), vec![r1, r2]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
