//! One connection: where bytes enter and leave.
//!
//! Reads land in [`IoArena`] pages and go to the [`Session`] as `Bytes` without a copy;
//! the session's events go to the socket's engine through the connection's [`Port`];
//! the peer's queued messages are encoded into one write buffer, so everything sent
//! while a write is in flight goes out together in the next write (batching without
//! a `flush`). Frames of `ZERO_COPY_MIN` bytes or more are not copied: they go by
//! reference in a vectored write. Timers come from [`Session::poll_timeout`].
//!
//! A connection is in one of three phases: running; closing (the peer is gone or
//! broke the protocol, and an ERROR command may still be written); lingering (closed
//! locally, queued messages may still be written for `ZMQ_LINGER`).

use std::io;
use std::pin::pin;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use compio::buf::BufResult;
use compio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use futures::FutureExt;
use futures::future::{Fuse, FusedFuture};
use monocoque_core::{IoArena, ReadRegion};

use super::sleep_until;
use crate::engine::notify::Stop;
use crate::engine::peers::SubscriptionOp;
use crate::engine::port::{Ending, Outbound, Port};
use crate::proto::error::ProtocolError;
use crate::proto::session::{Event, Session};

/// Size of a connection's first read page: enough for any handshake, small enough that
/// thousands of idle connections cost little memory.
const INITIAL_READ_PAGE: usize = 4096;

/// How long a connection closing for a protocol error waits to write its ERROR
/// command (a peer that stopped reading cannot hold the connection open).
const ERROR_FLUSH_TIME: Duration = Duration::from_secs(1);

/// Why a connection ended.
#[derive(Debug)]
pub(crate) enum Disconnect {
    /// The peer closed the connection.
    PeerClosed,
    /// The connection failed.
    Io(io::Error),
    /// The peer broke the protocol, was incompatible, or timed out.
    Protocol(ProtocolError),
    /// The socket or endpoint was closed locally.
    Stopped,
}

impl Disconnect {
    fn ending(&self) -> Ending {
        match self {
            Disconnect::PeerClosed | Disconnect::Io(_) => Ending::Lost,
            Disconnect::Protocol(err) => Ending::Failed(err.clone()),
            Disconnect::Stopped => Ending::Stopped,
        }
    }
}

/// Where a connection is in its life.
#[derive(Debug)]
enum Phase {
    Running,
    /// Ending for `why` once what is buffered is written (a protocol error's ERROR
    /// command), or at `deadline`; at once when the stream itself failed.
    Closing {
        why: Disconnect,
        deadline: Instant,
    },
    /// Closed locally: queued messages may be written until `deadline` (`None`:
    /// until they are).
    Lingering {
        deadline: Option<Instant>,
    },
}

/// What one write carries: encoded bytes in one buffer (reused write after write), or
/// chunks including large payloads by reference (a vectored write, no copy).
enum Transmit {
    Flat(BytesMut),
    Chunks(Vec<Bytes>),
}

async fn read_some<S>(stream: &S, region: ReadRegion) -> BufResult<usize, ReadRegion>
where
    for<'a> &'a S: AsyncRead,
{
    let mut reader = stream;
    reader.read(region).await
}

async fn write_all<S>(stream: &S, transmit: Transmit) -> BufResult<(), Transmit>
where
    for<'a> &'a S: AsyncWrite,
{
    let mut writer = stream;
    match transmit {
        Transmit::Flat(buf) => {
            let BufResult(result, buf) = writer.write_all(buf).await;
            BufResult(result, Transmit::Flat(buf))
        }
        Transmit::Chunks(chunks) => {
            let BufResult(result, chunks) = writer.write_vectored_all(chunks).await;
            BufResult(result, Transmit::Chunks(chunks))
        }
    }
}

/// Serves one connection on `stream` until it ends, then tells the engine.
pub(crate) async fn serve<S>(stream: S, port: Port, stop: Rc<Stop>)
where
    for<'a> &'a S: AsyncRead + AsyncWrite,
{
    let (port, why) = match Connection::new(port, stop) {
        Ok(mut connection) => {
            let why = connection.run(&stream).await;
            (connection.port, why)
        }
        Err(failed) => failed,
    };
    match &why {
        Disconnect::Protocol(err) => tracing::warn!(
            peer = %port.id(), error = %err, fault = ?err.fault(),
            "peer disconnected for a protocol error"
        ),
        Disconnect::Io(err) => tracing::debug!(peer = %port.id(), error = %err, "connection lost"),
        Disconnect::PeerClosed | Disconnect::Stopped => {}
    }
    port.finish(&why.ending());
}

