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
use wso2_federation::engine::journal::{fold, read_intact};
use wso2_federation::plan::Plan;
use wso2_federation::steps::StepSpec;
use wso2_federation::verify::{Report, VerifyOptions};
use wso2_federation::{
    Federation, FederationBuilder, FederationError, Outcome, RecoverReport, RunOptions, SpecError,
    text,
};

mod exit;
mod progress;
mod sandbox;

use exit::{Exit, ExitKind};
use progress::{Progress, Style};

/// The exit-code table, as `--help` prints it (the README holds the same text; a test checks).
const EXIT_CODES: &str = "Exit codes:
  0    done
  1    failed, and the servers are as before (nothing was written, or everything was undone)
  2    bad settings or usage (nothing was sent)
  3    changes remain on the servers (an undo failed, or the run stopped without undoing):
       re-run `rollback` (or `recover`) with the journal
  4    a check failed (doctor, verify); changes are in place
  5    refused: a conflict with objects of someone else's or changed since, a stale plan, another
       run holding the lease, an unfinished run in the journal, a journal of other servers or
       settings, no confirmation
  6    a server could not be reached or refused the credentials (nothing was written)
  130  interrupted (Ctrl-C, SIGTERM) and every change undone (with --no-rollback: 3)";

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
        /// Do not ask for confirmation (needed when stdin is not a terminal).
        #[arg(long)]
        yes: bool,
        /// Apply this saved plan (from `plan --out`): exactly its values, without asking again,
        /// refusing it if the servers or settings changed since.
        #[arg(long, value_name = "FILE")]
        plan: Option<PathBuf>,
        /// After applying, run verify.
        #[arg(long)]
        verify: bool,
        /// With --verify: log in as each user of the settings the way a browser does (portal,
        /// APIM, IS's login page, back to the portal) and prove its portal rights.
        #[arg(long, requires = "verify")]
        login: bool,
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
        /// Log in as each user of the settings the way a browser does (portal, APIM, IS's login
        /// page, back to the portal), report every hop, and prove its portal rights; a broken
        /// login names the setting to fix.
        #[arg(long)]
        login: bool,
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
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
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
            return exit.report(output, Some(command), verbose);
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
        Err(exit) => exit.report(output, Some(command), verbose),
    }
}

/// A command line clap refused: help and version are printed as asked; a usage error is
/// clap's text (exit 2), or with `--output json` one JSON object like every other outcome.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args
        .windows(2)
        .any(|w| w[0] == "--output" && w[1] == "json")
        || args.iter().any(|a| a == "--output=json");
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) || !json {
        e.exit();
    }
    let rendered = e.render().to_string();
    let message = rendered
        .lines()
        .next()
        .unwrap_or("bad command line")
        .trim_start_matches("error: ")
        .to_owned();
    let command = args.iter().find_map(|a| {
        [
            "doctor", "plan", "apply", "verify", "rollback", "recover", "destroy", "unlock",
            "journal",
        ]
        .into_iter()
        .find(|c| c == a)
    });
    Exit::new(
        ExitKind::Usage,
        format!("{message} (see `wso2-federate --help`)"),
    )
    .report(Output::Json, command, 0)
}

/// What the command prints on stdout: the result (also with `-q`), and the details (the plan,
/// the findings) unless `-q`; nothing with `--output json` (one object at the end instead).
#[derive(Debug, Clone, Copy)]
struct Out {
    text: bool,
    quiet: bool,
}

impl Out {
    fn new(cli: &Cli) -> Self {
        Self {
            text: cli.output == Output::Text,
            quiet: cli.quiet,
        }
    }

    /// Details: shown unless `-q`.
    fn detail(self, text: impl std::fmt::Display) {
        if self.text && !self.quiet {
            println!("{text}");
        }
    }

