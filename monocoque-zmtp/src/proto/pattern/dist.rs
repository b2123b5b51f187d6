//! Fan-out for PUB and XPUB (RFC 29).
//!
//! RFC 29: a publisher "SHALL NOT send a message to a subscriber that has not
//! subscribed to a matching topic" and delivers each message to every subscriber that
//! has. An XPUB also passes subscriptions upstream; like libzmq without XPUB_VERBOSE, it
//! reports a topic only when the first peer subscribes to it and a cancellation only
//! when the last peer holding it lets go. [`Distributor`] keeps each peer's
//! [`Subscriptions`] as a set (a peer's repeated subscribe changes nothing, as in
//! libzmq) and, for that reporting, how many peers hold each topic.

use bytes::Bytes;

use super::{PeerId, Subscriptions};

/// The subscribers of a PUB or XPUB socket and what each subscribed to.
///
/// ```
/// use monocoque_zmtp::proto::pattern::{Distributor, PeerId};
///
/// let mut dist = Distributor::new();
/// dist.attach(PeerId::new(1));
/// dist.attach(PeerId::new(2));
/// assert!(dist.subscribe(PeerId::new(1), b"a"));  // first holder: XPUB reports it
/// assert!(!dist.subscribe(PeerId::new(2), b"a")); // already known upstream
/// let mut out = Vec::new();
/// dist.matching_peers(b"abc", &mut out);
/// assert_eq!(out, [PeerId::new(1), PeerId::new(2)]);
/// ```
///
/// Matching walks each peer's trie in turn: its cost is the number of peers times the
/// length of the matching path, independent of how many topics each peer holds.
#[derive(Debug, Default, Clone)]
pub struct Distributor {
    peers: ByPeer,
    /// Each topic's count summed over all peers.
    totals: Subscriptions,
}

/// Each peer's subscriptions, sorted by [`PeerId`]: a published message walks them
/// all, and a slice is the cheapest thing to walk. (Boxed, so that a peer arriving or
/// leaving moves 16 bytes per other peer, not a whole trie header.)
#[derive(Debug, Default, Clone)]
struct ByPeer(Vec<(PeerId, Box<Subscriptions>)>);

impl ByPeer {
    fn index(&self, peer: PeerId) -> Result<usize, usize> {
        self.0.binary_search_by_key(&peer, |(p, _)| *p)
    }

    fn get(&self, peer: PeerId) -> Option<&Subscriptions> {
        let i = self.index(peer).ok()?;
        Some(&self.0[i].1)
    }

    fn get_mut(&mut self, peer: PeerId) -> Option<&mut Subscriptions> {
        let i = self.index(peer).ok()?;
        Some(&mut self.0[i].1)
    }

    /// Adds `peer` with no subscriptions; false if it is there already.
    fn insert(&mut self, peer: PeerId) -> bool {
        match self.index(peer) {
            Ok(_) => false,
            Err(i) => {
                self.0.insert(i, (peer, Box::default()));
                true
            }
        }
    }

    fn remove(&mut self, peer: PeerId) -> Option<Subscriptions> {
        let i = self.index(peer).ok()?;
        Some(*self.0.remove(i).1)
    }
}

impl Distributor {
    /// No subscribers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a peer with no subscriptions (it receives nothing until it subscribes).
    /// Returns false, changing nothing, if the peer was already attached.
    pub fn attach(&mut self, peer: PeerId) -> bool {
        self.peers.insert(peer)
    }

    /// Removes a peer and releases its subscriptions. Returns the topics no remaining
    /// peer holds any more (those an XPUB reports as cancelled), in no particular order.
    pub fn detach(&mut self, peer: PeerId) -> Vec<Bytes> {
        let Some(subs) = self.peers.remove(peer) else {
            return Vec::new();
        };
        let mut gone = Vec::new();
        for (topic, count) in subs.topics_with_counts() {
            if self.totals.remove(&topic, count) {
                gone.push(Bytes::from(topic));
            }
        }
        gone
    }

