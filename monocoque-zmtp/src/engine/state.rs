//! A socket's state behind one `RefCell`: its peers, its routing state, and what it
//! counts. Every method is synchronous and wakes nobody; [`Engine`](super::Engine)
//! and [`Port`](super::port::Port) fire the wake-ups that go with each change.
//!
//! Where a message goes: `send` → [`State::try_send`] → the routing state picks a
//! peer and queues on its `out` queue → the peer's connection takes it with
//! [`State::take_outgoing`]. Where a message comes from: a connection decodes it →
//! [`State::deliver_all`] queues on the peer's `inbound` queue → `recv` →
//! [`State::try_recv`] fair-queues over peers and applies the routing state's rule.

use std::collections::VecDeque;
use std::rc::Rc;

use bytes::Bytes;

use super::notify::Notify;
use super::out_queue::{Outgoing, Queued};
use super::peers::{Peers, SubscriptionOp, below};
use super::routing::{Departure, Routed, Routing};
use crate::config::SocketOptions;
use crate::error::Error;
use crate::proto::error::ProtocolError;
use crate::proto::handshake::PeerInfo;
use crate::proto::message::Message;
use crate::proto::pattern::PeerId;
use crate::proto::socket_type::SocketType;

/// Counters a user can read to see what went wrong with peers.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SocketStats {
    /// Connections accepted or established (handshake completed).
    pub handshakes: u64,
    /// Connections closed because the peer broke the protocol (or did not complete
    /// its handshake in time).
    pub protocol_errors: u64,
    /// Connections lost (closed by the peer, reset, silent past the heartbeat
    /// timeout, ...).
    pub disconnects: u64,
    /// Messages dropped by a mute action (PUB or ROUTER at a peer's high-water mark,
    /// ROUTER to an unknown routing id).
    pub dropped: u64,
}

/// What [`State::try_send`] did.
#[cfg(any(test, feature = "fuzz"))]
#[derive(Debug)]
pub(crate) enum SendOutcome {
    /// Queued (or dropped by the socket type's mute action).
    Done,
    /// No peer can take it now: wait for one (PUSH, DEALER, REQ, PAIR).
    WouldBlock(Message),
}

/// How many protocol errors a socket's `recent_errors` keeps.
pub const RECENT_ERRORS: usize = 16;

/// One entry of a socket's `recent_errors`: a protocol error that closed a
/// connection, and its sequence number.
///
/// The sequence number counts the socket's protocol errors from 1 and never repeats: the
/// n-th error has sequence number n, equal to `stats().protocol_errors` just after it
/// was recorded. The list keeps only the last [`RECENT_ERRORS`], so a poller remembers
/// the highest sequence number it has seen and takes the entries above it as new; a
/// gap between that number and the oldest entry's tells how many it missed.
///
/// ```
/// # use monocoque_zmtp::socket::RecentError;
/// fn new_since(list: &[RecentError], seen: u64) -> impl Iterator<Item = &RecentError> {
///     list.iter().filter(move |entry| entry.sequence > seen)
/// }
/// # let _ = new_since;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecentError {
    /// Which protocol error of the socket this was: 1 for the first, never repeated.
    pub sequence: u64,
    /// What the peer did wrong.
    pub error: ProtocolError,
}

/// Peers, routing and counters of one socket.
#[derive(Debug)]
pub(crate) struct State {
    socket_type: SocketType,
    peers: Peers,
    routing: Routing,
    /// The last protocol errors that closed a connection, oldest first.
    recent_errors: VecDeque<RecentError>,
    pub(crate) stats: SocketStats,
    /// `ZMQ_PROBE_ROUTER`: an empty message goes to each new peer first.
    probe: bool,
    /// `ZMQ_ROUTER_NOTIFY`: what a ROUTER hears about peers coming and going.
    notify: RouterNotify,
    /// `ZMQ_XPUB_WELCOME_MSG`: what an XPUB sends each new subscriber first.
    welcome: Option<Bytes>,
}

