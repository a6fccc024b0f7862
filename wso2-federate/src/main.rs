//! `wso2-federate`: make WSO2 Identity Server the OIDC login of WSO2 API Manager, from a
//! configuration file, with a plan first, a crash-safe journal, a run lease on the servers, and
//! rollback.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use secrecy::SecretString;
use serde_json::json;
use tokio::sync::watch;
use wso2_federation::config::{Config, ProcessEnv};
use wso2_federation::engine::Event;
use wso2_federation::engine::journal::{fold, read_intact};
use wso2_federation::plan::Plan;
use wso2_federation::steps::StepSpec;
use wso2_federation::verify::{Report, VerifyOptions};
use wso2_federation::{
    Federation, FederationBuilder, FederationError, Outcome, RecoverReport, RunOptions, SpecError,
    text,
};

mod exit;
mod sandbox;

use exit::{Exit, ExitKind};

const EXIT_CODES: &str = "Exit codes:
  0    done
  1    failed, and the servers are as before (nothing was written, or everything was undone)
  2    bad settings or usage (nothing was sent)
  3    changes remain on the servers (an undo failed, or the run stopped without undoing):
       re-run `rollback` (or `recover`) with the journal
  4    a check failed (doctor, verify); changes are in place
  5    refused: a conflict with objects of someone else's or changed since, a stale plan, another
       run holding the lease, a journal of other servers or settings, no confirmation
  6    a server could not be reached or refused the credentials (nothing was written)
  130  interrupted (Ctrl-C, SIGTERM) and every change undone";

#[derive(Debug, Parser)]
#[command(
    name = "wso2-federate",
    version,
    about = "Make WSO2 Identity Server the OIDC login of WSO2 API Manager, with a plan first and rollback after.",
    after_help = EXIT_CODES
)]
struct Cli {
    /// The configuration file (secrets only through environment variables or files).
    #[arg(long, short, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Run against built-in simulated IS and APIM (WSO2's seed setup), started in this process
    /// and gone when it ends; no configuration file needed.
    #[arg(long, global = true)]
    sandbox: bool,
    /// With --sandbox: the simulated IS release (5.9, 5.10, ... 7.3).
    #[arg(
        long,
        global = true,
        value_name = "X.Y",
        default_value = "5.9",
        requires = "sandbox"
    )]
    is_version: String,
    /// With --sandbox: the simulated APIM release (3.0, 3.1, ... 4.7).
    #[arg(
        long,
        global = true,
        value_name = "X.Y",
        default_value = "3.0",
        requires = "sandbox"
    )]
    apim_version: String,
    /// The journal: every change is recorded there before it is made. Default: one per pair of
    /// servers and marker in the state directory ($WSO2_FEDERATION_STATE_DIR, else
    /// $XDG_STATE_HOME/wso2-federation, else ~/.local/state/wso2-federation); with --sandbox, a
    /// temporary file removed at exit.
    #[arg(long, global = true, value_name = "PATH")]
    journal: Option<PathBuf>,
    /// Use a journal although it was written for other servers or settings.
    #[arg(long, global = true)]
    ignore_journal_binding: bool,
    /// Output format: `json` prints one JSON object on stdout for every outcome, errors included.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    output: Output,
    /// More log output on stderr (-v info, -vv debug and full server texts, -vvv trace).
    /// Secrets never appear.
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Print only the outcome (no plan, no progress).
    #[arg(long, short, global = true)]
    quiet: bool,
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
    /// Make the changes: shows the plan, asks, and applies exactly that plan.
    Apply {
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// Apply this saved plan, refusing it if the servers or settings changed since.
        #[arg(long, value_name = "FILE")]
        plan: Option<PathBuf>,
        /// After applying, run verify.
        #[arg(long)]
        verify: bool,
        /// On a failure or interruption, stop without undoing (the journal keeps what to undo).
        #[arg(long)]
        no_rollback: bool,
        /// Update objects of this federation's even where someone changed them since.
        #[arg(long)]
        force: bool,
    },
    /// Check the federation works: client authentication, callback, optional test login.
    Verify {
        /// A user to log in with (password grant, if the application allows it).
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
    Rollback {
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// Restore and delete even where someone changed an object since.
        #[arg(long)]
        force: bool,
    },
    /// After a crash or an interruption: roll back what the interrupted run did, or finish it
    /// with --finish. Takes over the lease of the crashed run.
    Recover {
        /// Finish the apply instead of rolling it back.
        #[arg(long)]
        finish: bool,
        /// Restore and delete (or update) even where someone changed an object since.
        #[arg(long)]
        force: bool,
    },
    /// Remove what this federation made and restore the portals, from the journal.
    Destroy {
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// Restore and delete even where someone changed an object since.
        #[arg(long)]
        force: bool,
    },
    /// Break the run lease on the servers: an expired one, or (with --force) any.
    Unlock {
        /// Break it even if it has not expired (only when its run is known dead).
        #[arg(long)]
        force: bool,
    },
    /// Show what the journal records: its runs, and what is still to undo.
    Journal,
}

