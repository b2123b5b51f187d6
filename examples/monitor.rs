//! Prints a socket's monitor events while peers come and go: a REP server that one
//! client visits, and a DEALER trying to reach a server that is down.
//!
//! ```text
//! cargo run --example monitor
//! ```

use std::time::Duration;

use monocoque::{Context, Monitor, SocketOptions, SocketType};

/// Prints `monitor`'s events on a thread of its own until it stops.
fn print_events(name: &'static str, monitor: Monitor) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        futures::executor::block_on(async {
            while let Some(event) = monitor.next().await {
                println!("{name}: {event:?}");
            }
        })
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let context = Context::new()?;
    let server = context.socket(SocketType::Rep)?;
    let server_events = print_events("server", futures::executor::block_on(server.monitor())?);
    let endpoint = futures::executor::block_on(server.bind("tcp://127.0.0.1:0"))?;

    let client = context.socket(SocketType::Req)?;
    futures::executor::block_on(client.connect(&endpoint))?;
    client.send_blocking("Hello", None)?;
    let request = server.recv_blocking(None)?;
    server.send_blocking(request, None)?;
    client.recv_blocking(None)?;
    client.close();

    // Nothing listens on port 1: the connect is delayed, then retried.
    let options = SocketOptions::default().reconnect_ivl(Duration::from_millis(200));
    let lost = context.socket_with_options(SocketType::Dealer, options)?;
    let lost_events = print_events("dealer", futures::executor::block_on(lost.monitor())?);
    futures::executor::block_on(lost.connect("tcp://127.0.0.1:1"))?;
    std::thread::sleep(Duration::from_millis(500));

    server.close();
    lost.close();
    context.terminate();
    server_events.join().expect("printer panicked");
    lost_events.join().expect("printer panicked");
    Ok(())
}
