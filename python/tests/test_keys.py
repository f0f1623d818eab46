"""SigningKey and TrustStore: generation, PEM, the vector keys, JWKS."""

from __future__ import annotations

import base64
import json
import pickle

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import kycvs

from conftest import ISSUER


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_generate_pem_round_trip() -> None:
    key = kycvs.SigningKey.generate()
    pem = key.to_pem()
    assert pem.startswith("-----BEGIN PRIVATE KEY-----\n")
    assert pem.endswith("-----END PRIVATE KEY-----\n")
    assert kycvs.SigningKey.from_pem(pem).kid == key.kid
    assert kycvs.SigningKey.from_pem(pem.encode()).kid == key.kid
    assert kycvs.SigningKey.generate().kid != key.kid


def test_pem_is_readable_by_cryptography() -> None:
    key = kycvs.SigningKey.generate()
    theirs = serialization.load_pem_private_key(key.to_pem().encode(), password=None)
    assert isinstance(theirs, Ed25519PrivateKey)
    raw = theirs.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert key.public_jwk(issuer=ISSUER)["x"] == b64url(raw)


def test_pem_from_cryptography_loads() -> None:
    theirs = Ed25519PrivateKey.generate()
    pem = theirs.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key = kycvs.SigningKey.from_pem(pem)
    raw = theirs.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert key.public_jwk(issuer=ISSUER)["x"] == b64url(raw)


def test_vector_keys_load_with_their_kids(
    vector_keys: list[dict[str, str]], trust_jwks: str
) -> None:
    trusted = {jwk["kid"]: jwk for jwk in json.loads(trust_jwks)["keys"]}
    assert vector_keys
    for entry in vector_keys:
        key = kycvs.SigningKey.from_pem(entry["pem"])
        assert key.kid == entry["kid"], entry["name"]
        # The seed is the RFC 8032 secret; cryptography derives the same public key from it.
        theirs = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(entry["seed"]))
        raw = theirs.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        jwk = key.public_jwk(issuer=entry["issuer"])
        assert jwk == {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": b64url(raw),
            "kid": entry["kid"],
            "iss": entry["issuer"],
        }
        if entry["kid"] in trusted:
            assert trusted[entry["kid"]] == jwk
    assert any(entry["kid"] not in trusted for entry in vector_keys)


@pytest.mark.parametrize(
    "pem",
    [
        "",
        "not a key",
        b"\xff\xfe-----BEGIN PRIVATE KEY-----",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        "\ud800",
    ],
)
def test_bad_pem_is_invalid_key(pem: str | bytes) -> None:
    with pytest.raises(kycvs.InvalidKeyError) as info:
        kycvs.SigningKey.from_pem(pem)
    assert info.value.code == "invalid_key"
    assert info.value.number == 100


def test_pem_of_another_algorithm_is_invalid_key() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(kycvs.InvalidKeyError):
        kycvs.SigningKey.from_pem(pem)


def test_pem_of_wrong_type_is_type_error() -> None:
    with pytest.raises(TypeError):
        kycvs.SigningKey.from_pem(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        kycvs.SigningKey.from_pem(bytearray(b"x"))  # type: ignore[arg-type]


def test_repr_hides_the_secret() -> None:
    key = kycvs.SigningKey.generate()
    pem_body = "".join(key.to_pem().splitlines()[1:-1])
    for text in (repr(key), str(key), repr(kycvs.Issuer(key, issuer=ISSUER))):
        assert key.kid in text
        assert pem_body not in text
        assert pem_body[16:40] not in text
    assert repr(key) == f"SigningKey(kid={key.kid!r})"


def test_signing_key_cannot_be_pickled_or_mutated() -> None:
    key = kycvs.SigningKey.generate()
    with pytest.raises(TypeError):
        pickle.dumps(key)
    with pytest.raises(AttributeError):
        key.kid = "x"  # type: ignore[misc]


def test_trust_store_from_jwks(trust_jwks: str) -> None:
    store = kycvs.TrustStore.from_jwks(trust_jwks)
    assert len(store) == len(json.loads(trust_jwks)["keys"])
    assert len(kycvs.TrustStore.from_jwks(trust_jwks.encode())) == len(store)
    again = kycvs.TrustStore.from_jwks(store.to_jwks())
    assert json.loads(again.to_jwks()) == json.loads(store.to_jwks())
    assert json.loads(store.to_jwks())["keys"] == json.loads(trust_jwks)["keys"]
    assert repr(store) == f"TrustStore(keys={len(store)})"


def test_trust_store_add() -> None:
    store = kycvs.TrustStore()
    assert len(store) == 0
    key = kycvs.SigningKey.generate()
    store.add(key, issuer=ISSUER)
    assert len(store) == 1
    assert json.loads(store.to_jwks())["keys"] == [key.public_jwk(issuer=ISSUER)]
    with pytest.raises(kycvs.InvalidTrustStoreError):
        store.add(key, issuer="")
    with pytest.raises(kycvs.InvalidTrustStoreError):
        store.add(key, issuer=ISSUER)  # the same kid twice
    assert len(store) == 1


@pytest.mark.parametrize(
    "jwks",
    ["", "{}", "[]", '{"keys": [{"kty": "RSA"}]}', b"\xff", "\ud800"],
)
def test_bad_jwks_is_invalid_trust_store(jwks: str | bytes) -> None:
    with pytest.raises(kycvs.InvalidTrustStoreError) as info:
        kycvs.TrustStore.from_jwks(jwks)
    assert info.value.code == "invalid_trust_store"


def test_jwks_of_wrong_type_is_type_error() -> None:
    with pytest.raises(TypeError):
        kycvs.TrustStore.from_jwks({"keys": []})  # type: ignore[arg-type]
