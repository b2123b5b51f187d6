//! `pattern_ops`: the routing patterns of `proto::pattern` driven by a sequence of
//! operations decoded from the input, each answer compared with a naive reference
//! model written from the documented behaviour.
//!
//! Operations are decoded by hand from the bytes (no `arbitrary` dependency, so the
//! entry point builds and replays under a plain `cargo test`): one byte picks the
//! operation, the next bytes its arguments; a missing byte reads as zero.

use std::collections::{BTreeMap, HashMap, HashSet};

use bytes::Bytes;

use crate::proto::error::{ProtocolError, StateError};
use crate::proto::message::Message;
use crate::proto::pattern::{
    Distributor, PeerId, RepState, ReqState, RoundRobin, RoutingTable, Subscriptions,
};

/// The operation stream.
struct Ops<'a>(&'a [u8]);

impl Ops<'_> {
    fn op(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(first)
    }

    fn byte(&mut self) -> u8 {
        self.op().unwrap_or(0)
    }

    /// One of eight peers, so that operations collide.
    fn peer(&mut self) -> PeerId {
        PeerId(u64::from(self.byte() % 8))
    }

    /// A topic of 0 to 7 bytes, usually over a four-letter alphabet so that prefixes
    /// are shared, sometimes raw.
    fn topic(&mut self) -> Vec<u8> {
        let head = self.byte();
        let len = usize::from(head & 7);
        let raw = head & 8 != 0;
        (0..len)
            .map(|_| {
                let b = self.byte();
                if raw { b } else { b'a' + (b & 3) }
            })
            .collect()
    }

    /// A message of 0 to 4 frames of 0 to 2 bytes (empty frames are delimiters).
    fn frames(&mut self) -> Vec<Bytes> {
        let count = self.byte() % 5;
        (0..count)
            .map(|_| {
                let len = self.byte() % 3;
                let body: Vec<u8> = (0..len).map(|_| self.byte()).collect();
                Bytes::from(body)
            })
            .collect()
    }
}

/// Interprets `data` as operations on [`Subscriptions`], [`RoundRobin`],
/// [`Distributor`], [`ReqState`], [`RepState`] and [`RoutingTable`], asserting after
/// each one that the structure answers as its reference model does. At the end every
/// subscription is cancelled and the trie must be back to its single root node.
pub fn pattern_ops(data: &[u8]) {
    let mut ops = Ops(data);
    let mut subs = SubsCheck::default();
    let mut rr = RoundRobinCheck::default();
    let mut dist = DistCheck::default();
    let mut req = ReqCheck::default();
    let mut rep = RepCheck::default();
    let mut routing = RoutingCheck::new(1);
    while let Some(op) = ops.op() {
        match op % 24 {
            0 => subs.subscribe(ops.topic()),
            1 => subs.cancel(ops.topic()),
            2 => subs.matches(&ops.topic()),
            3 => subs.check(),
            4 => rr.attach(ops.peer()),
            5 => rr.detach(ops.peer()),
            6 | 7 => rr.next(ops.byte()),
            8 => rr.full_turn(),
            9 => dist.attach(ops.peer()),
            10 => dist.detach(ops.peer()),
            11 => dist.subscribe(ops.peer(), ops.topic()),
            12 => dist.cancel(ops.peer(), ops.topic()),
            13 => dist.matching(&ops.topic()),
            14 => req.start(ops.peer(), ops.frames()),
            15 => req.accept(ops.peer(), ops.frames()),
            16 => req.detach(ops.peer()),
            17 => rep.accept(ops.peer(), ops.frames()),
            18 => rep.reply(ops.frames()),
            19 => rep.detached(ops.peer()),
            20 => exchange(ops.peer(), ops.frames(), ops.frames()),
            21 => {
                let announced = match ops.byte() % 4 {
                    0 => None,
                    1 => Some(Bytes::new()),
                    2 => Some(Bytes::from(vec![b'x'; 256])),
                    _ => Some(Bytes::from(ops.topic())),
                };
                routing.attach(ops.peer(), announced);
            }
            22 => routing.detach(ops.peer()),
            _ => {
                let seed = u32::from_be_bytes([ops.byte(), ops.byte(), ops.byte(), ops.byte()]);
                routing = RoutingCheck::new(seed);
            }
        }
    }
    subs.finish();
    dist.check();
    rr.check();
    routing.check();
}

