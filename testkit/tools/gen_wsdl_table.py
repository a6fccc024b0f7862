#!/usr/bin/env python3
"""Writes src/wsdl_table.rs: the element order of every WSDL type that the simulated SOAP operations use.

The table holds facts about the interface only (element names, their order, types, cardinality,
namespaces) read from the real WSO2 WSDLs in $WSO2_CONTRACTS_DIR/soap; the WSDL files themselves are
never copied into the repository.

Usage: gen_wsdl_table.py [--check] [CONTRACTS_DIR]
  --check   exit 1 when src/wsdl_table.rs differs from what the WSDLs give (used by a test)
"""
import os
import sys
from lxml import etree

XS = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"

# Service -> the operations the simulator serves.
SERVICES = {
    "IdentityApplicationManagementService": [
        "createApplication", "getApplication", "updateApplication", "deleteApplication",
        "getAllApplicationBasicInfo",
    ],
    "OAuthAdminService": [
        "registerOAuthApplicationData", "registerAndRetrieveOAuthApplicationData",
        "getOAuthApplicationDataByAppName", "getOAuthApplicationData", "updateConsumerApplication",
        "removeOAuthApplicationData", "getAllOAuthApplicationData",
    ],
    "IdentityProviderMgtService": ["addIdP", "getIdPByName", "updateIdP", "deleteIdP", "getAllIdPs"],
    "RemoteUserStoreManagerService": [
        "addUser", "addRole", "deleteUser", "deleteRole", "isExistingUser", "isExistingRole",
        "getRoleNames", "getRoleListOfUser", "updateRoleListOfUser",
    ],
    "AuthenticationAdmin": ["login", "logout"],
}


def qname(el, value):
    prefix, _, local = value.rpartition(":")
    return (el.nsmap.get(prefix or None), local)


class Wsdl:
    def __init__(self, path):
        self.doc = etree.parse(path, etree.XMLParser(resolve_entities=False, no_network=True))
        root = self.doc.getroot()
        self.tns = root.get("targetNamespace")
        self.types = {}
        self.elements = {}
        for schema in root.iter(f"{{{XS}}}schema"):
            ns = schema.get("targetNamespace")
            for ct in schema.findall(f"{{{XS}}}complexType"):
                self.types[(ns, ct.get("name"))] = (ns, ct)
            for el in schema.findall(f"{{{XS}}}element"):
                self.elements[(ns, el.get("name"))] = (ns, el)
        self.messages = {}
        for m in root.findall(f"{{{WSDL}}}message"):
            part = m.find(f"{{{WSDL}}}part")
            self.messages[m.get("name")] = None if part is None else qname(part, part.get("element"))
        self.port_ops = {}
        for pt in root.findall(f"{{{WSDL}}}portType"):
            for op in pt.findall(f"{{{WSDL}}}operation"):
                inp = op.find(f"{{{WSDL}}}input")
                out = op.find(f"{{{WSDL}}}output")
                faults = [f.get("message").split(":")[-1] for f in op.findall(f"{{{WSDL}}}fault")]
                self.port_ops[op.get("name")] = (
                    inp.get("message").split(":")[-1],
                    None if out is None else out.get("message").split(":")[-1],
                    faults,
                )

    def fields(self, ns, ct):
        """Flattened (ns, name, type, many) list of a complex type, base type first."""
        out = []
        cc = ct.find(f"{{{XS}}}complexContent")
        seq_parent = ct
        if cc is not None:
            ext = cc.find(f"{{{XS}}}extension")
            base = qname(ext, ext.get("base"))
            bns, bct = self.types[base]
            out.extend(self.fields(bns, bct))
            seq_parent = ext
        seq = seq_parent.find(f"{{{XS}}}sequence")
        if seq is not None:
            for e in seq.findall(f"{{{XS}}}element"):
                t = e.get("type")
                ty = qname(e, t) if t else (XS, "anyType")
                out.append((ns, e.get("name"), ty, e.get("maxOccurs") == "unbounded"))
        return out


