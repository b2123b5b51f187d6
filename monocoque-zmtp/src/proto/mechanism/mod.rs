//! Security mechanisms: the command exchange between the greeting and the first
//! message (NULL of RFC 23, PLAIN of RFC 24, CURVE of RFC 25/26).
//!
//! Each mechanism is a state machine fed with the peer's command bodies. It writes its
//! own commands to the output, may stop to ask for a ZAP decision
//! (`Step::Authenticate`, which the session reports as
//! [`Event::Authenticate`](crate::proto::session::Event::Authenticate)), and ends with the peer's metadata and, for CURVE, the
//! cipher every later frame goes through.
//!
//! Who sends what (client on the left):
//!
//! ```text
//!   NULL:   READY         <-> READY
//!   PLAIN:  HELLO          -> (ZAP) WELCOME      INITIATE -> READY
//!   CURVE:  HELLO          -> WELCOME            INITIATE -> (ZAP) READY
//! ```

use std::fmt;

use bytes::{Bytes, BytesMut};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::proto::command::Metadata;
use crate::proto::error::{CommandField, ProtocolError};
use crate::proto::frame;
use crate::proto::greeting::MechanismName;
use crate::proto::zap::{ZapAnswer, ZapReply, ZapRequest, ZapStatus};

#[cfg(feature = "curve")]
pub mod curve;
mod null;
mod plain;

/// A PLAIN password: zeroized on drop, never printed.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Password(Vec<u8>);

impl Password {
    /// A password from its bytes.
    pub fn new(password: impl Into<Vec<u8>>) -> Self {
        Password(password.into())
    }

    /// The password's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// The security mechanism of a connection and the local side's role in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Security {
    /// No security (RFC 23), libzmq's default.
    #[default]
    Null,
    /// PLAIN client: sends a user name and password in clear text.
    PlainClient {
        /// `ZMQ_PLAIN_USERNAME`.
        username: Bytes,
        /// `ZMQ_PLAIN_PASSWORD`.
        password: Password,
    },
    /// PLAIN server (`ZMQ_PLAIN_SERVER`): checks credentials through ZAP.
    PlainServer,
    /// CURVE client: knows the server's public key.
    #[cfg(feature = "curve")]
    CurveClient {
        /// `ZMQ_CURVE_SERVERKEY`.
        server_key: curve::PublicKey,
        /// `ZMQ_CURVE_PUBLICKEY` and `ZMQ_CURVE_SECRETKEY`.
        keys: curve::KeyPair,
    },
    /// CURVE server (`ZMQ_CURVE_SERVER`).
    #[cfg(feature = "curve")]
    CurveServer {
        /// `ZMQ_CURVE_PUBLICKEY` and `ZMQ_CURVE_SECRETKEY`.
        keys: curve::KeyPair,
    },
}

impl Security {
    /// The mechanism's name in the greeting.
    pub fn name(&self) -> MechanismName {
        match self {
            Security::Null => MechanismName::NULL,
            Security::PlainClient { .. } | Security::PlainServer => MechanismName::PLAIN,
            #[cfg(feature = "curve")]
            Security::CurveClient { .. } | Security::CurveServer { .. } => MechanismName::CURVE,
        }
    }

    /// Whether the greeting's as-server bit is set.
    pub fn is_server(&self) -> bool {
        match self {
            Security::Null | Security::PlainClient { .. } => false,
            Security::PlainServer => true,
            #[cfg(feature = "curve")]
            Security::CurveClient { .. } => false,
            #[cfg(feature = "curve")]
            Security::CurveServer { .. } => true,
        }
    }
}

/// What every mechanism needs to know about the local side.
#[derive(Debug, Clone)]
pub(crate) struct Local {
    /// Our READY/INITIATE properties (Socket-Type, Identity).
    pub metadata: Metadata,
    /// Our routing id, for ZAP requests.
    pub routing_id: Bytes,
    /// `ZMQ_ZAP_DOMAIN` (empty when unset).
    pub zap_domain: Bytes,
    /// `ZMQ_ZAP_ENFORCE_DOMAIN`.
    pub zap_enforce: bool,
}

impl Local {
    fn zap_request(&self, mechanism: MechanismName, credentials: Vec<Bytes>) -> ZapRequest {
        ZapRequest::new(
            self.zap_domain.clone(),
            self.routing_id.clone(),
            mechanism,
            credentials,
        )
    }
}

/// What a mechanism did with its input.
#[derive(Debug)]
pub(crate) enum Step {
    /// Waiting for the peer's next command.
    Continue,
    /// Waiting for a ZAP decision about this request.
    Authenticate(ZapRequest),
    /// The exchange is over.
    Done(Established),
}

/// The outcome of a completed exchange.
#[derive(Debug)]
pub(crate) struct Established {
    /// The peer's READY or INITIATE properties.
    pub metadata: Metadata,
    /// The user id a ZAP handler gave the peer.
    pub user_id: Option<Bytes>,
    /// CURVE's cipher for every later frame.
    #[cfg(feature = "curve")]
    pub cipher: Option<curve::Cipher>,
}

impl Established {
    fn plain(metadata: Metadata, user_id: Option<Bytes>) -> Self {
        Established {
            metadata,
            user_id,
            #[cfg(feature = "curve")]
            cipher: None,
        }
    }
}

/// A mechanism's exchange in progress.
#[derive(Debug)]
pub(crate) enum Exchange {
    Null(null::Null),
    PlainClient(plain::Client),
    PlainServer(plain::Server),
    #[cfg(feature = "curve")]
    CurveClient(Box<curve::Client>),
    #[cfg(feature = "curve")]
    CurveServer(Box<curve::Server>),
}

