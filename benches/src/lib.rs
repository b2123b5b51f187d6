//! The harnesses behind `benches/throughput.rs`: the same workloads on monocoque and on
//! libzmq (the `zmq` crate), with sender and receiver in one process.
//!
//! - monocoque: one compio runtime per harness; the sender is a spawned task and the
//!   receiver the task driven by `block_on`.
//! - libzmq: one context; the sender runs on its own thread (the socket is moved to it
//!   for each run and back), the receiver on the calling thread.
//!
//! Each sender allocates every message and copies the payload into it (monocoque
//! `Bytes::copy_from_slice`, libzmq `send(&[u8])`), so both do the same work per
//! message. Connections are made, and for PUB/SUB the subscriptions established, before
//! anything is timed. PUB/SUB's high-water marks are unlimited (0) so PUB never
//! drops; the other patterns keep the default (1000), so a sender that outruns its
//! receiver waits instead of queuing without bound (with unlimited marks a second of
//! 1 KiB PUSH/PULL traffic on libzmq queued about half a gigabyte).
//!
//! PUB/SUB with N subscribers: the publisher is an XPUB (its send path is PUB's) and
//! each SUB subscribes to everything plus a marker topic `[0xff, i]` that is never
//! published, sent after "" on the same connection; the harness is ready when the
//! XPUB has reported N distinct markers. All N SUBs are read on one thread (monocoque:
//! one task each on the harness's runtime; libzmq: the calling thread, draining each
//! socket with non-blocking receives and `zmq::poll` when none has a message). A run
//! of `count` messages ends when every subscriber has received all of them.

use std::future::Future;
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use compio::runtime::Runtime;
use futures::executor::block_on;
use monocoque::{Context, Socket, SocketHandle, SocketOptions, SocketType};

/// The pair of sockets a one-way workload uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// PUSH connects, PULL binds.
    PushPull,
    /// DEALER connects and sends, ROUTER binds and receives `[routing id, payload]`.
    DealerRouter,
    /// XPUB binds and sends, this many SUB sockets (1 to 255), subscribed to
    /// everything, connect.
    PubSub(usize),
}

impl Pattern {
    fn monocoque(self) -> (SocketType, SocketType) {
        match self {
            Pattern::PushPull => (SocketType::Push, SocketType::Pull),
            Pattern::DealerRouter => (SocketType::Dealer, SocketType::Router),
            Pattern::PubSub(_) => (SocketType::Xpub, SocketType::Sub),
        }
    }

    fn libzmq(self) -> (zmq::SocketType, zmq::SocketType) {
        match self {
            Pattern::PushPull => (zmq::PUSH, zmq::PULL),
            Pattern::DealerRouter => (zmq::DEALER, zmq::ROUTER),
            Pattern::PubSub(_) => (zmq::XPUB, zmq::SUB),
        }
    }

    /// Number of receiving sockets.
    fn receivers(self) -> usize {
        match self {
            Pattern::PubSub(n) => {
                assert!((1..=255).contains(&n), "1 to 255 subscribers");
                n
            }
            _ => 1,
        }
    }
}

/// The topic subscriber `index` adds after "", so the XPUB can tell when all are there.
fn marker(index: usize) -> [u8; 2] {
    [0xff, index as u8]
}

/// Whether an XPUB report is a new marker; `seen` remembers the ones reported.
fn new_marker(report: &[u8], seen: &mut [bool; 256]) -> bool {
    match *report {
        [1, 0xff, index] => !std::mem::replace(&mut seen[usize::from(index)], true),
        _ => false,
    }
}

/// Where the sockets meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `tcp://127.0.0.1` on an ephemeral port.
    Tcp,
    /// A fresh `ipc://` path under the temporary directory.
    Ipc,
}

impl Transport {
    /// The endpoint to bind; `libzmq` picks libzmq's wildcard syntax.
    fn bind_endpoint(self, libzmq: bool) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        match self {
            Transport::Tcp if libzmq => "tcp://127.0.0.1:*".to_string(),
            Transport::Tcp => "tcp://127.0.0.1:0".to_string(),
            // libzmq removes a wildcard's socket file (and its directory) on close,
            // but leaves a named one behind.
            Transport::Ipc if libzmq => "ipc://*".to_string(),
            Transport::Ipc => format!(
                "ipc://{}/monocoque-bench-{}-{}",
                std::env::temp_dir().display(),
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ),
        }
    }
}

