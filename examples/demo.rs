//! The main demo (in-memory for now): two ZMTP sessions, a PUSH and a PULL, complete
//! the NULL handshake and exchange a batch of messages through the sans-IO core, then
//! print the throughput of the protocol core alone.

use std::time::Instant;

use bytes::BytesMut;
use monocoque::proto::message::Message;
use monocoque::proto::session::{Event, Session, SessionConfig};
use monocoque::proto::socket_type::SocketType;

fn main() {
    let now = Instant::now();
    let mut push = Session::new(SessionConfig::new(SocketType::Push), now).expect("config");
    let mut pull = Session::new(SessionConfig::new(SocketType::Pull), now).expect("config");
    let mut wire = BytesMut::new();
    for _ in 0..3 {
        push.poll_transmit(&mut wire);
        pull.handle_input(wire.split().freeze(), now);
        pull.poll_transmit(&mut wire);
        push.handle_input(wire.split().freeze(), now);
    }
    for s in [&mut push, &mut pull] {
        if let Some(Event::HandshakeComplete(peer)) = s.poll_event() {
            println!(
                "handshake complete with a {} peer (ZMTP {})",
                peer.socket_type, peer.version
            );
        }
    }

    let count = 1_000_000u64;
    let msg = Message::from(vec![0u8; 64]);
    let start = Instant::now();
    let mut received = 0u64;
    for _ in 0..count / 1000 {
        for _ in 0..1000 {
            push.send_message(&msg).expect("active session");
        }
        push.poll_transmit(&mut wire);
        pull.handle_input(wire.split().freeze(), now);
        while let Some(Event::Message(_)) = pull.poll_event() {
            received += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{received} messages of 64 B through the protocol core in {:.3} s: {:.0} msg/s",
        secs,
        received as f64 / secs
    );
}
