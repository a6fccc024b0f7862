//! One simulated server (IS or APIM): the request pipeline (log, latency, faults, dispatch), the
//! HTTP(S) listener, and [`SimServer`], the handle tests use to observe and steer it.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::control::{ActiveRule, FaultKind, FaultRule, Quirks, RequestRecord, TrafficStats};
use crate::state::{OidcScope, RoleRecord, SUPER_TENANT, Snapshot, TenantState, UserRecord};
use crate::version::{ApimVersion, IsVersion, SoapAvailability};
use crate::{oidc, portal, rest, scim2, scim2_roles, soap};

/// The releases a sandbox simulates, and the deployment switches that follow from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Profile {
    /// The Identity Server release.
    pub(crate) is: IsVersion,
    /// The API Manager release.
    pub(crate) apim: ApimVersion,
    /// Whether IS's SOAP admin services answer.
    pub(crate) is_soap: SoapAvailability,
}

impl Default for Profile {
    fn default() -> Self {
        Self {
            is: IsVersion::default(),
            apim: ApimVersion::default(),
            is_soap: IsVersion::default().soap_default(),
        }
    }
}

/// Which product a server simulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServerKind {
    /// WSO2 Identity Server: SOAP admin services, the management REST API, SCIM2, OAuth2/OIDC.
    Is,
    /// WSO2 API Manager: SOAP admin services, OAuth2/OIDC, DCR, the portals.
    Apim,
}

impl ServerKind {
    /// `"is"` or `"apim"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ServerKind::Is => "is",
            ServerKind::Apim => "apim",
        }
    }
}

/// A user name and password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User name as the server expects it (`admin`, `admin@example.com`).
    pub username: String,
    /// Password.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Who a request is authenticated as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Principal {
    pub(crate) tenant: String,
    pub(crate) user: String,
}

/// The mutable core of a server: stored objects plus volatile protocol state.
pub(crate) struct Core {
    pub(crate) tenants: BTreeMap<String, TenantState>,
    pub(crate) next_app_id: u64,
    pub(crate) next_idp_id: u64,
    pub(crate) sessions: HashMap<String, Principal>,
    pub(crate) oidc: oidc::OidcState,
    pub(crate) counter: u64,
}

impl Core {
    /// A fresh unique token (hex, 32 chars).
    pub(crate) fn random_hex(&mut self, bytes: usize) -> String {
        use ring::rand::SecureRandom;
        let mut buf = vec![0u8; bytes];
        if ring::rand::SystemRandom::new().fill(&mut buf).is_err() {
            self.counter += 1;
            return format!("{:0width$x}", self.counter, width = bytes * 2);
        }
        buf.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A fresh UUID-shaped id.
    pub(crate) fn uuid(&mut self) -> String {
        let h = self.random_hex(16);
        format!(
            "{}-{}-4{}-a{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..32]
        )
    }

    /// The tenant, if it exists.
    pub(crate) fn tenant(&self, domain: &str) -> Option<&TenantState> {
        self.tenants.get(domain)
    }

    /// The tenant, mutably (created empty if missing).
    pub(crate) fn tenant_mut(&mut self, domain: &str) -> &mut TenantState {
        self.tenants.entry(domain.to_owned()).or_default()
    }
}

/// An HTTP request, fully read.
pub(crate) struct SimRequest {
    /// Whether the TLS client presented a certificate.
    pub(crate) client_cert: bool,
    pub(crate) method: http::Method,
    pub(crate) path: String,
    pub(crate) query: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl SimRequest {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn body_str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    /// Query parameters, decoded.
    pub(crate) fn query_params(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .into_owned()
            .collect()
    }

    /// Form body parameters, decoded.
    pub(crate) fn form_params(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(&self.body)
            .into_owned()
            .collect()
    }
}

/// An answer before it is put on the wire.
#[derive(Debug, Clone)]
pub(crate) struct SimResponse {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    /// Set by handlers whose effect decides mutation (portal logins).
    pub(crate) mutated: Option<bool>,
}

impl SimResponse {
    pub(crate) fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
            mutated: None,
        }
    }

    pub(crate) fn json(status: u16, v: &serde_json::Value) -> Self {
        Self::new(status, "application/json", v.to_string())
    }

    pub(crate) fn text(status: u16, body: &str) -> Self {
        Self::new(status, "text/plain", body.to_owned())
    }

    pub(crate) fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            mutated: None,
        }
    }

    pub(crate) fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub(crate) fn redirect(location: &str) -> Self {
        Self::empty(302).header("Location", location)
    }
}

/// What kind of request this is, decided before it runs.
pub(crate) struct Route {
    pub(crate) action: String,
    pub(crate) mutating: bool,
    pub(crate) family: Family,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Soap,
    Json,
    /// IS's management REST API (errors are `{code, message, description, traceId}`).
    Rest,
    /// APIM's REST APIs (DCR, publisher; errors are `{code, message, description, moreInfo, error}`).
    ApimRest,
    Html,
}

pub(crate) struct ControlState {
    pub(crate) rules: Vec<ActiveRule>,
    pub(crate) log: Vec<RequestRecord>,
    pub(crate) requests: u64,
    pub(crate) mutating: u64,
    pub(crate) fired: u64,
    pub(crate) quirks: Quirks,
    pub(crate) latency: Duration,
}

