//! `remote_thr <connect-to> <message-size> <message-count>`: the sending half of
//! libzmq's throughput test on monocoque. A PUSH connects and sends `message-count`
//! messages of `message-size` bytes, then closes, which waits (default linger) until
//! every queued message is written.
//!
//! Each message is a fresh allocation filled from a template, like libzmq's
//! `remote_thr` (`zmq_msg_init_size` per message) and the `zmq` crate's
//! `send(&[u8])`, so both sides pay one allocation per message.

#[path = "common.rs"]
mod common;

use bytes::Bytes;
use monocoque::PushSocket;

#[compio::main]
async fn main() {
    let (connect_to, size, count) = common::parse_args("remote_thr", "connect-to", "message-count");
    let push = PushSocket::new();
    push.connect(&connect_to)
        .await
        .unwrap_or_else(|e| common::fail(e));

    let template = vec![0u8; size];
    for _ in 0..count {
        let payload = Bytes::copy_from_slice(&template);
        push.send(payload).await.unwrap_or_else(|e| common::fail(e));
    }
    push.close().await;
}
