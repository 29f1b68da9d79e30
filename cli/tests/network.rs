//! The binary's `--proxy` and `--ca-cert` (and their variables), run as a
//! child process against a TLS simulator and a `CONNECT` proxy started here
//! (loopback only). Each child gets its own environment; this process's is
//! never changed.

// The workspace's CONNECT proxy for tests, shared with the library's tests.
#[path = "../../tests/connect_proxy/mod.rs"]
mod connect_proxy;

use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use connect_proxy::ConnectProxy;
use coxedge_images_simulator::Simulator;

/// Longest a run may take before the test fails.
const RUN_LIMIT: Duration = Duration::from_secs(30);

/// Variables that would change what a run does; every child starts without.
const CLEARED: &[&str] = &[
    "COXEDGE_API_KEY",
    "COXEDGE_BASE_URL",
    "COXEDGE_SERVICE",
    "COXEDGE_ENVIRONMENT",
    "COXEDGE_ORG_ID",
    "COXEDGE_PROXY",
    "COXEDGE_CA_CERT",
    "COXEDGE_PROFILE",
    "COXEDGE_CONFIG",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
];

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the binary with `env` and `args`, failing the test after
/// [`RUN_LIMIT`].
fn run(env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_coxedge-images"));
    for name in CLEARED {
        command.env_remove(name);
    }
    // No profile of the machine's config file.
    command.env("XDG_CONFIG_HOME", "/nonexistent/coxedge-images-tests");
    command
        .envs(env.iter().copied())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command.spawn().expect("the binary starts");
    let id = child.id();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let output: Output = match rx.recv_timeout(RUN_LIMIT) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            // The child we started, by its id.
            let _ = Command::new("kill").arg(id.to_string()).status();
            panic!("`coxedge-images {}` ran over {RUN_LIMIT:?}", args.join(" "));
        }
    };
    Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The key and addressing variables for `sim`.
fn api_env(sim: &Simulator) -> Vec<(&'static str, String)> {
    vec![
        ("COXEDGE_API_KEY", sim.api_key().to_owned()),
        ("COXEDGE_BASE_URL", sim.base_url()),
        ("COXEDGE_SERVICE", "cox".to_owned()),
        ("COXEDGE_ENVIRONMENT", "test-area".to_owned()),
    ]
}

/// Runs `list --json` on `sim` with `transport`, `extra` variables and
/// `args`.
fn list(sim: &Simulator, transport: &str, extra: &[(&str, &str)], args: &[&str]) -> Run {
    let base = api_env(sim);
    let mut env: Vec<(&str, &str)> = base.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.extend_from_slice(extra);
    let mut all = vec!["list", "--json", "--timeout", "5", "--transport", transport];
    all.extend_from_slice(args);
    run(&env, &all)
}

/// The simulator's CA written to a file; removed with the directory.
struct CaFile {
    dir: std::path::PathBuf,
    path: String,
}

