//! `config show`: every setting in effect and where it came from (a flag,
//! an environment variable, a profile's line, or the default), as a table
//! or, with `--json`, an object. Never the API key: only where it is read
//! from; a proxy's credentials are hidden too.

use coxedge_images::DEFAULT_BASE_URL;
use serde_json::{Map, Value, json};

use crate::args::{GlobalArgs, TransportKind};
use crate::config::{self, KeySource, RawKey, Target};
use crate::error::CliError;
use crate::format;
use crate::profile::{Effective, Key, Origins, Source};
use crate::terminal::print;

/// One row: the setting, its value (`None`: not set) and where it came from.
type Row = (&'static str, Option<String>, String);

/// Prints the settings; then, when they do not make a usable target (a key
/// without a service, say), returns that error as a run would.
pub fn show(
    effective: &Effective,
    global: &GlobalArgs,
    origins: &Origins,
    key: Option<RawKey>,
) -> Result<(), CliError> {
    let mut rows: Vec<Row> = Vec::new();
    let loaded = &effective.loaded;
    rows.push(match &loaded.file {
        Some((path, source)) => (
            "config_file",
            Some(format!(
                "{}{}",
                path.display(),
                if loaded.exists { "" } else { " (none there)" }
            )),
            source.to_string(),
        ),
        None => (
            "config_file",
            None,
            "neither XDG_CONFIG_HOME nor HOME is set".into(),
        ),
    });
    rows.push(match &loaded.profile {
        Some(profile) => (
            "profile",
            Some(profile.name.clone()),
            match &profile.chosen_by {
                Source::File { .. } => format!("default_profile ({})", profile.chosen_by),
                other => other.to_string(),
            },
        ),
        None => ("profile", None, "none".into()),
    });
    for key in Key::ALL {
        if key == Key::ApiKeyFile {
            continue;
        }
        let row = match effective.values.get(&key) {
            Some((value, source)) => (
                key.name(),
                Some(if key == Key::Proxy {
                    hide_credentials(value)
                } else {
                    value.clone()
                }),
                source.to_string(),
            ),
            None => match key {
                Key::BaseUrl => (key.name(), Some(DEFAULT_BASE_URL.into()), "default".into()),
                Key::Proxy => (
                    key.name(),
                    Some("from HTTPS_PROXY, NO_PROXY, … as curl reads them".into()),
                    "default".into(),
                ),
                _ => (key.name(), None, "not set".into()),
            },
        };
        rows.push(row);
    }
    rows.push(match &key {
        None => ("api_key", None, "not set".into()),
        Some(key) => match key.source {
            KeySource::Env => (
                "api_key",
                Some("set (not shown)".into()),
                crate::args::API_KEY_ENV.into(),
            ),
            KeySource::File | KeySource::Profile => {
                let (path, source) = effective
                    .values
                    .get(&Key::ApiKeyFile)
                    .map(|(path, source)| (path.clone(), source.to_string()))
                    .unwrap_or_else(|| ("?".into(), "--api-key-file".into()));
                (
                    "api_key",
                    Some(format!("read from {path} (not shown)")),
                    source,
                )
            }
        },
    });
    rows.push((
        "transport",
        Some(
            match global.transport {
                TransportKind::Ureq => "ureq",
                TransportKind::Hyper => "hyper",
            }
            .into(),
        ),
        origins.or_default("transport"),
    ));
    rows.push((
        "timeout",
        Some(format!(
            "{} s",
            global.timeout.map_or(30.0, |t| t.as_secs_f64())
        )),
        origins.or_default("timeout"),
    ));
    let target = config::resolve(global, key);
    rows.push(match &target {
        Ok(Target::Simulator) => (
            "target",
            Some("the built-in simulator".into()),
            "nothing selects the API".into(),
        ),
        Ok(Target::Api(endpoint)) => (
            "target",
            Some(format!(
                "{}/services/{}/{}",
                endpoint.base_url().as_str().trim_end_matches('/'),
                endpoint.service(),
                endpoint.environment()
            )),
            "the settings above".into(),
        ),
        Err(_) => ("target", None, "none: see the error below".into()),
    });
    print(&if global.json {
        as_json(&rows)
    } else {
        as_table(&rows)
    })?;
    target.map(drop)
}

/// `value` (a proxy URL, or `none`) without its user name and password.
fn hide_credentials(value: &str) -> String {
    match url::Url::parse(value) {
        Ok(mut url) if !url.username().is_empty() || url.password().is_some() => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            format!("{url} (credentials not shown)")
        }
        Ok(_) => value.to_owned(),
        // Checked when read; anything else is shown as no URL at all.
        Err(_) => "(not a URL)".to_owned(),
    }
}

fn as_table(rows: &[Row]) -> String {
    let width = rows.iter().map(|(name, ..)| name.len()).max().unwrap_or(0);
    let value_width = rows
        .iter()
        .map(|(_, value, _)| value.as_deref().unwrap_or("-").chars().count())
        .max()
        .unwrap_or(0);
    rows.iter()
        .map(|(name, value, source)| {
            let value = format::clean(value.as_deref().unwrap_or("-"));
            let pad = value_width - value.chars().count();
            format!(
                "{name:<width$}  {value}{}  {}\n",
                " ".repeat(pad),
                format::clean(source)
            )
        })
        .collect()
}

fn as_json(rows: &[Row]) -> String {
    let object: Map<String, Value> = rows
        .iter()
        .map(|(name, value, source)| {
            (
                (*name).to_owned(),
                json!({ "value": value, "from": source }),
            )
        })
        .collect();
    format::json(&object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_credentials_are_hidden() {
        let shown = hide_credentials("http://user:hunter2@proxy.corp:3128");
        assert_eq!(shown, "http://proxy.corp:3128/ (credentials not shown)");
        assert_eq!(hide_credentials("http://proxy:1"), "http://proxy:1");
        assert_eq!(hide_credentials("none"), "(not a URL)");
    }

    #[test]
    fn tables_align_values_and_sources() {
        let rows: Vec<Row> = vec![
            ("a", Some("1".into()), "default".into()),
            ("long_name", None, "not set".into()),
        ];
        assert_eq!(
            as_table(&rows),
            "a          1  default\nlong_name  -  not set\n"
        );
    }
}
