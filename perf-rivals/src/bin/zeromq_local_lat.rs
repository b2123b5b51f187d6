//! `zeromq_local_lat <bind-to> <message-size> <roundtrip-count>`: libzmq's
//! `local_lat` on zmq.rs (the `zeromq` crate, tokio). A REP binds and echoes each
//! request.

use std::time::Duration;

use bytes::Bytes;
use monocoque_perf_rivals::{check, check_frame, parse_args, runtime};
use zeromq::RepSocket;
use zeromq::prelude::*;

fn main() {
    let (bind_to, size, roundtrips) = parse_args("zeromq_local_lat", "bind-to", "roundtrip-count");
    runtime().block_on(async {
        let mut rep = RepSocket::new();
        check(rep.bind(&bind_to).await, "bind");
        for _ in 0..roundtrips {
            let message = check(rep.recv().await, "recv");
            check_frame(message.len(), message.get(0).map_or(0, Bytes::len), size);
            check(rep.send(message).await, "send");
        }
        // No linger in zmq.rs: let the writer task send the last reply.
        tokio::time::sleep(Duration::from_millis(100)).await;
    });
}
