//! monocoque: a pure-Rust ZeroMQ (ZMTP 3.x) implementation on the compio runtime.
//!
//! Sockets speak the ZeroMQ wire protocol, so they talk to libzmq, pyzmq, JeroMQ and
//! other ZMTP 3 peers over `tcp://` and `ipc://`. They behave like libzmq's: the same
//! socket types and routing rules (RFC 28-31), endpoint syntax, option names and
//! defaults.
//!
//! Sockets made by a [`Context`] are [`SocketHandle`]s: `Send + Sync + Clone`, with
//! async `send`/`recv` whose futures run under any executor (tokio, smol,
//! `futures::executor`), and blocking `send_blocking`/`recv_blocking` for code with
//! no runtime at all. The sockets themselves live on the context's I/O threads.
//!
//! ```
//! use monocoque::{Context, SocketType};
//!
//! let context = Context::new()?;
//! let server = context.socket(SocketType::Rep)?;
//! let client = context.socket(SocketType::Req)?;
//! futures::executor::block_on(async {
//!     let endpoint = server.bind("tcp://127.0.0.1:0").await?;
//!     client.connect(&endpoint).await?;
//!     client.send("Hello").await?;
//!     let request = server.recv().await?;
//!     assert_eq!(&request[0][..], b"Hello");
//!     server.send("World").await?;
//!     assert_eq!(&client.recv().await?[0][..], b"World");
//!     Ok::<(), monocoque::Error>(())
//! })?;
//! context.terminate(); // closes the sockets (with their linger) and joins the threads
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! On a compio runtime thread, the native sockets ([`ReqSocket`], [`PubSocket`], ...)
//! skip the hop to an I/O thread: the fastest path, for compio applications. Any
//! compio runtime works; [`runtime::runtime`] builds the one the I/O threads use,
//! whose io_uring runs its kernel work when the thread waits rather than by
//! interrupting it, which many connections need.
//!
//! ```
//! use monocoque::{RepSocket, ReqSocket};
//!
//! monocoque::runtime::runtime()?.block_on(async {
//!     let server = RepSocket::new();
//!     let endpoint = server.bind("tcp://127.0.0.1:0").await?;
//!     let client = ReqSocket::new();
//!     client.connect(&endpoint).await?;
//!
//!     client.send("Hello").await?;
//!     let request = server.recv().await?;
//!     assert_eq!(&request[0][..], b"Hello");
//!     server.send("World").await?;
//!     assert_eq!(&client.recv().await?[0][..], b"World");
//!     Ok::<(), monocoque::Error>(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A native socket runs on the compio runtime of the thread that created it; `send`
//! and `recv` are cancel-safe on both kinds. Options are set with [`SocketOptions`]:
//!
//! ```
//! use std::time::Duration;
//! use monocoque::{DealerSocket, SocketOptions, BufferConfig};
//!
//! let options = SocketOptions::default()
//!     .routing_id("worker-7")
//!     .sndhwm(10_000)
//!     .heartbeat_ivl(Duration::from_secs(5))
//!     .buffers(BufferConfig::default().write_batch_size(256 * 1024));
//! let _dealer = DealerSocket::with_options(options);
//! ```
//!
//! Options grouped in types of their own ([`TcpOptions`], [`RouterNotify`],
//! [`ReconnectStop`]) are named from here too: a ROUTER told of each new peer, and a
//! DEALER with TCP keepalive on.
//!
//! ```
//! use monocoque::{DealerSocket, RouterNotify, RouterSocket, SocketOptions, TcpOptions};
//!
//! monocoque::runtime::runtime()?.block_on(async {
//!     let notify = RouterNotify { connect: true, disconnect: false };
//!     let router = RouterSocket::with_options(SocketOptions::default().router_notify(notify));
//!     let endpoint = router.bind("tcp://127.0.0.1:0").await?;
//!     let tcp = TcpOptions { keepalive: Some(true), ..TcpOptions::default() };
//!     let dealer = DealerSocket::with_options(SocketOptions::default().routing_id("d1").tcp(tcp));
//!     dealer.connect(&endpoint).await?;
//!     // ZMQ_ROUTER_NOTIFY: [routing id, empty frame] when the peer connects.
//!     let connected = router.recv().await?;
//!     assert_eq!((&connected[0][..], &connected[1][..]), (&b"d1"[..], &b""[..]));
//!     Ok::<(), monocoque::Error>(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]
// The facade only re-exports. `unsafe` lives in monocoque-core's arena and in
// monocoque-zmtp's CURVE cipher dispatch (`proto::mechanism::curve::simd`) and direct
// reads (`driver::direct::recv_into`).
#![forbid(unsafe_code)]

