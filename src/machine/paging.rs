//! [`ListAll`]: every page of the image list, as one [`Operation`](crate::Operation), and
//! [`Resolve`], which selects from it.
//!
//! The rules, which hold against any server:
//!
//! - The page asked for next comes from the client's own count, never from
//!   the server's `pageCurrent`, so a server that always says "page 1" cannot
//!   hold the client on one page.
//! - An image id is kept once, whatever the pages repeat: the result never
//!   has duplicate ids.
//! - The list is complete when the server sends no `recordCount`, when the
//!   distinct images reach it, or when a page is empty.
//! - A page that brings no image not already seen, or whose `pageCurrent`
//!   does not move past the previous page's, means the server is not paging
//!   as asked: the listing stops at once (one request after the server stops
//!   making progress) with a typed [`ErrorKind::Paging`](crate::ErrorKind::Paging)
//!   error that keeps the count of images gathered
//!   ([`Error::images_gathered`]). An error, not the images so far: a
//!   partial list that looks complete would make `resolve` pick a wrong
//!   image or a caller miss one silently.
//! - At most [`ListAll::MAX_PAGES`] requests of pages and [`ListAll::MAX_IMAGES`] images, so
//!   time and memory stay bounded whatever `recordCount` says; passing either
//!   is the same typed error.
//!
//! These are the only paging rules: the crate has no other way to go from
//! one page to the next.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use http::Response;

use crate::machine::call::CallMachine;
use crate::machine::operation::{Event, Events, Guard, Machine, Next, guarded};
use crate::machine::retry::RetryPolicy;
use crate::model::error::Error;
use crate::model::filter::resolve;
use crate::model::id::ImageId;
use crate::model::image::{Image, ImageList, ListMetadata};
use crate::model::list_options::ListOptions;
use crate::model::reference::ImageReference;
use crate::model::transport_error::TransportError;
use crate::wire::list_page::{self, decode_image_list};
use crate::wire::request::Address;

/// The most pages one listing requests ([`ListAll::MAX_PAGES`]). A real environment holds tens to
/// hundreds of images, a few pages at the API's sizes; 1 000 pages is far
/// above that even at one image a page. Each page is its own call under
/// the retry policy, so the listing's time is bounded by pages × (the
/// policy's 60 s + one request timeout), not by one call's: a server that
/// answers every page, slowly and with new ids, can hold a client that long.
/// A page that brings nothing new stops the listing at once.
const MAX_PAGES: u64 = 1_000;

/// The most distinct images one listing gathers ([`ListAll::MAX_IMAGES`]).
const MAX_IMAGES: usize = 100_000;

/// Lists every image, page after page, driven by the
/// [`Operation`](crate::Operation) protocol. Made by
/// [`Endpoint::list_images`](crate::Endpoint::list_images). The
/// result's metadata is the first page's.
///
/// The rules, which hold against any server:
///
/// - The page asked for next comes from the client's own count, never from
///   the server's `pageCurrent`.
/// - An image id is kept once: the result never has duplicate ids.
/// - The list is complete when the server sends no `recordCount`, when the
///   distinct images reach it, or when a page is empty.
/// - A page that brings no image not already seen, or whose `pageCurrent`
///   does not move, stops the listing at once with an
///   [`ErrorKind::Paging`](crate::ErrorKind::Paging) error that keeps the
///   count of images gathered ([`Error::images_gathered`]): not a partial
///   list that would look complete.
/// - At most [`MAX_PAGES`](Self::MAX_PAGES) pages and
///   [`MAX_IMAGES`](Self::MAX_IMAGES) images; passing either is the same
///   typed error.
#[derive(Debug)]
pub struct ListAll {
    guard: Guard<ListAllMachine>,
}

guarded!(ListAll, ImageList);

impl ListAll {
    /// The most pages one listing requests. A real environment holds tens
    /// to hundreds of images, a few pages; each page is its own call under
    /// the retry policy, so a listing's time is bounded by pages × (the
    /// policy's time limit + one request timeout).
    pub const MAX_PAGES: u64 = MAX_PAGES;

    /// The most distinct images one listing gathers (about 50 MB of decoded
    /// images at the most): a bound on memory whatever the server claims.
    pub const MAX_IMAGES: usize = MAX_IMAGES;

    pub(crate) fn new(address: &Arc<Address>, asked: ListOptions) -> Result<Self, Error> {
        Ok(ListAll {
            guard: Guard::new("list_images", ListAllMachine::new(address, asked)?),
        })
    }

