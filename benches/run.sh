#!/usr/bin/env bash
# `make bench`: every benchmark, then benches/RESULTS.md (benches/report.py), the ratio table
# the README quotes. Each kycvs figure sits beside its baseline measured in the same run:
#   1. criterion (benches/benches/verify.rs): Rust beside raw ed25519-dalek and jsonwebtoken;
#   2. benches/python: the Python binding beside PyJWT (cryptography) and PyNaCl;
#   3. benches/c: the C API beside libsodium;
#   4. the CLI: peak memory over 1,000,000 tokens on stdin, and streaming 100,000 same-key tokens
#      on one and two threads beside raw verify_strict (benches/cli-stream.sh);
#   5. the service under load (benches/service.sh: kycvs-load against the release kycvs-server),
#      on SQLite and as two instances on one Redis;
#   criterion's replay bench (benches/benches/replay.rs) beside step 1: guarded batches.
# Set RUSTFLAGS="-C target-cpu=native" for a build tuned to this CPU (README: "Performance").
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
results="$target/bench-results"
mkdir -p "$results"
rm -f "$results"/*.json
# Other work on the machine shows in every figure: the report records how busy it was.
KYCVS_BENCH_LOAD="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
export KYCVS_BENCH_LOAD

step() { printf '\n== %s\n' "$*" >&2; }

step "criterion"
cargo bench -p kycvs-benches --bench verify
step "criterion: replay protection (a real redis-server)"
bash scripts/test-deps.sh
cargo bench -p kycvs-benches --bench replay

step "python"
bash benches/python/bench.sh --json "$results/python.json"
RAYON_NUM_THREADS=1 bash benches/python/bench.sh --json "$results/python-1thread.json"

step "c"
bash benches/c/bench.sh "$results/c.json"
RAYON_NUM_THREADS=1 bash benches/c/bench.sh "$results/c-1thread.json"

step "cli: peak RSS over 1,000,000 tokens"
bash benches/cli-memory.sh 1000000 "$results/cli.json"
step "cli: streaming 100,000 same-key tokens, one and two threads, beside raw verify_strict"
bash benches/cli-stream.sh 100000 "$results/cli-stream.json"

step "service: complete consent flows over loopback"
bash benches/service.sh --json "$results/service.json"
step "service: two instances on one Redis"
bash benches/service.sh --store redis --instances 2 --json "$results/service-redis.json"

step "report"
python3 benches/report.py "$target" benches/RESULTS.md
echo "run.sh: wrote benches/RESULTS.md" >&2