fn unlimited() -> SocketOptions {
    SocketOptions::default().sndhwm(0).rcvhwm(0)
}

/// A monocoque sender and its receiver(s); [`run`](Self::run) moves messages one way.
#[derive(Debug)]
pub struct MonocoqueOneWay {
    // Sockets first: they are dropped inside the runtime, before it.
    sockets: Option<(Rc<Socket>, Vec<Rc<Socket>>)>,
    size: usize,
    runtime: Runtime,
}

impl MonocoqueOneWay {
    /// Connects a `pattern` pair over `transport` for messages of `size` bytes.
    pub fn new(pattern: Pattern, transport: Transport, size: usize) -> Self {
        let runtime = Runtime::new().expect("compio runtime");
        let sockets = runtime.block_on(async {
            match pattern {
                Pattern::PubSub(n) => Self::pub_sub(n, transport).await,
                _ => Self::pair(pattern, transport, size).await,
            }
        });
        MonocoqueOneWay {
            sockets: Some(sockets),
            size,
            runtime,
        }
    }

    /// PUSH/PULL, DEALER/ROUTER: the receiver binds.
    async fn pair(
        pattern: Pattern,
        transport: Transport,
        size: usize,
    ) -> (Rc<Socket>, Vec<Rc<Socket>>) {
        let (tx_type, rx_type) = pattern.monocoque();
        let tx = Socket::new(tx_type);
        let rx = Socket::new(rx_type);
        let bound = rx.bind(&transport.bind_endpoint(false)).await.unwrap();
        tx.connect(&bound).await.unwrap();
        tx.wait_for_peers(|n| n == 1).await;
        rx.wait_for_peers(|n| n == 1).await;
        // Until a message gets through, then drain the extra probes.
        loop {
            tx.send(vec![0u8; size]).await.unwrap();
            let wait = Duration::from_millis(20);
            if compio::time::timeout(wait, rx.recv()).await.is_ok() {
                break;
            }
        }
        while compio::time::timeout(Duration::from_millis(50), rx.recv())
            .await
            .is_ok()
        {}
        (Rc::new(tx), vec![Rc::new(rx)])
    }

    /// XPUB binds, `subscribers` SUBs connect; ready when every marker has arrived.
    async fn pub_sub(subscribers: usize, transport: Transport) -> (Rc<Socket>, Vec<Rc<Socket>>) {
        let xpub = Socket::with_options(SocketType::Xpub, unlimited());
        let bound = xpub.bind(&transport.bind_endpoint(false)).await.unwrap();
        let count = Pattern::PubSub(subscribers).receivers();
        let subs = connect_subscribers(&bound, count).await;
        await_markers(&xpub, count).await;
        (Rc::new(xpub), subs)
    }

    /// Sends `count` messages and receives them (every receiver all of them); the time
    /// from the start of sending to the last message received.
    pub fn run(&self, count: u64) -> Duration {
        let (tx, receivers) = self.sockets.as_ref().unwrap();
        let tx = tx.clone();
        let receivers = receivers.clone();
        let size = self.size;
        self.runtime.block_on(async move {
            let template = vec![0u8; size];
            let start = Instant::now();
            let sender = compio::runtime::spawn(async move {
                for _ in 0..count {
                    tx.send(Bytes::copy_from_slice(&template)).await.unwrap();
                }
            });
            let last = receive_on_each(&receivers, count, size).await;
            sender.await.unwrap();
            last.max(start) - start
        })
    }
}

