//! A queue of `Bytes` segments that a decoder reads across.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

/// A queue of [`Bytes`] segments, read from the front.
///
/// Reads from the network arrive as separate `Bytes` (slices of arena pages); a frame
/// may straddle two or more of them. `SegmentedBuffer` lets a decoder look at the first
/// bytes ([`peek`](Self::peek), [`copy_prefix`](Self::copy_prefix)) and take the first
/// `n` bytes as one `Bytes` ([`split_to`](Self::split_to)): zero-copy when they lie in
/// one segment, a single copy when they straddle segments.
///
/// ```
/// use bytes::Bytes;
/// use monocoque_core::SegmentedBuffer;
///
/// let mut buf = SegmentedBuffer::new();
/// buf.push(Bytes::from_static(b"hel"));
/// buf.push(Bytes::from_static(b"lo!"));
/// let mut first = [0u8; 4];
/// assert!(buf.copy_prefix(&mut first));
/// assert_eq!(&first, b"hell");
/// assert_eq!(&buf.split_to(5)[..], b"hello");
/// assert_eq!(buf.len(), 1);
/// ```
#[derive(Debug, Default, Clone)]
pub struct SegmentedBuffer {
    segments: VecDeque<Bytes>,
    len: usize,
}

impl SegmentedBuffer {
    /// Creates an empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Total number of bytes queued.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no bytes are queued.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of segments queued (empty segments are never stored).
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// Appends a segment at the back. Empty segments are ignored.
    pub fn push(&mut self, segment: Bytes) {
        if !segment.is_empty() {
            self.len += segment.len();
            self.segments.push_back(segment);
        }
    }

    /// The first segment, if any: the bytes that can be read without a copy.
    pub fn front(&self) -> Option<&Bytes> {
        self.segments.front()
    }

    /// The byte at offset `index` from the front, if that many bytes are queued.
    pub fn get(&self, mut index: usize) -> Option<u8> {
        for segment in &self.segments {
            if index < segment.len() {
                return Some(segment[index]);
            }
            index -= segment.len();
        }
        None
    }

    /// The first `n` bytes as one slice if they lie in the first segment.
    ///
    /// Returns `None` when fewer than `n` bytes are queued or they straddle segments;
    /// use [`copy_prefix`](Self::copy_prefix) then.
    pub fn peek(&self, n: usize) -> Option<&[u8]> {
        self.segments
            .front()
            .filter(|s| s.len() >= n)
            .map(|s| &s[..n])
    }

    /// Copies the first `dst.len()` bytes into `dst` without consuming them.
    ///
    /// Returns `false` (and leaves `dst` unspecified) when fewer bytes are queued.
    pub fn copy_prefix(&self, dst: &mut [u8]) -> bool {
        if dst.len() > self.len {
            return false;
        }
        let mut filled = 0;
        for segment in &self.segments {
            if filled == dst.len() {
                break;
            }
            let take = segment.len().min(dst.len() - filled);
            dst[filled..filled + take].copy_from_slice(&segment[..take]);
            filled += take;
        }
        true
    }

    /// Drops the first `n` bytes.
    ///
    /// # Panics
    /// If fewer than `n` bytes are queued (a caller bug, never peer input: callers check
    /// [`len`](Self::len) first).
    pub fn advance(&mut self, mut n: usize) {
        assert!(n <= self.len, "advance past the end of a SegmentedBuffer");
        self.len -= n;
        while n > 0 {
            let Some(front) = self.segments.front_mut() else {
                break;
            };
            if front.len() > n {
                bytes::Buf::advance(front, n);
                return;
            }
            n -= front.len();
            self.segments.pop_front();
        }
    }

    /// Drops the first `skip` bytes and returns the `n` after them, without copying,
    /// when all `skip + n` lie in the first segment; otherwise changes nothing and
    /// returns `None` (use [`advance`](Self::advance) and [`split_to`](Self::split_to)).
    ///
    /// This is a decoder's fast path: a frame header and its body read together.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use monocoque_core::SegmentedBuffer;
    ///
    /// let mut buf = SegmentedBuffer::new();
    /// buf.push(Bytes::from_static(b"\x00\x03abcdef"));
    /// assert_eq!(buf.split_front(2, 3).as_deref(), Some(&b"abc"[..]));
    /// assert_eq!(buf.len(), 3);
    /// assert_eq!(buf.split_front(0, 4), None);
    /// ```
    pub fn split_front(&mut self, skip: usize, n: usize) -> Option<Bytes> {
        let end = skip.checked_add(n)?;
        let front = self.segments.front_mut()?;
        if front.len() < end {
            return None;
        }
        let out = if front.len() == end {
            let mut whole = self.segments.pop_front()?;
            bytes::Buf::advance(&mut whole, skip);
            whole
        } else {
            bytes::Buf::advance(front, skip);
            front.split_to(n)
        };
        self.len -= end;
        Some(out)
    }

