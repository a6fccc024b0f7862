//! Pure request and answer shaping for the REST management APIs: no I/O here.

use http::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::RestErrorBody;
use crate::ServerText;
use crate::carbon::{HttpAnswer, RestAuth, RestRequest, SecretBody};
use crate::error::{Error, Result, UnexpectedAnswer};
use crate::scim2::wire::{detail_text, unexpected};

/// `Content-Type` and `Accept` of the REST management APIs.
pub(crate) const JSON: &str = "application/json";

/// A request of the REST management APIs, with the admin's credentials. Only `GET` is
/// retried (reads), never a write.
pub(crate) fn request(
    operation: &'static str,
    method: Method,
    path: String,
    body: Option<Vec<u8>>,
) -> RestRequest {
    let read_only = method == Method::GET;
    RestRequest {
        operation,
        method,
        path,
        auth: RestAuth::Admin,
        content_type: body.as_ref().map(|_| JSON),
        accept: Some(JSON),
        body: body.map(SecretBody),
        read_only,
    }
}

/// Whether the answer is a success: a 2xx status with the API's own body (not a markup page a
/// proxy or a misrouted request answers with 200).
pub(crate) fn is_success(answer: &HttpAnswer) -> bool {
    (200..300).contains(&answer.status)
        && !is_markup(answer)
        // An error document sent with a success status is still an error.
        && !json_object(&answer.body).is_some_and(|d| {
            d.contains_key("code") && (d.contains_key("message") || d.contains_key("description"))
        })
}

/// Whether a JSON API answered with a markup document (a proxy's HTML login page, a SOAP
/// envelope): whatever its status, not the API's own answer.
pub(crate) fn is_markup(answer: &HttpAnswer) -> bool {
    let ct = answer
        .content_type()
        .unwrap_or_default()
        .to_ascii_lowercase();
    ct.contains("html")
        || ct.contains("xml")
        || answer
            .body
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b'<')
}

/// A JSON object body, if the body is one.
fn json_object(body: &[u8]) -> Option<serde_json::Map<String, Value>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

/// Whether a JSON object looks like the REST error document.
fn is_error_document(doc: &serde_json::Map<String, Value>) -> bool {
    doc.contains_key("code") || doc.contains_key("message") || doc.contains_key("traceId")
}

/// The error document's texts, bounded and scrubbed.
fn error_body(doc: &serde_json::Map<String, Value>, secrets: &[&str]) -> RestErrorBody {
    let text = |key: &str| match doc.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(detail_text(s, secrets)),
        Some(Value::Number(n)) => Some(ServerText::new(n.to_string())),
        _ => None,
    };
    RestErrorBody {
        code: text("code"),
        message: text("message"),
        description: text("description"),
        trace_id: text("traceId"),
    }
}

/// The error for an answer with an error status. `secrets` (sent with the request) are scrubbed
/// from the server's text.
pub(crate) fn rest_error(operation: &'static str, answer: &HttpAnswer, secrets: &[&str]) -> Error {
    let status = answer.status;
    if let Some(doc) = json_object(&answer.body).filter(is_error_document) {
        return Error::Rest {
            operation,
            status,
            error: Box::new(error_body(&doc, secrets)),
        };
    }
    if matches!(status, 401 | 403) {
        // Carbon's authentication valve answers without a document (or with a login page).
        return Error::Rest {
            operation,
            status,
            error: Box::default(),
        };
    }
    match unexpected(answer) {
        UnexpectedAnswer::Empty => Error::Http {
            operation,
            status,
            detail: None,
        },
        kind => Error::UnexpectedAnswer {
            operation,
            status,
            answer: kind,
        },
    }
}

/// Whether a 404 answer is the API saying "no such resource" (its error document, or an empty
/// body), as opposed to a page from something that is not this API at all (IS 5.9 has none).
pub(crate) fn is_resource_not_found(answer: &HttpAnswer) -> bool {
    answer.status == 404
        && (answer.body.iter().all(u8::is_ascii_whitespace)
            || json_object(&answer.body).is_some_and(|d| is_error_document(&d)))
}

/// Decodes a 2xx JSON answer, or turns an error status into an error.
pub(crate) fn expect_json<T: DeserializeOwned>(
    operation: &'static str,
    answer: &HttpAnswer,
    secrets: &[&str],
) -> Result<T> {
    if is_success(answer) {
        crate::scim2::wire::decode_json(operation, answer)
    } else {
        Err(rest_error(operation, answer, secrets))
    }
}

