#!/usr/bin/env bash
# The C reference replay store over Redis (`make test-redis-c`): booking_verifier.c (C, through
# kycvs_redis_replay.c) and booking_verifier.py (Python, through kycvs.redis) run as separate
# long-lived processes on one real redis-server (a Unix socket in a temporary directory, AOF
# on), and must share one replay memory: a token accepted by either is refused as replayed
# by the other. Also: a C batch is one EVALSHA; a flushed script is loaded again; Redis killed
# or paused (SIGSTOP) makes the C verifier refuse tokens within about three timeouts, also
# in many threads at once, and the same process recovers when Redis is back (also from a
# restart it did not see), remembering what AOF kept; threads and processes racing one token
# let exactly one through. All of it runs twice: built normally and under AddressSanitizer +
# UndefinedBehaviorSanitizer (leaks checked at exit).
#
# Needs .venv with the wheel (`bash python/tests/run.sh`, which `make test-python` runs
# first) and the release libkycvs.so (built here with cargo when missing). Installs
# redis-server (scripts/test-deps.sh) and libhiredis-dev through apt-get when running as root.
# Verdicts use a fixed clock (NOW), never the system's. Prints "N passed, 0 failed"; exits
# non-zero on any failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
CC="${CC:-cc}"
PY="$ROOT/.venv/bin/python"
CFLAGS=(-std=c11 -Wall -Wextra -Wpedantic -Werror -g -O1 -pthread)
AUDIENCE=irctc.example
NONCE=PNR-4711
NOW=1800000000
# The verifiers verify a second after issue, well inside the tokens' 300 s.
AT=$((NOW + 1))
TIMEOUT_MS=500
# An answer during an outage may take the timeout three times (waiting for another thread's
# turn, connecting, the command), plus the scheduling of a loaded two-core machine.
OUTAGE_LIMIT_MS=$((3 * TIMEOUT_MS + 1000))

# need CHECK PACKAGE: install a missing system package (scripts/need.sh).
source "$ROOT/scripts/need.sh"

bash scripts/test-deps.sh
need pkg-config pkg-config
need "pkg-config --exists hiredis" libhiredis-dev
if [[ ! -x $PY ]]; then
    echo "test.sh: $PY is missing; run bash python/tests/run.sh (make test-python) first" >&2
    exit 1
fi
# The wheel must carry the script of this tree, or the two languages would not share keys.
if ! "$PY" -c 'import sys, kycvs.redis
sys.exit(kycvs.redis.REPLAY_SCRIPT != open(sys.argv[1]).read())' redis/src/replay.lua; then
    echo "test.sh: the kycvs wheel in .venv is older than redis/src/replay.lua;" \
        "run bash python/tests/run.sh" >&2
    exit 1
fi
if [[ ! -f $TARGET_DIR/release/libkycvs.so ]]; then
    cargo build --release -p kycvs-ffi
fi

WORK=$(mktemp -d)
REDIS_PID=
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}" $REDIS_PID; do
        kill -CONT "$pid" 2> /dev/null || true
        kill -KILL "$pid" 2> /dev/null || true
    done
    wait 2> /dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

PASSED=0
FAILED=0
# check WHAT EXPECTED ACTUAL
check() {
    if [[ $2 == "$3" ]]; then
        PASSED=$((PASSED + 1))
        echo "ok: $1"
    else
        FAILED=$((FAILED + 1))
        echo "FAIL: $1: expected '$2', got '$3'"
    fi
}

# --- build ---------------------------------------------------------------------------------
mkdir -p "$WORK/shlib" "$WORK/plain" "$WORK/asan"
ln -s "$TARGET_DIR/release/libkycvs.so" "$WORK/shlib/libkycvs.so.0"
read -r -a HIREDIS <<< "$(pkg-config --cflags --libs hiredis)"
build() {
    local out=$1
    shift
    "$CC" "${CFLAGS[@]}" "$@" -I include -I examples/redis -o "$out" \
        examples/redis/booking_verifier.c examples/redis/kycvs_redis_replay.c \
        -L "$TARGET_DIR/release" -lkycvs "${HIREDIS[@]}"
}
build "$WORK/plain/booking_verifier"
build "$WORK/asan/booking_verifier" -fsanitize=address,undefined -fno-sanitize-recover=all \
    -fno-omit-frame-pointer
echo "built booking_verifier (plain, asan+ubsan)"

