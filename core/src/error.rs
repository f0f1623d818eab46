//! The one error type of kycvs, with stable codes shared by the C and Python layers.

use std::borrow::Cow;
use std::fmt;

/// Why an operation failed. Each variant has a stable number ([`ErrorCode::number`]) and a
/// stable name ([`ErrorCode::as_str`]); neither is ever reused for another meaning.
///
/// Numbers 1–99 are verdicts on a token, 100–149 errors in keys, trust stores, trust bundles
/// and arguments, 150–199 errors of the issuer side (registry, status rules, consent),
/// 200–299 failures of the C boundary itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[repr(u32)]
pub enum ErrorCode {
    /// The token is not three base64url segments of JSON objects, or has duplicate members.
    Malformed = 1,
    /// The token is longer than [`crate::MAX_TOKEN_LEN`] bytes.
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
    /// An argument is outside its documented range.
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
    /// The consent store cannot be used: its file cannot be locked, read or written, or is
    /// not a consent store file (the detail names the path and the cause).
    ConsentStoreUnavailable = 166,

    /// A required pointer argument was NULL (C layer only).
    NullArgument = 200,
    /// The caller's output buffer is too small (C layer only).
    BufferTooSmall = 201,
    /// A panic was caught at the language boundary; this is a bug in kycvs.
    Panic = 202,
}

impl ErrorCode {
    /// Every code, in numeric order.
    pub const ALL: [ErrorCode; 37] = [
        ErrorCode::Malformed,
        ErrorCode::TooLarge,
        ErrorCode::UnsupportedAlgorithm,
        ErrorCode::BadHeader,
        ErrorCode::UnknownKey,
        ErrorCode::BadSignature,
        ErrorCode::BadClaims,
        ErrorCode::IssuerMismatch,
        ErrorCode::AudienceMismatch,
        ErrorCode::NonceMismatch,
        ErrorCode::Expired,
        ErrorCode::NotYetValid,
        ErrorCode::LifetimeTooLong,
        ErrorCode::Replayed,
        ErrorCode::KeyNotValid,
        ErrorCode::InvalidKey,
        ErrorCode::InvalidTrustStore,
        ErrorCode::InvalidArgument,
        ErrorCode::RandomSource,
        ErrorCode::InvalidBundle,
        ErrorCode::StaleBundle,
        ErrorCode::BundleRollback,
        ErrorCode::InvalidRegistry,
        ErrorCode::InvalidSchedule,
        ErrorCode::UnknownProduct,
        ErrorCode::InvalidDoseRecords,
        ErrorCode::InvalidMobile,
        ErrorCode::ConsentNotFound,
        ErrorCode::ConsentExpired,
        ErrorCode::OtpMismatch,
        ErrorCode::AttemptsExhausted,
        ErrorCode::RateLimited,
        ErrorCode::ConsentStoreFull,
        ErrorCode::ConsentStoreUnavailable,
        ErrorCode::NullArgument,
        ErrorCode::BufferTooSmall,
        ErrorCode::Panic,
    ];

    /// The stable number of this code.
    pub const fn number(self) -> u32 {
        self as u32
    }

