//! Fuzz entry points, kept in the library (as rustls does) so that the unit tests in
//! `fuzz/corpus.rs` replay every corpus through them and they never rot. Built for
//! tests and with the `fuzz` feature, which the cargo-fuzz project in
//! `monocoque-zmtp/fuzz/` turns on; it has one one-line target per function.
//!
//! Every function takes arbitrary bytes and must never panic. The assertions inside
//! check properties that hold for *any* input: round trips, agreement between a whole
//! and a chunked feed, agreement with a naive reference model. A failing assertion is
//! a bug in the protocol core (or in the property), never a bad input.
//!
//! Pure: built without the `runtime` feature, no compio, no clock (fake instants are
//! offsets from one `Instant` taken at the start).

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use monocoque_core::SegmentedBuffer;

use crate::endpoint::Endpoint;
use crate::proto::command::Command;
use crate::proto::error::ProtocolError;
use crate::proto::frame::{self, Frame, FrameDecoder};
use crate::proto::greeting::{
    GREETING_LEN, GREETING_V2_LEN, Greeting, GreetingDecoder, MechanismName, OUR_VERSION,
    PeerGreeting, SIGNATURE_LEN, Version,
};
use crate::proto::handshake::check_peer_ready;
use crate::proto::message::Message;
use crate::proto::session::{Event, Session, SessionConfig};
use crate::proto::socket_type::SocketType;

#[cfg(test)]
mod corpus;
mod engine;
mod pattern;
mod security;

pub use engine::engine_ops;
pub use pattern::pattern_ops;
pub use security::{security_handshake, z85, zap_reply};

/// A deterministic xorshift generator: split points and fake delays follow from a seed
/// byte of the input, so a crashing input replays exactly.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        // Never zero: xorshift would stay at zero forever.
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

/// Chooses how an input is cut into reads: one read, one byte per read, small reads
/// (0 to 16 bytes, empty reads included) or larger ones (0 to 300 bytes).
#[derive(Debug, Clone)]
struct Splitter {
    mode: u8,
    rng: Rng,
}

impl Splitter {
    fn new(control: u8, len: usize) -> Self {
        Splitter {
            mode: control & 3,
            rng: Rng::new((u64::from(control) << 32) | len as u64),
        }
    }

    /// Cuts `data` into the successive reads.
    fn chunks<'a>(&mut self, mut data: &'a [u8]) -> Vec<&'a [u8]> {
        let mut out = Vec::new();
        while !data.is_empty() {
            let len = match self.mode {
                0 => data.len(),
                1 => 1,
                2 => self.rng.below(17) as usize,
                _ => self.rng.below(301) as usize,
            };
            let (chunk, rest) = data.split_at(len.min(data.len()));
            out.push(chunk);
            data = rest;
        }
        out
    }
}

/// Decodes frames until the input runs dry or an error: the frames, the outcome, and
/// how many bytes were left in the buffer.
fn drain_frames(
    decoder: &mut FrameDecoder,
    input: &mut SegmentedBuffer,
    frames: &mut Vec<Frame>,
) -> Result<(), ProtocolError> {
    while let Some(frame) = decoder.decode(input)? {
        frames.push(frame);
    }
    Ok(())
}