impl CaFile {
    fn new(sim: &Simulator, name: &str) -> CaFile {
        let dir =
            std::env::temp_dir().join(format!("coxedge-cli-network-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ca.pem");
        std::fs::write(&path, sim.ca_certificate_pem().unwrap()).unwrap();
        CaFile {
            path: path.to_str().unwrap().to_owned(),
            dir,
        }
    }
}

impl Drop for CaFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const TRANSPORTS: [&str; 2] = ["ureq", "hyper"];

#[test]
fn an_untrusted_certificate_fails_with_exit_1_naming_the_problem() {
    let sim = Simulator::builder().tls(true).build().unwrap();
    for transport in TRANSPORTS {
        let run = list(&sim, transport, &[], &[]);
        assert_eq!(run.code, 1, "{transport}: {}", run.stderr);
        assert!(run.stderr.contains("unknown issuer"), "{}", run.stderr);
        assert!(!run.stderr.contains(sim.api_key()));
    }
}

#[test]
fn ca_cert_from_the_flag_or_the_variable_is_trusted() {
    let sim = Simulator::builder().tls(true).build().unwrap();
    let ca = CaFile::new(&sim, "trusted");
    for transport in TRANSPORTS {
        let run = list(&sim, transport, &[], &["--ca-cert", &ca.path]);
        assert_eq!(run.code, 0, "{transport}: {}", run.stderr);
        assert!(run.stdout.starts_with('['), "{}", run.stdout);
        let run = list(&sim, transport, &[("COXEDGE_CA_CERT", &ca.path)], &[]);
        assert_eq!(run.code, 0, "{transport}: {}", run.stderr);
    }
}

#[test]
fn a_bad_ca_file_is_a_usage_error_naming_it() {
    let sim = Simulator::builder().tls(true).build().unwrap();
    let ca = CaFile::new(&sim, "bad");
    std::fs::write(&ca.path, "not a certificate").unwrap();
    let run = list(&sim, "ureq", &[], &["--ca-cert", &ca.path]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains(&ca.path), "{}", run.stderr);
}

#[test]
fn proxy_from_the_flag_or_the_variable_tunnels_and_none_disables() {
    let sim = Simulator::builder().tls(true).build().unwrap();
    let ca = CaFile::new(&sim, "proxy");
    let ca_env = ("COXEDGE_CA_CERT", ca.path.as_str());
    for transport in TRANSPORTS {
        // The proxy refuses a tunnel without these credentials: `Basic` and
        // base64("user:hunter2"), worked out by hand.
        let proxy = ConnectProxy::requiring("Basic dXNlcjpodW50ZXIy");
        let url = proxy.url_with("user", "hunter2");
        let run = list(&sim, transport, &[ca_env], &["--proxy", &url]);
        assert_eq!(run.code, 0, "{transport}: {}", run.stderr);
        let run = list(&sim, transport, &[ca_env, ("COXEDGE_PROXY", &url)], &[]);
        assert_eq!(run.code, 0, "{transport}: {}", run.stderr);
        let heads = proxy.heads();
        assert_eq!(heads.len(), 2, "{heads:?}");
        assert!(heads.iter().all(|h| h.starts_with("CONNECT localhost:")));
        assert!(!proxy.tunnelled().contains(sim.api_key()));

        // The environment's proxy, then --proxy none.
        let from_env = ConnectProxy::start();
        let env = [ca_env, ("HTTPS_PROXY", &from_env.url())];
        assert_eq!(list(&sim, transport, &env, &[]).code, 0);
        assert_eq!(from_env.heads().len(), 1);
        let run = list(&sim, transport, &env, &["--proxy", "none"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(from_env.heads().len(), 1, "--proxy none used the proxy");
    }
}

/// A proxy that refuses the tunnel: exit 1, one line naming the proxy and
/// why, one `CONNECT` per run (never retried), never the password; `-v`
/// says the request went through the proxy.
#[test]
fn a_proxy_refusing_the_tunnel_is_one_clear_line_and_exit_1() {
    let sim = Simulator::builder().tls(true).build().unwrap();
    let ca = CaFile::new(&sim, "refusing");
    let ca_env = ("COXEDGE_CA_CERT", ca.path.as_str());
    for transport in TRANSPORTS {
        let proxy = ConnectProxy::requiring("Basic dXNlcjpodW50ZXIy");
        let address = proxy.url().trim_start_matches("http://").to_owned();
        let cases = [
            (
                proxy.url_with("user", "wrong-hunter3"),
                "it rejected the credentials given",
            ),
            (
                proxy.url(),
                "it wants credentials, and none were given \
                 (put them in the proxy URL: http://user:password@host:port)",
            ),
        ];
        for (url, why) in &cases {
            let run = list(&sim, transport, &[ca_env], &["--proxy", url]);
            assert_eq!(run.code, 1, "{transport}: {}", run.stderr);
            let lines: Vec<&str> = run.stderr.lines().collect();
            assert_eq!(lines.len(), 1, "{transport}: {}", run.stderr);
            let says = format!(
                "proxy refused the tunnel: the proxy at {address} answered \
                 407 Proxy Authentication Required: {why}"
            );
            assert!(lines[0].contains(&says), "{transport}: {}", run.stderr);
            assert!(!run.stderr.contains("hunter3"), "{}", run.stderr);
            assert!(run.stdout.is_empty(), "{}", run.stdout);
        }
        assert_eq!(proxy.heads().len(), 2, "{transport}: sent once per run");

        let run = list(&sim, transport, &[ca_env], &["-v", "--proxy", &cases[0].0]);
        assert_eq!(run.code, 1, "{transport}: {}", run.stderr);
        assert!(
            run.stderr
                .contains(&format!("attempt 1, through the proxy {address}")),
            "{transport}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("hunter3"), "{}", run.stderr);
    }
    assert!(sim.requests().is_empty());
}

#[test]
fn a_bad_proxy_is_a_usage_error_that_hides_the_password() {
    let sim = Simulator::builder().tls(true).build().unwrap();
    for bad in [
        "socks5://user:hunter2@127.0.0.1:1",
        "http://user:hunter2@h:99999",
    ] {
        let run = list(&sim, "ureq", &[], &["--proxy", bad]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains("--proxy"), "{}", run.stderr);
        assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
    }
    // --help never shows the variable's value.
    let help = run(&[("COXEDGE_PROXY", "http://user:hunter2@h:1")], &["--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("--proxy"), "{}", help.stdout);
    assert!(!help.stdout.contains("hunter2"), "{}", help.stdout);
}

#[test]
fn the_builtin_simulator_ignores_environment_proxies() {
    let proxy = ConnectProxy::start();
    let run = run(
        &[
            ("HTTP_PROXY", "http://10.255.255.1:3128"),
            ("ALL_PROXY", &proxy.url()),
        ],
        &["list", "--json"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(proxy.heads().is_empty());
}
