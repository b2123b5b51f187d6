//! `zmq_remote_thr <connect-to> <message-size> <message-count>`: libzmq's
//! `remote_thr` on libzmq through the `zmq` crate. A PUSH connects and sends the
//! messages, each a fresh `zmq_msg_init_size` message as in libzmq's tool (filled from
//! a template, as monocoque's `remote_thr` does, so both pay the same copy); the
//! context is terminated with the default (infinite) linger, so every message is
//! written before the process exits.

use monocoque_perf::{check, parse_args};

fn main() {
    let (connect_to, size, count) = parse_args("zmq_remote_thr", "connect-to", "message-count");
    let context = zmq::Context::new();
    let push = check(context.socket(zmq::PUSH), "zmq_socket");
    check(push.connect(&connect_to), "zmq_connect");

    let template = vec![0u8; size];
    for _ in 0..count {
        // `send(&[u8])` is zmq_msg_init_size + memcpy + zmq_msg_send.
        check(push.send(&template[..], 0), "zmq_sendmsg");
    }
    // Close the socket, then terminate the context: zmq_ctx_term waits for the
    // queued messages (ZMQ_LINGER is -1 by default).
    drop(push);
    drop(context);
}
