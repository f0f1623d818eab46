"""The exceptions of kycvs.

Every error is a :class:`KycvsError` with a stable string ``code`` and number ``number``
(the core's error codes, listed in ``kycvs.ERROR_CODES``). A verdict on a token is a
:class:`VerificationError` (also a :class:`ValueError`), one subclass per reason; a failed OTP
consent is a :class:`ConsentError`.

The concrete classes, their codes and numbers, and :data:`EXCEPTIONS_BY_CODE` are generated
from the core's table of error codes; the native module raises these classes by looking the
core's code name up in :data:`EXCEPTIONS_BY_CODE`.
"""

from __future__ import annotations

__all__ = [
    "ConsentError",
    "EXCEPTIONS_BY_CODE",
    "KycvsError",
    "VerificationError",
    # BEGIN GENERATED (exports) by kycvs-codegen; do not edit, run `make codegen`
    "AttemptsExhaustedError",
    "AudienceMismatchError",
    "BadClaimsError",
    "BadHeaderError",
    "BadSignatureError",
    "BundleRollbackError",
    "ConsentExpiredError",
    "ConsentNotFoundError",
    "ConsentStoreFullError",
    "ConsentStoreUnavailableError",
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
    "LifetimeTooLongError",
    "MalformedError",
    "NonceMismatchError",
    "NotYetValidError",
    "OtpMismatchError",
    "RandomSourceError",
    "RateLimitedError",
    "ReplayStoreUnavailableError",
    "ReplayedError",
    "StaleBundleError",
    "TooLargeError",
    "UnknownKeyError",
    "UnknownProductError",
    "UnsupportedAlgorithmError",
    # END GENERATED (exports)
]


class KycvsError(Exception):
    """Base class of every kycvs error.

    ``code`` is the stable code name (for example ``"expired"``) and ``number`` its stable
    number; an instance raised by kycvs carries the exact code of the failure. Each concrete
    class has its code as a class attribute too; the base classes have ``""`` and ``0``.
    """

    code: str = ""
    number: int = 0


class VerificationError(KycvsError, ValueError):
    """A token failed verification; the subclass and ``code`` say which check failed."""


class ConsentError(KycvsError):
    """An OTP consent could not be completed; the subclass and ``code`` say why."""


# BEGIN GENERATED (classes) by kycvs-codegen; do not edit, run `make codegen`


class MalformedError(VerificationError):
    """The token is not three base64url segments of JSON objects, has duplicate members, or is
    not UTF-8.
    """

    code = "malformed"
    number = 1


class TooLargeError(VerificationError):
    """The token is longer than the maximum token length, 4096 bytes."""

    code = "too_large"
    number = 2


class UnsupportedAlgorithmError(VerificationError):
    """The header names an algorithm other than ``Ed25519`` or ``EdDSA``."""

    code = "unsupported_algorithm"
    number = 3


class BadHeaderError(VerificationError):
    """The header is not exactly ``alg``, ``typ`` = ``kycvs+jwt`` and a ``kid`` string."""

    code = "bad_header"
    number = 4


class UnknownKeyError(VerificationError):
    """No trusted key has the header's ``kid``."""

    code = "unknown_key"
    number = 5


class BadSignatureError(VerificationError):
    """The signature does not verify under the trusted key."""

    code = "bad_signature"
    number = 6


class BadClaimsError(VerificationError):
    """The claims are not exactly the v1 claims with their types and ranges."""

    code = "bad_claims"
    number = 7


class IssuerMismatchError(VerificationError):
    """``iss`` is not the issuer bound to the key, or not an accepted issuer."""

    code = "issuer_mismatch"
    number = 8


class AudienceMismatchError(VerificationError):
    """``aud`` is not the verifier's audience."""

    code = "audience_mismatch"
    number = 9


class NonceMismatchError(VerificationError):
    """``nonce`` is not the nonce the verifier expected."""

    code = "nonce_mismatch"
    number = 10


class ExpiredError(VerificationError):
    """The token expired (``now >= exp + leeway``)."""

    code = "expired"
    number = 11


class NotYetValidError(VerificationError):
    """The token was issued in the future (``iat > now + leeway``)."""

    code = "not_yet_valid"
    number = 12


class LifetimeTooLongError(VerificationError):
    """``exp - iat`` exceeds the policy's maximum lifetime."""

    code = "lifetime_too_long"
    number = 13


class ReplayedError(VerificationError):
    """The token's ``jti`` was already presented to this verifier (replay guard)."""

    code = "replayed"
    number = 14


class KeyNotValidError(VerificationError):
    """The token's ``iat`` lies outside its key's validity window (trust bundle)."""

    code = "key_not_valid"
    number = 15


class InvalidKeyError(KycvsError, ValueError):
    """A key could not be parsed or is not an acceptable Ed25519 key."""

    code = "invalid_key"
    number = 100


class InvalidTrustStoreError(KycvsError, ValueError):
    """A trust store (JWKS) could not be loaded."""

    code = "invalid_trust_store"
    number = 101


