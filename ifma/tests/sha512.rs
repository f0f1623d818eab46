//! kycvs-ifma's eight-lane SHA-512 against the sha2 crate: every length across the padding
//! boundaries, messages of different lengths side by side, and messages given in parts.

use sha2::{Digest, Sha512};

fn message(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[test]
fn every_length_up_to_five_blocks_hashes_as_sha2() {
    let messages: Vec<Vec<u8>> = (0..=640).map(|len| message(len, len as u8)).collect();
    // Lanes of a group hold lengths far apart (0 next to 80 next to 160 …), so that lanes
    // run out of blocks at different times.
    let mut order: Vec<usize> = (0..messages.len()).collect();
    order.sort_by_key(|&i| (i % 80, i));
    let inputs: Vec<[&[u8]; 1]> = order.iter().map(|&i| [messages[i].as_slice()]).collect();
    let Some(digests) = kycvs_ifma::sha512_many(&inputs) else {
        eprintln!("no AVX-512F on this CPU: nothing to compare");
        return;
    };
    assert_eq!(digests.len(), inputs.len());
    for (&i, digest) in order.iter().zip(&digests) {
        assert_eq!(digest[..], Sha512::digest(&messages[i])[..], "length {i}");
    }
}

#[test]
fn parts_hash_as_their_concatenation() {
    let (r, a) = (message(32, 1), message(32, 2));
    let bodies: Vec<Vec<u8>> = (0..37).map(|i| message(200 + 7 * i, i as u8)).collect();
    let inputs: Vec<[&[u8]; 3]> = bodies.iter().map(|m| [&r[..], &a[..], &m[..]]).collect();
    let Some(digests) = kycvs_ifma::sha512_many(&inputs) else {
        return;
    };
    for (m, digest) in bodies.iter().zip(&digests) {
        let mut hash = Sha512::new();
        hash.update(&r);
        hash.update(&a);
        hash.update(m);
        assert_eq!(digest[..], hash.finalize()[..]);
    }
    assert_eq!(kycvs_ifma::sha512_many::<3>(&[]), Some(vec![]));
}
