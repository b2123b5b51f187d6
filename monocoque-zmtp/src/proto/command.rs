//! ZMTP commands (RFC 23 for ZMTP 3.0, RFC 37 for ZMTP 3.1).
//!
//! A command frame body is a command name (one length octet, 1 to 255, then the name)
//! followed by command data whose grammar depends on the name:
//!
//! ```text
//! ready     = %d5 "READY" metadata
//! metadata  = *property
//! property  = name value
//! name      = OCTET 1*255name-char          ; length 1..255
//! value     = 4OCTET *OCTET                 ; length in network order, < 2^31
//! error     = %d5 "ERROR" error-reason
//! error-reason = OCTET 0*255VCHAR
//! subscribe = %d9 "SUBSCRIBE" topic         ; ZMTP 3.1
//! cancel    = %d6 "CANCEL" topic            ; ZMTP 3.1
//! ping      = %d4 "PING" ping-ttl ping-context
//! ping-ttl  = 2OCTET                        ; tenths of a second, network order
//! ping-context = 0*16OCTET
//! pong      = %d4 "PONG" ping-context
//! ```
//!
//! Every other command (the mechanism commands HELLO, WELCOME, INITIATE, and names this
//! module does not know) decodes to [`Command::Other`], for a mechanism or the session
//! to interpret.
//!
//! Decoding is zero-copy: every [`Bytes`] in a decoded [`Command`] is a slice of the
//! body it was decoded from. Decoding never panics and never allocates according to a
//! length declared by the peer before checking that the bytes are really there.

use bytes::{BufMut, Bytes, BytesMut};

use crate::proto::error::{CommandField, ProtocolError};
use crate::proto::frame;
use crate::proto::socket_type::SocketType;

/// Largest PING/PONG context RFC 37 allows.
pub const MAX_PING_CONTEXT: usize = 16;

/// Largest metadata value length plus one: lengths are 4 octets but must stay below 2^31.
const VALUE_LEN_LIMIT: u64 = 1 << 31;

/// Name of the property carrying the socket type.
const SOCKET_TYPE: &str = "Socket-Type";
/// Name of the property carrying the routing id.
const IDENTITY: &str = "Identity";

const READY: &[u8] = b"READY";
const ERROR: &[u8] = b"ERROR";
const SUBSCRIBE: &[u8] = b"SUBSCRIBE";
const CANCEL: &[u8] = b"CANCEL";
const PING: &[u8] = b"PING";
const PONG: &[u8] = b"PONG";

/// A ZMTP command, decoded from or to be encoded into a command frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// READY: the NULL (and, after their handshake, PLAIN/CURVE) mechanism's metadata.
    Ready(Metadata),
    /// ERROR: the peer explains why it closes the connection.
    ///
    /// The reason is at most 255 bytes on the wire; [`Command::encode`] truncates a
    /// longer one.
    Error {
        /// The reason text (RFC 23 asks for printable ASCII, not enforced on decode).
        reason: Bytes,
    },
    /// SUBSCRIBE (ZMTP 3.1): the topic prefix, possibly empty.
    Subscribe(Bytes),
    /// CANCEL (ZMTP 3.1): the topic prefix, possibly empty.
    Cancel(Bytes),
    /// PING (ZMTP 3.1): a heartbeat the peer must answer with a PONG.
    ///
    /// The context is at most 16 bytes on the wire; [`Command::encode`] truncates a
    /// longer one.
    Ping {
        /// How long the peer may wait for traffic before closing, in tenths of a
        /// second (0: no timeout requested).
        ttl: u16,
        /// Opaque bytes to echo in the PONG.
        context: Bytes,
    },
    /// PONG (ZMTP 3.1): the answer to a PING, echoing its context.
    ///
    /// The context is at most 16 bytes on the wire; [`Command::encode`] truncates a
    /// longer one.
    Pong {
        /// The context of the PING being answered.
        context: Bytes,
    },
    /// Any other command: mechanism commands (HELLO, WELCOME, INITIATE, ...) or
    /// commands unknown to this module.
    ///
    /// The name must be 1 to 255 bytes to be encodable; [`Command::encode`] truncates a
    /// longer one (an empty name encodes as an invalid zero-length name).
    Other {
        /// The command name, as received.
        name: Bytes,
        /// Everything after the name.
        data: Bytes,
    },
}

impl Command {
    /// A READY command with the `Socket-Type` property and, if given, `Identity`.
    ///
    /// libzmq sends `Identity` only for REQ, DEALER and ROUTER sockets; deciding
    /// whether to pass one, and checking it is a valid routing id (at most 255 bytes,
    /// not starting with a zero byte), is the caller's job. The identity is copied.
    pub fn ready(socket_type: SocketType, identity: Option<&[u8]>) -> Command {
        Command::Ready(Metadata::for_socket(socket_type, identity))
    }

