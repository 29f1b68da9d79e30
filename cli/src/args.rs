//! The command line, as clap parses it.
//!
//! Parsing only: values are checked for shape here (ids, references, numbers)
//! so that a malformed one is a usage error (exit 2) before anything runs.
//! What the settings *mean* together (flags against environment against the
//! built-in simulator) is decided in [`crate::config`].

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use coxedge_images::{ImageId, ImageReference, ImageType, TaskId};
use coxedge_images_simulator::Fault;

use crate::faults;

/// The environment variable holding the API key. The key is never taken from
/// a flag value, so it does not show in shell history or `ps`.
pub const API_KEY_ENV: &str = "COXEDGE_API_KEY";

/// Lists, inspects, resolves, creates and deletes Cox Edge images.
///
/// The API key is read from the file given with --api-key-file, else from
/// COXEDGE_API_KEY, else from the file a profile's api_key_file names. Each
/// setting comes from its flag, else its variable, else the profile (see
/// --profile and `config show`), else its default. With none of a key, a
/// base URL, a service, an environment or an org id, the command runs
/// against a built-in simulator of the API, so every command can be tried
/// offline.
#[derive(Debug, Parser)]
#[command(
    name = "coxedge-images",
    version,
    about,
    max_term_width = 100,
    args_override_self = true
)]
pub struct Cli {
    /// Where and how to reach the API.
    #[command(flatten)]
    pub global: GlobalArgs,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options that apply to every command.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// Base URL of the API; the real API's when not given.
    #[arg(
        long,
        global = true,
        env = "COXEDGE_BASE_URL",
        value_name = "URL",
        help = "Base URL of the API [default: https://portal.coxedge.com/api/v1]"
    )]
    pub base_url: Option<String>,

    /// Service code, e.g. edge-services
    #[arg(long, global = true, env = "COXEDGE_SERVICE", value_name = "CODE")]
    pub service: Option<String>,

    /// Environment name
    #[arg(long, global = true, env = "COXEDGE_ENVIRONMENT", value_name = "NAME")]
    pub environment: Option<String>,

    /// Sub-organisation id, sent as org_id
    #[arg(long, global = true, env = "COXEDGE_ORG_ID", value_name = "ID")]
    pub org_id: Option<String>,

    /// Read the API key from this file (one trailing newline is ignored)
    /// instead of COXEDGE_API_KEY
    #[arg(long, global = true, value_name = "PATH")]
    pub api_key_file: Option<PathBuf>,

    /// HTTP client to use
    #[arg(long, global = true, value_enum, default_value_t = TransportKind::Ureq)]
    pub transport: TransportKind,

    /// Time allowed for each HTTP request, body included [default: 30]
    #[arg(long, global = true, value_name = "SECONDS", value_parser = parse_seconds)]
    pub timeout: Option<Duration>,

    /// Print JSON on stdout instead of tables
    #[arg(long, global = true)]
    pub json: bool,

    /// Log each HTTP request on stderr (method, path, status, time,
    /// attempt); -vv adds the headers, with the API key and other
    /// credentials redacted. RUST_LOG, when set, chooses what is logged
    #[arg(short = 'v', long = "verbose", global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// HTTP proxy for every request, http://[USER:PASSWORD@]HOST[:PORT], or
    /// "none" to connect directly [default: HTTPS_PROXY, HTTP_PROXY,
    /// ALL_PROXY and NO_PROXY, read as curl reads them]
    #[arg(
        long,
        global = true,
        env = "COXEDGE_PROXY",
        value_name = "URL",
        // The value may hold a password: never shown in --help.
        hide_env_values = true
    )]
    pub proxy: Option<String>,

    /// Also trust the CA certificates in this PEM file (a private CA, a
    /// TLS-inspecting gateway)
    #[arg(long, global = true, env = "COXEDGE_CA_CERT", value_name = "PATH")]
    pub ca_cert: Option<PathBuf>,

    /// Take the settings not given as flags or variables from this profile
    /// of the config file [default: the file's default_profile, if any]
    #[arg(long, global = true, env = PROFILE_ENV, value_name = "NAME")]
    pub profile: Option<String>,

    /// The config file holding the profiles [default:
    /// $XDG_CONFIG_HOME/coxedge-images/config.toml, else
    /// ~/.config/coxedge-images/config.toml]
    #[arg(long, global = true, env = CONFIG_ENV, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Show no progress (task waits, pages read, retries) on stderr;
    /// errors are still shown
    #[arg(short = 'q', long, global = true)]
    pub quiet: bool,
}

/// The environment variable naming the profile, as --profile does.
pub const PROFILE_ENV: &str = "COXEDGE_PROFILE";

/// The environment variable naming the config file, as --config does.
pub const CONFIG_ENV: &str = "COXEDGE_CONFIG";

