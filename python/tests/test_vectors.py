"""Every case of testvectors/verify.json gives exactly its expected outcome."""

from __future__ import annotations

from typing import Any

import pytest

import kycvs
from kycvs.exceptions import EXCEPTIONS_BY_CODE

from _vectors import byte_cases, load_json

CASES: list[dict[str, Any]] = load_json("verify.json")["cases"]
BYTE_CASES: list[dict[str, Any]] = byte_cases()


def test_vectors_are_present() -> None:
    assert len(CASES) > 0
    assert any(case["expected"] == "ok" for case in CASES)
    assert any(case["expected"] != "ok" for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_vector(case: dict[str, Any], trust_jwks: str) -> None:
    policy = case["policy"]
    verifier = kycvs.Verifier(
        kycvs.TrustStore.from_jwks(trust_jwks),
        audience=policy["audience"],
        issuers=policy["issuers"],
        leeway=policy["leeway"],
        max_lifetime=policy["max_lifetime"],
        check_nonce=case["nonce"] is not None,
    )
    expected = case["expected"]
    if expected == "ok":
        got = verifier.verify(case["token"], nonce=case["nonce"], now=case["now"])
        want = case["result"]
        assert got.status == want["status"]
        assert isinstance(got.status, kycvs.VaccinationStatus)
        for field in ("iss", "sub", "aud", "jti", "nonce", "iat", "exp", "kid"):
            assert getattr(got, field) == want[field], field
        # The same token as bytes gives the same result.
        assert verifier.verify(case["token"].encode(), nonce=case["nonce"], now=case["now"]) == got
    else:
        cls = EXCEPTIONS_BY_CODE[expected]
        with pytest.raises(kycvs.VerificationError) as info:
            verifier.verify(case["token"], nonce=case["nonce"], now=case["now"])
        assert type(info.value) is cls
        assert info.value.code == expected
        assert info.value.number == kycvs.ERROR_CODES[expected]
        assert str(info.value)


@pytest.mark.parametrize("case", BYTE_CASES, ids=[case["name"] for case in BYTE_CASES])
def test_byte_vector(case: dict[str, Any], trust_jwks: str) -> None:
    """Tokens that are not UTF-8 reach the core as bytes and get their expected error."""
    policy = case["policy"]
    verifier = kycvs.Verifier(
        kycvs.TrustStore.from_jwks(trust_jwks),
        audience=policy["audience"],
        issuers=policy["issuers"],
        leeway=policy["leeway"],
        max_lifetime=policy["max_lifetime"],
        check_nonce=case["nonce"] is not None,
    )
    assert isinstance(case["token"], bytes)
    with pytest.raises(EXCEPTIONS_BY_CODE[case["expected"]]) as info:
        verifier.verify(case["token"], nonce=case["nonce"], now=case["now"])
    assert info.value.code == case["expected"]
