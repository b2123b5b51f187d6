//! Task worker (the ZeroMQ guide's `taskwork`): a PULL connected to the ventilator at
//! `tcp://localhost:5557` receives tasks (a workload in milliseconds as a decimal
//! string), "works" by sleeping that long, then sends an empty result to the sink
//! through a PUSH connected to `tcp://localhost:5558`.
//!
//! ```text
//! cargo run --example tasksink
//! cargo run --example taskwork     # as many as you like
//! cargo run --example taskvent
//! ```
//!
//! Runs until stopped with Ctrl-C.

use std::io::Write;
use std::time::Duration;

use monocoque::{PullSocket, PushSocket};

#[compio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Socket to receive tasks on.
    let receiver = PullSocket::new();
    receiver.connect("tcp://localhost:5557").await?;
    // Socket to send results to.
    let sender = PushSocket::new();
    sender.connect("tcp://localhost:5558").await?;

    loop {
        let task = receiver.recv().await?;
        let text = task
            .first()
            .map(|frame| String::from_utf8_lossy(frame).into_owned())
            .unwrap_or_default();
        let msec: u64 = match text.trim().parse() {
            Ok(msec) => msec,
            Err(_) => {
                eprintln!("ignoring malformed task {text:?}");
                continue;
            }
        };
        // Progress indicator, as in the guide.
        print!("{text}.");
        std::io::stdout().flush()?;

        compio::time::sleep(Duration::from_millis(msec)).await;
        sender.send("").await?;
    }
}
