//! Sharing the servers, through the CLI as separate processes against `wso2-sim` (issue 10):
//! two applies at once, a journal of other servers, a torn and a damaged journal, a full disk.
//! Exit codes are checked against the table in `--help`.
//!
//! `cargo test -p wso2-federate --test it sharing -- --nocapture`

use crate::support::*;

fn code(out: &CliOutput) -> Option<i32> {
    out.status.code()
}

/// Two `apply` processes at once with separate journals: one exits 0, the other 5 before any
/// write, naming the holder (host, process, start time).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_apply_processes_at_once_one_applies_the_other_exits_5_naming_the_holder() {
    let sim = SimProcess::start(&["--portals"]);
    sim.set_latency(40).await;
    let (a, b) = (CliRun::new(&sim, "apply-a"), CliRun::new(&sim, "apply-b"));
    let (ra, rb) = tokio::join!(
        a.run(&["apply", "--yes"], None),
        b.run(&["apply", "--yes"], None)
    );
    sim.set_latency(0).await;
    let (ok, refused) = match (code(&ra), code(&rb)) {
        (Some(0), Some(5)) => (&a, rb),
        (Some(5), Some(0)) => (&b, ra),
        _ => panic!("one must apply (0), the other be refused (5):\n{ra}\n{rb}"),
    };
    assert!(
        refused.stderr.contains("another run holds the lease")
            && refused.stderr.contains(" pid ")
            && refused.stderr.contains("UTC"),
        "{refused}"
    );
    let plan = ok.run(&["plan"], None).await;
    assert!(plan.stdout.contains("0 to create, 0 to update"), "{plan}");
    let destroyed = ok.run(&["destroy", "--yes"], None).await;
    assert!(destroyed.ok(), "{destroyed}");
    println!("sharing (CLI): two apply processes at once: exit 0 and exit 5 naming the holder");
}

/// `recover`, `rollback` and `destroy` with a journal of other servers exit 5, naming the field
/// that differs, and send nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_of_other_servers_exits_5_and_sends_nothing() {
    let staging = SimProcess::start(&["--portals"]);
    let production = SimProcess::start(&["--portals"]);
    let run = CliRun::new(&staging, "staging");
    assert!(run.run(&["apply", "--yes"], None).await.ok());
    // Production's settings, staging's journal.
    let prod = CliRun::new(&production, "production");
    let before = production.requests("is").await.len() + production.requests("apim").await.len();
    for args in [
        vec!["recover"],
        vec!["rollback", "--yes"],
        vec!["destroy", "--yes"],
    ] {
        let mut c = prod.command(&args, None);
        c.arg("--journal").arg(&run.journal);
        let out = tokio::task::spawn_blocking(move || c.output().unwrap())
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(5), "{args:?}: {stderr}");
        assert!(stderr.contains("is_url"), "{args:?}: {stderr}");
    }
    let after = production.requests("is").await.len() + production.requests("apim").await.len();
    assert_eq!(before, after, "nothing was sent to production");
    assert!(run.run(&["destroy", "--yes"], None).await.ok());
    println!(
        "sharing (CLI): another server's journal: recover, rollback, destroy exit 5 naming is_url; 0 requests"
    );
}

/// A torn last journal record (the process died mid-write) is dropped: `recover` and a second
/// `rollback` work, and the journal is clean afterwards. A damaged record elsewhere is refused
/// (exit 5) with its line number, and `journal` still lists what the intact part records.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torn_journal_is_recovered_and_a_damaged_one_refused_with_its_line() {
    let sim = SimProcess::start(&["--portals"]);
    let clean = sim.state().await;
    let run = CliRun::new(&sim, "torn");
    // Die after the 6th record, then tear a half-written record on.
    let died = run.run(&["apply", "--yes"], Some(6)).await;
    assert!(!died.ok());
    std::fs::OpenOptions::new()
        .append(true)
        .open(&run.journal)
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"{\"crc32\":\"1234"))
        .unwrap();
    let out = run.run(&["recover"], None).await;
    assert!(out.ok(), "{out}");
    let out = run.run(&["rollback", "--yes"], None).await;
    assert!(out.ok(), "{out}");
    assert_eq!(clean, sim.state().await, "back to the clean slate");
    let text = std::fs::read_to_string(&run.journal).unwrap();
    assert!(
        text.ends_with('\n') && !text.contains("{\"crc32\":\"1234"),
        "the torn record was cut"
    );

    // Damage a record in the middle: refused with its line, and nothing sent.
    // The third record (an intent): its content changed, its checksum not.
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    assert!(lines[2].contains("\"intent\""), "{}", lines[2]);
    lines[2] = lines[2].replacen("is.", "iz.", 1);
    std::fs::write(&run.journal, lines.join("\n") + "\n").unwrap();
    for args in [
        vec!["rollback", "--yes"],
        vec!["recover"],
        vec!["apply", "--yes"],
    ] {
        let out = run.run(&args, None).await;
        assert_eq!(code(&out), Some(5), "{args:?}: {out}");
        assert!(out.stderr.contains("line 3 is damaged"), "{out}");
    }
    let listed = run.run(&["journal"], None).await;
    assert_eq!(code(&listed), Some(5), "{listed}");
    assert!(
        listed.stdout.contains("run ") && listed.stdout.contains("DAMAGED"),
        "{listed}"
    );
    println!(
        "sharing (CLI): a torn record dropped and recovered; a damaged one refused (exit 5) with its line"
    );
}

