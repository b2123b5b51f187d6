//! `inproc://`: sockets of one context connected without ZMTP.
//!
//! Names belong to the sockets' [`Names`]: a context's, shared by all its I/O
//! threads, or the current thread's for sockets made outside a context (libzmq scopes
//! inproc to its context). Two sockets of one thread are joined queue to queue:
//! messages move straight from one socket's per-peer `out` queue to the other's
//! `inbound` queue. Sockets on two threads are joined by a [`Link`], a pump on each
//! side moving batches between its socket and the link. Either way the high-water
//! marks add up as in libzmq: with `sndhwm` 1 and `rcvhwm` 1, two messages are queued
//! before the sender waits.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use futures::{FutureExt, StreamExt};

use crate::engine::Engine;
use crate::engine::link::{Binding, Join, Link, LinkEnd, Names, Party};
use crate::engine::notify::Stop;
use crate::engine::peers::SubscriptionOp;
use crate::engine::port::{Ending, Port};
use crate::error::Error;
use crate::proto::command::Metadata;
use crate::proto::error::ProtocolError;
use crate::proto::greeting::OUR_VERSION;
use crate::proto::handshake::PeerInfo;
use crate::proto::message::Message;
use crate::proto::pattern::PeerId;

/// A name bound by a socket of this thread: what a connecter of this thread joins
/// directly.
struct Local {
    engine: Weak<Engine>,
    stop: Weak<Stop>,
    live: Arc<AtomicBool>,
}

impl Local {
    fn upgrade(&self) -> Option<(Rc<Engine>, Rc<Stop>)> {
        let stop = self.stop.upgrade().filter(|s| !s.is_stopped())?;
        Some((self.engine.upgrade()?, stop))
    }
}

thread_local! {
    /// This thread's bindings, by the key of their names and the name.
    static LOCAL: RefCell<HashMap<(usize, String), Local>> = RefCell::new(HashMap::new());
}

fn party(engine: &Engine) -> Party {
    Party {
        socket_type: engine.socket_type,
        routing_id: engine.options.routing_id.clone(),
    }
}

/// Registers `name` for `engine` among its names.
pub(crate) fn bind(engine: &Rc<Engine>, name: &str, stop: &Rc<Stop>) -> Result<(), Error> {
    let names = engine.names.clone();
    let key = (names.key(), name.to_string());
    // A binding of this thread that stopped frees its name at once, even before its
    // task has run.
    LOCAL.with(|l| {
        if let Some(old) = l.borrow().get(&key).filter(|old| old.upgrade().is_none()) {
            names.unbind(name, &old.live);
        }
    });
    let live = Arc::new(AtomicBool::new(true));
    let (joins, requests) = futures::channel::mpsc::unbounded();
    let binding = Binding {
        thread: std::thread::current().id(),
        binder: party(engine),
        joins,
        live: live.clone(),
    };
    if !names.bind(name, binding) {
        return Err(Error::Io(std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            format!("inproc://{name} is already bound"),
        )));
    }
    let local = Local {
        engine: Rc::downgrade(engine),
        stop: Rc::downgrade(stop),
        live: live.clone(),
    };
    LOCAL.with(|l| l.borrow_mut().insert(key.clone(), local));
    let accept = accept_joins(Rc::downgrade(engine), requests, stop.clone());
    super::spawn(async move {
        accept.await;
        names.unbind(&key.1, &live);
        LOCAL.with(|l| {
            let mut l = l.borrow_mut();
            if l.get(&key).is_some_and(|b| Arc::ptr_eq(&b.live, &live)) {
                l.remove(&key);
            }
        });
    });
    Ok(())
}

/// Whether a socket among `names` has `name` bound.
pub(crate) fn is_bound(names: &Names, name: &str) -> bool {
    names.lookup(name).is_some()
}

fn lookup_local(names: &Arc<Names>, name: &str) -> Option<(Rc<Engine>, Rc<Stop>)> {
    LOCAL.with(|l| l.borrow().get(&(names.key(), name.to_string()))?.upgrade())
}

