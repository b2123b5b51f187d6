//! Shared by the `zmq_*` perf binaries: the arguments and output of libzmq's own perf
//! tools (`local_thr`, `remote_thr`, `local_lat`, `remote_lat`), so that these, run on
//! libzmq through the `zmq` crate, and monocoque's (the `examples` crate) print the
//! same lines and can be paired with each other.
//!
//! Every binary also accepts `--version` alone and prints the libzmq version it was
//! built with.

// The arguments, the pattern option and the printed lines are monocoque's tools' own,
// from one file, so the two sides cannot drift apart.
#[path = "../../examples/perf/common.rs"]
mod common;

pub use common::{
    LatPattern, Markers, Pattern, marker, print_latency, print_round_trips, print_throughput,
};

/// `<endpoint> <message-size> <count>`, or the usage message and exit code 1.
/// `--version` prints the libzmq version and exits.
pub fn parse_args(tool: &str, endpoint_role: &str, what: &str) -> (String, usize, u64) {
    common::parse_args_from(&args_or_version(), tool, endpoint_role, what)
}

/// The throughput tools' arguments: `<endpoint> <message-size> <message-count>
/// [pattern]`; without `pattern`, libzmq's three arguments and PUSH/PULL.
/// `--version` prints the libzmq version and exits.
pub fn parse_thr_args(tool: &str, endpoint_role: &str) -> (String, usize, u64, Pattern) {
    common::parse_thr_args_from(&args_or_version(), tool, endpoint_role)
}

/// The latency tools' arguments: `<endpoint> <message-size> <roundtrip-count>
/// [pattern]`; without `pattern`, libzmq's three arguments and REQ/REP.
/// `--version` prints the libzmq version and exits.
pub fn parse_lat_args(tool: &str, endpoint_role: &str) -> (String, usize, u64, LatPattern) {
    common::parse_lat_args_from(&args_or_version(), tool, endpoint_role)
}

/// The plain TCP tools' read and write size: 1 MiB, the fastest of 64 KiB (21,000
/// 64 KiB messages' worth per second here), 256 KiB (43,000), 1 MiB (60,000), 2 MiB
/// (53,000-56,000) and 4 MiB (48,000).
pub const TRANSFER_CHUNK: usize = 1024 * 1024;

/// The `host:port` of a `tcp://` endpoint; exits with code 2 (not supported) for any
/// other transport.
pub fn tcp_address(endpoint: &str) -> &str {
    endpoint.strip_prefix("tcp://").unwrap_or_else(|| {
        eprintln!("only tcp:// endpoints, not {endpoint}");
        std::process::exit(2);
    })
}

fn args_or_version() -> Vec<String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() == 1 && args[0] == "--version" {
        let (major, minor, patch) = zmq::version();
        println!("libzmq {major}.{minor}.{patch}");
        std::process::exit(0);
    }
    args
}

/// Sets both high-water marks to 0 (unlimited), as the PUB/SUB tests do on both sides.
pub fn unlimited(socket: &zmq::Socket) {
    check(socket.set_sndhwm(0), "zmq_setsockopt(ZMQ_SNDHWM)");
    check(socket.set_rcvhwm(0), "zmq_setsockopt(ZMQ_RCVHWM)");
}

/// Unwraps a libzmq result or exits with the error and what was being done.
pub fn check<T>(result: Result<T, zmq::Error>, doing: &str) -> T {
    result.unwrap_or_else(|e| {
        eprintln!("error in {doing}: {e}");
        std::process::exit(1);
    })
}

/// Exits unless `message` is one frame of `size` bytes.
pub fn check_size(message: &zmq::Message, size: usize) {
    if message.get_more() || message.len() != size {
        eprintln!(
            "message of {} bytes{}; expected one frame of {size} bytes",
            message.len(),
            if message.get_more() {
                " (more follow)"
            } else {
                ""
            }
        );
        std::process::exit(1);
    }
}
