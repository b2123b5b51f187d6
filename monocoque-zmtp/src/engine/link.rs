//! inproc across threads: the names sockets bind, shared by every thread of a context
//! ([`Names`]), and the [`Link`] that joins two sockets on different threads.
//!
//! ```text
//!  thread A: socket ─Port─ pump ──▶ lane 0 ──▶ pump ─Port─ socket :thread B
//!                               ◀── lane 1 ◀──
//! ```
//!
//! Each lane carries messages and subscription changes one way, under a mutex taken
//! once per batch. The receiving side grants the lane as much room as its inbound
//! queue has left, so a sender's `sndhwm` and a receiver's `rcvhwm` add up as they
//! do between two sockets of one thread (and in libzmq). Sockets of one thread keep
//! joining directly, queue to queue, without a link.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread::ThreadId;

use bytes::Bytes;
use futures::channel::mpsc::UnboundedSender;

use super::peers::SubscriptionOp;
use super::remote_waker::RemoteWaker;
use crate::proto::message::Message;
use crate::proto::socket_type::SocketType;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What one side of an inproc join tells the other, as a handshake would.
#[derive(Debug, Clone)]
pub(crate) struct Party {
    pub(crate) socket_type: SocketType,
    pub(crate) routing_id: Option<Bytes>,
}

/// A request to join a bound socket, sent to the thread it lives on. It carries the
/// bound side's end: a request dropped unserved (the binding stopped first) closes
/// the link, and the connecter looks the name up again.
#[derive(Debug)]
pub(crate) struct Join {
    pub(crate) end: LinkEnd,
    pub(crate) connecter: Party,
}

/// A bound name.
#[derive(Debug, Clone)]
pub(crate) struct Binding {
    /// The thread the bound socket lives on.
    pub(crate) thread: ThreadId,
    pub(crate) binder: Party,
    /// Reaches the bound socket's thread with connecters from other threads.
    pub(crate) joins: UnboundedSender<Join>,
    /// Cleared when the binding stops (unbind, close).
    pub(crate) live: Arc<AtomicBool>,
}

impl Binding {
    fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire) && !self.joins.is_closed()
    }
}

/// The inproc names of one context (libzmq scopes inproc to its context): every
/// thread of the context sees the same names.
#[derive(Debug, Default)]
pub(crate) struct Names {
    bindings: Mutex<HashMap<String, Binding>>,
    /// Bumped on every bind, so connecters waiting for a name look again.
    generation: AtomicU64,
    waiters: Mutex<Vec<Waker>>,
}

thread_local! {
    static THREAD_NAMES: Arc<Names> = Arc::new(Names::default());
}

impl Names {
    /// The names of the current thread's sockets that belong to no context.
    pub(crate) fn of_thread() -> Arc<Names> {
        THREAD_NAMES.with(Arc::clone)
    }

    /// A new set of names, for a context.
    pub(crate) fn new() -> Arc<Names> {
        Arc::new(Names::default())
    }

    /// An identity for per-thread state kept for these names.
    pub(crate) fn key(self: &Arc<Self>) -> usize {
        Arc::as_ptr(self) as usize
    }

    /// Binds `name`; `false` when a live binding holds it.
    pub(crate) fn bind(&self, name: &str, binding: Binding) -> bool {
        let mut bindings = lock(&self.bindings);
        if bindings.get(name).is_some_and(Binding::is_live) {
            return false;
        }
        bindings.insert(name.to_string(), binding);
        drop(bindings);
        self.generation.fetch_add(1, Ordering::AcqRel);
        for waker in lock(&self.waiters).drain(..) {
            waker.wake();
        }
        true
    }

    /// Removes `name` if `live` is its binding's flag (a rebind may have replaced it).
    pub(crate) fn unbind(&self, name: &str, live: &Arc<AtomicBool>) {
        live.store(false, Ordering::Release);
        let mut bindings = lock(&self.bindings);
        if bindings
            .get(name)
            .is_some_and(|b| Arc::ptr_eq(&b.live, live))
        {
            bindings.remove(name);
        }
    }

    /// The live binding of `name`.
    pub(crate) fn lookup(&self, name: &str) -> Option<Binding> {
        lock(&self.bindings)
            .get(name)
            .filter(|b| b.is_live())
            .cloned()
    }

