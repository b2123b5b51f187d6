//! `inproc://`: sockets of one thread connected without ZMTP.
//!
//! Messages move straight from one socket's per-peer `out` queue to the other's
//! `inbound` queue, so the high-water marks add up exactly as in libzmq: with
//! `sndhwm` 1 and `rcvhwm` 1, two messages are queued before the sender waits.
//! Names live in a per-thread registry: sockets are bound to the thread of their
//! compio runtime, as inproc in libzmq is bound to its context.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use futures::FutureExt;

use crate::engine::Engine;
use crate::engine::notify::{Notify, Stop};
use crate::engine::peers::SubscriptionOp;
use crate::engine::port::{Ending, Port};
use crate::error::Error;
use crate::proto::command::Metadata;
use crate::proto::error::ProtocolError;
use crate::proto::greeting::OUR_VERSION;
use crate::proto::handshake::PeerInfo;
use crate::proto::message::Message;
use crate::proto::pattern::PeerId;

struct Binding {
    engine: Weak<Engine>,
    stop: Weak<Stop>,
}

#[derive(Default)]
struct Registry {
    names: HashMap<String, Binding>,
    /// Notified on every bind, so pending connects can look again.
    bound: Rc<Notify>,
}

thread_local! {
    static REGISTRY: RefCell<Registry> = RefCell::new(Registry::default());
}

/// Registers `name` for `engine`.
pub(crate) fn bind(engine: &Rc<Engine>, name: &str, stop: &Rc<Stop>) -> Result<(), Error> {
    REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        if let Some(existing) = r.names.get(name)
            && existing.stop.upgrade().is_some_and(|s| !s.is_stopped())
            && existing.engine.strong_count() > 0
        {
            return Err(Error::Io(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                format!("inproc://{name} is already bound"),
            )));
        }
        r.names.insert(
            name.to_string(),
            Binding {
                engine: Rc::downgrade(engine),
                stop: Rc::downgrade(stop),
            },
        );
        r.bound.notify();
        Ok(())
    })
}

/// Whether a socket of this thread has `name` bound.
pub(crate) fn is_bound(name: &str) -> bool {
    lookup(name).is_some()
}

fn lookup(name: &str) -> Option<(Rc<Engine>, Rc<Stop>)> {
    REGISTRY.with(|r| {
        let r = r.borrow();
        let b = r.names.get(name)?;
        let stop = b.stop.upgrade().filter(|s| !s.is_stopped())?;
        Some((b.engine.upgrade()?, stop))
    })
}

/// Connects to `name` in the background: waits until it is bound (libzmq allows
/// connecting first), joins the two sockets, and joins again after a rebind.
pub(crate) fn spawn_connecter(
    engine: &Rc<Engine>,
    name: String,
    stop: Rc<Stop>,
    peer: Option<PeerId>,
) {
    compio::runtime::spawn(connect_loop(engine.clone(), name, stop, peer)).detach();
}

async fn connect_loop(engine: Rc<Engine>, name: String, stop: Rc<Stop>, peer: Option<PeerId>) {
    let bound = REGISTRY.with(|r| r.borrow().bound.clone());
    while !stop.is_stopped() {
        let listener = bound.listen();
        let Some((remote, remote_stop)) = lookup(&name) else {
            futures::select_biased! {
                () = stop.wait().fuse() => break,
                () = listener.fuse() => continue,
            }
        };
        let listener = bound.listen();
        if !join(&engine, peer, &stop, &remote, &remote_stop).await {
            // Incompatible: try again only when the name is bound anew.
            futures::select_biased! {
                () = stop.wait().fuse() => break,
                () = listener.fuse() => {}
            }
        }
        // Otherwise the binder went away: look the name up again.
    }
    if let Some(id) = peer {
        engine.remove_connecting_peer(id);
    }
}

/// What an inproc peer learns of the other side, as a handshake would tell it.
fn peer_info(engine: &Engine) -> PeerInfo {
    let mut metadata = Metadata::new();
    let _ = metadata.insert("Socket-Type", engine.socket_type.as_str());
    PeerInfo {
        socket_type: engine.socket_type,
        routing_id: engine.options.routing_id.clone(),
        metadata,
        version: OUR_VERSION,
        user_id: None,
    }
}

/// Completes `port`'s side of the join with a peer of `remote`.
fn attach(port: &Port, remote: &Engine) -> Result<(), ProtocolError> {
    let theirs = remote.socket_type;
    let ours = port.engine().socket_type;
    if !ours.is_compatible(theirs) {
        return Err(ProtocolError::IncompatibleSocketType { ours, theirs });
    }
    port.handshake_complete(peer_info(remote))
}

/// Joins the two sockets until either stops. Returns whether they were compatible.
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
    let joined = attach(&a, remote).is_ok() && attach(&b, local).is_ok();
    if joined {
        pump(&a, &b, local_stop, remote_stop).await;
    }
    a.finish(&Ending::Stopped);
    b.finish(&Ending::Stopped);
    joined
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
        for op in ops.drain(..) {
            match op {
                SubscriptionOp::Subscribe(topic) => to.subscription(&topic, true),
                SubscriptionOp::Cancel(topic) => to.subscription(&topic, false),
            }
        }
        if messages.is_empty() {
            break;
        }
        let mut drained = messages.drain(..);
        to.deliver(|| drained.next());
        moved = true;
    }
    if moved {
        from.notify_sent();
    }
    from.note_idle(true);
}
