//! The command as people use it at a terminal: the progress line redrawn in
//! place, the question `delete` asks, completions, the manual page and
//! profiles.
//!
//! The terminal is a real pseudo-terminal: each run goes through `script`
//! (util-linux), which starts the command on a new pty and copies what it
//! writes there (stdout and stderr alike) to us, and what we write to it.
//! Without a pty the same commands must print plain lines.
#![cfg(target_os = "linux")]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use coxedge_images_simulator::{Fault, FaultAction, Simulator};
use http::Method;
use serde_json::Value;

/// Longest a run may take before the test fails.
const RUN_LIMIT: Duration = Duration::from_secs(30);

/// The erase-line sequence every redraw of the progress line starts with
/// (after a carriage return).
const REDRAW: &str = "\r\x1b[2K";

/// The binary, with no `COXEDGE_*` variable, no proxy and no config file of
/// the machine's.
fn cli() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_coxedge-images"));
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if name.starts_with("COXEDGE_") || name.to_ascii_lowercase().ends_with("_proxy") {
            command.env_remove(name);
        }
    }
    command.env_remove("RUST_LOG");
    command.env("XDG_CONFIG_HOME", "/nonexistent/coxedge-images-tests");
    command
}

/// `cli()` aimed at `simulator`, with its key in the environment.
fn against(simulator: &Simulator) -> Command {
    let mut command = cli();
    command
        .env("COXEDGE_API_KEY", simulator.api_key())
        .env("COXEDGE_BASE_URL", simulator.base_url());
    command
}

#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `command` with `args` on pipes (no terminal anywhere).
fn piped(mut command: Command, args: &[&str]) -> Run {
    let child = command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let output = wait_bounded(child, args);
    Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    }
}

fn wait_bounded(child: Child, args: &[&str]) -> std::process::Output {
    let id = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(RUN_LIMIT) {
        Ok(output) => output.expect("the run ends"),
        Err(_) => {
            // The child this test started, by its id.
            let _ = Command::new("kill").arg(id.to_string()).status();
            panic!("`coxedge-images {}` ran over {RUN_LIMIT:?}", args.join(" "));
        }
    }
}

/// What a run on a terminal wrote there, and how it ended.
#[derive(Debug)]
struct Screen {
    code: i32,
    transcript: String,
}

/// `text` quoted for `sh`.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Runs `command` (its program, arguments from `args` and environment) on
/// a new pseudo-terminal of 120 columns through `script`; when `answer` is
/// given, `answer.1` is typed once `answer.0` shows on the screen.
fn on_terminal(command: Command, args: &[&str], answer: Option<(&str, &str)>) -> Screen {
    let mut line = String::from("stty cols 120 rows 40 && exec");
    for word in std::iter::once(command.get_program().to_str().unwrap()).chain(args.iter().copied())
    {
        line.push(' ');
        line.push_str(&quoted(word));
    }
    let mut script = Command::new("script");
    script.args(["--quiet", "--return", "--command", &line, "/dev/null"]);
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => script.env(name, value),
            None => script.env_remove(name),
        };
    }
    let mut child = script
        .env("SHELL", "/bin/sh")
        .env("TERM", "xterm")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("`script` (util-linux) runs: the pseudo-terminal tests need it");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let seen = Arc::clone(&seen);
        let mut stdout = child.stdout.take().unwrap();
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                seen.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    };
    let mut stdin = child.stdin.take();
    let mut pending = answer;
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if let Some((prompt, typed)) = pending {
            let screen = String::from_utf8_lossy(&seen.lock().unwrap()).into_owned();
            if screen.contains(prompt) {
                let input = stdin.as_mut().unwrap();
                input.write_all(typed.as_bytes()).unwrap();
                input.flush().unwrap();
                pending = None;
            }
        }
        if start.elapsed() > RUN_LIMIT {
            // `script`, started here, by its id; it ends its child.
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let _ = child.wait();
            panic!(
                "`coxedge-images {}` on a terminal ran over {RUN_LIMIT:?}: {:?}",
                args.join(" "),
                String::from_utf8_lossy(&seen.lock().unwrap())
            );
        }
        thread::sleep(Duration::from_millis(20));
    };
    drop(stdin);
    reader.join().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.is_empty(), "script: {stderr}");
    let transcript =
        String::from_utf8(seen.lock().unwrap().clone()).expect("UTF-8 on the terminal");
    Screen {
        code: status.code().expect("exited, not killed"),
        transcript,
    }
}

