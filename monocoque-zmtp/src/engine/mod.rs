//! The engine: what a socket and its connections share, with no IO.
//!
//! ```text
//!  socket/  ──send/recv──▶ Engine ◀──Port (one per connection)── driver/
//!                            │
//!                            ├─ State (RefCell): Peers (queues, HWMs, fair queue)
//!                            │                   Routing (one state per socket type)
//!                            └─ signals: recv_ready, send_ready, flushed, peers_changed
//! ```
//!
//! Every change that someone may be waiting for goes through a method here or on
//! [`Port`](port::Port), which borrows the state once and fires the matching wake-ups
//! itself, so no caller pairs a borrow with a notify by hand. Single-threaded by
//! design (`Rc`, `RefCell`): a socket lives on one runtime thread. No compio here:
//! the engine builds and is tested without the `runtime` feature.

#[cfg(feature = "runtime")]
pub(crate) mod link;
pub mod monitor;
pub(crate) mod notify;
pub(crate) mod out_queue;
mod peer_table;
pub(crate) mod peers;
pub(crate) mod port;
#[cfg(feature = "runtime")]
pub(crate) mod remote_waker;
pub(crate) mod routing;
pub(crate) mod state;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use bytes::Bytes;

use self::notify::{Notify, Stop};
use self::port::Port;
use self::state::State;
use crate::config::SocketOptions;
use crate::error::Error;
use crate::proto::error::ProtocolError;
use crate::proto::message::Message;
use crate::proto::pattern::PeerId;
use crate::proto::socket_type::SocketType;

#[cfg(feature = "runtime")]
pub(crate) use self::state::conflates;
pub use self::state::{RecentError, SocketStats};

/// Everything a socket and its connections share on one runtime thread.
#[derive(Debug)]
pub(crate) struct Engine {
    pub(crate) socket_type: SocketType,
    pub(crate) options: SocketOptions,
    state: RefCell<State>,
    /// Notified when a message may be ready to receive.
    pub(crate) recv_ready: Notify,
    /// Notified when a peer may accept a message.
    pub(crate) send_ready: Notify,
    /// Notified when a connection flushed its queue (for `close` with linger).
    pub(crate) flushed: Notify,
    /// Notified when a handshake completed or a connection ended.
    pub(crate) peers_changed: Notify,
    /// Stops every task of the socket.
    pub(crate) shutdown: Stop,
    /// Listening sockets still open (their accept loops close them on stop).
    listeners: Cell<usize>,
    /// Notified when a listening socket was closed.
    pub(crate) listener_closed: Notify,
    /// The inproc names the socket binds and connects to: its context's, or its
    /// thread's.
    #[cfg(feature = "runtime")]
    pub(crate) names: std::sync::Arc<link::Names>,
    /// The socket's monitor, if one was asked for.
    #[cfg_attr(not(feature = "runtime"), allow(dead_code))]
    monitor: RefCell<Option<std::sync::Arc<monitor::MonitorShared>>>,
}

impl Engine {
    #[cfg(all(test, feature = "runtime"))]
    pub(crate) fn new(socket_type: SocketType, options: SocketOptions) -> Rc<Engine> {
        Self::with_names(socket_type, options, link::Names::of_thread())
    }

    /// An engine whose inproc names are `names` (a context's).
    #[cfg(feature = "runtime")]
    pub(crate) fn with_names(
        socket_type: SocketType,
        options: SocketOptions,
        names: std::sync::Arc<link::Names>,
    ) -> Rc<Engine> {
        Rc::new(Engine {
            names,
            socket_type,
            state: RefCell::new(State::new(socket_type, &options)),
            options,
            recv_ready: Notify::default(),
            send_ready: Notify::default(),
            flushed: Notify::default(),
            peers_changed: Notify::default(),
            shutdown: Stop::default(),
            listeners: Cell::new(0),
            listener_closed: Notify::default(),
            monitor: RefCell::new(None),
        })
    }

    // ---- the monitor ----
}

#[cfg_attr(not(feature = "runtime"), allow(dead_code))]
impl Engine {
    /// Starts a monitor for this socket; a previous one stops.
    pub(crate) fn monitor(&self) -> monitor::Monitor {
        let (reader, shared) = monitor::Monitor::new();
        if let Some(old) = self.monitor.borrow_mut().replace(shared) {
            old.stop();
        }
        reader
    }

    /// Stops the monitor, if any (the socket closed).
    pub(crate) fn stop_monitor(&self) {
        if let Some(old) = self.monitor.borrow_mut().take() {
            old.stop();
        }
    }

