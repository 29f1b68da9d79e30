//! [`Endpoint`]: where and as whom to talk to the API, and everything it
//! hands out, one block per API operation: the operation's request
//! (layer 1, with its decoder beside it in `wire/`) and its typed
//! operation (layer 2, the machines). The top of the core's layers.

use std::fmt;
use std::sync::Arc;

use http::{HeaderValue, Request};
use url::Url;

use crate::machine::call::{Call, CallMachine};
use crate::machine::paging::{ListAll, Resolve};
use crate::machine::poller::PollPolicy;
use crate::machine::wait::WaitTask;
use crate::model::config_error::ConfigError;
use crate::model::error::Error;
use crate::model::host::is_loopback;
use crate::model::id::ImageId;
use crate::model::image::{Image, ImageList};
use crate::model::list_options::ListOptions;
use crate::model::reference::ImageReference;
use crate::model::secret::ApiKey;
use crate::model::segment::check_segment;
use crate::model::task::{CreateImage, Task, TaskId};
use crate::wire::delete_image::decode_deletion;
use crate::wire::get_image::decode_image;
use crate::wire::get_task::decode_task;
use crate::wire::list_page::decode_image_list;
use crate::wire::request::Address;
use crate::wire::{create_image, delete_image, get_image, get_task, list_page};

/// The base URL of the API as the specification gives it.
pub const DEFAULT_BASE_URL: &str = "https://portal.coxedge.com/api/v1";

/// The `User-Agent` every request carries, `coxedge-images/<version>`: a
/// transport that makes requests of its own (a proxy's `CONNECT`) sends the
/// same.
pub const USER_AGENT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

/// Everything needed to address the API: base URL, service code, environment,
/// optional organisation, and the API key.
///
/// Made with [`Endpoint::builder`]; every value is validated once, there. The
/// base URL may end with `/` or not (`…/api/v1` and `…/api/v1/` are the same),
/// and any path prefix it has is kept. Plain `http://` is refused unless the
/// host is loopback or [`EndpointBuilder::allow_insecure_http`] was set,
/// because the API key travels in a header.
#[derive(Clone)]
pub struct Endpoint {
    base: Url,
    service: String,
    environment: String,
    /// What every request shares, encoded once.
    address: Arc<Address>,
}

impl Endpoint {
    /// Starts a builder.
    pub fn builder() -> EndpointBuilder {
        EndpointBuilder::default()
    }

    /// The base URL, as given (normalised by URL parsing).
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// The service code, e.g. `edge-services`.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The environment name.
    pub fn environment(&self) -> &str {
        &self.environment
    }

    /// The organisation id sent as `org_id`, if any.
    pub fn org_id(&self) -> Option<&str> {
        self.address.org_id.as_deref()
    }

    /// What every request shares, for the machines' unit tests.
    #[cfg(test)]
    pub(crate) fn address(&self) -> &Arc<Address> {
        &self.address
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("base", &self.base.as_str())
            .field("service", &self.service)
            .field("environment", &self.environment)
            .field("org_id", &self.address.org_id)
            .field("api_key", &self.address.api_key)
            .finish()
    }
}

/// Builds an [`Endpoint`]; see there for the rules.
#[derive(Default, Clone)]
pub struct EndpointBuilder {
    base_url: Option<String>,
    service: Option<String>,
    environment: Option<String>,
    org_id: Option<String>,
    api_key: Option<ApiKey>,
    allow_insecure_http: bool,
    user_agent: Option<String>,
}

impl fmt::Debug for EndpointBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointBuilder")
            .field("base_url", &self.base_url)
            .field("service", &self.service)
            .field("environment", &self.environment)
            .field("org_id", &self.org_id)
            .field("api_key", &self.api_key)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .finish()
    }
}

impl EndpointBuilder {
    /// The base URL (default [`DEFAULT_BASE_URL`]).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The service code (required), e.g. `edge-services` or `cox`.
    pub fn service(mut self, code: impl Into<String>) -> Self {
        self.service = Some(code.into());
        self
    }

    /// The environment name (required).
    pub fn environment(mut self, name: impl Into<String>) -> Self {
        self.environment = Some(name.into());
        self
    }

    /// The sub-organisation, sent as `org_id` on every request.
    pub fn org_id(mut self, id: impl Into<String>) -> Self {
        self.org_id = Some(id.into());
        self
    }

    /// The API key (required).
    pub fn api_key(mut self, key: ApiKey) -> Self {
        self.api_key = Some(key);
        self
    }

    /// Allows a plain `http://` base URL on a host that is not loopback.
    /// The API key then crosses the network unencrypted: only for networks
    /// you trust. The bundled transports check every request too, so set
    /// `TransportConfig::allow_insecure_http` as well.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// A product token put before this crate's own in `User-Agent`,
    /// e.g. `my-app/1.2`.
    pub fn user_agent_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.user_agent = Some(prefix.into());
        self
    }

    /// Validates everything and makes the endpoint.
    pub fn build(self) -> Result<Endpoint, ConfigError> {
        let base = parse_base_url(
            self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL),
            self.allow_insecure_http,
        )?;
        let service = required_segment("service code", self.service)?;
        let environment = required_segment("environment", self.environment)?;
        let org_id = match self.org_id {
            Some(id) if id.is_empty() => return Err(ConfigError::new("org id", "is empty")),
            other => other,
        };
        let api_key = self
            .api_key
            .ok_or_else(|| ConfigError::new("api key", "is missing"))?;
        let user_agent = match self.user_agent {
            Some(prefix) => {
                HeaderValue::from_str(&format!("{prefix} {USER_AGENT}")).map_err(|_| {
                    ConfigError::new("user agent prefix", "is not a valid header value")
                })?
            }
            None => HeaderValue::from_static(USER_AGENT),
        };
        let address = Address::new(
            base.as_str().trim_end_matches('/'),
            &["services", &service, &environment, "images"],
            org_id,
            api_key,
            user_agent,
        )
        .map_err(|why| ConfigError::new("base URL", why))?;
        Ok(Endpoint {
            base,
            service,
            environment,
            address: Arc::new(address),
        })
    }
}

