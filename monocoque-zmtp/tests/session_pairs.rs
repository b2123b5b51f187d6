//! Protocol pairs: two sessions joined in memory with a fake clock.
//!
//! Nothing here sleeps: time is an `Instant` the test advances by hand.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use monocoque_zmtp::proto::command::Command;
use monocoque_zmtp::proto::error::{Fault, ProtocolError};
use monocoque_zmtp::proto::greeting::{Greeting, MechanismName};
use monocoque_zmtp::proto::message::Message;
use monocoque_zmtp::proto::session::{Event, Session, SessionConfig};
use monocoque_zmtp::proto::socket_type::SocketType;

/// Frames this large or larger are sent by reference, as `Session` documents.
const ZERO_COPY_MIN: usize = 8 * 1024;
/// The most chunks `Session::poll_transmit_chunks` hands out at once, as documented.
const MAX_CHUNKS_PER_WRITE: usize = 512;

/// Moves bytes between two sessions until neither has anything to write.
fn pump(a: &mut Session, b: &mut Session, now: Instant) {
    let mut wire = BytesMut::new();
    for _ in 0..16 {
        let mut moved = 0;
        moved += a.poll_transmit(&mut wire);
        if !wire.is_empty() {
            b.handle_input(wire.split().freeze(), now);
        }
        moved += b.poll_transmit(&mut wire);
        if !wire.is_empty() {
            a.handle_input(wire.split().freeze(), now);
        }
        if moved == 0 {
            return;
        }
    }
    panic!("sessions never went quiet");
}

fn events(s: &mut Session) -> Vec<Event> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

fn pair(a: SessionConfig, b: SessionConfig, now: Instant) -> (Session, Session) {
    let mut a = Session::new(a, now).unwrap();
    let mut b = Session::new(b, now).unwrap();
    pump(&mut a, &mut b, now);
    (a, b)
}

fn connected(a: SocketType, b: SocketType, now: Instant) -> (Session, Session) {
    let (mut a, mut b) = pair(SessionConfig::new(a), SessionConfig::new(b), now);
    assert!(matches!(events(&mut a)[..], [Event::HandshakeComplete(_)]));
    assert!(matches!(events(&mut b)[..], [Event::HandshakeComplete(_)]));
    (a, b)
}

fn closed_with(s: &mut Session) -> ProtocolError {
    for e in events(s) {
        if let Event::Closed(err) = e {
            assert!(s.is_closed());
            return err;
        }
    }
    panic!("session did not close");
}

#[test]
fn every_compatible_pair_completes_the_null_handshake() {
    let now = Instant::now();
    let mut pairs = 0;
    for a in SocketType::ALL {
        for b in SocketType::ALL {
            let (mut sa, mut sb) = pair(SessionConfig::new(a), SessionConfig::new(b), now);
            if a.is_compatible(b) {
                pairs += 1;
                let Some(Event::HandshakeComplete(peer)) = sa.poll_event() else {
                    panic!("{a}-{b}: no handshake");
                };
                assert_eq!(peer.socket_type, b);
                assert_eq!(peer.version.to_string(), "3.1");
                assert!(sa.is_active() && sb.is_active());
                assert_eq!(sa.poll_timeout(), None, "handshake deadline cleared");
            } else {
                assert_eq!(
                    closed_with(&mut sa),
                    ProtocolError::IncompatibleSocketType { ours: a, theirs: b }
                );
                assert_eq!(
                    closed_with(&mut sb),
                    ProtocolError::IncompatibleSocketType { ours: b, theirs: a }
                );
            }
        }
    }
    assert_eq!(pairs, 21, "RFC table has 21 ordered compatible pairs");
}

#[test]
fn identity_is_carried_and_checked() {
    let now = Instant::now();
    let mut dealer = SessionConfig::new(SocketType::Dealer);
    dealer.routing_id = Some(Bytes::from_static(b"worker-1"));
    let (mut r, _d) = pair(SessionConfig::new(SocketType::Router), dealer, now);
    let Some(Event::HandshakeComplete(peer)) = r.poll_event() else {
        panic!("no handshake");
    };
    assert_eq!(peer.routing_id.as_deref(), Some(&b"worker-1"[..]));
    assert_eq!(
        peer.metadata.get("identity").map(|v| &v[..]),
        Some(&b"worker-1"[..])
    );

    // Locally, a leading zero byte or more than 255 bytes is refused up front.
    let mut bad = SessionConfig::new(SocketType::Dealer);
    bad.routing_id = Some(Bytes::from_static(b"\0generated"));
    assert_eq!(Session::new(bad, now).unwrap_err().fault(), Fault::Misuse);
    let mut long = SessionConfig::new(SocketType::Dealer);
    long.routing_id = Some(Bytes::from(vec![b'x'; 256]));
    assert!(Session::new(long, now).is_err());
}

