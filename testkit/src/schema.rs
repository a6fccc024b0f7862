//! The WSDL facts the SOAP services need: element order of each type, the served operations, and
//! an Axis2-ADB-like validator that refuses unknown and out-of-order child elements.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

use crate::wsdl_table::TABLES;
use crate::xml::{Element, Prefixes, XSI, escape};

/// XML Schema namespace (simple types).
pub(crate) const XS: &str = "http://www.w3.org/2001/XMLSchema";

/// One element of a complex type's sequence.
#[derive(Debug)]
pub(crate) struct Field {
    pub(crate) ns: &'static str,
    pub(crate) name: &'static str,
    pub(crate) ty: (&'static str, &'static str),
    pub(crate) many: bool,
}

/// A complex type with its fields in WSDL order.
#[derive(Debug)]
pub(crate) struct TypeDef {
    pub(crate) ns: &'static str,
    pub(crate) name: &'static str,
    pub(crate) fields: &'static [Field],
}

/// What an operation answers.
#[derive(Debug)]
pub(crate) enum Output {
    /// No output message: HTTP 202, empty body.
    InOnly,
    /// Output message without parts: `<ns:return xsi:nil="true"/>`.
    Void,
    /// A `return` element (repeated when `many`).
    Return {
        ty: (&'static str, &'static str),
        /// An array return (kept as a WSDL fact; the encoder writes whatever values it gets).
        #[allow(dead_code)]
        many: bool,
    },
}

/// The fault element declared for an operation.
#[derive(Debug)]
pub(crate) struct FaultDef {
    pub(crate) ns: &'static str,
    pub(crate) element: &'static str,
    pub(crate) inner: &'static str,
    pub(crate) ty: (&'static str, &'static str),
}

/// A served operation.
#[derive(Debug)]
pub(crate) struct OpDef {
    pub(crate) service: &'static str,
    pub(crate) name: &'static str,
    pub(crate) ns: &'static str,
    pub(crate) params: &'static [Field],
    pub(crate) output: Output,
    pub(crate) fault: Option<FaultDef>,
}

/// One WSDL version's types and served operations (see `tools/gen_wsdl_table.py`).
#[derive(Debug)]
pub(crate) struct Table {
    pub(crate) name: &'static str,
    /// Which releases use these WSDLs.
    #[allow(dead_code)]
    pub(crate) releases: &'static str,
    pub(crate) types: &'static [TypeDef],
    pub(crate) ops: &'static [OpDef],
}

type Index = HashMap<&'static str, Vec<&'static TypeDef>>;

fn indexes() -> &'static Vec<Index> {
    static IDX: OnceLock<Vec<Index>> = OnceLock::new();
    IDX.get_or_init(|| {
        TABLES
            .iter()
            .map(|t| {
                let mut m: Index = HashMap::new();
                for d in t.types {
                    m.entry(d.name).or_default().push(d);
                }
                m
            })
            .collect()
    })
}

impl Table {
    /// The complex type `ty`, if this table has it.
    pub(crate) fn type_def(&self, ty: (&str, &str)) -> Option<&'static TypeDef> {
        let i = TABLES.iter().position(|t| t.name == self.name)?;
        indexes()
            .get(i)?
            .get(ty.1)?
            .iter()
            .find(|t| t.ns == ty.0)
            .copied()
    }

    /// The operation `name` of `service`.
    pub(crate) fn op(&self, service: &str, name: &str) -> Option<&'static OpDef> {
        self.ops
            .iter()
            .find(|o| o.service == service && o.name == name)
    }
}

/// The WSDLs of the IS 5.9 / APIM 3.0 baseline.
pub(crate) fn baseline() -> &'static Table {
    &TABLES[0]
}

/// The newest WSDLs (a superset of the older ones' fields, in the same alphabetical order):
/// used to put trees the simulator builds into WSDL order.
pub(crate) fn newest() -> &'static Table {
    &TABLES[TABLES.len() - 1]
}

/// The WSDL table a server of `kind` uses under `profile` (contracts/README.md, WSO2-VERSIONS.md
/// §7.3): APIM 3.1/3.2 and IS 5.10 framework 5.17.5, APIM 4.0/4.1 and IS 5.11 5.18.187, APIM 4.2
/// and IS 6.0 5.24.8, IS 6.1 5.25.92, APIM 4.3+ and IS 7 5.25.682 (the closest vendored), IS 7's
/// OAuth service 7.0.26.
pub(crate) fn table_for(
    kind: crate::server::ServerKind,
    profile: &crate::server::Profile,
) -> &'static Table {
    use crate::version::{ApimVersion as A, IsVersion as I};
    let name = match kind {
        crate::server::ServerKind::Is => match profile.is {
            I::V5_9 => "BASE",
            I::V5_10 => "F5_17_5",
            I::V5_11 => "F5_18_187",
            I::V6_0 => "F5_24_8",
            I::V6_1 => "F5_25_92",
            _ => "IS7",
        },
        crate::server::ServerKind::Apim => match profile.apim {
            A::V3_0 => "BASE",
            A::V3_1 | A::V3_2 => "F5_17_5",
            A::V4_0 | A::V4_1 => "F5_18_187",
            A::V4_2 => "F5_24_8",
            _ => "F5_25_682",
        },
    };
    TABLES.iter().find(|t| t.name == name).unwrap_or(baseline())
}

