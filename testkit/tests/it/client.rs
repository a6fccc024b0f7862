//! The same server-side rules, through the real `wso2-is-client` (what the federation uses).

use wso2_is_client::model::{
    AuthenticationStep, IdentityProvider as IdpModel, LocalAndOutboundAuthenticationConfig,
};
use wso2_is_client::oauth::{GrantType, OAuthConsumerAppDTO};
use wso2_is_client::users::AddUser;
use wso2_is_client::{
    ApplicationName, AuthMode, ConsumerKey, IdpName, IsClient, OAuthAppName, RoleName, UserName,
};
use wso2_testkit::{FaultKind, FaultRule, Sandbox, SimServer};

fn client(sb: &Sandbox, server: &SimServer, user: &str) -> IsClient {
    IsClient::builder(server.base_url())
        .credentials(user, server.admin().password)
        .ca_pem(sb.ca_pem().as_bytes().to_vec())
        .build()
        .expect("client")
}

fn app(name: &str) -> ApplicationName {
    ApplicationName::new(name).expect("name")
}

fn federated(idp: &str, steps: usize) -> LocalAndOutboundAuthenticationConfig {
    let mut cfg = LocalAndOutboundAuthenticationConfig::default();
    cfg.authentication_type = Some("federated".into());
    for i in 0..steps {
        let mut step = AuthenticationStep::default();
        let mut fed = IdpModel::default();
        fed.identity_provider_name = Some(idp.into());
        step.federated_identity_providers.push(fed);
        step.step_order = Some(i as i32 + 1);
        cfg.authentication_steps.push(step);
    }
    cfg
}

#[tokio::test]
async fn service_providers_ids_duplicates_and_the_federated_rule() {
    let sb = Sandbox::start().await.expect("sandbox");
    let apim = client(&sb, sb.apim(), "admin");
    let created = apim
        .applications()
        .create(
            &wso2_is_client::model::ServiceProvider::named(&app("portal")).with_description("d"),
        )
        .await
        .expect("create");
    assert!(
        created.application_id.is_some_and(|id| id > 0),
        "id assigned by the server"
    );
    let dup = apim
        .applications()
        .create(&wso2_is_client::model::ServiceProvider::named(&app(
            "portal",
        )))
        .await
        .expect_err("duplicate");
    assert!(dup.is_already_exists(), "{dup:?}");
    assert!(
        apim.applications()
            .get(&app("missing"))
            .await
            .expect("get")
            .is_none()
    );

    let mut idp = IdpModel::named(&IdpName::new("wso2is").expect("name"));
    idp.enable = Some(true);
    apim.identity_providers().add(&idp).await.expect("add idp");
    let two = apim
        .applications()
        .modify(&app("portal"), |sp| {
            sp.local_and_out_bound_authentication_config = Some(federated("wso2is", 2))
        })
        .await
        .expect_err("two steps refused");
    assert!(
        two.fault().is_some_and(|f| f
            .message
            .raw()
            .contains("Invalid federated authentication configuration")),
        "{two:?}"
    );
    let ok = apim
        .applications()
        .modify(&app("portal"), |sp| {
            sp.local_and_out_bound_authentication_config = Some(federated("wso2is", 1))
        })
        .await;
    assert!(ok.is_ok(), "{ok:?}");
    let sp = apim
        .applications()
        .get(&app("portal"))
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(sp.application_id, created.application_id);
    assert_eq!(
        sp.description.as_deref(),
        Some("d"),
        "modify kept every field"
    );
    // The IdP is referenced now.
    let del = apim
        .identity_providers()
        .delete(&IdpName::new("wso2is").expect("name"))
        .await
        .expect_err("referenced");
    assert!(
        del.fault()
            .is_some_and(|f| f.message.raw().contains("cannot be deleted")),
        "{del:?}"
    );
    // Deleting a missing SP faults "User not authorized", which the client reads as not found.
    apim.applications()
        .delete(&app("portal"))
        .await
        .expect("delete");
    assert!(
        apim.applications()
            .get(&app("portal"))
            .await
            .expect("get")
            .is_none()
    );
}

