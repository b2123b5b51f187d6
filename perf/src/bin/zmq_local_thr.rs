//! `zmq_local_thr <bind-to> <message-size> <message-count> [pattern]`: libzmq's
//! `local_thr` on libzmq through the `zmq` crate, paired with `zmq_remote_thr` (or
//! monocoque's `remote_thr`) given the same pattern.
//!
//! - `push-pull` (default, libzmq's test): a PULL binds, receives the messages into
//!   one reused `zmq::Message` and prints the rate, timed from the first message
//!   received.
//! - `dealer-router`: the same with a ROUTER, which receives `[routing id, payload]`;
//!   payloads are counted. After the last one (and the clock) it sends the DEALER an
//!   empty acknowledgement, which `zmq_remote_thr` awaits before disconnecting: this
//!   ROUTER (libzmq 4.3.4) was seen losing the last ~1% of the messages over ipc when
//!   the DEALER disconnected right after sending.
//! - `pub-sub[:N]`: the endpoint is the publisher's, to connect to. N SUB sockets in
//!   one context subscribe to everything plus a marker topic of their own
//!   (`[0xff, i / 256, i % 256]`) that is never published (so the XPUB publisher sees N distinct subscriptions), and are read on
//!   this one thread: each readable socket is drained with non-blocking receives, and
//!   `zmq_poll` waits when none has a message. Timed from the first message any
//!   subscriber receives until every subscriber has all of them; the rate is messages
//!   published per second. High-water marks are unlimited (0).

use std::time::{Duration, Instant};

use monocoque_perf::{
    Pattern, check, check_size, marker, parse_thr_args, print_throughput, unlimited,
};

/// PUSH/PULL or DEALER/ROUTER: one socket binds and receives.
fn one_receiver(bind_to: &str, size: usize, count: u64, pattern: Pattern) -> Duration {
    let socket_type = match pattern {
        Pattern::DealerRouter => zmq::ROUTER,
        _ => zmq::PULL,
    };
    let context = zmq::Context::new();
    let socket = check(context.socket(socket_type), "zmq_socket");
    check(socket.bind(bind_to), "zmq_bind");

    let mut routing_id = zmq::Message::new();
    let mut message = zmq::Message::new();
    let mut receive = || {
        if pattern == Pattern::DealerRouter {
            // The routing id, then the payload.
            check(socket.recv(&mut routing_id, 0), "zmq_recvmsg");
            if !routing_id.get_more() {
                eprintln!("ROUTER delivered a message without its routing id");
                std::process::exit(1);
            }
        }
        check(socket.recv(&mut message, 0), "zmq_recvmsg");
        check_size(&message, size);
    };
    receive();
    let start = Instant::now();
    for _ in 1..count {
        receive();
    }
    let elapsed = start.elapsed();
    if pattern == Pattern::DealerRouter {
        check(socket.send(routing_id, zmq::SNDMORE), "zmq_sendmsg");
        check(socket.send(zmq::Message::new(), 0), "zmq_sendmsg");
    }
    // Dropping the socket, then the context, waits until the acknowledgement is sent.
    drop(socket);
    elapsed
}

/// PUB/SUB: `subscribers` SUB sockets connect to the publisher at `connect_to`.
fn subscribers(connect_to: &str, size: usize, count: u64, subscribers: usize) -> Duration {
    let context = zmq::Context::new();
    let subs: Vec<zmq::Socket> = (0..subscribers)
        .map(|index| {
            let sub = check(context.socket(zmq::SUB), "zmq_socket");
            unlimited(&sub);
            // "" first: libzmq sends a new connection its subscriptions in trie
            // order, so the marker follows "" and, once the publisher has seen it,
            // this subscriber gets everything published.
            check(sub.set_subscribe(b""), "zmq_setsockopt(ZMQ_SUBSCRIBE)");
            check(
                sub.set_subscribe(&marker(index)),
                "zmq_setsockopt(ZMQ_SUBSCRIBE)",
            );
            check(sub.connect(connect_to), "zmq_connect");
            sub
        })
        .collect();

    let mut remaining = vec![count; subscribers];
    let mut unfinished = subscribers;
    let mut start = None;
    let mut message = zmq::Message::new();
    while unfinished > 0 {
        let mut received = false;
        for (sub, remaining) in subs.iter().zip(remaining.iter_mut()) {
            while *remaining > 0 {
                match sub.recv(&mut message, zmq::DONTWAIT) {
                    Ok(()) => {}
                    Err(zmq::Error::EAGAIN) => break,
                    Err(e) => check(Err(e), "zmq_recvmsg"),
                }
                start.get_or_insert_with(Instant::now);
                check_size(&message, size);
                received = true;
                *remaining -= 1;
                if *remaining == 0 {
                    unfinished -= 1;
                }
            }
        }
        if !received && unfinished > 0 {
            let mut items: Vec<zmq::PollItem> = subs
                .iter()
                .zip(&remaining)
                .filter(|(_, remaining)| **remaining > 0)
                .map(|(sub, _)| sub.as_poll_item(zmq::POLLIN))
                .collect();
            check(zmq::poll(&mut items, -1), "zmq_poll");
        }
    }
    start.unwrap().elapsed()
}

fn main() {
    let (endpoint, size, count, pattern) = parse_thr_args("zmq_local_thr", "bind-to");
    let elapsed = match pattern {
        Pattern::PubSub(n) => subscribers(&endpoint, size, count, n),
        _ => one_receiver(&endpoint, size, count, pattern),
    };
    if let Some(line) = pattern.describe() {
        println!("{line}");
    }
    print_throughput(size, count, elapsed);
}
