//! One peer connection's protocol state, in quinn-proto's shape.
//!
//! A driver calls, in this order, whenever something happens:
//!
//! 1. [`Session::handle_input`] with the bytes it read (any split);
//! 2. [`Session::handle_timeout`] when the instant from [`Session::poll_timeout`] passed;
//! 3. [`Session::send_message`], [`Session::subscribe`], [`Session::cancel`] for what the
//!    socket wants to send;
//! 4. then drains [`Session::poll_event`] (handshake done, messages, subscriptions,
//!    errors) and [`Session::poll_transmit`] (bytes to write), and re-arms its timer
//!    with [`Session::poll_timeout`].
//!
//! After the handshake, input is decoded as events are polled: each message is built
//! and handed out directly, never parked in a queue, and commands (a PING's PONG)
//! take effect when they are reached. Drain `poll_event` before `poll_transmit`.
//!
//! The session never reads the clock and never performs IO: time is the `now` argument,
//! so handshake deadlines and heartbeats are tested with a fake clock.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use monocoque_core::SegmentedBuffer;

use crate::proto::command::Command;
use crate::proto::error::ProtocolError;
use crate::proto::frame::{Frame, FrameDecoder};
use crate::proto::greeting::Version;
use crate::proto::handshake::{Completed, Handshake, LocalIdentity, LocalSide, PeerInfo};
use crate::proto::mechanism::Security;
use crate::proto::message::Message;
use crate::proto::socket_type::SocketType;
use crate::proto::zap::{ZapAnswer, ZapRequest};

#[cfg(feature = "curve")]
type Cipher = crate::proto::mechanism::curve::Cipher;
/// Without CURVE no cipher exists: frames always travel in clear.
#[cfg(not(feature = "curve"))]
type Cipher = std::convert::Infallible;

/// Largest command accepted during the handshake, whatever `max_msg_size` says: a
/// peer that has not authenticated cannot make us hold more (libzmq's own commands
/// carry at most a few hundred bytes of properties).
const HANDSHAKE_FRAME_MAX: u64 = 64 * 1024;

/// Frames of at least this many bytes are not copied into the output buffer: they
/// are queued by reference and written with a vectored write.
pub(crate) const ZERO_COPY_MIN: usize = 8 * 1024;

/// How many write batches (`BufferConfig::write_batch_size`) of frames sent by
/// reference one write may carry. They cost no copy, and fewer, larger writes move
/// large messages faster: four 64 KiB messages per write instead of one
/// (docs/performance.md, "Write size that follows the message size").
pub(crate) const BY_REFERENCE_BATCHES: usize = 4;

/// Most chunks [`Session::poll_transmit_chunks`] hands out at once: one vectored write
/// may carry at most 1,024 buffers on Linux (`IOV_MAX`), and a message of many large
/// frames must not make its write fail.
pub(crate) const MAX_CHUNKS_PER_WRITE: usize = 512;

/// Per-connection protocol options (libzmq's names in brackets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// Our socket type.
    pub socket_type: SocketType,
    /// Our routing id, sent as the `Identity` property (`ZMQ_ROUTING_ID`).
    pub routing_id: Option<Bytes>,
    /// Largest frame accepted from the peer (`ZMQ_MAXMSGSIZE`, checked per frame as
    /// libzmq does; `None` is unlimited, libzmq's default).
    pub max_msg_size: Option<u64>,
    /// Time allowed for the handshake (`ZMQ_HANDSHAKE_IVL`, 30 s by default; `None`
    /// disables the deadline).
    pub handshake_ivl: Option<Duration>,
    /// Interval between PINGs (`ZMQ_HEARTBEAT_IVL`; `None`, the default, sends none).
    pub heartbeat_ivl: Option<Duration>,
    /// TTL we ask the peer to apply to us (`ZMQ_HEARTBEAT_TTL`), sent in PINGs in
    /// tenths of a second.
    pub heartbeat_ttl: Option<Duration>,
    /// How long to wait for any traffic after a PING (`ZMQ_HEARTBEAT_TIMEOUT`;
    /// `None` uses `heartbeat_ivl`, as libzmq does).
    pub heartbeat_timeout: Option<Duration>,
    /// The security mechanism and our role in it (`ZMQ_PLAIN_*`, `ZMQ_CURVE_*`).
    pub security: Security,
    /// `ZMQ_ZAP_DOMAIN` (empty when unset).
    pub zap_domain: Bytes,
    /// `ZMQ_ZAP_ENFORCE_DOMAIN`: authenticate through ZAP even without a domain, and
    /// fail when there is no handler.
    pub zap_enforce_domain: bool,
}