#[tokio::test]
async fn idp_role_mappings_to_missing_roles_are_dropped() {
    let sb = Sandbox::start().await.expect("sandbox");
    let apim = client(&sb, sb.apim(), "admin");
    let name = IdpName::new("wso2is").expect("name");
    let mut idp = IdpModel::named(&name);
    idp.enable = Some(true);
    idp.set_role_mappings([
        (
            "user_role",
            RoleName::new("Internal/subscriber").expect("role"),
        ),
        (
            "publisher_role",
            RoleName::new("Internal/Publisher").expect("role"),
        ),
    ]);
    apim.identity_providers().add(&idp).await.expect("add");
    let read = apim
        .identity_providers()
        .get(&name)
        .await
        .expect("get")
        .expect("exists");
    let kept: Vec<(String, String)> = read
        .role_mappings()
        .into_iter()
        .map(|(r, l)| (r, l.as_str().to_owned()))
        .collect();
    assert_eq!(
        kept,
        [("user_role".to_owned(), "Internal/subscriber".to_owned())]
    );
    assert_eq!(
        read.permission_and_role_config
            .as_ref()
            .map(|c| c.idp_roles.clone()),
        Some(vec!["user_role".to_owned()])
    );
    assert!(
        apim.identity_providers()
            .get(&IdpName::new("nope").expect("n"))
            .await
            .expect("get")
            .is_none()
    );
    let dup = apim
        .identity_providers()
        .add(&idp)
        .await
        .expect_err("duplicate");
    assert!(dup.is_already_exists(), "{dup:?}");
}

#[tokio::test]
async fn oauth_apps_keep_keys_and_updates_replace_the_whole_record() {
    let sb = Sandbox::start().await.expect("sandbox");
    let is = client(&sb, sb.is(), "admin");
    let key = ConsumerKey::new("fed-key").expect("key");
    let name = OAuthAppName::new("apim-sso").expect("name");
    let dto = OAuthConsumerAppDTO::new(&name)
        .with_callback_url("https://localhost:9443/commonauth")
        .with_grant_types([GrantType::AuthorizationCode, GrantType::Password])
        .with_consumer_key(&key)
        .with_consumer_secret("fed-secret".to_owned());
    is.oauth_apps().register(&dto).await.expect("register");
    let got = is
        .oauth_apps()
        .get(&key)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        got.oauth_consumer_secret.as_ref().and_then(|s| s.expose()),
        Some("fed-secret")
    );
    assert!(got.allows(&GrantType::Password));
    let dup = is.oauth_apps().register(&dto).await.expect_err("duplicate");
    assert!(dup.is_already_exists(), "{dup:?}");
    // A partial record wipes what it leaves out: the server replaces the whole app.
    let mut partial = OAuthConsumerAppDTO::new(&name)
        .with_consumer_key(&key)
        .with_consumer_secret("fed-secret".to_owned());
    partial.callback_url = None;
    is.oauth_apps().update(&partial).await.expect("update");
    let after = is
        .oauth_apps()
        .get(&key)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(after.callback_url, None);
    assert!(
        after.grant_type_list().is_empty(),
        "{:?}",
        after.grant_type_list()
    );
    // The read-modify-write helper loses nothing.
    let modified = is
        .oauth_apps()
        .modify(&key, |a| {
            a.callback_url = Some("https://apim/commonauth".into())
        })
        .await;
    assert!(modified.is_ok(), "{modified:?}");
    let after = is
        .oauth_apps()
        .get(&key)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        after.callback_url.as_deref(),
        Some("https://apim/commonauth")
    );
    assert_eq!(
        after
            .oauth_consumer_secret
            .as_ref()
            .and_then(|s| s.expose()),
        Some("fed-secret")
    );
    is.oauth_apps().remove(&key).await.expect("remove");
    is.oauth_apps()
        .remove(&key)
        .await
        .expect("remove is silent when missing");
    assert!(is.oauth_apps().get(&key).await.expect("get").is_none());
}

