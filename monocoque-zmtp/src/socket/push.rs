//! The PUSH socket.

use crate::proto::socket_type::SocketType;
use crate::socket::{socket_send, socket_wrapper};

socket_wrapper! {
    /// PUSH (RFC 30): sends round-robin to its PULL peers, waiting while all are at their
    /// high-water marks.
    ///
    /// ```
    /// use monocoque_zmtp::socket::{PullSocket, PushSocket};
    ///
    /// compio::runtime::Runtime::new().unwrap().block_on(async {
    ///     let pull = PullSocket::new();
    ///     let endpoint = pull.bind("tcp://127.0.0.1:0").await?;
    ///     let push = PushSocket::new();
    ///     push.connect(&endpoint).await?;
    ///     push.send("task").await?;
    ///     assert_eq!(&pull.recv().await?[0][..], b"task");
    /// # Ok::<(), monocoque_zmtp::error::Error>(())
    /// }).unwrap();
    /// ```
    PushSocket,
    SocketType::Push
}
socket_send!(
    PushSocket,
    "Sends to the next available peer in round-robin order."
);
