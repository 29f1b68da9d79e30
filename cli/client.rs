//! The one client type every command drives, whatever the transport:
//! a blocking [`Client`] over a boxed send function, which is ureq's
//! `send` directly, or hyper's driven on a current-thread tokio runtime.
//! Retries and task polls reach the user through [`Reporter`].

use std::sync::{Arc, Mutex, PoisonError};

use coxedge_images::transports::hyper::HyperTransport;
use coxedge_images::transports::ureq::UreqTransport;
use coxedge_images::transports::{AsyncTransport, Client, Transport, TransportConfig};
use coxedge_images::{Endpoint, Event, Task, TaskStatus, TransportError};
use http::{Request, Response};

use crate::args::TransportKind;
use crate::error::CliError;
use crate::output;

/// Sends one request, blocking, over the transport the user chose.
pub type Send = Box<
    dyn Fn(Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError>
        + core::marker::Send
        + Sync,
>;

/// The client of every command.
pub type CliClient = Client<Send>;

/// Makes the client for `kind`, reporting its events to `reporter`.
pub fn connect(
    kind: TransportKind,
    endpoint: Endpoint,
    config: TransportConfig,
    reporter: Reporter,
) -> Result<CliClient, CliError> {
    let config_error = |e| CliError::usage(format!("invalid transport configuration: {e}"));
    let send: Send = match kind {
        TransportKind::Ureq => {
            let transport = UreqTransport::new(config).map_err(config_error)?;
            Box::new(move |request| transport.send(request))
        }
        TransportKind::Hyper => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| CliError::failed(format!("cannot start the tokio runtime: {e}")))?;
            let transport = {
                let _entered = runtime.enter();
                HyperTransport::new(config).map_err(config_error)?
            };
            Box::new(move |request| runtime.block_on(transport.send(request)))
        }
    };
    Ok(Client::new(endpoint, send).on_event(move |event| reporter.event(event)))
}

/// Reports retries and task progress on stderr, one line each: a retry
/// always, a task poll when the status changed. Shared between the
/// client's observer and the command that waits.
#[derive(Clone, Default)]
pub struct Reporter(Arc<Mutex<Shown>>);

#[derive(Default)]
struct Shown {
    /// The status last shown for the task being waited for.
    status: Option<TaskStatus>,
    /// The task as last polled.
    last: Option<Task>,
}

impl Reporter {
    /// Starts following `task`: its line is shown now.
    pub fn follow(&self, task: &Task) {
        output::eprint_line(&output::progress_line(task, std::time::Duration::ZERO));
        let mut shown = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        shown.status = Some(task.status.clone());
        shown.last = Some(task.clone());
    }

    /// The task as last polled, if any poll was answered.
    pub fn last(&self) -> Option<Task> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .last
            .clone()
    }

    fn event(&self, event: &Event) {
        match event {
            // The reason may carry server text, so the line is cleaned.
            Event::Retrying {
                reason,
                attempt,
                wait,
                ..
            } => output::eprint_line(&format!(
                "coxedge-images: attempt {attempt} failed ({reason}); retrying in {:.1} s",
                wait.as_secs_f64()
            )),
            Event::TaskPolled { task, elapsed, .. } => {
                let mut shown = self.0.lock().unwrap_or_else(PoisonError::into_inner);
                if shown.status.as_ref() != Some(&task.status) {
                    output::eprint_line(&output::progress_line(task, *elapsed));
                    shown.status = Some(task.status.clone());
                }
                shown.last = Some(task.clone());
            }
            _ => {}
        }
    }
}
