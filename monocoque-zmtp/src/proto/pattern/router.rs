//! ROUTER routing ids (RFC 28, with libzmq's choices).
//!
//! A ROUTER names each peer by a routing id: the Identity the peer announced in its
//! READY command, or one the ROUTER generates. On receive it puts the id in front of
//! the message; on send it reads the first frame to pick the peer. This table maps ids
//! to [`PeerId`]s and back.
//!
//! Generated ids are five bytes, a zero byte then a 32-bit counter in network byte
//! order, as libzmq makes them; the leading zero keeps them apart from announced
//! Identities, which may not start with a zero byte.

use std::collections::HashMap;

use bytes::{BufMut, Bytes, BytesMut};

use super::{PeerId, PeerIdMap};
use crate::proto::error::ProtocolError;

/// Longest Identity a peer may announce.
const MAX_IDENTITY: usize = 255;

/// Where the generated-id counter starts for [`RoutingTable::new`].
///
/// libzmq starts at a random value so ids do not repeat across restarts; this table is
/// pure and reads no entropy, so it starts at a fixed value and lets the caller pass a
/// random one to [`RoutingTable::with_seed`] when that matters.
pub const DEFAULT_SEED: u32 = 1;

/// The routing ids of a ROUTER's peers.
///
/// ```
/// use bytes::Bytes;
/// use monocoque_zmtp::proto::pattern::{PeerId, RoutingTable};
///
/// let mut table = RoutingTable::new();
/// let named = table.attach(PeerId::new(1), Some(Bytes::from_static(b"worker-a"))).unwrap();
/// let anonymous = table.attach(PeerId::new(2), None).unwrap();
/// assert_eq!(&named[..], b"worker-a");
/// assert_eq!(anonymous.len(), 5);
/// assert_eq!(anonymous[0], 0);
/// assert_eq!(table.peer_for(b"worker-a"), Some(PeerId::new(1)));
/// ```
#[derive(Debug, Clone)]
pub struct RoutingTable {
    by_peer: PeerIdMap<Bytes>,
    by_id: HashMap<Bytes, PeerId>,
    next_generated: u32,
}

impl Default for RoutingTable {
    fn default() -> Self {
        Self::new()
    }
}

impl RoutingTable {
    /// An empty table generating ids from [`DEFAULT_SEED`].
    pub fn new() -> Self {
        Self::with_seed(DEFAULT_SEED)
    }

    /// An empty table generating ids from `seed` (libzmq uses a random seed).
    pub fn with_seed(seed: u32) -> Self {
        RoutingTable {
            by_peer: PeerIdMap::default(),
            by_id: HashMap::new(),
            next_generated: seed,
        }
    }

    /// Gives `peer` a routing id and returns it: the Identity it `announced` when that
    /// is present and non-empty, else a generated one (a zero byte and a counter,
    /// skipping ids in use).
    ///
    /// Refuses the peer with [`ProtocolError::InvalidIdentity`] (a Misbehaved fault) when
    /// the announced Identity is longer than 255 bytes or starts with a zero byte, and
    /// with [`ProtocolError::RoutingIdInUse`] when it is already the routing id of
    /// another peer: with ROUTER_HANDOVER off, libzmq
    /// likewise ignores a newcomer whose Identity is taken, and the caller should close
    /// that connection. Attaching a peer twice is [`ProtocolError::AlreadyAttached`]
    /// (a Misuse). The table is unchanged on error.
    pub fn attach(
        &mut self,
        peer: PeerId,
        announced: Option<Bytes>,
    ) -> Result<Bytes, ProtocolError> {
        if self.by_peer.contains_key(&peer) {
            return Err(ProtocolError::AlreadyAttached);
        }
        let id = match announced.filter(|id| !id.is_empty()) {
            Some(id) => {
                if id.len() > MAX_IDENTITY || id[0] == 0 {
                    return Err(ProtocolError::InvalidIdentity);
                }
                if self.by_id.contains_key(&id) {
                    // Copied: the error outlives the connection, and `id` may be a
                    // slice of a whole read page.
                    return Err(ProtocolError::RoutingIdInUse(Bytes::copy_from_slice(&id)));
                }
                id
            }
            None => self.generate(),
        };
        self.by_id.insert(id.clone(), peer);
        self.by_peer.insert(peer, id.clone());
        Ok(id)
    }

    /// A fresh 5-byte id not in use.
    fn generate(&mut self) -> Bytes {
        // At most one id per attached peer is in use, so fewer than 2^32 peers always
        // leave a free value and the loop ends.
        loop {
            let mut id = BytesMut::with_capacity(5);
            id.put_u8(0);
            id.put_u32(self.next_generated);
            self.next_generated = self.next_generated.wrapping_add(1);
            let id = id.freeze();
            if !self.by_id.contains_key(&id) {
                return id;
            }
        }
    }

    /// `ZMQ_ROUTER_HANDOVER`: gives `routing_id`, if another peer holds it, a generated
    /// id instead, so that a newcomer announcing it can be attached. Returns the peer
    /// that lost it (its connection should be closed, as libzmq closes it).
    pub fn hand_over(&mut self, routing_id: &[u8]) -> Option<PeerId> {
        let old = self.by_id.remove(routing_id)?;
        let generated = self.generate();
        self.by_id.insert(generated.clone(), old);
        self.by_peer.insert(old, generated);
        Some(old)
    }

    /// Forgets `peer` and frees its routing id. Returns the id it had.
    pub fn detach(&mut self, peer: PeerId) -> Option<Bytes> {
        let id = self.by_peer.remove(&peer)?;
        self.by_id.remove(&id);
        Some(id)
    }

