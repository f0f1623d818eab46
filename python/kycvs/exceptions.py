"""The exceptions of kycvs.

Every error is a :class:`KycvsError` with a stable string ``code`` and number ``number``
(the core's error codes, listed in ``kycvs.ERROR_CODES``). A verdict on a token is a
:class:`VerificationError` (also a :class:`ValueError`), one subclass per reason.

The native module raises these classes by looking the core's code name up in
:data:`EXCEPTIONS_BY_CODE`.
"""

from __future__ import annotations

from ._kycvs import ERROR_CODES as _NUMBERS

__all__ = [
    "AttemptsExhaustedError",
    "AudienceMismatchError",
    "BadClaimsError",
    "BadHeaderError",
    "BadSignatureError",
    "BundleRollbackError",
    "ConsentError",
    "ConsentExpiredError",
    "ConsentNotFoundError",
    "ConsentStoreFullError",
    "ConsentStoreUnavailableError",
    "EXCEPTIONS_BY_CODE",
    "ExpiredError",
    "InternalError",
    "InvalidArgumentError",
    "InvalidBundleError",
    "InvalidDoseRecordsError",
    "InvalidKeyError",
    "InvalidMobileError",
    "InvalidRegistryError",
    "InvalidScheduleError",
    "InvalidTrustStoreError",
    "IssuerMismatchError",
    "KeyNotValidError",
    "KycvsError",
    "LifetimeTooLongError",
    "MalformedError",
    "NonceMismatchError",
    "NotYetValidError",
    "OtpMismatchError",
    "RandomSourceError",
    "RateLimitedError",
    "ReplayedError",
    "StaleBundleError",
    "TooLargeError",
    "UnknownKeyError",
    "UnknownProductError",
    "UnsupportedAlgorithmError",
    "VerificationError",
]


class KycvsError(Exception):
    """Base class of every kycvs error.

    ``code`` is the stable code name (for example ``"expired"``) and ``number`` its stable
    number; an instance raised by kycvs carries the exact code of the failure. Each concrete
    class has its code as a class attribute too; the two base classes have ``""`` and ``0``.
    """

    code: str = ""
    number: int = 0


class VerificationError(KycvsError, ValueError):
    """A token failed verification; the subclass and ``code`` say which check failed."""


class MalformedError(VerificationError):
    """The token is not three base64url segments of strict JSON objects."""

    code = "malformed"


class TooLargeError(VerificationError):
    """The token is longer than the maximum token length."""

    code = "too_large"


class UnsupportedAlgorithmError(VerificationError):
    """The header names an algorithm other than ``Ed25519`` or ``EdDSA``."""

    code = "unsupported_algorithm"


class BadHeaderError(VerificationError):
    """The header is not exactly ``alg``, ``typ`` = ``kycvs+jwt`` and ``kid``."""

    code = "bad_header"


class UnknownKeyError(VerificationError):
    """No trusted key has the header's ``kid``."""

    code = "unknown_key"


class BadSignatureError(VerificationError):
    """The signature does not verify under the trusted key."""

    code = "bad_signature"


class BadClaimsError(VerificationError):
    """The claims are not exactly the v1 claims with their types and ranges."""

    code = "bad_claims"


class IssuerMismatchError(VerificationError):
    """``iss`` is not the issuer bound to the key, or not an accepted issuer."""

    code = "issuer_mismatch"


class AudienceMismatchError(VerificationError):
    """``aud`` is not this verifier's audience."""

    code = "audience_mismatch"


class NonceMismatchError(VerificationError):
    """``nonce`` is not the nonce the verifier expected."""

    code = "nonce_mismatch"


class ExpiredError(VerificationError):
    """The token expired (beyond the leeway)."""

    code = "expired"


class NotYetValidError(VerificationError):
    """The token was issued in the future (beyond the leeway)."""

    code = "not_yet_valid"


class LifetimeTooLongError(VerificationError):
    """``exp - iat`` exceeds the verifier's maximum lifetime."""

    code = "lifetime_too_long"


class InvalidKeyError(KycvsError, ValueError):
    """A key could not be parsed or is not an acceptable Ed25519 key."""

    code = "invalid_key"


class InvalidTrustStoreError(KycvsError, ValueError):
    """A trust store (JWKS) could not be loaded."""

    code = "invalid_trust_store"