pub(crate) struct Inner {
    pub(crate) kind: ServerKind,
    pub(crate) base_url: Mutex<String>,
    pub(crate) addr: Mutex<Option<SocketAddr>>,
    pub(crate) started: Instant,
    pub(crate) core: Mutex<Core>,
    pub(crate) control: Mutex<ControlState>,
    pub(crate) in_flight: AtomicUsize,
    pub(crate) max_in_flight: AtomicUsize,
    pub(crate) seq: AtomicU64,
    pub(crate) admin_password: String,
    /// The simulated releases.
    pub(crate) profile: Profile,
    /// The other server's base URL (APIM needs IS's and its own for portal SPs).
    pub(crate) peer_base_url: Mutex<String>,
    /// The other server of the sandbox, for server-to-server calls.
    pub(crate) peer: Mutex<std::sync::Weak<Inner>>,
    /// Whether this server's TLS connector asks for client certificates.
    pub(crate) client_auth: Mutex<crate::tls::ClientAuth>,
    /// Arrival order across both servers of a sandbox ([`RequestRecord::hop`]).
    pub(crate) clock: Arc<AtomicU64>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Default local roles of each product (IS 5.9 / APIM 3.0 fresh packs).
pub(crate) fn default_roles(kind: ServerKind) -> &'static [&'static str] {
    match kind {
        ServerKind::Is => &[
            "admin",
            "Internal/everyone",
            "Internal/system",
            "Internal/selfsignup",
            "Internal/analytics",
        ],
        ServerKind::Apim => &[
            "admin",
            "Internal/everyone",
            "Internal/subscriber",
            "Internal/publisher",
            "Internal/creator",
            "Internal/admin",
            "Internal/analytics",
            "Internal/devops",
            "Internal/integration_dev",
            "Internal/selfsignup",
            "Internal/system",
        ],
    }
}

impl Inner {
    pub(crate) fn new(
        kind: ServerKind,
        admin_password: &str,
        tenants: &[String],
        profile: Profile,
        clock: Arc<AtomicU64>,
    ) -> Arc<Self> {
        let inner = Arc::new(Self {
            kind,
            base_url: Mutex::new(String::new()),
            addr: Mutex::new(None),
            started: Instant::now(),
            core: Mutex::new(Core {
                tenants: BTreeMap::new(),
                next_app_id: 1,
                next_idp_id: 1,
                sessions: HashMap::new(),
                oidc: oidc::OidcState::new(),
                counter: 0,
            }),
            control: Mutex::new(ControlState {
                rules: Vec::new(),
                log: Vec::new(),
                requests: 0,
                mutating: 0,
                fired: 0,
                quirks: Quirks::default(),
                latency: Duration::ZERO,
            }),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            seq: AtomicU64::new(0),
            admin_password: admin_password.to_owned(),
            profile,
            peer_base_url: Mutex::new(String::new()),
            peer: Mutex::new(std::sync::Weak::new()),
            client_auth: Mutex::new(crate::tls::ClientAuth::None),
            clock,
        });
        inner.add_tenant(SUPER_TENANT, admin_password);
        for t in tenants {
            inner.add_tenant(t, admin_password);
        }
        inner
    }

    pub(crate) fn add_tenant(&self, domain: &str, admin_password: &str) {
        let mut core = lock(&self.core);
        if core.tenants.contains_key(domain) {
            return;
        }
        let now = crate::state::now_rfc3339();
        let admin_id = core.uuid();
        let mut t = TenantState::default();
        t.users.insert(
            "admin".into(),
            UserRecord {
                password_sha256: crate::state::sha256_hex(admin_password),
                claims: BTreeMap::new(),
                scim_id: admin_id,
                scim: None,
                created: now.clone(),
                modified: now.clone(),
            },
        );
        for r in default_roles(self.kind) {
            let id = core.uuid();
            let mut users = std::collections::BTreeSet::new();
            if *r == "admin" || *r == "Internal/admin" {
                users.insert("admin".to_owned());
            }
            t.roles.insert(
                (*r).to_owned(),
                RoleRecord {
                    audience: None,
                    groups: Default::default(),
                    users,
                    permissions: if *r == "admin" {
                        vec!["/permission".into()]
                    } else {
                        Vec::new()
                    },
                    scim_id: id,
                    created: now.clone(),
                    modified: now.clone(),
                },
            );
        }
        if self.kind == ServerKind::Is {
            for (name, claims) in self.profile.is.default_scopes() {
                t.oidc_scopes.insert(
                    name.to_owned(),
                    OidcScope {
                        display_name: name.to_owned(),
                        description: None,
                        claims: claims.into_iter().map(str::to_owned).collect(),
                    },
                );
            }
        }
        core.tenants.insert(domain.to_owned(), t);
    }

    pub(crate) fn base_url(&self) -> String {
        lock(&self.base_url).clone()
    }

    pub(crate) fn quirks(&self) -> Quirks {
        lock(&self.control).quirks.clone()
    }

    /// Checks Basic credentials (`user[@tenant]:password`) against the tenant user stores.
    pub(crate) fn check_password(&self, username: &str, password: &str) -> Option<Principal> {
        let (user, tenant) = split_tenant(username);
        let core = lock(&self.core);
        let t = core.tenant(&tenant)?;
        let rec = t.users.get(&user)?;
        (rec.password_sha256 == crate::state::sha256_hex(password))
            .then_some(Principal { tenant, user })
    }

