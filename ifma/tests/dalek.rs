//! Every result of kycvs-ifma against curve25519-dalek: decoding (random encodings by the
//! million, every boundary of y, every small-order point, both signs) and the weighted sum
//! (random points and coefficients, invalid points mixed in, every batch length around the
//! lane width).

use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{Identity, VartimeMultiscalarMul};
use kycvs_ifma::DecodedPoints;

/// xorshift64*: reproducible inputs without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn bytes(&mut self) -> [u8; 32] {
        let mut b = [0u8; 32];
        for chunk in b.chunks_exact_mut(8) {
            chunk.copy_from_slice(&self.next().to_le_bytes());
        }
        b
    }
    fn i128(&mut self) -> i128 {
        ((u128::from(self.next()) << 64) | u128::from(self.next())) as i128
    }
}

fn decode(encodings: &[[u8; 32]]) -> Option<DecodedPoints> {
    let decoded = DecodedPoints::decode(encodings);
    if decoded.is_none() {
        assert!(!kycvs_ifma::available());
        eprintln!("no AVX-512 IFMA on this CPU: nothing to compare");
    }
    decoded
}

/// Decodes `encodings` both ways and asserts the same verdict and the same point.
fn assert_decodes_as_dalek(encodings: &[[u8; 32]]) -> usize {
    let Some(ours) = decode(encodings) else {
        return 0;
    };
    assert_eq!(ours.len(), encodings.len());
    let mut valid = 0;
    for (i, bytes) in encodings.iter().enumerate() {
        let theirs = CompressedEdwardsY(*bytes).decompress();
        assert_eq!(ours.is_valid(i), theirs.is_some(), "{bytes:02x?}");
        assert_eq!(
            ours.encoding(i),
            theirs.map(|p| p.compress().to_bytes()),
            "{bytes:02x?}"
        );
        valid += usize::from(theirs.is_some());
    }
    valid
}

#[test]
fn a_million_random_encodings_decode_as_in_dalek() {
    let mut rng = Rng(0x6b79_6376_7331);
    let mut valid = 0;
    for _ in 0..1000 {
        let encodings: Vec<[u8; 32]> = (0..1000).map(|_| rng.bytes()).collect();
        valid += assert_decodes_as_dalek(&encodings);
    }
    // About half of all y are on the curve.
    assert!(
        !kycvs_ifma::available() || (450_000..550_000).contains(&valid),
        "{valid}"
    );
}

#[test]
fn every_boundary_of_y_decodes_as_in_dalek() {
    let mut encodings = Vec::new();
    for low in 0u8..=40 {
        let mut small = [0u8; 32];
        small[0] = low;
        encodings.push(small);
        // y from p − 21 to 2²⁵⁵ − 1: the last values below p and every non-canonical y.
        let mut big = [0xffu8; 32];
        big[0] = 0xd7 + low;
        big[31] = 0x7f;
        encodings.push(big);
    }
    // Limb boundaries: y = 2^k − 1, 2^k, 2^k + 1 for every k.
    for k in 0..255 {
        for delta in [-1i32, 0, 1] {
            let mut y = [0u8; 32];
            y[k / 8] = 1 << (k % 8);
            if delta == -1 {
                y = sub_one(y);
            } else if delta == 1 {
                y[0] ^= 1;
            }
            encodings.push(y);
        }
    }
    let signed: Vec<[u8; 32]> = encodings
        .iter()
        .map(|e| {
            let mut s = *e;
            s[31] |= 0x80;
            s
        })
        .collect();
    encodings.extend(signed);
    let valid = assert_decodes_as_dalek(&encodings);
    assert!(!kycvs_ifma::available() || valid > 100, "{valid}");
}

fn sub_one(mut y: [u8; 32]) -> [u8; 32] {
    for byte in &mut y {
        let (v, borrow) = byte.overflowing_sub(1);
        *byte = v;
        if !borrow {
            break;
        }
    }
    y
}