class InvalidArgumentError(KycvsError, ValueError):
    """An argument is outside its documented range."""

    code = "invalid_argument"


class RandomSourceError(KycvsError, OSError):
    """The operating system's random source failed."""

    code = "random_source"


class ConsentError(KycvsError):
    """An OTP consent could not be completed; the subclass and ``code`` say why."""


class ReplayedError(VerificationError):
    """The token's ``jti`` was already presented to this verifier (replay guard)."""

    code = "replayed"


class KeyNotValidError(VerificationError):
    """The token's ``iat`` lies outside its key's validity window (trust bundle)."""

    code = "key_not_valid"


class InvalidBundleError(KycvsError, ValueError):
    """A trust bundle is malformed or its signature does not verify under the root key."""

    code = "invalid_bundle"


class StaleBundleError(KycvsError, ValueError):
    """A trust bundle is past its expiry (verifiers fail closed)."""

    code = "stale_bundle"


class BundleRollbackError(KycvsError, ValueError):
    """A trust bundle's sequence number is lower than the last one accepted."""

    code = "bundle_rollback"


class InvalidRegistryError(KycvsError, ValueError):
    """A registry file or record is invalid; the message names the line and the field."""

    code = "invalid_registry"


class InvalidScheduleError(KycvsError, ValueError):
    """A vaccine schedule table is invalid."""

    code = "invalid_schedule"


class UnknownProductError(KycvsError, ValueError):
    """A dose record names a product that is not in the schedule table."""

    code = "unknown_product"


class InvalidDoseRecordsError(KycvsError, ValueError):
    """Dose records are inconsistent."""

    code = "invalid_dose_records"


class InvalidMobileError(KycvsError, ValueError):
    """A mobile number is not a valid Indian mobile number."""

    code = "invalid_mobile"


class ConsentNotFoundError(ConsentError):
    """No pending consent has this id."""

    code = "consent_not_found"


class ConsentExpiredError(ConsentError):
    """The consent's OTP expired."""

    code = "consent_expired"


class OtpMismatchError(ConsentError):
    """The OTP does not match."""

    code = "otp_mismatch"


class AttemptsExhaustedError(ConsentError):
    """Too many wrong OTPs: the consent is dead."""

    code = "attempts_exhausted"


class RateLimitedError(ConsentError):
    """Too many consents were begun for this mobile number in the last hour."""

    code = "rate_limited"


class ConsentStoreFullError(ConsentError):
    """The consent store is full of live consents."""

    code = "consent_store_full"


class ConsentStoreUnavailableError(ConsentError):
    """The consent store's file cannot be locked, read or written, or is not a consent store."""

    code = "consent_store_unavailable"


class InternalError(KycvsError, RuntimeError):
    """A bug in kycvs (a caught panic); please report it."""

    code = "panic"


EXCEPTIONS_BY_CODE: dict[str, type[KycvsError]] = {
    cls.code: cls
    for cls in (
        MalformedError,
        TooLargeError,
        UnsupportedAlgorithmError,
        BadHeaderError,
        UnknownKeyError,
        BadSignatureError,
        BadClaimsError,
        IssuerMismatchError,
        AudienceMismatchError,
        NonceMismatchError,
        ExpiredError,
        NotYetValidError,
        LifetimeTooLongError,
        InvalidKeyError,
        InvalidTrustStoreError,
        InvalidArgumentError,
        RandomSourceError,
        ReplayedError,
        KeyNotValidError,
        InvalidBundleError,
        StaleBundleError,
        BundleRollbackError,
        InvalidRegistryError,
        InvalidScheduleError,
        UnknownProductError,
        InvalidDoseRecordsError,
        InvalidMobileError,
        ConsentNotFoundError,
        ConsentExpiredError,
        OtpMismatchError,
        AttemptsExhaustedError,
        RateLimitedError,
        ConsentStoreFullError,
        ConsentStoreUnavailableError,
        InternalError,
    )
}
"""The exception class for each core error code name."""

# The C layer's own codes never arise in Python; if one did, it would be a bug.
EXCEPTIONS_BY_CODE["null_argument"] = InternalError
EXCEPTIONS_BY_CODE["buffer_too_small"] = InternalError

# The numbers belong to the core; take them from it rather than repeating them here.
for _code, _cls in EXCEPTIONS_BY_CODE.items():
    if _cls.code == _code:
        _cls.number = _NUMBERS[_code]
del _code, _cls