    /// Whether `p` may use the admin services (holds `admin` in its tenant).
    pub(crate) fn is_admin(&self, p: &Principal) -> bool {
        let core = lock(&self.core);
        core.tenant(&p.tenant)
            .and_then(|t| t.roles.get("admin"))
            .is_some_and(|r| r.users.contains(&p.user))
    }

    /// The principal of a request: HTTP Basic, else the JSESSIONID session.
    pub(crate) fn principal(&self, req: &SimRequest) -> Result<Principal, AuthProblem> {
        if let Some(auth) = req.header("authorization") {
            let Some((user, pass)) = parse_basic(auth) else {
                return Err(AuthProblem::Missing);
            };
            if user.is_empty() || pass.is_empty() {
                return Err(AuthProblem::Missing);
            }
            return self
                .check_password(&user, &pass)
                .ok_or(AuthProblem::BadCredentials);
        }
        if let Some(sid) = session_cookie(req) {
            let core = lock(&self.core);
            if let Some(p) = core.sessions.get(&sid) {
                return Ok(p.clone());
            }
        }
        Err(AuthProblem::Missing)
    }
}

/// Why a request is not authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthProblem {
    /// No usable Basic header and no valid session: Carbon answers HTTP 401.
    Missing,
    /// Basic credentials that do not match: SOAP fault 50977.
    BadCredentials,
}

/// `user@tenant` -> (user, tenant); no `@` (or an unknown-looking one) means the super tenant.
pub(crate) fn split_tenant(username: &str) -> (String, String) {
    match username.rsplit_once('@') {
        Some((u, t)) if t.contains('.') => (u.to_owned(), t.to_owned()),
        _ => (username.to_owned(), SUPER_TENANT.to_owned()),
    }
}

pub(crate) fn parse_basic(header: &str) -> Option<(String, String)> {
    use base64::Engine as _;
    let b64 = header
        .strip_prefix("Basic ")
        .or_else(|| header.strip_prefix("basic "))?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (u, p) = s.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}

pub(crate) fn session_cookie(req: &SimRequest) -> Option<String> {
    let c = req.header("cookie")?;
    c.split(';')
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == "JSESSIONID")
        .map(|(_, v)| v.to_owned())
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The body type the listener sends: complete, or cut short on purpose.
pub(crate) enum SimBody {
    Full(Option<Bytes>),
    Truncated(Option<Bytes>),
}

impl http_body::Body for SimBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        std::task::Poll::Ready(match this {
            SimBody::Full(b) => b.take().map(|b| Ok(http_body::Frame::data(b))),
            SimBody::Truncated(b) => match b.take() {
                Some(b) => Some(Ok(http_body::Frame::data(b))),
                None => Some(Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "truncated on purpose",
                ))),
            },
        })
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, SimBody::Full(None))
    }

    fn size_hint(&self) -> http_body::SizeHint {
        match self {
            SimBody::Full(Some(b)) => http_body::SizeHint::with_exact(b.len() as u64),
            SimBody::Full(None) => http_body::SizeHint::with_exact(0),
            SimBody::Truncated(_) => http_body::SizeHint::default(),
        }
    }
}

/// Whether the connection's TLS client presented a certificate (request extension).
#[derive(Debug, Clone, Copy)]
struct ClientCert(bool);

/// The connection is dropped without an answer.
#[derive(Debug)]
pub(crate) struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose")
    }
}

impl std::error::Error for Dropped {}

struct InFlight<'a>(&'a Inner);

