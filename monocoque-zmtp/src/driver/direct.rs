//! Reading and writing without the runtime: a non-blocking call straight to the
//! kernel, where a read or write through io_uring would cost a submission, a
//! completion and a turn of the runtime.
//!
//! Writes: a connection with nothing in flight hands its next write to the kernel
//! with one non-blocking `sendmsg`, and only what the kernel does not take goes
//! through the runtime as an owned-buffer write. A socket with room in its send buffer
//! (the usual case: a reply, a request, a batch behind an idle connection) takes the
//! bytes at once, which spares the submission, the completion, the wake-up of the
//! connection's task and the operation compio boxes. Bytes already handed to the
//! runtime are never overtaken: the connection calls this only while no write of its
//! own is in flight.
//!
//! Reads: a connection whose peer is on its own thread reads large frames the kernel
//! already holds before it asks the runtime for more (see `Connection::reads_now`);
//! [`LocalEnd`] tells it the peer is there. Only with no read of its own in flight,
//! so bytes arrive in order.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::net::SocketAddr;

use compio::net::{TcpStream, UnixStream};

/// `MSG_DONTWAIT`: fail with `WouldBlock` instead of waiting for room; on Linux also
/// `MSG_NOSIGNAL`: a closed peer is an `EPIPE` error, not a `SIGPIPE`.
#[cfg(any(target_os = "linux", target_os = "android"))]
const FLAGS: libc::c_int = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const FLAGS: libc::c_int = libc::MSG_DONTWAIT;

/// A stream that can take or give bytes at once, without waiting.
pub(crate) trait DirectIo {
    /// Writes what the kernel takes now, from the front of `bufs`; `WouldBlock` when
    /// it takes nothing.
    fn send_now(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;

    /// Reads what the kernel holds now into `buf`: how many bytes it wrote at
    /// `buf`'s front, 0 at the end of the stream; `WouldBlock` when it holds none.
    /// A stream that cannot read this way always answers `WouldBlock`.
    fn recv_now(&self, buf: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
        let _ = buf;
        Err(io::ErrorKind::WouldBlock.into())
    }

    /// This end's address and the peer's, for a stream that has them (TCP).
    fn ends(&self) -> Option<(SocketAddr, SocketAddr)> {
        None
    }
}

/// One buffer goes by `send`, several by `sendmsg` (which also copies in the iovec
/// array): 2% less same-core REQ/REP latency at 64 B.
fn send_dontwait(socket: socket2::SockRef<'_>, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    match bufs {
        [one] => socket.send_with_flags(one, FLAGS),
        _ => socket.send_vectored_with_flags(bufs, FLAGS),
    }
}

impl DirectIo for TcpStream {
    fn send_now(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        send_dontwait(socket2::SockRef::from(self), bufs)
    }

    fn recv_now(&self, buf: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
        socket2::SockRef::from(self).recv_with_flags(buf, libc::MSG_DONTWAIT)
    }

    fn ends(&self) -> Option<(SocketAddr, SocketAddr)> {
        Some((self.local_addr().ok()?, self.peer_addr().ok()?))
    }
}

impl DirectIo for UnixStream {
    fn send_now(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        send_dontwait(socket2::SockRef::from(self), bufs)
    }

    fn recv_now(&self, buf: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
        socket2::SockRef::from(self).recv_with_flags(buf, libc::MSG_DONTWAIT)
    }
}

thread_local! {
    /// This thread's TCP connection ends, by local address (with a count, should two
    /// ever share one).
    static ENDS_HERE: RefCell<HashMap<SocketAddr, u32>> = RefCell::new(HashMap::new());
}

/// A TCP connection's end, known to its thread while the connection lives, so that a
/// connection can tell whether its peer is on the same thread.
#[derive(Debug)]
pub(crate) struct LocalEnd {
    local: SocketAddr,
    peer: SocketAddr,
}

impl LocalEnd {
    /// Registers `stream`'s end on this thread; `None` for a stream with no
    /// addresses (ipc, in-process pipes).
    pub(crate) fn register<S: DirectIo>(stream: &S) -> Option<LocalEnd> {
        let (local, peer) = stream.ends()?;
        ENDS_HERE.with(|ends| *ends.borrow_mut().entry(local).or_default() += 1);
        Some(LocalEnd { local, peer })
    }

    /// Whether the peer's end is a connection of this thread.
    pub(crate) fn peer_is_here(&self) -> bool {
        ENDS_HERE.with(|ends| ends.borrow().contains_key(&self.peer))
    }
}

