//! Wiremock helpers and shared checks: a fresh mock server per test with a catch-all that fails
//! loudly, exact SOAP matchers, canned WSO2 answers, canonical XML comparison, TRACE log
//! capture, the SOAP contract check (xmllint and zeep over the real WSDLs), the CI rule for
//! tests that need outside tools, and secret-leak assertions.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use crate::{IsClient, RetryPolicy};
use wiremock::matchers::{header, method, path};
use wiremock::{Match, Mock, MockBuilder, MockServer, Request, ResponseTemplate};

/// Request wrappers of the application, OAuth and UserAdmin services.
pub const AXIS2: &str = "http://org.apache.axis2/xsd";
/// The common application model.
pub const MODEL: &str = "http://model.common.application.identity.carbon.wso2.org/xsd";
/// Request wrappers of IdentityProviderMgtService.
pub const IDP_MGT: &str = "http://mgt.idp.carbon.wso2.org";
/// `OAuthConsumerAppDTO`.
pub const OAUTH_DTO: &str = "http://dto.oauth.identity.carbon.wso2.org/xsd";
/// Request wrappers of RemoteUserStoreManagerService.
pub const UM: &str = "http://service.ws.um.carbon.wso2.org";

/// A fresh mock server whose catch-all answers 599 and fails the test (at drop) for any call
/// that no other mock matched, printing the call.
pub async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(|req: &Request| {
            let action = req
                .headers
                .get("soapaction")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            let line = format!(
                "unexpected call: {} {} SOAPAction={action}",
                req.method,
                req.url.path()
            );
            eprintln!("{line}");
            ResponseTemplate::new(599).set_body_string(line)
        })
        .named("catch-all (a call no mock expected)")
        .with_priority(u8::MAX)
        .expect(0)
        .mount(&server)
        .await;
    server
}

/// A client of the mock server: plain HTTP allowed, no retries.
pub fn client(server: &MockServer) -> IsClient {
    IsClient::builder(server.uri())
        .credentials("admin", "admin-canary-password")
        .allow_http(true)
        .retry(RetryPolicy::none())
        .build()
        .expect("a valid test client")
}

/// POST to `/services/{service}` with `SOAPAction: urn:{op}` and a body whose wrapper element is
/// `{wrapper_ns}op`.
pub fn soap(service: &str, op: &str, wrapper_ns: &str) -> MockBuilder {
    Mock::given(method("POST"))
        .and(path(format!("/services/{service}")))
        .and(header("soapaction", format!("urn:{op}").as_str()))
        .and(header(
            "authorization",
            "Basic YWRtaW46YWRtaW4tY2FuYXJ5LXBhc3N3b3Jk",
        ))
        .and(SoapBody::new(wrapper_ns, op))
}

/// Matches the SOAP body's wrapper element by namespace and local name, and optionally the text
/// of descendant elements by local name.
#[derive(Debug, Clone)]
pub struct SoapBody {
    ns: String,
    local: String,
    texts: Vec<(String, String)>,
}

impl SoapBody {
    /// Matches a wrapper element `{ns}local`.
    pub fn new(ns: &str, local: &str) -> Self {
        Self {
            ns: ns.into(),
            local: local.into(),
            texts: Vec::new(),
        }
    }
}

/// Adds a descendant-text condition to a SOAP matcher.
pub fn soap_with(service: &str, op: &str, wrapper_ns: &str, texts: &[(&str, &str)]) -> MockBuilder {
    let mut m = SoapBody::new(wrapper_ns, op);
    m.texts = texts
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    Mock::given(method("POST"))
        .and(path(format!("/services/{service}")))
        .and(header("soapaction", format!("urn:{op}").as_str()))
        .and(m)
}