    /// How many binds happened so far.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Ready once a bind happened after generation `seen`.
    pub(crate) fn poll_bound(&self, seen: u64, cx: &mut Context<'_>) -> Poll<()> {
        if self.generation() != seen {
            return Poll::Ready(());
        }
        lock(&self.waiters).push(cx.waker().clone());
        match self.generation() != seen {
            true => Poll::Ready(()),
            false => Poll::Pending,
        }
    }
}

/// One direction of a link.
#[derive(Debug, Default)]
struct Lane {
    messages: VecDeque<Message>,
    ops: VecDeque<SubscriptionOp>,
    /// How many messages the receiver's inbound queue takes (`usize::MAX`: no mark).
    room: usize,
    /// The receiver took messages since it last granted room.
    taken: bool,
}

/// Two sockets on different threads, joined: a lane each way and each side's waker.
#[derive(Debug)]
pub(crate) struct Link {
    lanes: [Mutex<Lane>; 2],
    wakers: [RemoteWaker; 2],
    woken: [AtomicBool; 2],
    closed: AtomicBool,
    /// The bound side refused the join (a routing id in use, say): the connecter
    /// waits for a new binding instead of trying again at once.
    refused: AtomicBool,
}

/// One side's handle on a link: side 0 is the connecter, side 1 the bound socket.
/// Dropping it closes the link, so the other side never waits on a side that is gone.
#[derive(Debug)]
pub(crate) struct LinkEnd {
    link: Arc<Link>,
    side: usize,
}

impl Link {
    pub(crate) fn new() -> Arc<Link> {
        Arc::new(Link {
            lanes: Default::default(),
            wakers: Default::default(),
            woken: Default::default(),
            closed: AtomicBool::new(false),
            refused: AtomicBool::new(false),
        })
    }

    /// The connecter's end and the bound socket's end.
    pub(crate) fn end(self: &Arc<Self>, bound: bool) -> LinkEnd {
        LinkEnd {
            link: self.clone(),
            side: usize::from(bound),
        }
    }
}

impl LinkEnd {
    fn wake_other(&self) {
        let other = 1 - self.side;
        self.link.woken[other].store(true, Ordering::Release);
        self.link.wakers[other].wake();
    }

    /// Notes this side's runtime, woken after this side's task whenever the other
    /// side wakes it (see [`RemoteWaker`]).
    pub(crate) fn set_runtime(&self, runtime: Waker) {
        self.link.wakers[self.side].set_runtime(runtime);
    }

    /// How many more messages the other side takes now.
    pub(crate) fn room(&self) -> usize {
        let lane = lock(&self.link.lanes[self.side]);
        lane.room.saturating_sub(lane.messages.len())
    }

    /// Sends `messages` and `ops` (draining both) to the other side.
    pub(crate) fn push(&self, messages: &mut Vec<Message>, ops: &mut Vec<SubscriptionOp>) {
        if messages.is_empty() && ops.is_empty() {
            return;
        }
        let mut lane = lock(&self.link.lanes[self.side]);
        lane.ops.extend(ops.drain(..));
        lane.messages.extend(messages.drain(..));
        drop(lane);
        self.wake_other();
    }

    /// Takes up to `max` messages and every subscription change sent to this side.
    pub(crate) fn pull(
        &self,
        max: usize,
        messages: &mut Vec<Message>,
        ops: &mut Vec<SubscriptionOp>,
    ) {
        let mut lane = lock(&self.link.lanes[1 - self.side]);
        ops.extend(lane.ops.drain(..));
        let n = max.min(lane.messages.len());
        messages.extend(lane.messages.drain(..n));
        // What was pulled fills the inbound queue the room was granted for: in the
        // same lock, or the sender would see that room again before the next grant.
        lane.room = lane.room.saturating_sub(n);
        lane.taken |= n > 0;
    }

    /// Tells the other side how many messages this side's inbound queue takes; wakes
    /// it when it may send more than before (the room grew, or messages left the
    /// lane).
    pub(crate) fn grant(&self, room: usize) {
        let mut lane = lock(&self.link.lanes[1 - self.side]);
        let changed = room > lane.room || std::mem::take(&mut lane.taken);
        lane.room = room;
        let may_send = room > lane.messages.len();
        drop(lane);
        if changed && may_send {
            self.wake_other();
        }
    }

