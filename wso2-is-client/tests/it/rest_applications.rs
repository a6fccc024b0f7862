//! The applications and OIDC-scopes REST clients against a mock IS: exact method, path, query and
//! body matchers, and the catch-all that fails on any other call.

use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Match, Mock, MockBuilder, Request, ResponseTemplate};
use wso2_is_client::oauth::GrantType;
use wso2_is_client::rest::{
    AdvancedConfigurations, ApplicationId, ApplicationPatch, NewApplication, OidcConfiguration,
};
use wso2_is_client::version::ConsentFields;
use wso2_is_client::{ApplicationName, Dispatch, Error, IsClient, RetryPolicy};

use crate::support::{assert_no_leaks, capture_logs, client, error_chain, server};

pub const BASIC: &str = "Basic YWRtaW46YWRtaW4tY2FuYXJ5LXBhc3N3b3Jk";
const APPS: &str = "/api/server/v1/applications";
const ID: &str = "29048810-1447-4ea0-a348-30d15ab65fa3";

/// The query string, exactly (every pair, in any order; nothing more).
pub struct ExactQuery(Vec<(String, String)>);

impl ExactQuery {
    pub fn new(pairs: &[(&str, &str)]) -> Self {
        let mut v: Vec<_> = pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        v.sort();
        Self(v)
    }
}

impl Match for ExactQuery {
    fn matches(&self, request: &Request) -> bool {
        let mut got: Vec<(String, String)> = request
            .url
            .query_pairs()
            .map(|(a, b)| (a.into_owned(), b.into_owned()))
            .collect();
        got.sort();
        got == self.0
    }
}

/// No query string at all.
pub struct NoQuery;

impl Match for NoQuery {
    fn matches(&self, request: &Request) -> bool {
        request.url.query().is_none()
    }
}

/// A REST call with the admin's Basic credentials.
pub fn rest(verb: &str, p: &str) -> MockBuilder {
    Mock::given(method(verb))
        .and(path(p))
        .and(header("authorization", BASIC))
}

fn id() -> ApplicationId {
    ApplicationId::new(ID).unwrap()
}

fn json_answer(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("content-type", "application/json")
        .set_body_string(body.to_string())
}

fn new_app() -> NewApplication {
    NewApplication::new(&ApplicationName::new("apim-sso").unwrap())
        .with_oidc(
            OidcConfiguration::new(vec![GrantType::AuthorizationCode])
                .with_callback_urls(["https://apim:9443/commonauth"])
                .with_pkce(false, false)
                .with_client_credentials("apim-client", "canary-client-secret"),
        )
        .with_advanced_configurations(
            AdvancedConfigurations::default()
                .with_consent_skipped(ConsentFields::SkipLoginAndLogoutConsent, true),
        )
}

fn new_app_body() -> Value {
    json!({
        "name": "apim-sso",
        "inboundProtocolConfiguration": {"oidc": {
            "clientId": "apim-client", "clientSecret": "canary-client-secret",
            "grantTypes": ["authorization_code"],
            "callbackURLs": ["https://apim:9443/commonauth"],
            "pkce": {"mandatory": false, "supportPlainTransformAlgorithm": false}
        }},
        "advancedConfigurations": {"skipLoginConsent": true, "skipLogoutConsent": true}
    })
}

#[tokio::test]
async fn create_reads_the_id_from_location_of_an_empty_201() {
    let s = server().await;
    rest("POST", APPS)
        .and(header("content-type", "application/json"))
        .and(NoQuery)
        .and(body_json(new_app_body()))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("location", format!("https://is:9443{APPS}/{ID}").as_str()),
        )
        .expect(1)
        .mount(&s)
        .await;
    let created = client(&s)
        .rest_applications()
        .create(&new_app())
        .await
        .unwrap();
    assert_eq!(created, id());
}

#[tokio::test]
async fn create_without_location_is_a_typed_error_of_unknown_outcome() {
    let s = server().await;
    rest("POST", APPS)
        .and(body_json(new_app_body()))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&s)
        .await;
    let e = client(&s)
        .rest_applications()
        .create(&new_app())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Decode { status: 201, .. }), "{e:?}");
    assert!(
        e.outcome_unknown(),
        "the application may exist: re-read by name"
    );
    assert_eq!(e.dispatch(), Dispatch::Answered);
}

