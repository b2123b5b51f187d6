//! Weather update client (the ZeroMQ guide's `wuclient`): a SUB socket connected to
//! `tcp://localhost:5556` subscribes to one zipcode, collects 100 updates and prints
//! the average temperature.
//!
//! The optional argument is the subscription filter, default `"10001 "` (zipcode
//! 10001; the trailing space keeps 100010 out). Any prefix works: `"1"` matches
//! about one update in ten and finishes quickly.
//!
//! ```text
//! cargo run --example wuserver
//! cargo run --example wuclient
//! cargo run --example wuclient -- "1"
//! ```

use monocoque::SubSocket;

const UPDATES: i64 = 100;

#[compio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let filter = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "10001 ".to_string());

    println!("Collecting updates from weather server...");
    let subscriber = SubSocket::new();
    subscriber.connect("tcp://localhost:5556").await?;
    subscriber.subscribe(&filter)?;

    let mut total_temp: i64 = 0;
    for _ in 0..UPDATES {
        let update = subscriber.recv().await?;
        let text = update
            .first()
            .map(|frame| String::from_utf8_lossy(frame).into_owned())
            .unwrap_or_default();
        // "zipcode temperature relhumidity"
        let mut fields = text.split_whitespace();
        let temperature = fields
            .nth(1)
            .and_then(|t| t.parse::<i64>().ok())
            .ok_or_else(|| format!("malformed weather update {text:?}"))?;
        total_temp += temperature;
    }
    println!(
        "Average temperature for zipcode '{}' was {}F",
        filter.trim_end(),
        total_temp / UPDATES
    );
    Ok(())
}
