//! `zmq_remote_thr <connect-to> <message-size> <message-count> [pattern]`: libzmq's
//! `remote_thr` on libzmq through the `zmq` crate, paired with `zmq_local_thr` (or
//! monocoque's `local_thr`) given the same pattern.
//!
//! - `push-pull` (default, libzmq's test): a PUSH connects and sends the messages.
//! - `dealer-router`: the same with a DEALER, which then waits for `zmq_local_thr`'s
//!   acknowledgement of the last message before disconnecting (see `zmq_local_thr`).
//! - `pub-sub[:N]`: the endpoint is bound here. An XPUB (high-water marks unlimited,
//!   so nothing is dropped) waits until N distinct marker subscriptions
//!   (`[0xff, i / 256, i % 256]`, see `examples/perf/common.rs`) have arrived, one from each of `zmq_local_thr`'s subscribers, then publishes.
//!   Without ZMQ_XPUB_VERBOSE libzmq reports each topic once, which is why every
//!   subscriber has its own marker.
//!
//! Each message is a fresh `zmq_msg_init_size` message as in libzmq's tool (filled
//! from a template, as monocoque's `remote_thr` does, so both pay the same copy); the
//! context is terminated with the default (infinite) linger, so every message is
//! written before the process exits.

use monocoque_perf::{Markers, Pattern, check, parse_thr_args, unlimited};

/// Binds an XPUB on `bind_to` and waits for `subscribers` distinct marker topics.
fn publisher(context: &zmq::Context, bind_to: &str, subscribers: usize) -> zmq::Socket {
    let xpub = check(context.socket(zmq::XPUB), "zmq_socket");
    unlimited(&xpub);
    check(xpub.bind(bind_to), "zmq_bind");
    let mut markers = Markers::new(subscribers);
    let mut report = zmq::Message::new();
    while !markers.complete() {
        check(xpub.recv(&mut report, 0), "zmq_recvmsg");
        markers.note(&report);
    }
    xpub
}

fn main() {
    let (endpoint, size, count, pattern) = parse_thr_args("zmq_remote_thr", "connect-to");
    let context = zmq::Context::new();
    let socket = match pattern {
        Pattern::PubSub(n) => publisher(&context, &endpoint, n),
        _ => {
            let socket_type = if pattern == Pattern::DealerRouter {
                zmq::DEALER
            } else {
                zmq::PUSH
            };
            let socket = check(context.socket(socket_type), "zmq_socket");
            check(socket.connect(&endpoint), "zmq_connect");
            socket
        }
    };

    let template = vec![0u8; size];
    for _ in 0..count {
        // `send(&[u8])` is zmq_msg_init_size + memcpy + zmq_msg_send.
        check(socket.send(&template[..], 0), "zmq_sendmsg");
    }
    if pattern == Pattern::DealerRouter {
        check(socket.recv_bytes(0), "zmq_recvmsg");
    }
    // Close the socket, then terminate the context: zmq_ctx_term waits for the
    // queued messages (ZMQ_LINGER is -1 by default).
    drop(socket);
    drop(context);
}
