//! Heap allocations per message in steady state, counted by a global allocator.
//!
//! The send path is measured against a raw reader that discards bytes, the receive
//! path against a raw writer of pre-encoded frames, so each phase counts one side
//! only (the raw threads allocate nothing in their loops). Figures are printed
//! (`cargo test --release --test allocations -- --nocapture`) and bounded so a
//! regression fails the test.
//!
//! The counters and the resident set are process-wide, so the tests take turns
//! (`one_at_a_time`): run side by side, one test's allocations counted in another's.
// The turn is held across awaits on purpose, on each test's own single thread.
#![allow(clippy::await_holding_lock)]
mod common;
use common::resident_bytes;

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::{Bytes, BytesMut};
use monocoque_zmtp::proto::command::Command;
use monocoque_zmtp::proto::greeting::{Greeting, MechanismName};
use monocoque_zmtp::proto::message::Message;
use monocoque_zmtp::proto::socket_type::SocketType;
use monocoque_zmtp::socket::{PullSocket, PushSocket, SocketHandle};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator, only counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Held for a whole test, so no other test of this file runs meanwhile.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TURN.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

fn handshake_bytes(socket_type: SocketType) -> Vec<u8> {
    let mut out = BytesMut::new();
    out.extend_from_slice(&Greeting::new(MechanismName::NULL, false).encode());
    Command::ready(socket_type, None).encode(&mut out);
    out.to_vec()
}

const WARMUP: u64 = 20_000;
const MEASURED: u64 = 200_000;

/// A raw peer: connects to `addr`, sends `hello` (its handshake) and discards what
/// it reads until the other end closes.
fn read_and_discard(addr: &str, hello: &[u8]) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(hello).unwrap();
    let mut buf = vec![0u8; 1 << 16];
    while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
}

/// A PUSH bound to a raw PULL that discards everything it reads; resolves, with the
/// reader's end, once the PULL is connected.
async fn push_to_raw_reader() -> (PushSocket, futures::channel::oneshot::Receiver<()>) {
    let push = PushSocket::new();
    let endpoint = push.bind("tcp://127.0.0.1:0").await.unwrap();
    let addr = endpoint.trim_start_matches("tcp://").to_string();
    let hello = handshake_bytes(SocketType::Pull);
    let (done, reader) = futures::channel::oneshot::channel::<()>();
    std::thread::spawn(move || {
        read_and_discard(&addr, &hello);
        let _ = done.send(());
    });
    push.wait_for_peers(|n| n == 1).await;
    (push, reader)
}

/// Allocations per message of `MEASURED` sends of `message()`, after a warm-up.
async fn allocations_per_send<M: Into<Message>>(message: impl Fn() -> M) -> f64 {
    let (push, reader) = push_to_raw_reader().await;
    for _ in 0..WARMUP {
        push.send(message()).await.unwrap();
    }
    let before = allocations();
    for _ in 0..MEASURED {
        push.send(message()).await.unwrap();
    }
    let counted = allocations() - before;
    // Dropping the socket closes the connection once the runtime runs its task.
    drop(push);
    let _ = reader.await;
    counted as f64 / MEASURED as f64
}

#[compio::test]
async fn send_path_allocations_per_message() {
    let _turn = one_at_a_time();
    let payload = Bytes::from_static(&[7u8; 64]);
    let per_message = allocations_per_send(|| payload.clone()).await;
    println!("send path: {per_message:.4} allocations per 64 B message");
    // A write the kernel takes at once is a direct `sendmsg` and allocates nothing;
    // only a write that must wait for room goes through the runtime, which boxes it
    // (one per write, 0.0049 per message when every write did).
    assert!(
        per_message < 0.001,
        "send path allocates {per_message} per message"
    );
}

#[compio::test]
async fn borrowed_frames_are_copied_without_an_allocation_each() {
    let _turn = one_at_a_time();
    let template = [7u8; 64];
    let per_message = allocations_per_send(|| &template[..]).await;
    println!("send(&[u8]): {per_message:.4} allocations per 64 B message");
    // One block of 32 KiB (and its shared count) per 512 copies of 64 B; a copy of
    // its own per message would count 1.
    assert!(
        per_message < 0.01,
        "send(&[u8]) allocates {per_message} per message"
    );
}

