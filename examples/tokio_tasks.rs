//! monocoque from tokio: a multi-thread runtime where several tasks send on one PUSH
//! socket (clones of one handle) and one task reads a PULL socket's stream.
//!
//! ```text
//! cargo run --example tokio_tasks
//! ```
//!
//! The handles' futures are `Send` and need no particular runtime: the sockets live
//! on the context's I/O thread, and tokio only awaits.

use futures::StreamExt;
use monocoque::{Context, SocketType};

const TASKS: usize = 4;
const PER_TASK: usize = 25_000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let context = Context::new()?;
    let pull = context.socket(SocketType::Pull)?;
    let push = context.socket(SocketType::Push)?;
    let endpoint = pull.bind("tcp://127.0.0.1:0").await?;
    push.connect(&endpoint).await?;

    let receiver = tokio::spawn(async move {
        // One task reading message after message: the handle's stream takes what is
        // waiting at once, so the handle's lock is paid per batch, not per message.
        let mut messages = pull.stream();
        let mut received = 0;
        while received < TASKS * PER_TASK {
            messages.next().await.ok_or(monocoque::Error::Closed)??;
            received += 1;
        }
        Ok::<usize, monocoque::Error>(received)
    });
    let started = std::time::Instant::now();
    let senders: Vec<_> = (0..TASKS)
        .map(|task| {
            let push = push.clone();
            tokio::spawn(async move {
                for n in 0..PER_TASK {
                    push.send(format!("task {task}, message {n}")).await?;
                }
                Ok::<(), monocoque::Error>(())
            })
        })
        .collect();
    for sender in senders {
        sender.await??;
    }
    let received = receiver.await??;
    println!(
        "{TASKS} tokio tasks sent {received} messages through one PUSH handle in {:?}",
        started.elapsed()
    );
    drop(push);
    context.terminate();
    Ok(())
}
