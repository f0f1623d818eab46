#!/usr/bin/env bash
# The README's "Run the service" walk-through, as written (`make test-service`): starts
# kycvs-server on a free loopback port with a fresh `init` directory and a client registered
# by `client add`, runs the walk-through's shell block taken from README.md (begin with Basic
# auth, the OTP from the SMS log, complete, the JWKS, `kycvs verify`), then verifies the token
# it obtained against the published JWKS with the C library and the Python wheel as well.
# Each must accept the token with status 2 and reject it for another nonce.
#
# Reuses what `make test` built before it: the debug binaries (test-rust), the wheel in .venv
# (test-python); installs the C library under target/example-prefix (as test-examples does).
# Installs curl and pkg-config through apt-get when missing (as root). Exits non-zero on the
# first failure; the server is stopped on every exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
CC="${CC:-cc}"

fail() {
    echo "service-walkthrough.sh: $*" >&2
    exit 1
}

# need CHECK PACKAGE: install a missing system package (scripts/need.sh).
source "$ROOT/scripts/need.sh"
need curl curl
need pkg-config pkg-config

py="$ROOT/.venv/bin/python"
"$py" -c 'import kycvs' 2> /dev/null || fail "no kycvs wheel in .venv; run make test-python first"

printf '== build (kycvs-server, kycvs)\n'
cargo build -q -p kycvs-server -p kycvs-cli
bin="$TARGET_DIR/debug"

printf '== C library (target/example-prefix)\n'
prefix="$TARGET_DIR/example-prefix"
bash ffi/install.sh "$prefix" > /dev/null
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
# shellcheck disable=SC2046 # pkg-config prints a list of flags
"$CC" -std=c11 -Wall -Wextra -Wpedantic -Werror examples/verify_token.c \
    -o "$TARGET_DIR/verify_token" $(pkg-config --cflags --libs kycvs) -Wl,-rpath,"$prefix/lib"

WORK=$(mktemp -d)
server=
stop() {
    local rc=$?
    if [[ -n $server ]] && kill -0 "$server" 2> /dev/null; then
        kill -TERM "$server"
        wait "$server" || true
    fi
    if [[ $rc -ne 0 && -s $WORK/server.log ]]; then
        echo "service-walkthrough.sh: the server's log:" >&2
        tail -n 20 "$WORK/server.log" >&2
    fi
    rm -rf "$WORK"
}
trap stop EXIT

printf '== kycvs-server init, client add, run\n'
"$bin/kycvs-server" init --dir "$WORK/serve" --listen 127.0.0.1:0 > /dev/null
config="$WORK/serve/kycvs-server.toml"
"$bin/kycvs-server" client add --config "$config" --id irctc.example \
    --name "IRCTC (sample)" --origin http://127.0.0.1:8000 > "$WORK/client"
SECRET=$(sed -n 's/^client_secret: //p' "$WORK/client")
[[ -n $SECRET ]] || fail "client add printed no secret"
"$bin/kycvs-server" run --config "$config" > "$WORK/stdout" 2> "$WORK/server.log" &
server=$!
# The server prints its address once the socket is bound.
for _ in $(seq 300); do
    URL=$(sed -n 's/^kycvs-server listening on //p' "$WORK/stdout")
    [[ -n $URL ]] && break
    kill -0 "$server" 2> /dev/null || fail "the server exited at start-up"
    sleep 0.1
done
[[ -n $URL ]] || fail "the server announced no address within 30 s"
echo "listening on $URL"

# The walk-through's block from README.md, between its two marker lines.
walk=$(sed -n '/^# walk-through: begin$/,/^# walk-through: end$/p' README.md)
[[ $(grep -c . <<< "$walk") -gt 5 ]] || fail "README.md has no walk-through block"
printf '== the README walk-through\n'
cd "$WORK"
export URL SECRET
export CLIENT=irctc.example
export SMS_LOG="$WORK/serve/state/sms.log"
export PATH="$bin:$PATH"
# (The block ends with a comment line: the token is saved on a line of its own.)
bash -euo pipefail -c "$walk"$'\n''printf "%s\n" "$token" > token' > walk.out ||
    { cat walk.out; fail "the walk-through failed"; }
cat walk.out
verdict=$(tail -n 1 walk.out)
token=$(cat token)
[[ $verdict == '{"ok":true,"status":2,"iss":"cowin.example",'*'"aud":"irctc.example",'* ]] ||
    fail "kycvs verify did not accept the token with status 2"
[[ -s jwks.json ]] || fail "the walk-through saved no jwks.json"

# expect NAME EXIT_CODE PATTERN COMMAND...: runs COMMAND, which must exit EXIT_CODE and print
# a line matching PATTERN.
expect() {
    local name=$1 want=$2 pattern=$3 out rc=0
    shift 3
    out=$("$@" 2>&1) || rc=$?
    echo "$name: $out"
    [[ $rc -eq $want ]] || fail "$name exited $rc, want $want"
    [[ $out == $pattern ]] || fail "$name printed no line like '$pattern'"
}
printf '== the token against the published JWKS: CLI, C, Python\n'
expect "kycvs verify, other nonce" 1 '*"error":"nonce_mismatch"*' \
    kycvs verify --jwks jwks.json --audience irctc.example --nonce PNR-9 "$token"
for nonce in PNR-4711 PNR-9; do
    if [[ $nonce == PNR-4711 ]]; then
        rc=0 pattern='valid: status 2 from cowin.example for irctc.example'
    else
        rc=1 pattern='rejected: nonce_mismatch *'
    fi
    expect "C $nonce" "$rc" "$pattern" \
        "$TARGET_DIR/verify_token" jwks.json irctc.example "$nonce" "$token"
    expect "Python $nonce" "$rc" "$pattern" \
        "$py" "$ROOT/examples/verify_token.py" jwks.json irctc.example "$nonce" "$token"
done

# The walk-through's data stayed out of the server's log.
grep -q '"route":"/v1/consents"' "$WORK/server.log" || fail "the server logged no request"
if grep -qE '9556719886|సాయి' "$WORK/server.log"; then
    fail "the server's log holds the mobile number or the name"
fi
printf '\nservice-walkthrough.sh: the walk-through works; CLI, C and Python accept its token\n'
