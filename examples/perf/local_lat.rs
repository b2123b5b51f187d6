//! `local_lat <bind-to> <message-size> <roundtrip-count> [pattern]`: the echoing half
//! of libzmq's latency test on monocoque. Pair it with `remote_lat` or
//! `zmq_remote_lat`, given the same pattern.
//!
//! - `req-rep` (default, libzmq's test): a REP binds and sends every request back,
//!   `roundtrip-count` times.
//! - `dealer-router:N`: a ROUTER binds and sends every `[routing id, payload]` back,
//!   for N DEALERs' `roundtrip-count + 1` rounds (`remote_lat`'s first round is
//!   untimed).
//!
//! With `--curve` (anywhere on the command line) the binding socket is a CURVE
//! server with fixed test keys (`curve.rs`): pair it with `remote_lat --curve` or
//! `perf-curve/curve_local_lat`.

#[path = "common.rs"]
mod common;
#[path = "curve.rs"]
mod curve;
#[path = "handles.rs"]
mod handles;
#[path = "native_runtime.rs"]
mod native_runtime;

use common::LatPattern;
use monocoque::{Context, Message, Socket, SocketOptions, SocketType};

fn main() {
    let (bind_to, size, roundtrips, pattern) = common::parse_lat_args("local_lat", "bind-to");
    let echoes = Echoes::new(pattern, size, roundtrips);
    match common::api() {
        common::Api::Native => native(&bind_to, echoes),
        api => with_handle(api, &bind_to, echoes),
    }
}

/// What the binding socket does: its type, the messages it echoes and their shape.
#[derive(Clone, Copy)]
struct Echoes {
    socket_type: SocketType,
    count: u64,
    frames: usize,
    size: usize,
}

impl Echoes {
    fn new(pattern: LatPattern, size: usize, roundtrips: u64) -> Echoes {
        match pattern {
            LatPattern::ReqRep => Echoes {
                socket_type: SocketType::Rep,
                count: roundtrips,
                frames: 1,
                size,
            },
            // One more round: the untimed one that brings every connection up.
            LatPattern::DealerRouter(dealers) => Echoes {
                socket_type: SocketType::Router,
                count: (roundtrips + 1) * dealers as u64,
                frames: 2,
                size,
            },
        }
    }

    /// Exits unless `message` is a request of the expected shape.
    fn check(&self, message: &Message) {
        if message.len() != self.frames || message.last().map(|f| f.len()) != Some(self.size) {
            common::fail(format!(
                "request of {} frame(s), {} bytes; expected {} frame(s), the last of {} bytes",
                message.len(),
                message.byte_len(),
                self.frames,
                self.size
            ));
        }
    }
}

/// The handle APIs (`handle`, `tokio`).
fn with_handle(api: common::Api, bind_to: &str, echoes: Echoes) {
    let context = Context::new().unwrap_or_else(|e| common::fail(e));
    let socket = context
        .socket_with_options(echoes.socket_type, curve::binding(SocketOptions::default()))
        .unwrap_or_else(|e| common::fail(e));
    handles::run(api, async {
        socket
            .bind(bind_to)
            .await
            .unwrap_or_else(|e| common::fail(e));
        for _ in 0..echoes.count {
            let message = handles::recv(&socket, api).await;
            echoes.check(&message);
            handles::send(&socket, message, api).await;
        }
    });
    drop(socket);
    context.terminate();
}

fn native(bind_to: &str, echoes: Echoes) {
    native_runtime::new().block_on(native_body(bind_to, echoes))
}

async fn native_body(bind_to: &str, echoes: Echoes) {
    let socket = Socket::with_options(echoes.socket_type, curve::binding(SocketOptions::default()));
    socket
        .bind(bind_to)
        .await
        .unwrap_or_else(|e| common::fail(e));

    for _ in 0..echoes.count {
        let message = socket.recv().await.unwrap_or_else(|e| common::fail(e));
        echoes.check(&message);
        socket
            .send(message)
            .await
            .unwrap_or_else(|e| common::fail(e));
    }
    socket.close().await;
}
