//! kycvs-ifma's eight-lane SHA-512 against the sha2 crate on arbitrary messages of arbitrary
//! lengths side by side, each in three parts as a batch hashes R ‖ A ‖ M. Does nothing on a
//! CPU without AVX-512F.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha512};

fuzz_target!(|messages: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)>| {
    let inputs: Vec<[&[u8]; 3]> = messages
        .iter()
        .take(24)
        .map(|(a, b, c)| [a.as_slice(), b.as_slice(), c.as_slice()])
        .collect();
    let Some(digests) = kycvs_ifma::sha512_many(&inputs) else {
        return;
    };
    assert_eq!(digests.len(), inputs.len());
    for (parts, digest) in inputs.iter().zip(&digests) {
        let mut hash = Sha512::new();
        for part in parts {
            hash.update(part);
        }
        assert_eq!(digest[..], hash.finalize()[..]);
    }
});
