//! The PAIR socket.

use crate::proto::socket_type::SocketType;
use crate::socket::{socket_recv, socket_send, socket_wrapper};

socket_wrapper! {
    /// PAIR (RFC 31): an exclusive connection to one other PAIR socket.
    ///
    /// ```
    /// use monocoque_zmtp::socket::{PairSocket};
    ///
    /// compio::runtime::Runtime::new().unwrap().block_on(async {
    ///     let a = PairSocket::new();
    ///     let endpoint = a.bind("tcp://127.0.0.1:0").await?;
    ///     let b = PairSocket::new();
    ///     b.connect(&endpoint).await?;
    ///     b.send("ping").await?;
    ///     assert_eq!(&a.recv().await?[0][..], b"ping");
    ///     a.send("pong").await?;
    ///     assert_eq!(&b.recv().await?[0][..], b"pong");
    /// # Ok::<(), monocoque_zmtp::error::Error>(())
    /// }).unwrap();
    /// ```
    PairSocket,
    SocketType::Pair
}
socket_send!(
    PairSocket,
    "Sends to the peer, waiting while it is at its high-water mark or absent."
);
socket_recv!(PairSocket, "Receives from the peer.");
