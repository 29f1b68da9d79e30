//! `coxedge-images`: the command-line client for the Cox Edge images API.
//!
//! Run `coxedge-images --help`. The modules: [`args`] (what clap parses),
//! [`config`] (flags against environment against the built-in simulator),
//! [`client`] (one client type over either transport), [`commands`] (what
//! each command does), [`output`] (tables, blocks, JSON), [`error`] (exit
//! statuses), [`logs`] (`-v` and `RUST_LOG`), [`run`] (the whole flow) and
//! [`serve`] (the `simulator` command).
#![forbid(unsafe_code)]

mod args;
mod client;
mod commands;
mod config;
mod error;
mod logs;
mod output;
mod run;
mod serve;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    logs::init(cli.global.verbose);
    run::run(&cli, std::env::var_os(args::API_KEY_ENV))
}
