//! The one error type of kycvs, with stable codes shared by the C and Python layers.

use std::borrow::Cow;
use std::fmt;

mod codes;

pub use codes::ErrorCode;

impl ErrorCode {
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

    /// Written out by hand, not from the table: renumbering or renaming a code fails here.
    const PINNED: [(ErrorCode, u32, &str); 38] = [
        (ErrorCode::Malformed, 1, "malformed"),
        (ErrorCode::TooLarge, 2, "too_large"),
        (ErrorCode::UnsupportedAlgorithm, 3, "unsupported_algorithm"),
        (ErrorCode::BadHeader, 4, "bad_header"),
        (ErrorCode::UnknownKey, 5, "unknown_key"),
        (ErrorCode::BadSignature, 6, "bad_signature"),
        (ErrorCode::BadClaims, 7, "bad_claims"),
        (ErrorCode::IssuerMismatch, 8, "issuer_mismatch"),
        (ErrorCode::AudienceMismatch, 9, "audience_mismatch"),
        (ErrorCode::NonceMismatch, 10, "nonce_mismatch"),
        (ErrorCode::Expired, 11, "expired"),
        (ErrorCode::NotYetValid, 12, "not_yet_valid"),
        (ErrorCode::LifetimeTooLong, 13, "lifetime_too_long"),
        (ErrorCode::Replayed, 14, "replayed"),
        (ErrorCode::KeyNotValid, 15, "key_not_valid"),
        (ErrorCode::InvalidKey, 100, "invalid_key"),
        (ErrorCode::InvalidTrustStore, 101, "invalid_trust_store"),
        (ErrorCode::InvalidArgument, 102, "invalid_argument"),
        (ErrorCode::RandomSource, 103, "random_source"),
        (ErrorCode::InvalidBundle, 104, "invalid_bundle"),
        (ErrorCode::StaleBundle, 105, "stale_bundle"),
        (ErrorCode::BundleRollback, 106, "bundle_rollback"),
        (
            ErrorCode::ReplayStoreUnavailable,
            107,
            "replay_store_unavailable",
        ),
        (ErrorCode::InvalidRegistry, 150, "invalid_registry"),
        (ErrorCode::InvalidSchedule, 151, "invalid_schedule"),
        (ErrorCode::UnknownProduct, 152, "unknown_product"),
        (ErrorCode::InvalidDoseRecords, 153, "invalid_dose_records"),
        (ErrorCode::InvalidMobile, 154, "invalid_mobile"),
        (ErrorCode::ConsentNotFound, 160, "consent_not_found"),
        (ErrorCode::ConsentExpired, 161, "consent_expired"),
        (ErrorCode::OtpMismatch, 162, "otp_mismatch"),
        (ErrorCode::AttemptsExhausted, 163, "attempts_exhausted"),
        (ErrorCode::RateLimited, 164, "rate_limited"),
        (ErrorCode::ConsentStoreFull, 165, "consent_store_full"),
        (
            ErrorCode::ConsentStoreUnavailable,
            166,
            "consent_store_unavailable",
        ),
        (ErrorCode::NullArgument, 200, "null_argument"),
        (ErrorCode::BufferTooSmall, 201, "buffer_too_small"),
        (ErrorCode::Panic, 202, "panic"),
    ];

    #[test]
    fn numbers_and_names_are_stable() {
        assert_eq!(
            ErrorCode::ALL.len(),
            PINNED.len(),
            "a code was added or removed: pin it"
        );
        for (code, (pinned, number, name)) in ErrorCode::ALL.into_iter().zip(PINNED) {
            assert_eq!(code, pinned, "ALL is in numeric order");
            assert_eq!(code.number(), number, "{code:?}");
            assert_eq!(code.as_str(), name, "{code:?}");
        }
        assert!(ErrorCode::Expired.is_verification_failure());
        assert!(!ErrorCode::InvalidKey.is_verification_failure());
    }

    #[test]
    fn descriptions_are_one_plain_sentence() {
        for code in ErrorCode::ALL {
            let text = code.description();
            assert!(
                text.starts_with(|c: char| c.is_ascii_uppercase() || c == '`'),
                "{code:?}"
            );
            assert!(
                text.ends_with('.') && !text.contains('\n') && !text.contains("  "),
                "{code:?}"
            );
            assert!(!text.contains("[`"), "{code:?}: no doc links");
        }
        assert_eq!(
            ErrorCode::Expired.description(),
            "The token expired (`now >= exp + leeway`)."
        );
    }
}
