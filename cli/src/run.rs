//! From parsed arguments to an exit status: read the config file's profile
//! and the key, decide the target (starting the built-in simulator if that
//! is the decision), connect, run the command, report any error.

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

use coxedge_images::Endpoint;
use coxedge_images_simulator::Simulator;

use crate::args::{Cli, Command, GlobalArgs};
use crate::client;
use crate::commands;
use crate::completions;
use crate::config::{self, KeySource, RawKey, Target};
use crate::error::CliError;
use crate::profile::{self, Effective, Origins};
use crate::progress::{Mode, Progress};
use crate::serve;
use crate::show;
use crate::terminal;

/// Runs `cli` with `env_key` as the value of `COXEDGE_API_KEY` and
/// `origins` saying which options came from flags and which from the
/// environment, and returns the exit status: 0 on success, 1 when the API,
/// the network or a task failed, 2 for usage and configuration errors.
pub fn run(cli: &Cli, origins: &Origins, env_key: Option<OsString>) -> ExitCode {
    // Serving the simulator, completions and the manual page need no key,
    // no profile and no target.
    let standalone = match &cli.command {
        Command::Simulator(args) => Some(serve::serve(args)),
        Command::Completions { shell } => Some(completions::completions(*shell)),
        Command::Man { dir } => Some(completions::man(dir.as_deref())),
        _ => None,
    };
    if let Some(result) = standalone {
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => terminal::report(&error, None),
        };
    }
    let mut global = cli.global.clone();
    let (effective, key) = match settings(&mut global, origins, env_key) {
        Ok(settings) => settings,
        Err(error) => return terminal::report(&error, None),
    };
    // Kept only to scrub it from error messages, should a server echo it.
    let secret = key.as_ref().map(|k| k.text.clone());
    let result = match &cli.command {
        Command::Config(_) => show::show(&effective, &global, origins, key),
        _ => execute(cli, &global, key),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => terminal::report(&error, secret.as_deref()),
    }
}

/// Applies the profile to `global` and reads the API key: from
/// `--api-key-file`, else `COXEDGE_API_KEY`, else the profile's
/// `api_key_file` (which group and others must not be able to read).
fn settings(
    global: &mut GlobalArgs,
    origins: &Origins,
    env_key: Option<OsString>,
) -> Result<(Effective, Option<RawKey>), CliError> {
    let loaded = profile::load(global, origins)?;
    let effective = profile::apply(loaded, global, origins, env_key.is_some());
    let key = match effective.profile_key_file() {
        Some((path, at)) => {
            profile::check_key_file_mode(Path::new(path), at)?;
            let key = config::read_api_key(Some(Path::new(path)), None)
                .map_err(|e| CliError::usage(format!("{at}: {}", e.message())))?;
            key.map(|key| RawKey {
                source: KeySource::Profile,
                ..key
            })
        }
        None => config::read_api_key(global.api_key_file.as_deref(), env_key)?,
    };
    if let Some(message) = effective.keyless_profile(key.is_some()) {
        return Err(CliError::usage(message));
    }
    Ok((effective, key))
}

fn execute(cli: &Cli, global: &GlobalArgs, key: Option<RawKey>) -> Result<(), CliError> {
    commands::preflight(&cli.command)?;
    // Bound before the client, so the simulator (if any) stops after it.
    let (endpoint, simulator) = connect_target(config::resolve(global, key)?)?;
    let transport = config::transport(global, simulator.is_some())?;
    let progress = Progress::new(Mode::detect(global.quiet));
    let client = client::connect(global.transport, endpoint, transport, progress.clone())?;
    commands::execute(&client, &progress, &cli.command, global.json)
}

/// The endpoint to talk to, starting the built-in simulator (and saying so,
/// in one stderr line) when that is the target. The simulator runs until
/// the returned handle is dropped.
fn connect_target(target: Target) -> Result<(Endpoint, Option<Simulator>), CliError> {
    match target {
        Target::Api(endpoint) => Ok((*endpoint, None)),
        Target::Simulator => {
            let simulator = Simulator::builder().build().map_err(|e| {
                CliError::failed(format!("cannot start the built-in simulator: {e}"))
            })?;
            terminal::eprint_line(&format!(
                "coxedge-images: no API key, base URL, service, environment or org id given: \
                 using the built-in simulator at {} (set COXEDGE_API_KEY, --service and --environment to \
                 use the real API)",
                simulator.base_url()
            ));
            Ok((simulator.endpoint(), Some(simulator)))
        }
    }
}
