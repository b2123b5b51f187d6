//! REP (RFC 28): requests are fair-queued with their envelope kept; the reply goes
//! back to the requester with the envelope restored.

use super::Routed;
use crate::engine::out_queue::Outgoing;
use crate::engine::peers::Peers;
use crate::error::Error;
use crate::proto::error::StateError;
use crate::proto::message::Message;
use crate::proto::pattern::{PeerId, RepState};

#[derive(Debug, Default)]
pub(crate) struct Rep {
    state: RepState,
}

impl Rep {
    #[inline]
    pub(crate) fn send(
        &mut self,
        peers: &mut Peers,
        slot: &mut Option<Message>,
    ) -> Result<Routed, Error> {
        let Some(message) = slot.take() else {
            return Ok(Routed::Queued);
        };
        let (id, reply) = self.state.reply(message)?;
        // The requester may be gone, or be at its high-water mark: the reply is
        // dropped, as libzmq does.
        match peers.with_room(id).filter(|p| p.is_connected()) {
            Some(peer) => {
                peer.enqueue(Outgoing::Single(reply));
                Ok(Routed::Queued)
            }
            None => Ok(Routed::Dropped(1)),
        }
    }

    #[inline]
    pub(crate) fn check_recv(&self) -> Result<(), Error> {
        if !self.state.can_recv() {
            return Err(Error::InvalidState(StateError::ReplyOwed));
        }
        Ok(())
    }

    #[inline]
    pub(crate) fn accept(&mut self, from: PeerId, message: Message) -> Option<Message> {
        self.state.accept_request(from, message)
    }
}
