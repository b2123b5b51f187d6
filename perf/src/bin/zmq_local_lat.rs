//! `zmq_local_lat <bind-to> <message-size> <roundtrip-count> [pattern]`: libzmq's
//! `local_lat` on libzmq through the `zmq` crate.
//!
//! - `req-rep` (default, libzmq's test): a REP binds and echoes each request.
//! - `dealer-router:N`: a ROUTER binds and echoes each `[routing id, payload]`, for
//!   N DEALERs' `roundtrip-count + 1` rounds (the remote side's first round is
//!   untimed).

use monocoque_perf::{LatPattern, check, check_size, parse_lat_args};

fn main() {
    let (bind_to, size, roundtrips, pattern) = parse_lat_args("zmq_local_lat", "bind-to");
    let context = zmq::Context::new();
    match pattern {
        LatPattern::ReqRep => {
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
        LatPattern::DealerRouter(dealers) => {
            let router = check(context.socket(zmq::ROUTER), "zmq_socket");
            check(router.bind(&bind_to), "zmq_bind");
            for _ in 0..(roundtrips + 1) * dealers as u64 {
                let mut routing_id = zmq::Message::new();
                let mut message = zmq::Message::new();
                check(router.recv(&mut routing_id, 0), "zmq_recvmsg");
                if !routing_id.get_more() {
                    eprintln!("ROUTER delivered a message without its routing id");
                    std::process::exit(1);
                }
                check(router.recv(&mut message, 0), "zmq_recvmsg");
                check_size(&message, size);
                check(router.send(routing_id, zmq::SNDMORE), "zmq_sendmsg");
                check(router.send(message, 0), "zmq_sendmsg");
            }
        }
    }
}