    /// The outcome: shown also with `-q`.
    fn result(self, text: impl std::fmt::Display) {
        if self.text {
            println!("{text}");
        }
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
        Some(Err(e)) => return Err(client_settings("is", &config.is.url, &e)),
        None => None,
    };
    let apim = match apim.map(|c| c.build()) {
        Some(Ok(c)) => Some(c),
        Some(Err(e)) => return Err(client_settings("apim", &config.apim.url, &e)),
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

/// A server's client settings the client refused, named as in the settings file (`is.url`,
/// `is.allow_http`, `is.ca_pem`) rather than as the client's builder methods.
fn client_settings(which: &str, url: &str, e: &wso2_is_client::Error) -> Exit {
    let problem = match e {
        wso2_is_client::Error::InvalidInput(i) if i.field == "base_url" => {
            let reason = if i.reason.contains("allow_http") {
                format!(
                    "{url:?} uses plain http: the admin password would cross the network in clear; use https, or set `{which}.allow_http = true` (test servers only)"
                )
            } else if i.reason.contains("credentials") {
                format!(
                    "must not hold credentials (user:password@); give them as `{which}.username` and `{which}.password_env`"
                )
            } else {
                i.reason.clone()
            };
            format!("{which}.url: {reason}")
        }
        wso2_is_client::Error::Config { message, .. }
            if message.contains("trusted certificate") =>
        {
            format!("{which}.ca_pem: {message}")
        }
        _ => {
            return Exit::from_chain(
                ExitKind::Settings,
                &format!("[{which}]: the client settings are invalid (nothing was sent)"),
                e,
            );
        }
    };
    Exit::new(
        ExitKind::Settings,
        "the settings have 1 problem(s); nothing was sent",
    )
    .with_causes([problem])
}

/// The sandbox's temporary journal directory, removed also when a second signal ends the
/// process at once.
static SANDBOX_DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Installs the Ctrl-C / SIGTERM handler (registered before this returns, so no signal is
/// missed once the run starts): the first signal asks the run to stop (steps in flight settle
/// and are journaled, then everything is undone, or with `--no-rollback` the run stops); a
/// second ends the process at once (the journal says what to undo: run `recover`).
fn interruption(progress: Arc<Progress>, no_rollback: bool) -> Result<watch::Receiver<bool>, Exit> {
    let (tx, rx) = watch::channel(false);
    let mut signals = Signals::new().map_err(|e| {
        Exit::new(
            ExitKind::Failed,
            format!("cannot install the Ctrl-C / SIGTERM handler: {e}; nothing was changed"),
        )
    })?;
    tokio::spawn(async move {
        let mut count = 0;
        loop {
            signals.recv().await;
            count += 1;
            if count == 1 {
                progress.notice(if no_rollback {
                    "interrupted: no new step starts; finishing the requests in flight, then stopping without undoing (--no-rollback); a second Ctrl-C stops at once"
                } else {
                    "interrupted: no new step starts; finishing the requests in flight, then undoing every change; a second Ctrl-C stops at once"
                });
                let _ = tx.send(true);
            } else {
                progress.notice(
                    "stopped at once: the journal records what may have changed; run `wso2-federate recover` with the same settings and journal (exit 130)",
                );
                if let Some(dir) = SANDBOX_DIR.get() {
                    let _ = std::fs::remove_dir_all(dir);
                }
                std::process::exit(130);
            }
        }
    });
    Ok(rx)
}

/// SIGINT and SIGTERM (Ctrl-C elsewhere).
struct Signals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                int: signal(SignalKind::interrupt())?,
                term: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Self {})
        }
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.int.recv() => {}
                _ = self.term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Asks `question` on the terminal after showing `listing`; `--yes` answers yes. Without a
/// terminal and without `--yes`, refuses (exit 5) and still shows the listing.
fn confirm(command: &str, question: &str, listing: &str, yes: bool) -> Result<(), Exit> {
    if yes {
        return Ok(());
    }
    if !listing.is_empty() {
        eprintln!("{listing}");
    }
    if !std::io::stdin().is_terminal() {
        return Err(Exit::new(
            ExitKind::Refused,
            format!(
                "{command}: not confirmed: stdin is not a terminal, so nobody can answer; pass `--yes` to {command} without asking; nothing was changed"
            ),
        ));
    }
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).map_err(|e| {
        Exit::new(
            ExitKind::Failed,
            format!("{command}: cannot read the answer: {e}"),
        )
    })?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(Exit::new(
            ExitKind::Refused,
            format!("{command}: not confirmed (answer `y`, or pass `--yes`); nothing was changed"),
        ))
    }
}

