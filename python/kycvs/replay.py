"""The protocol of a replay store a verifier can use instead of ``kycvs.ReplayGuard``.

A store shared by many verifier processes (a booking site's servers behind a load balancer)
implements ``check_and_record_all``; ``kycvs.Verifier(..., replay_guard=store)`` then calls
it once per ``verify`` and once per ``verify_batch`` (all the tokens that passed every other
check, in input order). If it raises or answers anything but one ``bool`` per entry, those
tokens are refused with ``ReplayStoreUnavailableError``: never accepted unchecked.
"""

from __future__ import annotations

from typing import Protocol


class ReplayStore(Protocol):
    """Remembers accepted token ids (``jti``) across verifiers."""

    def check_and_record_all(self, entries: list[tuple[str, int]], now: int) -> list[bool]:
        """Records each ``(jti, keep_until)``, in order, and answers for each whether it was
        new (``True``; it is now remembered while ``now < keep_until``) or already
        remembered (``False``: a replay; also the second of two equal ``jti`` in one call)."""
        ...
