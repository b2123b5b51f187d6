//! The PULL socket.

use crate::proto::socket_type::SocketType;
use crate::socket::{socket_recv, socket_wrapper};

socket_wrapper! {
    /// PULL (RFC 30): receives fair-queued from its PUSH peers.
    ///
    /// ```
    /// use monocoque_zmtp::socket::{PullSocket, PushSocket};
    ///
    /// compio::runtime::Runtime::new().unwrap().block_on(async {
    ///     let pull = PullSocket::new();
    ///     // One path per process, so concurrent runs do not collide.
    ///     let path = std::env::temp_dir()
    ///         .join(format!("monocoque-doc-pull-{}.sock", std::process::id()));
    ///     let endpoint = pull.bind(&format!("ipc://{}", path.display())).await?;
    ///     let push = PushSocket::new();
    ///     push.connect(&endpoint).await?;
    ///     push.send(["two", "frames"]).await?;
    ///     assert_eq!(pull.recv().await?.len(), 2);
    /// # Ok::<(), monocoque_zmtp::error::Error>(())
    /// }).unwrap();
    /// ```
    PullSocket,
    SocketType::Pull
}
socket_recv!(
    PullSocket,
    "Receives the next message, fair-queued over peers."
);
