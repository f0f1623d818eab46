//! Which curve arithmetic curve25519-dalek runs in this process.
//!
//! curve25519-dalek 5 on x86-64 compiles up to three implementations of its point arithmetic
//! and picks one by CPUID on first use: AVX-512 IFMA (compiled in when built with
//! `--cfg curve25519_dalek_backend="avx512"`, as this repository's `.cargo/config.toml` does,
//! or for a target CPU that has it), AVX2 (always compiled in on x86-64 unless a backend is
//! forced) and the portable serial code. dalek does not say which one it chose, so
//! [`backend`] repeats its choice: the same cfgs decide what is compiled in, and the same CPU
//! features (`avx512ifma` and `avx512vl`; `avx2`), detected through the standard library,
//! decide what runs. `scripts/backends.sh` checks the answer under emulated CPUs.

use std::fmt;

/// One of curve25519-dalek's implementations of the curve arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// 52-bit multiply-accumulate in AVX-512 vector lanes (`avx512ifma` and `avx512vl`).
    Avx512Ifma,
    /// Four-way parallel field arithmetic in AVX2 registers.
    Avx2,
    /// Portable 64-bit (or 32-bit) limb arithmetic, no vector instructions.
    Serial,
}

impl Backend {
    /// The backend's stable name: `"avx512ifma"`, `"avx2"` or `"serial"` (as printed by
    /// `kycvs --version`, returned by C `kycvs_backend()` and Python `kycvs.backend()`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Backend::Avx512Ifma => "avx512ifma",
            Backend::Avx2 => "avx2",
            Backend::Serial => "serial",
        }
    }

    /// Every backend compiled into this build, fastest first; [`backend`] returns the first
    /// one the CPU supports. Always ends with [`Backend::Serial`].
    pub fn compiled() -> &'static [Backend] {
        if AVX512_COMPILED {
            &[Backend::Avx512Ifma, Backend::Avx2, Backend::Serial]
        } else if AVX2_COMPILED {
            &[Backend::Avx2, Backend::Serial]
        } else {
            &[Backend::Serial]
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// dalek's build script: the vector backends exist only on x86-64 with 64-bit limbs, and not
// when the serial (or fiat) backend is forced.
const VECTOR_POSSIBLE: bool = cfg!(all(
    target_arch = "x86_64",
    not(curve25519_dalek_bits = "32"),
    not(curve25519_dalek_backend = "serial"),
    not(curve25519_dalek_backend = "fiat")
));

// IFMA: forced with the cfg, or chosen by default when the target CPU has the features (a
// `-C target-cpu` build); never when AVX2 alone is forced (`curve25519_dalek_backend="simd"`).
const AVX512_COMPILED: bool = VECTOR_POSSIBLE
    && cfg!(any(
        curve25519_dalek_backend = "avx512",
        all(
            not(curve25519_dalek_backend = "simd"),
            target_feature = "avx512ifma",
            target_feature = "avx512vl"
        )
    ));

const AVX2_COMPILED: bool = VECTOR_POSSIBLE;

/// The backend curve25519-dalek uses for every signature check in this process: the fastest
/// one compiled in that this CPU (and operating system) supports. The choice is fixed for the
/// life of the process; it never changes a verdict, only the speed.
///
/// ```
/// let backend = kycvs_core::backend();
/// assert!(kycvs_core::Backend::compiled().contains(&backend));
/// println!("curve25519 backend: {backend}");
/// ```
pub fn backend() -> Backend {
    #[cfg(target_arch = "x86_64")]
    {
        if AVX512_COMPILED
            && std::arch::is_x86_feature_detected!("avx512ifma")
            && std::arch::is_x86_feature_detected!("avx512vl")
        {
            return Backend::Avx512Ifma;
        }
        if AVX2_COMPILED && std::arch::is_x86_feature_detected!("avx2") {
            return Backend::Avx2;
        }
    }
    Backend::Serial
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable_and_distinct() {
        let names: Vec<_> = [Backend::Avx512Ifma, Backend::Avx2, Backend::Serial]
            .iter()
            .map(|b| b.to_string())
            .collect();
        assert_eq!(names, ["avx512ifma", "avx2", "serial"]);
    }

    #[test]
    fn the_chosen_backend_is_compiled_in() {
        assert!(Backend::compiled().contains(&backend()));
        assert_eq!(Backend::compiled().last(), Some(&Backend::Serial));
    }
}
