//! Ed25519 verification with one set of semantics for single and batch checks.
//!
//! A signature `(R, S)` on message `M` under key `A` is accepted when:
//! 1. `S` is canonical (`S < ℓ`);
//! 2. `R` decodes to a curve point, its encoding is canonical (re-encoding the point gives
//!    the same 32 bytes, which also rules out `x = 0` with the sign bit set), and `R` is not
//!    of small order;
//! 3. `A` was validated when the key was loaded ([`crate::PublicKey::from_bytes`]: canonical,
//!    not of small order, in the prime-order subgroup);
//! 4. the cofactored equation `[8]([S]B − [k]A − R) = 0` holds, `k = SHA-512(R ‖ A ‖ M) mod ℓ`.
//!
//! The batch check tests `[8](Σ zᵢRᵢ + Σⱼ [Σ_{i: Aᵢ=Aⱼ} zᵢkᵢ]Aⱼ − [Σ zᵢSᵢ]B) = 0` with random
//! 128-bit `zᵢ`, one term per distinct key. (The signs are arranged so that each `Rᵢ` keeps
//! its short 128-bit coefficient: `−zᵢ mod ℓ` would be a full 253-bit scalar and double the
//! cost of the multi-scalar multiplication for the `Rᵢ`, which dominate it.) Because both are cofactored, a batch of signatures
//! that each pass alone always passes, and a batch holding one that fails alone fails except
//! with probability about 2⁻¹²⁸; a failed batch is re-checked one signature at a time, so
//! every verdict is the single-signature verdict. (ed25519-dalek's `verify_strict` is
//! cofactorless and its `verify_batch` is cofactored: they disagree on points with a torsion
//! component, which is why kycvs uses this module for both.)

use crate::crypto::keys::PublicKey;
use crate::error::{Error, ErrorCode, Result};
use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use sha2::{Digest, Sha512};
use std::collections::HashMap;
use std::sync::LazyLock;

/// A signature whose encodings passed every check, with its challenge `k` computed: all
/// that is left is the group equation.
pub(crate) struct PreparedSignature {
    /// `R` as sent: canonical and not of small order, but not yet decoded (the batch
    /// decodes every `R` together, eight at a time where the CPU allows).
    r: CompressedEdwardsY,
    s: Scalar,
    k: Scalar,
}

pub(crate) fn bad_signature() -> Error {
    // Coarse on purpose: which step failed tells an attacker nothing useful to a caller.
    Error::new(ErrorCode::BadSignature, "signature does not verify")
}

/// A signature whose encodings passed every check (`S < ℓ`, `R` canonical and not of small
/// order), its challenge not yet computed: a batch hashes all of them together. Only
/// [`Encodings::with_challenges`] and [`prepare`] turn it into a [`PreparedSignature`], each
/// with the challenge of its own key and message.
pub(crate) struct Encodings {
    r: CompressedEdwardsY,
    s: Scalar,
}

/// Checks the encodings of `signature`. Error: `bad_signature`.
pub(crate) fn check_encodings(signature: &[u8; 64]) -> Result<Encodings> {
    let (r_bytes, s_bytes) = signature.split_at(32);
    let r_bytes: [u8; 32] = r_bytes.try_into().map_err(|_| bad_signature())?;
    let s_bytes: [u8; 32] = s_bytes.try_into().map_err(|_| bad_signature())?;
    let s =
        Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes)).ok_or_else(bad_signature)?;
    // The canonicity test is on the bytes: re-encoding the point would cost a field
    // inversion, about a tenth of the whole check.
    if !is_canonical_encoding(&r_bytes) || is_small_order_encoding(&r_bytes) {
        return Err(bad_signature());
    }
    // Whether R decodes at all is part of the group equation's verdict: equation_holds and
    // equations_hold both fail a signature whose R is not a curve point.
    Ok(Encodings {
        r: CompressedEdwardsY(r_bytes),
        s,
    })
}

/// The fewest challenges hashed eight at a time (kycvs-ifma, AVX-512F) rather than one by
/// one.
const MIN_VECTOR_HASHES: usize = 8;

