//! Ironhouse: a REP server that echoes every request over CURVE.
//!
//! ```text
//! cargo run --example ironhouse_server -- ENDPOINT SERVER_SECRET_Z85 [ALLOWED_CLIENT_PUBLIC_Z85 ...]
//! ```
//!
//! With client keys given, only those clients are accepted (the authenticator answers
//! the others with ZAP status 400); with none, any CURVE client is. Runs until killed.

use monocoque::security::{Authenticator, PublicKey, SecretKey};
use monocoque::{Context, SocketOptions, SocketType};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [endpoint, secret, allowed @ ..] = &args[..] else {
        eprintln!(
            "usage: ironhouse_server ENDPOINT SERVER_SECRET_Z85 [ALLOWED_CLIENT_PUBLIC_Z85 ...]"
        );
        std::process::exit(2);
    };
    let mut auth = Authenticator::new();
    if allowed.is_empty() {
        auth = auth.curve_allow_any();
    }
    for key in allowed {
        auth = auth.curve_key(*PublicKey::parse(key)?.as_bytes());
    }
    let options = SocketOptions::default()
        .curve_server(true)
        .curve_secretkey(SecretKey::parse(secret)?)
        .authenticator(auth);
    let context = Context::new()?;
    let server = context.socket_with_options(SocketType::Rep, options)?;
    let bound = futures::executor::block_on(server.bind(endpoint))?;
    eprintln!("ironhouse_server: listening on {bound}");
    loop {
        let request = server.recv_blocking(None)?;
        server.send_blocking(request, None)?;
    }
}