/// SUBs connected to `bound`, each subscribed to everything, then to its marker; the
/// XPUB's reports of the markers tell when all are there ([`await_markers`]).
async fn connect_subscribers(bound: &str, count: usize) -> Vec<Rc<Socket>> {
    let mut subs = Vec::new();
    for index in 0..count {
        let sub = Socket::with_options(SocketType::Sub, unlimited());
        sub.subscribe("").unwrap();
        sub.connect(bound).await.unwrap();
        // "" goes out on the handshake; the marker, queued after it, follows.
        sub.wait_for_peers(|n| n == 1).await;
        sub.subscribe(marker(index)).unwrap();
        subs.push(Rc::new(sub));
    }
    subs
}

/// Returns once `xpub` has reported the markers of `count` subscribers.
async fn await_markers(xpub: &Socket, count: usize) {
    let mut seen = [false; 256];
    let mut missing = count;
    while missing > 0 {
        if new_marker(&xpub.recv().await.unwrap()[0], &mut seen) {
            missing -= 1;
        }
    }
}

/// Receives `count` messages of `size` bytes on each of `receivers`, in a task each;
/// when the last one arrived.
async fn receive_on_each(receivers: &[Rc<Socket>], count: u64, size: usize) -> Instant {
    let tasks: Vec<_> = receivers
        .iter()
        .map(|rx| {
            let rx = rx.clone();
            compio::runtime::spawn(async move {
                for _ in 0..count {
                    let message = rx.recv().await.unwrap();
                    assert_eq!(message.last().map(|f| f.len()), Some(size));
                }
                Instant::now()
            })
        })
        .collect();
    let mut last = None;
    for task in tasks {
        last = last.max(Some(task.await.unwrap()));
    }
    last.unwrap_or_else(Instant::now)
}

impl Drop for MonocoqueOneWay {
    fn drop(&mut self) {
        if let Some(sockets) = self.sockets.take() {
            self.runtime.block_on(async move { drop(sockets) });
        }
    }
}

/// The same workload through socket handles of a [`Context`] with two I/O threads
/// (`monocoque-io2`): sockets are spread over the threads in turn (the sender's on
/// the first, the first receiver's on the second), the sender is a plain thread
/// making blocking sends, and the receivers are read on one more thread, their
/// `recv` futures driven together by `futures::executor`. This is libzmq's own
/// layout (application threads handing messages to I/O threads), with a second I/O
/// thread, so both cores can move bytes.
#[derive(Debug)]
pub struct HandleOneWay {
    tx: SocketHandle,
    receivers: Vec<SocketHandle>,
    size: usize,
    // Last: dropped after the handles, so `terminate` finds them closed.
    context: Option<Context>,
}

impl HandleOneWay {
    /// Connects a `pattern` pair over `transport` for messages of `size` bytes.
    pub fn new(pattern: Pattern, transport: Transport, size: usize) -> Self {
        let context = Context::builder()
            .io_threads(2)
            .build()
            .expect("context with two I/O threads");
        let (tx, receivers) = block_on(async {
            match pattern {
                Pattern::PubSub(n) => Self::pub_sub(&context, n, transport).await,
                _ => Self::pair(&context, pattern, transport, size).await,
            }
        });
        HandleOneWay {
            tx,
            receivers,
            size,
            context: Some(context),
        }
    }

    /// PUSH/PULL, DEALER/ROUTER: the receiver binds; ready once a message got through.
    async fn pair(
        context: &Context,
        pattern: Pattern,
        transport: Transport,
        size: usize,
    ) -> (SocketHandle, Vec<SocketHandle>) {
        let (tx_type, rx_type) = pattern.monocoque();
        let tx = context.socket(tx_type).unwrap();
        let rx = context.socket(rx_type).unwrap();
        let bound = rx.bind(&transport.bind_endpoint(false)).await.unwrap();
        tx.connect(&bound).await.unwrap();
        tx.send(vec![0u8; size]).await.unwrap();
        rx.recv().await.unwrap();
        (tx, vec![rx])
    }