/// Whether a subscription set given as (topic, count) pairs matches `data`.
fn model_matches<'a>(mut topics: impl Iterator<Item = &'a Vec<u8>>, data: &[u8]) -> bool {
    topics.any(|topic| data.starts_with(topic))
}

#[derive(Default)]
struct SubsCheck {
    real: Subscriptions,
    /// Topic to count; never holds a zero count.
    model: HashMap<Vec<u8>, u64>,
}

impl SubsCheck {
    fn subscribe(&mut self, topic: Vec<u8>) {
        let got = self.real.subscribe(&topic);
        let count = self.model.entry(topic).or_insert(0);
        *count += 1;
        assert_eq!(got, *count == 1, "subscribe: first time?");
    }

    fn cancel(&mut self, topic: Vec<u8>) {
        let got = self.real.cancel(&topic);
        let expected = match self.model.get_mut(&topic) {
            Some(count) if *count > 1 => {
                *count -= 1;
                false
            }
            Some(_) => {
                self.model.remove(&topic);
                true
            }
            None => false,
        };
        assert_eq!(got, expected, "cancel {topic:?}: last one?");
        assert_eq!(
            self.real.count(&topic),
            self.model.get(&topic).map_or(0, |c| *c)
        );
    }

    fn matches(&self, data: &[u8]) {
        let expected = model_matches(self.model.keys(), data);
        assert_eq!(self.real.matches(data), expected, "matches {data:?}");
    }

    fn check(&self) {
        assert_eq!(self.real.len(), self.model.len());
        assert_eq!(self.real.is_empty(), self.model.is_empty());
        let mut topics: Vec<(Vec<u8>, u64)> = self.real.topics_with_counts().collect();
        topics.sort();
        let mut expected: Vec<(Vec<u8>, u64)> =
            self.model.iter().map(|(t, c)| (t.clone(), *c)).collect();
        expected.sort();
        assert_eq!(topics, expected, "topics and counts");
        for (topic, count) in &self.model {
            assert_eq!(self.real.count(topic), *count);
        }
    }

    /// Cancels everything: the trie must shrink back to its root.
    fn finish(mut self) {
        self.check();
        let clone = self.real.clone();
        let held: Vec<(Vec<u8>, u64)> = self.model.drain().collect();
        for (topic, count) in held {
            for left in (0..count).rev() {
                assert_eq!(self.real.cancel(&topic), left == 0);
            }
        }
        assert!(self.real.is_empty());
        assert_eq!(self.real.node_count(), 1, "trie did not shrink to its root");
        assert_eq!(self.real.topics().count(), 0);
        // The clone kept its own state.
        assert_eq!(clone.len(), clone.topics().count());
    }
}

/// [`RoundRobin`] against a list in attach order and the peer to ask next.
#[derive(Default)]
struct RoundRobinCheck {
    real: RoundRobin,
    order: Vec<PeerId>,
    next: Option<PeerId>,
}

impl RoundRobinCheck {
    fn attach(&mut self, peer: PeerId) {
        let expected = !self.order.contains(&peer);
        if expected {
            self.order.push(peer);
            self.next.get_or_insert(peer);
        }
        assert_eq!(self.real.attach(peer), expected, "attach {peer}");
        self.check();
    }

    fn detach(&mut self, peer: PeerId) {
        let pos = self.order.iter().position(|&p| p == peer);
        if let Some(pos) = pos {
            // The documented rule: if it was to be asked next, the one after it is.
            if self.next == Some(peer) {
                let n = self.order.len();
                self.next = (n > 1).then(|| self.order[(pos + 1) % n]);
            }
            self.order.remove(pos);
        }
        assert_eq!(self.real.detach(peer), pos.is_some(), "detach {peer}");
        self.check();
    }

