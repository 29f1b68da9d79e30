//! Proxies: which one, if any, a request goes through. Both bundled
//! transports ask the same function, so they agree on every rule; the rules
//! are documented on [`ProxyConfig`].

use std::fmt;
#[cfg(any(feature = "ureq", feature = "hyper"))]
use std::net::IpAddr;
use std::str::FromStr;

use http::HeaderValue;
#[cfg(any(feature = "ureq", feature = "hyper"))]
use http::Uri;
use percent_encoding::percent_decode_str;

use crate::ConfigError;
use crate::is_loopback_host;
#[cfg(any(feature = "ureq", feature = "hyper"))]
use crate::{TransportError, TransportErrorKind};

/// Which proxy the bundled transports use.
///
/// Both bundled transports ask the same function, so they agree on every
/// rule. By default the proxy comes from the environment, read the way curl
/// reads it:
///
/// - an `https://` target uses `https_proxy`, else `HTTPS_PROXY`, else
///   `all_proxy`, else `ALL_PROXY`; an `http://` target uses `http_proxy`,
///   else `HTTP_PROXY`, else `all_proxy`, else `ALL_PROXY` (the lowercase
///   name wins, an empty value counts as unset). As in most clients,
///   `HTTP_PROXY` is ignored when `REQUEST_METHOD` is set (a CGI script,
///   where a request header can set it: "httpoxy");
/// - `no_proxy`, else `NO_PROXY`: a list separated by commas or spaces.
///   `*` alone bypasses every host. A name matches itself and every name
///   below it (`example.com` and `.example.com` both match `example.com` and
///   `api.example.com`, never `notexample.com`); `*.example.com` is read as
///   `.example.com`. An IP address matches itself, and `10.0.0.0/8` every
///   address in the network. IPv6 addresses are written without brackets.
///   Case and a trailing dot are ignored. The port is not compared;
/// - loopback is not bypassed unless `NO_PROXY` says so (as in curl): add
///   `localhost,127.0.0.1,::1` to reach a local server directly.
///
/// A proxy URL is `[http://][user[:password]@]host[:port]`; the port is 1080
/// when not given (curl's default). Only `http://` proxies are supported;
/// another scheme (`https://`, `socks5://`) is an error when the proxy would
/// be used, never a silent direct connection. User and password
/// (percent-decoded) are sent as `Proxy-Authorization: Basic`, and never
/// shown: [`ProxyUrl`]'s `Debug` and `Display`, and every error, name only
/// the host and port.
///
/// # What the proxy sees
///
/// Every proxied request goes through a `CONNECT` tunnel. For `https://`
/// targets TLS runs end to end inside it, so the proxy sees only the target's
/// host and port, never the API key. A plain `http://` target (allowed only
/// to loopback, or when insecure http is allowed on the endpoint and on the
/// transport) would cross the tunnel in clear, key included: it is refused
/// unless the proxy itself is on loopback (the key then stays on this
/// machine, as with plain http to loopback) or insecure http is allowed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyConfig {
    /// `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (and their
    /// lowercase forms), read when the transport is built. The default.
    #[default]
    FromEnvironment,
    /// No proxy: every request connects directly, whatever the environment
    /// says.
    None,
    /// This proxy for every request (`NO_PROXY` is not read).
    Url(ProxyUrl),
}

/// An HTTP proxy: host, port and optional credentials.
///
/// Parsed from `[http://][user[:password]@]host[:port][/]` with
/// [`FromStr`]; the port is 1080 when not given. `Debug` and `Display` show
/// `http://host:port` only, never the credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    /// The host as written in a URI (IPv6 in brackets).
    host: String,
    port: u16,
    /// Decoded user and password.
    credentials: Option<(String, String)>,
}

/// The port of a proxy URL that names none (curl's default).
const DEFAULT_PROXY_PORT: u16 = 1080;

