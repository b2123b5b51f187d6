//! Socket-level interoperability with real libzmq (built from source by the `zmq`
//! crate): monocoque's sockets on a compio runtime talk to libzmq sockets over tcp and
//! ipc, in every compatible pairing.
//!
//! Each test function covers one socket pairing and loops over four cases: tcp and ipc,
//! with monocoque binding and libzmq connecting, then the other way round. The libzmq
//! socket is created (and bound or connected, both of which return at once) on the test
//! thread, then moved to a `std::thread` of its own, since libzmq's calls block. The
//! compio thread never blocks on that thread: it drives our socket with `.await`s and
//! waits for the libzmq thread through a oneshot channel, so our connections keep
//! being served meanwhile. libzmq sockets have LINGER 0 and RCVTIMEO/SNDTIMEO 5 s,
//! every wait on our side is wrapped in a 5 s timeout, and nothing sleeps to
//! synchronise: a broken case fails instead of hanging.
//!
//! A libzmq thread keeps its socket open until our side has checked everything
//! (`Remote::finish`), because LINGER 0 would drop a message libzmq has queued but not
//! yet written.

mod common;
use common::within;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use futures::channel::oneshot;
use monocoque_zmtp::config::SocketOptions;
use monocoque_zmtp::proto::message::Message;
use monocoque_zmtp::socket::{
    DealerSocket, PairSocket, PubSocket, PullSocket, PushSocket, RepSocket, ReqSocket,
    RouterSocket, Socket, SubSocket, XPubSocket, XSubSocket,
};

/// Upper bound for any single wait.
const TIMEOUT: Duration = Duration::from_secs(5);
/// libzmq's RCVTIMEO/SNDTIMEO, in milliseconds.
const ZMQ_TIMEOUT_MS: i32 = 5000;
/// One frame large enough to need the 8-octet (long) size field.
const BIG: usize = 1 << 20;

type Frames = Vec<Vec<u8>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Tcp,
    Ipc,
}

/// Which side binds; the other connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Binder {
    Monocoque,
    Libzmq,
}

#[derive(Debug, Clone, Copy)]
struct Case {
    transport: Transport,
    binder: Binder,
}

const CASES: [Case; 4] = [
    Case {
        transport: Transport::Tcp,
        binder: Binder::Monocoque,
    },
    Case {
        transport: Transport::Tcp,
        binder: Binder::Libzmq,
    },
    Case {
        transport: Transport::Ipc,
        binder: Binder::Monocoque,
    },
    Case {
        transport: Transport::Ipc,
        binder: Binder::Libzmq,
    },
];

// ------------------------------------------------------------------ plumbing

/// An ipc socket file, removed when dropped.
struct IpcFile(PathBuf);

