//! Raw HTTP helpers: a reqwest client trusting the sandbox CA, SOAP envelopes written by hand.

use std::sync::Arc;
use std::time::Duration;

use wso2_testkit::{Element, Sandbox, SimServer};

pub(crate) const AXIS2: &str = "http://org.apache.axis2/xsd";
pub(crate) const MODEL: &str = "http://model.common.application.identity.carbon.wso2.org/xsd";
pub(crate) const DTO: &str = "http://dto.oauth.identity.carbon.wso2.org/xsd";
pub(crate) const IDP: &str = "http://mgt.idp.carbon.wso2.org";
pub(crate) const UM: &str = "http://service.ws.um.carbon.wso2.org";
pub(crate) const AUTH: &str = "http://authentication.services.core.carbon.wso2.org";

/// A rustls client configuration trusting `ca_pem`, optionally presenting a client identity.
pub(crate) fn tls_config(ca_pem: &str, identity: Option<(&str, &str)>) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::pem::PemObject::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.expect("CA PEM")).expect("root");
    }
    let b = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots);
    match identity {
        None => b.with_no_client_auth(),
        Some((cert, key)) => {
            use rustls::pki_types::pem::PemObject;
            let chain = rustls::pki_types::CertificateDer::pem_slice_iter(cert.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .expect("cert");
            let key =
                rustls::pki_types::PrivateKeyDer::from_pem_slice(key.as_bytes()).expect("key");
            b.with_client_auth_cert(chain, key).expect("client auth")
        }
    }
}

/// A client trusting the sandbox CA, not following redirects.
pub(crate) fn http(sandbox: &Sandbox) -> reqwest::Client {
    client_with(tls_config(sandbox.ca_pem(), None))
}

pub(crate) fn client_with(cfg: rustls::ClientConfig) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_backend_preconfigured(cfg)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

/// An HTTP answer, read fully.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: String,
}

impl Answer {
    /// The body parsed as XML.
    pub(crate) fn xml(&self) -> Element {
        Element::parse(&self.body).unwrap_or_else(|e| panic!("not XML ({e}): {}", self.body))
    }

    /// The SOAP faultstring, if the body is a fault.
    pub(crate) fn fault(&self) -> Option<String> {
        let env = Element::parse(&self.body).ok()?;
        let f = env.at("Body/Fault")?;
        f.text_of("faultstring").map(str::to_owned)
    }

    /// The `return` elements of a SOAP answer.
    pub(crate) fn returns(&self) -> Vec<Element> {
        let env = self.xml();
        let body = env.child("Body").expect("Body");
        let wrapper = body.children.first().expect("wrapper");
        wrapper.children_named("return").cloned().collect()
    }