    /// Records `peer`'s subscription to `topic`. Returns true when no peer held that
    /// exact topic before (an XPUB reports it upstream). Each peer's subscriptions are
    /// a set, as libzmq keeps them: subscribing again to a topic the peer holds changes
    /// nothing, so one cancellation removes it. A subscription from a peer that is not
    /// attached is ignored and returns false.
    pub fn subscribe(&mut self, peer: PeerId, topic: &[u8]) -> bool {
        let Some(subs) = self.peers.get_mut(peer) else {
            return false;
        };
        if subs.count(topic) > 0 {
            return false;
        }
        subs.subscribe(topic);
        self.totals.subscribe(topic)
    }

    /// Cancels `peer`'s subscription to `topic`. Returns true when no peer holds
    /// that exact topic any more (an XPUB reports the cancellation upstream). Cancelling
    /// a topic the peer does not hold, or from a peer not attached, changes nothing and
    /// returns false.
    pub fn cancel(&mut self, peer: PeerId, topic: &[u8]) -> bool {
        let Some(subs) = self.peers.get_mut(peer) else {
            return false;
        };
        if subs.count(topic) == 0 {
            return false;
        }
        subs.cancel(topic);
        self.totals.cancel(topic)
    }

    /// Appends to `out`, in [`PeerId`] order, every peer with no subscription matching
    /// `first_frame` (`ZMQ_INVERT_MATCHING`).
    pub fn unmatching_peers(&self, first_frame: &[u8], out: &mut Vec<PeerId>) {
        out.extend(
            self.peers
                .0
                .iter()
                .filter(|(_, subs)| !subs.matches(first_frame))
                .map(|(peer, _)| *peer),
        );
    }

    /// Appends to `out`, in [`PeerId`] order, every peer with a subscription matching a
    /// message whose first frame is `first_frame`. Allocates nothing when `out` has
    /// room for them.
    #[inline]
    pub fn matching_peers(&self, first_frame: &[u8], out: &mut Vec<PeerId>) {
        out.extend(
            self.peers
                .0
                .iter()
                .filter(|(_, subs)| subs.matches(first_frame))
                .map(|(peer, _)| *peer),
        );
    }

    /// The subscriptions of `peer`.
    pub fn subscriptions(&self, peer: PeerId) -> Option<&Subscriptions> {
        self.peers.get(peer)
    }

    /// How many peers (summed with their counts) hold exactly `topic`.
    pub fn total_count(&self, topic: &[u8]) -> u64 {
        self.totals.count(topic)
    }

