//! Resident memory while receiving one 64 MiB message: the body goes into one buffer
//! of its declared size as it arrives, so the peak is about the message's own size
//! (libzmq's is 1.0x; before the change this was 3.0x: read pages held until the frame
//! was whole, then copied).
//!
//! One test in its own binary, so no other test's memory moves the figure. The sender
//! is a thread writing raw ZMTP from one reused 64 KiB buffer, so it adds nothing.

mod common;
use common::within_for;

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use monocoque_zmtp::proto::command::Command;
use monocoque_zmtp::proto::greeting::{Greeting, MechanismName};
use monocoque_zmtp::proto::socket_type::SocketType;
use monocoque_zmtp::socket::PullSocket;

const SIZE: usize = 64 << 20;
const CHUNK: usize = 64 << 10;

/// A field of /proc/self/status, in bytes.
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"));
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("a number of kB");
    kib * 1024
}

/// Writes a PUSH peer's greeting and READY, then one frame of `SIZE` bytes.
fn send_large_message(port: u16) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .write_all(&Greeting::new(MechanismName::NULL, false).encode())
        .unwrap();
    let mut ready = bytes::BytesMut::new();
    Command::ready(SocketType::Push, None).encode(&mut ready);
    stream.write_all(&ready).unwrap();
    let mut header = vec![0x02];
    header.extend_from_slice(&(SIZE as u64).to_be_bytes());
    stream.write_all(&header).unwrap();
    let chunk: Vec<u8> = (0..CHUNK).map(|i| (i % 251) as u8).collect();
    for _ in 0..SIZE / CHUNK {
        stream.write_all(&chunk).unwrap();
    }
    // Keep the connection until the receiver is done.
    let mut sink = [0u8; 256];
    let _ = std::io::Read::read(&mut stream, &mut sink);
}

#[compio::test]
async fn a_64_mib_message_costs_about_its_own_size_in_resident_memory() {
    let pull = PullSocket::new();
    let endpoint = pull.bind("tcp://127.0.0.1:0").await.unwrap();
    let port: u16 = endpoint.rsplit(':').next().unwrap().parse().unwrap();
    // Warm up the runtime and allocator, then reset the peak to the current size.
    let before = status_bytes("VmRSS:");
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak RSS");
    let sender = std::thread::spawn(move || send_large_message(port));
    let message = within_for(Duration::from_secs(60), "the large message", pull.recv())
        .await
        .unwrap();
    assert_eq!(message.len(), 1);
    assert_eq!(message[0].len(), SIZE);
    assert!(
        message[0]
            .iter()
            .enumerate()
            .all(|(i, &b)| b == ((i % CHUNK) % 251) as u8)
    );
    let peak = status_bytes("VmHWM:");
    let ratio = peak.saturating_sub(before) as f64 / SIZE as f64;
    println!("peak resident growth: {ratio:.3}x the message size");
    assert!(
        ratio <= 1.1,
        "peak resident growth {ratio:.3}x the message size"
    );
    drop(message);
    pull.close().await;
    sender.join().unwrap();
}