#[tokio::test]
async fn users_roles_sessions_and_tenants() {
    let sb = Sandbox::start().await.expect("sandbox");
    let is = client(&sb, sb.is(), "admin");
    let role = RoleName::new("publisher_role").expect("role");
    let user = UserName::new("api_publisher").expect("user");
    wso2_is_client::users::AddRole::new(&role)
        .send(&is)
        .await
        .expect("add role");
    AddUser::new(&user, "pub-pass".to_owned())
        .role(&role)
        .send(&is)
        .await
        .expect("add user");
    assert!(is.users().user_exists(&user).await.expect("exists"));
    assert!(is.users().role_exists(&role).await.expect("exists"));
    let roles = is.users().roles_of_user(&user).await.expect("roles");
    assert!(roles.contains(&"publisher_role".to_owned()), "{roles:?}");
    let dup = AddUser::new(&user, "pub-pass".to_owned())
        .send(&is)
        .await
        .expect_err("dup");
    assert!(dup.is_already_exists(), "{dup:?}");
    is.users().delete_user(&user).await.expect("delete");
    let gone = is.users().delete_user(&user).await.expect_err("missing");
    assert!(gone.is_not_found(), "{gone:?}");

    // Session authentication through AuthenticationAdmin.
    let session: IsClient = IsClient::builder(sb.is().base_url())
        .credentials("admin", "admin")
        .auth_mode(AuthMode::Session)
        .ca_pem(sb.ca_pem().as_bytes().to_vec())
        .build()
        .expect("client");
    assert!(
        session
            .applications()
            .list()
            .await
            .expect("list")
            .is_empty()
    );
    assert!(sb.is().requests().iter().any(|r| r.action == "login"));
    // Wrong password: the 50977 fault.
    let wrong: IsClient = IsClient::builder(sb.is().base_url())
        .credentials("admin", "nope")
        .ca_pem(sb.ca_pem().as_bytes().to_vec())
        .build()
        .expect("client");
    let err = wrong.applications().list().await.expect_err("refused");
    assert!(err.is_auth_failure(), "{err:?}");
    // A tenant admin works in its own tenant only.
    let tenant = client(&sb, sb.is(), "admin@example.com");
    tenant
        .applications()
        .create(&wso2_is_client::model::ServiceProvider::named(&app(
            "tenant-app",
        )))
        .await
        .expect("create in tenant");
    assert!(
        is.applications()
            .get(&app("tenant-app"))
            .await
            .expect("get")
            .is_none()
    );
}

#[tokio::test]
async fn unknown_outcomes_are_visible_to_the_client() {
    let sb = Sandbox::start().await.expect("sandbox");
    let apim = client(&sb, sb.apim(), "admin");
    sb.apim()
        .update_quirks(|q| q.add_idp_500_after_commit = true);
    let name = IdpName::new("wso2is").expect("name");
    let mut idp = IdpModel::named(&name);
    idp.enable = Some(true);
    let err = apim.identity_providers().add(&idp).await.expect_err("500");
    assert_eq!(err.status(), Some(500));
    assert!(
        apim.identity_providers()
            .get(&name)
            .await
            .expect("get")
            .is_some(),
        "committed anyway"
    );
    sb.apim().inject(FaultRule::nth(
        "createApplication",
        1,
        FaultKind::ConnectionReset,
    ));
    let err = apim
        .applications()
        .create(&wso2_is_client::model::ServiceProvider::named(&app("x")))
        .await
        .expect_err("reset");
    assert!(!err.is_already_exists());
    assert!(
        apim.applications()
            .get(&app("x"))
            .await
            .expect("get")
            .is_none(),
        "reset before commit"
    );
}

/// Registers the OAuth app `cid`/`csecret` on IS (code and password grants).
async fn oauth_client_app(is: &IsClient) {
    let dto = OAuthConsumerAppDTO::new(&OAuthAppName::new("probe-app").expect("name"))
        .with_callback_url("https://localhost:9443/commonauth")
        .with_grant_types([GrantType::AuthorizationCode, GrantType::Password])
        .with_consumer_key(&ConsumerKey::new("cid").expect("key"))
        .with_consumer_secret("csecret".to_owned());
    is.oauth_apps().register(&dto).await.expect("register");
}

