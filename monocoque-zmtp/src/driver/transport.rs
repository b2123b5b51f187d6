//! Listeners and connecters for `tcp://` and `ipc://`: accept loops, connect with
//! reconnect and back-off. Each connection runs [`connection::serve`].

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use compio::io::{AsyncRead, AsyncWrite};
use compio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use futures::FutureExt;

use super::connection::{self, Remote};
use super::direct::DirectIo;
use super::resolve;
use crate::config::{ReconnectStop, TcpOptions};
use crate::endpoint::Endpoint;
use crate::engine::Engine;
use crate::engine::monitor::SocketEvent;
use crate::engine::notify::Stop;
use crate::error::Error;
use crate::proto::pattern::PeerId;

/// Runs `fut` unless `stop` fires first.
async fn or_stop<T>(stop: &Stop, fut: impl Future<Output = T>) -> Option<T> {
    futures::select_biased! {
        () = stop.wait().fuse() => None,
        value = fut.fuse() => Some(value),
    }
}

/// Binds `endpoint` and spawns its accept loop. Returns the endpoint actually bound
/// (an ephemeral port filled in).
pub(crate) async fn bind(
    engine: &Rc<Engine>,
    endpoint: &Endpoint,
    stop: Rc<Stop>,
) -> Result<Endpoint, Error> {
    match endpoint {
        Endpoint::Tcp { host, port } => {
            let listener = resolve::listen(host, *port, engine.options.ipv6).await?;
            let local = listener.local_addr()?;
            let bound = Endpoint::Tcp {
                host: match local {
                    SocketAddr::V4(a) => a.ip().to_string(),
                    SocketAddr::V6(a) => a.ip().to_string(),
                },
                port: local.port(),
            };
            let acceptor = TcpAcceptor(listener, engine.options.tcp);
            spawn_accept_loop(engine, stop, acceptor, bound.to_string());
            Ok(bound)
        }
        Endpoint::Ipc(path) => {
            remove_stale_socket(path);
            let listener = UnixListener::bind(path).await?;
            let name = endpoint.to_string();
            spawn_accept_loop(engine, stop, UnixAcceptor(listener, path.clone()), name);
            Ok(endpoint.clone())
        }
        Endpoint::Inproc(name) => {
            super::inproc::bind(engine, name, &stop)?;
            Ok(endpoint.clone())
        }
    }
}

/// Sets a TCP connection's options: no Nagle delay (as libzmq), and what `tcp` asks.
/// An option the system refuses is logged and left as it was.
fn configure(stream: &TcpStream, tcp: &TcpOptions) {
    let _ = stream.set_nodelay(true);
    if let Err(err) = apply(&socket2::SockRef::from(stream), tcp) {
        tracing::warn!(error = %err, "a TCP socket option was refused");
    }
}

