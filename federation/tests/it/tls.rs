//! TLS through the real clients and the federation against the testkit's sandboxes (issue 6,
//! item 7): a private CA given as PEM is trusted; an unknown CA, an expired certificate and a
//! wrong host name are refused with a message that says what to do, before any request reaches
//! the server; `danger_accept_invalid_certs` logs a warning; client certificates work against a
//! server that demands them, and their absence is named.

use std::sync::{Arc, Mutex};

use wso2_apim_client::ApimClient;
use wso2_is_client::{Dispatch, Error, IsClient, RetryPolicy, RoleName, TlsProblem};
use wso2_testkit::{LeafKind, Sandbox};

/// A client of `sb`'s IS with the admin credentials and no retries; `f` adds the TLS settings.
fn is_client_with(
    sb: &Sandbox,
    f: impl FnOnce(wso2_is_client::ClientBuilder<IsClient>) -> wso2_is_client::ClientBuilder<IsClient>,
) -> IsClient {
    let admin = sb.is().admin();
    f(IsClient::builder(sb.is().base_url())
        .credentials(admin.username, admin.password)
        .retry(RetryPolicy::none())
        .request_timeout(std::time::Duration::from_secs(10)))
    .build()
    .unwrap()
}

/// One read through the client: does the `admin` role exist?
async fn read(is: &IsClient) -> Result<bool, Error> {
    is.users()
        .role_exists(&RoleName::new("admin").unwrap())
        .await
}

fn no_requests(sb: &Sandbox) -> bool {
    sb.is().requests().is_empty() && sb.apim().requests().is_empty()
}

