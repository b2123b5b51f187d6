//! `engine_ops`: a socket's engine state (peers, queues, high-water marks, routing)
//! driven by a sequence of peer arrivals, departures, deliveries, sends, receives
//! and writes decoded from the input, each answer compared with a small reference
//! model: per-peer FIFO queues and the rules of PUSH, PULL, DEALER and PAIR.
//!
//! What the model checks, for any input: a send waits exactly when no eligible peer
//! has room, and lands on one eligible peer with room; a peer's queue never passes
//! its high-water mark; messages come out of each peer in the order they went in;
//! a receive finds nothing exactly when nothing is queued; a departed peer's
//! outgoing queue is dropped, but what it delivered is still received (nothing
//! accepted is lost), and nothing is received twice.

use std::collections::VecDeque;

use bytes::Bytes;

use super::Rng;
use crate::config::SocketOptions;
use crate::engine::state::{SendOutcome, State};
use crate::error::Error;
use crate::proto::command::Metadata;
use crate::proto::greeting::OUR_VERSION;
use crate::proto::handshake::PeerInfo;
use crate::proto::message::Message;
use crate::proto::pattern::PeerId;
use crate::proto::socket_type::SocketType;

/// One peer as the model sees it.
#[derive(Debug)]
struct ModelPeer {
    id: PeerId,
    /// A connecting endpoint's peer: it queues before its handshake and keeps its
    /// queue across lost connections.
    persistent: bool,
    connected: bool,
    /// The connection ended (non-persistent): only its inbound queue remains.
    departed: bool,
    /// A PAIR's second peer: connected but never read from.
    parked: bool,
    out: VecDeque<u64>,
    inbound: VecDeque<u64>,
}

/// The reference model and the real state side by side.
struct Check {
    real: State,
    socket_type: SocketType,
    sndhwm: usize,
    rcvhwm: usize,
    peers: Vec<ModelPeer>,
    next_message: u64,
}

fn below(len: usize, hwm: usize) -> bool {
    hwm == 0 || len < hwm
}

fn message(n: u64) -> Message {
    Message::from(Bytes::copy_from_slice(&n.to_le_bytes()))
}

fn number(message: &Message) -> u64 {
    let mut bytes = [0u8; 8];
    let frame = message.first().map_or(&[][..], |f| &f[..]);
    bytes[..frame.len().min(8)].copy_from_slice(&frame[..frame.len().min(8)]);
    u64::from_le_bytes(bytes)
}

fn peer_type(ours: SocketType) -> SocketType {
    match ours {
        SocketType::Push => SocketType::Pull,
        SocketType::Pull => SocketType::Push,
        other => other,
    }
}

impl Check {
    fn new(control: u8) -> Check {
        let socket_type = [
            SocketType::Push,
            SocketType::Pull,
            SocketType::Dealer,
            SocketType::Pair,
        ][usize::from(control & 3)];
        let sndhwm = usize::from((control >> 2) & 3);
        let rcvhwm = usize::from((control >> 4) & 3);
        let options = SocketOptions::default().sndhwm(sndhwm).rcvhwm(rcvhwm);
        Check {
            real: State::new(socket_type, &options),
            socket_type,
            sndhwm,
            rcvhwm,
            peers: Vec::new(),
            next_message: 1,
        }
    }

    fn sends(&self) -> bool {
        self.socket_type != SocketType::Pull
    }

    fn receives(&self) -> bool {
        self.socket_type != SocketType::Push
    }

    fn add(&mut self, persistent: bool) {
        let (id, _) = self.real.add_peer(persistent);
        self.peers.push(ModelPeer {
            id,
            persistent,
            connected: false,
            departed: false,
            parked: false,
            out: VecDeque::new(),
            inbound: VecDeque::new(),
        });
        if !persistent {
            self.handshake(self.peers.len() - 1);
        }
    }

    /// The handshake of peer `i` completes; a PAIR parks a second peer.
    fn handshake(&mut self, i: usize) {
        let peer = &self.peers[i];
        if peer.connected || peer.departed || peer.parked {
            return;
        }
        let info = PeerInfo {
            socket_type: peer_type(self.socket_type),
            routing_id: None,
            metadata: Metadata::new(),
            version: OUR_VERSION,
            user_id: None,
        };
        let taken = self.peers.iter().any(|p| p.connected);
        let got = self.real.peer_ready(peer.id, info);
        assert_eq!(got, Ok(()));
        if self.socket_type == SocketType::Pair && taken {
            self.peers[i].parked = true;
            return;
        }
        self.peers[i].connected = true;
    }

    /// Peer `i`'s connection ends.
    fn depart(&mut self, i: usize) {
        let peer = &mut self.peers[i];
        if peer.departed {
            return;
        }
        self.real.peer_disconnected(peer.id);
        peer.connected = false;
        peer.parked = false;
        if !peer.persistent {
            peer.out.clear();
            peer.departed = true;
        }
        self.forget_drained();
    }

    /// The model forgets departed peers with nothing left to read.
    fn forget_drained(&mut self) {
        self.peers.retain(|p| !(p.departed && p.inbound.is_empty()));
    }

    /// The connection of peer `i` reads a message, if the high-water mark allows.
    fn deliver(&mut self, i: usize) {
        let (id, connected, room) = {
            let p = &self.peers[i];
            (
                p.id,
                p.connected,
                !p.parked && below(p.inbound.len(), self.rcvhwm),
            )
        };
        assert_eq!(self.real.can_read(id), room, "can_read of {id}");
        if !connected || !self.real.can_read(id) {
            return;
        }
        let n = self.next_message;
        self.next_message += 1;
        assert!(self.real.deliver(id, message(n)));
        self.peers[i].inbound.push_back(n);
    }

