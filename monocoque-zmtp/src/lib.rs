//! ZMTP 3.x for monocoque: a sans-IO protocol core, an engine, and a compio driver.
//!
//! ```text
//!  application
//!      │  socket/   ReqSocket, RouterSocket, ... : bind / connect / send / recv
//!      │     │
//!      │     ├──▶ driver/   the only compio code: accept, connect, reconnect,
//!      │     │              read → Session → Port, Port → Session → write, timers
//!      │     ▼        │
//!      │  engine/  ◀──┘     no IO: per-peer queues and high-water marks, one routing
//!      │                    state per socket type, wake-ups; drivers reach it
//!      │                    through a per-connection Port
//!      │  proto/    sans-IO: greeting, frames, commands, NULL handshake, Session,
//!      │            pattern/ (round robin, subscriptions, REQ/REP/ROUTER rules)
//!  monocoque-core   IoArena, SegmentedBuffer
//! ```
//!
//! Arrows point down only: `proto` imports nothing above it, `engine` only `proto`,
//! `driver` only `engine` and `proto`.
//!
//! Without the default `runtime` feature only `proto`, `engine`, `endpoint`, the
//! options and the error types build, with no compio in the dependency graph.
//!
//! # Driving monocoque from another runtime
//!
//! [`proto::session::Session`] is one connection's whole protocol, with no IO and no
//! clock. A driver calls it in this order, as long as the connection lives:
//!
//! 1. [`Session::new`](proto::session::Session::new) with a
//!    [`SessionConfig`](proto::session::SessionConfig) and the current time; the
//!    greeting is queued at once.
//! 2. Bytes read from the stream go to
//!    [`handle_input`](proto::session::Session::handle_input), with the time.
//! 3. [`poll_event`](proto::session::Session::poll_event) until it returns `None`:
//!    the handshake's completion, messages, subscriptions, and `Closed` with the
//!    error that ended the session.
//! 4. Messages to send go to
//!    [`send_message`](proto::session::Session::send_message) once the handshake
//!    completed.
//! 5. [`poll_transmit`](proto::session::Session::poll_transmit) fills a buffer to
//!    write to the stream.
//! 6. When [`poll_timeout`](proto::session::Session::poll_timeout)'s instant
//!    passes, [`handle_timeout`](proto::session::Session::handle_timeout) (handshake
//!    deadline, heartbeats).
//!
//! ```
//! use std::time::Instant;
//! use bytes::BytesMut;
//! use monocoque_zmtp::proto::session::{Event, Session, SessionConfig};
//! use monocoque_zmtp::proto::socket_type::SocketType;
//!
//! let now = Instant::now();
//! let mut client = Session::new(SessionConfig::new(SocketType::Push), now).unwrap();
//! let mut server = Session::new(SessionConfig::new(SocketType::Pull), now).unwrap();
//! // Two in-memory "streams": whatever one side transmits, the other reads.
//! for _ in 0..3 {
//!     let mut wire = BytesMut::new();
//!     client.poll_transmit(&mut wire);
//!     server.handle_input(wire.freeze(), now);
//!     let mut wire = BytesMut::new();
//!     server.poll_transmit(&mut wire);
//!     client.handle_input(wire.freeze(), now);
//! }
//! while client.poll_event().is_some() {}
//! client.send_message(&"hello".into()).unwrap();
//! let mut wire = BytesMut::new();
//! client.poll_transmit(&mut wire);
//! server.handle_input(wire.freeze(), now);
//! let received = std::iter::from_fn(|| server.poll_event())
//!     .find_map(|event| match event {
//!         Event::Message(message) => Some(message),
//!         _ => None,
//!     });
//! assert_eq!(&received.unwrap()[0][..], b"hello");
//! ```
#![deny(missing_docs)]
// `unsafe` lives in two places: `proto::mechanism::curve::simd`, the call of CURVE's
// XSalsa20 and Poly1305 kernels built for AVX2 and AVX-512, after checking the CPU
// has the feature; and `driver::direct::recv_into`, which counts in the bytes a
// non-blocking `recv` wrote into a buffer's spare capacity.
#![deny(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]
// Without the runtime nothing drives the engine but the tests and fuzz entry points.
#![cfg_attr(not(feature = "runtime"), allow(dead_code))]

pub mod config;
pub mod endpoint;
pub(crate) mod engine;
pub mod error;
#[cfg(any(test, feature = "fuzz"))]
pub mod fuzz;
pub mod proto;

#[cfg(feature = "runtime")]
pub(crate) mod driver;
#[cfg(feature = "runtime")]
pub use driver::runtime;
#[cfg(feature = "runtime")]
pub mod socket;
