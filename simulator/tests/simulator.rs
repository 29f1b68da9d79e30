//! The simulator, driven by a small raw HTTP/1.1 client written here on
//! `std::net::TcpStream` (and rustls for TLS), independent of the crate's
//! transports.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use coxedge_images::{Image, ImageId, ImageStatus, decode_image, decode_image_list};
use coxedge_images_simulator::{Fault, FaultAction, Simulator, TaskOutcome, TaskShape};
use http::{Method, StatusCode};
use serde_json::{Value, json};

/// The list route of the simulator's own service and environment.
const IMAGES: &str = "/api/v1/services/cox/test-area/images";

/// The stack id of the specification's seed images, which the simulator serves.
const SEED_STACK_ID: &str = "a8050b2b-39eb-4929-bce5-1af42055903e";

/// The stack id the simulator gives the custom images it creates.
const CUSTOM_STACK_ID: &str = "c0570000-5157-4e00-8000-00000000c0de";

/// The slug the simulator gives the custom images it creates.
const CUSTOM_SLUG: &str = "custom";

const UBUNTU: &str =
    "/api/v1/services/cox/test-area/images/a8050b2b-39eb-4929-bce5-1af42055903e/ubuntu/v20201110";
const TIMEOUT: Duration = Duration::from_secs(5);

/// A response as read off the wire.
#[derive(Debug)]
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Whether the body was as long as `Content-Length` said.
    complete: bool,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    fn into_http(self) -> http::Response<Vec<u8>> {
        let mut builder = http::Response::builder().status(self.status);
        for (k, v) in &self.headers {
            builder = builder.header(k, v);
        }
        builder.body(self.body).unwrap()
    }
}

fn request_bytes(
    method: &str,
    target: &str,
    key: Option<&str>,
    body: Option<&str>,
    close: bool,
) -> Vec<u8> {
    let mut text =
        format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n");
    if let Some(key) = key {
        text.push_str(&format!("MC-Api-Key: {key}\r\n"));
    }
    if close {
        text.push_str("Connection: close\r\n");
    }
    let body = body.unwrap_or("");
    if !body.is_empty() || method == "POST" {
        text.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    text.push_str("\r\n");
    text.push_str(body);
    text.into_bytes()
}

/// Reads one response: the head, then a `Content-Length` body (stopping
/// early at EOF), a chunked body, or everything to EOF.
fn read_response(stream: &mut impl Read) -> io::Result<Raw> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "EOF before the head ended",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut rest = buf[head_end + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let find = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let mut complete = true;
    if let Some(length) = find("content-length") {
        let length: usize = length.parse().unwrap();
        while rest.len() < length {
            let n = stream.read(&mut chunk)?;
            if n == 0 {
                complete = false;
                break;
            }
            rest.extend_from_slice(&chunk[..n]);
        }
    } else if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        stream.read_to_end(&mut rest)?;
        rest = dechunk(&rest);
    } else {
        stream.read_to_end(&mut rest)?;
    }
    Ok(Raw {
        status,
        headers,
        body: rest,
        complete,
    })
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(std::str::from_utf8(&data[..i]).unwrap(), 16).unwrap();
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[i + 2..i + 2 + size]);
        data = &data[i + 2 + size + 2..];
    }
    out
}

fn connect(addr: SocketAddr, read_timeout: Duration) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, TIMEOUT).unwrap();
    stream.set_read_timeout(Some(read_timeout)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    stream
}

/// One request on a fresh connection, with the simulator's key.
fn send(sim: &Simulator, method: &str, target: &str, body: Option<&str>) -> io::Result<Raw> {
    send_with_key(sim, method, target, Some(sim.api_key()), body)
}

fn send_with_key(
    sim: &Simulator,
    method: &str,
    target: &str,
    key: Option<&str>,
    body: Option<&str>,
) -> io::Result<Raw> {
    let mut stream = connect(sim.local_addr(), TIMEOUT);
    stream.write_all(&request_bytes(method, target, key, body, true))?;
    read_response(&mut stream)
}

fn get(sim: &Simulator, target: &str) -> Raw {
    send(sim, "GET", target, None).unwrap()
}

/// A fresh connection on which a GET of the image list (with the key) has
/// been sent; the response is left to the caller to read.
fn open_get(sim: &Simulator, read_timeout: Duration) -> TcpStream {
    let mut stream = connect(sim.local_addr(), read_timeout);
    stream
        .write_all(&request_bytes(
            "GET",
            IMAGES,
            Some(sim.api_key()),
            None,
            true,
        ))
        .unwrap();
    stream
}

/// Fails unless `err` is a read that timed out.
#[track_caller]
fn assert_timed_out(err: &io::Error) {
    assert!(
        matches!(
            err.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ),
        "{err}"
    );
}

fn error_message(raw: &Raw) -> String {
    raw.json()["errors"][0]["message"]
        .as_str()
        .unwrap()
        .to_owned()
}

// ---- listing and getting ------------------------------------------------

