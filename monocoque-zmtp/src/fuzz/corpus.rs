//! Replays the fuzz corpora through the fuzz entry points, so that every seed and every
//! crash ever found stays a regression test under a plain `cargo test` (stable, no
//! libFuzzer), and calls each entry point with fixed inputs so none of them rots.
//!
//! The seeds in `fuzz/corpus/<target>/seed-*` are written by the ignored test
//! `write_seed_corpus` from the library's own encoders:
//! `cargo test -p monocoque-zmtp --no-default-features --lib fuzz::corpus -- --ignored`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::fuzz;
use crate::proto::command::Command;
use crate::proto::frame::put_frame;
use crate::proto::greeting::{Greeting, MechanismName};
use crate::proto::socket_type::SocketType;
use bytes::BytesMut;

type Target = fn(&[u8]);

const TARGETS: [(&str, Target); 10] = [
    ("frame_decoder", fuzz::frame_decoder),
    ("greeting", fuzz::greeting),
    ("command", fuzz::command),
    ("session", fuzz::session),
    ("pattern_ops", fuzz::pattern_ops),
    ("engine_ops", fuzz::engine_ops),
    ("endpoint", fuzz::endpoint),
    ("security_handshake", fuzz::security_handshake),
    ("zap_reply", fuzz::zap_reply),
    ("z85", fuzz::z85),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `fuzz/<kind>/<target>/`, sorted; none if the directory is absent.
fn files(kind: &str, target: &str) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(fuzz_dir().join(kind).join(target)) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn corpora_replay() {
    let mut replayed = 0;
    for (name, entry) in TARGETS {
        let corpus = files("corpus", name);
        assert!(!corpus.is_empty(), "no seed corpus for {name}");
        for path in corpus.iter().chain(&files("artifacts", name)) {
            let data = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let outcome = std::panic::catch_unwind(|| entry(&data));
            assert!(outcome.is_ok(), "{name} panicked on {}", path.display());
            replayed += 1;
        }
    }
    assert!(replayed >= TARGETS.len());
}

/// Small meaningful inputs for each target, in the layout its entry point expects.
fn seeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let null = Greeting::new(MechanismName::NULL, false).encode();
    let mut zmtp30 = null;
    zmtp30[11] = 0;
    let plain = Greeting::new(MechanismName::PLAIN, true).encode();
    let command = |c: Command| {
        let mut out = BytesMut::new();
        c.encode(&mut out);
        // The body alone: skip the short (2-byte) or long (9-byte) header.
        let header = if out[0] & 0x02 != 0 { 9 } else { 2 };
        out[header..].to_vec()
    };
    let ready = command(Command::ready(SocketType::Dealer, Some(b"peer-1")));
    let frame = |more: bool, cmd: bool, body: &[u8]| {
        let mut out = BytesMut::new();
        put_frame(&mut out, more, cmd, body);
        out.to_vec()
    };
    let mut frames = frame(true, false, b"");
    frames.extend(frame(true, false, b"routing"));
    frames.extend(frame(false, false, b"hello"));
    frames.extend(frame(
        false,
        true,
        &command(Command::ping(10, &b"ctx"[..]).unwrap()),
    ));
    let long = frame(false, false, &[7u8; 300]);
    let mut huge = vec![0x02];
    huge.extend_from_slice(&u64::MAX.to_be_bytes());

    // A message, a PING, a SUBSCRIBE and a 3.0 subscription message, as a peer sends
    // them after the handshake.
    let mut traffic = frame(true, false, b"");
    traffic.extend(frame(false, false, b"request"));
    traffic.extend(frame(
        false,
        true,
        &command(Command::ping(30, &b"hb"[..]).unwrap()),
    ));
    traffic.extend(frame(
        false,
        true,
        &command(Command::Subscribe("news".into())),
    ));
    traffic.extend(frame(false, false, b"\x01weather"));
    let mut handshake = null.to_vec();
    let mut peer_ready = BytesMut::new();
    Command::ready(SocketType::Rep, None).encode(&mut peer_ready);
    handshake.extend_from_slice(&peer_ready);

    let with = |control: &[u8], rest: &[u8]| [control, rest].concat();
    vec![
        ("frame_decoder", "rfc-frames-whole", with(&[0x00], &frames)),
        (
            "frame_decoder",
            "rfc-frames-bytewise",
            with(&[0x01], &frames),
        ),
        ("frame_decoder", "long-frame-limited", with(&[0x93], &long)),
        ("frame_decoder", "huge-size", with(&[0x02], &huge)),
        (
            "frame_decoder",
            "reserved-flags",
            with(&[0x00], &[0x80, 0x00]),
        ),
        ("greeting", "null-whole", with(&[0x00], &null)),
        ("greeting", "null-bytewise", with(&[0x01], &null)),
        ("greeting", "zmtp30-split", with(&[0x02], &zmtp30)),
        ("greeting", "plain-server", with(&[0x03], &plain)),
        (
            "greeting",
            "zmtp20",
            with(&[0x00], &[0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 1]),
        ),
        ("command", "ready", ready),
        ("command", "error", command(Command::error("bad"))),
        (
            "command",
            "ping",
            command(Command::ping(100, &b"ctx"[..]).unwrap()),
        ),
        ("command", "pong", command(Command::pong(&b"ctx"[..]))),
        (
            "command",
            "subscribe",
            command(Command::Subscribe("topic".into())),
        ),
        ("command", "cancel", command(Command::Cancel("".into()))),
        (
            "command",
            "hello",
            [&[5][..], b"HELLO", &[1, 2, 3]].concat(),
        ),
        // REQ (0) with the valid prefix: traffic after the handshake.
        ("session", "req-traffic", with(&[0, 0x01, 0x00], &traffic)),
        // PUB (4), ZMTP 3.0 peer, sends between reads, bytewise.
        ("session", "pub-zmtp30", with(&[4, 0x83, 0x01], &traffic)),
        // DEALER (2), heartbeats, a 64-byte limit, ids, small reads.
        (
            "session",
            "dealer-heartbeat",
            with(&[2, 0xBD, 0x02], &traffic),
        ),
        // ROUTER (3) doing the whole handshake from the fuzz bytes.
        (
            "session",
            "router-raw-handshake",
            with(&[3, 0x00, 0x03], &handshake),
        ),
        (
            "session",
            "sub-garbage",
            with(&[5, 0x01, 0x00], &[0xFF, 0x01, 0x02]),
        ),
        // Operation streams (see fuzz/pattern.rs for the opcode table).
        (
            "pattern_ops",
            "subscriptions",
            vec![
                0, 3, 1, 2, 3, 0, 2, 1, 2, 1, 3, 1, 2, 3, 2, 4, 1, 2, 3, 0, 3,
            ],
        ),
        (
            "pattern_ops",
            "round-robin",
            vec![4, 1, 4, 2, 4, 3, 6, 0xFF, 7, 0x04, 5, 2, 8, 6, 0x0A],
        ),
        (
            "pattern_ops",
            "distributor",
            vec![
                9, 1, 9, 2, 11, 1, 2, 1, 2, 11, 2, 1, 1, 13, 3, 1, 2, 3, 12, 1, 2, 1, 2, 10, 2,
            ],
        ),
        (
            "pattern_ops",
            "req-rep",
            vec![
                14, 1, 2, 1, 0x61, 0, 17, 3, 3, 0, 0, 1, 0x62, 18, 1, 1, 0x63, 15, 1, 2, 0, 1,
                0x64, 20, 5, 2, 0, 0, 1, 0,
            ],
        ),
        (
            "pattern_ops",
            "routing",
            vec![
                21, 0, 1, 21, 3, 2, 3, 0x61, 0x62, 0x63, 21, 3, 3, 1, 0, 22, 1, 23, 0xFF, 0xFF,
                0xFF, 0xFF, 21, 0, 4,
            ],
        ),
        ("endpoint", "tcp", b"tcp://127.0.0.1:5555".to_vec()),
        ("endpoint", "tcp-v6", b"tcp://[::1]:0".to_vec()),
        ("endpoint", "tcp-wildcard", b"tcp://*:*".to_vec()),
        ("endpoint", "ipc", b"ipc:///tmp/feeds/0".to_vec()),
        ("endpoint", "inproc", b"inproc://name".to_vec()),
        ("endpoint", "bad-port", b"tcp://host:65536".to_vec()),
        // Untouched handshakes with every ZAP answer, and a few corruptions.
        ("security_handshake", "plain-200", vec![0, 1]),
        ("security_handshake", "plain-server-400", vec![2, 3]),
        ("security_handshake", "curve-200", vec![1, 1]),
        ("security_handshake", "curve-server-none", vec![3, 0]),
        (
            "security_handshake",
            "curve-hello-flip",
            vec![3, 1, 0, 150, 1],
        ),
        (
            "security_handshake",
            "curve-welcome-flip",
            vec![1, 1, 0, 100, 0x80],
        ),
        (
            "security_handshake",
            "plain-raw",
            b"\x06\x01\x04\x0c\x05HELLO\x01a\x01b".to_vec(),
        ),
        (
            "zap_reply",
            "ok",
            b"\x031.0\x011\x03200\x02OK\x04user\x00".to_vec(),
        ),
        (
            "zap_reply",
            "too-many",
            b"\x031.0\x011\x03200\x00\x00\x00\x00".to_vec(),
        ),
        ("z85", "rfc32", b"HelloWorld".to_vec()),
        ("z85", "overflow", b"%nSc1".to_vec()),
    ]
}

#[test]
fn entry_points_on_fixed_inputs() {
    for (name, entry) in TARGETS {
        entry(b"");
        entry(&[0]);
        entry(&[0xFF; 80]);
        entry(&(0..=255).collect::<Vec<u8>>());
        for (target, _, data) in seeds() {
            if target == name {
                entry(&data);
            }
        }
    }
}

/// Writes the seeds as `fuzz/corpus/<target>/seed-<name>`.
#[test]
#[ignore = "writes the seed corpus into the source tree"]
fn write_seed_corpus() {
    for (target, name, data) in seeds() {
        let dir = fuzz_dir().join("corpus").join(target);
        fs::create_dir_all(&dir).expect("corpus directory");
        fs::write(dir.join(format!("seed-{name}")), data).expect("seed file");
    }
}
