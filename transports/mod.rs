//! The bundled transports, [`ureq`] (blocking, feature `ureq`) and
//! [`hyper`] (async on tokio, feature `hyper`), and how to write another.
//!
//! A transport only sends a request and returns the response, or a
//! [`TransportError`](crate::TransportError) when none arrived; the
//! [`Client`](crate::Client) or [`AsyncClient`](crate::AsyncClient) over it
//! supplies the clock, randomness and sleeping, and every decision (retry,
//! redirect, decode) is the core's.
//!
//! # Writing a transport
//!
//! Implement [`Transport`](crate::Transport) or
//! [`AsyncTransport`](crate::AsyncTransport), or pass a closure:
//!
//! ```
//! use coxedge_images::{ApiKey, Client, Endpoint, ListOptions, TransportError};
//!
//! let endpoint = Endpoint::builder()
//!     .service("edge-services")
//!     .environment("test-area")
//!     .api_key(ApiKey::new("my-key")?)
//!     .build()?;
//! let transport = |request: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, TransportError> {
//!     assert_eq!(request.headers()["mc-api-key"], "my-key");
//!     Ok(http::Response::new(br#"{"data": []}"#.to_vec()))
//! };
//! let client = Client::new(endpoint, transport);
//! assert!(client.list_images(&ListOptions::new())?.images.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The bundled transports are built from the crate's public items alone,
//! and so can yours:
//!
//! - any status is a response, not an error; a failure to get one is a
//!   [`TransportError`](crate::TransportError) of the
//!   [kind](crate::TransportErrorKind) that says whether the request may
//!   have reached the server (the core retries on that);
//! - refuse plain `http://` to anything but
//!   [loopback](crate::is_loopback_host) unless the user allowed it: the
//!   request carries the API key;
//! - requests of your own (a proxy's `CONNECT`) carry
//!   [`USER_AGENT`](crate::USER_AGENT); a response that came through a
//!   proxy carries [`ThroughProxy`] in its extensions, and a failure says
//!   so with [`TransportError::through_proxy`](crate::TransportError::through_proxy);
//! - a setting your constructor refuses is a
//!   [`ConfigError`](crate::ConfigError) naming it.

// The bundled transports come first, so that their constructors
// (`Client::ureq`, `AsyncClient::hyper`) head each client's page.
#[cfg(feature = "hyper")]
pub mod hyper;
#[cfg(feature = "ureq")]
pub mod ureq;

pub(crate) mod asynchronous;
pub(crate) mod blocking;
pub(crate) mod config;
pub(crate) mod drive;
pub(crate) mod facade;
mod jitter;
mod log;
pub(crate) mod proxy;
#[cfg(any(feature = "ureq", feature = "hyper"))]
mod security;

pub use proxy::ThroughProxy;
