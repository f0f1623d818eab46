#!/usr/bin/env bash
# Builds what ships to Python users, with the tools pinned in python/requirements-build.txt
# (installed into .venv-build at the repository root on first use):
#   python/build.sh wheel OUT_DIR   one abi3 wheel for glibc >= 2.17 (manylinux2014_x86_64),
#                                   linked through zig against glibc 2.17's symbols, and
#                                   checked by `auditwheel show`
#   python/build.sh sdist OUT_DIR   the source distribution (`pip install kycvs-*.tar.gz`)
# Replaces any kycvs wheel or sdist already in OUT_DIR; prints the path of the new one on its
# last line. Used by `make dist` and `make test-python`, so the wheel tested is the one shipped.
set -euo pipefail

if [[ $# -ne 2 || ( $1 != wheel && $1 != sdist ) ]]; then
    echo "usage: python/build.sh wheel|sdist OUT_DIR" >&2
    exit 2
fi
kind=$1
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$2"
out="$(cd "$2" && pwd)"
cd "$root"

venv="$root/.venv-build"
stamp="$venv/.kycvs-requirements-build"
if ! cmp -s python/requirements-build.txt "$stamp"; then
    rm -rf "$venv"
    "${PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet -r python/requirements-build.txt
    cp python/requirements-build.txt "$stamp"
fi
# maturin finds zig as `python -m ziglang` through PATH.
export PATH="$venv/bin:$PATH"

shopt -s nullglob
if [[ $kind == sdist ]]; then
    rm -f "$out"/kycvs-*.tar.gz
    maturin sdist -m python/Cargo.toml -o "$out" >&2
    built=("$out"/kycvs-*.tar.gz)
    if [[ ${#built[@]} -ne 1 ]]; then
        echo "build.sh: expected one kycvs sdist in $out, found ${#built[@]}" >&2
        exit 1
    fi
    echo "${built[0]}"
    exit 0
fi

rm -f "$out"/kycvs-*.whl
# --zig links through zig's glibc 2.17 stubs; --compatibility makes maturin refuse a wheel
# that needs anything newer. The target is named so that the build lands in its own folder
# (target/x86_64-unknown-linux-gnu/release) whatever the host.
maturin build --release --quiet --zig --compatibility manylinux2014 \
    --target x86_64-unknown-linux-gnu -m python/Cargo.toml -i "$venv/bin/python" -o "$out" >&2
built=("$out"/kycvs-*.whl)
if [[ ${#built[@]} -ne 1 ]]; then
    echo "build.sh: expected one kycvs wheel in $out, found ${#built[@]}" >&2
    exit 1
fi
wheel="${built[0]}"
case "$(basename "$wheel")" in
    *-abi3-*manylinux2014_x86_64*) ;;
    *)
        echo "build.sh: $(basename "$wheel") is not an abi3 manylinux2014_x86_64 wheel" >&2
        exit 1
        ;;
esac
# The name is only a claim: auditwheel reads the extension's symbol versions and libraries.
report=$(auditwheel show "$wheel")
if ! tr -s ' \n' ' ' <<< "$report" |
    grep -q 'is consistent with the following platform tag: "manylinux_2_17_x86_64"'; then
    echo "$report" >&2
    echo "build.sh: auditwheel does not place $(basename "$wheel") in manylinux_2_17_x86_64" >&2
    exit 1
fi
echo "build.sh: $(basename "$wheel"): auditwheel: manylinux_2_17_x86_64 (manylinux2014)" >&2
echo "$wheel"
