//! `coxedge-images simulator`: the built-in simulator as a server, for
//! scripts and programs in any language, until SIGINT or SIGTERM.
//!
//! On start it prints, on stdout, the lines a shell can `source`:
//! `COXEDGE_BASE_URL=…`, `COXEDGE_API_KEY=…` and, with `--tls`,
//! `COXEDGE_CA_CERT=…` (the generated CA, written to a file in a private
//! temporary directory that is removed on exit). The key is made up at
//! start, so no real key is ever printed.
//!
//! Signals are caught with tokio's `signal` feature: tokio already runs the
//! simulator, so this adds only `signal-hook-registry` (tokio's own), where
//! `ctrlc` would be a crate more with its own thread.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use coxedge_images::Image;
use coxedge_images_simulator::{Simulator, TaskOutcome, TaskShape};

use crate::args::{OutcomeArg, ShapeArg, SimulatorArgs};
use crate::error::CliError;
use crate::files::read_small_file;
use crate::format;
use crate::terminal::{self, print};

/// The longest `--images` file accepted, in bytes.
const MAX_IMAGES_FILE: u64 = 64 * 1024 * 1024;

/// Serves until SIGINT or SIGTERM, then stops the server, removes the CA
/// file and returns.
pub fn serve(args: &SimulatorArgs) -> Result<(), CliError> {
    let images = args.images.as_deref().map(load_images).transpose()?;
    let mut builder = Simulator::builder()
        .random_api_key()
        .tls(args.tls)
        .bind(SocketAddr::new(args.bind, args.port))
        .task_polls(args.task_polls)
        .task_outcome(match args.task_outcome {
            OutcomeArg::Success => TaskOutcome::Success,
            OutcomeArg::Failure => TaskOutcome::Failure,
            OutcomeArg::Failed => TaskOutcome::Failed,
        })
        .task_shape(match args.task_shape {
            ShapeArg::Data => TaskShape::Data,
            ShapeArg::TopLevel => TaskShape::TopLevel,
        });
    if let Some(images) = images {
        builder = builder.images(images);
    }
    for fault in &args.faults {
        builder = builder.fault(fault.clone());
    }
    if let Some(seed) = args.seed {
        builder = builder.random_seed(seed);
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::failed(format!("cannot start the tokio runtime: {e}")))?;
    // Caught before anything is printed, so that a signal sent as soon as
    // the lines are read stops the server cleanly instead of killing it.
    let stop = {
        let _context = runtime.enter();
        Stop::install()
            .map_err(|e| CliError::failed(format!("cannot catch SIGINT and SIGTERM: {e}")))?
    };
    let simulator = builder
        .build()
        .map_err(|e| CliError::failed(format!("cannot start the simulator: {e}")))?;
    let ca_file = simulator
        .ca_certificate_pem()
        .map(|pem| CaFile::write(&pem))
        .transpose()?;

    let mut lines = format!(
        "COXEDGE_BASE_URL={}\nCOXEDGE_API_KEY={}\n",
        simulator.base_url(),
        simulator.api_key()
    );
    if let Some(ca) = &ca_file {
        lines.push_str(&format!("COXEDGE_CA_CERT={}\n", ca.shell_word()?));
    }
    // Flushed at once, so a reader sees them; a closed stdout is not fatal
    // (the server still runs until stopped).
    print(&lines)?;
    terminal::eprint_line(&format!(
        "coxedge-images: simulator serving {} for any service and environment \
         (e.g. --service {} --environment {}); stop it with Ctrl-C or SIGTERM",
        simulator.base_url(),
        coxedge_images_simulator::SERVICE,
        coxedge_images_simulator::ENVIRONMENT,
    ));

    runtime.block_on(stop.wait());
    // Stops the server (its thread is joined) before the CA file goes.
    drop(simulator);
    drop(ca_file);
    Ok(())
}

