//! The ZMTP handshake (RFC 23, RFC 37): the greeting, then the security mechanism's
//! commands, as states named for what they wait for.
//!
//! ```text
//!            send signature + major (11 octets)
//!   ExpectGreeting ── peer's 11 octets ok ──▶ send rest of greeting (53 octets)
//!        │
//!        ├─ peer's 64 octets, same mechanism ──▶ Exchanging (NULL: READY <-> READY;
//!        │                                        PLAIN, CURVE: see `mechanism`)
//!        │                                            │
//!        │              peer's properties, compatible type ──▶ Done(PeerInfo)
//!        │
//!        └─ revision 1 (ZMTP 2.0, NULL only): send our socket type and identity
//!           frame ──▶ ExpectIdentity ── peer's identity frame ──▶ Done(PeerInfo)
//! ```
//!
//! Each state is consumed by value on a transition, so a stale state cannot be used.

use bytes::{Bytes, BytesMut};
use monocoque_core::SegmentedBuffer;

use crate::proto::command::Metadata;
use crate::proto::error::ProtocolError;
use crate::proto::frame::Frame;
use crate::proto::greeting::{
    Greeting, GreetingDecoder, OUR_VERSION, PeerGreeting, SIGNATURE_LEN, Version,
};
use crate::proto::mechanism::{Established, Exchange, Local, Security, Step};
use crate::proto::socket_type::SocketType;
use crate::proto::zap::{ZapAnswer, ZapRequest};

/// What the local side announces in its handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalIdentity {
    /// Our socket type.
    pub socket_type: SocketType,
    /// Our routing id (sent as the `Identity` property), if set.
    pub routing_id: Option<Bytes>,
}

/// The local side of a handshake: who we are and how we secure the connection.
#[derive(Debug, Clone)]
pub struct LocalSide {
    /// Our socket type and routing id.
    pub identity: LocalIdentity,
    /// The mechanism and our role in it.
    pub security: Security,
    /// `ZMQ_ZAP_DOMAIN` (empty when unset).
    pub zap_domain: Bytes,
    /// `ZMQ_ZAP_ENFORCE_DOMAIN`.
    pub zap_enforce: bool,
}

impl LocalSide {
    /// Why a ZMTP 2.0 peer, which has no security, must be refused, if it must.
    fn refuses_v2(&self) -> Option<&'static str> {
        match &self.security {
            Security::Null if self.zap_domain.is_empty() => None,
            Security::Null => Some("a ZAP domain"),
            Security::PlainClient { .. } | Security::PlainServer => Some("PLAIN"),
            #[cfg(feature = "curve")]
            Security::CurveClient { .. } | Security::CurveServer { .. } => Some("CURVE"),
        }
    }

    fn mechanism_local(&self) -> Local {
        let identity = self.identity.routing_id.as_deref();
        Local {
            metadata: Metadata::for_socket(self.identity.socket_type, identity),
            routing_id: self.identity.routing_id.clone().unwrap_or_default(),
            zap_domain: self.zap_domain.clone(),
            zap_enforce: self.zap_enforce,
        }
    }
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
    /// The user id a ZAP handler gave the peer (its `User-Id` property).
    pub user_id: Option<Bytes>,
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
        user_id: None,
    })
}

/// The handshake's state.
#[derive(Debug)]
pub enum Handshake {
    /// Waiting for the peer's greeting; we sent at least our signature.
    ExpectGreeting(ExpectGreeting),
    /// Greetings exchanged; the mechanism's commands are under way.
    Exchanging(Exchanging),
    /// A ZMTP 2.0 peer's greeting arrived; its identity frame comes next.
    ExpectIdentity(ExpectIdentity),
    /// The handshake completed.
    Done(Completed),
}

/// A completed handshake: the peer, and for CURVE the cipher of every later frame.
#[derive(Debug)]
pub struct Completed {
    /// What we learned about the peer.
    pub peer: PeerInfo,
    #[cfg(feature = "curve")]
    pub(crate) cipher: Option<crate::proto::mechanism::curve::Cipher>,
}

