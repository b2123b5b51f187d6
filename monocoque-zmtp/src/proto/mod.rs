//! The sans-IO protocol core: pure state machines fed with bytes.
//!
//! Nothing here performs IO or reads the clock: bytes come in through
//! [`session::Session::handle_input`], bytes to write come out of
//! [`session::Session::poll_transmit`], and time is an argument.

pub mod auth;
pub mod command;
pub mod error;
pub mod frame;
pub mod greeting;
pub mod handshake;
pub mod mechanism;
pub mod message;
pub mod pattern;
pub mod session;
pub mod socket_type;
pub mod z85;
pub mod zap;
