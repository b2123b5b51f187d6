//! Options checked against a real libzmq peer (the `zmq` crate's 4.3.4), after the
//! libzmq tests that cover them: test_conflate and test_xpub_manual.

mod common;
use common::within_for;

use std::time::Duration;

use futures::FutureExt;
use monocoque_zmtp::config::SocketOptions;
use monocoque_zmtp::proto::socket_type::SocketType;
use monocoque_zmtp::socket::{Context, PullSocket, PushSocket, SocketEvent};

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
