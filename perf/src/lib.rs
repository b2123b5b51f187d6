//! Shared by the `zmq_*` perf binaries: the arguments and output of libzmq's own perf
//! tools (`local_thr`, `remote_thr`, `local_lat`, `remote_lat`), so that these, run on
//! libzmq through the `zmq` crate, and monocoque's (the `examples` crate) print the
//! same lines and can be paired with each other.
//!
//! Every binary also accepts `--version` alone and prints the libzmq version it was
//! built with.

use std::time::Duration;

/// `<endpoint> <message-size> <count>`, or the usage message and exit code 1.
/// `--version` prints the libzmq version and exits.
pub fn parse_args(tool: &str, endpoint_role: &str, what: &str) -> (String, usize, u64) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() == 1 && args[0] == "--version" {
        let (major, minor, patch) = zmq::version();
        println!("libzmq {major}.{minor}.{patch}");
        std::process::exit(0);
    }
    let parsed = match &args[..] {
        [endpoint, size, count] => match (size.parse(), count.parse()) {
            (Ok(size), Ok(count)) if count > 0 => Some((endpoint.clone(), size, count)),
            _ => None,
        },
        _ => None,
    };
    parsed.unwrap_or_else(|| {
        eprintln!("usage: {tool} <{endpoint_role}> <message-size> <{what}>");
        std::process::exit(1);
    })
}

/// What libzmq's `local_thr` prints; `elapsed` runs from the first message received
/// to the last, and the rate is `count / elapsed`, as libzmq computes it.
pub fn print_throughput(size: usize, count: u64, elapsed: Duration) {
    let micros = (elapsed.as_micros() as f64).max(1.0);
    let throughput = count as f64 / micros * 1e6;
    let megabits = throughput * size as f64 * 8.0 / 1e6;
    println!("message size: {size} [B]");
    println!("message count: {count}");
    println!("mean throughput: {} [msg/s]", throughput as u64);
    println!("mean throughput: {megabits:.3} [Mb/s]");
}

/// What libzmq's `remote_lat` prints: one-way latency, `elapsed / (2 * roundtrips)`.
pub fn print_latency(size: usize, roundtrips: u64, elapsed: Duration) {
    let latency = elapsed.as_micros() as f64 / (roundtrips as f64 * 2.0);
    println!("message size: {size} [B]");
    println!("roundtrip count: {roundtrips}");
    println!("average latency: {latency:.3} [us]");
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