/// The bytes a peer of `socket_type` sends for its whole handshake, optionally with
/// a custom READY.
fn peer_handshake(ready: Command) -> BytesMut {
    let mut out = BytesMut::new();
    out.extend_from_slice(&Greeting::new(MechanismName::NULL, false).encode());
    ready.encode(&mut out);
    out
}

#[test]
fn handshake_and_message_split_at_every_offset() {
    let now = Instant::now();
    let mut stream = peer_handshake(Command::ready(SocketType::Dealer, Some(b"peer")));
    Message::from(["", "multi", "part"]).encode(&mut stream);
    let expected_msg = Message::from(["", "multi", "part"]);

    let check = |chunks: &[&[u8]]| {
        let mut s = Session::new(SessionConfig::new(SocketType::Router), now).unwrap();
        for chunk in chunks {
            s.handle_input(Bytes::copy_from_slice(chunk), now);
        }
        let ev = events(&mut s);
        assert_eq!(ev.len(), 2, "events {ev:?}");
        assert!(
            matches!(&ev[0], Event::HandshakeComplete(p) if p.routing_id.as_deref() == Some(&b"peer"[..]))
        );
        assert_eq!(ev[1], Event::Message(expected_msg.clone()));
    };
    for cut in 0..=stream.len() {
        check(&[&stream[..cut], &stream[cut..]]);
    }
    let bytes: Vec<&[u8]> = stream.chunks(1).collect();
    check(&bytes);
}

#[test]
fn greeting_is_sent_in_two_parts() {
    let now = Instant::now();
    let mut s = Session::new(SessionConfig::new(SocketType::Req), now).unwrap();
    let mut out = BytesMut::new();
    assert_eq!(
        s.poll_transmit(&mut out),
        11,
        "signature and major version at once"
    );
    assert_eq!(
        &out[..],
        &Greeting::new(MechanismName::NULL, false).encode()[..11]
    );
    out.clear();
    // Peer's first 10 octets: not yet enough to send the rest.
    let peer = Greeting::new(MechanismName::NULL, false).encode();
    s.handle_input(Bytes::copy_from_slice(&peer[..10]), now);
    assert_eq!(s.poll_transmit(&mut out), 0);
    s.handle_input(Bytes::copy_from_slice(&peer[10..11]), now);
    assert_eq!(s.poll_transmit(&mut out), 53);
}

#[test]
fn messages_are_delivered_whole() {
    let now = Instant::now();
    let (mut push, mut pull) = connected(SocketType::Push, SocketType::Pull, now);
    let msg = Message::from(["a", "", "c", "d", "e"]);
    push.send_message(&msg).unwrap();
    let mut wire = BytesMut::new();
    push.poll_transmit(&mut wire);
    let wire = wire.freeze();
    // All but the last byte: nothing delivered.
    pull.handle_input(wire.slice(..wire.len() - 1), now);
    assert!(pull.poll_event().is_none());
    pull.handle_input(wire.slice(wire.len() - 1..), now);
    assert_eq!(pull.poll_event(), Some(Event::Message(msg)));
}

#[test]
fn empty_message_and_sending_too_early_are_refused() {
    let now = Instant::now();
    let mut s = Session::new(SessionConfig::new(SocketType::Push), now).unwrap();
    assert_eq!(s.send_message(&"x".into()), Err(ProtocolError::NotReady));
    let (mut push, _pull) = connected(SocketType::Push, SocketType::Pull, now);
    assert_eq!(
        push.send_message(&Message::new()),
        Err(ProtocolError::EmptyMessage)
    );
}

#[test]
fn handshake_deadline_on_a_fake_clock() {
    let start = Instant::now();
    let mut s = Session::new(SessionConfig::new(SocketType::Rep), start).unwrap();
    let deadline = s.poll_timeout().unwrap();
    assert_eq!(deadline, start + Duration::from_secs(30), "libzmq default");
    s.handle_timeout(deadline - Duration::from_millis(1));
    assert!(!s.is_closed());
    s.handle_timeout(deadline);
    assert_eq!(closed_with(&mut s), ProtocolError::HandshakeTimeout);
    assert_eq!(s.poll_timeout(), None);
}

