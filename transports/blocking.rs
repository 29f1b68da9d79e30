//! The blocking side: the [`Transport`] trait and the [`Client`] facade.

use std::fmt;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use http::{Request, Response};

use super::config::{Observer, RetryNotice};
use super::jitter::Jitter;
use crate::{
    Decode, Endpoint, Error, Exchange, Image, ImageId, ImageList, ImageReference, ListOptions,
    RetryPolicy, Step, TransportError, decode_image, decode_image_list,
};

/// Sends one request and returns its response, blocking.
///
/// Any non-2xx status is a response, not an error: the core decodes the API's
/// error body. Implemented for every `Fn(Request<Vec<u8>>) -> Result<…>`.
pub trait Transport {
    /// Sends `request`; returns the whole response or why none arrived.
    fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError>;
}

impl<F> Transport for F
where
    F: Fn(Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError>,
{
    fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        self(request)
    }
}

/// A blocking client: the core's requests, decoders and retry decisions,
/// sent through a [`Transport`], sleeping with `std::thread::sleep`.
pub struct Client<T> {
    pub(crate) endpoint: Endpoint,
    pub(crate) transport: T,
    pub(crate) policy: RetryPolicy,
    observer: Option<Observer>,
    jitter: Jitter,
}

impl<T> fmt::Debug for Client<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.endpoint)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl<T: Transport> Client<T> {
    /// A client for `endpoint` over `transport`, with the default
    /// [`RetryPolicy`].
    pub fn new(endpoint: Endpoint, transport: T) -> Self {
        Client {
            endpoint,
            transport,
            policy: RetryPolicy::default(),
            observer: None,
            jitter: Jitter::new(),
        }
    }

    /// Replaces the retry policy.
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Calls `observer` before each retry wait (for progress lines).
    pub fn on_retry(mut self, observer: impl Fn(&RetryNotice) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// The endpoint this client talks to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// Lists the environment's images.
    pub fn list_images(&self, options: &ListOptions) -> Result<ImageList, Error> {
        self.call(
            self.endpoint.list_images_request(options)?,
            decode_image_list,
        )
    }

    /// Fetches one image.
    pub fn get_image(&self, id: &ImageId) -> Result<Image, Error> {
        self.call(self.endpoint.get_image_request(id)?, decode_image)
    }

    /// Lists the images and picks the one `reference` names (see
    /// [`resolve`](crate::resolve)); `None` when none matches.
    pub fn resolve(&self, reference: &ImageReference) -> Result<Option<Image>, Error> {
        let list = self.list_images(&ListOptions::new())?;
        Ok(crate::resolve(&list.images, reference).cloned())
    }

    /// Runs one call to its end: send, and retry or follow as the core says.
    pub fn call<R>(&self, request: Request<Vec<u8>>, decode: Decode<R>) -> Result<R, Error> {
        let mut exchange = Exchange::new(request, decode, self.policy.clone());
        loop {
            let result = self.transport.send(exchange.next_request(Instant::now()));
            match exchange.handle(
                result,
                Instant::now(),
                SystemTime::now(),
                self.jitter.next(),
            ) {
                Step::Done(result) => return result,
                Step::SendAgain {
                    wait,
                    reason,
                    attempt,
                } => {
                    if let Some(observer) = &self.observer {
                        observer(&RetryNotice {
                            reason,
                            attempt,
                            wait,
                        });
                    }
                    std::thread::sleep(wait);
                }
            }
        }
    }
}
