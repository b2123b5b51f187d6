//! The state a socket shares with its connection tasks: per-peer queues with
//! high-water marks, and the routing rules of each socket type.
//!
//! Where a message goes: `send` → [`Core::try_send`] picks a peer by the socket type's
//! rule and pushes onto that peer's `out` queue → the peer's connection task
//! (`driver::connection`) encodes it. Where a message comes from: the connection task
//! decodes it → [`Core::deliver_all`] pushes onto the peer's `inbound` queue → `recv` →
//! [`Core::try_recv`] fair-queues over peers and applies the type's receive rule.

use std::cell::OnceCell;
use std::collections::VecDeque;
use std::rc::Rc;

use bytes::Bytes;

use crate::config::SocketOptions;
use crate::driver::notify::{Notify, Stop};
use crate::error::Error;
use crate::proto::error::ProtocolError;
use crate::proto::handshake::PeerInfo;
use crate::proto::message::Message;
use crate::proto::pattern::{
    Distributor, PeerId, RepState, ReqState, RoundRobin, RoutingTable, Subscriptions,
};
use crate::proto::session::ZERO_COPY_MIN;
use crate::proto::socket_type::SocketType;
use crate::socket::peer_table::PeerTable;

/// A subscription change waiting to be sent to one peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SubscriptionOp {
    Subscribe(Bytes),
    Cancel(Bytes),
}

/// A message waiting in a pipe.
#[derive(Debug)]
pub(crate) enum Outgoing {
    /// A message for this peer alone.
    Single(Message),
    /// A message fanned out to several peers (PUB, XPUB): it is encoded at most once,
    /// by the first connection that writes it, and the others reuse those bytes.
    Fanout(Rc<Fanout>),
}

/// One message shared by every pipe it was fanned out to.
#[derive(Debug)]
pub(crate) struct Fanout {
    message: Message,
    wire: OnceCell<Bytes>,
}

impl Outgoing {
    /// The message itself (an in-process peer takes messages, not bytes).
    pub(crate) fn message(&self) -> &Message {
        match self {
            Outgoing::Single(message) => message,
            Outgoing::Fanout(fanout) => &fanout.message,
        }
    }

    /// The message, cloned only if other pipes still share it.
    pub(crate) fn into_message(self) -> Message {
        match self {
            Outgoing::Single(message) => message,
            Outgoing::Fanout(fanout) => {
                Rc::try_unwrap(fanout).map_or_else(|shared| shared.message.clone(), |f| f.message)
            }
        }
    }

    /// The ZMTP encoding of a fanned-out message, made on first use and shared;
    /// `None` for a message that is encoded where it is written: one for a single
    /// peer, or one with a frame of `ZERO_COPY_MIN` bytes or more, which the session
    /// sends by reference (a shared encoding would copy it).
    pub(crate) fn shared_wire(&self) -> Option<&Bytes> {
        match self {
            Outgoing::Single(_) => None,
            Outgoing::Fanout(fanout) => {
                let large = fanout.message.iter().any(|f| f.len() >= ZERO_COPY_MIN);
                (!large).then(|| fanout.wire.get_or_init(|| fanout.message.to_wire()))
            }
        }
    }
}

/// One peer: a pair of queues (libzmq's pipe) and what the handshake told us.
#[derive(Debug)]
pub(crate) struct Peer {
    out: VecDeque<Outgoing>,
    inbound: VecDeque<Message>,
    subscription_ops: VecDeque<SubscriptionOp>,
    info: Option<PeerInfo>,
    /// Wakes the peer's connection task (messages to send, room to read).
    pub(crate) link: Rc<Notify>,
    /// A connecting endpoint's pipe: it outlives connections (libzmq keeps it across
    /// reconnects so queued messages are not lost).
    persistent: bool,
    /// The connection task has written everything it was given.
    pub(crate) flushed: bool,
    /// The connection is gone; the pipe stays only until its inbound queue is read.
    departed: bool,
}

impl Peer {
    /// Queues a message for the peer's connection and wakes it.
    fn enqueue(&mut self, message: Outgoing) {
        self.out.push_back(message);
        self.flushed = false;
        self.link.notify();
    }
}

