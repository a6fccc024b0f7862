#!/usr/bin/env python3
"""Writes src/wsdl_table.rs: the element order of every WSDL type that the simulated SOAP operations use,
one table per WSDL version (which product releases use which WSDL: contracts/README.md and
WSO2-VERSIONS.md §7.3).

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
        "getRoleNames", "getRoleListOfUser", "updateRoleListOfUser", "getUserListOfRole",
        "authenticate",
    ],
    "AuthenticationAdmin": ["login", "logout"],
}


# (table, releases, service -> WSDL file under soap/); services not named use their baseline file.
TABLES = [
    ("BASE", "IS 5.9, APIM 3.0 (framework 5.14.97, oauth 6.2.28)", {}),
    ("F5_17_5", "IS 5.10, APIM 3.1-3.2 (framework 5.17.5, oauth 6.4.2)", {
        "IdentityApplicationManagementService": "IdentityApplicationManagementService.v5.17.5-apim3.1.wsdl",
        "IdentityProviderMgtService": "IdentityProviderMgtService.v5.18.187-apim4.0.wsdl",
        "OAuthAdminService": "OAuthAdminService.v6.4.2-apim3.1.wsdl"}),
    ("F5_18_187", "IS 5.11, APIM 4.0-4.1 (framework 5.18.187, oauth 6.4.111)", {
        "IdentityApplicationManagementService": "IdentityApplicationManagementService.v5.18.187-apim4.0.wsdl",
        "IdentityProviderMgtService": "IdentityProviderMgtService.v5.18.187-apim4.0.wsdl",
        "OAuthAdminService": "OAuthAdminService.v6.4.111-apim4.wsdl"}),
    ("F5_24_8", "IS 6.0, APIM 4.2 (framework 5.24.8, oauth 6.4.111)", {
        "IdentityApplicationManagementService": "IdentityApplicationManagementService.v5.24.8-apim4.2.wsdl",
        "IdentityProviderMgtService": "IdentityProviderMgtService.v5.24.8-apim4.2.wsdl",
        "OAuthAdminService": "OAuthAdminService.v6.4.111-apim4.wsdl"}),
    ("F5_25_92", "IS 6.1 (framework 5.25.92, oauth 6.4.111)", {
        "IdentityApplicationManagementService": "IdentityApplicationManagementService.v5.25.92-is6.1.wsdl",
        "IdentityProviderMgtService": "IdentityProviderMgtService.v5.25.92-is6.1.wsdl",
        "OAuthAdminService": "OAuthAdminService.v6.4.111-apim4.wsdl"}),
    ("F5_25_682", "APIM 4.3-4.7 (framework 5.25.682, the closest vendored; oauth 6.4.111)", {
        "IdentityApplicationManagementService": "IdentityApplicationManagementService.v5.25.682.wsdl",
        "IdentityProviderMgtService": "IdentityProviderMgtService.v5.25.682.wsdl",
        "OAuthAdminService": "OAuthAdminService.v6.4.111-apim4.wsdl"}),
    ("IS7", "IS 7.x (framework 5.25.682 = 7.0.0, the closest vendored; oauth 7.0.26)", {
        "IdentityApplicationManagementService": "IdentityApplicationManagementService.v5.25.682.wsdl",
        "IdentityProviderMgtService": "IdentityProviderMgtService.v5.25.682.wsdl",
        "OAuthAdminService": "OAuthAdminService.v7.0.26-is7.wsdl"}),
]


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
    lines = [
        "// @generated by tools/gen_wsdl_table.py from the WSO2 WSDLs in $WSO2_CONTRACTS_DIR/soap.",
        "// Facts about the interface (element names, order, types, cardinality); no WSDL text is copied.",
        "// Regenerate: python3 testkit/tools/gen_wsdl_table.py > testkit/src/wsdl_table.rs",
        "",
        "use crate::schema::{FaultDef, Field, OpDef, Output, Table, TypeDef};",
        "",
    ]
    counts = []
    for (tname, releases, files) in TABLES:
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
            w = Wsdl(os.path.join(contracts, "soap", files.get(svc, svc + ".wsdl")))
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
        counts.append((tname, len(types), len(ops)))
        lines.append(f"/// {releases}: every complex type reachable from the served operations, fields in WSDL order.")
        lines.append(f"static TYPES_{tname}: &[TypeDef] = &[")
        for (ns, name) in sorted(types):
            lines.append(f"    TypeDef {{ ns: {rust_str(ns)}, name: {rust_str(name)}, fields: &[")
            for (fns, fname, fty, many) in types[(ns, name)]:
                lines.append(f"        Field {{ ns: {rust_str(fns)}, name: {rust_str(fname)}, ty: ({rust_str(fty[0])}, {rust_str(fty[1])}), many: {str(many).lower()} }},")
            lines.append("    ] },")
        lines.append("];")
        lines.append("")
        lines.append(f"/// {releases}: the served operations.")
        lines.append(f"static OPS_{tname}: &[OpDef] = &[")
        for (svc, op, ens, params, output, fault) in ops:
            lines.append(f"    OpDef {{ service: {rust_str(svc)}, name: {rust_str(op)}, ns: {rust_str(ens)}, params: &[")
            for (fns, fname, fty, many) in params:
                lines.append(f"        Field {{ ns: {rust_str(fns)}, name: {rust_str(fname)}, ty: ({rust_str(fty[0])}, {rust_str(fty[1])}), many: {str(many).lower()} }},")
            lines.append(f"    ], output: {output}, fault: {fault} }},")
        lines.append("];")
        lines.append("")
    lines.append("/// Every table, oldest WSDLs first.")
    lines.append("pub(crate) static TABLES: &[Table] = &[")
    for (tname, releases, _) in TABLES:
        lines.append(f"    Table {{ name: {rust_str(tname)}, releases: {rust_str(releases)}, types: TYPES_{tname}, ops: OPS_{tname} }},")
    lines.append("];")
    text = "\n".join(lines) + "\n"
    if check:
        with open(os.path.join(here, "..", "src", "wsdl_table.rs")) as f:
            # Compared without whitespace, so formatting the file does not matter.
            if "".join(f.read().split()) != "".join(text.split()):
                print("src/wsdl_table.rs differs from the WSDLs; regenerate it", file=sys.stderr)
                sys.exit(1)
        print("wsdl tables match the WSDLs: " + ", ".join(f"{n} {t} types / {o} operations" for n, t, o in counts))
        return
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