    /// XPUB binds, `subscribers` SUBs connect; ready when every marker has arrived.
    async fn pub_sub(
        context: &Context,
        subscribers: usize,
        transport: Transport,
    ) -> (SocketHandle, Vec<SocketHandle>) {
        let xpub = context
            .socket_with_options(SocketType::Xpub, unlimited())
            .unwrap();
        let bound = xpub.bind(&transport.bind_endpoint(false)).await.unwrap();
        let mut subs = Vec::new();
        for index in 0..Pattern::PubSub(subscribers).receivers() {
            let sub = context
                .socket_with_options(SocketType::Sub, unlimited())
                .unwrap();
            sub.subscribe("").await.unwrap();
            sub.subscribe(marker(index)).await.unwrap();
            sub.connect(&bound).await.unwrap();
            subs.push(sub);
        }
        let mut seen = [false; 256];
        let mut missing = subscribers;
        while missing > 0 {
            if new_marker(&xpub.recv().await.unwrap()[0], &mut seen) {
                missing -= 1;
            }
        }
        (xpub, subs)
    }

    /// Sends `count` messages and receives them (every receiver all of them); the time
    /// from the start of sending to the last message received.
    pub fn run(&self, count: u64) -> Duration {
        let size = self.size;
        let start = Instant::now();
        std::thread::scope(|threads| {
            threads.spawn(|| {
                let template = vec![0u8; size];
                for _ in 0..count {
                    let message = Bytes::copy_from_slice(&template);
                    self.tx.send_blocking(message, None).unwrap();
                }
            });
            let last = threads.spawn(|| {
                block_on(futures::future::join_all(
                    self.receivers.iter().map(|rx| receive(rx, count, size)),
                ))
                .into_iter()
                .max()
            });
            last.join().unwrap().unwrap_or(start) - start
        })
    }
}

/// Receives `count` messages of `size` bytes on `rx`; when the last one arrived.
async fn receive(rx: &SocketHandle, count: u64, size: usize) -> Instant {
    for _ in 0..count {
        let message = rx.recv().await.unwrap();
        assert_eq!(message.last().map(|f| f.len()), Some(size));
    }
    Instant::now()
}

impl Drop for HandleOneWay {
    fn drop(&mut self) {
        self.receivers.clear();
        if let Some(context) = self.context.take() {
            context.terminate();
        }
    }
}

/// PUB/SUB with native sockets on two threads, each running its own compio runtime
/// (`monocoque-2t`): the XPUB on one, every SUB on the other. This is how a compio
/// application spreads sockets over cores without handles: no hop between an
/// application thread and an I/O thread, and each core moves bytes for one end.
#[derive(Debug)]
pub struct ThreadsPubSub {
    publisher: Worker,
    subscribers: Worker,
}

