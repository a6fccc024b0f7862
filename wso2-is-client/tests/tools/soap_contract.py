#!/usr/bin/env python3
"""Contract checks for the SOAP bodies wso2-is-client sends.

Reads a JSON document on stdin:
    {"contracts": "<dir with *.wsdl>", "xmllint": "<path>", "cases": [{"id", "wsdl", "operation", "body"}]}
where "body" is the operation's wrapper element as a standalone XML document.

For each case:
  1. xmllint --schema: the body is validated against the XML Schema extracted from the WSDL
     (the <xs:schema> blocks of the WSDL, written out as files with schemaLocation on imports).
  2. zeep differential: zeep (strict, driven by the same WSDL) parses our body into its own
     objects, builds the request for the same operation from them, and the two bodies are compared
     by meaning (namespace-qualified names, attributes, text; prefixes and formatting ignored).

Writes a JSON document on stdout: {"results": [{"id", "xmllint": "ok" | message, "zeep": "ok" | message}]}.
"""
import copy
import json
import os
import subprocess
import sys
import tempfile

from lxml import etree
from zeep import Client, Settings

XS = "http://www.w3.org/2001/XMLSchema"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SAFE = etree.XMLParser(resolve_entities=False, no_network=True)


def extract_schemas(wsdl_path, outdir):
    """Writes each <xs:schema> of the WSDL to its own file; returns {targetNamespace: path}."""
    root = etree.parse(wsdl_path, SAFE).getroot()
    schemas = root.findall(".//{%s}schema" % XS)
    files = {s.get("targetNamespace"): "schema%d.xsd" % i for i, s in enumerate(schemas)}
    for s in schemas:
        # Namespace declarations the schema relies on may sit on the WSDL root.
        nsmap = {k: v for k, v in root.nsmap.items() if k is not None}
        nsmap.update({k: v for k, v in s.nsmap.items() if k is not None})
        out = etree.Element(s.tag, nsmap=nsmap)
        for k, v in s.attrib.items():
            out.set(k, v)
        for child in s:
            out.append(copy.deepcopy(child))
        for imp in out.findall("{%s}import" % XS):
            target = files.get(imp.get("namespace"))
            if target:
                imp.set("schemaLocation", target)
        etree.ElementTree(out).write(
            os.path.join(outdir, files[s.get("targetNamespace")]), xml_declaration=True, encoding="UTF-8"
        )
    return {ns: os.path.join(outdir, name) for ns, name in files.items()}


def canonical(el):
    """Prefix-independent form of an element tree."""
    attrs = sorted((k, v) for k, v in el.attrib.items())
    children = [canonical(c) for c in el if isinstance(c.tag, str)]
    text = el.text or ""
    if children and not text.strip():
        text = ""
    return (el.tag, attrs, text, children)


def first_difference(a, b, path=""):
    if a[0] != b[0]:
        return "%s: element %s vs %s" % (path or "/", a[0], b[0])
    here = path + "/" + a[0].split("}")[-1]
    if a[1] != b[1]:
        return "%s: attributes %r vs %r" % (here, a[1], b[1])
    if a[2] != b[2]:
        return "%s: text %r vs %r" % (here, a[2][:80], b[2][:80])
    for i, (x, y) in enumerate(zip(a[3], b[3])):
        d = first_difference(x, y, "%s[%d]" % (here, i))
        if d:
            return d
    if len(a[3]) != len(b[3]):
        extra = (a[3] if len(a[3]) > len(b[3]) else b[3])[min(len(a[3]), len(b[3]))]
        return "%s: %d children vs %d (first extra: %s)" % (here, len(a[3]), len(b[3]), extra[0])
    return None


def main():
    job = json.load(sys.stdin)
    contracts, xmllint = job["contracts"], job["xmllint"]
    settings = Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    clients, schemas, results = {}, {}, []
    with tempfile.TemporaryDirectory() as tmp:
        for case in job["cases"]:
            wsdl = os.path.join(contracts, case["wsdl"])
            if wsdl not in clients:
                clients[wsdl] = Client(wsdl, settings=settings)
                outdir = os.path.join(tmp, case["wsdl"])
                os.makedirs(outdir)
                schemas[wsdl] = extract_schemas(wsdl, outdir)
            client = clients[wsdl]
            body = etree.fromstring(case["body"].encode("utf-8"), SAFE)
            result = {"id": case["id"]}

            # 1. xmllint against the schema of the wrapper element's namespace.
            ns = etree.QName(body).namespace
            xsd = schemas[wsdl].get(ns)
            if xsd is None:
                result["xmllint"] = "no schema in %s for namespace %s" % (case["wsdl"], ns)
            else:
                doc = os.path.join(tmp, "body-%s.xml" % case["id"])
                with open(doc, "wb") as f:
                    f.write(case["body"].encode("utf-8"))
                p = subprocess.run([xmllint, "--noout", "--schema", xsd, doc], capture_output=True, text=True)
                result["xmllint"] = "ok" if p.returncode == 0 else (p.stderr.strip() or "exit %d" % p.returncode)

            # 2. zeep: parse ours with the WSDL's types, rebuild the request, compare.
            try:
                element = client.get_element(body.tag)
                value = element.parse(body, client.wsdl.types)
                # An operation without parameters parses to nothing.
                kwargs = {} if value is None else {name: value[name] for name in value}
                envelope = client.create_message(client.service, case["operation"], **kwargs)
                theirs = envelope.find("{%s}Body" % SOAP11)[0]
                diff = first_difference(canonical(body), canonical(theirs))
                result["zeep"] = "ok" if diff is None else diff
            except Exception as e:  # a failure to parse or build is a finding, not a crash
                result["zeep"] = "%s: %s" % (type(e).__name__, e)
            results.append(result)
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
