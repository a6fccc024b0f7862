//! The XML codec behind every SOAP body: a writer that escapes text in exactly one place and
//! emits qualified elements with literal prefixes, and a streaming reader that matches children by
//! local name, reads `xsi:nil="true"` as absent and refuses document type declarations.
//!
//! Models are declared with `xml_model!`, which generates the struct, its
//! encoder (fields written in declaration order, which is WSDL order) and its decoder (fields
//! matched by local name in any order; unknown elements skipped).

use std::borrow::Cow;
use std::fmt;

use quick_xml::events::{BytesStart, Event};

/// An XML namespace with the literal prefix this crate writes for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ns {
    /// The prefix written on elements of this namespace (declared on the SOAP envelope).
    pub prefix: &'static str,
    /// The namespace URI.
    pub uri: &'static str,
}

/// Namespaces of the Carbon admin services, with the prefixes this crate writes.
pub mod ns {
    use super::Ns;

    /// SOAP 1.1 envelope.
    pub const SOAPENV: Ns = Ns {
        prefix: "soapenv",
        uri: "http://schemas.xmlsoap.org/soap/envelope/",
    };
    /// XML Schema instance (`xsi:nil`).
    pub const XSI: Ns = Ns {
        prefix: "xsi",
        uri: "http://www.w3.org/2001/XMLSchema-instance",
    };
    /// Axis2 request/response wrappers of the application, OAuth and UserAdmin services.
    pub const AXIS2: Ns = Ns {
        prefix: "axis2",
        uri: "http://org.apache.axis2/xsd",
    };
    /// The common application model (service providers, identity providers, claims, properties).
    pub const MODEL: Ns = Ns {
        prefix: "model",
        uri: "http://model.common.application.identity.carbon.wso2.org/xsd",
    };
    /// Adaptive authentication script configuration.
    pub const SCRIPT: Ns = Ns {
        prefix: "script",
        uri: "http://script.model.common.application.identity.carbon.wso2.org/xsd",
    };
    /// Wrappers of IdentityProviderMgtService.
    pub const IDP_MGT: Ns = Ns {
        prefix: "idp",
        uri: "http://mgt.idp.carbon.wso2.org",
    };
    /// `OAuthConsumerAppDTO`.
    pub const OAUTH_DTO: Ns = Ns {
        prefix: "dto",
        uri: "http://dto.oauth.identity.carbon.wso2.org/xsd",
    };
    /// Wrappers of RemoteUserStoreManagerService.
    pub const UM_SERVICE: Ns = Ns {
        prefix: "um",
        uri: "http://service.ws.um.carbon.wso2.org",
    };
    /// `ClaimValue` of RemoteUserStoreManagerService.
    pub const UM_COMMON: Ns = Ns {
        prefix: "umc",
        uri: "http://common.mgt.user.carbon.wso2.org/xsd",
    };
    /// `PermissionDTO` of RemoteUserStoreManagerService.
    pub const UM_DAO: Ns = Ns {
        prefix: "umd",
        uri: "http://dao.service.ws.um.carbon.wso2.org/xsd",
    };
    /// Wrappers of AuthenticationAdmin.
    pub const AUTH_ADMIN: Ns = Ns {
        prefix: "auth",
        uri: "http://authentication.services.core.carbon.wso2.org",
    };
}

/// Escapes text content and attribute values. The only place in this crate that turns text into
/// markup: `&`, `<`, `>`, `"`, `'` and carriage returns become references.
fn escape(text: &str) -> Cow<'_, str> {
    if !text
        .bytes()
        .any(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'' | b'\r'))
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Returns the first character that XML 1.0 cannot carry (control characters other than tab,
/// line feed and carriage return, and the non-characters U+FFFE/U+FFFF).
pub(crate) fn first_unrepresentable_char(text: &str) -> Option<char> {
    text.chars().find(|&c| {
        matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
    })
}

/// Why a value could not be encoded (the request is then not sent).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeProblem {
    /// A secret whose value was withheld (read back from a serialised snapshot) was about to be sent.
    RedactedSecret {
        /// The element that would have carried it.
        element: &'static str,
    },
    /// Text that XML 1.0 cannot represent.
    Unrepresentable {
        /// The element.
        element: &'static str,
        /// The offending character.
        character: char,
    },
}

