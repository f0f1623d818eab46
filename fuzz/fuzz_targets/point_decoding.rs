//! kycvs-ifma against curve25519-dalek on arbitrary input: every encoding decodes (or not)
//! exactly as `CompressedEdwardsY::decompress` decides, to the same point, and the weighted
//! sum of the decoded points with arbitrary signed 128-bit coefficients equals dalek's
//! multi-scalar multiplication. Does nothing on a CPU without AVX-512 IFMA.

#![no_main]

use arbitrary::Arbitrary;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{Identity, VartimeMultiscalarMul};
use kycvs_ifma::DecodedPoints;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    /// Encodings, each either arbitrary bytes or a multiple of the base point (so that
    /// about as many decode as not), with its coefficient.
    terms: Vec<(Encoding, i128)>,
}

#[derive(Arbitrary, Debug)]
enum Encoding {
    Bytes([u8; 32]),
    /// `k · B` with bit 255 flipped when the bool is set (then the other root, or no point).
    Multiple(u64, bool),
}

fuzz_target!(|input: Input| {
    let encodings: Vec<[u8; 32]> = input
        .terms
        .iter()
        .take(40)
        .map(|(e, _)| match e {
            Encoding::Bytes(b) => *b,
            Encoding::Multiple(k, flip) => {
                let mut b = EdwardsPoint::mul_base(&Scalar::from(*k)).compress().to_bytes();
                b[31] ^= u8::from(*flip) << 7;
                b
            }
        })
        .collect();
    let coefficients: Vec<i128> = input.terms.iter().take(40).map(|(_, c)| *c).collect();
    let Some(decoded) = DecodedPoints::decode(&encodings) else {
        return;
    };
    let mut scalars = Vec::new();
    let mut points = Vec::new();
    for (i, (bytes, c)) in encodings.iter().zip(&coefficients).enumerate() {
        let theirs = CompressedEdwardsY(*bytes).decompress();
        assert_eq!(decoded.is_valid(i), theirs.is_some());
        assert_eq!(decoded.encoding(i), theirs.map(|p| p.compress().to_bytes()));
        if let Some(p) = theirs {
            // c·P as an integer multiple: |c|·(−P) for negative c.
            let mut magnitude = [0u8; 32];
            magnitude[..16].copy_from_slice(&c.unsigned_abs().to_le_bytes());
            scalars.push(Scalar::from_bytes_mod_order(magnitude));
            points.push(if *c < 0 { -p } else { p });
        }
    }
    let theirs = if points.is_empty() {
        EdwardsPoint::identity()
    } else {
        EdwardsPoint::vartime_multiscalar_mul(&scalars, &points)
    };
    assert_eq!(
        decoded.weighted_sum(&coefficients),
        Some(theirs.compress().to_bytes())
    );
});
