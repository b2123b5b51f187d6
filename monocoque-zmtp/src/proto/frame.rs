//! ZMTP 3 frames (RFC 23 section "Framing"): flags, short and long sizes.
//! (Decoder being written.)

use bytes::{BufMut, BytesMut};

/// Flag bit 0: more frames of this message follow.
pub const FLAG_MORE: u8 = 0x01;
/// Flag bit 1: the size is an 8-octet (long) size.
pub const FLAG_LONG: u8 = 0x02;
/// Flag bit 2: this frame is a command.
pub const FLAG_COMMAND: u8 = 0x04;

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
