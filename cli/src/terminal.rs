//! The terminal: whether stdin and stderr are one, the progress line's
//! place on screen, and every write to stdout and stderr.
//!
//! Every stderr line of the command (errors, retry notes, task statuses,
//! the `-v` request lines) goes through [`suspend`], which takes a progress
//! line, if one is on screen, off it while the line is written and puts it
//! back under it, so the two never garble. What the lines say is
//! [`crate::format`]'s; what the progress line shows is
//! [`crate::progress`]'s.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::{Mutex, MutexGuard, PoisonError};

use indicatif::ProgressBar;

use crate::error::CliError;
use crate::format;

/// Whether stderr is a terminal (a progress line can be redrawn there).
pub fn stderr_is_terminal() -> bool {
    io::stderr().is_terminal()
}

/// Whether a question can be asked: stdin and stderr are terminals (the
/// question goes to stderr, the answer comes from stdin).
pub fn interactive() -> bool {
    io::stdin().is_terminal() && io::stderr().is_terminal()
}

/// The progress line on screen, if any: [`suspend`] needs it wherever it is
/// called from (the log writer has no other way to find it).
static SHOWN: Mutex<Option<ProgressBar>> = Mutex::new(None);

fn shown() -> MutexGuard<'static, Option<ProgressBar>> {
    SHOWN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Registers `bar` as the progress line on screen, for [`suspend`].
pub fn show_bar(bar: &ProgressBar) {
    *shown() = Some(bar.clone());
}

/// Forgets the progress line on screen: it is leaving it.
pub fn hide_bar() {
    *shown() = None;
}

/// Runs `write` (which writes to stderr) with the progress line, if one is
/// shown, taken off the screen, and redraws the line after it.
pub fn suspend<R>(write: impl FnOnce() -> R) -> R {
    // Cloned out first: `write` must not run under this lock.
    let bar = shown().clone();
    match bar {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

/// stderr for the `-v` logger, through [`suspend`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Stderr;

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // The logger writes each event whole; so does this, in one go.
        suspend(|| io::stderr().lock().write_all(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Stderr {
    type Writer = Stderr;

    fn make_writer(&'a self) -> Stderr {
        Stderr
    }
}

/// Writes `line` and a newline on stderr, with every control character
/// replaced as [`format::clean`] does: error messages, retry reasons and
/// task statuses on stderr carry server text, which must not drive the
/// terminal either. Every stderr line of the command goes through here.
/// With a progress line on screen, the line is written above it.
pub fn eprint_line(line: &str) {
    let line = format::clean(line);
    suspend(|| eprintln!("{line}"));
}

/// Writes `text` to stdout and flushes it. A closed pipe (`| head`) is not
/// an error.
pub fn print(text: &str) -> Result<(), CliError> {
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            Err(CliError::failed(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

/// Prints `coxedge-images: error: …` on stderr (see [`CliError::line`]:
/// `secret` redacted, control characters replaced) and returns the exit
/// status that goes with `error`.
pub fn report(error: &CliError, secret: Option<&str>) -> ExitCode {
    eprint_line(&error.line(secret));
    ExitCode::from(error.exit_code())
}