#[test]
fn small_order_points_and_their_non_canonical_encodings_decode_as_in_dalek() {
    let mut encodings = Vec::new();
    for point in EIGHT_TORSION {
        let canonical = point.compress().to_bytes();
        encodings.push(canonical);
        let mut signed = canonical;
        signed[31] ^= 0x80;
        encodings.push(signed);
        // y + p where that still fits in 255 bits (y < 19).
        let mut y = canonical;
        y[31] &= 0x7f;
        if y[1..].iter().all(|&b| b == 0) && y[0] < 19 {
            let mut plus_p = [0xffu8; 32];
            plus_p[0] = 0xed + y[0];
            plus_p[31] = 0x7f | (canonical[31] & 0x80);
            encodings.push(plus_p);
        }
    }
    // Multiples of the base point and their negatives, with mixed torsion.
    let mut point = ED25519_BASEPOINT_POINT;
    for i in 0..2000 {
        let p = point + EIGHT_TORSION[i % 8];
        encodings.push(p.compress().to_bytes());
        encodings.push((-p).compress().to_bytes());
        point += ED25519_BASEPOINT_POINT;
    }
    let valid = assert_decodes_as_dalek(&encodings);
    assert!(
        !kycvs_ifma::available() || valid == encodings.len(),
        "{valid}"
    );
}

/// Our weighted sum of `encodings` against dalek's multi-scalar multiplication.
fn assert_sum_as_dalek(encodings: &[[u8; 32]], coefficients: &[i128]) {
    let Some(ours) = decode(encodings) else {
        return;
    };
    let (scalars, points): (Vec<Scalar>, Vec<EdwardsPoint>) = encodings
        .iter()
        .zip(coefficients)
        .filter_map(|(e, z)| {
            let p = CompressedEdwardsY(*e).decompress()?;
            let mut b = [0u8; 32];
            b[..16].copy_from_slice(&z.unsigned_abs().to_le_bytes());
            // z·P as an integer multiple: |z|·(−P) for negative z, not (ℓ − |z|)·P, which
            // differs by a torsion point when P has a torsion component.
            let magnitude = Scalar::from_bytes_mod_order(b);
            Some((magnitude, if *z < 0 { -p } else { p }))
        })
        .unzip();
    let theirs = if points.is_empty() {
        EdwardsPoint::identity()
    } else {
        EdwardsPoint::vartime_multiscalar_mul(&scalars, &points)
    };
    assert_eq!(
        ours.weighted_sum(coefficients),
        Some(theirs.compress().to_bytes()),
        "{} points",
        encodings.len()
    );
}

#[test]
fn weighted_sums_equal_dalek_multiscalar_multiplication() {
    let mut rng = Rng(0x5375_6d73);
    for n in [0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 300, 1024] {
        for round in 0..3 {
            // Random curve points (a random scalar times B, plus torsion) and random
            // encodings, of which about half are not points and must be left out.
            let encodings: Vec<[u8; 32]> = (0..n)
                .map(|i| {
                    if (i + round) % 3 == 0 {
                        rng.bytes()
                    } else {
                        let s = Scalar::from_bytes_mod_order(rng.bytes());
                        (EdwardsPoint::mul_base(&s) + EIGHT_TORSION[i % 8])
                            .compress()
                            .to_bytes()
                    }
                })
                .collect();
            let coefficients: Vec<i128> = (0..n)
                .map(|i| match (i + round) % 9 {
                    0 => 0,
                    1 => 1,
                    2 => i128::MAX,
                    3 => i128::MIN,
                    4 => -1,
                    // Zero bytes in some windows, full bytes in others.
                    5 => rng.i128() & 0x00ff_00ff_00ff_00ff_00ff_00ff_00ff_00ff,
                    6 => i128::from(rng.next()),
                    _ => rng.i128(),
                })
                .collect();
            assert_sum_as_dalek(&encodings, &coefficients);
        }
    }
}

#[test]
fn one_point_times_each_power_of_two_equals_dalek() {
    let point = (ED25519_BASEPOINT_POINT + EIGHT_TORSION[3])
        .compress()
        .to_bytes();
    for k in 0..127 {
        for c in [1i128 << k, (1 << k) - 1, -(1 << k), 1 - (1 << k)] {
            assert_sum_as_dalek(&[point], &[c]);
        }
    }
    assert_sum_as_dalek(&[point], &[i128::MIN]);
}

#[test]
fn lengths_that_differ_give_no_sum() {
    let point = ED25519_BASEPOINT_POINT.compress().to_bytes();
    if let Some(decoded) = decode(&[point, point]) {
        assert_eq!(decoded.weighted_sum(&[1]), None);
        assert_eq!(decoded.weighted_sum(&[1, 2, 3]), None);
        assert!(decoded.weighted_sum(&[1, 2]).is_some());
        assert!(!decoded.is_valid(2));
        assert_eq!(decoded.encoding(2), None);
    }
}
