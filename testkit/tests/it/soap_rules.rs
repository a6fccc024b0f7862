//! Server-side rules of the SOAP admin services, through raw HTTP.

use wso2_testkit::{SUPER_TENANT, Sandbox};

use crate::support::*;

#[tokio::test]
async fn create_assigns_an_id_and_stores_only_name_and_description() {
    let sb = Sandbox::start().await.expect("sandbox");
    let c = http(&sb);
    // The inbound config in the create request is ignored, as IS 5.9 does.
    let r = soap(
        &c,
        sb.is(),
        APP,
        "createApplication",
        "<xsd:createApplication><xsd:serviceProvider><m:applicationName>sso</m:applicationName><m:description>d</m:description><m:inboundAuthenticationConfig><m:inboundAuthenticationRequestConfigs><m:inboundAuthKey>k</m:inboundAuthKey><m:inboundAuthType>oauth2</m:inboundAuthType></m:inboundAuthenticationRequestConfigs></m:inboundAuthenticationConfig></xsd:serviceProvider></xsd:createApplication>",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let ret = r.ret();
    assert!(ret.nil, "void operations answer a nil return: {}", r.body);
    let sp = get_app(&c, sb.is(), "sso").await.ret();
    let id: u64 = sp
        .text_of("applicationID")
        .expect("id")
        .parse()
        .expect("int");
    assert!(id > 0);
    assert_eq!(sp.text_of("description"), Some("d"));
    assert!(
        sp.at("inboundAuthenticationConfig/inboundAuthenticationRequestConfigs")
            .is_none()
    );
    assert_eq!(sp.text_at("owner/userName"), Some("admin"));
    // A second one gets another id.
    create_app(&c, sb.is(), "sso2").await;
    let id2 = get_app(&c, sb.is(), "sso2").await.ret();
    assert_ne!(id2.text_of("applicationID"), sp.text_of("applicationID"));
}

#[tokio::test]
async fn duplicate_and_missing_applications_fault_with_wso2_messages() {
    let sb = Sandbox::start().await.expect("sandbox");
    let c = http(&sb);
    assert_eq!(create_app(&c, sb.is(), "dup").await.status, 200);
    let r = create_app(&c, sb.is(), "dup").await;
    assert_eq!(r.status, 500);
    assert_eq!(
        r.fault().as_deref(),
        Some("Application registration failed. An application with name 'dup' already exists.")
    );
    let missing = get_app(&c, sb.is(), "nope").await;
    assert_eq!(missing.status, 500);
    assert_eq!(missing.fault().as_deref(), Some("User not authorized"));
    let del = soap(
        &c,
        sb.is(),
        APP,
        "deleteApplication",
        "<xsd:deleteApplication><xsd:applicationName>nope</xsd:applicationName></xsd:deleteApplication>",
    )
    .await;
    assert_eq!(del.fault().as_deref(), Some("User not authorized"));
    let bad = create_app(&c, sb.is(), "bad/name").await;
    assert!(
        bad.fault().unwrap_or_default().contains("is not valid"),
        "{}",
        bad.body
    );
}

#[tokio::test]
async fn elements_out_of_wsdl_order_get_an_axis2_fault() {
    let sb = Sandbox::start().await.expect("sandbox");
    let c = http(&sb);
    // description before applicationName: two elements out of WSDL order.
    let r = soap(
        &c,
        sb.is(),
        APP,
        "createApplication",
        "<xsd:createApplication><xsd:serviceProvider><m:description>d</m:description><m:applicationName>x</m:applicationName></xsd:serviceProvider></xsd:createApplication>",
    )
    .await;
    assert_eq!(r.status, 500);
    let env = r.xml();
    let fault = env.at("Body/Fault").expect("fault");
    assert_eq!(fault.text_of("faultcode"), Some("soapenv:Server"));
    assert_eq!(
        fault.text_of("faultstring"),
        Some(
            "Unexpected subelement {http://model.common.application.identity.carbon.wso2.org/xsd}applicationName"
        )
    );
    // Nothing was stored.
    assert!(sb.is().with_tenant(SUPER_TENANT, |t| {
        t.map(|t| t.applications.is_empty()).unwrap_or(true)
    }));
    // Unknown elements too, and an unqualified one.
    let r = soap(
        &c,
        sb.is(),
        APP,
        "createApplication",
        "<xsd:createApplication><xsd:serviceProvider><m:applicationName>x</m:applicationName><m:colour>red</m:colour></xsd:serviceProvider></xsd:createApplication>",
    )
    .await;
    assert!(
        r.fault()
            .unwrap_or_default()
            .starts_with("Unexpected subelement"),
        "{}",
        r.body
    );
    // The real servers are lenient (Axis2 RPC binds by name); the quirk reproduces that.
    sb.is().update_quirks(|q| q.lenient_elements = true);
    let r = soap(
        &c,
        sb.is(),
        APP,
        "createApplication",
        "<xsd:createApplication><xsd:serviceProvider><m:description>d</m:description><m:applicationName>x</m:applicationName></xsd:serviceProvider></xsd:createApplication>",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let sp = get_app(&c, sb.is(), "x").await.ret();
    assert_eq!(sp.text_of("description"), Some("d"), "bound by name");
    // Case-insensitive bean properties, unknown ones dropped.
    let r = soap(&c, sb.is(), APP, "createApplication", "<xsd:createApplication><xsd:serviceProvider><m:APPLICATIONNAME>y</m:APPLICATIONNAME><m:colour>red</m:colour></xsd:serviceProvider></xsd:createApplication>").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        get_app(&c, sb.is(), "y")
            .await
            .ret()
            .text_of("applicationName")
            .is_some()
    );
    // A top-level element that names no parameter: the RPC receiver's index error.
    let r = soap(&c, sb.is(), OAUTH, "updateConsumerApplication", "<xsd:updateConsumerApplication><xsd:application><d:applicationName>z</d:applicationName></xsd:application></xsd:updateConsumerApplication>").await;
    assert_eq!(
        r.fault().as_deref(),
        Some("Index 1 out of bounds for length 1")
    );
}

#[tokio::test]
async fn federated_step_rule_and_missing_idp_are_refused() {
    let sb = Sandbox::start().await.expect("sandbox");
    let c = http(&sb);
    let apim = sb.apim();
    assert_eq!(
        add_idp(&c, apim, &idp_xml("wso2is", true, &[]))
            .await
            .status,
        200
    );
    create_app(&c, apim, "portal").await;
    let id = get_app(&c, apim, "portal")
        .await
        .ret()
        .text_of("applicationID")
        .unwrap_or("")
        .to_owned();
    let two = update_app(&c, apim, &id, "portal", &federated_steps("wso2is", 2)).await;
    assert_eq!(two.status, 500);
    assert_eq!(
        two.fault().as_deref(),
        Some(
            "Error occurred while updating the application: portal. Invalid federated authentication configuration. For federated authentication there can only be only one authentication step and only one federated authenticator"
        )
    );
    let missing = update_app(&c, apim, &id, "portal", &federated_steps("nope", 1)).await;
    assert_eq!(missing.fault().as_deref(), Some("Validation Error"));
    let ok = update_app(&c, apim, &id, "portal", &federated_steps("wso2is", 1)).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let sp = get_app(&c, apim, "portal").await.ret();
    assert_eq!(
        sp.text_at("localAndOutBoundAuthenticationConfig/authenticationType"),
        Some("federated")
    );
    // A wrong id faults as IS does (a NullPointerException inside).
    let bad = update_app(&c, apim, "999", "portal2", "").await;
    assert_eq!(bad.status, 500);
    assert!(bad.fault().is_some());
}

#[tokio::test]
async fn referenced_idp_cannot_be_deleted() {
    let sb = Sandbox::start().await.expect("sandbox");
    let c = http(&sb);
    let apim = sb.apim();
    add_idp(&c, apim, &idp_xml("wso2is", true, &[])).await;
    create_app(&c, apim, "portal").await;
    let id = get_app(&c, apim, "portal")
        .await
        .ret()
        .text_of("applicationID")
        .unwrap_or("")
        .to_owned();
    update_app(&c, apim, &id, "portal", &federated_steps("wso2is", 1)).await;
    let del = |name: &'static str| {
        let c = c.clone();
        let apim = apim.clone();
        async move {
            soap(
                &c,
                &apim,
                IDPS,
                "deleteIdP",
                &format!("<i:deleteIdP><i:idPName>{name}</i:idPName></i:deleteIdP>"),
            )
            .await
        }
    };
    let r = del("wso2is").await;
    assert_eq!(r.status, 500);
    assert_eq!(
        r.fault().as_deref(),
        Some(
            "Identity Provider 'wso2is' cannot be deleted as it is referred by Service Providers."
        )
    );
    // Disabling it is refused too.
    let upd = soap(
        &c,
        apim,
        IDPS,
        "updateIdP",
        &format!("<i:updateIdP><i:oldIdPName>wso2is</i:oldIdPName><i:identityProvider>{}</i:identityProvider></i:updateIdP>", idp_xml("wso2is", false, &[])),
    )
    .await;
    assert_eq!(
        upd.fault().as_deref(),
        Some("Error in disabling identity provider as it is referred by service providers.")
    );
    // Back to default authentication: now it can go. A missing IdP deletes silently.
    let back = update_app(
        &c,
        apim,
        &id,
        "portal",
        "<m:localAndOutBoundAuthenticationConfig><m:authenticationType>default</m:authenticationType></m:localAndOutBoundAuthenticationConfig>",
    )
    .await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(del("wso2is").await.status, 200);
    assert!(
        get_idp(&c, apim, "wso2is").await.ret().nil,
        "missing IdP reads as nil"
    );
    assert_eq!(del("wso2is").await.status, 200);
}

