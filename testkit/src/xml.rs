//! A small owned XML element tree: what the simulated servers parse requests into and store.
//!
//! Deliberately independent of the client crates' model types: the simulator keeps what it was sent
//! as a tree of qualified elements, so a bug in a client's model cannot be mirrored here.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// The XML Schema instance namespace (`xsi:nil`, `xsi:type`).
pub(crate) const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// The SOAP 1.1 envelope namespace.
pub(crate) const SOAP11: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// The SOAP 1.2 envelope namespace (answered with a version-mismatch fault).
pub(crate) const SOAP12: &str = "http://www.w3.org/2003/05/soap-envelope";

/// One XML element: qualified name, `xsi:nil`, text (for leaves) and child elements in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Element {
    /// Namespace URI (empty when unqualified).
    pub ns: String,
    /// Local name.
    pub name: String,
    /// Whether the element carried `xsi:nil="true"`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nil: bool,
    /// Text content (only kept for elements without child elements).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// Child elements in document order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Element>,
}

/// Why a document could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

impl Element {
    /// An empty element `{ns}name`.
    pub fn new(ns: &str, name: &str) -> Self {
        Self {
            ns: ns.to_owned(),
            name: name.to_owned(),
            ..Self::default()
        }
    }

    /// A leaf `{ns}name` holding `text`.
    pub fn leaf(ns: &str, name: &str, text: impl Into<String>) -> Self {
        Self {
            ns: ns.to_owned(),
            name: name.to_owned(),
            text: text.into(),
            ..Self::default()
        }
    }

    /// Appends a child and returns `self` (builder style).
    pub fn with(mut self, child: Element) -> Self {
        self.children.push(child);
        self
    }

    /// Appends a leaf child in this element's namespace (builder style).
    pub fn with_leaf(mut self, name: &str, text: impl Into<String>) -> Self {
        let ns = self.ns.clone();
        self.children.push(Element::leaf(&ns, name, text));
        self
    }

    /// The first child with this local name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The first child with this local name, mutably.
    pub fn child_mut(&mut self, name: &str) -> Option<&mut Element> {
        self.children.iter_mut().find(|c| c.name == name)
    }

    /// All children with this local name.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Text of the first child with this local name, unless absent or nil.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).filter(|c| !c.nil).map(|c| c.text.as_str())
    }

    /// Follows a path of local names (`"localAndOutBoundAuthenticationConfig/authenticationType"`).
    pub fn at(&self, path: &str) -> Option<&Element> {
        let mut cur = self;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            cur = cur.child(part)?;
        }
        Some(cur)
    }

    /// Text at a path of local names, unless absent or nil.
    pub fn text_at(&self, path: &str) -> Option<&str> {
        self.at(path).filter(|e| !e.nil).map(|e| e.text.as_str())
    }

    /// Removes every child with this local name.
    pub fn remove_all(&mut self, name: &str) {
        self.children.retain(|c| c.name != name);
    }

    /// Sets the text of the child `name`, creating it (at the end) if missing.
    pub fn set_text(&mut self, name: &str, text: impl Into<String>) {
        let text = text.into();
        if let Some(c) = self.child_mut(name) {
            c.text = text;
            c.nil = false;
            c.children.clear();
        } else {
            let ns = self.ns.clone();
            self.children.push(Element::leaf(&ns, name, text));
        }
    }

    /// Number of elements in this tree (itself included).
    pub fn count(&self) -> usize {
        1 + self.children.iter().map(Element::count).sum::<usize>()
    }

    /// Parses a document (no DTD allowed) into its root element.
    pub fn parse(text: &str) -> Result<Element, ParseError> {
        let opts = roxmltree::ParsingOptions {
            allow_dtd: false,
            nodes_limit: 2_000_000,
            ..roxmltree::ParsingOptions::default()
        };
        let doc = roxmltree::Document::parse_with_options(text, opts)
            .map_err(|e| ParseError(e.to_string()))?;
        Ok(from_node(doc.root_element()))
    }

    /// Serialises the tree as XML, declaring namespaces on the root with generated prefixes.
    pub fn to_xml(&self) -> String {
        let mut prefixes = Prefixes::default();
        let mut body = String::new();
        write_plain(&mut body, self, &mut prefixes, true);
        // The root's start tag gets the namespace declarations.
        let decls = prefixes.declarations();
        match body.find(['>', '/']) {
            Some(pos) if pos > 0 => {
                let mut out = String::with_capacity(body.len() + decls.len());
                out.push_str(&body[..pos]);
                out.push_str(&decls);
                out.push_str(&body[pos..]);
                out
            }
            _ => body,
        }
    }

    /// Flattened `path = value` lines, used for readable diffs.
    pub fn flatten(&self) -> Vec<String> {
        let mut out = Vec::new();
        flatten_into(self, &self.name, &mut out);
        out
    }
}

