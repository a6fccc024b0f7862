#!/usr/bin/env python3
"""Runs scim2-tester (PyPI) against a simulated IS's SCIM2 endpoint.

Usage: scim2_tester_run.py BASE_URL USER PASSWORD CA_PEM_OR_-
Prints one JSON line: {"total": N, "statuses": {"SUCCESS": n, ...}, "not_passed": [[status, title, reason], ...]}
Exit status 0 when the checker ran (whatever it found), 2 when it could not run.
"""
import collections
import json
import sys

import httpx2 as httpx
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

base, user, password, ca = sys.argv[1:5]
http = httpx.Client(base_url=base, auth=(user, password), verify=ca if ca != "-" else True, trust_env=False)
client = SyncSCIMClient(http)
try:
    results = check_server(client)
except Exception as e:  # noqa: BLE001 - reported, not hidden
    print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
    sys.exit(2)
counts = collections.Counter(r.status.name for r in results)
not_passed = [[r.status.name, r.title, (r.reason or "")[:300]] for r in results if r.status != Status.SUCCESS]
print(json.dumps({"total": len(results), "statuses": counts, "not_passed": not_passed}))
