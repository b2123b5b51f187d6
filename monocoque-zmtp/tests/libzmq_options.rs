//! Options checked against real libzmq peers (the `zmq` crate's 4.3.4), after the
//! libzmq tests that cover them where there is one: `ZMQ_IPV6`, `ZMQ_RECONNECT_STOP`,
//! `ZMQ_CONNECT_ROUTING_ID` (test_connect_rid), `ZMQ_CONFLATE` (test_conflate) and
//! `ZMQ_XPUB_MANUAL` (test_xpub_manual). Waits are on messages and monitor events,
//! bounded by `LIMIT` so a broken case fails instead of hanging; nothing sleeps to
//! synchronise.

mod common;
use common::within_for;

use std::io::{Read, Write};
use std::time::Duration;

use futures::FutureExt;
use futures::executor::block_on;
use monocoque_zmtp::config::{ReconnectStop, SocketOptions};
use monocoque_zmtp::proto::error::ProtocolError;
use monocoque_zmtp::proto::socket_type::SocketType;
use monocoque_zmtp::socket::{
    Context, HandshakeFailure, Monitor, PullSocket, PushSocket, SocketEvent, SocketHandle,
};

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

// ---- ZMQ_RECONNECT_STOP ----

/// A tcp endpoint on the loopback where nothing listens (a port bound, then freed).
fn unused_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("tcp://{}", listener.local_addr().unwrap())
}

/// Quick reconnects, so a socket that kept trying would connect again at once.
fn quick() -> SocketOptions {
    SocketOptions::default().reconnect_ivl(Duration::from_millis(10))
}

/// A PUSH that gives up as `stop` says, and a control PUSH that does not; their
/// monitors are attached before they connect to `endpoint`.
fn stopping_and_control(
    context: &Context,
    stop: ReconnectStop,
    endpoint: &str,
) -> [(SocketHandle, Monitor); 2] {
    [quick().reconnect_stop(stop), quick()].map(|options| {
        let push = socket(context, SocketType::Push, options);
        let monitor = block(push.monitor()).unwrap();
        block(push.connect(endpoint)).unwrap();
        (push, monitor)
    })
}

/// Awaits the next event and checks it is the one `expected` names.
fn expect_event(monitor: &Monitor, expected: &str) -> SocketEvent {
    let event = next_event(monitor);
    assert!(
        format!("{event:?}").starts_with(expected),
        "{expected}: {event:?}"
    );
    event
}

/// Closes `socket` and returns the events its monitor still held, up to
/// `MonitorStopped`.
fn events_until_closed(socket: SocketHandle, monitor: &Monitor) -> Vec<SocketEvent> {
    socket.close();
    let mut events = Vec::new();
    loop {
        match next_event(monitor) {
            SocketEvent::MonitorStopped => return events,
            event => events.push(event),
        }
    }
}

/// A libzmq PULL bound to `endpoint` in a context of its own, so dropping both
/// (`zmq_ctx_term`) closes its listener before the port is bound again.
fn libzmq_pull_at(endpoint: &str) -> (zmq::Socket, zmq::Context) {
    let zmq_context = zmq::Context::new();
    let pull = libzmq(&zmq_context, zmq::PULL);
    pull.bind(endpoint).unwrap();
    (pull, zmq_context)
}

/// The control sends through the peer that (re)appeared at `endpoint`; by then the
/// stopping socket, whose reconnect interval is as short, has made no new connection.
fn only_the_control_comes_back(endpoint: &str, stopping: [(SocketHandle, Monitor); 2]) {
    let [(stopped, stopped_events), (control, _)] = stopping;
    let (pull, _zmq_context) = libzmq_pull_at(endpoint);
    block(control.send("control")).unwrap();
    assert_eq!(pull.recv_bytes(0).unwrap(), b"control");
    assert_eq!(events_until_closed(stopped, &stopped_events), []);
}

/// `ZMQ_RECONNECT_STOP_CONN_REFUSED`: the first refused connect ends the endpoint
/// (libzmq's test_reconnect_options, `reconnect_stop_on_refused`); a socket without
/// the flag retries and reaches the peer that binds later.
#[test]
fn reconnect_stop_conn_refused_gives_up_at_the_first_refusal() {
    let context = Context::new().unwrap();
    let (reserved, endpoint) = common::refused_endpoint();
    let stop = ReconnectStop {
        conn_refused: true,
        ..ReconnectStop::default()
    };
    let sockets = stopping_and_control(&context, stop, &endpoint);
    let SocketEvent::ConnectDelayed { error, .. } = expect_event(&sockets[0].1, "ConnectDelayed")
    else {
        unreachable!()
    };
    assert!(error.to_lowercase().contains("refused"), "{error}");
    // Freed for the peer that binds it (in only_the_control_comes_back).
    drop(reserved);
    only_the_stopping_socket_gave_up(&endpoint, sockets, "ConnectDelayed");
    context.terminate();
}

