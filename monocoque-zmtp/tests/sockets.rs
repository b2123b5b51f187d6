//! Behaviour of monocoque's sockets over real tcp and ipc connections, several peers
//! each. Waits are on events (`wait_for_peers`, messages), bounded by a timeout so a
//! failure fails instead of hanging; nothing sleeps to synchronise.

mod common;
use common::within;

use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use compio::time::timeout;
use monocoque_zmtp::config::SocketOptions;
use monocoque_zmtp::error::Error;
use monocoque_zmtp::proto::error::ProtocolError;
use monocoque_zmtp::proto::message::Message;
use monocoque_zmtp::socket::{
    DealerSocket, Monitor, PairSocket, PubSocket, PullSocket, PushSocket, RECENT_ERRORS,
    RecentError, RepSocket, ReqSocket, RouterSocket, SocketEvent, SubSocket, XPubSocket,
};

const LIMIT: Duration = Duration::from_secs(5);

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh endpoint for each transport: tcp on an ephemeral port, ipc in /tmp, inproc.
fn endpoints() -> [String; 3] {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    [
        format!("inproc://test-{n}"),
        "tcp://127.0.0.1:0".to_string(),
        format!(
            "ipc://{}/monocoque-test-{}-{n}.sock",
            std::env::temp_dir().display(),
            std::process::id()
        ),
    ]
}

fn text(m: &Message, i: usize) -> &str {
    std::str::from_utf8(&m[i]).expect("utf-8 frame")
}

#[compio::test]
async fn push_round_robins_and_pull_fair_queues() {
    for ep in endpoints() {
        let push = PushSocket::new();
        let bound = push.bind(&ep).await.unwrap();
        let pulls: Vec<PullSocket> = (0..3).map(|_| PullSocket::new()).collect();
        for p in &pulls {
            p.connect(&bound).await.unwrap();
        }
        within("3 peers", push.wait_for_peers(|n| n == 3)).await;
        for i in 0..30 {
            push.send(format!("{i}")).await.unwrap();
        }
        // Each PULL gets every third message, in order.
        let mut firsts = Vec::new();
        for p in &pulls {
            let mut got = Vec::new();
            for _ in 0..10 {
                let m = within("recv", p.recv()).await.unwrap();
                got.push(text(&m, 0).parse::<u32>().unwrap());
            }
            assert!(got.windows(2).all(|w| w[1] == w[0] + 3), "{ep}: {got:?}");
            firsts.push(got[0]);
        }
        firsts.sort();
        assert_eq!(firsts, vec![0, 1, 2], "{ep}");
    }
}

#[compio::test]
async fn pull_receives_from_many_pushers_in_order_per_peer() {
    for ep in endpoints() {
        let pull = PullSocket::new();
        let bound = pull.bind(&ep).await.unwrap();
        let pushers: Vec<PushSocket> = (0..3).map(|_| PushSocket::new()).collect();
        for (i, p) in pushers.iter().enumerate() {
            p.connect(&bound).await.unwrap();
            for n in 0..100 {
                p.send([format!("{i}"), format!("{n}")]).await.unwrap();
            }
        }
        let mut next = [0u32; 3];
        for _ in 0..300 {
            let m = within("recv", pull.recv()).await.unwrap();
            let who: usize = text(&m, 0).parse().unwrap();
            let n: u32 = text(&m, 1).parse().unwrap();
            assert_eq!(n, next[who], "{ep}: per-peer order");
            next[who] += 1;
        }
        assert_eq!(next, [100, 100, 100]);
    }
}

#[compio::test]
async fn req_rep_alternate_strictly_and_keep_envelopes() {
    for ep in endpoints() {
        let rep = RepSocket::new();
        let bound = rep.bind(&ep).await.unwrap();
        let req = ReqSocket::new();
        req.connect(&bound).await.unwrap();

        assert!(matches!(req.recv().await, Err(Error::InvalidState(_))));
        assert!(matches!(
            rep.send("early").await,
            Err(Error::InvalidState(_))
        ));
        for i in 0..5 {
            req.send(
                ["hello", ""]
                    .map(String::from)
                    .into_iter()
                    .chain([i.to_string()])
                    .collect::<Message>(),
            )
            .await
            .unwrap();
            assert!(matches!(
                req.send("again").await,
                Err(Error::InvalidState(_))
            ));
            let request = within("request", rep.recv()).await.unwrap();
            assert_eq!(request.len(), 3, "{ep}: REP strips only the envelope");
            assert_eq!(text(&request, 2), i.to_string());
            rep.send(format!("reply {i}")).await.unwrap();
            let reply = within("reply", req.recv()).await.unwrap();
            assert_eq!(reply.len(), 1);
            assert_eq!(text(&reply, 0), format!("reply {i}"));
        }
    }
}

