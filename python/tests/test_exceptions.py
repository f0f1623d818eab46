"""The exception classes: hierarchy, codes, numbers, and panics."""

from __future__ import annotations

import pytest

import kycvs
import kycvs._kycvs
from kycvs.exceptions import EXCEPTIONS_BY_CODE

VERIFICATION = {
    "malformed": kycvs.MalformedError,
    "too_large": kycvs.TooLargeError,
    "unsupported_algorithm": kycvs.UnsupportedAlgorithmError,
    "bad_header": kycvs.BadHeaderError,
    "unknown_key": kycvs.UnknownKeyError,
    "bad_signature": kycvs.BadSignatureError,
    "bad_claims": kycvs.BadClaimsError,
    "issuer_mismatch": kycvs.IssuerMismatchError,
    "audience_mismatch": kycvs.AudienceMismatchError,
    "nonce_mismatch": kycvs.NonceMismatchError,
    "expired": kycvs.ExpiredError,
    "not_yet_valid": kycvs.NotYetValidError,
    "lifetime_too_long": kycvs.LifetimeTooLongError,
}
OTHERS: dict[str, tuple[type[kycvs.KycvsError], type[Exception]]] = {
    "invalid_key": (kycvs.InvalidKeyError, ValueError),
    "invalid_trust_store": (kycvs.InvalidTrustStoreError, ValueError),
    "invalid_argument": (kycvs.InvalidArgumentError, ValueError),
    "random_source": (kycvs.RandomSourceError, OSError),
    "panic": (kycvs.InternalError, RuntimeError),
}


def test_error_codes_are_the_core_numbers() -> None:
    assert kycvs.ERROR_CODES["malformed"] == 1
    assert kycvs.ERROR_CODES["lifetime_too_long"] == 13
    assert kycvs.ERROR_CODES["invalid_key"] == 100
    assert kycvs.ERROR_CODES["random_source"] == 103
    assert kycvs.ERROR_CODES["panic"] == 202
    assert len(set(kycvs.ERROR_CODES.values())) == len(kycvs.ERROR_CODES)


def test_every_code_has_a_class() -> None:
    assert set(EXCEPTIONS_BY_CODE) == set(kycvs.ERROR_CODES)
    for code, cls in EXCEPTIONS_BY_CODE.items():
        assert issubclass(cls, kycvs.KycvsError)
        if cls is not kycvs.InternalError:
            assert cls.code == code
        assert cls.number == kycvs.ERROR_CODES[cls.code]


@pytest.mark.parametrize("code", sorted(VERIFICATION))
def test_verification_classes(code: str) -> None:
    cls = VERIFICATION[code]
    assert EXCEPTIONS_BY_CODE[code] is cls
    assert cls.__bases__ == (kycvs.VerificationError,)
    assert issubclass(cls, kycvs.KycvsError)
    assert issubclass(cls, ValueError)
    assert cls.code == code
    assert 1 <= cls.number <= 99
    assert cls.__name__ in kycvs.__all__


@pytest.mark.parametrize("code", sorted(OTHERS))
def test_other_classes(code: str) -> None:
    cls, builtin = OTHERS[code]
    assert EXCEPTIONS_BY_CODE[code] is cls
    assert cls.__bases__ == (kycvs.KycvsError, builtin)
    assert not issubclass(cls, kycvs.VerificationError)
    assert cls.code == code
    assert cls.number == kycvs.ERROR_CODES[code]


def test_bases() -> None:
    assert kycvs.KycvsError.__bases__ == (Exception,)
    assert kycvs.VerificationError.__bases__ == (kycvs.KycvsError, ValueError)
    err = kycvs.ExpiredError("expired long ago")
    assert (err.code, err.number, str(err)) == ("expired", 11, "expired long ago")


def test_raised_errors_carry_code_number_and_detail() -> None:
    with pytest.raises(kycvs.MalformedError) as info:
        kycvs.inspect_unverified("only.two")
    err = info.value
    assert (err.code, err.number) == ("malformed", 1)
    assert "segments" in str(err)
    assert err.args == (str(err),)


def test_a_panic_becomes_internal_error() -> None:
    with pytest.raises(kycvs.InternalError) as info:
        kycvs._kycvs._test_panic()
    assert (info.value.code, info.value.number) == ("panic", 202)
    assert isinstance(info.value, RuntimeError)
    assert "bug" in str(info.value)
    assert type(info.value).__name__ != "PanicException"
