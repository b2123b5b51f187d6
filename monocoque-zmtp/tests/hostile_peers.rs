//! Hostile peers over real sockets: a raw TCP client misbehaves against a bound socket
//! while a good peer exchanges messages. Pass: no panic, the bad peer is disconnected
//! with its specific error, and the good peer's traffic is unaffected.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use compio::time::timeout;
use futures::channel::oneshot;
use monocoque_zmtp::config::SocketOptions;
use monocoque_zmtp::proto::command::Command;
use monocoque_zmtp::proto::error::{CommandField, ProtocolError};
use monocoque_zmtp::proto::greeting::{Greeting, MechanismName};
use monocoque_zmtp::proto::socket_type::SocketType;
use monocoque_zmtp::socket::{PubSocket, PullSocket, PushSocket, RouterSocket, SubSocket};

const LIMIT: Duration = Duration::from_secs(10);

async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    timeout(LIMIT, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// Sends `bytes` from a raw TCP client, then reads until the socket closes the
/// connection. Resolves with everything the socket sent.
fn raw_peer(endpoint: &str, bytes: Vec<u8>, close_after_send: bool) -> oneshot::Receiver<Vec<u8>> {
    let addr = endpoint.trim_start_matches("tcp://").to_string();
    let (tx, rx) = oneshot::channel();
    std::thread::spawn(move || {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(LIMIT)).expect("timeout");
        let _ = s.write_all(&bytes);
        if close_after_send {
            let _ = s.shutdown(std::net::Shutdown::Write);
        }
        let mut got = Vec::new();
        let _ = s.read_to_end(&mut got);
        let _ = tx.send(got);
    });
    rx
}

fn greeting(major: u8, minor: u8, mechanism: MechanismName) -> Vec<u8> {
    let mut g = Greeting::new(mechanism, false);
    g.version.major = major;
    g.version.minor = minor;
    g.encode().to_vec()
}

fn null_greeting() -> Vec<u8> {
    greeting(3, 1, MechanismName::NULL)
}

fn ready_frame(raw_metadata: &[u8]) -> Vec<u8> {
    let mut body = vec![5];
    body.extend_from_slice(b"READY");
    body.extend_from_slice(raw_metadata);
    let mut out = bytes::BytesMut::new();
    monocoque_zmtp::proto::frame::put_frame(&mut out, false, true, &body);
    out.to_vec()
}

fn handshake(socket_type: SocketType) -> Vec<u8> {
    let mut out = null_greeting();
    let mut ready = bytes::BytesMut::new();
    Command::ready(socket_type, None).encode(&mut ready);
    out.extend_from_slice(&ready);
    out
}

fn long_frame_header(size: u64) -> Vec<u8> {
    let mut v = vec![0x02];
    v.extend_from_slice(&size.to_be_bytes());
    v
}

/// A bound PULL with a good PUSH peer that keeps working around each bad peer.
struct Fixture {
    pull: PullSocket,
    push: PushSocket,
    endpoint: String,
    round: u32,
}

impl Fixture {
    async fn new(options: SocketOptions) -> Fixture {
        let pull = PullSocket::with_options(options);
        let endpoint = pull.bind("tcp://127.0.0.1:0").await.unwrap();
        let push = PushSocket::new();
        push.connect(&endpoint).await.unwrap();
        let mut f = Fixture {
            pull,
            push,
            endpoint,
            round: 0,
        };
        f.good_traffic().await;
        f
    }

    async fn good_traffic(&mut self) {
        self.round += 1;
        let text = format!("good {}", self.round);
        self.push
            .send(["multi", "", text.as_str()].map(String::from))
            .await
            .unwrap();
        let m = within("good peer's message", self.pull.recv())
            .await
            .unwrap();
        assert_eq!(&m[2][..], text.as_bytes());
        assert_eq!(self.pull.peer_count(), 1, "only the good peer stays");
    }

    /// Runs one bad peer and returns the error it was closed with.
    async fn bad_peer(&mut self, bytes: Vec<u8>) -> ProtocolError {
        let before = self.pull.stats().protocol_errors;
        within("bad peer closed", raw_peer(&self.endpoint, bytes, false))
            .await
            .unwrap();
        assert_eq!(self.pull.stats().protocol_errors, before + 1);
        self.good_traffic().await;
        self.pull
            .recent_errors()
            .pop()
            .expect("an error was recorded")
    }
}

