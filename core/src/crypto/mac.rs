//! Keyed MACs over several inputs, for the issuer's OTP binding, rate keys and pairwise
//! pseudonyms.

use hmac::{KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = hmac::Hmac<Sha256>;

/// HMAC-SHA-256 under `key` of `parts`, each preceded by its length as a big-endian `u64`, so
/// that no two different lists of parts give the same input.
pub(crate) fn prefixed_mac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac =
        <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC takes a key of any length");
    for part in parts {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_separate_the_parts() {
        let key = [7u8; 32];
        assert_ne!(
            prefixed_mac(&key, &[b"ab", b"c"]),
            prefixed_mac(&key, &[b"a", b"bc"])
        );
        assert_ne!(
            prefixed_mac(&key, &[b"abc"]),
            prefixed_mac(&[8u8; 32], &[b"abc"])
        );
    }

    #[test]
    fn is_hmac_sha256_of_the_prefixed_input() {
        // RFC 4231 test case 2's key and a known input, framed by hand.
        let mut framed = Vec::new();
        framed.extend_from_slice(&4u64.to_be_bytes());
        framed.extend_from_slice(b"what");
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(b"Jefe").unwrap();
        mac.update(&framed);
        let want: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(prefixed_mac(b"Jefe", &[b"what"]), want);
    }
}
