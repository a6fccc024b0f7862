//! The plan is the contract (issue 13, item 2), through the CLI against `wso2-sim`: a saved plan
//! holds every value apply sends (the generated client id included; the secret generated at
//! apply is marked so), `apply --plan` sends exactly those without asking again, the apply that
//! shows its plan applies that plan, a second plan after our apply is empty and calls every
//! object ours, and a plan made before the servers changed is refused.
//!
//! `cargo test -p wso2-federate --test it plan_contract -- --nocapture`

use crate::support::*;

/// A run whose settings leave the client id and secret to the federation (no `client_id`, no
/// `client_secret_env`), so that the plan must carry the id it generated.
fn generated_id_run(sim: &SimProcess, name: &str) -> CliRun {
    let cli = CliRun::new(sim, name);
    let config: String = std::fs::read_to_string(&cli.config)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("client_id =") && !l.starts_with("client_secret_env ="))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&cli.config, config).unwrap();
    cli
}

/// The client id a plan's text shows (`clientId: "..."`).
fn shown_client_id(plan_text: &str) -> String {
    let line = plan_text
        .lines()
        .find(|l| l.trim_start().starts_with("clientId: \""))
        .unwrap_or_else(|| panic!("no clientId line in:\n{plan_text}"));
    line.split('"').nth(1).unwrap().to_owned()
}

/// The server's state as text, and whether it holds `needle`.
async fn holds(sim: &SimProcess, needle: &str) -> (bool, bool) {
    let is: serde_json::Value = serde_json::to_value(sim.state().await.is).unwrap();
    let apim: serde_json::Value = serde_json::to_value(sim.state().await.apim).unwrap();
    (
        is.to_string().contains(needle),
        apim.to_string().contains(needle),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_is_applied_exactly_without_asking_again() {
    let sim = SimProcess::start(&["--portals"]);
    let cli = generated_id_run(&sim, "saved-plan");
    let file = cli.dir.join("plan.json");
    let file_arg = file.display().to_string();
    let made = cli.run(&["plan", "--out", &file_arg], None).await;
    assert!(made.ok(), "{made}");
    assert!(
        made.stdout.contains(&format!(
            "`wso2-federate apply --plan {file_arg}` applies exactly this plan"
        )),
        "{made}"
    );
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let client_id = saved["client_id"].as_str().unwrap().to_owned();
    assert_eq!(
        client_id,
        shown_client_id(&made.stdout),
        "the text shows the saved id"
    );
    assert_eq!(
        holds(&sim, &client_id).await,
        (false, false),
        "not sent yet"
    );
    // The secret is not in the plan; it is marked as generated at apply.
    let secret_fields: Vec<&serde_json::Value> = saved["changes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["diff"].as_array().unwrap())
        .filter(|d| d["field"] == "clientSecret")
        .collect();
    assert!(
        !secret_fields.is_empty()
            && secret_fields
                .iter()
                .all(|d| d["secret"] == "generated" && d["after"].is_null()),
        "{secret_fields:?}"
    );

    // No --yes and no terminal: a saved plan was reviewed when it was made.
    let applied = cli.run(&["apply", "--plan", &file_arg], None).await;
    assert!(applied.ok(), "{applied}");
    assert_eq!(shown_client_id(&applied.stdout), client_id);
    assert_eq!(
        holds(&sim, &client_id).await,
        (true, true),
        "IS's OAuth application and APIM's identity provider carry the planned client id"
    );

    // A second plan is empty and calls every object ours.
    let again = cli.run(&["plan"], None).await;
    assert!(again.ok(), "{again}");
    assert!(
        again
            .stdout
            .contains("Plan: 0 to create, 0 to update, 0 to adopt, 8 unchanged."),
        "{again}"
    );
    let objects: Vec<&str> = again
        .stdout
        .lines()
        .filter(|l| l.starts_with("  = ") || l.starts_with("  + ") || l.starts_with("  ~ "))
        .collect();
    assert_eq!(objects.len(), 8, "{again}");
    for line in objects {
        assert!(
            line.ends_with("no change (this federation's)")
                || line.ends_with("no change (switched)"),
            "{line}"
        );
    }
    println!(
        "plan contract (CLI): apply --plan sent the saved client id {client_id}; a second plan is empty, all ours"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_apply_applies_the_plan_it_showed() {
    let sim = SimProcess::start(&["--portals"]);
    let cli = generated_id_run(&sim, "shown-plan");
    let out = cli.run(&["apply", "--yes"], None).await;
    assert!(out.ok(), "{out}");
    let shown = shown_client_id(&out.stdout);
    assert_eq!(holds(&sim, &shown).await, (true, true), "{out}");
    // The JSON result's plan is the one shown, and the run applied it.
    let destroyed = cli.run(&["destroy", "--yes"], None).await;
    assert!(destroyed.ok(), "{destroyed}");
    let json = cli.run(&["--output", "json", "apply", "--yes"], None).await;
    assert!(json.ok(), "{json}");
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let planned = v["result"]["apply"]["plan"]["client_id"].as_str().unwrap();
    assert_eq!(holds(&sim, planned).await, (true, true), "{json}");
    println!("plan contract (CLI): the shown plan's client id is the one registered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_made_before_another_apply_is_refused_and_changes_nothing() {
    let sim = SimProcess::start(&["--portals"]);
    let cli = generated_id_run(&sim, "stale-plan");
    let file = cli.dir.join("plan.json");
    let file_arg = file.display().to_string();
    assert!(cli.run(&["plan", "--out", &file_arg], None).await.ok());
    let other = cli.run(&["apply", "--yes"], None).await;
    assert!(other.ok(), "{other}");
    let state = sim.state().await;
    let stale = cli.run(&["apply", "--plan", &file_arg], None).await;
    assert_eq!(stale.status.code(), Some(5), "{stale}");
    assert!(
        stale.stderr.contains("the plan is stale") && stale.stderr.contains("make a new plan"),
        "{stale}"
    );
    assert_eq!(state, sim.state().await, "nothing was changed");
    println!("plan contract (CLI): a stale saved plan: exit 5, nothing changed");
}
