//! Sockets: one type per ZeroMQ socket kind, all built on [`Socket`].
//!
//! Every socket is used from one compio runtime thread (as a libzmq socket is used
//! from one thread); `send` and `recv` take `&self`, so one task may receive while
//! another sends. Both are cancel-safe: a `send` or `recv` future dropped before it
//! completes has queued or taken nothing.

mod bridge;
mod budget;
pub mod context;
mod dealer;
pub mod handle;
mod pair;
pub mod proxy;
mod publish;
mod pull;
mod push;
mod rep;
mod req;
mod router;
mod stream;
mod subscribe;
mod xpub;
mod xsub;

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll, ready};

pub use crate::engine::SocketStats;
pub use crate::engine::monitor::{HandshakeFailure, MONITOR_CAPACITY, Monitor, SocketEvent};
pub use context::{Context, ContextBuilder};
pub use dealer::DealerSocket;
pub use handle::SocketHandle;
pub use pair::PairSocket;
pub use proxy::{ProxyStats, proxy, proxy_blocking, proxy_steerable};
pub use publish::PubSocket;
pub use pull::PullSocket;
pub use push::PushSocket;
pub use rep::RepSocket;
pub use req::ReqSocket;
pub use router::RouterSocket;
pub use subscribe::SubSocket;
pub use xpub::XPubSocket;
pub use xsub::XSubSocket;

use bytes::Bytes;

use crate::config::SocketOptions;
use crate::driver::transport;
use crate::endpoint::Endpoint;
use crate::engine::Engine;
use crate::engine::notify::{Listener, Stop, YieldNow};
pub use crate::engine::state::{RECENT_ERRORS, RecentError};
use crate::error::Error;
use crate::proto::message::Message;
use crate::proto::socket_type::SocketType;

#[derive(Debug)]
struct EndpointEntry {
    /// As the caller wrote it, and as bound (ephemeral port filled in).
    names: [String; 2],
    stop: Rc<Stop>,
    /// Made by `connect` (not `bind`).
    connecting: bool,
}

/// A socket of any type: what [`ReqSocket`], [`RouterSocket`], ... wrap.
///
/// A socket lives on the compio runtime thread that binds or connects it (it is not
/// `Send`): its connections are tasks of that runtime.
///
/// ```
/// use monocoque_zmtp::socket::Socket;
/// use monocoque_zmtp::proto::socket_type::SocketType;
///
/// compio::runtime::Runtime::new().unwrap().block_on(async {
///     let pull = Socket::new(SocketType::Pull);
///     let endpoint = pull.bind("tcp://127.0.0.1:0").await.unwrap();
///     let push = Socket::new(SocketType::Push);
///     push.connect(&endpoint).await.unwrap();
///     push.send("hello").await.unwrap();
///     assert_eq!(&pull.recv().await.unwrap()[0][..], b"hello");
/// });
/// ```
#[derive(Debug)]
pub struct Socket {
    engine: Rc<Engine>,
    endpoints: RefCell<Vec<EndpointEntry>>,
    /// `ZMQ_CONNECT_ROUTING_ID` for the next `connect` (ROUTER).
    connect_routing_id: RefCell<Option<Bytes>>,
    /// What `send` queued since it last let other tasks run.
    budget: budget::SendBudget,
}

/// The future of [`Socket::recv`], written out so that its `poll` inlines into the
/// caller's: a message then goes from its peer's queue to the caller without a trip
/// through the future's output in memory, which an `async fn` (polled through a
/// call) costs on every message.
struct Recv<'a> {
    socket: &'a Socket,
    /// Armed when a look found nothing: fires once a message may have arrived.
    ready: Option<Listener<'a>>,
}

