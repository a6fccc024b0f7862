//! SCIM2 Bulk (RFC 7644 section 3.7): many operations in few requests, each reported.
//!
//! Bulk is not atomic: with `failOnErrors`, the operations before the failing one stay
//! committed and the later ones are not processed. So the result of a Bulk is a report with one
//! outcome per operation, which a caller compensates from (delete what was created). A Bulk
//! request is never sent twice: when its answer is lost, its operations are reported
//! [`BulkOutcome::Unknown`] and the caller re-reads.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Range;

use http::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::model::{BULK_REQUEST_SCHEMA, ScimGroup, ScimPatch, ScimUser};
use super::{Scim2, group_body, user_body, wire};
use crate::carbon::{RestRequest, SecretBody};
use crate::error::{Dispatch, Error, Result, ServerText};

/// Operations per Bulk request when the server's `/ServiceProviderConfig` cannot be read or
/// gives no `bulk.maxOperations`. Well under IS 5.9's (and scim2-server's) 1000: a smaller
/// request only costs a few more round trips, a larger one is refused whole.
pub const DEFAULT_BULK_MAX_OPERATIONS: usize = 100;
/// Largest Bulk request body, in bytes, when the server does not say: 1 MiB, the value IS 5.9
/// announces.
pub const DEFAULT_BULK_MAX_PAYLOAD: usize = 1_048_576;

/// Room kept in each request for the envelope and for `bulkId:` references replaced by ids.
const ENVELOPE_BYTES: usize = 256;
const PER_OPERATION_SLACK: usize = 48;

/// The HTTP method of a Bulk operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum BulkMethod {
    /// Create.
    Post,
    /// Replace.
    Put,
    /// Modify.
    Patch,
    /// Delete.
    Delete,
}

impl BulkMethod {
    /// The wire value (`POST`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_uppercase().as_str() {
            "POST" => Some(Self::Post),
            "PUT" => Some(Self::Put),
            "PATCH" => Some(Self::Patch),
            "DELETE" => Some(Self::Delete),
            _ => None,
        }
    }
}

impl fmt::Display for BulkMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One operation of a Bulk request, as an owned value. Its data may hold a password: `Debug`
/// never shows the data.
#[derive(Clone)]
pub struct BulkOperation {
    method: BulkMethod,
    path: String,
    bulk_id: Option<String>,
    data: Option<Value>,
    password: Option<SecretString>,
}

impl fmt::Debug for BulkOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkOperation")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("bulk_id", &self.bulk_id)
            .field("data", &self.data.as_ref().map(|_| "[not shown]"))
            .finish()
    }
}

/// A resource id in a Bulk path: percent-encoded, except a `bulkId:` reference to an operation
/// of the same Bulk, which the server resolves.
fn bulk_path(kind: &str, id: &str) -> Result<String> {
    wire::check_id("id", id)?;
    if id.starts_with("bulkId:") {
        Ok(format!("/{kind}/{id}"))
    } else {
        Ok(format!("/{kind}/{}", wire::percent_encode(id)))
    }
}

impl BulkOperation {
    /// Any operation: `method` on `path` (relative to the SCIM base, e.g. `/Users`), with
    /// `data`. `POST` needs a `bulk_id`.
    pub fn new(
        method: BulkMethod,
        path: impl Into<String>,
        bulk_id: Option<String>,
        data: Option<Value>,
    ) -> Self {
        Self {
            method,
            path: path.into(),
            bulk_id,
            data,
            password: None,
        }
    }

    /// Creates a user (with its password, if set). Other operations of the same Bulk refer to
    /// it as `bulkId:{bulk_id}`.
    pub fn create_user(bulk_id: impl Into<String>, user: &ScimUser) -> Result<Self> {
        let data = user_body(user, true)?;
        Ok(Self {
            password: user
                .password
                .as_ref()
                .and_then(|p| p.secret_string().cloned()),
            ..Self::new(BulkMethod::Post, "/Users", Some(bulk_id.into()), Some(data))
        })
    }

