//! Lifecycle under faults: restarts, churn, shutdown while busy, many peers.
//!
//! Each test has a short form that runs in `cargo test` and a long form with the
//! counts the hardening issue asks for, run with
//! `cargo test --release -p monocoque-zmtp --test lifecycle -- --ignored`.
//! File descriptors are counted in /proc/self/fd; the OS closes sockets shortly after
//! the tasks that own them end, so those checks wait (bounded) for the count to
//! settle.
mod common;
use common::{resident_bytes, within_for};

use std::time::Duration;

use compio::time::timeout;
use monocoque_zmtp::config::SocketOptions;
use monocoque_zmtp::socket::{
    DealerSocket, PubSocket, PullSocket, PushSocket, RouterSocket, SubSocket,
};

const LIMIT: Duration = Duration::from_secs(30);

/// Bounds each phase of [`many_peers`]: 10,000 connections take a while in a debug
/// build on a small machine.
const MANY_PEERS_LIMIT: Duration = Duration::from_secs(300);

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Waits (bounded) until the open descriptors fall back to `baseline` (plus slack for
/// descriptors other tests of this binary hold at the same moment).
async fn fds_settle(baseline: usize, slack: usize) -> usize {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let now = open_fds();
        if now <= baseline + slack || std::time::Instant::now() > deadline {
            return now;
        }
        compio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn rebind(socket: &PubSocket, endpoint: &str) {
    within_for(LIMIT, "rebind", async {
        while socket.bind(endpoint).await.is_err() {
            compio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await;
}

async fn restart_cycles(cycles: u32) {
    let baseline = open_fds();
    let sub =
        SubSocket::with_options(SocketOptions::default().reconnect_ivl(Duration::from_millis(5)));
    sub.subscribe("seq ").unwrap();
    let endpoint = {
        let probe = PubSocket::new();
        let e = probe.bind("tcp://127.0.0.1:0").await.unwrap();
        drop(probe);
        e
    };
    sub.connect(&endpoint).await.unwrap();
    let mut last_seen: Option<u64> = None;
    let mut seq = 0u64;
    for _ in 0..cycles {
        let publisher = PubSocket::new();
        rebind(&publisher, &endpoint).await;
        // Publish until this incarnation's first message arrives: the subscription was
        // restored. Every message seen must be newer than the last one (no duplicate,
        // no reordering) and intact.
        within_for(LIMIT, "subscription restored", async {
            loop {
                seq += 1;
                publisher.send(format!("seq {seq}")).await.unwrap();
                publisher.send("other topic").await.unwrap();
                if let Ok(m) = timeout(Duration::from_millis(2), sub.recv()).await {
                    let m = m.unwrap();
                    let text = std::str::from_utf8(&m[0]).unwrap();
                    let n: u64 = text.strip_prefix("seq ").unwrap().parse().unwrap();
                    assert!(
                        last_seen.is_none_or(|l| n > l),
                        "duplicate or reordered: {n}"
                    );
                    last_seen = Some(n);
                    break;
                }
            }
        })
        .await;
        drop(publisher);
    }
    drop(sub);
    let after = fds_settle(baseline, 4).await;
    assert!(
        after <= baseline + 4,
        "descriptors grew from {baseline} to {after}"
    );
}

#[compio::test]
async fn publisher_restarts_short() {
    restart_cycles(30).await;
}

#[compio::test]
#[ignore = "long form: 1,000 restart cycles"]
async fn publisher_restarts_long() {
    restart_cycles(1000).await;
}

async fn connection_churn(cycles: u32) {
    let router = RouterSocket::new();
    let endpoint = router.bind("tcp://127.0.0.1:0").await.unwrap();
    let baseline = open_fds();
    for i in 0..cycles {
        let dealer = DealerSocket::new();
        dealer.connect(&endpoint).await.unwrap();
        dealer.send(format!("{i}")).await.unwrap();
        let m = within_for(LIMIT, "churn message", router.recv())
            .await
            .unwrap();
        assert_eq!(m[1], format!("{i}").as_bytes());
        drop(dealer);
    }
    // Every connection is gone from the router and from the process.
    within_for(
        LIMIT,
        "router sees all leave",
        router.wait_for_peers(|n| n == 0),
    )
    .await;
    let after = fds_settle(baseline, 4).await;
    assert!(
        after <= baseline + 4,
        "descriptors grew from {baseline} to {after}"
    );
    assert_eq!(router.stats().handshakes, u64::from(cycles));
}

#[compio::test]
async fn connection_churn_short() {
    connection_churn(300).await;
}

#[compio::test]
#[ignore = "long form: 10,000 connect/close cycles"]
async fn connection_churn_long() {
    connection_churn(10_000).await;
}

async fn shutdown_stress(tasks: usize, rounds: usize) {
    let pull = PullSocket::new();
    let endpoint = pull.bind("tcp://127.0.0.1:0").await.unwrap();
    let baseline = open_fds();
    for _ in 0..rounds {
        let handles: Vec<_> = (0..tasks)
            .map(|i| {
                let endpoint = endpoint.clone();
                compio::runtime::spawn(async move {
                    let push = PushSocket::with_options(
                        SocketOptions::default().linger(Some(Duration::ZERO)),
                    );
                    push.connect(&endpoint).await.unwrap();
                    push.send(format!("{i}")).await.unwrap();
                    // Closed at once, while connecting or writing.
                    drop(push);
                })
            })
            .collect();
        for h in handles {
            within_for(LIMIT, "task", h).await.unwrap();
        }
    }
    within_for(LIMIT, "all gone", pull.wait_for_peers(|n| n == 0)).await;
    let after = fds_settle(baseline, 4).await;
    assert!(
        after <= baseline + 4,
        "descriptors grew from {baseline} to {after}"
    );
}

#[compio::test]
async fn shutdown_stress_short() {
    shutdown_stress(50, 4).await;
}

#[compio::test]
#[ignore = "long form: 100 tasks x 10 rounds"]
async fn shutdown_stress_long() {
    shutdown_stress(100, 10).await;
}

/// Environment variables that turn [`many_peers_child`] on in a child process.
const CHILD_ENDPOINT: &str = "MONOCOQUE_MANY_PEERS_ENDPOINT";
const CHILD_COUNT: &str = "MONOCOQUE_MANY_PEERS_COUNT";

/// Raises this process's descriptor limit to its hard limit; returns the new limit.
fn raise_fd_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain getrlimit/setrlimit on a local struct.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        lim.rlim_cur = lim.rlim_max;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
    }
    lim.rlim_cur
}

/// Resident memory after giving the allocator's free memory back to the system
/// (`malloc_trim`), so the figure counts what is still in use rather than freed
/// chunks glibc keeps for reuse.
fn resident_in_use() -> u64 {
    // SAFETY: malloc_trim only releases free memory of the C allocator.
    unsafe { libc::malloc_trim(0) };
    resident_bytes()
}

/// Concurrent peers on one ROUTER, the peers in a second process so each process
/// holds one end of each connection: this test binary runs itself again, selecting
/// only [`many_peers_child`], which connects `count` DEALERs to the ROUTER's endpoint;
/// every DEALER sends a ping and must get its pong while all are connected. The
/// ROUTER's resident memory is measured before, with every peer connected and served,
/// and after the child exited and the ROUTER saw every peer leave. Other tests of this
/// binary running at the same time move the resident size too, so the bound per peer
/// is asserted only when `alone` (the long form, run with `--test-threads=1`).
async fn many_peers(count: usize, alone: bool) {
    raise_fd_limit();
    let router = RouterSocket::new();
    let endpoint = router.bind("tcp://127.0.0.1:0").await.unwrap();
    let before = resident_in_use();
    let fds_before = open_fds();

    let started = std::time::Instant::now();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "many_peers_child", "--ignored", "--nocapture"])
        .env(CHILD_ENDPOINT, &endpoint)
        .env(CHILD_COUNT, count.to_string())
        .spawn()
        .expect("run the child test");
    let (exited, child_done) = futures::channel::oneshot::channel();
    std::thread::spawn(move || {
        let _ = exited.send(child.wait());
    });

    within_for(
        MANY_PEERS_LIMIT,
        "all connected",
        router.wait_for_peers(|n| n == count),
    )
    .await;
    let connected = resident_in_use();
    for _ in 0..count {
        let m = within_for(MANY_PEERS_LIMIT, "ping", router.recv())
            .await
            .unwrap();
        assert_eq!(&m[1][..], b"ping");
        router.send([m[0].clone(), "pong".into()]).await.unwrap();
    }
    let served = resident_in_use();
    let status = within_for(MANY_PEERS_LIMIT, "child exits", child_done)
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "the child test failed: {status}");
    within_for(
        MANY_PEERS_LIMIT,
        "all left",
        router.wait_for_peers(|n| n == 0),
    )
    .await;
    let after = resident_in_use();
    let fds_after = fds_settle(fds_before, 4).await;

    let elapsed = started.elapsed();
    let kib = |bytes: u64| bytes / 1024;
    let per_peer = connected.saturating_sub(before) / count as u64;
    println!(
        "{count} peers in {elapsed:.1?}: ROUTER resident {} KiB before, {} KiB connected ({} KiB per peer), \
         {} KiB served, {} KiB after all left ({} KiB per peer kept)",
        kib(before),
        kib(connected),
        kib(per_peer),
        kib(served),
        kib(after),
        kib(after.saturating_sub(before) / count as u64),
    );
    assert_eq!(router.stats().handshakes, count as u64);
    if alone {
        assert!(per_peer < 64 * 1024, "{per_peer} bytes per connected peer");
        // Released when they leave: what stays (allocator caches, the peer table's
        // slots) is under 2 KiB per peer that came and went.
        let kept = after.saturating_sub(before) / count as u64;
        assert!(
            kept < 2 * 1024,
            "{kept} bytes per departed peer still resident"
        );
    }
    assert!(
        fds_after <= fds_before + 4,
        "descriptors grew from {fds_before} to {fds_after}"
    );
}