/// Counters a user can read to see what went wrong with peers.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SocketStats {
    /// Connections accepted or established (handshake completed).
    pub handshakes: u64,
    /// Connections closed because the peer broke the protocol or timed out.
    pub protocol_errors: u64,
    /// Connections lost (closed by the peer, reset, ...).
    pub disconnects: u64,
    /// Messages dropped by a mute action (PUB or ROUTER at a peer's high-water mark,
    /// ROUTER to an unknown routing id).
    pub dropped: u64,
}

/// What [`Core::try_send`] did.
#[derive(Debug)]
pub(crate) enum SendOutcome {
    /// Queued (or dropped by the socket type's mute action).
    Done,
    /// No peer can take it now: wait for one (PUSH, DEALER, REQ, PAIR).
    WouldBlock(Message),
}

/// Everything a socket and its tasks share on one runtime thread.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) socket_type: SocketType,
    pub(crate) options: SocketOptions,
    pub(crate) core: std::cell::RefCell<Core>,
    /// Notified when a message may be ready to receive.
    pub(crate) recv_ready: Notify,
    /// Notified when a peer may accept a message.
    pub(crate) send_ready: Notify,
    /// Notified when a connection task flushed its queue (for `close` with linger).
    pub(crate) flushed: Notify,
    /// Notified when a handshake completed or a connection ended.
    pub(crate) peers_changed: Notify,
    /// Stops every task of the socket.
    pub(crate) shutdown: Stop,
    /// Listening sockets still open (their accept loops close them on stop).
    pub(crate) listeners: std::cell::Cell<usize>,
    /// Notified when a listening socket was closed.
    pub(crate) listener_closed: Notify,
}

impl Shared {
    pub(crate) fn new(socket_type: SocketType, options: SocketOptions) -> Rc<Shared> {
        Rc::new(Shared {
            socket_type,
            core: std::cell::RefCell::new(Core::new(socket_type, &options)),
            options,
            recv_ready: Notify::default(),
            send_ready: Notify::default(),
            flushed: Notify::default(),
            peers_changed: Notify::default(),
            shutdown: Stop::default(),
            listeners: std::cell::Cell::new(0),
            listener_closed: Notify::default(),
        })
    }
}

impl Shared {
    /// A peer's connection ended: updates the routing state and wakes every waiter
    /// (senders, receivers, `close`, `wait_for_peers`).
    pub(crate) fn peer_disconnected(&self, id: PeerId) {
        self.core.borrow_mut().peer_disconnected(id);
        self.send_ready.notify();
        self.recv_ready.notify();
        self.flushed.notify();
        self.peers_changed.notify();
    }

    /// A connecting endpoint was closed: its pipe goes, with whatever it queued.
    pub(crate) fn remove_pipe(&self, id: PeerId) {
        self.core.borrow_mut().remove_peer(id);
        self.flushed.notify();
    }

    /// The pipe a new connection uses: the connecting endpoint's own `pipe`, which
    /// outlives its connections, or a fresh one. `None` if that pipe is gone.
    pub(crate) fn pipe_for(&self, pipe: Option<PeerId>) -> Option<(PeerId, Rc<Notify>)> {
        match pipe {
            Some(id) => self.core.borrow().link(id).map(|link| (id, link)),
            None => Some(self.core.borrow_mut().add_peer(false)),
        }
    }
}

/// Per-socket routing state.
#[derive(Debug)]
pub(crate) struct Core {
    socket_type: SocketType,
    sndhwm: usize,
    rcvhwm: usize,
    router_mandatory: bool,
    immediate: bool,
    peers: PeerTable<Peer>,
    /// Peers that may be sent to, in round-robin order.
    out_order: RoundRobin,
    /// Peers that may be received from, in fair-queue order.
    in_order: RoundRobin,
    routing: RoutingTable,
    dist: Distributor,
    /// SUB/XSUB: our own subscriptions, resent to every new connection.
    subscriptions: Subscriptions,
    req: ReqState,
    rep: RepState,
    matching: Vec<PeerId>,
    /// XPUB: subscription changes waiting for `recv`, in the order they happened.
    reports: VecDeque<Message>,
    /// The last protocol errors that closed a connection, oldest first.
    recent_errors: VecDeque<ProtocolError>,
    pub(crate) stats: SocketStats,
}

fn below(len: usize, hwm: usize) -> bool {
    hwm == 0 || len < hwm
}

