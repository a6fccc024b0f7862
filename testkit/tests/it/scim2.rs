//! SCIM2 Users, Groups, Bulk; roles are groups; tenant form.

use serde_json::{Value, json};
use wso2_testkit::Sandbox;

use crate::support::*;

async fn call(
    c: &reqwest::Client,
    url: String,
    method: reqwest::Method,
    body: Option<Value>,
    user: (&str, &str),
) -> Answer {
    let mut r = c
        .request(method, url)
        .basic_auth(user.0, Some(user.1))
        .header("Accept", "application/scim+json");
    if let Some(b) = body {
        r = r
            .header("Content-Type", "application/scim+json")
            .body(b.to_string());
    }
    read(r.send().await.expect("send")).await
}

#[tokio::test]
async fn users_groups_filters_patch_and_uniqueness() {
    let sb = Sandbox::start().await.expect("sandbox");
    let c = http(&sb);
    let base = format!("{}/scim2", sb.is().base_url());
    let admin = ("admin", "admin");
    let u = call(&c, format!("{base}/Users"), reqwest::Method::POST, Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "api_user", "password": "user-pass", "emails": [{"value": "u@example.com", "primary": true}]})), admin).await;
    assert_eq!(u.status, 201, "{}", u.body);
    let uid = u.json()["id"].as_str().expect("id").to_owned();
    assert!(u.json().get("password").is_none());
    let dup = call(
        &c,
        format!("{base}/Users"),
        reqwest::Method::POST,
        Some(json!({"userName": "api_user", "password": "user-pass"})),
        admin,
    )
    .await;
    assert_eq!(dup.status, 409);
    assert_eq!(dup.json()["status"], "409");
    assert_eq!(
        dup.json()["detail"],
        "User with the name: api_user already exists in the system."
    );
    assert!(
        dup.json().get("scimType").is_none(),
        "Charon's 409 has no scimType"
    );
    let list = call(
        &c,
        format!("{base}/Users?filter=userName+eq+%22api_user%22"),
        reqwest::Method::GET,
        None,
        admin,
    )
    .await;
    assert_eq!(list.json()["totalResults"], 1);
    // A SCIM user is a user of the SOAP user store too.
    let soap_says = soap(
        &c,
        sb.is(),
        USERS,
        "isExistingUser",
        "<u:isExistingUser><u:userName>api_user</u:userName></u:isExistingUser>",
    )
    .await;
    assert_eq!(soap_says.ret().text, "true");
    // Groups are roles.
    let g = call(
        &c,
        format!("{base}/Groups"),
        reqwest::Method::POST,
        Some(
            json!({"displayName": "user_role", "members": [{"value": uid, "display": "api_user"}]}),
        ),
        admin,
    )
    .await;
    assert_eq!(g.status, 201, "{}", g.body);
    let gid = g.json()["id"].as_str().expect("id").to_owned();
    assert_eq!(g.json()["displayName"], "PRIMARY/user_role");
    let roles = soap(
        &c,
        sb.is(),
        USERS,
        "getRoleListOfUser",
        "<u:getRoleListOfUser><u:userName>api_user</u:userName></u:getRoleListOfUser>",
    )
    .await;
    assert!(roles.returns().iter().any(|r| r.text == "user_role"));
    let found = call(
        &c,
        format!("{base}/Groups?filter=displayName+eq+user_role"),
        reqwest::Method::GET,
        None,
        admin,
    )
    .await;
    assert_eq!(found.json()["totalResults"], 1, "{}", found.body);
    let with_member = sb.snapshot();
    let patch = call(&c, format!("{base}/Groups/{gid}"), reqwest::Method::PATCH, Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove", "path": format!("members[value eq \"{uid}\"]")}]})), admin).await;
    assert_eq!(patch.status, 200, "{}", patch.body);
    assert!(patch.json().get("members").is_none());
    // IS 5.9 needs the member's display name along with its id.
    let no_display = call(&c, format!("{base}/Groups/{gid}"), reqwest::Method::PATCH, Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "path": "members", "value": [{"value": uid}]}]})), admin).await;
    assert_eq!(no_display.status, 400);
    let patch = call(&c, format!("{base}/Groups/{gid}"), reqwest::Method::PATCH, Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "path": "members", "value": [{"value": uid, "display": "api_user"}]}]})), admin).await;
    assert_eq!(patch.json()["members"][0]["display"], "api_user");
    // Removed and added back: equal again (modification times do not count).
    with_member.assert_same(&sb.snapshot());
    let dupg = call(
        &c,
        format!("{base}/Groups"),
        reqwest::Method::POST,
        Some(json!({"displayName": "user_role"})),
        admin,
    )
    .await;
    assert_eq!(dupg.status, 409);
    let put = call(
        &c,
        format!("{base}/Users/{uid}"),
        reqwest::Method::PUT,
        Some(json!({"userName": "api_user", "name": {"givenName": "Api"}})),
        admin,
    )
    .await;
    assert_eq!(put.json()["name"]["givenName"], "Api");
    assert_eq!(
        call(
            &c,
            format!("{base}/Users/{uid}"),
            reqwest::Method::DELETE,
            None,
            admin
        )
        .await
        .status,
        204
    );
    assert_eq!(
        call(
            &c,
            format!("{base}/Users/{uid}"),
            reqwest::Method::GET,
            None,
            admin
        )
        .await
        .status,
        404
    );
    assert_eq!(
        call(
            &c,
            format!("{base}/Groups/{gid}"),
            reqwest::Method::DELETE,
            None,
            admin
        )
        .await
        .status,
        204
    );
    let noauth = read(c.get(format!("{base}/Users")).send().await.expect("send")).await;
    assert_eq!(noauth.status, 401);
}