/// Takes the joins of connecters from other threads until the binding stops.
async fn accept_joins(
    engine: Weak<Engine>,
    mut requests: futures::channel::mpsc::UnboundedReceiver<Join>,
    stop: Rc<Stop>,
) {
    loop {
        let join = futures::select_biased! {
            () = stop.wait().fuse() => return,
            join = requests.next() => join,
        };
        let (Some(join), Some(engine)) = (join, engine.upgrade()) else {
            return;
        };
        super::spawn(serve_join(engine, join, stop.clone()));
    }
}

/// The bound side of a join across threads.
async fn serve_join(engine: Rc<Engine>, join: Join, stop: Rc<Stop>) {
    let end = join.end;
    let Some(port) = engine.port(None) else {
        return end.refuse();
    };
    if attach(&port, &join.connecter).is_err() {
        end.refuse();
        return port.finish(&Ending::Stopped);
    }
    pump_link(&port, &end, &stop).await;
    port.finish(&Ending::Stopped);
}

/// Connects to `name` in the background: waits until it is bound (libzmq allows
/// connecting first), joins the two sockets, and joins again after a rebind.
pub(crate) fn spawn_connecter(
    engine: &Rc<Engine>,
    name: String,
    stop: Rc<Stop>,
    peer: Option<PeerId>,
) {
    super::spawn(connect_loop(engine.clone(), name, stop, peer));
}

async fn connect_loop(engine: Rc<Engine>, name: String, stop: Rc<Stop>, peer: Option<PeerId>) {
    let names = engine.names.clone();
    let here = std::thread::current().id();
    while !stop.is_stopped() {
        let seen = names.generation();
        let joined = match lookup_local(&names, &name) {
            Some((remote, remote_stop)) => join(&engine, peer, &stop, &remote, &remote_stop).await,
            None => match names.lookup(&name) {
                Some(binding) if binding.thread != here => {
                    join_across(&engine, peer, &stop, binding).await
                }
                _ => false,
            },
        };
        // Not bound, or refused: wait for a new binding. Otherwise the binder went
        // away: look the name up again.
        if !joined {
            let bound = std::future::poll_fn(|cx| names.poll_bound(seen, cx));
            futures::select_biased! {
                () = stop.wait().fuse() => break,
                () = bound.fuse() => {}
            }
        }
    }
    if let Some(id) = peer {
        engine.remove_connecting_peer(id);
    }
}

/// What an inproc peer learns of the other side, as a handshake would tell it.
fn peer_info(party: &Party) -> PeerInfo {
    let mut metadata = Metadata::new();
    let _ = metadata.insert("Socket-Type", party.socket_type.as_str());
    PeerInfo {
        socket_type: party.socket_type,
        routing_id: party.routing_id.clone(),
        metadata,
        version: OUR_VERSION,
        user_id: None,
    }
}

/// Completes `port`'s side of the join with `remote`.
fn attach(port: &Port, remote: &Party) -> Result<(), ProtocolError> {
    let theirs = remote.socket_type;
    let ours = port.engine().socket_type;
    if !ours.is_compatible(theirs) {
        return Err(ProtocolError::IncompatibleSocketType { ours, theirs });
    }
    port.handshake_complete(peer_info(remote))
}

/// Joins two sockets of this thread until either stops. Returns whether they were
/// compatible.
async fn join(
    local: &Rc<Engine>,
    peer: Option<PeerId>,
    local_stop: &Rc<Stop>,
    remote: &Rc<Engine>,
    remote_stop: &Rc<Stop>,
) -> bool {
    // The local peer first: a connecting endpoint's peer may be gone already, and
    // then no peer may be left behind in the remote socket.
    let Some(a) = local.port(peer) else {
        return false;
    };
    let Some(b) = remote.port(None) else {
        a.finish(&Ending::Stopped);
        return false;
    };
    let joined = attach(&a, &party(remote)).is_ok() && attach(&b, &party(local)).is_ok();
    if joined {
        pump(&a, &b, local_stop, remote_stop).await;
    }
    a.finish(&Ending::Stopped);
    b.finish(&Ending::Stopped);
    joined
}

