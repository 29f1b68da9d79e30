//! Profiles: named sets of settings in a TOML config file, and where each
//! setting in effect came from.
//!
//! The file is `--config PATH` (or `COXEDGE_CONFIG`), else
//! `$XDG_CONFIG_HOME/coxedge-images/config.toml`, else
//! `~/.config/coxedge-images/config.toml`:
//!
//! ```toml
//! default_profile = "staging"          # optional: used when none is named
//!
//! [profile.staging]
//! service = "edge-services"
//! environment = "staging"
//! api_key_file = "staging.key"         # relative to this file; mode 600
//!
//! [profile.prod]
//! base_url = "https://portal.coxedge.com/api/v1"
//! service = "edge-services"
//! environment = "prod"
//! org_id = "org-1"
//! proxy = "http://proxy.corp:3128"
//! ca_cert = "~/corp-ca.pem"
//! api_key_file = "~/.config/coxedge-images/prod.key"
//! ```
//!
//! A setting is taken from the first of: its flag, its environment variable,
//! the profile, the default. The profile is `--profile NAME`, else
//! `COXEDGE_PROFILE`, else the file's `default_profile`, else none.
//!
//! Nothing here falls back quietly: a file that does not parse, an unknown
//! key, an unknown profile, a profile named when there is no file, or an API
//! key file that group or others may read is a usage error (exit 2) naming
//! the file and the line. The key itself is never in a profile, only the
//! path of a file holding it.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use clap::ArgMatches;
use clap::parser::ValueSource;
use serde::Deserialize;
use toml::Spanned;

use crate::args::{CONFIG_ENV, GlobalArgs, PROFILE_ENV};
use crate::error::CliError;
use crate::files::read_small_file;

/// The largest config file read.
const MAX_CONFIG_LEN: u64 = 1024 * 1024;

/// A setting a profile can hold, with its flag and environment variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    /// `base_url`, `--base-url`, `COXEDGE_BASE_URL`.
    BaseUrl,
    /// `service`, `--service`, `COXEDGE_SERVICE`.
    Service,
    /// `environment`, `--environment`, `COXEDGE_ENVIRONMENT`.
    Environment,
    /// `org_id`, `--org-id`, `COXEDGE_ORG_ID`.
    OrgId,
    /// `proxy`, `--proxy`, `COXEDGE_PROXY`.
    Proxy,
    /// `ca_cert`, `--ca-cert`, `COXEDGE_CA_CERT`.
    CaCert,
    /// `api_key_file`, `--api-key-file`; its variable is the key itself,
    /// `COXEDGE_API_KEY`.
    ApiKeyFile,
}

impl Key {
    /// Every key, in the order `config show` lists them.
    pub const ALL: [Key; 7] = [
        Key::BaseUrl,
        Key::Service,
        Key::Environment,
        Key::OrgId,
        Key::Proxy,
        Key::CaCert,
        Key::ApiKeyFile,
    ];

