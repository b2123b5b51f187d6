//! Request-reply broker (the ZeroMQ guide's `rrbroker`): a ROUTER bound to
//! `tcp://*:5559` for clients and a DEALER bound to `tcp://*:5560` for workers, with
//! every message forwarded whole (routing envelope included) from one to the other.
//!
//! Clients (REQ) and workers (REP) both connect to the broker, so either side can come
//! and go:
//!
//! ```text
//! cargo run --example rrbroker
//! cargo run --example rrworker     # one or more
//! cargo run --example rrclient     # one or more
//! ```
//!
//! Stop it with Ctrl-C.

use futures::FutureExt;
use monocoque::{DealerSocket, RouterSocket};

#[compio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let frontend = RouterSocket::new();
    frontend.bind("tcp://*:5559").await?;
    let backend = DealerSocket::new();
    backend.bind("tcp://*:5560").await?;
    println!("rrbroker: clients on tcp://*:5559, workers on tcp://*:5560");

    // Wait for a message on either socket. `recv` is cancel-safe, so the future that
    // loses the race is dropped without losing a message.
    loop {
        futures::select! {
            request = frontend.recv().fuse() => {
                // [client routing id, "", body...] to a worker, round-robin.
                backend.send(request?).await?;
            }
            reply = backend.recv().fuse() => {
                // [client routing id, "", body...] back to that client.
                frontend.send(reply?).await?;
            }
        }
    }
}
