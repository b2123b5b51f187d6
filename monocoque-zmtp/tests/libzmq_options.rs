//! Options checked against a real libzmq peer (the `zmq` crate's 4.3.4), after the
//! libzmq tests that cover them: test_conflate and test_xpub_manual.

mod common;
use common::within_for;

use std::time::Duration;

use futures::FutureExt;
use futures::executor::block_on;
use monocoque_zmtp::config::SocketOptions;
use monocoque_zmtp::proto::socket_type::SocketType;
use monocoque_zmtp::socket::{Context, PullSocket, PushSocket, SocketEvent, SocketHandle};

const LIMIT: Duration = Duration::from_secs(10);

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
    let xsub = zmq_context.socket(zmq::XSUB).unwrap();
    xsub.set_linger(0).unwrap();
    xsub.set_rcvtimeo(10_000).unwrap();
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
