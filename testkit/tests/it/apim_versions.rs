//! APIM per release: the portal service providers' names, the SOAP fields each release's WSDLs
//! have, and the scope an identity provider would request from IS.

use wso2_testkit::{SUPER_TENANT, Sandbox};

use crate::support::*;
use crate::versions::sandbox;

async fn portal_login(c: &reqwest::Client, sb: &Sandbox, path: &str) -> Answer {
    read(
        c.get(format!("{}{path}", sb.apim().base_url()))
            .send()
            .await
            .expect("send"),
    )
    .await
}

fn apps(sb: &Sandbox) -> Vec<String> {
    sb.apim().with_tenant(SUPER_TENANT, |t| {
        t.map(|t| t.applications.keys().cloned().collect())
            .unwrap_or_default()
    })
}

#[tokio::test]
async fn portal_service_providers_per_release() {
    for (apim, want) in [
        ("3.0", vec!["admin_admin_publisher", "admin_admin_store"]),
        ("3.1", vec!["apim_devportal", "apim_publisher"]),
        (
            "3.2",
            vec!["apim_admin_portal", "apim_devportal", "apim_publisher"],
        ),
        (
            "4.7",
            vec!["apim_admin_portal", "apim_devportal", "apim_publisher"],
        ),
    ] {
        let sb = sandbox("5.9", apim).await;
        let c = http(&sb);
        assert!(apps(&sb).is_empty(), "never at startup");
        for p in [
            "/publisher/services/auth/login",
            "/admin/services/auth/login",
            "/devportal/services/configs",
        ] {
            portal_login(&c, &sb, p).await;
        }
        assert_eq!(apps(&sb), want, "APIM {apim}");
    }
    // The default release is 3.0, with its own names.
    let sb = Sandbox::start().await.expect("sandbox");
    sb.apim().ensure_portal_apps();
    assert_eq!(
        apps(&sb),
        vec!["admin_admin_publisher", "admin_admin_store"]
    );
}

