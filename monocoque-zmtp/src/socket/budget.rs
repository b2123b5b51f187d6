//! When a sending loop lets the connection tasks write.
//!
//! PUB, XPUB and ROUTER never wait, and a loop of their sends would otherwise starve
//! the connection tasks that write the messages out. So `send` lets other tasks run
//! once it has queued about one write batch of bytes
//! (`BufferConfig::write_batch_size`) since it last did: each yield is then about one
//! write per connection. A publisher with many subscribers yields sooner, after
//! [`ENTRY_BUDGET`] queue entries, so that what it queued is still in cache when its
//! connections read it back.

use std::cell::Cell;

use crate::proto::session::{BY_REFERENCE_BATCHES, ZERO_COPY_MIN};

/// What a send counts besides its payload: room for a frame header (at most 9
/// bytes), so that the bytes counted for messages of one frame (or of two short
/// ones) never fall short of the bytes a write copies. A message of more frames may
/// take a few bytes more than counted, which only makes one write a little longer.
///
/// It was 256 until 2026-12-02, which made 64 B messages yield every ~200 sends and
/// their writes 13 KiB long; with 16 they yield every ~800 sends (docs/performance.md,
/// "Send budget").
const HEADER_ROOM: usize = 16;

/// Queue entries (one per peer a message was queued for) after which a sender yields
/// even if it queued fewer bytes than a write batch: 128 sends to 256 subscribers.
const ENTRY_BUDGET: usize = 32 * 1024;

/// What a socket queued since its sender last let other tasks run.
#[derive(Debug, Default)]
pub(crate) struct SendBudget {
    /// Payload plus [`HEADER_ROOM`] per message.
    bytes: Cell<usize>,
    /// Queue entries: one per peer each message went to.
    entries: Cell<usize>,
}

impl SendBudget {
    /// Counts a send of `bytes` before it is queued; true when the sender should let
    /// other tasks run first, with `batch` the socket's write batch size.
    pub(crate) fn yield_due(&self, bytes: usize, batch: usize) -> bool {
        // A large message goes by reference, and a write carries several of them.
        let cost = match bytes >= ZERO_COPY_MIN {
            true => bytes / BY_REFERENCE_BATCHES,
            false => bytes,
        } + HEADER_ROOM;
        let sent = self.bytes.get() + cost;
        if sent >= batch || self.entries.get() >= ENTRY_BUDGET {
            // This send is the first of the next batch.
            self.bytes.set(cost);
            self.entries.set(0);
            return true;
        }
        self.bytes.set(sent);
        false
    }

    /// Counts the queue entries a send made: one, or one per subscriber it was fanned
    /// out to.
    pub(crate) fn queued(&self, entries: usize) {
        self.entries.set(self.entries.get() + entries);
    }

    /// Starts counting again (the sender yielded or waited, so other tasks ran).
    pub(crate) fn restart(&self) {
        self.bytes.set(0);
        self.entries.set(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BATCH: usize = 64 * 1024;

    /// How many of 10,000 sends of `bytes`, each queued for `entries` peers, go
    /// between two yields (the last batch left out, as it is not full).
    fn batches(bytes: usize, entries: usize) -> Vec<usize> {
        let budget = SendBudget::default();
        let mut batches = vec![0];
        for _ in 0..10_000 {
            if budget.yield_due(bytes, BATCH) {
                batches.push(0);
            }
            budget.queued(entries);
            *batches.last_mut().expect("one batch at least") += 1;
        }
        batches.pop();
        batches
    }

    #[test]
    fn small_messages_fill_about_one_write_batch_between_yields() {
        let batches = batches(64, 1);
        assert!(batches.len() > 2);
        for sends in batches {
            let wire = sends * (2 + 64);
            assert!(wire <= BATCH, "{sends} sends write {wire} bytes");
            assert!(
                wire >= BATCH * 3 / 4,
                "{sends} sends write only {wire} bytes"
            );
        }
    }

    #[test]
    fn the_bytes_between_yields_never_exceed_a_write_batch() {
        for size in [0, 1, 100, 255, 256, 1024, 4000, ZERO_COPY_MIN - 1] {
            let header = if size <= 255 { 2 } else { 9 };
            for sends in batches(size, 1) {
                let wire = sends * (header + size);
                assert!(wire <= BATCH, "{size} B: {wire} bytes between yields");
            }
        }
    }

    #[test]
    fn a_wide_fan_out_yields_after_its_entry_budget() {
        for sends in batches(64, 256) {
            assert_eq!(sends, ENTRY_BUDGET / 256);
        }
        let narrow = batches(64, 8);
        assert!(narrow[0] > ENTRY_BUDGET / 256, "8 subscribers: {narrow:?}");
    }
}