fn heartbeat_config(t: SocketType, ivl_ms: u64, ttl_ms: Option<u64>) -> SessionConfig {
    let mut c = SessionConfig::new(t);
    c.heartbeat_ivl = Some(Duration::from_millis(ivl_ms));
    c.heartbeat_ttl = ttl_ms.map(Duration::from_millis);
    c
}

#[test]
fn ping_is_answered_with_pong_and_keeps_the_peer_alive() {
    let t0 = Instant::now();
    let (mut a, mut b) = pair(
        heartbeat_config(SocketType::Dealer, 1000, None),
        SessionConfig::new(SocketType::Router),
        t0,
    );
    events(&mut a);
    events(&mut b);
    assert_eq!(a.poll_timeout(), Some(t0 + Duration::from_secs(1)));
    let t1 = t0 + Duration::from_secs(1);
    a.handle_timeout(t1);
    let mut wire = BytesMut::new();
    a.poll_transmit(&mut wire);
    assert_eq!(&wire[..], &[0x04, 0x07, 0x04, b'P', b'I', b'N', b'G', 0, 0]);
    // The peer answers; the PONG never surfaces as an event.
    b.handle_input(wire.split().freeze(), t1);
    assert!(b.poll_event().is_none());
    b.poll_transmit(&mut wire);
    assert_eq!(&wire[..], &[0x04, 0x05, 0x04, b'P', b'O', b'N', b'G']);
    a.handle_input(wire.split().freeze(), t1);
    assert!(a.poll_event().is_none());
    // Long after, still alive: the next PING is due, not a timeout.
    let t2 = t1 + Duration::from_secs(1);
    a.handle_timeout(t2);
    assert!(!a.is_closed());
}

#[test]
fn silent_peer_times_out_after_a_ping() {
    let t0 = Instant::now();
    let mut cfg = heartbeat_config(SocketType::Dealer, 1000, None);
    cfg.heartbeat_timeout = Some(Duration::from_millis(500));
    let (mut a, _b) = pair(cfg, SessionConfig::new(SocketType::Router), t0);
    events(&mut a);
    let t1 = t0 + Duration::from_secs(1);
    a.handle_timeout(t1); // PING goes out
    assert_eq!(a.poll_timeout(), Some(t1 + Duration::from_millis(500)));
    a.handle_timeout(t1 + Duration::from_millis(499));
    assert!(!a.is_closed());
    a.handle_timeout(t1 + Duration::from_millis(500));
    assert_eq!(closed_with(&mut a), ProtocolError::HeartbeatTimeout);
}

#[test]
fn any_traffic_counts_as_liveness() {
    let t0 = Instant::now();
    let (mut a, mut b) = pair(
        heartbeat_config(SocketType::Pair, 1000, None),
        SessionConfig::new(SocketType::Pair),
        t0,
    );
    events(&mut a);
    events(&mut b);
    let t1 = t0 + Duration::from_secs(1);
    a.handle_timeout(t1); // PING out, but the peer never answers it ...
    b.send_message(&"data".into()).unwrap();
    let mut wire = BytesMut::new();
    b.poll_transmit(&mut wire);
    // ... it sends a message instead, which is proof enough.
    a.handle_input(wire.freeze(), t1 + Duration::from_millis(10));
    a.handle_timeout(t1 + Duration::from_millis(1500));
    assert!(!a.is_closed());
}

#[test]
fn peer_ttl_closes_a_session_that_hears_nothing() {
    let t0 = Instant::now();
    let (mut a, mut b) = pair(
        heartbeat_config(SocketType::Sub, 1000, Some(2500)),
        SessionConfig::new(SocketType::Pub),
        t0,
    );
    events(&mut a);
    events(&mut b);
    let t1 = t0 + Duration::from_secs(1);
    a.handle_timeout(t1);
    let mut wire = BytesMut::new();
    a.poll_transmit(&mut wire);
    // TTL 2500 ms travels as 25 deciseconds.
    assert_eq!(&wire[7..9], &[0, 25]);
    b.handle_input(wire.freeze(), t1);
    assert!(events(&mut b).is_empty(), "a PING makes no event");
    assert_eq!(b.poll_timeout(), Some(t1 + Duration::from_millis(2500)));
    b.handle_timeout(t1 + Duration::from_millis(2500));
    assert_eq!(closed_with(&mut b), ProtocolError::HeartbeatTimeout);
}

