//! Pure request and answer shaping for SCIM2 (and the JSON answers of the OIDC endpoints): no
//! I/O here, so every rule is testable without a server.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::carbon::HttpAnswer;
use crate::carbon::soap::{excerpt, html_title};
use crate::error::{BoxError, Error, Result, ServerText, UnexpectedAnswer};

/// `Content-Type` of SCIM request bodies.
pub(crate) const SCIM_JSON: &str = "application/scim+json";
/// `Accept` of SCIM requests (some servers answer plain JSON).
pub(crate) const SCIM_ACCEPT: &str = "application/scim+json, application/json";

/// A string as a SCIM filter value: a JSON string literal, quotes included, with `"` and `\`
/// escaped (RFC 7644 section 3.4.2.2: `compValue` is a JSON string).
pub(crate) fn filter_literal(value: &str) -> String {
    Value::from(value).to_string()
}

/// `attribute eq "value"`.
pub(crate) fn eq_filter(attribute: &str, value: &str) -> String {
    format!("{attribute} eq {}", filter_literal(value))
}

/// Percent-encodes everything but RFC 3986 unreserved characters (for path segments and query
/// values; a space becomes `%20`, never `+`).
pub(crate) fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Checks a resource id given by the caller before it goes into a path.
pub(crate) fn check_id(field: &str, id: &str) -> Result<()> {
    if id.trim().is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if id.chars().any(char::is_control) {
        return Err(Error::invalid(field, "contains a control character"));
    }
    Ok(())
}

/// The id at the end of a resource location (`.../Users/{id}`).
pub(crate) fn id_from_location(location: &str) -> Option<String> {
    let path = location.split(['?', '#']).next().unwrap_or(location);
    let last = path.trim_end_matches('/').rsplit('/').next()?;
    (!last.is_empty()).then(|| last.to_owned())
}

/// Whether a name in an answer is the name asked for: equal, or the same name qualified with
/// the primary user store (`PRIMARY/x`, as IS writes names of its primary store).
pub(crate) fn name_matches(found: &str, wanted: &str) -> bool {
    if found == wanted {
        return true;
    }
    if wanted.contains('/') {
        return false;
    }
    match found.split_once('/') {
        Some((domain, name)) => name == wanted && domain.eq_ignore_ascii_case("PRIMARY"),
        None => false,
    }
}

/// Replaces every occurrence of a secret in a text taken from an answer.
pub(crate) fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(s, "[REDACTED]");
    }
    out
}

/// A server-supplied text fit for an error: secrets scrubbed (in the whole text, before it is
/// bounded), white space trimmed; bounded and shown cleaned as a [`ServerText`].
pub(crate) fn detail_text(text: &str, secrets: &[&str]) -> ServerText {
    ServerText::new(scrub(text, secrets)).trimmed()
}

/// A JSON decoding problem without any value from the body: serde's message with quoted
/// values elided (field names, in backticks, stay), plus the position.
pub(crate) fn json_problem(e: &serde_json::Error) -> BoxError {
    let message = e.to_string();
    // serde_json appends " at line L column C"; keep our own position instead.
    let message = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(m, _)| m);
    let mut out = String::new();
    let mut in_quotes = false;
    for c in message.chars() {
        if c == '"' {
            if in_quotes {
                out.push_str("...\"");
            } else {
                out.push('"');
            }
            in_quotes = !in_quotes;
        } else if !in_quotes {
            out.push(c);
        }
    }
    // Field names come from the body: shown bounded and cleaned, like any server text.
    let out = crate::carbon::text::clean(&out, ServerText::SHOWN);
    format!("{out} (line {}, column {})", e.line(), e.column()).into()
}

