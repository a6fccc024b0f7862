//! Contract checks against WSO2's real WSDLs (from `$WSO2_CONTRACTS_DIR/soap`): every SOAP body
//! this crate can send validates with `xmllint --schema` against the XSDs extracted from the
//! WSDL, and equals, after canonicalisation, the body zeep builds from the same WSDL for the same
//! values. Needs xmllint (Debian `libxml2-utils`) and a Python with zeep and lxml
//! (`$WSO2_TEST_PYTHON`); fails in CI when they are missing.

use crate::fixtures;
use crate::support::*;

/// Every contract case of every service module.
pub fn all_cases() -> Vec<ContractCase> {
    let mut cases = Vec::new();
    cases.extend(crate::application::contract_cases());
    cases.extend(crate::oauth::contract_cases());
    cases.extend(crate::idp::contract_cases());
    cases.extend(crate::users::contract_cases());
    cases.extend(auth_cases());
    cases
}

fn auth_cases() -> Vec<ContractCase> {
    use wso2_is_client::carbon::auth::{Login, Logout};
    vec![
        case(
            "session login",
            &Login {
                username: "admin@example.com".into(),
                password: "p&ss<w>rd".into(),
                remote_address: "127.0.0.1".into(),
            },
        ),
        case("session logout", &Logout),
    ]
}

#[test]
fn soap_bodies_match_the_real_wsdls() {
    if let Some(report) = check_contract("soap_bodies_match_the_real_wsdls", &all_cases()) {
        println!("contract: {report}");
    }
}

/// The bodies a client builds for each vendored WSDL version, from values with exactly that
/// version's fields (what a server of that version sends and reads), each checked against that
/// version's WSDL; and, for each step between versions, a body carrying a field only the newer
/// version has, which the older WSDL must refuse: the reason a field is written only when set.
pub fn version_cases() -> Vec<ContractCase> {
    use fixtures::{FrameworkWsdl, OAuthWsdl};
    use wso2_is_client::application::*;
    use wso2_is_client::idp::*;
    use wso2_is_client::oauth::*;
    use wso2_is_client::{ApplicationName, ConsumerKey, IdpName, OAuthAppName};

    let app = ApplicationName::new("apim & <sso>").unwrap();
    let idp_name = IdpName::new("wso2is & <x>").unwrap();
    let mut cases = Vec::new();
    for v in FrameworkWsdl::ALL {
        let (sp_wsdl, idp_wsdl) = (v.application_wsdl(), v.idp_wsdl());
        let sp = fixtures::service_provider_for("apim & <sso>", v);
        let idp = fixtures::identity_provider_for("wso2is & <x>", v);
        cases.extend([
            case_in(
                sp_wsdl,
                "fully populated",
                &CreateApplication::new(sp.clone()),
            ),
            case_in(sp_wsdl, "fully populated", &UpdateApplication::new(sp)),
            case_in(sp_wsdl, "by name", &GetApplication::new(&app)),
            case_in(sp_wsdl, "by name", &DeleteApplication::new(&app)),
            case_in(sp_wsdl, "no parameters", &GetAllApplicationBasicInfo::new()),
            case_in(idp_wsdl, "fully populated", &AddIdP::new(idp.clone())),
            case_in(idp_wsdl, "fully populated", &UpdateIdP::new(&idp_name, idp)),
            case_in(idp_wsdl, "by name", &GetIdPByName::new(&idp_name)),
            case_in(idp_wsdl, "by name", &DeleteIdP::new(&idp_name)),
            case_in(idp_wsdl, "no parameters", &GetAllIdPs::new()),
        ]);
    }
    let oauth_name = OAuthAppName::new("apim & <sso>").unwrap();
    let key = ConsumerKey::new("k & <1>").unwrap();
    for v in OAuthWsdl::ALL {
        let full = fixtures::oauth_app_for("apim & <sso>", v);
        cases.extend([
            case_in(
                v.wsdl(),
                "fully populated",
                &RegisterOAuthApplicationData::new(full.clone()),
            ),
            case_in(
                v.wsdl(),
                "fully populated",
                &RegisterAndRetrieveOAuthApplicationData::new(full.clone()),
            ),
            case_in(
                v.wsdl(),
                "fully populated",
                &UpdateConsumerApplication::new(full),
            ),
            case_in(
                v.wsdl(),
                "by name",
                &GetOAuthApplicationDataByAppName::new(&oauth_name),
            ),
            case_in(v.wsdl(), "by key", &GetOAuthApplicationData::new(&key)),
            case_in(v.wsdl(), "by key", &RemoveOAuthApplicationData::new(&key)),
        ]);
    }

    // A field of the next version, set, against the older WSDL: refused.
    let newer = |v: FrameworkWsdl, change: &dyn Fn(&mut wso2_is_client::model::ServiceProvider)| {
        let mut sp = fixtures::service_provider_for("apim & <sso>", v);
        change(&mut sp);
        UpdateApplication::new(sp)
    };
    cases.extend([
        refused_case_in(
            FrameworkWsdl::V5_14_97.application_wsdl(),
            "skipConsent (5.17.5) set",
            &newer(FrameworkWsdl::V5_14_97, &|sp| {
                sp.local_and_out_bound_authentication_config
                    .as_mut()
                    .unwrap()
                    .skip_consent = Some(true);
            }),
            "skipConsent",
        ),
        refused_case_in(
            FrameworkWsdl::V5_14_97.application_wsdl(),
            "skipLogoutConsent (5.17.5) set",
            &newer(FrameworkWsdl::V5_14_97, &|sp| {
                sp.local_and_out_bound_authentication_config
                    .as_mut()
                    .unwrap()
                    .skip_logout_consent = Some(true);
            }),
            "skipLogoutConsent",
        ),
        refused_case_in(
            FrameworkWsdl::V5_17_5.application_wsdl(),
            "templateId (5.18.187) set",
            &newer(FrameworkWsdl::V5_17_5, &|sp| {
                sp.template_id = Some("t".into());
            }),
            "templateId",
        ),
        refused_case_in(
            FrameworkWsdl::V5_18_187.application_wsdl(),
            "managementApp (5.24.8) set",
            &newer(FrameworkWsdl::V5_18_187, &|sp| {
                sp.management_app = Some(false);
            }),
            "managementApp",
        ),
        refused_case_in(
            FrameworkWsdl::V5_25_92.application_wsdl(),
            "useExternalConsentPage (5.25.682) set",
            &newer(FrameworkWsdl::V5_25_92, &|sp| {
                sp.local_and_out_bound_authentication_config
                    .as_mut()
                    .unwrap()
                    .use_external_consent_page = Some(false);
            }),
            "useExternalConsentPage",
        ),
    ]);
    let mut idp = fixtures::identity_provider_for("wso2is", FrameworkWsdl::V5_24_8);
    idp.just_in_time_provisioning_config
        .as_mut()
        .unwrap()
        .associate_local_user_enabled = Some(true);
    cases.push(refused_case_in(
        FrameworkWsdl::V5_24_8.idp_wsdl(),
        "associateLocalUserEnabled (5.25.92) set",
        &AddIdP::new(idp),
        "associateLocalUserEnabled",
    ));
    let oauth_newer = |v: OAuthWsdl, change: &dyn Fn(&mut OAuthConsumerAppDTO)| {
        let mut app = fixtures::oauth_app_for("apim", v);
        change(&mut app);
        UpdateConsumerApplication::new(app)
    };
    cases.extend([
        refused_case_in(
            OAuthWsdl::V6_2_28.wsdl(),
            "tokenBindingType (6.4.2) set",
            &oauth_newer(OAuthWsdl::V6_2_28, &|a| {
                a.token_binding_type = Some("cookie".into());
            }),
            "tokenBindingType",
        ),
        refused_case_in(
            OAuthWsdl::V6_4_2.wsdl(),
            "tokenBindingValidationEnabled (6.4.111) set",
            &oauth_newer(OAuthWsdl::V6_4_2, &|a| {
                a.token_binding_validation_enabled = Some(true);
            }),
            "tokenBindingValidationEnabled",
        ),
        refused_case_in(
            OAuthWsdl::V6_4_111.wsdl(),
            "tokenEndpointAuthMethod (7.0.26) set",
            &oauth_newer(OAuthWsdl::V6_4_111, &|a| {
                a.token_endpoint_auth_method = Some("client_secret_basic".into());
            }),
            "tokenEndpointAuthMethod",
        ),
    ]);
    cases
}

