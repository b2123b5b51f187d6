//! The only code that touches compio: accept, connect and reconnect, read → decode,
//! encode → write, timers. A connection reaches its socket's engine through a
//! [`Port`](crate::engine::port::Port) and nothing else.

pub(crate) mod connection;
pub(crate) mod direct;
#[cfg(test)]
mod duplex;
pub(crate) mod inproc;
pub(crate) mod io_thread;
pub(crate) mod resolve;
pub mod runtime;
pub(crate) mod transport;
pub(crate) mod zap;

use std::time::Instant;

/// Sleeps until `deadline`; forever without one.
pub(crate) async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => compio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Runs `task` on the current thread's compio runtime.
pub(crate) fn spawn(task: impl Future<Output = ()> + 'static) {
    compio::runtime::spawn(task).detach();
}
