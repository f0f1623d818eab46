#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 10) under AddressSanitizer, starting from the
# committed seeds in fuzz/corpus/<target>/ plus what earlier runs found (kept in
# target/fuzz-corpus/<target>/, outside the repository's tracked files). Fails on the first
# crash, leak or timeout; libFuzzer writes the input that caused it to fuzz/artifacts/<target>/.
#   bash fuzz/smoke.sh [SECONDS]
# Needs a nightly Rust toolchain (cargo-fuzz uses -Zsanitizer); installs the pinned cargo-fuzz
# into target/tools when missing. For longer runs see README "Fuzzing".
set -euo pipefail

SECONDS_EACH=${1:-10}
CARGO_FUZZ_VERSION=0.13.2
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS="$ROOT/target/tools"
CORPUS="${KYCVS_FUZZ_CORPUS:-$ROOT/target/fuzz-corpus}"
TARGETS=(verify_bytes structured_token batch_agreement load_jwks load_bundle ffi_entry point_decoding challenge_hashing)

if [[ ! $SECONDS_EACH =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: fuzz/smoke.sh [SECONDS]" >&2
    exit 2
fi
if ! cargo +nightly --version > /dev/null 2>&1; then
    echo "fuzz/smoke.sh: FAILED: no nightly Rust toolchain; cargo-fuzz needs one." >&2
    echo "  install it with: rustup toolchain install nightly" >&2
    exit 1
fi
export PATH="$TOOLS/bin:$PATH"
if [[ "$(cargo fuzz --version 2> /dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]]; then
    echo "fuzz/smoke.sh: installing cargo-fuzz $CARGO_FUZZ_VERSION into $TOOLS" >&2
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --root "$TOOLS" --force >&2
fi

cd "$ROOT/fuzz"
cargo +nightly fuzz build
for t in "${TARGETS[@]}"; do
    mkdir -p "$CORPUS/$t"
    log="$CORPUS/$t.log"
    echo "== $t (${SECONDS_EACH} s)"
    if ! cargo +nightly fuzz run "$t" "$CORPUS/$t" "corpus/$t" -- \
        -max_total_time="$SECONDS_EACH" -timeout=10 -print_final_stats=1 > "$log" 2>&1; then
        tail -n 60 "$log" >&2
        echo "fuzz/smoke.sh: FAILED: $t (log: $log; reproducer under fuzz/artifacts/$t/)" >&2
        exit 1
    fi
    grep -E '^stat::number_of_executed_units|^Done [0-9]+ runs' "$log" | tail -n 1 || true
    echo "   corpus: $(find "$CORPUS/$t" -type f | wc -l) files"
done
echo "fuzz/smoke.sh: all ${#TARGETS[@]} targets ran ${SECONDS_EACH} s each without a failure"
