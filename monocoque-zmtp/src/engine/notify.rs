//! A single-threaded notification: tasks wait until something changed.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Wakes every task waiting on it. Not `Send`: sockets live on one compio runtime.
///
/// A waiter takes a [`Listener`] *before* checking its condition, then awaits it; a
/// `notify` between the check and the await is not lost because the listener compares
/// generations. A listener dropped before it fired takes its waker back out, so a
/// task that ended never stays registered (an endpoint's stop signal is notified
/// once, at unbind, while thousands of connection tasks come and go under it).
#[derive(Debug, Default)]
pub(crate) struct Notify {
    generation: Cell<u64>,
    waiters: RefCell<Waiters>,
}

/// Registered wakers in numbered slots, so a listener removes its own in O(1).
#[derive(Debug, Default)]
struct Waiters {
    slots: Vec<Option<Waker>>,
    free: Vec<usize>,
}

impl Waiters {
    fn insert(&mut self, waker: Waker) -> usize {
        match self.free.pop() {
            Some(slot) => {
                self.slots[slot] = Some(waker);
                slot
            }
            None => {
                self.slots.push(Some(waker));
                self.slots.len() - 1
            }
        }
    }

    fn remove(&mut self, slot: usize) {
        if let Some(entry) = self.slots.get_mut(slot)
            && entry.take().is_some()
        {
            self.free.push(slot);
        }
    }
}

impl Notify {
    pub(crate) fn notify(&self) {
        self.generation.set(self.generation.get().wrapping_add(1));
        // Most notifications find nobody waiting (a busy receiver is not parked).
        if self.waiters.borrow().slots.is_empty() {
            return;
        }
        // Every registration belongs to the old generation: clear them all, then wake
        // outside the borrow.
        let mut slots = {
            let mut waiters = self.waiters.borrow_mut();
            waiters.free.clear();
            std::mem::take(&mut waiters.slots)
        };
        for waker in slots.drain(..).flatten() {
            waker.wake();
        }
        // Keep the list's capacity: no allocation per notification.
        let mut waiters = self.waiters.borrow_mut();
        if waiters.slots.is_empty() {
            waiters.slots = slots;
        }
    }

    pub(crate) fn listen(&self) -> Listener<'_> {
        Listener {
            notify: self,
            generation: self.generation.get(),
            slot: None,
        }
    }

    #[cfg(test)]
    fn registered(&self) -> usize {
        self.waiters.borrow().slots.iter().flatten().count()
    }
}

/// Resolves once [`Notify::notify`] was called after the listener was made.
#[derive(Debug)]
pub(crate) struct Listener<'a> {
    notify: &'a Notify,
    generation: u64,
    /// Where this listener's waker is registered, once polled.
    slot: Option<usize>,
}

impl Listener<'_> {
    fn fired(&self) -> bool {
        self.notify.generation.get() != self.generation
    }
}

impl Future for Listener<'_> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.fired() {
            return Poll::Ready(());
        }
        let mut waiters = self.notify.waiters.borrow_mut();
        match self.slot {
            Some(slot) => {
                if let Some(Some(waker)) = waiters.slots.get_mut(slot)
                    && !waker.will_wake(cx.waker())
                {
                    waker.clone_from(cx.waker());
                }
            }
            None => {
                let slot = waiters.insert(cx.waker().clone());
                drop(waiters);
                self.slot = Some(slot);
            }
        }
        Poll::Pending
    }
}

impl Drop for Listener<'_> {
    fn drop(&mut self) {
        // After a notify the slots were cleared (and may be reused): only an unfired
        // listener still owns its slot.
        if let Some(slot) = self.slot
            && !self.fired()
        {
            self.notify.waiters.borrow_mut().remove(slot);
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    fn poll_once(listener: &mut Listener<'_>) -> Poll<()> {
        let mut cx = Context::from_waker(Waker::noop());
        Pin::new(listener).poll(&mut cx)
    }

    #[test]
    fn a_dropped_listener_unregisters_its_waker() {
        let notify = Notify::default();
        for _ in 0..1000 {
            let mut listener = notify.listen();
            assert_eq!(poll_once(&mut listener), Poll::Pending);
            assert_eq!(notify.registered(), 1);
        }
        assert_eq!(notify.registered(), 0, "nothing left by dropped listeners");
        assert!(notify.waiters.borrow().slots.len() <= 1, "slots are reused");
    }

    #[test]
    fn a_notify_fires_every_listener_made_before_it() {
        let notify = Notify::default();
        let mut a = notify.listen();
        let mut b = notify.listen();
        assert_eq!(poll_once(&mut a), Poll::Pending);
        notify.notify();
        let mut late = notify.listen();
        assert_eq!(poll_once(&mut a), Poll::Ready(()));
        assert_eq!(
            poll_once(&mut b),
            Poll::Ready(()),
            "fired before it was polled"
        );
        assert_eq!(poll_once(&mut late), Poll::Pending, "made after the notify");
        drop(a);
        drop(b);
        assert_eq!(notify.registered(), 1, "fired listeners leave others alone");
        drop(late);
        assert_eq!(notify.registered(), 0);
    }
}
