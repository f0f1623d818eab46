"""kycvs.redis against a real redis-server: two verifier processes share one replay memory
with Rust's key layout, and a Redis outage refuses tokens instead of accepting them."""

from __future__ import annotations

import os
import pathlib
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

import kycvs
import kycvs.redis

from conftest import AUDIENCE, NONCE, NOW, Pair

ROOT = pathlib.Path(__file__).resolve().parents[2]


class Server:
    def __init__(self, directory: pathlib.Path) -> None:
        self.dir = directory
        self.socket = directory / "redis.sock"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is installed by scripts/test-deps.sh"
        self.process = subprocess.Popen(
            [binary, "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
             "--dir", str(self.dir), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            # Redis keeps its own, real clock, also when the tests run under libfaketime.
            env={k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "FAKETIME")})
        deadline = time.monotonic() + 20
        while True:
            try:
                redis.Redis(unix_socket_path=str(self.socket)).ping()
                return
            except redis.exceptions.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                # select, not time.sleep: libfaketime (make test-faketime) breaks sleep.
                select.select([], [], [], 0.02)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def script_calls(self) -> int:
        stats: Any = self.client().info("commandstats")
        return sum(int(stats.get(name, {}).get("calls", 0))
                   for name in ("cmdstat_evalsha", "cmdstat_eval"))

    def client(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.socket), socket_timeout=0.5,
                           socket_connect_timeout=0.5)


@pytest.fixture
def server(tmp_path: pathlib.Path) -> Iterator[Server]:
    s = Server(tmp_path)
    s.start()
    yield s
    s.stop()


def test_script_arguments_name_three_hours_per_hour_of_the_call() -> None:
    keys, args = kycvs.redis.script_arguments(
        "p:", [("a", 7200 + 5), ("b", 3 * 3600), ("c", 7200 + 9)], now=7000)
    assert keys == ["p:replay:1", "p:replay:2", "p:replay:3",
                    "p:replay:2", "p:replay:3", "p:replay:4"]
    assert args == [2, 3 * 3600 - 7000, 4 * 3600 - 7000, b"\0\1\0\2\0\1", "a", "b", "c"]
    keys, _ = kycvs.redis.script_arguments("p:", [("a", 5)], now=0)
    assert keys == ["p:replay:0", "p:replay:0", "p:replay:1"]


def test_two_verifier_processes_share_one_replay_memory(pair: Pair, server: Server) -> None:
    token = pair.issue()
    jwks = pair.trust.to_jwks()
    # Another process (another booking server) verifies the token first.
    code = f"""
import sys, redis, kycvs, kycvs.redis
trust = kycvs.TrustStore.from_jwks({jwks!r})
store = kycvs.redis.RedisReplayStore(redis.Redis(unix_socket_path={str(server.socket)!r}))
verifier = kycvs.Verifier(trust, audience={AUDIENCE!r}, replay_guard=store)
print(int(verifier.verify({token!r}, {NONCE!r}, now={NOW + 1}).status))
"""
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, cwd=ROOT / "python" / "tests")
    assert other.stdout.strip() == "2"
    store = kycvs.redis.RedisReplayStore(server.client())
    verifier = kycvs.Verifier(pair.trust, audience=AUDIENCE, replay_guard=store)
    with pytest.raises(kycvs.ReplayedError):
        verifier.verify(token, NONCE, now=NOW + 2)
    jti = kycvs.inspect_unverified(token)["claims"]["jti"]
    hour = (NOW + 300 + 60) // 3600
    assert server.client().smembers(f"kycvs:replay:{hour}") == {jti.encode()}
    ttl: Any = server.client().ttl(f"kycvs:replay:{hour}")
    assert 0 < int(ttl) <= (hour + 1) * 3600 - NOW


def test_a_batch_is_one_script_and_an_outage_refuses(pair: Pair, server: Server) -> None:
    store = kycvs.redis.RedisReplayStore(server.client())
    verifier = kycvs.Verifier(pair.trust, audience=AUDIENCE, replay_guard=store)
    tokens = [pair.issue() for _ in range(20)]
    before = server.script_calls()
    verdicts = verifier.verify_batch(tokens + tokens[:1], NONCE, now=NOW + 1)
    # One round trip: EVALSHA (plus one EVAL when the script was not loaded yet).
    assert server.script_calls() - before <= 2
    assert all(isinstance(v, kycvs.VerifiedStatus) for v in verdicts[:20])
    assert isinstance(verdicts[20], kycvs.ReplayedError)
    server.stop()
    started = time.monotonic()
    with pytest.raises(kycvs.ReplayStoreUnavailableError):
        verifier.verify(pair.issue(), NONCE, now=NOW + 2)
    assert time.monotonic() - started < 3
    server.start()
    verifier.verify(pair.issue(), NONCE, now=NOW + 3)
