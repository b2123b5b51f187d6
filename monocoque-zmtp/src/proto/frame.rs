//! ZMTP 3 frames (RFC 23 "Framing"): a flags octet, a short (1-octet) or long
//! (8-octet, network order) size, then the body.
//!
//! [`FrameDecoder`] takes frames off a [`SegmentedBuffer`]: `Ok(None)` means "need more
//! bytes"; the declared size is checked against the maximum message size *before*
//! anything is buffered for it; bodies are taken with `split_to`, without copying when
//! they lie in one read. A large body (from [`DIRECT_BODY_MIN`]) gets a buffer of its
//! own, which a driver fills by reading straight into it
//! ([`FrameDecoder::lend_body`]).

use bytes::{BufMut, Bytes, BytesMut};
use monocoque_core::SegmentedBuffer;

use crate::proto::error::ProtocolError;

/// Flag bit 0: more frames of this message follow.
pub const FLAG_MORE: u8 = 0x01;
/// Flag bit 1: the size is an 8-octet (long) size.
pub const FLAG_LONG: u8 = 0x02;
/// Flag bit 2: this frame is a command.
pub const FLAG_COMMAND: u8 = 0x04;

/// Flag bits 7-3, which RFC 23 reserves: "bits 7-3 are reserved for future use and
/// MUST be zero".
pub const RESERVED_FLAGS: u8 = 0xF8;

/// Length of the longest frame header: flags plus an 8-octet size.
pub const MAX_HEADER_LEN: usize = 9;

/// Length of the header of a frame with a `len`-byte body.
pub const fn header_len(len: usize) -> usize {
    if len > 255 { 9 } else { 2 }
}

/// Appends a frame header for a body of `len` bytes.
///
/// The short form (one size octet) is used up to 255 bytes, as RFC 23 asks.
pub fn put_header(out: &mut BytesMut, more: bool, command: bool, len: usize) {
    let mut flags = 0;
    if more {
        flags |= FLAG_MORE;
    }
    if command {
        flags |= FLAG_COMMAND;
    }
    if len > 255 {
        out.put_u8(flags | FLAG_LONG);
        out.put_u64(len as u64);
    } else {
        out.put_u8(flags);
        out.put_u8(len as u8);
    }
}

/// One decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// More frames of the same message follow.
    pub more: bool,
    /// This is a command frame.
    pub command: bool,
    /// The frame body.
    pub body: Bytes,
}

/// A parsed header waiting for its body.
#[derive(Debug, Clone, Copy)]
struct PendingHeader {
    more: bool,
    command: bool,
    size: usize,
}

/// Frames of at least this many bytes get a buffer of their own, reserved (fallibly)
/// when the header arrives. What already arrived is moved into it, the read pages it
/// came in are released at once, and a driver reads the rest of the body straight
/// into it ([`FrameDecoder::lend_body`]): a large message costs its own size in
/// memory, not twice that, and its bytes are not copied out of read pages. A frame
/// that lies whole in the first read segment is still taken without a copy.
pub const DIRECT_BODY_MIN: usize = 32 * 1024;

/// Decodes frames from a [`SegmentedBuffer`].
///
/// ```
/// use bytes::Bytes;
/// use monocoque_core::SegmentedBuffer;
/// use monocoque_zmtp::proto::frame::FrameDecoder;
///
/// let mut input = SegmentedBuffer::new();
/// input.push(Bytes::from_static(&[0x01, 0x00, 0x00, 0x05, b'h', b'e']));
/// let mut decoder = FrameDecoder::new(None);
/// let first = decoder.decode(&mut input).unwrap().unwrap();
/// assert!(first.more && first.body.is_empty());
/// assert!(decoder.decode(&mut input).unwrap().is_none()); // body incomplete
/// input.push(Bytes::from_static(b"llo"));
/// let second = decoder.decode(&mut input).unwrap().unwrap();
/// assert_eq!(&second.body[..], b"hello");
/// ```
#[derive(Debug, Clone, Default)]
pub struct FrameDecoder {
    max_size: Option<u64>,
    pending: Option<PendingHeader>,
    /// The body of a large pending frame, filled as its bytes arrive.
    body: Option<Vec<u8>>,
    /// That body is lent to a read ([`lend_body`](Self::lend_body)).
    lent: bool,
    /// The last frame decoded had a body of its own: large frames are coming.
    large: bool,
}

