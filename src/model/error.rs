//! [`Error`]: everything that can go wrong with a call, behind predicates.

use std::error::Error as StdError;
use std::fmt;
use std::time::{Duration, SystemTime};

use http::StatusCode;
use memchr::memmem;
use serde::{Deserialize, Serialize};

use crate::model::config_error::ConfigError;
use crate::model::secret::ApiKey;
use crate::model::transport_error::{TransportError, TransportErrorKind};

/// What kind of failure an [`Error`] is. Prefer the predicates on [`Error`]
/// for decisions; this is for reporting and exhaustive logging.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The API answered with an `errors` document (whatever the status).
    Api,
    /// A non-success status without the API's error shape (an HTML proxy
    /// page, plain text, an empty body).
    Http,
    /// A success status whose body did not decode; [`Error::json_path`] says
    /// where.
    Decode,
    /// No response: see [`Error::transport_kind`].
    Transport,
    /// The server redirected to another origin (or too often); the redirect
    /// was not followed, so the API key was not sent there.
    Redirect,
    /// The request was refused before sending (an invalid value).
    InvalidRequest,
    /// A server-side task failed.
    TaskFailed,
    /// A server-side task did not finish within the wait limit (time or
    /// requests). Not a transport timeout: see [`Error::is_task_timeout`].
    TaskTimeout,
    /// While waiting for a task, the server answered about another task.
    TaskMismatch,
    /// Listing every page stopped because the server did not page as asked
    /// (a page repeated, or the page number did not move) or the list passed
    /// the client's bounds; [`Error::images_gathered`] says how many distinct
    /// images had been read.
    Paging,
}

/// The code of one API error entry: numeric `code` in CloudMC documents, or a
/// string `errorCode` in others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum ApiErrorCode {
    /// A numeric code, e.g. `2012`.
    Number(i64),
    /// A symbolic code, e.g. `"FOO_ERROR"`.
    Name(String),
}

impl fmt::Display for ApiErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiErrorCode::Number(n) => write!(f, "{n}"),
            ApiErrorCode::Name(s) => f.write_str(s),
        }
    }
}

/// One entry of the API's `errors` array, kept whole.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ApiErrorEntry {
    /// `code` or `errorCode`, when present.
    pub code: Option<ApiErrorCode>,
    /// `message`, when present.
    pub message: Option<String>,
    /// `context`: free-form JSON.
    pub context: Option<serde_json::Value>,
    /// The entry exactly as sent.
    pub raw: serde_json::Value,
}

impl ApiErrorEntry {
    /// Reads an entry leniently: any JSON value is kept, whatever its shape.
    pub(crate) fn from_value(raw: serde_json::Value) -> Self {
        let field = |name: &str| raw.get(name);
        let code = match field("code").or_else(|| field("errorCode")) {
            Some(serde_json::Value::Number(n)) => n.as_i64().map(ApiErrorCode::Number),
            Some(serde_json::Value::String(s)) => Some(ApiErrorCode::Name(s.clone())),
            _ => None,
        };
        let message = match field("message") {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            _ => match &raw {
                serde_json::Value::String(s) => Some(s.clone()),
                _ => None,
            },
        };
        let context = field("context").cloned();
        ApiErrorEntry {
            code,
            message,
            context,
            raw,
        }
    }
}

impl fmt::Display for ApiErrorEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.code, &self.message) {
            (Some(code), Some(message)) => write!(f, "{message} (code {code})"),
            (None, Some(message)) => f.write_str(message),
            (Some(code), None) => write!(f, "code {code}"),
            (None, None) => write!(f, "{}", self.raw),
        }
    }
}

/// The server's `Retry-After`: a delay, or a moment in wall-clock time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryAfter {
    /// `Retry-After: <seconds>`.
    Delay(Duration),
    /// `Retry-After: <HTTP date>`.
    At(SystemTime),
}

impl RetryAfter {
    /// The delay from `now` (zero for a date in the past).
    pub fn delay_from(self, now: SystemTime) -> Duration {
        match self {
            RetryAfter::Delay(d) => d,
            RetryAfter::At(t) => t.duration_since(now).unwrap_or(Duration::ZERO),
        }
    }
}

/// How many bytes of a body [`Error`]'s `Display` shows.
const EXCERPT_BYTES: usize = 300;

