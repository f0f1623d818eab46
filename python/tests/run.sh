#!/usr/bin/env bash
# The Python suite (`make test-python`): builds the abi3 wheel, installs it into .venv at the
# repository root, then runs mypy.stubtest and pytest. Needs only python3 (with venv), pip and
# cargo; exits non-zero on any failure.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

python="${PYTHON:-python3}"
venv="$root/.venv"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
py="$venv/bin/python"

# Reinstall the tools only when the pins change.
stamp="$venv/.kycvs-requirements-dev"
if ! cmp -s python/requirements-dev.txt "$stamp"; then
    "$py" -m pip install --quiet -r python/requirements-dev.txt
    cp python/requirements-dev.txt "$stamp"
fi

wheels="$root/target/wheels"
rm -f "$wheels"/kycvs-*.whl
"$venv/bin/maturin" build --release --quiet -m python/Cargo.toml -i "$py" -o "$wheels"

shopt -s nullglob
built=("$wheels"/kycvs-*.whl)
if [ "${#built[@]}" -ne 1 ]; then
    echo "run.sh: expected one kycvs wheel in $wheels, found ${#built[@]}" >&2
    exit 1
fi
wheel="${built[0]}"
case "$(basename "$wheel")" in
    *-abi3-*) ;;
    *)
        echo "run.sh: $(basename "$wheel") is not an abi3 wheel" >&2
        exit 1
        ;;
esac
echo "run.sh: built $(basename "$wheel")"
# A generic x86-64 wheel with curve25519-dalek's AVX-512 IFMA code compiled in beside AVX2 and
# serial (.cargo/config.toml), chosen by CPUID at run time (test_package checks which runs).
if [ "$(uname -m)" = x86_64 ]; then
    ext=$(mktemp -d)
    "$py" -c 'import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
name = next(n for n in z.namelist() if n.startswith("kycvs/_kycvs") and n.endswith(".so"))
open(sys.argv[2], "wb").write(z.read(name))' "$wheel" "$ext/_kycvs.so"
    ifma=$(objdump -d --no-show-raw-insn "$ext/_kycvs.so" | grep -c vpmadd52luq || true)
    rm -rf "$ext"
    if [ "$ifma" -eq 0 ]; then
        echo "run.sh: the wheel has no AVX-512 IFMA code; an environment RUSTFLAGS replaces" \
            "the --cfg curve25519_dalek_backend=\"avx512\" of .cargo/config.toml" >&2
        exit 1
    fi
    echo "run.sh: the wheel's AVX-512 IFMA code is compiled in ($ifma vpmadd52luq)"
fi
"$py" -m pip install --quiet --force-reinstall --no-deps "$wheel"

# Run outside python/ so that `import kycvs` finds the installed wheel, not the source tree.
cd "$root/python/tests"
export MYPY_CACHE_DIR="$root/target/mypy-cache"
# The hand-written stubs must match the module, and the tests must type-check against them.
"$py" -m mypy.stubtest kycvs
"$py" -m mypy --strict .
bash "$root/scripts/test-deps.sh"
"$py" -m pytest -p no:cacheprovider -c "$root/python/pyproject.toml" --rootdir "$root/python" "$root/python/tests" "$@"
