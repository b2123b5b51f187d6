//! The REQ side of request-reply (RFC 28).
//!
//! RFC 28: "The REQ socket MUST prefix an empty delimiter frame to each outgoing
//! message", "MUST accept a reply only from the peer it sent the last request to", and
//! alternates strictly: one request, then one reply. Choosing the peer (round robin
//! over peers able to take the message) is [`super::RoundRobin`]'s job; this type keeps
//! the alternation and the envelope.

use bytes::Bytes;

use super::PeerId;
use crate::proto::error::{ProtocolError, StateError};
use crate::proto::message::Message;

/// A strict REQ: send a request, receive its reply, repeat.
///
/// ```
/// use monocoque_zmtp::proto::message::Message;
/// use monocoque_zmtp::proto::pattern::{PeerId, ReqState};
///
/// let mut req = ReqState::new();
/// let wire = req.start_request(PeerId::new(1), Message::from("Hello")).unwrap();
/// assert_eq!(wire, Message::from(["", "Hello"]));
/// assert!(!req.can_send());
/// let reply = req.accept_reply(PeerId::new(1), Message::from(["", "World"]));
/// assert_eq!(reply, Some(Message::from("World")));
/// assert!(req.can_send());
/// ```
///
/// # When the asked peer goes away
///
/// As libzmq's strict REQ (`ZMQ_REQ_RELAXED` off), the request stays outstanding: a
/// receive keeps waiting for a reply that can no longer come, and a new request is
/// refused. The guide's Lazy Pirate client relies on this: it times out, closes the
/// socket and opens a new one. A reconnected peer gets a new [`PeerId`], so nothing
/// from a new connection is ever taken for the old peer's reply.
///
/// # `ZMQ_REQ_RELAXED` and `ZMQ_REQ_CORRELATE`
///
/// [`ReqState::with_options`] makes a REQ that may send a new request while one is
/// outstanding (relaxed: the old one is abandoned), and that puts a 4-byte request id
/// before the delimiter and takes only a reply carrying the current one (correlate),
/// as libzmq's options do.
#[derive(Debug, Default, Clone)]
pub struct ReqState {
    /// The peer the outstanding request went to.
    asked: Option<PeerId>,
    /// `ZMQ_REQ_RELAXED`.
    relaxed: bool,
    /// `ZMQ_REQ_CORRELATE`: the id of the outstanding request.
    correlate: Option<u32>,
}

impl ReqState {
    /// A REQ with no request outstanding.
    pub fn new() -> Self {
        Self::default()
    }

    /// A REQ with libzmq's `ZMQ_REQ_RELAXED` and `ZMQ_REQ_CORRELATE`; `first_id` is the
    /// first request id (libzmq starts from a random one).
    pub fn with_options(relaxed: bool, correlate: bool, first_id: u32) -> Self {
        ReqState {
            asked: None,
            relaxed,
            correlate: correlate.then_some(first_id.wrapping_sub(1)),
        }
    }

    /// Starts a request to `peer`: returns the message to send it, with an empty
    /// delimiter frame pushed at the front, and remembers `peer` as the one asked.
    ///
    /// Fails with [`ProtocolError::InvalidState`] (a Misuse) while a request is
    /// waiting for its reply, and with [`ProtocolError::EmptyMessage`] for a message
    /// with no frames; the state is unchanged on error.
    pub fn start_request(
        &mut self,
        peer: PeerId,
        mut request: Message,
    ) -> Result<Message, ProtocolError> {
        if !self.can_send() {
            return Err(ProtocolError::InvalidState(StateError::RequestPending));
        }
        if request.is_empty() {
            return Err(ProtocolError::EmptyMessage);
        }
        request.push_front(Bytes::new());
        if let Some(id) = &mut self.correlate {
            *id = id.wrapping_add(1);
            request.push_front(Bytes::copy_from_slice(&id.to_be_bytes()));
        }
        self.asked = Some(peer);
        Ok(request)
    }

    /// Whether a new request may be started (no reply is awaited, or relaxed).
    pub fn can_send(&self) -> bool {
        self.asked.is_none() || self.relaxed
    }

    /// Whether a receive may wait for a reply: a request is outstanding (even if the
    /// peer asked is gone since).
    pub fn can_recv(&self) -> bool {
        self.asked.is_some()
    }

    /// The peer whose reply is awaited, if any.
    pub fn asked(&self) -> Option<PeerId> {
        self.asked
    }

    /// Accepts a message from `from` as the reply: returns it without its delimiter,
    /// and allows the next request.
    ///
    /// Returns `None`, dropping the message and leaving the state unchanged, when no
    /// request is outstanding, when `from` is not the peer asked, or when the message is
    /// not an empty delimiter frame followed by at least one body frame (libzmq drops
    /// such replies too).
    pub fn accept_reply(&mut self, from: PeerId, mut reply: Message) -> Option<Message> {
        if self.asked != Some(from) {
            return None;
        }
        if let Some(id) = self.correlate {
            // REQ_CORRELATE: only the reply to the current request, by its id.
            if reply.first().map(|f| &f[..]) != Some(&id.to_be_bytes()[..]) {
                return None;
            }
            reply.pop_front();
        }
        let delimited = reply.first().is_some_and(Bytes::is_empty) && reply.len() >= 2;
        if !delimited {
            return None;
        }
        reply.pop_front();
        self.asked = None;
        Some(reply)
    }

