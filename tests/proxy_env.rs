//! Proxies named in the environment are not used: ureq would otherwise send
//! plain-http requests, key header included, to the proxy host, past the
//! loopback check. Alone in its own test binary because it sets process-wide
//! environment variables.
#![cfg(all(feature = "ureq", feature = "hyper", feature = "simulator"))]

mod support;

use std::net::TcpListener;

use coxedge_images::ListOptions;
use coxedge_images::transports::{AsyncClient, Client};

#[test]
fn proxy_variables_are_ignored() {
    // A "proxy" that records whether anyone connected.
    let proxy = TcpListener::bind("127.0.0.1:0").unwrap();
    proxy.set_nonblocking(true).unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        // SAFETY: this test binary has this one test and no other thread
        // reads the environment while it is set.
        unsafe { std::env::set_var(var, &proxy_url) };
    }
    let sim = support::simulator();

    let client = Client::ureq_with(sim.endpoint(), support::config()).unwrap();
    assert_eq!(
        client
            .list_images(&ListOptions::new())
            .unwrap()
            .images
            .len(),
        2
    );

    let runtime = support::multi_thread_runtime();
    let listed = runtime.block_on(async {
        let client = AsyncClient::hyper_with(sim.endpoint(), support::config()).unwrap();
        client.list_images(&ListOptions::new()).await
    });
    assert_eq!(listed.unwrap().images.len(), 2);

    assert!(
        proxy.accept().is_err(),
        "a transport connected to the proxy"
    );
    assert_eq!(sim.requests().len(), 2);
}
