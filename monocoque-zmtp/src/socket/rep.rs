//! The REP socket.

use crate::proto::socket_type::SocketType;
use crate::socket::{socket_recv, socket_send, socket_wrapper};

socket_wrapper! {
    /// REP (RFC 28): receives requests fair-queued from its peers and replies to each.
    ///
    /// The request's envelope (routing frames up to the empty delimiter) is kept and put
    /// back on the reply, so REP works behind ROUTER/DEALER brokers.
    ///
    /// ```
    /// use monocoque_zmtp::socket::{RepSocket, ReqSocket};
    ///
    /// compio::runtime::Runtime::new().unwrap().block_on(async {
    ///     let rep = RepSocket::new();
    ///     let endpoint = rep.bind("tcp://127.0.0.1:0").await?;
    ///     let req = ReqSocket::new();
    ///     req.connect(&endpoint).await?;
    ///     req.send("ping").await?;
    ///     assert_eq!(&rep.recv().await?[0][..], b"ping");
    ///     rep.send("pong").await?;
    ///     assert_eq!(&req.recv().await?[0][..], b"pong");
    /// # Ok::<(), monocoque_zmtp::error::Error>(())
    /// }).unwrap();
    /// ```
    RepSocket,
    SocketType::Rep
}
socket_send!(RepSocket, "Sends the reply to the request last received.");
socket_recv!(
    RepSocket,
    "Receives the next request (after the previous one was answered)."
);
