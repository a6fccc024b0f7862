//! What the operator sees (issue 13): the exit-code table of `--help` is the README's; every
//! `--output json` outcome (success and each error kind, usage errors included) is one object
//! valid against `output.schema.json` (checked by the `jsonschema` Python package, an
//! implementation independent of this code); progress is plain lines when stderr is not a
//! terminal and nothing but the result with `-q`; the sandbox and `wso2-sim` leave nothing in
//! the temporary directory.
//!
//! `cargo test -p wso2-federate --test it output -- --nocapture` (the schema check needs
//! `$WSO2_TEST_PYTHON` with `jsonschema`; it fails under CI without it, and skips elsewhere).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use wso2_testkit::{FaultKind, FaultRule};

use crate::support::*;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The lines from `Exit codes:` to the end of `text`'s block (a blank line or the end).
fn exit_code_table(text: &str) -> Option<String> {
    let start = text.find("Exit codes:\n")?;
    let table: Vec<&str> = text[start..]
        .lines()
        .take_while(|l| !l.trim().is_empty() && !l.starts_with("```"))
        .collect();
    Some(table.join("\n"))
}

#[test]
fn the_exit_code_table_of_help_is_the_readmes() {
    let out = Command::new(env!("CARGO_BIN_EXE_wso2-federate"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = exit_code_table(&String::from_utf8_lossy(&out.stdout)).expect("a table in --help");
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let documented = exit_code_table(&readme).expect("a table in README.md");
    assert_eq!(help, documented, "README.md and --help disagree");
    for code in ["0", "1", "2", "3", "4", "5", "6", "130"] {
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{code} "))),
            "code {code} is not in the table:\n{help}"
        );
    }
}

/// One JSON run: its arguments, what it printed, its exit code.
struct JsonRun {
    what: String,
    code: Option<i32>,
    value: serde_json::Value,
}

fn parse_json_run(what: &str, out: &CliOutput) -> JsonRun {
    let value: serde_json::Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("{what}: stdout is not one JSON object ({e}):\n{out}"));
    JsonRun {
        what: what.to_owned(),
        code: out.status.code(),
        value,
    }
}

async fn json_run(cli: &CliRun, args: &[&str]) -> JsonRun {
    let mut all = vec!["--output", "json"];
    all.extend_from_slice(args);
    let out = cli.run(&all, None).await;
    parse_json_run(&args.join(" "), &out)
}

