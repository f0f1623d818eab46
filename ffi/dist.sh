#!/usr/bin/env bash
# Builds the C tarball `make dist` ships: OUT_DIR/kycvs-VERSION-x86_64-linux-gnu.tar.gz, one
# folder kycvs-VERSION/ holding what `make install` would put under a prefix, stripped:
#   lib/libkycvs.so.VERSION (symbol table and debug information removed), libkycvs.so.0 -> it,
#   libkycvs.so -> libkycvs.so.0
#   lib/libkycvs.a (debug information removed; a linker needs its symbols)
#   lib/pkgconfig/kycvs.pc, lib/cmake/kycvs/ (find_package(kycvs): kycvs::kycvs and
#   kycvs::kycvs_static), include/kycvs.h, and the licence;
# and beside the tarball, libkycvs.so.VERSION.debug: what was stripped, for debuggers (the
# library names it in its .gnu_debuglink).
# The libraries are the release build that `make test-c` builds and tests, stripped after the
# build: a separate stripping Cargo profile would compile everything a second time.
# Replaces an older kycvs C tarball in OUT_DIR; prints the new one's path on its last line.
# Usage: ffi/dist.sh OUT_DIR
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: ffi/dist.sh OUT_DIR" >&2
    exit 2
fi
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
pkgid=$(cargo pkgid -p kycvs-ffi --manifest-path "$ROOT/Cargo.toml")
VERSION=${pkgid##*[#@]}
NAME="kycvs-$VERSION"
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT

bash "$ROOT/ffi/install.sh" "$STAGE/$NAME" >&2
so="$STAGE/$NAME/lib/libkycvs.so.$VERSION"
debug="$STAGE/libkycvs.so.$VERSION.debug"
objcopy --only-keep-debug "$so" "$debug"
strip --strip-unneeded "$so"
objcopy --add-gnu-debuglink="$debug" "$so"
strip --strip-debug "$STAGE/$NAME/lib/libkycvs.a"
install -m 0644 "$ROOT/LICENSE" "$STAGE/$NAME/LICENSE"

rm -f "$OUT"/kycvs-*-x86_64-linux-gnu.tar.gz "$OUT"/libkycvs.so.*.debug
install -m 0644 "$debug" "$OUT/"
tarball="$OUT/$NAME-x86_64-linux-gnu.tar.gz"
# Same inputs, same bytes: fixed order, owner and time.
tar -C "$STAGE" --sort=name --owner=0 --group=0 --numeric-owner \
    --mtime="@${SOURCE_DATE_EPOCH:-0}" -cf - "$NAME" | gzip -n > "$tarball"
echo "dist.sh: $(basename "$tarball"): $(stat -c %s "$STAGE/$NAME/lib/libkycvs.so.$VERSION") bytes libkycvs.so, $(stat -c %s "$STAGE/$NAME/lib/libkycvs.a") bytes libkycvs.a" >&2
echo "$tarball"