/// The stopping socket's next event is `Closed` (given up, not retried) while the
/// control shows `control_first` and then retries; then only the control reaches a
/// peer that comes back.
fn only_the_stopping_socket_gave_up(
    endpoint: &str,
    sockets: [(SocketHandle, Monitor); 2],
    control_first: &str,
) {
    let [(_, stopped_events), (_, control_events)] = &sockets;
    let closed = SocketEvent::Closed {
        endpoint: endpoint.to_string(),
    };
    assert_eq!(next_event(stopped_events), closed, "given up, not retried");
    expect_event(control_events, control_first);
    expect_event(control_events, "ConnectRetried");
    only_the_control_comes_back(endpoint, sockets);
}

/// `connection_lost` (monocoque's flag): once an established connection is lost (the
/// libzmq peer closed), the endpoint ends; when the peer comes back only the socket
/// without the flag reconnects.
#[test]
fn reconnect_stop_connection_lost_stays_away_when_the_peer_returns() {
    let context = Context::new().unwrap();
    let endpoint = unused_endpoint();
    let (pull, zmq_context) = libzmq_pull_at(&endpoint);
    let stop = ReconnectStop {
        connection_lost: true,
        ..ReconnectStop::default()
    };
    let sockets = stopping_and_control(&context, stop, &endpoint);
    for (push, monitor) in &sockets {
        expect_event(monitor, "Connected");
        expect_event(monitor, "HandshakeSucceeded");
        block(push.send("before")).unwrap();
        assert_eq!(pull.recv_bytes(0).unwrap(), b"before");
    }
    drop((pull, zmq_context));
    expect_event(&sockets[0].1, "Disconnected");
    only_the_stopping_socket_gave_up(&endpoint, sockets, "Disconnected");
    context.terminate();
}

/// `ZMQ_RECONNECT_STOP_HANDSHAKE_FAILED`: a server that answers with no ZMTP at all
/// (libzmq's test connects to sshd) ends the endpoint after the failed handshake.
#[test]
fn reconnect_stop_handshake_failed_gives_up_on_a_server_that_is_no_zmtp() {
    let context = Context::new().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("tcp://{}", listener.local_addr().unwrap());
    // Answers the stopping socket's and the control's first connections, then closes.
    let server = std::thread::spawn(move || {
        for _ in 0..2 {
            let (mut stream, _) = listener.accept().unwrap();
            stream.write_all(b"SSH-2.0-OpenSSH_9.6\r\n").unwrap();
            // Closed only after the client did, so no unread greeting turns the
            // close into a reset that could reach the client before the bytes.
            let _ = stream.read_to_end(&mut Vec::new());
        }
    });
    let stop = ReconnectStop {
        handshake_failed: true,
        ..ReconnectStop::default()
    };
    let sockets = stopping_and_control(&context, stop, &endpoint);
    let refused = SocketEvent::HandshakeFailed {
        endpoint: endpoint.clone(),
        peer: "127.0.0.1".into(),
        reason: HandshakeFailure::Protocol(ProtocolError::BadSignature),
    };
    for (i, (_, monitor)) in sockets.iter().enumerate() {
        expect_event(monitor, "Connected");
        assert_eq!(next_event(monitor), refused);
        let after = next_event(monitor);
        match i {
            0 => assert_eq!(
                after,
                SocketEvent::Closed {
                    endpoint: endpoint.clone()
                }
            ),
            _ => assert!(
                matches!(after, SocketEvent::ConnectRetried { .. }),
                "{after:?}"
            ),
        }
    }
    server.join().unwrap();
    context.terminate();
}

// ---- ZMQ_CONNECT_ROUTING_ID ----

/// A libzmq socket of `kind` bound to an ephemeral loopback port; its endpoint.
fn libzmq_bound(zmq_context: &zmq::Context, kind: zmq::SocketType) -> (zmq::Socket, String) {
    let socket = libzmq(zmq_context, kind);
    socket.bind("tcp://127.0.0.1:*").unwrap();
    let endpoint = socket.get_last_endpoint().unwrap().unwrap();
    (socket, endpoint)
}

/// Our ROUTER's next message, as byte frames.
fn frames(router: &SocketHandle) -> Vec<Vec<u8>> {
    let message = router.recv_blocking(Some(LIMIT)).expect("a message");
    message.iter().map(|frame| frame.to_vec()).collect()
}

