//! Result codes, the one mapping from the core's [`ErrorCode`], and the per-thread message of
//! the last failed call.

use crate::ffi::{try_buf, try_out};
use crate::panic::ffi_panic_boundary;
use kycvs_core::{Error, ErrorCode};
use std::cell::RefCell;
use std::ffi::{CString, c_char};
use std::sync::OnceLock;

/// The result of a kycvs call: `KYCVS_RESULT_OK` (0) or why it failed.
///
/// The numbers are those of the Rust core's `ErrorCode` and are never reused: 1–99 are
/// verdicts on a token, 100–149 errors in keys, trust stores, trust bundles and arguments,
/// 150–199 errors of the issuer side, 200–299 failures of the C boundary itself. `kycvs_result_name` gives each one's stable name.
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum kycvs_result {
    /// Success.
    Ok = 0,
    /// The token is not three base64url segments of JSON objects, or has duplicate members
    /// (also: the token is not UTF-8).
    Malformed = 1,
    /// The token is longer than `KYCVS_MAX_TOKEN_LEN` bytes.
    TooLarge = 2,
    /// The header names an algorithm other than `Ed25519` or `EdDSA`.
    UnsupportedAlgorithm = 3,
    /// The header is not exactly `alg`, `typ` = `kycvs+jwt` and a `kid` string.
    BadHeader = 4,
    /// No trusted key has the header's `kid`.
    UnknownKey = 5,
    /// The signature does not verify under the trusted key.
    BadSignature = 6,
    /// The claims are not exactly the v1 claims with their types and ranges.
    BadClaims = 7,
    /// `iss` is not the issuer bound to the key, or not an accepted issuer.
    IssuerMismatch = 8,
    /// `aud` is not the verifier's audience.
    AudienceMismatch = 9,
    /// `nonce` is not the nonce the verifier expected.
    NonceMismatch = 10,
    /// The token expired (`now >= exp + leeway`).
    Expired = 11,
    /// The token was issued in the future (`iat > now + leeway`).
    NotYetValid = 12,
    /// `exp - iat` exceeds the policy's maximum lifetime.
    LifetimeTooLong = 13,
    /// The token's `jti` was already presented to this verifier (replay guard).
    Replayed = 14,
    /// The token's `iat` lies outside its key's validity window (trust bundle).
    KeyNotValid = 15,
    /// A key could not be parsed or is not an acceptable Ed25519 key.
    InvalidKey = 100,
    /// A trust store (JWKS) could not be loaded.
    InvalidTrustStore = 101,
    /// An argument is outside its documented range, or a text argument is not UTF-8.
    InvalidArgument = 102,
    /// The operating system's random source failed.
    RandomSource = 103,
    /// A trust bundle is malformed or its signature does not verify under the root key.
    InvalidBundle = 104,
    /// A trust bundle is past its expiry (verifiers fail closed).
    StaleBundle = 105,
    /// A trust bundle's sequence number is lower than the last one accepted (rollback).
    BundleRollback = 106,
    /// A registry file or record is invalid (the detail names the line and the field).
    InvalidRegistry = 150,
    /// A vaccine schedule table is invalid.
    InvalidSchedule = 151,
    /// A dose record names a product that is not in the schedule table.
    UnknownProduct = 152,
    /// Dose records are inconsistent (for example a dose number of zero).
    InvalidDoseRecords = 153,
    /// A mobile number is not a valid Indian mobile number.
    InvalidMobile = 154,
    /// No pending consent has this id (unknown, completed, expired and evicted, or dead).
    ConsentNotFound = 160,
    /// The consent's OTP expired.
    ConsentExpired = 161,
    /// The OTP does not match.
    OtpMismatch = 162,
    /// Too many wrong OTPs: the consent is dead.
    AttemptsExhausted = 163,
    /// Too many consents were begun for this mobile number in the last hour.
    RateLimited = 164,
    /// The consent store is full of live consents.
    ConsentStoreFull = 165,
    /// The consent store's file cannot be locked, read or written, or is not a consent store.
    ConsentStoreUnavailable = 166,
    /// A required pointer argument was NULL.
    NullArgument = 200,
    /// The output buffer is too small; `*out_len` holds the size needed.
    BufferTooSmall = 201,
    /// A panic was caught at the C boundary; this is a bug in kycvs.
    Panic = 202,
}

