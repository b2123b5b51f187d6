//! PUSH and DEALER (RFC 28, 30): round robin over the peers with room; and PAIR
//! (RFC 31), the same with at most one peer.

use super::{Departure, Routed};
use crate::engine::out_queue::Outgoing;
use crate::engine::peers::Peers;
use crate::proto::error::ProtocolError;
use crate::proto::message::Message;
use crate::proto::pattern::{PeerId, RoundRobin};

/// Sends round robin to the peers below their high-water mark; waits when none is.
#[derive(Debug)]
pub(crate) struct LoadBalance {
    /// Peers that may be sent to, in rotation order.
    out: RoundRobin,
    /// Queue for a connecting peer before its handshake (not `immediate`).
    early: bool,
    /// DEALER receives (fair queue); PUSH does not.
    receives: bool,
}

impl LoadBalance {
    pub(crate) fn new(early: bool, receives: bool) -> LoadBalance {
        LoadBalance {
            out: RoundRobin::new(),
            early,
            receives,
        }
    }

    pub(crate) fn receives(&self) -> bool {
        self.receives
    }

    /// A connecting endpoint's peer: it takes messages from now on, unless
    /// `immediate` holds them back until its handshake.
    pub(crate) fn pending(&mut self, id: PeerId) {
        if self.early {
            self.out.attach(id);
        }
    }

    pub(crate) fn attach(&mut self, id: PeerId) {
        self.out.attach(id);
    }

    /// A connecting endpoint's peer keeps its place across reconnects when it
    /// queues early; any other leaves the rotation.
    pub(crate) fn detach(&mut self, id: PeerId, why: Departure) {
        let keeps_place = matches!(
            why,
            Departure::Lost {
                persistent: true,
                ..
            }
        ) && self.early;
        if !keeps_place {
            self.out.detach(id);
        }
    }

    /// The next peer with room, in rotation order.
    #[inline]
    pub(crate) fn pick(&mut self, peers: &Peers) -> Option<PeerId> {
        self.out.next(|id| peers.has_room(id))
    }

    #[inline]
    pub(crate) fn send(&mut self, peers: &mut Peers, slot: &mut Option<Message>) -> Routed {
        // One lookup per message: the rotation queues it too.
        self.out.next_with(|id| {
            let peer = peers.with_room(id)?;
            peer.enqueue(Outgoing::Single(slot.take()?));
            Some(())
        });
        match slot {
            Some(_) => Routed::WouldBlock,
            None => Routed::Queued,
        }
    }
}

/// PAIR: one peer at a time; a second one is parked (see `State::peer_ready`).
#[derive(Debug)]
pub(crate) struct Pair {
    lb: LoadBalance,
}

impl Pair {
    pub(crate) fn new(early: bool) -> Pair {
        Pair {
            lb: LoadBalance::new(early, true),
        }
    }

    pub(crate) fn balancer(&mut self) -> &mut LoadBalance {
        &mut self.lb
    }

    /// Whether another peer holds the PAIR's one place.
    pub(crate) fn is_taken(&self, peers: &Peers, id: PeerId) -> bool {
        peers.connected().any(|other| other != id)
    }

    pub(crate) fn attach(&mut self, peers: &Peers, id: PeerId) -> Result<(), ProtocolError> {
        if self.is_taken(peers, id) {
            return Err(ProtocolError::PairAlreadyConnected);
        }
        self.lb.attach(id);
        Ok(())
    }
}
