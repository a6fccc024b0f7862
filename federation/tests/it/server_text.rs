//! Server text is bounded and cleaned everywhere the federation shows or stores it (issue 10):
//! an 8 MiB fault string with terminal escapes and a forged status line, raised by APIM's
//! `addIdP` during an apply, reaches the error, the events and the journal only as a bounded,
//! escaped excerpt.
//!
//! `cargo test -p wso2-federation --test it server_text -- --nocapture`

use std::sync::{Arc, Mutex};

use wso2_federation::FederationError;
use wso2_federation::engine::Event;
use wso2_testkit::{FaultKind, FaultRule, Sandbox};

use crate::support::*;

/// The hostile fault string: a line-clearing escape, a forged `[ok ]` line, 8 MiB of filler,
/// a window-title escape.
fn hostile() -> String {
    let mut s = String::from("\u{1b}[2K\r[ok ] every change applied\nbad thing");
    s.push_str(&"A".repeat(8 << 20));
    s.push_str("\u{1b}]0;owned\u{7}\u{202e}");
    s
}

/// Whether `text` holds anything a terminal would act on (escapes, carriage returns, bidi
/// overrides) or a line the server started.
fn raw_control(text: &str) -> Option<char> {
    text.chars()
        .find(|c| matches!(c, '\u{1b}' | '\r' | '\u{7}' | '\u{202e}'))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_8_mib_fault_string_with_escapes_is_bounded_and_cleaned_in_errors_events_and_journal() {
    let sb = Sandbox::start().await.unwrap();
    // The portals as after their first login (a registration is never undone).
    sb.apim().ensure_portal_apps();
    sb.apim().inject(FaultRule::nth(
        "addIdP",
        1,
        FaultKind::SoapFault { message: hostile() },
    ));
    let journal = TempJournal::new();
    let fed = seed(&sb, &journal);
    let before = sb.snapshot();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut options = journal.options();
    let sink = seen.clone();
    options.events = Some(Arc::new(move |e: &Event| {
        sink.lock().unwrap().push(serde_json::to_string(e).unwrap());
    }));
    let err = fed.apply(&options).await.unwrap_err();
    assert!(matches!(err, FederationError::RolledBack { .. }), "{err}");

    // The error: every link bounded (ServerText shows 4 KiB), nothing a terminal acts on, and
    // no line of the server's own making.
    let chain = error_chain(&err);
    let mut longest = 0;
    let mut link: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = link {
        let shown = e.to_string();
        longest = longest.max(shown.len());
        assert!(shown.len() <= 8 * 1024, "a link of {} bytes", shown.len());
        assert_eq!(raw_control(&shown), None, "{shown:.300}");
        assert!(!shown.contains('\n'), "{shown:.300}");
        link = e.source();
    }
    assert!(
        chain.contains("[ok ] every change applied"),
        "the text is shown, escaped"
    );
    assert!(
        chain.contains("\\u{1b}"),
        "the escape is shown as text: {chain:.300}"
    );

    // The events and the journal: each record bounded, the text escaped before it was stored.
    let events = seen.lock().unwrap().clone();
    let longest_event = events.iter().map(String::len).max().unwrap();
    assert!(
        longest_event <= 16 * 1024,
        "an event of {longest_event} bytes"
    );
    let text = std::fs::read_to_string(&journal.0).unwrap();
    let longest_line = text.lines().map(str::len).max().unwrap();
    assert!(
        longest_line <= 16 * 1024,
        "a journal line of {longest_line} bytes"
    );
    for line in text.lines() {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        let mut strings = Vec::new();
        collect_strings(&record, &mut strings);
        for s in strings {
            assert_eq!(
                raw_control(&s),
                None,
                "the journal stores the cleaned text: {s:.300}"
            );
            assert!(
                !s.contains('\n'),
                "the journal stores the cleaned text: {s:.300}"
            );
        }
    }
    assert!(text.contains("[ok ] every change applied"));
    assert_eq!(
        difference(&sb, &before, &sb.snapshot(), Equality::Exact),
        None,
        "the rollback left the servers as they were"
    );
    println!(
        "server text: 8 MiB fault string with escapes: longest error link {longest} bytes, \
         longest event {longest_event} bytes, longest journal line {longest_line} bytes; \
         no escape, carriage return or server-made line anywhere"
    );
}

fn collect_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|v| collect_strings(v, out)),
        serde_json::Value::Object(o) => o.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}
