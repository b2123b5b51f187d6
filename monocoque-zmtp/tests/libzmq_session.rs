//! Interoperability with real libzmq (built from source by the `zmq` crate).
//!
//! libzmq binds on `tcp://127.0.0.1:*` or a fresh `ipc://` path; the test connects a
//! blocking std stream and drives a sans-IO [`Session`] over it by hand: write what
//! `poll_transmit` gives, read with a timeout, feed `handle_input`, fire
//! `handle_timeout`. Nothing sleeps to synchronise: every wait is for an event or a
//! message, bounded by a deadline, so a broken test fails instead of hanging.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use monocoque_zmtp::proto::error::ProtocolError;
use monocoque_zmtp::proto::handshake::PeerInfo;
use monocoque_zmtp::proto::message::Message;
use monocoque_zmtp::proto::session::{Event, Session, SessionConfig};
use monocoque_zmtp::proto::socket_type::SocketType;

/// Upper bound for any single wait.
const TIMEOUT: Duration = Duration::from_secs(5);
/// libzmq's RCVTIMEO/SNDTIMEO, in milliseconds.
const ZMQ_TIMEOUT_MS: i32 = 5000;
/// One frame large enough to need the 8-octet (long) size field.
const BIG: usize = 1 << 20;

#[derive(Debug, Clone, Copy)]
enum Transport {
    Tcp,
    Ipc,
}

/// A blocking byte stream whose read timeout can be changed.
trait Stream: Read + Write {
    fn set_timeout(&self, timeout: Duration) -> io::Result<()>;
}

impl Stream for std::net::TcpStream {
    fn set_timeout(&self, timeout: Duration) -> io::Result<()> {
        self.set_read_timeout(Some(timeout))
    }
}

impl Stream for UnixStream {
    fn set_timeout(&self, timeout: Duration) -> io::Result<()> {
        self.set_read_timeout(Some(timeout))
    }
}

/// The libzmq side: its context, its bound socket, and the ipc path to remove.
struct Theirs {
    sock: zmq::Socket,
    ipc_path: Option<PathBuf>,
    // Dropped last: the socket must close before the context terminates.
    _ctx: zmq::Context,
}

impl Drop for Theirs {
    fn drop(&mut self) {
        if let Some(path) = &self.ipc_path {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Our side: a session driven over a blocking stream.
struct Ours {
    stream: Box<dyn Stream>,
    session: Session,
    wire: BytesMut,
    read_buf: Vec<u8>,
    eof: bool,
    /// Every byte read from libzmq, to look at the raw traffic.
    input_log: Vec<u8>,
    /// Every byte written to libzmq.
    output_log: Vec<u8>,
}

impl Ours {
    /// Writes whatever the session has queued.
    fn flush(&mut self) {
        self.session.poll_transmit(&mut self.wire);
        if self.wire.is_empty() {
            return;
        }
        self.output_log.extend_from_slice(&self.wire);
        let written = self.stream.write_all(&self.wire);
        self.wire.clear();
        if let Err(err) = written {
            // A peer that closed on us (e.g. after a refused handshake) is reported
            // through `eof`; a test expecting more traffic fails there.
            assert!(
                self.session.is_closed() || is_disconnect(&err),
                "write failed: {err}"
            );
            self.eof = true;
        }
    }

    /// One bounded read: feeds the session, fires due timers, writes the answer.
    fn step(&mut self, until: Instant) {
        self.flush();
        let mut wake = until;
        if let Some(t) = self.session.poll_timeout() {
            wake = wake.min(t);
        }
        let wait = wake
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        self.stream.set_timeout(wait).unwrap();
        match self.stream.read(&mut self.read_buf) {
            Ok(0) => self.eof = true,
            Ok(n) => {
                self.input_log.extend_from_slice(&self.read_buf[..n]);
                let data = Bytes::copy_from_slice(&self.read_buf[..n]);
                self.session.handle_input(data, Instant::now());
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) if is_disconnect(&e) => self.eof = true,
            Err(e) => panic!("read failed: {e}"),
        }
        let now = Instant::now();
        if self.session.poll_timeout().is_some_and(|t| t <= now) {
            self.session.handle_timeout(now);
        }
        self.flush();
    }

    /// The next event, waiting at most `within`.
    fn next_event(&mut self, within: Duration) -> Event {
        let deadline = Instant::now() + within;
        loop {
            if let Some(event) = self.session.poll_event() {
                return event;
            }
            assert!(!self.eof, "libzmq closed the connection");
            assert!(Instant::now() < deadline, "no event within {within:?}");
            self.step(deadline);
        }
    }

    /// The next event, if one arrives within `within`.
    fn try_event(&mut self, within: Duration) -> Option<Event> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(event) = self.session.poll_event() {
                return Some(event);
            }
            if self.eof || Instant::now() >= deadline {
                return None;
            }
            self.step(deadline);
        }
    }

    fn recv(&mut self) -> Vec<Vec<u8>> {
        match self.next_event(TIMEOUT) {
            Event::Message(m) => frames_of(&m),
            other => panic!("expected a message, got {other:?}"),
        }
    }

    fn send(&mut self, frames: &[Vec<u8>]) {
        let message: Message = frames.iter().cloned().collect();
        self.session.send_message(&message).unwrap();
        self.flush();
    }
}

fn is_disconnect(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionAborted
    )
}

