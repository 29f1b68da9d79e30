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
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, ValueEnum};
use coxedge_images::Image;
use coxedge_images_simulator::{
    Fault, FaultAction, RouteMatcher, Simulator, TaskOutcome, TaskShape,
};
use http::{Method, StatusCode};

use crate::error::CliError;
use crate::output;

/// The longest `--images` file accepted, in bytes.
const MAX_IMAGES_FILE: u64 = 64 * 1024 * 1024;

/// The longest delay a `--fault` may ask for.
const MAX_FAULT_DELAY: Duration = Duration::from_secs(3600);

const FAULT_HELP: &str = "\
Spoil some answers, to test a client's retries (repeatable; for each request the first \
matching fault applies). SPEC is ACTION[:CHANCE][:OPTION=VALUE...]:
  ACTION  an HTTP status 400-599 (answered with an API error document),
          delay:DURATION (answer late), drip:DURATION (send the body a byte at a time),
          stall (headers, then no body), stall-headers (no answer at all),
          truncate (half the body, then close), reset (TCP reset, no answer),
          reset-after-headers, malformed-json, html502, gzip (a broken gzip body)
  CHANCE  the probability for each request: 0.05 or 5% (default: every request)
  OPTION  retry-after=VALUE (statuses only; the header as given; a date, which holds colons, must come last),
          method=GET, path=/api/v1/tasks/ (a prefix of the request path),
          times=N (only the next N matching requests; not with CHANCE)
DURATION is a number with ms or s: 200ms, 1.5s.
Examples: --fault 503:5%   --fault 429:0.1:retry-after=2   --fault delay:200ms:0.5
          --fault reset:times=1:method=POST";

/// `simulator`: where to listen and what to serve.
#[derive(Debug, Clone, Args)]
pub struct SimulatorArgs {
    /// Port to listen on (0 picks a free one)
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub port: u16,

    /// Address to listen on; anything but loopback lets other machines in,
    /// kept out only by the API key
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    pub bind: IpAddr,

    /// Serve HTTPS with a CA generated at start (its file is printed as
    /// COXEDGE_CA_CERT)
    #[arg(long)]
    pub tls: bool,

    /// Start with the images of this JSON file, in the API's list shape
    /// {"data": [...], "metadata": ...}, instead of the two built in
    #[arg(long, value_name = "FILE")]
    pub images: Option<PathBuf>,

    /// Spoil some answers (repeatable), e.g. 503:5% or delay:200ms:0.5
    #[arg(
        long = "fault",
        value_name = "SPEC",
        value_parser = parse_fault,
        long_help = FAULT_HELP
    )]
    pub faults: Vec<Fault>,

    /// Seed of the random draws of --fault chances, to repeat a run
    /// [default: a new one each run]
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// How many polls of a task answer PENDING before it ends
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub task_polls: u32,

    /// How tasks end
    #[arg(long, value_enum, value_name = "HOW", default_value_t = OutcomeArg::Success)]
    pub task_outcome: OutcomeArg,

    /// The JSON shape of GET /tasks/:id answers
    #[arg(long, value_enum, value_name = "SHAPE", default_value_t = ShapeArg::Data)]
    pub task_shape: ShapeArg,
}

/// The `--task-outcome` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutcomeArg {
    /// SUCCESS, and the image is created or deleted
    Success,
    /// FAILURE (what the public clients recognise); nothing changes
    Failure,
    /// FAILED (the documentation's spelling); nothing changes
    Failed,
}