impl Core {
    fn new(socket_type: SocketType, options: &SocketOptions) -> Core {
        Core {
            socket_type,
            sndhwm: options.sndhwm,
            rcvhwm: options.rcvhwm,
            router_mandatory: options.router_mandatory,
            immediate: options.immediate,
            peers: PeerTable::default(),
            out_order: RoundRobin::new(),
            in_order: RoundRobin::new(),
            routing: RoutingTable::new(),
            dist: Distributor::new(),
            subscriptions: Subscriptions::new(),
            req: ReqState::new(),
            rep: RepState::new(),
            matching: Vec::new(),
            reports: VecDeque::new(),
            recent_errors: VecDeque::new(),
            stats: SocketStats::default(),
        }
    }

    /// Whether this socket type queues messages for a connecting peer before its
    /// handshake completes (libzmq does for connect-side pipes unless `immediate`).
    fn queues_before_handshake(&self) -> bool {
        !self.immediate
            && matches!(
                self.socket_type,
                SocketType::Push | SocketType::Dealer | SocketType::Req | SocketType::Pair
            )
    }

    /// Creates a pipe for a new connection (or for a connecting endpoint).
    pub(crate) fn add_peer(&mut self, persistent: bool) -> (PeerId, Rc<Notify>) {
        let link = Rc::new(Notify::default());
        let id = self.peers.insert(Peer {
            out: VecDeque::new(),
            inbound: VecDeque::new(),
            subscription_ops: VecDeque::new(),
            info: None,
            link: link.clone(),
            persistent,
            flushed: true,
            departed: false,
        });
        if persistent && self.queues_before_handshake() {
            self.out_order.attach(id);
        }
        (id, link)
    }

    /// The handshake with `peer` completed. An error means the peer must be refused
    /// (a ROUTER peer with a routing id already in use, a second PAIR peer).
    pub(crate) fn peer_ready(&mut self, id: PeerId, info: PeerInfo) -> Result<(), ProtocolError> {
        if !self.peers.contains_key(&id) {
            return Err(ProtocolError::Closed);
        }
        match self.socket_type {
            SocketType::Router => {
                self.routing.attach(id, info.routing_id.clone())?;
            }
            SocketType::Pair => {
                let other_active = self
                    .peers
                    .iter()
                    .any(|(other, p)| other != id && p.info.is_some());
                if other_active {
                    return Err(ProtocolError::UnexpectedCommand {
                        name: "READY".into(),
                        during: "while the PAIR socket already has a peer",
                    });
                }
            }
            SocketType::Pub | SocketType::Xpub => {
                self.dist.attach(id);
            }
            _ => {}
        }
        if let Some(peer) = self.peers.get_mut(&id) {
            peer.info = Some(info);
            // Subscriptions are resent in full by the connection task.
            peer.subscription_ops.clear();
        }
        if matches!(
            self.socket_type,
            SocketType::Push | SocketType::Dealer | SocketType::Req | SocketType::Pair
        ) {
            self.out_order.attach(id);
        }
        self.in_order.attach(id);
        self.stats.handshakes += 1;
        Ok(())
    }

    /// `peer`'s connection ended. A connecting endpoint's pipe survives with its queued
    /// messages. Any other pipe loses its outgoing queue (RFC 28: a peer's queue is
    /// discarded when it disconnects), but messages it already delivered stay readable
    /// until `recv` takes them, as in libzmq: nothing already accepted is lost.
    pub(crate) fn peer_disconnected(&mut self, id: PeerId) {
        let Some(peer) = self.peers.get(&id) else {
            return;
        };
        let persistent = peer.persistent;
        let drained = peer.inbound.is_empty();
        if !persistent && drained {
            self.remove_peer(id);
            return;
        }
        // A ROUTER still needs the routing id to hand out what was delivered.
        if persistent || drained {
            self.routing.detach(id);
        }
        self.dist_detach(id);
        self.req.peer_detached(id);
        if let Some(peer) = self.peers.get_mut(&id) {
            peer.info = None;
            if persistent {
                peer.flushed = peer.out.is_empty();
            } else {
                peer.out.clear();
                peer.subscription_ops.clear();
                peer.flushed = true;
                peer.departed = true;
            }
        }
        if !persistent || !self.queues_before_handshake() {
            self.out_order.detach(id);
        }
    }

    /// Detaches a publisher's peer; XPUB reports the topics nobody wants any more.
    fn dist_detach(&mut self, id: PeerId) {
        let gone = self.dist.detach(id);
        if self.socket_type == SocketType::Xpub {
            for topic in gone {
                let mut body = Vec::with_capacity(topic.len() + 1);
                body.push(0);
                body.extend_from_slice(&topic);
                self.reports.push_back(Message::from(body));
            }
        }
    }

