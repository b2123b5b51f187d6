//! SUB and XSUB (RFC 29): subscriptions are counted and sent to every publisher
//! (every subscribe, and the cancel that ends a topic);
//! SUB also filters what arrives; XSUB sends subscriptions as messages, and any
//! other message to every publisher.

use bytes::Bytes;

use super::Routed;
use crate::engine::out_queue::Outgoing;
use crate::engine::peers::{Peers, SubscriptionOp};
use crate::error::Error;
use crate::proto::message::Message;
use crate::proto::pattern::{PeerId, Subscriptions};
use crate::proto::socket_type::SocketType;

#[derive(Debug)]
pub(crate) struct Subscribe {
    /// Our own subscriptions, sent again to every new connection.
    subscriptions: Subscriptions,
    xsub: bool,
    /// `INVERT_MATCHING`: a SUB takes what matches none of its subscriptions.
    invert: bool,
}

impl Subscribe {
    pub(crate) fn new(xsub: bool, invert: bool) -> Subscribe {
        Subscribe {
            subscriptions: Subscriptions::new(),
            xsub,
            invert,
        }
    }

    /// SUB drops what matches none of its subscriptions; XSUB passes everything up.
    #[inline]
    pub(crate) fn filters(&self) -> bool {
        !self.xsub
    }

    #[inline]
    pub(crate) fn matches(&self, message: &Message) -> bool {
        let topic = message.first().map_or(&[][..], |f| &f[..]);
        self.subscriptions.matches(topic) != self.invert
    }

    /// The topics to send to a new connection.
    pub(crate) fn topics(&self) -> Vec<Vec<u8>> {
        self.subscriptions.topics().collect()
    }

    /// Subscribes or cancels locally and tells every connected publisher, as libzmq
    /// does: every subscribe (duplicates too: an XPUB_VERBOSE publisher behind a proxy
    /// depends on seeing them), but a cancel only when the topic's count reached zero.
    pub(crate) fn change(&mut self, peers: &mut Peers, topic: &[u8], on: bool) {
        let forward = if on {
            self.subscriptions.subscribe(topic);
            true
        } else {
            self.subscriptions.cancel(topic)
        };
        if !forward {
            return;
        }
        let topic = Bytes::copy_from_slice(topic);
        for peer in peers.iter_mut().filter(|p| p.is_connected()) {
            peer.queue_subscription(if on {
                SubscriptionOp::Subscribe(topic.clone())
            } else {
                SubscriptionOp::Cancel(topic.clone())
            });
        }
    }

    /// XSUB: a one-frame message starting with 1 or 0 is a subscription change;
    /// anything else goes to every publisher with room.
    pub(crate) fn send(
        &mut self,
        peers: &mut Peers,
        slot: &mut Option<Message>,
    ) -> Result<Routed, Error> {
        if !self.xsub {
            return Err(Error::NotSupported {
                socket_type: SocketType::Sub,
                operation: "send",
            });
        }
        let Some(message) = slot.take() else {
            return Ok(Routed::Queued);
        };
        if message.len() == 1
            && let Some(&flag) = message[0].first()
            && flag <= 1
        {
            let topic = message[0].slice(1..);
            self.change(peers, &topic, flag == 1);
            return Ok(Routed::Queued);
        }
        let ids: Vec<PeerId> = peers.connected().collect();
        for id in ids {
            if let Some(peer) = peers.with_room(id) {
                peer.enqueue(Outgoing::Single(message.clone()));
            }
        }
        Ok(Routed::Queued)
    }
}