# --- tokens: one issuer key, issued at NOW by the Python wheel -----------------------------
"$PY" - "$WORK/trust.jwks" "$WORK/tokens" "$AUDIENCE" "$NONCE" "$NOW" <<'PY'
import sys, kycvs
jwks, tokens, audience, nonce, now = sys.argv[1:]
key = kycvs.SigningKey.generate()
trust = kycvs.TrustStore()
trust.add(key, issuer="cowin.example")
open(jwks, "w").write(trust.to_jwks())
issuer = kycvs.Issuer(key, issuer="cowin.example")
with open(tokens, "w") as f:
    for i in range(120):
        f.write(issuer.issue(audience=audience, nonce=nonce, status=2, subject=f"psn-{i}",
                             now=int(now)) + "\n")
    # Valid at NOW + 1 but kept until different hours (keep-until is exp + 60 s of leeway):
    # NOW + 660 and NOW + 2660 in hour NOW // 3600, NOW + 3660 in the next.
    for issued in (int(now) - 3000, int(now), int(now) - 1000):
        f.write(issuer.issue(audience=audience, nonce=nonce, status=2, subject="psn-h",
                             ttl=3600, now=issued) + "\n")
PY
mapfile -t TOKENS < "$WORK/tokens"
# The first 100 go into the batch; the rest are named; the last three span two hours.
A=${TOKENS[100]} B=${TOKENS[101]} S=${TOKENS[102]} K1=${TOKENS[103]} K2=${TOKENS[104]}
P1=${TOKENS[105]} P2=${TOKENS[106]} R1=${TOKENS[107]} R2=${TOKENS[108]} Q=${TOKENS[109]}
P3=${TOKENS[110]}
H1=${TOKENS[120]} H2=${TOKENS[121]} H3=${TOKENS[122]}

# --- Redis ---------------------------------------------------------------------------------
# redis_start DIR: (re)starts redis-server on DIR/redis.sock with its AOF in DIR.
redis_start() {
    local dir=$1
    SOCK="$dir/redis.sock"
    # Redis keeps its own, real clock, also when the suite runs under libfaketime.
    env -u LD_PRELOAD -u FAKETIME redis-server --port 0 --unixsocket "$SOCK" \
        --unixsocketperm 700 --dir "$dir" --save '' --appendonly yes --appendfsync always \
        >> "$dir/redis.log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- &
    REDIS_PID=$!
    local tries
    for ((tries = 0; tries < 200; tries++)); do
        [[ $(redis-cli -s "$SOCK" ping 2> /dev/null) == PONG ]] && return
        sleep 0.05
    done
    echo "test.sh: redis-server did not start" >&2
    cat "$dir/redis.log" >&2
    exit 1
}
redis_kill() {
    kill -KILL "$REDIS_PID"
    wait "$REDIS_PID" 2> /dev/null || true
    REDIS_PID=
}
rcli() { redis-cli -s "$SOCK" "$@"; }

