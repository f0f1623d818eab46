#!/usr/bin/env bash
# Builds the C library and installs it under PREFIX:
#   lib/libkycvs.so.VERSION (+ libkycvs.so.0, libkycvs.so links), lib/libkycvs.a,
#   include/kycvs.h, lib/pkgconfig/kycvs.pc
# Usage: ffi/install.sh PREFIX   (DESTDIR, if set, is prepended to every installed path)
set -euo pipefail

if [[ $# -ne 1 || -z "$1" ]]; then
    echo "usage: ffi/install.sh PREFIX" >&2
    exit 2
fi
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PREFIX=$(realpath -m "$1")
DEST=$(realpath -m "${DESTDIR:-}$PREFIX")
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
# Cargo reads .cargo/config.toml from the working directory: build from the repository, so
# that the library gets its curve25519 run-time dispatch (AVX-512 IFMA, AVX2, serial).
cd "$ROOT"

cargo build --release -p kycvs-ffi --manifest-path "$ROOT/Cargo.toml"
pkgid=$(cargo pkgid -p kycvs-ffi --manifest-path "$ROOT/Cargo.toml")
VERSION=${pkgid##*[#@]}

install -d "$DEST/lib/pkgconfig" "$DEST/include"
install -m 0755 "$TARGET_DIR/release/libkycvs.so" "$DEST/lib/libkycvs.so.$VERSION"
ln -sfn "libkycvs.so.$VERSION" "$DEST/lib/libkycvs.so.0"
ln -sfn "libkycvs.so.0" "$DEST/lib/libkycvs.so"
install -m 0644 "$TARGET_DIR/release/libkycvs.a" "$DEST/lib/libkycvs.a"
install -m 0644 "$ROOT/include/kycvs.h" "$DEST/include/kycvs.h"

# Libs.private: what the Rust standard library in libkycvs.a needs from the system, as
# `cargo rustc -- --print native-static-libs` reports it on Linux.
cat > "$DEST/lib/pkgconfig/kycvs.pc" <<PC
prefix=$PREFIX
exec_prefix=\${prefix}
libdir=\${exec_prefix}/lib
includedir=\${prefix}/include

Name: kycvs
Description: Signed vaccination-status (KYC-VS) tokens: issue and verify
Version: $VERSION
Libs: -L\${libdir} -lkycvs
Libs.private: -lgcc_s -lutil -lrt -lpthread -lm -ldl
Cflags: -I\${includedir}
PC

echo "install.sh: installed kycvs $VERSION under $DEST"
