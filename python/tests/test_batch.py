"""Verifier.verify_batch: per token, exactly what verify gives (returned, not raised)."""

from __future__ import annotations

import itertools
import select
import sys
import threading
from typing import Any

import pytest

import kycvs
from kycvs.exceptions import EXCEPTIONS_BY_CODE

from _vectors import byte_cases, load_json
from conftest import NONCE, NOW, Pair

CASES: list[dict[str, Any]] = load_json("verify.json")["cases"] + byte_cases()


def policy_key(case: dict[str, Any]) -> str:
    policy = case["policy"]
    return repr((policy["audience"], policy["issuers"], policy["leeway"], policy["max_lifetime"]))


def single(
    verifier: kycvs.Verifier, token: str | bytes, nonce: str | None, now: int
) -> kycvs.VerifiedStatus | kycvs.VerificationError:
    try:
        return verifier.verify(token, nonce=nonce, now=now)
    except kycvs.VerificationError as err:
        return err


def same(a: kycvs.VerifiedStatus | kycvs.VerificationError, b: object) -> bool:
    """The same verdict: equal results, or the same exception class and detail (SPEC 4.1)."""
    if isinstance(a, kycvs.VerifiedStatus):
        return a == b
    return type(a) is type(b) and str(a) == str(b)


@pytest.mark.parametrize(
    "key", sorted({policy_key(c) for c in CASES}), ids=lambda k: str(abs(hash(k)) % 10_000)
)
def test_vector_batch_equals_single_and_expected(key: str, trust_jwks: str) -> None:
    """One batch of the whole corpus per policy: every verdict equals the single one, and
    the cases written for this policy get their expected outcome."""
    first = next(c for c in CASES if policy_key(c) == key)
    policy = first["policy"]
    # The nonce check is off so that the cases that expect no nonce share the batch; a nonce
    # that is given is still checked.
    verifier = kycvs.Verifier(
        kycvs.TrustStore.from_jwks(trust_jwks),
        audience=policy["audience"],
        issuers=policy["issuers"],
        leeway=policy["leeway"],
        max_lifetime=policy["max_lifetime"],
        check_nonce=False,
    )
    for now, group in itertools.groupby(
        sorted((c for c in CASES if policy_key(c) == key), key=lambda c: c["now"]),
        key=lambda c: c["now"],
    ):
        mine = list(group)
        # The corpus twice: at least 256 items, so that the chunked parallel path runs
        # (conftest.py gives rayon four threads).
        batch = CASES + CASES
        assert len(batch) >= 256
        tokens = [c["token"] for c in batch]
        nonces = [c["nonce"] for c in batch]
        got = verifier.verify_batch(tokens, nonce=nonces, now=now)
        assert len(got) == len(batch)
        for case, verdict in zip(batch, got):
            assert same(verdict, single(verifier, case["token"], case["nonce"], now)), case["name"]
        names = {c["name"] for c in mine}
        for case, verdict in zip(batch, got):
            if case["name"] not in names:
                continue
            if case["expected"] == "ok":
                assert isinstance(verdict, kycvs.VerifiedStatus), case["name"]
                for field, want in case["result"].items():
                    assert getattr(verdict, field) == want, (case["name"], field)
            else:
                assert type(verdict) is EXCEPTIONS_BY_CODE[case["expected"]], case["name"]
                assert isinstance(verdict, kycvs.VerificationError)
                assert verdict.code == case["expected"]