impl Command {
    fn name(&self) -> &'static str {
        match self {
            Self::Doctor => "doctor",
            Self::Plan { .. } => "plan",
            Self::Apply { .. } => "apply",
            Self::Verify { .. } => "verify",
            Self::Rollback { .. } => "rollback",
            Self::Recover { .. } => "recover",
            Self::Destroy { .. } => "destroy",
            Self::Unlock { .. } => "unlock",
            Self::Journal => "journal",
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = match (cli.verbose, cli.quiet) {
        (_, true) => tracing::Level::ERROR,
        (0, _) => tracing::Level::WARN,
        (1, _) => tracing::Level::INFO,
        (2, _) => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let output = cli.output;
    let command = cli.command.name();
    let verbose = cli.verbose;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            let exit = Exit::new(
                ExitKind::Failed,
                format!("cannot start the async runtime: {e}"),
            );
            return exit.report(output, command, verbose);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(result) => {
            if output == Output::Json {
                exit::print_json(&json!({
                    "ok": true,
                    "exit_code": 0,
                    "command": command,
                    "result": result,
                    "error": null,
                }));
            }
            ExitCode::SUCCESS
        }
        Err(exit) => exit.report(output, command, verbose),
    }
}

/// What a run works on, and what keeps its servers alive.
struct Target {
    federation: Federation,
    sandbox: Option<sandbox::Sandboxed>,
    test_login: Option<(String, SecretString)>,
}

async fn target(cli: &Cli) -> Result<Target, Exit> {
    if cli.sandbox {
        return sandbox::start(cli).await;
    }
    let Some(path) = &cli.config else {
        return Err(Exit::new(
            ExitKind::Usage,
            "give a configuration file with --config FILE, or run the sandbox with --sandbox",
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
    let is = match is.map(|c| c.build()) {
        Some(Ok(c)) => Some(c),
        Some(Err(e)) => {
            return Err(Exit::from_chain(
                ExitKind::Settings,
                "is: the client settings are invalid",
                &e,
            ));
        }
        None => None,
    };
    let apim = match apim.map(|c| c.build()) {
        Some(Ok(c)) => Some(c),
        Some(Err(e)) => {
            return Err(Exit::from_chain(
                ExitKind::Settings,
                "apim: the client settings are invalid",
                &e,
            ));
        }
        None => None,
    };
    let (has_is, has_apim) = (is.is_some(), apim.is_some());
    let mut builder: FederationBuilder = builder;
    if let Some(c) = is {
        builder = builder.is(c);
    }
    if let Some(c) = apim {
        builder = builder.apim(c);
    }
    if let Some(j) = &cli.journal {
        builder = builder.journal(j);
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

/// Prints progress lines for events (not with `--output json` or `-q`).
fn progress(cli: &Cli) -> Option<wso2_federation::engine::EventSink> {
    if cli.output == Output::Json || cli.quiet {
        return None;
    }
    Some(Arc::new(|event: &Event| {
        let line = match event {
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
            _ => return,
        };
        eprintln!("{line}");
    }))
}

/// Installs the Ctrl-C / SIGTERM handler: the first signal asks the run to stop (steps in
/// flight settle and are journaled, then everything is undone); a second ends the process at
/// once (the journal says what to undo: run `recover`).
fn interruption() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let mut count = 0;
        loop {
            wait_signal().await;
            count += 1;
            if count == 1 {
                eprintln!(
                    "interrupted: finishing the requests in flight, then undoing every change (a second Ctrl-C stops at once; then run `recover`)"
                );
                let _ = tx.send(true);
            } else {
                eprintln!(
                    "stopped at once: the journal records what to undo; run `recover` with it"
                );
                std::process::exit(130);
            }
        }
    });
    rx
}

async fn wait_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        match term {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn confirm(question: &str, listing: &str, yes: bool) -> Result<(), Exit> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Exit::new(
            ExitKind::Refused,
            format!(
                "{question}: refused without --yes (stdin is not a terminal); nothing was changed"
            ),
        ));
    }
    if !listing.is_empty() {
        eprintln!("{listing}");
    }
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| Exit::new(ExitKind::Failed, e.to_string()))?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(Exit::new(
            ExitKind::Refused,
            "not confirmed; nothing was changed",
        ))
    }
}