/// One connection's state, apart from its stream.
struct Connection {
    port: Port,
    session: Session,
    arena: IoArena,
    /// Read page size once traffic flows.
    page_size: usize,
    /// Bytes of queued messages encoded per write.
    batch: usize,
    spare: Option<BytesMut>,
    spare_chunks: Option<Vec<Bytes>>,
    phase: Phase,
    stop: Rc<Stop>,
}

impl Connection {
    fn new(port: Port, stop: Rc<Stop>) -> Result<Connection, (Port, Disconnect)> {
        let engine = port.engine();
        let config = engine.options.session_config(engine.socket_type);
        let buffers = engine.options.buffers;
        let session = match Session::new(config, Instant::now()) {
            Ok(session) => session,
            Err(err) => return Err((port, Disconnect::Protocol(err))),
        };
        let batch = buffers.write_batch_size.max(1);
        Ok(Connection {
            port,
            session,
            // An idle connection only ever reads its peer's handshake: start with a
            // small page and move to full-size pages once a read fills a region.
            arena: IoArena::new(INITIAL_READ_PAGE.min(buffers.read_page_size)),
            page_size: buffers.read_page_size,
            batch,
            spare: Some(BytesMut::with_capacity(batch)),
            spare_chunks: None,
            phase: Phase::Running,
            stop,
        })
    }

    /// The connection's loop: queue, write, check the phase, read, wait for one
    /// event, hand what was decoded to the engine.
    async fn run<S>(&mut self, stream: &S) -> Disconnect
    where
        for<'a> &'a S: AsyncRead + AsyncWrite,
    {
        let mut reading = pin!(Fuse::terminated());
        let mut writing = pin!(Fuse::terminated());
        let (wake, stop) = (self.port.wake(), self.stop.clone());
        loop {
            let woken = wake.listen();
            self.fill();
            if writing.is_terminated()
                && let Some(transmit) = self.next_transmit()
            {
                writing.set(write_all(stream, transmit).fuse());
            }
            let idle = writing.is_terminated() && self.session.pending_transmit() == 0;
            if let Some(why) = self.advance(idle) {
                return why;
            }
            if reading.is_terminated() && self.wants_read() {
                reading.set(read_some(stream, self.arena.region()).fuse());
            }
            let mut timer = pin!(sleep_until(self.deadline()).fuse());
            let mut woken = pin!(woken.fuse());
            let lingering = matches!(self.phase, Phase::Lingering { .. });
            let mut stopped = pin!(stop_unless(&stop, lingering).fuse());
            futures::select_biased! {
                BufResult(result, region) = reading => self.on_read(result, region),
                BufResult(result, transmit) = writing => self.on_written(result, transmit),
                () = timer => self.session.handle_timeout(Instant::now()),
                () = woken => {}
                () = stopped => {}
            }
            self.drain_events();
        }
    }

    /// Encodes queued subscription changes and messages into the session, up to one
    /// write batch.
    fn fill(&mut self) {
        if !self.session.is_active() || matches!(self.phase, Phase::Closing { .. }) {
            return;
        }
        let room = self.batch.saturating_sub(self.session.pending_transmit());
        if room == 0 {
            return;
        }
        let session = &mut self.session;
        self.port.take_outgoing(room, |item| {
            // Errors mean the session closed; its Closed event ends the connection.
            let _ = match item {
                Outbound::Subscription(SubscriptionOp::Subscribe(topic)) => {
                    session.subscribe(&topic)
                }
                Outbound::Subscription(SubscriptionOp::Cancel(topic)) => session.cancel(&topic),
                Outbound::Message(outgoing) => match outgoing.shared_wire() {
                    Some(wire) => session.send_encoded(wire),
                    None => session.send_message(outgoing.message()),
                },
            };
        });
    }

    /// The session's pending bytes as one write, if there are any.
    fn next_transmit(&mut self) -> Option<Transmit> {
        if self.session.pending_transmit() == 0 {
            return None;
        }
        Some(if self.session.has_chunks() {
            let mut chunks = self.spare_chunks.take().unwrap_or_default();
            chunks.clear();
            self.session.poll_transmit_chunks(&mut chunks);
            Transmit::Chunks(chunks)
        } else {
            let mut buf = self.spare.take().unwrap_or_default();
            buf.clear();
            self.session.poll_transmit(&mut buf);
            Transmit::Flat(buf)
        })
    }

