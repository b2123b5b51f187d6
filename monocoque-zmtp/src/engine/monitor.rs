//! Socket monitors (libzmq's `zmq_socket_monitor`, typed): a bounded queue of events
//! about a socket's endpoints and peers, filled on the socket's thread and read from
//! any thread.
//!
//! A slow reader never blocks the socket: beyond [`MONITOR_CAPACITY`] events the newest
//! are dropped and counted ([`Monitor::dropped`]).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::proto::error::ProtocolError;

/// Events a monitor holds before it drops new ones.
pub const MONITOR_CAPACITY: usize = 1024;

/// Why a handshake failed, as libzmq's three handshake-failure events tell it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeFailure {
    /// The peer broke the protocol (a malformed greeting or command, an incompatible
    /// socket type or mechanism, a CURVE box that did not open, ...).
    Protocol(ProtocolError),
    /// Authentication failed: a ZAP refusal on our side, or the peer's ERROR.
    Authentication(ProtocolError),
    /// No detail: the handshake did not complete in time.
    NoDetail(ProtocolError),
}

impl HandshakeFailure {
    /// Sorts a handshake's error as libzmq's events do.
    pub fn of(error: ProtocolError) -> HandshakeFailure {
        match error {
            ProtocolError::ZapDenied { .. }
            | ProtocolError::ZapUnavailable
            | ProtocolError::ZapMalformed(_)
            | ProtocolError::PeerError { .. } => HandshakeFailure::Authentication(error),
            ProtocolError::HandshakeTimeout => HandshakeFailure::NoDetail(error),
            _ => HandshakeFailure::Protocol(error),
        }
    }
}

/// Something that happened to a socket's endpoints or peers. `endpoint` is the
/// endpoint as bound or connected; `peer` the peer's address (an IP address for tcp,
/// empty for ipc).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SocketEvent {
    /// `bind` succeeded.
    #[allow(missing_docs)]
    Listening { endpoint: String },
    /// `bind` failed.
    #[allow(missing_docs)]
    BindFailed { endpoint: String, error: String },
    /// A connection was accepted.
    #[allow(missing_docs)]
    Accepted { endpoint: String, peer: String },
    /// Accepting a connection failed (out of descriptors, ...).
    #[allow(missing_docs)]
    AcceptFailed { endpoint: String, error: String },
    /// A connection was made.
    #[allow(missing_docs)]
    Connected { endpoint: String, peer: String },
    /// A connect failed; the socket will retry (the first failure of a series).
    #[allow(missing_docs)]
    ConnectDelayed { endpoint: String, error: String },
    /// The socket tries to connect again after `after`.
    #[allow(missing_docs)]
    ConnectRetried { endpoint: String, after: Duration },
    /// The handshake completed: the peer can exchange messages.
    #[allow(missing_docs)]
    HandshakeSucceeded { endpoint: String, peer: String },
    /// The handshake failed, for this reason; the connection is closed.
    #[allow(missing_docs)]
    HandshakeFailed {
        endpoint: String,
        peer: String,
        reason: HandshakeFailure,
    },
    /// An established connection ended (closed by the peer, lost, or a protocol
    /// error after the handshake, given in `error`).
    #[allow(missing_docs)]
    Disconnected {
        endpoint: String,
        peer: String,
        error: Option<ProtocolError>,
    },
    /// A listening endpoint was closed (`unbind`, `close`), or a connecting endpoint
    /// gave up as `reconnect_stop` asked.
    #[allow(missing_docs)]
    Closed { endpoint: String },
    /// The monitor was replaced, or its socket closed: no more events.
    MonitorStopped,
}

#[derive(Debug, Default)]
struct Queue {
    events: VecDeque<SocketEvent>,
    dropped: u64,
    stopped: bool,
    /// The reader waiting for an event.
    waker: Option<Waker>,
}

impl Queue {
    fn wake(&mut self) {
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

/// The part the socket's thread and the reader share.
#[derive(Debug, Default)]
pub(crate) struct MonitorShared {
    queue: Mutex<Queue>,
}

impl MonitorShared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds an event, or counts it as dropped when the queue is full.
    pub(crate) fn push(&self, event: SocketEvent) {
        let mut queue = self.lock();
        if queue.stopped {
            return;
        }
        if queue.events.len() >= MONITOR_CAPACITY {
            queue.dropped += 1;
        } else {
            queue.events.push_back(event);
            queue.wake();
        }
    }

    /// Ends the monitor: a last `MonitorStopped`, then nothing.
    pub(crate) fn stop(&self) {
        let mut queue = self.lock();
        if !queue.stopped {
            queue.events.push_back(SocketEvent::MonitorStopped);
            queue.stopped = true;
        }
        queue.wake();
    }
}

/// The reading end of a socket's monitor: `Send + Sync`, usable from any thread or
/// runtime, and a [`futures::Stream`] of [`SocketEvent`]s that ends after
/// [`SocketEvent::MonitorStopped`].
#[derive(Debug, Clone)]
pub struct Monitor {
    shared: Arc<MonitorShared>,
}

impl Monitor {
    pub(crate) fn new() -> (Monitor, Arc<MonitorShared>) {
        let shared = Arc::new(MonitorShared::default());
        (
            Monitor {
                shared: shared.clone(),
            },
            shared,
        )
    }

    /// The next event if one is waiting.
    pub fn try_next(&self) -> Option<SocketEvent> {
        self.shared.lock().events.pop_front()
    }

    /// The next event; `None` once the monitor stopped and every event was read.
    pub async fn next(&self) -> Option<SocketEvent> {
        std::future::poll_fn(|cx| self.poll_event(cx)).await
    }

    /// Events dropped because the reader fell behind by [`MONITOR_CAPACITY`].
    pub fn dropped(&self) -> u64 {
        self.shared.lock().dropped
    }

    fn poll_event(&self, cx: &mut Context<'_>) -> Poll<Option<SocketEvent>> {
        let mut queue = self.shared.lock();
        match queue.events.pop_front() {
            Some(event) => Poll::Ready(Some(event)),
            None if queue.stopped => Poll::Ready(None),
            None => {
                queue.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

#[cfg(feature = "runtime")]
impl futures::Stream for Monitor {
    type Item = SocketEvent;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<SocketEvent>> {
        self.poll_event(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_counts_what_it_drops_and_stop_ends_the_stream() {
        let (monitor, shared) = Monitor::new();
        for i in 0..MONITOR_CAPACITY + 5 {
            shared.push(SocketEvent::Closed {
                endpoint: i.to_string(),
            });
        }
        assert_eq!(monitor.dropped(), 5);
        shared.stop();
        shared.push(SocketEvent::Closed {
            endpoint: "late".into(),
        });
        let events: Vec<SocketEvent> = futures::executor::block_on(async {
            let mut events = Vec::new();
            while let Some(event) = monitor.next().await {
                events.push(event);
            }
            events
        });
        assert_eq!(events.len(), MONITOR_CAPACITY + 1);
        assert_eq!(events.last(), Some(&SocketEvent::MonitorStopped));
    }

    #[test]
    fn handshake_failures_are_sorted_as_libzmq_sorts_them() {
        assert!(matches!(
            HandshakeFailure::of(ProtocolError::ZapDenied { status: 400 }),
            HandshakeFailure::Authentication(_)
        ));
        assert!(matches!(
            HandshakeFailure::of(ProtocolError::HandshakeTimeout),
            HandshakeFailure::NoDetail(_)
        ));
        assert!(matches!(
            HandshakeFailure::of(ProtocolError::BadSignature),
            HandshakeFailure::Protocol(_)
        ));
    }
}
