//! `zeromq_remote_thr <connect-to> <message-size> <message-count> [pattern]`:
//! libzmq's `remote_thr` on zmq.rs (the `zeromq` crate, tokio), paired with
//! `zeromq_local_thr` (or `zmq_local_thr`, monocoque's `local_thr`); conventions as
//! `zmq_remote_thr`'s:
//!
//! - `push-pull`: a PUSH connects and sends. zmq.rs has no linger (`send` returning
//!   means queued for a writer task, not written) and its PUSH does not notice a
//!   peer's disconnection until it writes, so before exiting the tool sends an empty
//!   message every millisecond until `send` fails (the receiver, done, has closed
//!   the connection), at most 10 s. The receiver never reads them.
//! - `dealer-router`: a DEALER connects, sends, then waits for the acknowledgement.
//! - `pub-sub[:N]`: an XPUB binds and waits for N distinct marker subscriptions
//!   `[1, 0xff, i / 256, i % 256]`, then publishes (zmq.rs's XPUB writes each message to every
//!   matching subscriber before `send` returns: nothing is dropped).
//!
//! Each message is a fresh copy of a template, as in the other tools.

use std::time::{Duration, Instant};

use bytes::Bytes;
use monocoque_perf_rivals::{Markers, Pattern, check, parse_thr_args, runtime};
use zeromq::prelude::*;
use zeromq::{DealerSocket, PushSocket, XPubSocket, ZmqMessage};

async fn send_all(socket: &mut impl SocketSend, size: usize, count: u64) {
    let template = vec![0u8; size];
    for _ in 0..count {
        let message = ZmqMessage::from(Bytes::copy_from_slice(&template));
        check(socket.send(message).await, "send");
    }
}

async fn push(connect_to: &str, size: usize, count: u64) {
    let mut socket = PushSocket::new();
    check(socket.connect(connect_to).await, "connect");
    send_all(&mut socket, size, count).await;
    // Stay until the receiver is gone: one empty message every millisecond (never
    // read: the receiver stops after `count`) until zmq.rs finds the connection
    // closed and `send` fails, at most 10 s.
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if socket.send(ZmqMessage::from(Bytes::new())).await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    eprintln!("zeromq_remote_thr: the receiver did not disconnect within 10 s");
}

async fn dealer(connect_to: &str, size: usize, count: u64) {
    let mut socket = DealerSocket::new();
    check(socket.connect(connect_to).await, "connect");
    send_all(&mut socket, size, count).await;
    check(socket.recv().await, "recv");
}

async fn publisher(bind_to: &str, size: usize, count: u64, n: usize) {
    let mut socket = XPubSocket::new();
    check(socket.bind(bind_to).await, "bind");
    let mut markers = Markers::new(n);
    while !markers.complete() {
        let report = check(socket.recv().await, "recv");
        if report.len() == 1 {
            markers.note(report.get(0).unwrap());
        }
    }
    send_all(&mut socket, size, count).await;
}

fn main() {
    let (endpoint, size, count, pattern) = parse_thr_args("zeromq_remote_thr", "connect-to");
    runtime().block_on(async {
        match pattern {
            Pattern::PushPull => push(&endpoint, size, count).await,
            Pattern::DealerRouter => dealer(&endpoint, size, count).await,
            Pattern::PubSub(n) => publisher(&endpoint, size, count, n).await,
        }
    });
}
