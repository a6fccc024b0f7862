//! SCIM2 through wiremock, in IS 5.9's shape: one fresh server per test, exact matchers
//! (method, path, query, content type, authorization) and `.expect(n)`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use wiremock::matchers::{
    body_json, body_partial_json, header, headers, method, path, query_param,
};
use wiremock::{Match, Mock, MockBuilder, Request, ResponseTemplate};
use wso2_is_client::scim2::{
    Bulk, BulkMethod, BulkOperation, BulkOutcome, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA,
    PATCH_OP_SCHEMA, ScimGroup, ScimMember, ScimPatch, ScimUser, USER_SCHEMA,
};
use wso2_is_client::{Dispatch, Error, IsClient, RetryPolicy, RoleName, UserName};

use crate::support::*;

/// `admin:admin-canary-password`, as `support::client` authenticates.
pub const ADMIN_BASIC: &str = "Basic YWRtaW46YWRtaW4tY2FuYXJ5LXBhc3N3b3Jk";
const SCIM_JSON: &str = "application/scim+json";
const USER_PW: &str = "canary-user-password";

/// A SCIM request: method and path, the admin's Basic credentials, and a SCIM `Accept`.
fn scim(m: &str, p: &str) -> MockBuilder {
    Mock::given(method(m))
        .and(path(p))
        .and(header("authorization", ADMIN_BASIC))
        // wiremock splits header values at commas.
        .and(headers(
            "accept",
            vec!["application/scim+json", "application/json"],
        ))
}

/// A SCIM write: as [`scim`], with an `application/scim+json` body.
fn scim_write(m: &str, p: &str) -> MockBuilder {
    scim(m, p).and(header("content-type", SCIM_JSON))
}

fn json_answer(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("content-type", SCIM_JSON)
        .set_body_string(body.to_string())
}

/// An IS 5.9 (charon3) error document: `status` as a string; `scimType` only on 400s.
fn is_error(status: u16, scim_type: Option<&str>, detail: &str) -> ResponseTemplate {
    let mut doc = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "detail": detail,
        "status": status.to_string(),
    });
    if let Some(t) = scim_type {
        doc["scimType"] = json!(t);
    }
    json_answer(status, doc)
}

/// A user as IS 5.9 returns it (with an extension and attributes this crate does not model).
fn is_user(id: &str, user_name: &str) -> Value {
    json!({
        "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
        "id": id,
        "userName": user_name,
        "name": {"givenName": "Kim", "familyName": "Berry"},
        "emails": [{"value": "kim@example.com", "primary": true}],
        "groups": [{"display": "publisher_role", "value": "g-1", "$ref": "https://localhost:9443/scim2/Groups/g-1"}],
        "roles": [{"type": "default", "value": "Internal/everyone"}],
        "meta": {
            "created": "2019-08-26T14:27:36Z",
            "location": format!("https://localhost:9443/scim2/Users/{id}"),
            "lastModified": "2019-08-26T14:27:36Z",
            "resourceType": "User"
        },
        ENTERPRISE_USER_SCHEMA: {"employeeNumber": "1234A"}
    })
}

fn is_group(id: &str, name: &str, members: Value) -> Value {
    json!({
        "schemas": [GROUP_SCHEMA],
        "id": id,
        "displayName": name,
        "members": members,
        "meta": {"resourceType": "Group", "location": format!("https://localhost:9443/scim2/Groups/{id}")}
    })
}

fn user_name(n: &str) -> UserName {
    UserName::new(n).unwrap()
}

fn role(n: &str) -> RoleName {
    RoleName::new(n).unwrap()
}

