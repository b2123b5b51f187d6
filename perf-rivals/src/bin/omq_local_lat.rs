//! `omq_local_lat <bind-to> <message-size> <roundtrip-count>`: libzmq's `local_lat`
//! on OMQ.rs (the `omq-tokio` crate). A REP binds and echoes each request.

use monocoque_perf_rivals::{check, check_frame, parse_args, runtime};
use omq_tokio::{Options, Socket, SocketType};

fn main() {
    let (bind_to, size, roundtrips) = parse_args("omq_local_lat", "bind-to", "roundtrip-count");
    runtime().block_on(async {
        let rep = Socket::new(SocketType::Rep, Options::default().linger_forever());
        check(rep.bind(bind_to.as_str()).await, "bind");
        for _ in 0..roundtrips {
            let message = check(rep.recv().await, "recv");
            check_frame(message.len(), message.get(0).map_or(0, <[u8]>::len), size);
            check(rep.send(message).await, "send");
        }
        check(rep.close().await, "close");
    });
}