impl std::error::Error for EncodeProblem {}

impl fmt::Display for EncodeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RedactedSecret { element } => write!(
                f,
                "`{element}` holds a redacted secret (restored from a serialised value); fill it in before sending"
            ),
            Self::Unrepresentable { element, character } => write!(
                f,
                "`{element}` contains the character U+{:04X}, which XML 1.0 cannot carry",
                *character as u32
            ),
        }
    }
}

/// Writes qualified XML elements into a string, recording which namespaces were used so that the
/// envelope declares exactly those.
#[derive(Debug, Default)]
pub struct XmlWriter {
    out: String,
    used: Vec<Ns>,
    problem: Option<EncodeProblem>,
}

impl XmlWriter {
    /// A new, empty writer.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn mark(&mut self, ns: Ns) {
        if !self.used.contains(&ns) {
            self.used.push(ns);
        }
    }

    /// Opens `<prefix:name>`.
    pub fn start(&mut self, ns: Ns, name: &str) {
        self.mark(ns);
        self.out.push('<');
        self.out.push_str(ns.prefix);
        self.out.push(':');
        self.out.push_str(name);
        self.out.push('>');
    }

    /// Closes `</prefix:name>`.
    pub fn end(&mut self, ns: Ns, name: &str) {
        self.out.push_str("</");
        self.out.push_str(ns.prefix);
        self.out.push(':');
        self.out.push_str(name);
        self.out.push('>');
    }

    /// Writes `<prefix:name>text</prefix:name>`, escaping the text.
    pub fn leaf(&mut self, ns: Ns, name: &'static str, text: &str) {
        if let Some(c) = first_unrepresentable_char(text) {
            self.fail(EncodeProblem::Unrepresentable {
                element: name,
                character: c,
            });
        }
        self.start(ns, name);
        self.out.push_str(&escape(text));
        self.end(ns, name);
    }

    /// Records the first problem; the request is not sent.
    pub(crate) fn fail(&mut self, problem: EncodeProblem) {
        if self.problem.is_none() {
            self.problem = Some(problem);
        }
    }

    /// The markup written so far, or the first problem met.
    pub(crate) fn finish(self) -> Result<(String, Vec<Ns>), EncodeProblem> {
        match self.problem {
            Some(p) => Err(p),
            None => Ok((self.out, self.used)),
        }
    }
}