impl SessionConfig {
    /// libzmq's defaults for a socket type.
    pub fn new(socket_type: SocketType) -> Self {
        SessionConfig {
            socket_type,
            routing_id: None,
            max_msg_size: None,
            handshake_ivl: Some(Duration::from_secs(30)),
            heartbeat_ivl: None,
            heartbeat_ttl: None,
            heartbeat_timeout: None,
            security: Security::Null,
            zap_domain: Bytes::new(),
            zap_enforce_domain: false,
        }
    }
}

/// What a session reports to its socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The handshake completed; messages may now be sent. (Boxed, as is every rare
    /// event's payload: `Event` is moved once per message, so it stays the size of
    /// a message.)
    HandshakeComplete(Box<PeerInfo>),
    /// A whole message arrived (all its frames: delivery is atomic).
    Message(Message),
    /// The peer subscribed to a topic (ZMTP 3.1 SUBSCRIBE or a 3.0 `0x01` message).
    Subscribe(Bytes),
    /// The peer cancelled a subscription (ZMTP 3.1 CANCEL or a 3.0 `0x00` message).
    Cancel(Bytes),
    /// The mechanism needs a ZAP decision about the peer: the handshake waits until
    /// [`Session::handle_zap_answer`] gives it. The driver fills in the peer's address.
    Authenticate(Box<ZapRequest>),
    /// The session failed and is closed. Bytes still waiting in
    /// [`Session::poll_transmit`] (an ERROR command for the peer) should be written
    /// before the connection is closed.
    Closed(ProtocolError),
}

#[derive(Debug)]
enum State {
    Handshake(Box<Handshake>),
    Active(Version),
    Closed,
}

/// The protocol state of one peer connection.
///
/// ```
/// use std::time::Instant;
/// use bytes::BytesMut;
/// use monocoque_zmtp::proto::session::{Event, Session, SessionConfig};
/// use monocoque_zmtp::proto::socket_type::SocketType;
///
/// let now = Instant::now();
/// let mut client = Session::new(SessionConfig::new(SocketType::Req), now).unwrap();
/// let mut server = Session::new(SessionConfig::new(SocketType::Rep), now).unwrap();
/// // Shuttle bytes until both sides are quiet.
/// let mut wire = BytesMut::new();
/// for _ in 0..4 {
///     client.poll_transmit(&mut wire);
///     server.handle_input(wire.split().freeze(), now);
///     server.poll_transmit(&mut wire);
///     client.handle_input(wire.split().freeze(), now);
/// }
/// assert!(matches!(client.poll_event(), Some(Event::HandshakeComplete(_))));
/// client.send_message(&"Hello".into()).unwrap();
/// client.poll_transmit(&mut wire);
/// server.handle_input(wire.split().freeze(), now);
/// assert!(matches!(server.poll_event(), Some(Event::HandshakeComplete(_))));
/// assert_eq!(server.poll_event(), Some(Event::Message("Hello".into())));
/// ```
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    state: State,
    input: SegmentedBuffer,
    frames: FrameDecoder,
    /// Frames of a message whose last frame has not arrived yet.
    partial: Message,
    out: BytesMut,
    /// Output that goes before `out`: encoded bytes and large payloads queued by
    /// reference (frames of 8 KiB or more).
    chunks: VecDeque<Bytes>,
    chunks_len: usize,
    events: VecDeque<Event>,
    /// CURVE's cipher once its handshake completed: every frame goes through it.
    cipher: Option<Cipher>,
    /// The peer's properties (and `User-Id`), attached to each message under PLAIN and
    /// CURVE; none under NULL, where nobody vouched for them.
    properties: Option<std::sync::Arc<crate::proto::command::Metadata>>,
    /// The peer's whole greeting arrived: from then on it can read an ERROR command.
    greeted: bool,
    /// The peer speaks ZMTP 2.0: it reads no command (no ERROR, no PING) and sends none.
    v2: bool,
    handshake_deadline: Option<Instant>,
    next_ping: Option<Instant>,
    /// Set when we sent a PING and have heard nothing since.
    pong_deadline: Option<Instant>,
    /// Set when the peer's PING asked for a TTL and nothing arrived since.
    ttl_deadline: Option<Instant>,
    /// When the last input arrived: the time of the frames decoded from it.
    input_time: Instant,
}

