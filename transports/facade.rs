//! What the three facades share, written once: their settings and
//! per-operation methods ([`facade_methods!`]), the handle to a task they
//! started ([`TaskHandle`]), and the observer they pass every [`Event`] to.

use std::fmt;
use std::sync::Arc;

use crate::{Event, PollPolicy, Task};

/// The observer a facade calls with every event of every operation it runs.
pub(crate) type Observer = Arc<dyn Fn(&Event) + Send + Sync>;

/// A server-side task started by a client (a create or a delete), or one
/// known from earlier, to wait for. `C` is the client: its `wait` blocks
/// on a [`Client`](super::Client) and is `async` on the async clients.
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
/// description for all three: `[async]` and `[.await]` for the async ones,
/// `[]` and `[]` for the blocking one. The facade provides `endpoint`,
/// `transport`, `policy`, `observer`, `clock` and `random` fields and a
/// `run` method.
macro_rules! facade_methods {
    ([$($asyncness:ident)?] [$($await:tt)*]) => {
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
        pub fn with_clock(mut self, clock: impl super::Clock + Send + Sync + 'static) -> Self {
            self.clock = std::sync::Arc::new(clock);
            self
        }

        /// Draws the retry jitter (in `[0, 1)`) from `random`.
        pub fn with_random(mut self, random: impl super::Random + Send + Sync + 'static) -> Self {
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

        /// Lists one page of the environment's images (all of them when the
        /// server does not page); see [`Endpoint::list_images`](crate::Endpoint::list_images).
        pub $($asyncness)? fn list_images(
            &self,
            options: &crate::ListOptions,
        ) -> Result<crate::ImageList, crate::Error> {
            let op = self.endpoint.list_images(options)?;
            self.run(op.with_retry_policy(self.policy.clone()))$($await)*
        }

        /// Lists every image, following the server's pages (see
        /// [`ListAll`](crate::ListAll)); the metadata is the first page's.
        pub $($asyncness)? fn list_all_images(
            &self,
            options: &crate::ListOptions,
        ) -> Result<crate::ImageList, crate::Error> {
            let op = self.endpoint.list_all_images(options)?;
            self.run(op.with_retry_policy(self.policy.clone()))$($await)*
        }

        /// Fetches one image.
        pub $($asyncness)? fn get_image(
            &self,
            id: &crate::ImageId,
        ) -> Result<crate::Image, crate::Error> {
            let op = self.endpoint.get_image(id)?;
            self.run(op.with_retry_policy(self.policy.clone()))$($await)*
        }

        /// Lists every image and picks the one `reference` names (see
        /// [`resolve`](crate::resolve)); `None` when none matches.
        pub $($asyncness)? fn resolve(
            &self,
            reference: &crate::ImageReference,
        ) -> Result<Option<crate::Image>, crate::Error> {
            let op = self.endpoint.resolve(reference)?;
            self.run(op.with_retry_policy(self.policy.clone()))$($await)*
        }

        /// Starts creating a custom image; the handle's `wait` waits for
        /// its task. Never retried (not idempotent): on failure, check
        /// [`Error::may_have_reached_server`](crate::Error::may_have_reached_server).
        pub $($asyncness)? fn create_image(
            &self,
            create: &crate::CreateImage,
        ) -> Result<super::TaskHandle<'_, Self>, crate::Error> {
            let op = self.endpoint.create_image(create)?;
            let task = self.run(op.with_retry_policy(self.policy.clone()))$($await)*?;
            Ok(super::TaskHandle::new(self, task))
        }

        /// Starts deleting an image; never retried. A delete the server
        /// finished at once gives a handle whose `wait` sends nothing.
        pub $($asyncness)? fn delete_image(
            &self,
            id: &crate::ImageId,
        ) -> Result<super::TaskHandle<'_, Self>, crate::Error> {
            let op = self.endpoint.delete_image(id)?;
            let task = self.run(op.with_retry_policy(self.policy.clone()))$($await)*?;
            Ok(super::TaskHandle::new(self, task))
        }

        /// Fetches a task's current state once.
        pub $($asyncness)? fn get_task(
            &self,
            id: &crate::TaskId,
        ) -> Result<crate::Task, crate::Error> {
            let op = self.endpoint.get_task(id)?;
            self.run(op.with_retry_policy(self.policy.clone()))$($await)*
        }

        /// A handle to wait for a task already known: one returned by
        /// [`get_task`](Self::get_task), or kept from an earlier create or
        /// delete. A task that has already ended needs no request.
        pub fn task(&self, task: crate::Task) -> super::TaskHandle<'_, Self> {
            super::TaskHandle::new(self, task)
        }
    };
}

pub(crate) use facade_methods;
