//! SOAP 1.1 transport of the Carbon admin services: endpoint paths, envelope, authentication,
//! WSDL-order validation, dispatch to the services, and the Axis2 RPC answer shapes.

use std::fmt::Write as _;

use crate::schema::{self, OpDef, Output};
use crate::server::{AuthProblem, Family, Inner, Principal, Route, SimRequest, SimResponse, lock};
use crate::services;
use crate::xml::{Element, Prefixes, SOAP11, SOAP12, XSI, escape};

/// The admin services served on `/services/{name}`.
pub(crate) const SERVICES: &[&str] = &[
    "IdentityApplicationManagementService",
    "OAuthAdminService",
    "IdentityProviderMgtService",
    "RemoteUserStoreManagerService",
    "AuthenticationAdmin",
];

/// What a service operation answers.
pub(crate) enum Answer {
    /// One or more `return` values (already typed trees; `None` is a nil return).
    Values(Vec<Element>),
    /// A single simple value.
    Simple(String),
    /// Several simple values (`getRoleNames`).
    SimpleList(Vec<String>),
    /// `<ns:return xsi:nil="true"/>`.
    Nil,
    /// HTTP 202, empty body (in-only operations).
    Accepted,
    /// A fault.
    Fault(ServiceFault),
    /// A prepared answer (login sets a cookie).
    Raw(SimResponse),
}

/// A fault raised by a service.
pub(crate) struct ServiceFault {
    pub(crate) message: String,
    /// Whether the detail carries the declared exception bean (exact exception class) or is empty.
    pub(crate) bean: bool,
}

impl ServiceFault {
    /// A fault with the declared exception bean in the detail.
    pub(crate) fn bean(message: impl Into<String>) -> Answer {
        Answer::Fault(ServiceFault {
            message: message.into(),
            bean: true,
        })
    }

    /// A fault with an empty detail (a subclass or runtime exception on the server).
    pub(crate) fn plain(message: impl Into<String>) -> Answer {
        Answer::Fault(ServiceFault {
            message: message.into(),
            bean: false,
        })
    }
}

/// Parses `/services/{Svc}` and `/services/{Svc}.{Svc}HttpsSoap11Endpoint/` (and the Http,
/// Soap12 forms). Returns the service name and whether the SOAP 1.2 endpoint was addressed.
fn service_of(path: &str) -> Option<(String, bool)> {
    let rest = path.strip_prefix("/services/")?.trim_end_matches('/');
    let (svc, endpoint) = match rest.split_once('.') {
        Some((s, e)) => (s, Some(e)),
        None => (rest, None),
    };
    if let Some(e) = endpoint {
        let ok = [
            "HttpsSoap11Endpoint",
            "HttpSoap11Endpoint",
            "HttpsSoap12Endpoint",
            "HttpSoap12Endpoint",
        ]
        .iter()
        .any(|suffix| e == format!("{svc}{suffix}"));
        if !ok {
            return None;
        }
    }
    Some((
        svc.to_owned(),
        endpoint.is_some_and(|e| e.contains("Soap12")),
    ))
}

fn action_of(req: &SimRequest) -> Option<String> {
    let a = req.header("soapaction")?.trim().trim_matches('"');
    let a = a.strip_prefix("urn:").unwrap_or(a);
    (!a.is_empty()).then(|| a.to_owned())
}

/// Classifies a SOAP request (action = operation name).
pub(crate) fn route(req: &SimRequest) -> Route {
    let op = action_of(req).or_else(|| {
        Element::parse(&req.body_str())
            .ok()
            .and_then(|env| env.child("Body").and_then(|b| b.children.first().cloned()))
            .map(|e| e.name)
    });
    let op = op.unwrap_or_else(|| "unknown".into());
    Route {
        mutating: is_mutating(&op),
        action: op,
        family: Family::Soap,
    }
}

/// Whether an operation changes state.
pub(crate) fn is_mutating(op: &str) -> bool {
    [
        "create", "update", "delete", "add", "register", "remove", "force",
    ]
    .iter()
    .any(|p| op.starts_with(p))
}