/// Prints a doctor or verify report and turns a failed check into its exit: 6 when a server
/// could not be reached or refused the credentials (doctor's connection checks), else 4.
fn report_exit(report: &Report, out: Out, title: &str) -> Result<serde_json::Value, Exit> {
    let text = report.to_string();
    out.detail(format_args!("{title}:\n{text}"));
    if out.quiet {
        // The result line: "N checks, M failed".
        out.result(format_args!(
            "{title}: {}",
            text.lines().last().unwrap_or_default()
        ));
    }
    let value = serde_json::to_value(report).unwrap_or_default();
    if report.is_ok() {
        return Ok(value);
    }
    let failed: Vec<&wso2_federation::verify::Finding> = report
        .findings
        .iter()
        .filter(|f| f.status == wso2_federation::verify::Status::Fail)
        .collect();
    let unreachable = failed
        .iter()
        .any(|f| f.check == "IS connection" || f.check == "APIM connection");
    let (kind, what) = if unreachable {
        (
            ExitKind::Unreachable,
            "a server could not be reached or refused the credentials",
        )
    } else {
        (ExitKind::CheckFailed, "a check failed")
    };
    let mut exit = Exit::new(
        kind,
        format!(
            "{}: {what} ({} of {} checks failed{})",
            title.to_lowercase(),
            failed.len(),
            report.findings.len(),
            if out.quiet || !out.text {
                ""
            } else {
                "; see the findings above"
            }
        ),
    );
    if out.quiet {
        exit = exit.with_causes(failed.iter().map(|f| {
            format!(
                "{}: {} (fix: {})",
                f.check,
                f.detail,
                f.fix.as_deref().unwrap_or("-")
            )
        }));
    }
    Err(exit.with_result(value))
}

/// The plan's result line: `Plan: 8 to create, 2 to update, 0 to adopt, 0 unchanged.`
fn plan_summary(plan: &Plan) -> String {
    let n = plan.counts();
    format!(
        "Plan: {} to create, {} to update, {} to adopt, {} unchanged.",
        n.create, n.update, n.adopt, n.unchanged
    )
}

/// Prints the plan (its last line, the counts, also with `-q`).
fn show_plan(plan: &Plan, out: Out) {
    out.detail(plan);
    if out.quiet {
        out.result(plan_summary(plan));
    }
}

