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
#[path = "handles.rs"]
mod handles;

use monocoque::{Context, Message, RepSocket, SocketOptions, SocketType};

fn main() {
    let (bind_to, size, roundtrips) = common::parse_args("local_lat", "bind-to", "roundtrip-count");
    match common::api() {
        common::Api::Native => native(&bind_to, size, roundtrips),
        api => with_handle(api, &bind_to, size, roundtrips),
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

/// The handle APIs (`handle`, `tokio`).
fn with_handle(api: common::Api, bind_to: &str, size: usize, roundtrips: u64) {
    let context = Context::new().unwrap_or_else(|e| common::fail(e));
    let rep = context
        .socket_with_options(SocketType::Rep, curve::binding(SocketOptions::default()))
        .unwrap_or_else(|e| common::fail(e));
    handles::run(api, async {
        rep.bind(bind_to).await.unwrap_or_else(|e| common::fail(e));
        for _ in 0..roundtrips {
            let message = handles::recv(&rep, api).await;
            check(&message, size);
            handles::send(&rep, message, api).await;
        }
    });
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
