//! One connection: where bytes enter and leave.
//!
//! Reads land in [`IoArena`] pages and go to the [`Session`] as `Bytes` without a copy;
//! the session's events go to the socket's engine through the connection's [`Port`];
//! the peer's queued messages are encoded into one write buffer, so everything sent
//! while a write is in flight goes out together in the next write (batching without
//! a `flush`). Frames of `ZERO_COPY_MIN` bytes or more are not copied: they go by
//! reference in a vectored write, which may carry `BY_REFERENCE_BATCHES` write
//! batches of them (the write follows the message size). A small write with none in
//! flight goes straight to the kernel ([`direct`](super::direct)); the rest go
//! through the runtime. A read of large frames from a peer on the same thread takes
//! what the kernel holds straight from it too ([`Connection::reads_now`]). Timers come
//! from [`Session::poll_timeout`].
//!
//! A connection is in one of three phases: running; closing (the peer is gone or
//! broke the protocol, and an ERROR command may still be written); lingering (closed
//! locally, queued messages may still be written for `ZMQ_LINGER`).

use std::io::{self, IoSlice};
use std::pin::pin;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use compio::buf::{BufResult, IntoInner, IoBufMut};
use compio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use futures::FutureExt;
use futures::future::{Fuse, FusedFuture};
use monocoque_core::{IoArena, ReadRegion};

use super::direct::{self, DirectIo, LocalEnd};
use super::sleep_until;
use super::zap::{self, ZapSlot};
use crate::engine::monitor::{HandshakeFailure, SocketEvent};
use crate::engine::notify::Stop;
use crate::engine::peers::SubscriptionOp;
use crate::engine::port::{Ending, Port};
use crate::proto::error::ProtocolError;
use crate::proto::session::{BY_REFERENCE_BATCHES, Event, Session, ZERO_COPY_MIN};
use crate::proto::zap::{ZapAnswer, ZapRequest};

/// Size of a connection's first read page: enough for a usual handshake (a larger one
/// fills it and moves on to full-size pages), small enough that thousands of idle
/// connections cost little memory.
const INITIAL_READ_PAGE: usize = 1024;

/// How long a connection closing for a protocol error waits to write its ERROR
/// command (a peer that stopped reading cannot hold the connection open).
const ERROR_FLUSH_TIME: Duration = Duration::from_secs(1);

/// How many writes in a row a connection hands straight to the kernel before it
/// lets the runtime run its other tasks (a write through the runtime yields).
const SENDS_NOW_PER_WAIT: u32 = 16;

/// How many reads in a row a connection takes straight from the kernel before it
/// lets the runtime run its other tasks.
const READS_NOW_PER_WAIT: u32 = 16;

/// The largest write of frames by reference handed straight to the kernel. Larger
/// ones measured no better that way (a 64 KiB message per write: 30-40 K against
/// 43-60 K msg/s) and keep going through the runtime, whose cost per write is small
/// next to their copy. A write of copied bytes goes straight up to one write batch
/// (`BufferConfig::write_batch_size`) plus [`ZERO_COPY_MIN`]: through the runtime each
/// such write cost an allocation. `fill` stops once it has copied a batch, so the
/// message that crossed it makes the write up to one copied frame longer; a limit of
/// exactly one batch sent every write of a handle's 1 KiB messages (64 of them,
/// 66,112 bytes) through the runtime, at 2.3-2.4 M against 2.8-3.0 M msg/s. (Under
/// CURVE every frame is copied, sealed, into the write, so a large one still goes
/// through the runtime.)
const SEND_NOW_MAX: usize = 16 * 1024;

/// The most parts one direct write hands the kernel (kept on the stack); parts
/// beyond them go in the next write.
const SEND_NOW_PARTS: usize = 16;

/// While large frames arrive, a read into the read pages takes at most this much, so
/// that the next large body goes almost whole straight into its own buffer rather than
/// being copied there out of a page. libzmq reads 8 KiB at a time, and large bodies
/// into the message. Chosen by measurement (docs/performance.md): at 64 KiB over tcp
/// 1 KiB moved more than 8 KiB and than 256 bytes.
const READ_BETWEEN_LARGE: usize = 1024;

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

/// Tells the socket's monitor how the connection ended.
fn report_end(port: &Port, remote: &Remote, why: &Disconnect, handshaken: bool) {
    port.engine().emit(|| {
        let (endpoint, peer) = (remote.endpoint.to_string(), remote.peer());
        match (why, handshaken) {
            (Disconnect::Protocol(err), false) => SocketEvent::HandshakeFailed {
                endpoint,
                peer,
                reason: HandshakeFailure::of(err.clone()),
            },
            (Disconnect::Protocol(err), true) => SocketEvent::Disconnected {
                endpoint,
                peer,
                error: Some(err.clone()),
            },
            _ => SocketEvent::Disconnected {
                endpoint,
                peer,
                error: None,
            },
        }
    });
}

