//! Simple message queuing broker (the ZeroMQ guide's `msgqueue`): a ROUTER bound to
//! `tcp://*:5559` for clients, a DEALER bound to `tcp://*:5560` for services, and the
//! library's proxy between them. It runs until killed.
//!
//! ```text
//! cargo run --example msgqueue
//! cargo run --example rrworker     # services connect to 5560
//! cargo run --example rrclient     # clients connect to 5559
//! ```

use monocoque::{Context, SocketType, proxy_blocking};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let context = Context::new()?;
    // Socket facing clients.
    let frontend = context.socket(SocketType::Router)?;
    // Socket facing services.
    let backend = context.socket(SocketType::Dealer)?;
    futures::executor::block_on(async {
        frontend.bind("tcp://*:5559").await?;
        backend.bind("tcp://*:5560").await
    })?;
    // Start the proxy.
    proxy_blocking(&frontend, &backend, None)?;
    Ok(())
}