#[tokio::test]
async fn role_mappings_to_missing_roles_are_dropped_silently() {
    let sb = Sandbox::start().await.expect("sandbox");
    let c = http(&sb);
    let apim = sb.apim();
    let xml = idp_xml(
        "wso2is",
        true,
        &[
            ("user_role", "Internal", "subscriber"),
            ("publisher_role", "Internal", "publisher"),
            ("typo_role", "Internal", "Subscriber"), // wrong case: no such role
            ("ghost_role", "PRIMARY", "ghost"),
        ],
    );
    let r = add_idp(&c, apim, &xml).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let idp = get_idp(&c, apim, "wso2is").await.ret();
    let cfg = idp.child("permissionAndRoleConfig").expect("roles");
    let idp_roles: Vec<&str> = cfg
        .children_named("idpRoles")
        .map(|e| e.text.as_str())
        .collect();
    assert_eq!(idp_roles, ["user_role", "publisher_role"]);
    let remotes: Vec<&str> = cfg
        .children_named("roleMappings")
        .filter_map(|m| m.text_of("remoteRole"))
        .collect();
    assert_eq!(remotes, ["user_role", "publisher_role"]);
    // On IS the Internal/subscriber role does not exist by default.
    let r = add_idp(&c, sb.is(), &xml).await;
    assert_eq!(r.status, 200);
    let idp = get_idp(&c, sb.is(), "wso2is").await.ret();
    assert_eq!(
        idp.at("permissionAndRoleConfig")
            .map(|c| c.children_named("roleMappings").count()),
        Some(0)
    );
    assert!(
        idp.text_of("id").is_some_and(|i| !i.is_empty()),
        "an id is assigned"
    );
}