impl Future for Recv<'_> {
    type Output = Result<Message, Error>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let socket = self.socket;
        loop {
            if let Some(ready) = self.ready.as_mut() {
                ready!(Pin::new(ready).poll(cx));
                self.ready = None;
            }
            if socket.engine.shutdown.is_stopped() {
                return Poll::Ready(Err(Error::Closed));
            }
            // Listen before looking, so a message queued in between is not missed.
            let ready = socket.engine.recv_ready.listen();
            // The message comes from its peer's queue straight into this slot.
            let mut slot = None;
            if let Err(err) = socket.engine.recv_into(&mut slot) {
                return Poll::Ready(Err(err));
            }
            if let Some(message) = slot {
                return Poll::Ready(Ok(message));
            }
            self.ready = Some(ready);
        }
    }
}

impl Socket {
    /// A socket of `socket_type` with libzmq's default options.
    pub fn new(socket_type: SocketType) -> Socket {
        Self::with_options(socket_type, SocketOptions::default())
    }

    /// A socket of `socket_type` with `options`.
    pub fn with_options(socket_type: SocketType, options: SocketOptions) -> Socket {
        Self::with_names(
            socket_type,
            options,
            crate::engine::link::Names::of_thread(),
        )
    }

    /// A socket on this thread (not on one of `context`'s I/O threads) that shares
    /// `context`'s inproc names: it joins the context's handles over `inproc://`, as
    /// two sockets of one libzmq context do. It stays the caller's to close;
    /// [`Context::terminate`] does not close it.
    ///
    /// ```
    /// use monocoque_zmtp::proto::socket_type::SocketType;
    /// use monocoque_zmtp::socket::{Context, Socket};
    /// use monocoque_zmtp::config::SocketOptions;
    ///
    /// let context = Context::new()?;
    /// let pull = context.socket(SocketType::Pull)?;
    /// futures::executor::block_on(pull.bind("inproc://jobs"))?;
    /// compio::runtime::Runtime::new()?.block_on(async {
    ///     let push = Socket::in_context(&context, SocketType::Push, SocketOptions::default());
    ///     push.connect("inproc://jobs").await?;
    ///     push.send("job").await?;
    ///     // The handle's future runs on this runtime as on any other.
    ///     assert_eq!(&pull.recv().await?[0][..], b"job");
    ///     Ok::<(), monocoque_zmtp::error::Error>(())
    /// })?;
    /// context.terminate();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn in_context(
        context: &Context,
        socket_type: SocketType,
        options: SocketOptions,
    ) -> Socket {
        Self::with_names(socket_type, options, context.names())
    }

    /// A socket whose inproc names are `names` (its context's).
    pub(crate) fn with_names(
        socket_type: SocketType,
        options: SocketOptions,
        names: std::sync::Arc<crate::engine::link::Names>,
    ) -> Socket {
        Socket {
            connect_routing_id: RefCell::new(options.connect_routing_id.clone()),
            engine: Engine::with_names(socket_type, options, names),
            endpoints: RefCell::new(Vec::new()),
            budget: budget::SendBudget::default(),
        }
    }

    /// The socket's type.
    pub fn socket_type(&self) -> SocketType {
        self.engine.socket_type
    }

    /// The socket's options.
    pub fn options(&self) -> &SocketOptions {
        &self.engine.options
    }

    /// Binds to `endpoint` (`tcp://*:5555`, `tcp://127.0.0.1:0`, `ipc:///tmp/x`,
    /// `inproc://name`) and
    /// accepts any number of peers. Returns the endpoint actually bound, with an
    /// ephemeral port filled in (libzmq's `ZMQ_LAST_ENDPOINT`).
    ///
    /// # Errors
    ///
    /// [`Error::Endpoint`] for a malformed endpoint, [`Error::Io`] when the address
    /// cannot be bound (in use, not local, no permission) or an `inproc` name is
    /// taken, [`Error::Protocol`] when the socket's `routing_id` is invalid.
    ///
    /// # Panics
    ///
    /// When not awaited on a compio runtime thread (see [`Socket`]).
    pub async fn bind(&self, endpoint: &str) -> Result<String, Error> {
        self.check_options()?;
        crate::driver::runtime::log_current_driver();
        let parsed = Endpoint::parse(endpoint)?;
        let stop = Rc::new(Stop::default());
        let bound = match transport::bind(&self.engine, &parsed, stop.clone()).await {
            Ok(bound) => bound.to_string(),
            Err(err) => {
                self.engine.emit(|| SocketEvent::BindFailed {
                    endpoint: endpoint.to_string(),
                    error: err.to_string(),
                });
                return Err(err);
            }
        };
        self.engine.emit(|| SocketEvent::Listening {
            endpoint: bound.clone(),
        });
        self.endpoints.borrow_mut().push(EndpointEntry {
            names: [endpoint.to_string(), bound.clone()],
            stop,
            connecting: false,
        });
        Ok(bound)
    }

    /// Connects to `endpoint` in the background: succeeds before the peer exists,
    /// retries every `reconnect_ivl`, and reconnects whenever the connection is lost.
    ///
    /// # Errors
    ///
    /// [`Error::Endpoint`] for a malformed endpoint (or a wildcard host, which only
    /// `bind` takes), [`Error::Protocol`] when the socket's `routing_id` is invalid.
    /// An unreachable peer is no error: the socket keeps trying.
    ///
    /// # Panics
    ///
    /// When not awaited on a compio runtime thread: the connecting task is spawned
    /// on the current one.
    pub async fn connect(&self, endpoint: &str) -> Result<(), Error> {
        self.check_options()?;
        crate::driver::runtime::log_current_driver();
        let parsed = Endpoint::parse(endpoint)?.for_connect(endpoint)?;
        let stop = Rc::new(Stop::default());
        let routing_id = self.connect_routing_id.borrow().clone();
        // A named peer exists from the start even with `immediate`, to hold its name.
        let peer = if self.engine.options.immediate && routing_id.is_none() {
            None
        } else {
            Some(self.engine.add_connecting_peer(routing_id)?)
        };
        self.connect_routing_id.take();
        transport::spawn_connecter(&self.engine, parsed, stop.clone(), peer);
        self.endpoints.borrow_mut().push(EndpointEntry {
            names: [endpoint.to_string(), endpoint.to_string()],
            stop,
            connecting: true,
        });
        Ok(())
    }

    /// Sets `ZMQ_CONNECT_ROUTING_ID`: the routing id a ROUTER gives the peer of its
    /// next `connect`, so it can send to that peer by this name at once (messages
    /// queue until the connection completes, unless `immediate`), whatever Identity
    /// the peer announces; the peer keeps it across reconnects. Consumed by that
    /// connect, which fails if the id already names a peer.
    ///
    /// # Errors
    ///
    /// [`Error::NotSupported`] on a socket that is not a ROUTER, [`Error::Protocol`]
    /// for an id that is empty, longer than 255 bytes or starts with a zero byte.
    pub fn set_connect_routing_id(&self, routing_id: impl Into<Bytes>) -> Result<(), Error> {
        if self.engine.socket_type != SocketType::Router {
            return Err(Error::NotSupported {
                socket_type: self.engine.socket_type,
                operation: "set connect_routing_id",
            });
        }
        let routing_id = routing_id.into();
        crate::engine::routing::check_connect_routing_id(&routing_id)?;
        *self.connect_routing_id.borrow_mut() = Some(routing_id);
        Ok(())
    }

    fn check_options(&self) -> Result<(), Error> {
        crate::proto::handshake::LocalIdentity {
            socket_type: self.engine.socket_type,
            routing_id: self.engine.options.routing_id.clone(),
        }
        .validate()?;
        self.engine.options.security()?;
        Ok(())
    }

    fn stop_endpoint(&self, endpoint: &str) -> Result<(), Error> {
        let mut endpoints = self.endpoints.borrow_mut();
        let Some(index) = endpoints
            .iter()
            .position(|e| e.names.iter().any(|n| n == endpoint))
        else {
            return Err(Error::UnknownEndpoint(endpoint.to_string()));
        };
        endpoints.remove(index).stop.stop();
        Ok(())
    }

    /// Stops listening on a bound endpoint and closes the connections it accepted.
    pub fn unbind(&self, endpoint: &str) -> Result<(), Error> {
        self.stop_endpoint(endpoint)
    }

    /// Stops connecting to an endpoint and closes its connection; messages queued for
    /// it are dropped.
    pub fn disconnect(&self, endpoint: &str) -> Result<(), Error> {
        self.stop_endpoint(endpoint)
    }

    /// Sends a message by the socket type's rule. Waits while no peer can take it
    /// (PUSH, DEALER, REQ, PAIR at their high-water marks or with no peer); PUB,
    /// XPUB and ROUTER never wait.
    ///
    /// # Errors
    ///
    /// [`Error::NotSupported`] on a socket type that does not send (PULL, SUB),
    /// [`Error::InvalidState`] when REQ or REP must receive first,
    /// [`Error::Protocol`] for a message with no frames (or a ROUTER message with
    /// nothing after the routing id), [`Error::HostUnreachable`] for a ROUTER with
    /// `router_mandatory` and an unknown routing id, [`Error::Closed`] after `close`.
    pub async fn send(&self, message: impl Into<Message>) -> Result<(), Error> {
        let message = message.into();
        // Yield before queuing (never after), so a send dropped during the yield has
        // queued nothing.
        if self.yield_due(message.byte_len()) {
            YieldNow::default().await;
        }
        // The message stays in its slot until a peer takes it.
        let mut slot = Some(message);
        loop {
            let ready = self.engine.send_ready.listen();
            self.offer(&mut slot)?;
            if slot.is_none() {
                return Ok(());
            }
            self.budget.restart();
            ready.await;
        }
    }

    /// The messages this socket receives, as a [`futures::Stream`]: each item is what
    /// [`recv`](Self::recv) returns, and the stream ends when the socket is closed.
    ///
    /// ```no_run
    /// use futures::StreamExt;
    /// use monocoque_zmtp::socket::PullSocket;
    ///
    /// # #[compio::main] async fn main() {
    /// let pull = PullSocket::new();
    /// pull.bind("tcp://127.0.0.1:5557").await.unwrap();
    /// let mut first_ten = pull.as_socket().stream().take(10);
    /// while let Some(message) = first_ten.next().await {
    ///     println!("{:?}", message.unwrap());
    /// }
    /// # }
    /// ```
    pub fn stream(&self) -> impl futures::Stream<Item = Result<Message, Error>> + Unpin + '_ {
        stream::messages(self, |socket| async move { (socket.recv().await, socket) })
    }

    /// A [`futures::Sink`] that sends each message with [`send`](Self::send), one at a
    /// time.
    pub fn sink(&self) -> impl futures::Sink<Message, Error = Error> + Unpin + '_ {
        stream::sender(self, |socket, message| async move {
            socket.send(message).await.map(|()| socket)
        })
    }

    /// Receives the next message by the socket type's rule, waiting until one arrives.
    ///
    /// # Errors
    ///
    /// [`Error::NotSupported`] on a socket type that does not receive (PUSH, PUB),
    /// [`Error::InvalidState`] when REQ or REP must send first, [`Error::Closed`]
    /// after `close`.
    pub fn recv(&self) -> impl Future<Output = Result<Message, Error>> + '_ {
        Recv {
            socket: self,
            ready: None,
        }
    }

    /// Counts a send of `bytes` against the yield budget; true when the sender should
    /// let other tasks run first (see [`budget`]).
    pub(crate) fn yield_due(&self, bytes: usize) -> bool {
        let batch = self.engine.options.buffers.write_batch_size;
        self.budget.yield_due(bytes, batch)
    }

    /// Sends the message in `slot` if a peer can take it now, without waiting (for a
    /// handle's I/O thread, which sends a batch in one go): the slot is emptied once
    /// the message is queued, and keeps it when [`send`](Self::send) would wait. The
    /// caller yields as `send` does, by [`yield_due`](Self::yield_due).
    pub(crate) fn offer(&self, slot: &mut Option<Message>) -> Result<(), Error> {
        if self.engine.shutdown.is_stopped() {
            return Err(Error::Closed);
        }
        let entries = self.engine.offer(slot)?;
        self.budget.queued(entries);
        Ok(())
    }

    /// Receives a message if one is ready, without waiting (for a handle's I/O
    /// thread, which takes what is ready in one go).
    pub(crate) fn try_recv(&self) -> Result<Option<Message>, Error> {
        if self.engine.shutdown.is_stopped() {
            return Err(Error::Closed);
        }
        self.engine.try_recv()
    }

    /// Whether receiving is the socket's turn now (a handle's I/O thread receives
    /// ahead for REQ and REP only then).
    pub(crate) fn recv_allowed(&self) -> bool {
        self.engine.recv_allowed()
    }

    /// Subscribes to messages starting with `topic` (SUB and XSUB); on an XPUB with
    /// `xpub_manual`, sends them to the subscriber whose subscription message `recv`
    /// returned last.
    pub fn subscribe(&self, topic: impl AsRef<[u8]>) -> Result<(), Error> {
        self.change_subscription(topic.as_ref(), true)
    }

    /// Cancels one subscription to `topic` (SUB and XSUB: subscriptions are counted;
    /// XPUB with `xpub_manual`).
    pub fn unsubscribe(&self, topic: impl AsRef<[u8]>) -> Result<(), Error> {
        self.change_subscription(topic.as_ref(), false)
    }

    fn change_subscription(&self, topic: &[u8], on: bool) -> Result<(), Error> {
        self.engine.change_subscription(topic, on)
    }

    /// Number of peers whose handshake completed and that are still connected.
    pub fn peer_count(&self) -> usize {
        self.engine.peer_count()
    }

    /// Waits until the number of connected peers (handshake completed) satisfies
    /// `condition`, as libzmq's monitor events let a program wait for connections.
    ///
    /// ```
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// use monocoque_zmtp::socket::Socket;
    /// use monocoque_zmtp::proto::socket_type::SocketType;
    /// let pull = Socket::new(SocketType::Pull);
    /// let endpoint = pull.bind("tcp://127.0.0.1:0").await.unwrap();
    /// let push = Socket::new(SocketType::Push);
    /// push.connect(&endpoint).await.unwrap();
    /// pull.wait_for_peers(|n| n == 1).await;
    /// assert_eq!(pull.peer_count(), 1);
    /// # });
    /// ```
    pub async fn wait_for_peers(&self, condition: impl Fn(usize) -> bool) {
        loop {
            let changed = self.engine.peers_changed.listen();
            if condition(self.peer_count()) {
                return;
            }
            changed.await;
        }
    }

    /// The last protocol errors (up to [`RECENT_ERRORS`], oldest first) that made the
    /// socket close a connection: which peer input was refused and why. Each carries a
    /// [sequence number](RecentError::sequence) so a poller can tell new entries from
    /// ones it has seen once the list is full.
    pub fn recent_errors(&self) -> Vec<RecentError> {
        self.engine.recent_errors()
    }

    /// Counters of handshakes, protocol errors, disconnects and dropped messages.
    pub fn stats(&self) -> SocketStats {
        self.engine.stats()
    }

    /// Starts monitoring the socket (libzmq's `zmq_socket_monitor`, typed): the
    /// returned [`Monitor`] receives a [`SocketEvent`] for each endpoint bound or
    /// closed, connection made, accepted, delayed or retried, handshake succeeded or
    /// failed (with the reason), and disconnection, each with the endpoint and the
    /// peer's address. A previous monitor of this socket stops. The monitor is
    /// `Send + Sync` and a `futures::Stream`; a slow reader never blocks the socket
    /// (events beyond [`MONITOR_CAPACITY`]
    /// are counted as dropped).
    pub fn monitor(&self) -> Monitor {
        self.engine.monitor()
    }

    /// Closes the socket, first waiting up to `linger` for queued messages to be
    /// written (until they are, with the default `linger` of `None`), then until its
    /// listening sockets are closed, so that the address is free when this returns
    /// (with io_uring a listener is closed asynchronously; that takes a turn of the
    /// runtime, not a timeout).
    ///
    /// # Panics
    ///
    /// When not awaited on the compio runtime thread the socket was bound on.
    pub async fn close(self) {
        let deadline = self
            .engine
            .options
            .linger
            .map(|l| std::time::Instant::now() + l);
        flushed_or_past(&self.engine, deadline).await;
        // Stop everything, then wait until the listening sockets are really closed,
        // so the process may exit and another bind the same address at once.
        self.stop_all();
        loop {
            let closed = self.engine.listener_closed.listen();
            if self.engine.listeners_open() == 0 {
                break;
            }
            closed.await;
        }
        self.engine.stop_monitor();
        drop(self);
    }

    fn stop_all(&self) {
        for entry in self.endpoints.borrow_mut().drain(..) {
            entry.stop.stop();
        }
        self.engine.shut_down();
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        if !self.linger_in_background() {
            self.stop_all();
            self.engine.stop_monitor();
        }
    }
}