#[tokio::test]
async fn duplicates_are_already_exists_as_409_and_as_5_11s_500() {
    for (status, code) in [(409, "APP-60007"), (500, "APP-65001")] {
        let s = server().await;
        rest("POST", APPS)
            .and(body_json(new_app_body()))
            .respond_with(json_answer(
                status,
                json!({"code": code, "message": "Application already exists.",
                       "description": "An application with name apim-sso already exists; secret canary-client-secret",
                       "traceId": "e0fbcfeb"}),
            ))
            .expect(1)
            .mount(&s)
            .await;
        let e = client(&s)
            .rest_applications()
            .create(&new_app())
            .await
            .unwrap_err();
        assert!(e.is_already_exists(), "{status}: {e}");
        assert!(
            !e.outcome_unknown(),
            "{status}: a duplicate is a definite answer"
        );
        assert_eq!(e.status(), Some(status));
        assert!(e.to_string().contains(code), "{e}");
        assert_eq!(
            e.rest_error()
                .unwrap()
                .trace_id
                .as_ref()
                .map(wso2_is_client::ServerText::raw),
            Some("e0fbcfeb")
        );
        assert_no_leaks(&[("error", error_chain(&e))], &["canary-client-secret"]);
    }
}

#[tokio::test]
async fn another_500_is_not_a_duplicate_and_its_outcome_is_unknown() {
    let s = server().await;
    rest("POST", APPS)
        .respond_with(json_answer(
            500,
            json!({"code": "APP-65002", "message": "Server error"}),
        ))
        .expect(1)
        .mount(&s)
        .await;
    let e = client(&s)
        .rest_applications()
        .create(&new_app())
        .await
        .unwrap_err();
    assert!(!e.is_already_exists(), "{e}");
    assert!(e.outcome_unknown(), "{e}");
}

#[tokio::test]
async fn html_and_text_answers_are_typed_errors() {
    let s = server().await;
    rest("GET", &format!("{APPS}/{ID}"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/html")
                .set_body_string("<html><head><title>WSO2 Identity Server</title></head><body>login</body></html>"),
        )
        .expect(1)
        .mount(&s)
        .await;
    rest("GET", &format!("{APPS}/{ID}/inbound-protocols/oidc"))
        .respond_with(ResponseTemplate::new(200).set_body_string("not json at all"))
        .expect(1)
        .mount(&s)
        .await;
    rest("DELETE", &format!("{APPS}/{ID}"))
        .respond_with(
            ResponseTemplate::new(502)
                .insert_header("content-type", "text/html")
                .set_body_string("<html><title>Bad Gateway</title></html>"),
        )
        .expect(1)
        .mount(&s)
        .await;
    let c = client(&s);
    let apps = c.rest_applications();
    let e = apps.get(&id()).await.unwrap_err();
    assert!(
        matches!(&e, Error::UnexpectedAnswer { status: 200, answer: wso2_is_client::UnexpectedAnswer::Html { title: Some(t) }, .. } if t == "WSO2 Identity Server"),
        "{e:?}"
    );
    let e = apps.get_oidc(&id()).await.unwrap_err();
    assert!(
        matches!(e, Error::UnexpectedAnswer { status: 200, .. }),
        "{e:?}"
    );
    let e = apps.delete(&id()).await.unwrap_err();
    assert!(
        matches!(e, Error::UnexpectedAnswer { status: 502, .. }),
        "{e:?}"
    );
    assert!(e.is_retryable() && e.outcome_unknown(), "{e}");
}

#[tokio::test]
async fn find_by_name_filters_exactly_and_gets_by_id() {
    let s = server().await;
    rest("GET", APPS)
        .and(ExactQuery::new(&[("filter", "name eq apim-sso"), ("limit", "100"), ("offset", "0")]))
        .respond_with(json_answer(200, json!({
            "totalResults": 2, "startIndex": 1, "count": 2,
            "applications": [
                {"id": "other-id", "name": "apim-sso-old", "self": "/api/server/v1/applications/other-id"},
                {"id": ID, "name": "apim-sso", "access": "WRITE", "self": format!("{APPS}/{ID}"), "clientId": "c1"}
            ],
            "links": []
        })))
        .expect(2)
        .mount(&s)
        .await;
    rest("GET", &format!("{APPS}/{ID}"))
        .and(NoQuery)
        .respond_with(json_answer(200, json!({
            "id": ID, "name": "apim-sso",
            "inboundProtocols": [{"type": "oauth2", "name": "OAuth2", "self": format!("{APPS}/{ID}/inbound-protocols/oidc")}],
            "advancedConfigurations": {"skipLoginConsent": true, "skipLogoutConsent": false, "fragment": false},
            "realm": ""
        })))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(&s);
    let apps = c.rest_applications();
    let name = ApplicationName::new("apim-sso").unwrap();
    let found = apps.find_by_name(&name).await.unwrap().unwrap();
    assert_eq!(found.id, id());
    assert_eq!(found.client_id.as_deref(), Some("c1"));
    let app = apps.get_by_name(&name).await.unwrap().unwrap();
    assert!(app.has_oidc());
    let adv = app.advanced_configurations.unwrap();
    assert_eq!(
        (adv.skip_login_consent, adv.skip_logout_consent),
        (Some(true), Some(false))
    );
    assert!(adv.extra.contains_key("fragment") && app.extra.contains_key("realm"));
}

#[tokio::test]
async fn names_with_spaces_are_found_by_prefix_and_matched_exactly() {
    let s = server().await;
    rest("GET", APPS)
        .and(ExactQuery::new(&[("filter", "name sw APIM"), ("limit", "100"), ("offset", "0")]))
        .respond_with(json_answer(200, json!({
            "totalResults": 2, "count": 2,
            "applications": [{"id": "a", "name": "APIM other"}, {"id": "b", "name": "APIM single sign-on"}]
        })))
        .expect(1)
        .mount(&s)
        .await;
    let name = ApplicationName::new("APIM single sign-on").unwrap();
    let found = client(&s)
        .rest_applications()
        .find_by_name(&name)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id.as_str(), "b");
}

