"""Signed trust bundles: every case of testvectors/bundles.json, then signing, pinning the
root, and the key window under a verifier."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

import kycvs
from kycvs.exceptions import EXCEPTIONS_BY_CODE

from _vectors import load_json

DOC: dict[str, Any] = load_json("bundles.json")
CASES: list[dict[str, Any]] = DOC["cases"]
TOKEN_CASES: list[dict[str, Any]] = DOC["token_cases"]
NOW = 1_800_000_000
ISSUER = "cowin.example"
AUDIENCE = "irctc.example"


def test_vectors_are_present() -> None:
    expected = {case["expected"] for case in CASES}
    assert {"ok", "invalid_bundle", "stale_bundle", "bundle_rollback", "invalid_key"} <= expected
    assert {"ok", "key_not_valid"} <= {case["expected"] for case in TOKEN_CASES}


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_bundle_vector(case: dict[str, Any]) -> None:
    def load() -> kycvs.TrustBundle:
        return kycvs.TrustBundle.load(
            case["bundle"], root=case["root"], now=case["now"], min_sequence=case["min_sequence"]
        )

    expected = case["expected"]
    if expected == "ok":
        bundle = load()
        assert bundle.sequence == case["sequence"]
        assert [key["kid"] for key in _keys(bundle.trust_store)] == case["kids"]
    else:
        with pytest.raises(kycvs.KycvsError) as info:
            load()
        assert type(info.value) is EXCEPTIONS_BY_CODE[expected]
        assert info.value.code == expected


@pytest.mark.parametrize("case", TOKEN_CASES, ids=[case["name"] for case in TOKEN_CASES])
def test_token_vector(case: dict[str, Any]) -> None:
    bundle = kycvs.TrustBundle.load(
        case["bundle"], root=case["root"], min_sequence=0, now=case["bundle_now"]
    )
    # The vectors bind no nonce.
    verifier = kycvs.Verifier(bundle.trust_store, audience=case["audience"], check_nonce=False)
    expected = case["expected"]
    if expected == "ok":
        assert verifier.verify(case["token"], None, now=case["now"]).iat <= case["now"]
    else:
        with pytest.raises(kycvs.VerificationError) as info:
            verifier.verify(case["token"], None, now=case["now"])
        assert type(info.value) is EXCEPTIONS_BY_CODE[expected]


def _keys(trust: kycvs.TrustStore) -> list[dict[str, Any]]:
    keys: list[dict[str, Any]] = json.loads(trust.to_jwks())["keys"]
    return keys


def _signed(root: kycvs.SigningKey, key: kycvs.SigningKey, *, sequence: int = 3) -> str:
    trust = kycvs.TrustStore()
    trust.add(key, issuer=ISSUER, nbf=NOW - 100, exp=NOW + 100)
    return kycvs.TrustBundle.sign(
        root, trust, sequence=sequence, issued_at=NOW - 10, expires_at=NOW + 3600
    )


def test_sign_load_and_key_window() -> None:
    root, key = kycvs.SigningKey.generate(), kycvs.SigningKey.generate()
    signed = _signed(root, key)
    bundle = kycvs.TrustBundle.load(
        signed.encode(), root=kycvs.TrustBundle.root_jwk(root), now=NOW, min_sequence=3
    )
    assert (bundle.sequence, bundle.issued_at, bundle.expires_at) == (3, NOW - 10, NOW + 3600)
    assert repr(bundle) == (
        f"TrustBundle(sequence=3, issued_at={NOW - 10}, expires_at={NOW + 3600}, keys=1)"
    )
    [jwk] = _keys(bundle.trust_store)
    window = (jwk["kid"], jwk["iss"], jwk["nbf"], jwk["exp"])
    assert window == (key.kid, ISSUER, NOW - 100, NOW + 100)

    verifier = kycvs.Verifier(bundle.trust_store, audience=AUDIENCE)
    issuer = kycvs.Issuer(key, issuer=ISSUER)
    for iat, ok in [(NOW - 100, True), (NOW + 99, True), (NOW - 101, False), (NOW + 100, False)]:
        token = issuer.issue(audience=AUDIENCE, nonce="n-1", status=2, subject="p", now=iat)
        if ok:
            assert verifier.verify(token, "n-1", now=iat + 1).iat == iat
        else:
            with pytest.raises(kycvs.KeyNotValidError):
                verifier.verify(token, "n-1", now=iat + 1)


def test_each_rejection() -> None:
    root, key = kycvs.SigningKey.generate(), kycvs.SigningKey.generate()
    signed = _signed(root, key, sequence=5)
    root_jwk = kycvs.TrustBundle.root_jwk(root)
    with pytest.raises(kycvs.StaleBundleError):
        kycvs.TrustBundle.load(signed, root=root_jwk, min_sequence=5, now=NOW + 3600)
    with pytest.raises(kycvs.BundleRollbackError):
        kycvs.TrustBundle.load(signed, root=root_jwk, now=NOW, min_sequence=6)
    with pytest.raises(kycvs.InvalidBundleError, match="root"):
        kycvs.TrustBundle.load(
            signed, root=kycvs.TrustBundle.root_jwk(key), min_sequence=0, now=NOW
        )
    head, body, sig = signed.split(".")
    forged = _signed(root, key, sequence=9).split(".")[1]
    with pytest.raises(kycvs.InvalidBundleError, match="signature"):
        kycvs.TrustBundle.load(f"{head}.{forged}.{sig}", root=root_jwk, min_sequence=0, now=NOW)
    with pytest.raises(kycvs.InvalidBundleError):
        kycvs.TrustBundle.load(b"\xff", root=root_jwk, min_sequence=0, now=NOW)
    with pytest.raises(kycvs.InvalidKeyError):
        kycvs.TrustBundle.load(signed, root="{}", min_sequence=0, now=NOW)
    # The rollback floor is required: there is no default that turns the check off.
    with pytest.raises(TypeError, match="min_sequence"):
        kycvs.TrustBundle.load(signed, root=root_jwk, now=NOW)  # type: ignore[call-arg]
    # Without `now`, the system clock: a bundle whose window is built around this test's own
    # clock loads, and one that ended an hour before it is stale.
    wall = int(time.time())
    trust = kycvs.TrustStore()
    trust.add(key, issuer=ISSUER, nbf=wall - 7200, exp=wall + 7200)
    current = kycvs.TrustBundle.sign(
        root, trust, sequence=5, issued_at=wall - 60, expires_at=wall + 3600
    )
    assert kycvs.TrustBundle.load(current, root=root_jwk, min_sequence=5).sequence == 5
    ended = kycvs.TrustBundle.sign(
        root, trust, sequence=5, issued_at=wall - 7200, expires_at=wall - 3600
    )
    with pytest.raises(kycvs.StaleBundleError):
        kycvs.TrustBundle.load(ended, root=root_jwk, min_sequence=5)


def test_sign_and_add_check_their_arguments() -> None:
    root, key = kycvs.SigningKey.generate(), kycvs.SigningKey.generate()
    plain = kycvs.TrustStore()
    plain.add(key, issuer=ISSUER)
    with pytest.raises(kycvs.InvalidArgumentError, match="window"):
        kycvs.TrustBundle.sign(root, plain, sequence=1, issued_at=1, expires_at=2)
    # Keys without a window take the bundle's default one.
    signed = kycvs.TrustBundle.sign(
        root, plain, sequence=1, issued_at=NOW, expires_at=NOW + 60, key_nbf=NOW - 5, key_exp=NOW + 5
    )
    root_jwk = kycvs.TrustBundle.root_jwk(root)
    [jwk] = _keys(kycvs.TrustBundle.load(signed, root=root_jwk, min_sequence=1, now=NOW).trust_store)
    assert (jwk["nbf"], jwk["exp"]) == (NOW - 5, NOW + 5)
    with pytest.raises(kycvs.InvalidArgumentError, match="both"):
        kycvs.TrustBundle.sign(root, plain, sequence=1, issued_at=1, expires_at=2, key_nbf=1)
    empty = kycvs.TrustStore()
    with pytest.raises(kycvs.InvalidArgumentError):
        kycvs.TrustBundle.sign(root, empty, sequence=0, issued_at=1, expires_at=2)
    with pytest.raises(kycvs.InvalidArgumentError):
        kycvs.TrustBundle.sign(root, empty, sequence=1, issued_at=2, expires_at=2)
    with pytest.raises(TypeError):
        kycvs.TrustBundle.sign(
            root, empty, sequence="1", issued_at=1, expires_at=2  # type: ignore[arg-type]
        )
    with pytest.raises(kycvs.InvalidArgumentError, match="both"):
        kycvs.TrustStore().add(key, issuer=ISSUER, nbf=1)
    # A bare public key is the same key as the signing key's public half.
    bare = kycvs.TrustStore()
    bare.add(key.public_key, issuer=ISSUER)
    assert [k["kid"] for k in _keys(bare)] == [key.kid]
    with pytest.raises(kycvs.InvalidKeyError, match="32 bytes"):
        bare.add(key.public_key[:31], issuer=ISSUER)
    with pytest.raises(kycvs.InvalidKeyError):
        bare.add(bytes([1]) + bytes(31), issuer=ISSUER)
    with pytest.raises(kycvs.InvalidArgumentError):
        kycvs.TrustStore().add(key, issuer=ISSUER, nbf=2, exp=2)