fn flatten_into(el: &Element, path: &str, out: &mut Vec<String>) {
    if el.nil {
        out.push(format!("{path} = (nil)"));
        return;
    }
    if el.children.is_empty() {
        out.push(format!("{path} = {:?}", el.text));
        return;
    }
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &el.children {
        let n = seen.entry(c.name.as_str()).or_insert(0);
        let p = format!("{path}/{}[{}]", c.name, n);
        *n += 1;
        flatten_into(c, &p, out);
    }
}

fn from_node(node: roxmltree::Node<'_, '_>) -> Element {
    let tag = node.tag_name();
    let nil = matches!(node.attribute((XSI, "nil")), Some("true") | Some("1"));
    let mut children = Vec::new();
    let mut text = String::new();
    for c in node.children() {
        if c.is_element() {
            children.push(from_node(c));
        } else if c.is_text() {
            text.push_str(c.text().unwrap_or(""));
        }
    }
    if !children.is_empty() {
        text.clear();
    }
    Element {
        ns: tag.namespace().unwrap_or("").to_owned(),
        name: tag.name().to_owned(),
        nil,
        text,
        children,
    }
}

/// Namespace URI -> prefix assignments for one written document.
#[derive(Default)]
pub(crate) struct Prefixes {
    map: Vec<(String, String)>,
}

impl Prefixes {
    /// Prefix for `ns`, assigning a new one (`ns0`, `ns1`, ...) when first seen.
    pub(crate) fn prefix(&mut self, ns: &str) -> String {
        if let Some((_, p)) = self.map.iter().find(|(n, _)| n == ns) {
            return p.clone();
        }
        let p = well_known_prefix(ns)
            .filter(|p| !self.map.iter().any(|(_, q)| q == p))
            .map(str::to_owned)
            .unwrap_or_else(|| format!("ax{}", 2100 + self.map.len()));
        self.map.push((ns.to_owned(), p.clone()));
        p
    }

    /// Assigns `prefix` to `ns` (unless `ns` already has one); returns the prefix in force.
    pub(crate) fn prefix_as(&mut self, ns: &str, prefix: &str) -> String {
        if let Some((_, p)) = self.map.iter().find(|(n, _)| n == ns) {
            return p.clone();
        }
        self.map.push((ns.to_owned(), prefix.to_owned()));
        prefix.to_owned()
    }

    /// ` xmlns:p="ns"` for every assigned prefix.
    pub(crate) fn declarations(&self) -> String {
        let mut s = String::new();
        for (ns, p) in &self.map {
            let _ = write!(s, " xmlns:{p}=\"{}\"", escape(ns));
        }
        s
    }
}

fn well_known_prefix(ns: &str) -> Option<&'static str> {
    Some(match ns {
        XSI => "xsi",
        SOAP11 => "soapenv",
        "http://www.w3.org/2001/XMLSchema" => "xs",
        _ => return None,
    })
}

fn write_plain(out: &mut String, el: &Element, prefixes: &mut Prefixes, root: bool) {
    let _ = root;
    let qn = qualified(el, prefixes);
    out.push('<');
    out.push_str(&qn);
    if el.nil {
        let x = prefixes.prefix(XSI);
        let _ = write!(out, " {x}:nil=\"true\"/>");
        return;
    }
    if el.children.is_empty() && el.text.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    if el.children.is_empty() {
        out.push_str(&escape(&el.text));
    } else {
        for c in &el.children {
            write_plain(out, c, prefixes, false);
        }
    }
    let _ = write!(out, "</{qn}>");
}

fn qualified(el: &Element, prefixes: &mut Prefixes) -> String {
    if el.ns.is_empty() {
        el.name.clone()
    } else {
        format!("{}:{}", prefixes.prefix(&el.ns), el.name)
    }
}

/// Escapes text and attribute values (the one place markup characters are escaped).
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_names_text_and_nil() {
        let xml = r#"<a:x xmlns:a="urn:a" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><a:y>1 &amp; &lt;2&gt;</a:y><a:z xsi:nil="true"/><w/></a:x>"#;
        let el = Element::parse(xml).expect("parses");
        assert_eq!(el.text_of("y"), Some("1 & <2>"));
        assert!(el.child("z").is_some_and(|z| z.nil));
        let again = Element::parse(&el.to_xml()).expect("reparses");
        assert_eq!(el, again);
    }

    #[test]
    fn dtd_is_refused() {
        let xml = r#"<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>"#;
        assert!(Element::parse(xml).is_err());
    }
}