impl Handshake {
    /// Starts a handshake: writes the first 11 octets of our greeting to `out`.
    pub fn start(local: LocalSide, out: &mut BytesMut) -> Handshake {
        let greeting = our_greeting(&local);
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

fn our_greeting(local: &LocalSide) -> [u8; crate::proto::greeting::GREETING_LEN] {
    Greeting::new(local.security.name(), local.security.is_server()).encode()
}

/// Waiting for the peer's 64-octet greeting.
#[derive(Debug)]
pub struct ExpectGreeting {
    local: LocalSide,
    decoder: GreetingDecoder,
    sent_rest: bool,
}

impl ExpectGreeting {
    /// Consumes greeting octets from `input`; writes the rest of our greeting once the
    /// peer's signature is accepted, and the mechanism's first command once its
    /// greeting is complete. A ZAP request the mechanism makes at once is returned.
    pub fn handle_input(
        mut self,
        input: &mut SegmentedBuffer,
        out: &mut BytesMut,
    ) -> Result<(Handshake, Option<ZapRequest>), ProtocolError> {
        while self.decoder.peer_greeting().is_none() {
            let Some(segment) = input.front() else {
                break;
            };
            let taken = self.decoder.feed(segment)?;
            input.advance(taken);
        }
        if self.decoder.signature_received() && !self.sent_rest {
            self.send_rest(out)?;
        }
        match self.decoder.peer_greeting() {
            None => Ok((Handshake::ExpectGreeting(self), None)),
            Some(PeerGreeting::V2 { socket_type }) => {
                let ours = self.local.identity.socket_type;
                let expect = ExpectIdentity::new(ours, socket_type)?;
                Ok((Handshake::ExpectIdentity(expect), None))
            }
            Some(PeerGreeting::V3(peer)) => self.start_exchange(peer, out),
        }
    }

    /// Sends the rest of our greeting once the peer's revision is known: to a ZMTP 2.0
    /// peer our socket type's number and our identity frame (RFC 15), to a 3.x peer
    /// the 53 octets after the major version.
    fn send_rest(&mut self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        self.sent_rest = true;
        if !self.decoder.is_v2() {
            out.extend_from_slice(&our_greeting(&self.local)[SIGNATURE_LEN..]);
            return Ok(());
        }
        if let Some(required) = self.local.refuses_v2() {
            return Err(ProtocolError::InsecureVersion { required });
        }
        out.extend_from_slice(&[self.local.identity.socket_type.code()]);
        let identity = self
            .local
            .identity
            .routing_id
            .as_deref()
            .unwrap_or_default();
        crate::proto::frame::put_frame(out, false, false, identity);
        Ok(())
    }

    /// Starts the mechanism's exchange with a ZMTP 3.x peer.
    fn start_exchange(
        self,
        peer: Greeting,
        out: &mut BytesMut,
    ) -> Result<(Handshake, Option<ZapRequest>), ProtocolError> {
        // The as-server bit is never checked: libzmq sends 0 and ignores it, and our
        // role comes from our own options.
        let ours = self.local.security.name();
        if peer.mechanism != ours {
            return Err(ProtocolError::MechanismMismatch {
                ours,
                theirs: peer.mechanism,
            });
        }
        let version = Version::negotiate(OUR_VERSION, peer.version);
        let (exchange, step) =
            Exchange::start(&self.local.security, self.local.mechanism_local(), out)?;
        let exchanging = Exchanging {
            socket_type: self.local.identity.socket_type,
            version,
            exchange,
        };
        exchanging.step(step)
    }
}

/// A ZMTP 2.0 peer greeted us; its first frame is its identity (RFC 15), which a
/// ROUTER uses as its routing id as a 3.x peer's `Identity` property.
#[derive(Debug)]
pub struct ExpectIdentity {
    peer_type: SocketType,
}

impl ExpectIdentity {
    /// Checks the socket type a ZMTP 2.0 greeting names against ours.
    fn new(ours: SocketType, code: u8) -> Result<ExpectIdentity, ProtocolError> {
        let peer_type = SocketType::from_code(code)
            .ok_or_else(|| ProtocolError::UnknownSocketType(format!("number {code}")))?;
        if !ours.is_compatible(peer_type) {
            return Err(ProtocolError::IncompatibleSocketType {
                ours,
                theirs: peer_type,
            });
        }
        Ok(ExpectIdentity { peer_type })
    }

    /// Takes the peer's identity frame and completes the handshake. Its properties are
    /// those a 3.x peer would have sent: `Socket-Type`, and `Identity` when not empty.
    pub fn handle_frame(self, frame: Frame) -> Result<Handshake, ProtocolError> {
        if frame.command {
            return Err(ProtocolError::ReservedFlags {
                flags: crate::proto::frame::FLAG_COMMAND,
            });
        }
        if frame.more || frame.body.len() > 255 || frame.body.first() == Some(&0) {
            return Err(ProtocolError::InvalidIdentity);
        }
        let identity = (!frame.body.is_empty()).then_some(frame.body);
        let peer = PeerInfo {
            socket_type: self.peer_type,
            metadata: Metadata::for_socket(self.peer_type, identity.as_deref()),
            routing_id: identity,
            version: Version::V2_0,
            user_id: None,
        };
        Ok(Handshake::Done(Completed {
            peer,
            #[cfg(feature = "curve")]
            cipher: None,
        }))
    }
}

/// The mechanism's commands are under way.
#[derive(Debug)]
pub struct Exchanging {
    socket_type: SocketType,
    version: Version,
    exchange: Exchange,
}

impl Exchanging {
    /// The negotiated protocol version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Whether a ZAP decision is awaited (input waits meanwhile).
    pub fn waits_for_zap(&self) -> bool {
        self.exchange.waits_for_zap()
    }

    /// Handles one frame from the peer.
    pub fn handle_frame(
        mut self,
        frame: Frame,
        out: &mut BytesMut,
    ) -> Result<(Handshake, Option<ZapRequest>), ProtocolError> {
        if !frame.command {
            return Err(ProtocolError::MessageBeforeReady);
        }
        let step = self.exchange.handle_command(frame.body, out)?;
        self.step(step)
    }

    /// Goes on with a ZAP decision.
    pub fn handle_zap(
        mut self,
        answer: ZapAnswer,
        out: &mut BytesMut,
    ) -> Result<(Handshake, Option<ZapRequest>), ProtocolError> {
        let step = self.exchange.handle_zap(answer, out)?;
        self.step(step)
    }

    fn step(self, step: Step) -> Result<(Handshake, Option<ZapRequest>), ProtocolError> {
        match step {
            Step::Continue => Ok((Handshake::Exchanging(self), None)),
            Step::Authenticate(request) => Ok((Handshake::Exchanging(self), Some(request))),
            Step::Done(established) => Ok((Handshake::Done(self.complete(established)?), None)),
        }
    }

    fn complete(&self, established: Established) -> Result<Completed, ProtocolError> {
        let mut peer = check_peer_ready(self.socket_type, established.metadata, self.version)?;
        peer.user_id = established.user_id;
        Ok(Completed {
            peer,
            #[cfg(feature = "curve")]
            cipher: established.cipher,
        })
    }
}
