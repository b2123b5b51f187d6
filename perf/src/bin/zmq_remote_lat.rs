//! `zmq_remote_lat <connect-to> <message-size> <roundtrip-count> [pattern]`: libzmq's
//! `remote_lat` on libzmq through the `zmq` crate.
//!
//! - `req-rep` (default, libzmq's test): a REQ connects and does the round trips;
//!   the clock starts right after `connect`, as in libzmq's tool.
//! - `dealer-router:N`: N DEALERs of one context, used from this one thread,
//!   connect. One untimed round brings every connection up; then, `roundtrip-count`
//!   times, every DEALER sends a message and every DEALER receives its echo
//!   (blocking receives in turn). It prints the round trips per second.

use std::time::{Duration, Instant};

use monocoque_perf::{
    LatPattern, check, check_size, parse_lat_args, print_latency, print_round_trips,
};

fn main() {
    let (connect_to, size, roundtrips, pattern) = parse_lat_args("zmq_remote_lat", "connect-to");
    let context = zmq::Context::new();
    match pattern {
        LatPattern::ReqRep => {
            let elapsed = req_rep(&context, &connect_to, size, roundtrips);
            print_latency(size, roundtrips, elapsed);
        }
        LatPattern::DealerRouter(dealers) => {
            let elapsed = dealer_router(&context, &connect_to, size, roundtrips, dealers);
            print_round_trips(size, dealers, roundtrips, elapsed);
        }
    }
}

fn req_rep(context: &zmq::Context, connect_to: &str, size: usize, roundtrips: u64) -> Duration {
    let req = check(context.socket(zmq::REQ), "zmq_socket");
    check(req.connect(connect_to), "zmq_connect");

    let mut message = zmq::Message::with_size(size);
    let start = Instant::now();
    for _ in 0..roundtrips {
        // The reply is sent back as the next request, as libzmq's tool does.
        check(req.send(message, 0), "zmq_sendmsg");
        message = zmq::Message::new();
        check(req.recv(&mut message, 0), "zmq_recvmsg");
        check_size(&message, size);
    }
    start.elapsed()
}

fn dealer_router(
    context: &zmq::Context,
    connect_to: &str,
    size: usize,
    rounds: u64,
    n: usize,
) -> Duration {
    let dealers: Vec<zmq::Socket> = (0..n)
        .map(|_| {
            let dealer = check(context.socket(zmq::DEALER), "zmq_socket");
            check(dealer.connect(connect_to), "zmq_connect");
            dealer
        })
        .collect();
    let round = || {
        for dealer in &dealers {
            check(dealer.send(zmq::Message::with_size(size), 0), "zmq_sendmsg");
        }
        for dealer in &dealers {
            let mut message = zmq::Message::new();
            check(dealer.recv(&mut message, 0), "zmq_recvmsg");
            check_size(&message, size);
        }
    };
    round();
    let start = Instant::now();
    for _ in 0..rounds {
        round();
    }
    start.elapsed()
}