fn required_segment(what: &'static str, value: Option<String>) -> Result<String, ConfigError> {
    let value = value.ok_or_else(|| ConfigError::new(what, "is missing"))?;
    check_segment(&value).map_err(|p| ConfigError::new(what, p.describe()))?;
    Ok(value)
}

fn parse_base_url(text: &str, allow_insecure_http: bool) -> Result<Url, ConfigError> {
    let what = "base URL";
    let url = Url::parse(text).map_err(|e| ConfigError::new(what, format!("is not a URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure_http || is_loopback(&url) => {}
        "http" => {
            return Err(ConfigError::new(
                what,
                "uses plain http to a host that is not loopback; the API key would travel unencrypted (allow it with allow_insecure_http on the endpoint and on the transport)",
            ));
        }
        _ => return Err(ConfigError::new(what, "must use https (or http)")),
    }
    if url.host().is_none() || url.cannot_be_a_base() {
        return Err(ConfigError::new(what, "has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigError::new(what, "must not contain credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::new(what, "must not have a query or fragment"));
    }
    Ok(url)
}

/// The API's operations, one block each: the request alone (send it with
/// any HTTP client, decode the answer with the decoder named), then the
/// typed operation carrying request, decoder and retry policy together.
impl Endpoint {
    /// `GET …/services/:service/:environment/images` with the list options;
    /// decode the answer with [`decode_image_list`](crate::decode_image_list).
    pub fn list_page_request(&self, options: &ListOptions) -> Result<Request<Vec<u8>>, Error> {
        list_page::request(&self.address, options)
    }

    /// Lists every image, following the server's pages (see [`ListAll`]):
    /// what "list the images" means. [`list_page`](Self::list_page) reads
    /// one page.
    pub fn list_images(&self, options: &ListOptions) -> Result<ListAll, Error> {
        ListAll::new(&self.address, options.clone())
    }

    /// Reads one page of images: the page `options` asks for
    /// ([`ListOptions::page`]), or every image when the server does not
    /// page. [`list_images`](Self::list_images) follows every page.
    pub fn list_page(&self, options: &ListOptions) -> Result<Call<ImageList>, Error> {
        let request = self.list_page_request(options)?;
        let machine = CallMachine::new("list_page", &self.address, request, decode_image_list);
        Ok(Call::new(machine))
    }

    /// Lists every image and picks the one `reference` names; see
    /// [`resolve`](crate::resolve).
    pub fn resolve(&self, reference: &ImageReference) -> Result<Resolve, Error> {
        Resolve::new(&self.address, reference.clone())
    }

    /// `GET …/images/:stackId/:family/:tag`; decode the answer with
    /// [`decode_image`](crate::decode_image).
    pub fn get_image_request(&self, id: &ImageId) -> Result<Request<Vec<u8>>, Error> {
        get_image::request(&self.address, id)
    }

    /// Fetches one image.
    pub fn get_image(&self, id: &ImageId) -> Result<Call<Image>, Error> {
        let request = self.get_image_request(id)?;
        let machine = CallMachine::new("get_image", &self.address, request, decode_image);
        Ok(Call::new(machine))
    }

    /// `POST …/images` with the JSON body, checked first; decode the answer
    /// with [`decode_task`](crate::decode_task).
    pub fn create_image_request(&self, create: &CreateImage) -> Result<Request<Vec<u8>>, Error> {
        create_image::request(&self.address, create)
    }

    /// Starts creating a custom image; the answer is the task to wait for.
    /// Never retried (not idempotent).
    pub fn create_image(&self, create: &CreateImage) -> Result<Call<Task>, Error> {
        let request = self.create_image_request(create)?;
        let machine = CallMachine::new("create_image", &self.address, request, decode_task);
        Ok(Call::new(machine.redacting(Task::redacted)))
    }

    /// `DELETE …/images/:stackId/:family/:tag`; decode the answer with
    /// [`decode_deletion`](crate::decode_deletion).
    pub fn delete_image_request(&self, id: &ImageId) -> Result<Request<Vec<u8>>, Error> {
        delete_image::request(&self.address, id)
    }

    /// Starts deleting an image; never retried. A `204 No Content` (or an
    /// empty `200`/`202`) is a task already done (see
    /// [`decode_deletion`](crate::decode_deletion)).
    pub fn delete_image(&self, id: &ImageId) -> Result<Call<Task>, Error> {
        let request = self.delete_image_request(id)?;
        let machine = CallMachine::new("delete_image", &self.address, request, decode_deletion);
        Ok(Call::new(machine.redacting(Task::redacted)))
    }

    /// `GET <base>/tasks/:id`; decode the answer with
    /// [`decode_task`](crate::decode_task).
    pub fn get_task_request(&self, id: &TaskId) -> Result<Request<Vec<u8>>, Error> {
        get_task::request(&self.address, id)
    }

    /// Fetches a task's current state once.
    pub fn get_task(&self, id: &TaskId) -> Result<Call<Task>, Error> {
        let request = self.get_task_request(id)?;
        let machine = CallMachine::new("get_task", &self.address, request, decode_task);
        Ok(Call::new(machine.redacting(Task::redacted)))
    }

    /// Waits for `task` to end under `policy`, polling `get_task`; see
    /// [`WaitTask`].
    pub fn wait_for_task(&self, task: Task, policy: PollPolicy) -> WaitTask {
        WaitTask::new(&self.address, task, policy)
    }
}
