#!/usr/bin/env bash
# The C test suite (`make test-c`): header drift check, release build, then test_api,
# test_vectors, test_bundle, test_batch and test_consent compiled with -std=c11 -Wall -Wextra -Wpedantic -Werror and run
#   (a) against the build tree's shared library,
#   (b) statically linked against libkycvs.a,
#   (c) through pkg-config after `ffi/install.sh <tmp>` (the C half of `make install`),
#   (d) under AddressSanitizer + UndefinedBehaviorSanitizer (static lib),
#   (e) under valgrind,
#   (f) the threaded tests (test_api, test_batch) under ThreadSanitizer.
# Exits non-zero on any failure.
#
# Usage: run.sh [MODE...], MODE one of header shared static pkg-config asan valgrind tsan;
# no MODE runs them all. KYCVS_TEST_WRAPPER, when set, is a command prefix every test binary
# runs under (scripts/faketime.sh runs the shared mode under libfaketime with it).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
CC="${CC:-cc}"
CFLAGS=(-std=c11 -Wall -Wextra -Wpedantic -Werror -g -O1 -pthread)
TESTS=(test_api test_vectors test_bundle test_batch test_consent)
ALL_MODES=(header shared static pkg-config asan valgrind tsan)
MODES=("${@:-${ALL_MODES[@]}}")
for mode in "${MODES[@]}"; do
    [[ " ${ALL_MODES[*]} " == *" $mode "* ]] || { echo "run.sh: unknown mode '$mode'" >&2; exit 2; }
done
want() { [[ " ${MODES[*]} " == *" $1 "* ]]; }
# shellcheck disable=SC2206 # the wrapper is a command prefix, split into words on purpose
WRAPPER=(${KYCVS_TEST_WRAPPER:-})
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

step() { printf '\n== %s\n' "$*"; }

# need CHECK PACKAGE: install a missing system package (scripts/need.sh).
source "$ROOT/scripts/need.sh"

# run LABEL DIR [RUNNER...]: runs the tests built into DIR (all of TESTS, or those named in
# the array RUN_TESTS), checking the summary line.
run() {
    local label=$1 dir=$2
    shift 2
    for t in "${RUN_TESTS[@]:-${TESTS[@]}}"; do
        local args=()
        [[ $t == test_vectors || $t == test_bundle || $t == test_batch ]] && args=("$ROOT/testvectors")
        local out
        if ! out=$("${WRAPPER[@]}" "$@" "$dir/$t" "${args[@]}" 2> "$WORK/stderr"); then
            cat "$WORK/stderr" >&2
            echo "$out"
            echo "run.sh: $t failed ($label)" >&2
            exit 1
        fi
        # At least one check must have run: "0 passed, 0 failed" is a broken runner.
        if [[ ! $out =~ ^[1-9][0-9]*\ passed,\ 0\ failed$ ]]; then
            cat "$WORK/stderr" >&2
            echo "run.sh: $t printed '$out' ($label)" >&2
            exit 1
        fi
        echo "$label: $t: $out"
    done
}

# build DIR [CC FLAGS AND LIBRARIES...]: compiles the tests (TESTS or RUN_TESTS) into DIR.
build() {
    local dir=$1
    shift
    mkdir -p "$dir"
    for t in "${RUN_TESTS[@]:-${TESTS[@]}}"; do
        "$CC" "${CFLAGS[@]}" -o "$dir/$t" "ffi/tests/$t.c" "$@"
    done
}

if want header; then
step "header"
bash ffi/header.sh check
# The header must also compile as C++ (its extern "C" block and enum type); a missing C++
# compiler is installed, never a reason to skip.
[[ -n ${CXX:-} ]] || need c++ g++
printf '#include "kycvs.h"\nint main() { return kycvs_version() == nullptr; }\n' |
    "${CXX:-c++}" -std=c++11 -Wall -Wextra -Wpedantic -Werror -I include -fsyntax-only -x c++ -
echo "header.sh: include/kycvs.h compiles as C++11"
fi

step "release build"
cargo build --release -p kycvs-ffi
# The library is built for generic x86-64 with curve25519-dalek's AVX-512 IFMA code compiled
# in beside AVX2 and serial (.cargo/config.toml), chosen by CPUID at run time: its IFMA
# multiply must be in the library even on a CPU that cannot run it (test_api checks which one
# runs here).
if [[ $(uname -m) == x86_64 ]]; then
    need objdump binutils
    ifma=$(objdump -d --no-show-raw-insn "$TARGET_DIR/release/libkycvs.so" | grep -c vpmadd52luq || true)
    if (( ifma == 0 )); then
        echo "run.sh: libkycvs.so has no AVX-512 IFMA code; an environment RUSTFLAGS replaces" \
            "the --cfg curve25519_dalek_backend=\"avx512\" of .cargo/config.toml" >&2
        exit 1
    fi
    echo "libkycvs.so: AVX-512 IFMA code compiled in ($ifma vpmadd52luq), chosen at run time"