impl Session {
    /// Starts a session; our greeting's first part is ready in
    /// [`poll_transmit`](Self::poll_transmit) at once.
    pub fn new(config: SessionConfig, now: Instant) -> Result<Session, ProtocolError> {
        let identity = LocalIdentity {
            socket_type: config.socket_type,
            routing_id: config.routing_id.clone(),
        };
        identity.validate()?;
        let local = LocalSide {
            identity,
            security: config.security.clone(),
            zap_domain: config.zap_domain.clone(),
            zap_enforce: config.zap_enforce_domain,
        };
        let mut out = BytesMut::with_capacity(128);
        let handshake = Handshake::start(local, &mut out);
        let handshake_max = config
            .max_msg_size
            .map_or(HANDSHAKE_FRAME_MAX, |max| max.min(HANDSHAKE_FRAME_MAX));
        Ok(Session {
            frames: FrameDecoder::new(Some(handshake_max)),
            handshake_deadline: config.handshake_ivl.map(|ivl| now + ivl),
            config,
            state: State::Handshake(Box::new(handshake)),
            input: SegmentedBuffer::new(),
            partial: Message::new(),
            out,
            chunks: VecDeque::new(),
            chunks_len: 0,
            events: VecDeque::new(),
            cipher: None,
            properties: None,
            greeted: false,
            v2: false,
            next_ping: None,
            pong_deadline: None,
            ttl_deadline: None,
            input_time: now,
        })
    }

    /// The configuration the session was made with.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// Whether the handshake completed and the session is not closed.
    pub fn is_active(&self) -> bool {
        matches!(self.state, State::Active(_))
    }

    /// Whether the session failed or was closed.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// The negotiated version once the handshake completed.
    pub fn version(&self) -> Option<Version> {
        match self.state {
            State::Active(v) => Some(v),
            _ => None,
        }
    }

    /// Feeds bytes read from the connection. Any bytes count as liveness.
    ///
    /// During the handshake the input is processed at once. After it, input is
    /// decoded by [`poll_event`](Self::poll_event): a protocol error, a PING's PONG or
    /// [`is_closed`](Self::is_closed) becoming true show only once events are polled.
    pub fn handle_input(&mut self, data: Bytes, now: Instant) {
        if self.is_closed() {
            return;
        }
        self.note_input(now);
        self.input.push(data);
        if let Err(err) = self.process_handshake(now) {
            self.fail(err);
        }
    }

    /// Lends the buffer of a large frame waiting for the rest of its body, for a read
    /// straight into its spare capacity (see [`FrameDecoder::lend_body`]); only after
    /// the handshake; with the size the body must reach. Give it back with
    /// [`return_body`](Self::return_body).
    pub fn lend_body(&mut self) -> Option<(Vec<u8>, usize)> {
        if !self.is_active() {
            return None;
        }
        self.frames.lend_body()
    }

    /// Takes back a lent body with the bytes a read appended: input, as
    /// [`handle_input`](Self::handle_input) takes it.
    pub fn return_body(&mut self, body: Vec<u8>, now: Instant) {
        if self.is_closed() {
            return;
        }
        self.note_input(now);
        if let Some(past) = self.frames.return_body(body) {
            // Nothing else was read while the body was lent: these come next.
            self.input.push(past);
        }
    }

