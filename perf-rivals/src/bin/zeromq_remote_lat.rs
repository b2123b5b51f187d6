//! `zeromq_remote_lat <connect-to> <message-size> <roundtrip-count>`: libzmq's
//! `remote_lat` on zmq.rs (the `zeromq` crate, tokio). A REQ connects and does the
//! round trips, sending each reply back as the next request; the clock starts after
//! `connect` (which in zmq.rs returns once the handshake is done).

use std::time::Instant;

use bytes::Bytes;
use monocoque_perf_rivals::{check, check_frame, parse_args, print_latency, runtime};
use zeromq::prelude::*;
use zeromq::{ReqSocket, ZmqMessage};

fn main() {
    let (connect_to, size, roundtrips) =
        parse_args("zeromq_remote_lat", "connect-to", "roundtrip-count");
    let elapsed = runtime().block_on(async {
        let mut req = ReqSocket::new();
        check(req.connect(&connect_to).await, "connect");
        let mut message = ZmqMessage::from(vec![0u8; size]);
        let start = Instant::now();
        for _ in 0..roundtrips {
            check(req.send(message).await, "send");
            message = check(req.recv().await, "recv");
            check_frame(message.len(), message.get(0).map_or(0, Bytes::len), size);
        }
        start.elapsed()
    });
    print_latency(size, roundtrips, elapsed);
}
