//! `wso2-federate`: make WSO2 Identity Server the OIDC login of WSO2 API Manager, from a
//! configuration file, with a plan first and a rollback journal.
//!
//! Exit codes: 0 done; 1 the operation failed and every change was undone; 2 bad usage or
//! settings (nothing was sent); 3 an undo failed (re-run `rollback` with the journal); 4 a check
//! failed (doctor, verify); 5 refused (a stale plan, a name conflict, no confirmation).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use secrecy::SecretString;
use wso2_apim_client::ApimClient;
use wso2_federation::config::{Config, ProcessEnv};
use wso2_federation::engine::{Effect, Event};
use wso2_federation::plan::Plan;
use wso2_federation::verify::{Report, VerifyOptions};
use wso2_federation::{Federation, FederationBuilder, FederationError, RunOptions, SpecError};
use wso2_is_client::IsClient;

#[derive(Debug, Parser)]
#[command(
    name = "wso2-federate",
    version,
    about = "Make WSO2 Identity Server the OIDC login of WSO2 API Manager, with a plan first and rollback after."
)]
struct Cli {
    /// The configuration file (secrets only through environment variables or files).
    #[arg(long, short, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Run against the built-in simulated IS and APIM (the seed setup of WSO2's guide), started
    /// in this process; no configuration file needed.
    #[arg(long, global = true)]
    sandbox: bool,
    /// The journal: every change is recorded there before it is made. Keep it for rollback,
    /// recover and destroy. Default `wso2-federation.journal` (with --sandbox, a file in the
    /// temporary directory, since the simulated servers live only as long as the command).
    #[arg(long, global = true, value_name = "PATH")]
    journal: Option<PathBuf>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    output: Output,
    /// More log output on stderr (-v info, -vv debug, -vvv trace). Secrets never appear.
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Preflight checks, reads only.
    Doctor,
    /// Show what apply would change (reads only).
    Plan {
        /// Also write the plan as JSON, for `apply --plan`.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Make the changes (after showing the plan).
    Apply {
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// Apply this saved plan, refusing it if the servers changed since.
        #[arg(long, value_name = "FILE")]
        plan: Option<PathBuf>,
        /// After applying, run verify (with the first configured user as test login when the
        /// password grant is allowed).
        #[arg(long)]
        verify: bool,
    },
    /// Check the federation works: client authentication, callback, optional test login.
    Verify {
        /// A user to log in with (password grant).
        #[arg(long, value_name = "USER", requires = "test_password_env")]
        test_user: Option<String>,
        /// The environment variable holding the test user's password.
        #[arg(long, value_name = "VAR")]
        test_password_env: Option<String>,
        /// On the MutualTLS conflict, switch the identity provider to Basic-only.
        #[arg(long)]
        fix_client_auth: bool,
    },
    /// Undo every change recorded in the journal that is not undone yet.
    Rollback,
    /// After a crash: roll back what the interrupted run did, or finish it with --finish.
    Recover {
        /// Finish the apply instead of rolling it back.
        #[arg(long)]
        finish: bool,
    },
    /// Remove what this federation made and restore the portals, from the journal.
    Destroy {
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

/// A failure with its exit code, printed once.
struct Exit(u8, String);

impl From<SpecError> for Exit {
    fn from(e: SpecError) -> Self {
        Exit(2, e.to_string())
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(c) = source {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        source = c.source();
    }
    s
}

impl From<FederationError> for Exit {
    fn from(e: FederationError) -> Self {
        let code = match &e {
            FederationError::Spec(_) => 2,
            FederationError::RolledBack { .. } => 1,
            FederationError::RollbackIncomplete { .. } => 3,
            FederationError::StalePlan { .. } | FederationError::Conflict { .. } => 5,
            FederationError::Is(e) if e.dispatch() == wso2_is_client::Dispatch::NotSent => 2,
            _ => 1,
        };
        Exit(code, chain(&e))
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = match cli.verbose {
        0 => tracing::Level::WARN,
        1 => tracing::Level::INFO,
        2 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Exit(code, message)) => {
            eprintln!("error: {message}");
            ExitCode::from(code)
        }
    }
}

/// The federation to work on, and what keeps its servers alive.
struct Target {
    federation: Federation,
    sandbox: Option<wso2_testkit::Sandbox>,
    test_login: Option<(String, SecretString)>,
}

async fn target(cli: &Cli) -> Result<Target, Exit> {
    if cli.sandbox {
        return sandbox_target(cli).await;
    }
    let Some(path) = &cli.config else {
        return Err(Exit(
            2,
            "give a configuration file with --config FILE, or run the sandbox with --sandbox"
                .into(),
        ));
    };
    let config = Config::load(path)?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let env = ProcessEnv;
    // Every problem of the file at once: unresolved secrets, client settings, and the spec's
    // own checks (run with placeholders for what could not be resolved).
    let (builder, mut problems) = config.to_builder_all(&env, &base);
    let is = config
        .client_builder("is", &env, &base)
        .map_err(|p| problems.extend(p))
        .ok();
    let apim = config
        .client_builder("apim", &env, &base)
        .map_err(|p| problems.extend(p))
        .ok();
    let is: Option<IsClient> = match is.map(|c| c.build()) {
        Some(Ok(c)) => Some(c),
        Some(Err(e)) => return Err(Exit(2, format!("is: {}", chain(&e)))),
        None => None,
    };
    let apim: Option<ApimClient> = match apim.map(|c| c.build()) {
        Some(Ok(c)) => Some(c),
        Some(Err(e)) => return Err(Exit(2, format!("apim: {}", chain(&e)))),
        None => None,
    };
    let (has_is, has_apim) = (is.is_some(), apim.is_some());
    let mut builder = builder;
    if let Some(c) = is {
        builder = builder.is(c);
    }
    if let Some(c) = apim {
        builder = builder.apim(c);
    }
    let federation = match builder.build() {
        Ok(f) => Some(f),
        Err(e) => {
            // A missing client was already reported through its settings.
            problems.extend(
                e.problems
                    .into_iter()
                    .filter(|p| (p.field != "is" || has_is) && (p.field != "apim" || has_apim)),
            );
            None
        }
    };
    let federation = match federation {
        Some(f) if problems.is_empty() => f,
        _ => return Err(SpecError { problems }.into()),
    };
    // `apply --verify` logs in as the first configured user whose password is in the environment.
    let test_login = config.users.iter().find_map(|u| {
        let password = std::env::var(u.password_env.as_ref()?).ok()?;
        Some((u.name.clone(), SecretString::from(password)))
    });
    Ok(Target {
        federation,
        sandbox: None,
        test_login,
    })
}

/// The seed setup of WSO2's guide against the in-process simulated servers: users api_publisher
/// and api_user (passwords generated, never shown), roles publisher_role and user_role mapped to
/// Internal/publisher and Internal/subscriber.
async fn sandbox_target(cli: &Cli) -> Result<Target, Exit> {
    if cli.config.is_some() {
        return Err(Exit(
            2,
            "--sandbox runs the built-in seed setup; leave out --config".into(),
        ));
    }
    let sandbox = wso2_testkit::Sandbox::start()
        .await
        .map_err(|e| Exit(1, format!("cannot start the sandbox: {e}")))?;
    fn client<C: wso2_is_client::FromCarbon>(
        server: &wso2_testkit::SimServer,
        ca_pem: &str,
    ) -> wso2_is_client::ClientBuilder<C> {
        let admin = server.admin();
        wso2_is_client::ClientBuilder::new(server.base_url())
            .credentials(admin.username, admin.password)
            .ca_pem(ca_pem.as_bytes().to_vec())
    }
    let is: IsClient = client(sandbox.is(), sandbox.ca_pem())
        .build()
        .map_err(|e| Exit(1, chain(&e)))?;
    let apim: ApimClient = client(sandbox.apim(), sandbox.ca_pem())
        .build()
        .map_err(|e| Exit(1, chain(&e)))?;
    let password = || -> Result<SecretString, Exit> {
        let mut bytes = [0u8; 10];
        getrandom_fill(&mut bytes)?;
        Ok(SecretString::from(format!(
            "Pw-{}",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        )))
    };
    let publisher_pw = password()?;
    let builder: FederationBuilder = Federation::builder()
        .is(is)
        .apim(apim)
        .role("publisher_role")
        .role("user_role")
        .user("api_publisher", publisher_pw.clone(), ["publisher_role"])
        .user("api_user", password()?, ["user_role"])
        .map_role("publisher_role", "Internal/publisher")
        .map_role("user_role", "Internal/subscriber")
        .grant_types(["authorization_code", "refresh_token", "password"]);
    println!(
        "Sandbox: simulated IS at {}, APIM at {} (private CA, TLS verified)",
        sandbox.is().base_url(),
        sandbox.apim().base_url()
    );
    Ok(Target {
        federation: builder.build()?,
        sandbox: Some(sandbox),
        test_login: Some(("api_publisher".into(), publisher_pw)),
    })
}

fn getrandom_fill(bytes: &mut [u8]) -> Result<(), Exit> {
    getrandom::fill(bytes)
        .map_err(|e| Exit(1, format!("no randomness from the operating system: {e}")))
}

fn progress(output: Output) -> Option<wso2_federation::engine::EventSink> {
    if output == Output::Json {
        return None;
    }
    Some(Arc::new(|event: &Event| {
        let line = match event {
            Event::StepStarted { step } => format!("  ... {step}"),
            Event::StepSucceeded { step, effect } => {
                let what = match effect {
                    Effect::Created => "created",
                    Effect::Updated { .. } => "updated",
                    Effect::Adopted => "adopted",
                    Effect::Unchanged => "unchanged",
                    Effect::Deleted => "deleted",
                    Effect::Unknown { .. } => "outcome unknown",
                };
                format!("  ok  {step}: {what}")
            }
            Event::StepFailed { step, error } => format!("  FAIL {step}: {error}"),
            Event::UndoStarted { step } => format!("  ... undo {step}"),
            Event::Undone { step } => format!("  ok  undo {step}"),
            Event::UndoFailed { step, error } => format!("  FAIL undo {step}: {error}"),
            _ => return,
        };
        println!("{line}");
    }))
}

fn print_json<T: serde::Serialize>(value: &T) -> Result<(), Exit> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Exit(1, e.to_string()))?;
    println!("{text}");
    Ok(())
}

fn confirm(question: &str, yes: bool) -> Result<(), Exit> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Exit(
            5,
            format!("{question}: refused without --yes (stdin is not a terminal)"),
        ));
    }
    println!("{question} [y/N]");
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| Exit(1, e.to_string()))?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(Exit(5, "not confirmed; nothing was changed".into()))
    }
}