/// [`FrameDecoder`] over a [`SegmentedBuffer`].
///
/// Byte 0: bit 7 sets a maximum size of `16 * (bits 4-0)` bytes (0 to 496, across the
/// short/long boundary), otherwise none; bits 1-0 pick the split mode. The rest is the
/// stream. Checks: the chunked feed gives the same frames, outcome and leftover as one
/// read; each frame re-encoded with [`frame::put_frame`] decodes to itself.
pub fn frame_decoder(data: &[u8]) {
    let Some((&control, stream)) = data.split_first() else {
        return;
    };
    let max = (control & 0x80 != 0).then(|| 16 * u64::from(control & 0x1F));

    // Reference: the whole stream in one read.
    let mut whole_input = SegmentedBuffer::new();
    whole_input.push(Bytes::copy_from_slice(stream));
    let mut whole_frames = Vec::new();
    let whole = drain_frames(
        &mut FrameDecoder::new(max),
        &mut whole_input,
        &mut whole_frames,
    );

    let mut input = SegmentedBuffer::new();
    let mut decoder = FrameDecoder::new(max);
    let mut frames = Vec::new();
    let mut outcome = Ok(());
    for chunk in Splitter::new(control, stream.len()).chunks(stream) {
        input.push(Bytes::copy_from_slice(chunk));
        outcome = drain_frames(&mut decoder, &mut input, &mut frames);
        if outcome.is_err() {
            break;
        }
    }
    assert_eq!(frames, whole_frames, "split reads changed the frames");
    assert_eq!(outcome, whole, "split reads changed the outcome");
    if outcome.is_ok() {
        assert_eq!(
            input.len(),
            whole_input.len(),
            "split reads changed leftovers"
        );
    }

    for frame in &frames {
        assert!(!(frame.command && frame.more), "command frame with MORE");
        if let Some(max) = max {
            assert!(frame.body.len() as u64 <= max, "frame above the limit");
        }
        let mut out = BytesMut::new();
        frame::put_frame(&mut out, frame.more, frame.command, &frame.body);
        assert_eq!(
            out.len(),
            frame::header_len(frame.body.len()) + frame.body.len()
        );
        let mut again = SegmentedBuffer::new();
        again.push(out.freeze());
        match FrameDecoder::new(max).decode(&mut again) {
            Ok(Some(decoded)) => assert_eq!(&decoded, frame, "frame round trip"),
            other => panic!("re-encoded frame did not decode: {other:?}"),
        }
        assert!(again.is_empty(), "re-encoded frame left bytes behind");
    }
}

/// [`GreetingDecoder`] fed in reads.
///
/// Byte 0 (bits 1-0) picks the split mode; the rest is the peer's bytes. Checks: the
/// decoder takes at most the 64 greeting octets and reports them; split reads give
/// the same outcome as one read; a decoded greeting encodes and decodes to itself.
pub fn greeting(data: &[u8]) {
    let Some((&control, stream)) = data.split_first() else {
        return;
    };
    let mut whole_decoder = GreetingDecoder::new();
    let whole = whole_decoder
        .feed(stream)
        .map(|taken| (taken, whole_decoder.peer_greeting()));

    let mut decoder = GreetingDecoder::new();
    let mut fed = 0usize;
    let mut outcome = Ok(());
    for chunk in Splitter::new(control, stream.len()).chunks(stream) {
        match decoder.feed(chunk) {
            Ok(taken) => {
                assert!(taken <= chunk.len());
                fed += taken;
                assert_eq!(decoder.received(), fed);
                assert!(fed <= GREETING_LEN);
                if taken < chunk.len() {
                    assert!(
                        decoder.peer_greeting().is_some(),
                        "took less before the end"
                    );
                }
                assert_eq!(decoder.signature_received(), fed >= SIGNATURE_LEN);
            }
            Err(err) => {
                outcome = Err(err);
                break;
            }
        }
    }
    let chunked = outcome.map(|()| (fed, decoder.peer_greeting()));
    assert_eq!(chunked, whole, "split reads changed the greeting outcome");

    if let Ok((fed, Some(PeerGreeting::V2 { .. }))) = chunked {
        assert_eq!(fed, GREETING_V2_LEN);
        assert_eq!(stream[10], 1, "a 12-octet greeting is revision 1");
    }
    if let Ok((_, Some(PeerGreeting::V3(greeting)))) = chunked {
        assert!(greeting.version.major >= 3);
        let bytes = greeting.encode();
        assert_eq!(
            Greeting::decode(&bytes),
            Ok(greeting),
            "greeting round trip"
        );
        // Version and mechanism are carried octet for octet.
        assert_eq!(bytes[10..32], stream[10..32]);
        let negotiated = Version::negotiate(OUR_VERSION, greeting.version);
        assert!(negotiated <= OUR_VERSION);
        let _ = greeting.mechanism.to_string();
    }
}

/// [`Command::decode`] on a command frame body.
///
/// Checks for every body that decodes: the command encodes as one command frame whose
/// body is exactly the input (the encoding is canonical) and decodes to an equal
/// command; READY metadata goes through the handshake's peer checks without panicking.
pub fn command(data: &[u8]) {
    let Ok(command) = Command::decode(Bytes::copy_from_slice(data)) else {
        return;
    };
    let mut out = BytesMut::new();
    command.encode(&mut out);
    // Strip the frame header the encoder writes first, with the frame decoder.
    let mut input = SegmentedBuffer::new();
    input.push(out.freeze());
    let body = match FrameDecoder::new(None).decode(&mut input) {
        Ok(Some(Frame {
            more: false,
            command: true,
            body,
        })) => body,
        other => panic!("encoded command is not one command frame: {other:?}"),
    };
    assert!(input.is_empty(), "encoder wrote more than one frame");
    assert_eq!(body.len(), command.body_len());
    assert_eq!(&body[..], data, "re-encoded body differs from the input");
    assert_eq!(
        Command::decode(body),
        Ok(command.clone()),
        "command round trip"
    );

    if let Command::Ready(metadata) = command {
        let _ = metadata.socket_type();
        for ours in SocketType::ALL {
            if let Ok(peer) = check_peer_ready(ours, metadata.clone(), OUR_VERSION) {
                assert!(ours.is_compatible(peer.socket_type));
                if let Some(id) = &peer.routing_id {
                    assert!(!id.is_empty() && id.len() <= 255 && id[0] != 0);
                }
            }
        }
    }
}