/// Handles one SOAP request end to end.
pub(crate) fn handle(inner: &Inner, req: &SimRequest) -> SimResponse {
    let Some((service, soap12)) = service_of(&req.path) else {
        return client_fault(&format!(
            "The service cannot be found for the endpoint reference (EPR) {}",
            req.path
        ));
    };
    if req.method != http::Method::POST {
        return SimResponse::new(
            405,
            "text/html",
            "<html><body><h1>HTTP Status 405 - Method Not Allowed</h1></body></html>",
        );
    }
    if inner.kind == crate::server::ServerKind::Is && !inner.profile.is_soap.serves() {
        // IS 7.2+ without `[server] enable_admin_services = true`: the kernel does not deploy
        // the admin services, so Axis2 finds no service and the answer is HTTP 500
        // (product-is #25745).
        return client_fault(&format!(
            "The service cannot be found for the endpoint reference (EPR) {}",
            req.path
        ));
    }
    if service == "ServerAdmin" {
        return server_admin(inner, req);
    }
    if !SERVICES.contains(&service.as_str()) {
        return client_fault(&format!(
            "The service cannot be found for the endpoint reference (EPR) {}",
            req.path
        ));
    }
    let env = match Element::parse(&req.body_str()) {
        Ok(e) => e,
        Err(e) => return server_fault(&format!("Error while parsing the request: {e}")),
    };
    if env.name != "Envelope" || (env.ns != SOAP11 && env.ns != SOAP12) {
        return server_fault("First Element must contain the local name, Envelope");
    }
    if env.ns == SOAP12 || soap12 {
        return version_mismatch();
    }
    let Some(body) = env.child("Body") else {
        return server_fault("SOAP message MUST NOT have a null body");
    };
    let Some(wrapper) = body.children.first() else {
        return server_fault("The SOAP body is empty");
    };
    let op_name = action_of(req).unwrap_or_else(|| wrapper.name.clone());
    let table = schema::table_for(inner.kind, &inner.profile);
    let Some(op) = table.op(&service, &op_name) else {
        return client_fault(&format!(
            "The endpoint reference (EPR) for the Operation not found is /services/{service} and the WSA Action = urn:{op_name}. If this EPR was previously reachable, please contact the server administrator."
        ));
    };
    // Authentication (everything but AuthenticationAdmin).
    let principal = if service == "AuthenticationAdmin" {
        None
    } else {
        match inner.principal(req) {
            Ok(p) => {
                if !inner.is_admin(&p) {
                    return server_fault("Access Denied.");
                }
                Some(p)
            }
            Err(AuthProblem::Missing) => return unauthorized(inner),
            Err(AuthProblem::BadCredentials) => {
                return auth_failure(
                    "Access Denied. Authentication failed - Invalid credentials provided.",
                );
            }
        }
    };
    // The wrapper element namespace is checked by the RPC receiver.
    if wrapper.ns != op.ns {
        let found = if wrapper.ns.is_empty() {
            "none".to_owned()
        } else {
            wrapper.ns.clone()
        };
        return server_fault(&format!(
            "namespace mismatch require {} found {found}",
            op.ns
        ));
    }
    if wrapper.name != op.name {
        return server_fault(&format!(
            "Exception occurred while trying to invoke service method {}",
            op.name
        ));
    }
    let bound;
    let wrapper = if inner.quirks().lenient_elements {
        match schema::lenient_bind(table, wrapper, op) {
            Ok(b) => {
                bound = b;
                &bound
            }
            Err(msg) => return server_fault(&msg),
        }
    } else {
        if let Err(msg) = schema::validate_fields(table, wrapper, op.params) {
            return server_fault(&msg);
        }
        wrapper
    };
    let answer = services::call(inner, principal.as_ref(), op, wrapper);
    encode(table, op, answer)
}

