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
    pub(crate) fn new(setting: &'static str, problem: &str) -> Self {
        ConfigError::owned(setting, problem.to_owned())
    }

    pub(crate) fn owned(setting: &'static str, problem: String) -> Self {
        ConfigError { setting, problem }
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
