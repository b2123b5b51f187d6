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

/// A tcp endpoint on the loopback where connects are refused: a port bound but not
/// listening, held by the returned socket. Keep it for as long as the endpoint must
/// stay dead: a port bound and freed at once could be handed to another test's
/// `bind("tcp://127.0.0.1:0")` running alongside.
#[allow(dead_code)]
pub fn refused_endpoint() -> (socket2::Socket, String) {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
        .expect("tcp socket");
    let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    socket.bind(&loopback.into()).expect("bind to the loopback");
    let address = socket
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .expect("the bound address");
    (socket, format!("tcp://{address}"))
}
