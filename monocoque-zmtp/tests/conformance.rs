//! Spec conformance after libzmq's test_spec_req / rep / dealer / router / pushpull
//! and test_mock_pub_sub, including the cases libzmq itself still fails (REQ accepts a
//! reply only from the peer it asked; a peer's queue is discarded when it leaves).

mod common;
use common::within_for;

use std::io::{Read, Write};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use compio::time::timeout;
use futures::channel::oneshot;
use monocoque_core::SegmentedBuffer;
use monocoque_zmtp::config::SocketOptions;
use monocoque_zmtp::proto::command::Command;
use monocoque_zmtp::proto::frame::FrameDecoder;
use monocoque_zmtp::proto::greeting::{Greeting, MechanismName};
use monocoque_zmtp::proto::socket_type::SocketType;
use monocoque_zmtp::socket::{
    DealerSocket, PubSocket, PullSocket, PushSocket, RepSocket, ReqSocket, RouterSocket,
};

const LIMIT: Duration = Duration::from_secs(10);

#[compio::test]
async fn req_accepts_a_reply_only_from_the_peer_it_asked() {
    let req = ReqSocket::with_options(SocketOptions::default().routing_id("req"));
    let routers = [RouterSocket::new(), RouterSocket::new()];
    for r in &routers {
        let ep = r.bind("tcp://127.0.0.1:0").await.unwrap();
        req.connect(&ep).await.unwrap();
    }
    within_for(LIMIT, "peers", req.wait_for_peers(|n| n == 2)).await;
    for r in &routers {
        within_for(LIMIT, "router peer", r.wait_for_peers(|n| n == 1)).await;
    }
    req.send("question").await.unwrap();
    // Whichever router was asked answers last; the other sends a bogus reply first.
    let (asked, other) = match timeout(Duration::from_millis(200), routers[0].recv()).await {
        Ok(m) => (m.unwrap(), &routers[1]),
        Err(_) => (
            within_for(LIMIT, "asked", routers[1].recv()).await.unwrap(),
            &routers[0],
        ),
    };
    let asked_router = if std::ptr::eq(other, &routers[0]) {
        &routers[1]
    } else {
        &routers[0]
    };
    assert_eq!(&asked[2][..], b"question");
    other.send(["req", "", "bogus"]).await.unwrap();
    asked_router.send(["req", "", "answer"]).await.unwrap();
    let reply = within_for(LIMIT, "reply", req.recv()).await.unwrap();
    assert_eq!(&reply[0][..], b"answer");
}

#[compio::test]
async fn dealer_and_push_wait_when_they_have_no_peer() {
    let dealer = DealerSocket::new();
    assert!(
        timeout(Duration::from_millis(30), dealer.send("x"))
            .await
            .is_err()
    );
    let push = PushSocket::new();
    push.bind("tcp://127.0.0.1:0").await.unwrap();
    assert!(
        timeout(Duration::from_millis(30), push.send("x"))
            .await
            .is_err()
    );
}

#[compio::test]
async fn a_peers_queue_is_discarded_when_it_disconnects() {
    // libzmq's test_spec_pushpull / test_spec_dealer "destroy queue on disconnect".
    let push = PushSocket::with_options(SocketOptions::default().sndhwm(10));
    push.bind("inproc://destroy-queue").await.unwrap();
    let first = PullSocket::with_options(SocketOptions::default().rcvhwm(1));
    first.connect("inproc://destroy-queue").await.unwrap();
    within_for(LIMIT, "first", push.wait_for_peers(|n| n == 1)).await;
    for i in 0..5 {
        push.send(format!("old {i}")).await.unwrap();
    }
    drop(first);
    within_for(LIMIT, "first gone", push.wait_for_peers(|n| n == 0)).await;
    let second = PullSocket::new();
    second.connect("inproc://destroy-queue").await.unwrap();
    push.send("fresh").await.unwrap();
    assert_eq!(
        &within_for(LIMIT, "fresh", second.recv()).await.unwrap()[0][..],
        b"fresh"
    );
}