fn report_exit(report: &Report, cli: &Cli, title: &str) -> Result<serde_json::Value, Exit> {
    if cli.output == Output::Text && !cli.quiet {
        println!("{title}:\n{report}");
    }
    if report.is_ok() {
        Ok(serde_json::to_value(report).unwrap_or_default())
    } else {
        Err(
            Exit::new(ExitKind::CheckFailed, format!("{title} found problems"))
                .with_result(serde_json::to_value(report).unwrap_or_default()),
        )
    }
}

fn show_plan(plan: &Plan, cli: &Cli) {
    if cli.output == Output::Text && !cli.quiet {
        println!("{plan}");
    }
}

/// What `rollback` (the last run) / `destroy` (every run) would remove or restore, from the
/// journal (reads only).
fn pending_listing(fed: &Federation, everything: bool) -> Result<String, Exit> {
    let pending = fed.pending(everything)?;
    if pending.is_empty() {
        return Ok("The journal records nothing left to undo.".into());
    }
    let mut s = format!(
        "From the journal {}, this will be undone:",
        fed.journal().display()
    );
    for (step, state) in pending {
        let what = match state.pending_undo() {
            Some(wso2_federation::engine::Effect::Created { .. }) => {
                "delete (created by this federation)"
            }
            Some(wso2_federation::engine::Effect::Updated { .. }) => {
                "restore (changed by this federation)"
            }
            Some(_) => {
                "settle (outcome unknown: read back, undone only if proven this federation's)"
            }
            None => continue,
        };
        s.push_str(&format!("\n  {step}: {what}"));
    }
    Ok(s)
}

