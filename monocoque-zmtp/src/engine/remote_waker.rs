//! Waking a task that runs on another thread's compio runtime.

use std::sync::OnceLock;
use std::task::Waker;

use futures::task::AtomicWaker;

/// The waker of a task on another thread, and of that thread's runtime.
///
/// The task registers its own waker (as with an `AtomicWaker`) and, once, its
/// runtime's (`driver::runtime::current_waker`). [`wake`](Self::wake) wakes the task,
/// then the runtime: compio 0.19 queues a task woken from another thread in a bounded
/// queue, and when that queue is full it notifies the runtime *before* the task is
/// queued, so the runtime may go back to sleep without it. Waking the runtime after
/// the task's wake has returned (the task queued) closes that gap; it costs an atomic
/// operation when the first wake already notified the runtime.
#[derive(Debug, Default)]
pub(crate) struct RemoteWaker {
    task: AtomicWaker,
    runtime: OnceLock<Waker>,
}

impl RemoteWaker {
    /// Registers the waiting task's waker (called by the task, on its thread).
    pub(crate) fn register(&self, task: &Waker) {
        self.task.register(task);
    }

    /// Notes the task's runtime (the first call counts).
    pub(crate) fn set_runtime(&self, runtime: Waker) {
        let _ = self.runtime.set(runtime);
    }

    /// Wakes the task, then its runtime.
    pub(crate) fn wake(&self) {
        self.task.wake();
        if let Some(runtime) = self.runtime.get() {
            runtime.wake_by_ref();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_wake_reaches_the_task_and_then_its_runtime() {
        let (task, runtime) = (
            Arc::new(Count(AtomicUsize::new(0))),
            Arc::new(Count(AtomicUsize::new(0))),
        );
        let waker = RemoteWaker::default();
        waker.register(&Waker::from(task.clone()));
        waker.wake();
        assert_eq!(task.0.load(Ordering::SeqCst), 1);
        waker.set_runtime(Waker::from(runtime.clone()));
        waker.register(&Waker::from(task.clone()));
        waker.wake();
        waker.wake();
        assert_eq!(
            task.0.load(Ordering::SeqCst),
            2,
            "a task is woken once per registration"
        );
        assert_eq!(
            runtime.0.load(Ordering::SeqCst),
            2,
            "its runtime on every wake"
        );
    }
}