/// A thread that owns a runtime and its sockets, and runs one job per count it is
/// sent; it answers each with when the job ended. Between jobs the runtime keeps
/// running, so the connections go on writing what the last job queued.
#[derive(Debug)]
struct Worker {
    jobs: Option<futures::channel::mpsc::UnboundedSender<u64>>,
    done: mpsc::Receiver<Instant>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Worker {
    /// Starts a thread that builds its state with `setup` (then answers once), then
    /// runs `job` per count.
    fn start<S, F, J>(setup: impl FnOnce() -> F + Send + 'static, job: J) -> Worker
    where
        F: Future<Output = S>,
        J: for<'a> Fn(&'a S, u64) -> std::pin::Pin<Box<dyn Future<Output = ()> + 'a>>,
        J: Send + 'static,
    {
        let (jobs, mut job_rx) = futures::channel::mpsc::unbounded::<u64>();
        let (done_tx, done) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = Runtime::new().expect("compio runtime");
            runtime.block_on(async move {
                let state = setup().await;
                let _ = done_tx.send(Instant::now());
                while let Some(count) = futures::StreamExt::next(&mut job_rx).await {
                    job(&state, count).await;
                    if done_tx.send(Instant::now()).is_err() {
                        break;
                    }
                }
            });
        });
        Worker {
            jobs: Some(jobs),
            done,
            thread: Some(thread),
        }
    }

    fn submit(&self, count: u64) {
        self.jobs.as_ref().unwrap().unbounded_send(count).unwrap();
    }

    fn wait(&self) -> Instant {
        self.done.recv().expect("worker thread ended")
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl ThreadsPubSub {
    /// An XPUB and `subscribers` SUBs over `transport`, for messages of `size` bytes.
    pub fn new(subscribers: usize, transport: Transport, size: usize) -> Self {
        let count = Pattern::PubSub(subscribers).receivers();
        let (bound_tx, bound_rx) = mpsc::channel();
        let publisher = Worker::start(
            move || async move {
                let xpub = Socket::with_options(SocketType::Xpub, unlimited());
                let bound = xpub.bind(&transport.bind_endpoint(false)).await.unwrap();
                bound_tx.send(bound).unwrap();
                await_markers(&xpub, count).await;
                xpub
            },
            move |xpub: &Socket, count| {
                Box::pin(async move {
                    let template = vec![0u8; size];
                    for _ in 0..count {
                        xpub.send(Bytes::copy_from_slice(&template)).await.unwrap();
                    }
                })
            },
        );
        let bound: String = bound_rx.recv().unwrap();
        let subscribers = Worker::start(
            move || async move { connect_subscribers(&bound, count).await },
            move |subs: &Vec<Rc<Socket>>, count| {
                Box::pin(async move {
                    receive_on_each(subs, count, size).await;
                })
            },
        );
        // Both ready: every SUB connected and its subscriptions reported.
        subscribers.wait();
        publisher.wait();
        ThreadsPubSub {
            publisher,
            subscribers,
        }
    }

    /// Publishes `count` messages; the time from the start of sending to the last
    /// message received by every subscriber.
    pub fn run(&self, count: u64) -> Duration {
        let start = Instant::now();
        self.subscribers.submit(count);
        self.publisher.submit(count);
        let last = self.subscribers.wait();
        self.publisher.wait();
        last - start
    }
}

/// A libzmq sender and its receiver(s); [`run`](Self::run) moves messages one way.
pub struct LibzmqOneWay {
    tx: Option<zmq::Socket>,
    receivers: Vec<zmq::Socket>,
    size: usize,
    _context: zmq::Context,
}

// `zmq::Socket` has no `Debug`.
impl std::fmt::Debug for LibzmqOneWay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LibzmqOneWay")
            .field("size", &self.size)
            .field("receivers", &self.receivers.len())
            .finish()
    }
}

impl LibzmqOneWay {
    /// Connects a `pattern` pair over `transport` for messages of `size` bytes.
    pub fn new(pattern: Pattern, transport: Transport, size: usize) -> Self {
        let context = zmq::Context::new();
        let (tx_type, rx_type) = pattern.libzmq();
        let new_socket = |socket_type| {
            let socket = context.socket(socket_type).unwrap();
            if let Pattern::PubSub(_) = pattern {
                socket.set_sndhwm(0).unwrap();
                socket.set_rcvhwm(0).unwrap();
            }
            socket
        };
        let tx = new_socket(tx_type);
        let receivers: Vec<zmq::Socket> = (0..pattern.receivers())
            .map(|_| new_socket(rx_type))
            .collect();
        if let Pattern::PubSub(subscribers) = pattern {
            tx.bind(&transport.bind_endpoint(true)).unwrap();
            let bound = tx.get_last_endpoint().unwrap().unwrap();
            for (index, sub) in receivers.iter().enumerate() {
                // A new connection gets the subscriptions in trie order: "" first.
                sub.set_subscribe(b"").unwrap();
                sub.set_subscribe(&marker(index)).unwrap();
                sub.connect(&bound).unwrap();
            }
            let mut seen = [false; 256];
            let mut missing = subscribers;
            while missing > 0 {
                if new_marker(&tx.recv_bytes(0).unwrap(), &mut seen) {
                    missing -= 1;
                }
            }
        } else {
            let rx = &receivers[0];
            rx.bind(&transport.bind_endpoint(true)).unwrap();
            tx.connect(&rx.get_last_endpoint().unwrap().unwrap())
                .unwrap();
            // Until a message gets through, then drain the extra probes.
            let mut message = zmq::Message::new();
            rx.set_rcvtimeo(20).unwrap();
            loop {
                tx.send(vec![0u8; size], 0).unwrap();
                if rx.recv(&mut message, 0).is_ok() {
                    break;
                }
            }
            rx.set_rcvtimeo(50).unwrap();
            while rx.recv(&mut message, 0).is_ok() {}
            rx.set_rcvtimeo(-1).unwrap();
        }
        LibzmqOneWay {
            tx: Some(tx),
            receivers,
            size,
            _context: context,
        }
    }

