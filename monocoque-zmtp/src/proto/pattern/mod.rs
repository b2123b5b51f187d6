//! Routing patterns: the pure bookkeeping behind each socket type.
//!
//! Nothing here performs IO, reads the clock or owns a queue: these types decide *which
//! peer* a message goes to or is accepted from, and what a message must look like on
//! the way, and leave moving bytes to the driver. Each connection is named by a
//! [`PeerId`] the socket assigns.
//!
//! | Type | Used by | RFC |
//! |------|---------|-----|
//! | [`RoundRobin`] | load-balancing out (PUSH, DEALER, REQ) and fair-queuing in (PULL, DEALER, ROUTER, REP, SUB) | 28, 30 |
//! | [`Subscriptions`] | SUB/XSUB topic filters, one peer's subscriptions at PUB/XPUB | 29 |
//! | [`Distributor`] | PUB/XPUB fan-out and XPUB's upstream reporting | 29 |
//! | [`ReqState`] | REQ's strict send/receive alternation and delimiter | 28 |
//! | [`RepState`] | REP's envelope kept from request to reply | 28 |
//! | [`RoutingTable`] | ROUTER routing ids | 28 |
//!
//! None of these types recurse over peer-controlled data (the topic trie is walked with
//! loops), so a long topic or a deep envelope cannot overflow the stack.

pub mod dist;
pub mod rep;
pub mod req;
pub mod round_robin;
pub mod router;
pub mod subscriptions;

pub use dist::Distributor;
pub use rep::RepState;
pub use req::ReqState;
pub use round_robin::RoundRobin;
pub use router::RoutingTable;
pub use subscriptions::Subscriptions;

/// The key a socket assigns to each of its connections.
///
/// Ids are chosen by the socket, never by a peer, and are never reused while the
/// connection lives; they are unrelated to ZMTP routing ids, which [`RoutingTable`]
/// maps to and from them. The number inside is opaque.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PeerId(pub(crate) u64);

impl PeerId {
    /// An id with the given number, for a caller keeping its own connection table.
    pub const fn new(raw: u64) -> PeerId {
        PeerId(raw)
    }
}

impl std::fmt::Display for PeerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // monocoque's sockets put a table slot in the low 32 bits and the slot's
        // generation in the high 32 (engine/peer_table.rs).
        write!(f, "peer#{}.{}", self.0 & u64::from(u32::MAX), self.0 >> 32)
    }
}

/// A map keyed by [`PeerId`], hashed by value: ids are chosen by the socket, never
/// by a peer, so SipHash's protection against chosen keys buys nothing, and a
/// ROUTER looks one up for every message it receives.
pub(crate) type PeerIdMap<V> =
    std::collections::HashMap<PeerId, V, std::hash::BuildHasherDefault<PeerIdHasher>>;

/// The hasher of [`PeerIdMap`]: a multiply that spreads sequential ids over buckets.
#[derive(Debug, Default)]
pub(crate) struct PeerIdHasher(u64);

impl std::hash::Hasher for PeerIdHasher {
    fn finish(&self) -> u64 {
        self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_id_displays_and_orders() {
        assert_eq!(PeerId(7).to_string(), "peer#7.0");
        assert_eq!(
            PeerId((2 << 32) | 7).to_string(),
            "peer#7.2",
            "slot 7, generation 2"
        );
        assert!(PeerId(1) < PeerId(2));
    }
}