impl Exchange {
    /// Starts the exchange once greetings are exchanged: writes our first command, if
    /// we speak first.
    pub fn start(
        security: &Security,
        local: Local,
        out: &mut BytesMut,
    ) -> Result<(Exchange, Step), ProtocolError> {
        Ok(match security {
            Security::Null => {
                let (null, step) = null::Null::start(local, out);
                (Exchange::Null(null), step)
            }
            Security::PlainClient { username, password } => {
                let client = plain::Client::start(local, username, password, out)?;
                (Exchange::PlainClient(client), Step::Continue)
            }
            Security::PlainServer => (
                Exchange::PlainServer(plain::Server::new(local)),
                Step::Continue,
            ),
            #[cfg(feature = "curve")]
            Security::CurveClient { server_key, keys } => {
                let client = curve::Client::start(local, *server_key, keys.clone(), out)?;
                (Exchange::CurveClient(Box::new(client)), Step::Continue)
            }
            #[cfg(feature = "curve")]
            Security::CurveServer { keys } => (
                Exchange::CurveServer(Box::new(curve::Server::new(local, keys.clone()))),
                Step::Continue,
            ),
        })
    }

    /// Handles the body of one command frame from the peer.
    pub fn handle_command(
        &mut self,
        body: Bytes,
        out: &mut BytesMut,
    ) -> Result<Step, ProtocolError> {
        match self {
            Exchange::Null(m) => m.handle_command(body, out),
            Exchange::PlainClient(m) => m.handle_command(body, out),
            Exchange::PlainServer(m) => m.handle_command(body, out),
            #[cfg(feature = "curve")]
            Exchange::CurveClient(m) => m.handle_command(body, out),
            #[cfg(feature = "curve")]
            Exchange::CurveServer(m) => m.handle_command(body, out),
        }
    }

    /// Goes on with the ZAP decision asked for.
    pub fn handle_zap(
        &mut self,
        answer: ZapAnswer,
        out: &mut BytesMut,
    ) -> Result<Step, ProtocolError> {
        match self {
            Exchange::Null(m) => m.handle_zap(answer, out),
            Exchange::PlainServer(m) => m.handle_zap(answer, out),
            #[cfg(feature = "curve")]
            Exchange::CurveServer(m) => m.handle_zap(answer, out),
            _ => Err(ProtocolError::InvalidOption("no ZAP request is pending")),
        }
    }

    /// Whether the exchange waits for a ZAP decision (input is left unread meanwhile).
    pub fn waits_for_zap(&self) -> bool {
        match self {
            Exchange::Null(m) => m.waits_for_zap(),
            Exchange::PlainServer(m) => m.waits_for_zap(),
            #[cfg(feature = "curve")]
            Exchange::CurveServer(m) => m.waits_for_zap(),
            _ => false,
        }
    }
}

/// What a ZAP answer means for the handshake.
pub(crate) fn zap_verdict(
    answer: ZapAnswer,
    no_handler_accepts: bool,
) -> Result<Option<Bytes>, ProtocolError> {
    let reply: ZapReply = match answer {
        ZapAnswer::Reply(reply) => reply,
        ZapAnswer::NoHandler if no_handler_accepts => return Ok(None),
        ZapAnswer::NoHandler => return Err(ProtocolError::ZapUnavailable),
        ZapAnswer::Malformed(err) => return Err(ProtocolError::ZapMalformed(err)),
    };
    match reply.status {
        ZapStatus::Success => Ok((!reply.user_id.is_empty()).then_some(reply.user_id)),
        // RFC 27 and libzmq: 400 and 500 reach the peer as ERROR "<code>" (written by
        // the session as it closes), 300 closes without one.
        status => Err(ProtocolError::ZapDenied {
            status: status.code(),
        }),
    }
}

/// Appends a command frame whose body is the name followed by `parts`.
pub(crate) fn put_command(out: &mut BytesMut, name: &[u8], parts: &[&[u8]]) {
    let len = 1 + name.len() + parts.iter().map(|p| p.len()).sum::<usize>();
    out.reserve(frame::header_len(len) + len);
    frame::put_header(out, false, true, len);
    // Mechanism command names are short constants.
    out.extend_from_slice(&[name.len() as u8]);
    out.extend_from_slice(name);
    for part in parts {
        out.extend_from_slice(part);
    }
}

/// Splits a command body into its name and data, if the name is `name`.
pub(crate) fn strip_name(body: &Bytes, name: &[u8]) -> Option<Bytes> {
    let len = usize::from(*body.first()?);
    (len == name.len() && body.get(1..=len)? == name).then(|| body.slice(1 + len..))
}

/// The peer's ERROR command as an error, if `body` is one; a malformed one is
/// [`ProtocolError::MalformedCommand`].
pub(crate) fn peer_error(body: &Bytes) -> Option<ProtocolError> {
    let data = strip_name(body, b"ERROR")?;
    let len = usize::from(*data.first().unwrap_or(&0));
    Some(match data.get(1..) {
        Some(reason) if !data.is_empty() && reason.len() == len => ProtocolError::PeerError {
            reason: String::from_utf8_lossy(reason).into_owned(),
        },
        _ => malformed("ERROR"),
    })
}

/// A malformed mechanism command.
pub(crate) fn malformed(command: &'static str) -> ProtocolError {
    ProtocolError::MalformedCommand {
        command,
        field: CommandField::MechanismBody,
    }
}

/// The name of a command body for an error message.
pub(crate) fn unexpected(body: &Bytes, during: &'static str) -> ProtocolError {
    let len = body.first().map_or(0, |&n| usize::from(n));
    let name = body.get(1..=len).unwrap_or_default();
    ProtocolError::UnexpectedCommand {
        name: String::from_utf8_lossy(name).into_owned(),
        during,
    }
}
