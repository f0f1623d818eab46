"""The replay guard through Python verifiers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

import kycvs

from conftest import AUDIENCE, NONCE, NOW, Pair


def guarded(pair: Pair, guard: kycvs.ReplayGuard) -> kycvs.Verifier:
    return kycvs.Verifier(pair.trust, audience=AUDIENCE, replay_guard=guard)


def test_second_presentation_is_replayed(pair: Pair) -> None:
    guard = kycvs.ReplayGuard()
    assert (guard.capacity, len(guard)) == (100_000, 0)
    verifier = guarded(pair, guard)
    token = pair.issue()
    verifier.verify(token, NONCE, now=NOW + 1)
    with pytest.raises(kycvs.ReplayedError) as e:
        verifier.verify(token, NONCE, now=NOW + 2)
    assert e.value.code == "replayed"
    assert len(guard) == 1
    # Shared by another verifier; a verifier without it is unaffected.
    with pytest.raises(kycvs.ReplayedError):
        guarded(pair, guard).verify(token, NONCE, now=NOW + 2)
    pair.verifier.verify(token, NONCE, now=NOW + 2)


def test_rejected_tokens_are_not_recorded(pair: Pair) -> None:
    guard = kycvs.ReplayGuard(capacity=10)
    verifier = guarded(pair, guard)
    token = pair.issue()
    with pytest.raises(kycvs.NonceMismatchError):
        verifier.verify(token, nonce="other", now=NOW + 1)
    assert len(guard) == 0
    verifier.verify(token, NONCE, now=NOW + 1)


def test_full_guard_fails_closed(pair: Pair) -> None:
    guard = kycvs.ReplayGuard(capacity=1)
    verifier = guarded(pair, guard)
    verifier.verify(pair.issue(subject="a"), NONCE, now=NOW + 1)
    with pytest.raises(kycvs.ReplayedError):
        verifier.verify(pair.issue(subject="b"), NONCE, now=NOW + 1)
    assert "ReplayGuard(capacity=1, len=1)" == repr(guard)


def test_batch_first_presentation_wins(pair: Pair) -> None:
    verifier = guarded(pair, kycvs.ReplayGuard())
    token = pair.issue()
    results = verifier.verify_batch([token, token, pair.issue()], NONCE, now=NOW + 1)
    assert isinstance(results[0], kycvs.VerifiedStatus)
    assert isinstance(results[1], kycvs.ReplayedError)
    assert isinstance(results[2], kycvs.VerifiedStatus)


def test_threads_accept_one_token_once(pair: Pair) -> None:
    verifier = guarded(pair, kycvs.ReplayGuard())
    token = pair.issue()

    def present(_: int) -> bool:
        try:
            verifier.verify(token, NONCE, now=NOW + 1)
            return True
        except kycvs.ReplayedError:
            return False

    with ThreadPoolExecutor(8) as pool:
        assert sum(pool.map(present, range(32))) == 1


def test_bad_arguments() -> None:
    with pytest.raises(kycvs.InvalidArgumentError):
        kycvs.ReplayGuard(capacity=0)
    with pytest.raises(kycvs.InvalidArgumentError):
        kycvs.ReplayGuard(capacity=-1)
    with pytest.raises(TypeError):
        kycvs.ReplayGuard(capacity="10")  # type: ignore[arg-type]


class SharedStore:
    """A replay store as a process-shared one would behave: a set, and a log of calls."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.calls: list[list[tuple[str, int]]] = []
        self.broken = False

    def check_and_record_all(self, entries: list[tuple[str, int]], now: int) -> list[bool]:
        self.calls.append(list(entries))
        if self.broken:
            raise ConnectionError("the shared store is out of reach")
        answers = []
        for jti, _keep_until in entries:
            answers.append(jti not in self.seen)
            self.seen.add(jti)
        return answers


def test_a_python_object_can_be_the_replay_store(pair: Pair) -> None:
    store = SharedStore()
    first = kycvs.Verifier(pair.trust, audience=AUDIENCE, replay_guard=store)
    second = kycvs.Verifier(pair.trust, audience=AUDIENCE, replay_guard=store)
    token = pair.issue()
    first.verify(token, NONCE, now=NOW + 1)
    with pytest.raises(kycvs.ReplayedError):
        second.verify(token, NONCE, now=NOW + 2)
    jti = first.verify(pair.issue(), NONCE, now=NOW + 3).jti
    assert store.calls[-1] == [(jti, NOW + 300 + 60)]


def test_a_batch_asks_the_store_once(pair: Pair) -> None:
    store = SharedStore()
    verifier = kycvs.Verifier(pair.trust, audience=AUDIENCE, replay_guard=store)
    a, b = pair.issue(), pair.issue()
    verdicts = verifier.verify_batch([a, b, a, b], [NONCE, "other", NONCE, NONCE], now=NOW + 1)
    assert len(store.calls) == 1 and len(store.calls[0]) == 3
    assert isinstance(verdicts[0], kycvs.VerifiedStatus)
    assert isinstance(verdicts[1], kycvs.NonceMismatchError)
    assert isinstance(verdicts[2], kycvs.ReplayedError)
    assert isinstance(verdicts[3], kycvs.VerifiedStatus)


def test_a_failing_or_wrong_store_refuses(pair: Pair) -> None:
    store = SharedStore()
    store.broken = True
    verifier = kycvs.Verifier(pair.trust, audience=AUDIENCE, replay_guard=store)
    with pytest.raises(kycvs.ReplayStoreUnavailableError) as e:
        verifier.verify(pair.issue(), NONCE, now=NOW + 1)
    assert e.value.code == "replay_store_unavailable"

    class Short:
        def check_and_record_all(self, entries: list[tuple[str, int]], now: int) -> list[bool]:
            return []

    short = kycvs.Verifier(pair.trust, audience=AUDIENCE, replay_guard=Short())
    with pytest.raises(kycvs.ReplayStoreUnavailableError):
        short.verify(pair.issue(), NONCE, now=NOW + 1)
    with pytest.raises(TypeError):
        kycvs.Verifier(pair.trust, audience=AUDIENCE, replay_guard=object())  # type: ignore[arg-type]
