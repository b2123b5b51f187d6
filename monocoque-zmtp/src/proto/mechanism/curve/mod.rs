//! CURVE (RFC 25 ZMTP-CURVE over RFC 26 CurveZMQ): perfect forward secrecy and
//! authentication by long-term public keys, byte-compatible with libzmq 4.3.
//!
//! ```text
//! C, c: client long-term public/secret   S, s: server long-term public/secret
//! C', c' and S', s': short-term pairs made for one connection
//!
//! HELLO    (200)  = "\x05HELLO" 1 0 zeros(72) C' nonce8 Box[zeros(64)](C'->S)
//! WELCOME  (168)  = "\x07WELCOME" nonce16 Box[S' cookie](S->C')
//!   cookie   (96) = nonce16 SecretBox[C' s'](K)
//! INITIATE (257+) = "\x08INITIATE" cookie nonce8 Box[C vouch-nonce16 vouch metadata](C'->S')
//!   vouch    (80) = Box[C' S](C->S')
//! READY    (30+)  = "\x05READY" nonce8 Box[metadata](S'->C')
//! MESSAGE  (33+)  = "\x07MESSAGE" nonce8 Box[flags body](C'<->S')
//! ```
//!
//! Every box is XSalsa20-Poly1305 with its 16-byte tag first, as libsodium's
//! `crypto_box_afternm` lays it out after its zero padding (see `secretbox`). Short nonces are big-endian
//! counters starting at 1 and running on across the handshake; a received short nonce
//! not greater than the last one is a replay and closes the connection.

use bytes::{Bytes, BytesMut};
use curve25519_dalek::montgomery::MontgomeryPoint;
use zeroize::Zeroizing;

use secretbox::{PrefixedBox, SecretBox};

use crate::proto::error::ProtocolError;
use crate::proto::frame::{self, Frame};

mod client;
mod keys;
mod poly1305;
mod salsa;
mod secretbox;
mod server;
mod simd;

pub(crate) use client::Client;
pub use keys::{KEY_LEN, KEY_Z85_LEN, KeyError, KeyPair, PublicKey, SecretKey};
pub(crate) use server::Server;

/// Length of a box's authentication tag.
pub(crate) const TAG_LEN: usize = 16;
/// The smallest MESSAGE command: name, short nonce, tag and the flags octet.
pub(crate) const MESSAGE_MIN: usize = 8 + 8 + TAG_LEN + 1;
const MESSAGE_NAME: &[u8] = b"\x07MESSAGE";
/// Inner flag bits of a MESSAGE box.
const FLAG_MORE: u8 = 0x01;
const FLAG_COMMAND: u8 = 0x02;

/// A crypto failure: the connection closes without an ERROR.
pub(crate) fn refused(reason: &'static str) -> ProtocolError {
    ProtocolError::Crypto { reason }
}

/// A precomputed box key between one public and one secret key (`crypto_box_beforenm`).
pub(crate) struct BoxKey(SecretBox);

impl std::fmt::Debug for BoxKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BoxKey(<redacted>)")
    }
}

impl BoxKey {
    /// X25519 then HSalsa20, as libsodium. A shared secret of all zeros (the peer sent
    /// a low-order point) is refused, as libsodium refuses it.
    pub fn new(public: &[u8; KEY_LEN], secret: &SecretKey) -> Result<BoxKey, ProtocolError> {
        let shared = Zeroizing::new(MontgomeryPoint(*public).mul_clamped(*secret.as_bytes()).0);
        if shared.iter().all(|&b| b == 0) {
            return Err(refused("low-order public key"));
        }
        let key = Zeroizing::new(salsa::hsalsa20(&shared, &[0; 16]));
        Ok(BoxKey(SecretBox::new(*key)))
    }

    /// A secret-box key (the cookie key), used as it is.
    pub fn secret(key: &[u8; KEY_LEN]) -> BoxKey {
        BoxKey(SecretBox::new(*key))
    }

    /// Appends `tag || ciphertext` of `plaintext` to `out`.
    pub fn seal(&self, nonce: &[u8; 24], plaintext: &[u8], out: &mut BytesMut) {
        let tag_at = out.len();
        out.extend_from_slice(&[0; TAG_LEN]);
        out.extend_from_slice(plaintext);
        let (head, body) = out.split_at_mut(tag_at + TAG_LEN);
        let tag = self.0.seal(nonce, body);
        head[tag_at..].copy_from_slice(&tag);
    }

