# Stubs for the native module kycvs._kycvs, written by hand and checked by mypy.stubtest.

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, final

from kycvs import VaccinationStatus
from kycvs.exceptions import VerificationError
from kycvs.replay import ReplayStore

__all__ = [
    "__version__",
    "ERROR_CODES",
    "SigningKey",
    "TrustStore",
    "TrustBundle",
    "Issuer",
    "Verifier",
    "VerifiedStatus",
    "inspect_unverified",
    "backend",
    "_test_panic",
    "Registry",
    "VaccineSchedule",
    "IssuanceService",
    "ConsentStarter",
    "ConsentCompleter",
    "ConsentChallenge",
    "ReplayGuard",
]

__version__: str
ERROR_CODES: dict[str, int]

@final
class SigningKey:
    """An Ed25519 signing key. Its secret never appears in ``repr``."""

    @staticmethod
    def generate() -> SigningKey: ...
    @staticmethod
    def from_pem(pem: str | bytes) -> SigningKey: ...
    def to_pem(self) -> str: ...
    @property
    def public_key(self) -> bytes: ...
    @property
    def kid(self) -> str: ...
    def public_jwk(self, *, issuer: str) -> dict[str, Any]: ...

@final
class TrustStore:
    """Trusted public keys, each bound to one issuer: a JWKS document."""

    def __new__(cls) -> TrustStore: ...
    @staticmethod
    def from_jwks(jwks: str | bytes) -> TrustStore: ...
    def add(
        self,
        key: SigningKey | bytes,
        *,
        issuer: str,
        nbf: int | None = None,
        exp: int | None = None,
    ) -> None: ...
    def to_jwks(self) -> str: ...
    def __len__(self) -> int: ...

@final
class TrustBundle:
    """A trust store signed by a pinned root key, with a sequence number and an expiry."""

    @staticmethod
    def load(
        bundle: str | bytes, *, root: str | bytes, min_sequence: int, now: int | None = None
    ) -> TrustBundle: ...
    @staticmethod
    def sign(
        root: SigningKey,
        trust: TrustStore,
        *,
        sequence: int,
        expires_at: int,
        issued_at: int | None = None,
        key_nbf: int | None = None,
        key_exp: int | None = None,
    ) -> str: ...
    @staticmethod
    def root_jwk(root: SigningKey) -> str: ...
    @property
    def sequence(self) -> int: ...
    @property
    def issued_at(self) -> int: ...
    @property
    def expires_at(self) -> int: ...
    @property
    def trust_store(self) -> TrustStore: ...

@final
class Issuer:
    """Signs status tokens with one key as one issuer id."""

    def __new__(
        cls, key: SigningKey, *, issuer: str, algorithm: Literal["Ed25519", "EdDSA"] = "Ed25519"
    ) -> Issuer: ...
    def issue(
        self,
        *,
        audience: str,
        nonce: str,
        status: int | VaccinationStatus,
        subject: str,
        ttl: int = 300,
        now: int | None = None,
    ) -> str: ...
    @property
    def issuer(self) -> str: ...
    @property
    def kid(self) -> str: ...

@final
class Verifier:
    """Checks tokens against a trust store and a policy; safe to share across threads."""

    def __new__(
        cls,
        trust: TrustStore,
        *,
        audience: str,
        issuers: Sequence[str] | None = None,
        leeway: int = 60,
        max_lifetime: int = 3600,
        check_nonce: bool = True,
        replay_guard: ReplayGuard | ReplayStore | None = None,
    ) -> Verifier: ...
    def verify(
        self, token: str | bytes, nonce: str | None, *, now: int | None = None
    ) -> VerifiedStatus: ...
    def verify_batch(
        self,
        tokens: Iterable[str | bytes],
        nonce: str | Sequence[str | None] | None,
        *,
        now: int | None = None,
    ) -> list[VerifiedStatus | VerificationError]: ...
    @property
    def audience(self) -> str: ...

