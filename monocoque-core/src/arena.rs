//! `IoArena`: large pages lent to the kernel for reads, frozen into `Bytes`.
//!
//! # Ownership of page bytes
//!
//! Every byte of a page is, at any time, in exactly one of three states:
//!
//! 1. **free**: at or past the arena's write offset and not lent; only the arena may
//!    hand it out;
//! 2. **lent**: inside the capacity of exactly one live [`ReadRegion`], which alone may
//!    write it (through `&mut ReadRegion`);
//! 3. **frozen**: inside a `Bytes` returned by a freeze, read-only from then on.
//!
//! [`IoArena::region`] moves the free remainder of the current page to *lent* (the
//! arena's offset jumps to the end of the page while the region is out).
//! [`IoArena::freeze`] moves the filled prefix of that region to *frozen* and gives the
//! unfilled tail back to *free*. A page goes back to all-*free* only when the arena
//! holds the sole reference to it (`Arc::get_mut` succeeds), i.e. no region and no
//! frozen slice of it is alive. These disjointness rules are what the `unsafe` blocks
//! below rely on.

use std::collections::VecDeque;
use std::fmt;
use std::ptr::NonNull;
use std::sync::Arc;

use bytes::Bytes;

/// Default page size: 64 KiB.
pub const DEFAULT_PAGE_SIZE: usize = 64 * 1024;

/// Smallest page size [`IoArena::new`] accepts; smaller requests are rounded up.
const MIN_PAGE_SIZE: usize = 64;

/// How many retired pages (left behind while slices of them were alive) the arena
/// keeps for reuse. Extra ones are released to the allocator once their slices drop.
const MAX_RETIRED: usize = 4;

/// One fixed-size, zero-initialised allocation.
///
/// The bytes are reached only through the raw pointer, never through a reference to
/// the whole page, so a lent range may be written while frozen ranges of the same page
/// are read elsewhere.
struct Page {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: `Page` owns its allocation like a `Box<[u8]>`. It never reads or writes the
// bytes itself; all access goes through `ReadRegion` (exclusive, via `&mut`) and
// `PageSlice` (shared, read-only) over ranges kept disjoint by `IoArena` (see the
// module docs), so sharing and sending it across threads cannot race.
unsafe impl Send for Page {}
// SAFETY: see the `Send` impl above.
unsafe impl Sync for Page {}

impl Page {
    fn new(len: usize) -> Self {
        let boxed: Box<[u8]> = vec![0u8; len].into_boxed_slice();
        // Leaked here, freed in `Drop` by `Box::from_raw` of the same pointer and length.
        let ptr = NonNull::from(Box::leak(boxed)).cast::<u8>();
        Self { ptr, len }
    }

    /// Pointer to byte `offset` of the page.
    ///
    /// # Safety
    /// `offset <= self.len`.
    unsafe fn at(&self, offset: usize) -> *mut u8 {
        debug_assert!(offset <= self.len);
        // SAFETY: the caller keeps `offset` within the allocation (or one past its end).
        unsafe { self.ptr.as_ptr().add(offset) }
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        let raw = std::ptr::slice_from_raw_parts_mut(self.ptr.as_ptr(), self.len);
        // SAFETY: `ptr`/`len` came from `Box::leak` of a `Box<[u8]>` of this length in
        // `Page::new`, and this is the only place that frees it. No region or frozen
        // slice is left: each holds an `Arc<Page>`, and this is the last one dropping.
        drop(unsafe { Box::from_raw(raw) });
    }
}

impl fmt::Debug for Page {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Page")
            .field("ptr", &self.ptr)
            .field("len", &self.len)
            .finish()
    }
}

/// The owner behind a frozen `Bytes`: keeps the page alive and names the frozen range.
///
/// Invariant: `start + len <= page.len`, asserted by [`PageSlice::new`], the only
/// constructor; the fields never change afterwards.
struct PageSlice {
    page: Arc<Page>,
    start: usize,
    len: usize,
}

