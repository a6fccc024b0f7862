//! Secret canaries: the seed setup's secrets and the forms a transport would carry them in, a
//! scanner that fails on any of them, and a TRACE log capture.

use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::Engine as _;

use super::seed::*;

/// The canaries, and the forms in which a transport would carry them (label, text).
pub fn canaries() -> Vec<(String, String)> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let mut out: Vec<(String, String)> = [
        ("admin password", CANARY_ADMIN_PASSWORD),
        ("api_publisher password", PUBLISHER_PASSWORD),
        ("api_user password", USER_PASSWORD),
        ("client secret", CANARY_CLIENT_SECRET),
    ]
    .into_iter()
    .map(|(what, v)| (what.to_owned(), v.to_owned()))
    .collect();
    out.push((
        "admin Basic header".into(),
        b64(&format!("admin:{CANARY_ADMIN_PASSWORD}")),
    ));
    out.push((
        "client Basic header".into(),
        b64(&format!("{FIXED_CLIENT_ID}:{CANARY_CLIENT_SECRET}")),
    ));
    out
}

/// Scans texts for the canaries.
#[derive(Default)]
pub struct Scan {
    /// Places scanned so far.
    pub places: usize,
    /// Bytes scanned so far.
    pub bytes: usize,
    /// The leaks found.
    pub leaks: Vec<String>,
}

impl Scan {
    /// Scans one text, found at `place`.
    pub fn check(&mut self, place: impl Into<String>, text: &str) {
        let place = place.into();
        self.places += 1;
        self.bytes += text.len();
        for (what, needle) in canaries() {
            if let Some(at) = text.find(&needle) {
                let from = text[..at]
                    .char_indices()
                    .rev()
                    .nth(80)
                    .map_or(0, |(i, _)| i);
                let context: String = text[from..].chars().take(200).collect();
                self.leaks
                    .push(format!("{what} in {place}: ...{context}..."));
            }
        }
    }

    /// Scans an error's chain and its `Debug` form.
    pub fn check_error(&mut self, place: &str, e: &(dyn std::error::Error + 'static)) {
        let mut chain = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            chain.push_str(" <- ");
            chain.push_str(&s.to_string());
            source = s.source();
        }
        self.check(format!("{place} (error chain)"), &chain);
        self.check(format!("{place} (error Debug)"), &format!("{e:?}"));
    }

    /// Prints the count and fails on any leak.
    pub fn finish(self, title: &str) {
        println!(
            "secrets: {title}: {} places scanned ({} bytes) for {} canary forms, {} leaks",
            self.places,
            self.bytes,
            canaries().len(),
            self.leaks.len()
        );
        assert!(self.leaks.is_empty(), "leaks:\n{}", self.leaks.join("\n"));
    }
}

/// Everything written by `tracing` while the guard lives, at TRACE, from every crate.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    /// What was captured.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("test utility")).into_owned()
    }
}

impl Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("test utility").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// A TRACE subscriber writing into a buffer, as the default of this thread. As in
/// `wso2-is-client`'s tests, a second (silent) dispatcher is kept alive for the whole run so that
/// tracing does not cache "no interest" in a callsite first seen on another test's thread.
pub fn capture_logs() -> (LogCapture, tracing::subscriber::DefaultGuard) {
    static KEEP_TWO_DISPATCHERS: std::sync::OnceLock<tracing::Dispatch> =
        std::sync::OnceLock::new();
    KEEP_TWO_DISPATCHERS
        .get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
    let capture = LogCapture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .with_ansi(false)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    (capture, guard)
}
