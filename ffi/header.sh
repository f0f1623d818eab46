#!/usr/bin/env bash
# Generates include/kycvs.h from ffi/src with the pinned cbindgen.
#   ffi/header.sh write   regenerate include/kycvs.h
#   ffi/header.sh check   fail when include/kycvs.h differs from what cbindgen writes now
set -euo pipefail

CBINDGEN_VERSION=0.29.4
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS="$ROOT/target/tools"
CBINDGEN="$TOOLS/bin/cbindgen"
HEADER="$ROOT/include/kycvs.h"

install_cbindgen() {
    if [[ -x "$CBINDGEN" ]] && [[ "$("$CBINDGEN" --version)" == "cbindgen $CBINDGEN_VERSION" ]]; then
        return
    fi
    echo "header.sh: installing cbindgen $CBINDGEN_VERSION into $TOOLS" >&2
    cargo install cbindgen --version "$CBINDGEN_VERSION" --locked --root "$TOOLS" --force >&2
}

generate() {
    "$CBINDGEN" --quiet --config "$ROOT/ffi/cbindgen.toml" --crate kycvs-ffi \
        --output "$1" "$ROOT/ffi"
}

case "${1:-}" in
    write)
        install_cbindgen
        mkdir -p "$(dirname "$HEADER")"
        generate "$HEADER"
        echo "header.sh: wrote $HEADER"
        ;;
    check)
        install_cbindgen
        tmp=$(mktemp -d)
        trap 'rm -rf "$tmp"' EXIT
        generate "$tmp/kycvs.h"
        if [[ ! -f "$HEADER" ]]; then
            echo "header.sh: $HEADER is missing; run 'make header'" >&2
            exit 1
        fi
        if ! diff -u "$HEADER" "$tmp/kycvs.h"; then
            echo "header.sh: include/kycvs.h is stale (diff above: committed -> generated);" \
                "run 'make header' and commit the result" >&2
            exit 1
        fi
        echo "header.sh: include/kycvs.h is up to date"
        ;;
    *)
        echo "usage: ffi/header.sh write|check" >&2
        exit 2
        ;;
esac