impl PageSlice {
    /// Freezes `start..start + len` of `page`.
    ///
    /// Panics if the range is not inside the page. A `ReadRegion` upholds that already
    /// (see its invariants); the check keeps [`AsRef::as_ref`] sound on its own.
    fn new(page: Arc<Page>, start: usize, len: usize) -> Self {
        assert!(
            start.checked_add(len).is_some_and(|end| end <= page.len),
            "frozen range {start}+{len} outside a page of {} bytes",
            page.len
        );
        Self { page, start, len }
    }
}

impl AsRef<[u8]> for PageSlice {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: in bounds: `start + len <= page.len`, asserted in `PageSlice::new`.
        // Not written meanwhile: the range was the filled prefix of a `ReadRegion`,
        // which was consumed to make this slice; while it lives the arena lends only
        // ranges after it, and restarts the page from the top only once `Arc::get_mut`
        // shows that no `PageSlice` or region holds the page. Initialised: that filled
        // prefix was written by `extend_from_slice` or declared initialised by the
        // caller of the unsafe `SetLen::set_len` (see the `MaybeUninit` caveat on
        // `IoBufMut::as_uninit` below).
        unsafe { std::slice::from_raw_parts(self.page.at(self.start), self.len) }
    }
}

/// Allocates pages and lends regions of them to reads.
///
/// Each [`region`](Self::region) lends the writable remainder of the current page to one
/// read; [`freeze`](Self::freeze) turns the bytes the read filled into a [`Bytes`] that
/// shares the page (no copy) and lets the next region continue right after them. When
/// the remainder of a page gets small the arena moves on to another page, reusing a
/// retired page once every slice of it has been dropped, so a steady stream of reads
/// whose slices are consumed promptly runs on a handful of pages.
///
/// ```
/// use monocoque_core::IoArena;
///
/// let mut arena = IoArena::new(4096);
///
/// let mut region = arena.region();
/// region.extend_from_slice(b"hello ");
/// let first = arena.freeze(region);
///
/// let mut region = arena.region();
/// region.extend_from_slice(b"world");
/// let second = arena.freeze(region);
///
/// assert_eq!(&first[..], b"hello ");
/// assert_eq!(&second[..], b"world");
/// // Both slices live in the same page, back to back.
/// assert_eq!(second.as_ptr(), first.as_ptr().wrapping_add(first.len()));
/// assert_eq!(arena.pages_allocated(), 1);
/// ```
#[derive(Debug)]
pub struct IoArena {
    page_size: usize,
    /// The page regions are lent from.
    current: Option<Arc<Page>>,
    /// First free byte of `current`; `page_size` while a region is lent.
    offset: usize,
    /// Start of the region currently lent from `current`, if one is out.
    lent_start: Option<usize>,
    /// Pages left behind while slices of them were alive, oldest first.
    retired: VecDeque<Arc<Page>>,
    pages_allocated: usize,
    pages_reused: usize,
}

impl Default for IoArena {
    /// An arena with [`DEFAULT_PAGE_SIZE`] pages.
    fn default() -> Self {
        Self::new(DEFAULT_PAGE_SIZE)
    }
}

impl IoArena {
    /// Creates an arena whose pages are `page_size` bytes (at least 64).
    ///
    /// No memory is allocated until the first [`region`](Self::region).
    pub fn new(page_size: usize) -> Self {
        Self {
            page_size: page_size.max(MIN_PAGE_SIZE),
            current: None,
            offset: 0,
            lent_start: None,
            retired: VecDeque::new(),
            pages_allocated: 0,
            pages_reused: 0,
        }
    }

    /// The size of each page in bytes.
    pub fn page_size(&self) -> usize {
        self.page_size
    }

    /// Total number of pages ever allocated by this arena.
    pub fn pages_allocated(&self) -> usize {
        self.pages_allocated
    }

    /// Total number of times a page was recycled instead of allocating a new one.
    pub fn pages_reused(&self) -> usize {
        self.pages_reused
    }

    /// Number of retired pages currently held for reuse (at most 4).
    ///
    /// A retired page is one the arena moved away from while slices of it (or an
    /// unfrozen region) were still alive; it becomes reusable once they are all dropped.
    pub fn pages_retired(&self) -> usize {
        self.retired.len()
    }

    /// Below this many free bytes the current page is abandoned for another one.
    fn threshold(&self) -> usize {
        (self.page_size / 8).max(1)
    }