/// The C result for a core error code: the one place where the two meet.
pub(crate) fn map_code(code: ErrorCode) -> kycvs_result {
    match code {
        ErrorCode::Malformed => kycvs_result::Malformed,
        ErrorCode::TooLarge => kycvs_result::TooLarge,
        ErrorCode::UnsupportedAlgorithm => kycvs_result::UnsupportedAlgorithm,
        ErrorCode::BadHeader => kycvs_result::BadHeader,
        ErrorCode::UnknownKey => kycvs_result::UnknownKey,
        ErrorCode::BadSignature => kycvs_result::BadSignature,
        ErrorCode::BadClaims => kycvs_result::BadClaims,
        ErrorCode::IssuerMismatch => kycvs_result::IssuerMismatch,
        ErrorCode::AudienceMismatch => kycvs_result::AudienceMismatch,
        ErrorCode::NonceMismatch => kycvs_result::NonceMismatch,
        ErrorCode::Expired => kycvs_result::Expired,
        ErrorCode::NotYetValid => kycvs_result::NotYetValid,
        ErrorCode::LifetimeTooLong => kycvs_result::LifetimeTooLong,
        ErrorCode::Replayed => kycvs_result::Replayed,
        ErrorCode::KeyNotValid => kycvs_result::KeyNotValid,
        ErrorCode::InvalidKey => kycvs_result::InvalidKey,
        ErrorCode::InvalidTrustStore => kycvs_result::InvalidTrustStore,
        ErrorCode::InvalidArgument => kycvs_result::InvalidArgument,
        ErrorCode::RandomSource => kycvs_result::RandomSource,
        ErrorCode::InvalidBundle => kycvs_result::InvalidBundle,
        ErrorCode::StaleBundle => kycvs_result::StaleBundle,
        ErrorCode::BundleRollback => kycvs_result::BundleRollback,
        ErrorCode::InvalidRegistry => kycvs_result::InvalidRegistry,
        ErrorCode::InvalidSchedule => kycvs_result::InvalidSchedule,
        ErrorCode::UnknownProduct => kycvs_result::UnknownProduct,
        ErrorCode::InvalidDoseRecords => kycvs_result::InvalidDoseRecords,
        ErrorCode::InvalidMobile => kycvs_result::InvalidMobile,
        ErrorCode::ConsentNotFound => kycvs_result::ConsentNotFound,
        ErrorCode::ConsentExpired => kycvs_result::ConsentExpired,
        ErrorCode::OtpMismatch => kycvs_result::OtpMismatch,
        ErrorCode::AttemptsExhausted => kycvs_result::AttemptsExhausted,
        ErrorCode::RateLimited => kycvs_result::RateLimited,
        ErrorCode::ConsentStoreFull => kycvs_result::ConsentStoreFull,
        ErrorCode::ConsentStoreUnavailable => kycvs_result::ConsentStoreUnavailable,
        ErrorCode::NullArgument => kycvs_result::NullArgument,
        ErrorCode::BufferTooSmall => kycvs_result::BufferTooSmall,
        ErrorCode::Panic => kycvs_result::Panic,
        // ErrorCode is non-exhaustive. A code added to the core without a C value fails the
        // `every_core_code_maps_to_its_number_and_name` test before it could get here.
        _ => kycvs_result::Panic,
    }
}

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Records `message` as this thread's last error.
pub(crate) fn set_last_error(message: impl Into<String>) {
    let message = message.into();
    LAST_ERROR.with(|last| *last.borrow_mut() = message);
}

