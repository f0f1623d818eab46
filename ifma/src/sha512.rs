//! SHA-512 (FIPS 180-4) of eight messages side by side, one per 64-bit lane of AVX-512
//! registers: the round function is the same for every lane, and a lane whose message has
//! run out of blocks keeps its state while the others go on.

use crate::field::store;
use core::arch::x86_64::*;

/// The 80 round constants: the first 64 bits of the fractional parts of the cube roots of
/// the first 80 primes (FIPS 180-4, 4.2.3).
const K: [u64; 80] = [
    0x428a2f98d728ae22,
    0x7137449123ef65cd,
    0xb5c0fbcfec4d3b2f,
    0xe9b5dba58189dbbc,
    0x3956c25bf348b538,
    0x59f111f1b605d019,
    0x923f82a4af194f9b,
    0xab1c5ed5da6d8118,
    0xd807aa98a3030242,
    0x12835b0145706fbe,
    0x243185be4ee4b28c,
    0x550c7dc3d5ffb4e2,
    0x72be5d74f27b896f,
    0x80deb1fe3b1696b1,
    0x9bdc06a725c71235,
    0xc19bf174cf692694,
    0xe49b69c19ef14ad2,
    0xefbe4786384f25e3,
    0x0fc19dc68b8cd5b5,
    0x240ca1cc77ac9c65,
    0x2de92c6f592b0275,
    0x4a7484aa6ea6e483,
    0x5cb0a9dcbd41fbd4,
    0x76f988da831153b5,
    0x983e5152ee66dfab,
    0xa831c66d2db43210,
    0xb00327c898fb213f,
    0xbf597fc7beef0ee4,
    0xc6e00bf33da88fc2,
    0xd5a79147930aa725,
    0x06ca6351e003826f,
    0x142929670a0e6e70,
    0x27b70a8546d22ffc,
    0x2e1b21385c26c926,
    0x4d2c6dfc5ac42aed,
    0x53380d139d95b3df,
    0x650a73548baf63de,
    0x766a0abb3c77b2a8,
    0x81c2c92e47edaee6,
    0x92722c851482353b,
    0xa2bfe8a14cf10364,
    0xa81a664bbc423001,
    0xc24b8b70d0f89791,
    0xc76c51a30654be30,
    0xd192e819d6ef5218,
    0xd69906245565a910,
    0xf40e35855771202a,
    0x106aa07032bbd1b8,
    0x19a4c116b8d2d0c8,
    0x1e376c085141ab53,
    0x2748774cdf8eeb99,
    0x34b0bcb5e19b48a8,
    0x391c0cb3c5c95a63,
    0x4ed8aa4ae3418acb,
    0x5b9cca4f7763e373,
    0x682e6ff3d6b2b8a3,
    0x748f82ee5defb2fc,
    0x78a5636f43172f60,
    0x84c87814a1f0ab72,
    0x8cc702081a6439ec,
    0x90befffa23631e28,
    0xa4506cebde82bde9,
    0xbef9a3f7b2c67915,
    0xc67178f2e372532b,
    0xca273eceea26619c,
    0xd186b8c721c0c207,
    0xeada7dd6cde0eb1e,
    0xf57d4f7fee6ed178,
    0x06f067aa72176fba,
    0x0a637dc5a2c898a6,
    0x113f9804bef90dae,
    0x1b710b35131c471b,
    0x28db77f523047d84,
    0x32caab7b40c72493,
    0x3c9ebe0a15c9bebc,
    0x431d67c49c100d4c,
    0x4cc5d4becb3e42b6,
    0x597f299cfc657e2a,
    0x5fcb6fab3ad6faec,
    0x6c44198c4a475817,
];
/// The initial hash value: the first 64 bits of the fractional parts of the square roots of
/// the first 8 primes (FIPS 180-4, 5.3.5).
const H0: [u64; 8] = [
    0x6a09e667f3bcc908,
    0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b,
    0xa54ff53a5f1d36f1,
    0x510e527fade682d1,
    0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b,
    0x5be0cd19137e2179,
];

/// A message padded as SHA-512 pads it: a 1 bit, zeros, and the length in bits as a 128-bit
/// big-endian number, to a whole number of 128-byte blocks.
fn padded(parts: &[&[u8]]) -> Vec<u8> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut out = Vec::with_capacity((len + 17).div_ceil(128) * 128);
    for part in parts {
        out.extend_from_slice(part);
    }
    out.push(0x80);
    while out.len() % 128 != 112 {
        out.push(0);
    }
    out.extend_from_slice(&((len as u128) * 8).to_be_bytes());
    out
}

