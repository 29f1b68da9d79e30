//! Lists images with the async client (hyper on tokio), then fetches a few of
//! them concurrently through the same pooled client.
//!
//! ```text
//! COXEDGE_API_KEY=… COXEDGE_SERVICE=edge-services COXEDGE_ENVIRONMENT=my-env \
//!     cargo run --no-default-features --features hyper --example async
//! ```
//!
//! Without `COXEDGE_API_KEY`, it talks
//! to a local simulator instead.

#[path = "support/mod.rs"]
mod support;

use coxedge_images::AsyncClient;
use std::sync::Arc;
use std::time::Duration;

use coxedge_images::ListOptions;
use coxedge_images::TransportConfig;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = TransportConfig::default().timeout(Duration::from_secs(20));
    let (endpoint, config, _simulator) = support::endpoint(config)?;
    let client = Arc::new(AsyncClient::hyper_with(endpoint, config)?);

    let list = client.list_page(&ListOptions::new().system_only()).await?;
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