    /// Sends `count` messages from a thread and receives them on this one (every
    /// receiver all of them); the time from the start of sending to the last message
    /// received.
    pub fn run(&mut self, count: u64) -> Duration {
        let tx = self.tx.take().unwrap();
        let size = self.size;
        let start = Instant::now();
        let sender = std::thread::spawn(move || {
            let template = vec![0u8; size];
            for _ in 0..count {
                tx.send(&template[..], 0).unwrap();
            }
            tx
        });
        if let [rx] = &self.receivers[..] {
            receive_all(rx, count, size);
        } else {
            receive_all_of_many(&self.receivers, count, size);
        }
        let elapsed = start.elapsed();
        self.tx = Some(sender.join().unwrap());
        elapsed
    }
}

/// Reads one libzmq message to its last frame (a ROUTER delivers the routing id
/// first) and checks the size; `flags` 0 or `zmq::DONTWAIT`. False if none was there.
fn receive_one(rx: &zmq::Socket, message: &mut zmq::Message, size: usize, flags: i32) -> bool {
    match rx.recv(message, flags) {
        Ok(()) => {}
        Err(zmq::Error::EAGAIN) => return false,
        Err(e) => panic!("recv: {e}"),
    }
    while message.get_more() {
        rx.recv(message, 0).unwrap();
    }
    assert_eq!(message.len(), size);
    true
}

/// Blocking receives of `count` messages from one socket.
fn receive_all(rx: &zmq::Socket, count: u64, size: usize) {
    let mut message = zmq::Message::new();
    for _ in 0..count {
        receive_one(rx, &mut message, size, 0);
    }
}

/// `count` messages from each of `receivers`, on this thread: drains every socket
/// with non-blocking receives, and waits in `zmq::poll` when none had a message.
fn receive_all_of_many(receivers: &[zmq::Socket], count: u64, size: usize) {
    let mut remaining = vec![count; receivers.len()];
    let mut message = zmq::Message::new();
    while remaining.iter().any(|&r| r > 0) {
        let mut received = false;
        for (rx, remaining) in receivers.iter().zip(remaining.iter_mut()) {
            while *remaining > 0 && receive_one(rx, &mut message, size, zmq::DONTWAIT) {
                *remaining -= 1;
                received = true;
            }
        }
        if !received {
            let mut items: Vec<zmq::PollItem> = receivers
                .iter()
                .zip(&remaining)
                .filter(|(_, remaining)| **remaining > 0)
                .map(|(rx, _)| rx.as_poll_item(zmq::POLLIN))
                .collect();
            if !items.is_empty() {
                zmq::poll(&mut items, -1).unwrap();
            }
        }
    }
}

/// REQ/REP on monocoque: [`run`](Self::run) does round trips.
#[derive(Debug)]
pub struct MonocoqueReqRep {
    sockets: Option<(Socket, Rc<Socket>)>,
    size: usize,
    runtime: Runtime,
}

impl MonocoqueReqRep {
    /// Connects a REQ to a REP over `transport`, for messages of `size` bytes.
    pub fn new(transport: Transport, size: usize) -> Self {
        let runtime = Runtime::new().expect("compio runtime");
        let sockets = runtime.block_on(async {
            let rep = Socket::new(SocketType::Rep);
            let bound = rep.bind(&transport.bind_endpoint(false)).await.unwrap();
            let req = Socket::new(SocketType::Req);
            req.connect(&bound).await.unwrap();
            req.wait_for_peers(|n| n == 1).await;
            rep.wait_for_peers(|n| n == 1).await;
            (req, Rc::new(rep))
        });
        MonocoqueReqRep {
            sockets: Some(sockets),
            size,
            runtime,
        }
    }

