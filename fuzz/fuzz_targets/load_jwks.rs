//! Arbitrary bytes as a JWKS: never a panic; a store that loads writes a JWKS that loads back
//! to the same keys and issuers.

#![no_main]

use kycvs_core::TrustStore;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(store) = TrustStore::from_jwks(data) {
        let again = TrustStore::from_jwks(store.to_jwks().as_bytes()).expect("to_jwks loads back");
        let keys = |s: &TrustStore| -> Vec<(String, String)> {
            s.iter()
                .map(|k| (k.key().kid().to_owned(), k.issuer().to_owned()))
                .collect()
        };
        assert_eq!(keys(&store), keys(&again));
    }
});
