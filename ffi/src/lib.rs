//! # kycvs-ffi
//!
//! The C library of kycvs: `libkycvs.so` / `libkycvs.a` with the header `include/kycvs.h`,
//! generated from this crate by cbindgen (`ffi/header.sh`). It only converts types and maps
//! errors; every rule lives in `kycvs-core`.
//!
//! C conventions (after rustls-ffi):
//! - every function returns a `kycvs_result` (`KYCVS_RESULT_OK` = 0), except `_free`,
//!   `_len`, the `kycvs_verified_*` accessors, `kycvs_version`, `kycvs_backend`,
//!   `kycvs_result_name` and
//!   `kycvs_unix_now`; a panic never crosses into C, it becomes `KYCVS_RESULT_PANIC`;
//! - text goes in as `const char *ptr, size_t len` (UTF-8, no NUL needed) and comes out into
//!   a caller's `char *buf, size_t buf_len`, NUL-terminated, with `*out_len` = its length, or
//!   `KYCVS_RESULT_BUFFER_TOO_SMALL` with `*out_len` = the size needed;
//! - output parameters come last and are written only on success; every pointer is checked
//!   for NULL (`KYCVS_RESULT_NULL_ARGUMENT`); `_free(NULL)` does nothing;
//! - handles are opaque; a `kycvs_verifier` is immutable and may be shared across threads;
//! - `kycvs_last_error_message` gives the detail of the last failure on the calling thread.

// The exported names are C names (`kycvs_signing_key`, `kycvs_result`), by design.
#![allow(non_camel_case_types)]

mod batch;
mod bundle;
mod consent;
mod error;
mod ffi;
mod issue;
mod keys;
mod panic;
mod registry;
mod replay;
mod trust;
mod verify;

pub use batch::{kycvs_batch_item, kycvs_verifier_verify_batch};
pub use bundle::{
    KYCVS_MAX_BUNDLE_LEN, KYCVS_MAX_ROOT_JWK_LEN, kycvs_bundle_info, kycvs_bundle_load,
    kycvs_bundle_terms, kycvs_trust_bundle_root_jwk, kycvs_trust_bundle_sign,
    kycvs_trust_store_from_bundle,
};
pub use consent::{
    KYCVS_CONSENT_ID_BUF_LEN, KYCVS_OTP_BUF_LEN, KYCVS_OTP_KEY_LEN, KYCVS_PSEUDONYM_KEY_LEN,
    kycvs_consent_challenge, kycvs_consent_challenge_clear, kycvs_consent_completer,
    kycvs_consent_completer_complete, kycvs_consent_completer_free, kycvs_consent_config,
    kycvs_consent_config_default, kycvs_consent_request, kycvs_consent_starter,
    kycvs_consent_starter_begin, kycvs_consent_starter_free, kycvs_issuance_builder,
    kycvs_issuance_builder_build, kycvs_issuance_builder_build_completer,
    kycvs_issuance_builder_build_starter, kycvs_issuance_builder_free, kycvs_issuance_builder_new,
    kycvs_issuance_builder_set_config, kycvs_issuance_builder_set_consent_file,
    kycvs_issuance_builder_set_issuer, kycvs_issuance_builder_set_otp_key,
    kycvs_issuance_builder_set_pseudonym_key, kycvs_issuance_builder_set_registry,
    kycvs_issuance_builder_set_schedule, kycvs_issuance_service, kycvs_issuance_service_begin,
    kycvs_issuance_service_complete, kycvs_issuance_service_free, kycvs_issuance_service_subject,
};
pub use error::{kycvs_last_error_message, kycvs_result, kycvs_result_name};
pub use issue::{
    kycvs_algorithm, kycvs_issuer, kycvs_issuer_free, kycvs_issuer_issue, kycvs_issuer_new,
    kycvs_token_request,
};
pub use keys::{
    KYCVS_PUBLIC_KEY_LEN, kycvs_signing_key, kycvs_signing_key_free, kycvs_signing_key_from_pem,
    kycvs_signing_key_generate, kycvs_signing_key_kid, kycvs_signing_key_public_jwk,
    kycvs_signing_key_public_key, kycvs_signing_key_to_pem,
};
pub use panic::kycvs__test_panic;
pub use registry::{
    kycvs_registry, kycvs_registry_free, kycvs_registry_from_jsonl, kycvs_registry_len,
    kycvs_registry_sample, kycvs_schedule, kycvs_schedule_default, kycvs_schedule_free,
    kycvs_schedule_from_json, kycvs_schedule_status,
};
pub use replay::{
    KYCVS_DEFAULT_REPLAY_CAPACITY, kycvs_replay_check, kycvs_replay_entry, kycvs_replay_guard,
    kycvs_replay_guard_free, kycvs_replay_guard_len, kycvs_replay_guard_new,
    kycvs_verifier_with_replay_callback, kycvs_verifier_with_replay_guard,
};
pub use trust::{
    kycvs_key_window, kycvs_trust_store, kycvs_trust_store_add, kycvs_trust_store_free,
    kycvs_trust_store_from_jwks, kycvs_trust_store_len, kycvs_trust_store_new,
};
pub use verify::{
    KYCVS_VERIFIED_STATUS_NONE, kycvs_str, kycvs_verified, kycvs_verified_aud, kycvs_verified_exp,
    kycvs_verified_free, kycvs_verified_iat, kycvs_verified_iss, kycvs_verified_jti,
    kycvs_verified_kid, kycvs_verified_nonce, kycvs_verified_status, kycvs_verified_sub,
    kycvs_verifier, kycvs_verifier_builder, kycvs_verifier_builder_add_issuer,
    kycvs_verifier_builder_build, kycvs_verifier_builder_disable_nonce_check,
    kycvs_verifier_builder_free, kycvs_verifier_builder_new, kycvs_verifier_builder_set_leeway,
    kycvs_verifier_builder_set_max_lifetime, kycvs_verifier_free, kycvs_verifier_verify,
};

