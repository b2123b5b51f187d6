//! pyzmq peers for tests: `tests/peers/pyzmq_peer.py` run by the Python that
//! `scripts/pyzmq` provides (pyzmq's libzmq 4.3.5, built with libsodium, so it has
//! CURVE). `scripts/pyzmq` installs it the first time; when it cannot, the test
//! fails: a missing peer is never a pass.
//!
//! Shared by monocoque-zmtp's `libzmq_security` and the examples' `ironhouse` tests,
//! each including this file with `#[path]`; each uses part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// How long a peer may take to print a line or to exit.
const LIMIT: Duration = Duration::from_secs(20);

/// A Python with pyzmq, from `scripts/pyzmq` (which installs it the first time).
pub fn python() -> String {
    // Both crates that include this file sit one level below the workspace root.
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/pyzmq");
    let output = Command::new(script)
        .stderr(Stdio::inherit())
        .output()
        .expect("cannot run scripts/pyzmq");
    assert!(
        output.status.success(),
        "scripts/pyzmq could not provide pyzmq: the libzmq CURVE tests need it"
    );
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// `pyzmq_peer.py` with `args` (see its usage), not started yet.
pub fn peer(args: &[&str]) -> Command {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../monocoque-zmtp/tests/peers/pyzmq_peer.py"
    );
    let mut command = Command::new(python());
    command.arg(script).args(args);
    command
}

/// Which output of a [`Process`] is read line by line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    Stdout,
    Stderr,
}

/// A running process whose lines on one output are read as they come. Dropping it
/// closes its stdin (a pyzmq server's signal to stop) and kills it.
pub struct Process {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Process {
    pub fn start(mut command: Command, read: Lines) -> Process {
        command.stdin(Stdio::piped());
        match read {
            Lines::Stdout => command.stdout(Stdio::piped()),
            Lines::Stderr => command.stderr(Stdio::piped()),
        };
        let mut child = command.spawn().expect("cannot start the peer");
        let output: Box<dyn Read + Send> = match read {
            Lines::Stdout => Box::new(child.stdout.take().unwrap()),
            Lines::Stderr => Box::new(child.stderr.take().unwrap()),
        };
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(output).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Process { child, lines }
    }

    /// The next line, waiting for it.
    pub fn line(&self) -> String {
        self.lines
            .recv_timeout(LIMIT)
            .expect("the peer printed nothing in time")
    }

    /// The endpoint a pyzmq server printed once bound (`bound <endpoint>`).
    pub fn bound(&self) -> String {
        let line = self.line();
        line.strip_prefix("bound ")
            .unwrap_or_else(|| panic!("unexpected line from the peer: {line}"))
            .to_string()
    }

    /// Waits for the process to exit; returns the lines it printed and its status.
    pub fn finish(mut self) -> (Vec<String>, ExitStatus) {
        drop(self.child.stdin.take());
        let mut lines = Vec::new();
        // The reader ends when the process closes its output, at its exit at the
        // latest.
        loop {
            match self.lines.recv_timeout(LIMIT) {
                Ok(line) => lines.push(line),
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("the peer did not exit"),
            }
        }
        let status = self.child.wait().expect("the peer's exit status");
        (lines, status)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
