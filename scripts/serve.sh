#!/usr/bin/env bash
# `make serve`: the issuer (kycvs-server) and the sample booking site on 127.0.0.1, from a
# fresh target/serve, with the booking site registered as a client. Prints both URLs and
# where the one-time codes appear; Ctrl-C stops both.
#   KYCVS_PORT (default 8080), BOOKING_PORT (default 8000)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
issuer_port="${KYCVS_PORT:-8080}"
site_port="${BOOKING_PORT:-8000}"
site="http://127.0.0.1:$site_port"
dir="$root/target/serve"

cargo build --release -q -p kycvs-server
server="$root/target/release/kycvs-server"

# The booking site runs from its own venv (target/venv-booking) with Flask and the kycvs
# wheel (built by python/build.sh, as `make test-python` does, when there is none yet).
python="${PYTHON:-python3}"
venv="$root/target/venv-booking"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet -r examples/booking/requirements.txt
shopt -s nullglob
wheels=(target/wheels/kycvs-*.whl)
if [ "${#wheels[@]}" -ne 1 ]; then
    bash python/build.sh wheel "$root/target/wheels" > /dev/null
    wheels=(target/wheels/kycvs-*.whl)
fi
shopt -u nullglob
"$venv/bin/python" -m pip install --quiet --force-reinstall --no-deps "${wheels[0]}"

rm -rf "$dir"
"$server" init --dir "$dir" --listen "127.0.0.1:$issuer_port" > /dev/null
secret=$("$server" client add --config "$dir/kycvs-server.toml" --id irctc.example --name IRCTC \
    --origin "$site" | sed -n 's/^client_secret: //p')

pids=()
stop() {
    trap - INT TERM EXIT
    for pid in "${pids[@]}"; do
        kill "$pid" 2> /dev/null || true
    done
    wait 2> /dev/null || true
}
trap stop INT TERM EXIT

"$server" run --config "$dir/kycvs-server.toml" > "$dir/issuer.out" 2> "$dir/issuer.log" &
pids+=($!)
for _ in $(seq 100); do
    grep -q "listening on" "$dir/issuer.out" 2> /dev/null && break
    sleep 0.1
done
issuer=$(sed -n 's/^kycvs-server listening on //p' "$dir/issuer.out")
if [ -z "$issuer" ]; then
    cat "$dir/issuer.log" >&2
    exit 1
fi

KYCVS_URL="$issuer" KYCVS_CLIENT_ID=irctc.example KYCVS_CLIENT_SECRET="$secret" \
    BOOKING_ORIGIN="$site" "$venv/bin/python" examples/booking/app.py --port "$site_port" \
    > "$dir/booking.log" 2>&1 &
pids+=($!)

cat <<TEXT
kycvs-server (the issuer):  $issuer   (log: $dir/issuer.log)
sample booking site:        $site/   (log: $dir/booking.log)
  client id irctc.example, client secret $secret
one-time codes (SMS):       $dir/state/sms.log   (the code is the first 6 characters of "text")
sample people:              core/data/sample-registry.jsonl, e.g. mobile 9556719886, name సాయి దేవి
Open $site/ in a browser. Ctrl-C stops both.
For the README's curl walk-through, in another shell:
  URL=$issuer CLIENT=irctc.example SECRET=$secret SMS_LOG=$dir/state/sms.log
TEXT
wait -n "${pids[@]}"