/// A value that can be written as the content of one element.
pub trait XmlValue: Sized {
    /// Writes `<ns:name>…</ns:name>` for this value.
    fn write_element(&self, w: &mut XmlWriter, ns: Ns, name: &'static str);
    /// Reads this value from the element whose start tag was just read.
    fn read_element(r: &mut XmlReader<'_>) -> Result<Self, DecodeError>;

    /// Whether the value carries nothing (a model read from an element with no known child).
    /// Such entries of a list are dropped on reading: they mean nothing, and keeping them would
    /// let a few bytes of `<x/>` allocate a whole default value each.
    fn is_vacant(&self) -> bool {
        false
    }
}

/// A struct field that maps to zero or more child elements of one name.
pub trait XmlField {
    /// Writes the element(s) for this field; absent values write nothing.
    fn write_field(&self, w: &mut XmlWriter, ns: Ns, name: &'static str);
    /// Reads one occurrence of the element into this field.
    fn read_field(&mut self, r: &mut XmlReader<'_>, child: &Child) -> Result<(), DecodeError>;
}

impl<T: XmlValue> XmlField for Option<T> {
    fn write_field(&self, w: &mut XmlWriter, ns: Ns, name: &'static str) {
        if let Some(v) = self {
            v.write_element(w, ns, name);
        }
    }
    fn read_field(&mut self, r: &mut XmlReader<'_>, child: &Child) -> Result<(), DecodeError> {
        if child.nil {
            r.skip()?;
            *self = None;
        } else {
            *self = Some(T::read_element(r)?);
        }
        Ok(())
    }
}

impl<T: XmlValue> XmlField for Vec<T> {
    fn write_field(&self, w: &mut XmlWriter, ns: Ns, name: &'static str) {
        for v in self {
            v.write_element(w, ns, name);
        }
    }
    fn read_field(&mut self, r: &mut XmlReader<'_>, child: &Child) -> Result<(), DecodeError> {
        if child.nil {
            return r.skip();
        }
        let value = T::read_element(r)?;
        if !value.is_vacant() {
            self.push(value);
        }
        Ok(())
    }
}

/// A required value: always written.
impl<T: XmlValue> XmlField for T {
    fn write_field(&self, w: &mut XmlWriter, ns: Ns, name: &'static str) {
        self.write_element(w, ns, name);
    }
    fn read_field(&mut self, r: &mut XmlReader<'_>, _child: &Child) -> Result<(), DecodeError> {
        *self = T::read_element(r)?;
        Ok(())
    }
}

impl XmlValue for String {
    fn write_element(&self, w: &mut XmlWriter, ns: Ns, name: &'static str) {
        w.leaf(ns, name, self);
    }
    fn read_element(r: &mut XmlReader<'_>) -> Result<Self, DecodeError> {
        r.read_text()
    }
}

impl XmlValue for bool {
    fn write_element(&self, w: &mut XmlWriter, ns: Ns, name: &'static str) {
        w.leaf(ns, name, if *self { "true" } else { "false" });
    }
    fn read_element(r: &mut XmlReader<'_>) -> Result<Self, DecodeError> {
        let text = r.read_text()?;
        match text.trim() {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            _ => Err(DecodeError::new("expected a boolean (true or false)")),
        }
    }
}

macro_rules! xml_number {
    ($($t:ty => $what:literal),*) => {$(
        impl XmlValue for $t {
            fn write_element(&self, w: &mut XmlWriter, ns: Ns, name: &'static str) {
                w.leaf(ns, name, &self.to_string());
            }
            fn read_element(r: &mut XmlReader<'_>) -> Result<Self, DecodeError> {
                r.read_text()?.trim().parse().map_err(|_| DecodeError::new(concat!("expected ", $what)))
            }
        }
    )*};
}
xml_number!(i32 => "a 32-bit integer", i64 => "a 64-bit integer");

/// Encodes `value` as a standalone element `<prefix:name>` (namespace declarations on it).
///
/// ```
/// use wso2_is_client::carbon::xml::{ns, to_element, from_element};
/// use wso2_is_client::model::Claim;
///
/// let xml = to_element(&Claim::uri("http://wso2.org/claims/role"), ns::MODEL, "claim").unwrap();
/// let back: Claim = from_element(xml.as_bytes()).unwrap();
/// assert_eq!(back.claim_uri.as_deref(), Some("http://wso2.org/claims/role"));
/// ```
pub fn to_element<T: XmlValue>(
    value: &T,
    ns: Ns,
    name: &'static str,
) -> Result<String, EncodeProblem> {
    let mut w = XmlWriter::new();
    value.write_element(&mut w, ns, name);
    let (inner, used) = w.finish()?;
    // Declare the namespaces on the root element.
    let root_end = inner.find('>').unwrap_or(inner.len());
    let mut out = String::with_capacity(inner.len() + 200);
    out.push_str(&inner[..root_end]);
    for n in &used {
        out.push_str(" xmlns:");
        out.push_str(n.prefix);
        out.push_str("=\"");
        out.push_str(n.uri);
        out.push('"');
    }
    out.push_str(&inner[root_end..]);
    Ok(out)
}

/// Decodes a value from a standalone element (any name and namespace; children matched by
/// local name), such as the `return` element of a `getApplication` answer.
pub fn from_element<T: XmlValue>(xml: &[u8]) -> Result<T, DecodeError> {
    let mut r = XmlReader::new(xml);
    let root = r.root()?;
    let value = if root.nil {
        return Err(DecodeError::new("the element is nil"));
    } else {
        T::read_element(&mut r).map_err(|e| e.within(&root.local))?
    };
    r.finish()?;
    Ok(value)
}

/// A model type whose fields are child elements.
pub trait XmlModel: Default {
    /// Writes every set field, in WSDL order.
    fn write_fields(&self, w: &mut XmlWriter);
    /// Reads one child element into the matching field; returns `false` for unknown elements,
    /// which the caller skips.
    fn read_child(&mut self, r: &mut XmlReader<'_>, child: &Child) -> Result<bool, DecodeError>;
}

/// Reads the children of the current element into a fresh model value.
pub(crate) fn read_model<T: XmlModel>(r: &mut XmlReader<'_>) -> Result<T, DecodeError> {
    let mut value = T::default();
    while let Some(child) = r.next_child()? {
        let name = child.local.clone();
        let known = value.read_child(r, &child).map_err(|e| e.within(&name))?;
        if !known {
            r.skip()?;
        }
    }
    Ok(value)
}

/// Declares a model type whose fields map one to one, in order, to the child elements of a WSDL
/// complex type. Generates the struct (with `Debug`, `Clone`, `PartialEq`, `Default` and serde
/// derives, fields renamed to their XML names) and its [`XmlModel`] and [`XmlValue`] impls.
macro_rules! xml_model {
    (
        $(#[$meta:meta])*
        pub struct $name:ident in $ns:path {
            $(
                $(#[$fmeta:meta])*
                pub $field:ident : $ty:ty = $xml:literal
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Default, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(default)]
        #[non_exhaustive]
        pub struct $name {
            $(
                $(#[$fmeta])*
                #[serde(rename = $xml, skip_serializing_if = "crate::carbon::xml::is_empty_field")]
                pub $field: $ty,
            )*
        }

        impl $crate::carbon::xml::XmlModel for $name {
            fn write_fields(&self, w: &mut $crate::carbon::xml::XmlWriter) {
                $( $crate::carbon::xml::XmlField::write_field(&self.$field, w, $ns, $xml); )*
            }
            fn read_child(
                &mut self,
                r: &mut $crate::carbon::xml::XmlReader<'_>,
                child: &$crate::carbon::xml::Child,
            ) -> ::std::result::Result<bool, $crate::carbon::xml::DecodeError> {
                match child.local.as_str() {
                    $( $xml => { $crate::carbon::xml::XmlField::read_field(&mut self.$field, r, child)?; Ok(true) } )*
                    _ => Ok(false),
                }
            }
        }

        impl $crate::carbon::xml::XmlValue for $name {
            fn write_element(
                &self,
                w: &mut $crate::carbon::xml::XmlWriter,
                ns: $crate::carbon::xml::Ns,
                name: &'static str,
            ) {
                w.start(ns, name);
                $crate::carbon::xml::XmlModel::write_fields(self, w);
                w.end(ns, name);
            }
            fn read_element(
                r: &mut $crate::carbon::xml::XmlReader<'_>,
            ) -> ::std::result::Result<Self, $crate::carbon::xml::DecodeError> {
                $crate::carbon::xml::read_model(r)
            }
            fn is_vacant(&self) -> bool {
                *self == Self::default()
            }
        }
    };
}
pub(crate) use xml_model;

/// Whether a field is left out of serialised (JSON) snapshots: absent options and empty lists.
#[doc(hidden)]
pub fn is_empty_field<T: EmptyField>(v: &T) -> bool {
    v.is_empty_field()
}

/// Fields that have an "absent" form.
#[doc(hidden)]
pub trait EmptyField {
    /// Whether the value is absent.
    fn is_empty_field(&self) -> bool;
}

impl<T> EmptyField for Option<T> {
    fn is_empty_field(&self) -> bool {
        self.is_none()
    }
}

impl<T> EmptyField for Vec<T> {
    fn is_empty_field(&self) -> bool {
        self.is_empty()
    }
}

/// Why an answer could not be decoded. Carries the element path and the problem, never the
/// body itself (answers of the OAuth service hold client secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    path: Vec<String>,
    reason: Cow<'static, str>,
}

impl DecodeError {
    pub(crate) fn new(reason: impl Into<Cow<'static, str>>) -> Self {
        Self {
            path: Vec::new(),
            reason: reason.into(),
        }
    }

    /// Adds the name of an enclosing element to the path.
    pub(crate) fn within(mut self, element: &str) -> Self {
        self.path.push(element.to_owned());
        self
    }

    /// The problem, without the element path.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The element path, outermost first (e.g. `return/claimConfig/claimMappings`).
    pub fn path(&self) -> String {
        let mut parts: Vec<&str> = self.path.iter().map(String::as_str).collect();
        parts.reverse();
        parts.join("/")
    }
}

impl fmt::Display for DecodeError {
    /// Element names come from the answer (so does a parser's message about them): they are
    /// shown bounded, with control characters escaped, like any [`ServerText`](crate::ServerText).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let limit = crate::ServerText::SHOWN;
        if self.path.is_empty() {
            f.write_str(&super::text::clean(&self.reason, limit))
        } else {
            write!(
                f,
                "at {}: {}",
                super::text::clean(&self.path(), limit),
                super::text::clean(&self.reason, limit)
            )
        }
    }
}

impl std::error::Error for DecodeError {}

/// A child element whose start tag was just read.
#[derive(Debug, Clone)]
pub struct Child {
    /// Its local name (prefix removed).
    pub local: String,
    /// Whether it carries `xsi:nil="true"`.
    pub nil: bool,
}

/// Deepest element nesting accepted in an answer. The deepest WSDL type used here nests about a
/// dozen levels; anything far deeper is hostile.
const MAX_DEPTH: usize = 64;

/// A streaming reader over a complete answer body, positioned inside one element at a time.
pub struct XmlReader<'a> {
    inner: quick_xml::Reader<&'a [u8]>,
    depth: usize,
}

impl fmt::Debug for XmlReader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XmlReader")
            .field("depth", &self.depth)
            .finish_non_exhaustive()
    }
}

fn xml_error(e: quick_xml::Error) -> DecodeError {
    // quick-xml errors name positions and syntax, never the document's text.
    DecodeError::new(format!("malformed XML: {e}"))
}

fn nil_attribute(start: &BytesStart<'_>) -> Result<bool, DecodeError> {
    for attr in start.attributes() {
        let attr = attr.map_err(|e| DecodeError::new(format!("malformed attribute: {e}")))?;
        if attr.key.local_name().as_ref() == "nil" {
            let v: &str = attr.value.as_ref();
            return Ok(v == "true" || v == "1");
        }
    }
    Ok(false)
}

impl<'a> XmlReader<'a> {
    /// A reader over `body`, before its root element.
    pub(crate) fn new(body: &'a [u8]) -> Self {
        let mut inner = quick_xml::Reader::from_reader(body);
        let config = inner.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        config.trim_text_start = false;
        config.trim_text_end = false;
        Self { inner, depth: 0 }
    }

    fn event(&mut self) -> Result<Event<'a>, DecodeError> {
        match self.inner.read_event().map_err(xml_error)? {
            Event::DocType(_) => Err(DecodeError::new(
                "document type declarations are not accepted",
            )),
            ev => Ok(ev),
        }
    }

    /// Reads the root element's start tag.
    pub(crate) fn root(&mut self) -> Result<Child, DecodeError> {
        loop {
            match self.event()? {
                Event::Start(s) => return self.entered(&s),
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
                Event::Text(t) if t.trim().is_empty() => {}
                Event::Eof => return Err(DecodeError::new("empty document")),
                _ => return Err(DecodeError::new("content before the root element")),
            }
        }
    }

    fn entered(&mut self, s: &BytesStart<'_>) -> Result<Child, DecodeError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(DecodeError::new("elements nested too deeply"));
        }
        let local = s.local_name().as_ref().to_owned();
        Ok(Child {
            local,
            nil: nil_attribute(s)?,
        })
    }

    /// The next child element of the current element, or `None` after its end tag (which is
    /// consumed). Text between children is ignored.
    pub fn next_child(&mut self) -> Result<Option<Child>, DecodeError> {
        loop {
            match self.event()? {
                Event::Start(s) => return self.entered(&s).map(Some),
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    return Ok(None);
                }
                Event::Eof => return Err(DecodeError::new("the document ends inside an element")),
                Event::GeneralRef(r) => {
                    resolve_reference(&r)?;
                }
                _ => {}
            }
        }
    }

    /// Reads the text content of the current element up to its end tag, resolving character
    /// and predefined entity references. Child elements are an error.
    pub fn read_text(&mut self) -> Result<String, DecodeError> {
        let mut text = String::new();
        loop {
            match self.event()? {
                Event::Text(t) => text.push_str(&t.xml10_content()),
                Event::CData(c) => text.push_str(&c.xml10_content()),
                Event::GeneralRef(r) => text.push(resolve_reference(&r)?),
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    return Ok(text);
                }
                Event::Start(_) => return Err(DecodeError::new("expected text, found an element")),
                Event::Eof => return Err(DecodeError::new("the document ends inside an element")),
                _ => {}
            }
        }
    }