impl<'a> InFlight<'a> {
    fn enter(inner: &'a Inner) -> Self {
        let now = inner.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        inner.max_in_flight.fetch_max(now, Ordering::SeqCst);
        Self(inner)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Largest request body read (larger ones get 413).
const MAX_BODY: usize = 32 * 1024 * 1024;

/// A request one simulated server makes to another (or to itself), through the target's
/// pipeline: logged there with `via`, subject to its fault rules, never counted as client traffic.
pub(crate) struct Internal {
    /// The action to log and match fault rules against, instead of the route's.
    pub(crate) action: Option<String>,
    /// The calling server (`"apim"`).
    pub(crate) via: &'static str,
}

/// The future of one request through the pipeline.
pub(crate) type Processing<'a> = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<(SimResponse, bool), Dropped>> + Send + 'a>,
>;

/// Why a server-to-server call got no HTTP answer, in the words Java's HTTP client uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unreachable(pub(crate) String);

impl Inner {
    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Result<Response<SimBody>, Dropped> {
        let (parts, body) = req.into_parts();
        let body = match http_body_util::Limited::new(body, MAX_BODY).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => return Ok(to_http(SimResponse::text(413, "Request Entity Too Large"))),
        };
        let req = SimRequest {
            client_cert: parts.extensions.get::<ClientCert>().is_some_and(|c| c.0),
            method: parts.method,
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().unwrap_or("").to_owned(),
            headers: parts.headers,
            body,
        };
        if req.path.starts_with("/__sim/") {
            return Ok(to_http(crate::api::handle(&self, &req)));
        }
        match self.process(req, None).await {
            Ok((r, true)) => Ok(to_http_truncated(r)),
            Ok((r, false)) => Ok(to_http(r)),
            Err(d) => Err(d),
        }
    }

    /// One request through the pipeline: route, log, latency, faults, dispatch. `internal` is set
    /// for the servers' own calls (no latency, no in-flight count, not client traffic).
    pub(crate) fn process(
        self: &Arc<Self>,
        req: SimRequest,
        internal: Option<Internal>,
    ) -> Processing<'_> {
        Box::pin(async move {
            let mut route = self.route(&req);
            let legacy = crate::names::legacy(&route.action, &req.path);
            if let Some(a) = internal.as_ref().and_then(|i| i.action.clone()) {
                route.action = a;
            }
            let via = internal.as_ref().map(|i| i.via.to_owned());
            let is_internal = via.is_some();
            let seq = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
            let hop = self.clock.fetch_add(1, Ordering::SeqCst) + 1;
            let latency = {
                let mut c = lock(&self.control);
                if !is_internal {
                    c.requests += 1;
                }
                c.log.push(RequestRecord {
                    seq,
                    method: req.method.to_string(),
                    path: req.path.clone(),
                    query: req.query.clone(),
                    soap_action: req.header("soapaction").map(str::to_owned),
                    action: route.action.clone(),
                    mutating: route.mutating,
                    body: req.body_str().into_owned(),
                    at_unix_ms: unix_ms(),
                    at_ms: self.started.elapsed().as_millis() as u64,
                    status: None,
                    fault: None,
                    via: via.clone(),
                    note: None,
                    hop,
                });
                if is_internal {
                    Duration::ZERO
                } else {
                    c.latency
                }
            };
            let _guard = (!is_internal).then(|| InFlight::enter(self));
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            let (fault, hang) = {
                let mut c = lock(&self.control);
                let mut fault = None;
                for r in c.rules.iter_mut() {
                    if r.hit(&route.action, legacy, route.mutating, is_internal) && fault.is_none()
                    {
                        fault = Some(r.rule.kind.clone());
                    }
                }
                if fault.is_some() {
                    c.fired += 1;
                    if let Some(rec) = c.log.iter_mut().rev().find(|r| r.seq == seq) {
                        rec.fault = fault.clone();
                    }
                }
                (fault, c.quirks.hang)
            };
            let outcome = self.answer(&req, &route, fault.clone(), hang, seq).await;
            let mut c = lock(&self.control);
            let (status, mutated) = match &outcome {
                Ok((r, _)) => (Some(r.status), r.mutated),
                Err(_) => (None, None),
            };
            let mutating = mutated.unwrap_or(route.mutating);
            if mutating && !is_internal {
                c.mutating += 1;
            }
            if let Some(rec) = c.log.iter_mut().rev().find(|r| r.seq == seq) {
                rec.status = status;
                rec.fault = fault;
                rec.mutating = mutating;
            }
            outcome
        })
    }

    /// Writes what the server "logged" about request `seq` (its carbon log line).
    pub(crate) fn note(&self, seq: u64, note: impl Into<String>) {
        let mut c = lock(&self.control);
        if let Some(rec) = c.log.iter_mut().rev().find(|r| r.seq == seq) {
            rec.note = Some(note.into());
        }
    }

    /// Logs an internal step that is not an HTTP request (APIM's JIT provisioning) and returns
    /// the fault a rule injects at it, if any. `path` says where it runs (`/commonauth`).
    pub(crate) fn step(
        &self,
        action: &str,
        path: &str,
        via: &'static str,
    ) -> (u64, Option<FaultKind>) {
        let seq = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        let hop = self.clock.fetch_add(1, Ordering::SeqCst) + 1;
        let mut c = lock(&self.control);
        let mut fault = None;
        for r in c.rules.iter_mut() {
            if r.hit(action, None, true, true) && fault.is_none() {
                fault = Some(r.rule.kind.clone());
            }
        }
        if fault.is_some() {
            c.fired += 1;
        }
        c.log.push(RequestRecord {
            seq,
            method: "INTERNAL".into(),
            path: path.to_owned(),
            query: String::new(),
            soap_action: None,
            action: action.to_owned(),
            mutating: true,
            body: String::new(),
            at_unix_ms: unix_ms(),
            at_ms: self.started.elapsed().as_millis() as u64,
            status: None,
            fault: fault.clone(),
            via: Some(via.to_owned()),
            note: None,
            hop,
        });
        (seq, fault)
    }

    /// Sets the outcome of an internal step logged by [`Inner::step`].
    pub(crate) fn step_done(&self, seq: u64, ok: bool, mutated: bool, note: Option<String>) {
        let mut c = lock(&self.control);
        if let Some(rec) = c.log.iter_mut().rev().find(|r| r.seq == seq) {
            rec.status = Some(if ok { 200 } else { 500 });
            rec.mutating = mutated;
            if note.is_some() {
                rec.note = note;
            }
        }
    }

    /// The server a URL addresses, if it is one of the sandbox's (same scheme and port; host
    /// `localhost`, `127.0.0.1` or the bound host).
    pub(crate) fn server_for(self: &Arc<Self>, url: &url::Url) -> Option<Arc<Inner>> {
        let mut candidates = vec![self.clone()];
        if let Some(p) = lock(&self.peer).upgrade() {
            candidates.push(p);
        }
        candidates.into_iter().find(|s| {
            let Ok(base) = url::Url::parse(&s.base_url()) else {
                return false;
            };
            let local = |h: Option<&str>| matches!(h, Some("localhost" | "127.0.0.1"));
            base.scheme() == url.scheme()
                && base.port_or_known_default() == url.port_or_known_default()
                && (base.host_str() == url.host_str()
                    || (local(base.host_str()) && local(url.host_str())))
        })
    }

