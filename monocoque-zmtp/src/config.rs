//! Socket options, with libzmq's names and defaults, and [`BufferConfig`].

use std::time::Duration;

use bytes::Bytes;

pub use crate::engine::state::RouterNotify;
use crate::proto::auth::Authenticator;
use crate::proto::error::ProtocolError;
#[cfg(feature = "curve")]
use crate::proto::mechanism::curve::{KeyPair, PublicKey, SecretKey};
use crate::proto::mechanism::{Password, Security};
use crate::proto::session::SessionConfig;
use crate::proto::socket_type::SocketType;

/// TCP socket options applied to each connection, libzmq's names (`None` leaves the
/// system's setting, libzmq's -1). One is monocoque's own: `notsent_lowat`, on by
/// default.
///
/// ```
/// use std::time::Duration;
/// use monocoque_zmtp::config::{SocketOptions, TcpOptions};
///
/// let tcp = TcpOptions {
///     keepalive: Some(true),
///     keepalive_idle: Some(Duration::from_secs(60)),
///     ..TcpOptions::default()
/// };
/// let options = SocketOptions::default().tcp(tcp);
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpOptions {
    /// `ZMQ_TCP_KEEPALIVE`: TCP keepalive probes on or off.
    pub keepalive: Option<bool>,
    /// `ZMQ_TCP_KEEPALIVE_IDLE`: idle time before the first probe.
    pub keepalive_idle: Option<Duration>,
    /// `ZMQ_TCP_KEEPALIVE_CNT`: probes before the connection is dropped.
    pub keepalive_cnt: Option<u32>,
    /// `ZMQ_TCP_KEEPALIVE_INTVL`: time between probes.
    pub keepalive_intvl: Option<Duration>,
    /// `ZMQ_SNDBUF`: the kernel send buffer, in bytes.
    pub sndbuf: Option<usize>,
    /// `ZMQ_RCVBUF`: the kernel receive buffer, in bytes.
    pub rcvbuf: Option<usize>,
    /// `ZMQ_TOS`: the IP type-of-service octet (IPv4).
    pub tos: Option<u32>,
    /// Linux's `TCP_NOTSENT_LOWAT` (not a libzmq option): how many bytes a connection
    /// keeps written but not yet sent in the kernel. Default
    /// [`DEFAULT_NOTSENT_LOWAT`](Self::DEFAULT_NOTSENT_LOWAT); `None` leaves the
    /// system's setting (`net.ipv4.tcp_notsent_lowat`, unlimited unless changed).
    ///
    /// Without a limit, bytes the peer's window cannot take yet wait in the kernel,
    /// and whatever opens the window sends them: on loopback, the receiving process,
    /// on its own core. With it, the sender writes them later itself. Ignored on
    /// systems other than Linux and Android.
    pub notsent_lowat: Option<u32>,
}

impl TcpOptions {
    /// 32 KiB, chosen by measurement against 16, 64 and 128 KiB: on loopback it
    /// carried 64 KiB PUSH/PULL messages about 2.6 times as fast as no limit, and a
    /// publisher's 1 KiB messages to 256 subscribers 1.6-1.9 times; handles sending
    /// 64 KiB messages were about 15% slower (docs/performance.md, "Unsent bytes
    /// limited to 32 KiB").
    pub const DEFAULT_NOTSENT_LOWAT: u32 = 32 * 1024;
}

impl Default for TcpOptions {
    fn default() -> Self {
        Self {
            keepalive: None,
            keepalive_idle: None,
            keepalive_cnt: None,
            keepalive_intvl: None,
            sndbuf: None,
            rcvbuf: None,
            tos: None,
            notsent_lowat: Some(Self::DEFAULT_NOTSENT_LOWAT),
        }
    }
}

