//! Every SOAP body this crate sends, checked against WSO2's real WSDLs with xmllint and zeep:
//! the switched and restored portal service providers, the OIDC identity provider, the role
//! checks.

use wso2_apim_client::portals::{Portal, SwitchOptions, federated};
use wso2_is_client::application::{GetApplication, UpdateApplication};
use wso2_is_client::idp::{AddIdP, DeleteIdP, GetIdPByName, UpdateIdP};
use wso2_is_client::users::{GetRoleNames, IsExistingRole};
use wso2_is_client::{ApplicationName, IdpName, RoleName};

use crate::fixtures;
use crate::support::*;

#[test]
fn apim_bodies_match_the_real_wsdls() {
    let idp_name = IdpName::new("wso2-is").unwrap();
    // The fields of the WSDL checked here (5.14.97, APIM 3.0).
    let original =
        fixtures::service_provider_for("apim_publisher", fixtures::FrameworkWsdl::V5_14_97);
    let switched = federated(&original, &idp_name, &SwitchOptions::default());
    let fallback = federated(
        &original,
        &idp_name,
        &SwitchOptions {
            local_login_fallback: true,
            ..SwitchOptions::default()
        },
    );
    let idp = crate::idp::built_idp();
    let mut cases = vec![
        case(
            "portal switched to federated",
            &UpdateApplication::new(switched),
        ),
        case(
            "portal switched with local fallback",
            &UpdateApplication::new(fallback),
        ),
        case(
            "portal restored from its snapshot",
            &UpdateApplication::new(original),
        ),
        case("OIDC identity provider", &AddIdP::new(idp.clone())),
        case("OIDC identity provider", &UpdateIdP::new(&idp_name, idp)),
        case("by name", &GetIdPByName::new(&idp_name)),
        case("by name", &DeleteIdP::new(&idp_name)),
        case(
            "mapped local role",
            &IsExistingRole::new(&RoleName::new("Internal/subscriber").unwrap()),
        ),
        case("similar-name suggestions", &GetRoleNames::new()),
    ];
    for portal in Portal::ALL {
        for name in portal.candidate_names("admin") {
            cases.push(case(
                "portal lookup",
                &GetApplication::new(&ApplicationName::new(name).unwrap()),
            ));
        }
    }
    if let Some(report) = check_contract("apim_bodies_match_the_real_wsdls", &cases) {
        println!("contract (wso2-apim-client): {report}");
    }
}
