//! The browser login proof (`wso2_federation::login`) on the seed pair (IS 5.9 + APIM 3.0)
//! after the seed apply: api_publisher proves the Publisher's rights and api_user the Developer
//! Portal's; then each setting broken in turn (by the federation's settings where the builder
//! allows it, else by editing the servers after the apply) is diagnosed by name, faults at a
//! few hops give a diagnosis (never a panic), and neither the report, its `Debug` and JSON forms
//! nor the TRACE logs show a password, a code, a key or a state.
//!
//! `cargo test -p wso2-federation --test it login -- --nocapture`

use std::time::Duration;

use wso2_apim_client::portals::Portal;
use wso2_federation::login::{ConsentChoice, Diagnosis, LoginOutcome, LoginProof, LoginReport};
use wso2_federation::verify::Status;
use wso2_federation::{ClientAuthMode, Federation};
use wso2_is_client::{ApplicationName, IdpName, OAuthAppName, RoleName};
use wso2_testkit::{FaultKind, FaultRule, SUPER_TENANT, Sandbox};

use crate::support::*;

const IDP: &str = "wso2-is";
const APP: &str = "apim-federation";

/// A sandbox with the seed setup (as `builder` makes it) applied; the request logs cleared.
async fn applied_with(
    setup: impl FnOnce(&Sandbox),
    builder: impl FnOnce(&Sandbox) -> wso2_federation::FederationBuilder,
) -> (Sandbox, Federation, TempJournal) {
    let sb = Sandbox::start().await.unwrap();
    setup(&sb);
    let journal = TempJournal::new();
    let fed = builder(&sb).journal(journal.path()).build().unwrap();
    fed.apply(&journal.options()).await.unwrap();
    sb.clear_requests();
    (sb, fed, journal)
}

async fn applied() -> (Sandbox, Federation, TempJournal) {
    applied_with(|_| {}, seed_builder).await
}

async fn publisher(fed: &Federation) -> LoginProof {
    proof_for(fed, Portal::Publisher, "api_publisher", PUBLISHER_PASSWORD).await
}

async fn subscriber(fed: &Federation) -> LoginProof {
    proof_for(fed, Portal::DevPortal, "api_user", USER_PASSWORD).await
}

async fn proof_for(fed: &Federation, portal: Portal, user: &str, password: &str) -> LoginProof {
    LoginProof::for_federation(fed, portal, user, password.to_owned())
        .await
        .unwrap()
}

/// The actions the browser's requests have in the servers' own logs: client traffic, without
/// the proof's admin reads (SOAP) and its client-authentication probe (`is.token`, which a
/// browser never calls).
fn server_side_hops(sb: &Sandbox) -> Vec<String> {
    sb.hops()
        .into_iter()
        .filter(|(_, r)| r.via.is_none() && r.soap_action.is_none() && r.action != "is.token")
        .map(|(_, r)| r.action)
        .collect()
}

