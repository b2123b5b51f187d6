//! `zmq_local_lat <bind-to> <message-size> <roundtrip-count>`: libzmq's `local_lat`
//! on libzmq through the `zmq` crate. A REP binds and echoes each request.

use monocoque_perf::{check, check_size, parse_args};

fn main() {
    let (bind_to, size, roundtrips) = parse_args("zmq_local_lat", "bind-to", "roundtrip-count");
    let context = zmq::Context::new();
    let rep = check(context.socket(zmq::REP), "zmq_socket");
    check(rep.bind(&bind_to), "zmq_bind");

    for _ in 0..roundtrips {
        // An empty zmq_msg_init message: no allocation.
        let mut message = zmq::Message::new();
        check(rep.recv(&mut message, 0), "zmq_recvmsg");
        check_size(&message, size);
        check(rep.send(message, 0), "zmq_sendmsg");
    }
}
