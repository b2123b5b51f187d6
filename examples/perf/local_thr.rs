//! `local_thr <bind-to> <message-size> <message-count> [pattern]`: the receiving half
//! of libzmq's throughput test on monocoque. Pair it with `remote_thr` or with
//! libzmq's (`zmq_remote_thr` in the `perf` crate), given the same pattern.
//!
//! - `push-pull` (default, libzmq's test): a PULL binds, receives `message-count`
//!   messages of `message-size` bytes and prints the rate; the clock starts when the
//!   first message arrives, as libzmq's `local_thr` does.
//! - `dealer-router`: the same with a ROUTER, which receives `[routing id, payload]`;
//!   payloads are counted. After the last one (and the clock) it sends the DEALER an
//!   empty acknowledgement, which `remote_thr` awaits before disconnecting: libzmq
//!   4.3.4's ROUTER was seen losing the last ~1% of the messages over ipc when the
//!   DEALER disconnected right after sending.
//! - `pub-sub[:N]`: the endpoint is the publisher's, to connect to. N SUB sockets on
//!   this one thread subscribe to everything plus a marker topic of their own
//!   (`common::marker`) that is never published (so the XPUB publisher sees N distinct subscriptions and knows
//!   every subscriber is there), then each receives all `message-count` messages.
//!   The clock runs from the first message any subscriber receives until the last
//!   subscriber has all of them; the rate is messages published per second.
//!   High-water marks are unlimited (0), so nothing is dropped.
//!
//! With `--curve` (anywhere on the command line) the sockets use CURVE with fixed
//! test keys (`curve.rs`), the binding side as the server: pair with `remote_thr
//! --curve` or, for push-pull, `perf-curve/curve_remote_thr`.

#[path = "common.rs"]
mod common;
#[path = "curve.rs"]
mod curve;
#[path = "handles.rs"]
mod handles;
#[path = "native_runtime.rs"]
mod native_runtime;

use std::cell::Cell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Api, Pattern};
use monocoque::{Bytes, Context, Message, Socket, SocketOptions, SocketType};

/// Exits unless `message` is `frames` frames, the last of `size` bytes.
fn check(message: &Message, frames: usize, size: usize) {
    if message.len() != frames || message.last().map(|f| f.len()) != Some(size) {
        common::fail(format!(
            "message of {} frame(s), {} bytes; expected {frames} frame(s), the last of {size} bytes",
            message.len(),
            message.byte_len()
        ));
    }
}

/// PUSH/PULL or DEALER/ROUTER: one socket binds and receives.
async fn one_receiver(bind_to: &str, size: usize, count: u64, pattern: Pattern) -> Duration {
    let (socket_type, frames) = match pattern {
        Pattern::DealerRouter => (SocketType::Router, 2),
        _ => (SocketType::Pull, 1),
    };
    let socket = Socket::with_options(socket_type, curve::binding(SocketOptions::default()));
    socket
        .bind(bind_to)
        .await
        .unwrap_or_else(|e| common::fail(e));

    let first = socket.recv().await.unwrap_or_else(|e| common::fail(e));
    check(&first, frames, size);
    let start = Instant::now();
    let mut last = first;
    for _ in 1..count {
        last = socket.recv().await.unwrap_or_else(|e| common::fail(e));
        check(&last, frames, size);
    }
    let elapsed = start.elapsed();
    if pattern == Pattern::DealerRouter {
        let ack = [last[0].clone(), Bytes::new()];
        socket.send(ack).await.unwrap_or_else(|e| common::fail(e));
    }
    socket.close().await;
    elapsed
}

/// PUB/SUB: `subscribers` SUB sockets connect to the publisher at `connect_to`.
async fn subscribers(connect_to: &str, size: usize, count: u64, subscribers: usize) -> Duration {
    let options = curve::connecting(SocketOptions::default().sndhwm(0).rcvhwm(0));
    // The first message received by any subscriber starts the clock.
    let start: Rc<Cell<Option<Instant>>> = Rc::new(Cell::new(None));
    let mut tasks = Vec::with_capacity(subscribers);
    for index in 0..subscribers {
        let sub = Socket::with_options(SocketType::Sub, options.clone());
        sub.subscribe("").unwrap_or_else(|e| common::fail(e));
        sub.connect(connect_to)
            .await
            .unwrap_or_else(|e| common::fail(e));
        let start = start.clone();
        tasks.push(compio::runtime::spawn(async move {
            // The marker goes out after "" (sent on the handshake): once the
            // publisher sees it, this subscriber gets everything published.
            sub.wait_for_peers(|n| n >= 1).await;
            sub.subscribe(common::marker(index))
                .unwrap_or_else(|e| common::fail(e));
            let first = sub.recv().await.unwrap_or_else(|e| common::fail(e));
            if start.get().is_none() {
                start.set(Some(Instant::now()));
            }
            check(&first, 1, size);
            for _ in 1..count {
                let message = sub.recv().await.unwrap_or_else(|e| common::fail(e));
                check(&message, 1, size);
            }
            let end = Instant::now();
            sub.close().await;
            end
        }));
    }
    let mut last = None;
    for task in tasks {
        let end = task
            .await
            .unwrap_or_else(|_| common::fail("subscriber task panicked"));
        last = last.max(Some(end));
    }
    let (start, last) = (start.get().unwrap(), last.unwrap());
    last.duration_since(start)
}