impl Drop for LocalEnd {
    fn drop(&mut self) {
        // During the thread's exit the map may be gone already: nothing to undo then.
        let _ = ENDS_HERE.try_with(|ends| {
            let mut ends = ends.borrow_mut();
            if let Some(count) = ends.get_mut(&self.local) {
                *count -= 1;
                if *count == 0 {
                    ends.remove(&self.local);
                }
            }
        });
    }
}

/// Reads what `stream` holds now into the spare capacity of `buf` (a read page's
/// region, or a large frame's own buffer), as a read through the runtime would, and
/// counts the bytes in.
#[allow(unsafe_code)]
pub(crate) fn recv_into<S, B>(stream: &S, buf: &mut B) -> io::Result<usize>
where
    S: DirectIo,
    B: compio::buf::IoBufMut,
{
    let start = buf.buf_len();
    let spare = buf.as_uninit().get_mut(start..).unwrap_or_default();
    let n = stream.recv_now(spare)?;
    let len = start + n.min(spare.len());
    // SAFETY: the kernel initialised the `n` bytes after `start` (`recv` writes at
    // most the `spare.len()` bytes it was given, and the `min` holds that in any case);
    // the bytes before `start` were initialised already.
    unsafe { buf.set_len(len) };
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use compio::io::AsyncReadExt;

    fn pair() -> (UnixStream, UnixStream) {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        (
            UnixStream::from_std(a).unwrap(),
            UnixStream::from_std(b).unwrap(),
        )
    }

    #[compio::test]
    async fn bytes_read_now_are_the_ones_the_peer_sent() {
        let (ours, theirs) = pair();
        let mut buf = Vec::with_capacity(16);
        let err = recv_into(&ours, &mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        theirs.send_now(&[IoSlice::new(b"hello, ")]).unwrap();
        assert_eq!(recv_into(&ours, &mut buf).unwrap(), 7);
        theirs.send_now(&[IoSlice::new(b"world")]).unwrap();
        assert_eq!(recv_into(&ours, &mut buf).unwrap(), 5);
        assert_eq!(&buf[..], b"hello, world");
        drop(theirs);
        assert_eq!(recv_into(&ours, &mut buf).unwrap(), 0, "end of stream");
    }

    #[compio::test]
    async fn a_read_now_stops_at_the_spare_capacity() {
        let (ours, theirs) = pair();
        theirs.send_now(&[IoSlice::new(b"0123456789")]).unwrap();
        let mut buf = Vec::with_capacity(4);
        buf.extend_from_slice(b"ab");
        let spare = buf.capacity() - 2;
        assert_eq!(recv_into(&ours, &mut buf).unwrap(), spare);
        assert_eq!(&buf[2..], &b"0123456789"[..spare]);
    }

    #[compio::test]
    async fn a_peer_is_here_only_while_its_end_is_registered_on_this_thread() {
        let listener = compio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (ours, accepted) = futures::join!(TcpStream::connect(address), listener.accept());
        let (ours, (theirs, _)) = (ours.unwrap(), accepted.unwrap());
        let our_end = LocalEnd::register(&ours).unwrap();
        assert!(
            !our_end.peer_is_here(),
            "the peer's end is not registered yet"
        );
        let their_end = LocalEnd::register(&theirs).unwrap();
        assert!(our_end.peer_is_here());
        assert!(their_end.peer_is_here());
        let elsewhere =
            std::thread::scope(|threads| threads.spawn(|| our_end.peer_is_here()).join().unwrap());
        assert!(!elsewhere, "another thread does not see this thread's ends");
        drop(their_end);
        assert!(!our_end.peer_is_here());
    }

    #[compio::test]
    async fn bytes_sent_now_reach_the_peer_in_order() {
        let (ours, theirs) = pair();
        let parts = [IoSlice::new(b"hello, "), IoSlice::new(b"world")];
        let sent = ours.send_now(&parts).unwrap();
        assert_eq!(sent, 12);
        let mut reader = &theirs;
        let ((), buf) = reader.read_exact(Vec::with_capacity(12)).await.unwrap();
        assert_eq!(&buf[..], b"hello, world");
    }

    #[compio::test]
    async fn a_full_send_buffer_is_would_block_not_a_wait() {
        let (ours, _theirs) = pair();
        let chunk = vec![0u8; 64 * 1024];
        // Nobody reads: the kernel takes bytes until its buffers are full, then none.
        let err = loop {
            match ours.send_now(&[IoSlice::new(&chunk)]) {
                Ok(n) => assert!(n > 0),
                Err(err) => break err,
            }
        };
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    }

    #[compio::test]
    async fn a_closed_peer_is_an_error_not_a_signal() {
        let (ours, theirs) = pair();
        drop(theirs);
        let err = ours.send_now(&[IoSlice::new(b"x")]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }
}
