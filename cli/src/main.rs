//! `coxedge-images`: the command-line client for the Cox Edge images API.
//!
//! Run `coxedge-images --help`. The modules, each naming only those below
//! it (no import loop; `tests/layers.rs` checks):
//!
//! - [`run`]: the whole flow, from parsed arguments to an exit status;
//! - [`commands`] (what each API command does), [`serve`] (the `simulator`
//!   command), [`show`] (`config show`), [`completions`] (`completions` and
//!   `man`);
//! - [`client`] (one client type over either transport), [`config`] (flags
//!   against environment against the built-in simulator), [`profile`] (the
//!   config file's profiles), [`logs`] (`-v` and `RUST_LOG`);
//! - [`progress`] (task waits and pages on stderr), [`confirm`] (the
//!   question `delete` asks), [`terminal`] (tty detection, the progress
//!   line's place on screen, every write to stdout and stderr);
//! - [`args`] (what clap parses, command logic aside), [`faults`] (the
//!   `--fault` specs), [`files`] (reading the small files given);
//! - [`error`] (exit statuses) and [`format`] (tables, blocks, JSON: text
//!   only, no terminal I/O).
#![forbid(unsafe_code)]

mod args;
mod client;
mod commands;
mod completions;
mod config;
mod confirm;
mod error;
mod faults;
mod files;
mod format;
mod logs;
mod profile;
mod progress;
mod run;
mod serve;
mod show;
mod terminal;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

fn main() -> ExitCode {
    // Parsed in two steps so that where each value came from (a flag or
    // the environment) is kept for profiles and `config show`.
    let matches = args::Cli::command().get_matches();
    let cli = args::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let origins = profile::Origins::from_matches(&matches);
    logs::init(cli.global.verbose);
    run::run(&cli, &origins, std::env::var_os(args::API_KEY_ENV))
}
