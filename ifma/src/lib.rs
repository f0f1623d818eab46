//! AVX-512 code for kycvs batch verification: edwards25519 points on AVX-512 IFMA, and
//! SHA-512 eight messages at a time.
//!
//! A batch of Ed25519 signatures is checked with one equation over every signature's `R`
//! (see kycvs-core's `crypto::signature`). Two steps of it dominate once the point
//! arithmetic runs in vector registers: decoding each `R` from its 32 bytes (a field square
//! root, a chain of some 250 dependent squarings) and the multi-scalar sum `Σ zᵢ·Rᵢ` with
//! random 128-bit `zᵢ`. This crate does both eight points at a time, one per 64-bit lane of
//! AVX-512 registers, with the 52-bit multiply-accumulate instructions of AVX-512 IFMA:
//!
//! - [`DecodedPoints::decode`] decodes exactly as curve25519-dalek's
//!   `CompressedEdwardsY::decompress` does (same accepted encodings, same points);
//! - [`DecodedPoints::weighted_sum`] computes the sum with one signed 8-bit window of the
//!   128-bit coefficients per lane (16 windows, not the 32 a 253-bit scalar needs);
//! - [`sha512_many`] hashes eight messages at a time (AVX-512F alone), for the challenges
//!   `SHA-512(R ‖ A ‖ M)` of a batch.
//!
//! The point code is variable-time: it serves signature verification, whose inputs are public.
//! On a CPU without AVX-512F and AVX-512 IFMA (and on other architectures) [`available`] is
//! false and `decode` returns `None`; the caller keeps its portable path.
//! The test suite compares every result with curve25519-dalek and the `sha2` crate.

#[cfg(target_arch = "x86_64")]
mod batch;
#[cfg(target_arch = "x86_64")]
mod field;
#[cfg(target_arch = "x86_64")]
mod point;
#[cfg(target_arch = "x86_64")]
mod sha512;

/// Whether this CPU runs this crate's code: x86-64 with AVX-512F and AVX-512 IFMA (checked
/// once by CPUID through the standard library, which caches it).
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512ifma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The SHA-512 digest of each message (the concatenation of its `P` parts), eight messages
/// at a time in AVX-512 lanes; `None` when the CPU lacks AVX-512F (or is not x86-64). The
/// digests are those of any SHA-512 (FIPS 180-4); the test suite compares them with the
/// `sha2` crate's.
pub fn sha512_many<const P: usize>(messages: &[[&[u8]; P]]) -> Option<Vec<[u8; 64]>> {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx512f") {
        let mut digests = Vec::with_capacity(messages.len());
        for chunk in messages.chunks(8) {
            let parts: Vec<&[&[u8]]> = chunk.iter().map(|m| m.as_slice()).collect();
            // SAFETY: the CPU has AVX-512F (detected above).
            let lanes = unsafe { sha512::sha512x8(&parts) };
            digests.extend_from_slice(&lanes[..chunk.len()]);
        }
        return Some(digests);
    }
    let _ = messages;
    None
}

/// Points decoded from 32-byte encodings, each either a curve point or marked invalid.
#[derive(Clone)]
pub struct DecodedPoints {
    /// Per encoding: the point as (y + x, y − x, 2d·x·y) limbs, or `None` if it has none.
    points: Vec<Option<[[u64; 5]; 3]>>,
}

impl DecodedPoints {
    /// Decodes every encoding, up to sixty-four at a time; `None` when [`available`] is false.
    ///
    /// An encoding decodes exactly when curve25519-dalek's `CompressedEdwardsY::decompress`
    /// accepts it, to the same point: y is read from the low 255 bits (values from p up are
    /// taken mod p, as dalek does; reject them before if they must not pass), x is the
    /// square root of (y² − 1)/(d·y² + 1) whose parity is bit 255.
    pub fn decode(encodings: &[[u8; 32]]) -> Option<DecodedPoints> {
        #[cfg(target_arch = "x86_64")]
        if available() {
            let mut points = Vec::with_capacity(encodings.len());
            for chunk in encodings.chunks(8 * batch::DECODE_SETS) {
                // SAFETY: `available()` found AVX-512F and AVX-512 IFMA on this CPU.
                let decoded = unsafe { batch::decode_sets::<{ batch::DECODE_SETS }>(chunk) };
                points.extend(decoded.into_iter().take(chunk.len()));
            }
            return Some(DecodedPoints { points });
        }
        let _ = encodings;
        None
    }

    /// How many encodings were decoded (valid or not).
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// True when no encoding was given.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Whether encoding `index` is a curve point (false past the end).
    pub fn is_valid(&self, index: usize) -> bool {
        matches!(self.points.get(index), Some(Some(_)))
    }

    /// The 32-byte encoding of point `index` (as curve25519-dalek's `compress` gives it),
    /// `None` if it is invalid or past the end. An encoding that decoded re-encodes to
    /// itself unless its y was not below p or it set the sign bit of x = 0.
    pub fn encoding(&self, index: usize) -> Option<[u8; 32]> {
        let [y_plus_x, y_minus_x, _] = (*self.points.get(index)?)?;
        #[cfg(target_arch = "x86_64")]
        {
            use field::{bytes_from_limbs, canonical, halve_canonical};
            let (a, b) = (canonical(y_plus_x), canonical(y_minus_x));
            let y = halve_canonical(&canonical(core::array::from_fn(|j| a[j] + b[j])));
            let two_p_minus_b = field::negate_canonical(&b);
            let x = halve_canonical(&canonical(core::array::from_fn(|j| {
                a[j] + two_p_minus_b[j]
            })));
            let mut bytes = bytes_from_limbs(&y);
            bytes[31] |= ((x[0] & 1) as u8) << 7;
            Some(bytes)
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (y_plus_x, y_minus_x);
            None
        }
    }

    /// `Σ coefficients[i] · Pᵢ` over the valid points, as a 32-byte encoding (the sum of
    /// nothing is the neutral point). Invalid points are left out whatever their
    /// coefficient. `None` when the two lengths differ.
    ///
    /// The coefficients are signed: 2¹²⁸ values as for `u128`, and the window digits can be
    /// signed without a 17th window, which halves the buckets.
    pub fn weighted_sum(&self, coefficients: &[i128]) -> Option<[u8; 32]> {
        if coefficients.len() != self.points.len() {
            return None;
        }
        let (points, coefficients): (Vec<_>, Vec<i128>) = self
            .points
            .iter()
            .zip(coefficients)
            .filter_map(|(p, z)| p.map(|p| (p, *z)))
            .unzip();
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: a `DecodedPoints` exists only where `decode` found AVX-512F and
            // AVX-512 IFMA on this CPU.
            Some(unsafe { batch::weighted_sum(&points, &coefficients) })
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (points, coefficients);
            None
        }
    }
}
