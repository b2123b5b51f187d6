//! Counted topic subscriptions with prefix matching (RFC 29).
//!
//! RFC 29: "A subscription is a prefix: a message matches when its first frame starts
//! with the subscribed bytes", and subscriptions are counted: a topic subscribed twice
//! needs two cancellations before it stops matching.
//!
//! The set is a radix trie (a byte trie whose edges carry whole runs of bytes) kept in
//! an arena: nodes live in a `Vec` and refer to each other by index, so there is no
//! `Box` chain to drop recursively, and every walk is a loop. Matching costs the length
//! of the longest matching path, however many topics are subscribed; a single long
//! topic is one node, not one node per byte.

/// Index of the root node, whose path is the empty topic.
const ROOT: usize = 0;

/// Free node slots below which the arena is never compacted (a rebuild costs a walk
/// of every live topic).
const COMPACT_MIN_FREE: usize = 8;

#[derive(Debug, Default, Clone)]
struct Node {
    /// The bytes on the edge from the parent to this node; empty only for the root.
    label: Vec<u8>,
    /// Children keyed by the first byte of their label, sorted by that byte.
    children: Vec<(u8, usize)>,
    /// How many times the topic ending exactly here is subscribed.
    count: u64,
    /// The parent's index (the root points to itself).
    parent: usize,
}

/// A counted set of topic prefixes.
///
/// ```
/// use monocoque_zmtp::proto::pattern::Subscriptions;
///
/// let mut subs = Subscriptions::new();
/// assert!(subs.subscribe(b"weather."));  // new: tell the publisher
/// assert!(!subs.subscribe(b"weather.")); // counted, nothing to tell
/// assert!(subs.matches(b"weather.paris"));
/// assert!(!subs.matches(b"news"));
/// assert!(!subs.cancel(b"weather."));    // one subscription left
/// assert!(subs.cancel(b"weather."));     // gone: tell the publisher
/// assert!(subs.is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct Subscriptions {
    nodes: Vec<Node>,
    /// Indices of released nodes, reused before the arena grows.
    free: Vec<usize>,
    /// Number of distinct topics (nodes with a non-zero count).
    topics: usize,
}

impl Default for Subscriptions {
    fn default() -> Self {
        Self::new()
    }
}

impl Subscriptions {
    /// An empty set.
    pub fn new() -> Self {
        Subscriptions {
            nodes: vec![Node::default()],
            free: Vec::new(),
            topics: 0,
        }
    }

    /// Subscribes to `topic` once more. Returns true when the topic was not subscribed
    /// before (its count went from 0 to 1): that is when the publisher upstream must
    /// learn about it.
    pub fn subscribe(&mut self, topic: &[u8]) -> bool {
        self.add(topic, 1)
    }

    /// Cancels one subscription to `topic`. Returns true when its count fell to 0 (the
    /// publisher upstream must learn about it). Cancelling a topic that is not
    /// subscribed returns false and changes nothing.
    pub fn cancel(&mut self, topic: &[u8]) -> bool {
        self.remove(topic, 1)
    }

    /// Whether some subscribed topic is a prefix of `data` (the empty topic matches
    /// everything).
    pub fn matches(&self, data: &[u8]) -> bool {
        let mut node = ROOT;
        let mut rest = data;
        loop {
            if self.nodes[node].count > 0 {
                return true;
            }
            let Some(&first) = rest.first() else {
                return false;
            };
            let Some(child) = self.child(node, first) else {
                return false;
            };
            let label = &self.nodes[child].label;
            if !rest.starts_with(label) {
                return false;
            }
            rest = &rest[label.len()..];
            node = child;
        }
    }

    /// How many times `topic` (exactly, not as a prefix) is subscribed.
    pub fn count(&self, topic: &[u8]) -> u64 {
        self.find(topic).map_or(0, |n| self.nodes[n].count)
    }

    /// Number of distinct topics.
    pub fn len(&self) -> usize {
        self.topics
    }

    /// Whether no topic is subscribed.
    pub fn is_empty(&self) -> bool {
        self.topics == 0
    }