#[compio::test]
async fn oversized_declared_frame_sizes() {
    let mut f = Fixture::new(SocketOptions::default().max_msg_size(1024)).await;
    for size in [1025, 1 << 63, u64::MAX, 1 << 30] {
        let mut bytes = handshake(SocketType::Push);
        bytes.extend_from_slice(&long_frame_header(size));
        assert_eq!(
            f.bad_peer(bytes).await,
            ProtocolError::MessageTooLarge { size, max: 1024 }
        );
    }
}

#[compio::test]
async fn malformed_metadata() {
    let mut f = Fixture::new(SocketOptions::default()).await;
    let socket_type = b"\x0bSocket-Type\x00\x00\x00\x04PUSH".to_vec();
    let cases: Vec<(Vec<u8>, ProtocolError)> = vec![
        (
            b"\x00\x00\x00\x00\x00".to_vec(),
            ProtocolError::MalformedCommand {
                command: "READY",
                field: CommandField::PropertyName,
            },
        ),
        (
            b"\x0bSocket-Type\x00\x00\x01\x00PUSH".to_vec(),
            ProtocolError::MalformedCommand {
                command: "READY",
                field: CommandField::PropertyValue,
            },
        ),
        (
            [socket_type.clone(), b"\x03abc\x00\x00".to_vec()].concat(),
            ProtocolError::MalformedCommand {
                command: "READY",
                field: CommandField::PropertyValue,
            },
        ),
        (
            b"\x0bSocket-Type\x00\x00\x00\x03PUB".to_vec(),
            ProtocolError::IncompatibleSocketType {
                ours: SocketType::Pull,
                theirs: SocketType::Pub,
            },
        ),
        (
            b"\x0bSocket-Type\x00\x00\x00\x06STREAM".to_vec(),
            ProtocolError::UnknownSocketType("STREAM".into()),
        ),
        (
            [
                socket_type.clone(),
                b"\x08Identity\x00\x00\x00\x02\x00x".to_vec(),
            ]
            .concat(),
            ProtocolError::InvalidIdentity,
        ),
    ];
    for (metadata, expected) in cases {
        let mut bytes = null_greeting();
        bytes.extend_from_slice(&ready_frame(&metadata));
        let got = f.bad_peer(bytes).await;
        // Field names may vary in the command label; compare what matters.
        match (&got, &expected) {
            (
                ProtocolError::MalformedCommand { field: a, .. },
                ProtocolError::MalformedCommand { field: b, .. },
            ) => assert_eq!(a, b),
            _ => assert_eq!(got, expected),
        }
    }
}

#[compio::test]
async fn legacy_versions_and_wrong_mechanism() {
    let mut f = Fixture::new(SocketOptions::default()).await;
    // ZMTP 2.0 greeting followed by a would-be message.
    let mut zmtp2 = vec![0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 0x01, 0x08, 0x00, 0x00];
    zmtp2.extend_from_slice(&[0x00, 0x05, b'h', b'e', b'l', b'l', b'o']);
    assert_eq!(
        f.bad_peer(zmtp2).await,
        ProtocolError::UnsupportedVersion { version: "2.0" }
    );
    // ZMTP 1.0: an identity frame, then a message.
    assert_eq!(
        f.bad_peer(vec![0x01, 0x00, 0x06, 0x00, b'h', b'e', b'l', b'l', b'o'])
            .await,
        ProtocolError::UnsupportedVersion { version: "1.0" }
    );
    assert_eq!(
        f.bad_peer(greeting(3, 1, MechanismName::CURVE)).await,
        ProtocolError::MechanismMismatch {
            ours: MechanismName::NULL,
            theirs: MechanismName::CURVE
        }
    );
}

#[compio::test]
async fn version_3_2_greeting_is_accepted() {
    let pull = PullSocket::new();
    let endpoint = pull.bind("tcp://127.0.0.1:0").await.unwrap();
    let mut bytes = greeting(3, 2, MechanismName::NULL);
    let mut ready = bytes::BytesMut::new();
    Command::ready(SocketType::Push, None).encode(&mut ready);
    bytes.extend_from_slice(&ready);
    bytes.extend_from_slice(&[0x00, 0x04, b'f', b'r', b'o', b'm']);
    let peer = raw_peer(&endpoint, bytes, true);
    let m = within("message from a 3.2 peer", pull.recv())
        .await
        .unwrap();
    assert_eq!(&m[0][..], b"from");
    within("peer done", peer).await.unwrap();
    assert_eq!(pull.stats().protocol_errors, 0);
}

