//! Deciding where to send requests: flags and environment against the
//! built-in simulator.
//!
//! [`resolve`] is a pure function of the parsed options and the API key's
//! sources, so every rule is unit-tested without touching the process
//! environment or starting anything:
//!
//! - none of an API key, a base URL, a service, an environment or an org id:
//!   the built-in simulator, addressed with its own service and environment;
//! - any of those but no key: a usage error naming both key sources (so a
//!   script that forgot its key is never answered with simulated data);
//! - a key: service and environment are required (each error names its flag
//!   and environment variable); the base URL defaults to the real API's.
//!   Only a base URL on this machine (loopback or `localhost`, where a local
//!   stand-in started by `coxedge-images simulator` listens) may leave both
//!   out: the simulator's own service and environment are used, so the
//!   variables it prints are all a shell needs.

use std::ffi::OsString;
use std::path::Path;

use coxedge_images::{ApiKey, Endpoint};
use coxedge_images::{ProxyConfig, TransportConfig};
use coxedge_images_simulator::{
    ENVIRONMENT as SIMULATOR_ENVIRONMENT, SERVICE as SIMULATOR_SERVICE,
};

use crate::args::{API_KEY_ENV, GlobalArgs};
use crate::error::CliError;
use crate::files::read_small_file;

/// Where the API key came from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// The `COXEDGE_API_KEY` environment variable.
    Env,
    /// The file given with `--api-key-file`.
    File,
    /// The file a profile's `api_key_file` names.
    Profile,
}

/// The key as read from its source, before validation.
#[derive(Debug)]
pub struct RawKey {
    /// The key text (one trailing newline already removed for files).
    pub text: String,
    /// Where it came from.
    pub source: KeySource,
}

/// What to talk to.
#[derive(Debug)]
pub enum Target {
    /// Start the built-in simulator in this process and talk to it, with
    /// its own service, environment and key.
    Simulator,
    /// A real (or external) API: the endpoint is complete.
    Api(Box<Endpoint>),
}

/// Reads the API key from `--api-key-file` (which wins) or from the
/// environment value `env_key`. `Ok(None)` when neither is given.
///
/// The file's content loses one trailing newline (`\n` or `\r\n`); anything
/// else is kept, so a stray space is reported rather than silently trimmed.
/// No message ever contains the key.
pub fn read_api_key(
    file: Option<&Path>,
    env_key: Option<OsString>,
) -> Result<Option<RawKey>, CliError> {
    if let Some(path) = file {
        let bytes = read_key_file(path)?;
        let text = String::from_utf8(bytes).map_err(|_| {
            CliError::usage(format!(
                "the API key file {} is not UTF-8 text",
                path.display()
            ))
        })?;
        return Ok(Some(RawKey {
            text: trim_one_newline(text),
            source: KeySource::File,
        }));
    }
    match env_key {
        None => Ok(None),
        Some(value) => match value.into_string() {
            Ok(text) => Ok(Some(RawKey {
                text,
                source: KeySource::Env,
            })),
            Err(_) => Err(CliError::usage(format!("{API_KEY_ENV} is not valid UTF-8"))),
        },
    }
}

/// The longest API key file accepted, in bytes.
pub const MAX_KEY_FILE_LEN: u64 = 4096;

/// The bytes of the key file at `path`, at most [`MAX_KEY_FILE_LEN`].
fn read_key_file(path: &Path) -> Result<Vec<u8>, CliError> {
    read_small_file(path, "API key file", MAX_KEY_FILE_LEN)
}

fn trim_one_newline(mut text: String) -> String {
    if text.ends_with("\r\n") {
        text.truncate(text.len() - 2);
    } else if text.ends_with('\n') {
        text.truncate(text.len() - 1);
    }
    text
}

/// Whether `url` names a host on this machine: the only place a local
/// stand-in of the API can be. The rule is the library's
/// ([`coxedge_images::is_loopback_host`]), the one that lets plain http
/// carry the key; an IPv6 host is given to it in brackets (`[::1]`), as
/// the URL spells it.
fn is_local_url(url: &str) -> bool {
    url::Url::parse(url)
        .ok()
        .as_ref()
        .and_then(url::Url::host_str)
        .is_some_and(coxedge_images::is_loopback_host)
}