    /// A call this server makes to `url` (another sandbox server or itself), as its HTTP client
    /// would: the request runs through the target's pipeline. Anything outside the sandbox is
    /// unreachable. The call presents a client certificate when the target's connector asks for
    /// one (as APIM's JVM does with its keystore).
    pub(crate) async fn outbound(
        self: &Arc<Self>,
        method: http::Method,
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
        action: Option<&str>,
    ) -> Result<SimResponse, Unreachable> {
        let Ok(parsed) = url::Url::parse(url) else {
            return Err(Unreachable(format!(
                "java.net.MalformedURLException: no protocol: {url}"
            )));
        };
        let Some(target) = self.server_for(&parsed) else {
            return Err(Unreachable(format!(
                "java.net.ConnectException: Connection refused ({})",
                parsed.host_str().unwrap_or_default()
            )));
        };
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            if let (Ok(name), Ok(value)) = (
                http::header::HeaderName::from_bytes(k.as_bytes()),
                http::HeaderValue::from_str(v),
            ) {
                map.append(name, value);
            }
        }
        let client_cert = parsed.scheme() == "https"
            && *lock(&target.client_auth) != crate::tls::ClientAuth::None;
        let req = SimRequest {
            client_cert,
            method,
            path: parsed.path().to_owned(),
            query: parsed.query().unwrap_or("").to_owned(),
            headers: map,
            body: Bytes::from(body),
        };
        let via = self.kind.as_str();
        match target
            .process(
                req,
                Some(Internal {
                    action: action.map(str::to_owned),
                    via,
                }),
            )
            .await
        {
            Ok((r, false)) => Ok(r),
            Ok((_, true)) => Err(Unreachable(
                "org.apache.http.ConnectionClosedException: Premature end of Content-Length delimited message body".into(),
            )),
            Err(Dropped) => Err(Unreachable("java.net.SocketException: Connection reset".into())),
        }
    }

    async fn answer(
        self: &Arc<Self>,
        req: &SimRequest,
        route: &Route,
        fault: Option<FaultKind>,
        hang: Duration,
        seq: u64,
    ) -> Result<(SimResponse, bool), Dropped> {
        let Some(kind) = fault else {
            return Ok((self.dispatch(req, route, seq).await, false));
        };
        match kind {
            FaultKind::SoapFault { message } => Ok((error_answer(route, &message), false)),
            FaultKind::PlainText500 => Ok((
                SimResponse::text(500, "Internal Server Error: injected by wso2-testkit"),
                false,
            )),
            FaultKind::ConnectionReset => Err(Dropped),
            FaultKind::TimeoutBeforeCommit => {
                tokio::time::sleep(hang).await;
                Err(Dropped)
            }
            FaultKind::TimeoutAfterCommit => {
                let _ = self.dispatch(req, route, seq).await;
                tokio::time::sleep(hang).await;
                Err(Dropped)
            }
            FaultKind::MalformedBody => {
                let mut r = self.dispatch(req, route, seq).await;
                let cut = (r.body.len() / 2).max(1).min(r.body.len());
                r.body.truncate(cut);
                if r.body.is_empty() {
                    r.body = b"<soapenv:Envelope xmlns:soapenv=".to_vec();
                }
                r.status = 200;
                Ok((r, false))
            }
            FaultKind::TruncatedBody => {
                let mut r = self.dispatch(req, route, seq).await;
                if r.body.is_empty() {
                    r.body = b"<soapenv:Envelope/>".to_vec();
                    r.status = 200;
                }
                Ok((r, true))
            }
            FaultKind::Unauthorized => Ok((
                SimResponse::text(401, "Unauthorized")
                    .header("WWW-Authenticate", "Basic realm=\"WSO2\""),
                false,
            )),
            FaultKind::AuthFailureFault => {
                Ok((soap::auth_failure("Authentication failure"), false))
            }
            FaultKind::SoapFaultIn200 { message } => {
                let mut r = error_answer(route, &message);
                r.status = 200;
                Ok((r, false))
            }
            FaultKind::HtmlLoginPage => Ok((
                SimResponse::new(
                    200,
                    "text/html;charset=UTF-8",
                    "<!DOCTYPE html><html><head><title>WSO2 Management Console</title></head><body><form action=\"../admin/login_action.jsp\" method=\"POST\"><input type=\"text\" name=\"username\"/><input type=\"password\" name=\"password\"/></form></body></html>",
                ),
                false,
            )),
            FaultKind::ServerErrorAfterCommit => {
                let _ = self.dispatch(req, route, seq).await;
                Ok((
                    error_answer(
                        route,
                        "Internal error after commit (injected by wso2-testkit)",
                    ),
                    false,
                ))
            }
        }
    }

    fn route(&self, req: &SimRequest) -> Route {
        let p = req.path.as_str();
        if p.starts_with("/services/") {
            return soap::route(req);
        }
        if let Some(r) = rest::route(self, req) {
            return r;
        }
        if let Some(r) = scim2_roles::route(self, req) {
            return r;
        }
        if let Some(r) = scim2::route(self.kind, req) {
            return r;
        }
        if let Some(r) = crate::dcr::route(self, req) {
            return r;
        }
        if let Some(r) = oidc::route(self.kind, req) {
            return r;
        }
        if let Some(r) = portal::route(self, req) {
            return r;
        }
        Route {
            action: format!("unknown {} {}", req.method, req.path),
            mutating: false,
            family: Family::Html,
        }
    }

    async fn dispatch(self: &Arc<Self>, req: &SimRequest, _route: &Route, seq: u64) -> SimResponse {
        let p = req.path.as_str();
        if p.starts_with("/services/") {
            return soap::handle(self, req);
        }
        // By what the path is, not by the action an internal call logs it as (`portal.token` is
        // APIM's own token endpoint).
        let routed = self.route(req);
        let a = routed.action.as_str();
        if a.starts_with("rest.") {
            return rest::handle(self, req, a);
        }
        if a.starts_with("scim2.roles.") {
            return scim2_roles::handle(self, req, a);
        }
        if a.starts_with("scim2.") {
            return scim2::handle(self, req, a);
        }
        if a == "apim.dcr" {
            return crate::dcr::handle(self, req);
        }
        if a.starts_with("portal.") {
            return portal::handle(self, req, a, seq).await;
        }
        if a.starts_with("is.") || a.starts_with("apim.") {
            return oidc::handle(self, req, a, seq).await;
        }
        SimResponse::new(
            404,
            "text/html",
            format!(
                "<html><body><h1>HTTP Status 404 - Not Found</h1><p>{}</p></body></html>",
                crate::xml::escape(&req.path)
            ),
        )
    }
}