impl FrameDecoder {
    /// A decoder that refuses frames larger than `max_size` bytes (`None`: unlimited, as
    /// libzmq's default `ZMQ_MAXMSGSIZE` of -1).
    pub fn new(max_size: Option<u64>) -> Self {
        FrameDecoder {
            max_size,
            pending: None,
            body: None,
            lent: false,
            large: false,
        }
    }

    /// The configured maximum frame size.
    pub fn max_size(&self) -> Option<u64> {
        self.max_size
    }

    /// Changes the maximum frame size for the frames still to come.
    pub fn set_max_size(&mut self, max_size: Option<u64>) {
        self.max_size = max_size;
    }

    /// Takes the next frame off `input`, or returns `Ok(None)` when it has not fully
    /// arrived. An error leaves the decoder unusable: the connection must be closed.
    pub fn decode(&mut self, input: &mut SegmentedBuffer) -> Result<Option<Frame>, ProtocolError> {
        let header = match self.pending {
            Some(header) => header,
            None => {
                if let Some(frame) = self.decode_short_in_front(input) {
                    self.large = false;
                    return Ok(Some(frame));
                }
                match self.decode_header(input)? {
                    Some(header) => header,
                    None => return Ok(None),
                }
            }
        };
        if header.size >= DIRECT_BODY_MIN && !self.whole_in_front(header.size, input) {
            return self.gather_body(header, input);
        }
        if input.len() < header.size {
            self.pending = Some(header);
            return Ok(None);
        }
        self.pending = None;
        self.large = header.size >= DIRECT_BODY_MIN;
        Ok(Some(Frame {
            more: header.more,
            command: header.command,
            body: input.split_to(header.size),
        }))
    }

    /// Whether a body of `size` bytes, not yet started, lies whole in the first segment
    /// (then it is sliced off without a copy).
    fn whole_in_front(&self, size: usize, input: &SegmentedBuffer) -> bool {
        self.body.is_none() && input.front().is_some_and(|front| front.len() >= size)
    }

    /// Moves a large frame's bytes into its own buffer as they arrive. The buffer is
    /// reserved when the header arrives; when that fails (no memory for the declared
    /// size) the frame is [`ProtocolError::FrameTooLarge`] and only this peer is lost.
    fn gather_body(
        &mut self,
        header: PendingHeader,
        input: &mut SegmentedBuffer,
    ) -> Result<Option<Frame>, ProtocolError> {
        if self.lent {
            self.pending = Some(header);
            return Ok(None);
        }
        let body = match &mut self.body {
            Some(body) => body,
            None => {
                let body = monocoque_core::frame_buffer(header.size).map_err(|_| {
                    ProtocolError::FrameTooLarge {
                        size: header.size as u64,
                    }
                })?;
                self.body.insert(body)
            }
        };
        while body.len() < header.size {
            let Some(segment) = input.front() else {
                break;
            };
            let take = segment.len().min(header.size - body.len());
            body.extend_from_slice(&segment[..take]);
            input.advance(take);
        }
        if body.len() < header.size {
            self.pending = Some(header);
            return Ok(None);
        }
        self.pending = None;
        self.large = true;
        let body = self.body.take().unwrap_or_default();
        Ok(Some(Frame {
            more: header.more,
            command: header.command,
            body: monocoque_core::frame_bytes(body),
        }))
    }

    /// Lends the buffer of a large frame still waiting for its body, so that a read
    /// can fill its spare capacity (exactly the bytes the frame still needs) without
    /// going through read pages, with the size the body must reach. Give it back
    /// with [`return_body`](Self::return_body) before decoding again; until then the
    /// frame waits.
    pub fn lend_body(&mut self) -> Option<(Vec<u8>, usize)> {
        let size = self.pending?.size;
        if self.lent || self.body.as_ref().is_none_or(|body| body.len() >= size) {
            return None;
        }
        self.lent = true;
        Some((self.body.take()?, size))
    }

