//! monocoque: a pure-Rust ZeroMQ (ZMTP 3.x) implementation on compio.
//!
//! This facade re-exports the public API of the workspace's crates.
#![deny(missing_docs)]

pub use monocoque_core as core;
pub use monocoque_zmtp::proto;
