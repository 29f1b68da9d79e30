//! [`Endpoint`]: where and as whom to talk to the API.

use std::fmt;
use std::net::IpAddr;

use http::HeaderValue;
use url::{Host, Url};

use crate::request::push_segments;
use crate::secret::ApiKey;
use crate::segment::check_segment;

/// The base URL of the API as the specification gives it.
pub const DEFAULT_BASE_URL: &str = "https://portal.coxedge.com/api/v1";

/// The `User-Agent` every request carries: the crate's name and version.
pub const USER_AGENT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

/// Everything needed to address the API: base URL, service code, environment,
/// optional organisation, and the API key.
///
/// Made with [`Endpoint::builder`]; every value is validated once, there. The
/// base URL may end with `/` or not (`…/api/v1` and `…/api/v1/` are the same),
/// and any path prefix it has is kept. Plain `http://` is refused unless the
/// host is loopback or [`EndpointBuilder::allow_insecure_http`] was set,
/// because the API key travels in a header.
#[derive(Clone)]
pub struct Endpoint {
    pub(crate) base: Url,
    pub(crate) service: String,
    pub(crate) environment: String,
    pub(crate) org_id: Option<String>,
    pub(crate) api_key: ApiKey,
    pub(crate) user_agent: HeaderValue,
    /// The base URL as text, without trailing slashes.
    pub(crate) base_prefix: String,
    /// `<base>/services/:service/:environment/images`, encoded once.
    pub(crate) images_prefix: String,
}

impl Endpoint {
    /// Starts a builder.
    pub fn builder() -> EndpointBuilder {
        EndpointBuilder::default()
    }

    /// The base URL, as given (normalised by URL parsing).
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// The service code, e.g. `edge-services`.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The environment name.
    pub fn environment(&self) -> &str {
        &self.environment
    }

    /// The organisation id sent as `org_id`, if any.
    pub fn org_id(&self) -> Option<&str> {
        self.org_id.as_deref()
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("base", &self.base.as_str())
            .field("service", &self.service)
            .field("environment", &self.environment)
            .field("org_id", &self.org_id)
            .field("api_key", &self.api_key)
            .finish()
    }
}

/// Builds an [`Endpoint`]; see there for the rules.
#[derive(Default, Clone)]
pub struct EndpointBuilder {
    base_url: Option<String>,
    service: Option<String>,
    environment: Option<String>,
    org_id: Option<String>,
    api_key: Option<ApiKey>,
    allow_insecure_http: bool,
    user_agent: Option<String>,
}

impl fmt::Debug for EndpointBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointBuilder")
            .field("base_url", &self.base_url)
            .field("service", &self.service)
            .field("environment", &self.environment)
            .field("org_id", &self.org_id)
            .field("api_key", &self.api_key)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .finish()
    }
}

impl EndpointBuilder {
    /// The base URL (default [`DEFAULT_BASE_URL`]).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The service code (required), e.g. `edge-services` or `cox`.
    pub fn service(mut self, code: impl Into<String>) -> Self {
        self.service = Some(code.into());
        self
    }

    /// The environment name (required).
    pub fn environment(mut self, name: impl Into<String>) -> Self {
        self.environment = Some(name.into());
        self
    }

    /// The sub-organisation, sent as `org_id` on every request.
    pub fn org_id(mut self, id: impl Into<String>) -> Self {
        self.org_id = Some(id.into());
        self
    }

    /// The API key (required).
    pub fn api_key(mut self, key: ApiKey) -> Self {
        self.api_key = Some(key);
        self
    }

    /// Allows a plain `http://` base URL on a host that is not loopback.
    /// The API key then crosses the network unencrypted: only for networks
    /// you trust. The bundled transports check every request too, so set
    /// `TransportConfig::allow_insecure_http` as well.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// A product token put before this crate's own in `User-Agent`,
    /// e.g. `my-app/1.2`.
    pub fn user_agent_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.user_agent = Some(prefix.into());
        self
    }

    /// Validates everything and makes the endpoint.
    pub fn build(self) -> Result<Endpoint, ConfigError> {
        let base = parse_base_url(
            self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL),
            self.allow_insecure_http,
        )?;
        let service = required_segment("service code", self.service)?;
        let environment = required_segment("environment", self.environment)?;
        let org_id = match self.org_id {
            Some(id) if id.is_empty() => return Err(ConfigError::new("org id", "is empty")),
            other => other,
        };
        let api_key = self
            .api_key
            .ok_or_else(|| ConfigError::new("api key", "is missing"))?;
        let user_agent = match self.user_agent {
            Some(prefix) => {
                HeaderValue::from_str(&format!("{prefix} {USER_AGENT}")).map_err(|_| {
                    ConfigError::new("user agent prefix", "is not a valid header value")
                })?
            }
            None => HeaderValue::from_static(USER_AGENT),
        };
        let base_prefix = base.as_str().trim_end_matches('/').to_owned();
        let mut images_prefix = base_prefix.clone();
        push_segments(
            &mut images_prefix,
            &["services", &service, &environment, "images"],
        );
        Ok(Endpoint {
            base,
            service,
            environment,
            org_id,
            api_key,
            user_agent,
            base_prefix,
            images_prefix,
        })
    }
}

fn required_segment(what: &'static str, value: Option<String>) -> Result<String, ConfigError> {
    let value = value.ok_or_else(|| ConfigError::new(what, "is missing"))?;
    check_segment(&value).map_err(|p| ConfigError::new(what, p.describe()))?;
    Ok(value)
}

fn parse_base_url(text: &str, allow_insecure_http: bool) -> Result<Url, ConfigError> {
    let what = "base URL";
    let url =
        Url::parse(text).map_err(|e| ConfigError::owned(what, format!("is not a URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure_http || is_loopback(&url) => {}
        "http" => {
            return Err(ConfigError::new(
                what,
                "uses plain http to a host that is not loopback; the API key would travel unencrypted (allow it with allow_insecure_http on the endpoint and on the transport)",
            ));
        }
        _ => return Err(ConfigError::new(what, "must use https (or http)")),
    }
    if url.host().is_none() || url.cannot_be_a_base() {
        return Err(ConfigError::new(what, "has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigError::new(what, "must not contain credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::new(what, "must not have a query or fragment"));
    }
    Ok(url)
}

/// Whether the URL's host is a loopback address (127.0.0.0/8, ::1) or
/// `localhost`: where plain http is allowed without opting in.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => is_loopback_host(d),
        None => false,
    }
}

/// The same test on a host as text (`127.0.0.1`, `[::1]`, `localhost`).
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
}

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
