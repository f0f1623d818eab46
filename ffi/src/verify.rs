//! Verifier builders, verifiers and verified statuses.

use crate::error::{fail, kycvs_result};
use crate::ffi::{
    NullOrDefault, free_arc, free_box, handle, new_arc, new_box, try_bytes, try_mut, try_out,
    try_ref, try_str,
};
use crate::panic::{PanicOrDefault, ffi_panic_boundary};
use kycvs_core::{Policy, VerifiedStatus, Verifier};
use std::ffi::c_char;

/// Collects a verifier's policy: audience, accepted issuers, leeway, maximum lifetime, nonce
/// check.
/// Mutable; use from one thread at a time. Free with `kycvs_verifier_builder_free`.
pub struct kycvs_verifier_builder {
    _private: [u8; 0],
}

handle!(kycvs_verifier_builder => Box<Policy>);

/// Verifies tokens against a trust store and a policy. Immutable and thread-safe: share
/// one across threads. Free with `kycvs_verifier_free`.
pub struct kycvs_verifier {
    _private: [u8; 0],
}

handle!(kycvs_verifier => Arc<Verifier>);

/// A token that passed every check: its status and the claims that were verified. Made only
/// by `kycvs_verifier_verify` and `kycvs_verifier_verify_batch`; read it through the
/// `kycvs_verified_*` accessors (whose strings live as long as it does) and free it with
/// `kycvs_verified_free`. Immutable: may be read from many threads.
pub struct kycvs_verified {
    _private: [u8; 0],
}

handle!(kycvs_verified => Box<VerifiedStatus>);

/// Text borrowed from a kycvs object: `len` bytes at `data`, **not** NUL-terminated (print it
/// with `"%.*s", (int)s.len, s.data`). `data` is never NULL; it stays valid as long as the
/// object it came from.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kycvs_str {
    /// The first byte.
    pub data: *const c_char,
    /// The length in bytes.
    pub len: usize,
}

impl kycvs_str {
    fn of(text: &str) -> kycvs_str {
        kycvs_str {
            data: text.as_ptr().cast(),
            len: text.len(),
        }
    }
}

/// An accessor given a NULL handle, or one that caught a panic, answers the empty string.
impl NullOrDefault for kycvs_str {
    fn null_value() -> Self {
        kycvs_str::of("")
    }
}

impl PanicOrDefault for kycvs_str {
    fn panic_value() -> Self {
        kycvs_str::of("")
    }
}

/// The status of a NULL `kycvs_verified`: no status (not 0, 1 or 2).
pub const KYCVS_VERIFIED_STATUS_NONE: u8 = 0xff;

impl NullOrDefault for u8 {
    fn null_value() -> Self {
        KYCVS_VERIFIED_STATUS_NONE
    }
}

impl PanicOrDefault for u8 {
    fn panic_value() -> Self {
        KYCVS_VERIFIED_STATUS_NONE
    }
}

/// The vaccination status (`vs`): 0 not vaccinated, 1 partially, 2 fully vaccinated;
/// `KYCVS_VERIFIED_STATUS_NONE` for NULL.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_verified_status(verified: *const kycvs_verified) -> u8 {
    ffi_panic_boundary! {
        try_ref!(verified).status().as_u8()
    }
}

/// Issued at (`iat`), seconds since the Unix epoch; 0 for NULL.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_verified_iat(verified: *const kycvs_verified) -> u64 {
    ffi_panic_boundary! {
        try_ref!(verified).iat()
    }
}

/// Expiry (`exp`), seconds since the Unix epoch; 0 for NULL.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_verified_exp(verified: *const kycvs_verified) -> u64 {
    ffi_panic_boundary! {
        try_ref!(verified).exp()
    }
}

/// The issuer (`iss`), bound to the signing key; empty for NULL.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_verified_iss(verified: *const kycvs_verified) -> kycvs_str {
    ffi_panic_boundary! {
        kycvs_str::of(try_ref!(verified).iss())
    }
}

