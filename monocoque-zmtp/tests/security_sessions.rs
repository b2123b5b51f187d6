//! PLAIN, CURVE and ZAP handshakes between two sessions in memory, with a fake clock:
//! every mechanism pair, and the failures libzmq's test_security_* cases cover.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use monocoque_zmtp::proto::auth::Authenticator;
use monocoque_zmtp::proto::error::{Fault, ProtocolError};
use monocoque_zmtp::proto::greeting::{Greeting, MechanismName};
use monocoque_zmtp::proto::handshake::PeerInfo;
use monocoque_zmtp::proto::mechanism::curve::{KeyPair, PublicKey, SecretKey};
use monocoque_zmtp::proto::mechanism::{Password, Security};
use monocoque_zmtp::proto::message::Message;
use monocoque_zmtp::proto::session::{Event, Session, SessionConfig};
use monocoque_zmtp::proto::socket_type::SocketType;
use monocoque_zmtp::proto::zap::{ZapAnswer, ZapReply, ZapStatus};

// The key pairs of libzmq's test_security_curve.cpp.
const CLIENT_SECRET: &str = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";
const SERVER_SECRET: &str = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";

fn server_keys() -> KeyPair {
    KeyPair::from_secret(SecretKey::parse(SERVER_SECRET).unwrap())
}

fn client_keys() -> KeyPair {
    KeyPair::from_secret(SecretKey::parse(CLIENT_SECRET).unwrap())
}

fn config(socket_type: SocketType, security: Security) -> SessionConfig {
    let mut config = SessionConfig::new(socket_type);
    config.security = security;
    config
}

fn curve_client(server_key: PublicKey) -> Security {
    Security::CurveClient {
        server_key,
        keys: client_keys(),
    }
}

fn curve_server() -> Security {
    Security::CurveServer {
        keys: server_keys(),
    }
}

fn plain_client(user: &'static str, password: &'static str) -> Security {
    Security::PlainClient {
        username: Bytes::from_static(user.as_bytes()),
        password: Password::new(password),
    }
}

/// Two sessions and the authenticator answering the server's ZAP requests.
struct Pair {
    client: Session,
    server: Session,
    auth: Option<Authenticator>,
    now: Instant,
    /// Events seen so far, per side.
    client_events: Vec<Event>,
    server_events: Vec<Event>,
}

impl Pair {
    fn new(client: SessionConfig, server: SessionConfig, auth: Option<Authenticator>) -> Pair {
        let now = Instant::now();
        let mut pair = Pair {
            client: Session::new(client, now).unwrap(),
            server: Session::new(server, now).unwrap(),
            auth,
            now,
            client_events: Vec::new(),
            server_events: Vec::new(),
        };
        pair.pump();
        pair
    }

    /// Moves bytes both ways and answers ZAP requests until both sides are quiet.
    fn pump(&mut self) {
        let mut wire = BytesMut::new();
        for _ in 0..32 {
            let mut moved = self.client.poll_transmit(&mut wire);
            if !wire.is_empty() {
                self.server.handle_input(wire.split().freeze(), self.now);
            }
            moved += self.drain_server();
            moved += self.server.poll_transmit(&mut wire);
            if !wire.is_empty() {
                self.client.handle_input(wire.split().freeze(), self.now);
            }
            while let Some(event) = self.client.poll_event() {
                self.client_events.push(event);
            }
            if moved == 0 {
                return;
            }
        }
        panic!("sessions never went quiet");
    }

    fn drain_server(&mut self) -> usize {
        let mut answered = 0;
        while let Some(event) = self.server.poll_event() {
            if let Event::Authenticate(request) = &event {
                let answer = match &self.auth {
                    Some(auth) => ZapAnswer::Reply(auth.authenticate(request)),
                    None => ZapAnswer::NoHandler,
                };
                self.server.handle_zap_answer(answer, self.now);
                answered += 1;
            }
            self.server_events.push(event);
        }
        answered
    }

    fn client_peer(&self) -> Option<&PeerInfo> {
        peer(&self.client_events)
    }