    /// Replaces the retry policy of each page's request.
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.guard.machine_mut().set_policy(policy);
        self
    }
}

/// The machine of a [`ListAll`], also the inside of a [`Resolve`].
#[derive(Debug)]
pub(crate) struct ListAllMachine {
    operation: &'static str,
    address: Arc<Address>,
    policy: RetryPolicy,
    /// The options of the page being read.
    asked: ListOptions,
    /// The page being read.
    current: CallMachine<ImageList>,
    /// The client's count: the page number of `current`.
    page: u32,
    /// Pages read.
    pages: u64,
    seen: HashSet<ImageId>,
    images: Vec<Image>,
    metadata: Option<ListMetadata>,
    last_server_page: Option<u64>,
    result: Option<Result<ImageList, Error>>,
    finished: bool,
    events: Events,
}

/// One page's call.
fn page_call(
    address: &Arc<Address>,
    asked: &ListOptions,
    operation: &'static str,
) -> Result<CallMachine<ImageList>, Error> {
    let request = list_page::request(address, asked)?;
    Ok(CallMachine::new(
        operation,
        address,
        request,
        decode_image_list,
    ))
}

impl ListAllMachine {
    fn new(address: &Arc<Address>, asked: ListOptions) -> Result<Self, Error> {
        let current = page_call(address, &asked, "list_images")?;
        Ok(ListAllMachine {
            operation: "list_images",
            address: Arc::clone(address),
            policy: RetryPolicy::default(),
            page: asked.page_number.unwrap_or(1),
            asked,
            current,
            pages: 0,
            seen: HashSet::new(),
            images: Vec::new(),
            metadata: None,
            last_server_page: None,
            result: None,
            finished: false,
            events: Events::new(),
        })
    }

    fn set_policy(&mut self, policy: RetryPolicy) {
        self.current.set_policy(policy.clone());
        self.policy = policy;
    }

    fn named(mut self, operation: &'static str) -> Self {
        self.operation = operation;
        self.current = self.current.named(operation);
        self
    }

    /// Takes one page; sets `result` when the listing is over, or starts the
    /// next page.
    fn absorb(&mut self, page: ImageList) {
        self.pages += 1;
        let first = self.metadata.is_none();
        let received = page.images.len();
        let record_count = page.metadata.record_count;
        let server_page = page.metadata.page_current;
        let mut new = 0;
        for image in page.images {
            if self.images.len() >= MAX_IMAGES {
                break;
            }
            if self.seen.insert(image.id.clone()) {
                self.images.push(image);
                new += 1;
            }
        }
        if first {
            // The page size stays the one the first page showed.
            self.asked.page_size = page_size(&self.asked, &page.metadata, received);
            self.metadata = Some(page.metadata);
        }
        self.events.report(|| Event::Page {
            operation: self.operation,
            page: self.page,
            received,
            new,
            gathered: self.images.len(),
            record_count,
        });
        let gathered = self.images.len();
        let Some(total) = record_count else {
            return self.complete();
        };
        if received == 0 || gathered as u64 >= total {
            return self.complete();
        }
        let page_number = self.page;
        let stop = |why: String| {
            Error::paging(
                format!(
                    "listing every page stopped at page {page_number}: {why} (the server counts {total} images; {gathered} distinct ones were read)"
                ),
                gathered,
            )
        };
        let stalled = matches!((self.last_server_page, server_page), (Some(before), Some(now)) if now <= before);
        self.last_server_page = server_page;
        let error = if new == 0 {
            Some(stop(
                "the page brought no image not already seen".to_owned(),
            ))
        } else if stalled {
            Some(stop(format!(
                "the server answered with page {} again",
                server_page.unwrap_or_default()
            )))
        } else if gathered >= MAX_IMAGES {
            Some(stop(format!(
                "the client's limit of {MAX_IMAGES} images was reached"
            )))
        } else if self.pages >= MAX_PAGES {
            Some(stop(format!(
                "the client's limit of {MAX_PAGES} pages was reached"
            )))
        } else if self.asked.page_size.is_none() {
            Some(stop("the server's page size is unknown".to_owned()))
        } else {
            None
        };
        if let Some(error) = error {
            self.result = Some(Err(error));
            return;
        }
        let Some(next) = self.page.checked_add(1) else {
            self.result = Some(Err(stop("the page number overflowed".to_owned())));
            return;
        };
        self.page = next;
        self.asked.page_number = Some(next);
        match page_call(&self.address, &self.asked, self.operation) {
            Ok(mut call) => {
                call.set_policy(self.policy.clone());
                if !self.events.building() {
                    call.stop_events();
                }
                self.current = call;
            }
            Err(e) => self.result = Some(Err(e)),
        }
    }

