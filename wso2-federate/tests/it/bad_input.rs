//! Bad input stops before any request (issue 6, item 6): invalid configuration files and
//! command lines run through the `wso2-federate` binary. Each case must give a clear message and a nonzero exit
//! (2 for settings), and the simulated servers the settings point at must record no request.
//!
//! `cargo test -p wso2-federate --test it bad_input -- --nocapture` prints the
//! number of cases.

use std::path::{Path, PathBuf};
use std::process::Command;

use wso2_testkit::Sandbox;

/// A working directory with the sandbox's CA and the files the cases refer to.
struct Workdir(PathBuf);

impl Workdir {
    fn new(sb: &Sandbox) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "federation-bad-input-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ca.pem"), sb.ca_pem()).unwrap();
        std::fs::write(dir.join("not-a-cert.pem"), "just text, no certificate\n").unwrap();
        std::fs::write(dir.join("not-a-plan.json"), r#"{"hello": "world"}"#).unwrap();
        std::fs::write(dir.join("empty-password"), "\n").unwrap();
        std::fs::write(dir.join("huge-password"), "x".repeat(70 * 1024)).unwrap();
        // A FIFO nobody writes to: reading it would wait forever.
        let fifo = dir.join("fifo.pem");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo");
        Self(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A valid configuration of the seed setup against `sb` (secrets from the environment, the CA
/// from `ca.pem`).
fn valid_config(sb: &Sandbox) -> String {
    format!(
        r#"marker = "wso2-federation"
concurrency = 4

[is]
url = "{is}"
username = "admin"
password_env = "IS_ADMIN_PASSWORD"
ca_pem = "ca.pem"

[apim]
url = "{apim}"
username = "admin"
password_env = "APIM_ADMIN_PASSWORD"
ca_pem = "ca.pem"

[service_provider]
name = "apim-federation"
grant_types = ["authorization_code", "refresh_token"]
role_claim = "wso2_role"

[identity_provider]
name = "wso2-is"
client_auth = "basic_header"
jit = {{ enabled = true, user_store = "PRIMARY" }}

[[roles]]
name = "publisher_role"

[[roles]]
name = "user_role"

[[users]]
name = "api_publisher"
password_env = "API_PUBLISHER_PASSWORD"
roles = ["publisher_role"]

[[users]]
name = "api_user"
password_env = "API_USER_PASSWORD"
roles = ["user_role"]

[[role_mappings]]
remote = "publisher_role"
local = "Internal/publisher"

[[role_mappings]]
remote = "user_role"
local = "Internal/subscriber"

[portals]
switch = ["publisher", "devportal"]
"#,
        is = sb.is().base_url(),
        apim = sb.apim().base_url(),
    )
}

/// The environment of a valid run.
const ENV: &[(&str, &str)] = &[
    ("IS_ADMIN_PASSWORD", "admin"),
    ("APIM_ADMIN_PASSWORD", "admin"),
    ("API_PUBLISHER_PASSWORD", "Publisher#2024"),
    ("API_USER_PASSWORD", "UserPass#2024"),
];

/// How a case changes the valid configuration.
enum Edit {
    /// Replace the first occurrence of a text (which must be there).
    Replace(&'static str, &'static str),
    /// Replace every occurrence of a text (which must be there).
    ReplaceAll(&'static str, &'static str),
    /// Add text at the start.
    Prepend(&'static str),
    /// Add text at the end.
    Append(&'static str),
    /// Remove from a text (which must be there) up to the next line that starts a section.
    DropSection(&'static str),
}

fn apply_edits(config: &str, edits: &[Edit]) -> String {
    let mut out = config.to_owned();
    for edit in edits {
        out = match *edit {
            Edit::Replace(from, to) => {
                assert!(
                    out.contains(from),
                    "the case's text {from:?} is in the config"
                );
                out.replacen(from, to, 1)
            }
            Edit::ReplaceAll(from, to) => {
                assert!(
                    out.contains(from),
                    "the case's text {from:?} is in the config"
                );
                out.replace(from, to)
            }
            Edit::Prepend(text) => format!("{text}\n{out}"),
            Edit::Append(text) => format!("{out}\n{text}\n"),
            Edit::DropSection(start) => {
                let at = out.find(start).expect("the section is in the config");
                let after = at + start.len();
                let end = out[after..]
                    .find("\n[")
                    .map_or(out.len(), |i| after + i + 1);
                format!("{}{}", &out[..at], &out[end..])
            }
        };
    }
    out
}

/// One invalid configuration or command line.
struct Case {
    name: &'static str,
    /// Edits of the valid configuration (written to `federation.toml`); `None` writes none.
    config: Option<Vec<Edit>>,
    /// Arguments; `{config}` and `{dir}` are replaced by the file and the working directory.
    args: &'static [&'static str],
    /// Environment changes: `Some(value)` sets, `None` removes.
    env: &'static [(&'static str, Option<&'static str>)],
    /// The exit code.
    code: i32,
    /// Texts the error output must contain.
    expect: &'static [&'static str],
}

fn case(name: &'static str, edits: Vec<Edit>, expect: &'static [&'static str]) -> Case {
    Case {
        name,
        config: Some(edits),
        args: &["--config", "{config}", "plan"],
        env: &[],
        code: 2,
        expect,
    }
}

fn cases() -> Vec<Case> {
    use Edit::*;
    let mut cases = vec![
        case(
            "a password file that is a device",
            vec![Replace(
                "password_env = \"IS_ADMIN_PASSWORD\"",
                "password_file = \"/dev/zero\"",
            )],
            &["is.password: /dev/zero is not a regular file"],
        ),
        case(
            "a CA file that is a FIFO",
            vec![Replace(r#"ca_pem = "ca.pem""#, r#"ca_pem = "fifo.pem""#)],
            &["is.ca_pem:", "fifo.pem is not a regular file"],
        ),
        case(
            "a password file too large",
            vec![Replace(
                "password_env = \"APIM_ADMIN_PASSWORD\"",
                "password_file = \"huge-password\"",
            )],
            &[
                "apim.password:",
                "huge-password is 71680 bytes; at most 65536 are read",
            ],
        ),
        case(
            "plain http for IS allowed only under [apim]",
            vec![
                Replace("[apim]\n", "[apim]\nallow_http = true\n"),
                Replace(
                    "ca_pem = \"ca.pem\"\n\n[apim]",
                    "ca_pem = \"ca.pem\"\nbackend_url = \"http://is.internal:9763\"\n\n[apim]",
                ),
            ],
            &["is.backend_url: http://is.internal:9763/ uses plain http"],
        ),
        case(
            "credentials in an address",
            vec![Replace(
                "[apim]\n",
                "[apim]\npublic_url = \"https://bob:pw@apim.example.com\"\n",
            )],
            &["apim.public_url: holds credentials"],
        ),
        case(
            "malformed TOML",
            vec![Append("[is\nurl = ")],
            &[
                "config: TOML parse error at line",
                "unclosed table, expected `]`",
            ],
        ),
        case(
            "an unknown top-level key",
            vec![Prepend(r#"colour = "blue""#)],
            &[
                "config: TOML parse error",
                "unknown field `colour`",
                "expected one of",
            ],
        ),
        case(
            "an unknown key in [is]",
            vec![Replace(
                "password_env = \"IS_ADMIN_PASSWORD\"",
                "passwd_env = \"IS_ADMIN_PASSWORD\"",
            )],
            &["unknown field `passwd_env`", "password_env"],
        ),
        case(
            "a missing [apim] section",
            vec![DropSection("[apim]")],
            &["missing field `apim`"],
        ),
        case(
            "an unknown role claim",
            vec![Replace(
                r#"role_claim = "wso2_role""#,
                r#"role_claim = "roles""#,
            )],
            &[
                "unknown variant `roles`",
                "expected `wso2_role` or `groups`",
            ],
        ),
        case(
            "a literal admin password",
            vec![Replace(
                "password_env = \"IS_ADMIN_PASSWORD\"",
                "password = \"literal-admin-secret\"",
            )],
            &[
                "is.password: secrets are not accepted in the file; name an environment variable (password_env) or a file (password_file)",
            ],
        ),
        case(
            "a literal user password",
            vec![Replace(
                "password_env = \"API_PUBLISHER_PASSWORD\"",
                "password = \"literal-user-secret\"",
            )],
            &["users[0].password: secrets are not accepted in the file"],
        ),
        case(
            "both an environment variable and a file for one password",
            vec![Replace(
                "password_env = \"API_USER_PASSWORD\"",
                "password_env = \"API_USER_PASSWORD\"\npassword_file = \"pw.txt\"",
            )],
            &["users[1].password: give password_env or password_file, not both"],
        ),
        case(
            "a password file that does not exist",
            vec![Replace(
                "password_env = \"APIM_ADMIN_PASSWORD\"",
                "password_file = \"missing-password.txt\"",
            )],
            &["apim.password: cannot read", "missing-password.txt"],
        ),
        case(
            "an empty password file",
            vec![Replace(
                "password_env = \"APIM_ADMIN_PASSWORD\"",
                "password_file = \"empty-password\"",
            )],
            &["apim.password: the file", "empty-password is empty"],
        ),
        case(
            "plain http without allow_http",
            vec![ReplaceAll("https://", "http://")],
            &["is.url: ", "uses plain http", "set `is.allow_http = true`"],
        ),
        case(
            "a URL that is not one",
            vec![Replace("url = \"https://", "url = \"https//")],
            &["is.url: ", "is not a URL"],
        ),
        case(
            "a URL with embedded credentials",
            vec![Replace("url = \"https://", "url = \"https://admin:admin@")],
            &[
                "is.url: must not hold credentials",
                "`is.username` and `is.password_env`",
            ],
        ),
        case(
            "a mapped local role in the wrong case",
            vec![Replace(
                r#"local = "Internal/subscriber""#,
                r#"local = "Internal/Subscriber""#,
            )],
            &[
                r#"role_mappings[1].local: "Internal/Subscriber" is not "Internal/subscriber": role names are case-sensitive"#,
            ],
        ),
        case(
            "a mapped local role without its domain",
            vec![Replace(
                r#"local = "Internal/publisher""#,
                r#"local = "publisher""#,
            )],
            &[r#"role_mappings[0].local: "publisher" has no domain"#],
        ),
        case(
            "a mapping from a role this federation does not create",
            vec![Replace(
                r#"remote = "user_role""#,
                r#"remote = "guest_role""#,
            )],
            &[
                r#"role_mappings[1].remote: "guest_role" is not a role this federation creates on IS"#,
            ],
        ),
        case(
            "a user given a role this federation does not create",
            vec![Replace(
                r#"roles = ["user_role"]"#,
                r#"roles = ["user_role", "auditor"]"#,
            )],
            &[
                r#"users[1].roles[1]: role "auditor" is not among the roles this federation creates"#,
            ],
        ),
        case(
            "a user listed twice",
            vec![Replace(r#"name = "api_user""#, r#"name = "api_publisher""#)],
            &[r#"users[1].name: user "api_publisher" is listed twice"#],
        ),
        case(
            "a role listed twice",
            vec![Replace(
                r#"name = "user_role""#,
                r#"name = "publisher_role""#,
            )],
            &[r#"roles[1]: role "publisher_role" is listed twice"#],
        ),
        case(
            "a misspelt portal",
            vec![Replace(
                r#"switch = ["publisher", "devportal"]"#,
                r#"switch = ["publsher", "devportal"]"#,
            )],
            &[
                r#"portals.switch[0]"#,
                r#"unknown portal "publsher"; expected publisher, devportal or admin"#,
            ],
        ),
        case(
            "a portal listed twice",
            vec![Replace(
                r#"switch = ["publisher", "devportal"]"#,
                r#"switch = ["publisher", "apim_publisher"]"#,
            )],
            &["portals.switch: a portal is listed twice"],
        ),
        case(
            "zero concurrency",
            vec![Replace("concurrency = 4", "concurrency = 0")],
            &["concurrency: must be at least 1"],
        ),
        case(
            "a tenant that is not a domain",
            vec![Prepend(r#"tenant = "my tenant""#)],
            &[r#"tenant: "my tenant" is not a domain name such as example.com"#],
        ),
        case(
            "grant types without authorization_code",
            vec![Replace(
                r#"grant_types = ["authorization_code", "refresh_token"]"#,
                r#"grant_types = ["client_credentials"]"#,
            )],
            &["grant_types: must include `authorization_code`"],
        ),
        case(
            "just-in-time provisioning without a user store",
            vec![Replace(r#"user_store = "PRIMARY""#, r#"user_store = """#)],
            &["jit.user_store: just-in-time provisioning needs a user store"],
        ),
        case(
            "a marker with a space",
            vec![Replace(
                r#"marker = "wso2-federation""#,
                r#"marker = "wso2 federation""#,
            )],
            &[r#"marker: "wso2 federation" must be 1-64 characters"#],
        ),
        case(
            "a fixed client id that is too short",
            vec![Replace(
                "[service_provider]",
                "[service_provider]\nclient_id = \"abc\"",
            )],
            &["client_id: must be 8-255 characters"],
        ),
        case(
            "a CA file that does not exist",
            vec![Replace(
                r#"ca_pem = "ca.pem""#,
                r#"ca_pem = "missing-ca.pem""#,
            )],
            &["is.ca_pem: cannot read", "missing-ca.pem"],
        ),
        case(
            "a CA file without a certificate",
            vec![Replace(
                r#"ca_pem = "ca.pem""#,
                r#"ca_pem = "not-a-cert.pem""#,
            )],
            &[
                "is.ca_pem: ",
                "the trusted certificate PEM holds no certificate",
            ],
        ),
        case(
            "a zero timeout",
            vec![Replace("[apim]\n", "[apim]\ntimeout_secs = 0\n")],
            &["apim.timeout_secs: must be at least 1"],
        ),
        case(
            "an APIM setting under [is]",
            vec![Replace(
                "[is]\n",
                "[is]\npublic_url = \"https://apim.example.com\"\n",
            )],
            &["is.public_url: is an APIM setting; use is.browser_url"],
        ),
        Case {
            name: "the admin password's environment variable is not set",
            env: &[("IS_ADMIN_PASSWORD", None)],
            ..case(
                "",
                vec![],
                &[
                    "is.password: the environment variable IS_ADMIN_PASSWORD (`is.password_env`) is not set",
                ],
            )
        },
        Case {
            name: "the admin password's environment variable is empty",
            env: &[("APIM_ADMIN_PASSWORD", Some(""))],
            ..case(
                "",
                vec![],
                &[
                    "apim.password: the environment variable APIM_ADMIN_PASSWORD (`apim.password_env`) is empty",
                ],
            )
        },
        Case {
            name: "a user's password is empty",
            env: &[("API_USER_PASSWORD", Some(""))],
            ..case(
                "",
                vec![],
                &[
                    "users[1].password: the environment variable API_USER_PASSWORD (`users[1].password_env`) is empty",
                ],
            )
        },
        Case {
            name: "a user's password breaks IS's password rule",
            env: &[("API_USER_PASSWORD", Some("abc"))],
            ..case(
                "",
                vec![],
                &[
                    "users[1].password: breaks IS's default password rule of 5 to 30 characters",
                    "it has 3 characters",
                ],
            )
        },
        Case {
            name: "the fixed client secret's environment variable is not set",
            env: &[("FIXED_CLIENT_SECRET", None)],
            ..case(
                "",
                vec![Replace(
                    "[service_provider]",
                    "[service_provider]\nclient_secret_env = \"FIXED_CLIENT_SECRET\"",
                )],
                &[
                    "service_provider.client_secret_env: the environment variable FIXED_CLIENT_SECRET is not set",
                ],
            )
        },
        // The command line.
        Case {
            name: "a configuration file that does not exist",
            config: None,
            args: &["--config", "{dir}/nowhere.toml", "plan"],
            ..case("", vec![], &["config: cannot read", "nowhere.toml"])
        },
        Case {
            name: "no --config (and no --sandbox)",
            config: None,
            args: &["plan"],
            ..case(
                "",
                vec![],
                &[
                    "give a configuration file with --config FILE, or run the sandbox with --sandbox",
                ],
            )
        },
        Case {
            name: "--sandbox with --config",
            args: &["--sandbox", "--config", "{config}", "apply", "--yes"],
            ..case(
                "",
                vec![],
                &["--sandbox runs the built-in seed setup; leave out --config"],
            )
        },
        Case {
            name: "an unknown subcommand",
            args: &["--config", "{config}", "frobnicate"],
            ..case(
                "",
                vec![],
                &["unrecognized subcommand 'frobnicate'", "Usage:"],
            )
        },
        Case {
            name: "an unknown flag",
            args: &["--config", "{config}", "plan", "--colour"],
            ..case("", vec![], &["unexpected argument '--colour'"])
        },
        Case {
            name: "no subcommand",
            args: &["--config", "{config}"],
            ..case("", vec![], &["Usage:", "apply"])
        },
        Case {
            name: "an unknown output format",
            args: &["--config", "{config}", "--output", "yaml", "plan"],
            ..case(
                "",
                vec![],
                &[
                    "invalid value 'yaml' for '--output <OUTPUT>'",
                    "[possible values: text, json]",
                ],
            )
        },
        Case {
            name: "verify --test-user without --test-password-env",
            args: &["--config", "{config}", "verify", "--test-user", "api_user"],
            ..case(
                "",
                vec![],
                &[
                    "the following required arguments were not provided",
                    "--test-password-env",
                ],
            )
        },
        Case {
            name: "verify with a test password variable that is not set",
            args: &[
                "--config",
                "{config}",
                "verify",
                "--test-user",
                "api_user",
                "--test-password-env",
                "NO_SUCH_VARIABLE",
            ],
            ..case(
                "",
                vec![],
                &["the environment variable NO_SUCH_VARIABLE is not set"],
            )
        },
        Case {
            name: "apply --plan with a file that is not a plan",
            args: &[
                "--config",
                "{config}",
                "apply",
                "--yes",
                "--plan",
                "{dir}/not-a-plan.json",
            ],
            ..case(
                "",
                vec![],
                &["not-a-plan.json: not a plan saved by `wso2-federate plan --out`"],
            )
        },
        Case {
            name: "apply --plan with a file that does not exist",
            args: &[
                "--config",
                "{config}",
                "apply",
                "--yes",
                "--plan",
                "{dir}/no-plan.json",
            ],
            ..case("", vec![], &["cannot read", "no-plan.json"])
        },
    ];
    // `case("", ...)` above only supplies defaults: every case has its own name.
    for c in &mut cases {
        assert!(!c.name.is_empty());
    }
    cases
}

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run_cli(dir: &Path, args: &[String], env: &[(String, Option<String>)]) -> Outcome {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wso2-federate"));
    cmd.env_clear().current_dir(dir).args(args);
    for (k, v) in env {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    let out = cmd.output().unwrap();
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn requests(sb: &Sandbox) -> usize {
    sb.is().requests().len() + sb.apim().requests().len()
}

/// The environment of a valid run, with the case's changes.
fn case_env(c: &Case) -> Vec<(String, Option<String>)> {
    let mut env: Vec<(String, Option<String>)> = ENV
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Some((*v).to_owned())))
        .collect();
    for (k, v) in c.env {
        env.retain(|(name, _)| name != k);
        env.push(((*k).to_owned(), v.map(str::to_owned)));
    }
    env
}

/// Runs one case through the binary in `dir` (the journal, if any, goes there); returns what
/// went wrong, if anything.
async fn run_case(sb: &Sandbox, dir: &Workdir, config: &str, c: &Case) -> Option<String> {
    sb.clear_requests();
    let text = match &c.config {
        Some(edits) => apply_edits(config, edits),
        None => config.to_owned(),
    };
    std::fs::write(dir.path("federation.toml"), &text).unwrap();
    let args: Vec<String> = c
        .args
        .iter()
        .map(|a| {
            a.replace("{config}", "federation.toml")
                .replace("{dir}", &dir.0.display().to_string())
        })
        .collect();
    let env = case_env(c);
    let d = dir.0.clone();
    let out = tokio::task::spawn_blocking(move || run_cli(&d, &args, &env))
        .await
        .unwrap();
    let mut problems = Vec::new();
    if out.code != Some(c.code) {
        problems.push(format!("exit {:?}, expected {}", out.code, c.code));
    }
    for e in c.expect {
        if !out.stderr.contains(e) {
            problems.push(format!("no {e:?} in the error output"));
        }
    }
    for secret in [
        "literal-admin-secret",
        "literal-user-secret",
        "Publisher#2024",
    ] {
        if out.stderr.contains(secret) || out.stdout.contains(secret) {
            problems.push(format!("the output repeats the secret {secret:?}"));
        }
    }
    let n = requests(sb);
    if n != 0 {
        problems.push(format!("{n} request(s) reached the simulated servers"));
    }
    let shown = c
        .expect
        .first()
        .and_then(|e| out.stderr.lines().find(|l| l.contains(e)))
        .unwrap_or_default();
    println!("  {:<58} exit {:?}: {}", c.name, out.code, shown.trim());
    (!problems.is_empty()).then(|| {
        format!(
            "{}: {}\n--- stderr:\n{}--- stdout:\n{}",
            c.name,
            problems.join("; "),
            out.stderr,
            out.stdout
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_invalid_config_and_command_line_stops_with_its_message_and_sends_nothing() {
    let sb = Sandbox::start().await.unwrap();
    let dir = Workdir::new(&sb);
    let config = valid_config(&sb);

    // The control: the valid file does reach the servers, so zero requests below means the
    // settings were refused, not that nothing could have been recorded.
    let control = Case {
        name: "the valid configuration",
        args: &["--config", "{config}", "plan"],
        config: None,
        env: &[],
        code: 0,
        expect: &[],
    };
    std::fs::write(dir.path("federation.toml"), &config).unwrap();
    let (d, env) = (dir.0.clone(), case_env(&control));
    let args: Vec<String> = ["--config", "federation.toml", "plan"]
        .map(str::to_owned)
        .to_vec();
    let out = tokio::task::spawn_blocking(move || run_cli(&d, &args, &env))
        .await
        .unwrap();
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(
        requests(&sb) > 0,
        "the valid configuration reaches the servers"
    );

    let cases = cases();
    let mut failures = Vec::new();
    for c in &cases {
        if let Some(failure) = run_case(&sb, &dir, &config, c).await {
            failures.push(failure);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    println!(
        "bad input: {} invalid configurations and command lines, each refused with its message and exit 2, 0 requests at the simulated servers",
        cases.len()
    );
}

/// The CLI reports every problem of a file in one go: an unresolved secret, a client setting and
/// the spec's own checks together (it once stopped at the secrets, so the rest showed up only
/// after the first fix).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_problem_of_a_file_is_reported_at_once() {
    use Edit::*;
    let sb = Sandbox::start().await.unwrap();
    let dir = Workdir::new(&sb);
    let config = valid_config(&sb);
    let c = Case {
        name: "every problem of a file at once",
        env: &[("IS_ADMIN_PASSWORD", None)],
        ..case(
            "",
            vec![
                Replace("concurrency = 4", "concurrency = 0"),
                Replace(
                    r#"local = "Internal/subscriber""#,
                    r#"local = "Internal/Subscriber""#,
                ),
            ],
            &[
                "the settings have 3 problem(s); nothing was sent",
                "concurrency: must be at least 1",
                "role names are case-sensitive",
                "is.password: the environment variable IS_ADMIN_PASSWORD (`is.password_env`) is not set",
            ],
        )
    };
    if let Some(failure) = run_case(&sb, &dir, &config, &c).await {
        panic!("{failure}");
    }
}
