//! The ironhouse examples against real libzmq: `ironhouse_server` with libzmq
//! clients, `ironhouse_client` with a libzmq server, each with an allowed key and a
//! refused one. libzmq is pyzmq's 4.3.5 (built with libsodium, so it has CURVE), run
//! as `monocoque-zmtp/tests/peers/pyzmq_peer.py`; `scripts/pyzmq` installs it the
//! first time and the tests fail when it cannot: a missing peer is never a pass.
//!
//! The examples are the binaries `cargo test` builds beside this test
//! (`target/<profile>/examples/`). Every wait is for a line, an exit or a deadline.

use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};

#[path = "../../monocoque-zmtp/tests/peers/pyzmq.rs"]
mod pyzmq;
use pyzmq::{Lines, Process};

// libzmq's test key pairs (test_security_curve.cpp).
const CLIENT_PUBLIC: &str = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
const CLIENT_SECRET: &str = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";
const SERVER_PUBLIC: &str = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
const SERVER_SECRET: &str = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";

/// A client key pair the servers do not allow: the server's own (its public key is
/// not in the allowed list).
const STRANGER_SECRET: &str = SERVER_SECRET;

/// An example binary built by `cargo test` for this profile.
fn example(name: &str) -> PathBuf {
    let test = std::env::current_exe().expect("the test's own path");
    // target/<profile>/deps/ironhouse-<hash> -> target/<profile>/examples/<name>
    let profile = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let path = profile.join("examples").join(name);
    assert!(
        path.exists(),
        "{} missing: run `cargo test`",
        path.display()
    );
    path
}

/// Runs one of our examples to its end (a client gives up on a reply after 5 s by
/// itself); returns the lines it printed and its status.
fn run(name: &str, args: &[&str]) -> (Vec<String>, ExitStatus) {
    let mut command = Command::new(example(name));
    command.args(args).stderr(Stdio::inherit());
    Process::start(command, Lines::Stdout).finish()
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A pyzmq client (`req-client`) to its end: the lines it printed and its status.
fn run_pyzmq(args: &[&str]) -> (Vec<String>, ExitStatus) {
    Process::start(pyzmq::peer(args), Lines::Stdout).finish()
}

#[test]
fn ironhouse_server_serves_libzmq_clients_it_allows_only() {
    let endpoint = format!("tcp://127.0.0.1:{}", free_port());
    let mut command = Command::new(example("ironhouse_server"));
    command.args([endpoint.as_str(), SERVER_SECRET, CLIENT_PUBLIC]);
    let server = Process::start(command, Lines::Stderr);
    let listening = server.line();
    assert!(listening.contains("listening on"), "{listening}");

    // pyzmq's client sends "Hello <i>" with a 70,000-byte second frame; the server
    // echoes both, and the client prints the first and the second's length.
    let (lines, status) = run_pyzmq(&[
        "req-client",
        &endpoint,
        "curve",
        "3",
        SERVER_PUBLIC,
        CLIENT_SECRET,
    ]);
    assert!(status.success(), "{lines:?}");
    assert_eq!(lines, ["Hello 0 70000", "Hello 1 70000", "Hello 2 70000"]);

    let (lines, status) = run_pyzmq(&[
        "req-client",
        &endpoint,
        "curve",
        "1",
        SERVER_PUBLIC,
        STRANGER_SECRET,
    ]);
    assert!(!status.success(), "{lines:?}");
    assert_eq!(lines, ["timeout"]);
}

#[test]
fn ironhouse_client_talks_to_a_libzmq_server_that_allows_it() {
    let mut command = pyzmq::peer(&[
        "rep-server",
        "tcp://127.0.0.1:*",
        "curve",
        SERVER_SECRET,
        CLIENT_PUBLIC,
    ]);
    command.stderr(Stdio::inherit());
    let server = Process::start(command, Lines::Stdout);
    let endpoint = server.bound();

    let (lines, status) = run(
        "ironhouse_client",
        &[&endpoint, SERVER_PUBLIC, CLIENT_SECRET, "3"],
    );
    assert!(status.success(), "{lines:?}");
    assert_eq!(lines, ["Hello 0", "Hello 1", "Hello 2"]);
    assert_eq!(server.line(), "zap CURVE 200");

    // libzmq's ZAP handler refuses an unknown key; the client gets no reply and
    // exits non-zero after its 5 s.
    let (lines, status) = run(
        "ironhouse_client",
        &[&endpoint, SERVER_PUBLIC, STRANGER_SECRET, "1"],
    );
    assert_eq!(status.code(), Some(1), "{lines:?}");
    assert!(lines.is_empty(), "{lines:?}");
    assert_eq!(server.line(), "zap CURVE 400");
}
