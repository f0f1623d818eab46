"""Interop with PyJWT: kycvs tokens (legacy alg) verify there, and PyJWT tokens verify here."""

from __future__ import annotations

import base64
import hashlib
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

import kycvs

from conftest import AUDIENCE, ISSUER, NONCE


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprint(x: str) -> str:
    """RFC 7638, computed here independently of kycvs."""
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"))
    return b64url(hashlib.sha256(canonical.encode()).digest())


def test_kycvs_token_verifies_with_pyjwt() -> None:
    key = kycvs.SigningKey.generate()
    token = kycvs.Issuer(key, issuer=ISSUER, algorithm="EdDSA").issue(
        audience=AUDIENCE, nonce=NONCE, status=kycvs.VaccinationStatus.PARTIALLY_VACCINATED,
        subject="psn-1",
    )
    jwk = key.public_jwk(issuer=ISSUER)
    assert jwk["kid"] == thumbprint(jwk["x"]) == key.kid
    public = Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))

    header = jwt.get_unverified_header(token)
    assert header == {"alg": "EdDSA", "typ": "kycvs+jwt", "kid": key.kid}
    claims = jwt.decode(
        token,
        public,
        algorithms=["EdDSA"],
        audience=AUDIENCE,
        issuer=ISSUER,
        options={"require": ["iss", "sub", "aud", "iat", "exp", "jti"]},
    )
    assert set(claims) == {"iss", "sub", "aud", "iat", "exp", "jti", "nonce", "vs"}
    assert claims["vs"] == 1
    assert claims["nonce"] == NONCE
    assert claims["exp"] - claims["iat"] == 300

    # PyJWT rejects the same token under another key: it really checked the signature.
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            token,
            Ed25519PrivateKey.generate().public_key(),
            algorithms=["EdDSA"],
            audience=AUDIENCE,
        )


def pyjwt_setup() -> tuple[Ed25519PrivateKey, str, kycvs.Verifier]:
    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    kid = thumbprint(b64url(raw))
    jwks = json.dumps(
        {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": b64url(raw), "kid": kid, "iss": ISSUER}]}
    )
    verifier = kycvs.Verifier(kycvs.TrustStore.from_jwks(jwks), audience=AUDIENCE)
    return private, kid, verifier


def v1_claims(now: int) -> dict[str, object]:
    return {
        "iss": ISSUER,
        "sub": "psn-42",
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 120,
        "jti": b64url(bytes(range(16))),
        "nonce": NONCE,
        "vs": 2,
    }


def test_pyjwt_token_verifies_with_kycvs() -> None:
    private, kid, verifier = pyjwt_setup()
    now = int(time.time())
    token = jwt.encode(
        v1_claims(now), private, algorithm="EdDSA", headers={"typ": "kycvs+jwt", "kid": kid}
    )
    # What PyJWT emits: exactly alg, typ and kid (sorted), nothing else.
    segment = token.split(".")[0]
    assert json.loads(b64url_decode(segment)) == {"alg": "EdDSA", "kid": kid, "typ": "kycvs+jwt"}

    got = verifier.verify(token, nonce=NONCE, now=now)
    assert got.status is kycvs.VaccinationStatus.FULLY_VACCINATED
    assert (got.iss, got.sub, got.aud, got.kid) == (ISSUER, "psn-42", AUDIENCE, kid)
    assert (got.iat, got.exp) == (now, now + 120)
    assert verifier.verify(token, nonce=NONCE).kid == kid


def test_pyjwt_default_header_is_refused() -> None:
    private, kid, verifier = pyjwt_setup()
    now = int(time.time())
    token = jwt.encode(v1_claims(now), private, algorithm="EdDSA", headers={"kid": kid})
    assert jwt.get_unverified_header(token)["typ"] == "JWT"
    with pytest.raises(kycvs.BadHeaderError):
        verifier.verify(token, NONCE, now=now)
