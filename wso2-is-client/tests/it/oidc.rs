//! OIDC discovery and the token-endpoint probe through wiremock: one fresh server per test,
//! exact matchers and `.expect(n)`.

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};
use wso2_is_client::carbon::{RestAuth, RestRequest};
use wso2_is_client::oidc::{
    ClientAuthMethod, ClientAuthProbe, DEFAULT_PROBE_REDIRECT_URI, ProbeOutcome,
};
use wso2_is_client::{Dispatch, Error, IsClient, RetryPolicy};

use crate::scim2::NoHeader;
use crate::support::*;

const SECRET: &str = "canary-client-secret";
const FORM: &str = "application/x-www-form-urlencoded";
/// `apim-client:canary-client-secret`.
const CLIENT_BASIC: &str = "Basic YXBpbS1jbGllbnQ6Y2FuYXJ5LWNsaWVudC1zZWNyZXQ=";

/// The discovery document of IS 5.9 for `base` (as `oauth2/token/.well-known/...` serves it).
fn is59_document(base: &str) -> serde_json::Value {
    json!({
        "issuer": format!("{base}/oauth2/token"),
        "authorization_endpoint": format!("{base}/oauth2/authorize"),
        "token_endpoint": format!("{base}/oauth2/token"),
        "userinfo_endpoint": format!("{base}/oauth2/userinfo"),
        "jwks_uri": format!("{base}/oauth2/jwks"),
        "end_session_endpoint": format!("{base}/oidc/logout"),
        "registration_endpoint": format!("{base}/api/identity/oauth2/dcr/v1.1/register"),
        "revocation_endpoint": format!("{base}/oauth2/revoke"),
        "introspection_endpoint": format!("{base}/oauth2/introspect"),
        "check_session_iframe": format!("{base}/oidc/checksession"),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "grant_types_supported": ["refresh_token", "urn:ietf:params:oauth:grant-type:saml2-bearer", "password", "client_credentials", "iwa:ntlm", "authorization_code", "urn:ietf:params:oauth:grant-type:uma-ticket", "urn:ietf:params:oauth:grant-type:jwt-bearer"],
        "scopes_supported": ["address", "phone", "openid", "profile", "email"],
        "claims_supported": ["sub", "email", "given_name", "http://wso2.org/claims/role"],
        "response_types_supported": ["id_token token", "code", "id_token", "token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        // IS 5.9 writes these booleans as strings.
        "backchannel_logout_supported": "true",
        "backchannel_logout_session_supported": "true"
    })
}

fn json_answer(status: u16, body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("content-type", "application/json")
        .set_body_string(body.to_string())
}

/// Matches a form body: these pairs present (a `None` value: present with any value), these
/// keys absent.
struct Form {
    has: Vec<(&'static str, Option<&'static str>)>,
    absent: Vec<&'static str>,
}

impl Match for Form {
    fn matches(&self, request: &Request) -> bool {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&request.body)
            .into_owned()
            .collect();
        let has = self.has.iter().all(|(k, v)| {
            pairs
                .iter()
                .any(|(pk, pv)| pk == k && v.is_none_or(|v| v == pv))
        });
        let absent = self
            .absent
            .iter()
            .all(|k| pairs.iter().all(|(pk, _)| pk != k));
        has && absent
    }
}

fn code_request(extra: &[(&'static str, Option<&'static str>)], absent: &[&'static str]) -> Form {
    let mut has = vec![
        ("grant_type", Some("authorization_code")),
        ("code", None),
        ("redirect_uri", Some("https://apim.example.com/commonauth")),
    ];
    has.extend_from_slice(extra);
    Form {
        has,
        absent: absent.to_vec(),
    }
}

fn token_mock() -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .and(header("content-type", FORM))
        .and(header("accept", "application/json"))
}

async fn probe(
    server: &MockServer,
    method: ClientAuthMethod,
    secret: &str,
) -> Result<ProbeOutcome, Error> {
    ClientAuthProbe::new(
        format!("{}/oauth2/token", server.uri()),
        "apim-client",
        secret.to_owned(),
        method,
    )
    .redirect_uri("https://apim.example.com/commonauth")
    .send(&client(server))
    .await
}