    /// Reports an event to the monitor; `event` is only built when there is one.
    pub(crate) fn emit(&self, event: impl FnOnce() -> monitor::SocketEvent) {
        if let Some(monitor) = &*self.monitor.borrow() {
            monitor.push(event());
        }
    }

    // ---- the socket's side ----

    /// Sends the message in `slot` by the socket type's rule, without waiting; see
    /// [`State::offer`].
    #[inline]
    pub(crate) fn offer(&self, slot: &mut Option<Message>) -> Result<usize, Error> {
        self.state.borrow_mut().offer(slot)
    }

    /// Sends `message` by the socket type's rule, without waiting (for tests).
    #[cfg(test)]
    pub(crate) fn try_send(&self, message: Message) -> Result<state::SendOutcome, Error> {
        self.state.borrow_mut().try_send(message)
    }

    /// Messages waiting in the peers' outgoing queues (for tests).
    #[cfg(test)]
    pub(crate) fn queued_out(&self) -> usize {
        self.state.borrow().queued_out()
    }

    /// Receives by the socket type's rule, without waiting.
    #[inline]
    pub(crate) fn try_recv(&self) -> Result<Option<Message>, Error> {
        self.state.borrow_mut().try_recv()
    }

    /// [`try_recv`](Self::try_recv) into `slot` (empty when called).
    #[inline]
    pub(crate) fn recv_into(&self, slot: &mut Option<Message>) -> Result<(), Error> {
        self.state.borrow_mut().recv_into(slot)
    }

    /// Whether receiving is the socket's turn now (REQ, REP; always for the others).
    pub(crate) fn recv_allowed(&self) -> bool {
        self.state.borrow().recv_allowed()
    }

    /// Subscribes to or cancels `topic` (SUB, XSUB).
    pub(crate) fn change_subscription(&self, topic: &[u8], on: bool) -> Result<(), Error> {
        self.state.borrow_mut().change_subscription(topic, on)
    }

    /// A peer for a connecting endpoint, made before any connection so messages
    /// queue for it (libzmq's connect-side pipe); a ROUTER's is named `routing_id`
    /// when the application chose one (`ZMQ_CONNECT_ROUTING_ID`).
    pub(crate) fn add_connecting_peer(
        &self,
        routing_id: Option<Bytes>,
    ) -> Result<PeerId, ProtocolError> {
        let mut state = self.state.borrow_mut();
        let id = state.add_peer(true).0;
        if let Some(routing_id) = routing_id
            && let Err(err) = state.name_peer(id, routing_id)
        {
            state.remove_peer(id);
            return Err(err);
        }
        Ok(id)
    }

    /// A connecting endpoint was closed: its peer goes, with whatever it queued.
    pub(crate) fn remove_connecting_peer(&self, id: PeerId) {
        self.state.borrow_mut().remove_peer(id);
        self.flushed.notify();
    }

    pub(crate) fn peer_count(&self) -> usize {
        self.state.borrow().peer_count()
    }

    pub(crate) fn stats(&self) -> SocketStats {
        self.state.borrow().stats
    }

    pub(crate) fn recent_errors(&self) -> Vec<RecentError> {
        self.state.borrow().recent_errors()
    }

    /// Whether every queued message was written (for `close` with a linger).
    pub(crate) fn all_flushed(&self) -> bool {
        self.state.borrow().all_flushed()
    }

    /// Stops every task of the socket and wakes its callers.
    pub(crate) fn shut_down(&self) {
        self.shutdown.stop();
        self.recv_ready.notify();
        self.send_ready.notify();
    }

    // ---- the driver's side ----

    /// The port of a new connection: the connecting endpoint's own peer `id`, which
    /// outlives its connections, or a fresh peer. `None` if that peer is gone.
    pub(crate) fn port(self: &Rc<Self>, id: Option<PeerId>) -> Option<Port> {
        let (id, wake) = match id {
            Some(id) => (id, self.state.borrow().wake_of(id)?),
            None => self.state.borrow_mut().add_peer(false),
        };
        Some(Port::new(self.clone(), id, wake))
    }

    pub(crate) fn listener_opened(&self) {
        self.listeners.set(self.listeners.get() + 1);
    }

    pub(crate) fn listener_closed(&self) {
        self.listeners.set(self.listeners.get().saturating_sub(1));
        self.listener_closed.notify();
    }

    pub(crate) fn listeners_open(&self) -> usize {
        self.listeners.get()
    }
}
