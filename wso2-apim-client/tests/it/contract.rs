//! Every SOAP body this crate sends, checked against WSO2's real WSDLs with xmllint and zeep:
//! the switched and restored portal service providers, the OIDC identity provider, the role
//! checks; and the bodies of each release family against that release's WSDLs.

use wso2_apim_client::portals::{Portal, SwitchOptions, federated, federated_for};
use wso2_apim_client::version::{ApimCapabilities, ServerVersion};
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

/// The SP and IdP WSDLs (under `$WSO2_CONTRACTS_DIR/soap`) of each APIM release family
/// (`WSO2-VERSIONS.md` §7.3; 4.3 and later have no vendored copy: the closest, 5.25.682).
const RELEASE_WSDLS: [((u16, u16), &str, &str); 6] = [
    (
        (3, 0),
        "IdentityApplicationManagementService.wsdl",
        "IdentityProviderMgtService.wsdl",
    ),
    (
        (3, 2),
        "IdentityApplicationManagementService.v5.17.5-apim3.1.wsdl",
        "IdentityProviderMgtService.v5.18.187-apim4.0.wsdl",
    ),
    (
        (4, 0),
        "IdentityApplicationManagementService.v5.18.187-apim4.0.wsdl",
        "IdentityProviderMgtService.v5.18.187-apim4.0.wsdl",
    ),
    (
        (4, 2),
        "IdentityApplicationManagementService.v5.24.8-apim4.2.wsdl",
        "IdentityProviderMgtService.v5.24.8-apim4.2.wsdl",
    ),
    (
        (4, 3),
        "IdentityApplicationManagementService.v5.25.682.wsdl",
        "IdentityProviderMgtService.v5.25.682.wsdl",
    ),
    (
        (4, 7),
        "IdentityApplicationManagementService.v5.25.682.wsdl",
        "IdentityProviderMgtService.v5.25.682.wsdl",
    ),
];

fn on<O: wso2_is_client::carbon::soap::Operation>(
    wsdl: &'static str,
    label: &'static str,
    op: &O,
) -> ContractCase {
    ContractCase {
        wsdl,
        ..case(label, op)
    }
}

#[test]
fn each_release_sends_bodies_its_wsdls_accept() {
    let idp_name = IdpName::new("wso2-is").unwrap();
    let mut cases = Vec::new();
    for ((major, minor), sp_wsdl, idp_wsdl) in RELEASE_WSDLS {
        let caps = ApimCapabilities::of(ServerVersion::apim(major, minor));
        // A service provider as this release answers it: exactly its WSDL's fields.
        let release = fixtures::FrameworkWsdl::ALL
            .into_iter()
            .find(|w| w.application_wsdl() == sp_wsdl)
            .expect("a vendored framework version");
        let original = fixtures::service_provider_for("apim_publisher", release);
        let switched = federated_for(&caps, &original, &idp_name, &SwitchOptions::default());
        let idp = crate::releases::idp_for(&caps).build().unwrap();
        cases.extend([
            on(
                sp_wsdl,
                "portal switched on its release",
                &UpdateApplication::new(switched),
            ),
            on(
                sp_wsdl,
                "portal restored on its release",
                &UpdateApplication::new(original),
            ),
            on(
                idp_wsdl,
                "OIDC identity provider of its release",
                &AddIdP::new(idp.clone()),
            ),
            on(
                idp_wsdl,
                "OIDC identity provider of its release",
                &UpdateIdP::new(&idp_name, idp),
            ),
        ]);
        for portal in caps.portals() {
            let name = caps.portal_names.name(portal, "admin").unwrap();
            cases.push(on(
                sp_wsdl,
                "portal lookup on its release",
                &GetApplication::new(&ApplicationName::new(name).unwrap()),
            ));
        }
    }
    if let Some(report) = check_contract("each_release_sends_bodies_its_wsdls_accept", &cases) {
        println!("contract per release (wso2-apim-client): {report}");
    }
}