    /// Takes back the buffer [`lend_body`](Self::lend_body) lent, with the bytes a
    /// read appended. A read into all of its spare capacity may have taken bytes
    /// past the frame (the allocator can reserve more than asked): those are returned,
    /// to be decoded as the input that follows.
    pub fn return_body(&mut self, mut body: Vec<u8>) -> Option<Bytes> {
        let size = self.pending.map_or(0, |header| header.size);
        self.lent = false;
        let past = (body.len() > size).then(|| Bytes::from(body.split_off(size)));
        self.body = Some(body);
        past
    }

    /// Whether the last frame decoded was large: a driver then reads little into its
    /// read pages, so that the next large body goes mostly straight into its own
    /// buffer.
    pub fn expects_large(&self) -> bool {
        self.large
    }

    /// The common case in one step: a short, well-formed frame lying whole in the
    /// first segment. `None` sends everything else down the general path, which also
    /// reports the errors.
    fn decode_short_in_front(&self, input: &mut SegmentedBuffer) -> Option<Frame> {
        let &[flags, size] = input.peek(2)? else {
            return None;
        };
        let more = flags & FLAG_MORE != 0;
        let command = flags & FLAG_COMMAND != 0;
        if flags & (RESERVED_FLAGS | FLAG_LONG) != 0 || (more && command) {
            return None;
        }
        if self.max_size.is_some_and(|max| u64::from(size) > max) {
            return None;
        }
        let body = input.split_front(2, usize::from(size))?;
        Some(Frame {
            more,
            command,
            body,
        })
    }

    fn decode_header(
        &mut self,
        input: &mut SegmentedBuffer,
    ) -> Result<Option<PendingHeader>, ProtocolError> {
        let Some(flags) = input.get(0) else {
            return Ok(None);
        };
        if flags & RESERVED_FLAGS != 0 {
            return Err(ProtocolError::ReservedFlags { flags });
        }
        let more = flags & FLAG_MORE != 0;
        let command = flags & FLAG_COMMAND != 0;
        // RFC 37: "A command frame MUST NOT have the MORE flag set".
        if command && more {
            return Err(ProtocolError::CommandWithMore);
        }
        let (header_len, size) = if flags & FLAG_LONG != 0 {
            let mut raw = [0u8; MAX_HEADER_LEN];
            if !input.copy_prefix(&mut raw) {
                return Ok(None);
            }
            let mut size = [0u8; 8];
            size.copy_from_slice(&raw[1..]);
            (MAX_HEADER_LEN, u64::from_be_bytes(size))
        } else {
            match input.get(1) {
                Some(size) => (2, u64::from(size)),
                None => return Ok(None),
            }
        };
        if let Some(max) = self.max_size
            && size > max
        {
            return Err(ProtocolError::MessageTooLarge { size, max });
        }
        // No Rust allocation can hold more than isize::MAX bytes: a peer declaring more
        // (2^63, 2^64-1) would otherwise stream into memory until it gave up. libzmq
        // closes such a connection at once, when allocating the declared size fails.
        let size = usize::try_from(size)
            .ok()
            .filter(|&size| isize::try_from(size).is_ok())
            .ok_or(ProtocolError::FrameTooLarge { size })?;
        input.advance(header_len);
        Ok(Some(PendingHeader {
            more,
            command,
            size,
        }))
    }
}