/// The peers of [`many_peers`], in the child process it starts. Does nothing unless
/// run by it (the endpoint is passed in the environment).
#[compio::test]
#[ignore = "run by many_peers_short and many_peers_long in a child process"]
async fn many_peers_child() {
    let Ok(endpoint) = std::env::var(CHILD_ENDPOINT) else {
        return;
    };
    let count: usize = std::env::var(CHILD_COUNT).unwrap().parse().unwrap();
    raise_fd_limit();
    let before = resident_bytes();
    let dealers: Vec<DealerSocket> = (0..count)
        .map(|i| DealerSocket::with_options(SocketOptions::default().routing_id(format!("d{i}"))))
        .collect();
    for d in &dealers {
        d.connect(&endpoint).await.unwrap();
    }
    for d in &dealers {
        within_for(LIMIT, "connected", d.wait_for_peers(|n| n == 1)).await;
    }
    let connected = resident_bytes();
    for d in &dealers {
        d.send("ping").await.unwrap();
    }
    for d in &dealers {
        assert_eq!(
            &within_for(LIMIT, "pong", d.recv()).await.unwrap()[0][..],
            b"pong"
        );
    }
    println!(
        "child: {count} DEALERs served; {} KiB resident per DEALER",
        connected.saturating_sub(before) / count as u64 / 1024
    );
}

