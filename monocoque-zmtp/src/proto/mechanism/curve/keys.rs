//! CURVE keys: X25519 public and secret keys, as libzmq takes them (32 raw bytes or 40
//! Z85 characters) and as `zmq_curve_keypair` makes them.

use std::fmt;

use curve25519_dalek::montgomery::MontgomeryPoint;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::proto::z85;

/// Length of a key in bytes.
pub const KEY_LEN: usize = 32;
/// Length of a key in Z85 characters.
pub const KEY_Z85_LEN: usize = 40;

/// Why a key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A key must be 32 bytes or 40 Z85 characters.
    #[error("a CURVE key is 32 bytes or 40 Z85 characters, not {0}")]
    Length(usize),
    /// 40 characters that are not valid Z85.
    #[error("invalid Z85 key: {0}")]
    Z85(#[from] z85::Z85Error),
    /// The operating system's random source failed.
    #[error("no randomness available to generate a key")]
    Random,
}

/// Reads a key given as 32 raw bytes or 40 Z85 characters.
fn parse_key(key: &[u8]) -> Result<[u8; KEY_LEN], KeyError> {
    match key.len() {
        KEY_LEN => {
            let mut bytes = [0; KEY_LEN];
            bytes.copy_from_slice(key);
            Ok(bytes)
        }
        KEY_Z85_LEN => {
            let text = std::str::from_utf8(key).map_err(|_| KeyError::Length(key.len()))?;
            let mut decoded = z85::decode(text)?;
            let mut bytes = [0; KEY_LEN];
            bytes.copy_from_slice(&decoded);
            decoded.zeroize();
            Ok(bytes)
        }
        n => Err(KeyError::Length(n)),
    }
}

/// A CURVE public key (`ZMQ_CURVE_PUBLICKEY`, `ZMQ_CURVE_SERVERKEY`).
///
/// ```
/// use monocoque_zmtp::proto::mechanism::curve::PublicKey;
/// let key = PublicKey::parse("Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID").unwrap();
/// assert_eq!(key.to_z85(), "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID");
/// assert!(PublicKey::parse("too short").is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey([u8; KEY_LEN]);

impl PublicKey {
    /// A key from its 32 bytes.
    pub const fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        PublicKey(bytes)
    }

    /// A key from 32 raw bytes or 40 Z85 characters.
    ///
    /// # Errors
    /// [`KeyError`] for any other length or invalid Z85.
    pub fn parse(key: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        parse_key(key.as_ref()).map(PublicKey)
    }

    /// The key's bytes.
    pub const fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The key as 40 Z85 characters.
    pub fn to_z85(&self) -> String {
        z85::encode(&self.0).unwrap_or_default()
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_z85())
    }
}

/// A CURVE secret key (`ZMQ_CURVE_SECRETKEY`): zeroized on drop, never printed.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey([u8; KEY_LEN]);

impl SecretKey {
    /// A key from its 32 bytes.
    pub const fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        SecretKey(bytes)
    }

    /// A key from 32 raw bytes or 40 Z85 characters.
    ///
    /// # Errors
    /// [`KeyError`] for any other length or invalid Z85.
    pub fn parse(key: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        parse_key(key.as_ref()).map(SecretKey)
    }

    /// A new random key from the operating system's random source.
    ///
    /// # Errors
    /// [`KeyError::Random`] when the random source fails.
    pub fn generate() -> Result<Self, KeyError> {
        let mut bytes = [0; KEY_LEN];
        getrandom::getrandom(&mut bytes).map_err(|_| KeyError::Random)?;
        Ok(SecretKey(bytes))
    }

    /// The public key of this secret key (`zmq_curve_public`).
    pub fn public_key(&self) -> PublicKey {
        PublicKey(MontgomeryPoint::mul_base_clamped(self.0).to_bytes())
    }

    /// The key's bytes: secret material, handle with care.
    pub const fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The key as 40 Z85 characters: secret material, handle with care.
    pub fn to_z85(&self) -> String {
        z85::encode(&self.0).unwrap_or_default()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// A CURVE key pair (`zmq_curve_keypair`).
///
/// ```
/// use monocoque_zmtp::proto::mechanism::curve::KeyPair;
/// let pair = KeyPair::generate().unwrap();
/// assert_eq!(pair.public, pair.secret.public_key());
/// assert!(!format!("{pair:?}").contains(&pair.secret.to_z85()));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct KeyPair {
    /// The public key, to give to peers.
    pub public: PublicKey,
    /// The secret key, to keep.
    pub secret: SecretKey,
}

impl KeyPair {
    /// A new random key pair.
    ///
    /// # Errors
    /// [`KeyError::Random`] when the random source fails.
    pub fn generate() -> Result<Self, KeyError> {
        SecretKey::generate().map(Self::from_secret)
    }

    /// The pair of a secret key.
    pub fn from_secret(secret: SecretKey) -> Self {
        KeyPair {
            public: secret.public_key(),
            secret,
        }
    }
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("public", &self.public)
            .field("secret", &self.secret)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The key pairs of libzmq's test_security_curve.cpp and zmq_curve(7).
    const CLIENT_PUBLIC: &str = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
    const CLIENT_SECRET: &str = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";
    const SERVER_PUBLIC: &str = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
    const SERVER_SECRET: &str = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";

    #[test]
    fn documented_pairs_match() {
        let client = SecretKey::parse(CLIENT_SECRET).unwrap();
        assert_eq!(client.public_key().to_z85(), CLIENT_PUBLIC);
        let server = SecretKey::parse(SERVER_SECRET).unwrap();
        assert_eq!(server.public_key().to_z85(), SERVER_PUBLIC);
    }

    #[test]
    fn keys_take_32_bytes_or_40_characters_only() {
        let raw = *PublicKey::parse(SERVER_PUBLIC).unwrap().as_bytes();
        assert_eq!(PublicKey::parse(raw).unwrap().to_z85(), SERVER_PUBLIC);
        assert_eq!(PublicKey::parse([0u8; 31]), Err(KeyError::Length(31)));
        assert_eq!(PublicKey::parse(""), Err(KeyError::Length(0)));
        assert!(matches!(
            PublicKey::parse("~ne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"),
            Err(KeyError::Z85(_))
        ));
    }

    #[test]
    fn secrets_are_not_printed() {
        let pair = KeyPair::from_secret(SecretKey::parse(CLIENT_SECRET).unwrap());
        let shown = format!("{pair:?}");
        assert!(!shown.contains(CLIENT_SECRET), "{shown}");
        assert!(shown.contains(CLIENT_PUBLIC), "{shown}");
    }

    #[test]
    fn generated_pairs_differ() {
        let a = KeyPair::generate().unwrap();
        let b = KeyPair::generate().unwrap();
        assert_ne!(a.public, b.public);
        assert_eq!(a.public, a.secret.public_key());
    }
}
