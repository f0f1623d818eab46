#!/usr/bin/env bash
# The Python suite (`make test-python`): builds the wheel `make dist` ships (python/build.sh:
# abi3, manylinux2014, auditwheel-checked), installs it into .venv at the repository root,
# a venv holding nothing but the pinned test tools and that wheel, then runs mypy.stubtest and
# pytest against it. Needs only python3 (with venv), pip and cargo; exits non-zero on any
# failure.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

wheel=$(bash python/build.sh wheel "$root/target/wheels" | tail -n 1)
echo "run.sh: built $(basename "$wheel")"

python="${PYTHON:-python3}"
# A generic x86-64 wheel with curve25519-dalek's AVX-512 IFMA code compiled in beside AVX2 and
# serial (.cargo/config.toml), chosen by CPUID at run time (test_package checks which runs).
if [ "$(uname -m)" = x86_64 ]; then
    ext=$(mktemp -d)
    "$python" -c 'import sys, zipfile
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
venv="$root/.venv"
# A new venv whenever the pins change, so that no tool dropped from them lingers.
stamp="$venv/.kycvs-requirements-dev"
if ! cmp -s python/requirements-dev.txt "$stamp"; then
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet -r python/requirements-dev.txt
    cp python/requirements-dev.txt "$stamp"
fi
py="$venv/bin/python"
"$py" -m pip uninstall --quiet --yes kycvs 2> /dev/null || true
"$py" -m pip install --quiet --no-index --no-deps "$wheel"

# Clean: the venv holds exactly the pinned tools and the wheel (no source tree on the path, no
# build tool, nothing a user's venv would lack).
"$py" - "$root/python/requirements-dev.txt" <<'PY'
import re, subprocess, sys

def norm(line: str) -> str:
    name, _, version = line.strip().partition("==")
    return re.sub(r"[-_.]+", "-", name).lower() + "==" + version

pins = {norm(l) for l in open(sys.argv[1]) if l.strip() and not l.startswith("#")}
# pip list, not pip freeze: freeze names a wheel installed from a file by its path.
listed = subprocess.run([sys.executable, "-m", "pip", "list", "--format=freeze"],
                        capture_output=True, text=True, check=True).stdout.split()
have = {norm(l) for l in listed if not l.startswith(("pip==", "setuptools=="))}
extra = {p for p in have - pins if not p.startswith("kycvs==")}
missing = pins - have
if extra or missing or not any(p.startswith("kycvs==") for p in have):
    sys.exit(f"run.sh: .venv is not clean: extra {sorted(extra)}, missing {sorted(missing)}")
print(f"run.sh: .venv holds the wheel and {len(pins)} pinned test packages, nothing else")
PY

# Run outside python/ so that `import kycvs` finds the installed wheel, not the source tree.
cd "$root/python/tests"
export MYPY_CACHE_DIR="$root/target/mypy-cache"
# The hand-written stubs must match the module, and the tests must type-check against them.
"$py" -m mypy.stubtest kycvs
"$py" -m mypy --strict .
# The Redis replay store's tests start a real redis-server.
bash "$root/scripts/test-deps.sh"
"$py" -m pytest -p no:cacheprovider -c "$root/python/pyproject.toml" --rootdir "$root/python" "$root/python/tests" "$@"
