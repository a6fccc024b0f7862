//! The `wso2-sim` binary: startup line, control API, SIGUSR1 dump, and `--help`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crate::support::*;

struct Sim {
    child: Child,
    ready: serde_json::Value,
}

impl Drop for Sim {
    /// SIGTERM first (the simulator removes its temporary CA file on it), SIGKILL if it has not
    /// ended within two seconds.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..40 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str]) -> Sim {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wso2-sim"))
        .args(["--is-port", "0", "--apim-port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn wso2-sim");
    let stdout = child.stdout.take().expect("stdout");
    let mut ready = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        if let Some(json) = line.strip_prefix("WSO2_SIM_READY ") {
            ready = Some(serde_json::from_str(json).expect("ready JSON"));
            break;
        }
    }
    Sim {
        child,
        ready: ready.expect("ready line"),
    }
}

#[tokio::test]
async fn starts_prints_a_ready_line_and_obeys_the_control_api() {
    let dir = std::env::temp_dir().join(format!("wso2-sim-test-{}", std::process::id()));
    let dump = dir.join("dump.json");
    std::fs::create_dir_all(&dir).expect("dir");
    let sim = start(&[
        "--dump-state",
        dump.to_str().unwrap_or_default(),
        "--portals",
        "--fault",
        "apim:addIdP:1:connection_reset",
    ]);
    let ca_path = sim.ready["ca_path"].as_str().expect("ca_path");
    let ca = std::fs::read_to_string(ca_path).expect("CA file");
    let c = client_with(tls_config(&ca, None));
    let apim = sim.ready["apim_url"].as_str().expect("apim_url").to_owned();
    let is = sim.ready["is_url"].as_str().expect("is_url").to_owned();
    assert!(apim.starts_with("https://localhost:"));
    // The --fault rule: the first addIdP on APIM loses its connection.
    let r = c
        .post(format!("{apim}/services/IdentityProviderMgtService"))
        .basic_auth("admin", Some("admin"))
        .header("SOAPAction", "urn:addIdP")
        .body(envelope(&format!(
            "<i:addIdP><i:identityProvider>{}</i:identityProvider></i:addIdP>",
            idp_xml("x", true, &[])
        )))
        .send()
        .await;
    assert!(r.is_err(), "connection reset");
    // Control API: stats, requests, latency, faults, seeding, state.
    let stats = read(
        c.get(format!("{apim}/__sim/stats"))
            .send()
            .await
            .expect("send"),
    )
    .await
    .json();
    assert_eq!(stats["faults_fired"], 1);
    let reqs = read(
        c.get(format!("{apim}/__sim/requests"))
            .send()
            .await
            .expect("send"),
    )
    .await
    .json();
    assert_eq!(reqs[0]["action"], "addIdP");
    let r = c
        .post(format!("{is}/__sim/faults"))
        .body(r#"{"target": {"action": "getIdPByName"}, "when": "every", "kind": {"kind": "plain_text500"}}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 204);
    let r = read(
        c.post(format!("{is}/services/IdentityProviderMgtService"))
            .basic_auth("admin", Some("admin"))
            .header("SOAPAction", "urn:getIdPByName")
            .body(envelope(
                "<i:getIdPByName><i:idPName>x</i:idPName></i:getIdPByName>",
            ))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, 500);
    let r = c
        .post(format!("{is}/__sim/seed"))
        .body(r#"{"users": 3}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let state = read(
        c.get(format!("{apim}/__sim/state"))
            .send()
            .await
            .expect("send"),
    )
    .await
    .json();
    assert!(
        state["tenants"]["carbon.super"]["applications"]["admin_admin_publisher"].is_object(),
        "--portals"
    );
    // SIGUSR1 writes both snapshots.
    let pid = sim.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-USR1", &pid])
            .status()
            .expect("kill")
            .success()
    );
    for _ in 0..100 {
        if dump.exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let snap: wso2_testkit::SandboxSnapshot =
        serde_json::from_slice(&std::fs::read(&dump).expect("dump written"))
            .expect("snapshot JSON");
    assert_eq!(snap.is.tenants["carbon.super"].users.len(), 1 + 3);
    drop(sim);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn help_documents_every_option() {
    let out = Command::new(env!("CARGO_BIN_EXE_wso2-sim"))
        .arg("--help")
        .output()
        .expect("run");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for opt in [
        "--host",
        "--is-port",
        "--apim-port",
        "--http",
        "--require-client-cert",
        "--leaf",
        "--admin-password",
        "--tenant",
        "--ca-out",
        "--seed-dir",
        "--seed",
        "--state-dir",
        "--dump-state",
        "--latency-ms",
        "--fault",
        "--hang-secs",
        "--add-idp-500-after-commit",
        "--mutual-tls-conflict",
        "--skip-user-consent",
        "--lenient-elements",
        "--portals",
        "--portal-naming",
        "--is-version",
        "--apim-version",
        "--is-soap-admin-services",
        "--help",
        "--version",
    ] {
        assert!(help.contains(opt), "--help lacks {opt}:\n{help}");
    }
}

#[tokio::test]
async fn versions_on_the_command_line_reach_the_ready_line_and_the_servers() {
    let sim = start(&["--is-version", "7.3", "--apim-version", "4.7"]);
    assert_eq!(sim.ready["is_version"], "7.3");
    assert_eq!(sim.ready["apim_version"], "4.7");
    assert_eq!(sim.ready["is_soap_admin_services"], "off");
    let ca = std::fs::read_to_string(sim.ready["ca_path"].as_str().expect("ca")).expect("ca file");
    let c = client_with(tls_config(&ca, None));
    let is = sim.ready["is_url"].as_str().expect("is").to_owned();
    let r = read(
        c.get(format!("{is}/api/server/v1/applications"))
            .basic_auth("admin", Some("admin"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    drop(sim);
    let sim = start(&["--is-version", "7.2", "--is-soap-admin-services"]);
    assert_eq!(sim.ready["is_soap_admin_services"], "enabled");
    assert_eq!(sim.ready["apim_version"], "3.0");
    drop(sim);
    // An unknown release stops the program with a message.
    let out = Command::new(env!("CARGO_BIN_EXE_wso2-sim"))
        .args(["--is-port", "0", "--apim-port", "0", "--is-version", "5.8"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\"5.8\" is not a simulated IS version"),
        "{err}"
    );
}

#[tokio::test]
async fn seed_dir_and_state_dir() {
    // Raw seeds: what a real getApplication / getIdPByName answered, one file each.
    let source = wso2_testkit::Sandbox::start().await.expect("sandbox");
    let c = http(&source);
    create_app(&c, source.is(), "seeded-sp").await;
    let sp_xml = get_app(&c, source.is(), "seeded-sp").await.body;
    add_idp(&c, source.apim(), &idp_xml("seeded-idp", true, &[])).await;
    let idp_answer = get_idp(&c, source.apim(), "seeded-idp").await.body;
    let dir = std::env::temp_dir().join(format!("wso2-sim-seeds-{}", std::process::id()));
    let tenant_dir = dir.join("is").join("t").join("example.org");
    std::fs::create_dir_all(&tenant_dir).expect("dirs");
    std::fs::create_dir_all(dir.join("apim")).expect("dirs");
    std::fs::write(tenant_dir.join("sp.xml"), &sp_xml).expect("write");
    std::fs::write(dir.join("apim").join("idp.xml"), &idp_answer).expect("write");
    let state = dir.join("state");
    let sim = start(&[
        "--seed-dir",
        dir.to_str().unwrap_or_default(),
        "--state-dir",
        state.to_str().unwrap_or_default(),
    ]);
    let ca = std::fs::read_to_string(sim.ready["ca_path"].as_str().expect("ca")).expect("ca file");
    assert!(
        state.join("ca.pem").exists(),
        "CA written into the state dir"
    );
    let c = client_with(tls_config(&ca, None));
    let is = sim.ready["is_url"].as_str().expect("is").to_owned();
    let apim = sim.ready["apim_url"].as_str().expect("apim").to_owned();
    let s = read(
        c.get(format!("{is}/__sim/state"))
            .send()
            .await
            .expect("send"),
    )
    .await
    .json();
    assert!(
        s["tenants"]["example.org"]["applications"]["seeded-sp"].is_object(),
        "{s}"
    );
    let s = read(
        c.get(format!("{apim}/__sim/state"))
            .send()
            .await
            .expect("send"),
    )
    .await
    .json();
    assert!(s["tenants"]["carbon.super"]["identity_providers"]["seeded-idp"].is_object());
    // SIGTERM saves the state; a new run over the same state dir starts from it.
    let pid = sim.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    for _ in 0..100 {
        if state.join("state.json").exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    drop(sim);
    let sim = start(&["--state-dir", state.to_str().unwrap_or_default()]);
    let ca = std::fs::read_to_string(sim.ready["ca_path"].as_str().expect("ca")).expect("ca file");
    let c = client_with(tls_config(&ca, None));
    let apim = sim.ready["apim_url"].as_str().expect("apim").to_owned();
    let s = read(
        c.get(format!("{apim}/__sim/state"))
            .send()
            .await
            .expect("send"),
    )
    .await
    .json();
    assert!(
        s["tenants"]["carbon.super"]["identity_providers"]["seeded-idp"].is_object(),
        "state restored"
    );
    drop(sim);
    let _ = std::fs::remove_dir_all(&dir);
}
