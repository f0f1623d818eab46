"""The package surface: exports, version, and the example in the module docstring."""

from __future__ import annotations

import doctest
import re

import kycvs


def test_all_names_exist() -> None:
    for name in kycvs.__all__:
        assert hasattr(kycvs, name), name
    assert len(set(kycvs.__all__)) == len(kycvs.__all__)


def test_version() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", kycvs.__version__)


def test_docstring_example_runs() -> None:
    result = doctest.testmod(kycvs, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_native_classes_present_as_kycvs() -> None:
    for cls in (kycvs.SigningKey, kycvs.TrustStore, kycvs.Issuer, kycvs.Verifier):
        assert cls.__module__ == "kycvs"
        assert cls.__doc__