#[tokio::test]
async fn server_discovery_reads_the_is59_document_without_credentials() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/oauth2/token/.well-known/openid-configuration"))
        .and(header("accept", "application/json"))
        .and(NoHeader("authorization"))
        .respond_with(json_answer(200, is59_document(&server.uri())))
        .expect(1)
        .mount(&server)
        .await;
    let op = client(&server).oidc().server_discovery().await.unwrap();
    assert_eq!(op.issuer, format!("{}/oauth2/token", server.uri()));
    assert_eq!(op.token_endpoint.as_ref().unwrap().path(), "/oauth2/token");
    assert_eq!(
        op.end_session_endpoint.as_ref().unwrap().path(),
        "/oidc/logout"
    );
    assert_eq!(
        op.userinfo_endpoint.as_ref().unwrap().path(),
        "/oauth2/userinfo"
    );
    assert!(op.supports_client_auth(ClientAuthMethod::Post));
    assert!(
        op.claims_supported
            .iter()
            .any(|c| c == "http://wso2.org/claims/role")
    );
    assert!(op.extra.contains_key("check_session_iframe"));
    assert!(
        op.grant_types_supported
            .iter()
            .any(|g| g == "authorization_code")
    );
}

#[tokio::test]
async fn discovery_at_an_absolute_url_on_another_host() {
    let admin = server().await;
    let op_server = server().await;
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .and(NoHeader("authorization"))
        .respond_with(json_answer(
            200,
            json!({
                "issuer": op_server.uri(),
                "authorization_endpoint": format!("{}/auth", op_server.uri()),
                "token_endpoint": format!("{}/token", op_server.uri()),
                "jwks_uri": format!("{}/jwks", op_server.uri()),
                "scopes_supported": ["openid"]
            }),
        ))
        .expect(1)
        .mount(&op_server)
        .await;
    let url = format!("{}/.well-known/openid-configuration", op_server.uri());
    let op = client(&admin).oidc().discovery(&url).await.unwrap();
    assert!(op.issuer_matches(&url::Url::parse(&url).unwrap()));
    assert!(op.userinfo_endpoint.is_none());
    assert!(admin.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn discovery_refuses_relative_endpoints() {
    let server = server().await;
    let mut doc = is59_document(&server.uri());
    doc["token_endpoint"] = json!("/oauth2/token");
    Mock::given(method("GET"))
        .and(path("/oauth2/token/.well-known/openid-configuration"))
        .respond_with(json_answer(200, doc))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server).oidc().server_discovery().await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    let cause = std::error::Error::source(&err).unwrap().to_string();
    assert!(cause.contains("token_endpoint"), "{cause}");
}

#[tokio::test]
async fn discovery_of_an_html_page_is_an_unexpected_answer() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/oauth2/token/.well-known/openid-configuration"))
        .respond_with(
            ResponseTemplate::new(404)
                .insert_header("content-type", "text/html")
                .set_body_string("<html><head><title>Not Found</title></head></html>"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server).oidc().server_discovery().await.unwrap_err();
    assert!(
        matches!(err, Error::UnexpectedAnswer { status: 404, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn probe_basic_sends_the_header_only_and_invalid_grant_means_accepted() {
    let server = server().await;
    token_mock()
        .and(header("authorization", CLIENT_BASIC))
        .and(code_request(&[], &["client_id", "client_secret"]))
        .respond_with(json_answer(
            400,
            json!({"error_description": "Invalid authorization code received from token request", "error": "invalid_grant"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = probe(&server, ClientAuthMethod::Basic, SECRET)
        .await
        .unwrap();
    assert_eq!(outcome, ProbeOutcome::CredentialsAccepted { status: 400 });
    assert!(outcome.is_accepted());
}

#[tokio::test]
async fn probe_post_sends_the_body_only() {
    let server = server().await;
    token_mock()
        .and(NoHeader("authorization"))
        .and(code_request(
            &[
                ("client_id", Some("apim-client")),
                ("client_secret", Some(SECRET)),
            ],
            &[],
        ))
        .respond_with(json_answer(400, json!({"error": "invalid_grant"})))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = probe(&server, ClientAuthMethod::Post, SECRET)
        .await
        .unwrap();
    assert!(outcome.is_accepted(), "{outcome:?}");
}

#[tokio::test]
async fn probe_with_a_wrong_secret_is_invalid_client() {
    let server = server().await;
    token_mock()
        .respond_with(
            json_answer(
                401,
                json!({"error_description": "Client Authentication failed.", "error": "invalid_client"}),
            )
            // IS 5.9 writes the realm unquoted.
            .insert_header("www-authenticate", "Basic realm=localhost"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let outcome = probe(&server, ClientAuthMethod::Basic, "wrong")
        .await
        .unwrap();
    assert_eq!(
        outcome,
        ProbeOutcome::InvalidClient {
            status: 401,
            description: Some("Client Authentication failed.".into())
        }
    );
}

#[tokio::test]
async fn probe_with_both_methods_recognises_the_mutual_tls_refusal() {
    let server = server().await;
    token_mock()
        .and(header("authorization", CLIENT_BASIC))
        .and(code_request(
            &[("client_id", Some("apim-client")), ("client_secret", Some(SECRET))],
            &[],
        ))
        .respond_with(json_answer(
            400,
            json!({"error_description": "The client MUST NOT use more than one authentication method in each", "error": "invalid_request"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = probe(&server, ClientAuthMethod::Both, SECRET)
        .await
        .unwrap();
    assert!(
        matches!(
            outcome,
            ProbeOutcome::MultipleAuthMethods { status: 400, .. }
        ),
        "{outcome:?}"
    );
}

/// IS 5.9's own wording when a Basic header and body credentials come together.
#[tokio::test]
async fn probe_with_both_methods_recognises_is_59s_duplicate_credentials_wording() {
    let server = server().await;
    token_mock()
        .and(header("authorization", CLIENT_BASIC))
        .respond_with(json_answer(
            400,
            json!({"error_description": "Request body and headers contain authorization information", "error": "invalid_request"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = probe(&server, ClientAuthMethod::Both, SECRET)
        .await
        .unwrap();
    assert!(
        matches!(
            outcome,
            ProbeOutcome::MultipleAuthMethods { status: 400, .. }
        ),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn probe_reports_other_answers_and_is_sent_once() {
    let server = server().await;
    token_mock()
        .respond_with(
            ResponseTemplate::new(503)
                .insert_header("content-type", "text/html")
                .set_body_string("<html><title>Service Unavailable</title></html>"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let c = IsClient::builder(server.uri())
        .credentials("admin", "admin-canary-password")
        .allow_http(true)
        .retry(RetryPolicy::attempts(4))
        .build()
        .unwrap();
    let outcome = ClientAuthProbe::new(
        "oauth2/token",
        "apim-client",
        SECRET,
        ClientAuthMethod::Basic,
    )
    .redirect_uri("https://apim.example.com/commonauth")
    .send(&c)
    .await
    .unwrap();
    assert_eq!(
        outcome,
        ProbeOutcome::Other {
            status: 503,
            error: None,
            description: None
        }
    );
}

#[tokio::test]
async fn probe_uses_the_default_redirect_uri() {
    let server = server().await;
    token_mock()
        .and(Form {
            has: vec![("redirect_uri", Some(DEFAULT_PROBE_REDIRECT_URI))],
            absent: vec![],
        })
        .respond_with(json_answer(400, json!({"error": "invalid_grant"})))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = ClientAuthProbe::new(
        "oauth2/token",
        "apim-client",
        SECRET,
        ClientAuthMethod::Basic,
    )
    .send(&client(&server))
    .await
    .unwrap();
    assert!(outcome.is_accepted());
}

#[tokio::test]
async fn the_secret_never_shows_in_debug_logs_or_errors() {
    let server = server().await;
    token_mock()
        .respond_with(json_answer(
            400,
            json!({"error": "invalid_request", "error_description": format!("bad secret {SECRET}")}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let (logs, _guard) = capture_logs();
    let c = client(&server);
    let probe = ClientAuthProbe::new(
        "oauth2/token",
        "apim-client",
        SECRET,
        ClientAuthMethod::Both,
    );
    assert!(!format!("{probe:?}").contains(SECRET));
    let outcome = probe.send(&c).await.unwrap();
    assert!(!format!("{outcome:?}").contains(SECRET), "{outcome:?}");
    // Nothing listens on port 9 (discard): a connection error, naming the host contacted.
    let err = ClientAuthProbe::new(
        "http://127.0.0.1:9/token",
        "apim-client",
        SECRET,
        ClientAuthMethod::Post,
    )
    .send(&c)
    .await
    .unwrap_err();
    assert_eq!(err.dispatch(), Dispatch::NotSent);
    assert!(err.to_string().contains("127.0.0.1:9"), "{err}");
    assert!(!format!("{err:?}").contains(SECRET));
    assert!(!logs.contents().contains(SECRET), "secret in logs");
}

#[tokio::test]
async fn admin_credentials_never_go_to_another_host() {
    let admin = server().await;
    let other = server().await;
    let c = client(&admin);
    let request = RestRequest {
        operation: "test",
        method: http::Method::GET,
        path: format!("{}/anything", other.uri()),
        auth: RestAuth::Admin,
        content_type: None,
        accept: None,
        body: None,
        read_only: true,
    };
    let err = c.core().rest(&request).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err}");
    assert!(other.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn empty_credentials_are_refused_before_sending() {
    let server = server().await;
    let c = client(&server);
    let err = ClientAuthProbe::new("oauth2/token", "apim-client", "", ClientAuthMethod::Basic)
        .send(&c)
        .await
        .unwrap_err();
    assert_eq!(err.dispatch(), Dispatch::NotSent);
}
