//! Snapshots, diffs, seeding and restore.

use wso2_testkit::{SUPER_TENANT, Sandbox, SandboxSnapshot, SeedCounts, SeedKind};

use crate::support::*;

#[tokio::test]
async fn create_then_delete_returns_to_an_equal_snapshot() {
    let sb = Sandbox::start().await.expect("sandbox");
    let c = http(&sb);
    let before = sb.snapshot();
    create_app(&c, sb.is(), "tmp").await;
    let mid = sb.snapshot();
    let diff = before.diff(&mid);
    assert!(!diff.is_empty());
    let text = diff.to_string();
    assert!(
        text.contains("+ is:carbon.super application \"tmp\" added"),
        "{text}"
    );
    assert!(text.contains("Application/tmp"), "{text}");
    soap(&c, sb.is(), APP, "deleteApplication", "<xsd:deleteApplication><xsd:applicationName>tmp</xsd:applicationName></xsd:deleteApplication>").await;
    before.assert_same(&sb.snapshot());
}

#[tokio::test]
async fn a_changed_field_is_named_in_the_diff_and_snapshots_serialise() {
    let sb = Sandbox::start().await.expect("sandbox");
    let c = http(&sb);
    create_app(&c, sb.is(), "x").await;
    let before = sb.snapshot();
    let id = get_app(&c, sb.is(), "x")
        .await
        .ret()
        .text_of("applicationID")
        .unwrap_or("")
        .to_owned();
    update_app(
        &c,
        sb.is(),
        &id,
        "x",
        "<m:description>changed</m:description>",
    )
    .await;
    let after = sb.snapshot();
    let text = before.diff(&after).to_string();
    assert!(
        text.contains("~ is:carbon.super application \"x\" changed:"),
        "{text}"
    );
    assert!(text.contains("description[0] = \"changed\""), "{text}");
    let json = serde_json::to_string(&after).expect("json");
    let back: SandboxSnapshot = serde_json::from_str(&json).expect("parse");
    assert_eq!(back, after);
    // restore brings the old state back.
    sb.is().restore(&before.is);
    before.assert_same(&sb.snapshot());
}

#[tokio::test]
async fn seeding_ten_thousand_objects_and_comparing_snapshots() {
    let sb = Sandbox::start().await.expect("sandbox");
    let base = sb.snapshot().object_count();
    sb.is().seed(SUPER_TENANT, SeedCounts::spread(5000));
    sb.apim().seed(SUPER_TENANT, SeedCounts::spread(5000));
    let a = sb.snapshot();
    let b = sb.snapshot();
    assert!(a.diff(&b).is_empty());
    // Each seeded SP also gets its Application/{name} role, as on a real server.
    assert_eq!(a.object_count() - base, 10_000 + 2 * 1000);
    let seeded_users = sb
        .is()
        .with_tenant(SUPER_TENANT, |t| t.map(|t| t.users.len()).unwrap_or(0));
    assert_eq!(seeded_users, 1 + 1000);
    // Seeded users can log in with the documented password.
    let c = http(&sb);
    let r = soap_as(
        &c,
        sb.is(),
        USERS,
        "isExistingUser",
        "<u:isExistingUser><u:userName>seed1-user-0</u:userName></u:isExistingUser>",
        "admin",
        "admin",
    )
    .await;
    assert_eq!(r.ret().text, "true");
    // getRoleNames is capped per store (MaxRoleNameListLength = 100), isExistingRole is not.
    let names = soap(&c, sb.is(), USERS, "getRoleNames", "<u:getRoleNames/>")
        .await
        .returns();
    assert_eq!(
        names.len(),
        200,
        "100 user-store roles and 100 hybrid roles"
    );
    let r = soap(
        &c,
        sb.is(),
        USERS,
        "isExistingRole",
        "<u:isExistingRole><u:roleName>seed1-role-999</u:roleName></u:isExistingRole>",
    )
    .await;
    assert_eq!(r.ret().text, "true");
}

#[tokio::test]
async fn raw_xml_seeds_from_real_responses() {
    let source = Sandbox::start().await.expect("sandbox");
    let c = http(&source);
    create_app(&c, source.is(), "rich").await;
    let id = get_app(&c, source.is(), "rich")
        .await
        .ret()
        .text_of("applicationID")
        .unwrap_or("")
        .to_owned();
    update_app(&c, source.is(), &id, "rich", "<m:claimConfig><m:alwaysSendMappedLocalSubjectId>false</m:alwaysSendMappedLocalSubjectId><m:claimMappings><m:localClaim><m:claimUri>http://wso2.org/claims/role</m:claimUri></m:localClaim><m:mandatory>true</m:mandatory><m:remoteClaim><m:claimUri>http://wso2.org/claims/role</m:claimUri></m:remoteClaim><m:requested>true</m:requested></m:claimMappings><m:localClaimDialect>true</m:localClaimDialect></m:claimConfig><m:description>rich one</m:description>").await;
    let app_xml = get_app(&c, source.is(), "rich").await.body;
    add_idp(
        &c,
        source.apim(),
        &idp_xml("wso2is", true, &[("user_role", "Internal", "subscriber")]),
    )
    .await;
    let idp_xml_answer = get_idp(&c, source.apim(), "wso2is").await.body;

    let target = Sandbox::start().await.expect("sandbox");
    let (kind, name) = target
        .is()
        .seed_xml(SUPER_TENANT, &app_xml)
        .expect("seed SP");
    assert_eq!((kind, name.as_str()), (SeedKind::Application, "rich"));
    let (kind, _) = target
        .apim()
        .seed_xml(SUPER_TENANT, &idp_xml_answer)
        .expect("seed IdP");
    assert_eq!(kind, SeedKind::IdentityProvider);
    // Same XML out as in.
    let tc = http(&target);
    let a =
        wso2_testkit::Element::parse(&get_app(&tc, target.is(), "rich").await.body).expect("xml");
    let b = wso2_testkit::Element::parse(&app_xml).expect("xml");
    assert_eq!(a, b);
    let a = wso2_testkit::Element::parse(&get_idp(&tc, target.apim(), "wso2is").await.body)
        .expect("xml");
    let b = wso2_testkit::Element::parse(&idp_xml_answer).expect("xml");
    assert_eq!(a, b);
    // Out-of-order seeds are refused like requests.
    let bad = "<m:return xmlns:m=\"http://model.common.application.identity.carbon.wso2.org/xsd\"><m:description>d</m:description><m:applicationName>x</m:applicationName></m:return>";
    assert!(target.is().seed_xml(SUPER_TENANT, bad).is_err());
}
