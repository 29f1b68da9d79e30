//! `completions SHELL` and `man`: both generated from the clap definitions
//! in [`crate::args`], the ones the parser uses, so neither can drift from
//! what the command accepts.

use std::path::Path;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::args::Cli;
use crate::error::CliError;
use crate::terminal::print;

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

/// The command as the manual pages describe it: the same definitions, with
/// a one-line summary for the NAME section (the crate's description is
/// about the library).
fn documented() -> clap::Command {
    Cli::command()
        .name(NAME)
        .about("list, inspect, resolve, create and delete Cox Edge images")
}

/// Prints the manual page, section 1, as roff on stdout; or, given `dir`,
/// writes one page per command there (`coxedge-images.1`,
/// `coxedge-images-delete.1`, …) and prints their paths.
pub fn man(dir: Option<&Path>) -> Result<(), CliError> {
    let Some(dir) = dir else {
        return print(&page());
    };
    let cannot = |e: std::io::Error| {
        CliError::failed(format!(
            "cannot write the manual pages into {}: {e}",
            dir.display()
        ))
    };
    clap_mangen::generate_to(documented(), dir).map_err(cannot)?;
    let mut written: Vec<String> = std::fs::read_dir(dir)
        .map_err(cannot)?
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            (name.starts_with(NAME) && name.ends_with(".1"))
                .then(|| dir.join(name).display().to_string())
        })
        .collect();
    written.sort();
    print(&(written.join("\n") + "\n"))
}

/// The command's own page.
fn page() -> String {
    let mut page = Vec::new();
    // Rendering into memory cannot fail.
    let _ = clap_mangen::Man::new(documented()).render(&mut page);
    String::from_utf8_lossy(&page).into_owned()
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
            for word in ["list", "delete", "profile", "yes", "completions"] {
                assert!(script.contains(word), "{shell}: no {word}");
            }
        }
    }

    #[test]
    fn the_manual_page_documents_the_commands() {
        let page = page();
        assert!(page.contains(".TH coxedge-images 1"), "{page}");
        assert!(
            page.contains("coxedge\\-images \\- list, inspect"),
            "{page}"
        );
        for word in [
            "delete",
            "completions",
            "COXEDGE_SERVICE",
            "COXEDGE_PROFILE",
        ] {
            assert!(page.contains(word), "no {word}");
        }
    }
}
