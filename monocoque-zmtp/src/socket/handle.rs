//! [`SocketHandle`]: a socket used from any thread and any async runtime, or from
//! plain blocking code.
//!
//! A handle is a thin client of a [`Socket`] that lives on one of its [`Context`]'s
//! I/O threads; the socket's logic is written once, in the socket. Messages cross
//! through a bridge in batches (`socket/bridge.rs`). Handles are `Send`, `Sync` and
//! `Clone`: many tasks may send on one PUB; a socket closes when its last handle is
//! dropped or [`SocketHandle::close`] is called, spending its linger on the I/O
//! thread, never in the caller.
//!
//! [`Context`]: super::context::Context

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::channel::oneshot;
use futures::future::{Fuse, FusedFuture};

use super::Socket;
use super::bridge::{Batch, Bridge, Command};
use super::context::ContextInner;
use crate::engine::notify::YieldNow;
use crate::engine::{RecentError, SocketStats};
use crate::error::Error;
use crate::proto::error::ProtocolError;
use crate::proto::message::Message;
use crate::proto::socket_type::SocketType;

/// A socket usable from any thread: `Send + Sync + Clone`.
///
/// ```
/// use monocoque_zmtp::socket::context::Context;
/// use monocoque_zmtp::proto::socket_type::SocketType;
///
/// let context = Context::new()?;
/// let pull = context.socket(SocketType::Pull)?;
/// let push = context.socket(SocketType::Push)?;
/// futures::executor::block_on(async {
///     let endpoint = pull.bind("tcp://127.0.0.1:0").await?;
///     push.connect(&endpoint).await?;
///     push.send("from any thread").await?;
///     assert_eq!(&pull.recv().await?[0][..], b"from any thread");
///     Ok::<(), monocoque_zmtp::error::Error>(())
/// })?;
/// context.terminate();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct SocketHandle {
    inner: Arc<Closer>,
}

/// Closes the socket when the last handle goes.
#[derive(Debug)]
struct Closer {
    bridge: Arc<Bridge>,
    /// Keeps the context (and its I/O threads) alive while handles exist.
    _context: Arc<ContextInner>,
}

impl Drop for Closer {
    fn drop(&mut self) {
        let bridge = self.bridge.clone();
        off_panicking_thread(move || bridge.close());
    }
}

/// Runs `work` here, or on a thread of its own if this one is unwinding from a
/// panic: compio aborts the process when a thread that is panicking wakes one of
/// its tasks, and closing a socket wakes its I/O thread.
pub(crate) fn off_panicking_thread(work: impl FnOnce() + Send + 'static) {
    if std::thread::panicking() {
        let _ = std::thread::spawn(work).join();
    } else {
        work();
    }
}

impl SocketHandle {
    pub(crate) fn new(bridge: Arc<Bridge>, context: Arc<ContextInner>) -> SocketHandle {
        SocketHandle {
            inner: Arc::new(Closer {
                bridge,
                _context: context,
            }),
        }
    }

    fn bridge(&self) -> &Bridge {
        &self.inner.bridge
    }

