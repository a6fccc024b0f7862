#!/usr/bin/env python3
"""Contract checks for the REST requests wso2-is-client sends and the answers it decodes.

Reads a JSON document on stdin:
    {"contracts": "<dir>",
     "requests":  [{"id", "spec", "method", "path", "content_type", "body"}],
     "responses": [{"id", "spec", "method", "path", "status", "body"}],
     "examples":  [{"id", "spec", "method", "path", "status"}]}
where "spec" is relative to the contracts directory, "path" is the client's path below the
server's base URL (query included, no tenant prefix) and "body" is a JSON value or null.

* OpenAPI 3 specs (rest/*.yaml) are checked with openapi-core: method, path, query parameters and
  body of each request; status and body of each answer.
* Swagger 2.0 specs (scim2/*.yaml; openapi-core reads OpenAPI 3 only) are checked with
  openapi-schema-validator's OAS30Validator on the operation's body schema (definitions
  dereferenced), and query parameter names against the operation's declared parameters.
* Two specs contain TAB characters, which strict YAML loaders reject (as shipped by WSO2): every
  spec is loaded after replacing TABs with two spaces (they only occur inside descriptions).
* Request bodies are also checked strictly: every field sent must be one the spec of the
  targeted release lists (`additionalProperties: false` added to its object schemas), so a field
  of a later release sent to an earlier one is caught.
* The SCIM2 3.4.67 spec's POST /v2/Roles enum misspells `application` as `applciation`: a body
  whose only problems are that enum at `audience.type` with the value `application` passes as
  "ok-known-typo", counted apart.

"examples" asks for an answer body built from the spec's own examples (the schema's `example`,
else its properties' examples, recursively), to be decoded by the Rust types.

Writes {"requests": [{"id", "result": "ok" | "ok-known-typo" | message}], "responses": [...],
"examples": [{"id", "body"}]} on stdout.
"""
import copy
import json
import re
import sys
import urllib.parse

import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator

HOST = "https://localhost:9443"
TENANT = "/t/carbon.super/"
_specs = {}


def load(contracts, name):
    if name not in _specs:
        with open(f"{contracts}/{name}", encoding="utf-8") as f:
            text = f.read().replace("\t", "  ")
        doc = string_keys(yaml.safe_load(text))
        api = OpenAPI.from_dict(copy.deepcopy(doc)) if "openapi" in doc else None
        _specs[name] = (doc, api)
    return _specs[name]


def string_keys(node):
    """YAML reads `200:` as an int key; JSON (and OpenAPI) keys are strings."""
    if isinstance(node, dict):
        return {str(k): string_keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [string_keys(v) for v in node]
    return node


def split(path):
    """Client path -> (path without query, {param: value})."""
    raw, _, query = path.partition("?")
    args = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    return "/" + raw.lstrip("/"), args


def errors_of(exc):
    cause = exc.__cause__
    found = []
    while cause is not None:
        found.extend(str(e.message) for e in getattr(cause, "schema_errors", []) or [])
        cause = cause.__cause__
    return found or [f"{type(exc).__name__}: {exc}"]


# ---------- OpenAPI 3 (openapi-core) ----------

def oas3_request(api, case):
    path, args = split(case["path"])
    if not path.startswith("/t/"):
        path = TENANT.rstrip("/") + path
    body = case.get("body")
    data = None if body is None else json.dumps(body).encode()
    req = MockRequest(HOST, case["method"].lower(), path, args=args, data=data,
                      headers={"Authorization": "Basic YWRtaW46YWRtaW4="},
                      content_type=case.get("content_type") or "application/json")
    return req


def strict(schema):
    """The schema with `additionalProperties: false` on every object schema that lists its
    properties and says nothing about others: a body then passes only if every field it sends
    is one the spec of that release lists."""
    if isinstance(schema, dict):
        out = {k: strict(v) for k, v in schema.items()}
        if "properties" in out and "additionalProperties" not in out and not (
                {"allOf", "oneOf", "anyOf"} & set(out)):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


def oas3_request_schema(doc, case):
    path, _ = split(case["path"])
    path = path.split("/api/server/v1", 1)[-1]
    for template, ops in doc["paths"].items():
        if re.match(template_regex(template), path):
            op = ops.get(case["method"].lower(), {})
            body = deref(op.get("requestBody", {}), doc)
            return body.get("content", {}).get("application/json", {}).get("schema")
    return None


def check_strict(doc, case):
    """Fields the release's spec does not list (only for request bodies)."""
    if case.get("body") is None:
        return []
    if "openapi" in doc:
        schema = oas3_request_schema(doc, case)
    else:
        _, op, _ = swagger_operation(doc, case)
        params = [p for p in (op or {}).get("parameters", []) if p.get("in") == "body"]
        schema = params[0]["schema"] if params else None
    if schema is None:
        return []
    errors = OAS30Validator(strict(deref(schema, doc))).iter_errors(case["body"])
    return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"
            for e in errors if e.validator == "additionalProperties"]


def check_oas3_request(api, case):
    try:
        api.validate_request(oas3_request(api, case))
        return "ok"
    except Exception as e:  # noqa: BLE001 - every validation failure is reported
        return "; ".join(errors_of(e))


