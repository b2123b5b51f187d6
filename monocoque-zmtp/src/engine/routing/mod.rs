//! One routing state per socket type, chosen once when the socket is made.
//!
//! | State | Socket types | Send | Receive |
//! |---|---|---|---|
//! | [`LoadBalance`] | PUSH, DEALER | round robin over peers with room | fair queue (DEALER) |
//! | [`Pair`] | PAIR | to its one peer | from its one peer |
//! | [`Req`] | REQ | round robin, delimiter added, then wait | the reply from the peer asked |
//! | [`Rep`] | REP | back to the requester, envelope restored | fair queue, envelope kept |
//! | [`Router`] | ROUTER | by the routing-id frame | fair queue, routing id prefixed |
//! | [`Publish`] | PUB, XPUB | to every matching subscriber | XPUB: subscription reports |
//! | [`Subscribe`] | SUB, XSUB | XSUB: subscriptions and messages upstream | fair queue, filtered (SUB) |
//! | `FairQueue` | PULL | - | fair queue |
//!
//! The states decide; [`Peers`] holds the queues. Adding a socket type means adding a
//! variant here and, if no state fits, a file beside this one.

mod load_balance;
mod publish;
mod rep;
mod req;
mod router;
mod subscribe;

pub(crate) use load_balance::{LoadBalance, Pair};
pub(crate) use publish::{Publish, PublishOptions};
pub(crate) use rep::Rep;
pub(crate) use req::Req;
pub(crate) use router::Router;
/// Checked by the socket's `set_connect_routing_id` (the runtime's side).
#[cfg(feature = "runtime")]
pub(crate) use router::check_connect_routing_id;
pub(crate) use subscribe::Subscribe;

use bytes::Bytes;

use super::peers::{Inbound, Peers};
use crate::config::SocketOptions;
use crate::error::Error;
use crate::proto::error::ProtocolError;
use crate::proto::handshake::PeerInfo;
use crate::proto::message::Message;
use crate::proto::pattern::PeerId;
use crate::proto::socket_type::SocketType;

/// What a routing state did with a message given to `send`.
#[derive(Debug)]
pub(crate) enum Routed {
    /// Queued for the peer it was meant for (XSUB: for each publisher, counted as
    /// one), or for none when none was.
    Queued,
    /// Fanned out (PUB, XPUB): queued for `queued` subscribers, dropped for `dropped`
    /// more at their high-water marks.
    FannedOut { queued: usize, dropped: u64 },
    /// Dropped for this many peers by the socket type's mute action (ROUTER at a
    /// peer's high-water mark or to an unknown routing id, REP to a requester that
    /// is gone).
    Dropped(u64),
    /// No peer can take it now: the message is left in its slot; wait for a peer
    /// (PUSH, DEALER, REQ, PAIR).
    WouldBlock,
}

/// Why a peer leaves the routing state.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Departure {
    /// Its connection ended; the peer stays in the table (a connecting endpoint's
    /// peer for the next connection, any other until what it delivered is read).
    Lost {
        persistent: bool,
        /// Messages it delivered are still waiting for `recv`.
        pending_inbound: bool,
    },
    /// It is removed from the table.
    Removed,
}

/// The routing state of one socket.
#[derive(Debug)]
pub(crate) enum Routing {
    LoadBalance(LoadBalance),
    Pair(Pair),
    Req(Req),
    Rep(Rep),
    Router(Router),
    Publish(Publish),
    Subscribe(Subscribe),
    /// PULL: receives in fair-queue order, sends nothing.
    FairQueue,
}

fn unsupported(socket_type: SocketType, operation: &'static str) -> Error {
    Error::NotSupported {
        socket_type,
        operation,
    }
}

