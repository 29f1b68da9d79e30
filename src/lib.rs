//! A client for the [Cox Edge](https://portal.coxedge.com) images API: list
//! the images of an environment, fetch one by its id, create and delete
//! custom images and wait for their tasks.
//!
//! # Blocking
//!
//! With the default feature `ureq`:
//!
//! ```no_run
//! use coxedge_images::{ApiKey, Client, Endpoint, ListOptions};
//!
//! let endpoint = Endpoint::builder()
//!     .service("edge-services")
//!     .environment("production")
//!     .api_key(ApiKey::new(std::env::var("COXEDGE_API_KEY")?)?)
//!     .build()?;
//! let client = Client::ureq(endpoint)?;
//! for image in client.list_images(&ListOptions::new())?.images {
//!     println!("{} {}", image.id, image.status);
//! }
//! let image = client.get_image(&"a8050b2b-39eb-4929-bce5-1af42055903e/ubuntu/v20201110".parse()?)?;
//! println!("{}", image.description.unwrap_or_default());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Async
//!
//! With the feature `hyper`, on tokio (the futures are `Send`, so they
//! spawn on a multi-threaded runtime):
//!
//! ```no_run
//! # #[cfg(feature = "hyper")]
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use coxedge_images::{ApiKey, AsyncClient, CreateImage, Endpoint, ListOptions};
//!
//! let endpoint = Endpoint::builder()
//!     .service("edge-services")
//!     .environment("production")
//!     .api_key(ApiKey::new(std::env::var("COXEDGE_API_KEY")?)?)
//!     .build()?;
//! let client = AsyncClient::hyper(endpoint)?;
//! let images = client.list_images(&ListOptions::new().system_only()).await?;
//! println!("{} system images", images.images.len());
//!
//! let create = CreateImage::new("debian", "v1", "my-workload", "my-workload-0");
//! let task = client.create_image(&create).await?.wait().await?;
//! println!("created: {:?}", task.result);
//! # Ok(())
//! # }
//! ```
//!
//! Every call retries what is safe to retry (never a create or a delete),
//! follows the server's pages, and fails with a typed [`Error`] that says
//! what went wrong and where; no error, log line or event holds the API
//! key. In tests, run the clients against `coxedge-images-simulator`, a
//! local stand-in for the API.
//!
//! # Any HTTP client
//!
//! The core builds each request and decodes each answer, and sends
//! nothing itself: use it with the HTTP client you already have.
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
//! To keep the retries, paging and task polls while sending with your own
//! client, write a [`Transport`] or an [`AsyncTransport`] (a closure will
//! do; see [`transports`]) and hand it to [`Client::new`] or
//! [`AsyncClient::new`].
//!
//! # Embedding in another runtime
//!
//! Every operation is a state machine with no I/O, no clock and no
//! randomness of its own ([`Operation`]): ask it what to do next, do it,
//! hand back the answer with the time and a random draw.
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
//! # The layers
//!
//! - **The model**: ids ([`ImageId`], [`ImageReference`], [`TaskId`]),
//!   [`Image`], [`Task`], [`ListOptions`], the [`ApiKey`] and the typed
//!   [`Error`].
//! - **The wire**: each API operation's request, built by the [`Endpoint`]
//!   ([`Endpoint::get_image_request`], …), and the decoder of its answer
//!   ([`decode_image`], [`decode_image_list`], [`decode_task`],
//!   [`decode_deletion`]).
//! - **The operations**: calls with retries ([`Call`], [`RetryPolicy`]),
//!   listings that follow pages ([`ListAll`], [`Resolve`]) and task waits
//!   ([`WaitTask`], [`PollPolicy`]), all driven by one protocol,
//!   [`Operation`].
//! - **The clients** ([`Client`], [`AsyncClient`]) drive operations over a
//!   transport; the bundled transports are in [`transports`].
//!
//! Each layer uses only the ones above it in this list; the core (all but
//! the clients and transports) does no I/O and writes nothing anywhere.
//!
//! # Features
//!
//! - `ureq` (default): [`Client::ureq`], blocking, with rustls.
//! - `hyper`: [`AsyncClient::hyper`], async on tokio, with rustls.
//! - `tracing`: a span and events for every call, the key redacted.
//!
//! Without features the crate is the core alone: no networking crate, no
//! runtime.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
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

/// The README's examples, compiled by `cargo test --doc` so that the first
/// code a user copies builds.
#[cfg(all(doctest, feature = "ureq", feature = "hyper"))]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;

#[path = "../transports/mod.rs"]
pub mod transports;

pub use transports::asynchronous::{AsyncClient, AsyncSleep, AsyncTransport};
pub use transports::blocking::{Client, Transport};
pub use transports::config::TransportConfig;
pub use transports::drive::{Clock, Random, Sleep, SystemClock};
pub use transports::facade::TaskHandle;
pub use transports::proxy::{ProxyConfig, ProxyUrl};