    fn forget_connection(&mut self, id: PeerId) {
        self.routing.detach(id);
        self.dist_detach(id);
        self.req.peer_detached(id);
    }

    /// Removes a pipe entirely, dropping whatever it queued.
    pub(crate) fn remove_peer(&mut self, id: PeerId) {
        self.forget_connection(id);
        self.out_order.detach(id);
        self.in_order.detach(id);
        if let Some(peer) = self.peers.remove(&id) {
            peer.link.notify();
        }
    }

    pub(crate) fn peer_count(&self) -> usize {
        self.peers.values().filter(|p| p.info.is_some()).count()
    }

    // ---- the connection task's side ----

    /// Whether the connection task may read more from `peer` (its inbound queue is
    /// below the receive high-water mark).
    pub(crate) fn can_read(&self, id: PeerId) -> bool {
        self.peers
            .get(&id)
            .is_some_and(|p| below(p.inbound.len(), self.rcvhwm))
    }

    /// Queues a message that arrived from `peer`. Returns whether it was queued.
    #[cfg(test)]
    pub(crate) fn deliver(&mut self, id: PeerId, message: Message) -> bool {
        let mut once = Some(message);
        self.deliver_all(id, || once.take())
    }

    /// Queues the messages `next` yields, all from `peer`, until it returns `None`.
    /// Returns whether any was queued. The peer is looked up once for the lot.
    pub(crate) fn deliver_all(
        &mut self,
        id: PeerId,
        mut next: impl FnMut() -> Option<Message>,
    ) -> bool {
        let Some(peer) = self.peers.get_mut(&id).filter(|p| p.info.is_some()) else {
            while next().is_some() {}
            return false;
        };
        let mut queued = false;
        while let Some(message) = next() {
            // A SUB filters on receive as well: a ZMTP 3.0 or XPUB publisher may send
            // more than we subscribed to.
            if self.socket_type == SocketType::Sub {
                let topic = message.first().map_or(&[][..], |f| &f[..]);
                if !self.subscriptions.matches(topic) {
                    continue;
                }
            }
            peer.inbound.push_back(message);
            queued = true;
        }
        queued
    }

    /// A peer subscribed (PUB/XPUB). Returns the topic to report upward for XPUB.
    pub(crate) fn peer_subscribed(
        &mut self,
        id: PeerId,
        topic: &[u8],
        on: bool,
    ) -> Option<Message> {
        if !matches!(self.socket_type, SocketType::Pub | SocketType::Xpub) {
            return None;
        }
        let first = if on {
            self.dist.subscribe(id, topic)
        } else {
            self.dist.cancel(id, topic)
        };
        if self.socket_type == SocketType::Xpub && first {
            let mut body = Vec::with_capacity(topic.len() + 1);
            body.push(u8::from(on));
            body.extend_from_slice(topic);
            return Some(Message::from(body));
        }
        None
    }

    /// XPUB: a subscription message to hand to the application.
    pub(crate) fn deliver_subscription(&mut self, message: Message) {
        self.reports.push_back(message);
    }

    /// Takes the subscription changes waiting for `peer`'s connection.
    pub(crate) fn take_subscription_ops(&mut self, id: PeerId, ops: &mut Vec<SubscriptionOp>) {
        if let Some(peer) = self.peers.get_mut(&id) {
            ops.extend(peer.subscription_ops.drain(..));
        }
    }

    /// Hands queued messages of `peer` to `encode`, in order, up to `budget` bytes of
    /// encoded output, and removes them. Messages are encoded where they lie in the
    /// queue, never moved. Returns how many were taken.
    pub(crate) fn take_outgoing(
        &mut self,
        id: PeerId,
        mut budget: usize,
        mut encode: impl FnMut(&Outgoing),
    ) -> usize {
        let Some(peer) = self.peers.get_mut(&id) else {
            return 0;
        };
        let mut taken = 0;
        for message in peer.out.iter() {
            if budget == 0 {
                break;
            }
            budget = budget.saturating_sub(message.message().encoded_len());
            encode(message);
            taken += 1;
        }
        peer.out.drain(..taken);
        taken
    }

    /// The topics to send to a new connection (SUB/XSUB).
    pub(crate) fn subscription_topics(&self) -> Vec<Vec<u8>> {
        self.subscriptions.topics().collect()
    }