    fn server_peer(&self) -> Option<&PeerInfo> {
        peer(&self.server_events)
    }

    fn client_error(&self) -> Option<&ProtocolError> {
        closed(&self.client_events)
    }

    fn server_error(&self) -> Option<&ProtocolError> {
        closed(&self.server_events)
    }

    fn messages_at_server(&self) -> Vec<&Message> {
        messages(&self.server_events)
    }

    fn messages_at_client(&self) -> Vec<&Message> {
        messages(&self.client_events)
    }
}

fn peer(events: &[Event]) -> Option<&PeerInfo> {
    events.iter().find_map(|e| match e {
        Event::HandshakeComplete(peer) => Some(&**peer),
        _ => None,
    })
}

fn closed(events: &[Event]) -> Option<&ProtocolError> {
    events.iter().find_map(|e| match e {
        Event::Closed(err) => Some(err),
        _ => None,
    })
}

fn messages(events: &[Event]) -> Vec<&Message> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m),
            _ => None,
        })
        .collect()
}

fn multipart(frames: &[&'static [u8]]) -> Message {
    let mut message = Message::new();
    for frame in frames {
        message.push(Bytes::from_static(frame));
    }
    message
}

#[test]
fn curve_handshake_and_messages_both_ways() {
    let mut pair = Pair::new(
        config(SocketType::Dealer, curve_client(server_keys().public)),
        config(SocketType::Router, curve_server()),
        None,
    );
    assert_eq!(pair.client_peer().unwrap().socket_type, SocketType::Router);
    assert_eq!(pair.server_peer().unwrap().socket_type, SocketType::Dealer);
    let big = Bytes::from(vec![7u8; 100_000]);
    let mut sent = multipart(&[b"", b"hello"]);
    sent.push(big.clone());
    pair.client.send_message(&sent).unwrap();
    pair.server.send_message(&multipart(&[b"world"])).unwrap();
    pair.pump();
    assert_eq!(pair.messages_at_server(), [&sent]);
    assert_eq!(pair.messages_at_client(), [&multipart(&[b"world"])]);
}

#[test]
fn curve_frames_are_encrypted_on_the_wire() {
    let now = Instant::now();
    let mut pair = Pair::new(
        config(SocketType::Push, curve_client(server_keys().public)),
        config(SocketType::Pull, curve_server()),
        None,
    );
    pair.client
        .send_message(&multipart(&[b"attack at dawn"]))
        .unwrap();
    let mut wire = BytesMut::new();
    pair.client.poll_transmit(&mut wire);
    // One MESSAGE command in a data frame with outer flags 0.
    assert_eq!(wire[0], 0x00);
    assert_eq!(usize::from(wire[1]), 8 + 8 + 16 + 1 + 14);
    assert_eq!(&wire[2..10], b"\x07MESSAGE");
    // The client's short nonces: HELLO 1, INITIATE 2, first MESSAGE 3.
    assert_eq!(&wire[10..18], &3u64.to_be_bytes());
    assert!(!wire.windows(6).any(|w| w == b"attack"));
    pair.server.handle_input(wire.freeze(), now);
    let event = pair.server.poll_event();
    assert_eq!(event, Some(Event::Message(multipart(&[b"attack at dawn"]))));
}

#[test]
fn curve_subscriptions_and_heartbeats_travel_inside_boxes() {
    let mut sub_config = config(SocketType::Sub, curve_client(server_keys().public));
    sub_config.heartbeat_ivl = Some(Duration::from_secs(1));
    let mut pair = Pair::new(sub_config, config(SocketType::Pub, curve_server()), None);
    pair.client.subscribe(b"weather").unwrap();
    pair.pump();
    assert!(
        pair.server_events
            .iter()
            .any(|e| *e == Event::Subscribe(Bytes::from_static(b"weather")))
    );
    // A PING from the client gets a PONG through the cipher; nobody closes.
    pair.now += Duration::from_secs(1);
    let now = pair.now;
    pair.client.handle_timeout(now);
    pair.pump();
    pair.now += Duration::from_millis(500);
    let now = pair.now;
    pair.client.handle_timeout(now);
    assert!(!pair.client.is_closed() && !pair.server.is_closed());
}

#[test]
fn curve_with_the_wrong_server_key_fails_without_an_error_command() {
    let other = KeyPair::generate().unwrap();
    let pair = Pair::new(
        config(SocketType::Req, curve_client(other.public)),
        config(SocketType::Rep, curve_server()),
        None,
    );
    assert!(matches!(
        pair.server_error(),
        Some(ProtocolError::Crypto { .. })
    ));
    // Crypto failures send no ERROR: the client only sees the connection end.
    assert!(pair.client_error().is_none());
    assert!(pair.client_peer().is_none());
}

#[test]
fn curve_zap_refusal_reaches_the_client_as_error_400() {
    let auth = Authenticator::new().curve_key([1; 32]);
    let pair = Pair::new(
        config(SocketType::Req, curve_client(server_keys().public)),
        config(SocketType::Rep, curve_server()),
        Some(auth),
    );
    assert_eq!(
        pair.server_error(),
        Some(&ProtocolError::ZapDenied { status: 400 })
    );
    assert_eq!(pair.server_error().unwrap().fault(), Fault::Denied);
    assert_eq!(
        pair.client_error(),
        Some(&ProtocolError::PeerError {
            reason: "400".into()
        })
    );
}

#[test]
fn curve_zap_acceptance_sets_the_user_id() {
    let auth = Authenticator::new().curve_key(*client_keys().public.as_bytes());
    let pair = Pair::new(
        config(SocketType::Req, curve_client(server_keys().public)),
        config(SocketType::Rep, curve_server()),
        Some(auth),
    );
    let user = pair.server_peer().unwrap().user_id.clone().unwrap();
    assert_eq!(&user[..], client_keys().public.to_z85().as_bytes());
}

#[test]
fn messages_carry_the_user_id_and_the_peers_properties() {
    let mut client = config(SocketType::Dealer, plain_client("admin", "secret"));
    client.routing_id = Some(Bytes::from_static(b"client-7"));
    let mut pair = Pair::new(
        client,
        config(SocketType::Router, Security::PlainServer),
        Some(Authenticator::new().plain_user("admin", "secret")),
    );
    pair.client.send_message(&multipart(&[b"a", b"b"])).unwrap();
    pair.client.send_message(&multipart(&[b"c"])).unwrap();
    pair.pump();
    let received = pair.messages_at_server();
    assert_eq!(received.len(), 2);
    for message in received {
        assert_eq!(message.user_id().map(|u| &u[..]), Some(&b"admin"[..]));
        assert_eq!(
            message.property("socket-type").map(|t| &t[..]),
            Some(&b"DEALER"[..])
        );
        assert_eq!(
            message.property("Identity").map(|t| &t[..]),
            Some(&b"client-7"[..])
        );
    }
}

#[test]
fn curve_without_a_handler_accepts_unless_enforced() {
    let pair = Pair::new(
        config(SocketType::Req, curve_client(server_keys().public)),
        config(SocketType::Rep, curve_server()),
        None,
    );
    assert!(pair.server_peer().is_some());
    let mut enforced = config(SocketType::Rep, curve_server());
    enforced.zap_enforce_domain = true;
    let pair = Pair::new(
        config(SocketType::Req, curve_client(server_keys().public)),
        enforced,
        None,
    );
    assert_eq!(pair.server_error(), Some(&ProtocolError::ZapUnavailable));
}

#[test]
fn zap_300_closes_without_an_error_command_and_500_sends_one() {
    for (status, told) in [
        (ZapStatus::TemporaryError, None),
        (ZapStatus::InternalError, Some("500")),
    ] {
        let auth = Authenticator::new().callback(move |r| Some(ZapReply::new(r, status)));
        let pair = Pair::new(
            config(SocketType::Req, plain_client("admin", "secret")),
            config(SocketType::Rep, Security::PlainServer),
            Some(auth),
        );
        assert_eq!(
            pair.server_error(),
            Some(&ProtocolError::ZapDenied {
                status: status.code()
            })
        );
        let expected = told.map(|reason| ProtocolError::PeerError {
            reason: reason.into(),
        });
        assert_eq!(pair.client_error(), expected.as_ref());
    }
}

#[test]
fn plain_with_good_and_bad_credentials() {
    let auth = || Authenticator::new().plain_user("admin", "secret");
    let good = Pair::new(
        config(SocketType::Dealer, plain_client("admin", "secret")),
        config(SocketType::Router, Security::PlainServer),
        Some(auth()),
    );
    assert_eq!(
        good.server_peer().unwrap().user_id.as_deref(),
        Some(&b"admin"[..])
    );
    assert!(good.client_peer().is_some());

    let bad = Pair::new(
        config(SocketType::Dealer, plain_client("admin", "guess")),
        config(SocketType::Router, Security::PlainServer),
        Some(auth()),
    );
    assert_eq!(
        bad.client_error(),
        Some(&ProtocolError::PeerError {
            reason: "400".into()
        })
    );
    assert!(bad.server_peer().is_none());
}

#[test]
fn plain_without_a_handler_refuses_everyone() {
    let pair = Pair::new(
        config(SocketType::Dealer, plain_client("admin", "secret")),
        config(SocketType::Router, Security::PlainServer),
        None,
    );
    assert_eq!(pair.server_error(), Some(&ProtocolError::ZapUnavailable));
    assert!(pair.client_peer().is_none());
}

#[test]
fn plain_messages_flow_after_the_handshake() {
    let mut pair = Pair::new(
        config(SocketType::Push, plain_client("admin", "secret")),
        config(SocketType::Pull, Security::PlainServer),
        Some(Authenticator::new().plain_user("admin", "secret")),
    );
    pair.client.send_message(&multipart(&[b"a", b"b"])).unwrap();
    pair.pump();
    assert_eq!(pair.messages_at_server(), [&multipart(&[b"a", b"b"])]);
}

#[test]
fn null_with_a_zap_domain_asks_the_authenticator() {
    let mut server = config(SocketType::Rep, Security::Null);
    server.zap_domain = Bytes::from_static(b"global");
    let deny = Authenticator::new().deny("");
    let pair = Pair::new(
        config(SocketType::Req, Security::Null),
        server.clone(),
        Some(deny),
    );
    assert_eq!(
        pair.server_error(),
        Some(&ProtocolError::ZapDenied { status: 400 })
    );
    assert_eq!(
        pair.client_error(),
        Some(&ProtocolError::PeerError {
            reason: "400".into()
        })
    );
    // Without a handler NULL accepts, as libzmq does.
    let pair = Pair::new(config(SocketType::Req, Security::Null), server, None);
    assert!(pair.server_peer().is_some() && pair.client_peer().is_some());
}

#[test]
fn mechanisms_must_match() {
    for (client, server) in [
        (Security::Null, curve_server()),
        (plain_client("admin", "secret"), curve_server()),
        (curve_client(server_keys().public), Security::PlainServer),
        (Security::Null, Security::PlainServer),
    ] {
        let pair = Pair::new(
            config(SocketType::Req, client),
            config(SocketType::Rep, server),
            Some(Authenticator::new().curve_allow_any()),
        );
        assert!(
            matches!(
                pair.server_error(),
                Some(ProtocolError::MechanismMismatch { .. })
            ),
            "{:?}",
            pair.server_error()
        );
        assert!(pair.server_peer().is_none());
    }
}

#[test]
fn a_low_order_client_key_is_refused() {
    // The all-zero point makes every X25519 result zero, whatever the secret.
    let pair = Pair::new(
        config(
            SocketType::Req,
            curve_client(PublicKey::from_bytes([0; 32])),
        ),
        config(SocketType::Rep, curve_server()),
        None,
    );
    // The client refuses to box to a zero server key before sending anything.
    assert!(pair.client_peer().is_none());
    assert!(pair.server_peer().is_none());
}

/// Runs a CURVE server against bytes written by hand after a real client's HELLO is
/// replaced or changed by `tamper`.
fn server_after_tampered(tamper: impl Fn(&mut Vec<u8>, usize)) -> ProtocolError {
    let now = Instant::now();
    let mut client = Session::new(
        config(SocketType::Req, curve_client(server_keys().public)),
        now,
    )
    .unwrap();
    let mut server = Session::new(config(SocketType::Rep, curve_server()), now).unwrap();
    // The client's signature reaches the server, the server's whole greeting reaches
    // the client; then the rest of the client's greeting and its HELLO come out.
    let mut wire = BytesMut::new();
    client.poll_transmit(&mut wire);
    server.handle_input(wire.split().freeze(), now);
    server.poll_transmit(&mut wire);
    client.handle_input(wire.split().freeze(), now);
    client.poll_transmit(&mut wire);
    let mut bytes = wire.to_vec();
    assert_eq!(&bytes[53 + 2..53 + 8], b"\x05HELLO");
    // The HELLO command frame follows the greeting's last 53 bytes: flags, size, body.
    tamper(&mut bytes, 53);
    server.handle_input(Bytes::from(bytes), now);
    loop {
        match server.poll_event() {
            Some(Event::Closed(err)) => return err,
            Some(_) => {}
            None => panic!("server did not close"),
        }
    }
}

#[test]
fn bad_hellos_are_refused() {
    // Wrong length (one byte short, size field patched).
    let short = server_after_tampered(|b, at| {
        b[at + 1] -= 1;
        b.pop();
    });
    assert!(
        matches!(short, ProtocolError::MalformedCommand { .. }),
        "{short:?}"
    );
    // Wrong command name.
    let name = server_after_tampered(|b, at| b[at + 3..at + 8].copy_from_slice(b"HELLX"));
    assert!(
        matches!(name, ProtocolError::UnexpectedCommand { .. }),
        "{name:?}"
    );
    // Wrong version.
    let version = server_after_tampered(|b, at| b[at + 2 + 6] = 2);
    assert!(
        matches!(version, ProtocolError::Crypto { .. }),
        "{version:?}"
    );
    // A bit flipped in the signature box.
    let boxed = server_after_tampered(|b, at| b[at + 2 + 150] ^= 1);
    assert!(matches!(boxed, ProtocolError::Crypto { .. }), "{boxed:?}");
}

/// The client's INITIATE, changed by `tamper`, fed to the server.
fn server_after_tampered_initiate(tamper: impl Fn(&mut Vec<u8>)) -> ProtocolError {
    let now = Instant::now();
    let mut client = Session::new(
        config(SocketType::Req, curve_client(server_keys().public)),
        now,
    )
    .unwrap();
    let mut server = Session::new(config(SocketType::Rep, curve_server()), now).unwrap();
    let mut wire = BytesMut::new();
    // Round one: greetings; round two: the rest of the client's greeting and HELLO,
    // then WELCOME back. INITIATE is then waiting at the client.
    for _ in 0..2 {
        client.poll_transmit(&mut wire);
        server.handle_input(wire.split().freeze(), now);
        server.poll_transmit(&mut wire);
        client.handle_input(wire.split().freeze(), now);
    }
    client.poll_transmit(&mut wire);
    let mut initiate = wire.to_vec();
    assert_eq!(&initiate[9..18], b"\x08INITIATE", "a long INITIATE frame");
    tamper(&mut initiate);
    server.handle_input(Bytes::from(initiate), now);
    loop {
        match server.poll_event() {
            Some(Event::Closed(err)) => return err,
            Some(Event::HandshakeComplete(_)) => panic!("tampered INITIATE accepted"),
            Some(_) => {}
            None => panic!("server did not close"),
        }
    }
}

#[test]
fn bad_initiates_are_refused() {
    // The frame is a long command frame: flags, 8-byte size, body at 9.
    let body = 9;
    let cookie = server_after_tampered_initiate(|b| b[body + 9 + 40] ^= 1);
    assert!(matches!(cookie, ProtocolError::Crypto { .. }), "{cookie:?}");
    let boxed = server_after_tampered_initiate(|b| {
        let last = b.len() - 1;
        b[last] ^= 1;
    });
    assert!(matches!(boxed, ProtocolError::Crypto { .. }), "{boxed:?}");
    // A replayed short nonce: INITIATE's nonce set back to HELLO's (1).
    let replay = server_after_tampered_initiate(|b| {
        b[body + 105..body + 113].copy_from_slice(&1u64.to_be_bytes());
    });
    assert!(matches!(replay, ProtocolError::Crypto { .. }), "{replay:?}");
    // Too short: cut to 256 bytes of body.
    let short = server_after_tampered_initiate(|b| {
        b.truncate(body + 256);
        b[1..9].copy_from_slice(&256u64.to_be_bytes());
    });
    assert!(
        matches!(short, ProtocolError::MalformedCommand { .. }),
        "{short:?}"
    );
}

#[test]
fn replayed_and_reordered_messages_close_the_connection() {
    let now = Instant::now();
    let mut pair = Pair::new(
        config(SocketType::Push, curve_client(server_keys().public)),
        config(SocketType::Pull, curve_server()),
        None,
    );
    let mut first = BytesMut::new();
    pair.client.send_message(&multipart(&[b"one"])).unwrap();
    pair.client.poll_transmit(&mut first);
    let mut second = BytesMut::new();
    pair.client.send_message(&multipart(&[b"two"])).unwrap();
    pair.client.poll_transmit(&mut second);
    // Reordered: the second arrives first and is taken; the first is then old.
    pair.server.handle_input(second.clone().freeze(), now);
    assert_eq!(
        pair.server.poll_event(),
        Some(Event::Message(multipart(&[b"two"])))
    );
    pair.server.handle_input(first.freeze(), now);
    assert!(matches!(
        pair.server.poll_event(),
        Some(Event::Closed(ProtocolError::Crypto { .. }))
    ));

    // Replayed: the same MESSAGE twice.
    let mut pair = Pair::new(
        config(SocketType::Push, curve_client(server_keys().public)),
        config(SocketType::Pull, curve_server()),
        None,
    );
    let mut once = BytesMut::new();
    pair.client.send_message(&multipart(&[b"once"])).unwrap();
    pair.client.poll_transmit(&mut once);
    let once = once.freeze();
    pair.server.handle_input(once.clone(), now);
    pair.server.handle_input(once, now);
    assert_eq!(
        pair.server.poll_event(),
        Some(Event::Message(multipart(&[b"once"])))
    );
    assert!(matches!(
        pair.server.poll_event(),
        Some(Event::Closed(ProtocolError::Crypto { .. }))
    ));
}

#[test]
fn an_old_greeting_delivers_nothing_to_a_curve_server() {
    let now = Instant::now();
    let mut server = Session::new(config(SocketType::Rep, curve_server()), now).unwrap();
    // A ZMTP 1.0 peer: a short identity frame, then a message frame.
    server.handle_input(Bytes::from_static(b"\x01\x00\x06hello\x00"), now);
    let events: Vec<Event> = std::iter::from_fn(|| server.poll_event()).collect();
    assert!(
        matches!(
            events[..],
            [Event::Closed(ProtocolError::UnsupportedVersion { .. })]
        ),
        "{events:?}"
    );
}

#[test]
fn oversized_handshake_commands_are_refused_before_they_are_held() {
    let now = Instant::now();
    let mut server = Session::new(config(SocketType::Rep, curve_server()), now).unwrap();
    let greeting = Greeting::new(MechanismName::CURVE, false).encode();
    server.handle_input(Bytes::copy_from_slice(&greeting), now);
    // An INITIATE-sized command declaring 1 MiB of metadata.
    let mut header = vec![0x06];
    header.extend_from_slice(&(1u64 << 20).to_be_bytes());
    server.handle_input(Bytes::from(header), now);
    assert!(matches!(
        server.poll_event(),
        Some(Event::Closed(ProtocolError::MessageTooLarge { .. }))
    ));
}