impl Routing {
    /// The state for `socket_type`: the one place that decides by socket type.
    pub(crate) fn new(socket_type: SocketType, options: &SocketOptions) -> Routing {
        let early = !options.immediate;
        match socket_type {
            SocketType::Push => Routing::LoadBalance(LoadBalance::new(early, false)),
            SocketType::Dealer => Routing::LoadBalance(LoadBalance::new(early, true)),
            SocketType::Pair => Routing::Pair(Pair::new(early)),
            SocketType::Req => {
                Routing::Req(Req::new(early, options.req_relaxed, options.req_correlate))
            }
            SocketType::Rep => Routing::Rep(Rep::default()),
            SocketType::Router => Routing::Router(Router::new(
                options.router_mandatory,
                options.router_handover,
                early,
            )),
            SocketType::Pub | SocketType::Xpub => Routing::Publish(Publish::new(PublishOptions {
                xpub: socket_type == SocketType::Xpub,
                verbose: options.xpub_verbose,
                verboser: options.xpub_verboser,
                invert: options.invert_matching,
                nodrop: options.xpub_nodrop,
                manual: options.xpub_manual,
            })),
            SocketType::Sub => Routing::Subscribe(Subscribe::new(false, options.invert_matching)),
            SocketType::Xsub => Routing::Subscribe(Subscribe::new(true, options.invert_matching)),
            SocketType::Pull => Routing::FairQueue,
        }
    }

    /// Whether `id` is a PAIR's second peer while the first holds its place.
    pub(crate) fn is_pair_taken(&self, peers: &Peers, id: PeerId) -> bool {
        matches!(self, Routing::Pair(pair) if pair.is_taken(peers, id))
    }

    /// The load balancer of a state that sends round robin.
    #[inline]
    fn balancer(&mut self) -> Option<&mut LoadBalance> {
        match self {
            Routing::LoadBalance(lb) => Some(lb),
            Routing::Pair(pair) => Some(pair.balancer()),
            Routing::Req(req) => Some(req.balancer()),
            _ => None,
        }
    }

    /// A connecting endpoint's peer was made: round-robin senders queue messages for
    /// it before its handshake (libzmq does, unless `immediate`).
    pub(crate) fn pending(&mut self, id: PeerId) {
        if let Some(lb) = self.balancer() {
            lb.pending(id);
        }
    }

    /// Names a connecting endpoint's peer (`ZMQ_CONNECT_ROUTING_ID`, ROUTER only).
    pub(crate) fn name(&mut self, id: PeerId, routing_id: Bytes) -> Result<(), ProtocolError> {
        match self {
            Routing::Router(router) => router.name(id, routing_id),
            _ => Err(ProtocolError::InvalidOption(
                "connect_routing_id is for ROUTER sockets",
            )),
        }
    }

    /// Attaches a peer whose handshake completed. An error refuses the peer (a ROUTER
    /// peer with a routing id already in use). Returns a peer the socket now
    /// disconnects (ROUTER_HANDOVER's previous holder of the routing id).
    pub(crate) fn attach(
        &mut self,
        peers: &Peers,
        id: PeerId,
        info: &PeerInfo,
    ) -> Result<Option<PeerId>, ProtocolError> {
        match self {
            Routing::Pair(pair) => pair.attach(peers, id).map(|()| None),
            Routing::Router(router) => router.attach(id, info),
            Routing::Publish(publish) => {
                publish.attach(id);
                Ok(None)
            }
            _ => {
                if let Some(lb) = self.balancer() {
                    lb.attach(id);
                }
                Ok(None)
            }
        }
    }

    /// `id` leaves, for `why`.
    pub(crate) fn detach(&mut self, id: PeerId, why: Departure) {
        match self {
            Routing::Router(router) => router.detach(id, why),
            Routing::Publish(publish) => publish.detach(id),
            Routing::Req(req) => req.detach(id, why),
            _ => {
                if let Some(lb) = self.balancer() {
                    lb.detach(id, why);
                }
            }
        }
    }

