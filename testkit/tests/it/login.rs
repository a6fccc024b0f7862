//! The browser login of a portal through IS, per version pair, driven by a plain HTTP client that
//! keeps cookies and follows redirects: the full login ending at the publisher API (a publisher
//! gets 200, a subscriber the REST API's 401), and each broken setting failing at the hop where
//! the real server fails, with the real server's error.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use wso2_testkit::{FaultKind, FaultRule, SUPER_TENANT, Sandbox, ServerKind, SimServer};

use crate::support::*;
use crate::versions::{create, rest};

// ------------------------------------------------------------------------------------ browser

/// A browser: one cookie jar for every host (both servers are `localhost`, as co-located WSO2
/// servers are), redirects followed, the pages it went through kept.
pub(crate) struct Browser {
    c: reqwest::Client,
    /// `(name, path)` -> value.
    jar: BTreeMap<(String, String), String>,
    /// `METHOD url -> status` of every request.
    pub(crate) trail: Vec<String>,
}

/// Where a navigation ended.
pub(crate) struct Page {
    pub(crate) url: url::Url,
    pub(crate) answer: Answer,
}

impl Page {
    fn query(&self, name: &str) -> Option<String> {
        self.url
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

fn path_matches(cookie_path: &str, path: &str) -> bool {
    path == cookie_path
        || (path.starts_with(cookie_path)
            && (cookie_path.ends_with('/') || path[cookie_path.len()..].starts_with('/')))
}

impl Browser {
    pub(crate) fn new(sb: &Sandbox) -> Self {
        Self {
            c: http(sb),
            jar: BTreeMap::new(),
            trail: Vec::new(),
        }
    }

    pub(crate) fn cookie(&self, name: &str) -> Option<String> {
        self.jar
            .iter()
            .find(|((n, _), _)| n == name)
            .map(|(_, v)| v.clone())
    }

    fn cookie_header(&self, url: &url::Url) -> String {
        self.jar
            .iter()
            .filter(|((_, p), _)| path_matches(p, url.path()))
            .map(|((n, _), v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, a: &Answer) {
        for sc in a.headers.get_all("set-cookie") {
            let sc = sc.to_str().unwrap_or_default();
            let mut parts = sc.split(';');
            let Some((name, value)) = parts.next().and_then(|kv| kv.trim().split_once('=')) else {
                continue;
            };
            let path = parts
                .filter_map(|a| a.trim().split_once('='))
                .find(|(k, _)| k.eq_ignore_ascii_case("path"))
                .map(|(_, v)| v.to_owned())
                .unwrap_or_else(|| "/".into());
            self.jar.insert((name.to_owned(), path), value.to_owned());
        }
    }

    /// One request, cookies sent and kept.
    pub(crate) async fn send(
        &mut self,
        method: reqwest::Method,
        url: &url::Url,
        form: Option<&[(String, String)]>,
        bearer: Option<&str>,
    ) -> Answer {
        let mut r = self.c.request(method.clone(), url.as_str());
        let cookies = self.cookie_header(url);
        if !cookies.is_empty() {
            r = r.header("Cookie", cookies);
        }
        if let Some(t) = bearer {
            r = r.header("Authorization", format!("Bearer {t}"));
        }
        if let Some(f) = form {
            r = r
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(
                    url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(f)
                        .finish(),
                );
        }
        let a = read(r.send().await.expect("send")).await;
        self.trail
            .push(format!("{method} {} -> {}", url.as_str(), a.status));
        self.keep_cookies(&a);
        a
    }

    /// A request, then every redirect, to the page where it ends.
    pub(crate) async fn go(
        &mut self,
        method: reqwest::Method,
        url: &str,
        form: Option<&[(String, String)]>,
    ) -> Page {
        let mut url = url::Url::parse(url).expect("url");
        let mut a = self.send(method, &url, form, None).await;
        for _ in 0..20 {
            let Some(loc) = a
                .header("location")
                .filter(|_| (300..400).contains(&a.status))
            else {
                return Page { url, answer: a };
            };
            url = url.join(loc).expect("location");
            a = self.send(reqwest::Method::GET, &url, None, None).await;
        }
        panic!("redirect loop: {:?}", self.trail);
    }

    /// Submits the page's (first) form with its inputs, `fields` overriding them.
    pub(crate) async fn submit(&mut self, page: &Page, fields: &[(&str, &str)]) -> Page {
        let html = &page.answer.body;
        let attr = |tag: &str, name: &str| -> Option<String> {
            let re = regex::Regex::new(&format!(r#"\b{name}="([^"]*)""#)).expect("re");
            re.captures(tag).map(|c| c[1].to_owned())
        };
        let form = regex::Regex::new(r"<form[^>]*>").expect("re");
        let tag = form
            .find(html)
            .unwrap_or_else(|| panic!("no form at {}: {html}", page.url))
            .as_str();
        let action = attr(tag, "action").unwrap_or_default();
        let mut pairs: Vec<(String, String)> = Vec::new();
        let inputs = regex::Regex::new(r"<input[^>]*>").expect("re");
        for m in inputs.find_iter(html) {
            let t = m.as_str();
            if let Some(n) = attr(t, "name") {
                pairs.push((n, attr(t, "value").unwrap_or_default()));
            }
        }
        for (k, v) in fields {
            pairs.retain(|(n, _)| n != k);
            pairs.push(((*k).to_owned(), (*v).to_owned()));
        }
        let target = page.url.join(&action).expect("action");
        self.go(reqwest::Method::POST, target.as_str(), Some(&pairs))
            .await
    }
}

// ------------------------------------------------------------------------------------ setup

const PUBLISHER: (&str, &str) = ("api_publisher", "pub-pass1");
const SUBSCRIBER: (&str, &str) = ("api_user", "user-pass1");

/// The settings of one federation, each switchable to its broken form.
#[derive(Clone)]
struct Knobs {
    /// The IS application's callback (default: APIM's `/commonauth`).
    callback: Option<String>,
    /// The IS application requests the role claim.
    role_claim: bool,
    /// The IdP maps `publisher_role` to a local role that exists.
    publisher_role_exists: bool,
    /// The IdP has the right client secret.
    right_secret: bool,
    /// `IsBasicAuthEnabled` on the IdP.
    basic_auth: bool,
    /// JIT's `provisioningUserStore`.
    jit_store: &'static str,
    /// The IS application skips consent (where the release can say so).
    skip_consent: bool,
    /// The IS application demands PKCE.
    pkce: bool,
    /// `UserInfoUrl` on the IdP.
    userinfo: bool,
}

impl Default for Knobs {
    fn default() -> Self {
        Self {
            callback: None,
            role_claim: true,
            publisher_role_exists: true,
            right_secret: true,
            basic_auth: true,
            jit_store: "PRIMARY",
            skip_consent: true,
            pkce: false,
            userinfo: false,
        }
    }
}

async fn sandbox(is: &str, apim: &str) -> Sandbox {
    crate::versions::sandbox(is, apim).await
}

fn before_6(sb: &Sandbox) -> bool {
    let (major, _) = sb.is_version().number();
    major < 6
}

fn is7(sb: &Sandbox) -> bool {
    sb.is_version().number().0 >= 7
}

/// IS: the users and their user-store roles (groups), and the OIDC application for APIM. Returns
/// the client id and secret.
async fn setup_is(c: &reqwest::Client, sb: &Sandbox, k: &Knobs) -> (String, String) {
    let is = sb.is();
    is.add_role(SUPER_TENANT, "publisher_role");
    is.add_role(SUPER_TENANT, "user_role");
    is.add_user(SUPER_TENANT, PUBLISHER.0, PUBLISHER.1, &["publisher_role"]);
    is.add_user(SUPER_TENANT, SUBSCRIBER.0, SUBSCRIBER.1, &["user_role"]);
    let callback = k
        .callback
        .clone()
        .unwrap_or_else(|| format!("{}/commonauth", sb.apim().base_url()));
    // IS 5.x releases roles as `groups` from …/claims/role; 6.0+ from …/claims/groups.
    let claim = if before_6(sb) {
        "http://wso2.org/claims/role"
    } else {
        "http://wso2.org/claims/groups"
    };
    if sb.is_version().as_str() == "5.9" {
        // SOAP: the SP, its OAuth app, the inbound config and the role claim.
        assert_eq!(create_app(c, is, "apim-sso").await.status, 200);
        let reg = format!(
            "<xsd:registerOAuthApplicationData><xsd:application><d:OAuthVersion>OAuth-2.0</d:OAuthVersion><d:applicationName>apim-sso</d:applicationName><d:callbackUrl>{callback}</d:callbackUrl><d:grantTypes>authorization_code refresh_token</d:grantTypes><d:oauthConsumerKey>apim-key</d:oauthConsumerKey><d:oauthConsumerSecret>apim-secret</d:oauthConsumerSecret><d:pkceMandatory>{}</d:pkceMandatory></xsd:application></xsd:registerOAuthApplicationData>",
            k.pkce
        );
        let r = soap(c, is, OAUTH, "registerOAuthApplicationData", &reg).await;
        assert!(r.status < 300, "{}", r.body);
        let id = get_app(c, is, "apim-sso")
            .await
            .ret()
            .text_of("applicationID")
            .expect("id")
            .to_owned();
        let claims = if k.role_claim {
            format!(
                "<m:claimConfig><m:alwaysSendMappedLocalSubjectId>false</m:alwaysSendMappedLocalSubjectId><m:claimMappings><m:localClaim><m:claimUri>{claim}</m:claimUri></m:localClaim><m:mandatory>true</m:mandatory><m:remoteClaim><m:claimUri>{claim}</m:claimUri></m:remoteClaim><m:requested>true</m:requested></m:claimMappings><m:localClaimDialect>true</m:localClaimDialect></m:claimConfig>"
            )
        } else {
            String::new()
        };
        // IS 5.9 has no skip-consent field: the SP property is its switch.
        let props = if k.skip_consent {
            "<m:spProperties><m:displayName>Skip Consent</m:displayName><m:name>skipConsent</m:name><m:value>true</m:value></m:spProperties>"
        } else {
            ""
        };
        let r = update_app(c, is, &id, "apim-sso", &format!("{claims}<m:inboundAuthenticationConfig><m:inboundAuthenticationRequestConfigs><m:inboundAuthKey>apim-key</m:inboundAuthKey><m:inboundAuthType>oauth2</m:inboundAuthType><m:properties><m:name>oauthConsumerSecret</m:name><m:value>apim-secret</m:value></m:properties></m:inboundAuthenticationRequestConfigs></m:inboundAuthenticationConfig>{props}")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        return ("apim-key".into(), "apim-secret".into());
    }
    // REST (5.10+).
    let mut oidc = json!({
        "grantTypes": ["authorization_code", "refresh_token"],
        "callbackURLs": [callback],
        "pkce": {"mandatory": k.pkce, "supportPlainTransformAlgorithm": false},
    });
    let mut claims = json!({"dialect": "LOCAL", "requestedClaims": []});
    if k.role_claim {
        claims["requestedClaims"] = json!([{"claim": {"uri": claim}, "mandatory": true}]);
    }
    if is7(sb) {
        oidc["clientAuthentication"] = json!({"tokenEndpointAuthMethod": "client_secret_basic"});
        claims["subject"] = json!({"claim": {"uri": "http://wso2.org/claims/username"}});
    }
    let advanced = if sb.is_version().as_str() == "5.10" {
        json!({"skipConsent": k.skip_consent})
    } else {
        json!({"skipLoginConsent": k.skip_consent, "skipLogoutConsent": k.skip_consent})
    };
    let id = create(
        c,
        is,
        json!({"name": "apim-sso", "inboundProtocolConfiguration": {"oidc": oidc},
               "claimConfiguration": claims, "advancedConfigurations": advanced}),
    )
    .await;
    if sb.is_version().as_str() == "6.0" {
        // IS 6.0's openid scope is empty: widen it to release groups (APIM 4.2's docs).
        let r = rest(c, is, reqwest::Method::GET, "/oidc/scopes/openid", None).await;
        let mut list = r.json()["claims"].as_array().cloned().unwrap_or_default();
        list.push(Value::String("groups".into()));
        let r = rest(
            c,
            is,
            reqwest::Method::PUT,
            "/oidc/scopes/openid",
            Some(json!({"displayName": "openid", "claims": list})),
        )
        .await;
        assert!(r.status < 300, "{}", r.body);
    }
    let o = rest(
        c,
        is,
        reqwest::Method::GET,
        &format!("/applications/{id}/inbound-protocols/oidc"),
        None,
    )
    .await
    .json();
    (
        o["clientId"].as_str().expect("clientId").to_owned(),
        o["clientSecret"].as_str().expect("clientSecret").to_owned(),
    )
}

/// The publisher portal's SP name on the simulated APIM release.
fn publisher_sp(sb: &Sandbox) -> &'static str {
    if sb.apim_version().as_str() == "3.0" {
        "admin_admin_publisher"
    } else {
        "apim_publisher"
    }
}

/// APIM: the IdP for IS (as each release's docs configure it) and the publisher portal's SP
/// switched to it.
async fn setup_apim(c: &reqwest::Client, sb: &Sandbox, k: &Knobs, client: &(String, String)) {
    let apim = sb.apim();
    let is_url = sb.is().base_url();
    let v = sb.apim_version();
    let (_, minor) = v.number();
    let four = v.number().0 >= 4;
    let mut props: Vec<(&str, String)> = vec![
        ("ClientId", client.0.clone()),
        (
            "ClientSecret",
            if k.right_secret {
                client.1.clone()
            } else {
                "not-the-secret".into()
            },
        ),
        ("OAuth2AuthzEPUrl", format!("{is_url}/oauth2/authorize")),
        ("OAuth2TokenEPUrl", format!("{is_url}/oauth2/token")),
        ("callbackUrl", format!("{}/commonauth", apim.base_url())),
        ("IsBasicAuthEnabled", k.basic_auth.to_string()),
    ];
    if k.userinfo {
        props.push(("UserInfoUrl", format!("{is_url}/oauth2/userinfo")));
    }
    // The role claim needs a scope on IS 6.1+: `Scopes` from APIM 4.3, the query parameters
    // before (WSO2-VERSIONS.md §3.5, §4.4).
    let scopes = if before_6(sb) {
        "openid"
    } else {
        "openid groups"
    };
    if four && minor >= 3 {
        props.push(("Scopes", scopes.into()));
    } else if scopes != "openid" {
        props.push(("commonAuthQueryParams", format!("scope={scopes}")));
    }
    let props: String = props
        .iter()
        .map(|(n, v)| {
            format!("<m:properties><m:name>{n}</m:name><m:value>{v}</m:value></m:properties>")
        })
        .collect();
    // APIM 4.2+ docs: claim mapping groups -> …/claims/role and Role Claim URI `groups`.
    let claims = if four && minor >= 2 {
        "<m:claimConfig><m:claimMappings><m:localClaim><m:claimUri>http://wso2.org/claims/role</m:claimUri></m:localClaim><m:remoteClaim><m:claimUri>groups</m:claimUri></m:remoteClaim></m:claimMappings><m:localClaimDialect>false</m:localClaimDialect><m:roleClaimURI>groups</m:roleClaimURI></m:claimConfig>"
    } else {
        ""
    };
    let publisher_role = if k.publisher_role_exists {
        "publisher"
    } else {
        "publisher_gone"
    };
    if !k.publisher_role_exists {
        // The local role existed when the IdP was saved (else the IdP service drops the mapping)
        // and was deleted afterwards.
        apim.add_role(SUPER_TENANT, "Internal/publisher_gone");
    }
    let idp = format!(
        "<i:addIdP><i:identityProvider>{claims}<m:defaultAuthenticatorConfig><m:displayName>openidconnect</m:displayName><m:enabled>true</m:enabled><m:name>OpenIDConnectAuthenticator</m:name></m:defaultAuthenticatorConfig><m:displayName>wso2is</m:displayName><m:enable>true</m:enable><m:federatedAuthenticatorConfigs><m:displayName>openidconnect</m:displayName><m:enabled>true</m:enabled><m:name>OpenIDConnectAuthenticator</m:name>{props}</m:federatedAuthenticatorConfigs><m:identityProviderName>wso2is</m:identityProviderName><m:justInTimeProvisioningConfig><m:provisioningEnabled>true</m:provisioningEnabled><m:provisioningUserStore>{}</m:provisioningUserStore></m:justInTimeProvisioningConfig><m:permissionAndRoleConfig><m:idpRoles>publisher_role</m:idpRoles><m:idpRoles>user_role</m:idpRoles><m:roleMappings><m:localRole><m:localRoleName>{publisher_role}</m:localRoleName><m:userStoreId>Internal</m:userStoreId></m:localRole><m:remoteRole>publisher_role</m:remoteRole></m:roleMappings><m:roleMappings><m:localRole><m:localRoleName>subscriber</m:localRoleName><m:userStoreId>Internal</m:userStoreId></m:localRole><m:remoteRole>user_role</m:remoteRole></m:roleMappings></m:permissionAndRoleConfig></i:identityProvider></i:addIdP>",
        k.jit_store
    );
    let r = soap(c, apim, IDPS, "addIdP", &idp).await;
    assert_eq!(r.status, 200, "{}", r.body);
    if !k.publisher_role_exists {
        apim.with_tenant_mut(SUPER_TENANT, |t| t.roles.remove("Internal/publisher_gone"));
    }
    // The publisher portal's SP, as its first login registered it, switched to the IdP: read it
    // and send everything back with the federated step.
    apim.ensure_portal_apps();
    let sp = get_app(c, apim, publisher_sp(sb)).await.ret();
    // From APIM 3.1 the consent switch is a field, kept as the `skipConsent` property and
    // rebuilt from the field at every update: send it, or the portal asks for consent.
    let consent = if sb.apim_version() == wso2_testkit::ApimVersion::V3_0 {
        ""
    } else {
        "<m:skipConsent>true</m:skipConsent>"
    };
    let step = format!(
        "<m:localAndOutBoundAuthenticationConfig><m:alwaysSendBackAuthenticatedListOfIdPs>false</m:alwaysSendBackAuthenticatedListOfIdPs><m:authenticationSteps><m:federatedIdentityProviders><m:defaultAuthenticatorConfig><m:displayName>openidconnect</m:displayName><m:enabled>true</m:enabled><m:name>OpenIDConnectAuthenticator</m:name></m:defaultAuthenticatorConfig><m:identityProviderName>wso2is</m:identityProviderName></m:federatedIdentityProviders><m:stepOrder>1</m:stepOrder></m:authenticationSteps><m:authenticationType>federated</m:authenticationType>{consent}</m:localAndOutBoundAuthenticationConfig>"
    );
    let body: String = sp
        .children
        .iter()
        .map(|ch| {
            if ch.name == "localAndOutBoundAuthenticationConfig" {
                step.clone()
            } else {
                ch.to_xml()
            }
        })
        .collect();
    let r = soap(
        c,
        apim,
        APP,
        "updateApplication",
        &format!("<xsd:updateApplication><xsd:serviceProvider>{body}</xsd:serviceProvider></xsd:updateApplication>"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// Both servers set up for a login through IS, the request logs cleared.
async fn federated(is: &str, apim: &str, k: &Knobs) -> Sandbox {
    let sb = sandbox(is, apim).await;
    federate(&sb, k).await;
    sb
}

async fn federate(sb: &Sandbox, k: &Knobs) {
    let c = http(sb);
    let client = setup_is(&c, sb, k).await;
    setup_apim(&c, sb, k, &client).await;
    sb.clear_requests();
}

// ------------------------------------------------------------------------------------ the flow

/// Starts the publisher login and, at IS's login page, signs in as `user`. Returns where the
/// browser ends (the publisher's page after a good login).
async fn sign_in(b: &mut Browser, sb: &Sandbox, user: (&str, &str)) -> Page {
    let page = b
        .go(
            reqwest::Method::GET,
            &format!("{}/publisher/services/auth/login", sb.apim().base_url()),
            None,
        )
        .await;
    assert!(
        page.url.as_str().starts_with(&sb.is().base_url())
            && page.url.path() == "/authenticationendpoint/login.do",
        "IS's login page expected: {} {:?}",
        page.url,
        b.trail
    );
    assert!(page.query("sessionDataKey").is_some());
    b.submit(&page, &[("username", user.0), ("password", user.1)])
        .await
}

/// The session calls the publisher API: `Authorization: Bearer` with the first half of the
/// token (the portal's readable cookie), the HttpOnly second half as a cookie.
async fn publisher_api(b: &mut Browser, sb: &Sandbox) -> Answer {
    let url = url::Url::parse(&format!(
        "{}{}/apis",
        sb.apim().base_url(),
        sb.apim().publisher_api_path().expect("APIM")
    ))
    .expect("url");
    let p1 = b.cookie("WSO2_AM_TOKEN_1_Default").unwrap_or_default();
    b.send(reqwest::Method::GET, &url, None, Some(&p1)).await
}

async fn whoami(b: &mut Browser, sb: &Sandbox) -> Value {
    let url = url::Url::parse(&format!(
        "{}/publisher/services/auth/introspect",
        sb.apim().base_url()
    ))
    .expect("url");
    b.send(reqwest::Method::GET, &url, None, None).await.json()
}

/// The actions of every hop, both servers, in order (`server:action`, `+` for the servers' own
/// calls).
fn hops(sb: &Sandbox) -> Vec<String> {
    sb.hops()
        .into_iter()
        .map(|(s, r)| {
            format!(
                "{}{}:{}",
                if r.via.is_some() { "+" } else { "" },
                match s {
                    ServerKind::Is => "is",
                    ServerKind::Apim => "apim",
                },
                r.action
            )
        })
        .collect()
}

fn record(server: &SimServer, action: &str) -> Option<wso2_testkit::RequestRecord> {
    server
        .all_requests()
        .into_iter()
        .rev()
        .find(|r| r.action == action)
}

fn roles_on_apim(sb: &Sandbox, user: &str) -> Option<Vec<String>> {
    sb.apim().with_tenant(SUPER_TENANT, |t| {
        t.filter(|t| t.users.contains_key(user))
            .map(|t| t.roles_of(user))
    })
}

/// The full login for each version pair: the publisher gets the publisher API (200), the
/// subscriber does not (the REST API's 401 "Unauthenticated request"); both were provisioned
/// just in time with their mapped roles; every hop is named in the request logs.
#[tokio::test]
async fn full_login_per_version_pair() {
    for (is, apim) in [
        ("5.9", "3.0"),
        ("5.10", "3.1"),
        ("5.11", "4.0"),
        ("6.0", "4.2"),
        ("6.1", "4.2"),
        ("7.0", "4.5"),
        ("7.3", "4.7"),
    ] {
        let sb = federated(is, apim, &Knobs::default()).await;
        let mut b = Browser::new(&sb);
        let page = sign_in(&mut b, &sb, PUBLISHER).await;
        assert_eq!(
            (page.answer.status, page.url.path()),
            (200, "/publisher/"),
            "{is}+{apim}: {:?}",
            b.trail
        );
        let r = publisher_api(&mut b, &sb).await;
        assert_eq!(r.status, 200, "{is}+{apim}: {}", r.body);
        assert_eq!(r.json()["count"], 0);
        let me = whoami(&mut b, &sb).await;
        assert_eq!(me["active"], true, "{me}");
        assert_eq!(me["username"], "api_publisher@carbon.super");
        let scopes = me["scope"].as_str().unwrap_or_default().to_owned();
        assert!(
            scopes.contains("apim:api_publish") && scopes.contains("apim:api_view"),
            "{is}+{apim}: {scopes}"
        );
        assert!(!scopes.contains("apim:subscribe"), "{scopes}");
        assert_eq!(
            roles_on_apim(&sb, "api_publisher"),
            Some(vec![
                "Internal/everyone".to_owned(),
                "Internal/publisher".to_owned()
            ]),
            "{is}+{apim}: JIT user and role in APIM's state"
        );
        let trace = hops(&sb);
        let want = [
            "apim:portal.login",
            "apim:apim.authorize",
            "is:is.authorize",
            "is:is.login_page",
            "is:is.commonauth",
            "apim:apim.commonauth",
            "+is:is.token",
            "+apim:apim.jit",
            "apim:portal.callback",
            "+apim:portal.token",
            "apim:portal.page",
            "apim:portal.api",
            "apim:portal.introspect",
        ];
        assert_eq!(trace, want, "{is}+{apim}");
        // APIM's authenticator sent the browser to IS with the IdP's client, APIM's callback,
        // the release's scope and the session data key in `state`.
        let authz = record(sb.is(), "is.authorize").expect("is.authorize");
        let q: BTreeMap<String, String> = url::form_urlencoded::parse(authz.query.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(
            q.get("redirect_uri"),
            Some(&format!("{}/commonauth", sb.apim().base_url()))
        );
        let want_scope = if is.starts_with('5') {
            "openid"
        } else {
            "openid groups"
        };
        assert_eq!(
            q.get("scope").map(String::as_str),
            Some(want_scope),
            "{is}+{apim}"
        );
        assert!(
            q.get("state").is_some_and(|s| s.ends_with(",OIDC")),
            "{q:?}"
        );
        let is_client = sb.is().with_tenant(SUPER_TENANT, |t| {
            t.map(|t| t.oauth_apps.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
        });
        assert!(is_client.contains(&q["client_id"]), "{q:?}");
        let token = record(sb.is(), "is.token").expect("is.token");
        assert_eq!(token.via.as_deref(), Some("apim"));
        assert_eq!(token.status, Some(200));
        assert!(
            token.body.contains("grant_type=authorization_code")
                && !token.body.contains("client_secret"),
            "IsBasicAuthEnabled: the secret only in the header: {}",
            token.body
        );
        // The subscriber, in a browser of their own.
        let mut b = Browser::new(&sb);
        let page = sign_in(&mut b, &sb, SUBSCRIBER).await;
        assert_eq!(page.url.path(), "/publisher/", "{is}+{apim}: {:?}", b.trail);
        let r = publisher_api(&mut b, &sb).await;
        assert_eq!(r.status, 401, "{is}+{apim}: {}", r.body);
        assert_eq!(r.json()["description"], "Unauthenticated request");
        let me = whoami(&mut b, &sb).await;
        let scopes = me["scope"].as_str().unwrap_or_default().to_owned();
        assert!(
            !scopes.contains("apim:api_view") && !scopes.contains("apim:api_publish"),
            "{scopes}"
        );
        assert_eq!(
            roles_on_apim(&sb, "api_user"),
            Some(vec![
                "Internal/everyone".to_owned(),
                "Internal/subscriber".to_owned()
            ])
        );
        println!("{is}+{apim}: {}", hops(&sb).join(" "));
    }
}

/// Starts the publisher login; returns where the browser ends.
async fn start(b: &mut Browser, sb: &Sandbox) -> Page {
    b.go(
        reqwest::Method::GET,
        &format!("{}/publisher/services/auth/login", sb.apim().base_url()),
        None,
    )
    .await
}

fn action_names(server: &SimServer) -> Vec<String> {
    server
        .all_requests()
        .into_iter()
        .map(|r| r.action)
        .collect()
}

/// The callback registered on IS is not APIM's `/commonauth`: IS's authorize endpoint refuses
/// before any login page, with its error page ("invalid_callback").
#[tokio::test]
async fn callback_mismatch_fails_at_is_authorize() {
    for (is, apim) in [("5.9", "3.0"), ("7.3", "4.7")] {
        let k = Knobs {
            callback: Some("https://apim.example:9443/commonauth".into()),
            ..Knobs::default()
        };
        let sb = federated(is, apim, &k).await;
        let mut b = Browser::new(&sb);
        let page = start(&mut b, &sb).await;
        assert!(
            page.url.as_str().starts_with(&sb.is().base_url()),
            "{}",
            page.url
        );
        assert_eq!(page.url.path(), "/authenticationendpoint/oauth2_error.do");
        assert_eq!(
            page.query("oauthErrorCode").as_deref(),
            Some("invalid_callback")
        );
        assert_eq!(
            page.query("oauthErrorMsg").as_deref(),
            Some("Registered callback does not match with the provided url.")
        );
        let authz = record(sb.is(), "is.authorize").expect("is.authorize");
        assert_eq!(authz.status, Some(302));
        assert!(
            !action_names(sb.is()).contains(&"is.login_page".to_owned()),
            "{is}+{apim}"
        );
    }
}

/// No role reaches APIM when the IS application does not request the role claim, or when APIM
/// does not ask for the scope that releases it (IS 7 releases `groups` only under the `groups`
/// scope): the login completes, the user is provisioned without mapped roles, and the publisher
/// API refuses the session.
#[tokio::test]
async fn missing_role_claim_leaves_the_user_without_portal_scopes() {
    // The application does not request the claim.
    for (is, apim) in [("5.9", "3.0"), ("7.3", "4.7")] {
        let k = Knobs {
            role_claim: false,
            ..Knobs::default()
        };
        let sb = federated(is, apim, &k).await;
        let mut b = Browser::new(&sb);
        let page = sign_in(&mut b, &sb, PUBLISHER).await;
        assert_eq!(page.url.path(), "/publisher/", "{:?}", b.trail);
        assert_eq!(publisher_api(&mut b, &sb).await.status, 401, "{is}+{apim}");
        assert_eq!(
            roles_on_apim(&sb, "api_publisher"),
            Some(vec!["Internal/everyone".to_owned()])
        );
    }
    // APIM 4.7 without `Scopes`: it asks for `openid` only.
    let sb = federated("7.3", "4.7", &Knobs::default()).await;
    sb.apim().with_tenant_mut(SUPER_TENANT, |t| {
        if let Some(idp) = t.identity_providers.get_mut("wso2is")
            && let Some(auth) = idp.child_mut("federatedAuthenticatorConfigs")
        {
            auth.children
                .retain(|p| p.name != "properties" || p.text_of("name") != Some("Scopes"));
        }
    });
    let mut b = Browser::new(&sb);
    sign_in(&mut b, &sb, PUBLISHER).await;
    let authz = record(sb.is(), "is.authorize").expect("is.authorize");
    assert!(authz.query.contains("scope=openid&"), "{}", authz.query);
    assert_eq!(publisher_api(&mut b, &sb).await.status, 401);
    assert_eq!(
        roles_on_apim(&sb, "api_publisher"),
        Some(vec!["Internal/everyone".to_owned()])
    );
}

/// The IdP maps the role to a local role that no longer exists: JIT skips it, the user has no
/// portal scopes.
#[tokio::test]
async fn role_mapping_to_a_missing_role_gives_no_portal_scopes() {
    let k = Knobs {
        publisher_role_exists: false,
        ..Knobs::default()
    };
    let sb = federated("7.3", "4.7", &k).await;
    let mut b = Browser::new(&sb);
    let page = sign_in(&mut b, &sb, PUBLISHER).await;
    assert_eq!(page.url.path(), "/publisher/", "{:?}", b.trail);
    let jit = record(sb.apim(), "apim.jit").expect("apim.jit");
    assert!(
        jit.note
            .as_deref()
            .is_some_and(|n| n.contains("publisher_role")),
        "{jit:?}"
    );
    assert_eq!(publisher_api(&mut b, &sb).await.status, 401);
    assert_eq!(
        roles_on_apim(&sb, "api_publisher"),
        Some(vec!["Internal/everyone".to_owned()])
    );
}

/// The IdP's client secret is wrong: IS's token endpoint answers 401 `invalid_client` to APIM,
/// whose authenticator fails the login (retry page).
#[tokio::test]
async fn wrong_client_secret_fails_at_the_token_request() {
    for (is, apim) in [("5.9", "3.0"), ("6.1", "4.2"), ("7.3", "4.7")] {
        let k = Knobs {
            right_secret: false,
            ..Knobs::default()
        };
        let sb = federated(is, apim, &k).await;
        let mut b = Browser::new(&sb);
        let page = sign_in(&mut b, &sb, PUBLISHER).await;
        assert!(page.url.as_str().starts_with(&sb.apim().base_url()));
        assert_eq!(
            page.url.path(),
            "/authenticationendpoint/retry.do",
            "{:?}",
            b.trail
        );
        let token = record(sb.is(), "is.token").expect("is.token");
        assert_eq!(token.status, Some(401), "{is}+{apim}");
        let ca = record(sb.apim(), "apim.commonauth").expect("apim.commonauth");
        assert_eq!(
            ca.note.as_deref(),
            Some("OpenIDConnectAuthenticator: invalid_client, Client Authentication failed.")
        );
        assert!(!action_names(sb.apim()).contains(&"portal.callback".to_owned()));
        assert_eq!(roles_on_apim(&sb, "api_publisher"), None, "no JIT user");
    }
}

/// The MutualTLS trap: IS's connector asks for client certificates (WSO2's default `want`), APIM
/// presents its own, and with `IsBasicAuthEnabled=false` its token request carries `client_id`
/// in the body too: IS refuses with "The client MUST NOT use more than one authentication method
/// in each". With `IsBasicAuthEnabled=true` the same servers log in.
#[tokio::test]
async fn mutual_tls_trap_fails_at_the_token_request_unless_basic_auth() {
    for basic_auth in [false, true] {
        let sb = Sandbox::builder()
            .is_version("7.3")
            .apim_version("4.7")
            .request_client_cert()
            .start()
            .await
            .expect("sandbox");
        let k = Knobs {
            basic_auth,
            ..Knobs::default()
        };
        // IS 7's tokenEndpointAuthMethod would refuse the body credentials on its own; this is
        // the MutualTLS check, so the application leaves the method unset.
        federate(&sb, &k).await;
        sb.is().with_tenant_mut(SUPER_TENANT, |t| {
            for app in t.oauth_apps.values_mut() {
                app.remove_all("tokenEndpointAuthMethod");
            }
        });
        let mut b = Browser::new(&sb);
        let page = sign_in(&mut b, &sb, PUBLISHER).await;
        let token = record(sb.is(), "is.token").expect("is.token");
        if basic_auth {
            assert_eq!(page.url.path(), "/publisher/", "{:?}", b.trail);
            assert_eq!(token.status, Some(200));
            assert_eq!(publisher_api(&mut b, &sb).await.status, 200);
        } else {
            assert_eq!(page.url.path(), "/authenticationendpoint/retry.do");
            assert_eq!(token.status, Some(400));
            let ca = record(sb.apim(), "apim.commonauth").expect("apim.commonauth");
            assert_eq!(
                ca.note.as_deref(),
                Some(
                    "OpenIDConnectAuthenticator: invalid_request, The client MUST NOT use more than one authentication method in each"
                )
            );
        }
    }
    // The same through the quirk, on the baseline pair.
    let sb = sandbox("5.9", "3.0").await;
    federate(
        &sb,
        &Knobs {
            basic_auth: false,
            ..Knobs::default()
        },
    )
    .await;
    sb.is().update_quirks(|q| q.mutual_tls_conflict = true);
    let mut b = Browser::new(&sb);
    let page = sign_in(&mut b, &sb, PUBLISHER).await;
    assert_eq!(page.url.path(), "/authenticationendpoint/retry.do");
    assert_eq!(
        record(sb.is(), "is.token").and_then(|r| r.status),
        Some(400)
    );
}

/// JIT without a provisioning user store: the user is created but the login fails with "10005".
#[tokio::test]
async fn jit_without_a_user_store_fails_with_10005() {
    for (is, apim) in [("5.9", "3.0"), ("7.3", "4.7")] {
        let k = Knobs {
            jit_store: "",
            ..Knobs::default()
        };
        let sb = federated(is, apim, &k).await;
        let mut b = Browser::new(&sb);
        let page = sign_in(&mut b, &sb, PUBLISHER).await;
        assert_eq!(
            page.url.path(),
            "/authenticationendpoint/retry.do",
            "{:?}",
            b.trail
        );
        assert_eq!(
            page.query("statusMsg").as_deref(),
            Some("10005 - The provided user identifier is invalid")
        );
        let jit = record(sb.apim(), "apim.jit").expect("apim.jit");
        assert_eq!(jit.status, Some(500));
        assert_eq!(
            record(sb.is(), "is.token").and_then(|r| r.status),
            Some(200)
        );
        assert_eq!(
            roles_on_apim(&sb, "api_publisher"),
            Some(vec!["Internal/everyone".to_owned()]),
            "{is}+{apim}: created, not associated"
        );
        assert!(!action_names(sb.apim()).contains(&"portal.callback".to_owned()));
    }
}

/// The IS application does not skip consent: the login stops at IS's consent page; approving it
/// goes on to the portal.
#[tokio::test]
async fn consent_not_skipped_stops_at_is_consent() {
    for (is, apim) in [("5.9", "3.0"), ("5.10", "3.1"), ("7.3", "4.7")] {
        let k = Knobs {
            skip_consent: false,
            ..Knobs::default()
        };
        let sb = federated(is, apim, &k).await;
        let mut b = Browser::new(&sb);
        let page = sign_in(&mut b, &sb, PUBLISHER).await;
        assert!(page.url.as_str().starts_with(&sb.is().base_url()));
        assert_eq!(
            (page.answer.status, page.url.path()),
            (200, "/authenticationendpoint/oauth2_consent.do"),
            "{is}+{apim}"
        );
        assert!(page.query("sessionDataKeyConsent").is_some());
        assert!(!action_names(sb.apim()).contains(&"apim.commonauth".to_owned()));
        assert_eq!(hops(&sb).last().map(String::as_str), Some("is:is.consent"));
        let page = b.submit(&page, &[("consent", "approve")]).await;
        assert_eq!(page.url.path(), "/publisher/", "{:?}", b.trail);
        assert_eq!(publisher_api(&mut b, &sb).await.status, 200);
    }
}

/// The IS application demands PKCE; APIM's authenticator sends no code challenge, so IS's
/// authorize endpoint answers APIM's callback with `invalid_request` and the login fails there.
#[tokio::test]
async fn pkce_demanded_fails_at_is_authorize() {
    for (is, apim) in [("5.9", "3.0"), ("7.3", "4.7")] {
        let k = Knobs {
            pkce: true,
            ..Knobs::default()
        };
        let sb = federated(is, apim, &k).await;
        let mut b = Browser::new(&sb);
        let page = start(&mut b, &sb).await;
        assert_eq!(
            page.url.path(),
            "/authenticationendpoint/retry.do",
            "{:?}",
            b.trail
        );
        assert!(page.url.as_str().starts_with(&sb.apim().base_url()));
        let authz = record(sb.is(), "is.authorize").expect("is.authorize");
        assert_eq!(authz.status, Some(302));
        assert!(!action_names(sb.is()).contains(&"is.login_page".to_owned()));
        let ca = record(sb.apim(), "apim.commonauth").expect("apim.commonauth");
        assert!(
            ca.note.as_deref().is_some_and(|n| n.starts_with(
                "OpenIDConnectAuthenticator: invalid_request, PKCE is mandatory for this application."
            )),
            "{ca:?}"
        );
    }
}

/// APIM 4.3/4.4 GA render id_token arrays as one string "[a, b]" (api-manager #3015): the role
/// maps to nothing, unless `UserInfoUrl` lets userinfo's claims override the id_token's.
#[tokio::test]
async fn apim_4_3_needs_userinfo_for_array_role_claims() {
    for (apim, userinfo, want) in [
        ("4.3", false, 401),
        ("4.3", true, 200),
        ("4.4", false, 401),
        ("4.5", false, 200),
    ] {
        let k = Knobs {
            userinfo,
            ..Knobs::default()
        };
        let sb = federated("7.0", apim, &k).await;
        let mut b = Browser::new(&sb);
        let page = sign_in(&mut b, &sb, PUBLISHER).await;
        assert_eq!(page.url.path(), "/publisher/");
        assert_eq!(
            publisher_api(&mut b, &sb).await.status,
            want,
            "APIM {apim}, UserInfoUrl {userinfo}"
        );
        assert_eq!(
            action_names(sb.is()).contains(&"is.userinfo".to_owned()),
            userinfo
        );
    }
}

/// A fault injected at any hop ends the login there (documented hop names).
#[tokio::test]
async fn a_fault_at_each_hop_stops_the_login() {
    for (server, action) in [
        (ServerKind::Apim, "portal.login"),
        (ServerKind::Apim, "apim.dcr"),
        (ServerKind::Apim, "apim.authorize"),
        (ServerKind::Is, "is.authorize"),
        (ServerKind::Is, "is.login_page"),
        (ServerKind::Is, "is.commonauth"),
        (ServerKind::Is, "is.consent"),
        (ServerKind::Is, "is.consent_approve"),
        (ServerKind::Apim, "apim.commonauth"),
        (ServerKind::Is, "is.token"),
        (ServerKind::Apim, "apim.jit"),
        (ServerKind::Apim, "portal.callback"),
        (ServerKind::Apim, "portal.token"),
        (ServerKind::Apim, "portal.api"),
    ] {
        let consent = action.starts_with("is.consent");
        let k = Knobs {
            skip_consent: !consent,
            ..Knobs::default()
        };
        let sb = federated("7.3", "4.7", &k).await;
        if action == "apim.dcr" {
            // Registration happens at the first login: forget the portal.
            sb.apim()
                .with_tenant_mut(SUPER_TENANT, |t| t.system_apps.clear());
        }
        let target = match server {
            ServerKind::Is => sb.is(),
            ServerKind::Apim => sb.apim(),
        };
        target.inject(FaultRule::nth(action, 1, FaultKind::PlainText500));
        let mut b = Browser::new(&sb);
        let mut page = start(&mut b, &sb).await;
        if page.url.path() == "/authenticationendpoint/login.do" && page.answer.status == 200 {
            page = b
                .submit(
                    &page,
                    &[("username", PUBLISHER.0), ("password", PUBLISHER.1)],
                )
                .await;
        }
        if page.url.path() == "/authenticationendpoint/oauth2_consent.do"
            && page.answer.status == 200
        {
            page = b.submit(&page, &[("consent", "approve")]).await;
        }
        let api = publisher_api(&mut b, &sb).await.status;
        let logged_in = page.url.path() == "/publisher/" && page.answer.status == 200 && api == 200;
        assert!(!logged_in, "{action}: {:?}", b.trail);
        let hit = target
            .all_requests()
            .into_iter()
            .find(|r| r.action == action)
            .unwrap_or_else(|| panic!("{action} never ran: {:?}", hops(&sb)));
        assert!(hit.fault.is_some(), "{action}: {hit:?}");
    }
}

/// APIM 4.7's portal login uses PKCE: the verifier lives in the portal's session
/// (`JSESSIONID`); a client that loses it fails the portal's token exchange (error page).
#[tokio::test]
async fn portal_pkce_on_4_7_needs_the_session() {
    let sb = federated("7.3", "4.7", &Knobs::default()).await;
    let mut b = Browser::new(&sb);
    let page = start(&mut b, &sb).await;
    let authorize = record(sb.apim(), "apim.authorize").expect("apim.authorize");
    assert!(
        authorize.query.contains("code_challenge_method=S256"),
        "{}",
        authorize.query
    );
    b.jar.retain(|(name, _), _| name != "JSESSIONID");
    let page = b
        .submit(
            &page,
            &[("username", PUBLISHER.0), ("password", PUBLISHER.1)],
        )
        .await;
    assert_eq!(
        (page.answer.status, page.url.path()),
        (200, "/publisher/error-pages"),
        "{:?}",
        b.trail
    );
    assert_eq!(page.query("code").as_deref(), Some("500"));
    let token = record(sb.apim(), "portal.token").expect("portal.token");
    assert_eq!(token.status, Some(400));
    // Earlier releases send no challenge.
    let sb = federated("7.3", "4.5", &Knobs::default()).await;
    let mut b = Browser::new(&sb);
    start(&mut b, &sb).await;
    let authorize = record(sb.apim(), "apim.authorize").expect("apim.authorize");
    assert!(
        !authorize.query.contains("code_challenge"),
        "{}",
        authorize.query
    );
}

/// Without federation the portal SP logs in locally on APIM (its own login page and user store):
/// the admin gets every publisher scope. A devportal login through IS gives a subscriber the
/// devportal's scopes.
#[tokio::test]
async fn local_admin_login_and_a_devportal_login_through_is() {
    let sb = sandbox("7.3", "4.7").await;
    let mut b = Browser::new(&sb);
    let page = start(&mut b, &sb).await;
    assert!(
        page.url.as_str().starts_with(&sb.apim().base_url()),
        "{}",
        page.url
    );
    assert_eq!(page.url.path(), "/authenticationendpoint/login.do");
    let page = b
        .submit(&page, &[("username", "admin"), ("password", "admin")])
        .await;
    assert_eq!(page.url.path(), "/publisher/", "{:?}", b.trail);
    assert_eq!(publisher_api(&mut b, &sb).await.status, 200);
    let me = whoami(&mut b, &sb).await;
    assert!(
        me["scope"].as_str().is_some_and(
            |s| s.contains("apim:api_create") && s.contains("apim:publisher_settings")
        ),
        "{me}"
    );
    assert!(action_names(sb.is()).is_empty(), "IS is not involved");
    // The devportal, federated to IS, for the subscriber.
    let sb = federated("7.3", "4.7", &Knobs::default()).await;
    let c = http(&sb);
    let sp = get_app(&c, sb.apim(), "apim_devportal").await.ret();
    let step = "<m:localAndOutBoundAuthenticationConfig><m:authenticationSteps><m:federatedIdentityProviders><m:identityProviderName>wso2is</m:identityProviderName></m:federatedIdentityProviders><m:stepOrder>1</m:stepOrder></m:authenticationSteps><m:authenticationType>federated</m:authenticationType><m:skipConsent>true</m:skipConsent></m:localAndOutBoundAuthenticationConfig>".to_owned();
    let body: String = sp
        .children
        .iter()
        .map(|ch| {
            if ch.name == "localAndOutBoundAuthenticationConfig" {
                step.clone()
            } else {
                ch.to_xml()
            }
        })
        .collect();
    let r = soap(
        &c,
        sb.apim(),
        APP,
        "updateApplication",
        &format!(
            "<xsd:updateApplication><xsd:serviceProvider>{body}</xsd:serviceProvider></xsd:updateApplication>"
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut b = Browser::new(&sb);
    let page = b
        .go(
            reqwest::Method::GET,
            &format!("{}/devportal/services/auth/login", sb.apim().base_url()),
            None,
        )
        .await;
    assert_eq!(page.url.path(), "/authenticationendpoint/login.do");
    let page = b
        .submit(
            &page,
            &[("username", SUBSCRIBER.0), ("password", SUBSCRIBER.1)],
        )
        .await;
    assert_eq!(page.url.path(), "/devportal/", "{:?}", b.trail);
    let url = url::Url::parse(&format!(
        "{}/devportal/services/auth/introspect",
        sb.apim().base_url()
    ))
    .expect("url");
    let me = b.send(reqwest::Method::GET, &url, None, None).await.json();
    let scopes = me["scope"].as_str().unwrap_or_default();
    assert!(
        scopes.contains("apim:subscribe") && scopes.contains("apim:store_settings"),
        "{me}"
    );
    assert!(!scopes.contains("apim:api_view"), "{me}");
}