impl Drop for IpcFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A fresh ipc endpoint for this process.
fn ipc_endpoint() -> (String, IpcFile) {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let path =
        std::env::temp_dir().join(format!("monocoque-sockets-{}-{n}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    (format!("ipc://{}", path.display()), IpcFile(path))
}

/// A libzmq socket of `kind` with LINGER 0 and 5 s timeouts, configured further by
/// `configure` (before it binds or connects).
fn zmq_socket(kind: zmq::SocketType, configure: impl FnOnce(&zmq::Socket)) -> zmq::Socket {
    // Each socket owns its context (the zmq crate keeps a reference in the socket).
    let sock = zmq::Context::new().socket(kind).unwrap();
    sock.set_linger(0).unwrap();
    sock.set_rcvtimeo(ZMQ_TIMEOUT_MS).unwrap();
    sock.set_sndtimeo(ZMQ_TIMEOUT_MS).unwrap();
    configure(&sock);
    sock
}

/// Connects `ours` and a new libzmq socket of `kind` as `case` says. Returns the libzmq
/// socket and the ipc file to remove at the end.
async fn link(
    case: Case,
    ours: &Socket,
    kind: zmq::SocketType,
    configure: impl FnOnce(&zmq::Socket),
) -> (zmq::Socket, Option<IpcFile>) {
    let theirs = zmq_socket(kind, configure);
    let (endpoint, file) = match case.transport {
        Transport::Tcp => ("tcp://127.0.0.1:0".to_string(), None),
        Transport::Ipc => {
            let (endpoint, file) = ipc_endpoint();
            (endpoint, Some(file))
        }
    };
    match case.binder {
        Binder::Monocoque => {
            let bound = within("bind", ours.bind(&endpoint)).await.unwrap();
            theirs.connect(&bound).unwrap();
        }
        Binder::Libzmq => {
            let endpoint = endpoint.replace("127.0.0.1:0", "127.0.0.1:*");
            theirs.bind(&endpoint).unwrap();
            let bound = theirs.get_last_endpoint().unwrap().unwrap();
            within("connect", ours.connect(&bound)).await.unwrap();
        }
    }
    (theirs, file)
}

/// What a libzmq thread and our side tell each other.
#[derive(Default)]
struct Signals {
    /// Set by the libzmq thread (e.g. its SUB received the first message).
    seen: AtomicBool,
    /// Set by our side (e.g. our XPUB received the subscription).
    go: AtomicBool,
}

/// A libzmq socket running `body` on its own thread.
struct Remote {
    handle: Option<JoinHandle<()>>,
    signals: Arc<Signals>,
    /// Tells the thread our side is done, so it may close its socket.
    done: mpsc::Sender<()>,
    /// Fires when the thread ended (cancelled if it panicked).
    ended: Option<oneshot::Receiver<()>>,
}

impl Remote {
    fn spawn(
        name: impl Into<String>,
        sock: zmq::Socket,
        body: impl FnOnce(&zmq::Socket, &Signals) + Send + 'static,
    ) -> Remote {
        let signals = Arc::new(Signals::default());
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let (ended_tx, ended_rx) = oneshot::channel();
        let thread_signals = signals.clone();
        let handle = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                body(&sock, &thread_signals);
                // LINGER 0 drops what libzmq has not written yet: wait for our side.
                done_rx
                    .recv_timeout(3 * TIMEOUT)
                    .expect("libzmq thread: our side never finished");
                drop(sock);
                let _ = ended_tx.send(());
            })
            .unwrap();
        Remote {
            handle: Some(handle),
            signals,
            done: done_tx,
            ended: Some(ended_rx),
        }
    }

    fn seen(&self) -> bool {
        self.signals.seen.load(Ordering::SeqCst)
    }

    /// Lets the thread close its socket, waits for it (driving our runtime meanwhile)
    /// and re-raises its panic, if any.
    async fn finish(mut self) {
        let _ = self.done.send(());
        let ended = self.ended.take().unwrap();
        let result = compio::time::timeout(4 * TIMEOUT, ended).await;
        let handle = self.handle.take().unwrap();
        match result {
            Ok(Ok(())) => handle.join().unwrap(),
            Ok(Err(_cancelled)) => match handle.join() {
                Ok(()) => unreachable!("libzmq thread ended without signalling"),
                Err(panic) => std::panic::resume_unwind(panic),
            },
            Err(_) => panic!("libzmq thread did not finish"),
        }
    }
}

fn frames_of(m: &Message) -> Frames {
    m.iter().map(|f| f.to_vec()).collect()
}

fn message(frames: &[Vec<u8>]) -> Message {
    frames.iter().cloned().collect()
}

async fn send(sock: &Socket, frames: &[Vec<u8>]) {
    within("send", sock.send(message(frames)))
        .await
        .expect("monocoque send");
}

async fn recv(sock: &Socket) -> Frames {
    frames_of(&within("recv", sock.recv()).await.expect("monocoque recv"))
}

fn zmq_recv(sock: &zmq::Socket) -> Frames {
    sock.recv_multipart(0).expect("libzmq recv")
}

fn zmq_send(sock: &zmq::Socket, frames: &[Vec<u8>]) {
    sock.send_multipart(frames, 0).expect("libzmq send");
}

fn big_frame() -> Vec<u8> {
    (0..BIG).map(|i| (i % 251) as u8).collect()
}

