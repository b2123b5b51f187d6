//! The ZMTP greeting (RFC 23 "Version Negotiation", RFC 37): 64 octets each peer sends
//! first.
//!
//! ```text
//! offset  0      : 0xFF                      signature start
//! offset  1..9   : padding (any)             signature middle, never validated
//! offset  9      : 0x7F (bit 0 set)          signature end
//! offset 10      : major version (3)
//! offset 11      : minor version (1)
//! offset 12..32  : mechanism, null-padded
//! offset 32      : as-server (0 or 1)
//! offset 33..64  : filler (never validated)
//! ```
//!
//! A ZMTP 2.0 peer (RFC 15) sends 12 octets instead: the same signature, revision 1 at
//! offset 10, and its socket type's number at offset 11. It is told apart on offset 10,
//! before we send anything past our own offset 10, as RFC 23 intends.
//!
//! [`GreetingDecoder`] parses the peer's greeting from any split of those bytes and
//! rejects ZMTP 1.0 peers as soon as the bytes that identify them arrive.

use std::fmt;

use crate::proto::error::ProtocolError;

/// Length of a ZMTP 3 greeting.
pub const GREETING_LEN: usize = 64;

/// Length of the greeting's first part: the signature and the major version. RFC 23
/// asks a peer to send it at once and lets it wait for the peer's before the rest.
pub const SIGNATURE_LEN: usize = 11;

/// Length of a ZMTP 2.0 greeting: the signature, the revision and the socket type.
pub const GREETING_V2_LEN: usize = 12;

/// The revision octet of a ZMTP 2.0 greeting.
const REVISION_2_0: u8 = 1;

/// The ZMTP version monocoque speaks: 3.1.
pub const OUR_VERSION: Version = Version { major: 3, minor: 1 };

/// A ZMTP protocol version as announced in a greeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Major version (3 for ZMTP 3.x).
    pub major: u8,
    /// Minor version (0 for ZMTP 3.0, 1 for ZMTP 3.1).
    pub minor: u8,
}

impl Version {
    /// ZMTP 2.0 (RFC 15): no security, no commands, subscriptions as messages.
    pub const V2_0: Version = Version { major: 2, minor: 0 };

    /// The version two peers speak: RFC 23 says a peer that announced a higher version
    /// uses the lower one. Any version after 3.1 speaks 3.1 with us.
    pub fn negotiate(ours: Version, theirs: Version) -> Version {
        if theirs.major > ours.major {
            ours
        } else {
            Version {
                major: ours.major,
                minor: ours.minor.min(theirs.minor),
            }
        }
    }

    /// Whether this version has ZMTP 3.1 SUBSCRIBE/CANCEL and PING/PONG commands.
    pub fn has_commands_3_1(self) -> bool {
        (self.major, self.minor) >= (3, 1)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// A security mechanism name as carried in the greeting (up to 20 ASCII bytes).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MechanismName([u8; 20]);

impl MechanismName {
    /// The NULL mechanism.
    pub const NULL: MechanismName = MechanismName::from_static("NULL");
    /// The PLAIN mechanism.
    pub const PLAIN: MechanismName = MechanismName::from_static("PLAIN");
    /// The CURVE mechanism.
    pub const CURVE: MechanismName = MechanismName::from_static("CURVE");

    const fn from_static(name: &str) -> Self {
        let bytes = name.as_bytes();
        let mut out = [0u8; 20];
        let mut i = 0;
        while i < bytes.len() {
            out[i] = bytes[i];
            i += 1;
        }
        MechanismName(out)
    }

    /// Builds a name from the greeting's 20-octet mechanism field.
    pub const fn from_field(field: [u8; 20]) -> Self {
        MechanismName(field)
    }

    /// The 20-octet field, null-padded.
    pub const fn as_field(&self) -> &[u8; 20] {
        &self.0
    }

    /// The name without its null padding.
    pub fn as_bytes(&self) -> &[u8] {
        let end = self.0.iter().position(|&b| b == 0).unwrap_or(20);
        &self.0[..end]
    }
}

impl fmt::Display for MechanismName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(self.as_bytes()))
    }
}

impl fmt::Debug for MechanismName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MechanismName({self})")
    }
}

/// A decoded or to-be-sent greeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Greeting {
    /// The announced version.
    pub version: Version,
    /// The security mechanism.
    pub mechanism: MechanismName,
    /// The as-server flag (meaningful for PLAIN and CURVE; 0 for NULL).
    pub as_server: bool,
}

impl Greeting {
    /// Our greeting for a mechanism.
    pub fn new(mechanism: MechanismName, as_server: bool) -> Self {
        Greeting {
            version: OUR_VERSION,
            mechanism,
            as_server,
        }
    }