    /// Creates a group. Its members may refer to users created earlier in the same Bulk by
    /// `bulkId:{their bulk id}`.
    pub fn create_group(bulk_id: impl Into<String>, group: &ScimGroup) -> Result<Self> {
        let data = group_body(group, true)?;
        Ok(Self::new(
            BulkMethod::Post,
            "/Groups",
            Some(bulk_id.into()),
            Some(data),
        ))
    }

    /// Patches a group (e.g. [`ScimPatch::add_members`]).
    pub fn patch_group(id: &str, patch: &ScimPatch) -> Result<Self> {
        if patch.operations.is_empty() {
            return Err(Error::invalid("patch", "has no operations"));
        }
        Ok(Self::new(
            BulkMethod::Patch,
            bulk_path("Groups", id)?,
            None,
            Some(patch.to_json()),
        ))
    }

    /// Deletes a user.
    pub fn delete_user(id: &str) -> Result<Self> {
        Ok(Self::new(
            BulkMethod::Delete,
            bulk_path("Users", id)?,
            None,
            None,
        ))
    }

    /// Deletes a group.
    pub fn delete_group(id: &str) -> Result<Self> {
        Ok(Self::new(
            BulkMethod::Delete,
            bulk_path("Groups", id)?,
            None,
            None,
        ))
    }

    /// Sets the bulk id (any operation may carry one; `POST` must).
    pub fn with_bulk_id(mut self, bulk_id: impl Into<String>) -> Self {
        self.bulk_id = Some(bulk_id.into());
        self
    }

    /// The method.
    pub fn method(&self) -> BulkMethod {
        self.method
    }

    /// The path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The bulk id, if any.
    pub fn bulk_id(&self) -> Option<&str> {
        self.bulk_id.as_deref()
    }

    /// The operation on the wire, with `bulkId:` references to operations of earlier requests
    /// replaced by the ids they created.
    fn to_wire(&self, resolved: &HashMap<String, String>) -> (String, Value) {
        let path = resolve_path(&self.path, resolved);
        let mut op = Map::new();
        op.insert("method".into(), Value::from(self.method.as_str()));
        op.insert("path".into(), Value::from(path.as_str()));
        if let Some(b) = &self.bulk_id {
            op.insert("bulkId".into(), Value::from(b.as_str()));
        }
        if let Some(data) = &self.data {
            let mut data = data.clone();
            resolve_value(&mut data, resolved);
            op.insert("data".into(), data);
        }
        (path, Value::Object(op))
    }
}

