//! XSalsa20-Poly1305 (NaCl's `crypto_secretbox`), the box of every CurveZMQ command
//! and message, in libsodium's layout: a 16-byte tag, then the ciphertext. The first
//! 32 bytes of the keystream are the one-time Poly1305 key; the message is encrypted
//! with the keystream from byte 32 on.
//!
//! The cipher is our own XSalsa20 (`salsa`), which computes several blocks at once
//! where RustCrypto's `salsa20` computes one. [`PrefixedBox`] serves nonces that share
//! their first 16 bytes (MESSAGE nonces) with the XSalsa20 subkey derived once. The MAC
//! is our own Poly1305 (`poly1305`), faster at every size than RustCrypto's
//! `poly1305` 0.8, which pays its AVX2 set-up on every message (about 1 us). A unit
//! test checks every size against `crypto_secretbox` itself.

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::poly1305;
use super::salsa::{Salsa20, hsalsa20};

/// A 32-byte secret-box key (a CurveZMQ cookie key, or the result of
/// `crypto_box_beforenm`).
pub(crate) struct SecretBox {
    key: Zeroizing<[u8; 32]>,
}

impl SecretBox {
    pub(crate) fn new(key: [u8; 32]) -> SecretBox {
        SecretBox {
            key: Zeroizing::new(key),
        }
    }

    /// Encrypts `buffer` in place; returns its tag.
    pub(crate) fn seal(&self, nonce: &[u8; 24], buffer: &mut [u8]) -> [u8; 16] {
        seal(Salsa20::xsalsa20(&self.key, nonce), buffer)
    }

    /// Checks `tag` and decrypts `buffer` in place; on a wrong tag `buffer` is left
    /// as it was and `false` is returned.
    pub(crate) fn open(&self, nonce: &[u8; 24], buffer: &mut [u8], tag: &[u8]) -> bool {
        open(Salsa20::xsalsa20(&self.key, nonce), buffer, tag)
    }

    /// The boxes whose nonces start with `prefix`.
    pub(crate) fn with_prefix(&self, prefix: &[u8; 16]) -> PrefixedBox {
        PrefixedBox {
            subkey: Zeroizing::new(hsalsa20(&self.key, prefix)),
        }
    }
}

/// The secret boxes under one key whose nonces share their first 16 bytes, as
/// CurveZMQ's MESSAGE nonces do (a fixed prefix per direction, then a counter).
/// XSalsa20 derives its subkey from the key and those 16 bytes only, so it is
/// derived once here instead of for every message: a third of the cipher's work on a
/// 64-byte message.
pub(crate) struct PrefixedBox {
    subkey: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for PrefixedBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrefixedBox(<redacted>)")
    }
}

impl PrefixedBox {
    /// As [`SecretBox::seal`] with the nonce's last 8 bytes.
    pub(crate) fn seal(&self, tail: &[u8; 8], buffer: &mut [u8]) -> [u8; 16] {
        seal(Salsa20::new(&self.subkey, tail), buffer)
    }

    /// As [`SecretBox::open`] with the nonce's last 8 bytes.
    pub(crate) fn open(&self, tail: &[u8; 8], buffer: &mut [u8], tag: &[u8]) -> bool {
        open(Salsa20::new(&self.subkey, tail), buffer, tag)
    }
}

/// Takes the one-time Poly1305 key from the first 32 bytes of `cipher`.
fn mac_key(cipher: &mut Salsa20) -> Zeroizing<[u8; 32]> {
    let mut mac_key = Zeroizing::new([0u8; 32]);
    cipher.apply_keystream(&mut mac_key[..]);
    mac_key
}

/// Encrypts `buffer` in place with a fresh keystream; returns its tag.
fn seal(mut cipher: Salsa20, buffer: &mut [u8]) -> [u8; 16] {
    let mac_key = mac_key(&mut cipher);
    cipher.apply_keystream(buffer);
    poly1305::tag(&mac_key, buffer)
}

/// Checks `tag` and decrypts `buffer` in place with a fresh keystream; on a wrong tag
/// `buffer` is left as it was and `false` is returned.
fn open(mut cipher: Salsa20, buffer: &mut [u8], tag: &[u8]) -> bool {
    let mac_key = mac_key(&mut cipher);
    if !bool::from(poly1305::tag(&mac_key, buffer).ct_eq(tag)) {
        return false;
    }
    cipher.apply_keystream(buffer);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crypto_secretbox::XSalsa20Poly1305;
    use crypto_secretbox::aead::AeadInPlace;
    use crypto_secretbox::aead::KeyInit;

    #[test]
    fn matches_crypto_secretbox_at_every_size() {
        matches_crypto_secretbox();
    }

    /// What a CPU without AVX2 runs: SSE2 keystream, scalar Poly1305.
    #[test]
    fn matches_crypto_secretbox_without_the_wide_kernels() {
        super::super::simd::without_wide_kernels(matches_crypto_secretbox);
    }

    fn matches_crypto_secretbox() {
        let key = [0x42u8; 32];
        let reference = XSalsa20Poly1305::new((&key).into());
        let ours = SecretBox::new(key);
        let sizes = (0..300).chain([511, 512, 513, 1023, 1024, 4095, 4096, 4097, 65_536, 70_001]);
        for (i, size) in sizes.enumerate() {
            let nonce = [i as u8; 24];
            let plain: Vec<u8> = (0..size).map(|b| (b * 7 + i) as u8).collect();
            let mut expected = plain.clone();
            let expected_tag = reference
                .encrypt_in_place_detached((&nonce).into(), b"", &mut expected)
                .unwrap();
            let mut got = plain.clone();
            let tag = ours.seal(&nonce, &mut got);
            assert_eq!(got, expected, "ciphertext, {size} bytes");
            assert_eq!(tag[..], expected_tag[..], "tag, {size} bytes");
            assert!(ours.open(&nonce, &mut got, &tag));
            assert_eq!(got, plain);
        }
    }

    #[test]
    fn a_prefixed_box_is_the_box_of_the_whole_nonce() {
        let whole = SecretBox::new([5; 32]);
        let prefixed = whole.with_prefix(b"CurveZMQMESSAGEC");
        for (counter, size) in [(1u64, 0), (2, 1), (3, 64), (u64::MAX, 5000)] {
            let nonce = super::super::short_nonce(b"CurveZMQMESSAGEC", counter);
            let tail = counter.to_be_bytes();
            let plain = vec![counter as u8; size];
            let mut expected = plain.clone();
            let expected_tag = whole.seal(&nonce, &mut expected);
            let mut got = plain.clone();
            assert_eq!(prefixed.seal(&tail, &mut got), expected_tag);
            assert_eq!(got, expected);
            assert!(prefixed.open(&tail, &mut got, &expected_tag));
            assert_eq!(got, plain);
        }
    }

    #[test]
    fn a_wrong_tag_or_byte_is_refused_and_leaves_the_buffer() {
        let ours = SecretBox::new([1; 32]);
        for size in [10, 5000] {
            let mut buffer = vec![9u8; size];
            let tag = ours.seal(&[2; 24], &mut buffer);
            let sealed = buffer.clone();
            let mut bad_tag = tag;
            bad_tag[0] ^= 1;
            assert!(!ours.open(&[2; 24], &mut buffer, &bad_tag));
            assert_eq!(buffer, sealed);
            buffer[size / 2] ^= 1;
            assert!(!ours.open(&[2; 24], &mut buffer, &tag));
        }
    }
}
