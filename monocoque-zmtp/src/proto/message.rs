//! Multipart messages.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use smallvec::SmallVec;

use crate::proto::command::Metadata;
use crate::proto::frame::{header_len, put_header};

/// Frames a [`Message`] holds inline before it spills to the heap.
pub const INLINE_FRAMES: usize = 2;

/// A multipart message: one or more frames, each a [`Bytes`].
///
/// Messages of up to two frames keep their frames inline (no allocation for the frame
/// list); frame payloads are `Bytes`, so cloning a message or fanning it out to many
/// peers never copies the payload.
///
/// ```
/// use monocoque_zmtp::proto::message::Message;
///
/// let single: Message = "Hello".into();
/// assert_eq!(single.len(), 1);
///
/// let mut envelope = Message::new();
/// envelope.push("routing-id");
/// envelope.push("");
/// envelope.push("payload");
/// assert_eq!(envelope.len(), 3);
/// assert_eq!(&envelope[2][..], b"payload");
/// ```
///
/// A message received over PLAIN or CURVE carries its connection's properties
/// ([`property`](Self::property), libzmq's `zmq_msg_gets`): `User-Id` from the ZAP
/// handler, and the peer's handshake properties (`Socket-Type`, `Identity`, ...).
/// Equality and hashing look at the frames only.
#[derive(Debug, Clone, Default)]
pub struct Message {
    frames: SmallVec<[Bytes; INLINE_FRAMES]>,
    /// The connection's properties, shared by its messages (none under NULL).
    properties: Option<Arc<Metadata>>,
}

impl PartialEq for Message {
    fn eq(&self, other: &Self) -> bool {
        self.frames == other.frames
    }
}

impl Eq for Message {}

impl Hash for Message {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.frames.hash(state);
    }
}

impl Message {
    /// A message with no frames yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a frame.
    pub fn push(&mut self, frame: impl Into<Bytes>) {
        self.frames.push(frame.into());
    }

    /// Inserts a frame at the front (as ROUTER does with the routing id).
    pub fn push_front(&mut self, frame: impl Into<Bytes>) {
        // The common case (a ROUTER prefixing a one-frame body) without the general
        // shift, which is a `memmove` call.
        if self.frames.len() == 1
            && let Some(body) = self.frames.pop()
        {
            self.frames.push(frame.into());
            self.frames.push(body);
            return;
        }
        self.frames.insert(0, frame.into());
    }

    /// Removes and returns the first frame.
    pub fn pop_front(&mut self) -> Option<Bytes> {
        if self.frames.is_empty() {
            None
        } else {
            Some(self.frames.remove(0))
        }
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether the message has no frames.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// The frames in order.
    pub fn frames(&self) -> &[Bytes] {
        &self.frames
    }

    /// Iterates over the frames.
    pub fn iter(&self) -> std::slice::Iter<'_, Bytes> {
        self.frames.iter()
    }

    /// The first frame.
    pub fn first(&self) -> Option<&Bytes> {
        self.frames.first()
    }

    /// The last frame.
    pub fn last(&self) -> Option<&Bytes> {
        self.frames.last()
    }

    /// A property of the connection this message came from (`User-Id`,
    /// `Socket-Type`, `Identity`, ...; names compare case-insensitively), for messages
    /// received over PLAIN or CURVE.
    pub fn property(&self, name: &str) -> Option<&Bytes> {
        self.properties.as_ref()?.get(name)
    }

    /// The `User-Id` a ZAP handler gave the sender, if any.
    pub fn user_id(&self) -> Option<&Bytes> {
        self.property("User-Id")
    }

    /// This message with `other`'s connection properties (for a message rebuilt from
    /// another's frames).
    pub(crate) fn with_properties_of(mut self, other: &Message) -> Message {
        self.properties.clone_from(&other.properties);
        self
    }

    /// Attaches the connection's properties.
    pub(crate) fn set_properties(&mut self, properties: Arc<Metadata>) {
        self.properties = Some(properties);
    }

    /// Total payload bytes over all frames.
    pub fn byte_len(&self) -> usize {
        self.frames.iter().map(Bytes::len).sum()
    }

    /// Bytes this message takes on the wire (headers included).
    pub fn encoded_len(&self) -> usize {
        self.frames
            .iter()
            .map(|f| header_len(f.len()) + f.len())
            .sum()
    }

    /// Appends the message's frames to `out`, MORE set on all but the last.
    pub fn encode(&self, out: &mut BytesMut) {
        // The common case, a single short frame, without the general loop.
        if let [frame] = &self.frames[..]
            && frame.len() <= 255
        {
            out.reserve(2 + frame.len());
            out.extend_from_slice(&[0, frame.len() as u8]);
            out.extend_from_slice(frame);
            return;
        }
        out.reserve(self.encoded_len());
        let last = self.frames.len().saturating_sub(1);
        for (i, frame) in self.frames.iter().enumerate() {
            put_header(out, i < last, false, frame.len());
            out.extend_from_slice(frame);
        }
    }

