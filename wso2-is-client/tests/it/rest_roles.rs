//! SCIM2 roles v1 (`/scim2/Roles`) and v2 (`/scim2/v2/Roles`) against a mock IS.

use serde_json::{Value, json};
use wiremock::ResponseTemplate;
use wiremock::matchers::{body_json, header};
use wso2_is_client::RoleName;
use wso2_is_client::scim2::{
    ROLE_SCHEMA, RoleAudience, RoleMemberKind, RolePermission, ScimMember, ScimRole,
};

use crate::rest_applications::{ExactQuery, rest};
use crate::support::{client, server};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn scim(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("content-type", "application/scim+json")
        .set_body_string(body.to_string())
}

fn name() -> RoleName {
    RoleName::new("publisher_role").unwrap()
}

#[tokio::test]
async fn v1_create_find_patch_delete() {
    let s = server().await;
    rest("POST", "/scim2/Roles")
        .and(header("content-type", "application/scim+json"))
        .and(body_json(json!({
            "schemas": [ROLE_SCHEMA], "displayName": "publisher_role",
            "users": [{"value": "u1", "display": "kim"}],
            "permissions": ["/permission/admin/login"]
        })))
        .respond_with(scim(
            201,
            json!({
                "schemas": [ROLE_SCHEMA], "id": "r1", "displayName": "publisher_role",
                "meta": {"location": "https://is/scim2/Roles/r1", "resourceType": "Role"}
            }),
        ))
        .expect(1)
        .mount(&s)
        .await;
    rest("GET", "/scim2/Roles")
        .and(ExactQuery::new(&[("filter", "displayName eq \"publisher_role\"")]))
        .respond_with(scim(200, json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 2,
            "Resources": [
                {"id": "r0", "displayName": "publisher_role_old"},
                {"id": "r1", "displayName": "Internal/publisher_role", "permissions": ["/permission/admin/login"], "x-new": 1}
            ]
        })))
        .expect(1)
        .mount(&s)
        .await;
    rest("PATCH", "/scim2/Roles/r1")
        .and(body_json(json!({
            "schemas": [PATCH_OP],
            "Operations": [{"op": "add", "path": "users", "value": [{"value": "u2"}]}]
        })))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&s)
        .await;
    rest("PATCH", "/scim2/Roles/r1")
        .and(body_json(json!({
            "schemas": [PATCH_OP],
            "Operations": [{"op": "remove", "path": "groups[value eq \"g1\"]"}]
        })))
        .respond_with(scim(
            200,
            json!({"id": "r1", "displayName": "publisher_role"}),
        ))
        .expect(1)
        .mount(&s)
        .await;
    rest("DELETE", "/scim2/Roles/r1")
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&s)
        .await;

    let c = client(&s);
    let roles = c.scim2().roles();
    let role = ScimRole::new(&name())
        .with_user(ScimMember::new("u1").with_display("kim"))
        .with_permission(RolePermission::Path("/permission/admin/login".into()));
    let created = roles.create(&role).await.unwrap();
    assert_eq!(created.id.as_deref(), Some("r1"));
    let found = roles.find_by_name(&name()).await.unwrap();
    assert_eq!(
        found.len(),
        1,
        "only the exact (Internal/-qualified) name matches"
    );
    assert!(found[0].extra.contains_key("x-new"));
    assert!(
        roles
            .add_members("r1", RoleMemberKind::Users, &[ScimMember::new("u2")])
            .await
            .unwrap()
            .is_none()
    );
    let after = roles
        .remove_members("r1", RoleMemberKind::Groups, &["g1"])
        .await
        .unwrap();
    assert_eq!(after.unwrap().display_name, "publisher_role");
    roles.delete("r1").await.unwrap();
    // v1 has no audience: refused before anything is sent (the catch-all would fail otherwise).
    let with_audience = ScimRole::new(&name()).with_audience(RoleAudience::application("a"));
    assert!(roles.create(&with_audience).await.is_err());
}

#[tokio::test]
async fn v1_duplicates_and_missing_roles() {
    let s = server().await;
    rest("POST", "/scim2/Roles")
        .respond_with(scim(
            409,
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "409",
                "detail": "Role with name: Internal/publisher_role already exists in the system."
            }),
        ))
        .expect(1)
        .mount(&s)
        .await;
    rest("GET", "/scim2/Roles/nope")
        .respond_with(scim(
            404,
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "404",
                "detail": "Role not found"
            }),
        ))
        .expect(1)
        .mount(&s)
        .await;
    rest("DELETE", "/scim2/Roles/nope")
        .respond_with(scim(404, json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "404", "detail": "Role not found"})))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(&s);
    let roles = c.scim2().roles();
    let e = roles.create(&ScimRole::new(&name())).await.unwrap_err();
    assert!(e.is_already_exists(), "{e}");
    assert!(roles.get("nope").await.unwrap().is_none());
    assert!(roles.delete("nope").await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn v2_roles_carry_their_application_audience() {
    let s = server().await;
    rest("POST", "/scim2/v2/Roles")
        .and(body_json(json!({
            "schemas": [ROLE_SCHEMA], "displayName": "publisher",
            "audience": {"type": "application", "value": "app-1"},
            "permissions": [{"value": "internal_login"}]
        })))
        .respond_with(scim(
            201,
            json!({
                "schemas": [ROLE_SCHEMA], "id": "r2", "displayName": "publisher",
                "audience": {"type": "application", "value": "app-1", "display": "apim-sso"},
                "meta": {"location": "https://is/scim2/v2/Roles/r2", "resourceType": "Role"}
            }),
        ))
        .expect(1)
        .mount(&s)
        .await;
    rest("GET", "/scim2/v2/Roles")
        .and(ExactQuery::new(&[("filter", "displayName eq \"publisher\"")]))
        .respond_with(scim(200, json!({
            "totalResults": 2,
            "Resources": [
                {"id": "r9", "displayName": "publisher", "audience": {"type": "organization", "value": "org"}},
                {"id": "r2", "displayName": "publisher", "audience": {"type": "application", "value": "app-1"},
                 "associatedApplications": [{"value": "app-1", "display": "apim-sso"}]}
            ]
        })))
        .expect(1)
        .mount(&s)
        .await;
    rest("PATCH", "/scim2/v2/Roles/r2")
        .and(body_json(json!({
            "schemas": [PATCH_OP],
            "Operations": [{"op": "add", "path": "groups", "value": [{"value": "g1"}, {"value": "g2"}]}]
        })))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(&s);
    let roles = c.scim2().roles_v2();
    let name = RoleName::new("publisher").unwrap();
    let audience = RoleAudience::application("app-1");
    let role = ScimRole::new(&name)
        .with_audience(audience.clone())
        .with_permission(RolePermission::Scope {
            value: "internal_login".into(),
            display: None,
        });
    let created = roles.create(&role).await.unwrap();
    assert_eq!(
        created.audience.unwrap().display.as_deref(),
        Some("apim-sso")
    );
    let found = roles
        .find_in_audience(&name, &audience)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id.as_deref(), Some("r2"));
    assert!(found.extra.contains_key("associatedApplications"));
    roles
        .add_members(
            "r2",
            RoleMemberKind::Groups,
            &[
                ScimMember::new("g1").with_display("G1"),
                ScimMember::new("g2"),
            ],
        )
        .await
        .unwrap();
}