/// The pseudonymous subject (`sub`); empty for NULL.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_verified_sub(verified: *const kycvs_verified) -> kycvs_str {
    ffi_panic_boundary! {
        kycvs_str::of(try_ref!(verified).sub())
    }
}

/// The audience (`aud`), equal to the verifier's; empty for NULL.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_verified_aud(verified: *const kycvs_verified) -> kycvs_str {
    ffi_panic_boundary! {
        kycvs_str::of(try_ref!(verified).aud())
    }
}

/// The token id (`jti`); empty for NULL.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_verified_jti(verified: *const kycvs_verified) -> kycvs_str {
    ffi_panic_boundary! {
        kycvs_str::of(try_ref!(verified).jti())
    }
}

/// The token's nonce (`nonce`): the expected one, unless the nonce check was disabled; empty
/// for NULL.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_verified_nonce(verified: *const kycvs_verified) -> kycvs_str {
    ffi_panic_boundary! {
        kycvs_str::of(try_ref!(verified).nonce())
    }
}

/// The id of the key that signed the token (`kid`); empty for NULL.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_verified_kid(verified: *const kycvs_verified) -> kycvs_str {
    ffi_panic_boundary! {
        kycvs_str::of(try_ref!(verified).kid())
    }
}

/// Frees a verified status (and the strings its accessors gave). NULL does nothing.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_verified_free(verified: *mut kycvs_verified) {
    ffi_panic_boundary! {
        free_box(verified);
    }
}

/// Starts a verifier policy for the verifier `audience` (`audience_len` bytes of UTF-8; a
/// token's `aud` must equal it). Defaults: every issuer in the trust store is accepted,
/// leeway 60 s, maximum lifetime 3600 s, the nonce check required. Values are checked by `kycvs_verifier_builder_build`.
///
/// On success `*out` holds a new builder for `kycvs_verifier_builder_free`.
/// Errors: `KYCVS_RESULT_INVALID_ARGUMENT` (not UTF-8), `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_verifier_builder_new(
    audience: *const c_char,
    audience_len: usize,
    out: *mut *mut kycvs_verifier_builder,
) -> kycvs_result {
    ffi_panic_boundary! {
        let audience = try_str!(audience, audience_len);
        let out = try_out!(out);
        *out = new_box(Policy::new(audience));
        kycvs_result::Ok
    }
}

/// Adds `issuer` (`issuer_len` bytes of UTF-8) to the accepted issuers. Once one is added,
/// only tokens whose `iss` is an added issuer (and is bound to the signing key) pass.
///
/// Errors: `KYCVS_RESULT_INVALID_ARGUMENT` (not UTF-8), `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_verifier_builder_add_issuer(
    builder: *mut kycvs_verifier_builder,
    issuer: *const c_char,
    issuer_len: usize,
) -> kycvs_result {
    ffi_panic_boundary! {
        let policy = try_mut!(builder);
        let issuer = try_str!(issuer, issuer_len);
        policy.add_issuer(issuer);
        kycvs_result::Ok
    }
}

/// Sets the clock-skew allowance in seconds (0 to 3600; checked when built).
///
/// Errors: `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_verifier_builder_set_leeway(
    builder: *mut kycvs_verifier_builder,
    seconds: u64,
) -> kycvs_result {
    ffi_panic_boundary! {
        let policy = try_mut!(builder);
        policy.set_leeway(seconds);
        kycvs_result::Ok
    }
}

/// Sets the maximum token lifetime (`exp - iat`) in seconds (1 to 86400; checked when built).
///
/// Errors: `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_verifier_builder_set_max_lifetime(
    builder: *mut kycvs_verifier_builder,
    seconds: u64,
) -> kycvs_result {
    ffi_panic_boundary! {
        let policy = try_mut!(builder);
        policy.set_max_lifetime(seconds);
        kycvs_result::Ok
    }
}