    /// Bytes arrived at `now`: the peer is alive.
    fn note_input(&mut self, now: Instant) {
        self.pong_deadline = None;
        self.ttl_deadline = None;
        self.input_time = now;
    }

    /// Whether large frames are arriving (the last one decoded had a body of its
    /// own): a driver then keeps its reads into read pages short.
    pub fn expects_large(&self) -> bool {
        self.frames.expects_large()
    }

    /// Runs the handshake as far as the input allows. Input after it is decoded by
    /// [`poll_event`](Self::poll_event).
    fn process_handshake(&mut self, now: Instant) -> Result<(), ProtocolError> {
        loop {
            let handshake = match std::mem::replace(&mut self.state, State::Closed) {
                State::Handshake(handshake) => handshake,
                state => {
                    self.state = state;
                    return Ok(());
                }
            };
            let (next, zap) = match *handshake {
                Handshake::ExpectGreeting(s) => s.handle_input(&mut self.input, &mut self.out)?,
                Handshake::Exchanging(s) => {
                    let frame = match s.waits_for_zap() {
                        true => None,
                        false => self.frames.decode(&mut self.input)?,
                    };
                    let Some(frame) = frame else {
                        self.state = State::Handshake(Box::new(Handshake::Exchanging(s)));
                        return Ok(());
                    };
                    s.handle_frame(frame, &mut self.out)?
                }
                Handshake::ExpectIdentity(s) => {
                    let Some(frame) = self.frames.decode(&mut self.input)? else {
                        self.state = State::Handshake(Box::new(Handshake::ExpectIdentity(s)));
                        return Ok(());
                    };
                    (s.handle_frame(frame)?, None)
                }
                Handshake::Done(completed) => (Handshake::Done(completed), None),
            };
            if let Some(request) = zap {
                self.events
                    .push_back(Event::Authenticate(Box::new(request)));
            }
            self.advance_handshake(next, now);
            if !self.greeted {
                return Ok(());
            }
        }
    }

    /// Moves to the next handshake state, completing it when done.
    fn advance_handshake(&mut self, next: Handshake, now: Instant) {
        self.greeted = next.expects_frames();
        self.v2 |= matches!(next, Handshake::ExpectIdentity(_));
        match next {
            Handshake::Done(completed) => self.complete_handshake(completed, now),
            next => self.state = State::Handshake(Box::new(next)),
        }
    }

    /// Gives the ZAP decision asked for by [`Event::Authenticate`]; the handshake goes
    /// on (or fails) at once.
    pub fn handle_zap_answer(&mut self, answer: ZapAnswer, now: Instant) {
        let State::Handshake(handshake) = std::mem::replace(&mut self.state, State::Closed) else {
            return self.fail(ProtocolError::InvalidOption("no ZAP request is pending"));
        };
        let Handshake::Exchanging(s) = *handshake else {
            return self.fail(ProtocolError::InvalidOption("no ZAP request is pending"));
        };
        let result = s
            .handle_zap(answer, &mut self.out)
            .map(|(next, _)| self.advance_handshake(next, now))
            .and_then(|()| self.process_handshake(now));
        if let Err(err) = result {
            self.fail(err);
        }
    }

    fn complete_handshake(&mut self, completed: Completed, now: Instant) {
        let peer = completed.peer;
        if !matches!(self.config.security, Security::Null) || peer.user_id.is_some() {
            let mut properties = peer.metadata.clone();
            if let Some(user_id) = &peer.user_id {
                // "User-Id" is a valid name and a user id is far below 2^31 bytes.
                let _ = properties.insert("User-Id", user_id.clone());
            }
            self.properties = Some(std::sync::Arc::new(properties));
        }
        #[cfg(feature = "curve")]
        {
            self.cipher = completed.cipher;
        }
        self.frames.set_max_size(self.config.max_msg_size);
        self.state = State::Active(peer.version);
        self.handshake_deadline = None;
        // ZMTP 2.0 has no PING: heartbeats need 3.x.
        self.next_ping = match self.v2 {
            true => None,
            false => self.config.heartbeat_ivl.map(|ivl| now + ivl),
        };
        self.events
            .push_back(Event::HandshakeComplete(Box::new(peer)));
    }

