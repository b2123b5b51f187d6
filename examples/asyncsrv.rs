//! Asynchronous client/server (the ZeroMQ guide's `asyncsrv`): three DEALER clients
//! send a request every second and print the replies as they come; the server is a
//! ROUTER on `tcp://*:5570` and a DEALER on `inproc://backend` with the library's
//! proxy between them and five worker threads, each a DEALER that answers every
//! request zero to four times, after random pauses. It runs for five seconds.
//!
//! ```text
//! cargo run --example asyncsrv
//! ```

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use monocoque::{Bytes, Context, Message, SocketOptions, SocketType, proxy_blocking};

/// A small xorshift generator seeded from the clock (the guide uses `rand()`).
struct Random(u64);

impl Random {
    fn new(salt: u64) -> Random {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        Random((nanos ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn client_task(context: Context, index: u64) -> Result<(), monocoque::Error> {
    let mut random = Random::new(index);
    let identity = format!(
        "{:04X}-{:04X}",
        random.below(0x10000),
        random.below(0x10000)
    );
    let options = SocketOptions::default().routing_id(identity.clone());
    let client = context.socket_with_options(SocketType::Dealer, options)?;
    futures::executor::block_on(client.connect("tcp://localhost:5570"))?;
    let mut request_nbr = 0;
    loop {
        // Tick once per second, pulling in arriving messages.
        let tick = Instant::now() + Duration::from_secs(1);
        while let Some(left) = tick.checked_duration_since(Instant::now()) {
            match client.recv_blocking(Some(left.min(Duration::from_millis(10)))) {
                Ok(reply) => println!("{identity} received {}", String::from_utf8_lossy(&reply[0])),
                Err(monocoque::Error::TimedOut) => {}
                Err(err) => return Err(err),
            }
        }
        request_nbr += 1;
        client.send_blocking(format!("request #{request_nbr}"), None)?;
    }
}

fn server_worker(context: Context, index: u64) -> Result<(), monocoque::Error> {
    let worker = context.socket(SocketType::Dealer)?;
    futures::executor::block_on(worker.connect("inproc://backend"))?;
    let mut random = Random::new(100 + index);
    loop {
        // The DEALER gives us the reply envelope and message.
        let message = worker.recv_blocking(None)?;
        let (identity, content): (Bytes, Bytes) = (message[0].clone(), message[1].clone());
        // Send 0..4 replies back.
        for _ in 0..random.below(5) {
            // Sleep for some fraction of a second.
            std::thread::sleep(Duration::from_millis(random.below(1000) + 1));
            worker.send_blocking(Message::from([identity.clone(), content.clone()]), None)?;
        }
    }
}

fn server_task(context: Context) -> Result<(), monocoque::Error> {
    // Frontend socket talks to clients over TCP.
    let frontend = context.socket(SocketType::Router)?;
    // Backend socket talks to workers over inproc.
    let backend = context.socket(SocketType::Dealer)?;
    futures::executor::block_on(async {
        frontend.bind("tcp://*:5570").await?;
        backend.bind("inproc://backend").await
    })?;
    // Launch a pool of worker threads; the exact number is not critical.
    for index in 0..5 {
        let context = context.clone();
        std::thread::spawn(move || server_worker(context, index));
    }
    // Connect the backend to the frontend via a proxy.
    proxy_blocking(&frontend, &backend, None)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let context = Context::new()?;
    let server = context.clone();
    std::thread::spawn(move || server_task(server));
    for index in 0..3 {
        let context = context.clone();
        std::thread::spawn(move || client_task(context, index));
    }
    // Run for 5 seconds then quit.
    std::thread::sleep(Duration::from_secs(5));
    Ok(())
}
