//! PLAIN, CURVE and ZAP against real libzmq, in both directions.
//!
//! PLAIN runs against the `zmq` crate's libzmq 4.3.4, with a ZAP handler of libzmq's
//! own on `inproc://zeromq.zap.01`. That libzmq is built without libsodium, so CURVE
//! runs against pyzmq's libzmq 4.3.5 (with CURVE), in a Python process started from
//! `tests/peers/pyzmq_peer.py`; `scripts/pyzmq` installs pyzmq into a virtual
//! environment under `target/` the first time. When it cannot, the tests fail: a
//! missing peer is never a silent pass.
//!
//! Our sockets are handles from a `Context`, driven with blocking calls from the test
//! thread. Every wait is bounded; a refused peer is shown by the server's counters or
//! by the libzmq side's ZAP handler, never by a sleep.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use monocoque_zmtp::config::SocketOptions;
use monocoque_zmtp::error::Error;
use monocoque_zmtp::proto::auth::Authenticator;
use monocoque_zmtp::proto::mechanism::curve::{KeyPair, SecretKey};
use monocoque_zmtp::proto::message::Message;
use monocoque_zmtp::proto::socket_type::SocketType;
use monocoque_zmtp::socket::{Context, SocketHandle};

#[path = "peers/pyzmq.rs"]
mod pyzmq;
use pyzmq::{Lines, Process};

const LIMIT: Duration = Duration::from_secs(10);

// libzmq's test key pairs (test_security_curve.cpp).
const CLIENT_PUBLIC: &str = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
const CLIENT_SECRET: &str = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";
const SERVER_PUBLIC: &str = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
const SERVER_SECRET: &str = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";

fn block<T>(fut: impl Future<Output = T>) -> T {
    futures::executor::block_on(fut)
}

/// A handle with linger 0: a refused client's queued request must not hold up
/// `Context::terminate`.
fn socket(context: &Context, socket_type: SocketType, options: SocketOptions) -> SocketHandle {
    let options = options.linger(Some(Duration::ZERO));
    context.socket_with_options(socket_type, options).unwrap()
}

/// Waits until the server counted a refused peer.
fn wait_for_protocol_error(server: &SocketHandle) {
    let deadline = Instant::now() + LIMIT;
    loop {
        let stats = block(server.stats()).unwrap();
        if stats.protocol_errors > 0 {
            assert_eq!(stats.handshakes, 0, "{stats:?}");
            return;
        }
        assert!(Instant::now() < deadline, "no refusal counted: {stats:?}");
        thread::sleep(Duration::from_millis(10));
    }
}

// ---------------------------------------------------------------- PLAIN, libzmq 4.3.4

/// A libzmq ZAP handler accepting `admin`/`secret`, answering on its own thread.
fn libzmq_zap_handler(context: &zmq::Context) -> thread::JoinHandle<Vec<String>> {
    let handler = context.socket(zmq::REP).unwrap();
    handler.bind("inproc://zeromq.zap.01").unwrap();
    handler.set_rcvtimeo(5000).unwrap();
    thread::spawn(move || {
        let mut seen = Vec::new();
        while let Ok(frames) = handler.recv_multipart(0) {
            let ok = frames[5] == b"PLAIN" && frames[6] == b"admin" && frames[7] == b"secret";
            let status: &[u8] = if ok { b"200" } else { b"400" };
            seen.push(String::from_utf8_lossy(status).into_owned());
            let reply: [&[u8]; 6] = [b"1.0", &frames[1], status, b"", b"admin", b""];
            handler.send_multipart(reply, 0).unwrap();
        }
        seen
    })
}

