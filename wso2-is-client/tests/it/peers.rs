//! Tests against real peers on loopback, started by the CI script and found through:
//!
//! * `SCIM2_PEER_URL`: scim2-server (PyPI), e.g. `http://127.0.0.1:8088/v2`, with its bearer
//!   token in `SCIM2_PEER_TOKEN` (default `test-token`);
//! * `OIDC_PEER_URL`: panva's oidc-provider running `peers/oidc-provider/server.mjs`, e.g.
//!   `http://127.0.0.1:3000` (static clients `apim-basic` and `apim-post`).
//!
//! A missing variable fails the test under CI (env `CI` set) and skips it elsewhere, with the
//! reason on stderr.

use std::time::{SystemTime, UNIX_EPOCH};

use wso2_is_client::oidc::{ClientAuthMethod, ClientAuthProbe, ProbeOutcome};
use wso2_is_client::scim2::{Bulk, BulkOperation, BulkOutcome, ScimGroup, ScimMember, ScimUser};
use wso2_is_client::{IsClient, RetryPolicy, RoleName, UserName};

use crate::support::require;

const REDIRECT_URI: &str = "http://127.0.0.1:9443/commonauth";

/// The value of `var`, or `None` when the test must not run (see the module docs).
fn peer(test: &str, var: &str) -> Option<String> {
    let value = std::env::var(var).ok().filter(|v| !v.trim().is_empty());
    let missing = value
        .is_none()
        .then(|| format!("{var} is not set (the URL of a running peer)"));
    if require(test, missing) { value } else { None }
}

/// A client whose base URL is the peer's URL. The admin credentials are required by the
/// builder but never sent: SCIM goes with the peer's bearer token, OIDC with client credentials.
fn client_for(url: &str) -> IsClient {
    IsClient::builder(url)
        .credentials("unused-admin", "unused-admin-password")
        .allow_http(true)
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

/// A suffix that keeps names unique across runs against the same (long-lived) peer.
fn unique() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{}-{}", std::process::id(), nanos % 1_000_000_000)
}