/// `ZMQ_ROUTER_NOTIFY` (a draft option of libzmq 4.3): a ROUTER receives
/// `[routing id, empty frame]` when a peer connects, disconnects, or both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RouterNotify {
    /// `ZMQ_NOTIFY_CONNECT`.
    pub connect: bool,
    /// `ZMQ_NOTIFY_DISCONNECT`.
    pub disconnect: bool,
}

/// Whether a socket keeps only the last message per queue: `ZMQ_CONFLATE` applies to
/// the socket types libzmq applies it to.
pub(crate) fn conflates(socket_type: SocketType, options: &SocketOptions) -> bool {
    use SocketType::*;
    options.conflate && matches!(socket_type, Push | Pull | Pub | Sub | Dealer)
}

impl State {
    pub(crate) fn new(socket_type: SocketType, options: &SocketOptions) -> State {
        State {
            socket_type,
            peers: match conflates(socket_type, options) {
                true => Peers::conflating(),
                false => Peers::new(options.sndhwm, options.rcvhwm),
            },
            routing: Routing::new(socket_type, options),
            recent_errors: VecDeque::new(),
            stats: SocketStats::default(),
            probe: options.probe_router
                && matches!(
                    socket_type,
                    SocketType::Router | SocketType::Dealer | SocketType::Req
                ),
            notify: match socket_type {
                SocketType::Router => options.router_notify,
                _ => RouterNotify::default(),
            },
            welcome: options
                .xpub_welcome_msg
                .clone()
                .filter(|_| socket_type == SocketType::Xpub),
        }
    }

    // ---- peers coming and going ----

    /// Makes a peer for a new connection, or for a connecting endpoint
    /// (`persistent`: it outlives its connections).
    pub(crate) fn add_peer(&mut self, persistent: bool) -> (PeerId, Rc<Notify>) {
        let (id, wake) = self.peers.add(persistent);
        if persistent {
            self.routing.pending(id);
        }
        (id, wake)
    }

    /// Names a connecting endpoint's peer (`ZMQ_CONNECT_ROUTING_ID`).
    pub(crate) fn name_peer(&mut self, id: PeerId, routing_id: Bytes) -> Result<(), ProtocolError> {
        self.routing.name(id, routing_id)
    }

    /// The handshake with `id` completed. An error means the peer must be refused
    /// (a ROUTER peer with a routing id already in use; a second PAIR peer is parked). A
    /// subscriber's subscriptions are queued for the new connection in full.
    pub(crate) fn peer_ready(&mut self, id: PeerId, info: PeerInfo) -> Result<(), ProtocolError> {
        if self.peers.get(id).is_none() {
            return Err(ProtocolError::Closed);
        }
        if self.routing.is_pair_taken(&self.peers, id) {
            self.park(id);
            return Ok(());
        }
        let evicted = self.routing.attach(&self.peers, id, &info)?;
        if let Some(old) = evicted.and_then(|old| self.peers.get_mut(old)) {
            // ROUTER_HANDOVER: the old holder's connection closes, as in libzmq.
            old.evicted = true;
            old.wake.notify();
        }
        self.peers.connect(id, info);
        let topics = self.routing.subscriber().map(|sub| sub.topics());
        if let Some(peer) = self.peers.get_mut(id) {
            peer.subscription_ops.clear();
            for topic in topics.into_iter().flatten() {
                peer.queue_subscription(SubscriptionOp::Subscribe(topic.into()));
            }
            // Written straight to the peer, ahead of anything queued, as libzmq does.
            let first = match (&self.welcome, self.probe) {
                (Some(welcome), _) => Some(welcome.clone()),
                (None, true) => Some(Bytes::new()),
                (None, false) => None,
            };
            if let Some(first) = first {
                peer.out.push_front(Outgoing::Single(Message::from(first)));
                peer.flushed = false;
                peer.wake.notify();
            }
            if self.notify.connect {
                peer.inbound.push_back(Message::from(Bytes::new()));
            }
        }
        self.stats.handshakes += 1;
        Ok(())
    }

