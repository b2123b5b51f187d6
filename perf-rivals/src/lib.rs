//! Shared by the rival perf binaries (`zeromq_*` on zmq.rs, the `zeromq` crate, and
//! `omq_*` on OMQ.rs, the `omq-tokio` crate): the arguments and output of libzmq's
//! perf tools, from the same file as monocoque's and libzmq's tools
//! (`examples/perf/common.rs`), so every implementation parses and prints alike and
//! `scripts/compare.sh` can run them side by side.
//!
//! Both crates have every pattern the tools take (PUSH/PULL, DEALER/ROUTER, XPUB/SUB
//! with N subscribers, REQ/REP). Should a future rival lack one, its tool is to print
//! why on stderr and exit with code 2, which `scripts/compare.sh` reports as "n/a".
//! Both crates run on tokio; every tool uses a current-thread runtime (the process
//! is pinned to one core by `scripts/compare.sh` anyway).

#[path = "../../examples/perf/common.rs"]
mod common;

pub use common::{
    Markers, Pattern, fail, marker, parse_args, parse_thr_args, print_latency, print_throughput,
};

/// A current-thread tokio runtime with I/O and timers.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(format_args!("tokio runtime: {e}")))
}

/// Unwraps `result` or exits with what was being done and the error.
pub fn check<T, E: std::fmt::Debug>(result: Result<T, E>, doing: &str) -> T {
    result.unwrap_or_else(|e| fail(format_args!("{doing}: {e:?}")))
}

/// Exits unless a message of `parts` frames, the last of `len` bytes, is one frame of
/// `size` bytes (`parts` counts the frames the application sees, envelopes removed).
pub fn check_frame(parts: usize, len: usize, size: usize) {
    if parts != 1 || len != size {
        fail(format_args!(
            "message of {parts} frame(s), last {len} bytes; expected one frame of {size} bytes"
        ));
    }
}