impl ProxyUrl {
    /// The host, as in a URI (an IPv6 address in brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether a user (and maybe a password) was given.
    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    /// The decoded user and password, for transports that build the header
    /// themselves.
    pub(crate) fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(user, password)| (user.as_str(), password.as_str()))
    }

    /// `Basic base64(user:password)`, marked sensitive, when credentials
    /// were given.
    pub fn basic_authorization(&self) -> Option<HeaderValue> {
        let (user, password) = self.credentials()?;
        let mut value =
            HeaderValue::try_from(format!("Basic {}", base64(format!("{user}:{password}"))))
                .ok()?;
        value.set_sensitive(true);
        Some(value)
    }

    /// `http://host:port/`, without credentials.
    #[cfg(feature = "hyper")]
    pub(crate) fn uri(&self) -> Uri {
        // Host and port were validated as an authority when parsed.
        Uri::builder()
            .scheme("http")
            .authority(format!("{}:{}", self.host, self.port))
            .path_and_query("/")
            .build()
            .unwrap_or_else(|_| Uri::from_static("http://invalid.invalid/"))
    }

    /// Whether the proxy is on this machine.
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(&self.host)
    }
}

impl FromStr for ProxyUrl {
    type Err = ConfigError;

    /// Parses a proxy URL. Errors never repeat the text, which may hold a
    /// password.
    fn from_str(text: &str) -> Result<Self, ConfigError> {
        let bad = |problem: &str| ConfigError::new("proxy URL", problem.to_owned());
        let text = text.trim();
        let rest = match text.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some((scheme, _)) => {
                let scheme = if scheme.chars().all(|c| c.is_ascii_alphanumeric()) {
                    scheme
                } else {
                    "that"
                };
                return Err(ConfigError::new(
                    "proxy URL",
                    format!("uses the scheme {scheme}, but only http:// proxies are supported"),
                ));
            }
            None => text,
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if !(tail.is_empty() || tail == "/") {
            return Err(bad("must not have a path, query or fragment"));
        }
        let (userinfo, host_port) = match authority.rsplit_once('@') {
            Some((userinfo, host_port)) => (Some(userinfo), host_port),
            None => (None, authority),
        };
        let credentials = match userinfo {
            None => None,
            Some(userinfo) => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                let decode = |s: &str| {
                    percent_decode_str(s)
                        .decode_utf8()
                        .map(|s| s.into_owned())
                        .map_err(|_| bad("has credentials that are not UTF-8 once decoded"))
                };
                Some((decode(user)?, decode(password)?))
            }
        };
        if host_port.is_empty() {
            return Err(bad("has no host"));
        }
        // The port by hand: `Authority` lets an out-of-range one through.
        let (host, port) = match host_port.rfind(':') {
            Some(colon) if !host_port[colon..].contains(']') => {
                (&host_port[..colon], Some(&host_port[colon + 1..]))
            }
            _ => (host_port, None),
        };
        let port = match port {
            None => DEFAULT_PROXY_PORT,
            Some(text) => match text.parse::<u16>() {
                Ok(port) if port != 0 && text.bytes().all(|b| b.is_ascii_digit()) => port,
                _ => return Err(bad("has an invalid port")),
            },
        };
        let authority: http::uri::Authority =
            host.parse().map_err(|_| bad("has an invalid host"))?;
        if authority.host().is_empty() || authority.port().is_some() {
            return Err(bad("has an invalid host"));
        }
        Ok(ProxyUrl {
            host: authority.host().to_owned(),
            port,
            credentials,
        })
    }
}

impl fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}:{}", self.host, self.port)
    }
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyUrl")
            .field("host", &self.host)
            .field("port", &self.port)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

#[cfg(any(feature = "ureq", feature = "hyper"))]
impl ProxyUrl {
    /// `host:port`, as the messages name the proxy (never credentials).
    pub(crate) fn host_port(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The `CONNECT` request for a tunnel to `host:port`: the crate's
    /// `User-Agent`, and the credentials when given. Both transports send
    /// this much (ureq writes its own, with the same headers).
    #[cfg(feature = "hyper")]
    pub(crate) fn connect_head(&self, host: &str, port: u16) -> Vec<u8> {
        let mut head = format!(
            "CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: {}\r\n",
            crate::USER_AGENT
        )
        .into_bytes();
        if let Some(auth) = self.basic_authorization() {
            head.extend_from_slice(b"Proxy-Authorization: ");
            head.extend_from_slice(auth.as_bytes());
            head.extend_from_slice(b"\r\n");
        }
        head.extend_from_slice(b"\r\n");
        head
    }
}

/// A response extension: the response came through the proxy at this
/// `host:port` (never its credentials). A transport that uses a proxy puts
/// it in [`http::Response::extensions_mut`], as the bundled ones do, and the
/// request logs name the proxy; the failures of a proxied request say the
/// same with [`TransportError::through_proxy`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThroughProxy(pub String);

/// Marks `answer` as having come through `proxy`, when there was one.
#[cfg(any(feature = "ureq", feature = "hyper"))]
pub(crate) fn mark_proxy<T>(
    answer: Result<http::Response<T>, TransportError>,
    proxy: Option<&ProxyUrl>,
) -> Result<http::Response<T>, TransportError> {
    let Some(proxy) = proxy else { return answer };
    match answer {
        Ok(mut response) => {
            response
                .extensions_mut()
                .insert(ThroughProxy(proxy.host_port()));
            Ok(response)
        }
        Err(error) => Err(error.through_proxy(proxy.host_port())),
    }
}

/// How a proxy's answer to `CONNECT` went, in the words both transports use.
#[cfg(any(feature = "ureq", feature = "hyper"))]
pub(crate) mod wording {
    use http::StatusCode;

