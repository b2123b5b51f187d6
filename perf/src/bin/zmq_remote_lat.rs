//! `zmq_remote_lat <connect-to> <message-size> <roundtrip-count>`: libzmq's
//! `remote_lat` on libzmq through the `zmq` crate. A REQ connects and does the round
//! trips; the clock starts right after `connect`, as in libzmq's tool.

use std::time::Instant;

use monocoque_perf::{check, check_size, parse_args, print_latency};

fn main() {
    let (connect_to, size, roundtrips) =
        parse_args("zmq_remote_lat", "connect-to", "roundtrip-count");
    let context = zmq::Context::new();
    let req = check(context.socket(zmq::REQ), "zmq_socket");
    check(req.connect(&connect_to), "zmq_connect");

    let mut message = zmq::Message::with_size(size);
    let start = Instant::now();
    for _ in 0..roundtrips {
        // The reply is sent back as the next request, as libzmq's tool does.
        check(req.send(message, 0), "zmq_sendmsg");
        message = zmq::Message::new();
        check(req.recv(&mut message, 0), "zmq_recvmsg");
        check_size(&message, size);
    }
    let elapsed = start.elapsed();

    print_latency(size, roundtrips, elapsed);
}