/// libzmq's test_connect_rid, `test_router_2_router`: a ROUTER connecting with
/// `connect_routing_id` "conn1" sends to "conn1" straight after `connect` (the message
/// waits for the connection) and reaches the libzmq ROUTER; the reply comes back
/// under "conn1", also when the libzmq ROUTER announces an Identity of its own (X)
/// and ours announces Y.
#[test]
fn connect_routing_id_names_the_peer_of_the_connect() {
    for named in [false, true] {
        let context = Context::new().unwrap();
        let zmq_context = zmq::Context::new();
        let remote = libzmq(&zmq_context, zmq::ROUTER);
        let mut options = SocketOptions::default().connect_routing_id("conn1");
        if named {
            remote.set_identity(b"X").unwrap();
            options = options.routing_id("Y");
        }
        remote.bind("tcp://127.0.0.1:*").unwrap();
        let endpoint = remote.get_last_endpoint().unwrap().unwrap();
        let router = socket(&context, SocketType::Router, options);
        block(router.connect(&endpoint)).unwrap();
        block(router.send(["conn1", "hi 1"])).unwrap();

        let got = remote.recv_multipart(0).unwrap();
        assert_eq!(got[1], b"hi 1");
        match named {
            true => assert_eq!(got[0], b"Y"),
            false => assert_eq!(got[0][0], 0, "a generated id: {:?}", got[0]),
        }
        remote.send_multipart([&got[0][..], b"ok"], 0).unwrap();
        assert_eq!(
            frames(&router),
            [b"conn1".to_vec(), b"ok".to_vec()],
            "{named}"
        );
        context.terminate();
    }
}

/// Two connects named "a" and "b" reach two different libzmq peers (a ROUTER and a
/// DEALER), each by its name, and their replies come back under those names. A name
/// in use, a malformed one, and a socket that is no ROUTER are refused.
#[test]
fn two_connect_routing_ids_reach_two_peers() {
    let context = Context::new().unwrap();
    let zmq_context = zmq::Context::new();
    let (a, a_endpoint) = libzmq_bound(&zmq_context, zmq::ROUTER);
    let (b, b_endpoint) = libzmq_bound(&zmq_context, zmq::DEALER);
    let router = socket(&context, SocketType::Router, SocketOptions::default());
    block(router.set_connect_routing_id("a")).unwrap();
    block(router.connect(&a_endpoint)).unwrap();
    block(router.set_connect_routing_id("b")).unwrap();
    block(router.connect(&b_endpoint)).unwrap();
    block(router.send(["b", "to b"])).unwrap();
    block(router.send(["a", "to a"])).unwrap();

    assert_eq!(b.recv_multipart(0).unwrap(), [b"to b"]);
    let at_a = a.recv_multipart(0).unwrap();
    assert_eq!(at_a[1], b"to a");
    b.send("from b", 0).unwrap();
    assert_eq!(frames(&router), [b"b".to_vec(), b"from b".to_vec()]);
    a.send_multipart([&at_a[0][..], b"from a"], 0).unwrap();
    assert_eq!(frames(&router), [b"a".to_vec(), b"from a".to_vec()]);

    block(router.set_connect_routing_id("a")).unwrap();
    let taken = block(router.connect(&b_endpoint));
    assert!(taken.is_err(), "a second peer named a: {taken:?}");
    for malformed in [&b""[..], b"\0zero", &[b'x'; 256]] {
        let refused = block(router.set_connect_routing_id(malformed.to_vec()));
        assert!(refused.is_err(), "{malformed:?}");
    }
    let dealer = socket(&context, SocketType::Dealer, SocketOptions::default());
    let refused = block(dealer.set_connect_routing_id("d"));
    assert!(refused.is_err(), "a DEALER took a connect routing id");
    context.terminate();
}

// ---- ZMQ_CONFLATE and ZMQ_XPUB_MANUAL ----

/// A fresh ipc endpoint nobody is bound to.
fn ipc_endpoint(name: &str) -> String {
    let dir = std::env::temp_dir();
    let path = dir.join(format!("monocoque-{name}-{}.ipc", std::process::id()));
    let _ = std::fs::remove_file(&path);
    format!("ipc://{}", path.display())
}