    /// Tells the REQ that `peer`'s connection is gone; returns whether it held the
    /// outstanding request, which then stays outstanding (see the type's docs).
    pub fn peer_detached(&self, peer: PeerId) -> bool {
        self.asked == Some(peer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::error::Fault;

    #[test]
    fn adds_delimiter_and_alternates() {
        let mut req = ReqState::new();
        assert!(req.can_send());
        let wire = req
            .start_request(PeerId(3), Message::from(["a", "b"]))
            .unwrap();
        assert_eq!(wire, Message::from(["", "a", "b"]));
        assert_eq!(req.asked(), Some(PeerId(3)));
        let err = req
            .start_request(PeerId(4), Message::from("again"))
            .unwrap_err();
        assert_eq!(err.fault(), Fault::Misuse);
        assert_eq!(req.asked(), Some(PeerId(3)));
        let reply = req.accept_reply(PeerId(3), Message::from(["", "x", "y"]));
        assert_eq!(reply, Some(Message::from(["x", "y"])));
        assert!(req.can_send());
        assert!(req.start_request(PeerId(4), Message::from("next")).is_ok());
    }

    #[test]
    fn refuses_empty_request() {
        let mut req = ReqState::new();
        assert_eq!(
            req.start_request(PeerId(1), Message::new()),
            Err(ProtocolError::EmptyMessage)
        );
        assert!(req.can_send());
    }

    #[test]
    fn drops_reply_from_other_peer() {
        let mut req = ReqState::new();
        req.start_request(PeerId(1), Message::from("q")).unwrap();
        assert_eq!(req.accept_reply(PeerId(2), Message::from(["", "r"])), None);
        assert!(!req.can_send());
        assert_eq!(
            req.accept_reply(PeerId(1), Message::from(["", "r"])),
            Some(Message::from("r"))
        );
    }

    #[test]
    fn drops_reply_without_delimiter() {
        let mut req = ReqState::new();
        req.start_request(PeerId(1), Message::from("q")).unwrap();
        assert_eq!(req.accept_reply(PeerId(1), Message::from("r")), None);
        assert_eq!(req.accept_reply(PeerId(1), Message::from(["x", "r"])), None);
        assert_eq!(req.accept_reply(PeerId(1), Message::from("")), None);
        assert_eq!(req.accept_reply(PeerId(1), Message::new()), None);
        assert_eq!(req.asked(), Some(PeerId(1)));
    }

    #[test]
    fn drops_reply_when_nothing_asked() {
        let mut req = ReqState::new();
        assert_eq!(req.accept_reply(PeerId(1), Message::from(["", "r"])), None);
        req.start_request(PeerId(1), Message::from("q")).unwrap();
        req.accept_reply(PeerId(1), Message::from(["", "r"]))
            .unwrap();
        // A duplicate reply after the first was accepted is dropped.
        assert_eq!(req.accept_reply(PeerId(1), Message::from(["", "r"])), None);
        assert!(req.can_send());
    }

    #[test]
    fn relaxed_and_correlated_requests_take_only_the_current_reply() {
        let mut req = ReqState::with_options(true, true, 7);
        let id = |n: u32| Bytes::copy_from_slice(&n.to_be_bytes());
        let first = req.start_request(PeerId(1), Message::from("a")).unwrap();
        assert_eq!(
            first,
            Message::from([id(7), Bytes::new(), Bytes::from("a")])
        );
        // Relaxed: a second request while the first is outstanding.
        let second = req.start_request(PeerId(1), Message::from("b")).unwrap();
        assert_eq!(second[0], 8u32.to_be_bytes()[..]);
        // The first one's reply is dropped; the second one's is taken.
        let old = Message::from([id(7), Bytes::new(), Bytes::from("A")]);
        assert_eq!(req.accept_reply(PeerId(1), old), None);
        let current = Message::from([id(8), Bytes::new(), Bytes::from("B")]);
        assert_eq!(
            req.accept_reply(PeerId(1), current),
            Some(Message::from("B"))
        );
    }

    #[test]
    fn a_request_stays_outstanding_when_its_peer_leaves() {
        let mut req = ReqState::new();
        req.start_request(PeerId(1), Message::from("q")).unwrap();
        assert!(!req.peer_detached(PeerId(2)));
        assert!(req.peer_detached(PeerId(1)));
        // A receive may wait, a new request is refused, as libzmq's strict REQ.
        assert!(req.can_recv());
        assert!(!req.can_send());
        assert!(req.start_request(PeerId(2), Message::from("q")).is_err());
        // Nothing from another connection is taken for the reply.
        assert_eq!(req.accept_reply(PeerId(2), Message::from(["", "r"])), None);
        assert!(req.can_recv());
    }
}