    /// A PING command with a TTL in tenths of a second and a context of at most 16
    /// bytes; a longer context is [`ProtocolError::InvalidOption`].
    pub fn ping(ttl: u16, context: impl Into<Bytes>) -> Result<Command, ProtocolError> {
        let context = context.into();
        if context.len() > MAX_PING_CONTEXT {
            return Err(ProtocolError::InvalidOption(
                "PING context longer than 16 bytes",
            ));
        }
        Ok(Command::Ping { ttl, context })
    }

    /// A PONG command echoing `context`, truncated to 16 bytes if longer (a context
    /// taken from a decoded PING never is).
    pub fn pong(context: impl Into<Bytes>) -> Command {
        let mut context = context.into();
        context.truncate(MAX_PING_CONTEXT);
        Command::Pong { context }
    }

    /// An ERROR command with `reason`, truncated to 255 bytes on a character boundary.
    pub fn error(reason: &str) -> Command {
        let mut end = reason.len().min(255);
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        Command::Error {
            reason: Bytes::copy_from_slice(&reason.as_bytes()[..end]),
        }
    }

    /// Decodes a command frame body (everything after the frame header).
    ///
    /// Zero-copy: the returned [`Bytes`] are slices of `body`. Known commands whose data
    /// break their grammar are [`ProtocolError::MalformedCommand`]; unknown names give
    /// [`Command::Other`].
    pub fn decode(body: Bytes) -> Result<Command, ProtocolError> {
        let bad_name = ProtocolError::MalformedCommand {
            command: "command",
            field: CommandField::Name,
        };
        let name_len = match body.first() {
            Some(&0) | None => return Err(bad_name),
            Some(&n) => usize::from(n),
        };
        // 1 + name_len <= 256, no overflow possible.
        let name_end = 1 + name_len;
        if name_end > body.len() {
            return Err(bad_name);
        }
        let data = body.slice(name_end..);
        let name_bytes = &body[1..name_end];
        let command = match name_bytes {
            READY => Command::Ready(Metadata::decode(data, "READY")?),
            ERROR => Command::Error {
                reason: decode_error_reason(data)?,
            },
            SUBSCRIBE => Command::Subscribe(data),
            CANCEL => Command::Cancel(data),
            PING => {
                let malformed = ProtocolError::MalformedCommand {
                    command: "PING",
                    field: CommandField::Ping,
                };
                let ttl = match data.get(..2) {
                    Some(&[hi, lo]) => u16::from_be_bytes([hi, lo]),
                    _ => return Err(malformed),
                };
                let context = data.slice(2..);
                if context.len() > MAX_PING_CONTEXT {
                    return Err(malformed);
                }
                Command::Ping { ttl, context }
            }
            PONG => {
                if data.len() > MAX_PING_CONTEXT {
                    return Err(ProtocolError::MalformedCommand {
                        command: "PONG",
                        field: CommandField::Ping,
                    });
                }
                Command::Pong { context: data }
            }
            _ => Command::Other {
                name: body.slice(1..name_end),
                data,
            },
        };
        Ok(command)
    }

    /// The command name: `b"READY"`, `b"PING"`, ... or an [`Command::Other`]'s name.
    pub fn name(&self) -> &[u8] {
        match self {
            Command::Ready(_) => READY,
            Command::Error { .. } => ERROR,
            Command::Subscribe(_) => SUBSCRIBE,
            Command::Cancel(_) => CANCEL,
            Command::Ping { .. } => PING,
            Command::Pong { .. } => PONG,
            Command::Other { name, .. } => name,
        }
    }

    /// The name as it goes on the wire (at most 255 bytes).
    fn wire_name(&self) -> &[u8] {
        let name = self.name();
        &name[..name.len().min(255)]
    }

    /// Length of the command data as encoded (after the name).
    fn data_len(&self) -> usize {
        match self {
            Command::Ready(metadata) => metadata.encoded_len(),
            Command::Error { reason } => 1 + reason.len().min(255),
            Command::Subscribe(topic) | Command::Cancel(topic) => topic.len(),
            Command::Ping { context, .. } => 2 + context.len().min(MAX_PING_CONTEXT),
            Command::Pong { context } => context.len().min(MAX_PING_CONTEXT),
            Command::Other { data, .. } => data.len(),
        }
    }

    /// Length of the encoded frame body: name-length octet, name, then command data.
    pub fn body_len(&self) -> usize {
        (1 + self.wire_name().len()).saturating_add(self.data_len())
    }

    /// Appends the whole command frame: a command header (MORE clear), then the body.
    pub fn encode(&self, out: &mut BytesMut) {
        let body_len = self.body_len();
        out.reserve(frame::header_len(body_len).saturating_add(body_len));
        frame::put_header(out, false, true, body_len);
        self.encode_body(out);
    }

