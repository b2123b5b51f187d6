//! The two ways the perf tools drive a `Context`'s socket handles, so that each tool
//! writes its handle side once, as async code over [`send`] and [`recv`]:
//!
//! - `--api handle`: blocking calls (`send_blocking`, `recv_blocking`) from plain
//!   threads; [`run`] polls the code on this thread with `futures::executor`, and
//!   the blocking calls in it never leave it pending.
//! - `--api tokio`: the handles' own `send`/`recv` futures (and a [`Receiver`]'s
//!   stream), awaited on one current-thread tokio runtime with I/O and timers,
//!   built as the rival tools' (`perf-rivals`) is.
//!
//! Each tool uses only part of it.
#![allow(dead_code)]

use std::future::Future;

use futures::{Stream, StreamExt};
use monocoque::{Message, SocketHandle};

use crate::common::{self, Api};

/// Runs `future` to completion: on this thread (`handle`) or on a current-thread
/// tokio runtime (`tokio`).
pub fn run<F: Future>(api: Api, future: F) -> F::Output {
    match api {
        Api::Tokio => runtime().block_on(future),
        _ => futures::executor::block_on(future),
    }
}

/// Runs `futures` together to completion and returns their outputs in order: each on
/// a plain thread of its own (`handle`), or each as a task of one current-thread
/// tokio runtime (`tokio`).
pub fn run_each<F>(api: Api, futures: Vec<F>) -> Vec<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match api {
        Api::Tokio => runtime().block_on(async {
            let tasks: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
            let mut outputs = Vec::with_capacity(tasks.len());
            for task in tasks {
                outputs.push(
                    task.await
                        .unwrap_or_else(|_| common::fail("a task panicked")),
                );
            }
            outputs
        }),
        _ => {
            let threads: Vec<_> = futures
                .into_iter()
                .map(|future| std::thread::spawn(move || futures::executor::block_on(future)))
                .collect();
            threads
                .into_iter()
                .map(|t| {
                    t.join()
                        .unwrap_or_else(|_| common::fail("a thread panicked"))
                })
                .collect()
        }
    }
}

/// Sends `message` on `socket`, as `api` says.
pub async fn send(socket: &SocketHandle, message: impl Into<Message>, api: Api) {
    match api {
        Api::Tokio => socket.send(message).await,
        _ => socket.send_blocking(message, None),
    }
    .unwrap_or_else(|e| common::fail(e))
}

/// Receives the next message on `socket`, as `api` says.
pub async fn recv(socket: &SocketHandle, api: Api) -> Message {
    match api {
        Api::Tokio => socket.recv().await,
        _ => socket.recv_blocking(None),
    }
    .unwrap_or_else(|e| common::fail(e))
}

/// Where a receiving tool reads message after message: the handle's stream from
/// tokio (the way async code reads a socket in a loop; it takes what is waiting at
/// once), blocking `recv` from plain threads.
pub struct Receiver<'a, S> {
    socket: &'a SocketHandle,
    stream: Option<S>,
}

/// A [`Receiver`] of `socket`, as `api` says.
pub fn receiver(
    socket: &SocketHandle,
    api: Api,
) -> Receiver<'_, impl Stream<Item = Result<Message, monocoque::Error>> + Unpin> {
    Receiver {
        socket,
        stream: (api == Api::Tokio).then(|| socket.stream()),
    }
}

impl<S: Stream<Item = Result<Message, monocoque::Error>> + Unpin> Receiver<'_, S> {
    /// The next message.
    pub async fn recv(&mut self) -> Message {
        match &mut self.stream {
            Some(stream) => stream.next().await.unwrap_or(Err(monocoque::Error::Closed)),
            None => self.socket.recv_blocking(None),
        }
        .unwrap_or_else(|e| common::fail(e))
    }
}

/// What the rival tools run on: a current-thread tokio runtime with I/O and timers.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| common::fail(format_args!("tokio runtime: {e}")))
}
