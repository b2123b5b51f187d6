//! PUB and XPUB (RFC 29): every message goes to each subscriber whose subscriptions
//! match it; XPUB also hands subscription changes to the application.

use std::collections::VecDeque;

use super::Routed;
use crate::engine::out_queue::{Fanout, Outgoing};
use crate::engine::peers::Peers;
use crate::error::Error;
use crate::proto::message::Message;
use crate::proto::pattern::{Distributor, PeerId};
use crate::proto::socket_type::SocketType;

#[derive(Debug)]
pub(crate) struct Publish {
    dist: Distributor,
    /// XPUB: cancellations of topics whose last holder left, waiting for `recv`.
    /// (A connected peer's own reports wait in its inbound queue, in arrival order
    /// with what else it sent, as libzmq keeps them.) `None` for PUB.
    reports: Option<VecDeque<Message>>,
    /// Reused for each message's matching subscribers.
    matching: Vec<PeerId>,
    /// `XPUB_VERBOSE`: report every subscribe, not only a topic's first.
    verbose_subs: bool,
    /// `XPUB_VERBOSER`: also report every cancel, not only a topic's last.
    verbose_cancels: bool,
    /// `INVERT_MATCHING`: send to the subscribers that do not match.
    invert: bool,
    /// `XPUB_NODROP`: wait for room at a subscriber's high-water mark, not drop.
    nodrop: bool,
    /// `XPUB_MANUAL`: the application decides which subscriptions apply.
    manual: Option<Manual>,
}

/// `XPUB_MANUAL`'s state: peers' subscription messages only go up to the application,
/// which applies what it wants with `subscribe` to the peer it last heard from.
#[derive(Debug, Default)]
struct Manual {
    /// What each peer asked for: reported as cancelled when it leaves.
    requested: Distributor,
    /// The peer whose subscription message `recv` returned last (none after a
    /// departure's cancellations, as libzmq).
    last: Option<PeerId>,
}

/// What a PUB or XPUB does beyond RFC 29's defaults (libzmq's option names).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PublishOptions {
    pub(crate) xpub: bool,
    pub(crate) verbose: bool,
    pub(crate) verboser: bool,
    pub(crate) invert: bool,
    pub(crate) nodrop: bool,
    pub(crate) manual: bool,
}

/// A subscription change as XPUB reports it: 1 (subscribe) or 0 (cancel), the topic.
fn report(on: bool, topic: &[u8]) -> Message {
    let mut body = Vec::with_capacity(topic.len() + 1);
    body.push(u8::from(on));
    body.extend_from_slice(topic);
    Message::from(body)
}

impl Publish {
    pub(crate) fn new(options: PublishOptions) -> Publish {
        Publish {
            dist: Distributor::new(),
            reports: options.xpub.then(VecDeque::new),
            matching: Vec::new(),
            verbose_subs: options.xpub && (options.verbose || options.verboser),
            verbose_cancels: options.xpub && options.verboser,
            invert: options.invert,
            nodrop: options.xpub && options.nodrop,
            manual: (options.xpub && options.manual).then(Manual::default),
        }
    }

    pub(crate) fn attach(&mut self, id: PeerId) {
        self.dist.attach(id);
        if let Some(manual) = &mut self.manual {
            manual.requested.attach(id);
        }
    }

    /// XPUB reports the topics nobody wants any more; with `XPUB_MANUAL`, every topic
    /// the peer had asked for.
    pub(crate) fn detach(&mut self, id: PeerId) {
        let gone = self.dist.detach(id);
        let gone = match &mut self.manual {
            Some(manual) => manual.forget(id),
            None => gone,
        };
        if let Some(reports) = &mut self.reports {
            reports.extend(gone.iter().map(|topic| report(false, topic)));
        }
    }

    /// `subscribe`/`unsubscribe` on an XPUB with `XPUB_MANUAL`: applies `topic` to the
    /// peer whose subscription message was received last. Returns false when the
    /// socket is not a manual XPUB.
    pub(crate) fn manual_change(&mut self, topic: &[u8], on: bool) -> bool {
        let Some(manual) = &self.manual else {
            return false;
        };
        if let Some(id) = manual.last {
            match on {
                true => self.dist.subscribe(id, topic),
                false => self.dist.cancel(id, topic),
            };
        }
        true
    }

