//! Argument parsing and output shared by the perf tools, in libzmq's conventions
//! (`perf/local_thr.cpp` and friends): same arguments, same lines printed.
//! Each tool uses only part of it. The libzmq counterparts in the `perf` crate
//! (`zmq_local_thr`, ...) include this file too, so both sides parse and print alike.
#![allow(dead_code)]

use std::time::Duration;

/// `<endpoint> <message-size> <count>`, or a usage message naming `tool` and `what`.
pub fn parse_args(tool: &str, endpoint_role: &str, what: &str) -> (String, usize, u64) {
    parse_args_from(&command_line(), tool, endpoint_role, what)
}

/// [`parse_args`] on given arguments (the program name left out).
pub fn parse_args_from(
    args: &[String],
    tool: &str,
    endpoint_role: &str,
    what: &str,
) -> (String, usize, u64) {
    let parsed = match args {
        [endpoint, size, count] => parse_common(endpoint, size, count),
        _ => None,
    };
    parsed.unwrap_or_else(|| usage(tool, endpoint_role, what, ""))
}

/// The socket pair a throughput tool uses (its optional 4th argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// `push-pull` (the default, as libzmq's tools): PUSH connects, PULL binds.
    PushPull,
    /// `dealer-router`: DEALER connects and sends, ROUTER binds and receives
    /// `[routing id, payload]`.
    DealerRouter,
    /// `pub-sub` or `pub-sub:N`: an XPUB binds (on `remote_thr`'s endpoint), N SUB
    /// sockets (1 to `MAX_SUBSCRIBERS`, 1000) connect to it.
    PubSub(usize),
}

impl Pattern {
    fn parse(text: &str) -> Option<Pattern> {
        match text {
            "push-pull" => Some(Pattern::PushPull),
            "dealer-router" => Some(Pattern::DealerRouter),
            "pub-sub" => Some(Pattern::PubSub(1)),
            _ => match text.strip_prefix("pub-sub:")?.parse() {
                Ok(n @ 1..=MAX_SUBSCRIBERS) => Some(Pattern::PubSub(n)),
                _ => None,
            },
        }
    }

    /// The line printed before the results, for a pattern other than the default.
    pub fn describe(self) -> Option<String> {
        match self {
            Pattern::PushPull => None,
            Pattern::DealerRouter => Some("pattern: dealer-router".to_string()),
            Pattern::PubSub(n) => Some(format!("pattern: pub-sub, {n} subscriber(s)")),
        }
    }
}

/// The most subscribers `pub-sub:N` takes. libzmq's context holds at most 1023
/// sockets by default, and every subscriber is a file descriptor on both sides.
pub const MAX_SUBSCRIBERS: usize = 1000;

/// Subscriber `index`'s marker topic, `[0xff, index / 256, index % 256]`, which it
/// subscribes to besides everything: the publisher starts once it has seen N
/// distinct markers (an XPUB reports a topic only on its first subscription, so each
/// subscriber needs its own). Nothing published starts with 0xff (payloads are
/// zeros), so no marker matches a message.
pub fn marker(index: usize) -> [u8; 3] {
    let [high, low] = u16::try_from(index)
        .unwrap_or_else(|_| fail(format!("no marker for subscriber {index}")))
        .to_be_bytes();
    [0xff, high, low]
}

/// Counts the distinct markers among an XPUB's subscription reports
/// `[1, 0xff, high, low]` (see [`marker`]) until every subscriber's has arrived.
#[derive(Debug)]
pub struct Markers {
    seen: Vec<bool>,
    missing: usize,
}

impl Markers {
    /// Waits for the markers of subscribers `0..subscribers`.
    pub fn new(subscribers: usize) -> Markers {
        Markers {
            seen: vec![false; subscribers],
            missing: subscribers,
        }
    }

    /// Notes one report (a whole one-frame message); true once every marker has
    /// arrived.
    pub fn note(&mut self, report: &[u8]) -> bool {
        if let [1, 0xff, high, low] = *report
            && let Some(seen) = self
                .seen
                .get_mut(usize::from(u16::from_be_bytes([high, low])))
            && !std::mem::replace(seen, true)
        {
            self.missing -= 1;
        }
        self.complete()
    }

    /// Whether every subscriber's marker has arrived.
    pub fn complete(&self) -> bool {
        self.missing == 0
    }
}

/// The usage of the throughput tools' pattern argument; `tool` gives the names'
/// prefix (`zmq_` for the libzmq tools).
fn pattern_usage(tool: &str) -> String {
    let prefix = ["local_thr", "remote_thr"]
        .iter()
        .find_map(|name| tool.strip_suffix(name))
        .unwrap_or("");
    format!(
        "
[pattern]: push-pull (default), dealer-router, or pub-sub[:N] with N subscribers
(1 to {MAX_SUBSCRIBERS}, default 1). For pub-sub the publisher ({prefix}remote_thr, an XPUB) binds the
endpoint and {prefix}local_thr's N SUB sockets connect to it; the publisher starts when
every subscriber's subscription has arrived, and {prefix}local_thr times from the first
message any subscriber receives until every subscriber has received all
<message-count> messages."
    )
}

