//! The DEALER socket.

use crate::proto::socket_type::SocketType;
use crate::socket::{socket_recv, socket_send, socket_wrapper};

socket_wrapper! {
    /// DEALER (RFC 28): sends round-robin to its peers and receives fair-queued from them,
    /// with no envelope rules.
    ///
    /// ```
    /// use monocoque_zmtp::socket::{DealerSocket, RouterSocket};
    /// use monocoque_zmtp::config::SocketOptions;
    ///
    /// compio::runtime::Runtime::new().unwrap().block_on(async {
    ///     let router = RouterSocket::new();
    ///     let endpoint = router.bind("tcp://127.0.0.1:0").await?;
    ///     let dealer = DealerSocket::with_options(SocketOptions::default().routing_id("d1"));
    ///     dealer.connect(&endpoint).await?;
    ///     dealer.send("job").await?;
    ///     let message = router.recv().await?;
    ///     assert_eq!(&message[0][..], b"d1");
    ///     router.send([&b"d1"[..], b"done"]).await?;
    ///     assert_eq!(&dealer.recv().await?[0][..], b"done");
    /// # Ok::<(), monocoque_zmtp::error::Error>(())
    /// }).unwrap();
    /// ```
    DealerSocket,
    SocketType::Dealer
}
socket_send!(
    DealerSocket,
    "Sends to the next peer in round-robin order, waiting while all are at the high-water mark."
);
socket_recv!(
    DealerSocket,
    "Receives the next message, fair-queued over peers."
);
