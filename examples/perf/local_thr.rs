//! `local_thr <bind-to> <message-size> <message-count>`: the receiving half of
//! libzmq's throughput test on monocoque. A PULL binds, receives `message-count`
//! messages of `message-size` bytes and prints the rate; the clock starts when the
//! first message arrives, as libzmq's `local_thr` does. Pair it with `remote_thr`
//! or with libzmq's (`zmq_remote_thr` in the `perf` crate).

#[path = "common.rs"]
mod common;

use std::time::Instant;

use monocoque::{Message, PullSocket};

fn check(message: &Message, size: usize) {
    if message.len() != 1 || message[0].len() != size {
        common::fail(format!(
            "message of {} frame(s), {} bytes; expected one frame of {size} bytes",
            message.len(),
            message.byte_len()
        ));
    }
}

#[compio::main]
async fn main() {
    let (bind_to, size, count) = common::parse_args("local_thr", "bind-to", "message-count");
    let pull = PullSocket::new();
    pull.bind(&bind_to)
        .await
        .unwrap_or_else(|e| common::fail(e));

    let first = pull.recv().await.unwrap_or_else(|e| common::fail(e));
    check(&first, size);
    let start = Instant::now();
    for _ in 1..count {
        let message = pull.recv().await.unwrap_or_else(|e| common::fail(e));
        check(&message, size);
    }
    let elapsed = start.elapsed();

    common::print_throughput(size, count, elapsed);
    pull.close().await;
}