    /// Moves through the phases; returns why the connection ends, when it does.
    /// `idle`: nothing is being written or waits to be.
    fn advance(&mut self, idle: bool) -> Option<Disconnect> {
        let flushed = self.port.note_idle(idle);
        if self.closing_done(idle)
            && let Phase::Closing { why, .. } = std::mem::replace(&mut self.phase, Phase::Running)
        {
            return Some(why);
        }
        if matches!(self.phase, Phase::Running) && self.stop.is_stopped() {
            let linger = self.port.engine().options.linger;
            let deadline = linger.map(|linger| Instant::now() + linger);
            self.phase = Phase::Lingering { deadline };
        }
        if let Phase::Lingering { deadline } = self.phase {
            let past_deadline = deadline.is_some_and(|at| Instant::now() >= at);
            if flushed || past_deadline || !self.session.is_active() {
                return Some(Disconnect::Stopped);
            }
        }
        None
    }

    /// Whether a closing connection may end now: its bytes are written, its stream
    /// failed (nothing more can be written), or its time is up.
    fn closing_done(&self, idle: bool) -> bool {
        match &self.phase {
            Phase::Closing { why, deadline } => {
                idle || matches!(why, Disconnect::PeerClosed | Disconnect::Io(_))
                    || Instant::now() >= *deadline
            }
            _ => false,
        }
    }

    fn wants_read(&self) -> bool {
        matches!(self.phase, Phase::Running) && !self.stop.is_stopped() && self.port.can_read()
    }

    /// The earliest of the session's timers and the phase's deadline.
    fn deadline(&self) -> Option<Instant> {
        let phase = match self.phase {
            Phase::Closing { deadline, .. } => Some(deadline),
            Phase::Lingering { deadline } => deadline,
            Phase::Running => None,
        };
        [self.session.poll_timeout(), phase]
            .into_iter()
            .flatten()
            .min()
    }

    fn close(&mut self, why: Disconnect) {
        let deadline = Instant::now() + ERROR_FLUSH_TIME;
        self.phase = Phase::Closing { why, deadline };
    }

    fn on_read(&mut self, result: io::Result<usize>, region: ReadRegion) {
        match result {
            Ok(0) => self.close(Disconnect::PeerClosed),
            Ok(n) => {
                let filled = n >= region.capacity();
                let bytes = self.arena.freeze(region);
                self.session.handle_input(bytes, Instant::now());
                if filled && self.arena.page_size() < self.page_size {
                    self.arena = IoArena::new(self.page_size);
                }
            }
            Err(err) => self.close(Disconnect::Io(err)),
        }
    }

    fn on_written(&mut self, result: io::Result<()>, transmit: Transmit) {
        if let Err(err) = result {
            self.close(Disconnect::Io(err));
            return;
        }
        match transmit {
            Transmit::Flat(buf) => self.spare = Some(buf),
            // Drop the payload references now, keep the vector.
            Transmit::Chunks(mut chunks) => {
                chunks.clear();
                self.spare_chunks = Some(chunks);
            }
        }
    }

    /// Hands decoded messages to the engine in batches (one borrow, one lookup, one
    /// wake-up each); any other event is handled on its own between batches.
    fn drain_events(&mut self) {
        loop {
            let mut other = None;
            let session = &mut self.session;
            self.port.deliver(|| match session.poll_event()? {
                Event::Message(message) => Some(message),
                event => {
                    other = Some(event);
                    None
                }
            });
            match other {
                Some(event) => self.handle_event(event),
                None => break,
            }
        }
    }

    fn handle_event(&mut self, event: Event) {
        match event {
            Event::HandshakeComplete(info) => {
                if let Err(err) = self.port.handshake_complete(info) {
                    self.session.close();
                    self.close(Disconnect::Protocol(err));
                }
            }
            // Messages normally reach the engine in batches (`drain_events`).
            Event::Message(message) => {
                let mut once = Some(message);
                self.port.deliver(|| once.take());
            }
            Event::Subscribe(topic) => self.port.subscription(&topic, true),
            Event::Cancel(topic) => self.port.subscription(&topic, false),
            Event::Closed(err) => self.close(Disconnect::Protocol(err)),
        }
    }
}

/// Resolves when `stop` fires, unless `lingering` (then the stop already happened).
async fn stop_unless(stop: &Stop, lingering: bool) {
    if lingering {
        std::future::pending::<()>().await;
    }
    stop.wait().await;
}
