//! The PUB socket.

use crate::proto::socket_type::SocketType;
use crate::socket::{socket_send, socket_wrapper};

socket_wrapper! {
    /// PUB (RFC 29): distributes each message to every subscriber whose subscription is a
    /// prefix of its first frame. Never waits: a subscriber at its high-water mark misses
    /// the message.
    ///
    /// ```
    /// use monocoque_zmtp::socket::{PubSocket, SubSocket};
    ///
    /// compio::runtime::Runtime::new().unwrap().block_on(async {
    ///     let publisher = PubSocket::new();
    ///     let endpoint = publisher.bind("tcp://127.0.0.1:0").await?;
    ///     let subscriber = SubSocket::new();
    ///     subscriber.connect(&endpoint).await?;
    ///     subscriber.subscribe("weather")?;
    ///     // Subscriptions travel upstream: publish until the first update arrives.
    ///     let update = loop {
    ///         publisher.send("weather 21C").await?;
    ///         if let Ok(Ok(m)) = compio::time::timeout(std::time::Duration::from_millis(10), subscriber.recv()).await {
    ///             break m;
    ///         }
    ///     };
    ///     assert_eq!(&update[0][..], b"weather 21C");
    /// # Ok::<(), monocoque_zmtp::error::Error>(())
    /// }).unwrap();
    /// ```
    PubSocket,
    SocketType::Pub
}
socket_send!(
    PubSocket,
    "Publishes a message to every matching subscriber."
);
