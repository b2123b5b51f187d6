//! `omq_remote_lat <connect-to> <message-size> <roundtrip-count>`: libzmq's
//! `remote_lat` on OMQ.rs (the `omq-tokio` crate). A REQ connects and does the round
//! trips, sending each reply back as the next request; the clock starts right after
//! `connect`, as in libzmq's tool.

use std::time::Instant;

use monocoque_perf_rivals::{check, check_frame, parse_args, print_latency, runtime};
use omq_tokio::{Message, Options, Socket, SocketType};

fn main() {
    let (connect_to, size, roundtrips) =
        parse_args("omq_remote_lat", "connect-to", "roundtrip-count");
    let elapsed = runtime().block_on(async {
        let req = Socket::new(SocketType::Req, Options::default());
        check(req.connect(connect_to.as_str()).await, "connect");
        let mut message = Message::from_slice(&vec![0u8; size]);
        let start = Instant::now();
        for _ in 0..roundtrips {
            check(req.send(message).await, "send");
            message = check(req.recv().await, "recv");
            check_frame(message.len(), message.get(0).map_or(0, <[u8]>::len), size);
        }
        start.elapsed()
    });
    print_latency(size, roundtrips, elapsed);
}