#[tokio::test]
async fn bulk_is_not_atomic_and_tenants_are_separate() {
    let sb = Sandbox::start().await.expect("sandbox");
    let c = http(&sb);
    let base = format!("{}/scim2", sb.is().base_url());
    let ops = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "failOnErrors": 1,
        "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"userName": "dev1", "password": "dev-pass"}},
            {"method": "POST", "path": "/Users", "bulkId": "b", "data": {"userName": "dev1", "password": "dev-pass"}},
            {"method": "POST", "path": "/Users", "bulkId": "c", "data": {"userName": "dev3", "password": "dev-pass"}}
        ]
    });
    let r = call(
        &c,
        format!("{base}/Bulk"),
        reqwest::Method::POST,
        Some(ops),
        ("admin", "admin"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let statuses: Vec<i64> = r.json()["Operations"]
        .as_array()
        .expect("ops")
        .iter()
        .map(|o| o["status"]["code"].as_i64().unwrap_or(0))
        .collect();
    assert_eq!(
        statuses,
        [201, 409],
        "the first stays committed, the run stops at the first error"
    );
    assert!(sb.is().with_tenant(wso2_testkit::SUPER_TENANT, |t| {
        t.is_some_and(|t| t.users.contains_key("dev1") && !t.users.contains_key("dev3"))
    }));
    // Tenant form with the tenant admin; the super tenant does not see it.
    let tbase = format!("{}/t/example.com/scim2", sb.is().base_url());
    let r = call(
        &c,
        format!("{tbase}/Users"),
        reqwest::Method::POST,
        Some(json!({"userName": "tuser", "password": "t-pass"})),
        ("admin@example.com", "admin"),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = call(
        &c,
        format!("{base}/Users?filter=userName+eq+tuser"),
        reqwest::Method::GET,
        None,
        ("admin", "admin"),
    )
    .await;
    assert_eq!(r.json()["totalResults"], 0);
    let r = call(
        &c,
        format!("{tbase}/Users"),
        reqwest::Method::GET,
        None,
        ("admin", "admin"),
    )
    .await;
    assert_eq!(r.status, 401, "super-tenant admin on a tenant path");
    let spc = call(
        &c,
        format!("{base}/ServiceProviderConfig"),
        reqwest::Method::GET,
        None,
        ("admin", "admin"),
    )
    .await;
    assert_eq!(spc.json()["bulk"]["maxOperations"], 1000);
}
