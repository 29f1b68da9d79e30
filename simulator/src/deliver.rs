//! Turning an answer into the HTTP response actually sent: as is, or spoilt
//! by a [`FaultAction`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use http::{HeaderValue, Response, StatusCode};
use hyper::body::Bytes;

use super::body::{SimBody, Step};
use super::faults::FaultAction;
use super::routes::Reply;

/// How long a streamed fault waits so that what was sent so far is flushed
/// to the client before the connection is spoilt.
const FLUSH_PAUSE: Duration = Duration::from_millis(100);

/// Per-connection switch: when set, the connection is closed with a TCP
/// reset (`SO_LINGER` 0) instead of a normal close.
#[derive(Debug, Default)]
pub(crate) struct ConnControl {
    reset: AtomicBool,
}

impl ConnControl {
    pub(crate) fn request_reset(&self) {
        self.reset.store(true, Ordering::SeqCst);
    }

    pub(crate) fn reset_requested(&self) -> bool {
        self.reset.load(Ordering::SeqCst)
    }
}

/// What the connection does next: send a response, or drop the connection
/// (hyper closes it when the service fails).
pub(crate) enum Delivery {
    Respond(Response<SimBody>),
    Abort,
}

/// The status and headers of an answer.
type ReplyHead = (StatusCode, http::HeaderMap);

/// A normal answer, whole.
pub(crate) fn normal(reply: Reply) -> Response<SimBody> {
    let mut response = Response::new(SimBody::full(reply.body));
    *response.status_mut() = reply.status;
    *response.headers_mut() = reply.headers;
    response
}

/// A response with these parts and a streamed body; `content_length` is
/// sent as given (it may deliberately disagree with the body).
fn streamed(parts: ReplyHead, content_length: Option<u64>, steps: Vec<Step>) -> Response<SimBody> {
    let mut response = Response::new(SimBody::script(steps));
    *response.status_mut() = parts.0;
    *response.headers_mut() = parts.1;
    if let Some(length) = content_length {
        response
            .headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from(length));
    }
    response
}