#[test]
fn plain_client_against_a_libzmq_server_with_its_zap_handler() {
    let zmq_context = zmq::Context::new();
    let zap = libzmq_zap_handler(&zmq_context);
    let rep = zmq_context.socket(zmq::REP).unwrap();
    rep.set_plain_server(true).unwrap();
    rep.set_linger(0).unwrap();
    rep.bind("tcp://127.0.0.1:*").unwrap();
    let endpoint = rep.get_last_endpoint().unwrap().unwrap();
    // The server answers one request, then stays bound until the test is done.
    let (done, finished) = mpsc::channel::<()>();
    let echo = thread::spawn(move || {
        rep.set_rcvtimeo(5000).unwrap();
        let request = rep.recv_multipart(0).unwrap();
        rep.send_multipart(request, 0).unwrap();
        let _ = finished.recv_timeout(LIMIT);
    });

    let context = Context::new().unwrap();
    let good = SocketOptions::default()
        .plain_username("admin")
        .plain_password("secret");
    let req = socket(&context, SocketType::Req, good);
    block(req.connect(&endpoint)).unwrap();
    req.send_blocking("hello", Some(LIMIT)).unwrap();
    let reply = req.recv_blocking(Some(LIMIT)).unwrap();
    assert_eq!(&reply[0][..], b"hello");

    // A wrong password: libzmq's handler says 400 and our client gets nothing.
    let bad = SocketOptions::default()
        .plain_username("admin")
        .plain_password("guess");
    let req = socket(&context, SocketType::Req, bad);
    block(req.connect(&endpoint)).unwrap();
    req.send_blocking("hello", Some(LIMIT)).unwrap();
    wait_for_protocol_error(&req);
    context.terminate();
    drop(done);
    echo.join().unwrap();
    drop(zmq_context);
    assert_eq!(zap.join().unwrap(), ["200", "400"]);
}

#[test]
fn libzmq_plain_clients_against_our_server_and_authenticator() {
    let context = Context::new().unwrap();
    let options = SocketOptions::default()
        .plain_server(true)
        .authenticator(Authenticator::new().plain_user("admin", "secret"));
    let rep = socket(&context, SocketType::Rep, options);
    let endpoint = block(rep.bind("tcp://127.0.0.1:0")).unwrap();

    let zmq_context = zmq::Context::new();
    let client = |password: &str| {
        let req = zmq_context.socket(zmq::REQ).unwrap();
        req.set_plain_username(Some("admin")).unwrap();
        req.set_plain_password(Some(password)).unwrap();
        req.set_linger(0).unwrap();
        req.set_rcvtimeo(5000).unwrap();
        req.connect(&endpoint).unwrap();
        req
    };
    let good = client("secret");
    good.send("hello", 0).unwrap();
    let request = rep.recv_blocking(Some(LIMIT)).unwrap();
    // The authenticator's user id, and libzmq's handshake properties, come with it.
    assert_eq!(request.user_id().map(|u| &u[..]), Some(&b"admin"[..]));
    assert_eq!(
        request.property("Socket-Type").map(|t| &t[..]),
        Some(&b"REQ"[..])
    );
    rep.send_blocking(request, Some(LIMIT)).unwrap();
    assert_eq!(good.recv_bytes(0).unwrap(), b"hello");

    let bad = client("guess");
    bad.send("hello", 0).unwrap();
    let deadline = Instant::now() + LIMIT;
    while block(rep.stats()).unwrap().protocol_errors == 0 {
        assert!(
            Instant::now() < deadline,
            "the wrong password was not refused"
        );
        thread::sleep(Duration::from_millis(10));
    }
    assert!(matches!(
        rep.recv_blocking(Some(Duration::from_millis(100))),
        Err(Error::TimedOut)
    ));
    context.terminate();
}

// ---------------------------------------------------------------- CURVE, pyzmq (4.3.5)

/// A pyzmq peer (`tests/peers/pyzmq_peer.py`) with `args`, its stdout read by line.
fn py_peer(args: &[&str]) -> Process {
    Process::start(pyzmq::peer(args), Lines::Stdout)
}

fn curve_client_options(client_secret: &str) -> SocketOptions {
    SocketOptions::default()
        .curve_serverkey(
            monocoque_zmtp::proto::mechanism::curve::PublicKey::parse(SERVER_PUBLIC).unwrap(),
        )
        .curve_secretkey(SecretKey::parse(client_secret).unwrap())
}

fn echo_round(req: &SocketHandle, i: usize) {
    let big = vec![b'x'; 70_000];
    let request = Message::from([format!("Hello {i}").into_bytes(), big.clone()]);
    req.send_blocking(request, Some(LIMIT)).unwrap();
    let reply = req.recv_blocking(Some(LIMIT)).unwrap();
    assert_eq!(reply.len(), 2);
    assert_eq!(reply[0], format!("Hello {i}").as_bytes());
    assert_eq!(reply[1], big);
}