#[tokio::test]
async fn scim2_client_against_scim2_server() {
    let Some(url) = peer("scim2_client_against_scim2_server", "SCIM2_PEER_URL") else {
        return;
    };
    let token = std::env::var("SCIM2_PEER_TOKEN").unwrap_or_else(|_| "test-token".into());
    let c = client_for(&url);
    let scim = c.scim2().base_path("").bearer_token(token);
    let run = unique();
    let password = format!("Peer#Pw-{run}");

    // Create a user.
    let name = UserName::new(format!("kim-{run}")).unwrap();
    let user = ScimUser::new(&name)
        .with_name("Kim", "Berry")
        .with_email(format!("kim-{run}@example.test"))
        .with_password(password.clone());
    let created = scim.users().create(&user).await.unwrap();
    let user_id = created.id.clone().expect("the server assigns an id");
    assert_eq!(created.user_name, name.as_str());
    assert!(
        created.password.is_none(),
        "a password must never come back"
    );

    // The same name again: already exists (409 uniqueness), without the password in the error.
    let err = scim.users().create(&user).await.unwrap_err();
    assert!(err.is_already_exists(), "{err}");
    assert!(!err.to_string().contains(&password), "{err}");

    // Find by filter; get by id; a missing id is None.
    let found = scim.users().find_by_name(&name).await.unwrap().unwrap();
    assert_eq!(found.id.as_deref(), Some(user_id.as_str()));
    let quoted = UserName::new(format!("no \"such\" user {run}")).unwrap();
    assert_eq!(scim.users().find_by_name(&quoted).await.unwrap(), None);
    assert!(scim.users().get(&user_id).await.unwrap().is_some());
    assert_eq!(scim.users().get("no-such-id").await.unwrap(), None);

    // Read-modify-write keeps what was read.
    let mut changed = found.clone();
    changed.name.as_mut().unwrap().given_name = Some("Kimberly".into());
    let replaced = scim.users().replace(&changed).await.unwrap();
    assert_eq!(
        replaced.name.unwrap().given_name.as_deref(),
        Some("Kimberly")
    );
    assert_eq!(replaced.emails, found.emails);

    // A group, then its members patched in and out.
    let role = RoleName::new(format!("publisher_role-{run}")).unwrap();
    let group = scim.groups().create(&ScimGroup::new(&role)).await.unwrap();
    let group_id = group.id.clone().unwrap();
    // RFC 7643 gives `displayName` no uniqueness and scim2-server accepts a second group of
    // the same name (IS refuses it with 409, see the wiremock tests): remove it again.
    let dup = scim.groups().create(&ScimGroup::new(&role)).await.unwrap();
    scim.groups()
        .delete(dup.id.as_deref().unwrap())
        .await
        .unwrap();
    let member = ScimMember::user(&created).unwrap();
    scim.groups()
        .add_members(&group_id, &[member])
        .await
        .unwrap();
    let with_member = scim.groups().find_by_name(&role).await.unwrap().unwrap();
    assert_eq!(with_member.members.len(), 1);
    assert_eq!(with_member.members[0].value, user_id);
    scim.groups()
        .remove_members(&group_id, &[user_id.as_str()])
        .await
        .unwrap();
    let without = scim.groups().get(&group_id).await.unwrap().unwrap();
    assert!(without.members.is_empty(), "{without:?}");

    // Bulk with a failing operation: not atomic, each operation reported.
    let lee = UserName::new(format!("lee-{run}")).unwrap();
    let max = UserName::new(format!("max-{run}")).unwrap();
    let team = RoleName::new(format!("team-{run}")).unwrap();
    let ops = vec![
        BulkOperation::create_user("lee", &ScimUser::new(&lee).with_password(password.clone()))
            .unwrap(),
        BulkOperation::create_user("dup", &user).unwrap(),
        BulkOperation::create_group(
            "team",
            &ScimGroup::new(&team).with_member(ScimMember::new("bulkId:lee")),
        )
        .unwrap(),
        BulkOperation::create_user("max", &ScimUser::new(&max)).unwrap(),
    ];
    // Two per request: the group (second request) refers to `lee` (first request), so the
    // reference is replaced by lee's id; the second request goes despite the duplicate because
    // no error limit is set.
    let report = Bulk::new(ops).max_operations(2).send(&scim).await.unwrap();
    assert_eq!(report.requests, 2, "{report:?}");
    assert!(report.results[0].is_success(), "{report:?}");
    let dup_err = report.results[1].error().expect("the duplicate fails");
    assert!(dup_err.is_already_exists(), "{dup_err}");
    assert!(!dup_err.to_string().contains(&password));
    assert!(report.results[2].is_success(), "{report:?}");
    assert!(report.results[3].is_success(), "{report:?}");
    let lee_id = report.results[0].id().unwrap();
    let team_id = report.results[2].id().unwrap();
    let team_read = scim.groups().get(&team_id).await.unwrap().unwrap();
    assert_eq!(team_read.members[0].value, lee_id);

    // With failOnErrors=1: the first error stops the server, and the report says so.
    let ann = UserName::new(format!("ann-{run}")).unwrap();
    let ops = vec![
        BulkOperation::create_user("dup2", &user).unwrap(),
        BulkOperation::create_user("ann", &ScimUser::new(&ann)).unwrap(),
    ];
    let report = Bulk::new(ops).fail_on_errors(1).send(&scim).await.unwrap();
    assert!(report.results[0].error().unwrap().is_already_exists());
    assert_eq!(report.results[1].outcome, BulkOutcome::NotProcessed);
    assert_eq!(scim.users().find_by_name(&ann).await.unwrap(), None);

    // Clean up through Bulk deletes, then single deletes; a second delete is not-found.
    let ops = vec![
        BulkOperation::delete_group(&team_id).unwrap(),
        BulkOperation::delete_user(&lee_id).unwrap(),
        BulkOperation::delete_user(&report_id(&scim, &max).await).unwrap(),
    ];
    let report = Bulk::new(ops).send(&scim).await.unwrap();
    assert!(report.all_succeeded(), "{report:?}");
    scim.groups().delete(&group_id).await.unwrap();
    scim.users().delete(&user_id).await.unwrap();
    let again = scim.users().delete(&user_id).await.unwrap_err();
    assert!(again.is_not_found(), "{again}");
    assert_eq!(scim.users().find_by_name(&name).await.unwrap(), None);
}

async fn report_id(scim: &wso2_is_client::scim2::Scim2<'_>, name: &UserName) -> String {
    scim.users()
        .find_by_name(name)
        .await
        .unwrap()
        .unwrap()
        .id
        .unwrap()
}

