//! Verifier builders, verifiers and verified statuses.

use crate::error::{fail, fail_with, kycvs_result};
use crate::ffi::{
    copy_to_array, free_arc, free_box, handle, new_arc, new_box, try_bytes, try_mut, try_out,
    try_ref, try_str,
};
use crate::panic::ffi_panic_boundary;
use crate::{KYCVS_ID_BUF_LEN, KYCVS_JTI_BUF_LEN, KYCVS_KID_BUF_LEN, KYCVS_NONCE_BUF_LEN};
use kycvs_core::{Policy, VerifiedStatus, Verifier};
use std::ffi::c_char;

/// Collects a verifier's policy: audience, accepted issuers, leeway, maximum lifetime.
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

/// A token that passed every check: its status and the claims that were verified.
///
/// Strings are NUL-terminated; the core admits only visible ASCII in `iss`, `sub`, `aud`,
/// `jti` and `kid`, and printable ASCII in `nonce`, so none holds a NUL of its own.
#[repr(C)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct kycvs_verified_status {
    /// The vaccination status (`vs`): 0 not vaccinated, 1 partially, 2 fully vaccinated.
    pub status: u8,
    /// Issued at (`iat`), seconds since the Unix epoch.
    pub iat: u64,
    /// Expiry (`exp`), seconds since the Unix epoch.
    pub exp: u64,
    /// The issuer (`iss`), bound to the signing key.
    pub iss: [c_char; KYCVS_ID_BUF_LEN],
    /// The pseudonymous subject (`sub`).
    pub sub: [c_char; KYCVS_ID_BUF_LEN],
    /// The audience (`aud`), equal to the verifier's.
    pub aud: [c_char; KYCVS_ID_BUF_LEN],
    /// The token id (`jti`).
    pub jti: [c_char; KYCVS_JTI_BUF_LEN],
    /// The nonce (`nonce`).
    pub nonce: [c_char; KYCVS_NONCE_BUF_LEN],
    /// The id of the key that signed the token.
    pub kid: [c_char; KYCVS_KID_BUF_LEN],
}

impl kycvs_verified_status {
    /// Converts a core result; `None` when a field is longer than its array, which the core's
    /// limits rule out.
    pub(crate) fn from_core(v: &VerifiedStatus) -> Option<kycvs_verified_status> {
        let mut out = kycvs_verified_status {
            status: v.status.as_u8(),
            iat: v.iat,
            exp: v.exp,
            iss: [0; KYCVS_ID_BUF_LEN],
            sub: [0; KYCVS_ID_BUF_LEN],
            aud: [0; KYCVS_ID_BUF_LEN],
            jti: [0; KYCVS_JTI_BUF_LEN],
            nonce: [0; KYCVS_NONCE_BUF_LEN],
            kid: [0; KYCVS_KID_BUF_LEN],
        };
        let fits = copy_to_array(&mut out.iss, &v.iss)
            && copy_to_array(&mut out.sub, &v.sub)
            && copy_to_array(&mut out.aud, &v.aud)
            && copy_to_array(&mut out.jti, &v.jti)
            && copy_to_array(&mut out.nonce, &v.nonce)
            && copy_to_array(&mut out.kid, &v.kid);
        fits.then_some(out)
    }
}

/// Starts a verifier policy for the verifier `audience` (`audience_len` bytes of UTF-8; a
/// token's `aud` must equal it). Defaults: every issuer in the trust store is accepted,
/// leeway 60 s, maximum lifetime 3600 s. Values are checked by `kycvs_verifier_builder_build`.
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
        let mut issuers = policy.issuers().map(<[String]>::to_vec).unwrap_or_default();
        issuers.push(issuer.to_owned());
        *policy = policy.clone().with_issuers(issuers);
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
        *policy = policy.clone().with_leeway(seconds);
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
        *policy = policy.clone().with_max_lifetime(seconds);
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
/// `kycvs_unix_now()` for the system clock). When `nonce` is not NULL, the token's `nonce`
/// must equal its `nonce_len` bytes; with NULL, `nonce_len` is ignored and any nonce passes.
///
/// On success writes `*out`. The checks and their order are those of the core (`docs/SPEC.md`).
/// Errors: every token verdict (`KYCVS_RESULT_MALFORMED` … `KYCVS_RESULT_LIFETIME_TOO_LONG`;
/// a token that is not UTF-8 is `KYCVS_RESULT_MALFORMED`), `KYCVS_RESULT_INVALID_ARGUMENT`
/// (nonce not UTF-8), `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_verifier_verify(
    verifier: *const kycvs_verifier,
    token: *const c_char,
    token_len: usize,
    nonce: *const c_char,
    nonce_len: usize,
    now: u64,
    out: *mut kycvs_verified_status,
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
        match verifier.verify_bytes(token, nonce, now) {
            Ok(verified) => match kycvs_verified_status::from_core(&verified) {
                Some(status) => {
                    *out = status;
                    kycvs_result::Ok
                }
                None => fail_with(
                    kycvs_result::Panic,
                    "a verified claim is longer than its kycvs_verified_status field",
                ),
            },
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
