//! SOAP 1.1 request writing and answer reading, as pure functions over bytes: no I/O here.
//!
//! Requests: `Content-Type: text/xml; charset=UTF-8`, `SOAPAction: urn:{operation}`, a
//! document/literal body whose wrapper element is in the service's wrapper namespace, children
//! qualified and in WSDL order, only the namespaces actually used declared on the envelope.
//!
//! Answers: the `{operation}Response` wrapper matched by local name, `xsi:nil` as absent, an
//! empty 2xx for in-only operations, SOAP 1.1 and 1.2 faults (also inside 200 bodies), and a
//! distinct result for bodies that are not SOAP at all (HTML login pages, proxy errors).

use super::xml::{Child, DecodeError, EncodeProblem, Ns, XmlReader, XmlValue, XmlWriter, ns};
use crate::error::{FaultDetail, ServerText, SoapFault, UnexpectedAnswer};

/// One operation of a Carbon admin service: its name, the shape of its request, and how to read
/// its answer. Implementations are plain values that can be stored and sent later.
pub trait Operation {
    /// What a successful answer decodes to.
    type Output;
    /// The admin service, e.g. `IdentityApplicationManagementService`.
    const SERVICE: &'static str;
    /// The operation, e.g. `createApplication` (also the `SOAPAction` as `urn:{NAME}`).
    const NAME: &'static str;
    /// The namespace of the request wrapper and its parameters.
    const WRAPPER: Ns;
    /// Whether the operation only reads (safe to retry after a transient failure).
    const READ_ONLY: bool;

    /// Checks the request before anything is sent ([`CarbonClient::call`](super::CarbonClient::call)
    /// runs it first): a request that fails it is never sent.
    fn check(&self) -> crate::Result<()> {
        Ok(())
    }

    /// Writes the parameters (children of the wrapper), in WSDL order.
    fn write_params(&self, w: &mut XmlWriter);

    /// Decodes a successful answer.
    fn read_output(answer: Answer<'_, '_>) -> Result<Self::Output, DecodeError>;
}

/// Declares an operation value: a struct of its parameters (written in declaration order, which
/// must be WSDL order) and its [`Operation`] impl.
macro_rules! soap_operation {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            service: $service:literal,
            operation: $op:literal,
            wrapper: $wrapper:expr,
            read_only: $ro:literal,
            output: $out:ty => $read:ident,
            $(check: $check:ident,)?
        } {
            $(
                $(#[$fmeta:meta])*
                pub $field:ident : $ty:ty = $xml:literal
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl $crate::carbon::soap::Operation for $name {
            type Output = $out;
            const SERVICE: &'static str = $service;
            const NAME: &'static str = $op;
            const WRAPPER: $crate::carbon::xml::Ns = $wrapper;
            const READ_ONLY: bool = $ro;

            $(
                fn check(&self) -> $crate::Result<()> {
                    self.$check()
                }
            )?

            #[allow(unused_variables)]
            fn write_params(&self, w: &mut $crate::carbon::xml::XmlWriter) {
                $( $crate::carbon::xml::XmlField::write_field(&self.$field, w, $wrapper, $xml); )*
            }

            fn read_output(
                answer: $crate::carbon::soap::Answer<'_, '_>,
            ) -> ::std::result::Result<$out, $crate::carbon::xml::DecodeError> {
                answer.$read()
            }
        }
    };
}
pub(crate) use soap_operation;

/// A request body ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoapRequest {
    /// Path below the server's base URL, `services/{Service}`.
    pub path: String,
    /// The `SOAPAction` header value, `urn:{operation}`.
    pub action: String,
    /// The envelope.
    pub body: String,
}