impl Socket {
    /// A dropped socket's connecting endpoints keep (re)connecting until what was
    /// queued is written or `linger` passed, as libzmq's do while their context
    /// lives, so messages for a peer that comes up later still reach it; the bound
    /// endpoints stop at once. Returns false when there is nothing to wait for, or no
    /// runtime to wait on.
    fn linger_in_background(&self) -> bool {
        let linger = self.engine.options.linger;
        let connecting = self.endpoints.borrow().iter().any(|e| e.connecting);
        if linger == Some(std::time::Duration::ZERO)
            || !connecting
            || self.engine.all_flushed()
            || compio::runtime::Runtime::try_with_current(|_| ()).is_err()
        {
            return false;
        }
        let (connects, binds): (Vec<_>, Vec<_>) = self
            .endpoints
            .borrow_mut()
            .drain(..)
            .partition(|e| e.connecting);
        binds.iter().for_each(|entry| entry.stop.stop());
        let engine = self.engine.clone();
        let deadline = linger.map(|l| std::time::Instant::now() + l);
        crate::driver::spawn(async move {
            flushed_or_past(&engine, deadline).await;
            connects.iter().for_each(|entry| entry.stop.stop());
            engine.shut_down();
            engine.stop_monitor();
        });
        true
    }
}

/// Waits until every queued message was written, or `deadline` passed.
async fn flushed_or_past(engine: &Engine, deadline: Option<std::time::Instant>) {
    loop {
        let flushed = engine.flushed.listen();
        if engine.all_flushed() {
            return;
        }
        let timer = crate::driver::sleep_until(deadline);
        futures::select_biased! {
            () = futures::FutureExt::fuse(flushed) => {}
            () = futures::FutureExt::fuse(timer) => return,
        }
    }
}

