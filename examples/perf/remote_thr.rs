//! `remote_thr <connect-to> <message-size> <message-count> [pattern]`: the sending
//! half of libzmq's throughput test on monocoque, paired with `local_thr` (or libzmq's
//! `zmq_local_thr`) given the same pattern.
//!
//! - `push-pull` (default, libzmq's test): a PUSH connects and sends `message-count`
//!   messages of `message-size` bytes, then closes, which waits (default linger)
//!   until every queued message is written.
//! - `dealer-router`: the same with a DEALER, which then waits for `local_thr`'s
//!   acknowledgement of the last message before disconnecting (see `local_thr`).
//! - `pub-sub[:N]`: the endpoint is bound here. An XPUB (high-water mark unlimited,
//!   so nothing is dropped) waits until N distinct marker subscriptions
//!   (`common::marker`) have arrived, one from each of `local_thr`'s subscribers, then publishes.
//!
//! With `--curve` the sockets use CURVE (`curve.rs`), the binding side as the
//! server: pair with `local_thr --curve` or, for push-pull,
//! `perf-curve/curve_local_thr`.
//!
//! Each message is a copy of a template, sent as `send(&template[..])`, as
//! `zmq_remote_thr` sends through the `zmq` crate's `send(&[u8])`: both pay one copy
//! per message. libzmq allocates each copy (`zmq_msg_init_size`); monocoque carves
//! small ones out of a shared block (`monocoque_core::copy`).

#[path = "common.rs"]
mod common;
#[path = "curve.rs"]
mod curve;
#[path = "handles.rs"]
mod handles;
#[path = "native_runtime.rs"]
mod native_runtime;

use common::{Api, Markers, Pattern};
use monocoque::{Context, Socket, SocketHandle, SocketOptions, SocketType};

/// The sending socket of a one-to-one pattern.
fn sender_type(pattern: Pattern) -> SocketType {
    if pattern == Pattern::DealerRouter {
        SocketType::Dealer
    } else {
        SocketType::Push
    }
}

/// Binds an XPUB on `bind_to` and waits for `subscribers` distinct marker topics.
async fn publisher(bind_to: &str, subscribers: usize) -> Socket {
    let options = curve::binding(SocketOptions::default().sndhwm(0).rcvhwm(0));
    let xpub = Socket::with_options(SocketType::Xpub, options);
    xpub.bind(bind_to).await.unwrap_or_else(|e| common::fail(e));
    let mut markers = Markers::new(subscribers);
    while !markers.complete() {
        let report = xpub.recv().await.unwrap_or_else(|e| common::fail(e));
        markers.note(&report[0]);
    }
    xpub
}

/// The handle APIs (`handle`, `tokio`): the same with one handle.
fn send_with_handle(api: Api, endpoint: &str, size: usize, count: u64, pattern: Pattern) {
    let context = Context::new().unwrap_or_else(|e| common::fail(e));
    handles::run(api, async {
        let socket = match pattern {
            Pattern::PubSub(n) => publisher_handle(api, &context, endpoint, n).await,
            _ => {
                let socket_type = sender_type(pattern);
                let options = curve::connecting(SocketOptions::default());
                let socket = context
                    .socket_with_options(socket_type, options)
                    .unwrap_or_else(|e| common::fail(e));
                socket
                    .connect(endpoint)
                    .await
                    .unwrap_or_else(|e| common::fail(e));
                socket
            }
        };
        let template = vec![0u8; size];
        for _ in 0..count {
            handles::send(&socket, &template[..], api).await;
        }
        if pattern == Pattern::DealerRouter {
            handles::recv(&socket, api).await;
        }
    });
    // Waits until every queued message was written (infinite linger).
    context.terminate();
}

async fn publisher_handle(
    api: Api,
    context: &Context,
    bind_to: &str,
    subscribers: usize,
) -> SocketHandle {
    let options = curve::binding(SocketOptions::default().sndhwm(0).rcvhwm(0));
    let xpub = context
        .socket_with_options(SocketType::Xpub, options)
        .unwrap_or_else(|e| common::fail(e));
    xpub.bind(bind_to).await.unwrap_or_else(|e| common::fail(e));
    let mut markers = Markers::new(subscribers);
    while !markers.complete() {
        markers.note(&handles::recv(&xpub, api).await[0]);
    }
    xpub
}

fn main() {
    let (endpoint, size, count, pattern) = common::parse_thr_args("remote_thr", "connect-to");
    match common::api() {
        Api::Native => native(&endpoint, size, count, pattern),
        api => send_with_handle(api, &endpoint, size, count, pattern),
    }
}

fn native(endpoint: &str, size: usize, count: u64, pattern: Pattern) {
    native_runtime::new().block_on(send(endpoint, size, count, pattern))
}

/// The native sender, on this thread's runtime.
async fn send(endpoint: &str, size: usize, count: u64, pattern: Pattern) {
    let socket = match pattern {
        Pattern::PubSub(n) => publisher(endpoint, n).await,
        _ => {
            let socket_type = sender_type(pattern);
            let options = curve::connecting(SocketOptions::default());
            let socket = Socket::with_options(socket_type, options);
            socket
                .connect(endpoint)
                .await
                .unwrap_or_else(|e| common::fail(e));
            socket
        }
    };

    let template = vec![0u8; size];
    for _ in 0..count {
        socket
            .send(&template[..])
            .await
            .unwrap_or_else(|e| common::fail(e));
    }
    if pattern == Pattern::DealerRouter {
        socket.recv().await.unwrap_or_else(|e| common::fail(e));
    }
    socket.close().await;
}
