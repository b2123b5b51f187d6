//! Options with an effect a peer sees (`ZMQ_IPV6`, `ZMQ_RECONNECT_STOP`,
//! `ZMQ_CONNECT_ROUTING_ID`), each shown against real libzmq peers (the `zmq` crate's
//! 4.3.4) or through the socket monitor's events. Waits are on messages and events,
//! bounded by `LIMIT` so a broken case fails instead of hanging; nothing sleeps to
//! synchronise.

use std::time::Duration;

use monocoque_zmtp::config::SocketOptions;
use monocoque_zmtp::proto::socket_type::SocketType;
use monocoque_zmtp::socket::{Context, Monitor, SocketEvent, SocketHandle};

const LIMIT: Duration = Duration::from_secs(10);

fn block<T>(fut: impl Future<Output = T>) -> T {
    futures::executor::block_on(fut)
}

/// The next event of `monitor`, failing the test after `LIMIT`.
fn next_event(monitor: &Monitor) -> SocketEvent {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime
        .block_on(async { tokio::time::timeout(LIMIT, monitor.next()).await })
        .expect("no event in time")
        .expect("the monitor stopped")
}

/// The port of a bound tcp endpoint.
fn port_of(endpoint: &str) -> u16 {
    endpoint.rsplit(':').next().unwrap().parse().unwrap()
}

fn socket(context: &Context, kind: SocketType, options: SocketOptions) -> SocketHandle {
    context.socket_with_options(kind, options).unwrap()
}

/// A libzmq socket that never blocks a test for longer than `LIMIT`.
fn libzmq(zmq_context: &zmq::Context, kind: zmq::SocketType) -> zmq::Socket {
    let socket = zmq_context.socket(kind).unwrap();
    socket.set_linger(1000).unwrap();
    socket.set_rcvtimeo(LIMIT.as_millis() as i32).unwrap();
    socket.set_sndtimeo(LIMIT.as_millis() as i32).unwrap();
    socket
}

/// Fails the test, saying why, where the machine has no IPv6 loopback.
fn require_ipv6_loopback() {
    if let Err(err) = std::net::TcpListener::bind("[::1]:0") {
        panic!("this test needs an IPv6 loopback (::1), which this machine refuses: {err}");
    }
}

/// `ZMQ_IPV6` on: `tcp://*:port` is one dual-stack listener that libzmq peers reach
/// over IPv4 and over IPv6.
#[test]
fn ipv6_wildcard_is_reached_over_ipv4_and_ipv6() {
    require_ipv6_loopback();
    let context = Context::new().unwrap();
    let pull = socket(
        &context,
        SocketType::Pull,
        SocketOptions::default().ipv6(true),
    );
    let bound = block(pull.bind("tcp://*:0")).unwrap();
    assert!(bound.starts_with("tcp://[::]:"), "{bound}");
    let port = port_of(&bound);
    let zmq_context = zmq::Context::new();
    for address in [
        format!("tcp://127.0.0.1:{port}"),
        format!("tcp://[::1]:{port}"),
    ] {
        let push = libzmq(&zmq_context, zmq::PUSH);
        push.set_ipv6(true).unwrap();
        push.connect(&address).unwrap();
        push.send(address.as_bytes(), 0).unwrap();
        let message = pull.recv_blocking(Some(LIMIT)).expect(&address);
        assert_eq!(&message[0][..], address.as_bytes());
    }
    context.terminate();
}

/// `ZMQ_IPV6` off (the default), as libzmq: `tcp://*:port` binds IPv4 only, so a
/// connect to the same port over IPv6 is refused.
#[test]
fn without_ipv6_the_wildcard_is_ipv4_only() {
    require_ipv6_loopback();
    let context = Context::new().unwrap();
    let pull = socket(&context, SocketType::Pull, SocketOptions::default());
    let bound = block(pull.bind("tcp://*:0")).unwrap();
    assert!(bound.starts_with("tcp://0.0.0.0:"), "{bound}");
    let push = socket(&context, SocketType::Push, SocketOptions::default());
    let monitor = block(push.monitor()).unwrap();
    block(push.connect(&format!("tcp://[::1]:{}", port_of(&bound)))).unwrap();
    let SocketEvent::ConnectDelayed { error, .. } = next_event(&monitor) else {
        panic!("the connect over IPv6 was not refused");
    };
    assert!(error.to_lowercase().contains("refused"), "{error}");
    context.terminate();
}
