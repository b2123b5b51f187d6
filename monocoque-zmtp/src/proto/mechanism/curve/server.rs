//! The CURVE server: WELCOME with a cookie, then INITIATE checked against the cookie
//! and the vouch, ZAP, and READY.
//!
//! Between WELCOME and INITIATE the server keeps only the cookie key: its short-term
//! secret and the client's short-term key come back inside the cookie.

use bytes::{Bytes, BytesMut};
use zeroize::Zeroizing;

use crate::proto::command::Metadata;
use crate::proto::error::ProtocolError;
use crate::proto::greeting::MechanismName;
use crate::proto::mechanism::curve::client::{HELLO_LEN, WELCOME_LEN};
use crate::proto::mechanism::curve::{
    BoxKey, Cipher, KEY_LEN, KeyPair, SecretKey, TAG_LEN, long_nonce, next_peer_nonce, random16,
    refused, short_nonce,
};
use crate::proto::mechanism::{
    Established, Local, Step, malformed, put_command, strip_name, unexpected, zap_verdict,
};
use crate::proto::zap::ZapAnswer;

/// The smallest INITIATE: name, cookie, short nonce, and a box holding C, the vouch
/// nonce and the vouch.
pub(crate) const INITIATE_MIN: usize = 9 + 96 + 8 + TAG_LEN + 32 + 16 + 80;

#[derive(Debug)]
enum State {
    ExpectHello,
    /// WELCOME sent: only the cookie key and the last short nonce are kept.
    ExpectInitiate {
        cookie_key: Zeroizing<[u8; KEY_LEN]>,
        last_nonce: u64,
    },
    /// INITIATE checked; the client's long-term key is with ZAP.
    WaitZap {
        session: BoxKey,
        metadata: Metadata,
        last_nonce: u64,
    },
    Done,
}

/// The server's side of the exchange.
#[derive(Debug)]
pub(crate) struct Server {
    local: Local,
    keys: KeyPair,
    state: State,
}

impl Server {
    pub fn new(local: Local, keys: KeyPair) -> Server {
        Server {
            local,
            keys,
            state: State::ExpectHello,
        }
    }

    pub fn handle_command(
        &mut self,
        body: Bytes,
        out: &mut BytesMut,
    ) -> Result<Step, ProtocolError> {
        match std::mem::replace(&mut self.state, State::Done) {
            State::ExpectHello => {
                let last_nonce = check_hello(&body, &self.keys.secret)?;
                let cookie_key = self.send_welcome(&body, out)?;
                self.state = State::ExpectInitiate {
                    cookie_key,
                    last_nonce,
                };
                Ok(Step::Continue)
            }
            State::ExpectInitiate {
                cookie_key,
                last_nonce,
            } => self.handle_initiate(&body, &cookie_key, last_nonce),
            State::WaitZap { .. } => Err(unexpected(&body, "while waiting for ZAP")),
            State::Done => Err(unexpected(&body, "after the CURVE handshake")),
        }
    }

    /// Sends WELCOME: S' and the cookie, boxed from S to C'. Returns the cookie key.
    fn send_welcome(
        &self,
        hello: &Bytes,
        out: &mut BytesMut,
    ) -> Result<Zeroizing<[u8; KEY_LEN]>, ProtocolError> {
        let client_short = &hello[80..112];
        let short = KeyPair::generate().map_err(|_| refused("no randomness available"))?;
        let mut cookie_key = Zeroizing::new([0u8; KEY_LEN]);
        getrandom::getrandom(&mut cookie_key[..])
            .map_err(|_| refused("no randomness available"))?;

        let mut cookie_plain = Zeroizing::new([0u8; 64]);
        cookie_plain[..32].copy_from_slice(client_short);
        cookie_plain[32..].copy_from_slice(short.secret.as_bytes());
        let cookie_nonce = random16()?;
        let mut cookie = BytesMut::with_capacity(96);
        cookie.extend_from_slice(&cookie_nonce);
        BoxKey::secret(&cookie_key).seal(
            &long_nonce(b"COOKIE--", &cookie_nonce),
            &cookie_plain[..],
            &mut cookie,
        );

        let mut plain = BytesMut::with_capacity(128);
        plain.extend_from_slice(short.public.as_bytes());
        plain.extend_from_slice(&cookie);
        let to_client = BoxKey::new(&key(client_short)?, &self.keys.secret)?;
        let welcome_nonce = random16()?;
        let mut sealed = BytesMut::with_capacity(TAG_LEN + 128);
        to_client.seal(
            &long_nonce(b"WELCOME-", &welcome_nonce),
            &plain,
            &mut sealed,
        );
        put_command(out, b"WELCOME", &[&welcome_nonce, &sealed]);
        debug_assert_eq!(8 + 16 + sealed.len(), WELCOME_LEN);
        Ok(cookie_key)
    }