impl Match for SoapBody {
    fn matches(&self, request: &Request) -> bool {
        let Ok(text) = std::str::from_utf8(&request.body) else {
            return false;
        };
        let Ok(doc) = roxmltree::Document::parse(text) else {
            return false;
        };
        let Some(wrapper) = body_child(&doc) else {
            return false;
        };
        if wrapper.tag_name().namespace() != Some(self.ns.as_str())
            || wrapper.tag_name().name() != self.local
        {
            return false;
        }
        self.texts.iter().all(|(name, value)| {
            wrapper.descendants().any(|n| {
                n.is_element() && n.tag_name().name() == name && n.text().unwrap_or("") == value
            })
        })
    }
}

/// The first element inside `Envelope/Body`.
pub fn body_child<'a, 'i>(doc: &'a roxmltree::Document<'i>) -> Option<roxmltree::Node<'a, 'i>> {
    let env = doc.root_element();
    let body = env
        .children()
        .find(|n| n.is_element() && n.tag_name().name() == "Body")?;
    body.children().find(|n| n.is_element())
}

/// A WSO2-style answer envelope around `inner`.
pub fn envelope(inner: &str) -> String {
    format!(
        r#"<?xml version='1.0' encoding='UTF-8'?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>{inner}</soapenv:Body></soapenv:Envelope>"#
    )
}

/// `<ns:{op}Response>` with `inner` as its content, HTTP 200, as Axis2 writes it.
pub fn respond(op: &str, ns: &str, inner: &str) -> ResponseTemplate {
    let body = envelope(&format!(
        r#"<ns:{op}Response xmlns:ns="{ns}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">{inner}</ns:{op}Response>"#
    ));
    ResponseTemplate::new(200)
        .insert_header("content-type", "text/xml; charset=UTF-8")
        .set_body_string(body)
}

/// A void operation's answer: `<ns:return xsi:nil="true"/>`.
pub fn respond_void(op: &str, ns: &str) -> ResponseTemplate {
    respond(op, ns, r#"<ns:return xsi:nil="true"/>"#)
}

/// An in-only operation's answer: 202 with an empty body.
pub fn respond_accepted() -> ResponseTemplate {
    ResponseTemplate::new(202)
}

/// A SOAP fault in an HTTP 500, as Axis2 sends it.
pub fn respond_fault(message: &str) -> ResponseTemplate {
    let body = envelope(&format!(
        "<soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>{}</faultstring><detail/></soapenv:Fault>",
        xml_escape(message)
    ));
    ResponseTemplate::new(500)
        .insert_header("content-type", "text/xml; charset=UTF-8")
        .set_body_string(body)
}

/// WSO2's authentication failure fault (code 50977).
pub fn respond_auth_failure() -> ResponseTemplate {
    let body = envelope(
        r#"<soapenv:Fault><faultcode xmlns:axis2ns2="http://wso2.org/carbon/errors">axis2ns2:50977</faultcode><faultstring>Access Denied. Authentication failed - Invalid credentials provided.</faultstring><detail/></soapenv:Fault>"#,
    );
    ResponseTemplate::new(500)
        .insert_header("content-type", "text/xml; charset=UTF-8")
        .set_body_string(body)
}

/// `s` escaped for XML text and attribute values.
pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The request bodies a mock server received for `op`, as parsed documents' canonical forms.
pub async fn bodies_for(server: &MockServer, op: &str) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| {
            r.headers.get("soapaction").and_then(|v| v.to_str().ok()) == Some(&format!("urn:{op}"))
        })
        .map(|r| String::from_utf8(r.body).expect("a UTF-8 request body"))
        .collect()
}

/// A prefix-independent canonical form of an XML document: elements by `{namespace}local`,
/// attributes sorted, whitespace-only text between elements dropped.
pub fn canonical(xml: &str) -> String {
    let doc = roxmltree::Document::parse(xml).expect("well-formed XML");
    let mut out = String::new();
    canon(doc.root_element(), &mut out);
    out
}

