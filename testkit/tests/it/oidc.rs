//! IS's OIDC endpoints: discovery, authorize + login, token, id_token role claim, userinfo, JWKS.

use base64::Engine as _;
use wso2_testkit::{Sandbox, SimServer};

use crate::support::*;

const CALLBACK: &str = "https://localhost:9443/commonauth";

/// Registers an OAuth app (key `cid`, secret `csecret`) and its SP requesting the role claim.
async fn setup(c: &reqwest::Client, is: &SimServer, grants: &str, role_claim: bool) {
    let r = soap(c, is, OAUTH, "registerOAuthApplicationData", &format!("<xsd:registerOAuthApplicationData><xsd:application><d:OAuthVersion>OAuth-2.0</d:OAuthVersion><d:applicationName>apim-sso</d:applicationName><d:callbackUrl>{CALLBACK}</d:callbackUrl><d:grantTypes>{grants}</d:grantTypes><d:oauthConsumerKey>cid</d:oauthConsumerKey><d:oauthConsumerSecret>csecret</d:oauthConsumerSecret></xsd:application></xsd:registerOAuthApplicationData>")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    create_app(c, is, "apim-sso").await;
    let id = get_app(c, is, "apim-sso")
        .await
        .ret()
        .text_of("applicationID")
        .unwrap_or("")
        .to_owned();
    let claims = if role_claim {
        "<m:claimConfig><m:alwaysSendMappedLocalSubjectId>false</m:alwaysSendMappedLocalSubjectId><m:claimMappings><m:localClaim><m:claimUri>http://wso2.org/claims/role</m:claimUri></m:localClaim><m:mandatory>true</m:mandatory><m:remoteClaim><m:claimUri>http://wso2.org/claims/role</m:claimUri></m:remoteClaim><m:requested>true</m:requested></m:claimMappings><m:localClaimDialect>true</m:localClaimDialect></m:claimConfig>"
    } else {
        ""
    };
    let inbound = "<m:inboundAuthenticationConfig><m:inboundAuthenticationRequestConfigs><m:inboundAuthKey>cid</m:inboundAuthKey><m:inboundAuthType>oauth2</m:inboundAuthType></m:inboundAuthenticationRequestConfigs></m:inboundAuthenticationConfig>";
    let r = update_app(c, is, &id, "apim-sso", &format!("{claims}{inbound}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    is.add_role(wso2_testkit::SUPER_TENANT, "publisher_role");
    is.add_user(
        wso2_testkit::SUPER_TENANT,
        "api_publisher",
        "pub-pass",
        &["publisher_role"],
    );
}

async fn token(
    c: &reqwest::Client,
    is: &SimServer,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> Answer {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
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

fn claims(id_token: &str) -> serde_json::Value {
    let payload = id_token.split('.').nth(1).expect("payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("b64");
    serde_json::from_slice(&bytes).expect("json")
}

/// Authorize, log in through /commonauth, return the code.
async fn code_for(c: &reqwest::Client, is: &SimServer, user: &str, pass: &str) -> String {
    let q = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", "cid"),
            ("redirect_uri", CALLBACK),
            ("scope", "openid"),
            ("state", "st1"),
            ("nonce", "n1"),
        ])
        .finish();
    let r = read(
        c.get(format!("{}/oauth2/authorize?{q}", is.base_url()))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, 302);
    let loc = r.header("location").expect("location").to_owned();
    assert!(loc.contains("/authenticationendpoint/login.do"), "{loc}");
    let url = url::Url::parse(&loc).expect("url");
    let key = url
        .query_pairs()
        .find(|(k, _)| k == "sessionDataKey")
        .map(|(_, v)| v.into_owned())
        .expect("key");
    let form = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("sessionDataKey", key.as_str()),
            ("username", user),
            ("password", pass),
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
    assert_eq!(r.status, 302);
    let loc = url::Url::parse(r.header("location").expect("location")).expect("url");
    assert!(loc.as_str().starts_with(CALLBACK), "{loc}");
    assert_eq!(
        loc.query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .as_deref(),
        Some("st1")
    );
    loc.query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code")
}

#[tokio::test]
async fn discovery_issuer_and_jwks() {
    let sb = Sandbox::start().await.expect("sandbox");
    let c = http(&sb);
    let base = sb.is().base_url();
    let d = read(
        c.get(format!(
            "{base}/oauth2/token/.well-known/openid-configuration"
        ))
        .send()
        .await
        .expect("send"),
    )
    .await
    .json();
    assert_eq!(d["issuer"], format!("{base}/oauth2/token"));
    assert_eq!(d["token_endpoint"], format!("{base}/oauth2/token"));
    assert_eq!(d["userinfo_endpoint"], format!("{base}/oauth2/userinfo"));
    let jwks = read(
        c.get(format!("{base}/oauth2/jwks"))
            .send()
            .await
            .expect("send"),
    )
    .await
    .json();
    assert_eq!(jwks["keys"][0]["kty"], "EC");
    // APIM serves its own OAuth2 endpoints (it embeds the identity components), with its own
    // signing key.
    let r = read(
        c.get(format!("{}/oauth2/jwks", sb.apim().base_url()))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_ne!(r.json()["keys"][0]["kid"], jwks["keys"][0]["kid"]);
}

#[tokio::test]
async fn code_flow_with_both_client_auth_methods_and_a_verifiable_role_claim() {
    let sb = Sandbox::start().await.expect("sandbox");
    let c = http(&sb);
    let is = sb.is();
    setup(&c, is, "authorization_code refresh_token", true).await;
    // client_secret_basic
    let code = code_for(&c, is, "api_publisher", "pub-pass").await;
    let t = token(
        &c,
        is,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
        ],
        Some(("cid", "csecret")),
    )
    .await;
    assert_eq!(t.status, 200, "{}", t.body);
    let j = t.json();
    let id_token = j["id_token"].as_str().expect("id_token");
    let cl = claims(id_token);
    assert_eq!(cl["iss"], format!("{}/oauth2/token", is.base_url()));
    assert_eq!(cl["aud"], "cid");
    assert_eq!(cl["sub"], "api_publisher");
    assert_eq!(cl["nonce"], "n1");
    let groups: Vec<&str> = cl["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(groups.contains(&"publisher_role"), "{groups:?}");
    // The signature verifies with the JWKS key.
    let jwks = read(
        c.get(format!("{}/oauth2/jwks", is.base_url()))
            .send()
            .await
            .expect("send"),
    )
    .await
    .json();
    let b = |s: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .expect("b64")
    };
    let mut point = vec![4u8];
    point.extend(b(jwks["keys"][0]["x"].as_str().expect("x")));
    point.extend(b(jwks["keys"][0]["y"].as_str().expect("y")));
    let (signed, sig) = id_token.rsplit_once('.').expect("sig");
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, point)
        .verify(signed.as_bytes(), &b(sig))
        .expect("ES256 signature verifies");
    // The code is single use.
    let again = token(
        &c,
        is,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
        ],
        Some(("cid", "csecret")),
    )
    .await;
    assert_eq!(again.status, 400);
    assert_eq!(again.json()["error"], "invalid_grant");
    // client_secret_post
    let code = code_for(&c, is, "api_publisher", "pub-pass").await;
    let t = token(
        &c,
        is,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("client_id", "cid"),
            ("client_secret", "csecret"),
        ],
        None,
    )
    .await;
    assert_eq!(t.status, 200, "{}", t.body);
    // userinfo with the access token
    let at = t.json()["access_token"].as_str().expect("at").to_owned();
    let ui = read(
        c.get(format!("{}/oauth2/userinfo", is.base_url()))
            .bearer_auth(&at)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(ui.json()["sub"], "api_publisher");
    let bad = read(
        c.get(format!("{}/oauth2/userinfo", is.base_url()))
            .bearer_auth("nope")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(bad.status, 401);
}

#[tokio::test]
async fn no_role_claim_unless_the_sp_requests_it_and_password_grant_only_when_enabled() {
    let sb = Sandbox::start().await.expect("sandbox");
    let c = http(&sb);
    let is = sb.is();
    setup(&c, is, "password", false).await;
    let t = token(
        &c,
        is,
        &[
            ("grant_type", "password"),
            ("username", "api_publisher"),
            ("password", "pub-pass"),
            ("scope", "openid"),
        ],
        Some(("cid", "csecret")),
    )
    .await;
    assert_eq!(t.status, 200, "{}", t.body);
    let cl = claims(t.json()["id_token"].as_str().expect("id_token"));
    assert!(cl.get("groups").is_none(), "{cl}");
    let wrong = token(
        &c,
        is,
        &[
            ("grant_type", "password"),
            ("username", "api_publisher"),
            ("password", "x"),
            ("scope", "openid"),
        ],
        Some(("cid", "csecret")),
    )
    .await;
    assert_eq!(
        (wrong.status, wrong.json()["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let code = token(
        &c,
        is,
        &[("grant_type", "authorization_code"), ("code", "x")],
        Some(("cid", "csecret")),
    )
    .await;
    assert_eq!(code.json()["error"], "unauthorized_client");
}

#[tokio::test]
async fn client_authentication_errors_and_the_mutual_tls_conflict() {
    let sb = Sandbox::start().await.expect("sandbox");
    let c = http(&sb);
    let is = sb.is();
    setup(&c, is, "authorization_code", false).await;
    let bogus = [
        ("grant_type", "authorization_code"),
        ("code", "bogus"),
        ("redirect_uri", CALLBACK),
    ];
    // Credentials accepted: the bogus code is what fails.
    let r = token(&c, is, &bogus, Some(("cid", "csecret"))).await;
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let r = token(&c, is, &bogus, Some(("cid", "wrong"))).await;
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let r = token(&c, is, &bogus, Some(("nobody", "x"))).await;
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let both = [
        ("grant_type", "authorization_code"),
        ("code", "bogus"),
        ("redirect_uri", CALLBACK),
        ("client_id", "cid"),
        ("client_secret", "csecret"),
    ];
    // Header and body credentials together: IS's Basic authenticator refuses them itself.
    let r = token(&c, is, &both, Some(("cid", "csecret"))).await;
    assert_eq!(
        r.body,
        r#"{"error_description":"Request body and headers contain authorization information","error":"invalid_request"}"#
    );
    // A wrong secret for a known client carries IS's unquoted realm; an unknown client does not.
    let r = token(&c, is, &bogus, Some(("cid", "wrong"))).await;
    assert_eq!(r.header("www-authenticate"), Some("Basic realm=localhost"));
    let r = token(&c, is, &bogus, Some(("nobody", "x"))).await;
    assert!(
        r.json()["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("could not be found"))
    );
    assert!(r.header("www-authenticate").is_none());
    // With the MutualTLS authenticator engaged (a caller presenting a client certificate, as
    // APIM's JVM does), any body client_id gets the double-authentication error...
    is.update_quirks(|q| q.mutual_tls_conflict = true);
    for basic in [Some(("cid", "csecret")), None] {
        let r = token(&c, is, &both, basic).await;
        assert_eq!(r.status, 400);
        assert_eq!(
            r.body,
            r#"{"error_description":"The client MUST NOT use more than one authentication method in each","error":"invalid_request"}"#
        );
    }
    // ...while the Basic header alone (IsBasicAuthEnabled=true) still works with the switch on.
    let r = token(&c, is, &bogus, Some(("cid", "csecret"))).await;
    assert_eq!(r.json()["error"], "invalid_grant");
}

#[tokio::test]
async fn authorize_checks_client_and_callback() {
    let sb = Sandbox::start().await.expect("sandbox");
    let c = http(&sb);
    let is = sb.is();
    setup(&c, is, "authorization_code", false).await;
    let go = |client: &str, redirect: &str| {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("response_type", "code"),
                ("client_id", client),
                ("redirect_uri", redirect),
                ("scope", "openid"),
            ])
            .finish();
        let c = c.clone();
        let base = is.base_url();
        async move {
            read(
                c.get(format!("{base}/oauth2/authorize?{q}"))
                    .send()
                    .await
                    .expect("send"),
            )
            .await
        }
    };
    let bad_cb = go("cid", "https://evil.example/commonauth").await;
    let loc = bad_cb.header("location").expect("location");
    assert!(
        loc.contains("oauth2_error.do") && loc.contains("invalid_callback"),
        "{loc}"
    );
    assert!(
        loc.contains("Registered+callback+does+not+match+with+the+provided+url."),
        "{loc}"
    );
    let bad_client = go("nope", CALLBACK).await;
    assert!(
        bad_client
            .header("location")
            .is_some_and(|l| l.contains("invalid_client"))
    );
    // A wrong password goes back to the login page.
    let ok = go("cid", CALLBACK).await;
    let loc = url::Url::parse(ok.header("location").expect("location")).expect("url");
    let key = loc
        .query_pairs()
        .find(|(k, _)| k == "sessionDataKey")
        .map(|(_, v)| v.into_owned())
        .expect("key");
    let form = format!("sessionDataKey={key}&username=admin&password=wrong");
    let r = read(
        c.post(format!("{}/commonauth", is.base_url()))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert!(
        r.header("location")
            .is_some_and(|l| l.contains("authFailure=true"))
    );
    // The regexp= form of the callback.
    assert!(wso2_testkit::callback_matches(
        "regexp=(https://a/x|https://b/y)",
        "https://b/y"
    ));
}
