//! The CURVE client: HELLO, then INITIATE with its vouch once WELCOME arrives.

use bytes::{Bytes, BytesMut};

use crate::proto::command::Metadata;
use crate::proto::error::ProtocolError;
use crate::proto::mechanism::curve::{
    BoxKey, Cipher, KEY_LEN, KeyPair, PublicKey, TAG_LEN, long_nonce, next_peer_nonce, random16,
    refused, short_nonce,
};
use crate::proto::mechanism::{
    Established, Local, Step, malformed, peer_error, put_command, strip_name, unexpected,
};

/// HELLO's length, from RFC 26's grammar and libzmq (72 bytes of padding).
pub(crate) const HELLO_LEN: usize = 200;
/// WELCOME's length.
pub(crate) const WELCOME_LEN: usize = 168;
/// The smallest READY.
pub(crate) const READY_MIN: usize = 30;

#[derive(Debug)]
enum State {
    /// HELLO sent; the short-term secret and the box to the server's long-term key.
    ExpectWelcome {
        to_server: BoxKey,
    },
    /// INITIATE sent; the box between the short-term keys.
    ExpectReady {
        session: BoxKey,
    },
    Done,
}

/// The client's side of the exchange.
#[derive(Debug)]
pub(crate) struct Client {
    local: Local,
    keys: KeyPair,
    server_key: PublicKey,
    short: KeyPair,
    next_nonce: u64,
    state: State,
}

impl Client {
    /// Makes the short-term pair and sends HELLO (short nonce 1).
    pub fn start(
        local: Local,
        server_key: PublicKey,
        keys: KeyPair,
        out: &mut BytesMut,
    ) -> Result<Client, ProtocolError> {
        let short = KeyPair::generate().map_err(|_| refused("no randomness available"))?;
        let to_server = BoxKey::new(server_key.as_bytes(), &short.secret)?;
        let mut client = Client {
            local,
            keys,
            server_key,
            short,
            next_nonce: 1,
            state: State::Done,
        };
        let nonce = client.take_nonce();
        let mut signature = BytesMut::with_capacity(TAG_LEN + 64);
        to_server.seal(
            &short_nonce(b"CurveZMQHELLO---", nonce),
            &[0; 64],
            &mut signature,
        );
        let parts: [&[u8]; 5] = [
            &[1, 0],
            &[0; 72],
            client.short.public.as_bytes(),
            &nonce.to_be_bytes(),
            &signature,
        ];
        put_command(out, b"HELLO", &parts);
        client.state = State::ExpectWelcome { to_server };
        Ok(client)
    }

    fn take_nonce(&mut self) -> u64 {
        let nonce = self.next_nonce;
        self.next_nonce += 1;
        nonce
    }

    pub fn handle_command(
        &mut self,
        body: Bytes,
        out: &mut BytesMut,
    ) -> Result<Step, ProtocolError> {
        // RFC 26: the client takes ERROR while it waits for WELCOME or READY.
        if let Some(err) = peer_error(&body) {
            return Err(err);
        }
        match std::mem::replace(&mut self.state, State::Done) {
            State::ExpectWelcome { to_server } => {
                self.handle_welcome(&body, &to_server, out)?;
                Ok(Step::Continue)
            }
            State::ExpectReady { session } => self.handle_ready(&body, session),
            State::Done => Err(unexpected(&body, "after the CURVE handshake")),
        }
    }

    /// Opens WELCOME for S' and the cookie, then sends INITIATE with the vouch.
    fn handle_welcome(
        &mut self,
        body: &Bytes,
        to_server: &BoxKey,
        out: &mut BytesMut,
    ) -> Result<(), ProtocolError> {
        if strip_name(body, b"WELCOME").is_none() {
            return Err(unexpected(body, "while waiting for WELCOME"));
        }
        if body.len() != WELCOME_LEN {
            return Err(malformed("WELCOME"));
        }
        let opened = to_server.open(&long_nonce(b"WELCOME-", &body[8..24]), &body[24..])?;
        let server_short: [u8; KEY_LEN] = opened[..KEY_LEN]
            .try_into()
            .map_err(|_| malformed("WELCOME"))?;
        let cookie = &opened[KEY_LEN..];
        let session = BoxKey::new(&server_short, &self.short.secret)?;

        let vouch_nonce = random16()?;
        let mut vouch_plain = [0u8; 64];
        vouch_plain[..32].copy_from_slice(self.short.public.as_bytes());
        vouch_plain[32..].copy_from_slice(self.server_key.as_bytes());
        let mut vouch = BytesMut::with_capacity(80);
        BoxKey::new(&server_short, &self.keys.secret)?.seal(
            &long_nonce(b"VOUCH---", &vouch_nonce),
            &vouch_plain,
            &mut vouch,
        );

        let mut plain = BytesMut::with_capacity(128 + self.local.metadata.encoded_len());
        plain.extend_from_slice(self.keys.public.as_bytes());
        plain.extend_from_slice(&vouch_nonce);
        plain.extend_from_slice(&vouch);
        self.local.metadata.encode(&mut plain);
        let nonce = self.take_nonce();
        let mut sealed = BytesMut::with_capacity(TAG_LEN + plain.len());
        session.seal(
            &short_nonce(b"CurveZMQINITIATE", nonce),
            &plain,
            &mut sealed,
        );
        put_command(out, b"INITIATE", &[cookie, &nonce.to_be_bytes(), &sealed]);
        self.state = State::ExpectReady { session };
        Ok(())
    }

    /// Opens READY for the server's properties.
    fn handle_ready(&mut self, body: &Bytes, session: BoxKey) -> Result<Step, ProtocolError> {
        if strip_name(body, b"READY").is_none() {
            return Err(unexpected(body, "while waiting for READY"));
        }
        if body.len() < READY_MIN {
            return Err(malformed("READY"));
        }
        let nonce = next_peer_nonce(body, 6, 0)?;
        let plain = session.open(&short_nonce(b"CurveZMQREADY---", nonce), &body[14..])?;
        let metadata = Metadata::decode(Bytes::copy_from_slice(&plain), "READY")?;
        let cipher = Cipher::new(session, true, self.next_nonce, nonce);
        Ok(Step::Done(Established {
            metadata,
            user_id: None,
            cipher: Some(cipher),
        }))
    }
}