    /// Lends the writable remainder of the current page to one read.
    ///
    /// If less than an eighth of the page is left, the arena first moves to another
    /// page: the current one if every slice of it has been dropped, else a retired page
    /// in the same state, else a newly allocated page.
    ///
    /// Hand the filled region back with [`freeze`](Self::freeze). Until then the
    /// remainder stays reserved for this region: a second `region()` call starts on
    /// another page, and a region dropped without being frozen forfeits its space.
    pub fn region(&mut self) -> ReadRegion {
        let page = self.page_with_room();
        let start = self.offset;
        let capacity = self.page_size - start;
        // The whole remainder is lent: nothing else may be handed out from this page
        // until the region comes back through `freeze`.
        self.offset = self.page_size;
        self.lent_start = Some(start);
        ReadRegion {
            page,
            start,
            capacity,
            len: 0,
        }
    }

    /// Like [`region`](Self::region), but lends at most `max` bytes (at least one):
    /// the rest of the page stays for the regions after it.
    pub fn region_at_most(&mut self, max: usize) -> ReadRegion {
        let mut region = self.region();
        region.capacity = region.capacity.min(max.max(1));
        region
    }

    /// Freezes the filled part of `region` into [`Bytes`] that share the page memory.
    ///
    /// When `region` is the one most recently lent by this arena, the unfilled tail is
    /// given back, so the next [`region`](Self::region) continues right after the frozen
    /// bytes on the same page. An empty region yields an empty `Bytes` and gives all of
    /// its space back. A region from another arena (or an older region) is frozen too,
    /// but its unused space is not recovered.
    pub fn freeze(&mut self, region: ReadRegion) -> Bytes {
        let returns_to_current = self.lent_start == Some(region.start)
            && self
                .current
                .as_ref()
                .is_some_and(|page| Arc::ptr_eq(page, &region.page));
        if returns_to_current {
            // The region is the outstanding lend of the current page: everything past
            // its filled bytes becomes free again.
            self.offset = region.start + region.len;
            self.lent_start = None;
        }
        region.freeze()
    }

    /// Returns the current page, first switching pages if its free remainder is below
    /// the threshold.
    fn page_with_room(&mut self) -> Arc<Page> {
        let threshold = self.threshold();
        if let Some(page) = self.current.as_mut() {
            if self.page_size - self.offset >= threshold {
                return Arc::clone(page);
            }
            if Arc::get_mut(page).is_some() {
                // Nothing else references the page: restart it from the top.
                self.offset = 0;
                self.lent_start = None;
                self.pages_reused += 1;
                return Arc::clone(page);
            }
        }
        if let Some(old) = self.current.take() {
            self.retire(old);
        }
        let page = self.take_free_retired().unwrap_or_else(|| {
            self.pages_allocated += 1;
            Arc::new(Page::new(self.page_size))
        });
        self.offset = 0;
        self.lent_start = None;
        self.current = Some(Arc::clone(&page));
        page
    }

    /// Keeps `page` for later reuse, dropping the oldest retired page if over the bound.
    fn retire(&mut self, page: Arc<Page>) {
        self.retired.push_back(page);
        while self.retired.len() > MAX_RETIRED {
            // Its memory goes back to the allocator once its last slice drops.
            self.retired.pop_front();
        }
    }

    /// Removes and returns a retired page nobody else references, if there is one.
    fn take_free_retired(&mut self) -> Option<Arc<Page>> {
        // `Arc::get_mut` synchronises with the release of every other reference, so the
        // readers of old slices are done with the bytes before we write them again.
        let index = self
            .retired
            .iter_mut()
            .position(|page| Arc::get_mut(page).is_some())?;
        let page = self.retired.remove(index)?;
        self.pages_reused += 1;
        Some(page)
    }
}