/// The error of every call: opaque, so it can grow, with predicates for the
/// decisions users make. It never contains the API key; it keeps the whole
/// response body (see [`Error::body`]) but shows only a short excerpt.
pub struct Error(Box<Inner>);

struct Inner {
    kind: ErrorKind,
    message: String,
    status: Option<StatusCode>,
    retry_after: Option<RetryAfter>,
    api_errors: Vec<ApiErrorEntry>,
    body: Option<Vec<u8>>,
    json_path: Option<String>,
    transport_kind: Option<TransportErrorKind>,
    reached_server: bool,
    attempts: u32,
    source: Option<Box<dyn StdError + Send + Sync>>,
    images_gathered: Option<usize>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error(Box::new(Inner {
            kind,
            message: message.into(),
            status: None,
            retry_after: None,
            api_errors: Vec::new(),
            body: None,
            json_path: None,
            transport_kind: None,
            reached_server: true,
            attempts: 1,
            source: None,
            images_gathered: None,
        }))
    }

    /// A listing that stopped early, with how many images it had gathered.
    pub(crate) fn paging(message: impl Into<String>, gathered: usize) -> Self {
        let mut e = Error::new(ErrorKind::Paging, message);
        e.0.images_gathered = Some(gathered);
        e
    }

    pub(crate) fn invalid_request(message: impl Into<String>) -> Self {
        let mut e = Error::new(ErrorKind::InvalidRequest, message);
        e.0.reached_server = false;
        e
    }

    pub(crate) fn with_status(mut self, status: StatusCode) -> Self {
        self.0.status = Some(status);
        self
    }

    pub(crate) fn with_retry_after(mut self, retry_after: Option<RetryAfter>) -> Self {
        self.0.retry_after = retry_after;
        self
    }

    pub(crate) fn with_api_errors(mut self, errors: Vec<ApiErrorEntry>) -> Self {
        self.0.api_errors = errors;
        self
    }

    pub(crate) fn with_body(mut self, body: Vec<u8>) -> Self {
        self.0.body = Some(body);
        self
    }

    pub(crate) fn with_json_path(mut self, path: String) -> Self {
        self.0.json_path = Some(path);
        self
    }

    pub(crate) fn with_source(
        mut self,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        self.0.source = Some(source.into());
        self
    }

    /// Puts `context` before the message, keeping everything else.
    pub(crate) fn with_context(mut self, context: &str) -> Self {
        self.0.message = format!("{context}: {}", self.0.message);
        self
    }

    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        self.0.attempts = attempts;
        self
    }

    /// Replaces every occurrence of the API key in what this error holds
    /// (message, API error entries, JSON path, body) with `<redacted>`, for a
    /// server that echoes the key back. The clients and the task poller do
    /// this to every error they return; call it when you use the decoders
    /// directly and print their errors.
    pub fn redact_secret(self, key: &ApiKey) -> Self {
        self.redact(key.expose_secret())
    }

    pub(crate) fn redact(mut self, secret: &str) -> Self {
        if secret.is_empty() {
            return self;
        }
        let inner = &mut *self.0;
        redact_string(&mut inner.message, secret);
        if let Some(path) = &mut inner.json_path {
            redact_string(path, secret);
        }
        for entry in &mut inner.api_errors {
            if let Some(message) = &mut entry.message {
                redact_string(message, secret);
            }
            if let Some(ApiErrorCode::Name(name)) = &mut entry.code {
                redact_string(name, secret);
            }
            if let Some(context) = &mut entry.context {
                redact_json(context, secret);
            }
            redact_json(&mut entry.raw, secret);
        }
        if let Some(body) = &mut inner.body {
            redact_bytes(body, secret.as_bytes());
        }
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The HTTP status, when a response arrived.
    pub fn status(&self) -> Option<StatusCode> {
        self.0.status
    }

    /// 404: the image (or task) does not exist.
    pub fn is_not_found(&self) -> bool {
        self.0.status == Some(StatusCode::NOT_FOUND)
    }

    /// 401: the API key was missing or not accepted.
    pub fn is_unauthorized(&self) -> bool {
        self.0.status == Some(StatusCode::UNAUTHORIZED)
    }

    /// 403: the key is valid but may not do this.
    pub fn is_forbidden(&self) -> bool {
        self.0.status == Some(StatusCode::FORBIDDEN)
    }

    /// 429: too many requests; see [`Error::retry_after`].
    pub fn is_rate_limited(&self) -> bool {
        self.0.status == Some(StatusCode::TOO_MANY_REQUESTS)
    }

    /// A 5xx status.
    pub fn is_server_error(&self) -> bool {
        self.0.status.is_some_and(|s| s.is_server_error())
    }

    /// A transport timeout: no connection or no complete response in time.
    /// A task wait that ran out is not one (see
    /// [`is_task_timeout`](Self::is_task_timeout)): retrying on this
    /// predicate must never repeat a create whose task was merely slow.
    pub fn is_timeout(&self) -> bool {
        matches!(
            self.0.transport_kind,
            Some(TransportErrorKind::Timeout | TransportErrorKind::ConnectTimeout)
        )
    }

    /// A task wait that ended by its time or request limit while the task
    /// was still running: the task may yet finish; wait again with
    /// [`Task`](crate::Task)'s id rather than start it again.
    pub fn is_task_timeout(&self) -> bool {
        self.0.kind == ErrorKind::TaskTimeout
    }

    /// No connection could be made (refused, unreachable, or not within
    /// the connect timeout).
    pub fn is_connect(&self) -> bool {
        matches!(
            self.0.transport_kind,
            Some(TransportErrorKind::Connect | TransportErrorKind::ConnectTimeout)
        )
    }

    /// The proxy refused the tunnel to the server
    /// ([`TransportErrorKind::Proxy`]): credentials wanted or rejected, the
    /// destination not allowed, or another non-2xx answer to `CONNECT`.
    /// Nothing reached the server, and the call was not retried.
    pub fn is_proxy(&self) -> bool {
        self.0.transport_kind == Some(TransportErrorKind::Proxy)
    }

    /// The response body was over the size limit.
    pub fn is_body_too_large(&self) -> bool {
        self.0.transport_kind == Some(TransportErrorKind::BodyTooLarge)
    }

    /// A success response whose body did not decode.
    pub fn is_decode(&self) -> bool {
        self.0.kind == ErrorKind::Decode
    }

    /// The transport failure kind, when no response arrived.
    pub fn transport_kind(&self) -> Option<TransportErrorKind> {
        self.0.transport_kind
    }

    /// The server's `Retry-After`, when it sent one.
    pub fn retry_after(&self) -> Option<RetryAfter> {
        self.0.retry_after
    }

    /// Every entry of the API's `errors` array.
    pub fn api_errors(&self) -> &[ApiErrorEntry] {
        &self.0.api_errors
    }

    /// The API's own messages, in order.
    pub fn api_messages(&self) -> impl Iterator<Item = &str> {
        self.0
            .api_errors
            .iter()
            .filter_map(|e| e.message.as_deref())
    }

    /// The whole response body, when one arrived.
    pub fn body(&self) -> Option<&[u8]> {
        self.0.body.as_deref()
    }

    /// Where a body failed to decode, e.g. `data[3].createdAt`.
    pub fn json_path(&self) -> Option<&str> {
        self.0.json_path.as_deref()
    }

    /// Whether the request may have reached the server (false only when it
    /// certainly did not: refused locally, or no connection was made). A
    /// create or delete that fails with `true` may still have happened.
    pub fn may_have_reached_server(&self) -> bool {
        self.0.reached_server
    }

    /// How many attempts were made before giving up.
    pub fn attempts(&self) -> u32 {
        self.0.attempts
    }

    /// A listing of every page that stopped early ([`ErrorKind::Paging`]):
    /// the server did not page as asked, or the list passed the client's
    /// bounds. The images gathered were not returned, as a partial list
    /// would look complete.
    pub fn is_paging(&self) -> bool {
        self.0.kind == ErrorKind::Paging
    }

    /// For a [`Paging`](ErrorKind::Paging) error, how many distinct images
    /// had been read when the listing stopped.
    pub fn images_gathered(&self) -> Option<usize> {
        self.0.images_gathered
    }

    /// The description, without the body excerpt.
    pub fn message(&self) -> &str {
        &self.0.message
    }
}

