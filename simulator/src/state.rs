//! What a running simulator holds: its settings, images, tasks, faults and
//! the requests it has received.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use http::{HeaderMap, Method};
use time::macros::datetime;

use super::faults::{self, Fault, FaultAction};
use super::tasks::{Task, TaskKind, TaskOutcome, TaskShape};
use coxedge_images::{Image, ImageId, ImageStatus, SYSTEM_SLUG};

/// The stack id of the seeded (specification) images.
pub(crate) const SEED_STACK_ID: &str = "a8050b2b-39eb-4929-bce5-1af42055903e";

/// The stack id of the custom images the simulator creates.
pub(crate) const CUSTOM_STACK_ID: &str = "c0570000-5157-4e00-8000-00000000c0de";

/// The slug of the custom images the simulator creates.
pub(crate) const CUSTOM_SLUG: &str = "custom";

/// How many requests are kept; the oldest are dropped beyond this.
const MAX_RECORDED: usize = 100_000;

/// One request as the simulator received it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The method.
    pub method: Method,
    /// The path as sent (percent-encoded), without the query.
    pub path: String,
    /// The raw query string, without `?`, when there was one.
    pub query: Option<String>,
    /// The query, decoded into pairs in order.
    pub query_pairs: Vec<(String, String)>,
    /// The headers. `MC-Api-Key` is marked sensitive, so printing the
    /// request with `{:?}` does not show the key.
    pub headers: HeaderMap,
    /// The body (empty when none, and when larger than the simulator's
    /// 1 MiB limit, which is answered with 413).
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The first value of a query parameter.
    pub fn query_value(&self, key: &str) -> Option<&str> {
        self.query_pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A header's value, when present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Settings fixed when the simulator starts.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) api_key: String,
    pub(crate) task_polls: u32,
    pub(crate) task_outcome: TaskOutcome,
    pub(crate) task_shape: TaskShape,
}

/// What changes while the simulator runs.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) images: Vec<Image>,
    pub(crate) tasks: HashMap<String, Task>,
    pub(crate) requests: VecDeque<RecordedRequest>,
    pub(crate) faults: Vec<Fault>,
    /// The state of the random sequence that decides [`Scope::Chance`](super::Scope::Chance) faults.
    pub(crate) random: u64,
}

impl State {
    /// Adds an image, replacing one with the same id (keeping its place).
    pub(crate) fn put_image(&mut self, image: Image) {
        match self.images.iter_mut().find(|i| i.id == image.id) {
            Some(slot) => *slot = image,
            None => self.images.push(image),
        }
    }

    /// The image with these (decoded) path parts.
    pub(crate) fn find_image(&self, stack_id: &str, family: &str, tag: &str) -> Option<&Image> {
        self.images
            .iter()
            .find(|i| i.stack_id() == stack_id && i.family() == family && i.tag() == tag)
    }

    /// Starts a task and returns its id.
    pub(crate) fn start_task(&mut self, kind: TaskKind) -> String {
        let id = super::tasks::next_task_id();
        let task = Task::new(id.clone(), kind, time::OffsetDateTime::now_utc());
        self.tasks.insert(id.clone(), task);
        id
    }

    /// Makes a finished task's change to the images.
    pub(crate) fn apply(&mut self, change: TaskKind) {
        match change {
            TaskKind::Create(image) => self.put_image(image),
            TaskKind::Delete(image) => self.images.retain(|i| i.id != image.id),
        }
    }
}

/// Shared between the [`Simulator`](super::Simulator) handle and the server.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: Config,
    state: Mutex<State>,
    connections: AtomicUsize,
}

impl Shared {
    pub(crate) fn new(config: Config, images: Vec<Image>, random_seed: u64) -> Self {
        Shared {
            config,
            state: Mutex::new(State {
                images,
                random: random_seed,
                ..State::default()
            }),
            connections: AtomicUsize::new(0),
        }
    }

    /// The state. A panic while it was held cannot leave it half-changed in
    /// a way that matters to a test double, so poisoning is ignored.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn connection_opened(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// Records a request and picks the fault (if any) that applies to it,
    /// in one step so that concurrent requests consume faults in order.
    pub(crate) fn record(&self, request: RecordedRequest) -> Option<FaultAction> {
        let mut state = self.lock();
        let state = &mut *state;
        let action = faults::take_action(
            &mut state.faults,
            &mut state.random,
            &request.method,
            &request.path,
        );
        if state.requests.len() >= MAX_RECORDED {
            state.requests.pop_front();
        }
        state.requests.push_back(request);
        action
    }
}

/// The two images of the specification.
pub(crate) fn seed_images() -> Vec<Image> {
    let seeds = [
        ("centos7", datetime!(2020-11-10 20:33:32.609434 UTC)),
        ("ubuntu", datetime!(2020-11-10 20:34:11.328575 UTC)),
    ];
    seeds
        .into_iter()
        .filter_map(|(family, created_at)| {
            let id = ImageId::new(SEED_STACK_ID, family, "v20201110").ok()?;
            Some(
                Image::new(id, SYSTEM_SLUG, created_at, ImageStatus::Ready)
                    .with_description(format!("Image using {family}")),
            )
        })
        .collect()
}