/// Defines a socket type's public wrapper around [`Socket`].
macro_rules! socket_wrapper {
    ($(#[$doc:meta])* $name:ident, $kind:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name {
            inner: $crate::socket::Socket,
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl $name {
            /// A socket with libzmq's default options.
            pub fn new() -> Self {
                Self::with_options($crate::config::SocketOptions::default())
            }

            /// A socket with `options`.
            pub fn with_options(options: $crate::config::SocketOptions) -> Self {
                Self {
                    inner: $crate::socket::Socket::with_options($kind, options),
                }
            }

            /// A socket on this thread with `options` that shares `context`'s inproc
            /// names; see [`Socket::in_context`]($crate::socket::Socket::in_context).
            pub fn in_context(
                context: &$crate::socket::Context,
                options: $crate::config::SocketOptions,
            ) -> Self {
                Self {
                    inner: $crate::socket::Socket::in_context(context, $kind, options),
                }
            }

            /// Binds to an endpoint; see [`Socket::bind`]($crate::socket::Socket::bind).
            pub async fn bind(&self, endpoint: &str) -> Result<String, $crate::error::Error> {
                self.inner.bind(endpoint).await
            }

            /// Connects to an endpoint; see
            /// [`Socket::connect`]($crate::socket::Socket::connect).
            pub async fn connect(&self, endpoint: &str) -> Result<(), $crate::error::Error> {
                self.inner.connect(endpoint).await
            }

            /// Stops listening on an endpoint.
            pub fn unbind(&self, endpoint: &str) -> Result<(), $crate::error::Error> {
                self.inner.unbind(endpoint)
            }

            /// Stops connecting to an endpoint.
            pub fn disconnect(&self, endpoint: &str) -> Result<(), $crate::error::Error> {
                self.inner.disconnect(endpoint)
            }

            /// Peers connected with a completed handshake.
            pub fn peer_count(&self) -> usize {
                self.inner.peer_count()
            }

            /// Waits until the number of connected peers satisfies `condition`; see
            /// [`Socket::wait_for_peers`]($crate::socket::Socket::wait_for_peers).
            pub async fn wait_for_peers(&self, condition: impl Fn(usize) -> bool) {
                self.inner.wait_for_peers(condition).await
            }

            /// The last protocol errors that closed a connection; see
            /// [`Socket::recent_errors`]($crate::socket::Socket::recent_errors).
            pub fn recent_errors(&self) -> Vec<$crate::socket::RecentError> {
                self.inner.recent_errors()
            }

            /// Error and drop counters.
            pub fn stats(&self) -> $crate::socket::SocketStats {
                self.inner.stats()
            }

            /// Starts monitoring the socket; see
            /// [`Socket::monitor`]($crate::socket::Socket::monitor).
            pub fn monitor(&self) -> $crate::socket::Monitor {
                self.inner.monitor()
            }

            /// Closes the socket after up to `linger` for queued messages.
            pub async fn close(self) {
                self.inner.close().await
            }

            /// The untyped socket underneath.
            pub fn as_socket(&self) -> &$crate::socket::Socket {
                &self.inner
            }
        }
    };
}

/// Adds `send` to a wrapper.
macro_rules! socket_send {
    ($name:ident, $doc:literal) => {
        impl $name {
            #[doc = $doc]
            pub async fn send(
                &self,
                message: impl Into<$crate::proto::message::Message>,
            ) -> Result<(), $crate::error::Error> {
                self.inner.send(message).await
            }

            /// A [`futures::Sink`] of messages; see
            /// [`Socket::sink`]($crate::socket::Socket::sink).
            pub fn sink(
                &self,
            ) -> impl futures::Sink<$crate::proto::message::Message, Error = $crate::error::Error>
            + Unpin
            + '_ {
                self.inner.sink()
            }
        }
    };
}

/// Adds `recv` to a wrapper.
macro_rules! socket_recv {
    ($name:ident, $doc:literal) => {
        impl $name {
            #[doc = $doc]
            pub async fn recv(
                &self,
            ) -> Result<$crate::proto::message::Message, $crate::error::Error> {
                self.inner.recv().await
            }

            /// The received messages as a [`futures::Stream`]; see
            /// [`Socket::stream`]($crate::socket::Socket::stream).
            pub fn stream(
                &self,
            ) -> impl futures::Stream<
                Item = Result<$crate::proto::message::Message, $crate::error::Error>,
            > + Unpin
            + '_ {
                self.inner.stream()
            }
        }
    };
}

pub(crate) use {socket_recv, socket_send, socket_wrapper};