    /// `count` round trips; the REP echoes from a spawned task.
    pub fn run(&self, count: u64) -> Duration {
        let (req, rep) = self.sockets.as_ref().unwrap();
        let rep = rep.clone();
        let size = self.size;
        self.runtime.block_on(async move {
            let echo = compio::runtime::spawn(async move {
                for _ in 0..count {
                    let request = rep.recv().await.unwrap();
                    rep.send(request).await.unwrap();
                }
            });
            let mut message = monocoque::Message::from(Bytes::from(vec![0u8; size]));
            let start = Instant::now();
            for _ in 0..count {
                req.send(message).await.unwrap();
                message = req.recv().await.unwrap();
            }
            let elapsed = start.elapsed();
            assert_eq!(message.byte_len(), size);
            echo.await.unwrap();
            elapsed
        })
    }
}

impl Drop for MonocoqueReqRep {
    fn drop(&mut self) {
        if let Some(sockets) = self.sockets.take() {
            self.runtime.block_on(async move { drop(sockets) });
        }
    }
}

/// REQ/REP on libzmq: [`run`](Self::run) does round trips.
pub struct LibzmqReqRep {
    req: zmq::Socket,
    rep: Option<zmq::Socket>,
    size: usize,
    _context: zmq::Context,
}

// `zmq::Socket` has no `Debug`.
impl std::fmt::Debug for LibzmqReqRep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LibzmqReqRep")
            .field("size", &self.size)
            .finish()
    }
}

impl LibzmqReqRep {
    /// Connects a REQ to a REP over `transport`, for messages of `size` bytes.
    pub fn new(transport: Transport, size: usize) -> Self {
        let context = zmq::Context::new();
        let rep = context.socket(zmq::REP).unwrap();
        rep.bind(&transport.bind_endpoint(true)).unwrap();
        let bound = rep.get_last_endpoint().unwrap().unwrap();
        let req = context.socket(zmq::REQ).unwrap();
        req.connect(&bound).unwrap();
        // One round trip so the connection is up before anything is timed.
        req.send(&b"warm-up"[..], 0).unwrap();
        let mut message = zmq::Message::new();
        rep.recv(&mut message, 0).unwrap();
        rep.send(message, 0).unwrap();
        req.recv_bytes(0).unwrap();
        LibzmqReqRep {
            req,
            rep: Some(rep),
            size,
            _context: context,
        }
    }

    /// `count` round trips; the REP echoes from a thread.
    pub fn run(&mut self, count: u64) -> Duration {
        let rep = self.rep.take().unwrap();
        let echo = std::thread::spawn(move || {
            for _ in 0..count {
                let mut message = zmq::Message::new();
                rep.recv(&mut message, 0).unwrap();
                rep.send(message, 0).unwrap();
            }
            rep
        });
        let mut message = zmq::Message::from(vec![0u8; self.size]);
        let start = Instant::now();
        for _ in 0..count {
            self.req.send(message, 0).unwrap();
            message = zmq::Message::new();
            self.req.recv(&mut message, 0).unwrap();
        }
        let elapsed = start.elapsed();
        assert_eq!(message.len(), self.size);
        self.rep = Some(echo.join().unwrap());
        elapsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each harness moves a few messages, so the benchmarks cannot hang or miscount.
    #[test]
    fn harnesses_run() {
        let patterns = [
            Pattern::PushPull,
            Pattern::DealerRouter,
            Pattern::PubSub(1),
            Pattern::PubSub(8),
        ];
        for pattern in patterns {
            for transport in [Transport::Tcp, Transport::Ipc] {
                let monocoque = MonocoqueOneWay::new(pattern, transport, 64);
                monocoque.run(500);
                monocoque.run(500);
                let mut libzmq = LibzmqOneWay::new(pattern, transport, 64);
                libzmq.run(500);
                libzmq.run(500);
            }
        }
        for transport in [Transport::Tcp, Transport::Ipc] {
            for subscribers in [1, 8] {
                let threads = ThreadsPubSub::new(subscribers, transport, 64);
                threads.run(500);
                threads.run(500);
            }
        }
        for transport in [Transport::Tcp, Transport::Ipc] {
            MonocoqueReqRep::new(transport, 64).run(50);
            LibzmqReqRep::new(transport, 64).run(50);
        }
    }
}
