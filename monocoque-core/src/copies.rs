//! Copies of small borrowed frames, carved out of shared blocks (see [`copy`]).

use std::cell::RefCell;

use bytes::{Bytes, BytesMut};

/// The size of one block.
const BLOCK_SIZE: usize = 32 * 1024;

/// The largest frame copied into a block.
const MAX_COPY: usize = 2 * 1024;

thread_local! {
    static BLOCK: RefCell<BytesMut> = RefCell::new(BytesMut::new());
}

/// Copies `frame` into `Bytes`, as `Bytes::copy_from_slice` does, but a frame of up
/// to 2 KiB goes into a block of 32 KiB that this thread fills frame by frame.
///
/// A copy then costs no allocation of its own: a block is allocated once per 32 KiB
/// copied, and reused in place when every copy taken from it was dropped. A copy sent
/// to another thread (an I/O thread that writes it and drops it) frees nothing there
/// but a reference count, where a `Bytes` of its own would be freed into another
/// thread's allocator cache.
///
/// Like a slice of a read page, a copy keeps its whole block alive: a program that
/// keeps one small message out of every few hundred it sends keeps a block for each.
/// Each thread that copies keeps its current block until it exits. Larger frames get
/// an allocation of their own.
///
/// ```
/// let a = monocoque_core::copy(b"hello");
/// let b = monocoque_core::copy(b"world");
/// assert_eq!((&a[..], &b[..]), (&b"hello"[..], &b"world"[..]));
/// ```
pub fn copy(frame: &[u8]) -> Bytes {
    if frame.len() > MAX_COPY || frame.is_empty() {
        return Bytes::copy_from_slice(frame);
    }
    BLOCK
        .try_with(|block| {
            let mut block = block.borrow_mut();
            if block.capacity() - block.len() < frame.len() {
                // Reuses the block in place if no copy of it is alive, else starts a
                // new one (the old one is freed with its last copy).
                block.reserve(BLOCK_SIZE);
            }
            block.extend_from_slice(frame);
            block.split().freeze()
        })
        .unwrap_or_else(|_| Bytes::copy_from_slice(frame))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_across_blocks_keep_their_bytes() {
        let frames: Vec<Vec<u8>> = (0..3 * BLOCK_SIZE / 100)
            .map(|i| vec![i as u8; 1 + i % 200])
            .collect();
        let copies: Vec<Bytes> = frames.iter().map(|f| copy(f)).collect();
        for (frame, copied) in frames.iter().zip(&copies) {
            assert_eq!(&copied[..], &frame[..]);
        }
    }

    #[test]
    fn a_block_is_reused_once_its_copies_are_dropped() {
        // Fill the thread's block so the next copy needs room again.
        let first = copy(&[1u8; MAX_COPY]);
        let start = first.as_ptr();
        let filler: Vec<Bytes> = (1..BLOCK_SIZE / MAX_COPY)
            .map(|_| copy(&[2u8; MAX_COPY]))
            .collect();
        drop((first, filler));
        let again = copy(&[3u8; MAX_COPY]);
        assert_eq!(
            again.as_ptr(),
            start,
            "the dropped block's memory is reused"
        );
        assert_eq!(&again[..], &[3u8; MAX_COPY][..]);
    }

    #[test]
    fn a_live_copy_keeps_its_block_from_being_overwritten() {
        let kept = copy(&[9u8; MAX_COPY]);
        let others: Vec<Bytes> = (0..2 * BLOCK_SIZE / MAX_COPY)
            .map(|_| copy(&[4u8; MAX_COPY]))
            .collect();
        assert_eq!(&kept[..], &[9u8; MAX_COPY][..]);
        assert!(others.iter().all(|o| o.iter().all(|&b| b == 4)));
    }

    #[test]
    fn large_frames_get_their_own_allocation() {
        let large = vec![5u8; MAX_COPY + 1];
        assert_eq!(&copy(&large)[..], &large[..]);
        assert!(copy(&[]).is_empty());
    }
}
