"""kycvs from Python beside PyJWT (with cryptography) and PyNaCl, on equivalent tokens.

Prints a ratio table (markdown) and, with --json PATH, writes the figures for
benches/report.py. Every figure is the best of several timed rounds, all in this run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import timeit
from collections.abc import Callable
from typing import Any

import jwt
import nacl.signing
from cryptography.hazmat.primitives import serialization

import kycvs

AUDIENCE = "irctc.example"
ISSUER = "cowin.example"
NONCE = "PNR-4711"
BATCH = 1024


def best_per_call(calls: dict[str, tuple[Callable[[], object], int]], rounds: int) -> dict[str, float]:
    """Seconds per call of each function: the fastest of `rounds` rounds of its `number` calls.
    The rounds interleave the functions, so that a burst of other work on a shared machine
    slows one round of each rather than every round of one."""
    best = {name: float("inf") for name in calls}
    for _ in range(rounds):
        for name, (fn, number) in calls.items():
            best[name] = min(best[name], timeit.timeit(fn, number=number) / number)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--quick", action="store_true", help="fewer rounds (smoke test)")
    args = parser.parse_args()
    rounds = 3 if args.quick else 15

    key = kycvs.SigningKey.generate()
    trust = kycvs.TrustStore()
    trust.add(key, issuer=ISSUER)
    issuer = kycvs.Issuer(key, issuer=ISSUER)
    verifier = kycvs.Verifier(trust, audience=AUDIENCE)
    now = int(time.time())
    token = issuer.issue(audience=AUDIENCE, nonce=NONCE, status=2, subject="pseudonym-1", now=now)
    tokens = [
        issuer.issue(audience=AUDIENCE, nonce=NONCE, status=2, subject=f"p-{i}", now=now)
        for i in range(BATCH)
    ]

    # The same claims as an EdDSA JWT, signed by the same key, for PyJWT.
    private = serialization.load_pem_private_key(key.to_pem().encode(), password=None)
    public = private.public_key()  # type: ignore[union-attr]
    claims = kycvs.inspect_unverified(token)["claims"]
    headers = {"kid": issuer.kid, "typ": "kycvs+jwt"}
    pyjwt_token = jwt.encode(claims, private, algorithm="EdDSA", headers=headers)  # type: ignore[arg-type]

    def pyjwt_decode() -> dict[str, Any]:
        return jwt.decode(
            pyjwt_token, public, algorithms=["EdDSA"], audience=AUDIENCE, issuer=ISSUER,
            leeway=60, options={"require": ["iss", "sub", "aud", "iat", "exp", "jti"]},
        )

    # Raw Ed25519 over the same signing input, through libsodium.
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    nacl_key = nacl.signing.VerifyKey(raw)
    head, _, sig = token.rpartition(".")
    signature = jwt.utils.base64url_decode(sig)
    message = head.encode()

    assert verifier.verify(token, nonce=NONCE).status == 2
    assert pyjwt_decode()["vs"] == 2
    assert nacl_key.verify(message, signature) == message
    assert all(isinstance(v, kycvs.VerifiedStatus) for v in verifier.verify_batch(tokens, nonce=NONCE))

    single = 1000 if not args.quick else 200
    best = best_per_call(
        {
            "kycvs": (lambda: verifier.verify(token, nonce=NONCE), single),
            "pyjwt": (pyjwt_decode, single),
            "nacl": (lambda: nacl_key.verify(message, signature), single),
            "batch": (lambda: verifier.verify_batch(tokens, nonce=NONCE), 1),
        },
        rounds,
    )
    t_kycvs, t_pyjwt, t_nacl = best["kycvs"], best["pyjwt"], best["nacl"]
    t_batch = best["batch"] / BATCH
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

    figures = {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "python": platform.python_version(),
        "backend": kycvs.backend(),
        "cores": cores,
        "us": {
            "kycvs_verify": t_kycvs * 1e6,
            "pyjwt_decode": t_pyjwt * 1e6,
            "pynacl_verify": t_nacl * 1e6,
            "kycvs_verify_batch_per_token": t_batch * 1e6,
        },
        "ratios": {
            "verify_vs_pyjwt": t_pyjwt / t_kycvs,
            "verify_vs_pynacl": t_nacl / t_kycvs,
            "verify_batch_vs_pyjwt": t_pyjwt / t_batch,
            "verify_batch_vs_pyjwt_per_core": t_pyjwt / t_batch / cores,
        },
    }
    print(f"Python {figures['python']}, curve25519 backend {figures['backend']}, {cores} cores, "
          f"best of {rounds} rounds\n")
    print("| call | µs per token | kycvs speed-up | target |")
    print("|---|---:|---:|---:|")
    us = figures["us"]
    ratios = figures["ratios"]
    print(f"| kycvs `Verifier.verify` | {us['kycvs_verify']:.1f} | 1.00 | |")
    print(f"| PyJWT `jwt.decode` (cryptography) | {us['pyjwt_decode']:.1f} | "
          f"{ratios['verify_vs_pyjwt']:.2f} x | >= 6 x |")
    print(f"| PyNaCl raw `VerifyKey.verify` | {us['pynacl_verify']:.1f} | "
          f"{ratios['verify_vs_pynacl']:.2f} x | |")
    print(f"| kycvs `verify_batch` ({BATCH}) | {us['kycvs_verify_batch_per_token']:.1f} | "
          f"{ratios['verify_batch_vs_pyjwt']:.2f} x PyJWT, "
          f"{ratios['verify_batch_vs_pyjwt_per_core']:.2f} x per core | >= 25 x per core |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(figures, f, indent=2)


if __name__ == "__main__":
    main()