#[test]
fn lists_the_specification_images() {
    let sim = Simulator::start();
    let raw = get(&sim, IMAGES);
    assert_eq!(raw.status, 200);
    assert_eq!(raw.header("content-type"), Some("application/json"));
    let body = raw.json();
    assert_eq!(body["metadata"], json!({"recordCount": 2}));
    assert_eq!(
        body["data"][0],
        json!({
            "stackId": "a8050b2b-39eb-4929-bce5-1af42055903e",
            "id": "a8050b2b-39eb-4929-bce5-1af42055903e/centos7/v20201110",
            "slug": "cox-edge",
            "family": "centos7",
            "tag": "v20201110",
            "createdAt": "2020-11-10T20:33:32.609434Z",
            "description": "Image using centos7",
            "reference": "cox-edge/centos7:v20201110",
            "status": "READY"
        })
    );
    let list = decode_image_list(raw.into_http()).unwrap();
    let families: Vec<&str> = list.images.iter().map(Image::family).collect();
    assert_eq!(families, ["centos7", "ubuntu"]);
    assert_eq!(list.images[1].reference, "cox-edge/ubuntu:v20201110");
    assert_eq!(list.images[1].stack_id(), SEED_STACK_ID);
}

#[test]
fn unseeded_simulator_is_empty() {
    let sim = Simulator::builder().seed(false).build().unwrap();
    assert!(sim.images().is_empty());
    assert_eq!(
        get(&sim, IMAGES).json(),
        json!({"data": [], "metadata": {"recordCount": 0}})
    );
}

fn custom_image(family: &str, tag: &str) -> Image {
    let id = ImageId::new(CUSTOM_STACK_ID, family, tag).unwrap();
    Image::new(
        id,
        CUSTOM_SLUG,
        time::OffsetDateTime::now_utc(),
        ImageStatus::Ready,
    )
}

