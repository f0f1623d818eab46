//! Eight elements of GF(2²⁵⁵ − 19) side by side, one in each 64-bit lane of five AVX-512
//! registers, multiplied with the 52-bit multiply-accumulate instructions of AVX-512 IFMA.
//!
//! Each element is five limbs in radix 2⁵¹. Every value this module hands out has limbs
//! below 2⁵² (the operand width of `vpmadd52luq`/`vpmadd52huq`), so any two values can be
//! multiplied; additions and subtractions carry once to keep that true.
//!
//! A product of two limbs below 2⁵² splits into its low 52 bits, weight 2⁵¹ⁱ⁺⁵¹ʲ, and its
//! high bits, weight 2⁵¹⁽ⁱ⁺ʲ⁾⁺⁵² = 2 · 2⁵¹⁽ⁱ⁺ʲ⁺¹⁾: so column k of the product collects the low
//! halves of the products with i + j = k at coefficient 1 and the high halves of those with
//! i + j = k − 1 at coefficient 2. Each column stays below 15 · 2⁵² < 2⁵⁶; columns 5 to 9 fold
//! onto 0 to 4 with 2²⁵⁵ ≡ 19 (below 2⁶² in all), and one carry pass in parallel brings every
//! limb back under 2⁵¹ + 2¹⁶.

use core::arch::x86_64::*;

const MASK: u64 = (1 << 51) - 1;

/// The field's constants as radix-2⁵¹ limbs (`tests::constants_are_what_they_say`).
pub(crate) mod constants {
    /// The curve constant d = −121665/121666.
    pub(crate) const D: [u64; 5] = [
        0x34dca135978a3,
        0x1a8283b156ebd,
        0x5e7a26001c029,
        0x739c663a03cbb,
        0x52036cee2b6ff,
    ];
    /// 2d.
    pub(crate) const D2: [u64; 5] = [
        0x69b9426b2f159,
        0x35050762add7a,
        0x3cf44c0038052,
        0x6738cc7407977,
        0x2406d9dc56dff,
    ];
    /// √−1 = 2^((p − 1)/4).
    pub(crate) const SQRT_M1: [u64; 5] = [
        0x61b274a0ea0b0,
        0xd5a5fc8f189d,
        0x7ef5e9cbd0c60,
        0x78595a6804c9e,
        0x2b8324804fc1d,
    ];
    /// 1.
    pub(crate) const ONE: [u64; 5] = [1, 0, 0, 0, 0];
    /// 0.
    pub(crate) const ZERO: [u64; 5] = [0; 5];
}

/// Eight field elements, limb `j` of lane `l` in `self.0[j]` lane `l`; limbs below 2⁵².
#[derive(Clone, Copy)]
pub(crate) struct F8(pub(crate) [__m512i; 5]);

#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn splat64(x: u64) -> __m512i {
    _mm512_set1_epi64(x as i64)
}

/// One carry pass over limbs below 2⁶²: every limb ends below 2⁵¹ + 2¹⁶.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn carry(z: [__m512i; 5]) -> F8 {
    let mask = splat64(MASK);
    let c = z.map(|limb| _mm512_srli_epi64::<51>(limb));
    let low = z.map(|limb| _mm512_and_si512(limb, mask));
    F8([
        _mm512_add_epi64(low[0], times19(c[4])),
        _mm512_add_epi64(low[1], c[0]),
        _mm512_add_epi64(low[2], c[1]),
        _mm512_add_epi64(low[3], c[2]),
        _mm512_add_epi64(low[4], c[3]),
    ])
}

/// 19 · x, for x below 2⁵⁹.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn times19(x: __m512i) -> __m512i {
    let x16 = _mm512_slli_epi64::<4>(x);
    let x2 = _mm512_slli_epi64::<1>(x);
    _mm512_add_epi64(_mm512_add_epi64(x16, x2), x)
}

