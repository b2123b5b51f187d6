//! Listeners and connecters for `tcp://` and `ipc://`: accept loops, connect with
//! reconnect and back-off. Each connection runs [`connection::run`].

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use compio::io::{AsyncRead, AsyncWrite};
use compio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use futures::FutureExt;

use crate::driver::connection::{self, End};
use crate::driver::notify::Stop;
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::proto::pattern::PeerId;
use crate::socket::core::Shared;

/// Runs `fut` unless `stop` fires first.
async fn or_stop<T>(stop: &Stop, fut: impl Future<Output = T>) -> Option<T> {
    futures::select_biased! {
        () = stop.wait().fuse() => None,
        value = fut.fuse() => Some(value),
    }
}

fn resolve_bind_host(host: &str) -> &str {
    if host == "*" { "0.0.0.0" } else { host }
}

/// Binds `endpoint` and spawns its accept loop. Returns the endpoint actually bound
/// (an ephemeral port filled in).
pub(crate) async fn bind(
    shared: &Rc<Shared>,
    endpoint: &Endpoint,
    stop: Rc<Stop>,
) -> Result<Endpoint, Error> {
    match endpoint {
        Endpoint::Tcp { host, port } => {
            let listener = TcpListener::bind((resolve_bind_host(host), *port)).await?;
            let local = listener.local_addr()?;
            let bound = Endpoint::Tcp {
                host: match local {
                    SocketAddr::V4(a) => a.ip().to_string(),
                    SocketAddr::V6(a) => a.ip().to_string(),
                },
                port: local.port(),
            };
            spawn_accept_loop(shared, stop, TcpAcceptor(listener));
            Ok(bound)
        }
        Endpoint::Ipc(path) => {
            remove_stale_socket(path);
            let listener = UnixListener::bind(path).await?;
            spawn_accept_loop(shared, stop, UnixAcceptor(listener, path.clone()));
            Ok(endpoint.clone())
        }
        Endpoint::Inproc(name) => {
            crate::driver::inproc::bind(shared, name, &stop)?;
            Ok(endpoint.clone())
        }
    }
}

/// libzmq replaces a socket file left behind by an earlier process.
fn remove_stale_socket(path: &PathBuf) {
    use std::os::unix::fs::FileTypeExt;
    if let Ok(meta) = std::fs::symlink_metadata(path)
        && meta.file_type().is_socket()
    {
        let _ = std::fs::remove_file(path);
    }
}

trait Acceptor {
    type Stream: 'static;
    async fn accept(&self) -> io::Result<Self::Stream>;
    /// Closes the listening socket and waits until it is closed: with io_uring a
    /// descriptor dropped with an operation in flight is closed later, and a port
    /// still listening then makes the next process's `bind` fail (EADDRINUSE).
    async fn close(self);
}

struct TcpAcceptor(TcpListener);
impl Acceptor for TcpAcceptor {
    type Stream = TcpStream;
    async fn accept(&self) -> io::Result<TcpStream> {
        let (stream, _) = self.0.accept().await?;
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }
    async fn close(self) {
        let _ = self.0.close().await;
    }
}

struct UnixAcceptor(UnixListener, PathBuf);
impl Acceptor for UnixAcceptor {
    type Stream = UnixStream;
    async fn accept(&self) -> io::Result<UnixStream> {
        Ok(self.0.accept().await?.0)
    }
    async fn close(self) {
        let _ = std::fs::remove_file(&self.1);
        let _ = self.0.close().await;
    }
}

/// Runs an endpoint's accept loop, counted in [`Shared::listeners`] until its
/// listening socket is closed (`Socket::close` waits for that).
fn spawn_accept_loop<A: Acceptor + 'static>(shared: &Rc<Shared>, stop: Rc<Stop>, acceptor: A)
where
    for<'a> &'a A::Stream: AsyncRead + AsyncWrite,
{
    shared.listeners.set(shared.listeners.get() + 1);
    let shared = shared.clone();
    compio::runtime::spawn(async move {
        accept_loop(&shared, &stop, &acceptor).await;
        acceptor.close().await;
        shared.listeners.set(shared.listeners.get() - 1);
        shared.listener_closed.notify();
    })
    .detach();
}