#[test]
fn curve_client_against_libzmq_with_its_zap_handler() {
    let server = py_peer(&[
        "rep-server",
        "tcp://127.0.0.1:*",
        "curve",
        SERVER_SECRET,
        CLIENT_PUBLIC,
    ]);
    let endpoint = server.bound();
    let context = Context::new().unwrap();
    let req = socket(
        &context,
        SocketType::Req,
        curve_client_options(CLIENT_SECRET),
    );
    block(req.connect(&endpoint)).unwrap();
    for i in 0..3 {
        echo_round(&req, i);
    }
    assert_eq!(server.line(), "zap CURVE 200");

    // A client whose key the handler does not know is refused with ERROR 400.
    let stranger = KeyPair::generate().unwrap();
    let req = socket(
        &context,
        SocketType::Req,
        curve_client_options(&stranger.secret.to_z85()),
    );
    block(req.connect(&endpoint)).unwrap();
    req.send_blocking("hello", Some(LIMIT)).unwrap();
    assert_eq!(server.line(), "zap CURVE 400");
    wait_for_protocol_error(&req);
    context.terminate();
}

fn our_curve_server(context: &Context, auth: Authenticator) -> (SocketHandle, String) {
    let options = SocketOptions::default()
        .curve_server(true)
        .curve_secretkey(SecretKey::parse(SERVER_SECRET).unwrap())
        .authenticator(auth);
    let rep = socket(context, SocketType::Rep, options);
    let endpoint = block(rep.bind("tcp://127.0.0.1:0")).unwrap();
    (rep, endpoint)
}

#[test]
fn libzmq_curve_clients_against_our_server_and_authenticator() {
    let context = Context::new().unwrap();
    let client_key =
        monocoque_zmtp::proto::mechanism::curve::PublicKey::parse(CLIENT_PUBLIC).unwrap();
    let (rep, endpoint) = our_curve_server(
        &context,
        Authenticator::new().curve_key(*client_key.as_bytes()),
    );
    let echo = {
        let rep = rep.clone();
        thread::spawn(move || {
            for _ in 0..3 {
                let request = rep.recv_blocking(Some(LIMIT)).unwrap();
                rep.send_blocking(request, Some(LIMIT)).unwrap();
            }
        })
    };
    let client = py_peer(&[
        "req-client",
        &endpoint,
        "curve",
        "3",
        SERVER_PUBLIC,
        CLIENT_SECRET,
    ]);
    let (lines, status) = client.finish();
    assert!(status.success(), "{lines:?}");
    assert_eq!(lines, ["Hello 0 70000", "Hello 1 70000", "Hello 2 70000"]);
    echo.join().unwrap();

    // A libzmq client with a key we do not allow gets no reply.
    let stranger = KeyPair::generate().unwrap();
    let refused = py_peer(&[
        "req-client",
        &endpoint,
        "curve",
        "1",
        SERVER_PUBLIC,
        &stranger.secret.to_z85(),
    ]);
    let deadline = Instant::now() + LIMIT;
    while block(rep.stats()).unwrap().protocol_errors == 0 {
        assert!(Instant::now() < deadline, "the stranger was not refused");
        thread::sleep(Duration::from_millis(10));
    }
    drop(refused);
    context.terminate();
}

#[test]
fn curve_subscriber_filters_a_libzmq_publisher() {
    let publisher = py_peer(&["pub-server", "tcp://127.0.0.1:*", "curve", SERVER_SECRET]);
    let endpoint = publisher.bound();
    let context = Context::new().unwrap();
    let sub = socket(
        &context,
        SocketType::Sub,
        curve_client_options(CLIENT_SECRET),
    );
    block(sub.subscribe("b")).unwrap();
    block(sub.connect(&endpoint)).unwrap();
    for _ in 0..20 {
        let message = sub.recv_blocking(Some(LIMIT)).unwrap();
        assert!(message[0].starts_with(b"b "), "{message:?}");
    }
    context.terminate();
}