fn error_answer(route: &Route, message: &str) -> SimResponse {
    match route.family {
        Family::Soap => soap::server_fault(message),
        Family::Rest => rest::error(500, "SE-50000", "Unexpected Processing Error.", message),
        Family::ApimRest => crate::dcr::apim_error(500, "Internal server error", message),
        Family::Json | Family::Html => SimResponse::json(
            500,
            &serde_json::json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "detail": message,
                "status": "500"
            }),
        ),
    }
}

fn to_http(r: SimResponse) -> Response<SimBody> {
    let mut b = Response::builder().status(r.status);
    for (k, v) in &r.headers {
        b = b.header(k.as_str(), v.as_str());
    }
    b.body(SimBody::Full(Some(Bytes::from(r.body))))
        .unwrap_or_else(|_| Response::new(SimBody::Full(None)))
}

fn to_http_truncated(r: SimResponse) -> Response<SimBody> {
    let full = r.body.len();
    let half = full / 2;
    let mut b = Response::builder().status(r.status);
    for (k, v) in &r.headers {
        b = b.header(k.as_str(), v.as_str());
    }
    b = b.header("Content-Length", (full + 64).to_string());
    let mut body = r.body;
    body.truncate(half);
    b.body(SimBody::Truncated(Some(Bytes::from(body))))
        .unwrap_or_else(|_| Response::new(SimBody::Full(None)))
}

/// Listener options for one server.
#[derive(Clone)]
pub(crate) struct ListenOptions {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) tls: Option<Arc<rustls::ServerConfig>>,
}

/// Binds and serves `inner` until `shutdown` turns true. Returns the bound address.
pub(crate) async fn listen(
    inner: Arc<Inner>,
    opts: ListenOptions,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind((opts.host.as_str(), opts.port)).await?;
    let addr = listener.local_addr()?;
    *lock(&inner.addr) = Some(addr);
    let scheme = if opts.tls.is_some() { "https" } else { "http" };
    let host = if opts.host == "127.0.0.1" || opts.host == "0.0.0.0" {
        "localhost".to_owned()
    } else {
        opts.host.clone()
    };
    *lock(&inner.base_url) = format!("{scheme}://{host}:{}", addr.port());
    let acceptor = opts.tls.map(tokio_rustls::TlsAcceptor::from);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                _ = shutdown.changed() => break,
                a = listener.accept() => a,
            };
            let Ok((tcp, _peer)) = accepted else { continue };
            let _ = tcp.set_nodelay(true);
            let inner = inner.clone();
            let acceptor = acceptor.clone();
            let mut stop = shutdown.clone();
            tokio::spawn(async move {
                let service = |cert: bool| {
                    hyper::service::service_fn(move |mut req: Request<Incoming>| {
                        req.extensions_mut().insert(ClientCert(cert));
                        inner.clone().handle(req)
                    })
                };
                let serve = async move {
                    let builder = hyper::server::conn::http1::Builder::new();
                    match acceptor {
                        Some(acc) => {
                            if let Ok(tls) = acc.accept(tcp).await {
                                let cert = tls
                                    .get_ref()
                                    .1
                                    .peer_certificates()
                                    .is_some_and(|c| !c.is_empty());
                                let _ = builder
                                    .serve_connection(
                                        hyper_util::rt::TokioIo::new(tls),
                                        service(cert),
                                    )
                                    .await;
                            }
                        }
                        None => {
                            let svc = service(false);
                            let _ = builder
                                .serve_connection(hyper_util::rt::TokioIo::new(tcp), svc)
                                .await;
                        }
                    }
                };
                tokio::select! {
                    _ = serve => {}
                    _ = stop.changed() => {}
                }
            });
        }
    });
    Ok(addr)
}

/// A handle on one simulated server: its address, credentials, and every test control.
/// Cheap to clone.
#[derive(Clone)]
pub struct SimServer {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for SimServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimServer")
            .field("kind", &self.inner.kind)
            .field("base_url", &self.inner.base_url())
            .finish()
    }
}