    /// The peer with routing id `routing_id` (the first frame of a message sent on a
    /// ROUTER).
    pub fn peer_for(&self, routing_id: &[u8]) -> Option<PeerId> {
        self.by_id.get(routing_id).copied()
    }

    /// The routing id of `peer` (to put in front of a message received from it).
    pub fn routing_id(&self, peer: PeerId) -> Option<&Bytes> {
        self.by_peer.get(&peer)
    }

    /// Number of peers.
    pub fn len(&self) -> usize {
        self.by_peer.len()
    }

    /// Whether no peer is attached.
    pub fn is_empty(&self) -> bool {
        self.by_peer.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::error::Fault;

    #[test]
    fn generated_ids_start_with_zero_and_are_distinct() {
        let mut table = RoutingTable::with_seed(0xffff_fffe);
        let ids: Vec<Bytes> = (0..4)
            .map(|i| table.attach(PeerId(i), None).unwrap())
            .collect();
        assert_eq!(&ids[0][..], &[0, 0xff, 0xff, 0xff, 0xfe]);
        assert_eq!(&ids[1][..], &[0, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(&ids[2][..], &[0, 0, 0, 0, 0]); // wraps
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(id.len(), 5);
            assert_eq!(id[0], 0);
            assert_eq!(table.peer_for(id), Some(PeerId(i as u64)));
            assert!(ids[..i].iter().all(|other| other != id));
        }
        // An empty Identity counts as none announced.
        let id = table.attach(PeerId(9), Some(Bytes::new())).unwrap();
        assert_eq!(id.len(), 5);
    }

    #[test]
    fn generation_skips_ids_in_use() {
        let mut table = RoutingTable::with_seed(7);
        let first = table.attach(PeerId(1), None).unwrap();
        assert_eq!(&first[..], &[0, 0, 0, 0, 7]);
        // Force the counter back onto the id in use.
        table.next_generated = 7;
        let second = table.attach(PeerId(2), None).unwrap();
        assert_eq!(&second[..], &[0, 0, 0, 0, 8]);
    }

    #[test]
    fn announced_id_is_used() {
        let mut table = RoutingTable::new();
        let id = table
            .attach(PeerId(1), Some(Bytes::from_static(b"A")))
            .unwrap();
        assert_eq!(&id[..], b"A");
        assert_eq!(table.routing_id(PeerId(1)).map(|b| &b[..]), Some(&b"A"[..]));
        assert_eq!(table.peer_for(b"A"), Some(PeerId(1)));
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn duplicate_and_invalid_identities_refused() {
        let mut table = RoutingTable::new();
        table
            .attach(PeerId(1), Some(Bytes::from_static(b"A")))
            .unwrap();
        let err = table
            .attach(PeerId(2), Some(Bytes::from_static(b"A")))
            .unwrap_err();
        assert_eq!(err, ProtocolError::RoutingIdInUse(Bytes::from_static(b"A")));
        assert_eq!(err.fault(), Fault::Incompatible);
        assert_eq!(table.peer_for(b"A"), Some(PeerId(1)));
        assert_eq!(table.routing_id(PeerId(2)), None);
        assert!(
            table
                .attach(PeerId(2), Some(Bytes::from_static(b"\0abc")))
                .is_err()
        );
        assert!(
            table
                .attach(PeerId(2), Some(Bytes::from(vec![b'x'; 256])))
                .is_err()
        );
        assert!(
            table
                .attach(PeerId(2), Some(Bytes::from(vec![b'x'; 255])))
                .is_ok()
        );
        let err = table.attach(PeerId(1), None).unwrap_err();
        assert_eq!(err.fault(), Fault::Misuse);
        assert_eq!(table.len(), 2);
    }

    #[test]
    fn hand_over_moves_an_id_to_the_newcomer() {
        let mut table = RoutingTable::with_seed(7);
        table
            .attach(PeerId(1), Some(Bytes::from_static(b"X")))
            .unwrap();
        assert_eq!(table.hand_over(b"Y"), None);
        assert_eq!(table.hand_over(b"X"), Some(PeerId(1)));
        let renamed = table.routing_id(PeerId(1)).unwrap().clone();
        assert_eq!(renamed[0], 0, "the old peer gets a generated id");
        table
            .attach(PeerId(2), Some(Bytes::from_static(b"X")))
            .unwrap();
        assert_eq!(table.peer_for(b"X"), Some(PeerId(2)));
        assert_eq!(table.peer_for(&renamed), Some(PeerId(1)));
    }

    #[test]
    fn lookups_after_detach() {
        let mut table = RoutingTable::new();
        table
            .attach(PeerId(1), Some(Bytes::from_static(b"A")))
            .unwrap();
        let generated = table.attach(PeerId(2), None).unwrap();
        assert_eq!(table.detach(PeerId(1)).as_deref(), Some(&b"A"[..]));
        assert_eq!(table.detach(PeerId(1)), None);
        assert_eq!(table.peer_for(b"A"), None);
        assert_eq!(table.routing_id(PeerId(1)), None);
        assert_eq!(table.peer_for(&generated), Some(PeerId(2)));
        // The freed Identity can be taken by a newcomer.
        table
            .attach(PeerId(3), Some(Bytes::from_static(b"A")))
            .unwrap();
        assert_eq!(table.peer_for(b"A"), Some(PeerId(3)));
        table.detach(PeerId(2));
        table.detach(PeerId(3));
        assert!(table.is_empty());
    }
}
