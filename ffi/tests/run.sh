#!/usr/bin/env bash
# The C test suite (`make test-c`): header drift check, release build, then test_api,
# test_vectors, test_bundle, test_batch and test_consent compiled with -std=c11 -Wall -Wextra -Wpedantic -Werror and run
#   (a) against the build tree's shared library,
#   (b) statically linked against libkycvs.a,
#   (c) through pkg-config after `make install PREFIX=<tmp>`,
#   (d) under AddressSanitizer + UndefinedBehaviorSanitizer (static lib),
#   (e) under valgrind.
# Exits non-zero on any failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
CC="${CC:-cc}"
CFLAGS=(-std=c11 -Wall -Wextra -Wpedantic -Werror -g -O1 -pthread)
TESTS=(test_api test_vectors test_bundle test_batch test_consent)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

step() { printf '\n== %s\n' "$*"; }

# Installs a missing tool through apt-get, only when running as root.
need() {
    local tool=$1 package=$2
    command -v "$tool" > /dev/null && return
    if [[ $(id -u) -eq 0 ]] && command -v apt-get > /dev/null; then
        echo "run.sh: installing $package" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >&2
    else
        echo "run.sh: $tool is missing; install $package" >&2
        exit 1
    fi
}

# run LABEL DIR [RUNNER...]: runs both tests built into DIR, checking the summary line.
run() {
    local label=$1 dir=$2
    shift 2
    for t in "${TESTS[@]}"; do
        local args=()
        [[ $t == test_vectors || $t == test_bundle || $t == test_batch ]] && args=("$ROOT/testvectors")
        local out
        if ! out=$("$@" "$dir/$t" "${args[@]}" 2> "$WORK/stderr"); then
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

# build DIR [CC FLAGS AND LIBRARIES...]: compiles both tests into DIR.
build() {
    local dir=$1
    shift
    mkdir -p "$dir"
    for t in "${TESTS[@]}"; do
        "$CC" "${CFLAGS[@]}" -o "$dir/$t" "ffi/tests/$t.c" "$@"
    done
}

step "header"
bash ffi/header.sh check
# The header must also compile as C++ (its extern "C" block and enum type); a missing C++
# compiler is installed, never a reason to skip.
[[ -n ${CXX:-} ]] || need c++ g++
printf '#include "kycvs.h"\nint main() { return kycvs_version() == nullptr; }\n' |
    "${CXX:-c++}" -std=c++11 -Wall -Wextra -Wpedantic -Werror -I include -fsyntax-only -x c++ -
echo "header.sh: include/kycvs.h compiles as C++11"

step "release build"
cargo build --release -p kycvs-ffi
need pkg-config pkg-config
need valgrind valgrind

step "install"
PREFIX="$WORK/prefix"
make --no-print-directory -C "$ROOT" install PREFIX="$PREFIX" > "$WORK/install.log" 2>&1 ||
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

step "(a) shared library, build tree"
mkdir -p "$WORK/shlib"
ln -s "$TARGET_DIR/release/libkycvs.so" "$WORK/shlib/libkycvs.so.0"
build "$WORK/a" -I include -L "$TARGET_DIR/release" -lkycvs
run "shared" "$WORK/a" env LD_LIBRARY_PATH="$WORK/shlib"

step "(b) static library"
# shellcheck disable=SC2086 # static_libs is a list of flags
build "$WORK/b" -I include "$TARGET_DIR/release/libkycvs.a" $static_libs
if readelf -d "$WORK/b/test_api" | grep -q 'libkycvs'; then
    echo "run.sh: the static build still needs libkycvs.so" >&2
    exit 1
fi
run "static" "$WORK/b"

step "(c) pkg-config, installed"
# shellcheck disable=SC2046 # pkg-config prints a list of flags
build "$WORK/c" $(pkg-config --cflags kycvs) $(pkg-config --libs kycvs) \
    -Wl,-rpath,"$(pkg-config --variable=libdir kycvs)"
run "pkg-config" "$WORK/c"

step "(d) AddressSanitizer + UndefinedBehaviorSanitizer"
# shellcheck disable=SC2086
build "$WORK/d" -fsanitize=address,undefined -fno-sanitize-recover=all \
    -fno-omit-frame-pointer -I include "$TARGET_DIR/release/libkycvs.a" $static_libs
run "asan+ubsan" "$WORK/d" env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

step "(e) valgrind"
run "valgrind" "$WORK/b" valgrind -q --error-exitcode=1 --leak-check=full \
    --errors-for-leak-kinds=definite,indirect,possible --suppressions=ffi/tests/valgrind.supp

printf '\nrun.sh: all C tests passed\n'
