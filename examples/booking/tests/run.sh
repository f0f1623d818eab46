#!/usr/bin/env bash
# The browser test (`make test-browser`): the sample booking site and the kycvs consent page
# end to end in headless Chromium (Debian's chromium + chromium-driver, installed with apt when
# missing), driven by Selenium from target/venv-booking. Installs the kycvs wheel `make test-python` built
# (or installs target/wheels/*.whl), builds kycvs-server (debug) and the C check against the
# installed libkycvs. Screenshots land in target/screenshots/. Extra arguments go to pytest.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$root"

# Chromium, its driver, and fonts for the Hindi page and the Telugu sample names (so that the
# screenshots show text, not boxes).
packages=(chromium chromium-driver fonts-lohit-deva fonts-lohit-telu)
installed=$(dpkg-query -W -f '${Status}\n' "${packages[@]}" 2> /dev/null |
    grep -c "^install ok installed$" || true)
if [ "$installed" -ne "${#packages[@]}" ]; then
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${packages[@]}"
fi

# Its own venv (the site, Selenium, pytest and the kycvs wheel): .venv stays exactly what
# the Python suite pins.
python="${PYTHON:-python3}"
venv="$root/target/venv-booking"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
py="$venv/bin/python"
stamp="$venv/.kycvs-requirements-browser"
if ! cmp -s examples/booking/tests/requirements.txt "$stamp" ||
    ! cmp -s examples/booking/requirements.txt "$stamp.site"; then
    "$py" -m pip install --quiet -r examples/booking/tests/requirements.txt
    cp examples/booking/tests/requirements.txt "$stamp"
    cp examples/booking/requirements.txt "$stamp.site"
fi
shopt -s nullglob
wheels=(target/wheels/kycvs-*.whl)
if [ "${#wheels[@]}" -ne 1 ]; then
    bash python/tests/run.sh > /dev/null
    wheels=(target/wheels/kycvs-*.whl)
fi
"$py" -m pip install --quiet --force-reinstall --no-deps "${wheels[0]}"
shopt -u nullglob

# Up to date after `make test-rust`: then this only checks.
nice -n 19 cargo build -q -p kycvs-server
export KYCVS_SERVER_BIN="$root/target/debug/kycvs-server"

# The legacy path: the C check, built against the installed library through pkg-config.
prefix="$root/target/example-prefix"
nice -n 19 bash ffi/install.sh "$prefix" > /dev/null
mkdir -p target/booking
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
# shellcheck disable=SC2046
"${CC:-cc}" -std=c11 -Wall -Wextra -Wpedantic -Werror examples/booking/verify_receipt.c \
    -o target/booking/verify_receipt $(pkg-config --cflags --libs kycvs) \
    -Wl,-rpath,"$prefix/lib"

rm -rf target/screenshots
cd examples/booking/tests
"$py" -m pytest -p no:cacheprovider -q -W error "$@" .
