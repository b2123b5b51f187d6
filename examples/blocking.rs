//! monocoque with no async runtime at all: a REP server on one thread and REQ
//! clients on others, every call blocking, some with a timeout.
//!
//! ```text
//! cargo run --example blocking
//! ```

use std::time::Duration;

use monocoque::{Context, Error, SocketType};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let context = Context::new()?;
    let server = context.socket(SocketType::Rep)?;
    let endpoint = futures::executor::block_on(server.bind("tcp://127.0.0.1:0"))?;

    let service = std::thread::spawn(move || -> Result<u32, Error> {
        let mut served = 0;
        // Serve until no request came for half a second.
        loop {
            match server.recv_blocking(Some(Duration::from_millis(500))) {
                Ok(request) => {
                    let text = String::from_utf8_lossy(&request[0]).to_uppercase();
                    server.send_blocking(text.as_str(), None)?;
                    served += 1;
                }
                Err(Error::TimedOut) => return Ok(served),
                Err(err) => return Err(err),
            }
        }
    });

    let clients: Vec<_> = (0..3)
        .map(|c| {
            let context = context.clone();
            let endpoint = endpoint.clone();
            std::thread::spawn(move || -> Result<(), Error> {
                let client = context.socket(SocketType::Req)?;
                futures::executor::block_on(client.connect(&endpoint))?;
                for i in 0..5 {
                    let request = format!("hello {i} from client {c}");
                    client.send_blocking(request.as_str(), None)?;
                    let reply = client.recv_blocking(Some(Duration::from_secs(5)))?;
                    println!("{request} -> {}", String::from_utf8_lossy(&reply[0]));
                }
                Ok(())
            })
        })
        .collect();
    for client in clients {
        client.join().expect("client panicked")?;
    }
    let served = service.join().expect("server panicked")?;
    println!("served {served} requests");
    context.terminate();
    Ok(())
}