/// Carbon's `ServerAdmin` service: only `getServerVersion` is simulated (what clients use to
/// detect the release). It needs an administrator, like every admin service.
fn server_admin(inner: &Inner, req: &SimRequest) -> SimResponse {
    let env = match Element::parse(&req.body_str()) {
        Ok(e) => e,
        Err(e) => return server_fault(&format!("Error while parsing the request: {e}")),
    };
    let op = action_of(req).or_else(|| {
        env.child("Body")
            .and_then(|b| b.children.first())
            .map(|w| w.name.clone())
    });
    match inner.principal(req) {
        Ok(p) if inner.is_admin(&p) => {}
        Ok(_) => return server_fault("Access Denied."),
        Err(AuthProblem::Missing) => return unauthorized(inner),
        Err(AuthProblem::BadCredentials) => {
            return auth_failure(
                "Access Denied. Authentication failed - Invalid credentials provided.",
            );
        }
    }
    if op.as_deref() != Some("getServerVersion") {
        return client_fault(&format!(
            "The endpoint reference (EPR) for the Operation not found is /services/ServerAdmin and the WSA Action = urn:{}. If this EPR was previously reachable, please contact the server administrator.",
            op.unwrap_or_default()
        ));
    }
    let version = match inner.kind {
        crate::server::ServerKind::Is => inner.profile.is.full(),
        crate::server::ServerKind::Apim => inner.profile.apim.full(),
    };
    ok_envelope(&format!(
        "<ns:getServerVersionResponse xmlns:ns=\"http://service.admin.server.carbon.wso2.org\"><ns:return>{version}</ns:return></ns:getServerVersionResponse>"
    ))
}

/// Builds the HTTP answer for an operation's result.
fn encode(table: &schema::Table, op: &OpDef, answer: Answer) -> SimResponse {
    match answer {
        Answer::Raw(r) => r,
        Answer::Accepted => SimResponse::empty(202),
        Answer::Fault(f) => service_fault(table, op, &f),
        Answer::Nil => ok_envelope(&wrapper_with(op, |out, p| {
            let pre = p.prefix(op.ns);
            let x = p.prefix(XSI);
            let _ = write!(out, "<{pre}:return {x}:nil=\"true\"/>");
        })),
        Answer::Simple(v) => ok_envelope(&wrapper_with(op, |out, p| {
            let pre = p.prefix(op.ns);
            let _ = write!(out, "<{pre}:return>{}</{pre}:return>", escape(&v));
        })),
        Answer::SimpleList(vs) => ok_envelope(&wrapper_with(op, |out, p| {
            let pre = p.prefix(op.ns);
            for v in &vs {
                let _ = write!(out, "<{pre}:return>{}</{pre}:return>", escape(v));
            }
        })),
        Answer::Values(vals) => {
            let ty = match op.output {
                Output::Return { ty, .. } => ty,
                _ => (schema::XS, "string"),
            };
            ok_envelope(&wrapper_with(op, |out, p| {
                for v in &vals {
                    schema::write_typed(table, out, op.ns, "return", v, ty, p);
                }
            }))
        }
    }
}

fn wrapper_with(op: &OpDef, body: impl FnOnce(&mut String, &mut Prefixes)) -> String {
    let mut p = Prefixes::default();
    // Make the wrapper namespace `ns`, as Axis2 does.
    let _ = p.prefix_as(op.ns, "ns");
    let mut inner = String::new();
    body(&mut inner, &mut p);
    format!(
        "<ns:{}Response{}>{}</ns:{}Response>",
        op.name,
        p.declarations(),
        inner,
        op.name
    )
}

fn ok_envelope(body: &str) -> SimResponse {
    SimResponse::new(
        200,
        "text/xml; charset=UTF-8",
        format!(
            "<?xml version='1.0' encoding='UTF-8'?><soapenv:Envelope xmlns:soapenv=\"{SOAP11}\"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
        ),
    )
}

fn fault_envelope(code: &str, code_ns_decl: &str, message: &str, detail: &str) -> SimResponse {
    SimResponse::new(
        500,
        "text/xml; charset=UTF-8",
        format!(
            "<?xml version='1.0' encoding='UTF-8'?><soapenv:Envelope xmlns:soapenv=\"{SOAP11}\"><soapenv:Body><soapenv:Fault{code_ns_decl}><faultcode>{code}</faultcode><faultstring>{}</faultstring><detail>{detail}</detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>",
            escape(message)
        ),
    )
}

/// `soapenv:Server` fault with an empty detail.
pub(crate) fn server_fault(message: &str) -> SimResponse {
    fault_envelope("soapenv:Server", "", message, "")
}

