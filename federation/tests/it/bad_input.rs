//! Bad input stops before any request (issue 5's builder table): invalid specs through
//! `Federation::builder()` must give a clear message, and the simulated servers the settings
//! point at must record no request. (The configuration files and command lines are in the
//! `wso2-federate` package's tests.)
//!
//! `cargo test -p wso2-federation --test it bad_input -- --nocapture` prints the number of cases.

use wso2_apim_client::portals::Portal;
use wso2_federation::{Federation, FederationBuilder, JitSpec};
use wso2_testkit::Sandbox;

use crate::support::*;

/// One invalid spec given to the builder.
struct SpecCase {
    name: &'static str,
    build: fn(&Sandbox) -> FederationBuilder,
    /// `field: message` texts the error must contain.
    expect: &'static [&'static str],
}

fn spec_cases() -> Vec<SpecCase> {
    vec![
        SpecCase {
            name: "no IS client",
            build: |_| Federation::builder(),
            expect: &[
                "is: an IS client is required (`.is(IsClient)`)",
                "apim: an APIM client is required (`.apim(ApimClient)`)",
            ],
        },
        SpecCase {
            name: "a service provider name with a line break",
            build: |sb| seed_builder(sb).service_provider("apim\nfederation"),
            expect: &["service_provider: ", "control character U+000A"],
        },
        SpecCase {
            name: "an identity provider name with trailing space",
            build: |sb| seed_builder(sb).identity_provider("wso2-is "),
            expect: &["identity_provider: ", "leading or trailing white space"],
        },
        SpecCase {
            name: "a tenant that is not a domain",
            build: |sb| seed_builder(sb).tenant("tenant_one"),
            expect: &[r#"tenant: "tenant_one" is not a domain name such as example.com"#],
        },
        SpecCase {
            name: "a plain http public URL",
            build: |sb| seed_builder(sb).apim_public_url("http://apim.example.com:9443"),
            expect: &["apim.public_url: ", "uses plain http; use https"],
        },
        SpecCase {
            name: "a browser URL with a query",
            build: |sb| seed_builder(sb).is_browser_url("https://is.example.com/?x=1"),
            expect: &["is.browser_url: ", "must not have a query or fragment"],
        },
        SpecCase {
            name: "a backend URL that is not a URL",
            build: |sb| seed_builder(sb).is_backend_url("is.internal:9444"),
            expect: &["is.backend_url: ", "has scheme \"is.internal\"; use https"],
        },
        SpecCase {
            name: "no grant type",
            build: |sb| seed_builder(sb).grant_types(Vec::<String>::new()),
            expect: &["grant_types: at least `authorization_code` is needed"],
        },
        SpecCase {
            name: "a grant type with a space",
            build: |sb| seed_builder(sb).grant_types(["authorization_code", "refresh token"]),
            expect: &[r#"grant_types[1]: "refresh token" is not a grant type"#],
        },
        SpecCase {
            name: "a requested claim that is not a URI",
            build: |sb| seed_builder(sb).request_claim("email"),
            expect: &[r#"service_provider.requested_claims[0]: "email" is not a local claim URI"#],
        },
        SpecCase {
            name: "a role listed twice",
            build: |sb| seed_builder(sb).role("user_role"),
            expect: &[r#"roles[2]: role "user_role" is listed twice"#],
        },
        SpecCase {
            name: "a user listed twice",
            build: |sb| seed_builder(sb).user("api_user", "UserPass#2024", ["user_role"]),
            expect: &[r#"users[2].name: user "api_user" is listed twice"#],
        },
        SpecCase {
            name: "an empty password",
            build: |sb| seed_builder(sb).user("kim", "", ["user_role"]),
            expect: &["users[2].password: must not be empty"],
        },
        SpecCase {
            name: "a password with white space",
            build: |sb| seed_builder(sb).user("kim", "pass word", ["user_role"]),
            expect: &["users[2].password: breaks IS's default password rule"],
        },
        SpecCase {
            name: "a user role this federation does not create",
            build: |sb| seed_builder(sb).user("kim", "KimPass#1", ["Internal/creator"]),
            expect: &[
                r#"users[2].roles[0]: role "Internal/creator" is not among the roles this federation creates"#,
            ],
        },
        SpecCase {
            name: "a mapping from a role this federation does not create",
            build: |sb| seed_builder(sb).map_role("guest_role", "Internal/subscriber"),
            expect: &[
                r#"role_mappings[2].remote: "guest_role" is not a role this federation creates on IS"#,
            ],
        },
        SpecCase {
            name: "a role mapped twice",
            build: |sb| seed_builder(sb).map_role("user_role", "Internal/creator"),
            expect: &[r#"role_mappings[2].remote: "user_role" is mapped twice"#],
        },
        SpecCase {
            name: "a local role in the wrong case",
            build: |sb| {
                seed_builder(sb)
                    .role("creator_role")
                    .map_role("creator_role", "internal/Creator")
            },
            expect: &[
                r#"role_mappings[2].local: "internal/Creator" is not "Internal/creator": role names are case-sensitive"#,
            ],
        },
        SpecCase {
            name: "just-in-time provisioning without a user store",
            build: |sb| {
                seed_builder(sb).jit(JitSpec {
                    enabled: true,
                    user_store: " ".into(),
                })
            },
            expect: &["jit.user_store: just-in-time provisioning needs a user store"],
        },
        SpecCase {
            name: "no portal",
            build: |sb| seed_builder(sb).portals(Vec::<Portal>::new()),
            expect: &["portals.switch: no portal to switch"],
        },
        SpecCase {
            name: "a portal twice",
            build: |sb| seed_builder(sb).portals([Portal::DevPortal, Portal::DevPortal]),
            expect: &["portals.switch: a portal is listed twice"],
        },
        SpecCase {
            name: "a marker with a slash",
            build: |sb| seed_builder(sb).marker("team/a"),
            expect: &[r#"marker: "team/a" must be 1-64 characters"#],
        },
        SpecCase {
            name: "a client id with a space",
            build: |sb| seed_builder(sb).client_id("my client id"),
            expect: &["client_id: must be 8-255 characters of letters, digits"],
        },
        SpecCase {
            name: "a short client secret",
            build: |sb| seed_builder(sb).client_secret("short"),
            expect: &["client_secret: is shorter than 16 characters"],
        },
        SpecCase {
            name: "an empty client secret",
            build: |sb| seed_builder(sb).client_secret(""),
            expect: &["client_secret: must not be empty (leave it unset to generate one)"],
        },
        SpecCase {
            name: "a client secret with a control character",
            build: |sb| seed_builder(sb).client_secret("0123456789abcdef\u{7}"),
            expect: &["client_secret: contains control characters"],
        },
        SpecCase {
            name: "zero concurrency",
            build: |sb| seed_builder(sb).concurrency(0),
            expect: &["concurrency: must be at least 1"],
        },
        // The servers' own rules, and addresses (issue 10, item 8).
        SpecCase {
            name: "a service provider name IS 5.x refuses",
            build: |sb| seed_builder(sb).service_provider("apim/federation"),
            expect: &[
                "service_provider: \"apim/federation\" breaks IS's service provider name rule",
            ],
        },
        SpecCase {
            name: "a user name the default user store refuses",
            build: |sb| seed_builder(sb).role("rx").user("ab", "KimPass#1", ["rx"]),
            expect: &[
                "users[2].name: \"ab\" breaks the default user store's user name rule",
                "roles[2]: \"rx\" breaks the default user store's role name rule",
            ],
        },
        SpecCase {
            name: "an unknown grant type",
            build: |sb| seed_builder(sb).grant_types(["authorization_code", "client_credential"]),
            expect: &[
                "service_provider.grant_types[1]: \"client_credential\" is not a grant type IS knows",
            ],
        },
        SpecCase {
            name: "a claim outside the local dialect",
            build: |sb| seed_builder(sb).request_claim("http://example.com/claims/mail"),
            expect: &[
                "service_provider.requested_claims[0]: \"http://example.com/claims/mail\" is not a local claim URI",
            ],
        },
        SpecCase {
            name: "plain http for IS allowed only for APIM",
            build: |sb| {
                seed_builder(sb)
                    .allow_http(wso2_federation::engine::Server::Apim, true)
                    .is_backend_url("http://is.internal:9763")
            },
            expect: &[
                "is.backend_url: http://is.internal:9763/ uses plain http",
                "allow plain http for IS explicitly",
            ],
        },
        SpecCase {
            name: "credentials in an address",
            build: |sb| seed_builder(sb).apim_public_url("https://bob:pw@apim.example.com"),
            expect: &["apim.public_url: holds credentials"],
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_allowed_for_a_server_is_warned_about_in_the_plan() {
    let sb = Sandbox::start().await.unwrap();
    let fed = seed_builder(&sb)
        .allow_http(wso2_federation::engine::Server::Is, true)
        .is_backend_url("http://is.internal:9763")
        .build()
        .unwrap();
    let warning = &fed.spec().warnings;
    assert!(
        warning
            .iter()
            .any(|w| w.contains("client secret") && w.contains("in clear")),
        "{warning:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_invalid_spec_is_refused_by_the_builder_before_any_request() {
    let sb = Sandbox::start().await.unwrap();
    // The control: the seed spec builds.
    assert!(seed_builder(&sb).build().is_ok());
    let cases = spec_cases();
    let mut failures = Vec::new();
    for c in &cases {
        sb.clear_requests();
        let message = match (c.build)(&sb).build() {
            Ok(_) => {
                failures.push(format!("{}: built", c.name));
                continue;
            }
            Err(e) => e.to_string(),
        };
        for expected in c.expect {
            if !message.contains(expected) {
                failures.push(format!("{}: no {expected:?} in:\n{message}", c.name));
            }
        }
        for secret in [
            PUBLISHER_PASSWORD,
            USER_PASSWORD,
            "KimPass#1",
            "pass word",
            "bob:pw",
        ] {
            if message.contains(secret) {
                failures.push(format!("{}: the message repeats a password", c.name));
            }
        }
        let n = sb.is().requests().len() + sb.apim().requests().len();
        if n != 0 {
            failures.push(format!("{}: {n} request(s) sent", c.name));
        }
    }
    // Every problem at once.
    let all = seed_builder(&sb)
        .concurrency(0)
        .marker("")
        .map_role("user_role", "Internal/Subscriber")
        .build()
        .unwrap_err();
    assert_eq!(all.problems.len(), 4, "{all}");
    assert!(
        all.to_string()
            .starts_with("the federation settings have 4 problem(s):")
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert_eq!(sb.is().requests().len() + sb.apim().requests().len(), 0);
    println!(
        "builder: {} invalid specs, each refused with its message, 0 requests at the simulated servers",
        cases.len()
    );
}