fn apply(socket: &socket2::SockRef<'_>, tcp: &TcpOptions) -> io::Result<()> {
    if let Some(on) = tcp.keepalive {
        socket.set_keepalive(on)?;
    }
    if tcp.keepalive == Some(true) {
        let mut params = socket2::TcpKeepalive::new();
        if let Some(idle) = tcp.keepalive_idle {
            params = params.with_time(idle);
        }
        if let Some(interval) = tcp.keepalive_intvl {
            params = params.with_interval(interval);
        }
        if let Some(count) = tcp.keepalive_cnt {
            params = params.with_retries(count);
        }
        socket.set_tcp_keepalive(&params)?;
    }
    if let Some(size) = tcp.sndbuf {
        socket.set_send_buffer_size(size)?;
    }
    if let Some(size) = tcp.rcvbuf {
        socket.set_recv_buffer_size(size)?;
    }
    if let Some(tos) = tcp.tos {
        socket.set_tos_v4(tos)?;
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Some(bytes) = tcp.notsent_lowat {
        socket.set_tcp_notsent_lowat(bytes)?;
    }
    Ok(())
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
    type Stream: DirectIo + 'static;
    /// The next connection and the peer's address (an IP address, or empty).
    async fn accept(&self) -> io::Result<(Self::Stream, Bytes)>;
    /// Closes the listening socket and waits until it is closed: with io_uring a
    /// descriptor dropped with an operation in flight is closed later, and a port
    /// still listening then makes the next process's `bind` fail (EADDRINUSE).
    async fn close(self);
}

struct TcpAcceptor(TcpListener, TcpOptions);
impl Acceptor for TcpAcceptor {
    type Stream = TcpStream;
    async fn accept(&self) -> io::Result<(TcpStream, Bytes)> {
        let (stream, peer) = self.0.accept().await?;
        configure(&stream, &self.1);
        Ok((stream, Bytes::from(peer.ip().to_string())))
    }
    async fn close(self) {
        let _ = self.0.close().await;
    }
}

struct UnixAcceptor(UnixListener, PathBuf);
impl Acceptor for UnixAcceptor {
    type Stream = UnixStream;
    async fn accept(&self) -> io::Result<(UnixStream, Bytes)> {
        Ok((self.0.accept().await?.0, Bytes::new()))
    }
    async fn close(self) {
        let _ = std::fs::remove_file(&self.1);
        let _ = self.0.close().await;
    }
}

/// Runs an endpoint's accept loop, counted in the engine's open listeners until its
/// listening socket is closed (`Socket::close` waits for that).
fn spawn_accept_loop<A: Acceptor + 'static>(
    engine: &Rc<Engine>,
    stop: Rc<Stop>,
    acceptor: A,
    endpoint: String,
) where
    for<'a> &'a A::Stream: AsyncRead + AsyncWrite,
{
    engine.listener_opened();
    let engine = engine.clone();
    compio::runtime::spawn(async move {
        let endpoint: Rc<str> = Rc::from(endpoint);
        accept_loop(&engine, &stop, &acceptor, &endpoint).await;
        acceptor.close().await;
        engine.listener_closed();
        engine.emit(|| SocketEvent::Closed {
            endpoint: endpoint.to_string(),
        });
    })
    .detach();
}

