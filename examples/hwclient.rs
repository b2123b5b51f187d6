//! Hello World client (the ZeroMQ guide's `hwclient`): a REQ socket connected to
//! `tcp://localhost:5555` sends "Hello" ten times and prints each reply.
//!
//! Start the server first (this crate's `hwserver`, or the guide's in any language):
//!
//! ```text
//! cargo run --example hwserver
//! cargo run --example hwclient
//! ```

use monocoque::ReqSocket;

#[compio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("Connecting to hello world server...");
    let requester = ReqSocket::new();
    requester.connect("tcp://localhost:5555").await?;

    for request_nbr in 0..10 {
        println!("Sending Hello {request_nbr}...");
        requester.send("Hello").await?;
        let reply = requester.recv().await?;
        let text = reply
            .first()
            .map(|frame| String::from_utf8_lossy(frame).into_owned())
            .unwrap_or_default();
        println!("Received {text} {request_nbr}");
    }
    Ok(())
}