/// Turns the nonce check off, for a verifier with no transaction to bind a token to: a NULL
/// nonce is then accepted by `kycvs_verifier_verify` and in batch items (without this they
/// are `KYCVS_RESULT_INVALID_ARGUMENT`). A nonce that is given is still checked.
///
/// Errors: `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_verifier_builder_disable_nonce_check(
    builder: *mut kycvs_verifier_builder,
) -> kycvs_result {
    ffi_panic_boundary! {
        let policy = try_mut!(builder);
        policy.disable_nonce_check();
        kycvs_result::Ok
    }
}

/// Builds a verifier from the builder's policy and a copy of `trust`. Neither argument is
/// consumed: the builder stays usable (to build more verifiers) and both must still be freed.
///
/// On success `*out` holds a new verifier for `kycvs_verifier_free`.
/// Errors: `KYCVS_RESULT_INVALID_ARGUMENT` (policy out of range: an audience or issuer that
/// is not 1 to 256 visible ASCII characters, leeway or lifetime out of range),
/// `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_verifier_builder_build(
    builder: *const kycvs_verifier_builder,
    trust: *const crate::trust::kycvs_trust_store,
    out: *mut *const kycvs_verifier,
) -> kycvs_result {
    ffi_panic_boundary! {
        let policy = try_ref!(builder);
        let trust = try_ref!(trust);
        let out = try_out!(out);
        match Verifier::new(trust.clone(), policy.clone()) {
            Ok(verifier) => {
                *out = new_arc(verifier);
                kycvs_result::Ok
            }
            Err(e) => fail(&e),
        }
    }
}

/// Frees a verifier builder. NULL does nothing.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_verifier_builder_free(builder: *mut kycvs_verifier_builder) {
    ffi_panic_boundary! {
        free_box(builder);
    }
}

/// Verifies `token` (`token_len` bytes) at time `now` (seconds since the Unix epoch; pass
/// `kycvs_unix_now()` for the system clock). The token's `nonce` must equal the `nonce_len`
/// bytes at `nonce`, the verifier's transaction. A NULL `nonce` (`nonce_len` ignored) skips
/// that check, and is `KYCVS_RESULT_INVALID_ARGUMENT` unless the builder called
/// `kycvs_verifier_builder_disable_nonce_check`.
///
/// On success `*out` holds a new `kycvs_verified` for `kycvs_verified_free`. The checks and
/// their order are those of the core (`docs/SPEC.md`).
/// Errors: every token verdict (`KYCVS_RESULT_MALFORMED` … `KYCVS_RESULT_REPLAYED`; a token
/// that is not UTF-8 is `KYCVS_RESULT_MALFORMED`), `KYCVS_RESULT_INVALID_ARGUMENT` (nonce not
/// UTF-8, or NULL where the nonce check is required), `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_verifier_verify(
    verifier: *const kycvs_verifier,
    token: *const c_char,
    token_len: usize,
    nonce: *const c_char,
    nonce_len: usize,
    now: u64,
    out: *mut *mut kycvs_verified,
) -> kycvs_result {
    ffi_panic_boundary! {
        let verifier = try_ref!(verifier);
        let token = try_bytes!(token, token_len);
        let nonce = if nonce.is_null() {
            None
        } else {
            Some(try_str!(nonce, nonce_len))
        };
        let out = try_out!(out);
        let verdict = match nonce {
            Some(nonce) => verifier.verify_bytes(token, nonce, now),
            None => verifier.verify_without_nonce(token, now),
        };
        match verdict {
            Ok(verified) => {
                *out = new_box(verified);
                kycvs_result::Ok
            }
            Err(e) => fail(&e),
        }
    }
}

/// Releases a verifier. NULL does nothing. Other threads must be done with it.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_verifier_free(verifier: *const kycvs_verifier) {
    ffi_panic_boundary! {
        free_arc(verifier);
    }
}
