//! REQ (RFC 28): a request goes round robin with an empty delimiter in front, and
//! only the asked peer's reply is taken; send and receive alternate strictly.

use super::{Departure, LoadBalance, Routed};
use crate::engine::out_queue::Outgoing;
use crate::engine::peers::Peers;
use crate::error::Error;
use crate::proto::error::StateError;
use crate::proto::message::Message;
use crate::proto::pattern::{PeerId, ReqState};

#[derive(Debug)]
pub(crate) struct Req {
    lb: LoadBalance,
    state: ReqState,
}

impl Req {
    pub(crate) fn new(early: bool, relaxed: bool, correlate: bool) -> Req {
        Req {
            lb: LoadBalance::new(early, true),
            state: ReqState::with_options(relaxed, correlate, first_request_id()),
        }
    }

    pub(crate) fn balancer(&mut self) -> &mut LoadBalance {
        &mut self.lb
    }

    pub(crate) fn detach(&mut self, id: PeerId, why: Departure) {
        self.lb.detach(id, why);
        self.state.peer_detached(id);
    }

    #[inline]
    pub(crate) fn send(
        &mut self,
        peers: &mut Peers,
        slot: &mut Option<Message>,
    ) -> Result<Routed, Error> {
        if !self.state.can_send() {
            return Err(Error::InvalidState(StateError::RequestPending));
        }
        let Some(id) = self.lb.pick(peers) else {
            return Ok(Routed::WouldBlock);
        };
        let Some(message) = slot.take() else {
            return Ok(Routed::Queued);
        };
        let request = self.state.start_request(id, message)?;
        if let Some(peer) = peers.get_mut(id) {
            peer.enqueue(Outgoing::Single(request));
        }
        Ok(Routed::Queued)
    }

    #[inline]
    pub(crate) fn check_recv(&self) -> Result<(), Error> {
        if !self.state.can_recv() {
            return Err(Error::InvalidState(StateError::NoRequest));
        }
        Ok(())
    }

    #[inline]
    pub(crate) fn accept(&mut self, from: PeerId, message: Message) -> Option<Message> {
        self.state.accept_reply(from, message)
    }
}

/// A request id to start from that differs between sockets and runs, as libzmq's
/// random one does (uniqueness, not secrecy, is what matters here).
fn first_request_id() -> u32 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now()) as u32
}
