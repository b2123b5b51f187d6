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

use crate::driver::notify::{Notify, Stop};
use crate::error::Error;
use crate::proto::command::Metadata;
use crate::proto::error::ProtocolError;
use crate::proto::greeting::OUR_VERSION;
use crate::proto::handshake::PeerInfo;
use crate::proto::message::Message;
use crate::proto::pattern::PeerId;
use crate::proto::socket_type::SocketType;
use crate::socket::core::{Shared, SubscriptionOp};

struct Binding {
    shared: Weak<Shared>,
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

/// Registers `name` for `shared`.
pub(crate) fn bind(shared: &Rc<Shared>, name: &str, stop: &Rc<Stop>) -> Result<(), Error> {
    REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        if let Some(existing) = r.names.get(name)
            && existing.stop.upgrade().is_some_and(|s| !s.is_stopped())
            && existing.shared.strong_count() > 0
        {
            return Err(Error::Io(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                format!("inproc://{name} is already bound"),
            )));
        }
        r.names.insert(
            name.to_string(),
            Binding {
                shared: Rc::downgrade(shared),
                stop: Rc::downgrade(stop),
            },
        );
        r.bound.notify();
        Ok(())
    })
}

fn lookup(name: &str) -> Option<(Rc<Shared>, Rc<Stop>)> {
    REGISTRY.with(|r| {
        let r = r.borrow();
        let b = r.names.get(name)?;
        let stop = b.stop.upgrade().filter(|s| !s.is_stopped())?;
        Some((b.shared.upgrade()?, stop))
    })
}

/// Connects to `name` in the background: waits until it is bound (libzmq allows
/// connecting first), links the two sockets, and relinks after a rebind.
pub(crate) fn spawn_connecter(
    shared: &Rc<Shared>,
    name: String,
    stop: Rc<Stop>,
    pipe: Option<PeerId>,
) {
    compio::runtime::spawn(connect_loop(shared.clone(), name, stop, pipe)).detach();
}

async fn connect_loop(shared: Rc<Shared>, name: String, stop: Rc<Stop>, pipe: Option<PeerId>) {
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
        if !link(&shared, pipe, &stop, &remote, &remote_stop).await {
            // Incompatible: try again only when the name is bound anew.
            futures::select_biased! {
                () = stop.wait().fuse() => break,
                () = listener.fuse() => {}
            }
        }
        // Otherwise the binder went away: look the name up again.
    }
    if let Some(id) = pipe {
        shared.remove_pipe(id);
    }
}

fn peer_info(shared: &Shared) -> PeerInfo {
    let mut metadata = Metadata::new();
    let _ = metadata.insert("Socket-Type", shared.socket_type.as_str());
    PeerInfo {
        socket_type: shared.socket_type,
        routing_id: shared.options.routing_id.clone(),
        metadata,
        version: OUR_VERSION,
    }
}

/// One end of an inproc link.
struct End<'a> {
    shared: &'a Rc<Shared>,
    id: PeerId,
    link: Rc<Notify>,
}

fn attach(end: &End<'_>, remote: &Shared) -> Result<(), ProtocolError> {
    let theirs = remote.socket_type;
    let ours = end.shared.socket_type;
    if !ours.is_compatible(theirs) {
        return Err(ProtocolError::IncompatibleSocketType { ours, theirs });
    }
    end.shared
        .core
        .borrow_mut()
        .peer_ready(end.id, peer_info(remote))?;
    if matches!(ours, SocketType::Sub | SocketType::Xsub) {
        let topics = end.shared.core.borrow().subscription_topics();
        let mut core = end.shared.core.borrow_mut();
        for topic in topics {
            core.queue_subscription(end.id, SubscriptionOp::Subscribe(topic.into()));
        }
    }
    end.shared.send_ready.notify();
    end.shared.peers_changed.notify();
    Ok(())
}

async fn link(
    local: &Rc<Shared>,
    pipe: Option<PeerId>,
    local_stop: &Rc<Stop>,
    remote: &Rc<Shared>,
    remote_stop: &Rc<Stop>,
) -> bool {
    let Some((local_id, local_link)) = local.pipe_for(pipe) else {
        return false;
    };
    let (remote_id, remote_link) = remote.core.borrow_mut().add_peer(false);
    let a = End {
        shared: local,
        id: local_id,
        link: local_link,
    };
    let b = End {
        shared: remote,
        id: remote_id,
        link: remote_link,
    };
    let linked = attach(&a, remote).is_ok() && attach(&b, local).is_ok();
    if linked {
        pump(&a, &b, local_stop, remote_stop).await;
    }
    for end in [&a, &b] {
        end.shared.peer_disconnected(end.id);
    }
    linked
}

/// Moves messages and subscriptions both ways until either side stops.
async fn pump(a: &End<'_>, b: &End<'_>, a_stop: &Stop, b_stop: &Stop) {
    let mut messages = Vec::new();
    let mut ops = Vec::new();
    loop {
        let woken_a = a.link.listen();
        let woken_b = b.link.listen();
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

fn move_messages(
    from: &End<'_>,
    to: &End<'_>,
    messages: &mut Vec<Message>,
    ops: &mut Vec<SubscriptionOp>,
) {
    let mut moved = false;
    loop {
        let room = to.shared.core.borrow().inbound_room(to.id);
        if room == 0 {
            break;
        }
        from.shared
            .core
            .borrow_mut()
            .take_messages(from.id, room, messages, ops);
        for op in ops.drain(..) {
            let (topic, on) = match op {
                SubscriptionOp::Subscribe(t) => (t, true),
                SubscriptionOp::Cancel(t) => (t, false),
            };
            let mut core = to.shared.core.borrow_mut();
            if let Some(report) = core.peer_subscribed(to.id, &topic, on) {
                core.deliver_subscription(report);
                moved = true;
            }
        }
        if messages.is_empty() {
            break;
        }
        let mut drained = messages.drain(..);
        to.shared
            .core
            .borrow_mut()
            .deliver_all(to.id, || drained.next());
        moved = true;
    }
    if moved {
        from.shared.send_ready.notify();
        to.shared.recv_ready.notify();
    }
    let flushed = !from.shared.core.borrow().has_outgoing(from.id);
    from.shared.core.borrow_mut().set_flushed(from.id, flushed);
    if flushed {
        from.shared.flushed.notify();
    }
}