    /// Decodes frames until a message (into `slot`) or another event (into
    /// `events`) is complete. Nothing but the error comes back: an event returned
    /// by value was copied whole on every message, though it was nearly always
    /// `None`.
    fn decode_event(&mut self, slot: &mut Option<Message>) -> Result<(), ProtocolError> {
        while let Some(mut frame) = self.frames.decode(&mut self.input)? {
            // The plain path stays free of the cipher's Result: measured, wrapping
            // every frame in it cost about 25 instructions per message.
            if self.cipher.is_some() {
                frame = self.open_frame(frame)?;
            }
            self.handle_frame(frame, slot)?;
            if slot.is_some() || !self.events.is_empty() {
                break;
            }
        }
        Ok(())
    }

    /// Takes a CURVE frame out of its MESSAGE box; other frames pass as they are.
    #[inline(never)]
    fn open_frame(&mut self, frame: Frame) -> Result<Frame, ProtocolError> {
        match &mut self.cipher {
            None => Ok(frame),
            #[cfg(feature = "curve")]
            Some(cipher) => cipher.open_frame(frame),
            #[cfg(not(feature = "curve"))]
            Some(never) => match *never {},
        }
    }

    /// Appends one frame, in a MESSAGE box under CURVE.
    fn put_frame(&mut self, more: bool, command: bool, body: &[u8]) {
        match &mut self.cipher {
            None => crate::proto::frame::put_frame(&mut self.out, more, command, body),
            #[cfg(feature = "curve")]
            Some(cipher) => cipher.seal_frame(more, command, body, &mut self.out),
            #[cfg(not(feature = "curve"))]
            Some(never) => match *never {},
        }
    }

    /// Appends a command, in a MESSAGE box under CURVE.
    fn put_command(&mut self, command: &Command) {
        if self.cipher.is_none() {
            return command.encode(&mut self.out);
        }
        let mut body = BytesMut::with_capacity(command.body_len());
        command.encode_body(&mut body);
        self.put_frame(false, true, &body);
    }

    /// Takes one frame: a message completed by this frame goes into `slot`, any
    /// other event into `events`.
    fn handle_frame(
        &mut self,
        frame: Frame,
        slot: &mut Option<Message>,
    ) -> Result<(), ProtocolError> {
        if frame.command {
            if self.v2 {
                // Bit 2 is reserved in ZMTP 2.0 framing (RFC 15).
                let flags = crate::proto::frame::FLAG_COMMAND;
                return Err(ProtocolError::ReservedFlags { flags });
            }
            let event = self.handle_command(Command::decode(frame.body)?)?;
            self.events.extend(event);
            return Ok(());
        }
        // `max_msg_size` limits each frame, as libzmq's decoder does (checked by the
        // frame decoder before the body is buffered): a multipart message whose
        // frames are each under the limit is legal for libzmq, so it is here.
        // A one-frame message (the common case) is built in place, not through
        // `partial`, so its bytes are written once.
        if !frame.more && self.partial.is_empty() && !self.is_publisher() {
            *slot = Some(self.with_properties(Message::from(frame.body)));
            return Ok(());
        }
        self.partial.push(frame.body);
        if frame.more {
            return Ok(());
        }
        if let Some(event) = self.subscription_message() {
            self.partial = Message::new();
            self.events.push_back(event);
            return Ok(());
        }
        let message = std::mem::take(&mut self.partial);
        *slot = Some(self.with_properties(message));
        Ok(())
    }

    /// Attaches the connection's properties, when it has any.
    #[inline]
    fn with_properties(&self, mut message: Message) -> Message {
        if let Some(properties) = &self.properties {
            message.set_properties(properties.clone());
        }
        message
    }

