//! `curve_handshake_server <bind-to> [--api native|handle]`: a REP, CURVE server
//! with the test keys of `curve.rs`, that echoes every request until killed; the
//! server side of `curve_handshakes` (the counterpart of
//! `perf-curve/curve_handshake_server.c`). `--api` as in `curve_handshakes`.

#[path = "common.rs"]
mod common;
#[path = "curve.rs"]
mod curve;

use monocoque::{Context, RepSocket, SocketOptions, SocketType};

fn main() {
    let endpoint = match &common::command_line()[..] {
        [endpoint] => endpoint.clone(),
        _ => {
            eprintln!("usage: curve_handshake_server <bind-to> [--api native|handle]");
            std::process::exit(1);
        }
    };
    match common::api() {
        common::Api::Native => native(&endpoint),
        common::Api::Handle => with_handle(&endpoint),
        common::Api::Tokio => common::fail("curve_handshake_server takes --api native or handle"),
    }
}

#[compio::main]
async fn native(endpoint: &str) {
    let rep = RepSocket::with_options(curve::server(SocketOptions::default()));
    rep.bind(endpoint).await.unwrap_or_else(|e| common::fail(e));
    loop {
        let request = rep.recv().await.unwrap_or_else(|e| common::fail(e));
        // The client may be gone already; the reply is then dropped, as in libzmq.
        if let Err(e) = rep.send(request).await {
            eprintln!("curve_handshake_server: reply not sent: {e}");
        }
    }
}

/// The handle API, from this plain thread.
fn with_handle(endpoint: &str) {
    let context = Context::new().unwrap_or_else(|e| common::fail(e));
    let rep = context
        .socket_with_options(SocketType::Rep, curve::server(SocketOptions::default()))
        .unwrap_or_else(|e| common::fail(e));
    futures::executor::block_on(rep.bind(endpoint)).unwrap_or_else(|e| common::fail(e));
    loop {
        let request = rep.recv_blocking(None).unwrap_or_else(|e| common::fail(e));
        if let Err(e) = rep.send_blocking(request, None) {
            eprintln!("curve_handshake_server: reply not sent: {e}");
        }
    }
}
