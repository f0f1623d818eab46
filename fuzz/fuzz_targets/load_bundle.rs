//! Trust bundles: arbitrary bytes loaded as a bundle, and arbitrary payloads signed by the
//! pinned root (so that the fuzzer gets past the signature into the payload and key checks).
//! Never a panic; a bundle that loads satisfies every documented property.
//!
//! Input layout (so that seeds are easy to write by hand): byte 0 holds flags (bit 0: sign
//! the rest as a payload with the root key; bits 1-2: the clock; bits 3-4: `min_sequence`),
//! the rest is the bundle (or the payload to sign). A second target call loads the same bytes
//! as a root JWK.

#![no_main]

use kycvs_core::hazmat::sign_raw;
use kycvs_core::{BUNDLE_TYPE, BundleLoad, MAX_TIME, MAX_TRUSTED_KEYS, SigningKey, TrustBundle};
use kycvs_fuzz::NOW;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// The bundle vectors' root key (`testvectors/generator/src/bundles.rs`, seed 0x52…).
fn root() -> &'static SigningKey {
    static ROOT: OnceLock<SigningKey> = OnceLock::new();
    ROOT.get_or_init(|| SigningKey::from_seed(&[0x52; 32]))
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let now = [NOW, 0, NOW + 86_400, MAX_TIME][usize::from(flags >> 1 & 3)];
    let min_sequence = [0, 5, 6, MAX_TIME][usize::from(flags >> 3 & 3)];
    let bundle = if flags & 1 == 1 {
        let header = format!(
            r#"{{"alg":"Ed25519","typ":"{BUNDLE_TYPE}","kid":"{}"}}"#,
            root().kid()
        );
        sign_raw(root(), header.as_bytes(), rest).into_bytes()
    } else {
        rest.to_vec()
    };
    let how = BundleLoad {
        root: root().public_key(),
        min_sequence,
        now,
    };
    if let Ok(loaded) = TrustBundle::load(&bundle, &how) {
        assert!(loaded.sequence() >= min_sequence.max(1) && loaded.sequence() <= MAX_TIME);
        assert!(loaded.issued_at() < loaded.expires_at() && loaded.expires_at() <= MAX_TIME);
        assert!(now < loaded.expires_at(), "a stale bundle loaded");
        let store = loaded.trust_store();
        assert!(store.len() <= MAX_TRUSTED_KEYS);
        for key in store.iter() {
            let window = key.window().expect("every bundle key has a window");
            assert!(window.nbf() < window.exp());
            assert_eq!(
                store.get(key.key().kid()).map(|k| k.issuer()),
                Some(key.issuer())
            );
        }
    }
    if let Ok(key) = TrustBundle::root_key_from_jwk(rest) {
        // A root JWK that loads is written back as one that loads to the same key.
        let again = TrustBundle::root_key_from_jwk(TrustBundle::root_jwk(&key).as_bytes())
            .expect("root_jwk loads back");
        assert_eq!(again.as_bytes(), key.as_bytes());
    }
});