#[compio::test]
async fn receive_path_allocations_per_message() {
    let _turn = one_at_a_time();
    let pull = PullSocket::new();
    let endpoint = pull.bind("tcp://127.0.0.1:0").await.unwrap();
    let addr = endpoint.trim_start_matches("tcp://").to_string();
    let mut stream = handshake_bytes(SocketType::Push);
    let mut frames = BytesMut::new();
    let message = Message::from(vec![7u8; 64]);
    for _ in 0..(WARMUP + MEASURED) {
        message.encode(&mut frames);
    }
    stream.extend_from_slice(&frames);
    let (done, writer) = futures::channel::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(&stream).unwrap();
        let mut sink = [0u8; 64];
        while matches!(s.read(&mut sink), Ok(n) if n > 0) {}
        let _ = done.send(());
    });
    for _ in 0..WARMUP {
        pull.recv().await.unwrap();
    }
    let before = allocations();
    for _ in 0..MEASURED {
        pull.recv().await.unwrap();
    }
    let per_message = (allocations() - before) as f64 / MEASURED as f64;
    println!("receive path: {per_message:.4} allocations per 64 B message");
    drop(pull);
    let _ = writer.await;
    assert!(
        per_message < 0.05,
        "receive path allocates {per_message} per message"
    );
}

/// Resident memory of idle connections after the handshake: 1,000 DEALERs on one
/// ROUTER, both ends in this process, so each peer costs two connection ends.
#[compio::test]
async fn resident_memory_per_idle_connection() {
    let _turn = one_at_a_time();
    use monocoque_zmtp::socket::{DealerSocket, RouterSocket};
    const PEERS: usize = 1000;
    let router = RouterSocket::new();
    let endpoint = router.bind("tcp://127.0.0.1:0").await.unwrap();
    let before = resident_bytes();
    let dealers: Vec<DealerSocket> = (0..PEERS).map(|_| DealerSocket::new()).collect();
    for d in &dealers {
        d.connect(&endpoint).await.unwrap();
    }
    router.wait_for_peers(|n| n == PEERS).await;
    for d in &dealers {
        d.wait_for_peers(|n| n == 1).await;
    }
    let per_peer = resident_bytes().saturating_sub(before) / PEERS as u64;
    println!(
        "idle peer (both connection ends): {} KiB resident",
        per_peer / 1024
    );
    // Each connection end starts with a 1 KiB read page and no write buffer.
    assert!(per_peer < 32 * 1024, "{per_peer} bytes per idle peer");
    drop(dealers);
    router.wait_for_peers(|n| n == 0).await;
}

/// Allocations per message of `send` through a PUSH handle to a raw reader, after a
/// warm-up.
fn handle_send_allocations(send: impl Fn(&SocketHandle)) -> f64 {
    let _turn = one_at_a_time();
    let context = monocoque_zmtp::socket::Context::new().unwrap();
    let push = context.socket(SocketType::Push).unwrap();
    let endpoint = futures::executor::block_on(push.bind("tcp://127.0.0.1:0")).unwrap();
    let addr = endpoint.trim_start_matches("tcp://").to_string();
    let hello = handshake_bytes(SocketType::Pull);
    let reader = std::thread::spawn(move || read_and_discard(&addr, &hello));
    for _ in 0..WARMUP {
        send(&push);
    }
    let before = allocations();
    for _ in 0..MEASURED {
        send(&push);
    }
    let per_message = (allocations() - before) as f64 / MEASURED as f64;
    push.close();
    context.terminate();
    reader.join().unwrap();
    per_message
}

/// A handle's sends of 1 KiB messages: the I/O thread's writes of them are copied
/// bytes that the kernel takes at once, so they allocate nothing, even when a write
/// carries a message past the write batch.
#[test]
fn handle_send_path_allocations_per_1_kib_message() {
    let payload = Bytes::from(vec![7u8; 1024]);
    let per_message =
        handle_send_allocations(|push| push.send_blocking(payload.clone(), None).unwrap());
    println!("handle send path: {per_message:.4} allocations per 1 KiB message");
    // A write through the runtime is boxed: one per 64 messages (0.0156 each) when
    // every write went that way.
    assert!(
        per_message < 0.005,
        "a handle's send path allocates {per_message} per message"
    );
}

/// `send(&[u8])` copies each message into the sending thread's blocks while the I/O
/// thread still holds the copies before: filled blocks are filled again once their
/// copies are written, rather than allocated anew.
#[test]
fn handle_borrowed_send_allocations_per_1_kib_message() {
    let payload = vec![7u8; 1024];
    let per_message =
        handle_send_allocations(|push| push.send_blocking(&payload[..], None).unwrap());
    println!("handle send path, borrowed: {per_message:.4} allocations per 1 KiB message");
    // A new 32 KiB block per 32 copies, with its shared count, is 0.0625 each.
    assert!(
        per_message < 0.005,
        "a handle's borrowed sends allocate {per_message} per message"
    );
}
