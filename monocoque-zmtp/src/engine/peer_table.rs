//! The socket's peers, indexed by [`PeerId`] without hashing.
//!
//! Every message sent or received looks its peer up at least once, so the lookup is an
//! index into a vector: a [`PeerId`] holds a slot index (low 32 bits) and the slot's
//! generation (high 32 bits). A slot is reused after its peer is removed, with a new
//! generation, so an id kept after removal (a stale REQ reply, a routing entry) never
//! finds the slot's next occupant.

use crate::proto::pattern::PeerId;

#[derive(Debug)]
struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

/// A slab of per-peer values addressed by generation-checked [`PeerId`]s.
#[derive(Debug)]
pub(crate) struct PeerTable<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
}

impl<T> Default for PeerTable<T> {
    fn default() -> Self {
        PeerTable {
            slots: Vec::new(),
            free: Vec::new(),
        }
    }
}

#[inline]
fn split(id: PeerId) -> (usize, u32) {
    ((id.0 & u64::from(u32::MAX)) as usize, (id.0 >> 32) as u32)
}

#[inline]
fn join(index: usize, generation: u32) -> PeerId {
    PeerId((u64::from(generation) << 32) | index as u64)
}

impl<T> PeerTable<T> {
    /// Stores `value` under a fresh id.
    pub(crate) fn insert(&mut self, value: T) -> PeerId {
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.value = Some(value);
            return join(index as usize, slot.generation);
        }
        // Generations start at 1: no id is ever 0.
        self.slots.push(Slot {
            generation: 1,
            value: Some(value),
        });
        join(self.slots.len() - 1, 1)
    }

    #[inline]
    pub(crate) fn get(&self, id: &PeerId) -> Option<&T> {
        let (index, generation) = split(*id);
        let slot = self.slots.get(index)?;
        if slot.generation != generation {
            return None;
        }
        slot.value.as_ref()
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, id: &PeerId) -> Option<&mut T> {
        let (index, generation) = split(*id);
        let slot = self.slots.get_mut(index)?;
        if slot.generation != generation {
            return None;
        }
        slot.value.as_mut()
    }

    /// Removes the value; its slot will be reused under another generation.
    pub(crate) fn remove(&mut self, id: &PeerId) -> Option<T> {
        let (index, generation) = split(*id);
        let slot = self.slots.get_mut(index)?;
        if slot.generation != generation {
            return None;
        }
        let value = slot.value.take()?;
        slot.generation = slot.generation.wrapping_add(1).max(1);
        self.free.push(index as u32);
        Some(value)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (PeerId, &T)> {
        self.slots.iter().enumerate().filter_map(|(index, slot)| {
            let value = slot.value.as_ref()?;
            Some((join(index, slot.generation), value))
        })
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().filter_map(|slot| slot.value.as_ref())
    }

    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.slots.iter_mut().filter_map(|slot| slot.value.as_mut())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_find_their_values_until_removed() {
        let mut table = PeerTable::default();
        let a = table.insert("a");
        let b = table.insert("b");
        assert_ne!(a, b);
        assert_eq!(table.get(&a), Some(&"a"));
        assert_eq!(table.get(&b), Some(&"b"));
        assert_eq!(table.values().count(), 2);
        assert_eq!(table.remove(&a), Some("a"));
        assert_eq!(table.get(&a), None);
        assert_eq!(table.remove(&a), None, "removing twice finds nothing");
        assert_eq!(table.values().count(), 1);
        let ids: Vec<PeerId> = table.iter().map(|(id, _)| id).collect();
        assert_eq!(ids, [b]);
    }

    #[test]
    fn a_reused_slot_does_not_answer_to_the_old_id() {
        let mut table = PeerTable::default();
        let old = table.insert(1);
        table.remove(&old);
        let new = table.insert(2);
        assert_ne!(old, new, "same slot, new generation");
        assert_eq!(table.get(&old), None);
        assert_eq!(table.get_mut(&old), None);
        assert_eq!(table.remove(&old), None);
        assert_eq!(table.get(&new), Some(&2));
        assert_eq!(table.slots.len(), 1, "the slot was reused");
    }

    #[test]
    fn ids_from_elsewhere_find_nothing() {
        let mut table: PeerTable<u8> = PeerTable::default();
        assert_eq!(table.get(&PeerId(0)), None);
        assert_eq!(table.get(&PeerId(u64::MAX)), None);
        let id = table.insert(7);
        assert_eq!(table.get(&PeerId(id.0 + 1)), None);
        assert_eq!(table.values_mut().map(|v| *v).sum::<u8>(), 7);
    }
}
