//! The crash-safe journal: append-only JSON lines, each a checksummed [`Event`], flushed to disk
//! (`fsync`) before the remote call it announces, so that after a crash the journal says what may
//! have changed; and the fold that turns a journal back into step states.
//!
//! Each line is `{"crc32":"xxxxxxxx","event":{...}}`: the CRC-32 of the exact bytes of the event.
//! A final line without its newline was never acknowledged (the process died while writing it):
//! it is dropped on reading and cut off before the next append. Any other line that does not
//! check out is damage: reading stops with its line number, never guessing around it.
//!
//! Records never hold secrets: pre- and post-images are serialised models, whose secret fields
//! serialise as a redaction marker; error texts are bounded and cleaned.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{Action, Effect, Server, StepDef, StepId, StepState};

/// The largest journal read (a journal of a federation holds a few hundred records).
pub const MAX_JOURNAL_BYTES: u64 = 64 * 1024 * 1024;

/// One event of a run: what the engine reports to the event sink and writes to the journal, in
/// one vocabulary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// A run began.
    RunStarted {
        /// Unique id of the run.
        run: String,
        /// The operation: `apply`, `rollback`, `destroy`, `recover`.
        operation: String,
        /// Seconds since the Unix epoch.
        at: u64,
        /// The machine that ran it.
        host: String,
        /// The process that ran it.
        pid: u32,
        /// What the journal belongs to (servers, settings): opaque to the engine.
        binding: serde_json::Value,
        /// The planned steps, with their definitions (no secrets), in plan order.
        steps: Vec<PlannedStep>,
    },
    /// A step started (no request sent yet).
    StepStarted {
        /// The step.
        step: StepId,
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
        /// What the step is about to write (no secrets): proves ownership of an unknown
        /// outcome, and is the base of a later three-way restore.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        post_image: Option<serde_json::Value>,
    },
    /// A step succeeded; its effect is what undo must compensate.
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
        /// The error, as displayed (bounded, no secrets).
        error: String,
        /// Whether the step may have changed something.
        outcome_unknown: bool,
    },
    /// Undo of a step began.
    UndoStarted {
        /// The step.
        step: StepId,
        /// The runs whose effect on the step is being undone.
        runs: Vec<String>,
    },
    /// A step was undone.
    Undone {
        /// The step.
        step: StepId,
        /// The runs whose effect on the step is undone.
        runs: Vec<String>,
    },
    /// Undo of a step failed; it can be re-run from the journal.
    UndoFailed {
        /// The step.
        step: StepId,
        /// The runs whose effect on the step is still to undo.
        runs: Vec<String>,
        /// The error, as displayed (bounded, no secrets).
        error: String,
        /// Whether the undo refused (someone changed the object since) rather than failed.
        #[serde(default)]
        refused: bool,
    },
    /// The run ended.
    RunFinished {
        /// How it ended.
        outcome: RunOutcome,
    },
}

impl Event {
    /// The step the event is about, if any.
    pub fn step(&self) -> Option<&StepId> {
        match self {
            Self::StepStarted { step }
            | Self::Intent { step, .. }
            | Self::StepSucceeded { step, .. }
            | Self::StepFailed { step, .. }
            | Self::UndoStarted { step, .. }
            | Self::Undone { step, .. }
            | Self::UndoFailed { step, .. } => Some(step),
            Self::RunStarted { .. } | Self::RunFinished { .. } => None,
        }
    }
}

/// A step as recorded at the start of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedStep {
    /// Its id.
    pub id: StepId,
    /// The server it talks to.
    pub server: Server,
    /// The steps it depends on (their results are used; undone after it).
    pub deps: Vec<StepId>,
    /// The steps it runs after for ordering only (not waited for in an undo).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<StepId>,
    /// Its definition (runner-specific, no secrets).
    pub definition: serde_json::Value,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// Every step took effect.
    Applied,
    /// A step failed (or the run was interrupted) and every effect was undone.
    RolledBack,
    /// Undo failed or was refused for some steps; re-run the rollback from the journal.
    RollbackIncomplete,
    /// The run was interrupted and stopped without undoing (`--no-rollback`).
    Stopped,
}