/// A writable region of an arena page, lent to one read.
///
/// The region is an owned buffer (it keeps its page alive), so it can be moved into a
/// completion-based read and handed back afterwards; with the `compio` feature it
/// implements compio's `IoBuf`, `IoBufMut` and `SetLen`. Bytes are filled from the start
/// of the region; [`len`](Self::len) counts the filled ones and
/// [`capacity`](Self::capacity) is the most it can hold.
//
// Invariants, which the `unsafe` blocks below rely on:
// - `start + capacity <= page.len`: `IoArena::region` lends `start..page_size` of a page
//   of `page_size` bytes, and neither field changes afterwards;
// - `len <= capacity`: `extend_from_slice` writes at most `remaining()` bytes and
//   `set_len` clamps;
// - `start..start + capacity` is lent to this region alone (module docs).
pub struct ReadRegion {
    page: Arc<Page>,
    start: usize,
    capacity: usize,
    len: usize,
}

impl fmt::Debug for ReadRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadRegion")
            .field("start", &self.start)
            .field("len", &self.len)
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl ReadRegion {
    /// Number of filled bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no bytes have been filled yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Total number of bytes the region can hold (filled or not).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Number of bytes that can still be filled.
    pub fn remaining(&self) -> usize {
        self.capacity - self.len
    }

    /// The filled bytes.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: in bounds: `start + len <= start + capacity <= page.len` (struct
        // invariants). The range is lent to this region only, and `&self` excludes
        // writes through `&mut self` while the slice lives. Initialised: the filled
        // prefix was written by `extend_from_slice` or declared initialised by the
        // caller of the unsafe `SetLen::set_len` (see the `MaybeUninit` caveat on
        // `IoBufMut::as_uninit`).
        unsafe { std::slice::from_raw_parts(self.page.at(self.start), self.len) }
    }

    /// Appends as much of `src` as fits and returns how many bytes were written.
    ///
    /// Meant for tests and in-memory drivers; real reads fill the region through the
    /// compio buffer traits.
    pub fn extend_from_slice(&mut self, src: &[u8]) -> usize {
        let n = src.len().min(self.remaining());
        // SAFETY: `n <= remaining()`, so `start + len + n <= start + capacity <= page.len`
        // (struct invariants). The destination is lent to this region alone and we hold
        // it by `&mut self`, so nothing else reads or writes it. It cannot overlap `src`:
        // the only shared views of page bytes are frozen ranges, disjoint from lent ones,
        // and `as_slice` borrows of this region, which cannot coexist with `&mut self`.
        unsafe {
            std::ptr::copy_nonoverlapping(src.as_ptr(), self.page.at(self.start + self.len), n);
        }
        self.len += n;
        n
    }

    /// Freezes the filled bytes into [`Bytes`] sharing the page, without telling the
    /// arena.
    ///
    /// The arena keeps the rest of the region reserved, so its next region starts on
    /// another page. Prefer [`IoArena::freeze`], which lets the arena continue right
    /// after the frozen bytes.
    pub fn freeze(self) -> Bytes {
        if self.len == 0 {
            return Bytes::new();
        }
        Bytes::from_owner(PageSlice::new(self.page, self.start, self.len))
    }
}

#[cfg(feature = "compio")]
mod compio_impls {
    use std::mem::MaybeUninit;

    use compio_buf::{IoBuf, IoBufMut, SetLen};

    use super::ReadRegion;

    impl IoBuf for ReadRegion {
        fn as_init(&self) -> &[u8] {
            self.as_slice()
        }
    }

    impl SetLen for ReadRegion {
        unsafe fn set_len(&mut self, len: usize) {
            debug_assert!(
                len <= self.capacity,
                "set_len({len}) beyond region capacity {}",
                self.capacity
            );
            // The contract already forbids `len > capacity`; clamp anyway so a broken
            // caller can never make `as_slice` reach past the lent range.
            self.len = len.min(self.capacity);
        }
    }

