"""The package surface: exports, version, and the example in the module docstring."""

from __future__ import annotations

import doctest
import platform
import re

import pytest

import kycvs


def test_all_names_exist() -> None:
    for name in kycvs.__all__:
        assert hasattr(kycvs, name), name
    assert len(set(kycvs.__all__)) == len(kycvs.__all__)


def test_version() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", kycvs.__version__)


def test_backend_is_the_fastest_this_cpu_supports() -> None:
    # The wheel is built for generic x86-64 with the AVX-512 IFMA, AVX2 and serial curve
    # arithmetic all compiled in; the kernel's CPU flags say which one must be running.
    flags: set[str] = set()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pytest.skip("no /proc/cpuinfo")
    if platform.machine() not in ("x86_64", "AMD64"):
        want = "serial"
    elif {"avx512ifma", "avx512vl"} <= flags:
        want = "avx512ifma"
    elif "avx2" in flags:
        want = "avx2"
    else:
        want = "serial"
    assert kycvs.backend() == want


def test_docstring_example_runs() -> None:
    result = doctest.testmod(kycvs, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_native_classes_present_as_kycvs() -> None:
    for cls in (kycvs.SigningKey, kycvs.TrustStore, kycvs.Issuer, kycvs.Verifier):
        assert cls.__module__ == "kycvs"
        assert cls.__doc__