async fn accept_loop<A: Acceptor>(shared: &Rc<Shared>, stop: &Rc<Stop>, acceptor: &A)
where
    for<'a> &'a A::Stream: AsyncRead + AsyncWrite,
{
    loop {
        match or_stop(stop, acceptor.accept()).await {
            None => break,
            Some(Ok(stream)) => {
                let (id, link) = shared.core.borrow_mut().add_peer(false);
                let task = serve(shared.clone(), stream, id, link, stop.clone());
                compio::runtime::spawn(task).detach();
            }
            Some(Err(err)) => {
                // Out of descriptors or a connection reset before accept: wait a little
                // instead of spinning, then keep serving.
                tracing::warn!(error = %err, "accept failed");
                if or_stop(stop, compio::time::sleep(Duration::from_millis(100)))
                    .await
                    .is_none()
                {
                    break;
                }
            }
        }
    }
}

async fn serve<S: 'static>(
    shared: Rc<Shared>,
    stream: S,
    id: PeerId,
    link: Rc<crate::driver::notify::Notify>,
    stop: Rc<Stop>,
) where
    for<'a> &'a S: AsyncRead + AsyncWrite,
{
    let end = connection::run(stream, shared.clone(), id, link, stop).await;
    finish(&shared, id, &end);
}

fn finish(shared: &Shared, id: PeerId, end: &End) {
    let mut core = shared.core.borrow_mut();
    match end {
        End::Protocol(err) => {
            core.record_protocol_error(err.clone());
            tracing::warn!(peer = %id, error = %err, kind = ?err.kind(), "peer disconnected for a protocol error");
        }
        End::Io(err) => {
            core.stats.disconnects += 1;
            tracing::debug!(peer = %id, error = %err, "connection lost");
        }
        End::PeerClosed => core.stats.disconnects += 1,
        End::Stopped => {}
    }
    drop(core);
    shared.peer_disconnected(id);
}

/// Connects to `endpoint` in the background, reconnecting after `reconnect_ivl` (with
/// doubling back-off up to `reconnect_ivl_max`) whenever the connection fails or ends.
pub(crate) fn spawn_connecter(
    shared: &Rc<Shared>,
    endpoint: Endpoint,
    stop: Rc<Stop>,
    pipe: Option<PeerId>,
) {
    if let Endpoint::Inproc(name) = endpoint {
        crate::driver::inproc::spawn_connecter(shared, name, stop, pipe);
        return;
    }
    compio::runtime::spawn(connect_loop(shared.clone(), endpoint, stop, pipe)).detach();
}

async fn connect_loop(
    shared: Rc<Shared>,
    endpoint: Endpoint,
    stop: Rc<Stop>,
    pipe: Option<PeerId>,
) {
    let base = shared.options.reconnect_ivl;
    let mut ivl = base;
    while !stop.is_stopped() {
        let connected = match &endpoint {
            Endpoint::Tcp { host, port } => {
                let connect = async {
                    let stream = TcpStream::connect((host.as_str(), *port)).await?;
                    let _ = stream.set_nodelay(true);
                    Ok(stream)
                };
                connect_and_run(&shared, &stop, pipe, connect).await
            }
            Endpoint::Ipc(path) => {
                connect_and_run(&shared, &stop, pipe, UnixStream::connect(path)).await
            }
            Endpoint::Inproc(_) => None,
        };
        let Some(connected) = connected else {
            break;
        };
        if connected {
            ivl = base;
        }
        if or_stop(&stop, compio::time::sleep(ivl)).await.is_none() {
            break;
        }
        if !connected && let Some(max) = shared.options.reconnect_ivl_max {
            ivl = (ivl * 2).min(max.max(base));
        }
    }
    if let Some(id) = pipe {
        shared.remove_pipe(id);
    }
}

/// Connects (unless stopped first) and runs the connection to its end. Returns `None`
/// when stopped, else whether a connection was made.
async fn connect_and_run<S: 'static>(
    shared: &Rc<Shared>,
    stop: &Rc<Stop>,
    pipe: Option<PeerId>,
    connect: impl Future<Output = io::Result<S>>,
) -> Option<bool>
where
    for<'a> &'a S: AsyncRead + AsyncWrite,
{
    match or_stop(stop, connect).await? {
        Ok(stream) => {
            run_connected(shared, stream, pipe, stop).await;
            Some(true)
        }
        Err(_) => Some(false),
    }
}

async fn run_connected<S: 'static>(
    shared: &Rc<Shared>,
    stream: S,
    pipe: Option<PeerId>,
    stop: &Rc<Stop>,
) where
    for<'a> &'a S: AsyncRead + AsyncWrite,
{
    let Some((id, link)) = shared.pipe_for(pipe) else {
        return;
    };
    let end = connection::run(stream, shared.clone(), id, link, stop.clone()).await;
    finish(shared, id, &end);
}
