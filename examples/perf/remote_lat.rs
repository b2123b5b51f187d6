//! `remote_lat <connect-to> <message-size> <roundtrip-count>`: the measuring half of
//! libzmq's latency test on monocoque. A REQ connects, then sends a message and waits
//! for its echo `roundtrip-count` times; it prints the one-way latency,
//! elapsed / (2 * roundtrips). As in libzmq's `remote_lat`, the clock starts right
//! after `connect`, so the first round trip includes the connection set-up.
//! With `--curve` the REQ is a CURVE client of `local_lat --curve` or
//! `perf-curve/curve_local_lat` (fixed test keys, `curve.rs`).

#[path = "common.rs"]
mod common;
#[path = "curve.rs"]
mod curve;
#[path = "handles.rs"]
mod handles;

use std::time::{Duration, Instant};

use bytes::Bytes;
use monocoque::{Context, Message, ReqSocket, SocketOptions, SocketType};

fn main() {
    let (connect_to, size, roundtrips) =
        common::parse_args("remote_lat", "connect-to", "roundtrip-count");
    let elapsed = match common::api() {
        common::Api::Native => native(&connect_to, size, roundtrips),
        api => with_handle(api, &connect_to, size, roundtrips),
    };
    common::print_latency(size, roundtrips, elapsed);
}

fn check(message: &Message, size: usize) {
    if message.len() != 1 || message[0].len() != size {
        common::fail(format!(
            "reply of {} bytes; expected {size}",
            message.byte_len()
        ));
    }
}

/// The handle APIs (`handle`, `tokio`).
fn with_handle(api: common::Api, connect_to: &str, size: usize, roundtrips: u64) -> Duration {
    let context = Context::new().unwrap_or_else(|e| common::fail(e));
    let req = context
        .socket_with_options(SocketType::Req, curve::connecting(SocketOptions::default()))
        .unwrap_or_else(|e| common::fail(e));
    let elapsed = handles::run(api, async {
        req.connect(connect_to)
            .await
            .unwrap_or_else(|e| common::fail(e));
        let mut message = Message::from(Bytes::from(vec![0u8; size]));
        let start = Instant::now();
        for _ in 0..roundtrips {
            handles::send(&req, message, api).await;
            message = handles::recv(&req, api).await;
            check(&message, size);
        }
        start.elapsed()
    });
    drop(req);
    context.terminate();
    elapsed
}

#[compio::main]
async fn native(connect_to: &str, size: usize, roundtrips: u64) -> Duration {
    let req = ReqSocket::with_options(curve::connecting(SocketOptions::default()));
    req.connect(connect_to)
        .await
        .unwrap_or_else(|e| common::fail(e));

    // libzmq's remote_lat sends the message it just received back each time.
    let mut message = Message::from(Bytes::from(vec![0u8; size]));
    let start = Instant::now();
    for _ in 0..roundtrips {
        req.send(message).await.unwrap_or_else(|e| common::fail(e));
        message = req.recv().await.unwrap_or_else(|e| common::fail(e));
        check(&message, size);
    }
    let elapsed = start.elapsed();
    req.close().await;
    elapsed
}
