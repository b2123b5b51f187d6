//! Errors of the protocol core.
//!
//! One enum, [`ProtocolError`], for everything the sans-IO core can reject. Each variant
//! says *who* was wrong, as rustls does: [`Fault::Malformed`] input that breaks the
//! wire format, a peer that [`Fault::Misbehaved`] within a well-formed stream, an
//! [`Fault::Incompatible`] peer, or the caller [`Fault::Misuse`]-ing the API. The
//! socket layer's error adds [`Fault::Io`].

use crate::proto::greeting::MechanismName;
use crate::proto::socket_type::SocketType;

/// Who was at fault for an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// The bytes break the ZMTP wire format.
    Malformed,
    /// The bytes are well formed but the peer broke the protocol's rules.
    Misbehaved,
    /// The peer is well behaved but cannot talk to us (version, mechanism, socket type).
    Incompatible,
    /// The local caller used the API wrongly.
    Misuse,
    /// The operating system refused or lost a connection (socket layer only).
    Io,
    /// The peer's credentials were refused (a ZAP status other than 200).
    Denied,
}

/// A call the socket's state does not allow now (libzmq's `EFSM`): caller misuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// REQ: a request is still waiting for its reply.
    #[error("REQ must receive the reply before sending another request")]
    RequestPending,
    /// REQ: no request was sent, so there is no reply to receive.
    #[error("REQ must send a request before receiving")]
    NoRequest,
    /// REP: the reply to the last request was not sent yet.
    #[error("REP must send the reply before receiving the next request")]
    ReplyOwed,
    /// REP: no request was received, so there is nothing to reply to.
    #[error("REP must receive a request before sending a reply")]
    NothingToReply,
}

/// Which part of a command was malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CommandField {
    /// The command-name length byte or the name itself.
    Name,
    /// A metadata property name (empty, or running past the command).
    PropertyName,
    /// A metadata property value length or value (running past the command, too long).
    PropertyValue,
    /// The reason of an ERROR command.
    ErrorReason,
    /// The TTL or context of a PING command.
    Ping,
    /// The body of a mechanism command (HELLO, WELCOME, INITIATE, ...).
    MechanismBody,
}

/// An error of the protocol core. Every error closes the session it happened in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[repr(u64)]
pub enum ProtocolError {
    // ---- malformed input ----
    /// The greeting does not start with a ZMTP 3 signature and the peer is not a
    /// recognisable older ZMTP peer either.
    #[error("invalid greeting signature")]
    BadSignature,
    /// A frame had reserved flag bits (7-3) set.
    #[error("reserved frame flag bits set: {flags:#04x}")]
    ReservedFlags {
        /// The flags byte as received.
        flags: u8,
    },
    /// A command frame had the MORE flag set.
    #[error("command frame with the MORE flag set")]
    CommandWithMore,
    /// A frame declared a size larger than the maximum message size.
    #[error("frame of {size} bytes exceeds the maximum message size of {max} bytes")]
    MessageTooLarge {
        /// Declared frame size (or accumulated message size).
        size: u64,
        /// The configured maximum.
        max: u64,
    },
    /// A frame declared a size no allocation can hold (more than `isize::MAX`
    /// bytes), whether or not a maximum message size is set, or a large frame whose
    /// buffer could not be reserved when its header arrived.
    #[error("frame size {size} is more than can be allocated")]
    FrameTooLarge {
        /// Declared frame size.
        size: u64,
    },
    /// A command body did not follow its grammar.
    #[error("malformed {command} command: bad {field:?}")]
    MalformedCommand {
        /// Name of the command (or "command" if the name itself was bad).
        command: &'static str,
        /// Which part was malformed.
        field: CommandField,
    },

    // ---- misbehaving peer ----
    /// The peer sent a command that is not valid at this point of the protocol.
    #[error("unexpected {name} command {during}")]
    UnexpectedCommand {
        /// Name of the command received (lossy UTF-8, at most 255 bytes).
        name: String,
        /// Where in the protocol it arrived ("during the handshake", ...).
        during: &'static str,
    },
    /// The peer sent a message before the handshake completed.
    #[error("message frame received before the handshake completed")]
    MessageBeforeReady,
    /// The peer's READY lacked the Socket-Type property.
    #[error("READY without a Socket-Type property")]
    MissingSocketType,
    /// The peer's Identity property is invalid (longer than 255 bytes or starting with
    /// a zero byte, which is reserved for generated routing ids).
    #[error("invalid Identity property from peer")]
    InvalidIdentity,
    /// The peer sent an ERROR command.
    #[error("peer reported an error: {reason}")]
    PeerError {
        /// The reason text the peer gave (lossy UTF-8).
        reason: String,
    },
    /// The peer did not complete the handshake within `handshake_ivl`.
    #[error("handshake did not complete in time")]
    HandshakeTimeout,
    /// No traffic arrived from the peer within the heartbeat timeout.
    #[error("peer sent nothing within the heartbeat timeout")]
    HeartbeatTimeout,
    /// A security mechanism rejected the peer's credentials or handshake.
    #[error("authentication failed: {reason}")]
    AuthenticationFailed {
        /// Why it failed.
        reason: &'static str,
    },

    /// A CURVE box did not open, a key was of low order, a short nonce was replayed or
    /// out of order, or a cookie or vouch did not check: the connection closes without
    /// an ERROR.
    #[error("CURVE: {reason}")]
    Crypto {
        /// What failed.
        reason: &'static str,
    },
    /// The ZAP handler refused the peer with this status (300, 400 or 500).
    #[error("ZAP handler refused the peer with status {status}")]
    ZapDenied {
        /// The ZAP status code.
        status: u16,
    },