/// test_conflate, re-expressed: a libzmq PUSH sends 20 messages to a conflating PULL,
/// which then holds only the last.
#[compio::test]
async fn a_conflating_pull_keeps_only_the_last_message() {
    let pull = PullSocket::with_options(SocketOptions::default().conflate(true));
    let monitor = pull.monitor();
    let endpoint = pull.bind("tcp://127.0.0.1:0").await.unwrap();
    let sender = std::thread::spawn(move || {
        let zmq_context = zmq::Context::new();
        let push = zmq_context.socket(zmq::PUSH).unwrap();
        push.connect(&endpoint).unwrap();
        for i in 0..20 {
            push.send(i.to_string().as_bytes(), 0).unwrap();
        }
        // Closing with the default infinite linger, then terminating, flushes all 20.
        drop(push);
    });
    // Everything the PUSH sent was read before its connection ended.
    within_for(LIMIT, "the PUSH leaves", async {
        while !matches!(monitor.next().await, Some(SocketEvent::Disconnected { .. })) {}
    })
    .await;
    sender.join().unwrap();
    let message = pull.recv().now_or_never().expect("a message").unwrap();
    assert_eq!(&message[0][..], b"19");
    assert!(
        pull.recv().now_or_never().is_none(),
        "only the last is kept"
    );
}

/// A conflating PUSH whose peer is not there yet keeps only the last message queued
/// for it: a libzmq PULL that binds later receives that one first.
#[compio::test]
async fn a_conflating_push_sends_only_the_last_queued_message() {
    let endpoint = ipc_endpoint("conflate-push");
    let push = PushSocket::with_options(SocketOptions::default().conflate(true));
    push.connect(&endpoint).await.unwrap();
    for i in 0..20 {
        push.send(i.to_string()).await.unwrap();
    }
    let (received, first) = futures::channel::oneshot::channel();
    let bound = endpoint.clone();
    std::thread::spawn(move || {
        let zmq_context = zmq::Context::new();
        let pull = zmq_context.socket(zmq::PULL).unwrap();
        pull.set_rcvtimeo(10_000).unwrap();
        pull.bind(&bound).unwrap();
        let _ = received.send(pull.recv_bytes(0));
    });
    let first = within_for(LIMIT, "the PULL's first message", first)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first, b"19");
    let _ = std::fs::remove_file(endpoint.trim_start_matches("ipc://"));
}

/// The same through a handle: the I/O thread's read-ahead conflates too, so after the
/// PUSH left at most two messages are left (one read ahead, one in the socket) and
/// the last of them is the PUSH's last.
#[test]
fn a_conflating_pull_handle_keeps_at_most_the_last_two() {
    let context = Context::new().unwrap();
    let options = SocketOptions::default().conflate(true);
    let pull = context
        .socket_with_options(SocketType::Pull, options)
        .unwrap();
    let monitor = futures::executor::block_on(pull.monitor()).unwrap();
    let endpoint = futures::executor::block_on(pull.bind("tcp://127.0.0.1:0")).unwrap();
    let zmq_context = zmq::Context::new();
    let push = zmq_context.socket(zmq::PUSH).unwrap();
    push.connect(&endpoint).unwrap();
    for i in 0..20 {
        push.send(i.to_string().as_bytes(), 0).unwrap();
    }
    drop(push);
    futures::executor::block_on(async {
        while !matches!(monitor.next().await, Some(SocketEvent::Disconnected { .. })) {}
    });
    let mut received = Vec::new();
    while received.last().map(Vec::as_slice) != Some(b"19") {
        let message = pull.recv_blocking(Some(LIMIT)).expect("the last message");
        received.push(message[0].to_vec());
        assert!(received.len() <= 2, "more than two kept: {received:?}");
    }
    assert_eq!(pull.try_recv().unwrap(), None);
    context.terminate();
}

/// Our XPUB with `xpub_manual`, bound, and a libzmq XSUB connected to it.
fn manual_xpub_and_libzmq_xsub(
    context: &Context,
    zmq_context: &zmq::Context,
) -> (SocketHandle, zmq::Socket, String) {
    let options = SocketOptions::default().xpub_manual(true);
    let xpub = context
        .socket_with_options(SocketType::Xpub, options)
        .unwrap();
    let endpoint = block_on(xpub.bind("tcp://127.0.0.1:0")).unwrap();
    let xsub = libzmq_xsub(zmq_context, &endpoint);
    (xpub, xsub, endpoint)
}

fn libzmq_xsub(zmq_context: &zmq::Context, endpoint: &str) -> zmq::Socket {
    let xsub = libzmq(zmq_context, zmq::XSUB);
    xsub.connect(endpoint).unwrap();
    xsub
}

