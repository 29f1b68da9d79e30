//! The `coxedge-images` binary, run as a user runs it: a child process with
//! a clean `COXEDGE_*` environment, against its built-in simulator or a
//! simulator started here. Every run is killed (and the test failed) if it
//! takes longer than [`RUN_LIMIT`].

use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use coxedge_images::{Image, ImageId, ImageStatus};
use coxedge_images_simulator::{Fault, FaultAction, Simulator, TaskOutcome};
use http::{Method, StatusCode};
use serde_json::Value;

/// The stack id of the specification's seed images, which the simulator serves.
const SEED_STACK_ID: &str = "a8050b2b-39eb-4929-bce5-1af42055903e";

/// The stack id the simulator gives the custom images it creates.
const CUSTOM_STACK_ID: &str = "c0570000-5157-4e00-8000-00000000c0de";

const RUN_LIMIT: Duration = Duration::from_secs(30);

const ENV_VARS: [&str; 10] = [
    "COXEDGE_API_KEY",
    "COXEDGE_BASE_URL",
    "COXEDGE_SERVICE",
    "COXEDGE_ENVIRONMENT",
    "COXEDGE_ORG_ID",
    "COXEDGE_API_KEY_FILE",
    "COXEDGE_PROXY",
    "COXEDGE_CA_CERT",
    "COXEDGE_PROFILE",
    "COXEDGE_CONFIG",
];

const TRANSPORTS: [&str; 2] = ["ureq", "hyper"];

fn ubuntu_id() -> String {
    format!("{SEED_STACK_ID}/ubuntu/v20201110")
}

fn centos_id() -> String {
    format!("{SEED_STACK_ID}/centos7/v20201110")
}

/// What a run printed and how it ended.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit status: {self:#?}");
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {self:#?}"))
    }

    fn stderr_lines(&self) -> Vec<&str> {
        self.stderr.lines().collect()
    }
}

/// The binary with every `COXEDGE_*` variable removed.
fn cli() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_coxedge-images"));
    for var in ENV_VARS {
        command.env_remove(var);
    }
    // A RUST_LOG of the caller's would add log lines to stderr, and a proxy
    // of the machine's would stand between the binary and the loopback
    // servers of these tests (loopback is proxied too, as in curl).
    command.env_remove("RUST_LOG");
    for var in PROXY_VARS {
        command.env_remove(var);
    }
    // No profile from the machine's config file: the default place is
    // under a directory that does not exist.
    command.env("XDG_CONFIG_HOME", "/nonexistent/coxedge-images-tests");
    command
}

