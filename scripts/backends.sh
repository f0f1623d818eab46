#!/usr/bin/env bash
# Every curve25519-dalek backend on this machine (`make test-backends`): the vector suites
# (token vectors, Wycheproof, ed25519-speccheck, CCTV, batch == single) and the signature unit
# tests run natively and under qemu-x86_64 user emulation with CPU models that lack AVX-512
# (Haswell: AVX2; qemu's TCG emulates no AVX-512 and says which of Haswell's other features
# it lacks, which the output below leaves out) and AVX2 (Nehalem: serial). Each run asserts the backend it uses
# (core/tests/backend_support: KYCVS_EXPECT_BACKEND, natively the kernel's CPU flags) and
# checks the same committed expectations, so every backend gives the same verdicts. The
# AVX-512 IFMA code runs only natively on a CPU that has it (qemu does not emulate AVX-512):
# where the CPU lacks it, the run says so and checks that it is compiled in.
#
# Reuses the debug test binaries `make test-rust` built (cargo test --no-run); installs
# qemu-user through apt-get when missing and running as root. Emulation costs some 25 times
# native speed, so each case goes through KYCVS_BATCH_ROUNDS random batch compositions here (1)
# instead of the 64 that `make test-rust` runs natively.
set -euo pipefail
ROUNDS=${KYCVS_BATCH_ROUNDS:-1}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

if ! command -v qemu-x86_64 > /dev/null; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get > /dev/null; then
        echo "backends.sh: installing qemu-user" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user >&2
    else
        echo "backends.sh: qemu-x86_64 is missing; install qemu-user" >&2
        exit 1
    fi
fi
if [[ $(uname -m) != x86_64 ]]; then
    echo "backends.sh: the vector backends exist on x86-64 only; nothing to compare here" >&2
    exit 0
fi

# The test programs: the core's library tests (the signature module's) and two vector suites.
mapfile -t bins < <(cargo test -q -p kycvs-core --lib --test vectors --test ed25519_vectors \
    --no-run --message-format=json |
    python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(m["target"]["name"] + " " + m["executable"])
')
if [[ ${#bins[@]} -ne 3 ]]; then
    echo "backends.sh: expected 3 test programs, found ${#bins[@]}: ${bins[*]}" >&2
    exit 1
fi

# The debug CLI names the backend and those compiled in; under each model it must agree.
cli="$ROOT/target/debug/kycvs"
cargo build -q -p kycvs-cli

# run LABEL EXPECTED [RUNNER...]
run() {
    local label=$1 want=$2
    shift 2
    local version
    version=$("$@" "$cli" --version 2> /dev/null | sed -n 's/^curve25519 backend: //p')
    if [[ $version != "$want (compiled in: avx512ifma avx2 serial)" ]]; then
        echo "backends.sh: $label: kycvs --version says '$version'," \
            "want '$want (compiled in: avx512ifma avx2 serial)'" >&2
        exit 1
    fi
    for entry in "${bins[@]}"; do
        local name=${entry%% *} bin=${entry#* } filter=()
        # Of the library's tests, only the signature and backend ones: the rest never touch
        # the curve.
        [[ $name == kycvs_core ]] && filter=(crypto::)
        local out
        if ! out=$(KYCVS_EXPECT_BACKEND=$want KYCVS_BATCH_ROUNDS=$ROUNDS \
            "$@" "$bin" -q --test-threads=2 "${filter[@]}" 2>&1 |
            grep -v "^qemu-x86_64: warning: TCG doesn't support requested feature"); then
            echo "$out" >&2
            echo "backends.sh: $label: $name failed" >&2
            exit 1
        fi
        local summary
        summary=$(grep -E '^test result: ok\. [1-9]' <<< "$out" | tail -n 1)
        [[ -n $summary ]] || { echo "$out" >&2; echo "backends.sh: $label: $name ran no test" >&2; exit 1; }
        echo "$label ($want): $name: $summary"
    done
}

flags=$(grep -m1 '^flags' /proc/cpuinfo)
if [[ " $flags " == *" avx512ifma "* && " $flags " == *" avx512vl "* ]]; then
    native=avx512ifma
elif [[ " $flags " == *" avx2 "* ]]; then
    native=avx2
    echo "backends.sh: this CPU has no AVX-512 IFMA: its backend is checked as compiled in," \
        "not run (it runs natively on a CPU with avx512ifma and avx512vl)"
else
    native=serial
fi

run native "$native"
run "qemu Haswell" avx2 qemu-x86_64 -cpu Haswell
run "qemu Nehalem" serial qemu-x86_64 -cpu Nehalem
echo "backends.sh: the vector suites gave the same verdicts on every backend"
