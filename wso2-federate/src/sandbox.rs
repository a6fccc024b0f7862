//! `--sandbox`: WSO2's seed setup, unchanged, against simulated IS and APIM started in this
//! process (of the releases `--is-version` and `--apim-version` name). Its journal lives in a
//! temporary directory removed when the command ends.

use secrecy::SecretString;
use wso2_federation::Federation;
use wso2_testkit::{Sandbox, SandboxSnapshot};

use crate::exit::{Exit, ExitKind};
use crate::{Cli, Target};

/// The running sandbox, its state before the command, and its temporary journal directory.
pub(crate) struct Sandboxed {
    sandbox: Sandbox,
    before: SandboxSnapshot,
    dir: std::path::PathBuf,
}

impl Drop for Sandboxed {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn random_password() -> Result<SecretString, Exit> {
    let mut bytes = [0u8; 10];
    getrandom::fill(&mut bytes).map_err(|e| {
        Exit::new(
            ExitKind::Failed,
            format!("no randomness from the operating system: {e}"),
        )
    })?;
    Ok(SecretString::from(format!(
        "Pw-{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )))
}

/// Starts the sandbox and builds the seed setup against it: users api_publisher and api_user
/// (passwords generated, never shown), roles publisher_role and user_role mapped to
/// Internal/publisher and Internal/subscriber, both portals switched.
pub(crate) async fn start(cli: &Cli) -> Result<Target, Exit> {
    if cli.config.is_some() {
        return Err(Exit::new(
            ExitKind::Usage,
            "--sandbox runs the built-in seed setup; leave out --config",
        ));
    }
    let sandbox = Sandbox::builder()
        .is_version(cli.is_version.as_str())
        .apim_version(cli.apim_version.as_str())
        .start()
        .await
        .map_err(|e| {
            Exit::from_chain(
                ExitKind::Usage,
                "--sandbox: cannot start the simulated servers (check --is-version and --apim-version)",
                &e,
            )
        })?;
    fn client<C: wso2_is_client::FromCarbon>(
        server: &wso2_testkit::SimServer,
        ca_pem: &str,
    ) -> wso2_is_client::ClientBuilder<C> {
        let admin = server.admin();
        wso2_is_client::ClientBuilder::new(server.base_url())
            .credentials(admin.username, admin.password)
            .ca_pem(ca_pem.as_bytes().to_vec())
    }
    let is: wso2_is_client::IsClient = client(sandbox.is(), sandbox.ca_pem())
        .build()
        .map_err(|e| Exit::from_chain(ExitKind::Failed, "the sandbox's IS client", &e))?;
    let apim: wso2_apim_client::ApimClient = client(sandbox.apim(), sandbox.ca_pem())
        .build()
        .map_err(|e| Exit::from_chain(ExitKind::Failed, "the sandbox's APIM client", &e))?;
    let dir = std::env::temp_dir().join(format!("wso2-federate-sandbox-{}", std::process::id()));
    let journal = cli
        .journal
        .clone()
        .unwrap_or_else(|| dir.join("federation.journal"));
    let publisher = random_password()?;
    let federation = Federation::builder()
        .is(is)
        .apim(apim)
        .role("publisher_role")
        .role("user_role")
        .user("api_publisher", publisher.clone(), ["publisher_role"])
        .user("api_user", random_password()?, ["user_role"])
        .map_role("publisher_role", "Internal/publisher")
        .map_role("user_role", "Internal/subscriber")
        .journal(journal)
        .build()?;
    if cli.output == crate::Output::Text && !cli.quiet {
        println!(
            "Sandbox: simulated IS {} at {}, APIM {} at {} (private CA, TLS verified)",
            sandbox.is_version(),
            sandbox.is().base_url(),
            sandbox.apim_version(),
            sandbox.apim().base_url()
        );
    }
    let before = sandbox.snapshot();
    Ok(Target {
        federation,
        sandbox: Some(Sandboxed {
            sandbox,
            before,
            dir,
        }),
        test_login: Some(("api_publisher".into(), publisher)),
    })
}

impl Sandboxed {
    /// The temporary directory of the sandbox's journal.
    pub(crate) fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// Prints what changed on the simulated servers, and what a second plan says.
    pub(crate) async fn print_final_state(&self, fed: &Federation) -> Result<(), Exit> {
        println!(
            "Final state (changes on the simulated servers):\n{}",
            self.before.diff(&self.sandbox.snapshot())
        );
        let again = fed.plan().await?;
        let n = again.counts();
        println!(
            "A second plan: {} ({} objects this federation's or as desired)",
            if again.is_empty() {
                "nothing to change"
            } else {
                "changes pending"
            },
            n.unchanged + n.adopt
        );
        Ok(())
    }
}