    /// Ends the link; the other side finishes when it sees it.
    pub(crate) fn close(&self) {
        self.link.closed.store(true, Ordering::Release);
        self.wake_other();
    }

    /// The bound side refuses the join, and ends the link.
    pub(crate) fn refuse(&self) {
        self.link.refused.store(true, Ordering::Release);
        self.close();
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.link.closed.load(Ordering::Acquire)
    }

    /// Whether the bound side refused the join.
    pub(crate) fn was_refused(&self) -> bool {
        self.link.refused.load(Ordering::Acquire)
    }

    /// Ready when the other side sent, made room, or closed since the last call.
    pub(crate) fn poll_woken(&self, cx: &mut Context<'_>) -> Poll<()> {
        let woken = &self.link.woken[self.side];
        if woken.swap(false, Ordering::AcqRel) {
            return Poll::Ready(());
        }
        self.link.wakers[self.side].register(cx.waker());
        match woken.swap(false, Ordering::AcqRel) || self.is_closed() {
            true => Poll::Ready(()),
            false => Poll::Pending,
        }
    }
}

impl Drop for LinkEnd {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lane_carries_what_the_receiver_has_room_for() {
        let link = Link::new();
        let (connecter, bound) = (link.end(false), link.end(true));
        assert_eq!(
            connecter.room(),
            0,
            "nothing before the receiver grants room"
        );
        bound.grant(2);
        assert_eq!(connecter.room(), 2);
        let mut messages: Vec<Message> = vec!["a".into(), "b".into()];
        connecter.push(
            &mut messages,
            &mut vec![SubscriptionOp::Subscribe("t".into())],
        );
        assert_eq!(connecter.room(), 0);
        let (mut got, mut ops) = (Vec::new(), Vec::new());
        bound.pull(1, &mut got, &mut ops);
        assert_eq!((got.len(), ops.len()), (1, 1));
        bound.grant(1);
        assert_eq!(connecter.room(), 0, "one still in the lane fills the room");
        bound.grant(3);
        assert_eq!(connecter.room(), 2);
    }

    #[test]
    fn pulled_messages_use_up_the_room_until_the_next_grant() {
        let link = Link::new();
        let (connecter, bound) = (link.end(false), link.end(true));
        bound.grant(3);
        connecter.push(
            &mut vec!["a".into(), "b".into(), "c".into()],
            &mut Vec::new(),
        );
        let (mut got, mut ops) = (Vec::new(), Vec::new());
        bound.pull(3, &mut got, &mut ops);
        assert_eq!(got.len(), 3);
        assert_eq!(
            connecter.room(),
            0,
            "the receiver's queue is full until it grants again"
        );
        bound.grant(1);
        assert_eq!(connecter.room(), 1);
    }

    #[test]
    fn a_side_is_woken_once_per_change() {
        let link = Link::new();
        let (connecter, bound) = (link.end(false), link.end(true));
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(bound.poll_woken(&mut cx).is_pending());
        connecter.push(&mut vec!["x".into()], &mut Vec::new());
        assert!(bound.poll_woken(&mut cx).is_ready());
        assert!(bound.poll_woken(&mut cx).is_pending());
        drop(connecter);
        assert!(bound.poll_woken(&mut cx).is_ready(), "a dropped end closes");
        assert!(bound.is_closed());
    }

    #[test]
    fn a_name_is_bound_once_until_its_binding_stops() {
        let names = Names::new();
        let (joins, _rx) = futures::channel::mpsc::unbounded();
        let binding = |live: &Arc<AtomicBool>| Binding {
            thread: std::thread::current().id(),
            binder: Party {
                socket_type: SocketType::Pull,
                routing_id: None,
            },
            joins: joins.clone(),
            live: live.clone(),
        };
        let first = Arc::new(AtomicBool::new(true));
        let seen = names.generation();
        assert!(names.bind("x", binding(&first)));
        assert_ne!(names.generation(), seen);
        let second = Arc::new(AtomicBool::new(true));
        assert!(!names.bind("x", binding(&second)));
        names.unbind("x", &first);
        assert!(names.lookup("x").is_none());
        assert!(names.bind("x", binding(&second)));
        assert!(names.lookup("x").is_some());
    }
}