/// The handle APIs (`handle`, `tokio`): one receiving handle.
fn one_receiver_handle(
    api: Api,
    bind_to: &str,
    size: usize,
    count: u64,
    pattern: Pattern,
) -> Duration {
    let (socket_type, frames) = match pattern {
        Pattern::DealerRouter => (SocketType::Router, 2),
        _ => (SocketType::Pull, 1),
    };
    let context = Context::new().unwrap_or_else(|e| common::fail(e));
    let socket = context
        .socket_with_options(socket_type, curve::binding(SocketOptions::default()))
        .unwrap_or_else(|e| common::fail(e));
    let elapsed = handles::run(api, async {
        socket
            .bind(bind_to)
            .await
            .unwrap_or_else(|e| common::fail(e));
        let mut receiver = handles::receiver(&socket, api);
        let first = receiver.recv().await;
        check(&first, frames, size);
        let start = Instant::now();
        let mut last = first;
        for _ in 1..count {
            last = receiver.recv().await;
            check(&last, frames, size);
        }
        let elapsed = start.elapsed();
        if pattern == Pattern::DealerRouter {
            let ack = [last[0].clone(), Bytes::new()];
            handles::send(&socket, ack, api).await;
        }
        elapsed
    });
    drop(socket);
    context.terminate();
    elapsed
}

/// The handle APIs: N subscribing handles, each read on a thread of its own
/// (`handle`) or in a task of its own on one tokio thread (`tokio`).
fn subscribers_handle(
    api: Api,
    connect_to: &str,
    size: usize,
    count: u64,
    subscribers: usize,
) -> Duration {
    let context = Context::new().unwrap_or_else(|e| common::fail(e));
    let options = curve::connecting(SocketOptions::default().sndhwm(0).rcvhwm(0));
    let start = Arc::new(Mutex::new(None::<Instant>));
    let tasks: Vec<_> = (0..subscribers)
        .map(|index| {
            let sub = context
                .socket_with_options(SocketType::Sub, options.clone())
                .unwrap_or_else(|e| common::fail(e));
            let (start, connect_to) = (start.clone(), connect_to.to_string());
            async move {
                // "" then the marker, both sent on the handshake in that order.
                sub.subscribe("").await?;
                sub.subscribe(common::marker(index)).await?;
                sub.connect(&connect_to).await?;
                let mut receiver = handles::receiver(&sub, api);
                let first = receiver.recv().await;
                start
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .get_or_insert_with(Instant::now);
                check(&first, 1, size);
                for _ in 1..count {
                    check(&receiver.recv().await, 1, size);
                }
                Ok::<Instant, monocoque::Error>(Instant::now())
            }
        })
        .collect();
    let last = handles::run_each(api, tasks)
        .into_iter()
        .map(|end| end.unwrap_or_else(|e| common::fail(e)))
        .max();
    context.terminate();
    let start = start
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .unwrap_or_else(|| common::fail("no message"));
    last.unwrap_or(start).duration_since(start)
}

fn main() {
    let (endpoint, size, count, pattern) = common::parse_thr_args("local_thr", "bind-to");
    let elapsed = match (common::api(), pattern) {
        (Api::Native, pattern) => native(&endpoint, size, count, pattern),
        (api, Pattern::PubSub(n)) => subscribers_handle(api, &endpoint, size, count, n),
        (api, _) => one_receiver_handle(api, &endpoint, size, count, pattern),
    };
    if let Some(line) = pattern.describe() {
        println!("{line}");
    }
    common::print_throughput(size, count, elapsed);
}

fn native(endpoint: &str, size: usize, count: u64, pattern: Pattern) -> Duration {
    native_runtime::new().block_on(async {
        match pattern {
            Pattern::PubSub(n) => subscribers(endpoint, size, count, n).await,
            _ => one_receiver(endpoint, size, count, pattern).await,
        }
    })
}