    /// Reads the text directly inside the current element up to its end tag, skipping child
    /// elements (and their text) instead of failing on them.
    pub(crate) fn read_text_skipping_children(&mut self) -> Result<String, DecodeError> {
        let mut text = String::new();
        loop {
            match self.event()? {
                Event::Text(t) => text.push_str(&t.xml10_content()),
                Event::CData(c) => text.push_str(&c.xml10_content()),
                Event::GeneralRef(r) => text.push(resolve_reference(&r)?),
                Event::Start(_) => {
                    self.depth += 1;
                    if self.depth > MAX_DEPTH {
                        return Err(DecodeError::new("elements nested too deeply"));
                    }
                    self.skip()?;
                }
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    return Ok(text);
                }
                Event::Eof => return Err(DecodeError::new("the document ends inside an element")),
                _ => {}
            }
        }
    }

    /// Skips the rest of the current element, children included.
    pub fn skip(&mut self) -> Result<(), DecodeError> {
        let mut level = 1usize;
        loop {
            match self.event()? {
                Event::Start(_) => level += 1,
                Event::End(_) => {
                    level -= 1;
                    if level == 0 {
                        self.depth = self.depth.saturating_sub(1);
                        return Ok(());
                    }
                }
                Event::Eof => return Err(DecodeError::new("the document ends inside an element")),
                _ => {}
            }
        }
    }

    /// Checks that nothing but whitespace, comments and processing instructions follows the
    /// root element.
    pub(crate) fn finish(&mut self) -> Result<(), DecodeError> {
        loop {
            match self.event()? {
                Event::Eof => return Ok(()),
                Event::Comment(_) | Event::PI(_) => {}
                Event::Text(t) if t.trim().is_empty() => {}
                _ => return Err(DecodeError::new("content after the root element")),
            }
        }
    }
}