/// The `--task-shape` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShapeArg {
    /// {"data": {"id", "status", "created", "result"}}, as the public clients read it
    Data,
    /// {"taskId", "taskStatus", "result"}, as the documentation shows it
    TopLevel,
}

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
    crate::commands::print(&lines)?;
    output::eprint_line(&format!(
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

/// `text` as one shell word for `source`: unchanged when every character
/// is safe unquoted, else in single quotes (a quote inside as `'\''`).
/// 16 hex digits no other process could predict, for a private folder's
/// name (std's hasher keys are random per process).
fn random_suffix() -> String {
    use std::hash::BuildHasher;
    let hash =
        std::collections::hash_map::RandomState::new().hash_one(std::time::SystemTime::now());
    format!("{hash:016x}")
}

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
    let bytes = crate::config::read_small_file(path, "images file", MAX_IMAGES_FILE)?;
    decode_images(&bytes)
        .map_err(|why| CliError::usage(format!("the images file {name} {}", output::clean(&why))))
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

/// Parses a `--fault` SPEC; see [`FAULT_HELP`].
pub fn parse_fault(spec: &str) -> Result<Fault, String> {
    let mut parts = spec.split(':');
    let kind = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let duration = if kind == "delay" || kind == "drip" {
        let text = parts
            .next()
            .ok_or_else(|| format!("{kind} needs a duration, e.g. {kind}:200ms"))?;
        Some(parse_duration(text)?)
    } else {
        None
    };
    let rest: Vec<&str> = parts.collect();
    let (mut chance, mut times, mut retry_after) = (None, None, None);
    let (mut method, mut path) = (None, None);
    for (i, part) in rest.iter().enumerate() {
        let Some((key, value)) = part.split_once('=') else {
            if chance.is_some() {
                return Err(format!("{part:?}: the chance is given twice"));
            }
            chance = Some(parse_chance(part)?);
            continue;
        };
        match key.trim().to_ascii_lowercase().as_str() {
            // Seconds end at the next `:`; an HTTP date holds colons, so
            // it takes the rest of the spec.
            "retry-after" if value.trim().parse::<u64>().is_ok() => {
                retry_after = Some(value.trim().to_owned());
            }
            "retry-after" => {
                let value = std::iter::once(value)
                    .chain(rest[i + 1..].iter().copied())
                    .collect::<Vec<_>>()
                    .join(":");
                if http::HeaderValue::from_str(&value).is_err() {
                    return Err(format!("retry-after={value:?} is not a valid header value"));
                }
                retry_after = Some(value);
                break;
            }
            "method" => {
                let name = value.trim().to_ascii_uppercase();
                let parsed = Method::from_bytes(name.as_bytes())
                    .ok()
                    .filter(|_| !name.is_empty());
                method = Some(parsed.ok_or_else(|| format!("method={value:?} is not a method"))?);
            }
            "path" => {
                if !value.starts_with('/') {
                    return Err(format!("path={value:?} must start with /"));
                }
                path = Some(value.to_owned());
            }
            "times" => {
                let n: u32 = value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("times={value:?} is not a whole number above 0"))?;
                times = Some(n);
            }
            other => {
                return Err(format!(
                    "unknown option {other:?} (known: retry-after, method, path, times)"
                ));
            }
        }
    }
    if chance.is_some() && times.is_some() {
        return Err("give a chance or times=N, not both".to_owned());
    }
    let action = fault_action(&kind, duration, retry_after)?;
    let mut fault = match (times, chance) {
        (Some(n), _) => Fault::next(n, action),
        (None, Some(p)) => Fault::sometimes(p, action),
        (None, None) => Fault::always(action),
    };
    if method.is_some() || path.is_some() {
        fault.route = Some(RouteMatcher {
            method,
            path_prefix: path.unwrap_or_default(),
        });
    }
    Ok(fault)
}

fn fault_action(
    kind: &str,
    duration: Option<Duration>,
    retry_after: Option<String>,
) -> Result<FaultAction, String> {
    if retry_after.is_some() && !kind.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("retry-after goes with a status, not with {kind:?}"));
    }
    let duration = duration.unwrap_or_default();
    Ok(match kind {
        "delay" => FaultAction::Delay(duration),
        "drip" => FaultAction::Drip {
            chunk_delay: duration,
        },
        "stall" => FaultAction::Stall,
        "stall-headers" => FaultAction::StallBeforeHeaders,
        "truncate" => FaultAction::Truncate,
        "reset" => FaultAction::Reset,
        "reset-after-headers" => FaultAction::ResetAfterHeaders,
        "malformed-json" => FaultAction::MalformedJson,
        "html502" => FaultAction::Html502,
        "gzip" => FaultAction::Gzip,
        code if !code.is_empty() && code.bytes().all(|b| b.is_ascii_digit()) => {
            let status = code
                .parse::<u16>()
                .ok()
                .and_then(|n| StatusCode::from_u16(n).ok())
                .filter(|s| s.is_client_error() || s.is_server_error())
                .ok_or_else(|| format!("{code} is not an error status (400-599)"))?;
            FaultAction::Status {
                status,
                retry_after,
                body: None,
            }
        }
        other => {
            return Err(format!(
                "unknown action {other:?}: use a status (e.g. 503), delay:DURATION, \
                 drip:DURATION, stall, stall-headers, truncate, reset, reset-after-headers, \
                 malformed-json, html502 or gzip"
            ));
        }
    })
}