#[compio::test]
async fn rep_puts_the_whole_envelope_back() {
    let rep = RepSocket::new();
    let bound = rep.bind("tcp://127.0.0.1:0").await.unwrap();
    let dealer = DealerSocket::new();
    dealer.connect(&bound).await.unwrap();
    dealer.send(["hop1", "hop2", "", "body"]).await.unwrap();
    let request = within("request", rep.recv()).await.unwrap();
    assert_eq!(request, Message::from(["body"]));
    rep.send("answer").await.unwrap();
    let reply = within("reply", dealer.recv()).await.unwrap();
    assert_eq!(reply, Message::from(["hop1", "hop2", "", "answer"]));
}

/// The guide's Lazy Pirate relies on this: when the server holding the request dies,
/// a REQ's receive keeps waiting (until the client's own timeout), as with libzmq,
/// instead of failing as if the caller had misused the socket.
#[compio::test]
async fn req_keeps_waiting_when_the_server_holding_its_request_dies() {
    let rep = RepSocket::new();
    let bound = rep.bind("tcp://127.0.0.1:0").await.unwrap();
    let req = ReqSocket::new();
    req.connect(&bound).await.unwrap();
    req.send("request").await.unwrap();
    within("request", rep.recv()).await.unwrap();
    rep.close().await;
    within("disconnect", req.wait_for_peers(|n| n == 0)).await;
    let waited = compio::time::timeout(Duration::from_millis(200), req.recv()).await;
    assert!(waited.is_err(), "recv returned {waited:?}");
    // As libzmq's strict REQ, the request is still outstanding: the client must close
    // and reopen (Lazy Pirate), not send again.
    assert!(matches!(
        req.send("again").await,
        Err(Error::InvalidState(_))
    ));
}

#[compio::test]
async fn req_round_robins_over_reps() {
    let req = ReqSocket::new();
    let reps: Vec<RepSocket> = (0..2).map(|_| RepSocket::new()).collect();
    for rep in &reps {
        let ep = rep.bind("tcp://127.0.0.1:0").await.unwrap();
        req.connect(&ep).await.unwrap();
    }
    within("peers", req.wait_for_peers(|n| n == 2)).await;
    for round in 0..4 {
        req.send(format!("{round}")).await.unwrap();
        // Exactly one REP gets each request, alternating.
        let rep = &reps[round % 2];
        let m = within("request", rep.recv()).await.unwrap();
        assert_eq!(text(&m, 0), round.to_string());
        rep.send("ok").await.unwrap();
        within("reply", req.recv()).await.unwrap();
    }
}

#[compio::test]
async fn router_routes_by_identity_and_drops_unknown_ids() {
    for ep in endpoints() {
        let router = RouterSocket::new();
        let bound = router.bind(&ep).await.unwrap();
        let dealers: Vec<DealerSocket> = ["alpha", "beta"]
            .iter()
            .map(|id| DealerSocket::with_options(SocketOptions::default().routing_id(*id)))
            .collect();
        for d in &dealers {
            d.connect(&bound).await.unwrap();
            d.send("hi").await.unwrap();
        }
        let mut seen = Vec::new();
        for _ in 0..2 {
            let m = within("recv", router.recv()).await.unwrap();
            assert_eq!(text(&m, 1), "hi");
            seen.push(text(&m, 0).to_string());
        }
        seen.sort();
        assert_eq!(seen, ["alpha", "beta"]);

        router.send(["nobody", "lost"]).await.unwrap();
        assert_eq!(router.stats().dropped, 1);
        router.send(["beta", "to beta"]).await.unwrap();
        router.send(["alpha", "to alpha"]).await.unwrap();
        assert_eq!(
            text(&within("a", dealers[0].recv()).await.unwrap(), 0),
            "to alpha"
        );
        assert_eq!(
            text(&within("b", dealers[1].recv()).await.unwrap(), 0),
            "to beta"
        );
    }
}

#[compio::test]
async fn router_generates_ids_and_honours_router_mandatory() {
    let router = RouterSocket::with_options(SocketOptions::default().router_mandatory(true));
    let bound = router.bind("tcp://127.0.0.1:0").await.unwrap();
    let dealer = DealerSocket::new();
    dealer.connect(&bound).await.unwrap();
    dealer.send("anonymous").await.unwrap();
    let m = within("recv", router.recv()).await.unwrap();
    assert_eq!(m[0].len(), 5, "generated id: a zero byte and 4 bytes");
    assert_eq!(m[0][0], 0);
    match router.send(["ghost", "x"]).await {
        Err(Error::HostUnreachable(id)) => assert_eq!(&id[..], b"ghost"),
        other => panic!("expected HostUnreachable, got {other:?}"),
    }
    router
        .send([m[0].clone(), Bytes::from_static(b"back")])
        .await
        .unwrap();
    assert_eq!(
        text(&within("reply", dealer.recv()).await.unwrap(), 0),
        "back"
    );
}