impl Encodings {
    /// Each item's signature prepared with its challenge `k = SHA-512(R ‖ A ‖ M) mod ℓ`,
    /// in order; the hashes run eight at a time where the CPU has AVX-512F.
    pub(crate) fn with_challenges(
        items: Vec<(Encodings, &PublicKey, &[u8])>,
    ) -> Vec<PreparedSignature> {
        let inputs: Vec<[&[u8]; 3]> = items
            .iter()
            .map(|(e, key, message)| [e.r.as_bytes().as_slice(), key.as_bytes(), message])
            .collect();
        let digests = if inputs.len() >= MIN_VECTOR_HASHES {
            kycvs_ifma::sha512_many(&inputs)
        } else {
            None
        };
        let digests = digests.unwrap_or_else(|| inputs.iter().map(challenge_digest).collect());
        items
            .into_iter()
            .zip(digests)
            .map(|((e, _, _), digest)| PreparedSignature {
                r: e.r,
                s: e.s,
                k: Scalar::from_bytes_mod_order_wide(&digest),
            })
            .collect()
    }
}

/// A signature to prepare: its checked encodings, the key and the message it must verify
/// under, and what rides along with it.
pub(crate) type Unprepared<'a, X> = (Encodings, &'a PublicKey, &'a [u8], X);

/// Prepares every `Ok` item with its challenge, all hashed together
/// ([`Encodings::with_challenges`]), keeping each `Err` in its place; `X` rides along.
pub(crate) fn prepare_all<X>(
    items: Vec<Result<Unprepared<'_, X>>>,
) -> Vec<Result<(PreparedSignature, X)>> {
    let mut passed = Vec::new();
    let mut extras = Vec::new();
    let slots: Vec<Option<Error>> = items
        .into_iter()
        .map(|item| match item {
            Ok((encodings, key, message, extra)) => {
                passed.push((encodings, key, message));
                extras.push(extra);
                None
            }
            Err(e) => Some(e),
        })
        .collect();
    let mut prepared = Encodings::with_challenges(passed).into_iter().zip(extras);
    slots
        .into_iter()
        .map(|slot| match slot {
            Some(e) => Err(e),
            // with_challenges gives one per item passed, so this never runs short; if it
            // did, the item would fail closed.
            None => prepared.next().ok_or_else(bad_signature),
        })
        .collect()
}

/// Checks the encodings of `signature` and computes its challenge for `key` and `message`.
pub(crate) fn prepare(
    key: &PublicKey,
    message: &[u8],
    signature: &[u8; 64],
) -> Result<PreparedSignature> {
    let encodings = check_encodings(signature)?;
    let digest = challenge_digest(&[encodings.r.as_bytes(), key.as_bytes(), message]);
    Ok(PreparedSignature {
        r: encodings.r,
        s: encodings.s,
        k: Scalar::from_bytes_mod_order_wide(&digest),
    })
}

/// `SHA-512(R ‖ A ‖ M)`, one message at a time (`sha2`).
fn challenge_digest(parts: &[&[u8]; 3]) -> [u8; 64] {
    let mut hash = Sha512::new();
    for part in parts {
        hash.update(part);
    }
    hash.finalize().into()
}

/// True when `bytes`, if it decodes at all, is the one encoding of its point: `y < p`
/// (p = 2²⁵⁵ − 19), and the sign bit is clear when `x = 0`, which happens exactly for
/// `y = 1` and `y = p − 1`. Equal to "decompress, then compress gives the same bytes".
fn is_canonical_encoding(bytes: &[u8; 32]) -> bool {
    const ONE: [u8; 32] = {
        let mut one = [0u8; 32];
        one[0] = 1;
        one
    };
    const P_MINUS_ONE: [u8; 32] = {
        let mut p = [0xffu8; 32];
        p[0] = 0xec;
        p[31] = 0x7f;
        p
    };
    let sign_bit = bytes[31] >> 7 == 1;
    let mut y = *bytes;
    y[31] &= 0x7f;
    // y >= p exactly when y is p + 0 ..= p + 18: bytes 1..31 all 0xff, the top one 0x7f.
    let y_out_of_range = y[0] >= 0xed && y[1..31].iter().all(|&b| b == 0xff) && y[31] == 0x7f;
    let x_is_zero = y == ONE || y == P_MINUS_ONE;
    let sign_on_zero_x = sign_bit && x_is_zero;
    !(y_out_of_range || sign_on_zero_x)
}

