"""kycvs: issue and verify signed vaccination-status tokens (KYC-VS).

An issuer signs a short token telling one verifier ``0`` (not vaccinated), ``1`` (partially)
or ``2`` (fully vaccinated), and nothing else; the verifier checks it against a trust store
and a policy. The token is a JWS compact serialization with an Ed25519 signature.

>>> import kycvs
>>> key = kycvs.SigningKey.generate()
>>> trust = kycvs.TrustStore()
>>> trust.add(key, issuer="cowin.example")
>>> issuer = kycvs.Issuer(key, issuer="cowin.example")
>>> token = issuer.issue(audience="irctc.example", nonce="PNR-4711",
...                      status=kycvs.VaccinationStatus.FULLY_VACCINATED, subject="psn-1")
>>> verifier = kycvs.Verifier(trust, audience="irctc.example")
>>> verifier.verify(token, nonce="PNR-4711").status
<VaccinationStatus.FULLY_VACCINATED: 2>
"""

from __future__ import annotations

import enum

from ._kycvs import (
    ERROR_CODES,
    ConsentChallenge,
    ConsentCompleter,
    ConsentStarter,
    IssuanceService,
    Issuer,
    Registry,
    ReplayGuard,
    SigningKey,
    TrustBundle,
    TrustStore,
    VaccineSchedule,
    VerifiedStatus,
    Verifier,
    __version__,
    backend,
    inspect_unverified,
)
from .exceptions import ConsentError, KycvsError, VerificationError
from .replay import ReplayStore

# BEGIN GENERATED (imports) by kycvs-codegen; do not edit, run `make codegen`
from .exceptions import (
    AttemptsExhaustedError,
    AudienceMismatchError,
    BadClaimsError,
    BadHeaderError,
    BadSignatureError,
    BundleRollbackError,
    ConsentExpiredError,
    ConsentNotFoundError,
    ConsentStoreFullError,
    ConsentStoreUnavailableError,
    ExpiredError,
    InternalError,
    InvalidArgumentError,
    InvalidBundleError,
    InvalidDoseRecordsError,
    InvalidKeyError,
    InvalidMobileError,
    InvalidRegistryError,
    InvalidScheduleError,
    InvalidTrustStoreError,
    IssuerMismatchError,
    KeyNotValidError,
    LifetimeTooLongError,
    MalformedError,
    NonceMismatchError,
    NotYetValidError,
    OtpMismatchError,
    RandomSourceError,
    RateLimitedError,
    ReplayStoreUnavailableError,
    ReplayedError,
    StaleBundleError,
    TooLargeError,
    UnknownKeyError,
    UnknownProductError,
    UnsupportedAlgorithmError,
)
# END GENERATED (imports)

__all__ = [
    "ERROR_CODES",
    "ConsentChallenge",
    "ConsentCompleter",
    "ConsentError",
    "ConsentStarter",
    "IssuanceService",
    "Issuer",
    "KycvsError",
    "Registry",
    "ReplayGuard",
    "ReplayStore",
    "SigningKey",
    "TrustBundle",
    "TrustStore",
    "VaccinationStatus",
    "VaccineSchedule",
    "VerificationError",
    "VerifiedStatus",
    "Verifier",
    "__version__",
    "backend",
    "inspect_unverified",
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


class VaccinationStatus(enum.IntEnum):
    """The status a token attests: its ``vs`` claim."""

    NOT_VACCINATED = 0
    """No dose of a primary series recorded."""
    PARTIALLY_VACCINATED = 1
    """Some but not all primary doses recorded."""
    FULLY_VACCINATED = 2
    """The primary series is complete."""