# --- verifier processes, each with its stdin and stdout on FIFOs ---------------------------
# start IN_FD OUT_FD NAME COMMAND...: the shell writes requests to IN_FD, reads OUT_FD.
start() {
    local in=$1 out=$2 name=$3
    shift 3
    mkfifo "$WORK/$name.in" "$WORK/$name.out"
    # Without the other verifiers' FIFO ends: one holding another's stdin open would keep it
    # from ever reading its end.
    "$@" < "$WORK/$name.in" > "$WORK/$name.out" 2> "$WORK/$name.err" \
        3>&- 4>&- 5>&- 6>&- 7>&- 8>&- &
    PIDS+=($!)
    eval "LAST_PID_$name=$!"
    eval "exec $in>\"\$WORK/$name.in\" $out<\"\$WORK/$name.out\""
}
# stop IN_FD OUT_FD NAME: closes its stdin and sets STATUS to its exit status.
stop() {
    local in=$1 out=$2 name=$3 pid
    eval "pid=\$LAST_PID_$name"
    eval "exec $in>&- $out<&-"
    STATUS=0
    wait "$pid" || STATUS=$?
    # Reaped: its number may be reused, so cleanup must not signal it any more.
    local live=() p
    for p in "${PIDS[@]}"; do [[ $p == "$pid" ]] || live+=("$p"); done
    PIDS=("${live[@]}")
    rm -f "$WORK/$name.in" "$WORK/$name.out"
    [[ $STATUS -eq 0 ]] || cat "$WORK/$name.err" >&2
}
# send IN_FD LINE...: in a subshell, so that a verifier that died takes only the subshell
# down with SIGPIPE, and its missing answers are reported.
send() {
    local in=$1
    shift
    (printf '%s\n' "$@" >&"$in") 2> /dev/null || true
}
# ask IN_FD OUT_FD N LINE...: sends the lines, reads N answers into ANSWERS (joined by
# spaces in ANSWER); a missing answer is "none".
ask() {
    local in=$1 out=$2 n=$3 i line
    shift 3
    if (($# > 0)); then send "$in" "$@"; fi
    ANSWERS=()
    for ((i = 0; i < n; i++)); do
        if IFS= read -r -t 10 -u "$out" line; then ANSWERS+=("$line"); else ANSWERS+=(none); fi
    done
    ANSWER="${ANSWERS[*]}"
}
one() { ask "$1" "$2" 1 "$3 $NONCE $AT"; }
now_ms() { local t=${EPOCHREALTIME//[.,]/}; echo $((t / 1000)); }
# check_outage WHAT TOKEN: the C verifier refuses TOKEN with replay_store_unavailable, and
# within OUTAGE_LIMIT_MS.
check_outage() {
    local t0 elapsed
    t0=$(now_ms)
    one 3 4 "$2"
    elapsed=$(($(now_ms) - t0))
    check "$1" "replay_store_unavailable" "$ANSWER"
    check "$1: answered within ${OUTAGE_LIMIT_MS} ms (took $elapsed)" 1 \
        "$((elapsed < OUTAGE_LIMIT_MS))"
}
evalsha_calls() {
    rcli INFO commandstats | tr -d '\r' | sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\),.*/\1/p'
}

# suite LABEL C_BINARY [ENV...]: every scenario on a fresh Redis, the C verifier run as
# given (with ENV), the Python one beside it.
suite() {
    local label=$1 binary=$2
    shift 2
    local dir="$WORK/redis-$label"
    mkdir -p "$dir"
    redis_start "$dir"
    local args=("$WORK/trust.jwks" "$AUDIENCE" "$SOCK" "$TIMEOUT_MS")
    local c=(env LD_LIBRARY_PATH="$WORK/shlib" "$@" "$binary" "${args[@]}")
    start 3 4 "c_$label" "${c[@]}"
    start 5 6 "py_$label" "$PY" examples/redis/booking_verifier.py "${args[@]}"

    # 1. Python accepts A; the C process refuses it.
    one 5 6 "$A"
    check "$label: python accepts A" "ok 2" "$ANSWER"
    one 3 4 "$A"
    check "$label: C refuses A (replayed)" "replayed" "$ANSWER"

    # 2. C accepts B; the Python process refuses it.
    one 3 4 "$B"
    check "$label: C accepts B" "ok 2" "$ANSWER"
    one 5 6 "$B"
    check "$label: python refuses B (replayed)" "replayed" "$ANSWER"

    # 3. A batch of 100 fresh tokens and one repeated inside it, in one call.
    local lines=("BATCH 101") i
    for ((i = 0; i < 100; i++)); do lines+=("${TOKENS[i]} $NONCE $AT"); done
    lines+=("${TOKENS[42]} $NONCE $AT")
    rcli CONFIG RESETSTAT > /dev/null
    ask 3 4 101 "${lines[@]}"
    local oks=0
    for ((i = 0; i < 100; i++)); do [[ ${ANSWERS[i]} == "ok 2" ]] && oks=$((oks + 1)); done
    check "$label: C batch accepts the 100 fresh tokens" 100 "$oks"
    check "$label: C batch refuses the repeat" "replayed" "${ANSWERS[100]}"
    check "$label: the batch is one EVALSHA" 1 "$(evalsha_calls)"
    ask 5 6 2 "BATCH 2" "${TOKENS[7]} $NONCE $AT" "$S $NONCE $AT"
    check "$label: python batch refuses a token of the C batch" "replayed ok 2" "$ANSWER"

    # A batch spanning two hours (each token's hour goes to the script as a number): the
    # Python process finds every token in the set the C process put it in.
    ask 3 4 3 "BATCH 3" "$H1 $NONCE $AT" "$H2 $NONCE $AT" "$H3 $NONCE $AT"
    check "$label: C batch over two hours" "ok 2 ok 2 ok 2" "$ANSWER"
    ask 5 6 3 "BATCH 3" "$H2 $NONCE $AT" "$H3 $NONCE $AT" "$H1 $NONCE $AT"
    check "$label: python batch refuses them all" "replayed replayed replayed" "$ANSWER"
    check "$label: ... the later hour's set holds H2 alone" 1 \
        "$(rcli SCARD "kycvs:replay:$(((NOW + 3660) / 3600))")"

    # 4. Scripts flushed (as after a failover): NOSCRIPT, loaded again, answered.
    rcli SCRIPT FLUSH > /dev/null
    one 3 4 "$S"
    check "$label: C after SCRIPT FLUSH refuses S (python's)" "replayed" "$ANSWER"

    # 5. Redis killed: refused within the timeout; restarted on the same socket and AOF: the
    #    same process accepts again and still remembers A.
    redis_kill
    check_outage "$label: C with Redis killed" "$K1"
    redis_start "$dir"
    one 3 4 "$K2"
    check "$label: C after the restart accepts K2" "ok 2" "$ANSWER"
    one 3 4 "$A"
    check "$label: C after the restart still refuses A (AOF)" "replayed" "$ANSWER"
    # Refused while Redis was down, K1 was never recorded: it is not lost to its owner.
    one 3 4 "$K1"
    check "$label: C accepts K1, refused during the outage" "ok 2" "$ANSWER"
    one 5 6 "$K2"
    check "$label: python after the restart refuses K2" "replayed" "$ANSWER"

    # 6. Redis paused: refused within the timeout; resumed: the same process recovers.
    kill -STOP "$REDIS_PID"
    check_outage "$label: C with Redis paused" "$P1"
    # Threads queued behind a stalled call do not wait it out one after the other.
    local t0 elapsed
    t0=$(now_ms)
    ask 3 4 8 "THREADS 8" "$P3 $NONCE $AT"
    elapsed=$(($(now_ms) - t0))
    kill -CONT "$REDIS_PID"
    check "$label: 8 threads with Redis paused: all refused" 8 \
        "$(printf '%s\n' "${ANSWERS[@]}" | grep -c '^replay_store_unavailable$' || true)"
    check "$label: ... all answered within ${OUTAGE_LIMIT_MS} ms (took $elapsed)" 1 \
        "$((elapsed < OUTAGE_LIMIT_MS))"
    one 3 4 "$P2"
    check "$label: C after SIGCONT accepts P2" "ok 2" "$ANSWER"
    # The paused Redis ran P1's script once resumed, after the verifier had given up: P1
    # stays refused (fail closed: a timed-out token is never accepted twice).
    one 5 6 "$P1"
    check "$label: P1, refused during the pause, is remembered" "replayed" "$ANSWER"

    # 7. Redis restarted between two calls: the connection the process kept is closed; the
    #    first call after the restart opens a new one and is answered.
    redis_kill
    redis_start "$dir"
    one 3 4 "$Q"
    check "$label: C's first call after a restart it did not see accepts Q" "ok 2" "$ANSWER"

    # 8. Races on one token: 8 threads of one process, then two processes.
    ask 3 4 8 "THREADS 8" "$R1 $NONCE $AT"
    check "$label: 8 threads racing R1: one accepted" "ok 2" \
        "$(printf '%s\n' "${ANSWERS[@]}" | grep -v '^replayed$' | tr '\n' ' ' | sed 's/ $//')"
    check "$label: ... the other 7 replayed" 7 \
        "$(printf '%s\n' "${ANSWERS[@]}" | grep -c '^replayed$' || true)"
    start 7 8 "c2_$label" "${c[@]}"
    send 3 "THREADS 4" "$R2 $NONCE $AT"
    send 7 "THREADS 4" "$R2 $NONCE $AT"
    local first second
    ask 3 4 4
    first=("${ANSWERS[@]}")
    ask 7 8 4
    second=("${ANSWERS[@]}")
    check "$label: two processes racing R2 with 4 threads each: one accepted" "1 7" \
        "$(printf '%s\n' "${first[@]}" "${second[@]}" | grep -c '^ok 2$' || true) $(
            printf '%s\n' "${first[@]}" "${second[@]}" | grep -c '^replayed$' || true)"

    stop 7 8 "c2_$label"
    check "$label: second C process exits cleanly" 0 "$STATUS"
    stop 3 4 "c_$label"
    check "$label: C process exits cleanly (no leak, no sanitizer report)" 0 "$STATUS"
    stop 5 6 "py_$label"
    check "$label: python process exits cleanly" 0 "$STATUS"
    redis_kill
}

suite plain "$WORK/plain/booking_verifier"
suite asan "$WORK/asan/booking_verifier" \
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 && $PASSED -gt 0 ]]
