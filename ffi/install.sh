#!/usr/bin/env bash
# Builds the C library and installs it under PREFIX:
#   lib/libkycvs.so.VERSION (+ libkycvs.so.0, libkycvs.so links), lib/libkycvs.a,
#   include/kycvs.h, lib/pkgconfig/kycvs.pc,
#   lib/cmake/kycvs/kycvsConfig.cmake + kycvsConfigVersion.cmake (find_package(kycvs))
# The .pc and CMake files locate the library relative to themselves, so the installed tree
# can be moved (the `make dist` tarball is one).
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
# The soname's number (ffi/build.rs): the C ABI's major version, see README "Install".
SOVERSION=0
BUILT="$TARGET_DIR/release"

install -d "$DEST/lib/pkgconfig" "$DEST/lib/cmake/kycvs" "$DEST/include"
install -m 0755 "$BUILT/libkycvs.so" "$DEST/lib/libkycvs.so.$VERSION"
ln -sfn "libkycvs.so.$VERSION" "$DEST/lib/libkycvs.so.$SOVERSION"
ln -sfn "libkycvs.so.$SOVERSION" "$DEST/lib/libkycvs.so"
install -m 0644 "$BUILT/libkycvs.a" "$DEST/lib/libkycvs.a"
install -m 0644 "$ROOT/include/kycvs.h" "$DEST/include/kycvs.h"
for f in kycvsConfig kycvsConfigVersion; do
    sed -e "s/@KYCVS_VERSION@/$VERSION/g" -e "s/@KYCVS_SOVERSION@/$SOVERSION/g" \
        "$ROOT/ffi/cmake/$f.cmake.in" > "$DEST/lib/cmake/kycvs/$f.cmake"
    chmod 0644 "$DEST/lib/cmake/kycvs/$f.cmake"
done

# Libs.private: what the Rust standard library in libkycvs.a needs from the system, as
# `cargo rustc -- --print native-static-libs` reports it on Linux.
cat > "$DEST/lib/pkgconfig/kycvs.pc" <<PC
prefix=\${pcfiledir}/../..
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