/// The canonical encodings of the eight points of small order (the 8-torsion subgroup).
static SMALL_ORDER_ENCODINGS: LazyLock<[[u8; 32]; 8]> =
    LazyLock::new(|| EIGHT_TORSION.map(|point| point.compress().to_bytes()));

/// True when the canonical encoding `bytes` is that of a point of small order. A canonical
/// encoding names exactly one point, so comparing 32 bytes against the eight encodings of
/// the 8-torsion subgroup replaces decoding the point and multiplying it by the cofactor
/// (three doublings and a projective comparison: about a tenth of a batch verification per
/// token). The test `small_order_by_encoding_equals_by_arithmetic` checks the equivalence.
fn is_small_order_encoding(bytes: &[u8; 32]) -> bool {
    SMALL_ORDER_ENCODINGS.contains(bytes)
}

/// The cofactored single-signature equation (false when `R` is not a curve point).
pub(crate) fn equation_holds(key: &PublicKey, sig: &PreparedSignature) -> bool {
    let Some(r) = sig.r.decompress() else {
        return false;
    };
    let sb_minus_ka =
        EdwardsPoint::vartime_double_scalar_mul_basepoint(&-sig.k, key.point(), &sig.s);
    (sb_minus_ka - r).mul_by_cofactor().is_identity()
}

/// The fewest signatures for which the batch equation runs on AVX-512 IFMA (kycvs-ifma)
/// where the CPU has it: its multi-scalar sum has a fixed cost of some 500 vector point
/// additions, which a few dozen eightfold decodings of `R` repay.
const MIN_VECTOR_BATCH: usize = 64;

/// For each item, the verdict of [`equation_holds`]: all of them from one batch equation
/// when it holds, else one by one. An `R` that is not a curve point fails alone and stays
/// out of the batch equation.
pub(crate) fn equations_hold(items: &[(&PublicKey, &PreparedSignature)]) -> Vec<bool> {
    let encodings: Vec<[u8; 32]> = items.iter().map(|(_, sig)| sig.r.to_bytes()).collect();
    let vector = if items.len() >= MIN_VECTOR_BATCH {
        kycvs_ifma::DecodedPoints::decode(&encodings)
    } else {
        None
    };
    let (decodes, all_hold): (Vec<bool>, bool) = match vector {
        Some(decoded) => {
            let decodes: Vec<bool> = (0..items.len()).map(|i| decoded.is_valid(i)).collect();
            (decodes, vector_batch_equation_holds(items, &decoded))
        }
        None => {
            let points: Vec<Option<EdwardsPoint>> = encodings
                .iter()
                .map(|bytes| CompressedEdwardsY(*bytes).decompress())
                .collect();
            let decoded: Vec<(&PublicKey, &PreparedSignature, EdwardsPoint)> = items
                .iter()
                .zip(&points)
                .filter_map(|((key, sig), r)| r.map(|r| (*key, *sig, r)))
                .collect();
            let decodes = points.iter().map(Option::is_some).collect();
            (decodes, batch_equation_holds(&decoded))
        }
    };
    items
        .iter()
        .zip(decodes)
        .map(|((key, sig), decodes)| decodes && (all_hold || equation_holds(key, sig)))
        .collect()
}

/// `len` random 128-bit coefficients as 16-byte strings, or `None` if the OS random source
/// failed (the batch then fails closed and every item is checked alone).
fn batch_randomness(len: usize) -> Option<Vec<u8>> {
    let mut randomness = vec![0u8; 16 * len];
    crate::crypto::keys::os_random(&mut randomness).ok()?;
    Some(randomness)
}

