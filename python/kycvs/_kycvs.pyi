# Stubs for the native module kycvs._kycvs, written by hand and checked by mypy.stubtest.

from collections.abc import Sequence
from typing import Any, final

from kycvs import VaccinationStatus

__all__ = [
    "__version__",
    "ERROR_CODES",
    "SigningKey",
    "TrustStore",
    "Issuer",
    "Verifier",
    "VerifiedStatus",
    "inspect_unverified",
    "_test_panic",
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
    def kid(self) -> str: ...
    def public_jwk(self, *, issuer: str) -> dict[str, Any]: ...

@final
class TrustStore:
    """Trusted public keys, each bound to one issuer: a JWKS document."""

    def __new__(cls) -> TrustStore: ...
    @staticmethod
    def from_jwks(jwks: str | bytes) -> TrustStore: ...
    def add(self, key: SigningKey, *, issuer: str) -> None: ...
    def to_jwks(self) -> str: ...
    def __len__(self) -> int: ...

@final
class Issuer:
    """Signs status tokens with one key as one issuer id."""

    def __new__(cls, key: SigningKey, *, issuer: str, legacy_alg: bool = False) -> Issuer: ...
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
    ) -> Verifier: ...
    def verify(
        self, token: str | bytes, *, nonce: str | None = None, now: int | None = None
    ) -> VerifiedStatus: ...
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
def _test_panic() -> None: ...