    pub(crate) fn has_outgoing(&self, id: PeerId) -> bool {
        self.peers
            .get(&id)
            .is_some_and(|p| !p.out.is_empty() || !p.subscription_ops.is_empty())
    }

    pub(crate) fn set_flushed(&mut self, id: PeerId, flushed: bool) {
        if let Some(peer) = self.peers.get_mut(&id) {
            peer.flushed = flushed;
        }
    }

    /// Whether every queued message was written (for `close` with a linger).
    pub(crate) fn all_flushed(&self) -> bool {
        self.peers.values().all(|p| p.out.is_empty() && p.flushed)
    }

    // ---- the application's side ----

    fn push_out(&mut self, id: PeerId, message: Message) -> bool {
        match self.peers.get_mut(&id) {
            Some(peer) => {
                peer.enqueue(Outgoing::Single(message));
                true
            }
            None => false,
        }
    }

    fn has_room(&self, id: PeerId) -> bool {
        self.peers
            .get(&id)
            .is_some_and(|p| below(p.out.len(), self.sndhwm))
    }

    /// Sends `message` by the socket type's rule, without waiting.
    pub(crate) fn try_send(&mut self, mut message: Message) -> Result<SendOutcome, Error> {
        use SocketType::*;
        if message.is_empty() {
            return Err(Error::EmptyMessage);
        }
        match self.socket_type {
            Push | Dealer | Pair => {
                // One lookup per message: the load-balancing rotation queues it too.
                let (peers, hwm) = (&mut self.peers, self.sndhwm);
                let mut unsent = Some(message);
                self.out_order.next_with(|id| {
                    let peer = peers.get_mut(&id).filter(|p| below(p.out.len(), hwm))?;
                    peer.enqueue(Outgoing::Single(unsent.take()?));
                    Some(())
                });
                if let Some(message) = unsent {
                    return Ok(SendOutcome::WouldBlock(message));
                }
            }
            Req => {
                if !self.req.can_send() {
                    return Err(Error::InvalidState(
                        "REQ must receive the reply before sending another request",
                    ));
                }
                let Some(id) = self.pick_out() else {
                    return Ok(SendOutcome::WouldBlock(message));
                };
                let request = self.req.start_request(id, message)?;
                self.push_out(id, request);
            }
            Rep => {
                let (id, reply) = self.rep.reply(message).map_err(|_| {
                    Error::InvalidState("REP must receive a request before sending a reply")
                })?;
                // The requester may be gone, or be at its high-water mark: the reply is
                // dropped, as libzmq does.
                if self.has_room(id) && self.peers.get(&id).is_some_and(|p| p.info.is_some()) {
                    self.push_out(id, reply);
                } else {
                    self.stats.dropped += 1;
                }
            }
            Router => {
                let Some(routing_id) = message.pop_front() else {
                    return Err(Error::EmptyMessage);
                };
                let connected = self
                    .routing
                    .peer_for(&routing_id)
                    .filter(|id| self.peers.get(id).is_some_and(|p| p.info.is_some()));
                let Some(id) = connected else {
                    if self.router_mandatory {
                        return Err(Error::HostUnreachable(routing_id));
                    }
                    self.stats.dropped += 1;
                    return Ok(SendOutcome::Done);
                };
                if message.is_empty() {
                    return Err(Error::EmptyMessage);
                }
                if !self.has_room(id) {
                    if self.router_mandatory {
                        message.push_front(routing_id);
                        return Ok(SendOutcome::WouldBlock(message));
                    }
                    self.stats.dropped += 1;
                    return Ok(SendOutcome::Done);
                }
                self.push_out(id, message);
            }
            Pub | Xpub => {
                let mut matching = std::mem::take(&mut self.matching);
                matching.clear();
                // Borrowed, not cloned: cloning a `Bytes` made from a `Vec` allocates.
                let topic = message.first().map_or(&[][..], |f| &f[..]);
                self.dist.matching_peers(topic, &mut matching);
                match matching[..] {
                    [] => {}
                    [id] => {
                        if self.has_room(id) {
                            self.push_out(id, message);
                        } else {
                            self.stats.dropped += 1;
                        }
                    }
                    _ => {
                        // Several subscribers share one message and one encoding.
                        let fanout = Rc::new(Fanout {
                            message,
                            wire: OnceCell::new(),
                        });
                        for id in &matching {
                            match self.peers.get_mut(id) {
                                Some(peer) if below(peer.out.len(), self.sndhwm) => {
                                    peer.enqueue(Outgoing::Fanout(fanout.clone()));
                                }
                                _ => self.stats.dropped += 1,
                            }
                        }
                    }
                }
                self.matching = matching;
            }
            Xsub => {
                // A message starting with 1 or 0 is a subscription change; anything
                // else goes to every publisher.
                if message.len() == 1
                    && let Some(&flag) = message[0].first()
                    && flag <= 1
                {
                    let topic = message[0].slice(1..);
                    self.change_subscription(&topic, flag == 1);
                    return Ok(SendOutcome::Done);
                }
                let ids: Vec<PeerId> = self.connected_peers().collect();
                for id in ids {
                    if self.has_room(id) {
                        self.push_out(id, message.clone());
                    }
                }
            }
            Sub | Pull => {
                return Err(Error::NotSupported {
                    socket_type: self.socket_type,
                    operation: "send",
                });
            }
        }
        Ok(SendOutcome::Done)
    }