/// The terms of a batch equation other than the `R`s: `Σⱼ [Σ_{i: Aᵢ=Aⱼ} zᵢkᵢ]Aⱼ − [Σ zᵢSᵢ]B`,
/// one term per distinct key (most batches come from one issuer key), the sums kept as
/// integers and reduced mod ℓ once.
#[derive(Default)]
struct KeyAndBaseTerms<'a> {
    s_sum: WideSum,
    key_sums: HashMap<&'a [u8; 32], (WideSum, &'a EdwardsPoint)>,
}

impl<'a> KeyAndBaseTerms<'a> {
    /// Adds signature `sig` under `key` with coefficient `±magnitude` (`negative` for −).
    fn add(
        &mut self,
        key: &'a PublicKey,
        sig: &PreparedSignature,
        negative: bool,
        magnitude: u128,
    ) {
        self.s_sum.add(negative, magnitude, &sig.s);
        self.key_sums
            .entry(key.as_bytes())
            .or_insert_with(|| (WideSum::default(), key.point()))
            .0
            .add(negative, magnitude, &sig.k);
    }

    /// The terms as one point.
    fn point(self) -> EdwardsPoint {
        let (mut scalars, mut points): (Vec<Scalar>, Vec<EdwardsPoint>) = self
            .key_sums
            .into_values()
            .map(|(sum, point)| (sum.reduce(), *point))
            .unzip();
        scalars.push(-self.s_sum.reduce());
        points.push(ED25519_BASEPOINT_POINT);
        EdwardsPoint::vartime_multiscalar_mul(scalars, points)
    }
}

/// The cofactored batch equation over `items` with their decoded `R`s; `false` means at
/// least one item (almost surely) fails alone, or the random source failed. An empty batch
/// holds.
fn batch_equation_holds(items: &[(&PublicKey, &PreparedSignature, EdwardsPoint)]) -> bool {
    if items.is_empty() {
        return true;
    }
    let Some(randomness) = batch_randomness(items.len()) else {
        return false;
    };
    let mut terms = KeyAndBaseTerms::default();
    let mut scalars = Vec::with_capacity(items.len());
    let mut points = Vec::with_capacity(items.len());
    for ((key, sig, r), z) in items.iter().zip(randomness.chunks_exact(16)) {
        let mut z_bytes = [0u8; 16];
        z_bytes.copy_from_slice(z);
        let z = u128::from_le_bytes(z_bytes);
        terms.add(key, sig, false, z);
        let mut wide = [0u8; 32];
        wide[..16].copy_from_slice(&z_bytes);
        scalars.push(Scalar::from_bytes_mod_order(wide));
        points.push(*r);
    }
    (EdwardsPoint::vartime_multiscalar_mul(scalars, points) + terms.point())
        .mul_by_cofactor()
        .is_identity()
}

/// The same equation with the `R`s decoded and summed by kycvs-ifma: `Σ zᵢRᵢ` with signed
/// 128-bit `zᵢ` (uniform over 2¹²⁸ values, as above) comes back as one encoding, to which
/// the keys' and the base point's terms are added. Items whose `R` did not decode are left
/// out of both sums.
fn vector_batch_equation_holds(
    items: &[(&PublicKey, &PreparedSignature)],
    decoded: &kycvs_ifma::DecodedPoints,
) -> bool {
    let Some(randomness) = batch_randomness(items.len()) else {
        return false;
    };
    let mut terms = KeyAndBaseTerms::default();
    let mut coefficients = Vec::with_capacity(items.len());
    for (i, ((key, sig), z)) in items.iter().zip(randomness.chunks_exact(16)).enumerate() {
        let mut z_bytes = [0u8; 16];
        z_bytes.copy_from_slice(z);
        let z = i128::from_le_bytes(z_bytes);
        coefficients.push(z);
        if decoded.is_valid(i) {
            terms.add(key, sig, z < 0, z.unsigned_abs());
        }
    }
    let Some(r_sum) = decoded
        .weighted_sum(&coefficients)
        .and_then(|bytes| CompressedEdwardsY(bytes).decompress())
    else {
        return false;
    };
    (r_sum + terms.point()).mul_by_cofactor().is_identity()
}