#[tokio::test]
async fn oidc_discovery_and_the_client_authentication_probe() {
    use wso2_is_client::oidc::{ClientAuthMethod, ProbeOutcome};
    let sb = Sandbox::builder()
        .request_client_cert()
        .start()
        .await
        .expect("sandbox");
    let is = client(&sb, sb.is(), "admin");
    oauth_client_app(&is).await;
    let op = is.oidc().server_discovery().await.expect("discovery");
    assert_eq!(op.issuer, format!("{}/oauth2/token", sb.is().base_url()));
    let token = op.token_endpoint.expect("token endpoint").to_string();
    let probe = |c: &IsClient, secret: &'static str, how: ClientAuthMethod| {
        let c = c.clone();
        let token = token.clone();
        async move {
            wso2_is_client::oidc::ClientAuthProbe::new(token.as_str(), "cid", secret, how)
                .redirect_uri("https://localhost:9443/commonauth")
                .send(&c)
                .await
                .expect("probe")
        }
    };
    assert!(
        probe(&is, "csecret", ClientAuthMethod::Basic)
            .await
            .is_accepted()
    );
    assert!(
        probe(&is, "csecret", ClientAuthMethod::Post)
            .await
            .is_accepted(),
        "no client cert presented"
    );
    assert!(matches!(
        probe(&is, "wrong", ClientAuthMethod::Basic).await,
        ProbeOutcome::InvalidClient { status: 401, .. }
    ));
    assert!(matches!(
        probe(&is, "csecret", ClientAuthMethod::Both).await,
        ProbeOutcome::MultipleAuthMethods { .. }
    ));
    // A caller presenting a certificate (as APIM's JVM does) with body credentials: IS 5.9's
    // MutualTLS authenticator engages too.
    let id = sb.client_identity("apim").expect("client cert");
    let with_cert: IsClient = IsClient::builder(sb.is().base_url())
        .credentials("admin", "admin")
        .ca_pem(sb.ca_pem().as_bytes().to_vec())
        .client_identity_pem(id.cert_pem.clone().into_bytes(), id.key_pem.clone())
        .build()
        .expect("client");
    match probe(&with_cert, "csecret", ClientAuthMethod::Post).await {
        ProbeOutcome::MultipleAuthMethods {
            status,
            description,
        } => {
            assert_eq!(status, 400);
            assert_eq!(
                description.as_ref().map(|d| d.raw()),
                Some("The client MUST NOT use more than one authentication method in each")
            );
        }
        other => panic!("{other:?}"),
    }
    // IsBasicAuthEnabled=true: header only, no conflict even with the certificate.
    assert!(
        probe(&with_cert, "csecret", ClientAuthMethod::Basic)
            .await
            .is_accepted()
    );
}

#[tokio::test]
async fn scim2_users_groups_and_bulk_through_the_client() {
    use wso2_is_client::scim2::{BulkOperation, ScimGroup, ScimMember, ScimUser};
    let sb = Sandbox::start().await.expect("sandbox");
    let is = client(&sb, sb.is(), "admin");
    let scim = is.scim2();
    let name = UserName::new("api_user").expect("name");
    let user = scim
        .users()
        .create(&ScimUser::new(&name).with_password("user-pass".to_owned()))
        .await
        .expect("create user");
    let dup = scim
        .users()
        .create(&ScimUser::new(&name).with_password("user-pass".to_owned()))
        .await
        .expect_err("duplicate");
    assert!(dup.is_already_exists(), "{dup:?}");
    let found = scim
        .users()
        .find_by_name(&name)
        .await
        .expect("find")
        .expect("found");
    assert_eq!(found.id, user.id);
    let role = RoleName::new("user_role").expect("role");
    let member = ScimMember::user(&user).expect("member");
    let group = scim
        .groups()
        .create(&ScimGroup::new(&role).with_member(member))
        .await
        .expect("create group");
    // Roles are groups: the SOAP view sees the same role and membership.
    assert!(is.users().role_exists(&role).await.expect("exists"));
    assert!(
        is.users()
            .roles_of_user(&name)
            .await
            .expect("roles")
            .contains(&"user_role".to_owned())
    );
    let gid = group.id.clone().expect("id");
    let by_name = scim
        .groups()
        .find_by_name(&role)
        .await
        .expect("find")
        .expect("found");
    assert_eq!(by_name.id.as_deref(), Some(gid.as_str()));
    scim.groups()
        .remove_members(&gid, &[user.id.as_deref().expect("id")])
        .await
        .expect("remove");
    assert!(
        !is.users()
            .roles_of_user(&name)
            .await
            .expect("roles")
            .contains(&"user_role".to_owned())
    );
    let config = scim.service_provider_config().await.expect("config");
    let _ = config;
    // Bulk is not atomic: the first create stays when the second fails.
    let ops = vec![
        BulkOperation::create_user(
            "a",
            &ScimUser::new(&UserName::new("dev1").expect("n")).with_password("dev-pass".to_owned()),
        )
        .expect("op"),
        BulkOperation::create_user(
            "b",
            &ScimUser::new(&name).with_password("dev-pass".to_owned()),
        )
        .expect("op"),
    ];
    let report = wso2_is_client::scim2::Bulk::new(ops)
        .fail_on_errors(1)
        .send(&scim)
        .await
        .expect("bulk");
    assert!(!report.all_succeeded());
    assert_eq!(report.succeeded().count(), 1);
    assert!(
        is.users()
            .user_exists(&UserName::new("dev1").expect("n"))
            .await
            .expect("exists")
    );
    scim.users()
        .delete(user.id.as_deref().expect("id"))
        .await
        .expect("delete");
    assert!(
        scim.users()
            .get(user.id.as_deref().expect("id"))
            .await
            .expect("get")
            .is_none()
    );
}

