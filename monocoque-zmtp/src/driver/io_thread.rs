//! I/O threads: each runs one compio runtime and the jobs sent to it from any thread.
//!
//! A job is a closure that runs on the thread's runtime (it spawns a socket's task,
//! typically). The thread ends when told to stop and every task it was asked to
//! wait for has finished (sockets closing with their linger).

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;

use futures::StreamExt;
use futures::channel::mpsc;

use super::runtime::{self, Driver};

/// Work for an I/O thread.
pub(crate) enum Job {
    /// Runs on the thread's runtime.
    Run(Box<dyn FnOnce() + Send>),
    /// No more jobs: the thread ends once its counted tasks have finished.
    Stop,
}

/// One I/O thread, as seen from other threads.
#[derive(Debug)]
pub(crate) struct IoThread {
    jobs: mpsc::UnboundedSender<Job>,
    /// Tasks (socket pumps) the thread waits for before it ends.
    tasks: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Job::Run(_) => "Job::Run",
            Job::Stop => "Job::Stop",
        })
    }
}

impl IoThread {
    /// Starts a thread named `name` with a runtime on `driver`.
    pub(crate) fn start(name: String, driver: Driver) -> io::Result<IoThread> {
        let (jobs, receiver) = mpsc::unbounded();
        let tasks = Arc::new(AtomicUsize::new(0));
        let thread_tasks = tasks.clone();
        // The runtime is made on the thread; a failure comes back before `start` returns.
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
        let thread = std::thread::Builder::new().name(name).spawn(move || {
            let runtime = match runtime::build(driver) {
                Ok(runtime) => runtime,
                Err(err) => {
                    let _ = ready_tx.send(Err(err));
                    return;
                }
            };
            let _ = ready_tx.send(Ok(()));
            runtime.block_on(serve(receiver, thread_tasks));
        })?;
        ready_rx
            .recv()
            .map_err(|_| io::Error::other("I/O thread ended before its runtime started"))??;
        Ok(IoThread {
            jobs,
            tasks,
            thread: Some(thread),
        })
    }

    /// Runs `job` on the thread. Returns false if the thread has stopped.
    pub(crate) fn run(&self, job: impl FnOnce() + Send + 'static) -> bool {
        self.jobs.unbounded_send(Job::Run(Box::new(job))).is_ok()
    }

    /// Counts a task the thread must finish before it ends (a socket's pump, which
    /// may still spend its linger after the context stops).
    pub(crate) fn task_guard(&self) -> TaskGuard {
        self.tasks.fetch_add(1, Ordering::AcqRel);
        TaskGuard {
            tasks: self.tasks.clone(),
            jobs: self.jobs.clone(),
        }
    }

    /// Tells the thread to end once its counted tasks are done, and waits for it.
    pub(crate) fn stop_and_join(&mut self) {
        let _ = self.jobs.unbounded_send(Job::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Runs jobs until told to stop and every counted task is done.
async fn serve(mut jobs: mpsc::UnboundedReceiver<Job>, tasks: Arc<AtomicUsize>) {
    let mut stopping = false;
    loop {
        if stopping && tasks.load(Ordering::Acquire) == 0 {
            return;
        }
        match jobs.next().await {
            Some(Job::Run(job)) => job(),
            Some(Job::Stop) => stopping = true,
            None => return,
        }
    }
}

/// Counts a task in its thread's tally while it lives; dropping it wakes the thread
/// so that a stopping thread sees the task is done.
#[derive(Debug)]
pub(crate) struct TaskGuard {
    tasks: Arc<AtomicUsize>,
    jobs: mpsc::UnboundedSender<Job>,
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.tasks.fetch_sub(1, Ordering::AcqRel);
        let _ = self.jobs.unbounded_send(Job::Run(Box::new(|| {})));
    }
}