#[test]
fn subscriptions_use_commands_with_zmtp_3_1_and_messages_with_3_0() {
    let now = Instant::now();
    // 3.1 both sides: SUBSCRIBE / CANCEL commands.
    let (mut sub, mut publ) = connected(SocketType::Sub, SocketType::Pub, now);
    sub.subscribe(b"weather").unwrap();
    let mut wire = BytesMut::new();
    sub.poll_transmit(&mut wire);
    assert_eq!(wire[0], 0x04, "a command frame");
    assert_eq!(&wire[2..12], b"\x09SUBSCRIBE");
    publ.handle_input(wire.split().freeze(), now);
    assert_eq!(
        publ.poll_event(),
        Some(Event::Subscribe(Bytes::from_static(b"weather")))
    );
    sub.cancel(b"weather").unwrap();
    sub.poll_transmit(&mut wire);
    publ.handle_input(wire.split().freeze(), now);
    assert_eq!(
        publ.poll_event(),
        Some(Event::Cancel(Bytes::from_static(b"weather")))
    );

    // A ZMTP 3.0 publisher: the subscriber sends 0x01-prefixed messages.
    let mut sub = Session::new(SessionConfig::new(SocketType::Sub), now).unwrap();
    let mut greeting = Greeting::new(MechanismName::NULL, false);
    greeting.version.minor = 0;
    let mut peer = BytesMut::new();
    peer.extend_from_slice(&greeting.encode());
    Command::ready(SocketType::Pub, None).encode(&mut peer);
    sub.handle_input(peer.freeze(), now);
    assert_eq!(sub.version().map(|v| v.minor), Some(0));
    sub.poll_transmit(&mut wire);
    wire.clear();
    sub.subscribe(b"A").unwrap();
    sub.cancel(b"A").unwrap();
    sub.poll_transmit(&mut wire);
    assert_eq!(&wire[..], &[0x00, 2, 0x01, b'A', 0x00, 2, 0x00, b'A']);
}

#[test]
fn publisher_accepts_zmtp_3_0_subscription_messages() {
    let now = Instant::now();
    let (mut sub, mut publ) = connected(SocketType::Sub, SocketType::Pub, now);
    sub.send_message(&Message::from(&b"\x01topic"[..])).unwrap();
    sub.send_message(&Message::from(&b"\x00topic"[..])).unwrap();
    let mut wire = BytesMut::new();
    sub.poll_transmit(&mut wire);
    publ.handle_input(wire.freeze(), now);
    assert_eq!(
        events(&mut publ),
        vec![
            Event::Subscribe(Bytes::from_static(b"topic")),
            Event::Cancel(Bytes::from_static(b"topic")),
        ]
    );
}

#[test]
fn poll_message_yields_messages_and_events_one_at_a_time_in_order() {
    let now = Instant::now();
    let (mut xsub, mut xpub) = connected(SocketType::Xsub, SocketType::Xpub, now);
    xsub.subscribe(b"a").unwrap();
    xsub.send_message(&Message::from("first")).unwrap();
    xsub.cancel(b"a").unwrap();
    xsub.send_message(&Message::from(vec![
        Bytes::from("two"),
        Bytes::from("parts"),
    ]))
    .unwrap();
    let mut wire = BytesMut::new();
    xsub.poll_transmit(&mut wire);
    xpub.handle_input(wire.freeze(), now);

    let mut slot = None;
    let mut seen = Vec::new();
    loop {
        let event = xpub.poll_message(&mut slot);
        match (event, slot.take()) {
            (None, None) => break,
            (Some(event), None) => seen.push(event),
            (None, Some(message)) => seen.push(Event::Message(message)),
            (Some(_), Some(_)) => panic!("one call yielded a message and an event"),
        }
    }
    assert_eq!(
        seen,
        vec![
            Event::Subscribe(Bytes::from_static(b"a")),
            Event::Message("first".into()),
            Event::Cancel(Bytes::from_static(b"a")),
            Event::Message(Message::from(vec![
                Bytes::from("two"),
                Bytes::from("parts")
            ])),
        ]
    );
}