/// `ZMQ_RECONNECT_STOP` (a libzmq 4.3 draft option): when a connecting endpoint gives
/// up instead of reconnecting. Once it gives up, messages queued for its peer are
/// dropped and the monitor reports
/// [`Closed`](crate::engine::monitor::SocketEvent::Closed) for the endpoint; connect
/// again to retry.
///
/// ```
/// use monocoque_zmtp::config::{ReconnectStop, SocketOptions};
///
/// let options = SocketOptions::default().reconnect_stop(ReconnectStop {
///     conn_refused: true,
///     ..ReconnectStop::default()
/// });
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReconnectStop {
    /// `ZMQ_RECONNECT_STOP_CONN_REFUSED`: after a connect is refused (`ECONNREFUSED`:
    /// the host is up, nothing listens on the port).
    pub conn_refused: bool,
    /// `ZMQ_RECONNECT_STOP_HANDSHAKE_FAILED`: after a connection whose handshake did
    /// not complete (the peer broke the protocol, was incompatible, refused our
    /// credentials, closed the connection or timed out first).
    pub handshake_failed: bool,
    /// `ZMQ_RECONNECT_STOP_AFTER_DISCONNECT`: no reconnect after `disconnect`. libzmq
    /// needs it to stop a connect still in flight; here `disconnect` always stops the
    /// endpoint at once, so it changes nothing and is kept for code ported from
    /// libzmq.
    pub after_disconnect: bool,
    /// After an established connection (its handshake completed) ends, however it
    /// ends (not a libzmq flag).
    pub connection_lost: bool,
}

/// [`BufferConfig::small`]'s read page size.
const SMALL_READ: usize = 8 * 1024;
/// [`BufferConfig::small`]'s write batch size.
const SMALL_WRITE: usize = 8 * 1024;
/// [`BufferConfig::large`]'s read page size.
const LARGE_READ: usize = 256 * 1024;
/// [`BufferConfig::large`]'s write batch size.
const LARGE_WRITE: usize = 256 * 1024;

/// How the driver sizes its IO buffers.
///
/// ```
/// use monocoque_zmtp::config::BufferConfig;
/// let config = BufferConfig::default().read_page_size(256 * 1024);
/// assert_eq!(config.read_page_size, 256 * 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BufferConfig {
    /// Size of the arena pages reads land in (64 KiB by default).
    pub read_page_size: usize,
    /// How many bytes of queued messages are encoded into one write before it is
    /// submitted (64 KiB by default). Messages sent while a write is in flight wait and
    /// go out together in the next one.
    pub write_batch_size: usize,
}

impl Default for BufferConfig {
    fn default() -> Self {
        BufferConfig {
            read_page_size: 64 * 1024,
            write_batch_size: 64 * 1024,
        }
    }
}

impl BufferConfig {
    /// 8 KiB read pages and 8 KiB write batches: a busy connection holds 16 KiB of
    /// buffers instead of 128 KiB, with the same request/reply latency; streams of
    /// small messages lose about 2.5x their throughput (figures in
    /// docs/performance.md).
    pub const fn small() -> Self {
        BufferConfig {
            read_page_size: SMALL_READ,
            write_batch_size: SMALL_WRITE,
        }
    }

    /// 256 KiB read pages and 256 KiB write batches, for bulk transfers of large
    /// messages: fewer, larger writes (1.17x-1.5x the default's 64 KiB-message
    /// throughput over tcp, and steadier; figures in docs/performance.md).
    pub const fn large() -> Self {
        BufferConfig {
            read_page_size: LARGE_READ,
            write_batch_size: LARGE_WRITE,
        }
    }

    /// Read pages of `read_page_size` bytes and write batches of `write_batch_size`.
    pub const fn custom(read_page_size: usize, write_batch_size: usize) -> Self {
        BufferConfig {
            read_page_size,
            write_batch_size,
        }
    }

    /// Sets [`read_page_size`](Self::read_page_size).
    pub fn read_page_size(mut self, bytes: usize) -> Self {
        self.read_page_size = bytes;
        self
    }

    /// Sets [`write_batch_size`](Self::write_batch_size).
    pub fn write_batch_size(mut self, bytes: usize) -> Self {
        self.write_batch_size = bytes;
        self
    }
}

