//! The control API every simulated server serves under `/__sim/` (no authentication, never
//! logged), so tests in another process (the CLI crash matrix) can steer `wso2-sim`.
//!
//! | method and path | body | effect |
//! |---|---|---|
//! | `GET /__sim/state` | | this server's [`Snapshot`](crate::Snapshot) as JSON |
//! | `PUT /__sim/state` | a snapshot | replaces every stored object |
//! | `GET /__sim/requests` | | the request log ([`RequestRecord`](crate::RequestRecord)s) from clients; `?all=true`: with the servers' own calls |
//! | `DELETE /__sim/requests` | | clears the log and counters |
//! | `GET /__sim/stats` | | [`TrafficStats`](crate::TrafficStats) |
//! | `POST /__sim/faults` | a [`FaultRule`](crate::FaultRule) | adds the rule |
//! | `DELETE /__sim/faults` | | removes every rule |
//! | `PUT /__sim/latency` | `{"ms": 20}` | per-request delay |
//! | `GET`/`PUT /__sim/quirks` | [`Quirks`](crate::Quirks) | reads / replaces the quirk switches |
//! | `POST /__sim/seed?tenant=D` | [`SeedCounts`](crate::SeedCounts) | adds generated objects |
//! | `POST /__sim/seed-xml?tenant=D` | raw `getApplication`/`getIdPByName` XML | stores it |
//! | `POST /__sim/tenants` | `{"domain": "example.org"}` | adds a tenant |
//! | `POST /__sim/portals` | | creates the APIM portal SPs (APIM) |
//!
//! Fault rule JSON example: `{"target": {"action": "addIdP"}, "when": {"nth": 1},
//! "kind": {"kind": "timeout_after_commit"}}`.

use serde_json::json;

use crate::control::{FaultRule, Quirks};
use crate::server::{Inner, SeedCounts, SimRequest, SimResponse, SimServer};
use crate::state::{SUPER_TENANT, Snapshot};

fn bad(msg: impl std::fmt::Display) -> SimResponse {
    SimResponse::json(400, &json!({"error": msg.to_string()}))
}

fn tenant(req: &SimRequest) -> String {
    req.query_params()
        .into_iter()
        .find(|(k, _)| k == "tenant")
        .map(|(_, v)| v)
        .unwrap_or_else(|| SUPER_TENANT.to_owned())
}

pub(crate) fn handle(inner: &std::sync::Arc<Inner>, req: &SimRequest) -> SimResponse {
    let s = SimServer {
        inner: inner.clone(),
    };
    let m = req.method.as_str();
    let to_json = |v: serde_json::Result<serde_json::Value>| match v {
        Ok(v) => SimResponse::json(200, &v),
        Err(e) => SimResponse::json(500, &json!({"error": e.to_string()})),
    };
    match (m, req.path.trim_end_matches('/')) {
        ("GET", "/__sim/state") => to_json(serde_json::to_value(s.snapshot())),
        ("PUT", "/__sim/state") => match serde_json::from_slice::<Snapshot>(&req.body) {
            Ok(snap) => {
                s.restore(&snap);
                SimResponse::empty(204)
            }
            Err(e) => bad(e),
        },
        ("GET", "/__sim/requests") => {
            let all = req
                .query_params()
                .iter()
                .any(|(k, v)| k == "all" && v == "true");
            to_json(serde_json::to_value(if all {
                s.all_requests()
            } else {
                s.requests()
            }))
        }
        ("DELETE", "/__sim/requests") => {
            s.clear_requests();
            SimResponse::empty(204)
        }
        ("GET", "/__sim/stats") => to_json(serde_json::to_value(s.stats())),
        ("POST", "/__sim/faults") => match serde_json::from_slice::<FaultRule>(&req.body) {
            Ok(rule) => {
                s.inject(rule);
                SimResponse::empty(204)
            }
            Err(e) => bad(e),
        },
        ("DELETE", "/__sim/faults") => {
            s.clear_faults();
            SimResponse::empty(204)
        }
        ("PUT", "/__sim/latency") => {
            let v: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
            match v.get("ms").and_then(serde_json::Value::as_u64) {
                Some(ms) => {
                    s.set_latency(std::time::Duration::from_millis(ms));
                    SimResponse::empty(204)
                }
                None => bad("expected {\"ms\": N}"),
            }
        }
        ("GET", "/__sim/quirks") => to_json(serde_json::to_value(s.quirks())),
        ("PUT", "/__sim/quirks") => match serde_json::from_slice::<Quirks>(&req.body) {
            Ok(q) => {
                s.set_quirks(q);
                SimResponse::empty(204)
            }
            Err(e) => bad(e),
        },
        ("POST", "/__sim/seed") => match serde_json::from_slice::<SeedCounts>(&req.body) {
            Ok(c) => {
                s.seed(&tenant(req), c);
                SimResponse::json(200, &json!({"seeded": c.total()}))
            }
            Err(e) => bad(e),
        },
        ("POST", "/__sim/seed-xml") => match s.seed_xml(&tenant(req), &req.body_str()) {
            Ok((kind, name)) => SimResponse::json(200, &json!({"kind": kind, "name": name})),
            Err(e) => bad(e),
        },
        ("POST", "/__sim/tenants") => {
            let v: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
            match v.get("domain").and_then(serde_json::Value::as_str) {
                Some(d) => {
                    s.add_tenant(d);
                    SimResponse::empty(204)
                }
                None => bad("expected {\"domain\": \"...\"}"),
            }
        }
        ("POST", "/__sim/portals") => {
            s.ensure_portal_apps();
            SimResponse::empty(204)
        }
        _ => SimResponse::json(404, &json!({"error": "unknown control endpoint"})),
    }
}
