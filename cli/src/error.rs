//! [`CliError`]: a message for stderr and the exit status that goes with it.

use std::fmt;

use crate::format;

/// Exit status when the API, the network or a task failed.
pub const EXIT_FAILED: u8 = 1;

/// Exit status for usage and configuration errors (clap uses it too).
pub const EXIT_USAGE: u8 = 2;

/// Why a command did not succeed.
#[derive(Debug)]
pub struct CliError {
    code: u8,
    message: String,
}

impl CliError {
    /// A usage or configuration error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            code: EXIT_USAGE,
            message: message.into(),
        }
    }

    /// A failure of the API, the network or a task (exit 1).
    pub fn failed(message: impl Into<String>) -> Self {
        CliError {
            code: EXIT_FAILED,
            message: message.into(),
        }
    }

    /// The exit status.
    pub fn exit_code(&self) -> u8 {
        self.code
    }

    /// The message, without the `error:` prefix.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The line reported on stderr ([`crate::terminal::report`]), without
    /// its newline: `coxedge-images: error: …`, with `secret` (the API key,
    /// when there is one) replaced should a server have echoed it and
    /// control characters replaced (the message may carry server text).
    pub fn line(&self, secret: Option<&str>) -> String {
        format::clean(&format!(
            "coxedge-images: error: {}",
            redact(&self.message, secret)
        ))
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// Replaces every occurrence of `secret` in `text` with `<redacted>`.
pub fn redact(text: &str, secret: Option<&str>) -> String {
    match secret {
        Some(secret) if !secret.is_empty() => text.replace(secret, "<redacted>"),
        _ => text.to_owned(),
    }
}

/// An API call's error, with the library's message (which names the HTTP
/// status and the API's own messages, or the network failure): exit 1, or 2
/// when the request was refused before sending because a value given on the
/// command line cannot be sent.
impl From<coxedge_images::Error> for CliError {
    fn from(error: coxedge_images::Error) -> Self {
        if error.kind() == coxedge_images::ErrorKind::InvalidRequest {
            CliError::usage(error.to_string())
        } else {
            CliError::failed(error.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_replaces_every_copy() {
        assert_eq!(
            redact("a key-1 b key-1", Some("key-1")),
            "a <redacted> b <redacted>"
        );
        assert_eq!(redact("text", Some("")), "text");
        assert_eq!(redact("text", None), "text");
    }

    #[test]
    fn reports_are_redacted_and_cleaned() {
        let error = CliError::failed("HTTP 400: key-1 \x1b]0;title\x07\x1b[31mred\nnext");
        let line = error.line(Some("key-1"));
        assert_eq!(
            line,
            "coxedge-images: error: HTTP 400: <redacted> ?]0;title??[31mred?next"
        );
        assert!(!line.chars().any(char::is_control), "{line:?}");
    }
}
