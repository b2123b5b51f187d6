//! Argument parsing and output shared by the perf tools, in libzmq's conventions
//! (`perf/local_thr.cpp` and friends): same arguments, same lines printed.
//! Each tool uses only part of it.
#![allow(dead_code)]

use std::time::Duration;

/// `<endpoint> <message-size> <count>`, or a usage message naming `tool` and `what`.
pub fn parse_args(tool: &str, endpoint_role: &str, what: &str) -> (String, usize, u64) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match &args[..] {
        [endpoint, size, count] => match (size.parse(), count.parse()) {
            (Ok(size), Ok(count)) if count > 0 => Some((endpoint.clone(), size, count)),
            _ => None,
        },
        _ => None,
    };
    parsed.unwrap_or_else(|| usage(tool, endpoint_role, what))
}

fn usage(tool: &str, endpoint_role: &str, what: &str) -> ! {
    eprintln!("usage: {tool} <{endpoint_role}> <message-size> <{what}>");
    std::process::exit(1);
}

/// What libzmq's `local_thr` prints. `elapsed` runs from the first message received
/// to the last; the rate is `count / elapsed`, as libzmq computes it.
pub fn print_throughput(size: usize, count: u64, elapsed: Duration) {
    // libzmq measures in whole microseconds and guards against zero.
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

/// Exits with `message` on stderr, as libzmq's tools do on a failed call.
pub fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}
