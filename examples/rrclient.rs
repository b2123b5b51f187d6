//! Request-reply client (the ZeroMQ guide's `rrclient`): a REQ socket connected to the
//! broker's frontend at `tcp://localhost:5559` sends "Hello" ten times and prints the
//! replies.
//!
//! ```text
//! cargo run --example rrbroker
//! cargo run --example rrworker     # one or more
//! cargo run --example rrclient
//! ```

use monocoque::ReqSocket;

#[compio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let requester = ReqSocket::new();
    requester.connect("tcp://localhost:5559").await?;

    for request_nbr in 0..10 {
        requester.send("Hello").await?;
        let reply = requester.recv().await?;
        let text = reply
            .first()
            .map(|frame| String::from_utf8_lossy(frame).into_owned())
            .unwrap_or_default();
        println!("Received reply {request_nbr} [{text}]");
    }
    Ok(())
}