#[tokio::test]
async fn absent_applications_read_as_none() {
    let s = server().await;
    rest("GET", APPS)
        .and(ExactQuery::new(&[
            ("filter", "name eq nothing"),
            ("limit", "100"),
            ("offset", "0"),
        ]))
        .respond_with(json_answer(
            200,
            json!({"totalResults": 0, "startIndex": 1, "count": 0}),
        ))
        .expect(1)
        .mount(&s)
        .await;
    rest("GET", &format!("{APPS}/{ID}"))
        .respond_with(json_answer(
            404,
            json!({"code": "APP-60006", "message": "Application not found."}),
        ))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(&s);
    let apps = c.rest_applications();
    assert!(
        apps.find_by_name(&ApplicationName::new("nothing").unwrap())
            .await
            .unwrap()
            .is_none()
    );
    assert!(apps.get(&id()).await.unwrap().is_none());
}

#[tokio::test]
async fn patch_sends_only_what_is_set_and_delete_of_a_missing_app_is_not_found() {
    let s = server().await;
    rest("PATCH", &format!("{APPS}/{ID}"))
        .and(body_json(
            json!({"description": "changed", "advancedConfigurations": {"skipConsent": true}}),
        ))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&s)
        .await;
    rest("DELETE", &format!("{APPS}/{ID}"))
        .respond_with(ResponseTemplate::new(204))
        .up_to_n_times(1)
        .expect(1)
        .mount(&s)
        .await;
    rest("DELETE", &format!("{APPS}/{ID}"))
        .respond_with(json_answer(
            404,
            json!({"code": "APP-60006", "message": "Application not found."}),
        ))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(&s);
    let apps = c.rest_applications();
    let patch = ApplicationPatch::new()
        .description("changed")
        .advanced_configurations(
            AdvancedConfigurations::default()
                .with_consent_skipped(ConsentFields::SkipConsent, true),
        );
    apps.patch(&id(), &patch).await.unwrap();
    assert!(
        apps.patch(&id(), &ApplicationPatch::new()).await.is_err(),
        "an empty patch is refused before sending"
    );
    apps.delete(&id()).await.unwrap();
    let e = apps.delete(&id()).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
}