    /// Its name in the config file (and clap's id for its flag).
    pub fn name(self) -> &'static str {
        match self {
            Key::BaseUrl => "base_url",
            Key::Service => "service",
            Key::Environment => "environment",
            Key::OrgId => "org_id",
            Key::Proxy => "proxy",
            Key::CaCert => "ca_cert",
            Key::ApiKeyFile => "api_key_file",
        }
    }

    /// Its flag.
    pub fn flag(self) -> &'static str {
        match self {
            Key::BaseUrl => "--base-url",
            Key::Service => "--service",
            Key::Environment => "--environment",
            Key::OrgId => "--org-id",
            Key::Proxy => "--proxy",
            Key::CaCert => "--ca-cert",
            Key::ApiKeyFile => "--api-key-file",
        }
    }

    /// Its environment variable.
    pub fn env(self) -> &'static str {
        match self {
            Key::BaseUrl => "COXEDGE_BASE_URL",
            Key::Service => "COXEDGE_SERVICE",
            Key::Environment => "COXEDGE_ENVIRONMENT",
            Key::OrgId => "COXEDGE_ORG_ID",
            Key::Proxy => "COXEDGE_PROXY",
            Key::CaCert => "COXEDGE_CA_CERT",
            Key::ApiKeyFile => crate::args::API_KEY_ENV,
        }
    }

    /// Whether the key names a file (read relative to the config file).
    fn is_path(self) -> bool {
        matches!(self, Key::CaCert | Key::ApiKeyFile)
    }

    /// Whether giving it means "not the built-in simulator" (with the API
    /// key itself, the five settings the simulator rule names).
    pub fn selects_the_api(self) -> bool {
        matches!(
            self,
            Key::BaseUrl | Key::Service | Key::Environment | Key::OrgId | Key::ApiKeyFile
        )
    }
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag.
    Flag(&'static str),
    /// An environment variable.
    Env(&'static str),
    /// A line of the config file.
    File {
        /// The config file.
        file: PathBuf,
        /// The line, from 1.
        line: usize,
        /// The profile the line is in, if any (`default_profile` is in none).
        profile: Option<String>,
    },
    /// The built-in default.
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "{flag}"),
            Source::Env(var) => write!(f, "{var}"),
            Source::File {
                file,
                line,
                profile: Some(profile),
            } => write!(f, "profile {profile} ({}:{line})", file.display()),
            Source::File {
                file,
                line,
                profile: None,
            } => write!(f, "{}:{line}", file.display()),
            Source::Default => f.write_str("default"),
        }
    }
}

/// Which global options were given as flags and which as environment
/// variables, as clap saw them (it merges both into one value).
#[derive(Debug, Clone, Default)]
pub struct Origins(BTreeMap<String, Source>);

impl Origins {
    /// Reads the sources of the options a profile or `config show` cares
    /// about from the parsed `matches`.
    pub fn from_matches(matches: &ArgMatches) -> Self {
        let mut origins = BTreeMap::new();
        let mut note = |id: &str, flag: &'static str, env: &'static str| match matches
            .try_get_raw(id)
            .ok()
            .flatten()
            .and(matches.value_source(id))
        {
            Some(ValueSource::CommandLine) => {
                origins.insert(id.to_owned(), Source::Flag(flag));
            }
            Some(ValueSource::EnvVariable) => {
                origins.insert(id.to_owned(), Source::Env(env));
            }
            _ => {}
        };
        for key in Key::ALL {
            note(key.name(), key.flag(), key.env());
        }
        note("profile", "--profile", PROFILE_ENV);
        note("config", "--config", CONFIG_ENV);
        // No variables for these two.
        note("transport", "--transport", "");
        note("timeout", "--timeout", "");
        Origins(origins)
    }

    /// Where the option with clap id `id` came from, or `default`.
    pub fn or_default(&self, id: &str) -> String {
        self.0
            .get(id)
            .map_or_else(|| "default".to_owned(), ToString::to_string)
    }

    /// Where the option with clap id `id` came from; a flag when unknown
    /// (values set in tests, not by clap).
    fn of(&self, id: &str, flag: &'static str) -> Source {
        self.0.get(id).cloned().unwrap_or(Source::Flag(flag))
    }
}

/// The config file as written: a `default_profile` and `[profile.NAME]`
/// tables, nothing else.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    default_profile: Option<Spanned<String>>,
    #[serde(default)]
    profile: BTreeMap<String, Spanned<ProfileDoc>>,
}

/// One profile as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileDoc {
    base_url: Option<Spanned<String>>,
    service: Option<Spanned<String>>,
    environment: Option<Spanned<String>>,
    org_id: Option<Spanned<String>>,
    proxy: Option<Spanned<String>>,
    ca_cert: Option<Spanned<String>>,
    api_key_file: Option<Spanned<String>>,
}

impl ProfileDoc {
    fn values(self) -> [(Key, Option<Spanned<String>>); 7] {
        [
            (Key::BaseUrl, self.base_url),
            (Key::Service, self.service),
            (Key::Environment, self.environment),
            (Key::OrgId, self.org_id),
            (Key::Proxy, self.proxy),
            (Key::CaCert, self.ca_cert),
            (Key::ApiKeyFile, self.api_key_file),
        ]
    }
}