#[test]
fn system_only_and_image_type_filter() {
    let sim = Simulator::start();
    sim.add_image(custom_image("mine", "v1"));
    let count = |query: &str| {
        get(&sim, &format!("{IMAGES}{query}")).json()["data"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(count(""), 3);
    assert_eq!(count("?includeOnlySystemImages=true"), 2);
    assert_eq!(count("?includeOnlySystemImages=false"), 3);
    assert_eq!(count("?imageType=default"), 2);
    assert_eq!(count("?imageType=custom"), 1);
    assert_eq!(count("?imageType=custom&includeOnlySystemImages=true"), 0);

    let bad = get(&sim, &format!("{IMAGES}?imageType=weird"));
    assert_eq!(bad.status, 400);
    assert!(
        error_message(&bad).contains("imageType"),
        "{}",
        error_message(&bad)
    );
    assert_eq!(
        get(&sim, &format!("{IMAGES}?includeOnlySystemImages=yes")).status,
        400
    );
}

#[test]
fn paging_metadata() {
    let sim = Simulator::start();
    let body = get(&sim, &format!("{IMAGES}?page_number=2&page_size=1")).json();
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert_eq!(body["data"][0]["family"], "ubuntu");
    assert_eq!(
        body["metadata"],
        json!({"recordCount": 2, "pageSize": 1, "pageCurrent": 2})
    );

    let past_the_end = get(&sim, &format!("{IMAGES}?page_number=5&page_size=1")).json();
    assert_eq!(past_the_end["data"], json!([]));
    assert_eq!(past_the_end["metadata"]["recordCount"], 2);

    for bad in [
        "page_number=0&page_size=1",
        "page_size=0",
        "page_number=abc",
        "page_size=-1",
    ] {
        let raw = get(&sim, &format!("{IMAGES}?{bad}"));
        assert_eq!(raw.status, 400, "{bad}");
        assert!(raw.json()["errors"].is_array());
    }
}

#[test]
fn gets_an_image_by_id_with_decoded_segments() {
    let sim = Simulator::start();
    let raw = get(&sim, UBUNTU);
    assert_eq!(raw.status, 200);
    let image = decode_image(raw.into_http()).unwrap();
    assert_eq!(
        image.id.as_str(),
        "a8050b2b-39eb-4929-bce5-1af42055903e/ubuntu/v20201110"
    );

    sim.add_image(custom_image("odd fam", "v1+x"));
    let raw = get(
        &sim,
        &format!("{IMAGES}/{CUSTOM_STACK_ID}/odd%20fam/v1%2Bx"),
    );
    assert_eq!(raw.status, 200);
    assert_eq!(raw.json()["data"]["family"], "odd fam");
    assert_eq!(
        get(&sim, &format!("{IMAGES}/{CUSTOM_STACK_ID}/odd%2/v1")).status,
        400
    );
}

#[test]
fn missing_image_unknown_route_and_wrong_method() {
    let sim = Simulator::start();
    let raw = get(&sim, &format!("{IMAGES}/{SEED_STACK_ID}/debian/v1"));
    assert_eq!(raw.status, 404);
    let entry = &raw.json()["errors"][0];
    assert_eq!(entry["code"], 404);
    assert!(entry["message"].as_str().unwrap().contains("not found"));
    assert_eq!(entry["context"]["family"], "debian");

    let raw = get(&sim, "/api/v1/nothing/here");
    assert_eq!(raw.status, 404);
    assert!(raw.json()["errors"].is_array());
    assert_eq!(get(&sim, "/elsewhere").status, 404);

    let raw = send(&sim, "PUT", IMAGES, Some("{}")).unwrap();
    assert_eq!(raw.status, 405);
    assert_eq!(raw.header("allow"), Some("GET, POST"));
    assert_eq!(send(&sim, "POST", UBUNTU, Some("{}")).unwrap().status, 405);
}

#[test]
fn any_service_and_environment_and_v2_prefix() {
    let sim = Simulator::start();
    assert_eq!(
        get(&sim, "/api/v1/services/edge-services/prod/images").status,
        200
    );
    assert_eq!(
        get(&sim, "/api/v2/services/edge-services/prod/images").status,
        200
    );
}

#[test]
fn missing_key_is_401_and_wrong_key_is_403() {
    let sim = Simulator::builder().api_key("s3cret-key").build().unwrap();
    assert_eq!(sim.api_key(), "s3cret-key");
    let raw = send_with_key(&sim, "GET", IMAGES, None, None).unwrap();
    assert_eq!(raw.status, 401);
    assert_eq!(raw.json()["errors"][0]["code"], 401);
    // An empty key is no key: 401, as for a missing one, not 403.
    for empty in ["", "   "] {
        let raw = send_with_key(&sim, "GET", IMAGES, Some(empty), None).unwrap();
        assert_eq!(raw.status, 401, "{empty:?}");
        assert_eq!(raw.json()["errors"][0]["code"], 401);
    }
    let raw = send_with_key(&sim, "GET", IMAGES, Some("guessed-key"), None).unwrap();
    assert_eq!(raw.status, 403);
    assert!(!String::from_utf8_lossy(&raw.body).contains("guessed-key"));
    assert_eq!(get(&sim, IMAGES).status, 200);

    let err = Simulator::builder()
        .api_key("bad\r\nkey")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
}

#[test]
fn records_requests_with_org_id() {
    let sim = Simulator::start();
    get(
        &sim,
        &format!("{IMAGES}?org_id=org%2042&includeOnlySystemImages=true"),
    );
    let requests = sim.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, Method::GET);
    assert_eq!(request.path, IMAGES);
    assert_eq!(
        request.query.as_deref(),
        Some("org_id=org%2042&includeOnlySystemImages=true")
    );
    assert_eq!(request.query_value("org_id"), Some("org 42"));
    assert_eq!(request.header("mc-api-key"), Some("simulator-key"));
    assert!(!format!("{request:?}").contains("simulator-key"));
    sim.clear_requests();
    assert!(sim.requests().is_empty());
}

#[test]
fn endpoint_is_prefilled() {
    let sim = Simulator::start();
    let endpoint = sim.endpoint();
    assert_eq!(endpoint.base_url().as_str(), sim.base_url());
    assert_eq!(
        (endpoint.service(), endpoint.environment()),
        ("cox", "test-area")
    );
    let request = endpoint.list_page_request(&Default::default()).unwrap();
    assert_eq!(request.uri().path(), IMAGES);
    let with_org = sim.endpoint_builder().org_id("o1").build().unwrap();
    assert_eq!(with_org.org_id(), Some("o1"));
}

// ---- tasks --------------------------------------------------------------

fn start_task(sim: &Simulator, method: &str, target: &str, body: Option<&str>) -> String {
    let raw = send(sim, method, target, body).unwrap();
    assert_eq!(raw.status, 200, "{:?}", String::from_utf8_lossy(&raw.body));
    let body = raw.json();
    assert_eq!(body["taskStatus"], "PENDING");
    body["taskId"].as_str().unwrap().to_owned()
}

/// The answer to a poll, as sent.
fn poll_raw(sim: &Simulator, task: &str) -> Value {
    let raw = get(sim, &format!("/api/v1/tasks/{task}"));
    assert_eq!(raw.status, 200);
    raw.json()
}

/// The task of a poll answered in the default shape,
/// `{"data": {"id", "status", "created", "result"}}`: the `data` object.
fn poll(sim: &Simulator, task: &str) -> Value {
    let answer = poll_raw(sim, task);
    assert!(answer.get("taskStatus").is_none(), "{answer}");
    answer["data"].clone()
}

const CREATE: &str = r#"{"family": "mine", "tag": "v1", "workloadId": "w-1", "instanceName": "vm-1", "description": "made here"}"#;

#[test]
fn create_polls_pending_then_success_and_adds_the_image() {
    let sim = Simulator::start();
    let task = start_task(&sim, "POST", IMAGES, Some(CREATE));
    assert_eq!(task.len(), 36, "{task}");
    assert_eq!(poll(&sim, &task)["status"], "PENDING");
    assert_eq!(poll(&sim, &task)["status"], "PENDING");
    assert_eq!(
        sim.images().len(),
        2,
        "nothing changes before the task ends"
    );
    let done = poll(&sim, &task);
    assert_eq!(done["status"], "SUCCESS");
    assert_eq!(done["id"], task.as_str());
    assert_eq!(done["result"]["family"], "mine");
    assert_eq!(poll(&sim, &task)["status"], "SUCCESS");

    let raw = get(&sim, &format!("{IMAGES}/{CUSTOM_STACK_ID}/mine/v1"));
    assert_eq!(raw.status, 200);
    let image = decode_image(raw.into_http()).unwrap();
    assert_eq!(image.slug, CUSTOM_SLUG);
    assert_eq!(image.reference, "custom/mine:v1");
    assert_eq!(image.description.as_deref(), Some("made here"));
    assert!(image.status.is_ready());
    assert_eq!(sim.images().len(), 3);
    let custom = get(&sim, &format!("{IMAGES}?imageType=custom")).json();
    assert_eq!(custom["metadata"]["recordCount"], 1);

    // Creating it again is refused.
    assert_eq!(
        send(&sim, "POST", IMAGES, Some(CREATE)).unwrap().status,
        400
    );
}

#[test]
fn create_validates_its_body() {
    let sim = Simulator::start();
    let raw = send(&sim, "POST", IMAGES, Some(r#"{"family": "", "tag": 3}"#)).unwrap();
    assert_eq!(raw.status, 400);
    let messages: Vec<String> = raw.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(messages.len(), 4, "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("workloadId")));
    for bad in [
        "not json",
        "[]",
        r#"{"family": "a/b", "tag": "v", "workloadId": "w", "instanceName": "i"}"#,
    ] {
        assert_eq!(
            send(&sim, "POST", IMAGES, Some(bad)).unwrap().status,
            400,
            "{bad}"
        );
    }
    assert_eq!(sim.images().len(), 2);
}

#[test]
fn delete_removes_the_image_when_the_task_succeeds() {
    let sim = Simulator::builder().task_polls(0).build().unwrap();
    let task = start_task(&sim, "DELETE", UBUNTU, None);
    let done = poll(&sim, &task);
    assert_eq!(done["status"], "SUCCESS");
    assert_eq!(get(&sim, UBUNTU).status, 404);
    assert_eq!(sim.images().len(), 1);
    assert_eq!(send(&sim, "DELETE", UBUNTU, None).unwrap().status, 404);
}

#[test]
fn failing_tasks_change_nothing() {
    for (outcome, spelling) in [
        (TaskOutcome::Failure, "FAILURE"),
        (TaskOutcome::Failed, "FAILED"),
    ] {
        let sim = Simulator::builder()
            .task_polls(1)
            .task_outcome(outcome)
            .build()
            .unwrap();
        let task = start_task(&sim, "POST", IMAGES, Some(CREATE));
        assert_eq!(poll(&sim, &task)["status"], "PENDING");
        assert_eq!(poll(&sim, &task)["status"], spelling);
        let task = start_task(&sim, "DELETE", UBUNTU, None);
        assert_eq!(poll(&sim, &task)["status"], "PENDING");
        assert_eq!(poll(&sim, &task)["status"], spelling);
        assert_eq!(sim.images().len(), 2);
    }
}

#[test]
fn task_shapes() {
    let sim = Simulator::builder()
        .task_polls(1)
        .task_shape(TaskShape::Data)
        .build()
        .unwrap();
    let task = start_task(&sim, "POST", IMAGES, Some(CREATE));
    let pending = poll_raw(&sim, &task);
    assert_eq!(pending["data"]["id"], task.as_str());
    assert_eq!(pending["data"]["status"], "PENDING");
    assert!(pending["data"]["created"].as_str().unwrap().contains('T'));
    assert!(pending.get("taskStatus").is_none());
    assert_eq!(poll_raw(&sim, &task)["data"]["status"], "SUCCESS");

    let sim = Simulator::builder()
        .task_shape(TaskShape::TopLevel)
        .build()
        .unwrap();
    let task = start_task(&sim, "POST", IMAGES, Some(CREATE));
    let pending = poll_raw(&sim, &task);
    assert_eq!(pending["taskStatus"], "PENDING");
    assert_eq!(pending["result"], Value::Null);
    assert!(pending.get("data").is_none());
}

/// The task poll as the public clients of the API decode it, written here
/// from the API notes (`{"data": {"id", "status", "created", "result"}}`,
/// unknown fields ignored, a task over when its status is `SUCCESS` or
/// `FAILURE`), independent of the crate's own decoder.
mod public_client {
    use serde::Deserialize;
    use serde_json::Value;

    #[derive(Debug, Deserialize)]
    pub struct Answer {
        pub data: Task,
    }

    #[derive(Debug, Deserialize)]
    pub struct Task {
        pub id: String,
        pub status: String,
        pub created: String,
        #[serde(default)]
        pub result: Value,
    }

    impl Task {
        /// Whether such a client stops polling.
        pub fn is_over(&self) -> bool {
            self.status == "SUCCESS" || self.status == "FAILURE"
        }
    }

    pub fn decode(body: &[u8]) -> Task {
        match serde_json::from_slice::<Answer>(body) {
            Ok(answer) => answer.data,
            Err(e) => panic!(
                "a public client cannot read the poll ({e}): {}",
                String::from_utf8_lossy(body)
            ),
        }
    }
}

/// Polls like a public client: at most `limit` times, until it is over.
fn poll_as_public_client(sim: &Simulator, task: &str, limit: usize) -> public_client::Task {
    for _ in 0..limit {
        let raw = get(sim, &format!("/api/v1/tasks/{task}"));
        assert_eq!(raw.status, 200);
        let polled = public_client::decode(&raw.body);
        assert_eq!(polled.id, task);
        assert!(
            time::OffsetDateTime::parse(
                &polled.created,
                &time::format_description::well_known::Rfc3339
            )
            .is_ok(),
            "{}",
            polled.created
        );
        if polled.is_over() {
            return polled;
        }
        assert_eq!(polled.status, "PENDING");
        assert!(polled.result.is_null(), "{:?}", polled.result);
    }
    panic!("task {task} still not over after {limit} polls");
}

#[test]
fn public_clients_see_tasks_finish_by_default() {
    let sim = Simulator::start();
    let task = start_task(&sim, "POST", IMAGES, Some(CREATE));
    let done = poll_as_public_client(&sim, &task, 10);
    assert_eq!(done.status, "SUCCESS");
    let id = format!("{CUSTOM_STACK_ID}/mine/v1");
    assert_eq!(done.result["id"], id.as_str());
    assert_eq!(done.result["name"], "custom/mine:v1");

    let task = start_task(&sim, "DELETE", UBUNTU, None);
    let done = poll_as_public_client(&sim, &task, 10);
    assert_eq!(done.status, "SUCCESS");
    let id = format!("{SEED_STACK_ID}/ubuntu/v20201110");
    assert_eq!(done.result["id"], id.as_str());
    assert_eq!(done.result["name"], "cox-edge/ubuntu:v20201110");
}

#[test]
fn public_clients_see_failed_tasks_end() {
    let sim = Simulator::builder()
        .task_outcome(TaskOutcome::Failure)
        .build()
        .unwrap();
    let task = start_task(&sim, "DELETE", UBUNTU, None);
    let done = poll_as_public_client(&sim, &task, 10);
    assert_eq!(done.status, "FAILURE");
    assert!(
        done.result["message"].as_str().unwrap().contains("failed"),
        "{:?}",
        done.result
    );
    let id = format!("{SEED_STACK_ID}/ubuntu/v20201110");
    assert_eq!(done.result["id"], id.as_str());
    assert_eq!(sim.images().len(), 2);
}

#[test]
fn task_ids_are_unique_across_simulators_in_a_process() {
    let (a, b) = (Simulator::start(), Simulator::start());
    let mut seen = std::collections::HashSet::new();
    for _ in 0..20 {
        for sim in [&a, &b] {
            let task = start_task(sim, "DELETE", UBUNTU, None);
            assert!(seen.insert(task.clone()), "{task} handed out twice");
        }
    }
    // Each simulator knows only its own tasks.
    let task = start_task(&a, "DELETE", UBUNTU, None);
    assert_eq!(get(&b, &format!("/api/v1/tasks/{task}")).status, 404);
}

#[test]
fn unknown_task_is_404() {
    let sim = Simulator::start();
    let raw = get(&sim, "/api/v1/tasks/no-such-task");
    assert_eq!(raw.status, 404);
    assert!(error_message(&raw).contains("no-such-task"));
}

// ---- faults -------------------------------------------------------------

#[test]
fn status_fault_with_retry_after_then_normal() {
    let sim = Simulator::start();
    sim.inject(Fault::once(FaultAction::status_retry_after(
        StatusCode::TOO_MANY_REQUESTS,
        "2",
    )));
    let raw = get(&sim, IMAGES);
    assert_eq!(raw.status, 429);
    assert_eq!(raw.header("retry-after"), Some("2"));
    assert_eq!(raw.json()["errors"][0]["code"], 429);
    assert_eq!(get(&sim, IMAGES).status, 200);
    assert_eq!(sim.requests().len(), 2, "faulted requests are recorded too");
}

#[test]
fn faults_apply_in_order_and_by_route() {
    let sim = Simulator::start();
    sim.inject(Fault::once(FaultAction::status(
        StatusCode::INTERNAL_SERVER_ERROR,
    )));
    sim.inject(Fault::next(2, FaultAction::Html502));
    assert_eq!(get(&sim, IMAGES).status, 500);
    let html = get(&sim, IMAGES);
    assert_eq!(html.status, 502);
    assert_eq!(html.header("content-type"), Some("text/html"));
    assert!(String::from_utf8_lossy(&html.body).contains("Bad Gateway"));
    assert_eq!(get(&sim, IMAGES).status, 502);
    assert_eq!(get(&sim, IMAGES).status, 200);

    sim.inject(
        Fault::always(FaultAction::Status {
            status: StatusCode::SERVICE_UNAVAILABLE,
            retry_after: None,
            body: Some("down".into()),
        })
        .on(Method::GET, "/api/v1/tasks/"),
    );
    assert_eq!(get(&sim, IMAGES).status, 200);
    let raw = get(&sim, "/api/v1/tasks/x");
    assert_eq!((raw.status, raw.body.as_slice()), (503, &b"down"[..]));
    assert_eq!(
        raw.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(get(&sim, "/api/v1/tasks/x").status, 503);
    sim.clear_faults();
    assert_eq!(get(&sim, "/api/v1/tasks/x").status, 404);
}

/// The statuses of `n` list requests.
fn statuses(sim: &Simulator, n: usize) -> Vec<u16> {
    (0..n).map(|_| get(sim, IMAGES).status).collect()
}

#[test]
fn chance_faults_are_random_and_reproducible_with_a_seed() {
    let start = |seed| {
        Simulator::builder()
            .random_seed(seed)
            .fault(Fault::sometimes(
                0.5,
                FaultAction::status(StatusCode::SERVICE_UNAVAILABLE),
            ))
            .build()
            .unwrap()
    };
    let first = statuses(&start(7), 40);
    assert!(first.iter().all(|s| *s == 200 || *s == 503), "{first:?}");
    assert!(first.contains(&200) && first.contains(&503), "{first:?}");
    assert_eq!(statuses(&start(7), 40), first, "same seed, same faults");
    assert_ne!(statuses(&start(8), 40), first, "another seed, other faults");

    let never = Simulator::builder()
        .fault(Fault::sometimes(0.0, FaultAction::Reset))
        .build()
        .unwrap();
    assert_eq!(statuses(&never, 10), vec![200; 10]);
    let always = Simulator::builder()
        .fault(Fault::sometimes(
            1.0,
            FaultAction::status(StatusCode::TOO_MANY_REQUESTS),
        ))
        .build()
        .unwrap();
    assert_eq!(statuses(&always, 10), vec![429; 10]);
}

#[test]
fn a_spared_request_goes_on_to_the_next_fault() {
    let sim = Simulator::builder()
        .fault(Fault::sometimes(0.0, FaultAction::Reset))
        .fault(Fault::once(FaultAction::status(StatusCode::BAD_GATEWAY)))
        .build()
        .unwrap();
    assert_eq!(statuses(&sim, 2), [502, 200]);
}

#[test]
fn starts_with_given_images_on_a_given_address() {
    let image = Image::new(
        ImageId::new("s1", "fam", "t1").unwrap(),
        "mine",
        time::macros::datetime!(2024-01-02 03:04:05 UTC),
        ImageStatus::Ready,
    );
    let sim = Simulator::builder()
        .images([image.clone(), image.clone()])
        .bind("127.0.0.2:0".parse().unwrap())
        .build();
    // 127.0.0.2 is loopback, but not every system routes it.
    let sim = match sim {
        Ok(sim) => sim,
        Err(e) if e.kind() == io::ErrorKind::AddrNotAvailable => Simulator::builder()
            .images([image.clone()])
            .build()
            .unwrap(),
        Err(e) => panic!("{e}"),
    };
    assert!(sim.local_addr().ip().is_loopback());
    assert!(
        sim.base_url()
            .starts_with(&format!("http://{}:", sim.local_addr().ip())),
        "{}",
        sim.base_url()
    );
    assert_eq!(sim.images(), vec![image]);
    let list = decode_image_list(get(&sim, IMAGES).into_http()).unwrap();
    assert_eq!(list.images.len(), 1);
    assert_eq!(list.images[0].id.as_str(), "s1/fam/t1");
}

#[test]
fn replacing_faults_do_not_run_the_request() {
    let sim = Simulator::builder().task_polls(0).build().unwrap();
    sim.inject(
        Fault::once(FaultAction::status(StatusCode::SERVICE_UNAVAILABLE))
            .on(Method::DELETE, IMAGES),
    );
    assert_eq!(send(&sim, "DELETE", UBUNTU, None).unwrap().status, 503);
    let task = start_task(&sim, "DELETE", UBUNTU, None);
    assert_eq!(poll(&sim, &task)["status"], "SUCCESS");
}

#[test]
fn reset_fault_resets_the_connection() {
    let sim = Simulator::start();
    sim.inject(Fault::once(FaultAction::Reset));
    let err = send(&sim, "GET", IMAGES, None).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
    assert_eq!(sim.requests().len(), 1);
    assert_eq!(get(&sim, IMAGES).status, 200);
}

#[test]
fn reset_after_headers() {
    let sim = Simulator::start();
    sim.inject(Fault::once(FaultAction::ResetAfterHeaders));
    let mut stream = open_get(&sim, TIMEOUT);
    // The head arrives; reading the body then fails with a reset.
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf).unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "headers come");
    match read_response(&mut (&buf[..n]).chain(&mut stream)) {
        Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e}"),
        Ok(raw) => panic!("expected a reset, got {raw:?}"),
    }
}

#[test]
fn truncate_fault_sends_less_than_content_length() {
    let sim = Simulator::start();
    sim.inject(Fault::once(FaultAction::Truncate));
    let raw = get(&sim, IMAGES);
    assert_eq!(raw.status, 200);
    assert!(!raw.complete);
    let claimed: usize = raw.header("content-length").unwrap().parse().unwrap();
    assert!(raw.body.len() < claimed, "{} of {claimed}", raw.body.len());
    assert!(serde_json::from_slice::<Value>(&raw.body).is_err());
}

#[test]
fn redirect_fault() {
    let sim = Simulator::start();
    sim.inject(Fault::once(FaultAction::RedirectTo(
        "https://elsewhere.example/steal".into(),
    )));
    let raw = get(&sim, IMAGES);
    assert_eq!(raw.status, 307);
    assert_eq!(
        raw.header("location"),
        Some("https://elsewhere.example/steal")
    );
}

#[test]
fn body_faults() {
    let sim = Simulator::start();
    sim.inject(Fault::once(FaultAction::MalformedJson));
    let raw = get(&sim, IMAGES);
    assert_eq!(raw.status, 200);
    assert!(serde_json::from_slice::<Value>(&raw.body).is_err());

    sim.inject(Fault::once(FaultAction::Gzip));
    let raw = get(&sim, IMAGES);
    assert_eq!(raw.header("content-encoding"), Some("gzip"));
    assert_eq!(&raw.body[..2], &[0x1f, 0x8b]);

    sim.inject(Fault::once(FaultAction::RawBody {
        status: StatusCode::IM_A_TEAPOT,
        content_type: "application/octet-stream".into(),
        body: vec![0, 159, 146, 150],
    }));
    let raw = get(&sim, IMAGES);
    assert_eq!(raw.status, 418);
    assert_eq!(raw.body, [0, 159, 146, 150]);
}

#[test]
fn oversized_fault_streams_without_length() {
    let sim = Simulator::start();
    sim.inject(Fault::once(FaultAction::Oversized(100_000)));
    let raw = get(&sim, IMAGES);
    assert_eq!(raw.status, 200);
    assert_eq!(raw.header("content-length"), None);
    assert_eq!(raw.body.len(), 100_000);
    assert!(raw.body.starts_with(br#"{"data": [0,0,"#));

    // An endless one: read a few megabytes, then hang up.
    sim.inject(Fault::once(FaultAction::Oversized(u64::MAX)));
    let mut stream = open_get(&sim, TIMEOUT);
    let mut total = 0usize;
    let mut chunk = [0u8; 65536];
    while total < 4 << 20 {
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0);
        total += n;
    }
    drop(stream);
    assert_eq!(get(&sim, IMAGES).status, 200);
}

#[test]
fn delay_and_drip_answer_normally_but_slowly() {
    let sim = Simulator::start();
    sim.inject(Fault::once(FaultAction::Delay(Duration::from_millis(200))));
    let started = Instant::now();
    assert_eq!(get(&sim, IMAGES).status, 200);
    assert!(started.elapsed() >= Duration::from_millis(200));

    sim.inject(Fault::once(FaultAction::Drip {
        chunk_delay: Duration::from_millis(1),
    }));
    let started = Instant::now();
    let raw = get(&sim, UBUNTU);
    assert!(raw.complete);
    assert_eq!(raw.json()["data"]["family"], "ubuntu");
    assert!(started.elapsed() >= Duration::from_millis(raw.body.len() as u64));
}

#[test]
fn stalls_time_out_on_the_client() {
    let sim = Simulator::start();
    let short = Duration::from_millis(300);

    sim.inject(Fault::once(FaultAction::Stall));
    let mut stream = open_get(&sim, short);
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf).unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "headers come");
    let err = read_response(&mut (&buf[..n]).chain(&mut stream)).unwrap_err();
    assert_timed_out(&err);

    sim.inject(Fault::once(FaultAction::StallBeforeHeaders));
    let mut stream = open_get(&sim, short);
    let err = stream.read(&mut buf).unwrap_err();
    assert_timed_out(&err);
    assert_eq!(sim.requests().len(), 2);
}

// ---- connections, TLS, lifetime -----------------------------------------

#[test]
fn counts_connections_and_serves_keep_alive() {
    let sim = Simulator::start();
    assert_eq!(sim.connections_opened(), 0);
    get(&sim, IMAGES);
    get(&sim, IMAGES);
    assert_eq!(sim.connections_opened(), 2);

    let mut stream = connect(sim.local_addr(), TIMEOUT);
    for _ in 0..3 {
        stream
            .write_all(&request_bytes(
                "GET",
                UBUNTU,
                Some(sim.api_key()),
                None,
                false,
            ))
            .unwrap();
        let raw = read_response(&mut stream).unwrap();
        assert_eq!(raw.status, 200);
    }
    assert_eq!(sim.connections_opened(), 3);
    assert_eq!(sim.requests().len(), 5);
}

fn tls_client(roots: rustls::RootCertStore) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

fn tls_get(sim: &Simulator, config: Arc<rustls::ClientConfig>, name: &str) -> io::Result<Raw> {
    let server_name = rustls_pki_types::ServerName::try_from(name.to_owned()).unwrap();
    let connection =
        rustls::ClientConnection::new(config, server_name).map_err(io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(connection, connect(sim.local_addr(), TIMEOUT));
    tls.write_all(&request_bytes(
        "GET",
        IMAGES,
        Some(sim.api_key()),
        None,
        true,
    ))?;
    read_response(&mut tls)
}

#[test]
fn tls_with_the_generated_ca() {
    let sim = Simulator::builder().tls(true).build().unwrap();
    let port = sim.local_addr().port();
    assert_eq!(sim.base_url(), format!("https://localhost:{port}/api/v1"));
    assert!(
        sim.ca_certificate_pem()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls_pki_types::CertificateDer::from(
            sim.ca_certificate_der().unwrap(),
        ))
        .unwrap();
    let config = tls_client(roots);
    for name in ["localhost", "127.0.0.1"] {
        let raw = tls_get(&sim, config.clone(), name).unwrap();
        assert_eq!(raw.status, 200, "{name}");
        assert_eq!(raw.json()["metadata"]["recordCount"], 2);
    }
    // Without the CA the handshake fails, and the server stays up.
    assert!(
        tls_get(
            &sim,
            tls_client(rustls::RootCertStore::empty()),
            "localhost"
        )
        .is_err()
    );
    assert!(tls_get(&sim, config, "localhost").is_ok());
    assert_eq!(sim.connections_opened(), 4);
    assert!(
        sim.endpoint()
            .base_url()
            .as_str()
            .starts_with("https://localhost:")
    );

    let plain = Simulator::start();
    assert!(plain.ca_certificate_pem().is_none() && plain.ca_certificate_der().is_none());
}

#[test]
fn drop_stops_the_server_and_closes_connections() {
    let sim = Simulator::start();
    let addr = sim.local_addr();
    sim.inject(Fault::always(FaultAction::StallBeforeHeaders));
    let mut stalled = connect(addr, TIMEOUT);
    stalled
        .write_all(&request_bytes(
            "GET",
            IMAGES,
            Some(sim.api_key()),
            None,
            true,
        ))
        .unwrap();
    // Wait until the server has the request, so the connection is in use.
    let deadline = Instant::now() + TIMEOUT;
    while sim.requests().is_empty() {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(5));
    }
    let started = Instant::now();
    drop(sim);
    assert!(started.elapsed() < TIMEOUT);
    let mut buf = [0u8; 16];
    match stalled.read(&mut buf) {
        Ok(n) => assert_eq!(n, 0, "the stalled connection is closed"),
        Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e}"),
    }
    assert!(TcpStream::connect_timeout(&addr, TIMEOUT).is_err());
}