fn actions(report: &LoginReport) -> Vec<String> {
    report.hops.iter().map(|h| h.action.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_users_prove_their_portal_rights() {
    let (sb, fed, _j) = applied().await;

    let report = publisher(&fed).await.run().await;
    println!("{report}");
    assert!(report.is_proved(), "{report}");
    // Every hop the browser made is in the servers' logs under the same name, in order.
    assert_eq!(actions(&report), server_side_hops(&sb), "{report}");
    assert_eq!(
        actions(&report),
        [
            "portal.login",
            "apim.authorize",
            "is.authorize",
            "is.login_page",
            "is.commonauth",
            "apim.commonauth",
            "portal.callback",
            "portal.page",
            "portal.introspect",
            "portal.api",
        ]
    );
    assert!(report.hops.iter().all(|h| h.status.is_some()));
    let rights = report.rights().unwrap();
    assert_eq!(rights.api_status, Some(200));
    assert_eq!(
        rights.username.as_deref(),
        Some("api_publisher@carbon.super")
    );
    for scope in ["apim:api_view", "apim:api_publish"] {
        assert!(rights.scopes.iter().any(|s| s == scope), "{rights:?}");
    }
    assert!(!rights.scopes.iter().any(|s| s == "apim:subscribe"));
    assert_eq!(
        rights.apim_roles.as_deref(),
        Some(
            &[
                "Internal/everyone".to_owned(),
                "Internal/publisher".to_owned()
            ][..]
        ),
        "the JIT user holds the mapped role on APIM"
    );
    // The federation skips consent on the IS application: no consent page, no warning.
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let findings = report.findings();
    assert!(
        findings.iter().all(|f| f.status == Status::Pass),
        "{findings:?}"
    );

    sb.clear_requests();
    let report = subscriber(&fed).await.run().await;
    println!("{report}");
    assert!(report.is_proved(), "{report}");
    assert_eq!(actions(&report), server_side_hops(&sb));
    let rights = report.rights().unwrap();
    assert!(
        rights.scopes.iter().any(|s| s == "apim:subscribe"),
        "{rights:?}"
    );
    assert!(!rights.scopes.iter().any(|s| s == "apim:api_view"));
    assert_eq!(rights.api_status, None, "no devportal API call");
    assert_eq!(
        rights.apim_roles.as_deref(),
        Some(
            &[
                "Internal/everyone".to_owned(),
                "Internal/subscriber".to_owned()
            ][..]
        )
    );

    // The subscriber on the Publisher: logs in, has none of the publisher's scopes.
    let report = proof_for(&fed, Portal::Publisher, "api_user", USER_PASSWORD)
        .await
        .expect_roles(["Internal/publisher"])
        .run()
        .await;
    assert!(!report.is_proved(), "{report}");
    assert_eq!(report.rights().unwrap().api_status, Some(401));
}

/// One setting broken in turn, and the diagnosis that must name it.
#[derive(Debug, Clone, Copy)]
enum Broken {
    Callback,
    RoleClaim,
    RoleMappingWrong,
    RoleMappingMissingRole,
    ClientSecret,
    MutualTls,
    JitUserStore,
    ConsentRequired,
    ConsentDenied,
    Pkce,
    IdpDisabled,
    UserPassword,
    PortalNotSwitched,
}

impl Broken {
    const ALL: [Broken; 13] = [
        Broken::Callback,
        Broken::RoleClaim,
        Broken::RoleMappingWrong,
        Broken::RoleMappingMissingRole,
        Broken::ClientSecret,
        Broken::MutualTls,
        Broken::JitUserStore,
        Broken::ConsentRequired,
        Broken::ConsentDenied,
        Broken::Pkce,
        Broken::IdpDisabled,
        Broken::UserPassword,
        Broken::PortalNotSwitched,
    ];

    fn expected(self, d: &Diagnosis) -> bool {
        match self {
            Self::Callback => matches!(d, Diagnosis::CallbackMismatch { .. }),
            Self::RoleClaim => matches!(d, Diagnosis::MissingRoleClaim { .. }),
            Self::RoleMappingWrong => {
                matches!(d, Diagnosis::RoleMapping { expected, mapped_to, .. }
                    if expected == "Internal/publisher" && mapped_to == &["Internal/creator".to_owned()])
            }
            Self::RoleMappingMissingRole => {
                matches!(d, Diagnosis::RoleMappingToMissingRole { remote, local }
                    if remote == "publisher_role" && local == "Internal/publisher_gone")
            }
            Self::ClientSecret => matches!(d, Diagnosis::ClientAuthentication { .. }),
            Self::MutualTls => {
                matches!(
                    d,
                    Diagnosis::MutualTlsDoubleAuthentication { confirmed: true }
                )
            }
            Self::JitUserStore => matches!(d, Diagnosis::NoJitUserStore { .. }),
            Self::ConsentRequired => matches!(d, Diagnosis::ConsentRequired { .. }),
            Self::ConsentDenied => matches!(d, Diagnosis::ConsentDenied),
            Self::Pkce => matches!(d, Diagnosis::PkceRequired { .. }),
            Self::IdpDisabled => matches!(
                d,
                Diagnosis::IdentityProviderUnavailable {
                    state: wso2_federation::login::IdpState::Disabled
                }
            ),
            Self::UserPassword => matches!(d, Diagnosis::WrongUserPassword),
            Self::PortalNotSwitched => matches!(d, Diagnosis::PortalNotFederated),
        }
    }

    /// The action of the hop where the login must break.
    fn hop(self) -> &'static str {
        match self {
            Self::Callback => "is.authorize",
            Self::RoleClaim | Self::RoleMappingWrong | Self::RoleMappingMissingRole => "portal.api",
            // APIM's authenticator fails inside its /commonauth (then its retry page).
            Self::ClientSecret
            | Self::MutualTls
            | Self::JitUserStore
            | Self::Pkce
            | Self::ConsentDenied => "apim.commonauth",
            // APIM never sends the browser to IS.
            Self::IdpDisabled => "apim.authorize",
            Self::ConsentRequired => "is.consent",
            // IS refuses the credentials and shows its login page again.
            Self::UserPassword => "is.commonauth",
            // APIM's own login page.
            Self::PortalNotSwitched => "apim.login_page",
        }
    }

    /// Breaks the setting on the applied sandbox, and returns the proof to run.
    async fn apply(self, sb: &Sandbox, fed: &Federation) -> LoginProof {
        let is = fed.is_client();
        let apim = fed.apim_client();
        let idp_name = IdpName::new(IDP).unwrap();
        let set_mapping = |local: &'static str| async move {
            let idp_name = IdpName::new(IDP).unwrap();
            let mut idp = apim
                .identity_providers()
                .get(&idp_name)
                .await
                .unwrap()
                .unwrap();
            let mut mappings = idp.role_mappings();
            for m in &mut mappings {
                if m.0 == "publisher_role" {
                    m.1 = RoleName::new(local).unwrap();
                }
            }
            idp.set_role_mappings(mappings);
            apim.identity_providers()
                .update_confirmed(&IdpName::new(IDP).unwrap(), &idp)
                .await
                .unwrap();
        };
        let oauth_key = || async {
            is.oauth_apps()
                .get_by_name(&OAuthAppName::new(APP).unwrap())
                .await
                .unwrap()
                .unwrap()
                .consumer_key()
                .unwrap()
                .unwrap()
        };
        let proof = publisher(fed).await;
        match self {
            Self::Callback => {
                let key = oauth_key().await;
                is.oauth_apps()
                    .modify(&key, |a| {
                        a.callback_url = Some("https://apim.example:9443/commonauth".into())
                    })
                    .await
                    .unwrap();
                proof
            }
            Self::RoleClaim => {
                is.applications()
                    .modify(&ApplicationName::new(APP).unwrap(), |sp| {
                        if let Some(c) = sp.claim_config.as_mut() {
                            c.claim_mappings.clear();
                        }
                    })
                    .await
                    .unwrap();
                proof
            }
            Self::RoleMappingWrong => {
                set_mapping("Internal/creator").await;
                proof
            }
            Self::RoleMappingMissingRole => {
                // The role existed when the mapping was saved (else the IdP service drops
                // it) and was deleted afterwards.
                sb.apim().add_role(SUPER_TENANT, "Internal/publisher_gone");
                set_mapping("Internal/publisher_gone").await;
                sb.apim()
                    .with_tenant_mut(SUPER_TENANT, |t| t.roles.remove("Internal/publisher_gone"));
                proof
            }
            Self::ClientSecret => {
                let mut idp = apim
                    .identity_providers()
                    .get(&idp_name)
                    .await
                    .unwrap()
                    .unwrap();
                let mut oidc = idp.oidc_authenticator().unwrap();
                oidc.set_client_secret(wso2_is_client::Secret::new("not-the-secret"));
                idp.set_oidc_authenticator(oidc, true);
                apim.identity_providers()
                    .update_confirmed(&idp_name, &idp)
                    .await
                    .unwrap();
                proof
            }
            // Set up by the federation's own settings (see `case`).
            Self::MutualTls | Self::PortalNotSwitched => proof,
            Self::JitUserStore => {
                let mut idp = apim
                    .identity_providers()
                    .get(&idp_name)
                    .await
                    .unwrap()
                    .unwrap();
                if let Some(j) = idp.just_in_time_provisioning_config.as_mut() {
                    j.provisioning_user_store = Some(String::new());
                }
                apim.identity_providers()
                    .update_confirmed(&idp_name, &idp)
                    .await
                    .unwrap();
                proof
            }
            // Someone turned the application's consent switch off: IS asks again.
            Self::ConsentRequired | Self::ConsentDenied => {
                is.applications()
                    .modify(&ApplicationName::new(APP).unwrap(), |sp| {
                        sp.sp_properties
                            .retain(|p| p.name.as_deref() != Some("skipConsent"))
                    })
                    .await
                    .unwrap();
                proof.consent(if matches!(self, Self::ConsentRequired) {
                    ConsentChoice::Refuse
                } else {
                    ConsentChoice::Deny
                })
            }
            Self::Pkce => {
                let key = oauth_key().await;
                is.oauth_apps()
                    .modify(&key, |a| a.pkce_mandatory = Some(true))
                    .await
                    .unwrap();
                proof
            }
            Self::IdpDisabled => {
                // The IdP service refuses to disable an IdP a service provider uses: as an
                // operator editing the registry would.
                sb.apim().with_tenant_mut(SUPER_TENANT, |t| {
                    t.identity_providers
                        .get_mut(IDP)
                        .unwrap()
                        .set_text("enable", "false")
                });
                proof
            }
            Self::UserPassword => {
                proof_for(fed, Portal::Publisher, "api_publisher", "wrong-pw").await
            }
        }
    }
}