#[compio::test]
async fn rep_fair_queues_and_keeps_envelopes_per_request() {
    let rep = RepSocket::new();
    let ep = rep.bind("tcp://127.0.0.1:0").await.unwrap();
    let dealers: Vec<DealerSocket> = (0..3).map(|_| DealerSocket::new()).collect();
    for (i, d) in dealers.iter().enumerate() {
        d.connect(&ep).await.unwrap();
        d.send(vec![
            Bytes::from(format!("hop{i}")),
            Bytes::new(),
            Bytes::from(format!("req{i}")),
        ])
        .await
        .unwrap();
    }
    for _ in 0..3 {
        let body = within_for(LIMIT, "request", rep.recv()).await.unwrap();
        let i = body[0][3] - b'0';
        rep.send(format!("rep{i}")).await.unwrap();
    }
    for (i, d) in dealers.iter().enumerate() {
        let m = within_for(LIMIT, "reply", d.recv()).await.unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m[0], format!("hop{i}").as_bytes());
        assert!(m[1].is_empty());
        assert_eq!(m[2], format!("rep{i}").as_bytes());
    }
}

/// A raw subscriber speaking ZMTP 3.`minor`: greets, sends READY, then `subscription`
/// bytes, and reads frames until it has `want` messages. Returns their bodies.
fn mock_subscriber(
    endpoint: &str,
    minor: u8,
    subscription: Vec<u8>,
    want: usize,
) -> oneshot::Receiver<Vec<Bytes>> {
    let addr = endpoint.trim_start_matches("tcp://").to_string();
    let (tx, rx) = oneshot::channel();
    std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(LIMIT)).expect("timeout");
        let mut greeting = Greeting::new(MechanismName::NULL, false);
        greeting.version.minor = minor;
        let mut out = BytesMut::new();
        out.extend_from_slice(&greeting.encode());
        Command::ready(SocketType::Sub, None).encode(&mut out);
        out.extend_from_slice(&subscription);
        s.write_all(&out).expect("write");
        let mut input = SegmentedBuffer::new();
        let mut skipped_greeting = false;
        let mut decoder = FrameDecoder::new(None);
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while got.len() < want {
            let n = s.read(&mut buf).expect("read");
            assert!(n > 0, "publisher closed the connection");
            input.push(Bytes::copy_from_slice(&buf[..n]));
            if !skipped_greeting {
                if input.len() < 64 {
                    continue;
                }
                input.advance(64);
                skipped_greeting = true;
            }
            while let Some(frame) = decoder.decode(&mut input).expect("valid frames") {
                if !frame.command {
                    got.push(frame.body);
                }
            }
        }
        let _ = tx.send(got);
    });
    rx
}

#[compio::test]
async fn publisher_accepts_both_subscription_forms() {
    // test_mock_pub_sub: a ZMTP 3.1 peer subscribes with a SUBSCRIBE command, a ZMTP
    // 3.0 peer with a 0x01 message; both receive only what matches.
    let publisher = PubSocket::new();
    let ep = publisher.bind("tcp://127.0.0.1:0").await.unwrap();
    let mut command = BytesMut::new();
    Command::Subscribe(Bytes::from_static(b"A")).encode(&mut command);
    let by_command = mock_subscriber(&ep, 1, command.to_vec(), 3);
    let by_message = mock_subscriber(&ep, 0, vec![0x00, 0x02, 0x01, b'A'], 3);
    within_for(
        LIMIT,
        "both subscribed",
        publisher.wait_for_peers(|n| n == 2),
    )
    .await;
    // Publish until both have their three A messages; B messages never reach them.
    let results = within_for(LIMIT, "mock subscribers", async {
        let mut both = futures::future::join(by_command, by_message);
        loop {
            publisher.send("B no").await.unwrap();
            publisher.send("A yes").await.unwrap();
            if let Ok(r) = timeout(Duration::from_millis(2), &mut both).await {
                return r;
            }
        }
    })
    .await;
    // One read may carry more than the three frames the mock waits for: count at least three.
    for got in [results.0.unwrap(), results.1.unwrap()] {
        assert!(got.len() >= 3, "{got:?}");
        assert!(got.iter().all(|b| &b[..] == b"A yes"), "{got:?}");
    }
}
