//! The bridge between a [`SocketHandle`](super::handle::SocketHandle) on any thread
//! and its [`Socket`](super::Socket) on an I/O thread.
//!
//! Both sides share one [`Bridge`]: an outbox of messages to send, an inbox of what
//! was received, commands (bind, connect, ...), under one lock. The I/O side takes
//! the whole outbox at once (a batch), and a handle wakes the I/O side only when it
//! finds the outbox empty, so a burst of sends costs one cross-thread wake-up.
//!
//! Sends are done once queued, as in libzmq, except where the socket can refuse a
//! message the handle cannot judge (ROUTER with `router_mandatory`): there a send
//! waits for the socket's verdict. Receives are read ahead, up to the receive
//! high-water mark. REQ and REP alternate: the handle keeps whose turn it is (a
//! call out of turn fails at once, as on the socket), and the I/O side receives
//! ahead only when the socket's own state allows it, one message at a time, so
//! neither a send nor a receive waits for a cross-thread round trip.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use futures::channel::oneshot;
use smallvec::SmallVec;

use crate::config::SocketOptions;
use crate::engine::remote_waker::RemoteWaker;
use crate::engine::{RecentError, SocketStats};
use crate::error::Error;
use crate::proto::error::StateError;
use crate::proto::message::Message;
use crate::proto::socket_type::SocketType;

/// A request from a handle, answered on its channel.
#[derive(Debug)]
pub(crate) enum Command {
    Bind(String, oneshot::Sender<Result<String, Error>>),
    Connect(String, oneshot::Sender<Result<(), Error>>),
    SetConnectRoutingId(bytes::Bytes, oneshot::Sender<Result<(), Error>>),
    Unbind(String, oneshot::Sender<Result<(), Error>>),
    Disconnect(String, oneshot::Sender<Result<(), Error>>),
    Subscribe(Vec<u8>, bool, oneshot::Sender<Result<(), Error>>),
    Stats(oneshot::Sender<(SocketStats, usize)>),
    RecentErrors(oneshot::Sender<Vec<RecentError>>),
    Monitor(oneshot::Sender<crate::engine::monitor::Monitor>),
}

/// What both sides share, under the bridge's lock.
#[derive(Debug, Default)]
pub(crate) struct Queues {
    /// Messages to send, in submission order: the last is message number
    /// `submitted`, the one before it `submitted - 1`, and so on (a number per
    /// message stored beside it made each queued message a tuple built on the stack
    /// and copied across the boundary of its fields, which the copy's loads could
    /// not forward).
    pub(crate) outbox: VecDeque<Message>,
    submitted: u64,
    /// The number of the last message the socket has taken or refused.
    completed: u64,
    /// Refusals of confirmed sends, by number.
    refused: VecDeque<(u64, Error)>,
    inbox: VecDeque<Result<Message, Error>>,
    /// `recv` calls waiting for a message.
    waiting: usize,
    /// REQ and REP: whether the next call must be a send (else a receive).
    sends_next: Option<bool>,
    pub(crate) commands: VecDeque<Command>,
    send_wakers: Wakers,
    recv_wakers: Wakers,
    /// `close` was called or the context ends: the I/O side sends what is queued,
    /// then closes the socket (with its linger).
    pub(crate) closing: bool,
    /// The socket is closed.
    closed: bool,
}

/// Tasks or threads waiting on one side of the bridge; usually one, kept inline so
/// taking them out costs no allocation.
type Wakers = SmallVec<[Waker; 2]>;

fn register(wakers: &mut Wakers, waker: &Waker) {
    if !wakers.iter().any(|w| w.will_wake(waker)) {
        wakers.push(waker.clone());
    }
}