async fn case(broken: Broken) -> (LoginReport, Sandbox) {
    let (sb, fed, _j) = match broken {
        Broken::MutualTls => {
            applied_with(
                |sb| sb.is().update_quirks(|q| q.mutual_tls_conflict = true),
                |sb| seed_builder(sb).client_auth(ClientAuthMode::RequestBody),
            )
            .await
        }
        // The settings switch the Developer Portal only.
        Broken::PortalNotSwitched => {
            applied_with(|_| {}, |sb| seed_builder(sb).portals([Portal::DevPortal])).await
        }
        _ => applied().await,
    };
    let proof = broken.apply(&sb, &fed).await;
    sb.clear_requests();
    (proof.run().await, sb)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_broken_setting_is_diagnosed_by_name() {
    let (_sb, fed, _j) = applied().await;
    let good = publisher(&fed).await.run().await;
    assert!(good.is_proved(), "{good}");

    let mut diagnosed = 0;
    for broken in Broken::ALL {
        let (report, sb) = case(broken).await;
        println!("{broken:?}:\n{report}\n");
        let Some(d) = report.diagnosis() else {
            panic!("{broken:?}: not diagnosed:\n{report}");
        };
        assert!(
            broken.expected(d),
            "{broken:?}: diagnosed as {d:?}\n{report}"
        );
        assert_eq!(
            report.broken_hop().map(|h| h.action.as_str()),
            Some(broken.hop()),
            "{broken:?}\n{report}"
        );
        // The browser's hops are the servers' own record of the login, in order.
        assert_eq!(actions(&report), server_side_hops(&sb), "{broken:?}");
        // The finding the lead shows fails, and names the fix.
        let findings = report.findings();
        let failed: Vec<_> = findings
            .iter()
            .filter(|f| f.status == Status::Fail)
            .collect();
        assert_eq!(failed.len(), 1, "{broken:?}: {findings:?}");
        assert_eq!(failed[0].fix.as_deref(), Some(d.fix().as_str()));
        diagnosed += 1;
    }
    println!(
        "login proof: {} hops, {diagnosed} broken settings diagnosed of {}",
        good.hops.len(),
        Broken::ALL.len()
    );
}

/// The publisher API's path per APIM release is the simulator's (`SimServer::publisher_api_path`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publisher_api_paths_agree_with_the_simulator() {
    for (major, minor) in [
        (3, 0),
        (3, 1),
        (3, 2),
        (4, 0),
        (4, 1),
        (4, 2),
        (4, 5),
        (4, 7),
    ] {
        let sb = Sandbox::builder()
            .apim_version(format!("{major}.{minor}").as_str())
            .start()
            .await
            .unwrap();
        assert_eq!(
            sb.apim().publisher_api_path().as_deref(),
            Some(wso2_federation::login::publisher_api_path(
                wso2_apim_client::version::ServerVersion::apim(major, minor)
            )),
            "APIM {major}.{minor}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_at_the_hops_give_a_diagnosis() {
    for (server, action, want) in [
        ("is", "is.token", "server"),
        ("is", "is.login_page", "server"),
        ("apim", "apim.commonauth", "server"),
        ("apim", "portal.callback", "server"),
        ("apim", "portal.token", "server"),
        ("apim", "portal.introspect", "server"),
    ] {
        let (sb, fed, _j) = applied().await;
        let target = if server == "is" { sb.is() } else { sb.apim() };
        let kind = if action == "apim.commonauth" {
            FaultKind::ConnectionReset
        } else {
            FaultKind::PlainText500
        };
        target.inject(FaultRule::nth(action, 1, kind));
        let report = publisher(&fed).await.run().await;
        println!("fault at {action}:\n{report}\n");
        let d = report
            .diagnosis()
            .unwrap_or_else(|| panic!("{action}: {report}"));
        assert_eq!(d.setting(), want, "{action}: {d:?}");
        assert!(
            target
                .all_requests()
                .iter()
                .any(|r| r.action == action && r.fault.is_some()),
            "{action}: the fault was not hit"
        );
        if action == "is.token" {
            // A browser cannot see IS's 500 to APIM; the settings read right, so the
            // authenticator is named, not a setting.
            assert!(matches!(d, Diagnosis::AuthenticatorFailed { .. }), "{d:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_servers_and_urls_only_proofs() {
    let (sb, fed, _j) = applied().await;
    // From URLs and the CA alone (no admin reads): the login and the rights still prove.
    let proof = LoginProof::builder(sb.apim().base_url(), sb.is().base_url())
        .ca_pem(sb.ca_pem().as_bytes().to_vec())
        .user("api_publisher", PUBLISHER_PASSWORD)
        .apim_version(wso2_apim_client::version::ServerVersion::apim(3, 0))
        .request_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let report = proof.run().await;
    println!("{report}");
    assert!(report.is_proved(), "{report}");
    assert_eq!(report.rights().unwrap().apim_roles, None);
    assert_eq!(report.rights().unwrap().api_status, Some(200));

    // Without the CA: TLS, named.
    let report = LoginProof::builder(sb.apim().base_url(), sb.is().base_url())
        .user("api_publisher", PUBLISHER_PASSWORD)
        .build()
        .unwrap()
        .run()
        .await;
    assert_eq!(
        report.diagnosis().map(Diagnosis::setting),
        Some("tls"),
        "{report}"
    );

    // A closed port.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let report = LoginProof::builder(format!("https://127.0.0.1:{closed}"), sb.is().base_url())
        .ca_pem(sb.ca_pem().as_bytes().to_vec())
        .user("api_publisher", PUBLISHER_PASSWORD)
        .build()
        .unwrap()
        .run()
        .await;
    println!("{report}");
    assert!(
        matches!(
            report.diagnosis(),
            Some(Diagnosis::Unreachable {
                server: wso2_federation::login::Side::Apim,
                ..
            })
        ),
        "{report}"
    );
    assert_eq!(report.hops.len(), 1);
    assert_eq!(report.hops[0].status, None);
    let _ = fed;
}

/// Secrets: the users' passwords (canaries), and every code, state, session data key and
/// consent key the servers handed out during the logins, never appear in the report (text,
/// `Debug`, JSON, findings), the proof's `Debug`, or the TRACE logs. Positive control: the
/// password went to IS (the login succeeded) and the scan finds a planted canary.
#[tokio::test]
async fn no_secret_in_reports_or_logs() {
    let (logs, _guard) = capture_logs();
    let (sb, fed, _j) = applied().await;
    let mut texts: Vec<(String, String)> = Vec::new();
    for (proof, expect_ok) in [
        (publisher(&fed).await, true),
        (subscriber(&fed).await, true),
        (
            proof_for(&fed, Portal::Publisher, "api_publisher", USER_PASSWORD).await,
            false,
        ),
    ] {
        texts.push(("proof Debug".into(), format!("{proof:?}")));
        let report = proof.run().await;
        assert_eq!(report.is_proved(), expect_ok, "{report}");
        texts.push(("report".into(), report.to_string()));
        texts.push(("report Debug".into(), format!("{report:?}")));
        texts.push((
            "report JSON".into(),
            serde_json::to_string(&report).unwrap(),
        ));
        texts.push(("findings".into(), format!("{:?}", report.findings())));
    }
    // What the servers handed the browser, from their own logs.
    let mut handed: Vec<String> = Vec::new();
    for (_, r) in sb.hops() {
        for (k, v) in url::form_urlencoded::parse(r.query.as_bytes()) {
            if [
                "code",
                "state",
                "sessionDataKey",
                "sessionDataKeyConsent",
                "session_state",
            ]
            .contains(&k.as_ref())
                && v.len() >= 8
            {
                handed.push(v.split(',').next().unwrap_or_default().to_owned());
            }
        }
    }
    assert!(
        handed.len() >= 10,
        "the scan needs the servers' values: {handed:?}"
    );
    assert!(
        sb.is()
            .all_requests()
            .iter()
            .any(|r| r.action == "is.commonauth" && r.body.contains(PUBLISHER_PASSWORD)),
        "positive control: the password went to IS"
    );
    let log_text = logs.text();
    assert!(
        log_text.contains("login hop"),
        "the TRACE logs were not captured"
    );
    texts.push(("TRACE logs".into(), log_text));

    let mut scan = Scan::default();
    scan.check("probe", &format!("x{PUBLISHER_PASSWORD}y"));
    assert_eq!(scan.leaks.len(), 1);
    let mut scan = Scan::default();
    for (place, text) in &texts {
        scan.check(place.clone(), text);
        for v in &handed {
            assert!(
                !text.contains(v.as_str()),
                "{place} shows a value the server handed out: {v}"
            );
        }
    }
    println!(
        "login secrets: {} server-issued values checked",
        handed.len()
    );
    scan.finish("login proof");
    let _ = LoginOutcome::Broken {
        hop: None,
        diagnosis: Diagnosis::ConsentDenied,
        rights: None,
    };
}