    /// The stable snake_case name of this code, as printed by the CLI and used by Python.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Malformed => "malformed",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::UnsupportedAlgorithm => "unsupported_algorithm",
            ErrorCode::BadHeader => "bad_header",
            ErrorCode::UnknownKey => "unknown_key",
            ErrorCode::BadSignature => "bad_signature",
            ErrorCode::BadClaims => "bad_claims",
            ErrorCode::IssuerMismatch => "issuer_mismatch",
            ErrorCode::AudienceMismatch => "audience_mismatch",
            ErrorCode::NonceMismatch => "nonce_mismatch",
            ErrorCode::Expired => "expired",
            ErrorCode::NotYetValid => "not_yet_valid",
            ErrorCode::LifetimeTooLong => "lifetime_too_long",
            ErrorCode::Replayed => "replayed",
            ErrorCode::KeyNotValid => "key_not_valid",
            ErrorCode::InvalidKey => "invalid_key",
            ErrorCode::InvalidTrustStore => "invalid_trust_store",
            ErrorCode::InvalidArgument => "invalid_argument",
            ErrorCode::RandomSource => "random_source",
            ErrorCode::InvalidBundle => "invalid_bundle",
            ErrorCode::StaleBundle => "stale_bundle",
            ErrorCode::BundleRollback => "bundle_rollback",
            ErrorCode::InvalidRegistry => "invalid_registry",
            ErrorCode::InvalidSchedule => "invalid_schedule",
            ErrorCode::UnknownProduct => "unknown_product",
            ErrorCode::InvalidDoseRecords => "invalid_dose_records",
            ErrorCode::InvalidMobile => "invalid_mobile",
            ErrorCode::ConsentNotFound => "consent_not_found",
            ErrorCode::ConsentExpired => "consent_expired",
            ErrorCode::OtpMismatch => "otp_mismatch",
            ErrorCode::AttemptsExhausted => "attempts_exhausted",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::ConsentStoreFull => "consent_store_full",
            ErrorCode::ConsentStoreUnavailable => "consent_store_unavailable",
            ErrorCode::NullArgument => "null_argument",
            ErrorCode::BufferTooSmall => "buffer_too_small",
            ErrorCode::Panic => "panic",
        }
    }

    /// Looks a code up by its stable name.
    pub fn from_name(name: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Looks a code up by its stable number.
    pub fn from_number(number: u32) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.number() == number)
    }

    /// True for the codes that are a verdict on a token (numbers 1–99).
    pub const fn is_verification_failure(self) -> bool {
        (self as u32) < 100
    }

    /// True for the codes by which the consent flow refuses a person's request, as opposed
    /// to a usage, configuration or system error: `consent_not_found`, `consent_expired`,
    /// `otp_mismatch`, `attempts_exhausted`, `rate_limited`, `consent_store_full`, and
    /// `unknown_product` / `invalid_dose_records` (a correct OTP for records that give no
    /// status). A front end answers these as a refusal (the CLI exits 1).
    pub const fn is_consent_refusal(self) -> bool {
        matches!(
            self,
            ErrorCode::ConsentNotFound
                | ErrorCode::ConsentExpired
                | ErrorCode::OtpMismatch
                | ErrorCode::AttemptsExhausted
                | ErrorCode::RateLimited
                | ErrorCode::ConsentStoreFull
                | ErrorCode::UnknownProduct
                | ErrorCode::InvalidDoseRecords
        )
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error from kycvs: a stable [`ErrorCode`] and a human-readable detail.
///
/// The detail never contains key material, OTPs or personal data; it may quote the claim or
/// member name at fault. Signature failures are deliberately coarse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    detail: Cow<'static, str>,
}

impl Error {
    /// Makes an error from a code and a detail.
    pub fn new(code: ErrorCode, detail: impl Into<Cow<'static, str>>) -> Self {
        Error {
            code,
            detail: detail.into(),
        }
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The human-readable detail (no secrets, no personal data).
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.detail)
    }
}

impl std::error::Error for Error {}

/// Shorthand for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

macro_rules! err {
    ($code:ident, $($arg:tt)+) => {
        $crate::error::Error::new($crate::error::ErrorCode::$code, format!($($arg)+))
    };
}
pub(crate) use err;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_are_unique_and_round_trip() {
        let mut names = std::collections::HashSet::new();
        let mut numbers = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(names.insert(code.as_str()), "duplicate name {code}");
            assert!(numbers.insert(code.number()), "duplicate number {code}");
            assert_eq!(ErrorCode::from_name(code.as_str()), Some(code));
            assert_eq!(ErrorCode::from_number(code.number()), Some(code));
        }
        assert_eq!(ErrorCode::from_name("nope"), None);
        assert_eq!(ErrorCode::from_number(0), None);
    }

    #[test]
    fn numbers_are_stable() {
        assert_eq!(ErrorCode::Malformed.number(), 1);
        assert_eq!(ErrorCode::LifetimeTooLong.number(), 13);
        assert_eq!(ErrorCode::Replayed.number(), 14);
        assert_eq!(ErrorCode::InvalidBundle.number(), 104);
        assert_eq!(ErrorCode::InvalidRegistry.number(), 150);
        assert_eq!(ErrorCode::ConsentNotFound.number(), 160);
        assert_eq!(ErrorCode::InvalidKey.number(), 100);
        assert_eq!(ErrorCode::Panic.number(), 202);
        assert!(ErrorCode::Expired.is_verification_failure());
        assert!(!ErrorCode::InvalidKey.is_verification_failure());
    }
}