#[tokio::test]
async fn works_from_inside_a_tokio_runtime() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sim = Simulator::start();
    let mut stream = tokio::net::TcpStream::connect(sim.local_addr())
        .await
        .unwrap();
    stream
        .write_all(&request_bytes(
            "GET",
            IMAGES,
            Some(sim.api_key()),
            None,
            true,
        ))
        .await
        .unwrap();
    let mut bytes = Vec::new();
    tokio::time::timeout(TIMEOUT, stream.read_to_end(&mut bytes))
        .await
        .unwrap()
        .unwrap();
    let raw = read_response(&mut bytes.as_slice()).unwrap();
    assert_eq!(raw.status, 200);
    let addr = sim.local_addr();
    drop(sim);
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

// ---- the core's own requests and decoders, end to end --------------------

/// Sends a request built by the core over a raw connection.
fn send_core(sim: &Simulator, request: http::Request<Vec<u8>>) -> http::Response<Vec<u8>> {
    let target = request.uri().path_and_query().unwrap().as_str().to_owned();
    let mut text = format!(
        "{} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n",
        request.method()
    );
    for (name, value) in request.headers() {
        text.push_str(&format!("{name}: {}\r\n", value.to_str().unwrap()));
    }
    text.push_str(&format!("Content-Length: {}\r\n\r\n", request.body().len()));
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(request.body());
    let mut stream = connect(sim.local_addr(), TIMEOUT);
    stream.write_all(&bytes).unwrap();
    read_response(&mut stream).unwrap().into_http()
}

