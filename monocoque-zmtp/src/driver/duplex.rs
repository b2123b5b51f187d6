//! An in-memory duplex stream for tests: two ends joined by two bounded byte pipes,
//! read and written with compio's owned-buffer traits through `&End`, as a
//! connection uses a socket.
//!
//! A read waits until bytes arrive or the other end closes (then it returns 0, EOF).
//! A write waits while the pipe is full, as a socket's does when its peer stops
//! reading; after the other end is dropped it fails with `BrokenPipe`.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io;
use std::rc::Rc;

use compio::buf::{BufResult, IoBuf, IoBufMut};
use compio::io::{AsyncRead, AsyncWrite};

use crate::engine::notify::Notify;

/// One direction: what one end writes and the other reads.
#[derive(Debug)]
struct Pipe {
    bytes: RefCell<VecDeque<u8>>,
    capacity: usize,
    /// No more bytes will be written: the reader sees EOF once `bytes` is empty.
    closed: Cell<bool>,
    /// Fires when bytes arrive or leave, or the pipe closes.
    changed: Notify,
}

impl Pipe {
    fn new(capacity: usize) -> Rc<Pipe> {
        Rc::new(Pipe {
            bytes: RefCell::new(VecDeque::new()),
            capacity,
            closed: Cell::new(false),
            changed: Notify::default(),
        })
    }

    /// Moves unread bytes to the start of `buf`: `None` while there are none and
    /// the pipe is open, `Some(Ok(0))` at EOF.
    fn take_into<B: IoBufMut>(&self, buf: &mut B) -> Option<io::Result<usize>> {
        let mut bytes = self.bytes.borrow_mut();
        if bytes.is_empty() && !self.closed.get() {
            return None;
        }
        let n = bytes.len().min(buf.buf_capacity());
        buf.clear();
        let copied = buf.extend_from_slice(&bytes.make_contiguous()[..n]);
        bytes.drain(..n);
        drop(bytes);
        self.changed.notify();
        Some(copied.map(|()| n).map_err(io::Error::other))
    }

    /// Appends as much of `data` as there is room for: `None` while the pipe is full,
    /// an error once the reader is gone.
    fn put(&self, data: &[u8]) -> Option<io::Result<usize>> {
        if self.closed.get() {
            return Some(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let mut bytes = self.bytes.borrow_mut();
        let room = self.capacity.saturating_sub(bytes.len());
        if room == 0 && !data.is_empty() {
            return None;
        }
        let n = room.min(data.len());
        bytes.extend(&data[..n]);
        drop(bytes);
        self.changed.notify();
        Some(Ok(n))
    }

    fn close(&self) {
        self.closed.set(true);
        self.changed.notify();
    }
}

/// One end of a [`duplex`] stream. Dropping it closes both directions.
#[derive(Debug)]
pub(crate) struct End {
    incoming: Rc<Pipe>,
    outgoing: Rc<Pipe>,
}

/// Two connected ends; each direction holds up to `capacity` unread bytes.
pub(crate) fn duplex(capacity: usize) -> (End, End) {
    let (a_to_b, b_to_a) = (Pipe::new(capacity), Pipe::new(capacity));
    let a = End {
        incoming: b_to_a.clone(),
        outgoing: a_to_b.clone(),
    };
    let b = End {
        incoming: a_to_b,
        outgoing: b_to_a,
    };
    (a, b)
}

impl End {
    /// Bytes written by the other end and not read yet.
    pub(crate) fn unread(&self) -> usize {
        self.incoming.bytes.borrow().len()
    }
}

impl Drop for End {
    fn drop(&mut self) {
        self.outgoing.close();
        self.incoming.close();
    }
}

impl AsyncRead for &End {
    async fn read<B: IoBufMut>(&mut self, mut buf: B) -> BufResult<usize, B> {
        let pipe = &self.incoming;
        loop {
            let changed = pipe.changed.listen();
            if let Some(result) = pipe.take_into(&mut buf) {
                return BufResult(result, buf);
            }
            changed.await;
        }
    }
}

impl AsyncWrite for &End {
    async fn write<T: IoBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        let pipe = &self.outgoing;
        loop {
            let changed = pipe.changed.listen();
            if let Some(result) = pipe.put(buf.as_init()) {
                return BufResult(result, buf);
            }
            changed.await;
        }
    }

    async fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        self.outgoing.close();
        Ok(())
    }
}

impl super::direct::DirectIo for End {
    fn send_now(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let mut sent = 0;
        for buf in bufs {
            let n = match self.outgoing.put(buf) {
                Some(Ok(n)) => n,
                Some(Err(err)) if sent == 0 => return Err(err),
                Some(Err(_)) | None => break,
            };
            sent += n;
            if n < buf.len() {
                break;
            }
        }
        if sent == 0 && bufs.iter().any(|buf| !buf.is_empty()) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(sent)
    }
}
