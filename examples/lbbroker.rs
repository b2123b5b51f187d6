//! Load-balancing broker (the ZeroMQ guide's `lbbroker`): clients and workers are
//! threads with REQ sockets talking to a broker over inproc; the broker's backend
//! ROUTER learns which workers are ready and hands each client request to the least
//! recently used one.
//!
//! ```text
//! cargo run --example lbbroker
//! ```
//!
//! As in the guide: 10 clients each send one "HELLO" and print the reply; 3 workers
//! each announce "READY", then answer every request with "OK". The broker stops once
//! every client has its reply. Workers and clients set printable routing ids.

use std::collections::VecDeque;

use futures::FutureExt;
use monocoque::{Bytes, Context, Message, SocketHandle, SocketOptions, SocketType};

const CLIENTS: usize = 10;
const WORKERS: usize = 3;

fn client(context: Context, id: usize) -> Result<(), monocoque::Error> {
    let options = SocketOptions::default().routing_id(format!("Client-{id}"));
    let client = context.socket_with_options(SocketType::Req, options)?;
    futures::executor::block_on(client.connect("inproc://frontend"))?;
    client.send_blocking("HELLO", None)?;
    let reply = client.recv_blocking(None)?;
    println!("Client-{id}: {}", String::from_utf8_lossy(&reply[0]));
    Ok(())
}

fn worker(context: Context, id: usize) -> Result<(), monocoque::Error> {
    let options = SocketOptions::default().routing_id(format!("Worker-{id}"));
    let worker = context.socket_with_options(SocketType::Req, options)?;
    futures::executor::block_on(worker.connect("inproc://backend"))?;
    // Tell the broker we're ready for work.
    worker.send_blocking("READY", None)?;
    loop {
        // Get a request: [client address, empty, request].
        let request = match worker.recv_blocking(None) {
            Ok(request) => request,
            Err(monocoque::Error::Closed) => return Ok(()),
            Err(err) => return Err(err),
        };
        println!("Worker-{id}: {}", String::from_utf8_lossy(&request[2]));
        let reply = Message::from([request[0].clone(), request[1].clone(), "OK".into()]);
        worker.send_blocking(reply, None)?;
    }
}

/// What the broker heard first.
enum Heard {
    /// From a worker: `[worker, empty, READY]` or `[worker, empty, client, empty, reply]`.
    Worker(Message),
    /// From a client: `[client, empty, request]`.
    Client(Message),
}

/// The broker's loop: it listens to clients only while a worker is free (the guide
/// polls the frontend only then), and stops once every client has its reply. Both
/// receives are cancel-safe, so the one that loses the race loses nothing.
async fn broker(frontend: &SocketHandle, backend: &SocketHandle) -> Result<(), monocoque::Error> {
    let mut ready: VecDeque<Bytes> = VecDeque::new();
    let mut served = 0;
    while served < CLIENTS {
        let heard = if ready.is_empty() {
            Heard::Worker(backend.recv().await?)
        } else {
            futures::select_biased! {
                m = backend.recv().fuse() => Heard::Worker(m?),
                m = frontend.recv().fuse() => Heard::Client(m?),
            }
        };
        match heard {
            Heard::Worker(message) => {
                // The worker is free again, least recently used last.
                ready.push_back(message[0].clone());
                if &message[2][..] != b"READY" {
                    let reply =
                        Message::from([message[2].clone(), Bytes::new(), message[4].clone()]);
                    frontend.send(reply).await?;
                    served += 1;
                }
            }
            Heard::Client(request) => {
                let Some(worker) = ready.pop_front() else {
                    continue;
                };
                let forward = Message::from([
                    worker,
                    Bytes::new(),
                    request[0].clone(),
                    Bytes::new(),
                    request[2].clone(),
                ]);
                backend.send(forward).await?;
            }
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let context = Context::new()?;
    let frontend = context.socket(SocketType::Router)?;
    let backend = context.socket(SocketType::Router)?;
    futures::executor::block_on(async {
        frontend.bind("inproc://frontend").await?;
        backend.bind("inproc://backend").await
    })?;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| {
            let context = context.clone();
            std::thread::spawn(move || client(context, id))
        })
        .collect();
    for id in 0..WORKERS {
        let context = context.clone();
        std::thread::spawn(move || worker(context, id));
    }

    futures::executor::block_on(broker(&frontend, &backend))?;
    for client in clients {
        client.join().expect("client panicked")?;
    }
    context.terminate();
    Ok(())
}
