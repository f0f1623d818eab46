//! The table of error codes: the one place where a code's variant, number, name, description
//! and Python exception class are written.
//!
//! Everything else is derived from it: [`ErrorCode`] and its methods by the macro below, and
//! the C enum `kycvs_result`, the Python exception classes and the specification's table by
//! `kycvs-codegen` (`make codegen`), which reads [`ErrorCode::ALL`].
//!
//! A row reads `Variant = number, "name", [PythonClass, Base, ...]` under its one-line doc;
//! `[]` means the code has no Python class of its own (it can only arise in C). Numbers and
//! names are never changed or reused; `numbers_and_names_are_stable` in `error.rs` pins them.

/// Expands the table into [`ErrorCode`], [`ErrorCode::ALL`] and the per-code lookups.
macro_rules! error_codes {
    (
        $(#[$enum_attr:meta])*
        pub enum $name:ident {
            $(
                $(#[doc = $doc:literal])+
                $variant:ident = $number:literal, $code:literal, [$($python:ident),*];
            )+
        }
    ) => {
        $(#[$enum_attr])*
        pub enum $name {
            $(
                $(#[doc = $doc])+
                $variant = $number,
            )+
        }

        impl $name {
            /// Every code, in numeric order.
            pub const ALL: [$name; [$($number),+].len()] = [$($name::$variant),+];

            /// The stable number of this code.
            pub const fn number(self) -> u32 {
                self as u32
            }

            /// The stable snake_case name of this code, as printed by the CLI and used by
            /// Python.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)+
                }
            }

            /// One sentence saying what this code means (its documentation, as plain text
            /// with `backquoted` names).
            pub const fn description(self) -> &'static str {
                match self {
                    $($name::$variant => concat!($($doc),+).trim_ascii_start(),)+
                }
            }


            /// The Python exception class of this code and its base classes, for the
            /// generated Python layer; `None` for the codes that only arise in C.
            #[doc(hidden)]
            pub const fn python_class(self) -> Option<(&'static str, &'static [&'static str])> {
                match self {
                    $($name::$variant => error_codes!(@python [$($python),*]),)+
                }
            }
        }
    };
    (@python []) => {
        None
    };
    (@python [$class:ident $(, $base:ident)+]) => {
        Some((stringify!($class), &[$(stringify!($base)),+]))
    };
}

error_codes! {
    /// Why an operation failed. Each variant has a stable number ([`ErrorCode::number`]) and a
    /// stable name ([`ErrorCode::as_str`]); neither is ever reused for another meaning.
    ///
    /// Numbers 1–99 are verdicts on a token, 100–149 errors in keys, trust stores, trust
    /// bundles and arguments, 150–199 errors of the issuer side (registry, status rules,
    /// consent), 200–299 failures of the C boundary itself.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    #[non_exhaustive]
    #[repr(u32)]
    pub enum ErrorCode {
        /// The token is not three base64url segments of JSON objects, has duplicate members, or is not UTF-8.
        Malformed = 1, "malformed", [MalformedError, VerificationError];
        /// The token is longer than the maximum token length, 4096 bytes.
        TooLarge = 2, "too_large", [TooLargeError, VerificationError];
        /// The header names an algorithm other than `Ed25519` or `EdDSA`.
        UnsupportedAlgorithm = 3, "unsupported_algorithm", [UnsupportedAlgorithmError, VerificationError];
        /// The header is not exactly `alg`, `typ` = `kycvs+jwt` and a `kid` string.
        BadHeader = 4, "bad_header", [BadHeaderError, VerificationError];
        /// No trusted key has the header's `kid`.
        UnknownKey = 5, "unknown_key", [UnknownKeyError, VerificationError];
        /// The signature does not verify under the trusted key.
        BadSignature = 6, "bad_signature", [BadSignatureError, VerificationError];
        /// The claims are not exactly the v1 claims with their types and ranges.
        BadClaims = 7, "bad_claims", [BadClaimsError, VerificationError];
        /// `iss` is not the issuer bound to the key, or not an accepted issuer.
        IssuerMismatch = 8, "issuer_mismatch", [IssuerMismatchError, VerificationError];
        /// `aud` is not the verifier's audience.
        AudienceMismatch = 9, "audience_mismatch", [AudienceMismatchError, VerificationError];
        /// `nonce` is not the nonce the verifier expected.
        NonceMismatch = 10, "nonce_mismatch", [NonceMismatchError, VerificationError];
        /// The token expired (`now >= exp + leeway`).
        Expired = 11, "expired", [ExpiredError, VerificationError];
        /// The token was issued in the future (`iat > now + leeway`).
        NotYetValid = 12, "not_yet_valid", [NotYetValidError, VerificationError];
        /// `exp - iat` exceeds the policy's maximum lifetime.
        LifetimeTooLong = 13, "lifetime_too_long", [LifetimeTooLongError, VerificationError];
        /// The token's `jti` was already presented to this verifier (replay guard).
        Replayed = 14, "replayed", [ReplayedError, VerificationError];
        /// The token's `iat` lies outside its key's validity window (trust bundle).
        KeyNotValid = 15, "key_not_valid", [KeyNotValidError, VerificationError];

        /// A key could not be parsed or is not an acceptable Ed25519 key.
        InvalidKey = 100, "invalid_key", [InvalidKeyError, KycvsError, ValueError];
        /// A trust store (JWKS) could not be loaded.
        InvalidTrustStore = 101, "invalid_trust_store", [InvalidTrustStoreError, KycvsError, ValueError];
        /// An argument is outside its documented range, or a text argument is not UTF-8.
        InvalidArgument = 102, "invalid_argument", [InvalidArgumentError, KycvsError, ValueError];
        /// The operating system's random source failed.
        RandomSource = 103, "random_source", [RandomSourceError, KycvsError, OSError];
        /// A trust bundle is malformed or its signature does not verify under the root key.
        InvalidBundle = 104, "invalid_bundle", [InvalidBundleError, KycvsError, ValueError];
        /// A trust bundle is past its expiry (verifiers fail closed).
        StaleBundle = 105, "stale_bundle", [StaleBundleError, KycvsError, ValueError];
        /// A trust bundle's sequence number is lower than the last one accepted (rollback).
        BundleRollback = 106, "bundle_rollback", [BundleRollbackError, KycvsError, ValueError];
        /// The verifier's replay store failed or did not answer (a shared store out of reach,
        /// a callback that failed): the token is not accepted (fail closed).
        ReplayStoreUnavailable = 107, "replay_store_unavailable", [ReplayStoreUnavailableError, KycvsError, OSError];

        /// A registry file or record is invalid (the detail names the line and the field).
        InvalidRegistry = 150, "invalid_registry", [InvalidRegistryError, KycvsError, ValueError];
        /// A vaccine schedule table is invalid.
        InvalidSchedule = 151, "invalid_schedule", [InvalidScheduleError, KycvsError, ValueError];
        /// A dose record names a product that is not in the schedule table.
        UnknownProduct = 152, "unknown_product", [UnknownProductError, KycvsError, ValueError];
        /// Dose records are inconsistent (for example a dose number of zero).
        InvalidDoseRecords = 153, "invalid_dose_records", [InvalidDoseRecordsError, KycvsError, ValueError];
        /// A mobile number is not a valid Indian mobile number.
        InvalidMobile = 154, "invalid_mobile", [InvalidMobileError, KycvsError, ValueError];
        /// No pending consent has this id (unknown, completed, expired and evicted, or dead).
        ConsentNotFound = 160, "consent_not_found", [ConsentNotFoundError, ConsentError];
        /// The consent's OTP expired.
        ConsentExpired = 161, "consent_expired", [ConsentExpiredError, ConsentError];
        /// The OTP does not match.
        OtpMismatch = 162, "otp_mismatch", [OtpMismatchError, ConsentError];
        /// Too many wrong OTPs: the consent is dead.
        AttemptsExhausted = 163, "attempts_exhausted", [AttemptsExhaustedError, ConsentError];
        /// Too many consents were begun for this mobile number in the last hour.
        RateLimited = 164, "rate_limited", [RateLimitedError, ConsentError];
        /// The consent store is full of live consents.
        ConsentStoreFull = 165, "consent_store_full", [ConsentStoreFullError, ConsentError];
        /// The consent store cannot be used: its file cannot be locked, read or written, or is not a consent store file (the detail names the path and the cause).
        ConsentStoreUnavailable = 166, "consent_store_unavailable", [ConsentStoreUnavailableError, ConsentError];

        /// A required pointer argument was NULL (C layer only).
        NullArgument = 200, "null_argument", [];
        /// The caller's output buffer is too small; `*out_len` holds the size needed (C layer only).
        BufferTooSmall = 201, "buffer_too_small", [];
        /// A panic was caught at the language boundary; this is a bug in kycvs.
        Panic = 202, "panic", [InternalError, KycvsError, RuntimeError];
    }
}