/// What a body that is not the expected JSON document looks like.
pub(crate) fn unexpected(answer: &HttpAnswer) -> UnexpectedAnswer {
    let body = &answer.body;
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    let trimmed = &body[start..];
    if trimmed.is_empty() {
        return UnexpectedAnswer::Empty;
    }
    let ct = answer.content_type().map(str::to_ascii_lowercase);
    let lower_start: Vec<u8> = trimmed
        .iter()
        .take(15)
        .map(u8::to_ascii_lowercase)
        .collect();
    if ct.as_deref().is_some_and(|c| c.starts_with("text/html"))
        || lower_start.starts_with(b"<!doctype html")
        || lower_start.starts_with(b"<html")
    {
        return UnexpectedAnswer::Html {
            title: html_title(trimmed),
        };
    }
    if std::str::from_utf8(trimmed).is_ok() {
        return UnexpectedAnswer::Text {
            excerpt: excerpt(trimmed),
        };
    }
    UnexpectedAnswer::Other {
        content_type: answer.content_type().map(ServerText::from),
    }
}

/// Whether the body parses as a JSON object.
fn json_object(body: &[u8]) -> Option<serde_json::Map<String, Value>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

/// Decodes a successful answer's JSON body.
pub(crate) fn decode_json<T: DeserializeOwned>(
    operation: &'static str,
    answer: &HttpAnswer,
) -> Result<T> {
    if serde_json::from_slice::<Value>(&answer.body).is_err() {
        return Err(Error::UnexpectedAnswer {
            operation,
            status: answer.status,
            answer: unexpected(answer),
        });
    }
    serde_json::from_slice(&answer.body).map_err(|e| Error::Decode {
        operation,
        status: answer.status,
        source: json_problem(&e),
    })
}

/// The `scimType` and `detail` of a SCIM error document (or of a Bulk operation's `response`).
pub(crate) fn scim_error_fields(
    doc: &serde_json::Map<String, Value>,
    secrets: &[&str],
) -> (Option<ServerText>, Option<ServerText>) {
    let text = |key: &str| match doc.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(detail_text(s, secrets)),
        _ => None,
    };
    (text("scimType"), text("detail"))
}

/// Whether a JSON object looks like a SCIM error document: it names the error schema (as a list
/// or, as IS 5.9 sometimes writes it, a single string), or carries `detail`/`scimType`/`status`.
fn is_scim_error(doc: &serde_json::Map<String, Value>) -> bool {
    let schema = match doc.get("schemas") {
        Some(Value::String(s)) => s == super::ERROR_SCHEMA,
        Some(Value::Array(a)) => a.iter().any(|v| v == super::ERROR_SCHEMA),
        _ => false,
    };
    schema || doc.contains_key("detail") || doc.contains_key("scimType")
}

/// The error for a SCIM answer with an error status. `secrets` (passwords sent with the request)
/// are scrubbed from the server's text.
pub(crate) fn scim_error(operation: &'static str, answer: &HttpAnswer, secrets: &[&str]) -> Error {
    if let Some(doc) = json_object(&answer.body).filter(is_scim_error) {
        let (scim_type, detail) = scim_error_fields(&doc, secrets);
        return Error::Scim {
            operation,
            status: answer.status,
            scim_type,
            detail,
        };
    }
    match unexpected(answer) {
        UnexpectedAnswer::Empty => Error::Http {
            operation,
            status: answer.status,
            detail: (answer.status == 401).then(|| "authentication required".into()),
        },
        _ if answer.status == 401 => Error::Http {
            operation,
            status: 401,
            detail: Some("authentication required".into()),
        },
        kind => Error::UnexpectedAnswer {
            operation,
            status: answer.status,
            answer: kind,
        },
    }
}

/// Whether a 404 answer is the server saying "no such resource" (a SCIM error document or an
/// empty body), as opposed to a page from something that is not a SCIM endpoint at all.
pub(crate) fn is_resource_not_found(answer: &HttpAnswer) -> bool {
    answer.status == 404
        && (answer.body.iter().all(u8::is_ascii_whitespace)
            || json_object(&answer.body).is_some_and(|d| is_scim_error(&d)))
}

