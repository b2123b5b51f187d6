//! ROUTER (RFC 28): the first frame names the peer on send; the peer's routing id is
//! put in front of what it sends.

use std::collections::HashSet;

use bytes::Bytes;

use super::{Departure, Routed};
use crate::engine::out_queue::Outgoing;
use crate::engine::peers::Peers;
use crate::error::Error;
use crate::proto::error::ProtocolError;
use crate::proto::handshake::PeerInfo;
use crate::proto::message::Message;
use crate::proto::pattern::{PeerId, RoutingTable};

#[derive(Debug)]
pub(crate) struct Router {
    table: RoutingTable,
    /// `ROUTER_MANDATORY`: fail instead of dropping an unroutable message.
    mandatory: bool,
    /// `ROUTER_HANDOVER`: a newcomer announcing a routing id in use takes it over.
    handover: bool,
    /// `ZMQ_CONNECT_ROUTING_ID`: connecting endpoints' peers named by the application.
    /// They keep their name across reconnects, whatever Identity they announce.
    named: HashSet<PeerId>,
    /// Messages queue for a named peer before its connection completes (not with
    /// `ZMQ_IMMEDIATE`).
    early: bool,
}

/// Checks a `ZMQ_CONNECT_ROUTING_ID`: 1 to 255 bytes, not starting with a zero byte
/// (the ids a ROUTER generates do).
pub(crate) fn check_connect_routing_id(routing_id: &[u8]) -> Result<(), ProtocolError> {
    match routing_id.first() {
        Some(&first) if first != 0 && routing_id.len() <= 255 => Ok(()),
        _ => Err(ProtocolError::InvalidOption(
            "connect_routing_id must be 1-255 bytes, not starting with a zero byte",
        )),
    }
}

impl Router {
    pub(crate) fn new(mandatory: bool, handover: bool, early: bool) -> Router {
        Router {
            table: RoutingTable::new(),
            mandatory,
            handover,
            named: HashSet::new(),
            early,
        }
    }

    /// Gives a connecting endpoint's peer the routing id the application chose
    /// (`ZMQ_CONNECT_ROUTING_ID`) before it connects, so messages can be sent to it by
    /// that id at once. Refused when the id is malformed or already names a peer
    /// (libzmq asserts on the latter).
    pub(crate) fn name(&mut self, id: PeerId, routing_id: Bytes) -> Result<(), ProtocolError> {
        check_connect_routing_id(&routing_id)?;
        if self.table.peer_for(&routing_id).is_some() {
            return Err(ProtocolError::InvalidOption(
                "connect_routing_id is already the routing id of a peer",
            ));
        }
        self.table.attach(id, Some(routing_id))?;
        self.named.insert(id);
        Ok(())
    }

    /// Attaches a peer by its announced routing id. With `ROUTER_HANDOVER` a peer
    /// announcing an id in use takes it over; the peer that held it is returned, to be
    /// disconnected.
    pub(crate) fn attach(
        &mut self,
        id: PeerId,
        info: &PeerInfo,
    ) -> Result<Option<PeerId>, ProtocolError> {
        if self.named.contains(&id) {
            // Named at connect: the name stands, as in libzmq.
            return Ok(None);
        }
        let evicted = match &info.routing_id {
            Some(routing_id) if self.handover => self.table.hand_over(routing_id),
            _ => None,
        };
        self.table.attach(id, info.routing_id.clone())?;
        Ok(evicted)
    }

    /// A peer whose connection ended keeps its routing id while what it delivered
    /// waits to be read, so each of those messages still names it. A named peer keeps
    /// its name for its next connection.
    pub(crate) fn detach(&mut self, id: PeerId, why: Departure) {
        let keeps_id = match why {
            Departure::Lost {
                persistent: false,
                pending_inbound,
            } => pending_inbound,
            Departure::Lost {
                persistent: true, ..
            } => self.named.contains(&id),
            Departure::Removed => false,
        };
        if !keeps_id {
            self.table.detach(id);
            self.named.remove(&id);
        }
    }

    #[inline]
    pub(crate) fn accept(&mut self, from: PeerId, mut message: Message) -> Option<Message> {
        let routing_id = self.table.routing_id(from)?.clone();
        message.push_front(routing_id);
        Some(message)
    }

    #[inline]
    pub(crate) fn send(
        &mut self,
        peers: &mut Peers,
        slot: &mut Option<Message>,
    ) -> Result<Routed, Error> {
        let Some(mut message) = slot.take() else {
            return Ok(Routed::Queued);
        };
        let Some(routing_id) = message.pop_front() else {
            return Err(ProtocolError::EmptyMessage.into());
        };
        let connected = self
            .table
            .peer_for(&routing_id)
            .filter(|&id| peers.is_connected(id) || (self.early && self.named.contains(&id)));
        let Some(id) = connected else {
            if self.mandatory {
                return Err(Error::HostUnreachable(routing_id));
            }
            return Ok(Routed::Dropped(1));
        };
        if message.is_empty() {
            return Err(ProtocolError::EmptyMessage.into());
        }
        match peers.with_room(id) {
            Some(peer) => {
                peer.enqueue(Outgoing::Single(message));
                Ok(Routed::Queued)
            }
            None if self.mandatory => {
                message.push_front(routing_id);
                *slot = Some(message);
                Ok(Routed::WouldBlock)
            }
            None => Ok(Routed::Dropped(1)),
        }
    }
}
