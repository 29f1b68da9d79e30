//! [`ConfigError`]: a setting refused when an endpoint, a key or a
//! transport is set up.

use std::fmt;

/// A configuration value that was refused. It names the setting and says
/// what is wrong with it; it never repeats the API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    setting: &'static str,
    problem: String,
}

impl ConfigError {
    /// Refuses `setting` (a short noun such as `"base URL"` or `"root
    /// certificate"`) because of `problem`, which completes the sentence
    /// "the `<setting>` …" and must not contain the API key. For transports
    /// whose constructors refuse a setting as the bundled ones do.
    pub fn new(setting: &'static str, problem: impl Into<String>) -> Self {
        ConfigError {
            setting,
            problem: problem.into(),
        }
    }

    /// The setting that was refused, e.g. `"base URL"`.
    pub fn setting(&self) -> &'static str {
        self.setting
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the {} {}", self.setting, self.problem)
    }
}

impl std::error::Error for ConfigError {}
