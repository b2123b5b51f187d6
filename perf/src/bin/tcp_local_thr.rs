//! `tcp_local_thr <bind-to> <message-size> <message-count>`: the ceiling for
//! `local_thr`'s bulk cases, a plain TCP transfer of the same bytes with no
//! messaging library. It binds, accepts one connection, reads `message-size *
//! message-count` bytes in 1 MiB reads (blocking `std::net`), and prints the rate
//! as `local_thr` does: messages' worth of bytes per second, timed from the first
//! byte received. Pair it with `tcp_remote_thr`. Only `tcp://` endpoints (exit code
//! 2 for others, which compare.sh reports as "n/a").

use std::io::Read;
use std::net::TcpListener;
use std::time::Instant;

use monocoque_perf::{TRANSFER_CHUNK, parse_args, print_throughput, tcp_address};

fn main() {
    let (bind_to, size, count) = parse_args("tcp_local_thr", "bind-to", "message-count");
    let listener = TcpListener::bind(tcp_address(&bind_to)).unwrap_or_else(|e| {
        eprintln!("error in bind: {e}");
        std::process::exit(1);
    });
    let (mut stream, _) = listener.accept().unwrap_or_else(|e| {
        eprintln!("error in accept: {e}");
        std::process::exit(1);
    });
    let total = size as u64 * count;
    let mut buffer = vec![0u8; TRANSFER_CHUNK];
    let mut received = 0u64;
    let mut start = None;
    while received < total {
        match stream.read(&mut buffer) {
            Ok(0) => {
                eprintln!("the sender closed after {received} of {total} bytes");
                std::process::exit(1);
            }
            Ok(n) => {
                start.get_or_insert_with(Instant::now);
                received += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                eprintln!("error in read: {e}");
                std::process::exit(1);
            }
        }
    }
    let elapsed = start.map(|s| s.elapsed()).unwrap_or_default();
    print_throughput(size, count, elapsed);
}