fi

# The static, pkg-config, sanitizer and valgrind modes need the installed tree.
if want static || want pkg-config || want asan || want valgrind; then
need pkg-config pkg-config
want valgrind && need valgrind valgrind

step "install"
PREFIX="$WORK/prefix"
bash ffi/install.sh "$PREFIX" > "$WORK/install.log" 2>&1 ||
    { cat "$WORK/install.log" >&2; exit 1; }
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
soname=$(readelf -d "$PREFIX/lib/libkycvs.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [[ $soname != libkycvs.so.0 ]]; then
    echo "run.sh: libkycvs.so has soname '$soname', want libkycvs.so.0" >&2
    exit 1
fi
echo "installed under $PREFIX (soname $soname)"
# The static link needs the system libraries the .pc file lists privately.
static_libs=$(pkg-config --static --libs-only-l kycvs)
static_libs=${static_libs//-lkycvs/}
fi

mkdir -p "$WORK/shlib"
ln -s "$TARGET_DIR/release/libkycvs.so" "$WORK/shlib/libkycvs.so.0"

if want shared; then
step "(a) shared library, build tree"
build "$WORK/a" -I include -L "$TARGET_DIR/release" -lkycvs
run "shared" "$WORK/a" env LD_LIBRARY_PATH="$WORK/shlib"
fi

if want static || want valgrind; then
step "(b) static library"
# shellcheck disable=SC2086 # static_libs is a list of flags
build "$WORK/b" -I include "$TARGET_DIR/release/libkycvs.a" $static_libs
if readelf -d "$WORK/b/test_api" | grep -q 'libkycvs'; then
    echo "run.sh: the static build still needs libkycvs.so" >&2
    exit 1
fi
if want static; then run "static" "$WORK/b"; fi
fi

if want pkg-config; then
step "(c) pkg-config, installed"
# shellcheck disable=SC2046 # pkg-config prints a list of flags
build "$WORK/c" $(pkg-config --cflags kycvs) $(pkg-config --libs kycvs) \
    -Wl,-rpath,"$(pkg-config --variable=libdir kycvs)"
run "pkg-config" "$WORK/c"
fi

if want asan; then
step "(d) AddressSanitizer + UndefinedBehaviorSanitizer"
# shellcheck disable=SC2086
build "$WORK/d" -fsanitize=address,undefined -fno-sanitize-recover=all \
    -fno-omit-frame-pointer -I include "$TARGET_DIR/release/libkycvs.a" $static_libs
run "asan+ubsan" "$WORK/d" env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi

if want valgrind; then
step "(e) valgrind"
run "valgrind" "$WORK/b" valgrind -q --error-exitcode=1 --leak-check=full \
    --errors-for-leak-kinds=definite,indirect,possible --suppressions=ffi/tests/valgrind.supp
fi

if want tsan; then
step "(f) ThreadSanitizer, threaded tests"
# Only the C side is instrumented, linked against the normally built shared library: TSan
# sees every access the tests make and every pthread call and malloc/free, but not the
# accesses inside libkycvs (uninstrumented Rust). So it checks that the C API is used from
# many threads without a race in the caller's view: shared verifiers, per-thread results and
# error messages handed back across threads. A race wholly inside the Rust code would go
# unseen (a false negative). The reverse, false reports, come from the library's own threads
# (rayon's pool in verify_batch): TSan sees their malloc/free but not the atomics that order
# them, so ffi/tests/tsan.supp ignores interceptor calls made from inside libkycvs. A nightly
# `-Zsanitizer=thread -Zbuild-std` build of the whole library would close that gap at the
# cost of rebuilding std. halt_on_error: the first report fails the run (exit code 66).
RUN_TESTS=(test_api test_batch)
build "$WORK/f" -fsanitize=thread -fno-omit-frame-pointer -I include \
    -L "$TARGET_DIR/release" -lkycvs
run "tsan" "$WORK/f" env LD_LIBRARY_PATH="$WORK/shlib" \
    TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$ROOT/ffi/tests/tsan.supp"
unset RUN_TESTS
fi

printf '\nrun.sh: all C tests passed\n'