    /// Checks INITIATE: the cookie, the box, the vouch; then asks ZAP about C.
    fn handle_initiate(
        &mut self,
        body: &Bytes,
        cookie_key: &[u8; KEY_LEN],
        last_nonce: u64,
    ) -> Result<Step, ProtocolError> {
        if strip_name(body, b"INITIATE").is_none() {
            return Err(unexpected(body, "while waiting for INITIATE"));
        }
        if body.len() < INITIATE_MIN {
            return Err(malformed("INITIATE"));
        }
        let cookie = &body[9..105];
        let opened = BoxKey::secret(cookie_key)
            .open(&long_nonce(b"COOKIE--", &cookie[..16]), &cookie[16..])
            .map_err(|_| refused("INITIATE cookie did not open"))?;
        let client_short = key(&opened[..32])?;
        let server_short = SecretKey::from_bytes(key(&opened[32..64])?);
        let nonce = next_peer_nonce(body, 105, last_nonce)?;
        let session = BoxKey::new(&client_short, &server_short)?;
        let plain = session.open(&short_nonce(b"CurveZMQINITIATE", nonce), &body[113..])?;
        let client_key = key(&plain[..32])?;
        let vouch = BoxKey::new(&client_key, &server_short)?
            .open(&long_nonce(b"VOUCH---", &plain[32..48]), &plain[48..128])
            .map_err(|_| refused("vouch did not open"))?;
        if vouch[..32] != client_short || vouch[32..] != self.keys.public.as_bytes()[..] {
            return Err(refused("vouch does not name this connection"));
        }
        let metadata = Metadata::decode(Bytes::copy_from_slice(&plain[128..]), "INITIATE")?;
        self.state = State::WaitZap {
            session,
            metadata,
            last_nonce: nonce,
        };
        let credentials = vec![Bytes::copy_from_slice(&client_key)];
        Ok(Step::Authenticate(
            self.local.zap_request(MechanismName::CURVE, credentials),
        ))
    }

    /// Sends READY (short nonce 1) once ZAP accepted the client.
    pub fn handle_zap(
        &mut self,
        answer: ZapAnswer,
        out: &mut BytesMut,
    ) -> Result<Step, ProtocolError> {
        let State::WaitZap {
            session,
            metadata,
            last_nonce,
        } = std::mem::replace(&mut self.state, State::Done)
        else {
            return Err(ProtocolError::InvalidOption("no ZAP request is pending"));
        };
        // libzmq: without a handler, CURVE accepts any client (the Stonehouse pattern)
        // unless ZMQ_ZAP_ENFORCE_DOMAIN is set.
        let user_id = zap_verdict(answer, !self.local.zap_enforce)?;
        let mut plain = BytesMut::with_capacity(self.local.metadata.encoded_len());
        self.local.metadata.encode(&mut plain);
        let mut sealed = BytesMut::with_capacity(TAG_LEN + plain.len());
        session.seal(&short_nonce(b"CurveZMQREADY---", 1), &plain, &mut sealed);
        put_command(out, b"READY", &[&1u64.to_be_bytes(), &sealed]);
        Ok(Step::Done(Established {
            metadata,
            user_id,
            cipher: Some(Cipher::new(session, false, 2, last_nonce)),
        }))
    }

    pub fn waits_for_zap(&self) -> bool {
        matches!(self.state, State::WaitZap { .. })
    }
}

/// Checks HELLO (exact length, version 1.0, a signature box that opens); returns its
/// short nonce.
fn check_hello(body: &Bytes, secret: &SecretKey) -> Result<u64, ProtocolError> {
    if strip_name(body, b"HELLO").is_none() {
        return Err(unexpected(body, "while waiting for HELLO"));
    }
    if body.len() != HELLO_LEN {
        return Err(malformed("HELLO"));
    }
    if body[6..8] != [1, 0] {
        return Err(refused("HELLO of an unknown CURVE version"));
    }
    let client_short = key(&body[80..112])?;
    let nonce = next_peer_nonce(body, 112, 0)?;
    BoxKey::new(&client_short, secret)?
        .open(&short_nonce(b"CurveZMQHELLO---", nonce), &body[120..])
        .map_err(|_| refused("HELLO signature did not open"))?;
    Ok(nonce)
}

/// A key from a 32-byte slice.
fn key(bytes: &[u8]) -> Result<[u8; KEY_LEN], ProtocolError> {
    bytes.try_into().map_err(|_| malformed("CURVE key"))
}
