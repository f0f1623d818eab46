#!/usr/bin/env bash
# Builds the kycvs command and installs it under PREFIX with its man pages and completions:
#   bin/kycvs
#   share/man/man1/kycvs.1, kycvs-<subcommand>.1
#   share/bash-completion/completions/kycvs
#   share/zsh/site-functions/_kycvs
#   share/fish/vendor_completions.d/kycvs.fish
# The pages and completions come from the command's own clap definitions (the hidden
# `kycvs generate-assets`), so they match `kycvs --help` of the binary installed with them.
# Usage: cli/install.sh PREFIX   (DESTDIR, if set, is prepended to every installed path)
set -euo pipefail

if [[ $# -ne 1 || -z "$1" ]]; then
    echo "usage: cli/install.sh PREFIX" >&2
    exit 2
fi
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PREFIX=$(realpath -m "$1")
DEST="${DESTDIR:-}$PREFIX"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

cargo build --release -p kycvs-cli --manifest-path "$ROOT/Cargo.toml"
bin="$TARGET_DIR/release/kycvs"
assets=$(mktemp -d)
trap 'rm -rf "$assets"' EXIT
"$bin" generate-assets "$assets"

install -d "$DEST/bin" "$DEST/share/man/man1" "$DEST/share/bash-completion/completions" \
    "$DEST/share/zsh/site-functions" "$DEST/share/fish/vendor_completions.d"
install -m 0755 "$bin" "$DEST/bin/kycvs"
install -m 0644 "$assets"/man1/*.1 "$DEST/share/man/man1/"
install -m 0644 "$assets/completions/kycvs.bash" "$DEST/share/bash-completion/completions/kycvs"
install -m 0644 "$assets/completions/_kycvs" "$DEST/share/zsh/site-functions/_kycvs"
install -m 0644 "$assets/completions/kycvs.fish" "$DEST/share/fish/vendor_completions.d/kycvs.fish"

echo "install.sh: installed the kycvs command, $(ls "$assets/man1" | wc -l) man pages and bash, zsh and fish completions under $DEST"
