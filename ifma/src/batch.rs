//! Decoding eight encodings at a time, and the multi-scalar sum with one 8-bit window of the
//! 128-bit coefficients in each vector lane.

use crate::field::{
    F8, bytes_from_limbs, canonical, constants, invert, limbs_from_bytes, negate_canonical, pow_p58,
};
use crate::point::{Ext8, Niels8};
use core::arch::x86_64::*;

/// One decoded point as (y + x, y − x, 2d·x·y), limbs below 2⁵².
pub(crate) type NielsLimbs = [[u64; 5]; 3];

/// Sets of eight lanes that [`decode_sets`] decodes side by side: their square-root chains
/// are independent, so the CPU overlaps them.
pub(crate) const DECODE_SETS: usize = 8;

/// Decodes up to `8 · H` encodings (`H` sets of eight lanes, whose square-root chains run
/// side by side) the way curve25519-dalek's `CompressedEdwardsY::decompress` does: y from
/// the low 255 bits, x = √((y² − 1)/(d·y² + 1)) with the sign of bit 255; `None` where the
/// ratio has no square root.
#[target_feature(enable = "avx512f,avx512ifma")]
pub(crate) fn decode_sets<const H: usize>(encodings: &[[u8; 32]]) -> Vec<Option<NielsLimbs>> {
    // Missing lanes decode the neutral point's encoding, and are dropped at the end.
    let lane_bytes: Vec<[u8; 32]> = (0..8 * H)
        .map(|l| encodings.get(l).copied().unwrap_or(NEUTRAL))
        .collect();
    let one = F8::splat(constants::ONE);
    let y: [F8; H] = core::array::from_fn(|h| {
        F8::from_lanes(&core::array::from_fn(|l| {
            limbs_from_bytes(&lane_bytes[8 * h + l])
        }))
    });
    let yy = y.map(|y| y.square());
    let u = yy.map(|yy| yy.sub(&one));
    let v = yy.map(|yy| yy.mul(&F8::splat(constants::D)).add(&one));
    // r = u·v³·(u·v⁷)^((p − 5)/8), a square root of u/v, of −u/v, or of ±√−1·u/v.
    let v3: [F8; H] = core::array::from_fn(|h| v[h].square().mul(&v[h]));
    let uv7: [F8; H] = core::array::from_fn(|h| u[h].mul(&v3[h].square().mul(&v[h])));
    let pow = pow_p58(&uv7);
    let mut decoded = vec![None; encodings.len().min(8 * H)];
    for h in 0..H {
        let r = u[h].mul(&v3[h]).mul(&pow[h]);
        let half = finish8(&lane_bytes[8 * h..8 * h + 8], &y[h], &u[h], &v[h], &r);
        for (l, point) in half.into_iter().enumerate() {
            if 8 * h + l < encodings.len() {
                decoded[8 * h + l] = point;
            }
        }
    }
    decoded
}

/// The end of [`decode_sets`] for eight lanes: from the candidate root `r` of u/v, the verdict
/// and the point, as curve25519-dalek's `sqrt_ratio_i` and `decompress` reach them.
#[target_feature(enable = "avx512f,avx512ifma")]
fn finish8(bytes: &[[u8; 32]], y: &F8, u: &F8, v: &F8, r: &F8) -> [Option<NielsLimbs>; 8] {
    let check = v.mul(&r.square()).to_lanes();
    let sqrt_m1 = F8::splat(constants::SQRT_M1);
    let u_i = u.mul(&sqrt_m1).to_lanes();
    let r_i = r.mul(&sqrt_m1).to_lanes();
    let (r, u) = (r.to_lanes(), u.to_lanes());
    let mut valid = [false; 8];
    let x_lanes: [[u64; 5]; 8] = core::array::from_fn(|l| {
        let (check, u) = (canonical(check[l]), canonical(u[l]));
        let correct = check == u;
        let flipped = check == negate_canonical(&u);
        let flipped_i = check == negate_canonical(&canonical(u_i[l]));
        valid[l] = correct || flipped;
        let mut x = canonical(if flipped || flipped_i { r_i[l] } else { r[l] });
        // The non-negative root (even, as an integer below p), then the encoded sign.
        if x[0] & 1 == 1 {
            x = negate_canonical(&x);
        }
        if bytes[l][31] >> 7 == 1 {
            x = negate_canonical(&x);
        }
        x
    });
    let x = F8::from_lanes(&x_lanes);
    let niels = Niels8::from_affine(&x, y);
    let (ypx, ymx, xy2d) = (
        niels.y_plus_x.to_lanes(),
        niels.y_minus_x.to_lanes(),
        niels.xy2d.to_lanes(),
    );
    core::array::from_fn(|l| valid[l].then_some([ypx[l], ymx[l], xy2d[l]]))
}

/// The encoding of the neutral point (0, 1).
const NEUTRAL: [u8; 32] = {
    let mut one = [0u8; 32];
    one[0] = 1;
    one
};

