//! ZMTP 2.0 peers (RFC 15): libzmq 3.x and JeroMQ 0.3.x speak it, and libzmq 4 talks
//! to them. The session is checked against byte vectors written out from RFC 15; the
//! sockets against a scripted 2.0 peer that greets as libzmq 3.2 does (its signature
//! first, its revision and socket type once ours arrived).

mod common;
use common::within_for;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use monocoque_core::SegmentedBuffer;
use monocoque_zmtp::config::SocketOptions;
use monocoque_zmtp::proto::error::ProtocolError;
use monocoque_zmtp::proto::frame::{FrameDecoder, put_frame};
use monocoque_zmtp::proto::greeting::Version;
use monocoque_zmtp::proto::session::{Event, Session, SessionConfig};
use monocoque_zmtp::proto::socket_type::SocketType;
use monocoque_zmtp::socket::{HandshakeFailure, RepSocket, RouterSocket, SocketEvent, SubSocket};

const LIMIT: Duration = Duration::from_secs(10);

/// Our first 11 octets: the signature and major version 3 (RFC 23).
const OUR_SIGNATURE: [u8; 11] = [0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0x7F, 3];

/// A ZMTP 2.0 ROUTER's greeting from RFC 15: signature, revision 1, socket type 6.
const V2_ROUTER_GREETING: [u8; 12] = [0xFF, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x7F, 0x01, 0x06];

fn transmitted(session: &mut Session) -> Vec<u8> {
    let mut out = BytesMut::new();
    session.poll_transmit(&mut out);
    out.to_vec()
}

fn dealer_greeted_by_a_v2_router(now: Instant) -> Session {
    let mut config = SessionConfig::new(SocketType::Dealer);
    config.routing_id = Some(Bytes::from_static(b"me"));
    config.heartbeat_ivl = Some(Duration::from_millis(10));
    let mut dealer = Session::new(config, now).unwrap();
    assert_eq!(transmitted(&mut dealer), OUR_SIGNATURE);
    dealer.handle_input(Bytes::from_static(&V2_ROUTER_GREETING), now);
    // Our socket type (DEALER is 5) and our identity as a final short frame.
    assert_eq!(transmitted(&mut dealer), [0x05, 0x00, 0x02, b'm', b'e']);
    dealer
}

#[test]
fn a_session_speaks_rfc_15_to_a_v2_peer() {
    let now = Instant::now();
    let mut dealer = dealer_greeted_by_a_v2_router(now);
    assert_eq!(dealer.poll_event(), None, "not before the identity frame");
    dealer.handle_input(Bytes::from_static(&[0x00, 0x03, b'r', b't', b'r']), now);
    let Some(Event::HandshakeComplete(peer)) = dealer.poll_event() else {
        panic!("handshake did not complete");
    };
    assert_eq!(peer.socket_type, SocketType::Router);
    assert_eq!(peer.version, Version::V2_0);
    assert_eq!(peer.routing_id.as_deref(), Some(&b"rtr"[..]));

    // A more-short frame, then a final-long one of 300 octets.
    let mut input = vec![0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0x01, 0x2C];
    input.extend_from_slice(&[b'x'; 300]);
    dealer.handle_input(Bytes::from(input), now);
    let Some(Event::Message(message)) = dealer.poll_event() else {
        panic!("no message");
    };
    assert_eq!(message.len(), 2);
    assert!(message[0].is_empty());
    assert_eq!(&message[1][..], &[b'x'; 300][..]);

    dealer.send_message(&"hi".into()).unwrap();
    assert_eq!(transmitted(&mut dealer), [0x00, 0x02, b'h', b'i']);
}

#[test]
fn a_v2_peer_gets_no_ping_and_no_error() {
    let now = Instant::now();
    let mut dealer = dealer_greeted_by_a_v2_router(now);
    dealer.handle_input(Bytes::from_static(&[0x00, 0x00]), now);
    assert!(matches!(
        dealer.poll_event(),
        Some(Event::HandshakeComplete(_))
    ));
    // The heartbeat interval passes: ZMTP 2.0 has no PING, so nothing goes out.
    let later = now + Duration::from_secs(1);
    dealer.handle_timeout(later);
    assert_eq!(transmitted(&mut dealer), b"");
    assert_eq!(dealer.poll_timeout(), None);
    // Bit 2 is reserved in RFC 15 framing: the peer is wrong, and hears no ERROR.
    dealer.handle_input(Bytes::from_static(&[0x04, 0x00]), later);
    assert_eq!(
        dealer.poll_event(),
        Some(Event::Closed(ProtocolError::ReservedFlags { flags: 0x04 }))
    );
    assert_eq!(transmitted(&mut dealer), b"");
}