fn canon(node: roxmltree::Node<'_, '_>, out: &mut String) {
    let name = node.tag_name();
    out.push('<');
    if let Some(ns) = name.namespace() {
        out.push('{');
        out.push_str(ns);
        out.push('}');
    }
    out.push_str(name.name());
    let mut attrs: Vec<String> = node
        .attributes()
        .map(|a| {
            format!(
                " {{{}}}{}={:?}",
                a.namespace().unwrap_or(""),
                a.name(),
                a.value()
            )
        })
        .collect();
    attrs.sort();
    for a in attrs {
        out.push_str(&a);
    }
    out.push('>');
    let has_elements = node.children().any(|c| c.is_element());
    for child in node.children() {
        if child.is_element() {
            canon(child, out);
        } else if child.is_text() {
            let t = child.text().unwrap_or("");
            if !(has_elements && t.trim().is_empty()) {
                out.push_str(&format!("{t:?}"));
            }
        }
    }
    out.push_str("</>");
}

/// Captures everything the crate logs, at TRACE level, for secret canary checks.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    /// Everything logged so far.
    pub fn contents(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("the capture lock")).into_owned()
    }
}

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("the capture lock")
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Installs, for the current thread, a TRACE subscriber writing into a capture, and returns the
/// capture and its guard.
///
/// A second, silent dispatcher is kept alive for the whole run: while only one subscriber
/// exists, tracing may cache "no interest" in a callsite seen from another test thread and
/// switch the crate's log lines off for everyone, which made captures come back empty.
pub fn capture_logs() -> (LogCapture, tracing::subscriber::DefaultGuard) {
    static KEEP_TWO_DISPATCHERS: std::sync::OnceLock<tracing::Dispatch> =
        std::sync::OnceLock::new();
    KEEP_TWO_DISPATCHERS
        .get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
    let capture = LogCapture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .with_ansi(false)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    (capture, guard)
}

/// One SOAP body this crate can send, for the contract checks (xmllint against the XSDs of the
/// real WSDL, and the differential check against zeep).
#[derive(Debug, Clone)]
pub struct ContractCase {
    /// WSDL file name in `$WSO2_CONTRACTS_DIR/soap`, e.g. `IdentityApplicationManagementService.wsdl`.
    pub wsdl: &'static str,
    /// The operation name.
    pub operation: &'static str,
    /// What is being shown (e.g. "fully populated").
    pub label: &'static str,
    /// The encoded request.
    pub request: crate::carbon::soap::SoapRequest,
    /// `None` when the body must be valid; otherwise the element it carries that this WSDL
    /// lacks, which both checks must refuse (a field newer than the WSDL's version).
    pub refused_element: Option<&'static str>,
}

/// A contract case for `op`, encoded by the crate, checked against the service's WSDL of IS 5.9
/// and APIM 3.0.
pub fn case<O: crate::carbon::soap::Operation>(label: &'static str, op: &O) -> ContractCase {
    case_in(wsdl_of(O::SERVICE), label, op)
}

/// A contract case for `op` checked against the WSDL file `wsdl` (another version of the
/// service's WSDL).
pub fn case_in<O: crate::carbon::soap::Operation>(
    wsdl: &'static str,
    label: &'static str,
    op: &O,
) -> ContractCase {
    ContractCase {
        wsdl,
        operation: O::NAME,
        label,
        request: crate::carbon::soap::encode(op).expect("a contract case encodes"),
        refused_element: None,
    }
}

/// A contract case whose body carries `element`, which the WSDL file `wsdl` lacks: xmllint and
/// zeep must both refuse it, naming the element (what an older server would do with it).
pub fn refused_case_in<O: crate::carbon::soap::Operation>(
    wsdl: &'static str,
    label: &'static str,
    op: &O,
    element: &'static str,
) -> ContractCase {
    ContractCase {
        refused_element: Some(element),
        ..case_in(wsdl, label, op)
    }
}

