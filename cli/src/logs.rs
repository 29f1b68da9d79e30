//! Request logs on stderr: `-v` prints one line per HTTP request, `-vv`
//! adds the request and response headers (secrets redacted by the library),
//! and `RUST_LOG` chooses what is logged the usual way (e.g.
//! `RUST_LOG=coxedge_images=trace`). stdout is never written to.
//!
//! With neither, no subscriber is installed and nothing is logged. The
//! lines go through [`crate::terminal::Stderr`], which takes a progress line
//! off the screen while one is written, so the two never garble.

use std::fmt;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::format;
use crate::terminal;

/// The filter for `-v` (one line per request) and `-vv` (headers too).
fn verbose_filter(verbose: u8) -> &'static str {
    match verbose {
        0 => "off",
        1 => "off,coxedge_images::http=debug",
        _ => "off,coxedge_images::http=trace",
    }
}

/// Installs the stderr logger for `verbose` (the count of `-v`) and
/// `RUST_LOG` (which, when set, decides the filter). Installs nothing when
/// neither asks for logs.
pub fn init(verbose: u8) {
    let rust_log = std::env::var_os(EnvFilter::DEFAULT_ENV).is_some_and(|v| !v.is_empty());
    if verbose == 0 && !rust_log {
        return;
    }
    let filter = if rust_log {
        // Invalid directives are skipped (with a note on stderr), as usual.
        EnvFilter::builder().from_env_lossy()
    } else {
        EnvFilter::new(verbose_filter(verbose))
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(terminal::Stderr);
    // -v and -vv: the CLI's own short lines; RUST_LOG alone: tracing's usual
    // format (time, level, spans, target, fields).
    let installed = if verbose > 0 {
        builder.event_format(Lines).try_init()
    } else {
        builder.try_init()
    };
    // Only fails if a logger is already installed, which would do.
    let _ = installed;
}

/// `-v` lines: `coxedge-images: GET /api/v1/… 200 OK 3 ms attempt 1, 512
/// bytes`, and for `-vv` the headers as `coxedge-images: > name: value`.
/// Events of other targets (under `RUST_LOG`) add their fields. Control
/// characters are replaced, as on every stderr line of the CLI.
struct Lines;

impl<S, N> FormatEvent<S, N> for Lines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = Collect::default();
        event.record(&mut fields);
        let mut line = fields.message;
        if !event
            .metadata()
            .target()
            .starts_with("coxedge_images::http")
        {
            for (name, value) in fields.others {
                line.push_str(&format!(" {name}={value}"));
            }
        }
        writeln!(writer, "coxedge-images: {}", format::clean(&line))
    }
}

/// An event's message and its other fields, as text.
#[derive(Default)]
struct Collect {
    message: String,
    others: Vec<(&'static str, String)>,
}

impl Visit for Collect {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.others.push((field.name(), value.to_owned()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.others.push((field.name(), format!("{value:?}")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbosity_picks_the_http_target_only() {
        // What each level shows is tested on the binary (tests/cli.rs);
        // here, that more than -vv adds nothing and that each filter parses.
        assert_eq!(verbose_filter(5), verbose_filter(2));
        for v in 0..3 {
            // Each parses as a filter.
            let _ = EnvFilter::builder()
                .parse(verbose_filter(v))
                .expect("a valid filter");
        }
    }
}
