//! `simulator --fault SPEC`: the spec syntax ([`HELP`]) and its parser,
//! which checks a spec's shape when the command line is parsed (a bad one
//! is a usage error) and makes it the simulator's [`Fault`].

use std::time::Duration;

use coxedge_images_simulator::{Fault, FaultAction, RouteMatcher};
use http::{Method, StatusCode};

/// The longest delay a `--fault` may ask for.
const MAX_FAULT_DELAY: Duration = Duration::from_secs(3600);

/// The long help of `--fault`: the SPEC syntax [`parse_fault`] reads.
pub const HELP: &str = "\
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

/// Parses a `--fault` SPEC; see [`HELP`].
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
}