    /// `recv` hands the application a message from `id`: with `XPUB_MANUAL`, a
    /// subscription message makes `id` the peer that `subscribe` applies to.
    #[inline]
    pub(crate) fn accept(&mut self, id: PeerId, message: &Message) {
        if let Some(manual) = &mut self.manual
            && message.len() == 1
            && matches!(message[0].first(), Some(0 | 1))
        {
            manual.last = Some(id);
        }
    }

    /// `id` subscribed to (or cancelled) `topic`. Returns the report for the
    /// application, if there is one: XPUB reports a topic's first subscriber and its
    /// last cancel, and with `XPUB_VERBOSE` every subscribe, with `XPUB_VERBOSER`
    /// every cancel too (as libzmq, a cancel of a topic the peer held).
    pub(crate) fn peer_subscribed(
        &mut self,
        id: PeerId,
        topic: &[u8],
        on: bool,
    ) -> Option<Message> {
        if let Some(manual) = &mut self.manual {
            match on {
                true => manual.requested.subscribe(id, topic),
                false => manual.requested.cancel(id, topic),
            };
            return Some(report(on, topic));
        }
        let notify = if on {
            self.dist.subscribe(id, topic) || self.verbose_subs
        } else {
            // Whether the peer held it is looked up only when VERBOSER needs it.
            let held = self.verbose_cancels
                && self
                    .dist
                    .subscriptions(id)
                    .is_some_and(|s| s.count(topic) > 0);
            self.dist.cancel(id, topic) || held
        };
        (notify && self.reports.is_some()).then(|| report(on, topic))
    }

    pub(crate) fn take_report(&mut self) -> Result<Option<Message>, Error> {
        match &mut self.reports {
            Some(reports) => {
                let report = reports.pop_front();
                if let (Some(manual), Some(_)) = (&mut self.manual, &report) {
                    manual.last = None;
                }
                Ok(report)
            }
            None => Err(Error::NotSupported {
                socket_type: SocketType::Pub,
                operation: "receive",
            }),
        }
    }

    #[inline]
    pub(crate) fn send(&mut self, peers: &mut Peers, slot: &mut Option<Message>) -> Routed {
        let Some(message) = slot.take() else {
            return Routed::FannedOut {
                queued: 0,
                dropped: 0,
            };
        };
        let mut matching = std::mem::take(&mut self.matching);
        matching.clear();
        // Borrowed, not cloned: cloning a `Bytes` made from a `Vec` allocates.
        let topic = message.first().map_or(&[][..], |f| &f[..]);
        if self.invert {
            self.dist.unmatching_peers(topic, &mut matching);
        } else {
            self.dist.matching_peers(topic, &mut matching);
        }
        if self.nodrop && matching.iter().any(|&id| peers.with_room(id).is_none()) {
            self.matching = matching;
            *slot = Some(message);
            return Routed::WouldBlock;
        }
        let dropped = match matching[..] {
            [] => 0,
            [id] => match peers.with_room(id) {
                Some(peer) => {
                    peer.enqueue(Outgoing::Single(message));
                    0
                }
                None => 1,
            },
            // Several subscribers share one message and one encoding.
            _ => fan_out(peers, &matching, &Fanout::new(message)),
        };
        let queued = matching.len() - dropped as usize;
        self.matching = matching;
        Routed::FannedOut { queued, dropped }
    }
}

impl Manual {
    /// Forgets a departing peer; returns every topic it had asked for.
    fn forget(&mut self, id: PeerId) -> Vec<bytes::Bytes> {
        let topics = self
            .requested
            .subscriptions(id)
            .map(|s| s.topics().map(bytes::Bytes::from).collect())
            .unwrap_or_default();
        self.requested.detach(id);
        if self.last == Some(id) {
            self.last = None;
        }
        topics
    }
}

/// Queues `fanout` for each of `ids` with room; returns how many had none.
fn fan_out(peers: &mut Peers, ids: &[PeerId], fanout: &std::rc::Rc<Fanout>) -> u64 {
    let mut dropped = 0;
    for &id in ids {
        match peers.with_room(id) {
            Some(peer) => peer.enqueue(Outgoing::Fanout(fanout.clone())),
            None => dropped += 1,
        }
    }
    dropped
}
