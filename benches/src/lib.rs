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
//! message. Connections are made, and for PUB/SUB the subscription established, before
//! anything is timed. High-water marks are unlimited (0) so PUB never drops.

use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use compio::runtime::Runtime;
use monocoque::{Socket, SocketOptions, SocketType};

/// The pair of sockets a one-way workload uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// PUSH connects, PULL binds.
    PushPull,
    /// DEALER connects and sends, ROUTER binds and receives `[routing id, payload]`.
    DealerRouter,
    /// PUB binds, one SUB subscribed to everything connects.
    PubSub,
}

impl Pattern {
    fn monocoque(self) -> (SocketType, SocketType) {
        match self {
            Pattern::PushPull => (SocketType::Push, SocketType::Pull),
            Pattern::DealerRouter => (SocketType::Dealer, SocketType::Router),
            Pattern::PubSub => (SocketType::Pub, SocketType::Sub),
        }
    }

    fn libzmq(self) -> (zmq::SocketType, zmq::SocketType) {
        match self {
            Pattern::PushPull => (zmq::PUSH, zmq::PULL),
            Pattern::DealerRouter => (zmq::DEALER, zmq::ROUTER),
            Pattern::PubSub => (zmq::PUB, zmq::SUB),
        }
    }

    /// Which side binds: PUB binds and SUB connects, otherwise the receiver binds.
    fn sender_binds(self) -> bool {
        self == Pattern::PubSub
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
    /// The endpoint to bind; `libzmq` picks libzmq's wildcard-port syntax.
    fn bind_endpoint(self, libzmq: bool) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        match self {
            Transport::Tcp if libzmq => "tcp://127.0.0.1:*".to_string(),
            Transport::Tcp => "tcp://127.0.0.1:0".to_string(),
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

/// A monocoque sender/receiver pair; [`run`](Self::run) moves messages one way.
#[derive(Debug)]
pub struct MonocoqueOneWay {
    // Sockets first: they are dropped inside the runtime, before it.
    sockets: Option<(Rc<Socket>, Socket)>,
    size: usize,
    runtime: Runtime,
}

impl MonocoqueOneWay {
    /// Connects a `pattern` pair over `transport` for messages of `size` bytes.
    pub fn new(pattern: Pattern, transport: Transport, size: usize) -> Self {
        let runtime = Runtime::new().expect("compio runtime");
        let (tx_type, rx_type) = pattern.monocoque();
        let sockets = runtime.block_on(async {
            let tx = Socket::with_options(tx_type, unlimited());
            let rx = Socket::with_options(rx_type, unlimited());
            if pattern == Pattern::PubSub {
                rx.subscribe("").unwrap();
            }
            let endpoint = transport.bind_endpoint(false);
            let (binder, connecter) = if pattern.sender_binds() {
                (&tx, &rx)
            } else {
                (&rx, &tx)
            };
            let bound = binder.bind(&endpoint).await.unwrap();
            connecter.connect(&bound).await.unwrap();
            tx.wait_for_peers(|n| n == 1).await;
            rx.wait_for_peers(|n| n == 1).await;
            // Until a message gets through (for PUB/SUB: until the subscription has
            // reached the publisher), then drain the extra probes.
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
            (Rc::new(tx), rx)
        });
        MonocoqueOneWay {
            sockets: Some(sockets),
            size,
            runtime,
        }
    }

    /// Sends `count` messages and receives them; the time from the start of sending to
    /// the last message received.
    pub fn run(&self, count: u64) -> Duration {
        let (tx, rx) = self.sockets.as_ref().unwrap();
        let tx = tx.clone();
        let size = self.size;
        self.runtime.block_on(async move {
            let template = vec![0u8; size];
            let start = Instant::now();
            let sender = compio::runtime::spawn(async move {
                for _ in 0..count {
                    tx.send(Bytes::copy_from_slice(&template)).await.unwrap();
                }
            });
            for _ in 0..count {
                let message = rx.recv().await.unwrap();
                assert_eq!(message.last().map(|f| f.len()), Some(size));
            }
            let elapsed = start.elapsed();
            sender.await.unwrap();
            elapsed
        })
    }
}

impl Drop for MonocoqueOneWay {
    fn drop(&mut self) {
        if let Some(sockets) = self.sockets.take() {
            self.runtime.block_on(async move { drop(sockets) });
        }
    }
}

/// A libzmq sender/receiver pair; [`run`](Self::run) moves messages one way.
pub struct LibzmqOneWay {
    tx: Option<zmq::Socket>,
    rx: zmq::Socket,
    size: usize,
    _context: zmq::Context,
}

// `zmq::Socket` has no `Debug`.
impl std::fmt::Debug for LibzmqOneWay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LibzmqOneWay")
            .field("size", &self.size)
            .finish()
    }
}

impl LibzmqOneWay {
    /// Connects a `pattern` pair over `transport` for messages of `size` bytes.
    pub fn new(pattern: Pattern, transport: Transport, size: usize) -> Self {
        let context = zmq::Context::new();
        let (tx_type, rx_type) = pattern.libzmq();
        let tx = context.socket(tx_type).unwrap();
        let rx = context.socket(rx_type).unwrap();
        for socket in [&tx, &rx] {
            socket.set_sndhwm(0).unwrap();
            socket.set_rcvhwm(0).unwrap();
        }
        if pattern == Pattern::PubSub {
            rx.set_subscribe(b"").unwrap();
        }
        let (binder, connecter) = if pattern.sender_binds() {
            (&tx, &rx)
        } else {
            (&rx, &tx)
        };
        binder.bind(&transport.bind_endpoint(true)).unwrap();
        let bound = binder.get_last_endpoint().unwrap().unwrap();
        connecter.connect(&bound).unwrap();
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
        LibzmqOneWay {
            tx: Some(tx),
            rx,
            size,
            _context: context,
        }
    }

