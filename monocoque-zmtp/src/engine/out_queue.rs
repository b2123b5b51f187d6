//! A peer's outgoing queue: what waits to be written to one connection.
//!
//! A publisher queues each message once per subscriber it matches, so one send to
//! 256 subscribers adds 256 entries. As a `VecDeque` of [`Outgoing`], every entry
//! took 88 bytes (a whole 80-byte [`Message`] and the enum's tag) even when it only
//! pointed at a shared one, and the 32,768 entries a publisher queues between two
//! yields (about 2.9 MiB) did not fit in a core's cache: writing them was 42% of the
//! publisher's time with 256 subscribers at 64 B (docs/performance.md, "Fan-out
//! queue entries of one pointer").
//!
//! Here a fanned-out message takes one pointer in a queue of its own, and messages
//! for this peer alone wait in another. A short list of runs (how many of each kind
//! follow each other) keeps the two in the order they were queued; a socket that
//! queues only one kind has one run, whose count is all it updates per message.

use std::cell::OnceCell;
use std::collections::VecDeque;
use std::rc::Rc;

use bytes::Bytes;

use crate::proto::message::Message;
use crate::proto::session::ZERO_COPY_MIN;

/// A message to queue for a peer.
#[derive(Debug)]
pub(crate) enum Outgoing {
    /// A message for this peer alone.
    Single(Message),
    /// A message fanned out to several peers (PUB, XPUB): it is encoded at most once,
    /// by the first connection that writes it, and the others reuse those bytes.
    Fanout(Rc<Fanout>),
}

/// One message shared by every peer it was fanned out to.
#[derive(Debug)]
pub(crate) struct Fanout {
    message: Message,
    wire: OnceCell<Bytes>,
}

impl Fanout {
    pub(crate) fn new(message: Message) -> Rc<Fanout> {
        Rc::new(Fanout {
            message,
            wire: OnceCell::new(),
        })
    }

    /// The message, cloned only if other peers still share it.
    fn into_message(fanout: Rc<Fanout>) -> Message {
        Rc::try_unwrap(fanout).map_or_else(|shared| shared.message.clone(), |f| f.message)
    }
}

/// A queued message, where it lies in the queue.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Queued<'a> {
    Single(&'a Message),
    Fanout(&'a Fanout),
}

impl<'a> Queued<'a> {
    /// The message itself (an in-process peer takes messages, not bytes).
    #[inline]
    pub(crate) fn message(self) -> &'a Message {
        match self {
            Queued::Single(message) => message,
            Queued::Fanout(fanout) => &fanout.message,
        }
    }

    /// The ZMTP encoding of a fanned-out message, made on first use and shared;
    /// `None` for a message that is encoded where it is written: one for a single
    /// peer, or one with a frame of `ZERO_COPY_MIN` bytes or more, which the session
    /// sends by reference (a shared encoding would copy it).
    #[inline]
    pub(crate) fn shared_wire(self) -> Option<&'a Bytes> {
        match self {
            Queued::Single(_) => None,
            Queued::Fanout(fanout) => {
                let large = fanout.message.iter().any(|f| f.len() >= ZERO_COPY_MIN);
                (!large).then(|| fanout.wire.get_or_init(|| fanout.message.to_wire()))
            }
        }
    }
}

/// Consecutive messages of one kind.
#[derive(Debug, Clone, Copy)]
struct Run {
    fanout: bool,
    len: usize,
}

/// A peer's outgoing messages, in the order they were queued.
#[derive(Debug, Default)]
pub(crate) struct OutQueue {
    singles: VecDeque<Message>,
    fanouts: VecDeque<Rc<Fanout>>,
    /// The order of the two queues' messages, oldest first.
    runs: VecDeque<Run>,
}

impl OutQueue {
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.singles.len() + self.fanouts.len()
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    pub(crate) fn clear(&mut self) {
        self.singles.clear();
        self.fanouts.clear();
        self.runs.clear();
    }

    /// Queues `message` after every other.
    #[inline]
    pub(crate) fn push_back(&mut self, message: Outgoing) {
        let fanout = self.store(message, VecDeque::push_back, VecDeque::push_back);
        match self.runs.back_mut() {
            Some(run) if run.fanout == fanout => run.len += 1,
            _ => self.runs.push_back(Run { fanout, len: 1 }),
        }
    }

    /// Queues `message` before every other (a greeting written ahead of the rest).
    pub(crate) fn push_front(&mut self, message: Outgoing) {
        let fanout = self.store(message, VecDeque::push_front, VecDeque::push_front);
        match self.runs.front_mut() {
            Some(run) if run.fanout == fanout => run.len += 1,
            _ => self.runs.push_front(Run { fanout, len: 1 }),
        }
    }

    /// Puts `message` in the queue of its kind with `single` or `fanout`; returns
    /// whether it was fanned out.
    #[inline]
    fn store(
        &mut self,
        message: Outgoing,
        single: fn(&mut VecDeque<Message>, Message),
        fanout: fn(&mut VecDeque<Rc<Fanout>>, Rc<Fanout>),
    ) -> bool {
        match message {
            Outgoing::Single(message) => {
                single(&mut self.singles, message);
                false
            }
            Outgoing::Fanout(shared) => {
                fanout(&mut self.fanouts, shared);
                true
            }
        }
    }