    /// Removes and returns the first `n` bytes as one `Bytes`.
    ///
    /// Zero-copy when the range lies in the first segment; otherwise the bytes are
    /// copied once into a new buffer.
    ///
    /// # Panics
    /// If fewer than `n` bytes are queued (a caller bug: check [`len`](Self::len) first).
    pub fn split_to(&mut self, n: usize) -> Bytes {
        assert!(n <= self.len, "split_to past the end of a SegmentedBuffer");
        if n == 0 {
            return Bytes::new();
        }
        let front_len = self.segments.front().map_or(0, Bytes::len);
        if front_len >= n {
            self.len -= n;
            let out = if front_len == n {
                self.segments.pop_front().unwrap_or_default()
            } else {
                self.segments
                    .front_mut()
                    .map(|s| s.split_to(n))
                    .unwrap_or_default()
            };
            return out;
        }
        let mut out = BytesMut::with_capacity(n);
        let mut remaining = n;
        while remaining > 0 {
            let Some(front) = self.segments.front_mut() else {
                break;
            };
            if front.len() <= remaining {
                remaining -= front.len();
                out.extend_from_slice(front);
                self.segments.pop_front();
            } else {
                out.extend_from_slice(&front.split_to(remaining));
                remaining = 0;
            }
        }
        self.len -= n;
        out.freeze()
    }

    /// Drops every queued byte.
    pub fn clear(&mut self) {
        self.segments.clear();
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buffer_of(parts: &[&'static [u8]]) -> SegmentedBuffer {
        let mut buf = SegmentedBuffer::new();
        for part in parts {
            buf.push(Bytes::from_static(part));
        }
        buf
    }

    #[test]
    fn split_front_takes_only_from_the_first_segment() {
        let mut buf = buffer_of(&[b"xxabc", b"def"]);
        assert_eq!(
            buf.split_front(2, 4),
            None,
            "range crosses into the second segment"
        );
        assert_eq!(buf.len(), 8, "a refused split changes nothing");
        assert_eq!(buf.split_front(2, 2).as_deref(), Some(&b"ab"[..]));
        assert_eq!(buf.split_front(0, 1).as_deref(), Some(&b"c"[..]));
        assert_eq!(buf.segment_count(), 1, "an emptied segment is removed");
        assert_eq!(buf.split_front(1, 2).as_deref(), Some(&b"ef"[..]));
        assert!(buf.is_empty());
        assert_eq!(buf.segment_count(), 0);
        assert_eq!(buf.split_front(0, 0), None, "nothing to split from");
    }

    #[test]
    fn empty_segments_are_not_stored() {
        let buf = buffer_of(&[b"", b"ab", b""]);
        assert_eq!(buf.len(), 2);
        assert_eq!(buf.segment_count(), 1);
    }

    #[test]
    fn split_within_one_segment_shares_memory() {
        let mut buf = buffer_of(&[b"hello world"]);
        let base = buf.front().map(|s| s.as_ptr()).unwrap();
        let hello = buf.split_to(5);
        assert_eq!(&hello[..], b"hello");
        assert_eq!(hello.as_ptr(), base, "split inside a segment must not copy");
        assert_eq!(buf.len(), 6);
        let rest = buf.split_to(6);
        assert_eq!(&rest[..], b" world");
        assert_eq!(rest.as_ptr(), base.wrapping_add(5));
        assert!(buf.is_empty());
        assert_eq!(buf.segment_count(), 0);
    }

    #[test]
    fn split_straddling_segments_copies_in_order() {
        let mut buf = buffer_of(&[b"ab", b"cde", b"f", b"gh"]);
        assert_eq!(&buf.split_to(4)[..], b"abcd");
        assert_eq!(buf.len(), 4);
        assert_eq!(&buf.split_to(3)[..], b"efg");
        assert_eq!(&buf.split_to(1)[..], b"h");
        assert!(buf.is_empty());
    }

    #[test]
    fn every_split_point_yields_the_same_bytes() {
        let data: Vec<u8> = (0u8..32).collect();
        for cut_a in 0..=data.len() {
            for cut_b in cut_a..=data.len() {
                let mut buf = SegmentedBuffer::new();
                buf.push(Bytes::copy_from_slice(&data[..cut_a]));
                buf.push(Bytes::copy_from_slice(&data[cut_a..cut_b]));
                buf.push(Bytes::copy_from_slice(&data[cut_b..]));
                for take in [1usize, 3, 7] {
                    let mut b = buf.clone();
                    let mut seen = Vec::new();
                    while b.len() >= take {
                        seen.extend_from_slice(&b.split_to(take));
                    }
                    let rest = b.len();
                    seen.extend_from_slice(&b.split_to(rest));
                    assert_eq!(seen, data, "cuts {cut_a},{cut_b} take {take}");
                }
            }
        }
    }

    #[test]
    fn peek_and_copy_prefix() {
        let buf = buffer_of(&[b"abc", b"def"]);
        assert_eq!(buf.peek(3), Some(&b"abc"[..]));
        assert_eq!(buf.peek(4), None, "peek does not straddle");
        let mut dst = [0u8; 5];
        assert!(buf.copy_prefix(&mut dst));
        assert_eq!(&dst, b"abcde");
        let mut too_long = [0u8; 7];
        assert!(!buf.copy_prefix(&mut too_long));
        assert_eq!(buf.len(), 6, "copying does not consume");
        assert_eq!(buf.get(4), Some(b'e'));
        assert_eq!(buf.get(6), None);
    }

    #[test]
    fn advance_across_segments() {
        let mut buf = buffer_of(&[b"ab", b"cde", b"fg"]);
        buf.advance(3);
        assert_eq!(buf.len(), 4);
        assert_eq!(buf.get(0), Some(b'd'));
        buf.advance(4);
        assert!(buf.is_empty());
        assert_eq!(buf.segment_count(), 0);
    }

    #[test]
    #[should_panic(expected = "past the end")]
    fn split_past_end_is_a_caller_bug() {
        let mut buf = buffer_of(&[b"ab"]);
        let _ = buf.split_to(3);
    }
}
