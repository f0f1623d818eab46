"""A replay store in Redis, shared by the verifiers of many processes (``pip install
kycvs[redis]``, which brings redis-py).

>>> import redis, kycvs, kycvs.redis                              # doctest: +SKIP
>>> store = kycvs.redis.RedisReplayStore(redis.Redis(host="127.0.0.1", socket_timeout=0.5))
>>> verifier = kycvs.Verifier(trust, audience="irctc.example", replay_guard=store)

Each ``verify`` or ``verify_batch`` is one script run in Redis. Token ids are fields of one
hash per hour of keep-until time, ``{prefix}replay:{keep_until // 3600}``, kept until the end
of its hour by the verifier's clock; a token id counts as seen when it is in its own hour's
hash or in the hour before or after (verifiers' leeways differ by at most an hour). The keys
and the script are those of Rust's ``kycvs_redis::RedisReplayStore`` and of the C reference callback
(``examples/redis/``), so verifiers in every language share one memory. If Redis cannot be
reached within the client's timeouts the tokens are refused with
``ReplayStoreUnavailableError`` (the verifier turns the client's exception into that code).
"""

from __future__ import annotations

from typing import Any

#: Seconds of keep-until time that share one hash (an hour: the largest leeway).
BUCKET_SECONDS = 3600

# The one source of the script is redis/src/replay.lua; `make codegen` writes this copy and
# `make test` fails when it is stale.
# BEGIN GENERATED (replay script) by kycvs-codegen; do not edit, run `make codegen`
REPLAY_SCRIPT = """\
-- kycvs replay store: records token ids (jti) in one hash per hour of keep-until time.
-- KEYS: three per bucket of the call, in order: the hour before, the bucket, the hour after.
-- ARGV[1]: n, the number of buckets; ARGV[1 + b]: seconds from now to the end of bucket b;
-- then one (b, jti) pair per token, in input order. Answers 1 (new, now remembered) or 0
-- (remembered already, in any of the three hours: verifiers' leeways differ by at most an
-- hour; or earlier in this call) for each token.
local n = tonumber(ARGV[1])
local first = n + 2
local count = (#ARGV - n - 1) / 2
local function each_slice(list, f)
  for i = 1, #list, 1000 do
    f(unpack(list, i, math.min(i + 999, #list)))
  end
end
local wanted = {}
for b = 1, n do wanted[b] = {} end
for i = 1, count do
  local b = tonumber(ARGV[first + 2 * i - 2])
  table.insert(wanted[b], ARGV[first + 2 * i - 1])
end
local known = {}
for b = 1, n do
  for k = 3 * b - 2, 3 * b do
    each_slice(wanted[b], function(...)
      local fields = {...}
      local values = redis.call('HMGET', KEYS[k], ...)
      for i = 1, #fields do
        if values[i] then known[fields[i]] = true end
      end
    end)
  end
end
local out, added = {}, {}
for b = 1, n do added[b] = {} end
for i = 1, count do
  local b = tonumber(ARGV[first + 2 * i - 2])
  local jti = ARGV[first + 2 * i - 1]
  if known[jti] then
    out[i] = 0
  else
    known[jti] = true
    out[i] = 1
    table.insert(added[b], jti)
    table.insert(added[b], '1')
  end
end
for b = 1, n do
  if #added[b] > 0 then
    each_slice(added[b], function(...) redis.call('HSET', KEYS[3 * b - 1], ...) end)
    redis.call('EXPIRE', KEYS[3 * b - 1], tonumber(ARGV[1 + b]))
  end
end
return out
"""
# END GENERATED (replay script)


def script_arguments(prefix: str, entries: list[tuple[str, int]],
                     now: int) -> tuple[list[str], list[Any]]:
    """The keys and arguments of one script run for ``entries`` (jti, keep_until) at ``now``."""
    buckets = sorted({keep_until // BUCKET_SECONDS for _, keep_until in entries})
    index = {bucket: i + 1 for i, bucket in enumerate(buckets)}
    keys = [f"{prefix}replay:{bucket + step}" for bucket in buckets for step in (-1, 0, 1)]
    args: list[Any] = [len(buckets)]
    args += [max(1, (bucket + 1) * BUCKET_SECONDS - now) for bucket in buckets]
    for jti, keep_until in entries:
        args += [index[keep_until // BUCKET_SECONDS], jti]
    return keys, args


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
        keys, args = script_arguments(self._prefix, entries, now)
        answers = self._script(keys=keys, args=args)
        return [answer == 1 for answer in answers]