#[compio::test]
async fn truncated_frames_and_partial_multipart_deliver_nothing() {
    let mut f = Fixture::new(SocketOptions::default()).await;
    for tail in [
        // Stops mid-frame.
        vec![0x00, 0x10, b'p', b'a', b'r'],
        // Two frames of a three-frame message, then gone.
        vec![0x01, 0x01, b'a', 0x01, 0x01, b'b'],
    ] {
        let before = f.pull.stats().disconnects;
        let mut bytes = handshake(SocketType::Push);
        bytes.extend_from_slice(&tail);
        within("peer gone", raw_peer(&f.endpoint, bytes, true))
            .await
            .unwrap();
        within("disconnect seen", async {
            while f.pull.stats().disconnects == before {
                let n = f.pull.peer_count();
                f.pull.wait_for_peers(|m| m != n).await;
            }
        })
        .await;
        // Nothing of the partial message is delivered: the next message is the
        // good peer's.
        f.good_traffic().await;
    }
    assert_eq!(f.pull.stats().protocol_errors, 0);
}

#[compio::test]
async fn subscription_flood_and_huge_topics() {
    let publisher = PubSocket::new();
    let endpoint = publisher.bind("tcp://127.0.0.1:0").await.unwrap();
    let good = SubSocket::new();
    good.subscribe("news").unwrap();
    good.connect(&endpoint).await.unwrap();

    // A raw subscriber: 100,000 distinct SUBSCRIBE commands, two 1 MiB topics, then
    // CANCEL for all of them, then it leaves.
    let mut bytes = handshake(SocketType::Sub);
    let mut cmds = bytes::BytesMut::new();
    for i in 0..100_000u32 {
        Command::Subscribe(bytes::Bytes::from(format!("topic-{i}"))).encode(&mut cmds);
    }
    let huge = bytes::Bytes::from(vec![b'x'; 1 << 20]);
    Command::Subscribe(huge.clone()).encode(&mut cmds);
    Command::Subscribe(huge.slice(..(1 << 20) - 1)).encode(&mut cmds);
    for i in 0..100_000u32 {
        Command::Cancel(bytes::Bytes::from(format!("topic-{i}"))).encode(&mut cmds);
    }
    Command::Cancel(huge.clone()).encode(&mut cmds);
    bytes.extend_from_slice(&cmds);
    let flood = raw_peer(&endpoint, bytes, true);
    within("flooder done", flood).await.unwrap();

    // The good subscriber is still served and the publisher is healthy.
    let m = within("good subscriber", async {
        loop {
            publisher.send("news flash").await.unwrap();
            if let Ok(m) = timeout(Duration::from_millis(5), good.recv()).await {
                return m.unwrap();
            }
        }
    })
    .await;
    assert_eq!(&m[0][..], b"news flash");
    assert_eq!(publisher.stats().protocol_errors, 0);
}

#[compio::test]
async fn router_refuses_a_duplicate_identity_and_keeps_the_first() {
    let router = RouterSocket::new();
    let endpoint = router.bind("tcp://127.0.0.1:0").await.unwrap();
    let first = monocoque_zmtp::socket::DealerSocket::with_options(
        SocketOptions::default().routing_id("twin"),
    );
    first.connect(&endpoint).await.unwrap();
    within("first", router.wait_for_peers(|n| n == 1)).await;
    let mut bytes = null_greeting();
    bytes.extend_from_slice(&ready_frame(
        b"\x0bSocket-Type\x00\x00\x00\x06DEALER\x08Identity\x00\x00\x00\x04twin",
    ));
    within("duplicate closed", raw_peer(&endpoint, bytes, false))
        .await
        .unwrap();
    assert_eq!(router.stats().protocol_errors, 1);
    router.send(["twin", "still yours"]).await.unwrap();
    assert_eq!(
        &within("reply", first.recv()).await.unwrap()[0][..],
        b"still yours"
    );
}