/// Decides the target from the options and the key; see the module
/// documentation for the rules. Empty option values count as not given.
pub fn resolve(args: &GlobalArgs, key: Option<RawKey>) -> Result<Target, CliError> {
    let given = |value: &Option<String>| value.clone().filter(|v| !v.is_empty());
    let base_url = given(&args.base_url);
    let service = given(&args.service);
    let environment = given(&args.environment);
    let org_id = given(&args.org_id);

    let Some(key) = key else {
        let given: Vec<&str> = [
            (base_url.is_some(), "--base-url (or COXEDGE_BASE_URL)"),
            (service.is_some(), "--service (or COXEDGE_SERVICE)"),
            (
                environment.is_some(),
                "--environment (or COXEDGE_ENVIRONMENT)",
            ),
            (org_id.is_some(), "--org-id (or COXEDGE_ORG_ID)"),
        ]
        .into_iter()
        .filter_map(|(is_given, name)| is_given.then_some(name))
        .collect();
        if given.is_empty() {
            return Ok(Target::Simulator);
        }
        return Err(CliError::usage(format!(
            "{} {} given but no API key: set {API_KEY_ENV} or pass --api-key-file PATH \
             (the built-in simulator is used only when none of the API key, base URL, \
             service, environment and org id is given)",
            given.join(", "),
            if given.len() == 1 { "is" } else { "are" },
        )));
    };

    let key_origin = match key.source {
        KeySource::Env => API_KEY_ENV.to_owned(),
        KeySource::File => "the file given with --api-key-file".to_owned(),
        KeySource::Profile => "the file the profile's api_key_file names".to_owned(),
    };
    if key.text.is_empty() {
        return Err(CliError::usage(format!(
            "the API key in {key_origin} is empty"
        )));
    }
    // ApiKey's errors name the problem, never the key.
    let api_key = ApiKey::new(&key.text)
        .map_err(|e| CliError::usage(format!("{e} (read from {key_origin})")))?;
    // A local stand-in (`coxedge-images simulator`) serves any service and
    // environment: its printed variables (base URL and key) are enough.
    // Anywhere else both are required, so a script never guesses them.
    let local = base_url.as_deref().is_some_and(is_local_url);
    let (service, environment) = match (service, environment) {
        (None, None) if local => (
            SIMULATOR_SERVICE.to_owned(),
            SIMULATOR_ENVIRONMENT.to_owned(),
        ),
        (service, environment) => (
            service.ok_or_else(|| missing("service code", "--service", "COXEDGE_SERVICE"))?,
            environment
                .ok_or_else(|| missing("environment", "--environment", "COXEDGE_ENVIRONMENT"))?,
        ),
    };

    let mut builder = Endpoint::builder()
        .service(service)
        .environment(environment)
        .api_key(api_key);
    if let Some(url) = base_url {
        builder = builder.base_url(url);
    }
    if let Some(org_id) = org_id {
        builder = builder.org_id(org_id);
    }
    let endpoint = builder
        .build()
        .map_err(|e| CliError::usage(format!("invalid configuration: {e}")))?;
    Ok(Target::Api(Box::new(endpoint)))
}

/// The largest `--ca-cert` file read: far above any real bundle (the whole
/// Mozilla set is about 200 KiB).
pub const MAX_CA_FILE_LEN: u64 = 4 * 1024 * 1024;

/// The transport settings for a run: `--timeout` bounds each request (and
/// the connection set-up within it), then [`network`]. A simulator started
/// in this process (`in_process`) is on loopback, where no proxy from the
/// environment could reach it: unless a proxy was named, none is used.
pub fn transport(args: &GlobalArgs, in_process: bool) -> Result<TransportConfig, CliError> {
    let mut config = TransportConfig::default();
    if let Some(timeout) = args.timeout {
        let connect = config.connect_timeout.min(timeout);
        config = config.timeout(timeout).connect_timeout(connect);
    }
    let mut config = network(args, config)?;
    if in_process && config.proxy == ProxyConfig::FromEnvironment {
        config = config.no_proxy();
    }
    Ok(config)
}