/// Publishes `message` until `sub` receives something, returning it.
async fn publish_until_received(publisher: &PubSocket, sub: &SubSocket, message: &str) -> Message {
    within("first publication", async {
        loop {
            publisher.send(message.to_string()).await.unwrap();
            if let Ok(m) = timeout(Duration::from_millis(5), sub.recv()).await {
                return m.unwrap();
            }
        }
    })
    .await
}

#[compio::test]
async fn pub_filters_by_prefix_for_each_subscriber() {
    for ep in endpoints() {
        let publisher = PubSocket::new();
        let bound = publisher.bind(&ep).await.unwrap();
        let sub_a = SubSocket::new();
        sub_a.subscribe("A").unwrap();
        let sub_b = SubSocket::new();
        sub_b.subscribe("B").unwrap();
        for s in [&sub_a, &sub_b] {
            s.connect(&bound).await.unwrap();
        }
        within("peers", publisher.wait_for_peers(|n| n == 2)).await;
        assert_eq!(
            text(
                &publish_until_received(&publisher, &sub_a, "A warm-up").await,
                0
            ),
            "A warm-up"
        );
        assert_eq!(
            text(
                &publish_until_received(&publisher, &sub_b, "B warm-up").await,
                0
            ),
            "B warm-up"
        );
        for i in 0..10 {
            publisher.send(format!("A{i}")).await.unwrap();
            publisher.send(format!("B{i}")).await.unwrap();
            publisher.send(format!("C{i}")).await.unwrap();
        }
        publisher.send("A-end").await.unwrap();
        publisher.send("B-end").await.unwrap();
        for (sub, prefix) in [(&sub_a, "A"), (&sub_b, "B")] {
            loop {
                let m = within("recv", sub.recv()).await.unwrap();
                let t = text(&m, 0).to_string();
                assert!(t.starts_with(prefix), "{ep}: {prefix} subscriber got {t}");
                if t.ends_with("-end") {
                    break;
                }
            }
        }
    }
}

#[compio::test]
async fn subscriptions_are_counted() {
    let xpub = XPubSocket::new();
    let bound = xpub.bind("tcp://127.0.0.1:0").await.unwrap();
    let sub = SubSocket::new();
    sub.connect(&bound).await.unwrap();
    sub.subscribe("A").unwrap();
    sub.subscribe("A").unwrap();
    sub.subscribe("B").unwrap();
    assert_eq!(
        &within("sub A", xpub.recv()).await.unwrap()[0][..],
        b"\x01A"
    );
    assert_eq!(
        &within("sub B", xpub.recv()).await.unwrap()[0][..],
        b"\x01B"
    );
    sub.unsubscribe("A").unwrap(); // one of two: still subscribed, nothing sent
    sub.unsubscribe("B").unwrap();
    // The next subscription change the XPUB sees is B's cancel, not A's.
    assert_eq!(
        &within("cancel B", xpub.recv()).await.unwrap()[0][..],
        b"\x00B"
    );
    // B's cancel was processed: a B message sent first is filtered at the publisher,
    // so the first thing the subscriber reads is the A message.
    xpub.send("B not wanted").await.unwrap();
    xpub.send("A still wanted").await.unwrap();
    assert_eq!(
        text(&within("A", sub.recv()).await.unwrap(), 0),
        "A still wanted"
    );
    sub.unsubscribe("A").unwrap();
    assert_eq!(
        &within("cancel A", xpub.recv()).await.unwrap()[0][..],
        b"\x00A"
    );
}

#[compio::test]
async fn connect_before_bind_queues_up_to_the_high_water_mark() {
    for ep in endpoints() {
        // Reserve a concrete endpoint, then free it so nothing listens yet.
        let concrete = {
            let probe = PullSocket::new();
            let bound = probe.bind(&ep).await.unwrap();
            probe.unbind(&bound).unwrap();
            bound
        };
        let push = PushSocket::with_options(SocketOptions::default().sndhwm(2));
        push.connect(&concrete).await.unwrap();
        push.send("one").await.unwrap();
        push.send("two").await.unwrap();
        // At the mark PUSH waits: a third send does not complete ...
        assert!(
            timeout(Duration::from_millis(50), push.send("three"))
                .await
                .is_err()
        );
        // ... and the cancelled send queued nothing (cancel safety).
        let pull = PullSocket::new();
        within("rebind", async {
            loop {
                match pull.bind(&concrete).await {
                    Ok(_) => break,
                    Err(_) => compio::time::sleep(Duration::from_millis(10)).await,
                }
            }
        })
        .await;
        push.send("three").await.unwrap();
        for expected in ["one", "two", "three"] {
            assert_eq!(
                text(&within("recv", pull.recv()).await.unwrap(), 0),
                expected,
                "{ep}"
            );
        }
    }
}

