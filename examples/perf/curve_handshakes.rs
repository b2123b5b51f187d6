//! `curve_handshakes <connect-to> <count> [--api native|handle]`: CURVE handshakes
//! per second, the counterpart of `perf-curve/curve_handshakes.c`. For each of `count`
//! iterations a new REQ (CURVE client with the test keys of `curve.rs`, linger 0)
//! connects, sends 1 byte, receives the reply and closes. Pair it with
//! `curve_handshake_server` (either implementation). Prints the count and
//! count / elapsed.
//!
//! `--api native` (the default, and what `scripts/compare_curve.sh` runs as
//! "monocoque"): compio sockets on this tool's runtime, as `remote_lat` does; the
//! simpler path, and the one whose handshakes run where the application is, as
//! libzmq's run on its one I/O thread. `--api handle`: sockets of one `Context`,
//! used with blocking calls from this plain thread, like the C tool's sockets of one
//! `zmq_ctx`; each socket's creation and connection then also crosses to the I/O
//! thread.

#[path = "common.rs"]
mod common;
#[path = "curve.rs"]
mod curve;

use std::time::{Duration, Instant};

use monocoque::{Context, Message, ReqSocket, SocketOptions, SocketType};

fn main() {
    let (endpoint, count) = match &common::command_line()[..] {
        [endpoint, count] => match count.parse() {
            Ok(count @ 1..) => (endpoint.clone(), count),
            _ => usage(),
        },
        _ => usage(),
    };
    let elapsed = match common::api() {
        common::Api::Native => native(&endpoint, count),
        common::Api::Handle => with_handle(&endpoint, count),
        common::Api::Tokio => common::fail("curve_handshakes takes --api native or handle"),
    };
    let micros = (elapsed.as_micros() as f64).max(1.0);
    println!("handshakes: {count}");
    println!(
        "mean rate: {:.1} [handshakes/s]",
        count as f64 / micros * 1e6
    );
}

fn usage() -> ! {
    eprintln!("usage: curve_handshakes <connect-to> <count> [--api native|handle]");
    std::process::exit(1);
}

fn options() -> SocketOptions {
    curve::client(SocketOptions::default().linger(Some(Duration::ZERO)))
}

/// Exits unless `reply` is the 1-byte echo.
fn check(reply: &Message) {
    if reply.len() != 1 || reply[0].len() != 1 {
        common::fail(format!("reply of {} bytes; expected 1", reply.byte_len()));
    }
}

#[compio::main]
async fn native(endpoint: &str, count: u64) -> Duration {
    let options = options();
    let start = Instant::now();
    for _ in 0..count {
        let req = ReqSocket::with_options(options.clone());
        req.connect(endpoint)
            .await
            .unwrap_or_else(|e| common::fail(e));
        req.send(&[0u8][..])
            .await
            .unwrap_or_else(|e| common::fail(e));
        check(&req.recv().await.unwrap_or_else(|e| common::fail(e)));
        req.close().await;
    }
    start.elapsed()
}

/// The handle API: one `Context`, a socket handle per handshake.
fn with_handle(endpoint: &str, count: u64) -> Duration {
    let context = Context::new().unwrap_or_else(|e| common::fail(e));
    let options = options();
    let start = Instant::now();
    for _ in 0..count {
        let req = context
            .socket_with_options(SocketType::Req, options.clone())
            .unwrap_or_else(|e| common::fail(e));
        futures::executor::block_on(req.connect(endpoint)).unwrap_or_else(|e| common::fail(e));
        req.send_blocking(&[0u8][..], None)
            .unwrap_or_else(|e| common::fail(e));
        check(&req.recv_blocking(None).unwrap_or_else(|e| common::fail(e)));
    }
    let elapsed = start.elapsed();
    context.terminate();
    elapsed
}