/// The profile in use: its name, what chose it, and its values (paths
/// already made absolute), each with its line.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Its name.
    pub name: String,
    /// What chose it: `--profile`, `COXEDGE_PROFILE` or `default_profile`.
    pub chosen_by: Source,
    /// Its values, with where each is written.
    pub values: BTreeMap<Key, (String, Source)>,
}

/// The config file's place, whether it exists, and the profile chosen.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Where the config file is (or would be), and what named it.
    pub file: Option<(PathBuf, Source)>,
    /// Whether that file exists.
    pub exists: bool,
    /// The profile in use, if any.
    pub profile: Option<Profile>,
}

/// The settings after the profile is applied, each with its source.
#[derive(Debug, Clone)]
pub struct Effective {
    /// The config file and profile.
    pub loaded: Loaded,
    /// Each key's value in effect and its source (absent: not set).
    pub values: BTreeMap<Key, (String, Source)>,
}

/// The default config file: `$XDG_CONFIG_HOME/coxedge-images/config.toml`
/// (when that is an absolute path), else `$HOME/.config/…`; `None` when
/// neither variable helps.
pub fn default_config_path(
    xdg_config_home: Option<&std::ffi::OsStr>,
    home: Option<&std::ffi::OsStr>,
) -> Option<PathBuf> {
    let base = match xdg_config_home.map(Path::new) {
        Some(xdg) if xdg.is_absolute() => xdg.to_owned(),
        _ => Path::new(home.filter(|h| !h.is_empty())?).join(".config"),
    };
    Some(base.join("coxedge-images").join("config.toml"))
}

/// Finds and reads the config file, and picks the profile `args` (and the
/// environment, through clap) name. See the module documentation.
pub fn load(args: &GlobalArgs, origins: &Origins) -> Result<Loaded, CliError> {
    let file = match &args.config {
        Some(path) if !path.as_os_str().is_empty() => {
            Some((path.clone(), origins.of("config", "--config")))
        }
        _ => default_config_path(
            std::env::var_os("XDG_CONFIG_HOME").as_deref(),
            std::env::var_os("HOME").as_deref(),
        )
        .map(|path| (path, Source::Default)),
    };
    let named = args
        .profile
        .clone()
        .filter(|p| !p.is_empty())
        .map(|name| (name, origins.of("profile", "--profile")));
    let home = std::env::var_os("HOME").map(PathBuf::from);
    load_from(file, named, home.as_deref())
}

