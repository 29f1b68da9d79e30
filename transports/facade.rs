//! What the two clients share, written once: their settings and
//! per-operation methods ([`facade_methods!`]), the handle to a task they
//! started ([`TaskHandle`]), and the observer they pass every [`Event`] to.

use std::fmt;
use std::sync::Arc;

use crate::{Event, PollPolicy, Task};

/// The observer a facade calls with every event of every operation it runs.
pub(crate) type Observer = Arc<dyn Fn(&Event) + Send + Sync>;

/// A server-side task started by a client (a create or a delete), or one
/// known from earlier, to wait for. `C` is the client: its `wait` blocks
/// on a [`Client`](crate::Client) and is `async` on the [`AsyncClient`](crate::AsyncClient).
pub struct TaskHandle<'c, C> {
    pub(crate) client: &'c C,
    pub(crate) task: Task,
    pub(crate) policy: PollPolicy,
}

impl<'c, C> TaskHandle<'c, C> {
    pub(crate) fn new(client: &'c C, task: Task) -> Self {
        TaskHandle {
            client,
            task,
            policy: PollPolicy::default(),
        }
    }

    /// The task as the server last described it.
    pub fn task(&self) -> &Task {
        &self.task
    }

    /// Replaces the polling policy (interval, timeout, request limit).
    pub fn with_poll_policy(mut self, policy: PollPolicy) -> Self {
        self.policy = policy;
        self
    }
}

impl<C> fmt::Debug for TaskHandle<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskHandle")
            .field("task", &self.task)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// The settings and per-operation methods of a facade, from one