    /// Appends the command's body only (name and data), as a CURVE box carries it.
    pub fn encode_body(&self, out: &mut BytesMut) {
        let name = self.wire_name();
        // wire_name is at most 255 bytes.
        out.put_u8(name.len() as u8);
        out.put_slice(name);
        match self {
            Command::Ready(metadata) => metadata.encode(out),
            Command::Error { reason } => {
                let reason = &reason[..reason.len().min(255)];
                out.put_u8(reason.len() as u8);
                out.put_slice(reason);
            }
            Command::Subscribe(topic) | Command::Cancel(topic) => out.put_slice(topic),
            Command::Ping { ttl, context } => {
                out.put_u16(*ttl);
                out.put_slice(&context[..context.len().min(MAX_PING_CONTEXT)]);
            }
            Command::Pong { context } => {
                out.put_slice(&context[..context.len().min(MAX_PING_CONTEXT)]);
            }
            Command::Other { data, .. } => out.put_slice(data),
        }
    }
}

/// Decodes ERROR data: one length octet, then exactly that many reason bytes.
fn decode_error_reason(data: Bytes) -> Result<Bytes, ProtocolError> {
    let malformed = ProtocolError::MalformedCommand {
        command: "ERROR",
        field: CommandField::ErrorReason,
    };
    let len = match data.first() {
        Some(&n) => usize::from(n),
        None => return Err(malformed),
    };
    if data.len() - 1 != len {
        return Err(malformed);
    }
    Ok(data.slice(1..))
}

/// Whether `b` is a name-char of RFC 23: ALPHA / DIGIT / "-" / "_" / "." / "+".
fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'+')
}

/// Connection metadata: the properties of a READY command (or of a mechanism
/// command's metadata), in the order they were added or received.
///
/// Property names compare case-insensitively (ASCII). Every property held is
/// encodable: names are 1 to 255 bytes and values shorter than 2^31 bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    props: Vec<(Bytes, Bytes)>,
}

impl Metadata {
    /// Empty metadata.
    pub fn new() -> Self {
        Self::default()
    }

    /// The properties a socket announces: `Socket-Type` and, if given, `Identity`
    /// (copied; validating it is the caller's job).
    pub fn for_socket(socket_type: SocketType, identity: Option<&[u8]>) -> Self {
        let mut metadata = Metadata::new();
        metadata.props.push((
            Bytes::from_static(SOCKET_TYPE.as_bytes()),
            Bytes::from_static(socket_type.as_str().as_bytes()),
        ));
        // An identity too long for a property value cannot be sent; the caller
        // validates identities (at most 255 bytes) long before this point.
        if let Some(identity) = identity.filter(|id| (id.len() as u64) < VALUE_LEN_LIMIT) {
            metadata.props.push((
                Bytes::from_static(IDENTITY.as_bytes()),
                Bytes::copy_from_slice(identity),
            ));
        }
        metadata
    }

