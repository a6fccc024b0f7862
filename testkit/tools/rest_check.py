#!/usr/bin/env python3
"""Validates the simulated IS REST API's answers against the release's own OpenAPI specs
(openapi-core), then lets schemathesis exercise the same operations.

Two specs contain TABs that strict YAML rejects (oidc-scope-management >= 1.2.3, claim-management
>= 1.0.190; WSO2-VERSIONS.md P13): they are loaded leniently, TABs read as spaces.

Usage: rest_check.py CONTRACTS_DIR IS_URL CA_PEM APPS_SPEC SCOPES_SPEC [--is-version V] [--schemathesis N]
Prints one JSON line: {"validated": N, "operations": [...], "failures": [...],
"schemathesis": {"results": [...], "classified": [...], "unexpected": [...]}}. Exit 1 when an answer
does not validate or schemathesis finds something not classified in KNOWN (a real server's
behaviour, with its source).
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
ca = os.path.abspath(ca)
is_version = sys.argv[sys.argv.index("--is-version") + 1] if "--is-version" in sys.argv else ""
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


def check(api, name, method, path, body=None, expect=None, raw=None):
    global validated
    if raw is None:
        r = s.request(method, base + path, json=body)
    else:
        r = s.request(method, base + path, data=raw, headers={"Content-Type": "application/json"})
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
# A body Jackson cannot parse: 400 UE-10000 as JSON (JsonProcessingExceptionMapper), not a bare 400.
check(apps, "malformed oidc", "PUT", f"/applications/{app_id}/inbound-protocols/oidc", raw=b"\x80{not json",
      expect=400)
check(scopes, "malformed scope", "POST", "/oidc/scopes", raw=b"\x80{not json", expect=400)
check(scopes, "scopes", "GET", "/oidc/scopes", expect=200)
check(scopes, "scope", "GET", "/oidc/scopes/openid", expect=200)
check(scopes, "missing scope", "GET", "/oidc/scopes/no-such-scope", expect=404)
check(apps, "delete", "DELETE", f"/applications/{app_id}", expect=204)

report = {"validated": validated, "operations": ops, "failures": failures}

# Every schemathesis finding must be classified. The simulator's own bugs get fixed (ST104/ST109 on
# PUT .../inbound-protocols/oidc and POST /oidc/scopes: a body Jackson cannot parse answered a bare
# 400 without Content-Type; the dispatcher's JsonProcessingExceptionMapper answers 400 UE-10000 as
# JSON, so the simulator now does too). What remains are the real servers' behaviours that the
# specs do not describe, each with its source; `versions` limits one to the releases it is true of.
KNOWN = [
    {"operation": "GET /applications", "code": "ST101",
     "reason": "sortBy/sortOrder answer 501 APP-65002 'Sorting not supported' "
               "(ApplicationManagementConstants SORTING_NOT_IMPLEMENTED; dispatcher ErrorMappings APP-65002=501)"},
    {"operation": "{applicationId}", "code": "ST103",
     "reason": "an unknown id is 404 APP-60006 on every by-id operation (dispatcher ErrorMappings "
               "APP-60006=404); several operations' responses omit 404"},
    {"operation": "DELETE /oidc/scopes/{id}", "code": "ST103",
     "reason": "deleting a scope that does not exist is 404 OSM-60006 'Scope not found' "
               "(the spec lists 204/401/403/500 only)"},
    {"operation": "POST /applications", "code": "ST101", "versions": ["5.11"],
     "reason": "a duplicate name is HTTP 500 APP-65001 on IS 5.11 (identity-api-server 1.0.190 wraps the "
               "framework's client error in a server error); 409 APP-60007 elsewhere"},
]


def classify(op, code):
    for k in KNOWN:
        if k["code"] != code or ("versions" in k and is_version not in k["versions"]):
            continue
        if k["operation"] == op or (k["operation"].startswith("{") and k["operation"] in op):
            return k["reason"]
    return None


unexpected = []
classified = []

if examples:
    # schemathesis: generated requests for the applications, OIDC inbound and scope operations,
    # every answer checked against the spec (status codes the spec lists, content types, bodies).
    # It runs in a fresh directory so that no crash cache from an earlier run is replayed: the
    # same seed gives the same requests on every machine.
    found = []
    runs = 0
    for name, spec, include in [
        (apps_file, apps_spec, "^/applications(/\\{applicationId\\}(/inbound-protocols/oidc)?)?$"),
        (scopes_file, scopes_spec, "^/oidc/scopes"),
    ]:
        with tempfile.TemporaryDirectory() as work:
            path = os.path.join(work, "spec.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(spec, f)
            env = dict(os.environ, REQUESTS_CA_BUNDLE=ca, SSL_CERT_FILE=ca)
            cmd = [os.path.join(os.path.dirname(sys.executable), "schemathesis"), "run", path,
                   "--url", base, "--auth", "admin:admin", "--include-path-regex", include,
                   "--max-examples", str(examples), "--checks",
                   "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
                   "--tls-verify", ca, "--no-color", "--seed", "1", "--phases", "examples,fuzzing"]
            p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, cwd=work)
        runs += 1
        out = p.stdout + p.stderr
        op = None
        hits = []
        section = None
        for line in out.splitlines():
            t = line.strip()
            if t.startswith("===") and t.endswith("==="):
                section = t.strip("= ").strip()
            elif t.startswith("___") and t.endswith("___"):
                op = t.strip("_ ").strip()
            elif section == "FAILURES" and op and t.startswith("- ST"):
                hits.append([op, t[2:].split(" ", 1)[0]])
        if "SUMMARY" not in out:
            unexpected.append([name, "schemathesis did not complete: " + out[-400:]])
        if "ERRORS" in [ln.strip("= ").strip() for ln in out.splitlines() if ln.strip().startswith("===")]:
            unexpected.append([name, "schemathesis reported errors: " + out[-400:]])
        for h in hits:
            why = classify(h[0], h[1])
            if why is None:
                unexpected.append(h)
            else:
                classified.append(h + [why])
        totals = [line.strip() for line in out.splitlines() if "passed" in line or "failed" in line]
        found.append({"spec": name, "exit": p.returncode, "findings": hits, "totals": totals[-4:]})
    report["schemathesis"] = {"runs": runs, "results": found, "classified": classified,
                              "unexpected": unexpected}

print(json.dumps(report))
# Validation failures and unclassified schemathesis findings fail the run.
sys.exit(1 if failures or unexpected else 0)