/// Why a journal could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// The file could not be read or written.
    #[error("journal {}: {source}", .path.display())]
    Io {
        /// The journal.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A record other than the last does not check out: the journal was damaged (edited by
    /// hand, a disk error). The records before it are intact.
    #[error(
        "journal {} line {line} is damaged ({reason}); the {intact} records before it are intact, the rest cannot be trusted: restore the journal from a backup, or remove what the damaged part recorded by hand (`wso2-federate journal` lists what the intact part records)",
        .path.display()
    )]
    Damaged {
        /// The journal.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// Why it does not check out.
        reason: String,
        /// How many records precede it.
        intact: usize,
    },
    /// The journal is larger than [`MAX_JOURNAL_BYTES`].
    #[error("journal {} is larger than {} MiB; it is not a journal of this tool", .path.display(), MAX_JOURNAL_BYTES / 1024 / 1024)]
    TooLarge {
        /// The journal.
        path: PathBuf,
    },
    /// The journal is intact but does not describe runs this version can fold.
    #[error("journal {}: {reason}", .path.display())]
    Invalid {
        /// The journal.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A record could not be written, so no further write to the servers was made.
    #[error("journal {}: cannot write a record: {source}", .path.display())]
    Write {
        /// The journal.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// CRC-32 (IEEE 802.3, as zlib's `crc32`).
pub fn crc32(bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            table[i] = c;
            i += 1;
        }
        table
    };
    let mut c = !0u32;
    for &b in bytes {
        c = TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
    }
    !c
}

#[derive(Deserialize)]
struct Line<'a> {
    crc32: &'a str,
    #[serde(borrow)]
    event: &'a serde_json::value::RawValue,
}

/// Encodes one event as a journal line (with its newline).
pub fn encode(event: &Event) -> Result<Vec<u8>, serde_json::Error> {
    let json = serde_json::to_string(event)?;
    let mut line =
        format!("{{\"crc32\":\"{:08x}\",\"event\":", crc32(json.as_bytes())).into_bytes();
    line.extend_from_slice(json.as_bytes());
    line.extend_from_slice(b"}\n");
    Ok(line)
}

fn decode(line: &[u8]) -> Result<Event, String> {
    let text = std::str::from_utf8(line).map_err(|_| "not UTF-8".to_owned())?;
    let parsed: Line<'_> =
        serde_json::from_str(text).map_err(|e| format!("not a journal record: {e}"))?;
    let raw = parsed.event.get();
    let want = format!("{:08x}", crc32(raw.as_bytes()));
    if parsed.crc32 != want {
        return Err(format!(
            "checksum {} does not match its content ({want})",
            parsed.crc32.chars().take(16).collect::<String>()
        ));
    }
    serde_json::from_str(raw).map_err(|e| format!("an event this version cannot read: {e}"))
}

/// What reading a journal found.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalContents {
    /// The intact records, in order.
    pub events: Vec<Event>,
    /// Bytes of the intact records (where the next record goes).
    pub intact_len: u64,
    /// Whether a final, never acknowledged (torn) record was found after them.
    pub torn_tail: bool,
}