    /// Opens `tag || ciphertext`.
    pub fn open(
        &self,
        nonce: &[u8; 24],
        boxed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, ProtocolError> {
        let (tag, ciphertext) = boxed
            .split_at_checked(TAG_LEN)
            .ok_or(refused("box shorter than its tag"))?;
        let mut plain = Zeroizing::new(ciphertext.to_vec());
        if !self.0.open(nonce, &mut plain, tag) {
            return Err(refused("box did not open"));
        }
        Ok(plain)
    }
}

/// A 24-byte nonce: a 16-byte prefix and an 8-byte big-endian counter.
pub(crate) fn short_nonce(prefix: &[u8; 16], counter: u64) -> [u8; 24] {
    let mut nonce = [0; 24];
    nonce[..16].copy_from_slice(prefix);
    nonce[16..].copy_from_slice(&counter.to_be_bytes());
    nonce
}

/// A 24-byte nonce: an 8-byte prefix and 16 bytes given.
pub(crate) fn long_nonce(prefix: &[u8; 8], tail: &[u8]) -> [u8; 24] {
    let mut nonce = [0; 24];
    nonce[..8].copy_from_slice(prefix);
    nonce[8..].copy_from_slice(&tail[..16]);
    nonce
}

/// 16 random bytes for a long nonce.
pub(crate) fn random16() -> Result<[u8; 16], ProtocolError> {
    let mut bytes = [0; 16];
    getrandom::getrandom(&mut bytes).map_err(|_| refused("no randomness available"))?;
    Ok(bytes)
}

/// Reads the 8-byte short nonce at `at` and checks it is greater than `last`.
pub(crate) fn next_peer_nonce(body: &[u8], at: usize, last: u64) -> Result<u64, ProtocolError> {
    let bytes: [u8; 8] = body
        .get(at..at + 8)
        .and_then(|b| b.try_into().ok())
        .ok_or(refused("short nonce missing"))?;
    let nonce = u64::from_be_bytes(bytes);
    if nonce <= last {
        return Err(refused("short nonce replayed or out of order"));
    }
    Ok(nonce)
}

/// Encrypts and decrypts frames once the handshake is over: each ZMTP frame travels as
/// one MESSAGE in a data frame with outer flags 0, the MORE and COMMAND bits inside
/// the box.
#[derive(Debug)]
pub(crate) struct Cipher {
    /// The session key with this side's MESSAGE nonce prefix.
    send: PrefixedBox,
    /// The session key with the peer's MESSAGE nonce prefix.
    receive: PrefixedBox,
    next_send: u64,
    last_received: u64,
}

impl Cipher {
    fn new(key: BoxKey, client: bool, next_send: u64, last_received: u64) -> Cipher {
        let (send_prefix, receive_prefix) = if client {
            (b"CurveZMQMESSAGEC", b"CurveZMQMESSAGES")
        } else {
            (b"CurveZMQMESSAGES", b"CurveZMQMESSAGEC")
        };
        Cipher {
            send: key.0.with_prefix(send_prefix),
            receive: key.0.with_prefix(receive_prefix),
            next_send,
            last_received,
        }
    }

    /// Appends one frame as a MESSAGE.
    pub fn seal_frame(&mut self, more: bool, command: bool, body: &[u8], out: &mut BytesMut) {
        let len = MESSAGE_MIN + body.len();
        out.reserve(frame::header_len(len) + len);
        frame::put_header(out, false, false, len);
        let nonce = self.next_send;
        self.next_send += 1;
        out.extend_from_slice(MESSAGE_NAME);
        out.extend_from_slice(&nonce.to_be_bytes());
        let tag_at = out.len();
        out.extend_from_slice(&[0; TAG_LEN]);
        let flags = if more { FLAG_MORE } else { 0 } | if command { FLAG_COMMAND } else { 0 };
        out.extend_from_slice(&[flags]);
        out.extend_from_slice(body);
        let (head, boxed) = out.split_at_mut(tag_at + TAG_LEN);
        let tag = self.send.seal(&nonce.to_be_bytes(), boxed);
        head[tag_at..].copy_from_slice(&tag);
    }

    /// Opens one MESSAGE into the frame it carries. The box is opened where it lies
    /// when the frame's buffer is its own (a frame that straddled read pages was
    /// gathered into one), else in a copy.
    pub fn open_frame(&mut self, frame: Frame) -> Result<Frame, ProtocolError> {
        let body = &frame.body;
        if body.len() < MESSAGE_MIN || !body.starts_with(MESSAGE_NAME) {
            return Err(refused("frame is not a MESSAGE command"));
        }
        let nonce = next_peer_nonce(body, 8, self.last_received)?;
        let mut command = frame
            .body
            .try_into_mut()
            .unwrap_or_else(|shared| BytesMut::from(&shared[..]));
        let (head, boxed) = command.split_at_mut(16 + TAG_LEN);
        if !self.receive.open(&nonce.to_be_bytes(), boxed, &head[16..]) {
            return Err(refused("MESSAGE box did not open"));
        }
        self.last_received = nonce;
        let flags = boxed[0];
        let body: Bytes = command.freeze().slice(16 + TAG_LEN + 1..);
        Ok(Frame {
            more: flags & FLAG_MORE != 0,
            command: flags & FLAG_COMMAND != 0,
            body,
        })
    }
}
