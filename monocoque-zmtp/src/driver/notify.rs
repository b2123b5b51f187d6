//! A single-threaded notification: tasks wait until something changed.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Wakes every task waiting on it. Not `Send`: sockets live on one compio runtime.
///
/// A waiter takes a [`Listener`] *before* checking its condition, then awaits it; a
/// `notify` between the check and the await is not lost because the listener compares
/// generations.
#[derive(Debug, Default)]
pub(crate) struct Notify {
    generation: Cell<u64>,
    wakers: RefCell<Vec<Waker>>,
}

impl Notify {
    pub(crate) fn notify(&self) {
        self.generation.set(self.generation.get().wrapping_add(1));
        // Most notifications find nobody waiting (a busy receiver is not parked).
        if self.wakers.borrow().is_empty() {
            return;
        }
        let mut wakers = std::mem::take(&mut *self.wakers.borrow_mut());
        for waker in wakers.drain(..) {
            waker.wake();
        }
        let mut slot = self.wakers.borrow_mut();
        if slot.is_empty() {
            *slot = wakers;
        }
    }

    pub(crate) fn listen(&self) -> Listener<'_> {
        Listener {
            notify: self,
            generation: self.generation.get(),
        }
    }
}

/// Resolves once [`Notify::notify`] was called after the listener was made.
#[derive(Debug)]
pub(crate) struct Listener<'a> {
    notify: &'a Notify,
    generation: u64,
}

impl Future for Listener<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.notify.generation.get() != self.generation {
            return Poll::Ready(());
        }
        let mut wakers = self.notify.wakers.borrow_mut();
        if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
            wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// A stop signal shared by the tasks of a socket or of one endpoint.
#[derive(Debug, Default)]
pub(crate) struct Stop {
    stopped: Cell<bool>,
    notify: Notify,
}

impl Stop {
    pub(crate) fn stop(&self) {
        self.stopped.set(true);
        self.notify.notify();
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped.get()
    }

    /// Resolves when stopped.
    pub(crate) async fn wait(&self) {
        loop {
            let listener = self.notify.listen();
            if self.stopped.get() {
                return;
            }
            listener.await;
        }
    }
}

/// Returns `Pending` once after waking its task, so other tasks of the runtime run.
#[derive(Debug, Default)]
pub(crate) struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
