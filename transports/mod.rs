//! Sending requests: the transport traits, the client facades that drive the
//! core, and the adapters for ureq (blocking) and hyper (async).
//!
//! A transport only sends a request and returns the response (or a
//! [`TransportError`](crate::TransportError)); a facade only supplies the
//! clock, randomness and sleeping. Every decision (retry, redirect, decode)
//! is the core's.
//!
//! Plug any HTTP client by implementing [`Transport`] or [`AsyncTransport`],
//! or pass a closure:
//!
//! ```
//! use coxedge_images::Client;
//! use coxedge_images::{ApiKey, Endpoint, ListOptions, TransportError};
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
//! assert!(client.list_page(&ListOptions::new())?.images.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

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

use drive::{Clock, Random};
use facade::TaskHandle;
pub use proxy::ThroughProxy;

#[cfg(feature = "hyper")]
pub mod hyper;
#[cfg(feature = "ureq")]
pub mod ureq;