def check_oas3_response(api, case):
    req = oas3_request(api, {**case, "body": None})
    data = b"" if case.get("body") is None else json.dumps(case["body"]).encode()
    resp = MockResponse(data, status_code=case["status"], content_type="application/json")
    try:
        api.validate_response(req, resp)
        return "ok"
    except Exception as e:  # noqa: BLE001
        return "; ".join(errors_of(e))


# ---------- Swagger 2.0 (schema validation of the operation) ----------

def deref(node, root, depth=0):
    if depth > 40:
        return node
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            target = root
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return deref(target, root, depth + 1)
        return {k: deref(v, root, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [deref(v, root, depth + 1) for v in node]
    return node


def template_regex(template):
    """`/Roles/{id}` -> a regex matching concrete paths."""
    return "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"


def swagger_operation(doc, case):
    path, args = split(case["path"])
    rel = path[len("/scim2"):] if path.startswith("/scim2") else path
    for template, ops in doc["paths"].items():
        if re.match(template_regex(template), rel):
            op = ops.get(case["method"].lower())
            if op is not None:
                return template, op, args
    return None, None, args


def typo_only(errors, body):
    """Whether every error is the spec's `applciation` enum on audience.type with `application`."""
    return errors and all(
        e.validator == "enum" and list(e.absolute_path) == ["audience", "type"]
        and e.instance == "application" and "applciation" in e.validator_value
        for e in errors) and body.get("audience", {}).get("type") == "application"


def check_swagger_request(doc, case):
    template, op, args = swagger_operation(doc, case)
    if op is None:
        return f"no {case['method']} operation for {case['path']} in the spec"
    params = op.get("parameters", [])
    declared = {p["name"] for p in params if p.get("in") == "query"}
    unknown = sorted(set(args) - declared)
    if unknown:
        return f"query parameters not in the spec: {unknown}"
    body_params = [p for p in params if p.get("in") == "body"]
    body = case.get("body")
    if body is None:
        return "ok" if not any(p.get("required") for p in body_params) else "the spec requires a body"
    if not body_params:
        return "the spec takes no body here"
    schema = deref(body_params[0]["schema"], doc)
    errors = list(OAS30Validator(schema).iter_errors(body))
    if not errors:
        return "ok"
    if typo_only(errors, body):
        return "ok-known-typo"
    return "; ".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def check_swagger_response(doc, case):
    template, op, _ = swagger_operation(doc, case)
    if op is None:
        return f"no {case['method']} operation for {case['path']} in the spec"
    resp = op.get("responses", {}).get(case["status"]) or op.get("responses", {}).get(str(case["status"]))
    if resp is None:
        return f"the spec has no {case['status']} answer here"
    if "schema" not in resp:
        return "ok" if case.get("body") is None else "the spec's answer has no body"
    schema = deref(resp["schema"], doc)
    errors = list(OAS30Validator(schema).iter_errors(case["body"]))
    return "ok" if not errors else "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


# ---------- examples ----------

def example(schema, root, depth=0):
    schema = deref(schema, root) if isinstance(schema, dict) and isinstance(schema.get("$ref"), str) else schema
    if not isinstance(schema, dict) or depth > 12:
        return None
    if "example" in schema:
        return copy.deepcopy(schema["example"])
    if "allOf" in schema:
        out = {}
        for part in schema["allOf"]:
            value = example(part, root, depth + 1)
            if isinstance(value, dict):
                out.update(value)
        return out
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        out = {}
        for name, prop in schema.get("properties", {}).items():
            value = example(prop, root, depth + 1)
            if value is not None:
                out[name] = value
        return out
    if kind == "array":
        value = example(schema.get("items", {}), root, depth + 1)
        return [] if value is None else [value]
    if "enum" in schema:
        return schema["enum"][0]
    return {"string": "string", "integer": 1, "number": 1, "boolean": True}.get(kind)


def response_schema(doc, case):
    if "openapi" in doc:
        path, _ = split(case["path"])
        path = path.split("/api/server/v1", 1)[-1]
        for template, ops in doc["paths"].items():
            if re.match(template_regex(template), path):
                op = ops.get(case["method"].lower(), {})
                resp = op.get("responses", {}).get(str(case["status"])) or op.get("responses", {}).get(case["status"])
                if resp is None:
                    return None
                resp = deref(resp, doc)
                return resp.get("content", {}).get("application/json", {}).get("schema")
        return None
    _, op, _ = swagger_operation(doc, case)
    resp = (op or {}).get("responses", {}).get(case["status"]) or (op or {}).get("responses", {}).get(str(case["status"]))
    return None if resp is None else resp.get("schema")


def main():
    job = json.load(sys.stdin)
    contracts = job["contracts"]
    out = {"requests": [], "responses": [], "examples": []}
    for case in job.get("requests", []):
        doc, api = load(contracts, case["spec"])
        result = check_oas3_request(api, case) if api else check_swagger_request(doc, case)
        if result.startswith("ok"):
            extra = check_strict(doc, case)
            if extra:
                result = "fields the spec does not list: " + "; ".join(extra)
        out["requests"].append({"id": case["id"], "result": result})
    for case in job.get("responses", []):
        doc, api = load(contracts, case["spec"])
        result = check_oas3_response(api, case) if api else check_swagger_response(doc, case)
        out["responses"].append({"id": case["id"], "result": result})
    for case in job.get("examples", []):
        doc, _ = load(contracts, case["spec"])
        schema = response_schema(doc, case)
        body = None if schema is None else example(schema, doc)
        out["examples"].append({"id": case["id"], "body": body})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