/// description for all three. `$Out` names a macro giving a method's
/// return type from its output type: the value itself for the blocking
/// facade, a future of it for the async ones (which hold no borrow of the
/// arguments). `[$($lt)?]` is the lifetime that future borrows the client
/// for, `$handle` the one a task handle borrows it for (`'_` or the same),
/// and `[$($wrap)*]` / `[$($await)*]` turn a block into one (`async
/// move`, `.await`). The facade provides `endpoint`, `transport`, `policy`,
/// `observer`, `clock` and `random` fields and a `drive` method that runs
/// an operation already built or the error building it gave.
macro_rules! facade_methods {
    ($Out:ident [$($lt:lifetime)?] $handle:lifetime [$($wrap:tt)*] [$($await:tt)*]) => {
        /// Lists the environment's images, following the server's pages
        /// (see [`ListAll`](crate::ListAll)); the metadata is the first
        /// page's. Filter with `options` (system images only, an image
        /// type).
        pub fn list_images$(<$lt>)?(
            &$($lt)? self,
            options: &crate::ListOptions,
        ) -> $Out!(crate::ImageList) {
            let op = self.endpoint.list_images(options);
            self.drive(op.map(|op| op.with_retry_policy(self.policy.clone())), Quiet::stop_events)
        }

        /// Reads one page of images: the page `options` asks for
        /// ([`ListOptions::page`](crate::ListOptions::page)), or every
        /// image when the server does not page.
        /// [`list_images`](Self::list_images) follows every page.
        pub fn list_page$(<$lt>)?(
            &$($lt)? self,
            options: &crate::ListOptions,
        ) -> $Out!(crate::ImageList) {
            let op = self.endpoint.list_page(options);
            self.drive(op.map(|op| op.with_retry_policy(self.policy.clone())), Quiet::stop_events)
        }

        /// Fetches one image.
        pub fn get_image$(<$lt>)?(
            &$($lt)? self,
            id: &crate::ImageId,
        ) -> $Out!(crate::Image) {
            let op = self.endpoint.get_image(id);
            self.drive(op.map(|op| op.with_retry_policy(self.policy.clone())), Quiet::stop_events)
        }

        /// Lists every image and picks the one `reference` names (see
        /// [`resolve`](crate::resolve)); `None` when none matches.
        pub fn resolve$(<$lt>)?(
            &$($lt)? self,
            reference: &crate::ImageReference,
        ) -> $Out!(Option<crate::Image>) {
            let op = self.endpoint.resolve(reference);
            self.drive(op.map(|op| op.with_retry_policy(self.policy.clone())), Quiet::stop_events)
        }

        /// Starts creating a custom image; the handle's `wait` waits for
        /// its task. Never retried (not idempotent): on failure, check
        /// [`Error::may_have_reached_server`](crate::Error::may_have_reached_server).
        pub fn create_image$(<$lt>)?(
            &$($lt)? self,
            create: &crate::CreateImage,
        ) -> $Out!(crate::TaskHandle<$handle, Self>) {
            self.start_task(self.endpoint.create_image(create))
        }

        /// Starts deleting an image; never retried. A delete the server
        /// finished at once gives a handle whose `wait` sends nothing.
        pub fn delete_image$(<$lt>)?(
            &$($lt)? self,
            id: &crate::ImageId,
        ) -> $Out!(crate::TaskHandle<$handle, Self>) {
            self.start_task(self.endpoint.delete_image(id))
        }

        /// Runs the call that starts a task (a create or a delete) under
        /// the client's policy, and hands back the task to wait for.
        fn start_task$(<$lt>)?(
            &$($lt)? self,
            op: Result<crate::Call<crate::Task>, crate::Error>,
        ) -> $Out!(crate::TaskHandle<$handle, Self>) {
            let task = self.drive(op.map(|op| op.with_retry_policy(self.policy.clone())), Quiet::stop_events);
            $($wrap)* { Ok(crate::TaskHandle::new(self, task$($await)*?)) }
        }

        /// Fetches a task's current state once.
        pub fn get_task$(<$lt>)?(
            &$($lt)? self,
            id: &crate::TaskId,
        ) -> $Out!(crate::Task) {
            let op = self.endpoint.get_task(id);
            self.drive(op.map(|op| op.with_retry_policy(self.policy.clone())), Quiet::stop_events)
        }

        /// A handle to wait for a task already known: one returned by
        /// [`get_task`](Self::get_task), or kept from an earlier create or
        /// delete. A task that has already ended needs no request.
        pub fn task(&self, task: crate::Task) -> crate::TaskHandle<'_, Self> {
            crate::TaskHandle::new(self, task)
        }

        /// Replaces the retry policy of every call (the default is
        /// [`RetryPolicy::default`](crate::RetryPolicy::default)).
        /// Creates and deletes are never retried whatever the policy.
        pub fn with_retry_policy(mut self, policy: crate::RetryPolicy) -> Self {
            self.policy = policy;
            self
        }

        /// Calls `observer` with every [`Event`](crate::Event) of every
        /// operation the client runs: answers, retries, pages and task
        /// polls, in order, as they happen (for progress lines and
        /// metrics). No event holds the API key.
        pub fn on_event(
            mut self,
            observer: impl Fn(&crate::Event) + Send + Sync + 'static,
        ) -> Self {
            self.observer = Some(std::sync::Arc::new(observer));
            self
        }

        /// Reads time from `clock` instead of the system clocks (for tests
        /// on virtual time, with a sleep that advances it).
        pub fn with_clock(mut self, clock: impl crate::Clock + Send + Sync + 'static) -> Self {
            self.clock = std::sync::Arc::new(clock);
            self
        }

        /// Draws the retry jitter (in `[0, 1)`) from `random`.
        pub fn with_random(mut self, random: impl crate::Random + Send + Sync + 'static) -> Self {
            self.random = std::sync::Arc::new(random);
            self
        }

        /// The endpoint this client talks to.
        pub fn endpoint(&self) -> &crate::Endpoint {
            &self.endpoint
        }

        /// The transport.
        pub fn transport(&self) -> &T {
            &self.transport
        }
    };
}

pub(crate) use facade_methods;