/// Fails a request that carries this header.
pub struct NoHeader(pub &'static str);

impl Match for NoHeader {
    fn matches(&self, request: &Request) -> bool {
        !request.headers.contains_key(self.0)
    }
}

#[tokio::test]
async fn create_user_sends_scim_json_with_the_password_and_reads_back() {
    let server = server().await;
    scim_write("POST", "/scim2/Users")
        .and(body_json(json!({
            "schemas": [USER_SCHEMA],
            "userName": "kim",
            "name": {"givenName": "Kim", "familyName": "Berry"},
            "emails": [{"value": "kim@example.com", "primary": true}],
            "password": USER_PW
        })))
        .respond_with(json_answer(201, is_user("u-1", "kim")))
        .expect(1)
        .mount(&server)
        .await;
    let (logs, _guard) = capture_logs();
    let user = ScimUser::new(&user_name("kim"))
        .with_name("Kim", "Berry")
        .with_email("kim@example.com")
        .with_password(USER_PW);
    assert!(!format!("{user:?}").contains(USER_PW));
    let created = client(&server).scim2().users().create(&user).await.unwrap();
    assert_eq!(created.id.as_deref(), Some("u-1"));
    assert_eq!(created.groups[0].display.as_deref(), Some("publisher_role"));
    assert!(created.password.is_none());
    assert!(created.extra.contains_key("roles"));
    assert!(!logs.contents().contains(USER_PW), "password in logs");
}

#[tokio::test]
async fn duplicate_user_is_already_exists_and_never_shows_the_password() {
    let server = server().await;
    scim_write("POST", "/scim2/Users")
        .respond_with(is_error(
            409,
            None,
            &format!("User with the name: kim already exists in the system. ({USER_PW})"),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let user = ScimUser::new(&user_name("kim")).with_password(USER_PW);
    let err = client(&server)
        .scim2()
        .users()
        .create(&user)
        .await
        .unwrap_err();
    assert!(err.is_already_exists(), "{err}");
    assert_eq!(err.status(), Some(409));
    assert_eq!(err.dispatch(), Dispatch::Answered);
    assert!(!err.outcome_unknown());
    assert!(!err.to_string().contains(USER_PW), "{err}");
    assert!(!format!("{err:?}").contains(USER_PW), "{err:?}");
}

#[tokio::test]
async fn a_500_on_create_leaves_the_outcome_unknown_and_is_not_retried() {
    let server = server().await;
    scim_write("POST", "/scim2/Users")
        .respond_with(is_error(500, None, "Internal Server Error."))
        .expect(1)
        .mount(&server)
        .await;
    let c = IsClient::builder(server.uri())
        .credentials("admin", "admin-canary-password")
        .allow_http(true)
        .retry(RetryPolicy::attempts(3))
        .build()
        .unwrap();
    let err = c
        .scim2()
        .users()
        .create(&ScimUser::new(&user_name("kim")))
        .await
        .unwrap_err();
    assert!(err.outcome_unknown(), "{err}");
}

#[tokio::test]
async fn get_user_reads_it_or_none() {
    let server = server().await;
    scim("GET", "/scim2/Users/u-1")
        .respond_with(json_answer(200, is_user("u-1", "kim")))
        .expect(1)
        .mount(&server)
        .await;
    scim("GET", "/scim2/Users/gone")
        .respond_with(is_error(
            404,
            None,
            "Specified resource (e.g., User) or end-point, does not exist.",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let user = c.scim2().users().get("u-1").await.unwrap().unwrap();
    assert_eq!(user.user_name, "kim");
    assert_eq!(c.scim2().users().get("gone").await.unwrap(), None);
}

#[tokio::test]
async fn a_404_page_that_is_not_scim_is_an_error_not_absence() {
    let server = server().await;
    scim("GET", "/scim2/Users/u-1")
        .respond_with(
            ResponseTemplate::new(404)
                .insert_header("content-type", "text/html")
                .set_body_string(
                    "<html><head><title>HTTP Status 404 – Not Found</title></head></html>",
                ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .scim2()
        .users()
        .get("u-1")
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::UnexpectedAnswer { status: 404, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn find_user_by_name_escapes_the_filter_and_accepts_the_primary_store() {
    let server = server().await;
    scim("GET", "/scim2/Users")
        .and(query_param("filter", r#"userName eq "o\"brien""#))
        .respond_with(json_answer(
            200,
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                "totalResults": 1, "startIndex": 1, "itemsPerPage": 1,
                "Resources": [is_user("u-2", "PRIMARY/o\"brien")]
            }),
        ))
        .expect(1)
        .mount(&server)
        .await;
    // IS leaves `Resources` out when nothing matches.
    scim("GET", "/scim2/Users")
        .and(query_param("filter", r#"userName eq "nobody""#))
        .respond_with(json_answer(
            200,
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let found = c
        .scim2()
        .users()
        .find_by_name(&user_name("o\"brien"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id.as_deref(), Some("u-2"));
    assert_eq!(
        c.scim2()
            .users()
            .find_by_name(&user_name("nobody"))
            .await
            .unwrap(),
        None
    );
    // The space is sent as %20, the quotes percent-encoded.
    let reqs = server.received_requests().await.unwrap();
    assert!(
        reqs[0]
            .url
            .query()
            .unwrap()
            .starts_with("filter=userName%20eq%20%22"),
        "{}",
        reqs[0].url
    );
}

#[tokio::test]
async fn find_ignores_results_that_do_not_match_then_asks_the_primary_store() {
    let server = server().await;
    scim("GET", "/scim2/Groups")
        .and(query_param("filter", r#"displayName eq "publisher_role""#))
        .respond_with(json_answer(
            200,
            json!({"totalResults": 1, "Resources": [is_group("g-9", "SECONDARY/publisher_role", json!([]))]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    scim("GET", "/scim2/Groups")
        .and(query_param(
            "filter",
            r#"displayName eq "PRIMARY/publisher_role""#,
        ))
        .respond_with(json_answer(200, json!({"totalResults": 0})))
        .expect(1)
        .mount(&server)
        .await;
    let found = client(&server)
        .scim2()
        .groups()
        .find_by_name(&role("publisher_role"))
        .await
        .unwrap();
    assert_eq!(found, None);
}

#[tokio::test]
async fn find_group_by_its_qualified_name_when_the_plain_one_finds_nothing() {
    let server = server().await;
    scim("GET", "/scim2/Groups")
        .and(query_param("filter", r#"displayName eq "publisher_role""#))
        .respond_with(json_answer(200, json!({"totalResults": 0})))
        .expect(1)
        .mount(&server)
        .await;
    scim("GET", "/scim2/Groups")
        .and(query_param("filter", r#"displayName eq "PRIMARY/publisher_role""#))
        .respond_with(json_answer(
            200,
            json!({"totalResults": 1, "Resources": [is_group("g-1", "PRIMARY/publisher_role", json!([]))]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let found = client(&server)
        .scim2()
        .groups()
        .find_by_name(&role("publisher_role"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id.as_deref(), Some("g-1"));
}

#[tokio::test]
async fn delete_user_and_missing_user() {
    let server = server().await;
    scim("DELETE", "/scim2/Users/u-1")
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    scim("DELETE", "/scim2/Users/gone")
        .respond_with(is_error(404, None, "User not found"))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    c.scim2().users().delete("u-1").await.unwrap();
    let err = c.scim2().users().delete("gone").await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

#[tokio::test]
async fn ids_are_percent_encoded_and_empty_ids_refused() {
    let server = server().await;
    scim("GET", "/scim2/Users/a%2Fb%20c")
        .respond_with(json_answer(200, is_user("a/b c", "kim")))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    assert!(c.scim2().users().get("a/b c").await.unwrap().is_some());
    let err = c.scim2().users().delete(" ").await.unwrap_err();
    assert_eq!(err.dispatch(), Dispatch::NotSent);
}

#[tokio::test]
async fn replace_user_sends_back_everything_read_except_read_only_attributes() {
    let server = server().await;
    scim("GET", "/scim2/Users/u-1")
        .respond_with(json_answer(200, is_user("u-1", "kim")))
        .expect(1)
        .mount(&server)
        .await;
    let mut expected = is_user("u-1", "kim");
    let obj = expected.as_object_mut().unwrap();
    obj.remove("groups");
    obj.remove("meta");
    obj["name"]["givenName"] = json!("Kimberly");
    scim_write("PUT", "/scim2/Users/u-1")
        .and(body_json(expected))
        .respond_with(json_answer(200, is_user("u-1", "kim")))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let mut user = c.scim2().users().get("u-1").await.unwrap().unwrap();
    user.name.as_mut().unwrap().given_name = Some("Kimberly".into());
    c.scim2().users().replace(&user).await.unwrap();
}

#[tokio::test]
async fn tenant_users_call_the_tenant_path() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/t/example.com/scim2/Users/u-1"))
        .and(header(
            "authorization",
            "Basic YWRtaW5AZXhhbXBsZS5jb206dGVuYW50LXB3",
        ))
        .respond_with(json_answer(200, is_user("u-1", "kim")))
        .expect(1)
        .mount(&server)
        .await;
    let c = IsClient::builder(server.uri())
        .credentials("admin@example.com", "tenant-pw")
        .allow_http(true)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    assert!(c.scim2().users().get("u-1").await.unwrap().is_some());
}

#[tokio::test]
async fn bearer_token_and_base_path_for_other_scim_servers() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/v2/Users/u-1"))
        .and(header("authorization", "Bearer canary-token"))
        .respond_with(json_answer(200, is_user("u-1", "kim")))
        .expect(1)
        .mount(&server)
        .await;
    let c = IsClient::builder(format!("{}/v2", server.uri()))
        .credentials("unused", "unused")
        .allow_http(true)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let scim = c.scim2().base_path("").bearer_token("canary-token");
    assert!(!format!("{scim:?}").contains("canary-token"));
    assert!(scim.users().get("u-1").await.unwrap().is_some());
}

#[tokio::test]
async fn refused_credentials_are_an_auth_failure() {
    let server = server().await;
    scim("GET", "/scim2/Users/u-1")
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .scim2()
        .users()
        .get("u-1")
        .await
        .unwrap_err();
    assert!(err.is_auth_failure(), "{err}");
}

#[tokio::test]
async fn create_get_and_delete_group() {
    let server = server().await;
    scim_write("POST", "/scim2/Groups")
        .and(body_json(json!({
            "schemas": [GROUP_SCHEMA],
            "displayName": "publisher_role",
            "members": [{"value": "u-1", "display": "kim"}]
        })))
        .respond_with(json_answer(
            201,
            is_group(
                "g-1",
                "PRIMARY/publisher_role",
                json!([{"value": "u-1", "display": "kim"}]),
            ),
        ))
        .expect(1)
        .mount(&server)
        .await;
    scim("GET", "/scim2/Groups/g-1")
        .respond_with(json_answer(
            200,
            is_group("g-1", "PRIMARY/publisher_role", json!([])),
        ))
        .expect(1)
        .mount(&server)
        .await;
    scim("DELETE", "/scim2/Groups/g-1")
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let group = ScimGroup::new(&role("publisher_role"))
        .with_member(ScimMember::new("u-1").with_display("kim"));
    let created = c.scim2().groups().create(&group).await.unwrap();
    assert_eq!(created.id.as_deref(), Some("g-1"));
    assert_eq!(created.members.len(), 1);
    assert!(c.scim2().groups().get("g-1").await.unwrap().is_some());
    c.scim2().groups().delete("g-1").await.unwrap();
}

#[tokio::test]
async fn duplicate_group_is_already_exists() {
    let server = server().await;
    scim_write("POST", "/scim2/Groups")
        .respond_with(is_error(
            409,
            None,
            "Group with name: PRIMARY/publisher_role already exists in the system.",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .scim2()
        .groups()
        .create(&ScimGroup::new(&role("publisher_role")))
        .await
        .unwrap_err();
    assert!(err.is_already_exists(), "{err}");
}

#[tokio::test]
async fn find_group_by_display_name() {
    let server = server().await;
    scim("GET", "/scim2/Groups")
        .and(query_param("filter", r#"displayName eq "publisher_role""#))
        .respond_with(json_answer(
            200,
            json!({"totalResults": 1, "Resources": [is_group("g-1", "PRIMARY/publisher_role", json!([]))]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    // The qualified spelling is asked in the same round; the plain name's answer wins.
    scim("GET", "/scim2/Groups")
        .and(query_param(
            "filter",
            r#"displayName eq "PRIMARY/publisher_role""#,
        ))
        .respond_with(json_answer(
            200,
            json!({"totalResults": 0, "Resources": []}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let g = client(&server)
        .scim2()
        .groups()
        .find_by_name(&role("publisher_role"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(g.id.as_deref(), Some("g-1"));
}

#[tokio::test]
async fn patch_adds_and_removes_members_with_the_patch_op_schema() {
    let server = server().await;
    scim_write("PATCH", "/scim2/Groups/g-1")
        .and(body_json(json!({
            "schemas": [PATCH_OP_SCHEMA],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": "u-1", "display": "kim"}]}]
        })))
        // IS 5.9 answers 200 with the group.
        .respond_with(json_answer(
            200,
            is_group("g-1", "publisher_role", json!([{"value": "u-1", "display": "kim"}])),
        ))
        .expect(1)
        .mount(&server)
        .await;
    scim_write("PATCH", "/scim2/Groups/g-1")
        .and(body_json(json!({
            "schemas": [PATCH_OP_SCHEMA],
            "Operations": [
                {"op": "remove", "path": "members[value eq \"u-1\"]"},
                {"op": "remove", "path": "members[value eq \"u-2\"]"}
            ]
        })))
        // Other servers answer 204.
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let after = c
        .scim2()
        .groups()
        .add_members("g-1", &[ScimMember::new("u-1").with_display("kim")])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.members[0].value, "u-1");
    let after = c
        .scim2()
        .groups()
        .remove_members("g-1", &["u-1", "u-2"])
        .await
        .unwrap();
    assert_eq!(after, None);
    let empty = c.scim2().groups().patch("g-1", &ScimPatch::new()).await;
    assert_eq!(empty.unwrap_err().dispatch(), Dispatch::NotSent);
}

#[tokio::test]
async fn members_without_a_display_name_are_refused_for_is() {
    let server = server().await;
    let c = client(&server);
    let err = c
        .scim2()
        .groups()
        .add_members("g-1", &[ScimMember::new("u-1")])
        .await
        .unwrap_err();
    assert_eq!(err.dispatch(), Dispatch::NotSent);
    assert!(err.to_string().contains("display"), "{err}");
    let group = ScimGroup::new(&role("r")).with_member(ScimMember::new("u-1"));
    let err = c.scim2().groups().create(&group).await.unwrap_err();
    assert_eq!(err.dispatch(), Dispatch::NotSent);
}

// ---- Bulk ----

fn sp_config(max_operations: u64, supported: bool) -> ResponseTemplate {
    json_answer(
        200,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": true},
            "filter": {"maxResults": 200, "supported": true},
            "bulk": {"maxPayloadSize": 1048576, "maxOperations": max_operations, "supported": supported},
            "etag": {"supported": false},
            "sort": {"supported": false},
            "changePassword": {"supported": false}
        }),
    )
}

fn bulk_answer(ops: Value) -> ResponseTemplate {
    json_answer(
        200,
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkResponse"], "Operations": ops}),
    )
}

fn new_user(bulk_id: &str, name: &str) -> BulkOperation {
    BulkOperation::create_user(
        bulk_id,
        &ScimUser::new(&user_name(name)).with_password(USER_PW),
    )
    .unwrap()
}

#[tokio::test]
async fn bulk_splits_to_max_operations_and_resolves_references_across_requests() {
    let server = server().await;
    scim("GET", "/scim2/ServiceProviderConfig")
        .respond_with(sp_config(2, true))
        .expect(1)
        .mount(&server)
        .await;
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    scim_write("POST", "/scim2/Bulk")
        .and(body_partial_json(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"]})))
        .respond_with(move |req: &Request| {
            let body: Value = serde_json::from_slice(&req.body).unwrap();
            let ops = body["Operations"].as_array().unwrap().clone();
            match seen.fetch_add(1, Ordering::SeqCst) {
                0 => {
                    assert_eq!(ops.len(), 2);
                    assert_eq!(ops[0]["data"]["password"], USER_PW);
                    assert!(body.get("failOnErrors").is_none());
                    bulk_answer(json!([
                        {"bulkId": "u1", "method": "POST", "location": "https://localhost:9443/scim2/Users/id-1", "status": {"code": 201}},
                        {"bulkId": "u2", "method": "POST", "location": "https://localhost:9443/scim2/Users/id-2", "status": {"code": 201}}
                    ]))
                }
                _ => {
                    assert_eq!(ops.len(), 1);
                    // The reference to u1, created by the first request, became its id.
                    assert_eq!(ops[0]["data"]["members"][0]["value"], "id-1");
                    bulk_answer(json!([
                        {"bulkId": "g1", "method": "POST", "location": "https://localhost:9443/scim2/Groups/gid-1", "status": "201"}
                    ]))
                }
            }
        })
        .expect(2)
        .mount(&server)
        .await;
    let group = ScimGroup::new(&role("publisher_role"))
        .with_member(ScimMember::new("bulkId:u1").with_display("kim"));
    let ops = vec![
        new_user("u1", "kim"),
        new_user("u2", "lee"),
        BulkOperation::create_group("g1", &group).unwrap(),
    ];
    let report = Bulk::new(ops).send(&client(&server).scim2()).await.unwrap();
    assert_eq!(report.requests, 2);
    assert!(report.all_succeeded(), "{report:?}");
    assert_eq!(report.results[0].id().as_deref(), Some("id-1"));
    assert_eq!(report.results[2].id().as_deref(), Some("gid-1"));
    assert!(!format!("{report:?}").contains(USER_PW));
}

#[tokio::test]
async fn bulk_reports_each_operation_when_one_fails() {
    let server = server().await;
    scim("GET", "/scim2/ServiceProviderConfig")
        .respond_with(sp_config(3, true))
        .expect(1)
        .mount(&server)
        .await;
    scim_write("POST", "/scim2/Bulk")
        .and(body_partial_json(json!({"failOnErrors": 1})))
        .respond_with(bulk_answer(json!([
            {"bulkId": "u1", "method": "POST", "location": "https://localhost:9443/scim2/Users/id-1", "status": "201"},
            {"bulkId": "u2", "method": "POST", "status": "409",
             "response": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "detail": "User with the name: kim already exists in the system.", "status": "409"}}
        ])))
        .expect(1)
        .mount(&server)
        .await;
    let ops = vec![
        new_user("u1", "lee"),
        new_user("u2", "kim"),
        new_user("u3", "max"),
        new_user("u4", "ann"),
    ];
    let report = Bulk::new(ops)
        .fail_on_errors(1)
        .send(&client(&server).scim2())
        .await
        .unwrap();
    assert_eq!(report.requests, 1, "the error limit stops further requests");
    assert!(report.results[0].is_success());
    let err = report.results[1].error().unwrap();
    assert!(err.is_already_exists(), "{err}");
    assert_eq!(report.results[2].outcome, BulkOutcome::NotProcessed);
    assert!(matches!(
        report.results[3].outcome,
        BulkOutcome::NotSent { .. }
    ));
    assert!(!report.all_succeeded());
    assert_eq!(report.not_succeeded().count(), 3);
}

#[tokio::test]
async fn bulk_falls_back_to_the_default_limit_when_the_config_is_unreadable() {
    let server = server().await;
    scim("GET", "/scim2/ServiceProviderConfig")
        .respond_with(ResponseTemplate::new(404).set_body_string("<html><title>404</title></html>"))
        .expect(1)
        .mount(&server)
        .await;
    scim_write("POST", "/scim2/Bulk")
        .respond_with(bulk_answer(json!([
            {"method": "DELETE", "location": "https://localhost:9443/scim2/Users/id-1", "status": "204"},
            {"method": "DELETE", "location": "https://localhost:9443/scim2/Groups/g-1", "status": "404",
             "response": {"detail": "Group not found", "status": "404"}}
        ])))
        .expect(1)
        .mount(&server)
        .await;
    let ops = vec![
        BulkOperation::delete_group("g-1").unwrap(),
        BulkOperation::delete_user("id-1").unwrap(),
    ];
    let report = Bulk::new(ops).send(&client(&server).scim2()).await.unwrap();
    // Answered in another order than sent: matched by location.
    assert!(report.results[1].is_success());
    assert!(report.results[0].error().unwrap().is_not_found());
}

#[tokio::test]
async fn bulk_is_never_retried_and_a_5xx_leaves_outcomes_unknown() {
    let server = server().await;
    scim_write("POST", "/scim2/Bulk")
        .respond_with(is_error(500, None, "Internal Server Error."))
        .expect(1)
        .mount(&server)
        .await;
    let c = IsClient::builder(server.uri())
        .credentials("admin", "admin-canary-password")
        .allow_http(true)
        .retry(RetryPolicy::attempts(5))
        .build()
        .unwrap();
    let ops = vec![new_user("u1", "kim"), new_user("u2", "lee")];
    let report = Bulk::new(ops)
        .max_operations(1)
        .send(&c.scim2())
        .await
        .unwrap();
    assert_eq!(report.requests, 1);
    assert!(matches!(
        report.results[0].outcome,
        BulkOutcome::Unknown { .. }
    ));
    assert!(matches!(
        report.results[1].outcome,
        BulkOutcome::NotSent { .. }
    ));
    assert!(report.stopped.as_ref().unwrap().outcome_unknown());
}

#[tokio::test]
async fn bulk_unsupported_or_invalid_sends_nothing() {
    let server = server().await;
    scim("GET", "/scim2/ServiceProviderConfig")
        .respond_with(sp_config(1000, false))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let err = Bulk::new(vec![new_user("u1", "kim")])
        .send(&c.scim2())
        .await
        .unwrap_err();
    assert_eq!(err.dispatch(), Dispatch::NotSent);
    assert!(err.to_string().contains("Bulk"), "{err}");
    // POST without a bulk id, and duplicate bulk ids, are refused before anything is sent.
    let no_id = BulkOperation::new(BulkMethod::Post, "/Users", None, Some(json!({})));
    let err = Bulk::new(vec![no_id]).send(&c.scim2()).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err}");
    let twice = vec![new_user("x", "a"), new_user("x", "b")];
    assert!(Bulk::new(twice).send(&c.scim2()).await.is_err());
    // Nothing to do: no request at all.
    let report = Bulk::new(Vec::new()).send(&c.scim2()).await.unwrap();
    assert_eq!(report.requests, 0);
}
