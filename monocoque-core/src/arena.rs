//! `IoArena`: large pages lent to the kernel for reads, frozen into `Bytes`.
//! (Being written; see the crate docs for the contract.)

use bytes::Bytes;

/// Default page size: 64 KiB.
pub const DEFAULT_PAGE_SIZE: usize = 64 * 1024;

/// Allocates pages and lends regions of them to reads.
#[derive(Debug)]
pub struct IoArena {
    page_size: usize,
}

/// A writable region of an arena page, lent to one read.
#[derive(Debug)]
pub struct ReadRegion {
    data: Vec<u8>,
}

impl IoArena {
    /// Creates an arena whose pages are `page_size` bytes.
    pub fn new(page_size: usize) -> Self {
        Self { page_size }
    }

    /// Lends the writable remainder of the current page.
    pub fn region(&mut self) -> ReadRegion {
        ReadRegion {
            data: Vec::with_capacity(self.page_size),
        }
    }

    /// Freezes the filled part of a region into `Bytes`.
    pub fn freeze(&mut self, region: ReadRegion) -> Bytes {
        region.freeze()
    }
}

impl ReadRegion {
    /// Appends bytes (tests and in-memory drivers).
    pub fn extend_from_slice(&mut self, src: &[u8]) {
        self.data.extend_from_slice(src);
    }

    /// The filled bytes as `Bytes`.
    pub fn freeze(self) -> Bytes {
        Bytes::from(self.data)
    }
}