/// Buckets per window: digit magnitudes 1 to 128 in buckets 1 to 128; digit 0 goes to
/// bucket 0, which absorbs it and is never summed.
const BUCKETS: usize = 129;

/// One bucket of one lane: X, Y, Z, T (five limbs each), then four u64s of padding, so that
/// it is three whole 512-bit loads.
type Record = [u64; 24];

/// Every lane's buckets, lane by lane (`records[lane · BUCKETS + bucket]`). A lane's bucket
/// is read with plain vector loads and an 8 × 8 transpose into lane order, and written back
/// the same way: gathers and scatters of one u64 per lane cost several times more.
struct Buckets {
    records: Vec<Record>,
}

impl Buckets {
    fn new() -> Buckets {
        Buckets {
            records: vec![[0; 24]; 8 * BUCKETS],
        }
    }

    /// Every bucket of every lane back to the neutral point (0 : 1 : 1 : 0).
    fn reset(&mut self) {
        let mut neutral = [0u64; 24];
        neutral[5] = 1;
        neutral[10] = 1;
        self.records.fill(neutral);
    }

    /// Lane l's bucket `buckets[l]`, for each lane.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn load(&self, buckets: [usize; 8]) -> Ext8 {
        let records: [&Record; 8] =
            core::array::from_fn(|l| &self.records[l * BUCKETS + buckets[l]]);
        let columns: [[__m512i; 8]; 3] = core::array::from_fn(|c| {
            transpose(core::array::from_fn(|l| {
                // SAFETY: u64s 8c..8c + 8 (c < 3) of a 24-u64 record are 64 readable bytes;
                // the unaligned load has no alignment demand.
                unsafe { _mm512_loadu_si512(records[l][8 * c..8 * c + 8].as_ptr().cast()) }
            }))
        });
        ext_from(|k| columns[k / 8][k % 8])
    }

    /// Writes lane l of `p` into lane l's bucket `buckets[l]`, for each lane.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn store(&mut self, buckets: [usize; 8], p: &Ext8) {
        let limbs = ext_limbs(p);
        let padding = _mm512_setzero_si512();
        let rows: [[__m512i; 8]; 3] = core::array::from_fn(|c| {
            transpose(core::array::from_fn(|j| {
                limbs.get(8 * c + j).copied().unwrap_or(padding)
            }))
        });
        for (l, bucket) in buckets.into_iter().enumerate() {
            let record = &mut self.records[l * BUCKETS + bucket];
            for (c, row) in rows.iter().enumerate() {
                // SAFETY: as in `load`, u64s 8c..8c + 8 of the record, now writable.
                unsafe {
                    _mm512_storeu_si512(record[8 * c..8 * c + 8].as_mut_ptr().cast(), row[l])
                };
            }
        }
    }
}

/// The transpose of an 8 × 8 matrix of u64s held as eight rows: row i of the result holds
/// element i of every input row.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn transpose(r: [__m512i; 8]) -> [__m512i; 8] {
    // Pairs of rows interleaved, then 128-bit blocks regrouped twice.
    let t: [__m512i; 8] = core::array::from_fn(|i| {
        let (a, b) = (r[i / 2 * 2], r[i / 2 * 2 + 1]);
        if i % 2 == 0 {
            _mm512_unpacklo_epi64(a, b)
        } else {
            _mm512_unpackhi_epi64(a, b)
        }
    });
    // u[0..4] from rows 0–3, u[4..8] from rows 4–7: u[q] holds elements q and q + 4.
    let u: [__m512i; 8] = core::array::from_fn(|i| {
        let base = if i < 4 { 0 } else { 4 };
        let q = i % 4;
        let (a, b) = (t[base + q % 2], t[base + 2 + q % 2]);
        if q < 2 {
            _mm512_shuffle_i64x2::<0b10_00_10_00>(a, b)
        } else {
            _mm512_shuffle_i64x2::<0b11_01_11_01>(a, b)
        }
    });
    core::array::from_fn(|e| {
        let q = e % 4;
        if e < 4 {
            _mm512_shuffle_i64x2::<0b10_00_10_00>(u[q], u[4 + q])
        } else {
            _mm512_shuffle_i64x2::<0b11_01_11_01>(u[q], u[4 + q])
        }
    })
}

/// The sixteen signed base-2⁸ digits of `c`: `Σ dⱼ·256ʲ = c` with every `dⱼ` in [−128, 128],
/// so that a window needs 128 buckets, not 255, and 128-bit coefficients need no 17th window.
pub(crate) fn signed_digits(c: i128) -> [i16; 16] {
    // The bytes of c + 2¹²⁷ (in [0, 2¹²⁸)), recoded from the bottom; the top digit takes the
    // 2¹²⁷ back off.
    let bytes = ((c as u128) ^ (1 << 127)).to_le_bytes();
    let mut digits = [0i16; 16];
    let mut carry = 0;
    for j in 0..15 {
        let t = i16::from(bytes[j]) + carry;
        (digits[j], carry) = if t > 128 { (t - 256, 1) } else { (t, 0) };
    }
    digits[15] = i16::from(bytes[15]) + carry - 128;
    digits
}

