//! The ROUTER socket.

use crate::proto::socket_type::SocketType;
use crate::socket::{socket_recv, socket_send, socket_wrapper};

socket_wrapper! {
    /// ROUTER (RFC 28): prepends the sending peer's routing id to every message it receives,
    /// and routes every message it sends by its first frame.
    ///
    /// A peer's routing id is its `Identity` property, or a generated 5-byte id starting with
    /// a zero byte. A message to an unknown id is dropped, or fails with
    /// [`Error::HostUnreachable`](crate::error::Error::HostUnreachable) when
    /// `router_mandatory` is set.
    ///
    /// ```
    /// use monocoque_zmtp::socket::{ReqSocket, RouterSocket};
    ///
    /// compio::runtime::Runtime::new().unwrap().block_on(async {
    ///     let router = RouterSocket::new();
    ///     let endpoint = router.bind("tcp://127.0.0.1:0").await?;
    ///     let req = ReqSocket::new();
    ///     req.connect(&endpoint).await?;
    ///     req.send("hi").await?;
    ///     let mut message = router.recv().await?; // [id, "", "hi"]
    ///     assert_eq!(message.len(), 3);
    ///     let id = message.pop_front().unwrap();
    ///     router.send([id, "".into(), "hello".into()]).await?;
    ///     assert_eq!(&req.recv().await?[0][..], b"hello");
    /// # Ok::<(), monocoque_zmtp::error::Error>(())
    /// }).unwrap();
    /// ```
    RouterSocket,
    SocketType::Router
}
socket_send!(RouterSocket, "Sends to the peer named by the first frame.");
socket_recv!(
    RouterSocket,
    "Receives the next message with the sender's routing id as first frame."
);

impl RouterSocket {
    /// Sets `ZMQ_CONNECT_ROUTING_ID` for the next `connect`; see
    /// [`Socket::set_connect_routing_id`](crate::socket::Socket::set_connect_routing_id).
    ///
    /// # Errors
    ///
    /// [`Error::Protocol`](crate::error::Error::Protocol) for an id that is empty,
    /// longer than 255 bytes or starts with a zero byte.
    pub fn set_connect_routing_id(
        &self,
        routing_id: impl Into<bytes::Bytes>,
    ) -> Result<(), crate::error::Error> {
        self.inner.set_connect_routing_id(routing_id)
    }
}