    /// RFC 29 for ZMTP 3.0: a publisher reads a subscriber's one-frame message starting
    /// with 0x01 as a subscription and with 0x00 as a cancellation.
    fn is_publisher(&self) -> bool {
        matches!(self.config.socket_type, SocketType::Pub | SocketType::Xpub)
    }

    fn subscription_message(&self) -> Option<Event> {
        if self.is_publisher() && self.partial.len() == 1 {
            let body = &self.partial[0];
            match body.first() {
                Some(1) => return Some(Event::Subscribe(body.slice(1..))),
                Some(0) => return Some(Event::Cancel(body.slice(1..))),
                _ => {}
            }
        }
        None
    }

    fn handle_command(&mut self, command: Command) -> Result<Option<Event>, ProtocolError> {
        let now = self.input_time;
        match command {
            Command::Ping { ttl, context } => {
                // RFC 37: answer with a PONG carrying the PING's context; a non-zero TTL
                // asks us to close if nothing arrives from the peer for that long.
                self.put_command(&Command::pong(context));
                if ttl > 0 && self.ttl_deadline.is_none() {
                    self.ttl_deadline = Some(now + Duration::from_millis(u64::from(ttl) * 100));
                }
            }
            Command::Pong { .. } => {}
            Command::Subscribe(topic) => return Ok(Some(Event::Subscribe(topic))),
            Command::Cancel(topic) => return Ok(Some(Event::Cancel(topic))),
            Command::Error { reason } => {
                return Err(ProtocolError::PeerError {
                    reason: String::from_utf8_lossy(&reason).into_owned(),
                });
            }
            Command::Ready(_) => {
                return Err(ProtocolError::UnexpectedCommand {
                    name: "READY".into(),
                    during: "after the handshake",
                });
            }
            // Unknown commands are ignored, as libzmq does: a later ZMTP revision may
            // add some, and they never reach the socket.
            Command::Other { .. } => {}
        }
        Ok(None)
    }

    /// Queues a message for the peer. Returns how many bytes were copied to do so:
    /// frames of 8 KiB or more go by reference (not under CURVE, which seals every
    /// frame into a box of its own).
    pub fn send_message(&mut self, message: &Message) -> Result<usize, ProtocolError> {
        self.check_sendable()?;
        if message.is_empty() {
            return Err(ProtocolError::EmptyMessage);
        }
        let before = self.pending_transmit();
        if self.cipher.is_some() {
            let last = message.len() - 1;
            for (i, frame) in message.iter().enumerate() {
                self.put_frame(i < last, false, frame);
            }
            return Ok(self.pending_transmit() - before);
        }
        if message.iter().all(|frame| frame.len() < ZERO_COPY_MIN) {
            message.encode(&mut self.out);
            return Ok(self.pending_transmit() - before);
        }
        let last = message.len() - 1;
        let mut by_reference = 0;
        for (i, frame) in message.iter().enumerate() {
            crate::proto::frame::put_header(&mut self.out, i < last, false, frame.len());
            if frame.len() >= ZERO_COPY_MIN {
                self.push_chunk(frame.clone());
                by_reference += frame.len();
            } else {
                self.out.extend_from_slice(frame);
            }
        }
        Ok(self.pending_transmit() - before - by_reference)
    }

    /// Queues `chunk` by reference after everything encoded so far.
    fn push_chunk(&mut self, chunk: Bytes) {
        if !self.out.is_empty() {
            let encoded = self.out.split().freeze();
            self.chunks_len += encoded.len();
            self.chunks.push_back(encoded);
        }
        self.chunks_len += chunk.len();
        self.chunks.push_back(chunk);
    }