/// The HTTP client behind the commands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum TransportKind {
    /// Blocking, with ureq.
    #[default]
    Ureq,
    /// Async, with hyper on a tokio runtime.
    Hyper,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the environment's images.
    List(ListArgs),

    /// Show one image.
    Get {
        /// The image id, stackId/family/tag
        #[arg(value_name = "ID")]
        id: ImageId,
    },

    /// Show the image a workload reference names.
    ///
    /// With a tag, that image; without, the newest READY image of the family.
    Resolve {
        /// The reference, slug/family or slug/family:tag, e.g. cox-edge/ubuntu
        #[arg(value_name = "REFERENCE")]
        reference: ImageReference,
    },

    /// Create a custom image from a workload instance.
    Create(CreateArgs),

    /// Delete an image.
    ///
    /// At a terminal, the image is shown and the deletion asked to be
    /// confirmed; elsewhere (a script, a pipe) --yes is required.
    Delete {
        /// The image id, stackId/family/tag
        #[arg(value_name = "ID")]
        id: ImageId,

        /// Delete without asking (required when stdin or stderr is not a
        /// terminal)
        #[arg(short = 'y', long)]
        yes: bool,

        #[command(flatten)]
        wait: WaitArgs,
    },

    /// Show (or wait for) a task started by create or delete.
    Task {
        /// The task id that create or delete printed
        #[arg(value_name = "TASK_ID")]
        id: TaskId,

        #[command(flatten)]
        wait: WaitArgs,
    },

    /// Serve the simulator of the API until SIGINT or SIGTERM.
    ///
    /// Prints COXEDGE_BASE_URL, COXEDGE_API_KEY (made up for this run) and,
    /// with --tls, COXEDGE_CA_CERT on stdout as lines a shell can source;
    /// any service and environment are answered.
    Simulator(SimulatorArgs),

    /// Show the settings in effect and where each came from.
    #[command(subcommand)]
    Config(ConfigCommand),

    /// Print a shell completion script.
    ///
    /// bash: coxedge-images completions bash > ~/.local/share/bash-completion/completions/coxedge-images
    ///
    /// zsh: coxedge-images completions zsh > "${fpath[1]}/_coxedge-images"
    ///
    /// fish: coxedge-images completions fish > ~/.config/fish/completions/coxedge-images.fish
    Completions {
        /// The shell to complete for
        #[arg(value_enum, value_name = "SHELL")]
        shell: clap_complete::Shell,
    },

    /// Print the manual page (roff), made from the same definitions as --help.
    ///
    /// coxedge-images man > ~/.local/share/man/man1/coxedge-images.1
    ///
    /// With --dir, one page per command is written there instead
    /// (coxedge-images.1, coxedge-images-delete.1, ...).
    Man {
        /// Write every page (the command's and each subcommand's) into
        /// this directory
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// `config`: what the settings are.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum ConfigCommand {
    /// Show each setting in effect (flags, environment, profile, defaults)
    /// and where it came from; never the API key.
    Show,
}

/// `list`: server-side options and client-side filters.
#[derive(Debug, Clone, Default, Args)]
pub struct ListArgs {
    /// Only Cox's own images (asked of the server)
    #[arg(long)]
    pub system_only: bool,

    /// Only this image type (asked of the server)
    #[arg(long, value_enum, value_name = "TYPE")]
    pub image_type: Option<ImageTypeArg>,

    /// Only this family
    #[arg(long, value_name = "F")]
    pub family: Option<String>,

    /// Only this tag
    #[arg(long, value_name = "T")]
    pub tag: Option<String>,

    /// Only this status, e.g. READY (case-insensitive)
    #[arg(long, value_name = "S")]
    pub status: Option<String>,

    /// Ask for pages of N images (one request each; every page is read)
    /// instead of the server's own page size
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub page_size: Option<u32>,
}

/// The `--image-type` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImageTypeArg {
    /// Cox's own images.
    Default,
    /// Images made from workload instances.
    Custom,
}

impl From<ImageTypeArg> for ImageType {
    fn from(arg: ImageTypeArg) -> Self {
        match arg {
            ImageTypeArg::Default => ImageType::Default,
            ImageTypeArg::Custom => ImageType::Custom,
        }
    }
}

/// `create`: the new image and the instance it is made from.
#[derive(Debug, Clone, Args)]
pub struct CreateArgs {
    /// The new image's family
    #[arg(long, value_name = "F")]
    pub family: String,

    /// The new image's tag
    #[arg(long, value_name = "T")]
    pub tag: String,

    /// The workload the instance belongs to
    #[arg(long, value_name = "W")]
    pub workload_id: String,

    /// The instance to image
    #[arg(long, value_name = "I")]
    pub instance_name: String,

