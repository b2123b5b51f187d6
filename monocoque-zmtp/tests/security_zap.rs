//! ZAP over `inproc://zeromq.zap.01` (RFC 27): a user's own handler socket, bound in
//! the same context, decides for a server socket that has no authenticator, as with
//! libzmq; the cases of libzmq's test_security_zap (good and bad replies, a handler
//! that never answers).

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use monocoque_zmtp::config::SocketOptions;
use monocoque_zmtp::error::Error;
use monocoque_zmtp::proto::error::ProtocolError;
use monocoque_zmtp::proto::message::Message;
use monocoque_zmtp::proto::socket_type::SocketType;
use monocoque_zmtp::socket::{Context, SocketHandle};

const LIMIT: Duration = Duration::from_secs(10);

fn block<T>(fut: impl Future<Output = T>) -> T {
    futures::executor::block_on(fut)
}

/// How the test's handler answers.
#[derive(Clone, Copy, Debug)]
enum Handler {
    /// 200 for admin/secret (user id "admin"), 400 otherwise.
    Honest,
    /// Replies with version "2.0".
    WrongVersion,
    /// Replies with status "201".
    InvalidStatus,
    /// Replies with one frame too many.
    TooManyFrames,
    /// Replies to another request id.
    WrongRequestId,
    /// Never replies.
    Silent,
}

/// A REP handler bound to the ZAP endpoint on its own thread; returns the requests'
/// (mechanism, user name) pairs it saw once told to stop.
fn spawn_handler(
    context: &Context,
    kind: Handler,
) -> (mpsc::Sender<()>, thread::JoinHandle<Vec<(String, String)>>) {
    let handler = context.socket(SocketType::Rep).unwrap();
    block(handler.bind("inproc://zeromq.zap.01")).unwrap();
    let (stop, stopped) = mpsc::channel();
    let thread = thread::spawn(move || {
        let mut seen = Vec::new();
        while matches!(stopped.try_recv(), Err(mpsc::TryRecvError::Empty)) {
            let request = match handler.recv_blocking(Some(Duration::from_millis(20))) {
                Ok(request) => request,
                Err(Error::TimedOut) => continue,
                Err(err) => panic!("handler: {err}"),
            };
            let frame = |i: usize| String::from_utf8_lossy(&request[i]).into_owned();
            assert_eq!(frame(0), "1.0");
            seen.push((frame(5), frame(6)));
            match reply_for(kind, &request) {
                Some(reply) => handler.send_blocking(reply, Some(LIMIT)).unwrap(),
                // A REP that never replies can take no further request.
                None => {
                    let _ = stopped.recv();
                    break;
                }
            }
        }
        seen
    });
    (stop, thread)
}

fn reply_for(kind: Handler, request: &Message) -> Option<Message> {
    let ok = &request[6][..] == b"admin" && &request[7][..] == b"secret";
    let id = match kind {
        Handler::WrongRequestId => Bytes::from_static(b"not-the-id"),
        _ => request[1].clone(),
    };
    let frames = |version: &'static str, status: &'static str, extra: bool| {
        let mut frames: Vec<Bytes> = vec![
            Bytes::from_static(version.as_bytes()),
            id.clone(),
            Bytes::from_static(status.as_bytes()),
            Bytes::from_static(b"text"),
            Bytes::from_static(b"admin"),
            Bytes::new(),
        ];
        if extra {
            frames.push(Bytes::new());
        }
        Some(Message::from(frames))
    };
    match kind {
        Handler::Honest => frames("1.0", if ok { "200" } else { "400" }, false),
        Handler::WrongVersion => frames("2.0", "200", false),
        Handler::InvalidStatus => frames("1.0", "201", false),
        Handler::TooManyFrames => frames("1.0", "200", true),
        Handler::WrongRequestId => frames("1.0", "200", false),
        Handler::Silent => None,
    }
}

fn plain_server(context: &Context, handshake_ivl: Duration) -> (SocketHandle, String) {
    let options = SocketOptions::default()
        .plain_server(true)
        .handshake_ivl(Some(handshake_ivl))
        .linger(Some(Duration::ZERO));
    let server = context
        .socket_with_options(SocketType::Rep, options)
        .unwrap();
    let endpoint = block(server.bind("tcp://127.0.0.1:0")).unwrap();
    (server, endpoint)
}

fn plain_client(context: &Context, endpoint: &str, password: &str) -> SocketHandle {
    let options = SocketOptions::default()
        .plain_username("admin")
        .plain_password(password)
        .linger(Some(Duration::ZERO));
    let client = context
        .socket_with_options(SocketType::Req, options)
        .unwrap();
    block(client.connect(endpoint)).unwrap();
    client
}

