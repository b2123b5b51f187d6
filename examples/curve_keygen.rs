//! Prints a new CURVE key pair in Z85, as libzmq's `curve_keygen` does.
//!
//! ```text
//! cargo run --example curve_keygen
//! ```

use monocoque::security::KeyPair;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pair = KeyPair::generate()?;
    println!("== CURVE PUBLIC KEY ==");
    println!("{}", pair.public.to_z85());
    println!("== CURVE SECRET KEY ==");
    println!("{}", pair.secret.to_z85());
    Ok(())
}
