//! Copies of borrowed frames: small ones carved out of shared blocks, larger ones
//! in buffers that are reused once dropped (see [`copy`]); and buffers for the
//! bodies of large frames read from a peer, reused the same way (see
//! [`frame_buffer`]).

use std::cell::RefCell;
use std::collections::{TryReserveError, VecDeque};
use std::sync::Mutex;

use bytes::{Bytes, BytesMut};

/// The size of one block.
const BLOCK_SIZE: usize = 32 * 1024;

/// How many filled blocks a thread keeps, oldest first, to fill again once every
/// copy taken from them was dropped: 4 MiB. A handle queues up to `sndhwm` (1,000)
/// messages in its outbox, as many in the batch its I/O thread took and again in its
/// socket's queue: up to 96 blocks of 1 KiB copies. A thread with more copies alive
/// keeps the blocks it has rather than newer ones, so it still fills those again.
const KEPT_BLOCKS: usize = 128;

/// The largest frame copied into a block.
const MAX_COPY: usize = 2 * 1024;

/// The largest frame whose buffer is kept for reuse once its copy is dropped.
const MAX_RECYCLED: usize = 256 * 1024;

/// How many buffers, and how many bytes of them, a thread keeps for reuse.
const SPARE_BUFFERS: usize = 16;
const SPARE_BYTES: usize = 2 * 1024 * 1024;

/// How many buffers, and how many bytes of them, all threads together keep beyond
/// their own: a thread that drops more buffers than it takes (the application
/// thread that receives what an I/O thread read) passes them on to the one that
/// takes them.
const SHARED_SPARE_BUFFERS: usize = 64;
const SHARED_SPARE_BYTES: usize = 4 * 1024 * 1024;

/// Buffers any thread may take once its own spares hold none of the right size.
static SHARED_SPARE: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