    /// The 64 octets to send.
    pub fn encode(&self) -> [u8; GREETING_LEN] {
        let mut out = [0u8; GREETING_LEN];
        out[0] = 0xFF;
        out[9] = 0x7F;
        out[10] = self.version.major;
        out[11] = self.version.minor;
        out[12..32].copy_from_slice(self.mechanism.as_field());
        out[32] = u8::from(self.as_server);
        out
    }

    /// Decodes a whole greeting at once (see [`GreetingDecoder`] for partial input).
    pub fn decode(bytes: &[u8; GREETING_LEN]) -> Result<Greeting, ProtocolError> {
        let mut decoder = GreetingDecoder::new();
        decoder.feed(bytes)?;
        decoder.greeting().ok_or(ProtocolError::BadSignature)
    }
}

/// A peer's whole greeting: ZMTP 3.x, or the shorter one of ZMTP 2.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerGreeting {
    /// A 64-octet ZMTP 3.x greeting.
    V3(Greeting),
    /// A 12-octet ZMTP 2.0 greeting: the socket type's number (RFC 15, libzmq's
    /// `ZMQ_*` constants), not yet checked.
    V2 {
        /// The number at offset 11.
        socket_type: u8,
    },
}

/// Parses a peer's greeting incrementally.
///
/// Feed it bytes as they arrive; it consumes at most the greeting's octets (64, or 12
/// for ZMTP 2.0), so the bytes after them (the first frames) stay with the caller.
/// Errors are raised as soon as the deciding byte arrives: a ZMTP 1.0 peer is refused
/// on its first octet or its tenth.
///
/// ```
/// use monocoque_zmtp::proto::greeting::{Greeting, GreetingDecoder, MechanismName};
///
/// let bytes = Greeting::new(MechanismName::NULL, false).encode();
/// let mut decoder = GreetingDecoder::new();
/// assert_eq!(decoder.feed(&bytes[..5]).unwrap(), 5);
/// assert!(!decoder.signature_received());
/// assert_eq!(decoder.feed(&bytes[5..]).unwrap(), 59);
/// assert_eq!(decoder.greeting().unwrap().mechanism, MechanismName::NULL);
/// ```
#[derive(Debug, Clone)]
pub struct GreetingDecoder {
    buf: [u8; GREETING_LEN],
    len: usize,
}

impl Default for GreetingDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl GreetingDecoder {
    /// A decoder that has seen nothing yet.
    pub fn new() -> Self {
        GreetingDecoder {
            buf: [0; GREETING_LEN],
            len: 0,
        }
    }

    /// Consumes greeting bytes from `input` and returns how many it took (at most what
    /// is still missing of the 64).
    pub fn feed(&mut self, input: &[u8]) -> Result<usize, ProtocolError> {
        let mut taken = 0;
        while taken < input.len() && self.len < self.expected_len() {
            // Stop after the revision octet: it decides how long the greeting is.
            let end = match self.len < SIGNATURE_LEN {
                true => SIGNATURE_LEN,
                false => self.expected_len(),
            };
            let take = (input.len() - taken).min(end - self.len);
            let start = self.len;
            self.buf[start..start + take].copy_from_slice(&input[taken..taken + take]);
            self.len += take;
            self.check(start)?;
            taken += take;
        }
        Ok(taken)
    }

    /// How long the peer's greeting is, as far as we know: 64 octets until its
    /// revision octet says ZMTP 2.0.
    fn expected_len(&self) -> usize {
        match self.is_v2() {
            true => GREETING_V2_LEN,
            false => GREETING_LEN,
        }
    }

    /// Whether the revision octet arrived and names ZMTP 2.0.
    pub fn is_v2(&self) -> bool {
        self.len >= SIGNATURE_LEN && self.buf[10] == REVISION_2_0
    }

    /// Validates the bytes that arrived from offset `from` on.
    fn check(&self, from: usize) -> Result<(), ProtocolError> {
        // RFC 23 "Backwards Interoperability": a ZMTP 1.0 peer starts with a short
        // identity frame (length octet other than 0xFF) or with a long one whose flags
        // octet (offset 9) has bit 0 clear; a ZMTP 3 peer sends 0xFF ... 0x7F.
        // A ZMTP 1.0 identity frame has a non-zero length and flags 0; anything else
        // not starting with 0xFF (an HTTP request, a TLS hello) is no ZMTP at all.
        if from <= 1 && self.len >= 2 && self.buf[0] != 0xFF {
            if self.buf[0] != 0 && self.buf[1] == 0 {
                return Err(ProtocolError::UnsupportedVersion { version: "1.0" });
            }
            return Err(ProtocolError::BadSignature);
        }
        if from <= 9 && self.len > 9 && self.buf[9] & 0x01 == 0 {
            return Err(ProtocolError::UnsupportedVersion { version: "1.0" });
        }
        // Offset 10 is the revision: 0 for ZMTP 1.0 with a signature, 0x01 for ZMTP
        // 2.0, 0x02 for the ZMTP 2.1 draft nobody shipped, 3 or more for ZMTP 3.x.
        if from <= 10 && self.len > 10 {
            match self.buf[10] {
                0 => return Err(ProtocolError::UnsupportedVersion { version: "1.0" }),
                2 => return Err(ProtocolError::UnsupportedVersion { version: "2.1" }),
                _ => {}
            }
        }
        Ok(())
    }

