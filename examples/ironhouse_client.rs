//! Ironhouse: a REQ client over CURVE that sends `Hello <i>` COUNT times and prints
//! each reply.
//!
//! ```text
//! cargo run --example ironhouse_client -- ENDPOINT SERVER_PUBLIC_Z85 CLIENT_SECRET_Z85 [COUNT]
//! ```
//!
//! Exits 0 after all replies, 1 when a reply takes longer than 5 s (a server that
//! refused our key never answers).

use std::time::Duration;

use monocoque::security::{PublicKey, SecretKey};
use monocoque::{Context, Error, SocketOptions, SocketType};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (endpoint, server_public, client_secret, count) = match &args[..] {
        [e, s, c] => (e, s, c, 10),
        [e, s, c, n] => (e, s, c, n.parse()?),
        _ => {
            eprintln!(
                "usage: ironhouse_client ENDPOINT SERVER_PUBLIC_Z85 CLIENT_SECRET_Z85 [COUNT]"
            );
            std::process::exit(2);
        }
    };
    let options = SocketOptions::default()
        .curve_serverkey(PublicKey::parse(server_public)?)
        .curve_secretkey(SecretKey::parse(client_secret)?)
        .linger(Some(Duration::ZERO));
    let context = Context::new()?;
    let client = context.socket_with_options(SocketType::Req, options)?;
    futures::executor::block_on(client.connect(endpoint))?;
    for i in 0..count {
        client.send_blocking(format!("Hello {i}").as_str(), None)?;
        match client.recv_blocking(Some(Duration::from_secs(5))) {
            Ok(reply) => println!("{}", String::from_utf8_lossy(&reply[0])),
            Err(Error::TimedOut) => {
                eprintln!("ironhouse_client: no reply within 5 s");
                std::process::exit(1);
            }
            Err(err) => {
                eprintln!("ironhouse_client: {err}");
                std::process::exit(1);
            }
        }
    }
    context.terminate();
    Ok(())
}