fn resolve_path(path: &str, resolved: &HashMap<String, String>) -> String {
    path.split('/')
        .map(|seg| {
            seg.strip_prefix("bulkId:")
                .and_then(|b| resolved.get(b))
                .map_or_else(|| seg.to_owned(), |id| wire::percent_encode(id))
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn resolve_value(value: &mut Value, resolved: &HashMap<String, String>) {
    match value {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix("bulkId:").and_then(|b| resolved.get(b)) {
                *s = id.clone();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| resolve_value(v, resolved)),
        Value::Object(map) => map.values_mut().for_each(|v| resolve_value(v, resolved)),
        _ => {}
    }
}

/// What became of one operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
#[non_exhaustive]
pub enum BulkOutcome {
    /// The server performed it.
    Succeeded {
        /// HTTP status the server gave it (200, 201, 204).
        status: u16,
        /// The resource's URL, when given (always, for a create).
        location: Option<String>,
    },
    /// The server refused it (or refused the whole request that carried it); it took no effect.
    Failed {
        /// HTTP status.
        status: u16,
        /// `scimType`, e.g. `uniqueness`.
        scim_type: Option<ServerText>,
        /// `detail` (secrets scrubbed).
        detail: Option<ServerText>,
    },
    /// It was sent, but the server's answer does not list it: the server stopped before it
    /// (`failOnErrors` reached), so it was not processed.
    NotProcessed,
    /// It was never sent: an earlier request failed, or the error limit was reached.
    NotSent {
        /// Why.
        reason: String,
    },
    /// It was sent, but no usable answer came back (timeout, dropped connection, a 5xx, an
    /// undecodable answer): it may or may not have taken effect. Re-read before deciding.
    Unknown {
        /// Why.
        reason: String,
    },
}

/// One operation and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkResult {
    /// Position of the operation in the list given to [`Bulk::new`].
    pub index: usize,
    /// Its method.
    pub method: BulkMethod,
    /// Its path, as given.
    pub path: String,
    /// Its bulk id, if any.
    pub bulk_id: Option<String>,
    /// What became of it.
    pub outcome: BulkOutcome,
}

impl BulkResult {
    /// Whether the server performed it.
    pub fn is_success(&self) -> bool {
        matches!(self.outcome, BulkOutcome::Succeeded { .. })
    }

    /// The id of the resource it created or touched (the end of its location), on success.
    pub fn id(&self) -> Option<String> {
        match &self.outcome {
            BulkOutcome::Succeeded {
                location: Some(l), ..
            } => wire::id_from_location(l),
            _ => None,
        }
    }

    /// The failure as an [`Error::Scim`], whose predicates
    /// ([`is_already_exists`](Error::is_already_exists), ...) apply.
    pub fn error(&self) -> Option<Error> {
        match &self.outcome {
            BulkOutcome::Failed {
                status,
                scim_type,
                detail,
            } => Some(Error::Scim {
                operation: "bulk",
                status: *status,
                scim_type: scim_type.clone(),
                detail: detail.clone(),
            }),
            _ => None,
        }
    }
}

/// The report of a Bulk: one result per operation, in the order given.
#[derive(Debug, Default)]
pub struct BulkReport {
    /// One result per operation.
    pub results: Vec<BulkResult>,
    /// Bulk requests sent.
    pub requests: usize,
    /// The failure of a whole request that stopped the Bulk early, if any (the affected
    /// operations say [`BulkOutcome::Failed`], [`BulkOutcome::Unknown`] or
    /// [`BulkOutcome::NotSent`]).
    pub stopped: Option<Error>,
}

impl BulkReport {
    /// Whether every operation succeeded.
    pub fn all_succeeded(&self) -> bool {
        self.results.iter().all(BulkResult::is_success)
    }

    /// The operations that succeeded.
    pub fn succeeded(&self) -> impl Iterator<Item = &BulkResult> {
        self.results.iter().filter(|r| r.is_success())
    }

    /// The operations that did not succeed.
    pub fn not_succeeded(&self) -> impl Iterator<Item = &BulkResult> {
        self.results.iter().filter(|r| !r.is_success())
    }
}

/// A Bulk request: an owned request value, built with [`Bulk::new`] and its setters and sent with
/// [`send`](Self::send) through a [`Scim2`] handler (which says where and as whom).
///
/// The operations are sent in order, in as many requests as the server's limits
/// (`bulk.maxOperations` and `bulk.maxPayloadSize` of `/ServiceProviderConfig`, read first;
/// [`DEFAULT_BULK_MAX_OPERATIONS`] and [`DEFAULT_BULK_MAX_PAYLOAD`] when it cannot be read)
/// require. A `bulkId:` reference to an operation of an earlier request is replaced by the id
/// that operation created; keep every operation after the ones it refers to.
#[derive(Debug, Clone)]
pub struct Bulk {
    operations: Vec<BulkOperation>,
    fail_on_errors: Option<u32>,
    max_operations: Option<usize>,
    max_payload: Option<usize>,
}

impl Bulk {
    /// A Bulk request of `operations`, in this order.
    pub fn new(operations: Vec<BulkOperation>) -> Self {
        Self {
            operations,
            fail_on_errors: None,
            max_operations: None,
            max_payload: None,
        }
    }

    /// Stops after `errors` failed operations in all (`failOnErrors`); without it, the server
    /// attempts every operation.
    pub fn fail_on_errors(mut self, errors: u32) -> Self {
        self.fail_on_errors = Some(errors);
        self
    }

    /// Sends at most `n` operations per request, without reading `/ServiceProviderConfig`.
    pub fn max_operations(mut self, n: usize) -> Self {
        self.max_operations = Some(n);
        self
    }

    /// Keeps each request body under `bytes` (with [`max_operations`](Self::max_operations);
    /// default [`DEFAULT_BULK_MAX_PAYLOAD`]).
    pub fn max_payload_size(mut self, bytes: usize) -> Self {
        self.max_payload = Some(bytes);
        self
    }

    fn validate(&self) -> Result<()> {
        if self.fail_on_errors == Some(0) {
            return Err(Error::invalid("fail_on_errors", "must be at least 1"));
        }
        if self.max_operations == Some(0) {
            return Err(Error::invalid("max_operations", "must be at least 1"));
        }
        let mut seen = HashSet::new();
        for (i, op) in self.operations.iter().enumerate() {
            if !op.path.starts_with('/') {
                return Err(Error::invalid(
                    format!("operations[{i}].path"),
                    "must start with '/' (e.g. /Users)",
                ));
            }
            match &op.bulk_id {
                None if op.method == BulkMethod::Post => {
                    return Err(Error::invalid(
                        format!("operations[{i}].bulk_id"),
                        "is required for POST",
                    ));
                }
                Some(b) if b.is_empty() || !seen.insert(b.as_str()) => {
                    return Err(Error::invalid(
                        format!("operations[{i}].bulk_id"),
                        format!("{b:?} is empty or used twice"),
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The server's limits: given, read from `/ServiceProviderConfig`, or the defaults.
    async fn limits(&self, scim: &Scim2<'_>) -> Result<(usize, usize)> {
        if let Some(n) = self.max_operations {
            return Ok((n, self.max_payload.unwrap_or(DEFAULT_BULK_MAX_PAYLOAD)));
        }
        let to_usize = |v: Option<u64>| {
            v.filter(|n| *n > 0)
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
        };
        match scim.service_provider_config().await {
            Ok(config) => {
                let bulk = config.bulk.unwrap_or_default();
                if bulk.supported == Some(false) {
                    return Err(Error::config(
                        "the SCIM server does not support Bulk (ServiceProviderConfig: bulk.supported = false)",
                    ));
                }
                Ok((
                    to_usize(bulk.max_operations).unwrap_or(DEFAULT_BULK_MAX_OPERATIONS),
                    self.max_payload
                        .or(to_usize(bulk.max_payload_size))
                        .unwrap_or(DEFAULT_BULK_MAX_PAYLOAD),
                ))
            }
            Err(e)
                if e.dispatch() == Dispatch::Answered
                    && !e.is_auth_failure()
                    && e.status() != Some(403) =>
            {
                tracing::warn!(error = %e, default = DEFAULT_BULK_MAX_OPERATIONS,
                    "cannot read the SCIM ServiceProviderConfig; using the default Bulk limits");
                Ok((
                    DEFAULT_BULK_MAX_OPERATIONS,
                    self.max_payload.unwrap_or(DEFAULT_BULK_MAX_PAYLOAD),
                ))
            }
            Err(e) => Err(e),
        }
    }

    /// Sends the operations and reports each one.
    ///
    /// Fails only when nothing took effect: bad input, the server's configuration refused or
    /// unreadable for lack of rights, or the first request not sent at all. Once a request may
    /// have reached the server, the result is a report, even if a later request failed (see
    /// [`BulkReport::stopped`]); no request is ever sent twice.
    pub async fn send(&self, scim: &Scim2<'_>) -> Result<BulkReport> {
        self.validate()?;
        if self.operations.is_empty() {
            return Ok(BulkReport::default());
        }
        let (max_ops, max_payload) = self.limits(scim).await?;
        let sizes: Vec<usize> = self
            .operations
            .iter()
            .map(|op| op.to_wire(&HashMap::new()).1.to_string().len())
            .collect();
        let chunks = plan_chunks(&sizes, max_ops, max_payload);
        tracing::debug!(
            operations = self.operations.len(),
            requests = chunks.len(),
            max_ops,
            max_payload,
            "SCIM Bulk"
        );

        let n = self.operations.len();
        let mut outcomes: Vec<Option<BulkOutcome>> = vec![None; n];
        let mut resolved: HashMap<String, String> = HashMap::new();
        let mut errors: u32 = 0;
        let mut requests = 0;
        let mut stopped: Option<Error> = None;
        let mut skip_reason: Option<String> = None;

        for range in chunks {
            if skip_reason.is_none()
                && let Some(limit) = self.fail_on_errors
                && errors >= limit
            {
                skip_reason = Some(format!("failOnErrors ({limit}) was reached"));
            }
            if let Some(reason) = &skip_reason {
                for slot in &mut outcomes[range.clone()] {
                    *slot = Some(BulkOutcome::NotSent {
                        reason: reason.clone(),
                    });
                }
                continue;
            }
            let ops = &self.operations[range.clone()];
            let wire_ops: Vec<(String, Value)> =
                ops.iter().map(|op| op.to_wire(&resolved)).collect();
            let mut body = Map::new();
            body.insert("schemas".into(), Value::from(vec![BULK_REQUEST_SCHEMA]));
            if let Some(limit) = self.fail_on_errors {
                body.insert("failOnErrors".into(), Value::from(limit - errors));
            }
            body.insert(
                "Operations".into(),
                Value::Array(wire_ops.iter().map(|(_, v)| v.clone()).collect()),
            );
            let request = RestRequest {
                operation: "bulk",
                method: Method::POST,
                path: scim.path("Bulk"),
                auth: scim.auth.clone(),
                content_type: Some(wire::SCIM_JSON),
                accept: Some(wire::SCIM_ACCEPT),
                body: Some(SecretBody(Value::Object(body).to_string().into_bytes())),
                read_only: false,
            };
            let passwords: Vec<&str> = ops
                .iter()
                .filter_map(|op| op.password.as_ref().map(|p| p.expose_secret()))
                .collect();
            requests += 1;
            let answer = match scim.client.rest(&request).await {
                Ok(answer) => answer,
                Err(e) => {
                    if e.dispatch() == Dispatch::NotSent && requests == 1 {
                        return Err(e);
                    }
                    let reason = e.to_string();
                    let outcome = if e.dispatch() == Dispatch::NotSent {
                        BulkOutcome::NotSent { reason }
                    } else {
                        BulkOutcome::Unknown { reason }
                    };
                    for slot in &mut outcomes[range.clone()] {
                        *slot = Some(outcome.clone());
                    }
                    skip_reason = Some("an earlier Bulk request failed".into());
                    stopped = Some(e);
                    continue;
                }
            };
            if !wire::is_success(&answer) {
                let e = wire::scim_error("bulk", &answer, &passwords);
                let outcome = if answer.status >= 500 {
                    BulkOutcome::Unknown {
                        reason: e.to_string(),
                    }
                } else {
                    match &e {
                        Error::Scim {
                            scim_type, detail, ..
                        } => BulkOutcome::Failed {
                            status: answer.status,
                            scim_type: scim_type.clone(),
                            detail: detail.clone(),
                        },
                        other => BulkOutcome::Failed {
                            status: answer.status,
                            scim_type: None,
                            detail: Some(ServerText::new(other.to_string())),
                        },
                    }
                };
                for slot in &mut outcomes[range.clone()] {
                    *slot = Some(outcome.clone());
                }
                skip_reason = Some("an earlier Bulk request failed".into());
                stopped = Some(e);
                continue;
            }
            let response = match response_operations(&answer) {
                Ok(r) => r,
                Err(e) => {
                    for slot in &mut outcomes[range.clone()] {
                        *slot = Some(BulkOutcome::Unknown {
                            reason: e.to_string(),
                        });
                    }
                    skip_reason = Some("an earlier Bulk answer could not be read".into());
                    stopped = Some(e);
                    continue;
                }
            };
            let sent: Vec<SentOp<'_>> = ops
                .iter()
                .zip(&wire_ops)
                .map(|(op, (path, _))| SentOp {
                    method: op.method,
                    path: path.as_str(),
                    bulk_id: op.bulk_id.as_deref(),
                })
                .collect();
            let chunk_outcomes = match_results(&sent, &response, &passwords);
            for (offset, outcome) in chunk_outcomes.into_iter().enumerate() {
                let op = &ops[offset];
                match &outcome {
                    BulkOutcome::Failed { .. } => errors += 1,
                    BulkOutcome::Succeeded {
                        location: Some(l), ..
                    } => {
                        if let (Some(b), Some(id)) = (&op.bulk_id, wire::id_from_location(l)) {
                            resolved.insert(b.clone(), id);
                        }
                    }
                    _ => {}
                }
                outcomes[range.start + offset] = Some(outcome);
            }
        }

        let results = self
            .operations
            .iter()
            .zip(outcomes)
            .enumerate()
            .map(|(index, (op, outcome))| BulkResult {
                index,
                method: op.method,
                path: op.path.clone(),
                bulk_id: op.bulk_id.clone(),
                outcome: outcome.unwrap_or(BulkOutcome::NotProcessed),
            })
            .collect();
        Ok(BulkReport {
            results,
            requests,
            stopped,
        })
    }
}

/// Splits operations of these encoded sizes into consecutive requests of at most `max_ops`
/// operations and about `max_payload` bytes. An operation larger than the payload limit goes
/// alone (the server decides).
pub(crate) fn plan_chunks(
    sizes: &[usize],
    max_ops: usize,
    max_payload: usize,
) -> Vec<Range<usize>> {
    let max_ops = max_ops.max(1);
    let budget = max_payload.saturating_sub(ENVELOPE_BYTES);
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, size) in sizes.iter().enumerate() {
        let cost = size + 1 + PER_OPERATION_SLACK;
        let count = i - start;
        if count > 0 && (count >= max_ops || bytes + cost > budget) {
            chunks.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += cost;
    }
    if start < sizes.len() {
        chunks.push(start..sizes.len());
    }
    chunks
}

/// An operation as it was sent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SentOp<'a> {
    pub(crate) method: BulkMethod,
    pub(crate) path: &'a str,
    pub(crate) bulk_id: Option<&'a str>,
}

/// One entry of a Bulk response's `Operations`.
#[derive(Debug, Clone, Default)]
pub(crate) struct ResponseOp {
    method: Option<BulkMethod>,
    bulk_id: Option<String>,
    location: Option<String>,
    status: Option<u16>,
    response: Option<Map<String, Value>>,
}

/// A status written as `"201"` (RFC 7644), `201`, or `{"code": 201}` (IS 5.9's Swagger).
fn parse_status(v: Option<&Value>) -> Option<u16> {
    match v? {
        Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        Value::Object(o) => parse_status(o.get("code")),
        _ => None,
    }
}

fn response_operations(answer: &crate::carbon::HttpAnswer) -> Result<Vec<ResponseOp>> {
    let doc: Value = wire::decode_json("bulk", answer)?;
    let ops = match doc.get("Operations") {
        Some(Value::Array(ops)) => ops,
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(_) => {
            return Err(Error::Decode {
                operation: "bulk",
                status: answer.status,
                source: "Operations is not a list".into(),
            });
        }
    };
    Ok(ops
        .iter()
        .filter_map(Value::as_object)
        .map(|o| {
            let text = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_owned);
            ResponseOp {
                method: text("method").as_deref().and_then(BulkMethod::parse),
                bulk_id: text("bulkId"),
                location: text("location"),
                status: parse_status(o.get("status")),
                response: o.get("response").and_then(Value::as_object).cloned(),
            }
        })
        .collect())
}

/// Decodes a Bulk answer as [`Bulk::send`] does, without I/O: the outcome of each entry of its
/// `Operations`, in the server's order (before they are paired with the operations sent); an
/// error status as the error `send` records. Pure; for tests and fuzzing of the decoder.
pub fn decode_bulk_answer(answer: &crate::carbon::HttpAnswer) -> Result<Vec<BulkOutcome>> {
    if !wire::is_success(answer) {
        return Err(wire::scim_error("bulk", answer, &[]));
    }
    Ok(response_operations(answer)?
        .iter()
        .map(|r| outcome_of(r, &[]))
        .collect())
}

fn outcome_of(r: &ResponseOp, secrets: &[&str]) -> BulkOutcome {
    match r.status {
        None => BulkOutcome::Unknown {
            reason: "the server's answer gives no status for it".into(),
        },
        Some(status) if (200..300).contains(&status) => BulkOutcome::Succeeded {
            status,
            location: r.location.clone(),
        },
        Some(status) => {
            let (scim_type, detail) = r
                .response
                .as_ref()
                .map(|doc| wire::scim_error_fields(doc, secrets))
                .unwrap_or_default();
            BulkOutcome::Failed {
                status,
                scim_type,
                detail,
            }
        }
    }
}

/// Pairs the response's entries with the operations sent: by bulk id, else by method and
/// location (a server may answer in another order: IS processes users before groups), else by
/// method in order. Operations the answer does not mention were not processed.
pub(crate) fn match_results(
    sent: &[SentOp<'_>],
    response: &[ResponseOp],
    secrets: &[&str],
) -> Vec<BulkOutcome> {
    let mut out: Vec<Option<BulkOutcome>> = vec![None; sent.len()];
    let free = |out: &[Option<BulkOutcome>], i: usize| out[i].is_none();
    for r in response {
        let by_bulk_id = r
            .bulk_id
            .as_deref()
            .and_then(|b| (0..sent.len()).find(|&i| free(&out, i) && sent[i].bulk_id == Some(b)));
        let by_location = || {
            let loc = r.location.as_deref()?;
            let loc_path = loc.split(['?', '#']).next().unwrap_or(loc);
            (0..sent.len()).find(|&i| {
                free(&out, i)
                    && Some(sent[i].method) == r.method
                    && sent[i].bulk_id.is_none()
                    && sent[i].path.len() > 1
                    && loc_path.ends_with(sent[i].path)
            })
        };
        let by_order = || {
            (r.bulk_id.is_none() && r.location.is_none())
                .then(|| {
                    (0..sent.len())
                        .find(|&i| free(&out, i) && r.method.is_none_or(|m| m == sent[i].method))
                })
                .flatten()
        };
        if let Some(i) = by_bulk_id.or_else(by_location).or_else(by_order) {
            out[i] = Some(outcome_of(r, secrets));
        }
    }
    out.into_iter()
        .map(|o| o.unwrap_or(BulkOutcome::NotProcessed))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn chunks_respect_count_and_size() {
        assert_eq!(plan_chunks(&[10; 5], 2, 1_000_000), vec![0..2, 2..4, 4..5]);
        assert_eq!(plan_chunks(&[10; 3], 1000, 1_000_000), vec![0..3]);
        // Each costs 10 + 1 + 48 = 59 bytes; budget 400 - 256 = 144: two per request.
        assert_eq!(plan_chunks(&[10; 5], 1000, 400), vec![0..2, 2..4, 4..5]);
        // Too large for any request: alone.
        assert_eq!(
            plan_chunks(&[10, 5000, 10], 1000, 1000),
            vec![0..1, 1..2, 2..3]
        );
        assert!(plan_chunks(&[], 10, 10).is_empty());
    }

    #[test]
    fn references_to_earlier_requests_are_resolved() {
        let mut resolved = HashMap::new();
        resolved.insert("u1".to_owned(), "id 1".to_owned());
        let group = BulkOperation::new(
            BulkMethod::Post,
            "/Groups",
            Some("g".into()),
            Some(
                serde_json::json!({"displayName": "g", "members": [{"value": "bulkId:u1"}, {"value": "bulkId:u2"}]}),
            ),
        );
        let (_, wire) = group.to_wire(&resolved);
        assert_eq!(wire["data"]["members"][0]["value"], "id 1");
        assert_eq!(wire["data"]["members"][1]["value"], "bulkId:u2");
        let patch =
            BulkOperation::patch_group("bulkId:u1", &ScimPatch::new().remove_member("x")).unwrap();
        assert_eq!(patch.to_wire(&resolved).0, "/Groups/id%201");
        assert_eq!(
            BulkOperation::delete_user("a/b").unwrap().path(),
            "/Users/a%2Fb"
        );
    }

    #[test]
    fn results_are_matched_by_bulk_id_location_and_order() {
        let sent = [
            SentOp {
                method: BulkMethod::Post,
                path: "/Groups",
                bulk_id: Some("g"),
            },
            SentOp {
                method: BulkMethod::Post,
                path: "/Users",
                bulk_id: Some("u"),
            },
            SentOp {
                method: BulkMethod::Delete,
                path: "/Users/x",
                bulk_id: None,
            },
            SentOp {
                method: BulkMethod::Delete,
                path: "/Users/y",
                bulk_id: None,
            },
        ];
        // Users before groups, as IS answers; the last delete is not mentioned.
        let response = vec![
            ResponseOp {
                method: Some(BulkMethod::Post),
                bulk_id: Some("u".into()),
                location: Some("https://h/scim2/Users/1".into()),
                status: Some(201),
                response: None,
            },
            ResponseOp {
                method: Some(BulkMethod::Delete),
                location: Some("https://h/scim2/Users/x".into()),
                status: Some(404),
                response: serde_json::json!({"detail": "no canary-pw", "status": "404"})
                    .as_object()
                    .cloned(),
                ..Default::default()
            },
            ResponseOp {
                method: Some(BulkMethod::Post),
                bulk_id: Some("g".into()),
                status: Some(409),
                response: serde_json::json!({"scimType": "uniqueness"})
                    .as_object()
                    .cloned(),
                ..Default::default()
            },
        ];
        let out = match_results(&sent, &response, &["canary-pw"]);
        assert!(matches!(out[0], BulkOutcome::Failed { status: 409, .. }));
        assert!(matches!(out[1], BulkOutcome::Succeeded { status: 201, .. }));
        match &out[2] {
            BulkOutcome::Failed { detail, .. } => {
                assert_eq!(detail.as_ref().map(|t| t.raw()), Some("no [REDACTED]"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(out[3], BulkOutcome::NotProcessed);
    }

    #[test]
    fn statuses_in_every_shape() {
        assert_eq!(parse_status(Some(&serde_json::json!("201"))), Some(201));
        assert_eq!(parse_status(Some(&serde_json::json!(409))), Some(409));
        assert_eq!(
            parse_status(Some(&serde_json::json!({"code": "201"}))),
            Some(201)
        );
        assert_eq!(parse_status(Some(&serde_json::json!(null))), None);
    }

    #[test]
    fn debug_never_shows_data() {
        let user = ScimUser::new(&crate::UserName::new("kim").unwrap()).with_password("canary-pw");
        let op = BulkOperation::create_user("u", &user).unwrap();
        assert!(!format!("{op:?}").contains("canary"));
        assert!(format!("{op:?}").contains("/Users"));
    }
}