fn report_exit(report: &Report, output: Output, title: &str) -> Result<(), Exit> {
    if output == Output::Json {
        print_json(report)?;
    } else {
        println!("{title}:\n{report}");
    }
    if report.is_ok() {
        Ok(())
    } else {
        Err(Exit(4, format!("{title} found problems")))
    }
}

async fn run(mut cli: Cli) -> Result<(), Exit> {
    let journal = match (&cli.journal, cli.sandbox) {
        (Some(path), _) => path.clone(),
        (None, false) => PathBuf::from("wso2-federation.journal"),
        (None, true) => std::env::temp_dir().join(format!(
            "wso2-federation-sandbox-{}.journal",
            std::process::id()
        )),
    };
    cli.journal = Some(journal.clone());
    let options = {
        let mut o = RunOptions::new(&journal);
        if let Some(sink) = progress(cli.output) {
            o = o.events(sink);
        }
        o
    };
    let target = target(&cli).await?;
    let fed = &target.federation;
    let before = target.sandbox.as_ref().map(wso2_testkit::Sandbox::snapshot);
    match &cli.command {
        Command::Doctor => report_exit(&fed.doctor().await, cli.output, "Doctor")?,
        Command::Plan { out } => {
            let plan = fed.plan().await?;
            if let Some(path) = out {
                let json =
                    serde_json::to_string_pretty(&plan).map_err(|e| Exit(1, e.to_string()))?;
                std::fs::write(path, json)
                    .map_err(|e| Exit(1, format!("cannot write {}: {e}", path.display())))?;
            }
            show_plan(&plan, cli.output)?;
        }
        Command::Apply { yes, plan, verify } => {
            let saved: Option<Plan> =
                match plan {
                    Some(path) => {
                        let text = std::fs::read_to_string(path)
                            .map_err(|e| Exit(2, format!("cannot read {}: {e}", path.display())))?;
                        Some(serde_json::from_str(&text).map_err(|e| {
                            Exit(2, format!("{} is not a plan: {e}", path.display()))
                        })?)
                    }
                    None => None,
                };
            let shown = match &saved {
                Some(p) => p.clone(),
                None => fed.plan().await?,
            };
            show_plan(&shown, cli.output)?;
            if shown.is_empty() && cli.output == Output::Text {
                println!("Nothing to change.");
            }
            confirm("Apply these changes?", *yes || target.sandbox.is_some())?;
            if cli.output == Output::Text {
                println!("Applying (journal: {}):", journal.display());
            }
            let report = match &saved {
                Some(p) => fed.apply_plan(p, &options).await?,
                None => fed.apply(&options).await?,
            };
            if cli.output == Output::Json {
                print_json(&report)?;
            } else {
                println!("Applied.");
            }
            if *verify || target.sandbox.is_some() {
                let vo = VerifyOptions {
                    test_login: target.test_login.clone(),
                    fix_client_auth: false,
                };
                report_exit(&fed.verify(&vo).await?, cli.output, "Verify")?;
            }
            if let (Some(sb), Some(before), Output::Text) = (&target.sandbox, &before, cli.output) {
                println!(
                    "Final state (changes on the simulated servers):\n{}",
                    before.diff(&sb.snapshot())
                );
                let again = fed.plan().await?;
                println!(
                    "A second plan: {}",
                    if again.is_empty() {
                        "nothing to change"
                    } else {
                        "changes pending"
                    }
                );
            }
        }
        Command::Verify {
            test_user,
            test_password_env,
            fix_client_auth,
        } => {
            let test_login = match (test_user, test_password_env) {
                (Some(u), Some(var)) => {
                    let pw = std::env::var(var).map_err(|_| {
                        Exit(2, format!("the environment variable {var} is not set"))
                    })?;
                    Some((u.clone(), SecretString::from(pw)))
                }
                _ => target
                    .test_login
                    .clone()
                    .filter(|_| target.sandbox.is_some()),
            };
            let vo = VerifyOptions {
                test_login,
                fix_client_auth: *fix_client_auth,
            };
            report_exit(&fed.verify(&vo).await?, cli.output, "Verify")?;
        }
        Command::Rollback => {
            let report = fed.rollback(&options).await?;
            if cli.output == Output::Json {
                print_json(&report)?
            } else {
                println!(
                    "Rolled back: everything recorded in {} is undone.",
                    journal.display()
                )
            }
        }
        Command::Recover { finish } => {
            let report = fed.recover(&options, *finish).await?;
            if cli.output == Output::Json {
                print_json(&report)?
            } else if *finish {
                println!("Recovered: the apply is finished.")
            } else {
                println!("Recovered: the interrupted run is rolled back.")
            }
        }
        Command::Destroy { yes } => {
            confirm(
                "Remove what this federation made and restore the portals?",
                *yes,
            )?;
            let report = fed.destroy(&options).await?;
            if cli.output == Output::Json {
                print_json(&report)?
            } else {
                println!("Destroyed: the servers are as before the federation.")
            }
        }
    }
    Ok(())
}

fn show_plan(plan: &Plan, output: Output) -> Result<(), Exit> {
    if output == Output::Json {
        print_json(plan)
    } else {
        println!("{plan}");
        Ok(())
    }
}
