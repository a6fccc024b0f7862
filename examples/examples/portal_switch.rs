//! Switches one APIM portal's login to a federated identity provider, shows the result, and
//! restores the portal exactly as it was.
//!
//! ```sh
//! APIM_URL=https://apim.example.com:9443 APIM_USER=admin APIM_PASSWORD=... \
//! APIM_CA_PEM=apim-ca.pem IDP_NAME=wso2-is PORTAL=publisher \
//! cargo run -p wso2-examples --example portal_switch
//! ```
//!
//! `APIM_CA_PEM` is optional (the system trust store is used without it). The identity provider
//! must already exist on APIM. With `KEEP=1` the portal stays switched (and the snapshot is
//! written to `portal-snapshot.json` so it can be restored later).

use wso2_apim_client::ApimClient;
use wso2_apim_client::portals::{Portal, SwitchOptions};
use wso2_examples::{env, env_opt};
use wso2_is_client::IdpName;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut builder =
        ApimClient::builder(env("APIM_URL")?).credentials(env("APIM_USER")?, env("APIM_PASSWORD")?);
    if let Some(path) = env_opt("APIM_CA_PEM") {
        builder = builder.ca_pem(std::fs::read(path)?);
    }
    let apim: ApimClient = builder.build()?;
    let portal: Portal = env_opt("PORTAL")
        .unwrap_or_else(|| "publisher".into())
        .parse()?;
    let idp = IdpName::new(env("IDP_NAME")?)?;

    let portals = apim.portals();
    portals.ensure(portal).await?;
    let snapshot = portals.snapshot(portal).await?;
    println!(
        "{portal}: authentication type before: {:?}",
        snapshot.service_provider.authentication_type()
    );

    let switched = portals
        .switch_to_federated(portal, &idp, &SwitchOptions::default())
        .await?;
    println!(
        "{portal}: switched to {:?} through {idp}",
        switched.authentication_type()
    );

    if env_opt("KEEP").is_some() {
        std::fs::write(
            "portal-snapshot.json",
            serde_json::to_string_pretty(&snapshot)?,
        )?;
        println!(
            "{portal}: kept switched; snapshot written to portal-snapshot.json (secrets withheld)"
        );
        return Ok(());
    }
    portals.restore(&snapshot).await?;
    let after = portals.snapshot(portal).await?;
    assert_eq!(
        after.service_provider, snapshot.service_provider,
        "the restore gives back what the snapshot held"
    );
    println!("{portal}: restored exactly");
    Ok(())
}