    use super::ProxyUrl;
    use crate::{TransportError, TransportErrorKind};

    /// The proxy answered `CONNECT` with `status` (not 2xx): refused, not
    /// retried. Says whether credentials were wanted or rejected.
    pub(crate) fn refused(proxy: &ProxyUrl, status: u16) -> TransportError {
        let reason = StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason());
        let status_words = match reason {
            Some(reason) => format!("{status} {reason}"),
            None => status.to_string(),
        };
        let why = match status {
            401 | 407 if proxy.has_credentials() => ": it rejected the credentials given",
            401 | 407 => {
                ": it wants credentials, and none were given \
                 (put them in the proxy URL: http://user:password@host:port)"
            }
            _ => "",
        };
        TransportError::new(
            TransportErrorKind::Proxy,
            format!(
                "the proxy at {} answered {status_words}{why}",
                proxy.host_port()
            ),
        )
    }

    /// The proxy answered `CONNECT` with something that is not HTTP.
    pub(crate) fn not_http(proxy: &ProxyUrl) -> TransportError {
        TransportError::new(
            TransportErrorKind::Proxy,
            format!(
                "the proxy at {} did not answer CONNECT in HTTP",
                proxy.host_port()
            ),
        )
    }

    /// The proxy closed the connection without answering `CONNECT`.
    pub(crate) fn closed(proxy: &ProxyUrl) -> TransportError {
        TransportError::new(
            TransportErrorKind::Connect,
            format!(
                "the proxy at {} closed the connection without answering CONNECT",
                proxy.host_port()
            ),
        )
    }

    /// `failure` (a connection that could not be made, or not in time) was
    /// met on the way through `proxy`: the words name the proxy, so that a
    /// proxy that is down does not read as the API server refusing.
    pub(crate) fn through(proxy: &ProxyUrl, failure: TransportError) -> TransportError {
        let kind = failure.kind();
        let message = match kind {
            TransportErrorKind::Connect => format!(
                "the proxy at {} is not reachable: {}",
                proxy.host_port(),
                failure.message()
            ),
            TransportErrorKind::ConnectTimeout => format!(
                "{} (through the proxy at {})",
                failure.message(),
                proxy.host_port()
            ),
            _ => return failure,
        };
        TransportError::new(kind, message).with_source(failure)
    }
}

/// Standard base64 with padding (RFC 4648), for `Proxy-Authorization`.
fn base64(text: String) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A proxy setting as read, kept even when it does not parse, so that the
/// error is reported when (and only when) a request would use it.
#[cfg(any(feature = "ureq", feature = "hyper"))]
#[derive(Clone, Debug, PartialEq, Eq)]
enum Setting {
    Proxy(ProxyUrl),
    /// The variable's name and what is wrong (never its value).
    Invalid(&'static str, String),
}

/// The proxy decision for one transport: built once from a
/// [`ProxyConfig`], asked for every request.
#[cfg(any(feature = "ureq", feature = "hyper"))]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ProxyRules {
    http: Option<Setting>,
    https: Option<Setting>,
    no_proxy: NoProxy,
}