/// `soapenv:Client` fault (dispatch failures).
pub(crate) fn client_fault(message: &str) -> SimResponse {
    fault_envelope("soapenv:Client", "", message, "")
}

/// The Carbon authentication fault, code `50977`.
pub(crate) fn auth_failure(message: &str) -> SimResponse {
    fault_envelope(
        "axis2ns1:50977",
        " xmlns:axis2ns1=\"http://schemas.xmlsoap.org/soap/envelope/\"",
        message,
        "",
    )
}

/// Carbon's `BasicAccessAuthenticator` answer when there are no credentials (or a stale
/// session): HTTP 401, empty body.
pub(crate) fn unauthorized(inner: &Inner) -> SimResponse {
    let realm = match inner.kind {
        crate::server::ServerKind::Is => "WSO2 Identity Server",
        crate::server::ServerKind::Apim => "WSO2 API Manager",
    };
    SimResponse::new(401, "text/html", Vec::new())
        .header("WWW-Authenticate", format!("Basic realm=\"{realm}\""))
        .header("Server", "WSO2 Server")
}

fn version_mismatch() -> SimResponse {
    fault_envelope(
        "soapenv:VersionMismatch",
        "",
        "Only SOAP 1.1 is served by wso2-testkit (use the HttpsSoap11Endpoint)",
        "",
    )
}

/// A service exception: faultstring = message; detail = the declared exception bean, or empty.
fn service_fault(table: &schema::Table, op: &OpDef, f: &ServiceFault) -> SimResponse {
    let detail = match (&op.fault, f.bean) {
        (Some(fd), true) => {
            let mut p = Prefixes::default();
            let _ = p.prefix_as(fd.ns, "ns");
            let x = p.prefix(XSI);
            let tp = p.prefix(fd.ty.0);
            let mut fields = String::new();
            if let Some(def) = table.type_def(fd.ty) {
                for field in def.fields {
                    let fp = p.prefix(field.ns);
                    match field.name {
                        "message" => {
                            let _ = write!(
                                fields,
                                "<{fp}:message>{}</{fp}:message>",
                                escape(&f.message)
                            );
                        }
                        name => {
                            let _ = write!(fields, "<{fp}:{name} {x}:nil=\"true\"/>");
                        }
                    }
                }
            }
            let decls = p.declarations();
            format!(
                "<ns:{el}{decls}><ns:{inner} {x}:type=\"{tp}:{ty}\">{fields}</ns:{inner}></ns:{el}>",
                el = fd.element,
                inner = fd.inner,
                ty = fd.ty.1
            )
        }
        _ => String::new(),
    };
    fault_envelope("soapenv:Server", "", &f.message, &detail)
}

/// The simple-typed parameter `name` of a request wrapper (`None` if absent or nil).
pub(crate) fn param<'a>(wrapper: &'a Element, name: &str) -> Option<&'a str> {
    wrapper.text_of(name)
}

/// The repeated simple parameter `name`.
pub(crate) fn params(wrapper: &Element, name: &str) -> Vec<String> {
    wrapper
        .children_named(name)
        .filter(|e| !e.nil)
        .map(|e| e.text.clone())
        .collect()
}

/// The principal's name as the server writes it in owner fields.
pub(crate) fn owner_name(p: Option<&Principal>) -> String {
    p.map(|p| p.user.clone()).unwrap_or_else(|| "admin".into())
}

/// Creates a JSESSIONID session for `p`.
pub(crate) fn new_session(inner: &Inner, p: Principal) -> String {
    let mut core = lock(&inner.core);
    let sid = core.random_hex(16).to_uppercase();
    core.sessions.insert(sid.clone(), p);
    sid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_forms() {
        assert_eq!(
            service_of("/services/OAuthAdminService"),
            Some(("OAuthAdminService".into(), false))
        );
        assert_eq!(
            service_of("/services/OAuthAdminService.OAuthAdminServiceHttpsSoap11Endpoint/"),
            Some(("OAuthAdminService".into(), false))
        );
        assert_eq!(
            service_of("/services/OAuthAdminService.OAuthAdminServiceHttpsSoap12Endpoint"),
            Some(("OAuthAdminService".into(), true))
        );
        assert_eq!(service_of("/services/X.Y"), None);
    }
}
