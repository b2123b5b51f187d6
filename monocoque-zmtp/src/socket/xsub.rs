//! The XSUB socket.

use crate::proto::socket_type::SocketType;
use crate::socket::{socket_recv, socket_send, socket_wrapper};

socket_wrapper! {
    /// XSUB (RFC 29): a SUB whose subscriptions are sent as messages (1 or 0 followed by
    /// the topic), as brokers built with XPUB/XSUB do.
    ///
    /// ```
    /// use monocoque_zmtp::socket::{PubSocket, XSubSocket};
    ///
    /// compio::runtime::Runtime::new().unwrap().block_on(async {
    ///     let xsub = XSubSocket::new();
    ///     xsub.send(&b"\x01"[..]).await?; // subscribe to everything
    ///     let endpoint = xsub.bind("tcp://127.0.0.1:0").await?;
    ///     let publisher = PubSocket::new();
    ///     publisher.connect(&endpoint).await?;
    ///     let first = loop {
    ///         publisher.send("news").await?;
    ///         if let Ok(Ok(m)) = compio::time::timeout(std::time::Duration::from_millis(10), xsub.recv()).await {
    ///             break m;
    ///         }
    ///     };
    ///     assert_eq!(&first[0][..], b"news");
    /// # Ok::<(), monocoque_zmtp::error::Error>(())
    /// }).unwrap();
    /// ```
    XSubSocket,
    SocketType::Xsub
}
socket_send!(
    XSubSocket,
    "Sends a subscription change (first byte 1 or 0) or a message to every publisher."
);
socket_recv!(XSubSocket, "Receives the next matching message.");
