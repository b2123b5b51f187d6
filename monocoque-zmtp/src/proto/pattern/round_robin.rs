//! Round-robin over peers: load-balancing out and fair-queuing in.
//!
//! RFC 28 and 30 ask outgoing messages to be *load-balanced* (each message to the next
//! peer able to take it) and incoming messages to be *fair-queued* (read from each peer
//! with a message waiting in turn). Both are the same rotation over an ordered set of
//! peers; only the question asked of each peer differs, so [`RoundRobin::next`] takes
//! it as a closure.

use super::PeerId;

/// An ordered set of peers with a cursor that rotates over them.
///
/// ```
/// use monocoque_zmtp::proto::pattern::{PeerId, RoundRobin};
///
/// let mut rr = RoundRobin::new();
/// rr.attach(PeerId::new(1));
/// rr.attach(PeerId::new(2));
/// assert_eq!(rr.next(|_| true), Some(PeerId::new(1)));
/// assert_eq!(rr.next(|_| true), Some(PeerId::new(2)));
/// assert_eq!(rr.next(|_| true), Some(PeerId::new(1)));
/// // Peer 2 is full (load-balancing) or has nothing waiting (fair-queuing):
/// assert_eq!(rr.next(|p| p != PeerId::new(2)), Some(PeerId::new(1)));
/// ```
///
/// `attach`, `detach` and `contains` are linear in the number of peers; `next` is linear
/// in the number of ineligible peers it skips.
#[derive(Debug, Default, Clone)]
pub struct RoundRobin {
    peers: Vec<PeerId>,
    /// Index of the peer asked first by the next call to [`RoundRobin::next`]; always
    /// `< peers.len()` unless `peers` is empty, then 0.
    cursor: usize,
}

impl RoundRobin {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a peer at the end of the rotation. Attaching a peer already present does
    /// nothing. Returns whether the peer was added.
    pub fn attach(&mut self, peer: PeerId) -> bool {
        if self.contains(peer) {
            return false;
        }
        self.peers.push(peer);
        true
    }

    /// Removes a peer. If it was the one to be asked next, the peer after it becomes
    /// next, so removing a peer never makes the rotation skip or repeat another one.
    /// Returns whether the peer was present.
    pub fn detach(&mut self, peer: PeerId) -> bool {
        let Some(pos) = self.peers.iter().position(|&p| p == peer) else {
            return false;
        };
        self.peers.remove(pos);
        if pos < self.cursor {
            self.cursor -= 1;
        }
        if self.cursor >= self.peers.len() {
            self.cursor = 0;
        }
        true
    }

    /// Returns the first peer, starting at the cursor, for which `eligible` is true, and
    /// moves the cursor just past it so that successive calls rotate.
    ///
    /// `eligible` is called at most once per peer. When no peer is eligible, returns
    /// `None` and leaves the cursor where it was.
    #[inline]
    pub fn next(&mut self, mut eligible: impl FnMut(PeerId) -> bool) -> Option<PeerId> {
        self.next_with(|peer| eligible(peer).then_some(peer))
    }

    /// Like [`next`](Self::next), for a question whose answer is worth keeping: the
    /// first peer for which `take` returns `Some` is chosen, and its answer returned
    /// (a fair-queued receive looks a peer up once and takes its message).
    #[inline(always)]
    pub fn next_with<T>(&mut self, mut take: impl FnMut(PeerId) -> Option<T>) -> Option<T> {
        // Wrapping by comparison, not `%`: this runs once per message, and a division
        // costs more than the rest of the rotation.
        let n = self.peers.len();
        let mut index = self.cursor;
        for _ in 0..n {
            if index >= n {
                index = 0;
            }
            let peer = self.peers[index];
            index += 1;
            if let Some(found) = take(peer) {
                self.cursor = if index == n { 0 } else { index };
                return Some(found);
            }
        }
        None
    }

    /// Number of peers.
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// Whether there are no peers.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// Whether `peer` is in the set.
    pub fn contains(&self, peer: PeerId) -> bool {
        self.peers.contains(&peer)
    }