    /// Whether the signature and major version (the first 11 octets) arrived and were
    /// accepted: the moment RFC 23 lets us send the rest of our greeting.
    pub fn signature_received(&self) -> bool {
        self.len >= SIGNATURE_LEN
    }

    /// How many octets arrived so far.
    pub fn received(&self) -> usize {
        self.len
    }

    /// The peer's greeting once all of it arrived, whichever revision it is.
    pub fn peer_greeting(&self) -> Option<PeerGreeting> {
        match self.is_v2() {
            true if self.len == GREETING_V2_LEN => Some(PeerGreeting::V2 {
                socket_type: self.buf[11],
            }),
            true => None,
            false => self.greeting().map(PeerGreeting::V3),
        }
    }

    /// The ZMTP 3.x greeting, once all 64 octets arrived. Padding and filler are never
    /// checked.
    pub fn greeting(&self) -> Option<Greeting> {
        if self.len < GREETING_LEN {
            return None;
        }
        let mut mechanism = [0u8; 20];
        mechanism.copy_from_slice(&self.buf[12..32]);
        Some(Greeting {
            version: Version {
                major: self.buf[10],
                minor: self.buf[11],
            },
            mechanism: MechanismName::from_field(mechanism),
            // RFC 23 defines 0 and 1; libzmq reads any non-zero value as "server".
            as_server: self.buf[32] != 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A NULL greeting as libzmq 4.3 sends it, written out from RFC 23.
    const LIBZMQ_NULL: [u8; 64] = [
        0xFF, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x7F, // signature (libzmq puts 1 in the padding)
        3, 1, // version 3.1
        b'N', b'U', b'L', b'L', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // mechanism
        0, // as-server
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, // filler
    ];

    #[test]
    fn encodes_rfc_layout() {
        let ours = Greeting::new(MechanismName::NULL, false).encode();
        let mut expected = LIBZMQ_NULL;
        expected[8] = 0;
        assert_eq!(ours, expected);
        let plain = Greeting::new(MechanismName::PLAIN, true).encode();
        assert_eq!(&plain[12..18], b"PLAIN\0");
        assert_eq!(plain[32], 1);
    }

    #[test]
    fn decodes_libzmq_greeting() {
        let g = Greeting::decode(&LIBZMQ_NULL).unwrap();
        assert_eq!(g.version, Version { major: 3, minor: 1 });
        assert_eq!(g.mechanism, MechanismName::NULL);
        assert_eq!(g.mechanism.as_bytes(), b"NULL");
        assert!(!g.as_server);
    }

    #[test]
    fn every_split_gives_the_same_greeting() {
        let bytes = Greeting::new(MechanismName::CURVE, true).encode();
        let whole = Greeting::decode(&bytes).unwrap();
        for a in 0..=GREETING_LEN {
            for b in a..=GREETING_LEN {
                let mut d = GreetingDecoder::new();
                assert_eq!(d.feed(&bytes[..a]).unwrap(), a);
                assert_eq!(d.feed(&bytes[a..b]).unwrap(), b - a);
                assert_eq!(d.signature_received(), b >= SIGNATURE_LEN);
                assert_eq!(d.feed(&bytes[b..]).unwrap(), GREETING_LEN - b);
                assert_eq!(d.greeting(), Some(whole));
            }
        }
    }

    #[test]
    fn one_byte_at_a_time() {
        let mut d = GreetingDecoder::new();
        for (i, byte) in LIBZMQ_NULL.iter().enumerate() {
            assert!(d.greeting().is_none(), "complete early at {i}");
            assert_eq!(d.feed(&[*byte]).unwrap(), 1);
        }
        assert!(d.greeting().is_some());
        assert_eq!(d.feed(b"more").unwrap(), 0, "takes nothing past 64 octets");
    }

    #[test]
    fn consumes_only_the_greeting() {
        let mut input = LIBZMQ_NULL.to_vec();
        input.extend_from_slice(&[0x04, 0x00]);
        let mut d = GreetingDecoder::new();
        assert_eq!(d.feed(&input).unwrap(), 64);
    }

    #[test]
    fn padding_and_filler_are_not_validated() {
        let mut bytes = LIBZMQ_NULL;
        bytes[1..9].copy_from_slice(&[0xAB; 8]);
        bytes[9] = 0xFF; // only bit 0 matters
        bytes[33..].copy_from_slice(&[0x5A; 31]);
        let g = Greeting::decode(&bytes).unwrap();
        assert_eq!(g.mechanism, MechanismName::NULL);
    }

    #[test]
    fn accepts_later_versions_and_negotiates_down() {
        for (major, minor, expect) in [
            (3, 0, (3, 0)),
            (3, 1, (3, 1)),
            (3, 2, (3, 1)),
            (4, 0, (3, 1)),
        ] {
            let mut bytes = LIBZMQ_NULL;
            bytes[10] = major;
            bytes[11] = minor;
            let g = Greeting::decode(&bytes).unwrap();
            let v = Version::negotiate(OUR_VERSION, g.version);
            assert_eq!((v.major, v.minor), expect, "peer {major}.{minor}");
        }
        assert!(!Version { major: 3, minor: 0 }.has_commands_3_1());
        assert!(Version { major: 3, minor: 1 }.has_commands_3_1());
    }

    #[test]
    fn zmtp_1_0_is_refused_on_the_first_octets() {
        // ZMTP 1.0 starts with a short identity frame: length 1, flags 0. The flags
        // octet tells it from bytes that are no ZMTP at all.
        let mut d = GreetingDecoder::new();
        assert_eq!(d.feed(&[0x01]), Ok(1));
        assert_eq!(
            d.feed(&[0x00]),
            Err(ProtocolError::UnsupportedVersion { version: "1.0" })
        );
        for not_zmtp in [&b"GET / HTTP/1.1"[..], &[0x16, 0x03, 0x01], &[0x00, 0x00]] {
            assert_eq!(
                GreetingDecoder::new().feed(not_zmtp),
                Err(ProtocolError::BadSignature),
                "{not_zmtp:?}"
            );
        }
        // ... or a long one whose "signature end" octet has bit 0 clear.
        let mut d = GreetingDecoder::new();
        let long_identity = [0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x00];
        assert_eq!(
            d.feed(&long_identity),
            Err(ProtocolError::UnsupportedVersion { version: "1.0" })
        );
    }

    /// A ZMTP 2.0 greeting as RFC 15 writes it: signature, revision 1, socket type.
    const RFC15_DEALER: [u8; 12] = [0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0x7F, 0x01, 0x05];

    #[test]
    fn zmtp_2_0_greeting_is_12_octets_at_any_split() {
        for split in 0..=GREETING_V2_LEN {
            let mut input = RFC15_DEALER.to_vec();
            input.extend_from_slice(&[0x00, 0x00]); // the empty identity frame
            let mut d = GreetingDecoder::new();
            let first = d.feed(&input[..split]).unwrap();
            assert_eq!(first, split);
            assert_eq!(d.is_v2(), split > 10);
            assert_eq!(d.feed(&input[split..]).unwrap(), GREETING_V2_LEN - split);
            assert_eq!(d.peer_greeting(), Some(PeerGreeting::V2 { socket_type: 5 }));
            assert_eq!(d.greeting(), None, "no 3.x greeting");
        }
    }

    #[test]
    fn zmtp_3_greeting_is_not_cut_at_the_revision_octet() {
        let mut d = GreetingDecoder::new();
        assert_eq!(d.feed(&LIBZMQ_NULL).unwrap(), GREETING_LEN);
        assert!(matches!(d.peer_greeting(), Some(PeerGreeting::V3(_))));
    }

    #[test]
    fn other_old_revisions_are_refused_on_the_revision_octet() {
        for (revision, version) in [(0x00, "1.0"), (0x02, "2.1")] {
            let mut bytes = LIBZMQ_NULL;
            bytes[10] = revision;
            let mut d = GreetingDecoder::new();
            assert_eq!(d.feed(&bytes[..10]), Ok(10));
            assert_eq!(
                d.feed(&bytes[10..11]),
                Err(ProtocolError::UnsupportedVersion { version })
            );
        }
    }

    #[test]
    fn mechanism_names() {
        assert_eq!(MechanismName::CURVE.as_bytes(), b"CURVE");
        assert_eq!(MechanismName::PLAIN.to_string(), "PLAIN");
        let full = MechanismName::from_field([b'X'; 20]);
        assert_eq!(full.as_bytes().len(), 20);
    }
}
