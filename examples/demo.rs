//! The main demo: real ZeroMQ sockets over TCP on loopback, in one process.
//!
//! 1. Throughput: a PULL binds `tcp://127.0.0.1:0`, a PUSH connects to it, a spawned
//!    task sends `count` messages of `size` bytes and the main task receives them.
//!    Measured like libzmq's `local_thr`: the clock starts at the first message
//!    received (so connection setup is not counted), and megabits/s =
//!    msg/s * size * 8 / 1e6. The rate is over the `count - 1` messages timed.
//! 2. Latency: REQ/REP round trips, average printed in microseconds.
//! 3. PUB/SUB: a subscriber to "hello" gets a greeting.
//!
//! Run: `cargo run --release --example demo [message-size] [count]`
//! (defaults: 64 bytes, 1,000,000 messages).

use std::error::Error;
use std::time::{Duration, Instant};

use bytes::Bytes;
use monocoque::{PubSocket, PullSocket, PushSocket, RepSocket, ReqSocket, SubSocket};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const ROUND_TRIPS: u32 = 10_000;

#[compio::main]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let size: usize = match args.next() {
        Some(a) => a.parse().map_err(|_| format!("bad message size {a:?}"))?,
        None => 64,
    };
    let count: u64 = match args.next() {
        Some(a) => a.parse().map_err(|_| format!("bad message count {a:?}"))?,
        None => 1_000_000,
    };
    if count < 2 {
        return Err("the message count must be at least 2 (the first one starts the clock)".into());
    }

    throughput(size, count).await?;
    latency(ROUND_TRIPS).await?;
    pub_sub().await?;
    Ok(())
}

/// PUSH -> PULL over TCP: one spawned task sends, the main task receives.
async fn throughput(size: usize, count: u64) -> Result<()> {
    println!("== PUSH/PULL throughput over tcp ==");
    let pull = PullSocket::new();
    let endpoint = pull.bind("tcp://127.0.0.1:0").await?;
    let push = PushSocket::new();
    push.connect(&endpoint).await?;
    println!("PULL bound to {endpoint}, PUSH connected");

    // One payload shared by every message: cloning `Bytes` is a reference count.
    let payload = Bytes::from(vec![0xABu8; size]);
    let sender = compio::runtime::spawn(async move {
        for _ in 0..count {
            push.send(payload.clone()).await?;
        }
        // Wait until everything queued is written before the socket goes away.
        push.close().await;
        Ok::<(), monocoque::Error>(())
    });

    let first = pull.recv().await?;
    let start = Instant::now();
    let mut bytes = first.byte_len() as u64;
    for _ in 1..count {
        bytes += pull.recv().await?.byte_len() as u64;
    }
    let elapsed = start.elapsed();
    sender.await??;

    if bytes != count * size as u64 {
        return Err(format!("received {bytes} bytes, expected {}", count * size as u64).into());
    }
    let secs = elapsed.as_secs_f64().max(1e-9);
    let msg_per_sec = (count - 1) as f64 / secs;
    let megabits = msg_per_sec * size as f64 * 8.0 / 1e6;
    println!("message size:   {size} bytes");
    println!("message count:  {count}");
    println!("elapsed:        {:.3} s", secs);
    println!("throughput:     {msg_per_sec:.0} msg/s");
    println!("throughput:     {megabits:.1} Mb/s");
    println!();
    Ok(())
}

/// REQ -> REP -> REQ round trips; the REP runs as a spawned task.
async fn latency(round_trips: u32) -> Result<()> {
    println!("== REQ/REP round-trip latency over tcp ==");
    let rep = RepSocket::new();
    let endpoint = rep.bind("tcp://127.0.0.1:0").await?;
    let req = ReqSocket::new();
    req.connect(&endpoint).await?;

    let server = compio::runtime::spawn(async move {
        for _ in 0..round_trips {
            let request = rep.recv().await?;
            rep.send(request).await?; // echo
        }
        rep.close().await;
        Ok::<(), monocoque::Error>(())
    });

    // One round trip to connect and warm up before the clock starts.
    req.send("ping").await?;
    req.recv().await?;
    let start = Instant::now();
    for _ in 1..round_trips {
        req.send("ping").await?;
        let reply = req.recv().await?;
        if reply.first().map(|f| &f[..]) != Some(&b"ping"[..]) {
            return Err("REP echoed something else".into());
        }
    }
    let elapsed = start.elapsed();
    server.await??;

    let timed = f64::from(round_trips - 1).max(1.0);
    println!("round trips:    {round_trips}");
    println!(
        "average:        {:.1} us per round trip",
        elapsed.as_secs_f64() * 1e6 / timed
    );
    println!();
    Ok(())
}

/// PUB -> SUB with a topic filter.
async fn pub_sub() -> Result<()> {
    println!("== PUB/SUB ==");
    let publisher = PubSocket::new();
    let endpoint = publisher.bind("tcp://127.0.0.1:0").await?;
    let subscriber = SubSocket::new();
    subscriber.subscribe("hello")?;
    subscriber.connect(&endpoint).await?;

    // A subscription reaches the publisher only after the connection is up, and PUB
    // drops what nobody has subscribed to yet (the "slow joiner"): publish until the
    // subscriber hears something. "weather" never matches the filter.
    let deadline = Instant::now() + Duration::from_secs(5);
    let greeting = loop {
        publisher.send("weather 21C").await?;
        publisher.send("hello from monocoque").await?;
        match compio::time::timeout(Duration::from_millis(10), subscriber.recv()).await {
            Ok(message) => break message?,
            Err(_) if Instant::now() < deadline => continue,
            Err(_) => return Err("no greeting within 5 s".into()),
        }
    };
    println!(
        "SUB (filter \"hello\") received: {}",
        String::from_utf8_lossy(&greeting[0])
    );
    Ok(())
}