    /// Queues a message already encoded by [`Message::to_wire`] (one encoding shared
    /// by many sessions, as a publisher does). Returns how many bytes were copied, as
    /// [`send_message`](Self::send_message) does.
    pub fn send_encoded(&mut self, wire: &Bytes) -> Result<usize, ProtocolError> {
        self.check_sendable()?;
        if wire.is_empty() {
            return Err(ProtocolError::EmptyMessage);
        }
        if self.cipher.is_some() {
            // Each frame gets its own box: take the shared encoding apart again.
            let before = self.pending_transmit();
            let mut input = SegmentedBuffer::new();
            input.push(wire.clone());
            let mut frames = FrameDecoder::new(None);
            while let Some(frame) = frames.decode(&mut input)? {
                self.put_frame(frame.more, frame.command, &frame.body);
            }
            return Ok(self.pending_transmit() - before);
        }
        if wire.len() >= ZERO_COPY_MIN {
            self.push_chunk(wire.clone());
            return Ok(0);
        }
        self.out.extend_from_slice(wire);
        Ok(wire.len())
    }

    /// Sends a subscription upstream: a SUBSCRIBE command to a ZMTP 3.1 peer, a
    /// message `0x01 + topic` to a ZMTP 3.0 peer.
    pub fn subscribe(&mut self, topic: &[u8]) -> Result<(), ProtocolError> {
        self.send_subscription(topic, true)
    }

    /// Cancels a subscription upstream: a CANCEL command to a ZMTP 3.1 peer, a message
    /// `0x00 + topic` to a ZMTP 3.0 peer.
    pub fn cancel(&mut self, topic: &[u8]) -> Result<(), ProtocolError> {
        self.send_subscription(topic, false)
    }

    fn send_subscription(&mut self, topic: &[u8], subscribe: bool) -> Result<(), ProtocolError> {
        let version = self.check_sendable()?;
        if version.has_commands_3_1() {
            let topic = Bytes::copy_from_slice(topic);
            let command = if subscribe {
                Command::Subscribe(topic)
            } else {
                Command::Cancel(topic)
            };
            self.put_command(&command);
        } else {
            let mut body = BytesMut::with_capacity(topic.len() + 1);
            body.extend_from_slice(&[u8::from(subscribe)]);
            body.extend_from_slice(topic);
            self.put_frame(false, false, &body);
        }
        Ok(())
    }

    fn check_sendable(&self) -> Result<Version, ProtocolError> {
        match self.state {
            State::Active(version) => Ok(version),
            State::Closed => Err(ProtocolError::Closed),
            State::Handshake(_) => Err(ProtocolError::NotReady),
        }
    }

    /// The next event, if any. After the handshake this decodes the input: a message
    /// comes out as soon as its last frame is decoded, and a protocol error closes
    /// the session and comes out as [`Event::Closed`].
    pub fn poll_event(&mut self) -> Option<Event> {
        let mut slot = None;
        let event = self.poll_message(&mut slot);
        slot.map(Event::Message).or(event)
    }

    /// [`poll_event`](Self::poll_event) for a driver on the message path: the next
    /// message goes into `slot` (which must be empty) and any other event is
    /// returned; each call yields at most one of the two. A message is 80 bytes,
    /// and this way it is written once, where the caller keeps it.
    #[inline]
    pub fn poll_message(&mut self, slot: &mut Option<Message>) -> Option<Event> {
        if let Some(event) = self.events.pop_front() {
            return Some(event);
        }
        if !self.is_active() {
            return None;
        }
        if let Err(err) = self.decode_event(slot) {
            self.fail(err);
        }
        match slot {
            Some(_) => None,
            None => self.events.pop_front(),
        }
    }

    /// Moves the bytes waiting to be written into `buf` and returns how many.
    ///
    /// When `buf` is empty and no large payload waits by reference, the session's
    /// buffer is swapped in without copying, so a driver that passes the same buffer
    /// back and forth never copies twice. Payloads queued by reference are copied
    /// into `buf`: [`poll_transmit_chunks`](Self::poll_transmit_chunks) is the
    /// zero-copy path.
    pub fn poll_transmit(&mut self, buf: &mut BytesMut) -> usize {
        let n = self.pending_transmit();
        if !self.chunks.is_empty() {
            buf.reserve(n);
            for chunk in self.chunks.drain(..) {
                buf.extend_from_slice(&chunk);
            }
            self.chunks_len = 0;
        }
        if buf.is_empty() {
            std::mem::swap(buf, &mut self.out);
        } else {
            buf.extend_from_slice(&self.out);
            self.out.clear();
        }
        n
    }