#[compio::test]
async fn many_peers_short() {
    many_peers(200, false).await;
}

#[compio::test]
#[ignore = "long form: 10,000 peers, in a second process"]
async fn many_peers_long() {
    many_peers(10_000, true).await;
}

/// A small deterministic generator (xorshift64) for the deadlines of cancelled calls.
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The end of the numbered stream: arrives right after the last number, so a
/// duplicate of any message would show up in its place.
const END: u32 = u32::MAX;

/// Cancel safety under traffic: `send` and `recv` each race a deadline drawn at
/// random between 0 and 15 µs, with HWMs of 5 so sends wait for room and receives
/// for messages, and a call that misses its deadline is dropped mid-flight. Numbered
/// messages flow until at least `min_cancelled` calls were cancelled; every number
/// must arrive exactly once and in order, then the end marker. Returns the cancelled
/// sends and receives and the messages delivered.
async fn cancelled_calls(min_cancelled: u64) -> (u64, u64, u32) {
    use std::cell::Cell;
    let pull = PullSocket::with_options(SocketOptions::default().rcvhwm(5));
    let bound = pull.bind("tcp://127.0.0.1:0").await.unwrap();
    let push = PushSocket::with_options(SocketOptions::default().sndhwm(5));
    push.connect(&bound).await.unwrap();
    let send_cancels = Cell::new(0u64);
    let recv_cancels = Cell::new(0u64);
    let deadline = |rng: &mut Xorshift| Duration::from_micros(rng.next() % 16);
    let sender = async {
        let mut rng = Xorshift(0x9E37_79B9_7F4A_7C15);
        let mut n = 0u32;
        loop {
            let done = send_cancels.get() + recv_cancels.get() >= min_cancelled;
            let number = if done { END } else { n };
            loop {
                match timeout(deadline(&mut rng), push.send(number.to_be_bytes().to_vec())).await {
                    Ok(sent) => break sent.unwrap(),
                    Err(_) => send_cancels.set(send_cancels.get() + 1),
                }
            }
            if done {
                return n;
            }
            n += 1;
        }
    };
    let receiver = async {
        let mut rng = Xorshift(0xD1B5_4A32_D192_ED03);
        let mut next = 0u32;
        loop {
            match timeout(deadline(&mut rng), pull.recv()).await {
                Ok(m) => {
                    let got = u32::from_be_bytes(m.unwrap()[0][..].try_into().unwrap());
                    if got == END {
                        return next;
                    }
                    assert_eq!(got, next, "lost or duplicated message");
                    next += 1;
                }
                Err(_) => recv_cancels.set(recv_cancels.get() + 1),
            }
        }
    };
    let (sent, received) =
        within_for(LIMIT, "traffic", futures::future::join(sender, receiver)).await;
    assert_eq!(sent, received, "every message sent arrived once");
    let (sends, recvs) = (send_cancels.get(), recv_cancels.get());
    println!("cancelled {sends} sends and {recvs} receives; {received} messages delivered");
    assert!(sends + recvs >= min_cancelled);
    assert!(
        sends > 0 && recvs > 0,
        "both calls must be cancelled: {sends} sends, {recvs} receives"
    );
    (sends, recvs, received)
}