/// Options of a socket, named after libzmq's `ZMQ_*` options, with libzmq's defaults.
///
/// ```
/// use std::time::Duration;
/// use monocoque_zmtp::config::SocketOptions;
///
/// let options = SocketOptions::default()
///     .sndhwm(10)
///     .routing_id("worker-1")
///     .heartbeat_ivl(Duration::from_secs(1));
/// assert_eq!(options.sndhwm, 10);
/// assert_eq!(options.rcvhwm, 1000);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SocketOptions {
    /// `ZMQ_SNDHWM`: messages queued per peer for sending (1000; 0 means no limit).
    pub sndhwm: usize,
    /// `ZMQ_RCVHWM`: messages queued per peer after receiving (1000; 0 means no limit).
    pub rcvhwm: usize,
    /// `ZMQ_ROUTING_ID`: the identity announced to peers (none by default).
    pub routing_id: Option<Bytes>,
    /// `ZMQ_RECONNECT_IVL`: wait before reconnecting (100 ms).
    pub reconnect_ivl: Duration,
    /// `ZMQ_RECONNECT_IVL_MAX`: cap of the doubling back-off (`None`: no back-off, as
    /// libzmq's default of 0).
    pub reconnect_ivl_max: Option<Duration>,
    /// `ZMQ_RECONNECT_STOP` (draft): when a connecting endpoint gives up instead of
    /// reconnecting (never, by default).
    pub reconnect_stop: ReconnectStop,
    /// `ZMQ_HANDSHAKE_IVL`: time allowed for the handshake (30 s; `None` disables).
    pub handshake_ivl: Option<Duration>,
    /// `ZMQ_HEARTBEAT_IVL`: PING interval (`None`: no heartbeats, the default).
    pub heartbeat_ivl: Option<Duration>,
    /// `ZMQ_HEARTBEAT_TTL`: TTL announced in our PINGs.
    pub heartbeat_ttl: Option<Duration>,
    /// `ZMQ_HEARTBEAT_TIMEOUT`: silence tolerated after a PING (defaults to the interval).
    pub heartbeat_timeout: Option<Duration>,
    /// `ZMQ_MAXMSGSIZE`: largest inbound frame, as libzmq checks it (`None`:
    /// unlimited, the default).
    pub max_msg_size: Option<u64>,
    /// `ZMQ_LINGER`: how long [`close`](crate::socket::Socket::close) waits for queued
    /// messages to be written (`None`: until they are, libzmq's default of -1).
    pub linger: Option<Duration>,
    /// `ZMQ_ROUTER_MANDATORY`: a ROUTER fails `send` to an unknown routing id instead
    /// of dropping the message (off).
    pub router_mandatory: bool,
    /// `ZMQ_ROUTER_HANDOVER`: a peer announcing a routing id already in use takes it
    /// over, and the previous holder is disconnected (off: the newcomer is refused).
    pub router_handover: bool,
    /// `ZMQ_CONNECT_ROUTING_ID`: the routing id a ROUTER gives the peer of its first
    /// `connect` (1-255 bytes, not starting with a zero byte), so it can send to that
    /// peer by this name at once, whatever Identity the peer announces. Consumed by
    /// that connect; `set_connect_routing_id` on the socket names the next one.
    pub connect_routing_id: Option<Bytes>,
    /// `ZMQ_PROBE_ROUTER`: a ROUTER, DEALER or REQ sends an empty message to each new
    /// peer, so a ROUTER on the other side learns its routing id at once (off).
    pub probe_router: bool,
    /// `ZMQ_ROUTER_NOTIFY` (a libzmq 4.3 draft option): a ROUTER receives
    /// `[routing id, empty frame]` when a peer connects and/or disconnects (off).
    pub router_notify: RouterNotify,
    /// `ZMQ_XPUB_VERBOSE`: an XPUB passes every subscribe up, not only a topic's
    /// first (off).
    pub xpub_verbose: bool,
    /// `ZMQ_XPUB_VERBOSER`: an XPUB passes every subscribe and every cancel up (off).
    pub xpub_verboser: bool,
    /// `ZMQ_XPUB_NODROP`: at a subscriber's high-water mark an XPUB's `send` waits
    /// instead of dropping the message for that subscriber (off).
    pub xpub_nodrop: bool,
    /// `ZMQ_INVERT_MATCHING`: PUB and XPUB send to the subscribers that do *not* match,
    /// and SUB receives what matches none of its subscriptions (off; set it on both
    /// ends).
    pub invert_matching: bool,
    /// `ZMQ_XPUB_WELCOME_MSG`: the message an XPUB sends each new subscriber first
    /// (none).
    pub xpub_welcome_msg: Option<Bytes>,
    /// `ZMQ_CONFLATE`: PUSH, PULL, PUB, SUB and DEALER keep only the last message in
    /// each peer's queue, each way, and ignore the high-water marks (off). libzmq
    /// keeps one frame of a multipart message; monocoque keeps the whole message.
    pub conflate: bool,
    /// `ZMQ_XPUB_MANUAL`: an XPUB passes every subscription message up and applies
    /// none; `subscribe`/`unsubscribe` on it apply a topic to the peer whose
    /// subscription message `recv` returned last (off).
    pub xpub_manual: bool,
    /// `ZMQ_REQ_RELAXED`: a REQ may send a new request while one is outstanding (the
    /// old one is abandoned) (off).
    pub req_relaxed: bool,
    /// `ZMQ_REQ_CORRELATE`: a REQ puts a request id before the delimiter and takes
    /// only the reply that carries the current one (off).
    pub req_correlate: bool,
    /// TCP socket options of each connection, as libzmq's (`None`: the system's).
    pub tcp: TcpOptions,
    /// `ZMQ_IPV6`: `tcp://*:port` binds every interface of both families (a
    /// dual-stack `[::]`, which IPv4 clients reach too) and host names may resolve to
    /// IPv6 addresses (off: `*` binds IPv4 only and names resolve to IPv4 addresses
    /// only, as libzmq). Literal IPv6 addresses such as `[::1]` work either way.
    pub ipv6: bool,
    /// `ZMQ_IMMEDIATE`: queue messages only for completed connections (off: messages
    /// queue for a connecting peer too, as in libzmq).
    pub immediate: bool,
    /// The sizes of the connection's read pages and write batches (not a libzmq
    /// option).
    pub buffers: BufferConfig,
    /// `ZMQ_PLAIN_SERVER`: act as a PLAIN server (credentials checked through the
    /// authenticator).
    pub plain_server: bool,
    /// `ZMQ_PLAIN_USERNAME`: act as a PLAIN client with this user name.
    pub plain_username: Option<Bytes>,
    /// `ZMQ_PLAIN_PASSWORD`: the PLAIN client's password (never printed).
    pub plain_password: Option<Password>,
    /// `ZMQ_CURVE_SERVER`: act as a CURVE server (needs `curve_secretkey`).
    #[cfg(feature = "curve")]
    pub curve_server: bool,
    /// `ZMQ_CURVE_PUBLICKEY`: our long-term public key (checked against the secret
    /// key when both are set).
    #[cfg(feature = "curve")]
    pub curve_publickey: Option<PublicKey>,
    /// `ZMQ_CURVE_SECRETKEY`: our long-term secret key (never printed).
    #[cfg(feature = "curve")]
    pub curve_secretkey: Option<SecretKey>,
    /// `ZMQ_CURVE_SERVERKEY`: act as a CURVE client of the server with this key.
    #[cfg(feature = "curve")]
    pub curve_serverkey: Option<PublicKey>,
    /// `ZMQ_ZAP_DOMAIN`: the domain put in ZAP requests; under NULL, setting it turns
    /// authentication on.
    pub zap_domain: Option<Bytes>,
    /// `ZMQ_ZAP_ENFORCE_DOMAIN`: authenticate every peer, and refuse all of them when
    /// there is no authenticator (off).
    pub zap_enforce_domain: bool,
    /// Decides this socket's ZAP requests (the role of libzmq's handler on
    /// `inproc://zeromq.zap.01`); none by default.
    pub authenticator: Option<Authenticator>,
}