    /// The socket's type.
    pub fn socket_type(&self) -> SocketType {
        self.bridge().socket_type
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Result<T, Error> {
        let (reply, answer) = oneshot::channel();
        self.bridge().command(make(reply))?;
        answer.await.map_err(|_| Error::Closed)
    }

    /// Binds to `endpoint`; see [`Socket::bind`].
    ///
    /// # Errors
    ///
    /// As [`Socket::bind`], and [`Error::Closed`] after `close`.
    pub async fn bind(&self, endpoint: &str) -> Result<String, Error> {
        self.ask(|reply| Command::Bind(endpoint.to_string(), reply))
            .await?
    }

    /// Connects to `endpoint` in the background; see [`Socket::connect`].
    ///
    /// # Errors
    ///
    /// As [`Socket::connect`], and [`Error::Closed`] after `close`.
    pub async fn connect(&self, endpoint: &str) -> Result<(), Error> {
        self.ask(|reply| Command::Connect(endpoint.to_string(), reply))
            .await?
    }

    /// Sets `ZMQ_CONNECT_ROUTING_ID` for the next `connect`; see
    /// [`Socket::set_connect_routing_id`].
    ///
    /// # Errors
    ///
    /// As [`Socket::set_connect_routing_id`], and [`Error::Closed`] after `close`.
    pub async fn set_connect_routing_id(
        &self,
        routing_id: impl Into<bytes::Bytes>,
    ) -> Result<(), Error> {
        let routing_id = routing_id.into();
        self.ask(|reply| Command::SetConnectRoutingId(routing_id, reply))
            .await?
    }

    /// Stops listening on a bound endpoint; see [`Socket::unbind`].
    ///
    /// # Errors
    ///
    /// [`Error::UnknownEndpoint`], [`Error::Closed`].
    pub async fn unbind(&self, endpoint: &str) -> Result<(), Error> {
        self.ask(|reply| Command::Unbind(endpoint.to_string(), reply))
            .await?
    }

    /// Stops connecting to an endpoint; see [`Socket::disconnect`].
    ///
    /// # Errors
    ///
    /// [`Error::UnknownEndpoint`], [`Error::Closed`].
    pub async fn disconnect(&self, endpoint: &str) -> Result<(), Error> {
        self.ask(|reply| Command::Disconnect(endpoint.to_string(), reply))
            .await?
    }

    /// Subscribes to `topic` (SUB, XSUB); on an XPUB with `xpub_manual`, sends `topic`
    /// to the subscriber whose subscription message `recv` returned last.
    ///
    /// # Errors
    ///
    /// [`Error::NotSupported`] on other socket types, [`Error::Closed`].
    pub async fn subscribe(&self, topic: impl AsRef<[u8]>) -> Result<(), Error> {
        let topic = topic.as_ref().to_vec();
        self.ask(|reply| Command::Subscribe(topic, true, reply))
            .await?
    }

    /// Cancels one subscription to `topic` (SUB, XSUB, XPUB with `xpub_manual`).
    ///
    /// # Errors
    ///
    /// [`Error::NotSupported`] on other socket types, [`Error::Closed`].
    pub async fn unsubscribe(&self, topic: impl AsRef<[u8]>) -> Result<(), Error> {
        let topic = topic.as_ref().to_vec();
        self.ask(|reply| Command::Subscribe(topic, false, reply))
            .await?
    }

    /// Counters of handshakes, protocol errors, disconnects and dropped messages.
    ///
    /// # Errors
    ///
    /// [`Error::Closed`] after `close`.
    pub async fn stats(&self) -> Result<SocketStats, Error> {
        Ok(self.ask(Command::Stats).await?.0)
    }

    /// The last protocol errors of the socket's peers, oldest first; see
    /// [`Socket::recent_errors`].
    ///
    /// # Errors
    ///
    /// [`Error::Closed`] after `close`.
    pub async fn recent_errors(&self) -> Result<Vec<RecentError>, Error> {
        self.ask(Command::RecentErrors).await
    }

    /// Starts monitoring the socket; see [`Socket::monitor`]. The monitor is read from
    /// any thread or runtime.
    ///
    /// # Errors
    ///
    /// [`Error::Closed`] after `close`.
    pub async fn monitor(&self) -> Result<crate::engine::monitor::Monitor, Error> {
        self.ask(Command::Monitor).await
    }

    /// Peers connected with a completed handshake.
    ///
    /// # Errors
    ///
    /// [`Error::Closed`] after `close`.
    pub async fn peer_count(&self) -> Result<usize, Error> {
        Ok(self.ask(Command::Stats).await?.1)
    }

    fn check_recv(&self) -> Result<(), Error> {
        let socket_type = self.socket_type();
        if matches!(socket_type, SocketType::Push | SocketType::Pub) {
            return Err(Error::NotSupported {
                socket_type,
                operation: "receive",
            });
        }
        Ok(())
    }

    fn check_send(&self, message: &Message) -> Result<(), Error> {
        let socket_type = self.socket_type();
        if matches!(socket_type, SocketType::Pull | SocketType::Sub) {
            return Err(Error::NotSupported {
                socket_type,
                operation: "send",
            });
        }
        if message.is_empty() {
            return Err(ProtocolError::EmptyMessage.into());
        }
        Ok(())
    }

    /// Sends a message by the socket type's rule; the future is `Send` and runs on
    /// any executor. It waits while the queue to the I/O thread is full (`sndhwm`
    /// messages); ROUTER with `router_mandatory` also waits for the socket's
    /// verdict. REQ and REP fail at once when it is not their turn to send.
    /// Cancel-safe: a future dropped before it queued the message has sent nothing.
    ///
    /// # Errors
    ///
    /// As [`Socket::send`].
    pub async fn send(&self, message: impl Into<Message>) -> Result<(), Error> {
        let message = message.into();
        self.check_send(&message)?;
        let bridge = self.bridge();
        let mut slot = Some(message);
        let number = poll_fn(|cx| bridge.poll_submit(cx, &mut slot)).await?;
        if bridge.confirms() {
            poll_fn(|cx| bridge.poll_verdict(cx, number)).await?;
        }
        Ok(())
    }

    /// Receives the next message by the socket type's rule; the future is `Send` and
    /// runs on any executor. Cancel-safe: a future dropped before it completed has
    /// taken nothing.
    ///
    /// # Errors
    ///
    /// As [`Socket::recv`].
    pub async fn recv(&self) -> Result<Message, Error> {
        self.check_recv()?;
        Receive {
            bridge: self.bridge(),
            counted: false,
        }
        .await
    }

    /// The messages this socket receives, as a [`futures::Stream`] that is `Send` and
    /// `'static` (it holds a clone of the handle): each item is what
    /// [`recv`](Self::recv) returns, and the stream ends when the socket is closed.
    ///
    /// The stream takes every message waiting at once and hands them out one by one,
    /// so a task that reads message after message pays for the handle's lock once per
    /// batch, not once per message: the fastest way to receive from async code. While
    /// it holds messages, other receivers of the socket get those that follow (up to
    /// `rcvhwm` more wait in the stream); what it holds when dropped goes back to the
    /// socket, in order. REQ, REP and a manual XPUB take one message at a time.
    ///
    /// ```no_run
    /// use futures::StreamExt;
    /// use monocoque_zmtp::proto::socket_type::SocketType;
    /// use monocoque_zmtp::socket::Context;
    ///
    /// # async fn run() -> Result<(), monocoque_zmtp::error::Error> {
    /// let context = Context::global()?;
    /// let pull = context.socket(SocketType::Pull)?;
    /// pull.bind("tcp://127.0.0.1:5557").await?;
    /// let mut texts = pull
    ///     .stream()
    ///     .map(|m| m.map(|m| String::from_utf8_lossy(&m[0]).into_owned()));
    /// while let Some(text) = texts.next().await {
    ///     println!("{}", text?);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn stream(
        &self,
    ) -> impl futures::Stream<Item = Result<Message, Error>> + Unpin + Send + 'static {
        Messages {
            handle: self.clone(),
            ready: VecDeque::new(),
            counted: false,
            ended: false,
        }
    }

    /// A [`futures::Sink`] that sends each message with [`send`](Self::send), one at a
    /// time; `Send` and `'static` (it holds a clone of the handle).
    pub fn sink(&self) -> impl futures::Sink<Message, Error = Error> + Unpin + Send + 'static {
        super::stream::sender(self.clone(), |handle, message| async move {
            handle.send(message).await.map(|()| handle)
        })
    }

    /// Queues a message if there is room now; gives it back otherwise.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send).
    pub fn try_send(&self, message: impl Into<Message>) -> Result<Option<Message>, Error> {
        let message = message.into();
        self.check_send(&message)?;
        let mut slot = Some(message);
        let waker = Waker::noop();
        let mut cx = TaskContext::from_waker(waker);
        match self.bridge().poll_submit(&mut cx, &mut slot) {
            Poll::Ready(Ok(_)) => Ok(None),
            Poll::Ready(Err(err)) => Err(err),
            Poll::Pending => Ok(slot),
        }
    }

    /// Takes a received message if one is waiting.
    ///
    /// # Errors
    ///
    /// As [`recv`](Self::recv).
    #[inline]
    pub fn try_recv(&self) -> Result<Option<Message>, Error> {
        let mut slot = None;
        self.take_waiting(&mut slot)?;
        Ok(slot)
    }

    /// Moves a message already waiting into `slot`, if there is one.
    #[inline]
    fn take_waiting(&self, slot: &mut Option<Message>) -> Result<(), Error> {
        self.check_recv()?;
        self.bridge().receive_into(slot)
    }

    /// Sends from code with no async runtime, waiting at most `timeout` (`None`:
    /// as long as it takes).
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send), and [`Error::TimedOut`] (the message was not sent).
    pub fn send_blocking(
        &self,
        message: impl Into<Message>,
        timeout: Option<Duration>,
    ) -> Result<(), Error> {
        let message = message.into();
        // Most sends find room: queue at once, without a future or a parking waker.
        if !self.bridge().confirms() {
            match self.try_send(message)? {
                None => return Ok(()),
                Some(back) => {
                    return block_on_until(self.send(back), timeout)
                        .unwrap_or(Err(Error::TimedOut));
                }
            }
        }
        block_on_until(self.send(message), timeout).unwrap_or(Err(Error::TimedOut))
    }

    /// Receives from code with no async runtime, waiting at most `timeout` (`None`:
    /// as long as it takes).
    ///
    /// # Errors
    ///
    /// As [`recv`](Self::recv), and [`Error::TimedOut`].
    #[inline]
    pub fn recv_blocking(&self, timeout: Option<Duration>) -> Result<Message, Error> {
        // A message already waiting is taken without a future or a parking waker.
        let mut slot = None;
        self.take_waiting(&mut slot)?;
        if let Some(message) = slot {
            return Ok(message);
        }
        block_on_until(self.recv(), timeout).unwrap_or(Err(Error::TimedOut))
    }

    /// Closes the socket without waiting: queued messages are still sent, within the
    /// socket's `linger`, by the I/O thread; [`Context::terminate`] waits for that.
    /// Other clones of this handle get [`Error::Closed`] from then on.
    ///
    /// [`Context::terminate`]: super::context::Context::terminate
    pub fn close(self) {
        self.bridge().close();
    }
}