#[compio::test]
async fn cancelled_calls_short() {
    cancelled_calls(2_000).await;
}

#[compio::test]
#[ignore = "long form: 100,000 cancelled send and recv calls"]
async fn cancelled_calls_long() {
    cancelled_calls(100_000).await;
}

#[compio::test]
async fn publisher_memory_is_bounded_by_the_hwm_when_a_subscriber_never_reads() {
    let publisher = PubSocket::with_options(SocketOptions::default().sndhwm(100));
    let endpoint = publisher.bind("tcp://127.0.0.1:0").await.unwrap();
    // A subscriber that reads nothing after its handshake: a raw socket.
    let addr = endpoint.trim_start_matches("tcp://").to_string();
    let mut raw = std::net::TcpStream::connect(addr).unwrap();
    let mut hello = Vec::new();
    hello.extend_from_slice(
        &monocoque_zmtp::proto::greeting::Greeting::new(
            monocoque_zmtp::proto::greeting::MechanismName::NULL,
            false,
        )
        .encode(),
    );
    let mut ready = bytes::BytesMut::new();
    monocoque_zmtp::proto::command::Command::ready(
        monocoque_zmtp::proto::socket_type::SocketType::Sub,
        None,
    )
    .encode(&mut ready);
    monocoque_zmtp::proto::command::Command::Subscribe(bytes::Bytes::new()).encode(&mut ready);
    hello.extend_from_slice(&ready);
    std::io::Write::write_all(&mut raw, &hello).unwrap();
    within_for(LIMIT, "subscriber", publisher.wait_for_peers(|n| n == 1)).await;

    let payload = bytes::Bytes::from(vec![1u8; 16 * 1024]);
    // 200,000 x 16 KiB = 3.2 GB offered; the kernel buffers a few MB, the HWM 100
    // messages (1.6 MB); everything else is dropped.
    let before = resident_bytes();
    for _ in 0..200_000 {
        publisher.send(payload.clone()).await.unwrap();
    }
    let grown = resident_bytes().saturating_sub(before);
    assert!(grown < 64 << 20, "resident memory grew by {grown} bytes");
    assert!(publisher.stats().dropped > 150_000);
    drop(raw);
}