/// Applies `--proxy` (or `COXEDGE_PROXY`) and `--ca-cert` (or
/// `COXEDGE_CA_CERT`) to `config`:
///
/// - no proxy value (or an empty one): the environment's proxies, as curl
///   reads them; `none` (any case): no proxy at all; anything else: that
///   proxy for every request. A bad URL is a usage error that never repeats
///   the value (it may hold a password);
/// - a CA file: every certificate in it is trusted as well as the bundled
///   roots. Unreadable, too long, or without a certificate: a usage error
///   naming the path.
pub fn network(
    args: &GlobalArgs,
    mut config: TransportConfig,
) -> Result<TransportConfig, CliError> {
    match args.proxy.as_deref().map(str::trim) {
        None | Some("") => {}
        Some(none) if none.eq_ignore_ascii_case("none") => config = config.no_proxy(),
        Some(url) => {
            config = config
                .proxy(url)
                .map_err(|e| CliError::usage(format!("--proxy (or COXEDGE_PROXY): {e}")))?;
        }
    }
    if let Some(path) = &args.ca_cert {
        let pem = read_ca_file(path)?;
        config = config.add_root_certificates_pem(&pem).map_err(|e| {
            CliError::usage(format!("the CA file {} is not usable: {e}", path.display()))
        })?;
    }
    Ok(config)
}

/// The bytes of the CA file at `path`, at most [`MAX_CA_FILE_LEN`].
fn read_ca_file(path: &Path) -> Result<Vec<u8>, CliError> {
    read_small_file(path, "CA file", MAX_CA_FILE_LEN)
}