    /// The message encoded as ZMTP frames, in a buffer of its own (to write the same
    /// bytes to many peers).
    ///
    /// ```
    /// use monocoque_zmtp::proto::message::Message;
    ///
    /// let wire = Message::from("Hi").to_wire();
    /// assert_eq!(&wire[..], b"\x00\x02Hi");
    /// ```
    pub fn to_wire(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.encoded_len());
        self.encode(&mut out);
        out.freeze()
    }

    /// Consumes the message into its frames.
    pub fn into_frames(self) -> SmallVec<[Bytes; INLINE_FRAMES]> {
        self.frames
    }
}

impl std::ops::Index<usize> for Message {
    type Output = Bytes;
    fn index(&self, index: usize) -> &Bytes {
        &self.frames[index]
    }
}

impl<'a> IntoIterator for &'a Message {
    type Item = &'a Bytes;
    type IntoIter = std::slice::Iter<'a, Bytes>;
    fn into_iter(self) -> Self::IntoIter {
        self.frames.iter()
    }
}

impl IntoIterator for Message {
    type Item = Bytes;
    type IntoIter = smallvec::IntoIter<[Bytes; INLINE_FRAMES]>;
    fn into_iter(self) -> Self::IntoIter {
        self.frames.into_iter()
    }
}

impl<T: Into<Bytes>> FromIterator<T> for Message {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Message {
            frames: iter.into_iter().map(Into::into).collect(),
            properties: None,
        }
    }
}

macro_rules! single_frame_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Message {
            fn from(frame: $t) -> Self {
                let mut m = Message::new();
                m.push(frame);
                m
            }
        }
    )*};
}
single_frame_from!(Bytes, Vec<u8>, String);

/// Borrowed bytes of any lifetime are copied into the frame (`send(line.as_str())`
/// works for a `String` the caller keeps); `Bytes` and owned buffers are not copied.
/// Frames of up to 2 KiB are copied into a block shared with the frames this thread
/// copied before ([`monocoque_core::copy`]): no allocation per message.
impl From<&[u8]> for Message {
    fn from(frame: &[u8]) -> Self {
        let mut m = Message::new();
        m.push(monocoque_core::copy(frame));
        m
    }
}

impl From<&str> for Message {
    fn from(frame: &str) -> Self {
        Message::from(frame.as_bytes())
    }
}

impl<const N: usize> From<&[u8; N]> for Message {
    fn from(frame: &[u8; N]) -> Self {
        Message::from(&frame[..])
    }
}

impl From<Vec<Bytes>> for Message {
    fn from(frames: Vec<Bytes>) -> Self {
        frames.into_iter().collect()
    }
}

impl<T: Into<Bytes>, const N: usize> From<[T; N]> for Message {
    fn from(frames: [T; N]) -> Self {
        frames.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrowed_bytes_of_any_lifetime_make_a_message() {
        let line = String::from("not static");
        let message = Message::from(line.as_str());
        drop(line);
        assert_eq!(&message[0][..], b"not static");
        let buffer = [1u8, 2, 3];
        assert_eq!(&Message::from(&buffer[..])[0][..], [1, 2, 3]);
    }

    #[test]
    fn encodes_more_flags_on_all_but_last() {
        let m = Message::from(["id", "", "body"]);
        let mut out = BytesMut::new();
        m.encode(&mut out);
        assert_eq!(
            &out[..],
            &[
                0x01, 2, b'i', b'd', 0x01, 0, 0x00, 4, b'b', b'o', b'd', b'y'
            ]
        );
        assert_eq!(out.len(), m.encoded_len());
    }

    #[test]
    fn front_operations() {
        let mut m = Message::from("body");
        m.push_front("id");
        assert_eq!(m.pop_front().as_deref(), Some(&b"id"[..]));
        assert_eq!(m.len(), 1);
        assert_eq!(m.byte_len(), 4);
        assert!(Message::new().pop_front().is_none());
        let mut envelope: Message = ["", "body"].into_iter().collect();
        envelope.push_front("id");
        let frames: Vec<&[u8]> = envelope.iter().map(|f| &f[..]).collect();
        assert_eq!(frames, [&b"id"[..], b"", b"body"]);
        let mut empty = Message::new();
        empty.push_front("only");
        assert_eq!(empty.len(), 1);
    }

    #[test]
    fn clones_share_payloads() {
        let m = Message::from(vec![0u8; 1024]);
        let c = m.clone();
        assert_eq!(m[0].as_ptr(), c[0].as_ptr());
    }
}
