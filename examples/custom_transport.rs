//! Plugs your own transport into the client: here a closure that logs each
//! exchange (never the API key) and hands the sending to ureq. Any HTTP
//! client fits the same way: a `Fn(http::Request<Vec<u8>>) ->
//! Result<http::Response<Vec<u8>>, TransportError>` is a `Transport`.
//!
//! ```text
//! COXEDGE_API_KEY=… COXEDGE_SERVICE=edge-services COXEDGE_ENVIRONMENT=my-env \
//!     cargo run --example custom_transport
//! ```
//!
//! Without `COXEDGE_API_KEY`, it talks
//! to a local simulator instead.

#[path = "support/mod.rs"]
mod support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use coxedge_images::transports::ureq::UreqTransport;
use coxedge_images::{Client, Transport, TransportConfig};
use coxedge_images::{ListOptions, TransportError};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = TransportConfig::default().timeout(Duration::from_secs(20));
    let (endpoint, config, _simulator) = support::endpoint(config)?;

    let inner = UreqTransport::new(config)?;
    let sent = AtomicU32::new(0);
    let transport =
        |request: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, TransportError> {
            let n = sent.fetch_add(1, Ordering::Relaxed) + 1;
            // Log the method and path only: headers hold the API key.
            let line = format!("#{n} {} {}", request.method(), request.uri().path());
            let started = Instant::now();
            let result = inner.send(request);
            match &result {
                Ok(response) => eprintln!(
                    "{line} -> {} ({} bytes, {:?})",
                    response.status(),
                    response.body().len(),
                    started.elapsed()
                ),
                Err(error) => eprintln!("{line} -> {error}"),
            }
            result
        };
    let client = Client::new(endpoint, transport);

    let list = client.list_page(&ListOptions::new())?;
    for image in &list.images {
        println!("{:<56} {}", image.id.to_string(), image.status);
    }
    eprintln!("{} request(s) sent", sent.load(Ordering::Relaxed));
    Ok(())
}