// ---- hostile input: each yields its specific error, no panic ----

fn feed_after_handshake(ours: SocketType, peer_type: SocketType, bytes: &[u8]) -> ProtocolError {
    let now = Instant::now();
    let mut cfg = SessionConfig::new(ours);
    cfg.max_msg_size = Some(1024);
    let mut s = Session::new(cfg, now).unwrap();
    let mut stream = peer_handshake(Command::ready(peer_type, None));
    stream.extend_from_slice(bytes);
    s.handle_input(stream.freeze(), now);
    closed_with(&mut s)
}

fn long_header(flags: u8, size: u64) -> Vec<u8> {
    let mut v = vec![flags | 0x02];
    v.extend_from_slice(&size.to_be_bytes());
    v
}

#[test]
fn oversized_declared_sizes() {
    for size in [1025, 1 << 63, u64::MAX] {
        let err = feed_after_handshake(SocketType::Pull, SocketType::Push, &long_header(0, size));
        assert_eq!(err, ProtocolError::MessageTooLarge { size, max: 1024 });
        assert_eq!(err.fault(), Fault::Malformed);
    }
    // The limit applies to each frame, as in libzmq: four 255-byte frames and a
    // 16-byte one make a legal 1,036-byte message under a limit of 1,024.
    let now = Instant::now();
    let mut cfg = SessionConfig::new(SocketType::Pull);
    cfg.max_msg_size = Some(1024);
    let mut s = Session::new(cfg, now).unwrap();
    let mut stream = peer_handshake(Command::ready(SocketType::Push, None));
    for _ in 0..4 {
        stream.extend_from_slice(&[0x01, 0xFF]);
        stream.extend_from_slice(&[0u8; 255]);
    }
    stream.extend_from_slice(&[0x00, 0x10]);
    stream.extend_from_slice(&[0u8; 16]);
    s.handle_input(stream.freeze(), now);
    let delivered: Vec<Event> = events(&mut s);
    assert!(
        matches!(&delivered[..], [Event::HandshakeComplete(_), Event::Message(m)] if m.byte_len() == 1036),
        "{delivered:?}"
    );
}

#[test]
fn reserved_flags_and_command_with_more() {
    assert_eq!(
        feed_after_handshake(SocketType::Pull, SocketType::Push, &[0x80, 0]),
        ProtocolError::ReservedFlags { flags: 0x80 }
    );
    assert_eq!(
        feed_after_handshake(SocketType::Pull, SocketType::Push, &[0x05, 0]),
        ProtocolError::CommandWithMore
    );
}

fn ready_with_raw_metadata(raw: &[u8]) -> BytesMut {
    let mut body = vec![5];
    body.extend_from_slice(b"READY");
    body.extend_from_slice(raw);
    let mut stream = BytesMut::new();
    stream.extend_from_slice(&Greeting::new(MechanismName::NULL, false).encode());
    monocoque_zmtp::proto::frame::put_frame(&mut stream, false, true, &body);
    stream
}

fn handshake_error(stream: BytesMut) -> ProtocolError {
    let now = Instant::now();
    let mut s = Session::new(SessionConfig::new(SocketType::Rep), now).unwrap();
    s.handle_input(stream.freeze(), now);
    closed_with(&mut s)
}

#[test]
fn malformed_metadata() {
    use monocoque_zmtp::proto::error::CommandField;
    let cases: Vec<(&str, Vec<u8>, CommandField)> = vec![
        (
            "empty name",
            vec![0, 0, 0, 0, 0],
            CommandField::PropertyName,
        ),
        (
            "name past end",
            vec![20, b'S', b'o'],
            CommandField::PropertyName,
        ),
        (
            "truncated value length",
            b"\x0bSocket-Type\x00\x00".to_vec(),
            CommandField::PropertyValue,
        ),
        (
            "value past end",
            b"\x0bSocket-Type\x00\x00\x00\x09REQ".to_vec(),
            CommandField::PropertyValue,
        ),
        (
            "value of 2^31",
            b"\x0bSocket-Type\x80\x00\x00\x00".to_vec(),
            CommandField::PropertyValue,
        ),
    ];
    for (what, raw, field) in cases {
        match handshake_error(ready_with_raw_metadata(&raw)) {
            ProtocolError::MalformedCommand { field: f, .. } => assert_eq!(f, field, "{what}"),
            other => panic!("{what}: {other:?}"),
        }
    }
    assert_eq!(
        handshake_error(ready_with_raw_metadata(
            b"\x0bSocket-Type\x00\x00\x00\x05NOPE!"
        )),
        ProtocolError::UnknownSocketType("NOPE!".into())
    );
    assert_eq!(
        handshake_error(ready_with_raw_metadata(b"")),
        ProtocolError::MissingSocketType
    );
    assert_eq!(
        handshake_error(ready_with_raw_metadata(
            b"\x0bSocket-Type\x00\x00\x00\x03REQ\x08Identity\x00\x00\x00\x02\x00x"
        )),
        ProtocolError::InvalidIdentity
    );
}

