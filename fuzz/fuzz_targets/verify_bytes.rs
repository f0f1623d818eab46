//! Arbitrary bytes as a token: never a panic; an `Ok` is consistent with the policy; the
//! bytes and the text entry points agree.

#![no_main]

use kycvs_fuzz::{NONCE, NOW, assert_consistent, verifier, verify_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let verifier = verifier();
    for nonce in [Some(NONCE), None] {
        let verdict = verify_bytes(data, nonce, NOW);
        if let Ok(v) = &verdict {
            assert_consistent(v, nonce, NOW);
        }
        if let Ok(text) = std::str::from_utf8(data) {
            let single = match nonce {
                Some(nonce) => verifier.verify(text, nonce, NOW),
                None => verifier.verify_without_nonce(text, NOW),
            };
            match (&verdict, &single) {
                (Ok(a), Ok(b)) => assert_eq!(a, b),
                (Err(a), Err(b)) => assert_eq!(a.code(), b.code()),
                _ => panic!("verify_bytes and verify disagree: {verdict:?} vs {single:?}"),
            }
        }
    }
    // Decoding for display must not panic either.
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = kycvs_core::inspect_unverified(text);
    }
});
