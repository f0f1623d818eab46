"""Writes benches/RESULTS.md: every kycvs figure beside its baseline from the same run, as a
ratio, with the targets of issue 14 (round two), the machine, the curve25519 backend and the
date. Run by benches/run.sh.

Reads criterion's raw samples and estimates under TARGET/criterion, and the JSON files that
benches/python/bench.py, benches/c/bench.c, the CLI memory check and the service's load test
(benches/load) wrote to TARGET/bench-results.

Each Rust ratio is taken twice: from the fastest sample of each side (the verdict: on a shared
machine other work only ever adds time, so the fastest sample is the one least disturbed, the
same rule as the best-of-rounds Python and C scripts), and from criterion's medians (shown
beside it, so that a noisy run is visible as a gap between the two).
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

BATCH_SIZES = [16, 64, 256, 1024]
LOAD_AT_START = os.environ.get("KYCVS_BENCH_LOAD", "not recorded")
PARALLEL = 4096


def median_ns(criterion: Path, *parts: str) -> float | None:
    path = criterion.joinpath(*parts, "new", "estimates.json")
    if not path.exists():
        return None
    return float(json.loads(path.read_text())["median"]["point_estimate"])


def best_ns(criterion: Path, *parts: str) -> float | None:
    """The fastest per-iteration time over criterion's samples."""
    path = criterion.joinpath(*parts, "new", "sample.json")
    if not path.exists():
        return None
    sample = json.loads(path.read_text())
    return min(t / i for t, i in zip(sample["times"], sample["iters"]) if i > 0)


