//! A local stand-in for the Cox Edge images API, over real sockets, for
//! tests in any language.
//!
//! [`Simulator::start`] serves HTTP/1.1 on an ephemeral loopback port, on its
//! own tokio runtime and thread, so blocking and async tests can both use
//! it; dropping the [`Simulator`] stops the server and closes the port. The
//! command line serves one as a process: `coxedge-images simulator`.
//!
//! It answers the API's routes under `/api/v1` (and `/api/v2`), for any
//! service code and environment:
//!
//! - `GET …/services/:service/:env/images`, with `includeOnlySystemImages`,
//!   `imageType=default|custom`, `page_number` and `page_size`;
//! - `GET …/images/:stackId/:family/:tag`;
//! - `POST …/images` and `DELETE …/images/:stackId/:family/:tag`, which start
//!   tasks (answered `{"taskId", "taskStatus"}` as documented);
//!   `GET …/tasks/:id` polls them, by default in the shape the public clients
//!   parse, `{"data": {"id", "status", "created", "result"}}`, with `FAILURE`
//!   for a failed task (see [`TaskShape`] and [`TaskOutcome`] for the
//!   others), and a task that succeeds makes its change to the images. A
//!   finished task's `result` has the image's `id` and a `name` (its
//!   workload reference, `slug/family:tag`), and a failed one's a
//!   `message`. Task ids are never repeated within a process, across
//!   simulators too;
//! - `MC-Api-Key` is required (401 without or empty, 403 when wrong);
//!   `org_id` is accepted and recorded. Errors are CloudMC `errors` documents.
//!
//! Every request is recorded ([`Simulator::requests`]) before it is
//! answered, and [faults](Fault) can spoil the answers: error statuses,
//! delays, slow or stalled or truncated bodies, resets, redirects, huge or
//! hostile bodies.
//!
//! ```
//! use coxedge_images_simulator::Simulator;
//!
//! let simulator = Simulator::start();
//! assert!(simulator.base_url().starts_with("http://127.0.0.1:"));
//! assert_eq!(simulator.images().len(), 2);
//! let endpoint = simulator.endpoint();
//! assert_eq!(endpoint.service(), "cox");
//! ```

/// The README's examples, compiled by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;

mod body;
mod deliver;
mod faults;
mod query;
mod routes;
mod server;
mod state;
mod tasks;
mod tls;

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

pub use faults::{Fault, FaultAction, RouteMatcher, Scope};
pub use state::RecordedRequest;
pub use tasks::{TaskOutcome, TaskShape};

use state::{Config, Shared};

use coxedge_images::{ApiKey, Endpoint, EndpointBuilder, Image};

/// The API key a simulator accepts unless told otherwise.
pub const DEFAULT_API_KEY: &str = "simulator-key";

/// The service code of [`Simulator::endpoint`].
pub const SERVICE: &str = "cox";

/// The environment name of [`Simulator::endpoint`].
pub const ENVIRONMENT: &str = "test-area";

/// Configures a [`Simulator`]; made by [`Simulator::builder`].
#[derive(Debug, Clone)]
pub struct SimulatorBuilder {
    tls: bool,
    api_key: String,
    seed: bool,
    task_polls: u32,
    task_outcome: TaskOutcome,
    task_shape: TaskShape,
    bind: SocketAddr,
    images: Option<Vec<Image>>,
    faults: Vec<Fault>,
    random_seed: Option<u64>,
}

impl Default for SimulatorBuilder {
    fn default() -> Self {
        SimulatorBuilder {
            tls: false,
            api_key: DEFAULT_API_KEY.to_owned(),
            seed: true,
            task_polls: 2,
            task_outcome: TaskOutcome::Success,
            task_shape: TaskShape::Data,
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            images: None,
            faults: Vec::new(),
            random_seed: None,
        }
    }
}

