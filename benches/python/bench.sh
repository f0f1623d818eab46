#!/usr/bin/env bash
# benches/python: builds the kycvs wheel, installs it with the pinned PyJWT, cryptography and
# PyNaCl into a venv under target/, and runs bench.py (arguments are passed on).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$target/bench-venv"
if [ ! -x "$venv/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$venv"
fi
py="$venv/bin/python"
stamp="$venv/.kycvs-bench-requirements"
if ! cmp -s benches/python/requirements.txt "$stamp"; then
    "$py" -m pip install --quiet -r benches/python/requirements.txt
    cp benches/python/requirements.txt "$stamp"
fi
wheels="$target/bench-wheels"
rm -rf "$wheels"
"$venv/bin/maturin" build --release --quiet -m python/Cargo.toml -i "$py" -o "$wheels" >&2
"$py" -m pip install --quiet --force-reinstall --no-deps "$wheels"/kycvs-*.whl
# Outside the source tree, so that `import kycvs` is the installed wheel.
cd "$target"
"$py" "$root/benches/python/bench.py" "$@"
