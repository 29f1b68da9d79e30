//! `completions SHELL` and `man`: both generated from the clap definitions
//! in [`crate::args`], the ones the parser uses, so neither can drift from
//! what the command accepts.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::args::Cli;
use crate::commands::print;
use crate::error::CliError;

/// The name the scripts complete and the manual page documents.
const NAME: &str = "coxedge-images";

/// Prints the completion script for `shell` on stdout.
pub fn completions(shell: Shell) -> Result<(), CliError> {
    print(&script(shell))
}

/// The completion script for `shell`.
fn script(shell: Shell) -> String {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), NAME, &mut script);
    let script = String::from_utf8_lossy(&script).into_owned();
    match shell {
        // clap_complete (up to 4.6.12 at least, clap issue 6421) spells a
        // hyphenated command's state two ways in its bash script: the loop
        // over the words sets `coxedge__images__subcmd__delete`, the case
        // arms test `coxedge__subcmd__images__subcmd__delete`, so nothing
        // after a subcommand ever completes. One spelling for both.
        Shell::Bash => script.replace("coxedge__subcmd__images", "coxedge__images"),
        _ => script,
    }
}

/// Prints the manual page, section 1, as roff on stdout.
pub fn man() -> Result<(), CliError> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command().name(NAME))
        .render(&mut page)
        .map_err(|e| CliError::failed(format!("cannot render the manual page: {e}")))?;
    print(&String::from_utf8_lossy(&page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_gets_a_script_naming_the_subcommands() {
        for shell in [
            Shell::Bash,
            Shell::Zsh,
            Shell::Fish,
            Shell::PowerShell,
            Shell::Elvish,
        ] {
            let script = script(shell);
            for word in ["list", "delete", "--profile", "--yes"] {
                assert!(script.contains(word), "{shell}: no {word}");
            }
        }
    }

    #[test]
    fn the_manual_page_documents_the_commands() {
        let mut page = Vec::new();
        clap_mangen::Man::new(Cli::command().name(NAME))
            .render(&mut page)
            .unwrap();
        let page = String::from_utf8(page).unwrap();
        assert!(page.starts_with(".ie"), "{page}");
        assert!(page.contains(".TH coxedge-images 1"), "{page}");
        for word in ["delete", "completions", "COXEDGE_SERVICE"] {
            assert!(page.contains(word), "no {word}");
        }
    }
}