fn frames_of(m: &Message) -> Vec<Vec<u8>> {
    m.iter().map(|f| f.to_vec()).collect()
}

fn zmq_type(t: SocketType) -> zmq::SocketType {
    match t {
        SocketType::Req => zmq::REQ,
        SocketType::Rep => zmq::REP,
        SocketType::Dealer => zmq::DEALER,
        SocketType::Router => zmq::ROUTER,
        SocketType::Pub => zmq::PUB,
        SocketType::Sub => zmq::SUB,
        SocketType::Xpub => zmq::XPUB,
        SocketType::Xsub => zmq::XSUB,
        SocketType::Push => zmq::PUSH,
        SocketType::Pull => zmq::PULL,
        SocketType::Pair => zmq::PAIR,
    }
}

/// Binds a libzmq socket of type `theirs` (after `configure` set its options) and
/// connects a raw stream to it with a session of `ours`. Nothing is read yet.
fn open(
    ours: SessionConfig,
    theirs: SocketType,
    transport: Transport,
    configure: impl FnOnce(&zmq::Socket),
) -> (Ours, Theirs) {
    static IPC_COUNTER: AtomicUsize = AtomicUsize::new(0);
    let ctx = zmq::Context::new();
    let sock = ctx.socket(zmq_type(theirs)).unwrap();
    sock.set_linger(0).unwrap();
    sock.set_rcvtimeo(ZMQ_TIMEOUT_MS).unwrap();
    sock.set_sndtimeo(ZMQ_TIMEOUT_MS).unwrap();
    configure(&sock);
    let (stream, ipc_path): (Box<dyn Stream>, _) = match transport {
        Transport::Tcp => {
            sock.bind("tcp://127.0.0.1:*").unwrap();
            let endpoint = sock.get_last_endpoint().unwrap().unwrap();
            let addr = endpoint.strip_prefix("tcp://").unwrap();
            let stream = std::net::TcpStream::connect(addr).unwrap();
            stream.set_write_timeout(Some(TIMEOUT)).unwrap();
            stream.set_nodelay(true).unwrap();
            (Box::new(stream), None)
        }
        Transport::Ipc => {
            let n = IPC_COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = std::env::temp_dir()
                .join(format!("monocoque-interop-{}-{n}.sock", std::process::id()));
            let _ = std::fs::remove_file(&path);
            sock.bind(&format!("ipc://{}", path.display())).unwrap();
            let stream = UnixStream::connect(&path).unwrap();
            stream.set_write_timeout(Some(TIMEOUT)).unwrap();
            (Box::new(stream), Some(path))
        }
    };
    let ours = Ours {
        stream,
        session: Session::new(ours, Instant::now()).unwrap(),
        wire: BytesMut::new(),
        read_buf: vec![0; 64 * 1024],
        eof: false,
        input_log: Vec::new(),
        output_log: Vec::new(),
    };
    let theirs = Theirs {
        sock,
        ipc_path,
        _ctx: ctx,
    };
    (ours, theirs)
}

