//! The command against what a user would type instead: `coxedge-images
//! list` against `curl … | jq …` on the same simulator, wall time of one
//! whole run (process start included), both printing a table of the same
//! columns to a pipe that is read and dropped.
//!
//! Needs the command built with the same profile (`cargo build --profile
//! bench -p coxedge-images-cli`), `curl` and `jq`;
//! without them the rows say so and nothing is judged.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use coxedge_images::decode_image_list;
use coxedge_images_simulator::Simulator;

use super::measure::{Contender, Stopwatch, interleaved};
use super::{Row, Target, bodies, fmt_time, print_header, print_row};

/// The target: a listing takes at most half the wall time of curl | jq.
const TARGET: Target = Target::AtMost(0.5);

/// Rounds: each batch is a few process runs, so fewer rounds than the
/// in-process comparisons still give quartiles.
const ROUNDS: usize = 15;

/// jq's program: the columns of the command's table, tab-separated.
const JQ_TABLE: &str =
    r#".data[] | [.id, .family, .tag, .status, .createdAt, (.description // "-")] | @tsv"#;

/// The command's binary beside this benchmark's own (in the profile's
/// output folder, one level above `deps/`), when it was built.
fn command_binary() -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?.parent()?.join("coxedge-images");
    bin.exists().then_some(bin)
}

/// Whether `tool --version` runs.
fn available(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Reads `child`'s stdout to the end and waits for it; its output's length.
fn drain(mut child: std::process::Child) -> usize {
    let mut out = Vec::new();
    child
        .stdout
        .take()
        .expect("piped stdout")
        .read_to_end(&mut out)
        .expect("read");
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status}");
    out.len()
}

/// One `coxedge-images list` against `sim`, table to a pipe.
fn ours(bin: &std::path::Path, sim: &Simulator) -> usize {
    let child = Command::new(bin)
        .arg("list")
        .env("COXEDGE_BASE_URL", sim.base_url())
        .env("COXEDGE_API_KEY", sim.api_key())
        .env("XDG_CONFIG_HOME", "/nonexistent/coxedge-images-bench")
        .env("COXEDGE_PROXY", "none")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("coxedge-images starts");
    drain(child)
}

/// One `curl -s -H 'MC-Api-Key: …' URL | jq -r PROGRAM`, the two processes
/// joined by a pipe as a shell would (no shell started).
fn curl_jq(url: &str, sim: &Simulator) -> usize {
    let mut curl = Command::new("curl")
        .args(["-s", "--fail", "--noproxy", "*", "-H"])
        .arg(format!("MC-Api-Key: {}", sim.api_key()))
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("curl starts");
    let jq = Command::new("jq")
        .args(["-r", JQ_TABLE])
        .stdin(Stdio::from(curl.stdout.take().expect("curl's stdout")))
        .stdout(Stdio::piped())
        .spawn()
        .expect("jq starts");
    let len = drain(jq);
    assert!(curl.wait().expect("curl ends").success());
    len
}

pub fn section() {
    print_header("the command: list, one whole run (wall time, process start included)");
    let skip = |why: &str| {
        print_row(&Row::info(
            "coxedge-images list vs curl | jq",
            format!("skipped: {why}"),
        ))
    };
    let Some(bin) = command_binary() else {
        return skip(
            "the command is not built (cargo build --profile bench -p coxedge-images-cli)",
        );
    };
    for tool in ["curl", "jq"] {
        if !available(tool) {
            return skip(&format!("{tool} is not installed"));
        }
    }
    println!(
        "   ours: coxedge-images list (ureq, table on stdout); baseline: curl -s -H 'MC-Api-Key: …' URL | \
         jq -r '{JQ_TABLE}';\n   both against the same simulator on 127.0.0.1, stdout read to the end \
         through a pipe; ratio = ours / curl | jq (target: half the time or less)."
    );
    for n in [10, 1_000] {
        let images = decode_image_list(http::Response::new(bodies::list_body(n, 11)))
            .expect("generated list")
            .images;
        let sim = Simulator::builder()
            .images(images)
            .build()
            .expect("the simulator starts");
        let url = format!("{}/services/cox/test-area/images", sim.base_url());
        // Both print one line per image (ours a header more).
        let (a, b) = (ours(&bin, &sim), curl_jq(&url, &sim));
        assert!(a > 0 && b > 0, "empty output: {a} / {b}");
        let mut contenders = [
            Contender::new(|iters| {
                let start = Stopwatch::start();
                for _ in 0..iters {
                    ours(&bin, &sim);
                }
                start.stop()
            }),
            Contender::new(|iters| {
                let start = Stopwatch::start();
                for _ in 0..iters {
                    curl_jq(&url, &sim);
                }
                start.stop()
            }),
        ];
        let t = interleaved(&mut contenders, ROUNDS, Duration::from_millis(60), 50).wall;
        let ratio = t.overhead(0, 1);
        print_row(&Row {
            name: format!("list of {n} images vs curl | jq"),
            ours: format!("{}/run", fmt_time(t.median(0))),
            baseline: format!("{}/run", fmt_time(t.median(1))),
            ratio: ratio.show(),
            target: TARGET.show("x"),
            verdict: Some(TARGET.judge(&ratio)),
        });
    }
}
