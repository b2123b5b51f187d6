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

use compio::driver::{DriverType, ProactorBuilder};
use compio::runtime::{Runtime, RuntimeBuilder};

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
/// # Errors
///
/// When the runtime cannot be made: [`Driver::IoUring`] where io_uring is refused,
/// or the process out of descriptors.
pub fn build(driver: Driver) -> io::Result<Runtime> {
    let mut proactor = ProactorBuilder::new();
    match driver {
        Driver::Auto => {}
        Driver::IoUring => {
            proactor.driver_type(DriverType::IoUring);
        }
        Driver::Epoll => {
            proactor.driver_type(DriverType::Poll);
        }
    }
    let runtime = RuntimeBuilder::new().with_proactor(proactor).build()?;
    log_driver(runtime.driver_type());
    Ok(runtime)
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
