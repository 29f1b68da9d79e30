//! Which hosts are loopback: where plain http may carry the API key without
//! the user opting in.

use std::net::IpAddr;

use url::{Host, Url};

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

/// Whether `host` (as a URI gives it: `127.0.0.1`, `[::1]`, `localhost`)
/// is this machine: an address in 127.0.0.0/8, `::1`, or `localhost` in any
/// case. This is where plain `http://` may carry the API key without the
/// user opting in; a transport that checks its requests itself applies the
/// same rule.
///
/// ```
/// use coxedge_images::is_loopback_host;
///
/// assert!(is_loopback_host("127.0.0.53"));
/// assert!(is_loopback_host("[::1]"));
/// assert!(is_loopback_host("LocalHost"));
/// assert!(!is_loopback_host("portal.coxedge.com"));
/// assert!(!is_loopback_host("localhost.example.com"));
/// ```
pub fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
}
