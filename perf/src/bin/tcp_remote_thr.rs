//! `tcp_remote_thr <connect-to> <message-size> <message-count>`: the sending half of
//! the plain TCP ceiling (see `tcp_local_thr`): connects and writes
//! `message-size * message-count` zero bytes in 1 MiB writes (blocking
//! `std::net`), then closes.

use std::io::Write;
use std::net::TcpStream;

use monocoque_perf::{TRANSFER_CHUNK, parse_args, tcp_address};

fn main() {
    let (connect_to, size, count) = parse_args("tcp_remote_thr", "connect-to", "message-count");
    let mut stream = TcpStream::connect(tcp_address(&connect_to)).unwrap_or_else(|e| {
        eprintln!("error in connect: {e}");
        std::process::exit(1);
    });
    let chunk = vec![0u8; TRANSFER_CHUNK];
    let mut left = size as u64 * count;
    while left > 0 {
        let n = left.min(TRANSFER_CHUNK as u64) as usize;
        if let Err(e) = stream.write_all(&chunk[..n]) {
            eprintln!("error in write: {e}");
            std::process::exit(1);
        }
        left -= n as u64;
    }
}