#[tokio::test]
async fn scim2_bulk_limits_come_from_the_peer_config() {
    let Some(url) = peer(
        "scim2_bulk_limits_come_from_the_peer_config",
        "SCIM2_PEER_URL",
    ) else {
        return;
    };
    let token = std::env::var("SCIM2_PEER_TOKEN").unwrap_or_else(|_| "test-token".into());
    let c = client_for(&url);
    let scim = c.scim2().base_path("").bearer_token(token);
    let config = scim.service_provider_config().await.unwrap();
    let bulk = config.bulk.unwrap();
    assert_eq!(bulk.supported, Some(true));
    assert!(bulk.max_operations.unwrap() > 0);
    // A wrong token is refused as an authentication failure.
    let wrong = c.scim2().base_path("").bearer_token("wrong-token");
    let err = wrong.users().get("x").await.unwrap_err();
    assert!(err.is_auth_failure(), "{err}");
}

#[tokio::test]
async fn oidc_discovery_against_oidc_provider() {
    let Some(url) = peer("oidc_discovery_against_oidc_provider", "OIDC_PEER_URL") else {
        return;
    };
    let c = client_for(&url);
    let doc_url = format!(
        "{}/.well-known/openid-configuration",
        url.trim_end_matches('/')
    );
    let op = c.oidc().discovery(&doc_url).await.unwrap();
    assert_eq!(op.issuer, url.trim_end_matches('/'));
    assert!(op.issuer_matches(&url::Url::parse(&doc_url).unwrap()));
    assert_eq!(op.token_endpoint.as_ref().unwrap().path(), "/token");
    assert_eq!(op.userinfo_endpoint.as_ref().unwrap().path(), "/me");
    assert_eq!(
        op.end_session_endpoint.as_ref().unwrap().path(),
        "/session/end"
    );
    assert!(op.supports_client_auth(ClientAuthMethod::Basic));
    assert!(op.supports_client_auth(ClientAuthMethod::Post));
    assert!(
        op.grant_types_supported
            .iter()
            .any(|g| g == "authorization_code")
    );
    assert!(op.scopes_supported.iter().any(|s| s == "openid"));
    assert!(op.claims_supported.iter().any(|s| s == "groups"));
    assert!(op.extra.contains_key("introspection_endpoint"));
    // The same document through a relative path below the base URL.
    let again = c
        .oidc()
        .discovery(".well-known/openid-configuration")
        .await
        .unwrap();
    assert_eq!(again, op);
}

#[tokio::test]
async fn oidc_probe_outcomes_against_oidc_provider() {
    let Some(url) = peer("oidc_probe_outcomes_against_oidc_provider", "OIDC_PEER_URL") else {
        return;
    };
    // The admin base URL is another host: the token endpoint is reached by absolute URL over
    // the same transport, and nothing goes to the admin host.
    let c = client_for("http://127.0.0.1:9/not-the-op/");
    let discovery = format!(
        "{}/.well-known/openid-configuration",
        url.trim_end_matches('/')
    );
    let op = c.oidc().discovery(&discovery).await.unwrap();
    let token = op.token_endpoint.unwrap();
    let probe = |id: &str, secret: &str, method| {
        let probe = ClientAuthProbe::new(token.as_str(), id, secret.to_owned(), method)
            .redirect_uri(REDIRECT_URI);
        let c = &c;
        async move { probe.send(c).await }
    };

    let basic = probe("apim-basic", "apim-basic-secret", ClientAuthMethod::Basic)
        .await
        .unwrap();
    assert_eq!(basic, ProbeOutcome::CredentialsAccepted { status: 400 });

    let post = probe("apim-post", "apim-post-secret", ClientAuthMethod::Post)
        .await
        .unwrap();
    assert_eq!(post, ProbeOutcome::CredentialsAccepted { status: 400 });

    let wrong = probe("apim-basic", "wrong-secret", ClientAuthMethod::Basic)
        .await
        .unwrap();
    assert!(
        matches!(wrong, ProbeOutcome::InvalidClient { status: 401, .. }),
        "{wrong:?}"
    );
    let wrong_post = probe("apim-post", "wrong-secret", ClientAuthMethod::Post)
        .await
        .unwrap();
    assert!(
        matches!(wrong_post, ProbeOutcome::InvalidClient { status: 401, .. }),
        "{wrong_post:?}"
    );

    let both = probe("apim-basic", "apim-basic-secret", ClientAuthMethod::Both)
        .await
        .unwrap();
    match &both {
        ProbeOutcome::MultipleAuthMethods {
            status: 400,
            description: Some(d),
        } => assert!(d.raw().contains("one mechanism"), "{d}"),
        other => panic!("expected the multiple-methods refusal, got {other:?}"),
    }
    for outcome in [&basic, &post, &wrong, &both] {
        let shown = format!("{outcome:?}");
        assert!(!shown.contains("apim-basic-secret") && !shown.contains("apim-post-secret"));
    }
}