#[tokio::test]
async fn idp_duplicates_updates_merge_authenticator_properties() {
    let sb = Sandbox::start().await.expect("sandbox");
    let c = http(&sb);
    let apim = sb.apim();
    add_idp(&c, apim, &idp_xml("wso2is", true, &[])).await;
    let dup = add_idp(&c, apim, &idp_xml("wso2is", true, &[])).await;
    assert_eq!(
        dup.fault().as_deref(),
        Some(
            "An Identity Provider has already been registered with the name wso2is for tenant carbon.super"
        )
    );
    // Update sending only ClientId: ClientSecret survives (properties are upserted), rename works.
    let new = "<m:displayName>x</m:displayName><m:enable>true</m:enable><m:federatedAuthenticatorConfigs><m:name>OpenIDConnectAuthenticator</m:name><m:properties><m:name>ClientId</m:name><m:value>cid2</m:value></m:properties></m:federatedAuthenticatorConfigs><m:identityProviderName>wso2is-renamed</m:identityProviderName>";
    let r = soap(
        &c,
        apim,
        IDPS,
        "updateIdP",
        &format!("<i:updateIdP><i:oldIdPName>wso2is</i:oldIdPName><i:identityProvider>{new}</i:identityProvider></i:updateIdP>"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(get_idp(&c, apim, "wso2is").await.ret().nil);
    let idp = get_idp(&c, apim, "wso2is-renamed").await.ret();
    let auth = idp
        .child("federatedAuthenticatorConfigs")
        .expect("authenticator");
    let prop = |n: &str| {
        auth.children_named("properties")
            .find(|p| p.text_of("name") == Some(n))
            .and_then(|p| p.text_of("value").map(str::to_owned))
    };
    assert_eq!(prop("ClientId").as_deref(), Some("cid2"));
    assert_eq!(prop("ClientSecret").as_deref(), Some("csecret"));
    let missing = soap(
        &c,
        apim,
        IDPS,
        "updateIdP",
        &format!("<i:updateIdP><i:oldIdPName>ghost</i:oldIdPName><i:identityProvider>{new}</i:identityProvider></i:updateIdP>"),
    )
    .await;
    assert_eq!(
        missing.fault().as_deref(),
        Some("Identity Provider with name ghost does not exist")
    );
    let all = soap(&c, apim, IDPS, "getAllIdPs", "<i:getAllIdPs/>").await;
    assert_eq!(all.returns().len(), 1);
}

#[tokio::test]
async fn oauth_apps_keep_caller_keys_and_updates_replace_the_record() {
    let sb = Sandbox::start().await.expect("sandbox");
    let c = http(&sb);
    let is = sb.is();
    let reg = "<xsd:registerOAuthApplicationData><xsd:application><d:OAuthVersion>OAuth-2.0</d:OAuthVersion><d:applicationName>apim-sso</d:applicationName><d:callbackUrl>https://apim/commonauth</d:callbackUrl><d:grantTypes>authorization_code refresh_token</d:grantTypes><d:oauthConsumerKey>my-key</d:oauthConsumerKey><d:oauthConsumerSecret>my-secret</d:oauthConsumerSecret><d:pkceMandatory>false</d:pkceMandatory></xsd:application></xsd:registerOAuthApplicationData>";
    let r = soap(&c, is, OAUTH, "registerOAuthApplicationData", reg).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let dup = soap(&c, is, OAUTH, "registerOAuthApplicationData", reg).await;
    assert_eq!(
        dup.fault().as_deref(),
        Some(
            "Error when adding the application. An application with the same name already exists."
        )
    );
    let get = soap(&c, is, OAUTH, "getOAuthApplicationData", "<xsd:getOAuthApplicationData><xsd:consumerKey>my-key</xsd:consumerKey></xsd:getOAuthApplicationData>").await;
    let app = get.ret();
    assert_eq!(app.text_of("oauthConsumerSecret"), Some("my-secret"));
    assert_eq!(app.text_of("state"), Some("ACTIVE"));
    assert_eq!(app.text_of("userAccessTokenExpiryTime"), Some("3600"));
    // Update without callbackUrl and grantTypes: both are gone afterwards.
    let upd = "<xsd:updateConsumerApplication><xsd:consumerAppDTO><d:OAuthVersion>OAuth-2.0</d:OAuthVersion><d:applicationName>apim-sso</d:applicationName><d:oauthConsumerKey>my-key</d:oauthConsumerKey><d:oauthConsumerSecret>my-secret</d:oauthConsumerSecret></xsd:consumerAppDTO></xsd:updateConsumerApplication>";
    let r = soap(&c, is, OAUTH, "updateConsumerApplication", upd).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let app = soap(&c, is, OAUTH, "getOAuthApplicationDataByAppName", "<xsd:getOAuthApplicationDataByAppName><xsd:appName>apim-sso</xsd:appName></xsd:getOAuthApplicationDataByAppName>").await.ret();
    assert!(
        app.child("callbackUrl").is_some_and(|e| e.nil),
        "callbackUrl wiped: {app:?}"
    );
    assert_eq!(app.text_of("grantTypes"), Some(""));
    // Wrong secret: refused with IS's vague message.
    let wrong = upd.replace("my-secret", "other");
    let r = soap(&c, is, OAUTH, "updateConsumerApplication", &wrong).await;
    assert_eq!(
        r.fault().as_deref(),
        Some("Error while updating the app information.")
    );
    let missing = soap(&c, is, OAUTH, "getOAuthApplicationData", "<xsd:getOAuthApplicationData><xsd:consumerKey>nope</xsd:consumerKey></xsd:getOAuthApplicationData>").await;
    assert_eq!(
        missing.fault().as_deref(),
        Some("Error while retrieving the app information using consumerKey: nope")
    );
    // Remove is silent even when missing.
    for _ in 0..2 {
        let r = soap(&c, is, OAUTH, "removeOAuthApplicationData", "<xsd:removeOAuthApplicationData><xsd:consumerKey>my-key</xsd:consumerKey></xsd:removeOAuthApplicationData>").await;
        assert_eq!(r.status, 200);
    }
    // Callback required for the code grant; retrieve variant returns the generated key.
    let r = soap(&c, is, OAUTH, "registerAndRetrieveOAuthApplicationData", "<xsd:registerAndRetrieveOAuthApplicationData><xsd:application><d:applicationName>x</d:applicationName><d:grantTypes>authorization_code</d:grantTypes></xsd:application></xsd:registerAndRetrieveOAuthApplicationData>").await;
    assert_eq!(
        r.fault().as_deref(),
        Some("Callback Url is required for Code or Implicit grant types")
    );
    let r = soap(&c, is, OAUTH, "registerAndRetrieveOAuthApplicationData", "<xsd:registerAndRetrieveOAuthApplicationData><xsd:application><d:applicationName>x</d:applicationName><d:grantTypes>password</d:grantTypes></xsd:application></xsd:registerAndRetrieveOAuthApplicationData>").await;
    assert!(
        r.ret()
            .text_of("oauthConsumerKey")
            .is_some_and(|k| k.len() >= 20)
    );
    let all = soap(
        &c,
        is,
        OAUTH,
        "getAllOAuthApplicationData",
        "<xsd:getAllOAuthApplicationData/>",
    )
    .await;
    assert_eq!(all.returns().len(), 1);
}

#[tokio::test]
async fn deleting_an_sp_deletes_its_oauth_app_and_sp_gets_the_secret() {
    let sb = Sandbox::start().await.expect("sandbox");
    let c = http(&sb);
    let is = sb.is();
    soap(&c, is, OAUTH, "registerOAuthApplicationData", "<xsd:registerOAuthApplicationData><xsd:application><d:applicationName>sso</d:applicationName><d:grantTypes>password</d:grantTypes><d:oauthConsumerKey>k1</d:oauthConsumerKey><d:oauthConsumerSecret>s1</d:oauthConsumerSecret></xsd:application></xsd:registerOAuthApplicationData>").await;
    create_app(&c, is, "sso").await;
    let id = get_app(&c, is, "sso")
        .await
        .ret()
        .text_of("applicationID")
        .unwrap_or("")
        .to_owned();
    let inbound = "<m:inboundAuthenticationConfig><m:inboundAuthenticationRequestConfigs><m:inboundAuthKey>k1</m:inboundAuthKey><m:inboundAuthType>oauth2</m:inboundAuthType></m:inboundAuthenticationRequestConfigs></m:inboundAuthenticationConfig>";
    let r = update_app(&c, is, &id, "sso", inbound).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let sp = get_app(&c, is, "sso").await.ret();
    let req = sp
        .at("inboundAuthenticationConfig/inboundAuthenticationRequestConfigs")
        .expect("inbound");
    let secret = req
        .children_named("properties")
        .find(|p| p.text_of("name") == Some("oauthConsumerSecret"))
        .and_then(|p| p.text_of("value"));
    assert_eq!(secret, Some("s1"));
    // The secret is not stored in the SP itself.
    let stored = is
        .with_tenant(SUPER_TENANT, |t| {
            t.and_then(|t| t.applications.get("sso").cloned())
        })
        .expect("stored");
    assert!(!format!("{stored:?}").contains("oauthConsumerSecret"));
    soap(&c, is, APP, "deleteApplication", "<xsd:deleteApplication><xsd:applicationName>sso</xsd:applicationName></xsd:deleteApplication>").await;
    assert!(is.with_tenant(SUPER_TENANT, |t| t.is_some_and(|t| t.oauth_apps.is_empty())));
    assert!(is.with_tenant(SUPER_TENANT, |t| {
        t.is_some_and(|t| !t.roles.contains_key("Application/sso"))
    }));
}

#[tokio::test]
async fn users_and_roles_in_only_operations_answer_202() {
    let sb = Sandbox::start().await.expect("sandbox");
    let c = http(&sb);
    let is = sb.is();
    let r = soap(
        &c,
        is,
        USERS,
        "addRole",
        "<u:addRole><u:roleName>publisher_role</u:roleName></u:addRole>",
    )
    .await;
    assert_eq!((r.status, r.body.as_str()), (202, ""));
    let r = soap(&c, is, USERS, "addUser", "<u:addUser><u:userName>api_publisher</u:userName><u:credential>pass123</u:credential><u:roleList>publisher_role</u:roleList><u:profileName>default</u:profileName><u:requirePasswordChange>false</u:requirePasswordChange></u:addUser>").await;
    assert_eq!(r.status, 202, "{}", r.body);
    let dup = soap(&c, is, USERS, "addUser", "<u:addUser><u:userName>api_publisher</u:userName><u:credential>pass123</u:credential></u:addUser>").await;
    assert_eq!(dup.status, 500);
    assert_eq!(
        dup.fault().as_deref(),
        Some(
            "30004 - UserAlreadyExistingUsername api_publisher already exists in the system. Please pick another username."
        )
    );
    let roles = soap(
        &c,
        is,
        USERS,
        "getRoleListOfUser",
        "<u:getRoleListOfUser><u:userName>api_publisher</u:userName></u:getRoleListOfUser>",
    )
    .await;
    let names: Vec<String> = roles.returns().into_iter().map(|e| e.text).collect();
    assert!(
        names.contains(&"publisher_role".to_owned())
            && names.contains(&"Internal/everyone".to_owned()),
        "{names:?}"
    );
    let exists = soap(
        &c,
        is,
        USERS,
        "isExistingRole",
        "<u:isExistingRole><u:roleName>PRIMARY/publisher_role</u:roleName></u:isExistingRole>",
    )
    .await;
    assert_eq!(exists.ret().text, "true");
    let r = soap(&c, is, USERS, "updateRoleListOfUser", "<u:updateRoleListOfUser><u:userName>api_publisher</u:userName><u:deletedRoles>publisher_role</u:deletedRoles></u:updateRoleListOfUser>").await;
    assert_eq!(r.status, 202);
    let r = soap(&c, is, USERS, "updateRoleListOfUser", "<u:updateRoleListOfUser><u:userName>api_publisher</u:userName><u:newRoles>no_such_role</u:newRoles></u:updateRoleListOfUser>").await;
    assert_eq!(
        r.fault().as_deref(),
        Some("The role: no_such_role does not exist.")
    );
    let names = soap(&c, is, USERS, "getRoleNames", "<u:getRoleNames/>").await;
    let names: Vec<String> = names.returns().into_iter().map(|e| e.text).collect();
    assert_eq!(
        names.first().map(String::as_str),
        Some("admin"),
        "user-store roles first: {names:?}"
    );
    assert!(!names.contains(&"Internal/system".to_owned()));
    let r = soap(
        &c,
        is,
        USERS,
        "deleteUser",
        "<u:deleteUser><u:userName>api_publisher</u:userName></u:deleteUser>",
    )
    .await;
    assert_eq!(r.status, 202);
    let r = soap(
        &c,
        is,
        USERS,
        "deleteUser",
        "<u:deleteUser><u:userName>api_publisher</u:userName></u:deleteUser>",
    )
    .await;
    assert_eq!(
        r.fault().as_deref(),
        Some("30007 - UserNotFound: User api_publisher does not exist in: PRIMARY")
    );
    let r = soap(
        &c,
        is,
        USERS,
        "deleteRole",
        "<u:deleteRole><u:roleName>admin</u:roleName></u:deleteRole>",
    )
    .await;
    assert_eq!(
        r.fault().as_deref(),
        Some("31804 - Cannot delete admin role")
    );
    let r = soap(
        &c,
        is,
        USERS,
        "isExistingUser",
        "<u:isExistingUser><u:userName>api_publisher</u:userName></u:isExistingUser>",
    )
    .await;
    assert_eq!(r.ret().text, "false");
}

/// `getUserListOfRole` and `authenticate` (identity-user-ws 5.3.3 over kernel 4.5.1): members of
/// a role (none, not a fault, for a missing role; everybody for `Internal/everyone`), and a
/// boolean for credentials, never a fault.
#[tokio::test]
async fn user_list_of_role_and_authenticate_answer_as_is_5_9() {
    let sb = Sandbox::start().await.expect("sandbox");
    let c = http(&sb);
    let is = sb.is();
    is.add_role(SUPER_TENANT, "publisher_role");
    is.add_user(
        SUPER_TENANT,
        "api_publisher",
        "pass123",
        &["publisher_role"],
    );
    is.add_user(SUPER_TENANT, "api_user", "pass456", &[]);
    let list = |role: &str| {
        format!("<u:getUserListOfRole><u:roleName>{role}</u:roleName></u:getUserListOfRole>")
    };
    let names = |a: &Answer| -> Vec<String> { a.returns().into_iter().map(|e| e.text).collect() };
    let r = soap(&c, is, USERS, "getUserListOfRole", &list("publisher_role")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(names(&r), ["api_publisher"]);
    let r = soap(
        &c,
        is,
        USERS,
        "getUserListOfRole",
        &list("PRIMARY/publisher_role"),
    )
    .await;
    assert_eq!(names(&r), ["api_publisher"]);
    let r = soap(&c, is, USERS, "getUserListOfRole", &list("no_such_role")).await;
    assert_eq!((r.status, names(&r).len()), (200, 0), "{}", r.body);
    assert!(r.fault().is_none());
    let r = soap(
        &c,
        is,
        USERS,
        "getUserListOfRole",
        &list("Internal/everyone"),
    )
    .await;
    assert_eq!(names(&r), ["admin", "api_publisher", "api_user"]);
    let auth = |u: &str, p: &str| {
        format!(
            "<u:authenticate><u:userName>{u}</u:userName><u:credential>{p}</u:credential></u:authenticate>"
        )
    };
    for (user, pass, want) in [
        ("api_publisher", "pass123", "true"),
        ("PRIMARY/api_publisher", "pass123", "true"),
        ("api_publisher", "wrong", "false"),
        ("api_publisher", "", "false"),
        ("nobody", "pass123", "false"),
    ] {
        let r = soap(&c, is, USERS, "authenticate", &auth(user, pass)).await;
        assert_eq!(
            (r.status, r.ret().text),
            (200, want.to_owned()),
            "{user}/{pass}: {}",
            r.body
        );
    }
    let r = soap(&c, is, USERS, "authenticate", "<u:authenticate><u:credential>x</u:credential><u:userName>api_user</u:userName></u:authenticate>").await;
    assert_eq!(r.status, 500, "WSDL order is enforced: {}", r.body);
}

#[tokio::test]
async fn session_login_basic_auth_and_missing_credentials() {
    let sb = Sandbox::start().await.expect("sandbox");
    let c = http(&sb);
    let url = format!("{}/services/AuthenticationAdmin", sb.is().base_url());
    let login = |pw: &str| {
        envelope(&format!(
            "<a:login><a:username>admin</a:username><a:password>{pw}</a:password><a:remoteAddress>127.0.0.1</a:remoteAddress></a:login>"
        ))
    };
    let bad = read(
        c.post(&url)
            .header("SOAPAction", "urn:login")
            .body(login("wrong"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    // A user without the login permission gets false too.
    sb.is().add_user(SUPER_TENANT, "plain", "plain-pass", &[]);
    let plain = envelope(
        "<a:login><a:username>plain</a:username><a:password>plain-pass</a:password><a:remoteAddress>127.0.0.1</a:remoteAddress></a:login>",
    );
    let r = read(
        c.post(&url)
            .header("SOAPAction", "urn:login")
            .body(plain)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.ret().text, "false");
    assert_eq!(bad.ret().text, "false");
    let ok = read(
        c.post(&url)
            .header("SOAPAction", "urn:login")
            .body(login("admin"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(ok.ret().text, "true");
    let cookie = ok
        .header("set-cookie")
        .expect("cookie")
        .split(';')
        .next()
        .unwrap_or("")
        .to_owned();
    assert!(cookie.starts_with("JSESSIONID="));
    let call = |cookie: Option<String>| {
        let c = c.clone();
        let base = sb.is().base_url();
        async move {
            let mut r = c
                .post(format!("{base}/services/{APP}"))
                .header("SOAPAction", "urn:getAllApplicationBasicInfo")
                .body(envelope("<xsd:getAllApplicationBasicInfo/>"));
            if let Some(ck) = cookie {
                r = r.header("Cookie", ck);
            }
            read(r.send().await.expect("send")).await
        }
    };
    assert_eq!(call(Some(cookie.clone())).await.status, 200);
    let none = call(None).await;
    assert_eq!((none.status, none.body.as_str()), (401, ""));
    assert!(
        none.header("www-authenticate")
            .is_some_and(|h| h.starts_with("Basic"))
    );
    let stale = call(Some("JSESSIONID=STALE".into())).await;
    assert_eq!(stale.status, 401);
    let wrong = soap_as(
        &c,
        sb.is(),
        APP,
        "getAllApplicationBasicInfo",
        "<xsd:getAllApplicationBasicInfo/>",
        "admin",
        "nope",
    )
    .await;
    assert_eq!(wrong.status, 500);
    let env = wrong.xml();
    assert!(
        env.text_at("Body/Fault/faultcode")
            .is_some_and(|c| c.ends_with(":50977"))
    );
    assert_eq!(
        wrong.fault().as_deref(),
        Some("Access Denied. Authentication failed - Invalid credentials provided.")
    );
}

#[tokio::test]
async fn tenants_are_isolated() {
    let sb = Sandbox::start().await.expect("sandbox");
    let c = http(&sb);
    let t = sb.is().tenant_admin("example.com");
    let r = soap_as(&c, sb.is(), APP, "createApplication", "<xsd:createApplication><xsd:serviceProvider><m:applicationName>tapp</m:applicationName></xsd:serviceProvider></xsd:createApplication>", &t.username, &t.password).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let in_tenant = soap_as(
        &c,
        sb.is(),
        APP,
        "getApplication",
        "<xsd:getApplication><xsd:applicationName>tapp</xsd:applicationName></xsd:getApplication>",
        &t.username,
        &t.password,
    )
    .await;
    assert_eq!(
        in_tenant.ret().text_at("owner/tenantDomain"),
        Some("example.com")
    );
    assert_eq!(
        get_app(&c, sb.is(), "tapp").await.fault().as_deref(),
        Some("User not authorized")
    );
    // The same name can exist in both tenants.
    assert_eq!(create_app(&c, sb.is(), "tapp").await.status, 200);
}

#[tokio::test]
async fn portal_service_providers_appear_after_their_login_endpoints() {
    let sb = Sandbox::builder()
        .apim_version("3.2")
        .start()
        .await
        .expect("sandbox");
    let c = http(&sb);
    let apim = sb.apim();
    for sp in ["apim_publisher", "apim_devportal", "apim_admin_portal"] {
        assert_eq!(
            get_app(&c, apim, sp).await.fault().as_deref(),
            Some("User not authorized")
        );
    }
    for path in [
        "/publisher/services/auth/login",
        "/devportal/services/configs",
        "/admin/services/auth/login",
    ] {
        let r = read(
            c.get(format!("{}{path}", apim.base_url()))
                .send()
                .await
                .expect("send"),
        )
        .await;
        assert!(r.status == 302 || r.status == 200, "{path}: {}", r.status);
    }
    let sp = get_app(&c, apim, "apim_publisher").await.ret();
    assert_eq!(sp.text_at("owner/userName"), Some("admin"));
    let req = sp
        .at("inboundAuthenticationConfig/inboundAuthenticationRequestConfigs")
        .expect("inbound");
    assert_eq!(req.text_of("inboundAuthType"), Some("oauth2"));
    let key = req.text_of("inboundAuthKey").expect("key").to_owned();
    let app = soap(&c, apim, OAUTH, "getOAuthApplicationData", &format!("<xsd:getOAuthApplicationData><xsd:consumerKey>{key}</xsd:consumerKey></xsd:getOAuthApplicationData>")).await.ret();
    assert!(app.text_of("callbackUrl").is_some_and(
        |u| u.starts_with("regexp=(") && u.contains("/publisher/services/auth/callback/login")
    ));
    assert!(
        app.text_of("grantTypes")
            .is_some_and(|g| g.contains("authorization_code"))
    );
    assert!(
        get_app(&c, apim, "apim_admin_portal")
            .await
            .ret()
            .text_of("applicationName")
            .is_some()
    );
    // The first login mutated state; a second one does not.
    let portal_calls: Vec<bool> = apim
        .requests()
        .iter()
        .filter(|r| r.action.starts_with("portal."))
        .map(|r| r.mutating)
        .collect();
    assert_eq!(portal_calls, [true, true, true]);
    read(
        c.get(format!("{}/publisher/services/auth/login", apim.base_url()))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert!(!apim.requests().last().expect("logged").mutating);
    // AM_SYSTEM_APPS: once registered, a deleted portal SP is not registered again.
    soap(&c, apim, APP, "deleteApplication", "<xsd:deleteApplication><xsd:applicationName>apim_publisher</xsd:applicationName></xsd:deleteApplication>").await;
    let again = read(
        c.get(format!("{}/publisher/services/auth/login", apim.base_url()))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert!(
        again
            .header("location")
            .is_some_and(|l| l.contains(&format!("client_id={key}"))),
        "stale client id"
    );
    assert_eq!(
        get_app(&c, apim, "apim_publisher").await.fault().as_deref(),
        Some("User not authorized")
    );
    // APIM 3.0.0's own names: admin_admin_publisher / admin_admin_store, no admin-portal SP.
    let sb3 = Sandbox::start().await.expect("sandbox");
    let c3 = http(&sb3);
    sb3.apim()
        .update_quirks(|q| q.portal_naming = wso2_testkit::PortalNaming::Apim300);
    for path in [
        "/publisher/services/auth/login",
        "/devportal/services/configs",
        "/admin/services/auth/login",
    ] {
        read(
            c3.get(format!("{}{path}", sb3.apim().base_url()))
                .send()
                .await
                .expect("send"),
        )
        .await;
    }
    let sp = get_app(&c3, sb3.apim(), "admin_admin_publisher")
        .await
        .ret();
    assert_eq!(
        sp.text_of("description"),
        Some("Service Provider for application admin_publisher")
    );
    assert_eq!(sp.text_of("saasApp"), Some("true"));
    let props: Vec<&str> = sp
        .children_named("spProperties")
        .filter_map(|p| p.text_of("name"))
        .collect();
    assert_eq!(props, ["DisplayName", "TokenType", "skipConsent"]);
    assert!(
        get_app(&c3, sb3.apim(), "admin_admin_store")
            .await
            .ret()
            .text_of("applicationID")
            .is_some()
    );
    let apps = soap(
        &c3,
        sb3.apim(),
        APP,
        "getAllApplicationBasicInfo",
        "<xsd:getAllApplicationBasicInfo/>",
    )
    .await;
    assert_eq!(apps.returns().len(), 2, "no admin portal SP on 3.0.0");
    // IS has no portals.
    let r = read(
        c.get(format!(
            "{}/publisher/services/auth/login",
            sb.is().base_url()
        ))
        .send()
        .await
        .expect("send"),
    )
    .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn add_idp_quirk_answers_500_after_committing() {
    let sb = Sandbox::start().await.expect("sandbox");
    let c = http(&sb);
    sb.apim()
        .update_quirks(|q| q.add_idp_500_after_commit = true);
    let r = add_idp(&c, sb.apim(), &idp_xml("wso2is", true, &[])).await;
    assert_eq!(r.status, 500);
    assert!(
        !get_idp(&c, sb.apim(), "wso2is").await.ret().nil,
        "stored despite the 500"
    );
}

#[tokio::test]
async fn both_endpoint_forms_and_unknown_operations() {
    let sb = Sandbox::start().await.expect("sandbox");
    let c = http(&sb);
    let url = format!(
        "{}/services/{APP}.{APP}HttpsSoap11Endpoint/",
        sb.is().base_url()
    );
    let r = read(
        c.post(&url)
            .basic_auth("admin", Some("admin"))
            .header("SOAPAction", "urn:getAllApplicationBasicInfo")
            .body(envelope("<xsd:getAllApplicationBasicInfo/>"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = soap(&c, sb.is(), APP, "frobnicate", "<xsd:frobnicate/>").await;
    assert_eq!(r.status, 500);
    assert!(
        r.fault()
            .unwrap_or_default()
            .contains("Operation not found")
    );
    let r = soap(&c, sb.is(), "NoSuchService", "x", "<xsd:x/>").await;
    assert_eq!(r.status, 500);
    // The wrapper namespace is checked.
    let r = soap(
        &c,
        sb.is(),
        APP,
        "getApplication",
        "<i:getApplication><i:applicationName>x</i:applicationName></i:getApplication>",
    )
    .await;
    assert_eq!(
        r.fault().as_deref(),
        Some(
            "namespace mismatch require http://org.apache.axis2/xsd found http://mgt.idp.carbon.wso2.org"
        )
    );
}
