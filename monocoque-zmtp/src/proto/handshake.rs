//! The ZMTP handshake with the NULL mechanism (RFC 23, RFC 37), as states named for
//! what they wait for.
//!
//! ```text
//!            send signature + major (11 octets)
//!   ExpectGreeting ── peer's 11 octets ok ──▶ send rest of greeting (53 octets)
//!        │
//!        └─ peer's 64 octets, same mechanism ──▶ send READY ──▶ ExpectReady
//!                                                                  │
//!                                  peer's READY, compatible type ──┘──▶ Done(PeerInfo)
//! ```
//!
//! Each state is consumed by value on a transition, so a stale state cannot be used.

use bytes::{Bytes, BytesMut};
use monocoque_core::SegmentedBuffer;

use crate::proto::command::{Command, Metadata};
use crate::proto::error::ProtocolError;
use crate::proto::frame::Frame;
use crate::proto::greeting::{
    Greeting, GreetingDecoder, MechanismName, OUR_VERSION, SIGNATURE_LEN, Version,
};
use crate::proto::socket_type::SocketType;

/// What the local side announces in its handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalIdentity {
    /// Our socket type.
    pub socket_type: SocketType,
    /// Our routing id (sent as the `Identity` property), if set.
    pub routing_id: Option<Bytes>,
}

impl LocalIdentity {
    /// Checks the local routing id against RFC 23: at most 255 octets, and not starting
    /// with a zero octet (reserved for ids a ROUTER generates).
    pub fn validate(&self) -> Result<(), ProtocolError> {
        match &self.routing_id {
            Some(id) if id.len() > 255 => Err(ProtocolError::InvalidOption(
                "routing id longer than 255 bytes",
            )),
            Some(id) if id.first() == Some(&0) => Err(ProtocolError::InvalidOption(
                "routing id starting with a zero byte",
            )),
            _ => Ok(()),
        }
    }
}

/// What we learned about the peer once the handshake completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// The peer's socket type.
    pub socket_type: SocketType,
    /// The peer's `Identity` property, if it sent a non-empty one.
    pub routing_id: Option<Bytes>,
    /// Every property of the peer's READY.
    pub metadata: Metadata,
    /// The protocol version both sides speak (3.0 or 3.1).
    pub version: Version,
}

/// Validates a peer's READY metadata against our socket type.
pub fn check_peer_ready(
    ours: SocketType,
    metadata: Metadata,
    version: Version,
) -> Result<PeerInfo, ProtocolError> {
    let theirs = metadata
        .socket_type()?
        .ok_or(ProtocolError::MissingSocketType)?;
    if !ours.is_compatible(theirs) {
        return Err(ProtocolError::IncompatibleSocketType { ours, theirs });
    }
    let routing_id = match metadata.identity() {
        None => None,
        Some(id) if id.is_empty() => None,
        // RFC 23: an Identity is 0-255 octets; libzmq reserves a leading zero octet
        // for the ids it generates.
        Some(id) if id.len() > 255 || id[0] == 0 => return Err(ProtocolError::InvalidIdentity),
        Some(id) => Some(id.clone()),
    };
    Ok(PeerInfo {
        socket_type: theirs,
        routing_id,
        metadata,
        version,
    })
}

/// The handshake's state.
#[derive(Debug)]
pub enum Handshake {
    /// Waiting for the peer's greeting; we sent at least our signature.
    ExpectGreeting(ExpectGreeting),
    /// Greetings exchanged, our READY sent; waiting for the peer's READY.
    ExpectReady(ExpectReady),
    /// The handshake completed.
    Done(PeerInfo),
}

impl Handshake {
    /// Starts a handshake: writes the first 11 octets of our greeting to `out`.
    pub fn start(local: LocalIdentity, out: &mut BytesMut) -> Handshake {
        let greeting = Greeting::new(MechanismName::NULL, false).encode();
        out.extend_from_slice(&greeting[..SIGNATURE_LEN]);
        Handshake::ExpectGreeting(ExpectGreeting {
            local,
            decoder: GreetingDecoder::new(),
            sent_rest: false,
        })
    }

    /// Whether the greeting phase is over (input is now read as frames).
    pub fn expects_frames(&self) -> bool {
        !matches!(self, Handshake::ExpectGreeting(_))
    }
}

/// Waiting for the peer's 64-octet greeting.
#[derive(Debug)]
pub struct ExpectGreeting {
    local: LocalIdentity,
    decoder: GreetingDecoder,
    sent_rest: bool,
}

impl ExpectGreeting {
    /// Consumes greeting octets from `input`; writes the rest of our greeting once the
    /// peer's signature is accepted, and our READY once its greeting is complete.
    pub fn handle_input(
        mut self,
        input: &mut SegmentedBuffer,
        out: &mut BytesMut,
    ) -> Result<Handshake, ProtocolError> {
        while self.decoder.greeting().is_none() {
            let Some(segment) = input.front() else {
                break;
            };
            let taken = self.decoder.feed(segment)?;
            input.advance(taken);
        }
        if self.decoder.signature_received() && !self.sent_rest {
            let greeting = Greeting::new(MechanismName::NULL, false).encode();
            out.extend_from_slice(&greeting[SIGNATURE_LEN..]);
            self.sent_rest = true;
        }
        let Some(peer) = self.decoder.greeting() else {
            return Ok(Handshake::ExpectGreeting(self));
        };
        if peer.mechanism != MechanismName::NULL {
            return Err(ProtocolError::MechanismMismatch {
                ours: MechanismName::NULL,
                theirs: peer.mechanism,
            });
        }
        let version = Version::negotiate(OUR_VERSION, peer.version);
        Command::ready(self.local.socket_type, self.local.routing_id.as_deref()).encode(out);
        Ok(Handshake::ExpectReady(ExpectReady {
            local: self.local,
            version,
        }))
    }
}

/// Waiting for the peer's READY command.
#[derive(Debug)]
pub struct ExpectReady {
    local: LocalIdentity,
    version: Version,
}

impl ExpectReady {
    /// The negotiated protocol version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Handles one frame from the peer.
    pub fn handle_frame(self, frame: Frame) -> Result<Handshake, ProtocolError> {
        if !frame.command {
            return Err(ProtocolError::MessageBeforeReady);
        }
        match Command::decode(frame.body)? {
            Command::Ready(metadata) => Ok(Handshake::Done(check_peer_ready(
                self.local.socket_type,
                metadata,
                self.version,
            )?)),
            Command::Error { reason } => Err(ProtocolError::PeerError {
                reason: String::from_utf8_lossy(&reason).into_owned(),
            }),
            other => Err(ProtocolError::UnexpectedCommand {
                name: String::from_utf8_lossy(other.name()).into_owned(),
                during: "during the NULL handshake",
            }),
        }
    }
}