    /// Sends `count` messages from a thread and receives them; the time from the start
    /// of sending to the last message received.
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
        let mut message = zmq::Message::new();
        for _ in 0..count {
            // A ROUTER delivers the routing id first: read to the last frame.
            loop {
                self.rx.recv(&mut message, 0).unwrap();
                if !message.get_more() {
                    break;
                }
            }
            assert_eq!(message.len(), size);
        }
        let elapsed = start.elapsed();
        self.tx = Some(sender.join().unwrap());
        elapsed
    }
}

/// REQ/REP over tcp on monocoque: [`run`](Self::run) does round trips.
#[derive(Debug)]
pub struct MonocoqueReqRep {
    sockets: Option<(Socket, Rc<Socket>)>,
    size: usize,
    runtime: Runtime,
}

impl MonocoqueReqRep {
    /// Connects a REQ to a REP over tcp, for messages of `size` bytes.
    pub fn new(size: usize) -> Self {
        let runtime = Runtime::new().expect("compio runtime");
        let sockets = runtime.block_on(async {
            let rep = Socket::new(SocketType::Rep);
            let bound = rep
                .bind(&Transport::Tcp.bind_endpoint(false))
                .await
                .unwrap();
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

/// REQ/REP over tcp on libzmq: [`run`](Self::run) does round trips.
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
    /// Connects a REQ to a REP over tcp, for messages of `size` bytes.
    pub fn new(size: usize) -> Self {
        let context = zmq::Context::new();
        let rep = context.socket(zmq::REP).unwrap();
        rep.bind(&Transport::Tcp.bind_endpoint(true)).unwrap();
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
        for pattern in [Pattern::PushPull, Pattern::DealerRouter, Pattern::PubSub] {
            for transport in [Transport::Tcp, Transport::Ipc] {
                MonocoqueOneWay::new(pattern, transport, 64).run(500);
                LibzmqOneWay::new(pattern, transport, 64).run(500);
            }
        }
        MonocoqueReqRep::new(64).run(50);
        LibzmqReqRep::new(64).run(50);
    }
}
