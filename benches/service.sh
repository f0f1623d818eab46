#!/usr/bin/env bash
# `make bench-service`: the load test of kycvs-server (benches/load). Builds the release
# kycvs-server and kycvs-load, then runs complete consent flows against the server on a
# loopback port; the arguments go to kycvs-load (`--help`; e.g. `--concurrency 128`,
# `--duration 60`, `--synchronous normal`, `--json FILE`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
cargo build --release -q -p kycvs-server -p kycvs-load
exec "$target/release/kycvs-load" --server "$target/release/kycvs-server" "$@"