/// [`open`], then the handshake: checks our session completed it with the expected
/// peer type.
fn connect_with(
    ours: SessionConfig,
    theirs: SocketType,
    transport: Transport,
    configure: impl FnOnce(&zmq::Socket),
) -> (Ours, Theirs, PeerInfo) {
    let (mut conn, peer_sock) = open(ours, theirs, transport, configure);
    match conn.next_event(TIMEOUT) {
        Event::HandshakeComplete(peer) => {
            assert_eq!(peer.socket_type, theirs);
            assert!(conn.session.is_active());
            (conn, peer_sock, *peer)
        }
        other => panic!("expected HandshakeComplete, got {other:?}"),
    }
}

fn connect(ours: SocketType, theirs: SocketType, transport: Transport) -> (Ours, Theirs) {
    let (conn, peer_sock, _) = connect_with(SessionConfig::new(ours), theirs, transport, |_| {});
    (conn, peer_sock)
}

fn big_frame() -> Vec<u8> {
    (0..BIG).map(|i| (i % 251) as u8).collect()
}

/// The messages sent each way: single-frame, multipart with empty frames (first,
/// middle and last), a lone empty frame, and a 1 MiB frame.
fn payloads() -> Vec<Vec<Vec<u8>>> {
    vec![
        vec![b"hello".to_vec()],
        vec![b"a".to_vec(), vec![], b"c".to_vec(), vec![]],
        vec![vec![], b"after-empty".to_vec()],
        vec![vec![]],
        vec![big_frame()],
        vec![b"head".to_vec(), big_frame(), vec![]],
    ]
}

fn with_delimiter(frames: &[Vec<u8>]) -> Vec<Vec<u8>> {
    std::iter::once(Vec::new())
        .chain(frames.iter().cloned())
        .collect()
}

fn zmq_recv(sock: &zmq::Socket) -> Vec<Vec<u8>> {
    sock.recv_multipart(0).expect("libzmq recv")
}

fn zmq_send(sock: &zmq::Socket, frames: &[Vec<u8>]) {
    sock.send_multipart(frames, 0).expect("libzmq send");
}

// ---------------------------------------------------------------- handshakes

/// Every compatible pair (ours, libzmq's), over both transports.
#[test]
fn handshake_with_every_compatible_libzmq_socket() {
    use SocketType::*;
    let pairs = [
        (Req, Rep),
        (Rep, Req),
        (Dealer, Router),
        (Router, Dealer),
        (Dealer, Dealer),
        (Push, Pull),
        (Pull, Push),
        (Pair, Pair),
        (Sub, Pub),
        (Pub, Sub),
        (Xsub, Xpub),
        (Xpub, Xsub),
        (Req, Router),
        (Rep, Dealer),
        (Dealer, Rep),
        (Router, Req),
        (Router, Router),
        (Sub, Xpub),
        (Xsub, Pub),
        (Pub, Xsub),
        (Xpub, Sub),
    ];
    for transport in [Transport::Tcp, Transport::Ipc] {
        for (ours, theirs) in pairs {
            let (conn, _peer_sock, peer) =
                connect_with(SessionConfig::new(ours), theirs, transport, |_| {});
            // libzmq 4.3 announces ZMTP 3.1 in its greeting, as we do.
            assert_eq!(
                peer.version.to_string(),
                "3.1",
                "{ours}-{theirs} over {transport:?}"
            );
            assert_eq!(conn.session.version(), Some(peer.version));
            // Raw greeting: signature 0xFF … 0x7F, version 3.1, mechanism NULL.
            let greeting = &conn.input_log[..64];
            assert_eq!((greeting[0], greeting[9]), (0xff, 0x7f));
            assert_eq!(&greeting[10..12], &[3, 1]);
            assert_eq!(&greeting[12..17], b"NULL\0");
            assert_eq!(
                peer.metadata.get("Socket-Type").map(|v| &v[..]),
                Some(theirs.as_str().as_bytes())
            );
            assert_eq!(peer.routing_id, None, "libzmq sends an empty Identity");
        }
    }
}

