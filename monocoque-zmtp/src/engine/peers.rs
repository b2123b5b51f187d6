//! The socket's peers: one pair of queues per connection (libzmq's pipe), with the
//! high-water marks, and the fair-queue order every receiving socket type reads in.

use std::collections::VecDeque;
use std::rc::Rc;

use bytes::Bytes;

use super::notify::Notify;
use super::out_queue::{OutQueue, Outgoing};
use super::peer_table::PeerTable;
use crate::proto::handshake::PeerInfo;
use crate::proto::message::Message;
use crate::proto::pattern::{PeerId, RoundRobin};

/// A subscription change waiting to be sent to one peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SubscriptionOp {
    Subscribe(Bytes),
    Cancel(Bytes),
}

/// One peer: a pair of queues and what the handshake told us.
#[derive(Debug)]
pub(crate) struct Peer {
    pub(crate) out: OutQueue,
    pub(crate) inbound: VecDeque<Message>,
    pub(crate) subscription_ops: VecDeque<SubscriptionOp>,
    /// Set once the handshake completed, cleared when the connection ends.
    pub(crate) info: Option<PeerInfo>,
    /// Wakes the peer's connection task (messages to send, room to read).
    pub(crate) wake: Rc<Notify>,
    /// A connecting endpoint's peer: it outlives connections (libzmq keeps its pipe
    /// across reconnects so queued messages are not lost).
    pub(crate) persistent: bool,
    /// The connection task has written everything it was given.
    pub(crate) flushed: bool,
    /// The connection is gone; the peer stays only until its inbound queue is read.
    pub(crate) departed: bool,
    /// Its routing id went to a newcomer (ROUTER_HANDOVER): the connection closes.
    pub(crate) evicted: bool,
    /// `ZMQ_CONFLATE`: each queue keeps only its last message.
    pub(crate) conflate: bool,
    /// A second PAIR peer: its connection stays open but is never read from or
    /// written to, as libzmq keeps it, until it ends.
    pub(crate) parked: bool,
}

impl Peer {
    /// Queues a message for the peer's connection and wakes it.
    #[inline]
    pub(crate) fn enqueue(&mut self, message: Outgoing) {
        if self.conflate {
            self.out.clear();
        }
        self.out.push_back(message);
        self.flushed = false;
        self.wake.notify();
    }

    /// Queues a message that arrived from the peer for `recv`.
    #[inline]
    pub(crate) fn deliver(&mut self, message: Message) {
        if self.conflate {
            self.inbound.clear();
        }
        self.inbound.push_back(message);
    }

    /// Queues a subscription change for the peer's connection and wakes it.
    pub(crate) fn queue_subscription(&mut self, op: SubscriptionOp) {
        self.subscription_ops.push_back(op);
        self.wake.notify();
    }

    #[inline]
    pub(crate) fn is_connected(&self) -> bool {
        self.info.is_some()
    }
}

/// Whether a queue of `len` messages is below the high-water mark `hwm` (0: none).
#[inline]
pub(crate) fn below(len: usize, hwm: usize) -> bool {
    hwm == 0 || len < hwm
}

/// Every peer of one socket, with the socket's high-water marks.
#[derive(Debug)]
pub(crate) struct Peers {
    table: PeerTable<Peer>,
    /// Peers that may be received from, in fair-queue order.
    incoming: RoundRobin,
    pub(crate) sndhwm: usize,
    pub(crate) rcvhwm: usize,
    /// `ZMQ_CONFLATE`: every peer's queues keep only their last message.
    conflate: bool,
}

/// Where the message [`Peers::next_inbound`] put in its slot came from.
#[derive(Debug)]
pub(crate) struct Inbound {
    pub(crate) from: PeerId,
    /// The peer had departed and this was its last message: remove it.
    pub(crate) drained: bool,
}

impl Peers {
    pub(crate) fn new(sndhwm: usize, rcvhwm: usize) -> Peers {
        Peers {
            table: PeerTable::default(),
            incoming: RoundRobin::new(),
            sndhwm,
            rcvhwm,
            conflate: false,
        }
    }

    /// Peers whose queues keep only their last message (`ZMQ_CONFLATE`): the
    /// high-water marks no longer apply, as in libzmq.
    pub(crate) fn conflating() -> Peers {
        Peers {
            conflate: true,
            ..Peers::new(0, 0)
        }
    }