#[tokio::test]
async fn unknown_oidc_fields_survive_get_then_put() {
    let s = server().await;
    let read = json!({
        "clientId": "apim-client", "clientSecret": "canary-client-secret", "state": "ACTIVE",
        "grantTypes": ["authorization_code", "refresh_token"],
        "callbackURLs": ["https://old:9443/commonauth"],
        "publicClient": false,
        "pkce": {"mandatory": true, "supportPlainTransformAlgorithm": false, "futureFlag": 1},
        "hybridFlow": {"enable": false, "responseType": ""},
        "refreshToken": {"expiryInSeconds": 86400, "renewRefreshToken": true},
        "logout": {"backChannelLogoutUrl": "https://b", "frontChannelLogoutUrl": ""},
        "isFAPIApplication": false,
        "somethingNew": {"nested": [1, 2, {"x": null}]}
    });
    let mut expected = read.clone();
    expected["callbackURLs"] = json!(["https://apim:9443/commonauth"]);
    expected["pkce"]["mandatory"] = json!(false);
    rest("GET", &format!("{APPS}/{ID}/inbound-protocols/oidc"))
        .respond_with(json_answer(200, read))
        .expect(1)
        .mount(&s)
        .await;
    rest("PUT", &format!("{APPS}/{ID}/inbound-protocols/oidc"))
        .and(header("content-type", "application/json"))
        .and(body_json(expected))
        .respond_with(json_answer(200, json!({})))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(&s);
    let apps = c.rest_applications();
    let (logs, _guard) = capture_logs();
    let oidc = apps.get_oidc(&id()).await.unwrap().unwrap();
    assert!(
        !format!("{oidc:?}").contains("canary"),
        "Debug shows no secret"
    );
    assert!(
        !serde_json::to_string(&oidc).unwrap().contains("canary"),
        "snapshots hold no secret"
    );
    let changed = oidc
        .with_callback_urls(["https://apim:9443/commonauth"])
        .with_pkce(false, false);
    apps.put_oidc(&id(), &changed).await.unwrap();
    let logged = logs.contents();
    assert!(
        logged.contains("put OIDC settings"),
        "the capture saw the calls: {logged}"
    );
    assert_no_leaks(
        &[("logs", logged)],
        &["canary-client-secret", "admin-canary-password"],
    );
}

#[tokio::test]
async fn auth_failures_are_401_and_403() {
    for status in [401, 403] {
        let s = server().await;
        rest("GET", &format!("{APPS}/{ID}"))
            .respond_with(ResponseTemplate::new(status))
            .expect(1)
            .mount(&s)
            .await;
        let e = client(&s).rest_applications().get(&id()).await.unwrap_err();
        assert!(e.is_auth_failure(), "{status}: {e}");
        assert!(!e.outcome_unknown());
    }
}

#[tokio::test]
async fn tenant_clients_use_tenant_qualified_paths() {
    let s = server().await;
    Mock::given(method("GET"))
        .and(path(format!("/t/example.com{APPS}/{ID}")))
        .respond_with(json_answer(200, json!({"id": ID, "name": "apim-sso"})))
        .expect(1)
        .mount(&s)
        .await;
    let c: IsClient = IsClient::builder(s.uri())
        .credentials("admin@example.com", "pw")
        .allow_http(true)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let app = c.rest_applications().get(&id()).await.unwrap().unwrap();
    assert_eq!(app.name, "apim-sso");
}

#[tokio::test]
async fn oidc_scopes_are_read_then_replaced_with_the_claim_added() {
    let s = server().await;
    let scopes = "/api/server/v1/oidc/scopes";
    rest("GET", scopes)
        .respond_with(json_answer(200, json!([
            {"name": "openid", "displayName": "openid", "claims": []},
            {"name": "groups", "displayName": "groups", "description": "Groups", "claims": ["groups"]}
        ])))
        .expect(1)
        .mount(&s)
        .await;
    rest("GET", &format!("{scopes}/openid"))
        .respond_with(json_answer(200, json!({"name": "openid", "displayName": "openid", "description": "", "claims": ["sub", "email"]})))
        .expect(1)
        .mount(&s)
        .await;
    rest("PUT", &format!("{scopes}/openid"))
        .and(body_json(json!({"displayName": "openid", "description": "", "claims": ["sub", "email", "groups"]})))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&s)
        .await;
    rest("GET", &format!("{scopes}/nothing"))
        .respond_with(json_answer(
            404,
            json!({"code": "OSM-60004", "message": "Scope not found."}),
        ))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(&s);
    let api = c.oidc_scopes();
    assert_eq!(api.list().await.unwrap().len(), 2);
    let openid = api.get("openid").await.unwrap().unwrap();
    let update = openid.with_claim_added("groups");
    assert_eq!(
        openid.with_claim_added("sub").claims,
        vec!["sub", "email"],
        "no duplicate"
    );
    api.update("openid", &update).await.unwrap();
    assert!(api.get("nothing").await.unwrap().is_none());
}