impl Disconnect {
    fn ending(&self) -> Ending {
        match self {
            Disconnect::PeerClosed | Disconnect::Io(_) => Ending::Lost,
            // A silent peer is a lost connection, as libzmq reports it (a disconnect),
            // not a peer that broke the protocol.
            Disconnect::Protocol(ProtocolError::HeartbeatTimeout) => Ending::Lost,
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

impl Transmit {
    fn len(&self) -> usize {
        match self {
            Transmit::Flat(buf) => buf.len(),
            Transmit::Chunks(chunks) => chunks.iter().map(Bytes::len).sum(),
        }
    }

    /// Writes what the kernel takes now (see [`DirectIo`]).
    fn send_now<S: DirectIo>(&self, stream: &S) -> io::Result<usize> {
        match self {
            Transmit::Flat(buf) => stream.send_now(&[IoSlice::new(buf)]),
            Transmit::Chunks(chunks) => {
                let mut parts = [IoSlice::new(&[]); SEND_NOW_PARTS];
                let count = chunks.len().min(SEND_NOW_PARTS);
                for (part, chunk) in parts.iter_mut().zip(chunks) {
                    *part = IoSlice::new(chunk);
                }
                stream.send_now(&parts[..count])
            }
        }
    }

    /// Drops the first `n` bytes, which were written.
    fn skip(&mut self, mut n: usize) {
        match self {
            Transmit::Flat(buf) => buf.advance(n),
            Transmit::Chunks(chunks) => {
                let done = chunks.iter().take_while(|chunk| {
                    let whole = chunk.len() <= n;
                    if whole {
                        n -= chunk.len();
                    }
                    whole
                });
                let done = done.count();
                chunks.drain(..done);
                if let Some(first) = chunks.first_mut() {
                    first.advance(n);
                }
            }
        }
    }
}

/// Where the next read goes.
#[derive(Debug)]
enum ReadTarget {
    /// A read page, shared by the frames it holds.
    Page(ReadRegion),
    /// The rest of a large frame's body, in its own buffer (lent by the session).
    Body(Vec<u8>),
}

impl ReadTarget {
    /// Reads what the kernel holds now (see [`DirectIo::recv_now`]).
    fn recv_now<S: DirectIo>(&mut self, stream: &S) -> io::Result<usize> {
        match self {
            ReadTarget::Page(region) => direct::recv_into(stream, region),
            ReadTarget::Body(body) => direct::recv_into(stream, body),
        }
    }

    /// Whether a read of `n` bytes into this target got all it asked for.
    fn filled_by(&self, n: usize) -> bool {
        match self {
            ReadTarget::Page(region) => n > 0 && region.len() >= region.capacity(),
            ReadTarget::Body(body) => n > 0 && body.len() >= body.capacity(),
        }
    }
}

/// A direct read of the next frame's header guesses that more has arrived, and each
/// miss costs a system call. After a miss the connection skips the next 1, 2, 4, ...
/// up to 64 such guesses; a hit starts over. A peer that sends one large message and
/// waits (a DEALER awaiting its echo) then costs a miss per 64 messages; a backlog
/// costs none.
#[derive(Debug, Default)]
struct Guesses {
    skip: u8,
    backoff: u8,
}

impl Guesses {
    /// Whether to guess now (else one skip is used up).
    fn take(&mut self) -> bool {
        if self.skip == 0 {
            return true;
        }
        self.skip -= 1;
        false
    }

    fn missed(&mut self) {
        self.backoff = self.backoff.saturating_mul(2).clamp(1, 64);
        self.skip = self.backoff;
    }

    fn hit(&mut self) {
        self.backoff = 0;
    }
}

async fn read_some<S>(stream: &S, target: ReadTarget) -> (io::Result<usize>, ReadTarget)
where
    for<'a> &'a S: AsyncRead,
{
    let mut reader = stream;
    match target {
        ReadTarget::Page(region) => {
            let BufResult(result, region) = reader.read(region).await;
            (result, ReadTarget::Page(region))
        }
        ReadTarget::Body(body) => {
            // Into the spare capacity: the frame's size, or more if the allocator
            // gave more; bytes past the frame go back to the session as input.
            let BufResult(result, body) = reader.read(body.uninit()).await;
            (result, ReadTarget::Body(body.into_inner()))
        }
    }
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

/// The kernel had no room now, or a signal interrupted the call: write through the
/// runtime, which waits for room.
fn is_retry(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

/// Where a connection leads: the endpoint it belongs to and the peer's address.
#[derive(Debug, Clone)]
pub(crate) struct Remote {
    /// The endpoint as bound or connected.
    pub(crate) endpoint: Rc<str>,
    /// The peer's IP address (empty for ipc), for ZAP requests and monitors.
    pub(crate) address: Bytes,
}

impl Remote {
    fn peer(&self) -> String {
        String::from_utf8_lossy(&self.address).into_owned()
    }
}

/// Serves one connection on `stream` until it ends, then tells the engine. Returns
/// whether its handshake completed (`ZMQ_RECONNECT_STOP` asks).
pub(crate) async fn serve<S>(stream: S, port: Port, stop: Rc<Stop>, remote: Remote) -> bool
where
    S: DirectIo,
    for<'a> &'a S: AsyncRead + AsyncWrite,
{
    let (port, why, handshaken) = match Connection::new(port, stop, remote.clone()) {
        Ok(mut connection) => {
            connection.end = LocalEnd::register(&stream);
            let why = connection.run(&stream).await;
            (connection.port, why, connection.handshaken)
        }
        Err((port, why)) => (port, why, false),
    };
    report_end(&port, &remote, &why, handshaken);
    match &why {
        Disconnect::Protocol(err) => tracing::warn!(
            peer = %port.id(), error = %err, fault = ?err.fault(),
            "peer disconnected for a protocol error"
        ),
        Disconnect::Io(err) => tracing::debug!(peer = %port.id(), error = %err, "connection lost"),
        Disconnect::PeerClosed | Disconnect::Stopped => {}
    }
    port.finish(&why.ending());
    handshaken
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
    /// The last read got all it asked for: more may be waiting in the kernel.
    last_read_full: bool,
    /// This end's address while the connection lives (TCP), and whether its peer is
    /// on this thread: decided at the first large read, after the handshake, when both
    /// ends have registered (each does before it runs).
    end: Option<LocalEnd>,
    peer_here: Option<bool>,
    /// Whether to try the next frame's header straight from the kernel.
    guesses: Guesses,
    phase: Phase,
    stop: Rc<Stop>,
    /// Where the connection leads, for ZAP requests and the monitor.
    remote: Remote,
    /// The handshake completed.
    handshaken: bool,
    /// Where the answer of the ZAP handler on `inproc://zeromq.zap.01` will land.
    zap: Option<Rc<ZapSlot>>,
}

impl Connection {
    fn new(port: Port, stop: Rc<Stop>, remote: Remote) -> Result<Connection, (Port, Disconnect)> {
        let engine = port.engine();
        let buffers = engine.options.buffers;
        let session = match engine
            .options
            .session_config(engine.socket_type)
            .and_then(|config| Session::new(config, Instant::now()))
        {
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
            // No write buffer until there is something to write: the first writes
            // (the handshake's) size it, and it grows to the batch once traffic
            // flows, so an idle connection holds only what its handshake needed.
            spare: None,
            spare_chunks: None,
            last_read_full: false,
            end: None,
            peer_here: None,
            guesses: Guesses::default(),
            phase: Phase::Running,
            stop,
            remote,
            handshaken: false,
            zap: None,
        })
    }

    /// The connection's loop: queue, write, check the phase, read, wait for one
    /// event, hand what was decoded to the engine.
    async fn run<S>(&mut self, stream: &S) -> Disconnect
    where
        S: DirectIo,
        for<'a> &'a S: AsyncRead + AsyncWrite,
    {
        let mut reading = pin!(Fuse::terminated());
        let mut writing = pin!(Fuse::terminated());
        let (wake, stop) = (self.port.wake(), self.stop.clone());
        let mut sends_now = SENDS_NOW_PER_WAIT;
        let mut reads_now = READS_NOW_PER_WAIT;
        loop {
            let woken = wake.listen();
            self.take_zap_answer();
            self.fill();
            if writing.is_terminated()
                && let Some(transmit) = self.next_transmit()
            {
                match self.send_now(stream, transmit, &mut sends_now) {
                    // All of it went: queue the next write at once.
                    None => continue,
                    Some(rest) => writing.set(write_all(stream, rest).fuse()),
                }
            }
            let idle = writing.is_terminated() && self.session.pending_transmit() == 0;
            if let Some(why) = self.advance(idle) {
                return why;
            }
            if reading.is_terminated() && self.wants_read() {
                let mut target = self.read_target();
                if reads_now > 0
                    && let Some(result) = self.read_now(stream, &mut target)
                {
                    reads_now -= 1;
                    self.on_read(result, target);
                    self.drain_events();
                    continue;
                }
                reading.set(read_some(stream, target).fuse());
            }
            let mut timer = pin!(sleep_until(self.deadline()).fuse());
            let mut woken = pin!(woken.fuse());
            let lingering = matches!(self.phase, Phase::Lingering { .. });
            let mut stopped = pin!(stop_unless(&stop, lingering).fuse());
            futures::select_biased! {
                (result, target) = reading => self.on_read(result, target),
                BufResult(result, transmit) = writing => self.on_written(result, transmit),
                () = timer => self.session.handle_timeout(Instant::now()),
                () = woken => {}
                () = stopped => {}
            }
            sends_now = SENDS_NOW_PER_WAIT;
            reads_now = READS_NOW_PER_WAIT;
            self.drain_events();
        }
    }

    /// Encodes queued subscription changes and messages into the session, up to one
    /// write batch of copied bytes. Frames sent by reference are not copied: a write
    /// of large messages carries up to [`BY_REFERENCE_BATCHES`] batches of them.
    #[inline]
    fn fill(&mut self) {
        if !self.session.is_active() || matches!(self.phase, Phase::Closing { .. }) {
            return;
        }
        let batch = self.batch;
        let most = batch.saturating_mul(BY_REFERENCE_BATCHES);
        let mut copied = self.session.pending_copied();
        if copied >= batch || self.session.pending_transmit() >= most {
            return;
        }
        let session = &mut self.session;
        self.port.take_subscription_ops(|op| {
            let _ = match op {
                SubscriptionOp::Subscribe(topic) => session.subscribe(&topic),
                SubscriptionOp::Cancel(topic) => session.cancel(&topic),
            };
        });
        self.port.take_outgoing(|outgoing| {
            let encoded = match outgoing.shared_wire() {
                Some(wire) => session.send_encoded(wire),
                None => session.send_message(outgoing.message()),
            };
            // An error means the session closed; its Closed event ends the connection.
            let Ok(n) = encoded else { return false };
            copied += n;
            copied < batch && session.pending_transmit() < most
        });
    }

    /// The session's pending bytes as one write, if there are any.
    #[inline]
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

    /// Hands `transmit` straight to the kernel while `budget` lasts, if it carries at
    /// most [`SEND_NOW_MAX`] bytes by reference or about one write batch copied (see
    /// [`SEND_NOW_MAX`]); returns what it did not take, to be written through the
    /// runtime (`None`: all of it went, or the stream failed).
    #[inline]
    fn send_now<S: DirectIo>(
        &mut self,
        stream: &S,
        mut transmit: Transmit,
        budget: &mut u32,
    ) -> Option<Transmit> {
        let len = transmit.len();
        let most = match transmit {
            Transmit::Chunks(_) => SEND_NOW_MAX,
            Transmit::Flat(_) => self.batch + ZERO_COPY_MIN,
        };
        if *budget == 0 || len > most {
            return Some(transmit);
        }
        *budget -= 1;
        match transmit.send_now(stream) {
            Ok(n) if n == len => {
                self.on_written(Ok(()), transmit);
                None
            }
            Ok(n) => {
                transmit.skip(n);
                Some(transmit)
            }
            Err(err) if is_retry(&err) => Some(transmit),
            Err(err) => {
                self.on_written(Err(err), transmit);
                None
            }
        }
    }

    /// Moves through the phases; returns why the connection ends, when it does.
    /// `idle`: nothing is being written or waits to be.
    #[inline]
    fn advance(&mut self, idle: bool) -> Option<Disconnect> {
        let flushed = self.port.note_idle(idle);
        if self.closing_done(idle)
            && let Phase::Closing { why, .. } = std::mem::replace(&mut self.phase, Phase::Running)
        {
            return Some(why);
        }
        // ROUTER_HANDOVER gave this peer's routing id to a newcomer.
        let handover = self.port.engine().options.router_handover;
        if handover && matches!(self.phase, Phase::Running) && self.port.is_evicted() {
            return Some(Disconnect::Stopped);
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
    #[inline]
    fn closing_done(&self, idle: bool) -> bool {
        match &self.phase {
            Phase::Closing { why, deadline } => {
                idle || matches!(why, Disconnect::PeerClosed | Disconnect::Io(_))
                    || Instant::now() >= *deadline
            }
            _ => false,
        }
    }

    #[inline]
    fn wants_read(&self) -> bool {
        matches!(self.phase, Phase::Running) && !self.stop.is_stopped() && self.port.can_read()
    }

    /// The earliest of the session's timers and the phase's deadline.
    #[inline]
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

    /// The rest of a large frame's body if one is waiting, else a read page: a short
    /// stretch of one while large frames arrive.
    fn read_target(&mut self) -> ReadTarget {
        if let Some((body, _size)) = self.session.lend_body() {
            return ReadTarget::Body(body);
        }
        ReadTarget::Page(if self.session.expects_large() {
            self.arena.region_at_most(READ_BETWEEN_LARGE)
        } else {
            self.arena.region()
        })
    }

    /// Whether to read straight from the kernel instead of through the runtime: while
    /// large frames arrive, after a read that got all it asked for (more is likely
    /// waiting), from a peer on this thread.
    ///
    /// A read through the runtime completes only at its next poll of io_uring, and a
    /// thread that writes to its own peers (a publisher and its subscribers in one
    /// process) runs long turns between polls: one read per turn, two per large frame
    /// (its header, then its body into a buffer of its own), while the publisher
    /// queues more each turn. Bytes a peer on this thread wrote are all there, so the
    /// read takes them at once. From a peer elsewhere, io_uring's reads, many in one
    /// system call, cost less: a ROUTER echoing 64 KiB to 16 DEALERs in another
    /// process lost 11% of its round trips reading directly, and SUBs on a thread of
    /// their own, reading ahead, were woken by each of the publisher's writes (8
    /// subscribers: 7.2 K down to 3.5 K msg/s; docs/performance.md).
    fn reads_now(&mut self, target: &ReadTarget) -> bool {
        let large = self.session.expects_large() || matches!(target, ReadTarget::Body(_));
        large && self.last_read_full && self.peer_on_thread()
    }

    /// Whether the peer's end is a connection of this thread (looked up once).
    fn peer_on_thread(&mut self) -> bool {
        let end = &self.end;
        *self
            .peer_here
            .get_or_insert_with(|| end.as_ref().is_some_and(LocalEnd::peer_is_here))
    }

    /// Reads straight from the kernel into `target` if [`reads_now`](Self::reads_now)
    /// says so and, for a next frame's header, [`Guesses`] does; `None` when it did not
    /// try or the kernel had nothing yet.
    fn read_now<S: DirectIo>(
        &mut self,
        stream: &S,
        target: &mut ReadTarget,
    ) -> Option<io::Result<usize>> {
        if !self.reads_now(target) {
            return None;
        }
        let guess = matches!(target, ReadTarget::Page(_));
        if guess && !self.guesses.take() {
            return None;
        }
        match target.recv_now(stream) {
            Err(err) if is_retry(&err) => {
                if guess {
                    self.guesses.missed();
                }
                None
            }
            result => {
                if guess {
                    self.guesses.hit();
                }
                Some(result)
            }
        }
    }

    #[inline]
    fn on_read(&mut self, result: io::Result<usize>, target: ReadTarget) {
        self.last_read_full = matches!(result, Ok(n) if target.filled_by(n));
        match (result, target) {
            (Ok(0), _) => self.close(Disconnect::PeerClosed),
            (Ok(n), ReadTarget::Page(region)) => {
                let filled = n >= region.capacity();
                let bytes = self.arena.freeze(region);
                self.session.handle_input(bytes, Instant::now());
                if filled && self.arena.page_size() < self.page_size {
                    self.arena = IoArena::new(self.page_size);
                }
            }
            (Ok(_), ReadTarget::Body(body)) => {
                self.session.return_body(body, Instant::now());
            }
            (Err(err), _) => self.close(Disconnect::Io(err)),
        }
    }

    #[inline]
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
    #[inline]
    fn drain_events(&mut self) {
        loop {
            let mut other = None;
            let session = &mut self.session;
            self.port.deliver(|slot| other = session.poll_message(slot));
            match other {
                Some(event) => self.handle_event(event),
                None => break,
            }
        }
    }

    fn handle_event(&mut self, event: Event) {
        match event {
            Event::HandshakeComplete(info) => {
                if let Err(err) = self.port.handshake_complete(*info) {
                    self.session.close();
                    self.close(Disconnect::Protocol(err));
                    return;
                }
                self.handshaken = true;
                let remote = &self.remote;
                self.port.engine().emit(|| SocketEvent::HandshakeSucceeded {
                    endpoint: remote.endpoint.to_string(),
                    peer: remote.peer(),
                });
            }
            // Messages normally reach the engine in batches (`drain_events`).
            Event::Message(message) => {
                let mut once = Some(message);
                self.port.deliver(|slot| *slot = once.take());
            }
            Event::Subscribe(topic) => self.port.subscription(&topic, true),
            Event::Cancel(topic) => self.port.subscription(&topic, false),
            Event::Closed(err) => self.close(Disconnect::Protocol(err)),
            Event::Authenticate(request) => self.authenticate(*request),
        }
    }

    /// Answers the session's ZAP request with the socket's authenticator, or asks the
    /// handler bound to `inproc://zeromq.zap.01`, or says there is none.
    fn authenticate(&mut self, mut request: ZapRequest) {
        request.address = self.remote.address.clone();
        let answer = match &self.port.engine().options.authenticator {
            Some(authenticator) => ZapAnswer::Reply(authenticator.authenticate(&request)),
            None => match zap::ask(&self.port.engine().names, request, &self.port.wake()) {
                Some(slot) => return self.zap = Some(slot),
                None => ZapAnswer::NoHandler,
            },
        };
        self.session.handle_zap_answer(answer, Instant::now());
    }

    /// Hands the ZAP handler's answer to the session once it came.
    fn take_zap_answer(&mut self) {
        let Some(answer) = self.zap.as_ref().and_then(|slot| slot.take()) else {
            return;
        };
        self.zap = None;
        self.session.handle_zap_answer(answer, Instant::now());
        self.drain_events();
    }
}

/// Resolves when `stop` fires, unless `lingering` (then the stop already happened).
async fn stop_unless(stop: &Stop, lingering: bool) {
    if lingering {
        std::future::pending::<()>().await;
    }
    stop.wait().await;
}

#[cfg(test)]
mod tests {
    //! The connection loop over an in-memory duplex stream, with the test playing the
    //! peer through a sans-IO [`Session`]. Every wait ends on an event; the timeout
    //! only guards against a hang.

    use std::future::Future;

    use compio::runtime::JoinHandle;

    use super::*;
    use crate::config::BufferConfig;
    use crate::config::SocketOptions;
    use crate::driver::duplex::{End, duplex};
    use crate::engine::Engine;
    use crate::engine::notify::Notify;
    use crate::engine::state::SendOutcome;
    use crate::proto::frame::DIRECT_BODY_MIN;
    use crate::proto::message::Message;
    use crate::proto::session::SessionConfig;
    use crate::proto::socket_type::SocketType;

    /// Ends a test that waits for an event that never comes (it cannot interrupt a
    /// task that never yields).
    const GUARD: Duration = Duration::from_secs(10);

    /// A pipe no test fills.
    const ROOMY: usize = 1 << 20;

    fn run(test: impl Future<Output = ()>) {
        let runtime = compio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            compio::time::timeout(GUARD, test).await.expect("test hung");
        });
    }

    /// The test's side of the stream: a session pumped by hand.
    struct Peer {
        end: End,
        session: Session,
    }

    impl Peer {
        /// Writes what the session has to send.
        async fn flush(&mut self) {
            let mut out = BytesMut::new();
            self.session.poll_transmit(&mut out);
            if !out.is_empty() {
                let mut writer = &self.end;
                writer.write_all(out).await.0.expect("peer write");
            }
        }

        /// Reads once into the session; `false` at EOF.
        async fn read(&mut self) -> bool {
            let mut reader = &self.end;
            let BufResult(n, buf) = reader.read(Vec::with_capacity(4096)).await;
            if n.expect("peer read") == 0 {
                return false;
            }
            self.session.handle_input(buf.into(), Instant::now());
            true
        }

        /// The session's next event, moving bytes both ways until there is one;
        /// `None` at EOF.
        async fn next_event(&mut self) -> Option<Event> {
            loop {
                let event = self.session.poll_event();
                self.flush().await;
                if event.is_some() {
                    return event;
                }
                if !self.read().await {
                    return None;
                }
            }
        }

        async fn handshake(&mut self) {
            match self.next_event().await {
                Some(Event::HandshakeComplete(_)) => {}
                other => panic!("expected the handshake, got {other:?}"),
            }
        }
    }

    /// An engine with one connection served on a duplex stream, and its peer.
    struct Setup {
        engine: Rc<Engine>,
        stop: Rc<Stop>,
        /// The connection's task: dropping the handle cancels it, so a test keeps
        /// the whole `Setup` until it ends. It yields whether the handshake completed.
        served: JoinHandle<bool>,
        peer: Peer,
    }

    fn connect(
        local: SocketType,
        options: SocketOptions,
        remote: SocketType,
        capacity: usize,
    ) -> Setup {
        let (ours, theirs) = duplex(capacity);
        let engine = Engine::new(local, options);
        let port = engine.port(None).expect("a fresh peer");
        let stop = Rc::new(Stop::default());
        let label = Remote {
            endpoint: Rc::from("duplex://test"),
            address: Bytes::new(),
        };
        let served = compio::runtime::spawn(serve(ours, port, stop.clone(), label));
        let session = Session::new(SessionConfig::new(remote), Instant::now()).unwrap();
        let peer = Peer {
            end: theirs,
            session,
        };
        Setup {
            engine,
            stop,
            served,
            peer,
        }
    }

    /// Waits until `poll` yields a value, checking again each time `signal` fires.
    async fn until<T>(signal: &Notify, mut poll: impl FnMut() -> Option<T>) -> T {
        loop {
            let fired = signal.listen();
            if let Some(value) = poll() {
                return value;
            }
            fired.await;
        }
    }

    async fn until_connected(engine: &Engine) {
        until(&engine.peers_changed, || {
            (engine.peer_count() == 1).then_some(())
        })
        .await;
    }

    /// Sends `payload` until the engine's queue is full; returns how many were sent.
    fn fill_queue(engine: &Engine, payload: &Bytes) -> usize {
        let mut sent = 0;
        while let SendOutcome::Done = engine.try_send(payload.clone().into()).unwrap() {
            sent += 1;
        }
        sent
    }

    /// Leaves a PUSH engine's connection blocked writing to a peer that reads nothing
    /// (the pipe is small), with a full queue behind the write. Returns how many
    /// messages were sent.
    async fn stall(engine: &Engine, peer: &mut Peer) -> usize {
        peer.handshake().await;
        until_connected(engine).await;
        let payload = Bytes::from(vec![7u8; 4096]);
        let mut sent = fill_queue(engine, &payload);
        // Room in the queue again: the connection took the messages and is writing.
        until(&engine.send_ready, || {
            let outcome = engine.try_send(payload.clone().into()).unwrap();
            matches!(outcome, SendOutcome::Done).then_some(())
        })
        .await;
        sent += 1 + fill_queue(engine, &payload);
        sent
    }

    #[test]
    fn a_pull_engine_receives_what_the_peer_sends() {
        run(async {
            let mut t = connect(
                SocketType::Pull,
                SocketOptions::default(),
                SocketType::Push,
                ROOMY,
            );
            t.peer.handshake().await;
            t.peer.session.send_message(&"hello".into()).unwrap();
            t.peer.flush().await;
            let received = until(&t.engine.recv_ready, || t.engine.try_recv().unwrap()).await;
            assert_eq!(received, Message::from("hello"));
            assert_eq!(t.engine.stats().handshakes, 1);
        });
    }

    /// Large bodies are read straight into their own buffers, and the reads between
    /// them kept short: through a pipe that holds 4 KiB at a time, large and small
    /// frames, alone and in multipart messages, arrive whole and in order.
    #[test]
    fn large_and_small_frames_mixed_arrive_whole_through_direct_reads() {
        run(async {
            let mut t = connect(
                SocketType::Pull,
                SocketOptions::default(),
                SocketType::Push,
                4096,
            );
            t.peer.handshake().await;
            let pattern = |size: usize, seed: u8| -> Bytes {
                (0..size).map(|i| (i % 251) as u8 ^ seed).collect()
            };
            let messages = vec![
                Message::from(pattern(65_536, 1)),
                Message::from("small"),
                Message::from(vec![pattern(40_000, 2), Bytes::from_static(b"tail")]),
                Message::from(vec![Bytes::from_static(b"head"), pattern(100_000, 3)]),
                Message::from(pattern(DIRECT_BODY_MIN, 4)),
                Message::from("a"),
                Message::from("b"),
            ];
            for message in &messages {
                t.peer.session.send_message(message).unwrap();
            }
            let Setup { engine, peer, .. } = &mut t;
            let receive_all = async {
                let mut received = Vec::new();
                while received.len() < messages.len() {
                    received.push(until(&engine.recv_ready, || engine.try_recv().unwrap()).await);
                }
                received
            };
            let ((), received) = futures::join!(peer.flush(), receive_all);
            assert_eq!(received, messages);
        });
    }

    #[test]
    fn a_push_engines_message_reaches_the_peer() {
        run(async {
            let mut t = connect(
                SocketType::Push,
                SocketOptions::default(),
                SocketType::Pull,
                ROOMY,
            );
            t.peer.handshake().await;
            until_connected(&t.engine).await;
            let sent = t.engine.try_send("hello".into()).unwrap();
            assert!(matches!(sent, SendOutcome::Done));
            let received = t.peer.next_event().await;
            assert_eq!(received, Some(Event::Message("hello".into())));
            assert_eq!(t.engine.stats().handshakes, 1);
        });
    }

    #[test]
    fn a_large_frame_the_kernel_takes_in_part_arrives_whole() {
        run(async {
            // A frame sent by reference (above ZERO_COPY_MIN) into a pipe with room
            // for a tenth of it: the direct write takes part, the runtime the rest.
            let mut t = connect(
                SocketType::Push,
                SocketOptions::default(),
                SocketType::Pull,
                1024,
            );
            t.peer.handshake().await;
            until_connected(&t.engine).await;
            let body: Bytes = (0..10_240u32).map(|i| i as u8).collect::<Vec<u8>>().into();
            let sent = t.engine.try_send(body.clone().into()).unwrap();
            assert!(matches!(sent, SendOutcome::Done));
            let received = t.peer.next_event().await;
            assert_eq!(received, Some(Event::Message(body.into())));
        });
    }

    /// A connection's first write to a peer that reads nothing carries four 64 KiB
    /// messages (sent by reference, they cost no copy), but 1 KiB messages only up
    /// to one write batch of copied bytes.
    #[test]
    fn a_write_carries_four_batches_by_reference_and_one_copied() {
        let batch = BufferConfig::default().write_batch_size;
        let per_write = |size: usize| match size >= ZERO_COPY_MIN {
            true => BY_REFERENCE_BATCHES * batch / size,
            false => batch.div_ceil(size + 9),
        };
        for size in [65_536, 1024] {
            run(async {
                let options = SocketOptions::default().sndhwm(200);
                let mut t = connect(SocketType::Push, options, SocketType::Pull, 1024);
                t.peer.handshake().await;
                until_connected(&t.engine).await;
                let queued = fill_queue(&t.engine, &Bytes::from(vec![7u8; size]));
                let left = queued - per_write(size);
                until(&t.engine.send_ready, || {
                    (t.engine.queued_out() <= left).then_some(())
                })
                .await;
                assert_eq!(t.engine.queued_out(), left, "{size} B messages");
            });
        }
    }

    #[test]
    fn a_partly_written_transmit_keeps_the_rest_in_order() {
        let parts = ["abc", "defgh", "ij"].map(|s| Bytes::from_static(s.as_bytes()));
        let mut chunks = Transmit::Chunks(parts.to_vec());
        chunks.skip(5);
        let Transmit::Chunks(rest) = &chunks else {
            unreachable!()
        };
        assert_eq!(
            rest,
            &["fgh", "ij"].map(|s| Bytes::from_static(s.as_bytes()))
        );
        chunks.skip(3);
        assert_eq!(chunks.len(), 2);
        let mut flat = Transmit::Flat(BytesMut::from(&b"hello"[..]));
        flat.skip(2);
        let Transmit::Flat(rest) = &flat else {
            unreachable!()
        };
        assert_eq!(&rest[..], b"llo");
    }

    #[test]
    fn the_peer_closing_its_end_ends_the_connection_as_a_disconnect() {
        run(async {
            let mut t = connect(
                SocketType::Pull,
                SocketOptions::default(),
                SocketType::Push,
                ROOMY,
            );
            t.peer.handshake().await;
            until_connected(&t.engine).await;
            drop(t.peer);
            t.served.await.expect("serve returns");
            assert_eq!(t.engine.stats().disconnects, 1);
            assert_eq!(t.engine.stats().protocol_errors, 0);
            assert_eq!(t.engine.peer_count(), 0);
        });
    }

    #[test]
    fn a_peer_sending_http_instead_of_a_greeting_is_a_protocol_error() {
        run(async {
            let mut t = connect(
                SocketType::Pull,
                SocketOptions::default(),
                SocketType::Push,
                ROOMY,
            );
            let mut garbage = b"GET / HTTP/1.1\r\n\r\n".to_vec();
            garbage.resize(64, b' ');
            let mut writer = &t.peer.end;
            writer.write_all(garbage).await.0.unwrap();
            t.served.await.expect("serve returns");
            assert_eq!(t.engine.stats().protocol_errors, 1);
            // Its first octet is not 0xFF: by RFC 23 that is a ZMTP 1.0 peer, refused at once.
            // Named for what it is: no ZMTP at all, not an old ZMTP.
            let recent = t.engine.recent_errors();
            let recent: Vec<_> = recent.iter().map(|e| (e.sequence, &e.error)).collect();
            assert_eq!(recent, [(1, &ProtocolError::BadSignature)]);
            assert_eq!(t.engine.stats().handshakes, 0);
            assert_eq!(t.engine.stats().disconnects, 0);
            assert_eq!(t.engine.peer_count(), 0);
            // The stream was closed: the peer reads the greeting, then EOF.
            while t.peer.read().await {}
        });
    }

    #[test]
    fn a_stop_with_zero_linger_ends_at_once_with_messages_queued() {
        run(async {
            let options = SocketOptions::default()
                .linger(Some(Duration::ZERO))
                .sndhwm(4);
            let mut t = connect(SocketType::Push, options, SocketType::Pull, 1024);
            stall(&t.engine, &mut t.peer).await;
            t.stop.stop();
            // The peer reads nothing: only the linger deadline can end the connection.
            t.served.await.expect("serve returns");
            assert_eq!(
                t.peer.end.unread(),
                1024,
                "the write stalled on a full pipe"
            );
            assert_eq!(
                t.engine.stats().disconnects,
                0,
                "a local stop is no disconnect"
            );
            assert_eq!(t.engine.peer_count(), 0);
        });
    }

    #[test]
    fn a_stop_with_infinite_linger_writes_every_queued_message_first() {
        run(async {
            let options = SocketOptions::default().linger(None).sndhwm(4);
            let mut t = connect(SocketType::Push, options, SocketType::Pull, 1024);
            let sent = stall(&t.engine, &mut t.peer).await;
            t.stop.stop();
            let mut received = 0;
            while let Some(event) = t.peer.next_event().await {
                assert!(matches!(event, Event::Message(_)), "{event:?}");
                received += 1;
            }
            // EOF: the connection ended once it had written everything.
            t.served.await.expect("serve returns");
            assert_eq!(received, sent);
            assert_eq!(t.engine.stats().disconnects, 0);
        });
    }
}