    fn eligible_with_room(&self) -> bool {
        self.peers
            .iter()
            .any(|p| (p.connected || p.persistent) && below(p.out.len(), self.sndhwm))
    }

    fn send(&mut self) {
        let n = self.next_message;
        self.next_message += 1;
        let before: Vec<usize> = self.peers.iter().map(|p| self.out_len(p.id)).collect();
        let got = self.real.try_send(message(n));
        if !self.sends() {
            assert!(matches!(got, Err(Error::NotSupported { .. })), "{got:?}");
            return;
        }
        match got {
            Ok(SendOutcome::WouldBlock(back)) => {
                assert_eq!(number(&back), n);
                assert!(!self.eligible_with_room(), "waited with room available");
            }
            Ok(SendOutcome::Done) => self.landed(n, &before),
            Err(err) => panic!("send failed: {err}"),
        }
    }

    /// A sent message landed on exactly one eligible peer that had room.
    fn landed(&mut self, n: u64, before: &[usize]) {
        let grew: Vec<usize> = (0..self.peers.len())
            .filter(|&i| self.out_len(self.peers[i].id) > before[i])
            .collect();
        assert_eq!(grew.len(), 1, "one peer takes a message");
        let peer = &mut self.peers[grew[0]];
        assert!(
            peer.connected || peer.persistent,
            "sent to a peer not eligible"
        );
        assert!(below(peer.out.len(), self.sndhwm), "sent past the mark");
        peer.out.push_back(n);
    }

    fn out_len(&self, id: PeerId) -> usize {
        self.real.out_len(id).unwrap_or(0)
    }

    fn recv(&mut self) {
        let got = self.real.try_recv();
        if !self.receives() {
            assert!(matches!(got, Err(Error::NotSupported { .. })), "{got:?}");
            return;
        }
        let queued = self.peers.iter().any(|p| !p.inbound.is_empty());
        match got {
            Ok(None) => assert!(!queued, "nothing received while messages wait"),
            Ok(Some(message)) => {
                let n = number(&message);
                let Some(peer) = self
                    .peers
                    .iter_mut()
                    .find(|p| p.inbound.front() == Some(&n))
                else {
                    panic!("message {n} is not the oldest of any peer");
                };
                peer.inbound.pop_front();
                self.forget_drained();
            }
            Err(err) => panic!("recv failed: {err}"),
        }
    }

    /// Peer `i`'s connection writes up to `count` messages (budget in bytes).
    fn write(&mut self, i: usize, count: usize) {
        let peer = &mut self.peers[i];
        let mut written = Vec::new();
        if count > 0 {
            self.real.take_outgoing(peer.id, |m| {
                written.push(number(m.message()));
                written.len() < count
            });
        }
        let expected: Vec<u64> = peer
            .out
            .drain(..written.len().min(peer.out.len()))
            .collect();
        assert_eq!(written, expected, "written in the order sent");
    }

    fn check_bounds(&self) {
        for p in &self.peers {
            assert_eq!(
                self.out_len(p.id),
                p.out.len(),
                "outgoing queue of {}",
                p.id
            );
            if self.sndhwm > 0 {
                assert!(p.out.len() <= self.sndhwm);
            }
            if self.rcvhwm > 0 {
                assert!(p.inbound.len() <= self.rcvhwm);
            }
        }
        let connected = self.peers.iter().filter(|p| p.connected).count();
        assert_eq!(self.real.peer_count(), connected);
    }
}

/// Drives the engine state with operations decoded from `data` (see the module
/// docs). Never panics unless the engine and the model disagree.
pub fn engine_ops(data: &[u8]) {
    let Some((&control, ops)) = data.split_first() else {
        return;
    };
    let mut check = Check::new(control);
    let mut rng = Rng::new(u64::from(control));
    for &op in ops.iter().take(4096) {
        let pick = |check: &Check, rng: &mut Rng| {
            (!check.peers.is_empty()).then(|| rng.below(check.peers.len() as u64) as usize)
        };
        match op % 8 {
            0 if check.peers.len() < 16 => check.add(false),
            1 if check.peers.len() < 16 => check.add(true),
            2 => pick(&check, &mut rng)
                .into_iter()
                .for_each(|i| check.handshake(i)),
            3 => pick(&check, &mut rng)
                .into_iter()
                .for_each(|i| check.depart(i)),
            4 => pick(&check, &mut rng)
                .into_iter()
                .for_each(|i| check.deliver(i)),
            5 => check.send(),
            6 => check.recv(),
            7 => {
                let count = usize::from((op >> 3) & 3);
                pick(&check, &mut rng)
                    .into_iter()
                    .for_each(|i| check.write(i, count));
            }
            _ => {}
        }
        check.check_bounds();
    }
    // Drain: everything delivered is received, exactly once.
    if check.receives() {
        while check.peers.iter().any(|p| !p.inbound.is_empty()) {
            check.recv();
        }
        check.recv();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random operation sequences for every socket type and mark: the model and the
    /// engine agree on each (a cheap stand-in for a fuzzing run under `cargo test`).
    #[test]
    fn random_sequences_agree_with_the_model() {
        let mut rng = Rng::new(42);
        for _ in 0..2000 {
            let len = rng.below(300) as usize;
            let input: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            engine_ops(&input);
        }
    }
}