/// The throughput tools' arguments: `<endpoint> <message-size> <message-count>
/// [pattern]`; without `pattern`, libzmq's three arguments and PUSH/PULL.
pub fn parse_thr_args(tool: &str, endpoint_role: &str) -> (String, usize, u64, Pattern) {
    parse_thr_args_from(&command_line(), tool, endpoint_role)
}

/// [`parse_thr_args`] on given arguments (the program name left out).
pub fn parse_thr_args_from(
    args: &[String],
    tool: &str,
    endpoint_role: &str,
) -> (String, usize, u64, Pattern) {
    let parsed = match args {
        [endpoint, size, count] => {
            parse_common(endpoint, size, count).map(|(e, s, c)| (e, s, c, Pattern::PushPull))
        }
        [endpoint, size, count, pattern] => parse_common(endpoint, size, count)
            .zip(Pattern::parse(pattern))
            .map(|((e, s, c), p)| (e, s, c, p)),
        _ => None,
    };
    parsed.unwrap_or_else(|| usage(tool, endpoint_role, "message-count", &pattern_usage(tool)))
}

/// The sockets a latency tool uses (its optional 4th argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LatPattern {
    /// `req-rep` (the default, as libzmq's tools): a REQ connects and waits for each
    /// echo of a REP that binds.
    ReqRep,
    /// `dealer-router:N`: N DEALERs (1 to `MAX_DEALERS`) connect to a ROUTER that
    /// binds and echoes `[routing id, payload]`; in each round every DEALER sends
    /// one message, then every DEALER receives its echo.
    DealerRouter(usize),
}

impl LatPattern {
    fn parse(text: &str) -> Option<LatPattern> {
        match text {
            "req-rep" => Some(LatPattern::ReqRep),
            _ => match text.strip_prefix("dealer-router:")?.parse() {
                Ok(n @ 1..=MAX_DEALERS) => Some(LatPattern::DealerRouter(n)),
                _ => None,
            },
        }
    }
}

/// The most DEALERs `dealer-router:N` takes: libzmq's context holds at most 1023
/// sockets by default.
pub const MAX_DEALERS: usize = 1000;

const LAT_PATTERN_USAGE: &str = "
[pattern]: req-rep (default) or dealer-router:N with N DEALERs (1 to 1000) that
connect to a ROUTER, which echoes [routing id, payload]. After one untimed round
(every connection up), each of the <roundtrip-count> rounds has every DEALER send
one message, then every DEALER receive its echo; the connecting side prints the
round trips per second of all of them together.";

/// The latency tools' arguments: `<endpoint> <message-size> <roundtrip-count>
/// [pattern]`; without `pattern`, libzmq's three arguments and REQ/REP.
pub fn parse_lat_args(tool: &str, endpoint_role: &str) -> (String, usize, u64, LatPattern) {
    parse_lat_args_from(&command_line(), tool, endpoint_role)
}

/// [`parse_lat_args`] on given arguments (the program name left out).
pub fn parse_lat_args_from(
    args: &[String],
    tool: &str,
    endpoint_role: &str,
) -> (String, usize, u64, LatPattern) {
    let parsed = match args {
        [endpoint, size, count] => {
            parse_common(endpoint, size, count).map(|(e, s, c)| (e, s, c, LatPattern::ReqRep))
        }
        [endpoint, size, count, pattern] => parse_common(endpoint, size, count)
            .zip(LatPattern::parse(pattern))
            .map(|((e, s, c), p)| (e, s, c, p)),
        _ => None,
    };
    parsed.unwrap_or_else(|| usage(tool, endpoint_role, "roundtrip-count", LAT_PATTERN_USAGE))
}

/// Which monocoque API a tool runs on: `--api native` (compio sockets on the
/// tool's own runtime, the default), `--api handle` (a `Context`'s socket handles,
/// used from plain threads with blocking calls, as a C program uses libzmq) or
/// `--api tokio` (the same handles, driven by their `send`/`recv` futures on a
/// current-thread tokio runtime, as the rival tools run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Native,
    Handle,
    Tokio,
}

/// The `--api` flag, anywhere on the command line.
pub fn api() -> Api {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--api") {
        None => Api::Native,
        Some(i) => match args.get(i + 1).map(String::as_str) {
            Some("native") => Api::Native,
            Some("handle") => Api::Handle,
            Some("tokio") => Api::Tokio,
            other => fail(format!(
                "--api takes native, handle or tokio, not {other:?}"
            )),
        },
    }
}