    /// `mask` bit `peer % 8` says whether a peer is eligible.
    fn next(&mut self, mask: u8) {
        let eligible = |p: PeerId| mask & (1 << (p.0 % 8)) != 0;
        let mut asked = HashSet::new();
        let got = self.real.next(|p| {
            assert!(asked.insert(p), "eligible asked twice about {p}");
            eligible(p)
        });
        let n = self.order.len();
        let start = self
            .next
            .and_then(|next| self.order.iter().position(|&p| p == next));
        let expected = start.and_then(|start| {
            (0..n)
                .map(|step| (start + step) % n)
                .find(|&i| eligible(self.order[i]))
        });
        if let Some(i) = expected {
            self.next = Some(self.order[(i + 1) % n]);
        }
        assert_eq!(
            got,
            expected.map(|i| self.order[i]),
            "next with mask {mask:#x}"
        );
    }

    /// With every peer eligible, one turn visits each peer once.
    fn full_turn(&mut self) {
        let mut seen = HashSet::new();
        for _ in 0..self.order.len() {
            self.next(0xFF);
        }
        // Replay the turn on a clone to collect who was picked, without the model.
        let mut clone = self.real.clone();
        for _ in 0..self.order.len() {
            if let Some(peer) = clone.next(|_| true) {
                assert!(seen.insert(peer), "{peer} picked twice in one turn");
            }
        }
        assert_eq!(seen.len(), self.order.len());
    }

    fn check(&self) {
        assert_eq!(self.real.iter().collect::<Vec<_>>(), self.order);
        assert_eq!(self.real.len(), self.order.len());
        assert_eq!(self.real.is_empty(), self.order.is_empty());
        for id in 0..8 {
            let peer = PeerId(id);
            assert_eq!(self.real.contains(peer), self.order.contains(&peer));
        }
    }
}

/// [`Distributor`] against per-peer topic counts.
#[derive(Default)]
struct DistCheck {
    real: Distributor,
    model: BTreeMap<PeerId, HashMap<Vec<u8>, u64>>,
}

impl DistCheck {
    fn total(&self, topic: &[u8]) -> u64 {
        self.model.values().filter_map(|subs| subs.get(topic)).sum()
    }

    fn attach(&mut self, peer: PeerId) {
        let expected = !self.model.contains_key(&peer);
        self.model.entry(peer).or_default();
        assert_eq!(self.real.attach(peer), expected, "attach {peer}");
    }

    fn detach(&mut self, peer: PeerId) {
        let mut got: Vec<Vec<u8>> = self.real.detach(peer).iter().map(|b| b.to_vec()).collect();
        got.sort();
        let mut expected = Vec::new();
        if let Some(subs) = self.model.remove(&peer) {
            expected = subs
                .into_keys()
                .filter(|topic| self.total(topic) == 0)
                .collect();
        }
        expected.sort();
        assert_eq!(got, expected, "topics released by detaching {peer}");
        self.check();
    }

    fn subscribe(&mut self, peer: PeerId, topic: Vec<u8>) {
        let got = self.real.subscribe(peer, &topic);
        let first = self.total(&topic) == 0;
        // Each peer's subscriptions are a set: a repeat changes nothing.
        let expected = match self.model.get_mut(&peer) {
            Some(subs) => subs.insert(topic.clone(), 1).is_none() && first,
            None => false,
        };
        assert_eq!(got, expected, "subscribe {peer} {topic:?}");
        assert_eq!(self.real.total_count(&topic), self.total(&topic));
    }

    fn cancel(&mut self, peer: PeerId, topic: Vec<u8>) {
        let got = self.real.cancel(peer, &topic);
        let mut cancelled = false;
        if let Some(count) = self.model.get_mut(&peer).and_then(|s| s.get_mut(&topic)) {
            *count -= 1;
            cancelled = true;
            if *count == 0
                && let Some(subs) = self.model.get_mut(&peer)
            {
                subs.remove(&topic);
            }
        }
        let expected = cancelled && self.total(&topic) == 0;
        assert_eq!(got, expected, "cancel {peer} {topic:?}");
        assert_eq!(self.real.total_count(&topic), self.total(&topic));
    }

