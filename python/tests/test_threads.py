"""One Verifier and one Issuer shared by many threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import kycvs

from conftest import NONCE, NOW, Pair

THREADS = 8
ROUNDS = 200


def test_one_verifier_from_eight_threads(pair: Pair) -> None:
    tokens = [pair.issue(status=i % 3, nonce=f"n-{i}") for i in range(THREADS)]

    def work(index: int) -> list[str]:
        seen: list[str] = []
        for round_ in range(ROUNDS):
            i = (index + round_) % THREADS
            got = pair.verifier.verify(tokens[i], nonce=f"n-{i}", now=NOW)
            assert got.status == i % 3
            assert got.nonce == f"n-{i}"
            try:
                pair.verifier.verify(tokens[i], nonce=NONCE, now=NOW)
            except kycvs.NonceMismatchError as err:
                seen.append(err.code)
        return seen

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(work, range(THREADS)))
    assert results == [["nonce_mismatch"] * ROUNDS] * THREADS


def test_one_issuer_from_eight_threads(pair: Pair) -> None:
    def work(index: int) -> set[str]:
        return {pair.issue(nonce=f"n-{index}") for _ in range(50)}

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        batches = list(pool.map(work, range(THREADS)))
    tokens = set().union(*batches)
    assert len(tokens) == THREADS * 50
    # Each thread's tokens carry its own nonce: checked here by a verifier that skips it.
    lenient = kycvs.Verifier(pair.trust, audience=pair.verifier.audience, check_nonce=False)
    for token in tokens:
        assert lenient.verify(token, None, now=NOW).iss == pair.issuer.issuer