    /// Each distinct topic once, in no particular order: what a subscriber sends again
    /// after reconnecting.
    pub fn topics(&self) -> impl Iterator<Item = Vec<u8>> + '_ {
        self.topics_with_counts().map(|(topic, _)| topic)
    }

    /// Each distinct topic once with its count, in no particular order.
    pub fn topics_with_counts(&self) -> impl Iterator<Item = (Vec<u8>, u64)> + '_ {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, node)| node.count > 0)
            .map(|(index, node)| (self.path(index), node.count))
    }

    /// Removes every subscription and returns the storage.
    pub fn clear(&mut self) {
        *self = Self::new();
    }

    /// Node slots in the arena, live or free (1 when empty). For tests of memory use.
    #[doc(hidden)]
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Adds `n` to the count of `topic`; true if it was 0.
    pub(crate) fn add(&mut self, topic: &[u8], n: u64) -> bool {
        let mut node = ROOT;
        let mut rest = topic;
        loop {
            let Some(&first) = rest.first() else {
                let count = &mut self.nodes[node].count;
                let was = *count;
                *count = count.saturating_add(n);
                if was == 0 {
                    self.topics += 1;
                }
                return was == 0;
            };
            let Some(child) = self.child(node, first) else {
                let leaf = self.alloc(rest.to_vec(), node, n);
                self.set_child(node, first, leaf);
                self.topics += 1;
                return true;
            };
            let common = common_prefix(&self.nodes[child].label, rest);
            if common < self.nodes[child].label.len() {
                // The topic leaves (or ends inside) the child's edge: split the edge at
                // `common` with a new node holding the shared head.
                let tail = self.nodes[child].label.split_off(common);
                let head = std::mem::replace(&mut self.nodes[child].label, tail);
                let tail_first = self.nodes[child].label[0];
                let mid = self.alloc(head, node, 0);
                self.nodes[mid].children.push((tail_first, child));
                self.nodes[child].parent = mid;
                self.set_child(node, first, mid);
                node = mid;
            } else {
                node = child;
            }
            rest = &rest[common..];
        }
    }

    /// Subtracts `n` from the count of `topic`; true if it fell to 0 from above.
    pub(crate) fn remove(&mut self, topic: &[u8], n: u64) -> bool {
        let Some(node) = self.find(topic) else {
            return false;
        };
        let count = &mut self.nodes[node].count;
        if *count == 0 || n == 0 {
            return false;
        }
        *count = count.saturating_sub(n);
        if *count > 0 {
            return false;
        }
        self.topics -= 1;
        self.prune(node);
        true
    }

    /// Removes nodes made useless by a count falling to 0, walking up from `node`.
    fn prune(&mut self, node: usize) {
        if self.topics == 0 {
            // Back to baseline: give all node storage back.
            self.clear();
            return;
        }
        self.unlink(node);
        // A flood of topics that were then cancelled must not pin the arena at its
        // peak while other subscriptions live: once most slots are free, rebuild the
        // trie from the live topics into storage of the right size.
        if self.free.len() >= COMPACT_MIN_FREE && self.free.len() * 2 > self.nodes.len() {
            self.compact();
        }
    }

    fn compact(&mut self) {
        let mut fresh = Subscriptions::new();
        for (topic, count) in self.topics_with_counts() {
            fresh.add(&topic, count);
        }
        *self = fresh;
    }

    /// Removes `node` if nothing subscribes through it any more, and its childless
    /// ancestors; folds a left-over pass-through node into its child.
    fn unlink(&mut self, mut node: usize) {
        while node != ROOT && self.nodes[node].count == 0 {
            match self.nodes[node].children.len() {
                0 => {
                    let parent = self.nodes[node].parent;
                    let first = self.nodes[node].label[0];
                    self.remove_child(parent, first);
                    self.release(node);
                    node = parent;
                }
                1 => {
                    // A pass-through node: fold its edge into its only child's.
                    let child = self.nodes[node].children[0].1;
                    let parent = self.nodes[node].parent;
                    let mut label = std::mem::take(&mut self.nodes[node].label);
                    let first = label[0];
                    label.extend_from_slice(&self.nodes[child].label);
                    self.nodes[child].label = label;
                    self.nodes[child].parent = parent;
                    self.set_child(parent, first, child);
                    self.release(node);
                    return;
                }
                _ => return,
            }
        }
    }

    /// The node whose path is exactly `topic`.
    fn find(&self, topic: &[u8]) -> Option<usize> {
        let mut node = ROOT;
        let mut rest = topic;
        while let Some(&first) = rest.first() {
            let child = self.child(node, first)?;
            let label = &self.nodes[child].label;
            if !rest.starts_with(label) {
                return None;
            }
            rest = &rest[label.len()..];
            node = child;
        }
        Some(node)
    }

    /// The full topic of `node`, rebuilt by walking up to the root.
    fn path(&self, node: usize) -> Vec<u8> {
        let mut chain = Vec::new();
        let mut len = 0;
        let mut n = node;
        while n != ROOT {
            chain.push(n);
            len += self.nodes[n].label.len();
            n = self.nodes[n].parent;
        }
        let mut topic = Vec::with_capacity(len);
        for &n in chain.iter().rev() {
            topic.extend_from_slice(&self.nodes[n].label);
        }
        topic
    }

    fn child(&self, node: usize, byte: u8) -> Option<usize> {
        let children = &self.nodes[node].children;
        children
            .binary_search_by_key(&byte, |&(b, _)| b)
            .ok()
            .map(|i| children[i].1)
    }

    fn set_child(&mut self, node: usize, byte: u8, child: usize) {
        let children = &mut self.nodes[node].children;
        match children.binary_search_by_key(&byte, |&(b, _)| b) {
            Ok(i) => children[i].1 = child,
            Err(i) => children.insert(i, (byte, child)),
        }
    }

    fn remove_child(&mut self, node: usize, byte: u8) {
        let children = &mut self.nodes[node].children;
        if let Ok(i) = children.binary_search_by_key(&byte, |&(b, _)| b) {
            children.remove(i);
        }
    }

    fn alloc(&mut self, label: Vec<u8>, parent: usize, count: u64) -> usize {
        let node = Node {
            label,
            children: Vec::new(),
            count,
            parent,
        };
        if let Some(index) = self.free.pop() {
            self.nodes[index] = node;
            index
        } else {
            self.nodes.push(node);
            self.nodes.len() - 1
        }
    }

    fn release(&mut self, index: usize) {
        // Replacing the node drops its label and children storage now.
        self.nodes[index] = Node::default();
        if index + 1 == self.nodes.len() {
            self.nodes.pop();
        } else {
            self.free.push(index);
        }
    }
}

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_shrinks_after_a_flood_is_cancelled_while_others_live() {
        let mut s = Subscriptions::new();
        s.subscribe(b"news");
        let baseline = s.node_count();
        let flood: Vec<Vec<u8>> = (0..10_000u32)
            .map(|i| format!("flood-{i}").into_bytes())
            .collect();
        for topic in &flood {
            s.subscribe(topic);
        }
        assert!(s.node_count() > 10_000);
        for topic in &flood {
            s.cancel(topic);
        }
        assert_eq!(sorted_topics(&s), vec![b"news".to_vec()]);
        assert!(s.matches(b"news today"));
        assert!(!s.matches(b"flood-1"));
        assert!(
            s.node_count() <= baseline + COMPACT_MIN_FREE,
            "{} nodes kept for one topic",
            s.node_count()
        );
        assert!(s.nodes.capacity() < 1_000, "arena storage given back");
    }

    fn sorted_topics(s: &Subscriptions) -> Vec<Vec<u8>> {
        let mut t: Vec<_> = s.topics().collect();
        t.sort();
        t
    }

    #[test]
    fn counts_subscriptions() {
        let mut s = Subscriptions::new();
        assert!(s.subscribe(b"a"));
        assert!(!s.subscribe(b"a"));
        assert!(!s.subscribe(b"a"));
        assert_eq!(s.count(b"a"), 3);
        assert_eq!(s.len(), 1);
        assert!(!s.cancel(b"a"));
        assert!(!s.cancel(b"a"));
        assert!(s.matches(b"abc"));
        assert!(s.cancel(b"a"));
        assert!(!s.matches(b"abc"));
        assert!(s.is_empty());
        assert_eq!(s.node_count(), 1);
    }

    #[test]
    fn prefix_matching() {
        let mut s = Subscriptions::new();
        assert!(!s.matches(b""));
        assert!(!s.matches(b"anything"));
        s.subscribe(b"weather.paris");
        s.subscribe(b"weather.pa"); // splits the edge
        s.subscribe(b"news");
        assert!(s.matches(b"weather.pa"));
        assert!(s.matches(b"weather.papeete"));
        assert!(s.matches(b"weather.paris.today"));
        assert!(s.matches(b"news"));
        assert!(!s.matches(b"weather.p"));
        assert!(!s.matches(b"weather"));
        assert!(!s.matches(b"new"));
        assert!(!s.matches(b""));
        assert_eq!(s.count(b"weather.p"), 0);
        assert!(s.cancel(b"weather.pa"));
        assert!(!s.matches(b"weather.papeete"));
        assert!(s.matches(b"weather.paris!"));
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn empty_topic_matches_everything() {
        let mut s = Subscriptions::new();
        assert!(s.subscribe(b""));
        assert!(s.matches(b""));
        assert!(s.matches(b"\x00\x01"));
        assert_eq!(sorted_topics(&s), [Vec::<u8>::new()]);
        assert!(s.cancel(b""));
        assert!(!s.matches(b""));
    }

    #[test]
    fn cancel_unknown_changes_nothing() {
        let mut s = Subscriptions::new();
        assert!(!s.cancel(b"x"));
        assert!(!s.cancel(b""));
        s.subscribe(b"abc");
        assert!(!s.cancel(b"ab")); // inside an edge
        assert!(!s.cancel(b"abcd"));
        assert!(!s.cancel(b"b"));
        assert!(!s.cancel(b""));
        assert_eq!(s.count(b"abc"), 1);
        assert_eq!(s.len(), 1);
        assert_eq!(s.node_count(), 2);
    }

    #[test]
    fn topics_lists_each_once() {
        let mut s = Subscriptions::new();
        for t in [&b"ab"[..], b"abc", b"ab", b"b", b"", b"abd"] {
            s.subscribe(t);
        }
        let expected: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"ab".to_vec(),
            b"abc".to_vec(),
            b"abd".to_vec(),
            b"b".to_vec(),
        ];
        assert_eq!(sorted_topics(&s), expected);
        let mut counts: Vec<_> = s.topics_with_counts().collect();
        counts.sort();
        assert_eq!(counts[1], (b"ab".to_vec(), 2));
        s.clear();
        assert!(s.is_empty());
        assert_eq!(s.topics().count(), 0);
        assert_eq!(s.node_count(), 1);
    }

    #[test]
    fn pruning_merges_pass_through_nodes() {
        let mut s = Subscriptions::new();
        s.subscribe(b"abcdef");
        s.subscribe(b"abcxyz"); // root -> "abc" -> {"def", "xyz"}
        s.subscribe(b"q");
        assert_eq!(s.node_count(), 5);
        assert!(s.cancel(b"abcdef")); // "abc" merges into "abcxyz"
        assert!(s.matches(b"abcxyz1"));
        assert!(!s.matches(b"abcdef"));
        assert_eq!(sorted_topics(&s), [b"abcxyz".to_vec(), b"q".to_vec()]);
        // Storage is recycled before the arena grows.
        let slots = s.node_count();
        s.subscribe(b"abcdef");
        s.cancel(b"abcdef");
        assert_eq!(s.node_count(), slots);
    }

    #[test]
    fn hundred_thousand_topics_return_to_baseline() {
        let mut s = Subscriptions::new();
        let baseline = s.node_count();
        let topics: Vec<Vec<u8>> = (0..100_000u32)
            .map(|i| format!("topic/{i}").into_bytes())
            .collect();
        for t in &topics {
            assert!(s.subscribe(t));
        }
        assert_eq!(s.len(), 100_000);
        assert!(s.matches(b"topic/99999/x"));
        assert!(!s.matches(b"topic/"));
        assert_eq!(s.topics().count(), 100_000);
        for t in &topics {
            assert!(s.cancel(t));
        }
        assert!(s.is_empty());
        assert_eq!(s.node_count(), baseline);
        assert!(!s.matches(b"topic/1"));
    }

    #[test]
    fn one_mebibyte_topic() {
        let mut s = Subscriptions::new();
        let topic = vec![b'x'; 1 << 20];
        assert!(s.subscribe(&topic));
        assert_eq!(s.node_count(), 2);
        let mut longer = topic.clone();
        longer.push(b'!');
        assert!(s.matches(&longer));
        assert!(s.matches(&topic));
        assert!(!s.matches(&topic[..topic.len() - 1]));
        // A prefix of it splits the single edge.
        assert!(s.subscribe(&topic[..1000]));
        assert!(s.matches(&topic[..1000]));
        assert!(s.cancel(&topic[..1000]));
        assert!(s.cancel(&topic));
        assert!(s.is_empty());
        assert_eq!(s.node_count(), 1);
    }

    #[test]
    fn deep_chain_of_topics_without_recursion() {
        // "a", "aa", "aaa", ...: every topic a node, each the child of the last.
        let mut s = Subscriptions::new();
        let depth = 3000;
        let long = vec![b'a'; depth];
        for n in 1..=depth {
            assert!(s.subscribe(&long[..n]));
        }
        assert!(s.matches(&long));
        assert_eq!(s.topics().count(), depth);
        let clone = s.clone();
        drop(s);
        assert_eq!(clone.len(), depth);
        let mut s = clone;
        for n in (1..=depth).rev() {
            assert!(s.cancel(&long[..n]));
        }
        assert_eq!(s.node_count(), 1);
    }
}
