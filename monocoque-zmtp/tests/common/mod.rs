//! Helpers shared by the integration tests. Not every test binary uses every helper,
//! hence the `allow(dead_code)`s.

use std::time::Duration;

/// How long [`within`] waits.
#[allow(dead_code)]
pub const DEFAULT_LIMIT: Duration = Duration::from_secs(5);

/// Awaits `fut` for at most [`DEFAULT_LIMIT`]; panics naming `what` if it takes longer.
#[allow(dead_code)]
pub async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    within_for(DEFAULT_LIMIT, what, fut).await
}

/// Awaits `fut` for at most `limit`; panics naming `what` if it takes longer.
#[allow(dead_code)]
pub async fn within_for<T>(limit: Duration, what: &str, fut: impl Future<Output = T>) -> T {
    compio::time::timeout(limit, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// Resident memory of this process, from /proc/self/statm (0 where unavailable).
#[allow(dead_code)]
pub fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}