/// Portal registration by DCR (WSO2-VERSIONS.md §3.3): the login initiator finds no row in
/// `AM_SYSTEM_APPS`, POSTs the release's DCR endpoint (a loopback request, logged as `apim.dcr`
/// with `via` = apim and left out of the client traffic), remembers the client, and never
/// registers again, even after the SP is deleted (the login then carries a stale client id that
/// APIM's authorize endpoint refuses).
#[tokio::test]
async fn portals_register_through_dcr_and_are_remembered() {
    for (apim, path_version, sp, callback_key) in [
        ("3.0", "v0.15", "admin_admin_publisher", "callBackURL"),
        ("3.2", "v0.16", "apim_publisher", "callBackURL"),
        ("4.2", "v0.17", "apim_publisher", "callbackUrl"),
        ("4.7", "v0.17", "apim_publisher", "callbackUrl"),
    ] {
        let sb = sandbox("5.9", apim).await;
        let c = http(&sb);
        let r = portal_login(&c, &sb, "/publisher/services/auth/login").await;
        assert_eq!(r.status, 302, "APIM {apim}: {}", r.body);
        let all = sb.apim().all_requests();
        let dcr: Vec<_> = all.iter().filter(|r| r.action == "apim.dcr").collect();
        assert_eq!(dcr.len(), 1, "APIM {apim}: {all:?}");
        assert_eq!(
            dcr[0].path,
            format!("/client-registration/{path_version}/register")
        );
        assert_eq!(dcr[0].via.as_deref(), Some("apim"));
        assert!(dcr[0].mutating && dcr[0].status == Some(200));
        let body: serde_json::Value = serde_json::from_str(&dcr[0].body).expect("json");
        assert_eq!(body["owner"], "admin");
        assert_eq!(body["grantType"], "authorization_code refresh_token");
        assert_eq!(body["saasApp"], true);
        let client: Vec<_> = sb
            .apim()
            .requests()
            .iter()
            .map(|r| r.action.clone())
            .collect();
        assert_eq!(
            client,
            ["portal.login"],
            "APIM {apim}: only the browser's request is client traffic"
        );
        assert!(sb.apim().requests()[0].mutating);
        let key = sb
            .apim()
            .with_tenant(SUPER_TENANT, |t| {
                t.and_then(|t| t.oauth_app_by_name(sp).map(|(k, _)| k.clone()))
            })
            .expect("registered");
        let loc = r.header("location").expect("location");
        assert!(loc.contains(&format!("client_id={key}")), "{loc}");
        assert_eq!(
            loc.contains("code_challenge_method=S256"),
            apim == "4.7",
            "PKCE: {loc}"
        );
        // The DCR endpoint answers an existing name with the existing client.
        let direct = read(
            c.post(format!(
                "{}/client-registration/{path_version}/register",
                sb.apim().base_url()
            ))
            .basic_auth("admin", Some("admin"))
            .header("Content-Type", "application/json")
            .body(
                serde_json::json!({
                    "clientName": if apim == "3.0" { "admin_publisher" } else { "apim_publisher" },
                    "owner": "admin",
                    "grantType": "authorization_code refresh_token",
                    "callbackUrl": "https://elsewhere/cb",
                    "saasApp": true,
                })
                .to_string(),
            )
            .send()
            .await
            .expect("send"),
        )
        .await;
        let j = direct.json();
        assert_eq!(
            (direct.status, j["clientId"].as_str()),
            (200, Some(key.as_str())),
            "{j}"
        );
        assert!(j.get(callback_key).is_some(), "APIM {apim}: {j}");
        assert!(!sb.apim().requests().last().expect("logged").mutating);
        let unauth = read(
            c.post(format!(
                "{}/client-registration/{path_version}/register",
                sb.apim().base_url()
            ))
            .header("Content-Type", "application/json")
            .body(serde_json::json!({"clientName": "x"}).to_string())
            .send()
            .await
            .expect("send"),
        )
        .await;
        assert_eq!(unauth.status, 401);
        assert_eq!(unauth.json()["description"], "The user is not authorized");
        // Another release's path is not served.
        let other = if path_version == "v0.17" {
            "v0.15"
        } else {
            "v0.17"
        };
        let r = read(
            c.post(format!(
                "{}/client-registration/{other}/register",
                sb.apim().base_url()
            ))
            .basic_auth("admin", Some("admin"))
            .header("Content-Type", "application/json")
            .body(serde_json::json!({"clientName": "x"}).to_string())
            .send()
            .await
            .expect("send"),
        )
        .await;
        assert_eq!(r.status, 404, "APIM {apim}");
        // Remembered: after the SP is deleted, the login does not register again, and the stale
        // client id is refused by APIM's authorize endpoint.
        soap(&c, sb.apim(), APP, "deleteApplication", &format!("<xsd:deleteApplication><xsd:applicationName>{sp}</xsd:applicationName></xsd:deleteApplication>")).await;
        sb.apim().clear_requests();
        let again = portal_login(&c, &sb, "/publisher/services/auth/login").await;
        assert!(
            sb.apim()
                .all_requests()
                .iter()
                .all(|r| r.action != "apim.dcr")
        );
        assert!(!apps(&sb).contains(&sp.to_owned()));
        let loc = again.header("location").expect("location").to_owned();
        assert!(
            loc.contains(&format!("client_id={key}")),
            "stale client id: {loc}"
        );
        let r = read(c.get(&loc).send().await.expect("send")).await;
        let err = r.header("location").unwrap_or_default().to_owned();
        assert!(
            err.contains("oauth2_error.do") && err.contains("invalid_client"),
            "APIM {apim}: {err}"
        );
    }
}

async fn update_consent(c: &reqwest::Client, sb: &Sandbox, fields: &str) -> Answer {
    create_app(c, sb.apim(), "portal-like").await;
    let id = get_app(c, sb.apim(), "portal-like")
        .await
        .ret()
        .text_of("applicationID")
        .unwrap_or("")
        .to_owned();
    update_app(
        c,
        sb.apim(),
        &id,
        "portal-like",
        &format!("<m:localAndOutBoundAuthenticationConfig><m:authenticationType>default</m:authenticationType>{fields}</m:localAndOutBoundAuthenticationConfig>"),
    )
    .await
}