fn wsdl_of(service: &str) -> &'static str {
    match service {
        "IdentityApplicationManagementService" => "IdentityApplicationManagementService.wsdl",
        "IdentityProviderMgtService" => "IdentityProviderMgtService.wsdl",
        "OAuthAdminService" => "OAuthAdminService.wsdl",
        "RemoteUserStoreManagerService" => "RemoteUserStoreManagerService.wsdl",
        "AuthenticationAdmin" => "AuthenticationAdmin.wsdl",
        "UserAdmin" => "UserAdmin.wsdl",
        other => panic!("no WSDL known for service {other}"),
    }
}

/// Whether `CI` is set to something other than empty, `false` or `0`.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Whether a test that needs an outside tool or file may run. When `missing` names something,
/// the test fails under CI (see [`in_ci`]) and is skipped with a printed reason elsewhere.
pub fn require(test: &str, missing: Option<String>) -> bool {
    match missing {
        None => true,
        Some(what) if in_ci() => panic!("{test}: {what} (required in CI)"),
        Some(what) => {
            skip(test, &what);
            false
        }
    }
}

/// Reports a skipped test where a plain `cargo test` shows it and where `.ci/skips` counts it:
/// `SKIP: test: reason` straight on the process's stderr (libtest captures `eprintln!` of a
/// passing test, which would hide the skip behind `ok`), and the same line appended to
/// `{target}/{profile}/test-skips/{crate}-{test target}.log` (started afresh by the first skip
/// of each run of the binary).
pub fn skip(test: &str, reason: &str) {
    use std::io::Write;
    static STARTED: std::sync::Once = std::sync::Once::new();
    let line = format!("SKIP: {test}: {reason}");
    let _ = writeln!(std::io::stderr().lock(), "{line}");
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    // target/{profile}/deps/{binary}
    let (Some(profile), Some(name)) = (
        exe.parent().and_then(std::path::Path::parent),
        exe.file_stem(),
    ) else {
        return;
    };
    // One file per crate and test target, whatever the build's hash (`it-0123abcd` -> `it`).
    let name = name.to_string_lossy();
    let target = name.rsplit_once('-').map_or(&*name, |(t, _)| t);
    let dir = profile.join("test-skips");
    let file = dir.join(format!("{}-{target}.log", env!("CARGO_PKG_NAME")));
    let _ = std::fs::create_dir_all(&dir);
    STARTED.call_once(|| {
        let _ = std::fs::write(&file, "");
    });
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&file)
    {
        let _ = writeln!(f, "{}: {line}", env!("CARGO_PKG_NAME"));
    }
}

/// The directory of WSO2's contract files: `$WSO2_CONTRACTS_DIR`, or `../shared/contracts` from
/// the repository root.
pub fn contracts_dir() -> std::path::PathBuf {
    match std::env::var_os("WSO2_CONTRACTS_DIR") {
        Some(dir) => dir.into(),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/contracts"),
    }
}

