//! Z85 (RFC 32): the printable encoding of CURVE keys, four bytes to five characters.
//!
//! Strict as libzmq's `zmq_z85_encode`/`zmq_z85_decode`: input to encode must be a
//! multiple of 4 bytes, text to decode a multiple of 5 characters of the Z85 alphabet,
//! and a group whose value does not fit in 32 bits is refused.

/// The Z85 alphabet, indexed by digit value.
const ALPHABET: &[u8; 85] =
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/// Why a Z85 text or input was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Z85Error {
    /// Bytes to encode are not a multiple of 4, or text to decode not a multiple of 5.
    #[error("Z85 needs a multiple of {0} input units")]
    Length(usize),
    /// The text holds a character outside the Z85 alphabet.
    #[error("character {0:#04x} is not in the Z85 alphabet")]
    Character(u8),
    /// A five-character group encodes a value above 2^32 - 1.
    #[error("Z85 group out of range")]
    Overflow,
}

/// Encodes `data` (a multiple of 4 bytes) as Z85 text.
///
/// ```
/// use monocoque_zmtp::proto::z85;
/// // RFC 32's test vector.
/// let bytes = [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B];
/// assert_eq!(z85::encode(&bytes).unwrap(), "HelloWorld");
/// assert_eq!(z85::decode("HelloWorld").unwrap(), bytes);
/// ```
///
/// # Errors
/// [`Z85Error::Length`] when `data.len()` is not a multiple of 4.
pub fn encode(data: &[u8]) -> Result<String, Z85Error> {
    if !data.len().is_multiple_of(4) {
        return Err(Z85Error::Length(4));
    }
    let mut text = String::with_capacity(data.len() / 4 * 5);
    for group in data.chunks_exact(4) {
        let mut value = u32::from_be_bytes([group[0], group[1], group[2], group[3]]);
        let mut digits = [0u8; 5];
        for digit in digits.iter_mut().rev() {
            *digit = ALPHABET[(value % 85) as usize];
            value /= 85;
        }
        digits.iter().for_each(|&c| text.push(char::from(c)));
    }
    Ok(text)
}

/// Decodes Z85 `text` (a multiple of 5 characters).
///
/// # Errors
/// [`Z85Error::Length`], [`Z85Error::Character`] or [`Z85Error::Overflow`].
pub fn decode(text: &str) -> Result<Vec<u8>, Z85Error> {
    let text = text.as_bytes();
    if !text.len().is_multiple_of(5) {
        return Err(Z85Error::Length(5));
    }
    let mut data = Vec::with_capacity(text.len() / 5 * 4);
    for group in text.chunks_exact(5) {
        let mut value: u64 = 0;
        for &c in group {
            value = value * 85 + u64::from(digit_value(c)?);
        }
        let value = u32::try_from(value).map_err(|_| Z85Error::Overflow)?;
        data.extend_from_slice(&value.to_be_bytes());
    }
    Ok(data)
}

fn digit_value(c: u8) -> Result<u8, Z85Error> {
    ALPHABET
        .iter()
        .position(|&a| a == c)
        .map(|i| i as u8)
        .ok_or(Z85Error::Character(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc32_vector_round_trips() {
        let bytes = [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B];
        assert_eq!(encode(&bytes).unwrap(), "HelloWorld");
        assert_eq!(decode("HelloWorld").unwrap(), bytes);
    }

    #[test]
    fn libzmq_documented_keys_decode_to_32_bytes() {
        // The key pair of zmq_curve's man page (libzmq's test_security_curve uses it).
        let public = decode("Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID").unwrap();
        let secret = decode("D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs").unwrap();
        assert_eq!(public.len(), 32);
        assert_eq!(secret.len(), 32);
        assert_eq!(
            encode(&public).unwrap(),
            "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
        );
    }

    #[test]
    fn every_four_byte_value_edge_round_trips() {
        for value in [0u32, 1, 84, 85, 0x7FFF_FFFF, u32::MAX] {
            let text = encode(&value.to_be_bytes()).unwrap();
            assert_eq!(decode(&text).unwrap(), value.to_be_bytes());
        }
    }

    #[test]
    fn bad_input_is_refused() {
        assert_eq!(encode(&[1, 2, 3]), Err(Z85Error::Length(4)));
        assert_eq!(decode("Hell"), Err(Z85Error::Length(5)));
        assert_eq!(decode("Hell\""), Err(Z85Error::Character(b'"')));
        assert_eq!(decode("Hell~"), Err(Z85Error::Character(b'~')));
        // "%nSc1" is 2^32 exactly: one past the largest 32-bit value.
        assert_eq!(decode("%nSc1"), Err(Z85Error::Overflow));
        assert_eq!(decode("%nSc0").unwrap(), u32::MAX.to_be_bytes());
        assert_eq!(decode("#####"), Err(Z85Error::Overflow));
    }
}
