//! What every decoder shares: turning a response (status, headers, body
//! bytes) into a typed value or a typed [`Error`].
//!
//! The success path decodes in one pass, borrowing strings from the body.
//! Only when that fails is the body read again, to find the API's `errors`
//! document or the JSON path that broke, so errors cost nothing until they
//! happen.

use http::header::{CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderMap, Response, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::model::error::{ApiErrorEntry, Error, ErrorKind, RetryAfter};
use crate::model::image::ListMetadata;

/// The success envelope `{"data": …, "metadata": …}`; `errors` is looked at
/// so that a 2xx carrying the API's error document is not taken for success.
#[derive(Deserialize)]
struct Envelope<T> {
    data: Option<T>,
    #[serde(default)]
    metadata: Option<ListMetadata>,
    #[serde(default)]
    errors: Option<serde::de::IgnoredAny>,
}

/// Only the `errors` array, read leniently from any JSON object.
#[derive(Deserialize)]
struct ErrorDocument {
    errors: Option<serde_json::Value>,
}

/// Decodes `{"data": T, "metadata": …}` from a 2xx response, or the error
/// the response stands for.
pub(crate) fn decode_data<T: DeserializeOwned>(
    response: Response<Vec<u8>>,
) -> Result<(T, Option<ListMetadata>), Error> {
    let (parts, body) = response.into_parts();
    let body = check_success(parts.status, &parts.headers, body)?;
    match parse::<Envelope<T>>(&body) {
        Ok(Envelope {
            data: Some(data),
            metadata,
            errors: None,
        }) => Ok((data, metadata)),
        _ => Err(body_error::<Envelope<T>>(
            parts.status,
            &parts.headers,
            body,
            "data",
        )),
    }
}

/// Decodes a 2xx body of any shape `T` (used by the task decoder), handing
/// the body back for the caller's own checks. A body with an `errors` field
/// is the API's error, as for every other answer.
pub(crate) fn decode_json<T: DeserializeOwned>(
    response: Response<Vec<u8>>,
) -> Result<(T, Vec<u8>), Error> {
    let (parts, body) = response.into_parts();
    let body = check_success(parts.status, &parts.headers, body)?;
    if let Some(err) = api_error(parts.status, &parts.headers, &body) {
        return Err(err.with_body(body));
    }
    match parse::<T>(&body) {
        Ok(value) => Ok((value, body)),
        Err(_) => Err(body_error::<T>(parts.status, &parts.headers, body, "")),
    }
}

/// Parses a success body. One UTF-8 check of the whole body (fast on ASCII)
/// spares serde_json its per-string checks (about a sixth of the decode);
/// invalid UTF-8 goes the byte path, so its error is the same as before.
fn parse<T: DeserializeOwned>(body: &[u8]) -> serde_json::Result<T> {
    match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(body),
    }
}

/// Refuses what cannot be a success body before any JSON is read: a status
/// other than 2xx, 204 or 1xx where a body is expected, an encoding we did
/// not ask for. Hands the body back when it may be decoded.
fn check_success(status: StatusCode, headers: &HeaderMap, body: Vec<u8>) -> Result<Vec<u8>, Error> {
    if !status.is_success() {
        return Err(status_error(status, headers, body));
    }
    if status == StatusCode::NO_CONTENT || status == StatusCode::RESET_CONTENT {
        return Err(Error::new(
            ErrorKind::Decode,
            format!("the server answered {status} with no body where a JSON body was expected"),
        )
        .with_status(status));
    }
    if let Some(encoding) = headers.get(CONTENT_ENCODING) {
        let encoding = String::from_utf8_lossy(encoding.as_bytes()).to_string();
        if !encoding.eq_ignore_ascii_case("identity") {
            return Err(Error::new(
                ErrorKind::Decode,
                format!("the body is encoded as {encoding:?}, which was not asked for"),
            )
            .with_status(status)
            .with_body(body));
        }
    }
    Ok(body)
}

