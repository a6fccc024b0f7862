//! RemoteUserStoreManagerService through wiremock: one fresh server per test.

use wso2_is_client::users::*;
use wso2_is_client::{Dispatch, Error, RoleName, Secret, UserName};

use crate::oauth::{check_cases, param_names, sent_param};
use crate::support::*;
use crate::support::{assert_no_leaks, error_chain};

const SVC: &str = "RemoteUserStoreManagerService";
const UM_COMMON: &str = "http://common.mgt.user.carbon.wso2.org/xsd";
const UM_DAO: &str = "http://dao.service.ws.um.carbon.wso2.org/xsd";

fn user(n: &str) -> UserName {
    UserName::new(n).unwrap()
}

fn role(n: &str) -> RoleName {
    RoleName::new(n).unwrap()
}

fn names(list: &[&str]) -> Vec<(String, String)> {
    list.iter()
        .map(|n| (UM.to_owned(), (*n).to_owned()))
        .collect()
}

#[tokio::test]
async fn add_user_sends_every_parameter_in_wsdl_order() {
    let server = server().await;
    soap_with(
        SVC,
        "addUser",
        UM,
        &[
            ("userName", "api_publisher"),
            ("credential", "p&ss <word>"),
            ("roleList", "Internal/publisher"),
            ("roleList", "publisher_role"),
            ("claimURI", "http://wso2.org/claims/emailaddress"),
            ("value", "pub@example.com"),
            ("profileName", "default"),
            ("requirePasswordChange", "true"),
        ],
    )
    .respond_with(respond_accepted())
    .expect(1)
    .mount(&server)
    .await;
    AddUser::new(&user("api_publisher"), "p&ss <word>")
        .roles([&role("Internal/publisher"), &role("publisher_role")])
        .claim("http://wso2.org/claims/emailaddress", "pub@example.com")
        .profile_name("default")
        .require_password_change(true)
        .send(&client(&server))
        .await
        .unwrap();
    let sent = &bodies_for(&server, "addUser").await[0];
    assert_eq!(
        param_names(sent),
        names(&[
            "userName",
            "credential",
            "roleList",
            "roleList",
            "claims",
            "profileName",
            "requirePasswordChange",
        ])
    );
    let claim: ClaimValue = sent_param(sent, "claims");
    assert_eq!(
        claim,
        ClaimValue::new("http://wso2.org/claims/emailaddress", "pub@example.com")
    );
    let doc = roxmltree::Document::parse(sent).unwrap();
    let uri = doc
        .descendants()
        .find(|n| n.tag_name().name() == "claimURI")
        .unwrap();
    assert_eq!(uri.tag_name().namespace(), Some(UM_COMMON));
}

#[tokio::test]
async fn a_minimal_add_user_sends_only_the_required_parameters() {
    let server = server().await;
    soap_with(SVC, "addUser", UM, &[("userName", "api_user")])
        .respond_with(respond_accepted())
        .expect(1)
        .mount(&server)
        .await;
    AddUser::new(&user("api_user"), "pw")
        .send(&client(&server))
        .await
        .unwrap();
    let sent = &bodies_for(&server, "addUser").await[0];
    assert_eq!(
        param_names(sent),
        names(&["userName", "credential", "requirePasswordChange"])
    );
}

#[tokio::test]
async fn a_stored_request_is_sent_later() {
    let server = server().await;
    soap_with(
        SVC,
        "addUser",
        UM,
        &[("userName", "api_user"), ("roleList", "user_role")],
    )
    .respond_with(respond_accepted())
    .expect(1)
    .mount(&server)
    .await;
    soap_with(
        SVC,
        "addRole",
        UM,
        &[("roleName", "user_role"), ("userList", "api_user")],
    )
    .respond_with(respond_accepted())
    .expect(1)
    .mount(&server)
    .await;
    // Plans store owned values, built without a client, and send them later through any
    // client (here the IS client and its bare core).
    let add_role = AddRole::new(&role("user_role")).user(&user("api_user"));
    let add_user = AddUser::new(&user("api_user"), "pw").role(&role("user_role"));
    let c = client(&server);
    add_role.send(&c).await.unwrap();
    add_user.send(c.core()).await.unwrap();
}