fn missing(what: &str, flag: &str, env: &str) -> CliError {
    CliError::usage(format!(
        "the {what} is missing: pass {flag} or set {env} (an API key was given, so the \
         built-in simulator is not used)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> GlobalArgs {
        GlobalArgs::default()
    }

    fn env_key(text: &str) -> Option<RawKey> {
        Some(RawKey {
            text: text.to_owned(),
            source: KeySource::Env,
        })
    }

    fn usage_message(result: Result<Target, CliError>) -> String {
        let err = result.expect_err("a usage error");
        assert_eq!(err.exit_code(), 2, "{err:?}");
        err.message().to_owned()
    }

    #[test]
    fn nothing_given_means_the_simulator() {
        assert!(matches!(resolve(&args(), None).unwrap(), Target::Simulator));
    }

    #[test]
    fn anything_given_without_a_key_is_a_usage_error_not_the_simulator() {
        type Set = fn(&mut GlobalArgs);
        let cases: [(Set, &str); 4] = [
            (
                |a| a.base_url = Some("https://example.com/api/v1".into()),
                "--base-url",
            ),
            (|a| a.service = Some("edge-services".into()), "--service"),
            (|a| a.environment = Some("prod".into()), "--environment"),
            (|a| a.org_id = Some("org-1".into()), "--org-id"),
        ];
        for (set, flag) in cases {
            let mut a = args();
            set(&mut a);
            let message = usage_message(resolve(&a, None));
            assert!(message.contains(flag), "{message}");
            assert!(message.contains("COXEDGE_API_KEY"), "{message}");
            assert!(message.contains("--api-key-file"), "{message}");
        }
        let mut a = args();
        a.service = Some("edge-services".into());
        a.environment = Some("prod".into());
        let message = usage_message(resolve(&a, None));
        assert!(
            message.contains("--service (or COXEDGE_SERVICE), --environment"),
            "{message}"
        );
        assert!(message.contains(" are given"), "{message}");
    }

    #[test]
    fn the_in_process_simulator_is_reached_without_the_environments_proxies() {
        // No value and an empty value (COXEDGE_PROXY="") alike.
        for proxy in [None, Some(""), Some("  ")] {
            let mut a = args();
            a.proxy = proxy.map(Into::into);
            assert_eq!(
                transport(&a, true).unwrap().proxy,
                ProxyConfig::None,
                "{proxy:?}"
            );
            assert_eq!(
                transport(&a, false).unwrap().proxy,
                ProxyConfig::FromEnvironment,
                "{proxy:?}"
            );
        }
        // A proxy named on purpose is kept.
        let mut a = args();
        a.proxy = Some("http://127.0.0.1:3128".into());
        assert!(matches!(
            transport(&a, true).unwrap().proxy,
            ProxyConfig::Url(_)
        ));
    }

    #[test]
    fn a_local_base_url_may_leave_out_service_and_environment() {
        let key = || {
            Some(RawKey {
                text: "k".into(),
                source: KeySource::Env,
            })
        };
        for url in [
            "http://127.0.0.1:4000/api/v1",
            "http://localhost:1/api/v1",
            "https://[::1]:9/api/v1",
        ] {
            let mut a = args();
            a.base_url = Some(url.into());
            let Ok(Target::Api(endpoint)) = resolve(&a, key()) else {
                panic!("{url}: a local stand-in needs no service or environment");
            };
            assert_eq!(endpoint.service(), SIMULATOR_SERVICE);
            assert_eq!(endpoint.environment(), SIMULATOR_ENVIRONMENT);
        }
        // Anywhere else, or with only one of the two given, both are required.
        for (url, service) in [
            ("https://portal.example/api/v1", None),
            ("http://10.0.0.1/api/v1", None),
            ("http://127.0.0.1:4000/api/v1", Some("cox")),
        ] {
            let mut a = args();
            a.base_url = Some(url.into());
            a.service = service.map(Into::into);
            assert!(resolve(&a, key()).is_err(), "{url}");
        }
    }

    #[test]
    fn local_urls_follow_the_librarys_loopback_rule() {
        for url in [
            "http://127.0.0.1:4000/api/v1",
            "http://127.1.2.3/",
            "http://LocalHost:1/",
            "https://[::1]:9/api/v1",
        ] {
            assert!(is_local_url(url), "{url}");
        }
        for url in [
            "http://10.0.0.1/",
            "http://localhost.example.com/",
            "https://[::2]/",
            "not a url",
        ] {
            assert!(!is_local_url(url), "{url}");
        }
    }

    #[test]
    fn a_key_needs_service_and_environment() {
        let message = usage_message(resolve(&args(), env_key("canary-key")));
        assert!(message.contains("--service"), "{message}");
        assert!(message.contains("COXEDGE_SERVICE"), "{message}");

        let mut a = args();
        a.service = Some("cox".into());
        let message = usage_message(resolve(&a, env_key("canary-key")));
        assert!(message.contains("COXEDGE_ENVIRONMENT"), "{message}");
    }

    #[test]
    fn a_key_with_service_and_environment_is_the_real_api_by_default() {
        let mut a = args();
        a.service = Some("cox".into());
        a.environment = Some("test-area".into());
        match resolve(&a, env_key("canary-key")).unwrap() {
            Target::Api(endpoint) => {
                assert_eq!(
                    endpoint.base_url().as_str(),
                    coxedge_images::DEFAULT_BASE_URL
                );
                assert_eq!(endpoint.org_id(), None);
            }
            other => panic!("{other:?}"),
        }
        a.base_url = Some("http://127.0.0.1:9/api/v1".into());
        a.org_id = Some("org-7".into());
        match resolve(&a, env_key("canary-key")).unwrap() {
            Target::Api(endpoint) => {
                assert_eq!(endpoint.base_url().as_str(), "http://127.0.0.1:9/api/v1");
                assert_eq!(endpoint.org_id(), Some("org-7"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn empty_values_count_as_not_given() {
        let mut a = args();
        a.base_url = Some(String::new());
        a.service = Some(String::new());
        a.environment = Some(String::new());
        a.org_id = Some(String::new());
        assert!(matches!(resolve(&a, None).unwrap(), Target::Simulator));
    }

    #[test]
    fn bad_keys_and_urls_are_usage_errors_that_never_echo_the_key() {
        let mut a = args();
        a.service = Some("cox".into());
        a.environment = Some("test-area".into());
        for bad in ["", " canary-key", "canary\r\nkey"] {
            let message = usage_message(resolve(&a, env_key(bad)));
            assert!(!message.contains("canary"), "{message}");
            assert!(message.contains("COXEDGE_API_KEY"), "{message}");
        }
        a.base_url = Some("http://example.com/api/v1".into());
        let message = usage_message(resolve(&a, env_key("canary-key")));
        assert!(message.contains("base URL"), "{message}");
        assert!(!message.contains("canary"), "{message}");
    }

    #[test]
    fn proxy_values_choose_the_environment_none_or_a_url() {
        use coxedge_images::ProxyConfig;
        let with = |proxy: Option<&str>| {
            let mut a = args();
            a.proxy = proxy.map(str::to_owned);
            network(&a, TransportConfig::default())
        };
        assert_eq!(with(None).unwrap().proxy, ProxyConfig::FromEnvironment);
        assert_eq!(with(Some("")).unwrap().proxy, ProxyConfig::FromEnvironment);
        assert_eq!(with(Some("none")).unwrap().proxy, ProxyConfig::None);
        assert_eq!(with(Some("NONE")).unwrap().proxy, ProxyConfig::None);
        match with(Some("http://u:hunter2@proxy.corp:3128"))
            .unwrap()
            .proxy
        {
            ProxyConfig::Url(url) => assert_eq!(url.to_string(), "http://proxy.corp:3128"),
            other => panic!("{other:?}"),
        }
        for bad in ["socks5://u:hunter2@proxy", "http://u:hunter2@proxy:99999"] {
            let err = with(Some(bad)).unwrap_err();
            assert_eq!(err.exit_code(), 2);
            assert!(err.message().contains("--proxy"), "{}", err.message());
            assert!(!err.message().contains("hunter2"), "{}", err.message());
        }
    }

    #[test]
    fn ca_files_are_read_and_checked() {
        let dir = std::env::temp_dir().join(format!("coxedge-cli-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let with = |path: &Path| {
            let mut a = args();
            a.ca_cert = Some(path.to_owned());
            network(&a, TransportConfig::default())
        };
        let not_pem = dir.join("not.pem");
        std::fs::write(&not_pem, "hello").unwrap();
        for path in [not_pem.as_path(), &dir.join("absent.pem"), &dir] {
            let err = with(path).unwrap_err();
            assert_eq!(err.exit_code(), 2);
            assert!(
                err.message().contains(&path.display().to_string()),
                "{}",
                err.message()
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_key_file_wins_and_loses_one_newline() {
        let dir = std::env::temp_dir().join(format!("coxedge-cli-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("key");
        std::fs::write(&path, "file-key\n").unwrap();
        let key = read_api_key(Some(&path), Some("env-key".into()))
            .unwrap()
            .unwrap();
        assert_eq!(
            (key.text.as_str(), key.source),
            ("file-key", KeySource::File)
        );

        std::fs::write(&path, "file-key\r\n\n").unwrap();
        let key = read_api_key(Some(&path), None).unwrap().unwrap();
        assert_eq!(key.text, "file-key\r\n");

        let key = read_api_key(None, Some("env-key".into())).unwrap().unwrap();
        assert_eq!((key.text.as_str(), key.source), ("env-key", KeySource::Env));
        assert!(read_api_key(None, None).unwrap().is_none());

        let err = read_api_key(Some(&dir.join("absent")), None).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.message().contains("absent"), "{}", err.message());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_key_file_is_a_small_regular_file() {
        let dir = std::env::temp_dir().join(format!("coxedge-cli-unit-len-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("key");
        let limit = usize::try_from(MAX_KEY_FILE_LEN).unwrap();
        std::fs::write(&path, "k".repeat(limit)).unwrap();
        let key = read_api_key(Some(&path), None).unwrap().unwrap();
        assert_eq!(key.text.len(), limit);

        std::fs::write(&path, "k".repeat(limit + 1)).unwrap();
        let err = read_api_key(Some(&path), None).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.message().contains("too long"), "{}", err.message());

        let err = read_api_key(Some(&dir), None).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.message().contains("not a regular file"),
            "{}",
            err.message()
        );
        std::fs::remove_dir_all(&dir).unwrap();

        #[cfg(unix)]
        {
            let err = read_api_key(Some(Path::new("/dev/zero")), None).unwrap_err();
            assert_eq!(err.exit_code(), 2);
            assert!(
                err.message().contains("not a regular file"),
                "{}",
                err.message()
            );
        }
    }
}