/// Releases the lock, then wakes `wakers` (taken out under it): a thread woken while
/// the lock was still held would, on a shared core, be switched to only to wait for
/// the lock and switch back (two context switches per wake-up, measured as
/// contended locking in REQ/REP round trips).
fn wake_unlocked(wakers: Wakers, queues: MutexGuard<'_, Queues>) {
    drop(queues);
    for waker in wakers {
        waker.wake();
    }
}

/// Messages taken from the outbox at once, numbered from `first` in order.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub(crate) first: u64,
    pub(crate) messages: VecDeque<Message>,
}

/// The shared state of one handle's socket.
#[derive(Debug)]
pub(crate) struct Bridge {
    pub(crate) socket_type: SocketType,
    /// Sends wait for the socket's verdict.
    confirms: bool,
    /// REQ and REP: send and receive alternate, one message in flight.
    alternates: bool,
    /// REQ (relaxed too) and REP: the socket's state decides when it may receive.
    has_turns: bool,
    /// The socket type receives at all (not PUSH, PUB).
    receives: bool,
    /// `ZMQ_CONFLATE`: the inbox keeps only the last message received.
    conflate: bool,
    /// `ZMQ_XPUB_MANUAL`: messages are taken from the socket only for a waiting
    /// `recv`, so a `subscribe` that follows it applies to that message's sender.
    on_demand: bool,
    send_capacity: usize,
    recv_capacity: usize,
    queues: Mutex<Queues>,
    /// Wakes the I/O side; `generation` tells it whether anything happened since it
    /// last looked, so no wake-up is lost between looking and waiting.
    io: RemoteWaker,
    generation: AtomicU64,
}

fn capacity(hwm: usize) -> usize {
    if hwm == 0 { usize::MAX } else { hwm }
}

impl Bridge {
    pub(crate) fn new(socket_type: SocketType, options: &SocketOptions) -> Bridge {
        // A relaxed REQ keeps no turns: it may send at any time.
        let relaxed = socket_type == SocketType::Req && options.req_relaxed;
        let conflate = crate::engine::conflates(socket_type, options);
        let alternates = matches!(socket_type, SocketType::Req | SocketType::Rep) && !relaxed;
        let queues = Queues {
            sends_next: alternates.then_some(socket_type == SocketType::Req),
            ..Queues::default()
        };
        Bridge {
            socket_type,
            confirms: socket_type == SocketType::Router && options.router_mandatory,
            alternates,
            has_turns: matches!(socket_type, SocketType::Req | SocketType::Rep),
            receives: !matches!(socket_type, SocketType::Push | SocketType::Pub),
            conflate,
            on_demand: socket_type == SocketType::Xpub && options.xpub_manual,
            send_capacity: capacity(options.sndhwm),
            recv_capacity: match (alternates, conflate) {
                (true, _) => 1,
                (false, true) => usize::MAX,
                (false, false) => capacity(options.rcvhwm),
            },
            queues: Mutex::new(queues),
            io: RemoteWaker::default(),
            generation: AtomicU64::new(0),
        }
    }

    /// The queues, even if a panicking thread poisoned the lock (they stay
    /// consistent: every change under the lock is a single push or pop).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Queues> {
        self.queues.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn wake_io(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.io.wake();
    }

    /// Notes the I/O thread's runtime, woken after the I/O side's task on every
    /// [`wake_io`](Self::wake_io) (see [`RemoteWaker`]).
    pub(crate) fn set_runtime(&self, runtime: Waker) {
        self.io.set_runtime(runtime);
    }

    // ---- the handle's side ----

