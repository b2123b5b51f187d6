//! One connection's task: where bytes enter and leave.
//!
//! Reads land in [`IoArena`] pages and go to the [`Session`] as `Bytes` without a copy;
//! the session's events go to the socket's [`Core`](crate::socket::core::Core); the
//! peer's queued messages are encoded into one write buffer, so everything sent while
//! a write is in flight goes out together in the next write (batching without a
//! `flush`). Frames of `ZERO_COPY_MIN` bytes or more are not copied: they go by
//! reference in a vectored write. Timers come from [`Session::poll_timeout`].

use std::io;
use std::pin::pin;
use std::rc::Rc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use compio::buf::BufResult;
use compio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use futures::FutureExt;
use futures::future::Fuse;
use futures::future::FusedFuture;
use monocoque_core::{IoArena, ReadRegion};

use crate::driver::notify::{Notify, Stop};
use crate::proto::error::ProtocolError;
use crate::proto::pattern::PeerId;
use crate::proto::session::{Event, Session};
use crate::proto::socket_type::SocketType;
use crate::socket::core::{Shared, SubscriptionOp};

/// Size of a connection's first read page: enough for any handshake, small enough that
/// thousands of idle connections cost little memory.
const INITIAL_READ_PAGE: usize = 4096;

/// How long a connection closing for a protocol error waits to write its ERROR
/// command (a peer that stopped reading cannot hold the connection open).
const ERROR_FLUSH_TIME: std::time::Duration = std::time::Duration::from_secs(1);

/// Why a connection ended.
#[derive(Debug)]
pub(crate) enum End {
    /// The peer closed the connection.
    PeerClosed,
    /// The connection failed.
    Io(io::Error),
    /// The peer broke the protocol, was incompatible, or timed out.
    Protocol(ProtocolError),
    /// The socket or endpoint was closed locally.
    Stopped,
}

async fn read_some<S>(stream: &S, region: ReadRegion) -> BufResult<usize, ReadRegion>
where
    for<'a> &'a S: AsyncRead,
{
    let mut reader = stream;
    reader.read(region).await
}