/// `Σ coefficients[i] · points[i]`, compressed. Each of the sixteen 8-bit windows of the
/// coefficients is one lane's Pippenger sum (windows 0–7 in one pass over the points,
/// 8–15 in a second): every lane adds the same point, each to the bucket its own digit
/// names (subtracts it for a negative digit), so buckets never conflict; then each lane
/// folds its buckets into its window's sum.
#[target_feature(enable = "avx512f,avx512ifma")]
pub(crate) fn weighted_sum(points: &[NielsLimbs], coefficients: &[i128]) -> [u8; 32] {
    let identity = Ext8::identity();
    let zero = F8::splat(constants::ZERO);
    let digits: Vec<[i16; 16]> = coefficients.iter().map(|&c| signed_digits(c)).collect();
    let mut buckets = Buckets::new();
    let mut windows: Vec<[[u64; 5]; 4]> = Vec::with_capacity(16);
    for pass in 0..2 {
        buckets.reset();
        for (point, digits) in points.iter().zip(&digits) {
            let digits: [i16; 8] = core::array::from_fn(|l| digits[8 * pass + l]);
            if digits == [0; 8] {
                continue;
            }
            let slots: [usize; 8] = digits.map(|d| usize::from(d.unsigned_abs()));
            let negative = digits
                .iter()
                .enumerate()
                .fold(0u8, |mask, (l, d)| mask | (u8::from(*d < 0) << l));
            let (y_plus_x, y_minus_x) = (F8::splat(point[0]), F8::splat(point[1]));
            let xy2d = F8::splat(point[2]);
            let q = Niels8 {
                y_plus_x: select(negative, &y_plus_x, &y_minus_x),
                y_minus_x: select(negative, &y_minus_x, &y_plus_x),
                xy2d: select(negative, &xy2d, &zero.sub(&xy2d)),
            };
            let sum = buckets.load(slots).add_niels(&q);
            buckets.store(slots, &sum);
        }
        // Σ d · bucket[d] as running sums, from the top bucket down.
        let mut running = identity;
        let mut total = identity;
        for bucket in (1..BUCKETS).rev() {
            running = running.add(&buckets.load([bucket; 8]));
            total = total.add(&running);
        }
        let coords = [total.x, total.y, total.z, total.t].map(|c| c.to_lanes());
        windows.extend((0..8).map(|l| coords.map(|c| c[l])));
    }
    // Horner over the windows, highest first: acc ← 2⁸ · acc + window.
    let splat = |w: &[[u64; 5]; 4]| Ext8 {
        x: F8::splat(w[0]),
        y: F8::splat(w[1]),
        z: F8::splat(w[2]),
        t: F8::splat(w[3]),
    };
    let mut acc = splat(&windows[15]);
    for window in windows[..15].iter().rev() {
        for _ in 0..8 {
            acc = acc.double();
        }
        acc = acc.add(&splat(window));
    }
    compress(&acc)
}

/// The encoding of lane 0 of `p`: y with the sign of x in bit 255.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
pub(crate) fn compress(p: &Ext8) -> [u8; 32] {
    let z_inv = invert(&p.z);
    let x = canonical(p.x.mul(&z_inv).to_lanes()[0]);
    let y = canonical(p.y.mul(&z_inv).to_lanes()[0]);
    let mut bytes = bytes_from_limbs(&y);
    bytes[31] |= ((x[0] & 1) as u8) << 7;
    bytes
}

/// Lane by lane, `b` where `mask` has the lane's bit, else `a`.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn select(mask: u8, a: &F8, b: &F8) -> F8 {
    F8(core::array::from_fn(|j| {
        _mm512_mask_blend_epi64(mask, a.0[j], b.0[j])
    }))
}

#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn ext_from(mut limb: impl FnMut(usize) -> __m512i) -> Ext8 {
    let mut coordinate = |c: usize| F8(core::array::from_fn(|j| limb(5 * c + j)));
    Ext8 {
        x: coordinate(0),
        y: coordinate(1),
        z: coordinate(2),
        t: coordinate(3),
    }
}

#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn ext_limbs(p: &Ext8) -> [__m512i; 20] {
    let coordinates = [p.x, p.y, p.z, p.t];
    core::array::from_fn(|k| coordinates[k / 5].0[k % 5])
}

#[cfg(test)]
mod tests {
    use super::signed_digits;

    #[test]
    fn signed_digits_recompose_and_stay_within_128() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut cases = vec![
            0i128,
            1,
            -1,
            i128::MIN,
            i128::MAX,
            128,
            -128,
            129,
            0x80 << 112,
        ];
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            cases.push(((u128::from(x) << 64) | u128::from(x.rotate_left(17))) as i128);
        }
        for c in cases {
            let digits = signed_digits(c);
            assert!(digits.iter().all(|d| (-128..=128).contains(d)), "{c}");
            let back = digits.iter().rev().fold(0i128, |acc, &d| {
                acc.wrapping_mul(256).wrapping_add(i128::from(d))
            });
            assert_eq!(back, c);
        }
    }
}