impl Default for SocketOptions {
    fn default() -> Self {
        SocketOptions {
            sndhwm: 1000,
            rcvhwm: 1000,
            routing_id: None,
            reconnect_ivl: Duration::from_millis(100),
            reconnect_ivl_max: None,
            reconnect_stop: ReconnectStop::default(),
            handshake_ivl: Some(Duration::from_secs(30)),
            heartbeat_ivl: None,
            heartbeat_ttl: None,
            heartbeat_timeout: None,
            max_msg_size: None,
            linger: None,
            router_mandatory: false,
            router_handover: false,
            connect_routing_id: None,
            probe_router: false,
            xpub_verbose: false,
            xpub_verboser: false,
            xpub_welcome_msg: None,
            xpub_nodrop: false,
            invert_matching: false,
            conflate: false,
            xpub_manual: false,
            router_notify: RouterNotify {
                connect: false,
                disconnect: false,
            },
            immediate: false,
            req_relaxed: false,
            req_correlate: false,
            tcp: TcpOptions::default(),
            ipv6: false,
            buffers: BufferConfig::default(),
            plain_server: false,
            plain_username: None,
            plain_password: None,
            #[cfg(feature = "curve")]
            curve_server: false,
            #[cfg(feature = "curve")]
            curve_publickey: None,
            #[cfg(feature = "curve")]
            curve_secretkey: None,
            #[cfg(feature = "curve")]
            curve_serverkey: None,
            zap_domain: None,
            zap_enforce_domain: false,
            authenticator: None,
        }
    }
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty => $conv:expr;)*) => {$(
        $(#[$doc])*
        pub fn $name(mut self, value: $ty) -> Self {
            self.$name = $conv(value);
            self
        }
    )*};
}