#[cfg(any(feature = "ureq", feature = "hyper"))]
impl ProxyRules {
    /// The rules for `config`, reading the process environment for
    /// [`ProxyConfig::FromEnvironment`].
    pub(crate) fn new(config: &ProxyConfig) -> Self {
        match config {
            ProxyConfig::FromEnvironment => ProxyRules::from_vars(|name| std::env::var(name).ok()),
            ProxyConfig::None => ProxyRules::default(),
            ProxyConfig::Url(proxy) => ProxyRules {
                http: Some(Setting::Proxy(proxy.clone())),
                https: Some(Setting::Proxy(proxy.clone())),
                no_proxy: NoProxy::default(),
            },
        }
    }

    /// The rules the variables give, `var` answering for each name: the
    /// whole environment rule set as a pure function.
    pub(crate) fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let first = |names: &[&'static str]| {
            names.iter().find_map(|&name| {
                let value = var(name)?;
                let value = value.trim();
                (!value.is_empty()).then(|| match value.parse::<ProxyUrl>() {
                    Ok(proxy) => Setting::Proxy(proxy),
                    Err(e) => Setting::Invalid(name, e.to_string()),
                })
            })
        };
        let cgi = var("REQUEST_METHOD").is_some();
        let http_names: &[&'static str] = if cgi {
            &["http_proxy", "all_proxy", "ALL_PROXY"]
        } else {
            &["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]
        };
        let no_proxy = ["no_proxy", "NO_PROXY"]
            .iter()
            .find_map(|&name| var(name))
            .map(|list| NoProxy::parse(&list))
            .unwrap_or_default();
        ProxyRules {
            http: first(http_names),
            https: first(&["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]),
            no_proxy,
        }
    }

    /// The proxy for `uri`, `None` for a direct connection, or an error when
    /// the proxy named for it is not usable.
    pub(crate) fn select(&self, uri: &Uri) -> Result<Option<&ProxyUrl>, TransportError> {
        let setting = match uri.scheme_str() {
            Some("https") => self.https.as_ref(),
            Some("http") => self.http.as_ref(),
            _ => None,
        };
        let Some(setting) = setting else {
            return Ok(None);
        };
        if uri.host().is_some_and(|host| self.no_proxy.matches(host)) {
            return Ok(None);
        }
        match setting {
            Setting::Proxy(proxy) => Ok(Some(proxy)),
            Setting::Invalid(name, problem) => Err(TransportError::new(
                TransportErrorKind::Refused,
                format!("the proxy in {name} is not usable: {problem}"),
            )),
        }
    }

    /// [`select`](Self::select), refusing a plain-http request that would
    /// cross a proxy off this machine in clear (see [`ProxyConfig`]) unless
    /// insecure http is allowed.
    pub(crate) fn route(
        &self,
        uri: &Uri,
        allow_insecure_http: bool,
    ) -> Result<Option<&ProxyUrl>, TransportError> {
        let proxy = self.select(uri)?;
        if let Some(proxy) = proxy {
            if uri.scheme_str() == Some("http") && !allow_insecure_http && !proxy.is_loopback() {
                return Err(TransportError::new(
                    TransportErrorKind::Refused,
                    format!(
                        "plain http to {} would pass through the proxy {proxy} unencrypted, \
                         API key included (add the host to NO_PROXY, use https, or allow \
                         insecure http)",
                        uri.host().unwrap_or("?")
                    ),
                ));
            }
        }
        Ok(proxy)
    }
}

/// A `NO_PROXY` list.
#[cfg(any(feature = "ureq", feature = "hyper"))]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct NoProxy {
    all: bool,
    /// Lowercase names without leading or trailing dots.
    names: Vec<String>,
    /// Networks: an address and how many leading bits must match.
    networks: Vec<(IpAddr, u8)>,
}

#[cfg(any(feature = "ureq", feature = "hyper"))]
impl NoProxy {
    fn parse(list: &str) -> Self {
        let mut no_proxy = NoProxy::default();
        for entry in list.split([',', ' ', '\t']).filter(|e| !e.is_empty()) {
            if entry == "*" {
                no_proxy.all = true;
                continue;
            }
            let bare = entry.trim_start_matches('[').trim_end_matches(']');
            let (address, bits) = match bare.split_once('/') {
                Some((address, bits)) => (address, Some(bits)),
                None => (bare, None),
            };
            if let Ok(ip) = address.parse::<IpAddr>() {
                let max = if ip.is_ipv4() { 32 } else { 128 };
                match bits.map(str::parse::<u8>) {
                    None => no_proxy.networks.push((ip, max)),
                    Some(Ok(bits)) if bits <= max => no_proxy.networks.push((ip, bits)),
                    // A malformed network matches nothing.
                    Some(_) => {}
                }
                continue;
            }
            let name = entry.strip_prefix("*.").unwrap_or(entry);
            let name = name.trim_matches('.').to_ascii_lowercase();
            if !name.is_empty() {
                no_proxy.names.push(name);
            }
        }
        no_proxy
    }