/// A `recv` in progress: counted among the waiting receivers until it completes or
/// is dropped.
struct Receive<'a> {
    bridge: &'a Bridge,
    counted: bool,
}

impl Future for Receive<'_> {
    type Output = Result<Message, Error>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        this.bridge.poll_receive(cx, &mut this.counted)
    }
}

impl Drop for Receive<'_> {
    fn drop(&mut self) {
        if self.counted {
            self.bridge.stop_waiting();
        }
    }
}

/// [`SocketHandle::stream`]: hands out, from a queue of its own, what it took from
/// the socket at once.
struct Messages {
    handle: SocketHandle,
    ready: VecDeque<Result<Message, Error>>,
    /// Counted among the waiting receivers.
    counted: bool,
    /// The socket is closed and everything it received was handed out.
    ended: bool,
}

impl futures::Stream for Messages {
    type Item = Result<Message, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.ready.is_empty() && !this.ended {
            if let Err(err) = this.handle.check_recv() {
                return Poll::Ready(Some(Err(err)));
            }
            let bridge = this.handle.bridge();
            std::task::ready!(bridge.poll_receive_all(cx, &mut this.counted, &mut this.ready));
        }
        match this.ready.pop_front() {
            Some(Err(Error::Closed)) | None => {
                this.ended = true;
                Poll::Ready(None)
            }
            Some(received) => Poll::Ready(Some(received)),
        }
    }

    /// At least the messages the stream already holds.
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.ready.len(), None)
    }
}

