//! Socket options, with libzmq's names and defaults, and [`BufferConfig`].

use std::time::Duration;

use bytes::Bytes;

use crate::proto::session::SessionConfig;
use crate::proto::socket_type::SocketType;

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
    /// `ZMQ_HANDSHAKE_IVL`: time allowed for the handshake (30 s; `None` disables).
    pub handshake_ivl: Option<Duration>,
    /// `ZMQ_HEARTBEAT_IVL`: PING interval (`None`: no heartbeats, the default).
    pub heartbeat_ivl: Option<Duration>,
    /// `ZMQ_HEARTBEAT_TTL`: TTL announced in our PINGs.
    pub heartbeat_ttl: Option<Duration>,
    /// `ZMQ_HEARTBEAT_TIMEOUT`: silence tolerated after a PING (defaults to the interval).
    pub heartbeat_timeout: Option<Duration>,
    /// `ZMQ_MAXMSGSIZE`: largest inbound message (`None`: unlimited, the default).
    pub max_msg_size: Option<u64>,
    /// `ZMQ_LINGER`: how long [`close`](crate::socket::Socket::close) waits for queued
    /// messages to be written (`None`: until they are, libzmq's default of -1).
    pub linger: Option<Duration>,
    /// `ZMQ_ROUTER_MANDATORY`: a ROUTER fails `send` to an unknown routing id instead
    /// of dropping the message (off).
    pub router_mandatory: bool,
    /// `ZMQ_IMMEDIATE`: queue messages only for completed connections (off: messages
    /// queue for a connecting peer too, as in libzmq).
    pub immediate: bool,
    /// The sizes of the connection's read pages and write batches (not a libzmq
    /// option).
    pub buffers: BufferConfig,
}

impl Default for SocketOptions {
    fn default() -> Self {
        SocketOptions {
            sndhwm: 1000,
            rcvhwm: 1000,
            routing_id: None,
            reconnect_ivl: Duration::from_millis(100),
            reconnect_ivl_max: None,
            handshake_ivl: Some(Duration::from_secs(30)),
            heartbeat_ivl: None,
            heartbeat_ttl: None,
            heartbeat_timeout: None,
            max_msg_size: None,
            linger: None,
            router_mandatory: false,
            immediate: false,
            buffers: BufferConfig::default(),
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
        /// Sets `ZMQ_IMMEDIATE`.
        immediate: bool => |v| v;
        /// Sets the IO buffer sizes.
        buffers: BufferConfig => |v| v;
    }

    /// Sets `ZMQ_ROUTING_ID`.
    pub fn routing_id(mut self, id: impl Into<Bytes>) -> Self {
        self.routing_id = Some(id.into());
        self
    }

    /// The per-connection protocol configuration these options imply.
    pub(crate) fn session_config(&self, socket_type: SocketType) -> SessionConfig {
        SessionConfig {
            socket_type,
            routing_id: self.routing_id.clone(),
            max_msg_size: self.max_msg_size,
            handshake_ivl: self.handshake_ivl,
            heartbeat_ivl: self.heartbeat_ivl,
            heartbeat_ttl: self.heartbeat_ttl,
            heartbeat_timeout: self.heartbeat_timeout,
        }
    }
}
