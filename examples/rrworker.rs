//! Request-reply worker (the ZeroMQ guide's `rrworker`): a REP socket connected to the
//! broker's backend at `tcp://localhost:5560` answers every request with "World".
//!
//! ```text
//! cargo run --example rrbroker
//! cargo run --example rrworker     # one or more
//! cargo run --example rrclient
//! ```
//!
//! Unlike the guide, it does not sleep one second per request. Stop it with Ctrl-C.

use monocoque::RepSocket;

#[compio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let responder = RepSocket::new();
    responder.connect("tcp://localhost:5560").await?;

    loop {
        let request = responder.recv().await?;
        let text = request
            .first()
            .map(|frame| String::from_utf8_lossy(frame).into_owned())
            .unwrap_or_default();
        println!("Received request: [{text}]");
        responder.send("World").await?;
    }
}