    fn connected_peers(&self) -> impl Iterator<Item = PeerId> + '_ {
        self.peers
            .iter()
            .filter(|(_, p)| p.info.is_some())
            .map(|(id, _)| id)
    }

    fn pick_out(&mut self) -> Option<PeerId> {
        let (peers, hwm) = (&self.peers, self.sndhwm);
        self.out_order
            .next(|id| peers.get(&id).is_some_and(|p| below(p.out.len(), hwm)))
    }

    /// Subscribes or cancels locally (SUB/XSUB) and tells every connected publisher
    /// when the topic's count crossed zero.
    pub(crate) fn change_subscription(&mut self, topic: &[u8], on: bool) {
        let changed = if on {
            self.subscriptions.subscribe(topic)
        } else {
            self.subscriptions.cancel(topic)
        };
        if !changed {
            return;
        }
        let topic = Bytes::copy_from_slice(topic);
        for peer in self.peers.values_mut().filter(|p| p.info.is_some()) {
            peer.subscription_ops.push_back(if on {
                SubscriptionOp::Subscribe(topic.clone())
            } else {
                SubscriptionOp::Cancel(topic.clone())
            });
            peer.link.notify();
        }
    }

    /// Receives by the socket type's rule, without waiting.
    pub(crate) fn try_recv(&mut self) -> Result<Option<Message>, Error> {
        use SocketType::*;
        match self.socket_type {
            Push | Pub => {
                return Err(Error::NotSupported {
                    socket_type: self.socket_type,
                    operation: "receive",
                });
            }
            Req if self.req.can_send() => {
                return Err(Error::InvalidState(
                    "REQ must send a request before receiving",
                ));
            }
            Rep if !self.rep.can_recv() => {
                return Err(Error::InvalidState(
                    "REP must send the reply before receiving the next request",
                ));
            }
            Xpub => {
                if let Some(report) = self.reports.pop_front() {
                    return Ok(Some(report));
                }
            }
            _ => {}
        }
        loop {
            let (peers, rcvhwm) = (&mut self.peers, self.rcvhwm);
            // One lookup per message: the fair-queue rotation takes the message too.
            let Some((id, message, drained)) = self.in_order.next_with(|id| {
                let peer = peers.get_mut(&id)?;
                let was_full = !below(peer.inbound.len(), rcvhwm);
                let message = peer.inbound.pop_front()?;
                if was_full {
                    peer.link.notify();
                }
                Some((id, message, peer.inbound.is_empty() && peer.departed))
            }) else {
                return Ok(None);
            };
            let routing_id = match self.socket_type {
                Router => self.routing.routing_id(id).cloned(),
                _ => None,
            };
            if drained {
                self.remove_peer(id);
            }
            match self.socket_type {
                Router => {
                    let Some(routing_id) = routing_id else {
                        continue;
                    };
                    let mut message = message;
                    message.push_front(routing_id);
                    return Ok(Some(message));
                }
                Req => {
                    if let Some(reply) = self.req.accept_reply(id, message) {
                        return Ok(Some(reply));
                    }
                }
                Rep => {
                    if let Some(body) = self.rep.accept_request(id, message) {
                        return Ok(Some(body));
                    }
                }
                _ => return Ok(Some(message)),
            }
        }
    }
}

/// How many protocol errors [`Core::recent_errors`] keeps.
pub(crate) const RECENT_ERRORS: usize = 16;