/// Folds the ten product columns `one[k] + 2 · two[k] + 4 · four[k]` into five limbs.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn fold(one: [__m512i; 10], two: [__m512i; 10], four: [__m512i; 10]) -> F8 {
    let column = |k: usize| {
        let doubled = _mm512_add_epi64(two[k], _mm512_slli_epi64::<1>(four[k]));
        _mm512_add_epi64(one[k], _mm512_slli_epi64::<1>(doubled))
    };
    let c: [__m512i; 10] = core::array::from_fn(column);
    carry(core::array::from_fn(|k| {
        _mm512_add_epi64(c[k], times19(c[k + 5]))
    }))
}

impl F8 {
    /// The same element in all eight lanes.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(crate) fn splat(limbs: [u64; 5]) -> F8 {
        F8(limbs.map(|l| splat64(l)))
    }

    /// Eight elements given as limbs below 2⁵², lane by lane.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(crate) fn from_lanes(lanes: &[[u64; 5]; 8]) -> F8 {
        F8(core::array::from_fn(|j| {
            let limb: [u64; 8] = core::array::from_fn(|l| lanes[l][j]);
            load(&limb)
        }))
    }

    /// The eight elements as limbs, lane by lane (not reduced: see [`canonical`]).
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(crate) fn to_lanes(self) -> [[u64; 5]; 8] {
        let limbs: [[u64; 8]; 5] = self.0.map(|r| store(r));
        core::array::from_fn(|l| core::array::from_fn(|j| limbs[j][l]))
    }

    /// `self + rhs`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(crate) fn add(&self, rhs: &F8) -> F8 {
        carry(core::array::from_fn(|j| {
            _mm512_add_epi64(self.0[j], rhs.0[j])
        }))
    }

    /// `self − rhs`, computed as `self + 4p − rhs` so that no limb goes below zero.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(crate) fn sub(&self, rhs: &F8) -> F8 {
        // 4p in radix 2⁵¹: every limb at least 2⁵², above any limb of `rhs`.
        const FOUR_P: [u64; 5] = [4 * ((1 << 51) - 19), 4 * MASK, 4 * MASK, 4 * MASK, 4 * MASK];
        carry(core::array::from_fn(|j| {
            let biased = _mm512_add_epi64(self.0[j], splat64(FOUR_P[j]));
            _mm512_sub_epi64(biased, rhs.0[j])
        }))
    }

    /// `self · rhs`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(crate) fn mul(&self, rhs: &F8) -> F8 {
        let (x, y) = (&self.0, &rhs.0);
        let zero = _mm512_setzero_si512();
        let mut one = [zero; 10];
        let mut two = [zero; 10];
        for i in 0..5 {
            for j in 0..5 {
                one[i + j] = _mm512_madd52lo_epu64(one[i + j], x[i], y[j]);
                two[i + j + 1] = _mm512_madd52hi_epu64(two[i + j + 1], x[i], y[j]);
            }
        }
        fold(one, two, [zero; 10])
    }

    /// `self²`: each cross product once, at twice the weight.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(crate) fn square(&self) -> F8 {
        let x = &self.0;
        let zero = _mm512_setzero_si512();
        let mut one = [zero; 10];
        let mut two = [zero; 10];
        let mut four = [zero; 10];
        for i in 0..5 {
            one[2 * i] = _mm512_madd52lo_epu64(one[2 * i], x[i], x[i]);
            two[2 * i + 1] = _mm512_madd52hi_epu64(two[2 * i + 1], x[i], x[i]);
            for j in i + 1..5 {
                two[i + j] = _mm512_madd52lo_epu64(two[i + j], x[i], x[j]);
                four[i + j + 1] = _mm512_madd52hi_epu64(four[i + j + 1], x[i], x[j]);
            }
        }
        fold(one, two, four)
    }
}

/// `N` sets of eight elements squared `k` times each (k ≥ 1); the sets' chains are
/// independent, so the CPU overlaps them.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn pow2k_n<const N: usize>(x: &[F8; N], k: u32) -> [F8; N] {
    let mut y = x.map(|e| e.square());
    for _ in 1..k {
        y = y.map(|e| e.square());
    }
    y
}