#[test]
fn libzmq_is_4_3() {
    let (major, minor, _patch) = zmq::version();
    assert_eq!((major, minor), (4, 3));
}

#[test]
fn libzmq_routing_id_reaches_our_router() {
    let (_conn, _sock, peer) = connect_with(
        SessionConfig::new(SocketType::Router),
        SocketType::Dealer,
        Transport::Tcp,
        |s| s.set_identity(b"theirs").unwrap(),
    );
    assert_eq!(peer.routing_id.as_deref(), Some(&b"theirs"[..]));
}

/// Our PUSH meets a libzmq PUSH. libzmq reads our greeting and READY in one go, refuses
/// the READY and drops the connection, typically before its own READY went out (it
/// sends no ERROR command). So we see either our own refusal of its READY or the
/// connection closing mid-handshake; never a completed handshake.
#[test]
fn incompatible_libzmq_socket_is_refused() {
    let (mut conn, _sock) = open(
        SessionConfig::new(SocketType::Push),
        SocketType::Push,
        Transport::Tcp,
        |_| {},
    );
    let deadline = Instant::now() + TIMEOUT;
    while !conn.eof {
        assert!(Instant::now() < deadline, "libzmq kept the connection open");
        conn.step(deadline);
    }
    match conn.session.poll_event() {
        None => assert!(!conn.session.is_active(), "handshake must not complete"),
        Some(Event::Closed(ProtocolError::IncompatibleSocketType { ours, theirs })) => {
            assert_eq!((ours, theirs), (SocketType::Push, SocketType::Push));
        }
        Some(other) => panic!("expected IncompatibleSocketType or EOF, got {other:?}"),
    }
    let input = &conn.input_log;
    assert!(input.len() >= 64, "libzmq's greeting arrived");
    assert!(
        count(input, b"\x05ERROR") == 0,
        "libzmq 4.3 closes without an ERROR command"
    );
}

// ------------------------------------------------------------------ messages

fn req_rep(transport: Transport) {
    let (mut req, rep) = connect(SocketType::Req, SocketType::Rep, transport);
    for payload in payloads() {
        // The session is raw ZMTP: REQ's empty delimiter is ours to add.
        req.send(&with_delimiter(&payload));
        assert_eq!(zmq_recv(&rep.sock), payload);
        zmq_send(&rep.sock, &payload);
        assert_eq!(req.recv(), with_delimiter(&payload));
    }
}

fn rep_req(transport: Transport) {
    let (mut rep, req) = connect(SocketType::Rep, SocketType::Req, transport);
    for payload in payloads() {
        zmq_send(&req.sock, &payload);
        assert_eq!(
            rep.recv(),
            with_delimiter(&payload),
            "libzmq REQ's envelope"
        );
        rep.send(&with_delimiter(&payload));
        assert_eq!(zmq_recv(&req.sock), payload);
    }
}

fn dealer_router(transport: Transport) {
    let mut config = SessionConfig::new(SocketType::Dealer);
    config.routing_id = Some(Bytes::from_static(b"ours"));
    let (mut dealer, router, _) = connect_with(config, SocketType::Router, transport, |_| {});
    for payload in payloads() {
        dealer.send(&payload);
        let got = zmq_recv(&router.sock);
        assert_eq!(got[0], b"ours", "libzmq ROUTER uses our Identity");
        assert_eq!(&got[1..], &payload[..]);
        let mut reply = vec![b"ours".to_vec()];
        reply.extend(payload.iter().cloned());
        zmq_send(&router.sock, &reply);
        assert_eq!(dealer.recv(), payload);
    }
}