/// `Σ ±zᵢ·xᵢ` over 128-bit `zᵢ` and scalars `xᵢ`, kept as two unreduced integers (the
/// terms added and those subtracted) and reduced mod ℓ once: a 128 × 256-bit schoolbook
/// product per term instead of a Montgomery multiplication mod ℓ.
#[derive(Default)]
struct WideSum {
    positive: [u64; 8],
    negative: [u64; 8],
}

impl WideSum {
    /// Adds `magnitude · x`, or subtracts it when `negative`. Each product is below 2³⁸⁴;
    /// the 512-bit sums hold 2¹²⁸ of them.
    fn add(&mut self, negative: bool, magnitude: u128, x: &Scalar) {
        let x: [u64; 4] = core::array::from_fn(|j| {
            let mut limb = [0u8; 8];
            limb.copy_from_slice(&x.as_bytes()[8 * j..8 * j + 8]);
            u64::from_le_bytes(limb)
        });
        let sum = if negative {
            &mut self.negative
        } else {
            &mut self.positive
        };
        for (i, z_limb) in [magnitude as u64, (magnitude >> 64) as u64]
            .into_iter()
            .enumerate()
        {
            let mut carry = 0u128;
            for (j, x_limb) in x.iter().enumerate() {
                let t = u128::from(z_limb) * u128::from(*x_limb) + u128::from(sum[i + j]) + carry;
                sum[i + j] = t as u64;
                carry = t >> 64;
            }
            for limb in &mut sum[i + 4..] {
                let t = u128::from(*limb) + carry;
                *limb = t as u64;
                carry = t >> 64;
            }
        }
    }

    /// The sum mod ℓ.
    fn reduce(&self) -> Scalar {
        let wide = |limbs: &[u64; 8]| {
            let mut bytes = [0u8; 64];
            for (chunk, limb) in bytes.chunks_exact_mut(8).zip(limbs) {
                chunk.copy_from_slice(&limb.to_le_bytes());
            }
            Scalar::from_bytes_mod_order_wide(&bytes)
        };
        wide(&self.positive) - wide(&self.negative)
    }
}

/// Verifies one Ed25519 signature with the semantics above. Error: `bad_signature`.
pub fn verify_signature(key: &PublicKey, message: &[u8], signature: &[u8; 64]) -> Result<()> {
    let prepared = prepare(key, message, signature)?;
    if equation_holds(key, &prepared) {
        Ok(())
    } else {
        Err(bad_signature())
    }
}

