//! Progress on stderr, in one of three styles:
//!
//! * `Live` (stderr is a terminal): the finished steps as lines, under them one status line
//!   redrawn in place: a spinner, what is being done, steps done of all, the steps in flight and
//!   the time taken. Plan reads (which send no events) show the spinner and the time.
//! * `Lines` (stderr is a file or a pipe): one plain line per finished step or undo, nothing
//!   redrawn (what logs and CI keep).
//! * `Off` (`-q`, `--output json`): nothing.
//!
//! Hand-written rather than a progress-bar crate: one status line needs no dependency.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use wso2_federation::engine::Event;
use wso2_federation::text;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// Nothing.
    Off,
    /// Plain lines.
    Lines,
    /// Lines and a status line redrawn in place.
    Live,
}

impl Style {
    /// `Off` when asked for quiet or JSON output, `Live` on a terminal (not `TERM=dumb`),
    /// `Lines` otherwise.
    pub(crate) fn detect(quiet_or_json: bool) -> Self {
        if quiet_or_json {
            Self::Off
        } else if std::io::stderr().is_terminal()
            && !std::env::var("TERM").is_ok_and(|t| t == "dumb")
        {
            Self::Live
        } else {
            Self::Lines
        }
    }
}

#[derive(Debug, Default)]
struct State {
    /// What is being done (`reading IS and APIM`, `apply`, `undo`), when anything.
    label: Option<String>,
    since: Option<Instant>,
    total: usize,
    done: usize,
    in_flight: BTreeSet<String>,
    tick: usize,
    /// Whether a status line is on the screen.
    drawn: bool,
}

const SPINNER: [char; 4] = ['|', '/', '-', '\\'];
const CLEAR: &str = "\r\x1b[2K";

impl State {
    fn status(&self, width: usize) -> Option<String> {
        let label = self.label.as_ref()?;
        let mut s = format!("{} {label}", SPINNER[self.tick % SPINNER.len()]);
        if self.total > 0 {
            s.push_str(&format!(" {}/{}", self.done, self.total));
        }
        if let Some(since) = self.since {
            s.push_str(&format!(" ({}s)", since.elapsed().as_secs()));
        }
        if !self.in_flight.is_empty() {
            let names: Vec<&str> = self.in_flight.iter().map(String::as_str).collect();
            s.push_str(&format!(": {}", names.join(", ")));
        }
        Some(truncate(&s, width))
    }
}

/// `s` cut to `width` characters, with `...` where it was cut.
fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(width.saturating_sub(3)).collect();
    out.push_str("...");
    out
}

/// The progress of one command.
#[derive(Debug)]
pub(crate) struct Progress {
    style: Style,
    width: usize,
    state: Mutex<State>,
}