#[test]
fn the_core_requests_and_decoders_agree_with_the_simulator() {
    use coxedge_images::{CreateImage, ListOptions, decode_task};
    let sim = Simulator::builder().task_polls(1).build().unwrap();
    let endpoint = sim.endpoint_builder().org_id("org-7").build().unwrap();

    let list = endpoint
        .list_page_request(&ListOptions::new().system_only().page(1, 1))
        .unwrap();
    let list = decode_image_list(send_core(&sim, list)).unwrap();
    assert_eq!(list.images.len(), 1);
    assert_eq!(list.metadata.record_count, Some(2));
    assert_eq!(list.metadata.page_size, Some(1));
    assert_eq!(sim.requests()[0].query_value("org_id"), Some("org-7"));

    let create = CreateImage::new("fam", "v 2", "w-1", "vm-1").with_description("d");
    let started = endpoint.create_image_request(&create).unwrap();
    let task = decode_task(send_core(&sim, started)).unwrap();
    assert!(!task.status.is_terminal());
    let poll = || {
        decode_task(send_core(
            &sim,
            endpoint.get_task_request(&task.id).unwrap(),
        ))
        .unwrap()
    };
    assert!(!poll().status.is_terminal());
    assert_eq!(poll().status.as_str(), "SUCCESS");

    let id = ImageId::new(CUSTOM_STACK_ID, "fam", "v 2").unwrap();
    let image = decode_image(send_core(&sim, endpoint.get_image_request(&id).unwrap())).unwrap();
    assert_eq!(image.reference, "custom/fam:v 2");

    let deleted =
        decode_task(send_core(&sim, endpoint.delete_image_request(&id).unwrap())).unwrap();
    let poll = || {
        decode_task(send_core(
            &sim,
            endpoint.get_task_request(&deleted.id).unwrap(),
        ))
        .unwrap()
    };
    poll();
    assert!(poll().status.is_terminal());
    let missing =
        decode_image(send_core(&sim, endpoint.get_image_request(&id).unwrap())).unwrap_err();
    assert!(missing.is_not_found());
    assert!(missing.api_messages().any(|m| m.contains("not found")));
}