    /// A second PAIR peer: libzmq terminates its pipe but not its connection, so the
    /// peer neither fails nor reconnects in a loop. It is never read from or written
    /// to, and does not take the place when the first peer leaves.
    fn park(&mut self, id: PeerId) {
        if let Some(peer) = self.peers.get_mut(id) {
            peer.parked = true;
        }
        self.stats.handshakes += 1;
    }

    /// `id`'s connection ended. A connecting endpoint's peer survives with its queued
    /// messages. Any other loses its outgoing queue (RFC 28: a peer's queue is
    /// discarded when it disconnects), but messages it already delivered stay
    /// readable until `recv` takes them, as in libzmq: nothing accepted is lost.
    pub(crate) fn peer_disconnected(&mut self, id: PeerId) {
        let Some(peer) = self.peers.get_mut(id) else {
            return;
        };
        let persistent = peer.persistent;
        peer.parked = false;
        // ROUTER_NOTIFY: the ROUTER hears `[routing id, empty]` after what the peer
        // sent; its routing id is kept until that is read.
        if self.notify.disconnect && peer.info.is_some() {
            peer.inbound.push_back(Message::from(Bytes::new()));
        }
        let pending_inbound = !peer.inbound.is_empty();
        if !persistent && !pending_inbound {
            self.remove_peer(id);
            return;
        }
        peer.info = None;
        if persistent {
            peer.flushed = peer.out.is_empty();
        } else {
            peer.out.clear();
            peer.subscription_ops.clear();
            peer.flushed = true;
            peer.departed = true;
        }
        let why = Departure::Lost {
            persistent,
            pending_inbound,
        };
        self.routing.detach(id, why);
    }

    /// Removes a peer entirely, dropping whatever it queued.
    pub(crate) fn remove_peer(&mut self, id: PeerId) {
        self.routing.detach(id, Departure::Removed);
        self.peers.remove(id);
    }

    #[cfg(test)]
    pub(crate) fn has_peer(&self, id: PeerId) -> bool {
        self.peers.get(id).is_some()
    }

    /// The wake-up signal of a peer's connection.
    pub(crate) fn wake_of(&self, id: PeerId) -> Option<Rc<Notify>> {
        self.peers.get(id).map(|p| p.wake.clone())
    }

    pub(crate) fn peer_count(&self) -> usize {
        self.peers.connected_count()
    }

    // ---- the connection's side ----

    /// Whether `id` lost its routing id to a newcomer (ROUTER_HANDOVER): its
    /// connection must close.
    pub(crate) fn is_evicted(&self, id: PeerId) -> bool {
        self.peers.get(id).is_some_and(|p| p.evicted)
    }

    /// Whether the connection may read more from `id` (its inbound queue is below
    /// the receive high-water mark).
    #[inline]
    pub(crate) fn can_read(&self, id: PeerId) -> bool {
        self.peers
            .get(id)
            .is_some_and(|p| !p.parked && below(p.inbound.len(), self.peers.rcvhwm))
    }

    /// How many more messages `id`'s inbound queue takes before its high-water mark
    /// (`usize::MAX` without one); 0 for a peer not connected.
    pub(crate) fn inbound_room(&self, id: PeerId) -> usize {
        match self.peers.get(id) {
            Some(p) if p.is_connected() => match self.peers.rcvhwm {
                0 => usize::MAX,
                hwm => hwm.saturating_sub(p.inbound.len()),
            },
            _ => 0,
        }
    }

    /// Queues a message that arrived from `id`. Returns whether it was queued.
    #[cfg(any(test, feature = "fuzz"))]
    pub(crate) fn deliver(&mut self, id: PeerId, message: Message) -> bool {
        let mut once = Some(message);
        self.deliver_all(id, |slot| *slot = once.take())
    }

