//! The XPUB socket.

use crate::proto::socket_type::SocketType;
use crate::socket::{socket_recv, socket_send, socket_wrapper};

socket_wrapper! {
    /// XPUB (RFC 29): a PUB that also receives its subscribers' subscriptions, as messages
    /// starting with 1 (subscribe) or 0 (cancel); each topic is reported once, when its
    /// first subscriber arrives and when its last one leaves.
    ///
    /// ```
    /// use monocoque_zmtp::socket::{SubSocket, XPubSocket};
    ///
    /// compio::runtime::Runtime::new().unwrap().block_on(async {
    ///     let xpub = XPubSocket::new();
    ///     let endpoint = xpub.bind("tcp://127.0.0.1:0").await?;
    ///     let sub = SubSocket::new();
    ///     sub.subscribe("A")?;
    ///     sub.connect(&endpoint).await?;
    ///     assert_eq!(&xpub.recv().await?[0][..], b"\x01A");
    /// # Ok::<(), monocoque_zmtp::error::Error>(())
    /// }).unwrap();
    /// ```
    XPubSocket,
    SocketType::Xpub
}
socket_send!(
    XPubSocket,
    "Publishes a message to every matching subscriber."
);
socket_recv!(XPubSocket, "Receives the next subscription change.");

impl XPubSocket {
    /// With `xpub_manual` (`ZMQ_XPUB_MANUAL`): sends messages starting with `topic` to
    /// the subscriber whose subscription message [`recv`](Self::recv) returned last.
    ///
    /// # Errors
    ///
    /// [`Error::NotSupported`](crate::error::Error::NotSupported) without
    /// `xpub_manual`.
    pub fn subscribe(&self, topic: impl AsRef<[u8]>) -> Result<(), crate::error::Error> {
        self.inner.subscribe(topic)
    }

    /// With `xpub_manual`: stops sending `topic` to the subscriber whose subscription
    /// message [`recv`](Self::recv) returned last.
    ///
    /// # Errors
    ///
    /// [`Error::NotSupported`](crate::error::Error::NotSupported) without
    /// `xpub_manual`.
    pub fn unsubscribe(&self, topic: impl AsRef<[u8]>) -> Result<(), crate::error::Error> {
        self.inner.unsubscribe(topic)
    }
}