#[test]
fn failed_task_reason_reaches_the_core() {
    use coxedge_images::{TaskStatus, decode_task};
    let sim = Simulator::builder()
        .task_polls(0)
        .task_outcome(TaskOutcome::Failure)
        .task_shape(TaskShape::Data)
        .build()
        .unwrap();
    let endpoint = sim.endpoint();
    let id = ImageId::new(SEED_STACK_ID, "ubuntu", "v20201110").unwrap();
    let task = decode_task(send_core(&sim, endpoint.delete_image_request(&id).unwrap())).unwrap();
    let done = decode_task(send_core(
        &sim,
        endpoint.get_task_request(&task.id).unwrap(),
    ))
    .unwrap();
    assert!(matches!(done.status, TaskStatus::Failed(ref s) if s == "FAILURE"));
    assert!(done.reason().unwrap().contains("failed"));
}

#[test]
fn starting_images_with_a_repeated_id_keep_the_later_one_in_the_first_place() {
    let seed = Simulator::start().images();
    let (first, second) = (seed[0].clone(), seed[1].clone());
    let mut again = first.clone();
    again.description = Some("the later one".to_owned());
    let sim = Simulator::builder()
        .images([first, second.clone(), again.clone()])
        .build()
        .unwrap();
    assert_eq!(sim.images(), [again, second]);
}
