//! One blocking interface over both transports, so each command is written
//! once: [`Backend`] is implemented by the ureq client directly and by the
//! hyper client driven on a current-thread tokio runtime.

use std::time::Duration;

use coxedge_images::transports::hyper::HyperClient;
use coxedge_images::transports::ureq::UreqClient;
use coxedge_images::transports::{AsyncClient, Client, RetryNotice, TransportConfig};
use coxedge_images::{
    CreateImage, Endpoint, Error, Image, ImageId, ImageList, ImageReference, ListOptions,
    PollPolicy, Task, TaskId,
};

use crate::args::TransportKind;
use crate::error::CliError;
use crate::output;

/// Called with a task and the time waited after every answered poll.
pub type Progress<'a> = &'a mut (dyn FnMut(&Task, Duration) + Send);

/// The calls the commands make, blocking.
pub trait Backend {
    /// Lists every image (following the server's pages).
    fn list_images(&self, options: &ListOptions) -> Result<ImageList, Error>;
    /// Fetches one image.
    fn get_image(&self, id: &ImageId) -> Result<Image, Error>;
    /// Lists and picks the image `reference` names.
    fn resolve(&self, reference: &ImageReference) -> Result<Option<Image>, Error>;
    /// Starts a create task.
    fn create_image(&self, create: &CreateImage) -> Result<Task, Error>;
    /// Starts a delete task.
    fn delete_image(&self, id: &ImageId) -> Result<Task, Error>;
    /// Fetches a task once.
    fn get_task(&self, id: &TaskId) -> Result<Task, Error>;
    /// Polls a task until it ends, calling `progress` after every answer.
    fn wait_task(
        &self,
        task: Task,
        policy: PollPolicy,
        progress: Progress<'_>,
    ) -> Result<Task, Error>;
}

/// Makes the client for `kind`, reporting each retry on stderr.
pub fn connect(
    kind: TransportKind,
    endpoint: Endpoint,
    config: TransportConfig,
) -> Result<Box<dyn Backend>, CliError> {
    let config_error = |e| CliError::usage(format!("invalid transport configuration: {e}"));
    Ok(match kind {
        TransportKind::Ureq => Box::new(
            Client::ureq_with(endpoint, config)
                .map_err(config_error)?
                .on_retry(report_retry),
        ),
        TransportKind::Hyper => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| CliError::failed(format!("cannot start the tokio runtime: {e}")))?;
            let client = AsyncClient::hyper_with(endpoint, config)
                .map_err(config_error)?
                .on_retry(report_retry);
            Box::new(Hyper { runtime, client })
        }
    })
}

/// One stderr line per retry: what failed and how long the wait is. The
/// reason may carry server text, so the line is cleaned.
fn report_retry(notice: &RetryNotice) {
    output::eprint_line(&format!(
        "coxedge-images: attempt {} failed ({}); retrying in {:.1} s",
        notice.attempt,
        notice.reason,
        notice.wait.as_secs_f64()
    ));
}

impl Backend for UreqClient {
    fn list_images(&self, options: &ListOptions) -> Result<ImageList, Error> {
        Client::list_all_images(self, options)
    }

    fn get_image(&self, id: &ImageId) -> Result<Image, Error> {
        Client::get_image(self, id)
    }

    fn resolve(&self, reference: &ImageReference) -> Result<Option<Image>, Error> {
        Client::resolve(self, reference)
    }

    fn create_image(&self, create: &CreateImage) -> Result<Task, Error> {
        Ok(Client::create_image(self, create)?.task().clone())
    }

    fn delete_image(&self, id: &ImageId) -> Result<Task, Error> {
        Ok(Client::delete_image(self, id)?.task().clone())
    }

    fn get_task(&self, id: &TaskId) -> Result<Task, Error> {
        Client::get_task(self, id)
    }

    fn wait_task(
        &self,
        task: Task,
        policy: PollPolicy,
        progress: Progress<'_>,
    ) -> Result<Task, Error> {
        self.task(task)
            .with_poll_policy(policy)
            .wait_with(|task, elapsed| progress(task, elapsed))
    }
}

/// The hyper client and the runtime that drives it.
struct Hyper {
    runtime: tokio::runtime::Runtime,
    client: HyperClient,
}

impl Backend for Hyper {
    fn list_images(&self, options: &ListOptions) -> Result<ImageList, Error> {
        self.runtime.block_on(self.client.list_all_images(options))
    }

    fn get_image(&self, id: &ImageId) -> Result<Image, Error> {
        self.runtime.block_on(self.client.get_image(id))
    }

    fn resolve(&self, reference: &ImageReference) -> Result<Option<Image>, Error> {
        self.runtime.block_on(self.client.resolve(reference))
    }

    fn create_image(&self, create: &CreateImage) -> Result<Task, Error> {
        self.runtime
            .block_on(async { Ok(self.client.create_image(create).await?.task().clone()) })
    }

    fn delete_image(&self, id: &ImageId) -> Result<Task, Error> {
        self.runtime
            .block_on(async { Ok(self.client.delete_image(id).await?.task().clone()) })
    }

    fn get_task(&self, id: &TaskId) -> Result<Task, Error> {
        self.runtime.block_on(self.client.get_task(id))
    }

    fn wait_task(
        &self,
        task: Task,
        policy: PollPolicy,
        progress: Progress<'_>,
    ) -> Result<Task, Error> {
        let handle = self.client.task(task).with_poll_policy(policy);
        self.runtime
            .block_on(handle.wait_with(|task, elapsed| progress(task, elapsed)))
    }
}
