//! The socket layer's error: what `bind`, `connect`, `send` and `recv` return.

use crate::endpoint::EndpointError;
use crate::proto::error::ProtocolError;
use crate::proto::socket_type::SocketType;

/// An error of a socket operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operating system refused an operation (bind on a used port, ...).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A protocol rule was broken (for the caller: a routing id out of range, ...).
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
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
    InvalidState(&'static str),
    /// A ROUTER with `router_mandatory` has no peer with that routing id (libzmq's
    /// `EHOSTUNREACH`).
    #[error("no peer with routing id {0:?}")]
    HostUnreachable(bytes::Bytes),
    /// A message with no frames (or a ROUTER message with no routing-id frame).
    #[error("message has no frames to send")]
    EmptyMessage,
    /// `unbind` or `disconnect` of an endpoint the socket does not have.
    #[error("endpoint {0} is not bound or connected")]
    UnknownEndpoint(String),
    /// The socket was closed.
    #[error("socket is closed")]
    Closed,
}

/// Shorthand for results of socket operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;
