//! ZAP over `inproc://zeromq.zap.01` (RFC 27): a server socket without an
//! authenticator asks the handler bound there, as libzmq does.
//!
//! One client per thread and context (inproc names are a context's): a DEALER
//! connected to the handler's endpoint, on whichever thread the handler is, sending
//! `[empty delimiter, request frames...]` (what libzmq's REQ sends) and matching each
//! reply to its request by the request id. A connection waits for its answer in a
//! [`ZapSlot`], woken through its port; a handler that never answers leaves the
//! handshake to its deadline.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::FutureExt;

use super::inproc;
use crate::config::SocketOptions;
use crate::engine::Engine;
use crate::engine::link::Names;
use crate::engine::notify::{Notify, Stop};
use crate::proto::message::Message;
use crate::proto::socket_type::SocketType;
use crate::proto::zap::{ZAP_ENDPOINT, ZapAnswer, ZapReply, ZapRequest};

/// Where a connection's answer lands.
#[derive(Debug, Default)]
pub(crate) struct ZapSlot {
    answer: RefCell<Option<ZapAnswer>>,
    /// The waiting connection's wake-up.
    wake: RefCell<Weak<Notify>>,
}

impl ZapSlot {
    /// The answer, once it came.
    pub(crate) fn take(&self) -> Option<ZapAnswer> {
        self.answer.borrow_mut().take()
    }

    fn fill(&self, answer: ZapAnswer) {
        *self.answer.borrow_mut() = Some(answer);
        if let Some(wake) = self.wake.borrow().upgrade() {
            wake.notify();
        }
    }
}

struct Client {
    engine: Rc<Engine>,
    next_id: Cell<u64>,
    pending: RefCell<HashMap<Bytes, Weak<ZapSlot>>>,
}

thread_local! {
    /// This thread's clients, by the key of their names.
    static CLIENTS: RefCell<HashMap<usize, Rc<Client>>> = RefCell::new(HashMap::new());
}

fn handler_name() -> &'static str {
    ZAP_ENDPOINT.trim_start_matches("inproc://")
}

/// Sends `request` to the ZAP handler among `names`. `None` when no handler is bound
/// (the caller then answers [`ZapAnswer::NoHandler`] at once).
pub(crate) fn ask(
    names: &Arc<Names>,
    mut request: ZapRequest,
    wake: &Rc<Notify>,
) -> Option<Rc<ZapSlot>> {
    if !inproc::is_bound(names, handler_name()) {
        return None;
    }
    let client = client(names);
    let id = client.next_id.get();
    client.next_id.set(id + 1);
    request.request_id = Bytes::from(id.to_string());
    let slot = Rc::new(ZapSlot::default());
    *slot.wake.borrow_mut() = Rc::downgrade(wake);
    let mut pending = client.pending.borrow_mut();
    pending.retain(|_, slot| slot.strong_count() > 0);
    pending.insert(request.request_id.clone(), Rc::downgrade(&slot));
    drop(pending);
    let mut frames = vec![Bytes::new()];
    frames.extend(request.to_frames());
    // A full queue drops the request: its connection then meets its deadline.
    let _ = client.engine.offer(&mut Some(Message::from(frames)));
    Some(slot)
}

/// This thread's client for `names`, made on first use.
fn client(names: &Arc<Names>) -> Rc<Client> {
    CLIENTS.with(|c| {
        c.borrow_mut()
            .entry(names.key())
            .or_insert_with(|| {
                let options = SocketOptions::default().linger(Some(Duration::ZERO));
                let engine = Engine::with_names(SocketType::Dealer, options, names.clone());
                // A DEALER's peer takes no name, so this cannot fail.
                let peer = engine.add_connecting_peer(None).ok();
                let stop = Rc::new(Stop::default());
                inproc::spawn_connecter(&engine, handler_name().to_string(), stop, peer);
                let client = Rc::new(Client {
                    engine,
                    next_id: Cell::new(1),
                    pending: RefCell::new(HashMap::new()),
                });
                super::spawn(receive_replies(client.clone()));
                client
            })
            .clone()
    })
}

/// Hands each reply to the connection that asked.
async fn receive_replies(client: Rc<Client>) {
    let engine = client.engine.clone();
    loop {
        let ready = engine.recv_ready.listen();
        while let Ok(Some(reply)) = engine.try_recv() {
            dispatch(&client, &reply);
        }
        futures::select_biased! {
            () = ready.fuse() => {}
            () = engine.shutdown.wait().fuse() => return,
        }
    }
}

fn dispatch(client: &Client, reply: &Message) {
    let frames: Vec<Bytes> = reply.iter().cloned().collect();
    // A REP handler's reply comes back after the empty delimiter.
    let frames = match frames.split_first() {
        Some((first, rest)) if first.is_empty() => rest,
        _ => &frames[..],
    };
    let Some(id) = frames.get(1) else {
        return;
    };
    let Some(slot) = client.pending.borrow_mut().remove(id) else {
        return;
    };
    if let Some(slot) = slot.upgrade() {
        slot.fill(match ZapReply::from_frames(frames, id) {
            Ok(reply) => ZapAnswer::Reply(reply),
            Err(err) => ZapAnswer::Malformed(err),
        });
    }
}