    /// Queues the message in `slot` if there is room; registers `cx` otherwise.
    /// Returns the message's number once queued.
    pub(crate) fn poll_submit(
        &self,
        cx: &mut Context<'_>,
        slot: &mut Option<Message>,
    ) -> Poll<Result<u64, Error>> {
        let mut queues = self.lock();
        if queues.closing {
            return Poll::Ready(Err(Error::Closed));
        }
        if queues.sends_next == Some(false) {
            return Poll::Ready(Err(Error::InvalidState(self.out_of_turn(true))));
        }
        if queues.outbox.len() >= self.send_capacity {
            register(&mut queues.send_wakers, cx.waker());
            return Poll::Pending;
        }
        let Some(message) = slot.take() else {
            return Poll::Ready(Err(Error::Closed));
        };
        queues.submitted += 1;
        if queues.sends_next.is_some() {
            queues.sends_next = Some(false);
        }
        let number = queues.submitted;
        let was_empty = queues.outbox.is_empty();
        queues.outbox.push_back(message);
        drop(queues);
        if was_empty {
            self.wake_io();
        }
        Poll::Ready(Ok(number))
    }

    /// Whether sends wait for the socket's verdict.
    pub(crate) fn confirms(&self) -> bool {
        self.confirms
    }

    /// Resolves once message `number` was taken or refused by the socket.
    pub(crate) fn poll_verdict(
        &self,
        cx: &mut Context<'_>,
        number: u64,
    ) -> Poll<Result<(), Error>> {
        let mut queues = self.lock();
        if let Some(i) = queues.refused.iter().position(|(n, _)| *n == number) {
            let refusal = queues.refused.remove(i).map(|(_, err)| err);
            return Poll::Ready(refusal.map_or(Ok(()), Err));
        }
        if queues.completed >= number {
            return Poll::Ready(Ok(()));
        }
        if queues.closed {
            return Poll::Ready(Err(Error::Closed));
        }
        register(&mut queues.send_wakers, cx.waker());
        Poll::Pending
    }

    /// Takes the next received message; `counted` tracks whether this caller is
    /// counted among the waiting receivers.
    #[inline]
    pub(crate) fn poll_receive(
        &self,
        cx: &mut Context<'_>,
        counted: &mut bool,
    ) -> Poll<Result<Message, Error>> {
        self.poll_receive_as(Some(cx), counted, |received| received)
    }

    /// Moves a message already received into `slot`, if there is one.
    ///
    /// The message goes straight into the caller's slot and only an error comes back.
    /// A `Result<Message, Error>` handed up through `try_recv`'s `Result<Option<_>>`
    /// was copied 88 bytes at a time at each layer, the tag's bytes apart from the
    /// rest, which the next load could not forward (docs/performance.md, "A received
    /// message moved once to a blocking handle").
    #[inline]
    pub(crate) fn receive_into(&self, slot: &mut Option<Message>) -> Result<(), Error> {
        let taken = self.poll_receive_as(None, &mut false, |received| {
            received.map(|message| *slot = Some(message))
        });
        match taken {
            Poll::Ready(result) => result,
            Poll::Pending => Ok(()),
        }
    }

    /// [`poll_receive`](Self::poll_receive), handing what it takes to `take`; without
    /// `cx`, nothing is registered and it is pending when nothing waits.
    #[inline]
    fn poll_receive_as<T>(
        &self,
        cx: Option<&mut Context<'_>>,
        counted: &mut bool,
        take: impl FnOnce(Result<Message, Error>) -> T,
    ) -> Poll<T> {
        let mut queues = self.lock();
        if queues.sends_next == Some(true) && queues.inbox.is_empty() {
            if std::mem::take(counted) {
                queues.waiting -= 1;
            }
            return Poll::Ready(take(Err(Error::InvalidState(self.out_of_turn(false)))));
        }
        if let Some(received) = queues.inbox.pop_front() {
            if std::mem::take(counted) {
                queues.waiting -= 1;
            }
            if queues.sends_next.is_some() {
                // A reply or request taken: the next call sends. A refusal from the
                // socket (a REQ whose peer went away) leaves its turn to it too.
                queues.sends_next = Some(true);
            }
            let room_again = queues.inbox.len() + 1 == self.recv_capacity;
            drop(queues);
            if room_again {
                self.wake_io();
            }
            return Poll::Ready(take(received));
        }
        if queues.closed {
            return Poll::Ready(take(Err(Error::Closed)));
        }
        let Some(cx) = cx else {
            return Poll::Pending;
        };
        register(&mut queues.recv_wakers, cx.waker());
        if !*counted {
            *counted = true;
            queues.waiting += 1;
            // The socket may refuse to receive (a REQ whose peer went away): the I/O
            // side then asks it anyway, to hand the refusal to this call; it looks
            // again by itself once the request still in the outbox has gone out, so
            // a `recv` right after its `send` costs no second wake-up. A manual
            // XPUB's I/O side takes a message only for a waiting call.
            if (self.alternates && queues.outbox.is_empty()) || self.on_demand {
                drop(queues);
                self.wake_io();
            }
        }
        Poll::Pending
    }