#[tokio::test]
async fn portal_sps_appear_on_first_login_and_restore_exactly_through_the_apim_client() {
    use wso2_apim_client::ApimClient;
    use wso2_apim_client::portals::{Portal, SwitchOptions};
    for naming in [
        wso2_testkit::PortalNaming::Apim31,
        wso2_testkit::PortalNaming::Apim300,
    ] {
        let sb = Sandbox::start().await.expect("sandbox");
        sb.apim().update_quirks(|q| q.portal_naming = naming);
        let apim: ApimClient = ApimClient::builder(sb.apim().base_url())
            .credentials("admin", "admin")
            .ca_pem(sb.ca_pem().as_bytes().to_vec())
            .build()
            .expect("client");
        let before = sb.snapshot();
        let publisher = apim
            .portals()
            .ensure(Portal::Publisher)
            .await
            .expect("ensure");
        let expected = match naming {
            wso2_testkit::PortalNaming::Apim31 | wso2_testkit::PortalNaming::Apim310 => {
                "apim_publisher"
            }
            wso2_testkit::PortalNaming::Apim300 => "admin_admin_publisher",
        };
        assert_eq!(publisher.application_name.as_deref(), Some(expected));
        assert!(
            sb.apim()
                .requests()
                .iter()
                .any(|r| r.action == "portal.login"
                    && r.path == "/publisher/services/auth/login"
                    && r.mutating),
            "created by the login endpoint"
        );
        assert!(!before.diff(&sb.snapshot()).is_empty());
        // Switch to federated and restore: the portal SP is exactly as it was.
        let mut idp = IdpModel::named(&IdpName::new("wso2is").expect("name"));
        idp.enable = Some(true);
        // The step names the IdP's OIDC authenticator, so the IdP must have one (else WSO2's
        // validator answers "Validation Error").
        idp.set_oidc_authenticator(
            wso2_is_client::idp::OidcAuthenticator::new().with_client_id("cid"),
            true,
        );
        client(&sb, sb.apim(), "admin")
            .identity_providers()
            .add(&idp)
            .await
            .expect("add idp");
        let pre = sb.snapshot();
        let snap = apim
            .portals()
            .snapshot(Portal::Publisher)
            .await
            .expect("snapshot");
        apim.portals()
            .switch_to_federated(
                Portal::Publisher,
                &IdpName::new("wso2is").expect("name"),
                &SwitchOptions::default(),
            )
            .await
            .expect("switch");
        assert!(!pre.diff(&sb.snapshot()).is_empty());
        apim.portals().restore(&snap).await.expect("restore");
        pre.assert_same(&sb.snapshot());
    }
}