/// The proxy variables the binary honours.
const PROXY_VARS: [&str; 8] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// Runs the binary with `args`, killing it after [`RUN_LIMIT`].
fn run(mut command: Command, args: &[&str]) -> Run {
    let mut child = command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let read = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut text = String::new();
            pipe.read_to_string(&mut text).expect("UTF-8 output");
            text
        })
    };
    let stdout = read(Box::new(child.stdout.take().unwrap()));
    let stderr = read(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`coxedge-images {}` ran over {RUN_LIMIT:?}", args.join(" "));
        }
        thread::sleep(Duration::from_millis(20));
    };
    Run {
        code: status.code().expect("exited, not killed by a signal"),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// Runs against the built-in simulator (no key, no base URL).
fn builtin(transport: &str, args: &[&str]) -> Run {
    let mut all = vec!["--transport", transport];
    all.extend_from_slice(args);
    run(cli(), &all)
}

/// Runs against `simulator`, with its key in the environment.
fn external(simulator: &Simulator, transport: &str, args: &[&str]) -> Run {
    external_with_key(simulator, simulator.api_key(), transport, args)
}

fn external_with_key(simulator: &Simulator, key: &str, transport: &str, args: &[&str]) -> Run {
    let mut command = cli();
    command.env("COXEDGE_API_KEY", key);
    let base_url = simulator.base_url();
    let mut all = vec![
        "--base-url",
        &base_url,
        "--service",
        "cox",
        "--environment",
        "test-area",
        "--transport",
        transport,
        "--timeout",
        "5",
    ];
    all.extend_from_slice(args);
    run(command, &all)
}

/// Simulator whose tasks finish on their first poll.
fn quick_simulator(outcome: TaskOutcome) -> Simulator {
    Simulator::builder()
        .task_polls(0)
        .task_outcome(outcome)
        .build()
        .expect("the simulator starts")
}

fn assert_api_fields(image: &Value) {
    let object = image.as_object().expect("an object");
    for field in [
        "stackId",
        "id",
        "slug",
        "family",
        "tag",
        "createdAt",
        "description",
        "reference",
        "status",
    ] {
        assert!(object.contains_key(field), "no {field} in {image}");
    }
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array()
        .expect("a JSON array")
        .iter()
        .map(|image| image["id"].as_str().expect("a string id"))
        .collect()
}

// --- The built-in simulator ------------------------------------------------

#[test]
fn list_on_the_builtin_simulator_says_so_once_and_prints_a_table() {
    for transport in TRANSPORTS {
        let out = builtin(transport, &["list"]);
        out.assert_code(0);
        let lines = out.stderr_lines();
        assert_eq!(lines.len(), 1, "{out:#?}");
        assert!(lines[0].contains("simulator"), "{out:#?}");
        let table: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(table.len(), 3, "{out:#?}");
        for header in ["ID", "FAMILY", "TAG", "STATUS", "CREATED", "DESCRIPTION"] {
            assert!(table[0].contains(header), "{out:#?}");
        }
        assert!(table[1].starts_with(&centos_id()), "{out:#?}");
        assert!(table[2].starts_with(&ubuntu_id()), "{out:#?}");
        // Aligned: every column starts at the same place on every line.
        let family_at = table[0].find("FAMILY").unwrap();
        assert_eq!(table[1].find("centos7 ").unwrap(), family_at, "{out:#?}");
        assert_eq!(table[2].find("ubuntu ").unwrap(), family_at, "{out:#?}");
        assert!(table[2].contains("READY"), "{out:#?}");
        assert!(table[2].contains("Image using ubuntu"), "{out:#?}");
    }
}

#[test]
fn json_list_is_an_array_with_the_api_field_names_and_nothing_else() {
    for transport in TRANSPORTS {
        let out = builtin(transport, &["--json", "list"]);
        out.assert_code(0);
        let list = out.json();
        assert_eq!(ids(&list), [centos_id(), ubuntu_id()], "{out:#?}");
        for image in list.as_array().unwrap() {
            assert_api_fields(image);
            assert_eq!(image["slug"], "cox-edge");
            assert_eq!(image["status"], "READY");
        }
        assert_eq!(list[1]["stackId"], SEED_STACK_ID);
        assert_eq!(list[1]["reference"], "cox-edge/ubuntu:v20201110");
        assert_eq!(list[1]["createdAt"], "2020-11-10T20:34:11.328575Z");
    }
}

#[test]
fn list_filters_by_family_tag_and_status_on_the_client() {
    for transport in TRANSPORTS {
        let out = builtin(transport, &["list", "--family", "ubuntu", "--json"]);
        assert_eq!(ids(&out.assert_code(0).json()), [ubuntu_id()]);

        let out = builtin(transport, &["list", "--family", "ubuntu"]);
        out.assert_code(0);
        assert_eq!(out.stdout.lines().count(), 2, "{out:#?}");
        assert!(!out.stdout.contains("centos7"), "{out:#?}");

        let out = builtin(
            transport,
            &["--json", "list", "--status", "ready", "--tag", "v20201110"],
        );
        assert_eq!(ids(&out.assert_code(0).json()).len(), 2);

        let out = builtin(transport, &["--json", "list", "--status", "FAILED"]);
        assert_eq!(out.assert_code(0).json(), Value::Array(Vec::new()));
    }
}

#[test]
fn get_shows_one_image() {
    for transport in TRANSPORTS {
        let out = builtin(transport, &["get", &ubuntu_id()]);
        out.assert_code(0);
        for expected in [
            ubuntu_id().as_str(),
            "cox-edge/ubuntu:v20201110",
            "READY",
            "Image using ubuntu",
        ] {
            assert!(out.stdout.contains(expected), "{out:#?}");
        }

        let out = builtin(transport, &["get", &centos_id(), "--json"]);
        let image = out.assert_code(0).json();
        assert!(image.is_object(), "{out:#?}");
        assert_api_fields(&image);
        assert_eq!(image["id"], centos_id().as_str());
    }
}

#[test]
fn get_unknown_fails_with_the_status_and_the_api_message() {
    for transport in TRANSPORTS {
        let id = format!("{SEED_STACK_ID}/nonesuch/v1");
        let out = builtin(transport, &["get", &id]);
        out.assert_code(1);
        assert!(out.stdout.is_empty(), "{out:#?}");
        assert!(out.stderr.contains("404"), "{out:#?}");
        assert!(
            out.stderr.contains(&format!("Image {id} not found")),
            "{out:#?}"
        );
    }
}

#[test]
fn resolve_picks_the_image_a_reference_names() {
    for transport in TRANSPORTS {
        let out = builtin(transport, &["--json", "resolve", "cox-edge/ubuntu"]);
        let image = out.assert_code(0).json();
        assert_eq!(image["id"], ubuntu_id().as_str(), "{out:#?}");
        assert_api_fields(&image);

        let out = builtin(transport, &["resolve", "cox-edge/centos7:v20201110"]);
        out.assert_code(0);
        assert!(out.stdout.contains(&centos_id()), "{out:#?}");

        for unknown in ["cox-edge/debian", "cox-edge/ubuntu:v1999", "other/ubuntu"] {
            let out = builtin(transport, &["resolve", unknown]);
            out.assert_code(1);
            assert!(out.stdout.is_empty(), "{out:#?}");
            assert!(out.stderr.contains("does not resolve"), "{out:#?}");
        }
    }
}

#[test]
fn lifecycle_on_the_builtin_simulator() {
    for transport in TRANSPORTS {
        let out = builtin(
            transport,
            &[
                "--json",
                "create",
                "--family",
                "app",
                "--tag",
                "v1",
                "--workload-id",
                "w-1",
                "--instance-name",
                "i-1",
            ],
        );
        let task = out.assert_code(0).json();
        assert_eq!(task["status"], "PENDING", "{out:#?}");
        assert!(task["id"].is_string(), "{out:#?}");
        assert!(task.get("result").is_some(), "{out:#?}");
    }
}

// --- Usage errors ------------------------------------------------------------

#[test]
fn malformed_arguments_are_usage_errors() {
    for args in [
        &["get", "not-an-id"][..],
        &["get", "a//b"],
        &["resolve", "no-slash"],
        &["task", "a/b"],
        &["list", "--image-type", "weird"],
        &["list", "--timeout", "0"],
        &["list", "--api-key", "canary-flag-key"],
        &["create", "--family", "f"],
        &[
            "create",
            "--family",
            "a/b",
            "--tag",
            "t",
            "--workload-id",
            "w",
            "--instance-name",
            "i",
        ],
        &["delete", &ubuntu_id(), "--wait-timeout", "5"],
        &[],
    ] {
        let out = run(cli(), args);
        out.assert_code(2);
        assert!(out.stdout.is_empty(), "{out:#?}");
        assert!(!out.stderr.contains("canary-flag-key"), "{out:#?}");
    }
}

#[test]
fn a_key_without_a_service_names_the_option_and_its_variable() {
    let mut command = cli();
    command.env("COXEDGE_API_KEY", "canary-usage-key");
    let out = run(command, &["list"]);
    out.assert_code(2);
    assert!(out.stderr.contains("COXEDGE_SERVICE"), "{out:#?}");
    assert!(out.stderr.contains("--service"), "{out:#?}");
    assert!(!out.stderr.contains("simulator at"), "{out:#?}");
    assert!(!out.stderr.contains("canary-usage-key"), "{out:#?}");

    let mut command = cli();
    command
        .env("COXEDGE_API_KEY", "canary-usage-key")
        .env("COXEDGE_SERVICE", "cox");
    let out = run(command, &["list"]);
    out.assert_code(2);
    assert!(out.stderr.contains("COXEDGE_ENVIRONMENT"), "{out:#?}");
}

#[test]
fn a_base_url_without_a_key_names_the_key_sources() {
    let out = run(cli(), &["--base-url", "http://127.0.0.1:9/api/v1", "list"]);
    out.assert_code(2);
    assert!(out.stderr.contains("COXEDGE_API_KEY"), "{out:#?}");
    assert!(out.stderr.contains("--api-key-file"), "{out:#?}");

    let mut command = cli();
    command.env("COXEDGE_BASE_URL", "http://127.0.0.1:9/api/v1");
    run(command, &["list"]).assert_code(2);
}

#[test]
fn an_unreadable_key_file_is_a_usage_error() {
    let path = std::env::temp_dir().join(format!("coxedge-cli-absent-{}", std::process::id()));
    let out = run(cli(), &["--api-key-file", path.to_str().unwrap(), "list"]);
    out.assert_code(2);
    assert!(out.stderr.contains("coxedge-cli-absent"), "{out:#?}");
}

// --- An external simulator ---------------------------------------------------

#[test]
fn server_side_list_options_and_org_id_are_sent() {
    let simulator = Simulator::start();
    let custom = ImageId::new(CUSTOM_STACK_ID, "app", "v1").unwrap();
    simulator.add_image(Image::new(
        custom.clone(),
        "custom",
        time::OffsetDateTime::now_utc(),
        ImageStatus::Ready,
    ));
    for transport in TRANSPORTS {
        simulator.clear_requests();
        let out = external(&simulator, transport, &["--json", "list"]);
        assert_eq!(ids(&out.assert_code(0).json()).len(), 3, "{out:#?}");

        let out = external(
            &simulator,
            transport,
            &["--json", "list", "--system-only", "--org-id", "org-7"],
        );
        assert_eq!(ids(&out.assert_code(0).json()), [centos_id(), ubuntu_id()]);

        let out = external(
            &simulator,
            transport,
            &["--json", "list", "--image-type", "custom"],
        );
        assert_eq!(ids(&out.assert_code(0).json()), [custom.as_str()]);

        let requests = simulator.requests();
        assert_eq!(requests.len(), 3, "{requests:#?}");
        assert_eq!(requests[0].query_value("includeOnlySystemImages"), None);
        assert_eq!(
            requests[1].query_value("includeOnlySystemImages"),
            Some("true")
        );
        assert_eq!(requests[1].query_value("org_id"), Some("org-7"));
        assert_eq!(requests[2].query_value("imageType"), Some("custom"));
        assert!(
            requests
                .iter()
                .all(|r| r.path.contains("/services/cox/test-area/images"))
        );
    }
}

#[test]
fn a_503_is_retried_with_one_stderr_line() {
    let simulator = Simulator::start();
    for transport in TRANSPORTS {
        simulator.inject(Fault::once(FaultAction::status(
            StatusCode::SERVICE_UNAVAILABLE,
        )));
        let out = external(&simulator, transport, &["list"]);
        out.assert_code(0);
        let lines = out.stderr_lines();
        assert_eq!(lines.len(), 1, "{out:#?}");
        assert!(lines[0].contains("503"), "{out:#?}");
        assert!(lines[0].contains("retrying in"), "{out:#?}");
        assert!(out.stdout.contains(&ubuntu_id()), "{out:#?}");
    }
}

#[test]
fn a_wrong_key_fails_without_showing_the_key() {
    let simulator = Simulator::start();
    let canary = "canary-WRONG-key-4242";
    for transport in TRANSPORTS {
        for args in [&["list"][..], &["--json", "get", &ubuntu_id()]] {
            let out = external_with_key(&simulator, canary, transport, args);
            out.assert_code(1);
            assert!(
                out.stderr.contains("401") || out.stderr.contains("403"),
                "{out:#?}"
            );
            assert!(out.stdout.is_empty(), "{out:#?}");
            assert!(!out.stderr.contains(canary), "{out:#?}");
        }
    }
}

#[test]
fn the_key_file_is_read_and_loses_one_newline() {
    let simulator = Simulator::start();
    let dir = std::env::temp_dir().join(format!("coxedge-cli-key-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("key");
    std::fs::write(&path, format!("{}\n", simulator.api_key())).unwrap();
    for transport in TRANSPORTS {
        let base_url = simulator.base_url();
        let args = [
            "--base-url",
            &base_url,
            "--api-key-file",
            path.to_str().unwrap(),
            "--transport",
            transport,
            "--json",
            "list",
        ];
        // The file wins over a (wrong) key in the environment.
        let mut command = cli();
        command
            .env("COXEDGE_API_KEY", "canary-env-key")
            .env("COXEDGE_SERVICE", "cox")
            .env("COXEDGE_ENVIRONMENT", "test-area");
        let out = run(command, &args);
        assert_eq!(ids(&out.assert_code(0).json()).len(), 2, "{out:#?}");
        assert!(out.stderr.is_empty(), "{out:#?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn timeout_bounds_each_request() {
    let simulator = Simulator::start();
    simulator.inject(Fault::always(FaultAction::StallBeforeHeaders));
    for transport in TRANSPORTS {
        let start = Instant::now();
        let out = external(
            &simulator,
            transport,
            &["--timeout", "0.3", "get", &ubuntu_id()],
        );
        out.assert_code(1);
        assert!(out.stderr.to_lowercase().contains("timed out"), "{out:#?}");
        assert!(start.elapsed() < Duration::from_secs(15), "{out:#?}");
    }
}

#[test]
fn create_wait_shows_progress_and_makes_the_image() {
    let simulator = Simulator::builder().task_polls(1).build().unwrap();
    for (transport, tag) in TRANSPORTS.into_iter().zip(["v1", "v2"]) {
        let out = external(
            &simulator,
            transport,
            &[
                "create",
                "--family",
                "app",
                "--tag",
                tag,
                "--workload-id",
                "w-1",
                "--instance-name",
                "i-1",
                "--description",
                "from the CLI",
                "--wait",
            ],
        );
        out.assert_code(0);
        let lines = out.stderr_lines();
        assert_eq!(lines.len(), 2, "{out:#?}");
        assert!(
            lines[0].contains("PENDING") && lines[0].contains("0.0 s"),
            "{out:#?}"
        );
        assert!(
            lines[1].contains("SUCCESS") && lines[1].ends_with(" s)"),
            "{out:#?}"
        );
        assert!(out.stdout.contains("SUCCESS"), "{out:#?}");
        let id = format!("{CUSTOM_STACK_ID}/app/{tag}");
        assert!(
            simulator.images().iter().any(|i| i.id.as_str() == id),
            "{out:#?}"
        );
    }
}

#[test]
fn delete_wait_removes_the_image_and_prints_the_task_as_json() {
    let simulator = quick_simulator(TaskOutcome::Success);
    for (transport, id) in TRANSPORTS.into_iter().zip([ubuntu_id(), centos_id()]) {
        let out = external(
            &simulator,
            transport,
            &["--json", "delete", &id, "--yes", "--wait"],
        );
        let task = out.assert_code(0).json();
        assert_eq!(task["status"], "SUCCESS", "{out:#?}");
        let mut keys: Vec<&String> = task.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["id", "result", "status"], "{out:#?}");
        assert!(!simulator.images().iter().any(|i| i.id.as_str() == id));
    }
    assert!(simulator.images().is_empty());
}

#[test]
fn task_shows_and_waits_for_a_task_by_id() {
    let simulator = Simulator::builder().task_polls(2).build().unwrap();
    for transport in TRANSPORTS {
        let out = external(
            &simulator,
            transport,
            &["--json", "delete", &ubuntu_id(), "--yes"],
        );
        let started = out.assert_code(0).json();
        assert_eq!(started["status"], "PENDING", "{out:#?}");
        let task_id = started["id"].as_str().unwrap().to_owned();

        // Without --wait: one poll, its id and status.
        let out = external(&simulator, transport, &["task", &task_id]);
        out.assert_code(0);
        assert!(out.stdout.contains(&task_id), "{out:#?}");
        assert!(out.stdout.contains("PENDING"), "{out:#?}");

        let out = external(
            &simulator,
            transport,
            &["--json", "task", &task_id, "--wait"],
        );
        let task = out.assert_code(0).json();
        assert_eq!(task["id"], task_id.as_str());
        assert_eq!(task["status"], "SUCCESS");
        assert!(out.stderr.contains("SUCCESS"), "{out:#?}");

        let out = external(&simulator, transport, &["task", "no-such-task"]);
        out.assert_code(1);
        assert!(out.stderr.contains("404"), "{out:#?}");

        simulator.add_image(Image::new(
            ubuntu_id().parse().unwrap(),
            "cox-edge",
            time::OffsetDateTime::now_utc(),
            ImageStatus::Ready,
        ));
    }
}

#[test]
fn a_failed_task_exits_1() {
    let simulator = quick_simulator(TaskOutcome::Failure);
    for transport in TRANSPORTS {
        let out = external(
            &simulator,
            transport,
            &[
                "create",
                "--family",
                "app",
                "--tag",
                transport,
                "--workload-id",
                "w-1",
                "--instance-name",
                "i-1",
                "--wait",
            ],
        );
        out.assert_code(1);
        assert!(out.stderr.contains("FAILURE"), "{out:#?}");
        assert!(out.stderr.contains("the simulated task failed"), "{out:#?}");
        assert!(out.stdout.contains("FAILURE"), "{out:#?}");

        let out = external(
            &simulator,
            transport,
            &["--json", "delete", &ubuntu_id(), "--yes", "--wait"],
        );
        out.assert_code(1);
        assert_eq!(out.json()["status"], "FAILURE", "{out:#?}");
    }
    assert_eq!(simulator.images().len(), 2);
}

#[test]
fn a_task_that_outlives_the_wait_timeout_exits_1() {
    let simulator = Simulator::builder().task_polls(1_000).build().unwrap();
    for transport in TRANSPORTS {
        let start = Instant::now();
        let out = external(
            &simulator,
            transport,
            &[
                "delete",
                &ubuntu_id(),
                "--yes",
                "--wait",
                "--wait-timeout",
                "0.5",
            ],
        );
        out.assert_code(1);
        assert!(out.stderr.contains("did not finish"), "{out:#?}");
        assert!(start.elapsed() < Duration::from_secs(10), "{out:#?}");
    }
}

#[test]
fn api_errors_on_create_name_the_status() {
    let simulator = Simulator::start();
    simulator.inject(
        Fault::once(FaultAction::Status {
            status: StatusCode::BAD_REQUEST,
            retry_after: None,
            body: Some(
                r#"{"errors": [{"code": 2012, "message": "instance i-1 is running"}]}"#.into(),
            ),
        })
        .on(Method::POST, "/api/v1/"),
    );
    let out = external(
        &simulator,
        "ureq",
        &[
            "create",
            "--family",
            "f",
            "--tag",
            "t",
            "--workload-id",
            "w",
            "--instance-name",
            "i-1",
        ],
    );
    out.assert_code(1);
    assert!(out.stderr.contains("400"), "{out:#?}");
    assert!(out.stderr.contains("instance i-1 is running"), "{out:#?}");
}

// --- Hardening -----------------------------------------------------------------

#[test]
fn server_text_on_stderr_cannot_drive_the_terminal() {
    let simulator = Simulator::start();
    for transport in TRANSPORTS {
        simulator.inject(
            Fault::once(FaultAction::Status {
                status: StatusCode::BAD_REQUEST,
                retry_after: None,
                body: Some(
                    r#"{"errors": [{"code": 1, "message": "evil \u001b[31mred\u001b]0;title\u0007\ntext"}]}"#
                        .into(),
                ),
            })
            .on(Method::GET, "/api/v1/"),
        );
        let out = external(&simulator, transport, &["list"]);
        out.assert_code(1);
        assert!(!out.stderr.contains('\u{1b}'), "{out:#?}");
        assert!(!out.stderr.contains('\u{7}'), "{out:#?}");
        assert!(
            out.stderr.contains("evil ?[31mred?]0;title??text"),
            "{out:#?}"
        );
        assert!(out.stderr.contains("400"), "{out:#?}");
        assert_eq!(out.stderr_lines().len(), 1, "{out:#?}");
    }
}

#[test]
fn service_environment_or_org_id_without_a_key_is_a_usage_error() {
    for args in [
        &["--service", "edge-services", "list"][..],
        &["--environment", "prod", "list"],
        &["--org-id", "org-1", "list"],
    ] {
        let out = run(cli(), args);
        out.assert_code(2);
        assert!(out.stdout.is_empty(), "{out:#?}");
        assert!(out.stderr.contains("COXEDGE_API_KEY"), "{out:#?}");
        assert!(out.stderr.contains("--api-key-file"), "{out:#?}");
        assert!(!out.stderr.contains("simulator at"), "{out:#?}");
    }
    for var in ["COXEDGE_SERVICE", "COXEDGE_ENVIRONMENT", "COXEDGE_ORG_ID"] {
        let mut command = cli();
        command.env(var, "set-by-a-script");
        let out = run(command, &["--json", "list"]);
        out.assert_code(2);
        assert!(out.stdout.is_empty(), "{out:#?}");
        assert!(out.stderr.contains(var), "{out:#?}");
        assert!(out.stderr.contains("COXEDGE_API_KEY"), "{out:#?}");
    }
    // With none of them (empty values count as not given): the simulator.
    let mut command = cli();
    command.env("COXEDGE_SERVICE", "");
    let out = run(command, &["--json", "list"]);
    assert_eq!(ids(&out.assert_code(0).json()).len(), 2, "{out:#?}");
    assert!(out.stderr.contains("simulator"), "{out:#?}");
}

#[test]
fn the_key_file_must_be_a_small_regular_file() {
    let dir = std::env::temp_dir().join(format!("coxedge-cli-keylen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let long = dir.join("long-key");
    std::fs::write(&long, "k".repeat(10 * 1024)).unwrap();
    let mut paths = vec![
        (long.to_str().unwrap().to_owned(), "too long"),
        (dir.to_str().unwrap().to_owned(), "not a regular file"),
    ];
    if cfg!(unix) {
        paths.push(("/dev/zero".to_owned(), "not a regular file"));
    }
    for (path, why) in &paths {
        let mut command = cli();
        command
            .env("COXEDGE_SERVICE", "cox")
            .env("COXEDGE_ENVIRONMENT", "test-area");
        let out = run(command, &["--api-key-file", path, "list"]);
        out.assert_code(2);
        assert!(out.stdout.is_empty(), "{out:#?}");
        assert!(out.stderr.contains(why), "{out:#?}");
        assert!(!out.stderr.contains("kkkk"), "{out:#?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn timeouts_are_at_most_a_day() {
    for args in [
        &["--timeout", "1e19", "list"][..],
        &["--timeout", "86401", "list"],
        &["delete", &ubuntu_id(), "--wait", "--wait-timeout", "100000"],
        &["delete", &ubuntu_id(), "--wait", "--wait-timeout", "1e19"],
    ] {
        let out = run(cli(), args);
        out.assert_code(2);
        assert!(out.stdout.is_empty(), "{out:#?}");
        assert!(out.stderr.contains("86400"), "{out:#?}");
    }
    for bad in ["NaN", "inf", "-1", "0"] {
        run(cli(), &["--timeout", bad, "list"]).assert_code(2);
        run(cli(), &["task", "t-1", "--wait", "--wait-timeout", bad]).assert_code(2);
    }
    // A day itself is accepted.
    let out = run(cli(), &["--timeout", "86400", "--json", "list"]);
    assert_eq!(ids(&out.assert_code(0).json()).len(), 2, "{out:#?}");
}

// ---- the simulator command ------------------------------------------------

/// `coxedge-images simulator …` running as a child process; killed when
/// dropped if a test failed before stopping it.
struct Served {
    child: std::process::Child,
    /// The `NAME=VALUE` lines it printed on stdout, as printed.
    lines: Vec<String>,
    stderr: thread::JoinHandle<String>,
}

impl Served {
    /// Starts it and waits (at most 20 s) for its `COXEDGE_API_KEY` line
    /// and, with `--tls`, its `COXEDGE_CA_CERT` line.
    fn start(args: &[&str]) -> Served {
        let mut child = cli()
            .arg("simulator")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let stderr = thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let (tx, rx) = std::sync::mpsc::channel();
        thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines() {
                match line {
                    Ok(line) => {
                        if tx.send(line).is_err() {
                            return;
                        }
                    }
                    Err(_) => return,
                }
            }
        });
        let wanted = if args.contains(&"--tls") { 3 } else { 2 };
        let mut served = Served {
            child,
            lines: Vec::new(),
            stderr,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while served.lines.len() < wanted {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => served.lines.push(line),
                Err(_) => panic!(
                    "the simulator printed {:?} and then nothing for 20 s",
                    served.lines
                ),
            }
        }
        served
    }

    /// The value printed for `name`.
    fn var(&self, name: &str) -> String {
        let prefix = format!("{name}=");
        self.lines
            .iter()
            .find_map(|line| line.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no {name} in {:?}", self.lines))
            .to_owned()
    }

    /// The lines written to a file, for a shell to `source`.
    #[cfg(unix)]
    fn env_file(&self, tag: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!(
            "coxedge-cli-served-{tag}-{}.env",
            std::process::id()
        ));
        std::fs::write(&path, self.lines.join("\n") + "\n").unwrap();
        path
    }

    /// Sends `signal` (`TERM`, `INT`) and waits at most 5 s for the exit:
    /// its status, how long it took, and what it wrote on stderr.
    #[cfg(unix)]
    fn stop(mut self, signal: &str) -> (std::process::ExitStatus, Duration, String) {
        let pid = self.child.id().to_string();
        let sent = Instant::now();
        let kill = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .expect("kill runs");
        assert!(kill.success());
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let took = sent.elapsed();
                let stderr = std::mem::replace(&mut self.stderr, thread::spawn(String::new));
                return (status, took, stderr.join().unwrap());
            }
            assert!(
                sent.elapsed() < Duration::from_secs(5),
                "still running 5 s after SIG{signal}"
            );
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs `coxedge-images ARGS` from `sh` after it has `source`d `env_file`
/// (with `set -a`, so the variables are exported), with no proxy set.
#[cfg(unix)]
fn sourced(env_file: &std::path::Path, args: &[&str]) -> Run {
    let mut command = Command::new("sh");
    for var in PROXY_VARS {
        command.env_remove(var);
    }
    for var in ENV_VARS {
        command.env_remove(var);
    }
    command
        .arg("-c")
        .arg(r#"set -a; . "$1"; set +a; shift; exec "$@""#)
        .arg("sh")
        .arg(env_file)
        .arg(env!("CARGO_BIN_EXE_coxedge-images"));
    run(command, args)
}

#[cfg(unix)]
#[test]
fn the_simulator_command_serves_what_a_shell_sources_until_sigterm() {
    let served = Served::start(&["--port", "0"]);
    assert_eq!(served.lines.len(), 2, "{:?}", served.lines);
    assert!(
        served.lines[0].starts_with("COXEDGE_BASE_URL="),
        "{:?}",
        served.lines
    );
    assert!(
        served.lines[1].starts_with("COXEDGE_API_KEY="),
        "{:?}",
        served.lines
    );
    let base_url = served.var("COXEDGE_BASE_URL");
    let port = base_url
        .strip_prefix("http://127.0.0.1:")
        .and_then(|rest| rest.strip_suffix("/api/v1"))
        .unwrap_or_else(|| panic!("{base_url}"));
    assert!(port.parse::<u16>().unwrap() > 0, "{base_url}");
    let key = served.var("COXEDGE_API_KEY");
    assert!(!key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));

    let env_file = served.env_file("plain");
    for transport in TRANSPORTS {
        let out = sourced(
            &env_file,
            // Nothing but the printed variables: they are enough.
            &["--transport", transport, "--json", "list"],
        );
        out.assert_code(0);
        assert_eq!(ids(&out.json()), [centos_id(), ubuntu_id()], "{out:#?}");
        assert!(!out.stderr.contains("built-in simulator"), "{out:#?}");
    }
    // A wrong key is refused, as by the API.
    let mut command = cli();
    command.env("COXEDGE_API_KEY", "not-the-key");
    let out = run(
        command,
        &[
            "--base-url",
            &base_url,
            "--service",
            "s",
            "--environment",
            "e",
            "list",
        ],
    );
    out.assert_code(1);
    assert!(out.stderr.contains("403"), "{out:#?}");
    std::fs::remove_file(&env_file).unwrap();

    let (status, took, stderr) = served.stop("TERM");
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(took < Duration::from_secs(3), "took {took:?} to stop");
    assert!(
        !stderr.contains(&key),
        "the key is only on stdout: {stderr}"
    );
}

#[cfg(unix)]
#[test]
fn the_simulator_command_stops_on_sigint_and_frees_its_port() {
    let served = Served::start(&[]);
    let base_url = served.var("COXEDGE_BASE_URL");
    let authority = base_url
        .strip_prefix("http://")
        .and_then(|rest| rest.strip_suffix("/api/v1"))
        .unwrap()
        .to_owned();
    let (status, took, _) = served.stop("INT");
    assert_eq!(status.code(), Some(0));
    assert!(took < Duration::from_secs(3), "took {took:?} to stop");
    assert!(
        std::net::TcpStream::connect(&authority).is_err(),
        "{authority} still accepts connections"
    );
}

#[cfg(unix)]
#[test]
fn the_simulator_command_serves_tls_with_its_ca_file() {
    use coxedge_images::{Client, TransportConfig};

    let served = Served::start(&["--tls"]);
    assert_eq!(served.lines.len(), 3, "{:?}", served.lines);
    let base_url = served.var("COXEDGE_BASE_URL");
    assert!(base_url.starts_with("https://localhost:"), "{base_url}");
    assert!(base_url.ends_with("/api/v1"), "{base_url}");
    let ca_path = std::path::PathBuf::from(served.var("COXEDGE_CA_CERT"));
    let pem = std::fs::read(&ca_path).expect("the CA file exists while serving");
    assert!(
        pem.starts_with(b"-----BEGIN CERTIFICATE-----"),
        "{ca_path:?}"
    );

    // The library's client, trusting that CA, talks to it.
    let endpoint = coxedge_images::Endpoint::builder()
        .base_url(&base_url)
        .service("any")
        .environment("where")
        .api_key(coxedge_images::ApiKey::new(served.var("COXEDGE_API_KEY")).unwrap())
        .build()
        .unwrap();
    let config = TransportConfig::default()
        .no_proxy()
        .add_root_certificates_pem(&pem)
        .unwrap();
    let client = Client::ureq_with(endpoint.clone(), config).unwrap();
    assert_eq!(
        client.list_page(&Default::default()).unwrap().images.len(),
        2
    );
    // And one that does not trust it is refused.
    let untrusting = Client::ureq_with(endpoint, TransportConfig::default().no_proxy()).unwrap();
    let refused = untrusting.list_page(&Default::default()).unwrap_err();
    assert_eq!(
        refused.transport_kind(),
        Some(coxedge_images::TransportErrorKind::Tls),
        "{refused}"
    );

    // The CLI, with the three variables sourced (COXEDGE_CA_CERT is its
    // --ca-cert option), over both transports.
    let env_file = served.env_file("tls");
    for transport in TRANSPORTS {
        let out = sourced(&env_file, &["--transport", transport, "--json", "list"]);
        out.assert_code(0);
        assert_eq!(ids(&out.json()), [centos_id(), ubuntu_id()], "{out:#?}");
    }
    std::fs::remove_file(&env_file).unwrap();

    let (status, _, stderr) = served.stop("TERM");
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(!ca_path.exists(), "the CA file is removed on exit");
}

/// A file in the temporary directory, removed when dropped.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(tag: &str, contents: &str) -> TempFile {
        let path =
            std::env::temp_dir().join(format!("coxedge-cli-{tag}-{}.json", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        TempFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `list --json` against a served simulator, with its key and URL.
fn list_served(served: &Served, extra: &[&str]) -> Run {
    let mut command = cli();
    command.env("COXEDGE_API_KEY", served.var("COXEDGE_API_KEY"));
    let base_url = served.var("COXEDGE_BASE_URL");
    let mut args = vec![
        "--base-url",
        &base_url,
        "--service",
        "s",
        "--environment",
        "e",
    ];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--json", "list"]);
    run(command, &args)
}

#[test]
fn the_simulator_command_serves_the_images_of_a_file() {
    let file = TempFile::new(
        "images",
        r#"{"data": [{"stackId": "st-1", "id": "st-1/debian/v12", "slug": "mine",
            "family": "debian", "tag": "v12", "createdAt": "2024-05-06T07:08:09Z",
            "description": "from a file", "reference": "mine/debian:v12", "status": "READY"}],
            "metadata": {"recordCount": 1}}"#,
    );
    let served = Served::start(&["--images", file.path()]);
    let out = list_served(&served, &[]);
    out.assert_code(0);
    let list = out.json();
    assert_eq!(ids(&list), ["st-1/debian/v12"], "{out:#?}");
    assert_eq!(list[0]["description"], "from a file");
}

#[test]
fn a_bad_images_file_names_the_file_and_the_json_path() {
    let file = TempFile::new(
        "bad-images",
        r#"{"data": [{"stackId": "st-1", "id": "st-1/debian/v12", "slug": "mine",
            "family": "debian", "tag": "v12", "createdAt": 12,
            "reference": "mine/debian:v12", "status": "READY"}]}"#,
    );
    let out = run(cli(), &["simulator", "--images", file.path()]);
    out.assert_code(2);
    assert!(out.stderr.contains(file.path()), "{out:#?}");
    assert!(out.stderr.contains("data[0].createdAt"), "{out:#?}");
    assert!(out.stdout.is_empty(), "{out:#?}");

    let out = run(cli(), &["simulator", "--images", "/no/such/images.json"]);
    out.assert_code(2);
    assert!(out.stderr.contains("/no/such/images.json"), "{out:#?}");
}

#[test]
fn a_fault_flag_is_seen_by_clients() {
    // The first GET answers 503 with Retry-After: 0; the client retries.
    let served = Served::start(&["--fault", "503:times=1:method=GET:retry-after=0"]);
    let out = list_served(&served, &[]);
    out.assert_code(0);
    let lines = out.stderr_lines();
    assert_eq!(lines.len(), 1, "{out:#?}");
    assert!(
        lines[0].contains("503") && lines[0].contains("retrying"),
        "{out:#?}"
    );
    assert_eq!(ids(&out.json()), [centos_id(), ubuntu_id()]);

    // Every request answered 429: the client gives up, saying why.
    let served = Served::start(&["--fault", "429:100%:retry-after=0"]);
    let out = list_served(&served, &[]);
    out.assert_code(1);
    assert!(out.stderr.contains("429"), "{out:#?}");
}

#[test]
fn a_bad_fault_flag_is_a_usage_error() {
    for spec in ["teapot", "503:2", "delay:5"] {
        let out = run(cli(), &["simulator", "--fault", spec]);
        out.assert_code(2);
        assert!(out.stderr.contains("--fault"), "{spec}: {out:#?}");
        assert!(out.stdout.is_empty(), "{spec}: {out:#?}");
    }
}

#[test]
fn a_port_in_use_fails_with_exit_1() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = run(cli(), &["simulator", "--port", &port]);
    out.assert_code(1);
    assert!(out.stderr.contains(&port), "{out:#?}");
    assert!(out.stdout.is_empty(), "{out:#?}");
}

// --- Request logs: -v, -vv and RUST_LOG ------------------------------------

/// A `-v` line, read by hand from its documented form
/// `coxedge-images: METHOD PATH STATUS REASON… N ms attempt N, N bytes`:
/// (method, path, status, attempt).
fn request_line(line: &str) -> Option<(String, String, u16, u32)> {
    let rest = line.strip_prefix("coxedge-images: ")?;
    let mut words = rest.split(' ');
    let method = words.next()?;
    if !["GET", "POST", "DELETE"].contains(&method) {
        return None;
    }
    let path = words.next()?;
    let status: u16 = words.next()?.parse().ok()?;
    let words: Vec<&str> = words.collect();
    let ms = words.iter().position(|w| *w == "ms")?;
    words[ms - 1].parse::<u64>().ok()?;
    if words.get(ms + 1) != Some(&"attempt") {
        return None;
    }
    let attempt = words.get(ms + 2)?.trim_end_matches(',').parse().ok()?;
    let bytes = words.get(ms + 3)?;
    bytes.parse::<usize>().ok()?;
    (words.get(ms + 4) == Some(&"bytes")).then(|| (method.into(), path.into(), status, attempt))
}

/// A simulator with a canary key that also quotes it back in a 503 body.
fn canary_simulator() -> (Simulator, &'static str) {
    let canary = "canary-VERBOSE-key-4242";
    let simulator = Simulator::builder()
        .api_key(canary)
        .task_polls(1)
        .build()
        .expect("the simulator starts");
    (simulator, canary)
}

fn echoing_503(canary: &str) -> Fault {
    Fault::once(FaultAction::Status {
        status: StatusCode::SERVICE_UNAVAILABLE,
        retry_after: Some("0".into()),
        body: Some(format!("busy; key {canary}")),
    })
}

#[test]
fn verbose_prints_one_line_per_request_on_stderr_and_keeps_stdout_json() {
    let (simulator, canary) = canary_simulator();
    for transport in TRANSPORTS {
        simulator.clear_requests();
        simulator.inject(echoing_503(canary));
        let out = external_with_key(&simulator, canary, transport, &["-v", "--json", "list"]);
        out.assert_code(0);
        let list = out.json();
        assert_eq!(ids(&list).len(), 2, "{out:#?}");
        let requests = simulator.requests();
        let lines: Vec<_> = out
            .stderr_lines()
            .into_iter()
            .filter_map(request_line)
            .collect();
        assert_eq!(lines.len(), requests.len(), "{out:#?}");
        for (line, request) in lines.iter().zip(&requests) {
            assert_eq!(line.0, request.method.as_str(), "{out:#?}");
            assert_eq!(line.1, request.path, "{out:#?}");
        }
        assert_eq!(
            lines.iter().map(|l| (l.2, l.3)).collect::<Vec<_>>(),
            [(503, 1), (200, 2)],
            "{out:#?}"
        );
        // The retry line, and nothing else besides.
        assert_eq!(out.stderr_lines().len(), 3, "{out:#?}");
        assert!(!out.stderr.contains("mc-api-key"), "{out:#?}");
        for text in [&out.stdout, &out.stderr] {
            assert!(!text.contains(canary), "{out:#?}");
        }
    }
}

#[test]
fn verbose_twice_adds_headers_with_the_key_redacted() {
    let (simulator, canary) = canary_simulator();
    for transport in TRANSPORTS {
        simulator.clear_requests();
        simulator.inject(echoing_503(canary));
        let out = external_with_key(
            &simulator,
            canary,
            transport,
            &["-vv", "--json", "get", &ubuntu_id()],
        );
        out.assert_code(0);
        assert_eq!(out.json()["id"], ubuntu_id(), "{out:#?}");
        let requests = simulator.requests();
        assert_eq!(requests.len(), 2);
        let stderr = out.stderr_lines();
        let lines = stderr.iter().filter(|l| request_line(l).is_some()).count();
        assert_eq!(lines, requests.len(), "{out:#?}");
        // Each request's headers, as sent and as answered.
        let sent = |header: &str| stderr.iter().filter(|l| **l == header).count();
        assert_eq!(
            sent("coxedge-images: > mc-api-key: <redacted>"),
            2,
            "{out:#?}"
        );
        assert_eq!(
            sent("coxedge-images: > accept: application/json"),
            2,
            "{out:#?}"
        );
        assert_eq!(
            stderr
                .iter()
                .filter(|l| l.starts_with("coxedge-images: < HTTP/1.1 "))
                .count(),
            2,
            "{out:#?}"
        );
        for text in [&out.stdout, &out.stderr] {
            assert!(!text.contains(canary), "{out:#?}");
            assert!(!text.contains("VERBOSE"), "{out:#?}");
        }
    }
}

#[test]
fn rust_log_chooses_what_is_logged_and_never_shows_the_key() {
    let (simulator, canary) = canary_simulator();
    for transport in TRANSPORTS {
        // On a task poll: a create is never retried.
        simulator.inject(echoing_503(canary).on(Method::GET, "/api/v1/tasks/"));
        let mut command = cli();
        command
            .env("COXEDGE_API_KEY", canary)
            .env("RUST_LOG", "coxedge_images=trace");
        let base_url = simulator.base_url();
        let out = run(
            command,
            &[
                "--base-url",
                &base_url,
                "--service",
                "cox",
                "--environment",
                "test-area",
                "--transport",
                transport,
                "--json",
                "create",
                "--family",
                "fam",
                "--tag",
                transport,
                "--workload-id",
                "w-1",
                "--instance-name",
                "i-1",
                "--wait",
            ],
        );
        out.assert_code(0);
        out.json();
        for needle in [
            "coxedge_images::http",
            "mc-api-key: <redacted>",
            "coxedge_images::task",
            "coxedge_images::retry",
            "call{",
        ] {
            assert!(out.stderr.contains(needle), "no {needle}: {out:#?}");
        }
        for text in [&out.stdout, &out.stderr] {
            assert!(!text.contains(canary), "{out:#?}");
        }
    }
    // Without -v or RUST_LOG nothing is logged.
    let out = external_with_key(&simulator, canary, "ureq", &["--json", "list"]);
    out.assert_code(0);
    assert!(out.stderr.is_empty(), "{out:#?}");
}

/// A delete the server answers `204 No Content` is done: `--wait` polls
/// nothing and exits 0.
#[test]
fn delete_wait_exits_0_when_the_server_answers_204() {
    let simulator = Simulator::start();
    simulator.inject(
        Fault::always(FaultAction::Status {
            status: StatusCode::NO_CONTENT,
            retry_after: None,
            body: Some(String::new()),
        })
        .on(Method::DELETE, "/"),
    );
    for transport in TRANSPORTS {
        let out = external(
            &simulator,
            transport,
            &[
                "delete",
                &ubuntu_id(),
                "--yes",
                "--wait",
                "--wait-timeout",
                "5",
            ],
        );
        out.assert_code(0);
        assert!(out.stdout.contains("SUCCESS"), "{out:#?}");
    }
    let requests = simulator.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(requests.iter().all(|r| r.method == Method::DELETE));
}
