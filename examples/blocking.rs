//! Lists images with the blocking client (ureq).
//!
//! ```text
//! COXEDGE_API_KEY=… COXEDGE_SERVICE=edge-services COXEDGE_ENVIRONMENT=my-env \
//!     cargo run --example blocking
//! ```
//!
//! Without `COXEDGE_API_KEY`, it talks
//! to a local simulator instead.

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use coxedge_images::{Client, TransportConfig};
use coxedge_images::{Event, ListOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = TransportConfig::default().timeout(Duration::from_secs(20));
    let (endpoint, config, _simulator) = support::endpoint(config)?;
    let client = Client::ureq_with(endpoint, config)?.on_event(|event| {
        if let Event::Retrying {
            attempt,
            reason,
            wait,
            ..
        } = event
        {
            eprintln!("attempt {attempt} failed ({reason}); retrying in {wait:?}");
        }
    });

    let list = client.list_page(&ListOptions::new())?;
    println!("{} images", list.images.len());
    for image in &list.images {
        println!(
            "{:<56} {:<8} {}",
            image.id.to_string(),
            image.status.to_string(),
            image.created_at
        );
    }
    Ok(())
}