/// This thread's last error message ("" when no call failed yet).
pub(crate) fn last_error() -> String {
    LAST_ERROR.with(|last| last.borrow().clone())
}

/// Records a core error (its code name and detail; the core keeps secrets out of details) and
/// returns its C result.
pub(crate) fn fail(err: &Error) -> kycvs_result {
    set_last_error(err.to_string());
    map_code(err.code())
}

/// Records a failure of the C boundary itself and returns `result`.
pub(crate) fn fail_with(result: kycvs_result, detail: &str) -> kycvs_result {
    set_last_error(format!("{}: {detail}", name_of(result as u32)));
    result
}

/// The NUL-terminated names of all results, built once from the core's names.
fn names() -> &'static [(u32, CString)] {
    static NAMES: OnceLock<Vec<(u32, CString)>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names = vec![(0, c"ok".to_owned())];
        for code in ErrorCode::ALL {
            // Core names are snake_case ASCII: never an interior NUL.
            if let Ok(name) = CString::new(code.as_str()) {
                names.push((code.number(), name));
            }
        }
        names
    })
}

fn name_of(result: u32) -> &'static str {
    names()
        .iter()
        .find(|(n, _)| *n == result)
        .and_then(|(_, name)| name.to_str().ok())
        .unwrap_or("unknown")
}

/// The stable name of a result: `"ok"`, `"malformed"`, …, `"panic"`, or `"unknown"` for a
/// number that is no `kycvs_result`. The string is static and NUL-terminated; do not free it.
///
/// `result` is a `kycvs_result` value, taken as a plain integer so that any number is safe.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_result_name(result: u32) -> *const c_char {
    ffi_panic_boundary! {
        names()
            .iter()
            .find(|(n, _)| *n == result)
            .map_or(c"unknown".as_ptr(), |(_, name)| name.as_ptr())
    }
}

/// Restores this thread's last error message when dropped, so that reading the message never
/// replaces it (a caller retrying with a larger buffer still gets the original message).
struct KeepLastError(String);

impl Drop for KeepLastError {
    fn drop(&mut self) {
        set_last_error(std::mem::take(&mut self.0));
    }
}

