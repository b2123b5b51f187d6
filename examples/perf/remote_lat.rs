//! `remote_lat <connect-to> <message-size> <roundtrip-count> [pattern]`: the
//! measuring half of libzmq's latency test on monocoque. Pair it with `local_lat` or
//! `zmq_local_lat`, given the same pattern.
//!
//! - `req-rep` (default, libzmq's test): a REQ connects, then sends a message and
//!   waits for its echo `roundtrip-count` times; it prints the one-way latency,
//!   elapsed / (2 * roundtrips). As in libzmq's `remote_lat`, the clock starts right
//!   after `connect`, so the first round trip includes the connection set-up.
//! - `dealer-router:N`: N DEALERs on this one thread connect. One untimed round
//!   brings every connection up; then, `roundtrip-count` times, every DEALER sends a
//!   message and every DEALER receives its echo. It prints the round trips per
//!   second of all of them together.
//!
//! With `--curve` the connecting sockets are CURVE clients of `local_lat --curve` or
//! `perf-curve/curve_local_lat` (fixed test keys, `curve.rs`).

#[path = "common.rs"]
mod common;
#[path = "curve.rs"]
mod curve;
#[path = "handles.rs"]
mod handles;
#[path = "native_runtime.rs"]
mod native_runtime;

use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{Api, LatPattern};
use monocoque::{Context, Message, Socket, SocketHandle, SocketOptions, SocketType};

fn main() {
    let (connect_to, size, roundtrips, pattern) =
        common::parse_lat_args("remote_lat", "connect-to");
    let api = common::api();
    match pattern {
        LatPattern::ReqRep => {
            let elapsed = match api {
                Api::Native => native(&connect_to, size, roundtrips),
                api => with_handle(api, &connect_to, size, roundtrips),
            };
            common::print_latency(size, roundtrips, elapsed);
        }
        LatPattern::DealerRouter(dealers) => {
            let elapsed = match api {
                Api::Native => native_dealers(&connect_to, size, roundtrips, dealers),
                api => handle_dealers(api, &connect_to, size, roundtrips, dealers),
            };
            common::print_round_trips(size, dealers, roundtrips, elapsed);
        }
    }
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
fn with_handle(api: Api, connect_to: &str, size: usize, roundtrips: u64) -> Duration {
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

fn native(connect_to: &str, size: usize, roundtrips: u64) -> Duration {
    native_runtime::new().block_on(native_body(connect_to, size, roundtrips))
}

async fn native_body(connect_to: &str, size: usize, roundtrips: u64) -> Duration {
    let req = Socket::with_options(SocketType::Req, curve::connecting(SocketOptions::default()));
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

/// `dealer-router:N` on handles: N DEALER handles of one context, driven from this
/// thread.
fn handle_dealers(api: Api, connect_to: &str, size: usize, rounds: u64, n: usize) -> Duration {
    let context = Context::new().unwrap_or_else(|e| common::fail(e));
    let options = curve::connecting(SocketOptions::default());
    let dealers: Vec<SocketHandle> = (0..n)
        .map(|_| {
            context
                .socket_with_options(SocketType::Dealer, options.clone())
                .unwrap_or_else(|e| common::fail(e))
        })
        .collect();
    let elapsed = handles::run(api, async {
        for dealer in &dealers {
            dealer
                .connect(connect_to)
                .await
                .unwrap_or_else(|e| common::fail(e));
        }
        let payload = Bytes::from(vec![0u8; size]);
        let round = || async {
            for dealer in &dealers {
                handles::send(dealer, payload.clone(), api).await;
            }
            for dealer in &dealers {
                check(&handles::recv(dealer, api).await, size);
            }
        };
        round().await;
        let start = Instant::now();
        for _ in 0..rounds {
            round().await;
        }
        start.elapsed()
    });
    drop(dealers);
    context.terminate();
    elapsed
}

/// `dealer-router:N` on native sockets, all on this thread's runtime.
fn native_dealers(connect_to: &str, size: usize, rounds: u64, n: usize) -> Duration {
    native_runtime::new().block_on(native_dealers_body(connect_to, size, rounds, n))
}

async fn native_dealers_body(connect_to: &str, size: usize, rounds: u64, n: usize) -> Duration {
    let options = curve::connecting(SocketOptions::default());
    let dealers: Vec<Socket> = (0..n)
        .map(|_| Socket::with_options(SocketType::Dealer, options.clone()))
        .collect();
    for dealer in &dealers {
        dealer
            .connect(connect_to)
            .await
            .unwrap_or_else(|e| common::fail(e));
    }
    let payload = Bytes::from(vec![0u8; size]);
    let round = || async {
        for dealer in &dealers {
            dealer
                .send(payload.clone())
                .await
                .unwrap_or_else(|e| common::fail(e));
        }
        for dealer in &dealers {
            check(
                &dealer.recv().await.unwrap_or_else(|e| common::fail(e)),
                size,
            );
        }
    };
    round().await;
    let start = Instant::now();
    for _ in 0..rounds {
        round().await;
    }
    let elapsed = start.elapsed();
    for dealer in dealers {
        dealer.close().await;
    }
    elapsed
}
