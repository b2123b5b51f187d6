//! Weather update server (the ZeroMQ guide's `wuserver`): a PUB socket bound to
//! `tcp://*:5556` and `ipc://weather.ipc` publishes random weather updates forever,
//! each one frame of text "zipcode temperature relhumidity" (`"%05d %d %d"`), zipcodes
//! 00000 to 99999.
//!
//! Run it, then one or more clients:
//!
//! ```text
//! cargo run --example wuserver
//! cargo run --example wuclient            # zipcode 10001
//! cargo run --example wuclient -- "42 "   # any prefix of an update
//! ```
//!
//! Stop it with Ctrl-C.

use std::time::{SystemTime, UNIX_EPOCH};

use monocoque::PubSocket;

/// xorshift64: a small, fast PRNG, plenty for fake weather.
struct XorShift64(u64);

impl XorShift64 {
    fn from_clock() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        // The state must never be zero.
        XorShift64(nanos | 1)
    }

    /// A number in `0..n` (the guide's `randof`).
    fn below(&mut self, n: u32) -> i32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        ((x >> 32) % u64::from(n)) as i32
    }
}

#[compio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let publisher = PubSocket::new();
    publisher.bind("tcp://*:5556").await?;
    publisher.bind("ipc://weather.ipc").await?;
    println!("wuserver: PUB bound to tcp://*:5556 and ipc://weather.ipc");

    let mut rng = XorShift64::from_clock();
    loop {
        let zipcode = rng.below(100_000);
        let temperature = rng.below(215) - 80;
        let relhumidity = rng.below(50) + 10;
        let update = format!("{zipcode:05} {temperature} {relhumidity}");
        publisher.send(update).await?;
    }
}
