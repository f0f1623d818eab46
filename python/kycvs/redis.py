"""A replay store in Redis, shared by the verifiers of many processes (``pip install
kycvs[redis]``, which brings redis-py).

>>> import redis, kycvs, kycvs.redis                              # doctest: +SKIP
>>> from redis.backoff import NoBackoff
>>> from redis.retry import Retry
>>> client = redis.Redis(host="127.0.0.1", socket_timeout=0.5, socket_connect_timeout=0.5,
...                      retry=Retry(NoBackoff(), 0))
>>> store = kycvs.redis.RedisReplayStore(client)
>>> verifier = kycvs.Verifier(trust, audience="irctc.example", replay_guard=store)

Give the client ``retry=Retry(NoBackoff(), 0)``: redis-py otherwise repeats a command that
timed out, with growing waits, so a stalled Redis answers a verification after several
seconds instead of one timeout (and a repeated script can only refuse the tokens it already
recorded).

Each ``verify`` or ``verify_batch`` is one script run in Redis (≥ 6.2). Token ids are members
of one set per hour of keep-until time, ``{prefix}replay:{keep_until // 3600}``, kept until the
end of its hour by the verifier's clock; a token id counts as seen when it is in its own hour's
set or in the hour before or after (verifiers' leeways differ by at most an hour). The keys
and the script are those of Rust's ``kycvs_redis::RedisReplayStore`` and of the C reference callback
(``examples/redis/``), so verifiers in every language share one memory. If Redis cannot be
reached within the client's timeouts the tokens are refused with
``ReplayStoreUnavailableError`` (the verifier turns the client's exception into that code).
"""

from __future__ import annotations

from typing import Any

#: Seconds of keep-until time that share one set (an hour: the largest leeway).
BUCKET_SECONDS = 3600

# The one source of the script is redis/src/replay.lua; `make codegen` writes this copy and
# `make test` fails when it is stale.
# BEGIN GENERATED (replay script) by kycvs-codegen; do not edit, run `make codegen`
REPLAY_SCRIPT = """\
-- kycvs replay store: remembers token ids (jti) in one set per hour of keep-until time.
-- KEYS: three per hour of the call, in order: the hour before, the hour, the hour after.
-- ARGV[1]: n, the number of hours; ARGV[1 + h]: seconds from now to the end of hour h;
-- ARGV[2 + n]: each token's hour number h (1 to n) as two bytes, big-endian, in input
-- order; then one jti per token, in input order. Answers, per token, 1 (new, remembered
-- now) or 0 (remembered already in any of its three hours, or earlier in this call).
local n = tonumber(ARGV[1])
local first = n + 3
-- Per hour: a list of jtis and the range of it that belongs to the hour.
local groups = {}
if n == 1 then
  groups[1] = {ARGV, first, #ARGV}
else
  local index = ARGV[n + 2]
  local lists = {}
  for h = 1, n do lists[h] = {} end
  for i = first, #ARGV do
    local p = 2 * (i - first) + 1
    local hi, lo = string.byte(index, p, p + 1)
    local list = lists[hi * 256 + lo]
    list[#list + 1] = ARGV[i]
  end
  for h = 1, n do groups[h] = {lists[h], 1, #lists[h]} end
end
-- Every read before any write, a thousand members a command.
local known = {}
for h = 1, n do
  local list, from, to = groups[h][1], groups[h][2], groups[h][3]
  for k = 3 * h - 2, 3 * h do
    if redis.call('EXISTS', KEYS[k]) == 1 then
      for i = from, to, 1000 do
        local found = redis.call('SMISMEMBER', KEYS[k], unpack(list, i, math.min(i + 999, to)))
        for m = 1, #found do
          if found[m] == 1 then known[list[i + m - 1]] = true end
        end
      end
    end
  end
end
for h = 1, n do
  local list, from, to = groups[h][1], groups[h][2], groups[h][3]
  for i = from, to, 1000 do
    redis.call('SADD', KEYS[3 * h - 1], unpack(list, i, math.min(i + 999, to)))
  end
  redis.call('EXPIRE', KEYS[3 * h - 1], tonumber(ARGV[1 + h]))
end
local out = {}
for i = first, #ARGV do
  local jti = ARGV[i]
  if known[jti] then
    out[i - first + 1] = 0
  else
    known[jti] = true
    out[i - first + 1] = 1
  end
end
return out
"""
# END GENERATED (replay script)


def script_arguments(prefix: str, entries: list[tuple[str, int]],
                     now: int) -> tuple[list[str], list[Any]]:
    """The keys and arguments of one script run for ``entries`` (jti, keep_until) at ``now``:
    three keys per hour, then the hour count, each hour's remaining seconds, each entry's hour
    number as two big-endian bytes and every jti, in input order."""
    hours = sorted({keep_until // BUCKET_SECONDS for _, keep_until in entries})
    if len(hours) > 0xFFFF:
        raise ValueError("more hours of keep-until time than one call can number")
    number = {hour: i + 1 for i, hour in enumerate(hours)}
    # Hour 0 has no hour before it (the Rust and C stores name hour 0 twice, as here).
    keys = [f"{prefix}replay:{max(hour + step, 0)}" for hour in hours for step in (-1, 0, 1)]
    args: list[Any] = [len(hours)]
    args += [max(1, (hour + 1) * BUCKET_SECONDS - now) for hour in hours]
    args.append(b"".join(number[keep_until // BUCKET_SECONDS].to_bytes(2, "big")
                         for _, keep_until in entries))
    args += [jti for jti, _ in entries]
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