/// A simulator whose tasks answer PENDING to `polls` polls: with the 1 s
/// first interval, a wait of a few seconds.
fn slow_tasks(polls: u32) -> Simulator {
    Simulator::builder()
        .task_polls(polls)
        .build()
        .expect("the simulator starts")
}

const CREATE: [&str; 10] = [
    "create",
    "--family",
    "app",
    "--tag",
    "v1",
    "--workload-id",
    "w-1",
    "--instance-name",
    "i-1",
    "--wait",
];

// --- Progress ----------------------------------------------------------------

#[test]
fn a_task_wait_on_a_terminal_redraws_one_line_in_place() {
    let simulator = slow_tasks(3);
    let screen = on_terminal(against(&simulator), &CREATE, None);
    assert_eq!(screen.code, 0, "{screen:#?}");
    let text = &screen.transcript;
    // Redrawn many times (the clock and the countdown move between polls).
    let redraws = text.matches(REDRAW).count();
    assert!(redraws >= 10, "{redraws} redraws: {text:?}");
    assert!(text.contains("is PENDING · "), "{text:?}");
    assert!(text.contains("next poll in "), "{text:?}");
    // The time waited moves on the line.
    assert!(text.contains(" · 1.") && text.contains(" · 2."), "{text:?}");
    // When the wait ends, the final status stays as a plain line, and the
    // task is printed once.
    assert!(
        text.contains(&format!("{REDRAW}coxedge-images: task ")),
        "{text:?}"
    );
    assert!(text.contains(" is SUCCESS ("), "{text:?}");
    assert_eq!(text.matches("Status: SUCCESS").count(), 1, "{text:?}");
}

#[test]
fn a_task_wait_on_pipes_prints_plain_lines_only() {
    let simulator = slow_tasks(2);
    let run = piped(against(&simulator), &CREATE);
    assert_eq!(run.code, 0, "{run:#?}");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{run:#?}");
    assert!(lines[0].ends_with("is PENDING (0.0 s)"), "{run:#?}");
    assert!(lines[1].contains("is SUCCESS ("), "{run:#?}");
    for text in [&run.stderr, &run.stdout] {
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "control characters: {text:?}"
        );
    }
}

#[test]
fn retries_show_on_the_terminal_as_they_happen() {
    let simulator = slow_tasks(2);
    simulator.inject(
        Fault::next(
            1,
            FaultAction::status(http::StatusCode::SERVICE_UNAVAILABLE),
        )
        .on(Method::GET, "/api/v1/tasks/"),
    );
    let screen = on_terminal(against(&simulator), &CREATE, None);
    assert_eq!(screen.code, 0, "{screen:#?}");
    let text = &screen.transcript;
    // Printed above the line, whole, and counted on it.
    assert!(
        text.contains(
            "coxedge-images: attempt 1 failed (HTTP 503 Service Unavailable); retrying in "
        ),
        "{text:?}"
    );
    assert!(text.contains(" · 1 retry (last: HTTP 503"), "{text:?}");
}

#[test]
fn quiet_shows_no_progress_on_a_terminal() {
    let simulator = slow_tasks(1);
    let mut args = vec!["--quiet"];
    args.extend(CREATE);
    let screen = on_terminal(against(&simulator), &args, None);
    assert_eq!(screen.code, 0, "{screen:#?}");
    let text = &screen.transcript;
    assert!(!text.contains(REDRAW), "{text:?}");
    assert!(!text.contains("is PENDING"), "{text:?}");
    assert!(text.contains("Status: SUCCESS"), "{text:?}");

    // Another tag: the first run made v1.
    let args: Vec<&str> = args
        .iter()
        .map(|a| if *a == "v1" { "v2" } else { a })
        .collect();
    let run = piped(against(&simulator), &args);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(run.stderr.is_empty(), "{run:#?}");
}