#[test]
fn a_v2_peer_of_an_incompatible_type_is_refused() {
    let now = Instant::now();
    let mut rep = Session::new(SessionConfig::new(SocketType::Rep), now).unwrap();
    transmitted(&mut rep);
    let mut push = V2_ROUTER_GREETING;
    push[11] = 8; // PUSH
    rep.handle_input(Bytes::copy_from_slice(&push), now);
    assert_eq!(
        rep.poll_event(),
        Some(Event::Closed(ProtocolError::IncompatibleSocketType {
            ours: SocketType::Rep,
            theirs: SocketType::Push,
        }))
    );
    let mut unknown = V2_ROUTER_GREETING;
    unknown[11] = 42;
    let mut rep = Session::new(SessionConfig::new(SocketType::Rep), now).unwrap();
    rep.handle_input(Bytes::copy_from_slice(&unknown), now);
    assert!(matches!(
        rep.poll_event(),
        Some(Event::Closed(ProtocolError::UnknownSocketType(_)))
    ));
}

#[test]
fn a_secured_session_refuses_v2_before_saying_more() {
    let now = Instant::now();
    let mut plain = SessionConfig::new(SocketType::Router);
    plain.security = monocoque_zmtp::proto::mechanism::Security::PlainServer;
    let mut domain = SessionConfig::new(SocketType::Router);
    domain.zap_domain = Bytes::from_static(b"global");
    for (config, required) in [(plain, "PLAIN"), (domain, "a ZAP domain")] {
        let mut router = Session::new(config, now).unwrap();
        assert_eq!(transmitted(&mut router), OUR_SIGNATURE);
        let mut dealer = V2_ROUTER_GREETING;
        dealer[11] = 5;
        router.handle_input(Bytes::copy_from_slice(&dealer), now);
        assert_eq!(
            router.poll_event(),
            Some(Event::Closed(ProtocolError::InsecureVersion { required }))
        );
        assert_eq!(transmitted(&mut router), b"", "no socket type, no ERROR");
    }
}

/// A scripted ZMTP 2.0 peer on a blocking TCP stream, greeting as libzmq 3.2 does.
struct V2Peer {
    stream: TcpStream,
    input: SegmentedBuffer,
    frames: FrameDecoder,
}

/// What the other side told a [`V2Peer`] in its greeting.
struct Greeted {
    major: u8,
    socket_type: u8,
    identity: Bytes,
}

impl V2Peer {
    fn connect(endpoint: &str) -> TcpStream {
        let stream = TcpStream::connect(endpoint.trim_start_matches("tcp://")).unwrap();
        stream.set_read_timeout(Some(LIMIT)).unwrap();
        stream
    }

    /// Sends the signature, then revision 1 and `socket_type` once the other side's
    /// signature arrived, then the identity frame; reads the other side's greeting
    /// and identity frame.
    fn greet(stream: TcpStream, socket_type: u8, identity: &[u8]) -> (V2Peer, Greeted) {
        let mut peer = V2Peer {
            stream,
            input: SegmentedBuffer::new(),
            frames: FrameDecoder::new(None),
        };
        let length = (identity.len() as u64 + 1).to_be_bytes();
        let mut signature = vec![0xFF];
        signature.extend_from_slice(&length);
        signature.push(0x7F);
        peer.stream.write_all(&signature).unwrap();
        let theirs = peer.read_exact(10);
        assert_eq!(
            (theirs[0], theirs[9] & 1),
            (0xFF, 1),
            "a versioned signature"
        );
        peer.stream.write_all(&[0x01, socket_type]).unwrap();
        let rest = peer.read_exact(2);
        peer.send(&[identity]);
        let greeted = Greeted {
            major: rest[0],
            socket_type: rest[1],
            identity: peer.recv().pop().unwrap(),
        };
        (peer, greeted)
    }

    fn read_exact(&mut self, n: usize) -> Vec<u8> {
        while self.input.len() < n {
            self.fill();
        }
        let mut bytes = vec![0; n];
        assert!(self.input.copy_prefix(&mut bytes));
        self.input.advance(n);
        bytes
    }

    fn fill(&mut self) {
        let mut buf = [0u8; 4096];
        let n = self.stream.read(&mut buf).expect("read");
        assert!(n > 0, "the other side closed the connection");
        self.input.push(Bytes::copy_from_slice(&buf[..n]));
    }

    fn send(&mut self, frames: &[&[u8]]) {
        let mut out = BytesMut::new();
        for (i, body) in frames.iter().enumerate() {
            put_frame(&mut out, i + 1 < frames.len(), false, body);
        }
        self.stream.write_all(&out).unwrap();
    }