fn simple(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<SimBody> {
    let mut response = Response::new(SimBody::full(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// The proxy error page of [`FaultAction::Html502`].
const HTML_502: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/// The cut-off document of [`FaultAction::MalformedJson`].
const MALFORMED_JSON: &str = r#"{"data": [{"stackId": "a8050b2b-39eb-4929-bce5-1af42055903e", "id": "a8050b2b-39eb-4929-bce5-1af42055903e/centos7/v2020"#;

/// The start of a gzip member (magic, deflate, no flags, no time, Unix)
/// followed by bytes that do not inflate.
const NOT_REALLY_GZIP: &[u8] = &[
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xff, 0xfe, 0x7b, 0x22, 0x64, 0x61,
    0x74, 0x61, 0x22, 0x00, 0x13, 0x37,
];

/// Whether an action answers in place of the API (the request is not run).
pub(crate) fn replaces_answer(action: &FaultAction) -> bool {
    !matches!(
        action,
        FaultAction::Delay(_)
            | FaultAction::Drip { .. }
            | FaultAction::Stall
            | FaultAction::Truncate
            | FaultAction::ResetAfterHeaders
    )
}

/// The response of an action that answers in place of the API.
pub(crate) async fn replacement(action: FaultAction, conn: &ConnControl) -> Delivery {
    let response = match action {
        FaultAction::Status {
            status,
            retry_after,
            body,
        } => {
            let mut response = match body {
                None => normal(Reply::error(
                    status,
                    &format!("Simulated failure with status {}", status.as_u16()),
                    serde_json::Value::Null,
                )),
                Some(body) => {
                    let json = serde_json::from_str::<serde::de::IgnoredAny>(&body).is_ok();
                    let content_type = if json {
                        "application/json"
                    } else {
                        "text/plain; charset=utf-8"
                    };
                    simple(status, content_type, body)
                }
            };
            if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
                response.headers_mut().insert(RETRY_AFTER, value);
            }
            response
        }
        FaultAction::StallBeforeHeaders => {
            std::future::pending::<()>().await;
            return Delivery::Abort;
        }
        FaultAction::MalformedJson => simple(StatusCode::OK, "application/json", MALFORMED_JSON),
        FaultAction::Html502 => simple(StatusCode::BAD_GATEWAY, "text/html", HTML_502),
        FaultAction::Reset => {
            conn.request_reset();
            return Delivery::Abort;
        }
        FaultAction::RedirectTo(location) => match HeaderValue::from_str(&location) {
            Ok(location) => {
                let mut response = Response::new(SimBody::full(Bytes::new()));
                *response.status_mut() = StatusCode::TEMPORARY_REDIRECT;
                response.headers_mut().insert(LOCATION, location);
                response
            }
            Err(_) => normal(Reply::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The injected redirect location is not a valid header value",
                serde_json::Value::Null,
            )),
        },
        FaultAction::Oversized(size) => {
            let mut response = Response::new(SimBody::script(oversized_steps(size)));
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        FaultAction::RawBody {
            status,
            content_type,
            body,
        } => {
            let mut response = Response::new(SimBody::full(body));
            *response.status_mut() = status;
            if let Ok(value) = HeaderValue::from_str(&content_type) {
                response.headers_mut().insert(CONTENT_TYPE, value);
            }
            response
        }
        FaultAction::Gzip => {
            let mut response = simple(StatusCode::OK, "application/json", NOT_REALLY_GZIP);
            response
                .headers_mut()
                .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            response
        }
        // Actions that spoil a normal answer are handled by `spoil`.
        FaultAction::Delay(_)
        | FaultAction::Drip { .. }
        | FaultAction::Stall
        | FaultAction::Truncate
        | FaultAction::ResetAfterHeaders => normal(Reply::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The simulator mishandled a fault",
            serde_json::Value::Null,
        )),
    };
    Delivery::Respond(response)
}

fn oversized_steps(size: u64) -> Vec<Step> {
    const PREFIX: &[u8] = br#"{"data": ["#;
    let prefix_len = PREFIX.len() as u64;
    if size <= prefix_len {
        // `size` is below PREFIX.len(), so the cast is exact.
        return vec![Step::Data(Bytes::from_static(&PREFIX[..size as usize]))];
    }
    vec![
        Step::Data(Bytes::from_static(PREFIX)),
        Step::Filler {
            remaining: size - prefix_len,
        },
    ]
}

/// The response of an action that spoils a normal answer. `Delay` has
/// already been waited for by the caller.
pub(crate) fn spoil(action: &FaultAction, reply: Reply, conn: &ConnControl) -> Response<SimBody> {
    let Reply {
        status,
        headers,
        body,
    } = reply;
    let head = (status, headers);
    let body = Bytes::from(body);
    let length = body.len() as u64;
    match action {
        FaultAction::Drip { chunk_delay } => {
            let steps = (0..body.len())
                .flat_map(|i| [Step::Pause(*chunk_delay), Step::Data(body.slice(i..i + 1))])
                .collect();
            streamed(head, Some(length), steps)
        }
        FaultAction::Stall => streamed(head, Some(length), vec![Step::Hang]),
        FaultAction::Truncate => {
            let sent = body.len() / 2;
            let claimed = length.max(sent as u64 + 1);
            let steps = vec![
                Step::Data(body.slice(..sent)),
                Step::Pause(FLUSH_PAUSE),
                Step::Fail("simulated truncation"),
            ];
            streamed(head, Some(claimed), steps)
        }
        FaultAction::ResetAfterHeaders => {
            conn.request_reset();
            let steps = vec![Step::Pause(FLUSH_PAUSE), Step::Fail("simulated reset")];
            streamed(head, Some(length), steps)
        }
        _ => streamed(head, Some(length), vec![Step::Data(body)]),
    }
}
