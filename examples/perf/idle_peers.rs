//! `idle_peers <endpoint> <peers> bind|connect`: resident memory of idle connections,
//! for the performance issue's targets (a connection end <= 8 KiB resident, a ROUTER
//! with 10,000 idle peers under 100 MiB).
//!
//! - `bind`: a ROUTER binds `endpoint`, waits until `peers` peers completed their
//!   handshakes, lets them sit idle for a moment, and prints its process's resident
//!   set before the first connection and after the last, in total and per peer. It
//!   then exits, closing every connection.
//! - `connect`: `peers` DEALERs, all on this thread, connect to `endpoint` and stay
//!   idle until the ROUTER has gone (every peer disconnected).
//!
//! Run the two as separate processes so that only the ROUTER's side is measured;
//! both need a descriptor limit above `peers` (`ulimit -n 65536`). The resident set
//! comes from `/proc/self/statm` (Linux).
//!
//! ```sh
//! ulimit -n 65536
//! target/release/examples/idle_peers tcp://127.0.0.1:5560 10000 bind &
//! target/release/examples/idle_peers tcp://127.0.0.1:5560 10000 connect
//! ```

#[path = "common.rs"]
mod common;

use std::time::Duration;

use monocoque::{DealerSocket, RouterSocket};

/// How long the peers sit idle before the ROUTER's resident set is read: long enough
/// for every connection's handshake writes to be done and its buffers to settle.
const SETTLE: Duration = Duration::from_millis(500);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [endpoint, peers, role] = args.as_slice() else {
        common::fail("usage: idle_peers <endpoint> <peers> bind|connect");
    };
    let peers: usize = peers
        .parse()
        .unwrap_or_else(|_| common::fail(format_args!("peers: not a number: {peers}")));
    let runtime = compio::runtime::Runtime::new()
        .unwrap_or_else(|e| common::fail(format_args!("cannot create runtime: {e}")));
    match role.as_str() {
        "bind" => runtime.block_on(serve(endpoint, peers)),
        "connect" => runtime.block_on(connect(endpoint, peers)),
        other => common::fail(format_args!("role must be bind or connect, not {other}")),
    }
}

/// The measured side: a ROUTER with `peers` idle peers.
async fn serve(endpoint: &str, peers: usize) {
    let router = RouterSocket::new();
    router
        .bind(endpoint)
        .await
        .unwrap_or_else(|e| common::fail(e));
    let before = resident_bytes();
    router.wait_for_peers(|n| n >= peers).await;
    compio::time::sleep(SETTLE).await;
    let after = resident_bytes();
    let grown = after.saturating_sub(before);
    println!("idle peers: {peers}");
    println!("resident before: {:.1} [MiB]", mib(before));
    println!("resident with peers: {:.1} [MiB]", mib(after));
    println!("resident growth: {:.1} [MiB]", mib(grown));
    println!(
        "per idle peer: {:.2} [KiB]",
        grown as f64 / 1024.0 / peers as f64
    );
}

/// The other side: `peers` DEALERs that stay connected until the ROUTER has gone.
async fn connect(endpoint: &str, peers: usize) {
    let dealers: Vec<DealerSocket> = (0..peers).map(|_| DealerSocket::new()).collect();
    for dealer in &dealers {
        dealer
            .connect(endpoint)
            .await
            .unwrap_or_else(|e| common::fail(e));
    }
    for dealer in &dealers {
        dealer.wait_for_peers(|n| n == 1).await;
    }
    for dealer in &dealers {
        dealer.wait_for_peers(|n| n == 0).await;
    }
}

/// This process's resident set, from `/proc/self/statm` (its second field, in pages).
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm")
        .unwrap_or_else(|e| common::fail(format_args!("/proc/self/statm: {e}")));
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .unwrap_or_else(|| common::fail("/proc/self/statm: no resident field"));
    pages * 4096
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
