"""Issuer and Verifier: the round trip, arguments, results and errors."""

from __future__ import annotations

import json
import sys
import time

import pytest

import kycvs
from kycvs import VaccinationStatus

from conftest import AUDIENCE, ISSUER, NONCE, NOW, Pair


def test_round_trip(pair: Pair) -> None:
    token = pair.issue()
    got = pair.verifier.verify(token, nonce=NONCE, now=NOW + 10)
    assert got.status is VaccinationStatus.FULLY_VACCINATED
    assert (got.iss, got.sub, got.aud, got.nonce) == (ISSUER, "psn-1", AUDIENCE, NONCE)
    assert (got.iat, got.exp) == (NOW, NOW + 300)
    assert got.kid == pair.key.kid
    assert len(got.jti) >= 22
    assert pair.verifier.verify(token, NONCE, now=NOW).nonce == NONCE


def test_the_nonce_is_required_unless_the_check_is_disabled(pair: Pair) -> None:
    token = pair.issue()
    with pytest.raises(TypeError):
        pair.verifier.verify(token)  # type: ignore[call-arg]
    with pytest.raises(kycvs.InvalidArgumentError, match="nonce"):
        pair.verifier.verify(token, None, now=NOW)
    with pytest.raises(kycvs.InvalidArgumentError):
        pair.verifier.verify("not a token", None, now=NOW)
    lenient = kycvs.Verifier(pair.trust, audience=AUDIENCE, check_nonce=False)
    # The token's own nonce is reported; a nonce that is given is still checked.
    assert lenient.verify(token, None, now=NOW).nonce == NONCE
    with pytest.raises(kycvs.NonceMismatchError):
        lenient.verify(token, "PNR-0", now=NOW)


@pytest.mark.parametrize("status", [0, 1, 2, *VaccinationStatus])
def test_every_status(pair: Pair, status: int) -> None:
    got = pair.verifier.verify(pair.issue(status=status), nonce=NONCE, now=NOW)
    assert got.status == status
    assert type(got.status) is VaccinationStatus


def test_status_values() -> None:
    assert [(s.name, int(s)) for s in VaccinationStatus] == [
        ("NOT_VACCINATED", 0),
        ("PARTIALLY_VACCINATED", 1),
        ("FULLY_VACCINATED", 2),
    ]


def test_ttl_and_fresh_jti(pair: Pair) -> None:
    a = pair.verifier.verify(pair.issue(ttl=60), NONCE, now=NOW)
    b = pair.verifier.verify(pair.issue(ttl=60), NONCE, now=NOW)
    assert a.exp == NOW + 60
    assert a.jti != b.jti


def test_system_clock_is_the_default(pair: Pair) -> None:
    token = pair.issue(now=None)
    got = pair.verifier.verify(token, nonce=NONCE)
    assert abs(got.iat - time.time()) < 60
    assert pair.verifier.verify(token, nonce=NONCE, now=None) == got


def test_algorithms(pair: Pair) -> None:
    modern = kycvs.inspect_unverified(pair.issue())
    assert modern["header"] == {"alg": "Ed25519", "typ": "kycvs+jwt", "kid": pair.key.kid}
    legacy_issuer = kycvs.Issuer(pair.key, issuer=ISSUER, algorithm="EdDSA")
    token = legacy_issuer.issue(
        audience=AUDIENCE, nonce=NONCE, status=2, subject="psn-1", now=NOW
    )
    legacy = kycvs.inspect_unverified(token)
    assert legacy["header"] == {"alg": "EdDSA", "typ": "kycvs+jwt", "kid": pair.key.kid}
    assert pair.verifier.verify(token, nonce=NONCE, now=NOW).status == 2
    with pytest.raises(kycvs.InvalidArgumentError, match="Ed25519"):
        kycvs.Issuer(pair.key, issuer=ISSUER, algorithm="HS256")  # type: ignore[arg-type]


def test_issuer_properties(pair: Pair) -> None:
    assert pair.issuer.issuer == ISSUER
    assert pair.issuer.kid == pair.key.kid
    assert repr(pair.issuer) == f"Issuer(issuer={ISSUER!r}, kid={pair.key.kid!r})"
    assert pair.verifier.audience == AUDIENCE
    assert repr(pair.verifier) == (
        f"Verifier(audience={AUDIENCE!r}, keys=1, leeway=60, max_lifetime=3600)"
    )


def test_inspect_unverified(pair: Pair) -> None:
    token = pair.issue()
    seen = kycvs.inspect_unverified(token)
    assert set(seen) == {"header", "claims", "signature_len", "verified"}
    assert seen["verified"] is False
    assert seen["signature_len"] == 64
    assert seen["claims"]["aud"] == AUDIENCE
    assert seen["claims"]["vs"] == 2
    assert list(seen["claims"]) == ["iss", "sub", "aud", "iat", "exp", "jti", "nonce", "vs"]
    assert kycvs.inspect_unverified(token.encode()) == seen
    with pytest.raises(kycvs.MalformedError):
        kycvs.inspect_unverified("a.b")
    with pytest.raises(kycvs.MalformedError):
        kycvs.inspect_unverified(b"\xff.\xff.\xff")