    /// Moves every message waiting into `ready` (empty) under one lock, for a
    /// consumer that hands them out from a queue of its own (a handle's stream): a
    /// lock per message cost the receiving thread as much as the rest of its work
    /// (docs/performance.md, "A stream takes what is waiting at once"). The inbox
    /// gets `ready`'s empty buffer in exchange, so neither side allocates.
    ///
    /// Sockets whose receives depend on their state (REQ, REP, a manual XPUB) take
    /// one message at a time, as [`poll_receive`](Self::poll_receive) does.
    pub(crate) fn poll_receive_all(
        &self,
        cx: &mut Context<'_>,
        counted: &mut bool,
        ready: &mut VecDeque<Result<Message, Error>>,
    ) -> Poll<()> {
        if self.has_turns || self.on_demand {
            return self
                .poll_receive(cx, counted)
                .map(|received| ready.push_back(received));
        }
        let mut queues = self.lock();
        if queues.inbox.is_empty() {
            if queues.closed {
                ready.push_back(Err(Error::Closed));
                return Poll::Ready(());
            }
            register(&mut queues.recv_wakers, cx.waker());
            if !std::mem::replace(counted, true) {
                queues.waiting += 1;
            }
            return Poll::Pending;
        }
        if std::mem::take(counted) {
            queues.waiting -= 1;
        }
        let was_full = queues.inbox.len() >= self.recv_capacity;
        std::mem::swap(ready, &mut queues.inbox);
        drop(queues);
        if was_full {
            self.wake_io();
        }
        Poll::Ready(())
    }

    /// Puts back, in order at the front of the inbox, what a stream took and did not
    /// hand out, for the socket's other receivers.
    pub(crate) fn give_back(&self, ready: &mut VecDeque<Result<Message, Error>>) {
        let mut queues = self.lock();
        while let Some(received) = ready.pop_back() {
            // A conflating socket keeps only the newest message, which the inbox
            // already holds if it holds anything.
            let stale = self.conflate && !queues.inbox.is_empty();
            if !stale && !matches!(received, Err(Error::Closed)) {
                queues.inbox.push_front(received);
            }
        }
        wake_unlocked(std::mem::take(&mut queues.recv_wakers), queues);
    }

    /// A waiting receiver gave up.
    pub(crate) fn stop_waiting(&self) {
        let mut queues = self.lock();
        queues.waiting = queues.waiting.saturating_sub(1);
    }

    /// Queues a command for the I/O side.
    pub(crate) fn command(&self, command: Command) -> Result<(), Error> {
        let mut queues = self.lock();
        if queues.closing {
            return Err(Error::Closed);
        }
        queues.commands.push_back(command);
        drop(queues);
        self.wake_io();
        Ok(())
    }

    /// Asks the I/O side to send what is queued and close the socket.
    pub(crate) fn close(&self) {
        self.lock().closing = true;
        self.wake_io();
    }

    // ---- the I/O side's ----