/// The TLS problem of an error, checked to be a refusal before sending.
fn tls_problem(e: &Error) -> &TlsProblem {
    match e {
        Error::Tls { problem, .. } => {
            assert_eq!(e.dispatch(), Dispatch::NotSent, "{e}");
            problem
        }
        other => panic!("expected a TLS error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_ca_given_as_pem_is_trusted() {
    let sb = Sandbox::start().await.unwrap();
    let is = is_client_with(&sb, |b| b.ca_pem(sb.ca_pem().as_bytes().to_vec()));
    assert!(read(&is).await.unwrap());
    // The same through the APIM client, on the other server.
    let admin = sb.apim().admin();
    let apim: ApimClient = ApimClient::builder(sb.apim().base_url())
        .credentials(admin.username, admin.password)
        .ca_pem(sb.ca_pem().as_bytes().to_vec())
        .build()
        .unwrap();
    assert!(
        apim.roles()
            .exists(&RoleName::new("Internal/subscriber").unwrap())
            .await
            .unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_ca_is_refused_with_what_to_do() {
    let sb = Sandbox::start().await.unwrap();
    let other = Sandbox::builder().http().start().await.unwrap();
    // Another sandbox's CA, and no CA at all (the system's trust store).
    let with_other_ca = is_client_with(&sb, |b| b.ca_pem(other.ca_pem().as_bytes().to_vec()));
    let with_system_roots = is_client_with(&sb, |b| b);
    for (label, is) in [
        ("another CA", with_other_ca),
        ("system roots", with_system_roots),
    ] {
        let e = read(&is).await.unwrap_err();
        assert_eq!(tls_problem(&e), &TlsProblem::UnknownIssuer, "{label}: {e}");
        let message = e.to_string();
        assert!(
            message.contains("not signed by a trusted CA") && message.contains("`ca_pem`"),
            "{label}: {message}"
        );
        assert!(!e.is_retryable(), "{label}: a TLS refusal is not transient");
    }
    assert!(no_requests(&sb), "nothing reached the server");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_certificate_and_a_wrong_host_are_refused_with_what_to_do() {
    for (kind, problem, advice) in [
        (
            LeafKind::Expired,
            TlsProblem::Expired,
            "renew it on the server",
        ),
        (
            LeafKind::WrongHost,
            TlsProblem::HostnameMismatch,
            "use a host name in its subjectAltName",
        ),
    ] {
        let sb = Sandbox::builder().leaf(kind).start().await.unwrap();
        // The CA is trusted: what is refused is the leaf itself.
        let is = is_client_with(&sb, |b| b.ca_pem(sb.ca_pem().as_bytes().to_vec()));
        let e = read(&is).await.unwrap_err();
        assert_eq!(tls_problem(&e), &problem, "{kind:?}: {e}");
        assert!(e.to_string().contains(advice), "{kind:?}: {e}");
        assert!(no_requests(&sb), "{kind:?}: nothing reached the server");
    }
}

/// Collects what the clients log, for the warning check.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// A WARN subscriber writing into a buffer, as this thread's default. A second, silent
/// dispatcher is kept alive so that tracing does not cache "no interest" in the warning's
/// callsite when another test's thread meets it first without a subscriber.
fn capture_warnings() -> (Captured, tracing::subscriber::DefaultGuard) {
    static KEEP_TWO_DISPATCHERS: std::sync::OnceLock<tracing::Dispatch> =
        std::sync::OnceLock::new();
    KEEP_TWO_DISPATCHERS
        .get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    (captured, guard)
}

#[tokio::test(flavor = "current_thread")]
async fn turning_verification_off_logs_a_warning_and_accepts_any_certificate() {
    let (captured, _guard) = capture_warnings();
    // Wrong host, expired, and (no CA given) an unknown issuer: each accepted, each client
    // announced by a warning when it is built.
    for kind in [LeafKind::WrongHost, LeafKind::Expired, LeafKind::Good] {
        let sb = Sandbox::builder().leaf(kind).start().await.unwrap();
        let before = captured.text().len();
        let is = is_client_with(&sb, |b| b.danger_accept_invalid_certs(true));
        let logged = captured.text()[before..].to_owned();
        assert!(
            logged.contains("WARN") && logged.contains("verification is OFF"),
            "{kind:?}: {logged:?}"
        );
        assert!(read(&is).await.unwrap(), "{kind:?}");
    }
    // Without the option, building a client logs nothing at WARN.
    let sb = Sandbox::start().await.unwrap();
    let before = captured.text().len();
    is_client_with(&sb, |b| b.ca_pem(sb.ca_pem().as_bytes().to_vec()));
    assert_eq!(captured.text().len(), before, "{}", captured.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_work_against_a_server_that_demands_them() {
    let sb = Sandbox::builder()
        .require_client_cert()
        .start()
        .await
        .unwrap();
    let id = sb.client_identity("wso2-federation-test").unwrap();
    let with = is_client_with(&sb, |b| {
        b.ca_pem(sb.ca_pem().as_bytes().to_vec())
            .client_identity_pem(id.cert_pem.clone(), id.key_pem.clone())
    });
    assert!(read(&with).await.unwrap());
    sb.clear_requests();

    // Without one, the error says to give one.
    let without = is_client_with(&sb, |b| b.ca_pem(sb.ca_pem().as_bytes().to_vec()));
    let e = read(&without).await.unwrap_err();
    // The server's refusal arrives as its alert, or (TLS 1.3, after the client finished the
    // handshake) as the connection closing before the request went out: both say what to do.
    assert!(
        matches!(
            tls_problem(&e),
            TlsProblem::ClientCertificate | TlsProblem::ClosedBeforeRequest
        ),
        "{e}"
    );
    assert!(e.to_string().contains("`client_identity_pem`"), "{e}");

    // A certificate from another CA is refused the same way.
    let other = Sandbox::builder().http().start().await.unwrap();
    let foreign = other.client_identity("intruder").unwrap();
    let with_foreign = is_client_with(&sb, |b| {
        b.ca_pem(sb.ca_pem().as_bytes().to_vec())
            .client_identity_pem(foreign.cert_pem.clone(), foreign.key_pem.clone())
    });
    let e = read(&with_foreign).await.unwrap_err();
    assert!(
        matches!(
            tls_problem(&e),
            TlsProblem::ClientCertificate | TlsProblem::ClosedBeforeRequest
        ),
        "{e}"
    );
    assert!(e.to_string().contains("`client_identity_pem`"), "{e}");
    assert!(no_requests(&sb), "refused handshakes reached no service");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_federation_reports_tls_refusals_with_the_fix_and_changes_nothing() {
    use crate::support::{TempJournal, seed_builder};
    for (label, kind, foreign_ca, advice) in [
        ("unknown CA", LeafKind::Good, true, "`ca_pem`"),
        (
            "expired",
            LeafKind::Expired,
            false,
            "renew it on the server",
        ),
        (
            "wrong host",
            LeafKind::WrongHost,
            false,
            "use a host name in its subjectAltName",
        ),
    ] {
        let sb = Sandbox::builder().leaf(kind).start().await.unwrap();
        let other = Sandbox::builder().http().start().await.unwrap();
        let ca = if foreign_ca {
            other.ca_pem()
        } else {
            sb.ca_pem()
        };
        fn builder<C: wso2_is_client::FromCarbon>(
            server: &wso2_testkit::SimServer,
            ca: &str,
        ) -> wso2_is_client::ClientBuilder<C> {
            let admin = server.admin();
            wso2_is_client::ClientBuilder::new(server.base_url())
                .credentials(admin.username, admin.password)
                .ca_pem(ca.as_bytes().to_vec())
                .retry(RetryPolicy::none())
        }
        let is: IsClient = builder(sb.is(), ca).build().unwrap();
        let apim: ApimClient = builder(sb.apim(), ca).build().unwrap();
        let fed = seed_builder(&sb).is(is).apim(apim).build().unwrap();

        let report = fed.doctor().await;
        assert!(!report.is_ok(), "{label}");
        let text = report.to_string();
        assert!(
            text.contains("FAIL] IS connection") && text.contains(advice),
            "{label}:\n{text}"
        );

        let journal = TempJournal::new();
        let e = fed.apply(&journal.options()).await.unwrap_err();
        let mut chain = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            chain.push_str(&format!(": {s}"));
            source = s.source();
        }
        assert!(chain.contains(advice), "{label}: {chain}");
        assert!(no_requests(&sb), "{label}: nothing reached the servers");
    }
}