fn router_dealer(transport: Transport) {
    let (mut router, dealer) = connect(SocketType::Router, SocketType::Dealer, transport);
    for payload in payloads() {
        zmq_send(&dealer.sock, &payload);
        assert_eq!(router.recv(), payload);
        router.send(&payload);
        assert_eq!(zmq_recv(&dealer.sock), payload);
    }
}

fn dealer_dealer(transport: Transport) {
    let (mut ours, theirs) = connect(SocketType::Dealer, SocketType::Dealer, transport);
    for payload in payloads() {
        ours.send(&payload);
        assert_eq!(zmq_recv(&theirs.sock), payload);
        zmq_send(&theirs.sock, &payload);
        assert_eq!(ours.recv(), payload);
    }
}

fn push_pull(transport: Transport) {
    let (mut push, pull) = connect(SocketType::Push, SocketType::Pull, transport);
    for payload in payloads() {
        push.send(&payload);
        assert_eq!(zmq_recv(&pull.sock), payload);
    }
}

fn pull_push(transport: Transport) {
    let (mut pull, push) = connect(SocketType::Pull, SocketType::Push, transport);
    for payload in payloads() {
        zmq_send(&push.sock, &payload);
        assert_eq!(pull.recv(), payload);
    }
}

fn pair_pair(transport: Transport) {
    let (mut ours, theirs) = connect(SocketType::Pair, SocketType::Pair, transport);
    for payload in payloads() {
        ours.send(&payload);
        assert_eq!(zmq_recv(&theirs.sock), payload);
        zmq_send(&theirs.sock, &payload);
        assert_eq!(ours.recv(), payload);
    }
}

macro_rules! over_tcp_and_ipc {
    ($($name:ident),* $(,)?) => {
        mod tcp {
            $( #[test] fn $name() { super::$name(super::Transport::Tcp) } )*
        }
        mod ipc {
            $( #[test] fn $name() { super::$name(super::Transport::Ipc) } )*
        }
    };
}

over_tcp_and_ipc!(
    req_rep,
    rep_req,
    dealer_router,
    router_dealer,
    dealer_dealer,
    push_pull,
    pull_push,
    pair_pair,
    sub_filters_at_libzmq_pub,
    pub_sees_libzmq_sub_subscriptions,
    xsub_subscriptions_reach_libzmq_xpub,
);

// ------------------------------------------------------------- subscriptions

/// Publishes `miss` then `hit` from libzmq until `hit` arrives at our SUB; fails if a
/// message other than `hit` arrives first.
fn publish_until(conn: &mut Ours, publisher: &zmq::Socket, miss: &[u8], hit: &[u8]) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        assert!(Instant::now() < deadline, "{hit:?} never arrived");
        publisher.send(miss, 0).unwrap();
        publisher.send(hit, 0).unwrap();
        match conn.try_event(Duration::from_millis(20)) {
            None => {}
            Some(Event::Message(m)) => {
                assert_eq!(
                    frames_of(&m),
                    vec![hit.to_vec()],
                    "libzmq PUB sent a message we did not subscribe to"
                );
                return;
            }
            Some(other) => panic!("unexpected event {other:?}"),
        }
    }
}