#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn mul_n<const N: usize>(a: &[F8; N], b: &[F8; N]) -> [F8; N] {
    core::array::from_fn(|i| a[i].mul(&b[i]))
}

/// `(x^(2^250 − 1), x^11)` for each element: the shared start of inversion and square root.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn pow22501<const N: usize>(x: &[F8; N]) -> ([F8; N], [F8; N]) {
    let t0 = x.map(|e| e.square()); // 2
    let t1 = pow2k_n(&t0, 2); // 8
    let t2 = mul_n(x, &t1); // 9
    let t3 = mul_n(&t0, &t2); // 11
    let t4 = t3.map(|e| e.square()); // 22
    let t5 = mul_n(&t2, &t4); // 31 = 2^5 − 1
    let t7 = mul_n(&pow2k_n(&t5, 5), &t5); // 2^10 − 1
    let t9 = mul_n(&pow2k_n(&t7, 10), &t7); // 2^20 − 1
    let t11 = mul_n(&pow2k_n(&t9, 20), &t9); // 2^40 − 1
    let t13 = mul_n(&pow2k_n(&t11, 10), &t7); // 2^50 − 1
    let t15 = mul_n(&pow2k_n(&t13, 50), &t13); // 2^100 − 1
    let t17 = mul_n(&pow2k_n(&t15, 100), &t15); // 2^200 − 1
    let t19 = mul_n(&pow2k_n(&t17, 50), &t13); // 2^250 − 1
    (t19, t3)
}

/// `x^((p − 5)/8) = x^(2^252 − 3)` for each element of `N` sets side by side.
#[target_feature(enable = "avx512f,avx512ifma")]
pub(crate) fn pow_p58<const N: usize>(x: &[F8; N]) -> [F8; N] {
    let (t19, _) = pow22501(x);
    mul_n(&pow2k_n(&t19, 2), x)
}

/// `x^(p − 2) = 1/x` for each element (0 for 0).
#[target_feature(enable = "avx512f,avx512ifma")]
pub(crate) fn invert(x: &F8) -> F8 {
    let (t19, t3) = pow22501(&[*x]);
    pow2k_n(&t19, 5)[0].mul(&t3[0])
}

/// Loads eight u64s into a register.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn load(values: &[u64; 8]) -> __m512i {
    // SAFETY: `values` is 64 readable bytes; the unaligned load has no alignment demand.
    unsafe { _mm512_loadu_si512(values.as_ptr().cast()) }
}

/// Stores a register as eight u64s.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) fn store(register: __m512i) -> [u64; 8] {
    let mut values = [0u64; 8];
    // SAFETY: `values` is 64 writable bytes; the unaligned store has no alignment demand.
    unsafe { _mm512_storeu_si512(values.as_mut_ptr().cast(), register) };
    values
}

/// The unique limbs below 2⁵¹ of the element with limbs `limbs` (each below 2⁶²), i.e. of
/// its value mod p.
pub(crate) fn canonical(limbs: [u64; 5]) -> [u64; 5] {
    let mut l = limbs;
    // One carry pass: every limb below 2⁵¹ + 2¹⁶, the value below 2p.
    let c: [u64; 5] = core::array::from_fn(|j| l[j] >> 51);
    for limb in &mut l {
        *limb &= MASK;
    }
    l[0] += 19 * c[4];
    for j in 1..5 {
        l[j] += c[j - 1];
    }
    // q = 1 exactly when the value is at least p: whether value + 19 reaches 2²⁵⁵.
    let mut q = (l[0] + 19) >> 51;
    for limb in &l[1..] {
        q = (limb + q) >> 51;
    }
    l[0] += 19 * q;
    for j in 0..4 {
        l[j + 1] += l[j] >> 51;
        l[j] &= MASK;
    }
    l[4] &= MASK;
    l
}

