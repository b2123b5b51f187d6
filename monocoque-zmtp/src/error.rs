//! The socket layer's error: what `bind`, `connect`, `send` and `recv` return.
//!
//! Every variant says who was wrong through [`Error::fault`]: the caller (a bad
//! endpoint, an operation the socket type or its state does not allow), the
//! operating system (IO), or, for [`Error::Protocol`], whoever the protocol error
//! names. Errors of one peer's connection never reach `send` or `recv`: that peer
//! is disconnected and the error is counted in `stats()` and kept in
//! `recent_errors()`.

use crate::endpoint::EndpointError;
use crate::proto::error::{Fault, ProtocolError, StateError};
use crate::proto::socket_type::SocketType;

/// An error of a socket operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
#[repr(u64)]
pub enum Error {
    /// The operating system refused an operation (bind on a used port, ...).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A protocol rule was broken by the caller: a message with no frames, a routing
    /// id out of range, ...
    #[error(transparent)]
    Protocol(ProtocolError),
    /// The endpoint string is malformed.
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    /// This socket type does not do that (`recv` on PUSH, `send` on SUB, ...).
    #[error("{socket_type} sockets cannot {operation}")]
    NotSupported {
        /// The socket's type.
        socket_type: SocketType,
        /// What was attempted.
        operation: &'static str,
    },
    /// The call is not allowed in the socket's current state (libzmq's `EFSM`): a REQ
    /// sending twice without receiving, a REP replying before it received.
    #[error("operation not valid in the current state: {0}")]
    InvalidState(StateError),
    /// A ROUTER with `router_mandatory` has no peer with that routing id (libzmq's
    /// `EHOSTUNREACH`).
    #[error("no peer with routing id {0:?}")]
    HostUnreachable(bytes::Bytes),
    /// `unbind` or `disconnect` of an endpoint the socket does not have.
    #[error("endpoint {0} is not bound or connected")]
    UnknownEndpoint(String),
    /// The socket was closed.
    #[error("socket is closed")]
    Closed,
    /// A blocking call's timeout passed first (libzmq's `EAGAIN` after
    /// `ZMQ_SNDTIMEO`/`ZMQ_RCVTIMEO`); nothing was sent or taken.
    #[error("timed out")]
    TimedOut,
}

impl Error {
    /// Who was at fault.
    pub fn fault(&self) -> Fault {
        match self {
            Error::Io(_) => Fault::Io,
            Error::Protocol(err) => err.fault(),
            Error::Endpoint(_)
            | Error::NotSupported { .. }
            | Error::InvalidState(_)
            | Error::UnknownEndpoint(_)
            | Error::Closed => Fault::Misuse,
            // The peer may simply not be connected (yet, or any more).
            Error::HostUnreachable(_) => Fault::Misuse,
            // Nobody was wrong; the caller chose how long to wait.
            Error::TimedOut => Fault::Misuse,
        }
    }
}

/// A state error found by the protocol core is the socket's [`Error::InvalidState`],
/// whichever layer noticed it; anything else is [`Error::Protocol`].
impl From<ProtocolError> for Error {
    fn from(err: ProtocolError) -> Self {
        match err {
            ProtocolError::InvalidState(state) => Error::InvalidState(state),
            other => Error::Protocol(other),
        }
    }
}

/// Shorthand for results of socket operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_names_who_was_wrong() {
        let io = Error::from(std::io::Error::from(std::io::ErrorKind::AddrInUse));
        assert_eq!(io.fault(), Fault::Io);
        let state = Error::from(ProtocolError::InvalidState(StateError::RequestPending));
        assert!(matches!(
            state,
            Error::InvalidState(StateError::RequestPending)
        ));
        assert_eq!(state.fault(), Fault::Misuse);
        let empty = Error::from(ProtocolError::EmptyMessage);
        assert!(matches!(
            empty,
            Error::Protocol(ProtocolError::EmptyMessage)
        ));
        assert_eq!(empty.fault(), Fault::Misuse);
    }
}
