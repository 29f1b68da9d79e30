//! Reading the small files the command is given: the API key file, a CA
//! file, the config file, the simulator's images file.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use crate::error::CliError;

/// The bytes of the file at `path`, which the messages call `what`: only a
/// regular file (checked before opening, so a FIFO cannot block the
/// command, and again once open), and at most `limit` bytes (only one more
/// is ever read, so `/dev/zero` or a huge file cannot exhaust memory).
/// Every failure is a usage error naming the file.
pub fn read_small_file(path: &Path, what: &str, limit: u64) -> Result<Vec<u8>, CliError> {
    let name = path.display();
    let cannot = |e: io::Error| CliError::usage(format!("cannot read the {what} {name}: {e}"));
    let not_regular = || CliError::usage(format!("the {what} {name} is not a regular file"));
    if !std::fs::metadata(path).map_err(cannot)?.is_file() {
        return Err(not_regular());
    }
    let file = File::open(path).map_err(cannot)?;
    if !file.metadata().map_err(cannot)?.is_file() {
        return Err(not_regular());
    }
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > limit {
        return Err(CliError::usage(format!(
            "the {what} {name} is too long (more than {limit} bytes)"
        )));
    }
    Ok(bytes)
}
