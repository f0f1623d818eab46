#!/usr/bin/env bash
# The suites with the clock moved ten years ahead (`make test-faketime`): every time a test
# compares with the system clock must come from the test's own clock or be injected, so the
# Rust tests, the C tests (shared-library mode) and pytest must pass unchanged under
# libfaketime with FAKETIME="+3650d". Reuses what `make test-rust`, `test-c` and
# `test-python` built: the test binaries, libkycvs.so and the wheel installed in .venv.
#
# Configuration (found reliable with the multi-threaded tests: cargo's harness, rayon, the
# pthread C tests, Python threads):
# - libfaketimeMT.so.1, the build of libfaketime with its own state behind a lock;
# - DONT_FAKE_MONOTONIC=1: only the wall clock (time, gettimeofday, CLOCK_REALTIME) moves;
#   CLOCK_MONOTONIC stays real, so condition-variable and futex timeouts, thread pools and
#   Python's time.monotonic behave as usual (faking it can stall timed waits);
# - FAKETIME_NO_CACHE is not set: the offset is fixed, so libfaketime's cached spec is right;
# - only the test programs run under it (cargo's target runner, the C runner's wrapper, the
#   pytest process), never cargo or the compiler, whose build checks must see the real time.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OFFSET_DAYS=3650

# Installs libfaketime through apt-get, only when running as root (as ffi/tests/run.sh does).
lib=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1
find_lib() {
    local found
    found=$(find /usr/lib /usr/local/lib -name libfaketimeMT.so.1 2> /dev/null | head -n 1)
    # An `if`, not `[[ ]] &&`: a function ending in a false test fails the script under -e.
    if [[ -n $found ]]; then lib=$found; fi
}
find_lib
if [[ ! -e $lib ]]; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get > /dev/null; then
        echo "faketime.sh: installing libfaketime" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libfaketime >&2
        find_lib
    fi
    [[ -e $lib ]] || { echo "faketime.sh: libfaketime is missing; install libfaketime" >&2; exit 1; }
fi

fake=(env LD_PRELOAD="$lib" FAKETIME="+${OFFSET_DAYS}d" DONT_FAKE_MONOTONIC=1)

# The clock must really have moved: a year at least nine years ahead under the wrapper.
real_year=$(date -u +%Y)
fake_year=$("${fake[@]}" date -u +%Y)
if (( fake_year < real_year + 9 )); then
    echo "faketime.sh: the clock did not move (real $real_year, under libfaketime $fake_year)" >&2
    exit 1
fi
echo "faketime.sh: clock moved from $real_year to $fake_year"

printf '\n== Rust (cargo test, test programs under libfaketime)\n'
# Doctests are left out: rustdoc compiles each one anew (minutes), and they pin their times.
host=$(rustc -vV | sed -n 's/^host: //p')
runner_var="CARGO_TARGET_$(tr 'a-z-' 'A-Z_' <<< "$host")_RUNNER"
env "$runner_var=${fake[*]}" cargo test --workspace --lib --bins --tests

printf '\n== C (shared-library mode under libfaketime)\n'
KYCVS_TEST_WRAPPER="${fake[*]}" bash ffi/tests/run.sh shared

printf '\n== Python (pytest against the installed wheel under libfaketime)\n'
py="$ROOT/.venv/bin/python"
if ! "$py" -c 'import kycvs' 2> /dev/null; then
    echo "faketime.sh: no kycvs wheel in .venv; run make test-python first" >&2
    exit 1
fi
# Outside python/, so that `import kycvs` finds the installed wheel (as python/tests/run.sh).
cd "$ROOT/python/tests"
"${fake[@]}" "$py" -m pytest -p no:cacheprovider -c "$ROOT/python/pyproject.toml" \
    --rootdir "$ROOT/python" "$ROOT/python/tests"

printf '\nfaketime.sh: all suites passed with the clock %s days ahead\n' "$OFFSET_DAYS"
