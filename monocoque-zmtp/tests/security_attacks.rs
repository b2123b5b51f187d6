//! Attacks on a CURVE server over real tcp (CVE-2020-15166 and friends): connections
//! that send HELLO and stall must not keep other clients out, and must be gone once
//! the handshake deadline passed.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use monocoque_zmtp::config::SocketOptions;
use monocoque_zmtp::proto::auth::Authenticator;
use monocoque_zmtp::proto::mechanism::Security;
use monocoque_zmtp::proto::mechanism::curve::{KeyPair, SecretKey};
use monocoque_zmtp::proto::session::{Session, SessionConfig};
use monocoque_zmtp::proto::socket_type::SocketType;
use monocoque_zmtp::socket::Context;

/// How many stalled connections: the figure.
const STALLED: usize = 10_000;
const LIMIT: Duration = Duration::from_secs(120);
/// The server's handshake deadline: long enough for the attacker to open all its
/// connections (about 5 s here) before the first one expires.
const HANDSHAKE_IVL: Duration = Duration::from_secs(12);

/// A CURVE greeting and HELLO for `server`, as a real client writes them.
fn greeting_and_hello(server: &KeyPair) -> Vec<u8> {
    let now = Instant::now();
    let mut config = SessionConfig::new(SocketType::Req);
    config.security = Security::CurveClient {
        server_key: server.public,
        keys: KeyPair::generate().unwrap(),
    };
    let mut client = Session::new(config, now).unwrap();
    let mut server_config = SessionConfig::new(SocketType::Rep);
    server_config.security = Security::CurveServer {
        keys: server.clone(),
    };
    let mut fake_server = Session::new(server_config, now).unwrap();
    let mut wire = BytesMut::new();
    client.poll_transmit(&mut wire);
    let mut bytes = wire.split().to_vec();
    fake_server.handle_input(bytes.clone().into(), now);
    fake_server.poll_transmit(&mut wire);
    client.handle_input(wire.split().freeze(), now);
    client.poll_transmit(&mut wire);
    bytes.extend_from_slice(&wire);
    assert_eq!(bytes.len(), 64 + 2 + 200, "greeting and one HELLO");
    bytes
}

#[test]
fn stalled_hellos_neither_block_clients_nor_outlive_the_handshake_deadline() {
    let server_keys = KeyPair::from_secret(SecretKey::generate().unwrap());
    let context = Context::new().unwrap();
    let options = SocketOptions::default()
        .curve_server(true)
        .curve_secretkey(server_keys.secret.clone())
        .authenticator(Authenticator::new().curve_allow_any())
        .handshake_ivl(Some(HANDSHAKE_IVL));
    let server = context
        .socket_with_options(SocketType::Rep, options)
        .unwrap();
    let endpoint = futures::executor::block_on(server.bind("tcp://127.0.0.1:0")).unwrap();
    let port = endpoint.rsplit(':').next().unwrap().to_string();

    let hex: String = greeting_and_hello(&server_keys)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/stall_hello.py");
    let mut attacker = Command::new("python3")
        .args([script, "127.0.0.1", &port, &STALLED.to_string(), &hex])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is needed for the attacker");
    let mut line = String::new();
    BufReader::new(attacker.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), format!("stalled {STALLED}"));

    // With every stalled connection open, a real client is served at once.
    let client_options = SocketOptions::default()
        .curve_serverkey(server_keys.public)
        .curve_keypair(KeyPair::generate().unwrap())
        .linger(Some(Duration::ZERO));
    let client = context
        .socket_with_options(SocketType::Req, client_options)
        .unwrap();
    futures::executor::block_on(client.connect(&endpoint)).unwrap();
    client
        .send_blocking("hello", Some(Duration::from_secs(10)))
        .unwrap();
    let request = server.recv_blocking(Some(Duration::from_secs(10))).unwrap();
    server.send_blocking(request, None).unwrap();
    let reply = client.recv_blocking(Some(Duration::from_secs(10))).unwrap();
    assert_eq!(&reply[0][..], b"hello");
    // None of the stalled connections had timed out yet: all 10,000 were held while
    // the client was served.
    let stats = futures::executor::block_on(server.stats()).unwrap();
    assert_eq!(
        stats.protocol_errors, 0,
        "the deadline passed too early: {stats:?}"
    );

    // Past the deadline every stalled connection is closed by the server, though the
    // attacker keeps its ends open.
    let deadline = Instant::now() + LIMIT;
    loop {
        let stats = futures::executor::block_on(server.stats()).unwrap();
        if stats.protocol_errors as usize >= STALLED {
            assert_eq!(stats.handshakes, 1, "{stats:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "stalled connections kept: {stats:?}"
        );
        thread::sleep(Duration::from_millis(50));
    }
    drop(attacker.stdin.take());
    let _ = attacker.kill();
    let _ = attacker.wait();
    context.terminate();
}
