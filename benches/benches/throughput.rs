//! monocoque against libzmq in one run: messages per second for PUSH/PULL (tcp, ipc;
//! 64 B and 1 KiB), DEALER/ROUTER (tcp, 64 B), PUB/SUB with one subscriber (tcp, 64 B)
//! and REQ/REP round trips (tcp, 64 B). Each group has a `libzmq` and a `monocoque`
//! function, so criterion's report puts them side by side.
//!
//! `cargo bench -p monocoque-benches` (a few minutes); the harnesses are in `src/lib.rs`.

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use monocoque_benches::{
    LibzmqOneWay, LibzmqReqRep, MonocoqueOneWay, MonocoqueReqRep, Pattern, Transport,
};

/// Messages moved per iteration of a one-way benchmark.
const BATCH: u64 = 100_000;
/// Round trips per iteration of the REQ/REP benchmark.
const ROUND_TRIPS: u64 = 5_000;

fn one_way(c: &mut Criterion, name: &str, pattern: Pattern, transport: Transport, size: usize) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(BATCH));
    let mut libzmq = LibzmqOneWay::new(pattern, transport, size);
    group.bench_function("libzmq", |b| {
        b.iter_custom(|iters| libzmq.run(iters * BATCH))
    });
    drop(libzmq);
    let monocoque = MonocoqueOneWay::new(pattern, transport, size);
    group.bench_function("monocoque", |b| {
        b.iter_custom(|iters| monocoque.run(iters * BATCH))
    });
    group.finish();
}

fn push_pull(c: &mut Criterion) {
    for transport in [Transport::Tcp, Transport::Ipc] {
        for size in [64, 1024] {
            let name = format!(
                "push_pull_{}_{size}B",
                format!("{transport:?}").to_lowercase()
            );
            one_way(c, &name, Pattern::PushPull, transport, size);
        }
    }
}

fn dealer_router(c: &mut Criterion) {
    one_way(
        c,
        "dealer_router_tcp_64B",
        Pattern::DealerRouter,
        Transport::Tcp,
        64,
    );
}

fn pub_sub(c: &mut Criterion) {
    one_way(c, "pub_sub_tcp_64B", Pattern::PubSub, Transport::Tcp, 64);
}

fn req_rep(c: &mut Criterion) {
    let mut group = c.benchmark_group("req_rep_tcp_64B");
    group.throughput(Throughput::Elements(ROUND_TRIPS));
    let mut libzmq = LibzmqReqRep::new(64);
    group.bench_function("libzmq", |b| {
        b.iter_custom(|iters| libzmq.run(iters * ROUND_TRIPS))
    });
    drop(libzmq);
    let monocoque = MonocoqueReqRep::new(64);
    group.bench_function("monocoque", |b| {
        b.iter_custom(|iters| monocoque.run(iters * ROUND_TRIPS))
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = push_pull, dealer_router, pub_sub, req_rep
}
criterion_main!(benches);