/// The complex type `ty` in the newest WSDLs.
pub(crate) fn type_def(ty: (&str, &str)) -> Option<&'static TypeDef> {
    newest().type_def(ty)
}

/// All operations served by the baseline (for documentation and tests).
pub fn served_operations() -> Vec<(&'static str, &'static str)> {
    baseline().ops.iter().map(|o| (o.service, o.name)).collect()
}

/// Model namespace of the SP and IdP types.
pub(crate) const NS_MODEL: &str = "http://model.common.application.identity.carbon.wso2.org/xsd";
/// Wrapper namespace of the IdP service.
pub(crate) const NS_IDP: &str = "http://mgt.idp.carbon.wso2.org";
/// Namespace of OAuthConsumerAppDTO.
pub(crate) const NS_OAUTH_DTO: &str = "http://dto.oauth.identity.carbon.wso2.org/xsd";
/// The Axis2 wrapper namespace.
pub(crate) const NS_AXIS2: &str = "http://org.apache.axis2/xsd";

/// `(ns, name)` of a model type.
pub(crate) fn model(name: &'static str) -> (&'static str, &'static str) {
    (NS_MODEL, name)
}

/// Checks `el`'s children against `fields` the way Axis2 ADB reads a sequence: each child must be
/// a known element (qualified name) appearing at or after the previous one's position; repeats
/// only for unbounded fields. Returns the Axis2-like fault string on the first problem.
pub(crate) fn validate_fields(t: &Table, el: &Element, fields: &[Field]) -> Result<(), String> {
    let mut last: Option<usize> = None;
    for child in &el.children {
        let pos = fields
            .iter()
            .position(|f| f.name == child.name && f.ns == child.ns);
        let Some(pos) = pos else {
            return Err(unexpected(child));
        };
        let field = &fields[pos];
        match last {
            Some(l) if pos < l || (pos == l && !field.many) => return Err(unexpected(child)),
            _ => {}
        }
        last = Some(pos);
        validate_value(t, child, field.ty)?;
    }
    Ok(())
}

/// Checks one element's content against its declared type.
pub(crate) fn validate_value(t: &Table, el: &Element, ty: (&str, &str)) -> Result<(), String> {
    if el.nil {
        return Ok(());
    }
    if ty.0 == XS {
        if !el.children.is_empty() {
            return Err(unexpected(&el.children[0]));
        }
        let t = el.text.trim();
        let ok = match ty.1 {
            "int" => t.parse::<i32>().is_ok(),
            "long" => t.parse::<i64>().is_ok(),
            "boolean" => matches!(t, "true" | "false" | "1" | "0"),
            _ => true,
        };
        if !ok {
            return Err(format!("For input string: \"{}\"", el.text));
        }
        return Ok(());
    }
    match t.type_def(ty) {
        Some(def) => validate_fields(t, el, def.fields),
        None => Ok(()),
    }
}

fn unexpected(child: &Element) -> String {
    format!("Unexpected subelement {{{}}}{}", child.ns, child.name)
}

/// Binds a request wrapper the way the real servers' Axis2 RPC receiver does (the lenient mode):
/// top-level parameters are matched by local name walking the parameter list in order (skipped
/// ones stay absent, an unknown name runs the index past the end:
/// `Index N out of bounds for length N`, trailing elements after the last parameter are ignored);
/// inside beans, properties match case-insensitively in any order, unknown ones are dropped and
/// the first occurrence of a single-valued one wins. Returns the wrapper as a strict server
/// would have received it.
pub(crate) fn lenient_bind(t: &Table, wrapper: &Element, op: &OpDef) -> Result<Element, String> {
    let params = op.params;
    let mut out = Element::new(&wrapper.ns, &wrapper.name);
    let mut idx = 0usize;
    for child in &wrapper.children {
        if idx >= params.len() {
            break;
        }
        let pos = params[idx..]
            .iter()
            .position(|p| p.name == child.name)
            .map(|p| p + idx)
            .or_else(|| {
                (child.name.starts_with("arg") || child.name.starts_with("item")).then_some(idx)
            });
        let Some(pos) = pos else {
            let n = params.len();
            return Err(format!("Index {n} out of bounds for length {n}"));
        };
        let field = &params[pos];
        let mut bound = child.clone();
        bound.ns = field.ns.to_owned();
        bound.name = field.name.to_owned();
        if field.ty.0 != XS && !bound.nil {
            lenient_bean(t, &mut bound, field.ty);
        }
        out.children.push(bound);
        idx = if field.many { pos } else { pos + 1 };
    }
    Ok(out)
}

