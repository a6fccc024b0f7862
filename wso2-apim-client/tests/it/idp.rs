//! Identity providers on APIM: roles checked before writing, adds confirmed by reading back.

use wso2_apim_client::Error;
use wso2_apim_client::idp::{OidcIdp, commonauth_url};
use wso2_is_client::carbon::xml::{ns, to_element};
use wso2_is_client::model::IdentityProvider;
use wso2_is_client::{IdpName, RoleName};

use crate::support::*;
use crate::util::*;

const IDP: &str = "IdentityProviderMgtService";
const UMS: &str = "RemoteUserStoreManagerService";

pub fn built_idp() -> IdentityProvider {
    let is = url::Url::parse("https://is.example.com:9444/").unwrap();
    let apim = url::Url::parse("https://apim.example.com:9443/").unwrap();
    OidcIdp::new(
        IdpName::new("wso2-is").unwrap(),
        "client-id-1",
        "canary-idp-secret",
    )
    .endpoints_of_is(&is, &is)
    .callback_url(commonauth_url(&apim, None))
    .description("IS as login [managed-by:test]")
    .map_role(
        "publisher_role",
        RoleName::new("Internal/publisher").unwrap(),
    )
    .map_role("user_role", RoleName::new("Internal/subscriber").unwrap())
    .build()
    .unwrap()
}

pub fn idp_return(idp: &IdentityProvider) -> String {
    to_element(idp, ns::MODEL, "return")
        .unwrap()
        .replacen("<model:return", "<ns:return", 1)
        .replace("</model:return>", "</ns:return>")
}

async fn roles_exist(server: &wiremock::MockServer) {
    soap(UMS, "isExistingRole", UM)
        .respond_with(respond("isExistingRole", UM, "<ns:return>true</ns:return>"))
        .expect(2)
        .mount(server)
        .await;
}

#[test]
fn the_built_idp_has_the_oidc_settings_is_needs() {
    let idp = built_idp();
    let oidc = idp.oidc_authenticator().unwrap();
    assert_eq!(
        oidc.authorize_url(),
        Some("https://is.example.com:9444/oauth2/authorize")
    );
    assert_eq!(
        oidc.token_url(),
        Some("https://is.example.com:9444/oauth2/token")
    );
    assert_eq!(
        oidc.callback_url(),
        Some("https://apim.example.com:9443/commonauth")
    );
    assert_eq!(oidc.basic_auth(), Some(true));
    assert_eq!(idp.role_claim_uri(), Some("groups"));
    assert_eq!(idp.enable, Some(true));
    let jit = idp.just_in_time_provisioning_config.as_ref().unwrap();
    assert_eq!(jit.provisioning_user_store.as_deref(), Some("PRIMARY"));
    assert_eq!(
        idp.permission_and_role_config
            .as_ref()
            .unwrap()
            .role_mappings
            .len(),
        2
    );
    let tenant = commonauth_url(
        &url::Url::parse("https://apim:9443/").unwrap(),
        Some("example.com"),
    );
    assert_eq!(
        tenant.as_str(),
        "https://apim:9443/t/example.com/commonauth"
    );
    assert!(!format!("{idp:?}").contains("canary-idp-secret"));
}

#[test]
fn bad_settings_are_refused_before_building() {
    let name = IdpName::new("x").unwrap();
    assert!(
        OidcIdp::new(name.clone(), "id", "secret").build().is_err(),
        "no endpoints"
    );
    let is = url::Url::parse("https://is/").unwrap();
    let err = OidcIdp::new(name.clone(), "id", "")
        .endpoints_of_is(&is, &is)
        .callback_url("https://apim/commonauth")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("client_secret"), "{err}");
    let err = OidcIdp::new(name, "id", "s")
        .endpoints_of_is(&is, &is)
        .callback_url("not a url")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("callback_url"), "{err}");
}

