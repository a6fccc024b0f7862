//! How the CLI ends: one exit code per meaning (the table in `--help` and the README), and the
//! error printed once: as text on stderr (the error, then each cause on its own line, every
//! server text bounded and cleaned), or as one JSON object on stdout with `--output json`
//! (its schema: `output.schema.json` in this package).

use std::process::ExitCode;

use serde_json::json;
use wso2_federation::{FederationError, text};

use crate::Output;

/// What kind of failure ended the run; each has its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExitKind {
    /// Failed, and the servers are as before.
    Failed,
    /// Bad command line.
    Usage,
    /// Bad settings.
    Settings,
    /// Changes remain on the servers.
    ChangesRemain,
    /// A check failed (doctor, verify).
    CheckFailed,
    /// Refused.
    Refused,
    /// A server could not be reached or refused the credentials.
    Unreachable,
    /// Interrupted, and every change undone.
    Interrupted,
}

impl ExitKind {
    pub(crate) fn code(self) -> u8 {
        match self {
            Self::Failed => 1,
            Self::Usage | Self::Settings => 2,
            Self::ChangesRemain => 3,
            Self::CheckFailed => 4,
            Self::Refused => 5,
            Self::Unreachable => 6,
            Self::Interrupted => 130,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Failed => "failed",
            Self::Usage => "usage",
            Self::Settings => "settings",
            Self::ChangesRemain => "changes_remain",
            Self::CheckFailed => "check_failed",
            Self::Refused => "refused",
            Self::Unreachable => "unreachable",
            Self::Interrupted => "interrupted",
        }
    }
}

/// A failure with its exit code, printed once.
#[derive(Debug)]
pub(crate) struct Exit {
    kind: ExitKind,
    message: String,
    causes: Vec<String>,
    verbose_causes: Vec<String>,
    result: Option<serde_json::Value>,
}

/// The client error a link of a chain stands for (itself, through an APIM error, or as a
/// failed step's error).
fn client_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a wso2_is_client::Error> {
    if let Some(c) = e.downcast_ref::<wso2_is_client::Error>() {
        return Some(c);
    }
    if let Some(wso2_apim_client::Error::Client(c)) = e.downcast_ref::<wso2_apim_client::Error>() {
        return Some(c);
    }
    let step = e.downcast_ref::<wso2_federation::engine::StepError>()?;
    client_error(step.inner())
}

/// `text` bounded to `max` bytes with control characters escaped, except line breaks, which
/// are kept (a TOML error points at its line over several): printed, each continuation line is
/// indented under its first, so no text can pass for a line of its own.
fn clean(text: &str, max: usize) -> String {
    let mut cut = text.len().min(max);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut out = text[..cut]
        .split('\n')
        .map(|l| text::clean(l.trim_end_matches('\r'), max))
        .collect::<Vec<_>>()
        .join("\n");
    if cut < text.len() {
        out.push_str(&format!("... ({} more bytes)", text.len() - cut));
    }
    out
}

fn causes(e: &(dyn std::error::Error + 'static), max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut source = e.source();
    while let Some(c) = source {
        let t = c.to_string();
        if !t.is_empty() && out.last().is_none_or(|l| *l != t) {
            out.push(clean(&t, max));
        }
        // At -vv, the server's own text in full (cleaned, and bounded by the client at
        // `ServerText::KEPT`), where the line above showed only its first part.
        if max >= text::VERBOSE
            && let Some(fault) = client_error(c).and_then(wso2_is_client::Error::fault)
            && fault.message.to_string().len() < fault.message.full().to_string().len()
        {
            out.push(format!(
                "the server's fault text in full ({} bytes sent): {}",
                fault.message.sent_len(),
                fault.message.full()
            ));
        }
        if out.len() > 16 {
            break;
        }
        source = c.source();
    }
    out
}

/// Prints `text` after `lead`, its continuation lines indented under the first.
fn print_indented(lead: &str, text: &str) {
    let pad = " ".repeat(lead.len());
    let mut lines = text.split('\n');
    eprintln!("{lead}{}", lines.next().unwrap_or_default());
    for l in lines {
        eprintln!("{pad}{l}");
    }
}

impl Exit {
    pub(crate) fn new(kind: ExitKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: clean(&message.into(), text::VERBOSE),
            causes: Vec::new(),
            verbose_causes: Vec::new(),
            result: None,
        }
    }

    /// `context`, caused by `e` and its sources.
    pub(crate) fn from_chain(
        kind: ExitKind,
        context: &str,
        e: &(dyn std::error::Error + 'static),
    ) -> Self {
        let mut chain = vec![clean(&e.to_string(), text::SHOWN)];
        chain.extend(causes(e, text::SHOWN));
        let mut verbose = vec![clean(&e.to_string(), text::VERBOSE)];
        verbose.extend(causes(e, text::VERBOSE));
        Self {
            kind,
            message: context.to_owned(),
            causes: chain,
            verbose_causes: verbose,
            result: None,
        }
    }

    pub(crate) fn from_federation(kind: ExitKind, e: &FederationError) -> Self {
        Self {
            kind,
            message: clean(&e.to_string(), text::SHOWN),
            causes: causes(e, text::SHOWN),
            verbose_causes: causes(e, text::VERBOSE),
            result: None,
        }
    }

    pub(crate) fn with_result(mut self, result: serde_json::Value) -> Self {
        self.result = Some(result);
        self
    }

    /// Adds causes (each cleaned: they may hold server text).
    pub(crate) fn with_causes(mut self, causes: impl IntoIterator<Item = String>) -> Self {
        for c in causes {
            self.causes.push(clean(&c, text::SHOWN));
            self.verbose_causes.push(clean(&c, text::VERBOSE));
        }
        self
    }

    /// Prints the failure and returns its exit code (`command`: `None` when the command line
    /// named none).
    pub(crate) fn report(self, output: Output, command: Option<&str>, verbose: u8) -> ExitCode {
        let causes = if verbose >= 2 {
            &self.verbose_causes
        } else {
            &self.causes
        };
        match output {
            Output::Json => print_json(&json!({
                "ok": false,
                "exit_code": self.kind.code(),
                "command": command,
                "result": self.result,
                "error": {
                    "kind": self.kind.name(),
                    "message": self.message,
                    "causes": causes,
                },
            })),
            Output::Text => {
                print_indented("error: ", &self.message);
                for c in causes {
                    print_indented("  caused by: ", c);
                }
            }
        }
        ExitCode::from(self.kind.code())
    }
}

/// One JSON object on stdout.
pub(crate) fn print_json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|_| "{}".into())
    );
}