    /// Each topic some peer holds, once: what an XPUB sends upstream again after its
    /// own upstream reconnects.
    pub fn topics(&self) -> impl Iterator<Item = Vec<u8>> + '_ {
        self.totals.topics()
    }

    /// Number of attached peers.
    pub fn len(&self) -> usize {
        self.peers.0.len()
    }

    /// Whether no peer is attached.
    pub fn is_empty(&self) -> bool {
        self.peers.0.is_empty()
    }

    /// Whether `peer` is attached.
    pub fn contains(&self, peer: PeerId) -> bool {
        self.peers.index(peer).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matching(dist: &Distributor, data: &[u8]) -> Vec<u64> {
        let mut out = Vec::new();
        dist.matching_peers(data, &mut out);
        out.into_iter().map(|p| p.0).collect()
    }

    fn three_peers() -> Distributor {
        let mut dist = Distributor::new();
        for id in 1..=3 {
            assert!(dist.attach(PeerId(id)));
        }
        dist
    }

    #[test]
    fn attach_and_contains() {
        let mut dist = three_peers();
        assert!(!dist.attach(PeerId(1)));
        assert_eq!(dist.len(), 3);
        assert!(dist.contains(PeerId(2)));
        assert!(!dist.contains(PeerId(4)));
        assert!(dist.detach(PeerId(4)).is_empty());
        assert!(!Distributor::new().contains(PeerId(1)));
        assert!(Distributor::new().is_empty());
    }

    #[test]
    fn reports_first_subscription_across_peers() {
        let mut dist = three_peers();
        assert!(dist.subscribe(PeerId(1), b"a"));
        assert!(!dist.subscribe(PeerId(2), b"a"));
        // A peer's repeat changes nothing: its subscriptions are a set, as libzmq's.
        assert!(!dist.subscribe(PeerId(1), b"a"));
        assert!(dist.subscribe(PeerId(3), b"ab"));
        assert_eq!(dist.total_count(b"a"), 2);
        assert_eq!(dist.total_count(b"ab"), 1);
        assert_eq!(
            dist.subscriptions(PeerId(1)).map(|s| s.count(b"a")),
            Some(1)
        );
        // Unknown peer: ignored.
        assert!(!dist.subscribe(PeerId(9), b"z"));
        assert_eq!(dist.total_count(b"z"), 0);
    }

    #[test]
    fn reports_cancel_when_last_holder_lets_go() {
        let mut dist = three_peers();
        dist.subscribe(PeerId(1), b"a");
        dist.subscribe(PeerId(1), b"a");
        dist.subscribe(PeerId(2), b"a");
        assert!(!dist.cancel(PeerId(3), b"a")); // peer 3 never held it
        assert_eq!(dist.total_count(b"a"), 2);
        // One cancel undoes peer 1's two subscribes.
        assert!(!dist.cancel(PeerId(1), b"a"));
        assert!(!dist.cancel(PeerId(1), b"a")); // peer 1 holds none any more
        assert_eq!(dist.total_count(b"a"), 1);
        assert!(dist.cancel(PeerId(2), b"a"));
        assert_eq!(dist.total_count(b"a"), 0);
        assert!(!dist.cancel(PeerId(9), b"a"));
    }

    #[test]
    fn matches_by_prefix_per_peer() {
        let mut dist = three_peers();
        assert!(matching(&dist, b"x").is_empty());
        dist.subscribe(PeerId(3), b"");
        dist.subscribe(PeerId(1), b"news.");
        dist.subscribe(PeerId(2), b"news.sport");
        assert_eq!(matching(&dist, b"news.sport.foot"), [1, 2, 3]);
        assert_eq!(matching(&dist, b"news.weather"), [1, 3]);
        assert_eq!(matching(&dist, b""), [3]);
        dist.cancel(PeerId(3), b"");
        assert_eq!(matching(&dist, b"weather"), Vec::<u64>::new());
    }

    #[test]
    fn matching_reuses_capacity() {
        let mut dist = three_peers();
        dist.subscribe(PeerId(1), b"t");
        dist.subscribe(PeerId(2), b"t");
        let mut out = Vec::with_capacity(3);
        let ptr = out.as_ptr();
        dist.matching_peers(b"topic", &mut out);
        assert_eq!(out, [PeerId(1), PeerId(2)]);
        assert_eq!(out.as_ptr(), ptr);
        out.clear();
        dist.matching_peers(b"topic", &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out.as_ptr(), ptr);
    }

    #[test]
    fn detach_releases_subscriptions() {
        let mut dist = three_peers();
        dist.subscribe(PeerId(1), b"a");
        dist.subscribe(PeerId(1), b"a");
        dist.subscribe(PeerId(1), b"b");
        dist.subscribe(PeerId(1), b"c");
        dist.subscribe(PeerId(2), b"b");
        dist.subscribe(PeerId(2), b"d");
        let mut gone = dist.detach(PeerId(1));
        gone.sort();
        assert_eq!(gone, [Bytes::from_static(b"a"), Bytes::from_static(b"c")]);
        assert_eq!(dist.total_count(b"a"), 0);
        assert_eq!(dist.total_count(b"b"), 1);
        assert!(!dist.contains(PeerId(1)));
        assert_eq!(matching(&dist, b"a"), Vec::<u64>::new());
        let mut topics: Vec<_> = dist.topics().collect();
        topics.sort();
        assert_eq!(topics, [b"b".to_vec(), b"d".to_vec()]);
        // Reattached, the peer starts with nothing.
        assert!(dist.attach(PeerId(1)));
        assert!(dist.subscribe(PeerId(1), b"a"));
        let mut gone = dist.detach(PeerId(2));
        gone.sort();
        assert_eq!(gone, [Bytes::from_static(b"b"), Bytes::from_static(b"d")]);
        assert_eq!(dist.detach(PeerId(1)), [Bytes::from_static(b"a")]);
        assert_eq!(dist.topics().count(), 0);
    }
}