class InvalidArgumentError(KycvsError, ValueError):
    """An argument is outside its documented range, or a text argument is not UTF-8."""

    code = "invalid_argument"
    number = 102


class RandomSourceError(KycvsError, OSError):
    """The operating system's random source failed."""

    code = "random_source"
    number = 103


class InvalidBundleError(KycvsError, ValueError):
    """A trust bundle is malformed or its signature does not verify under the root key."""

    code = "invalid_bundle"
    number = 104


class StaleBundleError(KycvsError, ValueError):
    """A trust bundle is past its expiry (verifiers fail closed)."""

    code = "stale_bundle"
    number = 105


class BundleRollbackError(KycvsError, ValueError):
    """A trust bundle's sequence number is lower than the last one accepted (rollback)."""

    code = "bundle_rollback"
    number = 106


class ReplayStoreUnavailableError(KycvsError, OSError):
    """The verifier's replay store failed or did not answer (a shared store out of reach, a
    callback that failed): the token is not accepted (fail closed).
    """

    code = "replay_store_unavailable"
    number = 107


class InvalidRegistryError(KycvsError, ValueError):
    """A registry file or record is invalid (the detail names the line and the field)."""

    code = "invalid_registry"
    number = 150


class InvalidScheduleError(KycvsError, ValueError):
    """A vaccine schedule table is invalid."""

    code = "invalid_schedule"
    number = 151


class UnknownProductError(KycvsError, ValueError):
    """A dose record names a product that is not in the schedule table."""

    code = "unknown_product"
    number = 152


class InvalidDoseRecordsError(KycvsError, ValueError):
    """Dose records are inconsistent (for example a dose number of zero)."""

    code = "invalid_dose_records"
    number = 153


class InvalidMobileError(KycvsError, ValueError):
    """A mobile number is not a valid Indian mobile number."""

    code = "invalid_mobile"
    number = 154


class ConsentNotFoundError(ConsentError):
    """No pending consent has this id (unknown, completed, expired and evicted, or dead)."""

    code = "consent_not_found"
    number = 160


class ConsentExpiredError(ConsentError):
    """The consent's OTP expired."""

    code = "consent_expired"
    number = 161


class OtpMismatchError(ConsentError):
    """The OTP does not match."""

    code = "otp_mismatch"
    number = 162


class AttemptsExhaustedError(ConsentError):
    """Too many wrong OTPs: the consent is dead."""

    code = "attempts_exhausted"
    number = 163


class RateLimitedError(ConsentError):
    """Too many consents were begun for this mobile number in the last hour."""

    code = "rate_limited"
    number = 164


class ConsentStoreFullError(ConsentError):
    """The consent store is full of live consents."""

    code = "consent_store_full"
    number = 165


class ConsentStoreUnavailableError(ConsentError):
    """The consent store cannot be used: its file cannot be locked, read or written, or is not a
    consent store file (the detail names the path and the cause).
    """

    code = "consent_store_unavailable"
    number = 166


class InternalError(KycvsError, RuntimeError):
    """A panic was caught at the language boundary; this is a bug in kycvs."""

    code = "panic"
    number = 202


EXCEPTIONS_BY_CODE: dict[str, type[KycvsError]] = {
    "malformed": MalformedError,
    "too_large": TooLargeError,
    "unsupported_algorithm": UnsupportedAlgorithmError,
    "bad_header": BadHeaderError,
    "unknown_key": UnknownKeyError,
    "bad_signature": BadSignatureError,
    "bad_claims": BadClaimsError,
    "issuer_mismatch": IssuerMismatchError,
    "audience_mismatch": AudienceMismatchError,
    "nonce_mismatch": NonceMismatchError,
    "expired": ExpiredError,
    "not_yet_valid": NotYetValidError,
    "lifetime_too_long": LifetimeTooLongError,
    "replayed": ReplayedError,
    "key_not_valid": KeyNotValidError,
    "invalid_key": InvalidKeyError,
    "invalid_trust_store": InvalidTrustStoreError,
    "invalid_argument": InvalidArgumentError,
    "random_source": RandomSourceError,
    "invalid_bundle": InvalidBundleError,
    "stale_bundle": StaleBundleError,
    "bundle_rollback": BundleRollbackError,
    "replay_store_unavailable": ReplayStoreUnavailableError,
    "invalid_registry": InvalidRegistryError,
    "invalid_schedule": InvalidScheduleError,
    "unknown_product": UnknownProductError,
    "invalid_dose_records": InvalidDoseRecordsError,
    "invalid_mobile": InvalidMobileError,
    "consent_not_found": ConsentNotFoundError,
    "consent_expired": ConsentExpiredError,
    "otp_mismatch": OtpMismatchError,
    "attempts_exhausted": AttemptsExhaustedError,
    "rate_limited": RateLimitedError,
    "consent_store_full": ConsentStoreFullError,
    "consent_store_unavailable": ConsentStoreUnavailableError,
    "null_argument": InternalError,
    "buffer_too_small": InternalError,
    "panic": InternalError,
}
"""The exception class for each core error code name. The codes that only arise in C
map to :class:`InternalError`: one reaching Python would be a bug."""
# END GENERATED (classes)