/// A key no one could guess, `sim-` and 32 hex digits.
fn random_api_key() -> String {
    format!(
        "sim-{:016x}{:016x}",
        tasks::random_u64(),
        tasks::random_u64()
    )
}

impl SimulatorBuilder {
    /// Serve HTTPS with a freshly generated CA (default: plain HTTP).
    pub fn tls(mut self, tls: bool) -> Self {
        self.tls = tls;
        self
    }

    /// The only API key accepted (default [`DEFAULT_API_KEY`]). It must be a
    /// valid [`ApiKey`], or [`build`](Self::build) fails.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = key.into();
        self
    }

    /// Accepts only a key made up now, `sim-` and 32 random hex digits, for
    /// a simulator whose key is printed or shared (so that a real key never
    /// is); read it back with [`Simulator::api_key`].
    pub fn random_api_key(self) -> Self {
        self.api_key(random_api_key())
    }

    /// Start with the specification's two images (default: yes).
    /// [`images`](Self::images) overrides it.
    pub fn seed(mut self, seed: bool) -> Self {
        self.seed = seed;
        self
    }

    /// Start with these images, in this order, instead of the
    /// specification's two (an image whose id repeats an earlier one
    /// replaces it).
    pub fn images(mut self, images: impl IntoIterator<Item = Image>) -> Self {
        self.images = Some(images.into_iter().collect());
        self
    }

    /// The address to listen on (default `127.0.0.1:0`; port 0 picks a free
    /// port). A non-loopback address serves whatever can reach it: only
    /// the API key keeps others out.
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// A fault in place from the first request, as if
    /// [`Simulator::inject`]ed (in this order, before any injected later).
    pub fn fault(mut self, fault: Fault) -> Self {
        if fault.scope != Scope::Next(0) {
            self.faults.push(fault);
        }
        self
    }

    /// The seed of the random sequence that decides [`Scope::Chance`]
    /// faults, so a run can be repeated (default: a different seed in every
    /// simulator). With one client making requests one at a time, the same
    /// seed spoils the same requests.
    pub fn random_seed(mut self, seed: u64) -> Self {
        self.random_seed = Some(seed);
        self
    }

    /// How many polls of a task answer `PENDING` before it finishes
    /// (default 2; 0 finishes on the first poll).
    pub fn task_polls(mut self, polls: u32) -> Self {
        self.task_polls = polls;
        self
    }

    /// How tasks end (default [`TaskOutcome::Success`]).
    pub fn task_outcome(mut self, outcome: TaskOutcome) -> Self {
        self.task_outcome = outcome;
        self
    }

    /// The JSON shape of task polls (default [`TaskShape::Data`], the shape
    /// the public clients of the API parse).
    pub fn task_shape(mut self, shape: TaskShape) -> Self {
        self.task_shape = shape;
        self
    }

    /// Binds the [address](Self::bind) (by default `127.0.0.1` on an
    /// ephemeral port) and starts serving.
    ///
    /// Fails when the API key is not a valid [`ApiKey`] (`InvalidInput`),
    /// when binding or starting the runtime fails, or when the certificates
    /// cannot be generated.
    pub fn build(self) -> io::Result<Simulator> {
        let api_key = ApiKey::new(&self.api_key)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("simulator: {e}")))?;
        let tls = if self.tls {
            Some(tls::generate(self.bind.ip())?)
        } else {
            None
        };
        let listener = std::net::TcpListener::bind(self.bind).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot listen on {}: {e}", self.bind))
        })?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let images = match self.images {
            Some(images) => {
                // A later image replaces an earlier one with its id, in the
                // earlier one's place (as `add_image` does), in one pass.
                let mut at = std::collections::HashMap::with_capacity(images.len());
                let mut unique: Vec<Image> = Vec::with_capacity(images.len());
                for image in images {
                    match at.get(&image.id) {
                        Some(&i) => unique[i] = image,
                        None => {
                            at.insert(image.id.clone(), unique.len());
                            unique.push(image);
                        }
                    }
                }
                unique
            }
            None if self.seed => state::seed_images(),
            None => Vec::new(),
        };
        let random_seed = self.random_seed.unwrap_or_else(tasks::random_u64);
        let shared = Arc::new(Shared::new(
            Config {
                api_key: self.api_key.clone(),
                task_polls: self.task_polls,
                task_outcome: self.task_outcome,
                task_shape: self.task_shape,
            },
            images,
            random_seed,
        ));
        shared.lock().faults = self.faults;

        let (shutdown_tx, shutdown_rx) = oneshot::channel();
        let (ready_tx, ready_rx) = mpsc::channel::<io::Result<()>>();
        let acceptor = tls.as_ref().map(|t| t.acceptor.clone());
        let server_shared = shared.clone();
        // The runtime is made, used and dropped on this thread only, so the
        // simulator can be started and dropped from inside another runtime.
        let thread = std::thread::Builder::new()
            .name("coxedge-simulator".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => listener,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    server::serve(listener, acceptor, server_shared, shutdown_rx).await;
                });
                // Dropping the runtime here ends every connection task.
            })?;
        let started = ready_rx
            .recv()
            .unwrap_or_else(|_| Err(io::Error::other("the simulator thread ended early")));
        if let Err(e) = started {
            let _ = thread.join();
            return Err(e);
        }

        let scheme = if self.tls { "https" } else { "http" };
        Ok(Simulator {
            shared,
            addr,
            base_url: format!("{scheme}://{}/api/v1", url_authority(addr, self.tls)),
            api_key,
            ca: tls.map(|t| (t.ca_pem, t.ca_der)),
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        })
    }
}

