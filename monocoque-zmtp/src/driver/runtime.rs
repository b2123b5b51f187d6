//! Which compio driver runs the sockets: io_uring where the kernel allows it, epoll
//! (compio's `polling` driver) where it does not.
//!
//! compio is built with both drivers, so any compio runtime, `Runtime::new()` and
//! `#[compio::main]` included, tries io_uring and falls back to epoll when io_uring
//! is refused (Docker's default seccomp profile, `kernel.io_uring_disabled`), instead
//! of failing with `PermissionDenied`. [`runtime`] builds a runtime with the driver
//! named by the `MONOCOQUE_DRIVER` environment variable, to force either.
//!
//! ```
//! let runtime = monocoque_zmtp::runtime::build(monocoque_zmtp::runtime::Driver::Epoll)?;
//! assert!(runtime.driver_type().is_polling());
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;
use std::sync::Once;
use std::task::Waker;

use compio::driver::{DriverType, ProactorBuilder};
use compio::runtime::{Runtime, RuntimeBuilder};

/// How many tasks woken from other threads a runtime queues before a waker has to
/// spin until the runtime drains them. compio's default, 64, is one burst of sends
/// over 64 handles of an I/O thread: a round over 1,000 DEALER handles ran 100,000-
/// 104,000 round trips per second with it and 118,000-122,000 with this (64 KiB per
/// runtime).
const SYNC_QUEUE: usize = 4096;

/// The environment variable [`Driver::from_env`] reads.
pub const DRIVER_VARIABLE: &str = "MONOCOQUE_DRIVER";

/// A choice of compio driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Driver {
    /// io_uring if the kernel allows it, else epoll.
    #[default]
    Auto,
    /// io_uring only: building the runtime fails where it is refused.
    IoUring,
    /// epoll (compio's `polling` driver), even where io_uring is available.
    Epoll,
}

impl Driver {
    /// Parses a `MONOCOQUE_DRIVER` value: `io_uring`, `epoll` (or `polling`),
    /// `auto`; `None` for anything else.
    pub fn parse(value: &str) -> Option<Driver> {
        match value.trim().to_ascii_lowercase().as_str() {
            "auto" | "" => Some(Driver::Auto),
            "io_uring" | "io-uring" | "iouring" => Some(Driver::IoUring),
            "epoll" | "polling" | "poll" => Some(Driver::Epoll),
            _ => None,
        }
    }

    /// The driver named by `MONOCOQUE_DRIVER`; [`Driver::Auto`] when it is unset, or
    /// set to something unknown (which is logged).
    pub fn from_env() -> Driver {
        let Ok(value) = std::env::var(DRIVER_VARIABLE) else {
            return Driver::Auto;
        };
        Driver::parse(&value).unwrap_or_else(|| {
            tracing::warn!(%value, "unknown {DRIVER_VARIABLE}; using io_uring or epoll");
            Driver::Auto
        })
    }
}

/// A compio runtime on the driver named by `MONOCOQUE_DRIVER` (see
/// [`Driver::from_env`]).
///
/// # Errors
///
/// When the runtime cannot be made: io_uring forced where it is refused, or the
/// process out of descriptors.
pub fn runtime() -> io::Result<Runtime> {
    build(Driver::from_env())
}

/// A compio runtime on `driver`.
///
/// On io_uring the ring is set up to run its task work only when this thread waits
/// for completions (`IORING_SETUP_DEFER_TASKRUN`, with `SINGLE_ISSUER` and
/// `TASKRUN_FLAG`; Linux 6.1 and later), falling back to a plain ring where the
/// kernel refuses that. Without it, every completion for a socket of this thread
/// (a peer's message arriving) interrupts the thread to run the kernel's part of
/// the receive, while the sending core still holds that socket's lock: a ROUTER
/// serving 1,000 DEALERs made 83,000 round trips per second that way and 157,000
/// with deferred task work (docs/performance.md).
///
/// # Errors
///
/// When the runtime cannot be made: [`Driver::IoUring`] where io_uring is refused,
/// or the process out of descriptors.
pub fn build(driver: Driver) -> io::Result<Runtime> {
    let runtime = match driver {
        Driver::Epoll => build_on(Some(DriverType::Poll), false),
        Driver::IoUring => build_on(Some(DriverType::IoUring), true)
            .or_else(|_| build_on(Some(DriverType::IoUring), false)),
        Driver::Auto => {
            build_on(Some(DriverType::IoUring), true).or_else(|_| build_on(None, false))
        }
    }?;
    log_driver(runtime.driver_type());
    Ok(runtime)
}

/// A runtime on `driver` (`None`: io_uring, else epoll), with io_uring's task work
/// deferred to this thread's waits if `deferred`.
fn build_on(driver: Option<DriverType>, deferred: bool) -> io::Result<Runtime> {
    let mut proactor = ProactorBuilder::new();
    if let Some(driver) = driver {
        proactor.driver_type(driver);
    }
    if deferred {
        proactor
            .single_issuer(true)
            .defer_taskrun(true)
            .taskrun_flag(true);
    }
    RuntimeBuilder::new()
        .with_proactor(proactor)
        .sync_queue_size(SYNC_QUEUE)
        .build()
}

/// A waker of the current thread's compio runtime itself (its driver, not a task),
/// for a `RemoteWaker` to wake after the task it wakes from another thread. `None`
/// off a compio thread.
pub(crate) fn current_waker() -> Option<Waker> {
    Runtime::try_with_current(Runtime::waker).ok()
}

/// Logs, once per process, which driver the sockets run on: called when a socket
/// first binds or connects, on whatever runtime the application made.
pub(crate) fn log_current_driver() {
    if let Ok(driver) = Runtime::try_with_current(Runtime::driver_type) {
        log_driver(driver);
    }
}

fn log_driver(driver: DriverType) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let name = if driver.is_iouring() {
            "io_uring"
        } else {
            "epoll"
        };
        tracing::info!(driver = name, "monocoque runs on compio's {name} driver");
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_names_parse() {
        assert_eq!(Driver::parse("epoll"), Some(Driver::Epoll));
        assert_eq!(Driver::parse("polling"), Some(Driver::Epoll));
        assert_eq!(Driver::parse("IO_URING"), Some(Driver::IoUring));
        assert_eq!(Driver::parse(" auto "), Some(Driver::Auto));
        assert_eq!(Driver::parse("kqueue"), None);
    }

    #[test]
    fn epoll_can_be_forced() {
        let runtime = build(Driver::Epoll).unwrap();
        assert!(runtime.driver_type().is_polling());
        let sum = runtime.block_on(async { 1 + 1 });
        assert_eq!(sum, 2);
    }
}