/// [`load`] with the file, the profile asked for and the home directory
/// given, for tests.
fn load_from(
    file: Option<(PathBuf, Source)>,
    named: Option<(String, Source)>,
    home: Option<&Path>,
) -> Result<Loaded, CliError> {
    let Some((path, file_source)) = file else {
        if let Some((name, by)) = named {
            return Err(CliError::usage(format!(
                "profile {name:?} ({by}) cannot be read: there is no config file \
                 (set XDG_CONFIG_HOME or HOME, or pass --config PATH)"
            )));
        }
        return Ok(Loaded {
            file: None,
            exists: false,
            profile: None,
        });
    };
    let text = match std::fs::metadata(&path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound && file_source == Source::Default => {
            if let Some((name, by)) = named {
                return Err(CliError::usage(format!(
                    "profile {name:?} ({by}) cannot be read: the config file {} does not exist",
                    path.display()
                )));
            }
            return Ok(Loaded {
                file: Some((path, file_source)),
                exists: false,
                profile: None,
            });
        }
        _ => {
            let bytes = read_small_file(&path, "config file", MAX_CONFIG_LEN)?;
            String::from_utf8(bytes).map_err(|e| {
                let line = line_of(
                    &String::from_utf8_lossy(e.as_bytes()),
                    e.utf8_error().valid_up_to(),
                );
                CliError::usage(format!(
                    "{}:{line}: the config file is not UTF-8 text",
                    path.display()
                ))
            })?
        }
    };
    let doc: FileDoc = toml::from_str(&text).map_err(|e| {
        let at = e
            .span()
            .map(|span| {
                let (line, column) = line_column(&text, span.start);
                format!("{line}:{column}")
            })
            .unwrap_or_else(|| "1".to_owned());
        CliError::usage(format!(
            "{}:{at}: {}",
            path.display(),
            e.message().trim_end()
        ))
    })?;
    let named = match named {
        Some(named) => Some(named),
        None => doc.default_profile.as_ref().map(|name| {
            (
                name.get_ref().clone(),
                Source::File {
                    file: path.clone(),
                    line: line_of(&text, name.span().start),
                    profile: None,
                },
            )
        }),
    };
    let profile = match named {
        None => None,
        Some((name, chosen_by)) => {
            let mut profiles = doc.profile;
            let Some(found) = profiles.remove(&name) else {
                let known: Vec<&str> = profiles.keys().map(String::as_str).collect();
                let at = match &chosen_by {
                    Source::File { line, .. } => format!("{}:{line}", path.display()),
                    _ => path.display().to_string(),
                };
                return Err(CliError::usage(format!(
                    "{at}: there is no profile {name:?} (asked by {}); the file has {}",
                    match &chosen_by {
                        Source::File { .. } => "default_profile".to_owned(),
                        other => other.to_string(),
                    },
                    if known.is_empty() {
                        "no profile".to_owned()
                    } else {
                        format!("profiles {}", known.join(", "))
                    }
                )));
            };
            let mut values = BTreeMap::new();
            for (key, value) in found.into_inner().values() {
                let Some(value) = value else { continue };
                let line = line_of(&text, value.span().start);
                let at = Source::File {
                    file: path.clone(),
                    line,
                    profile: Some(name.clone()),
                };
                let mut value = value.into_inner();
                check_value(key, &value).map_err(|why| {
                    CliError::usage(format!("{}:{line}: {}: {why}", path.display(), key.name()))
                })?;
                if key.is_path() {
                    value = absolute(&value, &path, home)
                        .map_err(|why| {
                            CliError::usage(format!(
                                "{}:{line}: {}: {why}",
                                path.display(),
                                key.name()
                            ))
                        })?
                        .display()
                        .to_string();
                }
                values.insert(key, (value, at));
            }
            Some(Profile {
                name,
                chosen_by,
                values,
            })
        }
    };
    Ok(Loaded {
        file: Some((path, file_source)),
        exists: true,
        profile,
    })
}

/// Checks what can be checked of a profile value when the file is read, so
/// that the error names its line: no empty values, a base URL that parses
/// as http(s), a proxy that the transports would take.
fn check_value(key: Key, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err("is empty (leave the key out instead)".to_owned());
    }
    match key {
        Key::BaseUrl => match url::Url::parse(value) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(()),
            Ok(_) => Err("must be an http:// or https:// URL".to_owned()),
            Err(e) => Err(format!("not a URL: {e}")),
        },
        Key::Proxy if value.trim().eq_ignore_ascii_case("none") => Ok(()),
        // The message never repeats the value: it may hold a password.
        Key::Proxy => coxedge_images::TransportConfig::default()
            .proxy(value)
            .map(drop)
            .map_err(|e| e.to_string()),
        _ => Ok(()),
    }
}

/// `value` as a path: `~/…` under `home`, a relative path under the config
/// file's directory.
fn absolute(value: &str, config: &Path, home: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(rest) = value.strip_prefix("~/") {
        return match home {
            Some(home) => Ok(home.join(rest)),
            None => Err("starts with ~/ but HOME is not set".to_owned()),
        };
    }
    let path = Path::new(value);
    Ok(if path.is_absolute() {
        path.to_owned()
    } else {
        config.parent().unwrap_or_else(|| Path::new(".")).join(path)
    })
}

/// The line (from 1) of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    line_column(text, offset).0
}

/// The line and column (both from 1, the column in characters) of byte
/// `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |last| last.chars().count())
        + 1;
    (line, column)
}

/// Refuses an API key file that group or others may read or write (as ssh
/// refuses such a private key): the error names the key file and the
/// config line that names it.
#[cfg(unix)]
pub fn check_key_file_mode(path: &Path, named_at: &Source) -> Result<(), CliError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| {
            CliError::usage(format!(
                "{named_at}: cannot read the API key file {}: {e}",
                path.display()
            ))
        })?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(CliError::usage(format!(
            "{named_at}: the API key file {} may be read by group or others (mode {:03o}); \
             run chmod 600 on it",
            path.display(),
            mode & 0o777
        )));
    }
    Ok(())
}