/// Several round trips: single frames, multipart with empty frames (first, middle,
/// last), a lone empty frame and 1 MiB frames.
fn payloads() -> Vec<Frames> {
    let mut all: Vec<Frames> = (0..5).map(|i| vec![format!("ping-{i}").into()]).collect();
    all.extend([
        vec![b"a".to_vec(), vec![], b"c".to_vec(), vec![]],
        vec![vec![], b"after-empty".to_vec()],
        vec![vec![]],
        vec![big_frame()],
        vec![b"head".to_vec(), big_frame(), vec![]],
    ]);
    all
}

/// The answer to `request`: a frame in front, so order and empties are checked.
fn reply(request: &[Vec<u8>]) -> Frames {
    std::iter::once(b"re".to_vec())
        .chain(request.iter().cloned())
        .collect()
}

fn with_delimiter(frames: &[Vec<u8>]) -> Frames {
    std::iter::once(Vec::new())
        .chain(frames.iter().cloned())
        .collect()
}

fn short(frames: &[Vec<u8>]) -> String {
    let parts: Vec<String> = frames
        .iter()
        .map(|f| {
            if f.len() > 32 {
                format!("<{} bytes>", f.len())
            } else {
                format!("{:?}", String::from_utf8_lossy(f))
            }
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

#[track_caller]
fn assert_frames(got: &[Vec<u8>], want: &[Vec<u8>], case: Case) {
    assert!(
        got == want,
        "{case:?}: got {}, want {}",
        short(got),
        short(want)
    );
}

/// Our socket completed at least one handshake and saw no protocol error.
#[track_caller]
fn assert_clean(sock: &Socket, case: Case) {
    let stats = sock.stats();
    assert!(stats.handshakes >= 1, "{case:?}: {stats:?}");
    assert_eq!(stats.protocol_errors, 0, "{case:?}: {stats:?}");
}

// ------------------------------------------------------------- REQ and REP

/// Sends every payload from our socket and checks each reply.
async fn ask_all(socket: &Socket, case: Case) {
    for p in payloads() {
        send(socket, &p).await;
        assert_frames(&recv(socket).await, &reply(&p), case);
    }
}

/// Answers every payload on our socket with its reply.
async fn serve_all(socket: &Socket, case: Case) {
    for p in payloads() {
        let request = recv(socket).await;
        assert_frames(&request, &p, case);
        send(socket, &reply(&request)).await;
    }
}

/// Sends every payload from a libzmq socket and checks each reply.
fn zmq_ask_all(socket: &zmq::Socket, case: Case) {
    for p in payloads() {
        zmq_send(socket, &p);
        assert_frames(&zmq_recv(socket), &reply(&p), case);
    }
}

#[compio::test]
async fn req_monocoque_rep_libzmq() {
    for case in CASES {
        let req = ReqSocket::new();
        let (rep, _ipc) = link(case, req.as_socket(), zmq::REP, |_| {}).await;
        let remote = Remote::spawn("libzmq-rep", rep, move |rep, _| {
            for _ in payloads() {
                let request = zmq_recv(rep);
                zmq_send(rep, &reply(&request));
            }
        });
        ask_all(req.as_socket(), case).await;
        remote.finish().await;
        assert_clean(req.as_socket(), case);
    }
}

#[compio::test]
async fn req_libzmq_rep_monocoque() {
    for case in CASES {
        let rep = RepSocket::new();
        let (req, _ipc) = link(case, rep.as_socket(), zmq::REQ, |_| {}).await;
        let remote = Remote::spawn("libzmq-req", req, move |req, _| {
            zmq_ask_all(req, case);
        });
        serve_all(rep.as_socket(), case).await;
        remote.finish().await;
        assert_clean(rep.as_socket(), case);
    }
}

// --------------------------------------------------------- DEALER and ROUTER

#[compio::test]
async fn dealer_monocoque_router_libzmq() {
    for case in CASES {
        let dealer = DealerSocket::with_options(SocketOptions::default().routing_id("mono"));
        let (router, _ipc) = link(case, dealer.as_socket(), zmq::ROUTER, |_| {}).await;
        let remote = Remote::spawn("libzmq-router", router, move |router, _| {
            for p in payloads() {
                let mut request = zmq_recv(router);
                let id = request.remove(0);
                assert_eq!(id, b"mono", "{case:?}: libzmq ROUTER saw another id");
                assert_frames(&request, &p, case);
                let mut answer = vec![id];
                answer.extend(reply(&request));
                zmq_send(router, &answer);
            }
        });
        ask_all(dealer.as_socket(), case).await;
        remote.finish().await;
        assert_clean(dealer.as_socket(), case);
    }
}

#[compio::test]
async fn dealer_libzmq_router_monocoque() {
    for case in CASES {
        let router = RouterSocket::new();
        let (dealer, _ipc) = link(case, router.as_socket(), zmq::DEALER, |s| {
            s.set_identity(b"zmq-dealer").unwrap();
        })
        .await;
        let remote = Remote::spawn("libzmq-dealer", dealer, move |dealer, _| {
            zmq_ask_all(dealer, case);
        });
        for p in payloads() {
            let mut request = recv(router.as_socket()).await;
            let id = request.remove(0);
            assert_eq!(id, b"zmq-dealer", "{case:?}: our ROUTER saw another id");
            assert_frames(&request, &p, case);
            let mut answer = vec![id];
            answer.extend(reply(&request));
            send(router.as_socket(), &answer).await;
        }
        remote.finish().await;
        assert_clean(router.as_socket(), case);
    }
}

// ------------------------------------------- DEALER to REP, REQ to ROUTER

#[compio::test]
async fn dealer_monocoque_rep_libzmq() {
    for case in CASES {
        let dealer = DealerSocket::new();
        let (rep, _ipc) = link(case, dealer.as_socket(), zmq::REP, |_| {}).await;
        let remote = Remote::spawn("libzmq-rep", rep, move |rep, _| {
            for _ in payloads() {
                let request = zmq_recv(rep);
                zmq_send(rep, &reply(&request));
            }
        });
        for p in payloads() {
            // A DEALER talking to REP writes the empty delimiter itself.
            send(dealer.as_socket(), &with_delimiter(&p)).await;
            let answer = recv(dealer.as_socket()).await;
            assert_frames(&answer, &with_delimiter(&reply(&p)), case);
        }
        remote.finish().await;
        assert_clean(dealer.as_socket(), case);
    }
}

#[compio::test]
async fn dealer_libzmq_rep_monocoque() {
    for case in CASES {
        let rep = RepSocket::new();
        let (dealer, _ipc) = link(case, rep.as_socket(), zmq::DEALER, |_| {}).await;
        let remote = Remote::spawn("libzmq-dealer", dealer, move |dealer, _| {
            for p in payloads() {
                zmq_send(dealer, &with_delimiter(&p));
                assert_frames(&zmq_recv(dealer), &with_delimiter(&reply(&p)), case);
            }
        });
        serve_all(rep.as_socket(), case).await;
        remote.finish().await;
        assert_clean(rep.as_socket(), case);
    }
}

#[compio::test]
async fn req_monocoque_router_libzmq() {
    for case in CASES {
        let req = ReqSocket::with_options(SocketOptions::default().routing_id("mono-req"));
        let (router, _ipc) = link(case, req.as_socket(), zmq::ROUTER, |_| {}).await;
        let remote = Remote::spawn("libzmq-router", router, move |router, _| {
            for p in payloads() {
                // [id, "", body...]
                let mut request = zmq_recv(router);
                let id = request.remove(0);
                assert_eq!(id, b"mono-req", "{case:?}");
                assert_frames(&request, &with_delimiter(&p), case);
                let mut answer = vec![id];
                answer.extend(with_delimiter(&reply(&p)));
                zmq_send(router, &answer);
            }
        });
        ask_all(req.as_socket(), case).await;
        remote.finish().await;
        assert_clean(req.as_socket(), case);
    }
}

#[compio::test]
async fn req_libzmq_router_monocoque() {
    for case in CASES {
        let router = RouterSocket::new();
        let (req, _ipc) = link(case, router.as_socket(), zmq::REQ, |_| {}).await;
        let remote = Remote::spawn("libzmq-req", req, move |req, _| {
            zmq_ask_all(req, case);
        });
        for p in payloads() {
            let mut request = recv(router.as_socket()).await;
            let id = request.remove(0);
            // No identity set: a generated 5-byte id starting with a zero byte.
            assert!(id.len() == 5 && id[0] == 0, "{case:?}: generated id {id:?}");
            assert_frames(&request, &with_delimiter(&p), case);
            let mut answer = vec![id];
            answer.extend(with_delimiter(&reply(&p)));
            send(router.as_socket(), &answer).await;
        }
        remote.finish().await;
        assert_clean(router.as_socket(), case);
    }
}

// ------------------------------------------------------------- PUSH and PULL

const PIPELINE: usize = 1000;

fn numbered(i: usize) -> Frames {
    vec![format!("msg-{i}").into_bytes()]
}

#[compio::test]
async fn push_monocoque_pull_libzmq() {
    for case in CASES {
        let push = PushSocket::new();
        let (pull, _ipc) = link(case, push.as_socket(), zmq::PULL, |_| {}).await;
        let remote = Remote::spawn("libzmq-pull", pull, move |pull, _| {
            for i in 0..PIPELINE {
                assert_frames(&zmq_recv(pull), &numbered(i), case);
            }
            for p in payloads() {
                assert_frames(&zmq_recv(pull), &p, case);
            }
        });
        for i in 0..PIPELINE {
            send(push.as_socket(), &numbered(i)).await;
        }
        for p in payloads() {
            send(push.as_socket(), &p).await;
        }
        remote.finish().await;
        assert_clean(push.as_socket(), case);
    }
}

#[compio::test]
async fn push_libzmq_pull_monocoque() {
    for case in CASES {
        let pull = PullSocket::new();
        let (push, _ipc) = link(case, pull.as_socket(), zmq::PUSH, |_| {}).await;
        let remote = Remote::spawn("libzmq-push", push, move |push, _| {
            for i in 0..PIPELINE {
                zmq_send(push, &numbered(i));
            }
            for p in payloads() {
                zmq_send(push, &p);
            }
        });
        for i in 0..PIPELINE {
            assert_frames(&recv(pull.as_socket()).await, &numbered(i), case);
        }
        for p in payloads() {
            assert_frames(&recv(pull.as_socket()).await, &p, case);
        }
        remote.finish().await;
        assert_clean(pull.as_socket(), case);
    }
}

// --------------------------------------------------------------- PUB and SUB

/// The message that ends a publication: multipart, with an empty frame.
fn last_news() -> Frames {
    vec![b"A-end".to_vec(), vec![], b"tail".to_vec()]
}

/// libzmq publishes "B…" and "A…" until our subscriber (subscribed to "A") has seen
/// one, then [`last_news`]. Our side receives until [`last_news`] and checks nothing
/// but "A…" ever arrived.
async fn subscribe_to_libzmq_pub(case: Case, ours: &Socket, subscribe: impl AsyncFnOnce()) {
    let (publisher, _ipc) = link(case, ours, zmq::PUB, |_| {}).await;
    subscribe().await;
    let remote = Remote::spawn("libzmq-pub", publisher, move |publisher, signals| {
        let deadline = Instant::now() + TIMEOUT;
        let mut i = 0;
        // Subscriptions travel upstream: publish until our side has one message.
        while !signals.seen.load(Ordering::SeqCst) {
            assert!(Instant::now() < deadline, "{case:?}: nothing arrived");
            publisher.send(format!("B-{i}").as_bytes(), 0).unwrap();
            publisher.send(format!("A-{i}").as_bytes(), 0).unwrap();
            i += 1;
            // Pacing only, so the subscriber is not flooded.
            std::thread::sleep(Duration::from_millis(2));
        }
        zmq_send(publisher, &last_news());
    });
    let mut received = 0;
    loop {
        let news = recv(ours).await;
        assert!(
            news[0].starts_with(b"A"),
            "{case:?}: a message we did not subscribe to arrived: {}",
            short(&news)
        );
        received += 1;
        remote.signals.seen.store(true, Ordering::SeqCst);
        if news == last_news() {
            break;
        }
    }
    assert!(received >= 2);
    remote.finish().await;
    assert_clean(ours, case);
}

#[compio::test]
async fn sub_monocoque_pub_libzmq() {
    for case in CASES {
        let sub = SubSocket::new();
        subscribe_to_libzmq_pub(case, sub.as_socket(), async || {
            sub.subscribe("A").unwrap();
        })
        .await;
    }
}

#[compio::test]
async fn xsub_monocoque_pub_libzmq() {
    // Our XSUB does not filter what it receives: this shows libzmq's PUB applied the
    // subscription sent as a message starting with 1.
    for case in CASES {
        let xsub = XSubSocket::new();
        subscribe_to_libzmq_pub(case, xsub.as_socket(), async || {
            send(xsub.as_socket(), &[b"\x01A".to_vec()]).await;
        })
        .await;
    }
}

/// Our PUB publishes "B…" and "A…" until libzmq's subscriber (subscribed to "A" by
/// `subscribe`) has seen one, then [`last_news`]. The libzmq side checks nothing but
/// "A…" arrived.
async fn libzmq_subscribes_to_our_pub(
    case: Case,
    kind: zmq::SocketType,
    subscribe: impl FnOnce(&zmq::Socket) + Send + 'static,
) {
    let publisher = PubSocket::new();
    let (sub, _ipc) = link(case, publisher.as_socket(), kind, |_| {}).await;
    let remote = Remote::spawn("libzmq-sub", sub, move |sub, signals| {
        subscribe(sub);
        loop {
            let news = zmq_recv(sub);
            assert!(news[0].starts_with(b"A"), "{case:?}: {}", short(&news));
            signals.seen.store(true, Ordering::SeqCst);
            if news == last_news() {
                break;
            }
        }
    });
    let deadline = Instant::now() + TIMEOUT;
    let mut i = 0;
    while !remote.seen() {
        assert!(Instant::now() < deadline, "{case:?}: nothing arrived");
        send(publisher.as_socket(), &[format!("B-{i}").into_bytes()]).await;
        send(publisher.as_socket(), &[format!("A-{i}").into_bytes()]).await;
        i += 1;
        // Pacing, and lets our connection tasks write.
        compio::time::sleep(Duration::from_millis(2)).await;
    }
    send(publisher.as_socket(), &last_news()).await;
    remote.finish().await;
    assert_clean(publisher.as_socket(), case);
}

#[compio::test]
async fn sub_libzmq_pub_monocoque() {
    for case in CASES {
        libzmq_subscribes_to_our_pub(case, zmq::SUB, |s| s.set_subscribe(b"A").unwrap()).await;
    }
}

#[compio::test]
async fn xsub_libzmq_pub_monocoque() {
    for case in CASES {
        libzmq_subscribes_to_our_pub(case, zmq::XSUB, |s| zmq_send(s, &[b"\x01A".to_vec()])).await;
    }
}

#[compio::test]
async fn xpub_libzmq_sub_monocoque() {
    for case in CASES {
        let sub = SubSocket::new();
        let (xpub, _ipc) = link(case, sub.as_socket(), zmq::XPUB, |_| {}).await;
        sub.subscribe("topic").unwrap();
        let remote = Remote::spawn("libzmq-xpub", xpub, move |xpub, _| {
            assert_frames(&zmq_recv(xpub), &[b"\x01topic".to_vec()], case);
            zmq_send(xpub, &[b"other".to_vec()]);
            zmq_send(xpub, &[b"topic 1".to_vec()]);
            assert_frames(&zmq_recv(xpub), &[b"\x00topic".to_vec()], case);
        });
        assert_frames(&recv(sub.as_socket()).await, &[b"topic 1".to_vec()], case);
        sub.unsubscribe("topic").unwrap();
        remote.finish().await;
        assert_clean(sub.as_socket(), case);
    }
}

#[compio::test]
async fn xpub_monocoque_sub_libzmq() {
    for case in CASES {
        let xpub = XPubSocket::new();
        let (sub, _ipc) = link(case, xpub.as_socket(), zmq::SUB, |s| {
            s.set_subscribe(b"topic").unwrap();
        })
        .await;
        let (cancel_tx, cancel_rx) = mpsc::channel::<()>();
        let remote = Remote::spawn("libzmq-sub", sub, move |sub, _| {
            // Blocking here also lets libzmq attach the pipe and send the subscription.
            assert_frames(&zmq_recv(sub), &[b"topic 1".to_vec()], case);
            cancel_rx.recv_timeout(TIMEOUT).unwrap();
            sub.set_unsubscribe(b"topic").unwrap();
        });
        assert_frames(
            &recv(xpub.as_socket()).await,
            &[b"\x01topic".to_vec()],
            case,
        );
        // Once reported the subscription is in force: one message is enough.
        send(xpub.as_socket(), &[b"other".to_vec()]).await;
        send(xpub.as_socket(), &[b"topic 1".to_vec()]).await;
        cancel_tx.send(()).unwrap();
        assert_frames(
            &recv(xpub.as_socket()).await,
            &[b"\x00topic".to_vec()],
            case,
        );
        remote.finish().await;
        assert_clean(xpub.as_socket(), case);
    }
}

#[compio::test]
async fn xpub_monocoque_reports_libzmq_sub_leaving() {
    // When the last subscriber to a topic goes away, XPUB reports the topic cancelled.
    for case in CASES {
        let xpub = XPubSocket::new();
        let (sub, _ipc) = link(case, xpub.as_socket(), zmq::SUB, |s| {
            s.set_subscribe(b"gone").unwrap();
        })
        .await;
        let remote = Remote::spawn("libzmq-sub", sub, move |sub, signals| {
            // libzmq attaches an accepted connection's pipe (and so subscribes) only
            // when the application enters the socket: poke it until we are told.
            let deadline = Instant::now() + TIMEOUT;
            while !signals.go.load(Ordering::SeqCst) {
                assert!(Instant::now() < deadline, "{case:?}: never subscribed");
                sub.poll(zmq::POLLIN, 1).unwrap();
            }
        });
        let joined = recv(xpub.as_socket()).await;
        remote.signals.go.store(true, Ordering::SeqCst);
        assert_frames(&joined, &[b"\x01gone".to_vec()], case);
        remote.finish().await; // closes the libzmq socket
        assert_frames(&recv(xpub.as_socket()).await, &[b"\x00gone".to_vec()], case);
        within("disconnect", xpub.wait_for_peers(|n| n == 0)).await;
        assert_clean(xpub.as_socket(), case);
    }
}

// ---------------------------------------------------------------------- PAIR

#[compio::test]
async fn pair_monocoque_pair_libzmq() {
    for case in CASES {
        let pair = PairSocket::new();
        let (theirs, _ipc) = link(case, pair.as_socket(), zmq::PAIR, |_| {}).await;
        let remote = Remote::spawn("libzmq-pair", theirs, move |theirs, _| {
            for p in payloads() {
                assert_frames(&zmq_recv(theirs), &p, case);
                zmq_send(theirs, &reply(&p));
            }
            zmq_ask_all(theirs, case);
        });
        ask_all(pair.as_socket(), case).await;
        for p in payloads() {
            let message = recv(pair.as_socket()).await;
            assert_frames(&message, &p, case);
            send(pair.as_socket(), &reply(&message)).await;
        }
        remote.finish().await;
        assert_clean(pair.as_socket(), case);
    }
}

#[compio::test]
async fn pull_monocoque_keeps_messages_of_libzmq_push_that_left() {
    // A libzmq PUSH that sends a batch and closes (with a linger, so it is written):
    // libzmq's own PULL delivers every message; so should ours.
    for transport in [Transport::Tcp, Transport::Ipc] {
        let case = Case {
            transport,
            binder: Binder::Monocoque,
        };
        let pull = PullSocket::new();
        let (push, _ipc) = link(case, pull.as_socket(), zmq::PUSH, |s| {
            s.set_linger(2000).unwrap();
        })
        .await;
        let (ended_tx, ended_rx) = oneshot::channel();
        let handle = std::thread::spawn(move || {
            for i in 0..PER_SENDER {
                zmq_send(&push, &numbered(i));
            }
            drop(push); // flushes within the linger, then closes the connection
            let _ = ended_tx.send(());
        });
        within("libzmq push thread", ended_rx).await.unwrap();
        handle.join().unwrap();
        // Read nothing until the connection is gone.
        // Every connection change wakes `wait_for_peers`, which checks its condition
        // against the socket as it is then; a condition on the peer count alone can
        // miss a handshake and a disconnect handled in one turn (as on epoll).
        within(
            "disconnect",
            pull.wait_for_peers(|_| pull.stats().disconnects > 0),
        )
        .await;
        // Connection accepted and ended (no protocol error): its messages were read.
        let stats = pull.stats();
        assert_eq!((stats.handshakes, stats.disconnects), (1, 1), "{case:?}");
        assert_eq!(stats.protocol_errors, 0, "{case:?}");
        for i in 0..PER_SENDER {
            assert_frames(&recv(pull.as_socket()).await, &numbered(i), case);
        }
    }
}

// ------------------------------------------------------------- several peers

const SENDERS: usize = 3;
const PER_SENDER: usize = 100;

#[compio::test]
async fn pull_monocoque_from_three_libzmq_pushes() {
    for transport in [Transport::Tcp, Transport::Ipc] {
        let case = Case {
            transport,
            binder: Binder::Monocoque,
        };
        let pull = PullSocket::new();
        let mut remotes = Vec::new();
        let mut files = Vec::new();
        for sender in 0..SENDERS {
            let (push, file) = link(case, pull.as_socket(), zmq::PUSH, |_| {}).await;
            files.extend(file);
            remotes.push(Remote::spawn(
                format!("libzmq-push-{sender}"),
                push,
                move |push, _| {
                    for i in 0..PER_SENDER {
                        push.send(format!("{sender}:{i}").as_bytes(), 0).unwrap();
                    }
                },
            ));
        }
        let mut next = [0usize; SENDERS];
        for _ in 0..SENDERS * PER_SENDER {
            let message = recv(pull.as_socket()).await;
            assert_eq!(message.len(), 1, "{case:?}");
            let text = String::from_utf8(message[0].clone()).unwrap();
            let (sender, i) = text.split_once(':').unwrap();
            let (sender, i): (usize, usize) = (sender.parse().unwrap(), i.parse().unwrap());
            assert_eq!(i, next[sender], "{case:?}: sender {sender} out of order");
            next[sender] += 1;
        }
        assert_eq!(next, [PER_SENDER; SENDERS], "{case:?}");
        for remote in remotes {
            remote.finish().await;
        }
        assert_clean(pull.as_socket(), case);
        assert_eq!(pull.stats().handshakes, SENDERS as u64, "{case:?}");
    }
}

#[compio::test]
async fn router_monocoque_with_three_libzmq_dealers() {
    const ROUNDS: usize = 20;
    for transport in [Transport::Tcp, Transport::Ipc] {
        let case = Case {
            transport,
            binder: Binder::Monocoque,
        };
        let router = RouterSocket::new();
        let mut remotes = Vec::new();
        let mut files = Vec::new();
        for dealer in 0..SENDERS {
            let name = format!("dealer-{dealer}");
            let identity = name.clone().into_bytes();
            let (sock, file) = link(case, router.as_socket(), zmq::DEALER, |s| {
                s.set_identity(&identity).unwrap();
            })
            .await;
            files.extend(file);
            remotes.push(Remote::spawn(name.clone(), sock, move |sock, _| {
                for i in 0..ROUNDS {
                    let request = vec![format!("{name} asks {i}").into_bytes()];
                    zmq_send(sock, &request);
                    let want = vec![format!("for {name}").into_bytes(), request[0].clone()];
                    assert_frames(&zmq_recv(sock), &want, case);
                }
            }));
        }
        let mut per_dealer = [0usize; SENDERS];
        for _ in 0..SENDERS * ROUNDS {
            let mut request = recv(router.as_socket()).await;
            let id = request.remove(0);
            let name = String::from_utf8(id.clone()).unwrap();
            let n: usize = name.strip_prefix("dealer-").unwrap().parse().unwrap();
            assert!(
                request[0].starts_with(name.as_bytes()),
                "{case:?}: {name} got {}",
                short(&request)
            );
            per_dealer[n] += 1;
            let answer = vec![id, format!("for {name}").into_bytes(), request[0].clone()];
            send(router.as_socket(), &answer).await;
        }
        assert_eq!(per_dealer, [ROUNDS; SENDERS], "{case:?}");
        for remote in remotes {
            remote.finish().await;
        }
        assert_clean(router.as_socket(), case);
        assert_eq!(router.stats().handshakes, SENDERS as u64, "{case:?}");
    }
}
