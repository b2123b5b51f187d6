//! The REP side of request-reply (RFC 28).
//!
//! RFC 28: a REP socket receives a request whose envelope is zero or more frames
//! followed by an empty delimiter frame, "MUST remove and save all frames up to and
//! including the empty delimiter" and hands the rest to the application; the reply it
//! sends goes back to the same peer with the saved envelope put back in front of it.
//! Choosing which peer to read next is [`super::RoundRobin`]'s job (fair-queuing).

use super::PeerId;
use crate::proto::error::{ProtocolError, StateError};
use crate::proto::message::Message;

/// A REP: receive a request, send its reply, repeat.
///
/// ```
/// use monocoque_zmtp::proto::message::Message;
/// use monocoque_zmtp::proto::pattern::{PeerId, RepState};
///
/// let mut rep = RepState::new();
/// let body = rep.accept_request(PeerId::new(5), Message::from(["hop", "", "Hello"]));
/// assert_eq!(body, Some(Message::from("Hello")));
/// assert!(!rep.can_recv());
/// let (peer, wire) = rep.reply(Message::from("World")).unwrap();
/// assert_eq!(peer, PeerId::new(5));
/// assert_eq!(wire, Message::from(["hop", "", "World"]));
/// ```
///
/// # When the requesting peer goes away
///
/// As in libzmq, the application still owes (and may still send) the reply:
/// [`RepState::reply`] succeeds and names the peer, and the caller, finding that peer
/// gone, drops the reply. [`RepState::peer_detached`] only reports whether that will
/// happen.
#[derive(Debug, Default, Clone)]
pub struct RepState {
    /// The peer being served and the envelope (delimiter included) to reply with.
    serving: Option<(PeerId, Message)>,
}

impl RepState {
    /// A REP waiting for a request.
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts a request from `from`: saves its envelope (every frame up to and
    /// including the first empty frame) and returns the body.
    ///
    /// Returns `None`, dropping the message, when a reply is still owed (check
    /// [`RepState::can_recv`] before reading from a peer), when the message has no
    /// empty delimiter frame, or when nothing follows the delimiter: libzmq discards
    /// such malformed requests too.
    pub fn accept_request(&mut self, from: PeerId, request: Message) -> Option<Message> {
        if self.serving.is_some() {
            return None;
        }
        let delimiter = request.iter().position(|frame| frame.is_empty())?;
        if delimiter + 1 >= request.len() {
            return None;
        }
        let mut envelope = Message::new();
        let mut body = Message::new().with_properties_of(&request);
        for (i, frame) in request.into_iter().enumerate() {
            if i <= delimiter {
                envelope.push(frame);
            } else {
                body.push(frame);
            }
        }
        self.serving = Some((from, envelope));
        Some(body)
    }

    /// Whether a request may be received (no reply is owed).
    pub fn can_recv(&self) -> bool {
        self.serving.is_none()
    }

    /// The peer owed a reply, if any.
    pub fn serving(&self) -> Option<PeerId> {
        self.serving.as_ref().map(|(peer, _)| *peer)
    }

    /// Builds the reply to the request being served: returns the peer to send it to and
    /// the whole message, the saved envelope frames followed by `body`'s frames. The
    /// next request may then be received.
    ///
    /// Fails with [`ProtocolError::InvalidState`] (a Misuse) when no request is
    /// being served, and with [`ProtocolError::EmptyMessage`] when `body` has no frames;
    /// the state is unchanged on error.
    pub fn reply(&mut self, body: Message) -> Result<(PeerId, Message), ProtocolError> {
        if self.serving.is_none() {
            return Err(ProtocolError::InvalidState(StateError::NothingToReply));
        }
        if body.is_empty() {
            return Err(ProtocolError::EmptyMessage);
        }
        let Some((peer, mut wire)) = self.serving.take() else {
            return Err(ProtocolError::InvalidState(StateError::NothingToReply));
        };
        for frame in body {
            wire.push(frame);
        }
        Ok((peer, wire))
    }

    /// Tells the REP that `peer`'s connection is gone. The state is kept (the reply is
    /// still owed, see the type's docs); returns whether `peer` was the one owed a
    /// reply, whose reply the caller will therefore drop.
    pub fn peer_detached(&self, peer: PeerId) -> bool {
        self.serving() == Some(peer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::error::Fault;

    #[test]
    fn keeps_envelope_for_the_reply() {
        let mut rep = RepState::new();
        assert!(rep.can_recv());
        let body = rep.accept_request(PeerId(1), Message::from(["id2", "id1", "", "a", "b"]));
        assert_eq!(body, Some(Message::from(["a", "b"])));
        assert_eq!(rep.serving(), Some(PeerId(1)));
        let (peer, wire) = rep.reply(Message::from(["x", "y"])).unwrap();
        assert_eq!(peer, PeerId(1));
        assert_eq!(wire, Message::from(["id2", "id1", "", "x", "y"]));
        assert!(rep.can_recv());
    }

    #[test]
    fn bare_delimiter_envelope() {
        let mut rep = RepState::new();
        let body = rep.accept_request(PeerId(2), Message::from(["", "q", ""]));
        assert_eq!(body, Some(Message::from(["q", ""])));
        let (_, wire) = rep.reply(Message::from("r")).unwrap();
        assert_eq!(wire, Message::from(["", "r"]));
    }

    #[test]
    fn drops_malformed_requests() {
        let mut rep = RepState::new();
        assert_eq!(rep.accept_request(PeerId(1), Message::from("q")), None);
        assert_eq!(
            rep.accept_request(PeerId(1), Message::from(["a", "q"])),
            None
        );
        assert_eq!(
            rep.accept_request(PeerId(1), Message::from(["a", ""])),
            None
        );
        assert_eq!(rep.accept_request(PeerId(1), Message::new()), None);
        assert!(rep.can_recv());
    }

    #[test]
    fn one_request_at_a_time() {
        let mut rep = RepState::new();
        rep.accept_request(PeerId(1), Message::from(["", "q1"]))
            .unwrap();
        assert_eq!(
            rep.accept_request(PeerId(2), Message::from(["", "q2"])),
            None
        );
        assert_eq!(rep.serving(), Some(PeerId(1)));
        assert_eq!(rep.reply(Message::from("r")).unwrap().0, PeerId(1));
        assert_eq!(
            rep.accept_request(PeerId(2), Message::from(["", "q2"])),
            Some(Message::from("q2"))
        );
    }

    #[test]
    fn reply_without_request_is_misuse() {
        let mut rep = RepState::new();
        let err = rep.reply(Message::from("r")).unwrap_err();
        assert_eq!(err.fault(), Fault::Misuse);
        rep.accept_request(PeerId(1), Message::from(["", "q"]))
            .unwrap();
        assert_eq!(rep.reply(Message::new()), Err(ProtocolError::EmptyMessage));
        assert_eq!(rep.serving(), Some(PeerId(1)));
    }

    #[test]
    fn detached_peer_still_gets_reply_built() {
        let mut rep = RepState::new();
        rep.accept_request(PeerId(1), Message::from(["", "q"]))
            .unwrap();
        assert!(!rep.peer_detached(PeerId(2)));
        assert!(rep.peer_detached(PeerId(1)));
        assert!(!rep.can_recv());
        let (peer, _) = rep.reply(Message::from("r")).unwrap();
        assert_eq!(peer, PeerId(1)); // the caller finds it gone and drops the reply
        assert!(rep.can_recv());
    }
}