    fn complete(&mut self) {
        let images = std::mem::take(&mut self.images);
        let metadata = self.metadata.take().unwrap_or_default();
        self.result = Some(Ok(ImageList::new(images, metadata)));
    }
}

impl Machine for ListAllMachine {
    type Output = ImageList;

    fn poll(&mut self, now: Instant) -> Next<ImageList> {
        loop {
            if let Some(result) = self.result.take() {
                self.finished = true;
                return Next::Done(result);
            }
            if self.finished {
                return Next::Done(Err(Error::invalid_request(format!(
                    "{} has already finished",
                    self.operation
                ))));
            }
            match self.current.poll(now) {
                Next::Done(Ok(page)) => self.absorb(page),
                Next::Done(Err(e)) if self.pages == 0 => self.result = Some(Err(e)),
                Next::Done(Err(e)) => {
                    let context = format!("page {} of the list", self.page);
                    self.result = Some(Err(e.with_context(&context)));
                }
                Next::Send(request) => return Next::Send(request),
                Next::WaitUntil(at) => return Next::WaitUntil(at),
            }
        }
    }

    fn handle(
        &mut self,
        result: Result<Response<Vec<u8>>, TransportError>,
        now: Instant,
        wall: SystemTime,
        random: f64,
    ) {
        self.current.handle(result, now, wall, random);
    }

    fn poll_event(&mut self) -> Option<Event> {
        if let Some(event) = self.current.poll_event() {
            return Some(event);
        }
        self.events.pop_front()
    }

    fn stop_events(&mut self) {
        self.current.stop_events();
        self.events.stop();
    }
}

/// The page size to keep asking for after a page of `received` images: the
/// one asked for, else the server's `pageSize`, else this page's length
/// (a server that pages without saying its size); never zero.
fn page_size(asked: &ListOptions, metadata: &ListMetadata, received: usize) -> Option<u32> {
    let positive = |n: u64| u32::try_from(n).ok().filter(|n| *n > 0);
    asked
        .page_size
        .and_then(|n| positive(n.into()))
        .or_else(|| metadata.page_size.and_then(positive))
        .or_else(|| positive(received as u64))
}

/// Lists every image ([`ListAll`]), then picks the one a reference names
/// ([`resolve`](crate::resolve)); `None` when none matches. Made by
/// [`Endpoint::resolve`](crate::Endpoint::resolve); driven by the
/// [`Operation`](crate::Operation) protocol.
#[derive(Debug)]
pub struct Resolve {
    guard: Guard<ResolveMachine>,
}

guarded!(Resolve, Option<Image>);

impl Resolve {
    pub(crate) fn new(address: &Arc<Address>, reference: ImageReference) -> Result<Self, Error> {
        let list = ListAllMachine::new(address, ListOptions::new())?.named("resolve");
        Ok(Resolve {
            guard: Guard::new("resolve", ResolveMachine { list, reference }),
        })
    }

    /// Replaces the retry policy of each page's request.
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.guard.machine_mut().list.set_policy(policy);
        self
    }
}

/// The machine of a [`Resolve`]: a listing, then a selection.
#[derive(Debug)]
struct ResolveMachine {
    list: ListAllMachine,
    reference: ImageReference,
}

impl Machine for ResolveMachine {
    type Output = Option<Image>;

    fn poll(&mut self, now: Instant) -> Next<Option<Image>> {
        match self.list.poll(now) {
            Next::Done(result) => {
                Next::Done(result.map(|list| resolve(&list.images, &self.reference).cloned()))
            }
            Next::Send(request) => Next::Send(request),
            Next::WaitUntil(at) => Next::WaitUntil(at),
        }
    }

    fn handle(
        &mut self,
        result: Result<Response<Vec<u8>>, TransportError>,
        now: Instant,
        wall: SystemTime,
        random: f64,
    ) {
        self.list.handle(result, now, wall, random);
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.list.poll_event()
    }

    fn stop_events(&mut self) {
        self.list.stop_events();
    }
}