#[test]
fn request_lines_and_the_progress_line_do_not_garble_each_other() {
    let simulator = slow_tasks(2);
    let mut args = vec!["-v"];
    args.extend(CREATE);
    let screen = on_terminal(against(&simulator), &args, None);
    assert_eq!(screen.code, 0, "{screen:#?}");
    let text = &screen.transcript;
    let mut requests = 0;
    for (at, _) in text.match_indices("coxedge-images: GET /api/v1/tasks/") {
        requests += 1;
        // Each request line starts a line of its own (the progress line was
        // erased first, or there was none yet) ...
        let before = &text[..at];
        assert!(
            before.is_empty() || before.ends_with('\n') || before.ends_with(REDRAW),
            "a request line written after other text: {text:?}"
        );
        // ... and ends whole, nothing drawn into it.
        let line = text[at..].split("\r\n").next().unwrap();
        assert!(line.ends_with(" bytes"), "{line:?} in {text:?}");
        assert!(
            !line.contains('\x1b') && !line.contains("PENDING"),
            "{line:?}"
        );
    }
    assert!(requests >= 3, "{text:?}");
    assert!(text.contains("next poll in "), "{text:?}");
}

#[test]
fn a_listing_on_a_terminal_shows_the_pages_read() {
    let images: Vec<coxedge_images::Image> = (0..12)
        .map(|i| {
            coxedge_images::Image::new(
                format!("a8050b2b-39eb-4929-bce5-1af42055903e/ubuntu/v{i}")
                    .parse()
                    .unwrap(),
                "cox-edge",
                time::OffsetDateTime::UNIX_EPOCH,
                coxedge_images::ImageStatus::Ready,
            )
        })
        .collect();
    let simulator = Simulator::builder().images(images).build().unwrap();
    // Slow pages, so the line is drawn between them.
    simulator.inject(
        Fault::always(FaultAction::Delay(Duration::from_millis(150)))
            .on(Method::GET, "/api/v1/services/"),
    );
    let args = ["list", "--page-size", "3"];
    let screen = on_terminal(against(&simulator), &args, None);
    assert_eq!(screen.code, 0, "{screen:#?}");
    let text = &screen.transcript;
    assert!(
        text.contains("listing images: 2 pages read, 6 of 12 images"),
        "{text:?}"
    );
    assert!(text.contains(REDRAW), "{text:?}");
    assert_eq!(text.matches("ubuntu/v").count(), 12, "{text:?}");

    let run = piped(against(&simulator), &args);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(run.stderr.is_empty(), "{run:#?}");
    assert_eq!(run.stdout.lines().count(), 13, "{run:#?}");
}

// --- Delete confirmation -----------------------------------------------------

fn first_image(simulator: &Simulator) -> coxedge_images::Image {
    simulator
        .images()
        .into_iter()
        .next()
        .expect("a seeded image")
}

fn deletes(simulator: &Simulator) -> usize {
    simulator
        .requests()
        .iter()
        .filter(|r| r.method == Method::DELETE)
        .count()
}

#[test]
fn delete_at_a_terminal_shows_the_image_and_deletes_on_yes() {
    let simulator = Simulator::start();
    let image = first_image(&simulator);
    let id = image.id.as_str();
    let screen = on_terminal(
        against(&simulator),
        &["delete", id],
        Some(("[y/N] ", "y\n")),
    );
    assert_eq!(screen.code, 0, "{screen:#?}");
    let text = &screen.transcript;
    let question = text.find("[y/N] ").expect("asked");
    let shown = &text[..question];
    assert!(shown.contains(id), "{text:?}");
    assert!(shown.contains("status READY"), "{text:?}");
    assert!(shown.contains("created 2020-11-10T"), "{text:?}");
    assert_eq!(deletes(&simulator), 1);
}

#[test]
fn delete_at_a_terminal_deletes_nothing_without_a_yes() {
    let simulator = Simulator::start();
    let image = first_image(&simulator);
    for answer in ["n\n", "\n", "nope\n"] {
        let screen = on_terminal(
            against(&simulator),
            &["delete", image.id.as_str()],
            Some(("[y/N] ", answer)),
        );
        assert_eq!(screen.code, 2, "{screen:#?}");
        assert!(screen.transcript.contains("not confirmed"), "{screen:#?}");
    }
    assert_eq!(deletes(&simulator), 0);
    assert!(simulator.images().iter().any(|i| i.id == image.id));
}