    /// A new peer with empty queues, not yet connected.
    pub(crate) fn add(&mut self, persistent: bool) -> (PeerId, Rc<Notify>) {
        let wake = Rc::new(Notify::default());
        let id = self.table.insert(Peer {
            out: OutQueue::default(),
            inbound: VecDeque::new(),
            subscription_ops: VecDeque::new(),
            info: None,
            wake: wake.clone(),
            persistent,
            flushed: true,
            departed: false,
            evicted: false,
            conflate: self.conflate,
            parked: false,
        });
        (id, wake)
    }

    /// Removes a peer and its queues, waking its connection task.
    pub(crate) fn remove(&mut self, id: PeerId) {
        self.incoming.detach(id);
        if let Some(peer) = self.table.remove(&id) {
            peer.wake.notify();
        }
    }

    /// The handshake with `id` completed: it may be received from.
    pub(crate) fn connect(&mut self, id: PeerId, info: PeerInfo) {
        if let Some(peer) = self.table.get_mut(&id) {
            peer.info = Some(info);
        }
        self.incoming.attach(id);
    }

    #[inline]
    pub(crate) fn get(&self, id: PeerId) -> Option<&Peer> {
        self.table.get(&id)
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, id: PeerId) -> Option<&mut Peer> {
        self.table.get_mut(&id)
    }

    /// The peer, if its handshake completed and its connection lives.
    #[inline]
    pub(crate) fn connected_mut(&mut self, id: PeerId) -> Option<&mut Peer> {
        self.table.get_mut(&id).filter(|p| p.is_connected())
    }

    #[inline]
    pub(crate) fn is_connected(&self, id: PeerId) -> bool {
        self.table.get(&id).is_some_and(Peer::is_connected)
    }

    /// Whether `id`'s outgoing queue is below the send high-water mark.
    #[inline]
    pub(crate) fn has_room(&self, id: PeerId) -> bool {
        self.table
            .get(&id)
            .is_some_and(|p| below(p.out.len(), self.sndhwm))
    }

    /// The peer, if its outgoing queue is below the send high-water mark.
    #[inline]
    pub(crate) fn with_room(&mut self, id: PeerId) -> Option<&mut Peer> {
        let hwm = self.sndhwm;
        self.table.get_mut(&id).filter(|p| below(p.out.len(), hwm))
    }

    /// Ids of the peers whose handshake completed.
    pub(crate) fn connected(&self) -> impl Iterator<Item = PeerId> + '_ {
        self.table
            .iter()
            .filter(|(_, p)| p.is_connected())
            .map(|(id, _)| id)
    }

    pub(crate) fn connected_count(&self) -> usize {
        self.table.values().filter(|p| p.is_connected()).count()
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Peer> {
        self.table.values_mut()
    }

    /// Messages waiting in every peer's outgoing queue (for tests).
    #[cfg(test)]
    pub(crate) fn queued_out(&self) -> usize {
        self.table.values().map(|p| p.out.len()).sum()
    }

    pub(crate) fn all_flushed(&self) -> bool {
        self.table.values().all(|p| p.out.is_empty() && p.flushed)
    }

    /// Takes the next message in fair-queue order into `slot` (empty when called),
    /// and says whose it was. A peer that was at its receive high-water mark is
    /// woken, since its connection may read again.
    ///
    /// The message goes straight from the peer's queue into the caller's slot: a
    /// message is 80 bytes, and each move on the way to `recv` costs.
    #[inline]
    pub(crate) fn next_inbound(&mut self, slot: &mut Option<Message>) -> Option<Inbound> {
        let (table, rcvhwm) = (&mut self.table, self.rcvhwm);
        // One lookup per message: the fair-queue rotation takes the message too.
        self.incoming.next_with(|from| {
            let peer = table.get_mut(&from)?;
            let was_full = !below(peer.inbound.len(), rcvhwm);
            *slot = Some(peer.inbound.pop_front()?);
            if was_full {
                peer.wake.notify();
            }
            let drained = peer.inbound.is_empty() && peer.departed;
            Some(Inbound { from, drained })
        })
    }
}
