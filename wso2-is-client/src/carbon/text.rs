//! [`ServerText`]: text a server sent, kept bounded and shown cleaned.

use std::fmt::{self, Write as _};

/// Text a server sent (a fault string, a fault detail, a REST or SCIM error message, an excerpt
/// of an unexpected answer), fit to be shown.
///
/// A server (or anything on the path to it) decides what this text holds: it may be megabytes
/// long, or carry newlines and terminal escape sequences that would forge lines of output
/// (`\n[ok ] rolled back`) or recolour a terminal. So:
///
/// * at most [`KEPT`](Self::KEPT) bytes (64 KiB) are kept; [`sent_len`](Self::sent_len) says
///   how long the text was;
/// * `Display` shows at most [`SHOWN`](Self::SHOWN) bytes (4 KiB) of output, then says how much
///   was left out, with every control character (newlines and ESC included) and every
///   Unicode character that reorders or separates lines written as an escape (`\n`, `\u{1b}`),
///   so that nothing the server sent can start a line or move the cursor;
/// * [`full`](Self::full) shows the whole kept text, cleaned the same way, for verbose output;
/// * [`raw`](Self::raw) gives the kept text as sent, for matching; never print it.
///
/// `Debug` shows what `Display` shows; serialised, it is the kept text.
///
/// ```
/// use wso2_is_client::ServerText;
///
/// let text = ServerText::new("denied\n[ok ] rolled back\u{1b}[2J");
/// assert_eq!(text.to_string(), r"denied\n[ok ] rolled back\u{1b}[2J");
/// assert!(text.raw().starts_with("denied\n"));
///
/// let long = ServerText::new("x".repeat(8 << 20));
/// assert_eq!(long.sent_len(), 8 << 20);
/// assert_eq!(long.raw().len(), ServerText::KEPT);
/// assert!(long.to_string().len() < ServerText::SHOWN + 64);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct ServerText {
    kept: String,
    sent_len: usize,
}

impl ServerText {
    /// Bytes of output `Display` shows at most (before its note of what was left out).
    pub const SHOWN: usize = 4 * 1024;
    /// Bytes of the text kept at most.
    pub const KEPT: usize = 64 * 1024;

    /// Keeps (at most [`KEPT`](Self::KEPT) bytes of) `text`.
    pub fn new(text: impl Into<String>) -> Self {
        let mut kept: String = text.into();
        let sent_len = kept.len();
        if sent_len > Self::KEPT {
            kept.truncate(floor_char_boundary(&kept, Self::KEPT));
            kept.shrink_to_fit();
        }
        Self { kept, sent_len }
    }

    /// Keeps (at most [`KEPT`](Self::KEPT) bytes of) `bytes`, read as UTF-8 with invalid
    /// sequences replaced; only the kept part is decoded.
    pub fn from_utf8_lossy(bytes: &[u8]) -> Self {
        let head = &bytes[..bytes.len().min(Self::KEPT)];
        let mut text = Self::new(String::from_utf8_lossy(head).into_owned());
        text.sent_len = text.sent_len.max(bytes.len());
        text
    }

    /// The kept text exactly as the server sent it (at most [`KEPT`](Self::KEPT) bytes), to
    /// match on. Never print it: show the value itself (`Display`) or [`full`](Self::full).
    pub fn raw(&self) -> &str {
        &self.kept
    }

    /// The whole kept text, cleaned like `Display` but not shortened to
    /// [`SHOWN`](Self::SHOWN) bytes: for verbose output (`-vv`).
    pub fn full(&self) -> impl fmt::Display + '_ {
        Shown {
            text: self,
            limit: usize::MAX,
        }
    }

    /// How many bytes the server sent.
    pub fn sent_len(&self) -> usize {
        self.sent_len
    }

    /// Whether the server sent more than was kept.
    pub fn is_truncated(&self) -> bool {
        self.sent_len > self.kept.len()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.sent_len == 0
    }

    /// The text with white space trimmed at both ends (as kept).
    pub(crate) fn trimmed(self) -> Self {
        let trimmed = self.kept.trim();
        if trimmed.len() == self.kept.len() {
            return self;
        }
        let removed = self.kept.len() - trimmed.len();
        Self {
            kept: trimmed.to_owned(),
            sent_len: self.sent_len - removed,
        }
    }
}