fn sub_filters_at_libzmq_pub(transport: Transport) {
    let (mut sub, publisher) = connect(SocketType::Sub, SocketType::Pub, transport);
    sub.session.subscribe(b"A").unwrap();
    sub.flush();
    assert!(sub.output_log.ends_with(b"\x04\x0b\x09SUBSCRIBEA"));
    // Until libzmq applied the subscription nothing arrives; from then on only "A…".
    publish_until(&mut sub, &publisher.sock, b"B-miss", b"A-hit");
    // Whatever is still in flight is "A-hit" (every "B" was filtered out at the PUB).
    while let Some(event) = sub.try_event(Duration::from_millis(50)) {
        assert_eq!(event, Event::Message(Message::from(&b"A-hit"[..])));
    }

    // CANCEL "A" then SUBSCRIBE "C", in that order on the wire: once a "C" message
    // arrives libzmq has applied both, so a later "A" is filtered and "C" comes next.
    sub.session.cancel(b"A").unwrap();
    sub.session.subscribe(b"C").unwrap();
    sub.flush();
    let deadline = Instant::now() + TIMEOUT;
    loop {
        assert!(Instant::now() < deadline, "C-hit never arrived");
        publisher.sock.send(&b"A-old"[..], 0).unwrap();
        publisher.sock.send(&b"C-hit"[..], 0).unwrap();
        match sub.try_event(Duration::from_millis(20)) {
            Some(Event::Message(m)) if m[0] == b"C-hit"[..] => break,
            Some(Event::Message(m)) if m[0] == b"A-old"[..] => {}
            None => {}
            Some(other) => panic!("unexpected event {other:?}"),
        }
    }
    publisher.sock.send(&b"A-late"[..], 0).unwrap();
    publisher.sock.send(&b"C-last"[..], 0).unwrap();
    loop {
        let got = sub.recv();
        assert_ne!(got, vec![b"A-late".to_vec()], "CANCEL was not applied");
        if got == vec![b"C-last".to_vec()] {
            break;
        }
        assert!(got == vec![b"C-hit".to_vec()] || got == vec![b"A-old".to_vec()]);
    }
}

fn pub_sees_libzmq_sub_subscriptions(transport: Transport) {
    let (mut publisher, sub, _) = connect_with(
        SessionConfig::new(SocketType::Pub),
        SocketType::Sub,
        transport,
        |s| s.set_subscribe(b"topic").unwrap(),
    );
    // libzmq attaches the new connection's pipe (and sends its subscriptions) only when
    // the application thread next enters the socket: poke it while we wait.
    let deadline = Instant::now() + TIMEOUT;
    let event = loop {
        assert!(Instant::now() < deadline, "no SUBSCRIBE from libzmq");
        sub.sock.get_events().unwrap();
        if let Some(event) = publisher.try_event(Duration::from_millis(20)) {
            break event;
        }
    };
    assert_eq!(event, Event::Subscribe(Bytes::from_static(b"topic")));
    // libzmq 4.3 sent it as a ZMTP 3.1 SUBSCRIBE command, not a 0x01 message.
    assert_eq!(
        count(&publisher.input_log, b"\x04\x0f\x09SUBSCRIBEtopic"),
        1
    );
    publisher.send(&[b"other".to_vec()]);
    publisher.send(&[b"topic".to_vec(), b"body".to_vec()]);
    assert_eq!(
        zmq_recv(&sub.sock),
        vec![b"topic".to_vec(), b"body".to_vec()]
    );

    sub.sock.set_unsubscribe(b"topic").unwrap();
    assert_eq!(
        publisher.next_event(TIMEOUT),
        Event::Cancel(Bytes::from_static(b"topic"))
    );
    assert_eq!(count(&publisher.input_log, b"\x04\x0c\x06CANCELtopic"), 1);
    // An empty topic (subscribe to everything) travels too.
    sub.sock.set_subscribe(b"").unwrap();
    assert_eq!(
        publisher.next_event(TIMEOUT),
        Event::Subscribe(Bytes::new())
    );
}