use panic::ffi_panic_boundary;
use std::ffi::c_char;

// cbindgen writes only literal values and sums of named constants, so the limits are spelled
// out here and tied to the core's at compile time.

/// The most bytes in a token.
pub const KYCVS_MAX_TOKEN_LEN: usize = 4096;
/// The most bytes in `iss`, `sub` and `aud`.
pub const KYCVS_MAX_ID_LEN: usize = 256;
/// The most characters in `nonce`.
pub const KYCVS_MAX_NONCE_LEN: usize = 128;
/// The most characters in `kid`.
pub const KYCVS_MAX_KID_LEN: usize = 128;
/// The most characters in `jti`.
pub const KYCVS_MAX_JTI_LEN: usize = 128;
/// A buffer that holds any token and its NUL.
pub const KYCVS_TOKEN_BUF_LEN: usize = KYCVS_MAX_TOKEN_LEN + 1;
/// A buffer that holds any `iss`, `sub` or `aud` and its NUL.
pub const KYCVS_ID_BUF_LEN: usize = KYCVS_MAX_ID_LEN + 1;
/// A buffer that holds any `nonce` and its NUL.
pub const KYCVS_NONCE_BUF_LEN: usize = KYCVS_MAX_NONCE_LEN + 1;
/// A buffer that holds any `kid` and its NUL.
pub const KYCVS_KID_BUF_LEN: usize = KYCVS_MAX_KID_LEN + 1;
/// A buffer that holds any `jti` and its NUL.
pub const KYCVS_JTI_BUF_LEN: usize = KYCVS_MAX_JTI_LEN + 1;
/// The default token lifetime an issuer grants, in seconds.
pub const KYCVS_DEFAULT_TTL: u64 = 300;
/// The largest token lifetime an issuer grants, in seconds.
pub const KYCVS_MAX_TTL: u64 = 86_400;
/// The default clock-skew allowance of a verifier, in seconds.
pub const KYCVS_DEFAULT_LEEWAY: u64 = 60;
/// The default maximum token lifetime (`exp - iat`) of a verifier, in seconds.
pub const KYCVS_DEFAULT_MAX_LIFETIME: u64 = 3600;

const _: () = {
    assert!(KYCVS_MAX_TOKEN_LEN == kycvs_core::MAX_TOKEN_LEN);
    assert!(KYCVS_MAX_ID_LEN == kycvs_core::MAX_ID_LEN);
    assert!(KYCVS_MAX_NONCE_LEN == kycvs_core::MAX_NONCE_LEN);
    assert!(KYCVS_MAX_KID_LEN == kycvs_core::MAX_KID_LEN);
    assert!(KYCVS_MAX_JTI_LEN == kycvs_core::MAX_JTI_LEN);
    assert!(KYCVS_DEFAULT_TTL == kycvs_core::DEFAULT_TTL);
    assert!(KYCVS_MAX_TTL == kycvs_core::MAX_TTL);
    assert!(KYCVS_DEFAULT_LEEWAY == kycvs_core::DEFAULT_LEEWAY);
    assert!(KYCVS_DEFAULT_MAX_LIFETIME == kycvs_core::DEFAULT_MAX_LIFETIME);
};

/// The library version, e.g. `"0.1.0"`: static and NUL-terminated; do not free it.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_version() -> *const c_char {
    const VERSION: &[u8] = concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes();
    ffi_panic_boundary! {
        VERSION.as_ptr().cast()
    }
}

/// The curve arithmetic this process verifies and signs with, chosen once by CPUID:
/// `"avx512ifma"`, `"avx2"` or `"serial"`. Static and NUL-terminated; do not free it. The
/// library is built for generic x86-64 with all three compiled in; the choice changes only
/// the speed, never a verdict.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_backend() -> *const c_char {
    ffi_panic_boundary! {
        let name: &'static [u8] = match kycvs_core::backend() {
            kycvs_core::Backend::Avx512Ifma => b"avx512ifma\0",
            kycvs_core::Backend::Avx2 => b"avx2\0",
            kycvs_core::Backend::Serial => b"serial\0",
        };
        name.as_ptr().cast()
    }
}

/// Seconds since the Unix epoch by the system clock (0 if the clock is before 1970).
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_unix_now() -> u64 {
    ffi_panic_boundary! {
        kycvs_core::unix_now()
    }
}

#[cfg(test)]
mod tests;