fn resolve_reference(r: &quick_xml::events::BytesRef<'_>) -> Result<char, DecodeError> {
    if r.is_char_ref() {
        return match r.resolve_char_ref() {
            Ok(Some(c)) => Ok(c),
            _ => Err(DecodeError::new("invalid character reference")),
        };
    }
    match r.as_ref() {
        "amp" => Ok('&'),
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "quot" => Ok('"'),
        "apos" => Ok('\''),
        _ => Err(DecodeError::new(
            "undeclared entity reference (entities are not expanded)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_happens_once_and_covers_markup() {
        assert_eq!(
            escape("a&b<c>d\"e'f\rg"),
            "a&amp;b&lt;c&gt;d&quot;e&apos;f&#13;g"
        );
        assert!(matches!(escape("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn text_round_trips_through_writer_and_reader() {
        let original = "apim & <friends> \"q\" 'a' \r\n ünïcødé";
        let mut w = XmlWriter::new();
        w.leaf(ns::MODEL, "name", original);
        let (xml, used) = w.finish().unwrap();
        assert_eq!(used, vec![ns::MODEL]);
        let mut r = XmlReader::new(xml.as_bytes());
        r.root().unwrap();
        assert_eq!(r.read_text().unwrap(), original);
        r.finish().unwrap();
    }

    #[test]
    fn control_characters_are_refused_before_sending() {
        let mut w = XmlWriter::new();
        w.leaf(ns::MODEL, "name", "bad\u{1}");
        assert!(matches!(
            w.finish(),
            Err(EncodeProblem::Unrepresentable {
                character: '\u{1}',
                ..
            })
        ));
    }

    #[test]
    fn doctype_and_unknown_entities_are_refused() {
        let laughs = br#"<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa">]><r>&a;</r>"#;
        let mut r = XmlReader::new(laughs);
        assert!(r.root().is_err());
        let mut r = XmlReader::new(b"<r>&a;</r>");
        r.root().unwrap();
        assert!(r.read_text().is_err());
    }

    #[test]
    fn nesting_depth_is_bounded() {
        let deep = "<a>".repeat(200) + &"</a>".repeat(200);
        let mut r = XmlReader::new(deep.as_bytes());
        r.root().unwrap();
        let mut err = None;
        for _ in 0..200 {
            match r.next_child() {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        assert_eq!(err.unwrap().reason(), "elements nested too deeply");
    }
}