/// Validates `runs` against the schema with Python's `jsonschema`; returns the problems.
fn validate(runs: &[JsonRun]) -> Option<Vec<String>> {
    let python = std::env::var("WSO2_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let has = Command::new(&python)
        .args(["-c", "import jsonschema"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !require(
        "output::every_json_outcome_matches_the_schema",
        (!has).then(|| {
            format!("{python} cannot import jsonschema (set WSO2_TEST_PYTHON to a venv with it)")
        }),
    ) {
        return None;
    }
    let dir = std::env::temp_dir().join(format!("federate-schema-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let docs = dir.join("outputs.json");
    let values: Vec<&serde_json::Value> = runs.iter().map(|r| &r.value).collect();
    std::fs::write(&docs, serde_json::to_string(&values).unwrap()).unwrap();
    let script = r#"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
for i, doc in enumerate(json.load(open(sys.argv[2]))):
    for e in validator.iter_errors(doc):
        print(f"{i}: {'/'.join(map(str, e.absolute_path))}: {e.message[:300]}")
"#;
    let out = Command::new(&python)
        .args(["-c", script])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("output.schema.json"))
        .arg(&docs)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "the schema check failed to run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                let (i, rest) = l.split_once(": ").unwrap();
                format!("{}: {rest}", runs[i.parse::<usize>().unwrap()].what)
            })
            .collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_json_outcome_matches_the_schema() {
    let sim = SimProcess::start(&["--portals"]);
    let clean = sim.state().await;
    let cli = CliRun::new(&sim, "json");
    let mut runs = Vec::new();
    // Successes of every command.
    for args in [
        vec!["doctor"],
        vec!["plan"],
        vec!["apply", "--yes", "--verify"],
        vec![
            "verify",
            "--test-user",
            "api_publisher",
            "--test-password-env",
            "FED_TEST_PUBLISHER_PASSWORD",
        ],
        vec!["journal"],
        vec!["unlock"],
        vec!["rollback", "--yes"],
        vec!["recover"],
        vec!["apply", "--yes"],
        vec!["destroy", "--yes"],
    ] {
        runs.push(json_run(&cli, &args).await);
    }
    // Each error kind. usage: a bad command line (clap's) and a missing --config.
    runs.push(json_run(&cli, &["plan", "--bogus"]).await);
    let mut c = Command::new(env!("CARGO_BIN_EXE_wso2-federate"));
    c.args(["--output", "json", "plan"]);
    runs.push(parse_json_run(
        "plan without --config",
        &finish(
            c.stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap(),
        ),
    ));
    // settings: a secret's environment variable not set.
    let mut c = cli.command(&["--output", "json", "plan"], None);
    c.env_remove("FED_TEST_IS_PASSWORD");
    let out = tokio::task::spawn_blocking(move || {
        finish(
            c.stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap(),
        )
    })
    .await
    .unwrap();
    runs.push(parse_json_run("plan without the admin password", &out));
    // unreachable: a wrong admin password, in plan and doctor.
    let mut wrong = CliRun::new(&sim, "json-wrong");
    wrong.admin_password = "not-the-password".into();
    runs.push(json_run(&wrong, &["plan"]).await);
    runs.push(json_run(&wrong, &["doctor"]).await);
    // check_failed: verify before any apply.
    runs.push(json_run(&cli, &["verify"]).await);
    // refused: destroy without --yes and without a terminal.
    assert!(cli.run(&["apply", "--yes"], None).await.ok());
    runs.push(json_run(&cli, &["destroy"]).await);
    assert!(cli.run(&["destroy", "--yes"], None).await.ok());
    // failed: a fault at the last step, everything undone.
    let fault = |n: u32| {
        FaultRule::nth(
            "updateApplication",
            n,
            FaultKind::SoapFault {
                message: "Injected fault at the last step".into(),
            },
        )
    };
    sim.reset(&clean).await;
    sim.inject("apim", &fault(2)).await;
    runs.push(json_run(&cli, &["apply", "--yes"]).await);
    // changes_remain: the same, and an undo that fails.
    sim.reset(&clean).await;
    sim.inject("apim", &fault(2)).await;
    sim.inject(
        "apim",
        &FaultRule::nth("deleteIdP", 1, FaultKind::PlainText500),
    )
    .await;
    runs.push(json_run(&cli, &["apply", "--yes"]).await);
    runs.push(json_run(&cli, &["rollback", "--yes"]).await);
    // interrupted: SIGINT during an apply.
    sim.reset(&clean).await;
    sim.set_latency(120).await;
    let child = cli.spawn(&["--output", "json", "apply", "--yes"]);
    sim.wait_for_writes(3).await;
    send_signal(child.id(), "INT");
    let out = tokio::task::spawn_blocking(move || finish(child))
        .await
        .unwrap();
    sim.set_latency(0).await;
    runs.push(parse_json_run("apply, interrupted", &out));

    // The process's exit code is the object's; `ok` is exit 0.
    let mut kinds = BTreeSet::new();
    for r in &runs {
        assert_eq!(
            r.code,
            r.value["exit_code"].as_i64().map(|c| c as i32),
            "{}: {}",
            r.what,
            r.value
        );
        if let Some(k) = r.value["error"]["kind"].as_str() {
            kinds.insert(k.to_owned());
        }
    }
    let all: BTreeSet<String> = [
        "failed",
        "usage",
        "settings",
        "changes_remain",
        "check_failed",
        "refused",
        "unreachable",
        "interrupted",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(kinds, all, "every error kind is covered");
    let codes: Vec<String> = runs
        .iter()
        .map(|r| format!("{} -> {}", r.what, r.value["exit_code"]))
        .collect();
    println!("json outputs:\n  {}", codes.join("\n  "));

    // A negative control: the schema does reject a wrong pairing of kind and exit code.
    let mut wrong_pair = runs.last().unwrap().value.clone();
    wrong_pair["exit_code"] = 4.into();
    runs.push(JsonRun {
        what: "NEGATIVE CONTROL".into(),
        code: None,
        value: wrong_pair,
    });
    let Some(problems) = validate(&runs) else {
        return;
    };
    let (control, real): (Vec<&String>, Vec<&String>) = problems
        .iter()
        .partition(|p| p.starts_with("NEGATIVE CONTROL"));
    assert!(
        real.is_empty(),
        "outputs that do not match output.schema.json:\n{}",
        real.iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        !control.is_empty(),
        "the schema accepted interrupted with exit code 4"
    );
    println!(
        "json schema: {} outputs of {} commands valid, {} error kinds; the negative control rejected",
        runs.len() - 1,
        runs.iter()
            .filter_map(|r| r.value["command"].as_str())
            .collect::<BTreeSet<_>>()
            .len(),
        kinds.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_is_plain_lines_without_a_terminal_and_quiet_prints_only_the_result() {
    let sim = SimProcess::start(&["--portals"]);
    let cli = CliRun::new(&sim, "progress");
    // Plain: stderr is a pipe here.
    let out = cli.run(&["apply", "--yes"], None).await;
    assert!(out.ok(), "{out}");
    let steps: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("  ok    "))
        .collect();
    assert_eq!(steps.len(), 8, "one line per step:\n{out}");
    assert!(
        !out.stderr.contains('\r') && !out.stderr.contains('\u{1b}'),
        "no redrawing without a terminal:\n{out:?}"
    );
    assert!(out.stdout.contains("Plan for federation"), "{out}");
    let out = cli.run(&["rollback", "--yes"], None).await;
    assert!(out.ok(), "{out}");
    assert_eq!(
        out.stderr
            .lines()
            .filter(|l| l.starts_with("  ok    undo "))
            .count(),
        8,
        "{out}"
    );

    // Quiet: the result lines only, nothing on stderr.
    let out = cli.run(&["-q", "doctor"], None).await;
    assert!(out.ok(), "{out}");
    // The connections, both releases, the mapped roles, two portals, discovery, the plan and
    // the journal.
    assert_eq!(out.stdout, "Doctor: 9 checks, 0 failed\n", "{out}");
    assert_eq!(out.stderr, "", "{out}");
    let out = cli.run(&["-q", "plan"], None).await;
    assert_eq!(
        out.stdout, "Plan: 6 to create, 2 to update, 0 to adopt, 0 unchanged.\n",
        "{out}"
    );
    assert_eq!(out.stderr, "", "{out}");
    let out = cli.run(&["-q", "apply", "--yes"], None).await;
    assert!(out.ok(), "{out}");
    assert_eq!(
        out.stdout,
        format!(
            "Plan: 6 to create, 2 to update, 0 to adopt, 0 unchanged.\nApplied (journal: {}).\n",
            cli.journal.display()
        ),
        "{out}"
    );
    assert_eq!(out.stderr, "", "{out}");
    // Quiet errors: on stderr, with what failed.
    let out = cli.run(&["-q", "destroy"], None).await;
    assert_eq!(out.status.code(), Some(5), "{out}");
    assert_eq!(out.stdout, "", "{out}");
    assert!(
        out.stderr
            .contains("error: destroy: not confirmed: stdin is not a terminal")
            && out.stderr.contains("pass `--yes`"),
        "{out}"
    );
    let mut wrong = CliRun::new(&sim, "progress-wrong");
    wrong.admin_password = "not-the-password".into();
    let out = wrong.run(&["-q", "doctor"], None).await;
    assert_eq!(out.status.code(), Some(6), "{out}");
    assert!(
        out.stderr.contains("caused by: IS connection: ")
            && out
                .stderr
                .contains("(fix: check IS's admin user and password (`is.username`"),
        "{out}"
    );
    assert!(cli.run(&["destroy", "--yes"], None).await.ok());
    println!("progress (CLI): plain lines on a pipe (8 steps, 8 undos); -q prints the result only");
}

/// The entries of `dir`.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn private_tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("federate-tmp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_sandbox_leaves_nothing_in_the_temporary_directory() {
    let tmp = private_tmp("sandbox");
    let out = Command::new(env!("CARGO_BIN_EXE_wso2-federate"))
        .args(["apply", "--sandbox", "--yes"])
        .env("TMPDIR", &tmp)
        .env_remove("WSO2_FEDERATION_STATE_DIR")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The journal was in the private temporary directory while it ran.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("journal: {}", tmp.display())),
        "{stdout}"
    );
    assert_eq!(listing(&tmp), Vec::<String>::new(), "left behind");
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[cfg(unix)]
#[test]
fn wso2_sim_removes_its_temporary_ca_on_sigint_and_sigterm_and_keeps_ca_out() {
    use std::io::BufRead;
    for (signal, ca_out) in [("INT", false), ("TERM", false), ("TERM", true)] {
        let tmp = private_tmp(&format!("sim-{signal}-{ca_out}"));
        let kept = tmp.join("kept").join("sim-ca.pem");
        std::fs::create_dir_all(kept.parent().unwrap()).unwrap();
        let mut c = Command::new(sim_binary());
        c.args(["--is-port", "0", "--apim-port", "0"])
            .env("TMPDIR", &tmp)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null());
        if ca_out {
            c.arg("--ca-out").arg(&kept);
        }
        let mut child = c.spawn().unwrap();
        let ready: serde_json::Value = std::io::BufReader::new(child.stdout.take().unwrap())
            .lines()
            .map_while(Result::ok)
            .find_map(|l| {
                l.strip_prefix("WSO2_SIM_READY ")
                    .map(|j| serde_json::from_str(j).unwrap())
            })
            .expect("the ready line");
        let ca = PathBuf::from(ready["ca_path"].as_str().unwrap());
        assert!(ca.is_file(), "{}", ca.display());
        if ca_out {
            assert_eq!(ca, kept);
        } else {
            assert!(ca.starts_with(&tmp), "{}", ca.display());
        }
        send_signal(child.id(), signal);
        let status = child.wait().unwrap();
        assert!(status.success(), "SIG{signal}: {status}");
        if ca_out {
            assert!(kept.is_file(), "--ca-out is kept");
            assert_eq!(listing(&tmp), ["kept"]);
        } else {
            assert_eq!(listing(&tmp), ["kept"], "SIG{signal} left the CA behind");
        }
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
