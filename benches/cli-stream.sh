#!/usr/bin/env bash
# The CLI streaming figure: `kycvs verify` reading N same-key tokens (default 100,000) on
# stdin, on one and on two threads (RAYON_NUM_THREADS), beside raw ed25519-dalek
# `verify_strict` over the same tokens on one thread (kycvs-stream-baseline, built with the
# same backend dispatch). Each side's fastest of three runs; the CLI's peak RSS from
# /usr/bin/time. Usage: `cli-stream.sh [N [OUT.json]]`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
n=${1:-100000}
out=${2:-}
cargo build --release -q -p kycvs-cli -p kycvs-benches --bin kycvs --bin kycvs-stream-baseline
kycvs="$target/release/kycvs"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
raw=$("$target/release/kycvs-stream-baseline" "$work" "$n")
raw_seconds=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["raw_seconds"])' "$raw")
now=1800000010

# run THREADS: fastest wall time of three runs and the largest peak RSS, as "SECONDS KIB".
run() {
    local best="" rss=0
    for _ in 1 2 3; do
        local start end took
        start=$(date +%s.%N)
        RAYON_NUM_THREADS=$1 /usr/bin/time -f '%M' -o "$work/rss" "$kycvs" verify \
            --jwks "$work/trust.json" --audience irctc.example --nonce PNR-4711 --now "$now" \
            < "$work/tokens.txt" > "$work/verdicts.txt"
        end=$(date +%s.%N)
        took=$(echo "$end - $start" | bc)
        if [[ $(grep -c '^{"ok":true,' "$work/verdicts.txt") -ne $n ]]; then
            echo "cli-stream.sh: not all of $n tokens verified" >&2
            exit 1
        fi
        [[ -z $best ]] || (($(echo "$took < $best" | bc))) && best=$took
        local m
        m=$(tail -1 "$work/rss")
        ((m > rss)) && rss=$m
    done
    echo "$best $rss"
}
read -r one one_rss < <(run 1)
read -r two two_rss < <(run 2)
python3 - "$n" "$raw_seconds" "$one" "$one_rss" "$two" "$two_rss" "$out" <<'PY'
import json, sys
n, raw, one, one_rss, two, two_rss, out = sys.argv[1:]
n, raw, one, two = int(n), float(raw), float(one), float(two)
result = {"tokens": n, "raw_seconds": raw, "cli_1_seconds": one, "cli_2_seconds": two,
          "cli_1_rss_kib": int(one_rss), "cli_2_rss_kib": int(two_rss),
          "cli_1_vs_raw": raw / one, "cli_2_vs_cli_1": one / two}
print(f"kycvs verify, {n:,} same-key tokens on stdin: one thread {n / one:,.0f}/s "
      f"({raw / one:.2f} x raw verify_strict at {n / raw:,.0f}/s), two threads "
      f"{n / two:,.0f}/s ({one / two:.2f} x one thread); peak RSS "
      f"{max(int(one_rss), int(two_rss)) / 1024:.1f} MiB")
if out:
    with open(out, "w") as f:
        json.dump(result, f)
PY