/// The error for a body that did not decode as `T`: the API's error document
/// if the body holds one, else a decode error with the JSON path.
#[cold]
#[inline(never)]
fn body_error<T: DeserializeOwned>(
    status: StatusCode,
    headers: &HeaderMap,
    body: Vec<u8>,
    missing: &str,
) -> Error {
    if let Some(err) = api_error(status, headers, &body) {
        return err.with_body(body);
    }
    let de = &mut serde_json::Deserializer::from_slice(&body);
    let (message, path) = match serde_path_to_error::deserialize::<_, T>(&mut *de) {
        Err(e) => {
            let path = e.path().to_string();
            (e.into_inner().to_string(), path)
        }
        // The value decoded the second time: what failed is after it, or an
        // `errors` field too broken to read, or the envelope lacked `data`.
        Ok(_) => match (de.end(), unreadable_errors(&body)) {
            (Err(e), _) => (e.to_string(), ".".to_owned()),
            (Ok(()), Some(e)) => (
                format!("the body has an `errors` field that could not be read: {e}"),
                "errors".to_owned(),
            ),
            (Ok(()), None) => (format!("missing field `{missing}`"), ".".to_owned()),
        },
    };
    let content_type = headers
        .get(CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).to_string());
    let mut message = format!("the response body did not decode: {message}");
    if let Some(ct) = content_type.filter(|ct| !ct.to_ascii_lowercase().contains("json")) {
        message.push_str(&format!(" (Content-Type was {ct:?})"));
    }
    Error::new(ErrorKind::Decode, message)
        .with_status(status)
        .with_json_path(path)
        .with_body(body)
}

/// Why the body's `errors` field could not be read, when it has one.
fn unreadable_errors(body: &[u8]) -> Option<serde_json::Error> {
    #[derive(Deserialize)]
    struct Presence {
        errors: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_slice::<Presence>(body).ok()?.errors?;
    serde_json::from_slice::<ErrorDocument>(body).err()
}

/// The error for a non-success status.
#[cold]
#[inline(never)]
pub(crate) fn status_error(status: StatusCode, headers: &HeaderMap, body: Vec<u8>) -> Error {
    let err = api_error(status, headers, &body).unwrap_or_else(|| {
        // The status line says what the status means; the message says only
        // what the body adds (the excerpt follows it in `Display`).
        let what = if body.iter().all(u8::is_ascii_whitespace) {
            "no response body"
        } else {
            "the body is not an API error document"
        };
        Error::new(ErrorKind::Http, what)
            .with_status(status)
            .with_retry_after(retry_after(headers))
    });
    err.with_body(body)
}

/// The API error a body holds, if it is an object with an `errors` field.
fn api_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Option<Error> {
    let doc: ErrorDocument = serde_json::from_slice(body).ok()?;
    let entries: Vec<ApiErrorEntry> = match doc.errors? {
        serde_json::Value::Array(items) => {
            items.into_iter().map(ApiErrorEntry::from_value).collect()
        }
        other => vec![ApiErrorEntry::from_value(other)],
    };
    let summary = if entries.is_empty() {
        "the API reported an error (an empty `errors` list)".to_owned()
    } else {
        entries
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    };
    Some(
        Error::new(ErrorKind::Api, summary)
            .with_status(status)
            .with_api_errors(entries)
            .with_retry_after(retry_after(headers)),
    )
}

/// Parses `Retry-After` as delay-seconds or an HTTP date. Anything else
/// (negative, fractional, garbage, several values) is ignored.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<RetryAfter> {
    let mut values = headers.get_all(RETRY_AFTER).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let text = value.to_str().ok()?.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        // Saturate absurd values; the retry policy caps them anyway.
        let secs = text.parse::<u64>().unwrap_or(u64::MAX);
        return Some(RetryAfter::Delay(std::time::Duration::from_secs(secs)));
    }
    httpdate::parse_http_date(text).ok().map(RetryAfter::At)
}