impl Drop for Messages {
    fn drop(&mut self) {
        let bridge = self.handle.bridge();
        if self.counted {
            bridge.stop_waiting();
        }
        if !self.ready.is_empty() {
            // Giving back wakes the socket's other receivers.
            let mut ready = std::mem::take(&mut self.ready);
            let handle = self.handle.clone();
            off_panicking_thread(move || handle.bridge().give_back(&mut ready));
        }
    }
}

/// Wakes a thread parked in [`block_on_until`].
struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

thread_local! {
    /// This thread's waker for [`block_on_until`], made once: a blocking send or
    /// receive per message must not allocate one each time.
    static PARKER: Waker = Waker::from(Arc::new(Unpark(std::thread::current())));
}

/// Runs `future` on this thread until it completes or `timeout` passes (`None`).
pub(crate) fn block_on_until<F: Future>(future: F, timeout: Option<Duration>) -> Option<F::Output> {
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut future = pin!(future);
    PARKER.with(|waker| {
        let mut cx = TaskContext::from_waker(waker);
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return Some(output);
            }
            match deadline {
                None => std::thread::park(),
                Some(at) => {
                    let now = Instant::now();
                    if now >= at {
                        return None;
                    }
                    std::thread::park_timeout(at - now);
                }
            }
        }
    })
}

// ---- the I/O thread's side ----

/// Runs on the I/O thread: moves messages and commands between the bridge and the
/// socket until the socket is closed, then closes it (with its linger).
pub(crate) async fn pump(socket: Socket, bridge: Arc<Bridge>) {
    if let Some(runtime) = crate::driver::runtime::current_waker() {
        bridge.set_runtime(runtime);
    }
    serve(&socket, &bridge).await;
    socket.close().await;
    bridge.finished();
}

