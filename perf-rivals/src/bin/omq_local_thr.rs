//! `omq_local_thr <bind-to> <message-size> <message-count> [pattern]`: libzmq's
//! `local_thr` on OMQ.rs (the `omq-tokio` crate), paired with `omq_remote_thr` (or
//! `zmq_remote_thr`, monocoque's `remote_thr`) given the same pattern; conventions
//! as `zmq_local_thr`'s. Sockets are driven on this process's current-thread tokio
//! runtime (`Socket::new`), not on OMQ-owned I/O threads.
//!
//! - `push-pull`: a PULL binds and receives, timed from the first message.
//! - `dealer-router`: a ROUTER binds and receives `[routing id, payload]`, then sends
//!   the DEALER an empty acknowledgement (linger: until it is written).
//! - `pub-sub[:N]`: N SUB sockets (receive high-water mark at OMQ's maximum)
//!   subscribe to everything and to their marker `[0xff, i / 256, i % 256]`, connect to the
//!   publisher and are read by N tasks of the one runtime.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use monocoque_perf_rivals::{
    Pattern, check, check_frame, marker, parse_thr_args, print_throughput, runtime,
};
use omq_tokio::{Message, Options, Socket, SocketType};

/// PUSH/PULL or DEALER/ROUTER: one socket binds and receives.
async fn one_receiver(bind_to: &str, size: usize, count: u64, pattern: Pattern) -> Duration {
    let router = pattern == Pattern::DealerRouter;
    let socket_type = if router {
        SocketType::Router
    } else {
        SocketType::Pull
    };
    let socket = Socket::new(socket_type, Options::default().linger_forever());
    check(socket.bind(bind_to).await, "bind");
    let receive = async || {
        let message = check(socket.recv().await, "recv");
        let envelope = usize::from(router);
        let len = message.get(envelope).map_or(0, <[u8]>::len);
        check_frame(message.len().saturating_sub(envelope), len, size);
        if router { message.part_bytes(0) } else { None }
    };
    let mut routing_id = receive().await;
    let start = Instant::now();
    for _ in 1..count {
        routing_id = receive().await;
    }
    let elapsed = start.elapsed();
    if let Some(routing_id) = routing_id {
        let ack = Message::multipart([routing_id, Bytes::new()]);
        check(socket.send(ack).await, "send");
    }
    check(socket.close().await, "close");
    elapsed
}

async fn subscribers(connect_to: &str, size: usize, count: u64, n: usize) -> Duration {
    let first: Rc<Cell<Option<Instant>>> = Rc::new(Cell::new(None));
    let mut subs = Vec::with_capacity(n);
    for index in 0..n {
        let sub = Socket::new(SocketType::Sub, Options::default().recv_hwm(u32::MAX));
        check(sub.subscribe(Bytes::new()).await, "subscribe");
        check(
            sub.subscribe(Bytes::copy_from_slice(&marker(index))).await,
            "subscribe",
        );
        check(sub.connect(connect_to).await, "connect");
        subs.push(sub);
    }
    let local = tokio::task::LocalSet::new();
    for sub in subs {
        let first = first.clone();
        local.spawn_local(async move {
            for _ in 0..count {
                let message = check(sub.recv().await, "recv");
                if first.get().is_none() {
                    first.set(Some(Instant::now()));
                }
                check_frame(message.len(), message.get(0).map_or(0, <[u8]>::len), size);
            }
        });
    }
    local.await;
    first.get().unwrap().elapsed()
}

fn main() {
    let (endpoint, size, count, pattern) = parse_thr_args("omq_local_thr", "bind-to");
    let elapsed = runtime().block_on(async {
        match pattern {
            Pattern::PubSub(n) => subscribers(&endpoint, size, count, n).await,
            _ => one_receiver(&endpoint, size, count, pattern).await,
        }
    });
    if let Some(line) = pattern.describe() {
        println!("{line}");
    }
    print_throughput(size, count, elapsed);
}
