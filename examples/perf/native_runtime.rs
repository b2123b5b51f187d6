//! The runtime the perf tools' native API (`--api native`, the default) runs on.

use crate::common;

/// monocoque's compio runtime (`monocoque::runtime::runtime`): io_uring with its
/// task work deferred to this thread's waits, or the driver `MONOCOQUE_DRIVER`
/// names.
pub fn new() -> compio::runtime::Runtime {
    monocoque::runtime::runtime()
        .unwrap_or_else(|e| common::fail(format_args!("cannot create runtime: {e}")))
}
