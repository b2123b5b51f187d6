//! `omq_remote_thr <connect-to> <message-size> <message-count> [pattern]`: libzmq's
//! `remote_thr` on OMQ.rs (the `omq-tokio` crate), paired with `omq_local_thr` (or
//! `zmq_local_thr`, monocoque's `local_thr`); conventions as `zmq_remote_thr`'s.
//! Sockets are driven on this process's current-thread tokio runtime.
//!
//! - `push-pull`: a PUSH connects and sends; closed with infinite linger (OMQ's
//!   default linger is 0, libzmq's infinite), so every message is written.
//! - `dealer-router`: a DEALER connects, sends, then waits for the acknowledgement.
//! - `pub-sub[:N]`: an XPUB binds (send high-water mark at OMQ's maximum and
//!   `xpub_nodrop`, so a full subscriber queue blocks instead of dropping) and waits
//!   for N distinct marker subscriptions `[1, 0xff, i / 256, i % 256]`, then publishes.
//!
//! Each message is a fresh copy of a template, as in the other tools.

use monocoque_perf_rivals::{Markers, Pattern, check, parse_thr_args, runtime};
use omq_tokio::{Message, Options, Socket, SocketType};

fn main() {
    let (endpoint, size, count, pattern) = parse_thr_args("omq_remote_thr", "connect-to");
    runtime().block_on(async {
        let socket = match pattern {
            Pattern::PubSub(n) => {
                let mut options = Options::default().linger_forever().send_hwm(u32::MAX);
                options.xpub_nodrop = true;
                let xpub = Socket::new(SocketType::XPub, options);
                check(xpub.bind(endpoint.as_str()).await, "bind");
                let mut markers = Markers::new(n);
                while !markers.complete() {
                    let report = check(xpub.recv().await, "recv");
                    if report.len() == 1 {
                        markers.note(report.get(0).unwrap());
                    }
                }
                xpub
            }
            _ => {
                let socket_type = if pattern == Pattern::DealerRouter {
                    SocketType::Dealer
                } else {
                    SocketType::Push
                };
                let socket = Socket::new(socket_type, Options::default().linger_forever());
                check(socket.connect(endpoint.as_str()).await, "connect");
                socket
            }
        };
        let template = vec![0u8; size];
        for _ in 0..count {
            check(socket.send(Message::from_slice(&template)).await, "send");
        }
        if pattern == Pattern::DealerRouter {
            check(socket.recv().await, "recv");
        }
        check(socket.close().await, "close");
    });
}