    /// Queues the messages `next` puts in its slot, all from `id`, until it leaves
    /// the slot empty. Returns whether any was queued. The peer is looked up once
    /// for the lot; each message is written by its decoder into the slot, then once
    /// into the peer's queue.
    #[inline]
    pub(crate) fn deliver_all(
        &mut self,
        id: PeerId,
        mut next: impl FnMut(&mut Option<Message>),
    ) -> bool {
        let mut slot = None;
        let mut peer = self.peers.connected_mut(id);
        let filter = self.routing.filters();
        let mut queued = false;
        loop {
            next(&mut slot);
            let Some(message) = slot.take() else {
                return queued;
            };
            // A peer gone meanwhile: its messages are drained and dropped.
            let Some(peer) = peer.as_deref_mut() else {
                continue;
            };
            if filter.is_some_and(|sub| !sub.matches(&message)) {
                continue;
            }
            peer.deliver(message);
            queued = true;
        }
    }

    /// `id` subscribed to or cancelled `topic` (PUB, XPUB). Returns whether XPUB
    /// queued a report for `recv`.
    #[inline]
    pub(crate) fn peer_subscribed(&mut self, id: PeerId, topic: &[u8], on: bool) -> bool {
        let report = self
            .routing
            .publisher()
            .and_then(|publish| publish.peer_subscribed(id, topic, on));
        // After whatever the peer sent before it, as libzmq's XPUB keeps them.
        match (report, self.peers.connected_mut(id)) {
            (Some(report), Some(peer)) => {
                peer.inbound.push_back(report);
                true
            }
            _ => false,
        }
    }

    /// Takes the subscription changes waiting for `id`'s connection.
    #[inline]
    pub(crate) fn take_subscription_ops(&mut self, id: PeerId, take: impl FnMut(SubscriptionOp)) {
        if let Some(peer) = self.peers.get_mut(id) {
            peer.subscription_ops.drain(..).for_each(take);
        }
    }

