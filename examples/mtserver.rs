//! Multithreaded Hello World server (the ZeroMQ guide's `mtserver`): a ROUTER bound
//! to `tcp://*:5555` for clients, a DEALER bound to `inproc://workers`, five worker
//! threads each with a REP connected to `inproc://workers` that takes a second per
//! request and replies "World", and the library's proxy between the two.
//!
//! ```text
//! cargo run --example mtserver
//! cargo run --example hwclient        (in another terminal, as many as you like)
//! ```
//!
//! Every socket is a handle of one context, so the workers' threads need no async
//! runtime. Stop it with Ctrl-C.

use std::time::Duration;

use monocoque::{Context, SocketHandle, SocketType, proxy_blocking};

fn worker(receiver: SocketHandle) -> Result<(), monocoque::Error> {
    loop {
        let request = receiver.recv_blocking(None)?;
        let text = String::from_utf8_lossy(&request[0]).into_owned();
        println!("Received request: [{text}]");
        // Do some 'work'.
        std::thread::sleep(Duration::from_secs(1));
        receiver.send_blocking("World", None)?;
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let context = Context::new()?;
    let clients = context.socket(SocketType::Router)?;
    let workers = context.socket(SocketType::Dealer)?;
    futures::executor::block_on(async {
        clients.bind("tcp://*:5555").await?;
        workers.bind("inproc://workers").await
    })?;
    for _ in 0..5 {
        let receiver = context.socket(SocketType::Rep)?;
        futures::executor::block_on(receiver.connect("inproc://workers"))?;
        std::thread::spawn(move || worker(receiver));
    }
    println!("mtserver: ROUTER on tcp://*:5555, 5 workers on inproc://workers");
    // Connect the worker threads to the client threads through a queue.
    proxy_blocking(&clients, &workers, None)?;
    Ok(())
}
