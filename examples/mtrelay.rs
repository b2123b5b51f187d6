//! Multithreaded relay (the ZeroMQ guide's `mtrelay`): three threads chained by PAIR
//! sockets over inproc. Step 1 tells step 2 it is ready, step 2 tells step 3 (the
//! main thread), which prints "Test successful!".
//!
//! ```text
//! cargo run --example mtrelay
//! ```

use monocoque::{Context, SocketType};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let context = Context::new()?;

    // Bind inproc socket before starting step 2.
    let receiver = context.socket(SocketType::Pair)?;
    futures::executor::block_on(receiver.bind("inproc://step3"))?;

    let step2_context = context.clone();
    let step2 = std::thread::spawn(move || -> Result<(), monocoque::Error> {
        // Bind inproc socket before starting step 1.
        let receiver = step2_context.socket(SocketType::Pair)?;
        futures::executor::block_on(receiver.bind("inproc://step2"))?;
        let step1_context = step2_context.clone();
        let step1 = std::thread::spawn(move || -> Result<(), monocoque::Error> {
            // Connect to step 2 and tell it we're ready.
            let xmitter = step1_context.socket(SocketType::Pair)?;
            futures::executor::block_on(xmitter.connect("inproc://step2"))?;
            println!("Step 1 ready, signaling step 2");
            xmitter.send_blocking("READY", None)
        });
        // Wait for signal and pass it on.
        receiver.recv_blocking(None)?;
        let xmitter = step2_context.socket(SocketType::Pair)?;
        futures::executor::block_on(xmitter.connect("inproc://step3"))?;
        println!("Step 2 ready, signaling step 3");
        xmitter.send_blocking("READY", None)?;
        step1.join().expect("step 1 panicked")
    });

    // Wait for signal.
    receiver.recv_blocking(None)?;
    println!("Test successful!");
    step2.join().expect("step 2 panicked")?;
    context.terminate();
    Ok(())
}