/// The host and port clients use to reach a server listening on `addr`: a
/// wildcard address is reached on loopback, and a loopback address under
/// TLS as `localhost` (the name its certificate is best known by).
fn url_authority(addr: SocketAddr, tls: bool) -> String {
    let ip = served_ip(addr);
    let port = addr.port();
    match ip {
        _ if tls && ip.is_loopback() => format!("localhost:{port}"),
        IpAddr::V4(ip) => format!("{ip}:{port}"),
        IpAddr::V6(ip) => format!("[{ip}]:{port}"),
    }
}

/// The address the base URL names for a simulator bound to `addr`: a
/// wildcard address is reached on loopback.
fn served_ip(addr: SocketAddr) -> IpAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    }
}

/// A running simulator; see the [module documentation](self).
///
/// Dropping it stops the server: the listening socket and every connection
/// are closed before `drop` returns.
pub struct Simulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    base_url: String,
    api_key: ApiKey,
    ca: Option<(String, Vec<u8>)>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Simulator {
    /// Starts a plain-HTTP simulator with the defaults of [`SimulatorBuilder`].
    ///
    /// # Panics
    ///
    /// When the simulator cannot start, i.e. when binding a loopback port or
    /// starting its thread fails; use [`Simulator::builder`] to get the error
    /// instead.
    pub fn start() -> Simulator {
        match Simulator::builder().build() {
            Ok(simulator) => simulator,
            Err(e) => panic!("the simulator could not start on 127.0.0.1: {e}"),
        }
    }

    /// A builder with the defaults: `127.0.0.1` on a free port, plain HTTP,
    /// key [`DEFAULT_API_KEY`], seeded, no faults, tasks finishing with
    /// success after 2 polls, polls answered in the `data` shape.
    pub fn builder() -> SimulatorBuilder {
        SimulatorBuilder::default()
    }

    /// The base URL: `http://127.0.0.1:PORT/api/v1`, or
    /// `https://localhost:PORT/api/v1` with TLS (with the bound address in
    /// place of `127.0.0.1`/`localhost` when it is not loopback or a
    /// wildcard).
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API key the simulator accepts.
    pub fn api_key(&self) -> &str {
        self.api_key.expose_secret()
    }

    /// The CA that signed the server certificate, as PEM (TLS only).
    pub fn ca_certificate_pem(&self) -> Option<String> {
        self.ca.as_ref().map(|(pem, _)| pem.clone())
    }

    /// The CA that signed the server certificate, as DER (TLS only).
    pub fn ca_certificate_der(&self) -> Option<Vec<u8>> {
        self.ca.as_ref().map(|(_, der)| der.clone())
    }

    /// An endpoint builder prefilled with the base URL, service
    /// [`SERVICE`], environment [`ENVIRONMENT`] and the API key (and plain
    /// HTTP allowed, when the simulator was bound to a plain-HTTP address
    /// that is not loopback); add an `org_id` or change anything before
    /// building.
    pub fn endpoint_builder(&self) -> EndpointBuilder {
        // Judged on the address the base URL names, not the one bound: a
        // wildcard bind is reached on loopback, where plain http is allowed
        // anyway.
        let remote_http = self.ca.is_none() && !served_ip(self.addr).is_loopback();
        let builder = Endpoint::builder()
            .base_url(self.base_url())
            .service(SERVICE)
            .environment(ENVIRONMENT)
            .api_key(self.api_key.clone());
        if remote_http {
            builder.allow_insecure_http(true)
        } else {
            builder
        }
    }

    /// The endpoint of [`endpoint_builder`](Self::endpoint_builder), built.
    pub fn endpoint(&self) -> Endpoint {
        // Every value is fixed here or validated by `SimulatorBuilder::build`
        // (a loopback or https base URL, valid segments, a valid key).
        self.endpoint_builder()
            .build()
            .expect("the simulator's endpoint settings are valid")
    }

    /// Adds an image, or replaces the one with the same id.
    pub fn add_image(&self, image: Image) {
        self.shared.lock().put_image(image);
    }

    /// The images, in list order.
    pub fn images(&self) -> Vec<Image> {
        self.shared.lock().images.clone()
    }

    /// Removes every image.
    pub fn clear_images(&self) {
        self.shared.lock().images.clear();
    }

    /// The requests received so far, oldest first (at most the last 100 000).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.iter().cloned().collect()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    /// How many TCP connections the server has accepted.
    pub fn connections_opened(&self) -> usize {
        self.shared.connections()
    }

    /// Adds a fault after those already injected. For each request, the
    /// first live fault that matches it applies.
    pub fn inject(&self, fault: Fault) {
        if fault.scope == Scope::Next(0) {
            return;
        }
        self.shared.lock().faults.push(fault);
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }
}

