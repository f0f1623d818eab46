#!/usr/bin/env bash
# Streams N tokens (20 distinct ones, repeated) through `kycvs verify` on stdin and
# reports its peak resident memory: usage `cli-memory.sh N [OUT.json]`. The CLI verifies
# stdin in bounded chunks, so the figure must not grow with N (target: <= 64 MiB).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
n=${1:-1000000}
out=${2:-}
cargo build --release -q -p kycvs-cli
kycvs="$target/release/kycvs"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$kycvs" keygen --issuer cowin.example --key-out "$work/key.pem" --jwks-out "$work/trust.json" > /dev/null
now=1800000000
for i in $(seq 20); do
    "$kycvs" issue --key "$work/key.pem" --issuer cowin.example --audience irctc.example \
        --nonce PNR-4711 --subject "p-$i" --status 2 --now "$now"
done > "$work/tokens.txt"
# 1,000 lines per block, so that the producer is a few `cat`s, never the bottleneck.
for _ in $(seq 50); do cat "$work/tokens.txt"; done > "$work/block.txt"
repeat=$(((n + 999) / 1000))
start=$(date +%s.%N)
lines=$(for _ in $(seq "$repeat"); do cat "$work/block.txt"; done | head -n "$n" |
    /usr/bin/time -f '%M' -o "$work/rss" "$kycvs" verify --jwks "$work/trust.json" \
        --audience irctc.example --nonce PNR-4711 --now "$((now + 10))" | wc -l)
seconds=$(echo "$(date +%s.%N) - $start" | bc)
rss=$(tail -1 "$work/rss")
echo "kycvs verify: $n tokens, $lines verdicts, peak RSS $rss KiB, $seconds s"
if [[ -n $out ]]; then
    printf '{"tokens": %d, "lines": %d, "max_rss_kib": %d, "seconds": %s}\n' \
        "$n" "$lines" "$rss" "$seconds" > "$out"
fi