/// Verifies many signatures, giving for each exactly the verdict of [`verify_signature`].
pub fn verify_signatures(items: &[(&PublicKey, &[u8], &[u8; 64])]) -> Vec<Result<()>> {
    let prepared: Vec<Result<PreparedSignature>> = prepare_all(
        items
            .iter()
            .map(|(key, message, signature)| {
                check_encodings(signature).map(|e| (e, *key, *message, ()))
            })
            .collect(),
    )
    .into_iter()
    .map(|p| p.map(|(p, ())| p))
    .collect();
    let candidates: Vec<(&PublicKey, &PreparedSignature)> = items
        .iter()
        .zip(&prepared)
        .filter_map(|((key, _, _), p)| p.as_ref().ok().map(|p| (*key, p)))
        .collect();
    let mut holds = equations_hold(&candidates).into_iter();
    prepared
        .into_iter()
        .map(|p| match p {
            Err(e) => Err(e),
            Ok(_) if holds.next() == Some(true) => Ok(()),
            Ok(_) => Err(bad_signature()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips(bytes: &[u8; 32]) -> Option<bool> {
        CompressedEdwardsY(*bytes)
            .decompress()
            .map(|p| p.compress().to_bytes() == *bytes)
    }

    #[test]
    fn canonical_test_equals_the_re_encoding_round_trip() {
        let mut cases: Vec<[u8; 32]> = Vec::new();
        // Every y from p - 3 to 2^255 - 1 and from 0 to 3, with and without the sign bit.
        for low in 0u8..=3 {
            let mut small = [0u8; 32];
            small[0] = low;
            cases.push(small);
        }
        for low in 0xea..=0xff {
            let mut big = [0xffu8; 32];
            big[0] = low;
            big[31] = 0x7f;
            cases.push(big);
        }
        // And points that are certainly on the curve: multiples of the base point.
        let mut point = ED25519_BASEPOINT_POINT;
        for _ in 0..64 {
            cases.push(point.compress().to_bytes());
            point += ED25519_BASEPOINT_POINT;
        }
        let signed: Vec<[u8; 32]> = cases
            .iter()
            .map(|c| {
                let mut s = *c;
                s[31] ^= 0x80;
                s
            })
            .collect();
        cases.extend(signed);
        let mut decoded = 0;
        for bytes in &cases {
            if let Some(expected) = round_trips(bytes) {
                decoded += 1;
                assert_eq!(is_canonical_encoding(bytes), expected, "{bytes:02x?}");
            }
        }
        assert!(decoded > 128, "only {decoded} cases decoded");
    }

    #[test]
    fn wide_sums_equal_scalar_arithmetic() {
        let mut sum = WideSum::default();
        let mut expected = Scalar::ZERO;
        for seed in 0u32..2000 {
            let digest = Sha512::digest(seed.to_le_bytes());
            let x = Scalar::from_bytes_mod_order(digest[..32].try_into().unwrap());
            let z = match seed % 5 {
                0 => i128::MIN,
                1 => i128::MAX,
                _ => i128::from_le_bytes(digest[32..48].try_into().unwrap()),
            };
            let mut magnitude = [0u8; 32];
            magnitude[..16].copy_from_slice(&z.unsigned_abs().to_le_bytes());
            let magnitude = Scalar::from_bytes_mod_order(magnitude);
            expected += if z < 0 { -magnitude } else { magnitude } * x;
            sum.add(z < 0, z.unsigned_abs(), &x);
        }
        assert_eq!(sum.reduce(), expected);
    }

    #[test]
    fn small_order_by_encoding_equals_by_arithmetic() {
        // Every canonical encoding of a small-order point is in the table, and the table
        // holds eight distinct ones: the whole 8-torsion subgroup.
        let mut table = SMALL_ORDER_ENCODINGS.to_vec();
        table.sort();
        table.dedup();
        assert_eq!(table.len(), 8);
        for bytes in &table {
            let point = CompressedEdwardsY(*bytes).decompress().unwrap();
            assert!(point.is_small_order() && is_canonical_encoding(bytes));
        }
        // Points that are not of small order: prime-order multiples of the base point, and
        // the same plus each torsion point (mixed order), none in the table.
        let mut point = ED25519_BASEPOINT_POINT;
        for i in 0..256 {
            let mixed = point + EIGHT_TORSION[i % 8];
            for p in [point, mixed] {
                let bytes = p.compress().to_bytes();
                assert!(!p.is_small_order());
                assert!(!is_small_order_encoding(&bytes), "{bytes:02x?}");
            }
            point += ED25519_BASEPOINT_POINT;
        }
        // Random 32-byte strings that decode canonically: both tests agree on every one.
        let mut agreed = 0;
        for seed in 0u32..4096 {
            let mut bytes = [0u8; 32];
            let digest = Sha512::digest(seed.to_le_bytes());
            bytes.copy_from_slice(&digest[..32]);
            if let Some(p) = CompressedEdwardsY(bytes).decompress()
                && is_canonical_encoding(&bytes)
            {
                agreed += 1;
                assert_eq!(is_small_order_encoding(&bytes), p.is_small_order());
            }
        }
        assert!(agreed > 1000, "only {agreed} random encodings decoded");
    }
}