async fn run(cli: Cli) -> Result<serde_json::Value, Exit> {
    let target = target(&cli).await?;
    let fed = &target.federation;
    let mut options = RunOptions::new();
    options.ignore_journal_binding = cli.ignore_journal_binding;
    if let Some(sink) = progress(&cli) {
        options = options.events(sink);
    }
    let text_out = cli.output == Output::Text && !cli.quiet;
    let result = match &cli.command {
        Command::Doctor => report_exit(&fed.doctor().await, &cli, "Doctor")?,
        Command::Plan { out } => {
            let plan = fed.plan().await?;
            if let Some(path) = out {
                let json = serde_json::to_string_pretty(&plan)
                    .map_err(|e| Exit::new(ExitKind::Failed, e.to_string()))?;
                std::fs::write(path, json).map_err(|e| {
                    Exit::new(
                        ExitKind::Failed,
                        format!("cannot write {}: {e}", path.display()),
                    )
                })?;
            }
            show_plan(&plan, &cli);
            serde_json::to_value(&plan).unwrap_or_default()
        }
        Command::Apply {
            yes,
            plan,
            verify,
            no_rollback,
            force,
        } => {
            let plan = match plan {
                Some(path) => {
                    let bytes = wso2_federation::config::read_file(path, 16 * 1024 * 1024)
                        .map_err(|m| Exit::new(ExitKind::Usage, m))?;
                    serde_json::from_slice::<Plan>(&bytes).map_err(|e| {
                        Exit::new(
                            ExitKind::Usage,
                            format!("{} is not a plan: {e}", path.display()),
                        )
                    })?
                }
                None => fed.plan().await?,
            };
            show_plan(&plan, &cli);
            if plan.is_empty() {
                if text_out {
                    println!("Nothing to change.");
                }
            } else {
                confirm("Apply this plan?", "", *yes || target.sandbox.is_some())?;
            }
            options.no_rollback = *no_rollback;
            options.force = *force;
            options.cancel = Some(interruption());
            if text_out {
                println!("Applying (journal: {}):", fed.journal().display());
            }
            let report = fed.apply_plan(&plan, &options).await?;
            if text_out {
                println!("Applied.");
            }
            let mut result = json!({ "apply": report });
            if *verify || target.sandbox.is_some() {
                let vo = VerifyOptions {
                    test_login: target.test_login.clone(),
                    fix_client_auth: false,
                };
                let report = fed.verify(&vo).await?;
                result["verify"] = report_exit(&report, &cli, "Verify")
                    .map_err(|e| e.with_result(result.clone()))?;
            }
            if let Some(sb) = &target.sandbox
                && text_out
            {
                sb.print_final_state(fed).await?;
            }
            result
        }
        Command::Verify {
            test_user,
            test_password_env,
            fix_client_auth,
        } => {
            let test_login = match (test_user, test_password_env) {
                (Some(u), Some(var)) => {
                    let pw = std::env::var(var).map_err(|_| {
                        Exit::new(
                            ExitKind::Usage,
                            format!(
                                "--test-password-env: the environment variable {var} is not set"
                            ),
                        )
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
            report_exit(&fed.verify(&vo).await?, &cli, "Verify")?
        }
        Command::Rollback { yes, force } => {
            confirm("Undo these changes?", &pending_listing(fed, false)?, *yes)?;
            options.force = *force;
            let report = fed.rollback(&options).await?;
            if text_out {
                println!(
                    "Rolled back: everything recorded in {} is undone.",
                    fed.journal().display()
                );
            }
            serde_json::to_value(&report).unwrap_or_default()
        }
        Command::Recover { finish, force } => {
            options.force = *force;
            let report = fed.recover(&options, *finish).await?;
            if text_out {
                match &report {
                    RecoverReport::NothingToRecover { released_lease } => {
                        println!(
                            "Nothing to recover: the journal records no unfinished run and nothing left to undo."
                        );
                        if let Some(h) = released_lease {
                            println!("The lease left by a run that died ({h}) is released.");
                        }
                    }
                    RecoverReport::RolledBack(_) => {
                        println!("Recovered: the interrupted run is rolled back.")
                    }
                    RecoverReport::Finished(_) => {
                        println!("Recovered: the interrupted apply is finished.")
                    }
                }
            }
            serde_json::to_value(&report).unwrap_or_default()
        }
        Command::Destroy { yes, force } => {
            confirm(
                "Remove what this federation made and restore the portals?",
                &pending_listing(fed, true)?,
                *yes,
            )?;
            options.force = *force;
            let report = fed.destroy(&options).await?;
            if text_out {
                println!(
                    "Destroyed: everything this federation made is removed, and what it changed restored."
                );
            }
            serde_json::to_value(&report).unwrap_or_default()
        }
        Command::Unlock { force } => {
            let holder = fed.unlock(*force).await?;
            if text_out {
                match &holder {
                    Some(h) => println!("Unlocked: the lease held by {h} is broken."),
                    None => println!("Nobody holds the lease."),
                }
            }
            serde_json::to_value(&holder).unwrap_or_default()
        }
        Command::Journal => journal_report(fed, &cli)?,
    };
    Ok(result)
}

/// Lists what the journal records, even from its intact part when it is damaged.
fn journal_report(fed: &Federation, cli: &Cli) -> Result<serde_json::Value, Exit> {
    let path = fed.journal();
    if !path.exists() {
        return Err(FederationError::NoJournal {
            journal: path.to_path_buf(),
        }
        .into());
    }
    let (contents, damage) = read_intact(path).map_err(FederationError::from)?;
    let folded = fold::<StepSpec>(path, &contents).map_err(FederationError::from)?;
    let pending: Vec<_> = folded
        .pending_undo()
        .map(|(s, e)| json!({"step": s.id, "effect": e.verb()}))
        .collect();
    if cli.output == Output::Text && !cli.quiet {
        println!("Journal {}:", path.display());
        for r in &folded.runs {
            println!(
                "  run {} {} at {} by {} pid {}: {}",
                r.run,
                r.operation,
                r.at,
                text::clean(&r.host, 100),
                r.pid,
                r.outcome
                    .map_or("never finished".to_owned(), |o| format!("{o:?}"))
            );
        }
        if pending.is_empty() {
            println!("  nothing left to undo");
        }
        for (s, e) in folded.pending_undo() {
            println!("  to undo: {}: {}", s.id, e.verb());
        }
        if let Some(d) = &damage {
            println!("  DAMAGED: {}", text::clean(&d.to_string(), text::SHOWN));
        }
    }
    let result = json!({
        "journal": path,
        "runs": folded.runs,
        "pending": pending,
        "damage": damage.as_ref().map(ToString::to_string),
    });
    match damage {
        Some(d) => Err(
            Exit::from_chain(ExitKind::Refused, "the journal is damaged", &d).with_result(result),
        ),
        None => Ok(result),
    }
}

impl From<SpecError> for Exit {
    fn from(e: SpecError) -> Self {
        Exit::new(ExitKind::Settings, e.to_string())
    }
}

impl From<FederationError> for Exit {
    fn from(e: FederationError) -> Self {
        let kind = match e.outcome() {
            Outcome::BadSettings => ExitKind::Settings,
            Outcome::FailedBackAtStart => match &e {
                FederationError::Interrupted { .. } => ExitKind::Interrupted,
                _ => ExitKind::Failed,
            },
            Outcome::ChangesRemain | Outcome::Stopped => ExitKind::ChangesRemain,
            Outcome::Refused => ExitKind::Refused,
            Outcome::Unreachable => ExitKind::Unreachable,
            _ => ExitKind::Failed,
        };
        let result = e
            .report()
            .map(|r| serde_json::to_value(r).unwrap_or_default());
        let exit = Exit::from_federation(kind, &e);
        match result {
            Some(r) => exit.with_result(r),
            None => exit,
        }
    }
}
