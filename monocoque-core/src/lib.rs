//! The IO memory layer of monocoque.
//!
//! Two pieces sit between the kernel and the protocol decoder, and one serves the
//! send side:
//!
//! - [`IoArena`] allocates large pages, lends a writable region of a page to a read
//!   (an owned buffer that goes into the kernel, as compio's completion-based IO wants),
//!   and freezes the filled bytes into [`bytes::Bytes`] slices that share the page
//!   without copying. A page is written again only once every slice of it is dropped.
//! - [`SegmentedBuffer`] queues those `Bytes` segments so a decoder can read across
//!   read boundaries: it peeks at and copies out the first bytes, and splits off the
//!   first `n` bytes as one `Bytes`, without copying when they lie in one segment.
//! - [`copy`] copies a small borrowed frame into a block shared with the frames copied
//!   before it, so that sending `&[u8]` or `&str` costs no allocation per message.
//! - [`frame_buffer`] and [`frame_bytes`] give the body of a large frame read from a
//!   peer a buffer that dropped frames left, on any thread.
//!
//! ```
//! use monocoque_core::{IoArena, SegmentedBuffer};
//!
//! let mut arena = IoArena::new(4096);
//! let mut region = arena.region();
//! region.extend_from_slice(b"\x00\x05hello");
//! let filled = arena.freeze(region);
//!
//! let mut buf = SegmentedBuffer::new();
//! buf.push(filled);
//! assert_eq!(buf.len(), 7);
//! let header = buf.split_to(2);
//! assert_eq!(&header[..], b"\x00\x05");
//! assert_eq!(&buf.split_to(5)[..], b"hello");
//! ```
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]
// `unsafe` lives in the arena only, where each block states the invariant it needs.
#![deny(unsafe_code)]

#[allow(unsafe_code)]
mod arena;
mod copies;
mod segmented;

pub use arena::{DEFAULT_PAGE_SIZE, IoArena, ReadRegion};
pub use copies::{copy, frame_buffer, frame_bytes};
pub use segmented::SegmentedBuffer;
