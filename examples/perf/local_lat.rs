//! `local_lat <bind-to> <message-size> <roundtrip-count>`: the echoing half of
//! libzmq's latency test on monocoque. A REP binds and sends every request back,
//! `roundtrip-count` times. Pair it with `remote_lat` or `zmq_remote_lat`.

#[path = "common.rs"]
mod common;

use monocoque::RepSocket;

#[compio::main]
async fn main() {
    let (bind_to, size, roundtrips) = common::parse_args("local_lat", "bind-to", "roundtrip-count");
    let rep = RepSocket::new();
    rep.bind(&bind_to).await.unwrap_or_else(|e| common::fail(e));

    for _ in 0..roundtrips {
        let message = rep.recv().await.unwrap_or_else(|e| common::fail(e));
        if message.len() != 1 || message[0].len() != size {
            common::fail(format!(
                "request of {} bytes; expected {size}",
                message.byte_len()
            ));
        }
        rep.send(message).await.unwrap_or_else(|e| common::fail(e));
    }
    rep.close().await;
}
