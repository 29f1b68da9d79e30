//! Set-up shared by the examples: the real API from the environment, or a
//! local simulator when no key is set.

use coxedge_images::TransportConfig;
use coxedge_images::{ApiKey, Endpoint};

/// The endpoint and transport settings to use, and the simulator to keep
/// alive while they are used (if one was started).
pub fn endpoint(
    config: TransportConfig,
) -> Result<(Endpoint, TransportConfig, Local), Box<dyn std::error::Error>> {
    match std::env::var("COXEDGE_API_KEY") {
        Ok(key) => Ok((from_env(&key)?, config, None)),
        Err(_) => local(config),
    }
}

/// The endpoint from `COXEDGE_SERVICE`, `COXEDGE_ENVIRONMENT` and optionally
/// `COXEDGE_BASE_URL`.
pub fn from_env(key: &str) -> Result<Endpoint, Box<dyn std::error::Error>> {
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

pub type Local = Option<coxedge_images_simulator::Simulator>;

pub fn local(
    config: TransportConfig,
) -> Result<(Endpoint, TransportConfig, Local), Box<dyn std::error::Error>> {
    use coxedge_images_simulator::Simulator;
    let simulator = Simulator::start();
    eprintln!(
        "COXEDGE_API_KEY is not set: using a local simulator at {}",
        simulator.base_url()
    );
    Ok((simulator.endpoint(), config, Some(simulator)))
}
