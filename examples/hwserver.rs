//! Hello World server (the ZeroMQ guide's `hwserver`): a REP socket bound to
//! `tcp://*:5555` that answers every "Hello" with "World".
//!
//! Run it, then the client in another terminal (or any language's `hwclient`):
//!
//! ```text
//! cargo run --example hwserver
//! cargo run --example hwclient
//! ```
//!
//! Unlike the guide, the server does not sleep one second per request ("do some
//! work"); it answers at once. Stop it with Ctrl-C.

use monocoque::RepSocket;

#[compio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let responder = RepSocket::new();
    responder.bind("tcp://*:5555").await?;
    println!("hwserver: REP bound to tcp://*:5555");

    loop {
        let request = responder.recv().await?;
        let text = request
            .first()
            .map(|frame| String::from_utf8_lossy(frame).into_owned())
            .unwrap_or_default();
        println!("Received {text}");
        responder.send("World").await?;
    }
}