    /// The single `return` element.
    pub(crate) fn ret(&self) -> Element {
        let mut r = self.returns();
        assert_eq!(r.len(), 1, "one return expected: {}", self.body);
        r.remove(0)
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub(crate) async fn read(resp: reqwest::Response) -> Answer {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.text().await.expect("body");
    Answer {
        status,
        headers,
        body,
    }
}

/// A SOAP 1.1 envelope around `body` (which declares its own prefixes `xsd`, `m`, `d`, `i`, `u`, `a`).
pub(crate) fn envelope(body: &str) -> String {
    format!(
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:xsd=\"{AXIS2}\" xmlns:m=\"{MODEL}\" xmlns:d=\"{DTO}\" xmlns:i=\"{IDP}\" xmlns:u=\"{UM}\" xmlns:a=\"{AUTH}\" xmlns:c=\"http://common.mgt.user.carbon.wso2.org/xsd\"><soapenv:Header/><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
    )
}

/// Posts a SOAP call as `user`/`password` (Basic).
pub(crate) async fn soap_as(
    client: &reqwest::Client,
    server: &SimServer,
    service: &str,
    op: &str,
    body: &str,
    user: &str,
    password: &str,
) -> Answer {
    let resp = client
        .post(format!("{}/services/{service}", server.base_url()))
        .basic_auth(user, Some(password))
        .header("Content-Type", "text/xml; charset=UTF-8")
        .header("SOAPAction", format!("urn:{op}"))
        .body(envelope(body))
        .send()
        .await
        .expect("send");
    read(resp).await
}

/// Posts a SOAP call as the super tenant's admin.
pub(crate) async fn soap(
    client: &reqwest::Client,
    server: &SimServer,
    service: &str,
    op: &str,
    body: &str,
) -> Answer {
    let admin = server.admin();
    soap_as(
        client,
        server,
        service,
        op,
        body,
        &admin.username,
        &admin.password,
    )
    .await
}

pub(crate) const APP: &str = "IdentityApplicationManagementService";
pub(crate) const OAUTH: &str = "OAuthAdminService";
pub(crate) const IDPS: &str = "IdentityProviderMgtService";
pub(crate) const USERS: &str = "RemoteUserStoreManagerService";

pub(crate) async fn create_app(c: &reqwest::Client, s: &SimServer, name: &str) -> Answer {
    soap(
        c,
        s,
        APP,
        "createApplication",
        &format!(
            "<xsd:createApplication><xsd:serviceProvider><m:applicationName>{name}</m:applicationName><m:description>test app</m:description></xsd:serviceProvider></xsd:createApplication>"
        ),
    )
    .await
}

pub(crate) async fn get_app(c: &reqwest::Client, s: &SimServer, name: &str) -> Answer {
    soap(
        c,
        s,
        APP,
        "getApplication",
        &format!("<xsd:getApplication><xsd:applicationName>{name}</xsd:applicationName></xsd:getApplication>"),
    )
    .await
}

/// A minimal IdP with an OIDC authenticator, role mappings as `(remote, userStoreId, local)`.
pub(crate) fn idp_xml(name: &str, enable: bool, mappings: &[(&str, &str, &str)]) -> String {
    let mut roles = String::new();
    for (remote, _, _) in mappings {
        roles.push_str(&format!("<m:idpRoles>{remote}</m:idpRoles>"));
    }
    for (remote, store, local) in mappings {
        roles.push_str(&format!(
            "<m:roleMappings><m:localRole><m:localRoleName>{local}</m:localRoleName><m:userStoreId>{store}</m:userStoreId></m:localRole><m:remoteRole>{remote}</m:remoteRole></m:roleMappings>"
        ));
    }
    format!(
        "<m:displayName>{name}</m:displayName><m:enable>{enable}</m:enable><m:federatedAuthenticatorConfigs><m:displayName>openidconnect</m:displayName><m:enabled>true</m:enabled><m:name>OpenIDConnectAuthenticator</m:name><m:properties><m:name>ClientId</m:name><m:value>cid</m:value></m:properties><m:properties><m:name>ClientSecret</m:name><m:value>csecret</m:value></m:properties></m:federatedAuthenticatorConfigs><m:identityProviderName>{name}</m:identityProviderName><m:permissionAndRoleConfig>{roles}</m:permissionAndRoleConfig>"
    )
}

pub(crate) async fn add_idp(c: &reqwest::Client, s: &SimServer, inner: &str) -> Answer {
    soap(
        c,
        s,
        IDPS,
        "addIdP",
        &format!("<i:addIdP><i:identityProvider>{inner}</i:identityProvider></i:addIdP>"),
    )
    .await
}

pub(crate) async fn get_idp(c: &reqwest::Client, s: &SimServer, name: &str) -> Answer {
    soap(
        c,
        s,
        IDPS,
        "getIdPByName",
        &format!("<i:getIdPByName><i:idPName>{name}</i:idPName></i:getIdPByName>"),
    )
    .await
}

/// The federated step config pointing at `idp`, as the console sends it.
pub(crate) fn federated_steps(idp: &str, steps: usize) -> String {
    let mut s = String::from("<m:localAndOutBoundAuthenticationConfig>");
    for i in 0..steps {
        s.push_str(&format!(
            "<m:authenticationSteps><m:federatedIdentityProviders><m:identityProviderName>{idp}</m:identityProviderName></m:federatedIdentityProviders><m:stepOrder>{}</m:stepOrder></m:authenticationSteps>",
            i + 1
        ));
    }
    s.push_str("<m:authenticationType>federated</m:authenticationType></m:localAndOutBoundAuthenticationConfig>");
    s
}

/// updateApplication with id, name and the given extra children (in WSDL order after the name).
pub(crate) async fn update_app(
    c: &reqwest::Client,
    s: &SimServer,
    id: &str,
    name: &str,
    rest: &str,
) -> Answer {
    soap(
        c,
        s,
        APP,
        "updateApplication",
        &format!(
            "<xsd:updateApplication><xsd:serviceProvider><m:applicationID>{id}</m:applicationID><m:applicationName>{name}</m:applicationName>{rest}</xsd:serviceProvider></xsd:updateApplication>"
        ),
    )
    .await
}

/// Follows a login answer past IS's consent page: when `r` redirects to `oauth2_consent.do`,
/// approves it (`POST /oauth2/authorize` with `sessionDataKeyConsent` and `consent=approve`) and
/// returns that answer instead; otherwise returns `r`.
pub(crate) async fn approve_consent(c: &reqwest::Client, server: &SimServer, r: Answer) -> Answer {
    let Some(loc) = r.header("location").map(str::to_owned) else {
        return r;
    };
    if !loc.contains("/authenticationendpoint/oauth2_consent.do") {
        return r;
    }
    let url = url::Url::parse(&loc).expect("url");
    let key = url
        .query_pairs()
        .find(|(k, _)| k == "sessionDataKeyConsent")
        .map(|(_, v)| v.into_owned())
        .expect("sessionDataKeyConsent");
    let form = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("sessionDataKeyConsent", key.as_str()),
            ("consent", "approve"),
        ])
        .finish();
    read(
        c.post(format!("{}/oauth2/authorize", server.base_url()))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .expect("send"),
    )
    .await
}
