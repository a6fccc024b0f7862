//! Token rules per IS release: which role claim is released under which scope, the subject, PKCE
//! and the client authentication method; and the SCIM2 Roles endpoints per release.

use base64::Engine as _;
use serde_json::{Value, json};
use wso2_testkit::{SUPER_TENANT, Sandbox, SimServer};

use crate::support::*;
use crate::versions::{create, rest, sandbox};

const CB: &str = "https://apim.example:9443/commonauth";

/// An application requesting `claim` (local dialect), with an OIDC inbound; returns
/// (id, client id, secret).
async fn app(
    c: &reqwest::Client,
    is: &SimServer,
    claim: &str,
    extra: Value,
    oidc: Value,
) -> (String, String, String) {
    let mut body = json!({"name": "apim-sso",
        "claimConfiguration": {"dialect": "LOCAL", "requestedClaims": [{"claim": {"uri": claim}, "mandatory": true}]}});
    let mut o = json!({"grantTypes": ["authorization_code", "password"], "callbackURLs": [CB]});
    for (k, v) in oidc.as_object().into_iter().flatten() {
        o[k] = v.clone();
    }
    body["inboundProtocolConfiguration"] = json!({"oidc": o});
    for (k, v) in extra.as_object().into_iter().flatten() {
        body[k] = v.clone();
    }
    let id = create(c, is, body).await;
    let oidc = rest(
        c,
        is,
        reqwest::Method::GET,
        &format!("/applications/{id}/inbound-protocols/oidc"),
        None,
    )
    .await
    .json();
    (
        id,
        oidc["clientId"].as_str().expect("clientId").to_owned(),
        oidc["clientSecret"].as_str().expect("secret").to_owned(),
    )
}

fn users(is: &SimServer) {
    is.add_role(SUPER_TENANT, "publisher_group");
    is.add_user(
        SUPER_TENANT,
        "api_publisher",
        "pub-pass",
        &["publisher_group"],
    );
}

/// Authorize + login; returns the code (or the error redirect's query when refused).
async fn code(
    c: &reqwest::Client,
    is: &SimServer,
    client: &str,
    scope: &str,
    extra: &[(&str, &str)],
) -> Result<String, String> {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.extend_pairs([
        ("response_type", "code"),
        ("client_id", client),
        ("redirect_uri", CB),
        ("scope", scope),
    ]);
    q.extend_pairs(extra);
    let r = read(
        c.get(format!("{}/oauth2/authorize?{}", is.base_url(), q.finish()))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, 302, "{}", r.body);
    let loc = url::Url::parse(r.header("location").expect("location")).expect("url");
    let Some(key) = loc
        .query_pairs()
        .find(|(k, _)| k == "sessionDataKey")
        .map(|(_, v)| v.into_owned())
    else {
        return Err(loc.query().unwrap_or_default().to_owned());
    };
    let form = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("sessionDataKey", key.as_str()),
            ("username", "api_publisher"),
            ("password", "pub-pass"),
        ])
        .finish();
    let r = read(
        c.post(format!("{}/commonauth", is.base_url()))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .expect("send"),
    )
    .await;
    let r = approve_consent(c, is, r).await;
    let loc = url::Url::parse(r.header("location").expect("location")).expect("url");
    Ok(loc
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code"))
}