/// The limbs of the 255-bit little-endian number in `bytes` (bit 255 ignored; values from
/// p to 2²⁵⁵ − 1 stand for their residue, as in curve25519-dalek).
pub(crate) fn limbs_from_bytes(bytes: &[u8; 32]) -> [u64; 5] {
    let word = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(w)
    };
    [
        word(0) & MASK,
        (word(6) >> 3) & MASK,
        (word(12) >> 6) & MASK,
        (word(19) >> 1) & MASK,
        (word(24) >> 12) & MASK,
    ]
}

/// The 32-byte little-endian encoding of canonical limbs (bit 255 clear).
pub(crate) fn bytes_from_limbs(l: &[u64; 5]) -> [u8; 32] {
    let mut value = [0u64; 4];
    value[0] = l[0] | (l[1] << 51);
    value[1] = (l[1] >> 13) | (l[2] << 38);
    value[2] = (l[2] >> 26) | (l[3] << 25);
    value[3] = (l[3] >> 39) | (l[4] << 12);
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(8).zip(value) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    out
}

/// `−x` for canonical `x`, canonical.
pub(crate) fn negate_canonical(x: &[u64; 5]) -> [u64; 5] {
    // 2p − x, then reduced: every limb of 2p is at least 2⁵² − 38 > any limb of x.
    let two_p = [2 * ((1 << 51) - 19), 2 * MASK, 2 * MASK, 2 * MASK, 2 * MASK];
    canonical(core::array::from_fn(|j| two_p[j] - x[j]))
}

/// `x/2` for canonical `x`, canonical: `x` if even, else `x + p`, halved.
pub(crate) fn halve_canonical(x: &[u64; 5]) -> [u64; 5] {
    let mut l = *x;
    if l[0] & 1 == 1 {
        l[0] += (1 << 51) - 19;
        for limb in &mut l[1..] {
            *limb += MASK;
        }
    }
    // A value below 2p < 2²⁵⁶ as limbs below 2⁵², shifted right by one across the limbs.
    let l = canonical_carry(l);
    core::array::from_fn(|j| {
        let high = if j < 4 { (l[j + 1] & 1) << 50 } else { 0 };
        (l[j] >> 1) | high
    })
}

