//! The ironhouse examples against real libzmq: `ironhouse_server` with libzmq
//! clients, `ironhouse_client` with a libzmq server, each with an allowed key and a
//! refused one. libzmq is pyzmq's 4.3.5 (built with libsodium, so it has CURVE), run
//! as `monocoque-zmtp/tests/peers/pyzmq_peer.py`; `scripts/pyzmq` installs it the
//! first time and the tests fail when it cannot: a missing peer is never a pass.
//!
//! The examples are the binaries `cargo test` builds beside this test
//! (`target/<profile>/examples/`). Every wait is for a line, an exit or a deadline.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

// libzmq's test key pairs (test_security_curve.cpp).
const CLIENT_PUBLIC: &str = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
const CLIENT_SECRET: &str = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";
const SERVER_PUBLIC: &str = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
const SERVER_SECRET: &str = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";

/// A client key pair the servers do not allow: the server's own (its public key is
/// not in the allowed list).
const STRANGER_SECRET: &str = SERVER_SECRET;

const LIMIT: Duration = Duration::from_secs(20);

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

/// A Python with pyzmq, from `scripts/pyzmq` (which installs it the first time).
fn pyzmq_python() -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/pyzmq");
    let output = Command::new(script)
        .stderr(Stdio::inherit())
        .output()
        .expect("cannot run scripts/pyzmq");
    assert!(
        output.status.success(),
        "scripts/pyzmq could not provide pyzmq: the ironhouse interop tests need it"
    );
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

fn pyzmq_peer(args: &[&str]) -> Command {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../monocoque-zmtp/tests/peers/pyzmq_peer.py"
    );
    let mut command = Command::new(pyzmq_python());
    command.arg(script).args(args);
    command
}

/// A server process, killed when dropped, and the lines it prints on one stream.
struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Server {
    /// Starts `command`, reading its stdout (`stdout`) or stderr lines.
    fn start(mut command: Command, stdout: bool) -> Server {
        command.stdin(Stdio::piped());
        if stdout {
            command.stdout(Stdio::piped());
        } else {
            command.stderr(Stdio::piped());
        }
        let mut child = command.spawn().expect("cannot start the server");
        let stream: Box<dyn std::io::Read + Send> = match stdout {
            true => Box::new(child.stdout.take().unwrap()),
            false => Box::new(child.stderr.take().unwrap()),
        };
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Server { child, lines }
    }

    fn line(&self) -> String {
        self.lines
            .recv_timeout(LIMIT)
            .expect("the server printed nothing in time")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a client to its end (within `LIMIT`; both clients give up on a reply after
/// 5 s by themselves).
fn run(mut command: Command) -> Output {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start the client");
    let (tx, exited) = mpsc::channel();
    thread::spawn(move || tx.send(child.wait_with_output()));
    exited
        .recv_timeout(LIMIT)
        .expect("the client did not exit in time")
        .expect("the client's output")
}

fn stdout_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn ironhouse_server_serves_libzmq_clients_it_allows_only() {
    let endpoint = format!("tcp://127.0.0.1:{}", free_port());
    let mut command = Command::new(example("ironhouse_server"));
    command.args([endpoint.as_str(), SERVER_SECRET, CLIENT_PUBLIC]);
    let server = Server::start(command, false);
    let listening = server.line();
    assert!(listening.contains("listening on"), "{listening}");

    // pyzmq's client sends "Hello <i>" with a 70,000-byte second frame; the server
    // echoes both, and the client prints the first and the second's length.
    let allowed = run(pyzmq_peer(&[
        "req-client",
        &endpoint,
        "curve",
        "3",
        SERVER_PUBLIC,
        CLIENT_SECRET,
    ]));
    assert!(allowed.status.success(), "{allowed:?}");
    assert_eq!(
        stdout_lines(&allowed),
        ["Hello 0 70000", "Hello 1 70000", "Hello 2 70000"]
    );

    let refused = run(pyzmq_peer(&[
        "req-client",
        &endpoint,
        "curve",
        "1",
        SERVER_PUBLIC,
        STRANGER_SECRET,
    ]));
    assert!(!refused.status.success(), "{refused:?}");
    assert_eq!(stdout_lines(&refused), ["timeout"]);
}

#[test]
fn ironhouse_client_talks_to_a_libzmq_server_that_allows_it() {
    let mut command = pyzmq_peer(&[
        "rep-server",
        "tcp://127.0.0.1:*",
        "curve",
        SERVER_SECRET,
        CLIENT_PUBLIC,
    ]);
    command.stderr(Stdio::inherit());
    let server = Server::start(command, true);
    let bound = server.line();
    let endpoint = bound.strip_prefix("bound ").expect("a bound endpoint");

    let mut client = Command::new(example("ironhouse_client"));
    client.args([endpoint, SERVER_PUBLIC, CLIENT_SECRET, "3"]);
    let allowed = run(client);
    assert!(allowed.status.success(), "{allowed:?}");
    assert_eq!(stdout_lines(&allowed), ["Hello 0", "Hello 1", "Hello 2"]);
    assert_eq!(server.line(), "zap CURVE 200");

    // libzmq's ZAP handler refuses an unknown key; the client gets no reply and
    // exits non-zero after its 5 s.
    let mut client = Command::new(example("ironhouse_client"));
    client.args([endpoint, SERVER_PUBLIC, STRANGER_SECRET, "1"]);
    let refused = run(client);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    assert!(stdout_lines(&refused).is_empty());
    assert_eq!(server.line(), "zap CURVE 400");
}