    /// Hands messages to `write`, in order and where they lie, for as long as it
    /// answers that there is room for another, then removes those it was handed.
    /// Returns how many.
    #[inline]
    pub(crate) fn take(&mut self, mut write: impl FnMut(Queued<'_>) -> bool) -> usize {
        let mut singles = self.singles.iter();
        let mut fanouts = self.fanouts.iter();
        let (mut single_count, mut fanout_count) = (0, 0);
        'runs: for run in &self.runs {
            if run.fanout {
                for shared in fanouts.by_ref().take(run.len) {
                    fanout_count += 1;
                    if !write(Queued::Fanout(shared)) {
                        break 'runs;
                    }
                }
            } else {
                for message in singles.by_ref().take(run.len) {
                    single_count += 1;
                    if !write(Queued::Single(message)) {
                        break 'runs;
                    }
                }
            }
        }
        self.singles.drain(..single_count);
        self.fanouts.drain(..fanout_count);
        self.remove_runs(single_count + fanout_count);
        single_count + fanout_count
    }

    /// Moves up to `count` messages, in order, into `messages` (for an in-process
    /// peer, which takes messages rather than bytes).
    pub(crate) fn take_messages(&mut self, count: usize, messages: &mut Vec<Message>) {
        let mut left = count.min(self.len());
        while left > 0 {
            let Some(run) = self.runs.front().copied() else {
                break;
            };
            let n = run.len.min(left);
            if run.fanout {
                let shared = self.fanouts.drain(..n.min(self.fanouts.len()));
                messages.extend(shared.map(Fanout::into_message));
            } else {
                messages.extend(self.singles.drain(..n.min(self.singles.len())));
            }
            self.remove_runs(n);
            left -= n;
        }
    }

    /// Removes the first `count` messages' places from the runs.
    fn remove_runs(&mut self, mut count: usize) {
        while count > 0 {
            let Some(run) = self.runs.front_mut() else {
                break;
            };
            if run.len > count {
                run.len -= count;
                break;
            }
            count -= run.len;
            self.runs.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn single(text: &'static str) -> Outgoing {
        Outgoing::Single(Message::from(text))
    }

    fn shared(text: &'static str) -> Outgoing {
        Outgoing::Fanout(Fanout::new(Message::from(text)))
    }

    fn text(message: &Message) -> String {
        String::from_utf8_lossy(&message[0]).into_owned()
    }

    /// Takes up to `count` messages through `take`, as a connection writes them.
    fn written(queue: &mut OutQueue, count: usize) -> Vec<String> {
        let mut out = Vec::new();
        let taken = queue.take(|queued| {
            out.push(text(queued.message()));
            out.len() < count
        });
        assert_eq!(taken, out.len());
        out
    }

    #[test]
    fn mixed_messages_come_out_in_the_order_queued() {
        let mut queue = OutQueue::default();
        for (i, fanned) in [false, true, true, false, true, false, false]
            .iter()
            .enumerate()
        {
            let name: &'static str = ["a", "b", "c", "d", "e", "f", "g"][i];
            queue.push_back(if *fanned { shared(name) } else { single(name) });
        }
        queue.push_front(shared("first"));
        assert_eq!(queue.len(), 8);
        assert_eq!(written(&mut queue, 3), ["first", "a", "b"]);
        assert_eq!(queue.len(), 5);
        let mut rest = Vec::new();
        queue.take_messages(2, &mut rest);
        assert_eq!(rest.iter().map(text).collect::<Vec<_>>(), ["c", "d"]);
        queue.push_back(shared("h"));
        assert_eq!(written(&mut queue, 100), ["e", "f", "g", "h"]);
        assert!(queue.is_empty());
        assert_eq!(queue.len(), 0);
    }

    #[test]
    fn fanned_out_messages_take_no_room_for_a_whole_message() {
        let mut queue = OutQueue::default();
        for _ in 0..1000 {
            queue.push_back(shared("x"));
        }
        assert_eq!(queue.runs.len(), 1, "one run for one kind");
        assert_eq!(queue.singles.capacity(), 0, "no Message-sized slot taken");
        assert!(queue.fanouts.capacity() * std::mem::size_of::<Rc<Fanout>>() <= 2048 * 8);
    }

    #[test]
    fn a_taken_shared_message_is_moved_when_no_other_peer_holds_it() {
        let message = Message::from(vec![7u8; 100]);
        let pointer = message[0].as_ptr();
        let mut queue = OutQueue::default();
        queue.push_back(Outgoing::Fanout(Fanout::new(message)));
        let mut taken = Vec::new();
        queue.take_messages(1, &mut taken);
        assert_eq!(taken[0][0].as_ptr(), pointer);
    }

    #[test]
    fn shared_wire_is_made_once_for_small_frames_only() {
        let small = Fanout::new(Message::from("news"));
        let first = Queued::Fanout(&small)
            .shared_wire()
            .map(|wire| wire.as_ptr());
        let again = Queued::Fanout(&small)
            .shared_wire()
            .map(|wire| wire.as_ptr());
        assert!(first.is_some());
        assert_eq!(first, again);
        let large = Fanout::new(Message::from(vec![0u8; ZERO_COPY_MIN]));
        assert!(Queued::Fanout(&large).shared_wire().is_none());
        let alone = Message::from("mine");
        assert!(Queued::Single(&alone).shared_wire().is_none());
    }
}