/// `0.05` or `5%`, within 0 to 1 (0% to 100%).
fn parse_chance(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    let (number, scale) = match trimmed.strip_suffix('%') {
        Some(number) => (number, 100.0),
        None => (trimmed, 1.0),
    };
    let value = number
        .trim()
        .parse::<f64>()
        .ok()
        .map(|v| v / scale)
        .filter(|v| (0.0..=1.0).contains(v))
        .ok_or_else(|| {
            format!("{text:?} is not a chance: give 0 to 1 (e.g. 0.05) or 0% to 100% (e.g. 5%)")
        })?;
    Ok(value)
}

/// `200ms`, `1.5s`: at most [`MAX_FAULT_DELAY`].
fn parse_duration(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    let (number, scale) = if let Some(n) = trimmed.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = trimmed.strip_suffix('s') {
        (n, 1.0)
    } else {
        return Err(format!("{text:?} needs a unit: ms or s, e.g. 200ms"));
    };
    number
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n >= 0.0)
        .and_then(|n| Duration::try_from_secs_f64(n * scale).ok())
        .filter(|d| *d <= MAX_FAULT_DELAY)
        .ok_or_else(|| format!("{text:?} is not a duration from 0 to 3600s"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use coxedge_images_simulator::Scope;

    #[test]
    fn faults_parse() {
        let fault = parse_fault("503:0.05").unwrap();
        assert_eq!(
            fault.scope,
            Scope::Chance {
                per_million: 50_000
            }
        );
        assert_eq!(
            fault.action,
            FaultAction::status(StatusCode::SERVICE_UNAVAILABLE)
        );
        assert_eq!(fault.route, None);

        // Seconds do not swallow what follows them.
        let fault = parse_fault("503:retry-after=2:0.5").unwrap();
        assert_eq!(
            fault.scope,
            Scope::Chance {
                per_million: 500_000
            }
        );
        assert_eq!(
            fault.action,
            FaultAction::status_retry_after(StatusCode::SERVICE_UNAVAILABLE, "2")
        );

        let fault = parse_fault("429:10%:retry-after=2").unwrap();
        assert_eq!(
            fault.scope,
            Scope::Chance {
                per_million: 100_000
            }
        );
        assert_eq!(
            fault.action,
            FaultAction::status_retry_after(StatusCode::TOO_MANY_REQUESTS, "2")
        );

        let fault = parse_fault("503:retry-after=Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(fault.scope, Scope::Always);
        assert_eq!(
            fault.action,
            FaultAction::status_retry_after(
                StatusCode::SERVICE_UNAVAILABLE,
                "Wed, 21 Oct 2015 07:28:00 GMT"
            )
        );

        let fault = parse_fault("delay:200ms:0.5").unwrap();
        assert_eq!(fault.action, FaultAction::Delay(Duration::from_millis(200)));
        assert_eq!(
            fault.scope,
            Scope::Chance {
                per_million: 500_000
            }
        );

        let fault = parse_fault("reset:times=2:method=post:path=/api/v1/tasks/").unwrap();
        assert_eq!(fault.scope, Scope::Next(2));
        assert_eq!(fault.action, FaultAction::Reset);
        assert_eq!(
            fault.route,
            Some(RouteMatcher {
                method: Some(Method::POST),
                path_prefix: "/api/v1/tasks/".into()
            })
        );
        assert_eq!(
            parse_fault("drip:1.5s").unwrap().action,
            FaultAction::Drip {
                chunk_delay: Duration::from_millis(1500)
            }
        );
    }

    #[test]
    fn bad_faults_say_what_is_wrong() {
        for (spec, says) in [
            ("", "unknown action"),
            ("teapot", "unknown action"),
            ("200", "400-599"),
            ("600", "400-599"),
            ("99999", "400-599"),
            ("503:1.5", "not a chance"),
            ("503:-1", "not a chance"),
            ("503:NaN", "not a chance"),
            ("503:150%", "not a chance"),
            ("503:0.1:0.2", "twice"),
            ("503:0.1:times=2", "not both"),
            ("503:times=0", "above 0"),
            ("503:colour=red", "unknown option"),
            ("503:path=tasks", "start with /"),
            ("503:method=", "not a method"),
            ("delay", "needs a duration"),
            ("delay:200", "needs a unit"),
            ("delay:2h", "needs a unit"),
            ("delay:-1s", "not a duration"),
            ("delay:3601s", "not a duration"),
            ("delay:1e400s", "not a duration"),
            ("reset:retry-after=1", "goes with a status"),
            ("503:retry-after=a\u{7f}b", "not a valid header value"),
        ] {
            let message = parse_fault(spec).expect_err(spec);
            assert!(message.contains(says), "{spec:?}: {message}");
        }
    }

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