impl Core {
    /// Counts a connection closed for a protocol error and remembers the error.
    pub(crate) fn record_protocol_error(&mut self, err: ProtocolError) {
        self.stats.protocol_errors += 1;
        if self.recent_errors.len() == RECENT_ERRORS {
            self.recent_errors.pop_front();
        }
        self.recent_errors.push_back(err);
    }

    /// The last protocol errors that closed a connection, oldest first.
    pub(crate) fn recent_errors(&self) -> Vec<ProtocolError> {
        self.recent_errors.iter().cloned().collect()
    }

    /// How many more messages `peer`'s inbound queue takes before its high-water
    /// mark (`usize::MAX` without one).
    pub(crate) fn inbound_room(&self, id: PeerId) -> usize {
        match self.peers.get(&id) {
            Some(p) if p.info.is_some() => {
                if self.rcvhwm == 0 {
                    usize::MAX
                } else {
                    self.rcvhwm.saturating_sub(p.inbound.len())
                }
            }
            _ => 0,
        }
    }

    /// Takes up to `count` queued messages (and every pending subscription change) of
    /// `peer`, for an inproc link.
    pub(crate) fn take_messages(
        &mut self,
        id: PeerId,
        count: usize,
        messages: &mut Vec<Message>,
        ops: &mut Vec<SubscriptionOp>,
    ) {
        let Some(peer) = self.peers.get_mut(&id) else {
            return;
        };
        ops.extend(peer.subscription_ops.drain(..));
        let n = count.min(peer.out.len());
        messages.extend(peer.out.drain(..n).map(Outgoing::into_message));
    }

    /// Queues a subscription change for one peer.
    pub(crate) fn queue_subscription(&mut self, id: PeerId, op: SubscriptionOp) {
        if let Some(peer) = self.peers.get_mut(&id) {
            peer.subscription_ops.push_back(op);
            peer.link.notify();
        }
    }

    /// The wake-up handle of a pipe's connection task.
    pub(crate) fn link(&self, id: PeerId) -> Option<Rc<Notify>> {
        self.peers.get(&id).map(|p| p.link.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::command::Metadata;
    use crate::proto::greeting::Version;

    fn info(socket_type: SocketType, id: Option<&'static [u8]>) -> PeerInfo {
        PeerInfo {
            socket_type,
            routing_id: id.map(Bytes::from_static),
            metadata: Metadata::new(),
            version: Version { major: 3, minor: 1 },
        }
    }

    fn core(socket_type: SocketType, options: SocketOptions) -> Core {
        Core::new(socket_type, &options)
    }

    fn connected(core: &mut Core, peer_type: SocketType, id: Option<&'static [u8]>) -> PeerId {
        let (peer, _) = core.add_peer(false);
        core.peer_ready(peer, info(peer_type, id)).unwrap();
        peer
    }

    fn recv_text(core: &mut Core) -> Option<String> {
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
            c.take_outgoing(id, usize::MAX, |m| {
                assert_eq!(m.message(), &Message::from("news"));
                wires.extend(m.shared_wire().cloned());
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
            c.take_outgoing(id, usize::MAX, |m| {
                assert!(m.shared_wire().is_none());
                assert_eq!(m.message()[0].as_ptr(), big.as_ptr());
            });
        }
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
        c.take_outgoing(b, usize::MAX, |m| msgs.push(m.message().clone()));
        assert_eq!(msgs, vec![Message::from("2")]);
        assert!(matches!(c.try_send("3".into()), Ok(SendOutcome::Done)));
        msgs.clear();
        c.take_outgoing(a, usize::MAX, |m| msgs.push(m.message().clone()));
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
        assert!(c.link(a).is_none(), "pipe removed once drained");
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
        let (pipe, _) = c.add_peer(true);
        assert!(matches!(c.try_send("early".into()), Ok(SendOutcome::Done)));
        c.peer_ready(pipe, info(SocketType::Pull, None)).unwrap();
        c.peer_disconnected(pipe);
        assert!(
            c.has_outgoing(pipe),
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
    fn second_pair_peer_is_refused() {
        let mut c = core(SocketType::Pair, SocketOptions::default());
        connected(&mut c, SocketType::Pair, None);
        let (second, _) = c.add_peer(false);
        assert!(c.peer_ready(second, info(SocketType::Pair, None)).is_err());
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
        c.change_subscription(b"A", true);
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