async fn serve(socket: &Socket, bridge: &Bridge) {
    let mut batch = Batch::default();
    // The previous batch's buffer, emptied, so buffers are reused, not reallocated.
    let mut spare: VecDeque<Message> = VecDeque::new();
    let mut commands = Vec::new();
    let mut sending = pin!(Fuse::terminated());
    let mut receiving = pin!(Fuse::terminated());
    loop {
        let seen = bridge.generation();
        let closing = bridge.take_work(&mut batch, &mut commands);
        for command in commands.drain(..) {
            run(socket, command).await;
        }
        if sending.is_terminated() && !batch.messages.is_empty() {
            let messages = Batch {
                first: batch.first,
                messages: std::mem::replace(&mut batch.messages, std::mem::take(&mut spare)),
            };
            sending.set(send_all(socket, messages, bridge.confirms()).fuse());
        }
        if closing && batch.messages.is_empty() && sending.is_terminated() {
            return;
        }
        let in_flight = !batch.messages.is_empty() || !sending.is_terminated();
        if receiving.is_terminated() && bridge.wants_message(socket.recv_allowed(), in_flight) {
            receiving.set(socket.recv().fuse());
        }
        let mut woken = pin!(poll_fn(|cx| bridge.poll_woken(cx, seen)).fuse());
        futures::select_biased! {
            (number, mut refused, emptied) = sending => {
                bridge.sent(number, &mut refused);
                spare = emptied;
            }
            received = receiving => deliver(socket, bridge, received),
            () = woken => {}
        }
    }
}

/// Sends a batch in order; returns the last message's number, the refusals to
/// report (only where sends are confirmed; others are logged) and the emptied
/// buffer.
async fn send_all(
    socket: &Socket,
    Batch {
        first,
        mut messages,
    }: Batch,
    confirms: bool,
) -> (u64, Vec<(u64, Error)>, VecDeque<Message>) {
    let mut last = 0;
    let mut refused = Vec::new();
    let mut next = first;
    while let Some(message) = messages.pop_front() {
        let number = next;
        next += 1;
        // Most messages find room at once: queued without a send future each, and
        // yielding as `Socket::send` does, so the connections write during a batch.
        if socket.yield_due(message.byte_len()) {
            YieldNow::default().await;
        }
        let mut slot = Some(message);
        let mut result = socket.offer(&mut slot);
        if let (Ok(()), Some(message)) = (&result, slot.take()) {
            result = socket.send(message).await;
        }
        if let Err(err) = result {
            if confirms {
                refused.push((number, err));
            } else {
                tracing::debug!(error = %err, "a handle's message was not sent");
            }
        }
        last = number;
    }
    (last, refused, messages)
}

/// Hands `first` and whatever else is ready (as far as the inbox has room) to the
/// handles in one go: each message moves from the socket straight into the inbox.
fn deliver(socket: &Socket, bridge: &Bridge, first: Result<Message, Error>) {
    // REQ and REP take one message at a time: for them this leaves no room.
    let room = bridge
        .inbox_room(socket.recv_allowed(), true)
        .saturating_sub(1);
    let mut more = first.is_ok();
    let mut taken = 0;
    let rest = std::iter::from_fn(|| {
        if !more || taken == room {
            return None;
        }
        taken += 1;
        match socket.try_recv() {
            Ok(Some(message)) => Some(Ok(message)),
            Ok(None) => {
                more = false;
                None
            }
            Err(err) => {
                more = false;
                Some(Err(err))
            }
        }
    });
    bridge.received(std::iter::once(first).chain(rest));
}

async fn run(socket: &Socket, command: Command) {
    match command {
        Command::Bind(endpoint, reply) => {
            let _ = reply.send(socket.bind(&endpoint).await);
        }
        Command::Connect(endpoint, reply) => {
            let _ = reply.send(socket.connect(&endpoint).await);
        }
        Command::SetConnectRoutingId(routing_id, reply) => {
            let _ = reply.send(socket.set_connect_routing_id(routing_id));
        }
        Command::Unbind(endpoint, reply) => {
            let _ = reply.send(socket.unbind(&endpoint));
        }
        Command::Disconnect(endpoint, reply) => {
            let _ = reply.send(socket.disconnect(&endpoint));
        }
        Command::Subscribe(topic, on, reply) => {
            let result = if on {
                socket.subscribe(&topic)
            } else {
                socket.unsubscribe(&topic)
            };
            let _ = reply.send(result);
        }
        Command::Stats(reply) => {
            let _ = reply.send((socket.stats(), socket.peer_count()));
        }
        Command::RecentErrors(reply) => {
            let _ = reply.send(socket.recent_errors());
        }
        Command::Monitor(reply) => {
            let _ = reply.send(socket.monitor());
        }
    }
}