    /// The generation to compare with in [`poll_woken`](Self::poll_woken).
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Resolves once woken after `seen` was read.
    pub(crate) fn poll_woken(&self, cx: &mut Context<'_>, seen: u64) -> Poll<()> {
        self.io.register(cx.waker());
        if self.generation() != seen {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// Moves the queued messages into `batch` (in order) if it is empty, and every
    /// command into `commands`; wakes senders waiting for room.
    pub(crate) fn take_work(&self, batch: &mut Batch, commands: &mut Vec<Command>) -> bool {
        let mut queues = self.lock();
        // A swap, not a copy, while the handles wait for the lock. Messages are taken
        // only once the last batch went out: while the socket cannot take them, the
        // outbox fills and sends wait, so a slow peer holds at most a batch and an
        // outbox here (each up to `sndhwm`) besides its queue in the socket.
        if batch.messages.is_empty() {
            batch.first = queues.submitted + 1 - queues.outbox.len() as u64;
            std::mem::swap(&mut batch.messages, &mut queues.outbox);
        }
        commands.extend(queues.commands.drain(..));
        let closing = queues.closing;
        wake_unlocked(std::mem::take(&mut queues.send_wakers), queues);
        closing
    }

    /// Whether the I/O side should receive now.
    pub(crate) fn wants_message(&self, allowed: bool, sending: bool) -> bool {
        self.inbox_room(allowed, sending) > 0
    }

    /// The state error of a call out of turn on REQ or REP.
    fn out_of_turn(&self, sending: bool) -> StateError {
        match (self.socket_type, sending) {
            (SocketType::Req, true) => StateError::RequestPending,
            (SocketType::Req, false) => StateError::NoRequest,
            (_, true) => StateError::NothingToReply,
            (_, false) => StateError::ReplyOwed,
        }
    }

    /// The socket took (or refused) every message up to `number`; `refused` holds
    /// the refusals of confirmed sends.
    pub(crate) fn sent(&self, number: u64, refused: &mut Vec<(u64, Error)>) {
        let mut queues = self.lock();
        queues.completed = number;
        queues.refused.extend(refused.drain(..));
        wake_unlocked(std::mem::take(&mut queues.send_wakers), queues);
    }

    /// How many more received messages the inbox takes now; `allowed`: whether the
    /// socket's state lets it receive (REQ and REP); `sending`: a batch is still
    /// being sent (its REQ request or REP reply may be what makes receiving allowed).
    pub(crate) fn inbox_room(&self, allowed: bool, sending: bool) -> usize {
        if !self.receives {
            return 0;
        }
        let queues = self.lock();
        if queues.closing {
            return 0;
        }
        if self.on_demand {
            return queues.waiting.saturating_sub(queues.inbox.len());
        }
        if self.has_turns && !allowed {
            // Only to hand a waiting `recv` the socket's refusal, once every send
            // before it reached the socket.
            if sending || !queues.outbox.is_empty() {
                return 0;
            }
            return queues.waiting.saturating_sub(queues.inbox.len());
        }
        self.recv_capacity.saturating_sub(queues.inbox.len())
    }

    /// The socket received these messages (or failed to): one lock, one wake-up.
    /// `received` is drained under the lock, so it must not lock this bridge.
    pub(crate) fn received(&self, received: impl IntoIterator<Item = Result<Message, Error>>) {
        let mut queues = self.lock();
        if self.conflate {
            if let Some(last) = received.into_iter().last() {
                queues.inbox.clear();
                queues.inbox.push_back(last);
            }
        } else {
            queues.inbox.extend(received);
        }
        wake_unlocked(std::mem::take(&mut queues.recv_wakers), queues);
    }

    /// The socket is closed: wakes everyone still waiting.
    pub(crate) fn finished(&self) {
        let mut queues = self.lock();
        queues.closed = true;
        queues.closing = true;
        let mut waiting = std::mem::take(&mut queues.send_wakers);
        waiting.extend(std::mem::take(&mut queues.recv_wakers));
        wake_unlocked(waiting, queues);
    }
}
