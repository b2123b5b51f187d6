//! [`proxy`] and [`proxy_steerable`]: libzmq's `zmq_proxy` and
//! `zmq_proxy_steerable` over socket handles.
//!
//! Messages from the frontend go to the backend and back, each also sent to the
//! capture socket when there is one, until a socket closes (or a TERMINATE arrives
//! on the control socket).

use futures::FutureExt;

use super::handle::{SocketHandle, block_on_until};
use crate::error::Error;
use crate::proto::message::Message;
use crate::proto::socket_type::SocketType;

/// Counts kept for STATISTICS, in the order libzmq sends them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProxyStats {
    /// Messages received from the frontend.
    pub frontend_in: u64,
    /// Bytes of those messages.
    pub frontend_in_bytes: u64,
    /// Messages sent to the frontend.
    pub frontend_out: u64,
    /// Bytes of those messages.
    pub frontend_out_bytes: u64,
    /// Messages received from the backend.
    pub backend_in: u64,
    /// Bytes of those messages.
    pub backend_in_bytes: u64,
    /// Messages sent to the backend.
    pub backend_out: u64,
    /// Bytes of those messages.
    pub backend_out_bytes: u64,
}

impl ProxyStats {
    /// The STATISTICS reply: eight frames, each a native-endian `u64`, as libzmq.
    fn to_message(self) -> Message {
        [
            self.frontend_in,
            self.frontend_in_bytes,
            self.frontend_out,
            self.frontend_out_bytes,
            self.backend_in,
            self.backend_in_bytes,
            self.backend_out,
            self.backend_out_bytes,
        ]
        .into_iter()
        .map(|n| n.to_ne_bytes().to_vec())
        .collect()
    }
}

/// Forwards messages between `frontend` and `backend` (and copies each to
/// `capture`) until one of them closes.
///
/// # Errors
///
/// The error of the socket that failed; [`Error::Closed`] when one was closed (for
/// instance by [`Context::terminate`](super::context::Context::terminate)).
pub async fn proxy(
    frontend: &SocketHandle,
    backend: &SocketHandle,
    capture: Option<&SocketHandle>,
) -> Result<(), Error> {
    run(frontend, backend, capture, None).await.map(drop)
}

/// [`proxy`], steered by commands received on `control` (libzmq's
/// `zmq_proxy_steerable`): `PAUSE` stops forwarding, `RESUME` starts again,
/// `TERMINATE` ends the proxy (returning its counts), `STATISTICS` is answered on
/// `control` with eight 64-bit counts. Unknown commands are ignored.
///
/// # Errors
///
/// As [`proxy`].
pub async fn proxy_steerable(
    frontend: &SocketHandle,
    backend: &SocketHandle,
    capture: Option<&SocketHandle>,
    control: &SocketHandle,
) -> Result<ProxyStats, Error> {
    run(frontend, backend, capture, Some(control)).await
}

/// [`proxy`] for code with no async runtime: blocks the calling thread.
///
/// # Errors
///
/// As [`proxy`].
pub fn proxy_blocking(
    frontend: &SocketHandle,
    backend: &SocketHandle,
    capture: Option<&SocketHandle>,
) -> Result<(), Error> {
    block_on_until(proxy(frontend, backend, capture), None).unwrap_or(Err(Error::TimedOut))
}

/// What the proxy got next.
enum Next {
    Control(Message),
    Frontend(Message),
    Backend(Message),
}

async fn run(
    frontend: &SocketHandle,
    backend: &SocketHandle,
    capture: Option<&SocketHandle>,
    control: Option<&SocketHandle>,
) -> Result<ProxyStats, Error> {
    let mut stats = ProxyStats::default();
    let mut paused = false;
    loop {
        match next(frontend, backend, control, paused).await? {
            Next::Control(command) => match command.first().map_or(&[][..], |f| &f[..]) {
                b"PAUSE" => paused = true,
                b"RESUME" => paused = false,
                b"TERMINATE" => return Ok(stats),
                b"STATISTICS" => {
                    if let Some(control) = control {
                        control.send(stats.to_message()).await?;
                    }
                }
                _ => {}
            },
            Next::Frontend(message) => {
                let counts = [
                    &mut stats.frontend_in,
                    &mut stats.frontend_in_bytes,
                    &mut stats.backend_out,
                    &mut stats.backend_out_bytes,
                ];
                relay(message, backend, capture, counts).await?;
            }
            Next::Backend(message) => {
                let counts = [
                    &mut stats.backend_in,
                    &mut stats.backend_in_bytes,
                    &mut stats.frontend_out,
                    &mut stats.frontend_out_bytes,
                ];
                relay(message, frontend, capture, counts).await?;
            }
        }
    }
}

/// The next message from the control socket, or (unless paused) from either side.
/// Receives are cancel-safe: the ones not chosen took nothing.
async fn next(
    frontend: &SocketHandle,
    backend: &SocketHandle,
    control: Option<&SocketHandle>,
    paused: bool,
) -> Result<Next, Error> {
    let control = async {
        match control {
            Some(control) => control.recv().await.map(Next::Control),
            None => std::future::pending().await,
        }
    };
    let side = async {
        if paused {
            return std::future::pending().await;
        }
        // Unbiased: a busy frontend must not starve the backend. A side that cannot
        // receive (PUSH, PUB) is not asked, as libzmq's proxy polls it for nothing.
        futures::select! {
            message = receive(frontend).fuse() => message.map(Next::Frontend),
            message = receive(backend).fuse() => message.map(Next::Backend),
        }
    };
    futures::select_biased! {
        next = control.fuse() => next,
        next = side.fuse() => next,
    }
}

/// The next message of `socket`; never, for a socket type that does not receive.
async fn receive(socket: &SocketHandle) -> Result<Message, Error> {
    if matches!(socket.socket_type(), SocketType::Push | SocketType::Pub) {
        return std::future::pending().await;
    }
    socket.recv().await
}

/// Sends `message` on (copied to `capture` first), counting it in `counts`:
/// received, received bytes, sent, sent bytes.
async fn relay(
    message: Message,
    to: &SocketHandle,
    capture: Option<&SocketHandle>,
    counts: [&mut u64; 4],
) -> Result<(), Error> {
    let bytes = message.byte_len() as u64;
    let [received, received_bytes, sent, sent_bytes] = counts;
    *received += 1;
    *received_bytes += bytes;
    if let Some(capture) = capture {
        capture.send(message.clone()).await?;
    }
    to.send(message).await?;
    *sent += 1;
    *sent_bytes += bytes;
    Ok(())
}