/// The `--curve` flag, anywhere on the command line: the binding side is a CURVE
/// server, the connecting side a CURVE client (keys in `curve.rs`).
pub fn curve() -> bool {
    std::env::args().skip(1).any(|a| a == "--curve")
}

/// The `--buffers` flag, anywhere on the command line: `small`, `large`, `default`
/// or `<read page bytes>:<write batch bytes>` (monocoque's `BufferConfig`).
pub fn buffers() -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == "--buffers")?;
    match args.get(i + 1) {
        Some(value) => Some(value.clone()),
        None => fail("--buffers takes small, large, default or <read>:<write>"),
    }
}

/// The arguments without the program name, `--api <value>`, `--buffers <value>` and
/// `--curve`.
pub fn command_line() -> Vec<String> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    for flag in ["--api", "--buffers"] {
        if let Some(i) = args.iter().position(|a| a == flag) {
            args.drain(i..(i + 2).min(args.len()));
        }
    }
    args.retain(|a| a != "--curve");
    args
}

fn parse_common(endpoint: &str, size: &str, count: &str) -> Option<(String, usize, u64)> {
    match (size.parse(), count.parse()) {
        (Ok(size), Ok(count)) if count > 0 => Some((endpoint.to_string(), size, count)),
        _ => None,
    }
}

fn usage(tool: &str, endpoint_role: &str, what: &str, more: &str) -> ! {
    let pattern = if more.is_empty() { "" } else { " [pattern]" };
    // Only monocoque's own tools (named as libzmq's, without a prefix) take --api
    // and --curve.
    let monocoque = ["local_thr", "remote_thr", "local_lat", "remote_lat"].contains(&tool);
    let api = if monocoque {
        " [--api native|handle|tokio] [--curve] [--buffers small|large|<read>:<write>]"
    } else {
        ""
    };
    eprintln!("usage: {tool} <{endpoint_role}> <message-size> <{what}>{pattern}{api}{more}");
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

/// What `remote_lat` prints for `dealer-router:N`: `dealers` x `rounds` round trips
/// in `elapsed`, as a rate.
pub fn print_round_trips(size: usize, dealers: usize, rounds: u64, elapsed: Duration) {
    let micros = (elapsed.as_micros() as f64).max(1.0);
    let roundtrips = dealers as f64 * rounds as f64;
    println!("message size: {size} [B]");
    println!("dealers: {dealers}");
    println!("rounds: {rounds}");
    println!(
        "mean throughput: {} [roundtrips/s]",
        (roundtrips / micros * 1e6) as u64
    );
}

/// Exits with `message` on stderr, as libzmq's tools do on a failed call.
pub fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn pub_sub_takes_up_to_max_subscribers() {
        let (.., pattern) = parse_thr_args_from(&args("tcp://x:1 64 10 pub-sub:256"), "t", "e");
        assert_eq!(pattern, Pattern::PubSub(256));
        let max = format!("tcp://x:1 64 10 pub-sub:{MAX_SUBSCRIBERS}");
        let (.., pattern) = parse_thr_args_from(&args(&max), "t", "e");
        assert_eq!(pattern, Pattern::PubSub(MAX_SUBSCRIBERS));
        assert_eq!(Pattern::parse("pub-sub:0"), None);
        assert_eq!(
            Pattern::parse(&format!("pub-sub:{}", MAX_SUBSCRIBERS + 1)),
            None
        );
    }

    #[test]
    fn lat_pattern_takes_up_to_max_dealers() {
        let (.., pattern) = parse_lat_args_from(&args("tcp://x:1 64 10"), "t", "e");
        assert_eq!(pattern, LatPattern::ReqRep);
        let (.., pattern) =
            parse_lat_args_from(&args("tcp://x:1 64 10 dealer-router:1000"), "t", "e");
        assert_eq!(pattern, LatPattern::DealerRouter(1000));
        assert_eq!(LatPattern::parse("dealer-router:0"), None);
        assert_eq!(LatPattern::parse("dealer-router:1001"), None);
        assert_eq!(LatPattern::parse("dealer-router"), None);
    }

    #[test]
    fn markers_count_each_subscriber_once() {
        let mut markers = Markers::new(300);
        let report = |index| [&[1][..], &marker(index)[..]].concat();
        for index in 0..299 {
            assert!(!markers.note(&report(index)));
            assert!(
                !markers.note(&report(index)),
                "a repeated marker counts once"
            );
        }
        assert!(
            !markers.note(&[1]),
            "the subscription to everything is no marker"
        );
        assert!(!markers.note(&report(300)), "out of range");
        assert!(!markers.note(&[0, 0xff, 1, 43]), "a cancellation");
        assert!(markers.note(&report(299)));
        assert_eq!(marker(258), [0xff, 1, 2]);
    }
}
