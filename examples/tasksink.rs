//! Task sink (the ZeroMQ guide's `tasksink`): a PULL bound to `tcp://*:5558` waits for
//! the ventilator's start message, collects 100 results from the workers and prints how
//! long the batch took.
//!
//! ```text
//! cargo run --example tasksink
//! cargo run --example taskwork     # as many as you like
//! cargo run --example taskvent
//! ```

use std::io::Write;
use std::time::Instant;

use monocoque::PullSocket;

const TASKS: u32 = 100;

#[compio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let receiver = PullSocket::new();
    receiver.bind("tcp://*:5558").await?;

    // Wait for the start of the batch.
    receiver.recv().await?;
    let start = Instant::now();

    for task_nbr in 0..TASKS {
        receiver.recv().await?;
        print!("{}", if task_nbr % 10 == 0 { ':' } else { '.' });
        std::io::stdout().flush()?;
    }
    println!();
    println!("Total elapsed time: {} msec", start.elapsed().as_millis());
    Ok(())
}
