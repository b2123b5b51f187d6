//! `zeromq_local_thr <bind-to> <message-size> <message-count> [pattern]`: libzmq's
//! `local_thr` on zmq.rs (the `zeromq` crate, tokio), paired with `zeromq_remote_thr`
//! (or `zmq_remote_thr`, monocoque's `remote_thr`) given the same pattern; the
//! conventions are `zmq_local_thr`'s:
//!
//! - `push-pull`: a PULL binds and receives, timed from the first message.
//! - `dealer-router`: a ROUTER binds and receives `[routing id, payload]`, then sends
//!   the DEALER an empty acknowledgement.
//! - `pub-sub[:N]`: N XSUB sockets (zmq.rs's SUB takes `&str` topics, and the marker
//!   `[0xff, i / 256, i % 256]` is not UTF-8, so the subscriptions are sent as XSUB messages: the
//!   same bytes on the wire) subscribe to everything and to their marker, connect to
//!   the publisher and are read by N tasks of one current-thread runtime.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use monocoque_perf_rivals::{
    Pattern, check, check_frame, marker, parse_thr_args, print_throughput, runtime,
};
use zeromq::prelude::*;
use zeromq::{PullSocket, RouterSocket, XSubSocket, ZmqMessage};

async fn pull(bind_to: &str, size: usize, count: u64) -> Duration {
    let mut socket = PullSocket::new();
    check(socket.bind(bind_to).await, "bind");
    let mut receive = async || {
        let message = check(socket.recv().await, "recv");
        let len = message.get(0).map_or(0, Bytes::len);
        check_frame(message.len(), len, size);
    };
    receive().await;
    let start = Instant::now();
    for _ in 1..count {
        receive().await;
    }
    start.elapsed()
}

async fn router(bind_to: &str, size: usize, count: u64) -> Duration {
    let mut socket = RouterSocket::new();
    check(socket.bind(bind_to).await, "bind");
    let mut receive = async || {
        let message = check(socket.recv().await, "recv");
        // [routing id, payload]
        let len = message.get(1).map_or(0, Bytes::len);
        check_frame(message.len().saturating_sub(1), len, size);
        message.get(0).unwrap().clone()
    };
    let mut routing_id = receive().await;
    let start = Instant::now();
    for _ in 1..count {
        routing_id = receive().await;
    }
    let elapsed = start.elapsed();
    let ack = check(ZmqMessage::try_from(vec![routing_id, Bytes::new()]), "ack");
    check(socket.send(ack).await, "send");
    // Give the writer task time to put the acknowledgement on the wire: zmq.rs has
    // no linger, and the DEALER is waiting for it.
    tokio::time::sleep(Duration::from_millis(100)).await;
    elapsed
}

async fn subscribers(connect_to: &str, size: usize, count: u64, n: usize) -> Duration {
    let first: Rc<Cell<Option<Instant>>> = Rc::new(Cell::new(None));
    let mut subs = Vec::with_capacity(n);
    for index in 0..n {
        let mut sub = XSubSocket::new();
        check(sub.connect(connect_to).await, "connect");
        for topic in [&[][..], &marker(index)[..]] {
            let mut subscribe = vec![1u8];
            subscribe.extend_from_slice(topic);
            check(
                sub.send(ZmqMessage::from(subscribe)).await,
                "send subscription",
            );
        }
        subs.push(sub);
    }
    let local = tokio::task::LocalSet::new();
    for mut sub in subs {
        let first = first.clone();
        local.spawn_local(async move {
            for _ in 0..count {
                let message = check(sub.recv().await, "recv");
                if first.get().is_none() {
                    first.set(Some(Instant::now()));
                }
                let len = message.get(0).map_or(0, Bytes::len);
                check_frame(message.len(), len, size);
            }
            sub
        });
    }
    local.await;
    first.get().unwrap().elapsed()
}

fn main() {
    let (endpoint, size, count, pattern) = parse_thr_args("zeromq_local_thr", "bind-to");
    let elapsed = runtime().block_on(async {
        match pattern {
            Pattern::PushPull => pull(&endpoint, size, count).await,
            Pattern::DealerRouter => router(&endpoint, size, count).await,
            Pattern::PubSub(n) => subscribers(&endpoint, size, count, n).await,
        }
    });
    if let Some(line) = pattern.describe() {
        println!("{line}");
    }
    print_throughput(size, count, elapsed);
}