#[test]
fn legacy_and_wrong_mechanism_greetings() {
    let now = Instant::now();
    // The ZMTP 2.1 draft (revision 0x02) was never shipped; 2.0 is in tests/zmtp2.rs.
    let mut s = Session::new(SessionConfig::new(SocketType::Rep), now).unwrap();
    s.handle_input(
        Bytes::from_static(&[0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 0x02, 0x03, 0, 0]),
        now,
    );
    let err = closed_with(&mut s);
    assert_eq!(err, ProtocolError::UnsupportedVersion { version: "2.1" });
    assert_eq!(err.fault(), Fault::Incompatible);

    // ZMTP 1.0: a short identity frame followed by a message.
    let mut s = Session::new(SessionConfig::new(SocketType::Rep), now).unwrap();
    s.handle_input(
        Bytes::from_static(&[0x01, 0x00, 0x06, 0x00, b'h', b'e', b'l', b'l', b'o']),
        now,
    );
    assert_eq!(
        closed_with(&mut s),
        ProtocolError::UnsupportedVersion { version: "1.0" }
    );

    // PLAIN against NULL.
    let mut s = Session::new(SessionConfig::new(SocketType::Rep), now).unwrap();
    s.handle_input(
        Bytes::copy_from_slice(&Greeting::new(MechanismName::PLAIN, true).encode()),
        now,
    );
    assert_eq!(
        closed_with(&mut s),
        ProtocolError::MechanismMismatch {
            ours: MechanismName::NULL,
            theirs: MechanismName::PLAIN
        }
    );
}

#[test]
fn message_before_ready_and_error_from_peer() {
    let mut stream = BytesMut::new();
    stream.extend_from_slice(&Greeting::new(MechanismName::NULL, false).encode());
    stream.extend_from_slice(&[0x00, 0x01, b'x']);
    assert_eq!(handshake_error(stream), ProtocolError::MessageBeforeReady);

    let mut stream = BytesMut::new();
    stream.extend_from_slice(&Greeting::new(MechanismName::NULL, false).encode());
    Command::error("go away").encode(&mut stream);
    assert_eq!(
        handshake_error(stream),
        ProtocolError::PeerError {
            reason: "go away".into()
        }
    );
}

#[test]
fn a_failed_handshake_tells_the_peer_why() {
    let now = Instant::now();
    let mut a = Session::new(SessionConfig::new(SocketType::Push), now).unwrap();
    let mut b = Session::new(SessionConfig::new(SocketType::Push), now).unwrap();
    pump(&mut a, &mut b, now);
    // Each side sent an ERROR command after finding the other incompatible; the one
    // that read the other's ERROR first may report either, both are closed.
    assert!(a.is_closed() && b.is_closed());
    let err = closed_with(&mut a);
    assert_eq!(err.fault(), Fault::Incompatible, "{err}");
}

#[test]
fn commands_never_surface_and_unknown_ones_are_ignored() {
    let now = Instant::now();
    let (mut a, mut b) = connected(SocketType::Pair, SocketType::Pair, now);
    let mut wire = BytesMut::new();
    Command::Other {
        name: Bytes::from_static(b"FUTURE"),
        data: Bytes::from_static(b"stuff"),
    }
    .encode(&mut wire);
    Command::ping(0, Bytes::from_static(b"ctx"))
        .unwrap()
        .encode(&mut wire);
    b.handle_input(wire.split().freeze(), now);
    assert!(b.poll_event().is_none());
    assert!(b.is_active());
    b.poll_transmit(&mut wire);
    assert_eq!(
        &wire[..],
        &[0x04, 0x08, 0x04, b'P', b'O', b'N', b'G', b'c', b't', b'x']
    );
    a.handle_input(wire.freeze(), now);
    assert!(a.poll_event().is_none());
}