#[tokio::test]
async fn soap_fields_follow_each_releases_wsdl() {
    // 3.0 (framework 5.14.97): no skipConsent.
    let sb = sandbox("5.9", "3.0").await;
    let c = http(&sb);
    let r = update_consent(&c, &sb, "<m:skipConsent>true</m:skipConsent>").await;
    assert_eq!(r.status, 500);
    assert!(
        r.fault()
            .is_some_and(|f| f.contains("Unexpected subelement") && f.contains("skipConsent")),
        "{}",
        r.body
    );
    // 3.1 (5.17.5) and 4.0 (5.18.187): skipConsent and skipLogoutConsent (the vendored 5.17.5 WSDL
    // already has both), stored and answered.
    for apim in ["3.1", "4.0", "4.5"] {
        let sb = sandbox("5.9", apim).await;
        let c = http(&sb);
        let r = update_consent(
            &c,
            &sb,
            "<m:skipConsent>true</m:skipConsent><m:skipLogoutConsent>true</m:skipLogoutConsent>",
        )
        .await;
        assert_eq!(r.status, 200, "APIM {apim}: {}", r.body);
        let sp = get_app(&c, sb.apim(), "portal-like").await.ret();
        assert_eq!(
            sp.text_at("localAndOutBoundAuthenticationConfig/skipConsent"),
            Some("true"),
            "APIM {apim}"
        );
        assert_eq!(
            sp.text_at("localAndOutBoundAuthenticationConfig/skipLogoutConsent"),
            Some("true"),
            "APIM {apim}"
        );
    }
    // OAuthConsumerAppDTO.tokenEndpointAuthMethod: IS 7 (oauth 7.0.26) only.
    for (is_v, ok) in [("5.9", false), ("6.1", false), ("7.0", true)] {
        let sb = sandbox(is_v, "4.5").await;
        let c = http(&sb);
        let r = soap(&c, sb.is(), OAUTH, "registerOAuthApplicationData", "<xsd:registerOAuthApplicationData><xsd:application><d:OAuthVersion>OAuth-2.0</d:OAuthVersion><d:applicationName>x</d:applicationName><d:grantTypes>client_credentials</d:grantTypes><d:tokenEndpointAuthMethod>client_secret_basic</d:tokenEndpointAuthMethod></xsd:application></xsd:registerOAuthApplicationData>").await;
        assert_eq!(r.status == 200, ok, "IS {is_v}: {}", r.body);
    }
}

#[tokio::test]
async fn identity_provider_scopes_property_from_4_3() {
    let props = "<m:properties><m:name>Scopes</m:name><m:value>openid groups</m:value></m:properties><m:properties><m:name>commonAuthQueryParams</m:name><m:value>scope=openid+profile</m:value></m:properties>";
    for (apim, want) in [
        ("4.2", "openid profile"),
        ("4.3", "openid groups"),
        ("4.7", "openid groups"),
    ] {
        let sb = sandbox("7.1", apim).await;
        let c = http(&sb);
        let idp = format!(
            "<m:displayName>wso2is</m:displayName><m:enable>true</m:enable><m:federatedAuthenticatorConfigs><m:displayName>openidconnect</m:displayName><m:enabled>true</m:enabled><m:name>OpenIDConnectAuthenticator</m:name><m:properties><m:name>ClientId</m:name><m:value>cid</m:value></m:properties>{props}</m:federatedAuthenticatorConfigs><m:identityProviderName>wso2is</m:identityProviderName>"
        );
        let r = add_idp(&c, sb.apim(), &idp).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            sb.apim()
                .idp_requested_scope(SUPER_TENANT, "wso2is")
                .as_deref(),
            Some(want),
            "APIM {apim}"
        );
        let stored = sb
            .apim()
            .idp_oidc_properties(SUPER_TENANT, "wso2is")
            .expect("props");
        assert_eq!(
            stored.get("Scopes").map(String::as_str),
            Some("openid groups")
        );
    }
    let sb = sandbox("7.1", "4.0").await;
    let c = http(&sb);
    add_idp(&c, sb.apim(), &idp_xml("bare", true, &[])).await;
    assert_eq!(
        sb.apim()
            .idp_requested_scope(SUPER_TENANT, "bare")
            .as_deref(),
        Some("openid")
    );
    assert_eq!(sb.apim().idp_requested_scope(SUPER_TENANT, "none"), None);
}