/// The largest char boundary of `s` at or below `at`.
fn floor_char_boundary(s: &str, at: usize) -> usize {
    if at >= s.len() {
        return s.len();
    }
    let mut i = at;
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Characters written as an escape: controls (C0, DEL, C1: newlines, ESC, the 8-bit CSI), and
/// the format characters that separate lines or reorder text on a terminal.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// Writes `text` cleaned, at most `limit` bytes of output; returns how many bytes of `text`
/// were written (all of it when it fit).
pub(crate) fn write_clean(
    f: &mut impl fmt::Write,
    text: &str,
    limit: usize,
) -> Result<usize, fmt::Error> {
    let mut written = 0usize;
    let mut escape = String::new();
    for (at, c) in text.char_indices() {
        let piece: &str = if needs_escape(c) {
            escape.clear();
            match c {
                '\n' => escape.push_str("\\n"),
                '\r' => escape.push_str("\\r"),
                '\t' => escape.push_str("\\t"),
                c => {
                    let _ = write!(escape, "\\u{{{:x}}}", u32::from(c));
                }
            }
            &escape
        } else {
            let end = at + c.len_utf8();
            &text[at..end]
        };
        if written.saturating_add(piece.len()) > limit {
            return Ok(at);
        }
        f.write_str(piece)?;
        written += piece.len();
    }
    Ok(text.len())
}

/// `text` cleaned and shortened to `limit` bytes of output, with a note of what was left out.
pub(crate) fn clean(text: &str, limit: usize) -> String {
    let mut out = String::new();
    let shown = write_clean(&mut out, text, limit).unwrap_or(0);
    if shown < text.len() {
        let _ = write!(out, " [... {} more bytes]", text.len() - shown);
    }
    out
}

struct Shown<'a> {
    text: &'a ServerText,
    limit: usize,
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kept = &self.text.kept;
        let shown = write_clean(f, kept, self.limit)?;
        let left_out = self.text.sent_len - shown;
        if left_out > 0 {
            write!(f, " [... {left_out} more bytes]")?;
        }
        Ok(())
    }
}

impl fmt::Display for ServerText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Shown {
            text: self,
            limit: Self::SHOWN,
        }
        .fmt(f)
    }
}

impl fmt::Debug for ServerText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

impl From<String> for ServerText {
    fn from(text: String) -> Self {
        Self::new(text)
    }
}

impl From<&str> for ServerText {
    fn from(text: &str) -> Self {
        Self::new(text)
    }
}

impl PartialEq<str> for ServerText {
    fn eq(&self, other: &str) -> bool {
        !self.is_truncated() && self.kept == other
    }
}

impl PartialEq<&str> for ServerText {
    fn eq(&self, other: &&str) -> bool {
        self == *other
    }
}

impl PartialEq<String> for ServerText {
    fn eq(&self, other: &String) -> bool {
        self == other.as_str()
    }
}

impl serde::Serialize for ServerText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.kept)
    }
}

impl<'de> serde::Deserialize<'de> for ServerText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_cannot_start_a_line() {
        let forged =
            "refused\n[ok ] rolled back\r\n\u{1b}[32mgreen\u{9b}2J\u{7f}\u{2028}x\u{202e}y\ttab";
        let shown = ServerText::new(forged).to_string();
        assert_eq!(
            shown,
            r"refused\n[ok ] rolled back\r\n\u{1b}[32mgreen\u{9b}2J\u{7f}\u{2028}x\u{202e}y\ttab"
        );
        assert!(!shown.chars().any(needs_escape));
        assert_eq!(format!("{:?}", ServerText::new("a\nb")), r#""a\nb""#);
        // Ordinary text, non-ASCII included, is shown as it is.
        assert_eq!(
            ServerText::new("ünïcødé & <x>").to_string(),
            "ünïcødé & <x>"
        );
    }

    #[test]
    fn long_text_is_kept_bounded_and_shown_shorter() {
        let text = ServerText::new("é".repeat(5 << 20));
        assert_eq!(text.sent_len(), 10 << 20);
        assert!(text.is_truncated());
        assert!(text.raw().len() <= ServerText::KEPT);
        assert!(text.raw().len() > ServerText::KEPT - 4);
        let shown = text.to_string();
        let (head, note) = shown.split_once(" [... ").unwrap();
        assert!(head.len() <= ServerText::SHOWN);
        assert_eq!(note, format!("{} more bytes]", (10 << 20) - head.len()));
        let full = text.full().to_string();
        assert!(full.len() > ServerText::KEPT - 4 && full.len() < ServerText::KEPT + 64);
        assert!(full.ends_with(&format!(
            " [... {} more bytes]",
            (10 << 20) - text.raw().len()
        )));
        // Escapes count against the bound too.
        let escapes = ServerText::new("\u{1b}".repeat(10_000)).to_string();
        assert!(escapes.split(" [... ").next().unwrap().len() <= ServerText::SHOWN);
    }

    #[test]
    fn lossy_bytes_and_comparisons() {
        let text = ServerText::from_utf8_lossy(b"bad \xff byte");
        assert_eq!(text, "bad \u{fffd} byte");
        assert_ne!(
            ServerText::new("x".repeat(ServerText::KEPT + 1)),
            "x".repeat(ServerText::KEPT).as_str()
        );
        let json = serde_json::to_string(&ServerText::new("a\nb")).unwrap();
        assert_eq!(json, r#""a\nb""#);
        assert_eq!(serde_json::from_str::<ServerText>(&json).unwrap(), "a\nb");
        assert_eq!(ServerText::new("  x \n").trimmed(), "x");
        assert_eq!(clean("a\nb", 2), r"a [... 2 more bytes]");
    }
}