/// How many generated objects [`SimServer::seed`] adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SeedCounts {
    /// Users (`seed-user-{i}`), each in one seeded role when roles are seeded too.
    pub users: usize,
    /// Roles (`seed-role-{i}`).
    pub roles: usize,
    /// Service providers (`seed-sp-{i}`), each with an OAuth inbound config.
    pub applications: usize,
    /// Identity providers (`seed-idp-{i}`) with an OIDC authenticator.
    pub identity_providers: usize,
    /// OAuth apps (`seed-oauth-{i}`).
    pub oauth_apps: usize,
}

impl SeedCounts {
    /// `n` objects split evenly over the five kinds.
    pub fn spread(n: usize) -> Self {
        let each = n / 5;
        Self {
            users: n - 4 * each,
            roles: each,
            applications: each,
            identity_providers: each,
            oauth_apps: each,
        }
    }

    /// Total objects.
    pub fn total(&self) -> usize {
        self.users + self.roles + self.applications + self.identity_providers + self.oauth_apps
    }
}

impl SimServer {
    /// IS or APIM.
    pub fn kind(&self) -> ServerKind {
        self.inner.kind
    }

    /// The release this server behaves as: `5.9` ... `7.3` for IS, `3.0` ... `4.7` for APIM.
    pub fn version(&self) -> &'static str {
        match self.inner.kind {
            ServerKind::Is => self.inner.profile.is.as_str(),
            ServerKind::Apim => self.inner.profile.apim.as_str(),
        }
    }

    /// Whether the SOAP admin services answer here (IS 7.2+ has them off unless enabled; APIM
    /// always serves them).
    pub fn soap_admin_services(&self) -> SoapAvailability {
        match self.inner.kind {
            ServerKind::Is => self.inner.profile.is_soap,
            ServerKind::Apim => SoapAvailability::Supported,
        }
    }

    /// `https://localhost:{port}` (or `http://...`, or the chosen host).
    pub fn base_url(&self) -> String {
        self.inner.base_url()
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        lock(&self.inner.addr).unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// The super tenant's administrator (`admin` / the sandbox's admin password).
    pub fn admin(&self) -> Credentials {
        Credentials {
            username: "admin".into(),
            password: self.inner.admin_password.clone(),
        }
    }

    /// A tenant's administrator (`admin@{domain}`); the tenant must exist.
    pub fn tenant_admin(&self, domain: &str) -> Credentials {
        Credentials {
            username: format!("admin@{domain}"),
            password: self.inner.admin_password.clone(),
        }
    }

    /// Creates a tenant (with `admin` and the default roles) unless it exists.
    pub fn add_tenant(&self, domain: &str) {
        self.inner.add_tenant(domain, &self.inner.admin_password);
    }

    /// Adds a fault rule.
    pub fn inject(&self, rule: FaultRule) {
        lock(&self.inner.control).rules.push(ActiveRule {
            rule,
            seen: 0,
            fired: 0,
        });
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        lock(&self.inner.control).rules.clear();
    }

    /// Fixed delay before each answer (zero for none).
    pub fn set_latency(&self, latency: Duration) {
        lock(&self.inner.control).latency = latency;
    }

    /// The current quirk switches.
    pub fn quirks(&self) -> Quirks {
        self.inner.quirks()
    }

    /// Replaces the quirk switches.
    pub fn set_quirks(&self, quirks: Quirks) {
        lock(&self.inner.control).quirks = quirks;
    }

    /// Changes the quirk switches in place.
    pub fn update_quirks(&self, f: impl FnOnce(&mut Quirks)) {
        f(&mut lock(&self.inner.control).quirks);
    }

    /// Every request from outside the sandbox seen so far, in arrival order (the servers' own
    /// calls to each other are left out; see [`SimServer::all_requests`]).
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.inner.control)
            .log
            .iter()
            .filter(|r| r.via.is_none())
            .cloned()
            .collect()
    }

    /// Every request seen so far, the servers' own calls included (records with
    /// [`RequestRecord::via`]: APIM's token and userinfo calls to IS, its loopback DCR and token
    /// calls, its JIT step), in arrival order.
    pub fn all_requests(&self) -> Vec<RequestRecord> {
        lock(&self.inner.control).log.clone()
    }

    /// The state-changing requests from outside the sandbox seen so far.
    pub fn mutating_requests(&self) -> Vec<RequestRecord> {
        lock(&self.inner.control)
            .log
            .iter()
            .filter(|r| r.mutating && r.via.is_none())
            .cloned()
            .collect()
    }

    /// Requests no simulated endpoint answers (their action starts with `unknown `): a test can
    /// assert this is empty to catch a client calling something the simulator does not serve.
    pub fn unknown_requests(&self) -> Vec<RequestRecord> {
        lock(&self.inner.control)
            .log
            .iter()
            .filter(|r| r.action.starts_with("unknown "))
            .cloned()
            .collect()
    }

    /// Forgets the request log and resets the counters (including the in-flight maximum).
    pub fn clear_requests(&self) {
        let mut c = lock(&self.inner.control);
        c.log.clear();
        c.requests = 0;
        c.mutating = 0;
        c.fired = 0;
        self.inner.max_in_flight.store(
            self.inner.in_flight.load(Ordering::SeqCst),
            Ordering::SeqCst,
        );
    }

    /// The most requests that were in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.inner.max_in_flight.load(Ordering::SeqCst)
    }

    /// Counters about traffic so far.
    pub fn stats(&self) -> TrafficStats {
        let c = lock(&self.inner.control);
        TrafficStats {
            requests: c.requests,
            mutating: c.mutating,
            max_in_flight: self.inner.max_in_flight.load(Ordering::SeqCst),
            in_flight: self.inner.in_flight.load(Ordering::SeqCst),
            faults_fired: c.fired,
        }
    }

    /// A copy of every stored object.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            server: self.inner.kind.as_str().to_owned(),
            tenants: lock(&self.inner.core).tenants.clone(),
        }
    }

    /// Replaces every stored object with those of `snapshot` (sessions and tokens are kept).
    pub fn restore(&self, snapshot: &Snapshot) {
        lock(&self.inner.core).tenants = snapshot.tenants.clone();
    }

    /// Reads the stored state of one tenant.
    pub fn with_tenant<R>(&self, domain: &str, f: impl FnOnce(Option<&TenantState>) -> R) -> R {
        f(lock(&self.inner.core).tenant(domain))
    }

    /// Changes the stored state of one tenant directly (no request is logged).
    pub fn with_tenant_mut<R>(&self, domain: &str, f: impl FnOnce(&mut TenantState) -> R) -> R {
        f(lock(&self.inner.core).tenant_mut(domain))
    }

    /// Adds generated, unrelated objects to a tenant.
    pub fn seed(&self, tenant: &str, counts: SeedCounts) {
        crate::seed::generate(&self.inner, tenant, counts);
    }

    /// Stores an object given as the XML a real server returns: a `getApplication`,
    /// `getIdPByName` or `getOAuthApplicationData*` response (envelope or the bare
    /// `return` element). Element order is checked as for a request. Returns the kind and name.
    pub fn seed_xml(&self, tenant: &str, xml: &str) -> Result<(SeedKind, String), SeedError> {
        crate::seed::from_xml(&self.inner, tenant, xml)
    }

    /// Adds a user to a tenant's store directly (no request logged).
    pub fn add_user(&self, tenant: &str, user: &str, password: &str, roles: &[&str]) {
        crate::seed::add_user(&self.inner, tenant, user, password, roles);
    }

    /// Adds a role to a tenant's store directly (no request logged).
    pub fn add_role(&self, tenant: &str, role: &str) {
        crate::seed::add_role(&self.inner, tenant, role);
    }

    /// The properties of an identity provider's OIDC authenticator (`OpenIDConnectAuthenticator`)
    /// as stored: name -> value (`ClientId`, `OAuth2TokenEPUrl`, `Scopes`, ...).
    pub fn idp_oidc_properties(&self, tenant: &str, idp: &str) -> Option<BTreeMap<String, String>> {
        let core = lock(&self.inner.core);
        let stored = core.tenant(tenant)?.identity_providers.get(idp)?;
        let auth = stored
            .children_named("federatedAuthenticatorConfigs")
            .find(|a| a.text_of("name") == Some("OpenIDConnectAuthenticator"))?;
        Some(
            auth.children_named("properties")
                .filter_map(|p| {
                    Some((
                        p.text_of("name")?.to_owned(),
                        p.text_of("value").unwrap_or("").to_owned(),
                    ))
                })
                .collect(),
        )
    }

    /// The scope an identity provider's OIDC authenticator would request from IS when a user
    /// logs in through it, per the APIM release (WSO2-VERSIONS.md §3.5): from 4.3 the `Scopes`
    /// property if set; otherwise (and always before 4.3) the `scope=` of
    /// `commonAuthQueryParams`; otherwise `openid`. `None` if there is no such IdP or
    /// authenticator.
    pub fn idp_requested_scope(&self, tenant: &str, idp: &str) -> Option<String> {
        let props = self.idp_oidc_properties(tenant, idp)?;
        let reads = match self.inner.kind {
            ServerKind::Apim => self.inner.profile.apim.idp_scopes_property(),
            ServerKind::Is => true,
        };
        Some(crate::authn::requested_scope(reads, &props))
    }

    /// APIM's publisher REST API base path for the release (`/api/am/publisher/v4` on 4.2+,
    /// `v3` on 4.1, `v2` on 4.0, `v1` on 3.1/3.2, `v1.0` on 3.0); `None` on IS. A portal session
    /// calls `{base}/apis` (see `testkit/README.md`, "Browser login").
    pub fn publisher_api_path(&self) -> Option<String> {
        (self.inner.kind == ServerKind::Apim).then(|| {
            format!(
                "/api/am/publisher/{}",
                portal::publisher_api_version(self.inner.profile.apim)
            )
        })
    }

    /// Creates the APIM portal service providers now, as their first login would (registered
    /// as through DCR and remembered in `AM_SYSTEM_APPS`: `apim_publisher`, `apim_devportal`,
    /// `apim_admin_portal`, or the release's names); APIM only, no request logged.
    pub fn ensure_portal_apps(&self) {
        portal::ensure_all(&self.inner);
    }
}

/// Which kind of object a raw XML seed held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeedKind {
    /// A service provider.
    Application,
    /// An identity provider.
    IdentityProvider,
    /// An OAuth app.
    OAuthApp,
}

/// Why a raw XML seed was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedError(pub String);

impl std::fmt::Display for SeedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "seed refused: {}", self.0)
    }
}

impl std::error::Error for SeedError {}
