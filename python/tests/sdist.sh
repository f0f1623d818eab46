#!/usr/bin/env bash
# The sdist installs as a user without a wheel for their platform would install it
# (`make test-sdist`): `pip install kycvs-*.tar.gz` into a new venv, pip fetching maturin into
# its isolated build environment and compiling the extension, then the README's Python
# quickstart runs against what it installed. Exits non-zero on any failure.
#
# Costs one release build of the extension; CARGO_TARGET_DIR points it at target/ so that it
# reuses the dependencies the other suites built (pip builds in a temporary copy otherwise).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

sdist=$(bash python/build.sh sdist "$root/target/sdist" | tail -n 1)
echo "sdist.sh: built $(basename "$sdist")"

venv="$root/target/sdist-venv"
rm -rf "$venv"
"${PYTHON:-python3}" -m venv "$venv"
# The constraint pins the maturin that pip puts into the build environment.
PIP_CONSTRAINT="$root/python/requirements-build.txt" CARGO_TARGET_DIR="$root/target" \
    "$venv/bin/python" -m pip install --quiet "$sdist"

# From outside the tree, so that only the installed package can be imported.
cd "$venv"
where=$("$venv/bin/python" -c 'import kycvs, kycvs._kycvs as m; print(m.__file__)')
if [[ $where != "$venv"/lib/* ]]; then
    echo "sdist.sh: kycvs imported from $where, not from the venv" >&2
    exit 1
fi
"$venv/bin/python" "$root/examples/quickstart.py"
echo "sdist.sh: the sdist installed with pip and the quickstart ran against it"
