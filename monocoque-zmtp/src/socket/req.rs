//! The REQ socket.

use crate::proto::socket_type::SocketType;
use crate::socket::{socket_recv, socket_send, socket_wrapper};

socket_wrapper! {
    /// REQ (RFC 28): sends requests round-robin to its peers and receives each reply.
    ///
    /// Strict: `send` and `recv` alternate (a second `send` fails with
    /// [`Error::InvalidState`](crate::error::Error::InvalidState)); the empty delimiter
    /// frame is added and removed for you; a reply is accepted only from the peer that
    /// was asked.
    ///
    /// ```
    /// use monocoque_zmtp::socket::{RepSocket, ReqSocket};
    ///
    /// compio::runtime::Runtime::new().unwrap().block_on(async {
    ///     let rep = RepSocket::new();
    ///     let endpoint = rep.bind("tcp://127.0.0.1:0").await?;
    ///     let req = ReqSocket::new();
    ///     req.connect(&endpoint).await?;
    ///     req.send("Hello").await?;
    ///     let request = rep.recv().await?;
    ///     rep.send(["World"]).await?;
    ///     assert_eq!(&request[0][..], b"Hello");
    ///     assert_eq!(&req.recv().await?[0][..], b"World");
    /// # Ok::<(), monocoque_zmtp::error::Error>(())
    /// }).unwrap();
    /// ```
    ReqSocket,
    SocketType::Req
}
socket_send!(
    ReqSocket,
    "Sends a request (the reply must be received before the next one)."
);
socket_recv!(ReqSocket, "Receives the reply to the last request.");