/// What the event stream of one session has shown so far.
#[derive(Debug, Default)]
struct EventLog {
    handshakes: usize,
    closed: bool,
}

impl EventLog {
    /// Drains the session's events, checking their order: at most one
    /// `HandshakeComplete`, traffic only after it, nothing after `Closed`.
    fn drain(&mut self, session: &mut Session) {
        self.drain_with(session, |_| {});
    }

    /// [`drain`](Self::drain), showing each event to `see` after it is checked.
    fn drain_with(&mut self, session: &mut Session, mut see: impl FnMut(&Event)) {
        while let Some(event) = session.poll_event() {
            assert!(!self.closed, "event after Closed: {event:?}");
            self.check(session, &event);
            see(&event);
        }
        assert_eq!(session.is_closed(), self.closed, "closed without Closed");
        if self.closed {
            assert_eq!(session.poll_timeout(), None, "timer armed after Closed");
        }
    }

    fn check(&mut self, session: &Session, event: &Event) {
        {
            match event {
                Event::HandshakeComplete(peer) => {
                    self.handshakes += 1;
                    assert_eq!(self.handshakes, 1, "second handshake");
                    assert!(session.config().socket_type.is_compatible(peer.socket_type));
                }
                Event::Message(message) => {
                    assert_eq!(self.handshakes, 1, "message before the handshake");
                    assert!(!message.is_empty(), "empty message delivered");
                    if let Some(max) = session.config().max_msg_size {
                        let largest = message.iter().map(|f| f.len()).max().unwrap_or(0);
                        assert!(largest as u64 <= max, "frame above the limit");
                    }
                }
                Event::Subscribe(_) | Event::Cancel(_) => {
                    assert_eq!(self.handshakes, 1, "subscription before the handshake");
                }
                Event::Closed(_) => self.closed = true,
                Event::Authenticate(_) => {
                    assert_eq!(self.handshakes, 0, "ZAP asked after the handshake");
                }
            }
        }
    }
}

/// Checks that what a session wrote is a greeting followed by well-formed frames
/// whose command frames decode.
fn check_transmitted(sent: &[u8]) {
    let mut greeting = GreetingDecoder::new();
    let taken = match greeting.feed(sent) {
        Ok(taken) => taken,
        Err(err) => panic!("our greeting was refused: {err}"),
    };
    // The signature and major version go out at once, before anything is read.
    assert!(taken >= SIGNATURE_LEN, "signature not sent first");
    if taken < GREETING_LEN {
        return;
    }
    let mut input = SegmentedBuffer::new();
    input.push(Bytes::copy_from_slice(&sent[taken..]));
    let mut frames = Vec::new();
    if let Err(err) = drain_frames(&mut FrameDecoder::new(None), &mut input, &mut frames) {
        panic!("we wrote a malformed frame: {err}");
    }
    assert!(input.is_empty(), "we wrote a truncated frame");
    for frame in frames.into_iter().filter(|f| f.command) {
        if let Err(err) = Command::decode(frame.body) {
            panic!("we wrote a malformed command: {err}");
        }
    }
}