/// Builds the request for `op` (pure; nothing is sent).
pub fn encode<O: Operation>(op: &O) -> Result<SoapRequest, EncodeProblem> {
    let mut params = XmlWriter::new();
    op.write_params(&mut params);
    let (inner, used) = params.finish()?;

    // The wrapper element declares every namespace its content uses, so the body element is a
    // self-contained document (validated on its own against the WSDL's schemas in tests).
    let mut env = String::with_capacity(inner.len() + 400);
    env.push_str("<soapenv:Envelope xmlns:soapenv=\"");
    env.push_str(ns::SOAPENV.uri);
    env.push_str("\"><soapenv:Header/><soapenv:Body><");
    push_qname(&mut env, O::WRAPPER, O::NAME);
    let mut declared = vec![O::WRAPPER];
    declared.extend(used.into_iter().filter(|n| *n != O::WRAPPER));
    for n in &declared {
        env.push_str(" xmlns:");
        env.push_str(n.prefix);
        env.push_str("=\"");
        env.push_str(n.uri);
        env.push('"');
    }
    env.push('>');
    env.push_str(&inner);
    env.push_str("</");
    push_qname(&mut env, O::WRAPPER, O::NAME);
    env.push_str("></soapenv:Body></soapenv:Envelope>");
    Ok(SoapRequest {
        path: format!("services/{}", O::SERVICE),
        action: format!("urn:{}", O::NAME),
        body: env,
    })
}

fn push_qname(out: &mut String, ns: Ns, name: &str) {
    out.push_str(ns.prefix);
    out.push(':');
    out.push_str(name);
}

impl SoapRequest {
    /// The body element (the operation's wrapper) as a standalone XML document.
    pub fn body_element(&self) -> &str {
        let start = self
            .body
            .find("<soapenv:Body>")
            .map_or(0, |i| i + "<soapenv:Body>".len());
        let end = self
            .body
            .rfind("</soapenv:Body>")
            .unwrap_or(self.body.len());
        &self.body[start..end]
    }
}

/// The body of a successful answer, handed to [`Operation::read_output`].
#[derive(Debug)]
pub enum Answer<'r, 'a> {
    /// An empty 2xx answer (202 Accepted for in-only operations).
    Empty,
    /// The `{operation}Response` element, positioned after its start tag.
    Response(&'r mut XmlReader<'a>),
}

impl Answer<'_, '_> {
    /// Accepts any successful answer and ignores its content (void and in-only operations).
    pub fn void(self) -> Result<(), DecodeError> {
        if let Self::Response(r) = self {
            r.skip()?;
        }
        Ok(())
    }

    /// Reads a single `return` element: `None` when absent or `xsi:nil`.
    pub fn single<T: XmlValue>(self) -> Result<Option<T>, DecodeError> {
        let Self::Response(r) = self else {
            return Ok(None);
        };
        let mut out = None;
        while let Some(child) = r.next_child()? {
            if child.local == "return" && out.is_none() {
                out = read_return(r, &child)?;
            } else {
                r.skip()?;
            }
        }
        Ok(out)
    }

    /// Reads every `return` element (array results); nil entries are skipped.
    pub fn many<T: XmlValue>(self) -> Result<Vec<T>, DecodeError> {
        let Self::Response(r) = self else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        while let Some(child) = r.next_child()? {
            if child.local == "return" {
                if let Some(v) = read_return::<T>(r, &child)?.filter(|v| !v.is_vacant()) {
                    out.push(v);
                }
            } else {
                r.skip()?;
            }
        }
        Ok(out)
    }

    /// Reads a required boolean `return`.
    pub fn boolean(self) -> Result<bool, DecodeError> {
        self.single::<bool>()?
            .ok_or_else(|| DecodeError::new("the answer has no boolean `return`"))
    }
}

fn read_return<T: XmlValue>(
    r: &mut XmlReader<'_>,
    child: &Child,
) -> Result<Option<T>, DecodeError> {
    if child.nil {
        r.skip()?;
        Ok(None)
    } else {
        T::read_element(r).map(Some).map_err(|e| e.within("return"))
    }
}