impl fmt::Debug for Simulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulator")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key)
            .field("tls", &self.ca.is_some())
            .finish_non_exhaustive()
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_keys_are_fresh_and_valid() {
        let (a, b) = (random_api_key(), random_api_key());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert!(ApiKey::new(&a).is_ok());
    }

    #[test]
    fn base_url_authorities_name_where_the_simulator_is_reached() {
        let at = |a: &str| a.parse::<SocketAddr>().unwrap();
        assert_eq!(url_authority(at("127.0.0.1:80"), false), "127.0.0.1:80");
        assert_eq!(url_authority(at("0.0.0.0:81"), false), "127.0.0.1:81");
        assert_eq!(url_authority(at("[::]:82"), false), "[::1]:82");
        assert_eq!(url_authority(at("[::1]:83"), false), "[::1]:83");
        assert_eq!(url_authority(at("192.0.2.7:84"), false), "192.0.2.7:84");
        // TLS on loopback: the name the generated certificate holds.
        assert_eq!(url_authority(at("127.0.0.1:85"), true), "localhost:85");
        assert_eq!(url_authority(at("0.0.0.0:86"), true), "localhost:86");
        assert_eq!(url_authority(at("192.0.2.7:87"), true), "192.0.2.7:87");
        // Plain http is opened up only for an address that is not loopback.
        assert!(served_ip(at("0.0.0.0:1")).is_loopback());
        assert!(!served_ip(at("192.0.2.7:1")).is_loopback());
    }
}