/// Limbs below 2⁵¹ except the top one (below 2⁵²): an exact carry without reduction mod p.
fn canonical_carry(mut l: [u64; 5]) -> [u64; 5] {
    for j in 0..4 {
        l[j + 1] += l[j] >> 51;
        l[j] &= MASK;
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ifma() -> bool {
        std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512ifma")
    }

    /// The textbook product in radix 2⁵¹ with u128 accumulators, reduced mod p.
    fn reference_mul(a: &[u64; 5], b: &[u64; 5]) -> [u64; 5] {
        let m = |x: u64, y: u64| (x as u128) * (y as u128);
        let b19: [u64; 5] = core::array::from_fn(|j| b[j] * 19);
        let c0 =
            m(a[0], b[0]) + m(a[4], b19[1]) + m(a[3], b19[2]) + m(a[2], b19[3]) + m(a[1], b19[4]);
        let c1 =
            m(a[1], b[0]) + m(a[0], b[1]) + m(a[4], b19[2]) + m(a[3], b19[3]) + m(a[2], b19[4]);
        let c2 = m(a[2], b[0]) + m(a[1], b[1]) + m(a[0], b[2]) + m(a[4], b19[3]) + m(a[3], b19[4]);
        let c3 = m(a[3], b[0]) + m(a[2], b[1]) + m(a[1], b[2]) + m(a[0], b[3]) + m(a[4], b19[4]);
        let c4 = m(a[4], b[0]) + m(a[3], b[1]) + m(a[2], b[2]) + m(a[1], b[3]) + m(a[0], b[4]);
        let mut c = [c0, c1, c2, c3, c4];
        for j in 0..4 {
            c[j + 1] += c[j] >> 51;
            c[j] &= MASK as u128;
        }
        let top = c[4] >> 51;
        c[4] &= MASK as u128;
        c[0] += top * 19;
        c[1] += c[0] >> 51;
        c[0] &= MASK as u128;
        canonical(c.map(|x| x as u64))
    }

    fn lanes_from(seed: u64) -> [[u64; 5]; 8] {
        let mut x = seed | 1;
        core::array::from_fn(|_| {
            core::array::from_fn(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x & ((1 << 52) - 1)
            })
        })
    }

    #[test]
    fn vector_arithmetic_equals_the_limb_reference() {
        if !ifma() {
            return;
        }
        for seed in 1..2000u64 {
            let (a, b) = (lanes_from(seed), lanes_from(seed.wrapping_mul(7919)));
            // SAFETY: the CPU has avx512f and avx512ifma (checked above).
            let (prod, sq, sum, diff) = unsafe {
                let (x, y) = (F8::from_lanes(&a), F8::from_lanes(&b));
                (
                    x.mul(&y).to_lanes(),
                    x.square().to_lanes(),
                    x.add(&y).to_lanes(),
                    x.sub(&y).to_lanes(),
                )
            };
            for l in 0..8 {
                assert_eq!(canonical(prod[l]), reference_mul(&a[l], &b[l]));
                assert_eq!(canonical(sq[l]), reference_mul(&a[l], &a[l]));
                assert!(prod[l].iter().chain(&sq[l]).all(|&x| x < 1 << 52));
                let expect: [u64; 5] = core::array::from_fn(|j| a[l][j] + b[l][j]);
                assert_eq!(canonical(sum[l]), canonical(expect));
                let diff_plus_b: [u64; 5] = core::array::from_fn(|j| diff[l][j] + b[l][j]);
                assert_eq!(canonical(diff_plus_b), canonical(a[l]));
            }
        }
    }

    #[test]
    fn constants_are_what_they_say() {
        if !ifma() {
            return;
        }
        // SAFETY: the CPU has avx512f and avx512ifma.
        let lanes = unsafe {
            let i = F8::splat(constants::SQRT_M1);
            let d = F8::splat(constants::D);
            let i2 = i.square().to_lanes()[0];
            let d2 = d.add(&d).to_lanes()[0];
            // d · 121666 + 121665 = 0.
            let check = d
                .mul(&F8::splat([121666, 0, 0, 0, 0]))
                .add(&F8::splat([121665, 0, 0, 0, 0]))
                .to_lanes()[0];
            let inv =
                invert(&F8::splat([121666, 0, 0, 0, 0])).mul(&F8::splat([121666, 0, 0, 0, 0]));
            (i2, d2, check, inv.to_lanes()[0])
        };
        assert_eq!(canonical(lanes.0), negate_canonical(&constants::ONE));
        assert_eq!(canonical(lanes.1), constants::D2);
        assert_eq!(canonical(lanes.2), constants::ZERO);
        assert_eq!(canonical(lanes.3), constants::ONE);
    }

    #[test]
    fn bytes_round_trip_and_reduce_mod_p() {
        let mut p = [0xffu8; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        assert_eq!(canonical(limbs_from_bytes(&p)), constants::ZERO);
        let mut p_plus_18 = p;
        p_plus_18[0] = 0xff;
        assert_eq!(canonical(limbs_from_bytes(&p_plus_18)), [18, 0, 0, 0, 0]);
        for seed in 1..500u64 {
            for limbs in lanes_from(seed) {
                let c = canonical(limbs);
                let half = halve_canonical(&c);
                let twice: [u64; 5] = core::array::from_fn(|j| 2 * half[j]);
                assert_eq!(canonical(twice), c);
                assert_eq!(canonical(limbs_from_bytes(&bytes_from_limbs(&c))), c);
                let sum: [u64; 5] = core::array::from_fn(|j| c[j] + negate_canonical(&c)[j]);
                assert_eq!(canonical(sum), constants::ZERO);
            }
        }
    }
}