/// test_xpub_manual's basic case, re-expressed: the XSUB asks for A, the application
/// gives it B instead.
#[test]
fn a_manual_xpub_applies_what_the_application_subscribes() {
    let context = Context::new().unwrap();
    let zmq_context = zmq::Context::new();
    let (xpub, xsub, _) = manual_xpub_and_libzmq_xsub(&context, &zmq_context);
    xsub.send(&b"\x01A"[..], 0).unwrap();
    assert_eq!(&xpub.recv_blocking(Some(LIMIT)).unwrap()[0][..], b"\x01A");
    block_on(xpub.subscribe("B")).unwrap();
    block_on(xpub.send("A")).unwrap();
    block_on(xpub.send("B")).unwrap();
    assert_eq!(xsub.recv_bytes(0).unwrap(), b"B", "A was never applied");
    context.terminate();
}

/// test_xpub_manual's unsubscribe case: each `subscribe` and `unsubscribe` applies to
/// the peer of the subscription message received just before, here one XSUB.
#[test]
fn a_manual_xpub_unsubscribes_what_the_application_cancels() {
    let context = Context::new().unwrap();
    let zmq_context = zmq::Context::new();
    let (xpub, xsub, _) = manual_xpub_and_libzmq_xsub(&context, &zmq_context);
    let report = || xpub.recv_blocking(Some(LIMIT)).unwrap()[0].to_vec();
    xsub.send(&b"\x01A"[..], 0).unwrap();
    xsub.send(&b"\x01B"[..], 0).unwrap();
    assert_eq!(report(), b"\x01A");
    block_on(xpub.subscribe("XA")).unwrap();
    assert_eq!(report(), b"\x01B");
    block_on(xpub.subscribe("XB")).unwrap();
    xsub.send(&b"\x00A"[..], 0).unwrap();
    assert_eq!(report(), b"\x00A");
    block_on(xpub.unsubscribe("XA")).unwrap();
    block_on(xpub.send("XA")).unwrap();
    block_on(xpub.send("XB")).unwrap();
    assert_eq!(xsub.recv_bytes(0).unwrap(), b"XB");
    context.terminate();
}

/// test_xpub_manual's cleanup case: a departing XSUB's requests come back as cancels,
/// and what was applied for it goes with it; a new XSUB gets only its own topics.
#[test]
fn a_manual_xpub_reports_a_departed_subscribers_topics() {
    let context = Context::new().unwrap();
    let zmq_context = zmq::Context::new();
    let (xpub, xsub, endpoint) = manual_xpub_and_libzmq_xsub(&context, &zmq_context);
    let report = || xpub.recv_blocking(Some(LIMIT)).unwrap()[0].to_vec();
    xsub.send(&b"\x01A"[..], 0).unwrap();
    assert_eq!(report(), b"\x01A");
    block_on(xpub.subscribe("XA")).unwrap();
    drop(xsub);
    assert_eq!(
        report(),
        b"\x00A",
        "the departed XSUB's request is cancelled"
    );
    block_on(xpub.unsubscribe("XA")).unwrap();
    let xsub = libzmq_xsub(&zmq_context, &endpoint);
    xsub.send(&b"\x01B"[..], 0).unwrap();
    assert_eq!(report(), b"\x01B");
    block_on(xpub.subscribe("XB")).unwrap();
    block_on(xpub.send("XA")).unwrap();
    block_on(xpub.send("XB")).unwrap();
    assert_eq!(xsub.recv_bytes(0).unwrap(), b"XB");
    context.terminate();
}

/// Two subscribers: `subscribe` applies to the sender of the message received last,
/// not to one whose message the I/O thread could have read ahead.
#[test]
fn a_manual_xpub_subscribes_the_peer_it_last_heard() {
    let context = Context::new().unwrap();
    let zmq_context = zmq::Context::new();
    let (xpub, first, endpoint) = manual_xpub_and_libzmq_xsub(&context, &zmq_context);
    let second = libzmq_xsub(&zmq_context, &endpoint);
    first.send(&b"\x01one"[..], 0).unwrap();
    second.send(&b"\x01two"[..], 0).unwrap();
    for _ in 0..2 {
        let report = xpub.recv_blocking(Some(LIMIT)).unwrap()[0].to_vec();
        // Each subscriber gets what it asked for, with a prefix only it is given.
        let topic = [&b"to-"[..], &report[1..]].concat();
        block_on(xpub.subscribe(topic)).unwrap();
    }
    block_on(xpub.send("to-one")).unwrap();
    block_on(xpub.send("to-two")).unwrap();
    assert_eq!(first.recv_bytes(0).unwrap(), b"to-one");
    assert_eq!(second.recv_bytes(0).unwrap(), b"to-two");
    context.terminate();
}
