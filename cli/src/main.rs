//! `coxedge-images`: the command-line client for the Cox Edge images API.
//!
//! Run `coxedge-images --help`. The modules: [`args`] (what clap parses),
//! [`config`] (flags against environment against the built-in simulator),
//! [`client`] (one client type over either transport), [`commands`] (what
//! each command does), [`output`] (tables, blocks, JSON), [`error`] (exit
//! statuses), [`logs`] (`-v` and `RUST_LOG`), [`profile`] (the config
//! file's profiles), [`progress`] (task waits and pages on stderr),
//! [`confirm`] (the question `delete` asks), [`show`] (`config show`), [`completions`]
//! (`completions` and `man`), [`run`] (the whole flow) and [`serve`] (the
//! `simulator` command).
#![forbid(unsafe_code)]

mod args;
mod client;
mod commands;
mod completions;
mod config;
mod confirm;
mod error;
mod logs;
mod output;
mod profile;
mod progress;
mod run;
mod serve;
mod show;

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
