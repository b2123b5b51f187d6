//! Task ventilator (the ZeroMQ guide's `taskvent`): a PUSH socket bound to
//! `tcp://*:5557` hands out 100 tasks to the workers, and a PUSH connected to the sink
//! at `tcp://localhost:5558` signals the start of the batch with a "0".
//!
//! Each task is one frame: its workload in milliseconds as a decimal string (1 to 100).
//! Start the sink and some workers first, then the ventilator:
//!
//! ```text
//! cargo run --example tasksink
//! cargo run --example taskwork     # as many as you like, each in its own terminal
//! cargo run --example taskvent
//! ```
//!
//! Like the guide, it waits for Enter on stdin, whether or not stdin is a terminal, so
//! that every worker has time to connect: PUSH spreads messages over the workers
//! connected at the time, so the first worker to connect would otherwise get the whole
//! batch. A script may write the newline when its workers are up (or close stdin).
//! `--no-wait` skips the prompt; `--workers N` waits instead until N workers are
//! connected:
//!
//! ```text
//! cargo run --example taskvent -- --no-wait --workers 3
//! ```

use std::io::{BufRead, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use monocoque::PushSocket;

const TASKS: u32 = 100;

/// xorshift64: a small, fast PRNG, plenty for fake workloads.
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
    fn below(&mut self, n: u32) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        ((x >> 32) % u64::from(n)) as u32
    }
}

#[compio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut no_wait = false;
    let mut workers = 0usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--no-wait" => no_wait = true,
            "--workers" => {
                workers = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or("--workers needs a number")?;
            }
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }

    // Socket to send tasks on.
    let sender = PushSocket::new();
    sender.bind("tcp://*:5557").await?;
    // Socket to signal the start of the batch to the sink.
    let sink = PushSocket::new();
    sink.connect("tcp://localhost:5558").await?;

    if !no_wait {
        print!("Press Enter when the workers are ready: ");
        std::io::stdout().flush()?;
        // Read on a blocking thread so this runtime keeps accepting workers meanwhile.
        compio::runtime::spawn_blocking(|| {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).map(|_| ())
        })
        .await??;
    }
    if workers > 0 {
        println!("Waiting for {workers} workers to connect...");
        sender.wait_for_peers(|n| n >= workers).await;
    }
    println!("Sending tasks to workers...");

    // The first message is "0" and signals the start of the batch.
    sink.send("0").await?;

    let mut rng = XorShift64::from_clock();
    let mut total_msec: u64 = 0;
    for _ in 0..TASKS {
        // Random workload from 1 to 100 msecs.
        let workload = rng.below(100) + 1;
        total_msec += u64::from(workload);
        sender.send(workload.to_string()).await?;
    }
    println!("Total expected cost: {total_msec} msec");

    // Instead of the guide's "give 0MQ time to deliver" sleep: close waits until every
    // queued message has been written.
    sender.close().await;
    sink.close().await;
    Ok(())
}
