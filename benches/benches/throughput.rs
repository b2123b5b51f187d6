//! monocoque against libzmq in one run. Each group has a `libzmq` and a `monocoque`
//! function, so criterion's report puts them side by side; PUB/SUB groups also have
//! `monocoque-io2`, the same workload through handles of a context with two I/O
//! threads (see `HandleOneWay`), and `monocoque-2t`, native sockets on two compio
//! threads, the XPUB on one and the SUBs on the other (see `ThreadsPubSub`):
//!
//! | groups | what | sizes (B) | transports |
//! | --- | --- | --- | --- |
//! | `push_pull_<transport>_<size>B` | messages/s, PUSH to PULL | 16, 64, 256, 1024, 8192, 65536 | tcp, ipc |
//! | `dealer_router_<transport>_<size>B` | messages/s, DEALER to ROUTER | same | tcp, ipc |
//! | `pub_sub_1sub_<transport>_<size>B` | messages/s published, 1 subscriber | same | tcp, ipc |
//! | `pub_sub_8sub_<transport>_<size>B` | messages/s published, each received by all 8 subscribers | same | tcp, ipc |
//! | `req_rep_<transport>_<size>B` | round trips/s | 64, 1024 | tcp, ipc |
//!
//! 128 benchmarks. Each sample moves about a second of traffic: an iteration is a
//! small batch sized by bytes ([`batch`]), and flat sampling with a 10 s measurement
//! time over 10 samples makes criterion run about a second's worth of iterations per
//! sample (sized from its 1 s warm-up). About 11 s per benchmark, about 25 minutes in
//! all:
//!
//! ```sh
//! cargo bench -p monocoque-benches                      # everything
//! cargo bench -p monocoque-benches -- pub_sub_8sub_tcp  # criterion's name filter (a regex)
//! cargo bench -p monocoque-benches -- 'pub_sub_.*_65536B'  # PUB/SUB 64 KiB, both layouts
//! cargo bench -p monocoque-benches -- --test            # each benchmark once: a smoke check
//! ```
//!
//! A harness (sockets, connections, subscriptions) is set up only when its benchmark
//! runs, so a filtered run sets up only what it measures. The harnesses are in
//! `src/lib.rs`.

use std::time::Duration;

use criterion::{
    BenchmarkGroup, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
    measurement::WallTime,
};
use monocoque_benches::{
    HandleOneWay, LibzmqOneWay, LibzmqReqRep, MonocoqueOneWay, MonocoqueReqRep, Pattern,
    ThreadsPubSub, Transport,
};

/// Message sizes of the one-way benchmarks.
const SIZES: [usize; 6] = [16, 64, 256, 1024, 8192, 65536];
/// Message sizes of the REQ/REP benchmarks.
const REQ_REP_SIZES: [usize; 2] = [64, 1024];
const TRANSPORTS: [Transport; 2] = [Transport::Tcp, Transport::Ipc];

/// Messages per iteration: about 256 KiB, at least 16 and at most 10,000 messages.
/// Small enough for criterion's warm-up to size samples finely, large enough that a
/// run's fixed cost (a sender thread or task) does not dominate an iteration.
fn batch(size: usize) -> u64 {
    (256 * 1024 / size.max(1)).clamp(16, 10_000) as u64
}

/// Round trips per iteration: round trips are slow, a few tens of microseconds.
const ROUND_TRIPS: u64 = 100;

fn transport_name(transport: Transport) -> &'static str {
    match transport {
        Transport::Tcp => "tcp",
        Transport::Ipc => "ipc",
    }
}

fn group<'a>(c: &'a mut Criterion, name: &str, elements: u64) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    // Every sample the same number of iterations, about measurement_time / 10.
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(elements));
    group
}

/// `io_threads`: also run the workload through handles of a two-I/O-thread context.
fn one_way(c: &mut Criterion, name: &str, pattern: Pattern, io_threads: bool) {
    for transport in TRANSPORTS {
        for size in SIZES {
            let name = format!("{name}_{}_{size}B", transport_name(transport));
            let batch = batch(size);
            let mut group = group(c, &name, batch);
            // Built on first use: criterion calls the closure only if the filter matches.
            let mut libzmq = None;
            group.bench_function("libzmq", |b| {
                let harness =
                    libzmq.get_or_insert_with(|| LibzmqOneWay::new(pattern, transport, size));
                b.iter_custom(|iters| harness.run(iters * batch))
            });
            drop(libzmq);
            let mut monocoque = None;
            group.bench_function("monocoque", |b| {
                let harness =
                    monocoque.get_or_insert_with(|| MonocoqueOneWay::new(pattern, transport, size));
                b.iter_custom(|iters| harness.run(iters * batch))
            });
            drop(monocoque);
            if io_threads {
                let mut handles = None;
                group.bench_function("monocoque-io2", |b| {
                    let harness =
                        handles.get_or_insert_with(|| HandleOneWay::new(pattern, transport, size));
                    b.iter_custom(|iters| harness.run(iters * batch))
                });
                drop(handles);
                if let Pattern::PubSub(subscribers) = pattern {
                    let mut threads = None;
                    group.bench_function("monocoque-2t", |b| {
                        let harness = threads.get_or_insert_with(|| {
                            ThreadsPubSub::new(subscribers, transport, size)
                        });
                        b.iter_custom(|iters| harness.run(iters * batch))
                    });
                    drop(threads);
                }
            }
            group.finish();
        }
    }
}

fn push_pull(c: &mut Criterion) {
    one_way(c, "push_pull", Pattern::PushPull, false);
}

fn dealer_router(c: &mut Criterion) {
    one_way(c, "dealer_router", Pattern::DealerRouter, false);
}

fn pub_sub(c: &mut Criterion) {
    one_way(c, "pub_sub_1sub", Pattern::PubSub(1), true);
    one_way(c, "pub_sub_8sub", Pattern::PubSub(8), true);
}

fn req_rep(c: &mut Criterion) {
    for transport in TRANSPORTS {
        for size in REQ_REP_SIZES {
            let name = format!("req_rep_{}_{size}B", transport_name(transport));
            let mut group = group(c, &name, ROUND_TRIPS);
            let mut libzmq = None;
            group.bench_function("libzmq", |b| {
                let harness = libzmq.get_or_insert_with(|| LibzmqReqRep::new(transport, size));
                b.iter_custom(|iters| harness.run(iters * ROUND_TRIPS))
            });
            drop(libzmq);
            let mut monocoque = None;
            group.bench_function("monocoque", |b| {
                let harness =
                    monocoque.get_or_insert_with(|| MonocoqueReqRep::new(transport, size));
                b.iter_custom(|iters| harness.run(iters * ROUND_TRIPS))
            });
            drop(monocoque);
            group.finish();
        }
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10))
}

criterion_group! {
    name = benches;
    config = config();
    targets = push_pull, dealer_router, pub_sub, req_rep
}
criterion_main!(benches);