@final
class VerifiedStatus:
    """A token that passed every check: its status and the verified claims."""

    @property
    def status(self) -> VaccinationStatus: ...
    @property
    def iss(self) -> str: ...
    @property
    def sub(self) -> str: ...
    @property
    def aud(self) -> str: ...
    @property
    def jti(self) -> str: ...
    @property
    def nonce(self) -> str: ...
    @property
    def iat(self) -> int: ...
    @property
    def exp(self) -> int: ...
    @property
    def kid(self) -> str: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

def inspect_unverified(token: str | bytes) -> dict[str, Any]: ...
def backend() -> Literal["avx512ifma", "avx2", "serial"]:
    """The curve arithmetic chosen for this CPU at start-up."""

def _test_panic() -> None: ...

@final
class Registry:
    """A registry of beneficiaries (JSON Lines), looked up by mobile number and name."""

    @staticmethod
    def from_jsonl(jsonl: str | bytes) -> Registry: ...
    @staticmethod
    def sample() -> Registry: ...
    def __len__(self) -> int: ...

@final
class VaccineSchedule:
    """The status rules: how many primary doses each vaccine product needs."""

    def __new__(cls) -> VaccineSchedule: ...
    @staticmethod
    def from_json(json: str | bytes) -> VaccineSchedule: ...
    def status(self, doses: Sequence[Mapping[str, Any]]) -> VaccinationStatus: ...
    def primary_doses(self, product: str) -> int | None: ...

@final
class ConsentChallenge:
    """What ``IssuanceService.begin`` answers; the OTP never appears in ``repr``."""

    @property
    def consent_id(self) -> str: ...
    @property
    def otp(self) -> str: ...
    @property
    def expires_at(self) -> int: ...

@final
class IssuanceService:
    """The issuer side: registry look-up, OTP consent, pairwise subjects, signing."""

    def __new__(
        cls,
        issuer: Issuer,
        registry: Registry,
        *,
        schedule: VaccineSchedule | None = None,
        pseudonym_key: bytes | None = None,
        otp_key: bytes | None = None,
        consent_file: str | os.PathLike[str] | None = None,
        otp_ttl: int = 180,
        max_attempts: int = 3,
        rate_limit: int = 5,
        rate_window: int = 3600,
        token_ttl: int = 300,
    ) -> IssuanceService: ...
    def begin(
        self, *, mobile: str, name: str, audience: str, nonce: str, now: int | None = None
    ) -> ConsentChallenge: ...
    def complete(self, consent_id: str, otp: str, *, now: int | None = None) -> str: ...
    def subject(self, audience: str, beneficiary_id: str) -> str: ...
    @property
    def issuer(self) -> str: ...

@final
class ConsentStarter:
    """The begin side alone: registry look-up and OTP consent, no signing key."""

    def __new__(
        cls,
        registry: Registry,
        *,
        schedule: VaccineSchedule | None = None,
        pseudonym_key: bytes | None = None,
        otp_key: bytes | None = None,
        consent_file: str | os.PathLike[str] | None = None,
        otp_ttl: int = 180,
        max_attempts: int = 3,
        rate_limit: int = 5,
        rate_window: int = 3600,
    ) -> ConsentStarter: ...
    def begin(
        self, *, mobile: str, name: str, audience: str, nonce: str, now: int | None = None
    ) -> ConsentChallenge: ...
    def subject(self, audience: str, beneficiary_id: str) -> str: ...

@final
class ConsentCompleter:
    """The complete side alone: OTP check and signing, no registry."""

    def __new__(
        cls,
        issuer: Issuer,
        *,
        otp_key: bytes | None = None,
        consent_file: str | os.PathLike[str] | None = None,
        otp_ttl: int = 180,
        max_attempts: int = 3,
        rate_limit: int = 5,
        rate_window: int = 3600,
        token_ttl: int = 300,
    ) -> ConsentCompleter: ...
    def complete(self, consent_id: str, otp: str, *, now: int | None = None) -> str: ...
    @property
    def issuer(self) -> str: ...

@final
class ReplayGuard:
    """Remembers accepted token ids so that a verifier refuses a second presentation."""

    def __new__(cls, capacity: int = 100000) -> ReplayGuard: ...
    @property
    def capacity(self) -> int: ...
    def __len__(self) -> int: ...