def rust_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    check = "--check" in sys.argv
    args = [a for a in sys.argv[1:] if a != "--check"]
    here = os.path.dirname(os.path.abspath(__file__))
    contracts = args[0] if args else os.environ.get(
        "WSO2_CONTRACTS_DIR", os.path.join(here, "..", "..", "..", "shared", "contracts"))
    types = {}  # (ns, name) -> fields
    ops = []

    def visit(w, ty):
        if ty[0] == XS or ty in types:
            return
        ns, ct = w.types[ty]
        fl = w.fields(ns, ct)
        types[ty] = fl
        for (_, _, fty, _) in fl:
            visit(w, fty)

    for svc, names in SERVICES.items():
        w = Wsdl(os.path.join(contracts, "soap", svc + ".wsdl"))
        for op in names:
            inp, out, faults = w.port_ops[op]
            in_el = w.messages[inp]
            ens, el = w.elements[in_el]
            ct = el.find(f"{{{XS}}}complexType")
            params = w.fields(ens, ct) if ct is not None else []
            for p in params:
                visit(w, p[2])
            if out is None:
                output = "Output::InOnly"
            elif w.messages[out] is None:
                output = "Output::Void"
            else:
                ons, oel = w.elements[w.messages[out]]
                oct = oel.find(f"{{{XS}}}complexType")
                ofl = w.fields(ons, oct) if oct is not None else []
                if not ofl:
                    output = "Output::Void"
                else:
                    (_, rname, rty, many) = ofl[0]
                    visit(w, rty)
                    output = f"Output::Return {{ ty: ({rust_str(rty[0])}, {rust_str(rty[1])}), many: {str(many).lower()} }}"
            fault = "None"
            if faults:
                fel = w.messages[faults[0]]
                fns, fe = w.elements[fel]
                inner = w.fields(fns, fe.find(f"{{{XS}}}complexType"))[0]
                visit(w, inner[2])
                fault = (f"Some(FaultDef {{ ns: {rust_str(fns)}, element: {rust_str(fel[1])}, inner: {rust_str(inner[1])}, "
                         f"ty: ({rust_str(inner[2][0])}, {rust_str(inner[2][1])}) }})")
            ops.append((svc, op, ens, params, output, fault))

    lines = [
        "// @generated by tools/gen_wsdl_table.py from the WSO2 WSDLs in $WSO2_CONTRACTS_DIR/soap.",
        "// Facts about the interface (element names, order, types, cardinality); no WSDL text is copied.",
        "// Regenerate: python3 testkit/tools/gen_wsdl_table.py > testkit/src/wsdl_table.rs",
        "",
        "use crate::schema::{FaultDef, Field, OpDef, Output, TypeDef};",
        "",
        "/// Every complex type reachable from the served operations, fields in WSDL order (base type first).",
        "pub(crate) static TYPES: &[TypeDef] = &[",
    ]
    for (ns, name) in sorted(types):
        lines.append(f"    TypeDef {{ ns: {rust_str(ns)}, name: {rust_str(name)}, fields: &[")
        for (fns, fname, fty, many) in types[(ns, name)]:
            lines.append(f"        Field {{ ns: {rust_str(fns)}, name: {rust_str(fname)}, ty: ({rust_str(fty[0])}, {rust_str(fty[1])}), many: {str(many).lower()} }},")
        lines.append("    ] },")
    lines.append("];")
    lines.append("")
    lines.append("/// The served operations: request wrapper namespace and parameters, answer kind, fault element.")
    lines.append("pub(crate) static OPS: &[OpDef] = &[")
    for (svc, op, ens, params, output, fault) in ops:
        lines.append(f"    OpDef {{ service: {rust_str(svc)}, name: {rust_str(op)}, ns: {rust_str(ens)}, params: &[")
        for (fns, fname, fty, many) in params:
            lines.append(f"        Field {{ ns: {rust_str(fns)}, name: {rust_str(fname)}, ty: ({rust_str(fty[0])}, {rust_str(fty[1])}), many: {str(many).lower()} }},")
        lines.append(f"    ], output: {output}, fault: {fault} }},")
    lines.append("];")
    text = "\n".join(lines) + "\n"
    if check:
        with open(os.path.join(here, "..", "src", "wsdl_table.rs")) as f:
            # Compared without whitespace, so formatting the file does not matter.
            if "".join(f.read().split()) != "".join(text.split()):
                print("src/wsdl_table.rs differs from the WSDLs; regenerate it", file=sys.stderr)
                sys.exit(1)
        print(f"wsdl table matches the WSDLs: {len(types)} types, {len(ops)} operations")
        return
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