    fn matching(&self, data: &[u8]) {
        let sentinel = PeerId(u64::MAX);
        let mut got = vec![sentinel];
        self.real.matching_peers(data, &mut got);
        let mut expected = vec![sentinel];
        expected.extend(
            self.model
                .iter()
                .filter(|(_, subs)| model_matches(subs.keys(), data))
                .map(|(&peer, _)| peer),
        );
        assert_eq!(got, expected, "peers matching {data:?}");
    }

    fn check(&self) {
        assert_eq!(self.real.len(), self.model.len());
        assert_eq!(self.real.is_empty(), self.model.is_empty());
        let mut topics: Vec<Vec<u8>> = self.real.topics().collect();
        topics.sort();
        let mut expected: Vec<Vec<u8>> = self
            .model
            .values()
            .flat_map(|subs| subs.keys().cloned())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        expected.sort();
        assert_eq!(topics, expected, "distributor topics");
        for topic in &expected {
            assert_eq!(self.real.total_count(topic), self.total(topic));
        }
        for id in 0..8 {
            let peer = PeerId(id);
            assert_eq!(self.real.contains(peer), self.model.contains_key(&peer));
            if let (Some(real), Some(model)) =
                (self.real.subscriptions(peer), self.model.get(&peer))
            {
                assert_eq!(real.len(), model.len());
                for (topic, count) in model {
                    assert_eq!(real.count(topic), *count);
                }
            }
        }
    }
}

/// [`ReqState`] against "which peer was asked".
#[derive(Default)]
struct ReqCheck {
    real: ReqState,
    asked: Option<PeerId>,
}

impl ReqCheck {
    fn start(&mut self, peer: PeerId, frames: Vec<Bytes>) {
        let got = self.real.start_request(peer, Message::from(frames.clone()));
        match (self.asked, frames.is_empty()) {
            (Some(_), _) => assert!(matches!(
                got,
                Err(ProtocolError::InvalidState(StateError::RequestPending))
            )),
            (None, true) => assert_eq!(got, Err(ProtocolError::EmptyMessage)),
            (None, false) => {
                let mut wire = vec![Bytes::new()];
                wire.extend(frames);
                assert_eq!(got, Ok(Message::from(wire)));
                self.asked = Some(peer);
            }
        }
        assert_eq!(self.real.asked(), self.asked);
        assert_eq!(self.real.can_send(), self.asked.is_none());
    }

    fn accept(&mut self, from: PeerId, frames: Vec<Bytes>) {
        let got = self.real.accept_reply(from, Message::from(frames.clone()));
        let delimited = frames.len() >= 2 && frames[0].is_empty();
        let expected = (self.asked == Some(from) && delimited).then(|| {
            self.asked = None;
            Message::from(frames[1..].to_vec())
        });
        assert_eq!(got, expected, "reply from {from}");
        assert_eq!(self.real.asked(), self.asked);
    }

    fn detach(&mut self, peer: PeerId) {
        // The request stays outstanding, as libzmq's strict REQ.
        let expected = self.asked == Some(peer);
        assert_eq!(self.real.peer_detached(peer), expected);
        assert_eq!(self.real.asked(), self.asked);
    }
}

/// [`RepState`] against "whom we serve and with which envelope".
#[derive(Default)]
struct RepCheck {
    real: RepState,
    serving: Option<(PeerId, Vec<Bytes>)>,
}

impl RepCheck {
    fn accept(&mut self, from: PeerId, frames: Vec<Bytes>) {
        let got = self
            .real
            .accept_request(from, Message::from(frames.clone()));
        let mut expected = None;
        if self.serving.is_none()
            && let Some(delimiter) = frames.iter().position(Bytes::is_empty)
            && delimiter + 1 < frames.len()
        {
            self.serving = Some((from, frames[..=delimiter].to_vec()));
            expected = Some(Message::from(frames[delimiter + 1..].to_vec()));
        }
        assert_eq!(got, expected, "request from {from}");
        self.check();
    }

