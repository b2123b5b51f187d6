//! `zmq_local_thr <bind-to> <message-size> <message-count>`: libzmq's `local_thr` on
//! libzmq through the `zmq` crate. A PULL binds, receives the messages into one reused
//! `zmq::Message` and prints the rate, timed from the first message received.

use std::time::Instant;

use monocoque_perf::{check, check_size, parse_args, print_throughput};

fn main() {
    let (bind_to, size, count) = parse_args("zmq_local_thr", "bind-to", "message-count");
    let context = zmq::Context::new();
    let pull = check(context.socket(zmq::PULL), "zmq_socket");
    check(pull.bind(&bind_to), "zmq_bind");

    let mut message = zmq::Message::new();
    check(pull.recv(&mut message, 0), "zmq_recvmsg");
    check_size(&message, size);
    let start = Instant::now();
    for _ in 1..count {
        check(pull.recv(&mut message, 0), "zmq_recvmsg");
        check_size(&message, size);
    }
    let elapsed = start.elapsed();

    print_throughput(size, count, elapsed);
}
