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
//! Without `COXEDGE_API_KEY`, and built with `--features simulator`, it talks
//! to a local simulator instead.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use coxedge_images::transports::ureq::UreqTransport;
use coxedge_images::transports::{Client, Transport, TransportConfig};
use coxedge_images::{ApiKey, Endpoint, ListOptions, TransportError};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = TransportConfig::default().timeout(Duration::from_secs(20));
    let (endpoint, config, _simulator) = match std::env::var("COXEDGE_API_KEY") {
        Ok(key) => (from_env(&key)?, config, None),
        Err(_) => local(config)?,
    };

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

    let list = client.list_images(&ListOptions::new())?;
    for image in &list.images {
        println!("{:<56} {}", image.id.to_string(), image.status);
    }
    eprintln!("{} request(s) sent", sent.load(Ordering::Relaxed));
    Ok(())
}

/// The endpoint from `COXEDGE_SERVICE`, `COXEDGE_ENVIRONMENT` and optionally
/// `COXEDGE_BASE_URL`.
fn from_env(key: &str) -> Result<Endpoint, Box<dyn std::error::Error>> {
    let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let mut builder = Endpoint::builder()
        .service(std::env::var("COXEDGE_SERVICE").unwrap_or_else(|_| "edge-services".into()))
        .environment(var("COXEDGE_ENVIRONMENT")?)
        .api_key(ApiKey::new(key)?);
    if let Ok(base) = std::env::var("COXEDGE_BASE_URL") {
        builder = builder.base_url(base);
    }
    Ok(builder.build()?)
}

#[cfg(feature = "simulator")]
type Local = Option<coxedge_images::simulator::Simulator>;
#[cfg(not(feature = "simulator"))]
type Local = Option<()>;

#[cfg(feature = "simulator")]
fn local(
    config: TransportConfig,
) -> Result<(Endpoint, TransportConfig, Local), Box<dyn std::error::Error>> {
    use coxedge_images::simulator::Simulator;
    let simulator = Simulator::start();
    eprintln!(
        "COXEDGE_API_KEY is not set: using a local simulator at {}",
        simulator.base_url()
    );
    Ok((simulator.endpoint(), config, Some(simulator)))
}

#[cfg(not(feature = "simulator"))]
fn local(
    _: TransportConfig,
) -> Result<(Endpoint, TransportConfig, Local), Box<dyn std::error::Error>> {
    Err(
        "COXEDGE_API_KEY is not set (or build with --features simulator to use a local simulator)"
            .into(),
    )
}