fn read_bytes(path: &Path, file: &mut File) -> Result<Vec<u8>, JournalError> {
    let io = |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    };
    let len = file.metadata().map_err(io)?.len();
    if len > MAX_JOURNAL_BYTES {
        return Err(JournalError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(MAX_JOURNAL_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_JOURNAL_BYTES {
        return Err(JournalError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    Ok(bytes)
}

/// Parses a journal's bytes. A final line without its newline is a torn (never acknowledged)
/// record and is left out; any other line that does not check out is [`JournalError::Damaged`].
pub fn parse(path: &Path, bytes: &[u8]) -> Result<JournalContents, JournalError> {
    let mut events = Vec::new();
    let mut offset = 0usize;
    let mut line_no = 0usize;
    while offset < bytes.len() {
        line_no += 1;
        let rest = &bytes[offset..];
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            return Ok(JournalContents {
                events,
                intact_len: offset as u64,
                torn_tail: true,
            });
        };
        let line = &rest[..end];
        if !line.iter().all(u8::is_ascii_whitespace) {
            let event = decode(line).map_err(|reason| JournalError::Damaged {
                path: path.to_path_buf(),
                line: line_no,
                reason,
                intact: events.len(),
            })?;
            events.push(event);
        }
        offset += end + 1;
    }
    Ok(JournalContents {
        events,
        intact_len: offset as u64,
        torn_tail: false,
    })
}

/// Reads what can be read of a journal: its intact records up to any damage, and the damage
/// (to list what the intact part records when the whole cannot be used).
pub fn read_intact(path: &Path) -> Result<(JournalContents, Option<JournalError>), JournalError> {
    let mut file = File::open(path).map_err(|source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let bytes = read_bytes(path, &mut file)?;
    match parse(path, &bytes) {
        Ok(c) => Ok((c, None)),
        Err(damage @ JournalError::Damaged { .. }) => {
            let JournalError::Damaged { line, .. } = &damage else {
                unreachable!()
            };
            // The bytes of the lines before the damaged one parse cleanly.
            let end = bytes
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .nth(line.saturating_sub(2))
                .map_or(0, |(i, _)| if *line > 1 { i + 1 } else { 0 });
            let intact = parse(path, &bytes[..end])?;
            Ok((intact, Some(damage)))
        }
        Err(e) => Err(e),
    }
}

/// Reads a journal (without changing it).
pub fn read_journal(path: &Path) -> Result<JournalContents, JournalError> {
    let mut file = File::open(path).map_err(|source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let bytes = read_bytes(path, &mut file)?;
    parse(path, &bytes)
}

/// Environment variable that makes the process abort right after writing the Nth record
/// (1-based): a failpoint for crash tests. Never set it in production.
pub const CRASH_AFTER_RECORD_ENV: &str = "WSO2_FEDERATE_CRASH_AFTER_RECORD";

/// Environment variable that makes every journal write after the Nth record fail as a full disk
/// would (`ENOSPC`): a failpoint for tests. Never set it in production.
pub const FAIL_AFTER_RECORD_ENV: &str = "WSO2_FEDERATE_JOURNAL_FULL_AFTER_RECORD";

#[derive(Debug)]
struct WriterState {
    file: File,
    len: u64,
    written: u64,
    broken: Option<String>,
}

/// Appends journal records, each flushed to disk before `append` returns. After a failed write
/// the writer cuts the file back to its last complete record and refuses every later append
/// (the engine then writes nothing more to the servers).
#[derive(Debug)]
pub struct JournalWriter {
    path: PathBuf,
    state: Mutex<WriterState>,
    crash_after: Option<u64>,
    fail_after: Option<u64>,
    contents: JournalContents,
}

impl JournalWriter {
    /// Opens (creating it and its directory if needed) the journal at `path` for appending.
    /// The intact records are read first; a torn final record is cut off; a damaged record
    /// refuses the journal.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, JournalError> {
        let path = path.as_ref().to_path_buf();
        let io = |source| JournalError::Io {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(io)?;
        let bytes = read_bytes(&path, &mut file)?;
        let contents = parse(&path, &bytes)?;
        if contents.torn_tail {
            tracing::warn!(journal = %path.display(), "dropping a torn final record (the process writing it died)");
            file.set_len(contents.intact_len).map_err(io)?;
            file.sync_data().map_err(io)?;
        }
        file.seek(SeekFrom::Start(contents.intact_len))
            .map_err(io)?;
        let var = |name: &str| std::env::var(name).ok().and_then(|v| v.parse().ok());
        Ok(Self {
            state: Mutex::new(WriterState {
                file,
                len: contents.intact_len,
                written: 0,
                broken: None,
            }),
            path,
            crash_after: var(CRASH_AFTER_RECORD_ENV),
            fail_after: var(FAIL_AFTER_RECORD_ENV),
            contents,
        })
    }

    /// Makes every write after the `n`th fail as a full disk would (for tests).
    #[cfg(any(test, feature = "test-util"))]
    pub fn fail_after(mut self, n: u64) -> Self {
        self.fail_after = Some(n);
        self
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The intact records found when the journal was opened.
    pub fn existing(&self) -> &JournalContents {
        &self.contents
    }

    /// Appends an event and flushes it to disk.
    pub fn append(&self, event: &Event) -> Result<(), JournalError> {
        let fail = |source: std::io::Error| JournalError::Write {
            path: self.path.clone(),
            source,
        };
        let line = encode(event).map_err(|e| fail(std::io::Error::other(e)))?;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(why) = &state.broken {
            return Err(fail(std::io::Error::other(format!(
                "an earlier write failed ({why}); nothing more is written"
            ))));
        }
        let result = if self.fail_after.is_some_and(|n| state.written >= n) {
            Err(std::io::Error::from_raw_os_error(28)) // ENOSPC
        } else {
            state
                .file
                .write_all(&line)
                .and_then(|()| state.file.sync_data())
        };
        if let Err(e) = result {
            // Cut a partly written record back off, so that a later reader finds no damage.
            let len = state.len;
            let _ = state.file.set_len(len);
            let _ = state.file.seek(SeekFrom::Start(len));
            let _ = state.file.sync_data();
            state.broken = Some(e.to_string());
            return Err(fail(e));
        }
        state.len += line.len() as u64;
        state.written += 1;
        if self.crash_after == Some(state.written) {
            // Failpoint for crash tests: die as abruptly as SIGKILL would, right after the write.
            std::process::abort();
        }
        Ok(())
    }
}

/// A run as the journal recorded it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunInfo {
    /// Its id.
    pub run: String,
    /// The operation.
    pub operation: String,
    /// When it started (seconds since the Unix epoch).
    pub at: u64,
    /// The machine.
    pub host: String,
    /// The process.
    pub pid: u32,
    /// Its binding (servers, settings).
    pub binding: serde_json::Value,
    /// How it ended; `None` when it never finished (interrupted, crashed).
    pub outcome: Option<RunOutcome>,
}

/// A journal folded back into the steps of its runs: for each step, its state in each run that
/// touched it.
#[derive(Debug, Clone)]
pub struct Folded<K> {
    /// Every run, in order.
    pub runs: Vec<RunInfo>,
    /// The steps of the apply runs, in plan order (definitions of the latest run that planned
    /// each).
    pub steps: Vec<StepDef<K>>,
    /// For each step (same order), its state in each run that touched it: (run index, state).
    pub history: Vec<Vec<(usize, StepState)>>,
    /// Whether a torn final record was left out.
    pub torn_tail: bool,
}

/// Steps to undo, with the runs whose effects each undo covers.
#[derive(Debug, Clone)]
pub struct UndoSet<K> {
    /// The steps (in plan order; dependencies among them honoured by the undo order).
    pub steps: Vec<StepDef<K>>,
    /// Their states (what to compensate).
    pub states: Vec<StepState>,
    /// For each step, the ids of the runs whose effects its undo covers.
    pub runs: Vec<Vec<String>>,
}

impl<K> UndoSet<K> {
    /// Whether nothing is left to undo.
    pub fn is_empty(&self) -> bool {
        self.states.iter().all(|s| s.pending_undo().is_none())
    }
}

/// The effect a step still has from several runs, earliest first: a creation stays a creation
/// (undo deletes), an update keeps the earliest pre-image (undo restores what was there before
/// this federation), and the latest post-image is what to compare with.
fn merged(entries: &[&Effect]) -> Option<Effect> {
    let first = (*entries.first()?).clone();
    let latest_post = entries.iter().rev().find_map(|e| e.post_image()).cloned();
    let mut effect = first;
    if let Some(post) = latest_post {
        effect.set_post_image(post);
    }
    Some(effect)
}

impl<K: Clone> Folded<K> {
    /// The last run that never finished, if the last run is one.
    pub fn unfinished(&self) -> Option<&RunInfo> {
        self.runs.last().filter(|r| r.outcome.is_none())
    }

    /// The binding of the last run.
    pub fn binding(&self) -> Option<&serde_json::Value> {
        self.runs.last().map(|r| &r.binding)
    }

    fn pending_entries(&self, i: usize) -> Vec<(usize, &StepState)> {
        self.history[i]
            .iter()
            .filter(|(_, s)| s.pending_undo().is_some())
            .map(|(r, s)| (*r, s))
            .collect()
    }

    /// Every step with an effect still to undo from any run, merged across runs (see
    /// [`undo_all`](Self::undo_all)).
    pub fn pending_undo(&self) -> impl Iterator<Item = (&StepDef<K>, Effect)> {
        (0..self.steps.len()).filter_map(move |i| {
            let entries = self.pending_entries(i);
            let effects: Vec<&Effect> = entries
                .iter()
                .filter_map(|(_, s)| s.pending_undo())
                .collect();
            merged(&effects).map(|e| (&self.steps[i], e))
        })
    }

    /// The last image each step is known to have written (a confirmed effect, in a run not
    /// undone since), for three-way checks. An unknown outcome's intended image is not one: the
    /// object may hold part of it.
    pub fn post_images(&self) -> HashMap<StepId, serde_json::Value> {
        (0..self.steps.len())
            .filter_map(|i| {
                self.pending_entries(i)
                    .iter()
                    .rev()
                    .filter_map(|(_, s)| s.pending_undo())
                    .find(|e| !matches!(e, Effect::Unknown { .. }))
                    .and_then(Effect::post_image)
                    .map(|p| (self.steps[i].id.clone(), p.clone()))
            })
            .collect()
    }

    /// Everything still to undo, from every run: what `destroy` removes.
    pub fn undo_all(&self) -> UndoSet<K> {
        let mut set = UndoSet {
            steps: self.steps.clone(),
            states: Vec::with_capacity(self.steps.len()),
            runs: Vec::with_capacity(self.steps.len()),
        };
        for i in 0..self.steps.len() {
            let entries = self.pending_entries(i);
            let effects: Vec<&Effect> = entries
                .iter()
                .filter_map(|(_, s)| s.pending_undo())
                .collect();
            set.states.push(match merged(&effects) {
                Some(effect) => StepState::Done { effect },
                None => StepState::Undone,
            });
            set.runs.push(
                entries
                    .iter()
                    .map(|(r, _)| self.runs[*r].run.clone())
                    .collect(),
            );
        }
        set
    }

    /// What the last run that ran steps still has to undo: what `rollback` and `recover` undo
    /// (the runs before it stay; once it is undone, a second rollback finds nothing to do).
    pub fn undo_last_run(&self) -> UndoSet<K> {
        let last = self
            .history
            .iter()
            .flat_map(|h| h.iter().map(|(r, _)| *r))
            .max();
        let mut set = UndoSet {
            steps: self.steps.clone(),
            states: Vec::with_capacity(self.steps.len()),
            runs: Vec::with_capacity(self.steps.len()),
        };
        for i in 0..self.steps.len() {
            let entry = last.and_then(|last| {
                self.history[i]
                    .iter()
                    .find(|(r, s)| *r == last && s.pending_undo().is_some())
            });
            match entry {
                Some((r, state)) => {
                    set.states.push(state.clone());
                    set.runs.push(vec![self.runs[*r].run.clone()]);
                }
                None => {
                    set.states.push(StepState::Undone);
                    set.runs.push(Vec::new());
                }
            }
        }
        set
    }
}

/// Reads and folds a journal.
pub fn fold_journal<K: DeserializeOwned>(path: &Path) -> Result<Folded<K>, JournalError> {
    let contents = read_journal(path)?;
    fold(path, &contents)
}

/// Folds a journal's events: per step, its state in each run that touched it (an intent with no
/// outcome is an unknown effect; undo records name the runs whose effects they undid).
pub fn fold<K: DeserializeOwned>(
    path: &Path,
    contents: &JournalContents,
) -> Result<Folded<K>, JournalError> {
    let invalid = |reason: String| JournalError::Invalid {
        path: path.to_path_buf(),
        reason,
    };
    let mut runs: Vec<RunInfo> = Vec::new();
    let mut run_index: HashMap<String, usize> = HashMap::new();
    let mut steps: Vec<StepDef<K>> = Vec::new();
    let mut index: BTreeMap<StepId, usize> = BTreeMap::new();
    let mut history: Vec<Vec<(usize, StepState)>> = Vec::new();
    type Intent = (Action, Option<serde_json::Value>, Option<serde_json::Value>);
    let mut intents: HashMap<(usize, usize), Intent> = HashMap::new();
    fn entry(h: &mut Vec<(usize, StepState)>, run: usize) -> &mut StepState {
        match h.iter().position(|(r, _)| *r == run) {
            Some(p) => &mut h[p].1,
            None => {
                h.push((run, StepState::Pending));
                let last = h.len() - 1;
                &mut h[last].1
            }
        }
    }
    for event in &contents.events {
        if runs.is_empty() && !matches!(event, Event::RunStarted { .. }) {
            return Err(invalid("its first record does not start a run".into()));
        }
        let run = runs.len().saturating_sub(1);
        let at = |step: &StepId| {
            index
                .get(step)
                .copied()
                .ok_or_else(|| invalid(format!("unknown step {step}")))
        };
        let runs_of = |ids: &[String]| -> Result<Vec<usize>, JournalError> {
            ids.iter()
                .map(|id| {
                    run_index
                        .get(id)
                        .copied()
                        .ok_or_else(|| invalid(format!("an undo names an unknown run {id}")))
                })
                .collect()
        };
        match event {
            Event::RunStarted {
                run: id,
                operation,
                at,
                host,
                pid,
                binding,
                steps: planned,
            } => {
                run_index.insert(id.clone(), runs.len());
                runs.push(RunInfo {
                    run: id.clone(),
                    operation: operation.clone(),
                    at: *at,
                    host: host.clone(),
                    pid: *pid,
                    binding: binding.clone(),
                    outcome: None,
                });
                for p in planned {
                    let kind = serde_json::from_value(p.definition.clone()).map_err(|e| {
                        invalid(format!(
                            "step {} has a definition this version cannot read: {e}",
                            p.id
                        ))
                    })?;
                    let def = StepDef {
                        id: p.id.clone(),
                        server: p.server,
                        deps: p.deps.clone(),
                        after: p.after.clone(),
                        kind,
                    };
                    match index.get(&p.id) {
                        Some(&i) => steps[i] = def,
                        None => {
                            index.insert(p.id.clone(), steps.len());
                            steps.push(def);
                            history.push(Vec::new());
                        }
                    }
                }
            }
            Event::StepStarted { .. } | Event::UndoStarted { .. } => {}
            Event::Intent {
                step,
                action,
                pre_image,
                post_image,
            } => {
                let i = at(step)?;
                intents.insert((i, run), (*action, pre_image.clone(), post_image.clone()));
                *entry(&mut history[i], run) = StepState::Failed {
                    error: "interrupted (no outcome recorded)".into(),
                    effect: Some(Effect::Unknown {
                        action: *action,
                        pre_image: pre_image.clone(),
                        post_image: post_image.clone(),
                    }),
                };
            }
            Event::StepSucceeded { step, effect } => {
                let i = at(step)?;
                *entry(&mut history[i], run) = StepState::Done {
                    effect: effect.clone(),
                };
            }
            Event::StepFailed {
                step,
                error,
                outcome_unknown,
            } => {
                let i = at(step)?;
                let effect = outcome_unknown
                    .then(|| {
                        intents
                            .get(&(i, run))
                            .cloned()
                            .map(|(action, pre_image, post_image)| Effect::Unknown {
                                action,
                                pre_image,
                                post_image,
                            })
                    })
                    .flatten();
                *entry(&mut history[i], run) = StepState::Failed {
                    error: error.clone(),
                    effect,
                };
            }
            Event::Undone { step, runs: undone } => {
                let i = at(step)?;
                for r in runs_of(undone)? {
                    *entry(&mut history[i], r) = StepState::Undone;
                }
            }
            Event::UndoFailed {
                step,
                runs: failed,
                error,
                refused,
            } => {
                let i = at(step)?;
                for r in runs_of(failed)? {
                    let state = entry(&mut history[i], r);
                    if let Some(effect) = state.pending_undo().cloned() {
                        *state = StepState::UndoFailed {
                            error: error.clone(),
                            effect,
                            refused: *refused,
                        };
                    }
                }
            }
            Event::RunFinished { outcome } => {
                if let Some(r) = runs.last_mut() {
                    r.outcome = Some(*outcome);
                }
            }
        }
    }
    super::check_dag(&steps)
        .map_err(|reason| invalid(format!("its steps are inconsistent: {reason}")))?;
    Ok(Folded {
        runs,
        steps,
        history,
        torn_tail: contents.torn_tail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "journal-test-{}-{name}-{}",
            std::process::id(),
            super::super::new_run_id()
        ));
        dir.join("j.jsonl")
    }

    fn started() -> Event {
        Event::RunStarted {
            run: "r1".into(),
            operation: "apply".into(),
            at: 1,
            host: "h".into(),
            pid: 1,
            binding: serde_json::json!({"marker": "m"}),
            steps: vec![PlannedStep {
                id: StepId::new("is.role:r"),
                server: Server::Is,
                deps: vec![],
                after: vec![],
                definition: serde_json::json!("r"),
            }],
        }
    }

    fn intent() -> Event {
        Event::Intent {
            step: StepId::new("is.role:r"),
            action: Action::Create,
            pre_image: None,
            post_image: None,
        }
    }

    #[test]
    fn crc32_is_the_ieee_one() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn records_round_trip_and_a_torn_tail_is_cut_before_appending() {
        let path = temp("torn");
        let w = JournalWriter::open(&path).unwrap();
        w.append(&started()).unwrap();
        w.append(&intent()).unwrap();
        drop(w);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"crc32\":\"0000").unwrap();
        drop(f);
        let read = read_journal(&path).unwrap();
        assert_eq!(read.events, vec![started(), intent()]);
        assert!(read.torn_tail);
        // The next writer cuts the torn record off before its first append.
        let w = JournalWriter::open(&path).unwrap();
        let done = Event::StepSucceeded {
            step: StepId::new("is.role:r"),
            effect: Effect::Created { post_image: None },
        };
        w.append(&done).unwrap();
        let read = read_journal(&path).unwrap();
        assert_eq!(read.events, vec![started(), intent(), done]);
        assert!(!read.torn_tail);
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_damaged_record_is_refused_with_its_line_number() {
        let path = temp("damaged");
        let w = JournalWriter::open(&path).unwrap();
        w.append(&started()).unwrap();
        w.append(&intent()).unwrap();
        drop(w);
        let text = std::fs::read_to_string(&path).unwrap();
        let edited = text.replacen("is.role:r\",\"action", "is.role:x\",\"action", 1);
        assert_ne!(text, edited);
        std::fs::write(&path, edited).unwrap();
        let err = read_journal(&path).unwrap_err();
        assert!(
            matches!(
                err,
                JournalError::Damaged {
                    line: 2,
                    intact: 1,
                    ..
                }
            ),
            "{err}"
        );
        assert!(JournalWriter::open(&path).is_err());
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn after_a_failed_write_nothing_more_is_written_and_the_file_stays_intact() {
        let path = temp("full");
        let w = JournalWriter::open(&path).unwrap().fail_after(1);
        w.append(&started()).unwrap();
        assert!(matches!(
            w.append(&intent()),
            Err(JournalError::Write { .. })
        ));
        assert!(w.append(&intent()).is_err());
        let read = read_journal(&path).unwrap();
        assert_eq!(read.events, vec![started()]);
        assert!(!read.torn_tail);
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_fold_refuses_unknown_steps_and_dependencies_without_panicking() {
        let path = PathBuf::from("mem");
        let mut bad = started();
        if let Event::RunStarted { steps, .. } = &mut bad {
            steps[0].deps.push(StepId::new("is.role:missing"));
        }
        let contents = JournalContents {
            events: vec![bad],
            intact_len: 0,
            torn_tail: false,
        };
        assert!(fold::<String>(&path, &contents).is_err());
        let contents = JournalContents {
            events: vec![
                started(),
                Event::Undone {
                    step: StepId::new("is.role:elsewhere"),
                    runs: vec!["r1".into()],
                },
            ],
            intact_len: 0,
            torn_tail: false,
        };
        assert!(fold::<String>(&path, &contents).is_err());
    }

    /// A small deterministic generator for the mutation test (xorshift64*).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
        }
    }

    /// A journal of two runs: an apply of three steps (one left with an unknown outcome), then
    /// a rollback that undid one of them.
    fn sample() -> Vec<u8> {
        let step = |id: &str| PlannedStep {
            id: StepId::new(id),
            server: Server::Is,
            deps: vec![],
            after: vec![],
            definition: serde_json::json!(id),
        };
        let events = vec![
            Event::RunStarted {
                run: "r1".into(),
                operation: "apply".into(),
                at: 1,
                host: "h".into(),
                pid: 1,
                binding: serde_json::json!({"marker": "m"}),
                steps: vec![step("is.role:a"), step("is.role:b"), step("is.role:c")],
            },
            Event::Intent {
                step: StepId::new("is.role:a"),
                action: Action::Create,
                pre_image: None,
                post_image: Some(serde_json::json!({"name": "a"})),
            },
            Event::StepSucceeded {
                step: StepId::new("is.role:a"),
                effect: Effect::Created {
                    post_image: Some(serde_json::json!({"name": "a"})),
                },
            },
            Event::Intent {
                step: StepId::new("is.role:b"),
                action: Action::Create,
                pre_image: None,
                post_image: None,
            },
            Event::StepSucceeded {
                step: StepId::new("is.role:b"),
                effect: Effect::Created { post_image: None },
            },
            Event::Intent {
                step: StepId::new("is.role:c"),
                action: Action::Create,
                pre_image: None,
                post_image: None,
            },
            Event::RunStarted {
                run: "r2".into(),
                operation: "rollback".into(),
                at: 2,
                host: "h".into(),
                pid: 2,
                binding: serde_json::json!({"marker": "m"}),
                steps: vec![],
            },
            Event::UndoStarted {
                step: StepId::new("is.role:b"),
                runs: vec!["r1".into()],
            },
            Event::Undone {
                step: StepId::new("is.role:b"),
                runs: vec!["r1".into()],
            },
        ];
        events.iter().flat_map(|e| encode(e).unwrap()).collect()
    }

    /// Mutated journals (flipped, inserted and deleted bytes; lines cut, repeated, swapped,
    /// dropped) are folded without a panic, and whatever the fold keeps to undo is an object the
    /// intact journal recorded.
    #[test]
    fn mutated_journals_never_panic_nor_undo_what_the_intact_one_did_not_record() {
        let intact = sample();
        let path = PathBuf::from("mutated.journal");
        let recorded: std::collections::BTreeSet<StepId> =
            fold::<String>(&path, &parse(&path, &intact).unwrap())
                .unwrap()
                .steps
                .iter()
                .map(|s| s.id.clone())
                .collect();
        let cases = std::env::var("JOURNAL_MUTATIONS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20_000usize);
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let (mut refused, mut folded, mut torn) = (0, 0, 0);
        for _ in 0..cases {
            let mut bytes = intact.clone();
            for _ in 0..=rng.below(3) {
                let lines: Vec<&[u8]> = bytes.split_inclusive(|b| *b == b'\n').collect();
                let mut out: Vec<u8> = Vec::new();
                match rng.below(7) {
                    0 if !bytes.is_empty() => {
                        let i = rng.below(bytes.len());
                        bytes[i] ^= 1 << rng.below(8);
                        continue;
                    }
                    1 => {
                        let i = rng.below(bytes.len() + 1);
                        bytes.insert(i, u8::try_from(rng.below(256)).unwrap_or(b'x'));
                        continue;
                    }
                    2 if !bytes.is_empty() => {
                        let i = rng.below(bytes.len());
                        bytes.remove(i);
                        continue;
                    }
                    3 => {
                        let i = rng.below(bytes.len() + 1);
                        bytes.truncate(i);
                        continue;
                    }
                    4 if !lines.is_empty() => {
                        let i = rng.below(lines.len());
                        for (j, l) in lines.iter().enumerate() {
                            out.extend_from_slice(l);
                            if j == i {
                                out.extend_from_slice(l);
                            }
                        }
                    }
                    5 if lines.len() > 1 => {
                        let (a, b) = (rng.below(lines.len()), rng.below(lines.len()));
                        let mut v = lines.clone();
                        v.swap(a, b);
                        v.iter().for_each(|l| out.extend_from_slice(l));
                    }
                    _ if !lines.is_empty() => {
                        let i = rng.below(lines.len());
                        lines
                            .iter()
                            .enumerate()
                            .filter(|(j, _)| *j != i)
                            .for_each(|(_, l)| out.extend_from_slice(l));
                    }
                    _ => continue,
                }
                bytes = out;
            }
            match parse(&path, &bytes) {
                Err(JournalError::Damaged { .. }) => refused += 1,
                Err(e) => panic!("only damage is refused while parsing: {e}"),
                Ok(contents) => {
                    torn += usize::from(contents.torn_tail);
                    match fold::<String>(&path, &contents) {
                        Err(_) => refused += 1,
                        Ok(f) => {
                            folded += 1;
                            for (s, _) in f.pending_undo() {
                                assert!(
                                    recorded.contains(&s.id),
                                    "an undo of {} which the intact journal never recorded",
                                    s.id
                                );
                            }
                        }
                    }
                }
            }
        }
        println!(
            "journal mutations: {cases} cases; {refused} refused (damaged or inconsistent), {folded} folded ({torn} with a torn tail dropped); 0 panics; no undo of an object the intact journal did not record"
        );
    }

    /// Rollback undoes the last run's effects only (a failed update does not take the whole
    /// federation down), and a second rollback finds nothing; destroy undoes every run's,
    /// a creation staying a creation.
    #[test]
    fn rollback_covers_the_last_run_and_destroy_every_run() {
        let step = PlannedStep {
            id: StepId::new("is.role:a"),
            server: Server::Is,
            deps: vec![],
            after: vec![],
            definition: serde_json::json!("a"),
        };
        let start = |run: &str, op: &str, steps: Vec<PlannedStep>| Event::RunStarted {
            run: run.into(),
            operation: op.into(),
            at: 0,
            host: "h".into(),
            pid: 1,
            binding: serde_json::json!({}),
            steps,
        };
        let a = || StepId::new("is.role:a");
        let mut events = vec![
            start("r1", "apply", vec![step.clone()]),
            Event::StepSucceeded {
                step: a(),
                effect: Effect::Created {
                    post_image: Some(serde_json::json!(1)),
                },
            },
            Event::RunFinished {
                outcome: RunOutcome::Applied,
            },
            start("r2", "apply", vec![step]),
            Event::StepSucceeded {
                step: a(),
                effect: Effect::Updated {
                    pre_image: serde_json::json!(1),
                    post_image: Some(serde_json::json!(2)),
                },
            },
        ];
        let fold_now = |events: &[Event]| {
            let contents = JournalContents {
                events: events.to_vec(),
                intact_len: 0,
                torn_tail: false,
            };
            fold::<String>(Path::new("j"), &contents).unwrap()
        };
        let f = fold_now(&events);
        assert!(matches!(
            f.undo_last_run().states[0],
            StepState::Done {
                effect: Effect::Updated { .. }
            }
        ));
        assert_eq!(f.undo_last_run().runs[0], ["r2"]);
        let all = f.undo_all();
        let StepState::Done {
            effect: Effect::Created { post_image },
        } = &all.states[0]
        else {
            panic!("{:?}", all.states[0])
        };
        assert_eq!(
            post_image,
            &Some(serde_json::json!(2)),
            "the latest image written"
        );
        assert_eq!(all.runs[0], ["r1", "r2"]);
        // The rollback of r2 undoes it; a second rollback finds nothing; destroy still deletes.
        events.push(start("r3", "rollback", vec![]));
        events.push(Event::Undone {
            step: a(),
            runs: vec!["r2".into()],
        });
        let f = fold_now(&events);
        assert!(f.undo_last_run().is_empty());
        let all = f.undo_all();
        assert!(matches!(
            all.states[0],
            StepState::Done {
                effect: Effect::Created { .. }
            }
        ));
        assert_eq!(all.runs[0], ["r1"]);
        assert_eq!(f.post_images()[&a()], serde_json::json!(1));
    }
}
