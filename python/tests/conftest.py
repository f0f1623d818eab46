"""Shared fixtures: the committed test vectors and a fresh issuer/verifier pair."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

# rayon sizes its global pool when the first batch runs, from this variable or the CPU count;
# four threads make every batch of 128 items or more take the chunked parallel path, even on
# a one-CPU runner (the vector corpus batches in test_batch.py hold more than 256 items).
os.environ["RAYON_NUM_THREADS"] = "4"

import kycvs

from _vectors import load_json, read_text

ISSUER = "cowin.example"
AUDIENCE = "irctc.example"
NONCE = "PNR-4711"
NOW = 1_800_000_000


@pytest.fixture(scope="session")
def trust_jwks() -> str:
    return read_text("trust.jwks")


@pytest.fixture(scope="session")
def vector_keys() -> list[dict[str, str]]:
    keys: list[dict[str, str]] = load_json("keys.json")["keys"]
    return keys


@dataclass(frozen=True)
class Pair:
    key: kycvs.SigningKey
    trust: kycvs.TrustStore
    issuer: kycvs.Issuer
    verifier: kycvs.Verifier

    def issue(self, **overrides: object) -> str:
        args: dict[str, object] = {
            "audience": AUDIENCE,
            "nonce": NONCE,
            "status": kycvs.VaccinationStatus.FULLY_VACCINATED,
            "subject": "psn-1",
            "now": NOW,
        }
        args.update(overrides)
        return self.issuer.issue(**args)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def pair() -> Pair:
    key = kycvs.SigningKey.generate()
    trust = kycvs.TrustStore()
    trust.add(key, issuer=ISSUER)
    return Pair(
        key=key,
        trust=trust,
        issuer=kycvs.Issuer(key, issuer=ISSUER),
        verifier=kycvs.Verifier(trust, audience=AUDIENCE),
    )