/// No mode bits to check elsewhere.
#[cfg(not(unix))]
pub fn check_key_file_mode(_path: &Path, _named_at: &Source) -> Result<(), CliError> {
    Ok(())
}

/// Fills the options not given (as flags or variables; empty counts as not
/// given) from the profile, and returns every setting with its source.
/// `env_key` says whether `COXEDGE_API_KEY` is set: the key a profile's
/// `api_key_file` holds is used only without it and `--api-key-file`.
pub fn apply(loaded: Loaded, args: &mut GlobalArgs, origins: &Origins, env_key: bool) -> Effective {
    let mut values = BTreeMap::new();
    let from_profile = |key: Key| {
        loaded
            .profile
            .as_ref()
            .and_then(|p| p.values.get(&key).cloned())
    };
    for key in Key::ALL {
        let slot = match key {
            Key::BaseUrl => &mut args.base_url,
            Key::Service => &mut args.service,
            Key::Environment => &mut args.environment,
            Key::OrgId => &mut args.org_id,
            Key::Proxy => &mut args.proxy,
            Key::CaCert | Key::ApiKeyFile => {
                let slot = if key == Key::CaCert {
                    &mut args.ca_cert
                } else {
                    &mut args.api_key_file
                };
                if let Some(path) = slot.as_ref().filter(|p| !p.as_os_str().is_empty()) {
                    values.insert(
                        key,
                        (
                            path.display().to_string(),
                            origins.of(key.name(), key.flag()),
                        ),
                    );
                } else if key == Key::ApiKeyFile && env_key {
                    // The key itself is in the environment.
                } else if let Some((value, at)) = from_profile(key) {
                    *slot = Some(PathBuf::from(&value));
                    values.insert(key, (value, at));
                }
                continue;
            }
        };
        if let Some(value) = slot.as_ref().filter(|v| !v.is_empty()) {
            values.insert(key, (value.clone(), origins.of(key.name(), key.flag())));
        } else if let Some((value, at)) = from_profile(key) {
            *slot = Some(value.clone());
            values.insert(key, (value, at));
        }
    }
    Effective { loaded, values }
}

impl Effective {
    /// The settings the profile supplied that select the real API, when no
    /// API key is anywhere: the message for that usage error, which names
    /// the profile (so it is never mistaken for a flag left behind).
    pub fn keyless_profile(&self, have_key: bool) -> Option<String> {
        if have_key {
            return None;
        }
        let profile = self.loaded.profile.as_ref()?;
        let set: Vec<&str> = Key::ALL
            .into_iter()
            .filter(|key| {
                key.selects_the_api()
                    && matches!(self.values.get(key), Some((_, Source::File { .. })))
            })
            .map(Key::name)
            .collect();
        if set.is_empty() {
            return None;
        }
        Some(format!(
            "profile {} ({}) sets {} but no api_key_file, and neither {} nor --api-key-file \
             is given (the built-in simulator is used only when no profile sets any of \
             base_url, service, environment, org_id)",
            profile.name,
            profile.chosen_by,
            set.join(", "),
            crate::args::API_KEY_ENV
        ))
    }

