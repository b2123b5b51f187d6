//! `raw_rtt <runtime> <server|client> <host:port> <message-size> <roundtrip-count>`:
//! TCP round trips of plain bytes, no messaging library, to tell what a runtime costs
//! a same-core round trip apart from what a ZeroMQ implementation adds on top.
//!
//! The server echoes every `message-size` bytes it reads; the client sends, waits for
//! the echo, and prints the average round trip in microseconds (the whole round trip:
//! libzmq's `remote_lat` prints half of it). Writes are one non-blocking `send` each,
//! as monocoque's writes to an idle connection are. Runtimes:
//!
//! - `compio`: compio on io_uring with the flags monocoque sets (single issuer,
//!   deferred task work), a `recv` submitted per read;
//! - `compio-multishot`: the same ring, one multishot `recv` into compio's buffer pool
//!   for the whole run;
//! - `compio-plain`: io_uring without those flags;
//! - `tokio`: a current-thread tokio runtime (epoll), as zmq.rs runs on.
//!
//! Run both ends on one core: `taskset -c 0 raw_rtt compio server 127.0.0.1:5555 64
//! 50000 & taskset -c 0 raw_rtt compio client 127.0.0.1:5555 64 50000`.

use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::time::Instant;

fn fail(what: &str, err: impl std::fmt::Display) -> ! {
    eprintln!("error in {what}: {err}");
    std::process::exit(1);
}

/// One message out with non-blocking `send` calls (the socket buffer has room: at
/// most one message is in flight).
fn send_all(fd: RawFd, mut data: &[u8]) {
    while !data.is_empty() {
        // SAFETY: `data` is a live slice and `fd` an open socket for the whole call.
        let n = unsafe {
            libc::send(
                fd,
                data.as_ptr().cast(),
                data.len(),
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            )
        };
        match usize::try_from(n) {
            Ok(sent) => data = &data[sent..],
            Err(_) => fail("send", std::io::Error::last_os_error()),
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Server,
    Client,
}

struct Run {
    role: Role,
    address: String,
    size: usize,
    count: usize,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 6 {
        eprintln!(
            "usage: raw_rtt <compio|compio-multishot|compio-plain|tokio> <server|client> \
             <host:port> <message-size> <roundtrip-count>"
        );
        std::process::exit(2);
    }
    let role = match args[2].as_str() {
        "server" => Role::Server,
        "client" => Role::Client,
        other => fail("role", other),
    };
    let run = Run {
        role,
        address: args[3].clone(),
        size: args[4].parse().unwrap_or_else(|e| fail("message-size", e)),
        count: args[5]
            .parse()
            .unwrap_or_else(|e| fail("roundtrip-count", e)),
    };
    let stream = connection(&run);
    let start = Instant::now();
    match args[1].as_str() {
        "tokio" => on_tokio(&run, stream),
        "compio" => on_compio(&run, stream, true, false),
        "compio-multishot" => on_compio(&run, stream, true, true),
        "compio-plain" => on_compio(&run, stream, false, false),
        other => fail("runtime", other),
    }
    if role == Role::Client {
        let micros = start.elapsed().as_secs_f64() * 1e6 / run.count as f64;
        println!("{} {} B: {micros:.2} us per round trip", args[1], run.size);
    }
}

/// The connection, made with blocking calls before any runtime starts (the server
/// accepts one), without Nagle's delay, non-blocking for the runtime.
fn connection(run: &Run) -> TcpStream {
    let stream = match run.role {
        Role::Server => TcpListener::bind(&run.address)
            .and_then(|listener| listener.accept())
            .map(|(stream, _)| stream),
        Role::Client => TcpStream::connect(&run.address),
    };
    let stream = stream.unwrap_or_else(|e| fail("connect", e));
    stream
        .set_nodelay(true)
        .and_then(|()| stream.set_nonblocking(true))
        .unwrap_or_else(|e| fail("socket options", e));
    stream
}

/// The round trips, whatever reads the bytes: the client sends first, and each whole
/// message read is echoed (server) or answered with the next one (client).
struct PingPong<'a> {
    run: &'a Run,
    fd: RawFd,
    message: Vec<u8>,
    received: usize,
    done: usize,
}

impl<'a> PingPong<'a> {
    fn start(run: &'a Run, fd: RawFd) -> PingPong<'a> {
        let pingpong = PingPong {
            run,
            fd,
            message: vec![7u8; run.size],
            received: 0,
            done: 0,
        };
        if run.role == Role::Client {
            send_all(fd, &pingpong.message);
        }
        pingpong
    }

    /// Counts a read of `n` bytes and answers every whole message in them.
    fn on_read(&mut self, n: usize) {
        if n == 0 {
            fail("read", "the peer closed");
        }
        self.received += n;
        while self.received >= self.run.size {
            self.received -= self.run.size;
            self.done += 1;
            if self.run.role == Role::Server || self.done < self.run.count {
                send_all(self.fd, &self.message);
            }
        }
    }

    fn finished(&self) -> bool {
        self.done >= self.run.count
    }
}

fn on_tokio(run: &Run, stream: TcpStream) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap_or_else(|e| fail("runtime", e));
    runtime.block_on(async {
        use tokio::io::AsyncReadExt;
        let mut stream =
            tokio::net::TcpStream::from_std(stream).unwrap_or_else(|e| fail("register", e));
        let mut pingpong = PingPong::start(run, stream.as_raw_fd());
        let mut buffer = vec![0u8; 64 * 1024];
        while !pingpong.finished() {
            match stream.read(&mut buffer).await {
                Ok(n) => pingpong.on_read(n),
                Err(e) => fail("read", e),
            }
        }
    });
}

fn on_compio(run: &Run, stream: TcpStream, deferred: bool, multishot: bool) {
    let mut proactor = compio::driver::ProactorBuilder::new();
    proactor.driver_type(compio::driver::DriverType::IoUring);
    if deferred {
        proactor
            .single_issuer(true)
            .defer_taskrun(true)
            .taskrun_flag(true);
    }
    let runtime = compio::runtime::RuntimeBuilder::new()
        .with_proactor(proactor)
        .build()
        .unwrap_or_else(|e| fail("runtime", e));
    runtime.block_on(async {
        let stream =
            compio::net::TcpStream::from_std(stream).unwrap_or_else(|e| fail("register", e));
        let pingpong = PingPong::start(run, stream.as_raw_fd());
        if multishot {
            echo_multishot(pingpong, &stream).await;
        } else {
            echo(pingpong, &stream).await;
        }
    });
}

/// A `recv` submitted per read, into one buffer reused.
async fn echo(mut pingpong: PingPong<'_>, stream: &compio::net::TcpStream) {
    use compio::io::AsyncRead;
    let mut buffer = Vec::with_capacity(64 * 1024);
    let mut reader = stream;
    while !pingpong.finished() {
        buffer.clear();
        let compio::BufResult(result, returned) = reader.read(buffer).await;
        buffer = returned;
        match result {
            Ok(n) => pingpong.on_read(n),
            Err(e) => fail("read", e),
        }
    }
}

/// One multishot `recv` for the whole run, into compio's buffer pool.
async fn echo_multishot(mut pingpong: PingPong<'_>, stream: &compio::net::TcpStream) {
    use compio::io::AsyncReadMulti;
    use futures::StreamExt;
    let mut reader = stream;
    let mut reads = std::pin::pin!(reader.read_multi(0));
    while !pingpong.finished() {
        match reads.next().await {
            Some(Ok(read)) => pingpong.on_read(read.len()),
            Some(Err(e)) => fail("read", e),
            None => fail("read", "the peer closed"),
        }
    }
}