def test_verified_status_value_semantics(pair: Pair) -> None:
    token = pair.issue()
    a = pair.verifier.verify(token, NONCE, now=NOW)
    b = pair.verifier.verify(token.encode(), NONCE, now=NOW + 1)
    c = pair.verifier.verify(pair.issue(), NONCE, now=NOW)
    assert a == b and hash(a) == hash(b)
    assert a != c
    assert a != "not a status"
    assert len({a, b, c}) == 2
    text = repr(a)
    assert text.startswith("VerifiedStatus(status=<VaccinationStatus.FULLY_VACCINATED: 2>, ")
    for value in (a.iss, a.sub, a.aud, a.jti, a.nonce, a.kid):
        assert repr(value) in text
    with pytest.raises(AttributeError):
        a.status = VaccinationStatus.NOT_VACCINATED  # type: ignore[misc]
    with pytest.raises(TypeError):
        kycvs.VerifiedStatus()


def test_tampering(pair: Pair) -> None:
    import base64

    token = pair.issue()
    header, payload, signature = token.split(".")
    claims = kycvs.inspect_unverified(token)["claims"]
    claims["vs"] = 0
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(kycvs.BadSignatureError):
        pair.verifier.verify(f"{header}.{forged}.{signature}", NONCE, now=NOW)
    other = kycvs.Issuer(kycvs.SigningKey.generate(), issuer=ISSUER).issue(
        audience=AUDIENCE, nonce=NONCE, status=0, subject="psn-1", now=NOW
    )
    with pytest.raises(kycvs.BadSignatureError):
        pair.verifier.verify(f"{header}.{payload}.{other.split('.')[2]}", NONCE, now=NOW)
    with pytest.raises(kycvs.MalformedError):
        pair.verifier.verify("", NONCE, now=NOW)
    with pytest.raises(kycvs.TooLargeError):
        pair.verifier.verify("a" * 5000, NONCE, now=NOW)


def test_policy_failures(pair: Pair) -> None:
    token = pair.issue()
    v = pair.verifier
    with pytest.raises(kycvs.NonceMismatchError):
        v.verify(token, nonce="PNR-4712", now=NOW)
    with pytest.raises(kycvs.ExpiredError):
        v.verify(token, NONCE, now=NOW + 300 + 60)
    with pytest.raises(kycvs.NotYetValidError):
        v.verify(token, NONCE, now=NOW - 61)
    strict = kycvs.Verifier(pair.trust, audience=AUDIENCE, leeway=0, max_lifetime=299)
    with pytest.raises(kycvs.LifetimeTooLongError):
        strict.verify(token, NONCE, now=NOW)
    with pytest.raises(kycvs.ExpiredError):
        kycvs.Verifier(pair.trust, audience=AUDIENCE, leeway=0).verify(token, NONCE, now=NOW + 300)
    with pytest.raises(kycvs.AudienceMismatchError):
        kycvs.Verifier(pair.trust, audience="other.example").verify(token, NONCE, now=NOW)
    with pytest.raises(kycvs.IssuerMismatchError):
        kycvs.Verifier(pair.trust, audience=AUDIENCE, issuers=["x.example"]).verify(
            token, NONCE, now=NOW
        )
    assert (
        kycvs.Verifier(pair.trust, audience=AUDIENCE, issuers=("x.example", ISSUER))
        .verify(token, NONCE, now=NOW)
        .iss
        == ISSUER
    )
    with pytest.raises(kycvs.UnknownKeyError):
        kycvs.Verifier(kycvs.TrustStore(), audience=AUDIENCE).verify(token, NONCE, now=NOW)


def test_verifier_snapshots_the_trust_store(pair: Pair) -> None:
    store = kycvs.TrustStore()
    verifier = kycvs.Verifier(store, audience=AUDIENCE)
    store.add(pair.key, issuer=ISSUER)
    with pytest.raises(kycvs.UnknownKeyError):
        verifier.verify(pair.issue(), NONCE, now=NOW)
    assert kycvs.Verifier(store, audience=AUDIENCE).verify(pair.issue(), NONCE, now=NOW)


def test_token_text(pair: Pair) -> None:
    token = pair.issue()
    assert pair.verifier.verify(token.encode("ascii"), NONCE, now=NOW).iss == ISSUER
    with pytest.raises(kycvs.MalformedError):
        pair.verifier.verify(b"\xff" + token.encode(), NONCE, now=NOW)
    with pytest.raises(kycvs.MalformedError):
        pair.verifier.verify("\ud800" + token, NONCE, now=NOW)
    # Valid UTF-8 that is not base64url: malformed, exactly, like the two above.
    with pytest.raises(kycvs.MalformedError) as info:
        pair.verifier.verify("\u00e9" + token, NONCE, now=NOW)
    assert type(info.value) is kycvs.MalformedError
    assert info.value.code == "malformed"
    for wrong in (None, 42, bytearray(token.encode()), memoryview(token.encode())):
        with pytest.raises(TypeError):
            pair.verifier.verify(wrong, NONCE, now=NOW)  # type: ignore[arg-type]