    /// Whether `host` (as in a URI: IPv6 in brackets) bypasses the proxy.
    fn matches(&self, host: &str) -> bool {
        if self.all {
            return true;
        }
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return self
                .networks
                .iter()
                .any(|&(network, bits)| in_network(ip, network, bits));
        }
        let host = bare.trim_end_matches('.').to_ascii_lowercase();
        self.names.iter().any(|name| {
            host == *name
                || host
                    .strip_suffix(name.as_str())
                    .is_some_and(|prefix| prefix.ends_with('.'))
        })
    }
}

/// Whether the first `bits` bits of `ip` and `network` agree (and they are
/// of the same family).
#[cfg(any(feature = "ureq", feature = "hyper"))]
fn in_network(ip: IpAddr, network: IpAddr, bits: u8) -> bool {
    let (ip, network, width) = match (ip, network) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(u32::from(a)), u128::from(u32::from(b)), 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        _ => return false,
    };
    let bits = u32::from(bits).min(width);
    if bits == 0 {
        return true;
    }
    let shift = width - bits;
    (ip >> shift) == (network >> shift)
}

#[cfg(all(test, any(feature = "ureq", feature = "hyper")))]
mod tests {
    use super::*;

    fn uri(text: &str) -> Uri {
        text.parse().unwrap()
    }

