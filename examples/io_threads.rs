//! How throughput grows with I/O threads: two independent PUSH/PULL pairs over tcp
//! in one process, all four sockets handles of one context, each pair driven by two
//! plain threads, with a context of 1 and then 2 I/O threads.
//!
//! ```text
//! cargo run --release --example io_threads -- [message-size] [messages-per-pair]
//! ```
//!
//! Sockets are spread over the I/O threads in turn, so with 2 threads each pair's
//! PUSH and PULL end up on different threads. Prints messages per second for both
//! pairs together.

use std::time::{Duration, Instant};

use monocoque::{Context, SocketType};

fn run(io_threads: usize, size: usize, count: u64) -> Result<f64, Box<dyn std::error::Error>> {
    let context = Context::builder().io_threads(io_threads).build()?;
    let mut pairs = Vec::new();
    for _ in 0..2 {
        let pull = context.socket(SocketType::Pull)?;
        let push = context.socket(SocketType::Push)?;
        let endpoint = futures::executor::block_on(pull.bind("tcp://127.0.0.1:0"))?;
        futures::executor::block_on(push.connect(&endpoint))?;
        pairs.push((push, pull));
    }
    let started = Instant::now();
    let threads: Vec<_> = pairs
        .into_iter()
        .flat_map(|(push, pull)| {
            let sender = std::thread::spawn(move || {
                let payload = vec![0u8; size];
                for _ in 0..count {
                    push.send_blocking(payload.clone(), None)?;
                }
                Ok::<(), monocoque::Error>(())
            });
            let receiver = std::thread::spawn(move || {
                for _ in 0..count {
                    pull.recv_blocking(Some(Duration::from_secs(30)))?;
                }
                Ok::<(), monocoque::Error>(())
            });
            [sender, receiver]
        })
        .collect();
    for thread in threads {
        thread.join().map_err(|_| "a thread panicked")??;
    }
    let elapsed = started.elapsed();
    context.terminate();
    Ok(2.0 * count as f64 / elapsed.as_secs_f64())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let size: usize = args.next().map_or(Ok(64), |a| a.parse())?;
    let count: u64 = args.next().map_or(Ok(1_000_000), |a| a.parse())?;
    println!("two PUSH/PULL pairs, {size} B messages, {count} per pair");
    let one = run(1, size, count)?;
    println!("1 I/O thread:  {:>12.0} msg/s", one);
    let two = run(2, size, count)?;
    println!("2 I/O threads: {:>12.0} msg/s ({:.2}x)", two, two / one);
    Ok(())
}