#[compio::test]
async fn pub_never_blocks_on_a_subscriber_that_does_not_read() {
    let publisher = PubSocket::with_options(SocketOptions::default().sndhwm(10));
    let bound = publisher.bind("tcp://127.0.0.1:0").await.unwrap();
    let sub = SubSocket::with_options(SocketOptions::default().rcvhwm(10));
    sub.subscribe("").unwrap();
    sub.connect(&bound).await.unwrap();
    publish_until_received(&publisher, &sub, "warm-up").await;
    let payload = Bytes::from(vec![7u8; 1024]);
    within("100k sends never block", async {
        for _ in 0..100_000 {
            publisher.send(payload.clone()).await.unwrap();
        }
    })
    .await;
    assert!(
        publisher.stats().dropped > 0,
        "the slow subscriber missed messages"
    );
}

#[compio::test]
async fn reconnect_restores_subscriptions() {
    let publisher = PubSocket::new();
    let bound = publisher.bind("tcp://127.0.0.1:0").await.unwrap();
    let sub =
        SubSocket::with_options(SocketOptions::default().reconnect_ivl(Duration::from_millis(20)));
    sub.subscribe("news").unwrap();
    sub.connect(&bound).await.unwrap();
    assert_eq!(
        text(&publish_until_received(&publisher, &sub, "news 1").await, 0),
        "news 1"
    );
    drop(publisher);
    for round in 2..5 {
        // The publisher went away; a new one comes back on the same port.
        let publisher = PubSocket::new();
        within("rebind", async {
            loop {
                match publisher.bind(&bound).await {
                    Ok(_) => break,
                    Err(_) => compio::time::sleep(Duration::from_millis(10)).await,
                }
            }
        })
        .await;
        let msg = format!("news {round}");
        assert_eq!(
            text(&publish_until_received(&publisher, &sub, &msg).await, 0),
            msg
        );
        publisher.send("sports").await.unwrap();
        publisher.send("news end").await.unwrap();
        assert_eq!(
            text(&within("filtered", sub.recv()).await.unwrap(), 0),
            "news end"
        );
        drop(publisher);
    }
}

// ---- peers that misbehave, over raw sockets ----

fn raw_connect(endpoint: &str) -> std::net::TcpStream {
    let addr = endpoint.trim_start_matches("tcp://");
    let s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    s
}

/// Reads until EOF on a blocking thread; returns how many bytes came first.
fn read_to_eof(mut s: std::net::TcpStream) -> std::thread::JoinHandle<std::io::Result<usize>> {
    std::thread::spawn(move || {
        let mut all = Vec::new();
        s.read_to_end(&mut all).map(|_| all.len())
    })
}

fn greeting_and_ready(socket_type: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 3, 1];
    out.extend_from_slice(b"NULL");
    out.resize(64, 0);
    let mut body = vec![5];
    body.extend_from_slice(b"READY");
    body.push(11);
    body.extend_from_slice(b"Socket-Type");
    body.extend_from_slice(&(socket_type.len() as u32).to_be_bytes());
    body.extend_from_slice(socket_type.as_bytes());
    out.push(0x04);
    out.push(body.len() as u8);
    out.extend_from_slice(&body);
    out
}