/// Joins a socket of this thread to one bound on another thread, through a link,
/// until either stops. Returns false when the join was refused (incompatible types,
/// a routing id in use).
async fn join_across(
    local: &Rc<Engine>,
    peer: Option<PeerId>,
    stop: &Stop,
    binding: Binding,
) -> bool {
    if !local.socket_type.is_compatible(binding.binder.socket_type) {
        return false;
    }
    let Some(port) = local.port(peer) else {
        return false;
    };
    if attach(&port, &binding.binder).is_err() {
        port.finish(&Ending::Stopped);
        return false;
    }
    let link = Link::new();
    let end = link.end(false);
    let join = Join {
        end: link.end(true),
        connecter: party(local),
    };
    if binding.joins.unbounded_send(join).is_ok() {
        pump_link(&port, &end, stop).await;
    }
    port.finish(&Ending::Stopped);
    !end.was_refused()
}

/// Moves messages and subscriptions both ways until either side stops.
async fn pump(a: &Port, b: &Port, a_stop: &Stop, b_stop: &Stop) {
    let mut messages = Vec::new();
    let mut ops = Vec::new();
    let (a_wake, b_wake) = (a.wake(), b.wake());
    loop {
        let woken_a = a_wake.listen();
        let woken_b = b_wake.listen();
        if a_stop.is_stopped() || b_stop.is_stopped() {
            return;
        }
        for (from, to) in [(a, b), (b, a)] {
            move_messages(from, to, &mut messages, &mut ops);
        }
        futures::select_biased! {
            () = a_stop.wait().fuse() => return,
            () = b_stop.wait().fuse() => return,
            () = woken_a.fuse() => {}
            () = woken_b.fuse() => {}
        }
    }
}

/// Moves what `from` queued into `to`'s inbound queue, as far as its room allows.
fn move_messages(
    from: &Port,
    to: &Port,
    messages: &mut Vec<Message>,
    ops: &mut Vec<SubscriptionOp>,
) {
    let mut moved = false;
    loop {
        let room = to.inbound_room();
        if room == 0 {
            break;
        }
        from.take_messages(room, messages, ops);
        apply(to, ops);
        if messages.is_empty() {
            break;
        }
        let mut drained = messages.drain(..);
        to.deliver(|slot| *slot = drained.next());
        moved = true;
    }
    if moved {
        from.notify_sent();
    }
    from.note_idle(true);
}

/// Applies a peer's subscription changes to its socket.
fn apply(to: &Port, ops: &mut Vec<SubscriptionOp>) {
    for op in ops.drain(..) {
        match op {
            SubscriptionOp::Subscribe(topic) => to.subscription(&topic, true),
            SubscriptionOp::Cancel(topic) => to.subscription(&topic, false),
        }
    }
}

/// Moves batches between `port` and its link until `stop` fires or the other side
/// closes; what the other side sent before is delivered as far as there is room.
async fn pump_link(port: &Port, end: &LinkEnd, stop: &Stop) {
    if let Some(runtime) = super::runtime::current_waker() {
        end.set_runtime(runtime);
    }
    let (mut messages, mut ops) = (Vec::new(), Vec::new());
    let wake = port.wake();
    loop {
        let woken = wake.listen();
        if stop.is_stopped() || end.is_closed() {
            break;
        }
        receive_from_link(port, end, &mut messages, &mut ops);
        send_to_link(port, end, &mut messages, &mut ops);
        let other = std::future::poll_fn(|cx| end.poll_woken(cx));
        futures::select_biased! {
            () = stop.wait().fuse() => break,
            () = woken.fuse() => {}
            () = other.fuse() => {}
        }
    }
    receive_from_link(port, end, &mut messages, &mut ops);
    end.close();
}

/// Delivers what the link brought, as far as the inbound queue has room, and tells
/// the other side how much room is left.
fn receive_from_link(
    port: &Port,
    end: &LinkEnd,
    messages: &mut Vec<Message>,
    ops: &mut Vec<SubscriptionOp>,
) {
    end.pull(port.inbound_room(), messages, ops);
    apply(port, ops);
    if !messages.is_empty() {
        let mut drained = messages.drain(..);
        port.deliver(|slot| *slot = drained.next());
    }
    end.grant(port.inbound_room());
}

/// Sends what the socket queued for this peer, as far as the other side has room.
fn send_to_link(
    port: &Port,
    end: &LinkEnd,
    messages: &mut Vec<Message>,
    ops: &mut Vec<SubscriptionOp>,
) {
    port.take_messages(end.room(), messages, ops);
    let sent = !messages.is_empty();
    end.push(messages, ops);
    if sent {
        port.notify_sent();
    }
    port.note_idle(true);
}
