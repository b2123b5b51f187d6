//! Fuzz entry points for the security layer: PLAIN and CURVE handshakes on either side,
//! ZAP replies, and Z85.

use std::time::Instant;

use bytes::{Bytes, BytesMut};

use super::EventLog;
use crate::proto::mechanism::{Password, Security};
use crate::proto::message::Message;
use crate::proto::session::{Event, Session, SessionConfig};
use crate::proto::socket_type::SocketType;
use crate::proto::z85;
use crate::proto::zap::{ZapAnswer, ZapError, ZapReply, ZapStatus};

/// A PLAIN or CURVE handshake between an honest session and a fuzzed one, the honest
/// side's bytes corrupted on the way.
///
/// Byte 0: bit 0 picks CURVE (else PLAIN), bit 1 fuzzes the server (else the client),
/// bit 2 sends the rest of the input raw after the honest greeting (else the rest is a
/// list of corruptions: 3 bytes each, a 16-bit big-endian offset into the honest side's
/// byte stream and a byte XORed in there). Byte 1 picks the ZAP answer: none (no
/// handler), 200, 300, 400, 500, or a malformed reply.
///
/// Checks: both sessions report events in a legal order; with nothing corrupted and a
/// ZAP answer that accepts, both complete; once both completed, a message from the
/// honest side arrives intact or the fuzzed side closes.
pub fn security_handshake(data: &[u8]) {
    let [mode, zap, rest @ ..] = data else {
        return;
    };
    let (curve, fuzz_server, raw) = (mode & 1 != 0, mode & 2 != 0, mode & 4 != 0);
    let Some((client, server)) = configs(curve) else {
        return;
    };
    let now = Instant::now();
    let (Ok(client), Ok(server)) = (Session::new(client, now), Session::new(server, now)) else {
        panic!("valid configurations refused");
    };
    let (honest, fuzzed) = if fuzz_server {
        (client, server)
    } else {
        (server, client)
    };
    let mut run = Run {
        honest,
        fuzzed,
        honest_log: EventLog::default(),
        fuzzed_log: EventLog::default(),
        zap: *zap % 6,
        sent: 0,
        now,
    };
    let corruptions: Vec<(usize, u8)> = if raw {
        Vec::new()
    } else {
        rest.chunks_exact(3)
            .map(|c| (usize::from(u16::from_be_bytes([c[0], c[1]])), c[2]))
            .collect()
    };
    if raw {
        run.raw(rest);
    } else {
        run.pump(&corruptions);
    }
    run.check(corruptions.iter().all(|&(_, xor)| xor == 0) && !raw);
}

/// The client's and server's configurations, or `None` without the `curve` feature.
fn configs(curve: bool) -> Option<(SessionConfig, SessionConfig)> {
    let mut client = SessionConfig::new(SocketType::Dealer);
    let mut server = SessionConfig::new(SocketType::Router);
    if curve {
        #[cfg(feature = "curve")]
        {
            let (server_keys, client_keys) = curve_keys();
            client.security = Security::CurveClient {
                server_key: server_keys.public,
                keys: client_keys.clone(),
            };
            server.security = Security::CurveServer {
                keys: server_keys.clone(),
            };
        }
        #[cfg(not(feature = "curve"))]
        return None;
    } else {
        client.security = Security::PlainClient {
            username: Bytes::from_static(b"admin"),
            password: Password::new("secret"),
        };
        server.security = Security::PlainServer;
    }
    Some((client, server))
}

/// The server's and client's long-term key pairs: fixed, so derived once per fuzzing
/// process rather than per input (two X25519 base-point multiplications each time).
#[cfg(feature = "curve")]
fn curve_keys() -> &'static (
    crate::proto::mechanism::curve::KeyPair,
    crate::proto::mechanism::curve::KeyPair,
) {
    use crate::proto::mechanism::curve::{KeyPair, SecretKey};
    static KEYS: std::sync::OnceLock<(KeyPair, KeyPair)> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| {
        (
            KeyPair::from_secret(SecretKey::from_bytes([7; 32])),
            KeyPair::from_secret(SecretKey::from_bytes([9; 32])),
        )
    })
}

struct Run {
    honest: Session,
    fuzzed: Session,
    honest_log: EventLog,
    fuzzed_log: EventLog,
    zap: u8,
    /// Bytes of the honest side's stream so far (corruption offsets count in it).
    sent: usize,
    now: Instant,
}

impl Run {
    /// Moves bytes both ways, corrupting the honest side's, until both are quiet.
    fn pump(&mut self, corruptions: &[(usize, u8)]) {
        let mut wire = BytesMut::new();
        for _ in 0..16 {
            let mut moved = self.honest.poll_transmit(&mut wire);
            if !wire.is_empty() {
                let start = self.sent;
                self.sent += wire.len();
                for &(at, xor) in corruptions {
                    if (start..self.sent).contains(&at) {
                        wire[at - start] ^= xor;
                    }
                }
                self.fuzzed.handle_input(wire.split().freeze(), self.now);
            }
            moved += self.drain();
            moved += self.fuzzed.poll_transmit(&mut wire);
            if !wire.is_empty() {
                self.honest.handle_input(wire.split().freeze(), self.now);
            }
            moved += self.drain();
            if moved == 0 {
                return;
            }
        }
    }

