//! [`Port`]: the narrow way a connection reaches its socket's engine.
//!
//! A driver's connection (tcp, ipc, inproc) holds one port for the peer it serves.
//! Each method borrows the engine's state once and fires the wake-ups that go with
//! the change, so a delivered batch costs one borrow and one notification.

use std::rc::Rc;

use super::Engine;
use super::notify::Notify;
use super::out_queue::Queued;
use super::peers::SubscriptionOp;
use crate::proto::error::ProtocolError;
use crate::proto::handshake::PeerInfo;
use crate::proto::message::Message;
use crate::proto::pattern::PeerId;

/// How a connection ended, as far as the socket cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ending {
    /// Closed by the peer, or lost (reset, IO error).
    Lost,
    /// Closed for a protocol error of the peer (or a timeout).
    Failed(ProtocolError),
    /// Closed locally (unbind, disconnect, close).
    Stopped,
}

/// One connection's handle on its socket's engine.
#[derive(Debug)]
pub(crate) struct Port {
    engine: Rc<Engine>,
    id: PeerId,
    wake: Rc<Notify>,
}

impl Port {
    pub(crate) fn new(engine: Rc<Engine>, id: PeerId, wake: Rc<Notify>) -> Port {
        Port { engine, id, wake }
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    pub(crate) fn id(&self) -> PeerId {
        self.id
    }

    /// Fires when there may be something to send or room to read again.
    pub(crate) fn wake(&self) -> Rc<Notify> {
        self.wake.clone()
    }

    /// Whether the socket gave this peer's routing id to a newcomer
    /// (ROUTER_HANDOVER): the connection must close.
    pub(crate) fn is_evicted(&self) -> bool {
        self.engine.state.borrow().is_evicted(self.id)
    }

    /// The handshake completed. An error means the socket refuses the peer.
    pub(crate) fn handshake_complete(&self, info: PeerInfo) -> Result<(), ProtocolError> {
        self.engine.state.borrow_mut().peer_ready(self.id, info)?;
        self.engine.send_ready.notify();
        // A ROUTER_NOTIFY message may be waiting.
        self.engine.recv_ready.notify();
        self.engine.peers_changed.notify();
        Ok(())
    }

    /// Hands the subscription changes waiting for the peer to `take`, in order.
    #[inline]
    pub(crate) fn take_subscription_ops(&self, take: impl FnMut(SubscriptionOp)) {
        let mut state = self.engine.state.borrow_mut();
        state.take_subscription_ops(self.id, take);
    }

    /// Hands queued messages to `encode`, in order, while it answers that there is
    /// room for another; wakes blocked senders if it took any. (Subscription changes
    /// go first: take them with [`take_subscription_ops`](Self::take_subscription_ops)
    /// before.)
    #[inline]
    pub(crate) fn take_outgoing(&self, encode: impl FnMut(Queued<'_>) -> bool) {
        let taken = self
            .engine
            .state
            .borrow_mut()
            .take_outgoing(self.id, encode);
        if taken > 0 {
            self.engine.send_ready.notify();
        }
    }

    /// Up to `count` queued messages and every subscription change, for an inproc
    /// peer.
    pub(crate) fn take_messages(
        &self,
        count: usize,
        messages: &mut Vec<Message>,
        ops: &mut Vec<SubscriptionOp>,
    ) {
        let mut state = self.engine.state.borrow_mut();
        state.take_messages(self.id, count, messages, ops);
    }

    /// Tells the engine whether this connection has written everything (`idle`:
    /// nothing in flight or buffered). Returns whether all is flushed.
    #[inline]
    pub(crate) fn note_idle(&self, idle: bool) -> bool {
        let (flushed, newly) = self.engine.state.borrow_mut().note_idle(self.id, idle);
        if newly {
            self.engine.flushed.notify();
        }
        flushed
    }

    /// Whether the peer's inbound queue is below the receive high-water mark.
    #[inline]
    pub(crate) fn can_read(&self) -> bool {
        self.engine.state.borrow().can_read(self.id)
    }

    /// How many more messages the peer's inbound queue takes (inproc).
    pub(crate) fn inbound_room(&self) -> usize {
        self.engine.state.borrow().inbound_room(self.id)
    }

    /// Queues the messages `next` puts in its slot, until it leaves the slot empty,
    /// in one borrow; wakes receivers once.
    #[inline]
    pub(crate) fn deliver(&self, next: impl FnMut(&mut Option<Message>)) {
        let delivered = self.engine.state.borrow_mut().deliver_all(self.id, next);
        if delivered {
            self.engine.recv_ready.notify();
        }
    }

    /// The peer subscribed to or cancelled `topic` (PUB, XPUB).
    #[inline]
    pub(crate) fn subscription(&self, topic: &[u8], on: bool) {
        let reported = self
            .engine
            .state
            .borrow_mut()
            .peer_subscribed(self.id, topic, on);
        if reported {
            self.engine.recv_ready.notify();
        }
    }

    /// Wakes the socket's senders (an inproc peer took messages).
    pub(crate) fn notify_sent(&self) {
        self.engine.send_ready.notify();
    }

    /// The connection ended: counts it and updates routing, then wakes every waiter
    /// (senders, receivers, `close`, `wait_for_peers`).
    pub(crate) fn finish(self, ending: &Ending) {
        let mut state = self.engine.state.borrow_mut();
        match ending {
            Ending::Failed(err) => state.record_protocol_error(err.clone()),
            Ending::Lost => state.stats.disconnects += 1,
            Ending::Stopped => {}
        }
        state.peer_disconnected(self.id);
        drop(state);
        let engine = &self.engine;
        for signal in [
            &engine.send_ready,
            &engine.recv_ready,
            &engine.flushed,
            &engine.peers_changed,
        ] {
            signal.notify();
        }
    }
}
