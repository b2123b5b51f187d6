//! `local_lat <bind-to> <message-size> <roundtrip-count>`: the echoing half of
//! libzmq's latency test on monocoque. A REP binds and sends every request back,
//! `roundtrip-count` times. Pair it with `remote_lat` or `zmq_remote_lat`.
//! With `--curve` (anywhere on the command line) the REP is a CURVE server with
//! fixed test keys (`curve.rs`): pair it with `remote_lat --curve` or
//! `perf-curve/curve_remote_lat`.

#[path = "common.rs"]
mod common;
#[path = "curve.rs"]
mod curve;

use monocoque::{Context, Message, RepSocket, SocketOptions, SocketType};

fn main() {
    let (bind_to, size, roundtrips) = common::parse_args("local_lat", "bind-to", "roundtrip-count");
    match common::api() {
        common::Api::Handle => with_handle(&bind_to, size, roundtrips),
        common::Api::Native => native(&bind_to, size, roundtrips),
    }
}

fn check(message: &Message, size: usize) {
    if message.len() != 1 || message[0].len() != size {
        common::fail(format!(
            "request of {} bytes; expected {size}",
            message.byte_len()
        ));
    }
}

/// The handle API, from this plain thread.
fn with_handle(bind_to: &str, size: usize, roundtrips: u64) {
    let context = Context::new().unwrap_or_else(|e| common::fail(e));
    let rep = context
        .socket_with_options(SocketType::Rep, curve::binding(SocketOptions::default()))
        .unwrap_or_else(|e| common::fail(e));
    futures::executor::block_on(rep.bind(bind_to)).unwrap_or_else(|e| common::fail(e));
    for _ in 0..roundtrips {
        let message = rep.recv_blocking(None).unwrap_or_else(|e| common::fail(e));
        check(&message, size);
        rep.send_blocking(message, None)
            .unwrap_or_else(|e| common::fail(e));
    }
    drop(rep);
    context.terminate();
}

#[compio::main]
async fn native(bind_to: &str, size: usize, roundtrips: u64) {
    let rep = RepSocket::with_options(curve::binding(SocketOptions::default()));
    rep.bind(bind_to).await.unwrap_or_else(|e| common::fail(e));

    for _ in 0..roundtrips {
        let message = rep.recv().await.unwrap_or_else(|e| common::fail(e));
        check(&message, size);
        rep.send(message).await.unwrap_or_else(|e| common::fail(e));
    }
    rep.close().await;
}