#[tokio::test]
async fn a_missing_local_role_is_refused_before_any_write() {
    let server = server().await;
    soap_with(
        UMS,
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
    soap(UMS, "getRoleNames", UM)
        .respond_with(respond(
            "getRoleNames",
            UM,
            "<ns:return>admin</ns:return><ns:return>Internal/everyone</ns:return><ns:return>Internal/subscriber</ns:return>",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let is = url::Url::parse("https://is/").unwrap();
    let idp = OidcIdp::new(IdpName::new("wso2-is").unwrap(), "id", "secret")
        .endpoints_of_is(&is, &is)
        .callback_url("https://apim/commonauth")
        .map_role("user_role", RoleName::new("Internal/Subscriber").unwrap())
        .build()
        .unwrap();
    let err = apim(&server)
        .identity_providers()
        .add_confirmed(&idp)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::MissingLocalRoles { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("did you mean \"Internal/subscriber\""),
        "{err}"
    );
    let writes: Vec<_> = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| {
            let a = r
                .headers
                .get("soapaction")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            !matches!(a, "urn:isExistingRole" | "urn:getRoleNames")
        })
        .collect();
    assert!(
        writes.is_empty(),
        "no write was sent: {} other calls",
        writes.len()
    );
}

#[tokio::test]
async fn a_500_after_a_successful_add_is_confirmed_by_reading_back() {
    let server = server().await;
    roles_exist(&server).await;
    let idp = built_idp();
    soap(IDP, "addIdP", IDP_MGT)
        .respond_with(respond_fault("Error while adding Identity Provider"))
        .expect(1)
        .mount(&server)
        .await;
    soap_with(IDP, "getIdPByName", IDP_MGT, &[("idPName", "wso2-is")])
        .respond_with(respond("getIdPByName", IDP_MGT, &idp_return(&idp)))
        .expect(1)
        .mount(&server)
        .await;
    let read = apim(&server)
        .identity_providers()
        .add_confirmed(&idp)
        .await
        .unwrap();
    assert_eq!(read.identity_provider_name.as_deref(), Some("wso2-is"));
}

#[tokio::test]
async fn a_500_without_the_idp_on_the_server_is_not_created() {
    let server = server().await;
    roles_exist(&server).await;
    soap(IDP, "addIdP", IDP_MGT)
        .respond_with(respond_fault("Error while adding Identity Provider"))
        .expect(1)
        .mount(&server)
        .await;
    soap(IDP, "getIdPByName", IDP_MGT)
        .respond_with(respond_void("getIdPByName", IDP_MGT))
        .expect(1)
        .mount(&server)
        .await;
    let err = apim(&server)
        .identity_providers()
        .add_confirmed(&built_idp())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::IdpNotCreated {
                add_error: Some(_),
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn mappings_dropped_by_the_server_are_reported() {
    let server = server().await;
    roles_exist(&server).await;
    let idp = built_idp();
    let mut stored = idp.clone();
    stored.set_role_mappings([(
        "user_role".to_owned(),
        RoleName::new("Internal/subscriber").unwrap(),
    )]);
    soap(IDP, "addIdP", IDP_MGT)
        .respond_with(respond_void("addIdP", IDP_MGT))
        .expect(1)
        .mount(&server)
        .await;
    soap(IDP, "getIdPByName", IDP_MGT)
        .respond_with(respond("getIdPByName", IDP_MGT, &idp_return(&stored)))
        .expect(1)
        .mount(&server)
        .await;
    let err = apim(&server)
        .identity_providers()
        .add_confirmed(&idp)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::IdpMismatch { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("publisher_role -> Internal/publisher"),
        "{err}"
    );
}

#[tokio::test]
async fn a_duplicate_is_not_confirmed_as_ours() {
    let server = server().await;
    roles_exist(&server).await;
    soap(IDP, "addIdP", IDP_MGT)
        .respond_with(respond_fault(
            "An Identity Provider has already been registered with the name wso2-is for tenant carbon.super",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = apim(&server)
        .identity_providers()
        .add_confirmed(&built_idp())
        .await
        .unwrap_err();
    assert!(err.is_already_exists(), "{err}");
}