impl SocketOptions {
    setters! {
        /// Sets `ZMQ_SNDHWM`.
        sndhwm: usize => |v| v;
        /// Sets `ZMQ_RCVHWM`.
        rcvhwm: usize => |v| v;
        /// Sets `ZMQ_RECONNECT_IVL`.
        reconnect_ivl: Duration => |v| v;
        /// Sets `ZMQ_RECONNECT_IVL_MAX`.
        reconnect_ivl_max: Duration => Some;
        /// Sets `ZMQ_RECONNECT_STOP`.
        reconnect_stop: ReconnectStop => |v| v;
        /// Sets `ZMQ_HANDSHAKE_IVL` (`None` disables the deadline).
        handshake_ivl: Option<Duration> => |v| v;
        /// Sets `ZMQ_HEARTBEAT_IVL`.
        heartbeat_ivl: Duration => Some;
        /// Sets `ZMQ_HEARTBEAT_TTL`.
        heartbeat_ttl: Duration => Some;
        /// Sets `ZMQ_HEARTBEAT_TIMEOUT`.
        heartbeat_timeout: Duration => Some;
        /// Sets `ZMQ_MAXMSGSIZE`.
        max_msg_size: u64 => Some;
        /// Sets `ZMQ_LINGER` (`None` waits until everything is written).
        linger: Option<Duration> => |v| v;
        /// Sets `ZMQ_ROUTER_MANDATORY`.
        router_mandatory: bool => |v| v;
        /// Sets `ZMQ_ROUTER_HANDOVER`.
        router_handover: bool => |v| v;
        /// Sets `ZMQ_PROBE_ROUTER`.
        probe_router: bool => |v| v;
        /// Sets `ZMQ_XPUB_VERBOSE`.
        xpub_verbose: bool => |v| v;
        /// Sets `ZMQ_XPUB_VERBOSER`.
        xpub_verboser: bool => |v| v;
        /// Sets `ZMQ_XPUB_NODROP`.
        xpub_nodrop: bool => |v| v;
        /// Sets `ZMQ_INVERT_MATCHING`.
        invert_matching: bool => |v| v;
        /// Sets `ZMQ_CONFLATE`.
        conflate: bool => |v| v;
        /// Sets `ZMQ_XPUB_MANUAL`.
        xpub_manual: bool => |v| v;
        /// Sets `ZMQ_ROUTER_NOTIFY`.
        router_notify: RouterNotify => |v| v;
        /// Sets `ZMQ_REQ_RELAXED`.
        req_relaxed: bool => |v| v;
        /// Sets `ZMQ_REQ_CORRELATE`.
        req_correlate: bool => |v| v;
        /// Sets the TCP socket options.
        tcp: TcpOptions => |v| v;
        /// Sets `ZMQ_IPV6`.
        ipv6: bool => |v| v;
        /// Sets `ZMQ_IMMEDIATE`.
        immediate: bool => |v| v;
        /// Sets the IO buffer sizes.
        buffers: BufferConfig => |v| v;
        /// Sets `ZMQ_PLAIN_SERVER`.
        plain_server: bool => |v| v;
        /// Sets `ZMQ_ZAP_ENFORCE_DOMAIN`.
        zap_enforce_domain: bool => |v| v;
        /// Sets the authenticator that decides ZAP requests.
        authenticator: Authenticator => Some;
    }

    /// Sets `ZMQ_PLAIN_USERNAME`: the socket becomes a PLAIN client.
    pub fn plain_username(mut self, username: impl Into<Bytes>) -> Self {
        self.plain_username = Some(username.into());
        self
    }

    /// Sets `ZMQ_PLAIN_PASSWORD`.
    pub fn plain_password(mut self, password: impl Into<Vec<u8>>) -> Self {
        self.plain_password = Some(Password::new(password));
        self
    }

    /// Sets `ZMQ_CONNECT_ROUTING_ID` for the socket's first `connect`.
    pub fn connect_routing_id(mut self, routing_id: impl Into<Bytes>) -> Self {
        self.connect_routing_id = Some(routing_id.into());
        self
    }