    // ---- incompatible peer ----
    /// The peer speaks a ZMTP revision monocoque does not: 1.0, or the 2.1 draft.
    #[error("peer speaks ZMTP {version}, monocoque needs ZMTP 2.0 or later")]
    UnsupportedVersion {
        /// "1.0" or "2.1".
        version: &'static str,
    },
    /// The peer speaks ZMTP 2.0, which has no security, and this socket has a security
    /// mechanism or a ZAP domain: it is refused, as libzmq refuses it.
    #[error("peer speaks ZMTP 2.0, which has no security, and this socket requires {required}")]
    InsecureVersion {
        /// What the socket requires: "PLAIN", "CURVE" or "a ZAP domain".
        required: &'static str,
    },
    /// The peer's greeting names another security mechanism than ours.
    #[error("security mechanism mismatch: we use {ours}, peer uses {theirs}")]
    MechanismMismatch {
        /// Our mechanism.
        ours: MechanismName,
        /// The peer's mechanism.
        theirs: MechanismName,
    },
    /// The peer's greeting names a mechanism monocoque does not implement.
    #[error("unsupported security mechanism {0}")]
    UnsupportedMechanism(MechanismName),
    /// The peer's socket type cannot talk to ours.
    #[error("socket type {theirs} cannot connect to {ours}")]
    IncompatibleSocketType {
        /// Our socket type.
        ours: SocketType,
        /// The peer's socket type.
        theirs: SocketType,
    },
    /// The peer's Socket-Type property names no known socket type.
    #[error("unknown socket type {0:?}")]
    UnknownSocketType(String),
    /// A ROUTER already has a peer with the routing id this peer announced (without
    /// `ROUTER_HANDOVER` the newcomer is refused, as in libzmq).
    #[error("routing id {0:?} is already in use by another peer")]
    RoutingIdInUse(bytes::Bytes),
    /// A PAIR socket already has its one peer; a second is refused.
    #[error("the PAIR socket already has a peer")]
    PairAlreadyConnected,

    // ---- API misuse ----
    /// The caller tried to send before the handshake completed.
    #[error("cannot send before the handshake completed")]
    NotReady,
    /// The caller tried to use a session that already failed or closed.
    #[error("session is closed")]
    Closed,
    /// A message with no frames cannot be sent.
    #[error("cannot send a message with no frames")]
    EmptyMessage,
    /// A local option is out of range (an Identity of more than 255 bytes or starting
    /// with a zero byte, a PING context over 16 bytes, ...).
    #[error("invalid option: {0}")]
    InvalidOption(&'static str),
    /// The call is not allowed in the pattern's current state.
    #[error(transparent)]
    InvalidState(StateError),
    /// A mechanism needs a ZAP handler and there is none (PLAIN always, NULL and CURVE
    /// with `ZMQ_ZAP_ENFORCE_DOMAIN`).
    #[error("no ZAP handler to authenticate the peer")]
    ZapUnavailable,
    /// The ZAP handler's reply broke RFC 27.
    #[error("malformed ZAP reply: {0}")]
    ZapMalformed(crate::proto::zap::ZapError),
    /// A routing state was told twice that the same peer arrived.
    #[error("peer is already attached")]
    AlreadyAttached,
}

impl ProtocolError {
    /// Who was at fault.
    pub fn fault(&self) -> Fault {
        use ProtocolError::*;
        match self {
            BadSignature
            | ReservedFlags { .. }
            | CommandWithMore
            | MessageTooLarge { .. }
            | FrameTooLarge { .. }
            | MalformedCommand { .. } => Fault::Malformed,
            UnexpectedCommand { .. }
            | MessageBeforeReady
            | MissingSocketType
            | InvalidIdentity
            | PeerError { .. }
            | HandshakeTimeout
            | HeartbeatTimeout
            | AuthenticationFailed { .. }
            | Crypto { .. } => Fault::Misbehaved,
            ZapDenied { .. } => Fault::Denied,
            UnsupportedVersion { .. }
            | InsecureVersion { .. }
            | MechanismMismatch { .. }
            | UnsupportedMechanism(_)
            | IncompatibleSocketType { .. }
            | UnknownSocketType(_)
            | PairAlreadyConnected
            | RoutingIdInUse(_) => Fault::Incompatible,
            NotReady | Closed | EmptyMessage | InvalidOption(_) | InvalidState(_)
            | AlreadyAttached | ZapUnavailable | ZapMalformed(_) => Fault::Misuse,
        }
    }

    /// The reason to put in an ERROR command sent to the peer, if this error warrants one.
    ///
    /// ZMTP lets a peer explain a failed handshake with an ERROR command; timeouts and
    /// local misuse send none.
    pub fn error_reason(&self) -> Option<String> {
        match self.fault() {
            Fault::Misuse | Fault::Io => None,
            Fault::Denied => match self {
                Self::ZapDenied { status } if *status != 300 => Some(status.to_string()),
                _ => None,
            },
            _ if matches!(self, Self::HandshakeTimeout | Self::HeartbeatTimeout) => None,
            _ if matches!(self, Self::PeerError { .. }) => None,
            _ => {
                let mut reason = self.to_string();
                let mut end = reason.len().min(255);
                while !reason.is_char_boundary(end) {
                    end -= 1;
                }
                reason.truncate(end);
                Some(reason)
            }
        }
    }
}
