//! Issuers: claims in, signed status token out.

use crate::error::{fail, kycvs_result};
use crate::ffi::{free_box, handle, new_box, try_buf, try_out, try_ref, try_str};
use crate::keys::kycvs_signing_key;
use crate::panic::ffi_panic_boundary;
use kycvs_core::{Algorithm, Issuer, TokenRequest, VaccinationStatus};
use std::ffi::c_char;

/// Signs status tokens with one key for one issuer id. Immutable once made: several
/// threads may issue with one issuer at once. Free with `kycvs_issuer_free`.
pub struct kycvs_issuer {
    _private: [u8; 0],
}

handle!(kycvs_issuer => Box<Issuer>);

/// Makes an issuer that signs as `issuer` (`issuer_len` bytes of UTF-8, the `iss` claim) with
/// a copy of `key` (the caller still owns and frees `key`). The header's `alg` is `Ed25519`,
/// or `EdDSA` when `legacy_alg` is true (for older JOSE libraries).
///
/// On success `*out` holds a new issuer for `kycvs_issuer_free`.
/// Errors: `KYCVS_RESULT_INVALID_ARGUMENT` (issuer not 1 to 256 visible ASCII characters),
/// `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_issuer_new(
    key: *const kycvs_signing_key,
    issuer: *const c_char,
    issuer_len: usize,
    legacy_alg: bool,
    out: *mut *mut kycvs_issuer,
) -> kycvs_result {
    ffi_panic_boundary! {
        let key = try_ref!(key);
        let issuer = try_str!(issuer, issuer_len);
        let out = try_out!(out);
        match Issuer::new(key.clone(), issuer) {
            Ok(made) => {
                let made = if legacy_alg { made.with_algorithm(Algorithm::EdDSA) } else { made };
                *out = new_box(made);
                kycvs_result::Ok
            }
            Err(e) => fail(&e),
        }
    }
}

/// Issues a token at time `now` (seconds since the Unix epoch) for the verifier `audience`,
/// its transaction reference `nonce` (1 to 128 printable ASCII characters) and the
/// pseudonymous `subject`, attesting `status` (0, 1 or 2), valid for `ttl` seconds (1 to
/// 86400). Text arguments are `ptr, len` pairs of UTF-8. Writes the token into `buf`,
/// NUL-terminated, and sets `*out_len` to its length without the NUL; a buffer of
/// `KYCVS_TOKEN_BUF_LEN` bytes always suffices.
///
/// Errors: `KYCVS_RESULT_INVALID_ARGUMENT` (a value out of range or not UTF-8),
/// `KYCVS_RESULT_RANDOM_SOURCE`, `KYCVS_RESULT_BUFFER_TOO_SMALL` with `*out_len` = the size
/// needed, NUL included (the token is discarded; `buf` may be NULL when `buf_len` is 0),
/// `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn kycvs_issuer_issue(
    issuer: *const kycvs_issuer,
    audience: *const c_char,
    audience_len: usize,
    nonce: *const c_char,
    nonce_len: usize,
    subject: *const c_char,
    subject_len: usize,
    status: u8,
    ttl: u64,
    now: u64,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> kycvs_result {
    ffi_panic_boundary! {
        let issuer = try_ref!(issuer);
        let audience = try_str!(audience, audience_len);
        let nonce = try_str!(nonce, nonce_len);
        let subject = try_str!(subject, subject_len);
        let buf = try_buf!(buf, buf_len);
        let out_len = try_out!(out_len);
        let status = match VaccinationStatus::try_from(u64::from(status)) {
            Ok(status) => status,
            Err(e) => return fail(&e),
        };
        let request = TokenRequest { audience, nonce, subject, status, ttl };
        match issuer.issue(&request, now) {
            Ok(token) => buf.write(&token, out_len),
            Err(e) => fail(&e),
        }
    }
}

/// Frees an issuer and zeroizes its key. NULL does nothing.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_issuer_free(issuer: *mut kycvs_issuer) {
    ffi_panic_boundary! {
        free_box(issuer);
    }
}
