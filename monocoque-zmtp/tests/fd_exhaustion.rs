//! Descriptor exhaustion: with the process out of file descriptors, a listener keeps
//! failing to accept; it must back off instead of spinning, and serve again once
//! descriptors are free. Its own test binary, because it lowers the process's limit.

use std::time::{Duration, Instant};

use compio::time::timeout;
use monocoque_zmtp::socket::{PullSocket, PushSocket};

fn open_fds() -> u64 {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count() as u64)
        .unwrap_or(0)
}

fn cpu_time() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::uninit();
    // SAFETY: getrusage fills the struct it is given.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn set_fd_limit(soft: u64) -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain getrlimit/setrlimit on a local struct.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        let old = lim.rlim_cur;
        lim.rlim_cur = soft;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
        old
    }
}

#[compio::test]
async fn listener_backs_off_and_recovers_when_descriptors_run_out() {
    let pull = PullSocket::new();
    let endpoint = pull.bind("tcp://127.0.0.1:0").await.unwrap();
    let addr = endpoint.trim_start_matches("tcp://").to_string();
    let old = set_fd_limit(open_fds() + 16);

    // Fill the table with raw connections; the listener accepts some, then fails.
    let mut clients = Vec::new();
    while let Ok(c) = std::net::TcpStream::connect(&addr) {
        clients.push(c);
        assert!(clients.len() < 1000, "the limit did not apply");
    }
    // Give the runtime time with the table full, and measure what it costs.
    let cpu_before = cpu_time();
    let wall = Instant::now();
    compio::time::sleep(Duration::from_millis(300)).await;
    let cpu = cpu_time() - cpu_before;
    assert!(
        cpu < wall.elapsed() / 2,
        "accept loop spun: {cpu:?} of CPU in {:?}",
        wall.elapsed()
    );

    // Free the descriptors: a good peer is served again.
    clients.clear();
    set_fd_limit(old);
    let push = PushSocket::new();
    push.connect(&endpoint).await.unwrap();
    push.send("after exhaustion").await.unwrap();
    let m = timeout(Duration::from_secs(10), async {
        loop {
            let m = pull.recv().await.unwrap();
            if &m[0][..] == b"after exhaustion" {
                return m;
            }
        }
    })
    .await
    .expect("served after descriptors were freed");
    assert_eq!(&m[0][..], b"after exhaustion");
}