async fn wait_thread<T: Send + 'static>(handle: std::thread::JoinHandle<T>) -> T {
    within("raw peer thread", async {
        while !handle.is_finished() {
            compio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    handle.join().unwrap()
}

#[compio::test]
async fn handshake_timeout_closes_a_peer_that_never_greets() {
    let pull = PullSocket::with_options(
        SocketOptions::default().handshake_ivl(Some(Duration::from_millis(100))),
    );
    let bound = pull.bind("tcp://127.0.0.1:0").await.unwrap();
    let silent = raw_connect(&bound);
    let got = wait_thread(read_to_eof(silent)).await.unwrap();
    assert_eq!(got, 11, "only our signature and major version were sent");
    assert_eq!(pull.stats().protocol_errors, 1);
}

#[compio::test]
async fn heartbeat_timeout_drops_a_silent_peer() {
    let pull = PullSocket::with_options(
        SocketOptions::default()
            .heartbeat_ivl(Duration::from_millis(50))
            .heartbeat_timeout(Duration::from_millis(100)),
    );
    let bound = pull.bind("tcp://127.0.0.1:0").await.unwrap();
    let mut peer = raw_connect(&bound);
    peer.write_all(&greeting_and_ready("PUSH")).unwrap();
    within("handshake", pull.wait_for_peers(|n| n == 1)).await;
    // The raw peer never answers PINGs: it is dropped.
    let reader = read_to_eof(peer);
    within("drop", pull.wait_for_peers(|n| n == 0)).await;
    let got = wait_thread(reader).await.unwrap();
    assert!(got > 0, "PINGs were sent before the drop");
    // A silent peer is a lost connection, as libzmq reports it, not a protocol error.
    let stats = pull.stats();
    assert_eq!(
        (stats.disconnects, stats.protocol_errors),
        (1, 0),
        "{stats:?}"
    );
}

#[compio::test]
async fn a_bad_peer_does_not_disturb_a_good_one() {
    let pull = PullSocket::with_options(SocketOptions::default().max_msg_size(1024));
    let bound = pull.bind("tcp://127.0.0.1:0").await.unwrap();
    let good = PushSocket::new();
    good.connect(&bound).await.unwrap();
    good.send("before").await.unwrap();
    assert_eq!(
        text(&within("before", pull.recv()).await.unwrap(), 0),
        "before"
    );

    for garbage in [
        b"GET / HTTP/1.1\r\n\r\n".to_vec(),
        {
            let mut v = greeting_and_ready("PUSH");
            v.extend_from_slice(&[0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
            v
        },
        {
            let mut v = greeting_and_ready("PUB");
            v.extend_from_slice(b"\x00\x01x");
            v
        },
    ] {
        let mut bad = raw_connect(&bound);
        bad.write_all(&garbage).unwrap();
        wait_thread(read_to_eof(bad)).await.unwrap();
        good.send("still here").await.unwrap();
        assert_eq!(
            text(&within("good", pull.recv()).await.unwrap(), 0),
            "still here"
        );
    }
    assert_eq!(pull.stats().protocol_errors, 3);
    assert_eq!(pull.peer_count(), 1);
}

/// Sends `bytes` from a raw tcp peer and awaits the monitor's report that the
/// handshake failed (the error is recorded by then: both happen at the end of the
/// connection, with no await between them).
async fn failed_handshake(endpoint: &str, monitor: &Monitor, bytes: &[u8]) {
    let mut bad = raw_connect(endpoint);
    bad.write_all(bytes).unwrap();
    loop {
        match within("handshake failure", monitor.next()).await {
            Some(SocketEvent::HandshakeFailed { .. }) => return,
            Some(_) => {}
            None => panic!("the monitor stopped"),
        }
    }
}

/// `recent_errors` keeps the last `RECENT_ERRORS` entries; their sequence numbers tell
/// a poller which ones it has not seen, even once the list is full and every poll
/// returns as many entries as the last.
#[compio::test]
async fn recent_errors_are_numbered_so_a_poller_sees_what_is_new() {
    let pull = PullSocket::new();
    let monitor = pull.monitor();
    let bound = pull.bind("tcp://127.0.0.1:0").await.unwrap();
    // Odd sequence numbers: no ZMTP at all; even: an incompatible socket type.
    let bad_peer = async |n: u64| {
        let bytes = match n % 2 {
            1 => b"GET / HTTP/1.1\r\n\r\n".to_vec(),
            _ => greeting_and_ready("PUB"),
        };
        failed_handshake(&bound, &monitor, &bytes).await;
    };
    let new_since = |seen: u64| -> Vec<RecentError> {
        let all = pull.recent_errors();
        all.into_iter().filter(|e| e.sequence > seen).collect()
    };
    let first = RECENT_ERRORS as u64;
    for n in 1..=first {
        bad_peer(n).await;
    }
    let seen = new_since(0);
    assert_eq!(seen.len(), RECENT_ERRORS);
    let last_seen = seen.last().unwrap().sequence;
    assert_eq!(last_seen, first);
    assert!(new_since(last_seen).is_empty(), "nothing new yet");

    // Five more: the list stays full, its oldest five entries pushed out.
    for n in first + 1..=first + 5 {
        bad_peer(n).await;
    }
    assert_eq!(pull.recent_errors().len(), RECENT_ERRORS);
    assert_eq!(pull.recent_errors()[0].sequence, 6);
    let new = new_since(last_seen);
    let numbers: Vec<u64> = new.iter().map(|e| e.sequence).collect();
    assert_eq!(numbers, (first + 1..=first + 5).collect::<Vec<_>>());
    for entry in &new {
        let expected_bad_signature = entry.sequence % 2 == 1;
        assert_eq!(
            entry.error == ProtocolError::BadSignature,
            expected_bad_signature,
            "{entry:?}"
        );
    }
    assert_eq!(pull.stats().protocol_errors, first + 5);
}

#[compio::test]
async fn pair_talks_to_one_peer() {
    for ep in endpoints() {
        let a = PairSocket::new();
        let bound = a.bind(&ep).await.unwrap();
        let b = PairSocket::new();
        b.connect(&bound).await.unwrap();
        b.send(["multi", "", "part"]).await.unwrap();
        assert_eq!(
            within("a", a.recv()).await.unwrap(),
            Message::from(["multi", "", "part"])
        );
        a.send("back").await.unwrap();
        assert_eq!(text(&within("b", b.recv()).await.unwrap(), 0), "back");
    }
}

#[compio::test]
async fn large_and_empty_frames_survive() {
    let pull = PullSocket::new();
    let bound = pull.bind("tcp://127.0.0.1:0").await.unwrap();
    let push = PushSocket::new();
    push.connect(&bound).await.unwrap();
    let big = Bytes::from((0..1 << 20).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
    let msg = Message::from(vec![Bytes::new(), big.clone(), Bytes::new()]);
    push.send(msg.clone()).await.unwrap();
    assert_eq!(within("big", pull.recv()).await.unwrap(), msg);
}

/// Large frames between two sockets of one thread: over tcp the receiving connection
/// then reads what the kernel holds straight from it (`Connection::reads_now`), over
/// ipc through the runtime. Frames below and above the size that gets a buffer of its
/// own (32 KiB), with small ones between, must arrive whole and in order.
#[compio::test]
async fn large_frames_between_sockets_of_one_thread_arrive_whole_and_in_order() {
    const SIZES: [usize; 7] = [70_000, 9_000, 300, 131_072, 33_000, 16_384, 5];
    let payload = |i: usize| -> Bytes {
        let size = SIZES[i % SIZES.len()];
        (0..size).map(|b| (b % 251) as u8 ^ i as u8).collect()
    };
    for ep in endpoints().into_iter().skip(1) {
        let pull = PullSocket::new();
        let bound = pull.bind(&ep).await.unwrap();
        let push = std::rc::Rc::new(PushSocket::new());
        push.connect(&bound).await.unwrap();
        let sender = push.clone();
        let sending = compio::runtime::spawn(async move {
            for i in 0..400 {
                sender.send(payload(i)).await.unwrap();
            }
        });
        for i in 0..400 {
            let message = within("a large frame", pull.recv()).await.unwrap();
            assert_eq!(message[0], payload(i), "message {i} over {ep}");
        }
        sending.await.unwrap();
    }
}

#[compio::test]
async fn endpoints_ipv6_wildcard_and_host_names() {
    let pull = PullSocket::new();
    let v6 = pull.bind("tcp://[::1]:0").await.unwrap();
    assert!(v6.starts_with("tcp://[::1]:"), "{v6}");
    let any = pull.bind("tcp://*:0").await.unwrap();
    assert!(any.starts_with("tcp://0.0.0.0:"), "{any}");
    let port = any.rsplit(':').next().unwrap();
    let push = PushSocket::new();
    push.connect(&v6).await.unwrap();
    push.connect(&format!("tcp://localhost:{port}"))
        .await
        .unwrap();
    within("two peers", pull.wait_for_peers(|n| n == 2)).await;
    assert!(matches!(
        push.connect("tcp://*:5555").await,
        Err(Error::Endpoint(_))
    ));
    assert!(matches!(
        pull.bind("tcp://127.0.0.1").await,
        Err(Error::Endpoint(_))
    ));
    assert!(matches!(
        pull.unbind("tcp://127.0.0.1:1"),
        Err(Error::UnknownEndpoint(_))
    ));
}

#[compio::test]
async fn disconnect_and_unbind_close_connections() {
    let pull = PullSocket::new();
    let bound = pull.bind("tcp://127.0.0.1:0").await.unwrap();
    let push = PushSocket::new();
    push.connect(&bound).await.unwrap();
    within("connected", pull.wait_for_peers(|n| n == 1)).await;
    push.disconnect(&bound).unwrap();
    within("disconnected", pull.wait_for_peers(|n| n == 0)).await;

    push.connect(&bound).await.unwrap();
    within("reconnected", pull.wait_for_peers(|n| n == 1)).await;
    pull.unbind(&bound).unwrap();
    within("unbound", push.wait_for_peers(|n| n == 0)).await;
}

#[compio::test]
async fn linger_decides_what_close_delivers() {
    // Default linger: close waits until everything queued was written.
    let pull = PullSocket::new();
    let bound = pull.bind("tcp://127.0.0.1:0").await.unwrap();
    let push = PushSocket::new();
    push.connect(&bound).await.unwrap();
    for i in 0..1000 {
        push.send(format!("{i}")).await.unwrap();
    }
    within("close", push.close()).await;
    for i in 0..1000 {
        assert_eq!(
            text(&within("recv", pull.recv()).await.unwrap(), 0),
            i.to_string()
        );
    }

    // Linger 0 towards a peer that does not exist: close returns at once and the
    // queued messages are dropped.
    let push = PushSocket::with_options(SocketOptions::default().linger(Some(Duration::ZERO)));
    push.connect("tcp://127.0.0.1:1").await.unwrap();
    push.send("never delivered").await.unwrap();
    within("close with linger 0", push.close()).await;

    // Linger 50 ms towards a peer that does not exist: close gives up after it.
    let push =
        PushSocket::with_options(SocketOptions::default().linger(Some(Duration::from_millis(50))));
    push.connect("tcp://127.0.0.1:1").await.unwrap();
    push.send("never delivered").await.unwrap();
    within("close with linger 50 ms", push.close()).await;
}

#[compio::test]
async fn hwm_1_at_both_ends_queues_exactly_two_messages_inproc() {
    // libzmq's test_hwm: with sndhwm 1 and rcvhwm 1 a PUSH can queue two messages.
    let pull = PullSocket::with_options(SocketOptions::default().rcvhwm(1));
    pull.bind("inproc://hwm").await.unwrap();
    let push = PushSocket::with_options(SocketOptions::default().sndhwm(1));
    push.connect("inproc://hwm").await.unwrap();
    within("connected", push.wait_for_peers(|n| n == 1)).await;
    let mut queued = 0;
    while timeout(Duration::from_millis(20), push.send(format!("{queued}")))
        .await
        .is_ok()
    {
        queued += 1;
        assert!(queued < 100, "the high-water mark never stopped the sender");
    }
    assert_eq!(queued, 2);
    for i in 0..2 {
        assert_eq!(
            text(&within("recv", pull.recv()).await.unwrap(), 0),
            i.to_string()
        );
    }
    // Room again: the sender goes on.
    within("send after drain", push.send("more")).await.unwrap();
    assert_eq!(text(&within("recv", pull.recv()).await.unwrap(), 0), "more");
}

#[compio::test]
async fn inproc_connect_before_bind_and_rebind() {
    let push = PushSocket::new();
    push.connect("inproc://later").await.unwrap();
    push.send("queued before bind").await.unwrap();
    let pull = PullSocket::new();
    pull.bind("inproc://later").await.unwrap();
    assert_eq!(
        text(&within("recv", pull.recv()).await.unwrap(), 0),
        "queued before bind"
    );
    assert!(
        PullSocket::new().bind("inproc://later").await.is_err(),
        "name in use"
    );
    drop(pull);
    within("unlinked", push.wait_for_peers(|n| n == 0)).await;
    let pull = PullSocket::new();
    pull.bind("inproc://later").await.unwrap();
    push.send("after rebind").await.unwrap();
    assert_eq!(
        text(&within("recv", pull.recv()).await.unwrap(), 0),
        "after rebind"
    );
}

#[compio::test]
async fn incompatible_inproc_peers_are_not_linked() {
    let a = PushSocket::new();
    a.bind("inproc://incompatible").await.unwrap();
    let b = PushSocket::new();
    b.connect("inproc://incompatible").await.unwrap();
    let c = PullSocket::new();
    c.connect("inproc://incompatible").await.unwrap();
    within("compatible peer", a.wait_for_peers(|n| n == 1)).await;
    assert_eq!(b.peer_count(), 0);
}

/// After `close` returns, the address is free again, as after libzmq's `zmq_close`:
/// a restarted server binds the same port (or socket path) at once.
#[compio::test]
async fn close_frees_the_bound_address_for_the_next_bind() {
    for endpoint in &endpoints()[1..] {
        let mut bound = endpoint.clone();
        for round in 0..3 {
            let pull = PullSocket::new();
            bound = pull
                .bind(&bound)
                .await
                .unwrap_or_else(|e| panic!("round {round}: bind {bound}: {e}"));
            let push = PushSocket::new();
            push.connect(&bound).await.unwrap();
            push.send("ping").await.unwrap();
            assert_eq!(text(&within("ping", pull.recv()).await.unwrap(), 0), "ping");
            push.close().await;
            pull.close().await;
        }
    }
}

/// Whether this process may use io_uring: `io_uring_setup` with no entries fails
/// with EINVAL where io_uring exists, with EPERM where it is refused (a seccomp
/// profile such as Docker's, or `scripts/no_io_uring`, which .ci/run runs this file
/// under a second time).
fn io_uring_refused() -> bool {
    // SAFETY: io_uring_setup(0, NULL) only validates its arguments and fails; it
    // reads and writes no memory.
    let result =
        unsafe { libc::syscall(libc::SYS_io_uring_setup, 0u32, std::ptr::null_mut::<u8>()) };
    result == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// A runtime made the ordinary way runs on io_uring where the kernel allows it and
/// falls back to epoll where io_uring is refused, instead of failing to start; the
/// sockets work on either.
#[test]
fn the_runtime_uses_io_uring_or_falls_back_to_epoll() {
    let runtime = compio::runtime::Runtime::new().expect("a runtime starts either way");
    let driver = runtime.driver_type();
    assert_eq!(driver.is_polling(), io_uring_refused(), "{driver:?}");
    runtime.block_on(async {
        let pull = PullSocket::new();
        let endpoint = pull.bind("tcp://127.0.0.1:0").await.unwrap();
        let push = PushSocket::new();
        push.connect(&endpoint).await.unwrap();
        push.send("over either driver").await.unwrap();
        let message = within("message", pull.recv()).await.unwrap();
        assert_eq!(&message[0][..], b"over either driver");
    });
}

/// Native sockets as a `futures::Sink` and `Stream`.
#[compio::test]
async fn native_sockets_compose_as_sink_and_stream() {
    use futures::{SinkExt, StreamExt};
    let pull = PullSocket::new();
    let bound = pull.bind("tcp://127.0.0.1:0").await.unwrap();
    let push = PushSocket::new();
    push.connect(&bound).await.unwrap();
    let mut sink = push.sink();
    for i in 0..10 {
        sink.feed(Message::from(i.to_string())).await.unwrap();
    }
    sink.flush().await.unwrap();
    let received: Vec<String> = within(
        "ten messages",
        pull.stream()
            .take(10)
            .map(|m| text(&m.unwrap(), 0).to_string())
            .collect(),
    )
    .await;
    let expected: Vec<String> = (0..10).map(|i| i.to_string()).collect();
    assert_eq!(received, expected);
}

/// INVERT_MATCHING (no wire effect: subscriptions travel as usual): an inverted PUB
/// sends a subscriber what does not match its subscriptions, and an inverted SUB
/// takes only that.
#[compio::test]
async fn invert_matching_delivers_what_does_not_match() {
    let inverted = SocketOptions::default().invert_matching(true);
    let publisher = PubSocket::with_options(inverted.clone());
    let bound = publisher.bind("tcp://127.0.0.1:0").await.unwrap();
    let sub = SubSocket::with_options(inverted);
    sub.subscribe("skip").unwrap();
    sub.connect(&bound).await.unwrap();
    within("subscription", async {
        loop {
            publisher.send("skip this").await.unwrap();
            publisher.send("take this").await.unwrap();
            if let Ok(Ok(m)) = timeout(Duration::from_millis(20), sub.recv()).await {
                assert_eq!(text(&m, 0), "take this");
                break;
            }
        }
    })
    .await;
}

/// XPUB_NODROP (after libzmq's test_xpub_nodrop): with a subscriber that stops
/// reading, an XPUB's send waits once the subscriber's queue is full instead of
/// dropping; without the option the same sends all complete and are dropped.
#[compio::test]
async fn xpub_nodrop_waits_instead_of_dropping() {
    for nodrop in [true, false] {
        let options = SocketOptions::default().xpub_nodrop(nodrop).sndhwm(10);
        let xpub = XPubSocket::with_options(options);
        let bound = xpub.bind("tcp://127.0.0.1:0").await.unwrap();
        // A subscriber to everything (a ZMTP 3.0 subscription message) that never
        // reads: the kernel's buffers fill, then its queue in the XPUB.
        let mut peer = raw_connect(&bound);
        let mut hello = greeting_and_ready("SUB");
        hello.extend_from_slice(&[0x00, 0x01, 0x01]);
        peer.write_all(&hello).unwrap();
        within("subscription", xpub.recv()).await.unwrap();
        let body = vec![7u8; 64 * 1024];
        let mut sent = 0;
        while sent < 1000 {
            let send = xpub.send(body.clone());
            match timeout(Duration::from_millis(300), send).await {
                Ok(result) => result.unwrap(),
                Err(_) => break,
            }
            sent += 1;
        }
        let dropped = xpub.stats().dropped;
        if nodrop {
            assert!(sent < 1000, "the XPUB never made the sender wait");
            assert_eq!(dropped, 0);
        } else {
            assert_eq!(sent, 1000);
            assert!(dropped > 0, "nothing dropped without the option");
        }
        drop(peer);
    }
}
