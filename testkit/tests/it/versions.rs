//! Per-release behaviour: version selection, `ServerAdmin.getServerVersion`, SOAP availability on
//! IS, and IS's management REST API (applications, OIDC inbound, scopes) per release.

use serde_json::{Value, json};
use wso2_testkit::{ApimVersion, IsVersion, Sandbox, SandboxError, SimServer, SoapAvailability};

use crate::support::*;

pub(crate) async fn sandbox(is: &str, apim: &str) -> Sandbox {
    Sandbox::builder()
        .is_version(is)
        .apim_version(apim)
        .start()
        .await
        .expect("sandbox")
}

/// A REST call as the super tenant's admin.
pub(crate) async fn rest(
    c: &reqwest::Client,
    s: &SimServer,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Answer {
    let mut r = c
        .request(method, format!("{}/api/server/v1{path}", s.base_url()))
        .basic_auth("admin", Some("admin"));
    if let Some(b) = body {
        r = r
            .header("Content-Type", "application/json")
            .body(b.to_string());
    }
    read(r.send().await.expect("send")).await
}

async fn server_version(c: &reqwest::Client, s: &SimServer) -> Answer {
    read(
        c.post(format!("{}/services/ServerAdmin", s.base_url()))
            .basic_auth("admin", Some("admin"))
            .header("Content-Type", "text/xml; charset=UTF-8")
            .header("SOAPAction", "urn:getServerVersion")
            .body(envelope("<xsd:getServerVersion/>"))
            .send()
            .await
            .expect("send"),
    )
    .await
}

/// Creates an application by REST; returns its id (from `Location`).
pub(crate) async fn create(c: &reqwest::Client, s: &SimServer, body: Value) -> String {
    let r = rest(c, s, reqwest::Method::POST, "/applications", Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(
        r.body.is_empty(),
        "create answers an empty body: {}",
        r.body
    );
    let loc = r.header("location").expect("Location").to_owned();
    loc.rsplit('/').next().expect("id").to_owned()
}

#[tokio::test]
async fn versions_are_chosen_on_the_builder_and_reported() {
    let sb = Sandbox::start().await.expect("sandbox");
    assert_eq!(sb.is_version(), IsVersion::V5_9);
    assert_eq!(sb.apim_version(), ApimVersion::V3_0);
    assert_eq!(sb.is().version(), "5.9");
    let sb = sandbox("7.3", "4.7").await;
    assert_eq!((sb.is().version(), sb.apim().version()), ("7.3", "4.7"));
    assert_eq!(sb.is().soap_admin_services(), SoapAvailability::Off);
    match Sandbox::builder().is_version("8.1").start().await {
        Err(SandboxError::Version(e)) => assert!(e.to_string().contains("\"8.1\""), "{e}"),
        other => panic!("expected a version error, got {other:?}"),
    }
    assert!(matches!(
        Sandbox::builder().apim_version("2.6").start().await,
        Err(SandboxError::Version(_))
    ));
}

#[tokio::test]
async fn server_admin_reports_each_release_and_soap_follows_the_is_release() {
    for (is, apim, is_full, apim_full) in [
        ("5.9", "3.0", "5.9.0", "3.0.0"),
        ("6.0", "4.2", "6.0.0", "4.2.0"),
        ("7.1", "4.5", "7.1.0", "4.5.0"),
    ] {
        let sb = sandbox(is, apim).await;
        let c = http(&sb);
        for (s, want) in [(sb.is(), is_full), (sb.apim(), apim_full)] {
            let r = server_version(&c, s).await;
            assert_eq!(r.status, 200, "{}", r.body);
            assert!(
                r.body.contains("<ns:getServerVersionResponse xmlns:ns=\"http://service.admin.server.carbon.wso2.org\">"),
                "{}",
                r.body
            );
            assert_eq!(r.ret().text, want);
        }
    }
    // IS 7.2+: SOAP admin services are off (HTTP 500), APIM keeps them; on when enabled.
    let sb = sandbox("7.2", "4.6").await;
    let c = http(&sb);
    let r = server_version(&c, sb.is()).await;
    assert_eq!(r.status, 500, "{}", r.body);
    assert!(
        r.fault()
            .is_some_and(|f| f.contains("service cannot be found")),
        "{}",
        r.body
    );
    let r = create_app(&c, sb.is(), "soap-off").await;
    assert_eq!(r.status, 500);
    assert!(sb.is().with_tenant(wso2_testkit::SUPER_TENANT, |t| {
        !t.is_some_and(|t| t.applications.contains_key("soap-off"))
    }));
    assert_eq!(server_version(&c, sb.apim()).await.ret().text, "4.6.0");
    let sb = Sandbox::builder()
        .is_version("7.3")
        .is_soap(true)
        .start()
        .await
        .expect("sandbox");
    assert_eq!(sb.is().soap_admin_services(), SoapAvailability::Enabled);
    let c = http(&sb);
    assert_eq!(server_version(&c, sb.is()).await.ret().text, "7.3.0");
    assert_eq!(create_app(&c, sb.is(), "soap-on").await.status, 200);
    // Wrong credentials get the usual Carbon fault.
    let r = read(
        c.post(format!("{}/services/ServerAdmin", sb.apim().base_url()))
            .basic_auth("admin", Some("wrong"))
            .header("SOAPAction", "urn:getServerVersion")
            .body(envelope("<xsd:getServerVersion/>"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, 500);
    assert!(r.body.contains("50977"), "{}", r.body);
}

#[tokio::test]
async fn is_5_9_has_no_management_rest_api() {
    let sb = Sandbox::start().await.expect("sandbox");
    let c = http(&sb);
    for path in ["/applications", "/oidc/scopes"] {
        let r = rest(&c, sb.is(), reqwest::Method::GET, path, None).await;
        assert_eq!(r.status, 404, "{path}");
    }
    assert_eq!(
        sb.is().unknown_requests().len(),
        2,
        "not a served path on 5.9"
    );
    let r = read(
        c.get(format!(
            "{}/t/example.com/api/server/v1/applications",
            sb.is().base_url()
        ))
        .basic_auth("admin@example.com", Some("admin"))
        .send()
        .await
        .expect("send"),
    )
    .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn applications_crud_follows_the_real_contract() {
    let sb = sandbox("7.1", "4.5").await;
    let c = http(&sb);
    let is = sb.is();
    let id = create(
        &c,
        is,
        json!({"name": "apim-sso", "templateId": "b9c5e11e-fc78-484b-9bec-015d247561b8",
               "inboundProtocolConfiguration": {"oidc": {"grantTypes": ["authorization_code"],
                   "callbackURLs": ["https://apim.example:9443/commonauth"],
                   "pkce": {"mandatory": false, "supportPlainTransformAlgorithm": false},
                   "clientAuthentication": {"tokenEndpointAuthMethod": "client_secret_basic"}}},
               "claimConfiguration": {"dialect": "LOCAL",
                   "requestedClaims": [{"claim": {"uri": "http://wso2.org/claims/groups"}, "mandatory": true}],
                   "subject": {"claim": {"uri": "http://wso2.org/claims/username"}}}}),
    )
    .await;
    // Find by name.
    let r = rest(
        &c,
        is,
        reqwest::Method::GET,
        "/applications?filter=name+eq+apim-sso",
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let list = r.json();
    assert_eq!(list["totalResults"], 1, "{list}");
    assert_eq!(list["applications"][0]["id"], Value::String(id.clone()));
    let r = rest(
        &c,
        is,
        reqwest::Method::GET,
        "/applications?filter=name+eq+other",
        None,
    )
    .await;
    assert_eq!(r.json()["totalResults"], 0);
    // Get by id.
    let app = rest(
        &c,
        is,
        reqwest::Method::GET,
        &format!("/applications/{id}"),
        None,
    )
    .await
    .json();
    assert_eq!(app["name"], "apim-sso");
    assert_eq!(app["templateId"], "b9c5e11e-fc78-484b-9bec-015d247561b8");
    assert_eq!(
        app["claimConfiguration"]["requestedClaims"][0]["claim"]["uri"],
        "http://wso2.org/claims/groups"
    );
    assert_eq!(
        app["claimConfiguration"]["subject"]["claim"]["uri"],
        "http://wso2.org/claims/username"
    );
    assert_eq!(app["inboundProtocols"][0]["type"], "oauth2");
    // The inbound OIDC config: generated client id and secret.
    let oidc = rest(
        &c,
        is,
        reqwest::Method::GET,
        &format!("/applications/{id}/inbound-protocols/oidc"),
        None,
    )
    .await
    .json();
    let client_id = oidc["clientId"].as_str().expect("clientId").to_owned();
    let secret = oidc["clientSecret"]
        .as_str()
        .expect("clientSecret")
        .to_owned();
    assert!(!client_id.is_empty() && !secret.is_empty());
    assert_eq!(
        oidc["clientAuthentication"]["tokenEndpointAuthMethod"],
        "client_secret_basic"
    );
    assert_eq!(
        oidc["callbackURLs"][0],
        "https://apim.example:9443/commonauth"
    );
    // Patch: consent flags of this release.
    let r = rest(
        &c,
        is,
        reqwest::Method::PATCH,
        &format!("/applications/{id}"),
        Some(json!({"advancedConfigurations": {"skipLoginConsent": true, "skipLogoutConsent": true}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let app = rest(
        &c,
        is,
        reqwest::Method::GET,
        &format!("/applications/{id}"),
        None,
    )
    .await
    .json();
    assert_eq!(app["advancedConfigurations"]["skipLoginConsent"], true);
    assert_eq!(app["advancedConfigurations"]["skipLogoutConsent"], true);
    // No PUT on an application in any release's spec.
    let r = rest(
        &c,
        is,
        reqwest::Method::PUT,
        &format!("/applications/{id}"),
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(r.status, 405);
    // Duplicate name: 409 with IS's error body.
    let r = rest(
        &c,
        is,
        reqwest::Method::POST,
        "/applications",
        Some(json!({"name": "apim-sso"})),
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.body);
    let e = r.json();
    for k in ["code", "message", "description", "traceId"] {
        assert!(e[k].is_string(), "{k} in {e}");
    }
    // One store: the token endpoint knows the client (client_credentials needs the grant).
    let r = rest(
        &c,
        is,
        reqwest::Method::PUT,
        &format!("/applications/{id}/inbound-protocols/oidc"),
        Some(json!({"clientId": client_id, "grantTypes": ["authorization_code", "client_credentials"],
                    "callbackURLs": ["https://apim.example:9443/commonauth"]})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let oidc = rest(
        &c,
        is,
        reqwest::Method::GET,
        &format!("/applications/{id}/inbound-protocols/oidc"),
        None,
    )
    .await
    .json();
    assert_eq!(
        oidc["clientSecret"],
        Value::String(secret.clone()),
        "the secret is kept"
    );
    let r = read(
        c.post(format!("{}/oauth2/token", is.base_url()))
            .basic_auth(&client_id, Some(&secret))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The same application through SOAP (IS 7.1 still serves it).
    let soap_app = get_app(&c, is, "apim-sso").await.ret();
    assert_eq!(
        soap_app.text_at(
            "inboundAuthenticationConfig/inboundAuthenticationRequestConfigs/inboundAuthKey"
        ),
        Some(client_id.as_str())
    );
    // Delete: 204, then 404, and the OAuth app is gone.
    let r = rest(
        &c,
        is,
        reqwest::Method::DELETE,
        &format!("/applications/{id}"),
        None,
    )
    .await;
    assert_eq!(r.status, 204);
    let r = rest(
        &c,
        is,
        reqwest::Method::GET,
        &format!("/applications/{id}"),
        None,
    )
    .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["code"], "APP-60006");
    assert!(is.with_tenant(wso2_testkit::SUPER_TENANT, |t| {
        t.is_some_and(|t| !t.oauth_apps.contains_key(&client_id))
    }));
}

#[tokio::test]
async fn each_release_takes_only_its_own_fields() {
    // 5.10: skipConsent; 5.11+: skipLoginConsent / skipLogoutConsent; 7.0+: clientAuthentication.
    for (is, good, bad) in [
        (
            "5.10",
            json!({"skipConsent": true}),
            json!({"skipLoginConsent": true}),
        ),
        (
            "5.11",
            json!({"skipLoginConsent": true, "skipLogoutConsent": true}),
            json!({"skipConsent": true}),
        ),
        (
            "7.0",
            json!({"skipLoginConsent": true}),
            json!({"skipConsent": true}),
        ),
    ] {
        let sb = sandbox(is, "4.2").await;
        let c = http(&sb);
        create(
            &c,
            sb.is(),
            json!({"name": "ok", "advancedConfigurations": good}),
        )
        .await;
        let r = rest(
            &c,
            sb.is(),
            reqwest::Method::POST,
            "/applications",
            Some(json!({"name": "bad", "advancedConfigurations": bad})),
        )
        .await;
        assert_eq!(r.status, 400, "{is}: {}", r.body);
        let e = r.json();
        assert_eq!(e["code"], "UE-10000", "{e}");
        assert_eq!(e["message"], "Invalid Request.");
        let r = rest(
            &c,
            sb.is(),
            reqwest::Method::POST,
            "/applications",
            Some(json!({"description": "no name"})),
        )
        .await;
        assert_eq!(r.status, 400, "{is}: name is required");
        let id = create(&c, sb.is(), json!({"name": "with-oidc"})).await;
        let ca = json!({"grantTypes": ["client_credentials"], "clientAuthentication": {"tokenEndpointAuthMethod": "client_secret_post"}});
        let r = rest(
            &c,
            sb.is(),
            reqwest::Method::PUT,
            &format!("/applications/{id}/inbound-protocols/oidc"),
            Some(ca),
        )
        .await;
        assert_eq!(
            r.status,
            if is == "7.0" { 200 } else { 400 },
            "{is}: {}",
            r.body
        );
    }
    // 5.11 answers a duplicate name with HTTP 500 APP-65001.
    let sb = sandbox("5.11", "4.0").await;
    let c = http(&sb);
    create(&c, sb.is(), json!({"name": "dup"})).await;
    let r = rest(
        &c,
        sb.is(),
        reqwest::Method::POST,
        "/applications",
        Some(json!({"name": "dup"})),
    )
    .await;
    assert_eq!(r.status, 500, "{}", r.body);
    assert_eq!(r.json()["code"], "APP-65001");
}

#[tokio::test]
async fn oidc_scopes_per_release() {
    let scope = |v: &Value, name: &str| -> Option<Vec<String>> {
        v.as_array()?.iter().find(|s| s["name"] == name).map(|s| {
            s["claims"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c.as_str().map(str::to_owned))
                .collect()
        })
    };
    for (is, openid_has_groups, groups_scope, roles_scope) in [
        ("5.10", true, false, false),
        ("6.0", false, false, false),
        ("6.1", false, true, false),
        ("7.2", false, true, true),
    ] {
        let sb = sandbox(is, "4.2").await;
        let c = http(&sb);
        let r = rest(&c, sb.is(), reqwest::Method::GET, "/oidc/scopes", None).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let list = r.json();
        let openid = scope(&list, "openid").expect("openid");
        assert_eq!(
            openid.contains(&"groups".to_owned()),
            openid_has_groups,
            "{is}"
        );
        assert_eq!(scope(&list, "groups").is_some(), groups_scope, "{is}");
        assert_eq!(scope(&list, "roles").is_some(), roles_scope, "{is}");
    }
    // IS 6.0: add groups to openid (read, then PUT the whole list).
    let sb = sandbox("6.0", "4.2").await;
    let c = http(&sb);
    let mut openid = rest(
        &c,
        sb.is(),
        reqwest::Method::GET,
        "/oidc/scopes/openid",
        None,
    )
    .await
    .json();
    assert_eq!(openid["claims"], json!([]));
    openid["claims"] = json!(["groups"]);
    let body = json!({"displayName": openid["displayName"], "claims": openid["claims"]});
    let r = rest(
        &c,
        sb.is(),
        reqwest::Method::PUT,
        "/oidc/scopes/openid",
        Some(body),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let openid = rest(
        &c,
        sb.is(),
        reqwest::Method::GET,
        "/oidc/scopes/openid",
        None,
    )
    .await
    .json();
    assert_eq!(openid["claims"], json!(["groups"]));
    let r = rest(
        &c,
        sb.is(),
        reqwest::Method::PUT,
        "/oidc/scopes/openid",
        Some(json!({"claims": []})),
    )
    .await;
    assert_eq!(r.status, 400, "displayName is required");
    let r = rest(&c, sb.is(), reqwest::Method::GET, "/oidc/scopes/nope", None).await;
    assert_eq!(r.status, 404);
}
