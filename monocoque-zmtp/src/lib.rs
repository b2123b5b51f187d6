//! ZMTP 3.x for monocoque: a sans-IO protocol core and a compio driver.
//!
//! ```text
//!  application
//!      │  socket/   ReqSocket, RouterSocket, ... : bind / connect / send / recv
//!      │            socket/core.rs: per-peer queues, HWM, routing per socket type
//!      │  driver/   the only compio code: accept, connect, reconnect,
//!      │            read → Session → events, queued messages → Session → write
//!      │  proto/    sans-IO: greeting, frames, commands, NULL handshake, Session,
//!      │            pattern/ (round-robin, subscriptions, REQ/REP/ROUTER rules)
//!  monocoque-core   IoArena, SegmentedBuffer
//! ```
//!
//! Without the default `runtime` feature only `proto`, `endpoint` and the error types
//! build, with no compio in the dependency graph.
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod endpoint;
#[doc(hidden)]
pub mod fuzz;
pub mod proto;

#[cfg(feature = "runtime")]
pub mod config;
#[cfg(feature = "runtime")]
pub(crate) mod driver;
#[cfg(feature = "runtime")]
pub mod error;
#[cfg(feature = "runtime")]
pub mod socket;