    fn rules(vars: &[(&str, &str)]) -> ProxyRules {
        ProxyRules::from_vars(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    /// The proxy (as `host:port`) `vars` choose for `target`, or "direct".
    fn chosen(vars: &[(&str, &str)], target: &str) -> String {
        match rules(vars).select(&uri(target)) {
            Ok(Some(proxy)) => format!("{}:{}", proxy.host(), proxy.port()),
            Ok(None) => "direct".to_owned(),
            Err(e) => format!("error: {}", e.message()),
        }
    }

    #[test]
    fn variables_are_chosen_as_curl_chooses_them() {
        let s = "https://api.example.com/x";
        let h = "http://127.0.0.1:9/x";
        // (variables, target, expected)
        type Vars<'a> = &'a [(&'a str, &'a str)];
        let table: &[(Vars, &str, &str)] = &[
            (&[], s, "direct"),
            (&[], h, "direct"),
            (&[("HTTPS_PROXY", "p:1")], s, "p:1"),
            (&[("https_proxy", "p:1")], s, "p:1"),
            // The https proxy is not used for http targets, and back.
            (&[("HTTPS_PROXY", "p:1")], h, "direct"),
            (&[("HTTP_PROXY", "p:2")], s, "direct"),
            (&[("HTTP_PROXY", "p:2")], h, "p:2"),
            (&[("http_proxy", "p:2")], h, "p:2"),
            // ALL_PROXY covers both, and the specific one wins over it.
            (&[("ALL_PROXY", "a:3")], s, "a:3"),
            (&[("all_proxy", "a:3")], h, "a:3"),
            (&[("ALL_PROXY", "a:3"), ("HTTPS_PROXY", "p:1")], s, "p:1"),
            (&[("ALL_PROXY", "a:3"), ("HTTP_PROXY", "p:2")], h, "p:2"),
            // The lowercase name wins.
            (
                &[("HTTPS_PROXY", "up:1"), ("https_proxy", "low:1")],
                s,
                "low:1",
            ),
            (
                &[("NO_PROXY", "*"), ("no_proxy", ""), ("HTTPS_PROXY", "p:1")],
                s,
                "p:1",
            ),
            // Empty counts as unset.
            (&[("https_proxy", ""), ("HTTPS_PROXY", "p:1")], s, "p:1"),
            (&[("HTTPS_PROXY", " ")], s, "direct"),
            // Defaults: http:// scheme, port 1080.
            (&[("HTTPS_PROXY", "proxy.corp")], s, "proxy.corp:1080"),
            (
                &[("HTTPS_PROXY", "http://proxy.corp/")],
                s,
                "proxy.corp:1080",
            ),
            (
                &[("HTTPS_PROXY", "HTTP://u:p@proxy.corp:3128")],
                s,
                "proxy.corp:3128",
            ),
            (&[("HTTPS_PROXY", "[::1]:3128")], s, "[::1]:3128"),
            // A CGI script ignores HTTP_PROXY (a request header sets it).
            (
                &[("HTTP_PROXY", "p:2"), ("REQUEST_METHOD", "GET")],
                h,
                "direct",
            ),
            (
                &[("http_proxy", "p:2"), ("REQUEST_METHOD", "GET")],
                h,
                "p:2",
            ),
            // Loopback is not bypassed by itself.
            (&[("HTTPS_PROXY", "p:1")], "https://localhost/x", "p:1"),
            (&[("HTTPS_PROXY", "p:1")], "https://127.0.0.1/x", "p:1"),
        ];
        for (vars, target, expected) in table {
            assert_eq!(&chosen(vars, target), expected, "{vars:?} {target}");
        }
    }

    #[test]
    fn no_proxy_follows_curl() {
        // (NO_PROXY, host, bypassed)
        let table: &[(&str, &str, bool)] = &[
            ("*", "anything.example", true),
            ("*", "127.0.0.1", true),
            ("*", "[::1]", true),
            ("example.com", "example.com", true),
            ("example.com", "api.example.com", true),
            ("example.com", "API.Example.COM", true),
            ("example.com", "example.com.", true),
            ("example.com", "notexample.com", false),
            ("example.com", "example.com.evil", false),
            ("ample.com", "www.example.com", false),
            (".example.com", "example.com", true),
            (".example.com", "a.b.example.com", true),
            ("*.example.com", "a.example.com", true),
            ("EXAMPLE.com.", "api.example.com", true),
            ("localhost", "localhost", true),
            ("localhost", "127.0.0.1", false),
            ("127.0.0.1", "127.0.0.1", true),
            ("127.0.0.1", "127.0.0.2", false),
            ("127.0.0.0/8", "127.9.9.9", true),
            ("10.0.0.0/8", "11.0.0.1", false),
            ("192.168.1.0/24", "192.168.1.77", true),
            ("192.168.1.0/24", "192.168.2.1", false),
            ("0.0.0.0/0", "8.8.8.8", true),
            ("::1", "[::1]", true),
            ("[::1]", "[::1]", true),
            ("fd00::/8", "[fd12::1]", true),
            ("fd00::/8", "[fe80::1]", false),
            ("::1", "127.0.0.1", false),
            ("10.0.0.0/99", "10.0.0.1", false),
            ("a.example, b.example", "b.example", true),
            ("a.example b.example", "b.example", true),
            (" , ,a.example,,", "a.example", true),
            ("", "a.example", false),
            ("*x", "a.example", false),
        ];
        for &(list, host, bypassed) in table {
            let target = format!("https://{host}/x");
            let vars = [("NO_PROXY", list), ("HTTPS_PROXY", "p:1")];
            let expected = if bypassed { "direct" } else { "p:1" };
            assert_eq!(chosen(&vars, &target), expected, "NO_PROXY={list:?} {host}");
        }
    }

    #[test]
    fn an_explicit_proxy_ignores_no_proxy_and_none_is_none() {
        let proxy: ProxyUrl = "http://127.0.0.1:3128".parse().unwrap();
        let rules = ProxyRules::new(&ProxyConfig::Url(proxy.clone()));
        assert_eq!(
            rules.select(&uri("https://a.example/")).unwrap(),
            Some(&proxy)
        );
        assert_eq!(
            rules.select(&uri("http://127.0.0.1/")).unwrap(),
            Some(&proxy)
        );
        let none = ProxyRules::new(&ProxyConfig::None);
        assert_eq!(none, ProxyRules::default());
        assert_eq!(none.select(&uri("https://a.example/")).unwrap(), None);
    }

    #[test]
    fn plain_http_through_a_remote_proxy_is_refused_unless_allowed() {
        let remote = rules(&[("HTTP_PROXY", "http://u:hunter2@proxy.example:3128")]);
        let target = uri("http://127.0.0.1:9/x");
        let error = remote.route(&target, false).unwrap_err();
        assert_eq!(error.kind(), TransportErrorKind::Refused);
        assert!(error.message().contains("proxy.example:3128"), "{error}");
        assert!(!format!("{error} {error:?}").contains("hunter2"));
        assert!(remote.route(&target, true).unwrap().is_some());

        let local = rules(&[("HTTP_PROXY", "localhost:3128")]);
        assert!(local.route(&target, false).unwrap().is_some());
        // https is tunnelled end to end: any proxy will do.
        let remote_https = rules(&[("HTTPS_PROXY", "proxy.example:3128")]);
        assert!(
            remote_https
                .route(&uri("https://a.example/"), false)
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn unusable_proxies_fail_when_used_without_showing_the_value() {
        let vars = [
            ("HTTPS_PROXY", "socks5://u:hunter2@proxy:1080"),
            ("HTTP_PROXY", "http://u:hunter2@proxy:99999"),
        ];
        let r = rules(&vars);
        for target in ["https://a.example/", "http://127.0.0.1/"] {
            let error = r.select(&uri(target)).unwrap_err();
            assert_eq!(error.kind(), TransportErrorKind::Refused);
            let text = format!("{error} {error:?}");
            assert!(text.contains("_PROXY"), "{text}");
            assert!(!text.contains("hunter2"), "{text}");
        }
        assert!(
            chosen(&vars, "https://a.example/").contains("only http:// proxies"),
            "{}",
            chosen(&vars, "https://a.example/")
        );
        // Bypassed hosts never see the error.
        let bypassed = [("HTTPS_PROXY", "socks5://proxy"), ("NO_PROXY", "a.example")];
        assert_eq!(chosen(&bypassed, "https://a.example/"), "direct");
    }

    #[test]
    fn proxy_urls_parse_with_credentials_hidden() {
        let p: ProxyUrl = "http://Aladdin:open%20sesame@proxy.corp:8080/"
            .parse()
            .unwrap();
        assert_eq!((p.host(), p.port()), ("proxy.corp", 8080));
        assert_eq!(p.credentials(), Some(("Aladdin", "open sesame")));
        assert_eq!(
            p.basic_authorization().unwrap(),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert!(p.basic_authorization().unwrap().is_sensitive());
        assert_eq!(p.to_string(), "http://proxy.corp:8080");
        #[cfg(feature = "hyper")]
        assert_eq!(p.uri(), "http://proxy.corp:8080/");
        let debug = format!("{p:?}");
        assert!(
            !debug.contains("sesame") && !debug.contains("Aladdin"),
            "{debug}"
        );

        let user_only: ProxyUrl = "u@h:1".parse().unwrap();
        assert_eq!(user_only.credentials(), Some(("u", "")));
        assert_eq!(user_only.basic_authorization().unwrap(), "Basic dTo=");
        // A password may hold '@' and ':'.
        let at: ProxyUrl = "http://u:p@ss:w@h:2".parse().unwrap();
        assert_eq!(at.credentials(), Some(("u", "p@ss:w")));
        assert!(!"h".parse::<ProxyUrl>().unwrap().has_credentials());
        assert!("[::1]:3128".parse::<ProxyUrl>().unwrap().is_loopback());
        assert!("localhost".parse::<ProxyUrl>().unwrap().is_loopback());
        assert!(!"proxy.corp".parse::<ProxyUrl>().unwrap().is_loopback());

        for bad in [
            "",
            "http://",
            "http://u:secret@",
            "https://u:secret@h:1",
            "socks5://u:secret@h",
            "http://u:secret@h:1/path",
            "http://u:secret@h:x",
            "http://u:secret@h:",
            "http://u:secret@h:0",
            "http://u:secret@h:+80",
            "http://u:secret@[::1:80",
            "http://u:secret@h:70000",
            "http://u:%ff@h",
            "http://u:secret@h h",
        ] {
            let error = bad.parse::<ProxyUrl>().unwrap_err();
            assert_eq!(error.setting(), "proxy URL", "{bad}");
            assert!(!error.to_string().contains("secret"), "{bad}: {error}");
        }
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.to_owned()), encoded);
        }
    }
}
