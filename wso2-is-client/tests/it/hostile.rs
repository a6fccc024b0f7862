//! Hostile and broken answers: no panic, typed errors, bounded reading.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wso2_is_client::{ApplicationName, Error, IsClient, RetryPolicy};

fn name() -> ApplicationName {
    ApplicationName::new("x").unwrap()
}

/// A raw HTTP server that answers every connection with `head` and then `body_chunks`, and
/// counts the bytes it managed to write.
async fn raw_server(
    head: String,
    chunk: Vec<u8>,
    chunks: usize,
) -> (String, tokio::task::JoinHandle<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 65536];
        let _ = sock.read(&mut buf).await;
        let mut written = 0usize;
        if sock.write_all(head.as_bytes()).await.is_err() {
            return written;
        }
        for _ in 0..chunks {
            match sock.write_all(&chunk).await {
                Ok(()) => written += chunk.len(),
                Err(_) => break,
            }
        }
        written
    });
    (format!("http://{addr}"), task)
}

fn client(url: &str, limit: usize) -> IsClient {
    IsClient::builder(url)
        .credentials("admin", "admin")
        .allow_http(true)
        .retry(RetryPolicy::none())
        .body_limit(limit)
        .request_timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_declared_1_gib_body_is_refused_before_reading() {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 1073741824\r\n\r\n"
        .to_owned();
    let (url, server) = raw_server(head, vec![b'<'; 64 * 1024], 16 * 1024).await;
    let err = client(&url, 16 * 1024 * 1024)
        .applications()
        .get(&name())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::BodyTooLarge {
                limit: 16_777_216,
                ..
            }
        ),
        "{err}"
    );
    let written = server.await.unwrap();
    assert!(
        written < 64 * 1024 * 1024,
        "the client stopped reading early ({written} bytes written)"
    );
}

#[tokio::test]
async fn an_endless_chunked_body_is_cut_at_the_limit() {
    // 1 GiB offered in chunks without a length: reading stops at the 1 MiB cap.
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nConnection: close\r\n\r\n".to_owned();
    let (url, server) = raw_server(head, vec![b'a'; 64 * 1024], 16 * 1024).await;
    let err = client(&url, 1024 * 1024)
        .applications()
        .get(&name())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::BodyTooLarge {
                limit: 1_048_576,
                ..
            }
        ),
        "{err}"
    );
    let written = server.await.unwrap();
    assert!(
        written < 256 * 1024 * 1024,
        "the client stopped reading early ({written} bytes written)"
    );
}

#[tokio::test]
async fn billion_laughs_is_refused_and_xxe_is_inert() {
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><ns:getApplicationResponse xmlns:ns="http://org.apache.axis2/xsd"><ns:return>&lol3;</ns:return></ns:getApplicationResponse></soapenv:Body></soapenv:Envelope>"#;
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><ns:getApplicationResponse xmlns:ns="http://org.apache.axis2/xsd"><ns:return><ax:applicationName xmlns:ax="urn:m">&x;</ax:applicationName></ns:return></ns:getApplicationResponse></soapenv:Body></soapenv:Envelope>"#;
    let undeclared = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><ns:getApplicationResponse xmlns:ns="http://org.apache.axis2/xsd"><ns:return><ax:applicationName xmlns:ax="urn:m">&x;</ax:applicationName></ns:return></ns:getApplicationResponse></soapenv:Body></soapenv:Envelope>"#;
    for body in [laughs, xxe, undeclared] {
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let (url, _server) = raw_server(head, body.as_bytes().to_vec(), 1).await;
        let err = client(&url, 1024 * 1024)
            .applications()
            .get(&name())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err}");
        let chain = format!("{err} {:?}", std::error::Error::source(&err));
        assert!(
            !chain.contains("root:"),
            "no file content was read: {chain}"
        );
    }
}

#[tokio::test]
async fn a_connection_dropped_mid_body_is_an_unknown_outcome() {
    let head =
        "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 5000\r\n\r\n".to_owned();
    let (url, _server) = raw_server(head, b"<soapenv:Envelope xmlns:soapenv=".to_vec(), 1).await;
    let err = client(&url, 1024 * 1024)
        .applications()
        .delete(&name())
        .await
        .unwrap_err();
    assert!(err.outcome_unknown(), "{err:?}");
    assert_eq!(
        err.dispatch(),
        wso2_is_client::Dispatch::MaybeSent,
        "{err:?}"
    );
}

#[tokio::test]
async fn a_refused_connection_was_not_sent() {
    // Bind then drop to get a port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = client(&format!("http://127.0.0.1:{port}"), 1024)
        .applications()
        .delete(&name())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert_eq!(err.dispatch(), wso2_is_client::Dispatch::NotSent);
    assert!(err.is_retryable());
    assert!(!err.outcome_unknown());
}

#[tokio::test]
async fn a_1_gib_json_answer_is_cut_at_the_limit_on_the_rest_path() {
    // SCIM2 and OIDC answers go through the REST path: the same cap, declared or not. The body is
    // a JSON nesting bomb, which is never parsed since it is never read whole.
    for declared in [true, false] {
        let length = if declared {
            "Content-Length: 1073741824\r\n"
        } else {
            "Connection: close\r\n"
        };
        let head =
            format!("HTTP/1.1 200 OK\r\nContent-Type: application/scim+json\r\n{length}\r\n");
        let (url, server) = raw_server(head, vec![b'['; 64 * 1024], 16 * 1024).await;
        let err = client(&url, 1024 * 1024)
            .scim2()
            .users()
            .get("0a1b")
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::BodyTooLarge {
                    limit: 1_048_576,
                    ..
                }
            ),
            "declared {declared}: {err}"
        );
        let written = server.await.unwrap();
        println!(
            "1 GiB JSON answer (length declared: {declared}): cut at the 1 MiB cap; the server wrote {written} bytes before the client closed"
        );
        assert!(
            written < 256 * 1024 * 1024,
            "declared {declared}: the client stopped reading early ({written} bytes written)"
        );
    }
}