    /// Hands queued messages of `id` to `encode`, in order, for as long as it
    /// answers that there is room for another, and removes those it took. Messages
    /// are encoded where they lie in the queue, never moved. Returns how many were
    /// taken.
    #[inline]
    pub(crate) fn take_outgoing(
        &mut self,
        id: PeerId,
        encode: impl FnMut(Queued<'_>) -> bool,
    ) -> usize {
        let Some(peer) = self.peers.get_mut(id) else {
            return 0;
        };
        peer.out.take(encode)
    }

    /// Takes up to `count` queued messages of `id` (and every pending subscription
    /// change), for an inproc peer, which takes messages rather than bytes.
    pub(crate) fn take_messages(
        &mut self,
        id: PeerId,
        count: usize,
        messages: &mut Vec<Message>,
        ops: &mut Vec<SubscriptionOp>,
    ) {
        let Some(peer) = self.peers.get_mut(id) else {
            return;
        };
        ops.extend(peer.subscription_ops.drain(..));
        peer.out.take_messages(count, messages);
    }

    /// How many messages wait in `id`'s outgoing queue (for the fuzz model).
    #[cfg(any(test, feature = "fuzz"))]
    pub(crate) fn out_len(&self, id: PeerId) -> Option<usize> {
        self.peers.get(id).map(|p| p.out.len())
    }

    #[cfg(test)]
    pub(crate) fn queued_out(&self) -> usize {
        self.peers.queued_out()
    }

    #[cfg(test)]
    pub(crate) fn has_outgoing(&self, id: PeerId) -> bool {
        self.peers
            .get(id)
            .is_some_and(|p| !p.out.is_empty() || !p.subscription_ops.is_empty())
    }

    /// Records whether `id`'s connection wrote everything: it did if it is `idle`
    /// and nothing waits in the peer's queues. Returns that, and whether it just
    /// became so.
    #[inline]
    pub(crate) fn note_idle(&mut self, id: PeerId, idle: bool) -> (bool, bool) {
        let Some(peer) = self.peers.get_mut(id) else {
            return (idle, false);
        };
        let flushed = idle && peer.out.is_empty() && peer.subscription_ops.is_empty();
        let newly = flushed && !peer.flushed;
        peer.flushed = flushed;
        (flushed, newly)
    }

    /// Whether every queued message was written (for `close` with a linger).
    pub(crate) fn all_flushed(&self) -> bool {
        self.peers.all_flushed()
    }

    /// Counts a connection closed for a protocol error and remembers the error.
    /// The error's sequence number is the count including it.
    pub(crate) fn record_protocol_error(&mut self, error: ProtocolError) {
        self.stats.protocol_errors += 1;
        if self.recent_errors.len() == RECENT_ERRORS {
            self.recent_errors.pop_front();
        }
        self.recent_errors.push_back(RecentError {
            sequence: self.stats.protocol_errors,
            error,
        });
    }

    /// The last protocol errors that closed a connection, oldest first.
    pub(crate) fn recent_errors(&self) -> Vec<RecentError> {
        self.recent_errors.iter().cloned().collect()
    }

    // ---- the application's side ----

    /// Sends the message in `slot` by the socket type's rule, without waiting: the
    /// slot is emptied when the message was queued (or dropped by the socket type's
    /// mute action) and keeps it when no peer can take it now. Returns how many peers'
    /// queues took it (a publisher's send counts each subscriber).
    #[inline]
    pub(crate) fn offer(&mut self, slot: &mut Option<Message>) -> Result<usize, Error> {
        if slot.as_ref().is_some_and(Message::is_empty) {
            return Err(ProtocolError::EmptyMessage.into());
        }
        Ok(match self.routing.send(&mut self.peers, slot)? {
            Routed::Queued => 1,
            Routed::FannedOut { queued, dropped } => {
                self.stats.dropped += dropped;
                queued
            }
            Routed::Dropped(n) => {
                self.stats.dropped += n;
                0
            }
            Routed::WouldBlock => 0,
        })
    }

    /// Sends `message` by the socket type's rule, without waiting.
    #[cfg(any(test, feature = "fuzz"))]
    pub(crate) fn try_send(&mut self, message: Message) -> Result<SendOutcome, Error> {
        let mut slot = Some(message);
        self.offer(&mut slot)?;
        Ok(match slot {
            Some(message) => SendOutcome::WouldBlock(message),
            None => SendOutcome::Done,
        })
    }

    /// Whether receiving is allowed now (see [`Routing::recv_allowed`]).
    pub(crate) fn recv_allowed(&self) -> bool {
        self.routing.recv_allowed()
    }

    /// Receives by the socket type's rule, without waiting.
    #[inline]
    pub(crate) fn try_recv(&mut self) -> Result<Option<Message>, Error> {
        let mut slot = None;
        self.routing.recv(&mut self.peers, &mut slot)?;
        Ok(slot)
    }

    /// [`try_recv`](Self::try_recv) into `slot` (empty when called): the message
    /// moves once on its way to the caller.
    #[inline]
    pub(crate) fn recv_into(&mut self, slot: &mut Option<Message>) -> Result<(), Error> {
        self.routing.recv(&mut self.peers, slot)
    }

    /// Subscribes to or cancels `topic` (SUB, XSUB), telling every connected
    /// publisher when the topic's count crossed zero.
    pub(crate) fn change_subscription(&mut self, topic: &[u8], on: bool) -> Result<(), Error> {
        let manual = self.routing.publisher();
        if manual.is_some_and(|publish| publish.manual_change(topic, on)) {
            return Ok(());
        }
        let Some(sub) = self.routing.subscriber() else {
            return Err(Error::NotSupported {
                socket_type: self.socket_type,
                operation: "subscribe",
            });
        };
        sub.change(&mut self.peers, topic, on);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::command::Metadata;
    use crate::proto::greeting::Version;
    use crate::proto::session::ZERO_COPY_MIN;
    use bytes::Bytes;

    fn info(socket_type: SocketType, id: Option<&'static [u8]>) -> PeerInfo {
        PeerInfo {
            socket_type,
            routing_id: id.map(Bytes::from_static),
            metadata: Metadata::new(),
            version: Version { major: 3, minor: 1 },
            user_id: None,
        }
    }

    fn core(socket_type: SocketType, options: SocketOptions) -> State {
        State::new(socket_type, &options)
    }

    fn connected(core: &mut State, peer_type: SocketType, id: Option<&'static [u8]>) -> PeerId {
        let (peer, _) = core.add_peer(false);
        core.peer_ready(peer, info(peer_type, id)).unwrap();
        peer
    }

    fn recv_text(core: &mut State) -> Option<String> {
        core.try_recv()
            .unwrap()
            .map(|m| String::from_utf8_lossy(&m[m.len() - 1]).into_owned())
    }

    #[test]
    fn fair_queue_alternates_between_peers_with_messages() {
        let mut c = core(SocketType::Pull, SocketOptions::default());
        let a = connected(&mut c, SocketType::Push, None);
        let b = connected(&mut c, SocketType::Push, None);
        for i in 0..3 {
            c.deliver(a, Message::from(format!("a{i}")));
        }
        c.deliver(b, Message::from("b0"));
        let order: Vec<String> = std::iter::from_fn(|| recv_text(&mut c)).collect();
        assert_eq!(order, ["a0", "b0", "a1", "a2"]);
    }

    #[test]
    fn pub_encodes_a_message_once_for_all_subscribers() {
        let mut c = core(SocketType::Pub, SocketOptions::default());
        let subscribers: Vec<PeerId> = (0..3)
            .map(|_| connected(&mut c, SocketType::Sub, None))
            .collect();
        for &id in &subscribers {
            c.peer_subscribed(id, b"", true);
        }
        assert!(matches!(c.try_send("news".into()), Ok(SendOutcome::Done)));
        let mut wires = Vec::new();
        for &id in &subscribers {
            c.take_outgoing(id, |m| {
                assert_eq!(m.message(), &Message::from("news"));
                wires.extend(m.shared_wire().cloned());
                true
            });
        }
        assert_eq!(wires.len(), 3, "every subscriber got the message");
        assert_eq!(&wires[0][..], b"\x00\x04news");
        assert!(
            wires.iter().all(|w| w.as_ptr() == wires[0].as_ptr()),
            "one encoding shared by all"
        );

        // A large frame is not copied into a shared encoding: each connection sends
        // the message's own buffer by reference.
        let big = Bytes::from(vec![7u8; ZERO_COPY_MIN]);
        assert!(matches!(
            c.try_send(Message::from(big.clone())),
            Ok(SendOutcome::Done)
        ));
        for &id in &subscribers {
            c.take_outgoing(id, |m| {
                assert!(m.shared_wire().is_none());
                assert_eq!(m.message()[0].as_ptr(), big.as_ptr());
                true
            });
        }
    }

    #[test]
    fn a_send_counts_the_queues_it_went_into() {
        // What `send`'s yield budget counts: one per subscriber with room.
        let mut c = core(SocketType::Pub, SocketOptions::default().sndhwm(1));
        let subscribers: Vec<PeerId> = (0..4)
            .map(|_| connected(&mut c, SocketType::Sub, None))
            .collect();
        for &id in &subscribers[..3] {
            c.peer_subscribed(id, b"", true);
        }
        assert_eq!(c.offer(&mut Some("first".into())).unwrap(), 3);
        c.take_outgoing(subscribers[0], |_| true);
        assert_eq!(c.offer(&mut Some("second".into())).unwrap(), 1);
        assert_eq!(c.stats.dropped, 2, "two subscribers were at their mark");

        let mut c = core(SocketType::Push, SocketOptions::default().sndhwm(1));
        connected(&mut c, SocketType::Pull, None);
        assert_eq!(c.offer(&mut Some("1".into())).unwrap(), 1);
        let mut waiting = Some("2".into());
        assert_eq!(c.offer(&mut waiting).unwrap(), 0);
        assert!(waiting.is_some(), "a send that must wait keeps its message");
    }

    #[test]
    fn round_robin_skips_peers_at_the_high_water_mark() {
        let mut c = core(SocketType::Push, SocketOptions::default().sndhwm(1));
        let a = connected(&mut c, SocketType::Pull, None);
        let b = connected(&mut c, SocketType::Pull, None);
        assert!(matches!(c.try_send("1".into()), Ok(SendOutcome::Done)));
        assert!(matches!(c.try_send("2".into()), Ok(SendOutcome::Done)));
        assert!(matches!(
            c.try_send("3".into()),
            Ok(SendOutcome::WouldBlock(_))
        ));
        let mut msgs = Vec::new();
        c.take_outgoing(b, |m| {
            msgs.push(m.message().clone());
            true
        });
        assert_eq!(msgs, vec![Message::from("2")]);
        assert!(matches!(c.try_send("3".into()), Ok(SendOutcome::Done)));
        msgs.clear();
        c.take_outgoing(a, |m| {
            msgs.push(m.message().clone());
            true
        });
        assert_eq!(msgs, vec![Message::from("1")]);
    }

    #[test]
    fn router_drops_at_the_high_water_mark_unless_mandatory() {
        let mut c = core(SocketType::Router, SocketOptions::default().sndhwm(1));
        connected(&mut c, SocketType::Dealer, Some(b"d"));
        assert!(matches!(
            c.try_send(["d", "1"].into()),
            Ok(SendOutcome::Done)
        ));
        assert!(matches!(
            c.try_send(["d", "2"].into()),
            Ok(SendOutcome::Done)
        ));
        assert_eq!(c.stats.dropped, 1);

        let mut c = core(
            SocketType::Router,
            SocketOptions::default().sndhwm(1).router_mandatory(true),
        );
        connected(&mut c, SocketType::Dealer, Some(b"d"));
        assert!(matches!(
            c.try_send(["d", "1"].into()),
            Ok(SendOutcome::Done)
        ));
        match c.try_send(["d", "2"].into()) {
            Ok(SendOutcome::WouldBlock(m)) => assert_eq!(&m[0][..], b"d"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_departed_peer_loses_its_outgoing_queue_but_not_what_it_delivered() {
        let mut c = core(SocketType::Dealer, SocketOptions::default());
        let a = connected(&mut c, SocketType::Router, None);
        c.deliver(a, "delivered".into());
        assert!(matches!(c.try_send("unsent".into()), Ok(SendOutcome::Done)));
        c.peer_disconnected(a);
        assert!(!c.has_outgoing(a), "outgoing queue discarded");
        assert_eq!(c.peer_count(), 0);
        assert_eq!(recv_text(&mut c).as_deref(), Some("delivered"));
        assert!(!c.has_peer(a), "peer removed once drained");
        assert!(matches!(
            c.try_send("x".into()),
            Ok(SendOutcome::WouldBlock(_))
        ));
    }

    #[test]
    fn router_keeps_the_routing_id_of_a_departed_peer_until_drained() {
        let mut c = core(SocketType::Router, SocketOptions::default());
        let a = connected(&mut c, SocketType::Dealer, Some(b"gone"));
        c.deliver(a, "last words".into());
        c.peer_disconnected(a);
        let m = c.try_recv().unwrap().unwrap();
        assert_eq!(&m[0][..], b"gone");
        c.try_send(["gone", "reply"].into()).unwrap();
        assert_eq!(c.stats.dropped, 1, "a departed peer is unreachable");
    }

    #[test]
    fn a_connecting_pipe_keeps_its_queue_across_reconnects() {
        let mut c = core(SocketType::Push, SocketOptions::default());
        let (peer, _) = c.add_peer(true);
        assert!(matches!(c.try_send("early".into()), Ok(SendOutcome::Done)));
        c.peer_ready(peer, info(SocketType::Pull, None)).unwrap();
        c.peer_disconnected(peer);
        assert!(
            c.has_outgoing(peer),
            "queued message survives the lost connection"
        );
        // With ZMQ_IMMEDIATE nothing queues for a peer that is not connected.
        let mut c = core(SocketType::Push, SocketOptions::default().immediate(true));
        assert!(matches!(
            c.try_send("x".into()),
            Ok(SendOutcome::WouldBlock(_))
        ));
    }

    #[test]
    fn a_named_connecting_peer_keeps_its_name_across_reconnects() {
        let mut c = core(SocketType::Router, SocketOptions::default());
        let (peer, _) = c.add_peer(true);
        c.name_peer(peer, Bytes::from_static(b"conn1")).unwrap();
        c.try_send(["conn1", "early"].into()).unwrap();
        assert!(c.has_outgoing(peer), "queued before the connection");
        for announced in [&b"X"[..], b"Z"] {
            c.peer_ready(peer, info(SocketType::Router, Some(announced)))
                .unwrap();
            c.deliver(peer, "hi".into());
            let m = c.try_recv().unwrap().unwrap();
            assert_eq!(&m[0][..], b"conn1", "the name, not the announced id");
            c.peer_disconnected(peer);
        }
        let (other, _) = c.add_peer(true);
        assert!(c.name_peer(other, Bytes::from_static(b"conn1")).is_err());
        c.remove_peer(peer);
        c.name_peer(other, Bytes::from_static(b"conn1")).unwrap();
        assert_eq!(c.stats.dropped, 0);
        // With ZMQ_IMMEDIATE nothing queues before the connection completes.
        let mut c = core(SocketType::Router, SocketOptions::default().immediate(true));
        let (peer, _) = c.add_peer(true);
        c.name_peer(peer, Bytes::from_static(b"conn1")).unwrap();
        c.try_send(["conn1", "early"].into()).unwrap();
        assert_eq!(c.stats.dropped, 1);
    }

    #[test]
    fn second_pair_peer_is_parked_not_refused() {
        let mut c = core(SocketType::Pair, SocketOptions::default());
        let first = connected(&mut c, SocketType::Pair, None);
        let (second, _) = c.add_peer(false);
        assert_eq!(c.peer_ready(second, info(SocketType::Pair, None)), Ok(()));
        assert!(!c.can_read(second), "a parked peer is never read from");
        assert_eq!(c.peer_count(), 1);
        // The first leaves: the parked one does not take its place (libzmq's pipe for
        // it is gone), but a newcomer does.
        c.peer_disconnected(first);
        assert!(!c.can_read(second));
        let (third, _) = c.add_peer(false);
        assert_eq!(c.peer_ready(third, info(SocketType::Pair, None)), Ok(()));
        assert!(c.can_read(third));
    }

    #[test]
    fn router_refuses_a_duplicate_identity() {
        let mut c = core(SocketType::Router, SocketOptions::default());
        connected(&mut c, SocketType::Dealer, Some(b"same"));
        let (second, _) = c.add_peer(false);
        assert!(
            c.peer_ready(second, info(SocketType::Dealer, Some(b"same")))
                .is_err()
        );
    }

    #[test]
    fn sub_filters_what_it_receives() {
        let mut c = core(SocketType::Sub, SocketOptions::default());
        let p = connected(&mut c, SocketType::Pub, None);
        c.change_subscription(b"A", true).unwrap();
        assert!(!c.deliver(p, "B1".into()));
        assert!(c.deliver(p, "A1".into()));
        assert_eq!(recv_text(&mut c).as_deref(), Some("A1"));
    }

    #[test]
    fn wrong_direction_is_not_supported() {
        let mut c = core(SocketType::Pull, SocketOptions::default());
        assert!(matches!(
            c.try_send("x".into()),
            Err(Error::NotSupported { .. })
        ));
        let mut c = core(SocketType::Pub, SocketOptions::default());
        assert!(matches!(c.try_recv(), Err(Error::NotSupported { .. })));
    }
}