/// One [`Session`] fed a hostile peer's bytes.
///
/// Byte 0 picks the socket type (modulo 11); byte 1 holds options: bit 0 prefixes a
/// valid peer greeting and READY, bit 1 makes that peer ZMTP 3.0, bit 2 enables
/// heartbeats, bit 3 sets a 64-byte maximum message size, bit 4 gives us a routing
/// id, bit 5 gives the peer one, bit 6 disables the handshake deadline, bit 7 has us
/// send between reads. Byte 2 picks the split mode and seeds the fake clock. Between
/// reads the clock jumps by 0, 0.1 s, 1 s or 40 s and timers fire.
///
/// Checks: events come in a legal order (see `EventLog`), sends succeed exactly when
/// the session is active, a closed session stays silent, and everything the session
/// writes is a valid greeting followed by well-formed frames.
pub fn session(data: &[u8]) {
    let [type_byte, options, control, stream @ ..] = data else {
        return;
    };
    let ours = SocketType::ALL[usize::from(*type_byte) % SocketType::ALL.len()];
    let option = |bit: u8| options & (1 << bit) != 0;
    let start = Instant::now();
    let mut config = SessionConfig::new(ours);
    if option(2) {
        config.heartbeat_ivl = Some(Duration::from_secs(1));
        config.heartbeat_ttl = Some(Duration::from_secs(3));
        config.heartbeat_timeout = Some(Duration::from_millis(1500));
    }
    if option(3) {
        config.max_msg_size = Some(64);
    }
    if option(4) {
        config.routing_id = Some(Bytes::from_static(b"us"));
    }
    if option(6) {
        config.handshake_ivl = None;
    }
    let Ok(mut session) = Session::new(config, start) else {
        panic!("valid configuration refused");
    };

    let mut peer_bytes = Vec::new();
    if option(0) {
        let mut greeting = Greeting::new(MechanismName::NULL, false);
        if option(1) {
            greeting.version = Version { major: 3, minor: 0 };
        }
        peer_bytes.extend_from_slice(&greeting.encode());
        let theirs = SocketType::ALL
            .into_iter()
            .find(|t| ours.is_compatible(*t))
            .unwrap_or(ours);
        let identity = option(5).then_some(&b"peer"[..]);
        let mut ready = BytesMut::new();
        Command::ready(theirs, identity).encode(&mut ready);
        peer_bytes.extend_from_slice(&ready);
    }
    peer_bytes.extend_from_slice(stream);

    let mut rng = Rng::new((u64::from(*control) << 8) | u64::from(*type_byte));
    let mut now = start;
    let mut log = EventLog::default();
    let mut sent = Vec::new();
    let mut wire = BytesMut::new();
    let mut transmit = |session: &mut Session, sent: &mut Vec<u8>| {
        let pending = session.pending_transmit();
        assert_eq!(session.poll_transmit(&mut wire), pending);
        assert_eq!(session.pending_transmit(), 0);
        sent.extend_from_slice(&wire.split());
    };
    transmit(&mut session, &mut sent);
    for chunk in Splitter::new(*control, peer_bytes.len()).chunks(&peer_bytes) {
        let was_closed = session.is_closed();
        session.handle_input(Bytes::copy_from_slice(chunk), now);
        if was_closed {
            assert_eq!(session.pending_transmit(), 0, "closed session wrote");
            assert_eq!(session.poll_event(), None, "closed session reported");
        }
        log.drain(&mut session);

        now += match rng.below(4) {
            0 => Duration::ZERO,
            1 => Duration::from_millis(100),
            2 => Duration::from_secs(1),
            _ => Duration::from_secs(40),
        };
        if rng.below(2) == 0 {
            session.handle_timeout(now);
        } else if let Some(at) = session.poll_timeout() {
            now = now.max(at);
            session.handle_timeout(now);
        }
        log.drain(&mut session);

        if option(7) {
            let active = session.is_active();
            let result = match rng.below(4) {
                0 => session.send_message(&Message::from(["", "body"])).map(drop),
                1 => session.subscribe(b"topic"),
                2 => session.cancel(b""),
                _ => match session.send_message(&Message::new()) {
                    Err(ProtocolError::EmptyMessage) if active => Ok(()),
                    Ok(_) => panic!("empty message accepted"),
                    Err(err) => Err(err),
                },
            };
            assert_eq!(result.is_ok(), active, "send result {result:?}");
        }
        transmit(&mut session, &mut sent);
    }
    log.drain(&mut session);
    transmit(&mut session, &mut sent);
    check_transmitted(&sent);
}

/// [`Endpoint::parse`] on the input as (lossy) UTF-8.
///
/// Checks: a parsed endpoint displays as a string that parses back to it, and
/// `for_connect` never panics.
pub fn endpoint(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(endpoint) = Endpoint::parse(&text) else {
        return;
    };
    let shown = endpoint.to_string();
    assert_eq!(
        Endpoint::parse(&shown).as_ref(),
        Ok(&endpoint),
        "{text:?} displays as {shown:?}"
    );
    let _ = endpoint.for_connect(&text);
}