async fn exchange(
    c: &reqwest::Client,
    is: &SimServer,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> Answer {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut r = c
        .post(format!("{}/oauth2/token", is.base_url()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some((u, p)) = basic {
        r = r.basic_auth(u, Some(p));
    }
    read(r.send().await.expect("send")).await
}

fn id_claims(a: &Answer) -> Value {
    assert_eq!(a.status, 200, "{}", a.body);
    let t = a.json()["id_token"].as_str().expect("id_token").to_owned();
    let p = t.split('.').nth(1).expect("payload");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(p)
            .expect("b64"),
    )
    .expect("json")
}

/// The id_token claims after a code flow with `scope`.
async fn login(
    c: &reqwest::Client,
    is: &SimServer,
    client: &str,
    secret: &str,
    scope: &str,
) -> Value {
    let code = code(c, is, client, scope, &[]).await.expect("code");
    id_claims(
        &exchange(
            c,
            is,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CB),
            ],
            Some((client, secret)),
        )
        .await,
    )
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn role_claim_and_scope_rules_per_release() {
    // 5.10 / 5.11: groups from …/claims/role, released by openid (all roles).
    for is_v in ["5.10", "5.11"] {
        let sb = sandbox(is_v, "4.0").await;
        let c = http(&sb);
        users(sb.is());
        let (_, id, secret) = app(
            &c,
            sb.is(),
            "http://wso2.org/claims/role",
            json!({}),
            json!({}),
        )
        .await;
        let cl = login(&c, sb.is(), &id, &secret, "openid").await;
        let g = strings(&cl["groups"]);
        assert!(
            g.contains(&"publisher_group".to_owned())
                && g.contains(&"Internal/everyone".to_owned()),
            "{is_v}: {cl}"
        );
        assert_eq!(cl["sub"], "api_publisher");
    }
    // 6.0: …/claims/groups released only once groups is added to openid; …/claims/role gives nothing.
    let sb = sandbox("6.0", "4.2").await;
    let c = http(&sb);
    users(sb.is());
    let (_, id, secret) = app(
        &c,
        sb.is(),
        "http://wso2.org/claims/groups",
        json!({}),
        json!({}),
    )
    .await;
    let cl = login(&c, sb.is(), &id, &secret, "openid").await;
    assert!(cl.get("groups").is_none(), "openid is empty on 6.0: {cl}");
    let r = rest(
        &c,
        sb.is(),
        reqwest::Method::PUT,
        "/oidc/scopes/openid",
        Some(json!({"displayName": "openid", "claims": ["groups"]})),
    )
    .await;
    assert_eq!(r.status, 200);
    let cl = login(&c, sb.is(), &id, &secret, "openid").await;
    assert_eq!(
        strings(&cl["groups"]),
        vec!["publisher_group".to_owned()],
        "groups only: {cl}"
    );
    let sb = sandbox("6.0", "4.2").await;
    let c = http(&sb);
    users(sb.is());
    rest(
        &c,
        sb.is(),
        reqwest::Method::PUT,
        "/oidc/scopes/openid",
        Some(json!({"displayName": "openid", "claims": ["groups"]})),
    )
    .await;
    let (_, id, secret) = app(
        &c,
        sb.is(),
        "http://wso2.org/claims/role",
        json!({}),
        json!({}),
    )
    .await;
    let cl = login(&c, sb.is(), &id, &secret, "openid").await;
    assert!(
        cl.get("groups").is_none(),
        "…/claims/role is not supported from 6.0: {cl}"
    );
    // 6.1: released by the groups scope only.
    let sb = sandbox("6.1", "4.2").await;
    let c = http(&sb);
    users(sb.is());
    let (_, id, secret) = app(
        &c,
        sb.is(),
        "http://wso2.org/claims/groups",
        json!({}),
        json!({}),
    )
    .await;
    assert!(
        login(&c, sb.is(), &id, &secret, "openid")
            .await
            .get("groups")
            .is_none()
    );
    let cl = login(&c, sb.is(), &id, &secret, "openid groups").await;
    assert_eq!(strings(&cl["groups"]), vec!["publisher_group".to_owned()]);
}

#[tokio::test]
async fn is7_subject_is_the_user_id_unless_the_username_is_chosen() {
    let sb = sandbox("7.1", "4.5").await;
    let c = http(&sb);
    users(sb.is());
    let user_id = sb.is().with_tenant(SUPER_TENANT, |t| {
        t.expect("tenant").users["api_publisher"].scim_id.clone()
    });
    let (app_id, id, secret) = app(
        &c,
        sb.is(),
        "http://wso2.org/claims/groups",
        json!({}),
        json!({}),
    )
    .await;
    let cl = login(&c, sb.is(), &id, &secret, "openid groups").await;
    assert_eq!(cl["sub"], Value::String(user_id), "{cl}");
    assert_eq!(strings(&cl["groups"]), vec!["publisher_group".to_owned()]);
    let r = rest(
        &c,
        sb.is(),
        reqwest::Method::PATCH,
        &format!("/applications/{app_id}"),
        Some(json!({"claimConfiguration": {"dialect": "LOCAL",
        "requestedClaims": [{"claim": {"uri": "http://wso2.org/claims/groups"}, "mandatory": true}],
        "subject": {"claim": {"uri": "http://wso2.org/claims/username"}}}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let cl = login(&c, sb.is(), &id, &secret, "openid groups").await;
    assert_eq!(cl["sub"], "api_publisher");
}

#[tokio::test]
async fn is7_roles_claim_from_audience_roles() {
    let sb = sandbox("7.0", "4.5").await;
    let c = http(&sb);
    users(sb.is());
    let (app_id, id, secret) = app(
        &c,
        sb.is(),
        "http://wso2.org/claims/roles",
        json!({"associatedRoles": {"allowedAudience": "APPLICATION", "roles": []}}),
        json!({}),
    )
    .await;
    let user_id = sb.is().with_tenant(SUPER_TENANT, |t| {
        t.expect("tenant").users["api_publisher"].scim_id.clone()
    });
    let r = read(
        c.post(format!("{}/scim2/v2/Roles", sb.is().base_url()))
            .basic_auth("admin", Some("admin"))
            .header("Content-Type", "application/scim+json")
            .body(json!({"schemas": ["urn:ietf:params:scim:schemas:extension:2.0:Role"], "displayName": "publisher",
                "audience": {"type": "application", "value": app_id}, "users": [{"value": user_id}]}).to_string())
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["audience"]["type"], "application");
    let cl = login(&c, sb.is(), &id, &secret, "openid").await;
    assert!(
        cl.get("roles").is_none(),
        "roles needs the roles scope: {cl}"
    );
    let cl = login(&c, sb.is(), &id, &secret, "openid roles").await;
    assert_eq!(strings(&cl["roles"]), vec!["publisher".to_owned()], "{cl}");
}

#[tokio::test]
async fn pkce_mandatory_and_token_endpoint_auth_method() {
    let sb = sandbox("7.2", "4.6").await;
    let c = http(&sb);
    users(sb.is());
    let (_, id, secret) = app(
        &c,
        sb.is(),
        "http://wso2.org/claims/groups",
        json!({}),
        json!({"pkce": {"mandatory": true, "supportPlainTransformAlgorithm": false},
               "clientAuthentication": {"tokenEndpointAuthMethod": "client_secret_basic"}}),
    )
    .await;
    let refused = code(&c, sb.is(), &id, "openid", &[])
        .await
        .expect_err("PKCE challenge required");
    assert!(refused.contains("error=invalid_request"), "{refused}");
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()).as_ref());
    let pkce = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let code1 = code(&c, sb.is(), &id, "openid", &pkce).await.expect("code");
    let r = exchange(
        &c,
        sb.is(),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code1),
            ("redirect_uri", CB),
        ],
        Some((&id, &secret)),
    )
    .await;
    assert_eq!(r.status, 400, "no code_verifier: {}", r.body);
    assert_eq!(r.json()["error"], "invalid_grant");
    let code2 = code(&c, sb.is(), &id, "openid", &pkce).await.expect("code");
    // client_secret_basic: credentials in the body are refused, the Basic header is accepted.
    let r = exchange(
        &c,
        sb.is(),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code2),
            ("redirect_uri", CB),
            ("code_verifier", verifier),
            ("client_id", &id),
            ("client_secret", &secret),
        ],
        None,
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.body);
    let code3 = code(&c, sb.is(), &id, "openid", &pkce).await.expect("code");
    let r = exchange(
        &c,
        sb.is(),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code3),
            ("redirect_uri", CB),
            ("code_verifier", verifier),
        ],
        Some((&id, &secret)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // client_secret_post: the other way round (password grant for brevity).
    let sb = sandbox("7.0", "4.5").await;
    let c = http(&sb);
    users(sb.is());
    let (_, id, secret) = app(
        &c,
        sb.is(),
        "http://wso2.org/claims/groups",
        json!({}),
        json!({"clientAuthentication": {"tokenEndpointAuthMethod": "client_secret_post"}}),
    )
    .await;
    let pw = [
        ("grant_type", "password"),
        ("username", "api_publisher"),
        ("password", "pub-pass"),
        ("scope", "openid"),
    ];
    assert_eq!(
        exchange(&c, sb.is(), &pw, Some((&id, &secret)))
            .await
            .status,
        401
    );
    let mut body = pw.to_vec();
    body.extend([
        ("client_id", id.as_str()),
        ("client_secret", secret.as_str()),
    ]);
    assert_eq!(exchange(&c, sb.is(), &body, None).await.status, 200);
    // Before 7.0 the DTO has no such field; the MutualTLS quirk still applies everywhere.
    sb.is().update_quirks(|q| q.mutual_tls_conflict = true);
    let r = exchange(&c, sb.is(), &body, None).await;
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("more than one authentication method"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn scim2_roles_endpoints_per_release() {
    for (is_v, v1, v2, v3) in [
        ("5.10", false, false, false),
        ("5.11", true, false, false),
        ("6.1", true, false, false),
        ("7.0", true, true, false),
        ("7.2", true, true, true),
    ] {
        let sb: Sandbox = sandbox(is_v, "4.2").await;
        let c = http(&sb);
        for (path, want) in [
            ("/scim2/Roles", v1),
            ("/scim2/v2/Roles", v2),
            ("/scim2/v3/Roles", v3),
        ] {
            let r = read(
                c.get(format!("{}{path}", sb.is().base_url()))
                    .basic_auth("admin", Some("admin"))
                    .send()
                    .await
                    .expect("send"),
            )
            .await;
            assert_eq!(
                r.status == 200,
                want,
                "{is_v} {path}: {} {}",
                r.status,
                r.body
            );
            if want {
                let names: Vec<String> = r.json()["Resources"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|x| x["displayName"].as_str().map(str::to_owned))
                    .collect();
                assert!(names.contains(&"everyone".to_owned()), "{names:?}");
            }
        }
    }
    // v1 create: an internal role the user store sees.
    let sb = sandbox("5.11", "4.0").await;
    let c = http(&sb);
    let r = read(
        c.post(format!("{}/scim2/Roles", sb.is().base_url()))
            .basic_auth("admin", Some("admin"))
            .header("Content-Type", "application/scim+json")
            .body(json!({"schemas": ["urn:ietf:params:scim:schemas:extension:2.0:Role"], "displayName": "creator", "permissions": ["/permission/admin/login"]}).to_string())
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(sb.is().with_tenant(SUPER_TENANT, |t| {
        t.is_some_and(|t| t.roles.contains_key("Internal/creator"))
    }));
}