impl Progress {
    /// Progress in `style`; in `Live` style a task redraws the status line until the progress
    /// is dropped.
    pub(crate) fn new(style: Style) -> Arc<Self> {
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse::<usize>().ok())
            .filter(|w| *w >= 20)
            .unwrap_or(80)
            - 1;
        let progress = Arc::new(Self {
            style,
            width,
            state: Mutex::new(State::default()),
        });
        if style == Style::Live {
            let weak: Weak<Self> = Arc::downgrade(&progress);
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(125)).await;
                    let Some(p) = weak.upgrade() else { break };
                    p.redraw(true);
                }
            });
        }
        progress
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Redraws the status line (`tick`: advance the spinner).
    fn redraw(&self, tick: bool) {
        let mut st = self.state();
        if tick {
            st.tick += 1;
        }
        let status = st.status(self.width);
        let mut err = std::io::stderr().lock();
        match status {
            Some(s) => {
                let _ = write!(err, "{CLEAR}{s}");
                st.drawn = true;
            }
            None if st.drawn => {
                let _ = write!(err, "{CLEAR}");
                st.drawn = false;
            }
            None => {}
        }
        let _ = err.flush();
    }

    /// A line that stays (a step's outcome, a notice): printed above the status line.
    pub(crate) fn line(&self, text: &str) {
        match self.style {
            Style::Off => {}
            Style::Lines => eprintln!("{text}"),
            Style::Live => {
                {
                    let mut st = self.state();
                    let mut err = std::io::stderr().lock();
                    if st.drawn {
                        let _ = write!(err, "{CLEAR}");
                        st.drawn = false;
                    }
                    let _ = writeln!(err, "{text}");
                }
                self.redraw(false);
            }
        }
    }

    /// A notice that must be seen whatever the style (an interruption): printed above the
    /// status line, or plainly.
    pub(crate) fn notice(&self, text: &str) {
        match self.style {
            Style::Live => self.line(text),
            _ => eprintln!("{text}"),
        }
    }

    /// Shows `label` with the spinner and the time taken, until [`done`](Self::done) (reads
    /// that send no events: plan, doctor, verify).
    pub(crate) fn phase(&self, label: &str) {
        if self.style != Style::Live {
            return;
        }
        {
            let mut st = self.state();
            *st = State {
                label: Some(label.to_owned()),
                since: Some(Instant::now()),
                drawn: st.drawn,
                tick: st.tick,
                ..State::default()
            };
        }
        self.redraw(false);
    }

    /// Removes the status line.
    pub(crate) fn done(&self) {
        if self.style != Style::Live {
            return;
        }
        {
            let mut st = self.state();
            st.label = None;
        }
        self.redraw(false);
    }

    /// Follows a run's events: one line per finished step or undo, and the status line.
    pub(crate) fn event(&self, event: &Event) {
        if self.style == Style::Off {
            return;
        }
        if self.style == Style::Live {
            let mut st = self.state();
            match event {
                Event::RunStarted {
                    operation, steps, ..
                } => {
                    st.label = Some(operation.clone());
                    st.since = Some(Instant::now());
                    st.total = steps.len();
                    st.done = 0;
                    st.in_flight.clear();
                }
                Event::StepStarted { step } => {
                    st.in_flight.insert(step.to_string());
                }
                Event::StepSucceeded { step, .. } | Event::StepFailed { step, .. } => {
                    st.in_flight.remove(&step.to_string());
                    st.done += 1;
                }
                Event::UndoStarted { step, .. } => {
                    st.label = Some("undo".into());
                    st.in_flight.insert(step.to_string());
                }
                Event::Undone { step, .. } | Event::UndoFailed { step, .. } => {
                    st.in_flight.remove(&step.to_string());
                }
                Event::RunFinished { .. } => {
                    st.label = None;
                    st.in_flight.clear();
                }
                _ => {}
            }
        }
        if let Some(line) = step_line(event) {
            self.line(&line);
        } else if self.style == Style::Live {
            self.redraw(false);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        let st = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        if st.drawn {
            eprint!("{CLEAR}");
        }
    }
}

/// The line that stays for an event, if any (the same in both styles).
pub(crate) fn step_line(event: &Event) -> Option<String> {
    Some(match event {
        Event::StepSucceeded { step, effect } => format!("  ok    {step}: {}", effect.verb()),
        Event::StepFailed { step, error, .. } => {
            format!("  FAIL  {step}: {}", text::clean(error, text::SHOWN))
        }
        Event::Undone { step, .. } => format!("  ok    undo {step}"),
        Event::UndoFailed {
            step,
            error,
            refused,
            ..
        } => format!(
            "  {}  undo {step}: {}",
            if *refused { "KEPT" } else { "FAIL" },
            text::clean(error, text::SHOWN)
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_line_shows_the_label_the_count_and_the_steps_in_flight_within_the_width() {
        let mut st = State {
            label: Some("apply".into()),
            total: 10,
            done: 4,
            ..State::default()
        };
        st.in_flight.insert("is.user:api_user".into());
        st.in_flight.insert("is.role:user_role".into());
        assert_eq!(
            st.status(200).as_deref(),
            Some("| apply 4/10: is.role:user_role, is.user:api_user")
        );
        st.tick = 1;
        let short = st.status(20).unwrap();
        assert_eq!(short, "/ apply 4/10: is....");
        assert_eq!(short.chars().count(), 20);
        st.label = None;
        assert_eq!(st.status(80), None, "no label, no status line");
    }
}
