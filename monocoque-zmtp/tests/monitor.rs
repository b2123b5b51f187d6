//! Socket monitors: the events a user sees for endpoints, connections and handshakes,
//! with accurate reasons (libzmq's test_monitor, re-expressed and typed).

mod common;

use std::io::Write;
use std::time::Duration;

use monocoque_zmtp::config::SocketOptions;
use monocoque_zmtp::proto::error::ProtocolError;
use monocoque_zmtp::proto::socket_type::SocketType;
use monocoque_zmtp::socket::{Context, HandshakeFailure, Monitor, SocketEvent};

const LIMIT: Duration = Duration::from_secs(10);

/// Awaits the next event, failing the test after `LIMIT`.
fn next(runtime: &tokio::runtime::Runtime, monitor: &Monitor) -> SocketEvent {
    runtime
        .block_on(async { tokio::time::timeout(LIMIT, monitor.next()).await })
        .expect("no event in time")
        .expect("the monitor stopped")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

fn block<T>(fut: impl Future<Output = T>) -> T {
    futures::executor::block_on(fut)
}

#[test]
fn a_peer_comes_and_goes() {
    let rt = runtime();
    let context = Context::new().unwrap();
    let rep = context.socket(SocketType::Rep).unwrap();
    let monitor = block(rep.monitor()).unwrap();
    let endpoint = block(rep.bind("tcp://127.0.0.1:0")).unwrap();
    assert_eq!(
        next(&rt, &monitor),
        SocketEvent::Listening {
            endpoint: endpoint.clone()
        }
    );
    let req = context.socket(SocketType::Req).unwrap();
    block(req.connect(&endpoint)).unwrap();
    let peer = "127.0.0.1".to_string();
    assert_eq!(
        next(&rt, &monitor),
        SocketEvent::Accepted {
            endpoint: endpoint.clone(),
            peer: peer.clone()
        }
    );
    assert_eq!(
        next(&rt, &monitor),
        SocketEvent::HandshakeSucceeded {
            endpoint: endpoint.clone(),
            peer: peer.clone()
        }
    );
    req.close();
    assert_eq!(
        next(&rt, &monitor),
        SocketEvent::Disconnected {
            endpoint: endpoint.clone(),
            peer,
            error: None
        }
    );
    rep.close();
    assert_eq!(next(&rt, &monitor), SocketEvent::Closed { endpoint });
    assert_eq!(next(&rt, &monitor), SocketEvent::MonitorStopped);
    assert_eq!(rt.block_on(monitor.next()), None);
    context.terminate();
}

#[test]
fn a_dead_server_shows_as_delayed_and_retried_connects() {
    let rt = runtime();
    let context = Context::new().unwrap();
    // A port bound but not listening, held until the test ends.
    let (_reserved, endpoint) = common::refused_endpoint();
    let options = SocketOptions::default().reconnect_ivl(Duration::from_millis(20));
    let dealer = context
        .socket_with_options(SocketType::Dealer, options)
        .unwrap();
    let monitor = block(dealer.monitor()).unwrap();
    block(dealer.connect(&endpoint)).unwrap();
    let SocketEvent::ConnectDelayed { endpoint: e, error } = next(&rt, &monitor) else {
        panic!("no ConnectDelayed");
    };
    assert_eq!(e, endpoint);
    assert!(error.to_lowercase().contains("refused"), "{error}");
    for _ in 0..3 {
        // One delay for the series, then one retry per attempt.
        assert_eq!(
            next(&rt, &monitor),
            SocketEvent::ConnectRetried {
                endpoint: endpoint.clone(),
                after: Duration::from_millis(20)
            }
        );
    }
    context.terminate();
}

/// Waits for the first HandshakeFailed, skipping connection events.
fn handshake_failure(rt: &tokio::runtime::Runtime, monitor: &Monitor) -> HandshakeFailure {
    loop {
        match next(rt, monitor) {
            SocketEvent::HandshakeFailed { reason, peer, .. } => {
                assert_eq!(peer, "127.0.0.1");
                return reason;
            }
            SocketEvent::HandshakeSucceeded { .. } => panic!("the handshake succeeded"),
            _ => {}
        }
    }
}

#[test]
fn handshake_failures_say_why() {
    let rt = runtime();
    let context = Context::new().unwrap();

    // An incompatible socket type.
    let rep = context.socket(SocketType::Rep).unwrap();
    let monitor = block(rep.monitor()).unwrap();
    let endpoint = block(rep.bind("tcp://127.0.0.1:0")).unwrap();
    let publisher = context.socket(SocketType::Pub).unwrap();
    block(publisher.connect(&endpoint)).unwrap();
    assert!(matches!(
        handshake_failure(&rt, &monitor),
        HandshakeFailure::Protocol(ProtocolError::IncompatibleSocketType { .. })
    ));

    // An HTTP request instead of a greeting.
    let address = endpoint.trim_start_matches("tcp://").to_string();
    let mut http = std::net::TcpStream::connect(&address).unwrap();
    http.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    // Named for what it is, not "a ZMTP 1.0 peer".
    assert_eq!(
        handshake_failure(&rt, &monitor),
        HandshakeFailure::Protocol(ProtocolError::BadSignature)
    );

    // PLAIN with a wrong password: the server says authentication, and so does the
    // client, which hears ERROR 400.
    let options = SocketOptions::default().plain_server(true).authenticator(
        monocoque_zmtp::proto::auth::Authenticator::new().plain_user("admin", "secret"),
    );
    let server = context
        .socket_with_options(SocketType::Rep, options)
        .unwrap();
    let server_monitor = block(server.monitor()).unwrap();
    let endpoint = block(server.bind("tcp://127.0.0.1:0")).unwrap();
    let options = SocketOptions::default()
        .plain_username("admin")
        .plain_password("guess")
        .linger(Some(Duration::ZERO));
    let client = context
        .socket_with_options(SocketType::Req, options)
        .unwrap();
    let client_monitor = block(client.monitor()).unwrap();
    block(client.connect(&endpoint)).unwrap();
    assert_eq!(
        handshake_failure(&rt, &server_monitor),
        HandshakeFailure::Authentication(ProtocolError::ZapDenied { status: 400 })
    );
    assert_eq!(
        handshake_failure(&rt, &client_monitor),
        HandshakeFailure::Authentication(ProtocolError::PeerError {
            reason: "400".into()
        })
    );
    context.terminate();
}