/// Appends one frame (header and body) to `out`.
pub fn put_frame(out: &mut BytesMut, more: bool, command: bool, body: &[u8]) {
    out.reserve(header_len(body.len()) + body.len());
    put_header(out, more, command, body.len());
    out.extend_from_slice(body);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_bodies_are_gathered_whatever_the_split_and_release_the_input() {
        let size = DIRECT_BODY_MIN + 12_345;
        let body: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let mut wire = BytesMut::new();
        put_frame(&mut wire, true, false, &body);
        put_frame(&mut wire, false, false, b"tail");
        for piece in [1_000, 65_536, 100_003] {
            let mut input = SegmentedBuffer::new();
            let mut decoder = FrameDecoder::new(None);
            let mut frames = Vec::new();
            for chunk in wire.chunks(piece) {
                input.push(Bytes::copy_from_slice(chunk));
                while let Some(frame) = decoder.decode(&mut input).unwrap() {
                    frames.push(frame);
                }
                // Nothing of the large body waits in the input.
                assert!(input.len() < piece + 16, "input held {}", input.len());
            }
            assert_eq!(frames.len(), 2);
            assert!(frames[0].more);
            assert_eq!(&frames[0].body[..], &body[..]);
            assert_eq!(&frames[1].body[..], b"tail");
        }
    }

    #[test]
    fn a_lent_body_is_filled_by_its_reader_and_the_frame_waits_for_it() {
        let body: Vec<u8> = (0..DIRECT_BODY_MIN * 2).map(|i| (i % 253) as u8).collect();
        let mut wire = BytesMut::new();
        put_frame(&mut wire, false, false, &body);
        put_frame(&mut wire, false, false, b"next");
        let (head, rest) = wire.split_at(1_000);
        let mut input = SegmentedBuffer::new();
        input.push(Bytes::copy_from_slice(head));
        let mut decoder = FrameDecoder::new(None);
        assert!(!decoder.expects_large());
        assert_eq!(decoder.decode(&mut input).unwrap(), None);
        assert!(
            input.is_empty(),
            "what arrived moved into the body's buffer"
        );
        let (mut lent, size) = decoder.lend_body().expect("a body waits for its bytes");
        assert_eq!(size, body.len());
        assert_eq!(&lent[..], &body[..lent.len()]);
        assert_eq!(decoder.lend_body(), None, "lent once");
        // While it is lent, bytes that arrive otherwise are not taken.
        let (direct, after) = rest.split_at(size - lent.len());
        input.push(Bytes::copy_from_slice(after));
        assert_eq!(decoder.decode(&mut input).unwrap(), None);
        assert_eq!(input.len(), after.len());
        // The reader appends part of the rest, then the rest.
        lent.extend_from_slice(&direct[..10]);
        assert_eq!(decoder.return_body(lent), None);
        let (mut lent, _) = decoder.lend_body().expect("still short of its size");
        // The rest and, as a read into more capacity than asked would, 3 bytes past it.
        lent.extend_from_slice(&direct[10..]);
        lent.extend_from_slice(&after[..3]);
        let past = decoder.return_body(lent).expect("bytes past the frame");
        assert_eq!(&past[..], &after[..3]);
        let mut input = SegmentedBuffer::new();
        input.push(past);
        input.push(Bytes::copy_from_slice(&after[3..]));
        let frame = decoder.decode(&mut input).unwrap().expect("complete");
        assert_eq!(&frame.body[..], &body[..]);
        assert!(decoder.expects_large());
        let next = decoder
            .decode(&mut input)
            .unwrap()
            .expect("the frame after it");
        assert_eq!(&next.body[..], b"next");
        assert!(!decoder.expects_large());
    }

    #[test]
    fn a_large_frame_whole_in_one_segment_is_not_copied() {
        let body = vec![7u8; DIRECT_BODY_MIN];
        let mut wire = BytesMut::new();
        put_frame(&mut wire, false, false, &body);
        let wire = wire.freeze();
        let mut input = SegmentedBuffer::new();
        input.push(wire.clone());
        let frame = FrameDecoder::new(None).decode(&mut input).unwrap().unwrap();
        assert_eq!(
            frame.body.as_ptr(),
            wire[9..].as_ptr(),
            "a slice of the read"
        );
    }

    #[test]
    fn a_body_that_cannot_be_reserved_fails_that_frame() {
        // 2^50 bytes is below isize::MAX but no machine here can reserve it.
        let mut wire = vec![0x02];
        wire.extend_from_slice(&(1u64 << 50).to_be_bytes());
        let mut input = SegmentedBuffer::new();
        input.push(Bytes::from(wire));
        let err = FrameDecoder::new(None).decode(&mut input).unwrap_err();
        assert_eq!(err, ProtocolError::FrameTooLarge { size: 1 << 50 });
    }

    fn decode_all(bytes: &[u8], max: Option<u64>) -> Result<Vec<Frame>, ProtocolError> {
        let mut input = SegmentedBuffer::new();
        input.push(Bytes::copy_from_slice(bytes));
        let mut d = FrameDecoder::new(max);
        let mut frames = Vec::new();
        while let Some(f) = d.decode(&mut input)? {
            frames.push(f);
        }
        assert!(input.is_empty(), "trailing bytes left");
        Ok(frames)
    }

    #[test]
    fn rfc_short_and_long_frames() {
        // A short final message frame "ABC", a short command frame of 1 byte, a long
        // message frame with MORE.
        let mut bytes = vec![0x00, 0x03, b'A', b'B', b'C', 0x04, 0x01, b'X'];
        bytes.extend_from_slice(&[0x03, 0, 0, 0, 0, 0, 0, 0x01, 0x00]);
        bytes.extend_from_slice(&[7u8; 256]);
        let frames = decode_all(&bytes, None).unwrap();
        assert_eq!(frames.len(), 3);
        assert_eq!((frames[0].more, frames[0].command), (false, false));
        assert_eq!(&frames[0].body[..], b"ABC");
        assert_eq!((frames[1].more, frames[1].command), (false, true));
        assert_eq!((frames[2].more, frames[2].command), (true, false));
        assert_eq!(frames[2].body.len(), 256);
    }

    #[test]
    fn encoder_picks_short_and_long_forms() {
        let mut out = BytesMut::new();
        put_frame(&mut out, true, false, &[1u8; 255]);
        assert_eq!(&out[..2], &[0x01, 0xFF]);
        assert_eq!(out.len(), 2 + 255);
        let mut out = BytesMut::new();
        put_frame(&mut out, false, true, &[1u8; 256]);
        assert_eq!(&out[..9], &[0x06, 0, 0, 0, 0, 0, 0, 1, 0]);
        let mut out = BytesMut::new();
        put_frame(&mut out, false, false, b"");
        assert_eq!(&out[..], &[0x00, 0x00]);
    }

    #[test]
    fn round_trip_every_size_class() {
        for len in [0usize, 1, 254, 255, 256, 1000, 70_000] {
            for (more, command) in [(false, false), (true, false), (false, true)] {
                let body: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let mut out = BytesMut::new();
                put_frame(&mut out, more, command, &body);
                assert_eq!(out.len(), header_len(len) + len);
                let frames = decode_all(&out, None).unwrap();
                assert_eq!(
                    frames,
                    vec![Frame {
                        more,
                        command,
                        body: Bytes::from(body.clone())
                    }]
                );
            }
        }
    }

    #[test]
    fn every_split_point() {
        let mut stream = BytesMut::new();
        put_frame(&mut stream, true, false, b"");
        put_frame(&mut stream, true, false, b"routing");
        put_frame(&mut stream, false, false, &[9u8; 300]);
        put_frame(&mut stream, false, true, b"\x04PING\x00\x00");
        let expected = decode_all(&stream, None).unwrap();
        for cut in 0..=stream.len() {
            let mut input = SegmentedBuffer::new();
            let mut d = FrameDecoder::new(None);
            let mut got = Vec::new();
            input.push(Bytes::copy_from_slice(&stream[..cut]));
            while let Some(f) = d.decode(&mut input).unwrap() {
                got.push(f);
            }
            input.push(Bytes::copy_from_slice(&stream[cut..]));
            while let Some(f) = d.decode(&mut input).unwrap() {
                got.push(f);
            }
            assert_eq!(got, expected, "cut at {cut}");
        }
        // One byte at a time.
        let mut input = SegmentedBuffer::new();
        let mut d = FrameDecoder::new(None);
        let mut got = Vec::new();
        for b in stream.iter() {
            input.push(Bytes::copy_from_slice(&[*b]));
            while let Some(f) = d.decode(&mut input).unwrap() {
                got.push(f);
            }
        }
        assert_eq!(got, expected);
    }

    #[test]
    fn body_in_one_read_is_not_copied() {
        let mut out = BytesMut::new();
        put_frame(&mut out, false, false, b"payload");
        let read = out.freeze();
        let mut input = SegmentedBuffer::new();
        input.push(read.clone());
        let f = FrameDecoder::new(None).decode(&mut input).unwrap().unwrap();
        assert_eq!(f.body.as_ptr(), read[2..].as_ptr());
    }

    #[test]
    fn reserved_flag_bits_are_rejected() {
        for bit in 3..8 {
            let flags = 1u8 << bit;
            assert_eq!(
                decode_all(&[flags, 0], None),
                Err(ProtocolError::ReservedFlags { flags })
            );
        }
    }

    #[test]
    fn command_with_more_is_rejected() {
        assert_eq!(
            decode_all(&[0x05, 0], None),
            Err(ProtocolError::CommandWithMore)
        );
    }

    #[test]
    fn oversized_declared_sizes_fail_before_the_body_arrives() {
        let max = 1024u64;
        for size in [max + 1, 1 << 63, u64::MAX] {
            let mut header = vec![0x02];
            header.extend_from_slice(&size.to_be_bytes());
            // Only the header arrived: the error comes now, nothing is buffered.
            let mut input = SegmentedBuffer::new();
            input.push(Bytes::from(header));
            let err = FrameDecoder::new(Some(max)).decode(&mut input).unwrap_err();
            assert_eq!(err, ProtocolError::MessageTooLarge { size, max });
        }
        // Short frames count too.
        assert_eq!(
            decode_all(&[0x00, 11], Some(10)),
            Err(ProtocolError::MessageTooLarge { size: 11, max: 10 })
        );
        // At the limit is fine.
        assert_eq!(decode_all(&[0x00, 1, b'x'], Some(1)).unwrap().len(), 1);
    }

    #[test]
    fn sizes_no_allocation_can_hold_are_refused_without_a_limit() {
        let over = isize::MAX as u64 + 1;
        for size in [over, 1u64 << 63, u64::MAX - 8, u64::MAX] {
            let mut header = vec![0x02];
            header.extend_from_slice(&size.to_be_bytes());
            let mut input = SegmentedBuffer::new();
            input.push(Bytes::from(header));
            let mut d = FrameDecoder::new(None);
            assert_eq!(
                d.decode(&mut input),
                Err(ProtocolError::FrameTooLarge { size }),
                "{size}"
            );
        }
        // The largest size an allocation may have passes the header check, but its
        // buffer cannot be reserved (as libzmq's allocation of it fails): refused too.
        let mut header = vec![0x02];
        header.extend_from_slice(&(isize::MAX as u64).to_be_bytes());
        let mut input = SegmentedBuffer::new();
        input.push(Bytes::from(header));
        assert_eq!(
            FrameDecoder::new(None).decode(&mut input),
            Err(ProtocolError::FrameTooLarge {
                size: isize::MAX as u64
            })
        );
    }

    #[test]
    fn huge_sizes_without_a_limit_never_panic() {
        for size in [1u64 << 63, u64::MAX, u64::MAX - 8] {
            let mut header = vec![0x02];
            header.extend_from_slice(&size.to_be_bytes());
            let mut input = SegmentedBuffer::new();
            input.push(Bytes::from(header));
            input.push(Bytes::from_static(b"a few body bytes"));
            let mut d = FrameDecoder::new(None);
            match d.decode(&mut input) {
                // On 64-bit targets the size fits usize: the decoder just waits.
                Ok(None) => assert_eq!(input.len(), 16),
                Err(ProtocolError::FrameTooLarge { size: s }) => assert_eq!(s, size),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}