pub use monocoque_zmtp::config::{
    BufferConfig, ReconnectStop, RouterNotify, SocketOptions, TcpOptions,
};
pub use monocoque_zmtp::endpoint::{Endpoint, EndpointError};
pub use monocoque_zmtp::error::{Error, Result};
pub use monocoque_zmtp::proto::error::{CommandField, Fault, ProtocolError, StateError};
pub use monocoque_zmtp::proto::message::Message;
pub use monocoque_zmtp::proto::socket_type::SocketType;
pub use monocoque_zmtp::socket::{
    Context, ContextBuilder, DealerSocket, HandshakeFailure, MONITOR_CAPACITY, Monitor, PairSocket,
    ProxyStats, PubSocket, PullSocket, PushSocket, RECENT_ERRORS, RecentError, RepSocket,
    ReqSocket, RouterSocket, Socket, SocketEvent, SocketHandle, SocketStats, SubSocket, XPubSocket,
    XSubSocket, proxy, proxy_blocking, proxy_steerable,
};

/// Which compio driver runs the sockets (io_uring, or epoll where it is refused).
pub use monocoque_zmtp::runtime;

/// `Bytes`, the frame type of [`Message`].
pub use bytes::Bytes;

/// Security: PLAIN and CURVE credentials, keys, Z85, and the authenticator that
/// answers a server socket's ZAP requests. The mechanism is picked by
/// [`SocketOptions`] with libzmq's option names (`plain_server`, `plain_username`,
/// `curve_server`, `curve_serverkey`, ...); `docs/security.md` explains them.
///
/// ```
/// use monocoque::security::{Authenticator, KeyPair};
/// use monocoque::SocketOptions;
///
/// let server_keys = KeyPair::generate().unwrap();
/// let client_keys = KeyPair::generate().unwrap();
/// // The server accepts this one client key.
/// let server = SocketOptions::default()
///     .curve_server(true)
///     .curve_keypair(server_keys.clone())
///     .authenticator(Authenticator::new().curve_key(*client_keys.public.as_bytes()));
/// // The client knows the server's public key.
/// let client = SocketOptions::default()
///     .curve_serverkey(server_keys.public)
///     .curve_keypair(client_keys);
/// # let _ = (server, client);
/// ```
pub mod security {
    pub use monocoque_zmtp::proto::auth::{AuthCallback, Authenticator};
    #[cfg(feature = "curve")]
    pub use monocoque_zmtp::proto::mechanism::curve::{KeyError, KeyPair, PublicKey, SecretKey};
    pub use monocoque_zmtp::proto::mechanism::{Password, Security};
    pub use monocoque_zmtp::proto::z85;
    pub use monocoque_zmtp::proto::zap::{
        ZAP_ENDPOINT, ZapAnswer, ZapError, ZapReply, ZapRequest, ZapStatus,
    };
}

/// The sans-IO protocol core: one connection's ZMTP as a state machine with no IO and
/// no clock, for driving monocoque from another runtime. The order of calls is in
/// [`monocoque_zmtp`'s crate docs](monocoque_zmtp#driving-monocoque-from-another-runtime).
pub mod sans_io {
    pub use monocoque_zmtp::proto::command::Metadata;
    pub use monocoque_zmtp::proto::greeting::{MechanismName, Version};
    pub use monocoque_zmtp::proto::handshake::PeerInfo;
    pub use monocoque_zmtp::proto::session::{Event, Session, SessionConfig};
}