/// Copies the message of the last failed kycvs call on this thread into `buf`,
/// NUL-terminated, and sets `*out_len` to its length without the NUL ("" when no call failed
/// yet). The message names the result and why, e.g. `"bad_claims: claim sub is missing"`; it
/// never holds key material. A successful call does not clear it.
///
/// When `buf_len` is too small (0 included) returns `KYCVS_RESULT_BUFFER_TOO_SMALL` and sets
/// `*out_len` to the buffer size needed, NUL included. `buf` may be NULL only when `buf_len`
/// is 0. This function never changes the stored message, even when it fails.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_last_error_message(
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> kycvs_result {
    ffi_panic_boundary! {
        let keep = KeepLastError(last_error());
        let out_len = try_out!(out_len);
        let buf = try_buf!(buf, buf_len);
        match buf.copy(&keep.0) {
            Ok(written) => {
                *out_len = written;
                kycvs_result::Ok
            }
            Err(needed) => {
                *out_len = needed;
                kycvs_result::BufferTooSmall
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn name(result: u32) -> &'static str {
        unsafe { CStr::from_ptr(kycvs_result_name(result)) }
            .to_str()
            .unwrap()
    }

    #[test]
    fn every_core_code_maps_to_its_number_and_name() {
        for code in ErrorCode::ALL {
            let result = map_code(code);
            assert_eq!(result as u32, code.number(), "{code}");
            assert_eq!(name(result as u32), code.as_str());
        }
        assert_eq!(name(kycvs_result::Ok as u32), "ok");
        assert_eq!(name(99), "unknown");
        assert_eq!(name(u32::MAX), "unknown");
    }

    #[test]
    fn every_c_result_is_a_core_code_or_ok() {
        // Guards the other direction: no C value without a core code behind it.
        let all = [
            kycvs_result::Malformed,
            kycvs_result::TooLarge,
            kycvs_result::UnsupportedAlgorithm,
            kycvs_result::BadHeader,
            kycvs_result::UnknownKey,
            kycvs_result::BadSignature,
            kycvs_result::BadClaims,
            kycvs_result::IssuerMismatch,
            kycvs_result::AudienceMismatch,
            kycvs_result::NonceMismatch,
            kycvs_result::Expired,
            kycvs_result::NotYetValid,
            kycvs_result::LifetimeTooLong,
            kycvs_result::Replayed,
            kycvs_result::KeyNotValid,
            kycvs_result::InvalidKey,
            kycvs_result::InvalidTrustStore,
            kycvs_result::InvalidArgument,
            kycvs_result::RandomSource,
            kycvs_result::InvalidBundle,
            kycvs_result::StaleBundle,
            kycvs_result::BundleRollback,
            kycvs_result::InvalidRegistry,
            kycvs_result::InvalidSchedule,
            kycvs_result::UnknownProduct,
            kycvs_result::InvalidDoseRecords,
            kycvs_result::InvalidMobile,
            kycvs_result::ConsentNotFound,
            kycvs_result::ConsentExpired,
            kycvs_result::OtpMismatch,
            kycvs_result::AttemptsExhausted,
            kycvs_result::RateLimited,
            kycvs_result::ConsentStoreFull,
            kycvs_result::ConsentStoreUnavailable,
            kycvs_result::NullArgument,
            kycvs_result::BufferTooSmall,
            kycvs_result::Panic,
        ];
        assert_eq!(all.len(), ErrorCode::ALL.len());
        for result in all {
            let code = ErrorCode::from_number(result as u32).expect("a core code");
            assert_eq!(map_code(code), result);
        }
    }

    #[test]
    fn fail_records_code_and_detail() {
        let err = Error::new(ErrorCode::BadClaims, "claim sub is missing");
        assert_eq!(fail(&err), kycvs_result::BadClaims);
        assert_eq!(last_error(), "bad_claims: claim sub is missing");
        assert_eq!(
            fail_with(kycvs_result::NullArgument, "argument `out` is NULL"),
            kycvs_result::NullArgument
        );
        assert_eq!(last_error(), "null_argument: argument `out` is NULL");
    }

    #[test]
    fn last_error_message_copies_and_guards_small_buffers() {
        set_last_error("expired: expired 5 s ago");
        let mut out_len = 99usize;
        // Zero-length buffer, NULL allowed: only the size.
        let r = kycvs_last_error_message(std::ptr::null_mut(), 0, &mut out_len);
        assert_eq!((r, out_len), (kycvs_result::BufferTooSmall, 25));
        let mut small = [0 as c_char; 10];
        let r = kycvs_last_error_message(small.as_mut_ptr(), small.len(), &mut out_len);
        assert_eq!((r, out_len), (kycvs_result::BufferTooSmall, 25));
        assert_eq!(small, [0; 10], "nothing written on failure");
        // The failures above did not replace the message.
        let mut buf = [0x55 as c_char; 25];
        let r = kycvs_last_error_message(buf.as_mut_ptr(), buf.len(), &mut out_len);
        assert_eq!((r, out_len), (kycvs_result::Ok, 24));
        let text = unsafe { CStr::from_ptr(buf.as_ptr()) };
        assert_eq!(text.to_str().unwrap(), "expired: expired 5 s ago");
        // NULL out_len.
        let r = kycvs_last_error_message(buf.as_mut_ptr(), buf.len(), std::ptr::null_mut());
        assert_eq!(r, kycvs_result::NullArgument);
        assert_eq!(last_error(), "expired: expired 5 s ago");
    }
}