    /// Adds a property, or replaces the value of the property of the same name
    /// (compared case-insensitively) keeping its place.
    ///
    /// The name must be 1 to 255 name-chars (ASCII letters, digits, `-`, `_`, `.`,
    /// `+`) and the value shorter than 2^31 bytes; otherwise
    /// [`ProtocolError::InvalidOption`].
    pub fn insert(
        &mut self,
        name: impl Into<Bytes>,
        value: impl Into<Bytes>,
    ) -> Result<(), ProtocolError> {
        let name = name.into();
        let value = value.into();
        if name.is_empty() || name.len() > 255 {
            return Err(ProtocolError::InvalidOption(
                "metadata property name must be 1 to 255 bytes",
            ));
        }
        if !name.iter().copied().all(is_name_char) {
            return Err(ProtocolError::InvalidOption(
                "metadata property name has a character outside ALPHA / DIGIT / - _ . +",
            ));
        }
        if value.len() as u64 >= VALUE_LEN_LIMIT {
            return Err(ProtocolError::InvalidOption(
                "metadata property value must be shorter than 2^31 bytes",
            ));
        }
        match self
            .props
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(&name))
        {
            Some((_, v)) => *v = value,
            None => self.props.push((name, value)),
        }
        Ok(())
    }

    /// The value of the first property named `name` (compared case-insensitively).
    pub fn get(&self, name: &str) -> Option<&Bytes> {
        self.props
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }

    /// The properties as (name, value) pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&Bytes, &Bytes)> {
        self.props.iter().map(|(n, v)| (n, v))
    }

    /// Number of properties.
    pub fn len(&self) -> usize {
        self.props.len()
    }

    /// Whether there are no properties.
    pub fn is_empty(&self) -> bool {
        self.props.is_empty()
    }

    /// The `Socket-Type` property, parsed: `Ok(None)` if absent,
    /// [`ProtocolError::UnknownSocketType`] (with the value as lossy UTF-8, at most its
    /// first 255 bytes) if it names no known socket type.
    pub fn socket_type(&self) -> Result<Option<SocketType>, ProtocolError> {
        match self.get(SOCKET_TYPE) {
            None => Ok(None),
            Some(value) => match SocketType::from_bytes(value) {
                Some(t) => Ok(Some(t)),
                None => {
                    let shown = &value[..value.len().min(255)];
                    Err(ProtocolError::UnknownSocketType(
                        String::from_utf8_lossy(shown).into_owned(),
                    ))
                }
            },
        }
    }

    /// The `Identity` property (the peer's routing id), unvalidated.
    pub fn identity(&self) -> Option<&Bytes> {
        self.get(IDENTITY)
    }

    /// Decodes a property list (READY data, or a mechanism command's metadata).
    ///
    /// Zero-copy: names and values are slices of `data`. Names from a peer may hold any
    /// bytes, but the structure is strict: an empty name or one running past the end is
    /// [`CommandField::PropertyName`]; a truncated value length, a value running past
    /// the end or a length of 2^31 or more is [`CommandField::PropertyValue`]. `command`
    /// names the command in the error.
    pub fn decode(data: Bytes, command: &'static str) -> Result<Metadata, ProtocolError> {
        let bad = |field| ProtocolError::MalformedCommand { command, field };
        let mut props = Vec::new();
        let mut pos = 0usize;
        while pos < data.len() {
            // `pos < data.len()` throughout, so `data.len() - pos` never underflows.
            let name_len = usize::from(data[pos]);
            if name_len == 0 {
                return Err(bad(CommandField::PropertyName));
            }
            pos += 1;
            if data.len() - pos < name_len {
                return Err(bad(CommandField::PropertyName));
            }
            let name = data.slice(pos..pos + name_len);
            pos += name_len;

            let len_bytes: [u8; 4] = match data.get(pos..).and_then(|rest| rest.get(..4)) {
                Some(&[a, b, c, d]) => [a, b, c, d],
                _ => return Err(bad(CommandField::PropertyValue)),
            };
            pos += 4;
            let value_len = u32::from_be_bytes(len_bytes);
            if u64::from(value_len) >= VALUE_LEN_LIMIT {
                return Err(bad(CommandField::PropertyValue));
            }
            let value_len = match usize::try_from(value_len) {
                Ok(n) if n <= data.len() - pos => n,
                _ => return Err(bad(CommandField::PropertyValue)),
            };
            let value = data.slice(pos..pos + value_len);
            pos += value_len;
            props.push((name, value));
        }
        Ok(Metadata { props })
    }

    /// Length of the encoded property list.
    pub fn encoded_len(&self) -> usize {
        self.props.iter().fold(0usize, |acc, (n, v)| {
            acc.saturating_add(1 + n.len() + 4).saturating_add(v.len())
        })
    }

    /// Appends the encoded property list.
    pub fn encode(&self, out: &mut BytesMut) {
        out.reserve(self.encoded_len());
        for (name, value) in &self.props {
            // Invariants of Metadata: 1..=255-byte names, values below 2^31 bytes.
            out.put_u8(name.len() as u8);
            out.put_slice(name);
            out.put_u32(value.len() as u32);
            out.put_slice(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits an encoded frame into (flags, body), checking the size field.
    fn split_frame(frame: &[u8]) -> (u8, &[u8]) {
        let flags = frame[0];
        if flags & frame::FLAG_LONG != 0 {
            let mut size = [0u8; 8];
            size.copy_from_slice(&frame[1..9]);
            let size = u64::from_be_bytes(size) as usize;
            assert_eq!(frame.len(), 9 + size);
            assert!(size > 255, "long header for a short body");
            (flags, &frame[9..])
        } else {
            let size = frame[1] as usize;
            assert_eq!(frame.len(), 2 + size);
            (flags, &frame[2..])
        }
    }

    fn encode(cmd: &Command) -> Vec<u8> {
        let mut out = BytesMut::new();
        cmd.encode(&mut out);
        assert_eq!(
            out.len(),
            frame::header_len(cmd.body_len()) + cmd.body_len()
        );
        out.to_vec()
    }

    /// Checks `frame` decodes to `expected` and `expected` encodes to `frame`.
    fn check_vector(frame: &[u8], expected: &Command) {
        let (flags, body) = split_frame(frame);
        assert_eq!(flags & !frame::FLAG_LONG, frame::FLAG_COMMAND);
        let decoded = Command::decode(Bytes::copy_from_slice(body)).expect("decodes");
        assert_eq!(&decoded, expected);
        assert_eq!(expected.body_len(), body.len());
        assert_eq!(encode(expected), frame);
    }

    fn malformed(command: &'static str, field: CommandField) -> ProtocolError {
        ProtocolError::MalformedCommand { command, field }
    }

    fn decode(body: &[u8]) -> Result<Command, ProtocolError> {
        Command::decode(Bytes::copy_from_slice(body))
    }

    #[test]
    fn ready_vector() {
        let frame: Vec<u8> = [
            &[0x04, 41][..],
            &[5],
            b"READY",
            &[11],
            b"Socket-Type",
            &[0, 0, 0, 3],
            b"REQ",
            &[8],
            b"Identity",
            &[0, 0, 0, 3],
            b"abc",
        ]
        .concat();
        let cmd = Command::ready(SocketType::Req, Some(b"abc"));
        check_vector(&frame, &cmd);
        let Command::Ready(md) = &cmd else {
            unreachable!()
        };
        assert_eq!(md.socket_type(), Ok(Some(SocketType::Req)));
        assert_eq!(md.identity().map(|b| &b[..]), Some(&b"abc"[..]));
        assert_eq!(md.len(), 2);
    }

    #[test]
    fn ready_without_identity_and_empty() {
        let frame: Vec<u8> = [
            &[0x04, 26][..],
            &[5],
            b"READY",
            &[11],
            b"Socket-Type",
            &[0, 0, 0, 4],
            b"PULL",
        ]
        .concat();
        check_vector(&frame, &Command::ready(SocketType::Pull, None));
        let empty = [&[0x04, 6][..], &[5], b"READY"].concat();
        check_vector(&empty, &Command::Ready(Metadata::new()));
        let Ok(Command::Ready(md)) = decode(&empty[2..]) else {
            panic!("empty READY")
        };
        assert_eq!(md.socket_type(), Ok(None));
        assert!(md.is_empty());
    }

    #[test]
    fn ready_long_frame_vector() {
        let big = vec![b'x'; 300];
        // 6 (name) + 22 (Socket-Type=DEALER) + 1+5+4+300 (X-Big) = 338 = 0x152.
        let frame: Vec<u8> = [
            &[0x06, 0, 0, 0, 0, 0, 0, 0x01, 0x52][..],
            &[5],
            b"READY",
            &[11],
            b"Socket-Type",
            &[0, 0, 0, 6],
            b"DEALER",
            &[5],
            b"X-Big",
            &[0, 0, 0x01, 0x2C],
            &big,
        ]
        .concat();
        let mut md = Metadata::new();
        md.insert("Socket-Type", "DEALER").unwrap();
        md.insert("X-Big", big.clone()).unwrap();
        check_vector(&frame, &Command::Ready(md));
    }

    #[test]
    fn error_vector() {
        let frame: Vec<u8> = [&[0x04, 13][..], &[5], b"ERROR", &[6], b"denied"].concat();
        check_vector(&frame, &Command::error("denied"));
        let empty: Vec<u8> = [&[0x04, 7][..], &[5], b"ERROR", &[0]].concat();
        check_vector(
            &empty,
            &Command::Error {
                reason: Bytes::new(),
            },
        );
    }

    #[test]
    fn error_constructor_truncates_on_char_boundary() {
        let long = "é".repeat(200); // 400 bytes, 2 per char
        let Command::Error { reason } = Command::error(&long) else {
            unreachable!()
        };
        assert_eq!(reason.len(), 254);
        assert!(std::str::from_utf8(&reason).is_ok());
        let Command::Error { reason } = Command::error(&"a".repeat(300)) else {
            unreachable!()
        };
        assert_eq!(reason.len(), 255);
    }

    #[test]
    fn subscribe_cancel_vectors() {
        let sub: Vec<u8> = [&[0x04, 17][..], &[9], b"SUBSCRIBE", b"weather"].concat();
        check_vector(&sub, &Command::Subscribe(Bytes::from_static(b"weather")));
        let sub_all: Vec<u8> = [&[0x04, 10][..], &[9], b"SUBSCRIBE"].concat();
        check_vector(&sub_all, &Command::Subscribe(Bytes::new()));
        let cancel: Vec<u8> = [&[0x04, 14][..], &[6], b"CANCEL", b"weather"].concat();
        check_vector(&cancel, &Command::Cancel(Bytes::from_static(b"weather")));
    }

    #[test]
    fn ping_pong_vectors() {
        let ping: Vec<u8> = [&[0x04, 10][..], &[4], b"PING", &[0x00, 0x64], b"ctx"].concat();
        let cmd = Command::ping(100, &b"ctx"[..]).unwrap();
        assert_eq!(
            cmd,
            Command::Ping {
                ttl: 100,
                context: Bytes::from_static(b"ctx")
            }
        );
        check_vector(&ping, &cmd);
        let bare: Vec<u8> = [&[0x04, 7][..], &[4], b"PING", &[0x01, 0x02]].concat();
        check_vector(&bare, &Command::ping(0x0102, Bytes::new()).unwrap());
        let pong: Vec<u8> = [&[0x04, 8][..], &[4], b"PONG", b"ctx"].concat();
        check_vector(&pong, &Command::pong(&b"ctx"[..]));
        let ctx16 = [7u8; 16];
        let max: Vec<u8> = [&[0x04, 21][..], &[4], b"PONG", &ctx16].concat();
        check_vector(&max, &Command::pong(Bytes::copy_from_slice(&ctx16)));
    }

    #[test]
    fn ping_pong_constructors_limit_context() {
        assert!(matches!(
            Command::ping(1, vec![0u8; 17]),
            Err(ProtocolError::InvalidOption(_))
        ));
        assert!(Command::ping(1, vec![0u8; 16]).is_ok());
        assert_eq!(
            Command::pong(vec![1u8; 20]),
            Command::Pong {
                context: Bytes::from(vec![1u8; 16])
            }
        );
    }

    #[test]
    fn other_commands() {
        let body: Vec<u8> = [&[5][..], b"HELLO", &[1, 2, 3]].concat();
        let cmd = decode(&body).unwrap();
        assert_eq!(
            cmd,
            Command::Other {
                name: Bytes::from_static(b"HELLO"),
                data: Bytes::from_static(&[1, 2, 3]),
            }
        );
        assert_eq!(cmd.name(), b"HELLO");
        assert_eq!(encode(&cmd)[2..], body[..]);
        // Names are matched exactly: lower case is not READY.
        let body: Vec<u8> = [&[5][..], b"ready"].concat();
        assert!(matches!(decode(&body), Ok(Command::Other { .. })));
    }

    #[test]
    fn names() {
        assert_eq!(Command::ready(SocketType::Pub, None).name(), b"READY");
        assert_eq!(Command::error("x").name(), b"ERROR");
        assert_eq!(Command::Subscribe(Bytes::new()).name(), b"SUBSCRIBE");
        assert_eq!(Command::Cancel(Bytes::new()).name(), b"CANCEL");
        assert_eq!(Command::ping(0, Bytes::new()).unwrap().name(), b"PING");
        assert_eq!(Command::pong(Bytes::new()).name(), b"PONG");
    }

    #[test]
    fn case_insensitive_lookup() {
        let body: Vec<u8> = [
            &[5][..],
            b"READY",
            &[11],
            b"SOCKET-type",
            &[0, 0, 0, 6],
            b"ROUTER",
            &[8],
            b"identity",
            &[0, 0, 0, 2],
            b"id",
            &[6],
            b"X-Mine",
            &[0, 0, 0, 0],
        ]
        .concat();
        let Ok(Command::Ready(md)) = decode(&body) else {
            panic!("READY")
        };
        assert_eq!(md.get("socket-type").map(|b| &b[..]), Some(&b"ROUTER"[..]));
        assert_eq!(md.get("IDENTITY").map(|b| &b[..]), Some(&b"id"[..]));
        assert_eq!(md.get("x-mine").map(|b| &b[..]), Some(&b""[..]));
        assert_eq!(md.get("X-Other"), None);
        assert_eq!(md.socket_type(), Ok(Some(SocketType::Router)));
        assert_eq!(md.identity().map(|b| &b[..]), Some(&b"id"[..]));
        let names: Vec<&[u8]> = md.iter().map(|(n, _)| &n[..]).collect();
        assert_eq!(names, [&b"SOCKET-type"[..], b"identity", b"X-Mine"]);
    }

    #[test]
    fn insert_validates_and_replaces() {
        let mut md = Metadata::new();
        md.insert("Socket-Type", "REQ").unwrap();
        md.insert("A.b_c+d-9", "v").unwrap();
        md.insert("socket-type", "REP").unwrap();
        assert_eq!(md.len(), 2);
        assert_eq!(md.socket_type(), Ok(Some(SocketType::Rep)));
        for bad in [&b""[..], b"has space", b"colon:", b"\xff"] {
            assert!(matches!(
                md.insert(Bytes::copy_from_slice(bad), "v"),
                Err(ProtocolError::InvalidOption(_))
            ));
        }
        assert!(md.insert(vec![b'n'; 255], "v").is_ok());
        assert!(matches!(
            md.insert(vec![b'n'; 256], "v"),
            Err(ProtocolError::InvalidOption(_))
        ));
        assert_eq!(md.len(), 3);
    }

    #[test]
    fn hostile_command_names() {
        let name = malformed("command", CommandField::Name);
        assert_eq!(decode(&[]), Err(name.clone()));
        assert_eq!(decode(&[0]), Err(name.clone()));
        assert_eq!(decode(&[0, b'X']), Err(name.clone()));
        assert_eq!(decode(&[5, b'R', b'E', b'A', b'D']), Err(name.clone()));
        assert_eq!(decode(&[255]), Err(name));
    }

    #[test]
    fn hostile_ready() {
        let ready = |data: &[u8]| decode(&[&[5][..], b"READY", data].concat());
        let name = malformed("READY", CommandField::PropertyName);
        let value = malformed("READY", CommandField::PropertyValue);
        // Empty property name.
        assert_eq!(ready(&[0, 0, 0, 0, 0]), Err(name.clone()));
        // Name running past the end.
        assert_eq!(ready(&[4, b'a', b'b']), Err(name.clone()));
        assert_eq!(ready(&[255]), Err(name));
        // Value length truncated.
        assert_eq!(ready(&[1, b'a']), Err(value.clone()));
        assert_eq!(ready(&[1, b'a', 0, 0, 0]), Err(value.clone()));
        // Value running past the end.
        assert_eq!(
            ready(&[1, b'a', 0, 0, 0, 3, b'x', b'y']),
            Err(value.clone())
        );
        assert_eq!(
            ready(&[1, b'a', 0x7f, 0xff, 0xff, 0xff, b'x']),
            Err(value.clone())
        );
        // Value length of 2^31 or more.
        assert_eq!(ready(&[1, b'a', 0x80, 0, 0, 0]), Err(value.clone()));
        assert_eq!(ready(&[1, b'a', 0xff, 0xff, 0xff, 0xff]), Err(value));
        // Lenient on name characters from a peer.
        let Ok(Command::Ready(md)) = ready(&[2, b' ', 0xff, 0, 0, 0, 0]) else {
            panic!("lenient name")
        };
        assert_eq!(md.len(), 1);
    }

    #[test]
    fn metadata_decode_names_its_command() {
        assert_eq!(
            Metadata::decode(Bytes::from_static(&[0]), "INITIATE"),
            Err(malformed("INITIATE", CommandField::PropertyName))
        );
    }

    #[test]
    fn hostile_error() {
        let error = |data: &[u8]| decode(&[&[5][..], b"ERROR", data].concat());
        let bad = malformed("ERROR", CommandField::ErrorReason);
        assert_eq!(error(&[]), Err(bad.clone()));
        assert_eq!(error(&[5, b'a', b'b']), Err(bad.clone()));
        assert_eq!(error(&[255]), Err(bad.clone()));
        assert_eq!(error(&[1, b'a', b'b']), Err(bad));
    }

    #[test]
    fn hostile_ping_pong() {
        let ping = |data: &[u8]| decode(&[&[4][..], b"PING", data].concat());
        let pong = |data: &[u8]| decode(&[&[4][..], b"PONG", data].concat());
        let bad_ping = malformed("PING", CommandField::Ping);
        assert_eq!(ping(&[]), Err(bad_ping.clone()));
        assert_eq!(ping(&[1]), Err(bad_ping.clone()));
        assert_eq!(ping(&[0; 2 + 17]), Err(bad_ping));
        assert!(ping(&[0; 2 + 16]).is_ok());
        assert_eq!(pong(&[0; 17]), Err(malformed("PONG", CommandField::Ping)));
    }

    #[test]
    fn unknown_socket_type() {
        let mut md = Metadata::new();
        md.insert("Socket-Type", "STREAM").unwrap();
        assert_eq!(
            md.socket_type(),
            Err(ProtocolError::UnknownSocketType("STREAM".into()))
        );
        let mut md = Metadata::new();
        md.insert("Socket-Type", "req").unwrap();
        assert!(matches!(
            md.socket_type(),
            Err(ProtocolError::UnknownSocketType(_))
        ));
        let mut md = Metadata::new();
        md.insert("Socket-Type", vec![0xffu8; 1000]).unwrap();
        let Err(ProtocolError::UnknownSocketType(s)) = md.socket_type() else {
            panic!("unknown")
        };
        assert!(s.chars().count() <= 255);
    }

    #[test]
    fn every_truncation_of_ready_is_handled() {
        let mut md = Metadata::new();
        md.insert("Socket-Type", "DEALER").unwrap();
        md.insert("Identity", "peer-1").unwrap();
        md.insert("X-Empty", Bytes::new()).unwrap();
        let cmd = Command::Ready(md.clone());
        let frame = encode(&cmd);
        let body = Bytes::copy_from_slice(split_frame(&frame).1);
        assert_eq!(Command::decode(body.clone()), Ok(cmd));
        // A prefix ending exactly on a property boundary is itself a valid READY with
        // fewer properties; every other strict prefix must be an error.
        let mut boundaries = vec![6];
        let mut at = 6;
        for (n, v) in md.iter() {
            at += 1 + n.len() + 4 + v.len();
            boundaries.push(at);
        }
        for len in 0..body.len() {
            let result = Command::decode(body.slice(..len));
            if let Some(count) = boundaries.iter().position(|&b| b == len) {
                let Ok(Command::Ready(got)) = result else {
                    panic!("prefix {len} on a boundary should decode")
                };
                assert_eq!(got.len(), count);
            } else {
                assert!(result.is_err(), "prefix of {len} bytes decoded: {result:?}");
            }
        }
    }

    #[test]
    fn decode_is_zero_copy() {
        let body = Bytes::from([&[9][..], b"SUBSCRIBE", b"topic"].concat());
        let range = body.as_ptr_range();
        let Ok(Command::Subscribe(topic)) = Command::decode(body.clone()) else {
            panic!("SUBSCRIBE")
        };
        assert_eq!(&topic[..], b"topic");
        assert!(range.contains(&topic.as_ptr()));

        let frame = encode(&Command::ready(SocketType::Req, Some(b"abc")));
        let body = Bytes::copy_from_slice(split_frame(&frame).1);
        let range = body.as_ptr_range();
        let Ok(Command::Ready(md)) = Command::decode(body.clone()) else {
            panic!("READY")
        };
        for (n, v) in md.iter() {
            assert!(range.contains(&n.as_ptr()));
            assert!(range.contains(&v.as_ptr()));
        }
    }

    /// A small deterministic generator (xorshift) for round trips.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn bytes(&mut self, max: usize) -> Bytes {
            let len = self.below(max + 1);
            (0..len)
                .map(|_| self.next() as u8)
                .collect::<Vec<_>>()
                .into()
        }
        fn name(&mut self) -> Bytes {
            const CHARS: &[u8] = b"abcXYZ0189-_.+";
            let max = if self.below(8) == 0 { 255 } else { 12 };
            let len = 1 + self.below(max);
            (0..len)
                .map(|_| CHARS[self.below(CHARS.len())])
                .collect::<Vec<_>>()
                .into()
        }
    }

    fn generate(rng: &mut Rng) -> Command {
        match rng.below(7) {
            0 => {
                let mut md = Metadata::new();
                for _ in 0..rng.below(6) {
                    let name = rng.name();
                    let max = if rng.below(4) == 0 { 600 } else { 20 };
                    let value = rng.bytes(max);
                    md.insert(name, value).unwrap();
                }
                Command::Ready(md)
            }
            1 => Command::Error {
                reason: rng.bytes(255),
            },
            2 => Command::Subscribe(rng.bytes(300)),
            3 => Command::Cancel(rng.bytes(40)),
            4 => Command::ping(rng.next() as u16, rng.bytes(16)).unwrap(),
            5 => Command::pong(rng.bytes(16)),
            _ => {
                // A name none of the known commands has.
                let mut name = rng.name().to_vec();
                name.insert(0, b'~');
                name.truncate(255);
                Command::Other {
                    name: name.into(),
                    data: rng.bytes(300),
                }
            }
        }
    }

    #[test]
    fn random_round_trips() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..2000 {
            let cmd = generate(&mut rng);
            let frame = encode(&cmd);
            let (flags, body) = split_frame(&frame);
            assert_eq!(flags & !frame::FLAG_LONG, frame::FLAG_COMMAND);
            assert_eq!(body.len(), cmd.body_len());
            let decoded = Command::decode(Bytes::copy_from_slice(body)).unwrap();
            assert_eq!(decoded, cmd);
        }
    }

    #[test]
    fn random_garbage_never_panics() {
        let mut rng = Rng(12345);
        let names: [&[u8]; 6] = [b"READY", b"ERROR", b"PING", b"PONG", b"SUBSCRIBE", b"X"];
        for _ in 0..5000 {
            let name = names[rng.below(names.len())];
            let mut body = vec![name.len() as u8];
            body.extend_from_slice(name);
            body.extend_from_slice(&rng.bytes(40));
            let _ = decode(&body);
            let _ = decode(&rng.bytes(40));
        }
    }

    #[test]
    fn encode_clamps_out_of_grammar_values() {
        let cmd = Command::Ping {
            ttl: 1,
            context: Bytes::from(vec![0u8; 30]),
        };
        let frame = encode(&cmd);
        assert_eq!(frame.len(), 2 + 1 + 4 + 2 + 16);
        let cmd = Command::Error {
            reason: Bytes::from(vec![b'e'; 300]),
        };
        let Ok(Command::Error { reason }) = decode(split_frame(&encode(&cmd)).1) else {
            panic!("ERROR")
        };
        assert_eq!(reason.len(), 255);
    }
}