/// Whether the answer is a success: a 2xx status with the API's own body (not a markup page a
/// proxy or a misrouted request answers with 200).
pub(crate) fn is_success(answer: &HttpAnswer) -> bool {
    (200..300).contains(&answer.status)
        && !is_markup(answer)
        // An error document sent with a success status is still an error.
        && !json_object(&answer.body).is_some_and(|d| is_scim_error(&d))
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn answer(status: u16, ct: Option<&str>, body: &str) -> HttpAnswer {
        let mut headers = http::HeaderMap::new();
        if let Some(ct) = ct {
            headers.insert(http::header::CONTENT_TYPE, ct.parse().unwrap());
        }
        HttpAnswer {
            status,
            headers,
            body: bytes::Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn filter_values_are_json_string_literals() {
        assert_eq!(eq_filter("userName", "kim"), r#"userName eq "kim""#);
        assert_eq!(
            eq_filter("userName", r#"a"b\c"#),
            r#"userName eq "a\"b\\c""#
        );
        assert_eq!(filter_literal("é"), "\"é\"");
    }

    #[test]
    fn percent_encoding_keeps_unreserved_only() {
        assert_eq!(percent_encode("a b/c?d&e=f+g"), "a%20b%2Fc%3Fd%26e%3Df%2Bg");
        assert_eq!(percent_encode("A-z_0.9~"), "A-z_0.9~");
        assert_eq!(percent_encode("é"), "%C3%A9");
    }

    #[test]
    fn names_match_exactly_or_in_the_primary_store() {
        assert!(name_matches("kim", "kim"));
        assert!(name_matches("PRIMARY/kim", "kim"));
        assert!(!name_matches("SECONDARY/kim", "kim"));
        assert!(!name_matches("Kim", "kim"));
        assert!(!name_matches("PRIMARY/kim", "SECONDARY/kim"));
        assert!(name_matches("Internal/x", "Internal/x"));
    }

    #[test]
    fn ids_come_from_locations() {
        assert_eq!(
            id_from_location("https://h/scim2/Users/81cb-1"),
            Some("81cb-1".into())
        );
        assert_eq!(id_from_location("https://h/v2/Groups/x/"), Some("x".into()));
        assert_eq!(id_from_location(""), None);
    }

    #[test]
    fn decode_problems_never_echo_values() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct T {
            n: u16,
        }
        let e = serde_json::from_str::<T>(r#"{"n": "canary-value"}"#).unwrap_err();
        let p = json_problem(&e).to_string();
        assert!(!p.contains("canary"), "{p}");
        assert!(p.contains("line 1"), "{p}");
    }

    #[test]
    fn scim_errors_are_typed_and_scrubbed() {
        // IS 5.9 writes `schemas` as a single string and `status` as a string.
        let a = answer(
            409,
            Some("application/scim+json"),
            r#"{"schemas":"urn:ietf:params:scim:api:messages:2.0:Error","scimType":"uniqueness","detail":"User with the name: kim already exists in the system. pw=canary-pw","status":"409"}"#,
        );
        let e = scim_error("create user", &a, &["canary-pw"]);
        assert!(e.is_already_exists(), "{e}");
        assert!(!e.to_string().contains("canary"), "{e}");
        assert!(e.to_string().contains("[REDACTED]"), "{e}");

        let html = answer(
            404,
            Some("text/html"),
            "<html><head><title>HTTP Status 404</title></head></html>",
        );
        assert!(!is_resource_not_found(&html));
        let e = scim_error("get user", &html, &[]);
        assert!(matches!(e, Error::UnexpectedAnswer { .. }), "{e:?}");
        assert!(is_resource_not_found(&answer(
            404,
            None,
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"404","detail":"User 'x' not found"}"#
        )));
        let e = scim_error("get user", &answer(401, None, ""), &[]);
        assert!(e.is_auth_failure(), "{e}");
    }

    #[test]
    fn a_markup_page_with_a_success_status_is_no_success() {
        assert!(is_success(&answer(204, None, "")));
        assert!(is_success(&answer(
            200,
            Some("application/scim+json"),
            "{}"
        )));
        assert!(!is_success(&answer(
            200,
            Some("text/html"),
            "<html></html>"
        )));
        assert!(!is_success(&answer(200, None, "  <soapenv:Envelope/>")));
        assert!(!is_success(&answer(500, None, "{}")));
    }
}
