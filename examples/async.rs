//! Lists images with the async client (hyper on tokio), then fetches a few of
//! them concurrently through the same pooled client.
//!
//! ```text
//! COXEDGE_API_KEY=… COXEDGE_SERVICE=edge-services COXEDGE_ENVIRONMENT=my-env \
//!     cargo run --no-default-features --features hyper --example async
//! ```
//!
//! Without `COXEDGE_API_KEY`, and built with `--features simulator`, it talks
//! to a local simulator instead.

use std::sync::Arc;
use std::time::Duration;

use coxedge_images::transports::TransportConfig;
use coxedge_images::transports::hyper::HyperClient;
use coxedge_images::{ApiKey, Endpoint, ListOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = TransportConfig::default().timeout(Duration::from_secs(20));
    let (endpoint, config, _simulator) = match std::env::var("COXEDGE_API_KEY") {
        Ok(key) => (from_env(&key)?, config, None),
        Err(_) => local(config)?,
    };
    let client = Arc::new(HyperClient::hyper_with(endpoint, config)?);

    let list = client
        .list_images(&ListOptions::new().system_only())
        .await?;
    println!("{} system images", list.images.len());

    // The client is shared, and its futures are `Send`: spawn freely.
    let mut tasks = tokio::task::JoinSet::new();
    for image in list.images.into_iter().take(5) {
        let client = Arc::clone(&client);
        tasks.spawn(async move { client.get_image(&image.id).await });
    }
    while let Some(joined) = tasks.join_next().await {
        match joined? {
            Ok(image) => println!(
                "{:<56} {:<8} {}",
                image.id.to_string(),
                image.status.to_string(),
                image.reference
            ),
            Err(error) => eprintln!("could not fetch an image: {error}"),
        }
    }
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
