//! One PUB/SUB harness of the criterion benchmarks, run once for a fixed number of
//! messages and timed, so that `perf`, `/usr/bin/time` or `strace -c` see the workload
//! alone (criterion's own analysis fills a profile of `cargo bench`).
//!
//! ```sh
//! cargo build --release -p monocoque-benches --example pub_sub_run
//! # layout, subscribers, message size, messages [, tcp|ipc]
//! taskset -c 0,1 target/release/examples/pub_sub_run io2 8 65536 20000
//! taskset -c 0 perf record target/release/examples/pub_sub_run native 1 65536 100000
//! ```
//!
//! Layouts, as the benchmark groups name them: `libzmq`, `native` (criterion's
//! `monocoque`: one compio thread), `2t` (native sockets on two compio threads) and
//! `io2` (handles of a context with two I/O threads). A first run of a tenth of the
//! messages warms the connections up; the second is reported in messages per second.

use std::process::ExitCode;
use std::time::Duration;

use monocoque_benches::{
    HandleOneWay, LibzmqOneWay, MonocoqueOneWay, Pattern, ThreadsPubSub, Transport,
};

const USAGE: &str =
    "usage: pub_sub_run libzmq|native|2t|io2 <subscribers> <size> <messages> [tcp|ipc]";

/// Runs `run` on a tenth of `count`, then on `count`; the second run's time.
fn twice(count: u64, mut run: impl FnMut(u64) -> Duration) -> Duration {
    run((count / 10).max(1));
    run(count)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match args.as_slice() {
        [layout, subs, size, count, rest @ ..] if rest.len() <= 1 => (
            layout.as_str(),
            subs.parse::<usize>().ok().filter(|n| (1..=255).contains(n)),
            size.parse::<usize>().ok(),
            count.parse::<u64>().ok().filter(|&n| n > 0),
            match rest.first().map(String::as_str) {
                None | Some("tcp") => Some(Transport::Tcp),
                Some("ipc") => Some(Transport::Ipc),
                Some(_) => None,
            },
        ),
        _ => ("", None, None, None, None),
    };
    let (layout, Some(subs), Some(size), Some(count), Some(transport)) = parsed else {
        eprintln!("{USAGE}");
        return ExitCode::FAILURE;
    };
    let pattern = Pattern::PubSub(subs);
    let elapsed = match layout {
        "libzmq" => {
            let mut harness = LibzmqOneWay::new(pattern, transport, size);
            twice(count, |n| harness.run(n))
        }
        "native" => {
            let harness = MonocoqueOneWay::new(pattern, transport, size);
            twice(count, |n| harness.run(n))
        }
        "2t" => {
            let harness = ThreadsPubSub::new(subs, transport, size);
            twice(count, |n| harness.run(n))
        }
        "io2" => {
            let harness = HandleOneWay::new(pattern, transport, size);
            twice(count, |n| harness.run(n))
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let rate = count as f64 / elapsed.as_secs_f64();
    println!("{layout} {subs} subscribers {size} B: {rate:.0} msg/s");
    ExitCode::SUCCESS
}