#[tokio::test]
async fn duplicate_user_and_missing_role_are_typed() {
    let server = server().await;
    soap_with(SVC, "addUser", UM, &[("userName", "dup")])
        .respond_with(respond_fault(
            "30004 - UserAlreadyExistingUsername dup already exists in the system. Please pick another username.",
        ))
        .expect(1)
        .mount(&server)
        .await;
    soap_with(SVC, "addUser", UM, &[("userName", "norole")])
        .respond_with(respond_fault(
            "31303 - Internal role does not exist : ghost",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let err = AddUser::new(&user("dup"), "pw").send(&c).await.unwrap_err();
    assert!(err.is_already_exists(), "{err}");
    assert!(!err.outcome_unknown());
    let err = AddUser::new(&user("norole"), "pw")
        .role(&role("Internal/ghost"))
        .send(&c)
        .await
        .unwrap_err();
    assert!(
        err.fault()
            .unwrap()
            .message
            .raw()
            .contains("role does not exist")
    );
}

#[tokio::test]
async fn add_role_sends_users_and_permissions_in_wsdl_order() {
    let server = server().await;
    soap_with(
        SVC,
        "addRole",
        UM,
        &[
            ("roleName", "Internal/creator & <x>"),
            ("userList", "a"),
            ("userList", "b"),
            ("resourceId", "/permission/admin/login"),
            ("action", "ui.execute"),
        ],
    )
    .respond_with(respond_accepted())
    .expect(1)
    .mount(&server)
    .await;
    AddRole::new(&role("Internal/creator & <x>"))
        .users([&user("a"), &user("b")])
        .permission("/permission/admin/login", UI_EXECUTE)
        .send(&client(&server))
        .await
        .unwrap();
    let sent = &bodies_for(&server, "addRole").await[0];
    assert_eq!(
        param_names(sent),
        names(&["roleName", "userList", "userList", "permissions"])
    );
    let perm: PermissionDTO = sent_param(sent, "permissions");
    assert_eq!(
        perm,
        PermissionDTO::new("/permission/admin/login", "ui.execute")
    );
    let doc = roxmltree::Document::parse(sent).unwrap();
    let children: Vec<(Option<&str>, &str)> = doc
        .descendants()
        .find(|n| n.tag_name().name() == "permissions")
        .unwrap()
        .children()
        .filter(|n| n.is_element())
        .map(|n| (n.tag_name().namespace(), n.tag_name().name()))
        .collect();
    assert_eq!(
        children,
        vec![(Some(UM_DAO), "action"), (Some(UM_DAO), "resourceId")]
    );
}

#[tokio::test]
async fn duplicate_role_is_already_exists() {
    let server = server().await;
    soap(SVC, "addRole", UM)
        .respond_with(respond_fault(
            "30012 - RoleExistingRole name: Internal/creator exists in the system. Please pick another role name.",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = AddRole::new(&role("Internal/creator"))
        .send(&client(&server))
        .await
        .unwrap_err();
    assert!(err.is_already_exists(), "{err}");
    assert!(!err.outcome_unknown());
}

#[tokio::test]
async fn deletes_answer_202_and_missing_objects_are_not_found() {
    let server = server().await;
    soap_with(SVC, "deleteUser", UM, &[("userName", "old")])
        .respond_with(respond_accepted())
        .expect(1)
        .mount(&server)
        .await;
    soap_with(SVC, "deleteUser", UM, &[("userName", "gone")])
        .respond_with(respond_fault(
            "30007 - UserNotFound: User gone does not exist in: PRIMARY",
        ))
        .expect(1)
        .mount(&server)
        .await;
    soap_with(SVC, "deleteRole", UM, &[("roleName", "Internal/old")])
        .respond_with(respond_accepted())
        .expect(1)
        .mount(&server)
        .await;
    soap_with(SVC, "deleteRole", UM, &[("roleName", "gone_role")])
        .respond_with(respond_fault("31806 - Cannot delete non-existing role"))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    c.users().delete_user(&user("old")).await.unwrap();
    let err = c.users().delete_user(&user("gone")).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    c.users().delete_role(&role("Internal/old")).await.unwrap();
    let err = c.users().delete_role(&role("gone_role")).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(err.dispatch(), Dispatch::Answered);
}

#[tokio::test]
async fn existence_checks_read_the_boolean() {
    let server = server().await;
    soap_with(SVC, "isExistingUser", UM, &[("userName", "admin")])
        .respond_with(respond("isExistingUser", UM, "<ns:return>true</ns:return>"))
        .expect(1)
        .mount(&server)
        .await;
    soap_with(SVC, "isExistingUser", UM, &[("userName", "nobody")])
        .respond_with(respond(
            "isExistingUser",
            UM,
            "<ns:return>false</ns:return>",
        ))
        .expect(1)
        .mount(&server)
        .await;
    soap_with(
        SVC,
        "isExistingRole",
        UM,
        &[("roleName", "Internal/subscriber")],
    )
    .respond_with(respond("isExistingRole", UM, "<ns:return>true</ns:return>"))
    .expect(1)
    .mount(&server)
    .await;
    soap_with(
        SVC,
        "isExistingRole",
        UM,
        &[("roleName", "Internal/Subscriber")],
    )
    .respond_with(respond(
        "isExistingRole",
        UM,
        "<ns:return>false</ns:return>",
    ))
    .expect(1)
    .mount(&server)
    .await;
    let c = client(&server);
    assert!(c.users().user_exists(&user("admin")).await.unwrap());
    assert!(!c.users().user_exists(&user("nobody")).await.unwrap());
    assert!(
        c.users()
            .role_exists(&role("Internal/subscriber"))
            .await
            .unwrap()
    );
    assert!(
        !c.users()
            .role_exists(&role("Internal/Subscriber"))
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn an_existence_answer_without_a_boolean_is_a_decode_error() {
    let server = server().await;
    soap(SVC, "isExistingRole", UM)
        .respond_with(respond("isExistingRole", UM, ""))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .users()
        .role_exists(&role("x"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
}

#[tokio::test]
async fn role_lists_are_read_in_order() {
    let server = server().await;
    soap(SVC, "getRoleNames", UM)
        .respond_with(respond(
            "getRoleNames",
            UM,
            "<ns:return>admin</ns:return><ns:return>publisher_role</ns:return><ns:return>Internal/everyone</ns:return><ns:return xsi:nil=\"true\"/><ns:return>Application/apim &amp; co</ns:return>",
        ))
        .expect(1)
        .mount(&server)
        .await;
    soap_with(SVC, "getRoleListOfUser", UM, &[("userName", "api_user")])
        .respond_with(respond(
            "getRoleListOfUser",
            UM,
            "<ns:return>user_role</ns:return><ns:return>Internal/everyone</ns:return>",
        ))
        .expect(1)
        .mount(&server)
        .await;
    soap_with(SVC, "getRoleListOfUser", UM, &[("userName", "lonely")])
        .respond_with(respond("getRoleListOfUser", UM, ""))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    assert_eq!(
        c.users().role_names().await.unwrap(),
        vec![
            "admin",
            "publisher_role",
            "Internal/everyone",
            "Application/apim & co"
        ]
    );
    assert_eq!(
        c.users().roles_of_user(&user("api_user")).await.unwrap(),
        vec!["user_role", "Internal/everyone"]
    );
    assert!(
        c.users()
            .roles_of_user(&user("lonely"))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn update_roles_of_user_sends_both_lists_in_order() {
    let server = server().await;
    soap_with(
        SVC,
        "updateRoleListOfUser",
        UM,
        &[
            ("userName", "api_user"),
            ("deletedRoles", "old_role"),
            ("newRoles", "Internal/subscriber"),
            ("newRoles", "user_role"),
        ],
    )
    .respond_with(respond_accepted())
    .expect(1)
    .mount(&server)
    .await;
    let c = client(&server);
    c.users()
        .update_roles_of_user(
            &user("api_user"),
            &[role("old_role")],
            &[role("Internal/subscriber"), role("user_role")],
        )
        .await
        .unwrap();
    let sent = &bodies_for(&server, "updateRoleListOfUser").await[0];
    assert_eq!(
        param_names(sent),
        names(&["userName", "deletedRoles", "newRoles", "newRoles"])
    );
    // Nothing to change: nothing sent (the catch-all would fail the test otherwise).
    c.users()
        .update_roles_of_user(&user("api_user"), &[], &[])
        .await
        .unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_failed_role_update_is_the_servers_fault() {
    let server = server().await;
    soap(SVC, "updateRoleListOfUser", UM)
        .respond_with(respond_fault("The role: ghost_role does not exist."))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .users()
        .update_roles_of_user(&user("u"), &[], &[role("ghost_role")])
        .await
        .unwrap_err();
    assert_eq!(
        err.fault().unwrap().message,
        "The role: ghost_role does not exist."
    );
}

#[tokio::test]
async fn auth_failure_is_typed() {
    let server = server().await;
    soap(SVC, "isExistingUser", UM)
        .respond_with(respond_auth_failure())
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .users()
        .user_exists(&user("x"))
        .await
        .unwrap_err();
    assert!(err.is_auth_failure(), "{err}");
}

#[tokio::test]
async fn bad_input_is_refused_before_sending() {
    let server = server().await;
    let c = client(&server);
    let users = c.users();

    let mut redacted = AddUser::new(&user("u"), "pw");
    redacted.credential = Secret::redacted();
    let mut bad_role = AddUser::new(&user("u"), "pw");
    bad_role.role_list.push("trailing ".into());
    let mut bad_name = AddUser::new(&user("u"), "pw");
    bad_name.user_name = String::new();
    for (op, field) in [
        (AddUser::new(&user("u"), ""), "credential"),
        (redacted, "credential"),
        (
            AddUser::new(&user("u"), "pw").claim(" ", "v"),
            "claims[0].claimURI",
        ),
        (
            AddUser::new(&user("u"), "pw").profile_name(""),
            "profileName",
        ),
        (bad_role, "roleList[0]"),
        (bad_name, "user name"),
    ] {
        let err = op.send(&c).await.unwrap_err();
        assert_eq!(err.dispatch(), Dispatch::NotSent, "{err}");
        assert!(err.to_string().contains(field), "{field}: {err}");
    }
    let err = AddUser::new(&user("u"), "")
        .role(&role("r"))
        .send(&c)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err}");
    // The core's generic `call` checks the request the same way: no way around the checks.
    let err = c
        .core()
        .call(&AddUser::new(&user("u"), ""))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err}");

    let mut bad_user = AddRole::new(&role("r"));
    bad_user.user_list.push(" x".into());
    for (op, field) in [
        (
            AddRole::new(&role("r")).permission("/permission/admin/login", ""),
            "permissions[0].action",
        ),
        (
            AddRole::new(&role("r")).permission("", "ui.execute"),
            "permissions[0].resourceId",
        ),
        (bad_user, "userList[0]"),
    ] {
        let err = op.send(&c).await.unwrap_err();
        assert_eq!(err.dispatch(), Dispatch::NotSent, "{err}");
        assert!(err.to_string().contains(field), "{field}: {err}");
    }

    let err = users
        .update_roles_of_user(&user("u"), &[role("x")], &[role("x")])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("both removed and added"), "{err}");
    let err = users
        .update_roles_of_user(&user("u"), &[role("Internal/everyone")], &[])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("everyone"), "{err}");

    assert!(UserName::new("").is_err());
    assert!(RoleName::new("x\ny").is_err());
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn password_canary_stays_out_of_debug_errors_json_and_logs() {
    const CANARY: &str = "canary-user-password-a71e";
    let (logs, _guard) = capture_logs();
    let server = server().await;
    soap(SVC, "addUser", UM)
        .respond_with(respond_fault(
            "30003 - Credential is not valid. Credential must be a non null string with following format, ^[\\S]{5,30}$",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let op = AddUser::new(&user("canary"), CANARY).role(&role("Internal/subscriber"));
    let call_debug = format!("{op:?}");
    let err = op.send(&c).await.unwrap_err();
    assert_eq!(err.dispatch(), Dispatch::Answered);
    let sent = &bodies_for(&server, "addUser").await[0];
    assert!(sent.contains(CANARY), "the password itself was sent");
    let places = [
        ("error", error_chain(&err)),
        ("request Debug", format!("{call_debug} {op:?}")),
        (
            "credential JSON",
            serde_json::to_string(&op.credential).unwrap(),
        ),
        ("TRACE logs", logs.contents()),
    ];
    assert_no_leaks(&places, &[CANARY]);
    assert!(!logs.contents().is_empty(), "TRACE logging was captured");
}

/// Every operation of this service, fully populated, for the contract checks.
pub fn contract_cases() -> Vec<ContractCase> {
    let full_user = AddUser::new(&user("api & <publisher>"), "p&ss <w>rd")
        .roles([&role("Internal/publisher"), &role("publisher_role")])
        .claim("http://wso2.org/claims/emailaddress", "pub@example.com")
        .claim("http://wso2.org/claims/givenname", "Ünï & <co>")
        .profile_name("default")
        .require_password_change(true);
    let full_role = AddRole::new(&role("Internal/creator"))
        .users([&user("a"), &user("b")])
        .permission("/permission/admin/login", UI_EXECUTE)
        .permission("/permission/admin/manage/api/create", UI_EXECUTE);
    vec![
        case("fully populated", &full_user),
        case("minimal", &AddUser::new(&user("u"), "pw")),
        case("fully populated", &full_role),
        case("minimal", &AddRole::new(&role("user_role"))),
        case("by name", &DeleteUser::new(&user("u"))),
        case("by name", &DeleteRole::new(&role("Internal/x"))),
        case("by name", &IsExistingUser::new(&user("u"))),
        case(
            "by name",
            &IsExistingRole::new(&role("Internal/subscriber")),
        ),
        case("no parameters", &GetRoleNames::new()),
        case("by name", &GetRoleListOfUser::new(&user("u"))),
        case(
            "both lists",
            &UpdateRoleListOfUser::new(
                &user("u"),
                &[role("a"), role("Internal/b")],
                &[role("c"), role("d")],
            ),
        ),
        case(
            "additions only",
            &UpdateRoleListOfUser::new(&user("u"), &[], &[role("c")]),
        ),
    ]
}

#[test]
fn contract_cases_cover_every_operation() {
    check_cases(
        contract_cases(),
        "RemoteUserStoreManagerService.wsdl",
        UM,
        &[
            "addUser",
            "addRole",
            "deleteUser",
            "deleteRole",
            "isExistingUser",
            "isExistingRole",
            "getRoleNames",
            "getRoleListOfUser",
            "updateRoleListOfUser",
        ],
    );
}