    /// The honest side's greeting, then `bytes` as if the honest side wrote them.
    fn raw(&mut self, bytes: &[u8]) {
        let mut wire = BytesMut::new();
        self.fuzzed.poll_transmit(&mut wire);
        self.honest.handle_input(wire.split().freeze(), self.now);
        self.honest.poll_transmit(&mut wire);
        let greeting = wire.split().freeze();
        self.fuzzed
            .handle_input(greeting.slice(..greeting.len().min(64)), self.now);
        self.fuzzed
            .handle_input(Bytes::copy_from_slice(bytes), self.now);
        self.drain();
        self.fuzzed.poll_transmit(&mut wire);
    }

    /// Drains both sides' events, answering ZAP requests; returns how many answered.
    fn drain(&mut self) -> usize {
        let mut answered = 0;
        for (session, log) in [
            (&mut self.honest, &mut self.honest_log),
            (&mut self.fuzzed, &mut self.fuzzed_log),
        ] {
            let mut requests = Vec::new();
            log.drain_with(session, |event| {
                if let Event::Authenticate(request) = event {
                    requests.push(request.request_id.clone());
                }
            });
            for id in requests {
                session.handle_zap_answer(zap_answer(self.zap, id), self.now);
                answered += 1;
                log.drain_with(session, |_| {});
            }
        }
        answered
    }

    fn check(&mut self, untouched: bool) {
        let done = self.honest_log.handshakes == 1 && self.fuzzed_log.handshakes == 1;
        if untouched {
            // 200 accepts; without a handler CURVE accepts and PLAIN refuses.
            let accepted = self.zap == 1 || (self.zap == 0 && is_curve(&self.honest));
            assert_eq!(
                done, accepted,
                "untouched handshake, ZAP answer {}",
                self.zap
            );
        }
        if !done {
            return;
        }
        let message = Message::from(["", "intact"]);
        if self.honest.send_message(&message).is_err() {
            return;
        }
        let mut wire = BytesMut::new();
        self.honest.poll_transmit(&mut wire);
        self.fuzzed.handle_input(wire.freeze(), self.now);
        match self.fuzzed.poll_event() {
            Some(Event::Message(got)) => assert_eq!(got, message, "message changed"),
            Some(Event::Closed(_)) | None => {}
            Some(other) => panic!("unexpected event {other:?}"),
        }
    }
}

fn is_curve(session: &Session) -> bool {
    #[cfg(feature = "curve")]
    return matches!(
        session.config().security,
        Security::CurveClient { .. } | Security::CurveServer { .. }
    );
    #[cfg(not(feature = "curve"))]
    {
        let _ = session;
        false
    }
}

/// The ZAP answer picked by the input.
fn zap_answer(pick: u8, request_id: Bytes) -> ZapAnswer {
    let status = match pick {
        0 => return ZapAnswer::NoHandler,
        1 => ZapStatus::Success,
        2 => ZapStatus::TemporaryError,
        3 => ZapStatus::AuthenticationFailure,
        4 => ZapStatus::InternalError,
        _ => return ZapAnswer::Malformed(ZapError::Version),
    };
    ZapAnswer::Reply(ZapReply {
        request_id,
        status,
        status_text: Bytes::new(),
        user_id: Bytes::from_static(b"user"),
        metadata: Default::default(),
    })
}

/// [`ZapReply::from_frames`] on frames cut from the input: each frame is a length byte
/// and that many bytes.
///
/// Checks: an accepted reply encodes back to frames that read as the same reply.
pub fn zap_reply(data: &[u8]) {
    let mut frames = Vec::new();
    let mut rest = data;
    while let [len, tail @ ..] = rest {
        let (frame, after) = tail.split_at(usize::from(*len).min(tail.len()));
        frames.push(Bytes::copy_from_slice(frame));
        rest = after;
    }
    let id = frames.get(1).cloned().unwrap_or_default();
    if let Ok(reply) = ZapReply::from_frames(&frames, &id) {
        let again = ZapReply::from_frames(&reply.to_frames(), &id);
        assert_eq!(again.as_ref(), Ok(&reply), "reply did not round-trip");
    }
}

/// Z85 both ways: the input decoded as text, and encoded as bytes.
///
/// Checks: decoded text encodes back to itself; bytes (cut to a multiple of 4) decode
/// back from their encoding.
pub fn z85(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(bytes) = z85::decode(text)
    {
        assert_eq!(
            z85::encode(&bytes).as_deref(),
            Ok(text),
            "Z85 not canonical"
        );
    }
    let whole = &data[..data.len() / 4 * 4];
    let Ok(text) = z85::encode(whole) else {
        panic!("a multiple of 4 bytes refused");
    };
    assert_eq!(z85::decode(&text).as_deref(), Ok(whole), "Z85 round trip");
}
