//! A client for the [Cox Edge](https://portal.coxedge.com) images API.
//!
//! # Layout
//!
//! The crate is a **sans-IO core** in layers, with transports beside it:
//!
//! - **Model** (`src/model/`): ids ([`ImageId`], [`ImageReference`],
//!   [`TaskId`]), [`Image`], [`Task`], statuses, [`ListOptions`], the
//!   [`ApiKey`] and the typed [`Error`].
//! - **Wire** (`src/wire/`), for any HTTP client: per API operation, the
//!   request the [`Endpoint`] builds ([`Endpoint::get_image_request`], …)
//!   and the decoder of its answer ([`decode_image`], [`decode_image_list`],
//!   [`decode_task`], [`decode_deletion`]).
//! - **Machines** (`src/machine/`): the operations built on the wire, with
//!   retries ([`RetryPolicy`]), redirects, paging ([`ListAll`], [`Resolve`])
//!   and task waits ([`WaitTask`], [`PollPolicy`]). Every one speaks one
//!   driving protocol, [`Operation`]: [`Operation::poll`] says what to do
//!   next ([`Next`]: send a request, wait until an instant, or done),
//!   [`Operation::handle`] takes the answer, [`Operation::poll_event`]
//!   reports progress ([`Event`]); misuse is answered the same way by all.
//! - **Endpoint** (`src/endpoint.rs`): where and as whom, handing out each
//!   operation typed: [`Endpoint::list_page`], [`Endpoint::get_image`],
//!   [`Endpoint::create_image`], [`Endpoint::delete_image`],
//!   [`Endpoint::get_task`] ([`Call`]), [`Endpoint::list_images`],
//!   [`Endpoint::resolve`] and [`Endpoint::wait_for_task`].
//!
//! Each layer imports only the ones below it. Beside the core:
//!
//! - [`transports`] sends, receives and sleeps: the [`transports::Transport`],
//!   [`transports::AsyncTransport`] and [`transports::LocalAsyncTransport`]
//!   traits (closures implement them), the [`transports::Client`],
//!   [`transports::AsyncClient`] and [`transports::AsyncClient`]
//!   facades (each one driver over [`Operation`], with injectable clock,
//!   randomness and sleep, reporting every [`Event`] to one observer), and
//!   the `ureq` (blocking) and `hyper` (async, tokio) adapters behind
//!   features.
//! - `simulator` (feature `simulator`) is a local stand-in for the API over
//!   real sockets, for tests; the `coxedge-images` command (feature `cli`)
//!   lives in `cli/`. The core imports neither.
//!
//! # Example: the core with any HTTP client
//!
//! ```
//! use coxedge_images::{ApiKey, Endpoint, ListOptions, decode_image_list};
//!
//! let endpoint = Endpoint::builder()
//!     .service("edge-services")
//!     .environment("test-area")
//!     .api_key(ApiKey::new("my-key")?)
//!     .build()?;
//! let request = endpoint.list_page_request(&ListOptions::new().system_only())?;
//! assert_eq!(
//!     request.uri(),
//!     "https://portal.coxedge.com/api/v1/services/edge-services/test-area/images?includeOnlySystemImages=true"
//! );
//!
//! // Send `request` with any HTTP client, then hand the answer back:
//! let response = http::Response::builder()
//!     .status(200)
//!     .body(br#"{"data": [], "metadata": {"recordCount": 0}}"#.to_vec())?;
//! let list = decode_image_list(response)?;
//! assert!(list.images.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Example: driving an operation by hand
//!
//! ```
//! use std::time::{Instant, SystemTime};
//! use coxedge_images::{ApiKey, Endpoint, ListOptions, Next, Operation};
//!
//! let endpoint = Endpoint::builder()
//!     .service("edge-services")
//!     .environment("test-area")
//!     .api_key(ApiKey::new("my-key")?)
//!     .build()?;
//! let mut op = endpoint.list_images(&ListOptions::new())?;
//! let list = loop {
//!     match op.poll(Instant::now()) {
//!         Next::Send(_request) => {
//!             // Send `_request` with any HTTP client; here, a canned answer.
//!             let response = http::Response::new(
//!                 br#"{"data": [], "metadata": {"recordCount": 0}}"#.to_vec(),
//!             );
//!             op.handle(Ok(response), Instant::now(), SystemTime::now(), 0.5);
//!         }
//!         Next::WaitUntil(at) => std::thread::sleep(at.saturating_duration_since(Instant::now())),
//!         Next::Done(result) => break result?,
//!     }
//! };
//! assert!(list.images.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What the core does not do
//!
//! No networking, no TLS, no DNS, no files, no threads, no clock, no
//! randomness, and no logging: it cannot leak the API key anywhere, because
//! it never writes anything.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod endpoint;
mod machine;
mod model;
mod wire;

pub use endpoint::{DEFAULT_BASE_URL, Endpoint, EndpointBuilder, USER_AGENT};
pub use machine::call::Call;
pub use machine::operation::{Event, Next, Operation};
pub use machine::paging::{ListAll, Resolve};
pub use machine::poller::PollPolicy;
pub use machine::retry::RetryPolicy;
pub use machine::wait::WaitTask;
pub use model::config_error::ConfigError;
pub use model::error::{ApiErrorCode, ApiErrorEntry, Error, ErrorKind, RetryAfter};
pub use model::filter::{ImageFilter, resolve};
pub use model::host::is_loopback_host;
pub use model::id::{ImageId, ParseIdError};
pub use model::image::{Image, ImageList, ListMetadata, SYSTEM_SLUG};
pub use model::list_options::{ImageType, ListOptions};
pub use model::reference::ImageReference;
pub use model::secret::ApiKey;
pub use model::status::ImageStatus;
pub use model::task::{CreateImage, Task, TaskId, TaskStatus};
pub use model::transport_error::{TransportError, TransportErrorKind};
pub use wire::delete_image::decode_deletion;
pub use wire::get_image::decode_image;
pub use wire::get_task::decode_task;
pub use wire::list_page::decode_image_list;
pub use wire::request::API_KEY_HEADER;

/// Re-exported so users name the same `time` types the model uses.
pub use time;

/// Re-exported so users name the same `http` types (requests, responses,
/// URIs, headers) the core builds and reads, whatever `http` version their
/// own dependencies use.
pub use http;

#[path = "../transports/mod.rs"]
pub mod transports;

pub use transports::asynchronous::{AsyncClient, AsyncSleep, AsyncTransport};
pub use transports::blocking::{Client, Transport};
pub use transports::config::TransportConfig;
pub use transports::drive::{Clock, Random, Sleep, SystemClock};
pub use transports::facade::TaskHandle;
pub use transports::proxy::{ProxyConfig, ProxyUrl};