#[test]
fn delete_without_a_terminal_needs_yes() {
    let simulator = Simulator::start();
    let image = first_image(&simulator);
    let run = piped(against(&simulator), &["delete", image.id.as_str()]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stdout.is_empty(), "{run:#?}");
    assert!(run.stderr.contains("not a terminal"), "{run:#?}");
    assert!(run.stderr.contains("--yes"), "{run:#?}");
    // Refused before anything was sent.
    assert!(
        simulator.requests().is_empty(),
        "{:?}",
        simulator.requests()
    );

    // The built-in simulator is not started for a refusal either.
    let run = piped(cli(), &["delete", image.id.as_str()]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(!run.stderr.contains("built-in simulator"), "{run:#?}");

    let run = piped(
        against(&simulator),
        &["--json", "delete", image.id.as_str(), "--yes"],
    );
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(deletes(&simulator), 1);
}

#[test]
fn yes_skips_the_question_at_a_terminal() {
    let simulator = Simulator::start();
    let image = first_image(&simulator);
    let screen = on_terminal(
        against(&simulator),
        &["delete", "-y", image.id.as_str()],
        None,
    );
    assert_eq!(screen.code, 0, "{screen:#?}");
    assert!(!screen.transcript.contains("[y/N]"), "{screen:#?}");
    assert_eq!(deletes(&simulator), 1);
}

// --- Completions and the manual page ----------------------------------------

/// Completes the words `words` (the last one being completed) with the bash
/// script the binary prints, in a bash with no start-up files.
fn bash_complete(words: &[&str]) -> Vec<String> {
    let script = r#"
        source <("$BIN" completions bash) || exit 3
        spec=$(complete -p coxedge-images) || exit 4
        fn=${spec##*-F }; fn=${fn%% *}
        read -r -a COMP_WORDS <<< "$WORDS"
        [[ $WORDS == *" " ]] && COMP_WORDS+=("")
        COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
        COMP_LINE=$WORDS; COMP_POINT=${#COMP_LINE}
        prev=${COMP_WORDS[COMP_CWORD-1]}
        "$fn" coxedge-images "${COMP_WORDS[COMP_CWORD]}" "$prev"
        printf '%s\n' "${COMPREPLY[@]}"
    "#;
    let output = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", script])
        .env("BIN", env!("CARGO_BIN_EXE_coxedge-images"))
        .env("WORDS", words.join(" "))
        .stdin(Stdio::null())
        .output()
        .expect("bash runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_completes_subcommands_and_their_options() {
    assert_eq!(bash_complete(&["coxedge-images", "de"]), ["delete"]);
    let mut found = bash_complete(&["coxedge-images", "co"]);
    found.sort();
    assert_eq!(found, ["completions", "config"]);
    assert_eq!(
        bash_complete(&["coxedge-images", "delete", "--y"]),
        ["--yes"]
    );
    assert_eq!(bash_complete(&["coxedge-images", "config", "s"]), ["show"]);
    // An empty word offers the options too; the shells are the values.
    let values: Vec<String> = bash_complete(&["coxedge-images", "completions", ""])
        .into_iter()
        .filter(|word| !word.starts_with('-'))
        .collect();
    assert_eq!(values, ["bash", "elvish", "fish", "powershell", "zsh"]);
}

#[test]
fn every_shell_gets_a_script_and_the_manual_page_renders() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = piped(cli(), &["completions", shell]);
        assert_eq!(run.code, 0, "{run:#?}");
        assert!(run.stdout.contains("delete"), "{shell}");
        assert!(run.stderr.is_empty(), "{run:#?}");
    }
    let run = piped(cli(), &["completions", "tcsh"]);
    assert_eq!(run.code, 2, "{run:#?}");

    let run = piped(cli(), &["man"]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(run.stdout.contains(".TH coxedge-images 1"), "{run:#?}");
    assert!(run.stdout.contains("COXEDGE_PROFILE"), "{run:#?}");

    let dir = TempDir::new("man");
    let run = piped(cli(), &["man", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:#?}");
    let delete = std::fs::read_to_string(dir.path().join("coxedge-images-delete.1")).unwrap();
    assert!(delete.contains("\\-\\-yes"), "{delete}");
    assert!(run.stdout.contains("coxedge-images-delete.1"), "{run:#?}");
}

// --- Profiles ------------------------------------------------------------------

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "coxedge-cli-usability-{tag}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `name` with `text` and Unix `mode`.
    fn write(&self, name: &str, text: &str, mode: u32) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A config directory (as XDG_CONFIG_HOME) whose `sim` profile reaches
/// `simulator` with its key in a file of mode `key_mode`, and whose `other`
/// profile sets a service only.
fn profiles(simulator: &Simulator, key_mode: u32) -> TempDir {
    let dir = TempDir::new(&format!(
        "profiles-{key_mode:o}-{}",
        simulator.base_url().len()
    ));
    std::fs::create_dir_all(dir.path().join("coxedge-images")).unwrap();
    dir.write(
        "coxedge-images/sim.key",
        &format!("{}\n", simulator.api_key()),
        key_mode,
    );
    dir.write(
        "coxedge-images/config.toml",
        &format!(
            "# profiles for the tests\n\
             [profile.sim]\n\
             base_url = \"{}\"\n\
             service = \"cox\"\n\
             environment = \"test-area\"\n\
             api_key_file = \"sim.key\"\n\
             \n\
             [profile.other]\n\
             service = \"edge-services\"\n",
            simulator.base_url()
        ),
        0o644,
    );
    dir
}

fn with_config(dir: &TempDir) -> Command {
    let mut command = cli();
    command.env("XDG_CONFIG_HOME", dir.path());
    command
}

#[test]
fn a_profile_reaches_its_api_with_its_key_file() {
    let simulator = Simulator::start();
    let dir = profiles(&simulator, 0o600);
    for how in ["flag", "env"] {
        let mut command = with_config(&dir);
        let mut args = vec!["--json", "list"];
        if how == "flag" {
            args.splice(0..0, ["--profile", "sim"]);
        } else {
            command.env("COXEDGE_PROFILE", "sim");
        }
        let run = piped(command, &args);
        assert_eq!(run.code, 0, "{how}: {run:#?}");
        assert!(run.stderr.is_empty(), "{how}: {run:#?}");
        let list: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(list.as_array().unwrap().len(), 2, "{run:#?}");
    }
    // Both runs reached the profile's server, with the key from its file.
    assert_eq!(simulator.requests().len(), 2);
    assert!(
        simulator
            .requests()
            .iter()
            .all(|r| r.path == "/api/v1/services/cox/test-area/images"),
        "{:?}",
        simulator.requests()
    );
}

#[test]
fn config_show_says_where_each_setting_came_from_and_never_the_key() {
    let simulator = Simulator::start();
    let dir = profiles(&simulator, 0o600);
    let config = dir.path().join("coxedge-images/config.toml");
    let mut command = with_config(&dir);
    command.env("COXEDGE_ENVIRONMENT", "from-env");
    let run = piped(
        command,
        &[
            "--json",
            "--profile",
            "sim",
            "--service",
            "from-flag",
            "config",
            "show",
        ],
    );
    assert_eq!(run.code, 0, "{run:#?}");
    let shown: Value = serde_json::from_str(&run.stdout).unwrap();
    let from = |key: &str| shown[key]["from"].as_str().unwrap().to_owned();
    let value = |key: &str| shown[key]["value"].clone();
    assert_eq!(value("profile"), "sim");
    assert_eq!(from("profile"), "--profile");
    assert_eq!(value("service"), "from-flag");
    assert_eq!(from("service"), "--service");
    assert_eq!(value("environment"), "from-env");
    assert_eq!(from("environment"), "COXEDGE_ENVIRONMENT");
    assert_eq!(value("base_url"), simulator.base_url().as_str());
    assert_eq!(
        from("base_url"),
        format!("profile sim ({}:3)", config.display())
    );
    assert_eq!(
        from("api_key"),
        format!("profile sim ({}:6)", config.display())
    );
    assert_eq!(value("org_id"), Value::Null);
    assert_eq!(from("transport"), "default");
    // The key is named by its file, never shown.
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains(simulator.api_key()), "{run:#?}");
    }
    // Nothing was sent anywhere.
    assert!(simulator.requests().is_empty());

    // As a table too.
    let run = piped(with_config(&dir), &["--profile", "sim", "config", "show"]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout.lines().any(|l| l.starts_with("service ")
            && l.ends_with(&format!("profile sim ({}:4)", config.display()))),
        "{run:#?}"
    );
    assert!(!run.stdout.contains(simulator.api_key()), "{run:#?}");
}

#[test]
fn flags_and_variables_win_over_the_profile() {
    let simulator = Simulator::start();
    let dir = profiles(&simulator, 0o600);
    let mut command = with_config(&dir);
    command.env("COXEDGE_SERVICE", "env-service");
    let run = piped(
        command,
        &["--profile", "sim", "--environment", "flag-env", "list"],
    );
    assert_eq!(run.code, 0, "{run:#?}");
    let paths: Vec<String> = simulator
        .requests()
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(paths, ["/api/v1/services/env-service/flag-env/images"]);
}

/// Runs `args` with `dir` as the config directory and expects a usage
/// error naming `expected`, with nothing sent and no simulator started.
fn refused(dir: &TempDir, simulator: &Simulator, args: &[&str], expected: &str) {
    let run = piped(with_config(dir), args);
    assert_eq!(run.code, 2, "{args:?}: {run:#?}");
    assert!(run.stderr.contains(expected), "{args:?}: {run:#?}");
    assert!(
        !run.stderr.contains("using the built-in simulator"),
        "{run:#?}"
    );
    assert!(run.stdout.is_empty(), "{run:#?}");
    assert!(!run.stderr.contains(simulator.api_key()), "{run:#?}");
    assert!(
        simulator.requests().is_empty(),
        "{:?}",
        simulator.requests()
    );
}

#[test]
fn bad_config_files_and_profiles_are_usage_errors_naming_the_file_and_line() {
    let simulator = Simulator::start();
    let dir = profiles(&simulator, 0o600);
    let config = dir.path().join("coxedge-images/config.toml");
    let name = config.display().to_string();

    refused(
        &dir,
        &simulator,
        &["--profile", "nope", "list"],
        &format!("{name}: there is no profile \"nope\""),
    );
    // A profile that selects the API without a key is not the simulator.
    refused(
        &dir,
        &simulator,
        &["--profile", "other", "list"],
        "profile other (--profile) sets service but no api_key_file",
    );

    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("service = \"cox\"", "servce = \"cox\""),
    )
    .unwrap();
    refused(
        &dir,
        &simulator,
        &["--profile", "sim", "list"],
        &format!("{name}:4:1: unknown field `servce`"),
    );
    // Even with no profile named: the file is read, and it is wrong.
    refused(&dir, &simulator, &["list"], &format!("{name}:4:1"));

    std::fs::write(
        &config,
        text.replace("service = \"cox\"", "service = \"cox"),
    )
    .unwrap();
    refused(
        &dir,
        &simulator,
        &["--profile", "sim", "list"],
        &format!("{name}:4:"),
    );

    std::fs::write(&config, format!("default_profile = \"sim\"\n{text}")).unwrap();
    let run = piped(with_config(&dir), &["list"]);
    assert_eq!(run.code, 0, "default_profile: {run:#?}");
    assert_eq!(simulator.requests().len(), 1);
    simulator.clear_requests();

    // A key file group or others may read.
    let loose = profiles(&simulator, 0o640);
    let loose_config = loose.path().join("coxedge-images/config.toml");
    refused(
        &loose,
        &simulator,
        &["--profile", "sim", "list"],
        &format!(
            "profile sim ({}:6): the API key file",
            loose_config.display()
        ),
    );
    let run = piped(with_config(&loose), &["--profile", "sim", "list"]);
    assert!(run.stderr.contains("mode 640"), "{run:#?}");

    // --config names a file that must exist.
    let run = piped(cli(), &["--config", "/nonexistent/config.toml", "list"]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("/nonexistent/config.toml"), "{run:#?}");
}