#[test]
fn soap_bodies_match_each_wsdl_version() {
    let cases = version_cases();
    if let Some(report) = check_contract("soap_bodies_match_each_wsdl_version", &cases) {
        println!("contract per WSDL version: {report}");
    }
}

/// The per-version values really differ: each newer version carries fields the older lacks
/// (so the cases above test what they claim), and the union fixture carries them all.
#[test]
fn version_fixtures_grow_with_the_versions() {
    use fixtures::{FrameworkWsdl, OAuthWsdl};
    use wso2_is_client::carbon::xml::{ns, to_element};
    let size = |v| {
        to_element(&fixtures::service_provider_for("x", v), ns::MODEL, "sp")
            .unwrap()
            .len()
    };
    let sizes: Vec<usize> = FrameworkWsdl::ALL.iter().map(|v| size(*v)).collect();
    assert!(sizes.windows(2).all(|w| w[0] < w[1]), "{sizes:?}");
    let union = to_element(&fixtures::service_provider("x"), ns::MODEL, "sp").unwrap();
    // 5.25.682 has every field of the union but `IdPGroup.idpId` (only in the identity provider
    // service's WSDL), which the embedded identity providers of the union value carry.
    let last = *sizes.last().unwrap();
    assert!(
        union.len() > last && union.len() - last < 200,
        "{} / {last}",
        union.len()
    );
    let oauth: Vec<usize> = OAuthWsdl::ALL
        .iter()
        .map(|v| {
            to_element(&fixtures::oauth_app_for("x", *v), ns::OAUTH_DTO, "app")
                .unwrap()
                .len()
        })
        .collect();
    assert!(oauth.windows(2).all(|w| w[0] < w[1]), "{oauth:?}");
}