    /// Reads one message; every frame must be ZMTP 2.0 (no command bit).
    fn recv(&mut self) -> Vec<Bytes> {
        let mut message = Vec::new();
        loop {
            match self.frames.decode(&mut self.input).expect("valid frames") {
                Some(frame) => {
                    assert!(!frame.command, "a command sent to a ZMTP 2.0 peer");
                    message.push(frame.body);
                    if !frame.more {
                        return message;
                    }
                }
                None => self.fill(),
            }
        }
    }
}

#[compio::test]
async fn rep_answers_a_v2_req() {
    let rep = RepSocket::new();
    let endpoint = rep.bind("tcp://127.0.0.1:0").await.unwrap();
    let (done, finished) = futures::channel::oneshot::channel();
    std::thread::spawn(move || {
        let (mut req, greeted) = V2Peer::greet(V2Peer::connect(&endpoint), 3, b"");
        req.send(&[b"", b"Hello"]);
        let _ = done.send((greeted, req.recv()));
    });
    let request = within_for(LIMIT, "request", rep.recv()).await.unwrap();
    assert_eq!(&request[0][..], b"Hello");
    rep.send("World").await.unwrap();
    let (greeted, reply) = within_for(LIMIT, "reply", finished).await.unwrap();
    assert_eq!((greeted.major, greeted.socket_type), (3, 4), "REP is 4");
    assert!(greeted.identity.is_empty());
    assert_eq!(reply, [Bytes::new(), Bytes::from_static(b"World")]);
}

#[compio::test]
async fn router_routes_by_a_v2_dealers_identity() {
    let router = RouterSocket::new();
    let endpoint = router.bind("tcp://127.0.0.1:0").await.unwrap();
    let (done, finished) = futures::channel::oneshot::channel();
    std::thread::spawn(move || {
        let (mut dealer, _) = V2Peer::greet(V2Peer::connect(&endpoint), 5, b"old-dealer");
        dealer.send(&[b"ping"]);
        let _ = done.send(dealer.recv());
    });
    let message = within_for(LIMIT, "from the dealer", router.recv())
        .await
        .unwrap();
    assert_eq!(&message[0][..], b"old-dealer");
    assert_eq!(&message[1][..], b"ping");
    router.send(["old-dealer", "pong"]).await.unwrap();
    let reply = within_for(LIMIT, "dealer's reply", finished).await.unwrap();
    assert_eq!(reply, [Bytes::from_static(b"pong")]);
}

#[compio::test]
async fn sub_subscribes_to_a_v2_publisher_by_message() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("tcp://{}", listener.local_addr().unwrap());
    let publisher = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(LIMIT)).unwrap();
        let (mut publisher, greeted) = V2Peer::greet(stream, 1, b"");
        let subscription = publisher.recv();
        publisher.send(&[b"B no"]);
        publisher.send(&[b"A yes"]);
        (greeted.socket_type, subscription)
    });
    let options = SocketOptions::default().heartbeat_ivl(Duration::from_millis(1));
    let sub = SubSocket::with_options(options);
    sub.subscribe(b"A").unwrap();
    sub.connect(&endpoint).await.unwrap();
    let message = within_for(LIMIT, "published", sub.recv()).await.unwrap();
    assert_eq!(&message[0][..], b"A yes");
    let (socket_type, subscription) = publisher.join().unwrap();
    assert_eq!(socket_type, 2, "SUB is 2");
    assert_eq!(subscription, [Bytes::from_static(b"\x01A")]);
}

#[compio::test]
async fn a_plain_server_refuses_a_v2_peer_and_says_why() {
    let options = SocketOptions::default().plain_server(true);
    let rep = RepSocket::with_options(options);
    let monitor = rep.monitor();
    let endpoint = rep.bind("tcp://127.0.0.1:0").await.unwrap();
    let client = std::thread::spawn(move || {
        let mut stream = V2Peer::connect(&endpoint);
        stream.write_all(&V2_ROUTER_GREETING[..10]).unwrap();
        stream.write_all(&[0x01, 0x03]).unwrap();
        let mut seen = Vec::new();
        stream.read_to_end(&mut seen).unwrap();
        seen
    });
    let reason = within_for(LIMIT, "handshake failure", async {
        loop {
            if let Some(SocketEvent::HandshakeFailed { reason, .. }) = monitor.next().await {
                return reason;
            }
        }
    })
    .await;
    let required = "PLAIN";
    assert_eq!(
        reason,
        HandshakeFailure::Protocol(ProtocolError::InsecureVersion { required })
    );
    assert_eq!(
        client.join().unwrap(),
        OUR_SIGNATURE,
        "closed after 11 octets"
    );
}