    /// Sets `ZMQ_XPUB_WELCOME_MSG`.
    pub fn xpub_welcome_msg(mut self, message: impl Into<Bytes>) -> Self {
        self.xpub_welcome_msg = Some(message.into());
        self
    }

    /// Sets `ZMQ_ZAP_DOMAIN`.
    pub fn zap_domain(mut self, domain: impl Into<Bytes>) -> Self {
        self.zap_domain = Some(domain.into());
        self
    }

    /// Sets `ZMQ_CURVE_SERVER`.
    #[cfg(feature = "curve")]
    pub fn curve_server(mut self, on: bool) -> Self {
        self.curve_server = on;
        self
    }

    /// Sets `ZMQ_CURVE_PUBLICKEY`.
    #[cfg(feature = "curve")]
    pub fn curve_publickey(mut self, key: PublicKey) -> Self {
        self.curve_publickey = Some(key);
        self
    }

    /// Sets `ZMQ_CURVE_SECRETKEY`.
    #[cfg(feature = "curve")]
    pub fn curve_secretkey(mut self, key: SecretKey) -> Self {
        self.curve_secretkey = Some(key);
        self
    }

    /// Sets `ZMQ_CURVE_SERVERKEY`: the socket becomes a CURVE client.
    #[cfg(feature = "curve")]
    pub fn curve_serverkey(mut self, key: PublicKey) -> Self {
        self.curve_serverkey = Some(key);
        self
    }

    /// Sets `ZMQ_CURVE_PUBLICKEY` and `ZMQ_CURVE_SECRETKEY` from a pair.
    #[cfg(feature = "curve")]
    pub fn curve_keypair(self, pair: KeyPair) -> Self {
        self.curve_publickey(pair.public)
            .curve_secretkey(pair.secret.clone())
    }

    /// The mechanism these options select, as libzmq picks it: CURVE when
    /// `curve_server` or `curve_serverkey` is set, else PLAIN when `plain_server` or a
    /// user name or password is set, else NULL.
    ///
    /// # Errors
    /// [`ProtocolError::InvalidOption`] for CURVE without a secret key, or with a
    /// public key that is not the secret key's.
    pub fn security(&self) -> Result<Security, ProtocolError> {
        #[cfg(feature = "curve")]
        if self.curve_server || self.curve_serverkey.is_some() {
            return self.curve_security();
        }
        if self.plain_server {
            return Ok(Security::PlainServer);
        }
        if self.plain_username.is_some() || self.plain_password.is_some() {
            return Ok(Security::PlainClient {
                username: self.plain_username.clone().unwrap_or_default(),
                password: self.plain_password.clone().unwrap_or(Password::new([])),
            });
        }
        Ok(Security::Null)
    }

    #[cfg(feature = "curve")]
    fn curve_security(&self) -> Result<Security, ProtocolError> {
        let secret = self
            .curve_secretkey
            .clone()
            .ok_or(ProtocolError::InvalidOption("CURVE needs curve_secretkey"))?;
        let keys = KeyPair::from_secret(secret);
        if self
            .curve_publickey
            .is_some_and(|public| public != keys.public)
        {
            return Err(ProtocolError::InvalidOption(
                "curve_publickey is not the public key of curve_secretkey",
            ));
        }
        Ok(match self.curve_serverkey {
            Some(server_key) if !self.curve_server => Security::CurveClient { server_key, keys },
            _ => Security::CurveServer { keys },
        })
    }

    /// Sets `ZMQ_ROUTING_ID`.
    pub fn routing_id(mut self, id: impl Into<Bytes>) -> Self {
        self.routing_id = Some(id.into());
        self
    }

    /// The per-connection protocol configuration these options imply.
    pub(crate) fn session_config(
        &self,
        socket_type: SocketType,
    ) -> Result<SessionConfig, ProtocolError> {
        Ok(SessionConfig {
            socket_type,
            routing_id: self.routing_id.clone(),
            max_msg_size: self.max_msg_size,
            handshake_ivl: self.handshake_ivl,
            heartbeat_ivl: self.heartbeat_ivl,
            heartbeat_ttl: self.heartbeat_ttl,
            heartbeat_timeout: self.heartbeat_timeout,
            security: self.security()?,
            zap_domain: self.zap_domain.clone().unwrap_or_default(),
            zap_enforce_domain: self.zap_enforce_domain,
        })
    }
}