    /// Routes the message in `slot` by the socket type's rule, without waiting: it is
    /// taken when queued or dropped, and left in the slot when no peer can take it
    /// now. (A slot, not a value passed down and back: a message is 72 bytes, and
    /// each move costs on the per-message path.)
    #[inline]
    pub(crate) fn send(
        &mut self,
        peers: &mut Peers,
        slot: &mut Option<Message>,
    ) -> Result<Routed, Error> {
        match self {
            Routing::LoadBalance(lb) => Ok(lb.send(peers, slot)),
            Routing::Pair(pair) => Ok(pair.balancer().send(peers, slot)),
            Routing::Req(req) => req.send(peers, slot),
            Routing::Rep(rep) => rep.send(peers, slot),
            Routing::Router(router) => router.send(peers, slot),
            Routing::Publish(publish) => Ok(publish.send(peers, slot)),
            Routing::Subscribe(sub) => sub.send(peers, slot),
            Routing::FairQueue => Err(unsupported(SocketType::Pull, "send")),
        }
    }

    /// Receives by the socket type's rule, without waiting, into `slot` (empty when
    /// called; still empty when nothing was ready).
    #[inline]
    pub(crate) fn recv(
        &mut self,
        peers: &mut Peers,
        slot: &mut Option<Message>,
    ) -> Result<(), Error> {
        if let Some(early) = self.before_recv()? {
            *slot = Some(early);
            return Ok(());
        }
        while let Some(Inbound { from, drained }) = peers.next_inbound(slot) {
            self.accept(from, slot);
            if drained {
                self.detach(from, Departure::Removed);
                peers.remove(from);
            }
            if slot.is_some() {
                break;
            }
        }
        Ok(())
    }

    /// Whether the state lets the socket receive now; a message it holds itself
    /// (XPUB's subscription reports) comes first.
    #[inline]
    fn before_recv(&mut self) -> Result<Option<Message>, Error> {
        match self {
            Routing::LoadBalance(lb) if !lb.receives() => {
                Err(unsupported(SocketType::Push, "receive"))
            }
            Routing::Req(req) => req.check_recv().map(|()| None),
            Routing::Rep(rep) => rep.check_recv().map(|()| None),
            Routing::Publish(publish) => publish.take_report(),
            _ => Ok(None),
        }
    }

    /// Whether receiving now is the socket's turn (REQ after a request, REP between
    /// requests; always, for types without turns), for a handle's I/O thread, which
    /// receives ahead only when it may.
    pub(crate) fn recv_allowed(&self) -> bool {
        match self {
            Routing::Req(req) => req.check_recv().is_ok(),
            Routing::Rep(rep) => rep.check_recv().is_ok(),
            _ => true,
        }
    }

    /// What the application receives of a message taken from a peer, if anything.
    #[inline]
    fn accept(&mut self, from: PeerId, slot: &mut Option<Message>) {
        match self {
            Routing::Req(req) => *slot = slot.take().and_then(|m| req.accept(from, m)),
            Routing::Rep(rep) => *slot = slot.take().and_then(|m| rep.accept(from, m)),
            Routing::Router(router) => *slot = slot.take().and_then(|m| router.accept(from, m)),
            Routing::Publish(publish) => {
                if let Some(message) = slot {
                    publish.accept(from, message);
                }
            }
            // The others take every message as it is: it stays in the slot.
            _ => {}
        }
    }

    /// Whether a message arriving from a peer is queued at all (a SUB filters on
    /// receive too: a ZMTP 3.0 or XPUB publisher may send more than was asked for).
    #[inline]
    pub(crate) fn filters(&self) -> Option<&Subscribe> {
        match self {
            Routing::Subscribe(sub) if sub.filters() => Some(sub),
            _ => None,
        }
    }

    /// The subscribing state (SUB, XSUB).
    pub(crate) fn subscriber(&mut self) -> Option<&mut Subscribe> {
        match self {
            Routing::Subscribe(sub) => Some(sub),
            _ => None,
        }
    }

    /// The publishing state (PUB, XPUB).
    #[inline]
    pub(crate) fn publisher(&mut self) -> Option<&mut Publish> {
        match self {
            Routing::Publish(publish) => Some(publish),
            _ => None,
        }
    }
}