    /// Free text
    #[arg(long, value_name = "D")]
    pub description: Option<String>,

    #[command(flatten)]
    pub wait: WaitArgs,
}

/// Waiting for a task.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct WaitArgs {
    /// Wait for the task to end, showing progress on stderr
    #[arg(long)]
    pub wait: bool,

    /// With --wait: give up after this long [default: 300]
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds, requires = "wait")]
    pub wait_timeout: Option<Duration>,
}

/// `simulator`: where to listen and what to serve.
#[derive(Debug, Clone, Args)]
pub struct SimulatorArgs {
    /// Port to listen on (0 picks a free one)
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub port: u16,

    /// Address to listen on; anything but loopback lets other machines in,
    /// kept out only by the API key
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    pub bind: IpAddr,

    /// Serve HTTPS with a CA generated at start (its file is printed as
    /// COXEDGE_CA_CERT)
    #[arg(long)]
    pub tls: bool,

    /// Start with the images of this JSON file, in the API's list shape
    /// {"data": [...], "metadata": ...}, instead of the two built in
    #[arg(long, value_name = "FILE")]
    pub images: Option<PathBuf>,

    /// Spoil some answers (repeatable), e.g. 503:5% or delay:200ms:0.5
    #[arg(
        long = "fault",
        value_name = "SPEC",
        value_parser = faults::parse_fault,
        long_help = faults::HELP
    )]
    pub faults: Vec<Fault>,

    /// Seed of the random draws of --fault chances, to repeat a run
    /// [default: a new one each run]
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// How many polls of a task answer PENDING before it ends
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub task_polls: u32,

    /// How tasks end
    #[arg(long, value_enum, value_name = "HOW", default_value_t = OutcomeArg::Success)]
    pub task_outcome: OutcomeArg,

    /// The JSON shape of GET /tasks/:id answers
    #[arg(long, value_enum, value_name = "SHAPE", default_value_t = ShapeArg::Data)]
    pub task_shape: ShapeArg,
}

/// The `--task-outcome` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutcomeArg {
    /// SUCCESS, and the image is created or deleted
    Success,
    /// FAILURE (what the public clients recognise); nothing changes
    Failure,
    /// FAILED (the documentation's spelling); nothing changes
    Failed,
}

/// The `--task-shape` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShapeArg {
    /// {"data": {"id", "status", "created", "result"}}, as the public clients read it
    Data,
    /// {"taskId", "taskStatus", "result"}, as the documentation shows it
    TopLevel,
}

/// The longest `--timeout` or `--wait-timeout` accepted: 24 hours.
const MAX_SECONDS: f64 = 86_400.0;

/// A positive number of seconds (fractions allowed), at most
/// [`MAX_SECONDS`]: a larger one is surely a mistake, and would overflow
/// deadline arithmetic in the HTTP clients and the poller.
fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    // Also refuses NaN, which no comparison accepts.
    if seconds.is_nan() || seconds <= 0.0 {
        return Err("must be more than 0 seconds".to_owned());
    }
    if seconds > MAX_SECONDS {
        return Err(format!("must be at most {MAX_SECONDS} seconds (24 hours)"));
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("{text:?} is not a number of seconds"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn seconds_are_positive_and_finite() {
        assert_eq!(parse_seconds("2.5"), Ok(Duration::from_millis(2500)));
        assert_eq!(parse_seconds("10"), Ok(Duration::from_secs(10)));
        for bad in ["0", "-1", "-0", "NaN", "inf", "-inf", "1e300", "soon", ""] {
            assert!(parse_seconds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn seconds_are_at_most_a_day() {
        assert_eq!(parse_seconds("86400"), Ok(Duration::from_secs(86_400)));
        for long in ["86400.5", "100000", "1e19", "18446744073709551616"] {
            let message = parse_seconds(long).unwrap_err();
            assert!(message.contains("86400"), "{long}: {message}");
        }
    }

    #[test]
    fn global_options_go_anywhere() {
        let cli = Cli::try_parse_from(["x", "list", "--json", "--transport", "hyper"]).unwrap();
        assert!(cli.global.json);
        assert_eq!(cli.global.transport, TransportKind::Hyper);
    }

    #[test]
    fn proxy_and_ca_cert_are_global_options() {
        let cli = Cli::try_parse_from(["x", "list", "--proxy", "none", "--ca-cert", "/tmp/ca.pem"])
            .unwrap();
        assert_eq!(cli.global.proxy.as_deref(), Some("none"));
        assert_eq!(cli.global.ca_cert, Some(PathBuf::from("/tmp/ca.pem")));
    }

    #[test]
    fn there_is_no_api_key_flag() {
        assert!(Cli::try_parse_from(["x", "--api-key", "k", "list"]).is_err());
    }
}