    impl IoBufMut for ReadRegion {
        fn as_uninit(&mut self) -> &mut [MaybeUninit<u8>] {
            // SAFETY: in bounds: `start + capacity <= page.len` (struct invariants). The
            // range is lent to this region alone and borrowed mutably here, so the slice
            // is the only access to it while it lives. `MaybeUninit<u8>` has the layout
            // of `u8` and no validity requirement, so viewing the bytes this way is sound.
            //
            // The hazard this inherits from the trait: `as_uninit` is safe and includes
            // the filled prefix, so safe code may store `MaybeUninit::uninit()` into
            // bytes that the safe `as_slice`/`as_init` then read as `u8`. compio's own
            // impls for `Vec<u8>`, `BytesMut` and arrays have the same hole. Callers
            // must only write initialised bytes through this slice (compio's reads do:
            // the kernel writes the bytes, then the unsafe `set_len` promises them
            // initialised); the page being zeroed at allocation does not cover a page
            // reused after such a write.
            unsafe {
                std::slice::from_raw_parts_mut(
                    self.page.at(self.start).cast::<MaybeUninit<u8>>(),
                    self.capacity,
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(arena: &mut IoArena, data: &[u8]) -> Bytes {
        let mut region = arena.region();
        assert_eq!(region.extend_from_slice(data), data.len());
        arena.freeze(region)
    }

    #[test]
    fn regions_and_slices_are_send_and_static() {
        fn assert_send_static<T: Send + 'static>() {}
        assert_send_static::<ReadRegion>();
        assert_send_static::<IoArena>();
    }

    #[test]
    fn page_size_is_clamped_and_defaulted() {
        assert_eq!(IoArena::new(1).page_size(), MIN_PAGE_SIZE);
        assert_eq!(IoArena::new(4096).page_size(), 4096);
        assert_eq!(IoArena::default().page_size(), DEFAULT_PAGE_SIZE);
        assert_eq!(IoArena::default().pages_allocated(), 0);
    }

    #[test]
    fn consecutive_freezes_share_the_page() {
        let mut arena = IoArena::new(1024);
        let region = arena.region();
        assert_eq!(region.capacity(), 1024);
        assert!(region.is_empty());
        let first = {
            let mut region = region;
            region.extend_from_slice(b"abc");
            assert_eq!(region.as_slice(), b"abc");
            assert_eq!(region.len(), 3);
            arena.freeze(region)
        };
        let region = arena.region();
        assert_eq!(region.capacity(), 1024 - 3);
        let second = {
            let mut region = region;
            region.extend_from_slice(b"defgh");
            arena.freeze(region)
        };
        assert_eq!(&first[..], b"abc");
        assert_eq!(&second[..], b"defgh");
        assert_eq!(second.as_ptr(), first.as_ptr().wrapping_add(3), "no copy");
        assert_eq!(arena.pages_allocated(), 1);
    }

    #[test]
    fn extend_truncates_at_capacity() {
        let mut arena = IoArena::new(64);
        let mut region = arena.region();
        assert_eq!(region.extend_from_slice(&[7u8; 60]), 60);
        assert_eq!(region.extend_from_slice(&[8u8; 10]), 4);
        assert_eq!(region.remaining(), 0);
        assert_eq!(region.extend_from_slice(b"x"), 0);
        let bytes = arena.freeze(region);
        assert_eq!(bytes.len(), 64);
        assert_eq!(&bytes[60..], &[8u8; 4]);
    }

    #[test]
    fn zero_length_freeze_gives_space_back() {
        let mut arena = IoArena::new(256);
        let _a = fill(&mut arena, b"0123");
        let region = arena.region();
        let start_cap = region.capacity();
        let empty = arena.freeze(region);
        assert!(empty.is_empty());
        let region = arena.region();
        assert_eq!(
            region.capacity(),
            start_cap,
            "empty freeze returned its space"
        );
        assert_eq!(arena.pages_allocated(), 1);
    }

    #[test]
    fn partial_fills_continue_on_the_same_page() {
        let mut arena = IoArena::new(512);
        let mut kept = Vec::new();
        let mut expected_ptr = None;
        for i in 0..8u8 {
            let data = vec![i; 10 + usize::from(i)];
            let bytes = fill(&mut arena, &data);
            assert_eq!(&bytes[..], &data[..]);
            if let Some(p) = expected_ptr {
                assert_eq!(bytes.as_ptr(), p);
            }
            expected_ptr = Some(bytes.as_ptr().wrapping_add(bytes.len()));
            kept.push((bytes, data));
        }
        assert_eq!(arena.pages_allocated(), 1);
        for (bytes, data) in &kept {
            assert_eq!(&bytes[..], &data[..]);
        }
    }

    #[test]
    fn small_remainder_moves_to_a_new_page() {
        let mut arena = IoArena::new(1024);
        // Leave 1024 - 900 = 124 bytes, below the 128-byte threshold.
        let kept = fill(&mut arena, &[1u8; 900]);
        let region = arena.region();
        assert_eq!(region.capacity(), 1024, "fresh page");
        assert_eq!(arena.pages_allocated(), 2, "old page still referenced");
        drop(region);
        assert_eq!(&kept[..], &[1u8; 900][..]);

        // A remainder exactly at the threshold is still used.
        let mut arena = IoArena::new(1024);
        let _kept = fill(&mut arena, &[1u8; 1024 - 128]);
        assert_eq!(arena.region().capacity(), 128);
        assert_eq!(arena.pages_allocated(), 1);
    }

    #[test]
    fn full_page_is_reused_once_slices_drop() {
        let mut arena = IoArena::new(256);
        let full = fill(&mut arena, &[9u8; 256]);
        let page_ptr = full.as_ptr();
        drop(full);
        let region = arena.region();
        assert_eq!(region.capacity(), 256);
        let again = arena.freeze(region);
        assert!(again.is_empty());
        let bytes = fill(&mut arena, b"fresh");
        assert_eq!(bytes.as_ptr(), page_ptr, "same page reused");
        assert_eq!(arena.pages_allocated(), 1);
        assert_eq!(arena.pages_reused(), 1);
    }

    #[test]
    fn page_with_live_slice_is_not_reused() {
        let mut arena = IoArena::new(256);
        let old = fill(&mut arena, &[0xAA; 256]);
        let new = fill(&mut arena, &[0x55; 256]);
        assert_eq!(arena.pages_allocated(), 2);
        assert_ne!(new.as_ptr(), old.as_ptr());
        assert_eq!(&old[..], &[0xAA; 256][..], "old slice untouched");
        assert_eq!(&new[..], &[0x55; 256][..]);

        // Dropping the first page's slice makes it the next page used.
        let old_ptr = old.as_ptr();
        drop(old);
        let reused = fill(&mut arena, &[0x11; 256]);
        assert_eq!(reused.as_ptr(), old_ptr);
        assert_eq!(arena.pages_allocated(), 2);
        assert_eq!(&new[..], &[0x55; 256][..]);
    }

    #[test]
    fn slices_outlive_the_arena() {
        let mut arena = IoArena::new(128);
        let a = fill(&mut arena, b"still");
        let b = fill(&mut arena, b" here");
        let region = arena.region();
        drop(arena);
        assert_eq!(&a[..], b"still");
        assert_eq!(&b[..], b" here");
        let c = region.freeze();
        assert!(c.is_empty());
        let d = b.slice(1..);
        drop(b);
        assert_eq!(&d[..], b"here");
    }

    #[test]
    fn second_region_while_one_is_out_does_not_overlap() {
        let mut arena = IoArena::new(256);
        let mut first = arena.region();
        let mut second = arena.region();
        first.extend_from_slice(&[1u8; 256]);
        second.extend_from_slice(&[2u8; 256]);
        let first = arena.freeze(first);
        let second = arena.freeze(second);
        assert_eq!(&first[..], &[1u8; 256][..]);
        assert_eq!(&second[..], &[2u8; 256][..]);
        assert_eq!(arena.pages_allocated(), 2);
    }

    #[test]
    fn region_freeze_without_the_arena_keeps_data_safe() {
        let mut arena = IoArena::new(256);
        let mut region = arena.region();
        region.extend_from_slice(b"solo");
        let solo = region.freeze();
        let next = fill(&mut arena, &[3u8; 200]);
        assert_eq!(&solo[..], b"solo");
        assert_eq!(&next[..], &[3u8; 200][..]);
    }

    /// Plays a read of up to `len` bytes of `byte`: fills what fits, like the kernel.
    fn read_some(arena: &mut IoArena, byte: u8, len: usize) -> Bytes {
        let mut region = arena.region();
        let n = region.extend_from_slice(&vec![byte; len]);
        assert_eq!(n, len.min(region.capacity()));
        let bytes = arena.freeze(region);
        assert_eq!(bytes.len(), n);
        bytes
    }

    #[test]
    fn memory_stays_bounded() {
        // Slices consumed right away: one page is enough.
        let mut arena = IoArena::new(1024);
        for round in 0..10_000usize {
            let byte = (round % 251) as u8;
            let bytes = read_some(&mut arena, byte, 1 + round % 700);
            assert!(bytes.iter().all(|&b| b == byte));
        }
        assert_eq!(arena.pages_allocated(), 1);

        // Holding a few slices at a time still needs only a few pages.
        let mut arena = IoArena::new(1024);
        let mut window = VecDeque::new();
        for round in 0..10_000usize {
            window.push_back(read_some(&mut arena, round as u8, 100 + round % 400));
            if window.len() > 6 {
                window.pop_front();
            }
            for (age, b) in window.iter().rev().enumerate() {
                assert!(b.iter().all(|&x| x == (round - age) as u8));
            }
        }
        assert!(arena.pages_allocated() <= 6, "{}", arena.pages_allocated());
        assert!(arena.pages_retired() <= MAX_RETIRED);
    }

    #[test]
    fn retired_list_is_bounded() {
        let mut arena = IoArena::new(64);
        let held: Vec<Bytes> = (0..20u8).map(|i| fill(&mut arena, &[i; 64])).collect();
        assert_eq!(arena.pages_allocated(), 20);
        assert!(arena.pages_retired() <= MAX_RETIRED);
        for (i, b) in held.iter().enumerate() {
            assert!(b.iter().all(|&x| usize::from(x) == i));
        }
    }

    #[test]
    fn slices_cross_threads() {
        let mut arena = IoArena::new(256);
        let bytes = fill(&mut arena, b"across");
        let handle = std::thread::spawn(move || bytes.to_vec());
        let back = handle.join().unwrap();
        assert_eq!(back, b"across");
        let mut region = arena.region();
        let handle = std::thread::spawn(move || {
            region.extend_from_slice(b"sent");
            region
        });
        let region = handle.join().unwrap();
        assert_eq!(&arena.freeze(region)[..], b"sent");
    }
}

#[cfg(all(test, feature = "compio"))]
mod compio_tests {
    use std::mem::MaybeUninit;

    use compio_buf::{IntoInner, IoBuf, IoBufMut, SetLen};

    use super::*;

    /// Plays the kernel: writes into the uninitialised tail, then commits the length.
    fn fake_read<B: IoBufMut>(buf: &mut B, data: &[u8]) {
        let filled = (*buf).buf_len();
        let tail = &mut buf.as_uninit()[filled..];
        assert!(tail.len() >= data.len());
        for (slot, &byte) in tail.iter_mut().zip(data) {
            *slot = MaybeUninit::new(byte);
        }
        // SAFETY: the bytes `[filled, filled + data.len())` were just written.
        unsafe { buf.set_len(filled + data.len()) };
    }

    #[test]
    fn reads_through_the_compio_traits() {
        let mut arena = IoArena::new(512);
        let mut region = arena.region();
        assert_eq!(region.buf_capacity(), 512);
        assert_eq!(IoBuf::buf_len(&region), 0);
        fake_read(&mut region, b"hello ");
        fake_read(&mut region, b"world");
        assert_eq!(region.as_init(), b"hello world");
        let first = arena.freeze(region);
        assert_eq!(&first[..], b"hello world");

        let mut region = arena.region();
        assert_eq!(region.buf_capacity(), 512 - 11);
        let ptr = region.buf_mut_ptr();
        // SAFETY: `ptr` points at the region's first byte and the region has room for 3.
        unsafe {
            std::ptr::copy_nonoverlapping(b"abc".as_ptr(), ptr.cast::<u8>(), 3);
            region.set_len(3);
        }
        assert_eq!(region.buf_ptr(), first.as_ptr().wrapping_add(11));
        let second = arena.freeze(region);
        assert_eq!(&second[..], b"abc");
        assert_eq!(&first[..], b"hello world");
    }

    #[test]
    fn slicing_through_compio_keeps_the_region() {
        let mut arena = IoArena::new(128);
        let mut region = arena.region();
        region.extend_from_slice(b"0123456789");
        let slice = region.slice(2..5);
        assert_eq!(slice.as_init(), b"234");
        let region = slice.into_inner();
        assert_eq!(&arena.freeze(region)[..], b"0123456789");
    }
}
