//! Behaviours where monocoque once differed from libzmq 4.3, each checked against a
//! real libzmq peer (the `zmq` crate's 4.3.4) so the difference cannot come back.

use std::time::Duration;

use monocoque_zmtp::config::SocketOptions;
use monocoque_zmtp::proto::socket_type::SocketType;
use monocoque_zmtp::socket::{Context, SocketHandle};

const LIMIT: Duration = Duration::from_secs(10);

/// Waits until `done` holds (a counter of the socket's, read from its I/O thread).
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + LIMIT;
    while !done() {
        assert!(std::time::Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Our XPUB, bound, and a libzmq XSUB connected to it.
fn xpub_and_libzmq_xsub(
    context: &Context,
    zmq_context: &zmq::Context,
) -> (SocketHandle, zmq::Socket) {
    let xpub = context.socket(SocketType::Xpub).unwrap();
    let endpoint = futures::executor::block_on(xpub.bind("tcp://127.0.0.1:0")).unwrap();
    let xsub = zmq_context.socket(zmq::XSUB).unwrap();
    xsub.set_linger(0).unwrap();
    xsub.set_rcvtimeo(10_000).unwrap();
    xsub.connect(&endpoint).unwrap();
    (xpub, xsub)
}

/// A libzmq DEALER announcing routing id X, connected to `endpoint`, that has sent
/// `greeting`. It never reconnects within a test.
fn libzmq_dealer_x(zmq_context: &zmq::Context, endpoint: &str, greeting: &str) -> zmq::Socket {
    let dealer = zmq_context.socket(zmq::DEALER).unwrap();
    dealer.set_identity(b"X").unwrap();
    dealer.set_linger(0).unwrap();
    dealer.set_rcvtimeo(10_000).unwrap();
    dealer.set_reconnect_ivl(60_000).unwrap();
    dealer.connect(endpoint).unwrap();
    dealer.send(greeting, 0).unwrap();
    dealer
}

/// `ZMQ_MAXMSGSIZE` limits frames, not whole messages: two 60-byte frames pass a
/// limit of 100 from a libzmq PUSH, as they would into a libzmq PULL.
#[test]
fn max_msg_size_limits_frames_not_messages() {
    let context = Context::new().unwrap();
    let options = SocketOptions::default().max_msg_size(100);
    let pull = context
        .socket_with_options(SocketType::Pull, options)
        .unwrap();
    let endpoint = futures::executor::block_on(pull.bind("tcp://127.0.0.1:0")).unwrap();
    let zmq_context = zmq::Context::new();
    let push = zmq_context.socket(zmq::PUSH).unwrap();
    push.set_linger(1000).unwrap();
    push.connect(&endpoint).unwrap();
    push.send_multipart([vec![1u8; 60], vec![2u8; 60]], 0)
        .unwrap();
    // A frame over the limit still closes that peer.
    push.send(vec![3u8; 101], 0).unwrap();
    let message = pull.recv_blocking(Some(LIMIT)).unwrap();
    assert_eq!(message.len(), 2);
    assert_eq!(message.byte_len(), 120);
    wait_until("the 101-byte frame was taken", || {
        futures::executor::block_on(pull.stats())
            .unwrap()
            .protocol_errors
            > 0
    });
    drop(push);
    context.terminate();
}

/// An XPUB keeps each peer's subscriptions as a set, as libzmq does. A libzmq XSUB
/// asked to subscribe to A twice forwards both, and asked to cancel twice forwards
/// only the cancel that takes its own count to zero: that one cancel must end A.
#[test]
fn a_peers_repeated_subscribe_is_undone_by_one_cancel() {
    let (context, zmq_context) = (Context::new().unwrap(), zmq::Context::new());
    let (xpub, xsub) = xpub_and_libzmq_xsub(&context, &zmq_context);
    for request in [&b"\x01A"[..], b"\x01A", b"\x00A", b"\x00A", b"\x01B"] {
        xsub.send(request, 0).unwrap();
    }
    let reports: Vec<Vec<u8>> = (0..3)
        .map(|_| xpub.recv_blocking(Some(LIMIT)).unwrap()[0].to_vec())
        .collect();
    assert_eq!(
        reports,
        [b"\x01A".to_vec(), b"\x00A".to_vec(), b"\x01B".to_vec()]
    );
    // A is cancelled for good: the XSUB gets B, published after it, first.
    xpub.send_blocking("A data", Some(LIMIT)).unwrap();
    xpub.send_blocking("B data", Some(LIMIT)).unwrap();
    assert_eq!(xsub.recv_bytes(0).unwrap(), b"B data");
    drop(xsub);
    context.terminate();
}

/// An XSUB forwards every subscribe, duplicates too, as libzmq's does (a verbose
/// libzmq XPUB sees both), and a cancel only when its own count reaches zero.
#[test]
fn an_xsub_forwards_every_subscribe() {
    let zmq_context = zmq::Context::new();
    let xpub = zmq_context.socket(zmq::XPUB).unwrap();
    xpub.set_xpub_verbose(true).unwrap();
    xpub.set_linger(0).unwrap();
    xpub.set_rcvtimeo(10_000).unwrap();
    xpub.bind("tcp://127.0.0.1:*").unwrap();
    let endpoint = xpub.get_last_endpoint().unwrap().unwrap();
    let context = Context::new().unwrap();
    let xsub = context.socket(SocketType::Xsub).unwrap();
    futures::executor::block_on(xsub.connect(&endpoint)).unwrap();
    // Once connected (the XPUB has seen a first subscription), what the XSUB is asked
    // to send goes out as it is asked; before that, a new connection gets the
    // subscription set once per topic, as libzmq's XSUB sends it.
    xsub.send_blocking(&b"\x01W"[..], Some(LIMIT)).unwrap();
    assert_eq!(xpub.recv_bytes(0).unwrap(), b"\x01W");
    for request in [&b"\x01A"[..], b"\x01A", b"\x00A", b"\x00A", b"\x01B"] {
        xsub.send_blocking(request, Some(LIMIT)).unwrap();
    }
    let seen: Vec<Vec<u8>> = (0..4).map(|_| xpub.recv_bytes(0).unwrap()).collect();
    assert_eq!(
        seen,
        [
            b"\x01A".to_vec(),
            b"\x01A".to_vec(),
            b"\x00A".to_vec(),
            b"\x01B".to_vec()
        ]
    );
    context.terminate();
}

/// An XPUB hands upstream data and subscription reports to the application in the
/// order they arrived from a peer, as libzmq does.
#[test]
fn an_xpub_keeps_arrival_order_of_data_and_subscriptions() {
    let (context, zmq_context) = (Context::new().unwrap(), zmq::Context::new());
    let (xpub, xsub) = xpub_and_libzmq_xsub(&context, &zmq_context);
    for message in [&b"upstream 1"[..], b"\x01A", b"upstream 2", b"\x01B"] {
        xsub.send(message, 0).unwrap();
    }
    let seen: Vec<Vec<u8>> = (0..4)
        .map(|_| xpub.recv_blocking(Some(LIMIT)).unwrap()[0].to_vec())
        .collect();
    assert_eq!(
        seen,
        [
            b"upstream 1".to_vec(),
            b"\x01A".to_vec(),
            b"upstream 2".to_vec(),
            b"\x01B".to_vec()
        ]
    );
    drop(xsub);
    context.terminate();
}

/// ROUTER_HANDOVER (libzmq's test_router_handover, re-expressed): a second libzmq
/// DEALER announcing the routing id of a connected one takes it over; the first is
/// disconnected.
#[test]
fn router_handover_gives_the_routing_id_to_the_newcomer() {
    let context = Context::new().unwrap();
    let options = SocketOptions::default().router_handover(true);
    let router = context
        .socket_with_options(SocketType::Router, options)
        .unwrap();
    let endpoint = futures::executor::block_on(router.bind("tcp://127.0.0.1:0")).unwrap();
    let zmq_context = zmq::Context::new();
    let dealer = |name: &str| libzmq_dealer_x(&zmq_context, &endpoint, name);
    let first = dealer("first");
    let message = router.recv_blocking(Some(LIMIT)).unwrap();
    assert_eq!(
        (&message[0][..], &message[1][..]),
        (&b"X"[..], &b"first"[..])
    );
    let second = dealer("second");
    let message = router.recv_blocking(Some(LIMIT)).unwrap();
    assert_eq!(
        (&message[0][..], &message[1][..]),
        (&b"X"[..], &b"second"[..])
    );
    router
        .send_blocking(["X", "to the newcomer"], Some(LIMIT))
        .unwrap();
    assert_eq!(second.recv_bytes(0).unwrap(), b"to the newcomer");
    // The first one's connection was closed by the ROUTER.
    wait_until("the old holder stayed", || {
        futures::executor::block_on(router.peer_count()).unwrap() == 1
    });
    drop((first, second));
    context.terminate();
}

/// Without ROUTER_HANDOVER (libzmq's default) the newcomer is the one refused.
#[test]
fn without_handover_the_first_holder_keeps_its_routing_id() {
    let context = Context::new().unwrap();
    let router = context.socket(SocketType::Router).unwrap();
    let endpoint = futures::executor::block_on(router.bind("tcp://127.0.0.1:0")).unwrap();
    let zmq_context = zmq::Context::new();
    let dealer = |name: &str| libzmq_dealer_x(&zmq_context, &endpoint, name);
    let first = dealer("first");
    assert_eq!(&router.recv_blocking(Some(LIMIT)).unwrap()[1][..], b"first");
    let _second = dealer("second");
    wait_until("the newcomer was not refused", || {
        futures::executor::block_on(router.stats())
            .unwrap()
            .protocol_errors
            > 0
    });
    router
        .send_blocking(["X", "to the first"], Some(LIMIT))
        .unwrap();
    assert_eq!(first.recv_bytes(0).unwrap(), b"to the first");
    context.terminate();
}

/// PROBE_ROUTER (libzmq's test_probe_router, re-expressed), both ways: a DEALER with
/// the option greets a ROUTER with an empty message as soon as it connects.
#[test]
fn probe_router_greets_the_router_first() {
    // Ours probing a libzmq ROUTER.
    let zmq_context = zmq::Context::new();
    let zmq_router = zmq_context.socket(zmq::ROUTER).unwrap();
    zmq_router.set_linger(0).unwrap();
    zmq_router.set_rcvtimeo(10_000).unwrap();
    zmq_router.bind("tcp://127.0.0.1:*").unwrap();
    let endpoint = zmq_router.get_last_endpoint().unwrap().unwrap();
    let context = Context::new().unwrap();
    let options = SocketOptions::default()
        .probe_router(true)
        .routing_id("probe");
    let dealer = context
        .socket_with_options(SocketType::Dealer, options)
        .unwrap();
    futures::executor::block_on(dealer.connect(&endpoint)).unwrap();
    let probe = zmq_router.recv_multipart(0).unwrap();
    assert_eq!(probe, [b"probe".to_vec(), Vec::new()]);

    // A libzmq DEALER probing ours.
    let router = context.socket(SocketType::Router).unwrap();
    let endpoint = futures::executor::block_on(router.bind("tcp://127.0.0.1:0")).unwrap();
    let zmq_dealer = zmq_context.socket(zmq::DEALER).unwrap();
    zmq_dealer.set_linger(0).unwrap();
    zmq_dealer.set_probe_router(true).unwrap();
    zmq_dealer.set_identity(b"theirs").unwrap();
    zmq_dealer.connect(&endpoint).unwrap();
    let probe = router.recv_blocking(Some(LIMIT)).unwrap();
    assert_eq!((&probe[0][..], &probe[1][..]), (&b"theirs"[..], &b""[..]));
    context.terminate();
}

/// ROUTER_NOTIFY: a ROUTER hears `[routing id, empty]` when a peer connects and when
/// it disconnects.
#[test]
fn router_notify_reports_peers_coming_and_going() {
    use monocoque_zmtp::config::RouterNotify;
    let context = Context::new().unwrap();
    let notify = RouterNotify {
        connect: true,
        disconnect: true,
    };
    let options = SocketOptions::default().router_notify(notify);
    let router = context
        .socket_with_options(SocketType::Router, options)
        .unwrap();
    let endpoint = futures::executor::block_on(router.bind("tcp://127.0.0.1:0")).unwrap();
    let zmq_context = zmq::Context::new();
    let dealer = zmq_context.socket(zmq::DEALER).unwrap();
    dealer.set_linger(0).unwrap();
    dealer.set_identity(b"D").unwrap();
    dealer.connect(&endpoint).unwrap();
    let connected = router.recv_blocking(Some(LIMIT)).unwrap();
    assert_eq!(
        (&connected[0][..], &connected[1][..]),
        (&b"D"[..], &b""[..])
    );
    dealer.send("hello", 0).unwrap();
    let hello = router.recv_blocking(Some(LIMIT)).unwrap();
    assert_eq!(&hello[1][..], b"hello");
    drop(dealer);
    let gone = router.recv_blocking(Some(LIMIT)).unwrap();
    assert_eq!((&gone[0][..], &gone[1][..]), (&b"D"[..], &b""[..]));
    context.terminate();
}

/// A libzmq SUB connected to `endpoint`, subscribed to `topic`.
fn libzmq_sub(zmq_context: &zmq::Context, endpoint: &str, topic: &[u8]) -> zmq::Socket {
    let sub = zmq_context.socket(zmq::SUB).unwrap();
    sub.set_linger(0).unwrap();
    sub.set_rcvtimeo(10_000).unwrap();
    sub.connect(endpoint).unwrap();
    sub.set_subscribe(topic).unwrap();
    sub
}

/// XPUB_VERBOSE and XPUB_VERBOSER (libzmq's test_xpub_verbose, re-expressed): with
/// VERBOSE each subscriber's subscribe to the same topic is reported, with VERBOSER
/// each cancel too; without them only a topic's first and last.
#[test]
fn xpub_verbose_and_verboser_report_every_subscription() {
    let context = Context::new().unwrap();
    let zmq_context = zmq::Context::new();
    let options = SocketOptions::default().xpub_verboser(true);
    let xpub = context
        .socket_with_options(SocketType::Xpub, options)
        .unwrap();
    let endpoint = futures::executor::block_on(xpub.bind("tcp://127.0.0.1:0")).unwrap();
    let report = || xpub.recv_blocking(Some(LIMIT)).unwrap()[0].to_vec();
    let first = libzmq_sub(&zmq_context, &endpoint, b"A");
    assert_eq!(report(), b"\x01A");
    let second = libzmq_sub(&zmq_context, &endpoint, b"A");
    assert_eq!(report(), b"\x01A", "the second subscribe is reported");
    first.set_unsubscribe(b"A").unwrap();
    assert_eq!(report(), b"\x00A", "the first cancel is reported");
    second.set_unsubscribe(b"A").unwrap();
    assert_eq!(report(), b"\x00A");
    context.terminate();
}

/// XPUB_WELCOME_MSG (libzmq's test_xpub_welcome_msg, re-expressed): each new
/// subscriber gets the welcome message first.
#[test]
fn xpub_welcome_message_greets_each_subscriber() {
    let context = Context::new().unwrap();
    let options = SocketOptions::default().xpub_welcome_msg("W");
    let xpub = context
        .socket_with_options(SocketType::Xpub, options)
        .unwrap();
    let endpoint = futures::executor::block_on(xpub.bind("tcp://127.0.0.1:0")).unwrap();
    let zmq_context = zmq::Context::new();
    let sub = libzmq_sub(&zmq_context, &endpoint, b"W");
    assert_eq!(sub.recv_bytes(0).unwrap(), b"W");
    assert_eq!(&xpub.recv_blocking(Some(LIMIT)).unwrap()[0][..], b"\x01W");
    context.terminate();
}

/// REQ_RELAXED and REQ_CORRELATE (libzmq's test_req_relaxed and test_req_correlate,
/// re-expressed) against a libzmq REP: a second request goes out before the first is
/// answered, and only the second one's reply comes back.
#[test]
fn relaxed_correlated_req_takes_only_the_current_reply() {
    let zmq_context = zmq::Context::new();
    let rep = zmq_context.socket(zmq::REP).unwrap();
    rep.set_linger(0).unwrap();
    rep.set_rcvtimeo(10_000).unwrap();
    rep.bind("tcp://127.0.0.1:*").unwrap();
    let endpoint = rep.get_last_endpoint().unwrap().unwrap();
    let context = Context::new().unwrap();
    let options = SocketOptions::default()
        .req_relaxed(true)
        .req_correlate(true)
        .linger(Some(Duration::ZERO));
    let req = context
        .socket_with_options(SocketType::Req, options)
        .unwrap();
    futures::executor::block_on(req.connect(&endpoint)).unwrap();
    req.send_blocking("first", Some(LIMIT)).unwrap();
    req.send_blocking("second", Some(LIMIT)).unwrap();
    // The REP answers both in turn, echoing each envelope (request id included).
    for _ in 0..2 {
        let request = rep.recv_bytes(0).unwrap();
        let reply = format!("reply to {}", String::from_utf8_lossy(&request));
        rep.send(reply.as_bytes(), 0).unwrap();
    }
    // The first reply is dropped: the next one taken answers the second request.
    let reply = req.recv_blocking(Some(LIMIT)).unwrap();
    assert_eq!(&reply[0][..], b"reply to second");
    // And the exchange goes on: a third request, its own reply.
    req.send_blocking("third", Some(LIMIT)).unwrap();
    let request = rep.recv_bytes(0).unwrap();
    rep.send(
        format!("reply to {}", String::from_utf8_lossy(&request)).as_bytes(),
        0,
    )
    .unwrap();
    let reply = req.recv_blocking(Some(LIMIT)).unwrap();
    assert_eq!(&reply[0][..], b"reply to third");
    context.terminate();
}

/// A second PAIR peer is kept connected but unused, as libzmq keeps it: it is not
/// refused (which made it reconnect every `reconnect_ivl`, each attempt a protocol
/// error), and the first peer keeps the conversation.
#[test]
fn a_second_pair_peer_is_kept_idle_not_refused() {
    use futures::executor::block_on;
    use monocoque_zmtp::socket::SocketEvent;
    let context = Context::new().unwrap();
    let pair = context.socket(SocketType::Pair).unwrap();
    let monitor = block_on(pair.monitor()).unwrap();
    let endpoint = block_on(pair.bind("tcp://127.0.0.1:0")).unwrap();
    let zmq_context = zmq::Context::new();
    let libzmq_pair = || {
        let socket = zmq_context.socket(zmq::PAIR).unwrap();
        socket.set_linger(0).unwrap();
        socket.set_rcvtimeo(10_000).unwrap();
        socket.set_reconnect_ivl(10).unwrap();
        socket.connect(&endpoint).unwrap();
        socket
    };
    let first = libzmq_pair();
    first.send("one", 0).unwrap();
    assert_eq!(&pair.recv_blocking(Some(LIMIT)).unwrap()[0][..], b"one");
    let second = libzmq_pair();
    second.send("two", 0).unwrap();
    let mut succeeded = 0;
    while succeeded < 2 {
        match block_on(monitor.next()) {
            Some(SocketEvent::HandshakeSucceeded { .. }) => succeeded += 1,
            Some(SocketEvent::HandshakeFailed { reason, .. }) => panic!("refused: {reason:?}"),
            _ => {}
        }
    }
    first.send("three", 0).unwrap();
    assert_eq!(&pair.recv_blocking(Some(LIMIT)).unwrap()[0][..], b"three");
    block_on(pair.send("back")).unwrap();
    assert_eq!(first.recv_bytes(0).unwrap(), b"back");
    while let Some(event) = monitor.try_next() {
        assert!(
            !matches!(
                event,
                SocketEvent::HandshakeFailed { .. } | SocketEvent::Disconnected { .. }
            ),
            "{event:?}"
        );
    }
    let stats = block_on(pair.stats()).unwrap();
    assert_eq!((stats.protocol_errors, stats.disconnects), (0, 0));
    context.terminate();
}

/// A dropped socket still delivers what it queued for a peer that comes up later,
/// within its linger (the default: until delivered) while the runtime runs, as
/// libzmq does while its context lives. Its connecting task used to stop at the drop.
#[compio::test]
async fn a_dropped_socket_delivers_to_a_peer_that_comes_up_later() {
    let path = std::env::temp_dir().join(format!("monocoque-late-{}.ipc", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let endpoint = format!("ipc://{}", path.display());
    let push = monocoque_zmtp::socket::PushSocket::new();
    push.connect(&endpoint).await.unwrap();
    for text in ["one", "two", "three"] {
        push.send(text).await.unwrap();
    }
    drop(push);
    let (received, all) = futures::channel::oneshot::channel();
    std::thread::spawn(move || {
        let zmq_context = zmq::Context::new();
        let pull = zmq_context.socket(zmq::PULL).unwrap();
        pull.set_rcvtimeo(10_000).unwrap();
        pull.bind(&endpoint).unwrap();
        let got: Vec<_> = (0..3).map(|_| pull.recv_bytes(0)).collect();
        let _ = received.send(got);
    });
    let got = compio::time::timeout(LIMIT, all).await.unwrap().unwrap();
    let got: Vec<Vec<u8>> = got.into_iter().map(Result::unwrap).collect();
    assert_eq!(got, [&b"one"[..], b"two", b"three"]);
    let _ = std::fs::remove_file(&path);
}
