//! From parsed arguments to an exit status: read the key, decide the target
//! (starting the built-in simulator if that is the decision), connect, run
//! the command, report any error.

use std::ffi::OsString;
use std::process::ExitCode;

use coxedge_images::Endpoint;
use coxedge_images::simulator::Simulator;

use crate::args::{Cli, Command};
use crate::client::{self, Reporter};
use crate::commands;
use crate::config::{self, RawKey, Target};
use crate::error::CliError;
use crate::output;
use crate::serve;

/// Runs `cli` with `env_key` as the value of `COXEDGE_API_KEY`, and returns
/// the exit status: 0 on success, 1 when the API, the network or a task
/// failed, 2 for usage and configuration errors.
pub fn run(cli: &Cli, env_key: Option<OsString>) -> ExitCode {
    // Serving the simulator needs no key and no target.
    if let Command::Simulator(args) = &cli.command {
        return match serve::serve(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => error.report(None),
        };
    }
    let key = match config::read_api_key(cli.global.api_key_file.as_deref(), env_key) {
        Ok(key) => key,
        Err(error) => return error.report(None),
    };
    // Kept only to scrub it from error messages, should a server echo it.
    let secret = key.as_ref().map(|k| k.text.clone());
    match execute(cli, key) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => error.report(secret.as_deref()),
    }
}

fn execute(cli: &Cli, key: Option<RawKey>) -> Result<(), CliError> {
    // Bound before the client, so the simulator (if any) stops after it.
    let (endpoint, simulator) = connect_target(config::resolve(&cli.global, key)?)?;
    let transport = config::transport(&cli.global, simulator.is_some())?;
    let reporter = Reporter::default();
    let client = client::connect(cli.global.transport, endpoint, transport, reporter.clone())?;
    commands::execute(&client, &reporter, &cli.command, cli.global.json)
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
            output::eprint_line(&format!(
                "coxedge-images: no API key, base URL, service, environment or org id given: \
                 using the built-in simulator at {} (set COXEDGE_API_KEY, --service and --environment to \
                 use the real API)",
                simulator.base_url()
            ));
            Ok((simulator.endpoint(), Some(simulator)))
        }
    }
}