    /// Moves the bytes waiting to be written into `chunks`, without copying large
    /// payloads (frames of 8 KiB or more are queued by reference),
    /// for a vectored write. Returns how many bytes.
    ///
    /// At most 512 chunks (well under Linux's `IOV_MAX`) are handed out; the rest wait for the
    /// next call.
    pub fn poll_transmit_chunks(&mut self, chunks: &mut Vec<Bytes>) -> usize {
        let take = self.chunks.len().min(MAX_CHUNKS_PER_WRITE);
        let mut n = 0;
        for chunk in self.chunks.drain(..take) {
            n += chunk.len();
            chunks.push(chunk);
        }
        self.chunks_len -= n;
        // Encoded bytes after the last chunk go too, once every chunk before them has.
        if self.chunks.is_empty() && !self.out.is_empty() {
            n += self.out.len();
            chunks.push(self.out.split().freeze());
        }
        n
    }

    /// Whether large payloads wait by reference:
    /// [`poll_transmit_chunks`](Self::poll_transmit_chunks) writes them without a copy.
    pub fn has_chunks(&self) -> bool {
        !self.chunks.is_empty()
    }

    /// Bytes waiting in [`poll_transmit`](Self::poll_transmit).
    pub fn pending_transmit(&self) -> usize {
        self.chunks_len + self.out.len()
    }

    /// Of [`pending_transmit`](Self::pending_transmit), the bytes copied into the
    /// output buffer since the last frame queued by reference.
    pub fn pending_copied(&self) -> usize {
        self.out.len()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.handshake_deadline,
            self.next_ping,
            self.pong_deadline,
            self.ttl_deadline,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Fires the timers whose instant passed: the handshake deadline, the heartbeat
    /// timeout, the peer's TTL, and the next PING.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.is_closed() {
            return;
        }
        if self.handshake_deadline.is_some_and(|t| t <= now) {
            return self.fail(ProtocolError::HandshakeTimeout);
        }
        if self.pong_deadline.is_some_and(|t| t <= now)
            || self.ttl_deadline.is_some_and(|t| t <= now)
        {
            return self.fail(ProtocolError::HeartbeatTimeout);
        }
        if let (Some(at), Some(ivl)) = (self.next_ping, self.config.heartbeat_ivl)
            && at <= now
        {
            let ttl = self.config.heartbeat_ttl.map_or(0, |ttl| {
                u16::try_from(ttl.as_millis() / 100).unwrap_or(u16::MAX)
            });
            self.put_command(&Command::Ping {
                ttl,
                context: Bytes::new(),
            });
            self.next_ping = Some(now + ivl);
            if self.pong_deadline.is_none() {
                let timeout = self.config.heartbeat_timeout.unwrap_or(ivl);
                self.pong_deadline = Some(now + timeout);
            }
        }
    }

    /// Closes the session with an error: an ERROR command is queued for the peer when
    /// the error is one the peer should hear about, and [`Event::Closed`] is reported.
    fn fail(&mut self, err: ProtocolError) {
        // libzmq explains a failure with ERROR under NULL; PLAIN and CURVE send one
        // only for a ZAP refusal (400 or 500), and never once frames are encrypted.
        let may_explain = matches!(self.config.security, Security::Null)
            || matches!(err, ProtocolError::ZapDenied { .. });
        if self.greeted
            && !self.v2
            && may_explain
            && self.cipher.is_none()
            && let Some(reason) = err.error_reason()
        {
            Command::error(&reason).encode(&mut self.out);
        }
        self.state = State::Closed;
        self.input.clear();
        self.partial = Message::new();
        self.handshake_deadline = None;
        self.next_ping = None;
        self.pong_deadline = None;
        self.ttl_deadline = None;
        self.events.push_back(Event::Closed(err));
    }

    /// Closes the session locally (no error is reported to the peer).
    pub fn close(&mut self) {
        self.state = State::Closed;
        self.input.clear();
        self.partial = Message::new();
    }
}