fn lenient_bean(t: &Table, el: &mut Element, ty: (&str, &str)) {
    let Some(def) = t.type_def(ty) else { return };
    let mut kept: Vec<Element> = Vec::new();
    for mut c in std::mem::take(&mut el.children) {
        let Some(f) = def
            .fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(&c.name))
        else {
            continue;
        };
        if !f.many && kept.iter().any(|k| k.name == f.name) {
            continue;
        }
        c.name = f.name.to_owned();
        c.ns = f.ns.to_owned();
        if f.ty.0 != XS && !c.nil {
            lenient_bean(t, &mut c, f.ty);
        }
        kept.push(c);
    }
    el.children = kept;
    normalize(el, ty);
}

/// Reorders the children of `el` (recursively) into WSDL order for type `ty`, dropping nothing.
/// Used for trees the simulator builds itself.
pub(crate) fn normalize(el: &mut Element, ty: (&str, &str)) {
    let Some(def) = type_def(ty) else { return };
    el.children.sort_by_key(|c| {
        def.fields
            .iter()
            .position(|f| f.name == c.name)
            .unwrap_or(usize::MAX)
    });
    for c in &mut el.children {
        if let Some(f) = def.fields.iter().find(|f| f.name == c.name) {
            c.ns = f.ns.to_owned();
            if f.ty.0 != XS {
                normalize(c, f.ty);
            }
        }
    }
}

/// Writes `el` (renamed to `{ns}name`) as a typed value the way Axis2 RPC answers: complex values
/// carry `xsi:type`, children use their declared namespaces.
pub(crate) fn write_typed(
    t: &Table,
    out: &mut String,
    ns: &str,
    name: &str,
    el: &Element,
    ty: (&str, &str),
    p: &mut Prefixes,
) {
    let pre = p.prefix(ns);
    if el.nil {
        let x = p.prefix(XSI);
        let _ = write!(out, "<{pre}:{name} {x}:nil=\"true\"/>");
        return;
    }
    if ty.0 == XS {
        if el.text.is_empty() {
            let _ = write!(out, "<{pre}:{name}/>");
        } else {
            let _ = write!(out, "<{pre}:{name}>{}</{pre}:{name}>", escape(&el.text));
        }
        return;
    }
    let x = p.prefix(XSI);
    let tp = p.prefix(ty.0);
    let _ = write!(out, "<{pre}:{name} {x}:type=\"{tp}:{}\">", ty.1);
    match t.type_def(ty) {
        // Axis2's bean writer emits every property in order: values, `xsi:nil` for null
        // objects, defaults for primitives; empty arrays produce nothing.
        Some(def) => {
            for f in def.fields {
                let mut any = false;
                for c in el.children.iter().filter(|c| c.name == f.name) {
                    any = true;
                    write_typed(t, out, f.ns, f.name, c, f.ty, p);
                    if !f.many {
                        break;
                    }
                }
                if !any && !f.many {
                    let fp = p.prefix(f.ns);
                    match (f.ty.0, f.ty.1) {
                        (XS, "int" | "long") => {
                            let _ = write!(out, "<{fp}:{0}>0</{fp}:{0}>", f.name);
                        }
                        (XS, "boolean") => {
                            let _ = write!(out, "<{fp}:{0}>false</{fp}:{0}>", f.name);
                        }
                        _ => {
                            let _ = write!(out, "<{fp}:{} {x}:nil=\"true\"/>", f.name);
                        }
                    }
                }
            }
        }
        None => {
            for c in &el.children {
                write_typed(t, out, &c.ns, &c.name, c, (XS, "string"), p);
            }
        }
    }
    let _ = write!(out, "</{pre}:{name}>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_the_service_provider_in_order() {
        let sp = baseline()
            .type_def(model("ServiceProvider"))
            .expect("ServiceProvider");
        let names: Vec<_> = sp.fields.iter().map(|f| f.name).collect();
        assert_eq!(names[0], "applicationID");
        assert_eq!(names[1], "applicationName");
        assert!(names.contains(&"localAndOutBoundAuthenticationConfig"));
    }

    #[test]
    fn consent_fields_exist_from_framework_5_17() {
        let has = |t: &Table, f: &str| {
            t.type_def(model("LocalAndOutboundAuthenticationConfig"))
                .is_some_and(|d| d.fields.iter().any(|x| x.name == f))
        };
        assert!(!has(baseline(), "skipConsent"));
        for name in ["F5_17_5", "F5_18_187", "F5_25_682"] {
            let t = TABLES.iter().find(|t| t.name == name).expect("table");
            assert!(
                has(t, "skipConsent") && has(t, "skipLogoutConsent"),
                "{name}"
            );
        }
    }

    #[test]
    fn out_of_order_children_are_refused() {
        let sp = Element::new(NS_AXIS2, "serviceProvider")
            .with(Element::leaf(NS_MODEL, "description", "d"))
            .with(Element::leaf(NS_MODEL, "applicationName", "x"));
        let err = validate_value(baseline(), &sp, model("ServiceProvider")).expect_err("refused");
        assert!(err.contains("applicationName"), "{err}");
    }
}
