#!/usr/bin/env bash
# benches/c: the C API (static libkycvs.a, release build) beside libsodium's
# crypto_sign_verify_detached. Installs libsodium-dev through apt-get when it is missing and
# this runs as root. Arguments are passed to the bench (an optional JSON output path).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
if ! printf '#include <sodium.h>\n' | "${CC:-cc}" -E -x c - > /dev/null 2>&1; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get > /dev/null; then
        echo "bench.sh: installing libsodium-dev" >&2
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libsodium-dev >&2
    else
        echo "bench.sh: libsodium is missing; install libsodium-dev" >&2
        exit 1
    fi
fi
cargo build --release -q -p kycvs-ffi >&2
out="$target/bench-c"
mkdir -p "$out"
"${CC:-cc}" -std=c11 -O2 -Wall -Wextra -Werror -o "$out/bench" benches/c/bench.c -I include \
    "$target/release/libkycvs.a" -lsodium -lpthread -ldl -lm
"$out/bench" "$@"
