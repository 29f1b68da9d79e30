//! A client for the [Cox Edge](https://portal.coxedge.com) images API.
//!
//! # Layout
//!
//! The crate is a **sans-IO core** with transports beside it:
//!
//! - The core (everything at the top level) builds [`http::Request`] values
//!   and turns a response's status, headers and bytes into typed values or a
//!   typed [`Error`]. It opens no socket, starts no runtime, reads no clock
//!   and draws no random number: time and randomness are arguments. What a
//!   client *decides* lives here: what to send ([`Endpoint`]), how to read the
//!   answer ([`decode_image_list`], [`decode_image`]), whether and when to
//!   retry ([`RetryPolicy`], [`Exchange`]), how to follow pages
//!   ([`ListAll`]), and when to poll a task again ([`TaskPoller`]).
//! - Every API operation is a state machine speaking one driving protocol,
//!   [`Operation`]: [`Operation::poll`] says what to do next ([`Next`]: send
//!   a request, wait until an instant, or done), [`Operation::handle`] takes
//!   the answer, [`Operation::poll_event`] reports progress ([`Event`]). The
//!   [`Endpoint`] hands them out typed, each carrying its request, decoder
//!   and retry policy: [`Endpoint::list_images`], [`Endpoint::get_image`],
//!   [`Endpoint::create_image`], [`Endpoint::delete_image`] and
//!   [`Endpoint::get_task`] ([`Call`]), [`Endpoint::list_all_images`]
//!   ([`ListAll`]), [`Endpoint::resolve`] ([`Resolve`]: every page, then
//!   select) and [`Endpoint::wait_for_task`] ([`WaitTask`]).
//! - [`transports`] sends, receives and sleeps: the [`transports::Transport`],
//!   [`transports::AsyncTransport`] and [`transports::LocalAsyncTransport`]
//!   traits (closures implement them), the [`transports::Client`],
//!   [`transports::AsyncClient`] and [`transports::LocalAsyncClient`]
//!   facades (each one driver over [`Operation`], with injectable clock,
//!   randomness and sleep), and the `ureq` (blocking) and `hyper` (async,
//!   tokio) adapters behind features.
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
//! let request = endpoint.list_images_request(&ListOptions::new().system_only())?;
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
//! let mut op = endpoint.list_all_images(&ListOptions::new())?;
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
mod error;
mod exchange;
mod filter;
mod id;
mod image;
mod list_options;
mod operation;
mod paging;
mod poller;
mod reference;
mod request;
mod response;
mod retry;
mod secret;
mod segment;
mod status;
mod strings;
mod task;
mod transport_error;
mod wait;

pub use endpoint::{ConfigError, DEFAULT_BASE_URL, Endpoint, EndpointBuilder, USER_AGENT};
pub use error::{ApiErrorCode, ApiErrorEntry, Error, ErrorKind, RetryAfter};
pub use exchange::{Decode, Exchange, MAX_REDIRECTS, Step};
pub use filter::{ImageFilter, resolve};
pub use id::{IdKind, ImageId, ParseIdError};
pub use image::{Image, ImageList, ListMetadata, SYSTEM_SLUG};
pub use list_options::{ImageType, ListOptions};
pub use operation::{Call, Event, Next, Operation};
pub use paging::{ListAll, MAX_IMAGES, MAX_PAGES, Resolve};
pub use poller::{PollAction, PollPolicy, TaskPoller};
pub use reference::ImageReference;
pub use request::API_KEY_HEADER;
pub use response::{decode_image, decode_image_list, retry_after};
pub use retry::{Attempt, Outcome, RetryDecision, RetryPolicy};
pub use secret::ApiKey;
pub use status::ImageStatus;
pub use task::{CreateImage, Task, TaskId, TaskStatus, decode_deletion, decode_task};
pub use transport_error::{TransportError, TransportErrorKind};
pub use wait::WaitTask;

/// Re-exported so users name the same `time` types the model uses.
pub use time;

/// Re-exported so users name the same `http` types (requests, responses,
/// URIs, headers) the core builds and reads, whatever `http` version their
/// own dependencies use.
pub use http;

#[path = "../transports/mod.rs"]
pub mod transports;

#[cfg(feature = "simulator")]
#[path = "../simulator/mod.rs"]
pub mod simulator;
