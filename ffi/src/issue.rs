//! Issuers: claims in, signed status token out.

use crate::error::{fail, kycvs_result};
use crate::ffi::{free_box, handle, new_box, try_buf, try_in, try_out, try_ref, try_str};
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

/// The name an issuer writes in a token header's `alg`; both mean Ed25519.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum kycvs_algorithm {
    /// `"Ed25519"` (RFC 9864), the default.
    Ed25519 = 0,
    /// `"EdDSA"` (RFC 8037), for older JOSE libraries.
    EdDSA = 1,
}

const _: () = {
    assert!(kycvs_algorithm::Ed25519 as u32 == Algorithm::Ed25519.number());
    assert!(kycvs_algorithm::EdDSA as u32 == Algorithm::EdDSA.number());
};

/// One token to issue, for `kycvs_issuer_issue`. Text fields are `ptr, len` pairs of UTF-8.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kycvs_token_request {
    /// The verifier's id (`aud`), 1 to 256 visible ASCII characters.
    pub audience: *const c_char,
    /// `audience`'s length in bytes.
    pub audience_len: usize,
    /// The verifier's transaction reference (`nonce`), 1 to 128 printable ASCII characters.
    pub nonce: *const c_char,
    /// `nonce`'s length in bytes.
    pub nonce_len: usize,
    /// The pseudonymous subject (`sub`), 1 to 256 visible ASCII characters.
    pub subject: *const c_char,
    /// `subject`'s length in bytes.
    pub subject_len: usize,
    /// The status (`vs`): 0 not vaccinated, 1 partially, 2 fully vaccinated.
    pub status: u8,
    /// How long the token is valid, in seconds (1 to 86400).
    pub ttl: u64,
}

/// Makes an issuer that signs as `issuer` (`issuer_len` bytes of UTF-8, the `iss` claim) with
/// a copy of `key` (the caller still owns and frees `key`), naming `alg` in its headers.
///
/// On success `*out` holds a new issuer for `kycvs_issuer_free`.
/// Errors: `KYCVS_RESULT_INVALID_ARGUMENT` (issuer not 1 to 256 visible ASCII characters, or
/// `alg` not a `kycvs_algorithm`), `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_issuer_new(
    key: *const kycvs_signing_key,
    issuer: *const c_char,
    issuer_len: usize,
    alg: u32,
    out: *mut *mut kycvs_issuer,
) -> kycvs_result {
    ffi_panic_boundary! {
        let key = try_ref!(key);
        let issuer = try_str!(issuer, issuer_len);
        let out = try_out!(out);
        let made = Algorithm::from_number(alg)
            .and_then(|alg| Ok(Issuer::new(key.clone(), issuer)?.with_algorithm(alg)));
        match made {
            Ok(made) => {
                *out = new_box(made);
                kycvs_result::Ok
            }
            Err(e) => fail(&e),
        }
    }
}

/// Issues the token `request` describes at time `now` (seconds since the Unix epoch). Writes
/// the token into `buf`, NUL-terminated, and sets `*out_len` to its length without the NUL; a
/// buffer of `KYCVS_TOKEN_BUF_LEN` bytes always suffices.
///
/// Errors: `KYCVS_RESULT_INVALID_ARGUMENT` (a value out of range or not UTF-8),
/// `KYCVS_RESULT_RANDOM_SOURCE`, `KYCVS_RESULT_BUFFER_TOO_SMALL` with `*out_len` = the size
/// needed, NUL included (the token is discarded; `buf` may be NULL when `buf_len` is 0),
/// `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_issuer_issue(
    issuer: *const kycvs_issuer,
    request: *const kycvs_token_request,
    now: u64,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> kycvs_result {
    ffi_panic_boundary! {
        let issuer = try_ref!(issuer);
        let request = try_in!(request);
        let (audience, audience_len) = (request.audience, request.audience_len);
        let (nonce, nonce_len) = (request.nonce, request.nonce_len);
        let (subject, subject_len) = (request.subject, request.subject_len);
        let audience = try_str!(audience, audience_len);
        let nonce = try_str!(nonce, nonce_len);
        let subject = try_str!(subject, subject_len);
        let buf = try_buf!(buf, buf_len);
        let out_len = try_out!(out_len);
        let issued = VaccinationStatus::try_from(u64::from(request.status)).and_then(|status| {
            let request = TokenRequest { audience, nonce, subject, status, ttl: request.ttl };
            issuer.issue(&request, now)
        });
        match issued {
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
