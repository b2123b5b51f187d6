//! `futures::Stream` and `futures::Sink` views of a socket, so sockets compose with the
//! combinators Rust users know (`StreamExt::next`, `take`, `timeout` from their
//! runtime's stream utilities, `SinkExt::send_all`, `forward`, ...).
//!
//! A stream yields each received message (or a receive error) and ends when the socket
//! is closed; a sink sends one message at a time, `poll_ready` waiting while the
//! previous one is being queued. Both are cancel-safe as `recv` and `send` are, and
//! `Unpin` (boxed once when made), so `next()` and `send()` work without pinning.

use futures::{Sink, Stream};

use crate::error::Error;
use crate::proto::message::Message;

/// Messages from `recv`, until it reports [`Error::Closed`].
pub(crate) fn messages<S, F>(
    socket: S,
    recv: impl Fn(S) -> F,
) -> impl Stream<Item = Result<Message, Error>> + Unpin
where
    F: Future<Output = (Result<Message, Error>, S)>,
{
    Box::pin(futures::stream::unfold(Some(socket), move |socket| {
        let next = socket.map(&recv);
        async move {
            let (received, socket) = next?.await;
            match received {
                Err(Error::Closed) => None,
                other => Some((other, Some(socket))),
            }
        }
    }))
}

/// A sink that hands each message to `send`.
pub(crate) fn sender<S, F>(
    socket: S,
    send: impl FnMut(S, Message) -> F,
) -> impl Sink<Message, Error = Error> + Unpin
where
    F: Future<Output = Result<S, Error>>,
{
    Box::pin(futures::sink::unfold(socket, send))
}