impl From<ConfigError> for Error {
    /// A configuration refused while setting up a call: nothing was sent.
    fn from(e: ConfigError) -> Self {
        Error::invalid_request(e.to_string()).with_source(e)
    }
}

impl From<TransportError> for Error {
    fn from(e: TransportError) -> Self {
        let kind = e.kind();
        let mut err = Error::new(ErrorKind::Transport, e.to_string());
        err.0.transport_kind = Some(kind);
        err.0.reached_server = kind.may_have_reached_server();
        err.with_source(e)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.0;
        f.debug_struct("Error")
            .field("kind", &inner.kind)
            .field("message", &inner.message)
            .field("status", &inner.status)
            .field("api_errors", &inner.api_errors)
            .field("json_path", &inner.json_path)
            .field("transport_kind", &inner.transport_kind)
            .field("retry_after", &inner.retry_after)
            .field("attempts", &inner.attempts)
            .field("body_len", &inner.body.as_ref().map(Vec::len))
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.0;
        if let Some(status) = inner.status {
            write!(f, "HTTP {status}: ")?;
        }
        f.write_str(&inner.message)?;
        if let Some(path) = &inner.json_path {
            write!(f, " at `{path}`")?;
        }
        if inner.attempts > 1 {
            write!(f, " (after {} attempts)", inner.attempts)?;
        }
        if inner.kind == ErrorKind::Http || inner.kind == ErrorKind::Decode {
            if let Some(body) = inner.body.as_deref().filter(|b| !b.is_empty()) {
                write!(f, "; body: {}", excerpt(body))?;
            }
        }
        Ok(())
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

const REDACTED: &str = "<redacted>";

/// Replaces every occurrence of `secret` (when not empty) in `text`.
pub(crate) fn redact_string(text: &mut String, secret: &str) {
    if !secret.is_empty() && text.contains(secret) {
        *text = text.replace(secret, REDACTED);
    }
}

pub(crate) fn redact_json(value: &mut serde_json::Value, secret: &str) {
    match value {
        serde_json::Value::String(s) => redact_string(s, secret),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| redact_json(v, secret)),
        serde_json::Value::Object(map) => {
            if map.keys().any(|k| k.contains(secret)) {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(k, v)| (k.replace(secret, REDACTED), v))
                    .collect();
            }
            map.values_mut().for_each(|v| redact_json(v, secret));
        }
        _ => {}
    }
}

