//! The SUB socket.

use crate::proto::socket_type::SocketType;
use crate::socket::{socket_recv, socket_wrapper};

socket_wrapper! {
    /// SUB (RFC 29): receives the messages matching its subscriptions.
    ///
    /// Subscriptions are counted (two `subscribe` need two `unsubscribe`) and sent again
    /// to a publisher after a reconnect.
    ///
    /// ```
    /// use monocoque_zmtp::socket::{PubSocket, SubSocket};
    ///
    /// compio::runtime::Runtime::new().unwrap().block_on(async {
    ///     let subscriber = SubSocket::new();
    ///     subscriber.subscribe("")?; // everything
    ///     let endpoint = subscriber.bind("tcp://127.0.0.1:0").await?;
    ///     let publisher = PubSocket::new();
    ///     publisher.connect(&endpoint).await?;
    ///     let first = loop {
    ///         publisher.send("tick").await?;
    ///         if let Ok(Ok(m)) = compio::time::timeout(std::time::Duration::from_millis(10), subscriber.recv()).await {
    ///             break m;
    ///         }
    ///     };
    ///     assert_eq!(&first[0][..], b"tick");
    /// # Ok::<(), monocoque_zmtp::error::Error>(())
    /// }).unwrap();
    /// ```
    SubSocket,
    SocketType::Sub
}
socket_recv!(SubSocket, "Receives the next matching message.");

impl SubSocket {
    /// Subscribes to messages whose first frame starts with `topic` (`""` for all).
    pub fn subscribe(&self, topic: impl AsRef<[u8]>) -> Result<(), crate::error::Error> {
        self.inner.subscribe(topic)
    }

    /// Cancels one subscription to `topic`.
    pub fn unsubscribe(&self, topic: impl AsRef<[u8]>) -> Result<(), crate::error::Error> {
        self.inner.unsubscribe(topic)
    }
}