/// Why an answer is not a successful result.
#[derive(Debug)]
pub enum AnswerError {
    /// The server sent a SOAP fault.
    Fault(Box<SoapFault>),
    /// The body is not a SOAP envelope.
    Unexpected(UnexpectedAnswer),
    /// A SOAP envelope that could not be decoded.
    Decode(DecodeError),
}

impl AnswerError {
    /// The error for this answer to `operation` (HTTP `status`). The one conversion from a SOAP
    /// answer to an [`Error`](crate::Error): every SOAP call path (operations, session login and
    /// logout) and the fuzz targets use it.
    pub fn into_error(self, operation: &'static str, status: u16) -> crate::Error {
        match self {
            Self::Fault(fault) => crate::Error::Fault {
                operation,
                status,
                fault,
            },
            Self::Unexpected(answer) => crate::Error::UnexpectedAnswer {
                operation,
                status,
                answer,
            },
            Self::Decode(e) => crate::Error::Decode {
                operation,
                status,
                source: Box::new(e),
            },
        }
    }
}

/// Decodes the answer to `O` and turns a failure into the client's [`Error`](crate::Error):
/// exactly what [`CarbonClient::call`](super::CarbonClient::call) returns for this answer,
/// without I/O (for tests and fuzzing).
pub fn decode_answer<O: Operation>(
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> crate::Result<O::Output> {
    decode::<O>(status, content_type, body).map_err(|e| e.into_error(O::NAME, status))
}

/// Decodes the answer to `O` from its status, content type and complete body (pure).
pub fn decode<O: Operation>(
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<O::Output, AnswerError> {
    let trimmed = trim_start(body);
    let success = (200..300).contains(&status);
    if trimmed.is_empty() {
        return if success {
            O::read_output(Answer::Empty).map_err(AnswerError::Decode)
        } else {
            Err(AnswerError::Unexpected(UnexpectedAnswer::Empty))
        };
    }
    if let Some(kind) = not_xml(content_type, trimmed) {
        return Err(AnswerError::Unexpected(kind));
    }
    let mut r = XmlReader::new(trimmed);
    let root = r.root().map_err(|e| classify_unparsable(e, trimmed))?;
    if root.local != "Envelope" {
        return Err(AnswerError::Unexpected(UnexpectedAnswer::Xml {
            root: root.local.into(),
        }));
    }
    let result = read_envelope::<O>(&mut r, success)?;
    r.finish().map_err(AnswerError::Decode)?;
    Ok(result)
}

fn read_envelope<O: Operation>(
    r: &mut XmlReader<'_>,
    success: bool,
) -> Result<O::Output, AnswerError> {
    let dec = AnswerError::Decode;
    let mut output = None;
    while let Some(child) = r.next_child().map_err(dec)? {
        if child.local != "Body" {
            r.skip().map_err(dec)?;
            continue;
        }
        let mut seen = false;
        while let Some(part) = r.next_child().map_err(dec)? {
            if seen {
                r.skip().map_err(dec)?;
                continue;
            }
            seen = true;
            if part.local == "Fault" {
                let fault = read_fault(r).map_err(|e| dec(e.within("Fault")))?;
                return Err(AnswerError::Fault(Box::new(fault)));
            }
            if !success {
                r.skip().map_err(dec)?;
                return Err(AnswerError::Decode(DecodeError::new(
                    "an error status with a SOAP body that is not a fault",
                )));
            }
            let expected = format!("{}Response", O::NAME);
            if part.local != expected {
                return Err(AnswerError::Decode(DecodeError::new(format!(
                    "expected <{expected}>, found <{}>",
                    part.local
                ))));
            }
            let name = part.local.clone();
            output = Some(O::read_output(Answer::Response(r)).map_err(|e| dec(e.within(&name)))?);
        }
        if !seen {
            if success {
                output = Some(O::read_output(Answer::Empty).map_err(dec)?);
            } else {
                return Err(AnswerError::Decode(DecodeError::new(
                    "an error status with an empty SOAP body",
                )));
            }
        }
    }
    output.ok_or_else(|| AnswerError::Decode(DecodeError::new("the envelope has no Body")))
}

/// Reads a SOAP 1.1 (`faultcode`, `faultstring`, `detail`) or 1.2 (`Code/Value`, `Reason/Text`,
/// `Detail`) fault.
fn read_fault(r: &mut XmlReader<'_>) -> Result<SoapFault, DecodeError> {
    let mut code = String::new();
    let mut message = String::new();
    let mut detail = None;
    while let Some(child) = r.next_child()? {
        match child.local.as_str() {
            "faultcode" => code = r.read_text()?.trim().to_owned(),
            "faultstring" => message = r.read_text()?,
            "Code" => code = first_text_of(r, "Value")?.unwrap_or_default(),
            "Reason" => message = first_text_of(r, "Text")?.unwrap_or_default(),
            "detail" | "Detail" => detail = read_detail(r)?,
            _ => r.skip()?,
        }
    }
    Ok(SoapFault {
        code: ServerText::new(code),
        message: ServerText::new(message).trimmed(),
        detail,
    })
}

/// The text of the first descendant named `name`, skipping the rest.
fn first_text_of(r: &mut XmlReader<'_>, name: &str) -> Result<Option<String>, DecodeError> {
    let mut found = None;
    while let Some(child) = r.next_child()? {
        if child.local == name && found.is_none() {
            found = Some(r.read_text()?.trim().to_owned());
        } else {
            r.skip()?;
        }
    }
    Ok(found)
}

fn read_detail(r: &mut XmlReader<'_>) -> Result<Option<FaultDetail>, DecodeError> {
    let mut detail: Option<FaultDetail> = None;
    while let Some(child) = r.next_child()? {
        if detail.is_some() {
            r.skip()?;
            continue;
        }
        let mut d = FaultDetail {
            element: child.local.clone().into(),
            message: None,
            error_code: None,
        };
        let mut messages = Vec::new();
        collect_detail(r, &mut d, &mut messages, 0)?;
        if d.message.is_none() && !messages.is_empty() {
            d.message = Some(messages.join("; ").into());
        }
        detail = Some(d);
    }
    Ok(detail)
}

/// Walks an exception element, picking the first `message` and `errorCode` found at any depth.
/// Names are compared ignoring case: the WSDLs declare `message`, but Axis2 writes a declared
/// exception's text as `Message` (from `getMessage()`). Without a `message`, the `messages` of a
/// client exception (`IdentityApplicationManagementClientException`) are joined.
fn collect_detail(
    r: &mut XmlReader<'_>,
    d: &mut FaultDetail,
    messages: &mut Vec<String>,
    level: usize,
) -> Result<(), DecodeError> {
    while let Some(child) = r.next_child()? {
        let name = child.local.as_str();
        if child.nil {
            r.skip()?;
        } else if name.eq_ignore_ascii_case("message") {
            let text = text_or_skip(r)?;
            if d.message.is_none() && !text.is_empty() {
                d.message = Some(text.into());
            }
        } else if name.eq_ignore_ascii_case("errorCode") {
            let text = text_or_skip(r)?;
            if d.error_code.is_none() && !text.is_empty() {
                d.error_code = Some(text.into());
            }
        } else if name.eq_ignore_ascii_case("messages") {
            let text = text_or_skip(r)?;
            if !text.is_empty() && messages.len() < 16 {
                messages.push(text);
            }
        } else if level < 4 {
            collect_detail(r, d, messages, level + 1)?;
        } else {
            r.skip()?;
        }
    }
    Ok(())
}

/// Reads an element's own text, trimmed; child elements it unexpectedly has are skipped.
fn text_or_skip(r: &mut XmlReader<'_>) -> Result<String, DecodeError> {
    r.read_text_skipping_children().map(|t| t.trim().to_owned())
}

fn trim_start(body: &[u8]) -> &[u8] {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    &body[start..]
}

/// Recognises bodies that are not XML: HTML pages and plain text.
fn not_xml(content_type: Option<&str>, body: &[u8]) -> Option<UnexpectedAnswer> {
    let ct = content_type.map(|c| c.to_ascii_lowercase());
    let looks_html =
        starts_with_ignore_case(body, b"<!doctype html") || starts_with_ignore_case(body, b"<html");
    if looks_html || ct.as_deref().is_some_and(|c| c.starts_with("text/html")) {
        return Some(UnexpectedAnswer::Html {
            title: html_title(body),
        });
    }
    if body.first() != Some(&b'<') {
        if ct.as_deref().is_none_or(|c| c.starts_with("text/")) || std::str::from_utf8(body).is_ok()
        {
            return Some(UnexpectedAnswer::Text {
                excerpt: excerpt(body),
            });
        }
        return Some(UnexpectedAnswer::Other {
            content_type: content_type.map(ServerText::from),
        });
    }
    None
}

/// A body that starts like markup but does not parse: HTML without a doctype is the usual case.
fn classify_unparsable(e: DecodeError, body: &[u8]) -> AnswerError {
    if find_ignore_case(body, b"<html").is_some() || find_ignore_case(body, b"<body").is_some() {
        AnswerError::Unexpected(UnexpectedAnswer::Html {
            title: html_title(body),
        })
    } else {
        AnswerError::Decode(e)
    }
}

fn starts_with_ignore_case(body: &[u8], prefix: &[u8]) -> bool {
    body.len() >= prefix.len() && body[..prefix.len()].eq_ignore_ascii_case(prefix)
}

fn find_ignore_case(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let limit = hay.len().min(64 * 1024);
    hay[..limit]
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

/// The `<title>` of an HTML page (first 120 characters, whitespace folded).
pub(crate) fn html_title(body: &[u8]) -> Option<ServerText> {
    let start = find_ignore_case(body, b"<title")?;
    let rest = &body[start..];
    let open_end = rest.iter().position(|&b| b == b'>')? + 1;
    let rest = &rest[open_end..];
    let end = find_ignore_case(rest, b"</title").unwrap_or(rest.len().min(200));
    let title = String::from_utf8_lossy(&rest[..end]);
    let folded: String = title.split_whitespace().collect::<Vec<_>>().join(" ");
    (!folded.is_empty()).then(|| ServerText::new(folded.chars().take(120).collect::<String>()))
}

/// The first line of a text body (of its first [`ServerText::KEPT`] bytes).
pub(crate) fn excerpt(body: &[u8]) -> ServerText {
    let head = &body[..body.len().min(ServerText::KEPT)];
    let end = head
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .unwrap_or(head.len());
    ServerText::from_utf8_lossy(&head[..end]).trimmed()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct GetName;
    impl Operation for GetName {
        type Output = Option<String>;
        const SERVICE: &'static str = "TestService";
        const NAME: &'static str = "getName";
        const WRAPPER: Ns = ns::AXIS2;
        const READ_ONLY: bool = true;
        fn write_params(&self, w: &mut XmlWriter) {
            w.leaf(ns::AXIS2, "id", "1 & 2");
        }
        fn read_output(answer: Answer<'_, '_>) -> Result<Self::Output, DecodeError> {
            answer.single()
        }
    }

    fn envelope(inner: &str) -> String {
        format!(
            r#"<?xml version='1.0' encoding='UTF-8'?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>{inner}</soapenv:Body></soapenv:Envelope>"#
        )
    }

    #[test]
    fn request_has_action_path_and_declares_used_namespaces_only() {
        let req = encode(&GetName).unwrap();
        assert_eq!(req.action, "urn:getName");
        assert_eq!(req.path, "services/TestService");
        assert!(!req.body.contains("xmlns:model"));
        assert_eq!(
            req.body_element(),
            r#"<axis2:getName xmlns:axis2="http://org.apache.axis2/xsd"><axis2:id>1 &amp; 2</axis2:id></axis2:getName>"#
        );
    }

    #[test]
    fn reads_return_and_nil() {
        let ok = envelope(
            r#"<ns:getNameResponse xmlns:ns="urn:x"><ns:return>a &amp; b</ns:return></ns:getNameResponse>"#,
        );
        assert_eq!(
            decode::<GetName>(200, Some("text/xml"), ok.as_bytes()).unwrap(),
            Some("a & b".into())
        );
        let nil = envelope(
            r#"<ns:getNameResponse xmlns:ns="urn:x" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><ns:return xsi:nil="true"/></ns:getNameResponse>"#,
        );
        assert_eq!(
            decode::<GetName>(200, Some("text/xml"), nil.as_bytes()).unwrap(),
            None
        );
        assert_eq!(decode::<GetName>(202, None, b"").unwrap(), None);
    }

    #[test]
    fn faults_are_typed_in_500_and_in_200() {
        let fault = envelope(
            r#"<soapenv:Fault><faultcode xmlns:axis2ns2="http://x">axis2ns2:50977</faultcode><faultstring>Access Denied. Authentication failed - Invalid credentials provided.</faultstring><detail/></soapenv:Fault>"#,
        );
        for status in [500, 200] {
            match decode::<GetName>(status, Some("text/xml"), fault.as_bytes()) {
                Err(AnswerError::Fault(f)) => {
                    assert_eq!(f.code_local(), "50977");
                    assert!(f.is_auth_failure());
                }
                other => panic!("expected a fault, got {other:?}"),
            }
        }
    }

    #[test]
    fn fault_detail_message_is_extracted() {
        let fault = envelope(
            r#"<soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>dup</faultstring><detail><ns:SvcException xmlns:ns="urn:a"><ns:SvcException><ax:message xmlns:ax="urn:b">Application X already exists</ax:message><ax:errorCode xmlns:ax="urn:b">APP-1</ax:errorCode></ns:SvcException></ns:SvcException></detail></soapenv:Fault>"#,
        );
        let Err(AnswerError::Fault(f)) = decode::<GetName>(500, None, fault.as_bytes()) else {
            panic!()
        };
        let d = f.detail.unwrap();
        assert_eq!(d.element, "SvcException");
        assert_eq!(
            d.message.as_ref().map(|t| t.raw()),
            Some("Application X already exists")
        );
        assert_eq!(d.error_code.as_ref().map(|t| t.raw()), Some("APP-1"));
    }

    #[test]
    fn html_and_text_are_distinct_answers() {
        let html =
            b"<!DOCTYPE html><html><head><title>WSO2 Management Console</title></head></html>";
        assert!(matches!(
            decode::<GetName>(200, Some("text/html"), html),
            Err(AnswerError::Unexpected(UnexpectedAnswer::Html { title: Some(t) })) if t == "WSO2 Management Console"
        ));
        assert!(matches!(
            decode::<GetName>(500, Some("text/plain"), b"A server error occurred.\nmore"),
            Err(AnswerError::Unexpected(UnexpectedAnswer::Text { excerpt })) if excerpt == "A server error occurred."
        ));
        assert!(matches!(
            decode::<GetName>(200, Some("text/xml"), b"<other/>"),
            Err(AnswerError::Unexpected(UnexpectedAnswer::Xml { root })) if root == "other"
        ));
    }

    #[test]
    fn truncated_and_wrong_answers_are_decode_errors() {
        let ok = envelope(
            r#"<ns:getNameResponse xmlns:ns="urn:x"><ns:return>abc</ns:return></ns:getNameResponse>"#,
        );
        for cut in [10, 60, 120, ok.len() - 5] {
            assert!(matches!(
                decode::<GetName>(200, Some("text/xml"), &ok.as_bytes()[..cut]),
                Err(AnswerError::Decode(_))
            ));
        }
        let wrong = envelope(r#"<ns:otherResponse xmlns:ns="urn:x"/>"#);
        assert!(matches!(
            decode::<GetName>(200, None, wrong.as_bytes()),
            Err(AnswerError::Decode(_))
        ));
    }
}
