//! [`Context`]: I/O threads that own sockets, for [`SocketHandle`]s used from any
//! thread, as libzmq's context owns its I/O threads.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};

use super::Socket;
use super::bridge::Bridge;
use super::handle::{SocketHandle, off_panicking_thread, pump};
use crate::config::SocketOptions;
use crate::driver::io_thread::IoThread;
use crate::driver::runtime::Driver;
use crate::engine::link::Names;
use crate::error::Error;
use crate::proto::socket_type::SocketType;

/// I/O threads, each running a compio runtime, and the sockets on them.
///
/// Sockets made by a context are spread over its threads; their
/// [`SocketHandle`]s work from any thread and any runtime. [`terminate`]
/// (or dropping the last clone of the context and the last handle) closes every
/// socket, lets each spend its `linger` sending what is queued, and joins the
/// threads, as libzmq's `zmq_ctx_term`: with the default infinite linger and a
/// peer that never comes, it waits forever.
///
/// ```
/// use monocoque_zmtp::socket::context::Context;
/// use monocoque_zmtp::proto::socket_type::SocketType;
///
/// let context = Context::builder().io_threads(2).build()?;
/// let publisher = context.socket(SocketType::Pub)?;
/// let for_another_thread = publisher.clone();
/// std::thread::spawn(move || drop(for_another_thread)).join().unwrap();
/// context.terminate();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`terminate`]: Context::terminate
#[derive(Debug, Clone)]
pub struct Context {
    inner: Arc<ContextInner>,
}

/// What contexts and handles share.
#[derive(Debug)]
pub(crate) struct ContextInner {
    threads: Mutex<Vec<IoThread>>,
    next: AtomicUsize,
    sockets: Mutex<Vec<Weak<Bridge>>>,
    terminated: AtomicBool,
    /// The context's inproc names, shared by all its I/O threads.
    names: Arc<Names>,
}

/// Builds a [`Context`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ContextBuilder {
    io_threads: usize,
    driver: Driver,
}

impl ContextBuilder {
    /// How many I/O threads (1 by default, as libzmq's `ZMQ_IO_THREADS`).
    pub fn io_threads(mut self, count: usize) -> Self {
        self.io_threads = count.max(1);
        self
    }

    /// The compio driver of the I/O threads (by default the one `MONOCOQUE_DRIVER`
    /// names, else io_uring with a fallback to epoll).
    pub fn driver(mut self, driver: Driver) -> Self {
        self.driver = driver;
        self
    }

    /// Starts the I/O threads.
    ///
    /// # Errors
    ///
    /// When a thread or its runtime cannot start.
    pub fn build(self) -> io::Result<Context> {
        let threads = (0..self.io_threads)
            .map(|i| IoThread::start(format!("monocoque-io-{i}"), self.driver))
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Context {
            inner: Arc::new(ContextInner {
                threads: Mutex::new(threads),
                next: AtomicUsize::new(0),
                sockets: Mutex::new(Vec::new()),
                terminated: AtomicBool::new(false),
                names: Names::new(),
            }),
        })
    }
}

impl Context {
    /// A context with one I/O thread.
    ///
    /// # Errors
    ///
    /// When the thread or its runtime cannot start.
    pub fn new() -> io::Result<Context> {
        Self::builder().build()
    }

    /// A builder, to choose the number of I/O threads or the driver.
    pub fn builder() -> ContextBuilder {
        ContextBuilder {
            io_threads: 1,
            driver: Driver::from_env(),
        }
    }

    /// The process-wide context, made on first use with one I/O thread. It is never
    /// terminated: its sockets live until the process ends.
    ///
    /// # Errors
    ///
    /// When its thread or runtime cannot start (the next call tries again).
    pub fn global() -> io::Result<&'static Context> {
        static GLOBAL: OnceLock<Context> = OnceLock::new();
        if let Some(context) = GLOBAL.get() {
            return Ok(context);
        }
        let made = Context::new()?;
        Ok(GLOBAL.get_or_init(|| made))
    }

    /// A socket of `socket_type` with libzmq's default options.
    ///
    /// # Errors
    ///
    /// [`Error::Closed`] once the context is terminated.
    pub fn socket(&self, socket_type: SocketType) -> Result<SocketHandle, Error> {
        self.socket_with_options(socket_type, SocketOptions::default())
    }

    /// A socket of `socket_type` with `options`, on the next I/O thread in turn.
    ///
    /// # Errors
    ///
    /// [`Error::Closed`] once the context is terminated.
    pub fn socket_with_options(
        &self,
        socket_type: SocketType,
        options: SocketOptions,
    ) -> Result<SocketHandle, Error> {
        let inner = &self.inner;
        let bridge = Arc::new(Bridge::new(socket_type, &options));
        // Registered first: a `terminate` that has not seen it yet has not set the
        // flag either, and will close it.
        inner.register(&bridge);
        if inner.terminated.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        let threads = inner.threads.lock().unwrap_or_else(PoisonError::into_inner);
        if threads.is_empty() {
            return Err(Error::Closed);
        }
        let thread = &threads[inner.next.fetch_add(1, Ordering::Relaxed) % threads.len()];
        let guard = thread.task_guard();
        let on_thread = bridge.clone();
        let names = inner.names.clone();
        let started = thread.run(move || {
            let socket = Socket::with_names(socket_type, options, names);
            crate::driver::spawn(async move {
                pump(socket, on_thread).await;
                drop(guard);
            });
        });
        drop(threads);
        if !started {
            return Err(Error::Closed);
        }
        Ok(SocketHandle::new(bridge, inner.clone()))
    }

    /// The context's inproc names.
    pub(crate) fn names(&self) -> Arc<Names> {
        self.inner.names.clone()
    }

    /// Closes every socket of the context, waits until each has sent what was queued
    /// (within its `linger`), and joins the I/O threads. Handles still held get
    /// [`Error::Closed`] afterwards.
    pub fn terminate(self) {
        self.inner.terminate();
    }
}

impl ContextInner {
    fn register(&self, bridge: &Arc<Bridge>) {
        let mut sockets = self.sockets.lock().unwrap_or_else(PoisonError::into_inner);
        sockets.retain(|b| b.strong_count() > 0);
        sockets.push(Arc::downgrade(bridge));
    }

    fn terminate(&self) {
        if self.terminated.swap(true, Ordering::AcqRel) {
            return;
        }
        let sockets =
            std::mem::take(&mut *self.sockets.lock().unwrap_or_else(PoisonError::into_inner));
        let mut threads =
            std::mem::take(&mut *self.threads.lock().unwrap_or_else(PoisonError::into_inner));
        off_panicking_thread(move || {
            for bridge in sockets.iter().filter_map(Weak::upgrade) {
                bridge.close();
            }
            for thread in &mut threads {
                thread.stop_and_join();
            }
        });
    }
}

impl Drop for ContextInner {
    fn drop(&mut self) {
        self.terminate();
    }
}