async fn accept_loop<A: Acceptor>(
    engine: &Rc<Engine>,
    stop: &Rc<Stop>,
    acceptor: &A,
    endpoint: &Rc<str>,
) where
    for<'a> &'a A::Stream: AsyncRead + AsyncWrite,
{
    loop {
        match or_stop(stop, acceptor.accept()).await {
            None => break,
            Some(Ok((stream, address))) => {
                let remote = Remote {
                    endpoint: endpoint.clone(),
                    address,
                };
                engine.emit(|| SocketEvent::Accepted {
                    endpoint: endpoint.to_string(),
                    peer: String::from_utf8_lossy(&remote.address).into_owned(),
                });
                if let Some(port) = engine.port(None) {
                    let task = connection::serve(stream, port, stop.clone(), remote);
                    compio::runtime::spawn(task).detach();
                }
            }
            Some(Err(err)) => {
                // Out of descriptors or a connection reset before accept: wait a little
                // instead of spinning, then keep serving.
                tracing::warn!(error = %err, "accept failed");
                engine.emit(|| SocketEvent::AcceptFailed {
                    endpoint: endpoint.to_string(),
                    error: err.to_string(),
                });
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

/// Connects to `endpoint` in the background, reconnecting after `reconnect_ivl` (with
/// doubling back-off up to `reconnect_ivl_max`) whenever the connection fails or ends,
/// unless `reconnect_stop` says to give up: then the endpoint's peer goes and the
/// monitor hears `Closed`, as libzmq reports a connecter it closes.
pub(crate) fn spawn_connecter(
    engine: &Rc<Engine>,
    endpoint: Endpoint,
    stop: Rc<Stop>,
    peer: Option<PeerId>,
) {
    if let Endpoint::Inproc(name) = endpoint {
        super::inproc::spawn_connecter(engine, name, stop, peer);
        return;
    }
    compio::runtime::spawn(connect_loop(engine.clone(), endpoint, stop, peer)).detach();
}

/// How one connect attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attempt {
    /// The endpoint was stopped (`disconnect`, `close`) first.
    Stopped,
    /// The connect failed; `refused`: with `ECONNREFUSED`.
    Failed { refused: bool },
    /// A connection was made and has ended; `handshaken`: its handshake completed.
    Ended { handshaken: bool },
}

/// Whether `ZMQ_RECONNECT_STOP` says to give up after `attempt`.
fn gives_up(stop: ReconnectStop, attempt: Attempt) -> bool {
    match attempt {
        Attempt::Stopped => false,
        Attempt::Failed { refused } => refused && stop.conn_refused,
        Attempt::Ended { handshaken: false } => stop.handshake_failed,
        Attempt::Ended { handshaken: true } => stop.connection_lost,
    }
}

async fn connect_loop(
    engine: Rc<Engine>,
    endpoint: Endpoint,
    stop: Rc<Stop>,
    peer: Option<PeerId>,
) {
    let base = engine.options.reconnect_ivl;
    let mut ivl = base;
    let name: Rc<str> = Rc::from(endpoint.to_string());
    // Whether the last attempt failed: a series of failures reports one delay.
    let mut failing = false;
    let mut gave_up = false;
    while !stop.is_stopped() {
        let attempt = connect_once(&engine, &endpoint, &stop, peer, &name, failing).await;
        if attempt == Attempt::Stopped || stop.is_stopped() {
            break;
        }
        if gives_up(engine.options.reconnect_stop, attempt) {
            gave_up = true;
            break;
        }
        failing = matches!(attempt, Attempt::Failed { .. });
        if !failing {
            ivl = base;
        }
        engine.emit(|| SocketEvent::ConnectRetried {
            endpoint: name.to_string(),
            after: ivl,
        });
        if or_stop(&stop, compio::time::sleep(ivl)).await.is_none() {
            break;
        }
        if failing && let Some(max) = engine.options.reconnect_ivl_max {
            ivl = (ivl * 2).min(max.max(base));
        }
    }
    if let Some(id) = peer {
        engine.remove_connecting_peer(id);
    }
    // Reported once the peer is gone, so whoever sees the event sees it gone.
    if gave_up {
        engine.emit(|| SocketEvent::Closed {
            endpoint: name.to_string(),
        });
    }
}

/// One connect attempt to a tcp or ipc endpoint, and the connection it made run to
/// its end.
async fn connect_once(
    engine: &Rc<Engine>,
    endpoint: &Endpoint,
    stop: &Rc<Stop>,
    peer: Option<PeerId>,
    name: &Rc<str>,
    failing: bool,
) -> Attempt {
    match endpoint {
        Endpoint::Tcp { host, port } => {
            let connect = async {
                let addresses = resolve::resolve(host, *port, engine.options.ipv6).await?;
                let stream = TcpStream::connect(&addresses[..]).await?;
                configure(&stream, &engine.options.tcp);
                Ok(stream)
            };
            let remote = Remote {
                endpoint: name.clone(),
                address: Bytes::from(host.clone()),
            };
            connect_and_run(engine, stop, peer, connect, remote, failing).await
        }
        Endpoint::Ipc(path) => {
            let remote = Remote {
                endpoint: name.clone(),
                address: Bytes::new(),
            };
            connect_and_run(
                engine,
                stop,
                peer,
                UnixStream::connect(path),
                remote,
                failing,
            )
            .await
        }
        Endpoint::Inproc(_) => Attempt::Stopped,
    }
}

/// Connects (unless stopped first) and runs the connection to its end. A failure is
/// reported to the monitor as a delay unless the attempt before it failed too
/// (`failing`).
async fn connect_and_run<S: DirectIo + 'static>(
    engine: &Rc<Engine>,
    stop: &Rc<Stop>,
    peer: Option<PeerId>,
    connect: impl Future<Output = io::Result<S>>,
    remote: Remote,
    failing: bool,
) -> Attempt
where
    for<'a> &'a S: AsyncRead + AsyncWrite,
{
    let Some(connected) = or_stop(stop, connect).await else {
        return Attempt::Stopped;
    };
    match connected {
        Ok(stream) => {
            engine.emit(|| SocketEvent::Connected {
                endpoint: remote.endpoint.to_string(),
                peer: String::from_utf8_lossy(&remote.address).into_owned(),
            });
            let handshaken = match engine.port(peer) {
                Some(port) => connection::serve(stream, port, stop.clone(), remote).await,
                None => false,
            };
            Attempt::Ended { handshaken }
        }
        Err(err) => {
            if !failing {
                engine.emit(|| SocketEvent::ConnectDelayed {
                    endpoint: remote.endpoint.to_string(),
                    error: err.to_string(),
                });
            }
            Attempt::Failed {
                refused: err.kind() == io::ErrorKind::ConnectionRefused,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reconnect_stop_flag_gives_up_after_its_own_outcome_only() {
        let refused = Attempt::Failed { refused: true };
        let unreachable = Attempt::Failed { refused: false };
        let bad_handshake = Attempt::Ended { handshaken: false };
        let lost = Attempt::Ended { handshaken: true };
        let flag = |conn_refused, handshake_failed, connection_lost| ReconnectStop {
            conn_refused,
            handshake_failed,
            connection_lost,
            after_disconnect: false,
        };
        let after_disconnect = ReconnectStop {
            after_disconnect: true,
            ..ReconnectStop::default()
        };
        let cases = [
            (ReconnectStop::default(), [false, false, false, false]),
            (flag(true, false, false), [true, false, false, false]),
            (flag(false, true, false), [false, false, true, false]),
            (flag(false, false, true), [false, false, false, true]),
            (after_disconnect, [false, false, false, false]),
        ];
        for (stop, expected) in cases {
            let got = [refused, unreachable, bad_handshake, lost].map(|a| gives_up(stop, a));
            assert_eq!(got, expected, "{stop:?}");
        }
    }

    #[compio::test]
    async fn tcp_options_reach_the_socket() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let stream = TcpStream::connect(address).await.unwrap();
        let tcp = TcpOptions {
            keepalive: Some(true),
            keepalive_idle: Some(Duration::from_secs(42)),
            keepalive_cnt: Some(7),
            keepalive_intvl: Some(Duration::from_secs(3)),
            sndbuf: Some(64 * 1024),
            rcvbuf: Some(96 * 1024),
            tos: Some(0x10),
            notsent_lowat: Some(20_000),
        };
        configure(&stream, &tcp);
        let socket = socket2::SockRef::from(&stream);
        assert!(socket.keepalive().unwrap());
        assert_eq!(
            socket.tcp_keepalive_time().unwrap(),
            Duration::from_secs(42)
        );
        assert_eq!(socket.tcp_keepalive_retries().unwrap(), 7);
        assert_eq!(
            socket.tcp_keepalive_interval().unwrap(),
            Duration::from_secs(3)
        );
        // Linux doubles the requested buffer sizes for its bookkeeping.
        assert_eq!(socket.send_buffer_size().unwrap(), 128 * 1024);
        assert_eq!(socket.recv_buffer_size().unwrap(), 192 * 1024);
        assert_eq!(socket.tos_v4().unwrap(), 0x10);
        #[cfg(any(target_os = "linux", target_os = "android"))]
        assert_eq!(socket.tcp_notsent_lowat().unwrap(), 20_000);
        assert!(socket.tcp_nodelay().unwrap());
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[compio::test]
    async fn unsent_bytes_are_limited_by_default_and_on_request_left_alone() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let lowat = |stream: &TcpStream| socket2::SockRef::from(stream).tcp_notsent_lowat();
        // What a connection gets when nothing sets the option.
        let system = lowat(&TcpStream::connect(address).await.unwrap()).unwrap();

        let limited = TcpStream::connect(address).await.unwrap();
        configure(&limited, &TcpOptions::default());
        assert_eq!(lowat(&limited).unwrap(), TcpOptions::DEFAULT_NOTSENT_LOWAT);

        let left = TcpStream::connect(address).await.unwrap();
        let tcp = TcpOptions {
            notsent_lowat: None,
            ..TcpOptions::default()
        };
        configure(&left, &tcp);
        assert_eq!(lowat(&left).unwrap(), system);
    }
}
