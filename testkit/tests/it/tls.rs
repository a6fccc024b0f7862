//! TLS: the sandbox CA is required, bad leaves are refused, mutual TLS works.

use wso2_testkit::{LeafKind, Sandbox};

use crate::support::*;

async fn probe(client: &reqwest::Client, sb: &Sandbox) -> Result<u16, String> {
    client
        .get(format!("{}/oauth2/jwks", sb.is().base_url()))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| {
            let mut s = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(x) = src {
                s.push_str(": ");
                s.push_str(&x.to_string());
                src = x.source();
            }
            s
        })
}

#[tokio::test]
async fn https_with_the_sandbox_ca_by_name_and_by_ip() {
    let sb = Sandbox::start().await.expect("sandbox");
    assert!(sb.is().base_url().starts_with("https://localhost:"));
    assert!(sb.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(probe(&http(&sb), &sb).await, Ok(200));
    let by_ip = http(&sb)
        .get(format!(
            "https://127.0.0.1:{}/oauth2/jwks",
            sb.is().addr().port()
        ))
        .send()
        .await
        .expect("ip SAN present");
    assert_eq!(by_ip.status(), 200);
    // Another CA is not trusted.
    let other = Sandbox::builder().http().start().await.expect("sandbox");
    let foreign = client_with(tls_config(other.ca_pem(), None));
    let err = probe(&foreign, &sb).await.expect_err("unknown CA refused");
    assert!(
        err.contains("UnknownIssuer") || err.contains("certificate"),
        "{err}"
    );
}

#[tokio::test]
async fn expired_and_wrong_host_leaves_are_refused() {
    for (kind, needle) in [
        (LeafKind::Expired, "Expired"),
        (LeafKind::WrongHost, "NotValidForName"),
    ] {
        let sb = Sandbox::builder()
            .leaf(kind)
            .start()
            .await
            .expect("sandbox");
        let err = probe(&http(&sb), &sb).await.expect_err("refused");
        assert!(
            err.contains(needle) || err.contains("certificate"),
            "{kind:?}: {err}"
        );
    }
}

#[tokio::test]
async fn mutual_tls_needs_a_client_certificate_from_the_ca() {
    let sb = Sandbox::builder()
        .require_client_cert()
        .start()
        .await
        .expect("sandbox");
    assert!(probe(&http(&sb), &sb).await.is_err(), "no client cert");
    let id = sb.client_identity("federation-test").expect("client cert");
    let with = client_with(tls_config(sb.ca_pem(), Some((&id.cert_pem, &id.key_pem))));
    assert_eq!(probe(&with, &sb).await, Ok(200));
}

#[tokio::test]
async fn plain_http_when_asked() {
    let sb = Sandbox::builder().http().start().await.expect("sandbox");
    assert!(sb.is().base_url().starts_with("http://localhost:"));
    let r = reqwest::Client::builder()
        .tls_backend_preconfigured(tls_config(sb.ca_pem(), None))
        .build()
        .expect("client")
        .get(format!("{}/oauth2/jwks", sb.is().base_url()))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
}