/// The Python interpreter for contract tools: `$WSO2_TEST_PYTHON`, or `python3`.
pub fn python() -> String {
    std::env::var("WSO2_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

fn which(tool: &str) -> Option<String> {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Checks `cases` against the real WSDLs with xmllint and zeep; returns the printed summary, or
/// `None` when the tools are missing outside CI (the test is then skipped with a printed reason).
pub fn check_contract(test: &str, cases: &[ContractCase]) -> Option<String> {
    let contracts = contracts_dir().join("soap");
    let xmllint = which("xmllint");
    let python = python();
    let zeep_ok = Command::new(&python)
        .args(["-c", "import zeep, lxml"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let absent: Vec<&str> = cases
        .iter()
        .map(|c| c.wsdl)
        .chain(["IdentityApplicationManagementService.wsdl"])
        .filter(|w| !contracts.join(w).is_file())
        .collect();
    let missing = if !absent.is_empty() {
        Some(format!(
            "WSO2 contracts not found at {} ({}; set WSO2_CONTRACTS_DIR)",
            contracts.display(),
            absent.join(", ")
        ))
    } else if xmllint.is_none() {
        Some("xmllint not found (apt install libxml2-utils)".to_owned())
    } else if !zeep_ok {
        Some(format!(
            "{python} cannot import zeep and lxml (set WSO2_TEST_PYTHON)"
        ))
    } else {
        None
    };
    if !require(test, missing) {
        return None;
    }

    let job = serde_json::json!({
        "contracts": contracts,
        "xmllint": xmllint.expect("checked above"),
        "cases": cases.iter().enumerate().map(|(i, c)| serde_json::json!({
            "id": i.to_string(),
            "wsdl": c.wsdl,
            "operation": c.operation,
            "body": c.request.body_element(),
        })).collect::<Vec<_>>(),
    });
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/soap_contract.py");
    let mut child = Command::new(&python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the contract tool starts");
    // A tool that dies early closes its input; its stderr (below) then says why.
    let _ = child
        .stdin
        .take()
        .expect("a piped stdin")
        .write_all(job.to_string().as_bytes());
    let out = child.wait_with_output().expect("the contract tool ends");
    assert!(
        out.status.success(),
        "contract tool failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("the contract tool writes JSON");
    let results = report["results"]
        .as_array()
        .expect("the contract tool lists results");
    assert_eq!(results.len(), cases.len(), "one result per case");

    let mut failures = Vec::new();
    let (mut schema_ok, mut zeep_ok, mut refused) = (0, 0, 0);
    let mut per_wsdl: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for (case, result) in cases.iter().zip(results) {
        let label = format!("{} {} ({})", case.wsdl, case.operation, case.label);
        let xmllint = result["xmllint"].as_str().unwrap_or("?");
        let zeep = result["zeep"].as_str().unwrap_or("?");
        match case.refused_element {
            None => {
                *per_wsdl.entry(case.wsdl).or_default() += 1;
                match xmllint {
                    "ok" => schema_ok += 1,
                    other => failures.push(format!("{label}: xmllint: {other}")),
                }
                match zeep {
                    "ok" => zeep_ok += 1,
                    other => failures.push(format!("{label}: zeep: {other}")),
                }
            }
            Some(element) => {
                if xmllint == "ok" || !xmllint.contains(element) {
                    failures.push(format!(
                        "{label}: xmllint should refuse the element {element}: {xmllint}"
                    ));
                } else if zeep == "ok" {
                    failures.push(format!("{label}: zeep should refuse the element {element}"));
                } else {
                    refused += 1;
                }
            }
        }
    }
    let operations: std::collections::BTreeSet<_> =
        cases.iter().map(|c| (c.wsdl, c.operation)).collect();
    assert!(
        failures.is_empty(),
        "contract failures:\n{}",
        failures.join("\n")
    );
    let per_wsdl: Vec<String> = per_wsdl
        .iter()
        .map(|(wsdl, n)| format!("{wsdl}: {n}"))
        .collect();
    Some(format!(
        "{} bodies of {} operations; xmllint --schema valid: {schema_ok}; equal to zeep's body: {zeep_ok}; \
         refused by the older WSDL as expected: {refused}\n  valid bodies per WSDL: {}",
        cases.len(),
        operations.len(),
        per_wsdl.join(", ")
    ))
}

/// `err` and every error in its source chain, each in its Display and Debug forms: all a caller
/// could print of it.
pub fn error_chain(err: &crate::Error) -> String {
    let mut chain = format!("{err} | {err:?}");
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        chain.push_str(&format!(" | {s} | {s:?}"));
        source = s.source();
    }
    chain
}

/// Asserts that none of `canaries` appears in any of `places` (a name and its text).
pub fn assert_no_leaks(places: &[(&str, String)], canaries: &[&str]) {
    for (place, text) in places {
        for canary in canaries {
            assert!(!text.contains(canary), "{canary} leaked into {place}");
        }
    }
}