BAD_INTEGERS = [-1, -(2**70), 2**64, 2**200]


@pytest.mark.parametrize("value", BAD_INTEGERS)
def test_out_of_range_integers_are_invalid_argument(pair: Pair, value: int) -> None:
    def check(call: object) -> None:
        with pytest.raises(kycvs.InvalidArgumentError) as info:
            call()  # type: ignore[operator]
        assert info.value.code == "invalid_argument"
        assert info.value.number == 102
        assert isinstance(info.value, ValueError)

    check(lambda: pair.issue(ttl=value))
    check(lambda: pair.issue(now=value))
    check(lambda: pair.issue(status=value))
    check(lambda: pair.verifier.verify("a.b.c", NONCE, now=value))
    check(lambda: kycvs.Verifier(pair.trust, audience=AUDIENCE, leeway=value))
    check(lambda: kycvs.Verifier(pair.trust, audience=AUDIENCE, max_lifetime=value))


@pytest.mark.parametrize(
    "call",
    [
        lambda p: p.issue(ttl=0),
        lambda p: p.issue(ttl=86_401),
        lambda p: p.issue(status=3),
        lambda p: p.issue(audience=""),
        lambda p: p.issue(nonce=""),
        lambda p: p.issue(subject="has space"),
        lambda p: p.issue(now=2**53),
        lambda p: kycvs.Issuer(p.key, issuer=""),
        lambda p: kycvs.Issuer(p.key, issuer="x" * 257),
        lambda p: kycvs.Verifier(p.trust, audience=""),
        lambda p: kycvs.Verifier(p.trust, audience=AUDIENCE, issuers=[]),
        lambda p: kycvs.Verifier(p.trust, audience=AUDIENCE, leeway=3601),
        lambda p: kycvs.Verifier(p.trust, audience=AUDIENCE, max_lifetime=0),
        lambda p: kycvs.Verifier(p.trust, audience=AUDIENCE, max_lifetime=86_401),
    ],
)
def test_values_the_core_rejects_are_invalid_argument(pair: Pair, call: object) -> None:
    with pytest.raises(kycvs.InvalidArgumentError):
        call(pair)  # type: ignore[operator]


@pytest.mark.parametrize(
    "call",
    [
        lambda p: p.issue(ttl="300"),
        lambda p: p.issue(ttl=300.0),
        lambda p: p.issue(ttl=True),
        lambda p: p.issue(status="2"),
        lambda p: p.issue(status=None),
        lambda p: p.issue(now=1.5),
        lambda p: p.issue(audience=None),
        lambda p: p.issuer.issue(audience=AUDIENCE, nonce=NONCE, status=2),
        lambda p: p.issuer.issue(AUDIENCE, NONCE, 2, "psn-1"),
        lambda p: p.verifier.verify(p.issue(), NONCE, now="now"),
        lambda p: p.verifier.verify(p.issue(), nonce=5),
        lambda p: p.verifier.verify(p.issue(), NONCE, NOW),
        lambda p: p.verifier.verify(p.issue()),
        lambda p: kycvs.Verifier(p.trust, AUDIENCE),  # type: ignore[call-arg]
        lambda p: kycvs.Verifier(p.trust, audience=AUDIENCE, issuers=ISSUER),
        lambda p: kycvs.Verifier(p.trust, audience=AUDIENCE, leeway=1.0),  # type: ignore[arg-type]
        lambda p: kycvs.Verifier(p.key, audience=AUDIENCE),
        lambda p: kycvs.Issuer(p.trust, issuer=ISSUER),
        lambda p: kycvs.Issuer(p.key, ISSUER),  # type: ignore[call-arg]
        lambda p: p.trust.add(p.key, ISSUER),
    ],
)
def test_wrong_types_are_type_error(pair: Pair, call: object) -> None:
    with pytest.raises(TypeError):
        call(pair)  # type: ignore[operator]


def test_defaults_match_the_signatures(pair: Pair) -> None:
    import inspect

    assert inspect.signature(kycvs.Issuer.issue).parameters["ttl"].default == 300
    # abi3 classes carry a text signature from Python 3.10 on.
    if sys.version_info >= (3, 10):
        verify_params = inspect.signature(kycvs.Verifier).parameters
        assert verify_params["leeway"].default == 60
        assert verify_params["max_lifetime"].default == 3600
    # The documented defaults are the ones in force.
    token = pair.issue()
    assert pair.verifier.verify(token, NONCE, now=NOW).exp - NOW == 300
    with pytest.raises(kycvs.ExpiredError):
        pair.verifier.verify(token, NONCE, now=NOW + 360)
    assert pair.verifier.verify(token, NONCE, now=NOW + 359)


def test_jwks_and_verifier_interplay(trust_jwks: str) -> None:
    store = kycvs.TrustStore.from_jwks(trust_jwks)
    issuers = sorted({k["iss"] for k in json.loads(trust_jwks)["keys"]})
    assert kycvs.Verifier(store, audience=AUDIENCE, issuers=issuers).audience == AUDIENCE