/// Waits until `socket` counted a failed connection; returns its last error.
fn refused(socket: &SocketHandle) -> ProtocolError {
    let deadline = Instant::now() + LIMIT;
    loop {
        let stats = block(socket.stats()).unwrap();
        if stats.protocol_errors > 0 {
            return block(socket.recent_errors()).unwrap().pop().unwrap().error;
        }
        assert!(Instant::now() < deadline, "not refused: {stats:?}");
        thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_handler_on_the_zap_endpoint_decides() {
    let context = Context::new().unwrap();
    let (stop, handler) = spawn_handler(&context, Handler::Honest);
    let (server, endpoint) = plain_server(&context, LIMIT);

    let good = plain_client(&context, &endpoint, "secret");
    good.send_blocking("hello", Some(LIMIT)).unwrap();
    let request = server.recv_blocking(Some(LIMIT)).unwrap();
    server.send_blocking(request, Some(LIMIT)).unwrap();
    assert_eq!(&good.recv_blocking(Some(LIMIT)).unwrap()[0][..], b"hello");

    let bad = plain_client(&context, &endpoint, "guess");
    bad.send_blocking("hello", Some(LIMIT)).unwrap();
    assert_eq!(
        refused(&bad),
        ProtocolError::PeerError {
            reason: "400".into()
        }
    );
    assert_eq!(block(bad.stats()).unwrap().handshakes, 0);
    assert_eq!(refused(&server), ProtocolError::ZapDenied { status: 400 });
    drop(stop);
    let seen = handler.join().unwrap();
    let plain = ("PLAIN".to_string(), "admin".to_string());
    assert_eq!(seen, [plain.clone(), plain]);
    context.terminate();
}

/// The handler and the server socket on different I/O threads: inproc names belong
/// to the context, so the server reaches the handler across threads.
#[test]
fn a_handler_on_another_io_thread_decides() {
    let context = Context::builder().io_threads(2).build().unwrap();
    // Sockets are spread over the threads in turn: handler, server, client.
    let (stop, handler) = spawn_handler(&context, Handler::Honest);
    let (server, endpoint) = plain_server(&context, LIMIT);
    let good = plain_client(&context, &endpoint, "secret");
    good.send_blocking("hello", Some(LIMIT)).unwrap();
    let request = server.recv_blocking(Some(LIMIT)).unwrap();
    assert_eq!(request.user_id().map(|id| &id[..]), Some(&b"admin"[..]));
    server.send_blocking(request, Some(LIMIT)).unwrap();
    assert_eq!(&good.recv_blocking(Some(LIMIT)).unwrap()[0][..], b"hello");
    drop(stop);
    assert_eq!(handler.join().unwrap().len(), 1);
    context.terminate();
}

#[test]
fn malformed_replies_fail_that_handshake_only() {
    for kind in [
        Handler::WrongVersion,
        Handler::InvalidStatus,
        Handler::TooManyFrames,
    ] {
        let context = Context::new().unwrap();
        let (stop, handler) = spawn_handler(&context, kind);
        let (server, endpoint) = plain_server(&context, LIMIT);
        let client = plain_client(&context, &endpoint, "secret");
        client.send_blocking("hello", Some(LIMIT)).unwrap();
        let err = refused(&server);
        assert!(
            matches!(err, ProtocolError::ZapMalformed(_)),
            "{kind:?}: {err:?}"
        );
        // Only that connection failed: the server socket has no error to report
        // and nothing to receive.
        assert!(matches!(
            server.recv_blocking(Some(Duration::from_millis(50))),
            Err(Error::TimedOut)
        ));
        drop(stop);
        handler.join().unwrap();
        context.terminate();
    }
}

/// A reply to another request answers nothing: the handshake waiting for its own
/// reply fails at its deadline, and the peer is never let in.
#[test]
fn a_reply_to_another_request_id_lets_no_one_in() {
    let context = Context::new().unwrap();
    let (stop, handler) = spawn_handler(&context, Handler::WrongRequestId);
    let (server, endpoint) = plain_server(&context, Duration::from_millis(300));
    let client = plain_client(&context, &endpoint, "secret");
    client.send_blocking("hello", Some(LIMIT)).unwrap();
    assert_eq!(refused(&server), ProtocolError::HandshakeTimeout);
    assert_eq!(block(server.stats()).unwrap().handshakes, 0);
    drop(stop);
    handler.join().unwrap();
    context.terminate();
}

#[test]
fn a_handler_that_never_answers_leaves_the_peer_to_the_handshake_deadline() {
    let context = Context::new().unwrap();
    let (stop, handler) = spawn_handler(&context, Handler::Silent);
    let (server, endpoint) = plain_server(&context, Duration::from_millis(300));
    let client = plain_client(&context, &endpoint, "secret");
    client.send_blocking("hello", Some(LIMIT)).unwrap();
    assert_eq!(refused(&server), ProtocolError::HandshakeTimeout);
    drop(stop);
    assert_eq!(handler.join().unwrap().len(), 1);
    context.terminate();
}

#[test]
fn without_a_handler_plain_refuses_everyone() {
    let context = Context::new().unwrap();
    let (server, endpoint) = plain_server(&context, LIMIT);
    let client = plain_client(&context, &endpoint, "secret");
    client.send_blocking("hello", Some(LIMIT)).unwrap();
    assert_eq!(refused(&server), ProtocolError::ZapUnavailable);
    context.terminate();
}
