"""A booking server's verifier as one process, in Python: the twin of booking_verifier.c,
with the same arguments and line protocol, its replay memory in Redis through
``kycvs.redis.RedisReplayStore``.

Usage: python booking_verifier.py JWKS_FILE AUDIENCE REDIS_SOCKET TIMEOUT_MS

Input lines ``TOKEN NONCE NOW``, or ``BATCH n`` followed by n such lines (one
``verify_batch`` at the first line's NOW); output one line per token, ``ok STATUS`` or the
error's code (``replayed``, ``replay_store_unavailable``, ...), ``bad_input`` for a line it
cannot read.
"""

from __future__ import annotations

import sys

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

import kycvs
import kycvs.redis

MAX_BATCH = 100_000


def parse(line: str) -> tuple[str, str, int] | None:
    words = line.split()
    if len(words) != 3 or not words[2].isdigit():
        return None
    return words[0], words[1], int(words[2])


def verdict(result: kycvs.VerifiedStatus | kycvs.KycvsError) -> str:
    if isinstance(result, kycvs.KycvsError):
        return result.code
    return f"ok {int(result.status)}"


def main() -> int:
    if len(sys.argv) != 5:
        print("usage: booking_verifier.py JWKS_FILE AUDIENCE REDIS_SOCKET TIMEOUT_MS",
              file=sys.stderr)
        return 2
    jwks_file, audience, socket, timeout_ms = sys.argv[1:]
    timeout = int(timeout_ms) / 1000
    with open(jwks_file, encoding="utf-8") as f:
        trust = kycvs.TrustStore.from_jwks(f.read())
    # No retries (redis-py retries timeouts three times with backoff by default): an outage
    # is answered within the timeout, as the C verifier does, and a script that timed out is
    # not run again.
    client = redis.Redis(unix_socket_path=socket, socket_timeout=timeout,
                         socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0))
    store = kycvs.redis.RedisReplayStore(client)
    verifier = kycvs.Verifier(trust, audience=audience, replay_guard=store)
    for line in sys.stdin:
        words = line.split()
        if len(words) == 2 and words[0] == "BATCH" and words[1].isdigit() \
                and 1 <= int(words[1]) <= MAX_BATCH:
            requests = [parse(sys.stdin.readline()) for _ in range(int(words[1]))]
            if any(r is None for r in requests):
                answers = ["bad_input"] * len(requests)
            else:
                ok = [r for r in requests if r is not None]
                results = verifier.verify_batch([r[0] for r in ok], [r[1] for r in ok],
                                                now=ok[0][2])
                answers = [verdict(r) for r in results]
        else:
            request = parse(line)
            if request is None:
                answers = ["bad_input"]
            else:
                try:
                    answers = [verdict(verifier.verify(request[0], request[1],
                                                       now=request[2]))]
                # ReplayStoreUnavailableError is no VerificationError: the token may be fine.
                except kycvs.KycvsError as e:
                    answers = [e.code]
        print("\n".join(answers), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