/// Accepts any 2xx answer (its body, if any, ignored), or turns an error status into an error.
pub(crate) fn expect_success(
    operation: &'static str,
    answer: &HttpAnswer,
    secrets: &[&str],
) -> Result<()> {
    if is_success(answer) {
        Ok(())
    } else {
        Err(rest_error(operation, answer, secrets))
    }
}

/// The id of a created resource: the last segment of the `Location` header of a 2xx answer
/// (IS answers `POST /applications` with 201, an empty body, and the id only there).
///
/// A 2xx answer without a usable `Location` is [`Error::Decode`]: the resource was probably
/// created, so [`Error::outcome_unknown`] is true and the caller re-reads by name.
pub(crate) fn created_id(
    operation: &'static str,
    answer: &HttpAnswer,
    collection: &str,
    secrets: &[&str],
) -> Result<String> {
    if !is_success(answer) {
        return Err(rest_error(operation, answer, secrets));
    }
    let missing = |why: &str| Error::Decode {
        operation,
        status: answer.status,
        source: format!("{why}; the resource may have been created: look it up by name").into(),
    };
    let location = answer
        .header("location")
        .ok_or_else(|| missing("the answer has no Location header naming the new resource"))?;
    let path = location.split(['?', '#']).next().unwrap_or(location);
    let mut segments = path.trim_end_matches('/').rsplit('/');
    let id = segments.next().unwrap_or_default();
    let parent = segments.next().unwrap_or_default();
    if id.is_empty() || parent != collection {
        return Err(missing(&format!(
            "the Location header does not name a resource of /{collection}"
        )));
    }
    Ok(percent_decode(id))
}

/// Decodes `%XX` escapes (a UUID has none; anything undecodable is kept as written).
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> HttpAnswer {
        let mut map = http::HeaderMap::new();
        for (k, v) in headers {
            map.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        HttpAnswer {
            status,
            headers: map,
            body: bytes::Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn ids_come_from_the_location_of_the_collection() {
        let ok = answer(
            201,
            &[(
                "location",
                "https://is:9443/t/carbon.super/api/server/v1/applications/5f1c-77",
            )],
            "",
        );
        assert_eq!(
            created_id("create", &ok, "applications", &[]).unwrap(),
            "5f1c-77"
        );
        let encoded = answer(
            201,
            &[("location", "/api/server/v1/applications/a%20b")],
            "",
        );
        assert_eq!(
            created_id("create", &encoded, "applications", &[]).unwrap(),
            "a b"
        );
        let none = answer(201, &[], "");
        let e = created_id("create", &none, "applications", &[]).unwrap_err();
        assert!(matches!(e, Error::Decode { .. }), "{e:?}");
        assert!(e.outcome_unknown());
        let other = answer(
            201,
            &[("location", "https://is/api/server/v1/scopes/x")],
            "",
        );
        assert!(created_id("create", &other, "applications", &[]).is_err());
    }

    #[test]
    fn error_documents_are_typed_bounded_and_scrubbed() {
        let long = "m".repeat(1000);
        let a = answer(
            500,
            &[("content-type", "application/json")],
            &format!(
                r#"{{"code":"APP-65001","message":"dup canary-secret {long}","description":"d","traceId":"t-1"}}"#
            ),
        );
        let e = rest_error("create application", &a, &["canary-secret"]);
        assert!(e.is_already_exists(), "{e}");
        assert!(!e.outcome_unknown(), "a duplicate is a definite answer");
        let shown = e.to_string();
        assert!(!shown.contains("canary-secret"), "{shown}");
        assert!(shown.contains("APP-65001"), "{shown}");
        assert!(shown.len() < 300, "{shown}");
        let body = e.rest_error().unwrap();
        assert_eq!(body.trace_id.as_ref().map(ServerText::raw), Some("t-1"));
        let message = body.message.as_ref().unwrap();
        assert!(!message.raw().contains("canary-secret"));
        assert!(message.to_string().len() <= ServerText::SHOWN + 64);

        let html = answer(
            500,
            &[("content-type", "text/html")],
            "<html><head><title>Error</title></head></html>",
        );
        assert!(matches!(
            rest_error("x", &html, &[]),
            Error::UnexpectedAnswer { status: 500, .. }
        ));
        let denied = rest_error("x", &answer(403, &[], ""), &[]);
        assert!(denied.is_auth_failure(), "{denied}");
        let missing = answer(
            404,
            &[],
            r#"{"code":"APP-60006","message":"Application not found."}"#,
        );
        assert!(is_resource_not_found(&missing));
        assert!(rest_error("x", &missing, &[]).is_not_found());
        assert!(!is_resource_not_found(&answer(404, &[], "<html>no</html>")));
    }
}
