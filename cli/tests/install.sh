#!/usr/bin/env bash
# `make install PREFIX=<tmp>` as an operator runs it (`make test-install`), then:
#   - `man kycvs` (MANPATH=<tmp>/share/man) renders the page with every subcommand, and
#     `man -l` renders a subcommand's page with its options;
#   - the bash completion loads (`complete -p kycvs`) and completes `kycvs ve` to `verify`
#     and `kycvs verify --aud` to `--audience`;
#   - the zsh and fish completions are installed where those shells look.
# man comes from the distribution's man-db package, installed when missing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "install.sh: $*" >&2; exit 1; }

if ! command -v man > /dev/null; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get > /dev/null; then
        echo "install.sh: installing man-db" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq man-db >&2
    else
        fail "man is missing; install man-db"
    fi
fi

prefix="$WORK/prefix"
make --no-print-directory install PREFIX="$prefix" > "$WORK/install.log" 2>&1 ||
    { cat "$WORK/install.log" >&2; fail "make install failed"; }
"$prefix/bin/kycvs" --version > /dev/null || fail "the installed kycvs does not run"

# Plain text: no pager, no terminal formatting, a fixed width.
page=$(MANPATH="$prefix/share/man" MANPAGER=cat MANWIDTH=100 man kycvs 2> "$WORK/man.err") ||
    { cat "$WORK/man.err" >&2; fail "man kycvs failed"; }
grep -q 'Issue and verify signed vaccination-status' <<< "$page" || fail "man kycvs: no description"
for sub in keygen issue verify inspect trust consent demo; do
    grep -q "kycvs-$sub" <<< "$page" || fail "man kycvs does not list $sub"
done
if grep -q 'generate-assets' <<< "$page"; then fail "man kycvs lists the hidden generate-assets"; fi
echo "install.sh: man kycvs renders ($(wc -l <<< "$page") lines, every subcommand)"
page=$(MANPAGER=cat MANWIDTH=100 man -l "$prefix/share/man/man1/kycvs-verify.1")
grep -q -- '--audience' <<< "$page" || fail "man -l kycvs-verify.1 has no --audience"
echo "install.sh: man -l kycvs-verify.1 renders its options"

bash_file="$prefix/share/bash-completion/completions/kycvs"
# shellcheck disable=SC2016 # expanded by the inner bash
check='source "$1" || exit 1
complete -p kycvs || exit 1
complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    COMPREPLY=(); _kycvs kycvs "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"; echo "${COMPREPLY[*]}"; }
echo "sub: $(complete_words kycvs ve)"
echo "opt: $(complete_words kycvs verify --aud)"'
out=$(bash --norc -c "$check" bash "$bash_file" 2>&1) || { echo "$out" >&2; fail "the bash completion does not load"; }
grep -q '^complete .* kycvs$' <<< "$out" || fail "no 'complete ... kycvs' after sourcing: $out"
grep -qx 'sub: verify' <<< "$out" || fail "kycvs ve<TAB> did not complete to verify: $out"
grep -qx 'opt: --audience' <<< "$out" || fail "kycvs verify --aud<TAB> did not complete to --audience: $out"
echo "install.sh: the bash completion loads and completes (kycvs ve -> verify, --aud -> --audience)"

grep -q '^#compdef kycvs' "$prefix/share/zsh/site-functions/_kycvs" || fail "zsh completion"
grep -q '^complete -c kycvs' "$prefix/share/fish/vendor_completions.d/kycvs.fish" || fail "fish completion"
echo "install.sh: zsh and fish completions installed"
printf '\ninstall.sh: make install gave a working man page and completions\n'