fn redact_bytes(body: &mut Vec<u8>, secret: &[u8]) {
    if secret.is_empty() {
        return;
    }
    let finder = memmem::Finder::new(secret);
    if finder.find(body).is_none() {
        return;
    }
    let mut out = Vec::with_capacity(body.len());
    let mut rest = &body[..];
    while let Some(i) = finder.find(rest) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(REDACTED.as_bytes());
        rest = &rest[i + secret.len()..];
    }
    out.extend_from_slice(rest);
    *body = out;
}

/// A short, single-line, printable excerpt of a body.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let cut = &body[..body.len().min(EXCERPT_BYTES)];
    let text = String::from_utf8_lossy(cut);
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if body.len() > EXCERPT_BYTES {
        out.push_str(&format!("… ({} bytes in all)", body.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The body's bytes lose every occurrence of the key, left to right,
    /// and nothing else; expected bodies are written out by hand.
    #[test]
    fn redacting_a_body_replaces_each_occurrence_of_the_key() {
        let cases: [(&str, &str, &str); 7] = [
            ("no key here", "KEY", "no key here"),
            ("KEY", "KEY", "<redacted>"),
            (
                "a KEY b KEYKEY c",
                "KEY",
                "a <redacted> b <redacted><redacted> c",
            ),
            (
                "KEYs at both ends: KEY",
                "KEY",
                "<redacted>s at both ends: <redacted>",
            ),
            ("aaa", "aa", "<redacted>a"),
            ("partial KE", "KEY", "partial KE"),
            ("anything", "", "anything"),
        ];
        for (body, key, expected) in cases {
            let mut bytes = body.as_bytes().to_vec();
            redact_bytes(&mut bytes, key.as_bytes());
            assert_eq!(
                String::from_utf8(bytes).unwrap(),
                expected,
                "{body:?} without {key:?}"
            );
        }
        // A long body, the key well past its start and at its end.
        let long = format!("{}KEY{}KEY", "x".repeat(5000), "y".repeat(3000));
        let mut bytes = long.into_bytes();
        redact_bytes(&mut bytes, b"KEY");
        let expected = format!(
            "{}<redacted>{}<redacted>",
            "x".repeat(5000),
            "y".repeat(3000)
        );
        assert_eq!(String::from_utf8(bytes).unwrap(), expected);
    }
}