def load(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.exists() else None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def backend_line(target: Path, *recorded: dict[str, Any] | None) -> str:
    """`curve25519 backend: avx2 (compiled in: ...)` as the release `kycvs --version` says,
    else as the C or Python run recorded it."""
    try:
        out = subprocess.run([str(target / "release" / "kycvs"), "--version"],
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        names = {r["backend"] for r in recorded if r and "backend" in r}
        return f"curve25519 backend: {', '.join(sorted(names)) or 'unknown'} (C and Python runs)"
    return next((line for line in out.splitlines() if line.startswith("curve25519")),
                "curve25519 backend: unknown")


def verdict(ratio: float | None, target: float | None) -> str:
    if ratio is None:
        return "not run"
    if target is None:
        return ""
    return "met" if ratio >= target else "**missed**"


def main() -> None:
    target = Path(sys.argv[1])
    out = Path(sys.argv[2])
    criterion = target / "criterion"
    results = target / "bench-results"
    Figure = tuple[float, float] | None  # (fastest sample, median), ns
    rows: list[tuple[str, str, Figure, Figure, float | None, float | None, float | None]] = []

    def row(what: str, base: str, ours: Figure, theirs: Figure,
            target_ratio: float | None, scale: float = 1.0) -> None:
        best = theirs[0] / ours[0] * scale if ours and theirs else None
        median = theirs[1] / ours[1] * scale if ours and theirs else None
        rows.append((what, base, ours, theirs, best, median, target_ratio))

    def ns(*parts: str) -> Figure:
        best, median = best_ns(criterion, *parts), median_ns(criterion, *parts)
        return (best, median) if best and median else None

    row("verify/single: full token", "dalek `verify_strict`, raw",
        ns("verify_single", "kycvs"), ns("verify_single", "dalek_verify_strict"), 0.95)
    row("verify/single: full token", "jsonwebtoken `decode` (EdDSA)",
        ns("verify_single", "kycvs"), ns("verify_single", "jsonwebtoken_decode"), None)
    row("issue/single", "dalek `sign`, raw", ns("issue_single", "kycvs"),
        ns("issue_single", "dalek_sign"), 0.9)
    row("issue/single", "jsonwebtoken `encode` (EdDSA)", ns("issue_single", "kycvs"),
        ns("issue_single", "jsonwebtoken_encode"), None)
    for n in BATCH_SIZES:
        group = f"verify_batch_{n}"
        strict = ns(group, "dalek_verify_strict_each")
        for keys, target_ratio in (("same_key", 6.0), ("mixed_keys", 2.8)):
            t = target_ratio if n == 1024 else None
            ours = ns(group, "kycvs", keys)
            row(f"verify/batch/{n}, {keys.replace('_', ' ')}, 1 thread",
                "dalek `verify_strict` each", ours, strict, t)
            row(f"verify/batch/{n}, {keys.replace('_', ' ')}, 1 thread",
                f"dalek `verify_batch` ({keys.replace('_', ' ')})", ours,
                ns(group, "dalek_verify_batch", keys), None)
    cores = os.cpu_count() or 1
    par_dir = criterion / f"verify_parallel_{PARALLEL}" / "kycvs"
    threads = max((int(p.name) for p in par_dir.iterdir() if p.name.isdigit()), default=1) \
        if par_dir.exists() else 1
    one = ns(f"verify_parallel_{PARALLEL}", "kycvs", "1")
    many = ns(f"verify_parallel_{PARALLEL}", "kycvs", str(threads))
    row(f"verify/parallel/{PARALLEL}, {threads} threads, per thread",
        "same batch, 1 thread", many, one, 0.85, 1.0 / threads)

    lines = [
        "# kycvs benchmark results",
        "",
        f"Written by `make bench` (benches/run.sh) on {datetime.date.today().isoformat()}: "
        f"{cpu_model()}, {cores} logical cores, {platform.system()} {platform.release()}, "
        f"{subprocess.run(['rustc', '--version'], capture_output=True, text=True).stdout.strip()}"
        f"{', RUSTFLAGS=' + os.environ['RUSTFLAGS'] if os.environ.get('RUSTFLAGS') else ', generic x86-64 build with run-time dispatch (.cargo/config.toml)'}.",
        f"The {backend_line(target, load(results / 'c.json'), load(results / 'python.json'))}; dalek `verify_strict` and the Python and C figures use "
        "the same build and the same backend.",
        "",
        "Each ratio is baseline time / kycvs time, both measured in this run. Above 1: kycvs is",
        "faster. The verdict uses the fastest criterion sample of each side (other work on a",
        "shared machine only ever adds time; the Python and C figures are likewise the best of",
        "several rounds); the ratio of criterion's medians stands beside it.",
        f"Load average when the run started: {LOAD_AT_START}.",
        "",
        "## Rust (criterion, `cargo bench -p kycvs-benches`)",
        "",
        "| bench | baseline | kycvs µs | baseline µs | ratio | ratio of medians | target | |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for what, base, ours_f, theirs_f, ratio, median_ratio, tgt in rows:
        ours = ours_f[0] if ours_f else None
        theirs = theirs_f[0] if theirs_f else None
        per = 1.0
        if what.startswith("verify/batch/"):
            per = float(what.split("/")[2].split(",")[0])
        elif what.startswith("verify/parallel"):
            per = float(PARALLEL)
        fmt = lambda v: f"{v / 1000 / per:.2f}" if v else "-"  # noqa: E731
        lines.append(
            f"| {what} | {base} | {fmt(ours)} | {fmt(theirs)} | "
            f"{f'{ratio:.2f}' if ratio else '-'} | "
            f"{f'{median_ratio:.2f}' if median_ratio else '-'} | {f'>= {tgt}' if tgt else ''} | "
            f"{verdict(ratio, tgt)} |"
        )
    lines += ["", "Batch figures are per token. The parallel ratio is (1-thread time / "
              f"{threads}-thread time) / {threads}.", ""]

    py = load(results / "python.json")
    py1 = load(results / "python-1thread.json")
    if py:
        lines += ["## Python (benches/python, PyJWT + cryptography, PyNaCl)", "",
                  f"`kycvs.backend()`: {py.get('backend', 'not recorded')}.", "",
                  "| figure | value | target | |", "|---|---:|---:|---|"]
        r = py["ratios"]
        lines.append(f"| `verify` vs PyJWT `decode` | {r['verify_vs_pyjwt']:.2f} x | >= 6 x | "
                     f"{verdict(r['verify_vs_pyjwt'], 6)} |")
        lines.append(f"| `verify` vs PyNaCl raw verify | {r['verify_vs_pynacl']:.2f} x | | |")
        lines.append(f"| `verify_batch` vs PyJWT, per core ({py['cores']} cores) | "
                     f"{r['verify_batch_vs_pyjwt_per_core']:.2f} x | >= 25 x | "
                     f"{verdict(r['verify_batch_vs_pyjwt_per_core'], 25)} |")
        if py1:
            r1 = py1["ratios"]
            lines.append(f"| `verify_batch` vs PyJWT, 1 thread (RAYON_NUM_THREADS=1) | "
                         f"{r1['verify_batch_vs_pyjwt']:.2f} x | >= 25 x | "
                         f"{verdict(r1['verify_batch_vs_pyjwt'], 25)} |")
        us = py["us"]
        lines += ["", "µs per token: " + ", ".join(f"{k} {v:.1f}" for k, v in us.items()), ""]

    c = load(results / "c.json")
    c1 = load(results / "c-1thread.json")
    if c:
        lines += [f"## C (benches/c, libsodium {c['libsodium']})", "",
                  f"`kycvs_backend()`: {c.get('backend', 'not recorded')}.", "",
                  "| figure | value | target | |", "|---|---:|---:|---|"]
        r = c["ratios"]
        lines.append(f"| `kycvs_verifier_verify` vs `crypto_sign_verify_detached` | "
                     f"{r['verify_vs_sodium']:.2f} x | >= 2.0 x | "
                     f"{verdict(r['verify_vs_sodium'], 2.0)} |")
        lines.append(f"| `kycvs_verifier_verify_batch` (1024) vs libsodium, all cores | "
                     f"{r['batch_vs_sodium']:.2f} x | >= 5 x | {verdict(r['batch_vs_sodium'], 5)} |")
        if c1:
            lines.append(f"| `kycvs_verifier_verify_batch` (1024) vs libsodium, 1 thread | "
                         f"{c1['ratios']['batch_vs_sodium']:.2f} x | >= 8 x | "
                         f"{verdict(c1['ratios']['batch_vs_sodium'], 8)} |")
        lines += ["", "µs per token: " + ", ".join(f"{k} {v:.1f}" for k, v in c["us"].items()), ""]

    cli = load(results / "cli.json")
    if cli:
        lines += ["## CLI", "",
                  f"`kycvs verify` over {cli['tokens']:,} tokens on stdin: peak RSS "
                  f"{cli['max_rss_kib'] / 1024:.1f} MiB (target <= 64 MiB: "
                  f"{'met' if cli['max_rss_kib'] <= 64 * 1024 else '**missed**'}), "
                  f"{cli['seconds']:.1f} s, {cli['lines']:,} verdict lines.", ""]
    stream = load(results / "cli-stream.json")
    if stream:
        n = stream["tokens"]
        lines += [f"`kycvs verify` streaming {n:,} same-key tokens from stdin "
                  "(`benches/cli-stream.sh`, fastest of three runs each):", "",
                  "| figure | value | target | |", "|---|---:|---:|---|",
                  f"| one thread vs raw dalek `verify_strict` (one thread, same tokens) | "
                  f"{stream['cli_1_vs_raw']:.2f} x ({n / stream['cli_1_seconds']:,.0f}/s vs "
                  f"{n / stream['raw_seconds']:,.0f}/s) | >= 4 x | "
                  f"{verdict(stream['cli_1_vs_raw'], 4.0)} |",
                  f"| two threads vs one | {stream['cli_2_vs_cli_1']:.2f} x | >= 1.8 x | "
                  f"{verdict(stream['cli_2_vs_cli_1'], 1.8)} |",
                  f"| peak RSS | {max(stream['cli_1_rss_kib'], stream['cli_2_rss_kib']) / 1024:.1f}"
                  f" MiB | <= 64 MiB | "
                  f"{'met' if max(stream['cli_1_rss_kib'], stream['cli_2_rss_kib']) <= 65536 else '**missed**'} |",
                  ""]
    lines += replay_section(ns)
    sqlite = load(results / "service.json")
    redis = load(results / "service-redis.json")
    lines += service_section(sqlite)
    lines += redis_service_section(redis, sqlite)
    out.write_text("\n".join(lines))
    print("\n".join(lines))


def replay_section(ns: Callable[..., tuple[float, float] | None]) -> list[str]:
    """`verify_batch` of 1,024 fresh tokens, unguarded and guarded (benches/benches/replay.rs)."""
    group = "verify_replay_1024"
    unguarded = ns(group, "unguarded")
    if not unguarded:
        return []
    lines = ["## Replay protection (criterion, `cargo bench -p kycvs-benches --bench replay`)", "",
             "`verify_batch` of 1,024 same-key tokens never seen before, one thread; speed "
             "against the unguarded batch in the same run (1.0 = no cost).", "",
             "| guard | µs per token | speed vs unguarded | ratio of medians | target | |",
             "|---|---:|---:|---:|---:|---|",
             f"| none | {unguarded[0] / 1024 / 1000:.2f} | 1.00 | 1.00 | | |"]
    for name, label, target in (("memory_guard", "in-memory `ReplayGuard`", None),
                                ("redis_guard", "`RedisReplayStore` (real redis-server)", 0.8)):
        guarded = ns(group, name)
        if not guarded:
            continue
        best, median = unguarded[0] / guarded[0], unguarded[1] / guarded[1]
        lines.append(f"| {label} | {guarded[0] / 1024 / 1000:.2f} | {best:.2f} | {median:.2f} | "
                     f"{'>= ' + str(target) if target else ''} | {verdict(best, target)} |")
    return lines + [""]


def redis_service_section(redis: dict[str, Any] | None,
                          sqlite: dict[str, Any] | None) -> list[str]:
    """Several kycvs-server instances on one Redis (`kycvs-load --store redis`)."""
    if not redis:
        return []
    errors = sum(redis["errors"].values()) + sum(redis["bad_tokens"].values())
    lines = [f"## Service on Redis ({redis['instances']} instances, `kycvs-load --store redis "
             f"--instances {redis['instances']}`)", "",
             f"The same flows against {redis['instances']} kycvs-server processes sharing one "
             "redis-server (Unix socket, AOF with `appendfsync always`); each flow begins on "
             "one instance and completes on the next. Load average "
             f"{redis['loadavg_start']} at the start, {redis['loadavg_end']} at the end.", "",
             "| figure | Redis | SQLite, one instance |", "|---|---:|---:|"]

    def pair(label: str, key: str, fmt: str) -> None:
        theirs = format(sqlite[key], fmt) if sqlite else ""
        lines.append(f"| {label} | {format(redis[key], fmt)} | {theirs} |")

    pair("flows/s", "flows_per_s", ",.0f")
    pair("flow latency p50 (ms)", "flow_p50_ms", ".1f")
    pair("flow latency p99 (ms)", "flow_p99_ms", ".1f")
    pair("servers' CPU (% of one core)", "server_cpu_pct", ".0f")
    lines += ["", f"Errors and unverifiable tokens: {errors}; largest instance's peak RSS "
              f"{redis['hwm_kib'] / 1024:.1f} MiB."]
    return lines + [""]


def service_section(svc: dict[str, Any] | None) -> list[str]:
    """The load test of kycvs-server (benches/load, `kycvs-load --json`)."""
    if not svc:
        return []

    def met(ok: bool) -> str:
        return "met" if ok else "**missed**"

    errors = sum(svc["errors"].values())
    bad = sum(svc["bad_tokens"].values())
    hwm = svc["hwm_kib"] / 1024
    lines = ["## Service (benches/load, `kycvs-load`)", "",
             f"Complete consent flows (begin, the OTP from the `log` sender's file, complete) "
             f"against the release kycvs-server on loopback: {svc['concurrency']} concurrent "
             f"clients, {svc['duration_s']} s measured after {svc['warmup_s']} s of warm-up, "
             f"SQLite store with synchronous = {svc['synchronous']}, a registry of "
             f"{svc['people']:,} people; the load generator runs on the same cores. "
             f"Load average {svc['loadavg_start']} at the start, {svc['loadavg_end']} "
             f"at the end.", "",
             "| figure | value | target | |", "|---|---:|---:|---|",
             f"| flows/s | {svc['flows_per_s']:,.0f} | >= 1,000 | "
             f"{met(svc['flows_per_s'] >= 1000)} |",
             f"| flow latency p50 | {svc['flow_p50_ms']:.1f} ms | | |",
             f"| flow latency p99 | {svc['flow_p99_ms']:.1f} ms | <= 50 ms | "
             f"{met(svc['flow_p99_ms'] <= 50)} |",
             f"| begin p50 / p99 | {svc['begin_p50_ms']:.1f} / {svc['begin_p99_ms']:.1f} ms"
             " | | |",
             f"| complete p50 / p99 | {svc['complete_p50_ms']:.1f} / "
             f"{svc['complete_p99_ms']:.1f} ms | | |",
             f"| errors (warm-up included) | {errors} | 0 | {met(errors == 0 and bad == 0)} |",
             f"| server peak RSS (VmHWM) | {hwm:.1f} MiB | <= 100 MiB | {met(hwm <= 100)} |",
             "",
             f"{svc['flows']:,} flows measured; {svc['tokens']:,} tokens obtained, "
             f"{svc['tokens'] - bad:,} verified with kycvs-core (audience, nonce, status). "
             f"Server RSS {svc['rss_started_kib'] / 1024:.1f} MiB after start-up (registry "
             f"loaded), {svc['rss_ended_kib'] / 1024:.1f} MiB at the end; server CPU "
             f"{svc['server_cpu_pct']:.0f}% and load generator CPU "
             f"{svc['generator_cpu_pct']:.0f}% of one core."]
    for code, n in svc["errors"].items():
        lines.append(f"- error `{code}`: {n}")
    for code, n in svc["bad_tokens"].items():
        lines.append(f"- token failed `{code}`: {n}")
    return lines + [""]


if __name__ == "__main__":
    main()