#[test]
fn arbitrary_garbage_never_panics() {
    // A cheap deterministic generator: every byte stream closes the session or waits,
    // never panics.
    let now = Instant::now();
    let mut seed = 0x2545F4914F6CDD1Du64;
    for round in 0..2000 {
        let mut s = Session::new(SessionConfig::new(SocketType::Router), now).unwrap();
        let mut stream = if round % 2 == 0 {
            peer_handshake(Command::ready(SocketType::Dealer, None))
        } else {
            BytesMut::new()
        };
        for _ in 0..(round % 97) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            stream.extend_from_slice(&seed.to_le_bytes()[..(seed % 8) as usize]);
        }
        s.handle_input(stream.freeze(), now);
        while s.poll_event().is_some() {}
    }
}

/// Two DEALER sessions with the handshake done and its events drained.
fn active_dealers(now: Instant) -> (Session, Session) {
    let (mut a, mut b) = pair(
        SessionConfig::new(SocketType::Dealer),
        SessionConfig::new(SocketType::Dealer),
        now,
    );
    events(&mut a);
    events(&mut b);
    (a, b)
}

/// A large frame is written from the sender's own buffer (by reference, in a chunk
/// of a vectored write) and arrives intact, in order with small frames around it.
#[test]
fn large_frames_are_sent_by_reference_and_arrive_intact() {
    let now = Instant::now();
    let (mut a, mut b) = active_dealers(now);
    let big = Bytes::from((0..ZERO_COPY_MIN * 8).map(|i| i as u8).collect::<Vec<u8>>());
    let message: Message = [
        Bytes::from_static(b"head"),
        big.clone(),
        Bytes::from_static(b"tail"),
    ]
    .into_iter()
    .collect();
    a.send_message(&"before".into()).unwrap();
    a.send_message(&message).unwrap();
    a.send_message(&"after".into()).unwrap();
    assert!(a.has_chunks());
    let pending = a.pending_transmit();
    let mut chunks = Vec::new();
    assert_eq!(a.poll_transmit_chunks(&mut chunks), pending);
    assert_eq!(a.pending_transmit(), 0);
    assert_eq!(chunks.iter().map(Bytes::len).sum::<usize>(), pending);
    assert!(
        chunks
            .iter()
            .any(|c| c.as_ptr() == big.as_ptr() && c.len() == big.len()),
        "the payload is the sender's buffer, not a copy"
    );
    for chunk in chunks {
        b.handle_input(chunk, now);
    }
    assert_eq!(
        events(&mut b),
        [
            Event::Message("before".into()),
            Event::Message(message.clone()),
            Event::Message("after".into()),
        ]
    );

    // A driver that writes one buffer gets the same bytes, copied.
    a.send_message(&message).unwrap();
    let mut flat = BytesMut::new();
    a.poll_transmit(&mut flat);
    let mut expected = BytesMut::new();
    message.encode(&mut expected);
    assert_eq!(flat, expected);
}

/// A message of more large frames than one vectored write may carry (Linux takes at
/// most 1,024 buffers) is handed out over several writes, in order and complete.
#[test]
fn a_message_of_many_large_frames_spans_several_writes() {
    let now = Instant::now();
    let (mut a, mut b) = active_dealers(now);
    let frames = MAX_CHUNKS_PER_WRITE * 2;
    let message: Message = (0..frames)
        .map(|i| Bytes::from(vec![i as u8; ZERO_COPY_MIN]))
        .collect();
    a.send_message(&message).unwrap();
    a.send_message(&"after".into()).unwrap();
    let mut writes = 0;
    while a.pending_transmit() > 0 {
        let pending = a.pending_transmit();
        let mut chunks = Vec::new();
        let n = a.poll_transmit_chunks(&mut chunks);
        assert!(
            chunks.len() <= MAX_CHUNKS_PER_WRITE + 1,
            "{} buffers",
            chunks.len()
        );
        assert_eq!(chunks.iter().map(Bytes::len).sum::<usize>(), n);
        assert_eq!(a.pending_transmit(), pending - n);
        for chunk in chunks {
            b.handle_input(chunk, now);
        }
        writes += 1;
    }
    assert!(writes >= 4, "{writes} writes");
    assert_eq!(
        events(&mut b),
        [Event::Message(message), Event::Message("after".into())]
    );
}