fn xsub_subscriptions_reach_libzmq_xpub(transport: Transport) {
    let (mut xsub, xpub) = connect(SocketType::Xsub, SocketType::Xpub, transport);
    // ZMTP 3.1: a SUBSCRIBE command, which libzmq's XPUB hands up as "\x01topic".
    xsub.session.subscribe(b"X").unwrap();
    xsub.flush();
    assert!(xsub.output_log.ends_with(b"\x04\x0b\x09SUBSCRIBEX"));
    assert_eq!(xpub.sock.recv_bytes(0).unwrap(), b"\x01X");
    // ZMTP 3.0 style: a message starting with 0x01, still accepted by libzmq.
    xsub.send(&[b"\x01Z".to_vec()]);
    assert_eq!(xpub.sock.recv_bytes(0).unwrap(), b"\x01Z");
    // XPUB has applied both: a "Y" message is filtered, "X…" and "Z…" delivered.
    for body in [&b"Y-miss"[..], b"X-hit", b"Z-hit"] {
        xpub.sock.send(body, 0).unwrap();
    }
    assert_eq!(xsub.recv(), vec![b"X-hit".to_vec()]);
    assert_eq!(xsub.recv(), vec![b"Z-hit".to_vec()]);
    xsub.session.cancel(b"X").unwrap();
    xsub.flush();
    assert_eq!(xpub.sock.recv_bytes(0).unwrap(), b"\x00X");
}

// ---------------------------------------------------------------- heartbeats

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

/// libzmq PINGs every 100 ms and drops the connection if nothing answers within
/// 300 ms: our session must PONG each PING by itself.
#[test]
fn session_answers_libzmq_pings() {
    let (mut conn, theirs, _) = connect_with(
        SessionConfig::new(SocketType::Dealer),
        SocketType::Dealer,
        Transport::Tcp,
        |s| {
            s.set_heartbeat_ivl(100).unwrap();
            s.set_heartbeat_timeout(300).unwrap();
            s.set_heartbeat_ttl(1000).unwrap();
        },
    );
    let deadline = Instant::now() + TIMEOUT;
    while count(&conn.input_log, b"\x04PING") < 5 {
        assert!(Instant::now() < deadline, "libzmq sent fewer than 5 PINGs");
        assert!(!conn.eof, "libzmq dropped the connection");
        if let Some(event) = conn.session.poll_event() {
            panic!("unexpected event {event:?}");
        }
        conn.step(deadline);
    }
    // The last PING read is answered when the input is decoded, as events are polled.
    assert_eq!(conn.session.poll_event(), None);
    conn.flush();
    let (input, output) = (&conn.input_log, &conn.output_log);
    // libzmq's PING asks for a 1 s TTL: "\x04PING" then 0x000A (tenths of a second).
    assert!(count(input, b"\x04PING\x00\x0a") >= 5);
    assert!(count(output, b"\x04PONG") >= 5, "we answered every PING");
    // Still connected both ways.
    conn.send(&[b"ping-pong".to_vec()]);
    assert_eq!(zmq_recv(&theirs.sock), vec![b"ping-pong".to_vec()]);
    zmq_send(&theirs.sock, &[b"still-here".to_vec()]);
    assert_eq!(conn.recv(), vec![b"still-here".to_vec()]);
}

/// Our session PINGs every 100 ms and times out after 200 ms of silence: libzmq's
/// PONGs must keep it alive.
#[test]
fn libzmq_answers_our_pings() {
    let mut config = SessionConfig::new(SocketType::Dealer);
    config.heartbeat_ivl = Some(Duration::from_millis(100));
    config.heartbeat_timeout = Some(Duration::from_millis(200));
    config.heartbeat_ttl = Some(Duration::from_secs(1));
    let (mut conn, theirs, _) = connect_with(config, SocketType::Dealer, Transport::Tcp, |_| {});
    let deadline = Instant::now() + TIMEOUT;
    while count(&conn.input_log, b"\x04PONG") < 5 {
        assert!(Instant::now() < deadline, "libzmq sent fewer than 5 PONGs");
        assert!(!conn.eof, "libzmq dropped the connection");
        if let Some(event) = conn.session.poll_event() {
            panic!("unexpected event {event:?} (a HeartbeatTimeout means no PONG)");
        }
        conn.step(deadline);
    }
    let output = &conn.output_log;
    // Our PINGs carry the TTL: 1 s is 0x000A tenths.
    assert!(count(output, b"\x04PING\x00\x0a") >= 5);
    assert!(conn.session.is_active());
    conn.send(&[b"alive".to_vec()]);
    assert_eq!(zmq_recv(&theirs.sock), vec![b"alive".to_vec()]);
}