/// What `rollback` (the last run) / `destroy` (every run) would remove or restore, from the
/// journal (reads only).
fn pending_listing(fed: &Federation, everything: bool) -> Result<String, Exit> {
    let pending = fed.pending(everything)?;
    if pending.is_empty() {
        return Ok(format!(
            "The journal {} records nothing left to undo.",
            fed.journal().display()
        ));
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

/// Reads a plan saved by `plan --out`.
fn read_plan(path: &Path) -> Result<Plan, Exit> {
    let bytes = wso2_federation::config::read_file(path, 16 * 1024 * 1024)
        .map_err(|m| Exit::new(ExitKind::Usage, format!("--plan: {m}")))?;
    serde_json::from_slice::<Plan>(&bytes).map_err(|e| {
        Exit::new(
            ExitKind::Usage,
            format!(
                "--plan {}: not a plan saved by `wso2-federate plan --out` ({e}); nothing was sent",
                path.display()
            ),
        )
    })
}

async fn run(cli: Cli) -> Result<serde_json::Value, Exit> {
    let out = Out::new(&cli);
    let progress = Progress::new(Style::detect(cli.quiet || cli.output == Output::Json));
    let target = target(&cli).await?;
    if let Some(sb) = &target.sandbox {
        let _ = SANDBOX_DIR.set(sb.dir().to_path_buf());
    }
    let fed = &target.federation;
    let mut options = RunOptions::new();
    options.ignore_journal_binding = cli.ignore_journal_binding;
    {
        let p = progress.clone();
        options = options.events(Arc::new(move |event| p.event(event)));
    }
    let result = match &cli.command {
        Command::Doctor => {
            progress.phase("doctor: reading IS and APIM");
            let report = fed.doctor().await;
            progress.done();
            report_exit(&report, out, "Doctor")?
        }
        Command::Plan { out: file } => {
            progress.phase("plan: reading IS and APIM");
            let plan = fed.plan().await;
            progress.done();
            let plan = plan?;
            if let Some(path) = file {
                let json = serde_json::to_string_pretty(&plan)
                    .map_err(|e| Exit::new(ExitKind::Failed, format!("plan --out: {e}")))?;
                std::fs::write(path, json).map_err(|e| {
                    Exit::new(
                        ExitKind::Failed,
                        format!("plan --out {}: cannot write it: {e}", path.display()),
                    )
                })?;
            }
            show_plan(&plan, out);
            if let Some(path) = file {
                out.detail(format_args!(
                    "Saved to {}: `wso2-federate apply --plan {}` applies exactly this plan.",
                    path.display(),
                    path.display()
                ));
            }
            serde_json::to_value(&plan).unwrap_or_default()
        }
        Command::Apply {
            yes,
            plan,
            verify,
            login,
            no_rollback,
            force,
        } => {
            // A saved plan was reviewed when it was made: it is applied without asking. With
            // `--yes` (or the sandbox) nobody is asked: the plan is read under the run lease
            // when it changes anything, shown, and applied. Else the plan is made now, shown,
            // confirmed, and exactly that plan is applied.
            options.no_rollback = *no_rollback;
            options.force = *force;
            let unasked = plan.is_none() && (*yes || target.sandbox.is_some());
            let report = if unasked {
                options.cancel = Some(interruption(progress.clone(), *no_rollback)?);
                progress.phase("apply: reading IS and APIM");
                let report = fed
                    .apply_showing(&options, |plan| {
                        progress.done();
                        show_plan(plan, out);
                        if plan.is_empty() {
                            out.result("Nothing to change.");
                        } else {
                            out.detail(format_args!(
                                "Applying (journal: {}):",
                                fed.journal().display()
                            ));
                        }
                    })
                    .await;
                progress.done();
                report?
            } else {
                let (plan, reviewed) = match plan {
                    Some(path) => (read_plan(path)?, true),
                    None => {
                        progress.phase("plan: reading IS and APIM");
                        let plan = fed.plan().await;
                        progress.done();
                        (plan?, false)
                    }
                };
                show_plan(&plan, out);
                if plan.is_empty() {
                    out.result("Nothing to change.");
                } else {
                    confirm("apply", "Apply this plan?", "", *yes || reviewed)?;
                }
                options.cancel = Some(interruption(progress.clone(), *no_rollback)?);
                if !plan.is_empty() {
                    out.detail(format_args!(
                        "Applying (journal: {}):",
                        fed.journal().display()
                    ));
                }
                fed.apply_plan(&plan, &options).await?
            };
            if !report.plan.is_empty() {
                out.result(format_args!(
                    "Applied (journal: {}).",
                    fed.journal().display()
                ));
            }
            let mut result = json!({ "apply": report });
            if *verify || target.sandbox.is_some() {
                // The sandbox proves the browser logins of its users every time.
                let vo = VerifyOptions {
                    test_login: target.test_login.clone(),
                    fix_client_auth: false,
                    browser_logins: if *login || target.sandbox.is_some() {
                        fed.browser_logins()
                    } else {
                        Vec::new()
                    },
                };
                progress.phase("verify: checking the federation");
                let report = fed.verify(&vo).await;
                progress.done();
                result["verify"] = report_exit(&report?, out, "Verify")
                    .map_err(|e| e.with_result(result.clone()))?;
            }
            if let Some(sb) = &target.sandbox
                && out.text
                && !out.quiet
            {
                sb.print_final_state(fed).await?;
            }
            result
        }
        Command::Verify {
            test_user,
            test_password_env,
            fix_client_auth,
            login,
        } => {
            let test_login = match (test_user, test_password_env) {
                (Some(u), Some(var)) => {
                    let pw = std::env::var(var).map_err(|_| {
                        Exit::new(
                            ExitKind::Usage,
                            format!(
                                "--test-password-env {var}: the environment variable {var} is not set"
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
                browser_logins: if *login {
                    fed.browser_logins()
                } else {
                    Vec::new()
                },
            };
            progress.phase("verify: checking the federation");
            let report = fed.verify(&vo).await;
            progress.done();
            report_exit(&report?, out, "Verify")?
        }
        Command::Rollback { yes, force } => {
            confirm(
                "rollback",
                "Undo these changes?",
                &pending_listing(fed, false)?,
                *yes,
            )?;
            options.force = *force;
            let report = fed.rollback(&options).await?;
            out.result(format_args!(
                "Rolled back: everything the last run recorded in {} is undone.",
                fed.journal().display()
            ));
            serde_json::to_value(&report).unwrap_or_default()
        }
        Command::Recover { finish, force } => {
            options.force = *force;
            let report = fed.recover(&options, *finish).await?;
            match &report {
                RecoverReport::NothingToRecover { released_lease } => {
                    out.result(format_args!(
                        "Nothing to recover: the journal {} records no unfinished run and nothing left to undo.",
                        fed.journal().display()
                    ));
                    if let Some(h) = released_lease {
                        out.result(format_args!(
                            "The lease left by a run that died ({h}) is released."
                        ));
                    }
                }
                RecoverReport::RolledBack(_) => out.result(
                    "Recovered: what the interrupted run changed is rolled back; the servers are as before it.",
                ),
                RecoverReport::Finished(_) => {
                    out.result("Recovered: the interrupted apply is finished.")
                }
            }
            serde_json::to_value(&report).unwrap_or_default()
        }
        Command::Destroy { yes, force } => {
            confirm(
                "destroy",
                "Remove what this federation made and restore the portals?",
                &pending_listing(fed, true)?,
                *yes,
            )?;
            options.force = *force;
            let report = fed.destroy(&options).await?;
            out.result(
                "Destroyed: everything this federation made is removed, and what it changed restored.",
            );
            serde_json::to_value(&report).unwrap_or_default()
        }
        Command::Unlock { force } => {
            let holder = fed.unlock(*force).await?;
            match &holder {
                Some(h) => out.result(format_args!("Unlocked: the lease held by {h} is broken.")),
                None => out.result("Nobody holds the lease."),
            }
            serde_json::to_value(&holder).unwrap_or_default()
        }
        Command::Journal => journal_report(fed, out)?,
    };
    Ok(result)
}

/// Lists what the journal records, even from its intact part when it is damaged.
fn journal_report(fed: &Federation, out: Out) -> Result<serde_json::Value, Exit> {
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
    out.result(format_args!(
        "Journal {}: {} run(s), {} change(s) to undo{}",
        path.display(),
        folded.runs.len(),
        pending.len(),
        if damage.is_some() { ", DAMAGED" } else { "" }
    ));
    for r in &folded.runs {
        out.detail(format_args!(
            "  run {} {} at {} by {} pid {}: {}",
            r.run,
            r.operation,
            text::utc(r.at),
            text::clean(&r.host, 100),
            r.pid,
            r.outcome
                .map_or("never finished (run `recover`)".to_owned(), |o| format!(
                    "{o:?}"
                ))
        ));
    }
    for (s, e) in folded.pending_undo() {
        out.detail(format_args!("  to undo: {}: {}", s.id, e.verb()));
    }
    if let Some(d) = &damage {
        out.detail(format_args!(
            "  DAMAGED: {}",
            text::clean(&d.to_string(), text::SHOWN)
        ));
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
        Exit::new(
            ExitKind::Settings,
            format!(
                "the settings have {} problem(s); nothing was sent",
                e.problems.len()
            ),
        )
        .with_causes(e.problems.iter().map(ToString::to_string))
    }
}

impl From<FederationError> for Exit {
    fn from(e: FederationError) -> Self {
        let e = match e {
            FederationError::Spec(s) => return s.into(),
            e => e,
        };
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
