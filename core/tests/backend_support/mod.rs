//! What the vector suites share for `scripts/backends.sh`, which runs them under each
//! emulated CPU: the check that a suite really runs on the curve arithmetic it is meant to
//! test, and the number of random batch compositions per case.

/// Random batch compositions per case in the batch == single checks: 64, or
/// `KYCVS_BATCH_ROUNDS` (scripts/backends.sh lowers it under emulation, where a check costs
/// some 25 times more; `make test-rust` runs the full 64 natively).
pub fn batch_rounds() -> usize {
    std::env::var("KYCVS_BATCH_ROUNDS")
        .ok()
        .map(|r| r.parse().expect("KYCVS_BATCH_ROUNDS: a positive number"))
        .filter(|&r| r > 0)
        .unwrap_or(64)
}

/// The backend this run must use: `KYCVS_EXPECT_BACKEND` when set (scripts/backends.sh sets it
/// for each emulated CPU model, whose CPUID the kernel's `/proc/cpuinfo` does not show), else
/// the fastest one the kernel's CPU flags allow, given that the repository's build compiles
/// all three in (`.cargo/config.toml`).
fn expected_backend() -> String {
    if let Ok(name) = std::env::var("KYCVS_EXPECT_BACKEND") {
        return name;
    }
    if !cfg!(target_arch = "x86_64") {
        return "serial".into();
    }
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let flags: Vec<&str> = cpuinfo
        .lines()
        .find(|l| l.starts_with("flags"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, f)| f.split_whitespace().collect())
        .unwrap_or_default();
    let has = |f: &str| flags.contains(&f);
    if has("avx512ifma") && has("avx512vl") {
        "avx512ifma".into()
    } else if has("avx2") {
        "avx2".into()
    } else {
        "serial".into()
    }
}

#[test]
fn runs_on_the_expected_backend() {
    let want = expected_backend();
    assert_eq!(
        kycvs_core::backend().as_str(),
        want,
        "curve25519 backend: compiled in {:?} (an environment RUSTFLAGS replaces the \
         --cfg curve25519_dalek_backend=\"avx512\" of .cargo/config.toml)",
        kycvs_core::Backend::compiled()
    );
}