/// What one write carries: encoded bytes in one buffer (reused write after write), or
/// chunks including large payloads by reference (a vectored write, no copy).
enum Transmit {
    Flat(BytesMut),
    Chunks(Vec<Bytes>),
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

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => compio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Runs one connection until it ends. The caller tells the core the peer is gone.
pub(crate) async fn run<S>(
    stream: S,
    shared: Rc<Shared>,
    id: PeerId,
    link: Rc<Notify>,
    stop: Rc<Stop>,
) -> End
where
    for<'a> &'a S: AsyncRead + AsyncWrite,
{
    let options = &shared.options;
    let mut session = match Session::new(options.session_config(shared.socket_type), Instant::now())
    {
        Ok(session) => session,
        Err(err) => return End::Protocol(err),
    };
    // An idle connection only ever reads its peer's handshake: start with a small page
    // and move to full-size pages once a read fills a whole region (traffic).
    let page_size = options.buffers.read_page_size;
    let mut arena = IoArena::new(INITIAL_READ_PAGE.min(page_size));
    let batch = options.buffers.write_batch_size.max(1);
    let mut spare: Option<BytesMut> = Some(BytesMut::with_capacity(batch));
    let mut spare_chunks: Option<Vec<Bytes>> = None;
    let mut reading = pin!(Fuse::terminated());
    let mut writing = pin!(Fuse::terminated());
    let mut ops: Vec<SubscriptionOp> = Vec::new();
    // Set when the connection must end once the pending bytes are written.
    let mut closing: Option<End> = None;
    let mut linger_deadline: Option<Instant> = None;
    // A peer that broke the protocol gets a moment to read our ERROR, not forever.
    let mut close_deadline: Option<Instant> = None;
    let mut lingering = false;
    let mut was_flushed = true;

    loop {
        let woken = link.listen();

        // Queued messages go into the session, up to one batch.
        if session.is_active() && closing.is_none() {
            let room = batch.saturating_sub(session.pending_transmit());
            if room > 0 {
                let mut core = shared.core.borrow_mut();
                core.take_subscription_ops(id, &mut ops);
                for op in ops.drain(..) {
                    let _ = match op {
                        SubscriptionOp::Subscribe(topic) => session.subscribe(&topic),
                        SubscriptionOp::Cancel(topic) => session.cancel(&topic),
                    };
                }
                let taken = core.take_outgoing(id, room, |outgoing| {
                    let _ = match outgoing.shared_wire() {
                        Some(wire) => session.send_encoded(wire),
                        None => session.send_message(outgoing.message()),
                    };
                });
                drop(core);
                if taken > 0 {
                    shared.send_ready.notify();
                }
            }
        }

        if writing.is_terminated() && session.pending_transmit() > 0 {
            let transmit = if session.has_chunks() {
                let mut chunks = spare_chunks.take().unwrap_or_default();
                chunks.clear();
                session.poll_transmit_chunks(&mut chunks);
                Transmit::Chunks(chunks)
            } else {
                let mut buf = spare.take().unwrap_or_default();
                buf.clear();
                session.poll_transmit(&mut buf);
                Transmit::Flat(buf)
            };
            writing.set(write_all(&stream, transmit).fuse());
        }

        let idle = writing.is_terminated() && session.pending_transmit() == 0;
        let flushed = idle && !shared.core.borrow().has_outgoing(id);
        if flushed != was_flushed {
            shared.core.borrow_mut().set_flushed(id, flushed);
            if flushed {
                shared.flushed.notify();
            }
            was_flushed = flushed;
        }

        if let Some(end) = closing.take() {
            let now = Instant::now();
            let deadline = *close_deadline.get_or_insert(now + ERROR_FLUSH_TIME);
            if idle || now >= deadline || matches!(end, End::PeerClosed | End::Io(_)) {
                return end;
            }
            closing = Some(end);
        }
        if stop.is_stopped() && !lingering {
            // ZMQ_LINGER: queued messages may still be written for this long.
            lingering = true;
            linger_deadline = options.linger.map(|linger| Instant::now() + linger);
        }
        if lingering {
            let past_deadline = linger_deadline.is_some_and(|at| Instant::now() >= at);
            if flushed || past_deadline || !session.is_active() {
                return End::Stopped;
            }
        }

        if reading.is_terminated()
            && closing.is_none()
            && !stop.is_stopped()
            && shared.core.borrow().can_read(id)
        {
            reading.set(read_some(&stream, arena.region()).fuse());
        }

        let deadline = [session.poll_timeout(), linger_deadline, close_deadline]
            .into_iter()
            .flatten()
            .min();
        let mut timer = pin!(sleep_until(deadline).fuse());
        let mut woken = pin!(woken.fuse());
        let mut stopped = pin!(
            async {
                if lingering {
                    std::future::pending::<()>().await;
                }
                stop.wait().await;
            }
            .fuse()
        );

        futures::select_biased! {
            BufResult(result, region) = reading => match result {
                Ok(0) => closing = Some(End::PeerClosed),
                Ok(n) => {
                    let filled = n >= region.capacity();
                    session.handle_input(arena.freeze(region), Instant::now());
                    if filled && arena.page_size() < page_size {
                        arena = IoArena::new(page_size);
                    }
                }
                Err(err) => closing = Some(End::Io(err)),
            },
            BufResult(result, transmit) = writing => match result {
                Ok(()) => match transmit {
                    Transmit::Flat(buf) => spare = Some(buf),
                    // Drop the payload references now, keep the vector.
                    Transmit::Chunks(mut chunks) => {
                        chunks.clear();
                        spare_chunks = Some(chunks);
                    }
                },
                Err(err) => closing = Some(End::Io(err)),
            },
            () = timer => session.handle_timeout(Instant::now()),
            () = woken => {}
            () = stopped => {}
        }

        // Messages go to the peer's queue in one batch (one core borrow, one lookup,
        // one wake-up); any other event is handled on its own between batches.
        loop {
            let mut other = None;
            let delivered =
                shared
                    .core
                    .borrow_mut()
                    .deliver_all(id, || match session.poll_event()? {
                        Event::Message(message) => Some(message),
                        event => {
                            other = Some(event);
                            None
                        }
                    });
            if delivered {
                shared.recv_ready.notify();
            }
            match other {
                Some(event) => handle_event(&shared, id, &mut session, event, &mut closing),
                None => break,
            }
        }
    }
}

#[inline]
fn handle_event(
    shared: &Shared,
    id: PeerId,
    session: &mut Session,
    event: Event,
    closing: &mut Option<End>,
) {
    match event {
        Event::HandshakeComplete(info) => {
            let mut core = shared.core.borrow_mut();
            if let Err(err) = core.peer_ready(id, info) {
                session.close();
                *closing = Some(End::Protocol(err));
                return;
            }
            if matches!(shared.socket_type, SocketType::Sub | SocketType::Xsub) {
                for topic in core.subscription_topics() {
                    let _ = session.subscribe(&topic);
                }
            }
            drop(core);
            shared.send_ready.notify();
            shared.peers_changed.notify();
        }
        // Messages normally reach the core in batches (the loop in `run`); one handed
        // here is delivered the same way.
        Event::Message(message) => {
            let mut once = Some(message);
            if shared.core.borrow_mut().deliver_all(id, || once.take()) {
                shared.recv_ready.notify();
            }
        }
        Event::Subscribe(topic) => subscription(shared, id, &topic, true),
        Event::Cancel(topic) => subscription(shared, id, &topic, false),
        Event::Closed(err) => *closing = Some(End::Protocol(err)),
    }
}

fn subscription(shared: &Shared, id: PeerId, topic: &[u8], on: bool) {
    let mut core = shared.core.borrow_mut();
    if let Some(report) = core.peer_subscribed(id, topic, on) {
        core.deliver_subscription(report);
        drop(core);
        shared.recv_ready.notify();
    }
}