/// SIGINT and SIGTERM, caught.
#[cfg(unix)]
struct Stop {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Stop {
    /// Must run inside the runtime's context.
    fn install() -> io::Result<Stop> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Stop {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

/// Ctrl-C, where there are no Unix signals.
#[cfg(not(unix))]
struct Stop;

#[cfg(not(unix))]
impl Stop {
    fn install() -> io::Result<Stop> {
        Ok(Stop)
    }

    async fn wait(self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The CA certificate in a directory of its own (mode 0700 on Unix), both
/// removed when dropped.
struct CaFile {
    dir: PathBuf,
    path: PathBuf,
}

impl CaFile {
    fn write(pem: &str) -> Result<CaFile, CliError> {
        let cannot =
            |e: io::Error| CliError::failed(format!("cannot write the CA certificate file: {e}"));
        let dir = std::env::temp_dir().join(format!(
            "coxedge-images-simulator-{}-{}",
            std::process::id(),
            random_suffix()
        ));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&dir).map_err(cannot)?;
        let ca = CaFile {
            path: dir.join("ca.pem"),
            dir,
        };
        std::fs::write(&ca.path, pem).map_err(cannot)?;
        Ok(ca)
    }

    /// The path as one shell word: as is when it has only safe characters,
    /// else in single quotes.
    fn shell_word(&self) -> Result<String, CliError> {
        let text = self.path.to_str().ok_or_else(|| {
            CliError::failed(format!(
                "the temporary directory's path is not UTF-8: {}",
                self.path.display()
            ))
        })?;
        Ok(shell_word(text))
    }
}

impl Drop for CaFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// 16 hex digits no other process could predict, for a private folder's
/// name (std's hasher keys are random per process).
fn random_suffix() -> String {
    use std::hash::BuildHasher;
    let hash =
        std::collections::hash_map::RandomState::new().hash_one(std::time::SystemTime::now());
    format!("{hash:016x}")
}

/// `text` as one shell word for `source`: unchanged when every character
/// is safe unquoted, else in single quotes (a quote inside as `'\''`).
fn shell_word(text: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "/._-+,:@%".contains(c);
    if !text.is_empty() && text.chars().all(safe) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Reads and decodes the `--images` file; errors name the file and the
/// JSON path that failed (exit 2). Only a regular file of at most
/// [`MAX_IMAGES_FILE`] bytes is read, so a FIFO or `/dev/zero` cannot hang
/// the command or fill memory.
fn load_images(path: &Path) -> Result<Vec<Image>, CliError> {
    let name = path.display();
    let bytes = read_small_file(path, "images file", MAX_IMAGES_FILE)?;
    decode_images(&bytes)
        .map_err(|why| CliError::usage(format!("the images file {name} {}", format::clean(&why))))
}

/// Decodes an images file as the client decodes a list answer (the same
/// checks); the error says where (a JSON path) and what.
fn decode_images(bytes: &[u8]) -> Result<Vec<Image>, String> {
    coxedge_images::decode_image_list(http::Response::new(bytes.to_vec()))
        .map(|list| list.images)
        .map_err(|e| match e.json_path() {
            Some(path) => format!("does not decode at JSON path `{path}`: {}", e.message()),
            None => format!("does not decode: {}", e.message()),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_files_decode_or_say_where_they_break() {
        let good = br#"{"data": [{"id": "s/f/t", "stackId": "s", "family": "f", "tag": "t",
            "slug": "mine", "createdAt": "2024-01-02T03:04:05Z", "status": "READY",
            "reference": "mine/f:t"}],
            "metadata": {"recordCount": 1}}"#;
        let images = decode_images(good).unwrap();
        assert_eq!(images.len(), 1);
        assert_eq!(images[0].id.as_str(), "s/f/t");
        assert_eq!(decode_images(br#"{"data": []}"#).unwrap(), vec![]);

        let bad_time = br#"{"data": [{"id": "s/f/t", "stackId": "s", "family": "f", "tag": "t",
            "slug": "mine", "createdAt": "yesterday", "status": "READY",
            "reference": "mine/f:t"}]}"#;
        let message = decode_images(bad_time).unwrap_err();
        assert!(message.contains("`data[0].createdAt`"), "{message}");
        let message = decode_images(br#"{"images": []}"#).unwrap_err();
        assert!(message.contains("missing field `data`"), "{message}");
        let message = decode_images(br#"{"data": []} x"#).unwrap_err();
        assert!(message.contains("trailing characters"), "{message}");
        assert!(decode_images(b"").is_err());
    }

    #[test]
    fn shell_words() {
        assert_eq!(shell_word("/tmp/x-1/ca.pem"), "/tmp/x-1/ca.pem");
        assert_eq!(shell_word("/tmp/my dir/ca.pem"), "'/tmp/my dir/ca.pem'");
        assert_eq!(shell_word("/tmp/it's"), r"'/tmp/it'\''s'");
        assert_eq!(shell_word("$(x)"), "'$(x)'");
    }
}
