//! ZMTP 3.x for monocoque.
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod proto;