/// The journal cannot be written part way (a full disk): no further write, the undo runs from
/// memory, and the exit code says whether the servers are back (1) or changes remain (3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_exits_1_only_when_the_servers_are_back() {
    let sim = SimProcess::start(&["--portals"]);
    let clean = sim.state().await;
    let mut seen = Vec::new();
    for after in [4usize, 8, 12] {
        let run = CliRun::new(&sim, "full");
        let mut c = run.command(&["apply", "--yes"], None);
        c.env("WSO2_FEDERATE_JOURNAL_FULL_AFTER_RECORD", after.to_string());
        let out = tokio::task::spawn_blocking(move || c.output().unwrap())
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let state = sim.state().await;
        match out.status.code() {
            Some(1) => assert_eq!(clean, state, "exit 1 claims the servers are back: {stderr}"),
            Some(3) => {
                assert_ne!(clean, state);
                assert!(stderr.contains("remain"), "{stderr}");
                sim.reset(&clean).await;
            }
            other => panic!("after {after}: exit {other:?}: {stderr}"),
        }
        assert!(stderr.contains("journal"), "{stderr}");
        seen.push(out.status.code());
    }
    println!(
        "sharing (CLI): the journal failing after 4, 8, 12 records: exits {seen:?} (1 only when back at the start)"
    );
}

/// An 8 MiB fault string with terminal escapes and a forged `[ok ]` line: the CLI prints a
/// bounded, escaped excerpt (and at `-vv` the longer, still bounded and escaped, text), never
/// an escape or a line of the server's making; exit 1 (rolled back).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_fault_string_is_printed_bounded_and_escaped() {
    let mut hostile = String::from("\u{1b}[2K\r[ok ] every change applied\nbad thing");
    hostile.push_str(&"A".repeat(8 << 20));
    hostile.push_str("\u{1b}]0;owned\u{7}");
    let forged = |out: &str| {
        out.lines()
            .find(|l| l.trim_start().starts_with("[ok ]"))
            .map(str::to_owned)
    };
    let mut sizes = Vec::new();
    for verbose in [false, true] {
        let sim = SimProcess::start(&["--portals"]);
        sim.inject(
            "apim",
            &wso2_testkit::FaultRule::nth(
                "addIdP",
                1,
                wso2_testkit::FaultKind::SoapFault {
                    message: hostile.clone(),
                },
            ),
        )
        .await;
        let run = CliRun::new(&sim, if verbose { "hostile-vv" } else { "hostile" });
        let args: &[&str] = if verbose {
            &["-vv", "apply", "--yes"]
        } else {
            &["apply", "--yes"]
        };
        let out = run.run(args, None).await;
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            &out.to_string()[..2000.min(out.to_string().len())]
        );
        for (name, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            assert!(
                !text.contains(['\u{1b}', '\r', '\u{7}']),
                "{name} holds a raw control character"
            );
            assert_eq!(
                forged(text),
                None,
                "{name} holds a line of the server's making"
            );
        }
        assert!(
            out.stderr.contains("[ok ] every change applied"),
            "shown, escaped"
        );
        let printed = out.stdout.len() + out.stderr.len();
        // The server text appears a bounded number of times, each bounded: 4 KiB shown; at
        // -vv the client keeps at most 64 KiB, and the TRACE log shows no bodies.
        let cap = if verbose { 1 << 20 } else { 64 << 10 };
        assert!(
            printed <= cap,
            "printed {printed} bytes (verbose {verbose})"
        );
        if verbose {
            assert!(
                out.stderr.contains("the server's fault text in full"),
                "-vv shows more"
            );
        }
        sizes.push(printed);
    }
    println!(
        "server text (CLI): 8 MiB fault string with escapes: {} bytes printed, {} at -vv; no raw \
         escape, no forged line; exit 1",
        sizes[0], sizes[1]
    );
}