def test_large_batch_with_bad_items(pair: Pair) -> None:
    tokens: list[str | bytes] = [pair.issue(subject=f"p-{i}") for i in range(300)]
    forged = str(tokens[5]).rsplit(".", 1)[0] + "." + str(tokens[6]).rsplit(".", 1)[1]
    tokens[5] = forged
    tokens[9] = str(tokens[9]).encode()
    tokens[11] = b"\xff\xfe"
    nonces: list[str | None] = [NONCE] * 300
    nonces[17] = "PNR-0000"
    nonces[18] = None  # this verifier requires the nonce check
    got = pair.verifier.verify_batch(tokens, nonce=nonces, now=NOW + 10)
    assert isinstance(got[5], kycvs.BadSignatureError)
    assert isinstance(got[11], kycvs.MalformedError)
    assert isinstance(got[17], kycvs.NonceMismatchError)
    assert isinstance(got[18], kycvs.InvalidArgumentError)
    bad = {5, 11, 17, 18}
    for i, verdict in enumerate(got):
        if i not in bad:
            assert isinstance(verdict, kycvs.VerifiedStatus), i
            assert verdict.sub == f"p-{i}"
    # One nonce for all, and no nonce (refused per token unless the check is disabled).
    assert all(isinstance(v, kycvs.VerifiedStatus) for v in pair.verifier.verify_batch(
        tokens[20:30], NONCE, now=NOW
    ))
    assert all(isinstance(v, kycvs.InvalidArgumentError) for v in pair.verifier.verify_batch(
        iter(tokens[20:30]), None, now=NOW
    ))
    lenient = kycvs.Verifier(pair.trust, audience=pair.verifier.audience, check_nonce=False)
    assert all(isinstance(v, kycvs.VerifiedStatus) for v in lenient.verify_batch(
        iter(tokens[20:30]), None, now=NOW
    ))
    expired = pair.verifier.verify_batch(tokens[20:22], NONCE, now=NOW + 3600)
    assert [type(v) for v in expired] == [kycvs.ExpiredError] * 2


def test_arguments(pair: Pair) -> None:
    assert pair.verifier.verify_batch([], NONCE) == []
    token = pair.issue()
    with pytest.raises(TypeError):
        pair.verifier.verify_batch([token])  # type: ignore[call-arg]
    with pytest.raises(kycvs.InvalidArgumentError):
        pair.verifier.verify_batch([token, token], nonce=[NONCE])
    with pytest.raises(TypeError):
        pair.verifier.verify_batch([token, 3], NONCE)  # type: ignore[list-item]
    with pytest.raises(TypeError):
        pair.verifier.verify_batch(3, NONCE)  # type: ignore[arg-type]
    with pytest.raises(kycvs.InvalidArgumentError):
        pair.verifier.verify_batch([token], NONCE, now=-1)


def test_batch_from_threads_gives_every_thread_its_verdicts(pair: Pair) -> None:
    tokens = [pair.issue(subject=f"p-{i}") for i in range(200)]
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                got = pair.verifier.verify_batch(tokens, nonce=NONCE, now=NOW)
                assert all(isinstance(v, kycvs.VerifiedStatus) for v in got)
        except BaseException as err:  # noqa: BLE001 - reported by the main thread
            errors.append(err)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_batch_releases_the_gil(pair: Pair) -> None:
    # Another Python thread must run while verify_batch is inside Rust. With forced switches
    # pushed out of reach, the main thread gives up the GIL between reading the counter
    # before and after the call only if the call itself releases it, so a batch that held
    # the GIL would leave the counter unchanged on every call.
    tokens = [pair.issue(subject=f"p-{i}") for i in range(1000)]
    counter = [0]
    stop = threading.Event()
    running = threading.Event()

    def spin() -> None:
        running.set()
        while not stop.is_set():
            counter[0] += 1
            # Gives the GIL back, so the main thread never waits on this one. (A zero select, not
            # time.sleep(0): the suites also run under libfaketime, whose sleep fails on it.)
            select.select([], [], [], 0)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1_000.0)
    spinner = threading.Thread(target=spin)
    try:
        spinner.start()
        running.wait()
        progressed = []
        for _ in range(20):
            before = counter[0]
            got = pair.verifier.verify_batch(tokens, nonce=NONCE, now=NOW)
            progressed.append(counter[0] - before)
            assert len(got) == len(tokens)
    finally:
        stop.set()
        sys.setswitchinterval(interval)
        spinner.join()
    assert any(n > 0 for n in progressed), progressed
