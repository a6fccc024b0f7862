//! Text that comes from servers (fault strings, error bodies) is bounded and cleaned wherever
//! the federation shows or stores it: at most [`SHOWN`] bytes, control characters escaped, so
//! that an 8 MiB fault string cannot flood a terminal or a journal and an escape sequence or a
//! newline cannot forge output.

use std::fmt::Write as _;

/// The most shown or stored of one text (4 KiB).
pub const SHOWN: usize = 4 * 1024;

/// The most kept for verbose output (`-vv`): 64 KiB.
pub const VERBOSE: usize = 64 * 1024;

/// `text` with control characters escaped (`\n`, `\u{1b}`, ...) and cut to at most `max`
/// bytes, with a note of how much was left out.
pub fn clean(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max) + 32);
    let mut taken = 0usize;
    for (i, c) in text.char_indices() {
        let before = out.len();
        if c.is_control() {
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                other => {
                    let _ = write!(out, "\\u{{{:x}}}", other as u32);
                }
            }
        } else {
            out.push(c);
        }
        if out.len() > max {
            out.truncate(before);
            let _ = write!(out, "... ({} more bytes)", text.len() - i);
            return out;
        }
        taken = i + c.len_utf8();
    }
    debug_assert_eq!(taken, text.len());
    out
}

/// An error and its causes as one cleaned line (`a: b: c`), each cause shown once (a layer
/// that repeats its source is not repeated), bounded to [`SHOWN`] bytes.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    clean(&raw_chain(e), SHOWN)
}

/// [`chain`] bounded to [`VERBOSE`] bytes (for `-vv`).
pub fn chain_verbose(e: &(dyn std::error::Error + 'static)) -> String {
    clean(&raw_chain(e), VERBOSE)
}

fn raw_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(c) = source {
        let t = c.to_string();
        if !t.is_empty() && !s.ends_with(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        if s.len() > VERBOSE * 2 {
            break;
        }
        source = c.source();
    }
    s
}

/// Seconds since the Unix epoch as a UTC date and time, `2026-12-05 13:04:05 UTC`.
pub fn utc(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_796_524_677), "2026-12-06 02:37:57 UTC");
    }

    #[test]
    fn control_characters_are_escaped_and_long_text_cut() {
        assert_eq!(clean("a\nb\u{1b}[31m", 100), "a\\nb\\u{1b}[31m");
        let forged = "failed\n  [ok ] everything fine";
        assert!(!clean(forged, 100).contains('\n'));
        let long = "x".repeat(8 * 1024 * 1024);
        let shown = clean(&long, SHOWN);
        assert!(shown.len() < SHOWN + 40, "{}", shown.len());
        assert!(shown.ends_with(&format!("({} more bytes)", 8 * 1024 * 1024 - SHOWN)));
        assert_eq!(clean("é", 1), "... (2 more bytes)");
    }
}
