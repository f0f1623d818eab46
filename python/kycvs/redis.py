"""A replay store in Redis, shared by the verifiers of many processes (``pip install
kycvs[redis]``, which brings redis-py).

>>> import redis, kycvs, kycvs.redis                              # doctest: +SKIP
>>> store = kycvs.redis.RedisReplayStore(redis.Redis(host="127.0.0.1", socket_timeout=0.5))
>>> verifier = kycvs.Verifier(trust, audience="irctc.example", replay_guard=store)

Each ``verify`` or ``verify_batch`` is one script run in Redis: ``SET {prefix}replay:{jti} 1
NX EX (keep_until - now)`` for every token that passed the other checks. The keys are the
same as Rust's ``kycvs_redis::RedisReplayStore``, so Python and Rust verifiers share one
memory. If Redis cannot be reached within the client's timeouts the tokens are refused with
``ReplayStoreUnavailableError`` (the verifier turns the client's exception into that code).
"""

from __future__ import annotations

from typing import Any

# One source for the script: the same Lua as kycvs-redis (redis/src/lib.rs REPLAY_SCRIPT);
# tests/test_redis.py checks that the two copies are identical.
REPLAY_SCRIPT = """
local out = {}
for i = 1, #KEYS do
  if redis.call('SET', KEYS[i], '1', 'NX', 'EX', tonumber(ARGV[i])) then
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
"""


class RedisReplayStore:
    """A ``kycvs.ReplayStore`` over a ``redis.Redis`` client (configure its timeouts)."""

    def __init__(self, client: Any, *, prefix: str = "kycvs:") -> None:
        if not prefix or len(prefix) > 64 or not prefix.isascii() or not prefix.isprintable():
            raise ValueError("prefix must be 1 to 64 printable ASCII characters")
        self._prefix = prefix
        self._script = client.register_script(REPLAY_SCRIPT)

    def check_and_record_all(self, entries: list[tuple[str, int]], now: int) -> list[bool]:
        if not entries:
            return []
        keys = [f"{self._prefix}replay:{jti}" for jti, _ in entries]
        ttls = [max(1, keep_until - now) for _, keep_until in entries]
        answers = self._script(keys=keys, args=ttls)
        return [answer == 1 for answer in answers]
