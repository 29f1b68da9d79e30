//! The one client type every command drives, whatever the transport:
//! a blocking [`Client`] over a boxed send function, which is ureq's
//! `send` directly, or hyper's driven on a current-thread tokio runtime.
//! Its events (retries, task polls, pages) reach the user through
//! [`Progress`].

use coxedge_images::transports::hyper::HyperTransport;
use coxedge_images::transports::ureq::UreqTransport;
use coxedge_images::{AsyncTransport, Client, Transport, TransportConfig};
use coxedge_images::{Endpoint, TransportError};
use http::{Request, Response};

use crate::args::TransportKind;
use crate::error::CliError;
use crate::progress::Progress;

/// Sends one request, blocking, over the transport the user chose.
pub type Send = Box<
    dyn Fn(Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError>
        + core::marker::Send
        + Sync,
>;

/// The client of every command.
pub type CliClient = Client<Send>;

/// Makes the client for `kind`, reporting its events to `progress`.
pub fn connect(
    kind: TransportKind,
    endpoint: Endpoint,
    config: TransportConfig,
    progress: Progress,
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
    Ok(Client::new(endpoint, send).on_event(move |event| progress.event(event)))
}