    /// The peers in attachment order (not rotation order).
    pub fn iter(&self) -> impl Iterator<Item = PeerId> + '_ {
        self.peers.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rr(ids: &[u64]) -> RoundRobin {
        let mut rr = RoundRobin::new();
        for &id in ids {
            assert!(rr.attach(PeerId(id)));
        }
        rr
    }

    fn take(rr: &mut RoundRobin, n: usize) -> Vec<u64> {
        (0..n)
            .filter_map(|_| rr.next(|_| true))
            .map(|p| p.0)
            .collect()
    }

    #[test]
    fn rotates_over_three_peers() {
        let mut r = rr(&[1, 2, 3]);
        assert_eq!(take(&mut r, 7), [1, 2, 3, 1, 2, 3, 1]);
    }

    #[test]
    fn attach_twice_is_a_no_op() {
        let mut r = rr(&[1, 2]);
        assert!(!r.attach(PeerId(1)));
        assert_eq!(r.len(), 2);
        assert_eq!(r.iter().map(|p| p.0).collect::<Vec<_>>(), [1, 2]);
    }

    #[test]
    fn skips_ineligible_peers() {
        let mut r = rr(&[1, 2, 3]);
        let mut asked = Vec::new();
        let got = r.next(|p| {
            asked.push(p.0);
            p != PeerId(1)
        });
        assert_eq!(got, Some(PeerId(2)));
        assert_eq!(asked, [1, 2]);
        // The cursor is past 2: 3 is next, then 1 again.
        assert_eq!(take(&mut r, 3), [3, 1, 2]);
    }

    #[test]
    fn none_eligible_keeps_cursor() {
        let mut r = rr(&[1, 2, 3]);
        assert_eq!(take(&mut r, 1), [1]);
        let mut calls = 0;
        assert_eq!(
            r.next(|_| {
                calls += 1;
                false
            }),
            None
        );
        assert_eq!(calls, 3);
        assert_eq!(take(&mut r, 3), [2, 3, 1]);
        assert_eq!(RoundRobin::new().next(|_| true), None);
    }

    #[test]
    fn detach_current_makes_following_peer_next() {
        let mut r = rr(&[1, 2, 3, 4]);
        assert_eq!(take(&mut r, 1), [1]); // cursor at 2
        assert!(r.detach(PeerId(2)));
        assert_eq!(take(&mut r, 4), [3, 4, 1, 3]);
    }

    #[test]
    fn detach_earlier_peer_keeps_order() {
        let mut r = rr(&[1, 2, 3, 4]);
        assert_eq!(take(&mut r, 2), [1, 2]); // cursor at 3
        assert!(r.detach(PeerId(1)));
        assert_eq!(take(&mut r, 4), [3, 4, 2, 3]);
    }

    #[test]
    fn detach_later_peer_keeps_order() {
        let mut r = rr(&[1, 2, 3, 4]);
        assert_eq!(take(&mut r, 1), [1]); // cursor at 2
        assert!(r.detach(PeerId(4)));
        assert_eq!(take(&mut r, 4), [2, 3, 1, 2]);
    }

    #[test]
    fn detach_last_when_current_wraps() {
        let mut r = rr(&[1, 2, 3]);
        assert_eq!(take(&mut r, 2), [1, 2]); // cursor at 3
        assert!(r.detach(PeerId(3)));
        assert_eq!(take(&mut r, 3), [1, 2, 1]);
        assert!(!r.detach(PeerId(3)));
        assert!(r.detach(PeerId(1)));
        assert!(r.detach(PeerId(2)));
        assert!(r.is_empty());
        assert_eq!(r.next(|_| true), None);
    }

    #[test]
    fn attach_during_rotation_joins_at_the_end() {
        let mut r = rr(&[1, 2, 3]);
        assert_eq!(take(&mut r, 2), [1, 2]);
        r.attach(PeerId(9));
        assert!(r.contains(PeerId(9)));
        assert_eq!(take(&mut r, 5), [3, 9, 1, 2, 3]);
    }
}