    /// Where the API key file in use is named, when a profile names it.
    pub fn profile_key_file(&self) -> Option<(&str, &Source)> {
        match self.values.get(&Key::ApiKeyFile) {
            Some((path, at @ Source::File { .. })) => Some((path, at)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dir(PathBuf);

    impl Dir {
        fn new(tag: &str) -> Dir {
            let dir = std::env::temp_dir()
                .join(format!("coxedge-cli-profile-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Dir(dir)
        }

        fn file(&self, text: &str) -> PathBuf {
            let path = self.0.join("config.toml");
            std::fs::write(&path, text).unwrap();
            path
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn flag(name: &str) -> Option<(String, Source)> {
        Some((name.to_owned(), Source::Flag("--profile")))
    }

    fn load_file(path: &Path, named: Option<(String, Source)>) -> Result<Loaded, CliError> {
        load_from(
            Some((path.to_owned(), Source::Flag("--config"))),
            named,
            Some(Path::new("/home/u")),
        )
    }

    fn usage(result: Result<Loaded, CliError>) -> String {
        let error = result.expect_err("a usage error");
        assert_eq!(error.exit_code(), 2, "{error:?}");
        error.message().to_owned()
    }

    const FILE: &str = r#"# profiles
default_profile = "staging"

[profile.staging]
service = "edge-services"
environment = "staging"
api_key_file = "staging.key"

[profile.prod]
base_url = "https://portal.example/api/v1"
service = "edge-services"
environment = "prod"
org_id = "org-1"
proxy = "http://user:hunter2@proxy.corp:3128"
ca_cert = "~/corp-ca.pem"
"#;

    #[test]
    fn a_profile_is_read_with_its_lines_and_paths_made_absolute() {
        let dir = Dir::new("read");
        let path = dir.file(FILE);
        let loaded = load_file(&path, flag("prod")).unwrap();
        let profile = loaded.profile.unwrap();
        assert_eq!(profile.name, "prod");
        assert_eq!(profile.chosen_by, Source::Flag("--profile"));
        let (value, at) = &profile.values[&Key::OrgId];
        assert_eq!(value, "org-1");
        assert_eq!(
            at.to_string(),
            format!("profile prod ({}:13)", path.display())
        );
        assert_eq!(profile.values[&Key::CaCert].0, "/home/u/corp-ca.pem");

        // default_profile, and a relative key file beside the config file.
        let profile = load_file(&path, None).unwrap().profile.unwrap();
        assert_eq!(profile.name, "staging");
        assert_eq!(
            profile.chosen_by.to_string(),
            format!("{}:2", path.display())
        );
        assert_eq!(
            profile.values[&Key::ApiKeyFile].0,
            dir.0.join("staging.key").display().to_string()
        );
    }

    #[test]
    fn errors_name_the_file_and_the_line() {
        let dir = Dir::new("errors");
        let cases = [
            (
                "[profile.a]\nservice = \"x\"\nsevrice = \"y\"\n",
                ":3:1: unknown field `sevrice`",
            ),
            ("[profile.a]\nservice = \"x\n", ":2:"),
            (
                "[profile.a]\nservice = 3\n",
                ":2:11: invalid type: integer `3`",
            ),
            ("api_key = \"secret\"\n", ":1:1: unknown field `api_key`"),
            (
                "[profile.a]\nbase_url = \"ftp://x\"\n",
                ":2: base_url: must be an http",
            ),
            ("[profile.a]\n\nservice = \"\"\n", ":3: service: is empty"),
            (
                "[profile.a]\nproxy = \"socks5://u:hunter2@p\"\n",
                ":2: proxy: ",
            ),
            (
                "default_profile = \"b\"\n[profile.a]\n",
                ":1: there is no profile \"b\"",
            ),
        ];
        for (text, expected) in cases {
            let path = dir.file(text);
            let message = usage(load_file(
                &path,
                flag("a").filter(|_| !text.starts_with("default")),
            ));
            assert!(
                message.starts_with(&path.display().to_string()) && message.contains(expected),
                "{text:?}: {message}"
            );
            assert!(
                !message.contains("hunter2") && !message.contains("secret"),
                "{message}"
            );
        }
    }

    #[test]
    fn an_unknown_profile_is_an_error_listing_the_known_ones() {
        let dir = Dir::new("unknown");
        let path = dir.file(FILE);
        let message = usage(load_file(&path, flag("qa")));
        assert!(message.contains("no profile \"qa\""), "{message}");
        assert!(message.contains("--profile"), "{message}");
        assert!(message.contains("prod, staging"), "{message}");
    }

    #[test]
    fn a_missing_file_is_no_profile_unless_one_is_named() {
        let dir = Dir::new("missing");
        let path = dir.0.join("config.toml");
        let loaded = load_from(Some((path.clone(), Source::Default)), None, None).unwrap();
        assert!(loaded.profile.is_none() && !loaded.exists);
        let message = usage(load_from(
            Some((path.clone(), Source::Default)),
            flag("a"),
            None,
        ));
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains("does not exist"), "{message}");
        // A file named with --config must exist.
        let message = usage(load_file(&path, None));
        assert!(message.contains(&path.display().to_string()), "{message}");
    }

    #[test]
    fn the_default_path_follows_xdg_then_home() {
        let path = |xdg: Option<&str>, home: Option<&str>| {
            default_config_path(
                xdg.map(std::ffi::OsStr::new),
                home.map(std::ffi::OsStr::new),
            )
        };
        assert_eq!(
            path(Some("/x"), Some("/h")),
            Some(PathBuf::from("/x/coxedge-images/config.toml"))
        );
        for xdg in [None, Some(""), Some("relative")] {
            assert_eq!(
                path(xdg, Some("/h")),
                Some(PathBuf::from("/h/.config/coxedge-images/config.toml"))
            );
        }
        assert_eq!(path(None, None), None);
    }

    #[test]
    fn flags_and_variables_win_over_the_profile() {
        let dir = Dir::new("apply");
        let path = dir.file(FILE);
        let loaded = load_file(&path, flag("prod")).unwrap();
        let mut args = GlobalArgs {
            service: Some("from-flag".into()),
            environment: Some(String::new()),
            ..GlobalArgs::default()
        };
        let mut origins = Origins::default();
        origins
            .0
            .insert("service".into(), Source::Env("COXEDGE_SERVICE"));
        let effective = apply(loaded, &mut args, &origins, false);
        assert_eq!(args.service.as_deref(), Some("from-flag"));
        assert_eq!(
            effective.values[&Key::Service].1,
            Source::Env("COXEDGE_SERVICE")
        );
        // Empty counts as not given.
        assert_eq!(args.environment.as_deref(), Some("prod"));
        assert_eq!(args.ca_cert, Some(PathBuf::from("/home/u/corp-ca.pem")));
        assert!(matches!(
            effective.values[&Key::OrgId].1,
            Source::File { line: 13, .. }
        ));
        assert!(!effective.values.contains_key(&Key::ApiKeyFile));
    }

    #[test]
    fn the_profiles_key_file_gives_way_to_the_environments_key() {
        let dir = Dir::new("key");
        let path = dir.file(FILE);
        let loaded = load_file(&path, flag("staging")).unwrap();
        let mut args = GlobalArgs::default();
        let effective = apply(loaded.clone(), &mut args, &Origins::default(), true);
        assert_eq!(args.api_key_file, None);
        assert!(effective.profile_key_file().is_none());

        let mut args = GlobalArgs::default();
        let effective = apply(loaded, &mut args, &Origins::default(), false);
        assert!(args.api_key_file.is_some());
        assert!(effective.profile_key_file().is_some());
        assert!(effective.keyless_profile(true).is_none());
        let message = effective.keyless_profile(false).unwrap();
        assert!(message.contains("profile staging"), "{message}");
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_may_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = Dir::new("mode");
        let key = dir.0.join("k");
        std::fs::write(&key, "secret").unwrap();
        let at = Source::File {
            file: dir.0.join("config.toml"),
            line: 7,
            profile: Some("p".into()),
        };
        for mode in [0o644, 0o640, 0o604, 0o660, 0o602] {
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(mode)).unwrap();
            let message = check_key_file_mode(&key, &at)
                .unwrap_err()
                .message()
                .to_owned();
            assert!(message.contains("config.toml:7"), "{message}");
            assert!(message.contains(&format!("{:03o}", mode)), "{message}");
            assert!(!message.contains("secret"), "{message}");
        }
        for mode in [0o600, 0o400] {
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(mode)).unwrap();
            check_key_file_mode(&key, &at).unwrap();
        }
    }

    #[test]
    fn lines_and_columns_count_from_one() {
        assert_eq!(line_column("a\nbc\n", 0), (1, 1));
        assert_eq!(line_column("a\nbc\n", 3), (2, 2));
        assert_eq!(line_column("a\né = x", 4), (2, 2));
        assert_eq!(line_column("a\né = x", 5), (2, 3));
        assert_eq!(line_column("a", 99), (1, 2));
    }
}
