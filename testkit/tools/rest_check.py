#!/usr/bin/env python3
"""Validates the simulated IS REST API's answers against the release's own OpenAPI specs
(openapi-core), then lets schemathesis exercise the same operations.

Two specs contain TABs that strict YAML rejects (oidc-scope-management >= 1.2.3, claim-management
>= 1.0.190; WSO2-VERSIONS.md P13): they are loaded leniently, TABs read as spaces.

Usage: rest_check.py CONTRACTS_DIR IS_URL CA_PEM APPS_SPEC SCOPES_SPEC [--schemathesis N]
Prints one JSON line: {"validated": N, "operations": [...], "failures": [...],
"schemathesis": {...}}. Exit 1 when an answer does not validate.
"""
import json
import os
import subprocess
import sys
import tempfile

import requests
import yaml
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

contracts, is_url, ca, apps_file, scopes_file = sys.argv[1:6]
examples = int(sys.argv[sys.argv.index("--schemathesis") + 1]) if "--schemathesis" in sys.argv else 0
base = f"{is_url}/t/carbon.super/api/server/v1"


def str_keys(v):
    """YAML reads unquoted response codes (`200:`) as integers; OpenAPI keys are strings."""
    if isinstance(v, dict):
        return {str(k): str_keys(x) for k, x in v.items()}
    if isinstance(v, list):
        return [str_keys(x) for x in v]
    return v


def load(name):
    with open(os.path.join(contracts, "rest", name), encoding="utf-8") as f:
        d = str_keys(yaml.safe_load(f.read().replace("\t", "  ")))
    d["servers"] = [{"url": base}]
    return d


s = requests.Session()
s.trust_env = False
s.verify = ca
s.auth = ("admin", "admin")
validated, ops, failures = 0, [], []


def check(api, name, method, path, body=None, expect=None):
    global validated
    r = s.request(method, base + path, json=body)
    if expect is not None and r.status_code != expect:
        failures.append(f"{name}: HTTP {r.status_code}, expected {expect}: {r.text[:300]}")
        return r
    req = RequestsOpenAPIRequest(r.request)
    try:
        api.validate_response(req, RequestsOpenAPIResponse(r))
        validated += 1
        ops.append(f"{method} {path.split('?')[0]} -> {r.status_code}")
    except Exception as e:  # noqa: BLE001 - every validation problem is reported
        detail = getattr(e, "__cause__", None) or e
        failures.append(f"{name}: {type(e).__name__}: {detail}"[:600])
    return r


apps_spec, scopes_spec = load(apps_file), load(scopes_file)
apps, scopes = OpenAPI.from_dict(apps_spec), OpenAPI.from_dict(scopes_spec)
r = check(apps, "create", "POST", "/applications", {
    "name": "rest-check",
    "inboundProtocolConfiguration": {"oidc": {"grantTypes": ["authorization_code"],
                                              "callbackURLs": ["https://apim.example:9443/commonauth"]}},
    "claimConfiguration": {"dialect": "LOCAL",
                           "requestedClaims": [{"claim": {"uri": "http://wso2.org/claims/groups"}, "mandatory": True}]}},
    expect=201)
app_id = r.headers.get("Location", "").rsplit("/", 1)[-1]
check(apps, "list", "GET", "/applications?filter=name+eq+rest-check", expect=200)
check(apps, "list all", "GET", "/applications?limit=1", expect=200)
check(apps, "get", "GET", f"/applications/{app_id}", expect=200)
check(apps, "get oidc", "GET", f"/applications/{app_id}/inbound-protocols/oidc", expect=200)
check(apps, "duplicate", "POST", "/applications", {"name": "rest-check"})
check(apps, "unknown id", "GET", "/applications/00000000-0000-4000-a000-000000000000", expect=404)
check(apps, "unknown field", "POST", "/applications", {"name": "x", "noSuchField": 1}, expect=400)
check(apps, "patch", "PATCH", f"/applications/{app_id}", {"description": "checked"}, expect=200)
check(scopes, "scopes", "GET", "/oidc/scopes", expect=200)
check(scopes, "scope", "GET", "/oidc/scopes/openid", expect=200)
check(scopes, "missing scope", "GET", "/oidc/scopes/no-such-scope", expect=404)
check(apps, "delete", "DELETE", f"/applications/{app_id}", expect=204)

report = {"validated": validated, "operations": ops, "failures": failures}

# schemathesis findings that are the real server's behaviour, which the specs do not describe:
KNOWN = {
    # ApplicationManagementConstants SORTING_NOT_IMPLEMENTED (65002): sortBy/sortOrder answer 501.
    ("GET /applications", "ST101"),
    # APPLICATION_NOT_FOUND (60006) is a 404 on every by-id operation; the PATCH responses omit it.
    ("PATCH /applications/{applicationId}", "ST103"),
    # Deleting a scope that does not exist: 404 (the spec lists 204/401/403/500 only).
    ("DELETE /oidc/scopes/{id}", "ST103"),
}
unexpected = []

if examples:
    # schemathesis: generated requests for the applications, OIDC inbound and scope operations,
    # every answer checked against the spec (status codes the spec lists, content types, bodies).
    found = []
    runs = 0
    for name, spec, include in [
        (apps_file, apps_spec, "^/applications(/\\{applicationId\\}(/inbound-protocols/oidc)?)?$"),
        (scopes_file, scopes_spec, "^/oidc/scopes"),
    ]:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(spec, f)
            path = f.name
        env = dict(os.environ, REQUESTS_CA_BUNDLE=ca, SSL_CERT_FILE=ca)
        cmd = [os.path.join(os.path.dirname(sys.executable), "schemathesis"), "run", path,
               "--url", base, "--auth", "admin:admin", "--include-path-regex", include,
               "--max-examples", str(examples), "--checks",
               "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
               "--tls-verify", ca, "--no-color", "--seed", "1", "--phases", "examples,fuzzing"]
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
        os.unlink(path)
        runs += 1
        out = p.stdout + p.stderr
        op = None
        hits = []
        for line in out.splitlines():
            t = line.strip()
            if t.startswith("___") and t.endswith("___"):
                op = t.strip("_ ").strip()
            elif op and t.startswith("- ST"):
                hits.append([op, t[2:].split(" ", 1)[0]])
        for h in hits:
            # APPLICATION_NOT_FOUND (60006): a 404 on every by-id operation, documented or not.
            if tuple(h) not in KNOWN and not (h[1] == "ST103" and "{applicationId}" in h[0]):
                unexpected.append(h)
        totals = [line.strip() for line in out.splitlines() if "passed" in line or "failed" in line]
        found.append({"spec": name, "exit": p.returncode, "findings": hits, "totals": totals[-4:]})
    report["schemathesis"] = {"runs": runs, "results": found, "unexpected": unexpected}

print(json.dumps(report))
# schemathesis findings outside KNOWN are reported (the caller prints them) but do not fail the
# run yet: the 5.11+ ones (ST104/ST109 on PUT oidc and POST scopes) still need classifying.
sys.exit(1 if failures else 0)
