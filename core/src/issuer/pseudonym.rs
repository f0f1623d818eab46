//! Pairwise pseudonymous subjects: one `sub` per (verifier, person), unlinkable across
//! verifiers.

use crate::crypto::keys::os_random;
use crate::crypto::mac::prefixed_mac;
use crate::error::{Error, ErrorCode, Result};
use crate::jose::token::encode_segment;
use std::fmt;
use zeroize::Zeroizing;

/// The length of a pseudonym key, in bytes.
pub const PSEUDONYM_KEY_LEN: usize = 32;

/// The issuer's secret for pairwise subjects:
///
/// `sub = base64url(HMAC-SHA-256(key, be64(len(aud)) || aud || be64(len(id)) || id))`
///
/// (43 characters, no padding; `be64` is the byte length as a big-endian 64-bit integer, so
/// no two (audience, id) pairs give the same input). The same person gets the same `sub` at
/// the same verifier for as long as the key is kept, and subjects at two verifiers cannot be
/// linked without the key. Zeroized on drop; `Debug` never shows it.
#[derive(Clone)]
pub struct PseudonymKey(Zeroizing<[u8; PSEUDONYM_KEY_LEN]>);

impl PseudonymKey {
    /// A fresh key from the OS random source. Error: `random_source`.
    pub fn generate() -> Result<PseudonymKey> {
        let mut key = Zeroizing::new([0u8; PSEUDONYM_KEY_LEN]);
        os_random(key.as_mut())?;
        Ok(PseudonymKey(key))
    }

    /// A key from its 32 bytes (to keep subjects stable across restarts).
    /// Error: `invalid_key` when `bytes` is not 32 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Result<PseudonymKey> {
        let bytes: &[u8; PSEUDONYM_KEY_LEN] = bytes.try_into().map_err(|_| {
            Error::new(
                ErrorCode::InvalidKey,
                format!("a pseudonym key is {PSEUDONYM_KEY_LEN} bytes"),
            )
        })?;
        Ok(PseudonymKey(Zeroizing::new(*bytes)))
    }

    /// The key's bytes, to store it; zeroized on drop.
    pub fn to_bytes(&self) -> Zeroizing<[u8; PSEUDONYM_KEY_LEN]> {
        self.0.clone()
    }

    /// The subject of beneficiary `beneficiary_id` at verifier `audience`.
    pub fn subject(&self, audience: &str, beneficiary_id: &str) -> String {
        encode_segment(&prefixed_mac(
            self.0.as_ref(),
            &[audience.as_bytes(), beneficiary_id.as_bytes()],
        ))
    }
}

impl fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PseudonymKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_per_pair_and_distinct_across_verifiers() {
        let key = PseudonymKey::from_bytes(&[7u8; 32]).unwrap();
        let a = key.subject("irctc.example", "B000001");
        assert_eq!(a, key.subject("irctc.example", "B000001"));
        assert_eq!(a.len(), 43);
        assert_ne!(a, key.subject("airline.example", "B000001"));
        assert_ne!(a, key.subject("irctc.example", "B000002"));
        // Length prefixes keep the boundary: ("ab", "c") and ("a", "bc") differ.
        assert_ne!(key.subject("ab", "c"), key.subject("a", "bc"));
        let other = PseudonymKey::from_bytes(&[8u8; 32]).unwrap();
        assert_ne!(a, other.subject("irctc.example", "B000001"));
        assert_eq!(
            PseudonymKey::from_bytes(&[0u8; 31]).unwrap_err().code(),
            ErrorCode::InvalidKey
        );
        assert!(!format!("{key:?}").contains('7'));
    }

    #[test]
    fn known_answer() {
        // Computed independently with Python's hmac module:
        // hmac.new(b"\x0b" * 32, pack(">Q", 13) + b"irctc.example" + pack(">Q", 7)
        //          + b"B000001", sha256), base64url without padding.
        let key = PseudonymKey::from_bytes(&[0x0b; 32]).unwrap();
        assert_eq!(
            key.subject("irctc.example", "B000001"),
            "hN2ZA5kfso4Xz6BokMmqpUkevN5CeL3YbFJ3DCHa2kQ"
        );
        assert_eq!(key.to_bytes().as_ref(), &[0x0b; 32]);
    }
}