thread_local! {
    static BLOCKS: RefCell<Blocks> = const { RefCell::new(Blocks { current: None, filled: VecDeque::new() }) };
    /// Buffers of dropped large copies, waiting to be reused.
    static SPARE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// Copies `frame` into `Bytes`, as `Bytes::copy_from_slice` does, but a frame of up
/// to 2 KiB goes into a block of 32 KiB that this thread fills frame by frame.
///
/// A copy then costs no allocation of its own, and at a steady rate no block is
/// allocated either. A block is reused in place once every copy taken from it was
/// dropped. A thread whose copies outlive their block's filling (those sent through a
/// handle, dropped by the I/O thread that writes them) keeps up to 128 filled blocks
/// (4 MiB) and fills the oldest again once its copies are gone: a new block for every
/// 32 KiB cost the allocator's trimming and fresh page faults, about a tenth of a
/// 1 KiB handle sender's time. A copy sent to another thread frees nothing there but
/// a reference count, where a `Bytes` of its own would be freed into another thread's
/// allocator cache.
///
/// Like a slice of a read page, a copy keeps its whole block alive: a program that
/// keeps one small message out of every few hundred it sends keeps a block for each.
/// Each thread that copies keeps its current block, and the filled ones it keeps,
/// until it exits.
///
/// A larger frame, up to 256 KiB, gets a buffer of its own that goes back to the
/// thread that drops it when its last `Bytes` is dropped, for the next copy of about
/// its size; a thread keeps at most 16 such buffers and 2 MiB. So a sender of large
/// messages reuses the same few buffers instead of allocating and freeing each one,
/// which costs the allocator's trimming and fresh page faults at these sizes.
/// Frames above 256 KiB get an allocation of their own.
///
/// ```
/// let a = monocoque_core::copy(b"hello");
/// let b = monocoque_core::copy(b"world");
/// assert_eq!((&a[..], &b[..]), (&b"hello"[..], &b"world"[..]));
/// ```
pub fn copy(frame: &[u8]) -> Bytes {
    if frame.len() > MAX_COPY {
        return copy_large(frame);
    }
    if frame.is_empty() {
        return Bytes::new();
    }
    BLOCKS
        .try_with(|blocks| {
            let mut blocks = blocks.borrow_mut();
            let block = blocks.with_room(frame.len());
            block.extend_from_slice(frame);
            block.split().freeze()
        })
        .unwrap_or_else(|_| Bytes::copy_from_slice(frame))
}

/// A thread's block being filled, and the filled ones it keeps for reuse.
struct Blocks {
    current: Option<BytesMut>,
    filled: VecDeque<BytesMut>,
}

impl Blocks {
    /// The block to copy `len` bytes into: the current one if it has the room, else
    /// the current one again if none of its copies is alive, else the oldest filled
    /// one whose copies are all gone, else a new one.
    fn with_room(&mut self, len: usize) -> &mut BytesMut {
        let fits = self.current.as_mut().is_some_and(|current| {
            current.capacity() - current.len() >= len || current.try_reclaim(BLOCK_SIZE)
        });
        if !fits {
            let next = self.reclaim_oldest();
            if let Some(full) = self.current.replace(next)
                && self.filled.len() < KEPT_BLOCKS
            {
                self.filled.push_back(full);
            }
        }
        self.current.get_or_insert_with(BytesMut::new)
    }

    /// The oldest kept block if none of its copies is alive, else a new block (the
    /// oldest goes to the back, so that one copy kept for long holds up no other).
    fn reclaim_oldest(&mut self) -> BytesMut {
        if let Some(mut oldest) = self.filled.pop_front() {
            if oldest.try_reclaim(BLOCK_SIZE) {
                return oldest;
            }
            self.filled.push_back(oldest);
        }
        BytesMut::with_capacity(BLOCK_SIZE)
    }
}

/// A copy of a frame above [`MAX_COPY`], in a reused buffer when one fits.
fn copy_large(frame: &[u8]) -> Bytes {
    if frame.len() > MAX_RECYCLED {
        return Bytes::copy_from_slice(frame);
    }
    let len = frame.len();
    // Holds the frame without being more than twice its size.
    let spare = take_own(|b| b.capacity() >= len && b.capacity() / 2 <= len);
    let mut buffer = spare.unwrap_or_else(|| Vec::with_capacity(len));
    buffer.clear();
    buffer.extend_from_slice(frame);
    Bytes::from_owner(Recycled(buffer))
}

/// Takes the first of this thread's spare buffers that `fits` (none while the
/// thread exits or its spares are in use).
fn take_own(fits: impl Fn(&Vec<u8>) -> bool) -> Option<Vec<u8>> {
    SPARE
        .try_with(|spare| take_where(&mut *spare.try_borrow_mut().ok()?, fits))
        .ok()
        .flatten()
}

/// Takes the first spare buffer that `fits`.
fn take_where(spare: &mut Vec<Vec<u8>>, fits: impl Fn(&Vec<u8>) -> bool) -> Option<Vec<u8>> {
    let index = spare.iter().position(fits)?;
    Some(spare.swap_remove(index))
}

/// The buffer of a large copy or of a large frame's body: back to the dropping
/// thread's spares when dropped, else to the shared ones.
struct Recycled(Vec<u8>);

impl AsRef<[u8]> for Recycled {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Recycled {
    fn drop(&mut self) {
        let buffer = std::mem::take(&mut self.0);
        // This thread's spares first, the shared ones when those are full or in use;
        // freed when both are full, or while the thread exits.
        let rest = SPARE
            .try_with(|spare| match spare.try_borrow_mut() {
                Ok(mut spare) => keep(&mut spare, buffer, SPARE_BUFFERS, SPARE_BYTES),
                Err(_) => Some(buffer),
            })
            .ok()
            .flatten();
        if let Some(buffer) = rest
            && let Ok(mut shared) = SHARED_SPARE.lock()
        {
            keep(
                &mut shared,
                buffer,
                SHARED_SPARE_BUFFERS,
                SHARED_SPARE_BYTES,
            );
        }
    }
}

/// Keeps `buffer` in `spare` if that stays within `count` buffers and `bytes`, else
/// hands it back.
fn keep(spare: &mut Vec<Vec<u8>>, buffer: Vec<u8>, count: usize, bytes: usize) -> Option<Vec<u8>> {
    let held: usize = spare.iter().map(Vec::capacity).sum();
    if spare.len() < count && held + buffer.capacity() <= bytes {
        spare.push(buffer);
        return None;
    }
    Some(buffer)
}

/// A buffer for the body of a large frame read from a peer, with room for exactly
/// `len` bytes, so that a read into its spare room never takes bytes past the frame.
/// It is one that a dropped frame or copy of that size left, on this thread or
/// another, when there is one; else a new one, reserved fallibly (a peer declares
/// the size). Hand the filled buffer to [`frame_bytes`] so that it is reused in
/// turn: a frame read on an I/O thread and dropped on the application's then costs
/// no allocation, and none of the allocator's trimming and fresh page faults.
///
/// ```
/// let mut body = monocoque_core::frame_buffer(64 * 1024).unwrap();
/// body.resize(64 * 1024, 7);
/// let frame = monocoque_core::frame_bytes(body);
/// assert_eq!(frame.len(), 64 * 1024);
/// ```
pub fn frame_buffer(len: usize) -> Result<Vec<u8>, TryReserveError> {
    if len <= MAX_RECYCLED
        && let Some(mut buffer) = take_exact(len)
    {
        buffer.clear();
        return Ok(buffer);
    }
    let mut buffer = Vec::new();
    buffer.try_reserve_exact(len)?;
    Ok(buffer)
}

/// A frame's body from [`frame_buffer`] as `Bytes`; its buffer goes back to the
/// spares when its last `Bytes` is dropped (above 256 KiB it is freed).
pub fn frame_bytes(buffer: Vec<u8>) -> Bytes {
    if buffer.capacity() > MAX_RECYCLED {
        return Bytes::from(buffer);
    }
    Bytes::from_owner(Recycled(buffer))
}

/// Takes a spare buffer of exactly `len` bytes' capacity: this thread's, else a
/// shared one.
fn take_exact(len: usize) -> Option<Vec<u8>> {
    let exact = |buffer: &Vec<u8>| buffer.capacity() == len;
    take_own(exact).or_else(|| take_where(&mut *SHARED_SPARE.lock().ok()?, exact))
}

/// The filled blocks this thread keeps.
#[cfg(test)]
fn kept_blocks() -> usize {
    BLOCKS.with(|blocks| blocks.borrow().filled.len())
}

/// The buffers this thread keeps for reuse, and their bytes.
#[cfg(test)]
fn spare_held() -> (usize, usize) {
    SPARE.with(|spare| {
        let spare = spare.borrow();
        (spare.len(), spare.iter().map(Vec::capacity).sum())
    })
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
    fn filled_blocks_are_filled_again_once_their_copies_are_dropped() {
        const PER_BLOCK: usize = BLOCK_SIZE / MAX_COPY;
        let held: Vec<Bytes> = (0..4 * PER_BLOCK).map(|_| copy(&[1u8; MAX_COPY])).collect();
        let blocks: Vec<usize> = held
            .iter()
            .step_by(PER_BLOCK)
            .map(|c| c.as_ptr() as usize)
            .collect();
        drop(held);
        let again: Vec<Bytes> = (0..4 * PER_BLOCK).map(|_| copy(&[2u8; MAX_COPY])).collect();
        for c in &again {
            let at = c.as_ptr() as usize;
            assert!(
                blocks
                    .iter()
                    .any(|&start| (start..start + BLOCK_SIZE).contains(&at)),
                "a copy outside the blocks filled before"
            );
            assert!(c.iter().all(|&b| b == 2));
        }
    }

    #[test]
    fn a_copy_kept_for_long_holds_up_no_other_block() {
        const PER_BLOCK: usize = BLOCK_SIZE / MAX_COPY;
        let mut copies: Vec<Bytes> = (0..3 * PER_BLOCK).map(|_| copy(&[1u8; MAX_COPY])).collect();
        let second = copies[PER_BLOCK].as_ptr() as usize;
        let kept = copies.swap_remove(0);
        drop(copies);
        let again: Vec<Bytes> = (0..3 * PER_BLOCK).map(|_| copy(&[2u8; MAX_COPY])).collect();
        assert!(
            again
                .iter()
                .any(|c| (second..second + BLOCK_SIZE).contains(&(c.as_ptr() as usize))),
            "the second block is filled again while a copy from the first is kept"
        );
        assert!(kept.iter().all(|&b| b == 1));
    }

    #[test]
    fn a_thread_keeps_a_bounded_number_of_filled_blocks() {
        let held: Vec<Bytes> = (0..(KEPT_BLOCKS + 8) * BLOCK_SIZE / MAX_COPY)
            .map(|i| copy(&[i as u8; MAX_COPY]))
            .collect();
        assert_eq!(kept_blocks(), KEPT_BLOCKS);
        for (i, c) in held.iter().enumerate() {
            assert!(c.iter().all(|&b| b == i as u8));
        }
    }

    #[test]
    fn large_frames_get_their_own_allocation() {
        let large = vec![5u8; MAX_COPY + 1];
        assert_eq!(&copy(&large)[..], &large[..]);
        assert!(copy(&[]).is_empty());
        let huge = vec![6u8; MAX_RECYCLED + 1];
        assert_eq!(&copy(&huge)[..], &huge[..]);
    }

    #[test]
    fn a_dropped_large_copy_lends_its_buffer_to_the_next() {
        let first = copy(&[7u8; 64 * 1024]);
        let start = first.as_ptr();
        let clone = first.clone();
        drop(first);
        let second = copy(&[8u8; 64 * 1024]);
        assert_ne!(second.as_ptr(), start, "a live clone keeps the buffer");
        assert_eq!(&clone[..], &[7u8; 64 * 1024][..]);
        drop(clone);
        let third = copy(&[9u8; 60 * 1024]);
        assert_eq!(third.as_ptr(), start, "the buffer is reused once free");
        assert_eq!(&third[..], &[9u8; 60 * 1024][..]);
        drop(third);
        let small = copy(&[1u8; 3 * 1024]);
        assert_ne!(
            small.as_ptr(),
            start,
            "no buffer over twice the frame's size"
        );
    }

    #[test]
    fn a_thread_keeps_few_spare_buffers() {
        // What its own spares do not keep goes to the shared ones.
        let _serial = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        let copies: Vec<Bytes> = (0..4 * SPARE_BUFFERS)
            .map(|i| copy(&vec![i as u8; 100 * 1024]))
            .collect();
        for (i, c) in copies.iter().enumerate() {
            assert!(c.iter().all(|&b| b == i as u8));
        }
        drop(copies);
        let (buffers, bytes) = spare_held();
        assert!(buffers <= SPARE_BUFFERS, "{buffers} buffers kept");
        assert!(bytes <= SPARE_BYTES, "{bytes} bytes kept");
        assert!(buffers > 0, "some are kept for reuse");
    }

    /// Tests that fill or read the shared spares run one at a time.
    static SHARED: Mutex<()> = Mutex::new(());

    fn shared_held() -> (usize, usize) {
        let shared = SHARED_SPARE.lock().unwrap();
        (shared.len(), shared.iter().map(Vec::capacity).sum())
    }

    fn frames_of(len: usize, count: usize) -> Vec<Bytes> {
        (0..count)
            .map(|i| {
                let mut buffer = frame_buffer(len).unwrap();
                assert_eq!(buffer.capacity(), len, "exactly the room asked");
                buffer.resize(len, i as u8);
                frame_bytes(buffer)
            })
            .collect()
    }

    #[test]
    fn a_frame_dropped_on_another_thread_lends_its_buffer_back() {
        let _serial = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        SHARED_SPARE.lock().unwrap().clear();
        const LEN: usize = 77_777;
        let frames = frames_of(LEN, SPARE_BUFFERS + 4);
        for (i, frame) in frames.iter().enumerate() {
            assert!(frame.iter().all(|&b| b == i as u8));
        }
        let starts: Vec<usize> = frames.iter().map(|f| f.as_ptr() as usize).collect();
        // Dropped on a thread that takes none: past its own spares they are shared.
        std::thread::spawn(move || drop(frames)).join().unwrap();
        assert_eq!(
            shared_held().0,
            4,
            "what the thread's own spares did not keep"
        );
        let again = frame_buffer(LEN).unwrap();
        assert_eq!(shared_held().0, 3, "taken from the shared spares");
        assert!(starts.contains(&(again.as_ptr() as usize)));
        assert!(again.is_empty());
    }

    #[test]
    fn the_shared_spares_stay_bounded() {
        let _serial = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        let frames = frames_of(64 * 1024, 4 * SHARED_SPARE_BUFFERS);
        std::thread::spawn(move || drop(frames)).join().unwrap();
        let (buffers, bytes) = shared_held();
        assert!(buffers <= SHARED_SPARE_BUFFERS, "{buffers} buffers shared");
        assert!(bytes <= SHARED_SPARE_BYTES, "{bytes} bytes shared");
        assert!(buffers > 0, "some are shared for reuse");
    }

    #[test]
    fn a_frame_buffer_is_never_larger_than_asked() {
        drop(copy(&[1u8; 100 * 1024]));
        let buffer = frame_buffer(90 * 1024).unwrap();
        assert_eq!(buffer.capacity(), 90 * 1024);
        let huge = frame_bytes(frame_buffer(MAX_RECYCLED + 1).unwrap());
        assert!(huge.is_empty());
    }
}