    fn reply(&mut self, frames: Vec<Bytes>) {
        let got = self.real.reply(Message::from(frames.clone()));
        match (&self.serving, frames.is_empty()) {
            (None, _) => assert!(matches!(
                got,
                Err(ProtocolError::InvalidState(StateError::NothingToReply))
            )),
            (Some(_), true) => assert_eq!(got, Err(ProtocolError::EmptyMessage)),
            (Some(_), false) => {
                let Some((peer, mut wire)) = self.serving.take() else {
                    unreachable!("matched Some above")
                };
                wire.extend(frames);
                assert_eq!(got, Ok((peer, Message::from(wire))));
            }
        }
        self.check();
    }

    fn detached(&self, peer: PeerId) {
        let expected = self.serving.as_ref().is_some_and(|(p, _)| *p == peer);
        assert_eq!(self.real.peer_detached(peer), expected);
    }

    fn check(&self) {
        assert_eq!(self.real.serving(), self.serving.as_ref().map(|(p, _)| *p));
        assert_eq!(self.real.can_recv(), self.serving.is_none());
    }
}

/// A REQ request through a REP and back: whatever the frames (empty ones included),
/// the REP sees the request body and the REQ gets the reply body.
fn exchange(peer: PeerId, request: Vec<Bytes>, reply: Vec<Bytes>) {
    if request.is_empty() || reply.is_empty() {
        return;
    }
    let mut req = ReqState::new();
    let mut rep = RepState::new();
    let Ok(wire) = req.start_request(peer, Message::from(request.clone())) else {
        panic!("fresh REQ refused a request");
    };
    let body = rep.accept_request(PeerId(99), wire);
    assert_eq!(body, Some(Message::from(request)), "REP saw another body");
    let Ok((to, wire)) = rep.reply(Message::from(reply.clone())) else {
        panic!("REP refused to reply");
    };
    assert_eq!(to, PeerId(99));
    assert_eq!(
        req.accept_reply(peer, wire),
        Some(Message::from(reply)),
        "REQ got another reply"
    );
    assert!(req.can_send() && rep.can_recv());
}

/// [`RoutingTable`] against a map of peers to routing ids.
struct RoutingCheck {
    real: RoutingTable,
    model: HashMap<PeerId, Bytes>,
}

impl RoutingCheck {
    fn new(seed: u32) -> Self {
        RoutingCheck {
            real: RoutingTable::with_seed(seed),
            model: HashMap::new(),
        }
    }

    fn attach(&mut self, peer: PeerId, announced: Option<Bytes>) {
        let got = self.real.attach(peer, announced.clone());
        let announced = announced.filter(|id| !id.is_empty());
        if self.model.contains_key(&peer) {
            assert!(
                matches!(got, Err(ProtocolError::AlreadyAttached)),
                "{got:?}"
            );
        } else if let Some(id) = announced {
            let valid = id.len() <= 255 && id[0] != 0;
            let taken = self.model.values().any(|taken| *taken == id);
            if !valid {
                assert_eq!(got, Err(ProtocolError::InvalidIdentity));
            } else if taken {
                assert_eq!(got, Err(ProtocolError::RoutingIdInUse(id)));
            } else {
                assert_eq!(got.as_ref(), Ok(&id));
                self.model.insert(peer, id);
            }
        } else {
            let Ok(id) = got else {
                panic!("no id generated: {got:?}");
            };
            assert!(id.len() == 5 && id[0] == 0, "generated id {id:?}");
            assert!(!self.model.values().any(|taken| *taken == id), "id reused");
            self.model.insert(peer, id);
        }
        self.check();
    }

    fn detach(&mut self, peer: PeerId) {
        assert_eq!(self.real.detach(peer), self.model.remove(&peer));
        self.check();
    }

    fn check(&self) {
        assert_eq!(self.real.len(), self.model.len());
        assert_eq!(self.real.is_empty(), self.model.is_empty());
        for (peer, id) in &self.model {
            assert_eq!(self.real.routing_id(*peer), Some(id));
            assert_eq!(self.real.peer_for(id), Some(*peer));
        }
    }
}