/// The SHA-512 digests of up to eight messages, each the concatenation of its parts.
/// Lanes past `messages.len()` are all zero.
#[target_feature(enable = "avx512f")]
pub(crate) fn sha512x8(messages: &[&[&[u8]]]) -> [[u8; 64]; 8] {
    let padded: Vec<Vec<u8>> = messages.iter().take(8).map(|m| padded(m)).collect();
    let blocks = padded.iter().map(|p| p.len() / 128).max().unwrap_or(0);
    let mut state: [__m512i; 8] = H0.map(|h| _mm512_set1_epi64(h as i64));
    for block in 0..blocks {
        let active = padded.iter().enumerate().fold(0u8, |mask, (l, p)| {
            mask | (u8::from(p.len() / 128 > block) << l)
        });
        let mut w: [__m512i; 16] = core::array::from_fn(|t| {
            let word = |l: usize| {
                padded
                    .get(l)
                    .filter(|p| p.len() / 128 > block)
                    .map_or(0, |p| {
                        let at = 128 * block + 8 * t;
                        let mut bytes = [0u8; 8];
                        bytes.copy_from_slice(&p[at..at + 8]);
                        u64::from_be_bytes(bytes) as i64
                    })
            };
            _mm512_set_epi64(
                word(7),
                word(6),
                word(5),
                word(4),
                word(3),
                word(2),
                word(1),
                word(0),
            )
        });
        let next = compress(&state, &mut w);
        state = core::array::from_fn(|i| _mm512_mask_blend_epi64(active, state[i], next[i]));
    }
    let words: [[u64; 8]; 8] = state.map(|s| store(s));
    core::array::from_fn(|l| {
        let mut digest = [0u8; 64];
        if l < padded.len() {
            for (chunk, word) in digest.chunks_exact_mut(8).zip(&words) {
                chunk.copy_from_slice(&word[l].to_be_bytes());
            }
        }
        digest
    })
}

/// One block's compression of eight states; `w` holds the block's sixteen words and is
/// used as the ring of the message schedule.
#[inline]
#[target_feature(enable = "avx512f")]
fn compress(state: &[__m512i; 8], w: &mut [__m512i; 16]) -> [__m512i; 8] {
    let xor3 = |a, b, c| _mm512_ternarylogic_epi64::<0x96>(a, b, c);
    let add = |a, b| _mm512_add_epi64(a, b);
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;
    for (t, k) in K.iter().enumerate() {
        if t >= 16 {
            let w15 = w[(t + 1) % 16];
            let w2 = w[(t + 14) % 16];
            let sigma0 = xor3(
                _mm512_ror_epi64::<1>(w15),
                _mm512_ror_epi64::<8>(w15),
                _mm512_srli_epi64::<7>(w15),
            );
            let sigma1 = xor3(
                _mm512_ror_epi64::<19>(w2),
                _mm512_ror_epi64::<61>(w2),
                _mm512_srli_epi64::<6>(w2),
            );
            w[t % 16] = add(add(w[t % 16], sigma0), add(w[(t + 9) % 16], sigma1));
        }
        let big_sigma1 = xor3(
            _mm512_ror_epi64::<14>(e),
            _mm512_ror_epi64::<18>(e),
            _mm512_ror_epi64::<41>(e),
        );
        // Ch(e, f, g) = e ? f : g; Maj(a, b, c) = the majority of the three bits.
        let ch = _mm512_ternarylogic_epi64::<0xca>(e, f, g);
        let t1 = add(
            add(h, big_sigma1),
            add(ch, add(_mm512_set1_epi64(*k as i64), w[t % 16])),
        );
        let big_sigma0 = xor3(
            _mm512_ror_epi64::<28>(a),
            _mm512_ror_epi64::<34>(a),
            _mm512_ror_epi64::<39>(a),
        );
        let t2 = add(big_sigma0, _mm512_ternarylogic_epi64::<0xe8>(a, b, c));
        h = g;
        g = f;
        f = e;
        e = add(d, t1);
        d = c;
        c = b;
        b = a;
        a = add(t1, t2);
    }
    let out = [a, b, c, d, e, f, g, h];
    core::array::from_fn(|i| add(state[i], out[i]))
}
